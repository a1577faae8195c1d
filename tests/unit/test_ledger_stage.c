/* Staged execution: applying a block that was just executed with
 * LOY_EXEC_STAGE commits that execution, with the same outcome as a plain
 * apply; a stage that does not match (or was dropped) changes nothing. */
#include "tests/unit/test_ledger_fix.h"

/* Two redemptions racing for the same points, one customer registration:
 * a block whose results differ per tx. */
static void make_txs(struct fx *f, struct loy_buf *b)
{
	fx_redeem_tx(f, &b[0], 100, 1, 60, "r1");
	fx_redeem_tx(f, &b[1], 100, 0, 60, "r2");
}

/* A customer with 100 points, and the block of make_txs built and
 * certified (not applied). */
static void build(struct fx *f, struct loy_buf txs[2], struct loy_buf *blk,
		  struct loy_buf *cert, struct loy_tx_result res[2])
{
	uint8_t sks[2][LOY_SECKEY_SIZE];

	fx_register(f, 100);
	fx_rule(f, 0, 1, 1, 0);
	assert_int_equal(fx_issue(f, 0, 100, 100, "p1", "buy", NULL), 0);
	make_txs(f, txs);
	memcpy(sks[0], fx_key(f, 0)->sk, 64);
	memcpy(sks[1], fx_key(f, 1)->sk, 64);
	assert_int_equal(loy_ledger_build_block(
			     f->l, txs, 2, f->time_ms, 0, sks[0],
			     (const uint8_t(*)[64])sks, 2, blk, cert, res),
			 0);
}

/* Frees what build made, and the fixture. */
static void drop(struct fx *f, struct loy_buf txs[2], struct loy_buf *blk,
		 struct loy_buf *cert)
{
	loy_buf_free(blk);
	loy_buf_free(cert);
	for (int i = 0; i < 2; i++)
		loy_buf_free(&txs[i]);
	fx_free(f);
}

static void run(int staged, int spoil, uint8_t root_out[LOY_HASH_SIZE],
		struct loy_tx_result res_out[2])
{
	struct fx *f = fx_new(2, 0);
	struct loy_buf txs[2], blk, cert;
	uint8_t root[LOY_HASH_SIZE];
	struct loy_tx_result res[2], sres[2];
	uint64_t h;

	build(f, txs, &blk, &cert, res);
	if (staged) {
		assert_int_equal(loy_ledger_execute(f->l, txs, 2, f->time_ms,
						    LOY_EXEC_STAGE, sres, root),
				 0);
		if (spoil) /* another execution drops the stage */
			assert_int_equal(
			    loy_ledger_execute(f->l, txs, 1, f->time_ms + 1,
					       LOY_EXEC_STAGE, sres, root),
			    0);
	}
	memset(res_out, 0, 2 * sizeof *res_out);
	assert_int_equal(loy_ledger_apply_block(f->l, blk.data, blk.len,
						cert.data, cert.len, 0,
						res_out),
			 0);
	assert_int_equal(loy_ledger_tip(f->l, &h, NULL, root_out, NULL), 0);
	assert_int_equal(res_out[0].code, 0);
	assert_int_equal(res_out[1].code, LOY_REJ_INSUFFICIENT_POINTS);
	/* the same block cannot be applied twice, stage or not */
	assert_int_not_equal(loy_ledger_apply_block(f->l, blk.data, blk.len,
						    cert.data, cert.len, 0,
						    NULL),
			     0);
	fx_invariants(f);
	drop(f, txs, &blk, &cert);
}

static void test_staged_apply_matches_plain(void **state)
{
	uint8_t a[LOY_HASH_SIZE], b[LOY_HASH_SIZE], c[LOY_HASH_SIZE];
	struct loy_tx_result ra[2], rb[2], rc[2];
	(void)state;
	run(0, 0, a, ra);
	run(1, 0, b, rb);
	run(1, 1, c, rc);
	assert_memory_equal(a, b, LOY_HASH_SIZE);
	assert_memory_equal(a, c, LOY_HASH_SIZE);
	assert_string_equal(ra[1].msg, rb[1].msg);
}

/* A block with the staged block's header but other transactions (the
 * same two, swapped) does not commit the stage: its tx root is checked
 * even where the header matches. The real block then applies. */
static void test_stage_not_taken_for_other_txs(void **state)
{
	struct fx *f = fx_new(2, 0);
	struct loy_buf txs[2], blk, cert, forged;
	uint8_t root[LOY_HASH_SIZE];
	struct loy_tx_result res[2], sres[2];
	struct loy_block b;
	uint64_t h0, h;
	(void)state;
	build(f, txs, &blk, &cert, res);
	assert_int_equal(loy_ledger_execute(f->l, txs, 2, f->time_ms,
					    LOY_EXEC_STAGE, sres, root),
			 0);
	assert_int_equal(loy_block_decode(&b, blk.data, blk.len), 0);
	{
		struct loy_buf t = b.txs[0];
		b.txs[0] = b.txs[1];
		b.txs[1] = t;
	}
	assert_int_equal(loy_block_encode(&b, &forged), 0);
	loy_block_free(&b);
	assert_int_equal(loy_ledger_tip(f->l, &h0, NULL, NULL, NULL), 0);
	assert_int_equal(loy_ledger_apply_block(f->l, forged.data, forged.len,
						cert.data, cert.len, 0, NULL),
			 LOY_EINVAL);
	assert_non_null(strstr(loy_ledger_errmsg(f->l), "transaction root"));
	assert_int_equal(loy_ledger_tip(f->l, &h, NULL, NULL, NULL), 0);
	assert_int_equal(h, h0);
	assert_int_equal(loy_ledger_apply_block(f->l, blk.data, blk.len,
						cert.data, cert.len, 0, res),
			 0);
	assert_int_equal(res[1].code, LOY_REJ_INSUFFICIENT_POINTS);
	fx_invariants(f);
	loy_buf_free(&forged);
	drop(f, txs, &blk, &cert);
}

/* A block applied with the hashes its caller computed: the same outcome
 * as a plain apply; a hash that is not its transaction's fails the tx root
 * check and changes nothing. */
static void test_apply_with_given_hashes(void **state)
{
	struct fx *f = fx_new(2, 0);
	struct loy_buf txs[2], blk, cert;
	struct loy_tx_result res[2];
	uint8_t hashes[2][LOY_HASH_SIZE], root[LOY_HASH_SIZE],
	    plain[LOY_HASH_SIZE];
	struct loy_tx_result pres[2];
	struct loy_block b;
	uint64_t h0, h;
	(void)state;
	run(0, 0, plain, pres);
	build(f, txs, &blk, &cert, res);
	assert_int_equal(loy_block_decode(&b, blk.data, blk.len), 0);
	for (uint32_t i = 0; i < b.tx_count; i++)
		loy_tx_hash(hashes[i], b.txs[i].data, b.txs[i].len);
	loy_block_free(&b);
	assert_int_equal(loy_ledger_tip(f->l, &h0, NULL, NULL, NULL), 0);
	hashes[1][0] ^= 1;
	assert_int_equal(loy_ledger_apply_block_hashed(
			     f->l, blk.data, blk.len, cert.data, cert.len, 0,
			     (const uint8_t(*)[32])hashes, res),
			 LOY_EINVAL);
	assert_non_null(strstr(loy_ledger_errmsg(f->l), "transaction root"));
	assert_int_equal(loy_ledger_tip(f->l, &h, NULL, NULL, NULL), 0);
	assert_int_equal(h, h0);
	hashes[1][0] ^= 1;
	assert_int_equal(loy_ledger_apply_block_hashed(
			     f->l, blk.data, blk.len, cert.data, cert.len, 0,
			     (const uint8_t(*)[32])hashes, res),
			 0);
	assert_int_equal(loy_ledger_tip(f->l, &h, NULL, root, NULL), 0);
	assert_int_equal(h, h0 + 1);
	assert_memory_equal(root, plain, LOY_HASH_SIZE);
	assert_int_equal(res[1].code, pres[1].code);
	fx_invariants(f);
	drop(f, txs, &blk, &cert);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_staged_apply_matches_plain),
	    cmocka_unit_test(test_stage_not_taken_for_other_txs),
	    cmocka_unit_test(test_apply_with_given_hashes),
	};
	if (loy_crypto_init() != 0)
		return 1;
	return cmocka_run_group_tests_name("ledger_stage", tests, NULL, NULL);
}
