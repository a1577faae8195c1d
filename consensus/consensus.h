/* The PBFT consensus core: one step function from events to updates. Pure:
 * no I/O, no clock, no randomness; the node carries every update out. */
#ifndef LOY_CONSENSUS_H
#define LOY_CONSENSUS_H

#include <stddef.h>
#include <stdint.h>

#include "wire/block.h"
#include "wire/buf.h"
#include "wire/crypto.h"
#include "wire/limits.h"

struct loy_cons; /* opaque; one per node, no globals */

/* The validators of one height, from the ledger. Order matters: the leader
 * of (height, view) is keys[(height + view) % n]. */
struct loy_valset {
	uint32_t n;
	uint8_t keys[LOY_MAX_VALIDATORS][LOY_PUBKEY_SIZE];
};

struct loy_cons_config {
	char chain_id[LOY_CHAIN_ID_MAX + 1];
	uint8_t sk[LOY_SECKEY_SIZE]; /* this node's validator key (copied) */
	uint32_t max_block_txs;      /* caps handed to the block builder */
	uint32_t max_block_bytes;
	uint64_t batch_ms; /* a height's leader proposes no sooner (unless a
			    * block is full) */
	uint64_t view_timeout_ms; /* first view's timeout; doubles per view */
	uint64_t max_view_timeout_ms;
	uint64_t resend_ms;         /* re-broadcast own messages when stuck */
	uint64_t fetch_timeout_ms;  /* retry a catch-up fetch after this */
	uint64_t max_clock_skew_ms; /* block time may lead our clock by this */
	/* Test only: a deliberately broken core whose leaders and replicas
	 * ignore prepared certificates in NEW-VIEW (the negative control). */
	int test_ignore_prepared;
};

/* Fills in working defaults for everything but chain_id and sk. */
void loy_cons_config_default(struct loy_cons_config *c);

/* What the node stored the last time it carried out a persist: the core's
 * signing state at its current height. A restarted core given this record
 * never signs anything that conflicts with what it signed before. */
struct loy_cons_persist {
	uint64_t height; /* height being decided */
	uint64_t view;
	uint8_t in_view_change; /* sent VIEW-CHANGE for view */
	uint8_t proposed;       /* signed a proposal at view */
	uint8_t proposed_hash[LOY_HASH_SIZE];
	uint8_t voted_prepare; /* signed PREPARE at view */
	uint8_t prepare_hash[LOY_HASH_SIZE];
	uint8_t voted_commit; /* signed COMMIT at view */
	uint8_t commit_hash[LOY_HASH_SIZE];
	uint8_t has_prepared; /* highest prepared cert */
	struct loy_cert prepared;
	const uint8_t *prepared_block; /* its block's bytes */
	size_t prepared_block_len;
};

/* Where the chain stands when a core starts: the ledger's tip. */
struct loy_cons_start {
	uint64_t committed_height;        /* 0 = genesis only */
	uint8_t last_hash[LOY_HASH_SIZE]; /* hash of that block (zeroes) */
	uint64_t last_time_ms;
	struct loy_valset valset; /* set of committed_height + 1 */
	const struct loy_cons_persist *persist; /* NULL: nothing stored */
	int restarted; /* this node ran before (it may have sent messages its
			* record does not show: a view-0 proposal) */
	uint32_t pending_txs; /* mempool size now */
	uint64_t now_ms;
};

enum loy_cons_event_type {
	LOY_CONS_TICK = 1,      /* the timer fired (or any time passed) */
	LOY_CONS_RECEIVE,       /* a consensus message from a peer */
	LOY_CONS_TXS_READY,     /* the mempool holds this many transactions */
	LOY_CONS_BLOCK_BUILT,   /* answer to update.build */
	LOY_CONS_BLOCK_CHECKED, /* answer to one of update.checks */
	LOY_CONS_PERSISTED,     /* update.persist with this seq is durable */
	LOY_CONS_APPLIED,       /* update.commit is applied to the ledger */
	LOY_CONS_FETCHED,       /* answer to update.fetch */
	LOY_CONS_UNREACHABLE,   /* validators this node cannot reach now */
	LOY_CONS_PEER_UP,       /* a link to this validator came up */
};

/* One block a peer served for catch-up. Borrowed for the step call. */
struct loy_cons_fetched {
	const uint8_t *block;
	size_t block_len;
	const struct loy_cert *cert;
};

/* Pointers in an event are borrowed for the duration of the step call. */
struct loy_cons_event {
	enum loy_cons_event_type type;
	uint64_t now_ms; /* the node's clock; every event carries it */
	union {
		struct {
			const uint8_t *data;
			size_t len;
		} receive;
		struct {
			uint32_t count;
			uint64_t bytes;
		} txs;
		struct {
			uint64_t height, view;
			const uint8_t *data; /* NULL: could not build */
			size_t len;
		} built;
		struct {
			uint8_t hash[LOY_HASH_SIZE];
			int ok; /* the block is fully valid on our ledger */
		} checked;
		struct {
			uint64_t seq;
		} persisted;
		struct {
			uint64_t height;
			const struct loy_valset *next; /* set of height + 1 */
			uint32_t pending_txs;
		} applied;
		struct {
			uint32_t count;
			const struct loy_cons_fetched *blocks;
		} fetched;
		/* The validators this node has had no link to for a while (the
		 * whole list each time; count 0: all reachable). A view whose
		 * leader is among them is left at once instead of at its
		 * timeout, while the others still make a quorum with us. Only
		 * liveness depends on it: a wrong list costs a view change. */
		struct {
			uint32_t count;
			const uint8_t (*keys)[LOY_PUBKEY_SIZE];
		} unreachable;
		/* The core tells the peer its height at once, so a peer that
		 * is behind (restarted, wiped) starts fetching without
		 * waiting for the next STATUS beacon. */
		struct {
			const uint8_t *key;
		} peer_up;
	};
};

/* A message to send: to one validator key, or to every peer. */
struct loy_cons_send {
	int broadcast;
	uint8_t to[LOY_PUBKEY_SIZE];
	const uint8_t *data;
	size_t len;
};

/* A block the node must check against its ledger (contents, signatures,
 * nonces, state root) and answer with LOY_CONS_BLOCK_CHECKED. */
struct loy_cons_check {
	uint64_t height;
	uint8_t hash[LOY_HASH_SIZE];
	const uint8_t *block;
	size_t block_len;
};

/* Two signed, conflicting statements by one validator. */
struct loy_cons_evidence {
	uint8_t validator[LOY_PUBKEY_SIZE];
	uint8_t kind; /* enum loy_cmsg_kind */
	uint64_t height, view;
	uint8_t hash_a[LOY_HASH_SIZE], hash_b[LOY_HASH_SIZE];
	uint8_t sig_a[LOY_SIG_SIZE], sig_b[LOY_SIG_SIZE];
};

enum {
	LOY_CONS_UPDATE_PERSIST = 1 << 0,
	LOY_CONS_UPDATE_COMMIT = 1 << 1,
	LOY_CONS_UPDATE_BUILD = 1 << 2,
	LOY_CONS_UPDATE_FETCH = 1 << 3,
	/* The core put work off until this update's actions are under way
	 * (the next caught-up block's signatures, checked while this one
	 * applies): step it again with LOY_CONS_TICK after carrying them
	 * out. Ignoring it only delays that work to the next event. */
	LOY_CONS_UPDATE_AGAIN = 1 << 4,
};

/* What the node must do, in this order: persist (then report
 * LOY_CONS_PERSISTED; messages that depend on it are held back by the core
 * until then), apply the committed block (then report LOY_CONS_APPLIED
 * with the next height's validator set), send, answer build/checks/fetch,
 * arm the timer. Every pointer is owned by the core and valid until the next
 * loy_cons_step or loy_cons_free. */
struct loy_cons_update {
	unsigned flags;
	const struct loy_cons_persist *persist;
	uint64_t persist_seq;
	struct {
		uint64_t height;
		uint8_t hash[LOY_HASH_SIZE];
		const uint8_t *block;
		size_t block_len;
		const struct loy_cert *cert; /* commit certificate */
		int fetched; /* caught up (fetched from a peer), not voted */
	} commit;
	struct {
		uint64_t height, view, time_ms;
		uint8_t prev_hash[LOY_HASH_SIZE];
		uint8_t proposer[LOY_PUBKEY_SIZE];
		uint32_t max_txs, max_bytes;
	} build;
	struct {
		uint64_t from_height;
		uint8_t peer[LOY_PUBKEY_SIZE]; /* a peer that has them */
	} fetch;
	uint32_t n_sends;
	const struct loy_cons_send *sends;
	uint32_t n_checks;
	const struct loy_cons_check *checks;
	uint32_t n_evidence;
	const struct loy_cons_evidence *evidence;
	uint64_t timer_ms; /* absolute; UINT64_MAX: no timer */
};

/* Creates a core. Copies cfg and start (including the persisted record's
 * block bytes). Returns 0, LOY_EINVAL or LOY_ENOMEM; *out is owned by the
 * caller and released with loy_cons_free. The first update (timer, any
 * resumed messages) comes from a LOY_CONS_TICK. */
int loy_cons_new(struct loy_cons **out, const struct loy_cons_config *cfg,
		 const struct loy_cons_start *start) LOY_MUST_USE;
void loy_cons_free(struct loy_cons *c);

/* Feeds one event; *up is filled with what to do (see above). Returns 0, or
 * LOY_ENOMEM (the core stays consistent; the event may be lost, as a dropped
 * message would be). Bad input from peers is not an error: it is ignored. */
int loy_cons_step(struct loy_cons *c, const struct loy_cons_event *ev,
		  struct loy_cons_update *up) LOY_MUST_USE;

/* Observers for tests and the node's status output. */
uint64_t loy_cons_height(const struct loy_cons *c); /* being decided */
uint64_t loy_cons_view(const struct loy_cons *c);
uint64_t loy_cons_view_changes(const struct loy_cons *c); /* total so far */

#endif
