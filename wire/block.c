/* Block header, block, vote and commit certificate codecs, the tx Merkle
 * root, vote signatures and certificate checks. */
#include "wire/block.h"

#include <stdlib.h>
#include <string.h>

#include "wire/codec.h"
#include "wire/error.h"

/* Encoded sizes have small fixed upper bounds except for the block, whose
 * transactions are bounded by LOY_MAX_BLOCK_BYTES and LOY_MAX_BLOCK_TXS. */
#define HEADER_MAX_BYTES 256u
#define VOTE_MAX_BYTES   256u
#define CERT_MAX_BYTES   (128u + LOY_MAX_VALIDATORS * 104u)

/* ---------------------------------------------------------------------
 * Shared field helpers
 * --------------------------------------------------------------------- */

/* A chain id: a non-empty str of at most LOY_CHAIN_ID_MAX bytes. */
static void read_chain_id(struct loy_r *r, char out[LOY_CHAIN_ID_MAX + 1])
{
	loy_r_str(r, out, LOY_CHAIN_ID_MAX + 1);
	if (r->err == 0 && out[0] == '\0')
		loy_r_fail(r, LOY_ERANGE);
}

static int chain_id_ok(const char *chain_id)
{
	size_t n = strnlen(chain_id, LOY_CHAIN_ID_MAX + 1);

	return n > 0 && n <= LOY_CHAIN_ID_MAX;
}

static int vote_type_ok(uint8_t type)
{
	return type == LOY_VOTE_PREPARE || type == LOY_VOTE_COMMIT;
}

/* ---------------------------------------------------------------------
 * Block header
 * --------------------------------------------------------------------- */

static int header_write(const struct loy_block_header *h, struct loy_w *w)
{
	if (!chain_id_ok(h->chain_id))
		return LOY_EINVAL;
	loy_w_array(w, 9);
	loy_w_u64(w, LOY_WIRE_VERSION);
	loy_w_str(w, h->chain_id);
	loy_w_u64(w, h->height);
	loy_w_u64(w, h->view);
	loy_w_u64(w, h->time_ms);
	loy_w_bin(w, h->prev_hash, LOY_HASH_SIZE);
	loy_w_bin(w, h->tx_root, LOY_HASH_SIZE);
	loy_w_bin(w, h->state_root, LOY_HASH_SIZE);
	loy_w_bin(w, h->proposer, LOY_PUBKEY_SIZE);
	return w->err;
}

static int header_read(const msgpack_object *o, struct loy_block_header *h)
{
	struct loy_r r;

	loy_r_open(&r, o, 9, 9);
	loy_r_version(&r);
	read_chain_id(&r, h->chain_id);
	h->height = loy_r_u64(&r, 0, UINT64_MAX);
	h->view = loy_r_u64(&r, 0, UINT64_MAX);
	h->time_ms = loy_r_u64(&r, 0, UINT64_MAX);
	loy_r_bin_fixed(&r, h->prev_hash, LOY_HASH_SIZE);
	loy_r_bin_fixed(&r, h->tx_root, LOY_HASH_SIZE);
	loy_r_bin_fixed(&r, h->state_root, LOY_HASH_SIZE);
	loy_r_bin_fixed(&r, h->proposer, LOY_PUBKEY_SIZE);
	return loy_r_end(&r);
}

static int header_decode_cb(const msgpack_object *root, void *out)
{
	return header_read(root, out);
}

static int header_encode_cb(const void *in, struct loy_w *w)
{
	return header_write(in, w);
}

static const struct loy_codec header_codec = {
    .limits = {HEADER_MAX_BYTES, 1, 16},
    .out_size = sizeof(struct loy_block_header),
    .decode = header_decode_cb,
    .encode = header_encode_cb,
};

int loy_block_header_encode(const struct loy_block_header *h,
			    struct loy_buf *out)
{
	return loy_encode_with(&header_codec, h, out);
}

int loy_block_header_decode(struct loy_block_header *h, const uint8_t *data,
			    size_t len)
{
	return loy_decode_canonical(&header_codec, data, len, h);
}

int loy_block_header_hash(const struct loy_block_header *h,
			  uint8_t out[LOY_HASH_SIZE])
{
	struct loy_buf b;
	int rv = loy_block_header_encode(h, &b);

	if (rv != 0)
		return rv;
	loy_hash(out, b.data, b.len);
	loy_buf_free(&b);
	return 0;
}

/* ---------------------------------------------------------------------
 * Block
 * --------------------------------------------------------------------- */

static int block_encode_cb(const void *in, struct loy_w *w)
{
	const struct loy_block *b = in;
	int rv;

	if (b->tx_count > LOY_MAX_BLOCK_TXS)
		return LOY_ETOOBIG;
	if (b->tx_count > 0 && b->txs == NULL)
		return LOY_EINVAL;
	loy_w_array(w, 3);
	loy_w_u64(w, LOY_WIRE_VERSION);
	rv = header_write(&b->header, w);
	if (rv != 0)
		return rv;
	loy_w_array(w, b->tx_count);
	for (uint32_t i = 0; i < b->tx_count; i++) {
		if (b->txs[i].len == 0)
			return LOY_EINVAL;
		if (b->txs[i].len > LOY_MAX_TX_BYTES)
			return LOY_ETOOBIG;
		loy_w_bin(w, b->txs[i].data, b->txs[i].len);
	}
	if (w->err == 0 && w->sb.size > LOY_MAX_BLOCK_BYTES)
		return LOY_ETOOBIG;
	return w->err;
}

/* Copies the transactions of an already bounded array into one allocation:
 * the loy_buf table first, then the bytes. Every element is checked before
 * anything is allocated. */
static int block_read_txs(struct loy_r *txr, struct loy_block *b)
{
	size_t total = 0, table;
	uint8_t *mem, *p;

	for (uint32_t i = 0; i < txr->n; i++) {
		const msgpack_object *o = &txr->items[i];

		if (o->type != MSGPACK_OBJECT_BIN || o->via.bin.size == 0)
			return LOY_EMALFORMED;
		if (o->via.bin.size > LOY_MAX_TX_BYTES)
			return LOY_ETOOBIG;
		total += o->via.bin.size;
	}
	if (total > LOY_MAX_BLOCK_BYTES)
		return LOY_ETOOBIG;
	if (txr->n == 0)
		return 0;
	table = (size_t)txr->n * sizeof(struct loy_buf);
	mem = malloc(table + total);
	if (mem == NULL)
		return LOY_ENOMEM;
	b->txs = (struct loy_buf *)(void *)mem;
	p = mem + table;
	for (uint32_t i = 0; i < txr->n; i++) {
		const msgpack_object *o = &txr->items[i];

		memcpy(p, o->via.bin.ptr, o->via.bin.size);
		b->txs[i].data = p;
		b->txs[i].len = o->via.bin.size;
		p += o->via.bin.size;
	}
	b->tx_count = txr->n;
	txr->i = txr->n;
	return 0;
}

static int block_decode_cb(const msgpack_object *root, void *out)
{
	struct loy_block *b = out;
	struct loy_r r, txr;
	int rv;

	loy_r_open(&r, root, 3, 3);
	loy_r_version(&r);
	if (r.err != 0)
		return r.err;
	rv = header_read(loy_r_obj(&r), &b->header);
	if (rv != 0)
		return rv;
	loy_r_array(&r, &txr, 0, LOY_MAX_BLOCK_TXS);
	if (loy_r_end(&r) != 0)
		return r.err;
	return block_read_txs(&txr, b);
}

static void block_free_cb(void *out)
{
	loy_block_free(out);
}

static const struct loy_codec block_codec = {
    .limits = {LOY_MAX_BLOCK_BYTES, 2, 1 + 1 + 10 + 1 + LOY_MAX_BLOCK_TXS},
    .out_size = sizeof(struct loy_block),
    .decode = block_decode_cb,
    .encode = block_encode_cb,
    .free_fn = block_free_cb,
};

int loy_block_encode(const struct loy_block *b, struct loy_buf *out)
{
	return loy_encode_with(&block_codec, b, out);
}

int loy_block_decode(struct loy_block *b, const uint8_t *data, size_t len)
{
	return loy_decode_canonical(&block_codec, data, len, b);
}

void loy_block_free(struct loy_block *b)
{
	/* The table and the bytes are one allocation (see block_read_txs). */
	free(b->txs);
	b->txs = NULL;
	b->tx_count = 0;
}

/* ---------------------------------------------------------------------
 * Transaction Merkle root
 * --------------------------------------------------------------------- */

/* A leaf is the hash of 0x00 || the tx hash: from txs[i], or hashes[i]
 * where the caller has them. */
static void merkle_leaf(uint8_t out[LOY_HASH_SIZE], const struct loy_buf *txs,
			const uint8_t (*hashes)[LOY_HASH_SIZE], uint32_t i)
{
	uint8_t in[1 + LOY_HASH_SIZE];

	in[0] = 0x00;
	if (hashes)
		memcpy(in + 1, hashes[i], LOY_HASH_SIZE);
	else
		loy_hash(in + 1, txs[i].data, txs[i].len);
	loy_hash(out, in, sizeof in);
}

static void merkle_node(uint8_t out[LOY_HASH_SIZE],
			const uint8_t l[LOY_HASH_SIZE],
			const uint8_t r[LOY_HASH_SIZE])
{
	uint8_t in[1 + 2 * LOY_HASH_SIZE];

	in[0] = 0x01;
	memcpy(in + 1, l, LOY_HASH_SIZE);
	memcpy(in + 1 + LOY_HASH_SIZE, r, LOY_HASH_SIZE);
	loy_hash(out, in, sizeof in);
}

/* Pairing level by level and promoting an odd last node gives the same tree
 * as a stack that merges equal-height neighbours as leaves arrive and folds
 * the rest right to left at the end; the stack needs no allocation. */
static void tx_root(uint8_t out[LOY_HASH_SIZE], const struct loy_buf *txs,
		    const uint8_t (*hashes)[LOY_HASH_SIZE], uint32_t n)
{
	uint8_t stack[33][LOY_HASH_SIZE];
	uint8_t height[33];
	unsigned top = 0;

	if (n == 0) {
		memset(out, 0, LOY_HASH_SIZE);
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		merkle_leaf(stack[top], txs, hashes, i);
		height[top++] = 0;
		while (top >= 2 && height[top - 1] == height[top - 2]) {
			merkle_node(stack[top - 2], stack[top - 2],
				    stack[top - 1]);
			height[top - 2]++;
			top--;
		}
	}
	while (top >= 2) {
		merkle_node(stack[top - 2], stack[top - 2], stack[top - 1]);
		top--;
	}
	memcpy(out, stack[0], LOY_HASH_SIZE);
}

void loy_tx_root(uint8_t out[LOY_HASH_SIZE], const struct loy_buf *txs,
		 uint32_t n)
{
	tx_root(out, txs, NULL, n);
}

void loy_tx_root_hashed(uint8_t out[LOY_HASH_SIZE],
			const uint8_t (*hashes)[LOY_HASH_SIZE], uint32_t n)
{
	tx_root(out, NULL, hashes, n);
}

/* ---------------------------------------------------------------------
 * Vote
 * --------------------------------------------------------------------- */

/* The first seven fields, under an array header of n (7 for the signed
 * bytes, 8 for the message, which appends the signature). */
static int vote_write_body(const struct loy_vote *v, struct loy_w *w,
			   uint32_t n)
{
	if (!chain_id_ok(v->chain_id) || !vote_type_ok(v->type))
		return LOY_EINVAL;
	loy_w_array(w, n);
	loy_w_u64(w, LOY_WIRE_VERSION);
	loy_w_u64(w, v->type);
	loy_w_str(w, v->chain_id);
	loy_w_u64(w, v->height);
	loy_w_u64(w, v->view);
	loy_w_bin(w, v->block_hash, LOY_HASH_SIZE);
	loy_w_bin(w, v->validator, LOY_PUBKEY_SIZE);
	return w->err;
}

static int vote_signed_bytes(const struct loy_vote *v, struct loy_buf *out)
{
	struct loy_w w;
	int rv;

	out->data = NULL;
	out->len = 0;
	loy_w_init(&w);
	rv = vote_write_body(v, &w, 7);
	if (rv != 0) {
		loy_w_discard(&w);
		msgpack_sbuffer_destroy(&w.sb);
		return rv;
	}
	return loy_w_finish(&w, out);
}

static int vote_encode_cb(const void *in, struct loy_w *w)
{
	const struct loy_vote *v = in;
	int rv = vote_write_body(v, w, 8);

	if (rv != 0)
		return rv;
	loy_w_bin(w, v->sig, LOY_SIG_SIZE);
	return w->err;
}

static int vote_decode_cb(const msgpack_object *root, void *out)
{
	struct loy_vote *v = out;
	struct loy_r r;

	loy_r_open(&r, root, 8, 8);
	loy_r_version(&r);
	v->type = (uint8_t)loy_r_u64(&r, LOY_VOTE_PREPARE, LOY_VOTE_COMMIT);
	read_chain_id(&r, v->chain_id);
	v->height = loy_r_u64(&r, 0, UINT64_MAX);
	v->view = loy_r_u64(&r, 0, UINT64_MAX);
	loy_r_bin_fixed(&r, v->block_hash, LOY_HASH_SIZE);
	loy_r_bin_fixed(&r, v->validator, LOY_PUBKEY_SIZE);
	loy_r_bin_fixed(&r, v->sig, LOY_SIG_SIZE);
	return loy_r_end(&r);
}

static const struct loy_codec vote_codec = {
    .limits = {VOTE_MAX_BYTES, 1, 16},
    .out_size = sizeof(struct loy_vote),
    .decode = vote_decode_cb,
    .encode = vote_encode_cb,
};

int loy_vote_encode(const struct loy_vote *v, struct loy_buf *out)
{
	return loy_encode_with(&vote_codec, v, out);
}

int loy_vote_decode(struct loy_vote *v, const uint8_t *data, size_t len)
{
	return loy_decode_canonical(&vote_codec, data, len, v);
}

int loy_vote_sign(struct loy_vote *v, const uint8_t sk[LOY_SECKEY_SIZE])
{
	struct loy_buf msg;
	int rv;

	loy_seckey_pubkey(v->validator, sk);
	rv = vote_signed_bytes(v, &msg);
	if (rv != 0)
		return rv;
	loy_sign(v->sig, LOY_DOMAIN_VOTE, v->chain_id, msg.data, msg.len, sk);
	loy_buf_free(&msg);
	return 0;
}

int loy_vote_verify(const struct loy_vote *v)
{
	struct loy_buf msg;
	int rv = vote_signed_bytes(v, &msg);

	if (rv == LOY_EINVAL)
		return LOY_EBADSIG; /* no valid signature exists for it */
	if (rv != 0)
		return rv;
	rv = loy_verify(v->sig, LOY_DOMAIN_VOTE, v->chain_id, msg.data, msg.len,
			v->validator);
	loy_buf_free(&msg);
	return rv;
}

/* ---------------------------------------------------------------------
 * Certificate
 * --------------------------------------------------------------------- */

static int cert_encode_cb(const void *in, struct loy_w *w)
{
	const struct loy_cert *c = in;

	if (!chain_id_ok(c->chain_id) || !vote_type_ok(c->type) ||
	    c->sig_count == 0)
		return LOY_EINVAL;
	if (c->sig_count > LOY_MAX_VALIDATORS)
		return LOY_ETOOBIG;
	for (uint32_t i = 1; i < c->sig_count; i++)
		if (memcmp(c->sigs[i - 1].validator, c->sigs[i].validator,
			   LOY_PUBKEY_SIZE) >= 0)
			return LOY_EINVAL; /* unsorted or repeated signer */
	loy_w_array(w, 7);
	loy_w_u64(w, LOY_WIRE_VERSION);
	loy_w_u64(w, c->type);
	loy_w_str(w, c->chain_id);
	loy_w_u64(w, c->height);
	loy_w_u64(w, c->view);
	loy_w_bin(w, c->block_hash, LOY_HASH_SIZE);
	loy_w_array(w, c->sig_count);
	for (uint32_t i = 0; i < c->sig_count; i++) {
		loy_w_array(w, 2);
		loy_w_bin(w, c->sigs[i].validator, LOY_PUBKEY_SIZE);
		loy_w_bin(w, c->sigs[i].sig, LOY_SIG_SIZE);
	}
	return w->err;
}

static int cert_decode_cb(const msgpack_object *root, void *out)
{
	struct loy_cert *c = out;
	struct loy_r r, sr;

	loy_r_open(&r, root, 7, 7);
	loy_r_version(&r);
	c->type = (uint8_t)loy_r_u64(&r, LOY_VOTE_PREPARE, LOY_VOTE_COMMIT);
	read_chain_id(&r, c->chain_id);
	c->height = loy_r_u64(&r, 0, UINT64_MAX);
	c->view = loy_r_u64(&r, 0, UINT64_MAX);
	loy_r_bin_fixed(&r, c->block_hash, LOY_HASH_SIZE);
	loy_r_array(&r, &sr, 1, LOY_MAX_VALIDATORS);
	if (loy_r_end(&r) != 0)
		return r.err;
	for (uint32_t i = 0; i < sr.n; i++) {
		struct loy_r pr;
		struct loy_cert_sig *s = &c->sigs[i];

		loy_r_array(&sr, &pr, 2, 2);
		loy_r_bin_fixed(&pr, s->validator, LOY_PUBKEY_SIZE);
		loy_r_bin_fixed(&pr, s->sig, LOY_SIG_SIZE);
		if (loy_r_end(&pr) != 0)
			return pr.err;
		if (sr.err != 0)
			return sr.err;
		if (i > 0) {
			int cmp = memcmp(c->sigs[i - 1].validator, s->validator,
					 LOY_PUBKEY_SIZE);

			if (cmp == 0)
				return LOY_EMALFORMED; /* one signer twice */
			if (cmp > 0)
				return LOY_ENONCANON;
		}
	}
	c->sig_count = sr.n;
	return loy_r_end(&sr);
}

static const struct loy_codec cert_codec = {
    .limits = {CERT_MAX_BYTES, 3, 8 + 3 * LOY_MAX_VALIDATORS},
    .out_size = sizeof(struct loy_cert),
    .decode = cert_decode_cb,
    .encode = cert_encode_cb,
};

int loy_cert_encode(const struct loy_cert *c, struct loy_buf *out)
{
	return loy_encode_with(&cert_codec, c, out);
}

int loy_cert_decode(struct loy_cert *c, const uint8_t *data, size_t len)
{
	return loy_decode_canonical(&cert_codec, data, len, c);
}

/* An empty certificate takes its subject from the first vote added. */
int loy_cert_add(struct loy_cert *c, const struct loy_vote *v)
{
	uint32_t at;

	if (c->sig_count == 0) {
		c->type = v->type;
		memcpy(c->chain_id, v->chain_id, sizeof c->chain_id);
		c->height = v->height;
		c->view = v->view;
		memcpy(c->block_hash, v->block_hash, LOY_HASH_SIZE);
	} else if (c->type != v->type ||
		   strncmp(c->chain_id, v->chain_id, sizeof c->chain_id) != 0 ||
		   c->height != v->height || c->view != v->view ||
		   memcmp(c->block_hash, v->block_hash, LOY_HASH_SIZE) != 0) {
		return LOY_EINVAL;
	}
	if (c->sig_count > LOY_MAX_VALIDATORS)
		return LOY_EINVAL;
	for (at = 0; at < c->sig_count; at++) {
		int cmp = memcmp(c->sigs[at].validator, v->validator,
				 LOY_PUBKEY_SIZE);

		if (cmp == 0)
			return LOY_EINVAL;
		if (cmp > 0)
			break;
	}
	if (c->sig_count == LOY_MAX_VALIDATORS)
		return LOY_ETOOBIG;
	memmove(&c->sigs[at + 1], &c->sigs[at],
		(c->sig_count - at) * sizeof c->sigs[0]);
	memcpy(c->sigs[at].validator, v->validator, LOY_PUBKEY_SIZE);
	memcpy(c->sigs[at].sig, v->sig, LOY_SIG_SIZE);
	c->sig_count++;
	return 0;
}

/* Structure first (cheap), signatures last: a certificate that cannot reach
 * the quorum costs no signature checks. */
int loy_cert_verify(const struct loy_cert *c,
		    const uint8_t (*validators)[LOY_PUBKEY_SIZE],
		    uint32_t n_validators, uint32_t quorum)
{
	uint8_t seen[LOY_MAX_VALIDATORS] = {0};
	struct loy_vote v;

	if (n_validators > LOY_MAX_VALIDATORS || quorum == 0 ||
	    quorum > n_validators || c->sig_count > LOY_MAX_VALIDATORS)
		return LOY_EINVAL;
	if (c->sig_count < quorum)
		return LOY_EINVAL;
	for (uint32_t i = 0; i < c->sig_count; i++) {
		uint32_t k;

		for (k = 0; k < n_validators; k++)
			if (memcmp(validators[k], c->sigs[i].validator,
				   LOY_PUBKEY_SIZE) == 0)
				break;
		if (k == n_validators || seen[k])
			return LOY_EINVAL;
		seen[k] = 1;
	}
	memset(&v, 0, sizeof v);
	v.type = c->type;
	memcpy(v.chain_id, c->chain_id, sizeof v.chain_id);
	v.height = c->height;
	v.view = c->view;
	memcpy(v.block_hash, c->block_hash, LOY_HASH_SIZE);
	for (uint32_t i = 0; i < c->sig_count; i++) {
		int rv;

		memcpy(v.validator, c->sigs[i].validator, LOY_PUBKEY_SIZE);
		memcpy(v.sig, c->sigs[i].sig, LOY_SIG_SIZE);
		rv = loy_vote_verify(&v);
		if (rv != 0)
			return rv;
	}
	return 0;
}

uint32_t loy_quorum(uint32_t n)
{
	uint32_t f;

	if (n == 0)
		return 1; /* unreachable: no signer is in an empty set */
	f = (n - 1) / 3;
	return (uint32_t)(((uint64_t)n + f) / 2 + 1);
}
