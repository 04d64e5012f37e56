/*
 * nsq-to-nsq's JSON filters (filter.h), rule by rule as Go's
 * nsq_to_nsq: the body is decoded as json.Unmarshal into a
 * map[string]interface{} would (a document that is not an object, or
 * holds a number too big for a float64, fails; "null" is an empty map;
 * of a key given twice, the last wins), and re-encoded as json.Marshal
 * would.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buffer.h"
#include "filter.h"
#include "json.h"
#include "xmalloc.h"

/*
 * Whether s is a number for Go's strconv.ParseFloat, and its value:
 * strtod, less what it takes that Go does not (leading space, "nan(x)",
 * hex without a 'p' exponent) and less a value out of range.
 */
static bool
parse_go_float(const char *s, double *d)
{
	const char *p = s;
	char *end;

	if (*s == '\0' || isspace((unsigned char)*s))
		return false;
	if (*p == '+' || *p == '-')
		p++;
	if (strncasecmp(p, "nan", 3) == 0 && p[3] != '\0')
		return false;
	if ((p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) &&
	    strpbrk(p, "pP") == NULL)
		return false;
	errno = 0;
	*d = strtod(s, &end);
	if (*end != '\0' || errno == ERANGE)
		return false;
	return true;
}

void
filter_init(struct filter *f, const char *field, const char *value,
    const char *const *whitelist, size_t nwhitelist)
{
	memset(f, 0, sizeof(*f));
	f->field = field;
	f->value = value;
	f->whitelist = whitelist;
	f->nwhitelist = nwhitelist;
	if (value[0] != '\0')
		f->value_is_number = parse_go_float(value, &f->number);
}

void
filter_free(struct filter *f)
{
	(void)f;
}

/* The value token of key in object obj, the last member of that name. */
static int
member(const struct json *j, int obj, const char *key)
{
	int i, k, v = -1;

	if (json_type(j, obj) != JSON_OBJECT)
		return -1;
	for (i = 0; i < json_size(j, obj); i++) {
		k = json_obj_key_at(j, obj, i);
		if (json_tok_eq(j, k, key))
			v = k + 1;
	}
	return v;
}

struct kv {
	char	*key;
	size_t	 len;
	int	 val;
	int	 order;
};

static int
cmp_kv(const void *a, const void *b)
{
	const struct kv *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->key, y->key, n);

	if (c != 0)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->order - y->order;
}

static void	encode(struct jw *, const struct json *, int, bool);

/* An object as Go marshals a map: keys sorted, one of each (the last). */
static void
encode_object(struct jw *w, const struct json *j, int obj)
{
	struct kv *kv;
	size_t n, i;
	int k;

	n = (size_t)json_size(j, obj);
	kv = xcalloc(n ? n : 1, sizeof(*kv));
	for (i = 0; i < n; i++) {
		k = json_obj_key_at(j, obj, (int)i);
		kv[i].key = json_get_str(j, k, &kv[i].len);
		kv[i].val = k + 1;
		kv[i].order = (int)i;
	}
	qsort(kv, n, sizeof(*kv), cmp_kv);
	jw_obj_begin(w);
	for (i = 0; i < n; i++) {
		if (i + 1 < n && kv[i + 1].len == kv[i].len &&
		    memcmp(kv[i + 1].key, kv[i].key, kv[i].len) == 0)
			continue;	/* a later one of this name wins */
		/*
		 * jw_key() as for a key that may hold NUL bytes: the quoted
		 * key, its colon, and no comma before the value.
		 */
		jw_strn(w, kv[i].key, kv[i].len);
		buf_add(w->b, ":", 1);
		if (w->depth >= 0 && w->depth < 64)
			w->first |= (uint64_t)1 << w->depth;
		encode(w, j, kv[i].val, false);
	}
	jw_obj_end(w);
	for (i = 0; i < n; i++)
		free(kv[i].key);
	free(kv);
}

/*
 * Value tok as json.Marshal prints what Unmarshal made of it; top says
 * it is a whitelisted field, whose whole numbers Go's nsq_to_nsq turns
 * into int64 first.
 */
static void
encode(struct jw *w, const struct json *j, int tok, bool top)
{
	char *s;
	size_t len;
	double d;
	int i;

	switch (json_type(j, tok)) {
	case JSON_OBJECT:
		encode_object(w, j, tok);
		return;
	case JSON_ARRAY:
		jw_arr_begin(w);
		for (i = 0; i < json_size(j, tok); i++)
			encode(w, j, json_arr_at(j, tok, i), false);
		jw_arr_end(w);
		return;
	case JSON_STRING:
		s = json_get_str(j, tok, &len);
		jw_strn(w, s, len);
		free(s);
		return;
	default:
		break;
	}
	switch (json_prim_kind(j, tok)) {
	case 't':
		jw_bool(w, true);
		break;
	case 'f':
		jw_bool(w, false);
		break;
	case 'n':
		jw_null(w);
		break;
	default:
		if (json_get_double(j, tok, &d) == -1)
			d = 0;	/* checked before: cannot happen */
		if (top && d == trunc(d) && d >= -9223372036854775808.0 &&
		    d < 9223372036854775808.0)
			jw_int(w, (int64_t)d);
		else
			jw_double(w, d);
		break;
	}
}

/* Go's shouldPassMessage: 0 pass, 1 drop, 2 drop and back off. */
static int
should_pass(const struct filter *f, const struct json *j)
{
	char *s;
	size_t len;
	double d;
	int v, pass;

	if (f->field[0] == '\0')
		return 0;
	if ((v = member(j, 0, f->field)) == -1)
		return f->value[0] != '\0' ? 2 : 1;
	if (f->value[0] == '\0')
		return 0;
	if (json_type(j, v) == JSON_STRING) {
		s = json_get_str(j, v, &len);
		pass = len == strlen(f->value) &&
		    memcmp(s, f->value, len) == 0;
		free(s);
		return pass ? 0 : 1;
	}
	if (f->value_is_number) {
		if (json_prim_kind(j, v) != '0' ||
		    json_get_double(j, v, &d) == -1 || d != f->number)
			return 1;
		return 0;
	}
	return 1;
}

enum filter_result
filter_message(const struct filter *f, const char *body, size_t len,
    char **out, size_t *outlen)
{
	struct json j;
	struct buf b;
	struct jw w;
	char err[128];
	double d;
	size_t i;
	int t, v;
	enum filter_result r = FILTER_PASS;

	*out = NULL;
	*outlen = 0;
	if (json_parse(&j, body, len, err, sizeof(err)) == -1)
		return FILTER_BAD_JSON;
	/* Unmarshal into a map: an object, or null (an empty map). */
	if (json_type(&j, 0) != JSON_OBJECT && json_prim_kind(&j, 0) != 'n') {
		r = FILTER_BAD_JSON;
		goto done;
	}
	for (t = 0; t < j.ntok; t++)
		if (json_prim_kind(&j, t) == '0' &&
		    json_get_double(&j, t, &d) == -1) {
			r = FILTER_BAD_JSON;
			goto done;
		}
	switch (should_pass(f, &j)) {
	case 1:
		r = FILTER_DROP;
		goto done;
	case 2:
		r = FILTER_MISSING;
		goto done;
	default:
		break;
	}
	if (f->nwhitelist == 0)
		goto done;
	/* Each field listed and present, sorted as a Go map is printed. */
	{
		struct kv *kv;
		size_t n = 0, k;

		kv = xcalloc(f->nwhitelist, sizeof(*kv));
		for (i = 0; i < f->nwhitelist; i++) {
			if ((v = member(&j, 0, f->whitelist[i])) == -1)
				continue;
			for (k = 0; k < n; k++)
				if (strcmp(kv[k].key, f->whitelist[i]) == 0)
					break;
			if (k < n)
				continue;
			kv[n].key = (char *)(uintptr_t)f->whitelist[i];
			kv[n].len = strlen(f->whitelist[i]);
			kv[n].val = v;
			kv[n].order = (int)n;
			n++;
		}
		qsort(kv, n, sizeof(*kv), cmp_kv);
		buf_init(&b, len + 16, SIZE_MAX / 2);
		jw_init(&w, &b);
		jw_obj_begin(&w);
		for (k = 0; k < n; k++) {
			jw_key(&w, kv[k].key);
			encode(&w, &j, kv[k].val, true);
		}
		jw_obj_end(&w);
		free(kv);
		if (jw_finish(&w) == -1) {
			buf_free(&b);
			r = FILTER_BAD_JSON;
			goto done;
		}
		*outlen = buf_len(&b);
		*out = xmalloc(*outlen + 1);
		memcpy(*out, buf_data(&b), *outlen);
		(*out)[*outlen] = '\0';
		buf_free(&b);
	}
done:
	json_free(&j);
	return r;
}
