/* How many block-sync answers this node is preparing for each peer. A peer
 * that is behind has one or two requests out at a time (consensus/catchup.c
 * asks for the next run when half of one is used); without a bound, a peer
 * that floods requests would queue a read of up to 2 MiB per 20-byte
 * request, on the ledger's thread for blocks not yet in data.mdb. A request
 * over the bound is dropped: an honest asker asks again when its fetch
 * times out. Loop thread only. */
#ifndef LOY_NODE_SERVE_LIMIT_H
#define LOY_NODE_SERVE_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "wire/crypto.h"
#include "wire/limits.h"

#define SERVE_PER_PEER 4u

struct loy_serve_limit {
	uint32_t per_peer; /* slots of each peer */
	uint32_t n;
	struct {
		uint8_t key[LOY_PUBKEY_SIZE];
		uint32_t busy;    /* answers being prepared */
		uint64_t dropped; /* requests dropped, ever */
	} peer[LOY_MAX_VALIDATORS];
	/* peers beyond the table (members that are not validators, more
	 * than LOY_MAX_VALIDATORS in all) share one allowance */
	uint32_t other_busy;
	uint64_t other_dropped;
};

/* per_peer: SERVE_PER_PEER for the answers this node prepares. The same
 * table counts the sync requests this node has out with each peer
 * (ASKED_PER_PEER), so that an answer nobody asked for is dropped before
 * it is decoded: a member replaying committed blocks at a node would
 * otherwise have it decode them and check their certificates. */
#define ASKED_PER_PEER 8u
/* And the transactions each peer gossiped that wait for their signature
 * checks, in KiB: a member that gossips faster than they are checked has
 * the excess dropped, not queued without bound (an honest peer has a few
 * hundred KiB waiting at the most). */
#define GOSSIP_KIB_PER_PEER 8192u
void loy_serve_limit_init(struct loy_serve_limit *s, uint32_t per_peer);
/* Takes one of the peer's slots and returns true; or returns false when it
 * has per_peer slots taken already (drop the request), with the number of
 * its requests dropped so far, this one included, in *dropped. */
bool loy_serve_take(struct loy_serve_limit *s,
		    const uint8_t key[LOY_PUBKEY_SIZE], uint64_t *dropped);
/* The same for n units at once (n >= 1): taken when the peer's units in
 * use stay within per_peer, or when it holds none (one item larger than
 * the bound still goes). */
bool loy_serve_take_n(struct loy_serve_limit *s,
		      const uint8_t key[LOY_PUBKEY_SIZE], uint32_t n,
		      uint64_t *dropped);
bool loy_serve_give_n(struct loy_serve_limit *s,
		      const uint8_t key[LOY_PUBKEY_SIZE], uint32_t n);
/* Requests dropped so far, all peers together. */
uint64_t loy_serve_dropped(const struct loy_serve_limit *s);
/* Gives back a slot taken for this peer (its answer was sent or failed).
 * Returns false, changing nothing, when it held none. */
bool loy_serve_give(struct loy_serve_limit *s,
		    const uint8_t key[LOY_PUBKEY_SIZE]);

#endif
