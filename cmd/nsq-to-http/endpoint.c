/*
 * Addresses and headers of nsq-to-http (endpoint.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "buffer.h"
#include "endpoint.h"
#include "errbuf.h"
#include "text.h"
#include "xmalloc.h"

/* Go's strings.TrimSpace, for the ASCII spaces a flag may hold. */
static char *
trim(const char *s, size_t n)
{
	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	return xstrndup(s, n);
}

/* RFC 7230 token characters: what net/http takes in a header name. */
static bool
token_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("\"(),/:;<=>?@[\\]{}", c) ==
	    NULL;
}

/* Go's textproto.CanonicalMIMEHeaderKey of a valid name, in place. */
static void
canonical(char *k)
{
	bool up = true;

	for (; *k != '\0'; k++) {
		*k = up ? (char)toupper((unsigned char)*k) :
		    (char)tolower((unsigned char)*k);
		up = *k == '-';
	}
}

int
ep_parse_header(const char *line, char **name, char **value, char *err,
    size_t errlen)
{
	static const char *const own[] = {
		"Host", "Content-Length", "Transfer-Encoding", "Trailer",
	};
	const char *colon, *p;
	char *k, *v, *q;
	size_t i;

	*name = *value = NULL;
	if ((colon = strchr(line, ':')) == NULL) {
		errbuf_set(err, errlen, "--header value format should be "
		    "'key=value'");
		return -1;
	}
	k = trim(line, (size_t)(colon - line));
	v = trim(colon + 1, strlen(colon + 1));
	if (k[0] == '\0' || v[0] == '\0') {
		errbuf_set(err, errlen, "--header value format should be "
		    "'key=value'");
		goto fail;
	}
	for (p = k; *p != '\0'; p++)
		if (!token_char((unsigned char)*p)) {
			q = text_goquote_str(k);
			errbuf_set(err, errlen, "--header: invalid header "
			    "field name %s", q);
			free(q);
			goto fail;
		}
	/* As net/http: no control character but a tab in a value. */
	for (p = v; *p != '\0'; p++)
		if ((*p >= 0 && *p < 0x20 && *p != '\t') || *p == 0x7f) {
			q = text_goquote_str(line);
			errbuf_set(err, errlen, "--header: invalid header "
			    "field value in %s", q);
			free(q);
			goto fail;
		}
	canonical(k);
	for (i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (strcmp(k, own[i]) == 0) {
			errbuf_set(err, errlen, "--header: %s is set by the "
			    "HTTP client itself (Go's net/http drops it)", k);
			goto fail;
		}
	*name = k;
	*value = v;
	return 0;

fail:
	free(k);
	free(v);
	return -1;
}

static void
add_header(struct strlist *out, const char *name, const char *value)
{
	char *line;
	size_t i, n = strlen(name);

	/* A later header of the same name replaces the earlier one. */
	for (i = 0; i < out->n; i++)
		if (strncasecmp(out->v[i], name, n) == 0 &&
		    out->v[i][n] == ':') {
			free(out->v[i]);
			out->v[i] = xasprintf("%s: %s", name, value);
			return;
		}
	line = xasprintf("%s: %s", name, value);
	strlist_add(out, line);
	free(line);
}

void
ep_headers(struct strlist *out, const char *user_agent,
    const char *content_type, const struct strlist *names,
    const struct strlist *values)
{
	size_t i;

	add_header(out, "User-Agent", user_agent);
	if (content_type != NULL)
		add_header(out, "Content-Type", content_type);
	for (i = 0; i < names->n; i++)
		add_header(out, names->v[i], values->v[i]);
	/* curl's own additions, which Go's client does not make. */
	for (i = 0; i < out->n; i++)
		if (strncasecmp(out->v[i], "Accept:", 7) == 0)
			break;
	if (i == out->n)
		strlist_add(out, "Accept:");
	for (i = 0; i < out->n; i++)
		if (strncasecmp(out->v[i], "Expect:", 7) == 0)
			break;
	if (i == out->n)
		strlist_add(out, "Expect:");
}

int
ep_check_url(const char *url, bool get, char *err, size_t errlen)
{
	CURLU *u;
	CURLUcode rc;
	char *scheme = NULL, *host = NULL, *s;
	int r = -1;

	if (strstr(url, "://") == NULL) {
		errbuf_set(err, errlen, "missing protocol scheme");
		return -1;
	}
	s = get ? ep_get_url(url, "x", 1) : xstrdup(url);
	if ((u = curl_url()) == NULL) {
		errbuf_set(err, errlen, "out of memory");
		free(s);
		return -1;
	}
	if ((rc = curl_url_set(u, CURLUPART_URL, s, 0)) != CURLUE_OK) {
		errbuf_set(err, errlen, "%s", curl_url_strerror(rc));
		goto done;
	}
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcasecmp(scheme, "http") != 0 &&
	    strcasecmp(scheme, "https") != 0)) {
		errbuf_set(err, errlen, "unsupported protocol scheme");
		goto done;
	}
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    host[0] == '\0') {
		errbuf_set(err, errlen, "no host in URL");
		goto done;
	}
	r = 0;
done:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	free(s);
	return r;
}

bool
ep_get_ok(const char *addr)
{
	const char *p;
	size_t go = 0, verbs = 0;

	for (p = addr; (p = strstr(p, "%s")) != NULL; p += 2)
		go++;
	for (p = addr; *p != '\0'; p++)
		if (p[0] == '%' && p[1] == '%')
			p++;
		else if (p[0] == '%' && p[1] == 's')
			verbs++;
	return go == 1 && verbs == 1;
}

static void
query_escape(struct buf *b, const unsigned char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	char e[3];
	size_t i;

	for (i = 0; i < n; i++) {
		if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '-' || s[i] == '_' || s[i] == '.' || s[i] == '~') {
			buf_add(b, &s[i], 1);
			continue;
		}
		if (s[i] == ' ') {
			buf_add(b, "+", 1);
			continue;
		}
		e[0] = '%';
		e[1] = hex[s[i] >> 4];
		e[2] = hex[s[i] & 15];
		buf_add(b, e, 3);
	}
}

char *
ep_get_url(const char *addr, const void *body, size_t len)
{
	struct buf b;
	const char *p;
	char *s;

	buf_init(&b, strlen(addr) + len * 3 + 1, SIZE_MAX / 2);
	for (p = addr; *p != '\0'; p++) {
		if (p[0] == '%' && p[1] == '%') {
			buf_add(&b, "%", 1);
			p++;
		} else if (p[0] == '%' && p[1] == 's') {
			query_escape(&b, body, len);
			p++;
		} else
			buf_add(&b, p, 1);
	}
	buf_add(&b, "", 1);
	if (buf_failed(&b))
		abort();
	s = xstrdup(buf_data(&b));
	buf_free(&b);
	return s;
}
