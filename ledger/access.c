/* Tagged access to the store: every value carries an integrity tag over its
 * table, key and bytes, added on put and checked (then stripped) on every
 * get and cursor step; damage is reported once, naming table and key. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ledger/internal.h"
#include "wire/error.h"

#define TAG LOY_STORE_TAG_SIZE

const char *const ldg_db_names[LDB_COUNT] = {
    [LDB_PARAMS] = "params",
    [LDB_TOTALS] = "totals",
    [LDB_ACCOUNTS] = "accounts",
    [LDB_NONCES] = "nonces",
    [LDB_MEMBERS] = "members",
    [LDB_VALSETS] = "valsets",
    [LDB_POSITIONS] = "positions",
    [LDB_LOTS] = "lots",
    [LDB_REFS] = "refs",
    [LDB_RULES] = "rules",
    [LDB_PARTS] = "partnerships",
    [LDB_PMEMBERS] = "partners",
    [LDB_PROPOSALS] = "proposals",
    [LDB_VOTES] = "votes",
    [LDB_BATCHES] = "batches",
    [LDB_COUPONS] = "coupons",
    [LDB_CUSES] = "coupon_uses",
    [LDB_SETTLES] = "settles",
    [LDB_META] = "meta",
    [LDB_BLOCKS] = "blocks",
    [LDB_CERTS] = "certs",
    [LDB_TXMSG] = "tx_messages",
    [LDB_BLOCKHIST] = "block_history",
    [LDB_CCPN] = "customer_coupons",
    [LDB_DAILY] = "daily",
    [LDB_DAYACT] = "daily_active",
};

/* Records the first damage found: whoever moves the state from 0 to 1
 * writes the message, then publishes it with 2. */
static void damage_set(struct loy_ledger *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void damage_set(struct loy_ledger *l, const char *fmt, ...)
{
	int none = 0;
	va_list ap;

	if (!atomic_compare_exchange_strong(&l->damage_state, &none, 1))
		return;
	va_start(ap, fmt);
	vsnprintf(l->damage, sizeof l->damage, fmt, ap);
	va_end(ap);
	atomic_store(&l->damage_state, 2);
}

/* Hex of a key for messages: at most 48 bytes of it, then "...". */
static void key_hex(char *out, size_t n, const void *key, size_t klen)
{
	static const char hx[] = "0123456789abcdef";
	const uint8_t *p = key;
	size_t show = klen > 48 ? 48 : klen, i;

	for (i = 0; i < show && 2 * i + 2 < n; i++) {
		out[2 * i] = hx[p[i] >> 4];
		out[2 * i + 1] = hx[p[i] & 15];
	}
	out[2 * i] = '\0';
	if (show < klen && 2 * i + 4 < n)
		memcpy(out + 2 * i, "...", 4);
}

int ldg_damaged(struct loy_ledger *l, enum ldb db, const void *key, size_t klen,
		const char *what)
{
	char hex[2 * 48 + 4];

	key_hex(hex, sizeof hex, key, klen);
	damage_set(l, "data.mdb damaged: %s record %s %s; " LDG_DAMAGE_FIX,
		   ldg_db_names[db], hex, what);
	return LOY_ECORRUPT;
}

int ldg_damaged_count(struct loy_ledger *l, enum ldb db, size_t want,
		      size_t got)
{
	damage_set(l,
		   "data.mdb damaged: the %s table counts %zu records but "
		   "%zu can be read; " LDG_DAMAGE_FIX,
		   ldg_db_names[db], want, got);
	return LOY_ECORRUPT;
}

int ldg_damaged_free(struct loy_ledger *l, unsigned long long txnid,
		     const char *what)
{
	damage_set(l,
		   "data.mdb damaged: LMDB's free-page list (the entry of "
		   "transaction %llu) %s; " LDG_DAMAGE_FIX,
		   txnid, what);
	return LOY_ECORRUPT;
}

/* What an operator does about a full map (the node halts on it). */
static const char *full_hint(int mrc)
{
	return mrc == MDB_MAP_FULL ? " (data.mdb reached its map size: raise "
				     "[limits] map_size_mb in loyd.conf and "
				     "restart)"
				   : "";
}

int ldg_read_err(struct loy_ledger *l, enum ldb db, const void *key,
		 size_t klen, int mrc)
{
	char hex[2 * 48 + 4];

	if (mrc != MDB_CORRUPTED && mrc != MDB_PAGE_NOTFOUND)
		return ldg_mdb_err(mrc);
	key_hex(hex, sizeof hex, key, klen);
	damage_set(
	    l,
	    "data.mdb damaged: reading the %s table%s%s: %s; " LDG_DAMAGE_FIX,
	    ldg_db_names[db], klen ? " at record " : "", hex,
	    mdb_strerror(mrc));
	return LOY_ECORRUPT;
}

/* Checks the tag of a record read from db (k as stored) and strips it. */
static int tag_open(struct loy_ledger *l, enum ldb db, const MDB_val *k,
		    MDB_val *v)
{
	uint8_t tag[TAG];

	if (v->mv_size < TAG)
		return ldg_damaged(l, db, k->mv_data, k->mv_size,
				   "fails its integrity check");
	v->mv_size -= TAG;
	loy_store_tag(tag, ldg_db_names[db], k->mv_data, k->mv_size, v->mv_data,
		      v->mv_size);
	if (memcmp(tag, (const uint8_t *)v->mv_data + v->mv_size, TAG) != 0)
		return ldg_damaged(l, db, k->mv_data, k->mv_size,
				   "fails its integrity check");
	return 0;
}

int ldg_key_cmp(const MDB_val *a, const void *b, size_t blen)
{
	size_t n = a->mv_size < blen ? a->mv_size : blen;
	int c = n ? memcmp(a->mv_data, b, n) : 0;

	if (c != 0)
		return c;
	return a->mv_size < blen ? -1 : a->mv_size > blen;
}

static int disorder(struct loy_ledger *l, enum ldb db, const void *key,
		    size_t klen)
{
	return ldg_damaged(l, db, key, klen,
			   "cannot be looked up: the table's index is out of "
			   "order there");
}

/* A search for key landed between *before (NULL: the table's start) and
 * *after (NULL: its end; equal to key allowed only when found_ok): both
 * must be on the right side of it, else a damaged branch page sent the
 * search to the wrong leaf, where a record that is there reads as absent. */
static int order_check(struct loy_ledger *l, enum ldb db, const void *key,
		       size_t klen, const MDB_val *before, const MDB_val *after,
		       bool found_ok)
{
	int c = after ? ldg_key_cmp(after, key, klen) : 1;

	if ((before && ldg_key_cmp(before, key, klen) >= 0) || c < 0 ||
	    (c == 0 && !found_ok))
		return disorder(l, db, key, klen);
	return 0;
}

static int cursor_open(struct ldg_txn *t, enum ldb db, MDB_cursor **c)
{
	int mrc = mdb_cursor_open(t->txn, t->l->dbi[db], c);
	return mrc ? ldg_read_err(t->l, db, NULL, 0, mrc) : 0;
}

int ldg_cursor_open(struct ldg_txn *t, enum ldb db, MDB_cursor **c)
{
	/* a scan sees the block's changes to its table */
	if (t->wc) {
		int rc = ldg_wc_flush(t->wc, t, (int)db);
		if (rc != 0)
			return rc;
	}
	return cursor_open(t, db, c);
}

/* One cursor move and the check of where it lands. */
static int cursor_step(struct ldg_txn *t, enum ldb db, MDB_cursor *c,
		       MDB_val *k, MDB_val *v, MDB_cursor_op op)
{
	const void *at = op == MDB_SET_RANGE ? k->mv_data : NULL;
	size_t alen = op == MDB_SET_RANGE ? k->mv_size : 0;
	int mrc = mdb_cursor_get(c, k, v, op);

	if (mrc == MDB_NOTFOUND)
		return LOY_ENOTFOUND;
	if (mrc != 0)
		return ldg_read_err(t->l, db, at, alen, mrc);
	return tag_open(t->l, db, k, v);
}

int ldg_cursor_get(struct ldg_txn *t, enum ldb db, MDB_cursor *c, MDB_val *k,
		   MDB_val *v, MDB_cursor_op op)
{
	MDB_val pk, pv, sk, sv;
	const void *want = k->mv_data;
	size_t wlen = k->mv_size;
	int rc = cursor_step(t, db, c, k, v, op), mrc;

	if (op != MDB_SET_RANGE || (rc != 0 && rc != LOY_ENOTFOUND))
		return rc;
	/* The record before the landing place: a damaged key can move a
	 * record's sort position, but not its slot in the page, which is
	 * next to where a search for its true key lands. And the two must
	 * straddle the key searched for. */
	if (rc == LOY_ENOTFOUND) {
		rc = cursor_step(t, db, c, &pk, &pv, MDB_LAST);
		if (rc == 0)
			rc = order_check(t->l, db, want, wlen, &pk, NULL, true);
		return rc == 0 ? LOY_ENOTFOUND : rc;
	}
	sk = *k;
	sv = *v;
	rc = cursor_step(t, db, c, &pk, &pv, MDB_PREV);
	if (rc != 0 && rc != LOY_ENOTFOUND)
		return rc;
	mrc =
	    order_check(t->l, db, want, wlen, rc == 0 ? &pk : NULL, &sk, true);
	if (mrc != 0)
		return mrc;
	/* back to the landing record (checked above) */
	mrc = mdb_cursor_get(c, &pk, &pv, rc == 0 ? MDB_NEXT : MDB_FIRST);
	if (mrc != 0)
		return ldg_read_err(t->l, db, sk.mv_data, sk.mv_size, mrc);
	*k = sk;
	*v = sv;
	return 0;
}

/* One step of an absent-key check: a neighbour's key only, no tag. */
static int step_key(struct ldg_txn *t, enum ldb db, MDB_cursor *c, MDB_val *k,
		    MDB_cursor_op op)
{
	MDB_val v;
	int mrc = mdb_cursor_get(c, k, &v, op);
	if (mrc == MDB_NOTFOUND)
		return LOY_ENOTFOUND;
	return mrc ? ldg_read_err(t->l, db, NULL, 0, mrc) : 0;
}

/* A key that is not there. A record damaged in place (its key, or the
 * page's pointer to it) sits in the slot next to where the search for its
 * true key lands, so: the records on both sides of that place must pass
 * their tags, and with the next key out on each side the four must rise
 * strictly with the key between the middle two; else a record that is
 * there would read as absent. */
static int absent_check(struct ldg_txn *t, enum ldb db, const void *key,
			size_t klen)
{
	MDB_cursor *c;
	MDB_val k = {klen, (void *)key}, v, w[4]; /* keys around the place */
	bool have[4] = {false, false, false, false};
	/* The store's records only: a change the block cache holds is not
	 * there yet, but a key it knows never comes here. */
	int rc = cursor_open(t, db, &c);

	if (rc != 0)
		return rc;
	rc = cursor_step(t, db, c, &k, &v, MDB_SET_RANGE);
	if (rc == 0) {
		w[2] = k;
		have[2] = true;
		rc = step_key(t, db, c, &w[3], MDB_NEXT);
		have[3] = rc == 0;
		/* back to w[2] (a failed MDB_NEXT leaves the cursor there) */
		if (rc == 0)
			rc = step_key(t, db, c, &k, MDB_PREV);
		if (rc == 0 || rc == LOY_ENOTFOUND)
			rc = cursor_step(t, db, c, &k, &v, MDB_PREV);
	} else if (rc == LOY_ENOTFOUND) {
		rc = cursor_step(t, db, c, &k, &v, MDB_LAST);
	}
	if (rc == 0) {
		w[1] = k;
		have[1] = true;
		rc = step_key(t, db, c, &w[0], MDB_PREV);
		have[0] = rc == 0;
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != LOY_ENOTFOUND)
		return rc;
	for (int i = 0; i < 3; i++)
		if (have[i] && have[i + 1] &&
		    ldg_key_cmp(&w[i], w[i + 1].mv_data, w[i + 1].mv_size) >= 0)
			return disorder(t->l, db, key, klen);
	rc = order_check(t->l, db, key, klen, have[1] ? &w[1] : NULL,
			 have[2] ? &w[2] : NULL, false);
	return rc == 0 ? LOY_ENOTFOUND : rc;
}

int ldg_get(struct ldg_txn *t, enum ldb db, const void *key, size_t klen,
	    MDB_val *val)
{
	MDB_val k = {klen, (void *)key};
	int mrc, rc;

	if (t->wc) {
		rc = ldg_wc_get(t->wc, db, key, klen, val);
		if (rc != 1)
			return rc;
	}
	mrc = mdb_get(t->txn, t->l->dbi[db], &k, val);
	if (mrc == 0)
		rc = tag_open(t->l, db, &k, val);
	else if (mrc == MDB_NOTFOUND)
		rc = absent_check(t, db, key, klen);
	else
		return ldg_read_err(t->l, db, key, klen, mrc);
	if (t->wc && (rc == 0 || rc == LOY_ENOTFOUND))
		ldg_wc_remember(t->wc, db, key, klen, rc == 0 ? val : NULL);
	return rc;
}

int ldg_store_write(struct ldg_txn *t, enum ldb db, const void *key,
		    size_t klen, const void *val, size_t vlen, bool del)
{
	MDB_val k = {klen, (void *)key}, v = {vlen + TAG, NULL};
	uint8_t tag[TAG];
	int rc;

	t->l->writes++;
	if (del) {
		rc = mdb_del(t->txn, t->l->dbi[db], &k, NULL);
		if (rc == MDB_NOTFOUND)
			return LOY_ENOTFOUND;
	} else {
		/* the tag first: val must not be read once the put moved
		 * pages */
		loy_store_tag(tag, ldg_db_names[db], key, klen, val, vlen);
		rc = mdb_put(t->txn, t->l->dbi[db], &k, &v, MDB_RESERVE);
	}
	if (rc != 0)
		return ldg_fail(t->l, ldg_read_err(t->l, db, key, klen, rc),
				"%s %s: %s%s", del ? "del" : "put",
				ldg_db_names[db], mdb_strerror(rc),
				full_hint(rc));
	if (!del) {
		if (vlen)
			memcpy(v.mv_data, val, vlen);
		memcpy((uint8_t *)v.mv_data + vlen, tag, TAG);
	}
	return 0;
}

int ldg_put(struct ldg_txn *t, enum ldb db, const void *key, size_t klen,
	    const void *val, size_t vlen)
{
	/* kept by the block cache: its flush writes it to the write set */
	if (t->wc) {
		int rc = ldg_wc_write(t->wc, db, key, klen, val, vlen, false);
		if (rc != 1)
			return rc;
	}
	if (t->ws && db < LDB_HASHED_COUNT)
		ldg_ws_record(t->ws, db, key, klen, val, vlen, false);
	return ldg_store_write(t, db, key, klen, val, vlen, false);
}

int ldg_del(struct ldg_txn *t, enum ldb db, const void *key, size_t klen)
{
	MDB_val v;
	int rc;

	/* Deleting a missing key changes nothing, the write set included.
	 * The block cache first learns whether it is there, and keeps the
	 * delete like a put. */
	if (t->wc) {
		rc = ldg_get(t, db, key, klen, &v);
		if (rc == 0)
			rc = ldg_wc_write(t->wc, db, key, klen, NULL, 0, true);
		if (rc != 1)
			return rc == LOY_ENOTFOUND ? 0 : rc;
	}
	rc = ldg_store_write(t, db, key, klen, NULL, 0, true);
	if (rc == LOY_ENOTFOUND)
		return 0;
	if (rc == 0 && t->ws && db < LDB_HASHED_COUNT)
		ldg_ws_record(t->ws, db, key, klen, NULL, 0, true);
	return rc;
}

int ldg_check_ends(struct ldg_txn *t)
{
	for (int i = 0; i < LDB_COUNT; i++) {
		enum ldb db = (enum ldb)i;
		MDB_cursor *c;
		MDB_val k, v;
		int rc = ldg_cursor_open(t, db, &c);
		if (rc != 0)
			return rc;
		rc = ldg_cursor_get(t, db, c, &k, &v, MDB_FIRST);
		if (rc == 0)
			rc = ldg_cursor_get(t, db, c, &k, &v, MDB_LAST);
		mdb_cursor_close(c);
		if (rc != 0 && rc != LOY_ENOTFOUND)
			return rc;
	}
	return 0;
}

#define TYPED(name, DB, LEN, type, enc, dec)                                   \
	int ldg_##name##_get(struct ldg_txn *t, const uint8_t id[LOY_ID_SIZE], \
			     type *x)                                          \
	{                                                                      \
		MDB_val v;                                                     \
		int rc = ldg_get(t, DB, id, LOY_ID_SIZE, &v);                  \
		memset(x, 0, sizeof *x);                                       \
		if (rc != 0)                                                   \
			return rc;                                             \
		return dec(x, &v);                                             \
	}                                                                      \
	int ldg_##name##_put(struct ldg_txn *t, const uint8_t id[LOY_ID_SIZE], \
			     const type *x)                                    \
	{                                                                      \
		uint8_t b[LEN];                                                \
		enc(b, x);                                                     \
		return ldg_put(t, DB, id, LOY_ID_SIZE, b, LEN);                \
	}

TYPED(account, LDB_ACCOUNTS, LDG_ACCOUNT_LEN, struct ldg_account,
      ldg_account_enc, ldg_account_dec)
TYPED(member, LDB_MEMBERS, LDG_MEMBER_LEN, struct ldg_member, ldg_member_enc,
      ldg_member_dec)
TYPED(position, LDB_POSITIONS, LDG_POSITION_LEN, struct ldg_position,
      ldg_position_enc, ldg_position_dec)

int ldg_totals_get(struct ldg_txn *t, struct ldg_totals *tt)
{
	MDB_val v;
	int rc = ldg_get(t, LDB_TOTALS, "totals", 6, &v);
	memset(tt, 0, sizeof *tt);
	if (rc == LOY_ENOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	return ldg_totals_dec(tt, &v);
}

int ldg_totals_put(struct ldg_txn *t, const struct ldg_totals *tt)
{
	uint8_t b[LDG_TOTALS_LEN];
	ldg_totals_enc(b, tt);
	return ldg_put(t, LDB_TOTALS, "totals", 6, b, sizeof b);
}

int ldg_u64_get(struct ldg_txn *t, enum ldb db, const void *key, size_t klen,
		uint64_t *out)
{
	MDB_val v;
	int rc = ldg_get(t, db, key, klen, &v);
	*out = 0;
	if (rc != 0)
		return rc;
	if (v.mv_size != 8)
		return LOY_ECORRUPT;
	*out = be64get(v.mv_data);
	return 0;
}

int ldg_u64_put(struct ldg_txn *t, enum ldb db, const void *key, size_t klen,
		uint64_t val)
{
	uint8_t b[8];
	be64put(b, val);
	return ldg_put(t, db, key, klen, b, 8);
}

/* --- validator sets --- */

int ldg_valset_write(struct ldg_txn *t, uint64_t from)
{
	uint8_t buf[4 + LOY_MAX_VALIDATORS * LOY_PUBKEY_SIZE];
	uint8_t key[8];
	uint32_t n = 0;
	MDB_cursor *c;
	MDB_val k, v;
	int rc = ldg_cursor_open(t, LDB_MEMBERS, &c);
	if (rc != 0)
		return rc;
	/* Members are keyed by ID; the set is sorted by public key, so
	 * collect then insertion-sort (at most 64). */
	for (rc = ldg_cursor_get(t, LDB_MEMBERS, c, &k, &v, MDB_FIRST); rc == 0;
	     rc = ldg_cursor_get(t, LDB_MEMBERS, c, &k, &v, MDB_NEXT)) {
		struct ldg_member m;
		if (ldg_member_dec(&m, &v) != 0) {
			mdb_cursor_close(c);
			return LOY_ECORRUPT;
		}
		if (!m.active)
			continue;
		if (n == LOY_MAX_VALIDATORS) {
			mdb_cursor_close(c);
			return LOY_ETOOBIG;
		}
		uint32_t i = n++;
		while (i > 0 &&
		       memcmp(buf + 4 + (i - 1) * 32, m.pubkey, 32) > 0) {
			memcpy(buf + 4 + i * 32, buf + 4 + (i - 1) * 32, 32);
			i--;
		}
		memcpy(buf + 4 + i * 32, m.pubkey, 32);
	}
	mdb_cursor_close(c);
	if (rc != LOY_ENOTFOUND)
		return rc;
	be32put(buf, n);
	be64put(key, from);
	return ldg_put(t, LDB_VALSETS, key, 8, buf, 4 + (size_t)n * 32);
}

int ldg_valset_read(struct ldg_txn *t, uint64_t height,
		    uint8_t keys[][LOY_PUBKEY_SIZE], uint32_t *n)
{
	uint8_t kb[8];
	MDB_cursor *c;
	MDB_val k = {8, kb}, v;
	int rc;
	be64put(kb, height);
	rc = ldg_cursor_open(t, LDB_VALSETS, &c);
	if (rc != 0)
		return rc;
	rc = ldg_cursor_get(t, LDB_VALSETS, c, &k, &v, MDB_SET_RANGE);
	if (rc == 0 && (k.mv_size != 8 || be64get(k.mv_data) != height))
		rc = ldg_cursor_get(t, LDB_VALSETS, c, &k, &v, MDB_PREV);
	else if (rc == LOY_ENOTFOUND)
		rc = ldg_cursor_get(t, LDB_VALSETS, c, &k, &v, MDB_LAST);
	mdb_cursor_close(c);
	if (rc != 0)
		return rc;
	if (v.mv_size < 4)
		return LOY_ECORRUPT;
	uint32_t cnt = be32get(v.mv_data);
	if (cnt > LOY_MAX_VALIDATORS || v.mv_size != 4 + (size_t)cnt * 32)
		return LOY_ECORRUPT;
	memcpy(keys, (uint8_t *)v.mv_data + 4, (size_t)cnt * 32);
	*n = cnt;
	return 0;
}

int ldg_load_params(struct loy_ledger *l, MDB_txn *txn)
{
	struct ldg_txn t = {.l = l, .txn = txn};
	MDB_val v;
	int rc = ldg_get(&t, LDB_PARAMS, "genesis", 7, &v);
	if (rc != 0)
		return rc;
	/* chain_id[33] time8 bps4 point_value8 */
	if (v.mv_size != LOY_CHAIN_ID_MAX + 1 + 8 + 4 + 8)
		return LOY_ECORRUPT;
	const uint8_t *p = v.mv_data;
	memcpy(l->chain_id, p, LOY_CHAIN_ID_MAX + 1);
	l->chain_id[LOY_CHAIN_ID_MAX] = '\0';
	p += LOY_CHAIN_ID_MAX + 1 + 8;
	l->commission_bps = be32get(p);
	l->point_value = be64get(p + 4);
	rc = ldg_get(&t, LDB_META, "genesis_hash", 12, &v);
	if (rc != 0)
		return rc == LOY_ENOTFOUND ? LOY_ECORRUPT : rc;
	if (v.mv_size != LOY_HASH_SIZE)
		return LOY_ECORRUPT;
	memcpy(l->genesis_hash, v.mv_data, LOY_HASH_SIZE);
	l->have_genesis = true;
	return 0;
}
