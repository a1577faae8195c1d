/* Integration test harness: real loyd processes on 127.0.0.1 (or each in
 * its own network namespace, see netns.h), driven over the client API. */
#ifndef LOY_ITEST_H
#define LOY_ITEST_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "tests/integration/netns.h"
#include "wire/buf.h"
#include "wire/client.h"

#define IT_MAX_NODES 8

struct it_conn;

struct it_node {
	int index; /* 1-based */
	pid_t pid; /* 0 when not running */
	int peer_port, client_port;
	char host[16]; /* the address it listens on */
	char dir[512];
};

struct it_cluster {
	char root[256];
	char loyd[512];
	int n;
	int base_port;
	struct it_node nodes[IT_MAX_NODES];
	uint8_t sk[IT_MAX_NODES][64];
	char chain_id[33];
	/* NULL: every node on 127.0.0.1. Else node i runs in ns->name[i-1] at
	 * ns->addr[i-1] (borrowed: it outlives the cluster), beyond loopback,
	 * so clients authenticate with client_sk, which every node allows. */
	const struct it_netns *netns;
	uint8_t client_sk[64];
	/* Authenticated connections kept for read-only requests (harness
	 * internal). */
	pthread_mutex_t pool_lock;
	struct it_conn *pool[IT_MAX_NODES];
};

/* Check counting shared by the test programs: CHECK(cond, fmt, ...) counts
 * a pass, or a failure printed as "<prog>: FAIL file:line: message". */
struct it_tally {
	const char *prog;
	int passed, failed;
};
void it_check_fail(struct it_tally *t, const char *file, int line,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
#define IT_CHECK(t, cond, ...)                                                 \
	do {                                                                   \
		if (cond)                                                      \
			(t)->passed++;                                         \
		else                                                           \
			it_check_fail(t, __FILE__, __LINE__, __VA_ARGS__);     \
	} while (0)

/* Creates keys, genesis and configs for n nodes under a new temp dir. */
int it_cluster_init(struct it_cluster *c, int n, const char *loyd);
/* The same with the nodes in the namespaces of ns (set up for at least n
 * nodes; borrowed until it_cluster_destroy), or on loopback when ns is
 * NULL. */
int it_cluster_init_netns(struct it_cluster *c, int n, const char *loyd,
			  const struct it_netns *ns);
/* Starts node i (1-based) in its namespace; its pid is loyd's own. */
int it_node_start(struct it_cluster *c, int i);
/* Prepares one more node (key, config; not in genesis): index c->n after. */
int it_node_add(struct it_cluster *c, uint8_t pk[32]);
/* Sends sig and waits for the exit; returns the exit status or -1. */
int it_node_signal(struct it_cluster *c, int i, int sig);
void it_cluster_destroy(struct it_cluster *c);

/* One request/response over a fresh connection to node i. The payload (a
 * JSON text, NUL-terminated) is returned in *out (caller frees). Returns the
 * response code, or -1 when the node cannot be reached. */
int it_request(struct it_cluster *c, int i, struct loy_client_request *q,
	       char **out, int timeout_ms);
/* Request a, then (once a answered with code 0) request b, over one fresh
 * connection to node i: b's code and payload, or -1. */
int it_request_two(struct it_cluster *c, int i, struct loy_client_request *a,
		   struct loy_client_request *b, char **out, int timeout_ms);
/* Hashes of the transactions nodes acknowledged as committed, shared by
 * load threads (the lock guards everything). */
struct it_acked {
	pthread_mutex_t lock;
	uint8_t (*h)[32];
	size_t n, cap;
	size_t sent, failed_batches;
};

void it_acked_init(struct it_acked *a);
void it_acked_free(struct it_acked *a);

/* Submits count fresh customer registrations (each its own new signer) to
 * node i, waiting for the commits; records the acknowledged ones in a.
 * Returns how many were acknowledged committed. */
int it_submit_registrations(struct it_cluster *c, int i, uint32_t count,
			    int timeout_ms, struct it_acked *a);

/* A number from node i's status ("clients_paused"...), or -1. */
long it_status_num(struct it_cluster *c, int i, const char *key);
/* Node i's STATUS answer as JSON text (malloc'd), or NULL. */
char *it_status_json(struct it_cluster *c, int i);
/* Height and state root (hex) of node i, or -1. */
long it_height(struct it_cluster *c, int i, char root[65]);
/* Node i's count of connected peers (status), or -1. */
int it_peers(struct it_cluster *c, int i);
/* The same asked from inside node i's namespace, so it answers while the
 * node's link is cut (as it_height without namespaces). */
long it_height_inside(struct it_cluster *c, int i, char root[65]);
/* Waits until every running node is at height >= h with equal roots. */
bool it_wait_converged(struct it_cluster *c, long h, int timeout_ms);

/* A peer link to node i made as node `as` (its validator key; that node
 * must be stopped, as the link takes its place): handshake done, every
 * frame sealed. NULL when it cannot be made in timeout_ms. */
struct it_link;
struct it_link *it_link_open(struct it_cluster *c, int i, int as,
			     int timeout_ms);
/* Sends msg on a channel (node/peer.h); 0 or -1. */
int it_link_send(struct it_link *l, uint8_t channel, const uint8_t *msg,
		 size_t len);
/* The next message's channel and body (*msg: caller frees), or -1 when
 * none came in timeout_ms or the node closed the link. */
int it_link_recv(struct it_link *l, uint8_t *channel, uint8_t **msg,
		 size_t *len, int timeout_ms);
void it_link_close(struct it_link *l);

/* A client that pipelines a burst of request frames without reading the
 * answers (pipeline.c): it_pipe_open connects to node i's client port and
 * takes burst (malloc'd); it_pipe_push writes what the node takes within
 * ms, reading nothing, and returns the bytes written so far; it_pipe_drain
 * reads answers (writing the rest as the node takes it) until n came or
 * ms passed, calling each with every answer's body, and returns how many
 * came. NULL from it_pipe_open: no memory or no connection. */
struct it_pipe;
struct it_pipe *it_pipe_open(const struct it_cluster *c, int i, uint8_t *burst,
			     size_t len);
size_t it_pipe_push(struct it_pipe *p, int ms);
uint32_t it_pipe_drain(struct it_pipe *p, uint32_t n, int ms,
		       void (*each)(void *, const uint8_t *, size_t),
		       void *data);
void it_pipe_close(struct it_pipe *p);

#endif
