/* The simulated cluster: event queue on a virtual clock, the network and
 * its faults, carrying out each core's update, and the safety and liveness
 * checks. Byzantine behaviours live in sim_byz.c. */
#include "tests/lib/sim_int.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/error.h"

uint64_t sim_rand(struct sim *s)
{
	/* splitmix64: the only randomness, from the scenario seed */
	uint64_t z = (s->rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t sim_range(struct sim *s, uint64_t lo, uint64_t hi)
{
	return lo + (hi > lo ? sim_rand(s) % (hi - lo + 1) : 0);
}

int sim_chance(struct sim *s, uint32_t percent)
{
	return sim_rand(s) % 100 < percent;
}

void sim_fail(struct sim *s, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (s->r->violation)
		return;
	s->r->violation = 1;
	snprintf(s->r->why, sizeof s->r->why, "t=%" PRIu64 ": ", s->now);
	n = strlen(s->r->why);
	va_start(ap, fmt);
	vsnprintf(s->r->why + n, sizeof s->r->why - n, fmt, ap);
	va_end(ap);
}

/* --- event queue: a binary heap ordered by (time, seq) --- */

static int ev_less(const struct sim_ev *a, const struct sim_ev *b)
{
	return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

struct sim_ev *sim_ev_new(struct sim *s, int type, uint32_t node, uint64_t at)
{
	struct sim_ev *e = calloc(1, sizeof *e);

	if (e == NULL) {
		s->oom = 1;
		return NULL;
	}
	e->type = type;
	e->node = node;
	e->at = at < s->now ? s->now : at;
	e->epoch = node < s->n_nodes ? s->nodes[node].epoch : 0;
	return e;
}

void sim_push(struct sim *s, struct sim_ev *e)
{
	uint32_t i;

	if (e == NULL)
		return;
	if (s->n_heap == s->cap_heap) {
		uint32_t cap = s->cap_heap ? 2 * s->cap_heap : 256;
		struct sim_ev **h = realloc(s->heap, cap * sizeof *h);
		if (h == NULL) {
			s->oom = 1;
			sim_ev_free(e);
			return;
		}
		s->heap = h;
		s->cap_heap = cap;
	}
	e->seq = s->seq++;
	i = s->n_heap++;
	while (i > 0 && ev_less(e, s->heap[(i - 1) / 2])) {
		s->heap[i] = s->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	s->heap[i] = e;
}

static struct sim_ev *pop(struct sim *s)
{
	struct sim_ev *top, *last;
	uint32_t i = 0;

	if (s->n_heap == 0)
		return NULL;
	top = s->heap[0];
	last = s->heap[--s->n_heap];
	for (;;) {
		uint32_t l = 2 * i + 1, m = l + 1, k = i;
		const struct sim_ev *best = last;

		if (l < s->n_heap && ev_less(s->heap[l], best)) {
			k = l;
			best = s->heap[l];
		}
		if (m < s->n_heap && ev_less(s->heap[m], best))
			k = m;
		if (k == i)
			break;
		s->heap[i] = s->heap[k];
		i = k;
	}
	if (s->n_heap > 0)
		s->heap[i] = last;
	return top;
}

void sim_ev_free(struct sim_ev *e)
{
	loy_buf_free(&e->buf);
	if (e->rec != NULL) {
		loy_buf_free(&e->rec_block);
		free(e->rec);
	}
	for (uint32_t i = 0; i < e->n_fetch; i++)
		loy_buf_free(&e->fetch[i].block);
	free(e->fetch);
	free(e);
}

/* --- network --- */

uint64_t sim_local(const struct sim *s, const struct sim_node *nd)
{
	return (uint64_t)((int64_t)s->now + nd->skew);
}

int sim_link_ok(const struct sim *s, uint32_t from, uint32_t to)
{
	if (s->nodes[to].down || s->nodes[from].down)
		return 0;
	if (s->partition && s->nodes[from].group != s->nodes[to].group)
		return 0;
	return !s->cut[from][to];
}

static uint64_t delay(struct sim *s)
{
	return sim_range(s, 1, 5) +
	       (s->jitter ? sim_range(s, 0, s->jitter) : 0);
}

/* Hands bytes to the network towards one node (copying them). */
void sim_deliver(struct sim *s, uint32_t from, uint32_t to, const uint8_t *data,
		 size_t len)
{
	int copies = 1;

	if (from == to || !sim_link_ok(s, from, to))
		return;
	if (s->p_drop && sim_chance(s, s->p_drop))
		return;
	if (s->p_dup && sim_chance(s, s->p_dup))
		copies = 2;
	for (int i = 0; i < copies; i++) {
		struct sim_ev *e =
		    sim_ev_new(s, SIM_EV_DELIVER, to, s->now + delay(s));
		if (e == NULL || loy_buf_copy(&e->buf, data, len) != 0) {
			s->oom = 1;
			if (e)
				sim_ev_free(e);
			return;
		}
		sim_push(s, e);
	}
}

/* To every node holding key pk (twins share one), or to all. */
void sim_route(struct sim *s, uint32_t from, int broadcast, const uint8_t *pk,
	       const uint8_t *data, size_t len)
{
	for (uint32_t j = 0; j < s->n_nodes; j++)
		if (broadcast ||
		    memcmp(s->nodes[j].pk, pk, LOY_PUBKEY_SIZE) == 0)
			sim_deliver(s, from, j, data, len);
}

/* --- carrying out updates --- */

static void node_step(struct sim *s, struct sim_node *nd,
		      struct loy_cons_event *ev);

/* loy_cert_verify, as a third party would run it; each distinct
 * certificate once, since honest nodes often hold the same one. */
static int cert_verified(struct sim *s, uint64_t h, const struct loy_cert *c,
			 const struct loy_valset *vs)
{
	uint8_t d[LOY_HASH_SIZE];
	uint32_t slot;

	loy_hash2(d, c, sizeof *c, vs, sizeof *vs);
	slot = (uint32_t)(d[0] | d[1] << 8) % SIM_CERT_SLOTS;
	if (memcmp(s->cert_seen[slot], d, sizeof d) == 0)
		return 1;
	(void)h;
	if (loy_cert_verify(c, (const uint8_t(*)[32])vs->keys, vs->n,
			    loy_quorum(vs->n)) != 0)
		return 0;
	memcpy(s->cert_seen[slot], d, sizeof d);
	return 1;
}

static void check_commit(struct sim *s, struct sim_node *nd,
			 const struct loy_cons_update *up)
{
	uint64_t h = up->commit.height;
	const struct loy_valset *vs = &nd->led.vsets[h];

	if (!nd->honest)
		return;
	if (!sim_ledger_check(&nd->led, s->txs, s->n_txs, up->commit.block,
			      up->commit.block_len))
		sim_fail(s,
			 "validity: node %s committed an invalid block at "
			 "height %" PRIu64,
			 nd->name, h);
	if (!cert_verified(s, h, up->commit.cert, vs) ||
	    up->commit.cert->type != LOY_VOTE_COMMIT ||
	    memcmp(up->commit.cert->block_hash, up->commit.hash, 32) != 0)
		sim_fail(s,
			 "certificate: node %s holds a commit certificate that "
			 "does not verify at height %" PRIu64,
			 nd->name, h);
	if (h >= s->cap_final) {
		uint64_t cap = 2 * h + 16;
		uint8_t(*f)[32] = realloc(s->final, cap * sizeof *f);
		uint8_t *hf = realloc(s->has_final, cap);
		if (f == NULL || hf == NULL) {
			s->oom = 1;
			free(f ? (void *)f : (void *)s->final);
			return;
		}
		memset(hf + s->cap_final, 0, cap - s->cap_final);
		s->final = f;
		s->has_final = hf;
		s->cap_final = cap;
	}
	if (!s->has_final[h]) {
		s->has_final[h] = 1;
		memcpy(s->final[h], up->commit.hash, 32);
		if (h > s->r->height)
			s->r->height = h;
	} else if (memcmp(s->final[h], up->commit.hash, 32) != 0) {
		sim_fail(s,
			 "agreement: node %s finalised a different block at "
			 "height %" PRIu64,
			 nd->name, h);
	}
}

static void do_fetch(struct sim *s, struct sim_node *nd,
		     const struct loy_cons_update *up)
{
	uint32_t from = UINT32_MAX;
	struct sim_ev *e;
	uint64_t h0 = up->fetch.from_height;

	for (uint32_t j = 0; j < s->n_nodes; j++)
		if (memcmp(s->nodes[j].pk, up->fetch.peer, 32) == 0 &&
		    sim_link_ok(s, nd->id, j) && sim_link_ok(s, j, nd->id)) {
			from = j;
			break;
		}
	if (from == UINT32_MAX)
		return;
	e = sim_ev_new(s, SIM_EV_FETCH, nd->id, s->now + 2 * delay(s));
	if (e == NULL)
		return;
	const struct sim_ledger *l = &s->nodes[from].led;
	/* a peer without that height answers with nothing, as loyd does */
	uint64_t n = l->height >= h0 ? l->height - h0 + 1 : 0;
	if (n > LOY_MAX_SYNC_BLOCKS)
		n = LOY_MAX_SYNC_BLOCKS;
	e->fetch = calloc(n ? n : 1, sizeof *e->fetch);
	if (e->fetch == NULL) {
		s->oom = 1;
		sim_ev_free(e);
		return;
	}
	for (uint64_t i = 0; i < n; i++) {
		const struct sim_blk *b = &l->chain[h0 + i];
		if (loy_buf_copy(&e->fetch[i].block, b->bytes.data,
				 b->bytes.len) != 0)
			s->oom = 1;
		e->fetch[i].cert = b->cert;
		e->n_fetch++;
	}
	sim_push(s, e);
}

static void apply_update(struct sim *s, struct sim_node *nd,
			 const struct loy_cons_update *up)
{
	struct sim_ev *e;

	if (up->flags & LOY_CONS_UPDATE_PERSIST) {
		/* the disk completes writes in order */
		uint64_t at = s->now + sim_range(s, 0, 3);
		if (at < nd->persist_at)
			at = nd->persist_at;
		nd->persist_at = at;
		e = sim_ev_new(s, SIM_EV_PERSIST, nd->id, at);
		if (e != NULL) {
			e->rec = malloc(sizeof *e->rec);
			if (e->rec == NULL ||
			    loy_buf_copy(
				&e->rec_block, up->persist->prepared_block,
				up->persist->prepared_block_len) != 0) {
				s->oom = 1;
				sim_ev_free(e);
			} else {
				*e->rec = *up->persist;
				e->a = up->persist_seq;
				sim_push(s, e);
			}
		}
	}
	for (uint32_t i = 0; i < up->n_evidence; i++) {
		for (uint32_t j = 0; j < s->n_nodes; j++)
			if (s->nodes[j].honest &&
			    memcmp(s->nodes[j].pk, up->evidence[i].validator,
				   32) == 0)
				sim_fail(s,
					 "evidence: node %s accused an honest "
					 "validator at height %" PRIu64
					 " view %" PRIu64,
					 nd->name, up->evidence[i].height,
					 up->evidence[i].view);
		s->r->evidence++;
	}
	for (uint32_t i = 0; i < up->n_sends; i++) {
		const struct loy_cons_send *m = &up->sends[i];
		if (nd->honest)
			sim_log_signed(s, nd, m->data, m->len);
		if (nd->byz)
			sim_byz_send(s, nd, m);
		else
			sim_route(s, nd->id, m->broadcast, m->to, m->data,
				  m->len);
	}
	if (up->flags & LOY_CONS_UPDATE_BUILD) {
		e = sim_ev_new(s, SIM_EV_BUILT, nd->id, s->now + 1);
		if (e != NULL) {
			e->a = up->build.height;
			e->b = up->build.view;
			if (sim_ledger_build(
				&nd->led, s->txs, s->n_txs, s->now,
				up->build.height, up->build.view,
				up->build.time_ms, nd->pk, up->build.max_txs,
				(nd->byz & SIM_INVALID) != 0, 0, &e->buf) != 0)
				loy_buf_free(&e->buf);
			sim_push(s, e);
		}
	}
	for (uint32_t i = 0; i < up->n_checks; i++) {
		const struct loy_cons_check *q = &up->checks[i];
		e = sim_ev_new(s, SIM_EV_CHECKED, nd->id,
			       s->now + sim_range(s, 0, 2));
		if (e == NULL)
			break;
		memcpy(e->hash, q->hash, 32);
		/* a Byzantine validator votes for whatever it is sent */
		e->a = (nd->byz & SIM_INVALID) ||
		       sim_ledger_check(&nd->led, s->txs, s->n_txs, q->block,
					q->block_len);
		sim_push(s, e);
	}
	if (up->flags & LOY_CONS_UPDATE_FETCH)
		do_fetch(s, nd, up);
	nd->timer_gen++;
	if (up->timer_ms != UINT64_MAX) {
		int64_t at = (int64_t)up->timer_ms - nd->skew;
		e = sim_ev_new(s, SIM_EV_TIMER, nd->id,
			       at < (int64_t)s->now ? s->now : (uint64_t)at);
		if (e != NULL) {
			e->a = nd->timer_gen;
			sim_push(s, e);
		}
	}
	if (up->flags & LOY_CONS_UPDATE_COMMIT) {
		struct loy_cons_event ev;
		uint64_t h = up->commit.height;

		if (h != nd->led.height + 1) {
			sim_fail(s,
				 "harness: node %s committed height %" PRIu64
				 " out of order (tip %" PRIu64 ")",
				 nd->name, h, nd->led.height);
			return;
		}
		check_commit(s, nd, up);
		if (sim_ledger_apply(&nd->led, up->commit.block,
				     up->commit.block_len,
				     up->commit.cert) != 0) {
			s->oom = 1;
			return;
		}
		if (nd->honest && h == s->r->height)
			s->r->validators = nd->led.vsets[h + 1].n;
		memset(&ev, 0, sizeof ev);
		ev.type = LOY_CONS_APPLIED;
		ev.applied.height = h;
		ev.applied.next = &nd->led.vsets[h + 1];
		ev.applied.pending_txs =
		    sim_ledger_pending(&nd->led, s->txs, s->n_txs, s->now);
		node_step(s, nd, &ev);
	}
	/* put-off work: a node steps again at once, or (sometimes) leaves it
	 * to the next event, which the core must also cope with */
	if ((up->flags & LOY_CONS_UPDATE_AGAIN) && sim_range(s, 0, 3) != 0) {
		struct loy_cons_event ev;

		memset(&ev, 0, sizeof ev);
		ev.type = LOY_CONS_TICK;
		node_step(s, nd, &ev);
	}
}

static void node_step(struct sim *s, struct sim_node *nd,
		      struct loy_cons_event *ev)
{
	struct loy_cons_update up;

	if (nd->down || nd->core == NULL || s->r->violation)
		return;
	ev->now_ms = sim_local(s, nd);
	if (loy_cons_step(nd->core, ev, &up) != 0) {
		s->oom = 1;
		return;
	}
	s->r->steps++;
	apply_update(s, nd, &up);
}

/* What a node's links would tell it: the validators it cannot reach now
 * (crashed, partitioned away, cut), and now and then a wrong entry, as a
 * link that flaps would report. Only liveness may depend on it. */
static void report_unreachable(struct sim *s, struct sim_node *nd)
{
	uint8_t keys[SIM_MAX_NODES][LOY_PUBKEY_SIZE];
	struct loy_cons_event ev;
	uint32_t me = (uint32_t)(nd - s->nodes), k = 0;

	for (uint32_t i = 0; i < s->n_nodes; i++)
		if (i != me &&
		    (!sim_link_ok(s, i, me) || sim_range(s, 0, 99) < 3))
			memcpy(keys[k++], s->nodes[i].pk, LOY_PUBKEY_SIZE);
	memset(&ev, 0, sizeof ev);
	ev.type = LOY_CONS_UNREACHABLE;
	ev.unreachable.count = k;
	ev.unreachable.keys = (const uint8_t(*)[LOY_PUBKEY_SIZE])keys;
	node_step(s, nd, &ev);
}

void sim_tick(struct sim *s, struct sim_node *nd)
{
	struct loy_cons_event ev;

	if (sim_range(s, 0, 3) == 0)
		report_unreachable(s, nd);
	memset(&ev, 0, sizeof ev);
	ev.type = LOY_CONS_TICK;
	node_step(s, nd, &ev);
}

/* A (re)started node's links come up: each side's core hears of it
 * (LOY_CONS_PEER_UP), where the link works now. */
static void links_up(struct sim *s, struct sim_node *nd)
{
	uint32_t me = (uint32_t)(nd - s->nodes);

	for (uint32_t i = 0; i < s->n_nodes; i++) {
		struct sim_node *o = &s->nodes[i];
		struct loy_cons_event ev;

		if (i == me || o->down || !sim_link_ok(s, i, me))
			continue;
		memset(&ev, 0, sizeof ev);
		ev.type = LOY_CONS_PEER_UP;
		ev.peer_up.key = nd->pk;
		node_step(s, o, &ev);
		ev.peer_up.key = o->pk;
		node_step(s, nd, &ev);
	}
}

int sim_start_node(struct sim *s, struct sim_node *nd)
{
	struct loy_cons_start st;
	int rv;

	memset(&st, 0, sizeof st);
	st.committed_height = nd->led.height;
	memcpy(st.last_hash, sim_ledger_tip_hash(&nd->led), 32);
	st.last_time_ms = sim_ledger_tip_time(&nd->led);
	st.valset = nd->led.vsets[nd->led.height + 1];
	if (nd->has_rec) {
		nd->rec.prepared_block = nd->rec_block.data;
		nd->rec.prepared_block_len = nd->rec_block.len;
		st.persist = &nd->rec;
	}
	st.restarted = nd->epoch > 0;
	st.pending_txs = sim_ledger_pending(&nd->led, s->txs, s->n_txs, s->now);
	st.now_ms = sim_local(s, nd);
	memcpy(s->cfg.sk, nd->sk, sizeof s->cfg.sk);
	rv = loy_cons_new(&nd->core, &s->cfg, &st);
	loy_wipe(s->cfg.sk, sizeof s->cfg.sk);
	if (rv != 0)
		return rv;
	nd->down = 0;
	nd->epoch++;
	sim_tick(s, nd);
	links_up(s, nd);
	return 0;
}

void sim_crash(struct sim *s, struct sim_node *nd)
{
	if (nd->down)
		return;
	if (nd->core != NULL)
		s->r->view_changes += loy_cons_view_changes(nd->core);
	loy_cons_free(nd->core);
	nd->core = NULL;
	nd->down = 1;
	nd->epoch++; /* in-flight persists and answers are lost */
}

static void handle(struct sim *s, struct sim_ev *e)
{
	struct sim_node *nd = e->node < s->n_nodes ? &s->nodes[e->node] : NULL;
	struct loy_cons_event ev;

	memset(&ev, 0, sizeof ev);
	if (nd != NULL && e->type != SIM_EV_RESTART &&
	    (nd->down || e->epoch != nd->epoch))
		return; /* lost with the crash */
	switch (e->type) {
	case SIM_EV_DELIVER:
		if (nd->byz & SIM_REPLAY)
			sim_byz_remember(s, nd, e->buf.data, e->buf.len);
		ev.type = LOY_CONS_RECEIVE;
		ev.receive.data = e->buf.data;
		ev.receive.len = e->buf.len;
		node_step(s, nd, &ev);
		break;
	case SIM_EV_TIMER:
		if (e->a != nd->timer_gen)
			return;
		if (nd->byz & SIM_REPLAY)
			sim_byz_replay(s, nd);
		sim_tick(s, nd);
		break;
	case SIM_EV_PERSIST:
		nd->has_rec = 1;
		loy_buf_free(&nd->rec_block);
		nd->rec = *e->rec;
		nd->rec_block = e->rec_block;
		e->rec_block.data = NULL;
		e->rec_block.len = 0;
		ev.type = LOY_CONS_PERSISTED;
		ev.persisted.seq = e->a;
		node_step(s, nd, &ev);
		break;
	case SIM_EV_BUILT:
		ev.type = LOY_CONS_BLOCK_BUILT;
		ev.built.height = e->a;
		ev.built.view = e->b;
		ev.built.data = e->buf.len ? e->buf.data : NULL;
		ev.built.len = e->buf.len;
		node_step(s, nd, &ev);
		break;
	case SIM_EV_CHECKED:
		ev.type = LOY_CONS_BLOCK_CHECKED;
		memcpy(ev.checked.hash, e->hash, 32);
		ev.checked.ok = (int)e->a;
		node_step(s, nd, &ev);
		break;
	case SIM_EV_FETCH: {
		struct loy_cons_fetched f[LOY_MAX_SYNC_BLOCKS];
		for (uint32_t i = 0; i < e->n_fetch; i++) {
			f[i].block = e->fetch[i].block.data;
			f[i].block_len = e->fetch[i].block.len;
			f[i].cert = &e->fetch[i].cert;
		}
		ev.type = LOY_CONS_FETCHED;
		ev.fetched.count = e->n_fetch;
		ev.fetched.blocks = f;
		node_step(s, nd, &ev);
		break;
	}
	case SIM_EV_TXS:
		for (uint32_t j = 0; j < s->n_nodes; j++) {
			struct sim_node *m = &s->nodes[j];
			if (m->down)
				continue;
			memset(&ev, 0, sizeof ev);
			ev.type = LOY_CONS_TXS_READY;
			ev.txs.count = sim_ledger_pending(&m->led, s->txs,
							  s->n_txs, s->now);
			node_step(s, m, &ev);
		}
		break;
	case SIM_EV_RESTART:
		if (nd->down && e->epoch == nd->epoch &&
		    sim_start_node(s, nd) != 0)
			s->oom = 1;
		break;
	case SIM_EV_FAULT:
		sim_fault_episode(s, e);
		break;
	}
}

/* Liveness: after healing, every honest node passes the highest height
 * any honest node had when the faults stopped, and holds the scenario's
 * validator-set changes. */
static int live_reached(const struct sim *s)
{
	for (uint32_t j = 0; j < s->n_nodes; j++) {
		const struct sim_node *nd = &s->nodes[j];

		if (!nd->honest)
			continue;
		if (nd->led.height <= s->heal_height)
			return 0;
		/* validator-set changes must take effect too */
		for (uint32_t i = 0; i < s->n_admin; i++)
			if (!nd->led.committed[s->admin_tx[i]])
				return 0;
	}
	return 1;
}

static void heal(struct sim *s)
{
	s->healed = 1;
	s->heal_at = s->now;
	s->partition = 0;
	s->p_drop = 0;
	s->p_dup = 0;
	s->jitter = 0;
	memset(s->cut, 0, sizeof s->cut);
	s->heal_height = 0;
	for (uint32_t j = 0; j < s->n_nodes; j++) {
		struct sim_node *nd = &s->nodes[j];
		if (nd->honest && nd->led.height > s->heal_height)
			s->heal_height = nd->led.height;
	}
	for (uint32_t j = 0; j < s->n_nodes; j++)
		if (s->nodes[j].down) {
			s->nodes[j].epoch++;
			if (sim_start_node(s, &s->nodes[j]) != 0)
				s->oom = 1;
		}
}

int sim_loop(struct sim *s)
{
	struct sim_ev *e;

	while (!s->r->violation && !s->oom && (e = pop(s)) != NULL) {
		if (!s->healed && e->at >= s->o.fault_ms + SIM_T0) {
			s->now = s->o.fault_ms + SIM_T0;
			heal(s);
		}
		s->now = e->at;
		handle(s, e);
		sim_ev_free(e);
		if (s->healed && live_reached(s)) {
			s->r->heal_to_commit_ms = s->now - s->heal_at;
			break;
		}
		if (s->r->steps > SIM_MAX_STEPS) {
			sim_fail(s, "harness: over %u steps (a busy loop?)",
				 SIM_MAX_STEPS);
			break;
		}
		if (s->healed && s->now > s->heal_at + s->o.live_ms) {
			sim_fail(s,
				 "liveness: no new block final at every honest "
				 "node within %" PRIu64
				 " ms of healing (height %" PRIu64 ")",
				 s->o.live_ms, s->heal_height);
			break;
		}
	}
	return s->oom ? LOY_ENOMEM : 0;
}
