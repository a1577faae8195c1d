/* Internal to node/: the node's state shared by its files. */
#ifndef LOY_NODE_INTERNAL_H
#define LOY_NODE_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "consensus/consensus.h"
#include "ledger/ledger.h"
#include "node/config.h"
#include "node/log.h"
#include "node/mempool.h"
#include "node/node.h"
#include "node/peer.h"
#include "node/persist.h"
#include "node/reach.h"
#include "node/serve_limit.h"
#include "node/timing.h"
#include "node/vcache.h"
#include "node/worker.h"
#include "wire/block.h"

struct loy_client_api;
struct loy_node;

/* The ledger's group (node_flush.c). After a block joined it (ledger
 * thread): flushes it if it is due; *flushed says whether the store now
 * holds the block. */
struct loy_flush_stat {
	bool flushed; /* data.mdb holds the block */
	bool durable; /* and the disk does (not a flush without fsync) */
	/* committed without waiting for the disk, which a pool job waits
	 * for (loy_ledger_flush_async); the blocks are durable in the log */
	bool background;
	/* due at the slot only: flushed by a job of its own, queued once
	 * consensus has heard of the apply (loy_node_flush_queue) */
	bool deferred;
	uint32_t blocks, txs;
	uint64_t ms;
};
/* What the flush schedule knows of the block just applied. */
struct loy_flush_when {
	bool fetched;    /* caught up from a peer */
	bool validator;  /* this node is in the set of the next height */
	bool slot;       /* the height is its flush slot (flush_slot.h) */
	bool leads_next; /* it is the view-0 leader of the next height */
};
int loy_node_group_after_apply(struct loy_node *n,
			       const struct loy_flush_when *w,
			       struct loy_flush_stat *st);
void loy_node_flush_log(struct loy_node *n, const struct loy_flush_stat *st);
/* Queues a flush of the group (loop thread); _soon also has an apply
 * under way flush it. */
void loy_node_flush_soon(struct loy_node *n);
void loy_node_flush_queue(struct loy_node *n);
/* Writes the core's record before what it allows leaves (node_persist.c). */
void loy_node_persist_request(struct loy_node *n,
			      const struct loy_cons_persist *rec, uint64_t seq);
/* Arms the quiet-chain flush (loop thread, after an apply). */
void loy_node_group_idle(struct loy_node *n);
struct loy_staged_results;

/* A piece of blocking work for the thread pool. run() runs on a pool
 * thread and must not touch loop-thread state; done() runs on the loop
 * thread afterwards and frees the job. */
struct loy_job {
	uv_work_t req;
	struct loy_node *node;
	void (*run)(struct loy_job *j);
	void (*done)(struct loy_job *j);
	struct loy_job *next;
};

struct loy_node {
	uv_loop_t *loop;
	struct loy_config cfg;
	struct loy_genesis genesis;
	struct loy_log log;
	uint8_t sk[LOY_SECKEY_SIZE], pk[LOY_PUBKEY_SIZE];

	struct loy_ledger *ledger;
	struct loy_cons *cons;
	struct loy_mempool *mempool;
	struct loy_vcache verified; /* tx hashes whose signatures we checked */
	struct loy_peer_net *net;
	struct loy_client_api *api;

	uv_timer_t timer;
	uint64_t timer_at;      /* armed deadline, UINT64_MAX when none */
	struct loy_reach reach; /* validators we cannot reach (reach.h) */

	/* Ledger writer calls run one at a time, in order, on their own
	 * thread. */
	struct loy_worker worker;
	bool worker_started;
	/* Signature checks of admitted transactions: one thread per core, at
	 * a lower priority, so that under load the consensus path (the loop,
	 * the ledger thread, persists) is never starved by verification. */
	struct loy_worker verifier;
	bool verifier_started;

	/* Consensus record persistence: one write in flight, the newest
	 * record waiting behind it. */
	struct loy_persist_file *persist_file;
	/* Blocks caught up from peers join the ledger's group without a
	 * block-log record: how many were applied, and how many of them a
	 * flush has put in data.mdb. No consensus record is written while
	 * some are not (a record may vote above them; after a crash it would
	 * be ahead of the store). */
	uint64_t fetched_applied, fetched_flushed;
	bool persist_busy;
	bool persist_pending;
	struct loy_persist_copy persist_next;

	/* The results of the block this node last executed itself (built or
	 * checked). When that very block commits, clients hear of it at once,
	 * before the ledger has applied it (node_chain.c); until the ledger
	 * has, their queries wait (client_api.c), so they read their writes. */
	struct loy_staged_results *staged;
	uint64_t acked_height; /* clients were told of commits up to here */
	/* Readers on other threads (queries, block sync) see the ledger up to
	 * here: blocks in the ledger's group are not in data.mdb until it is
	 * flushed (node_flush.c). */
	uint64_t visible_height;
	atomic_bool flush_wanted; /* flush the group at the next apply */
	bool flush_queued;
	bool final_flush; /* queued as the node stops */
	uv_timer_t group_timer;
	uint64_t group_since_ms; /* ledger thread: the group's first block */
	/* the account history index job (node_history.c) */
	bool history_queued, history_failed;
	uint64_t history_at_ms;
	uint64_t history_height; /* the last height the index job reached */
	/* ledger thread: data_dir/unsynced is written (node_flush.c) */
	bool unsynced_marked;
	/* test failpoint (LOYD_TEST_HOLD_SYNC in the environment): no pool
	 * job waits for an asynchronous flush, so each next commit does, and
	 * a kill -9 lands with one not on disk (tests/integration) */
	bool test_hold_sync;

	/* What the status command shows. */
	uint64_t tip_height;
	uint8_t tip_hash[LOY_HASH_SIZE];
	uint8_t tip_root[LOY_HASH_SIZE];
	struct loy_valset valset; /* of tip_height + 1 */
	uint64_t committed_txs;
	/* transaction signatures this node verified (admission and block
	 * checks): once per transaction when the verified cache works, which
	 * loyctl bench reports per committed transaction */
	uint64_t sig_checks;
	uint64_t fetch_from; /* last logged "behind: fetching" height */
	struct loy_serve_limit serving;   /* sync answers per asking peer */
	struct loy_serve_limit asked;     /* sync requests out per peer */
	struct loy_serve_limit gossiping; /* KiB of gossip being checked */
	uint64_t sync_unasked;            /* answers dropped: not asked for */
	struct loy_timing timing;         /* stages of the last heights */
	/* The highest private resident memory (RssAnon) seen, sampled a few
	 * times a second: the kernel keeps a peak only of all resident pages,
	 * LMDB's mapped store included (status.c). */
	uv_timer_t mem_timer;
	uint64_t rss_anon_peak_kib;

	bool stopping;
	bool damage_logged; /* the ledger's damage was logged (once) */
	int exit_code;
	unsigned open_handles;
	unsigned pool_jobs; /* in flight outside the ledger queue */
	/* Signature-check parts wait here so that at most two occupy libuv's
	 * pool at once, leaving threads for persists, queries and sync. */
	struct loy_job *admit_head, *admit_tail;
	unsigned admit_running;
	void (*on_stopped)(void *data, int exit_code);
	void *stop_data;
};

/* Wall-clock milliseconds (block times are Unix ms). */
uint64_t loy_node_now_ms(void);

/* Once the ledger has met damage in data.mdb (loy_ledger_damage), logs it
 * once and stops the node with exit code 1: nothing is signed, sent or
 * served from a damaged store. Returns true when the store is damaged.
 * Loop thread. */
bool loy_node_halt_if_damaged(struct loy_node *n);

/* Feeds one event to the consensus core and carries out its update (not
 * once the store is found damaged). */
void loy_node_cons_event(struct loy_node *n, struct loy_cons_event *ev);

/* Queues a ledger writer job (runs after the ones before it). */
void loy_node_ledger_job(struct loy_node *n, struct loy_job *j);
/* Runs j on the verifier threads (any order, in parallel). */
void loy_node_verify_job(struct loy_node *n, struct loy_job *j);
/* A block was applied with LOY_APPLY_NO_SYNC: make it durable (thread pool)
 * before the next consensus record is written. */
/* A block caught up from peers was applied (flushed: the group, with it,
 * is in data.mdb now). */
void loy_node_fetched_applied(struct loy_node *n, bool flushed);
/* The ledger's group reached data.mdb (a flush job or an apply's flush). */
void loy_node_group_flushed(struct loy_node *n);
/* Runs a job on the pool right away (read-only ledger work, signature
 * checks). */
void loy_node_pool_job(struct loy_node *n, struct loy_job *j);

/* node_history.c: indexes account history on the pool, at most once a
 * second (loop thread, after a flush). */
void loy_node_index_history(struct loy_node *n);

/* node_chain.c: what the consensus update asks of the ledger. */
uint32_t loy_node_member_peers(struct loy_node *n, struct loy_peer_addr *out,
			       uint32_t max);
void loy_node_build(struct loy_node *n, const struct loy_cons_update *up);
void loy_node_check(struct loy_node *n, const struct loy_cons_check *chk);
void loy_node_commit(struct loy_node *n, const struct loy_cons_update *up);

/* node_sync.c: block sync over peer links. */
void loy_node_fetch(struct loy_node *n, uint64_t from,
		    const uint8_t peer[LOY_PUBKEY_SIZE]);
void loy_node_on_sync_request(struct loy_node *n,
			      const uint8_t peer[LOY_PUBKEY_SIZE],
			      const uint8_t *msg, size_t len);
void loy_node_on_sync_response(struct loy_node *n,
			       const uint8_t peer[LOY_PUBKEY_SIZE],
			       const uint8_t *msg, size_t len);

/* node_txs.c: admission of transactions from clients and peers. source is
 * NULL for a client (then they are gossiped) or the peer's key. cb, if not
 * NULL, is told each transaction's outcome in order (code 0 = admitted or
 * already known; hash set for every decodable tx). */
typedef void (*loy_admit_cb)(void *data, uint32_t i, int code,
			     const uint8_t hash[LOY_HASH_SIZE],
			     const char *why);
/* Sends a peer the transactions pending in our mempool (oldest first, in
 * batches), e.g. when its link comes up. */
void loy_node_push_mempool(struct loy_node *n,
			   const uint8_t peer[LOY_PUBKEY_SIZE]);
void loy_node_on_gossip(struct loy_node *n, const uint8_t peer[LOY_PUBKEY_SIZE],
			const uint8_t *msg, size_t len);
void loy_node_admit(struct loy_node *n, const struct loy_buf *txs,
		    uint32_t count, const uint8_t *source, loy_admit_cb cb,
		    void *data, void (*all_done)(void *data));

/* client_api.c */
int loy_client_api_start(struct loy_node *n, struct loy_client_api **out,
			 char *err, size_t err_size);
void loy_client_api_close(struct loy_client_api *a, void (*done)(void *),
			  void *data);
/* A block committed: results per tx; tells waiting clients and
 * subscribers. */
void loy_client_api_on_commit(struct loy_client_api *a, uint64_t height,
			      const struct loy_block *b,
			      const uint8_t (*hashes)[LOY_HASH_SIZE],
			      const struct loy_tx_result *results);
/* The ledger caught up with what clients were told: runs the requests held
 * back meanwhile (loy_node_behind_acks). */
void loy_client_api_release(struct loy_client_api *a);
/* Client connections open, those not read from for now (too much in
 * progress: MAX_CLIENT_REFS), and submits waiting for commits, for
 * status. */
void loy_client_api_counts(const struct loy_client_api *a, uint32_t *open,
			   uint32_t *paused, uint64_t *waiting);
/* Whether clients were told of a commit, or the node applied a block
 * (caught up from peers, say), that is not in data.mdb yet: what a
 * client's read would miss. */
bool loy_node_behind_acks(const struct loy_node *n);
/* Notes the private resident memory now in n->rss_anon_peak_kib
 * (status.c). */
void loy_node_mem_sample(struct loy_node *n);
/* Frees the staged results (node_chain.c). */
void loy_node_staged_free(struct loy_staged_results *s);

#endif
