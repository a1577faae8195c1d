/* Sample transactions of every kind, shared by the tx codec tests and the
 * golden-vector generator. Header-only so each test binary gets its own. */
#ifndef LOY_TESTS_TX_SAMPLES_H
#define LOY_TESTS_TX_SAMPLES_H

#include <stdlib.h>
#include <string.h>

#include "wire/tx.h"

static inline void sample_key(uint8_t pk[LOY_PUBKEY_SIZE],
			      uint8_t sk[LOY_SECKEY_SIZE], uint8_t b)
{
	uint8_t seed[LOY_SEED_SIZE];
	for (int i = 0; i < LOY_SEED_SIZE; i++)
		seed[i] = (uint8_t)(b + i);
	loy_keypair_from_seed(pk, sk, seed);
}

static inline void sample_id(uint8_t id[LOY_ID_SIZE], uint8_t b)
{
	for (int i = 0; i < LOY_ID_SIZE; i++)
		id[i] = (uint8_t)(b * 3 + i);
}

/* Fills tx with a fixed sample of the given kind (unsigned). */
static inline void sample_tx(struct loy_tx *tx, unsigned kind)
{
	memset(tx, 0, sizeof *tx);
	tx->kind = (uint8_t)kind;
	strcpy(tx->chain_id, "loyalty-test");
	tx->nonce = 7;
	switch (kind) {
	case LOY_TX_CUSTOMER_REGISTER:
		strcpy(tx->u.customer_register.memo, "web sign-up");
		break;
	case LOY_TX_TERMINAL_ADD:
	case LOY_TX_TERMINAL_REMOVE:
		memset(tx->u.terminal.terminal, 0x42, LOY_PUBKEY_SIZE);
		strcpy(tx->u.terminal.label, "till 3");
		break;
	case LOY_TX_MEMBER_PROPOSE:
		tx->u.member_propose.action = LOY_MEMBER_ADMIT;
		memset(tx->u.member_propose.member, 0x43, LOY_PUBKEY_SIZE);
		strcpy(tx->u.member_propose.name, "Bakery Ltd");
		strcpy(tx->u.member_propose.address, "127.0.0.1:7105");
		break;
	case LOY_TX_MEMBER_VOTE:
		memset(tx->u.member_vote.proposal, 0x44, LOY_HASH_SIZE);
		tx->u.member_vote.approve = true;
		break;
	case LOY_TX_RULE_SET:
		tx->u.rule_set = (struct loy_tx_rule_set){1, 10, 5, 1000, 0};
		break;
	case LOY_TX_PARTNERSHIP_CREATE:
		strcpy(tx->u.partnership_create.name, "city-centre");
		tx->u.partnership_create.rate_num = 2;
		tx->u.partnership_create.rate_den = 10;
		tx->u.partnership_create.bonus = 50;
		tx->u.partnership_create.min_purchase = 20;
		tx->u.partnership_create.valid_until_ms = 1900000000000;
		break;
	case LOY_TX_PARTNERSHIP_JOIN:
	case LOY_TX_PARTNERSHIP_LEAVE:
		strcpy(tx->u.partnership_member.name, "city-centre");
		sample_id(tx->u.partnership_member.member, 5);
		break;
	case LOY_TX_REWARD_ISSUE:
		sample_id(tx->u.reward_issue.customer, 1);
		tx->u.reward_issue.purchase = 100;
		strcpy(tx->u.reward_issue.reference, "receipt-0001");
		strcpy(tx->u.reward_issue.reason, "purchase");
		break;
	case LOY_TX_REWARD_REVERSE:
		strcpy(tx->u.reward_reverse.issue_ref, "receipt-0001");
		strcpy(tx->u.reward_reverse.reference, "refund-0001");
		strcpy(tx->u.reward_reverse.reason, "returned goods");
		break;
	case LOY_TX_REDEEM:
		sample_id(tx->u.redeem.member, 2);
		tx->u.redeem.amount = 60;
		strcpy(tx->u.redeem.reference, "pos-77-0001");
		strcpy(tx->u.redeem.memo, "discount");
		break;
	case LOY_TX_TRANSFER:
		sample_id(tx->u.transfer.to, 3);
		tx->u.transfer.amount = 300000;
		strcpy(tx->u.transfer.reference, "gift");
		break;
	case LOY_TX_COUPON_ISSUE: {
		struct loy_tx_coupon_issue *c = &tx->u.coupon_issue;
		c->value = 10;
		c->valid_from_ms = 1800000000000;
		c->valid_until_ms = 1800086400000;
		c->has_geofence = true;
		c->center = (struct loy_geo){48856613, 2352222};
		c->radius_m = 500;
		c->per_customer_limit = 1;
		c->site_count = 1;
		sample_id(c->sites[0], 2);
		c->coupon_count = 2;
		c->coupons = calloc(2, sizeof *c->coupons);
		c->coupons[0].holder_kind = LOY_COUPON_ALLOTTED;
		sample_id(c->coupons[0].holder, 1);
		c->coupons[1].holder_kind = LOY_COUPON_BEARER;
		loy_hash(c->coupons[1].holder, "SECRET-CODE", 11);
		break;
	}
	case LOY_TX_COUPON_REDEEM:
		memset(tx->u.coupon_redeem.batch, 0x46, LOY_HASH_SIZE);
		tx->u.coupon_redeem.index = 1;
		strcpy(tx->u.coupon_redeem.code, "SECRET-CODE");
		sample_id(tx->u.coupon_redeem.site, 2);
		tx->u.coupon_redeem.location =
		    (struct loy_geo){-33868820, 151209296};
		strcpy(tx->u.coupon_redeem.reference, "pos-9");
		break;
	case LOY_TX_SETTLE:
		sample_id(tx->u.settle.counterparty, 2);
		tx->u.settle.amount = 60;
		strcpy(tx->u.settle.reference, "wire-2026-11-23");
		break;
	}
}

#endif
