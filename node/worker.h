/* Dedicated threads outside libuv's shared pool. With one thread (the
 * ledger's writer) jobs run one at a time, in order, so block checks and
 * commits never queue behind signature checks; with several (the signature
 * verifiers) jobs run in parallel and finish in any order, and the threads
 * can run at a lower priority than the loop and the ledger thread. */
#ifndef LOY_NODE_WORKER_H
#define LOY_NODE_WORKER_H

#include <stdbool.h>
#include <uv.h>

struct loy_job;

#define LOY_WORKER_MAX_THREADS 16

struct loy_worker {
	uv_thread_t threads[LOY_WORKER_MAX_THREADS];
	unsigned nthreads;
	int nice;      /* added to each thread's nice value at its start */
	char name[16]; /* the threads' name (top -H, perf), 15 chars at most */
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

/* Starts one thread named name and the async handle on loop. Returns 0
 * or a libuv error code. */
int loy_worker_start(uv_loop_t *loop, struct loy_worker *w, const char *name);

/* Starts nthreads threads (1..LOY_WORKER_MAX_THREADS) that run jobs in
 * parallel, each with its nice value raised by nice (0: unchanged; a
 * failure to lower the priority is ignored). */
int loy_worker_start_pool(uv_loop_t *loop, struct loy_worker *w,
			  const char *name, unsigned nthreads, int nice);

/* Queues j (loop thread): j->run runs on the worker thread, then j->done
 * on the loop thread. */
void loy_worker_submit(struct loy_worker *w, struct loy_job *j);

/* Stops the threads once the jobs already queued have run (their done
 * callbacks still run first), then closes the async handle with
 * handle->data = close_data; close_cb runs from its close callback. */
void loy_worker_stop(struct loy_worker *w, uv_close_cb close_cb,
		     void *close_data);

#endif
