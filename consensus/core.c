/* The step function: event dispatch, timers, the outbox held back until
 * persists are durable, and the update handed to the node. */
#include "consensus/core.h"

#include <stdlib.h>
#include <string.h>

#include "wire/error.h"

void loy_cons_config_default(struct loy_cons_config *c)
{
	c->max_block_txs = 1024;
	c->max_block_bytes = 1u << 20;
	c->batch_ms = 20;
	c->view_timeout_ms = 1000;
	c->max_view_timeout_ms = 30000;
	c->resend_ms = 500;
	c->fetch_timeout_ms = 1000;
	c->max_clock_skew_ms = 5000;
	c->test_ignore_prepared = 0;
}

int cons_index(const struct loy_cons *c, const uint8_t pk[LOY_PUBKEY_SIZE])
{
	for (uint32_t i = 0; i < c->vs.n; i++)
		if (memcmp(c->vs.keys[i], pk, LOY_PUBKEY_SIZE) == 0)
			return (int)i;
	return -1;
}

uint32_t cons_leader(const struct loy_cons *c, uint64_t view)
{
	return (uint32_t)((c->height + view) % c->vs.n);
}

int cons_is_leader(const struct loy_cons *c, uint64_t view)
{
	return c->me >= 0 && cons_leader(c, view) == (uint32_t)c->me;
}

int cons_is_bad(const struct loy_cons *c, const uint8_t pk[LOY_PUBKEY_SIZE])
{
	for (uint32_t i = 0; i < c->n_bad; i++)
		if (memcmp(c->bad[i], pk, LOY_PUBKEY_SIZE) == 0)
			return 1;
	return 0;
}

uint64_t cons_timeout(const struct loy_cons *c, uint64_t view)
{
	uint64_t t = c->cfg.view_timeout_ms;

	for (uint64_t i = 0; i < view && t < c->cfg.max_view_timeout_ms; i++)
		t *= 2;
	return t < c->cfg.max_view_timeout_ms ? t : c->cfg.max_view_timeout_ms;
}

void cons_arm_view_timer(struct loy_cons *c)
{
	if (c->me >= 0 && c->view_deadline == 0)
		c->view_deadline = c->now + cons_timeout(c, c->view);
}

void cons_mark_persist(struct loy_cons *c)
{
	c->seq++;
	c->persist_dirty = 1;
}

int cons_set_rec_block(struct loy_cons *c, const uint8_t *p, size_t len)
{
	struct loy_buf b = {0};

	if (len && loy_buf_copy(&b, p, len) != 0) {
		c->oom = 1;
		return LOY_ENOMEM;
	}
	loy_buf_free(&c->rec_block);
	c->rec_block = b;
	return 0;
}

void cons_queue(struct loy_cons *c, int broadcast,
		const uint8_t to[LOY_PUBKEY_SIZE], struct loy_buf *bytes,
		int after_persist)
{
	struct cons_out *o;

	if (c->n_out == c->cap_out) {
		uint32_t cap = c->cap_out ? 2 * c->cap_out : 16;
		struct cons_out *n = realloc(c->out, cap * sizeof *n);
		if (n == NULL) {
			c->oom = 1;
			loy_buf_free(bytes);
			return;
		}
		c->out = n;
		c->cap_out = cap;
	}
	o = &c->out[c->n_out++];
	memset(o, 0, sizeof *o);
	o->seq = after_persist ? c->seq : 0;
	o->broadcast = broadcast;
	if (to != NULL)
		memcpy(o->to, to, LOY_PUBKEY_SIZE);
	o->bytes = *bytes;
	bytes->data = NULL;
	bytes->len = 0;
}

void cons_send_mine(struct loy_cons *c, enum cons_mine slot,
		    const struct loy_cmsg *m)
{
	cons_send_mine_at(c, slot, m, 1);
}

void cons_send_mine_at(struct loy_cons *c, enum cons_mine slot,
		       const struct loy_cmsg *m, int after_persist)
{
	struct loy_buf b, copy;

	if (loy_cmsg_encode(m, &b) != 0) {
		c->oom = 1;
		return;
	}
	if (loy_buf_copy(&copy, b.data, b.len) != 0) {
		loy_buf_free(&b);
		c->oom = 1;
		return;
	}
	loy_buf_free(&c->mine[slot]);
	c->mine[slot] = b;
	cons_queue(c, 1, NULL, &copy, after_persist);
}

void cons_evidence(struct loy_cons *c, const struct loy_cons_evidence *e)
{
	struct loy_cons_update *up = c->up;

	if (!cons_is_bad(c, e->validator)) {
		void *n = realloc(c->bad, (c->n_bad + 1) * sizeof *c->bad);
		if (n == NULL) {
			c->oom = 1;
			return;
		}
		c->bad = n;
		memcpy(c->bad[c->n_bad++], e->validator, LOY_PUBKEY_SIZE);
	}
	if (up->n_evidence < CONS_MAX_EVIDENCE)
		c->evidence[up->n_evidence++] = *e;
}

struct cons_cand *cons_cand_find(struct loy_cons *c,
				 const uint8_t hash[LOY_HASH_SIZE])
{
	for (uint32_t i = 0; i < c->n_cands; i++)
		if (memcmp(c->cands[i].hash, hash, LOY_HASH_SIZE) == 0)
			return &c->cands[i];
	return NULL;
}

int cons_block_open(struct loy_cons *c, const uint8_t *p, size_t len,
		    struct loy_block_header *hdr, uint8_t hash[LOY_HASH_SIZE])
{
	struct loy_block b;
	int rv = loy_block_decode(&b, p, len);

	if (rv != 0)
		return rv;
	*hdr = b.header;
	loy_block_free(&b);
	if (strcmp(hdr->chain_id, c->cfg.chain_id) != 0 ||
	    hdr->height != c->height ||
	    memcmp(hdr->prev_hash, c->last_hash, LOY_HASH_SIZE) != 0 ||
	    hdr->time_ms <= c->last_time)
		return LOY_EINVAL;
	return loy_block_header_hash(hdr, hash);
}

int cons_time_ok(const struct loy_cons *c, const struct loy_block_header *hdr)
{
	return hdr->time_ms <= c->now + c->cfg.max_clock_skew_ms;
}

struct cons_cand *cons_cand_add(struct loy_cons *c, const uint8_t *p,
				size_t len, const struct loy_block_header *hdr,
				const uint8_t hash[LOY_HASH_SIZE])
{
	struct cons_cand *k = cons_cand_find(c, hash);

	if (k != NULL)
		return k;
	if (c->n_cands == CONS_MAX_CANDS)
		return NULL;
	k = &c->cands[c->n_cands];
	memset(k, 0, sizeof *k);
	if (loy_buf_copy(&k->bytes, p, len) != 0) {
		c->oom = 1;
		return NULL;
	}
	memcpy(k->hash, hash, LOY_HASH_SIZE);
	k->hdr = *hdr;
	c->n_cands++;
	return k;
}

void cons_cand_request_check(struct loy_cons *c, struct cons_cand *k)
{
	struct loy_cons_update *up = c->up;
	struct loy_cons_check *q;

	if (k->check != CHECK_NONE || c->me < 0 ||
	    up->n_checks == CONS_MAX_CANDS)
		return;
	k->check = CHECK_PENDING;
	q = &c->checks[up->n_checks++];
	q->height = c->height;
	memcpy(q->hash, k->hash, LOY_HASH_SIZE);
	q->block = k->bytes.data;
	q->block_len = k->bytes.len;
}

/* Everything tied to the height being decided. */
static void height_reset(struct loy_cons *c)
{
	for (uint32_t i = 0; i < c->n_cands; i++)
		loy_buf_free(&c->cands[i].bytes);
	c->n_cands = 0;
	c->n_votes = 0;
	cons_vcs_clear(c, UINT64_MAX);
	for (int i = 0; i < MINE_N; i++)
		loy_buf_free(&c->mine[i]);
	c->view = 0;
	c->view_deadline = 0;
	c->has_proposal = 0;
	c->nv_pending = 0;
	c->building = 0;
	c->batch_deadline = 0;
	c->height_since = c->now;
	memset(&c->rec, 0, sizeof c->rec);
	loy_buf_free(&c->rec_block);
	c->rec.height = c->height;
	c->up->n_checks = 0; /* they pointed at the candidates */
}

static void set_valset(struct loy_cons *c, const struct loy_valset *vs)
{
	c->vs = *vs;
	if (c->vs.n > LOY_MAX_VALIDATORS)
		c->vs.n = LOY_MAX_VALIDATORS;
	c->quorum = loy_quorum(c->vs.n);
	c->f = c->vs.n ? (c->vs.n - 1) / 3 : 0;
	c->me = cons_index(c, c->pk);
}

static void on_receive(struct loy_cons *c, const uint8_t *data, size_t len);

static void buffer_future(struct loy_cons *c, const struct loy_cmsg *m,
			  const uint8_t *data, size_t len)
{
	struct cons_future *f;

	if (c->n_future == CONS_MAX_FUTURE ||
	    c->future_bytes + len > CONS_MAX_FUTURE_BYTES)
		return;
	f = &c->future[c->n_future];
	if (loy_buf_copy(&f->bytes, data, len) != 0) {
		c->oom = 1;
		return;
	}
	memcpy(f->from, m->sender, LOY_PUBKEY_SIZE);
	c->future_bytes += len;
	if (c->n_future++ == 0)
		c->future_since = c->now;
}

static void replay_future(struct loy_cons *c)
{
	struct cons_future held[CONS_MAX_FUTURE];
	uint32_t n = c->n_future;

	memcpy(held, c->future, n * sizeof *held);
	c->n_future = 0;
	c->future_bytes = 0;
	for (uint32_t i = 0; i < n; i++) {
		on_receive(c, held[i].bytes.data, held[i].bytes.len);
		loy_buf_free(&held[i].bytes);
	}
}

static void on_applied(struct loy_cons *c, const struct loy_cons_event *ev)
{
	if (!c->applying || ev->applied.height != c->height ||
	    ev->applied.next == NULL || ev->applied.next->n == 0)
		return;
	c->applying = 0;
	c->refetch = 0; /* a new height: the triggers below ask if need be */
	c->empty_answers = 0;
	memcpy(c->last_hash, c->applying_hash, LOY_HASH_SIZE);
	c->last_time = c->applying_time;
	c->height++;
	set_valset(c, ev->applied.next);
	c->pending_txs = ev->applied.pending_txs;
	height_reset(c);
	cons_apply_fetched(c);
	/* A fetched run is used up while we were catching up: ask the same
	 * peer for the next run at once instead of on the retry timer. An
	 * empty answer ends it. */
	if (!c->applying && c->n_fetched == 0 && c->catching_up) {
		c->fetch_retry_at = 0;
		c->prefetch_from = 0; /* lost or empty: ask again from here */
		cons_request_fetch(c, c->fetch_peer);
	}
	cons_prefetch(c);
	if (!c->applying && c->fetch_after_apply) {
		uint8_t peer[LOY_PUBKEY_SIZE];
		memcpy(peer, c->fetch_after_peer, LOY_PUBKEY_SIZE);
		c->fetch_after_apply = 0;
		cons_request_fetch(c, peer);
	}
	if (!c->applying)
		replay_future(c);
}

static int seen_before(struct loy_cons *c, const uint8_t *data, size_t len)
{
	uint8_t d[LOY_HASH_SIZE];

	loy_hash(d, data, len);
	for (uint32_t i = 0; i < CONS_SEEN_SLOTS; i++)
		if (memcmp(c->seen[i], d, LOY_HASH_SIZE) == 0)
			return 1;
	memcpy(c->seen[c->seen_next], d, LOY_HASH_SIZE);
	c->seen_next = (c->seen_next + 1) % CONS_SEEN_SLOTS;
	return 0;
}

static void on_receive(struct loy_cons *c, const uint8_t *data, size_t len)
{
	struct loy_cmsg m;

	if (loy_cmsg_decode(&m, data, len) != 0)
		return;
	if (strcmp(m.chain_id, c->cfg.chain_id) != 0 ||
	    memcmp(m.sender, c->pk, LOY_PUBKEY_SIZE) == 0)
		goto out;
	if (m.kind == LOY_CMSG_STATUS) {
		cons_on_status(c, &m);
		goto out;
	}
	if (m.height < c->height)
		goto out;
	if (m.height > c->height || c->applying) {
		/* the next CONS_FUTURE_HEIGHTS heights are held: a node a
		 * slow apply behind then finds their proposals and votes when
		 * it gets there, instead of waiting for them to be resent */
		if (m.height <= c->height + CONS_FUTURE_HEIGHTS &&
		    m.height > c->height)
			buffer_future(c, &m, data, len);
		else if (m.height == c->height)
			; /* decided; the node is applying it */
		else
			cons_request_fetch(c, m.sender);
		goto out;
	}
	if (cons_index(c, m.sender) < 0)
		goto out;
	switch (m.kind) {
	case LOY_CMSG_PREPARE:
	case LOY_CMSG_COMMIT:
		cons_on_vote(c, &m);
		break;
	case LOY_CMSG_PROPOSE:
		if (!seen_before(c, data, len))
			cons_on_propose(c, &m);
		break;
	case LOY_CMSG_VIEW_CHANGE:
		if (!seen_before(c, data, len))
			cons_on_view_change(c, &m);
		break;
	case LOY_CMSG_NEW_VIEW:
		if (!seen_before(c, data, len))
			cons_on_new_view(c, &m);
		break;
	}
out:
	loy_cmsg_free(&m);
}

static void resend(struct loy_cons *c)
{
	for (int i = 0; i < MINE_N; i++) {
		struct loy_buf b;

		if (c->mine[i].len == 0)
			continue;
		if (loy_buf_copy(&b, c->mine[i].data, c->mine[i].len) != 0) {
			c->oom = 1;
			return;
		}
		cons_queue(c, 1, NULL, &b, 1);
	}
	cons_send_status(c, NULL);
}

static int is_unreachable(const struct loy_cons *c, const uint8_t *key)
{
	for (uint32_t i = 0; i < c->n_unreach; i++)
		if (memcmp(c->unreach[i], key, LOY_PUBKEY_SIZE) == 0)
			return 1;
	return 0;
}

/* Whether to leave view 0 of this height now: it has work, its leader (the
 * height's turn in the rotation) is not us and cannot be reached, and the
 * validators we can reach (us included) still make a quorum for the next
 * view. Only view 0: later views keep their timeouts, so a report that is
 * wrong or flapping costs at most one view change per height, and an
 * isolated node waits for its timeouts instead of racing through views. */
static int leader_unreachable(const struct loy_cons *c)
{
	uint32_t leader, reach = 0;

	if (c->me < 0 || c->n_unreach == 0 || c->view_deadline == 0 ||
	    c->view != 0 || c->rec.in_view_change)
		return 0;
	leader = cons_leader(c, c->view);
	if ((int)leader == c->me || !is_unreachable(c, c->vs.keys[leader]))
		return 0;
	for (uint32_t i = 0; i < c->vs.n; i++)
		reach += (int)i == c->me || !is_unreachable(c, c->vs.keys[i]);
	return reach >= c->quorum;
}

static void on_unreachable(struct loy_cons *c, const struct loy_cons_event *ev)
{
	uint32_t n = ev->unreachable.count;

	if (n > LOY_MAX_VALIDATORS || (n > 0 && ev->unreachable.keys == NULL))
		n = 0;
	for (uint32_t i = 0; i < n; i++)
		memcpy(c->unreach[i], ev->unreachable.keys[i], LOY_PUBKEY_SIZE);
	c->n_unreach = n;
}

/* Progress that depends only on time and state. */
static void drive(struct loy_cons *c)
{
	if (c->applying)
		return;
	if (c->n_future > 0 && c->now >= c->future_since + c->cfg.resend_ms)
		cons_request_fetch(c, c->future[0].from);
	if (c->refetch && c->now >= c->fetch_retry_at) {
		c->refetch = 0;
		cons_request_fetch(c, c->fetch_peer);
	}
	if (cons_is_leader(c, 0) && c->view == 0 && !c->rec.in_view_change &&
	    !c->has_proposal && !c->rec.proposed && !c->building &&
	    c->pending_txs > 0 && c->height != c->quiet_height) {
		/* Gather for batch_ms from the start of the height, not from
		 * the first transaction: on a busy chain (transactions waiting
		 * as the height begins) blocks fill for batch_ms; on an idle
		 * one a transaction arriving later is proposed at once. */
		if (c->batch_deadline == 0)
			c->batch_deadline =
			    c->pending_txs >= c->cfg.max_block_txs
				? c->now
				: c->height_since + c->cfg.batch_ms;
		if (c->now >= c->batch_deadline)
			cons_request_build(c);
	}
	if (c->pending_txs > 0 || c->has_proposal || c->rec.in_view_change ||
	    c->n_votes > 0)
		cons_arm_view_timer(c);
	if (c->view_deadline != 0 &&
	    (c->now >= c->view_deadline || leader_unreachable(c)))
		cons_start_view_change(c, c->view + 1);
	if (c->now >= c->resend_at) {
		if (c->resend_mark == c->height)
			resend(c);
		c->resend_mark = c->height;
		c->resend_at = c->now + c->cfg.resend_ms;
	}
}

/* drive() has acted on every deadline up to now; only later ones count */
static uint64_t min_deadline(const struct loy_cons *c, uint64_t a, uint64_t b)
{
	if (b <= c->now)
		return a;
	return b < a ? b : a;
}

static void finish(struct loy_cons *c)
{
	struct loy_cons_update *up = c->up;
	uint64_t t = UINT64_MAX;
	uint32_t n = 0;

	for (uint32_t i = 0; i < c->n_out; i++)
		if (!c->out[i].released && c->out[i].seq <= c->durable_seq)
			n++;
	if (n > c->cap_sends) {
		struct loy_cons_send *s = realloc(c->sends, n * sizeof *s);
		if (s == NULL) {
			c->oom = 1;
			n = 0;
		} else {
			c->sends = s;
			c->cap_sends = n;
		}
	}
	up->n_sends = 0;
	for (uint32_t i = 0; i < c->n_out && up->n_sends < n; i++) {
		struct cons_out *o = &c->out[i];
		struct loy_cons_send *s;

		if (o->released || o->seq > c->durable_seq)
			continue;
		o->released = 1;
		s = &c->sends[up->n_sends++];
		s->broadcast = o->broadcast;
		memcpy(s->to, o->to, LOY_PUBKEY_SIZE);
		s->data = o->bytes.data;
		s->len = o->bytes.len;
	}
	up->sends = c->sends;
	up->checks = c->checks;
	up->evidence = c->evidence;
	if (c->persist_dirty) {
		c->rec.prepared_block = c->rec_block.data;
		c->rec.prepared_block_len = c->rec_block.len;
		up->flags |= LOY_CONS_UPDATE_PERSIST;
		up->persist = &c->rec;
		up->persist_seq = c->seq;
		c->persist_dirty = 0;
	}
	if (!c->applying) {
		t = min_deadline(c, t, c->view_deadline);
		if (c->me >= 0 && cons_is_leader(c, 0) && !c->has_proposal &&
		    !c->building)
			t = min_deadline(c, t, c->batch_deadline);
		if (c->refetch)
			t = min_deadline(c, t, c->fetch_retry_at);
		if (c->n_future > 0)
			t = min_deadline(
			    c, t,
			    c->fetch_retry_at >
				    c->future_since + c->cfg.resend_ms
				? c->fetch_retry_at
				: c->future_since + c->cfg.resend_ms);
	}
	t = min_deadline(c, t, c->resend_at);
	up->timer_ms = t;
}

/* Drops released messages: the node has had them since the last step. */
static void outbox_compact(struct loy_cons *c)
{
	uint32_t j = 0;

	for (uint32_t i = 0; i < c->n_out; i++) {
		if (c->out[i].released)
			loy_buf_free(&c->out[i].bytes);
		else
			c->out[j++] = c->out[i];
	}
	c->n_out = j;
}

int loy_cons_step(struct loy_cons *c, const struct loy_cons_event *ev,
		  struct loy_cons_update *up)
{
	memset(up, 0, sizeof *up);
	up->timer_ms = UINT64_MAX;
	c->up = up;
	c->oom = 0;
	outbox_compact(c);
	if (ev->now_ms > c->now)
		c->now = ev->now_ms;
	cons_warm_next(c);
	switch (ev->type) {
	case LOY_CONS_TICK:
		break;
	case LOY_CONS_RECEIVE:
		if (ev->receive.data != NULL)
			on_receive(c, ev->receive.data, ev->receive.len);
		break;
	case LOY_CONS_TXS_READY:
		c->pending_txs = ev->txs.count;
		break;
	case LOY_CONS_BLOCK_BUILT:
		cons_on_built(c, ev);
		break;
	case LOY_CONS_BLOCK_CHECKED:
		cons_on_checked(c, ev);
		break;
	case LOY_CONS_PERSISTED:
		if (ev->persisted.seq > c->durable_seq &&
		    ev->persisted.seq <= c->seq)
			c->durable_seq = ev->persisted.seq;
		break;
	case LOY_CONS_APPLIED:
		on_applied(c, ev);
		break;
	case LOY_CONS_FETCHED:
		cons_on_fetched(c, ev);
		break;
	case LOY_CONS_UNREACHABLE:
		on_unreachable(c, ev);
		break;
	case LOY_CONS_PEER_UP:
		if (ev->peer_up.key != NULL)
			cons_send_status(c, ev->peer_up.key);
		break;
	}
	drive(c);
	finish(c);
	c->up = NULL;
	return c->oom ? LOY_ENOMEM : 0;
}

/* Re-creates what a restarted core had signed at its height and view, so it
 * can re-send it (Ed25519 is deterministic: the same bytes as before). */
static int resume(struct loy_cons *c, const struct loy_cons_persist *p)
{
	struct loy_cmsg m;

	c->rec = *p;
	c->rec.prepared_block = NULL;
	c->rec.prepared_block_len = 0;
	if (p->has_prepared &&
	    cons_set_rec_block(c, p->prepared_block, p->prepared_block_len))
		return LOY_ENOMEM;
	c->view = p->view;
	if (c->me < 0)
		return 0;
	/* A recorded PREPARE may name a block that was never checked (see
	 * cons_try_prepare): it binds this view to that block, and the vote
	 * is signed once the block is back and checked. A COMMIT follows our
	 * own PREPARE of a checked block, so both are signed again at once. */
	if (p->voted_commit) {
		cons_sign_vote(c, LOY_VOTE_PREPARE, p->prepare_hash);
		cons_sign_vote(c, LOY_VOTE_COMMIT, p->commit_hash);
	}
	if (p->in_view_change) {
		memset(&m, 0, sizeof m);
		m.kind = LOY_CMSG_VIEW_CHANGE;
		memcpy(m.chain_id, c->cfg.chain_id, sizeof m.chain_id);
		m.height = c->height;
		m.view = c->view;
		if (c->rec.has_prepared) {
			m.prepared = &c->rec.prepared;
			m.block = c->rec_block;
		}
		if (loy_cmsg_sign(&m, c->last_hash, c->cfg.sk) == 0)
			cons_send_mine(c, MINE_VC, &m);
	}
	return c->oom ? LOY_ENOMEM : 0;
}

int loy_cons_new(struct loy_cons **out, const struct loy_cons_config *cfg,
		 const struct loy_cons_start *start)
{
	struct loy_cons *c;
	struct loy_cons_update up;
	int rv;

	*out = NULL;
	if (start->valset.n == 0 || start->valset.n > LOY_MAX_VALIDATORS ||
	    cfg->view_timeout_ms == 0 || cfg->resend_ms == 0)
		return LOY_EINVAL;
	if (start->persist != NULL &&
	    start->persist->height > start->committed_height + 1)
		return LOY_EINVAL; /* the ledger lost blocks we voted past */
	c = calloc(1, sizeof *c);
	if (c == NULL)
		return LOY_ENOMEM;
	c->cache = calloc(CONS_CACHE_SLOTS, sizeof *c->cache);
	if (c->cache == NULL) {
		free(c);
		return LOY_ENOMEM;
	}
	c->cfg = *cfg;
	loy_seckey_pubkey(c->pk, cfg->sk);
	c->now = start->now_ms;
	c->height = start->committed_height + 1;
	memcpy(c->last_hash, start->last_hash, LOY_HASH_SIZE);
	c->last_time = start->last_time_ms;
	set_valset(c, &start->valset);
	c->pending_txs = start->pending_txs;
	c->rec.height = c->height;
	c->resend_at = c->now + c->cfg.resend_ms;
	c->up = &up;
	memset(&up, 0, sizeof up);
	rv = 0;
	/* A view-0 proposal leaves before its record is durable (see
	 * make_propose), so a node that ran before may have proposed at this
	 * height without remembering it: it proposes here only after a view
	 * change, never a second, different view-0 block. */
	if (start->persist != NULL || start->restarted)
		c->quiet_height = c->height;
	if (start->persist != NULL && start->persist->height == c->height)
		rv = resume(c, start->persist);
	c->up = NULL;
	c->persist_dirty = 0;
	if (rv != 0) {
		loy_cons_free(c);
		return rv;
	}
	*out = c;
	return 0;
}

void loy_cons_free(struct loy_cons *c)
{
	struct loy_cons_update up;

	if (c == NULL)
		return;
	memset(&up, 0, sizeof up);
	c->up = &up;
	height_reset(c);
	for (uint32_t i = 0; i < c->n_out; i++)
		loy_buf_free(&c->out[i].bytes);
	for (uint32_t i = 0; i < c->n_future; i++)
		loy_buf_free(&c->future[i].bytes);
	for (uint32_t i = 0; i < c->n_fetched; i++)
		loy_buf_free(&c->fetched[i].block);
	free(c->fetched);
	free(c->out);
	free(c->votes);
	free(c->vcs);
	free(c->bad);
	free(c->sends);
	free(c->cache);
	loy_buf_free(&c->commit_block);
	loy_wipe(c->cfg.sk, sizeof c->cfg.sk);
	free(c);
}

uint64_t loy_cons_height(const struct loy_cons *c)
{
	return c->height;
}

uint64_t loy_cons_view(const struct loy_cons *c)
{
	return c->view;
}

uint64_t loy_cons_view_changes(const struct loy_cons *c)
{
	return c->view_changes;
}
