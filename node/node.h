/* loyd: one validator node. It owns the libuv loop's handles, the ledger,
 * the consensus core, the mempool, peer links and the client API. */
#ifndef LOY_NODE_NODE_H
#define LOY_NODE_NODE_H

#include <stddef.h>
#include <uv.h>

#include "node/config.h"

struct loy_node;

/* Everything loy_node_start needs, already loaded and checked by main. */
struct loy_node_params {
	const struct loy_config *cfg;
	const char *passphrase; /* for cfg->key_file */
	/* Runs once the node has stopped (asked to, or after a fatal error)
	 * and freed itself; exit_code is what the process should exit with. */
	void (*on_stopped)(void *data, int exit_code);
	void *data;
};

/* Opens the data directory (creating the genesis state on first start),
 * loads the consensus record, starts the peer links, the client API and the
 * consensus core on loop. Returns 0, or a LOY_E* code with the reason in err
 * (the node is not started and holds nothing). */
int loy_node_start(uv_loop_t *loop, const struct loy_node_params *p,
		   struct loy_node **out, char *err, size_t err_size);

/* Begins a clean shutdown: stops accepting work, lets the ledger finish the
 * jobs it has queued, closes every handle; then on_stopped runs. A second
 * call only raises the exit code. */
void loy_node_stop(struct loy_node *n, int exit_code);

/* Fault injection for tests: while isolated, every frame to and from every
 * peer is dropped (the transport's fault layer); links stay up. */
void loy_node_isolate(struct loy_node *n, int on);

#endif
