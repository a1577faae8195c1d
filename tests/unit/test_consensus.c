/* Unit tests for the consensus core driven by hand: a one-node chain,
 * persist-before-send, restart safety, evidence, and leaving a view whose
 * leader cannot be reached (catching up: test_consensus_catchup.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "consensus/consensus.h"
#include "tests/unit/consensus_fix.h"
#include "wire/consensus_msg.h"
#include "wire/error.h"

static void test_single_node_chain(void **state)
{
	struct keys k;
	struct loy_cons_config cfg;
	struct loy_cons_start st;
	struct loy_cons *c;
	struct loy_cons_event ev;
	struct loy_cons_update up;
	struct loy_buf blk;
	uint8_t hash[32];
	struct loy_valset next;

	(void)state;
	make_keys(&k, 1);
	config(&cfg, k.sk[0]);
	start(&st, &k, 1, NULL);
	assert_int_equal(loy_cons_new(&c, &cfg, &st), 0);
	memset(&ev, 0, sizeof ev);
	ev.type = LOY_CONS_TXS_READY;
	ev.txs.count = 1;
	assert_int_equal(step(c, &ev, &up, 1000), 0);
	/* an idle chain (the height began long ago): proposed at once */
	assert_true(up.flags & LOY_CONS_UPDATE_BUILD);
	assert_int_equal(up.build.height, 1);
	block1(&blk, hash, k.pk[0], "tx1", up.build.time_ms);
	memset(&ev, 0, sizeof ev);
	ev.type = LOY_CONS_BLOCK_BUILT;
	ev.built.height = 1;
	ev.built.data = blk.data;
	ev.built.len = blk.len;
	assert_int_equal(step(c, &ev, &up, 1030), 0);
	/* n = 1: final at once; the proposal (not a vote) leaves at once,
	 * the votes only after the persist */
	assert_true(up.flags & LOY_CONS_UPDATE_PERSIST);
	assert_true(up.flags & LOY_CONS_UPDATE_COMMIT);
	assert_int_equal(up.n_sends, 1);
	assert_int_equal(count_kind(&up, LOY_CMSG_PROPOSE, NULL), 1);
	assert_memory_equal(up.commit.hash, hash, 32);
	assert_int_equal(
	    loy_cert_verify(up.commit.cert, (const uint8_t(*)[32])k.pk, 1, 1),
	    0);
	memset(&ev, 0, sizeof ev);
	ev.type = LOY_CONS_PERSISTED;
	ev.persisted.seq = up.persist_seq;
	assert_int_equal(step(c, &ev, &up, 1031), 0);
	assert_int_equal(count_kind(&up, LOY_CMSG_PROPOSE, NULL), 0);
	assert_int_equal(count_kind(&up, LOY_CMSG_PREPARE, hash), 1);
	assert_int_equal(count_kind(&up, LOY_CMSG_COMMIT, hash), 1);
	memset(&ev, 0, sizeof ev);
	ev.type = LOY_CONS_APPLIED;
	ev.applied.height = 1;
	start(&st, &k, 1, NULL);
	next = st.valset;
	ev.applied.next = &next;
	ev.applied.pending_txs = 1;
	assert_int_equal(step(c, &ev, &up, 1032), 0);
	assert_int_equal(loy_cons_height(c), 2);
	/* a busy chain (transactions waiting as height 2 begins): the block
	 * gathers for batch_ms from the start of the height */
	assert_false(up.flags & LOY_CONS_UPDATE_BUILD);
	assert_int_equal(up.timer_ms, 1032 + cfg.batch_ms);
	memset(&ev, 0, sizeof ev);
	ev.type = LOY_CONS_TXS_READY;
	ev.txs.count = 5;
	assert_int_equal(step(c, &ev, &up, 1033), 0);
	assert_false(up.flags & LOY_CONS_UPDATE_BUILD);
	memset(&ev, 0, sizeof ev);
	ev.type = LOY_CONS_TICK;
	assert_int_equal(step(c, &ev, &up, 1032 + cfg.batch_ms), 0);
	assert_true(up.flags & LOY_CONS_UPDATE_BUILD);
	assert_int_equal(up.build.height, 2);
	loy_buf_free(&blk);
	loy_cons_free(c);

	/* Restarted (it has a consensus record, here of an older height):
	 * it may have sent a view-0 proposal at height 1 before its record
	 * was durable, so it proposes there only after a view change. */
	{
		struct loy_cons_persist old;
		memset(&old, 0, sizeof old);
		start(&st, &k, 1, &old);
		assert_int_equal(loy_cons_new(&c, &cfg, &st), 0);
		memset(&ev, 0, sizeof ev);
		ev.type = LOY_CONS_TXS_READY;
		ev.txs.count = 1;
		assert_int_equal(step(c, &ev, &up, 5000), 0);
		assert_false(up.flags & LOY_CONS_UPDATE_BUILD);
		loy_cons_free(c);
	}
}

/* A PROPOSE of a height-1 block by validator 1, the leader of (1, 0) (memo
 * tells blocks apart); blk holds the block's bytes, which m points to. */
static void proposal1(struct loy_cmsg *m, struct loy_buf *blk, uint8_t hash[32],
		      const struct keys *k, const char *memo)
{
	block1(blk, hash, k->pk[1], memo, 1000);
	memset(m, 0, sizeof *m);
	m->kind = LOY_CMSG_PROPOSE;
	strcpy(m->chain_id, CHAIN);
	m->height = 1;
	m->block = *blk;
	assert_int_equal(loy_cmsg_sign(m, hash, k->sk[1]), 0);
}

/* Feeds one signed consensus message to c. */
static void deliver(struct loy_cons *c, const struct loy_cmsg *m,
		    struct loy_cons_update *up, uint64_t now)
{
	struct loy_cons_event ev;
	struct loy_buf enc;

	assert_int_equal(loy_cmsg_encode(m, &enc), 0);
	memset(&ev, 0, sizeof ev);
	ev.type = LOY_CONS_RECEIVE;
	ev.receive.data = enc.data;
	ev.receive.len = enc.len;
	assert_int_equal(step(c, &ev, up, now), 0);
	loy_buf_free(&enc);
}

static void checked(struct loy_cons *c, const uint8_t hash[32], int ok,
		    struct loy_cons_update *up, uint64_t now)
{
	struct loy_cons_event ev;

	memset(&ev, 0, sizeof ev);
	ev.type = LOY_CONS_BLOCK_CHECKED;
	memcpy(ev.checked.hash, hash, 32);
	ev.checked.ok = ok;
	assert_int_equal(step(c, &ev, up, now), 0);
}

static void persisted(struct loy_cons *c, uint64_t seq,
		      struct loy_cons_update *up, uint64_t now)
{
	struct loy_cons_event ev;

	memset(&ev, 0, sizeof ev);
	ev.type = LOY_CONS_PERSISTED;
	ev.persisted.seq = seq;
	assert_int_equal(step(c, &ev, up, now), 0);
}

/* Replica 2 of 4 writes the record that binds it to a proposal while its
 * node checks the block, and its PREPARE leaves only once both the check
 * has passed and the record is durable, in either order. */
static void test_prepare_after_check_and_record(void **state)
{
	struct keys k;
	struct loy_cons_config cfg;
	struct loy_cons_start st;
	struct loy_cons *c;
	struct loy_cons_update up;
	struct loy_buf blk;
	uint8_t hash[32];
	struct loy_cmsg m;
	uint64_t seq;

	(void)state;
	make_keys(&k, 4);
	config(&cfg, k.sk[2]);
	proposal1(&m, &blk, hash, &k, "a");

	/* the record is durable first, then the check passes */
	start(&st, &k, 4, NULL);
	assert_int_equal(loy_cons_new(&c, &cfg, &st), 0);
	deliver(c, &m, &up, 1001);
	assert_int_equal(up.n_checks, 1);
	assert_true(up.flags & LOY_CONS_UPDATE_PERSIST);
	assert_true(up.persist->voted_prepare);
	assert_memory_equal(up.persist->prepare_hash, hash, 32);
	seq = up.persist_seq;
	persisted(c, seq, &up, 1002);
	assert_int_equal(count_kind(&up, LOY_CMSG_PREPARE, NULL), 0);
	checked(c, hash, 1, &up, 1003);
	assert_int_equal(count_kind(&up, LOY_CMSG_PREPARE, hash), 1);
	assert_false(up.flags & LOY_CONS_UPDATE_PERSIST); /* no second write */
	loy_cons_free(c);

	/* the check passes first, then the record is durable */
	assert_int_equal(loy_cons_new(&c, &cfg, &st), 0);
	deliver(c, &m, &up, 1001);
	seq = up.persist_seq;
	checked(c, hash, 1, &up, 1002);
	assert_int_equal(count_kind(&up, LOY_CMSG_PREPARE, NULL), 0);
	persisted(c, seq, &up, 1003);
	assert_int_equal(count_kind(&up, LOY_CMSG_PREPARE, hash), 1);
	loy_cons_free(c);

	/* a block that fails its check never gets a PREPARE */
	assert_int_equal(loy_cons_new(&c, &cfg, &st), 0);
	deliver(c, &m, &up, 1001);
	seq = up.persist_seq;
	checked(c, hash, 0, &up, 1002);
	persisted(c, seq, &up, 1003);
	assert_int_equal(count_kind(&up, LOY_CMSG_PREPARE, NULL), 0);
	loy_cons_free(c);
	loy_buf_free(&blk);
}

/* Restarted from a record written before its block's check completed,
 * replica 2 signs nothing until the block is back and checked again, then
 * sends the same PREPARE; it never votes for another block at that height
 * and view. A record with a COMMIT is re-sent at once. */
static void test_persist_before_send_and_restart(void **state)
{
	struct keys k;
	struct loy_cons_config cfg;
	struct loy_cons_start st;
	struct loy_cons *c;
	struct loy_cons_event ev;
	struct loy_cons_update up;
	struct loy_cons_persist rec;
	struct loy_buf blk, blk2;
	uint8_t hash[32], hash2[32];
	struct loy_cmsg m, m2;

	(void)state;
	make_keys(&k, 4);
	config(&cfg, k.sk[2]);
	start(&st, &k, 4, NULL);
	assert_int_equal(loy_cons_new(&c, &cfg, &st), 0);
	proposal1(&m, &blk, hash, &k, "a");
	deliver(c, &m, &up, 1001);
	assert_int_equal(up.n_checks, 1);
	assert_int_equal(count_kind(&up, LOY_CMSG_PREPARE, NULL), 0);
	assert_true(up.flags & LOY_CONS_UPDATE_PERSIST);
	rec = *up.persist;
	assert_true(rec.voted_prepare);
	assert_memory_equal(rec.prepare_hash, hash, 32);
	checked(c, hash, 1, &up, 1002);
	assert_int_equal(up.n_sends, 0); /* held until durable */
	loy_cons_free(c); /* crash before the persist completed: no vote out */

	/* restart from the record: no vote before the block is checked */
	start(&st, &k, 4, &rec);
	assert_int_equal(loy_cons_new(&c, &cfg, &st), 0);
	memset(&ev, 0, sizeof ev);
	ev.type = LOY_CONS_TICK;
	assert_int_equal(step(c, &ev, &up, 1003), 0);
	assert_int_equal(count_kind(&up, LOY_CMSG_PREPARE, NULL), 0);
	/* a conflicting block from the same leader and view gets no vote */
	proposal1(&m2, &blk2, hash2, &k, "b");
	deliver(c, &m2, &up, 1004);
	assert_int_equal(up.n_checks, 0);
	assert_int_equal(count_kind(&up, LOY_CMSG_PREPARE, NULL), 0);
	/* the leader re-sends its proposal: checked again, then voted */
	deliver(c, &m, &up, 1005);
	assert_int_equal(up.n_checks, 1);
	assert_false(up.flags & LOY_CONS_UPDATE_PERSIST); /* already bound */
	checked(c, hash, 1, &up, 1006);
	assert_int_equal(count_kind(&up, LOY_CMSG_PREPARE, hash), 1);
	loy_cons_free(c);

	/* a record with a COMMIT: both votes leave again at once */
	rec.voted_commit = 1;
	memcpy(rec.commit_hash, hash, 32);
	start(&st, &k, 4, &rec);
	assert_int_equal(loy_cons_new(&c, &cfg, &st), 0);
	memset(&ev, 0, sizeof ev);
	ev.type = LOY_CONS_TICK;
	assert_int_equal(step(c, &ev, &up, 1003), 0);
	assert_int_equal(count_kind(&up, LOY_CMSG_PREPARE, hash), 1);
	assert_int_equal(count_kind(&up, LOY_CMSG_COMMIT, hash), 1);
	loy_buf_free(&blk);
	loy_buf_free(&blk2);
	loy_cons_free(c);
}

static void send_vote(struct loy_cons *c, const struct keys *k, uint32_t who,
		      uint8_t type, const uint8_t hash[32],
		      struct loy_cons_update *up)
{
	struct loy_vote v;
	struct loy_cmsg m;
	struct loy_buf enc;
	struct loy_cons_event ev;

	memset(&v, 0, sizeof v);
	v.type = type;
	strcpy(v.chain_id, CHAIN);
	v.height = 1;
	memcpy(v.block_hash, hash, 32);
	assert_int_equal(loy_vote_sign(&v, k->sk[who]), 0);
	loy_cmsg_from_vote(&m, &v);
	assert_int_equal(loy_cmsg_encode(&m, &enc), 0);
	memset(&ev, 0, sizeof ev);
	ev.type = LOY_CONS_RECEIVE;
	ev.receive.data = enc.data;
	ev.receive.len = enc.len;
	assert_int_equal(step(c, &ev, up, 1010), 0);
	loy_buf_free(&enc);
}

/* Two COMMITs of one validator for different blocks are evidence, and
 * that validator no longer counts towards a quorum. */
static void test_equivocation_is_evidence(void **state)
{
	struct keys k;
	struct loy_cons *c;
	struct loy_cons_update up;
	uint8_t a[32], b[32];

	(void)state;
	memset(a, 0xaa, 32);
	memset(b, 0xbb, 32);
	make_keys(&k, 4);
	c = new_core(&k, 4, 0);
	send_vote(c, &k, 1, LOY_VOTE_COMMIT, a, &up);
	assert_int_equal(up.n_evidence, 0);
	send_vote(c, &k, 1, LOY_VOTE_COMMIT, b, &up);
	assert_int_equal(up.n_evidence, 1);
	assert_memory_equal(up.evidence[0].validator, k.pk[1], 32);
	/* 1 (excluded), 2 and 3 for a: two honest votes are not a quorum
	 * of three, so nothing is final (and the block is unknown anyway:
	 * no fetch is asked of validator 1) */
	send_vote(c, &k, 2, LOY_VOTE_COMMIT, a, &up);
	send_vote(c, &k, 3, LOY_VOTE_COMMIT, b, &up);
	assert_false(up.flags & LOY_CONS_UPDATE_COMMIT);
	assert_false(up.flags & LOY_CONS_UPDATE_FETCH);
	loy_cons_free(c);
}

/* Validator 2 of 4 with transactions waiting, told that the validators in
 * `down` cannot be reached: whether it leaves view 0 (persisting its
 * VIEW-CHANGE for view 1) well before view 0's timeout. */
static int leaves_view_early(const struct keys *k, const uint32_t *down,
			     uint32_t n_down)
{
	struct loy_cons *c = new_core(k, 4, 2);
	struct loy_cons_event ev;
	struct loy_cons_update up;
	uint8_t keys[4][32];
	int left;

	memset(&ev, 0, sizeof ev);
	ev.type = LOY_CONS_TXS_READY;
	ev.txs.count = 1;
	assert_int_equal(step(c, &ev, &up, 1001), 0);
	assert_false(up.flags & LOY_CONS_UPDATE_PERSIST);
	for (uint32_t i = 0; i < n_down; i++)
		memcpy(keys[i], k->pk[down[i]], 32);
	memset(&ev, 0, sizeof ev);
	ev.type = LOY_CONS_UNREACHABLE;
	ev.unreachable.count = n_down;
	ev.unreachable.keys = (const uint8_t(*)[32])keys;
	assert_int_equal(step(c, &ev, &up, 1002), 0);
	left = (up.flags & LOY_CONS_UPDATE_PERSIST) &&
	       up.persist->in_view_change && up.persist->view == 1;
	if (left) {
		/* the VIEW-CHANGE leaves once its record is durable */
		uint64_t seq = up.persist_seq;
		memset(&ev, 0, sizeof ev);
		ev.type = LOY_CONS_PERSISTED;
		ev.persisted.seq = seq;
		assert_int_equal(step(c, &ev, &up, 1003), 0);
		assert_int_equal(count_kind(&up, LOY_CMSG_VIEW_CHANGE, NULL),
				 1);
	}
	loy_cons_free(c);
	return left;
}

static void test_unreachable_leader_is_skipped(void **state)
{
	struct keys k;
	const uint32_t leader[] = {1}, other[] = {3}, two[] = {1, 3};

	(void)state;
	make_keys(&k, 4);
	/* the leader of (1, 0) is validator 1 */
	assert_true(leaves_view_early(&k, leader, 1));
	assert_false(leaves_view_early(&k, other, 1));
	/* with two of four out of reach there is no quorum to change to:
	 * the timeout decides, as before */
	assert_false(leaves_view_early(&k, two, 2));
	assert_false(leaves_view_early(&k, NULL, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_single_node_chain),
	    cmocka_unit_test(test_prepare_after_check_and_record),
	    cmocka_unit_test(test_persist_before_send_and_restart),
	    cmocka_unit_test(test_equivocation_is_evidence),
	    cmocka_unit_test(test_unreachable_leader_is_skipped),
	};

	if (loy_crypto_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
