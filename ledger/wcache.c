/* The block cache: the records a block's execution reads and writes, kept
 * in memory while it runs (see ldg_wc_* in ledger/internal.h).
 *
 * Why: a block touches a few records over and over (the totals, each
 * member's position, daily aggregate and nonce) and each get or put of
 * them was an LMDB B-tree descent, a tag check or a tag, and a page copy
 * in the block's child transaction. With the cache a record is read from
 * the store once per block and written once, at the end, in key order.
 *
 * Entries live in chunks that never move, so a value returned by a get
 * stays where it is while later gets fill the cache (LMDB gives the same
 * guarantee for values in its pages). The index is an open-addressing
 * table keyed by SipHash (a random key per cache) of table and key:
 * references are chosen by members, and a keyed hash gives them no way
 * to make lookups collide. Nothing ever iterates the index: the dirty
 * entries are written in (table, key) order.
 *
 * The flush also records each changed record in the block's write set
 * (root.c), once, with its last value: the net change the root hashes,
 * which the write set otherwise had to sort out of every put. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/internal.h"
#include "wire/error.h"

#define CHUNK 1024u

/* ST_UNKNOWN: written to the store past the cache (too big for it) */
enum { ST_ABSENT, ST_PRESENT, ST_UNKNOWN };

struct wce {
	uint64_t h;
	struct wce *next_dirty; /* in its table's list */
	uint8_t db, state;
	bool dirty;  /* holds a write the store has not seen */
	bool linked; /* in its table's dirty list (until the next flush) */
	uint8_t klen;
	uint16_t vlen;
	uint8_t key[LDG_WC_KEY_MAX];
	uint8_t val[LDG_WC_VAL_MAX];
};

struct ldg_wc {
	uint8_t hkey[crypto_shorthash_KEYBYTES];
	struct wce **chunks;
	size_t nchunks, used, max;
	uint32_t *slots; /* entry number + 1, 0 empty */
	size_t cap;      /* power of two, at least twice used */
	struct wce *dirty[LDB_COUNT];
	size_t ndirty[LDB_COUNT];
	/* The last entries found or added, and the last key not found with
	 * its hash: a handler reads a record, then writes it, and a miss is
	 * followed by the fill of what the store said, so most lookups need
	 * no hash (SipHash is most of a lookup's cost). */
	struct wce *recent[4];
	unsigned recent_next;
	struct {
		bool valid;
		uint8_t db, klen;
		uint64_t h;
		uint8_t key[LDG_WC_KEY_MAX];
	} miss;
	struct wce **sorted; /* flush scratch */
	size_t sorted_cap;
	atomic_flag busy;
};

struct ldg_wc *ldg_wc_new(size_t max_entries)
{
	struct ldg_wc *wc = calloc(1, sizeof *wc);
	if (!wc)
		return NULL;
	randombytes_buf(wc->hkey, sizeof wc->hkey);
	wc->max = max_entries;
	atomic_flag_clear(&wc->busy);
	return wc;
}

void ldg_wc_free(struct ldg_wc *wc)
{
	if (!wc)
		return;
	for (size_t i = 0; i < wc->nchunks; i++)
		free(wc->chunks[i]);
	free(wc->chunks);
	free(wc->slots);
	free(wc->sorted);
	free(wc);
}

bool ldg_wc_begin(struct ldg_wc *wc)
{
	if (atomic_flag_test_and_set(&wc->busy))
		return false;
	wc->used = 0;
	if (wc->slots)
		memset(wc->slots, 0, wc->cap * sizeof *wc->slots);
	memset(wc->dirty, 0, sizeof wc->dirty);
	memset(wc->ndirty, 0, sizeof wc->ndirty);
	memset(wc->recent, 0, sizeof wc->recent); /* entries are reused */
	wc->miss.valid = false;
	return true;
}

void ldg_wc_end(struct ldg_wc *wc)
{
	atomic_flag_clear(&wc->busy);
}

static struct wce *ent(const struct ldg_wc *wc, size_t i)
{
	return &wc->chunks[i / CHUNK][i % CHUNK];
}

static uint64_t key_hash(const struct ldg_wc *wc, unsigned db, const void *key,
			 size_t klen)
{
	uint8_t buf[1 + LDG_WC_KEY_MAX], out[crypto_shorthash_BYTES];
	uint64_t h = 0;

	buf[0] = (uint8_t)db;
	memcpy(buf + 1, key, klen);
	crypto_shorthash(out, buf, 1 + klen, wc->hkey);
	for (int i = 0; i < 8; i++)
		h = h << 8 | out[i];
	return h;
}

/* The slot of (db, key): its entry, or the empty slot where it goes. */
static uint32_t *find(struct ldg_wc *wc, uint64_t h, unsigned db,
		      const void *key, size_t klen)
{
	size_t mask = wc->cap - 1, i = (size_t)h & mask;

	for (;; i = (i + 1) & mask) {
		uint32_t s = wc->slots[i];
		if (s == 0)
			return &wc->slots[i];
		struct wce *e = ent(wc, s - 1);
		if (e->h == h && e->db == db && e->klen == klen &&
		    memcmp(e->key, key, klen) == 0)
			return &wc->slots[i];
	}
}

static bool grow_index(struct ldg_wc *wc)
{
	size_t cap = wc->cap ? wc->cap * 2 : 4096;
	uint32_t *s = calloc(cap, sizeof *s);
	if (!s)
		return false;
	for (size_t i = 0; i < wc->used; i++) {
		size_t j = (size_t)ent(wc, i)->h & (cap - 1);
		while (s[j] != 0)
			j = (j + 1) & (cap - 1);
		s[j] = (uint32_t)(i + 1);
	}
	free(wc->slots);
	wc->slots = s;
	wc->cap = cap;
	return true;
}

static void remember_recent(struct ldg_wc *wc, struct wce *e)
{
	wc->recent[wc->recent_next++ % 4] = e;
}

/* A new entry for (db, key), or NULL when the cache is full (or memory
 * is short): the caller then goes to the store. */
static struct wce *add(struct ldg_wc *wc, uint64_t h, unsigned db,
		       const void *key, size_t klen)
{
	if (wc->used >= wc->max || wc->used >= UINT32_MAX - 1)
		return NULL;
	if (2 * (wc->used + 1) > wc->cap && !grow_index(wc))
		return NULL;
	if (wc->used == wc->nchunks * CHUNK) {
		struct wce **cs =
		    realloc(wc->chunks, (wc->nchunks + 1) * sizeof *cs);
		if (!cs)
			return NULL;
		wc->chunks = cs;
		cs[wc->nchunks] = malloc(CHUNK * sizeof **cs);
		if (!cs[wc->nchunks])
			return NULL;
		wc->nchunks++;
	}
	uint32_t *slot = find(wc, h, db, key, klen);
	struct wce *e = ent(wc, wc->used);
	*slot = (uint32_t)++wc->used;
	e->h = h;
	e->db = (uint8_t)db;
	e->klen = (uint8_t)klen;
	e->dirty = false;
	e->linked = false;
	e->next_dirty = NULL;
	memcpy(e->key, key, klen);
	remember_recent(wc, e);
	return e;
}

static bool fits(size_t klen, size_t vlen)
{
	return klen <= LDG_WC_KEY_MAX && vlen <= LDG_WC_VAL_MAX;
}

static bool same(unsigned db, size_t klen, const void *key, unsigned edb,
		 size_t eklen, const uint8_t *ekey)
{
	return db == edb && klen == eklen && memcmp(key, ekey, klen) == 0;
}

/* The entry of (db, key), or NULL and *h, its hash, for add. */
static struct wce *lookup(struct ldg_wc *wc, unsigned db, const void *key,
			  size_t klen, uint64_t *h)
{
	for (unsigned i = 0; i < 4; i++) {
		struct wce *e = wc->recent[i];
		if (e && same(db, klen, key, e->db, e->klen, e->key))
			return e;
	}
	if (wc->miss.valid &&
	    same(db, klen, key, wc->miss.db, wc->miss.klen, wc->miss.key))
		*h = wc->miss.h;
	else
		*h = key_hash(wc, db, key, klen);
	uint32_t s = wc->cap ? *find(wc, *h, db, key, klen) : 0;
	if (s) {
		remember_recent(wc, ent(wc, s - 1));
		return ent(wc, s - 1);
	}
	wc->miss.valid = true;
	wc->miss.db = (uint8_t)db;
	wc->miss.klen = (uint8_t)klen;
	wc->miss.h = *h;
	memcpy(wc->miss.key, key, klen);
	return NULL;
}

int ldg_wc_get(struct ldg_wc *wc, unsigned db, const void *key, size_t klen,
	       MDB_val *val)
{
	uint64_t h;
	struct wce *e;

	if (klen > LDG_WC_KEY_MAX)
		return 1;
	e = lookup(wc, db, key, klen, &h);
	if (!e || e->state == ST_UNKNOWN)
		return 1;
	if (e->state == ST_ABSENT)
		return LOY_ENOTFOUND;
	val->mv_size = e->vlen;
	val->mv_data = e->val;
	return 0;
}

void ldg_wc_remember(struct ldg_wc *wc, unsigned db, const void *key,
		     size_t klen, const MDB_val *val)
{
	uint64_t h;
	struct wce *e;

	if (!fits(klen, val ? val->mv_size : 0))
		return;
	e = lookup(wc, db, key, klen, &h);
	if (e && e->state != ST_UNKNOWN)
		return; /* it knows better: it may hold a write */
	if (!e)
		e = add(wc, h, db, key, klen);
	if (!e)
		return;
	e->state = val ? ST_PRESENT : ST_ABSENT;
	e->vlen = val ? (uint16_t)val->mv_size : 0;
	if (val && val->mv_size)
		memcpy(e->val, val->mv_data, val->mv_size);
}

int ldg_wc_write(struct ldg_wc *wc, unsigned db, const void *key, size_t klen,
		 const void *val, size_t vlen, bool del)
{
	uint64_t h;
	struct wce *e;

	if (klen > LDG_WC_KEY_MAX)
		return 1;
	e = lookup(wc, db, key, klen, &h);
	if (!fits(klen, vlen)) {
		/* the store takes it: a cached copy would be stale */
		if (e) {
			e->state = ST_UNKNOWN;
			e->dirty = false;
		}
		return 1;
	}
	if (!e)
		e = add(wc, h, db, key, klen);
	if (!e)
		return 1;
	e->state = del ? ST_ABSENT : ST_PRESENT;
	e->vlen = del ? 0 : (uint16_t)vlen;
	if (!del && vlen)
		memcpy(e->val, val, vlen);
	e->dirty = true;
	if (!e->linked) {
		e->linked = true;
		e->next_dirty = wc->dirty[db];
		wc->dirty[db] = e;
		wc->ndirty[db]++;
	}
	return 0;
}

static int ent_cmp(const void *x, const void *y)
{
	const struct wce *a = *(struct wce *const *)x,
			 *b = *(struct wce *const *)y;
	size_t n = a->klen < b->klen ? a->klen : b->klen;
	int c = memcmp(a->key, b->key, n);

	if (c != 0)
		return c;
	return a->klen < b->klen ? -1 : a->klen > b->klen;
}

int ldg_wc_flush(struct ldg_wc *wc, struct ldg_txn *t, int only_db)
{
	for (unsigned db = 0; db < LDB_COUNT; db++) {
		size_t n = 0;
		int rc = 0;
		if ((only_db >= 0 && db != (unsigned)only_db) || !wc->dirty[db])
			continue;
		if (wc->ndirty[db] > wc->sorted_cap) {
			struct wce **s =
			    realloc(wc->sorted, wc->ndirty[db] * sizeof *s);
			if (!s)
				return LOY_ENOMEM;
			wc->sorted = s;
			wc->sorted_cap = wc->ndirty[db];
		}
		for (struct wce *e = wc->dirty[db]; e; e = e->next_dirty) {
			e->linked = false;
			if (e->dirty)
				wc->sorted[n++] = e;
		}
		wc->dirty[db] = NULL;
		wc->ndirty[db] = 0;
		/* key order: neighbouring records share pages */
		qsort(wc->sorted, n, sizeof *wc->sorted, ent_cmp);
		for (size_t i = 0; i < n && rc == 0; i++) {
			struct wce *e = wc->sorted[i];
			e->dirty = false;
			rc = ldg_store_write(t, (enum ldb)db, e->key, e->klen,
					     e->state == ST_PRESENT ? e->val
								    : NULL,
					     e->vlen, e->state == ST_ABSENT);
			if (rc == LOY_ENOTFOUND)
				rc = 0; /* put and deleted within the block */
			/* the net change, as ldg_put would have recorded it */
			if (rc == 0 && t->ws && db < LDB_HASHED_COUNT)
				ldg_ws_record(t->ws, db, e->key, e->klen,
					      e->val, e->vlen,
					      e->state == ST_ABSENT);
		}
		if (rc != 0)
			return rc;
	}
	return 0;
}
