/* A chain of NBLOCKS blocks built on one store, to apply to others: the
 * crash and checkpoint tests. Define NBLOCKS before including. */
#ifndef LOY_TEST_LEDGER_CHAIN_H
#define LOY_TEST_LEDGER_CHAIN_H

#include <pthread.h>

#include "tests/unit/test_ledger_fix.h"

struct chain {
	struct loy_buf block[NBLOCKS + 1], cert[NBLOCKS + 1];
	uint8_t root[NBLOCKS + 1][32], hash[NBLOCKS + 1][32];
};

static void build_chain(struct fx *f, struct chain *ch)
{
	struct loy_tx tx;
	struct loy_buf b[32];
	for (unsigned i = 0; i < 8; i++)
		fx_register(f, 100 + i);
	fx_rule(f, 0, 1, 1, 0);
	uint64_t h0;
	assert_int_equal(loy_ledger_tip(f->l, &h0, NULL, NULL, NULL), 0);
	for (uint64_t h = h0 + 1; h <= NBLOCKS; h++) {
		for (unsigned j = 0; j < 16; j++) {
			unsigned c = 100 + j % 8;
			char ref[32];
			snprintf(ref, sizeof ref, "b%llu-%u",
				 (unsigned long long)h, j);
			if (j % 3 == 2) {
				fx_redeem_tx(f, &b[j], c, 1, 5, ref);
				continue;
			}
			fx_tx(f, &tx, LOY_TX_REWARD_ISSUE, 0);
			memcpy(tx.u.reward_issue.customer, fx_key(f, c)->id,
			       20);
			tx.u.reward_issue.purchase = 10 + j;
			snprintf(tx.u.reward_issue.reference, 32, "%s", ref);
			fx_enc(f, &tx, 0, &b[j]);
		}
		f->time_ms += 1000;
		assert_int_equal(fx_commit(f, b, 16), 0);
	}
	for (uint64_t h = 1; h <= NBLOCKS; h++) {
		struct loy_block blk;
		assert_int_equal(
		    loy_ledger_block(f->l, h, &ch->block[h], &ch->cert[h]), 0);
		assert_int_equal(
		    loy_block_decode(&blk, ch->block[h].data, ch->block[h].len),
		    0);
		memcpy(ch->root[h], blk.header.state_root, 32);
		assert_int_equal(
		    loy_block_header_hash(&blk.header, ch->hash[h]), 0);
		loy_block_free(&blk);
	}
}

static void chain_free(struct chain *ch)
{
	for (int i = 1; i <= NBLOCKS; i++) {
		loy_buf_free(&ch->block[i]);
		loy_buf_free(&ch->cert[i]);
	}
	free(ch);
}

/* Asserts l's tip is block want of ch, with its state root. */
static void assert_tip(struct loy_ledger *l, const struct chain *ch,
		       uint64_t want)
{
	uint64_t h;
	uint8_t root[32];

	assert_int_equal(loy_ledger_tip(l, &h, NULL, root, NULL), 0);
	assert_int_equal(h, want);
	assert_memory_equal(root, ch->root[want], 32);
}

/* Applies block h of ch with flags; the ledger's return code. */
static int apply_h(struct loy_ledger *l, const struct chain *ch, uint64_t h,
		   unsigned flags)
{
	return loy_ledger_apply_block(l, ch->block[h].data, ch->block[h].len,
				      ch->cert[h].data, ch->cert[h].len, flags,
				      NULL);
}

struct reader {
	struct loy_ledger *l;
	uint64_t tip;
};

static void *read_tip(void *arg)
{
	struct reader *r = arg;
	assert_int_equal(loy_ledger_tip(r->l, &r->tip, NULL, NULL, NULL), 0);
	return NULL;
}

static uint64_t tip_elsewhere(struct loy_ledger *l)
{
	struct reader r = {l, 0};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, read_tip, &r), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	return r.tip;
}

/* A fresh store in d's directory, at genesis, closed. */
static void reopen_fresh(struct fx *d)
{
	if (d->l)
		loy_ledger_close(d->l);
	d->l = NULL;
	fx_rmdir(d->dir);
	assert_int_equal(mkdir(d->dir, 0700), 0);
	assert_int_equal(fx_open_dir(d, d->dir, LOY_LEDGER_GROUP), 0);
	assert_int_equal(loy_ledger_init_genesis(d->l, &d->g), 0);
	loy_ledger_close(d->l);
	d->l = NULL;
}

/* Closes d's ledger if open and frees a test's fixtures. */
static void teardown(struct fx *f, struct chain *ch, struct fx *d)
{
	if (d->l)
		loy_ledger_close(d->l);
	d->l = NULL;
	chain_free(ch);
	fx_free(d);
	fx_free(f);
}

#endif
