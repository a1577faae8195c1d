/* Writing the consensus record before a vote leaves (one write in flight,
 * the newest record waiting behind it), and making block commits that did
 * not wait for the disk durable before the next record replaces the one
 * that may hold the only other copy of the last block. */
#include "node/internal.h"
#include "node/unsynced.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/error.h"

/* --- persisting the consensus record --- */

struct persist_job {
	struct loy_job job;
	struct loy_persist_copy rec;
	int rv;
	char err[256];
};

static void persist_start(struct loy_node *n);

static void persist_run(struct loy_job *j)
{
	struct persist_job *p = (struct persist_job *)j;
	p->rv = loy_persist_write(j->node->persist_file, &p->rec, p->err,
				  sizeof p->err);
}

static void persist_done(struct loy_job *j)
{
	struct persist_job *p = (struct persist_job *)j;
	struct loy_node *n = j->node;
	uint64_t seq = p->rec.seq;

	n->persist_busy = false;
	if (p->rv != 0) {
		/* Without a durable record no vote may leave: stop loudly. */
		LOG_ERR(&n->log, "persist", "%s; stopping", p->err);
		loy_persist_copy_free(&p->rec);
		free(p);
		loy_node_stop(n, 1);
		return;
	}
	loy_persist_copy_free(&p->rec);
	free(p);
	if (!n->stopping) {
		struct loy_cons_event ev = {.type = LOY_CONS_PERSISTED};
		ev.persisted.seq = seq;
		loy_node_cons_event(n, &ev);
	}
	persist_start(n);
}

/* --- making non-durable block commits durable --- */

struct sync_job {
	struct loy_job job;
	uint64_t upto;
	int rv;
};

static void sync_start(struct loy_node *n);

static void sync_run(struct loy_job *j)
{
	struct sync_job *s = (struct sync_job *)j;
	s->rv = loy_ledger_sync(j->node->ledger);
}

static void sync_done(struct loy_job *j)
{
	struct sync_job *s = (struct sync_job *)j;
	struct loy_node *n = j->node;

	n->sync_busy = false;
	if (s->rv != 0) {
		LOG_ERR(&n->log, "chain",
			"cannot flush the ledger to disk: %s; "
			"stopping",
			loy_strerror(s->rv));
		free(s);
		loy_node_stop(n, 1);
		return;
	}
	n->synced_nosync = s->upto;
	free(s);
	if (n->unsynced_marked && n->fetched_inflight == 0 &&
	    n->synced_nosync >= n->fetched_upto) {
		char err[1200];
		if (loy_unsynced_clear(n->cfg.data_dir, err, sizeof err) == 0)
			n->unsynced_marked = false;
		else
			LOG_WARN(&n->log, "chain", "%s", err);
	}
	sync_start(n);
	persist_start(n);
}

static void sync_start(struct loy_node *n)
{
	struct sync_job *s;

	if (n->sync_busy || n->synced_nosync == n->applied_nosync ||
	    n->stopping)
		return;
	s = calloc(1, sizeof *s);
	if (s == NULL) {
		LOG_ERR(&n->log, "chain", "out of memory; stopping");
		loy_node_stop(n, 1);
		return;
	}
	s->upto = n->applied_nosync;
	n->sync_busy = true;
	s->job.run = sync_run;
	s->job.done = sync_done;
	loy_node_pool_job(n, &s->job);
}

void loy_node_ledger_unsynced(struct loy_node *n)
{
	n->applied_nosync++;
	sync_start(n);
}

static void persist_start(struct loy_node *n)
{
	struct persist_job *p;

	/* The record being replaced may hold the only durable copy of the
	 * last block (its prepared block): keep it until the ledger is. */
	if (n->persist_busy || !n->persist_pending || n->stopping ||
	    n->synced_nosync != n->applied_nosync)
		return;
	p = calloc(1, sizeof *p);
	if (p == NULL) {
		LOG_ERR(&n->log, "persist", "out of memory");
		return;
	}
	p->rec = n->persist_next; /* moves ownership of the block copy */
	memset(&n->persist_next, 0, sizeof n->persist_next);
	n->persist_pending = false;
	n->persist_busy = true;
	p->job.run = persist_run;
	p->job.done = persist_done;
	loy_node_pool_job(n, &p->job);
}

void loy_node_persist_request(struct loy_node *n,
			      const struct loy_cons_persist *rec, uint64_t seq)
{
	/* Only the newest record matters: a later one supersedes a waiting one
	 * (the core counts durability by the highest seq written). */
	if (n->persist_pending)
		loy_persist_copy_free(&n->persist_next);
	if (loy_persist_copy(&n->persist_next, rec, seq) != 0) {
		LOG_ERR(&n->log, "persist", "out of memory");
		n->persist_pending = false;
		return;
	}
	n->persist_pending = true;
	persist_start(n);
}
