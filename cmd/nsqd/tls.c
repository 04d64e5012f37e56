/*
 * TLS for the TCP protocol: the server context built from --tls-cert,
 * --tls-key, --tls-root-ca-file, --tls-client-auth-policy and
 * --tls-min-version, as Go nsqd's buildTLSConfig does.  Connections run
 * OpenSSL over memory BIOs (tcp.c), so TLS sits between the socket and
 * the same buffers plain connections use, and nothing blocks.  The same
 * context serves HTTPS (lib/http, on --https-address), as Go's one
 * tlsConfig does.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "log.h"
#include "nsqd.h"

/* "require": any client certificate will do, as Go's RequireAnyClientCert. */
static int
accept_any(int ok, X509_STORE_CTX *ctx)
{
	(void)ok;
	(void)ctx;
	return 1;
}

static const char *
ssl_error(void)
{
	static char buf[256];
	unsigned long e = ERR_get_error();

	if (e == 0)
		return "unknown error";
	ERR_error_string_n(e, buf, sizeof(buf));
	return buf;
}

int
tls_setup(struct nsqd *n)
{
	const struct nsqd_opts *o = n->o;
	SSL_CTX *ctx;
	int minv;

	if (o->tls_cert[0] == '\0' && o->tls_key[0] == '\0')
		return 0;
	if (o->tls_cert[0] == '\0' || o->tls_key[0] == '\0') {
		log_error("FATAL: --tls-cert and --tls-key go together");
		return -1;
	}
	/* main.c made it one of Go's table's names, in lower case. */
	if (strcmp(o->tls_min_version, "tls1.0") == 0 ||
	    o->tls_min_version[0] == '\0')
		minv = TLS1_VERSION;
	else if (strcmp(o->tls_min_version, "tls1.1") == 0)
		minv = TLS1_1_VERSION;
	else if (strcmp(o->tls_min_version, "tls1.2") == 0)
		minv = TLS1_2_VERSION;
	else if (strcmp(o->tls_min_version, "tls1.3") == 0)
		minv = TLS1_3_VERSION;
	else {
		log_error("FATAL: unknown tls-min-version %s",
		    o->tls_min_version);
		return -1;
	}
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		goto fail;
	SSL_CTX_set_min_proto_version(ctx, minv);
	if (SSL_CTX_use_certificate_chain_file(ctx, o->tls_cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, o->tls_key,
	    SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
		log_error("FATAL: failed to load TLS key pair %s %s: %s",
		    o->tls_cert, o->tls_key, ssl_error());
		SSL_CTX_free(ctx);
		return -1;
	}
	if (strcmp(o->tls_client_auth_policy, "require") == 0)
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
		    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any);
	else if (strcmp(o->tls_client_auth_policy, "require-verify") == 0)
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
		    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	else if (o->tls_client_auth_policy[0] != '\0') {
		log_error("FATAL: unknown tls-client-auth-policy %s",
		    o->tls_client_auth_policy);
		SSL_CTX_free(ctx);
		return -1;
	}
	if (o->tls_root_ca_file[0] != '\0') {
		STACK_OF(X509_NAME) *names;

		if (SSL_CTX_load_verify_locations(ctx, o->tls_root_ca_file,
		    NULL) != 1 || (names = SSL_load_client_CA_file(
		    o->tls_root_ca_file)) == NULL) {
			log_error("FATAL: failed to load root CA %s: %s",
			    o->tls_root_ca_file, ssl_error());
			SSL_CTX_free(ctx);
			return -1;
		}
		/* Named in the certificate request, as Go's ClientCAs. */
		SSL_CTX_set_client_CA_list(ctx, names);
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		/* Go verifies against the system's roots without one. */
		log_error("FATAL: TLS: system root CAs: %s", ssl_error());
		SSL_CTX_free(ctx);
		return -1;
	}
	ERR_clear_error();
	/* The memory BIO may hand SSL_write's buffer back at another place. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	n->ssl_ctx = ctx;
	return 0;
fail:
	log_error("FATAL: TLS: %s", ssl_error());
	return -1;
}

/*
 * Why a handshake failed, for the one log line: the first OpenSSL error
 * (with the certificate check's verdict when that was it), "EOF" when
 * the peer just went away.  Empties the error queue.
 */
const char *
tls_reason(SSL *ssl, int e, char *buf, size_t len)
{
	unsigned long err = ERR_peek_error();
	const char *r;
	long vr;

	if (e == SSL_ERROR_SYSCALL || err == 0 ||
	    ERR_GET_REASON(err) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
		snprintf(buf, len, "EOF");
	else if (ERR_GET_REASON(err) == SSL_R_CERTIFICATE_VERIFY_FAILED &&
	    (vr = SSL_get_verify_result(ssl)) != X509_V_OK)
		snprintf(buf, len, "%s: %s", ERR_reason_error_string(err),
		    X509_verify_cert_error_string(vr));
	else if ((r = ERR_reason_error_string(err)) != NULL)
		snprintf(buf, len, "%s", r);
	else
		ERR_error_string_n(err, buf, len);
	ERR_clear_error();
	return buf;
}

/*
 * Go's prettyConnectionState (client_v2.go): the names of a fixed list
 * of suites, "Unknown <id>" for the others (TLS 1.3's among them).  No
 * ALPN is offered, so the negotiated protocol stays "" as in Go.
 */
void
tls_describe(SSL *ssl, struct client *c)
{
	static const struct {
		uint16_t	 id;
		const char	*name;
	} suites[] = {
		{ 0x0005, "TLS_RSA_WITH_RC4_128_SHA" },
		{ 0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA" },
		{ 0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA" },
		{ 0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA" },
		{ 0xc007, "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA" },
		{ 0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA" },
		{ 0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA" },
		{ 0xc011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA" },
		{ 0xc012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA" },
		{ 0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA" },
		{ 0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA" },
		{ 0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" },
		{ 0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" },
	};
	const SSL_CIPHER *ci = SSL_get_current_cipher(ssl);
	uint16_t id = ci != NULL ? SSL_CIPHER_get_protocol_id(ci) : 0;
	int v = SSL_version(ssl);
	size_t i;

	if (v >= TLS1_VERSION && v <= TLS1_3_VERSION)
		snprintf(c->tls_version, sizeof(c->tls_version), "TLS1.%d",
		    v - TLS1_VERSION);
	else
		snprintf(c->tls_version, sizeof(c->tls_version),
		    "Unknown %d", v);
	snprintf(c->tls_cipher, sizeof(c->tls_cipher), "Unknown %u",
	    (unsigned)id);
	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		if (suites[i].id == id)
			snprintf(c->tls_cipher, sizeof(c->tls_cipher), "%s",
			    suites[i].name);
}

/*
 * The peer certificate's common name into cn ("" when there is none),
 * for the auth query's common_name.
 */
void
tls_peer_cn(SSL *ssl, char *cn, size_t len)
{
	X509 *peer = SSL_get1_peer_certificate(ssl);

	cn[0] = '\0';
	if (peer == NULL)
		return;
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(peer),
	    NID_commonName, cn, (int)len) < 0)
		cn[0] = '\0';
	X509_free(peer);
}

void
tls_free(struct nsqd *n)
{
	SSL_CTX_free(n->ssl_ctx);
	n->ssl_ctx = NULL;
}
