/* Block sync over peer links: serve runs of committed blocks with their
 * certificates, and fetch them for a core that is behind. The core checks
 * every certificate against the validator set of its height. */
#include "node/internal.h"

#include <stdlib.h>
#include <string.h>

#include "ledger/query.h"
#include "wire/error.h"
#include "wire/sync.h"

struct serve_job {
	struct loy_job job;
	uint8_t peer[LOY_PUBKEY_SIZE];
	struct loy_sync_request req;
	struct loy_buf out;
	int rv;
	uint32_t served;
	uint64_t damaged; /* height of a stored block that fails its checks */
	uint64_t t_queued, t_ran;
};

/* A run served at once: small enough that the first blocks of a catch-up
 * arrive soon (a full 8 MiB frame took ~0.4 s to read, send and decode),
 * while the asker's core asks for the next run before this one is used up
 * (consensus/catchup.c). */
#define SERVE_MAX_BYTES (2u << 20)

static void serve_run(struct loy_job *j)
{
	struct serve_job *s = (struct serve_job *)j;
	struct loy_sync_response resp = {0};
	size_t bytes = 0;

	for (uint32_t i = 0; i < s->req.max_count && bytes < SERVE_MAX_BYTES;
	     i++) {
		struct loy_buf b = {0}, c = {0};
		int rv = loy_ledger_block(j->node->ledger,
					  s->req.from_height + i, &b, &c);
		/* a record whose integrity tag fails reads as LOY_ECORRUPT:
		 * a node never serves a damaged block */
		if (rv == LOY_ECORRUPT) {
			s->damaged = s->req.from_height + i;
			rv = LOY_ECORRUPT;
		}
		if (rv == 0)
			rv = loy_sync_response_add(&resp, b.data, b.len, c.data,
						   c.len);
		bytes += b.len + c.len;
		loy_buf_free(&b);
		loy_buf_free(&c);
		if (rv != 0)
			break; /* not there yet, or the response is full */
	}
	s->served = resp.count;
	s->rv = loy_sync_response_encode(&resp, &s->out);
	loy_sync_response_free(&resp);
	s->t_ran = loy_node_now_ms();
}

static void serve_done(struct loy_job *j)
{
	struct serve_job *s = (struct serve_job *)j;
	struct loy_node *n = j->node;

	loy_serve_give(&n->serving, s->peer);
	if (s->damaged) {
		/* nothing of the run goes out: the peer asks again elsewhere */
		if (!loy_node_halt_if_damaged(n)) {
			LOG_ERR(&n->log, "sync",
				"stored block %llu fails its hash checks: the "
				"data directory is damaged; stopping (move it "
				"away and restart to resync from peers)",
				(unsigned long long)s->damaged);
			loy_node_stop(n, 1);
		}
		loy_buf_free(&s->out);
		free(s);
		return;
	}
	if (s->rv == 0 && n->net && !n->stopping) {
		char who[9];
		loy_log_short(who, s->peer);
		LOG_DEBUG(&n->log, "sync",
			  "serving %s %u blocks from %llu (%zu bytes), read "
			  "in %llu ms",
			  who, s->served,
			  (unsigned long long)s->req.from_height, s->out.len,
			  (unsigned long long)(s->t_ran - s->t_queued));
		(void)loy_peer_net_send(n->net, s->peer, LOY_CHAN_SYNC_RESP,
					s->out.data, s->out.len);
	}
	loy_buf_free(&s->out);
	free(s);
}

void loy_node_on_sync_request(struct loy_node *n,
			      const uint8_t peer[LOY_PUBKEY_SIZE],
			      const uint8_t *msg, size_t len)
{
	struct serve_job *s = calloc(1, sizeof *s);
	uint64_t dropped;
	char who[9];

	if (s == NULL)
		return;
	loy_log_short(who, peer);
	if (loy_sync_request_decode(&s->req, msg, len) != 0 ||
	    s->req.from_height == 0) {
		LOG_WARN(&n->log, "sync",
			 "peer %s sent a malformed sync request", who);
		free(s);
		return;
	}
	if (!loy_serve_take(&n->serving, peer, &dropped)) {
		/* logged at the 1st, 2nd, 4th, 8th... drop: a flood cannot
		 * flood the log either */
		if (loy_log_nth(dropped))
			LOG_WARN(&n->log, "sync",
				 "peer %s asks for blocks faster than they are "
				 "served (%u answers in preparation): dropped "
				 "%llu requests so far",
				 who, SERVE_PER_PEER,
				 (unsigned long long)dropped);
		free(s);
		return;
	}
	memcpy(s->peer, peer, LOY_PUBKEY_SIZE);
	s->t_queued = loy_node_now_ms();
	s->job.run = serve_run;
	s->job.done = serve_done;
	if (s->req.from_height > n->visible_height &&
	    s->req.from_height <= n->tip_height) {
		/* The blocks asked for are in the ledger's group, which only
		 * the ledger thread sees: serve them from there (a flush now,
		 * on every peer a lagging node asks, would hold them all). */
		loy_node_ledger_job(n, &s->job);
		return;
	}
	loy_node_pool_job(n, &s->job);
}

void loy_node_fetch(struct loy_node *n, uint64_t from,
		    const uint8_t peer[LOY_PUBKEY_SIZE])
{
	struct loy_sync_request q = {from, LOY_MAX_SYNC_BLOCKS};
	struct loy_buf out;
	uint64_t dropped;
	char who[9];

	if (n->net == NULL || loy_sync_request_encode(&q, &out) != 0)
		return;
	loy_log_short(who, peer);
	if (loy_peer_net_send(n->net, peer, LOY_CHAN_SYNC_REQ, out.data,
			      out.len) == 0) {
		(void)loy_serve_take(&n->asked, peer, &dropped);
		/* once per height: a peer with nothing past it yet is asked
		 * again every 50 ms for a while (consensus/catchup.c) */
		if (n->fetch_from != from)
			LOG_INFO(&n->log, "sync",
				 "behind: fetching blocks from %llu from %s",
				 (unsigned long long)from, who);
		else
			LOG_DEBUG(&n->log, "sync",
				  "asking %s again for blocks from %llu", who,
				  (unsigned long long)from);
		n->fetch_from = from;
	} else {
		/* no link to that peer now: any connected peer will do */
		loy_peer_net_broadcast(n->net, LOY_CHAN_SYNC_REQ, out.data,
				       out.len);
		for (uint32_t i = 0; i < n->valset.n; i++)
			if (memcmp(n->valset.keys[i], n->pk, LOY_PUBKEY_SIZE) !=
			    0)
				(void)loy_serve_take(
				    &n->asked, n->valset.keys[i], &dropped);
	}
	loy_buf_free(&out);
}

void loy_node_on_sync_response(struct loy_node *n,
			       const uint8_t peer[LOY_PUBKEY_SIZE],
			       const uint8_t *msg, size_t len)
{
	struct loy_sync_response resp;
	struct loy_cons_fetched *f = NULL;
	struct loy_block *blocks = NULL;
	struct loy_cert *certs = NULL;
	struct loy_cons_event ev = {.type = LOY_CONS_FETCHED};
	uint32_t k = 0;
	char who[9];

	loy_log_short(who, peer);
	if (!loy_serve_give(&n->asked, peer)) {
		/* not decoded: blocks nobody asked for would cost a decode
		 * and certificate checks each (logged at the 1st, 2nd, 4th...
		 * of all such answers) */
		uint64_t u = ++n->sync_unasked;
		if (loy_log_nth(u))
			LOG_WARN(&n->log, "sync",
				 "peer %s sent blocks this node did not ask "
				 "for: dropped (%llu such answers so far)",
				 who, (unsigned long long)u);
		return;
	}
	if (loy_sync_response_decode(&resp, msg, len) != 0) {
		LOG_WARN(&n->log, "sync",
			 "peer %s sent a malformed sync response", who);
		return;
	}
	LOG_DEBUG(&n->log, "sync", "peer %s served %u blocks (%zu bytes)", who,
		  resp.count, len);
	if (resp.count == 0) {
		/* "nothing past that yet": the core may ask again soon */
		ev.fetched.count = 0;
		loy_node_cons_event(n, &ev);
		goto out;
	}
	f = calloc(resp.count, sizeof *f);
	blocks = calloc(resp.count, sizeof *blocks);
	certs = calloc(resp.count, sizeof *certs);
	if (f == NULL || blocks == NULL || certs == NULL)
		goto out;
	for (uint32_t i = 0; i < resp.count; i++) {
		/* checks that block and certificate belong together; the core
		 * verifies the signatures against the set of that height */
		if (loy_sync_entry_open(&resp.entries[i], &blocks[k],
					&certs[k]) != 0) {
			LOG_WARN(&n->log, "sync",
				 "peer %s served a bad block entry", who);
			break;
		}
		f[k].block = resp.entries[i].block.data;
		f[k].block_len = resp.entries[i].block.len;
		f[k].cert = &certs[k];
		k++;
	}
	ev.fetched.count = k;
	ev.fetched.blocks = f;
	loy_node_cons_event(n, &ev);
out:
	for (uint32_t i = 0; i < k; i++)
		loy_block_free(&blocks[i]);
	free(f);
	free(blocks);
	free(certs);
	loy_sync_response_free(&resp);
}
