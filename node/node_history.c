/* Keeping the history and transaction indexes (history.mdb) close behind
 * data.mdb: after a flush has made new blocks visible to other threads, at
 * most once a second. A query indexes whatever is left itself
 * (ledger/history.c), so this only takes that work off the client's wait
 * and off the threads that commit blocks. It runs on the signature
 * threads, which are niced, so that it yields to the threads that check,
 * apply and flush blocks. */
#include "node/internal.h"

#include <stdio.h>
#include <stdlib.h>

#include "ledger/query.h"
#include "wire/error.h"

#define INDEX_EVERY_MS 1000u
/* Index records per run: a second of commits at almost twice make bench's
 * peak (3.4 records per transaction), so it keeps up; a node that starts
 * far behind works through the backlog at that pace instead of taking a
 * core away from the cluster (a query still catches up all the way). Runs
 * every 3 s with three times the records wrote about 40% less to
 * history.mdb, but each run's burst (niced or not) lengthened the p99 of
 * commits at half of make bench's peak (53-59 ms against 42-48 at one
 * second, two rounds of three runs each at 3,900 tx/s). */
#define INDEX_BUDGET 32768u

struct index_job {
	struct loy_job job;
	int rv;
	uint64_t height;
	bool rebuilt;
	char err[512], why[160];
};

static void index_run(struct loy_job *j)
{
	struct index_job *x = (struct index_job *)j;

	x->rv = loy_ledger_history_index(j->node->ledger, INDEX_BUDGET,
					 &x->height, x->err, sizeof x->err);
	x->rebuilt =
	    loy_ledger_history_note(j->node->ledger, x->why, sizeof x->why);
}

static void index_done(struct loy_job *j)
{
	struct index_job *x = (struct index_job *)j;
	struct loy_node *n = j->node;

	n->history_queued = false;
	if (x->rebuilt)
		LOG_INFO(&n->log, "history",
			 "history.mdb deleted and being built again from "
			 "data.mdb: %s",
			 x->why);
	if (x->rv != 0 && !n->history_failed) {
		/* queries still index for themselves, and say the same */
		LOG_WARN(&n->log, "history",
			 "cannot update the account history index: %s", x->err);
		n->history_failed = true;
	} else if (x->rv == 0) {
		n->history_failed = false;
	}
	if (x->rv == 0)
		n->history_height = x->height;
	free(x);
}

void loy_node_index_history(struct loy_node *n)
{
	uint64_t now = loy_node_now_ms();
	struct index_job *x;

	if (n->history_queued || n->stopping ||
	    now - n->history_at_ms < INDEX_EVERY_MS)
		return;
	x = calloc(1, sizeof *x);
	if (x == NULL)
		return; /* the next flush tries again */
	n->history_queued = true;
	n->history_at_ms = now;
	x->job.run = index_run;
	x->job.done = index_done;
	loy_node_verify_job(n, &x->job);
}
