/* The store schema: record layouts (big-endian, field by field); tagged
 * access to them is in access.c. */
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
