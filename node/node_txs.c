/* Transaction admission: decode and basic checks on the loop thread,
 * signature verification on the thread pool, then the mempool; transactions
 * from clients are gossiped to every peer. */
#include "node/internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/query.h"
#include "wire/client.h"
#include "wire/error.h"
#include "wire/tx.h"

struct admit_item {
	struct loy_buf bytes;
	uint8_t hash[LOY_HASH_SIZE];
	uint8_t signer[LOY_PUBKEY_SIZE];
	uint64_t nonce;
	int code;        /* 0 so far, else a LOY_E* code */
	const char *why; /* static text */
	int verify;      /* needs a signature check on the pool */
	bool checked;    /* its signature was verified here (pool thread) */
	/* decoded by precheck, kept for the pool when verify is set: the
	 * canonical decode runs once per admission */
	bool decoded;
	struct loy_tx tx;
};

/* Signature checks of a batch are split into parts of at most this many
 * transactions, run in parallel on the pool, so a big batch neither waits
 * for one thread nor delays the first transactions of the next block. */
#define ADMIT_PART 128

struct admit_job {
	uint32_t parts_left;
	struct loy_node *node;
	uint64_t t_queued, t_run, t_ran;
	uint64_t t_queued_us; /* for the node's admission timing */
	uint32_t count;
	struct admit_item *items;
	int gossip;
	/* from a peer: its key, and the KiB held in n->gossiping */
	uint8_t source[LOY_PUBKEY_SIZE];
	uint32_t held_kib;
	loy_admit_cb cb;
	void *data;
	void (*all_done)(void *data);
};

struct admit_part {
	struct loy_job job;
	struct admit_job *a;
	uint32_t lo, hi;
};

static void admit_run(struct loy_job *j)
{
	struct admit_part *part = (struct admit_part *)j;
	struct admit_job *a = part->a;

	uint32_t pass[ADMIT_PART], npass = 0;
	uint8_t ids[ADMIT_PART][LOY_ID_SIZE];
	uint64_t last[ADMIT_PART];

	if (part->lo == 0)
		a->t_run = loy_node_now_ms();
	for (uint32_t i = part->lo; i < part->hi; i++) {
		struct admit_item *it = &a->items[i];
		const struct loy_tx *tx = &it->tx;
		if (!it->verify)
			continue;
		if (!it->decoded) { /* precheck keeps what it sends here */
			it->code = LOY_EMALFORMED;
			it->why = "malformed transaction";
			continue;
		}
		it->checked = !loy_vcache_has(&a->node->verified, it->hash);
		if (it->checked && loy_tx_verify_encoded(tx, it->bytes.data,
							 it->bytes.len) != 0) {
			it->code = LOY_EBADSIG;
			it->why = "bad signature";
		} else {
			loy_vcache_add(&a->node->verified, it->hash);
			loy_tx_signer_id(tx, ids[npass]);
			pass[npass++] = i;
		}
	}
	/* A replayed or already committed nonce never gets in; nor does one
	 * so far ahead it would sit here forever. The part's signers are
	 * read at once; where the store cannot say, execution decides. */
	if (npass > 0 &&
	    loy_ledger_nonces(a->node->ledger, (const uint8_t(*)[20])ids, npass,
			      last) == 0) {
		for (uint32_t k = 0; k < npass; k++) {
			struct admit_item *it = &a->items[pass[k]];
			if (it->tx.nonce <= last[k]) {
				it->code = LOY_EREJECTED;
				it->why = "nonce already used (a replay, or a "
					  "transaction that is already "
					  "committed)";
			} else if (it->tx.nonce - last[k] >
				   a->node->cfg.mempool_max_per_signer) {
				it->code = LOY_EREJECTED;
				it->why = "nonce too far ahead of the signer's "
					  "last committed one";
			}
		}
	}
	a->t_ran = loy_node_now_ms();
}

static void admit_finish(struct admit_job *a);

static void admit_pump(struct loy_node *n)
{
	/* one part per verifier thread: later parts wait here, where a
	 * stopping node can drop them */
	while (n->admit_running < n->verifier.nthreads && n->admit_head) {
		struct loy_job *j = n->admit_head;
		n->admit_head = j->next;
		if (n->admit_head == NULL)
			n->admit_tail = NULL;
		n->admit_running++;
		loy_node_verify_job(n, j);
	}
}

static void admit_part_done(struct loy_job *j)
{
	struct admit_part *part = (struct admit_part *)j;
	struct admit_job *a = part->a;
	struct loy_node *n = a->node;

	free(part);
	n->admit_running--;
	if (--a->parts_left == 0)
		admit_finish(a);
	admit_pump(n);
}

static void admit_queue(struct loy_node *n, struct loy_job *j)
{
	j->next = NULL;
	if (n->admit_tail)
		n->admit_tail->next = j;
	else
		n->admit_head = j;
	n->admit_tail = j;
	admit_pump(n);
}

/* Sends the newly admitted transactions to every peer in one frame (a
 * client SUBMIT message, so peers reuse the batch decoder). */
static void gossip(struct loy_node *n, struct admit_job *a)
{
	struct loy_client_request q;
	struct loy_buf out;
	uint32_t k = 0;

	memset(&q, 0, sizeof q);
	q.kind = LOY_CLIENT_SUBMIT;
	q.submit.txs = calloc(a->count, sizeof *q.submit.txs);
	if (q.submit.txs == NULL)
		return;
	for (uint32_t i = 0; i < a->count; i++)
		if (a->items[i].code == 0 && a->items[i].verify)
			q.submit.txs[k++] = a->items[i].bytes;
	q.submit.tx_count = k;
	if (k > 0 && loy_client_request_encode(&q, &out) == 0) {
		loy_peer_net_broadcast(n->net, LOY_CHAN_TXS, out.data, out.len);
		loy_buf_free(&out);
	}
	free(q.submit.txs); /* the bufs are the items' */
}

void loy_node_push_mempool(struct loy_node *n,
			   const uint8_t peer[LOY_PUBKEY_SIZE])
{
	uint32_t max = 16 * LOY_MAX_SUBMIT_BATCH;
	struct loy_mempool_tx *txs = calloc(max, sizeof *txs);
	uint32_t count;

	if (txs == NULL || n->net == NULL) {
		free(txs);
		return;
	}
	count = loy_mempool_take(n->mempool, max, SIZE_MAX, txs);
	for (uint32_t at = 0; at < count; at += LOY_MAX_SUBMIT_BATCH) {
		struct loy_client_request q;
		struct loy_buf out;
		uint32_t k = count - at < LOY_MAX_SUBMIT_BATCH
				 ? count - at
				 : LOY_MAX_SUBMIT_BATCH;

		memset(&q, 0, sizeof q);
		q.kind = LOY_CLIENT_SUBMIT;
		q.submit.tx_count = k;
		q.submit.txs = calloc(k, sizeof *q.submit.txs);
		if (q.submit.txs == NULL)
			break;
		for (uint32_t i = 0; i < k; i++) {
			q.submit.txs[i].data = (uint8_t *)txs[at + i].data;
			q.submit.txs[i].len = txs[at + i].len;
		}
		if (loy_client_request_encode(&q, &out) == 0) {
			(void)loy_peer_net_send(n->net, peer, LOY_CHAN_TXS,
						out.data, out.len);
			loy_buf_free(&out);
		}
		free(q.submit.txs); /* views into the mempool */
	}
	free(txs);
}

void loy_node_on_gossip(struct loy_node *n, const uint8_t peer[LOY_PUBKEY_SIZE],
			const uint8_t *msg, size_t len)
{
	struct loy_client_request q;

	if (loy_client_request_decode(&q, msg, len) != 0 ||
	    q.kind != LOY_CLIENT_SUBMIT) {
		char who[9];
		loy_log_short(who, peer);
		LOG_WARN(&n->log, "txs",
			 "peer %s sent a malformed transaction batch", who);
		if (q.kind == LOY_CLIENT_SUBMIT)
			loy_client_request_free(&q);
		return;
	}
	loy_node_admit(n, q.submit.txs, q.submit.tx_count, peer, NULL, NULL,
		       NULL);
	loy_client_request_free(&q);
}

static void admit_finish(struct admit_job *a)
{
	struct loy_node *n = a->node;
	uint32_t added = 0;

	for (uint32_t i = 0; i < a->count; i++) {
		struct admit_item *it = &a->items[i];
		n->sig_checks += it->checked;
		if (it->code == 0 && it->verify && !n->stopping) {
			int rv = loy_mempool_add(n->mempool, it->hash,
						 it->signer, it->nonce,
						 it->bytes.data, it->bytes.len);
			if (rv == LOY_ETOOBIG) {
				it->code = rv;
				it->why = "mempool full (or too many pending "
					  "from this signer); retry later";
			} else if (rv == LOY_ENOMEM) {
				it->code = rv;
				it->why = "out of memory";
			} else if (rv == 0) {
				added++;
			} else {
				it->verify =
				    0; /* a duplicate: admitted meanwhile */
			}
		}
		if (a->cb)
			a->cb(a->data, i, it->code, it->hash, it->why);
	}
	if (a->gossip && added && n->net && !n->stopping)
		gossip(n, a);
	if (a->t_queued_us != 0)
		loy_timing_add(&n->timing, LOY_T_ADMIT,
			       loy_timing_now_us() - a->t_queued_us);
	for (uint32_t i = 0; i < a->count; i++) {
		loy_buf_free(&a->items[i].bytes);
		if (a->items[i].decoded)
			loy_tx_free(&a->items[i].tx);
	}
	LOG_DEBUG(&n->log, "txs",
		  "admitted %u of %u txs from %s: waited %llu ms, took %llu ms",
		  added, a->count, a->gossip ? "a client" : "a peer",
		  (unsigned long long)(a->t_run - a->t_queued),
		  (unsigned long long)(a->t_ran - a->t_run));
	if (a->held_kib)
		(void)loy_serve_give_n(&n->gossiping, a->source, a->held_kib);
	if (a->all_done)
		a->all_done(a->data);
	if (added && !n->stopping) {
		struct loy_cons_event ev = {.type = LOY_CONS_TXS_READY};
		ev.txs.count = (uint32_t)loy_mempool_count(n->mempool);
		ev.txs.bytes = loy_mempool_bytes(n->mempool);
		loy_node_cons_event(n, &ev);
	}
	free(a->items);
	free(a);
}

/* Cheap checks on the loop thread: decodes, right chain, not known. */
static void precheck(struct loy_node *n, struct admit_item *it)
{
	struct loy_tx *tx = &it->tx;

	loy_tx_hash(it->hash, it->bytes.data, it->bytes.len);
	if (loy_tx_decode(tx, it->bytes.data, it->bytes.len) != 0) {
		it->code = LOY_EMALFORMED;
		it->why = "malformed transaction (not the canonical encoding "
			  "of a known kind)";
		return;
	}
	if (strcmp(tx->chain_id, n->genesis.chain_id) != 0) {
		it->code = LOY_EINVAL;
		it->why = "transaction is for another chain";
	} else if (loy_mempool_has(n->mempool, it->hash)) {
		it->why = "already pending"; /* code 0: nothing to do */
	} else {
		memcpy(it->signer, tx->signer, LOY_PUBKEY_SIZE);
		it->nonce = tx->nonce;
		it->verify = 1;
		it->decoded = true; /* the pool verifies it */
		return;
	}
	loy_tx_free(tx);
}

/* Whether a peer's batch may wait for its checks (GOSSIP_KIB_PER_PEER);
 * *kib: what it holds. */
static bool gossip_take(struct loy_node *n, const uint8_t *source,
			const struct loy_buf *txs, uint32_t count,
			uint32_t *kib)
{
	uint64_t bytes = 0, dropped;
	char who[9];

	for (uint32_t i = 0; i < count; i++)
		bytes += txs[i].len;
	*kib = (uint32_t)(bytes / 1024 + 1);
	if (loy_serve_take_n(&n->gossiping, source, *kib, &dropped))
		return true;
	/* logged at the 1st, 2nd, 4th... drop of that peer */
	if (loy_log_nth(dropped)) {
		loy_log_short(who, source);
		LOG_WARN(&n->log, "txs",
			 "peer %s gossips transactions faster than they are "
			 "checked (%u KiB waiting): dropped %llu batches so "
			 "far",
			 who, GOSSIP_KIB_PER_PEER, (unsigned long long)dropped);
	}
	return false;
}

void loy_node_admit(struct loy_node *n, const struct loy_buf *txs,
		    uint32_t count, const uint8_t *source, loy_admit_cb cb,
		    void *data, void (*all_done)(void *data))
{
	struct admit_job *a;
	uint32_t kib = 0;

	if (source != NULL && !gossip_take(n, source, txs, count, &kib)) {
		for (uint32_t i = 0; i < count && cb; i++)
			cb(data, i, LOY_ETOOBIG,
			   (const uint8_t[LOY_HASH_SIZE]){0},
			   "dropped: the peer gossips faster than its "
			   "transactions are checked");
		if (all_done)
			all_done(data);
		return;
	}
	a = calloc(1, sizeof *a);
	if (a == NULL ||
	    (a->items = calloc(count ? count : 1, sizeof *a->items)) == NULL) {
		free(a);
		if (kib)
			(void)loy_serve_give_n(&n->gossiping, source, kib);
		for (uint32_t i = 0; i < count && cb; i++)
			cb(data, i, LOY_ENOMEM,
			   (const uint8_t[LOY_HASH_SIZE]){0}, "out of memory");
		if (all_done)
			all_done(data);
		return;
	}
	a->count = count;
	a->gossip = source == NULL;
	if (source != NULL) {
		memcpy(a->source, source, LOY_PUBKEY_SIZE);
		a->held_kib = kib;
	}
	a->cb = cb;
	a->data = data;
	a->all_done = all_done;
	for (uint32_t i = 0; i < count; i++) {
		struct admit_item *it = &a->items[i];
		if (loy_buf_copy(&it->bytes, txs[i].data, txs[i].len) != 0) {
			it->code = LOY_ENOMEM;
			it->why = "out of memory";
			continue;
		}
		precheck(n, it);
	}
	a->node = n;
	a->t_queued = loy_node_now_ms();
	a->t_queued_us = loy_timing_now_us();
	a->parts_left = (count + ADMIT_PART - 1) / ADMIT_PART;
	if (a->parts_left == 0) {
		a->parts_left = 1;
		admit_finish(a);
		return;
	}
	for (uint32_t lo = 0; lo < count; lo += ADMIT_PART) {
		struct admit_part *part = calloc(1, sizeof *part);
		if (part == NULL) {
			/* verify this part inline rather than fail it */
			struct admit_part local = {.a = a,
						   .lo = lo,
						   .hi = lo + ADMIT_PART < count
							     ? lo + ADMIT_PART
							     : count};
			admit_run(&local.job);
			if (--a->parts_left == 0)
				admit_finish(a);
			continue;
		}
		part->a = a;
		part->lo = lo;
		part->hi = lo + ADMIT_PART < count ? lo + ADMIT_PART : count;
		part->job.run = admit_run;
		part->job.done = admit_part_done;
		part->job.node = n;
		admit_queue(n, &part->job);
	}
}
