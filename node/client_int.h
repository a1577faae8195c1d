/* Internal to the client API (client_api.c, client_submit.c): the
 * connection, pending submission and waiter records. */
#ifndef LOY_NODE_CLIENT_INT_H
#define LOY_NODE_CLIENT_INT_H

#include <jansson.h>

#include "node/client_auth.h"
#include "node/internal.h"
#include "wire/client.h"

#define WAIT_TIMEOUT_MS   30000
#define MAX_CLIENT_QUEUED (64u << 20)
/* Work in progress for one connection (queries, admissions, held requests,
 * answers not yet written out, submits waiting for their commits): past
 * this the node stops reading from it until half is done, so a client that
 * pipelines requests without reading the answers holds a bounded part of
 * the node, not MAX_CLIENT_QUEUED (nor, while the cluster cannot commit,
 * a waiter per request for WAIT_TIMEOUT_MS). */
#define MAX_CLIENT_REFS 256u
#define WAITER_BUCKETS  65536u

struct conn;

/* A request held back while the ledger catches up with a commit clients
 * were told of (loy_node_behind_acks): its frame, run when it has. */
struct parked {
	struct parked *next;
	struct conn *conn;
	size_t len;
	uint8_t data[];
};

/* A SUBMIT waiting for admission and, if asked, for its commits. */
struct pending {
	struct conn *conn;
	struct pending *prev, *next; /* in conn */
	uint64_t request_id;
	uint64_t deadline;
	bool wait;
	bool admitted; /* admission finished */
	bool counted;  /* in its conn's waiting */
	uint32_t count;
	uint32_t outstanding;   /* commits still awaited */
	json_t *results;        /* array, one object per tx */
	struct waiter *waiters; /* count entries (wait only) */
};

/* One transaction a pending submit waits for, in a hash table by tx hash. */
struct waiter {
	uint8_t hash[LOY_HASH_SIZE];
	struct pending *p;
	uint32_t index;
	bool linked;
	struct waiter *hprev, *hnext;
};

struct conn {
	uv_tcp_t tcp;
	struct loy_client_api *api;
	struct conn *prev, *next;
	uint8_t *rbuf;
	size_t rlen, rcap;
	size_t queued; /* bytes written but not yet flushed */
	struct pending *pendings;
	bool closing;
	unsigned refs;     /* async work holding a pointer to this conn */
	unsigned waiting;  /* submits admitted, waiting for their commits */
	bool paused;       /* reading stopped at MAX_CLIENT_REFS */
	unsigned n_parked; /* requests held back (in order behind them) */
	bool subscribed;
	uint8_t sub_filter;
	uint8_t sub_id[LOY_ID_SIZE];
	uint64_t sub_request_id;
	char peer[64];
	/* Client authentication (when the node has allowed keys): the
	 * client's HELLO, then its AUTH, then sealed frames both ways. */
	struct loy_client_auth auth;
	bool sealed;
};

struct loy_client_api {
	struct loy_node *node;
	uv_tcp_t listener;
	uv_timer_t sweep;
	/* runs the frames that resumed connections still hold */
	uv_timer_t resume;
	struct conn *conns;
	uint32_t n_conns;
	struct waiter *buckets[WAITER_BUCKETS];
	struct parked *parked_head, *parked_tail;
	unsigned open_handles;
	bool closing;
	void (*closed)(void *);
	void *closed_data;
	uint32_t n_allowed; /* client keys allowed in (0: no authentication) */
	uint8_t (*allowed)[LOY_PUBKEY_SIZE];
};

void loy_node_query(struct loy_node *n, uint64_t request_id,
		    const struct loy_client_request *q,
		    void (*reply)(void *data, uint64_t request_id, int code,
				  const char *msg, json_t *payload),
		    void *data);
json_t *loy_node_status_json(struct loy_node *n);

/* client_api.c */
/* Sends one encoded message as a frame (sealed once authenticated). */
void loy_client_conn_send(struct conn *c, const struct loy_buf *msg);
/* Sends a RESPONSE with an optional JSON payload. */
void loy_client_send_response(struct conn *c, uint64_t request_id, int code,
			      const char *msg, json_t *payload);
/* Closes the connection once no async work holds it. */
void loy_client_conn_close(struct conn *c);

/* client_submit.c */
void loy_client_handle_submit(struct conn *c, struct loy_client_request *q);
/* Drops one of c->refs; reading resumes when a paused connection's work
 * is down to half of MAX_CLIENT_REFS. */
void loy_client_conn_unref(struct conn *c);
/* Resumes reading from a paused connection whose work is down to half. */
void loy_client_conn_maybe_resume(struct conn *c);

/* Unlinks and frees a pending submission. */
void loy_client_pending_free(struct pending *p);
/* Answers a pending submission (with timeout_msg: as timed out) and frees
 * it. */
void loy_client_pending_answer(struct pending *p, const char *timeout_msg);

#endif
