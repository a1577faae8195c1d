/* Fixed keys and messages shared by the wire tests and the program that
 * generated tests/golden/block_vectors.h: change one and the vectors break,
 * which is the point. */
#ifndef LOY_TESTS_WIRE_FIXTURES_H
#define LOY_TESTS_WIRE_FIXTURES_H

#include <stdint.h>
#include <string.h>

#include "wire/block.h"
#include "wire/crypto.h"
#include "wire/handshake.h"
#include "wire/session.h"

#define FX_CHAIN "loy-test"

/* Key k: the seed bytes k*32+1 .. k*32+32 (k = 0 is 0x01..0x20). */
static inline void fx_key(unsigned k, uint8_t pk[LOY_PUBKEY_SIZE],
			  uint8_t sk[LOY_SECKEY_SIZE])
{
	uint8_t seed[LOY_SEED_SIZE];

	for (unsigned j = 0; j < LOY_SEED_SIZE; j++)
		seed[j] = (uint8_t)(k * 32 + j + 1);
	loy_keypair_from_seed(pk, sk, seed);
}

static inline void fx_txs(struct loy_buf txs[3])
{
	static const char *const t[3] = {"tx-one", "tx-two", "tx-three"};

	for (int i = 0; i < 3; i++) {
		txs[i].data = (uint8_t *)(uintptr_t)t[i];
		txs[i].len = strlen(t[i]);
	}
}

static inline void fx_header(struct loy_block_header *h)
{
	uint8_t sk[LOY_SECKEY_SIZE];
	struct loy_buf txs[3];

	memset(h, 0, sizeof *h);
	strcpy(h->chain_id, FX_CHAIN);
	h->height = 7;
	h->view = 2;
	h->time_ms = 1700000000123u;
	for (unsigned i = 0; i < LOY_HASH_SIZE; i++) {
		h->prev_hash[i] = (uint8_t)i;
		h->state_root[i] = (uint8_t)(0xff - i);
	}
	fx_txs(txs);
	loy_tx_root(h->tx_root, txs, 3);
	fx_key(0, h->proposer, sk);
}

/* A block borrowing static tx bytes: do not loy_block_free it. */
static inline void fx_block(struct loy_block *b, struct loy_buf txs[3])
{
	memset(b, 0, sizeof *b);
	fx_header(&b->header);
	fx_txs(txs);
	b->txs = txs;
	b->tx_count = 3;
}

/* Validator k's vote of the given type for the fixture block. */
static inline int fx_vote(struct loy_vote *v, unsigned k, uint8_t type)
{
	struct loy_block_header h;
	uint8_t pk[LOY_PUBKEY_SIZE], sk[LOY_SECKEY_SIZE];

	memset(v, 0, sizeof *v);
	fx_header(&h);
	v->type = type;
	strcpy(v->chain_id, FX_CHAIN);
	v->height = h.height;
	v->view = h.view;
	if (loy_block_header_hash(&h, v->block_hash) != 0)
		return -1;
	fx_key(k, pk, sk);
	return loy_vote_sign(v, sk);
}

/* A COMMIT certificate signed by validators 0 .. n-1. */
static inline int fx_cert(struct loy_cert *c, unsigned n)
{
	struct loy_vote v;

	memset(c, 0, sizeof *c);
	for (unsigned k = 0; k < n; k++)
		if (fx_vote(&v, k, LOY_VOTE_COMMIT) != 0 ||
		    loy_cert_add(c, &v) != 0)
			return -1;
	return 0;
}

/* 32 bytes counting up from first. */
static inline void fx_bytes(uint8_t *out, size_t n, unsigned first)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)(first + i);
}

/* The HELLO of validator k (0 initiates, 1 responds) and its ephemeral
 * key, both from fixed seeds. */
static inline void fx_hello(struct loy_hs_hello *h, struct loy_eph_key *e,
			    unsigned k)
{
	uint8_t sk[LOY_SECKEY_SIZE], seed[LOY_SEED_SIZE];

	memset(h, 0, sizeof *h);
	strcpy(h->chain_id, FX_CHAIN);
	fx_key(k, h->validator, sk);
	fx_bytes(seed, sizeof seed, 0x41 + 0x40 * k);
	loy_eph_keygen_seed(e, seed);
	memcpy(h->ephemeral, e->pk, LOY_X25519_SIZE);
	fx_bytes(h->nonce, LOY_HS_NONCE_SIZE, 0x61 + 0x40 * k);
}

#endif
