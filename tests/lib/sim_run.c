/* Scenario set-up for the simulated cluster: nodes, keys, Byzantine roles,
 * the tx stream, fault episodes, and scenarios drawn from a seed. */
#include "tests/lib/sim_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/error.h"

static const char *const fault_names[SIM_FAULT_KINDS] = {
    "drop",  "dup",   "reorder",    "isolate",     "split",   "oneway",
    "crash", "skew",  "equivocate", "double-vote", "invalid", "replay",
    "forge", "twins", "admit",      "remove",
};

void sim_fault_names(unsigned faults, char *out, unsigned cap)
{
	size_t n = 0;

	out[0] = '\0';
	for (unsigned i = 0; i < SIM_FAULT_KINDS; i++)
		if (faults & (1u << i)) {
			int w = snprintf(out + n, cap - n, "%s%s", n ? "+" : "",
					 fault_names[i]);
			if (w < 0 || (size_t)w >= cap - n)
				return;
			n += (size_t)w;
		}
}

static uint32_t f_of(uint32_t n)
{
	return n ? (n - 1) / 3 : 0;
}

enum { EP_START = 1, EP_END, EP_RESTART };

static void schedule_episode(struct sim *s, uint64_t at)
{
	struct sim_ev *e;

	if (at >= SIM_T0 + s->o.fault_ms)
		return;
	e = sim_ev_new(s, SIM_EV_FAULT, UINT32_MAX, at);
	if (e != NULL) {
		e->a = EP_START;
		sim_push(s, e);
	}
}

void sim_fault_episode(struct sim *s, struct sim_ev *e)
{
	static const unsigned kinds[] = {SIM_ISOLATE, SIM_SPLIT, SIM_ONEWAY,
					 SIM_CRASH, SIM_TWINS};
	unsigned pick[5];
	uint32_t n = 0, k;
	struct sim_ev *end;

	if (s->healed)
		return;
	if (e->a == EP_END) {
		s->partition = 0;
		memset(s->cut, 0, sizeof s->cut);
		schedule_episode(s, s->now + sim_range(s, 0, 200));
		return;
	}
	for (uint32_t i = 0; i < 5; i++)
		if (s->o.faults & kinds[i])
			pick[n++] = kinds[i];
	if (n == 0)
		return;
	k = (uint32_t)sim_range(s, 0, s->n_nodes - 1);
	switch (pick[sim_range(s, 0, n - 1)]) {
	case SIM_ISOLATE:
		s->partition = 1;
		for (uint32_t j = 0; j < s->n_nodes; j++)
			s->nodes[j].group = j == k;
		break;
	case SIM_TWINS:
	case SIM_SPLIT:
		/* twin copies (same key) always land on opposite sides */
		s->partition = 1;
		for (uint32_t j = 0; j < s->n_nodes; j++) {
			s->nodes[j].group = (int)(sim_rand(s) & 1);
			for (uint32_t i = 0; i < j; i++)
				if (memcmp(s->nodes[i].pk, s->nodes[j].pk,
					   32) == 0)
					s->nodes[j].group = !s->nodes[i].group;
		}
		break;
	case SIM_ONEWAY:
		for (uint32_t j = 0; j < s->n_nodes; j++) {
			if (sim_chance(s, 50))
				s->cut[k][j] = 1; /* k cannot be heard */
			else
				s->cut[j][k] = 1; /* k cannot hear */
		}
		break;
	case SIM_CRASH:
		sim_crash(s, &s->nodes[k]);
		end = sim_ev_new(s, SIM_EV_RESTART, k,
				 s->now + sim_range(s, 50, 600));
		sim_push(s, end);
		break;
	}
	end = sim_ev_new(s, SIM_EV_FAULT, UINT32_MAX,
			 s->now + sim_range(s, 100, 700));
	if (end != NULL) {
		end->a = EP_END;
		sim_push(s, end);
	}
}

static void add_tx(struct sim *s, uint8_t kind, const uint8_t *pk, uint64_t at)
{
	struct sim_tx *t;
	uint32_t i = s->n_txs;
	struct sim_ev *e;

	if (i == SIM_MAX_TXS)
		return;
	t = &s->txs[s->n_txs++];
	t->bytes[0] = kind;
	t->bytes[1] = (uint8_t)(i >> 24);
	t->bytes[2] = (uint8_t)(i >> 16);
	t->bytes[3] = (uint8_t)(i >> 8);
	t->bytes[4] = (uint8_t)i;
	t->len = 5;
	if (pk != NULL) {
		memcpy(t->bytes + 5, pk, 32);
		t->len += 32;
	}
	t->at = at;
	e = sim_ev_new(s, SIM_EV_TXS, UINT32_MAX, at);
	sim_push(s, e);
}

static void setup(struct sim *s)
{
	const struct sim_opts *o = &s->o;
	struct loy_valset genesis;
	uint32_t twins = o->twins, nbyz = 0, admit = UINT32_MAX;
	uint32_t removed = UINT32_MAX;
	unsigned byz = o->faults & SIM_BYZANTINE & ~SIM_TWINS;
	uint64_t end = SIM_T0 + o->fault_ms + o->live_ms;

	if ((o->faults & SIM_TWINS) && twins == 0)
		twins = 1;
	loy_cons_config_default(&s->cfg);
	strcpy(s->cfg.chain_id, SIM_CHAIN);
	s->cfg.max_block_txs = 16;
	s->cfg.batch_ms = 40;
	s->cfg.view_timeout_ms = 200;
	s->cfg.max_view_timeout_ms = 2400;
	s->cfg.resend_ms = 120;
	s->cfg.fetch_timeout_ms = 200;
	s->cfg.max_clock_skew_ms = 1000;
	s->cfg.test_ignore_prepared = o->ignore_prepared;

	s->n_nodes = o->n;
	if (o->faults & SIM_ADMIT)
		admit = s->n_nodes++;
	for (uint32_t i = 0; i < twins && s->n_nodes < SIM_MAX_NODES; i++)
		s->n_nodes++;
	if (byz) {
		uint32_t f = f_of(o->n);
		if (o->faults & SIM_REMOVE && f_of(o->n - 1) < f)
			f = f_of(o->n - 1);
		nbyz = f > twins ? f - twins : 0;
	}
	memset(&genesis, 0, sizeof genesis);
	for (uint32_t j = 0; j < s->n_nodes; j++) {
		struct sim_node *nd = &s->nodes[j];
		uint8_t seed[32] = {0};
		uint32_t key = j;

		nd->id = j;
		if (j >= o->n + (admit != UINT32_MAX)) /* a twin copy */
			key = j - o->n - (admit != UINT32_MAX);
		seed[0] = (uint8_t)(key + 1);
		loy_keypair_from_seed(nd->pk, nd->sk, seed);
		snprintf(nd->name, sizeof nd->name, "%c%u%s",
			 j < o->n ? 'v' : (j == admit ? 'a' : 't'), key,
			 key < twins && j != admit ? "'" : "");
		nd->honest = key >= twins;
		if (j < o->n && j >= o->n - nbyz) {
			nd->byz = byz;
			nd->honest = 0;
		}
		if (j == admit)
			nd->honest = 1;
		if (o->faults & SIM_SKEW)
			nd->skew = (int64_t)sim_range(s, 0, 600) - 300;
		if (key < twins)
			nd->skew +=
			    (int64_t)(j == key ? 0 : sim_range(s, 1, 7));
		if (j < o->n)
			memcpy(genesis.keys[genesis.n++], nd->pk, 32);
	}
	for (uint32_t j = 0; j < s->n_nodes; j++)
		if (sim_ledger_init(&s->nodes[j].led, &genesis) != 0)
			s->oom = 1;
	for (uint32_t j = 0; j < o->n; j++)
		if (s->nodes[j].honest && removed == UINT32_MAX)
			removed = j;

	/* a steady trickle of txs, and the admin txs during the faults */
	for (uint64_t t = SIM_T0 + sim_range(s, 0, 20); t < end;
	     t += sim_range(s, 10, 40))
		add_tx(s, SIM_TX_PLAIN, NULL, t);
	if (admit != UINT32_MAX) {
		s->admin_tx[s->n_admin++] = s->n_txs;
		add_tx(s, SIM_TX_ADMIT, s->nodes[admit].pk,
		       SIM_T0 + sim_range(s, 0, o->fault_ms / 2));
	}
	if ((o->faults & SIM_REMOVE) && removed != UINT32_MAX) {
		s->admin_tx[s->n_admin++] = s->n_txs;
		add_tx(s, SIM_TX_REMOVE, s->nodes[removed].pk,
		       SIM_T0 + sim_range(s, 0, o->fault_ms / 2));
	}

	if (o->faults & SIM_DROP)
		s->p_drop = (uint32_t)sim_range(s, 5, 30);
	if (o->faults & SIM_DUP)
		s->p_dup = (uint32_t)sim_range(s, 5, 25);
	if (o->faults & SIM_REORDER)
		s->jitter = sim_range(s, 10, 80);
	s->now = SIM_T0;
	schedule_episode(s, SIM_T0 + sim_range(s, 0, 300));
	for (uint32_t j = 0; j < s->n_nodes && !s->oom; j++)
		if (sim_start_node(s, &s->nodes[j]) != 0)
			s->oom = 1;
}

static void teardown(struct sim *s)
{
	for (uint32_t i = 0; i < s->n_heap; i++)
		sim_ev_free(s->heap[i]);
	free(s->heap);
	for (uint32_t j = 0; j < s->n_nodes; j++) {
		struct sim_node *nd = &s->nodes[j];
		sim_crash(s, nd);
		sim_ledger_free(&nd->led);
		loy_buf_free(&nd->rec_block);
		free(nd->log);
		for (uint32_t i = 0; i < nd->n_replay; i++)
			loy_buf_free(&nd->replay[i]);
	}
	free(s->final);
	free(s->has_final);
}

int sim_run(const struct sim_opts *o, struct sim_result *r)
{
	struct sim *s = calloc(1, sizeof *s);
	int rv;

	memset(r, 0, sizeof *r);
	if (s == NULL)
		return LOY_ENOMEM;
	s->o = *o;
	s->r = r;
	s->rng = o->seed * 0x2545f4914f6cdd1dull + 1;
	if (s->o.n == 0 || s->o.n > 12)
		s->o.n = 4;
	if (s->o.live_ms == 0)
		s->o.live_ms = 20000;
	setup(s);
	rv = s->oom ? LOY_ENOMEM : sim_loop(s);
	teardown(s);
	free(s);
	return rv;
}

void sim_opts_from_seed(struct sim_opts *o, uint64_t seed)
{
	static const unsigned net[] = {SIM_ISOLATE, SIM_SPLIT, SIM_ONEWAY,
				       SIM_CRASH};
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull;
	unsigned primary;

	memset(o, 0, sizeof *o);
	o->seed = seed;
	o->n = (seed & 1) ? 7 : 4;
	primary = 1u << ((seed >> 1) % SIM_FAULT_KINDS);
	o->faults = primary;
	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 32;
	for (unsigned i = 0; i < 3; i++)
		if ((x >> i) & 1)
			o->faults |= 1u << i; /* drop, dup, reorder */
	if ((x >> 3) & 1)
		o->faults |= SIM_SKEW;
	if ((x >> 4) & 1)
		o->faults |= net[(x >> 5) & 3];
	if ((primary & SIM_BYZANTINE) && !(primary & SIM_TWINS) &&
	    ((x >> 7) & 1))
		o->faults |= SIM_BYZANTINE & ~SIM_TWINS & (unsigned)(x >> 8);
	/* never more Byzantine keys than f: one twin uses up f at n = 4,
	 * and a removal at n = 4 leaves f = 0 */
	if (o->n == 4 && (o->faults & SIM_TWINS))
		o->faults &= ~(SIM_BYZANTINE & ~SIM_TWINS);
	if (o->n == 4 && (o->faults & SIM_REMOVE))
		o->faults &= ~SIM_BYZANTINE;
	if (o->n == 7 && (o->faults & SIM_REMOVE) && (o->faults & SIM_TWINS))
		o->faults &= ~(SIM_BYZANTINE & ~SIM_TWINS);
	o->fault_ms = 400 + (x >> 16) % 800;
	o->live_ms = 20000;
}
