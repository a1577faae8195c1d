/* Internal to consensus/: the core's state and the helpers its message
 * handlers share. Nothing outside consensus/ includes this. */
#ifndef LOY_CONSENSUS_CORE_H
#define LOY_CONSENSUS_CORE_H

#include <stdint.h>

#include "consensus/consensus.h"
#include "wire/consensus_msg.h"

#define CONS_MAX_CANDS  8    /* candidate blocks kept per height */
#define CONS_MAX_VOTES  4096 /* votes kept per height */
#define CONS_VIEW_AHEAD 16   /* furthest future view we keep state for */
#define CONS_MAX_FUTURE 64   /* next-height messages held for replay */
/* Messages up to this many heights ahead are held, not answered with a
 * fetch: a node whose apply waited for a flush (30-80 ms while heights take
 * ~10 ms) finds the proposals and votes it missed when it gets there, and
 * commits them as they come instead of asking a peer that may be busy
 * deciding them. */
#define CONS_FUTURE_HEIGHTS   4u
#define CONS_MAX_FUTURE_BYTES (16u << 20)
#define CONS_MAX_EVIDENCE     16   /* evidence entries per update */
#define CONS_CACHE_SLOTS      1024 /* verified-signature cache */
#define CONS_SEEN_SLOTS       64   /* recently handled message digests */

enum cons_check { CHECK_NONE, CHECK_PENDING, CHECK_VALID, CHECK_INVALID };

/* Our own signed messages at (height, view), kept for re-sending. */
enum cons_mine { MINE_PROPOSAL, MINE_PREPARE, MINE_COMMIT, MINE_VC, MINE_N };

struct cons_cand {
	uint8_t hash[LOY_HASH_SIZE];
	struct loy_buf bytes;
	struct loy_block_header hdr;
	uint8_t check; /* enum cons_check */
};

struct cons_vote {
	uint8_t type; /* enum loy_vote_type */
	uint64_t view;
	uint8_t hash[LOY_HASH_SIZE];
	uint32_t idx; /* in the height's validator set */
	uint8_t sig[LOY_SIG_SIZE];
};

struct cons_vc {
	uint32_t idx;
	struct loy_cmsg msg; /* decoded VIEW-CHANGE, owns cert and block */
};

struct cons_out {
	uint64_t seq; /* released once the persist with this seq is durable */
	int released;
	int broadcast;
	uint8_t to[LOY_PUBKEY_SIZE];
	struct loy_buf bytes;
};

struct cons_future {
	uint8_t from[LOY_PUBKEY_SIZE];
	struct loy_buf bytes;
};

struct cons_fetched {
	struct loy_buf block;
	struct loy_cert cert;
};

struct loy_cons {
	struct loy_cons_config cfg;
	uint8_t pk[LOY_PUBKEY_SIZE];
	uint64_t now;

	/* chain tip and the validator set of the height being decided */
	uint64_t height;
	uint8_t last_hash[LOY_HASH_SIZE];
	uint64_t last_time;
	struct loy_valset vs;
	uint32_t quorum, f;
	int me;       /* our index in vs, -1 when not a validator */
	int applying; /* committed, waiting for LOY_CONS_APPLIED */
	uint8_t applying_hash[LOY_HASH_SIZE];
	uint64_t applying_time;

	/* validators the node reports unreachable (LOY_CONS_UNREACHABLE) */
	uint32_t n_unreach;
	uint8_t unreach[LOY_MAX_VALIDATORS][LOY_PUBKEY_SIZE];

	/* view state */
	uint64_t view;
	uint64_t view_deadline; /* 0: not armed */
	uint64_t view_changes;
	int has_proposal;
	uint8_t prop_hash[LOY_HASH_SIZE];
	uint8_t prop_sig[LOY_SIG_SIZE];
	int nv_pending; /* leader: NEW-VIEW waits for a built block */
	int building;
	struct loy_buf mine[MINE_N];

	/* signing state and its durability */
	struct loy_cons_persist rec;
	struct loy_buf rec_block;
	uint64_t seq, durable_seq;
	int persist_dirty;

	struct cons_cand cands[CONS_MAX_CANDS];
	uint32_t n_cands;
	struct cons_vote *votes;
	uint32_t n_votes, cap_votes;
	struct cons_vc *vcs;
	uint32_t n_vcs, cap_vcs;

	uint32_t pending_txs;
	uint64_t batch_deadline;
	uint64_t height_since; /* when this height began (its first tick) */
	uint64_t quiet_height; /* no view-0 proposal here (restarted) */
	uint64_t resend_at;
	uint64_t resend_mark;

	uint64_t fetch_retry_at;
	uint8_t fetch_peer[LOY_PUBKEY_SIZE]; /* asked last */
	int catching_up; /* committed a fetched block since the last fetch */
	int warm_next;   /* check the next fetched certificate (catchup.c) */
	uint64_t sig_checks; /* Ed25519 verifications run (not cache hits) */
	/* The last fetch was answered empty with nothing in hand: ask
	 * fetch_peer again at fetch_retry_at (nothing else would until a
	 * STATUS or resend_ms), at most CONS_EMPTY_RETRIES times in a row. */
	int refetch;
	uint32_t empty_answers;
	/* A message more than CONS_FUTURE_HEIGHTS ahead came while a block
	 * was being applied: fetch from its sender as soon as the apply is
	 * done, not when it next resends (a node that fell behind by one slow
	 * apply would wait resend_ms). */
	int fetch_after_apply;
	uint8_t fetch_after_peer[LOY_PUBKEY_SIZE];
	struct cons_fetched *fetched; /* up to CONS_FETCH_CAP */
	uint32_t n_fetched;
	/* The next run asked for while this one is applied (from this
	 * height; 0: none outstanding), so a catch-up never waits for a
	 * round trip between runs. */
	uint64_t prefetch_from;
	struct cons_future future[CONS_MAX_FUTURE];
	uint32_t n_future;
	size_t future_bytes;
	uint64_t future_since;

	uint8_t (*bad)[LOY_PUBKEY_SIZE]; /* proven equivocators */
	uint32_t n_bad;

	struct cons_out *out;
	uint32_t n_out, cap_out;

	/* the update being built */
	struct loy_cons_update *up;
	struct loy_cons_send *sends;
	uint32_t cap_sends;
	struct loy_cons_check checks[CONS_MAX_CANDS];
	struct loy_cons_evidence evidence[CONS_MAX_EVIDENCE];
	struct loy_buf commit_block;
	struct loy_cert commit_cert;

	uint8_t seen[CONS_SEEN_SLOTS][LOY_HASH_SIZE];
	uint32_t seen_next;
	uint8_t (*cache)[LOY_HASH_SIZE];
	int oom;
};

/* core.c */
int cons_index(const struct loy_cons *c, const uint8_t pk[LOY_PUBKEY_SIZE]);
uint32_t cons_leader(const struct loy_cons *c, uint64_t view);
int cons_is_leader(const struct loy_cons *c, uint64_t view);
int cons_is_bad(const struct loy_cons *c, const uint8_t pk[LOY_PUBKEY_SIZE]);
uint64_t cons_timeout(const struct loy_cons *c, uint64_t view);
void cons_mark_persist(struct loy_cons *c);
/* Queues bytes (ownership moves) to go out once the current persist is
 * durable (after_persist) or at once. */
void cons_queue(struct loy_cons *c, int broadcast,
		const uint8_t to[LOY_PUBKEY_SIZE], struct loy_buf *bytes,
		int after_persist);
/* Encodes, keeps a copy in mine[slot] and queues a broadcast (held until
 * the record is durable unless after_persist is 0). */
void cons_send_mine(struct loy_cons *c, enum cons_mine slot,
		    const struct loy_cmsg *m);
void cons_send_mine_at(struct loy_cons *c, enum cons_mine slot,
		       const struct loy_cmsg *m, int after_persist);
void cons_evidence(struct loy_cons *c, const struct loy_cons_evidence *e);
void cons_arm_view_timer(struct loy_cons *c);
int cons_set_rec_block(struct loy_cons *c, const uint8_t *p, size_t len);

/* Candidate blocks at the current height. */
struct cons_cand *cons_cand_find(struct loy_cons *c,
				 const uint8_t hash[LOY_HASH_SIZE]);
/* Decodes a block, checks its header extends our tip (chain, height,
 * previous hash, later time) and computes its hash.
 * Returns 0 or an error (the block is not for us). */
int cons_block_open(struct loy_cons *c, const uint8_t *p, size_t len,
		    struct loy_block_header *hdr, uint8_t hash[LOY_HASH_SIZE]);
/* A proposed block's time may lead our clock by at most the skew bound
 * (blocks already final are taken whatever their time). */
int cons_time_ok(const struct loy_cons *c, const struct loy_block_header *hdr);
struct cons_cand *cons_cand_add(struct loy_cons *c, const uint8_t *p,
				size_t len, const struct loy_block_header *hdr,
				const uint8_t hash[LOY_HASH_SIZE]);
void cons_cand_request_check(struct loy_cons *c, struct cons_cand *cand);

/* verify.c: signature checks behind a verified-signature cache. */
int cons_verify_vote(struct loy_cons *c, const struct loy_vote *v);
int cons_verify_msg(struct loy_cons *c, const struct loy_cmsg *m,
		    const uint8_t block_hash[LOY_HASH_SIZE]);
int cons_verify_cert(struct loy_cons *c, const struct loy_cert *cert,
		     uint8_t type);
void cons_warm_cert(struct loy_cons *c, const struct loy_cert *cert);

/* votes.c */
void cons_on_vote(struct loy_cons *c, const struct loy_cmsg *m);
void cons_add_own_vote(struct loy_cons *c, const struct loy_vote *v);
void cons_sign_vote(struct loy_cons *c, uint8_t type,
		    const uint8_t hash[LOY_HASH_SIZE]);
void cons_try_prepare(struct loy_cons *c);
void cons_try_commit_vote(struct loy_cons *c);
void cons_try_decide(struct loy_cons *c, uint64_t view,
		     const uint8_t hash[LOY_HASH_SIZE]);
uint32_t cons_count(const struct loy_cons *c, uint8_t type, uint64_t view,
		    const uint8_t hash[LOY_HASH_SIZE]);

/* propose.c */
void cons_on_propose(struct loy_cons *c, const struct loy_cmsg *m);
void cons_on_built(struct loy_cons *c, const struct loy_cons_event *ev);
void cons_on_checked(struct loy_cons *c, const struct loy_cons_event *ev);
void cons_request_build(struct loy_cons *c);
void cons_accept_proposal(struct loy_cons *c, const uint8_t *block, size_t len,
			  const struct loy_block_header *hdr,
			  const uint8_t hash[LOY_HASH_SIZE], int self_built);

/* view_change.c */
void cons_start_view_change(struct loy_cons *c, uint64_t view);
void cons_on_view_change(struct loy_cons *c, struct loy_cmsg *m);
void cons_on_new_view(struct loy_cons *c, const struct loy_cmsg *m);
void cons_try_new_view(struct loy_cons *c);
void cons_make_new_view(struct loy_cons *c, const uint8_t *block, size_t len,
			int self_built);
void cons_vcs_clear(struct loy_cons *c, uint64_t below_view);

/* catchup.c */
void cons_on_status(struct loy_cons *c, const struct loy_cmsg *m);
void cons_request_fetch(struct loy_cons *c,
			const uint8_t peer[LOY_PUBKEY_SIZE]);
/* After an empty sync answer, the next fetch leaves this soon, up to
 * CONS_EMPTY_RETRIES times in a row (a second), then only on the usual
 * triggers. */
#define CONS_EMPTY_RETRY_MS 50u
#define CONS_EMPTY_RETRIES  20u
/* Fetched blocks held at most: the run being applied and the next. */
#define CONS_FETCH_CAP (2 * LOY_MAX_SYNC_BLOCKS)
void cons_on_fetched(struct loy_cons *c, const struct loy_cons_event *ev);
void cons_warm_next(struct loy_cons *c);
/* While catching up: asks for the run after the buffered blocks once
 * fewer than a run's half are left. */
void cons_prefetch(struct loy_cons *c);
void cons_apply_fetched(struct loy_cons *c);
void cons_commit(struct loy_cons *c, const uint8_t *block, size_t len,
		 const struct loy_block_header *hdr,
		 const uint8_t hash[LOY_HASH_SIZE],
		 const struct loy_cert *cert);
void cons_send_status(struct loy_cons *c, const uint8_t *to);

#endif
