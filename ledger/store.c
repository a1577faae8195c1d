/* The store schema: record layouts (big-endian, field by field) and typed
 * get/put helpers that record every change to consensus state. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ledger/internal.h"
#include "wire/error.h"

int ldg_mdb_err(int rc)
{
	switch (rc) {
	case 0:
		return 0;
	case MDB_NOTFOUND:
		return LOY_ENOTFOUND;
	case ENOMEM:
		return LOY_ENOMEM;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
	case MDB_INCOMPATIBLE:
	case MDB_BAD_DBI:
		return LOY_ECORRUPT;
	default:
		return LOY_EIO;
	}
}

int ldg_fail(struct loy_ledger *l, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(l->errmsg, sizeof l->errmsg, fmt, ap);
	va_end(ap);
	return code;
}

/* A write/read cursor over a fixed record. */
struct rec {
	uint8_t *p;
	const uint8_t *q;
};

static void w8(struct rec *r, uint8_t v)
{
	*r->p++ = v;
}
static void w32(struct rec *r, uint32_t v)
{
	be32put(r->p, v);
	r->p += 4;
}
static void w64(struct rec *r, uint64_t v)
{
	be64put(r->p, v);
	r->p += 8;
}
static void wb(struct rec *r, const void *b, size_t n)
{
	memcpy(r->p, b, n);
	r->p += n;
}
/* Fixed-size, NUL-padded string field of n bytes (n-1 characters). */
static void ws(struct rec *r, const char *s, size_t n)
{
	size_t len = strnlen(s, n - 1);
	memcpy(r->p, s, len);
	memset(r->p + len, 0, n - len);
	r->p += n;
}
static uint8_t r8(struct rec *r)
{
	return *r->q++;
}
static uint32_t r32(struct rec *r)
{
	uint32_t v = be32get(r->q);
	r->q += 4;
	return v;
}
static uint64_t r64(struct rec *r)
{
	uint64_t v = be64get(r->q);
	r->q += 8;
	return v;
}
static void rb(struct rec *r, void *b, size_t n)
{
	memcpy(b, r->q, n);
	r->q += n;
}
static void rs(struct rec *r, char *s, size_t n)
{
	memcpy(s, r->q, n);
	s[n - 1] = '\0';
	r->q += n;
}

#define DEC_BEGIN(len)                                                         \
	struct rec r = {.q = v->mv_data};                                      \
	if (v->mv_size != (len))                                               \
		return LOY_ECORRUPT;

void ldg_account_enc(uint8_t *p, const struct ldg_account *a)
{
	struct rec r = {.p = p};
	w8(&r, a->type);
	w8(&r, a->active);
	wb(&r, a->pubkey, LOY_PUBKEY_SIZE);
	wb(&r, a->owner, LOY_ID_SIZE);
	w64(&r, a->balance);
	w64(&r, a->created);
}

int ldg_account_dec(struct ldg_account *a, const MDB_val *v)
{
	DEC_BEGIN(LDG_ACCOUNT_LEN);
	a->type = r8(&r);
	a->active = r8(&r);
	rb(&r, a->pubkey, LOY_PUBKEY_SIZE);
	rb(&r, a->owner, LOY_ID_SIZE);
	a->balance = r64(&r);
	a->created = r64(&r);
	return 0;
}

void ldg_member_enc(uint8_t *p, const struct ldg_member *m)
{
	struct rec r = {.p = p};
	wb(&r, m->pubkey, LOY_PUBKEY_SIZE);
	w8(&r, m->active);
	w64(&r, m->admitted);
	w64(&r, m->removed);
	ws(&r, m->name, LOY_NAME_MAX + 1);
	ws(&r, m->address, LOY_ADDR_MAX + 1);
}

int ldg_member_dec(struct ldg_member *m, const MDB_val *v)
{
	DEC_BEGIN(LDG_MEMBER_LEN);
	rb(&r, m->pubkey, LOY_PUBKEY_SIZE);
	m->active = r8(&r);
	m->admitted = r64(&r);
	m->removed = r64(&r);
	rs(&r, m->name, LOY_NAME_MAX + 1);
	rs(&r, m->address, LOY_ADDR_MAX + 1);
	return 0;
}

void ldg_position_enc(uint8_t *p, const struct ldg_position *s)
{
	struct rec r = {.p = p};
	w64(&r, s->issued);
	w64(&r, s->reversed);
	w64(&r, s->redeemed_at);
	w64(&r, s->coupon_owed);
	w64(&r, s->coupon_at);
	w64(&r, s->comm_paid);
	w64(&r, s->comm_earned);
	w64(&r, s->paid);
	w64(&r, s->received);
	w64(&r, s->consumed);
}

int ldg_position_dec(struct ldg_position *s, const MDB_val *v)
{
	DEC_BEGIN(LDG_POSITION_LEN);
	s->issued = r64(&r);
	s->reversed = r64(&r);
	s->redeemed_at = r64(&r);
	s->coupon_owed = r64(&r);
	s->coupon_at = r64(&r);
	s->comm_paid = r64(&r);
	s->comm_earned = r64(&r);
	s->paid = r64(&r);
	s->received = r64(&r);
	s->consumed = r64(&r);
	return 0;
}

int ldg_position_net(const struct ldg_position *s, int64_t *net)
{
	__int128 n = 0;
	n += s->redeemed_at;
	n += s->coupon_at;
	n += s->comm_earned;
	n += s->paid;
	n -= s->issued;
	n += s->reversed;
	n -= s->coupon_owed;
	n -= s->comm_paid;
	n -= s->received;
	if (n > INT64_MAX || n < INT64_MIN)
		return LOY_ERANGE;
	*net = (int64_t)n;
	return 0;
}

void ldg_totals_enc(uint8_t *p, const struct ldg_totals *t)
{
	struct rec r = {.p = p};
	w64(&r, t->issued);
	w64(&r, t->reversed);
	w64(&r, t->redeemed);
	w64(&r, t->coupon_redeemed);
	w64(&r, t->customers);
}

int ldg_totals_dec(struct ldg_totals *t, const MDB_val *v)
{
	DEC_BEGIN(LDG_TOTALS_LEN);
	t->issued = r64(&r);
	t->reversed = r64(&r);
	t->redeemed = r64(&r);
	t->coupon_redeemed = r64(&r);
	t->customers = r64(&r);
	return 0;
}

static void rule_w(struct rec *r, const struct ldg_rule *x)
{
	w64(r, x->rate_num);
	w64(r, x->rate_den);
	w64(r, x->bonus);
	w64(r, x->min_purchase);
	w64(r, x->from);
	w64(r, x->until);
}

static void rule_r(struct rec *r, struct ldg_rule *x)
{
	x->rate_num = r64(r);
	x->rate_den = r64(r);
	x->bonus = r64(r);
	x->min_purchase = r64(r);
	x->from = r64(r);
	x->until = r64(r);
}

void ldg_rule_enc(uint8_t *p, const struct ldg_rule *x)
{
	struct rec r = {.p = p};
	rule_w(&r, x);
}

int ldg_rule_dec(struct ldg_rule *x, const MDB_val *v)
{
	DEC_BEGIN(LDG_RULE_LEN);
	rule_r(&r, x);
	return 0;
}

void ldg_part_enc(uint8_t *p, const struct ldg_part *x)
{
	struct rec r = {.p = p};
	wb(&r, x->creator, LOY_ID_SIZE);
	rule_w(&r, &x->rule);
	w64(&r, x->created);
}

int ldg_part_dec(struct ldg_part *x, const MDB_val *v)
{
	DEC_BEGIN(LDG_PART_LEN);
	rb(&r, x->creator, LOY_ID_SIZE);
	rule_r(&r, &x->rule);
	x->created = r64(&r);
	return 0;
}

void ldg_issue_enc(uint8_t *p, const struct ldg_issue *x)
{
	struct rec r = {.p = p};
	wb(&r, x->customer, LOY_ID_SIZE);
	wb(&r, x->issuer, LOY_ID_SIZE);
	w64(&r, x->points);
	w8(&r, x->reversed);
}

int ldg_issue_dec(struct ldg_issue *x, const MDB_val *v)
{
	DEC_BEGIN(LDG_ISSUE_LEN);
	rb(&r, x->customer, LOY_ID_SIZE);
	rb(&r, x->issuer, LOY_ID_SIZE);
	x->points = r64(&r);
	x->reversed = r8(&r);
	return 0;
}

void ldg_proposal_enc(uint8_t *p, const struct ldg_proposal *x)
{
	struct rec r = {.p = p};
	w8(&r, x->action);
	wb(&r, x->key, LOY_PUBKEY_SIZE);
	wb(&r, x->proposer, LOY_ID_SIZE);
	w8(&r, x->status);
	w32(&r, x->yes);
	w32(&r, x->no);
	ws(&r, x->name, LOY_NAME_MAX + 1);
	ws(&r, x->address, LOY_ADDR_MAX + 1);
}

int ldg_proposal_dec(struct ldg_proposal *x, const MDB_val *v)
{
	DEC_BEGIN(LDG_PROPOSAL_LEN);
	x->action = r8(&r);
	rb(&r, x->key, LOY_PUBKEY_SIZE);
	rb(&r, x->proposer, LOY_ID_SIZE);
	x->status = r8(&r);
	x->yes = r32(&r);
	x->no = r32(&r);
	rs(&r, x->name, LOY_NAME_MAX + 1);
	rs(&r, x->address, LOY_ADDR_MAX + 1);
	return 0;
}

void ldg_batch_enc(uint8_t *p, const struct ldg_batch *x)
{
	struct rec r = {.p = p};
	wb(&r, x->issuer, LOY_ID_SIZE);
	w64(&r, x->value);
	w64(&r, x->from);
	w64(&r, x->until);
	w8(&r, x->has_geo);
	w32(&r, (uint32_t)x->lat);
	w32(&r, (uint32_t)x->lon);
	w32(&r, x->radius_m);
	w32(&r, x->limit);
	w32(&r, x->site_count);
	w32(&r, x->count);
	w32(&r, x->redeemed);
	wb(&r, x->sites, sizeof x->sites);
	w64(&r, x->height);
}

int ldg_batch_dec(struct ldg_batch *x, const MDB_val *v)
{
	DEC_BEGIN(LDG_BATCH_LEN);
	rb(&r, x->issuer, LOY_ID_SIZE);
	x->value = r64(&r);
	x->from = r64(&r);
	x->until = r64(&r);
	x->has_geo = r8(&r);
	x->lat = (int32_t)r32(&r);
	x->lon = (int32_t)r32(&r);
	x->radius_m = r32(&r);
	x->limit = r32(&r);
	x->site_count = r32(&r);
	x->count = r32(&r);
	x->redeemed = r32(&r);
	rb(&r, x->sites, sizeof x->sites);
	x->height = r64(&r);
	if (x->site_count > LOY_MAX_REDEEM_SITES)
		return LOY_ECORRUPT;
	return 0;
}

void ldg_coupon_enc(uint8_t *p, const struct ldg_coupon *x)
{
	struct rec r = {.p = p};
	w8(&r, x->kind);
	wb(&r, x->holder, LOY_HASH_SIZE);
	w8(&r, x->used);
	w64(&r, x->used_height);
	wb(&r, x->site, LOY_ID_SIZE);
}

int ldg_coupon_dec(struct ldg_coupon *x, const MDB_val *v)
{
	DEC_BEGIN(LDG_COUPON_LEN);
	x->kind = r8(&r);
	rb(&r, x->holder, LOY_HASH_SIZE);
	x->used = r8(&r);
	x->used_height = r64(&r);
	rb(&r, x->site, LOY_ID_SIZE);
	return 0;
}

void ldg_settle_enc(uint8_t *p, const struct ldg_settle *x)
{
	struct rec r = {.p = p};
	wb(&r, x->payer, LOY_ID_SIZE);
	wb(&r, x->payee, LOY_ID_SIZE);
	w64(&r, x->amount);
	w8(&r, x->status);
}

int ldg_settle_dec(struct ldg_settle *x, const MDB_val *v)
{
	DEC_BEGIN(LDG_SETTLE_LEN);
	rb(&r, x->payer, LOY_ID_SIZE);
	rb(&r, x->payee, LOY_ID_SIZE);
	x->amount = r64(&r);
	x->status = r8(&r);
	return 0;
}

void ldg_daily_enc(uint8_t *p, const struct ldg_daily *x)
{
	struct rec r = {.p = p};
	w64(&r, x->issued);
	w64(&r, x->redeemed);
	w64(&r, x->outstanding);
	w32(&r, x->active);
	w32(&r, x->txs);
}

int ldg_daily_dec(struct ldg_daily *x, const MDB_val *v)
{
	DEC_BEGIN(LDG_DAILY_LEN);
	x->issued = r64(&r);
	x->redeemed = r64(&r);
	x->outstanding = r64(&r);
	x->active = r32(&r);
	x->txs = r32(&r);
	return 0;
}

/* --- access --- */

int ldg_get(struct ldg_txn *t, enum ldb db, const void *key, size_t klen,
	    MDB_val *val)
{
	MDB_val k = {klen, (void *)key};
	return ldg_mdb_err(mdb_get(t->txn, t->l->dbi[db], &k, val));
}

int ldg_put(struct ldg_txn *t, enum ldb db, const void *key, size_t klen,
	    const void *val, size_t vlen)
{
	MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
	int rc = mdb_put(t->txn, t->l->dbi[db], &k, &v, 0);
	if (rc != 0)
		return ldg_fail(t->l, ldg_mdb_err(rc), "put: %s",
				mdb_strerror(rc));
	if (t->ws && db < LDB_HASHED_COUNT)
		ldg_ws_record(t->ws, db, key, klen, val, vlen, false);
	return 0;
}

int ldg_del(struct ldg_txn *t, enum ldb db, const void *key, size_t klen)
{
	MDB_val k = {klen, (void *)key};
	int rc = mdb_del(t->txn, t->l->dbi[db], &k, NULL);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return ldg_fail(t->l, ldg_mdb_err(rc), "del: %s",
				mdb_strerror(rc));
	if (t->ws && db < LDB_HASHED_COUNT)
		ldg_ws_record(t->ws, db, key, klen, NULL, 0, true);
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
	int rc = mdb_cursor_open(t->txn, t->l->dbi[LDB_MEMBERS], &c);
	if (rc != 0)
		return ldg_mdb_err(rc);
	/* Members are keyed by ID; the set is sorted by public key, so
	 * collect then insertion-sort (at most 64). */
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
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
	if (rc != MDB_NOTFOUND)
		return ldg_mdb_err(rc);
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
	rc = mdb_cursor_open(t->txn, t->l->dbi[LDB_VALSETS], &c);
	if (rc != 0)
		return ldg_mdb_err(rc);
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	if (rc == 0 && be64get(k.mv_data) != height)
		rc = mdb_cursor_get(c, &k, &v, MDB_PREV);
	else if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	mdb_cursor_close(c);
	if (rc != 0)
		return ldg_mdb_err(rc);
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
	MDB_val k = {7, "genesis"}, v;
	int rc = mdb_get(txn, l->dbi[LDB_PARAMS], &k, &v);
	if (rc == MDB_NOTFOUND)
		return LOY_ENOTFOUND;
	if (rc != 0)
		return ldg_mdb_err(rc);
	/* chain_id[33] time8 bps4 point_value8 */
	if (v.mv_size != LOY_CHAIN_ID_MAX + 1 + 8 + 4 + 8)
		return LOY_ECORRUPT;
	const uint8_t *p = v.mv_data;
	memcpy(l->chain_id, p, LOY_CHAIN_ID_MAX + 1);
	l->chain_id[LOY_CHAIN_ID_MAX] = '\0';
	p += LOY_CHAIN_ID_MAX + 1 + 8;
	l->commission_bps = be32get(p);
	l->point_value = be64get(p + 4);
	k.mv_size = 12;
	k.mv_data = "genesis_hash";
	rc = mdb_get(txn, l->dbi[LDB_META], &k, &v);
	if (rc != 0)
		return rc == MDB_NOTFOUND ? LOY_ECORRUPT : ldg_mdb_err(rc);
	if (v.mv_size != LOY_HASH_SIZE)
		return LOY_ECORRUPT;
	memcpy(l->genesis_hash, v.mv_data, LOY_HASH_SIZE);
	l->have_genesis = true;
	return 0;
}
