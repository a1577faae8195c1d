/* Unit tests for the consensus message codecs: round trips of every kind,
 * signatures, and the inputs the decoder must refuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wire/consensus_msg.h"
#include "wire/error.h"

#define CHAIN "test-chain"

static void key(uint8_t pk[32], uint8_t sk[64], uint8_t b)
{
	uint8_t seed[32];

	memset(seed, b, sizeof seed);
	loy_keypair_from_seed(pk, sk, seed);
}

/* A one-tx block at height 5 and its hash. */
static void block(struct loy_buf *out, uint8_t hash[32])
{
	struct loy_block b;
	struct loy_buf tx = {(uint8_t *)"tx-bytes", 8};

	memset(&b, 0, sizeof b);
	strcpy(b.header.chain_id, CHAIN);
	b.header.height = 5;
	b.header.time_ms = 1700000000000ull;
	b.tx_count = 1;
	b.txs = &tx;
	loy_tx_root(b.header.tx_root, &tx, 1);
	assert_int_equal(loy_block_encode(&b, out), 0);
	assert_int_equal(loy_block_header_hash(&b.header, hash), 0);
}

static void base(struct loy_cmsg *m, uint8_t kind, uint64_t view)
{
	memset(m, 0, sizeof *m);
	m->kind = kind;
	strcpy(m->chain_id, CHAIN);
	m->height = 5;
	m->view = view;
}

static void roundtrip(const struct loy_cmsg *m, struct loy_cmsg *back,
		      struct loy_buf *enc)
{
	struct loy_buf again;

	assert_int_equal(loy_cmsg_encode(m, enc), 0);
	assert_int_equal(loy_cmsg_decode(back, enc->data, enc->len), 0);
	assert_int_equal(back->kind, m->kind);
	assert_int_equal(back->height, m->height);
	assert_int_equal(back->view, m->view);
	assert_memory_equal(back->sender, m->sender, 32);
	assert_int_equal(loy_cmsg_encode(back, &again), 0);
	assert_int_equal(again.len, enc->len);
	assert_memory_equal(again.data, enc->data, enc->len);
	loy_buf_free(&again);
}

/* A PREPARE certificate of three validators for hash at (5, view). */
static void prepared_cert(struct loy_cert *c, const uint8_t hash[32],
			  uint64_t view)
{
	uint8_t pk[32], sk[64];

	memset(c, 0, sizeof *c);
	for (uint8_t i = 1; i <= 3; i++) {
		struct loy_vote v;

		memset(&v, 0, sizeof v);
		v.type = LOY_VOTE_PREPARE;
		strcpy(v.chain_id, CHAIN);
		v.height = 5;
		v.view = view;
		memcpy(v.block_hash, hash, 32);
		key(pk, sk, i);
		assert_int_equal(loy_vote_sign(&v, sk), 0);
		assert_int_equal(loy_cert_add(c, &v), 0);
	}
}

static void test_propose_roundtrip_and_signature(void **state)
{
	uint8_t pk[32], sk[64], hash[32];
	struct loy_cmsg m, back;
	struct loy_buf enc;

	(void)state;
	key(pk, sk, 9);
	base(&m, LOY_CMSG_PROPOSE, 0);
	block(&m.block, hash);
	assert_int_equal(loy_cmsg_sign(&m, hash, sk), 0);
	assert_memory_equal(m.sender, pk, 32);
	roundtrip(&m, &back, &enc);
	assert_int_equal(back.block.len, m.block.len);
	assert_int_equal(loy_cmsg_verify(&back, hash), 0);
	hash[0] ^= 1;
	assert_int_equal(loy_cmsg_verify(&back, hash), LOY_EBADSIG);
	hash[0] ^= 1;
	back.view = 1; /* the signature covers the view */
	assert_int_equal(loy_cmsg_verify(&back, hash), LOY_EBADSIG);
	loy_cmsg_free(&back);
	loy_buf_free(&enc);
	loy_buf_free(&m.block);
}

static void test_votes_are_block_votes(void **state)
{
	uint8_t pk[32], sk[64];
	struct loy_vote v, w;
	struct loy_cmsg m, back;
	struct loy_buf enc;

	(void)state;
	key(pk, sk, 2);
	memset(&v, 0, sizeof v);
	v.type = LOY_VOTE_COMMIT;
	strcpy(v.chain_id, CHAIN);
	v.height = 5;
	v.view = 3;
	memset(v.block_hash, 0xab, 32);
	assert_int_equal(loy_vote_sign(&v, sk), 0);
	loy_cmsg_from_vote(&m, &v);
	assert_int_equal(m.kind, LOY_CMSG_COMMIT);
	roundtrip(&m, &back, &enc);
	loy_cmsg_to_vote(&back, &w);
	assert_int_equal(loy_vote_verify(&w), 0);
	assert_memory_equal(&w.sig, &v.sig, 64);
	/* PREPARE and COMMIT do not sign through cmsg */
	assert_int_equal(loy_cmsg_sign(&back, v.block_hash, sk), LOY_EKIND);
	loy_cmsg_free(&back);
	loy_buf_free(&enc);
}

static void test_view_change_and_new_view(void **state)
{
	uint8_t pk[32], sk[64], hash[32], zero[32] = {0};
	struct loy_cert cert;
	struct loy_cmsg vc[3], nv, back;
	struct loy_buf enc, blk;

	(void)state;
	block(&blk, hash);
	prepared_cert(&cert, hash, 1);
	for (uint8_t i = 0; i < 3; i++) {
		base(&vc[i], LOY_CMSG_VIEW_CHANGE, 2);
		if (i == 0) {
			vc[i].prepared = &cert;
			vc[i].block = blk;
		}
		key(pk, sk, (uint8_t)(i + 1));
		assert_int_equal(loy_cmsg_sign(&vc[i], zero, sk), 0);
	}
	/* stand-alone, with its block */
	roundtrip(&vc[0], &back, &enc);
	assert_non_null(back.prepared);
	assert_int_equal(back.prepared->sig_count, 3);
	assert_int_equal(loy_cmsg_verify(&back, zero), 0);
	loy_cmsg_free(&back);
	loy_buf_free(&enc);
	/* inside a NEW-VIEW the view changes travel without blocks */
	vc[0].block.data = NULL;
	vc[0].block.len = 0;
	base(&nv, LOY_CMSG_NEW_VIEW, 2);
	nv.vc_count = 3;
	nv.vcs = vc;
	nv.block = blk;
	key(pk, sk, 3);
	assert_int_equal(loy_cmsg_sign(&nv, hash, sk), 0);
	roundtrip(&nv, &back, &enc);
	assert_int_equal(back.vc_count, 3);
	assert_int_equal(loy_cmsg_verify(&back, hash), 0);
	for (uint32_t i = 0; i < 3; i++)
		assert_int_equal(loy_cmsg_verify(&back.vcs[i], zero), 0);
	loy_cmsg_free(&back);
	loy_buf_free(&enc);

	/* refused: an inner view change carrying a block */
	vc[0].block = blk;
	assert_int_equal(loy_cmsg_encode(&nv, &enc), 0);
	assert_int_equal(loy_cmsg_decode(&back, enc.data, enc.len), LOY_EINVAL);
	loy_buf_free(&enc);
	/* refused: a prepared certificate from a view not below the new one */
	prepared_cert(&cert, hash, 2);
	assert_int_equal(loy_cmsg_encode(&vc[0], &enc), 0);
	assert_int_equal(loy_cmsg_decode(&back, enc.data, enc.len), LOY_EINVAL);
	loy_buf_free(&enc);
	/* refused: a block without a certificate */
	vc[0].prepared = NULL;
	assert_int_equal(loy_cmsg_encode(&vc[0], &enc), 0);
	assert_int_equal(loy_cmsg_decode(&back, enc.data, enc.len),
			 LOY_EMALFORMED);
	loy_buf_free(&enc);
	/* refused: a view change to view 0 */
	vc[1].view = 0;
	assert_int_equal(loy_cmsg_encode(&vc[1], &enc), 0);
	assert_int_equal(loy_cmsg_decode(&back, enc.data, enc.len), LOY_ERANGE);
	loy_buf_free(&enc);
	loy_buf_free(&blk);
}

static void test_status_roundtrip(void **state)
{
	struct loy_cmsg m, back;
	struct loy_buf enc;

	(void)state;
	base(&m, LOY_CMSG_STATUS, 0);
	memset(m.sender, 7, 32);
	memset(m.hash, 8, 32);
	roundtrip(&m, &back, &enc);
	assert_memory_equal(back.hash, m.hash, 32);
	loy_cmsg_free(&back);
	loy_buf_free(&enc);
}

#define DECODE(...)                                                            \
	({                                                                     \
		static const uint8_t b_[] = {__VA_ARGS__};                     \
		struct loy_cmsg m_;                                            \
		loy_cmsg_decode(&m_, b_, sizeof b_);                           \
	})

static void test_rejects_bad_input(void **state)
{
	struct loy_cmsg m, back;
	struct loy_buf enc;

	(void)state;
	/* the 7-byte fuzz input of the issue */
	assert_int_not_equal(DECODE(0x6f, 0xdd, 0x11, 0x6f, 0xfe, 0x11, 0xfc),
			     0);
	assert_int_not_equal(DECODE(0x90), 0);
	assert_int_not_equal(DECODE(0xc0), 0);
	/* a STATUS with version 2, and with an unknown kind */
	base(&m, LOY_CMSG_STATUS, 0);
	assert_int_equal(loy_cmsg_encode(&m, &enc), 0);
	enc.data[1] = 2;
	assert_int_equal(loy_cmsg_decode(&back, enc.data, enc.len),
			 LOY_EVERSION);
	enc.data[1] = 1;
	enc.data[2] = 9;
	assert_int_equal(loy_cmsg_decode(&back, enc.data, enc.len), LOY_EKIND);
	enc.data[2] = LOY_CMSG_PREPARE; /* 7 fields: PREPARE needs 8 */
	assert_int_equal(loy_cmsg_decode(&back, enc.data, enc.len),
			 LOY_EMALFORMED);
	enc.data[2] = LOY_CMSG_STATUS;
	assert_int_equal(loy_cmsg_decode(&back, enc.data, enc.len), 0);
	loy_cmsg_free(&back);
	/* trailing bytes */
	{
		uint8_t *p = malloc(enc.len + 1);
		memcpy(p, enc.data, enc.len);
		p[enc.len] = 0;
		assert_int_equal(loy_cmsg_decode(&back, p, enc.len + 1),
				 LOY_ETRAILING);
		free(p);
	}
	loy_buf_free(&enc);
	/* a height written in a wider integer than needed */
	m.height = 1;
	assert_int_equal(loy_cmsg_encode(&m, &enc), 0);
	{
		/* [.., "test-chain", 1, ..]: replace fixint 1 with 0xcc 0x01 */
		uint8_t *p = malloc(enc.len + 1);
		size_t at = 3 + 1 + strlen(CHAIN);
		assert_int_equal(enc.data[at], 1);
		memcpy(p, enc.data, at);
		p[at] = 0xcc;
		memcpy(p + at + 1, enc.data + at, enc.len - at);
		assert_int_equal(loy_cmsg_decode(&back, p, enc.len + 1),
				 LOY_ENONCANON);
		free(p);
	}
	loy_buf_free(&enc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_propose_roundtrip_and_signature),
	    cmocka_unit_test(test_votes_are_block_votes),
	    cmocka_unit_test(test_view_change_and_new_view),
	    cmocka_unit_test(test_status_roundtrip),
	    cmocka_unit_test(test_rejects_bad_input),
	};

	if (loy_crypto_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
