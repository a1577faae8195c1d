/* Unit tests for block headers, blocks, votes, certificates and tx roots. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/golden/block_vectors.h"
#include "tests/unit/wire_fixtures.h"
#include "tests/unit/wire_mp.h"
#include "wire/block.h"
#include "wire/error.h"

static int dec_header(const uint8_t *p, size_t n)
{
	struct loy_block_header h;
	return loy_block_header_decode(&h, p, n);
}

static int dec_block(const uint8_t *p, size_t n)
{
	struct loy_block b;
	int rv = loy_block_decode(&b, p, n);
	if (rv == 0)
		loy_block_free(&b);
	return rv;
}

static int dec_vote(const uint8_t *p, size_t n)
{
	struct loy_vote v;
	return loy_vote_decode(&v, p, n);
}

static int dec_cert(const uint8_t *p, size_t n)
{
	struct loy_cert c;
	return loy_cert_decode(&c, p, n);
}

/* The header as hand-built fields, in the documented order. */
static size_t header_fields(struct mpf *f, const struct loy_block_header *h)
{
	f[0] = mpf_u(LOY_WIRE_VERSION);
	f[1] = mpf_str(h->chain_id);
	f[2] = mpf_u(h->height);
	f[3] = mpf_u(h->view);
	f[4] = mpf_u(h->time_ms);
	f[5] = mpf_bin(h->prev_hash, 32, 1);
	f[6] = mpf_bin(h->tx_root, 32, 1);
	f[7] = mpf_bin(h->state_root, 32, 1);
	f[8] = mpf_bin(h->proposer, 32, 1);
	return 9;
}

static void assert_hex(const uint8_t *p, size_t n, const char *hex)
{
	char *s = malloc(2 * n + 1);
	assert_non_null(s);
	mp_hex(s, p, n);
	assert_string_equal(s, hex);
	free(s);
}

static void test_header_roundtrip_and_hash(void **state)
{
	struct loy_block_header h, back;
	struct loy_buf b;
	uint8_t hash[32], again[32];
	(void)state;
	fx_header(&h);
	assert_int_equal(loy_block_header_encode(&h, &b), 0);
	assert_int_equal(loy_block_header_decode(&back, b.data, b.len), 0);
	assert_memory_equal(&h, &back, sizeof h);
	assert_int_equal(loy_block_header_hash(&h, hash), 0);
	loy_hash(again, b.data, b.len);
	assert_memory_equal(hash, again, 32);
	loy_buf_free(&b);
	/* every field is in the hash */
	back.time_ms++;
	assert_int_equal(loy_block_header_hash(&back, again), 0);
	assert_memory_not_equal(hash, again, 32);
}

static void test_header_rejects_each_bad_field(void **state)
{
	struct loy_block_header h;
	struct mpf f[9];
	char long_id[LOY_CHAIN_ID_MAX + 2];
	size_t n;
	(void)state;
	fx_header(&h);
	n = header_fields(f, &h);
	mp_check_fields("header", dec_header, f, n);
	f[0] = mpf_u(2);
	assert_int_equal(mp_try(dec_header, f, n), LOY_EVERSION);
	f[0] = mpf_u(0);
	assert_int_equal(mp_try(dec_header, f, n), LOY_EVERSION);
	header_fields(f, &h);
	f[1] = mpf_str("");
	assert_int_equal(mp_try(dec_header, f, n), LOY_ERANGE);
	memset(long_id, 'c', sizeof long_id - 1);
	long_id[sizeof long_id - 1] = '\0';
	f[1] = mpf_str(long_id);
	assert_int_equal(mp_try(dec_header, f, n), LOY_ETOOBIG);
	f[1] = mpf_strn("a\0b", 3);
	assert_int_equal(mp_try(dec_header, f, n), LOY_EMALFORMED);
	long_id[LOY_CHAIN_ID_MAX] = '\0'; /* exactly the maximum is fine */
	f[1] = mpf_str(long_id);
	assert_int_equal(mp_try(dec_header, f, n), 0);
	/* 0xcd 0x00 0x07 instead of 0x07 */
	header_fields(f, &h);
	f[2].n = 0;
	mpf_put(&f[2], "\xcd\x00\x07", 3);
	assert_int_equal(mp_try(dec_header, f, n), LOY_ENONCANON);
	/* the encoder refuses what the decoder would */
	h.chain_id[0] = '\0';
	{
		struct loy_buf b;
		assert_int_equal(loy_block_header_encode(&h, &b), LOY_EINVAL);
	}
}

static void test_block_roundtrip(void **state)
{
	struct loy_block b, back;
	struct loy_buf txs[3], enc, again;
	(void)state;
	fx_block(&b, txs);
	assert_int_equal(loy_block_encode(&b, &enc), 0);
	assert_int_equal(loy_block_decode(&back, enc.data, enc.len), 0);
	assert_memory_equal(&b.header, &back.header, sizeof b.header);
	assert_int_equal(back.tx_count, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(back.txs[i].len, txs[i].len);
		assert_memory_equal(back.txs[i].data, txs[i].data, txs[i].len);
	}
	assert_int_equal(loy_block_encode(&back, &again), 0);
	assert_int_equal(again.len, enc.len);
	assert_memory_equal(again.data, enc.data, enc.len);
	loy_block_free(&back);
	assert_null(back.txs);
	loy_buf_free(&enc);
	loy_buf_free(&again);
	/* an empty block */
	b.tx_count = 0;
	b.txs = NULL;
	assert_int_equal(loy_block_encode(&b, &enc), 0);
	assert_int_equal(loy_block_decode(&back, enc.data, enc.len), 0);
	assert_int_equal(back.tx_count, 0);
	loy_block_free(&back);
	loy_buf_free(&enc);
}

static void test_block_rejects_each_bad_field(void **state)
{
	struct loy_block_header h;
	struct mpf hf[9], tx[3], f[3];
	(void)state;
	fx_header(&h);
	header_fields(hf, &h);
	tx[0] = mpf_bin("tx-one", 6, 0);
	tx[1] = mpf_bin("tx-two", 6, 0);
	tx[2] = mpf_bin("tx-three", 8, 0);
	f[0] = mpf_u(LOY_WIRE_VERSION);
	f[1] = mpf_arr(hf, 9);
	f[2] = mpf_arr(tx, 3);
	mp_check_fields("block", dec_block, f, 3);
	/* a bad field inside the nested header */
	hf[0] = mpf_u(9);
	f[1] = mpf_arr(hf, 9);
	assert_int_equal(mp_try(dec_block, f, 3), LOY_EVERSION);
	header_fields(hf, &h);
	hf[5] = mpf_bin(h.prev_hash, 31, 0);
	f[1] = mpf_arr(hf, 9);
	assert_int_equal(mp_try(dec_block, f, 3), LOY_EMALFORMED);
	header_fields(hf, &h);
	f[1] = mpf_arr(hf, 9);
	/* a transaction of the wrong type, or empty */
	tx[1] = mpf_str("tx-two");
	f[2] = mpf_arr(tx, 3);
	assert_int_equal(mp_try(dec_block, f, 3), LOY_EMALFORMED);
	tx[1] = mpf_bin("", 0, 0);
	f[2] = mpf_arr(tx, 3);
	assert_int_equal(mp_try(dec_block, f, 3), LOY_EMALFORMED);
}

/* Builds [1, header, [n txs of size bytes each]] directly in memory. */
static uint8_t *big_block(uint32_t n, size_t size, size_t *len)
{
	struct loy_block_header h;
	struct mpf hf[9], hdr;
	size_t cap = 64 + 200 + (size_t)n * (size + 5);
	uint8_t *p = malloc(cap), *q = p;

	fx_header(&h);
	header_fields(hf, &h);
	hdr = mpf_arr(hf, 9);
	*q++ = 0x93;
	*q++ = 0x01;
	memcpy(q, hdr.b, hdr.n), q += hdr.n;
	*q++ = 0xdd;
	for (int i = 3; i >= 0; i--)
		*q++ = (uint8_t)(n >> (8 * i));
	for (uint32_t i = 0; i < n; i++) {
		if (size <= 0xff) {
			*q++ = 0xc4, *q++ = (uint8_t)size;
		} else {
			*q++ = 0xc5, *q++ = (uint8_t)(size >> 8),
			*q++ = (uint8_t)size;
		}
		memset(q, 0x5a, size), q += size;
	}
	*len = (size_t)(q - p);
	return p;
}

static void test_block_limits(void **state)
{
	uint8_t *p;
	size_t len;
	struct loy_block b;
	struct loy_buf one[3], enc;
	(void)state;
	/* a tx one byte over the limit (array32 header is non-canonical too,
	 * but the size is caught first) */
	p = big_block(1, LOY_MAX_TX_BYTES + 1, &len);
	assert_int_equal(loy_block_decode(&b, p, len), LOY_ETOOBIG);
	free(p);
	/* one tx more than a block may hold */
	p = big_block(LOY_MAX_BLOCK_TXS + 1, 1, &len);
	assert_int_equal(loy_block_decode(&b, p, len), LOY_ETOOBIG);
	free(p);
	/* over the byte limit as a whole */
	p = big_block(400, LOY_MAX_TX_BYTES, &len);
	assert_true(len > LOY_MAX_BLOCK_BYTES);
	assert_int_equal(loy_block_decode(&b, p, len), LOY_ETOOBIG);
	free(p);
	/* array32 where array16 would do: not canonical */
	p = big_block(20, 1, &len);
	assert_int_equal(loy_block_decode(&b, p, len), LOY_ENONCANON);
	free(p);
	/* the encoder refuses the same */
	fx_block(&b, one);
	b.tx_count = 1;
	one[0].len = LOY_MAX_TX_BYTES + 1;
	assert_int_equal(loy_block_encode(&b, &enc), LOY_ETOOBIG);
	b.tx_count = LOY_MAX_BLOCK_TXS + 1;
	assert_int_equal(loy_block_encode(&b, &enc), LOY_ETOOBIG);
	one[0].len = 0;
	b.tx_count = 1;
	assert_int_equal(loy_block_encode(&b, &enc), LOY_EINVAL);
}

/* The obvious level-by-level Merkle root, to check the streaming one. */
static void ref_root(uint8_t out[32], const struct loy_buf *txs, uint32_t n)
{
	uint8_t(*lv)[32] = calloc(n ? n : 1, 32), buf[65];
	uint32_t m = n;

	if (n == 0) {
		memset(out, 0, 32);
		free(lv);
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		buf[0] = 0;
		loy_hash(buf + 1, txs[i].data, txs[i].len);
		loy_hash(lv[i], buf, 33);
	}
	while (m > 1) {
		uint32_t k = 0;
		for (uint32_t i = 0; i + 1 < m; i += 2) {
			buf[0] = 1;
			memcpy(buf + 1, lv[i], 32);
			memcpy(buf + 33, lv[i + 1], 32);
			loy_hash(lv[k++], buf, 65);
		}
		if (m % 2)
			memcpy(lv[k++], lv[m - 1], 32);
		m = k;
	}
	memcpy(out, lv[0], 32);
	free(lv);
}

static void test_tx_root(void **state)
{
	struct loy_buf txs[40];
	uint8_t bytes[40][4], a[32], b[32], zero[32] = {0};
	(void)state;
	for (unsigned i = 0; i < 40; i++) {
		memcpy(bytes[i], "tx", 2);
		bytes[i][2] = (uint8_t)i;
		bytes[i][3] = (uint8_t)(i * 7);
		txs[i].data = bytes[i];
		txs[i].len = 4;
	}
	loy_tx_root(a, txs, 0);
	assert_memory_equal(a, zero, 32);
	loy_tx_root_hashed(a, NULL, 0);
	assert_memory_equal(a, zero, 32);
	for (uint32_t n = 1; n <= 40; n++) {
		uint8_t hashes[40][32];
		loy_tx_root(a, txs, n);
		ref_root(b, txs, n);
		assert_memory_equal(a, b, 32);
		loy_tx_root(b, txs, n); /* deterministic */
		assert_memory_equal(a, b, 32);
		/* from the hashes the caller has: the same root */
		for (uint32_t i = 0; i < n; i++)
			loy_hash(hashes[i], txs[i].data, txs[i].len);
		loy_tx_root_hashed(b, (const uint8_t(*)[32])hashes, n);
		assert_memory_equal(a, b, 32);
	}
	/* order matters; a leaf is not an inner node */
	loy_tx_root(a, txs, 2);
	{
		struct loy_buf sw[2] = {txs[1], txs[0]};
		loy_tx_root(b, sw, 2);
		assert_memory_not_equal(a, b, 32);
	}
	bytes[5][0] ^= 1;
	loy_tx_root(b, txs, 40);
	ref_root(a, txs, 40);
	assert_memory_equal(a, b, 32);
	bytes[5][0] ^= 1;
	loy_tx_root(a, txs, 40);
	assert_memory_not_equal(a, b, 32);
}

static void test_vote_sign_verify_roundtrip(void **state)
{
	struct loy_vote v, back, t;
	struct loy_buf b;
	(void)state;
	assert_int_equal(fx_vote(&v, 0, LOY_VOTE_PREPARE), 0);
	assert_int_equal(loy_vote_verify(&v), 0);
	assert_int_equal(loy_vote_encode(&v, &b), 0);
	assert_int_equal(loy_vote_decode(&back, b.data, b.len), 0);
	assert_memory_equal(&v, &back, sizeof v);
	assert_int_equal(loy_vote_verify(&back), 0);
	loy_buf_free(&b);
	/* each signed field matters */
	t = v, t.type = LOY_VOTE_COMMIT;
	assert_int_equal(loy_vote_verify(&t), LOY_EBADSIG);
	t = v, t.height++;
	assert_int_equal(loy_vote_verify(&t), LOY_EBADSIG);
	t = v, t.view++;
	assert_int_equal(loy_vote_verify(&t), LOY_EBADSIG);
	t = v, t.block_hash[3] ^= 1;
	assert_int_equal(loy_vote_verify(&t), LOY_EBADSIG);
	t = v, t.chain_id[0] = 'x';
	assert_int_equal(loy_vote_verify(&t), LOY_EBADSIG);
	t = v, t.validator[0] ^= 1;
	assert_int_equal(loy_vote_verify(&t), LOY_EBADSIG);
	t = v, t.sig[0] ^= 1;
	assert_int_equal(loy_vote_verify(&t), LOY_EBADSIG);
	t = v, t.type = 9;
	assert_int_equal(loy_vote_verify(&t), LOY_EBADSIG);
	assert_int_equal(loy_vote_encode(&t, &b), LOY_EINVAL);
}

static size_t vote_fields(struct mpf *f, const struct loy_vote *v)
{
	f[0] = mpf_u(LOY_WIRE_VERSION);
	f[1] = mpf_u(v->type);
	f[2] = mpf_str(v->chain_id);
	f[3] = mpf_u(v->height);
	f[4] = mpf_u(v->view);
	f[5] = mpf_bin(v->block_hash, 32, 1);
	f[6] = mpf_bin(v->validator, 32, 1);
	f[7] = mpf_bin(v->sig, 64, 1);
	return 8;
}

static void test_vote_rejects_each_bad_field(void **state)
{
	struct loy_vote v;
	struct mpf f[8];
	size_t n;
	(void)state;
	assert_int_equal(fx_vote(&v, 1, LOY_VOTE_COMMIT), 0);
	n = vote_fields(f, &v);
	mp_check_fields("vote", dec_vote, f, n);
	f[0] = mpf_u(2);
	assert_int_equal(mp_try(dec_vote, f, n), LOY_EVERSION);
	vote_fields(f, &v);
	f[1] = mpf_u(0);
	assert_int_equal(mp_try(dec_vote, f, n), LOY_ERANGE);
	f[1] = mpf_u(3);
	assert_int_equal(mp_try(dec_vote, f, n), LOY_ERANGE);
	vote_fields(f, &v);
	f[2] = mpf_str("");
	assert_int_equal(mp_try(dec_vote, f, n), LOY_ERANGE);
}

static size_t cert_fields(struct mpf *f, struct mpf *sf,
			  const struct loy_cert *c)
{
	for (uint32_t i = 0; i < c->sig_count; i++) {
		struct mpf pair[2] = {mpf_bin(c->sigs[i].validator, 32, 1),
				      mpf_bin(c->sigs[i].sig, 64, 1)};
		sf[i] = mpf_arr(pair, 2);
	}
	f[0] = mpf_u(LOY_WIRE_VERSION);
	f[1] = mpf_u(c->type);
	f[2] = mpf_str(c->chain_id);
	f[3] = mpf_u(c->height);
	f[4] = mpf_u(c->view);
	f[5] = mpf_bin(c->block_hash, 32, 1);
	f[6] = mpf_arr(sf, c->sig_count);
	return 7;
}

static void test_cert_codec(void **state)
{
	struct loy_cert c, back;
	struct loy_buf b;
	struct mpf f[7], sf[4], pair[2];
	size_t n;
	(void)state;
	assert_int_equal(fx_cert(&c, 3), 0);
	for (uint32_t i = 1; i < c.sig_count; i++)
		assert_true(memcmp(c.sigs[i - 1].validator, c.sigs[i].validator,
				   32) < 0);
	assert_int_equal(loy_cert_encode(&c, &b), 0);
	assert_int_equal(loy_cert_decode(&back, b.data, b.len), 0);
	assert_memory_equal(&c, &back, sizeof c);
	loy_buf_free(&b);
	n = cert_fields(f, sf, &c);
	mp_check_fields("cert", dec_cert, f, n);
	/* unsorted, duplicated, empty, malformed pair */
	{
		struct mpf t = sf[0];
		sf[0] = sf[1], sf[1] = t;
		f[6] = mpf_arr(sf, 3);
		assert_int_equal(mp_try(dec_cert, f, n), LOY_ENONCANON);
		sf[1] = sf[0];
		f[6] = mpf_arr(sf, 3);
		assert_int_equal(mp_try(dec_cert, f, n), LOY_EMALFORMED);
	}
	f[6] = mpf_arr(sf, 0);
	assert_int_equal(mp_try(dec_cert, f, n), LOY_EMALFORMED);
	pair[0] = mpf_bin(c.sigs[0].validator, 32, 1);
	pair[1] = mpf_bin(c.sigs[0].sig, 63, 0);
	sf[0] = mpf_arr(pair, 2);
	f[6] = mpf_arr(sf, 1);
	assert_int_equal(mp_try(dec_cert, f, n), LOY_EMALFORMED);
	sf[0] = mpf_arr(pair, 1);
	f[6] = mpf_arr(sf, 1);
	assert_int_equal(mp_try(dec_cert, f, n), LOY_EMALFORMED);
	cert_fields(f, sf, &c);
	f[1] = mpf_u(3);
	assert_int_equal(mp_try(dec_cert, f, n), LOY_ERANGE);
	/* the encoder refuses an unsorted or empty certificate */
	back = c;
	memcpy(&back.sigs[0], &c.sigs[1], sizeof c.sigs[0]);
	memcpy(&back.sigs[1], &c.sigs[0], sizeof c.sigs[0]);
	assert_int_equal(loy_cert_encode(&back, &b), LOY_EINVAL);
	back.sig_count = 0;
	assert_int_equal(loy_cert_encode(&back, &b), LOY_EINVAL);
}

static void test_cert_verify(void **state)
{
	uint8_t vals[4][LOY_PUBKEY_SIZE], sk[LOY_SECKEY_SIZE];
	struct loy_cert c, t;
	struct loy_vote v;
	(void)state;
	for (unsigned k = 0; k < 4; k++)
		fx_key(k, vals[k], sk);
	assert_int_equal(loy_quorum(4), 3);
	assert_int_equal(fx_cert(&c, 3), 0);
	assert_int_equal(loy_cert_verify(&c, vals, 4, 3), 0);
	/* quorum short */
	assert_int_equal(fx_cert(&t, 2), 0);
	assert_int_equal(loy_cert_verify(&t, vals, 4, 3), LOY_EINVAL);
	/* an unknown signer (validator 5 is not in the set of 4) */
	assert_int_equal(fx_vote(&v, 5, LOY_VOTE_COMMIT), 0);
	assert_int_equal(loy_cert_add(&t, &v), 0);
	assert_int_equal(loy_cert_verify(&t, vals, 4, 3), LOY_EINVAL);
	/* a duplicate signer slipped in by hand */
	t = c;
	t.sigs[2] = t.sigs[1];
	assert_int_equal(loy_cert_verify(&t, vals, 4, 3), LOY_EINVAL);
	/* a bad signature */
	t = c;
	t.sigs[1].sig[5] ^= 0x10;
	assert_int_equal(loy_cert_verify(&t, vals, 4, 3), LOY_EBADSIG);
	/* PREPARE signatures do not make a COMMIT certificate */
	t = c;
	t.type = LOY_VOTE_PREPARE;
	assert_int_equal(loy_cert_verify(&t, vals, 4, 3), LOY_EBADSIG);
	t = c;
	t.height++;
	assert_int_equal(loy_cert_verify(&t, vals, 4, 3), LOY_EBADSIG);
	/* nonsense parameters */
	assert_int_equal(loy_cert_verify(&c, vals, 4, 0), LOY_EINVAL);
	assert_int_equal(loy_cert_verify(&c, vals, 2, 3), LOY_EINVAL);
	/* adding: same validator twice, or a vote for something else */
	assert_int_equal(fx_vote(&v, 1, LOY_VOTE_COMMIT), 0);
	t = c;
	assert_int_equal(loy_cert_add(&t, &v), LOY_EINVAL);
	assert_int_equal(fx_vote(&v, 3, LOY_VOTE_PREPARE), 0);
	assert_int_equal(loy_cert_add(&t, &v), LOY_EINVAL);
	assert_int_equal(fx_vote(&v, 3, LOY_VOTE_COMMIT), 0);
	v.height++;
	assert_int_equal(loy_cert_add(&t, &v), LOY_EINVAL);
	v.height--;
	assert_int_equal(loy_cert_add(&t, &v), 0);
	assert_int_equal(t.sig_count, 4);
	assert_int_equal(loy_cert_verify(&t, vals, 4, 3), 0);
}

static void test_cert_full(void **state)
{
	struct loy_cert c;
	struct loy_vote v;
	(void)state;
	memset(&c, 0, sizeof c);
	assert_int_equal(fx_vote(&v, 0, LOY_VOTE_COMMIT), 0);
	for (unsigned i = 0; i < LOY_MAX_VALIDATORS; i++) {
		v.validator[0] =
		    (uint8_t)(i * 4); /* unsigned, only for sorting */
		v.validator[1] = (uint8_t)(255 - i);
		assert_int_equal(loy_cert_add(&c, &v), 0);
	}
	v.validator[0] = 1;
	assert_int_equal(loy_cert_add(&c, &v), LOY_ETOOBIG);
	for (uint32_t i = 1; i < c.sig_count; i++)
		assert_true(memcmp(c.sigs[i - 1].validator, c.sigs[i].validator,
				   32) < 0);
}

static void test_quorum(void **state)
{
	static const uint32_t want[][2] = {{1, 1}, {2, 2},  {3, 2},
					   {4, 3}, {5, 4},  {6, 4},
					   {7, 5}, {10, 7}, {64, 43}};
	(void)state;
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		assert_int_equal(loy_quorum(want[i][0]), want[i][1]);
}

static void test_golden_vectors(void **state)
{
	struct loy_block_header h;
	struct loy_block b;
	struct loy_buf txs[3], out;
	struct loy_vote v;
	struct loy_cert c;
	uint8_t hash[32], pk[32], sk[64];
	uint8_t raw[1024];
	size_t n;
	(void)state;
	fx_key(0, pk, sk);
	assert_hex(pk, 32, GV_PUBKEY0);
	fx_header(&h);
	assert_hex(h.tx_root, 32, GV_TX_ROOT);
	assert_int_equal(loy_block_header_encode(&h, &out), 0);
	assert_hex(out.data, out.len, GV_HEADER);
	loy_buf_free(&out);
	assert_int_equal(loy_block_header_hash(&h, hash), 0);
	assert_hex(hash, 32, GV_HEADER_HASH);
	fx_block(&b, txs);
	assert_int_equal(loy_block_encode(&b, &out), 0);
	assert_hex(out.data, out.len, GV_BLOCK);
	loy_buf_free(&out);
	assert_int_equal(fx_vote(&v, 0, LOY_VOTE_COMMIT), 0);
	assert_hex(v.sig, 64, GV_VOTE_SIG);
	assert_int_equal(loy_vote_encode(&v, &out), 0);
	assert_hex(out.data, out.len, GV_VOTE);
	loy_buf_free(&out);
	assert_int_equal(fx_cert(&c, 3), 0);
	assert_int_equal(loy_cert_encode(&c, &out), 0);
	assert_hex(out.data, out.len, GV_CERT3);
	loy_buf_free(&out);
	/* and the checked-in bytes decode and verify on their own */
	n = mp_unhex(raw, sizeof raw, GV_CERT3);
	assert_int_equal(loy_cert_decode(&c, raw, n), 0);
	{
		uint8_t vals[3][32];
		for (unsigned k = 0; k < 3; k++)
			fx_key(k, vals[k], sk);
		assert_int_equal(loy_cert_verify(&c, vals, 3, 3), 0);
	}
	n = mp_unhex(raw, sizeof raw, GV_VOTE);
	assert_int_equal(loy_vote_decode(&v, raw, n), 0);
	assert_int_equal(loy_vote_verify(&v), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_header_roundtrip_and_hash),
	    cmocka_unit_test(test_header_rejects_each_bad_field),
	    cmocka_unit_test(test_block_roundtrip),
	    cmocka_unit_test(test_block_rejects_each_bad_field),
	    cmocka_unit_test(test_block_limits),
	    cmocka_unit_test(test_tx_root),
	    cmocka_unit_test(test_vote_sign_verify_roundtrip),
	    cmocka_unit_test(test_vote_rejects_each_bad_field),
	    cmocka_unit_test(test_cert_codec),
	    cmocka_unit_test(test_cert_verify),
	    cmocka_unit_test(test_cert_full),
	    cmocka_unit_test(test_quorum),
	    cmocka_unit_test(test_golden_vectors),
	};
	if (loy_crypto_init() != 0)
		return 1;
	return cmocka_run_group_tests_name("wire_block", tests, NULL, NULL);
}
