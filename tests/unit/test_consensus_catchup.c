/* Unit tests of the consensus core catching up, driven by hand: blocks
 * taken only with certificates that verify, empty sync answers asked
 * again, the next run asked for ahead, and the next block checked while
 * one is applied. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "consensus/consensus.h"
#include "consensus/core.h" /* CONS_EMPTY_RETRY_MS, CONS_EMPTY_RETRIES */
#include "tests/unit/consensus_fix.h"
#include "wire/consensus_msg.h"
#include "wire/error.h"

/* Catch-up takes a block only with a commit certificate that verifies
 * against the validator set of its height. */
static void test_catch_up_checks_certificates(void **state)
{
	struct keys k, strangers;
	struct loy_cons *c;
	struct loy_cons_event ev;
	struct loy_cons_update up;
	struct loy_buf blk;
	uint8_t hash[32];
	struct loy_cert good, bad;
	struct loy_cons_fetched f;

	(void)state;
	make_keys(&k, 4);
	memset(&strangers, 0, sizeof strangers);
	for (uint32_t i = 0; i < 4; i++) {
		uint8_t seed[32] = {0};
		seed[0] = (uint8_t)(100 + i);
		loy_keypair_from_seed(strangers.pk[i], strangers.sk[i], seed);
	}
	block1(&blk, hash, k.pk[1], "x", 900);
	memset(&good, 0, sizeof good);
	memset(&bad, 0, sizeof bad);
	for (uint32_t i = 1; i < 4; i++) {
		struct loy_vote v;

		memset(&v, 0, sizeof v);
		v.type = LOY_VOTE_COMMIT;
		strcpy(v.chain_id, CHAIN);
		v.height = 1;
		memcpy(v.block_hash, hash, 32);
		assert_int_equal(loy_vote_sign(&v, k.sk[i]), 0);
		assert_int_equal(loy_cert_add(&good, &v), 0);
		assert_int_equal(loy_vote_sign(&v, strangers.sk[i]), 0);
		assert_int_equal(loy_cert_add(&bad, &v), 0);
	}
	c = new_core(&k, 4, 0);
	f.block = blk.data;
	f.block_len = blk.len;
	f.cert = &bad;
	memset(&ev, 0, sizeof ev);
	ev.type = LOY_CONS_FETCHED;
	ev.fetched.count = 1;
	ev.fetched.blocks = &f;
	assert_int_equal(step(c, &ev, &up, 1000), 0);
	assert_false(up.flags & LOY_CONS_UPDATE_COMMIT);
	f.cert = &good;
	assert_int_equal(step(c, &ev, &up, 1001), 0);
	assert_true(up.flags & LOY_CONS_UPDATE_COMMIT);
	assert_memory_equal(up.commit.hash, hash, 32);
	loy_buf_free(&blk);
	loy_cons_free(c);
}

/* A sync answer that is empty (the peer is still deciding the height we
 * need) is asked again CONS_EMPTY_RETRY_MS later without any other
 * trigger, a bounded number of times: a node one height behind that leads
 * the next height would otherwise hold the cluster until resend_ms. */
static void test_empty_answer_is_asked_again(void **state)
{
	struct keys k;
	struct loy_cons *c;
	struct loy_cons_event ev;
	struct loy_cons_update up;
	struct loy_cmsg m;
	struct loy_buf enc;
	uint64_t now = 2000;
	uint32_t asked = 0;

	(void)state;
	make_keys(&k, 4);
	c = new_core(&k, 4, 0);
	/* validator 2 has finished height 1: ask it */
	memset(&m, 0, sizeof m);
	m.kind = LOY_CMSG_STATUS;
	strcpy(m.chain_id, CHAIN);
	m.height = 1;
	memcpy(m.sender, k.pk[2], 32);
	assert_int_equal(loy_cmsg_encode(&m, &enc), 0);
	memset(&ev, 0, sizeof ev);
	ev.type = LOY_CONS_RECEIVE;
	ev.receive.data = enc.data;
	ev.receive.len = enc.len;
	assert_int_equal(step(c, &ev, &up, now), 0);
	loy_buf_free(&enc);
	assert_true(up.flags & LOY_CONS_UPDATE_FETCH);
	assert_memory_equal(up.fetch.peer, k.pk[2], 32);
	for (;;) {
		memset(&ev, 0, sizeof ev);
		ev.type = LOY_CONS_FETCHED; /* nothing from there yet */
		assert_int_equal(step(c, &ev, &up, ++now), 0);
		assert_false(up.flags & LOY_CONS_UPDATE_FETCH);
		memset(&ev, 0, sizeof ev);
		ev.type = LOY_CONS_TICK;
		assert_int_equal(
		    step(c, &ev, &up, now + CONS_EMPTY_RETRY_MS - 1), 0);
		assert_false(up.flags & LOY_CONS_UPDATE_FETCH);
		now += CONS_EMPTY_RETRY_MS;
		assert_int_equal(step(c, &ev, &up, now), 0);
		if (!(up.flags & LOY_CONS_UPDATE_FETCH))
			break;
		assert_memory_equal(up.fetch.peer, k.pk[2], 32);
		assert_int_equal(up.fetch.from_height, 1);
		asked++;
	}
	assert_int_equal(asked, CONS_EMPTY_RETRIES);
	loy_cons_free(c);
}

/* Catch-up asks for the next run once fewer than half a run's blocks are
 * left to apply, from the height after the last one held, and only once:
 * a catching-up node never waits a round trip between runs. */
/* Blocks 1..n of one transaction each, with commit certificates signed by
 * validators 1-3 of k, as a peer would serve them (f[h - 1] for block h). */
static void fetched_chain(const struct keys *k, uint64_t n, struct loy_buf *blk,
			  struct loy_cert *cert, struct loy_cons_fetched *f)
{
	uint8_t prev[32] = {0};

	for (uint64_t h = 1; h <= n; h++) {
		struct loy_block b;
		struct loy_buf t = {(uint8_t *)"tx", 2};
		uint8_t hash[32];

		memset(&b, 0, sizeof b);
		strcpy(b.header.chain_id, CHAIN);
		b.header.height = h;
		b.header.time_ms = 900 + h;
		memcpy(b.header.prev_hash, prev, 32);
		memcpy(b.header.proposer, k->pk[h % 4], 32);
		b.tx_count = 1;
		b.txs = &t;
		loy_tx_root(b.header.tx_root, &t, 1);
		assert_int_equal(loy_block_encode(&b, &blk[h]), 0);
		assert_int_equal(loy_block_header_hash(&b.header, hash), 0);
		memcpy(prev, hash, 32);
		memset(&cert[h], 0, sizeof cert[h]);
		for (uint32_t i = 1; i < 4; i++) {
			struct loy_vote v;
			memset(&v, 0, sizeof v);
			v.type = LOY_VOTE_COMMIT;
			strcpy(v.chain_id, CHAIN);
			v.height = h;
			memcpy(v.block_hash, hash, 32);
			assert_int_equal(loy_vote_sign(&v, k->sk[i]), 0);
			assert_int_equal(loy_cert_add(&cert[h], &v), 0);
		}
		f[h - 1].block = blk[h].data;
		f[h - 1].block_len = blk[h].len;
		f[h - 1].cert = &cert[h];
	}
}

/* The core told of n fetched blocks, of block h applied, of time passing. */
static void fetched_step(struct loy_cons *c, const struct loy_cons_fetched *f,
			 uint32_t n, struct loy_cons_update *up, uint64_t now)
{
	struct loy_cons_event ev;

	memset(&ev, 0, sizeof ev);
	ev.type = LOY_CONS_FETCHED;
	ev.fetched.count = n;
	ev.fetched.blocks = f;
	assert_int_equal(step(c, &ev, up, now), 0);
}

static void applied_step(struct loy_cons *c, uint64_t h,
			 const struct loy_valset *next,
			 struct loy_cons_update *up, uint64_t now)
{
	struct loy_cons_event ev;

	memset(&ev, 0, sizeof ev);
	ev.type = LOY_CONS_APPLIED;
	ev.applied.height = h;
	ev.applied.next = next;
	assert_int_equal(step(c, &ev, up, now), 0);
}

static void tick_step(struct loy_cons *c, struct loy_cons_update *up,
		      uint64_t now)
{
	struct loy_cons_event ev;

	memset(&ev, 0, sizeof ev);
	ev.type = LOY_CONS_TICK;
	assert_int_equal(step(c, &ev, up, now), 0);
}

/* Validator 0 of 4, told of blocks 1..n served by a peer (see
 * fetched_chain): the core and its update; *next is the set every block
 * keeps. */
static struct loy_cons *catching_up(uint64_t n, struct loy_buf *blk,
				    struct loy_cert *cert,
				    struct loy_cons_fetched *f,
				    struct loy_valset *next,
				    struct loy_cons_update *up)
{
	struct keys k;
	struct loy_cons_config cfg;
	struct loy_cons_start st;
	struct loy_cons *c;

	make_keys(&k, 4);
	fetched_chain(&k, n, blk, cert, f);
	config(&cfg, k.sk[0]);
	start(&st, &k, 4, NULL);
	*next = st.valset;
	assert_int_equal(loy_cons_new(&c, &cfg, &st), 0);
	fetched_step(c, f, (uint32_t)n, up, 1000);
	return c;
}

static void test_catch_up_asks_ahead(void **state)
{
	enum { N = 40 };
	struct loy_cons *c;
	struct loy_cons_update up;
	struct loy_buf blk[N + 1];
	struct loy_cert cert[N + 1];
	struct loy_cons_fetched f[N];
	struct loy_valset next;
	uint32_t asked = 0;

	(void)state;
	c = catching_up(N, blk, cert, f, &next, &up);
	assert_true(up.flags & LOY_CONS_UPDATE_COMMIT);
	assert_int_equal(up.commit.height, 1);
	assert_false(up.flags & LOY_CONS_UPDATE_FETCH); /* 39 held */
	for (uint64_t h = 1; h < N; h++) {
		applied_step(c, h, &next, &up, 1000 + h);
		assert_true(up.flags & LOY_CONS_UPDATE_COMMIT);
		assert_int_equal(up.commit.height, h + 1);
		assert_true(up.commit.fetched);
		if (up.flags & LOY_CONS_UPDATE_FETCH) {
			/* at most half a run left: blocks h+2..N */
			assert_true(N - (h + 1) <= LOY_MAX_SYNC_BLOCKS / 2);
			assert_int_equal(up.fetch.from_height, N + 1);
			asked++;
		}
	}
	assert_int_equal(asked, 1);
	for (uint64_t h = 1; h <= N; h++)
		loy_buf_free(&blk[h]);
	loy_cons_free(c);
}

/* While a caught-up block applies, the core checks the next one's
 * certificate (on the step the node makes for LOY_CONS_UPDATE_AGAIN), so
 * that LOY_CONS_APPLIED hands the next block out with no signature left to
 * check: the node's ledger does not wait for them between blocks. */
static void test_catch_up_checks_next_while_applying(void **state)
{
	enum { N = 3 };
	struct loy_cons *c;
	struct loy_cons_update up;
	struct loy_buf blk[N + 1];
	struct loy_cert cert[N + 1];
	struct loy_cons_fetched f[N];
	struct loy_valset next;
	uint64_t checks;

	(void)state;
	c = catching_up(N, blk, cert, f, &next, &up);
	assert_true(up.flags & LOY_CONS_UPDATE_COMMIT);
	assert_int_equal(up.commit.height, 1);
	assert_true(up.flags & LOY_CONS_UPDATE_AGAIN);
	checks = c->sig_checks;
	assert_int_equal(checks, 3); /* block 1's certificate */

	tick_step(c, &up, 1001);
	assert_false(up.flags & LOY_CONS_UPDATE_COMMIT); /* 1 still applies */
	assert_false(up.flags & LOY_CONS_UPDATE_AGAIN);
	assert_int_equal(c->sig_checks, checks + 3); /* block 2's, now */
	checks = c->sig_checks;

	applied_step(c, 1, &next, &up, 1002);
	assert_true(up.flags & LOY_CONS_UPDATE_COMMIT);
	assert_int_equal(up.commit.height, 2);
	assert_int_equal(c->sig_checks, checks); /* nothing left to check */
	assert_true(up.flags & LOY_CONS_UPDATE_AGAIN); /* block 3's, next */

	/* the last block: nothing after it to check */
	tick_step(c, &up, 1003);
	applied_step(c, 2, &next, &up, 1004);
	assert_int_equal(up.commit.height, 3);
	checks = c->sig_checks;
	tick_step(c, &up, 1005);
	assert_int_equal(c->sig_checks, checks);
	for (uint64_t h = 1; h <= N; h++)
		loy_buf_free(&blk[h]);
	loy_cons_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_catch_up_checks_certificates),
	    cmocka_unit_test(test_catch_up_asks_ahead),
	    cmocka_unit_test(test_catch_up_checks_next_while_applying),
	    cmocka_unit_test(test_empty_answer_is_asked_again),
	};

	if (loy_crypto_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
