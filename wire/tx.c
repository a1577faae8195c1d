/* Transaction codec: one encode and one decode per kind, signing, hashing. */
#include "wire/tx.h"

#include <stdlib.h>
#include <string.h>

#include "wire/codec.h"
#include "wire/error.h"

#define SIG_FIELD_BYTES (2 + LOY_SIG_SIZE) /* bin8 header + signature */
#define GEO_LAT_MAX     90000000
#define GEO_LON_MAX     180000000

static const char *const kind_names[LOY_TX_KIND_MAX + 1] = {
    [LOY_TX_CUSTOMER_REGISTER] = "customer.register",
    [LOY_TX_TERMINAL_ADD] = "terminal.add",
    [LOY_TX_TERMINAL_REMOVE] = "terminal.remove",
    [LOY_TX_MEMBER_PROPOSE] = "member.propose",
    [LOY_TX_MEMBER_VOTE] = "member.vote",
    [LOY_TX_RULE_SET] = "rule.set",
    [LOY_TX_PARTNERSHIP_CREATE] = "partnership.create",
    [LOY_TX_PARTNERSHIP_JOIN] = "partnership.join",
    [LOY_TX_PARTNERSHIP_LEAVE] = "partnership.leave",
    [LOY_TX_REWARD_ISSUE] = "reward.issue",
    [LOY_TX_REWARD_REVERSE] = "reward.reverse",
    [LOY_TX_REDEEM] = "redeem",
    [LOY_TX_TRANSFER] = "transfer",
    [LOY_TX_COUPON_ISSUE] = "coupon.issue",
    [LOY_TX_COUPON_REDEEM] = "coupon.redeem",
    [LOY_TX_SETTLE] = "settle",
};

const char *loy_tx_kind_name(unsigned kind)
{
	return kind >= 1 && kind <= LOY_TX_KIND_MAX ? kind_names[kind] : NULL;
}

unsigned loy_tx_kind_parse(const char *name)
{
	for (unsigned k = 1; k <= LOY_TX_KIND_MAX; k++)
		if (strcmp(kind_names[k], name) == 0)
			return k;
	return 0;
}

void loy_tx_free(struct loy_tx *tx)
{
	if (tx->kind == LOY_TX_COUPON_ISSUE) {
		free(tx->u.coupon_issue.coupons);
		tx->u.coupon_issue.coupons = NULL;
		tx->u.coupon_issue.coupon_count = 0;
	}
}

static void free_tx(void *p)
{
	loy_tx_free(p);
}

/* --- encoding --- */

static int encode_coupon_issue(const struct loy_tx_coupon_issue *b,
			       struct loy_w *w)
{
	if (b->site_count > LOY_MAX_REDEEM_SITES || b->coupon_count == 0 ||
	    b->coupon_count > LOY_MAX_COUPONS_PER_ISSUE || b->coupons == NULL)
		return LOY_EINVAL;
	loy_w_array(w, 7);
	loy_w_u64(w, b->value);
	loy_w_u64(w, b->valid_from_ms);
	loy_w_u64(w, b->valid_until_ms);
	if (b->has_geofence) {
		loy_w_array(w, 3);
		loy_w_i64(w, b->center.lat_udeg);
		loy_w_i64(w, b->center.lon_udeg);
		loy_w_u64(w, b->radius_m);
	} else {
		loy_w_array(w, 0);
	}
	loy_w_u64(w, b->per_customer_limit);
	loy_w_array(w, b->site_count);
	for (uint32_t i = 0; i < b->site_count; i++)
		loy_w_bin(w, b->sites[i], LOY_ID_SIZE);
	loy_w_array(w, b->coupon_count);
	for (uint32_t i = 0; i < b->coupon_count; i++) {
		const struct loy_coupon_slot *s = &b->coupons[i];
		loy_w_array(w, 2);
		loy_w_u64(w, s->holder_kind);
		if (s->holder_kind == LOY_COUPON_ALLOTTED)
			loy_w_bin(w, s->holder, LOY_ID_SIZE);
		else if (s->holder_kind == LOY_COUPON_BEARER)
			loy_w_bin(w, s->holder, LOY_HASH_SIZE);
		else
			return LOY_EINVAL;
	}
	return 0;
}

static int encode_body(const struct loy_tx *tx, struct loy_w *w)
{
	switch (tx->kind) {
	case LOY_TX_CUSTOMER_REGISTER:
		loy_w_array(w, 1);
		loy_w_str(w, tx->u.customer_register.memo);
		return 0;
	case LOY_TX_TERMINAL_ADD:
	case LOY_TX_TERMINAL_REMOVE:
		loy_w_array(w, 2);
		loy_w_bin(w, tx->u.terminal.terminal, LOY_PUBKEY_SIZE);
		loy_w_str(w, tx->u.terminal.label);
		return 0;
	case LOY_TX_MEMBER_PROPOSE: {
		const struct loy_tx_member_propose *b = &tx->u.member_propose;
		if (b->action != LOY_MEMBER_ADMIT &&
		    b->action != LOY_MEMBER_REMOVE)
			return LOY_EINVAL;
		loy_w_array(w, 4);
		loy_w_u64(w, b->action);
		loy_w_bin(w, b->member, LOY_PUBKEY_SIZE);
		loy_w_str(w, b->name);
		loy_w_str(w, b->address);
		return 0;
	}
	case LOY_TX_MEMBER_VOTE:
		loy_w_array(w, 2);
		loy_w_bin(w, tx->u.member_vote.proposal, LOY_HASH_SIZE);
		loy_w_bool(w, tx->u.member_vote.approve);
		return 0;
	case LOY_TX_RULE_SET: {
		const struct loy_tx_rule_set *b = &tx->u.rule_set;
		loy_w_array(w, 5);
		loy_w_u64(w, b->rate_num);
		loy_w_u64(w, b->rate_den);
		loy_w_u64(w, b->min_purchase);
		loy_w_u64(w, b->valid_from_ms);
		loy_w_u64(w, b->valid_until_ms);
		return 0;
	}
	case LOY_TX_PARTNERSHIP_CREATE: {
		const struct loy_tx_partnership_create *b =
		    &tx->u.partnership_create;
		loy_w_array(w, 7);
		loy_w_str(w, b->name);
		loy_w_u64(w, b->rate_num);
		loy_w_u64(w, b->rate_den);
		loy_w_u64(w, b->bonus);
		loy_w_u64(w, b->min_purchase);
		loy_w_u64(w, b->valid_from_ms);
		loy_w_u64(w, b->valid_until_ms);
		return 0;
	}
	case LOY_TX_PARTNERSHIP_JOIN:
	case LOY_TX_PARTNERSHIP_LEAVE:
		loy_w_array(w, 2);
		loy_w_str(w, tx->u.partnership_member.name);
		loy_w_bin(w, tx->u.partnership_member.member, LOY_ID_SIZE);
		return 0;
	case LOY_TX_REWARD_ISSUE: {
		const struct loy_tx_reward_issue *b = &tx->u.reward_issue;
		loy_w_array(w, 5);
		loy_w_bin(w, b->customer, LOY_ID_SIZE);
		loy_w_u64(w, b->purchase);
		loy_w_str(w, b->partnership);
		loy_w_str(w, b->reference);
		loy_w_str(w, b->reason);
		return 0;
	}
	case LOY_TX_REWARD_REVERSE: {
		const struct loy_tx_reward_reverse *b = &tx->u.reward_reverse;
		loy_w_array(w, 3);
		loy_w_str(w, b->issue_ref);
		loy_w_str(w, b->reference);
		loy_w_str(w, b->reason);
		return 0;
	}
	case LOY_TX_REDEEM: {
		const struct loy_tx_redeem *b = &tx->u.redeem;
		loy_w_array(w, 4);
		loy_w_bin(w, b->member, LOY_ID_SIZE);
		loy_w_u64(w, b->amount);
		loy_w_str(w, b->reference);
		loy_w_str(w, b->memo);
		return 0;
	}
	case LOY_TX_TRANSFER: {
		const struct loy_tx_transfer *b = &tx->u.transfer;
		loy_w_array(w, 4);
		loy_w_bin(w, b->to, LOY_ID_SIZE);
		loy_w_u64(w, b->amount);
		loy_w_str(w, b->reference);
		loy_w_str(w, b->memo);
		return 0;
	}
	case LOY_TX_COUPON_ISSUE:
		return encode_coupon_issue(&tx->u.coupon_issue, w);
	case LOY_TX_COUPON_REDEEM: {
		const struct loy_tx_coupon_redeem *b = &tx->u.coupon_redeem;
		loy_w_array(w, 7);
		loy_w_bin(w, b->batch, LOY_HASH_SIZE);
		loy_w_u64(w, b->index);
		loy_w_str(w, b->code);
		loy_w_bin(w, b->site, LOY_ID_SIZE);
		loy_w_i64(w, b->location.lat_udeg);
		loy_w_i64(w, b->location.lon_udeg);
		loy_w_str(w, b->reference);
		return 0;
	}
	case LOY_TX_SETTLE: {
		const struct loy_tx_settle *b = &tx->u.settle;
		loy_w_array(w, 4);
		loy_w_bin(w, b->counterparty, LOY_ID_SIZE);
		loy_w_u64(w, b->amount);
		loy_w_bin(w, b->confirm, LOY_HASH_SIZE);
		loy_w_str(w, b->reference);
		return 0;
	}
	default:
		return LOY_EINVAL;
	}
}

static int chain_id_ok(const char *c)
{
	size_t n = strnlen(c, LOY_CHAIN_ID_MAX + 1);
	return n > 0 && n <= LOY_CHAIN_ID_MAX;
}

static int encode_tx(const void *in, struct loy_w *w)
{
	const struct loy_tx *tx = in;
	int rv;

	if (!chain_id_ok(tx->chain_id) || tx->nonce == 0)
		return LOY_EINVAL;
	loy_w_array(w, 7);
	loy_w_u64(w, LOY_WIRE_VERSION);
	loy_w_u64(w, tx->kind);
	loy_w_str(w, tx->chain_id);
	loy_w_bin(w, tx->signer, LOY_PUBKEY_SIZE);
	loy_w_u64(w, tx->nonce);
	rv = encode_body(tx, w);
	if (rv != 0)
		return rv;
	loy_w_bin(w, tx->sig, LOY_SIG_SIZE);
	return 0;
}

/* --- decoding --- */

static void read_geo(struct loy_r *r, struct loy_geo *g)
{
	g->lat_udeg = (int32_t)loy_r_i64(r, -GEO_LAT_MAX, GEO_LAT_MAX);
	g->lon_udeg = (int32_t)loy_r_i64(r, -GEO_LON_MAX, GEO_LON_MAX);
}

static void decode_coupon_issue(struct loy_r *r, struct loy_tx_coupon_issue *b)
{
	struct loy_r geo, sites, coupons;

	b->value = loy_r_u64(r, 0, UINT64_MAX);
	b->valid_from_ms = loy_r_u64(r, 0, UINT64_MAX);
	b->valid_until_ms = loy_r_u64(r, 0, UINT64_MAX);
	loy_r_array(r, &geo, 0, 3);
	if (r->err == 0 && geo.n != 0) {
		if (geo.n != 3) {
			loy_r_fail(r, LOY_EMALFORMED);
			return;
		}
		b->has_geofence = true;
		read_geo(&geo, &b->center);
		b->radius_m = (uint32_t)loy_r_u64(&geo, 0, UINT32_MAX);
		if (loy_r_end(&geo) != 0)
			loy_r_fail(r, geo.err);
	}
	b->per_customer_limit = (uint32_t)loy_r_u64(r, 0, UINT32_MAX);
	loy_r_array(r, &sites, 0, LOY_MAX_REDEEM_SITES);
	if (r->err != 0)
		return;
	b->site_count = sites.n;
	for (uint32_t i = 0; i < sites.n; i++)
		loy_r_bin_fixed(&sites, b->sites[i], LOY_ID_SIZE);
	if (loy_r_end(&sites) != 0) {
		loy_r_fail(r, sites.err);
		return;
	}
	loy_r_array(r, &coupons, 1, LOY_MAX_COUPONS_PER_ISSUE);
	if (r->err != 0)
		return;
	/* count checked against the limit above, so this allocation is bounded
	 */
	b->coupons = calloc(coupons.n, sizeof *b->coupons);
	if (b->coupons == NULL) {
		loy_r_fail(r, LOY_ENOMEM);
		return;
	}
	b->coupon_count = coupons.n;
	for (uint32_t i = 0; i < coupons.n && coupons.err == 0; i++) {
		struct loy_r c;
		struct loy_coupon_slot *s = &b->coupons[i];

		loy_r_array(&coupons, &c, 2, 2);
		s->holder_kind = (uint8_t)loy_r_u64(&c, LOY_COUPON_ALLOTTED,
						    LOY_COUPON_BEARER);
		loy_r_bin_fixed(&c, s->holder,
				s->holder_kind == LOY_COUPON_ALLOTTED
				    ? LOY_ID_SIZE
				    : LOY_HASH_SIZE);
		if (loy_r_end(&c) != 0)
			loy_r_fail(&coupons, c.err);
	}
	if (loy_r_end(&coupons) != 0)
		loy_r_fail(r, coupons.err);
}

static void decode_body(struct loy_r *r, struct loy_tx *tx)
{
	switch (tx->kind) {
	case LOY_TX_CUSTOMER_REGISTER:
		loy_r_str(r, tx->u.customer_register.memo, LOY_MEMO_MAX + 1);
		return;
	case LOY_TX_TERMINAL_ADD:
	case LOY_TX_TERMINAL_REMOVE:
		loy_r_bin_fixed(r, tx->u.terminal.terminal, LOY_PUBKEY_SIZE);
		loy_r_str(r, tx->u.terminal.label, LOY_NAME_MAX + 1);
		return;
	case LOY_TX_MEMBER_PROPOSE: {
		struct loy_tx_member_propose *b = &tx->u.member_propose;
		b->action =
		    (uint8_t)loy_r_u64(r, LOY_MEMBER_ADMIT, LOY_MEMBER_REMOVE);
		loy_r_bin_fixed(r, b->member, LOY_PUBKEY_SIZE);
		loy_r_str(r, b->name, LOY_NAME_MAX + 1);
		loy_r_str(r, b->address, LOY_ADDR_MAX + 1);
		return;
	}
	case LOY_TX_MEMBER_VOTE:
		loy_r_bin_fixed(r, tx->u.member_vote.proposal, LOY_HASH_SIZE);
		tx->u.member_vote.approve = loy_r_bool(r);
		return;
	case LOY_TX_RULE_SET: {
		struct loy_tx_rule_set *b = &tx->u.rule_set;
		b->rate_num = loy_r_u64(r, 0, UINT64_MAX);
		b->rate_den = loy_r_u64(r, 0, UINT64_MAX);
		b->min_purchase = loy_r_u64(r, 0, UINT64_MAX);
		b->valid_from_ms = loy_r_u64(r, 0, UINT64_MAX);
		b->valid_until_ms = loy_r_u64(r, 0, UINT64_MAX);
		return;
	}
	case LOY_TX_PARTNERSHIP_CREATE: {
		struct loy_tx_partnership_create *b = &tx->u.partnership_create;
		loy_r_str(r, b->name, LOY_NAME_MAX + 1);
		b->rate_num = loy_r_u64(r, 0, UINT64_MAX);
		b->rate_den = loy_r_u64(r, 0, UINT64_MAX);
		b->bonus = loy_r_u64(r, 0, UINT64_MAX);
		b->min_purchase = loy_r_u64(r, 0, UINT64_MAX);
		b->valid_from_ms = loy_r_u64(r, 0, UINT64_MAX);
		b->valid_until_ms = loy_r_u64(r, 0, UINT64_MAX);
		return;
	}
	case LOY_TX_PARTNERSHIP_JOIN:
	case LOY_TX_PARTNERSHIP_LEAVE:
		loy_r_str(r, tx->u.partnership_member.name, LOY_NAME_MAX + 1);
		loy_r_bin_fixed(r, tx->u.partnership_member.member,
				LOY_ID_SIZE);
		return;
	case LOY_TX_REWARD_ISSUE: {
		struct loy_tx_reward_issue *b = &tx->u.reward_issue;
		loy_r_bin_fixed(r, b->customer, LOY_ID_SIZE);
		b->purchase = loy_r_u64(r, 0, UINT64_MAX);
		loy_r_str(r, b->partnership, LOY_NAME_MAX + 1);
		loy_r_str(r, b->reference, LOY_REF_MAX + 1);
		loy_r_str(r, b->reason, LOY_MEMO_MAX + 1);
		return;
	}
	case LOY_TX_REWARD_REVERSE: {
		struct loy_tx_reward_reverse *b = &tx->u.reward_reverse;
		loy_r_str(r, b->issue_ref, LOY_REF_MAX + 1);
		loy_r_str(r, b->reference, LOY_REF_MAX + 1);
		loy_r_str(r, b->reason, LOY_MEMO_MAX + 1);
		return;
	}
	case LOY_TX_REDEEM: {
		struct loy_tx_redeem *b = &tx->u.redeem;
		loy_r_bin_fixed(r, b->member, LOY_ID_SIZE);
		b->amount = loy_r_u64(r, 0, UINT64_MAX);
		loy_r_str(r, b->reference, LOY_REF_MAX + 1);
		loy_r_str(r, b->memo, LOY_MEMO_MAX + 1);
		return;
	}
	case LOY_TX_TRANSFER: {
		struct loy_tx_transfer *b = &tx->u.transfer;
		loy_r_bin_fixed(r, b->to, LOY_ID_SIZE);
		b->amount = loy_r_u64(r, 0, UINT64_MAX);
		loy_r_str(r, b->reference, LOY_REF_MAX + 1);
		loy_r_str(r, b->memo, LOY_MEMO_MAX + 1);
		return;
	}
	case LOY_TX_COUPON_ISSUE:
		decode_coupon_issue(r, &tx->u.coupon_issue);
		return;
	case LOY_TX_COUPON_REDEEM: {
		struct loy_tx_coupon_redeem *b = &tx->u.coupon_redeem;
		loy_r_bin_fixed(r, b->batch, LOY_HASH_SIZE);
		b->index =
		    (uint32_t)loy_r_u64(r, 0, LOY_MAX_COUPONS_PER_ISSUE - 1);
		loy_r_str(r, b->code, LOY_CODE_MAX + 1);
		loy_r_bin_fixed(r, b->site, LOY_ID_SIZE);
		read_geo(r, &b->location);
		loy_r_str(r, b->reference, LOY_REF_MAX + 1);
		return;
	}
	case LOY_TX_SETTLE: {
		struct loy_tx_settle *b = &tx->u.settle;
		loy_r_bin_fixed(r, b->counterparty, LOY_ID_SIZE);
		b->amount = loy_r_u64(r, 0, UINT64_MAX);
		loy_r_bin_fixed(r, b->confirm, LOY_HASH_SIZE);
		loy_r_str(r, b->reference, LOY_REF_MAX + 1);
		return;
	}
	default:
		loy_r_fail(r, LOY_EKIND);
	}
}

/* Field count of each kind's body, for the reader's exact-size check. */
static const uint8_t body_fields[LOY_TX_KIND_MAX + 1] = {
    [LOY_TX_CUSTOMER_REGISTER] = 1,  [LOY_TX_TERMINAL_ADD] = 2,
    [LOY_TX_TERMINAL_REMOVE] = 2,    [LOY_TX_MEMBER_PROPOSE] = 4,
    [LOY_TX_MEMBER_VOTE] = 2,        [LOY_TX_RULE_SET] = 5,
    [LOY_TX_PARTNERSHIP_CREATE] = 7, [LOY_TX_PARTNERSHIP_JOIN] = 2,
    [LOY_TX_PARTNERSHIP_LEAVE] = 2,  [LOY_TX_REWARD_ISSUE] = 5,
    [LOY_TX_REWARD_REVERSE] = 3,     [LOY_TX_REDEEM] = 4,
    [LOY_TX_TRANSFER] = 4,           [LOY_TX_COUPON_ISSUE] = 7,
    [LOY_TX_COUPON_REDEEM] = 7,      [LOY_TX_SETTLE] = 4,
};

static int decode_tx(const msgpack_object *root, void *out)
{
	struct loy_tx *tx = out;
	struct loy_r r, body;
	uint64_t version, kind;

	loy_r_open(&r, root, 7, 7);
	version = loy_r_u64(&r, 0, UINT64_MAX);
	if (r.err == 0 && version != LOY_WIRE_VERSION)
		return LOY_EVERSION;
	kind = loy_r_u64(&r, 0, UINT64_MAX);
	if (r.err == 0 && (kind < 1 || kind > LOY_TX_KIND_MAX))
		return LOY_EKIND;
	tx->kind = (uint8_t)kind;
	loy_r_str(&r, tx->chain_id, sizeof tx->chain_id);
	if (r.err == 0 && tx->chain_id[0] == '\0')
		loy_r_fail(&r, LOY_ERANGE);
	loy_r_bin_fixed(&r, tx->signer, LOY_PUBKEY_SIZE);
	tx->nonce = loy_r_u64(&r, 1, UINT64_MAX);
	loy_r_array(&r, &body, body_fields[kind], body_fields[kind]);
	if (r.err != 0)
		return r.err;
	decode_body(&body, tx);
	if (loy_r_end(&body) != 0)
		return body.err;
	loy_r_bin_fixed(&r, tx->sig, LOY_SIG_SIZE);
	return loy_r_end(&r);
}

/* Depth: tx, body, coupon list, coupon. Items: a full coupon batch plus the
 * fixed fields. */
static const struct loy_codec tx_codec = {
    .limits = {LOY_MAX_TX_BYTES, 4, 3 * LOY_MAX_COUPONS_PER_ISSUE + 64},
    .out_size = sizeof(struct loy_tx),
    .decode = decode_tx,
    .encode = encode_tx,
    .free_fn = free_tx,
};

int loy_tx_encode(const struct loy_tx *tx, struct loy_buf *out)
{
	int rv = loy_encode_with(&tx_codec, tx, out);

	if (rv == 0 && out->len > LOY_MAX_TX_BYTES) {
		loy_buf_free(out);
		return LOY_ETOOBIG;
	}
	return rv;
}

int loy_tx_decode(struct loy_tx *tx, const uint8_t *data, size_t len)
{
	return loy_decode_canonical(&tx_codec, data, len, tx);
}

int loy_tx_signing_bytes(const struct loy_tx *tx, struct loy_buf *out)
{
	int rv = loy_tx_encode(tx, out);

	if (rv == 0)
		out->len -= SIG_FIELD_BYTES;
	return rv;
}

int loy_tx_sign(struct loy_tx *tx, const uint8_t sk[LOY_SECKEY_SIZE])
{
	struct loy_buf b;
	int rv;

	loy_seckey_pubkey(tx->signer, sk);
	rv = loy_tx_signing_bytes(tx, &b);
	if (rv != 0)
		return rv;
	loy_sign(tx->sig, LOY_DOMAIN_TX, tx->chain_id, b.data, b.len, sk);
	loy_buf_free(&b);
	return 0;
}

int loy_tx_verify(const struct loy_tx *tx)
{
	struct loy_buf b;
	int rv = loy_tx_signing_bytes(tx, &b);

	if (rv != 0)
		return rv;
	rv = loy_verify(tx->sig, LOY_DOMAIN_TX, tx->chain_id, b.data, b.len,
			tx->signer);
	loy_buf_free(&b);
	return rv;
}

int loy_tx_verify_encoded(const struct loy_tx *tx, const uint8_t *data,
			  size_t len)
{
	if (len <= SIG_FIELD_BYTES)
		return LOY_EMALFORMED;
	return loy_verify(tx->sig, LOY_DOMAIN_TX, tx->chain_id, data,
			  len - SIG_FIELD_BYTES, tx->signer);
}

void loy_tx_hash(uint8_t out[LOY_HASH_SIZE], const uint8_t *data, size_t len)
{
	loy_hash(out, data, len);
}

void loy_tx_signer_id(const struct loy_tx *tx, uint8_t id[LOY_ID_SIZE])
{
	loy_id_from_pubkey(id, tx->signer);
}
