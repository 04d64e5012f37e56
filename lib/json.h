/*
 * Archive: libnsq.a (the client library; no thread, printing or exit).
 *
 * JSON in and out.  Reading: json_parse() checks a document strictly
 * (RFC 8259 grammar, as Go's encoding/json accepts it, nesting up to
 * 10000 deep) and tokenizes it with Debian's jsmn; tokens are then
 * addressed by index, token 0 being the top-level value.  Only json.c
 * sees jsmn: the token array is opaque here.  Writing: struct jw appends
 * compact JSON to a struct buf, byte for byte what Go's json.Marshal
 * prints for the same values (HTML-safe string escaping, float format).
 */
#ifndef NSQ_JSON_H
#define NSQ_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;

/* Most tokens json_parse() accepts in one document. */
#define JSON_MAX_TOKENS	(1 << 20)
/* Deepest nesting accepted, as Go's decoder. */
#define JSON_MAX_DEPTH	10000

struct json {			/* embedded; fields read-only */
	const char	*src;	/* the caller's text, not copied */
	size_t		 len;
	void		*tok;	/* jsmntok_t array, owned */
	int		 ntok;
};

enum json_type {
	JSON_UNDEF,
	JSON_OBJECT,
	JSON_ARRAY,
	JSON_STRING,
	JSON_PRIMITIVE,
};

/*
 * Parse src[0, len) (no NUL needed; src must outlive the struct json).
 * Exactly one value with optional white space around it; anything else,
 * including a truncated document, fails with a reason in err.  Returns 0,
 * or -1 leaving the struct json empty (json_free() is still safe).
 */
int	json_parse(struct json *, const char *src, size_t len, char *err,
	    size_t errlen);
/* Release the tokens; safe on a zeroed or failed struct json. */
void	json_free(struct json *);
/* The type of token tok; JSON_UNDEF when tok is out of range. */
enum json_type json_type(const struct json *, int tok);
/* For primitives: 'n' null, 't' true, 'f' false, '0' number; else -1. */
int	json_prim_kind(const struct json *, int tok);
/*
 * The value token of member key in object obj (exact, first match), or -1.
 * Go's Unmarshal matches struct fields differently: see json_obj_get_go().
 */
int	json_obj_get(const struct json *, int obj, const char *key);
/*
 * The value token for key as Go's Unmarshal into a struct picks it: keys
 * compared case-insensitively (ASCII), and the last matching member wins.
 * -1 if none.
 */
int	json_obj_get_go(const struct json *, int obj, const char *key);
/*
 * The token after tok's whole subtree: for a container, after all its
 * members; for an object key, after the key's value (the next key).
 * May equal ntok.
 */
int	json_next(const struct json *, int tok);
/* Members of an object or elements of an array; 0 for other tokens. */
int	json_size(const struct json *, int tok);
/* The i-th element token of array arr; -1 if out of range or not an array. */
int	json_arr_at(const struct json *, int arr, int i);
/* The key token of the i-th member of obj (its value is key + 1); or -1. */
int	json_obj_key_at(const struct json *, int obj, int i);
/* true/false literals only; 0, or -1 for anything else. */
int	json_get_bool(const struct json *, int tok, bool *);
/*
 * An integer number (no fraction, no exponent) that fits in int64_t, as
 * Go accepts for an int64 field; 0 or -1 ("1.5", "1e3", "\"1\"", overflow).
 */
int	json_get_int64(const struct json *, int tok, int64_t *);
/* Any number that fits in a double (overflow to infinity is -1). */
int	json_get_double(const struct json *, int tok, double *);
/*
 * The unescaped value of string token tok, NUL-terminated, its length in
 * *len when len is not NULL (it may hold NUL bytes).  Escapes decode to
 * UTF-8, surrogate pairs joined; lone surrogates and invalid UTF-8 bytes
 * become U+FFFD, as in Go.  NULL if tok is not a string.  Caller frees.
 */
char	*json_get_str(const struct json *, int tok, size_t *len);
/* Whether string token tok, unescaped, equals s. */
int	json_tok_eq(const struct json *, int tok, const char *s);

/*
 * The writer.  Commas and colons are placed automatically: call jw_key()
 * before each member value of an object.  Errors (buffer full, NaN,
 * nesting over 63 or unbalanced) are sticky and reported by jw_finish().
 */
struct jw {
	struct buf	*b;
	int		 depth;
	uint64_t	 first;	/* bit d: next at depth d is first */
	int		 err;
};

void	jw_init(struct jw *, struct buf *);
void	jw_obj_begin(struct jw *);
void	jw_obj_end(struct jw *);
void	jw_arr_begin(struct jw *);
void	jw_arr_end(struct jw *);
void	jw_key(struct jw *, const char *);
/* A string, escaped as Go does (NUL-terminated / n bytes, binary-safe). */
void	jw_str(struct jw *, const char *);
void	jw_strn(struct jw *, const char *, size_t);
void	jw_int(struct jw *, int64_t);
void	jw_uint(struct jw *, uint64_t);
/* As Go's float64 encoding: 0.99, 1, 1e+21, 1e-7; NaN/Inf are errors. */
void	jw_double(struct jw *, double);
void	jw_bool(struct jw *, bool);
void	jw_null(struct jw *);
/* Insert already encoded JSON text as one value (not checked). */
void	jw_raw(struct jw *, const char *, size_t);
/* 0, or -1 if an append failed, a value was unsupported or nesting is open. */
int	jw_finish(struct jw *);

/* Format d as Go's json encoder does into out (>= 32 bytes); its length. */
size_t	json_fmt_double(double d, char *out, size_t outlen);

#endif
