/* Verified-signature cache: a ring of the last N hashes plus an
 * open-addressing index into it (twice the ring's size, so probes stay
 * short); an evicted entry is removed from the index by rehashing its run. */
#include "node/vcache.h"

#include <stdlib.h>
#include <string.h>

#include "wire/error.h"

static uint32_t slot_of(const struct loy_vcache *v, const uint8_t *h)
{
	uint32_t x;
	memcpy(&x, h, sizeof x);
	return x & (2 * v->size - 1);
}

int loy_vcache_init(struct loy_vcache *v, uint32_t entries)
{
	uint32_t size = 1024;

	while (size < entries)
		size <<= 1;
	memset(v, 0, sizeof *v);
	v->size = size;
	v->ring = calloc(size, sizeof *v->ring);
	v->table = calloc(2 * (size_t)size, sizeof *v->table);
	if (v->ring == NULL || v->table == NULL ||
	    uv_mutex_init(&v->lock) != 0) {
		free(v->ring);
		free(v->table);
		return LOY_ENOMEM;
	}
	return 0;
}

void loy_vcache_free(struct loy_vcache *v)
{
	if (v->ring == NULL)
		return;
	uv_mutex_destroy(&v->lock);
	free(v->ring);
	free(v->table);
	v->ring = NULL;
	v->table = NULL;
}

/* Index slot holding hash, or the free slot where it would go. */
static uint32_t find(const struct loy_vcache *v, const uint8_t *h, bool *found)
{
	uint32_t mask = 2 * v->size - 1, i = slot_of(v, h);

	for (;; i = (i + 1) & mask) {
		uint32_t e = v->table[i];
		if (e == 0) {
			*found = false;
			return i;
		}
		if (memcmp(v->ring[e - 1], h, LOY_HASH_SIZE) == 0) {
			*found = true;
			return i;
		}
	}
}

/* Removes index slot i and re-places the entries after it in its run
 * (linear-probing deletion without tombstones). */
static void remove_slot(struct loy_vcache *v, uint32_t i)
{
	uint32_t mask = 2 * v->size - 1, j = i;

	v->table[i] = 0;
	for (;;) {
		uint32_t e, home;
		j = (j + 1) & mask;
		e = v->table[j];
		if (e == 0)
			return;
		home = slot_of(v, v->ring[e - 1]);
		/* move e back to i if its home is not in (i, j] cyclically */
		if ((j > i && (home <= i || home > j)) ||
		    (j < i && (home <= i && home > j))) {
			v->table[i] = e;
			v->table[j] = 0;
			i = j;
		}
	}
}

void loy_vcache_add(struct loy_vcache *v, const uint8_t hash[LOY_HASH_SIZE])
{
	bool found;
	uint32_t slot, pos;

	uv_mutex_lock(&v->lock);
	(void)find(v, hash, &found);
	if (!found) {
		pos = v->next;
		/* evict what the ring slot held */
		if (v->table != NULL) {
			static const uint8_t zero[LOY_HASH_SIZE];
			if (memcmp(v->ring[pos], zero, LOY_HASH_SIZE) != 0) {
				bool had;
				uint32_t old = find(v, v->ring[pos], &had);
				if (had && v->table[old] == pos + 1)
					remove_slot(v, old);
			}
		}
		memcpy(v->ring[pos], hash, LOY_HASH_SIZE);
		slot = find(v, hash, &found);
		v->table[slot] = pos + 1;
		v->next = (pos + 1) & (v->size - 1);
	}
	uv_mutex_unlock(&v->lock);
}

bool loy_vcache_has(struct loy_vcache *v, const uint8_t hash[LOY_HASH_SIZE])
{
	bool found;

	uv_mutex_lock(&v->lock);
	(void)find(v, hash, &found);
	uv_mutex_unlock(&v->lock);
	return found;
}
