/* The ledger worker thread: a locked FIFO in, a locked FIFO out, and a
 * uv_async_t to bring completions back to the loop. */
#include "node/worker.h"

#include <pthread.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "node/internal.h"

static void worker_main(void *arg)
{
	struct loy_worker *w = arg;

	/* so that top -H and perf tell the node's threads apart */
	(void)pthread_setname_np(pthread_self(), w->name);
	/* On Linux a nice value is per thread: this lowers only this one. */
	if (w->nice != 0)
		(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid),
				  w->nice);

	uv_mutex_lock(&w->lock);
	for (;;) {
		struct loy_job *j;

		while (w->in_head == NULL && !w->quit)
			uv_cond_wait(&w->cond, &w->lock);
		j = w->in_head;
		if (j == NULL)
			break; /* quit with nothing left to run */
		w->in_head = j->next;
		if (w->in_head == NULL)
			w->in_tail = NULL;
		uv_mutex_unlock(&w->lock);
		j->run(j);
		uv_mutex_lock(&w->lock);
		j->next = NULL;
		if (w->out_tail)
			w->out_tail->next = j;
		else
			w->out_head = j;
		w->out_tail = j;
		uv_async_send(&w->async);
	}
	uv_mutex_unlock(&w->lock);
}

static void drain(struct loy_worker *w)
{
	struct loy_job *j;

	uv_mutex_lock(&w->lock);
	j = w->out_head;
	w->out_head = w->out_tail = NULL;
	uv_mutex_unlock(&w->lock);
	while (j) {
		struct loy_job *next = j->next;
		w->pending--;
		j->done(j); /* may free j */
		j = next;
	}
}

static void on_async(uv_async_t *a)
{
	struct loy_worker *w = a->data;

	drain(w);
	if (w->after)
		w->after(w->data);
}

int loy_worker_start(uv_loop_t *loop, struct loy_worker *w, const char *name)
{
	return loy_worker_start_pool(loop, w, name, 1, 0);
}

int loy_worker_start_pool(uv_loop_t *loop, struct loy_worker *w,
			  const char *name, unsigned nthreads, int nice)
{
	int rv;

	snprintf(w->name, sizeof w->name, "%s", name);
	w->in_head = w->in_tail = w->out_head = w->out_tail = NULL;
	w->quit = false;
	w->pending = 0;
	w->after = NULL;
	w->data = NULL;
	if ((rv = uv_mutex_init(&w->lock)) != 0)
		return rv;
	if ((rv = uv_cond_init(&w->cond)) != 0) {
		uv_mutex_destroy(&w->lock);
		return rv;
	}
	if ((rv = uv_async_init(loop, &w->async, on_async)) != 0) {
		uv_cond_destroy(&w->cond);
		uv_mutex_destroy(&w->lock);
		return rv;
	}
	w->async.data = w;
	w->nice = nice;
	w->nthreads = 0;
	if (nthreads < 1)
		nthreads = 1;
	if (nthreads > LOY_WORKER_MAX_THREADS)
		nthreads = LOY_WORKER_MAX_THREADS;
	for (unsigned i = 0; i < nthreads; i++) {
		rv = uv_thread_create(&w->threads[i], worker_main, w);
		if (rv != 0) {
			if (i > 0)
				break; /* fewer threads, still working */
			uv_close((uv_handle_t *)&w->async, NULL);
			uv_cond_destroy(&w->cond);
			uv_mutex_destroy(&w->lock);
			return rv;
		}
		w->nthreads++;
	}
	return 0;
}

void loy_worker_submit(struct loy_worker *w, struct loy_job *j)
{
	j->next = NULL;
	w->pending++;
	uv_mutex_lock(&w->lock);
	if (w->in_tail)
		w->in_tail->next = j;
	else
		w->in_head = j;
	w->in_tail = j;
	uv_cond_signal(&w->cond);
	uv_mutex_unlock(&w->lock);
}

void loy_worker_stop(struct loy_worker *w, uv_close_cb close_cb,
		     void *close_data)
{
	uv_mutex_lock(&w->lock);
	w->quit = true;
	uv_cond_broadcast(&w->cond);
	uv_mutex_unlock(&w->lock);
	for (unsigned i = 0; i < w->nthreads; i++)
		uv_thread_join(&w->threads[i]);
	drain(w); /* done callbacks of the last jobs */
	uv_cond_destroy(&w->cond);
	uv_mutex_destroy(&w->lock);
	w->async.data = close_data;
	uv_close((uv_handle_t *)&w->async, close_cb);
}
