/* Bounds the block-sync answers in preparation per peer (serve_limit.h). */
#include "node/serve_limit.h"

#include <string.h>

void loy_serve_limit_init(struct loy_serve_limit *s, uint32_t per_peer)
{
	memset(s, 0, sizeof *s);
	s->per_peer = per_peer;
}

/* The peer's entry, added when there is room; -1: the shared one. */
static int slot(struct loy_serve_limit *s, const uint8_t key[LOY_PUBKEY_SIZE],
		bool add)
{
	for (uint32_t i = 0; i < s->n; i++)
		if (memcmp(s->peer[i].key, key, LOY_PUBKEY_SIZE) == 0)
			return (int)i;
	if (!add || s->n == LOY_MAX_VALIDATORS)
		return -1;
	memcpy(s->peer[s->n].key, key, LOY_PUBKEY_SIZE);
	s->peer[s->n].busy = 0;
	s->peer[s->n].dropped = 0;
	return (int)s->n++;
}

bool loy_serve_take_n(struct loy_serve_limit *s,
		      const uint8_t key[LOY_PUBKEY_SIZE], uint32_t n,
		      uint64_t *dropped)
{
	int i = slot(s, key, true);
	uint32_t *busy = i >= 0 ? &s->peer[i].busy : &s->other_busy;
	uint64_t *drops = i >= 0 ? &s->peer[i].dropped : &s->other_dropped;

	/* one item goes when nothing is held, however large */
	if (*busy > 0 && (*busy >= s->per_peer || n > s->per_peer - *busy)) {
		*dropped = ++*drops;
		return false;
	}
	*busy = n > UINT32_MAX - *busy ? UINT32_MAX : *busy + n;
	*dropped = *drops;
	return true;
}

bool loy_serve_take(struct loy_serve_limit *s,
		    const uint8_t key[LOY_PUBKEY_SIZE], uint64_t *dropped)
{
	return loy_serve_take_n(s, key, 1, dropped);
}

bool loy_serve_give_n(struct loy_serve_limit *s,
		      const uint8_t key[LOY_PUBKEY_SIZE], uint32_t n)
{
	int i = slot(s, key, false);
	uint32_t *busy = i >= 0 ? &s->peer[i].busy : &s->other_busy;

	if (*busy == 0)
		return false;
	*busy = n > *busy ? 0 : *busy - n;
	return true;
}

bool loy_serve_give(struct loy_serve_limit *s,
		    const uint8_t key[LOY_PUBKEY_SIZE])
{
	return loy_serve_give_n(s, key, 1);
}

uint64_t loy_serve_dropped(const struct loy_serve_limit *s)
{
	uint64_t d = s->other_dropped;

	for (uint32_t i = 0; i < s->n; i++)
		d += s->peer[i].dropped;
	return d;
}
