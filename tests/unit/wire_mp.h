/* Test helper for wire/ decoders: builds msgpack bytes by hand (tests do not
 * include <msgpack.h>), including the non-canonical and wrongly typed forms
 * a decoder must refuse, and runs one mutation per field of a message. */
#ifndef LOY_TESTS_WIRE_MP_H
#define LOY_TESTS_WIRE_MP_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/error.h"

#define MPF_MAX 4096

/* One encoded msgpack object (a field of a message). */
struct mpf {
	uint8_t b[MPF_MAX];
	size_t n;
	int kind;     /* what a mutation may do with it: MPK_* */
	size_t fixed; /* MPK_BIN: the required length, 0 if any */
};

enum { MPK_UINT = 1, MPK_STR, MPK_BIN, MPK_ARR, MPK_BOOL, MPK_ANY };

static inline void mpf_put(struct mpf *f, const void *p, size_t n)
{
	if (f->n + n > MPF_MAX)
		abort();
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

static inline void mpf_be(struct mpf *f, uint64_t v, unsigned bytes)
{
	for (unsigned i = bytes; i-- > 0;) {
		uint8_t c = (uint8_t)(v >> (8 * i));
		mpf_put(f, &c, 1);
	}
}

/* Unsigned integer in its smallest (canonical) form. */
static inline struct mpf mpf_u(uint64_t v)
{
	struct mpf f = {.kind = MPK_UINT};
	uint8_t c;

	if (v <= 0x7f) {
		c = (uint8_t)v;
		mpf_put(&f, &c, 1);
	} else if (v <= 0xff) {
		c = 0xcc, mpf_put(&f, &c, 1), mpf_be(&f, v, 1);
	} else if (v <= 0xffff) {
		c = 0xcd, mpf_put(&f, &c, 1), mpf_be(&f, v, 2);
	} else if (v <= 0xffffffffu) {
		c = 0xce, mpf_put(&f, &c, 1), mpf_be(&f, v, 4);
	} else {
		c = 0xcf, mpf_put(&f, &c, 1), mpf_be(&f, v, 8);
	}
	return f;
}

/* Unsigned integer forced into the 8-byte form (non-canonical when small). */
static inline struct mpf mpf_u64wide(uint64_t v)
{
	struct mpf f = {.kind = MPK_UINT};
	uint8_t c = 0xcf;

	mpf_put(&f, &c, 1);
	mpf_be(&f, v, 8);
	return f;
}

static inline struct mpf mpf_neg(int8_t v)
{
	struct mpf f = {.kind = MPK_ANY};
	uint8_t c[2] = {0xd0, (uint8_t)v};

	if (v >= -32) {
		mpf_put(&f, &c[1], 1);
	} else {
		mpf_put(&f, c, 2);
	}
	return f;
}

static inline struct mpf mpf_bool(int v)
{
	struct mpf f = {.kind = MPK_BOOL};
	uint8_t c = v ? 0xc3 : 0xc2;

	mpf_put(&f, &c, 1);
	return f;
}

static inline struct mpf mpf_strn(const void *s, size_t n)
{
	struct mpf f = {.kind = MPK_STR};
	uint8_t c;

	if (n <= 31) {
		c = (uint8_t)(0xa0 | n), mpf_put(&f, &c, 1);
	} else if (n <= 0xff) {
		c = 0xd9, mpf_put(&f, &c, 1), mpf_be(&f, n, 1);
	} else {
		c = 0xda, mpf_put(&f, &c, 1), mpf_be(&f, n, 2);
	}
	mpf_put(&f, s, n);
	return f;
}

static inline struct mpf mpf_str(const char *s)
{
	return mpf_strn(s, strlen(s));
}

/* A bin; fixed says the decoder wants exactly n bytes here. */
static inline struct mpf mpf_bin(const void *p, size_t n, int fixed)
{
	struct mpf f = {.kind = MPK_BIN, .fixed = fixed ? n : 0};
	uint8_t c;

	if (n <= 0xff) {
		c = 0xc4, mpf_put(&f, &c, 1), mpf_be(&f, n, 1);
	} else {
		c = 0xc5, mpf_put(&f, &c, 1), mpf_be(&f, n, 2);
	}
	if (n)
		mpf_put(&f, p, n);
	return f;
}

/* An array of the given fields. */
static inline struct mpf mpf_arr(const struct mpf *items, size_t n)
{
	struct mpf f = {.kind = MPK_ARR};
	uint8_t c;

	if (n <= 15) {
		c = (uint8_t)(0x90 | n), mpf_put(&f, &c, 1);
	} else {
		c = 0xdc, mpf_put(&f, &c, 1), mpf_be(&f, n, 2);
	}
	for (size_t i = 0; i < n; i++)
		mpf_put(&f, items[i].b, items[i].n);
	return f;
}

/* Decodes len bytes and frees whatever the decode produced. */
typedef int (*mp_decode_fn)(const uint8_t *data, size_t len);

static inline int mp_try(mp_decode_fn dec, const struct mpf *items, size_t n)
{
	struct mpf m = mpf_arr(items, n);
	return dec(m.b, m.n);
}

#define MP_EXPECT(what, i, got, want)                                          \
	do {                                                                   \
		if ((got) != (want)) {                                         \
			fprintf(stderr,                                        \
				"%s: field %zu: got %d (%s), want %d\n", what, \
				(size_t)(i), (got), loy_strerror(got),         \
				(want));                                       \
			abort();                                               \
		}                                                              \
	} while (0)

/* Runs the mutations every message must refuse, field by field:
 * wrong type, wrong fixed length, non-canonical integer width, missing and
 * extra fields, truncation and trailing bytes. items must decode as given. */
static inline void mp_check_fields(const char *what, mp_decode_fn dec,
				   const struct mpf *items, size_t n)
{
	struct mpf *t = calloc(n + 1, sizeof *t);
	struct mpf m;
	int rv;

	if (t == NULL)
		abort();
	MP_EXPECT(what, (size_t)0, mp_try(dec, items, n), 0);
	for (size_t i = 0; i < n; i++) {
		memcpy(t, items, n * sizeof *t);
		/* wrong type */
		if (items[i].kind != MPK_ANY) {
			t[i] =
			    items[i].kind == MPK_STR ? mpf_u(7) : mpf_str("x");
			MP_EXPECT(what, i, mp_try(dec, t, n), LOY_EMALFORMED);
			t[i] = items[i].kind == MPK_BOOL ? mpf_bin("", 0, 0)
							 : mpf_bool(1);
			MP_EXPECT(what, i, mp_try(dec, t, n), LOY_EMALFORMED);
		}
		/* a negative number where a non-negative one belongs */
		if (items[i].kind == MPK_UINT && i > 0) {
			t[i] = mpf_neg(-1);
			rv = mp_try(dec, t, n);
			if (rv != LOY_ERANGE && rv != LOY_EMALFORMED &&
			    rv != LOY_EKIND)
				MP_EXPECT(what, i, rv, LOY_ERANGE);
		}
		/* a fixed-size bin one byte short and one byte long */
		if (items[i].kind == MPK_BIN && items[i].fixed > 0) {
			uint8_t z[MPF_MAX] = {0};

			t[i] = mpf_bin(z, items[i].fixed - 1, 0);
			MP_EXPECT(what, i, mp_try(dec, t, n), LOY_EMALFORMED);
			t[i] = mpf_bin(z, items[i].fixed + 1, 0);
			MP_EXPECT(what, i, mp_try(dec, t, n), LOY_ETOOBIG);
		}
		/* the same integer in a wider form than needed */
		if (items[i].kind == MPK_UINT && items[i].b[0] < 0xcf) {
			uint64_t v = 0;
			size_t w = items[i].n == 1 ? 0 : items[i].n - 1;

			if (w == 0)
				v = items[i].b[0];
			for (size_t k = 0; k < w; k++)
				v = (v << 8) | items[i].b[1 + k];
			t[i] = mpf_u64wide(v);
			MP_EXPECT(what, i, mp_try(dec, t, n), LOY_ENONCANON);
		}
	}
	/* a field missing, a field too many */
	memcpy(t, items, n * sizeof *t);
	rv = mp_try(dec, t, n - 1);
	if (rv != LOY_EMALFORMED)
		MP_EXPECT(what, n - 1, rv, LOY_EMALFORMED);
	t[n] = mpf_u(0);
	rv = mp_try(dec, t, n + 1);
	if (rv != LOY_ETOOBIG && rv != LOY_EMALFORMED)
		MP_EXPECT(what, n, rv, LOY_ETOOBIG);
	/* truncated, and followed by a stray byte */
	m = mpf_arr(items, n);
	MP_EXPECT(what, n, dec(m.b, m.n - 1), LOY_EMALFORMED);
	m.b[m.n] = 0x00;
	MP_EXPECT(what, n, dec(m.b, m.n + 1), LOY_ETRAILING);
	/* not an array at all, and empty input */
	MP_EXPECT(what, n, dec(m.b + 1, 1), LOY_EMALFORMED);
	MP_EXPECT(what, n, dec(m.b, 0), LOY_EMALFORMED);
	/* the 7-byte msgpack-c issue #985 input */
	{
		static const uint8_t evil[] = {0x6f, 0xdd, 0x11, 0x6f,
					       0xfe, 0x11, 0xfc};
		rv = dec(evil, sizeof evil);
		if (rv == 0)
			MP_EXPECT(what, n, rv, LOY_EMALFORMED);
	}
	free(t);
}

/* Hex helpers for golden vectors. */
static inline size_t mp_unhex(uint8_t *out, size_t cap, const char *hex)
{
	size_t n = strlen(hex) / 2;

	if (n > cap)
		abort();
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			abort();
		out[i] = (uint8_t)v;
	}
	return n;
}

static inline void mp_hex(char *out, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

#endif
