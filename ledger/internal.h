/* Internal to ledger/: the store schema (named databases and record
 * layouts), the write-set recorder behind the state root, and the execution
 * context shared by the per-family transaction handlers. */
#ifndef LOY_LEDGER_INTERNAL_H
#define LOY_LEDGER_INTERNAL_H

#include <lmdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "ledger/ledger.h"

/* The store format. 2: every value carries an integrity tag. 3: account
 * history and the transaction index are one record per block
 * (block_history), indexed per account and per hash in history.mdb
 * (history.c). A store of another version is refused at open. */
#define LDG_SCHEMA 4u

/* Named databases. Records are fixed layouts of big-endian integers and
 * byte strings written field by field (ledger/store.c), never structs.
 * Every stored value is the record followed by its integrity tag
 * (LOY_STORE_TAG_SIZE bytes, loy_store_tag over the database name, the key
 * and the record); the access functions below add it on every put and
 * check and strip it on every read, so nothing else ever sees it. The tag
 * is storage only: write sets, state roots and block hashes never include
 * it.
 * "hashed" databases are the consensus state: every put and delete in them
 * goes into the block's write set and so into the state root. The others
 * are the chain itself or indexes derived from it. */
enum ldb {
	/* hashed */
	LDB_PARAMS,    /* "genesis" -> chain parameters */
	LDB_TOTALS,    /* "totals" -> global counters */
	LDB_ACCOUNTS,  /* id20 -> account record */
	LDB_NONCES,    /* id20 -> last used nonce (u64) */
	LDB_MEMBERS,   /* id20 -> member record */
	LDB_VALSETS,   /* height8 (first height it applies to) -> n4, keys */
	LDB_POSITIONS, /* member id20 -> settlement position */
	LDB_LOTS,      /* customer id20 || issuer id20 -> points (u64) */
	/* owner id20 || reference -> tx hash, and for a reward.issue its
	 * issue record after it (reward.reverse names the issue by it) */
	LDB_REFS,
	LDB_RULES,     /* member id20 -> rule */
	LDB_PARTS,     /* partnership name -> partnership */
	LDB_PMEMBERS,  /* name || 0 || member id20 -> flags */
	LDB_PROPOSALS, /* member.propose tx hash -> proposal */
	LDB_VOTES,     /* proposal hash || voter id20 -> approve (1 byte) */
	LDB_BATCHES,   /* coupon.issue tx hash -> batch */
	LDB_COUPONS,   /* batch hash || index4 -> coupon */
	LDB_CUSES,     /* batch hash || customer id20 -> coupons used (u32) */
	LDB_SETTLES,   /* settle tx hash -> settlement claim */
	/* height8 -> its history entries (LDG_HIST_ENTRY each): hashed, so
	 * the state root commits to every transaction's outcome */
	LDB_BLOCKHIST,
	LDB_HASHED_COUNT,
	/* not hashed */
	LDB_META = LDB_HASHED_COUNT, /* "tip", "genesis_hash", "schema" */
	LDB_BLOCKS,                  /* height8 -> encoded block */
	LDB_CERTS,                   /* height8 -> encoded commit certificate */
	LDB_TXMSG,                   /* tx hash -> rejection message */
	LDB_CCPN,   /* customer id20 || batch hash || index4 -> "" */
	LDB_DAILY,  /* member id20 || day4 -> daily aggregate */
	LDB_DAYACT, /* member id20 || day4 || customer id20 -> "" */
	LDB_COUNT
};

/* The LMDB name of each database ("accounts"), also hashed into its tags. */
extern const char *const ldg_db_names[LDB_COUNT];

/* A block executed by loy_ledger_execute(LOY_EXEC_STAGE) and kept in its
 * open write transaction, so that applying the same block commits it
 * instead of executing it again (see ledger.h). */
struct ldg_stage {
	bool active;
	MDB_txn *txn;
	struct ldg_ws *ws;
	uint64_t height, time_ms;
	uint8_t tx_root[32], root[32];
	uint32_t n;                    /* transactions in the block */
	struct loy_tx_result *results; /* n, in block order */
	uint8_t (*hashes)[32];         /* n: what the block must hold */
};

/* Group commit (LOY_LEDGER_GROUP): blocks applied with LOY_APPLY_GROUP
 * are committed into one open write transaction, each made durable by the
 * block log (blocklog.c), and reach data.mdb together at the next flush, so
 * a page that several blocks touch is written once. Every writer call then
 * runs in a child of this transaction (the stage too). Readers on other
 * threads see data.mdb as of the last flush; reads on the writer thread
 * see the group. */
struct ldg_group {
	MDB_txn *txn; /* open, or NULL */
	uint32_t blocks, txs;
	/* the ledger's write count when the group began: its writes (and
	 * so its dirty pages, held in memory) are at most the difference */
	uint64_t writes0;
	/* the tip as of the group's last block (when blocks > 0) */
	uint64_t height, time_ms;
	uint8_t hash[32], root[32];
	int log_fd; /* the block log appended to, -1 until first used */
	/* The block log alternates between two files (blocklog.c): after an
	 * asynchronous flush the other one holds the flushed group's blocks
	 * until data.mdb has them on disk (checkpoint.c). */
	unsigned log_idx; /* which file log_fd is: 0 or 1 */
	int spare_fd;     /* the other file, -1 until first used */
	bool replaying;   /* the log is being read: no reset until done */
	bool unlogged;    /* holds a block that is not in the log */
	uint32_t logged;  /* of its blocks, those in the log */
	uint64_t log_off; /* end of its last whole record */
};

/* The account history index (history.c): history.mdb, opened on first use,
 * written under lock by whichever thread indexes or queries. */
struct ldg_hist {
	pthread_mutex_t lock;
	MDB_env *env; /* NULL until first use */
	MDB_dbi idx, txs, meta;
	uint64_t indexed; /* the highest height whose entries it holds */
	char note[160];   /* why it was last rebuilt, until read */
	long writeback_s; /* CLOCK_MONOTONIC s of its last writeback start */
};

/* A block_history entry: id20 pos4 hash32 kind1 code2 delta8, for each
 * account a transaction touched, in block order; a transaction's first
 * entry is its signer's. */
#define LDG_HIST_ENTRY (LOY_ID_SIZE + 4 + LOY_HASH_SIZE + 1 + 2 + 8)

/* checkpoint.c. Before data.mdb is opened: reads the checkpoint file and,
 * where the machine stopped during an asynchronous flush, rolls data.mdb
 * back to its last transaction on disk (the block log holds what
 * followed). Nothing for a read-only open. Returns 0, or LOY_ECORRUPT /
 * LOY_EIO with the reason in why. */
int ldg_ckpt_open(struct loy_ledger *l, bool rdonly, char *why,
		  size_t why_size);
/* After it is opened for writing: makes durable what a process crash left
 * unsynced. Returns 0 or LOY_EIO. */
int ldg_ckpt_opened(struct loy_ledger *l);
/* Around every commit of data.mdb (writer thread): before, waits for an
 * asynchronous flush to reach the disk; after, records the commit (durable
 * or not). Return 0 or LOY_EIO. */
int ldg_ckpt_before_commit(struct loy_ledger *l);
int ldg_ckpt_after_commit(struct loy_ledger *l, bool durable);
void ldg_ckpt_close(struct loy_ledger *l);

/* blocklog.c: starts the other log file (empty) for the blocks after the
 * group being flushed; the current one becomes the spare. Caller holds
 * ckpt.lock. Returns 0 or LOY_EIO. */
int ldg_log_rotate(struct loy_ledger *l);
/* Empties the spare file: its group is on disk. Caller holds ckpt.lock. */
void ldg_log_drop_spare(struct loy_ledger *l);

/* Closes history.mdb, after writing it to disk (history.c). */
void ldg_hist_close(struct loy_ledger *l);

/* Which of data.mdb's transactions is known to be on disk
 * (data_dir/checkpoint), for flushes that commit without waiting for it
 * (checkpoint.c). */
struct ldg_ckpt {
	pthread_mutex_t lock; /* the file, durable, pending, spare log */
	int fd;               /* -1 until the first asynchronous flush */
	uint64_t seq;         /* of the file's newest record */
	uint64_t durable;     /* txnid the file holds */
	/* txnid of the asynchronous flush not yet on disk (0: none); the
	 * writer thread sets it, whichever thread syncs clears it */
	atomic_uint_fast64_t pending;
	char note[400]; /* what opening the store repaired, until read */
};

struct loy_ledger {
	struct ldg_stage stage;
	struct ldg_ckpt ckpt;
	struct ldg_hist hist;
	struct ldg_group group;
	/* the thread that opened the group: its reads see the group */
	atomic_bool writer_known;
	pthread_t writer;
	char *path;        /* the data directory */
	uint64_t writes;   /* puts and deletes so far (writer thread) */
	struct ldg_wc *wc; /* the block cache, made by the first block */
	MDB_env *env;
	MDB_dbi dbi[LDB_COUNT];
	unsigned flags;
	bool halted;
	bool have_genesis;
	char chain_id[LOY_CHAIN_ID_MAX + 1];
	uint32_t commission_bps;
	uint64_t point_value;
	uint8_t genesis_hash[LOY_HASH_SIZE];
	char errmsg[512];
	/* The first damage any reader found (ldg_damaged): 0 none yet, 1
	 * being written, 2 set (then damage is final). Readers run on many
	 * threads, hence the atomic. */
	atomic_int damage_state;
	char damage[512];
};

/* --- byte order --- */
static inline void be64put(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}
static inline uint64_t be64get(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}
static inline void be32put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}
static inline uint32_t be32get(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Translates an LMDB code into a project code. */
int ldg_mdb_err(int rc);

/* How every damage message ends. */
#define LDG_DAMAGE_FIX                                                         \
	"restore the data directory or wipe it to resync from peers"

/* Records damage to data.mdb found reading db under key (the first
 * report wins; see loy_ledger_damage) and returns LOY_ECORRUPT. what says
 * what is wrong ("fails its integrity check"). Any thread. */
int ldg_damaged(struct loy_ledger *l, enum ldb db, const void *key, size_t klen,
		const char *what);

/* Records damage to a whole table: LMDB counts `want` records in it but a
 * walk reached `got` (a damaged page hides the others). Returns
 * LOY_ECORRUPT. */
int ldg_damaged_count(struct loy_ledger *l, enum ldb db, size_t want,
		      size_t got);

/* Records damage to LMDB's free-page list, in its entry of transaction
 * txnid (what: what is wrong). Returns LOY_ECORRUPT. */
int ldg_damaged_free(struct loy_ledger *l, unsigned long long txnid,
		     const char *what);

/* Translates an LMDB code from a read of db under key (klen 0: no
 * particular key): damage that LMDB itself detects (MDB_CORRUPTED,
 * MDB_PAGE_NOTFOUND) is recorded as ldg_damaged does. */
int ldg_read_err(struct loy_ledger *l, enum ldb db, const void *key,
		 size_t klen, int mrc);

/* Formats into l->errmsg; returns code. */
int ldg_fail(struct loy_ledger *l, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* --- records --- */

enum ldg_acct_type {
	LDG_CUSTOMER = 1,
	LDG_MEMBER = 2,
	LDG_TERMINAL = 3,
};

struct ldg_account {
	uint8_t type;   /* enum ldg_acct_type */
	uint8_t active; /* terminals: 0 once removed; members: 0 once removed */
	uint8_t pubkey[LOY_PUBKEY_SIZE];
	uint8_t owner[LOY_ID_SIZE]; /* terminal: its member */
	uint64_t balance;           /* customers */
	uint64_t created;           /* height */
};
#define LDG_ACCOUNT_LEN (2 + 32 + 20 + 8 + 8)

struct ldg_member {
	uint8_t pubkey[LOY_PUBKEY_SIZE];
	uint8_t active;
	uint64_t admitted, removed; /* heights */
	char name[LOY_NAME_MAX + 1];
	char address[LOY_ADDR_MAX + 1];
};
#define LDG_MEMBER_LEN (32 + 1 + 8 + 8 + LOY_NAME_MAX + 1 + LOY_ADDR_MAX + 1)

/* A member's settlement position; every field only grows. */
struct ldg_position {
	uint64_t issued;      /* points it issued (liability) */
	uint64_t reversed;    /* of those, taken back */
	uint64_t redeemed_at; /* points redeemed at it (claim) */
	uint64_t coupon_owed; /* coupon value it must pay for its coupons */
	uint64_t coupon_at;   /* coupon value redeemed at it (claim) */
	uint64_t comm_paid;   /* commission charged to it */
	uint64_t comm_earned; /* commission credited to it */
	uint64_t paid;        /* confirmed settlements it paid */
	uint64_t received;    /* confirmed settlements it received */
	uint64_t consumed;    /* its points spent anywhere (from lots) */
};
#define LDG_POSITION_LEN (10 * 8)

struct ldg_totals {
	uint64_t issued, reversed, redeemed, coupon_redeemed, customers;
};
#define LDG_TOTALS_LEN (5 * 8)

struct ldg_rule {
	uint64_t rate_num, rate_den, bonus, min_purchase, from, until;
};
#define LDG_RULE_LEN (6 * 8)

struct ldg_part {
	uint8_t creator[LOY_ID_SIZE];
	struct ldg_rule rule;
	uint64_t created;
};
#define LDG_PART_LEN (20 + LDG_RULE_LEN + 8)

enum { LDG_PM_REQUESTED = 1, LDG_PM_APPROVED = 2 };

struct ldg_issue {
	uint8_t customer[LOY_ID_SIZE];
	uint8_t issuer[LOY_ID_SIZE];
	uint64_t points;
	uint8_t reversed;
};
#define LDG_ISSUE_LEN (20 + 20 + 8 + 1)

enum { LDG_PROP_OPEN = 1, LDG_PROP_PASSED = 2 };

struct ldg_proposal {
	uint8_t action;
	uint8_t key[LOY_PUBKEY_SIZE];
	uint8_t proposer[LOY_ID_SIZE];
	uint8_t status;
	uint32_t yes, no;
	char name[LOY_NAME_MAX + 1];
	char address[LOY_ADDR_MAX + 1];
};
#define LDG_PROPOSAL_LEN                                                       \
	(1 + 32 + 20 + 1 + 4 + 4 + LOY_NAME_MAX + 1 + LOY_ADDR_MAX + 1)

struct ldg_batch {
	uint8_t issuer[LOY_ID_SIZE];
	uint64_t value, from, until;
	uint8_t has_geo;
	int32_t lat, lon;
	uint32_t radius_m, limit, site_count, count, redeemed;
	uint8_t sites[LOY_MAX_REDEEM_SITES][LOY_ID_SIZE];
	uint64_t height;
};
#define LDG_BATCH_LEN (20 + 24 + 1 + 8 + 20 + 16 * 20 + 8)

struct ldg_coupon {
	uint8_t kind;
	uint8_t holder[LOY_HASH_SIZE];
	uint8_t used;
	uint64_t used_height;
	uint8_t site[LOY_ID_SIZE];
};
#define LDG_COUPON_LEN (1 + 32 + 1 + 8 + 20)

enum { LDG_SETTLE_PENDING = 1, LDG_SETTLE_CONFIRMED = 2 };

struct ldg_settle {
	uint8_t payer[LOY_ID_SIZE], payee[LOY_ID_SIZE];
	uint64_t amount;
	uint8_t status;
};
#define LDG_SETTLE_LEN (20 + 20 + 8 + 1)

struct ldg_daily {
	uint64_t issued, redeemed, outstanding;
	uint32_t active, txs;
};
#define LDG_DAILY_LEN (3 * 8 + 2 * 4)

/* Encoders write exactly LEN bytes; decoders return 0 or LOY_ECORRUPT when
 * the stored value has the wrong size. */
void ldg_account_enc(uint8_t *p, const struct ldg_account *a);
int ldg_account_dec(struct ldg_account *a, const MDB_val *v);
void ldg_member_enc(uint8_t *p, const struct ldg_member *m);
int ldg_member_dec(struct ldg_member *m, const MDB_val *v);
void ldg_position_enc(uint8_t *p, const struct ldg_position *s);
int ldg_position_dec(struct ldg_position *s, const MDB_val *v);
void ldg_totals_enc(uint8_t *p, const struct ldg_totals *t);
int ldg_totals_dec(struct ldg_totals *t, const MDB_val *v);
void ldg_rule_enc(uint8_t *p, const struct ldg_rule *r);
int ldg_rule_dec(struct ldg_rule *r, const MDB_val *v);
void ldg_part_enc(uint8_t *p, const struct ldg_part *r);
int ldg_part_dec(struct ldg_part *r, const MDB_val *v);
void ldg_issue_enc(uint8_t *p, const struct ldg_issue *r);
int ldg_issue_dec(struct ldg_issue *r, const MDB_val *v);
void ldg_proposal_enc(uint8_t *p, const struct ldg_proposal *r);
int ldg_proposal_dec(struct ldg_proposal *r, const MDB_val *v);
void ldg_batch_enc(uint8_t *p, const struct ldg_batch *r);
int ldg_batch_dec(struct ldg_batch *r, const MDB_val *v);
void ldg_coupon_enc(uint8_t *p, const struct ldg_coupon *r);
int ldg_coupon_dec(struct ldg_coupon *r, const MDB_val *v);
void ldg_settle_enc(uint8_t *p, const struct ldg_settle *r);
int ldg_settle_dec(struct ldg_settle *r, const MDB_val *v);
void ldg_daily_enc(uint8_t *p, const struct ldg_daily *r);
int ldg_daily_dec(struct ldg_daily *r, const MDB_val *v);

/* Net settlement position: what it is owed minus what it owes, plus
 * settlements paid minus received (negative = payable). Returns 0 or
 * LOY_ERANGE if it does not fit an int64. */
int ldg_position_net(const struct ldg_position *s, int64_t *net);

/* --- store access inside one transaction --- */

/* The write set of the block being executed: every put/delete on a hashed
 * database, in order. See ledger/root.c for how it becomes the root. */
struct ldg_ws {
	uint8_t *data;
	size_t len, cap;
	size_t count;
	int err;
};

/* Aborts a staged execution, if any (every other writer call does this
 * first). */
void ldg_stage_drop(struct loy_ledger *l);

struct ldg_txn {
	struct loy_ledger *l;
	MDB_txn *txn;
	struct ldg_ws
	    *ws;       /* NULL: writes are not recorded (genesis uses one) */
	bool borrowed; /* txn is the group's: ldg_rend leaves it open */
	/* the block cache while a block executes (ldg_run_block), else
	 * NULL: gets and puts go to the store */
	struct ldg_wc *wc;
};

/* --- the block cache (ledger/wcache.c) ---
 *
 * While a block executes, ldg_get serves records it has seen from memory
 * and ldg_put/ldg_del keep the new value there; the store gets each
 * changed record once, in key order, when the block ends (ldg_wc_flush)
 * or before a cursor opens on its table. Only one block uses a cache at
 * a time (ldg_wc_begin says whether it is free). Records larger than
 * these go to the store directly. */
#define LDG_WC_KEY_MAX 96u
#define LDG_WC_VAL_MAX 96u
#define LDG_WC_ENTRIES 32768u /* about 7 MiB when full */
struct ldg_wc;
struct ldg_wc *ldg_wc_new(size_t max_entries);
void ldg_wc_free(struct ldg_wc *wc);
/* Empties it for a new block; false if another block holds it. */
bool ldg_wc_begin(struct ldg_wc *wc);
void ldg_wc_end(struct ldg_wc *wc);
/* 0 (*val valid until the next write), LOY_ENOTFOUND, or 1: not known,
 * ask the store. */
int ldg_wc_get(struct ldg_wc *wc, unsigned db, const void *key, size_t klen,
	       MDB_val *val);
/* What the store holds (val NULL: absent), as just read from it. */
void ldg_wc_remember(struct ldg_wc *wc, unsigned db, const void *key,
		     size_t klen, const MDB_val *val);
/* A put or delete: 0 kept (its flush records it in the write set), or 1:
 * the caller writes it to the store and the write set (too big, or the
 * cache is full). */
int ldg_wc_write(struct ldg_wc *wc, unsigned db, const void *key, size_t klen,
		 const void *val, size_t vlen, bool del);
/* Writes the changes of table only_db (-1: all) to the store. */
int ldg_wc_flush(struct ldg_wc *wc, struct ldg_txn *t, int only_db);
/* A put (with its tag) or delete straight to the store, not recorded in
 * the write set: what the cache's flush uses. */
int ldg_store_write(struct ldg_txn *t, enum ldb db, const void *key,
		    size_t klen, const void *val, size_t vlen, bool del);

/* A read transaction: the group's on the writer thread while it holds
 * blocks (any stage is dropped: a parent cannot be read beside a child),
 * else a new MDB_RDONLY one. ldg_rend ends it. */
int ldg_rbegin(struct loy_ledger *l, struct ldg_txn *t);
void ldg_rend(struct ldg_txn *t);

/* Whether the calling thread reads through the group (see ldg_group). */
bool ldg_reads_group(const struct loy_ledger *l);

/* The block log (blocklog.c). Append: one record and an fdatasync. Reset:
 * empties it once the store holds everything in it. */
int ldg_log_append(struct loy_ledger *l, uint64_t height, const uint8_t *block,
		   size_t blen, const uint8_t *cert, size_t clen);
void ldg_log_reset(struct loy_ledger *l);
void ldg_log_close(struct loy_ledger *l);

/* Gets a value (without its tag, which is checked); *val is valid until
 * the next write in t or its end. Returns 0, LOY_ENOTFOUND, LOY_ECORRUPT
 * (damage recorded: the record fails its tag, or an absent key's
 * neighbours do, so that a record whose key was damaged cannot pass for
 * absent), or a translated LMDB error. */
int ldg_get(struct ldg_txn *t, enum ldb db, const void *key, size_t klen,
	    MDB_val *val);
/* Puts (the value gets its tag) / deletes, and records the change in the
 * write set for hashed databases (the value without its tag). Deleting a
 * missing key is not an error. */
int ldg_put(struct ldg_txn *t, enum ldb db, const void *key, size_t klen,
	    const void *val, size_t vlen);
int ldg_del(struct ldg_txn *t, enum ldb db, const void *key, size_t klen);

/* LMDB's default key order: a against b, bytes first, then the shorter
 * first (<0, 0, >0). */
int ldg_key_cmp(const MDB_val *a, const void *b, size_t blen);

/* Cursors over one database. ldg_cursor_get moves like mdb_cursor_get
 * (MDB_FIRST, MDB_LAST, MDB_NEXT, MDB_PREV, MDB_SET_RANGE) and checks the
 * tag of the record it lands on; MDB_SET_RANGE also checks the record
 * before it (a range scan cannot miss a record whose key was damaged). *v
 * comes without its tag. Returns 0, LOY_ENOTFOUND at either end,
 * LOY_ECORRUPT (damage recorded) or a translated LMDB error. A read-only
 * transaction's cursors must be closed (mdb_cursor_close) before it ends. */
int ldg_cursor_open(struct ldg_txn *t, enum ldb db, MDB_cursor **c);
int ldg_cursor_get(struct ldg_txn *t, enum ldb db, MDB_cursor *c, MDB_val *k,
		   MDB_val *v, MDB_cursor_op op);

/* Checks the records at both ends of every database (a cheap look at each
 * B-tree's outer pages, for open). Returns 0 or LOY_ECORRUPT (damage
 * recorded). */
int ldg_check_ends(struct ldg_txn *t);

/* Typed helpers over ldg_get/ldg_put. *_get return LOY_ENOTFOUND when
 * absent (the record is then zeroed). */
int ldg_account_get(struct ldg_txn *t, const uint8_t id[LOY_ID_SIZE],
		    struct ldg_account *a);
int ldg_account_put(struct ldg_txn *t, const uint8_t id[LOY_ID_SIZE],
		    const struct ldg_account *a);
int ldg_member_get(struct ldg_txn *t, const uint8_t id[LOY_ID_SIZE],
		   struct ldg_member *m);
int ldg_member_put(struct ldg_txn *t, const uint8_t id[LOY_ID_SIZE],
		   const struct ldg_member *m);
int ldg_position_get(struct ldg_txn *t, const uint8_t id[LOY_ID_SIZE],
		     struct ldg_position *s);
int ldg_position_put(struct ldg_txn *t, const uint8_t id[LOY_ID_SIZE],
		     const struct ldg_position *s);
int ldg_totals_get(struct ldg_txn *t, struct ldg_totals *tt);
int ldg_totals_put(struct ldg_txn *t, const struct ldg_totals *tt);
int ldg_u64_get(struct ldg_txn *t, enum ldb db, const void *key, size_t klen,
		uint64_t *v);
int ldg_u64_put(struct ldg_txn *t, enum ldb db, const void *key, size_t klen,
		uint64_t v);

/* Writes the validator set that applies from height from: the active
 * members' keys, sorted. */
int ldg_valset_write(struct ldg_txn *t, uint64_t from);
/* Reads the set for a height (greatest entry <= height). */
int ldg_valset_read(struct ldg_txn *t, uint64_t height,
		    uint8_t keys[][LOY_PUBKEY_SIZE], uint32_t *n);

/* Loads the chain parameters from LDB_PARAMS into l. */
int ldg_load_params(struct loy_ledger *l, MDB_txn *txn);

/* --- write set and state root (ledger/root.c) --- */

void ldg_ws_init(struct ldg_ws *ws);
void ldg_ws_free(struct ldg_ws *ws);
void ldg_ws_record(struct ldg_ws *ws, unsigned db, const void *key, size_t klen,
		   const void *val, size_t vlen, bool del);
/* root = H("loy/state/v1" || height || prev_root || H(sorted net write
 * set)). Returns 0 or LOY_ENOMEM. */
int ldg_state_root(struct ldg_ws *ws, uint64_t height,
		   const uint8_t prev_root[LOY_HASH_SIZE],
		   uint8_t root[LOY_HASH_SIZE]);

/* --- execution --- */

/* Everything a transaction handler needs. A handler reads and checks
 * everything first and writes only once it knows the transaction applies;
 * a rejection returns LOY_EREJECTED with code and msg set and nothing
 * written. Any other non-zero return is a store failure that aborts the
 * whole block. */
struct ldg_exec {
	struct ldg_txn t;
	uint64_t height, time_ms;
	uint32_t pos;
	const struct loy_tx *tx;
	const uint8_t *hash;         /* this tx's hash */
	uint8_t signer[LOY_ID_SIZE]; /* signer's ID */
	struct ldg_account sacct;    /* signer's account (if found) */
	bool sacct_found;
	uint16_t code;
	char *msg;                  /* LOY_ERRMSG_MAX bytes */
	int64_t delta;              /* signer's point change (history) */
	uint8_t other[LOY_ID_SIZE]; /* second party for history, if any */
	bool has_other;
	int64_t other_delta;
	uint8_t member[LOY_ID_SIZE]; /* member for history/daily, if any */
	bool has_member;
	bool valset_dirty;
	/* the block's history entries so far (LDG_HIST_ENTRY each) */
	uint8_t *hist;
	size_t hist_len, hist_cap;
};

/* Sets code and message; returns LOY_EREJECTED. */
int ldg_reject(struct ldg_exec *x, enum loy_reject code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The member a signer acts for: the signer itself if it is an active
 * member; its member if it is an active terminal of an active member (only
 * when allow_terminal). Otherwise rejects NOT_AUTHORIZED. */
int ldg_acting_member(struct ldg_exec *x, bool allow_terminal,
		      uint8_t member[LOY_ID_SIZE]);
/* Rejects unless the signer is a registered customer. */
int ldg_require_customer(struct ldg_exec *x);
/* Loads an active member; rejects UNKNOWN_MEMBER otherwise. */
int ldg_require_member(struct ldg_exec *x, const uint8_t id[LOY_ID_SIZE],
		       struct ldg_member *m);
/* Reference checks: non-empty and unused for owner; ldg_ref_claim records
 * it (call only once the tx applies). */
int ldg_ref_check(struct ldg_exec *x, const uint8_t owner[LOY_ID_SIZE],
		  const char *ref);
int ldg_ref_claim(struct ldg_exec *x, const uint8_t owner[LOY_ID_SIZE],
		  const char *ref);
/* A reward.issue's claim of its reference, and each later change of its
 * issue record: the reference keeps the issue tx's hash and, after it,
 * the record (LDG_ISSUE_LEN bytes of issue). */
int ldg_ref_put_issue(struct ldg_exec *x, const uint8_t owner[LOY_ID_SIZE],
		      const char *ref, const uint8_t hash[LOY_HASH_SIZE],
		      const uint8_t *issue);
/* The issue record and tx hash of owner's reward.issue with reference
 * ref: 0, LOY_ENOTFOUND (no such reference, or not a reward.issue's), or
 * an error. */
int ldg_ref_issue(struct ldg_exec *x, const uint8_t owner[LOY_ID_SIZE],
		  const char *ref, struct ldg_issue *is,
		  uint8_t hash[LOY_HASH_SIZE]);
/* Daily aggregate update for a member (issued/redeemed deltas and whether a
 * customer was active). */
int ldg_daily_touch(struct ldg_exec *x, const uint8_t member[LOY_ID_SIZE],
		    uint64_t issued, uint64_t redeemed,
		    const uint8_t *customer);

/* Per-family handlers. */
int ldg_exec_customer_register(struct ldg_exec *x);
int ldg_exec_terminal(struct ldg_exec *x);
int ldg_exec_member_propose(struct ldg_exec *x);
int ldg_exec_member_vote(struct ldg_exec *x);
int ldg_exec_settle(struct ldg_exec *x);
int ldg_exec_rule_set(struct ldg_exec *x);
int ldg_exec_partnership_create(struct ldg_exec *x);
int ldg_exec_partnership_join(struct ldg_exec *x);
int ldg_exec_partnership_leave(struct ldg_exec *x);
int ldg_exec_reward_issue(struct ldg_exec *x);
int ldg_exec_reward_reverse(struct ldg_exec *x);
int ldg_exec_redeem(struct ldg_exec *x);
int ldg_exec_transfer(struct ldg_exec *x);
int ldg_exec_coupon_issue(struct ldg_exec *x);
int ldg_exec_coupon_redeem(struct ldg_exec *x);

/* Integer distance check: is point p within radius_m metres of c? See
 * ledger/exec_coupon.c for the approximation. */
bool ldg_geo_within(struct loy_geo c, struct loy_geo p, uint32_t radius_m);

/* Checked arithmetic: return false on overflow/underflow. */
static inline bool ldg_add(uint64_t *acc, uint64_t v)
{
	return !__builtin_add_overflow(*acc, v, acc);
}
static inline bool ldg_sub(uint64_t *acc, uint64_t v)
{
	if (*acc < v)
		return false;
	*acc -= v;
	return true;
}

/* --- shared by exec.c and apply.c --- */

struct ldg_tip {
	uint64_t height, time_ms;
	uint8_t hash[LOY_HASH_SIZE], root[LOY_HASH_SIZE];
};

/* Reads the tip record into tp. */
int ldg_tip_read(struct ldg_txn *t, struct ldg_tip *tp);

/* Executes a block's transactions on txn after tip tp (see exec.c). */
int ldg_run_block(struct ldg_txn *t, const struct ldg_tip *tp,
		  const struct loy_buf *txs,
		  const uint8_t (*hashes)[LOY_HASH_SIZE], uint32_t n,
		  uint64_t time_ms, unsigned flags, struct loy_tx_result *res,
		  uint8_t root[LOY_HASH_SIZE], uint32_t *bad);

/* The damage message for LOY_ECORRUPT, else the code's text. */
const char *ldg_why(const struct loy_ledger *l, int rc);

/* Begins a write transaction, with what in the error message. */
int ldg_begin(struct loy_ledger *l, const char *what, MDB_txn **txn);
/* The same checks, then *txn is the group's own transaction (group mode
 * only): a block applied straight into it saves the child's copies of the
 * pages the group has dirtied already, and merging them back (a fifth of a
 * catch-up's apply time). It cannot be undone alone: a failure after a
 * write must drop the whole group (ldg_group_drop). */
int ldg_begin_in_group(struct loy_ledger *l, const char *what, MDB_txn **txn);
/* Aborts the group and halts the ledger: data.mdb keeps the last flush,
 * and the block log the blocks after it, for the next start. */
void ldg_group_drop(struct loy_ledger *l);
/* Commits txn; without fsync when nosync (a store opened NOSYNC never
 * syncs), falling back to a durable commit if the flag cannot be set.
 * *durable (may be NULL) says which it was. Returns LMDB's code. */
int ldg_commit(struct loy_ledger *l, MDB_txn *txn, bool nosync, bool *durable);
/* Commits the open group (durably unless nosync); only a durable commit
 * empties the block log. Returns 0 or a LOY_E* code. */
int ldg_group_commit(struct loy_ledger *l, bool nosync);
/* Fails "ledger: WHAT block HEIGHT: why: what the store said" (the
 * message of the failed call, unless the damage message says it all). */
int ldg_fail_in(struct loy_ledger *l, int rc, const char *what,
		uint64_t height);

#endif
