/* VIEW-CHANGE and NEW-VIEW: leaving a stuck view with our highest prepared
 * certificate, the next leader's proof of 2f+1 view changes, and the
 * replicas' check that it re-proposes the highest prepared block. */
#include "consensus/core.h"

#include <stdlib.h>
#include <string.h>

#include "wire/error.h"

void cons_vcs_clear(struct loy_cons *c, uint64_t below_view)
{
	uint32_t j = 0;

	for (uint32_t i = 0; i < c->n_vcs; i++) {
		if (c->vcs[i].msg.view < below_view)
			loy_cmsg_free(&c->vcs[i].msg);
		else
			c->vcs[j++] = c->vcs[i];
	}
	c->n_vcs = j;
}

static struct cons_vc *vc_find(struct loy_cons *c, uint64_t view, uint32_t idx)
{
	for (uint32_t i = 0; i < c->n_vcs; i++)
		if (c->vcs[i].msg.view == view && c->vcs[i].idx == idx)
			return &c->vcs[i];
	return NULL;
}

/* Takes ownership of *m's parts on success. */
static int vc_store(struct loy_cons *c, struct loy_cmsg *m, uint32_t idx)
{
	if (c->n_vcs == c->cap_vcs) {
		uint32_t cap = c->cap_vcs ? 2 * c->cap_vcs : 16;
		struct cons_vc *n;

		if (cap > LOY_MAX_VALIDATORS * (CONS_VIEW_AHEAD + 1))
			return LOY_ETOOBIG;
		n = realloc(c->vcs, cap * sizeof *n);
		if (n == NULL) {
			c->oom = 1;
			return LOY_ENOMEM;
		}
		c->vcs = n;
		c->cap_vcs = cap;
	}
	c->vcs[c->n_vcs].idx = idx;
	c->vcs[c->n_vcs].msg = *m;
	c->n_vcs++;
	memset(m, 0, sizeof *m);
	return 0;
}

/* A VIEW-CHANGE (with or without its block) is well-formed for us: signed
 * by a validator of this height and carrying a valid prepared certificate
 * whose block, when present, hashes to it. */
static int vc_valid(struct loy_cons *c, const struct loy_cmsg *m)
{
	struct loy_block_header hdr;
	uint8_t hash[LOY_HASH_SIZE];

	if (m->kind != LOY_CMSG_VIEW_CHANGE || m->height != c->height ||
	    m->view == 0 || cons_index(c, m->sender) < 0)
		return 0;
	if (cons_verify_msg(c, m, c->last_hash) != 0)
		return 0;
	if (m->prepared == NULL)
		return m->block.len == 0;
	if (m->prepared->view >= m->view ||
	    cons_verify_cert(c, m->prepared, LOY_VOTE_PREPARE) != 0)
		return 0;
	if (m->block.len == 0)
		return 1;
	return cons_block_open(c, m->block.data, m->block.len, &hdr, hash) ==
		   0 &&
	       memcmp(hash, m->prepared->block_hash, LOY_HASH_SIZE) == 0;
}

void cons_start_view_change(struct loy_cons *c, uint64_t view)
{
	struct loy_cmsg m;
	struct loy_cmsg own;

	if (c->me < 0 || c->applying || view <= c->view)
		return;
	c->view_changes += view - c->view;
	c->view = view;
	c->view_deadline = c->now + cons_timeout(c, view);
	c->has_proposal = 0;
	c->nv_pending = 0;
	c->building = 0;
	c->batch_deadline = 0;
	for (int i = 0; i < MINE_N; i++)
		loy_buf_free(&c->mine[i]);
	c->rec.view = view;
	c->rec.in_view_change = 1;
	c->rec.proposed = 0;
	c->rec.voted_prepare = 0;
	c->rec.voted_commit = 0;
	cons_mark_persist(c);
	cons_vcs_clear(c, view);

	memset(&m, 0, sizeof m);
	m.kind = LOY_CMSG_VIEW_CHANGE;
	memcpy(m.chain_id, c->cfg.chain_id, sizeof m.chain_id);
	m.height = c->height;
	m.view = view;
	if (c->rec.has_prepared) {
		m.prepared = &c->rec.prepared;
		m.block = c->rec_block;
	}
	if (loy_cmsg_sign(&m, c->last_hash, c->cfg.sk) != 0)
		return;
	cons_send_mine(c, MINE_VC, &m);
	/* count our own view change */
	if (c->mine[MINE_VC].len != 0 &&
	    loy_cmsg_decode(&own, c->mine[MINE_VC].data,
			    c->mine[MINE_VC].len) == 0) {
		if (vc_store(c, &own, (uint32_t)c->me) != 0)
			loy_cmsg_free(&own);
	}
	cons_try_new_view(c);
}

/* Joins a view change once f+1 validators ask for views above ours: at
 * least one of them is honest, so we will not wait alone. */
static void maybe_join(struct loy_cons *c)
{
	uint64_t best[LOY_MAX_VALIDATORS];
	uint32_t n = 0;

	for (uint32_t i = 0; i < c->vs.n; i++) {
		uint64_t v = 0;

		if ((int)i == c->me || cons_is_bad(c, c->vs.keys[i]))
			continue;
		for (uint32_t j = 0; j < c->n_vcs; j++)
			if (c->vcs[j].idx == i && c->vcs[j].msg.view > v)
				v = c->vcs[j].msg.view;
		if (v > c->view)
			best[n++] = v;
	}
	if (n < c->f + 1)
		return;
	/* the (f+1)-th highest: f+1 validators want at least that view */
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = i + 1; j < n; j++)
			if (best[j] > best[i]) {
				uint64_t t = best[i];
				best[i] = best[j];
				best[j] = t;
			}
	cons_start_view_change(c, best[c->f]);
}

void cons_on_view_change(struct loy_cons *c, struct loy_cmsg *m)
{
	int idx = cons_index(c, m->sender);

	if (idx < 0 || c->me < 0 || cons_is_bad(c, m->sender) ||
	    m->view < c->view || m->view > c->view + CONS_VIEW_AHEAD ||
	    vc_find(c, m->view, (uint32_t)idx) != NULL)
		return;
	if (m->prepared != NULL && m->block.len == 0)
		return; /* a stand-alone VIEW-CHANGE must carry its block */
	if (!vc_valid(c, m))
		return;
	if (vc_store(c, m, (uint32_t)idx) != 0)
		return;
	maybe_join(c);
	cons_try_new_view(c);
}

/* The highest prepared certificate among the view changes for our view. */
static const struct cons_vc *highest_prepared(const struct loy_cons *c)
{
	const struct cons_vc *best = NULL;

	for (uint32_t i = 0; i < c->n_vcs; i++) {
		const struct cons_vc *v = &c->vcs[i];
		if (v->msg.view != c->view || v->msg.prepared == NULL)
			continue;
		if (best == NULL ||
		    v->msg.prepared->view > best->msg.prepared->view)
			best = v;
	}
	return best;
}

void cons_try_new_view(struct loy_cons *c)
{
	uint32_t n = 0;
	const struct cons_vc *hp;

	if (c->me < 0 || c->view == 0 || !cons_is_leader(c, c->view) ||
	    !c->rec.in_view_change || c->nv_pending || c->rec.proposed ||
	    c->applying)
		return;
	for (uint32_t i = 0; i < c->n_vcs; i++)
		if (c->vcs[i].msg.view == c->view &&
		    !cons_is_bad(c, c->vs.keys[c->vcs[i].idx]))
			n++;
	if (n < c->quorum)
		return;
	hp = highest_prepared(c);
	if (hp != NULL && !c->cfg.test_ignore_prepared) {
		cons_make_new_view(c, hp->msg.block.data, hp->msg.block.len, 0);
		return;
	}
	c->nv_pending = 1;
	cons_request_build(c);
}

void cons_make_new_view(struct loy_cons *c, const uint8_t *block, size_t len,
			int self_built)
{
	struct loy_block_header hdr;
	uint8_t hash[LOY_HASH_SIZE];
	struct loy_cmsg m;
	struct loy_cmsg vcs[LOY_MAX_VALIDATORS];
	uint32_t n = 0;

	if (cons_block_open(c, block, len, &hdr, hash) != 0)
		return;
	for (uint32_t i = 0; i < c->n_vcs && n < c->vs.n; i++) {
		const struct cons_vc *v = &c->vcs[i];
		if (v->msg.view != c->view ||
		    cons_is_bad(c, c->vs.keys[v->idx]))
			continue;
		vcs[n] = v->msg;
		vcs[n].block.data =
		    NULL; /* stripped: the chosen block rides once */
		vcs[n].block.len = 0;
		n++;
	}
	memset(&m, 0, sizeof m);
	m.kind = LOY_CMSG_NEW_VIEW;
	memcpy(m.chain_id, c->cfg.chain_id, sizeof m.chain_id);
	m.height = c->height;
	m.view = c->view;
	m.vc_count = n;
	m.vcs = vcs;
	m.block.data = (uint8_t *)block;
	m.block.len = len;
	if (loy_cmsg_sign(&m, hash, c->cfg.sk) != 0)
		return;
	c->nv_pending = 0;
	c->rec.in_view_change = 0;
	c->rec.proposed = 1;
	memcpy(c->rec.proposed_hash, hash, LOY_HASH_SIZE);
	cons_mark_persist(c);
	cons_send_mine(c, MINE_PROPOSAL, &m);
	memcpy(c->prop_sig, m.sig, LOY_SIG_SIZE);
	c->view_deadline = c->now + cons_timeout(c, c->view);
	cons_accept_proposal(c, block, len, &hdr, hash, self_built);
}

void cons_on_new_view(struct loy_cons *c, const struct loy_cmsg *m)
{
	struct loy_block_header hdr;
	uint8_t hash[LOY_HASH_SIZE];
	uint8_t seen[LOY_MAX_VALIDATORS] = {0};
	const struct loy_cert *best = NULL;
	uint32_t count = 0;

	if (m->view < c->view || m->view > c->view + CONS_VIEW_AHEAD ||
	    (m->view == c->view && c->has_proposal) ||
	    cons_index(c, m->sender) != (int)cons_leader(c, m->view))
		return;
	if (cons_block_open(c, m->block.data, m->block.len, &hdr, hash) != 0 ||
	    !cons_time_ok(c, &hdr))
		return;
	if (cons_verify_msg(c, m, hash) != 0)
		return;
	for (uint32_t i = 0; i < m->vc_count; i++) {
		const struct loy_cmsg *v = &m->vcs[i];
		int idx = cons_index(c, v->sender);

		if (idx < 0 || seen[idx] || v->view != m->view ||
		    !vc_valid(c, v))
			return;
		seen[idx] = 1;
		if (!cons_is_bad(c, v->sender))
			count++;
		if (v->prepared != NULL &&
		    (best == NULL || v->prepared->view > best->view))
			best = v->prepared;
	}
	if (count < c->quorum)
		return;
	if (c->cfg.test_ignore_prepared)
		best = NULL;
	if (best != NULL) {
		if (memcmp(best->block_hash, hash, LOY_HASH_SIZE) != 0)
			return; /* must re-propose the highest prepared block */
	} else if (hdr.view != m->view ||
		   memcmp(hdr.proposer, m->sender, LOY_PUBKEY_SIZE) != 0) {
		return; /* a fresh block must be the leader's, for this view */
	}
	if (m->view > c->view) {
		c->view_changes += m->view - c->view;
		c->view = m->view;
		c->rec.view = m->view;
		c->rec.proposed = 0;
		c->rec.voted_prepare = 0;
		c->rec.voted_commit = 0;
		for (int i = 0; i < MINE_N; i++)
			loy_buf_free(&c->mine[i]);
	}
	c->rec.in_view_change = 0;
	c->nv_pending = 0;
	c->building = 0;
	c->view_deadline = c->now + cons_timeout(c, c->view);
	cons_vcs_clear(c, c->view + 1);
	memcpy(c->prop_sig, m->sig, LOY_SIG_SIZE);
	cons_accept_proposal(c, m->block.data, m->block.len, &hdr, hash, 0);
}
