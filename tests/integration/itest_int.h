/* Shared by the itest program's files (itest.c, itest_shed.c): the one
 * cluster every test runs on, the tally of checks, and helpers. */
#ifndef LOY_ITEST_INT_H
#define LOY_ITEST_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "tests/integration/itest.h"

extern struct it_tally tally;
extern struct it_cluster cl;

#define CHECK(cond, ...) IT_CHECK(&tally, cond, __VA_ARGS__)

/* Seconds on the monotonic clock. */
double secs(void);
/* Submits count fresh customer registrations to node i and waits for the
 * commits. Returns how many were acknowledged committed. */
int submit_batch(int i, uint32_t count, int timeout_ms);

/* Whether node i's log has line (once the node has written it). */
bool log_has(int i, const char *line);

/* itest_shed.c: what a node sheds from hostile peers and clients. */
void test_sync_flood(void);
void test_pipelining_client(void);
void test_waiting_submits_bounded(void);

#endif
