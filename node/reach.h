/* Which validators this node cannot reach: a peer whose link has been down
 * for REACH_GRACE_MS (or that never came up since start), or that has sent
 * nothing for REACH_SILENT_MS on a link that looks up (a network cut leaves
 * TCP links open; every node pings every REACH_PING_MS), is reported to the
 * consensus core (LOY_CONS_UNREACHABLE), which then leaves a height's view 0
 * at once when that peer leads it, instead of waiting for the view timeout.
 * Loop thread only. */
#ifndef LOY_NODE_REACH_H
#define LOY_NODE_REACH_H

#include <stdbool.h>
#include <stdint.h>

#include "wire/crypto.h"
#include "wire/limits.h"

#define REACH_GRACE_MS  1000u
#define REACH_SILENT_MS 2000u
#define REACH_PING_MS   250u

struct loy_reach {
	uint64_t started; /* peers never seen count as down since then */
	uint32_t n;
	struct {
		uint8_t key[LOY_PUBKEY_SIZE];
		bool up;
		uint64_t down_since;
		uint64_t last_heard; /* a message on its up link */
	} peer[LOY_MAX_VALIDATORS];
	uint64_t ping_at; /* when our next ping is due */
	/* the list last reported to the core */
	uint32_t n_reported;
	uint8_t reported[LOY_MAX_VALIDATORS][LOY_PUBKEY_SIZE];
};

struct loy_node;

void loy_reach_init(struct loy_reach *r, uint64_t now);
/* A peer link came up or went down. */
void loy_reach_link(struct loy_reach *r, const uint8_t key[LOY_PUBKEY_SIZE],
		    bool up, uint64_t now);
/* A message from a peer arrived. */
void loy_reach_heard(struct loy_reach *r, const uint8_t key[LOY_PUBKEY_SIZE],
		     uint64_t now);
/* Pings every peer when one is due (then returns the next time due). */
uint64_t loy_node_reach_ping(struct loy_node *n, uint64_t now);
/* Reports the current list to the core when it changed (not from inside a
 * LOY_CONS_UNREACHABLE step). */
void loy_node_reach_refresh(struct loy_node *n, uint64_t now);
/* When the list may next change by time alone (a down peer's grace ends),
 * or UINT64_MAX. */
uint64_t loy_node_reach_next(struct loy_node *n, uint64_t now);

#endif
