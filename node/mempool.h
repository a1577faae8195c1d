/* The mempool: admitted (signature-verified) transactions waiting for a
 * block, in arrival order, deduplicated by hash, capped in count, bytes and
 * per signer. Loop thread only. */
#ifndef LOY_NODE_MEMPOOL_H
#define LOY_NODE_MEMPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/buf.h"
#include "wire/crypto.h"

struct loy_mempool;

struct loy_mempool_limits {
	size_t max_txs;
	size_t max_bytes;
	size_t max_per_signer;
};

/* A transaction handed out by loy_mempool_take: views into the pool,
 * valid until the next call that removes it. */
struct loy_mempool_tx {
	const uint8_t *hash;
	const uint8_t *data;
	size_t len;
};

int loy_mempool_new(struct loy_mempool **out,
		    const struct loy_mempool_limits *lim) LOY_MUST_USE;
void loy_mempool_free(struct loy_mempool *mp);

/* Adds a verified transaction (bytes copied). Returns 0; LOY_EINVAL when
 * the hash is already in (a duplicate); LOY_ETOOBIG when the pool or the
 * signer's queue is full; LOY_ENOMEM. */
int loy_mempool_add(struct loy_mempool *mp, const uint8_t hash[LOY_HASH_SIZE],
		    const uint8_t signer[LOY_PUBKEY_SIZE], uint64_t nonce,
		    const uint8_t *data, size_t len) LOY_MUST_USE;

bool loy_mempool_has(const struct loy_mempool *mp,
		     const uint8_t hash[LOY_HASH_SIZE]);

/* Removes a transaction if present; returns whether it was. */
bool loy_mempool_remove(struct loy_mempool *mp,
			const uint8_t hash[LOY_HASH_SIZE]);

/* Picks up to max_txs oldest transactions totalling at most max_bytes,
 * each signer's in nonce order, into out (room for max_txs). Nothing is
 * removed: committed ones leave with loy_mempool_remove. Returns the count. */
uint32_t loy_mempool_take(const struct loy_mempool *mp, uint32_t max_txs,
			  size_t max_bytes, struct loy_mempool_tx *out);

size_t loy_mempool_count(const struct loy_mempool *mp);
size_t loy_mempool_bytes(const struct loy_mempool *mp);

#endif
