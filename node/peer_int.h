/* Private to node/peer*.c: the peer net's structures shared by the net
 * (listener, peer slots, dialing, send) and the link (read, handshake,
 * frames) halves. */
#ifndef LOY_NODE_PEER_INT_H
#define LOY_NODE_PEER_INT_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "node/peer.h"
#include "wire/buf.h"
#include "wire/handshake.h"
#include "wire/session.h"

#define PEER_HS_TIMEOUT_MS      5000u  /* default handshake deadline */
#define PEER_HS_MAX_FRAME       1024u  /* HELLO and AUTH are far smaller */
#define PEER_RBUF_BASE          65536u /* read buffer kept between frames */
#define PEER_MAX_PENDING        (2u * LOY_MAX_VALIDATORS) /* handshakes at once */
#define PEER_NAME_MAX           160u
#define PEER_DEFAULT_MAX_QUEUED (64u << 20)

enum link_state {
	LINK_CONNECTING = 0, /* initiator: TCP connect pending */
	LINK_WAIT_HELLO,     /* waiting for the peer's HELLO */
	LINK_WAIT_AUTH,      /* HELLOs exchanged, waiting for the peer's AUTH */
	LINK_UP,             /* authenticated; frames are sealed */
	LINK_CLOSING, /* uv_close called; freed once both handles close */
};

struct peer;

/* One TCP connection, from connect/accept until both handles close. */
struct link {
	uv_tcp_t tcp;
	uv_timer_t hs_timer;
	uv_connect_t connect_req;
	uv_getaddrinfo_t gai; /* resolving a peer's host name */
	int gai_pending;
	struct loy_peer_net *net;
	struct peer *peer; /* NULL until a responder has read the HELLO */
	struct link *prev, *next; /* net->links */
	enum loy_hs_role role;    /* ours */
	enum link_state state;
	int open_handles;
	int pending;              /* counted in net->pending */
	char name[PEER_NAME_MAX]; /* for log lines */

	uint8_t *rbuf; /* received bytes not yet consumed */
	size_t rlen, rcap;

	struct loy_eph_key eph;
	struct loy_hs_hello ours;
	struct loy_buf init_hello, resp_hello; /* bytes as sent and received */
	uint8_t peer_validator[LOY_PUBKEY_SIZE];
	uint8_t peer_eph[LOY_X25519_SIZE];
	uint8_t transcript[LOY_HASH_SIZE];
	struct loy_session sess;
};

/* A configured validator; lives until removed (set_peers) or net close. */
struct peer {
	struct loy_peer_net *net;
	uint8_t key[LOY_PUBKEY_SIZE];
	char address[LOY_HOSTPORT_MAX];
	struct sockaddr_storage addr;
	int addr_ok;                 /* addr holds an IP literal's address */
	char host[LOY_HOSTPORT_MAX]; /* else: a name resolved at each dial */
	char port[8];
	int we_dial; /* our key is the smaller one */
	int blocked; /* fault layer: drop frames both ways */
	int removed;
	struct link *link; /* the authenticated link, or NULL */
	struct link *dial; /* our outgoing attempt in progress, or NULL */
	uv_timer_t retry;
	uint64_t backoff_ms;
	uint32_t fails; /* dials in a row that did not come up */
	char hex[9];    /* short key for log lines */
};

struct loy_peer_net {
	uv_loop_t *loop;
	uv_tcp_t *listener; /* own allocation: freed by its close callback */
	struct loy_peer_net_cb cb;
	char chain_id[LOY_CHAIN_ID_MAX + 1];
	uint8_t sk[LOY_SECKEY_SIZE];
	uint8_t pk[LOY_PUBKEY_SIZE];
	size_t max_msg; /* message bytes, without the channel byte */
	size_t max_queued;
	uint64_t reconnect_min_ms, reconnect_max_ms;
	uint64_t hs_timeout_ms;
	uint32_t n_peers;
	struct peer *peers[LOY_MAX_VALIDATORS];
	struct link *links;
	int open_handles; /* every handle not yet closed */
	uint32_t pending; /* incoming links still in their handshake */
	int closing;
	void (*done)(void *data);
	void *done_data;
};

/* Logs one "loyd peer: ..." line on stderr. */
void peer_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The peer slot with that key, or NULL. */
struct peer *peer_find(struct loy_peer_net *n,
		       const uint8_t key[LOY_PUBKEY_SIZE]);

/* Accepts a connection from the listener and starts a responder link. */
void peer_link_accept(struct loy_peer_net *n);
/* Starts an initiator link to p (p->dial is set on success). */
int peer_link_dial(struct peer *p);
/* Closes a link (idempotent). reason is logged; NULL logs nothing. An UP
 * link fires on_down unless the net is closing. */
void peer_link_close(struct link *l, const char *reason);
/* Seals and queues one message on an UP link. Returns 0 or LOY_ENOTFOUND
 * (the link had to be dropped). */
int peer_link_send(struct link *l, uint8_t channel, const uint8_t *msg,
		   size_t len);

/* Called by the link half when a link is gone (before its handles close):
 * schedule a redial if we are the dialer. */
void peer_link_gone(struct peer *p, int was_up);
/* Called when a link reaches LINK_UP: it replaces any older link. */
void peer_link_up(struct link *l);
/* Called from every close callback: finishes net close when all are in. */
void peer_net_handle_closed(struct loy_peer_net *n);

#endif
