/* Coupons: window boundaries, geofence edges, single use, per-customer
 * limit, bearer codes, sites, and the status and location queries. */
#include "tests/unit/test_ledger_fix.h"

#define M0  0
#define M1  1
#define C   100
#define C2  101
#define LAT 48856600 /* Paris, micro-degrees */
#define LON 2352200

struct batch {
	uint8_t hash[32];
	uint64_t from, until;
};

/* n coupons allotted to customer c (or bearer with code "code-i" if
 * bearer), value 10, window [from, until), 1000 m geofence at Paris. */
static int issue(struct fx *f, struct batch *bt, unsigned n, unsigned c,
		 bool bearer, uint32_t limit, uint64_t from, uint64_t until)
{
	struct loy_tx tx;
	struct loy_buf b;
	fx_tx(f, &tx, LOY_TX_COUPON_ISSUE, M0);
	struct loy_tx_coupon_issue *ci = &tx.u.coupon_issue;
	ci->value = 10;
	ci->valid_from_ms = from;
	ci->valid_until_ms = until;
	ci->has_geofence = true;
	ci->center.lat_udeg = LAT;
	ci->center.lon_udeg = LON;
	ci->radius_m = 1000;
	ci->per_customer_limit = limit;
	ci->site_count = 2;
	memcpy(ci->sites[0], fx_key(f, M0)->id, 20);
	memcpy(ci->sites[1], fx_key(f, M1)->id, 20);
	ci->coupon_count = n;
	ci->coupons = calloc(n, sizeof *ci->coupons);
	for (unsigned i = 0; i < n; i++) {
		if (bearer) {
			char code[16];
			snprintf(code, sizeof code, "code-%u", i);
			ci->coupons[i].holder_kind = LOY_COUPON_BEARER;
			loy_hash(ci->coupons[i].holder, code, strlen(code));
		} else {
			ci->coupons[i].holder_kind = LOY_COUPON_ALLOTTED;
			memcpy(ci->coupons[i].holder, fx_key(f, c)->id, 20);
		}
	}
	fx_enc(f, &tx, M0, &b);
	loy_tx_hash(bt->hash, b.data, b.len);
	bt->from = from;
	bt->until = until;
	assert_int_equal(fx_commit(f, &b, 1), 0);
	return f->res[0].code;
}

static int redeem(struct fx *f, const struct batch *bt, unsigned idx,
		  unsigned by, unsigned site, int32_t dlat, const char *code,
		  const char *ref)
{
	struct loy_tx tx;
	fx_tx(f, &tx, LOY_TX_COUPON_REDEEM, by);
	struct loy_tx_coupon_redeem *cr = &tx.u.coupon_redeem;
	memcpy(cr->batch, bt->hash, 32);
	cr->index = idx;
	memcpy(cr->site, fx_key(f, site)->id, 20);
	cr->location.lat_udeg = LAT + dlat;
	cr->location.lon_udeg = LON;
	if (code)
		snprintf(cr->code, sizeof cr->code, "%s", code);
	snprintf(cr->reference, sizeof cr->reference, "%s", ref);
	return fx_one(f, &tx, by);
}

static void test_window_boundaries(void **state)
{
	struct fx *f = fx_new(3, 0);
	struct batch bt;
	(void)state;
	fx_register(f, C);
	uint64_t from = f->time_ms + 10000, until = from + 60000;
	assert_int_equal(issue(f, &bt, 4, C, false, 0, from, until), 0);
	f->time_ms = from - 1; /* 1 ms before the start */
	assert_int_equal(redeem(f, &bt, 0, C, M0, 0, NULL, "a"),
			 LOY_REJ_OUTSIDE_WINDOW);
	f->time_ms = from; /* at the start */
	assert_int_equal(redeem(f, &bt, 0, C, M0, 0, NULL, "b"), 0);
	f->time_ms = until - 1; /* 1 ms before the end */
	assert_int_equal(redeem(f, &bt, 1, C, M0, 0, NULL, "c"), 0);
	f->time_ms = until; /* at the end: expired ([from, until)) */
	assert_int_equal(redeem(f, &bt, 2, C, M0, 0, NULL, "d"),
			 LOY_REJ_OUTSIDE_WINDOW);
	f->time_ms = until + 1;
	assert_int_equal(redeem(f, &bt, 2, C, M0, 0, NULL, "e"),
			 LOY_REJ_OUTSIDE_WINDOW);
	struct loy_coupon_batch_status st;
	assert_int_equal(
	    loy_ledger_coupon_batch(f->l, bt.hash, f->time_ms, &st), 0);
	assert_int_equal(st.issued, 4);
	assert_int_equal(st.redeemed, 2);
	assert_int_equal(st.expired_unused, 2);
	assert_int_equal(st.remaining, 0);
	assert_int_equal(loy_ledger_coupon_batch(f->l, bt.hash, from, &st), 0);
	assert_int_equal(st.remaining, 2);
	fx_invariants(f);
	fx_free(f);
}

static void test_geofence_single_use_and_limit(void **state)
{
	struct fx *f = fx_new(3, 0);
	struct batch bt;
	(void)state;
	fx_register(f, C);
	fx_register(f, C2);
	assert_int_equal(
	    issue(f, &bt, 3, C, false, 2, f->time_ms, f->time_ms + 86400000),
	    0);
	/* 1000 m north is 1000 / 0.11132 = 8983.1 micro-degrees */
	assert_int_equal(redeem(f, &bt, 0, C, M0, 8984, NULL, "a"),
			 LOY_REJ_OUTSIDE_GEOFENCE);
	assert_int_equal(redeem(f, &bt, 0, C, M0, 8983, NULL, "b"), 0);
	assert_int_equal(redeem(f, &bt, 0, C, M0, 0, NULL, "c"),
			 LOY_REJ_COUPON_USED);
	assert_int_equal(redeem(f, &bt, 1, C2, M0, 0, NULL, "c"),
			 LOY_REJ_NOT_HOLDER);
	assert_int_equal(redeem(f, &bt, 1, C, 2, 0, NULL, "c"),
			 LOY_REJ_WRONG_SITE);
	assert_int_equal(redeem(f, &bt, 9, C, M0, 0, NULL, "c"),
			 LOY_REJ_UNKNOWN_COUPON);
	assert_int_equal(redeem(f, &bt, 1, C, M1, 0, NULL, "b"),
			 LOY_REJ_DUPLICATE_REFERENCE);
	assert_int_equal(redeem(f, &bt, 1, C, M1, 0, NULL, "d"), 0);
	assert_int_equal(redeem(f, &bt, 2, C, M1, 0, NULL, "e"),
			 LOY_REJ_COUPON_LIMIT);
	/* unused-coupon count and the customer's list */
	struct loy_coupon_batch_status st;
	assert_int_equal(
	    loy_ledger_coupon_batch(f->l, bt.hash, f->time_ms, &st), 0);
	assert_int_equal(st.redeemed, 2);
	assert_int_equal(st.remaining, 1);
	struct loy_coupon_ref refs[8];
	uint32_t n;
	assert_int_equal(loy_ledger_customer_coupons(f->l, fx_key(f, C)->id,
						     f->time_ms, NULL, refs, 8,
						     &n),
			 0);
	assert_int_equal(n, 1);
	assert_int_equal(refs[0].index, 2);
	struct loy_geo far = {LAT + 100000, LON};
	assert_int_equal(loy_ledger_customer_coupons(f->l, fx_key(f, C)->id,
						     f->time_ms, &far, refs, 8,
						     &n),
			 0);
	assert_int_equal(n, 0);
	struct loy_geo near = {LAT + 100, LON - 100};
	assert_int_equal(
	    loy_ledger_coupons_near(f->l, near, f->time_ms, refs, 8, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(
	    loy_ledger_coupons_near(f->l, far, f->time_ms, refs, 8, &n), 0);
	assert_int_equal(n, 0);
	/* settlement: M0 funds 20, M0 and M1 each redeemed 10 */
	struct loy_settlement s0, s1;
	assert_int_equal(loy_ledger_settlement(f->l, fx_key(f, M0)->id, &s0),
			 0);
	assert_int_equal(loy_ledger_settlement(f->l, fx_key(f, M1)->id, &s1),
			 0);
	assert_int_equal(s0.coupon_owed, 20);
	assert_int_equal(s0.net, -10);
	assert_int_equal(s1.net, 10);
	fx_invariants(f);
	fx_free(f);
}

static void test_bearer_and_issue_rules(void **state)
{
	struct fx *f = fx_new(3, 0);
	struct batch bt;
	struct loy_tx tx;
	(void)state;
	fx_register(f, C);
	assert_int_equal(
	    issue(f, &bt, 2, C, true, 0, f->time_ms, f->time_ms + 1000000), 0);
	assert_int_equal(redeem(f, &bt, 0, M1, M1, 0, "code-1", "a"),
			 LOY_REJ_NOT_HOLDER);
	assert_int_equal(redeem(f, &bt, 0, M0, M1, 0, "code-0", "a"),
			 LOY_REJ_NOT_AUTHORIZED); /* not the site's member */
	assert_int_equal(redeem(f, &bt, 0, C, M1, 0, "code-0", "a"),
			 LOY_REJ_NOT_AUTHORIZED);
	assert_int_equal(redeem(f, &bt, 0, M1, M1, 0, "code-0", "a"), 0);
	assert_int_equal(redeem(f, &bt, 0, M1, M1, 0, "code-0", "b"),
			 LOY_REJ_COUPON_USED);
	/* issue rules */
	assert_int_equal(
	    issue(f, &bt, 1, C2, false, 0, f->time_ms, f->time_ms + 10),
	    LOY_REJ_UNKNOWN_CUSTOMER);
	assert_int_equal(issue(f, &bt, 1, C, false, 0, f->time_ms, f->time_ms),
			 LOY_REJ_INVALID_PARAM);
	fx_tx(f, &tx, LOY_TX_COUPON_ISSUE, C);
	tx.u.coupon_issue.value = 1;
	tx.u.coupon_issue.valid_until_ms = 1;
	tx.u.coupon_issue.coupon_count = 1;
	tx.u.coupon_issue.coupons = calloc(1, sizeof(struct loy_coupon_slot));
	tx.u.coupon_issue.coupons[0].holder_kind = LOY_COUPON_BEARER;
	assert_int_equal(fx_one(f, &tx, C), LOY_REJ_NOT_AUTHORIZED);
	fx_tx(f, &tx, LOY_TX_COUPON_ISSUE, M0);
	tx.u.coupon_issue.valid_until_ms = 1;
	tx.u.coupon_issue.coupon_count = 1;
	tx.u.coupon_issue.coupons = calloc(1, sizeof(struct loy_coupon_slot));
	tx.u.coupon_issue.coupons[0].holder_kind = LOY_COUPON_BEARER;
	assert_int_equal(fx_one(f, &tx, M0), LOY_REJ_ZERO_AMOUNT);
	fx_invariants(f);
	fx_free(f);
}

static void test_geo_math(void **state)
{
	struct loy_geo c = {LAT, LON};
	(void)state;
	/* east-west distances shrink with cos(latitude): at 48.86 degrees,
	 * 1000 m east is about 8983 / 0.6580 = 13652 micro-degrees */
	struct loy_geo e_in = {LAT, LON + 13640}, e_out = {LAT, LON + 13670};
	assert_true(loy_geo_within(c, e_in, 1000));
	assert_false(loy_geo_within(c, e_out, 1000));
	/* across the antimeridian */
	struct loy_geo a = {0, 179999000}, b = {0, -179999000};
	assert_true(loy_geo_within(a, b, 300));
	assert_false(loy_geo_within(a, b, 200));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_window_boundaries),
	    cmocka_unit_test(test_geofence_single_use_and_limit),
	    cmocka_unit_test(test_bearer_and_issue_rules),
	    cmocka_unit_test(test_geo_math),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
