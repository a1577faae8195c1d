/* Stage timings of the last heights: see timing.h. */
#include "node/timing.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t loy_timing_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void loy_timing_init(struct loy_timing *t)
{
	memset(t, 0, sizeof *t);
}

void loy_timing_add(struct loy_timing *t, enum loy_timing_stage s, uint64_t us)
{
	struct loy_timing_ring *r;

	if ((unsigned)s >= LOY_T_COUNT)
		return;
	r = &t->ring[s];
	r->us[r->next] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	r->next = (r->next + 1) % LOY_TIMING_SAMPLES;
	if (r->n < LOY_TIMING_SAMPLES)
		r->n++;
}

/* Marks of another height are stale (a view change moved on, or the node
 * caught up past them): start over at this one. */
static void at_height(struct loy_timing *t, uint64_t height)
{
	if (t->height == height)
		return;
	if (t->height + 1 != height)
		t->prev_applied = 0;
	t->height = height;
	t->proposed = t->checked = t->decided = 0;
}

void loy_timing_proposed(struct loy_timing *t, uint64_t height, uint64_t now)
{
	at_height(t, height);
	if (t->proposed == 0)
		t->proposed = now;
}

void loy_timing_checked(struct loy_timing *t, uint64_t height, uint64_t now)
{
	at_height(t, height);
	if (t->checked == 0 && t->proposed != 0)
		t->checked = now;
}

void loy_timing_decided(struct loy_timing *t, uint64_t height, uint64_t now)
{
	at_height(t, height);
	if (t->decided == 0)
		t->decided = now;
}

static void span(struct loy_timing *t, enum loy_timing_stage s, uint64_t a,
		 uint64_t b)
{
	if (a != 0 && b != 0 && b >= a)
		loy_timing_add(t, s, b - a);
}

void loy_timing_applied(struct loy_timing *t, uint64_t height, uint64_t now)
{
	at_height(t, height);
	span(t, LOY_T_HEIGHT, t->prev_applied, now);
	span(t, LOY_T_PROPOSE, t->prev_applied, t->proposed);
	span(t, LOY_T_CHECK, t->proposed, t->checked);
	span(t, LOY_T_VOTE, t->checked, t->decided);
	span(t, LOY_T_APPLY, t->decided, now);
	t->height = height + 1;
	t->prev_applied = now;
	t->proposed = t->checked = t->decided = 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

void loy_timing_pct(const struct loy_timing *t, enum loy_timing_stage s,
		    struct loy_timing_pct *out)
{
	uint32_t v[LOY_TIMING_SAMPLES];
	const struct loy_timing_ring *r;

	memset(out, 0, sizeof *out);
	if ((unsigned)s >= LOY_T_COUNT || t->ring[s].n == 0)
		return;
	r = &t->ring[s];
	memcpy(v, r->us, r->n * sizeof *v); /* the first n slots hold them */
	qsort(v, r->n, sizeof *v, cmp_u32);
	out->n = r->n;
	out->p50_us = v[r->n / 2];
	out->p90_us = v[r->n * 9 / 10];
	out->p99_us = v[r->n * 99 / 100];
	out->max_us = v[r->n - 1];
}

const char *loy_timing_name(enum loy_timing_stage s)
{
	static const char *const names[LOY_T_COUNT] = {
	    "height", "propose", "check", "vote",
	    "apply",  "admit",   "flush", "sync"};

	return (unsigned)s < LOY_T_COUNT ? names[s] : "?";
}
