/* msgpack-c writer and reader helpers and the canonical decode path. */
#include "wire/codec.h"

#include <stdlib.h>
#include <string.h>

#include "wire/error.h"
#include "wire/limits.h"

void loy_buf_free(struct loy_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
}

int loy_buf_copy(struct loy_buf *b, const void *data, size_t len)
{
	b->data = malloc(len ? len : 1);
	if (b->data == NULL) {
		b->len = 0;
		return LOY_ENOMEM;
	}
	if (len)
		memcpy(b->data, data, len);
	b->len = len;
	return 0;
}

void loy_w_init(struct loy_w *w)
{
	msgpack_sbuffer_init(&w->sb);
	msgpack_packer_init(&w->pk, &w->sb, msgpack_sbuffer_write);
	w->err = 0;
}

static void w_check(struct loy_w *w, int rc)
{
	if (rc != 0 && w->err == 0)
		w->err = LOY_ENOMEM;
}

void loy_w_array(struct loy_w *w, uint32_t n)
{
	w_check(w, msgpack_pack_array(&w->pk, n));
}

void loy_w_u64(struct loy_w *w, uint64_t v)
{
	w_check(w, msgpack_pack_uint64(&w->pk, v));
}

void loy_w_i64(struct loy_w *w, int64_t v)
{
	w_check(w, msgpack_pack_int64(&w->pk, v));
}

void loy_w_bool(struct loy_w *w, bool v)
{
	w_check(w, v ? msgpack_pack_true(&w->pk) : msgpack_pack_false(&w->pk));
}

void loy_w_bin(struct loy_w *w, const void *p, size_t n)
{
	if (n > UINT32_MAX) {
		w_check(w, -1);
		return;
	}
	w_check(w, msgpack_pack_bin(&w->pk, n));
	if (n)
		w_check(w, msgpack_pack_bin_body(&w->pk, p, n));
}

void loy_w_str(struct loy_w *w, const char *s)
{
	size_t n = strlen(s);

	w_check(w, msgpack_pack_str(&w->pk, n));
	if (n)
		w_check(w, msgpack_pack_str_body(&w->pk, s, n));
}

void loy_w_raw(struct loy_w *w, const void *p, size_t n)
{
	if (n)
		w_check(w, msgpack_sbuffer_write(&w->sb, p, n));
}

int loy_w_finish(struct loy_w *w, struct loy_buf *out)
{
	if (w->err != 0) {
		int e = w->err;
		loy_w_discard(w);
		return e;
	}
	out->len = w->sb.size;
	out->data = (uint8_t *)msgpack_sbuffer_release(&w->sb);
	if (out->data == NULL) /* msgpack-c releases NULL for an empty buffer */
		return loy_buf_copy(out, "", 0);
	return 0;
}

void loy_w_discard(struct loy_w *w)
{
	msgpack_sbuffer_destroy(&w->sb);
	msgpack_sbuffer_init(&w->sb);
	w->err = 0;
}

void loy_r_fail(struct loy_r *r, int err)
{
	if (r->err == 0)
		r->err = err;
}

void loy_r_open(struct loy_r *r, const msgpack_object *o, uint32_t min,
		uint32_t max)
{
	r->items = NULL;
	r->n = r->i = 0;
	r->err = 0;
	if (o == NULL || o->type != MSGPACK_OBJECT_ARRAY) {
		r->err = LOY_EMALFORMED;
		return;
	}
	/* a fixed-shape array with the wrong field count is malformed; a list
	 * past its limit is too big */
	if (o->via.array.size < min ||
	    (min == max && o->via.array.size != min)) {
		r->err = LOY_EMALFORMED;
		return;
	}
	if (o->via.array.size > max) {
		r->err = LOY_ETOOBIG;
		return;
	}
	r->items = o->via.array.ptr;
	r->n = o->via.array.size;
}

const msgpack_object *loy_r_obj(struct loy_r *r)
{
	if (r->err != 0)
		return NULL;
	if (r->i >= r->n) {
		r->err = LOY_EMALFORMED;
		return NULL;
	}
	return &r->items[r->i++];
}

void loy_r_array(struct loy_r *r, struct loy_r *sub, uint32_t min, uint32_t max)
{
	const msgpack_object *o = loy_r_obj(r);

	if (o == NULL) {
		memset(sub, 0, sizeof *sub);
		sub->err = r->err;
		return;
	}
	loy_r_open(sub, o, min, max);
	if (sub->err != 0)
		loy_r_fail(r, sub->err);
}

uint64_t loy_r_u64(struct loy_r *r, uint64_t min, uint64_t max)
{
	const msgpack_object *o = loy_r_obj(r);

	if (o == NULL)
		return 0;
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		loy_r_fail(r, LOY_ERANGE);
		return 0;
	}
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
		loy_r_fail(r, LOY_EMALFORMED);
		return 0;
	}
	if (o->via.u64 < min || o->via.u64 > max) {
		loy_r_fail(r, LOY_ERANGE);
		return 0;
	}
	return o->via.u64;
}

int64_t loy_r_i64(struct loy_r *r, int64_t min, int64_t max)
{
	const msgpack_object *o = loy_r_obj(r);
	int64_t v;

	if (o == NULL)
		return 0;
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
		if (o->via.u64 > (uint64_t)INT64_MAX) {
			loy_r_fail(r, LOY_ERANGE);
			return 0;
		}
		v = (int64_t)o->via.u64;
	} else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		v = o->via.i64;
	} else {
		loy_r_fail(r, LOY_EMALFORMED);
		return 0;
	}
	if (v < min || v > max) {
		loy_r_fail(r, LOY_ERANGE);
		return 0;
	}
	return v;
}

bool loy_r_bool(struct loy_r *r)
{
	const msgpack_object *o = loy_r_obj(r);

	if (o == NULL)
		return false;
	if (o->type != MSGPACK_OBJECT_BOOLEAN) {
		loy_r_fail(r, LOY_EMALFORMED);
		return false;
	}
	return o->via.boolean;
}

const uint8_t *loy_r_bin_view(struct loy_r *r, size_t max, size_t *len)
{
	const msgpack_object *o = loy_r_obj(r);

	*len = 0;
	if (o == NULL)
		return NULL;
	if (o->type != MSGPACK_OBJECT_BIN) {
		loy_r_fail(r, LOY_EMALFORMED);
		return NULL;
	}
	if (o->via.bin.size > max) {
		loy_r_fail(r, LOY_ETOOBIG);
		return NULL;
	}
	*len = o->via.bin.size;
	return (const uint8_t *)o->via.bin.ptr;
}

void loy_r_bin_fixed(struct loy_r *r, void *out, size_t n)
{
	size_t len;
	const uint8_t *p = loy_r_bin_view(r, n, &len);

	if (p == NULL && r->err != 0) {
		memset(out, 0, n);
		return;
	}
	if (len != n) {
		loy_r_fail(r, LOY_EMALFORMED);
		memset(out, 0, n);
		return;
	}
	if (n)
		memcpy(out, p, n);
}

void loy_r_str(struct loy_r *r, char *out, size_t cap)
{
	const msgpack_object *o = loy_r_obj(r);

	out[0] = '\0';
	if (o == NULL)
		return;
	if (o->type != MSGPACK_OBJECT_STR) {
		loy_r_fail(r, LOY_EMALFORMED);
		return;
	}
	if (o->via.str.size >= cap) {
		loy_r_fail(r, LOY_ETOOBIG);
		return;
	}
	if (o->via.str.size && memchr(o->via.str.ptr, 0, o->via.str.size)) {
		loy_r_fail(r, LOY_EMALFORMED);
		return;
	}
	if (o->via.str.size) /* msgpack-c gives an empty str a NULL pointer */
		memcpy(out, o->via.str.ptr, o->via.str.size);
	out[o->via.str.size] = '\0';
}

void loy_r_version(struct loy_r *r)
{
	const msgpack_object *o = loy_r_obj(r);

	if (o == NULL)
		return;
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		loy_r_fail(r, LOY_EMALFORMED);
	else if (o->via.u64 != LOY_WIRE_VERSION)
		loy_r_fail(r, LOY_EVERSION);
}

int loy_r_end(struct loy_r *r)
{
	if (r->err == 0 && r->i != r->n)
		r->err = LOY_EMALFORMED;
	return r->err;
}

int loy_encode_with(const struct loy_codec *c, const void *in,
		    struct loy_buf *out)
{
	struct loy_w w;
	int rv;

	out->data = NULL;
	out->len = 0;
	loy_w_init(&w);
	rv = c->encode(in, &w);
	if (rv != 0) {
		loy_w_discard(&w);
		msgpack_sbuffer_destroy(&w.sb);
		return rv;
	}
	rv = loy_w_finish(&w, out);
	if (rv != 0)
		msgpack_sbuffer_destroy(&w.sb);
	return rv;
}

int loy_decode_canonical(const struct loy_codec *c, const uint8_t *data,
			 size_t len, void *out)
{
	msgpack_unpacked up;
	struct loy_buf again = {0};
	size_t off = 0;
	int rv;

	memset(out, 0, c->out_size);
	rv = loy_prescan(data, len, &c->limits);
	if (rv != 0)
		return rv;
	msgpack_unpacked_init(&up);
	switch (msgpack_unpack_next(&up, (const char *)data, len, &off)) {
	case MSGPACK_UNPACK_SUCCESS:
		rv = off == len ? 0 : LOY_ETRAILING;
		break;
	case MSGPACK_UNPACK_NOMEM_ERROR:
		rv = LOY_ENOMEM;
		break;
	default:
		rv = LOY_EMALFORMED;
		break;
	}
	if (rv == 0)
		rv = c->decode(&up.data, out);
	msgpack_unpacked_destroy(&up);
	if (rv == 0) {
		rv = loy_encode_with(c, out, &again);
		if (rv == 0 &&
		    (again.len != len || memcmp(again.data, data, len) != 0))
			rv = LOY_ENONCANON;
		loy_buf_free(&again);
	}
	if (rv != 0) {
		if (c->free_fn)
			c->free_fn(out);
		memset(out, 0, c->out_size);
	}
	return rv;
}
