/* Writing the consensus record before a vote leaves (one write in flight,
 * the newest record waiting behind it), never while blocks caught up from
 * peers are only in the ledger's group (the record must not get ahead of
 * what a restart finds in data.mdb and the block log). */
#include "node/internal.h"

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

/* --- blocks caught up from peers, not in the block log --- */

void loy_node_fetched_applied(struct loy_node *n, bool flushed)
{
	n->fetched_applied++;
	if (flushed)
		loy_node_group_flushed(n);
}

void loy_node_group_flushed(struct loy_node *n)
{
	/* jobs finish in order: every apply done before this flush is in */
	if (n->fetched_flushed == n->fetched_applied)
		return;
	n->fetched_flushed = n->fetched_applied;
	persist_start(n);
}

static void persist_start(struct loy_node *n)
{
	struct persist_job *p;

	/* The record being replaced may hold the only durable copy of the
	 * last block (its prepared block): keep it until the ledger is. */
	if (n->persist_busy || !n->persist_pending || n->stopping)
		return;
	if (n->fetched_flushed != n->fetched_applied) {
		loy_node_flush_soon(n);
		return;
	}
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
