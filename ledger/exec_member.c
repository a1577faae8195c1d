/* Handlers for accounts and governance: customer.register, terminal.add /
 * terminal.remove, member.propose / member.vote, and settle. */
#include <stdio.h>
#include <string.h>

#include "ledger/internal.h"
#include "wire/error.h"

int ldg_exec_customer_register(struct ldg_exec *x)
{
	struct ldg_account a = {.type = LDG_CUSTOMER, .active = 1};
	struct ldg_totals tt;
	int rc;

	if (x->sacct_found)
		return ldg_reject(x, LOY_REJ_ALREADY_REGISTERED,
				  "key is already registered");
	rc = ldg_totals_get(&x->t, &tt);
	if (rc != 0)
		return rc;
	memcpy(a.pubkey, x->tx->signer, LOY_PUBKEY_SIZE);
	a.created = x->height;
	tt.customers++;
	rc = ldg_account_put(&x->t, x->signer, &a);
	if (rc == 0)
		rc = ldg_totals_put(&x->t, &tt);
	return rc;
}

int ldg_exec_terminal(struct ldg_exec *x)
{
	const struct loy_tx_terminal *b = &x->tx->u.terminal;
	uint8_t member[LOY_ID_SIZE], tid[LOY_ID_SIZE];
	struct ldg_account a;
	int rc = ldg_acting_member(x, false, member);
	if (rc != 0)
		return rc;
	loy_id_from_pubkey(tid, b->terminal);
	rc = ldg_account_get(&x->t, tid, &a);
	if (rc != 0 && rc != LOY_ENOTFOUND)
		return rc;
	bool found = rc == 0;
	memcpy(x->other, tid, LOY_ID_SIZE);
	x->has_other = true;
	if (x->tx->kind == LOY_TX_TERMINAL_ADD) {
		if (found && a.type != LDG_TERMINAL)
			return ldg_reject(x, LOY_REJ_ALREADY_REGISTERED,
					  "key is already registered as a %s",
					  a.type == LDG_CUSTOMER ? "customer"
								 : "member");
		if (found && a.active)
			return ldg_reject(x, LOY_REJ_TERMINAL_EXISTS,
					  "terminal is already registered");
		if (found && memcmp(a.owner, member, LOY_ID_SIZE) != 0)
			return ldg_reject(
			    x, LOY_REJ_TERMINAL_EXISTS,
			    "terminal belonged to another member");
		if (!found) {
			a.type = LDG_TERMINAL;
			memcpy(a.pubkey, b->terminal, LOY_PUBKEY_SIZE);
			memcpy(a.owner, member, LOY_ID_SIZE);
			a.created = x->height;
		}
		a.active = 1;
		return ldg_account_put(&x->t, tid, &a);
	}
	if (!found || a.type != LDG_TERMINAL || !a.active ||
	    memcmp(a.owner, member, LOY_ID_SIZE) != 0)
		return ldg_reject(x, LOY_REJ_UNKNOWN_TERMINAL,
				  "no such terminal of this member");
	a.active = 0;
	return ldg_account_put(&x->t, tid, &a);
}

static int count_active(struct ldg_exec *x, uint32_t *n)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc = ldg_cursor_open(&x->t, LDB_MEMBERS, &c);
	*n = 0;
	if (rc != 0)
		return rc;
	for (rc = ldg_cursor_get(&x->t, LDB_MEMBERS, c, &k, &v, MDB_FIRST);
	     rc == 0;
	     rc = ldg_cursor_get(&x->t, LDB_MEMBERS, c, &k, &v, MDB_NEXT)) {
		struct ldg_member m;
		if (ldg_member_dec(&m, &v) != 0) {
			mdb_cursor_close(c);
			return LOY_ECORRUPT;
		}
		*n += m.active;
	}
	mdb_cursor_close(c);
	return rc == LOY_ENOTFOUND ? 0 : rc;
}

/* Can the proposal take effect now? Rejects with the reason if not. */
static int proposal_applicable(struct ldg_exec *x, const struct ldg_proposal *p,
			       uint32_t active)
{
	uint8_t id[LOY_ID_SIZE];
	struct ldg_account a;
	int rc;
	loy_id_from_pubkey(id, p->key);
	rc = ldg_account_get(&x->t, id, &a);
	if (rc != 0 && rc != LOY_ENOTFOUND)
		return rc;
	bool found = rc == 0;
	if (p->action == LOY_MEMBER_ADMIT) {
		if (found && a.type != LDG_MEMBER)
			return ldg_reject(x, LOY_REJ_ALREADY_REGISTERED,
					  "key is already registered as a %s",
					  a.type == LDG_CUSTOMER ? "customer"
								 : "terminal");
		if (found && a.active)
			return ldg_reject(x, LOY_REJ_MEMBER_EXISTS,
					  "already a member");
		if (active >= LOY_MAX_VALIDATORS)
			return ldg_reject(x, LOY_REJ_TOO_MANY_VALIDATORS,
					  "the consortium has %u members, the "
					  "most a validator set can hold",
					  active);
		return 0;
	}
	if (!found || a.type != LDG_MEMBER || !a.active)
		return ldg_reject(x, LOY_REJ_UNKNOWN_MEMBER,
				  "not an active member");
	if (active <= 1)
		return ldg_reject(x, LOY_REJ_INVALID_PARAM,
				  "cannot remove the last member");
	return 0;
}

/* Applies a passed proposal: the validator set changes at height + 1. */
static int proposal_enact(struct ldg_exec *x, struct ldg_proposal *p)
{
	uint8_t id[LOY_ID_SIZE];
	struct ldg_member m;
	struct ldg_account a;
	int rc;
	loy_id_from_pubkey(id, p->key);
	rc = ldg_member_get(&x->t, id, &m);
	if (rc != 0 && rc != LOY_ENOTFOUND)
		return rc;
	rc = ldg_account_get(&x->t, id, &a);
	if (rc != 0 && rc != LOY_ENOTFOUND)
		return rc;
	if (p->action == LOY_MEMBER_ADMIT) {
		memcpy(m.pubkey, p->key, LOY_PUBKEY_SIZE);
		m.active = 1;
		m.admitted = x->height;
		m.removed = 0;
		snprintf(m.name, sizeof m.name, "%s", p->name);
		snprintf(m.address, sizeof m.address, "%s", p->address);
		a.type = LDG_MEMBER;
		memcpy(a.pubkey, p->key, LOY_PUBKEY_SIZE);
		if (!a.created)
			a.created = x->height;
		a.active = 1;
	} else {
		m.active = 0;
		m.removed = x->height;
		a.active = 0;
	}
	p->status = LDG_PROP_PASSED;
	x->valset_dirty = true;
	rc = ldg_member_put(&x->t, id, &m);
	if (rc == 0)
		rc = ldg_account_put(&x->t, id, &a);
	return rc;
}

static int put_proposal(struct ldg_exec *x, const uint8_t hash[LOY_HASH_SIZE],
			const struct ldg_proposal *p)
{
	uint8_t b[LDG_PROPOSAL_LEN];
	ldg_proposal_enc(b, p);
	return ldg_put(&x->t, LDB_PROPOSALS, hash, LOY_HASH_SIZE, b, sizeof b);
}

static int put_vote(struct ldg_exec *x, const uint8_t prop[LOY_HASH_SIZE],
		    bool approve)
{
	uint8_t k[LOY_HASH_SIZE + LOY_ID_SIZE], v = approve ? 1 : 0;
	memcpy(k, prop, LOY_HASH_SIZE);
	memcpy(k + LOY_HASH_SIZE, x->signer, LOY_ID_SIZE);
	return ldg_put(&x->t, LDB_VOTES, k, sizeof k, &v, 1);
}

static bool passes(uint32_t yes, uint32_t active)
{
	return (uint64_t)yes * 3 >= (uint64_t)active * 2;
}

int ldg_exec_member_propose(struct ldg_exec *x)
{
	const struct loy_tx_member_propose *b = &x->tx->u.member_propose;
	struct ldg_proposal p = {0};
	uint8_t member[LOY_ID_SIZE];
	uint32_t active;
	int rc = ldg_acting_member(x, false, member);
	if (rc != 0)
		return rc;
	if (b->action != LOY_MEMBER_ADMIT && b->action != LOY_MEMBER_REMOVE)
		return ldg_reject(x, LOY_REJ_INVALID_PARAM,
				  "unknown member action %u", b->action);
	if (b->action == LOY_MEMBER_ADMIT && (!b->name[0] || !b->address[0]))
		return ldg_reject(x, LOY_REJ_INVALID_PARAM,
				  "an admission needs a name and an address");
	rc = count_active(x, &active);
	if (rc != 0)
		return rc;
	p.action = b->action;
	memcpy(p.key, b->member, LOY_PUBKEY_SIZE);
	memcpy(p.proposer, member, LOY_ID_SIZE);
	snprintf(p.name, sizeof p.name, "%s", b->name);
	snprintf(p.address, sizeof p.address, "%s", b->address);
	p.status = LDG_PROP_OPEN;
	p.yes = 1; /* the proposer's own vote */
	rc = proposal_applicable(x, &p, active);
	if (rc != 0)
		return rc;
	if (passes(p.yes, active)) {
		rc = proposal_enact(x, &p);
		if (rc != 0)
			return rc;
	}
	rc = put_vote(x, x->hash, true);
	if (rc == 0)
		rc = put_proposal(x, x->hash, &p);
	return rc;
}

int ldg_exec_member_vote(struct ldg_exec *x)
{
	const struct loy_tx_member_vote *b = &x->tx->u.member_vote;
	struct ldg_proposal p;
	uint8_t member[LOY_ID_SIZE], k[LOY_HASH_SIZE + LOY_ID_SIZE];
	uint32_t active;
	MDB_val v;
	int rc = ldg_acting_member(x, false, member);
	if (rc != 0)
		return rc;
	rc = ldg_get(&x->t, LDB_PROPOSALS, b->proposal, LOY_HASH_SIZE, &v);
	if (rc == LOY_ENOTFOUND)
		return ldg_reject(x, LOY_REJ_UNKNOWN_PROPOSAL,
				  "no such proposal");
	if (rc == 0)
		rc = ldg_proposal_dec(&p, &v);
	if (rc != 0)
		return rc;
	if (p.status != LDG_PROP_OPEN)
		return ldg_reject(x, LOY_REJ_PROPOSAL_CLOSED,
				  "proposal already took effect");
	memcpy(k, b->proposal, LOY_HASH_SIZE);
	memcpy(k + LOY_HASH_SIZE, x->signer, LOY_ID_SIZE);
	rc = ldg_get(&x->t, LDB_VOTES, k, sizeof k, &v);
	if (rc == 0)
		return ldg_reject(x, LOY_REJ_ALREADY_VOTED,
				  "this member already voted");
	if (rc != LOY_ENOTFOUND)
		return rc;
	rc = count_active(x, &active);
	if (rc != 0)
		return rc;
	if (b->approve)
		p.yes++;
	else
		p.no++;
	if (b->approve && passes(p.yes, active)) {
		rc = proposal_applicable(x, &p, active);
		if (rc != 0)
			return rc;
		rc = proposal_enact(x, &p);
		if (rc != 0)
			return rc;
	}
	rc = put_vote(x, b->proposal, b->approve);
	if (rc == 0)
		rc = put_proposal(x, b->proposal, &p);
	return rc;
}

static int net_of(struct ldg_exec *x, const uint8_t id[LOY_ID_SIZE],
		  struct ldg_position *s, int64_t *net)
{
	int rc = ldg_position_get(&x->t, id, s);
	if (rc != 0 && rc != LOY_ENOTFOUND)
		return rc;
	if (ldg_position_net(s, net) != 0)
		return ldg_reject(x, LOY_REJ_OVERFLOW, "position out of range");
	return 0;
}

int ldg_exec_settle(struct ldg_exec *x)
{
	const struct loy_tx_settle *b = &x->tx->u.settle;
	static const uint8_t zero[LOY_HASH_SIZE];
	struct ldg_settle st;
	struct ldg_position pp, pe;
	struct ldg_member cm;
	uint8_t buf[LDG_SETTLE_LEN];
	const uint8_t *payer, *payee;
	int64_t npayer, npayee;
	bool confirm = memcmp(b->confirm, zero, LOY_HASH_SIZE) != 0;
	MDB_val v;
	int rc;

	/* A removed member must still be able to settle what it owes. */
	if (!x->sacct_found || x->sacct.type != LDG_MEMBER)
		return ldg_reject(x, LOY_REJ_NOT_AUTHORIZED,
				  "signer is not a member");
	if (b->amount == 0)
		return ldg_reject(x, LOY_REJ_ZERO_AMOUNT, "amount is zero");
	if (!memcmp(b->counterparty, x->signer, LOY_ID_SIZE))
		return ldg_reject(x, LOY_REJ_INVALID_PARAM,
				  "cannot settle with itself");
	rc = ldg_member_get(&x->t, b->counterparty, &cm);
	if (rc == LOY_ENOTFOUND)
		return ldg_reject(x, LOY_REJ_UNKNOWN_MEMBER,
				  "counterparty is not a member");
	if (rc != 0)
		return rc;
	rc = ldg_ref_check(x, x->signer, b->reference);
	if (rc != 0)
		return rc;
	memcpy(x->other, b->counterparty, LOY_ID_SIZE);
	x->has_other = true;
	/* The claim is made by the payer; the confirmation by the payee. */
	payer = confirm ? b->counterparty : x->signer;
	payee = confirm ? x->signer : b->counterparty;
	if (confirm) {
		rc = ldg_get(&x->t, LDB_SETTLES, b->confirm, LOY_HASH_SIZE, &v);
		if (rc == LOY_ENOTFOUND)
			return ldg_reject(x, LOY_REJ_UNKNOWN_SETTLEMENT,
					  "no such settlement claim");
		if (rc == 0)
			rc = ldg_settle_dec(&st, &v);
		if (rc != 0)
			return rc;
		if (st.status != LDG_SETTLE_PENDING)
			return ldg_reject(x, LOY_REJ_SETTLEMENT_MISMATCH,
					  "settlement already confirmed");
		if (memcmp(st.payer, payer, LOY_ID_SIZE) ||
		    memcmp(st.payee, payee, LOY_ID_SIZE) ||
		    st.amount != b->amount)
			return ldg_reject(x, LOY_REJ_SETTLEMENT_MISMATCH,
					  "confirmation does not match the "
					  "claim (payer, payee, amount %llu)",
					  (unsigned long long)st.amount);
	}
	rc = net_of(x, payer, &pp, &npayer);
	if (rc == 0)
		rc = net_of(x, payee, &pe, &npayee);
	if (rc != 0)
		return rc;
	if (npayer > 0 || (uint64_t)(-npayer) < b->amount)
		return ldg_reject(x, LOY_REJ_EXCEEDS_POSITION,
				  "settle exceeds position: payable %lld, "
				  "amount %llu",
				  npayer < 0 ? -(long long)npayer : 0LL,
				  (unsigned long long)b->amount);
	if (npayee < 0 || (uint64_t)npayee < b->amount)
		return ldg_reject(x, LOY_REJ_EXCEEDS_POSITION,
				  "settle exceeds position: receivable %lld, "
				  "amount %llu",
				  npayee > 0 ? (long long)npayee : 0LL,
				  (unsigned long long)b->amount);
	if (confirm && (pp.paid > UINT64_MAX - b->amount ||
			pe.received > UINT64_MAX - b->amount))
		return ldg_reject(x, LOY_REJ_OVERFLOW, "settlement overflow");
	rc = ldg_ref_claim(x, x->signer, b->reference);
	if (rc != 0)
		return rc;
	if (!confirm) {
		memcpy(st.payer, payer, LOY_ID_SIZE);
		memcpy(st.payee, payee, LOY_ID_SIZE);
		st.amount = b->amount;
		st.status = LDG_SETTLE_PENDING;
		ldg_settle_enc(buf, &st);
		return ldg_put(&x->t, LDB_SETTLES, x->hash, LOY_HASH_SIZE, buf,
			       sizeof buf);
	}
	pp.paid += b->amount;
	pe.received += b->amount;
	st.status = LDG_SETTLE_CONFIRMED;
	ldg_settle_enc(buf, &st);
	rc = ldg_put(&x->t, LDB_SETTLES, b->confirm, LOY_HASH_SIZE, buf,
		     sizeof buf);
	if (rc == 0)
		rc = ldg_position_put(&x->t, payer, &pp);
	if (rc == 0)
		rc = ldg_position_put(&x->t, payee, &pe);
	return rc;
}
