/* The state root: a hash chain over each block's canonical write set.
 *
 * While a block executes, every put and delete on a consensus database
 * (the "hashed" ones of ledger/internal.h) is appended to the write set.
 * At the end the set is made canonical: sorted by (database, key), only the
 * last change of each key kept, so it is the block's net state change and
 * does not depend on the order in which handlers happened to write. Its
 * serialisation is, per entry,
 *     db (1) || op (1: 0 put, 1 delete) || klen (2, BE) || key ||
 *     vlen (4, BE) || value
 * and
 *     ws_digest = BLAKE2b-256(serialisation)
 *     root(h)   = BLAKE2b-256("loy/state/v1" || h (8, BE) || root(h-1) ||
 *                             ws_digest)
 * with root(-1) all zeroes for the genesis write set at height 0. Because
 * every value is a fixed big-endian layout, two nodes that apply the same
 * blocks produce the same root, and one different byte anywhere in the
 * consensus state changes every later root. */
#include <stdlib.h>
#include <string.h>

#include "ledger/internal.h"
#include "wire/error.h"

#define HDR 8 /* db, op, klen2, vlen4 */

void ldg_ws_init(struct ldg_ws *ws)
{
	memset(ws, 0, sizeof *ws);
}

void ldg_ws_free(struct ldg_ws *ws)
{
	free(ws->data);
	memset(ws, 0, sizeof *ws);
}

void ldg_ws_record(struct ldg_ws *ws, unsigned db, const void *key, size_t klen,
		   const void *val, size_t vlen, bool del)
{
	size_t need = HDR + klen + vlen;
	if (ws->err)
		return;
	if (klen > 0xffff || vlen > 0xffffffffu) {
		ws->err = LOY_ETOOBIG;
		return;
	}
	if (ws->len + need > ws->cap) {
		size_t cap = ws->cap ? ws->cap : 65536;
		while (cap < ws->len + need)
			cap *= 2;
		uint8_t *d = realloc(ws->data, cap);
		if (!d) {
			ws->err = LOY_ENOMEM;
			return;
		}
		ws->data = d;
		ws->cap = cap;
	}
	uint8_t *p = ws->data + ws->len;
	p[0] = (uint8_t)db;
	p[1] = del ? 1 : 0;
	p[2] = (uint8_t)(klen >> 8);
	p[3] = (uint8_t)klen;
	be32put(p + 4, (uint32_t)vlen);
	memcpy(p + HDR, key, klen);
	if (vlen)
		memcpy(p + HDR + klen, val, vlen);
	ws->len += need;
	ws->count++;
}

struct ent {
	const uint8_t *p;
	size_t seq;
};

static size_t ent_klen(const uint8_t *p)
{
	return (size_t)p[2] << 8 | p[3];
}

static int ent_cmp_key(const uint8_t *a, const uint8_t *b)
{
	if (a[0] != b[0])
		return a[0] < b[0] ? -1 : 1;
	size_t ka = ent_klen(a), kb = ent_klen(b);
	int c = memcmp(a + HDR, b + HDR, ka < kb ? ka : kb);
	if (c != 0)
		return c;
	return ka < kb ? -1 : ka > kb;
}

static int ent_cmp(const void *x, const void *y)
{
	const struct ent *a = x, *b = y;
	int c = ent_cmp_key(a->p, b->p);
	if (c != 0)
		return c;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

int ldg_state_root(struct ldg_ws *ws, uint64_t height,
		   const uint8_t prev_root[LOY_HASH_SIZE],
		   uint8_t root[LOY_HASH_SIZE])
{
	uint8_t digest[LOY_HASH_SIZE];
	uint8_t pre[12 + 8 + 2 * LOY_HASH_SIZE];
	struct ent *ents = NULL;
	uint8_t *out = NULL;
	size_t n = 0, olen = 0;

	if (ws->err)
		return ws->err;
	if (ws->count > 0) {
		ents = malloc(ws->count * sizeof *ents);
		out = malloc(ws->len);
		if (!ents || !out) {
			free(ents);
			free(out);
			return LOY_ENOMEM;
		}
		for (size_t off = 0; off < ws->len; n++) {
			const uint8_t *p = ws->data + off;
			ents[n].p = p;
			ents[n].seq = n;
			off += HDR + ent_klen(p) + be32get(p + 4);
		}
		qsort(ents, n, sizeof *ents, ent_cmp);
		for (size_t i = 0; i < n; i++) {
			if (i + 1 < n &&
			    ent_cmp_key(ents[i].p, ents[i + 1].p) == 0)
				continue; /* a later change of the same key wins
					   */
			const uint8_t *p = ents[i].p;
			size_t sz = HDR + ent_klen(p) + be32get(p + 4);
			memcpy(out + olen, p, sz);
			olen += sz;
		}
	}
	loy_hash(digest, out ? out : (const uint8_t *)"", olen);
	free(ents);
	free(out);
	memcpy(pre, "loy/state/v1", 12);
	be64put(pre + 12, height);
	memcpy(pre + 20, prev_root, LOY_HASH_SIZE);
	memcpy(pre + 20 + LOY_HASH_SIZE, digest, LOY_HASH_SIZE);
	loy_hash(root, pre, sizeof pre);
	return 0;
}
