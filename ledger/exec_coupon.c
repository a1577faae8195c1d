/* Handlers for coupons (coupon.issue, coupon.redeem) and the integer
 * geofence test.
 *
 * Coupons do not touch point balances: a redeemed coupon is a discount at
 * the redeeming site funded by the issuer, so its value becomes the issuer's
 * liability (coupon_owed) and the site's claim (coupon_at) at redemption. No
 * commission is charged on coupons (they are the issuer's own promotion). */
#include <stdio.h>
#include <string.h>

#include "ledger/internal.h"
#include "wire/error.h"

/* cos(d degrees) * 1e6, rounded, for d = 0..90. */
static const int32_t cos_table[91] = {
    1000000, 999848, 999391, 998630, 997564, 996195, 994522, 992546, 990268,
    987688,  984808, 981627, 978148, 974370, 970296, 965926, 961262, 956305,
    951057,  945519, 939693, 933580, 927184, 920505, 913545, 906308, 898794,
    891007,  882948, 874620, 866025, 857167, 848048, 838671, 829038, 819152,
    809017,  798636, 788011, 777146, 766044, 754710, 743145, 731354, 719340,
    707107,  694658, 681998, 669131, 656059, 642788, 629320, 615661, 601815,
    587785,  573576, 559193, 544639, 529919, 515038, 500000, 484810, 469472,
    453990,  438371, 422618, 406737, 390731, 374607, 358368, 342020, 325568,
    309017,  292372, 275637, 258819, 241922, 224951, 207912, 190809, 173648,
    156434,  139173, 121869, 104528, 87156,  69756,  52336,  34899,  17452,
    0,
};

/* cos of a latitude in micro-degrees, times 1e6: the table above with
 * linear interpolation between whole degrees (error below 2e-4). */
static int64_t cos_udeg(int64_t lat)
{
	if (lat < 0)
		lat = -lat;
	if (lat >= 90000000)
		return 0;
	int64_t d = lat / 1000000, f = lat % 1000000;
	int64_t a = cos_table[d], b = cos_table[d + 1];
	return a + (b - a) * f / 1000000;
}

/* Distance on an equirectangular projection, all integers:
 *   dlat = lat2 - lat1, dlon = lon2 - lon1 (wrapped into +-180 degrees),
 *   x = dlon * cos(mean latitude), y = dlat         (micro-degrees)
 *   within  <=>  (x^2 + y^2) * 111320^2 <= radius_m^2 * 10^12
 * i.e. one micro-degree is 0.11132 m (a degree of a great circle on a
 * sphere of radius 6 378 137 m). Over coupon-sized radii (up to tens of
 * kilometres) this differs from the great-circle distance by well under
 * 0.5%, and every node computes exactly the same answer. */
bool ldg_geo_within(struct loy_geo c, struct loy_geo p, uint32_t radius_m)
{
	int64_t dlat = (int64_t)p.lat_udeg - c.lat_udeg;
	int64_t dlon = (int64_t)p.lon_udeg - c.lon_udeg;
	if (dlon > 180000000)
		dlon -= 360000000;
	else if (dlon < -180000000)
		dlon += 360000000;
	int64_t x =
	    dlon * cos_udeg(((int64_t)p.lat_udeg + c.lat_udeg) / 2) / 1000000;
	unsigned __int128 d2 =
	    (unsigned __int128)(x * x) + (unsigned __int128)(dlat * dlat);
	unsigned __int128 lhs = d2 * 111320u * 111320u;
	unsigned __int128 rhs =
	    (unsigned __int128)radius_m * radius_m * 1000000000000u;
	return lhs <= rhs;
}

static bool geo_valid(struct loy_geo g)
{
	return g.lat_udeg >= -90000000 && g.lat_udeg <= 90000000 &&
	       g.lon_udeg >= -180000000 && g.lon_udeg <= 180000000;
}

static void coupon_key(uint8_t k[LOY_HASH_SIZE + 4],
		       const uint8_t batch[LOY_HASH_SIZE], uint32_t i)
{
	memcpy(k, batch, LOY_HASH_SIZE);
	be32put(k + LOY_HASH_SIZE, i);
}

int ldg_exec_coupon_issue(struct ldg_exec *x)
{
	const struct loy_tx_coupon_issue *b = &x->tx->u.coupon_issue;
	struct ldg_batch bt = {0};
	uint8_t member[LOY_ID_SIZE], buf[LDG_BATCH_LEN];
	int rc = ldg_acting_member(x, false, member);
	if (rc != 0)
		return rc;
	if (b->value == 0)
		return ldg_reject(x, LOY_REJ_ZERO_AMOUNT,
				  "coupon value is zero");
	if (b->valid_until_ms <= b->valid_from_ms)
		return ldg_reject(x, LOY_REJ_INVALID_PARAM,
				  "window ends before it starts");
	if (b->coupon_count == 0 ||
	    b->coupon_count > LOY_MAX_COUPONS_PER_ISSUE || !b->coupons)
		return ldg_reject(x, LOY_REJ_INVALID_PARAM,
				  "a batch holds 1 to %u coupons",
				  LOY_MAX_COUPONS_PER_ISSUE);
	if (b->site_count > LOY_MAX_REDEEM_SITES)
		return ldg_reject(x, LOY_REJ_INVALID_PARAM, "too many sites");
	if (b->has_geofence && (b->radius_m == 0 || !geo_valid(b->center)))
		return ldg_reject(x, LOY_REJ_INVALID_PARAM, "bad geofence");
	for (uint32_t i = 0; i < b->site_count; i++) {
		struct ldg_member m;
		rc = ldg_require_member(x, b->sites[i], &m);
		if (rc != 0)
			return rc;
	}
	for (uint32_t i = 0; i < b->coupon_count; i++) {
		const struct loy_coupon_slot *s = &b->coupons[i];
		struct ldg_account a;
		if (s->holder_kind == LOY_COUPON_BEARER)
			continue;
		if (s->holder_kind != LOY_COUPON_ALLOTTED)
			return ldg_reject(x, LOY_REJ_INVALID_PARAM,
					  "coupon %u: unknown holder kind", i);
		rc = ldg_account_get(&x->t, s->holder, &a);
		if (rc != 0 && rc != LOY_ENOTFOUND)
			return rc;
		if (rc != 0 || a.type != LDG_CUSTOMER)
			return ldg_reject(x, LOY_REJ_UNKNOWN_CUSTOMER,
					  "coupon %u: holder is not a customer",
					  i);
	}
	memcpy(bt.issuer, member, LOY_ID_SIZE);
	bt.value = b->value;
	bt.from = b->valid_from_ms;
	bt.until = b->valid_until_ms;
	bt.has_geo = b->has_geofence;
	if (b->has_geofence) {
		bt.lat = b->center.lat_udeg;
		bt.lon = b->center.lon_udeg;
		bt.radius_m = b->radius_m;
	}
	bt.limit = b->per_customer_limit;
	bt.site_count = b->site_count;
	memcpy(bt.sites, b->sites, sizeof bt.sites);
	bt.count = b->coupon_count;
	bt.height = x->height;
	ldg_batch_enc(buf, &bt);
	rc = ldg_put(&x->t, LDB_BATCHES, x->hash, LOY_HASH_SIZE, buf,
		     sizeof buf);
	for (uint32_t i = 0; rc == 0 && i < b->coupon_count; i++) {
		const struct loy_coupon_slot *s = &b->coupons[i];
		struct ldg_coupon cp = {.kind = s->holder_kind};
		uint8_t k[LOY_HASH_SIZE + 4], cb[LDG_COUPON_LEN];
		uint8_t ck[LOY_ID_SIZE + LOY_HASH_SIZE + 4];
		memcpy(cp.holder, s->holder, LOY_HASH_SIZE);
		if (cp.kind == LOY_COUPON_ALLOTTED)
			memset(cp.holder + LOY_ID_SIZE, 0,
			       LOY_HASH_SIZE - LOY_ID_SIZE);
		coupon_key(k, x->hash, i);
		ldg_coupon_enc(cb, &cp);
		rc = ldg_put(&x->t, LDB_COUPONS, k, sizeof k, cb, sizeof cb);
		if (rc == 0 && cp.kind == LOY_COUPON_ALLOTTED) {
			memcpy(ck, s->holder, LOY_ID_SIZE);
			memcpy(ck + LOY_ID_SIZE, k, sizeof k);
			rc = ldg_put(&x->t, LDB_CCPN, ck, sizeof ck, "", 0);
		}
	}
	return rc;
}

int ldg_exec_coupon_redeem(struct ldg_exec *x)
{
	const struct loy_tx_coupon_redeem *b = &x->tx->u.coupon_redeem;
	struct ldg_batch bt;
	struct ldg_coupon cp;
	struct ldg_member sm;
	struct ldg_position is, ss;
	struct ldg_totals tt;
	uint8_t k[LOY_HASH_SIZE + 4], buf[LDG_BATCH_LEN], cb[LDG_COUPON_LEN];
	uint8_t uk[LOY_HASH_SIZE + LOY_ID_SIZE], owner[LOY_ID_SIZE];
	uint64_t used = 0;
	MDB_val v;
	bool listed = false;
	int rc;

	rc = ldg_get(&x->t, LDB_BATCHES, b->batch, LOY_HASH_SIZE, &v);
	if (rc == LOY_ENOTFOUND)
		return ldg_reject(x, LOY_REJ_UNKNOWN_COUPON,
				  "no such coupon batch");
	if (rc == 0)
		rc = ldg_batch_dec(&bt, &v);
	if (rc != 0)
		return rc;
	if (b->index >= bt.count)
		return ldg_reject(x, LOY_REJ_UNKNOWN_COUPON,
				  "batch has %u coupons, not %u", bt.count,
				  b->index + 1);
	coupon_key(k, b->batch, b->index);
	rc = ldg_get(&x->t, LDB_COUPONS, k, sizeof k, &v);
	if (rc == 0)
		rc = ldg_coupon_dec(&cp, &v);
	if (rc != 0)
		return rc == LOY_ENOTFOUND ? LOY_ECORRUPT : rc;
	if (cp.used)
		return ldg_reject(x, LOY_REJ_COUPON_USED,
				  "coupon already redeemed at height %llu",
				  (unsigned long long)cp.used_height);
	if (bt.site_count == 0)
		listed = !memcmp(b->site, bt.issuer, LOY_ID_SIZE);
	for (uint32_t i = 0; i < bt.site_count; i++)
		listed |= !memcmp(b->site, bt.sites[i], LOY_ID_SIZE);
	if (!listed)
		return ldg_reject(x, LOY_REJ_WRONG_SITE,
				  "coupon is not redeemable at this member");
	rc = ldg_require_member(x, b->site, &sm);
	if (rc != 0)
		return rc;
	if (cp.kind == LOY_COUPON_ALLOTTED) {
		rc = ldg_require_customer(x);
		if (rc != 0)
			return rc;
		if (memcmp(cp.holder, x->signer, LOY_ID_SIZE) != 0)
			return ldg_reject(x, LOY_REJ_NOT_HOLDER,
					  "coupon is allotted to another "
					  "customer");
		memcpy(owner, x->signer, LOY_ID_SIZE);
	} else {
		uint8_t h[LOY_HASH_SIZE];
		rc = ldg_acting_member(x, true, owner);
		if (rc != 0)
			return rc;
		if (memcmp(owner, b->site, LOY_ID_SIZE) != 0)
			return ldg_reject(x, LOY_REJ_NOT_AUTHORIZED,
					  "a bearer coupon is redeemed by the "
					  "site's member or terminal");
		loy_hash(h, b->code, strnlen(b->code, LOY_CODE_MAX));
		if (loy_secret_equal(h, cp.holder, LOY_HASH_SIZE) != 0)
			return ldg_reject(x, LOY_REJ_NOT_HOLDER,
					  "wrong coupon code");
	}
	if (x->time_ms < bt.from || x->time_ms >= bt.until)
		return ldg_reject(x, LOY_REJ_OUTSIDE_WINDOW,
				  "coupon valid from %llu until %llu, block "
				  "time %llu",
				  (unsigned long long)bt.from,
				  (unsigned long long)bt.until,
				  (unsigned long long)x->time_ms);
	if (bt.has_geo) {
		struct loy_geo c = {bt.lat, bt.lon};
		if (!geo_valid(b->location) ||
		    !ldg_geo_within(c, b->location, bt.radius_m))
			return ldg_reject(x, LOY_REJ_OUTSIDE_GEOFENCE,
					  "location is outside the coupon's "
					  "%u m geofence",
					  bt.radius_m);
	}
	memcpy(uk, b->batch, LOY_HASH_SIZE);
	memcpy(uk + LOY_HASH_SIZE, x->signer, LOY_ID_SIZE);
	if (cp.kind == LOY_COUPON_ALLOTTED && bt.limit) {
		rc = ldg_u64_get(&x->t, LDB_CUSES, uk, sizeof uk, &used);
		if (rc != 0 && rc != LOY_ENOTFOUND)
			return rc;
		if (used >= bt.limit)
			return ldg_reject(x, LOY_REJ_COUPON_LIMIT,
					  "customer already redeemed %llu of "
					  "this batch (limit %u)",
					  (unsigned long long)used, bt.limit);
	}
	rc = ldg_ref_check(x, owner, b->reference);
	if (rc == 0)
		rc = ldg_totals_get(&x->t, &tt);
	if (rc == 0)
		rc = ldg_position_get(&x->t, bt.issuer, &is);
	if (rc != 0 && rc != LOY_ENOTFOUND)
		return rc;
	if (!ldg_add(&tt.coupon_redeemed, bt.value) ||
	    is.coupon_owed > UINT64_MAX - bt.value)
		return ldg_reject(x, LOY_REJ_OVERFLOW, "coupon value overflow");
	cp.used = 1;
	cp.used_height = x->height;
	memcpy(cp.site, b->site, LOY_ID_SIZE);
	bt.redeemed++;
	is.coupon_owed += bt.value;
	ldg_coupon_enc(cb, &cp);
	ldg_batch_enc(buf, &bt);
	rc = ldg_put(&x->t, LDB_COUPONS, k, sizeof k, cb, sizeof cb);
	if (rc == 0)
		rc = ldg_put(&x->t, LDB_BATCHES, b->batch, LOY_HASH_SIZE, buf,
			     sizeof buf);
	if (rc == 0)
		rc = ldg_position_put(&x->t, bt.issuer, &is);
	if (rc == 0)
		rc = ldg_position_get(&x->t, b->site, &ss);
	if (rc == 0 || rc == LOY_ENOTFOUND) {
		if (!ldg_add(&ss.coupon_at, bt.value))
			return ldg_fail(x->t.l, LOY_ECORRUPT, "overflow");
		rc = ldg_position_put(&x->t, b->site, &ss);
	}
	if (rc == 0 && cp.kind == LOY_COUPON_ALLOTTED && bt.limit)
		rc = ldg_u64_put(&x->t, LDB_CUSES, uk, sizeof uk, used + 1);
	if (rc == 0)
		rc = ldg_totals_put(&x->t, &tt);
	if (rc == 0)
		rc = ldg_ref_claim(x, owner, b->reference);
	if (rc == 0)
		rc = ldg_daily_touch(x, b->site, 0, 0,
				     cp.kind == LOY_COUPON_ALLOTTED ? x->signer
								    : NULL);
	memcpy(x->member, b->site, LOY_ID_SIZE);
	x->has_member = true;
	return rc;
}
