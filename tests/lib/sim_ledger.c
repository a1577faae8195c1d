/* The simulated ledger: builds, checks and applies blocks of sim txs. */
#include "tests/lib/sim_ledger.h"

#include <stdlib.h>
#include <string.h>

#include "wire/error.h"

static uint32_t tx_index(const uint8_t *p)
{
	return (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 8 | p[4];
}

static int grow(struct sim_ledger *l)
{
	uint64_t cap = l->cap ? 2 * l->cap : 16;
	struct sim_blk *c = realloc(l->chain, cap * sizeof *c);
	struct loy_valset *v;

	if (c == NULL)
		return LOY_ENOMEM;
	l->chain = c;
	v = realloc(l->vsets, (cap + 2) * sizeof *v);
	if (v == NULL)
		return LOY_ENOMEM;
	l->vsets = v;
	l->cap = cap;
	return 0;
}

int sim_ledger_init(struct sim_ledger *l, const struct loy_valset *genesis)
{
	memset(l, 0, sizeof *l);
	if (grow(l) != 0)
		return LOY_ENOMEM;
	memset(&l->chain[0], 0, sizeof l->chain[0]);
	l->vsets[0] = *genesis;
	l->vsets[1] = *genesis;
	return 0;
}

void sim_ledger_free(struct sim_ledger *l)
{
	for (uint64_t h = 1; h <= l->height; h++)
		loy_buf_free(&l->chain[h].bytes);
	free(l->chain);
	free(l->vsets);
	memset(l, 0, sizeof *l);
}

const uint8_t *sim_ledger_tip_hash(const struct sim_ledger *l)
{
	return l->chain[l->height].hash;
}

uint64_t sim_ledger_tip_time(const struct sim_ledger *l)
{
	return l->chain[l->height].time;
}

uint32_t sim_ledger_pending(const struct sim_ledger *l,
			    const struct sim_tx *txs, uint32_t n_txs,
			    uint64_t now)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < n_txs; i++)
		if (txs[i].at <= now && !l->committed[i])
			n++;
	return n;
}

static void state_after(uint8_t out[LOY_HASH_SIZE],
			const uint8_t prev[LOY_HASH_SIZE],
			const uint8_t tx_root[LOY_HASH_SIZE])
{
	loy_hash2(out, prev, LOY_HASH_SIZE, tx_root, LOY_HASH_SIZE);
}

int sim_ledger_build(const struct sim_ledger *l, const struct sim_tx *txs,
		     uint32_t n_txs, uint64_t now, uint64_t height,
		     uint64_t view, uint64_t time_ms,
		     const uint8_t proposer[LOY_PUBKEY_SIZE], uint32_t max_txs,
		     int bad, uint32_t skip, struct loy_buf *out)
{
	struct loy_buf tb[64];
	uint8_t badtx[5] = {SIM_TX_BAD, 0, 0, 0, 7};
	struct loy_block b;
	uint32_t n = 0;

	if (max_txs > 63)
		max_txs = 63;
	for (uint32_t i = 0; i < n_txs && n < max_txs; i++) {
		if (txs[i].at > now || l->committed[i])
			continue;
		if (skip > 0) {
			skip--;
			continue;
		}
		tb[n].data = (uint8_t *)txs[i].bytes;
		tb[n].len = txs[i].len;
		n++;
	}
	if (bad) {
		tb[n].data = badtx;
		tb[n].len = sizeof badtx;
		n++;
	}
	memset(&b, 0, sizeof b);
	strcpy(b.header.chain_id, SIM_CHAIN);
	b.header.height = height;
	b.header.view = view;
	b.header.time_ms = time_ms;
	memcpy(b.header.prev_hash, l->chain[l->height].hash, LOY_HASH_SIZE);
	loy_tx_root(b.header.tx_root, tb, n);
	state_after(b.header.state_root, l->chain[l->height].state,
		    b.header.tx_root);
	memcpy(b.header.proposer, proposer, LOY_PUBKEY_SIZE);
	b.tx_count = n;
	b.txs = tb;
	return loy_block_encode(&b, out);
}

static int tx_ok(const struct sim_ledger *l, const struct sim_tx *txs,
		 uint32_t n_txs, const struct loy_buf *t)
{
	uint32_t i;

	if (t->len < 5 || t->data[0] == SIM_TX_BAD)
		return 0;
	i = tx_index(t->data);
	if (i >= n_txs || l->committed[i] || t->len != txs[i].len ||
	    memcmp(t->data, txs[i].bytes, t->len) != 0)
		return 0;
	return 1;
}

int sim_ledger_check(const struct sim_ledger *l, const struct sim_tx *txs,
		     uint32_t n_txs, const uint8_t *block, size_t len)
{
	struct loy_block b;
	uint8_t root[LOY_HASH_SIZE], state[LOY_HASH_SIZE];
	int ok = 1;

	if (loy_block_decode(&b, block, len) != 0)
		return 0;
	if (b.header.height != l->height + 1 ||
	    strcmp(b.header.chain_id, SIM_CHAIN) != 0 ||
	    memcmp(b.header.prev_hash, sim_ledger_tip_hash(l), LOY_HASH_SIZE))
		ok = 0;
	loy_tx_root(root, b.txs, b.tx_count);
	state_after(state, l->chain[l->height].state, root);
	if (memcmp(root, b.header.tx_root, LOY_HASH_SIZE) != 0 ||
	    memcmp(state, b.header.state_root, LOY_HASH_SIZE) != 0)
		ok = 0;
	for (uint32_t i = 0; ok && i < b.tx_count; i++) {
		if (!tx_ok(l, txs, n_txs, &b.txs[i]))
			ok = 0;
		for (uint32_t j = 0; ok && j < i; j++)
			if (b.txs[j].len == b.txs[i].len &&
			    memcmp(b.txs[j].data, b.txs[i].data,
				   b.txs[i].len) == 0)
				ok = 0;
	}
	loy_block_free(&b);
	return ok;
}

static void valset_change(struct loy_valset *v, const struct loy_buf *t)
{
	uint32_t at = v->n;

	if (t->len != 5 + LOY_PUBKEY_SIZE)
		return;
	for (uint32_t i = 0; i < v->n; i++)
		if (memcmp(v->keys[i], t->data + 5, LOY_PUBKEY_SIZE) == 0)
			at = i;
	if (t->data[0] == SIM_TX_ADMIT && at == v->n &&
	    v->n < LOY_MAX_VALIDATORS) {
		memcpy(v->keys[v->n++], t->data + 5, LOY_PUBKEY_SIZE);
	} else if (t->data[0] == SIM_TX_REMOVE && at < v->n && v->n > 1) {
		memmove(v->keys[at], v->keys[at + 1],
			(v->n - at - 1) * sizeof v->keys[0]);
		v->n--;
	}
}

int sim_ledger_apply(struct sim_ledger *l, const uint8_t *block, size_t len,
		     const struct loy_cert *cert)
{
	struct loy_block b;
	struct sim_blk *k;
	uint64_t h = l->height + 1;

	if (h + 1 >= l->cap && grow(l) != 0)
		return LOY_ENOMEM;
	if (loy_block_decode(&b, block, len) != 0)
		return LOY_EINVAL;
	k = &l->chain[h];
	memset(k, 0, sizeof *k);
	if (loy_buf_copy(&k->bytes, block, len) != 0) {
		loy_block_free(&b);
		return LOY_ENOMEM;
	}
	k->cert = *cert;
	if (loy_block_header_hash(&b.header, k->hash) != 0) {
		loy_buf_free(&k->bytes);
		loy_block_free(&b);
		return LOY_EINVAL;
	}
	memcpy(k->state, b.header.state_root, LOY_HASH_SIZE);
	k->time = b.header.time_ms;
	l->vsets[h + 1] = l->vsets[h];
	for (uint32_t i = 0; i < b.tx_count; i++) {
		const struct loy_buf *t = &b.txs[i];
		if (t->len >= 5 && t->data[0] != SIM_TX_BAD &&
		    tx_index(t->data) < SIM_MAX_TXS)
			l->committed[tx_index(t->data)] = 1;
		valset_change(&l->vsets[h + 1], t);
	}
	l->height = h;
	loy_block_free(&b);
	return 0;
}
