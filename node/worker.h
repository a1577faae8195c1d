/* A dedicated thread that runs the ledger's writer jobs one at a time, in
 * order, off the loop thread and outside libuv's shared pool (so block
 * checks and commits never queue behind signature checks). */
#ifndef LOY_NODE_WORKER_H
#define LOY_NODE_WORKER_H

#include <stdbool.h>
#include <uv.h>

struct loy_job;

struct loy_worker {
	uv_thread_t thread;
	uv_mutex_t lock;
	uv_cond_t cond;
	uv_async_t async; /* wakes the loop to run done callbacks */
	struct loy_job *in_head, *in_tail;   /* waiting to run (locked) */
	struct loy_job *out_head, *out_tail; /* ran, done() pending (locked) */
	bool quit;                           /* locked */
	unsigned pending; /* submitted, done() not yet run (loop) */
	/* Runs on the loop thread after each batch of done callbacks. */
	void (*after)(void *data);
	void *data;
};

/* Starts the thread and the async handle on loop. Returns 0 or a libuv
 * error code. */
int loy_worker_start(uv_loop_t *loop, struct loy_worker *w);

/* Queues j (loop thread): j->run runs on the worker thread, then j->done
 * on the loop thread. */
void loy_worker_submit(struct loy_worker *w, struct loy_job *j);

/* Stops the thread once the jobs already queued have run (their done
 * callbacks still run first), then closes the async handle with
 * handle->data = close_data; close_cb runs from its close callback. */
void loy_worker_stop(struct loy_worker *w, uv_close_cb close_cb,
		     void *close_data);

#endif
