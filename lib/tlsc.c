/*
 * Client TLS over memory BIOs (see tlsc.h).  Every OpenSSL failure is
 * turned into one line: the first reason on OpenSSL's error queue and,
 * when the certificate check failed, what it found ("certificate has
 * expired", "unable to get local issuer certificate"); the queue is
 * cleared so that one connection's error never shows in another's.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "buffer.h"
#include "config.h"
#include "errbuf.h"
#include "tlsc.h"
#include "xmalloc.h"

struct tlsc {
	SSL_CTX	*ctx;
	SSL	*ssl;
	BIO	*rbio;		/* from nsqd, written by tlsc_feed */
	BIO	*wbio;		/* to nsqd, drained by tlsc_pending */
};

/* The first reason OpenSSL queued, or what; the queue is left empty. */
static void
ssl_reason(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_get_error();
	const char *r;

	r = e != 0 ? ERR_reason_error_string(e) : NULL;
	errbuf_set(err, errlen, "%s", r != NULL ? r : what);
	ERR_clear_error();
}

static SSL_CTX *
ctx_new(const struct nsq_config *k, char *err, size_t errlen)
{
	SSL_CTX *ctx;
	char why[160];

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		ssl_reason(err, errlen, "cannot make a TLS context");
		return NULL;
	}
	if (k->tls_min_version != 0)
		SSL_CTX_set_min_proto_version(ctx, k->tls_min_version);
	if (k->tls_root_ca_file[0] != '\0') {
		if (SSL_CTX_load_verify_locations(ctx, k->tls_root_ca_file,
		    NULL) != 1) {
			ssl_reason(why, sizeof(why), "cannot load it");
			errbuf_set(err, errlen, "tls_root_ca_file %s: %s",
			    k->tls_root_ca_file, why);
			goto fail;
		}
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		ssl_reason(why, sizeof(why), "cannot load it");
		errbuf_set(err, errlen, "the system's CA store: %s", why);
		goto fail;
	}
	SSL_CTX_set_verify(ctx, k->tls_insecure_skip_verify ?
	    SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
	if (k->tls_cert[0] != '\0' && k->tls_key[0] != '\0') {
		if (SSL_CTX_use_certificate_chain_file(ctx, k->tls_cert) != 1) {
			ssl_reason(why, sizeof(why), "cannot load it");
			errbuf_set(err, errlen, "tls_cert %s: %s", k->tls_cert,
			    why);
			goto fail;
		}
		if (SSL_CTX_use_PrivateKey_file(ctx, k->tls_key,
		    SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(ctx) != 1) {
			ssl_reason(why, sizeof(why), "cannot load it");
			errbuf_set(err, errlen, "tls_key %s: %s", k->tls_key,
			    why);
			goto fail;
		}
	}
	/* The memory BIO may hand SSL_write's buffer back at another place. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

int
tlsc_check(const struct nsq_config *k, char *err, size_t errlen)
{
	SSL_CTX *ctx;

	if (!k->tls_v1)
		return 0;
	if ((ctx = ctx_new(k, err, errlen)) == NULL)
		return -1;
	SSL_CTX_free(ctx);
	return 0;
}

struct tlsc *
tlsc_new(const struct nsq_config *k, const char *host, char *err,
    size_t errlen)
{
	struct tlsc *t;
	unsigned char ip[16];
	bool is_ip;

	t = xcalloc(1, sizeof(*t));
	if ((t->ctx = ctx_new(k, err, errlen)) == NULL)
		goto fail;
	if ((t->ssl = SSL_new(t->ctx)) == NULL ||
	    (t->rbio = BIO_new(BIO_s_mem())) == NULL ||
	    (t->wbio = BIO_new(BIO_s_mem())) == NULL) {
		ssl_reason(err, errlen, "cannot make a TLS session");
		goto fail;
	}
	SSL_set_bio(t->ssl, t->rbio, t->wbio);
	SSL_set_connect_state(t->ssl);
	is_ip = inet_pton(AF_INET, host, ip) == 1 ||
	    inet_pton(AF_INET6, host, ip) == 1;
	/* Go sends no SNI for an IP address, and checks its IP SANs. */
	if (!k->tls_insecure_skip_verify) {
		if (is_ip ? X509_VERIFY_PARAM_set1_ip_asc(
		    SSL_get0_param(t->ssl), host) != 1 :
		    SSL_set1_host(t->ssl, host) != 1) {
			ssl_reason(err, errlen, "bad server name");
			goto fail;
		}
	}
	if (!is_ip && host[0] != '\0' &&
	    SSL_set_tlsext_host_name(t->ssl, host) != 1) {
		ssl_reason(err, errlen, "bad server name");
		goto fail;
	}
	return t;
fail:
	if (t->ssl == NULL) {
		BIO_free(t->rbio);
		BIO_free(t->wbio);
	}
	tlsc_free(t);
	return NULL;
}

void
tlsc_free(struct tlsc *t)
{
	if (t == NULL)
		return;
	SSL_free(t->ssl);	/* and its BIOs */
	SSL_CTX_free(t->ctx);
	free(t);
}

/* After a failed call: the line saying why, with the certificate check. */
static void
fail_reason(struct tlsc *t, int r, char *err, size_t errlen)
{
	long v = SSL_get_verify_result(t->ssl);
	char why[160];

	if (SSL_get_error(t->ssl, r) == SSL_ERROR_SYSCALL &&
	    ERR_peek_error() == 0)
		snprintf(why, sizeof(why), "unexpected end of TLS stream");
	else
		ssl_reason(why, sizeof(why), "TLS failure");
	if (v != X509_V_OK)
		errbuf_set(err, errlen, "%s (%s)", why,
		    X509_verify_cert_error_string(v));
	else
		errbuf_set(err, errlen, "%s", why);
	ERR_clear_error();
}

int
tlsc_handshake(struct tlsc *t, char *err, size_t errlen)
{
	int r, e;

	if ((r = SSL_do_handshake(t->ssl)) == 1)
		return 1;
	e = SSL_get_error(t->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return 0;
	fail_reason(t, r, err, errlen);
	return -1;
}

int
tlsc_feed(struct tlsc *t, const void *p, size_t n, char *err, size_t errlen)
{
	int w;

	while (n > 0) {
		w = BIO_write(t->rbio, p, n > INT32_MAX ? INT32_MAX : (int)n);
		if (w <= 0) {
			ssl_reason(err, errlen, "out of memory");
			return -1;
		}
		p = (const char *)p + w;
		n -= (size_t)w;
	}
	return 0;
}

int
tlsc_read(struct tlsc *t, struct buf *out, char *err, size_t errlen)
{
	char chunk[16384];
	int r, e;

	for (;;) {
		r = SSL_read(t->ssl, chunk, sizeof(chunk));
		if (r > 0) {
			if (buf_append(out, chunk, (size_t)r) == -1) {
				errbuf_set(err, errlen, "input buffer full");
				return -1;
			}
			continue;
		}
		e = SSL_get_error(t->ssl, r);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
			return 0;
		if (e == SSL_ERROR_ZERO_RETURN)
			return 1;
		fail_reason(t, r, err, errlen);
		return -1;
	}
}

int
tlsc_write(struct tlsc *t, const void *p, size_t n, char *err, size_t errlen)
{
	int w;

	while (n > 0) {
		w = SSL_write(t->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
		if (w <= 0) {
			fail_reason(t, w, err, errlen);
			return -1;
		}
		p = (const char *)p + w;
		n -= (size_t)w;
	}
	return 0;
}

int
tlsc_pending(struct tlsc *t, struct buf *out)
{
	char chunk[16384];
	int n;

	while (BIO_ctrl_pending(t->wbio) > 0) {
		n = BIO_read(t->wbio, chunk, sizeof(chunk));
		if (n <= 0)
			break;
		if (buf_append(out, chunk, (size_t)n) == -1)
			return -1;
	}
	return 0;
}

const char *
tlsc_version(const struct tlsc *t)
{
	return SSL_get_version(t->ssl);
}
