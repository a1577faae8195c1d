/* Ledger core: genesis, blocks, the envelope rules (nonce, signature,
 * chain), points earned and spent, settlement, and the queries. */
#include "tests/unit/test_ledger_fix.h"

static void test_genesis_and_tip(void **state)
{
	struct fx *f = fx_new(4, 0);
	uint8_t h[32], r[32], gh[32];
	uint8_t keys[LOY_MAX_VALIDATORS][32];
	uint64_t height, t;
	uint32_t n;
	struct loy_member_info mi[8];
	(void)state;
	assert_int_equal(loy_ledger_tip(f->l, &height, h, r, &t), 0);
	assert_int_equal(height, 0);
	assert_int_equal(t, FX_T0);
	assert_int_equal(loy_ledger_genesis_hash(f->l, gh), 0);
	assert_memory_equal(h, gh, 32);
	assert_int_equal(loy_ledger_validators(f->l, 1, keys, &n), 0);
	assert_int_equal(n, 4);
	for (uint32_t i = 1; i < n; i++)
		assert_true(memcmp(keys[i - 1], keys[i], 32) < 0);
	assert_int_equal(loy_ledger_validators(f->l, 2, keys, &n),
			 LOY_ENOTFOUND);
	assert_int_equal(loy_ledger_members(f->l, mi, 8, &n), 0);
	assert_int_equal(n, 4);
	/* a second genesis is refused */
	assert_int_equal(loy_ledger_init_genesis(f->l, &f->g), LOY_ESTATE);
	/* the same genesis elsewhere gives the same hash and root */
	struct fx *g = fx_new(4, 0);
	uint8_t h2[32], r2[32];
	assert_int_equal(loy_ledger_tip(g->l, NULL, h2, r2, NULL), 0);
	assert_memory_equal(h, h2, 32);
	assert_memory_equal(r, r2, 32);
	fx_free(g);
	/* an empty block moves the tip */
	assert_int_equal(fx_commit(f, NULL, 0), 0);
	assert_int_equal(loy_ledger_tip(f->l, &height, NULL, NULL, NULL), 0);
	assert_int_equal(height, 1);
	fx_invariants(f);
	fx_free(f);
}

static void test_reopen_keeps_state(void **state)
{
	struct fx *f = fx_new(1, 0);
	uint8_t r[32], r2[32];
	(void)state;
	fx_register(f, 100);
	fx_rule(f, 0, 1, 1, 0);
	assert_int_equal(fx_issue(f, 0, 100, 70, "r1", "buy", NULL), 0);
	assert_int_equal(loy_ledger_tip(f->l, NULL, NULL, r, NULL), 0);
	loy_ledger_close(f->l);
	assert_int_equal(fx_open_dir(f, f->dir, 0), 0);
	assert_int_equal(loy_ledger_tip(f->l, NULL, NULL, r2, NULL), 0);
	assert_memory_equal(r, r2, 32);
	assert_int_equal(fx_balance(f, 100), 70);
	assert_string_equal(loy_ledger_chain_id(f->l), FX_CHAIN);
	/* read-only open sees the same and refuses writes */
	struct loy_ledger *ro;
	char err[128];
	assert_int_equal(
	    loy_ledger_open(f->dir, LOY_LEDGER_RDONLY, 0, &ro, err, sizeof err),
	    0);
	uint64_t p;
	assert_int_equal(loy_ledger_balance(ro, fx_key(f, 100)->id, &p), 0);
	assert_int_equal(p, 70);
	assert_int_equal(
	    loy_ledger_execute(ro, NULL, 0, f->time_ms, 0, NULL, r),
	    LOY_ESTATE);
	loy_ledger_close(ro);
	fx_free(f);
}

static void test_envelope_rules(void **state)
{
	struct fx *f = fx_new(1, 0);
	struct loy_tx tx;
	struct loy_buf b;
	struct loy_tx_result res;
	uint8_t root[32];
	(void)state;
	/* wrong nonce: invalid, never enters a block */
	fx_tx(f, &tx, LOY_TX_CUSTOMER_REGISTER, 100);
	tx.nonce = 2;
	fx_enc(f, &tx, 100, &b);
	fx_key(f, 100)->nonce = 0;
	assert_int_equal(
	    loy_ledger_check_tx(f->l, b.data, b.len, f->time_ms, 0, &res),
	    LOY_EREJECTED);
	assert_int_equal(res.code, LOY_REJ_BAD_NONCE);
	assert_int_equal(
	    loy_ledger_execute(f->l, &b, 1, f->time_ms, 0, &res, root),
	    LOY_EREJECTED);
	assert_non_null(strstr(loy_ledger_errmsg(f->l), "tx 0 invalid"));
	assert_int_equal(fx_commit(f, &b, 1), 0); /* builder leaves it out */
	assert_int_equal(f->res[0].code, LOY_REJ_BAD_NONCE);
	/* wrong chain */
	fx_tx(f, &tx, LOY_TX_CUSTOMER_REGISTER, 100);
	snprintf(tx.chain_id, sizeof tx.chain_id, "other");
	fx_enc(f, &tx, 100, &b);
	fx_key(f, 100)->nonce = 0;
	assert_int_equal(
	    loy_ledger_check_tx(f->l, b.data, b.len, f->time_ms, 0, &res),
	    LOY_EREJECTED);
	assert_int_equal(res.code, LOY_REJ_WRONG_CHAIN);
	loy_buf_free(&b);
	/* bad signature (checked when asked) */
	fx_tx(f, &tx, LOY_TX_CUSTOMER_REGISTER, 100);
	fx_enc(f, &tx, 100, &b);
	fx_key(f, 100)->nonce = 0;
	b.data[b.len - 1] ^= 1;
	assert_int_equal(loy_ledger_check_tx(f->l, b.data, b.len, f->time_ms,
					     LOY_EXEC_VERIFY_SIGS, &res),
			 LOY_EREJECTED);
	assert_int_equal(res.code, LOY_REJ_BAD_SIGNATURE);
	/* malformed */
	b.len = 5;
	assert_int_equal(
	    loy_ledger_check_tx(f->l, b.data, b.len, f->time_ms, 0, &res),
	    LOY_EREJECTED);
	assert_int_equal(res.code, LOY_REJ_MALFORMED);
	loy_buf_free(&b);
	/* a rejected tx consumes its nonce: the replay is then invalid */
	fx_tx(f, &tx, LOY_TX_REDEEM, 100); /* not registered: rejected */
	memcpy(tx.u.redeem.member, fx_key(f, 0)->id, LOY_ID_SIZE);
	tx.u.redeem.amount = 1;
	snprintf(tx.u.redeem.reference, 8, "x");
	fx_enc(f, &tx, 100, &b);
	struct loy_buf copy;
	assert_int_equal(loy_buf_copy(&copy, b.data, b.len), 0);
	assert_int_equal(fx_commit(f, &b, 1), 0);
	assert_int_equal(f->res[0].code, LOY_REJ_NOT_AUTHORIZED);
	assert_int_equal(
	    loy_ledger_check_tx(f->l, copy.data, copy.len, f->time_ms, 0, &res),
	    LOY_EREJECTED);
	assert_int_equal(res.code, LOY_REJ_BAD_NONCE);
	loy_buf_free(&copy);
	/* it is indexed with its code and message */
	uint64_t nonce;
	assert_int_equal(loy_ledger_nonce(f->l, fx_key(f, 100)->id, &nonce), 0);
	assert_int_equal(nonce, 1);
	fx_invariants(f);
	fx_free(f);
}

static void test_block_checks(void **state)
{
	struct fx *f = fx_new(4, 0);
	uint8_t sks[4][64];
	struct loy_buf b, c, b2, c2;
	(void)state;
	for (int i = 0; i < 4; i++)
		memcpy(sks[i], fx_key(f, (unsigned)i)->sk, 64);
	/* 2 of 4 signatures: below quorum (3) */
	assert_int_equal(
	    loy_ledger_build_block(f->l, NULL, 0, f->time_ms, 0, sks[0],
				   (const uint8_t(*)[64])sks, 2, &b, &c, NULL),
	    0);
	assert_int_equal(
	    loy_ledger_apply_block(f->l, b.data, b.len, c.data, c.len, 0, NULL),
	    LOY_EINVAL);
	assert_non_null(strstr(loy_ledger_errmsg(f->l), "certificate"));
	loy_buf_free(&c);
	/* a certificate by a non-validator */
	struct fx_key *stranger = fx_key(f, 40);
	assert_int_equal(
	    loy_ledger_build_block(f->l, NULL, 0, f->time_ms, 0, sks[0],
				   (const uint8_t(*)[64])stranger->sk, 1, &b2,
				   &c2, NULL),
	    0);
	assert_int_equal(loy_ledger_apply_block(f->l, b.data, b.len, c2.data,
						c2.len, 0, NULL),
			 LOY_EINVAL);
	loy_buf_free(&b2);
	loy_buf_free(&c2);
	/* time going backwards */
	assert_int_equal(loy_ledger_build_block(
			     f->l, NULL, 0, FX_T0 - 1, 0, sks[0],
			     (const uint8_t(*)[64])sks, 4, &b2, &c2, NULL),
			 LOY_EINVAL);
	/* a good one, then the same again (wrong height) */
	assert_int_equal(loy_ledger_build_block(
			     f->l, NULL, 0, f->time_ms, 0, sks[0],
			     (const uint8_t(*)[64])sks, 3, &b2, &c2, NULL),
			 0);
	assert_int_equal(loy_ledger_apply_block(f->l, b2.data, b2.len, c2.data,
						c2.len, 0, NULL),
			 0);
	assert_int_equal(loy_ledger_apply_block(f->l, b2.data, b2.len, c2.data,
						c2.len, 0, NULL),
			 LOY_EINVAL);
	loy_buf_free(&b);
	loy_buf_free(&b2);
	loy_buf_free(&c2);
	fx_free(f);
}

static void test_state_root_mismatch_halts(void **state)
{
	struct fx *f = fx_new(1, 0), *g = fx_new(1, 0);
	struct loy_buf b, c, tx;
	struct loy_tx t;
	const uint8_t(*sk)[64] = (const uint8_t(*)[64])fx_key(f, 0)->sk;
	(void)state;
	/* f has a customer, g does not: the same block executes differently */
	fx_register(f, 100);
	assert_int_equal(fx_commit(g, NULL, 0), 0);
	fx_tx(f, &t, LOY_TX_CUSTOMER_REGISTER, 101);
	fx_enc(f, &t, 101, &tx);
	assert_int_equal(loy_ledger_build_block(f->l, &tx, 1, f->time_ms, 0,
						sk[0], sk, 1, &b, &c, NULL),
			 0);
	/* f's block 2 applies on g's chain only if the prev hash matches,
	 * so craft the divergence on f itself: register 100 again at g */
	loy_buf_free(&b);
	loy_buf_free(&c);
	fx_tx(g, &t, LOY_TX_CUSTOMER_REGISTER, 101);
	g->keys[101].nonce = 0;
	struct loy_buf tx2;
	fx_enc(g, &t, 101, &tx2);
	/* g computes the root for tx2 on its own state... */
	assert_int_equal(loy_ledger_build_block(g->l, &tx2, 1, g->time_ms, 0,
						sk[0], sk, 1, &b, &c, NULL),
			 0);
	/* ...and f, whose state differs but whose tip hash is different too,
	 * cannot take it; instead corrupt the root in a block for g */
	struct loy_block blk;
	assert_int_equal(loy_block_decode(&blk, b.data, b.len), 0);
	blk.header.state_root[0] ^= 1;
	loy_buf_free(&b);
	loy_buf_free(&c);
	struct loy_buf nb, nc;
	assert_int_equal(loy_block_encode(&blk, &nb), 0);
	uint8_t bh[32];
	assert_int_equal(loy_block_header_hash(&blk.header, bh), 0);
	struct loy_cert cert = {.type = LOY_VOTE_COMMIT,
				.height = blk.header.height};
	memcpy(cert.chain_id, FX_CHAIN, sizeof FX_CHAIN);
	memcpy(cert.block_hash, bh, 32);
	struct loy_vote v = {.type = LOY_VOTE_COMMIT,
			     .height = blk.header.height};
	memcpy(v.chain_id, FX_CHAIN, sizeof FX_CHAIN);
	memcpy(v.block_hash, bh, 32);
	assert_int_equal(loy_vote_sign(&v, sk[0]), 0);
	assert_int_equal(loy_cert_add(&cert, &v), 0);
	assert_int_equal(loy_cert_encode(&cert, &nc), 0);
	assert_int_equal(loy_ledger_apply_block(g->l, nb.data, nb.len, nc.data,
						nc.len, 0, NULL),
			 LOY_ECORRUPT);
	assert_non_null(strstr(loy_ledger_errmsg(g->l), "state root mismatch"));
	assert_true(loy_ledger_halted(g->l));
	assert_int_equal(fx_commit(g, NULL, 0), LOY_ESTATE);
	loy_block_free(&blk);
	loy_buf_free(&nb);
	loy_buf_free(&nc);
	loy_buf_free(&tx);
	loy_buf_free(&tx2);
	fx_free(f);
	fx_free(g);
}

static void test_double_spend_in_one_block(void **state)
{
	struct fx *f = fx_new(2, 0);
	struct loy_buf b[2];
	(void)state;
	fx_register(f, 100);
	fx_rule(f, 0, 1, 1, 0);
	assert_int_equal(fx_issue(f, 0, 100, 100, "p1", "buy", NULL), 0);
	fx_redeem_tx(f, &b[0], 100, 1, 60, "r1");
	fx_redeem_tx(f, &b[1], 100, 0, 60, "r2");
	assert_int_equal(fx_commit(f, b, 2), 0);
	assert_int_equal(f->res[0].code, 0);
	assert_int_equal(f->res[1].code, LOY_REJ_INSUFFICIENT_POINTS);
	assert_string_equal(f->res[1].msg,
			    "insufficient points: balance 40, requested 60");
	assert_int_equal(fx_balance(f, 100), 40);
	fx_invariants(f);
	fx_free(f);
}

/* The seed model: buy 100 at A -> 100 points; redeem 60 at B, 40 at A. */
static void test_settlement_walkthrough(void **state)
{
	struct fx *f = fx_new(2, 0);
	struct loy_settlement a, b;
	(void)state;
	fx_register(f, 100);
	fx_rule(f, 0, 1, 1, 0);
	assert_int_equal(fx_issue(f, 0, 100, 100, "sale-1", "purchase", NULL),
			 0);
	assert_int_equal(fx_balance(f, 100), 100);
	assert_int_equal(fx_redeem(f, 100, 1, 60, "pay-1"), 0);
	assert_int_equal(fx_redeem(f, 100, 0, 40, "pay-2"), 0);
	assert_int_equal(fx_balance(f, 100), 0);
	assert_int_equal(loy_ledger_settlement(f->l, fx_key(f, 0)->id, &a), 0);
	assert_int_equal(loy_ledger_settlement(f->l, fx_key(f, 1)->id, &b), 0);
	assert_int_equal(a.owes, 100);
	assert_int_equal(a.owed, 40);
	assert_int_equal(a.net, -60);
	assert_int_equal(a.outstanding, 0);
	assert_int_equal(b.owes, 0);
	assert_int_equal(b.owed, 60);
	assert_int_equal(b.net, 60);
	fx_invariants(f);
	fx_free(f);
}

static void test_commission(void **state)
{
	struct fx *f = fx_new(2, 250); /* 2.5% */
	struct loy_settlement a, b;
	(void)state;
	fx_register(f, 100);
	fx_rule(f, 0, 1, 1, 0);
	assert_int_equal(fx_issue(f, 0, 100, 1000, "s", "buy", NULL), 0);
	assert_int_equal(fx_redeem(f, 100, 1, 400, "r1"), 0); /* at B: 10 */
	assert_int_equal(fx_redeem(f, 100, 0, 100, "r2"), 0); /* at A: none */
	assert_int_equal(loy_ledger_settlement(f->l, fx_key(f, 0)->id, &a), 0);
	assert_int_equal(loy_ledger_settlement(f->l, fx_key(f, 1)->id, &b), 0);
	assert_int_equal(b.commission_paid, 10);
	assert_int_equal(a.commission_earned, 10);
	assert_int_equal(b.net, 400 - 10);
	assert_int_equal(a.net, -1000 + 100 + 10);
	assert_int_equal(a.outstanding, 500);
	fx_invariants(f);
	fx_free(f);
}

static void test_queries(void **state)
{
	struct fx *f = fx_new(2, 0);
	uint8_t h[32];
	struct loy_tx_status st;
	struct loy_history_item it[3];
	uint64_t cursor = 0;
	uint32_t n, total = 0;
	(void)state;
	fx_register(f, 100);
	fx_rule(f, 0, 2, 1, 0);
	for (int i = 0; i < 7; i++) {
		char ref[16];
		snprintf(ref, sizeof ref, "s%d", i);
		assert_int_equal(
		    fx_issue(f, 0, 100, 10, ref, "buy", i == 3 ? h : NULL), 0);
	}
	assert_int_equal(fx_balance(f, 100), 140);
	assert_int_equal(loy_ledger_tx(f->l, h, &st), 0);
	assert_int_equal(st.kind, LOY_TX_REWARD_ISSUE);
	assert_int_equal(st.code, 0);
	assert_int_equal(st.height, 6);
	/* history newest first, 3 per page: 7 issues + registration */
	uint64_t last = UINT64_MAX;
	do {
		assert_int_equal(loy_ledger_history(f->l, fx_key(f, 100)->id,
						    &cursor, it, 3, &n),
				 0);
		for (uint32_t i = 0; i < n; i++) {
			assert_true(it[i].height < last);
			last = it[i].height;
		}
		total += n;
	} while (cursor);
	assert_int_equal(total, 8);
	struct loy_buf blk, cert;
	assert_int_equal(loy_ledger_block(f->l, 6, &blk, &cert), 0);
	assert_true(blk.len > 0 && cert.len > 0);
	loy_buf_free(&blk);
	loy_buf_free(&cert);
	assert_int_equal(loy_ledger_block(f->l, 99, &blk, NULL), LOY_ENOTFOUND);
	struct loy_daily d[4];
	uint32_t day = (uint32_t)(f->time_ms / 86400000u);
	assert_int_equal(
	    loy_ledger_daily(f->l, fx_key(f, 0)->id, day, day, d, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(d[0].issued, 140);
	assert_int_equal(d[0].active_customers, 1);
	assert_int_equal(d[0].txs, 7);
	assert_int_equal(d[0].outstanding, 140);
	struct loy_rule_info ri;
	assert_int_equal(loy_ledger_rule(f->l, fx_key(f, 0)->id, &ri), 0);
	assert_int_equal(ri.rate_num, 2);
	struct loy_totals tt;
	assert_int_equal(loy_ledger_totals(f->l, &tt), 0);
	assert_int_equal(tt.issued, 140);
	assert_int_equal(tt.customers, 1);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_genesis_and_tip),
	    cmocka_unit_test(test_reopen_keeps_state),
	    cmocka_unit_test(test_envelope_rules),
	    cmocka_unit_test(test_block_checks),
	    cmocka_unit_test(test_state_root_mismatch_halts),
	    cmocka_unit_test(test_double_spend_in_one_block),
	    cmocka_unit_test(test_settlement_walkthrough),
	    cmocka_unit_test(test_commission),
	    cmocka_unit_test(test_queries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
