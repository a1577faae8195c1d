/* PREPARE and COMMIT: storing verified votes, equivocation evidence,
 * quorums, our own votes, and deciding a block with its certificate. */
#include "consensus/core.h"

#include <stdlib.h>
#include <string.h>

#include "wire/error.h"

static struct cons_vote *vote_find(struct loy_cons *c, uint8_t type,
				   uint64_t view, uint32_t idx)
{
	for (uint32_t i = 0; i < c->n_votes; i++) {
		struct cons_vote *v = &c->votes[i];
		if (v->type == type && v->view == view && v->idx == idx)
			return v;
	}
	return NULL;
}

static int vote_store(struct loy_cons *c, const struct loy_vote *v,
		      uint32_t idx)
{
	struct cons_vote *s;

	if (c->n_votes == c->cap_votes) {
		uint32_t cap = c->cap_votes ? 2 * c->cap_votes : 64;
		struct cons_vote *n;

		if (cap > CONS_MAX_VOTES)
			return LOY_ETOOBIG;
		n = realloc(c->votes, cap * sizeof *n);
		if (n == NULL) {
			c->oom = 1;
			return LOY_ENOMEM;
		}
		c->votes = n;
		c->cap_votes = cap;
	}
	s = &c->votes[c->n_votes++];
	s->type = v->type;
	s->view = v->view;
	memcpy(s->hash, v->block_hash, LOY_HASH_SIZE);
	s->idx = idx;
	memcpy(s->sig, v->sig, LOY_SIG_SIZE);
	return 0;
}

uint32_t cons_count(const struct loy_cons *c, uint8_t type, uint64_t view,
		    const uint8_t hash[LOY_HASH_SIZE])
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < c->n_votes; i++) {
		const struct cons_vote *v = &c->votes[i];
		if (v->type == type && v->view == view &&
		    memcmp(v->hash, hash, LOY_HASH_SIZE) == 0 &&
		    !cons_is_bad(c, c->vs.keys[v->idx]))
			n++;
	}
	return n;
}

/* A certificate from the stored votes for (type, view, hash), leaving out
 * proven equivocators. */
static int build_cert(struct loy_cons *c, uint8_t type, uint64_t view,
		      const uint8_t hash[LOY_HASH_SIZE], struct loy_cert *cert)
{
	struct loy_vote v;

	memset(cert, 0, sizeof *cert);
	memset(&v, 0, sizeof v);
	v.type = type;
	memcpy(v.chain_id, c->cfg.chain_id, sizeof v.chain_id);
	v.height = c->height;
	v.view = view;
	memcpy(v.block_hash, hash, LOY_HASH_SIZE);
	for (uint32_t i = 0; i < c->n_votes; i++) {
		const struct cons_vote *s = &c->votes[i];
		if (s->type != type || s->view != view ||
		    memcmp(s->hash, hash, LOY_HASH_SIZE) != 0 ||
		    cons_is_bad(c, c->vs.keys[s->idx]))
			continue;
		memcpy(v.validator, c->vs.keys[s->idx], LOY_PUBKEY_SIZE);
		memcpy(v.sig, s->sig, LOY_SIG_SIZE);
		if (loy_cert_add(cert, &v) != 0)
			return LOY_EINVAL;
	}
	return cert->sig_count >= c->quorum ? 0 : LOY_EINVAL;
}

void cons_add_own_vote(struct loy_cons *c, const struct loy_vote *v)
{
	if (c->me < 0 ||
	    vote_find(c, v->type, v->view, (uint32_t)c->me) != NULL)
		return;
	vote_store(c, v, (uint32_t)c->me);
}

void cons_sign_vote(struct loy_cons *c, uint8_t type,
		    const uint8_t hash[LOY_HASH_SIZE])
{
	struct loy_vote v;
	struct loy_cmsg m;

	memset(&v, 0, sizeof v);
	v.type = type;
	memcpy(v.chain_id, c->cfg.chain_id, sizeof v.chain_id);
	v.height = c->height;
	v.view = c->view;
	memcpy(v.block_hash, hash, LOY_HASH_SIZE);
	if (loy_vote_sign(&v, c->cfg.sk) != 0) {
		c->oom = 1;
		return;
	}
	loy_cmsg_from_vote(&m, &v);
	cons_send_mine(c, type == LOY_VOTE_COMMIT ? MINE_COMMIT : MINE_PREPARE,
		       &m);
	cons_add_own_vote(c, &v);
}

void cons_on_vote(struct loy_cons *c, const struct loy_cmsg *m)
{
	struct loy_vote v;
	struct cons_vote *old;
	int idx = cons_index(c, m->sender);

	if (idx < 0 || cons_is_bad(c, m->sender) ||
	    m->view > c->view + CONS_VIEW_AHEAD)
		return;
	loy_cmsg_to_vote(m, &v);
	/* PREPAREs matter only in our view or later; COMMITs of any view
	 * can still make a certificate. */
	if (v.type == LOY_VOTE_PREPARE && m->view < c->view)
		return;
	old = vote_find(c, v.type, v.view, (uint32_t)idx);
	if (old != NULL) {
		struct loy_cons_evidence e;

		if (memcmp(old->hash, v.block_hash, LOY_HASH_SIZE) == 0)
			return; /* a re-send */
		if (cons_verify_vote(c, &v) != 0)
			return;
		memset(&e, 0, sizeof e);
		memcpy(e.validator, m->sender, LOY_PUBKEY_SIZE);
		e.kind = m->kind;
		e.height = v.height;
		e.view = v.view;
		memcpy(e.hash_a, old->hash, LOY_HASH_SIZE);
		memcpy(e.sig_a, old->sig, LOY_SIG_SIZE);
		memcpy(e.hash_b, v.block_hash, LOY_HASH_SIZE);
		memcpy(e.sig_b, v.sig, LOY_SIG_SIZE);
		cons_evidence(c, &e);
		return;
	}
	if (cons_verify_vote(c, &v) != 0)
		return;
	if (vote_store(c, &v, (uint32_t)idx) != 0)
		return;
	cons_arm_view_timer(c);
	if (v.type == LOY_VOTE_PREPARE)
		cons_try_commit_vote(c);
	else
		cons_try_decide(c, v.view, v.block_hash);
}

/* Whether our PREPARE of this view is signed (the slot is emptied at each
 * new view and height). */
static int prepare_signed(const struct loy_cons *c)
{
	return c->mine[MINE_PREPARE].len > 0;
}

/* PREPARE for the proposal. The record that binds this node to the
 * proposal at this height and view (voted_prepare) is written as soon as
 * the proposal is taken, while the node checks the block, instead of after
 * the check: the vote, queued behind the record, leaves once the check has
 * passed and the record is durable, so the disk write no longer adds to
 * every height. A record written for a block whose check then fails binds
 * the node to that block for this view only, which costs nothing: another
 * block of the same leader and view is equivocation, never voted for, and
 * the next view clears the record. Because such a record may name a block
 * never checked, a restart signs its PREPARE again only after checking the
 * block again (resume). */
void cons_try_prepare(struct loy_cons *c)
{
	struct cons_cand *k;

	if (c->me < 0 || c->applying || c->rec.in_view_change ||
	    !c->has_proposal || prepare_signed(c))
		return;
	if (c->rec.voted_prepare &&
	    memcmp(c->rec.prepare_hash, c->prop_hash, LOY_HASH_SIZE) != 0)
		return; /* bound to another block at this view */
	k = cons_cand_find(c, c->prop_hash);
	if (k == NULL || k->check == CHECK_INVALID)
		return;
	if (!c->rec.voted_prepare) {
		c->rec.voted_prepare = 1;
		memcpy(c->rec.prepare_hash, c->prop_hash, LOY_HASH_SIZE);
		cons_mark_persist(c);
	}
	if (k->check != CHECK_VALID)
		return;
	cons_sign_vote(c, LOY_VOTE_PREPARE, c->prop_hash);
	cons_try_commit_vote(c);
}

void cons_try_commit_vote(struct loy_cons *c)
{
	struct cons_cand *k;
	struct loy_cert cert;

	if (c->me < 0 || c->applying || c->rec.in_view_change ||
	    !prepare_signed(c) || c->rec.voted_commit)
		return;
	if (cons_count(c, LOY_VOTE_PREPARE, c->view, c->rec.prepare_hash) <
	    c->quorum)
		return;
	k = cons_cand_find(c, c->rec.prepare_hash);
	if (k == NULL)
		return; /* restarted without the block: wait for a re-send */
	if (build_cert(c, LOY_VOTE_PREPARE, c->view, c->rec.prepare_hash,
		       &cert) != 0)
		return;
	if (cons_set_rec_block(c, k->bytes.data, k->bytes.len) != 0)
		return;
	c->rec.has_prepared = 1;
	c->rec.prepared = cert;
	c->rec.voted_commit = 1;
	memcpy(c->rec.commit_hash, c->rec.prepare_hash, LOY_HASH_SIZE);
	cons_mark_persist(c);
	cons_sign_vote(c, LOY_VOTE_COMMIT, c->rec.commit_hash);
	cons_try_decide(c, c->view, c->rec.commit_hash);
}

void cons_try_decide(struct loy_cons *c, uint64_t view,
		     const uint8_t hash[LOY_HASH_SIZE])
{
	struct loy_cert cert;
	struct loy_block_header hdr;
	uint8_t h2[LOY_HASH_SIZE];
	const uint8_t *block = NULL;
	size_t len = 0;
	struct cons_cand *k;

	if (c->applying ||
	    cons_count(c, LOY_VOTE_COMMIT, view, hash) < c->quorum)
		return;
	k = cons_cand_find(c, hash);
	if (k != NULL) {
		block = k->bytes.data;
		len = k->bytes.len;
	} else if (c->rec.has_prepared && memcmp(c->rec.prepared.block_hash,
						 hash, LOY_HASH_SIZE) == 0) {
		block = c->rec_block.data;
		len = c->rec_block.len;
	}
	if (block == NULL) {
		/* final elsewhere, but we never saw the block: fetch it from
		 * a validator that voted for it */
		for (uint32_t i = 0; i < c->n_votes; i++) {
			const struct cons_vote *s = &c->votes[i];
			if (s->type == LOY_VOTE_COMMIT && s->view == view &&
			    (int)s->idx != c->me &&
			    memcmp(s->hash, hash, LOY_HASH_SIZE) == 0) {
				cons_request_fetch(c, c->vs.keys[s->idx]);
				break;
			}
		}
		return;
	}
	if (cons_block_open(c, block, len, &hdr, h2) != 0 ||
	    memcmp(h2, hash, LOY_HASH_SIZE) != 0)
		return;
	if (build_cert(c, LOY_VOTE_COMMIT, view, hash, &cert) != 0)
		return;
	cons_commit(c, block, len, &hdr, hash, &cert);
}
