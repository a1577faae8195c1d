/* Where a node's time goes, for `loyctl status` and `make bench`: the last
 * heights it decided, split at the points the node itself sees (the
 * proposal arrives or is built here, its check is done, the height is
 * decided, the block is applied), and the waits of transaction admission
 * and group flushes. Latency under load is the sum of these stages, so an
 * operator sees which one grew. Loop thread only; times in microseconds of
 * CLOCK_MONOTONIC. */
#ifndef LOY_NODE_TIMING_H
#define LOY_NODE_TIMING_H

#include <stdint.h>

enum loy_timing_stage {
	LOY_T_HEIGHT,  /* previous block applied -> this block applied */
	LOY_T_PROPOSE, /* previous block applied -> proposal here (the
			* leader gathers, builds and sends it) */
	LOY_T_CHECK,   /* proposal here -> this node's check of it done */
	LOY_T_VOTE,    /* check done -> decided (records, two vote rounds) */
	LOY_T_APPLY,   /* decided -> applied */
	LOY_T_ADMIT,   /* a batch queued for signature checks -> admitted */
	LOY_T_FLUSH,   /* a group of blocks written to data.mdb */
	LOY_T_SYNC,    /* an asynchronous flush waited for on the pool */
	LOY_T_COUNT
};

#define LOY_TIMING_SAMPLES 256u

struct loy_timing_ring {
	uint32_t n, next;
	uint32_t us[LOY_TIMING_SAMPLES]; /* the newest n, a ring */
};

struct loy_timing {
	struct loy_timing_ring ring[LOY_T_COUNT];
	uint64_t height; /* the height the marks below belong to */
	uint64_t prev_applied, proposed, checked, decided; /* 0: not seen */
};

/* Percentiles of one stage over its last samples. */
struct loy_timing_pct {
	uint32_t n; /* samples (0: none yet, the rest is 0) */
	uint32_t p50_us, p90_us, p99_us, max_us;
};

uint64_t loy_timing_now_us(void);

void loy_timing_init(struct loy_timing *t);

/* One sample of a stage (ADMIT and FLUSH are fed directly). */
void loy_timing_add(struct loy_timing *t, enum loy_timing_stage s, uint64_t us);

/* The marks of a height; the first of each kind counts. A height applied
 * without a mark (a block fetched while catching up) adds only what it
 * has, and starts the next height's clock. */
void loy_timing_proposed(struct loy_timing *t, uint64_t height, uint64_t now);
void loy_timing_checked(struct loy_timing *t, uint64_t height, uint64_t now);
void loy_timing_decided(struct loy_timing *t, uint64_t height, uint64_t now);
void loy_timing_applied(struct loy_timing *t, uint64_t height, uint64_t now);

void loy_timing_pct(const struct loy_timing *t, enum loy_timing_stage s,
		    struct loy_timing_pct *out);

/* The stage's name in status JSON ("height", "propose", ...). */
const char *loy_timing_name(enum loy_timing_stage s);

#endif
