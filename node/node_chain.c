/* What consensus asks of the ledger: build a block (leader), check a
 * proposed block (replica), apply a committed block. All on the ledger's
 * one-at-a-time job queue, off the loop thread. */
#include "node/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/query.h"
#include "node/flush_slot.h"
#include "wire/error.h"
#include "wire/tx.h"

int loy_node_valset(struct loy_node *n, uint64_t height, struct loy_valset *vs);

/* The peer addresses of every active member but us, from the ledger (any
 * thread: a read-only query). Returns how many. */
uint32_t loy_node_member_peers(struct loy_node *n, struct loy_peer_addr *out,
			       uint32_t max)
{
	struct loy_member_info *m = calloc(256, sizeof *m);
	uint32_t count = 0, k = 0;

	if (m == NULL || loy_ledger_members(n->ledger, m, 256, &count) != 0) {
		free(m);
		return 0;
	}
	for (uint32_t i = 0; i < count && k < max; i++) {
		size_t alen = strlen(m[i].address);
		if (!m[i].active ||
		    memcmp(m[i].pubkey, n->pk, LOY_PUBKEY_SIZE) == 0 ||
		    alen >= sizeof out[k].address)
			continue;
		memcpy(out[k].key, m[i].pubkey, LOY_PUBKEY_SIZE);
		memcpy(out[k].address, m[i].address, alen + 1);
		k++;
	}
	free(m);
	return k;
}

/* --- staged results: what clients are told when the block commits --- */

/* The outcome of executing one block (decoded, with its tx hashes and
 * per-tx results), made on the ledger thread when this node built or
 * checked the block. Execution is deterministic, so they are the results
 * the ledger will store when the block is applied. */
struct loy_staged_results {
	uint64_t height;
	uint8_t hash[LOY_HASH_SIZE];
	struct loy_block block;
	uint8_t (*hashes)[LOY_HASH_SIZE];
	struct loy_tx_result *results;
};

void loy_node_staged_free(struct loy_staged_results *s)
{
	if (s == NULL)
		return;
	loy_block_free(&s->block);
	free(s->hashes);
	free(s->results);
	free(s);
}

/* Takes over blk, results and the tx hashes (all reset); NULL when out of
 * memory (then the commit is told to clients after the apply, as for a
 * fetched block). */
static struct loy_staged_results *staged_make(uint64_t height,
					      const uint8_t hash[LOY_HASH_SIZE],
					      struct loy_block *blk,
					      struct loy_tx_result **results,
					      uint8_t (**hashes)[LOY_HASH_SIZE])
{
	struct loy_staged_results *s = calloc(1, sizeof *s);

	if (s == NULL)
		return NULL;
	s->height = height;
	memcpy(s->hash, hash, LOY_HASH_SIZE);
	s->block = *blk;
	memset(blk, 0, sizeof *blk);
	s->results = *results;
	*results = NULL;
	s->hashes = *hashes;
	*hashes = NULL;
	return s;
}

static void staged_keep(struct loy_node *n, struct loy_staged_results *s)
{
	loy_node_staged_free(n->staged);
	n->staged = s;
}

bool loy_node_behind_acks(const struct loy_node *n)
{
	uint64_t told =
	    n->acked_height > n->tip_height ? n->acked_height : n->tip_height;
	return told > n->visible_height;
}

/* --- build --- */

struct build_job {
	struct loy_job job;
	uint64_t t_queued, t_run, t_ran;
	uint64_t height, view, time_ms;
	uint8_t prev_hash[LOY_HASH_SIZE], proposer[LOY_PUBKEY_SIZE];
	uint32_t n_txs;
	struct loy_buf *txs; /* copies of the picked transactions */
	struct loy_tx_result *results;
	struct loy_buf block; /* the encoded block, on success */
	uint32_t n_included;
	struct loy_staged_results *staged;
	int rv;
	char err[256];
};

/* The staged results of the block just built: its included transactions'
 * results, in block order. Takes over hashes (the included ones'). */
static void build_stage(struct build_job *b, const struct loy_block *blk,
			uint8_t (**hashes)[LOY_HASH_SIZE])
{
	struct loy_block copy;
	struct loy_tx_result *res;
	uint8_t hash[LOY_HASH_SIZE];
	uint32_t k = 0;

	res = calloc(blk->tx_count ? blk->tx_count : 1, sizeof *res);
	if (res == NULL)
		return;
	for (uint32_t i = 0; i < b->n_txs; i++)
		if (b->results[i].code == LOY_REJ_OK ||
		    b->results[i].code > LOY_REJ_INVALID_MAX)
			res[k++] = b->results[i];
	if (loy_block_header_hash(&blk->header, hash) != 0 ||
	    loy_block_decode(&copy, b->block.data, b->block.len) != 0) {
		free(res);
		return;
	}
	b->staged = staged_make(b->height, hash, &copy, &res, hashes);
	loy_block_free(&copy);
	free(res);
}

static void build_run(struct loy_job *j)
{
	struct build_job *b = (struct build_job *)j;
	struct loy_node *n = j->node;
	struct loy_block blk;
	uint8_t(*hashes)[LOY_HASH_SIZE];
	uint32_t k = 0;

	memset(&blk, 0, sizeof blk);
	b->t_run = loy_node_now_ms();
	/* each transaction hashed once: execution, the root, the stage */
	hashes = malloc((b->n_txs ? b->n_txs : 1) * sizeof *hashes);
	if (hashes == NULL) {
		b->rv = LOY_ENOMEM;
		return;
	}
	for (uint32_t i = 0; i < b->n_txs; i++)
		loy_tx_hash(hashes[i], b->txs[i].data, b->txs[i].len);
	b->rv = loy_ledger_execute_hashed(
	    n->ledger, b->txs, (const uint8_t(*)[32])hashes, b->n_txs,
	    b->time_ms, LOY_EXEC_SKIP_INVALID | LOY_EXEC_STAGE, b->results,
	    blk.header.state_root);
	if (b->rv != 0) {
		snprintf(b->err, sizeof b->err, "%s",
			 loy_ledger_errmsg(n->ledger));
		free(hashes);
		return;
	}
	/* Invalid transactions (codes 1..19) are left out; rejected ones stay
	 * in the block with their result. */
	blk.txs = calloc(b->n_txs ? b->n_txs : 1, sizeof *blk.txs);
	if (blk.txs == NULL) {
		b->rv = LOY_ENOMEM;
		free(hashes);
		return;
	}
	for (uint32_t i = 0; i < b->n_txs; i++)
		if (b->results[i].code == LOY_REJ_OK ||
		    b->results[i].code > LOY_REJ_INVALID_MAX) {
			memmove(hashes[k], hashes[i], LOY_HASH_SIZE);
			blk.txs[k++] = b->txs[i];
		}
	blk.tx_count = k;
	b->n_included = k;
	snprintf(blk.header.chain_id, sizeof blk.header.chain_id, "%s",
		 n->genesis.chain_id);
	blk.header.height = b->height;
	blk.header.view = b->view;
	blk.header.time_ms = b->time_ms;
	memcpy(blk.header.prev_hash, b->prev_hash, LOY_HASH_SIZE);
	memcpy(blk.header.proposer, b->proposer, LOY_PUBKEY_SIZE);
	loy_tx_root_hashed(blk.header.tx_root, (const uint8_t(*)[32])hashes,
			   blk.tx_count);
	b->rv = loy_block_encode(&blk, &b->block);
	if (b->rv == 0)
		build_stage(b, &blk, &hashes);
	free(hashes);
	free(blk.txs); /* the bufs themselves belong to b->txs */
	b->t_ran = loy_node_now_ms();
}

static void build_free(struct build_job *b)
{
	for (uint32_t i = 0; i < b->n_txs; i++)
		loy_buf_free(&b->txs[i]);
	free(b->txs);
	free(b->results);
	loy_buf_free(&b->block);
	loy_node_staged_free(b->staged);
	free(b);
}

static void build_done(struct loy_job *j)
{
	struct build_job *b = (struct build_job *)j;
	struct loy_node *n = j->node;
	struct loy_cons_event ev = {.type = LOY_CONS_BLOCK_BUILT};

	if (b->rv != 0) {
		LOG_WARN(&n->log, "chain", "cannot build block %llu: %s (%s)",
			 (unsigned long long)b->height, loy_strerror(b->rv),
			 b->err);
	} else {
		/* Invalid ones would fail again: drop them from the mempool. */
		uint32_t dropped = 0;
		for (uint32_t i = 0; i < b->n_txs; i++) {
			uint16_t code = b->results[i].code;
			if (code != LOY_REJ_OK && code <= LOY_REJ_INVALID_MAX) {
				uint8_t h[LOY_HASH_SIZE];
				loy_tx_hash(h, b->txs[i].data, b->txs[i].len);
				dropped += loy_mempool_remove(n->mempool, h);
			}
		}
		if (dropped)
			LOG_DEBUG(&n->log, "chain",
				  "dropped %u invalid txs from the mempool",
				  dropped);
	}
	LOG_DEBUG(
	    &n->log, "chain",
	    "built block %llu: %u of %u txs, waited %llu ms, took %llu ms",
	    (unsigned long long)b->height, b->n_included, b->n_txs,
	    (unsigned long long)(b->t_run - b->t_queued),
	    (unsigned long long)(b->t_ran - b->t_run));
	if (b->rv == 0 && b->staged) {
		staged_keep(n, b->staged);
		b->staged = NULL;
	}
	if (b->rv == 0) {
		uint64_t now = loy_timing_now_us();
		loy_timing_proposed(&n->timing, b->height, now);
		loy_timing_checked(&n->timing, b->height, now);
	}
	ev.built.height = b->height;
	ev.built.view = b->view;
	ev.built.data = b->rv == 0 ? b->block.data : NULL;
	ev.built.len = b->rv == 0 ? b->block.len : 0;
	loy_node_cons_event(n, &ev);
	build_free(b);
}

void loy_node_build(struct loy_node *n, const struct loy_cons_update *up)
{
	struct build_job *b = calloc(1, sizeof *b);
	struct loy_mempool_tx *picked = NULL;
	uint32_t max = up->build.max_txs ? up->build.max_txs : 1;

	if (b == NULL)
		goto oom;
	b->t_queued = loy_node_now_ms();
	b->height = up->build.height;
	b->view = up->build.view;
	b->time_ms = up->build.time_ms;
	memcpy(b->prev_hash, up->build.prev_hash, LOY_HASH_SIZE);
	memcpy(b->proposer, up->build.proposer, LOY_PUBKEY_SIZE);
	picked = calloc(max, sizeof *picked);
	if (picked == NULL)
		goto oom;
	/* leave room for the header and framing */
	b->n_txs = loy_mempool_take(
	    n->mempool, up->build.max_txs,
	    up->build.max_bytes > 4096 ? up->build.max_bytes - 4096 : 0,
	    picked);
	b->txs = calloc(b->n_txs ? b->n_txs : 1, sizeof *b->txs);
	b->results = calloc(b->n_txs ? b->n_txs : 1, sizeof *b->results);
	if (b->txs == NULL || b->results == NULL)
		goto oom;
	for (uint32_t i = 0; i < b->n_txs; i++)
		if (loy_buf_copy(&b->txs[i], picked[i].data, picked[i].len) !=
		    0)
			goto oom;
	free(picked);
	b->job.run = build_run;
	b->job.done = build_done;
	loy_node_ledger_job(n, &b->job);
	return;
oom:
	free(picked);
	if (b) {
		b->rv = LOY_ENOMEM;
		b->job.node = n;
		build_done(&b->job);
	}
}

/* --- check a proposal --- */

struct check_job {
	struct loy_job job;
	uint64_t t_queued, t_run, t_ran;
	uint32_t verified, n_txs;
	uint64_t height;
	uint8_t hash[LOY_HASH_SIZE];
	struct loy_buf block;
	uint8_t *known; /* per tx: 1 if already verified (in our mempool) */
	uint8_t (*hashes)[LOY_HASH_SIZE]; /* per tx, when known is set */
	uint32_t n_known;
	struct loy_staged_results *staged;
	int ok;
	bool stale; /* the height was committed before the check ran */
	char why[256];
};

static void check_run(struct loy_job *j)
{
	struct check_job *c = (struct check_job *)j;
	struct loy_node *n = j->node;
	struct loy_block blk;
	struct loy_tx_result *results = NULL;
	uint8_t(*hashes)[LOY_HASH_SIZE] = NULL;
	uint8_t root[LOY_HASH_SIZE], hh[LOY_HASH_SIZE];
	int rv;

	c->ok = 0;
	c->t_run = loy_node_now_ms();
	if (loy_block_decode(&blk, c->block.data, c->block.len) != 0) {
		snprintf(c->why, sizeof c->why, "does not decode");
		return;
	}
	c->n_txs = blk.tx_count;
	if (loy_block_header_hash(&blk.header, hh) != 0 ||
	    memcmp(hh, c->hash, LOY_HASH_SIZE) != 0) {
		snprintf(c->why, sizeof c->why, "hash mismatch");
		goto out;
	}
	if (strcmp(blk.header.chain_id, n->genesis.chain_id) != 0 ||
	    blk.header.height != c->height) {
		snprintf(c->why, sizeof c->why, "wrong chain or height");
		goto out;
	}
	/* each transaction hashed once (by mark_known, of the same bytes),
	 * for the root, the verified cache, execution and notifications */
	if (c->hashes != NULL && c->n_known == blk.tx_count) {
		hashes = c->hashes;
		c->hashes = NULL;
	} else {
		hashes =
		    malloc((blk.tx_count ? blk.tx_count : 1) * sizeof *hashes);
		if (hashes == NULL) {
			snprintf(c->why, sizeof c->why, "out of memory");
			goto out;
		}
		for (uint32_t i = 0; i < blk.tx_count; i++)
			loy_tx_hash(hashes[i], blk.txs[i].data, blk.txs[i].len);
	}
	loy_tx_root_hashed(root, (const uint8_t(*)[32])hashes, blk.tx_count);
	if (memcmp(root, blk.header.tx_root, LOY_HASH_SIZE) != 0) {
		snprintf(c->why, sizeof c->why, "transaction root mismatch");
		goto out;
	}
	/* Signatures: once per node. Transactions we admitted ourselves were
	 * verified then; the others are verified now. Last to first: their
	 * gossip is often being admitted meanwhile, first to first, and each
	 * side skips what the other has done (verified cache), so the two
	 * meet once instead of checking the same ones side by side. */
	for (uint32_t i = blk.tx_count; i-- > 0;) {
		struct loy_tx tx;
		const uint8_t *th = hashes[i];
		if (i < c->n_known && c->known[i])
			continue;
		if (loy_vcache_has(&n->verified, th))
			continue;
		if (loy_tx_decode(&tx, blk.txs[i].data, blk.txs[i].len) != 0) {
			snprintf(c->why, sizeof c->why, "tx %u does not decode",
				 i);
			goto out;
		}
		rv =
		    loy_tx_verify_encoded(&tx, blk.txs[i].data, blk.txs[i].len);
		c->verified++;
		loy_tx_free(&tx);
		if (rv != 0) {
			snprintf(c->why, sizeof c->why, "tx %u: bad signature",
				 i);
			goto out;
		}
		loy_vcache_add(&n->verified, th);
	}
	results = calloc(blk.tx_count ? blk.tx_count : 1, sizeof *results);
	if (results == NULL) {
		snprintf(c->why, sizeof c->why, "out of memory");
		goto out;
	}
	{
		/* a proposal kept while the last block was applied, whose
		 * height then committed from the others' votes */
		uint64_t tip;
		if (loy_ledger_tip(n->ledger, &tip, NULL, NULL, NULL) == 0 &&
		    tip >= c->height) {
			c->stale = true;
			snprintf(c->why, sizeof c->why,
				 "height %llu is committed already",
				 (unsigned long long)tip);
			goto out;
		}
	}
	/* staged: if this block commits, applying it reuses this execution */
	rv = loy_ledger_execute_hashed(
	    n->ledger, blk.txs, (const uint8_t(*)[32])hashes, blk.tx_count,
	    blk.header.time_ms, LOY_EXEC_STAGE, results, root);
	if (rv != 0) {
		snprintf(c->why, sizeof c->why, "%s",
			 loy_ledger_errmsg(n->ledger));
		goto out;
	}
	if (memcmp(root, blk.header.state_root, LOY_HASH_SIZE) != 0) {
		snprintf(c->why, sizeof c->why, "state root differs from ours");
		goto out;
	}
	c->ok = 1;
	c->staged = staged_make(c->height, c->hash, &blk, &results, &hashes);
out:
	c->t_ran = loy_node_now_ms();
	free(hashes);
	free(results);
	loy_block_free(&blk);
}

static void check_done(struct loy_job *j)
{
	struct check_job *c = (struct check_job *)j;
	struct loy_node *n = j->node;
	struct loy_cons_event ev = {.type = LOY_CONS_BLOCK_CHECKED};

	if (!c->ok && c->stale)
		LOG_DEBUG(&n->log, "chain",
			  "proposed block %llu not checked: %s",
			  (unsigned long long)c->height, c->why);
	else if (!c->ok)
		LOG_WARN(&n->log, "chain", "proposed block %llu rejected: %s",
			 (unsigned long long)c->height, c->why);
	LOG_DEBUG(&n->log, "chain",
		  "checked block %llu: %u txs (%u signatures verified here), "
		  "waited %llu ms, took %llu ms",
		  (unsigned long long)c->height, c->n_txs, c->verified,
		  (unsigned long long)(c->t_run - c->t_queued),
		  (unsigned long long)(c->t_ran - c->t_run));
	n->sig_checks += c->verified;
	if (c->ok && c->staged) {
		staged_keep(n, c->staged);
		c->staged = NULL;
	}
	if (c->ok)
		loy_timing_checked(&n->timing, c->height, loy_timing_now_us());
	memcpy(ev.checked.hash, c->hash, LOY_HASH_SIZE);
	ev.checked.ok = c->ok;
	loy_node_cons_event(n, &ev);
	loy_buf_free(&c->block);
	loy_node_staged_free(c->staged);
	free(c->known);
	free(c->hashes);
	free(c);
}

/* Marks which of a block's transactions sit in our mempool (verified at
 * admission), reading the block on the loop thread. */
static void mark_known(struct loy_node *n, struct check_job *c)
{
	struct loy_block blk;

	if (loy_block_decode(&blk, c->block.data, c->block.len) != 0)
		return;
	c->known = calloc(blk.tx_count ? blk.tx_count : 1, 1);
	c->hashes =
	    malloc((blk.tx_count ? blk.tx_count : 1) * sizeof *c->hashes);
	if (c->known != NULL && c->hashes != NULL) {
		c->n_known = blk.tx_count;
		for (uint32_t i = 0; i < blk.tx_count; i++) {
			loy_tx_hash(c->hashes[i], blk.txs[i].data,
				    blk.txs[i].len);
			c->known[i] = loy_mempool_has(n->mempool, c->hashes[i]);
		}
	} else {
		free(c->known);
		free(c->hashes);
		c->known = NULL;
		c->hashes = NULL;
	}
	loy_block_free(&blk);
}

void loy_node_check(struct loy_node *n, const struct loy_cons_check *chk)
{
	struct check_job *c = calloc(1, sizeof *c);
	struct loy_cons_event ev = {.type = LOY_CONS_BLOCK_CHECKED};

	if (c == NULL ||
	    loy_buf_copy(&c->block, chk->block, chk->block_len) != 0) {
		free(c);
		LOG_ERR(&n->log, "chain", "out of memory checking a block");
		memcpy(ev.checked.hash, chk->hash, LOY_HASH_SIZE);
		ev.checked.ok = 0;
		loy_node_cons_event(n, &ev);
		return;
	}
	c->height = chk->height;
	c->t_queued = loy_node_now_ms();
	loy_timing_proposed(&n->timing, c->height, loy_timing_now_us());
	memcpy(c->hash, chk->hash, LOY_HASH_SIZE);
	mark_known(n, c);
	c->job.run = check_run;
	c->job.done = check_done;
	loy_node_ledger_job(n, &c->job);
}

/* --- apply a committed block --- */

struct apply_job {
	struct loy_job job;
	uint64_t t_queued, t_run, t_ran;
	uint64_t height;
	struct loy_buf block, cert;
	struct loy_block decoded; /* for client notifications */
	uint8_t (*hashes)[LOY_HASH_SIZE];
	struct loy_tx_result *results;
	struct loy_valset next;
	struct loy_peer_addr *peers; /* active members but us */
	uint32_t n_peers;
	uint8_t tip_hash[LOY_HASH_SIZE], tip_root[LOY_HASH_SIZE];
	int rv;
	int already;  /* the ledger had it (restart) */
	bool visible; /* in data.mdb (not only in the ledger's group) */
	struct loy_flush_stat flush;
	int fetched; /* caught up from a peer */
	int acked;   /* clients were told when it committed */
	char err[512];
};

static void apply_run(struct loy_job *j)
{
	struct apply_job *a = (struct apply_job *)j;
	struct loy_node *n = j->node;
	uint64_t tip = 0;
	bool joined = false; /* the block joined the ledger's group */

	a->t_run = loy_node_now_ms();
	if (loy_block_decode(&a->decoded, a->block.data, a->block.len) != 0) {
		a->rv = LOY_EMALFORMED;
		snprintf(a->err, sizeof a->err,
			 "committed block does not decode");
		return;
	}
	a->results = calloc(a->decoded.tx_count ? a->decoded.tx_count : 1,
			    sizeof *a->results);
	a->hashes = calloc(a->decoded.tx_count ? a->decoded.tx_count : 1,
			   sizeof *a->hashes);
	if (a->results == NULL || a->hashes == NULL) {
		a->rv = LOY_ENOMEM;
		return;
	}
	for (uint32_t i = 0; i < a->decoded.tx_count; i++)
		loy_tx_hash(a->hashes[i], a->decoded.txs[i].data,
			    a->decoded.txs[i].len);
	if (loy_ledger_tip(n->ledger, &tip, NULL, NULL, NULL) == 0 &&
	    tip >= a->height) {
		a->already = 1;
	} else {
		/* The core verified the certificate against the set of this
		 * height; signatures were verified at admission or check. */
		/* The block joins the ledger's group: durable once it is in
		 * the block log (one sequential write), in data.mdb at the
		 * group's flush (node_flush.c), so a page that several blocks
		 * touch is written once. Blocks caught up from peers are not
		 * logged: the cluster holds them, and no consensus record is
		 * written until a flush has them (loy_node_fetched_applied). */
		a->rv = loy_ledger_apply_block_hashed(
		    n->ledger, a->block.data, a->block.len, a->cert.data,
		    a->cert.len,
		    LOY_APPLY_TRUST_CERT | LOY_APPLY_GROUP |
			(a->fetched ? LOY_APPLY_UNLOGGED : 0),
		    (const uint8_t(*)[LOY_HASH_SIZE])a->hashes, a->results);
		joined = a->rv == 0;
		a->visible = !joined;
		if (a->rv != 0) {
			snprintf(a->err, sizeof a->err, "%s",
				 loy_ledger_errmsg(n->ledger));
			return;
		}
	}
	if (loy_ledger_tip(n->ledger, NULL, a->tip_hash, a->tip_root, NULL) !=
	    0)
		memset(a->tip_root, 0, LOY_HASH_SIZE);
	a->rv = loy_node_valset(n, a->height + 1, &a->next);
	if (a->rv != 0) {
		snprintf(a->err, sizeof a->err,
			 "no validator set for height %llu",
			 (unsigned long long)a->height + 1);
		return;
	}
	a->peers = calloc(LOY_MAX_VALIDATORS, sizeof *a->peers);
	if (a->peers != NULL)
		a->n_peers =
		    loy_node_member_peers(n, a->peers, LOY_MAX_VALIDATORS);
	if (joined) {
		struct loy_flush_when w = {.fetched = a->fetched != 0};

		for (uint32_t i = 0; i < a->next.n; i++) {
			if (memcmp(a->next.keys[i], n->pk, LOY_PUBKEY_SIZE) !=
			    0)
				continue;
			w.validator = true;
			w.slot = loy_flush_slot(a->height, a->next.n, i);
			/* the view-0 leader (consensus/core.c) */
			w.leads_next = (a->height + 1) % a->next.n == i;
		}
		a->rv = loy_node_group_after_apply(n, &w, &a->flush);
		a->visible = a->flush.flushed;
		if (a->rv != 0)
			snprintf(a->err, sizeof a->err, "%s",
				 loy_ledger_errmsg(n->ledger));
	}
	a->t_ran = loy_node_now_ms();
}

static void apply_done(struct loy_job *j)
{
	struct apply_job *a = (struct apply_job *)j;
	struct loy_node *n = j->node;
	struct loy_cons_event ev = {.type = LOY_CONS_APPLIED};

	if (a->rv != 0) {
		/* A committed block that does not apply means this node's
		 * state diverged: halt loudly rather than drift. */
		LOG_ERR(&n->log, "chain",
			"cannot apply committed block %llu: %s: %s; halting",
			(unsigned long long)a->height, loy_strerror(a->rv),
			a->err);
		loy_node_stop(n, 1);
		goto out;
	}
	for (uint32_t i = 0; i < a->decoded.tx_count; i++)
		(void)loy_mempool_remove(n->mempool, a->hashes[i]);
	n->tip_height = a->height;
	memcpy(n->tip_hash, a->tip_hash, LOY_HASH_SIZE);
	memcpy(n->tip_root, a->tip_root, LOY_HASH_SIZE);
	if (a->next.n != n->valset.n ||
	    memcmp(a->next.keys, n->valset.keys,
		   (size_t)a->next.n * LOY_PUBKEY_SIZE) != 0) {
		LOG_INFO(&n->log, "chain",
			 "validator set changes at height %llu: %u validators",
			 (unsigned long long)a->height + 1, a->next.n);
		if (n->net && a->peers)
			loy_peer_net_set_peers(n->net, a->peers, a->n_peers);
	}
	n->valset = a->next;
	loy_node_flush_log(n, &a->flush);
	if (a->visible && a->height > n->visible_height)
		n->visible_height = a->height;
	else if (!a->visible)
		loy_node_group_idle(n);
	if (!a->already) {
		if (a->fetched)
			loy_node_fetched_applied(n, a->flush.flushed &&
							a->flush.durable);
		else if (a->flush.flushed && a->flush.durable)
			loy_node_group_flushed(n);
		n->committed_txs += a->decoded.tx_count;
		if (n->api && !a->acked)
			loy_client_api_on_commit(
			    n->api, a->height, &a->decoded,
			    (const uint8_t(*)[LOY_HASH_SIZE])a->hashes,
			    a->results);
	}
	LOG_DEBUG(&n->log, "chain",
		  "applied block %llu: %u txs, waited %llu ms, took %llu ms",
		  (unsigned long long)a->height, a->decoded.tx_count,
		  (unsigned long long)(a->t_run - a->t_queued),
		  (unsigned long long)(a->t_ran - a->t_run));
	if (n->api)
		loy_client_api_release(n->api);
	loy_timing_applied(&n->timing, a->height, loy_timing_now_us());
	ev.applied.height = a->height;
	ev.applied.next = &a->next;
	ev.applied.pending_txs = (uint32_t)loy_mempool_count(n->mempool);
	loy_node_cons_event(n, &ev);
	if (a->flush.deferred && !n->stopping)
		loy_node_flush_queue(n); /* after the check it may have asked */
out:
	loy_block_free(&a->decoded);
	loy_buf_free(&a->block);
	loy_buf_free(&a->cert);
	free(a->hashes);
	free(a->results);
	free(a->peers);
	free(a);
}

/* A block this node executed itself has a commit certificate: it is final,
 * and 2f+1 validators hold it durably in their consensus records (each
 * persists its COMMIT vote, with the prepared block and certificate, before
 * sending it; a later view must re-propose it). Clients hear of it now, as
 * a Raft cluster answers once a quorum's logs hold an entry, not after the
 * ledger's apply and its disk flush, which follow on the ledger thread.
 * Their queries and waiting submits are held until the apply is done. */
static void ack_commit(struct loy_node *n, struct apply_job *a,
		       const struct loy_cons_update *up)
{
	struct loy_staged_results *s = n->staged;

	n->staged = NULL; /* of this height or stale */
	if (!a->fetched && s != NULL && s->height == a->height &&
	    memcmp(s->hash, up->commit.hash, LOY_HASH_SIZE) == 0) {
		a->acked = 1;
		n->acked_height = a->height;
		if (n->api)
			loy_client_api_on_commit(
			    n->api, a->height, &s->block,
			    (const uint8_t(*)[LOY_HASH_SIZE])s->hashes,
			    s->results);
	}
	loy_node_staged_free(s);
}

void loy_node_commit(struct loy_node *n, const struct loy_cons_update *up)
{
	struct apply_job *a = calloc(1, sizeof *a);

	if (a == NULL ||
	    loy_buf_copy(&a->block, up->commit.block, up->commit.block_len) !=
		0 ||
	    loy_cert_encode(up->commit.cert, &a->cert) != 0) {
		LOG_ERR(&n->log, "chain",
			"out of memory committing block %llu; halting",
			(unsigned long long)up->commit.height);
		if (a)
			loy_buf_free(&a->block);
		free(a);
		loy_node_stop(n, 1);
		return;
	}
	a->height = up->commit.height;
	a->fetched = up->commit.fetched;
	a->t_queued = loy_node_now_ms();
	loy_timing_decided(&n->timing, a->height, loy_timing_now_us());
	a->job.run = apply_run;
	a->job.done = apply_done;
	loy_node_ledger_job(n, &a->job);
	ack_commit(n, a, up);
}
