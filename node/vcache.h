/* Hashes of transactions whose signatures this node has verified, so a
 * transaction is verified once per node whether it arrives first from a
 * client, from a peer's gossip, or inside a proposed block. Thread-safe. */
#ifndef LOY_NODE_VCACHE_H
#define LOY_NODE_VCACHE_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "wire/crypto.h"

struct loy_vcache {
	uv_mutex_t lock;
	uint32_t size;                  /* power of two */
	uint32_t next;                  /* ring position of the next insert */
	uint8_t (*ring)[LOY_HASH_SIZE]; /* insertion order, for eviction */
	uint32_t *table; /* open addressing: ring index + 1, 0 = free */
};

/* Remembers up to `entries` hashes (rounded up to a power of two); the
 * oldest are forgotten first. Returns 0 or LOY_ENOMEM. */
int loy_vcache_init(struct loy_vcache *v, uint32_t entries);
void loy_vcache_free(struct loy_vcache *v);
void loy_vcache_add(struct loy_vcache *v, const uint8_t hash[LOY_HASH_SIZE]);
bool loy_vcache_has(struct loy_vcache *v, const uint8_t hash[LOY_HASH_SIZE]);

#endif
