/* Transactions to JSON for clients, events and the CLI. */
#include "ledger/txjson.h"

#include <string.h>

#include "wire/error.h"

void loy_hex(char *out, const uint8_t *p, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[p[i] >> 4];
		out[2 * i + 1] = hx[p[i] & 15];
	}
	out[2 * n] = '\0';
}

int loy_unhex(uint8_t *out, size_t n, const char *hex)
{
	if (strlen(hex) != 2 * n)
		return LOY_EINVAL;
	for (size_t i = 0; i < 2 * n; i++) {
		char c = hex[i];
		unsigned v;
		if (c >= '0' && c <= '9')
			v = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v = (unsigned)(c - 'A' + 10);
		else
			return LOY_EINVAL;
		if (i % 2 == 0)
			out[i / 2] = (uint8_t)(v << 4);
		else
			out[i / 2] |= (uint8_t)v;
	}
	return 0;
}

static void set_hex(json_t *o, const char *k, const uint8_t *p, size_t n)
{
	char buf[2 * 64 + 1];
	loy_hex(buf, p, n);
	json_object_set_new(o, k, json_string(buf));
}

static void set_id(json_t *o, const char *k, const uint8_t id[LOY_ID_SIZE])
{
	char s[LOY_ID_STR_SIZE];
	loy_id_format(s, id);
	json_object_set_new(o, k, json_string(s));
}

static void set_u64(json_t *o, const char *k, uint64_t v)
{
	json_object_set_new(o, k, json_integer((json_int_t)v));
}

static void set_str(json_t *o, const char *k, const char *v)
{
	json_object_set_new(o, k, json_string(v));
}

static void set_pubkey_id(json_t *o, const char *k,
			  const uint8_t pk[LOY_PUBKEY_SIZE])
{
	uint8_t id[LOY_ID_SIZE];
	loy_id_from_pubkey(id, pk);
	set_id(o, k, id);
}

json_t *loy_tx_json(const struct loy_tx *tx)
{
	json_t *o = json_object();
	const char *name = loy_tx_kind_name(tx->kind);

	if (o == NULL)
		return NULL;
	set_str(o, "kind", name ? name : "unknown");
	set_pubkey_id(o, "signer", tx->signer);
	set_u64(o, "nonce", tx->nonce);
	switch (tx->kind) {
	case LOY_TX_CUSTOMER_REGISTER:
		set_str(o, "memo", tx->u.customer_register.memo);
		break;
	case LOY_TX_TERMINAL_ADD:
	case LOY_TX_TERMINAL_REMOVE:
		set_pubkey_id(o, "terminal", tx->u.terminal.terminal);
		set_str(o, "label", tx->u.terminal.label);
		break;
	case LOY_TX_MEMBER_PROPOSE:
		set_str(o, "action",
			tx->u.member_propose.action == LOY_MEMBER_ADMIT
			    ? "admit"
			    : "remove");
		set_pubkey_id(o, "member", tx->u.member_propose.member);
		set_hex(o, "validator_key", tx->u.member_propose.member,
			LOY_PUBKEY_SIZE);
		set_str(o, "name", tx->u.member_propose.name);
		set_str(o, "address", tx->u.member_propose.address);
		break;
	case LOY_TX_MEMBER_VOTE:
		set_hex(o, "proposal", tx->u.member_vote.proposal,
			LOY_HASH_SIZE);
		json_object_set_new(o, "approve",
				    json_boolean(tx->u.member_vote.approve));
		break;
	case LOY_TX_RULE_SET: {
		const struct loy_tx_rule_set *b = &tx->u.rule_set;
		set_u64(o, "rate_num", b->rate_num);
		set_u64(o, "rate_den", b->rate_den);
		set_u64(o, "min_purchase", b->min_purchase);
		set_u64(o, "valid_from_ms", b->valid_from_ms);
		set_u64(o, "valid_until_ms", b->valid_until_ms);
		break;
	}
	case LOY_TX_PARTNERSHIP_CREATE: {
		const struct loy_tx_partnership_create *b =
		    &tx->u.partnership_create;
		set_str(o, "name", b->name);
		set_u64(o, "rate_num", b->rate_num);
		set_u64(o, "rate_den", b->rate_den);
		set_u64(o, "bonus", b->bonus);
		set_u64(o, "min_purchase", b->min_purchase);
		set_u64(o, "valid_from_ms", b->valid_from_ms);
		set_u64(o, "valid_until_ms", b->valid_until_ms);
		break;
	}
	case LOY_TX_PARTNERSHIP_JOIN:
	case LOY_TX_PARTNERSHIP_LEAVE:
		set_str(o, "name", tx->u.partnership_member.name);
		set_id(o, "member", tx->u.partnership_member.member);
		break;
	case LOY_TX_REWARD_ISSUE: {
		const struct loy_tx_reward_issue *b = &tx->u.reward_issue;
		set_id(o, "customer", b->customer);
		set_u64(o, "purchase", b->purchase);
		set_str(o, "partnership", b->partnership);
		set_str(o, "reference", b->reference);
		set_str(o, "reason", b->reason);
		break;
	}
	case LOY_TX_REWARD_REVERSE: {
		const struct loy_tx_reward_reverse *b = &tx->u.reward_reverse;
		set_str(o, "issue_ref", b->issue_ref);
		set_str(o, "reference", b->reference);
		set_str(o, "reason", b->reason);
		break;
	}
	case LOY_TX_REDEEM:
		set_id(o, "member", tx->u.redeem.member);
		set_u64(o, "amount", tx->u.redeem.amount);
		set_str(o, "reference", tx->u.redeem.reference);
		set_str(o, "memo", tx->u.redeem.memo);
		break;
	case LOY_TX_TRANSFER:
		set_id(o, "to", tx->u.transfer.to);
		set_u64(o, "amount", tx->u.transfer.amount);
		set_str(o, "reference", tx->u.transfer.reference);
		set_str(o, "memo", tx->u.transfer.memo);
		break;
	case LOY_TX_COUPON_ISSUE: {
		const struct loy_tx_coupon_issue *b = &tx->u.coupon_issue;
		set_u64(o, "value", b->value);
		set_u64(o, "valid_from_ms", b->valid_from_ms);
		set_u64(o, "valid_until_ms", b->valid_until_ms);
		if (b->has_geofence) {
			json_object_set_new(
			    o, "geofence",
			    json_pack("{s:I, s:I, s:I}", "lat_udeg",
				      (json_int_t)b->center.lat_udeg,
				      "lon_udeg",
				      (json_int_t)b->center.lon_udeg,
				      "radius_m", (json_int_t)b->radius_m));
		}
		set_u64(o, "per_customer_limit", b->per_customer_limit);
		set_u64(o, "coupons", b->coupon_count);
		break;
	}
	case LOY_TX_COUPON_REDEEM: {
		const struct loy_tx_coupon_redeem *b = &tx->u.coupon_redeem;
		set_hex(o, "batch", b->batch, LOY_HASH_SIZE);
		set_u64(o, "index", b->index);
		json_object_set_new(o, "bearer",
				    json_boolean(b->code[0] != '\0'));
		set_id(o, "site", b->site);
		json_object_set_new(o, "lat_udeg",
				    json_integer(b->location.lat_udeg));
		json_object_set_new(o, "lon_udeg",
				    json_integer(b->location.lon_udeg));
		set_str(o, "reference", b->reference);
		break;
	}
	case LOY_TX_SETTLE: {
		static const uint8_t zero[LOY_HASH_SIZE];
		const struct loy_tx_settle *b = &tx->u.settle;
		set_id(o, "counterparty", b->counterparty);
		set_u64(o, "amount", b->amount);
		if (memcmp(b->confirm, zero, LOY_HASH_SIZE) != 0)
			set_hex(o, "confirms", b->confirm, LOY_HASH_SIZE);
		set_str(o, "reference", b->reference);
		break;
	}
	}
	return o;
}

void loy_tx_parties(const struct loy_tx *tx,
		    void (*fn)(void *data, const uint8_t id[LOY_ID_SIZE]),
		    void *data)
{
	uint8_t id[LOY_ID_SIZE];

	loy_tx_signer_id(tx, id);
	fn(data, id);
	switch (tx->kind) {
	case LOY_TX_REWARD_ISSUE:
		fn(data, tx->u.reward_issue.customer);
		break;
	case LOY_TX_REDEEM:
		fn(data, tx->u.redeem.member);
		break;
	case LOY_TX_TRANSFER:
		fn(data, tx->u.transfer.to);
		break;
	case LOY_TX_COUPON_REDEEM:
		fn(data, tx->u.coupon_redeem.site);
		break;
	case LOY_TX_SETTLE:
		fn(data, tx->u.settle.counterparty);
		break;
	case LOY_TX_PARTNERSHIP_JOIN:
	case LOY_TX_PARTNERSHIP_LEAVE:
		fn(data, tx->u.partnership_member.member);
		break;
	case LOY_TX_COUPON_ISSUE:
		for (uint32_t i = 0; i < tx->u.coupon_issue.coupon_count; i++)
			if (tx->u.coupon_issue.coupons[i].holder_kind ==
			    LOY_COUPON_ALLOTTED)
				fn(data, tx->u.coupon_issue.coupons[i].holder);
		break;
	default:
		break;
	}
}
