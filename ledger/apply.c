/* Applying a final block: its checks (chain, link, time, tx root, proposer,
 * certificate), re-execution or the staged execution of its check, and the
 * one LMDB commit that stores it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/internal.h"
#include "wire/error.h"

static int check_block(struct loy_ledger *l, struct ldg_txn *t,
		       const struct ldg_tip *tp, const struct loy_block *b,
		       const struct loy_cert *c, const uint8_t bhash[32],
		       const uint8_t root[LOY_HASH_SIZE], unsigned flags)
{
	const struct loy_block_header *h = &b->header;
	uint8_t keys[LOY_MAX_VALIDATORS][LOY_PUBKEY_SIZE];
	uint32_t nv, i;
	unsigned long long ht = (unsigned long long)h->height;
	int rc;

	if (strcmp(h->chain_id, l->chain_id) != 0)
		return ldg_fail(l, LOY_EINVAL,
				"ledger: block %llu: chain id "
				"\"%s\"",
				ht, h->chain_id);
	if (h->height != tp->height + 1)
		return ldg_fail(l, LOY_EINVAL,
				"ledger: block %llu: expected height %llu", ht,
				(unsigned long long)tp->height + 1);
	if (memcmp(h->prev_hash, tp->hash, LOY_HASH_SIZE) != 0)
		return ldg_fail(l, LOY_EINVAL,
				"ledger: block %llu: previous hash does not "
				"match block %llu",
				ht, (unsigned long long)tp->height);
	if (h->time_ms < tp->time_ms)
		return ldg_fail(l, LOY_EINVAL,
				"ledger: block %llu: time goes backwards", ht);
	if (memcmp(root, h->tx_root, LOY_HASH_SIZE) != 0)
		return ldg_fail(l, LOY_EINVAL,
				"ledger: block %llu: transaction root does not "
				"match its transactions",
				ht);
	rc = ldg_valset_read(t, h->height, keys, &nv);
	if (rc != 0)
		return ldg_fail(l, rc, "ledger: block %llu: validator set: %s",
				ht, ldg_why(l, rc));
	for (i = 0; i < nv; i++)
		if (!memcmp(keys[i], h->proposer, LOY_PUBKEY_SIZE))
			break;
	if (i == nv)
		return ldg_fail(l, LOY_EINVAL,
				"ledger: block %llu: proposer is not a "
				"validator",
				ht);
	if (c->type != LOY_VOTE_COMMIT || c->height != h->height ||
	    strcmp(c->chain_id, h->chain_id) != 0 ||
	    memcmp(c->block_hash, bhash, LOY_HASH_SIZE) != 0)
		return ldg_fail(l, LOY_EINVAL,
				"ledger: block %llu: certificate is not a "
				"commit certificate for this block",
				ht);
	if (!(flags & LOY_APPLY_TRUST_CERT)) {
		rc = loy_cert_verify(c, (const uint8_t(*)[LOY_PUBKEY_SIZE])keys,
				     nv, loy_quorum(nv));
		if (rc != 0)
			return ldg_fail(
			    l, LOY_EINVAL,
			    "ledger: block %llu: commit certificate "
			    "does not verify: %s",
			    ht, loy_strerror(rc));
	}
	return 0;
}

/* Commits a block's transaction. In group mode (LOY_LEDGER_GROUP) txn is
 * a child of the group: it joins the group, whose tip is kept; then
 * LOY_APPLY_GROUP appends the block to the block log, and any other flags
 * flush the group as durably as they say (only a durable flush empties
 * the log). */
static int commit_block(struct loy_ledger *l, MDB_txn *txn, unsigned flags,
			const struct loy_block *b, const uint8_t bhash[32],
			const uint8_t root[32], const uint8_t *block,
			size_t block_len, const uint8_t *cert, size_t cert_len)
{
	struct ldg_group *g = &l->group;
	int mrc;

	if (!(l->flags & LOY_LEDGER_GROUP) || g->txn == NULL)
		return ldg_commit(l, txn, flags & LOY_APPLY_NO_SYNC, NULL);
	if (txn != g->txn) { /* a child; else applied in the group itself */
		mrc = mdb_txn_commit(txn);
		if (mrc != 0)
			return mrc;
	}
	g->blocks++;
	g->txs += b->tx_count;
	g->height = b->header.height;
	g->time_ms = b->header.time_ms;
	memcpy(g->hash, bhash, 32);
	memcpy(g->root, root, 32);
	if ((flags & LOY_APPLY_GROUP) && (flags & LOY_APPLY_UNLOGGED)) {
		g->unlogged = true;
		return 0;
	}
	if ((flags & LOY_APPLY_GROUP) && !g->unlogged) {
		/* the store's error codes are LMDB's here: say EIO */
		if (ldg_log_append(l, b->header.height, block, block_len, cert,
				   cert_len) != 0)
			return EIO;
		g->logged++;
		return 0;
	}
	if (flags & LOY_APPLY_GROUP)
		flags &= ~(unsigned)LOY_APPLY_NO_SYNC; /* durable, see above */
	mrc = ldg_commit(l, g->txn, flags & LOY_APPLY_NO_SYNC, NULL);
	g->txn = NULL;
	g->blocks = 0;
	g->txs = 0;
	g->unlogged = false;
	g->logged = 0;
	if (mrc == 0 && !(flags & LOY_APPLY_NO_SYNC))
		ldg_log_reset(l);
	return mrc;
}

/* Writes a block's own records (block, certificate, tip) into txn. */
static int put_block(struct loy_ledger *l, struct ldg_txn *t,
		     const struct loy_block *b, const uint8_t bhash[32],
		     const uint8_t root[32], const uint8_t *block,
		     size_t block_len, const uint8_t *cert, size_t cert_len)
{
	uint8_t kb[8], tip[80];
	int rc;

	be64put(kb, b->header.height);
	rc = ldg_put(t, LDB_BLOCKS, kb, 8, block, block_len);
	if (rc == 0)
		rc = ldg_put(t, LDB_CERTS, kb, 8, cert, cert_len);
	be64put(tip, b->header.height);
	memcpy(tip + 8, bhash, 32);
	memcpy(tip + 40, root, 32);
	be64put(tip + 72, b->header.time_ms);
	if (rc == 0)
		rc = ldg_put(t, LDB_META, "tip", 3, tip, sizeof tip);
	if (rc != 0)
		ldg_fail(l, rc, "ledger: apply block %llu: %s",
			 (unsigned long long)b->header.height, ldg_why(l, rc));
	return rc;
}

/* Commits the staged execution of exactly this block: the checks of a
 * normal apply (chain, link, time, tx root, proposer, certificate), then the
 * block's own records, in the transaction the execution left open. */
static int apply_staged(struct loy_ledger *l, const struct loy_block *b,
			const struct loy_cert *c, const uint8_t bhash[32],
			const uint8_t *block, size_t block_len,
			const uint8_t *cert, size_t cert_len,
			const uint8_t (*hashes)[LOY_HASH_SIZE], unsigned flags,
			struct loy_tx_result *res)
{
	struct ldg_stage *st = &l->stage;
	struct ldg_txn t = {.l = l, .txn = st->txn, .ws = st->ws};
	struct ldg_tip tp;
	uint8_t root[LOY_HASH_SIZE];
	int rc, mrc;

	/* the transactions executed, as their hashes say: their root then
	 * is the stage's */
	if (b->tx_count == st->n &&
	    (st->n == 0 ||
	     memcmp(hashes, st->hashes, st->n * sizeof *st->hashes) == 0))
		memcpy(root, st->tx_root, LOY_HASH_SIZE);
	else
		loy_tx_root_hashed(root, hashes, b->tx_count);

	l->errmsg[0] = '\0';
	if (loy_ledger_damage(l)) {
		ldg_stage_drop(l);
		return ldg_fail(l, LOY_ECORRUPT, "ledger: apply block %llu: %s",
				(unsigned long long)b->header.height,
				loy_ledger_damage(l));
	}
	rc = ldg_tip_read(&t, &tp);
	if (rc != 0)
		ldg_fail(l, rc, "ledger: apply block %llu: tip: %s",
			 (unsigned long long)b->header.height, ldg_why(l, rc));
	if (rc == 0)
		rc = check_block(l, &t, &tp, b, c, bhash, root, flags);
	if (rc == 0)
		rc = put_block(l, &t, b, bhash, st->root, block, block_len,
			       cert, cert_len);
	if (rc != 0) {
		ldg_stage_drop(l);
		return rc;
	}
	if (res && st->n)
		memcpy(res, st->results, st->n * sizeof *res);
	mrc = commit_block(l, st->txn, flags, b, bhash, st->root, block,
			   block_len, cert, cert_len);
	st->txn = NULL;
	st->active = false;
	ldg_ws_free(st->ws);
	free(st->ws);
	free(st->results);
	free(st->hashes);
	memset(st, 0, sizeof *st);
	if (mrc != 0)
		return ldg_fail(
		    l, ldg_mdb_err(mrc), "ledger: apply block %llu: commit: %s",
		    (unsigned long long)b->header.height, mdb_strerror(mrc));
	return 0;
}

int loy_ledger_apply_block(struct loy_ledger *l, const uint8_t *block,
			   size_t block_len, const uint8_t *cert,
			   size_t cert_len, unsigned flags,
			   struct loy_tx_result *results)
{
	return loy_ledger_apply_block_hashed(l, block, block_len, cert,
					     cert_len, flags, NULL, results);
}

int loy_ledger_apply_block_hashed(struct loy_ledger *l, const uint8_t *block,
				  size_t block_len, const uint8_t *cert,
				  size_t cert_len, unsigned flags,
				  const uint8_t (*given)[LOY_HASH_SIZE],
				  struct loy_tx_result *results)
{
	struct loy_block b;
	struct loy_cert *c;
	struct ldg_ws ws;
	struct ldg_txn t = {.l = l, .ws = &ws};
	struct ldg_tip tp;

	struct loy_tx_result *res = results;
	uint8_t(*hashes)[LOY_HASH_SIZE] = NULL;
	uint8_t bhash[LOY_HASH_SIZE], root[LOY_HASH_SIZE], kb[8], tip[80];
	uint32_t bad = 0;
	unsigned long long ht;
	bool direct = false, wrote = false;
	int rc, mrc;

	c = malloc(sizeof *c);
	if (!c)
		return ldg_fail(l, LOY_ENOMEM,
				"ledger: apply block: no memory");
	rc = loy_block_decode(&b, block, block_len);
	if (rc != 0) {
		free(c);
		return ldg_fail(l, LOY_EINVAL, "ledger: apply block: %s",
				loy_strerror(rc));
	}
	ht = (unsigned long long)b.header.height;
	rc = loy_cert_decode(c, cert, cert_len);
	if (rc != 0) {
		ldg_fail(l, LOY_EINVAL,
			 "ledger: apply block %llu: certificate: "
			 "%s",
			 ht, loy_strerror(rc));
		rc = LOY_EINVAL;
		goto out_block;
	}
	rc = loy_block_header_hash(&b.header, bhash);
	if (rc != 0)
		goto out_block;
	/* each transaction hashed once: for the tx root and execution */
	hashes = malloc((b.tx_count ? b.tx_count : 1) * sizeof *hashes);
	if (hashes == NULL) {
		rc = ldg_fail(l, LOY_ENOMEM,
			      "ledger: apply block %llu: no memory", ht);
		goto out_block;
	}
	if (given)
		memcpy(hashes, given, b.tx_count * sizeof *hashes);
	else
		for (uint32_t i = 0; i < b.tx_count; i++)
			loy_tx_hash(hashes[i], b.txs[i].data, b.txs[i].len);
	if (!res && b.tx_count > 0) {
		res = malloc(b.tx_count * sizeof *res);
		if (!res) {
			rc = ldg_fail(l, LOY_ENOMEM,
				      "ledger: apply block %llu: "
				      "no memory",
				      ht);
			goto out_block;
		}
	}
	if (l->stage.active && l->stage.height == b.header.height &&
	    l->stage.time_ms == b.header.time_ms && l->stage.n == b.tx_count &&
	    memcmp(l->stage.tx_root, b.header.tx_root, LOY_HASH_SIZE) == 0 &&
	    memcmp(l->stage.root, b.header.state_root, LOY_HASH_SIZE) == 0) {
		rc = apply_staged(l, &b, c, bhash, block, block_len, cert,
				  cert_len, (const uint8_t(*)[32])hashes, flags,
				  res);
		goto out_res;
	}
	/* A block joining the group goes straight into it (see
	 * ldg_begin_in_group): the node halts on a block that does not
	 * apply, and restarts from the last flush and the block log. */
	direct = (l->flags & LOY_LEDGER_GROUP) && (flags & LOY_APPLY_GROUP);
	rc = direct ? ldg_begin_in_group(l, "apply block", &t.txn)
		    : ldg_begin(l, "apply block", &t.txn);
	if (rc != 0)
		goto out_res;
	ldg_ws_init(&ws);
	rc = ldg_tip_read(&t, &tp);
	if (rc != 0) {
		ldg_fail(l, rc, "ledger: apply block %llu: tip: %s", ht,
			 ldg_why(l, rc));
		goto abort;
	}
	loy_tx_root_hashed(root, (const uint8_t(*)[32])hashes, b.tx_count);
	rc = check_block(l, &t, &tp, &b, c, bhash, root, flags);
	if (rc != 0)
		goto abort;
	wrote = true;
	rc = ldg_run_block(
	    &t, &tp, b.txs, (const uint8_t(*)[32])hashes, b.tx_count,
	    b.header.time_ms,
	    (flags & LOY_APPLY_VERIFY_SIGS) ? LOY_EXEC_VERIFY_SIGS : 0, res,
	    root, &bad);
	if (rc == LOY_EREJECTED) {
		ldg_fail(l, rc, "ledger: apply block %llu: tx %u invalid: %s",
			 ht, bad, res[bad].msg);
		goto abort;
	}
	if (rc != 0) {
		ldg_fail_in(l, rc, "apply", b.header.height);
		goto abort;
	}
	if (memcmp(root, b.header.state_root, LOY_HASH_SIZE) != 0) {
		l->halted = true;
		rc = ldg_fail(l, LOY_ECORRUPT,
			      "ledger: apply block %llu: state root mismatch: "
			      "this node computes a different state than the "
			      "block's proposer; halting",
			      ht);
		goto abort;
	}
	be64put(kb, b.header.height);
	rc = ldg_put(&t, LDB_BLOCKS, kb, 8, block, block_len);
	if (rc == 0)
		rc = ldg_put(&t, LDB_CERTS, kb, 8, cert, cert_len);
	be64put(tip, b.header.height);
	memcpy(tip + 8, bhash, 32);
	memcpy(tip + 40, root, 32);
	be64put(tip + 72, b.header.time_ms);
	if (rc == 0)
		rc = ldg_put(&t, LDB_META, "tip", 3, tip, sizeof tip);
	if (rc != 0) {
		ldg_fail(l, rc, "ledger: apply block %llu: %s", ht,
			 ldg_why(l, rc));
		goto abort;
	}
	mrc = commit_block(l, t.txn, flags, &b, bhash, root, block, block_len,
			   cert, cert_len);
	if (mrc != 0) {
		rc = ldg_fail(l, ldg_mdb_err(mrc),
			      "ledger: apply block %llu: commit: %s", ht,
			      mdb_strerror(mrc));
	}
	goto out_ws;
abort:
	if (!direct)
		mdb_txn_abort(t.txn);
	else if (wrote)
		ldg_group_drop(l); /* halts: the block is half in the group */
out_ws:
	ldg_ws_free(&ws);
out_res:
	if (res != results)
		free(res);
out_block:
	free(hashes);
	loy_block_free(&b);
	free(c);
	return rc;
}
