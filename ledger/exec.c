/* Block execution: the per-transaction envelope (decode, chain, signature,
 * nonce, dispatch, result), execute-without-commit, and apply-block.
 *
 * Contract (see also ledger/ledger.h):
 *  - Invalid (never in a block): undecodable bytes, another chain id, a bad
 *    signature (checked when asked to), a nonce other than last + 1.
 *  - Rejected (recorded): everything else that breaks a rule. The tx's
 *    nonce is consumed, its result code goes into the tx index (hashed) and
 *    its message into tx_messages (not hashed: wording may improve without
 *    changing state roots). No other state changes.
 *  - Client references: the namespace is the acting member for member and
 *    terminal signers and the customer's own ID for customer signers; a
 *    reference is claimed only by a transaction that applies, so a rejected
 *    submission may be retried with the same reference and a new nonce.
 *  - History (per account, newest first) and daily aggregates are derived
 *    indexes, written in the same write transaction but not hashed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/internal.h"
#include "wire/error.h"

int ldg_reject(struct ldg_exec *x, enum loy_reject code, const char *fmt, ...)
{
	va_list ap;
	x->code = (uint16_t)code;
	va_start(ap, fmt);
	vsnprintf(x->msg, LOY_ERRMSG_MAX, fmt, ap);
	va_end(ap);
	return LOY_EREJECTED;
}

int ldg_acting_member(struct ldg_exec *x, bool allow_terminal,
		      uint8_t member[LOY_ID_SIZE])
{
	struct ldg_account *a = &x->sacct;
	if (!x->sacct_found)
		return ldg_reject(x, LOY_REJ_NOT_AUTHORIZED,
				  "signer is not a member%s",
				  allow_terminal ? " or terminal" : "");
	if (a->type == LDG_MEMBER && a->active) {
		memcpy(member, x->signer, LOY_ID_SIZE);
		return 0;
	}
	if (a->type == LDG_TERMINAL && allow_terminal) {
		struct ldg_account m;
		int rc;
		if (!a->active)
			return ldg_reject(x, LOY_REJ_NOT_AUTHORIZED,
					  "terminal was removed");
		rc = ldg_account_get(&x->t, a->owner, &m);
		if (rc != 0 && rc != LOY_ENOTFOUND)
			return rc;
		if (rc != 0 || m.type != LDG_MEMBER || !m.active)
			return ldg_reject(x, LOY_REJ_NOT_AUTHORIZED,
					  "terminal's member is not active");
		memcpy(member, a->owner, LOY_ID_SIZE);
		return 0;
	}
	return ldg_reject(x, LOY_REJ_NOT_AUTHORIZED,
			  "signer is not an active member%s",
			  allow_terminal ? " or terminal" : "");
}

int ldg_require_customer(struct ldg_exec *x)
{
	if (!x->sacct_found || x->sacct.type != LDG_CUSTOMER)
		return ldg_reject(x, LOY_REJ_NOT_AUTHORIZED,
				  "signer is not a registered customer");
	return 0;
}

int ldg_require_member(struct ldg_exec *x, const uint8_t id[LOY_ID_SIZE],
		       struct ldg_member *m)
{
	char s[LOY_ID_STR_SIZE];
	int rc = ldg_member_get(&x->t, id, m);
	if (rc != 0 && rc != LOY_ENOTFOUND)
		return rc;
	if (rc == 0 && m->active)
		return 0;
	loy_id_format(s, id);
	return ldg_reject(x, LOY_REJ_UNKNOWN_MEMBER, "unknown member %s", s);
}

static size_t ref_key(uint8_t *k, const uint8_t owner[LOY_ID_SIZE],
		      const char *ref)
{
	size_t n = strnlen(ref, LOY_REF_MAX);
	memcpy(k, owner, LOY_ID_SIZE);
	memcpy(k + LOY_ID_SIZE, ref, n);
	return LOY_ID_SIZE + n;
}

int ldg_ref_check(struct ldg_exec *x, const uint8_t owner[LOY_ID_SIZE],
		  const char *ref)
{
	uint8_t k[LOY_ID_SIZE + LOY_REF_MAX];
	MDB_val v;
	int rc;
	if (!ref[0])
		return ldg_reject(x, LOY_REJ_MISSING_REFERENCE,
				  "a client reference is required");
	rc = ldg_get(&x->t, LDB_REFS, k, ref_key(k, owner, ref), &v);
	if (rc == LOY_ENOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	return ldg_reject(x, LOY_REJ_DUPLICATE_REFERENCE,
			  "duplicate reference \"%s\"", ref);
}

int ldg_ref_claim(struct ldg_exec *x, const uint8_t owner[LOY_ID_SIZE],
		  const char *ref)
{
	uint8_t k[LOY_ID_SIZE + LOY_REF_MAX];
	return ldg_put(&x->t, LDB_REFS, k, ref_key(k, owner, ref), x->hash,
		       LOY_HASH_SIZE);
}

int ldg_ref_put_issue(struct ldg_exec *x, const uint8_t owner[LOY_ID_SIZE],
		      const char *ref, const uint8_t hash[LOY_HASH_SIZE],
		      const uint8_t *issue)
{
	uint8_t k[LOY_ID_SIZE + LOY_REF_MAX], v[LOY_HASH_SIZE + LDG_ISSUE_LEN];
	memcpy(v, hash, LOY_HASH_SIZE);
	memcpy(v + LOY_HASH_SIZE, issue, LDG_ISSUE_LEN);
	return ldg_put(&x->t, LDB_REFS, k, ref_key(k, owner, ref), v, sizeof v);
}

int ldg_ref_issue(struct ldg_exec *x, const uint8_t owner[LOY_ID_SIZE],
		  const char *ref, struct ldg_issue *is,
		  uint8_t hash[LOY_HASH_SIZE])
{
	uint8_t k[LOY_ID_SIZE + LOY_REF_MAX];
	size_t klen = ref_key(k, owner, ref);
	MDB_val v;
	int rc;
	if (!ref[0])
		return LOY_ENOTFOUND;
	rc = ldg_get(&x->t, LDB_REFS, k, klen, &v);
	if (rc != 0)
		return rc;
	/* the reference of another kind of transaction */
	if (v.mv_size == LOY_HASH_SIZE)
		return LOY_ENOTFOUND;
	if (v.mv_size != LOY_HASH_SIZE + LDG_ISSUE_LEN)
		return ldg_damaged(x->t.l, LDB_REFS, k, klen,
				   "has a reference record of a bad size");
	MDB_val d = {LDG_ISSUE_LEN, (uint8_t *)v.mv_data + LOY_HASH_SIZE};
	memcpy(hash, v.mv_data, LOY_HASH_SIZE);
	return ldg_issue_dec(is, &d);
}

int ldg_daily_touch(struct ldg_exec *x, const uint8_t member[LOY_ID_SIZE],
		    uint64_t issued, uint64_t redeemed, const uint8_t *customer)
{
	uint8_t k[LOY_ID_SIZE + 4 + LOY_ID_SIZE], b[LDG_DAILY_LEN];
	struct ldg_daily d = {0};
	struct ldg_position pos;
	MDB_val v;
	uint64_t day = x->time_ms / 86400000u;
	int rc;

	memcpy(k, member, LOY_ID_SIZE);
	be32put(k + LOY_ID_SIZE, (uint32_t)day);
	rc = ldg_get(&x->t, LDB_DAILY, k, LOY_ID_SIZE + 4, &v);
	if (rc == 0)
		rc = ldg_daily_dec(&d, &v);
	if (rc != 0 && rc != LOY_ENOTFOUND)
		return rc;
	/* Aggregates saturate rather than fail: they are reports, not
	 * consensus state. */
	if (!ldg_add(&d.issued, issued))
		d.issued = UINT64_MAX;
	if (!ldg_add(&d.redeemed, redeemed))
		d.redeemed = UINT64_MAX;
	d.txs++;
	if (customer) {
		memcpy(k + LOY_ID_SIZE + 4, customer, LOY_ID_SIZE);
		rc = ldg_get(&x->t, LDB_DAYACT, k, sizeof k, &v);
		if (rc == LOY_ENOTFOUND) {
			d.active++;
			rc = ldg_put(&x->t, LDB_DAYACT, k, sizeof k, "", 0);
		}
		if (rc != 0)
			return rc;
	}
	rc = ldg_position_get(&x->t, member, &pos);
	if (rc != 0 && rc != LOY_ENOTFOUND)
		return rc;
	d.outstanding = pos.issued - pos.reversed - pos.consumed;
	ldg_daily_enc(b, &d);
	return ldg_put(&x->t, LDB_DAILY, k, LOY_ID_SIZE + 4, b, sizeof b);
}

static int dispatch(struct ldg_exec *x)
{
	switch (x->tx->kind) {
	case LOY_TX_CUSTOMER_REGISTER:
		return ldg_exec_customer_register(x);
	case LOY_TX_TERMINAL_ADD:
	case LOY_TX_TERMINAL_REMOVE:
		return ldg_exec_terminal(x);
	case LOY_TX_MEMBER_PROPOSE:
		return ldg_exec_member_propose(x);
	case LOY_TX_MEMBER_VOTE:
		return ldg_exec_member_vote(x);
	case LOY_TX_RULE_SET:
		return ldg_exec_rule_set(x);
	case LOY_TX_PARTNERSHIP_CREATE:
		return ldg_exec_partnership_create(x);
	case LOY_TX_PARTNERSHIP_JOIN:
		return ldg_exec_partnership_join(x);
	case LOY_TX_PARTNERSHIP_LEAVE:
		return ldg_exec_partnership_leave(x);
	case LOY_TX_REWARD_ISSUE:
		return ldg_exec_reward_issue(x);
	case LOY_TX_REWARD_REVERSE:
		return ldg_exec_reward_reverse(x);
	case LOY_TX_REDEEM:
		return ldg_exec_redeem(x);
	case LOY_TX_TRANSFER:
		return ldg_exec_transfer(x);
	case LOY_TX_COUPON_ISSUE:
		return ldg_exec_coupon_issue(x);
	case LOY_TX_COUPON_REDEEM:
		return ldg_exec_coupon_redeem(x);
	case LOY_TX_SETTLE:
		return ldg_exec_settle(x);
	default:
		return ldg_reject(x, LOY_REJ_MALFORMED, "unknown kind %u",
				  x->tx->kind);
	}
}

/* Adds an entry to the block's history record (written by ldg_run_block):
 * one sequential record per block, where a put per account into an
 * id-keyed table wrote a random page of data.mdb per transaction. */
static int hist_put(struct ldg_exec *x, const uint8_t id[LOY_ID_SIZE],
		    int64_t delta)
{
	uint8_t *e;

	if (x->hist_len + LDG_HIST_ENTRY > x->hist_cap) {
		size_t cap =
		    x->hist_cap ? 2 * x->hist_cap : 64 * LDG_HIST_ENTRY;
		uint8_t *p = realloc(x->hist, cap);
		if (p == NULL)
			return LOY_ENOMEM;
		x->hist = p;
		x->hist_cap = cap;
	}
	e = x->hist + x->hist_len;
	memcpy(e, id, LOY_ID_SIZE);
	be32put(e + LOY_ID_SIZE, x->pos);
	memcpy(e + LOY_ID_SIZE + 4, x->hash, LOY_HASH_SIZE);
	e[LOY_ID_SIZE + 4 + LOY_HASH_SIZE] = x->tx->kind;
	e[LOY_ID_SIZE + 5 + LOY_HASH_SIZE] = (uint8_t)(x->code >> 8);
	e[LOY_ID_SIZE + 6 + LOY_HASH_SIZE] = (uint8_t)x->code;
	be64put(e + LOY_ID_SIZE + 7 + LOY_HASH_SIZE, (uint64_t)delta);
	x->hist_len += LDG_HIST_ENTRY;
	return 0;
}

/* Records what every valid transaction leaves behind, applied or not: the
 * signer's nonce, the rejection message if any, and the history entries
 * (the signer's first: it is the transaction index's record, history.c). */
static int record(struct ldg_exec *x)
{
	int rc = ldg_u64_put(&x->t, LDB_NONCES, x->signer, LOY_ID_SIZE,
			     x->tx->nonce);
	if (rc == 0 && x->code != LOY_REJ_OK)
		rc = ldg_put(&x->t, LDB_TXMSG, x->hash, LOY_HASH_SIZE, x->msg,
			     strlen(x->msg));
	if (rc == 0)
		rc = hist_put(x, x->signer, x->delta);
	if (rc == 0 && x->has_other && x->code == LOY_REJ_OK)
		rc = hist_put(x, x->other, x->other_delta);
	if (rc == 0 && x->has_member &&
	    memcmp(x->member, x->signer, LOY_ID_SIZE) != 0 &&
	    (!x->has_other || memcmp(x->member, x->other, LOY_ID_SIZE) != 0))
		rc = hist_put(x, x->member, 0);
	return rc;
}

/* Runs one transaction. Returns 0 with res->code set (OK, a rejection,
 * or an invalid code; invalid ones wrote nothing), or a store error. */
static int exec_one(struct ldg_exec *x, const struct loy_buf *b,
		    const uint8_t *known_hash, unsigned flags,
		    struct loy_tx_result *res)
{
	struct loy_tx tx;
	uint8_t hash[LOY_HASH_SIZE];
	uint64_t last;
	int rc;

	res->code = LOY_REJ_OK;
	res->msg[0] = '\0';
	x->code = LOY_REJ_OK;
	x->msg = res->msg;
	if (b->len > LOY_MAX_TX_BYTES ||
	    loy_tx_decode(&tx, b->data, b->len) != 0) {
		res->code = LOY_REJ_MALFORMED;
		snprintf(res->msg, sizeof res->msg, "malformed transaction");
		return 0;
	}
	if (strcmp(tx.chain_id, x->t.l->chain_id) != 0) {
		res->code = LOY_REJ_WRONG_CHAIN;
		snprintf(res->msg, sizeof res->msg,
			 "chain id \"%s\" is not \"%s\"", tx.chain_id,
			 x->t.l->chain_id);
		goto out;
	}
	if ((flags & LOY_EXEC_VERIFY_SIGS) &&
	    loy_tx_verify_encoded(&tx, b->data, b->len) != 0) {
		res->code = LOY_REJ_BAD_SIGNATURE;
		snprintf(res->msg, sizeof res->msg, "bad signature");
		goto out;
	}
	loy_tx_signer_id(&tx, x->signer);
	rc = ldg_u64_get(&x->t, LDB_NONCES, x->signer, LOY_ID_SIZE, &last);
	if (rc != 0 && rc != LOY_ENOTFOUND)
		goto fail;
	if (last == UINT64_MAX || tx.nonce != last + 1) {
		res->code = LOY_REJ_BAD_NONCE;
		snprintf(res->msg, sizeof res->msg, "nonce %llu, expected %llu",
			 (unsigned long long)tx.nonce,
			 (unsigned long long)last + 1);
		goto out;
	}
	if (known_hash)
		memcpy(hash, known_hash, LOY_HASH_SIZE);
	else
		loy_tx_hash(hash, b->data, b->len);
	x->tx = &tx;
	x->hash = hash;
	x->delta = 0;
	x->has_other = false;
	x->has_member = false;
	rc = ldg_account_get(&x->t, x->signer, &x->sacct);
	if (rc != 0 && rc != LOY_ENOTFOUND)
		goto fail;
	x->sacct_found = rc == 0;
	rc = dispatch(x);
	if (rc == LOY_EREJECTED) {
		x->delta = 0;
		rc = 0;
	}
	if (rc != 0)
		goto fail;
	res->code = x->code;
	rc = record(x);
	if (rc != 0)
		goto fail;
out:
	loy_tx_free(&tx);
	return 0;
fail:
	loy_tx_free(&tx);
	return rc;
}

int ldg_tip_read(struct ldg_txn *t, struct ldg_tip *tp)
{
	MDB_val v;
	int rc = ldg_get(t, LDB_META, "tip", 3, &v);
	if (rc != 0)
		return rc;
	if (v.mv_size != 80)
		return LOY_ECORRUPT;
	const uint8_t *p = v.mv_data;
	tp->height = be64get(p);
	memcpy(tp->hash, p + 8, 32);
	memcpy(tp->root, p + 40, 32);
	tp->time_ms = be64get(p + 72);
	return 0;
}

/* Executes a block's transactions inside txn as block `height` and computes
 * its state root. *bad is the position of the first invalid transaction
 * when LOY_EREJECTED is returned. */
int ldg_run_block(struct ldg_txn *t, const struct ldg_tip *tp,
		  const struct loy_buf *txs,
		  const uint8_t (*hashes)[LOY_HASH_SIZE], uint32_t n,
		  uint64_t time_ms, unsigned flags, struct loy_tx_result *res,
		  uint8_t root[LOY_HASH_SIZE], uint32_t *bad)
{
	struct ldg_exec x;
	uint32_t pos = 0;
	int rc = 0;

	memset(&x, 0, sizeof x);
	x.t = *t;
	x.height = tp->height + 1;
	x.time_ms = time_ms;
	if (!t->l->wc)
		t->l->wc = ldg_wc_new(LDG_WC_ENTRIES);
	if (t->l->wc && ldg_wc_begin(t->l->wc))
		x.t.wc = t->l->wc; /* else the block runs on the store alone */
	for (uint32_t i = 0; i < n; i++) {
		size_t hist_mark = x.hist_len;
		x.pos = pos;
		rc = exec_one(&x, &txs[i], hashes ? hashes[i] : NULL, flags,
			      &res[i]);
		if (rc != 0)
			goto out;
		if (res[i].code != LOY_REJ_OK &&
		    res[i].code <= LOY_REJ_INVALID_MAX) {
			/* not in the block: no history at its position */
			x.hist_len = hist_mark;
			if (!(flags & LOY_EXEC_SKIP_INVALID)) {
				*bad = i;
				rc = LOY_EREJECTED;
				goto out;
			}
			continue;
		}
		pos++;
	}
	if (x.t.wc) {
		rc = ldg_wc_flush(x.t.wc, &x.t, -1);
		if (rc != 0)
			goto out;
	}
	if (x.valset_dirty) {
		rc = ldg_valset_write(t, x.height + 1);
		if (rc != 0)
			goto out;
	}
	if (x.hist_len > 0) {
		uint8_t k[8];
		be64put(k, x.height);
		rc = ldg_put(t, LDB_BLOCKHIST, k, sizeof k, x.hist, x.hist_len);
		if (rc != 0)
			goto out;
	}
	rc = ldg_state_root(t->ws, x.height, tp->root, root);
out:
	if (x.t.wc)
		ldg_wc_end(x.t.wc);
	free(x.hist);
	return rc;
}

void ldg_stage_drop(struct loy_ledger *l)
{
	struct ldg_stage *st = &l->stage;

	if (!st->active)
		return;
	mdb_txn_abort(st->txn);
	ldg_ws_free(st->ws);
	free(st->ws);
	free(st->results);
	free(st->hashes);
	memset(st, 0, sizeof *st);
}

/* What to say about a failure: the damage found, if that is what it is. */
const char *ldg_why(const struct loy_ledger *l, int rc)
{
	const char *d = loy_ledger_damage(l);
	return rc == LOY_ECORRUPT && d ? d : loy_strerror(rc);
}

int ldg_fail_in(struct loy_ledger *l, int rc, const char *what, uint64_t height)
{
	/* keep what the store said (a full map, say) */
	char ctx[sizeof l->errmsg];
	snprintf(ctx, sizeof ctx, "%s", l->errmsg);
	if (rc == LOY_ECORRUPT && loy_ledger_damage(l))
		ctx[0] = '\0'; /* the damage says it all */
	return ldg_fail(l, rc, "ledger: %s block %llu: %s%s%s", what,
			(unsigned long long)height, ldg_why(l, rc),
			ctx[0] ? ": " : "", ctx);
}

/* The checks of every writer call, and the group opened (in group mode). */
static int writable(struct loy_ledger *l, const char *what)
{
	int mrc;
	l->errmsg[0] = '\0';
	ldg_stage_drop(l);
	if (loy_ledger_damage(l))
		return ldg_fail(l, LOY_ECORRUPT, "ledger: %s: %s", what,
				loy_ledger_damage(l));
	if (l->halted)
		return ldg_fail(l, LOY_ESTATE,
				"ledger: %s: halted after a block that "
				"did not apply (restart the node)",
				what);
	if (l->flags & LOY_LEDGER_RDONLY)
		return ldg_fail(l, LOY_ESTATE, "ledger: %s: read-only", what);
	if (!l->have_genesis)
		return ldg_fail(l, LOY_ESTATE, "ledger: %s: no genesis", what);
	if ((l->flags & LOY_LEDGER_GROUP) && l->group.txn == NULL) {
		mrc = mdb_txn_begin(l->env, NULL, 0, &l->group.txn);
		if (mrc != 0) {
			l->group.txn = NULL;
			return ldg_fail(l, ldg_mdb_err(mrc), "ledger: %s: %s",
					what, mdb_strerror(mrc));
		}
		l->group.blocks = 0;
		l->group.txs = 0;
		l->group.unlogged = false;
		l->group.logged = 0;
		l->group.writes0 = l->writes;
		/* the thread that writes now (the loop thread replays the
		 * block log at start; the ledger thread writes after) */
		if (!ldg_reads_group(l)) {
			atomic_store(&l->writer_known, false);
			l->writer = pthread_self();
			atomic_store(&l->writer_known, true);
		}
	}
	return 0;
}

int ldg_begin(struct loy_ledger *l, const char *what, MDB_txn **txn)
{
	int mrc, rc = writable(l, what);

	if (rc != 0)
		return rc;
	mrc = mdb_txn_begin(l->env, l->group.txn, 0, txn);
	if (mrc != 0)
		return ldg_fail(l, ldg_mdb_err(mrc), "ledger: %s: %s", what,
				mdb_strerror(mrc));
	return 0;
}

int ldg_begin_in_group(struct loy_ledger *l, const char *what, MDB_txn **txn)
{
	int rc;

	if (!(l->flags & LOY_LEDGER_GROUP))
		return ldg_fail(l, LOY_EINVAL, "ledger: %s: not in group mode",
				what);
	rc = writable(l, what);
	if (rc == 0)
		*txn = l->group.txn;
	return rc;
}

void ldg_group_drop(struct loy_ledger *l)
{
	if (l->group.txn == NULL)
		return;
	ldg_stage_drop(l);
	mdb_txn_abort(l->group.txn);
	l->group.txn = NULL;
	l->group.blocks = 0;
	l->group.txs = 0;
	l->group.unlogged = false;
	l->group.logged = 0;
	l->halted = true;
}

/* Keeps t's open transaction as the stage of the block made of the
 * transactions that were not left out. Takes ownership of t->txn and *ws
 * (heap-allocated) on success. */
static int stage_keep(struct loy_ledger *l, struct ldg_txn *t,
		      struct ldg_ws *ws, const struct ldg_tip *tp,
		      const struct loy_buf *txs,
		      const uint8_t (*hashes)[LOY_HASH_SIZE], uint32_t n,
		      uint64_t time_ms, const struct loy_tx_result *results,
		      const uint8_t root[LOY_HASH_SIZE])
{
	struct ldg_stage *st = &l->stage;
	uint32_t k = 0;

	st->results = malloc((n ? n : 1) * sizeof *st->results);
	st->hashes = malloc((n ? n : 1) * sizeof *st->hashes);
	st->ws = malloc(sizeof *st->ws);
	if (st->hashes == NULL || st->results == NULL || st->ws == NULL) {
		free(st->hashes);
		free(st->results);
		free(st->ws);
		memset(st, 0, sizeof *st);
		return LOY_ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++) {
		if (results[i].code != LOY_REJ_OK &&
		    results[i].code <= LOY_REJ_INVALID_MAX)
			continue;
		if (hashes)
			memcpy(st->hashes[k], hashes[i], LOY_HASH_SIZE);
		else
			loy_tx_hash(st->hashes[k], txs[i].data, txs[i].len);
		st->results[k] = results[i];
		k++;
	}
	loy_tx_root_hashed(st->tx_root, (const uint8_t(*)[32])st->hashes, k);
	*st->ws = *ws;
	st->txn = t->txn;
	st->n = k;
	st->height = tp->height + 1;
	st->time_ms = time_ms;
	memcpy(st->root, root, LOY_HASH_SIZE);
	st->active = true;
	return 0;
}

int loy_ledger_execute(struct loy_ledger *l, const struct loy_buf *txs,
		       uint32_t n, uint64_t time_ms, unsigned flags,
		       struct loy_tx_result *results,
		       uint8_t state_root[LOY_HASH_SIZE])
{
	return loy_ledger_execute_hashed(l, txs, NULL, n, time_ms, flags,
					 results, state_root);
}

int loy_ledger_execute_hashed(struct loy_ledger *l, const struct loy_buf *txs,
			      const uint8_t (*hashes)[LOY_HASH_SIZE],
			      uint32_t n, uint64_t time_ms, unsigned flags,
			      struct loy_tx_result *results,
			      uint8_t state_root[LOY_HASH_SIZE])
{
	struct ldg_ws ws;
	struct ldg_txn t = {.l = l, .ws = &ws};
	struct ldg_tip tp;
	uint32_t bad = 0;
	int rc;

	if (n > LOY_MAX_BLOCK_TXS)
		return ldg_fail(l, LOY_ETOOBIG, "ledger: execute: %u txs", n);
	rc = ldg_begin(l, "execute", &t.txn);
	if (rc != 0)
		return rc;
	ldg_ws_init(&ws);
	rc = ldg_tip_read(&t, &tp);
	if (rc != 0) {
		ldg_fail(l, rc, "ledger: execute: tip: %s", ldg_why(l, rc));
		goto out;
	}
	if (time_ms < tp.time_ms) {
		rc = ldg_fail(l, LOY_EINVAL,
			      "ledger: execute: time %llu before tip time %llu",
			      (unsigned long long)time_ms,
			      (unsigned long long)tp.time_ms);
		goto out;
	}
	rc = ldg_run_block(&t, &tp, txs, hashes, n, time_ms, flags, results,
			   state_root, &bad);
	if (rc == LOY_EREJECTED)
		ldg_fail(l, rc, "ledger: execute block %llu: tx %u invalid: %s",
			 (unsigned long long)tp.height + 1, bad,
			 results[bad].msg);
	else if (rc != 0)
		ldg_fail_in(l, rc, "execute", tp.height + 1);
	if (rc == 0 && (flags & LOY_EXEC_STAGE) &&
	    stage_keep(l, &t, &ws, &tp, txs, hashes, n, time_ms, results,
		       state_root) == 0)
		return 0; /* the stage owns the transaction and write set */
out:
	mdb_txn_abort(t.txn);
	ldg_ws_free(&ws);
	return rc;
}

int loy_ledger_check_tx(struct loy_ledger *l, const uint8_t *tx, size_t len,
			uint64_t time_ms, unsigned flags,
			struct loy_tx_result *result)
{
	struct loy_buf b = {(uint8_t *)tx, len};
	uint8_t root[LOY_HASH_SIZE];
	return loy_ledger_execute(l, &b, 1, time_ms,
				  flags & ~(unsigned)LOY_EXEC_SKIP_INVALID,
				  result, root);
}
