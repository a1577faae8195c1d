/* Client submissions: admission, waiting for commits (a hash table of
 * waiters by tx hash), and committed events for subscribers. */
#include "node/client_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/txjson.h"
#include "wire/client.h"
#include "wire/error.h"
#include "wire/tx.h"

/* --- waiting for commits --- */

static size_t bucket_of(const uint8_t *hash)
{
	return ((size_t)hash[0] | (size_t)hash[1] << 8) % WAITER_BUCKETS;
}

static void waiter_link(struct loy_client_api *a, struct waiter *w)
{
	size_t b = bucket_of(w->hash);

	w->hprev = NULL;
	w->hnext = a->buckets[b];
	if (w->hnext)
		w->hnext->hprev = w;
	a->buckets[b] = w;
	w->linked = true;
}

static void waiter_unlink(struct loy_client_api *a, struct waiter *w)
{
	if (!w->linked)
		return;
	if (w->hprev)
		w->hprev->hnext = w->hnext;
	else
		a->buckets[bucket_of(w->hash)] = w->hnext;
	if (w->hnext)
		w->hnext->hprev = w->hprev;
	w->linked = false;
}

void loy_client_pending_free(struct pending *p)
{
	struct conn *c = p->conn;

	if (p->counted) {
		c->waiting--;
		loy_client_conn_maybe_resume(c);
	}
	for (uint32_t i = 0; p->waiters && i < p->count; i++)
		waiter_unlink(c->api, &p->waiters[i]);
	if (p->prev)
		p->prev->next = p->next;
	else
		c->pendings = p->next;
	if (p->next)
		p->next->prev = p->prev;
	json_decref(p->results);
	free(p->waiters);
	free(p);
}

void loy_client_pending_answer(struct pending *p, const char *timeout_msg)
{
	json_t *payload = json_pack("{s:O}", "txs", p->results);
	int code = 0;
	const char *msg = "";

	/* the request fails if any transaction could not be admitted */
	for (uint32_t i = 0; i < p->count; i++) {
		json_t *r = json_array_get(p->results, i);
		json_t *err = json_object_get(r, "error");
		if (err) {
			code = LOY_EREJECTED;
			msg = json_string_value(err);
			break;
		}
	}
	if (timeout_msg) {
		code = LOY_ESTATE;
		msg = timeout_msg;
	}
	loy_client_send_response(p->conn, p->request_id, code, msg, payload);
	json_decref(payload);
	loy_client_pending_free(p);
}

static void admitted_one(void *data, uint32_t i, int code,
			 const uint8_t hash[LOY_HASH_SIZE], const char *why)
{
	struct pending *p = data;
	json_t *r = json_object();
	char hex[2 * LOY_HASH_SIZE + 1];

	loy_hex(hex, hash, LOY_HASH_SIZE);
	json_object_set_new(r, "hash", json_string(hex));
	if (code != 0) {
		json_object_set_new(r, "status", json_string("refused"));
		json_object_set_new(
		    r, "error", json_string(why ? why : loy_strerror(code)));
	} else {
		json_object_set_new(r, "status", json_string("pending"));
		if (p->wait && p->waiters) {
			struct waiter *w = &p->waiters[i];
			memcpy(w->hash, hash, LOY_HASH_SIZE);
			w->p = p;
			w->index = i;
			waiter_link(p->conn->api, w);
			p->outstanding++;
		}
	}
	json_array_append_new(p->results, r);
}

static void admitted_all(void *data)
{
	struct pending *p = data;
	struct conn *c = p->conn;

	p->admitted = true;
	if (c->closing) {
		loy_client_conn_unref(c);
		loy_client_pending_free(p);
		loy_client_conn_close(c);
		return;
	}
	if (!p->wait || p->outstanding == 0) {
		loy_client_conn_unref(c);
		loy_client_pending_answer(p, NULL);
		return;
	}
	/* still work in progress on this connection: it counts against
	 * MAX_CLIENT_REFS until answered */
	p->counted = true;
	c->waiting++;
	loy_client_conn_unref(c);
}

void loy_client_handle_submit(struct conn *c, struct loy_client_request *q)
{
	struct loy_node *n = c->api->node;
	struct pending *p = calloc(1, sizeof *p);

	if (p == NULL || (p->results = json_array()) == NULL ||
	    (q->submit.wait &&
	     (p->waiters = calloc(q->submit.tx_count, sizeof *p->waiters)) ==
		 NULL)) {
		if (p)
			json_decref(p->results);
		free(p);
		loy_client_send_response(c, q->request_id, LOY_ENOMEM,
					 "out of memory", NULL);
		return;
	}
	p->conn = c;
	p->request_id = q->request_id;
	p->wait = q->submit.wait;
	p->count = q->submit.tx_count;
	p->deadline = loy_node_now_ms() + WAIT_TIMEOUT_MS;
	p->next = c->pendings;
	if (p->next)
		p->next->prev = p;
	c->pendings = p;
	c->refs++;
	loy_node_admit(n, q->submit.txs, q->submit.tx_count, NULL, admitted_one,
		       p, admitted_all);
}

/* Subscription filter: whether a transaction touches one ID. */
struct party_match {
	const uint8_t *id;
	int hit;
};

static void match_id(void *d, const uint8_t id[LOY_ID_SIZE])
{
	struct party_match *m = d;

	if (memcmp(m->id, id, LOY_ID_SIZE) == 0)
		m->hit = 1;
}

void loy_client_api_on_commit(struct loy_client_api *a, uint64_t height,
			      const struct loy_block *b,
			      const uint8_t (*hashes)[LOY_HASH_SIZE],
			      const struct loy_tx_result *results)
{
	bool any_sub = false;

	for (struct conn *c = a->conns; c; c = c->next)
		any_sub |= c->subscribed && !c->closing;
	for (uint32_t i = 0; i < b->tx_count; i++) {
		struct waiter *w = a->buckets[bucket_of(hashes[i])], *next;
		for (; w; w = next) {
			struct pending *p = w->p;
			json_t *r;
			next = w->hnext;
			if (memcmp(w->hash, hashes[i], LOY_HASH_SIZE) != 0)
				continue;
			waiter_unlink(a, w);
			r = json_array_get(p->results, w->index);
			json_object_set_new(r, "status",
					    json_string(results[i].code == 0
							    ? "committed"
							    : "rejected"));
			json_object_set_new(r, "height",
					    json_integer((json_int_t)height));
			json_object_set_new(r, "code",
					    json_integer(results[i].code));
			json_object_set_new(
			    r, "result",
			    json_string(loy_reject_name(results[i].code)));
			if (results[i].code != 0)
				json_object_set_new(
				    r, "message", json_string(results[i].msg));
			if (--p->outstanding == 0 && p->admitted) {
				/* the next waiter may belong to this pending:
				 * skip past its entries before freeing */
				while (next && next->p == p)
					next = next->hnext;
				loy_client_pending_answer(p, NULL);
			}
		}
	}
	if (!any_sub)
		return;
	/* Events for subscribers. */
	for (uint32_t i = 0; i < b->tx_count; i++) {
		struct loy_tx tx;
		struct loy_client_event ev;
		struct loy_buf out;
		json_t *o;
		char *text;

		if (loy_tx_decode(&tx, b->txs[i].data, b->txs[i].len) != 0)
			continue;
		o = loy_tx_json(&tx);
		if (o == NULL) {
			loy_tx_free(&tx);
			continue;
		}
		json_object_set_new(o, "height",
				    json_integer((json_int_t)height));
		{
			char hex[2 * LOY_HASH_SIZE + 1];
			loy_hex(hex, hashes[i], LOY_HASH_SIZE);
			json_object_set_new(o, "tx", json_string(hex));
		}
		json_object_set_new(o, "code", json_integer(results[i].code));
		json_object_set_new(
		    o, "result", json_string(loy_reject_name(results[i].code)));
		if (results[i].code)
			json_object_set_new(o, "message",
					    json_string(results[i].msg));
		text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(o);
		memset(&ev, 0, sizeof ev);
		ev.height = height;
		memcpy(ev.tx_hash, hashes[i], LOY_HASH_SIZE);
		ev.event.data = (uint8_t *)text;
		ev.event.len = text ? strlen(text) : 0;
		/* one encoding of the event for every subscriber it concerns */
		if (text == NULL || ev.event.len == 0 ||
		    ev.event.len > LOY_CLIENT_EVENT_MAX ||
		    loy_client_event_encode(&ev, &out) != 0) {
			free(text);
			loy_tx_free(&tx);
			continue;
		}
		for (struct conn *c = a->conns; c; c = c->next) {
			struct party_match m = {c->sub_id, 0};
			if (!c->subscribed || c->closing)
				continue;
			if (c->sub_filter != LOY_SUB_ALL) {
				loy_tx_parties(&tx, match_id, &m);
				if (!m.hit)
					continue;
			}
			loy_client_conn_send(c, &out);
		}
		loy_buf_free(&out);
		free(text);
		loy_tx_free(&tx);
	}
}
