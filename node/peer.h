/* Peer links among validators: libuv TCP, full mesh, authenticated
 * handshake (validator keys from genesis, ephemeral X25519, signed
 * transcript), every frame encrypted, reconnect with backoff. Only node/
 * uses this; it runs on the loop thread. */
#ifndef LOY_NODE_PEER_H
#define LOY_NODE_PEER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "node/config.h"
#include "wire/crypto.h"
#include "wire/limits.h"

/* What a frame carries; the first plaintext byte of every frame. */
enum loy_peer_channel {
	LOY_CHAN_CONSENSUS = 1, /* consensus messages (wire/consensus_msg.h) */
	LOY_CHAN_TXS = 2,       /* gossiped transactions (a client SUBMIT) */
	LOY_CHAN_SYNC_REQ = 3,  /* wire/sync.h request */
	LOY_CHAN_SYNC_RESP = 4, /* wire/sync.h response */
	LOY_CHAN_PING = 5,      /* liveness: sent every 250 ms, ignored */
	LOY_CHAN_MAX = 5
};

struct loy_peer_addr {
	uint8_t key[LOY_PUBKEY_SIZE];
	char address[LOY_HOSTPORT_MAX]; /* host:port */
};

struct loy_peer_net_config {
	char chain_id[LOY_CHAIN_ID_MAX + 1];
	uint8_t sk[LOY_SECKEY_SIZE];   /* our validator key (copied) */
	char listen[LOY_HOSTPORT_MAX]; /* host:port to accept on */
	uint32_t n_peers;              /* every validator but us */
	struct loy_peer_addr peers[LOY_MAX_VALIDATORS];
	size_t max_frame;  /* message bytes (channel byte and
			    * AEAD tag not counted); 0 or more
			    * than fits in LOY_MAX_FRAME: the
			    * most that fits */
	size_t max_queued; /* unsent bytes per peer before we
			    * drop it (0: 64 MiB); one frame
			    * always goes out on an idle link */
	uint64_t reconnect_min_ms, reconnect_max_ms;
	uint64_t handshake_timeout_ms; /* 0: 5000; a stalled handshake
					* is closed after this */
};

/* Callbacks, on the loop thread. Pointers are borrowed for the call. A
 * callback may call any function here, loy_peer_net_close included. on_up
 * runs once a link is authenticated; on_down once for each on_up, when that
 * link is lost (also from inside send/broadcast when a link is dropped for
 * its queue, and from set_peers), never after loy_peer_net_close. A newer
 * link to the same peer replaces an older one: on_down then on_up. */
struct loy_peer_net_cb {
	void *data;
	void (*on_up)(void *data, const uint8_t key[LOY_PUBKEY_SIZE]);
	void (*on_down)(void *data, const uint8_t key[LOY_PUBKEY_SIZE]);
	void (*on_message)(void *data, const uint8_t key[LOY_PUBKEY_SIZE],
			   uint8_t channel, const uint8_t *msg, size_t len);
};

struct loy_peer_net;

/* Starts listening and dialing. cfg is copied. Returns 0 or a LOY_E* code
 * with the reason in err (e.g. "peer: listen 127.0.0.1:7101: address
 * already in use"); on failure *out is NULL, nothing is left for the caller
 * to free, and the loop needs to run once more to release an internal
 * handle. listen is an IP literal (IPv4 or [IPv6]); a peer's address may
 * also be a host name, resolved (IPv4 first) at each dial.
 *
 * Dial rule: of each pair, the node with the lexicographically smaller
 * validator key dials, the other only accepts (a dial from the larger key
 * is refused), so there is one link per pair whatever the restart order. A
 * dialer retries with backoff doubling from reconnect_min_ms up to
 * reconnect_max_ms. The handshake (HELLO both ways, then AUTH initiator
 * first) must finish within handshake_timeout_ms; handshake frames are
 * capped at 1 KiB and at most 128 may be in progress at once. */
int loy_peer_net_start(uv_loop_t *loop, const struct loy_peer_net_config *cfg,
		       const struct loy_peer_net_cb *cb,
		       struct loy_peer_net **out, char *err, size_t err_size);

/* Queues msg (copied) for one peer. Returns 0 (also when that peer is
 * blocked: the message is dropped), LOY_ENOTFOUND when that peer has no
 * authenticated link now or its link had to be dropped (queue over
 * max_queued, write error), LOY_ETOOBIG (len over max_frame) or LOY_EINVAL
 * (channel not in 1..LOY_CHAN_MAX). */
int loy_peer_net_send(struct loy_peer_net *n,
		      const uint8_t key[LOY_PUBKEY_SIZE], uint8_t channel,
		      const uint8_t *msg, size_t len);

/* Queues msg (copied) for every connected, unblocked peer; a bad channel
 * or a len over max_frame sends nothing. */
void loy_peer_net_broadcast(struct loy_peer_net *n, uint8_t channel,
			    const uint8_t *msg, size_t len);

/* Replaces the peer list (validator set changed): links to peers no longer
 * listed are closed (on_down), new ones are dialed (or awaited, by the dial
 * rule); a kept peer's new address is used from its next dial. Entries with
 * our own key or, for a peer we dial, an unusable address are skipped with
 * a log line. */
void loy_peer_net_set_peers(struct loy_peer_net *n,
			    const struct loy_peer_addr *peers, uint32_t count);

/* Fault injection for tests (the transport-level fault layer): while
 * blocked, frames to and from that peer are dropped silently. */
void loy_peer_net_block(struct loy_peer_net *n,
			const uint8_t key[LOY_PUBKEY_SIZE], int blocked);

/* Keys of the peers with an authenticated link now; returns how many
 * (at most max). */
uint32_t loy_peer_net_connected(const struct loy_peer_net *n,
				uint8_t (*keys)[LOY_PUBKEY_SIZE], uint32_t max);

/* Closes every link and the listener; done(data) runs once every handle is
 * closed (always from a close callback, never from inside this call), after
 * which n is freed. No on_up/on_down/on_message runs after this call. */
void loy_peer_net_close(struct loy_peer_net *n, void (*done)(void *data),
			void *data);

#endif
