/* Mempool: an arrival-ordered list plus two open-addressing hash tables
 * (transactions by hash, queue length by signer). */
#include "node/mempool.h"

#include <stdlib.h>
#include <string.h>

#include "wire/error.h"

struct entry {
	struct entry *prev, *next; /* arrival order */
	uint8_t hash[LOY_HASH_SIZE];
	uint8_t signer[LOY_PUBKEY_SIZE];
	uint64_t nonce;
	size_t len;
	uint8_t data[]; /* the encoded transaction */
};

struct signer_slot {
	uint8_t key[LOY_PUBKEY_SIZE];
	uint32_t count; /* 0: free slot (tombstones are count 0 with used 1) */
	uint8_t used;
};

struct loy_mempool {
	struct loy_mempool_limits lim;
	struct entry *head, *tail;
	size_t count, bytes;
	struct entry **table; /* by hash; NULL free, TOMB deleted */
	size_t table_size;    /* power of two, > 2 * max_txs */
	size_t tombs;         /* TOMB slots in table */
	struct signer_slot *signers;
	size_t signers_size;
	size_t signers_used; /* slots with used = 1 */
};

static struct entry tomb_entry;
#define TOMB (&tomb_entry)

static uint64_t load64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

static size_t pow2_above(size_t n)
{
	size_t s = 16;
	while (s < n)
		s <<= 1;
	return s;
}

int loy_mempool_new(struct loy_mempool **out,
		    const struct loy_mempool_limits *lim)
{
	struct loy_mempool *mp = calloc(1, sizeof *mp);

	if (mp == NULL)
		return LOY_ENOMEM;
	mp->lim = *lim;
	mp->table_size = pow2_above(lim->max_txs * 2 + 1);
	mp->table = calloc(mp->table_size, sizeof *mp->table);
	mp->signers_size = pow2_above(lim->max_txs * 2 + 1);
	mp->signers = calloc(mp->signers_size, sizeof *mp->signers);
	if (mp->table == NULL || mp->signers == NULL) {
		loy_mempool_free(mp);
		return LOY_ENOMEM;
	}
	*out = mp;
	return 0;
}

void loy_mempool_free(struct loy_mempool *mp)
{
	struct entry *e, *next;

	if (mp == NULL)
		return;
	for (e = mp->head; e; e = next) {
		next = e->next;
		free(e);
	}
	free(mp->table);
	free(mp->signers);
	free(mp);
}

/* Slot of hash, or of the first free slot where it would go (*found = 0). */
static size_t find(const struct loy_mempool *mp, const uint8_t *hash,
		   int *found)
{
	size_t mask = mp->table_size - 1, i = load64(hash) & mask;
	size_t first_tomb = SIZE_MAX;

	for (;; i = (i + 1) & mask) {
		struct entry *e = mp->table[i];
		if (e == NULL) {
			*found = 0;
			return first_tomb != SIZE_MAX ? first_tomb : i;
		}
		if (e == TOMB) {
			if (first_tomb == SIZE_MAX)
				first_tomb = i;
		} else if (memcmp(e->hash, hash, LOY_HASH_SIZE) == 0) {
			*found = 1;
			return i;
		}
	}
}

static struct signer_slot *signer_slot(struct loy_mempool *mp,
				       const uint8_t *key, int create)
{
	size_t mask = mp->signers_size - 1, i = load64(key) & mask;

	for (;; i = (i + 1) & mask) {
		struct signer_slot *s = &mp->signers[i];
		if (!s->used) {
			if (!create)
				return NULL;
			/* keep the table at most half full: rebuild when it
			 * would pass that (slots of drained signers linger) */
			if (mp->signers_used + 1 > mp->signers_size / 2)
				return NULL;
			memcpy(s->key, key, LOY_PUBKEY_SIZE);
			s->used = 1;
			s->count = 0;
			mp->signers_used++;
			return s;
		}
		if (memcmp(s->key, key, LOY_PUBKEY_SIZE) == 0)
			return s;
	}
}

/* Drops signer slots whose queue is empty by rebuilding the table. */
static void compact_signers(struct loy_mempool *mp)
{
	struct signer_slot *old = mp->signers;
	size_t n = mp->signers_size;

	mp->signers = calloc(n, sizeof *mp->signers);
	if (mp->signers == NULL) {
		mp->signers = old;
		return;
	}
	mp->signers_used = 0;
	for (size_t i = 0; i < n; i++)
		if (old[i].used && old[i].count > 0)
			signer_slot(mp, old[i].key, 1)->count = old[i].count;
	free(old);
}

int loy_mempool_add(struct loy_mempool *mp, const uint8_t hash[LOY_HASH_SIZE],
		    const uint8_t signer[LOY_PUBKEY_SIZE], uint64_t nonce,
		    const uint8_t *data, size_t len)
{
	struct signer_slot *s;
	struct entry *e;
	int found;
	size_t slot = find(mp, hash, &found);

	if (found)
		return LOY_EINVAL;
	if (mp->count >= mp->lim.max_txs || mp->bytes + len > mp->lim.max_bytes)
		return LOY_ETOOBIG;
	s = signer_slot(mp, signer, 1);
	if (s == NULL) {
		compact_signers(mp);
		s = signer_slot(mp, signer, 1);
		if (s == NULL)
			return LOY_ETOOBIG;
	}
	if (s->count >= mp->lim.max_per_signer)
		return LOY_ETOOBIG;
	e = malloc(sizeof *e + len);
	if (e == NULL)
		return LOY_ENOMEM;
	memcpy(e->hash, hash, LOY_HASH_SIZE);
	memcpy(e->signer, signer, LOY_PUBKEY_SIZE);
	e->nonce = nonce;
	e->len = len;
	memcpy(e->data, data, len);
	e->next = NULL;
	e->prev = mp->tail;
	if (mp->tail)
		mp->tail->next = e;
	else
		mp->head = e;
	mp->tail = e;
	if (mp->table[slot] == TOMB)
		mp->tombs--;
	mp->table[slot] = e;
	mp->count++;
	mp->bytes += len;
	s->count++;
	return 0;
}

bool loy_mempool_has(const struct loy_mempool *mp,
		     const uint8_t hash[LOY_HASH_SIZE])
{
	int found;
	(void)find(mp, hash, &found);
	return found != 0;
}

/* Rebuilds the hash table from the arrival list, dropping tombstones, so
 * that probing always meets a free slot. */
static void rehash(struct loy_mempool *mp)
{
	memset(mp->table, 0, mp->table_size * sizeof *mp->table);
	mp->tombs = 0;
	for (struct entry *e = mp->head; e; e = e->next) {
		int found;
		mp->table[find(mp, e->hash, &found)] = e;
	}
}

bool loy_mempool_remove(struct loy_mempool *mp,
			const uint8_t hash[LOY_HASH_SIZE])
{
	int found;
	size_t slot = find(mp, hash, &found);
	struct entry *e;
	struct signer_slot *s;

	if (!found)
		return false;
	e = mp->table[slot];
	mp->table[slot] = TOMB;
	mp->tombs++;
	if (e->prev)
		e->prev->next = e->next;
	else
		mp->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		mp->tail = e->prev;
	s = signer_slot(mp, e->signer, 0);
	if (s && s->count > 0)
		s->count--;
	mp->count--;
	mp->bytes -= e->len;
	free(e);
	/* An empty pool lets us drop the tombstones and idle signer slots
	 * without rehashing, but clearing the tables costs their whole size
	 * (megabytes): do it only once they are an eighth full, so a pool
	 * that empties after every small block stays cheap. */
	if (mp->count == 0 && mp->tombs > mp->table_size / 8) {
		memset(mp->table, 0, mp->table_size * sizeof *mp->table);
		mp->tombs = 0;
	}
	if (mp->count == 0 && mp->signers_used > mp->signers_size / 8) {
		memset(mp->signers, 0, mp->signers_size * sizeof *mp->signers);
		mp->signers_used = 0;
	}
	if (mp->count + mp->tombs > mp->table_size / 4 * 3) {
		rehash(mp);
	}
	return true;
}

struct pick {
	const struct entry *e;
	uint32_t group; /* position of the signer's first pick */
};

static int pick_cmp(const void *a, const void *b)
{
	const struct pick *x = a, *y = b;

	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	if (x->e->nonce != y->e->nonce)
		return x->e->nonce < y->e->nonce ? -1 : 1;
	return 0;
}

/* Group of a signer in take: an open-addressing map from signer key to the
 * index of its first pick (UINT32_MAX = free). */
static uint32_t group_of(uint32_t *map, size_t size, const struct pick *picks,
			 uint32_t n)
{
	const uint8_t *key = picks[n].e->signer;
	size_t mask = size - 1, i = load64(key) & mask;

	for (;; i = (i + 1) & mask) {
		if (map[i] == UINT32_MAX) {
			map[i] = n;
			return n;
		}
		if (memcmp(picks[map[i]].e->signer, key, LOY_PUBKEY_SIZE) == 0)
			return picks[map[i]].group;
	}
}

uint32_t loy_mempool_take(const struct loy_mempool *mp, uint32_t max_txs,
			  size_t max_bytes, struct loy_mempool_tx *out)
{
	struct pick *picks;
	uint32_t *map, n = 0, cap;
	size_t bytes = 0, map_size;

	if (max_txs == 0 || mp->count == 0)
		return 0;
	cap = mp->count < max_txs ? (uint32_t)mp->count : max_txs;
	map_size = pow2_above((size_t)cap * 2 + 1);
	picks = malloc(cap * sizeof *picks);
	map = malloc(map_size * sizeof *map);
	if (picks == NULL || map == NULL) {
		free(picks);
		free(map);
		return 0;
	}
	memset(map, 0xff, map_size * sizeof *map);
	for (const struct entry *e = mp->head; e && n < max_txs; e = e->next) {
		if (bytes + e->len > max_bytes)
			break;
		bytes += e->len;
		picks[n].e = e;
		picks[n].group = n;
		/* a signer already picked keeps its first position, so its
		 * transactions stay together and go out in nonce order */
		picks[n].group = group_of(map, map_size, picks, n);
		n++;
	}
	qsort(picks, n, sizeof *picks, pick_cmp);
	for (uint32_t i = 0; i < n; i++) {
		out[i].hash = picks[i].e->hash;
		out[i].data = picks[i].e->data;
		out[i].len = picks[i].e->len;
	}
	free(map);
	free(picks);
	return n;
}

size_t loy_mempool_count(const struct loy_mempool *mp)
{
	return mp->count;
}

size_t loy_mempool_bytes(const struct loy_mempool *mp)
{
	return mp->bytes;
}
