/* When the ledger's group of committed blocks reaches data.mdb. Blocks
 * join the group as they are applied, each durable in the block log (see
 * LOY_LEDGER_GROUP); the group is flushed when it grows large or old, when
 * a client waits to read what it was told committed, when the chain goes
 * quiet (so that peers syncing and auditors reading the store see the
 * newest blocks), and when the node stops. */
#include "node/internal.h"
#include "node/unsynced.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/error.h"

#define GROUP_MAX_TXS 16384u
/* Record writes: each dirties at most one leaf page (and its path), held
 * in memory until the flush: at most 64 MiB of leaves. */
#define GROUP_MAX_WRITES 16384u
#define GROUP_MAX_BLOCKS 64u
#define GROUP_MAX_MS     100u /* from the group's first block */
/* A validator flushes at its slot (flush_slot.h), or at this age if its
 * slot is late (with 4 validators: heights slower than 25 ms) */
#define SLOT_WAIT_MS  500u
#define GROUP_IDLE_MS 1000u /* no block applied for this long */
/* Not larger for a node catching up, though fewer flushes would speed it
 * (1.3-1.5x at 4x these limits): LMDB reuses a freed page only two commits
 * later, so data.mdb keeps about twice the largest group's pages as slack
 * for good. At 4x, a caught-up store was 37% larger than its peers', and
 * make chaos filled a 256 MiB map. */

/* Ledger thread. A flush made for the group's own limits (not asked for)
 * of blocks caught up from peers only does not wait for the disk: a wiped
 * node spent a third of its catch-up in those fsyncs. data_dir/unsynced is
 * written durably first, so that a machine crash before the next durable
 * flush is found at the next start (node/unsynced.h); a process crash loses
 * nothing. Every other flush is durable and removes the marker. Votes wait
 * for a durable flush of caught-up blocks (loy_node_fetched_applied). */
static int flush_group(struct loy_node *n, bool asked,
		       struct loy_flush_stat *st)
{
	char err[512];
	int rv;

	if (!asked && loy_ledger_group_unlogged_only(n->ledger) &&
	    (n->unsynced_marked ||
	     loy_unsynced_mark(n->cfg.data_dir, err, sizeof err) == 0)) {
		n->unsynced_marked = true;
		return loy_ledger_flush_unsynced(n->ledger, &st->durable);
	}
	if (!asked && !n->unsynced_marked) {
		/* the disk is waited for on the pool (loy_node_flush_log) */
		rv = loy_ledger_flush_async(n->ledger, &st->background);
		st->durable = rv == 0;
		return rv;
	}
	rv = loy_ledger_flush(n->ledger);
	st->durable = rv == 0;
	if (rv == 0 && n->unsynced_marked) {
		/* the commit's fsync covered the earlier ones, unless there
		 * was no group to commit */
		rv = loy_ledger_sync(n->ledger);
		if (rv == 0 &&
		    loy_unsynced_clear(n->cfg.data_dir, err, sizeof err) == 0)
			n->unsynced_marked = false;
		st->durable = rv == 0;
	}
	return rv;
}

int loy_node_group_after_apply(struct loy_node *n,
			       const struct loy_flush_when *w,
			       struct loy_flush_stat *st)
{
	bool asked, due;
	uint64_t now = loy_node_now_ms(), writes, age, wait;
	int rv;

	memset(st, 0, sizeof *st);
	loy_ledger_group_size(n->ledger, &st->blocks, &st->txs, &writes);
	/* no group: the apply committed the block itself, durably */
	st->flushed = st->durable = st->blocks == 0;
	if (st->blocks == 0)
		return 0;
	if (st->blocks == 1)
		n->group_since_ms = now;
	/* A flush holds the ledger thread. A validator taking part in
	 * consensus flushes at its slot, when the others make the quorum
	 * without it; a node catching up, which votes on nothing, when its
	 * group is old. Either puts off a flush by age while it must build
	 * the next block. The group's limits and a client waiting to read
	 * flush it at once. */
	age = now - n->group_since_ms;
	wait = !w->fetched && w->validator ? SLOT_WAIT_MS : GROUP_MAX_MS;
	due = age >= 2 * wait || (age >= wait && !w->leads_next);
	if (st->txs < GROUP_MAX_TXS && st->blocks < GROUP_MAX_BLOCKS &&
	    writes < GROUP_MAX_WRITES && !atomic_load(&n->flush_wanted) &&
	    !due) {
		/* At its slot, the node first lets consensus know of the
		 * apply, so that it can check the next block (and tell its
		 * clients when that commits) before the flush holds it. */
		st->deferred = w->slot && !w->fetched;
		return 0;
	}
	asked = atomic_exchange(&n->flush_wanted, false);
	st->flushed = true;
	rv = flush_group(n, asked, st);
	st->ms = loy_node_now_ms() - now;
	return rv;
}

struct sync_job {
	struct loy_job job;
	uint64_t t0, ms;
	int rv;
	char err[512];
};

static void sync_run(struct loy_job *j)
{
	struct sync_job *s = (struct sync_job *)j;

	s->t0 = loy_node_now_ms();
	s->rv = loy_ledger_checkpoint(j->node->ledger);
	s->ms = loy_node_now_ms() - s->t0;
	if (s->rv != 0)
		snprintf(s->err, sizeof s->err, "%s",
			 loy_ledger_errmsg(j->node->ledger));
}

static void sync_done(struct loy_job *j)
{
	struct sync_job *s = (struct sync_job *)j;
	struct loy_node *n = j->node;

	loy_timing_add(&n->timing, LOY_T_SYNC, s->ms * 1000u);
	if (s->rv != 0) {
		/* the block log still holds the group: a restart applies it */
		LOG_ERR(&n->log, "chain",
			"cannot make data.mdb durable: %s: %s; stopping",
			loy_strerror(s->rv), s->err);
		loy_node_stop(n, 1);
	}
	free(s);
}

/* Loop thread: waits for an asynchronous flush on the pool. */
static void sync_queue(struct loy_node *n)
{
	struct sync_job *s = calloc(1, sizeof *s);

	if (s == NULL)
		return; /* the next commit waits for the disk itself */
	s->job.run = sync_run;
	s->job.done = sync_done;
	loy_node_pool_job(n, &s->job);
}

void loy_node_flush_log(struct loy_node *n, const struct loy_flush_stat *st)
{
	if (st->background && !n->stopping && !n->test_hold_sync)
		sync_queue(n);
	if (st->flushed && st->blocks > 0) {
		loy_timing_add(&n->timing, LOY_T_FLUSH, st->ms * 1000u);
		LOG_DEBUG(&n->log, "chain",
			  "wrote %u blocks (%u txs) to data.mdb in %llu ms",
			  st->blocks, st->txs, (unsigned long long)st->ms);
		loy_node_index_history(n);
	}
}

struct flush_job {
	struct loy_job job;
	uint64_t height; /* the group's tip: readers see it after the flush */
	struct loy_flush_stat st;
	int rv;
	char err[512];
};

static void flush_run(struct loy_job *j)
{
	struct flush_job *f = (struct flush_job *)j;
	struct loy_node *n = j->node;
	uint64_t t0 = loy_node_now_ms();

	/* a slot's flush is not asked for: it may leave the disk to the
	 * pool; a client's or the quiet chain's is durable */
	bool asked = atomic_exchange(&n->flush_wanted, false);
	if (loy_ledger_tip(n->ledger, &f->height, NULL, NULL, NULL) != 0)
		f->height = 0;
	loy_ledger_group_size(n->ledger, &f->st.blocks, &f->st.txs, NULL);
	f->st.flushed = true;
	f->rv = flush_group(n, asked, &f->st);
	f->st.ms = loy_node_now_ms() - t0;
	if (f->rv != 0)
		snprintf(f->err, sizeof f->err, "%s",
			 loy_ledger_errmsg(n->ledger));
}

static void flush_done(struct loy_job *j)
{
	struct flush_job *f = (struct flush_job *)j;
	struct loy_node *n = j->node;

	n->flush_queued = false;
	loy_node_flush_log(n, &f->st);
	if (f->rv != 0) {
		/* the block log still holds the group: a restart applies it */
		LOG_ERR(&n->log, "chain",
			"cannot write committed blocks to data.mdb: %s: %s; "
			"stopping",
			loy_strerror(f->rv), f->err);
		loy_node_stop(n, 1);
	} else {
		loy_node_group_flushed(n);
		if (f->height > n->visible_height) {
			n->visible_height = f->height;
			if (n->api)
				loy_client_api_release(n->api);
		}
	}
	free(f);
}

void loy_node_flush_soon(struct loy_node *n)
{
	atomic_store(&n->flush_wanted, true); /* an apply under way flushes */
	loy_node_flush_queue(n);
}

void loy_node_flush_queue(struct loy_node *n)
{
	struct flush_job *f;

	if (n->flush_queued || !n->worker_started)
		return;
	f = calloc(1, sizeof *f);
	if (f == NULL)
		return; /* the group still flushes when it grows or ages */
	f->job.run = flush_run;
	f->job.done = flush_done;
	n->flush_queued = true;
	loy_node_ledger_job(n, &f->job);
}

static void on_idle(uv_timer_t *t)
{
	loy_node_flush_soon(t->data);
}

void loy_node_group_idle(struct loy_node *n)
{
	if (!n->stopping)
		uv_timer_start(&n->group_timer, on_idle, GROUP_IDLE_MS, 0);
}
