/* Byzantine validators in the simulated cluster (equivocation, double
 * votes, forged senders, replays) and the log that proves honest nodes
 * never sign two conflicting messages, across restarts too. */
#include "tests/lib/sim_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "wire/error.h"

static void send_half(struct sim *s, struct sim_node *nd, int odd,
		      const struct loy_buf *b)
{
	for (uint32_t j = 0; j < s->n_nodes; j++)
		if ((int)(j & 1) == odd)
			sim_deliver(s, nd->id, j, b->data, b->len);
}

/* A second proposal for the same (height, view) with one tx left out. */
static void equivocate(struct sim *s, struct sim_node *nd,
		       const struct loy_cmsg *m)
{
	struct loy_block b;
	struct loy_cmsg alt;
	struct loy_buf out = {0};
	uint8_t hash[LOY_HASH_SIZE];

	if (loy_block_decode(&b, m->block.data, m->block.len) != 0)
		return;
	memset(&alt, 0, sizeof alt);
	alt.kind = LOY_CMSG_PROPOSE;
	strcpy(alt.chain_id, m->chain_id);
	alt.height = m->height;
	alt.view = m->view;
	if (sim_ledger_build(&nd->led, s->txs, s->n_txs, s->now,
			     b.header.height, b.header.view,
			     b.header.time_ms + 1, nd->pk, 63, 0, 1,
			     &alt.block) == 0) {
		struct loy_block ab;
		if (loy_block_decode(&ab, alt.block.data, alt.block.len) == 0) {
			if (loy_block_header_hash(&ab.header, hash) == 0 &&
			    loy_cmsg_sign(&alt, hash, nd->sk) == 0 &&
			    loy_cmsg_encode(&alt, &out) == 0)
				send_half(s, nd, 1, &out);
			loy_block_free(&ab);
		}
	}
	loy_buf_free(&out);
	loy_buf_free(&alt.block);
	loy_block_free(&b);
}

/* The same vote for another block, or under an honest validator's key. */
static void bad_vote(struct sim *s, struct sim_node *nd,
		     const struct loy_cmsg *m, int forge)
{
	struct loy_vote v;
	struct loy_cmsg w;
	struct loy_buf out;

	loy_cmsg_to_vote(m, &v);
	v.block_hash[sim_range(s, 0, 31)] ^= (uint8_t)sim_range(s, 1, 255);
	if (loy_vote_sign(&v, nd->sk) != 0)
		return;
	if (forge) {
		/* claim an honest validator's key, keep our signature */
		for (uint32_t j = 0; j < s->n_nodes; j++)
			if (s->nodes[j].honest) {
				memcpy(v.validator, s->nodes[j].pk, 32);
				break;
			}
	}
	loy_cmsg_from_vote(&w, &v);
	if (loy_cmsg_encode(&w, &out) != 0)
		return;
	send_half(s, nd, (int)(sim_rand(s) & 1), &out);
	loy_buf_free(&out);
}

/* Forged VIEW-CHANGE: our message under an honest sender's key. */
static void forge_msg(struct sim *s, struct sim_node *nd,
		      const struct loy_cons_send *m)
{
	struct loy_cmsg f;
	struct loy_buf out;

	if (loy_cmsg_decode(&f, m->data, m->len) != 0)
		return;
	for (uint32_t j = 0; j < s->n_nodes; j++)
		if (s->nodes[j].honest) {
			memcpy(f.sender, s->nodes[j].pk, 32);
			break;
		}
	if (loy_cmsg_encode(&f, &out) == 0) {
		sim_route(s, nd->id, 1, NULL, out.data, out.len);
		loy_buf_free(&out);
	}
	loy_cmsg_free(&f);
}

void sim_byz_send(struct sim *s, struct sim_node *nd,
		  const struct loy_cons_send *m)
{
	struct loy_cmsg d;
	int is_vote;

	if (loy_cmsg_decode(&d, m->data, m->len) != 0)
		return;
	is_vote = d.kind == LOY_CMSG_PREPARE || d.kind == LOY_CMSG_COMMIT;
	if ((nd->byz & SIM_EQUIVOCATE) && d.kind == LOY_CMSG_PROPOSE) {
		send_half(s, nd, 0,
			  &(struct loy_buf){(uint8_t *)m->data, m->len});
		equivocate(s, nd, &d);
	} else {
		sim_route(s, nd->id, m->broadcast, m->to, m->data, m->len);
	}
	if ((nd->byz & SIM_DOUBLE_VOTE) && is_vote)
		bad_vote(s, nd, &d, 0);
	if ((nd->byz & SIM_FORGE) && is_vote)
		bad_vote(s, nd, &d, 1);
	if ((nd->byz & SIM_FORGE) && d.kind == LOY_CMSG_VIEW_CHANGE)
		forge_msg(s, nd, m);
	if (nd->byz & SIM_REPLAY)
		sim_byz_remember(s, nd, m->data, m->len);
	loy_cmsg_free(&d);
}

void sim_byz_remember(struct sim *s, struct sim_node *nd, const uint8_t *data,
		      size_t len)
{
	uint32_t slot = nd->n_replay < SIM_REPLAY_SLOTS
			    ? nd->n_replay++
			    : (uint32_t)sim_range(s, 0, SIM_REPLAY_SLOTS - 1);

	loy_buf_free(&nd->replay[slot]);
	if (loy_buf_copy(&nd->replay[slot], data, len) != 0)
		s->oom = 1;
}

/* Old messages, ours and others', to random nodes. */
void sim_byz_replay(struct sim *s, struct sim_node *nd)
{
	for (int i = 0; i < 2 && nd->n_replay > 0; i++) {
		const struct loy_buf *b =
		    &nd->replay[sim_range(s, 0, nd->n_replay - 1)];
		sim_deliver(s, nd->id,
			    (uint32_t)sim_range(s, 0, s->n_nodes - 1), b->data,
			    b->len);
	}
}

/* Records what an honest node signs; the same (kind, height, view) with
 * different content is a violation. Re-sends are byte-identical. */
void sim_log_signed(struct sim *s, struct sim_node *nd, const uint8_t *data,
		    size_t len)
{
	struct loy_cmsg m;
	struct sim_signed e;

	if (loy_cmsg_decode(&m, data, len) != 0) {
		sim_fail(s, "harness: node %s sent bytes that do not decode",
			 nd->name);
		return;
	}
	memset(&e, 0, sizeof e);
	e.kind = m.kind;
	e.height = m.height;
	e.view = m.view;
	switch (m.kind) {
	case LOY_CMSG_PREPARE:
	case LOY_CMSG_COMMIT:
		memcpy(e.digest, m.hash, 32);
		break;
	case LOY_CMSG_PROPOSE:
	case LOY_CMSG_NEW_VIEW:
		e.kind = LOY_CMSG_PROPOSE; /* one proposal per (height, view) */
		loy_hash(e.digest, m.block.data, m.block.len);
		break;
	case LOY_CMSG_VIEW_CHANGE:
		if (m.prepared)
			loy_hash2(e.digest, m.prepared->block_hash, 32,
				  &m.prepared->view, 8);
		break;
	default:
		loy_cmsg_free(&m);
		return;
	}
	loy_cmsg_free(&m);
	for (uint32_t i = 0; i < nd->n_log; i++) {
		const struct sim_signed *o = &nd->log[i];
		if (o->kind == e.kind && o->height == e.height &&
		    o->view == e.view) {
			if (memcmp(o->digest, e.digest, 32) != 0)
				sim_fail(s,
					 "double-sign: honest node %s signed "
					 "two different kind-%u messages at "
					 "height %" PRIu64 " view %" PRIu64,
					 nd->name, e.kind, e.height, e.view);
			return;
		}
	}
	if (nd->n_log == nd->cap_log) {
		uint32_t cap = nd->cap_log ? 2 * nd->cap_log : 64;
		struct sim_signed *n = realloc(nd->log, cap * sizeof *n);
		if (n == NULL) {
			s->oom = 1;
			return;
		}
		nd->log = n;
		nd->cap_log = cap;
	}
	nd->log[nd->n_log++] = e;
}
