/* Internal to wire/: the msgpack writer and reader every codec is built on.
 * Only wire/ includes this header (and so <msgpack.h>). */
#ifndef LOY_WIRE_CODEC_H
#define LOY_WIRE_CODEC_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/buf.h"
#include "wire/prescan.h"

/* Writer: msgpack-c's packer, which always picks the smallest encoding of an
 * integer or a length; that is what makes our bytes canonical. */
struct loy_w {
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int err;
};

void loy_w_init(struct loy_w *w);
void loy_w_array(struct loy_w *w, uint32_t n);
void loy_w_u64(struct loy_w *w, uint64_t v);
void loy_w_i64(struct loy_w *w, int64_t v);
void loy_w_bool(struct loy_w *w, bool v);
void loy_w_bin(struct loy_w *w, const void *p, size_t n);
void loy_w_str(struct loy_w *w, const char *s);
/* Appends bytes that are already one encoded msgpack object. */
void loy_w_raw(struct loy_w *w, const void *p, size_t n);
/* Hands the bytes to out (caller frees) or, after any error, frees them and
 * returns LOY_ENOMEM. The writer is empty afterwards either way. */
int loy_w_finish(struct loy_w *w, struct loy_buf *out);
/* Drops everything written. */
void loy_w_discard(struct loy_w *w);

/* Reader over one decoded msgpack array: fields are taken in order, each
 * getter checks type and range, and the first failure sticks in err (later
 * getters return zeroes), so a decoder reads straight through and checks
 * once at the end. */
struct loy_r {
	const msgpack_object *items;
	uint32_t n, i;
	int err;
};

/* Opens an array object with between min and max elements. */
void loy_r_open(struct loy_r *r, const msgpack_object *o, uint32_t min,
		uint32_t max);
/* Opens the next field, which must be an array, into sub. */
void loy_r_array(struct loy_r *r, struct loy_r *sub, uint32_t min,
		 uint32_t max);
uint64_t loy_r_u64(struct loy_r *r, uint64_t min, uint64_t max);
int64_t loy_r_i64(struct loy_r *r, int64_t min, int64_t max);
bool loy_r_bool(struct loy_r *r);
/* A bin of exactly n bytes, copied to out. */
void loy_r_bin_fixed(struct loy_r *r, void *out, size_t n);
/* A bin of at most max bytes: returns a view into the decoded object (valid
 * while the decode is running) and its length. */
const uint8_t *loy_r_bin_view(struct loy_r *r, size_t max, size_t *len);
/* A UTF-8-agnostic str of at most cap-1 bytes with no NUL, copied and
 * terminated. */
void loy_r_str(struct loy_r *r, char *out, size_t cap);
/* The version field every message opens with: a non-negative integer equal
 * to LOY_WIRE_VERSION (LOY_EVERSION otherwise). */
void loy_r_version(struct loy_r *r);
/* The next field as a raw object (for nested decoders). */
const msgpack_object *loy_r_obj(struct loy_r *r);
/* Sets err if fields remain unread; returns err. */
int loy_r_end(struct loy_r *r);
/* Records a failure (the first one wins). */
void loy_r_fail(struct loy_r *r, int err);

/* One message type's codec, for loy_decode_canonical. */
struct loy_codec {
	struct loy_limits limits;
	size_t out_size;
	/* Fills out from a decoded object; on failure leaves nothing to free
	 * beyond what free_fn releases. */
	int (*decode)(const msgpack_object *root, void *out);
	int (*encode)(const void *in, struct loy_w *w);
	void (*free_fn)(void *out); /* may be NULL */
};

/* The one decode path for bytes from outside: prescan (no allocation),
 * msgpack-c unpack, field decode, then re-encode and compare so that only the
 * canonical encoding is accepted. On failure out is released and zeroed. */
int loy_decode_canonical(const struct loy_codec *c, const uint8_t *data,
			 size_t len, void *out);

/* Encodes with c->encode into out. */
int loy_encode_with(const struct loy_codec *c, const void *in,
		    struct loy_buf *out);

#endif
