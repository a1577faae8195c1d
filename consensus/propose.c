/* PROPOSE: the leader's batching and block building, replicas taking a
 * proposal, and the node's validation verdicts that gate PREPARE. */
#include "consensus/core.h"

#include <string.h>

#include "wire/error.h"

void cons_request_build(struct loy_cons *c)
{
	struct loy_cons_update *up = c->up;

	if (c->building || c->applying)
		return;
	c->building = 1;
	c->batch_deadline = 0;
	up->flags |= LOY_CONS_UPDATE_BUILD;
	up->build.height = c->height;
	up->build.view = c->view;
	up->build.time_ms = c->now > c->last_time ? c->now : c->last_time + 1;
	memcpy(up->build.prev_hash, c->last_hash, LOY_HASH_SIZE);
	memcpy(up->build.proposer, c->pk, LOY_PUBKEY_SIZE);
	up->build.max_txs = c->cfg.max_block_txs;
	up->build.max_bytes = c->cfg.max_block_bytes;
}

void cons_accept_proposal(struct loy_cons *c, const uint8_t *block, size_t len,
			  const struct loy_block_header *hdr,
			  const uint8_t hash[LOY_HASH_SIZE], int self_built)
{
	struct cons_cand *k = cons_cand_add(c, block, len, hdr, hash);

	if (k == NULL)
		return;
	c->has_proposal = 1;
	memcpy(c->prop_hash, hash, LOY_HASH_SIZE);
	if (self_built)
		k->check =
		    CHECK_VALID; /* our own node built it from its ledger */
	cons_cand_request_check(c, k);
	cons_arm_view_timer(c);
	cons_try_prepare(c);
	/* a restarted replica may hold quorums waiting for this block */
	cons_try_commit_vote(c);
	if (c->rec.voted_commit)
		cons_try_decide(c, c->view, c->rec.commit_hash);
}

static void make_propose(struct loy_cons *c, const uint8_t *block, size_t len)
{
	struct loy_block_header hdr;
	uint8_t hash[LOY_HASH_SIZE];
	struct loy_cmsg m;

	if (cons_block_open(c, block, len, &hdr, hash) != 0 || hdr.view != 0 ||
	    memcmp(hdr.proposer, c->pk, LOY_PUBKEY_SIZE) != 0)
		return;
	memset(&m, 0, sizeof m);
	m.kind = LOY_CMSG_PROPOSE;
	memcpy(m.chain_id, c->cfg.chain_id, sizeof m.chain_id);
	m.height = c->height;
	m.view = c->view;
	m.block.data = (uint8_t *)block;
	m.block.len = len;
	if (loy_cmsg_sign(&m, hash, c->cfg.sk) != 0)
		return;
	c->rec.proposed = 1;
	memcpy(c->rec.proposed_hash, hash, LOY_HASH_SIZE);
	cons_mark_persist(c);
	/* A proposal is not a vote: it leaves at once, so replicas check the
	 * block while the record is written; the leader's own PREPARE still
	 * waits for it. Safety rests on the replicas' durable votes; the
	 * record only keeps an honest leader from proposing twice, and a
	 * restarted node makes no view-0 proposal at its first height
	 * (quiet_height) in case it crashed before the record was durable. */
	cons_send_mine_at(c, MINE_PROPOSAL, &m, 0);
	memcpy(c->prop_sig, m.sig, LOY_SIG_SIZE);
	cons_accept_proposal(c, block, len, &hdr, hash, 1);
}

void cons_on_built(struct loy_cons *c, const struct loy_cons_event *ev)
{
	if (!c->building || ev->built.height != c->height ||
	    ev->built.view != c->view)
		return;
	c->building = 0;
	if (ev->built.data == NULL) {
		c->batch_deadline = c->now + c->cfg.batch_ms;
		return;
	}
	if (c->applying || !cons_is_leader(c, c->view) || c->rec.proposed)
		return;
	if (c->view == 0 && !c->rec.in_view_change && !c->has_proposal)
		make_propose(c, ev->built.data, ev->built.len);
	else if (c->view > 0 && c->nv_pending && c->rec.in_view_change)
		cons_make_new_view(c, ev->built.data, ev->built.len, 1);
}

void cons_on_checked(struct loy_cons *c, const struct loy_cons_event *ev)
{
	struct cons_cand *k = cons_cand_find(c, ev->checked.hash);

	if (k == NULL || k->check != CHECK_PENDING)
		return;
	k->check = ev->checked.ok ? CHECK_VALID : CHECK_INVALID;
	cons_try_prepare(c);
}

void cons_on_propose(struct loy_cons *c, const struct loy_cmsg *m)
{
	struct loy_block_header hdr;
	uint8_t hash[LOY_HASH_SIZE];

	/* fresh proposals only open view 0; later views start with NEW-VIEW */
	if (m->view != 0 || c->view != 0 || c->rec.in_view_change ||
	    cons_index(c, m->sender) != (int)cons_leader(c, 0))
		return;
	if (cons_block_open(c, m->block.data, m->block.len, &hdr, hash) != 0 ||
	    hdr.view != 0 ||
	    memcmp(hdr.proposer, m->sender, LOY_PUBKEY_SIZE) != 0)
		return;
	if (c->has_proposal && memcmp(hash, c->prop_hash, LOY_HASH_SIZE) == 0)
		return;
	if (cons_verify_msg(c, m, hash) != 0)
		return;
	if (c->has_proposal) {
		struct loy_cons_evidence e;

		memset(&e, 0, sizeof e);
		memcpy(e.validator, m->sender, LOY_PUBKEY_SIZE);
		e.kind = LOY_CMSG_PROPOSE;
		e.height = m->height;
		e.view = m->view;
		memcpy(e.hash_a, c->prop_hash, LOY_HASH_SIZE);
		memcpy(e.sig_a, c->prop_sig, LOY_SIG_SIZE);
		memcpy(e.hash_b, hash, LOY_HASH_SIZE);
		memcpy(e.sig_b, m->sig, LOY_SIG_SIZE);
		cons_evidence(c, &e);
		return;
	}
	if (!cons_time_ok(c, &hdr))
		return;
	/* restarted after voting: only the block we voted for */
	if (c->rec.voted_prepare &&
	    memcmp(c->rec.prepare_hash, hash, LOY_HASH_SIZE) != 0)
		return;
	memcpy(c->prop_sig, m->sig, LOY_SIG_SIZE);
	cons_accept_proposal(c, m->block.data, m->block.len, &hdr, hash, 0);
}
