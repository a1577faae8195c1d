/* Catch-up and commit: STATUS beacons, fetching blocks we missed, taking
 * only those whose commit certificates verify against the validator set of
 * their height, and handing final blocks to the node. */
#include "consensus/core.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "wire/error.h"

void cons_send_status(struct loy_cons *c, const uint8_t *to)
{
	struct loy_cmsg m;
	struct loy_buf b;

	memset(&m, 0, sizeof m);
	m.kind = LOY_CMSG_STATUS;
	memcpy(m.chain_id, c->cfg.chain_id, sizeof m.chain_id);
	m.height = c->height - 1;
	memcpy(m.sender, c->pk, LOY_PUBKEY_SIZE);
	memcpy(m.hash, c->last_hash, LOY_HASH_SIZE);
	if (loy_cmsg_encode(&m, &b) != 0) {
		c->oom = 1;
		return;
	}
	cons_queue(c, to == NULL, to, &b, 0);
}

void cons_on_status(struct loy_cons *c, const struct loy_cmsg *m)
{
	/* the sender has finished the height we are deciding */
	if (m->height >= c->height)
		cons_request_fetch(c, m->sender);
}

void cons_request_fetch(struct loy_cons *c, const uint8_t peer[LOY_PUBKEY_SIZE])
{
	struct loy_cons_update *up = c->up;

	if (c->applying) {
		c->fetch_after_apply = 1;
		memcpy(c->fetch_after_peer, peer, LOY_PUBKEY_SIZE);
		return;
	}
	if (c->now < c->fetch_retry_at || (up->flags & LOY_CONS_UPDATE_FETCH))
		return;
	up->flags |= LOY_CONS_UPDATE_FETCH;
	up->fetch.from_height = c->height;
	memcpy(up->fetch.peer, peer, LOY_PUBKEY_SIZE);
	memcpy(c->fetch_peer, peer, LOY_PUBKEY_SIZE);
	c->fetch_retry_at = c->now + c->cfg.fetch_timeout_ms;
	c->catching_up = 0;
}

static bool fetched_has(const struct loy_cons *c, uint64_t height)
{
	for (uint32_t i = 0; i < c->n_fetched; i++)
		if (c->fetched[i].cert.height == height)
			return true;
	return false;
}

static uint64_t fetched_top(const struct loy_cons *c)
{
	uint64_t top = 0;

	for (uint32_t i = 0; i < c->n_fetched; i++)
		if (c->fetched[i].cert.height > top)
			top = c->fetched[i].cert.height;
	return top;
}

void cons_prefetch(struct loy_cons *c)
{
	struct loy_cons_update *up = c->up;
	uint64_t top;

	if (!c->catching_up || c->n_fetched == 0 ||
	    c->n_fetched > LOY_MAX_SYNC_BLOCKS / 2 ||
	    (up->flags & LOY_CONS_UPDATE_FETCH))
		return;
	top = fetched_top(c);
	/* one run ahead at most, and each run asked for once */
	if (top + 1 <= c->prefetch_from || top < c->height)
		return;
	up->flags |= LOY_CONS_UPDATE_FETCH;
	up->fetch.from_height = top + 1;
	memcpy(up->fetch.peer, c->fetch_peer, LOY_PUBKEY_SIZE);
	c->prefetch_from = top + 1;
}

void cons_on_fetched(struct loy_cons *c, const struct loy_cons_event *ev)
{
	if (ev->fetched.count == 0) {
		/* The peer has nothing from there yet (the height is being
		 * decided): ask again soon, not at the retry timeout, or a
		 * node one height behind stays out of the next heights (a
		 * 1 s stall when it leads one). */
		uint64_t soon = c->now + CONS_EMPTY_RETRY_MS;
		if (c->n_fetched == 0 &&
		    c->empty_answers < CONS_EMPTY_RETRIES) {
			c->empty_answers++;
			c->refetch = 1;
			if (c->fetch_retry_at > soon)
				c->fetch_retry_at = soon;
		}
		return;
	}
	c->empty_answers = 0;
	for (uint32_t i = 0;
	     i < ev->fetched.count && c->n_fetched < CONS_FETCH_CAP; i++) {
		const struct loy_cons_fetched *f = &ev->fetched.blocks[i];
		struct cons_fetched *d;

		if (f->cert == NULL || f->cert->height < c->height ||
		    f->block_len == 0 || f->block_len > LOY_MAX_BLOCK_BYTES ||
		    fetched_has(c, f->cert->height))
			continue;
		if (c->fetched == NULL) {
			c->fetched = calloc(CONS_FETCH_CAP, sizeof *c->fetched);
			if (c->fetched == NULL) {
				c->oom = 1;
				return;
			}
		}
		d = &c->fetched[c->n_fetched];
		if (loy_buf_copy(&d->block, f->block, f->block_len) != 0) {
			c->oom = 1;
			return;
		}
		d->cert = *f->cert;
		c->n_fetched++;
	}
	c->fetch_retry_at = 0; /* answered: ask again at once if still behind */
	cons_apply_fetched(c);
	cons_prefetch(c);
}

void cons_apply_fetched(struct loy_cons *c)
{
	uint32_t j = 0;

	while (!c->applying && c->n_fetched > 0) {
		struct cons_fetched *d = NULL;
		struct loy_block_header hdr;
		uint8_t hash[LOY_HASH_SIZE];

		for (uint32_t i = 0; i < c->n_fetched; i++)
			if (c->fetched[i].cert.height == c->height) {
				d = &c->fetched[i];
				break;
			}
		if (d == NULL)
			break;
		if (cons_block_open(c, d->block.data, d->block.len, &hdr,
				    hash) == 0 &&
		    memcmp(hash, d->cert.block_hash, LOY_HASH_SIZE) == 0 &&
		    cons_verify_cert(c, &d->cert, LOY_VOTE_COMMIT) == 0) {
			cons_commit(c, d->block.data, d->block.len, &hdr, hash,
				    &d->cert);
			c->up->commit.fetched = 1;
			c->catching_up = 1;
			loy_buf_free(&d->block);
			d->cert.height = 0; /* spent */
		} else {
			loy_buf_free(&d->block);
			d->cert.height = 0;
			if (!c->applying)
				break;
		}
		/* drop spent and stale entries */
		j = 0;
		for (uint32_t i = 0; i < c->n_fetched; i++) {
			struct cons_fetched *e = &c->fetched[i];
			uint64_t next = c->applying ? c->height + 1 : c->height;

			if (e->block.len == 0 || e->cert.height < next) {
				loy_buf_free(&e->block);
				continue;
			}
			c->fetched[j++] = *e;
		}
		c->n_fetched = j;
		if (c->applying) {
			c->warm_next = 1;
			c->up->flags |= LOY_CONS_UPDATE_AGAIN;
		}
		break; /* the next one waits for LOY_CONS_APPLIED */
	}
	/* a bad entry for our height poisons nothing: drop what is stale */
	j = 0;
	for (uint32_t i = 0; i < c->n_fetched; i++) {
		struct cons_fetched *e = &c->fetched[i];

		if (e->block.len == 0 || e->cert.height < c->height) {
			loy_buf_free(&e->block);
			continue;
		}
		c->fetched[j++] = *e;
	}
	c->n_fetched = j;
}

/* While the node applies a caught-up block, the next one's signatures are
 * checked into the cache (on the next step, once the apply is under way):
 * when LOY_CONS_APPLIED comes, the next block goes out at once instead of
 * after its checks. */
void cons_warm_next(struct loy_cons *c)
{
	if (!c->warm_next)
		return;
	c->warm_next = 0;
	for (uint32_t i = 0; c->applying && i < c->n_fetched; i++)
		if (c->fetched[i].cert.height == c->height + 1) {
			cons_warm_cert(c, &c->fetched[i].cert);
			return;
		}
}

void cons_commit(struct loy_cons *c, const uint8_t *block, size_t len,
		 const struct loy_block_header *hdr,
		 const uint8_t hash[LOY_HASH_SIZE], const struct loy_cert *cert)
{
	struct loy_cons_update *up = c->up;
	struct loy_buf b;

	if (c->applying || loy_buf_copy(&b, block, len) != 0) {
		c->oom = c->oom || !c->applying;
		return;
	}
	loy_buf_free(&c->commit_block);
	c->commit_block = b;
	c->commit_cert = *cert;
	c->applying = 1;
	memcpy(c->applying_hash, hash, LOY_HASH_SIZE);
	c->applying_time = hdr->time_ms;
	up->flags |= LOY_CONS_UPDATE_COMMIT;
	up->commit.height = c->height;
	memcpy(up->commit.hash, hash, LOY_HASH_SIZE);
	up->commit.block = c->commit_block.data;
	up->commit.block_len = c->commit_block.len;
	up->commit.cert = &c->commit_cert;
	c->view_deadline = 0;
}
