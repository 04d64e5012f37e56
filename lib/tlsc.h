/*
 * Archive: libnsq.a (the client library; no thread, printing or exit).
 *
 * The client side of TLS for conn.c: an OpenSSL context built from
 * go-nsq's options (tls_root_ca_file or the system's store,
 * tls_insecure_skip_verify, tls_cert + tls_key, tls_min_version) and one
 * session over memory BIOs, so the socket stays conn.c's, non-blocking on
 * libev: bytes read from nsqd go in (tlsc_feed), plain bytes come out
 * (tlsc_read); plain bytes go in (tlsc_write), and what must be sent
 * comes out (tlsc_pending).  The peer's name is checked against the
 * host of the address, as go-nsq sets ServerName: a DNS name (also sent
 * as SNI) or an IP address.
 */
#ifndef NSQ_TLSC_H
#define NSQ_TLSC_H

#include <stdbool.h>
#include <stddef.h>

struct buf;
struct nsq_config;
struct tlsc;

/*
 * Check that the options make a context (the files load, the key fits
 * the certificate): 0, or -1 with the reason in err.
 */
int	tlsc_check(const struct nsq_config *, char *err, size_t errlen);
/* A client session for host (no port); NULL with err. */
struct tlsc *tlsc_new(const struct nsq_config *, const char *host,
	    char *err, size_t errlen);
void	tlsc_free(struct tlsc *);
/*
 * Drive the handshake: 1 when done, 0 while it waits for nsqd's bytes,
 * -1 with OpenSSL's reason (and the certificate check's) in err.
 */
int	tlsc_handshake(struct tlsc *, char *err, size_t errlen);
/* Bytes read from the socket, for OpenSSL to decrypt. */
int	tlsc_feed(struct tlsc *, const void *, size_t, char *err,
	    size_t errlen);
/*
 * Append the plain bytes decrypted so far to out (at most its room).
 * 0, 1 when nsqd closed the TLS session, -1 with err.
 */
int	tlsc_read(struct tlsc *, struct buf *out, char *err, size_t errlen);
/* Encrypt plain bytes; they wait in tlsc_pending's output. */
int	tlsc_write(struct tlsc *, const void *, size_t, char *err,
	    size_t errlen);
/* Move the bytes OpenSSL has to send into out; -1 if out is full. */
int	tlsc_pending(struct tlsc *, struct buf *out);
/* The version negotiated ("TLSv1.3"). */
const char *tlsc_version(const struct tlsc *);

#endif
