/*
 * TLS for the TCP protocol: the server context built from --tls-cert,
 * --tls-key, --tls-root-ca-file, --tls-client-auth-policy and
 * --tls-min-version, as Go nsqd's buildTLSConfig does.  Connections run
 * OpenSSL over memory BIOs (tcp.c), so TLS sits between the socket and
 * the same buffers plain connections use, and nothing blocks.
 */
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
	if (o->tls_root_ca_file[0] != '\0' &&
	    SSL_CTX_load_verify_locations(ctx, o->tls_root_ca_file,
	    NULL) != 1) {
		log_error("FATAL: failed to load root CA %s: %s",
		    o->tls_root_ca_file, ssl_error());
		SSL_CTX_free(ctx);
		return -1;
	}
	/* The memory BIO may hand SSL_write's buffer back at another place. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	n->ssl_ctx = ctx;
	return 0;
fail:
	log_error("FATAL: TLS: %s", ssl_error());
	return -1;
}

void
tls_free(struct nsqd *n)
{
	SSL_CTX_free(n->ssl_ctx);
	n->ssl_ctx = NULL;
}
