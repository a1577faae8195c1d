/* Block sync request and response codecs. */
#include "wire/sync.h"

#include <stdlib.h>
#include <string.h>

#include "wire/codec.h"
#include "wire/error.h"

#define REQUEST_MAX_BYTES 32u

/* msgpack header sizes for a bin of n bytes and an array of n items. */
static size_t bin_overhead(size_t n)
{
	return n <= 0xff ? 2 : n <= 0xffff ? 3 : 5;
}

static size_t array_overhead(size_t n)
{
	return n <= 15 ? 1 : n <= 0xffff ? 3 : 5;
}

static size_t entry_size(size_t block_len, size_t cert_len)
{
	return 1 + bin_overhead(block_len) + block_len +
	       bin_overhead(cert_len) + cert_len;
}

/* --- request --- */

static int request_encode_cb(const void *in, struct loy_w *w)
{
	const struct loy_sync_request *q = in;

	if (q->max_count == 0 || q->max_count > LOY_MAX_SYNC_BLOCKS)
		return LOY_EINVAL;
	loy_w_array(w, 3);
	loy_w_u64(w, LOY_WIRE_VERSION);
	loy_w_u64(w, q->from_height);
	loy_w_u64(w, q->max_count);
	return w->err;
}

static int request_decode_cb(const msgpack_object *root, void *out)
{
	struct loy_sync_request *q = out;
	struct loy_r r;

	loy_r_open(&r, root, 3, 3);
	loy_r_version(&r);
	q->from_height = loy_r_u64(&r, 0, UINT64_MAX);
	q->max_count = (uint32_t)loy_r_u64(&r, 1, LOY_MAX_SYNC_BLOCKS);
	return loy_r_end(&r);
}

static const struct loy_codec request_codec = {
    .limits = {REQUEST_MAX_BYTES, 1, 4},
    .out_size = sizeof(struct loy_sync_request),
    .decode = request_decode_cb,
    .encode = request_encode_cb,
};

int loy_sync_request_encode(const struct loy_sync_request *q,
			    struct loy_buf *out)
{
	return loy_encode_with(&request_codec, q, out);
}

int loy_sync_request_decode(struct loy_sync_request *q, const uint8_t *data,
			    size_t len)
{
	return loy_decode_canonical(&request_codec, data, len, q);
}

/* --- response --- */

static size_t response_size(const struct loy_sync_response *s, uint32_t count)
{
	size_t n = 1 + 1 + array_overhead(count);

	for (uint32_t i = 0; i < s->count; i++)
		n +=
		    entry_size(s->entries[i].block.len, s->entries[i].cert.len);
	return n;
}

int loy_sync_response_add(struct loy_sync_response *s, const uint8_t *block,
			  size_t block_len, const uint8_t *cert,
			  size_t cert_len)
{
	struct loy_sync_entry *t, *e;

	if (block_len == 0 || cert_len == 0)
		return LOY_EINVAL;
	if (s->count >= LOY_MAX_SYNC_BLOCKS ||
	    block_len > LOY_MAX_BLOCK_BYTES || cert_len > LOY_MAX_CERT_BYTES)
		return LOY_ETOOBIG;
	if (response_size(s, s->count + 1) + entry_size(block_len, cert_len) >
	    LOY_MAX_FRAME)
		return LOY_ETOOBIG;
	t = realloc(s->entries, (s->count + 1) * sizeof *t);
	if (t == NULL)
		return LOY_ENOMEM;
	s->entries = t;
	e = &t[s->count];
	if (loy_buf_copy(&e->block, block, block_len) != 0)
		return LOY_ENOMEM;
	if (loy_buf_copy(&e->cert, cert, cert_len) != 0) {
		loy_buf_free(&e->block);
		return LOY_ENOMEM;
	}
	s->count++;
	return 0;
}

static int response_encode_cb(const void *in, struct loy_w *w)
{
	const struct loy_sync_response *s = in;

	if (s->count > LOY_MAX_SYNC_BLOCKS)
		return LOY_ETOOBIG;
	if (s->count > 0 && s->entries == NULL)
		return LOY_EINVAL;
	loy_w_array(w, 2);
	loy_w_u64(w, LOY_WIRE_VERSION);
	loy_w_array(w, s->count);
	for (uint32_t i = 0; i < s->count; i++) {
		const struct loy_sync_entry *e = &s->entries[i];

		if (e->block.len == 0 || e->cert.len == 0)
			return LOY_EINVAL;
		if (e->block.len > LOY_MAX_BLOCK_BYTES ||
		    e->cert.len > LOY_MAX_CERT_BYTES)
			return LOY_ETOOBIG;
		loy_w_array(w, 2);
		loy_w_bin(w, e->block.data, e->block.len);
		loy_w_bin(w, e->cert.data, e->cert.len);
	}
	if (w->err == 0 && w->sb.size > LOY_MAX_FRAME)
		return LOY_ETOOBIG;
	return w->err;
}

static int response_decode_cb(const msgpack_object *root, void *out)
{
	struct loy_sync_response *s = out;
	struct loy_r r, er;
	const uint8_t *bp[LOY_MAX_SYNC_BLOCKS], *cp[LOY_MAX_SYNC_BLOCKS];
	size_t bl[LOY_MAX_SYNC_BLOCKS], cl[LOY_MAX_SYNC_BLOCKS];

	loy_r_open(&r, root, 2, 2);
	loy_r_version(&r);
	loy_r_array(&r, &er, 0, LOY_MAX_SYNC_BLOCKS);
	if (loy_r_end(&r) != 0)
		return r.err;
	/* Check every entry before allocating anything. */
	for (uint32_t i = 0; i < er.n; i++) {
		struct loy_r pr;

		loy_r_array(&er, &pr, 2, 2);
		bp[i] = loy_r_bin_view(&pr, LOY_MAX_BLOCK_BYTES, &bl[i]);
		cp[i] = loy_r_bin_view(&pr, LOY_MAX_CERT_BYTES, &cl[i]);
		if (loy_r_end(&pr) != 0)
			return pr.err;
		if (bl[i] == 0 || cl[i] == 0)
			return LOY_EMALFORMED;
	}
	if (er.n == 0)
		return 0;
	s->entries = calloc(er.n, sizeof *s->entries);
	if (s->entries == NULL)
		return LOY_ENOMEM;
	for (uint32_t i = 0; i < er.n; i++) {
		struct loy_sync_entry *e = &s->entries[i];

		s->count = i + 1; /* so a failure below frees what was copied */
		if (loy_buf_copy(&e->block, bp[i], bl[i]) != 0 ||
		    loy_buf_copy(&e->cert, cp[i], cl[i]) != 0)
			return LOY_ENOMEM;
	}
	return 0;
}

static void response_free_cb(void *out)
{
	loy_sync_response_free(out);
}

static const struct loy_codec response_codec = {
    .limits = {LOY_MAX_FRAME, 3, 3 + 3 * LOY_MAX_SYNC_BLOCKS},
    .out_size = sizeof(struct loy_sync_response),
    .decode = response_decode_cb,
    .encode = response_encode_cb,
    .free_fn = response_free_cb,
};

int loy_sync_response_encode(const struct loy_sync_response *s,
			     struct loy_buf *out)
{
	return loy_encode_with(&response_codec, s, out);
}

int loy_sync_response_decode(struct loy_sync_response *s, const uint8_t *data,
			     size_t len)
{
	return loy_decode_canonical(&response_codec, data, len, s);
}

void loy_sync_response_free(struct loy_sync_response *s)
{
	if (s->entries != NULL) {
		for (uint32_t i = 0; i < s->count; i++) {
			loy_buf_free(&s->entries[i].block);
			loy_buf_free(&s->entries[i].cert);
		}
	}
	free(s->entries);
	s->entries = NULL;
	s->count = 0;
}

int loy_sync_entry_open(const struct loy_sync_entry *e, struct loy_block *b,
			struct loy_cert *c)
{
	uint8_t h[LOY_HASH_SIZE];
	int rv;

	memset(c, 0, sizeof *c);
	rv = loy_block_decode(b, e->block.data, e->block.len);
	if (rv != 0)
		return rv;
	rv = loy_cert_decode(c, e->cert.data, e->cert.len);
	if (rv == 0)
		rv = loy_block_header_hash(&b->header, h);
	if (rv == 0 &&
	    (c->type != LOY_VOTE_COMMIT || c->height != b->header.height ||
	     strcmp(c->chain_id, b->header.chain_id) != 0 ||
	     memcmp(c->block_hash, h, LOY_HASH_SIZE) != 0))
		rv = LOY_EINVAL;
	if (rv != 0) {
		loy_block_free(b);
		memset(c, 0, sizeof *c);
	}
	return rv;
}
