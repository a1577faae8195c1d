/* Validator reachability for the consensus core (node/reach.h). */
#include "node/reach.h"

#include <string.h>

#include "node/internal.h"

void loy_reach_init(struct loy_reach *r, uint64_t now)
{
	memset(r, 0, sizeof *r);
	r->started = now;
}

static int find(const struct loy_reach *r, const uint8_t *key)
{
	for (uint32_t i = 0; i < r->n; i++)
		if (memcmp(r->peer[i].key, key, LOY_PUBKEY_SIZE) == 0)
			return (int)i;
	return -1;
}

void loy_reach_link(struct loy_reach *r, const uint8_t key[LOY_PUBKEY_SIZE],
		    bool up, uint64_t now)
{
	int i = find(r, key);

	if (i < 0) {
		if (r->n == LOY_MAX_VALIDATORS)
			return;
		i = (int)r->n++;
		memcpy(r->peer[i].key, key, LOY_PUBKEY_SIZE);
		r->peer[i].up = false;
	}
	if (up)
		r->peer[i].last_heard = now;
	if (up == r->peer[i].up)
		return;
	r->peer[i].up = up;
	if (!up)
		r->peer[i].down_since = now;
}

void loy_reach_heard(struct loy_reach *r, const uint8_t key[LOY_PUBKEY_SIZE],
		     uint64_t now)
{
	int i = find(r, key);

	if (i >= 0)
		r->peer[i].last_heard = now;
}

uint64_t loy_node_reach_ping(struct loy_node *n, uint64_t now)
{
	static const uint8_t ping = 0;

	if (now >= n->reach.ping_at && n->net != NULL) {
		loy_peer_net_broadcast(n->net, LOY_CHAN_PING, &ping, 1);
		n->reach.ping_at = now + REACH_PING_MS;
	}
	return n->reach.ping_at;
}

/* When a validator counts as out of reach (down for the grace, or silent
 * on an up link); UINT64_MAX for us. */
static uint64_t out_at(const struct loy_node *n, const uint8_t *key)
{
	const struct loy_reach *r = &n->reach;
	int i;

	if (memcmp(key, n->pk, LOY_PUBKEY_SIZE) == 0)
		return UINT64_MAX;
	i = find(r, key);
	if (i < 0)
		return r->started + REACH_GRACE_MS;
	return r->peer[i].up ? r->peer[i].last_heard + REACH_SILENT_MS
			     : r->peer[i].down_since + REACH_GRACE_MS;
}

void loy_node_reach_refresh(struct loy_node *n, uint64_t now)
{
	struct loy_reach *r = &n->reach;
	uint8_t keys[LOY_MAX_VALIDATORS][LOY_PUBKEY_SIZE];
	uint32_t k = 0;

	for (uint32_t i = 0; i < n->valset.n; i++) {
		if (now >= out_at(n, n->valset.keys[i]))
			memcpy(keys[k++], n->valset.keys[i], LOY_PUBKEY_SIZE);
	}
	if (k == r->n_reported &&
	    memcmp(keys, r->reported, (size_t)k * LOY_PUBKEY_SIZE) == 0)
		return;
	for (uint32_t i = 0; i < k; i++) {
		bool was = false;
		char who[9];
		for (uint32_t j = 0; j < r->n_reported && !was; j++)
			was = memcmp(r->reported[j], keys[i],
				     LOY_PUBKEY_SIZE) == 0;
		if (was)
			continue;
		loy_log_short(who, keys[i]);
		LOG_INFO(&n->log, "consensus",
			 "validator %s unreachable: heights it leads move to "
			 "the next leader at once",
			 who);
	}
	memcpy(r->reported, keys, (size_t)k * LOY_PUBKEY_SIZE);
	r->n_reported = k;
	{
		struct loy_cons_event ev = {.type = LOY_CONS_UNREACHABLE};
		ev.unreachable.count = k;
		ev.unreachable.keys = (const uint8_t(*)[LOY_PUBKEY_SIZE])keys;
		loy_node_cons_event(n, &ev);
	}
}

uint64_t loy_node_reach_next(struct loy_node *n, uint64_t now)
{
	uint64_t next = UINT64_MAX;

	for (uint32_t i = 0; i < n->valset.n; i++) {
		uint64_t at = out_at(n, n->valset.keys[i]);
		if (at > now && at < next)
			next = at;
	}
	return next;
}
