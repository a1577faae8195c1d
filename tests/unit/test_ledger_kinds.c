/* Every transaction kind: success, and each rejection reason. */
#include "tests/unit/test_ledger_fix.h"

#define M0 0
#define M1 1
#define C  100
#define C2 101
#define T  300

#define EXPECT(f, tx, k, code) assert_int_equal(fx_one((f), (tx), (k)), (code))

static void test_customer_register(void **state)
{
	struct fx *f = fx_new(1, 0);
	struct loy_tx tx;
	(void)state;
	fx_register(f, C);
	fx_tx(f, &tx, LOY_TX_CUSTOMER_REGISTER, C);
	EXPECT(f, &tx, C, LOY_REJ_ALREADY_REGISTERED);
	fx_tx(f, &tx, LOY_TX_CUSTOMER_REGISTER, M0); /* a member's key */
	EXPECT(f, &tx, M0, LOY_REJ_ALREADY_REGISTERED);
	fx_invariants(f);
	fx_free(f);
}

static void terminal_tx(struct fx *f, struct loy_tx *tx, unsigned kind,
			unsigned by, unsigned term)
{
	fx_tx(f, tx, kind, by);
	memcpy(tx->u.terminal.terminal, fx_key(f, term)->pk, 32);
}

static void test_terminals(void **state)
{
	struct fx *f = fx_new(2, 0);
	struct loy_tx tx;
	(void)state;
	fx_register(f, C);
	fx_rule(f, M0, 1, 1, 0);
	terminal_tx(f, &tx, LOY_TX_TERMINAL_ADD, M0, T);
	EXPECT(f, &tx, M0, 0);
	/* the terminal issues for its member */
	assert_int_equal(fx_issue(f, T, C, 50, "t1", "buy", NULL), 0);
	struct loy_settlement s;
	assert_int_equal(loy_ledger_settlement(f->l, fx_key(f, M0)->id, &s), 0);
	assert_int_equal(s.issued, 50);
	terminal_tx(f, &tx, LOY_TX_TERMINAL_ADD, M0, T);
	EXPECT(f, &tx, M0, LOY_REJ_TERMINAL_EXISTS);
	terminal_tx(f, &tx, LOY_TX_TERMINAL_ADD, M1, T);
	EXPECT(f, &tx, M1, LOY_REJ_TERMINAL_EXISTS);
	terminal_tx(f, &tx, LOY_TX_TERMINAL_ADD, M0, C);
	EXPECT(f, &tx, M0, LOY_REJ_ALREADY_REGISTERED);
	terminal_tx(f, &tx, LOY_TX_TERMINAL_ADD, C, T + 1); /* a customer */
	EXPECT(f, &tx, C, LOY_REJ_NOT_AUTHORIZED);
	terminal_tx(f, &tx, LOY_TX_TERMINAL_ADD, T, T + 1); /* a terminal */
	EXPECT(f, &tx, T, LOY_REJ_NOT_AUTHORIZED);
	terminal_tx(f, &tx, LOY_TX_TERMINAL_REMOVE, M1, T); /* not M1's */
	EXPECT(f, &tx, M1, LOY_REJ_UNKNOWN_TERMINAL);
	terminal_tx(f, &tx, LOY_TX_TERMINAL_REMOVE, M0, T);
	EXPECT(f, &tx, M0, 0);
	terminal_tx(f, &tx, LOY_TX_TERMINAL_REMOVE, M0, T);
	EXPECT(f, &tx, M0, LOY_REJ_UNKNOWN_TERMINAL);
	/* a removed terminal can no longer issue */
	assert_int_equal(fx_issue(f, T, C, 50, "t2", "buy", NULL),
			 LOY_REJ_NOT_AUTHORIZED);
	fx_invariants(f);
	fx_free(f);
}

static void propose(struct fx *f, struct loy_tx *tx, unsigned by,
		    unsigned action, unsigned who)
{
	fx_tx(f, tx, LOY_TX_MEMBER_PROPOSE, by);
	tx->u.member_propose.action = (uint8_t)action;
	memcpy(tx->u.member_propose.member, fx_key(f, who)->pk, 32);
	if (action == LOY_MEMBER_ADMIT) {
		snprintf(tx->u.member_propose.name, 16, "New %u", who);
		snprintf(tx->u.member_propose.address, 32, "10.0.0.%u:7100",
			 who);
	}
}

static int vote(struct fx *f, unsigned by, const uint8_t prop[32], bool yes)
{
	struct loy_tx tx;
	fx_tx(f, &tx, LOY_TX_MEMBER_VOTE, by);
	memcpy(tx.u.member_vote.proposal, prop, 32);
	tx.u.member_vote.approve = yes;
	return fx_one(f, &tx, by);
}

static void test_membership_votes_change_validator_set(void **state)
{
	struct fx *f = fx_new(4, 0);
	struct loy_tx tx;
	struct loy_buf b;
	uint8_t prop[32], keys[LOY_MAX_VALIDATORS][32], zero[32] = {0};
	uint32_t n;
	uint64_t h;
	(void)state;
	/* admit key 4: proposer + 2 votes of 4 = 3 >= 2/3 * 4 */
	propose(f, &tx, M0, LOY_MEMBER_ADMIT, 4);
	fx_enc(f, &tx, M0, &b);
	loy_tx_hash(prop, b.data, b.len);
	assert_int_equal(fx_commit(f, &b, 1), 0);
	assert_int_equal(f->res[0].code, 0);
	assert_int_equal(vote(f, M0, prop, true), LOY_REJ_ALREADY_VOTED);
	assert_int_equal(vote(f, 2, prop, false), 0);
	assert_int_equal(vote(f, M1, prop, true), 0);
	assert_int_equal(loy_ledger_tip(f->l, &h, NULL, NULL, NULL), 0);
	assert_int_equal(loy_ledger_validators(f->l, h + 1, keys, &n), 0);
	assert_int_equal(n, 4); /* 2 yes of 4: not yet */
	assert_int_equal(vote(f, 3, prop, true), 0);
	assert_int_equal(loy_ledger_tip(f->l, &h, NULL, NULL, NULL), 0);
	assert_int_equal(loy_ledger_validators(f->l, h, keys, &n), 0);
	assert_int_equal(n, 4); /* the block that passed it: old set */
	assert_int_equal(loy_ledger_validators(f->l, h + 1, keys, &n), 0);
	assert_int_equal(n, 5); /* from the next height on */
	assert_int_equal(vote(f, 2, prop, true), LOY_REJ_PROPOSAL_CLOSED);
	assert_int_equal(vote(f, M1, zero, true), LOY_REJ_UNKNOWN_PROPOSAL);
	/* the new member signs certificates now (fx_commit uses the set) */
	fx_register(f, C);
	propose(f, &tx, M0, LOY_MEMBER_ADMIT, 4);
	EXPECT(f, &tx, M0, LOY_REJ_MEMBER_EXISTS);
	propose(f, &tx, M0, LOY_MEMBER_ADMIT, C);
	EXPECT(f, &tx, M0, LOY_REJ_ALREADY_REGISTERED);
	propose(f, &tx, C, LOY_MEMBER_ADMIT, 5);
	EXPECT(f, &tx, C, LOY_REJ_NOT_AUTHORIZED);
	propose(f, &tx, M0, LOY_MEMBER_ADMIT, 5);
	tx.u.member_propose.name[0] = '\0';
	EXPECT(f, &tx, M0, LOY_REJ_INVALID_PARAM);
	propose(f, &tx, M0, LOY_MEMBER_REMOVE, 6);
	EXPECT(f, &tx, M0, LOY_REJ_UNKNOWN_MEMBER);
	/* remove key 4: needs 4 of 5 (4*3 >= 10) */
	propose(f, &tx, M0, LOY_MEMBER_REMOVE, 4);
	fx_enc(f, &tx, M0, &b);
	loy_tx_hash(prop, b.data, b.len);
	assert_int_equal(fx_commit(f, &b, 1), 0);
	assert_int_equal(vote(f, M1, prop, true), 0);
	assert_int_equal(vote(f, 2, prop, true), 0);
	assert_int_equal(loy_ledger_tip(f->l, &h, NULL, NULL, NULL), 0);
	assert_int_equal(loy_ledger_validators(f->l, h + 1, keys, &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(vote(f, 3, prop, true), 0);
	assert_int_equal(loy_ledger_tip(f->l, &h, NULL, NULL, NULL), 0);
	assert_int_equal(loy_ledger_validators(f->l, h + 1, keys, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(vote(f, 4, prop, true), LOY_REJ_NOT_AUTHORIZED);
	assert_int_equal(vote(f, M1, prop, true), LOY_REJ_PROPOSAL_CLOSED);
	fx_invariants(f);
	fx_free(f);
}

static void test_rules_and_reward_issue(void **state)
{
	struct fx *f = fx_new(2, 0);
	struct loy_tx tx;
	(void)state;
	fx_register(f, C);
	assert_int_equal(fx_issue(f, M0, C, 100, "a", "buy", NULL),
			 LOY_REJ_NO_RULE);
	fx_tx(f, &tx, LOY_TX_RULE_SET, M0);
	tx.u.rule_set.rate_num = 1;
	EXPECT(f, &tx, M0, LOY_REJ_INVALID_PARAM); /* den 0 */
	fx_tx(f, &tx, LOY_TX_RULE_SET, M0);
	tx.u.rule_set.rate_num = 1;
	tx.u.rule_set.rate_den = 1;
	tx.u.rule_set.valid_from_ms = 10;
	tx.u.rule_set.valid_until_ms = 5;
	EXPECT(f, &tx, M0, LOY_REJ_INVALID_PARAM);
	fx_tx(f, &tx, LOY_TX_RULE_SET, C);
	tx.u.rule_set.rate_num = 1;
	tx.u.rule_set.rate_den = 1;
	EXPECT(f, &tx, C, LOY_REJ_NOT_AUTHORIZED);
	/* 3 points per 2 spent, minimum 20, window from now + 1 s */
	fx_tx(f, &tx, LOY_TX_RULE_SET, M0);
	tx.u.rule_set.rate_num = 3;
	tx.u.rule_set.rate_den = 2;
	tx.u.rule_set.min_purchase = 20;
	tx.u.rule_set.valid_from_ms = f->time_ms + 1000;
	EXPECT(f, &tx, M0, 0);
	assert_int_equal(fx_issue(f, M0, C, 100, "a", "buy", NULL),
			 LOY_REJ_OUTSIDE_WINDOW);
	f->time_ms += 1000;
	assert_int_equal(fx_issue(f, M0, C, 19, "a", "buy", NULL),
			 LOY_REJ_BELOW_MINIMUM);
	assert_int_equal(fx_issue(f, M0, C, 0, "a", "buy", NULL),
			 LOY_REJ_ZERO_AMOUNT);
	assert_int_equal(fx_issue(f, M0, C2, 50, "a", "buy", NULL),
			 LOY_REJ_UNKNOWN_CUSTOMER);
	assert_int_equal(fx_issue(f, M0, C, 50, "", "buy", NULL),
			 LOY_REJ_MISSING_REFERENCE);
	assert_int_equal(fx_issue(f, C, C, 50, "a", "buy", NULL),
			 LOY_REJ_NOT_AUTHORIZED);
	assert_int_equal(fx_issue(f, M0, C, 51, "a", "buy", NULL), 0);
	assert_int_equal(fx_balance(f, C), 76);
	/* a retried submission with the same reference never earns twice */
	assert_int_equal(fx_issue(f, M0, C, 51, "a", "buy", NULL),
			 LOY_REJ_DUPLICATE_REFERENCE);
	/* references are per member */
	fx_rule(f, M1, 1, 1, 0);
	assert_int_equal(fx_issue(f, M1, C, 10, "a", "buy", NULL), 0);
	/* top-up: 1:1 regardless of the rule */
	assert_int_equal(fx_issue(f, M0, C, 7, "top", "topup", NULL), 0);
	assert_int_equal(fx_balance(f, C), 76 + 10 + 7);
	/* overflow */
	fx_rule(f, M1, UINT64_MAX, 1, 0);
	assert_int_equal(fx_issue(f, M1, C, 3, "o", "buy", NULL),
			 LOY_REJ_OVERFLOW);
	fx_rule(f, M1, 1, 1000, 0);
	assert_int_equal(fx_issue(f, M1, C, 3, "z", "buy", NULL),
			 LOY_REJ_NO_POINTS);
	assert_int_equal(fx_issue(f, M0, C, UINT64_MAX, "big", "topup", NULL),
			 LOY_REJ_OVERFLOW);
	fx_invariants(f);
	fx_free(f);
}

static void part_tx(struct fx *f, struct loy_tx *tx, unsigned kind, unsigned by,
		    unsigned member)
{
	fx_tx(f, tx, kind, by);
	snprintf(tx->u.partnership_member.name, 16, "mall");
	memcpy(tx->u.partnership_member.member, fx_key(f, member)->id, 20);
}

static void test_partnerships(void **state)
{
	struct fx *f = fx_new(3, 0);
	struct loy_tx tx;
	struct loy_partnership_info pi;
	(void)state;
	fx_register(f, C);
	fx_tx(f, &tx, LOY_TX_PARTNERSHIP_CREATE, M0);
	snprintf(tx.u.partnership_create.name, 16, "mall");
	tx.u.partnership_create.rate_num = 2;
	tx.u.partnership_create.rate_den = 1;
	tx.u.partnership_create.bonus = 5;
	tx.u.partnership_create.min_purchase = 10;
	struct loy_tx again = tx;
	EXPECT(f, &tx, M0, 0);
	again.nonce = fx_key(f, M0)->nonce + 1;
	EXPECT(f, &again, M0, LOY_REJ_PARTNERSHIP_EXISTS);
	fx_tx(f, &tx, LOY_TX_PARTNERSHIP_CREATE, M1);
	EXPECT(f, &tx, M1, LOY_REJ_INVALID_PARAM); /* no name */
	/* M1 earns through it only once requested and approved */
	struct loy_tx_reward_issue *ri;
	fx_tx(f, &tx, LOY_TX_REWARD_ISSUE, M1);
	ri = &tx.u.reward_issue;
	memcpy(ri->customer, fx_key(f, C)->id, 20);
	ri->purchase = 10;
	snprintf(ri->partnership, 8, "mall");
	snprintf(ri->reference, 8, "p1");
	struct loy_tx issue = tx;
	EXPECT(f, &tx, M1, LOY_REJ_NOT_PARTNER);
	part_tx(f, &tx, LOY_TX_PARTNERSHIP_JOIN, M1, M1);
	EXPECT(f, &tx, M1, 0);
	part_tx(f, &tx, LOY_TX_PARTNERSHIP_JOIN, M1, M1);
	EXPECT(f, &tx, M1, LOY_REJ_ALREADY_PARTNER);
	part_tx(f, &tx, LOY_TX_PARTNERSHIP_JOIN, M1, 2); /* not the creator */
	EXPECT(f, &tx, M1, LOY_REJ_NOT_AUTHORIZED);
	part_tx(f, &tx, LOY_TX_PARTNERSHIP_JOIN, M0, M1);
	EXPECT(f, &tx, M0, 0);
	part_tx(f, &tx, LOY_TX_PARTNERSHIP_JOIN, M0, 50); /* not a member */
	EXPECT(f, &tx, M0, LOY_REJ_UNKNOWN_MEMBER);
	part_tx(f, &tx, LOY_TX_PARTNERSHIP_JOIN, M0, M1);
	snprintf(tx.u.partnership_member.name, 16, "nope");
	EXPECT(f, &tx, M0, LOY_REJ_UNKNOWN_PARTNERSHIP);
	assert_int_equal(loy_ledger_partnership(f->l, "mall", &pi), 0);
	assert_int_equal(pi.member_count, 2);
	issue.nonce = fx_key(f, M1)->nonce + 1;
	EXPECT(f, &issue, M1, 0);
	assert_int_equal(fx_balance(f, C), 25); /* 10 * 2 + 5 */
	part_tx(f, &tx, LOY_TX_PARTNERSHIP_LEAVE, M0, M0);
	EXPECT(f, &tx, M0, LOY_REJ_INVALID_PARAM); /* the creator */
	part_tx(f, &tx, LOY_TX_PARTNERSHIP_LEAVE, M0, M1);
	EXPECT(f, &tx, M0, LOY_REJ_NOT_AUTHORIZED);
	part_tx(f, &tx, LOY_TX_PARTNERSHIP_LEAVE, 2, 2);
	EXPECT(f, &tx, 2, LOY_REJ_NOT_PARTNER);
	part_tx(f, &tx, LOY_TX_PARTNERSHIP_LEAVE, M1, M1);
	EXPECT(f, &tx, M1, 0);
	fx_invariants(f);
	fx_free(f);
}

static int reverse(struct fx *f, unsigned by, const char *issue,
		   const char *ref)
{
	struct loy_tx tx;
	fx_tx(f, &tx, LOY_TX_REWARD_REVERSE, by);
	snprintf(tx.u.reward_reverse.issue_ref, 16, "%s", issue);
	snprintf(tx.u.reward_reverse.reference, 16, "%s", ref);
	return fx_one(f, &tx, by);
}

static void test_reverse(void **state)
{
	struct fx *f = fx_new(2, 0);
	(void)state;
	fx_register(f, C);
	fx_rule(f, M0, 1, 1, 0);
	fx_rule(f, M1, 1, 1, 0);
	assert_int_equal(fx_issue(f, M0, C, 100, "s1", "buy", NULL), 0);
	assert_int_equal(fx_issue(f, M0, C, 30, "s2", "buy", NULL), 0);
	assert_int_equal(fx_redeem(f, C, M1, 60, "x"), 0);
	assert_int_equal(fx_issue(f, M1, C, 5, "m1", "buy", NULL), 0);
	/* a reference names only the signer's own issue */
	assert_int_equal(reverse(f, M1, "s1", "r"), LOY_REJ_UNKNOWN_ISSUE);
	assert_int_equal(reverse(f, M0, "m1", "r"), LOY_REJ_UNKNOWN_ISSUE);
	assert_int_equal(reverse(f, M0, "nope", "r"), LOY_REJ_UNKNOWN_ISSUE);
	assert_int_equal(reverse(f, M0, "", "r"), LOY_REJ_UNKNOWN_ISSUE);
	/* 70 of M0's points left: reversing the 100 would go below zero */
	assert_int_equal(reverse(f, M0, "s1", "r"), LOY_REJ_POINTS_SPENT);
	assert_int_equal(reverse(f, M0, "s2", "s1"),
			 LOY_REJ_DUPLICATE_REFERENCE);
	assert_int_equal(reverse(f, M0, "s2", "r"), 0);
	assert_int_equal(fx_balance(f, C), 45);
	assert_int_equal(reverse(f, M0, "s2", "r2"), LOY_REJ_ALREADY_REVERSED);
	/* a reversal's own reference is not an issue */
	assert_int_equal(reverse(f, M0, "r", "r3"), LOY_REJ_UNKNOWN_ISSUE);
	assert_int_equal(reverse(f, M1, "m1", "mr"), 0);
	assert_int_equal(fx_balance(f, C), 40);
	fx_invariants(f);
	fx_free(f);
}

static void test_redeem_and_transfer(void **state)
{
	struct fx *f = fx_new(2, 0);
	struct loy_tx tx;
	(void)state;
	fx_register(f, C);
	fx_register(f, C2);
	fx_rule(f, M0, 1, 1, 0);
	assert_int_equal(fx_issue(f, M0, C, 100, "s1", "buy", NULL), 0);
	assert_int_equal(fx_redeem(f, C, M1, 0, "a"), LOY_REJ_ZERO_AMOUNT);
	assert_int_equal(fx_redeem(f, C, 60, 10, "a"), LOY_REJ_UNKNOWN_MEMBER);
	assert_int_equal(fx_redeem(f, C, M1, 101, "a"),
			 LOY_REJ_INSUFFICIENT_POINTS);
	assert_int_equal(fx_redeem(f, C, M1, 10, ""),
			 LOY_REJ_MISSING_REFERENCE);
	assert_int_equal(fx_redeem(f, M0, M1, 10, "a"), LOY_REJ_NOT_AUTHORIZED);
	assert_int_equal(fx_redeem(f, C, M1, 10, "a"), 0);
	assert_int_equal(fx_redeem(f, C, M1, 10, "a"),
			 LOY_REJ_DUPLICATE_REFERENCE);
	fx_tx(f, &tx, LOY_TX_TRANSFER, C);
	memcpy(tx.u.transfer.to, fx_key(f, C2)->id, 20);
	tx.u.transfer.amount = 50;
	snprintf(tx.u.transfer.reference, 8, "t1");
	struct loy_tx t2 = tx;
	EXPECT(f, &tx, C, 0);
	t2.nonce = fx_key(f, C)->nonce + 1;
	t2.u.transfer.amount = 41;
	snprintf(t2.u.transfer.reference, 8, "t2");
	struct loy_tx t3 = t2;
	EXPECT(f, &t2, C, LOY_REJ_INSUFFICIENT_POINTS);
	t3.nonce = fx_key(f, C)->nonce + 1;
	memcpy(t3.u.transfer.to, fx_key(f, C)->id, 20);
	t3.u.transfer.amount = 1;
	struct loy_tx t4 = t3;
	EXPECT(f, &t3, C, LOY_REJ_INVALID_PARAM); /* to oneself */
	t4.nonce = fx_key(f, C)->nonce + 1;
	memcpy(t4.u.transfer.to, fx_key(f, 150)->id, 20);
	EXPECT(f, &t4, C, LOY_REJ_UNKNOWN_CUSTOMER);
	assert_int_equal(fx_balance(f, C), 40);
	assert_int_equal(fx_balance(f, C2), 50);
	/* the recipient spends points that M0 issued */
	assert_int_equal(fx_redeem(f, C2, M1, 50, "c2"), 0);
	struct loy_settlement s;
	assert_int_equal(loy_ledger_settlement(f->l, fx_key(f, M0)->id, &s), 0);
	assert_int_equal(s.outstanding, 40);
	fx_invariants(f);
	fx_free(f);
}

static int settle(struct fx *f, unsigned by, unsigned cp, uint64_t amount,
		  const uint8_t *confirm, const char *ref, uint8_t *hash)
{
	struct loy_tx tx;
	struct loy_buf b;
	fx_tx(f, &tx, LOY_TX_SETTLE, by);
	memcpy(tx.u.settle.counterparty, fx_key(f, cp)->id, 20);
	tx.u.settle.amount = amount;
	if (confirm)
		memcpy(tx.u.settle.confirm, confirm, 32);
	snprintf(tx.u.settle.reference, 16, "%s", ref);
	fx_enc(f, &tx, by, &b);
	if (hash)
		loy_tx_hash(hash, b.data, b.len);
	assert_int_equal(fx_commit(f, &b, 1), 0);
	return f->res[0].code;
}

static void test_settle(void **state)
{
	struct fx *f = fx_new(3, 0);
	uint8_t claim[32], other[32], zero[32] = {0};
	struct loy_settlement a, b;
	(void)state;
	fx_register(f, C);
	fx_rule(f, M0, 1, 1, 0);
	assert_int_equal(fx_issue(f, M0, C, 100, "s", "buy", NULL), 0);
	assert_int_equal(fx_redeem(f, C, M1, 60, "r"), 0);
	/* A owes 60 to B */
	assert_int_equal(settle(f, M0, M1, 0, NULL, "z", NULL),
			 LOY_REJ_ZERO_AMOUNT);
	assert_int_equal(settle(f, M0, M0, 10, NULL, "z", NULL),
			 LOY_REJ_INVALID_PARAM);
	assert_int_equal(settle(f, M0, 60, 10, NULL, "z", NULL),
			 LOY_REJ_UNKNOWN_MEMBER);
	assert_int_equal(settle(f, C, M1, 10, NULL, "z", NULL),
			 LOY_REJ_NOT_AUTHORIZED);
	assert_int_equal(settle(f, M0, M1, 61, NULL, "z", NULL),
			 LOY_REJ_EXCEEDS_POSITION);
	assert_int_equal(settle(f, M1, M0, 10, NULL, "z", NULL),
			 LOY_REJ_EXCEEDS_POSITION); /* B owes nothing */
	assert_int_equal(settle(f, M0, M1, 50, NULL, "pay1", claim), 0);
	assert_int_equal(settle(f, M0, M1, 5, NULL, "pay2", other), 0);
	/* nothing moves until the counterparty confirms */
	assert_int_equal(loy_ledger_settlement(f->l, fx_key(f, M0)->id, &a), 0);
	assert_int_equal(a.net, -100);
	assert_int_equal(
	    settle(f, M1, M0, 50, zero + 0, "c0", NULL),
	    LOY_REJ_EXCEEDS_POSITION); /* zero = a new claim by B */
	uint8_t bogus[32] = {1};
	assert_int_equal(settle(f, M1, M0, 50, bogus, "c1", NULL),
			 LOY_REJ_UNKNOWN_SETTLEMENT);
	assert_int_equal(settle(f, M1, M0, 49, claim, "c1", NULL),
			 LOY_REJ_SETTLEMENT_MISMATCH);
	assert_int_equal(settle(f, 2, M0, 50, claim, "c1", NULL),
			 LOY_REJ_SETTLEMENT_MISMATCH); /* not the payee */
	assert_int_equal(settle(f, M1, M0, 50, claim, "c1", NULL), 0);
	assert_int_equal(settle(f, M1, M0, 50, claim, "c2", NULL),
			 LOY_REJ_SETTLEMENT_MISMATCH); /* already confirmed */
	assert_int_equal(loy_ledger_settlement(f->l, fx_key(f, M0)->id, &a), 0);
	assert_int_equal(loy_ledger_settlement(f->l, fx_key(f, M1)->id, &b), 0);
	assert_int_equal(a.net, -50);
	assert_int_equal(a.paid, 50);
	assert_int_equal(b.net, 10);
	assert_int_equal(b.received, 50);
	assert_int_equal(settle(f, M1, M0, 5, other, "c3", NULL), 0);
	fx_invariants(f);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_customer_register),
	    cmocka_unit_test(test_terminals),
	    cmocka_unit_test(test_membership_votes_change_validator_set),
	    cmocka_unit_test(test_rules_and_reward_issue),
	    cmocka_unit_test(test_partnerships),
	    cmocka_unit_test(test_reverse),
	    cmocka_unit_test(test_redeem_and_transfer),
	    cmocka_unit_test(test_settle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
