/* Log lines to stderr: "2026-11-23T17:40:01.123Z info  node1 consensus:
 * committed height 42 (12 txs)". One logger per node, no globals. */
#ifndef LOY_NODE_LOG_H
#define LOY_NODE_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "node/config.h"

struct loy_log {
	int level;     /* enum loy_log_level: lines above it are dropped */
	char name[64]; /* the node's name, on every line */
};

void loy_log_init(struct loy_log *l, const char *name, int level);

/* Writes one line if level <= l->level. area is a short word ("peer"). */
void loy_logf(const struct loy_log *l, int level, const char *area,
	      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define LOG_ERR(l, area, ...)   loy_logf(l, LOY_LOG_ERROR, area, __VA_ARGS__)
#define LOG_WARN(l, area, ...)  loy_logf(l, LOY_LOG_WARN, area, __VA_ARGS__)
#define LOG_INFO(l, area, ...)  loy_logf(l, LOY_LOG_INFO, area, __VA_ARGS__)
#define LOG_DEBUG(l, area, ...) loy_logf(l, LOY_LOG_DEBUG, area, __VA_ARGS__)

/* Short hex of a key or hash for log lines: 8 hex digits, NUL-terminated. */
void loy_log_short(char out[9], const uint8_t *bytes);
/* Whether the k-th occurrence (k >= 1) of a repeated event is logged: the
 * 1st, 2nd, 4th, 8th..., so that a flood cannot flood the log too. */
static inline bool loy_log_nth(uint64_t k)
{
	return (k & (k - 1)) == 0;
}

#endif
