/* Read-only queries: each in its own MDB_RDONLY transaction, copying out. */
#include <string.h>

#include "ledger/internal.h"
#include "ledger/query.h"
#include "wire/error.h"

static int rbegin(struct loy_ledger *l, struct ldg_txn *t)
{
	return ldg_rbegin(l, t);
}

static int rend(struct ldg_txn *t, int rc)
{
	ldg_rend(t);
	return rc;
}

int loy_ledger_account(struct loy_ledger *l, const uint8_t id[LOY_ID_SIZE],
		       struct loy_account_info *out)
{
	struct ldg_txn t;
	struct ldg_account a;
	int rc = rbegin(l, &t), nrc;
	memset(out, 0, sizeof *out);
	if (rc != 0)
		return rc;
	nrc = ldg_u64_get(&t, LDB_NONCES, id, LOY_ID_SIZE, &out->nonce);
	if (nrc != 0 && nrc != LOY_ENOTFOUND)
		return rend(&t, nrc);
	rc = ldg_account_get(&t, id, &a);
	if (rc == LOY_ENOTFOUND && nrc == 0)
		return rend(&t, 0);
	if (rc != 0)
		return rend(&t, rc);
	out->type = a.type;
	out->active = a.active;
	memcpy(out->pubkey, a.pubkey, LOY_PUBKEY_SIZE);
	memcpy(out->member, a.owner, LOY_ID_SIZE);
	out->balance = a.balance;
	out->created = a.created;
	return rend(&t, 0);
}

int loy_ledger_balance(struct loy_ledger *l, const uint8_t id[LOY_ID_SIZE],
		       uint64_t *points)
{
	struct loy_account_info a;
	int rc = loy_ledger_account(l, id, &a);
	*points = a.balance;
	if (rc == 0 && a.type != LOY_ACCOUNT_CUSTOMER)
		rc = LOY_ENOTFOUND;
	return rc;
}

int loy_ledger_nonce(struct loy_ledger *l, const uint8_t id[LOY_ID_SIZE],
		     uint64_t *nonce)
{
	struct ldg_txn t;
	int rc = rbegin(l, &t);
	*nonce = 0;
	if (rc != 0)
		return rc;
	rc = ldg_u64_get(&t, LDB_NONCES, id, LOY_ID_SIZE, nonce);
	return rend(&t, rc == LOY_ENOTFOUND ? 0 : rc);
}

int loy_ledger_nonces(struct loy_ledger *l, const uint8_t (*ids)[LOY_ID_SIZE],
		      uint32_t n, uint64_t *nonces)
{
	struct ldg_txn t;
	int rc = rbegin(l, &t);
	for (uint32_t i = 0; i < n; i++)
		nonces[i] = 0;
	if (rc != 0)
		return rc;
	for (uint32_t i = 0; rc == 0 && i < n; i++) {
		rc = ldg_u64_get(&t, LDB_NONCES, ids[i], LOY_ID_SIZE,
				 &nonces[i]);
		if (rc == LOY_ENOTFOUND) {
			nonces[i] = 0;
			rc = 0;
		}
	}
	return rend(&t, rc);
}

int loy_ledger_block(struct loy_ledger *l, uint64_t height,
		     struct loy_buf *block, struct loy_buf *cert)
{
	struct ldg_txn t;
	uint8_t k[8];
	MDB_val v;
	int rc = rbegin(l, &t);
	if (block)
		memset(block, 0, sizeof *block);
	if (cert)
		memset(cert, 0, sizeof *cert);
	if (rc != 0)
		return rc;
	be64put(k, height);
	if (block) {
		rc = ldg_get(&t, LDB_BLOCKS, k, 8, &v);
		if (rc == 0)
			rc = loy_buf_copy(block, v.mv_data, v.mv_size);
	}
	if (rc == 0 && cert) {
		rc = ldg_get(&t, LDB_CERTS, k, 8, &v);
		if (rc == 0)
			rc = loy_buf_copy(cert, v.mv_data, v.mv_size);
	}
	if (rc != 0) {
		if (block)
			loy_buf_free(block);
		if (cert)
			loy_buf_free(cert);
	}
	return rend(&t, rc);
}

int loy_ledger_members(struct loy_ledger *l, struct loy_member_info *out,
		       uint32_t max, uint32_t *n)
{
	struct ldg_txn t;
	MDB_cursor *c;
	MDB_val k, v;
	int rc = rbegin(l, &t), grc = 0;
	*n = 0;
	if (rc != 0)
		return rc;
	rc = ldg_cursor_open(&t, LDB_MEMBERS, &c);
	if (rc != 0)
		return rend(&t, rc);
	for (grc = ldg_cursor_get(&t, LDB_MEMBERS, c, &k, &v, MDB_FIRST);
	     grc == 0 && *n < max;
	     grc = ldg_cursor_get(&t, LDB_MEMBERS, c, &k, &v, MDB_NEXT)) {
		struct ldg_member m;
		struct loy_member_info *o = &out[*n];
		if (k.mv_size != LOY_ID_SIZE || ldg_member_dec(&m, &v) != 0) {
			rc = LOY_ECORRUPT;
			break;
		}
		memcpy(o->id, k.mv_data, LOY_ID_SIZE);
		memcpy(o->pubkey, m.pubkey, LOY_PUBKEY_SIZE);
		o->active = m.active;
		o->admitted = m.admitted;
		o->removed = m.removed;
		memcpy(o->name, m.name, sizeof o->name);
		memcpy(o->address, m.address, sizeof o->address);
		(*n)++;
	}
	mdb_cursor_close(c);
	if (rc == 0 && grc != 0 && grc != LOY_ENOTFOUND)
		rc = grc;
	return rend(&t, rc);
}

int loy_ledger_settlement(struct loy_ledger *l, const uint8_t id[LOY_ID_SIZE],
			  struct loy_settlement *out)
{
	struct ldg_txn t;
	struct ldg_position s;
	struct ldg_member m;
	int rc = rbegin(l, &t);
	memset(out, 0, sizeof *out);
	if (rc != 0)
		return rc;
	rc = ldg_member_get(&t, id, &m);
	if (rc == 0) {
		rc = ldg_position_get(&t, id, &s);
		if (rc == LOY_ENOTFOUND)
			rc = 0;
	}
	if (rc != 0)
		return rend(&t, rc);
	memcpy(out->member, id, LOY_ID_SIZE);
	out->issued = s.issued;
	out->reversed = s.reversed;
	out->redeemed_at = s.redeemed_at;
	out->coupon_owed = s.coupon_owed;
	out->coupon_at = s.coupon_at;
	out->commission_paid = s.comm_paid;
	out->commission_earned = s.comm_earned;
	out->paid = s.paid;
	out->received = s.received;
	out->outstanding = s.issued - s.reversed - s.consumed;
	out->owes = s.issued - s.reversed + s.coupon_owed + s.comm_paid;
	out->owed = s.redeemed_at + s.coupon_at + s.comm_earned;
	rc = ldg_position_net(&s, &out->net);
	return rend(&t, rc);
}

static int batch_get(struct ldg_txn *t, const uint8_t batch[LOY_HASH_SIZE],
		     struct ldg_batch *b)
{
	MDB_val v;
	int rc = ldg_get(t, LDB_BATCHES, batch, LOY_HASH_SIZE, &v);
	if (rc == 0)
		rc = ldg_batch_dec(b, &v);
	return rc;
}

int loy_ledger_coupon_batch(struct loy_ledger *l,
			    const uint8_t batch[LOY_HASH_SIZE], uint64_t now_ms,
			    struct loy_coupon_batch_status *out)
{
	struct ldg_txn t;
	struct ldg_batch b;
	int rc = rbegin(l, &t);
	memset(out, 0, sizeof *out);
	if (rc != 0)
		return rc;
	rc = batch_get(&t, batch, &b);
	if (rc != 0)
		return rend(&t, rc);
	memcpy(out->issuer, b.issuer, LOY_ID_SIZE);
	out->value = b.value;
	out->valid_from_ms = b.from;
	out->valid_until_ms = b.until;
	out->has_geofence = b.has_geo;
	out->center.lat_udeg = b.lat;
	out->center.lon_udeg = b.lon;
	out->radius_m = b.radius_m;
	out->per_customer_limit = b.limit;
	out->issued = b.count;
	out->redeemed = b.redeemed;
	if (now_ms >= b.until)
		out->expired_unused = b.count - b.redeemed;
	else
		out->remaining = b.count - b.redeemed;
	return rend(&t, 0);
}

static void ref_fill(struct loy_coupon_ref *r, const uint8_t *batch,
		     uint32_t idx, const struct ldg_batch *b, bool bearer)
{
	memcpy(r->batch, batch, LOY_HASH_SIZE);
	r->index = idx;
	r->value = b->value;
	r->valid_from_ms = b->from;
	r->valid_until_ms = b->until;
	r->bearer = bearer;
}

static bool batch_usable(const struct ldg_batch *b, uint64_t now,
			 const struct loy_geo *near)
{
	if (now >= b->until)
		return false;
	if (near && b->has_geo) {
		struct loy_geo c = {b->lat, b->lon};
		return ldg_geo_within(c, *near, b->radius_m);
	}
	return true;
}

int loy_ledger_customer_coupons(struct loy_ledger *l,
				const uint8_t id[LOY_ID_SIZE], uint64_t now_ms,
				const struct loy_geo *near,
				struct loy_coupon_ref *out, uint32_t max,
				uint32_t *n)
{
	struct ldg_txn t;
	MDB_cursor *c;
	MDB_val k = {LOY_ID_SIZE, (void *)id}, v;
	int rc = rbegin(l, &t), grc = 0;
	*n = 0;
	if (rc != 0)
		return rc;
	rc = ldg_cursor_open(&t, LDB_CCPN, &c);
	if (rc != 0)
		return rend(&t, rc);
	for (grc = ldg_cursor_get(&t, LDB_CCPN, c, &k, &v, MDB_SET_RANGE);
	     grc == 0 && *n < max;
	     grc = ldg_cursor_get(&t, LDB_CCPN, c, &k, &v, MDB_NEXT)) {
		const uint8_t *kk = k.mv_data;
		struct ldg_batch b;
		struct ldg_coupon cp;
		MDB_val cv;
		if (k.mv_size != LOY_ID_SIZE + LOY_HASH_SIZE + 4 ||
		    memcmp(kk, id, LOY_ID_SIZE) != 0)
			break;
		rc = batch_get(&t, kk + LOY_ID_SIZE, &b);
		if (rc == 0)
			rc = ldg_get(&t, LDB_COUPONS, kk + LOY_ID_SIZE,
				     LOY_HASH_SIZE + 4, &cv);
		if (rc == 0)
			rc = ldg_coupon_dec(&cp, &cv);
		if (rc != 0)
			break;
		if (cp.used || !batch_usable(&b, now_ms, near))
			continue;
		ref_fill(&out[(*n)++], kk + LOY_ID_SIZE,
			 be32get(kk + LOY_ID_SIZE + LOY_HASH_SIZE), &b, false);
	}
	mdb_cursor_close(c);
	if (rc == 0 && grc != 0 && grc != LOY_ENOTFOUND)
		rc = grc;
	return rend(&t, rc);
}

int loy_ledger_coupons_near(struct loy_ledger *l, struct loy_geo near,
			    uint64_t now_ms, struct loy_coupon_ref *out,
			    uint32_t max, uint32_t *n)
{
	struct ldg_txn t;
	MDB_cursor *c;
	MDB_val k, v;
	int rc = rbegin(l, &t), grc = 0;
	*n = 0;
	if (rc != 0)
		return rc;
	rc = ldg_cursor_open(&t, LDB_BATCHES, &c);
	if (rc != 0)
		return rend(&t, rc);
	for (grc = ldg_cursor_get(&t, LDB_BATCHES, c, &k, &v, MDB_FIRST);
	     grc == 0 && *n < max;
	     grc = ldg_cursor_get(&t, LDB_BATCHES, c, &k, &v, MDB_NEXT)) {
		struct ldg_batch b;
		if (k.mv_size != LOY_HASH_SIZE || ldg_batch_dec(&b, &v) != 0) {
			rc = LOY_ECORRUPT;
			break;
		}
		if (!b.has_geo || b.redeemed >= b.count ||
		    !batch_usable(&b, now_ms, &near))
			continue;
		/* first unused coupon */
		for (uint32_t i = 0; i < b.count; i++) {
			uint8_t ck[LOY_HASH_SIZE + 4];
			struct ldg_coupon cp;
			MDB_val cv;
			memcpy(ck, k.mv_data, LOY_HASH_SIZE);
			be32put(ck + LOY_HASH_SIZE, i);
			rc = ldg_get(&t, LDB_COUPONS, ck, sizeof ck, &cv);
			if (rc == 0)
				rc = ldg_coupon_dec(&cp, &cv);
			if (rc != 0)
				break;
			if (!cp.used) {
				ref_fill(&out[(*n)++], k.mv_data, i, &b,
					 cp.kind == LOY_COUPON_BEARER);
				break;
			}
		}
		if (rc != 0)
			break;
	}
	mdb_cursor_close(c);
	if (rc == 0 && grc != 0 && grc != LOY_ENOTFOUND)
		rc = grc;
	return rend(&t, rc);
}

static void rule_out(struct loy_rule_info *o, const struct ldg_rule *r)
{
	o->rate_num = r->rate_num;
	o->rate_den = r->rate_den;
	o->bonus = r->bonus;
	o->min_purchase = r->min_purchase;
	o->valid_from_ms = r->from;
	o->valid_until_ms = r->until;
}

int loy_ledger_rule(struct loy_ledger *l, const uint8_t member[LOY_ID_SIZE],
		    struct loy_rule_info *out)
{
	struct ldg_txn t;
	struct ldg_rule r;
	MDB_val v;
	int rc = rbegin(l, &t);
	memset(out, 0, sizeof *out);
	if (rc != 0)
		return rc;
	rc = ldg_get(&t, LDB_RULES, member, LOY_ID_SIZE, &v);
	if (rc == 0)
		rc = ldg_rule_dec(&r, &v);
	if (rc == 0)
		rule_out(out, &r);
	return rend(&t, rc);
}

int loy_ledger_partnership(struct loy_ledger *l, const char *name,
			   struct loy_partnership_info *out)
{
	struct ldg_txn t;
	struct ldg_part p;
	MDB_cursor *c;
	size_t nl = strnlen(name, LOY_NAME_MAX + 1);
	uint8_t k0[LOY_NAME_MAX + 1];
	MDB_val k, v;
	int rc = rbegin(l, &t);
	memset(out, 0, sizeof *out);
	if (rc != 0)
		return rc;
	if (nl == 0 || nl > LOY_NAME_MAX)
		return rend(&t, LOY_ENOTFOUND);
	rc = ldg_get(&t, LDB_PARTS, name, nl, &v);
	if (rc == 0)
		rc = ldg_part_dec(&p, &v);
	if (rc != 0)
		return rend(&t, rc);
	memcpy(out->creator, p.creator, LOY_ID_SIZE);
	rule_out(&out->terms, &p.rule);
	out->created = p.created;
	memcpy(k0, name, nl);
	k0[nl] = 0;
	k.mv_size = nl + 1;
	k.mv_data = k0;
	rc = ldg_cursor_open(&t, LDB_PMEMBERS, &c);
	if (rc != 0)
		return rend(&t, rc);
	for (rc = ldg_cursor_get(&t, LDB_PMEMBERS, c, &k, &v, MDB_SET_RANGE);
	     rc == 0;
	     rc = ldg_cursor_get(&t, LDB_PMEMBERS, c, &k, &v, MDB_NEXT)) {
		const uint8_t *kk = k.mv_data;
		if (k.mv_size != nl + 1 + LOY_ID_SIZE || memcmp(kk, k0, nl + 1))
			break;
		uint8_t f = v.mv_size == 1 ? *(uint8_t *)v.mv_data : 0;
		if (f == (LDG_PM_REQUESTED | LDG_PM_APPROVED)) {
			if (out->member_count < LOY_MAX_VALIDATORS)
				memcpy(out->members[out->member_count++],
				       kk + nl + 1, LOY_ID_SIZE);
		} else {
			out->pending_count++;
		}
	}
	mdb_cursor_close(c);
	return rend(&t, rc == LOY_ENOTFOUND ? 0 : rc);
}

int loy_ledger_daily(struct loy_ledger *l, const uint8_t member[LOY_ID_SIZE],
		     uint32_t from_day, uint32_t to_day, struct loy_daily *out,
		     uint32_t max, uint32_t *n)
{
	struct ldg_txn t;
	MDB_cursor *c;
	uint8_t k0[LOY_ID_SIZE + 4];
	MDB_val k = {sizeof k0, k0}, v;
	int rc = rbegin(l, &t), grc = 0;
	*n = 0;
	if (rc != 0)
		return rc;
	memcpy(k0, member, LOY_ID_SIZE);
	be32put(k0 + LOY_ID_SIZE, from_day);
	rc = ldg_cursor_open(&t, LDB_DAILY, &c);
	if (rc != 0)
		return rend(&t, rc);
	for (grc = ldg_cursor_get(&t, LDB_DAILY, c, &k, &v, MDB_SET_RANGE);
	     grc == 0 && *n < max;
	     grc = ldg_cursor_get(&t, LDB_DAILY, c, &k, &v, MDB_NEXT)) {
		const uint8_t *kk = k.mv_data;
		struct ldg_daily d;
		if (k.mv_size != sizeof k0 || memcmp(kk, member, LOY_ID_SIZE))
			break;
		uint32_t day = be32get(kk + LOY_ID_SIZE);
		if (day > to_day)
			break;
		if (ldg_daily_dec(&d, &v) != 0) {
			rc = LOY_ECORRUPT;
			break;
		}
		out[*n] = (struct loy_daily){day,      d.issued, d.redeemed,
					     d.active, d.txs,    d.outstanding};
		(*n)++;
	}
	mdb_cursor_close(c);
	if (rc == 0 && grc != 0 && grc != LOY_ENOTFOUND)
		rc = grc;
	return rend(&t, rc);
}

int loy_ledger_totals(struct loy_ledger *l, struct loy_totals *out)
{
	struct ldg_txn t;
	struct ldg_totals tt;
	int rc = rbegin(l, &t);
	memset(out, 0, sizeof *out);
	if (rc != 0)
		return rc;
	rc = ldg_totals_get(&t, &tt);
	if (rc == 0) {
		out->issued = tt.issued;
		out->reversed = tt.reversed;
		out->redeemed = tt.redeemed;
		out->coupon_redeemed = tt.coupon_redeemed;
		out->customers = tt.customers;
		out->outstanding = tt.issued - tt.reversed - tt.redeemed;
	}
	return rend(&t, rc);
}

bool loy_geo_within(struct loy_geo c, struct loy_geo p, uint32_t radius_m)
{
	return ldg_geo_within(c, p, radius_m);
}
