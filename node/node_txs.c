/* Transaction admission: decode and basic checks on the loop thread,
 * signature verification on the thread pool, then the mempool; transactions
 * from clients are gossiped to every peer. */
#include "node/internal.h"

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
};

struct admit_job {
	struct loy_job job;
	uint32_t count;
	struct admit_item *items;
	int gossip;
	loy_admit_cb cb;
	void *data;
	void (*all_done)(void *data);
};

static void admit_run(struct loy_job *j)
{
	struct admit_job *a = (struct admit_job *)j;

	for (uint32_t i = 0; i < a->count; i++) {
		struct admit_item *it = &a->items[i];
		struct loy_tx tx;
		if (!it->verify)
			continue;
		if (loy_tx_decode(&tx, it->bytes.data, it->bytes.len) != 0) {
			it->code = LOY_EMALFORMED;
			it->why = "malformed transaction";
			continue;
		}
		if (loy_tx_verify_encoded(&tx, it->bytes.data, it->bytes.len) != 0) {
			it->code = LOY_EBADSIG;
			it->why = "bad signature";
		} else {
			/* a replayed or already committed nonce never gets in;
			 * nor does one so far ahead it would sit here forever */
			uint8_t id[LOY_ID_SIZE];
			uint64_t last = 0;
			int rv;
			loy_tx_signer_id(&tx, id);
			rv = loy_ledger_nonce(j->node->ledger, id, &last);
			if (rv == 0 || rv == LOY_ENOTFOUND) {
				if (tx.nonce <= last) {
					it->code = LOY_EREJECTED;
					it->why = "nonce already used (a replay, or a transaction "
						  "that is already committed)";
				} else if (tx.nonce - last > j->node->cfg.mempool_max_per_signer) {
					it->code = LOY_EREJECTED;
					it->why = "nonce too far ahead of the signer's last committed one";
				}
			}
		}
		loy_tx_free(&tx);
	}
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

void loy_node_on_gossip(struct loy_node *n, const uint8_t peer[LOY_PUBKEY_SIZE],
			const uint8_t *msg, size_t len)
{
	struct loy_client_request q;

	if (loy_client_request_decode(&q, msg, len) != 0 ||
	    q.kind != LOY_CLIENT_SUBMIT) {
		char who[9];
		loy_log_short(who, peer);
		LOG_WARN(&n->log, "txs", "peer %s sent a malformed transaction batch", who);
		if (q.kind == LOY_CLIENT_SUBMIT)
			loy_client_request_free(&q);
		return;
	}
	loy_node_admit(n, q.submit.txs, q.submit.tx_count, peer, NULL, NULL, NULL);
	loy_client_request_free(&q);
}

static void admit_done(struct loy_job *j)
{
	struct admit_job *a = (struct admit_job *)j;
	struct loy_node *n = j->node;
	uint32_t added = 0;

	for (uint32_t i = 0; i < a->count; i++) {
		struct admit_item *it = &a->items[i];
		if (it->code == 0 && it->verify && !n->stopping) {
			int rv = loy_mempool_add(n->mempool, it->hash, it->signer,
						 it->nonce, it->bytes.data,
						 it->bytes.len);
			if (rv == LOY_ETOOBIG) {
				it->code = rv;
				it->why = "mempool full (or too many pending from this signer); retry later";
			} else if (rv == LOY_ENOMEM) {
				it->code = rv;
				it->why = "out of memory";
			} else if (rv == 0) {
				added++;
			} else {
				it->verify = 0; /* a duplicate: admitted meanwhile */
			}
		}
		if (a->cb)
			a->cb(a->data, i, it->code, it->hash, it->why);
	}
	if (a->gossip && added && n->net && !n->stopping)
		gossip(n, a);
	for (uint32_t i = 0; i < a->count; i++)
		loy_buf_free(&a->items[i].bytes);
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
	struct loy_tx tx;

	loy_tx_hash(it->hash, it->bytes.data, it->bytes.len);
	if (loy_tx_decode(&tx, it->bytes.data, it->bytes.len) != 0) {
		it->code = LOY_EMALFORMED;
		it->why = "malformed transaction (not the canonical encoding of a known kind)";
		return;
	}
	if (strcmp(tx.chain_id, n->genesis.chain_id) != 0) {
		it->code = LOY_EINVAL;
		it->why = "transaction is for another chain";
	} else if (loy_mempool_has(n->mempool, it->hash)) {
		it->why = "already pending"; /* code 0: nothing to do */
	} else {
		memcpy(it->signer, tx.signer, LOY_PUBKEY_SIZE);
		it->nonce = tx.nonce;
		it->verify = 1;
	}
	loy_tx_free(&tx);
}

void loy_node_admit(struct loy_node *n, const struct loy_buf *txs,
		    uint32_t count, const uint8_t *source, loy_admit_cb cb,
		    void *data, void (*all_done)(void *data))
{
	struct admit_job *a = calloc(1, sizeof *a);

	if (a == NULL || (a->items = calloc(count ? count : 1, sizeof *a->items)) == NULL) {
		free(a);
		for (uint32_t i = 0; i < count && cb; i++)
			cb(data, i, LOY_ENOMEM, (const uint8_t[LOY_HASH_SIZE]){0},
			   "out of memory");
		if (all_done)
			all_done(data);
		return;
	}
	a->count = count;
	a->gossip = source == NULL;
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
	a->job.run = admit_run;
	a->job.done = admit_done;
	loy_node_pool_job(n, &a->job);
}
