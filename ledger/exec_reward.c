/* Handlers for earning and spending points: rule.set, partnership.*,
 * reward.issue, reward.reverse, redeem and transfer.
 *
 * Points are fungible for the customer but remembered per issuing member
 * ("lots": customer || issuer -> points) so that settlement knows whose
 * liability a redemption discharges. A redemption at member R takes R's own
 * lot first (a discount at the issuer: no commission), then the other lots
 * in issuer-ID order; a transfer moves lots in issuer-ID order. Each part
 * taken from another issuer's lot is charged commission_bps of it (rounded
 * down), paid by R and credited to that issuer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/internal.h"
#include "wire/error.h"

static int window_ok(const struct ldg_rule *r, uint64_t t)
{
	return t >= r->from && (r->until == 0 || t < r->until);
}

static int check_rule_params(struct ldg_exec *x, uint64_t num, uint64_t den,
			     uint64_t bonus, uint64_t from, uint64_t until)
{
	if (den == 0)
		return ldg_reject(x, LOY_REJ_INVALID_PARAM,
				  "rate denominator is zero");
	if (num == 0 && bonus == 0)
		return ldg_reject(x, LOY_REJ_INVALID_PARAM,
				  "rule earns no points");
	if (until != 0 && until <= from)
		return ldg_reject(x, LOY_REJ_INVALID_PARAM,
				  "window ends before it starts");
	return 0;
}

int ldg_exec_rule_set(struct ldg_exec *x)
{
	const struct loy_tx_rule_set *b = &x->tx->u.rule_set;
	struct ldg_rule r = {
	    b->rate_num,     b->rate_den,      0,
	    b->min_purchase, b->valid_from_ms, b->valid_until_ms};
	uint8_t member[LOY_ID_SIZE], buf[LDG_RULE_LEN];
	int rc = ldg_acting_member(x, false, member);
	if (rc == 0)
		rc = check_rule_params(x, b->rate_num, b->rate_den, 0,
				       b->valid_from_ms, b->valid_until_ms);
	if (rc != 0)
		return rc;
	ldg_rule_enc(buf, &r);
	return ldg_put(&x->t, LDB_RULES, member, LOY_ID_SIZE, buf, sizeof buf);
}

static int part_get(struct ldg_exec *x, const char *name, struct ldg_part *p)
{
	MDB_val v;
	int rc = ldg_get(&x->t, LDB_PARTS, name, strlen(name), &v);
	if (rc == LOY_ENOTFOUND)
		return ldg_reject(x, LOY_REJ_UNKNOWN_PARTNERSHIP,
				  "no partnership \"%s\"", name);
	if (rc != 0)
		return rc;
	return ldg_part_dec(p, &v);
}

static size_t pm_key(uint8_t *k, const char *name, const uint8_t id[20])
{
	size_t n = strlen(name);
	memcpy(k, name, n);
	k[n] = 0;
	memcpy(k + n + 1, id, LOY_ID_SIZE);
	return n + 1 + LOY_ID_SIZE;
}

static int pm_get(struct ldg_exec *x, const char *name, const uint8_t id[20],
		  uint8_t *flags)
{
	uint8_t k[LOY_NAME_MAX + 1 + LOY_ID_SIZE];
	MDB_val v;
	int rc = ldg_get(&x->t, LDB_PMEMBERS, k, pm_key(k, name, id), &v);
	*flags = 0;
	if (rc == LOY_ENOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (v.mv_size != 1)
		return LOY_ECORRUPT;
	*flags = *(uint8_t *)v.mv_data;
	return 0;
}

static int pm_put(struct ldg_exec *x, const char *name, const uint8_t id[20],
		  uint8_t flags)
{
	uint8_t k[LOY_NAME_MAX + 1 + LOY_ID_SIZE];
	size_t kl = pm_key(k, name, id);
	if (flags == 0)
		return ldg_del(&x->t, LDB_PMEMBERS, k, kl);
	return ldg_put(&x->t, LDB_PMEMBERS, k, kl, &flags, 1);
}

int ldg_exec_partnership_create(struct ldg_exec *x)
{
	const struct loy_tx_partnership_create *b =
	    &x->tx->u.partnership_create;
	struct ldg_part p = {0};
	uint8_t member[LOY_ID_SIZE], buf[LDG_PART_LEN];
	MDB_val v;
	int rc = ldg_acting_member(x, false, member);
	if (rc != 0)
		return rc;
	if (!b->name[0])
		return ldg_reject(x, LOY_REJ_INVALID_PARAM,
				  "partnership needs a name");
	rc = check_rule_params(x, b->rate_num, b->rate_den, b->bonus,
			       b->valid_from_ms, b->valid_until_ms);
	if (rc != 0)
		return rc;
	rc = ldg_get(&x->t, LDB_PARTS, b->name, strlen(b->name), &v);
	if (rc == 0)
		return ldg_reject(x, LOY_REJ_PARTNERSHIP_EXISTS,
				  "partnership \"%s\" exists", b->name);
	if (rc != LOY_ENOTFOUND)
		return rc;
	memcpy(p.creator, member, LOY_ID_SIZE);
	p.rule = (struct ldg_rule){b->rate_num,      b->rate_den,
				   b->bonus,         b->min_purchase,
				   b->valid_from_ms, b->valid_until_ms};
	p.created = x->height;
	ldg_part_enc(buf, &p);
	rc = ldg_put(&x->t, LDB_PARTS, b->name, strlen(b->name), buf,
		     sizeof buf);
	if (rc == 0)
		rc = pm_put(x, b->name, member,
			    LDG_PM_REQUESTED | LDG_PM_APPROVED);
	return rc;
}

int ldg_exec_partnership_join(struct ldg_exec *x)
{
	const struct loy_tx_partnership_member *b =
	    &x->tx->u.partnership_member;
	struct ldg_part p;
	struct ldg_member m;
	uint8_t member[LOY_ID_SIZE], flags, add;
	int rc = ldg_acting_member(x, false, member);
	if (rc == 0)
		rc = part_get(x, b->name, &p);
	if (rc == 0)
		rc = ldg_require_member(x, b->member, &m);
	if (rc == 0)
		rc = pm_get(x, b->name, b->member, &flags);
	if (rc != 0)
		return rc;
	bool creator = !memcmp(member, p.creator, LOY_ID_SIZE);
	if (!creator && memcmp(member, b->member, LOY_ID_SIZE) != 0)
		return ldg_reject(x, LOY_REJ_NOT_AUTHORIZED,
				  "only the creator approves other members");
	add = creator ? LDG_PM_APPROVED : LDG_PM_REQUESTED;
	if (flags & add)
		return ldg_reject(x, LOY_REJ_ALREADY_PARTNER, "already %s",
				  creator ? "approved" : "requested");
	memcpy(x->other, b->member, LOY_ID_SIZE);
	x->has_other = true;
	return pm_put(x, b->name, b->member, (uint8_t)(flags | add));
}

int ldg_exec_partnership_leave(struct ldg_exec *x)
{
	const struct loy_tx_partnership_member *b =
	    &x->tx->u.partnership_member;
	struct ldg_part p;
	uint8_t member[LOY_ID_SIZE], flags;
	int rc = ldg_acting_member(x, false, member);
	if (rc == 0)
		rc = part_get(x, b->name, &p);
	if (rc != 0)
		return rc;
	if (memcmp(member, b->member, LOY_ID_SIZE) != 0)
		return ldg_reject(x, LOY_REJ_NOT_AUTHORIZED,
				  "a member can only remove itself");
	if (!memcmp(member, p.creator, LOY_ID_SIZE))
		return ldg_reject(x, LOY_REJ_INVALID_PARAM,
				  "the creator cannot leave its partnership");
	rc = pm_get(x, b->name, member, &flags);
	if (rc != 0)
		return rc;
	if (!flags)
		return ldg_reject(x, LOY_REJ_NOT_PARTNER,
				  "not in partnership \"%s\"", b->name);
	return pm_put(x, b->name, member, 0);
}

static int customer_get(struct ldg_exec *x, const uint8_t id[LOY_ID_SIZE],
			struct ldg_account *a)
{
	char s[LOY_ID_STR_SIZE];
	int rc = ldg_account_get(&x->t, id, a);
	if (rc != 0 && rc != LOY_ENOTFOUND)
		return rc;
	if (rc == 0 && a->type == LDG_CUSTOMER)
		return 0;
	loy_id_format(s, id);
	return ldg_reject(x, LOY_REJ_UNKNOWN_CUSTOMER, "unknown customer %s",
			  s);
}

static int lot_add(struct ldg_exec *x, const uint8_t cust[LOY_ID_SIZE],
		   const uint8_t issuer[LOY_ID_SIZE], uint64_t pts, bool sub)
{
	uint8_t k[2 * LOY_ID_SIZE];
	uint64_t v;
	int rc;
	memcpy(k, cust, LOY_ID_SIZE);
	memcpy(k + LOY_ID_SIZE, issuer, LOY_ID_SIZE);
	rc = ldg_u64_get(&x->t, LDB_LOTS, k, sizeof k, &v);
	if (rc != 0 && rc != LOY_ENOTFOUND)
		return rc;
	if (sub ? !ldg_sub(&v, pts) : !ldg_add(&v, pts))
		return ldg_fail(x->t.l, LOY_ECORRUPT, "lot out of range");
	if (v == 0)
		return ldg_del(&x->t, LDB_LOTS, k, sizeof k);
	return ldg_u64_put(&x->t, LDB_LOTS, k, sizeof k, v);
}

struct lot {
	uint8_t issuer[LOY_ID_SIZE];
	uint64_t take;
};

/* Decides which lots of cust cover amount: `first`'s lot (if any) before
 * the others in key order. Fills *out (caller frees) and *n. */
static int lots_plan(struct ldg_exec *x, const uint8_t cust[LOY_ID_SIZE],
		     const uint8_t *first, uint64_t amount, struct lot **out,
		     size_t *n)
{
	uint8_t k0[2 * LOY_ID_SIZE];
	struct lot *v = NULL;
	size_t cnt = 0, cap = 0;
	MDB_cursor *c;
	MDB_val k, d;
	int rc, pass;

	*out = NULL;
	*n = 0;
	rc = ldg_cursor_open(&x->t, LDB_LOTS, &c);
	if (rc != 0)
		return rc;
	for (pass = first ? 0 : 1; pass < 2 && amount > 0; pass++) {
		memcpy(k0, cust, LOY_ID_SIZE);
		if (pass == 0)
			memcpy(k0 + LOY_ID_SIZE, first, LOY_ID_SIZE);
		else
			memset(k0 + LOY_ID_SIZE, 0, LOY_ID_SIZE);
		k.mv_size = sizeof k0;
		k.mv_data = k0;
		for (rc = ldg_cursor_get(&x->t, LDB_LOTS, c, &k, &d,
					 MDB_SET_RANGE);
		     rc == 0 && amount > 0;
		     rc =
			 ldg_cursor_get(&x->t, LDB_LOTS, c, &k, &d, MDB_NEXT)) {
			const uint8_t *kk = k.mv_data;
			if (k.mv_size != sizeof k0 ||
			    memcmp(kk, cust, LOY_ID_SIZE) != 0 ||
			    d.mv_size != 8)
				break;
			bool is_first = first && !memcmp(kk + LOY_ID_SIZE,
							 first, LOY_ID_SIZE);
			if (pass == 0 && !is_first)
				break;
			if (pass == 1 && is_first)
				continue;
			uint64_t have = be64get(d.mv_data);
			uint64_t take = have < amount ? have : amount;
			if (cnt == cap) {
				cap = cap ? cap * 2 : 8;
				struct lot *nv = realloc(v, cap * sizeof *v);
				if (!nv) {
					rc = LOY_ENOMEM;
					break;
				}
				v = nv;
			}
			memcpy(v[cnt].issuer, kk + LOY_ID_SIZE, LOY_ID_SIZE);
			v[cnt++].take = take;
			amount -= take;
		}
		if (rc != 0 && rc != LOY_ENOTFOUND)
			break;
		rc = 0;
	}
	mdb_cursor_close(c);
	if (rc == 0 && amount > 0)
		rc = ldg_fail(x->t.l, LOY_ECORRUPT,
			      "lots do not cover the balance");
	if (rc != 0) {
		free(v);
		return rc;
	}
	*out = v;
	*n = cnt;
	return 0;
}

static int position_update(struct ldg_exec *x, const uint8_t id[LOY_ID_SIZE],
			   uint64_t *(*field)(struct ldg_position *),
			   uint64_t v)
{
	struct ldg_position s;
	int rc = ldg_position_get(&x->t, id, &s);
	if (rc != 0 && rc != LOY_ENOTFOUND)
		return rc;
	if (!ldg_add(field(&s), v))
		return ldg_fail(x->t.l, LOY_ECORRUPT, "position overflow");
	return ldg_position_put(&x->t, id, &s);
}

static uint64_t *f_issued(struct ldg_position *s)
{
	return &s->issued;
}
static uint64_t *f_reversed(struct ldg_position *s)
{
	return &s->reversed;
}
static uint64_t *f_redeemed(struct ldg_position *s)
{
	return &s->redeemed_at;
}
static uint64_t *f_consumed(struct ldg_position *s)
{
	return &s->consumed;
}
static uint64_t *f_cpaid(struct ldg_position *s)
{
	return &s->comm_paid;
}
static uint64_t *f_cearned(struct ldg_position *s)
{
	return &s->comm_earned;
}

int ldg_exec_reward_issue(struct ldg_exec *x)
{
	const struct loy_tx_reward_issue *b = &x->tx->u.reward_issue;
	uint8_t member[LOY_ID_SIZE], buf[LDG_ISSUE_LEN];
	struct ldg_account cust;
	struct ldg_totals tt;
	struct ldg_rule r;
	struct ldg_issue is;
	uint64_t points;
	MDB_val v;
	int rc = ldg_acting_member(x, true, member);
	if (rc == 0)
		rc = customer_get(x, b->customer, &cust);
	if (rc != 0)
		return rc;
	if (b->purchase == 0)
		return ldg_reject(x, LOY_REJ_ZERO_AMOUNT, "purchase is zero");
	rc = ldg_ref_check(x, member, b->reference);
	if (rc != 0)
		return rc;
	if (!strcmp(b->reason, "topup")) {
		if (b->partnership[0])
			return ldg_reject(x, LOY_REJ_INVALID_PARAM,
					  "a top-up names no partnership");
		points = b->purchase;
	} else {
		if (b->partnership[0]) {
			struct ldg_part p;
			uint8_t flags;
			rc = part_get(x, b->partnership, &p);
			if (rc == 0)
				rc = pm_get(x, b->partnership, member, &flags);
			if (rc != 0)
				return rc;
			if (flags != (LDG_PM_REQUESTED | LDG_PM_APPROVED))
				return ldg_reject(x, LOY_REJ_NOT_PARTNER,
						  "not in partnership \"%s\"",
						  b->partnership);
			r = p.rule;
		} else {
			rc = ldg_get(&x->t, LDB_RULES, member, LOY_ID_SIZE, &v);
			if (rc == LOY_ENOTFOUND)
				return ldg_reject(x, LOY_REJ_NO_RULE,
						  "member has no earning rule");
			if (rc == 0)
				rc = ldg_rule_dec(&r, &v);
			if (rc != 0)
				return rc;
		}
		if (!window_ok(&r, x->time_ms))
			return ldg_reject(x, LOY_REJ_OUTSIDE_WINDOW,
					  "earning rule not in effect at %llu",
					  (unsigned long long)x->time_ms);
		if (b->purchase < r.min_purchase)
			return ldg_reject(x, LOY_REJ_BELOW_MINIMUM,
					  "purchase %llu below minimum %llu",
					  (unsigned long long)b->purchase,
					  (unsigned long long)r.min_purchase);
		unsigned __int128 p =
		    (unsigned __int128)b->purchase * r.rate_num / r.rate_den;
		p += r.bonus;
		if (p > UINT64_MAX)
			return ldg_reject(x, LOY_REJ_OVERFLOW,
					  "points overflow");
		points = (uint64_t)p;
	}
	if (points == 0)
		return ldg_reject(x, LOY_REJ_NO_POINTS,
				  "purchase %llu earns no points",
				  (unsigned long long)b->purchase);
	rc = ldg_totals_get(&x->t, &tt);
	if (rc != 0)
		return rc;
	/* Every balance, lot and position is bounded by total issued. */
	if (!ldg_add(&tt.issued, points) || !ldg_add(&cust.balance, points))
		return ldg_reject(x, LOY_REJ_OVERFLOW,
				  "points issued would overflow");
	memcpy(is.customer, b->customer, LOY_ID_SIZE);
	memcpy(is.issuer, member, LOY_ID_SIZE);
	is.points = points;
	is.reversed = 0;
	ldg_issue_enc(buf, &is);
	rc = ldg_account_put(&x->t, b->customer, &cust);
	if (rc == 0)
		rc = lot_add(x, b->customer, member, points, false);
	if (rc == 0)
		rc = position_update(x, member, f_issued, points);
	if (rc == 0)
		rc = ldg_totals_put(&x->t, &tt);
	if (rc == 0)
		rc = ldg_ref_put_issue(x, member, b->reference, x->hash, buf);
	if (rc == 0)
		rc = ldg_daily_touch(x, member, points, 0, b->customer);
	memcpy(x->other, b->customer, LOY_ID_SIZE);
	x->has_other = true;
	x->other_delta = (int64_t)(points > INT64_MAX ? INT64_MAX : points);
	memcpy(x->member, member, LOY_ID_SIZE);
	x->has_member = true;
	return rc;
}

int ldg_exec_reward_reverse(struct ldg_exec *x)
{
	const struct loy_tx_reward_reverse *b = &x->tx->u.reward_reverse;
	uint8_t member[LOY_ID_SIZE], buf[LDG_ISSUE_LEN], k[2 * LOY_ID_SIZE];
	uint8_t issue_tx[LOY_HASH_SIZE];
	struct ldg_account cust;
	struct ldg_totals tt;
	struct ldg_issue is;
	uint64_t lot;
	int rc = ldg_acting_member(x, true, member);
	if (rc != 0)
		return rc;
	/* the member's own reference: only its own issues can be named */
	rc = ldg_ref_issue(x, member, b->issue_ref, &is, issue_tx);
	if (rc == LOY_ENOTFOUND)
		return ldg_reject(x, LOY_REJ_UNKNOWN_ISSUE,
				  "no reward.issue of this member has "
				  "reference \"%s\"",
				  b->issue_ref);
	if (rc != 0)
		return rc;
	if (memcmp(is.issuer, member, LOY_ID_SIZE) != 0)
		return ldg_reject(x, LOY_REJ_NOT_AUTHORIZED,
				  "only the issuing member may reverse");
	if (is.reversed)
		return ldg_reject(x, LOY_REJ_ALREADY_REVERSED,
				  "issue already reversed");
	rc = ldg_ref_check(x, member, b->reference);
	if (rc != 0)
		return rc;
	rc = ldg_account_get(&x->t, is.customer, &cust);
	if (rc != 0)
		return rc == LOY_ENOTFOUND ? LOY_ECORRUPT : rc;
	memcpy(k, is.customer, LOY_ID_SIZE);
	memcpy(k + LOY_ID_SIZE, member, LOY_ID_SIZE);
	rc = ldg_u64_get(&x->t, LDB_LOTS, k, sizeof k, &lot);
	if (rc != 0 && rc != LOY_ENOTFOUND)
		return rc;
	if (lot < is.points || cust.balance < is.points)
		return ldg_reject(x, LOY_REJ_POINTS_SPENT,
				  "cannot reverse %llu points: only %llu of "
				  "them are unspent",
				  (unsigned long long)is.points,
				  (unsigned long long)(lot < cust.balance
							   ? lot
							   : cust.balance));
	rc = ldg_totals_get(&x->t, &tt);
	if (rc != 0)
		return rc;
	if (!ldg_add(&tt.reversed, is.points))
		return ldg_fail(x->t.l, LOY_ECORRUPT, "totals overflow");
	cust.balance -= is.points;
	is.reversed = 1;
	ldg_issue_enc(buf, &is);
	rc = ldg_account_put(&x->t, is.customer, &cust);
	if (rc == 0)
		rc = lot_add(x, is.customer, member, is.points, true);
	if (rc == 0)
		rc = ldg_ref_put_issue(x, member, b->issue_ref, issue_tx, buf);
	if (rc == 0)
		rc = position_update(x, member, f_reversed, is.points);
	if (rc == 0)
		rc = ldg_totals_put(&x->t, &tt);
	if (rc == 0)
		rc = ldg_ref_claim(x, member, b->reference);
	if (rc == 0)
		rc = ldg_daily_touch(x, member, 0, 0, is.customer);
	memcpy(x->other, is.customer, LOY_ID_SIZE);
	x->has_other = true;
	x->other_delta =
	    -(int64_t)(is.points > INT64_MAX ? INT64_MAX : is.points);
	memcpy(x->member, member, LOY_ID_SIZE);
	x->has_member = true;
	return rc;
}

static int spend_check(struct ldg_exec *x, uint64_t amount,
		       const char *reference)
{
	if (amount == 0)
		return ldg_reject(x, LOY_REJ_ZERO_AMOUNT, "amount is zero");
	int rc = ldg_ref_check(x, x->signer, reference);
	if (rc != 0)
		return rc;
	if (x->sacct.balance < amount)
		return ldg_reject(x, LOY_REJ_INSUFFICIENT_POINTS,
				  "insufficient points: balance %llu, "
				  "requested %llu",
				  (unsigned long long)x->sacct.balance,
				  (unsigned long long)amount);
	return 0;
}

int ldg_exec_redeem(struct ldg_exec *x)
{
	const struct loy_tx_redeem *b = &x->tx->u.redeem;
	struct ldg_member m;
	struct ldg_totals tt;
	struct lot *lots = NULL;
	size_t n = 0;
	uint64_t bps = x->t.l->commission_bps, comm_total = 0;
	int rc = ldg_require_customer(x);
	if (rc == 0)
		rc = ldg_require_member(x, b->member, &m);
	if (rc == 0)
		rc = spend_check(x, b->amount, b->reference);
	if (rc == 0)
		rc = ldg_totals_get(&x->t, &tt);
	if (rc != 0)
		return rc;
	if (!ldg_add(&tt.redeemed, b->amount))
		return ldg_fail(x->t.l, LOY_ECORRUPT, "totals overflow");
	rc = lots_plan(x, x->signer, b->member, b->amount, &lots, &n);
	if (rc != 0)
		return rc;
	x->sacct.balance -= b->amount;
	rc = ldg_account_put(&x->t, x->signer, &x->sacct);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = lot_add(x, x->signer, lots[i].issuer, lots[i].take, true);
		if (rc == 0)
			rc = position_update(x, lots[i].issuer, f_consumed,
					     lots[i].take);
		if (rc != 0 || !bps ||
		    !memcmp(lots[i].issuer, b->member, LOY_ID_SIZE))
			continue;
		uint64_t c =
		    (uint64_t)((unsigned __int128)lots[i].take * bps / 10000u);
		if (c == 0)
			continue;
		rc = position_update(x, lots[i].issuer, f_cearned, c);
		comm_total += c;
	}
	free(lots);
	if (rc == 0)
		rc = position_update(x, b->member, f_redeemed, b->amount);
	if (rc == 0 && comm_total)
		rc = position_update(x, b->member, f_cpaid, comm_total);
	if (rc == 0)
		rc = ldg_totals_put(&x->t, &tt);
	if (rc == 0)
		rc = ldg_ref_claim(x, x->signer, b->reference);
	if (rc == 0)
		rc = ldg_daily_touch(x, b->member, 0, b->amount, x->signer);
	x->delta = -(int64_t)(b->amount > INT64_MAX ? INT64_MAX : b->amount);
	memcpy(x->member, b->member, LOY_ID_SIZE);
	x->has_member = true;
	return rc;
}

int ldg_exec_transfer(struct ldg_exec *x)
{
	const struct loy_tx_transfer *b = &x->tx->u.transfer;
	struct ldg_account to;
	struct lot *lots = NULL;
	size_t n = 0;
	int rc = ldg_require_customer(x);
	if (rc != 0)
		return rc;
	if (!memcmp(b->to, x->signer, LOY_ID_SIZE))
		return ldg_reject(x, LOY_REJ_INVALID_PARAM,
				  "cannot transfer to oneself");
	rc = customer_get(x, b->to, &to);
	if (rc == 0)
		rc = spend_check(x, b->amount, b->reference);
	if (rc != 0)
		return rc;
	if (!ldg_add(&to.balance, b->amount))
		return ldg_fail(x->t.l, LOY_ECORRUPT, "balance overflow");
	rc = lots_plan(x, x->signer, NULL, b->amount, &lots, &n);
	if (rc != 0)
		return rc;
	x->sacct.balance -= b->amount;
	rc = ldg_account_put(&x->t, x->signer, &x->sacct);
	if (rc == 0)
		rc = ldg_account_put(&x->t, b->to, &to);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = lot_add(x, x->signer, lots[i].issuer, lots[i].take, true);
		if (rc == 0)
			rc = lot_add(x, b->to, lots[i].issuer, lots[i].take,
				     false);
	}
	free(lots);
	if (rc == 0)
		rc = ldg_ref_claim(x, x->signer, b->reference);
	int64_t d = (int64_t)(b->amount > INT64_MAX ? INT64_MAX : b->amount);
	x->delta = -d;
	memcpy(x->other, b->to, LOY_ID_SIZE);
	x->has_other = true;
	x->other_delta = d;
	return rc;
}
