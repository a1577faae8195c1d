/* Client API codecs and the frame length prefix. */
#include "wire/client.h"

#include <stdlib.h>
#include <string.h>

#include "wire/codec.h"
#include "wire/error.h"

/* The kind field: anything other than want is LOY_EKIND. */
static void read_kind(struct loy_r *r, uint64_t lo, uint64_t hi, uint8_t *kind)
{
	const msgpack_object *o = loy_r_obj(r);

	*kind = 0;
	if (o == NULL)
		return;
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		loy_r_fail(r, LOY_EMALFORMED);
	else if (o->via.u64 < lo || o->via.u64 > hi)
		loy_r_fail(r, LOY_EKIND);
	else
		*kind = (uint8_t)o->via.u64;
}

/* ---------------------------------------------------------------------
 * Requests
 * --------------------------------------------------------------------- */

/* A str of n bytes that may hold any byte (loy_w_str takes a C string). */
static void w_str_n(struct loy_w *w, const uint8_t *p, uint32_t n)
{
	if (w->err == 0 && msgpack_pack_str(&w->pk, n) != 0)
		w->err = LOY_ENOMEM;
	if (w->err == 0 && n && msgpack_pack_str_body(&w->pk, p, n) != 0)
		w->err = LOY_ENOMEM;
}

static int arg_write(const struct loy_client_arg *a, struct loy_w *w)
{
	switch (a->type) {
	case LOY_ARG_UINT:
		loy_w_u64(w, a->u);
		break;
	case LOY_ARG_INT:
		if (a->i >= 0)
			return LOY_EINVAL; /* would decode as UINT */
		loy_w_i64(w, a->i);
		break;
	case LOY_ARG_STR:
	case LOY_ARG_BIN:
		if (a->len > LOY_CLIENT_ARG_MAX)
			return LOY_ETOOBIG;
		if (a->type == LOY_ARG_BIN)
			loy_w_bin(w, a->data, a->len);
		else
			w_str_n(w, a->data, a->len);
		break;
	default:
		return LOY_EINVAL;
	}
	return w->err;
}

static void arg_read(struct loy_r *r, struct loy_client_arg *a)
{
	const msgpack_object *o = loy_r_obj(r);
	const char *p = NULL;
	uint32_t n = 0;

	memset(a, 0, sizeof *a);
	if (o == NULL)
		return;
	switch (o->type) {
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		a->type = LOY_ARG_UINT;
		a->u = o->via.u64;
		return;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		a->type = LOY_ARG_INT;
		a->i = o->via.i64;
		return;
	case MSGPACK_OBJECT_STR:
		a->type = LOY_ARG_STR;
		p = o->via.str.ptr;
		n = o->via.str.size;
		break;
	case MSGPACK_OBJECT_BIN:
		a->type = LOY_ARG_BIN;
		p = o->via.bin.ptr;
		n = o->via.bin.size;
		break;
	default:
		loy_r_fail(r, LOY_EMALFORMED);
		return;
	}
	if (n > LOY_CLIENT_ARG_MAX) {
		loy_r_fail(r, LOY_ETOOBIG);
		return;
	}
	a->len = n;
	if (n)
		memcpy(a->data, p, n);
}

static int request_encode_cb(const void *in, struct loy_w *w)
{
	const struct loy_client_request *q = in;
	int rv;

	switch (q->kind) {
	case LOY_CLIENT_SUBMIT:
		if (q->submit.tx_count == 0 || q->submit.txs == NULL)
			return LOY_EINVAL;
		if (q->submit.tx_count > LOY_MAX_SUBMIT_BATCH)
			return LOY_ETOOBIG;
		loy_w_array(w, 5);
		loy_w_u64(w, LOY_WIRE_VERSION);
		loy_w_u64(w, q->kind);
		loy_w_u64(w, q->request_id);
		loy_w_array(w, q->submit.tx_count);
		for (uint32_t i = 0; i < q->submit.tx_count; i++) {
			const struct loy_buf *t = &q->submit.txs[i];

			if (t->len == 0)
				return LOY_EINVAL;
			if (t->len > LOY_MAX_TX_BYTES)
				return LOY_ETOOBIG;
			loy_w_bin(w, t->data, t->len);
		}
		loy_w_bool(w, q->submit.wait);
		if (w->err == 0 && w->sb.size > LOY_MAX_FRAME)
			return LOY_ETOOBIG;
		break;
	case LOY_CLIENT_QUERY:
		if (q->query.arg_count > LOY_CLIENT_MAX_ARGS)
			return LOY_ETOOBIG;
		loy_w_array(w, 5);
		loy_w_u64(w, LOY_WIRE_VERSION);
		loy_w_u64(w, q->kind);
		loy_w_u64(w, q->request_id);
		loy_w_u64(w, q->query.kind);
		loy_w_array(w, q->query.arg_count);
		for (uint32_t i = 0; i < q->query.arg_count; i++) {
			rv = arg_write(&q->query.args[i], w);
			if (rv != 0)
				return rv;
		}
		break;
	case LOY_CLIENT_SUBSCRIBE:
		if (q->subscribe.filter > LOY_SUB_CUSTOMER)
			return LOY_EINVAL;
		loy_w_array(w, 5);
		loy_w_u64(w, LOY_WIRE_VERSION);
		loy_w_u64(w, q->kind);
		loy_w_u64(w, q->request_id);
		loy_w_u64(w, q->subscribe.filter);
		loy_w_bin(w, q->subscribe.id,
			  q->subscribe.filter == LOY_SUB_ALL ? 0 : LOY_ID_SIZE);
		break;
	case LOY_CLIENT_STATUS:
		loy_w_array(w, 3);
		loy_w_u64(w, LOY_WIRE_VERSION);
		loy_w_u64(w, q->kind);
		loy_w_u64(w, q->request_id);
		break;
	default:
		return LOY_EKIND;
	}
	return w->err;
}

/* Copies the submitted transactions into one allocation once every one of
 * them has been checked (see loy_block_decode for the same shape). */
static int submit_read_txs(struct loy_r *tr, struct loy_client_request *q)
{
	size_t total = 0, table;
	uint8_t *mem, *p;

	for (uint32_t i = 0; i < tr->n; i++) {
		const msgpack_object *o = &tr->items[i];

		if (o->type != MSGPACK_OBJECT_BIN || o->via.bin.size == 0)
			return LOY_EMALFORMED;
		if (o->via.bin.size > LOY_MAX_TX_BYTES)
			return LOY_ETOOBIG;
		total += o->via.bin.size;
	}
	table = (size_t)tr->n * sizeof(struct loy_buf);
	mem = malloc(table + total);
	if (mem == NULL)
		return LOY_ENOMEM;
	q->submit.txs = (struct loy_buf *)(void *)mem;
	p = mem + table;
	for (uint32_t i = 0; i < tr->n; i++) {
		const msgpack_object *o = &tr->items[i];

		memcpy(p, o->via.bin.ptr, o->via.bin.size);
		q->submit.txs[i].data = p;
		q->submit.txs[i].len = o->via.bin.size;
		p += o->via.bin.size;
	}
	q->submit.tx_count = tr->n;
	return 0;
}

static int request_decode_cb(const msgpack_object *root, void *out)
{
	struct loy_client_request *q = out;
	struct loy_r r, sub;
	size_t idlen = 0;
	const uint8_t *id;

	loy_r_open(&r, root, 3, 5);
	loy_r_version(&r);
	read_kind(&r, LOY_CLIENT_SUBMIT, LOY_CLIENT_STATUS, &q->kind);
	q->request_id = loy_r_u64(&r, 0, UINT64_MAX);
	if (r.err != 0)
		return r.err;
	if (r.n != (q->kind == LOY_CLIENT_STATUS ? 3u : 5u))
		return LOY_EMALFORMED;
	switch (q->kind) {
	case LOY_CLIENT_SUBMIT:
		loy_r_array(&r, &sub, 1, LOY_MAX_SUBMIT_BATCH);
		q->submit.wait = loy_r_bool(&r);
		if (loy_r_end(&r) != 0)
			return r.err;
		return submit_read_txs(&sub, q);
	case LOY_CLIENT_QUERY:
		q->query.kind = (uint8_t)loy_r_u64(&r, 0, UINT8_MAX);
		loy_r_array(&r, &sub, 0, LOY_CLIENT_MAX_ARGS);
		if (loy_r_end(&r) != 0)
			return r.err;
		for (uint32_t i = 0; i < sub.n; i++)
			arg_read(&sub, &q->query.args[i]);
		q->query.arg_count = sub.n;
		return loy_r_end(&sub);
	case LOY_CLIENT_SUBSCRIBE:
		q->subscribe.filter =
		    (uint8_t)loy_r_u64(&r, LOY_SUB_ALL, LOY_SUB_CUSTOMER);
		id = loy_r_bin_view(&r, LOY_ID_SIZE, &idlen);
		if (loy_r_end(&r) != 0)
			return r.err;
		if (idlen !=
		    (q->subscribe.filter == LOY_SUB_ALL ? 0 : LOY_ID_SIZE))
			return LOY_EMALFORMED;
		if (idlen)
			memcpy(q->subscribe.id, id, idlen);
		return 0;
	default:
		return loy_r_end(&r);
	}
}

static void request_free_cb(void *out)
{
	loy_client_request_free(out);
}

static const struct loy_codec request_codec = {
    .limits = {LOY_MAX_FRAME, 2, 8 + LOY_MAX_SUBMIT_BATCH},
    .out_size = sizeof(struct loy_client_request),
    .decode = request_decode_cb,
    .encode = request_encode_cb,
    .free_fn = request_free_cb,
};

int loy_client_request_encode(const struct loy_client_request *q,
			      struct loy_buf *out)
{
	return loy_encode_with(&request_codec, q, out);
}

int loy_client_request_decode(struct loy_client_request *q, const uint8_t *data,
			      size_t len)
{
	return loy_decode_canonical(&request_codec, data, len, q);
}

void loy_client_request_free(struct loy_client_request *q)
{
	free(q->submit.txs); /* table and bytes are one allocation */
	q->submit.txs = NULL;
	q->submit.tx_count = 0;
}

/* ---------------------------------------------------------------------
 * Response and event
 * --------------------------------------------------------------------- */

static int response_encode_cb(const void *in, struct loy_w *w)
{
	const struct loy_client_response *r = in;

	if (strnlen(r->message, sizeof r->message) > LOY_ERRMSG_MAX)
		return LOY_EINVAL;
	if (r->payload.len > LOY_CLIENT_PAYLOAD_MAX)
		return LOY_ETOOBIG;
	loy_w_array(w, 6);
	loy_w_u64(w, LOY_WIRE_VERSION);
	loy_w_u64(w, LOY_CLIENT_RESPONSE);
	loy_w_u64(w, r->request_id);
	loy_w_u64(w, r->code);
	loy_w_str(w, r->message);
	loy_w_bin(w, r->payload.data, r->payload.len);
	return w->err;
}

static int response_decode_cb(const msgpack_object *root, void *out)
{
	struct loy_client_response *resp = out;
	struct loy_r r;
	const uint8_t *p;
	size_t n;
	uint8_t kind;

	/* Kind before field count, so an EVENT here reads as LOY_EKIND. */
	loy_r_open(&r, root, 2, 6);
	loy_r_version(&r);
	read_kind(&r, LOY_CLIENT_RESPONSE, LOY_CLIENT_RESPONSE, &kind);
	if (r.err == 0 && r.n != 6)
		return LOY_EMALFORMED;
	resp->request_id = loy_r_u64(&r, 0, UINT64_MAX);
	resp->code = (uint32_t)loy_r_u64(&r, 0, UINT32_MAX);
	loy_r_str(&r, resp->message, sizeof resp->message);
	p = loy_r_bin_view(&r, LOY_CLIENT_PAYLOAD_MAX, &n);
	if (loy_r_end(&r) != 0)
		return r.err;
	return loy_buf_copy(&resp->payload, p, n);
}

static void response_free_cb(void *out)
{
	loy_client_response_free(out);
}

static const struct loy_codec response_codec = {
    .limits = {LOY_MAX_FRAME, 1, 8},
    .out_size = sizeof(struct loy_client_response),
    .decode = response_decode_cb,
    .encode = response_encode_cb,
    .free_fn = response_free_cb,
};

int loy_client_response_encode(const struct loy_client_response *r,
			       struct loy_buf *out)
{
	return loy_encode_with(&response_codec, r, out);
}

int loy_client_response_decode(struct loy_client_response *r,
			       const uint8_t *data, size_t len)
{
	return loy_decode_canonical(&response_codec, data, len, r);
}

void loy_client_response_free(struct loy_client_response *r)
{
	loy_buf_free(&r->payload);
}

static int event_encode_cb(const void *in, struct loy_w *w)
{
	const struct loy_client_event *e = in;

	if (e->event.len == 0)
		return LOY_EINVAL;
	if (e->event.len > LOY_CLIENT_EVENT_MAX)
		return LOY_ETOOBIG;
	loy_w_array(w, 5);
	loy_w_u64(w, LOY_WIRE_VERSION);
	loy_w_u64(w, LOY_CLIENT_EVENT);
	loy_w_u64(w, e->height);
	loy_w_bin(w, e->tx_hash, LOY_HASH_SIZE);
	loy_w_bin(w, e->event.data, e->event.len);
	return w->err;
}

static int event_decode_cb(const msgpack_object *root, void *out)
{
	struct loy_client_event *e = out;
	struct loy_r r;
	const uint8_t *p;
	size_t n;
	uint8_t kind;

	loy_r_open(&r, root, 2, 6);
	loy_r_version(&r);
	read_kind(&r, LOY_CLIENT_EVENT, LOY_CLIENT_EVENT, &kind);
	if (r.err == 0 && r.n != 5)
		return LOY_EMALFORMED;
	e->height = loy_r_u64(&r, 0, UINT64_MAX);
	loy_r_bin_fixed(&r, e->tx_hash, LOY_HASH_SIZE);
	p = loy_r_bin_view(&r, LOY_CLIENT_EVENT_MAX, &n);
	if (loy_r_end(&r) != 0)
		return r.err;
	if (n == 0)
		return LOY_EMALFORMED;
	return loy_buf_copy(&e->event, p, n);
}

static void event_free_cb(void *out)
{
	loy_client_event_free(out);
}

static const struct loy_codec event_codec = {
    .limits = {LOY_CLIENT_EVENT_MAX + 128u, 1, 8},
    .out_size = sizeof(struct loy_client_event),
    .decode = event_decode_cb,
    .encode = event_encode_cb,
    .free_fn = event_free_cb,
};

int loy_client_event_encode(const struct loy_client_event *e,
			    struct loy_buf *out)
{
	return loy_encode_with(&event_codec, e, out);
}

int loy_client_event_decode(struct loy_client_event *e, const uint8_t *data,
			    size_t len)
{
	return loy_decode_canonical(&event_codec, data, len, e);
}

void loy_client_event_free(struct loy_client_event *e)
{
	loy_buf_free(&e->event);
}

/* Canonical encodings put the version and kind in positive fixints right
 * after the array header, so dispatch needs only those bytes. */
int loy_client_peek_kind(const uint8_t *data, size_t len, uint8_t *kind)
{
	size_t at;

	*kind = 0;
	if (len < 3)
		return LOY_EMALFORMED;
	if (data[0] >= 0x93 && data[0] <= 0x9f)
		at = 1;
	else if (data[0] == 0xdc && len >= 5)
		at = 3;
	else
		return LOY_EMALFORMED;
	if (data[at] > 0x7f)
		return LOY_EMALFORMED;
	if (data[at] != LOY_WIRE_VERSION)
		return LOY_EVERSION;
	if (data[at + 1] > 0x7f)
		return LOY_EMALFORMED;
	*kind = data[at + 1];
	return 0;
}

/* ---------------------------------------------------------------------
 * Frames
 * --------------------------------------------------------------------- */

enum loy_frame_state loy_frame_peek(const uint8_t *data, size_t have,
				    size_t max, size_t *body_len)
{
	size_t n;

	if (have < LOY_FRAME_HEADER_SIZE)
		return LOY_FRAME_MORE;
	n = (size_t)data[0] << 24 | (size_t)data[1] << 16 |
	    (size_t)data[2] << 8 | (size_t)data[3];
	if (n == 0 || n > max)
		return LOY_FRAME_TOOBIG;
	*body_len = n;
	return have - LOY_FRAME_HEADER_SIZE >= n ? LOY_FRAME_READY
						 : LOY_FRAME_MORE;
}

int loy_frame_header(uint8_t out[LOY_FRAME_HEADER_SIZE], size_t len)
{
	if (len == 0 || len > LOY_MAX_FRAME)
		return LOY_ETOOBIG;
	out[0] = (uint8_t)(len >> 24);
	out[1] = (uint8_t)(len >> 16);
	out[2] = (uint8_t)(len >> 8);
	out[3] = (uint8_t)len;
	return 0;
}
