/* Audit replay: verify a chain from genesis and re-execute it into a fresh
 * temporary store; and the exported chain file auditors receive.
 *
 * Chain file format (version 1), all integers big-endian:
 *     magic "LOYCHAIN" (8 bytes) || version u32 (= 1)
 *     then for each height 1, 2, ... in order:
 *         height u64 || block_len u32 || block (the block's canonical
 *         wire encoding) || cert_len u32 || cert (its commit certificate's
 *         canonical wire encoding)
 *     and nothing after the last record. Lengths are bounded by
 *     LOY_MAX_BLOCK_BYTES and 64 KiB. */
#ifndef LOY_LEDGER_AUDIT_H
#define LOY_LEDGER_AUDIT_H

#include "ledger/ledger.h"

struct loy_audit_report {
	bool ok;
	uint64_t height; /* the first bad block (0: genesis or whole chain) */
	int64_t tx;      /* position of the bad tx in it, or -1 */
	char reason[512];
	uint64_t blocks; /* blocks replayed successfully */
	uint64_t txs;    /* transactions replayed (and verified) */
	uint8_t state_root[LOY_HASH_SIZE]; /* after the last good block */
};

/* Called after every block replayed; return non-zero to stop (the audit
 * then fails with reason "stopped"). */
typedef int (*loy_audit_progress_fn)(void *data, uint64_t height, uint64_t txs);

struct loy_audit_opts {
	const char *tmpdir;             /* for the scratch store; NULL = /tmp */
	uint64_t mapsize;               /* scratch store size; 0 = default */
	loy_audit_progress_fn progress; /* may be NULL */
	void *data;
};

/* Audits the chain in a node's data directory, opened read-only (safe while
 * the node runs: each block is read in its own read transaction; blocks
 * committed after the audit started are included if present when reached).
 * Checks, per block: it decodes, its height and previous-block hash follow,
 * its tx root matches, its commit certificate is a COMMIT for it signed by a
 * quorum of the validator set of its height (computed by the replay itself,
 * not read from the node), every transaction's signature verifies, it
 * re-executes with no invalid transaction, and the state root matches the
 * header. At the end: the invariants (loy_ledger_check_invariants), the
 * node's own tip state root and the integrity tag of every record in the
 * node's store (loy_ledger_verify_store; a damaged one fails the audit at
 * "block 0" with the table and key). Returns 0 when the chain is good,
 * LOY_ECORRUPT when it is not (report says where and why), or LOY_EIO /
 * LOY_ENOMEM when the audit itself could not run (report.reason says why). */
int loy_audit_datadir(const struct loy_genesis *g, const char *datadir,
		      const struct loy_audit_opts *opts,
		      struct loy_audit_report *report) LOY_MUST_USE;

/* The same over an exported chain file. */
int loy_audit_file(const struct loy_genesis *g, const char *path,
		   const struct loy_audit_opts *opts,
		   struct loy_audit_report *report) LOY_MUST_USE;

/* Writes blocks 1..tip of l to a new chain file at path (replaced
 * atomically). Returns 0 or LOY_EIO with errmsg set. */
int loy_ledger_export(struct loy_ledger *l, const char *path, char *errmsg,
		      size_t errlen) LOY_MUST_USE;

#endif
