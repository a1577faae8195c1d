/* The ledger: the loyalty state machine on LMDB (open, genesis, execute and
 * apply blocks, validator sets) and its read-only queries.
 *
 * Usage, in the manner of lmdb.h:
 *  - One struct loy_ledger per data directory and process. It is opaque;
 *    open it with loy_ledger_open and release it with loy_ledger_close once
 *    no other call on it is running.
 *  - Writers (loy_ledger_init_genesis, loy_ledger_execute,
 *    loy_ledger_check_tx, loy_ledger_apply_block) must be called from one
 *    thread at a time; each runs inside one LMDB write transaction of its own.
 *    loy_ledger_apply_block makes exactly one durable commit per block: the
 *    block, its certificate, every state change, the tip and the state root
 *    become visible together or not at all. A call that fails leaves the
 *    store as it was (the write transaction is aborted, never reused).
 *  - Queries (ledger/query.h) run in read-only LMDB transactions from any
 *    number of threads (the environment is opened with MDB_NOTLS) and never
 *    block the writer: they see the last committed block.
 *  - A state root mismatch, or a block that fails to apply after its
 *    certificate verified, is a divergence: the ledger halts (every later
 *    writer call fails with LOY_ESTATE) rather than drift silently.
 *  - errmsg (loy_ledger_errmsg) holds the context of the last failed writer
 *    call, e.g. "ledger: apply block 42: map full".
 *  - Every stored record carries an integrity tag (storage only: it is in
 *    no hash, root or message), checked on every read. Any call, writer or
 *    query, that meets a damaged record (or a B-tree page LMDB reports as
 *    damaged) returns LOY_ECORRUPT and never an answer from it, and the
 *    first such damage is kept (loy_ledger_damage); from then on every
 *    writer call fails with LOY_ECORRUPT. The open checks only the tip and
 *    the ends of each table (chains are long); loy_ledger_verify_store
 *    checks everything.
 *
 * Execution rules (the whole contract is in ledger/README-exec in the
 * comments of ledger/exec.c; the short form):
 *  - A transaction is *invalid* when it is malformed, for another chain, has
 *    a bad signature or a nonce that is not exactly the signer's next one. An
 *    invalid transaction never enters a block: a block containing one is
 *    rejected as a whole.
 *  - A valid transaction that breaks a business rule is *rejected*: it stays
 *    in the block with a stable code (enum loy_reject) and a human message,
 *    changes no balance, but DOES consume its nonce (so it can never be
 *    replayed later) and is indexed by hash.
 *  - Within a block, each transaction sees the effects of the earlier ones.
 *  - Everything is integer arithmetic with overflow checks; no clock other
 *    than the block time; no iteration order other than LMDB key order. */
#ifndef LOY_LEDGER_LEDGER_H
#define LOY_LEDGER_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/block.h"
#include "wire/buf.h"
#include "wire/crypto.h"
#include "wire/limits.h"
#include "wire/tx.h"

struct loy_ledger;

/* Stable result codes of a transaction (stored in the tx index, part of the
 * state root, shown to clients). Never renumber. Codes 1..19 make a
 * transaction invalid (it cannot be in a block); 20 and up are rejections
 * recorded in the block. */
enum loy_reject {
	LOY_REJ_OK = 0,
	LOY_REJ_MALFORMED = 1,
	LOY_REJ_WRONG_CHAIN = 2,
	LOY_REJ_BAD_SIGNATURE = 3,
	LOY_REJ_BAD_NONCE = 4,
	LOY_REJ_INVALID_MAX = 19,

	LOY_REJ_NOT_AUTHORIZED = 20, /* signer's role may not do this */
	LOY_REJ_ALREADY_REGISTERED = 21,
	LOY_REJ_UNKNOWN_CUSTOMER = 22,
	LOY_REJ_UNKNOWN_MEMBER = 23,
	LOY_REJ_UNKNOWN_TERMINAL = 24,
	LOY_REJ_DUPLICATE_REFERENCE = 25,
	LOY_REJ_ZERO_AMOUNT = 26,
	LOY_REJ_OVERFLOW = 27,
	LOY_REJ_INSUFFICIENT_POINTS = 28,
	LOY_REJ_NO_RULE = 29,
	LOY_REJ_BELOW_MINIMUM = 30,
	LOY_REJ_OUTSIDE_WINDOW = 31,
	LOY_REJ_NO_POINTS = 32,
	LOY_REJ_UNKNOWN_PARTNERSHIP = 33,
	LOY_REJ_NOT_PARTNER = 34,
	LOY_REJ_PARTNERSHIP_EXISTS = 35,
	LOY_REJ_ALREADY_PARTNER = 36,
	LOY_REJ_UNKNOWN_ISSUE = 37,
	LOY_REJ_ALREADY_REVERSED = 38,
	LOY_REJ_POINTS_SPENT = 39,
	LOY_REJ_UNKNOWN_COUPON = 40,
	LOY_REJ_COUPON_USED = 41,
	LOY_REJ_NOT_HOLDER = 42,
	LOY_REJ_OUTSIDE_GEOFENCE = 43,
	LOY_REJ_WRONG_SITE = 44,
	LOY_REJ_COUPON_LIMIT = 45,
	LOY_REJ_UNKNOWN_PROPOSAL = 46,
	LOY_REJ_ALREADY_VOTED = 47,
	LOY_REJ_PROPOSAL_CLOSED = 48,
	LOY_REJ_MEMBER_EXISTS = 49,
	LOY_REJ_UNKNOWN_SETTLEMENT = 50,
	LOY_REJ_SETTLEMENT_MISMATCH = 51,
	LOY_REJ_EXCEEDS_POSITION = 52,
	LOY_REJ_INVALID_PARAM = 53,
	LOY_REJ_TOO_MANY_VALIDATORS = 54,
	LOY_REJ_TERMINAL_EXISTS = 55,
	LOY_REJ_MISSING_REFERENCE = 56,
	LOY_REJ_MAX = 56
};

/* Stable snake_case name of a result code ("insufficient_points"), or
 * "unknown". */
const char *loy_reject_name(unsigned code);

/* --- Genesis --- */

struct loy_genesis_member {
	char name[LOY_NAME_MAX + 1];
	uint8_t pubkey[LOY_PUBKEY_SIZE]; /* validator and member signing key */
	char address[LOY_ADDR_MAX + 1];  /* peer host:port */
};

/* What the genesis file says, filled in by whoever parses it. */
struct loy_genesis {
	char chain_id[LOY_CHAIN_ID_MAX + 1];
	uint64_t time_ms;        /* genesis time: the tip time at height 0 */
	uint32_t commission_bps; /* 0 .. 10000, charged on redemptions */
	uint64_t point_value;    /* currency minor units per point (shown) */
	uint32_t member_count;   /* 1 .. LOY_MAX_VALIDATORS */
	struct loy_genesis_member members[LOY_MAX_VALIDATORS];
};

/* --- Open and close --- */

enum loy_ledger_flags {
	LOY_LEDGER_RDONLY = 1u << 0, /* open an existing store read-only */
	/* No fsync on commit: for throw-away stores only (audit replay into a
	 * temporary directory, benchmarks). Never for a node's data dir. */
	LOY_LEDGER_NOSYNC = 1u << 1,
	/* Group commit: blocks applied with LOY_APPLY_GROUP stay in one open
	 * write transaction and reach data.mdb together at loy_ledger_flush;
	 * until then each is durable in data_dir/blocks.wal (one sequential
	 * write and fdatasync instead of every page the block touched).
	 * Every writer call must then come from one thread, and readers on
	 * other threads see the store as of the last flush, while reads on
	 * that thread (tip, validators, queries) see the group. */
	LOY_LEDGER_GROUP = 1u << 2,
};

#define LOY_LEDGER_MAPSIZE_DEFAULT (1ull << 30)

/* Opens (creating if needed, unless RDONLY) the store in directory path,
 * which must exist. mapsize 0 means LOY_LEDGER_MAPSIZE_DEFAULT. On success
 * *out is a new handle owned by the caller (loy_ledger_close). On failure
 * nothing is allocated and, if errmsg is not NULL, errmsg[errlen] gets the
 * reason. Returns 0, LOY_EIO, LOY_ENOMEM or LOY_ECORRUPT (a damaged store:
 * truncated, a tip block that does not match the tip, a record at either end
 * of a table that fails its integrity tag; or a store of another format
 * version). */
int loy_ledger_open(const char *path, unsigned flags, uint64_t mapsize,
		    struct loy_ledger **out, char *errmsg,
		    size_t errlen) LOY_MUST_USE;

/* Closes the store and frees the handle. No call may be running on it. */
void loy_ledger_close(struct loy_ledger *l);

/* The context of the last failed writer call (never NULL; "" if none). */
const char *loy_ledger_errmsg(const struct loy_ledger *l);

/* True once the ledger halted on a divergence. */
bool loy_ledger_halted(const struct loy_ledger *l);

/* The first damage to data.mdb that any call on this handle met, as a
 * message naming the table and the record's key in hex, e.g. "data.mdb
 * damaged: accounts record 3fa2... fails its integrity check; restore the
 * data directory or wipe it to resync from peers"; NULL while none was
 * met. Any thread; the string stays valid until close. */
const char *loy_ledger_damage(const struct loy_ledger *l);

/* Reads every record of every table in one read transaction, checks its
 * integrity tag and that each table holds as many records as LMDB counts
 * for it (an audit of the store itself: it reads the whole file). Returns 0, or
 * LOY_ECORRUPT with the damage in errmsg (if not NULL) and in
 * loy_ledger_damage, or LOY_EIO. Any thread. */
int loy_ledger_verify_store(struct loy_ledger *l, char *errmsg,
			    size_t errlen) LOY_MUST_USE;

/* Writes the genesis state (height 0) in one write transaction. Fails with
 * LOY_ESTATE if the store already holds a genesis, LOY_EINVAL for a bad
 * description. */
int loy_ledger_init_genesis(struct loy_ledger *l,
			    const struct loy_genesis *g) LOY_MUST_USE;

/* Hash that block 1 names as its previous block: BLAKE2b-256 over
 * "loy/genesis/v1" and the height-0 state root (which commits to every
 * genesis parameter). Returns 0 or LOY_ENOTFOUND before genesis. */
int loy_ledger_genesis_hash(struct loy_ledger *l,
			    uint8_t out[LOY_HASH_SIZE]) LOY_MUST_USE;

/* The committed tip: height (0 = genesis only), block hash (the genesis
 * hash at 0), state root and block time. Any pointer may be NULL.
 * Returns 0 or LOY_ENOTFOUND before genesis. */
int loy_ledger_tip(struct loy_ledger *l, uint64_t *height,
		   uint8_t hash[LOY_HASH_SIZE],
		   uint8_t state_root[LOY_HASH_SIZE],
		   uint64_t *time_ms) LOY_MUST_USE;

/* The chain id this store was created for (borrowed; valid until close). */
const char *loy_ledger_chain_id(const struct loy_ledger *l);

/* --- Execution --- */

/* The outcome of one transaction. code is an enum loy_reject. */
struct loy_tx_result {
	uint16_t code;
	char msg[LOY_ERRMSG_MAX]; /* "" when applied */
};

enum loy_exec_flags {
	/* Verify every transaction's signature (the audit does; a node that
	 * verified at mempool admission need not). */
	LOY_EXEC_VERIFY_SIGS = 1u << 0,
	/* Proposer mode: an invalid transaction is left out (results[i].code
	 * says why) instead of failing the call; the state root is that of
	 * the block made of the others. */
	LOY_EXEC_SKIP_INVALID = 1u << 1,
	/* Keep the execution (its write transaction stays open) so that a
	 * following loy_ledger_apply_block of exactly that block (same height,
	 * time, transactions and state root) commits it without executing it
	 * again. Any other writer call drops it. With a stage, every writer
	 * call must come from the same thread (LMDB's write lock belongs to
	 * the thread that took it). */
	LOY_EXEC_STAGE = 1u << 2,
};

/* Executes n encoded transactions as block tip+1 at time_ms against the
 * committed state, without committing anything: fills results[0..n-1]
 * (caller-allocated) and the state root the block would have. time_ms must
 * not be below the tip's. Returns 0; LOY_EREJECTED when a transaction is
 * invalid and SKIP_INVALID is not set (errmsg names its position); LOY_ESTATE
 * when halted or before genesis; LOY_EIO / LOY_ENOMEM on store failure. */
int loy_ledger_execute(struct loy_ledger *l, const struct loy_buf *txs,
		       uint32_t n, uint64_t time_ms, unsigned flags,
		       struct loy_tx_result *results,
		       uint8_t state_root[LOY_HASH_SIZE]) LOY_MUST_USE;
/* The same with each transaction's hash (loy_tx_hash of txs[i]) given in
 * hashes[i], where the caller has them: a block's transactions are hashed
 * once per node, not at every step. */
int loy_ledger_execute_hashed(struct loy_ledger *l, const struct loy_buf *txs,
			      const uint8_t (*hashes)[LOY_HASH_SIZE],
			      uint32_t n, uint64_t time_ms, unsigned flags,
			      struct loy_tx_result *results,
			      uint8_t state_root[LOY_HASH_SIZE]) LOY_MUST_USE;

/* Checks one encoded transaction against the committed state as if it were
 * the first in the next block at time_ms (mempool admission, client
 * feedback). Nothing is written. Returns as loy_ledger_execute. */
int loy_ledger_check_tx(struct loy_ledger *l, const uint8_t *tx, size_t len,
			uint64_t time_ms, unsigned flags,
			struct loy_tx_result *result) LOY_MUST_USE;

enum loy_apply_flags {
	LOY_APPLY_VERIFY_SIGS = 1u << 0, /* verify every tx signature */
	/* Skip the certificate check (the caller verified it already). */
	LOY_APPLY_TRUST_CERT = 1u << 1,
	/* Commit without waiting for the disk (catching up on old blocks
	 * that the rest of the cluster holds anyway). A process crash loses
	 * nothing; an operating-system crash may lose or damage the store, so
	 * the next durable commit flushes everything written before it. */
	LOY_APPLY_NO_SYNC = 1u << 2,
	/* With LOY_LEDGER_GROUP: commit into the open group and append the
	 * block and certificate to the block log (durable on return); the
	 * store gets it at loy_ledger_flush. Any other apply flushes the group
	 * with it, as durably as its own flags say. */
	LOY_APPLY_GROUP = 1u << 4,
	/* With LOY_APPLY_GROUP: join the group without a block-log record.
	 * A crash before the flush loses the block (data.mdb keeps the tip it
	 * had); for blocks caught up from peers, which hold them. The next
	 * logged apply flushes the group with it durably, since the log must
	 * begin right above data.mdb's tip. */
	LOY_APPLY_UNLOGGED = 1u << 5,
};

/* Applies a final block: checks its chain id, height (tip+1), previous
 * hash, time (not below the tip's), tx root, proposer (in the validator set
 * of its height) and commit certificate (COMMIT for this block, quorum of the
 * validator set of its height); re-executes it; compares the state root with
 * the header's; stores block, certificate, results and state and moves the
 * tip, all in one durable commit. The bytes are borrowed for the call.
 * results, if not NULL, receives tx_count entries (caller-allocated, at most
 * LOY_MAX_BLOCK_TXS). Returns 0; LOY_EINVAL for a block that does not fit
 * the tip or a bad certificate (nothing changes); LOY_EREJECTED when it
 * holds an invalid transaction; LOY_ECORRUPT on a state root mismatch, after
 * which the ledger halts; LOY_ESTATE when halted; LOY_EIO / LOY_ENOMEM. */
int loy_ledger_apply_block(struct loy_ledger *l, const uint8_t *block,
			   size_t block_len, const uint8_t *cert,
			   size_t cert_len, unsigned flags,
			   struct loy_tx_result *results) LOY_MUST_USE;
/* The same with each transaction's hash (loy_tx_hash, in block order)
 * given in hashes, as the caller computed them from these bytes. */
int loy_ledger_apply_block_hashed(struct loy_ledger *l, const uint8_t *block,
				  size_t block_len, const uint8_t *cert,
				  size_t cert_len, unsigned flags,
				  const uint8_t (*hashes)[LOY_HASH_SIZE],
				  struct loy_tx_result *results) LOY_MUST_USE;

/* Makes every commit so far durable (after LOY_APPLY_NO_SYNC commits).
 * Safe to call from another thread while a write transaction runs: it only
 * flushes what earlier commits wrote. Returns 0 or LOY_EIO. */
int loy_ledger_sync(struct loy_ledger *l) LOY_MUST_USE;

/* Commits the open group (LOY_LEDGER_GROUP) to data.mdb durably and
 * empties the block log; a stage is dropped. Writer thread only. Returns 0
 * (also when there is no group), LOY_EIO or LOY_ENOMEM (then the block log
 * still holds the group's blocks). */
int loy_ledger_flush(struct loy_ledger *l) LOY_MUST_USE;

/* Whether the open group holds only blocks that are not in the block log
 * (LOY_APPLY_UNLOGGED: caught up from peers), at least one. */
bool loy_ledger_group_unlogged_only(const struct loy_ledger *l);

/* Commits such a group to data.mdb without waiting for the disk: a process
 * crash loses none of it (the kernel has the pages), a machine crash may
 * leave data.mdb torn, so the caller must have made that detectable first
 * (node/unsynced.h), and must make it durable (loy_ledger_sync, or any
 * durable flush) before it counts on the blocks being on disk. A group that
 * holds any logged block is flushed durably, as loy_ledger_flush does.
 * Writer thread only. Returns 0, LOY_EIO or LOY_ENOMEM; *durable says which
 * kind of commit was made (true when there was nothing to commit). */
int loy_ledger_flush_unsynced(struct loy_ledger *l, bool *durable) LOY_MUST_USE;

/* Commits the open group to data.mdb without waiting for the disk, and
 * leaves that wait to loy_ledger_checkpoint, which another thread may run
 * meanwhile: the writer goes on with the next group at once. Safe against
 * a machine crash (ledger/checkpoint.c): the group's blocks stay in the
 * block log until data.mdb has them on disk, and the next start rolls
 * data.mdb back to its last transaction on disk. The next commit of any
 * kind first waits for this one to reach the disk. A group with blocks
 * that are not in the log is flushed durably instead (*async false).
 * Writer thread only. Returns 0 (also when there is no group), LOY_EIO or
 * LOY_ENOMEM. */
int loy_ledger_flush_async(struct loy_ledger *l, bool *async) LOY_MUST_USE;

/* Waits for the disk to hold the last asynchronous flush, and records that
 * it does; 0 at once when there is none. Any thread. Returns 0 or LOY_EIO.
 */
int loy_ledger_checkpoint(struct loy_ledger *l) LOY_MUST_USE;

/* Before anything reads the store in dir: where the machine stopped
 * during an asynchronous flush, rolls data.mdb back to its last
 * transaction on disk (ledger/checkpoint.c), saying so in note (empty when
 * nothing was done). Opening for writing does the same. Returns 0, or
 * LOY_ECORRUPT (a store the checkpoint cannot vouch for) / LOY_EIO with
 * the reason and the way out in why. */
int loy_ledger_recover(const char *dir, char *note, size_t note_size, char *why,
		       size_t why_size) LOY_MUST_USE;

/* What opening the store repaired (a roll-back after a machine crash), for
 * the log; NULL when nothing. */
const char *loy_ledger_open_note(struct loy_ledger *l);

/* Blocks, transactions and record writes (puts and deletes, a bound on
 * the pages it holds in memory) in the open group (writer thread);
 * writes may be NULL. */
void loy_ledger_group_size(const struct loy_ledger *l, uint32_t *blocks,
			   uint32_t *txs, uint64_t *writes);

/* Applies what data_dir/blocks.wal holds above the tip (blocks committed
 * into a group that a crash kept from data.mdb), each durably and with its
 * certificate checked, then empties the log. Call once after open, before
 * anything else writes. *replayed gets how many. Returns 0 or the apply's
 * error (the message names the log and the block). */
int loy_ledger_replay_log(struct loy_ledger *l,
			  uint32_t *replayed) LOY_MUST_USE;

/* --- Validator sets --- */

/* The validator set of a height (h >= 1: defined by the state after block
 * h-1; a membership change in block k takes effect at k+1), sorted by key,
 * into keys (room for LOY_MAX_VALIDATORS). Heights above tip+1 are not known
 * yet: LOY_ENOTFOUND. Returns 0 or LOY_ENOTFOUND / LOY_EIO. */
int loy_ledger_validators(struct loy_ledger *l, uint64_t height,
			  uint8_t keys[][LOY_PUBKEY_SIZE],
			  uint32_t *n) LOY_MUST_USE;

/* --- Invariants --- */

/* Checks the invariants of DESIGN.md section 4 over the committed state:
 * conservation (customer balances = issued - reversed - redeemed, and each
 * customer's per-issuer lots add up to its balance), settlement positions
 * (each member's issued, reversed and redeemed figures equal what the issue
 * and redemption records imply; commissions and settlements net to zero;
 * the positions sum to minus the outstanding points), coupons (each batch's
 * redeemed count equals its used coupons), nonces (each signer's nonce equals
 * the number of its transactions in the tx index). Returns 0, or
 * LOY_ECORRUPT with the first violation in errmsg. */
int loy_ledger_check_invariants(struct loy_ledger *l, char *errmsg,
				size_t errlen) LOY_MUST_USE;

#endif
