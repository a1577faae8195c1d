/* Unit tests for the consensus core driven by hand: a one-node chain,
 * persist-before-send, restart safety, evidence and catch-up checks. */
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
#include "wire/consensus_msg.h"
#include "wire/error.h"

#define CHAIN "unit-chain"

struct keys {
	uint8_t pk[8][32], sk[8][64];
};

static void make_keys(struct keys *k, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uint8_t seed[32] = {0};
		seed[0] = (uint8_t)(i + 1);
		loy_keypair_from_seed(k->pk[i], k->sk[i], seed);
	}
}

static void config(struct loy_cons_config *c, const uint8_t sk[64])
{
	memset(c, 0, sizeof *c);
	loy_cons_config_default(c);
	strcpy(c->chain_id, CHAIN);
	memcpy(c->sk, sk, 64);
}

static void start(struct loy_cons_start *st, const struct keys *k, uint32_t n,
		  const struct loy_cons_persist *p)
{
	memset(st, 0, sizeof *st);
	st->valset.n = n;
	for (uint32_t i = 0; i < n; i++)
		memcpy(st->valset.keys[i], k->pk[i], 32);
	st->persist = p;
	st->now_ms = 1000;
}

/* A block at height 1 (on genesis) with one tx, proposed by pk. */
static void block1(struct loy_buf *out, uint8_t hash[32], const uint8_t pk[32],
		   const char *tx, uint64_t time_ms)
{
	struct loy_block b;
	struct loy_buf t = {(uint8_t *)tx, strlen(tx)};

	memset(&b, 0, sizeof b);
	strcpy(b.header.chain_id, CHAIN);
	b.header.height = 1;
	b.header.time_ms = time_ms;
	memcpy(b.header.proposer, pk, 32);
	b.tx_count = 1;
	b.txs = &t;
	loy_tx_root(b.header.tx_root, &t, 1);
	assert_int_equal(loy_block_encode(&b, out), 0);
	assert_int_equal(loy_block_header_hash(&b.header, hash), 0);
}

static int step(struct loy_cons *c, struct loy_cons_event *ev,
		struct loy_cons_update *up, uint64_t now)
{
	ev->now_ms = now;
	return loy_cons_step(c, ev, up);
}

static int count_kind(const struct loy_cons_update *up, uint8_t kind,
		      const uint8_t *hash)
{
	int n = 0;

	for (uint32_t i = 0; i < up->n_sends; i++) {
		struct loy_cmsg m;
		if (loy_cmsg_decode(&m, up->sends[i].data, up->sends[i].len))
			continue;
		if (m.kind == kind &&
		    (hash == NULL || !memcmp(m.hash, hash, 32)))
			n++;
		loy_cmsg_free(&m);
	}
	return n;
}

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
	struct loy_cons_config cfg;
	struct loy_cons_start st;
	struct loy_cons *c;
	struct loy_cons_update up;
	uint8_t a[32], b[32];

	(void)state;
	memset(a, 0xaa, 32);
	memset(b, 0xbb, 32);
	make_keys(&k, 4);
	config(&cfg, k.sk[0]);
	start(&st, &k, 4, NULL);
	assert_int_equal(loy_cons_new(&c, &cfg, &st), 0);
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

/* Catch-up takes a block only with a commit certificate that verifies
 * against the validator set of its height. */
static void test_catch_up_checks_certificates(void **state)
{
	struct keys k, strangers;
	struct loy_cons_config cfg;
	struct loy_cons_start st;
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
	config(&cfg, k.sk[0]);
	start(&st, &k, 4, NULL);
	assert_int_equal(loy_cons_new(&c, &cfg, &st), 0);
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
	struct loy_cons_config cfg;
	struct loy_cons_start st;
	struct loy_cons *c;
	struct loy_cons_event ev;
	struct loy_cons_update up;
	struct loy_cmsg m;
	struct loy_buf enc;
	uint64_t now = 2000;
	uint32_t asked = 0;

	(void)state;
	make_keys(&k, 4);
	config(&cfg, k.sk[0]);
	start(&st, &k, 4, NULL);
	assert_int_equal(loy_cons_new(&c, &cfg, &st), 0);
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

/* Validator 2 of 4 with transactions waiting, told that the validators in
 * `down` cannot be reached: whether it leaves view 0 (persisting its
 * VIEW-CHANGE for view 1) well before view 0's timeout. */
static int leaves_view_early(const struct keys *k, const uint32_t *down,
			     uint32_t n_down)
{
	struct loy_cons_config cfg;
	struct loy_cons_start st;
	struct loy_cons *c;
	struct loy_cons_event ev;
	struct loy_cons_update up;
	uint8_t keys[4][32];
	int left;

	config(&cfg, k->sk[2]);
	start(&st, k, 4, NULL);
	assert_int_equal(loy_cons_new(&c, &cfg, &st), 0);
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
	    cmocka_unit_test(test_catch_up_checks_certificates),
	    cmocka_unit_test(test_catch_up_asks_ahead),
	    cmocka_unit_test(test_catch_up_checks_next_while_applying),
	    cmocka_unit_test(test_empty_answer_is_asked_again),
	    cmocka_unit_test(test_unreachable_leader_is_skipped),
	};

	if (loy_crypto_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
