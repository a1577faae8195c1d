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
	LOY_CHAN_MAX = 4
};

struct loy_peer_addr {
	uint8_t key[LOY_PUBKEY_SIZE];
	char address[LOY_HOSTPORT_MAX]; /* host:port */
};

struct loy_peer_net_config {
	char chain_id[LOY_CHAIN_ID_MAX + 1];
	uint8_t sk[LOY_SECKEY_SIZE];         /* our validator key (copied) */
	char listen[LOY_HOSTPORT_MAX];       /* host:port to accept on */
	uint32_t n_peers;                    /* every validator but us */
	struct loy_peer_addr peers[LOY_MAX_VALIDATORS];
	size_t max_frame;                    /* plaintext bytes; <= LOY_MAX_FRAME */
	size_t max_queued;                   /* unsent bytes per peer before we drop it */
	uint64_t reconnect_min_ms, reconnect_max_ms;
	uint64_t handshake_timeout_ms;       /* 0: 5000; a stalled handshake
					      * is closed after this */
};

/* Callbacks, on the loop thread. Pointers are borrowed for the call. */
struct loy_peer_net_cb {
	void *data;
	void (*on_up)(void *data, const uint8_t key[LOY_PUBKEY_SIZE]);
	void (*on_down)(void *data, const uint8_t key[LOY_PUBKEY_SIZE]);
	void (*on_message)(void *data, const uint8_t key[LOY_PUBKEY_SIZE],
			   uint8_t channel, const uint8_t *msg, size_t len);
};

struct loy_peer_net;

/* Starts listening and dialing. Returns 0 or a LOY_E* code with the reason
 * in err (e.g. "peer: listen 127.0.0.1:7101: address already in use"). */
int loy_peer_net_start(uv_loop_t *loop, const struct loy_peer_net_config *cfg,
		       const struct loy_peer_net_cb *cb,
		       struct loy_peer_net **out, char *err, size_t err_size);

/* Queues msg (copied) for one peer. Returns 0, LOY_ENOTFOUND when that peer
 * has no authenticated link now, LOY_ETOOBIG. */
int loy_peer_net_send(struct loy_peer_net *n, const uint8_t key[LOY_PUBKEY_SIZE],
		      uint8_t channel, const uint8_t *msg, size_t len);

/* Queues msg for every connected peer. */
void loy_peer_net_broadcast(struct loy_peer_net *n, uint8_t channel,
			    const uint8_t *msg, size_t len);

/* Replaces the peer list (validator set changed): links to peers no longer
 * listed are closed, new ones are dialed. */
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
 * closed, after which n is freed. */
void loy_peer_net_close(struct loy_peer_net *n, void (*done)(void *data),
			void *data);

#endif
