/* Shared by the hand-driven consensus tests (test_consensus.c,
 * test_consensus_catchup.c): deterministic validator keys, a core's config
 * and start (or a fresh core), a height-1 block, one step, and counting sent
 * messages. */
#ifndef LOY_TEST_CONSENSUS_FIX_H
#define LOY_TEST_CONSENSUS_FIX_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "consensus/consensus.h"
#include "wire/block.h"
#include "wire/consensus_msg.h"
#include "wire/crypto.h"
#include "wire/tx.h"

#define CHAIN "unit-chain"

struct keys {
	uint8_t pk[8][32], sk[8][64];
};

static inline void make_keys(struct keys *k, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uint8_t seed[32] = {0};
		seed[0] = (uint8_t)(i + 1);
		loy_keypair_from_seed(k->pk[i], k->sk[i], seed);
	}
}

static inline void config(struct loy_cons_config *c, const uint8_t sk[64])
{
	memset(c, 0, sizeof *c);
	loy_cons_config_default(c);
	strcpy(c->chain_id, CHAIN);
	memcpy(c->sk, sk, 64);
}

static inline void start(struct loy_cons_start *st, const struct keys *k,
			 uint32_t n, const struct loy_cons_persist *p)
{
	memset(st, 0, sizeof *st);
	st->valset.n = n;
	for (uint32_t i = 0; i < n; i++)
		memcpy(st->valset.keys[i], k->pk[i], 32);
	st->persist = p;
	st->now_ms = 1000;
}

/* A fresh core (no record) for validator `self` among the first n keys. */
static inline struct loy_cons *new_core(const struct keys *k, uint32_t n,
					uint32_t self)
{
	struct loy_cons_config cfg;
	struct loy_cons_start st;
	struct loy_cons *c = NULL;

	config(&cfg, k->sk[self]);
	start(&st, k, n, NULL);
	assert_int_equal(loy_cons_new(&c, &cfg, &st), 0);
	return c;
}

/* A block at height 1 (on genesis) with one tx, proposed by pk. */
static inline void block1(struct loy_buf *out, uint8_t hash[32],
			  const uint8_t pk[32], const char *tx,
			  uint64_t time_ms)
{
	struct loy_block b;
	struct loy_buf t = {(uint8_t *)tx, strlen(tx)};

	memset(&b, 0, sizeof b);
	strcpy(b.header.chain_id, CHAIN);
	b.header.height = 1;
	b.header.time_ms = time_ms;
	memcpy(b.header.proposer, pk, 32);
	b.tx_count = 1;
	b.txs = &t;
	loy_tx_root(b.header.tx_root, &t, 1);
	assert_int_equal(loy_block_encode(&b, out), 0);
	assert_int_equal(loy_block_header_hash(&b.header, hash), 0);
}

static inline int step(struct loy_cons *c, struct loy_cons_event *ev,
		       struct loy_cons_update *up, uint64_t now)
{
	ev->now_ms = now;
	return loy_cons_step(c, ev, up);
}

static inline int count_kind(const struct loy_cons_update *up, uint8_t kind,
			     const uint8_t *hash)
{
	int n = 0;

	for (uint32_t i = 0; i < up->n_sends; i++) {
		struct loy_cmsg m;
		if (loy_cmsg_decode(&m, up->sends[i].data, up->sends[i].len))
			continue;
		if (m.kind == kind &&
		    (hash == NULL || !memcmp(m.hash, hash, 32)))
			n++;
		loy_cmsg_free(&m);
	}
	return n;
}

#endif
