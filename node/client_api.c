/* The client API listener: length-prefixed msgpack frames (wire/client.h)
 * carrying submit, query, status and subscribe requests; JSON payloads in
 * the answers. Submissions may wait until their transactions commit. */
#include "node/internal.h"
#include "node/client_auth.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/txjson.h"
#include "wire/client.h"
#include "wire/error.h"
#include "wire/tx.h"

#define WAIT_TIMEOUT_MS   30000
#define MAX_CLIENT_QUEUED (64u << 20)
#define WAITER_BUCKETS    65536u

struct conn;

/* A SUBMIT waiting for admission and, if asked, for its commits. */
struct pending {
	struct conn *conn;
	struct pending *prev, *next; /* in conn */
	uint64_t request_id;
	uint64_t deadline;
	bool wait;
	bool admitted; /* admission finished */
	uint32_t count;
	uint32_t outstanding;   /* commits still awaited */
	json_t *results;        /* array, one object per tx */
	struct waiter *waiters; /* count entries (wait only) */
};

/* One transaction a pending submit waits for, in a hash table by tx hash. */
struct waiter {
	uint8_t hash[LOY_HASH_SIZE];
	struct pending *p;
	uint32_t index;
	bool linked;
	struct waiter *hprev, *hnext;
};

struct conn {
	uv_tcp_t tcp;
	struct loy_client_api *api;
	struct conn *prev, *next;
	uint8_t *rbuf;
	size_t rlen, rcap;
	size_t queued; /* bytes written but not yet flushed */
	struct pending *pendings;
	bool closing;
	unsigned refs; /* async work holding a pointer to this conn */
	bool subscribed;
	uint8_t sub_filter;
	uint8_t sub_id[LOY_ID_SIZE];
	uint64_t sub_request_id;
	char peer[64];
	/* Client authentication (when the node has allowed keys): the
	 * client's HELLO, then its AUTH, then sealed frames both ways. */
	struct loy_client_auth auth;
	bool sealed;
};

struct loy_client_api {
	struct loy_node *node;
	uv_tcp_t listener;
	uv_timer_t sweep;
	struct conn *conns;
	uint32_t n_conns;
	struct waiter *buckets[WAITER_BUCKETS];
	unsigned open_handles;
	bool closing;
	void (*closed)(void *);
	void *closed_data;
	uint32_t n_allowed; /* client keys allowed in (0: no authentication) */
	uint8_t (*allowed)[LOY_PUBKEY_SIZE];
};

void loy_node_query(struct loy_node *n, uint64_t request_id,
		    const struct loy_client_request *q,
		    void (*reply)(void *data, uint64_t request_id, int code,
				  const char *msg, json_t *payload),
		    void *data);
json_t *loy_node_status_json(struct loy_node *n);

/* --- writing --- */

struct write_req {
	uv_write_t req;
	struct conn *c;
	size_t len;
	uint8_t data[];
};

static void conn_close(struct conn *c);

static void on_written(uv_write_t *w, int status)
{
	struct write_req *wr = (struct write_req *)w;
	struct conn *c = wr->c;

	c->queued -= wr->len;
	c->refs--;
	free(wr);
	if (status != 0 || c->closing)
		conn_close(c);
}

/* Sends one encoded message as a frame (sealed once the client has
 * authenticated). */
static void conn_send(struct conn *c, const struct loy_buf *msg)
{
	struct write_req *wr;
	uv_buf_t b;
	size_t body = msg->len + (c->sealed ? LOY_SESSION_TAG_SIZE : 0);

	if (c->closing)
		return;
	if (c->queued + msg->len > MAX_CLIENT_QUEUED) {
		LOG_WARN(&c->api->node->log, "client",
			 "%s is not reading its answers; closing", c->peer);
		conn_close(c);
		return;
	}
	wr = malloc(sizeof *wr + LOY_FRAME_HEADER_SIZE + body);
	if (wr == NULL || loy_frame_header(wr->data, body) != 0) {
		free(wr);
		conn_close(c);
		return;
	}
	if (c->sealed) {
		if (loy_session_seal(&c->auth.sess,
				     wr->data + LOY_FRAME_HEADER_SIZE,
				     msg->data, msg->len) != 0) {
			free(wr);
			conn_close(c);
			return;
		}
	} else {
		memcpy(wr->data + LOY_FRAME_HEADER_SIZE, msg->data, msg->len);
	}
	wr->c = c;
	wr->len = LOY_FRAME_HEADER_SIZE + body;
	b = uv_buf_init((char *)wr->data, (unsigned)wr->len);
	if (uv_write(&wr->req, (uv_stream_t *)&c->tcp, &b, 1, on_written) !=
	    0) {
		free(wr);
		conn_close(c);
		return;
	}
	c->queued += wr->len;
	c->refs++;
}

static void send_response(struct conn *c, uint64_t request_id, int code,
			  const char *msg, json_t *payload)
{
	struct loy_client_response r;
	struct loy_buf out;
	char *text = NULL;

	memset(&r, 0, sizeof r);
	r.request_id = request_id;
	r.code = (uint32_t)code;
	snprintf(r.message, sizeof r.message, "%s", msg ? msg : "");
	if (payload) {
		text = json_dumps(payload, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (text) {
			r.payload.data = (uint8_t *)text;
			r.payload.len = strlen(text);
		}
	}
	if (loy_client_response_encode(&r, &out) == 0) {
		conn_send(c, &out);
		loy_buf_free(&out);
	}
	free(text);
}

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

static void pending_free(struct pending *p)
{
	struct conn *c = p->conn;

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

static void pending_answer(struct pending *p, const char *timeout_msg)
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
	send_response(p->conn, p->request_id, code, msg, payload);
	json_decref(payload);
	pending_free(p);
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

	c->refs--;
	p->admitted = true;
	if (c->closing) {
		pending_free(p);
		conn_close(c);
		return;
	}
	if (!p->wait || p->outstanding == 0)
		pending_answer(p, NULL);
}

static void handle_submit(struct conn *c, struct loy_client_request *q)
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
		send_response(c, q->request_id, LOY_ENOMEM, "out of memory",
			      NULL);
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
				pending_answer(p, NULL);
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
			conn_send(c, &out);
		}
		loy_buf_free(&out);
		free(text);
		loy_tx_free(&tx);
	}
}

/* --- queries and status --- */

static void query_reply(void *data, uint64_t request_id, int code,
			const char *msg, json_t *payload)
{
	struct conn *c = data;

	c->refs--;
	if (!c->closing)
		send_response(c, request_id, code, msg, payload);
	else
		conn_close(c);
}

static void handle_request(struct conn *c, const uint8_t *data, size_t len)
{
	struct loy_client_request q;
	struct loy_node *n = c->api->node;
	int rv = loy_client_request_decode(&q, data, len);

	if (rv != 0) {
		LOG_WARN(&n->log, "client",
			 "%s: malformed request (%s); closing", c->peer,
			 loy_strerror(rv));
		conn_close(c);
		return;
	}
	switch (q.kind) {
	case LOY_CLIENT_SUBMIT:
		handle_submit(c, &q);
		break;
	case LOY_CLIENT_STATUS: {
		json_t *s = loy_node_status_json(n);
		send_response(c, q.request_id, s ? 0 : LOY_ENOMEM, "", s);
		json_decref(s);
		break;
	}
	case LOY_CLIENT_QUERY:
		c->refs++;
		loy_node_query(n, q.request_id, &q, query_reply, c);
		break;
	case LOY_CLIENT_SUBSCRIBE:
		c->subscribed = true;
		c->sub_filter = q.subscribe.filter;
		memcpy(c->sub_id, q.subscribe.id, LOY_ID_SIZE);
		c->sub_request_id = q.request_id;
		send_response(c, q.request_id, 0, "subscribed", NULL);
		break;
	default:
		send_response(c, q.request_id, LOY_EKIND, "not a request",
			      NULL);
		break;
	}
	loy_client_request_free(&q);
}

static void hs_fail(struct conn *c, const char *why)
{
	LOG_WARN(&c->api->node->log, "client",
		 "%s: handshake refused: %s; closing", c->peer, why);
	conn_close(c);
}

/* One frame from a client: handshake, then (sealed) requests. */
static void conn_frame(struct conn *c, uint8_t *data, size_t len)
{
	if (c->auth.state != 0 && c->auth.state != LOY_CLIENT_AUTH_DONE) {
		struct loy_node *n = c->api->node;
		struct loy_client_auth_cfg cfg = {
		    n->genesis.chain_id, n->pk, n->sk,
		    (const uint8_t(*)[LOY_PUBKEY_SIZE])c->api->allowed,
		    c->api->n_allowed};
		struct loy_buf reply;
		const char *why = "";
		if (loy_client_auth_step(&c->auth, &cfg, data, len, &reply,
					 &why) != 0) {
			hs_fail(c, why);
			return;
		}
		conn_send(c, &reply); /* plain: sealing starts after it */
		loy_buf_free(&reply);
		c->sealed = c->auth.state == LOY_CLIENT_AUTH_DONE;
		return;
	}
	if (c->sealed) {
		if (len < LOY_SESSION_TAG_SIZE ||
		    loy_session_open(&c->auth.sess, data, data, len) != 0) {
			LOG_WARN(&c->api->node->log, "client",
				 "%s: frame does not open; closing", c->peer);
			conn_close(c);
			return;
		}
		len -= LOY_SESSION_TAG_SIZE;
	}
	handle_request(c, data, len);
}

/* --- connections --- */

static void on_conn_closed(uv_handle_t *h)
{
	struct conn *c = h->data;
	struct loy_client_api *a = c->api;

	if (c->prev)
		c->prev->next = c->next;
	else
		a->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	a->n_conns--;
	loy_client_auth_wipe(&c->auth);
	free(c->rbuf);
	free(c);
	a->open_handles--;
	if (a->closing && a->open_handles == 0 && a->closed) {
		void (*cb)(void *) = a->closed;
		void *d = a->closed_data;
		free(a->allowed);
		free(a);
		cb(d);
	}
}

static void conn_close(struct conn *c)
{
	struct pending *p, *next;

	if (!c->closing) {
		c->closing = true;
		uv_read_stop((uv_stream_t *)&c->tcp);
		/* pendings still being admitted keep a ref and are freed by
		 * admitted_all; the others go now */
		for (p = c->pendings; p; p = next) {
			next = p->next;
			if (p->admitted)
				pending_free(p);
		}
	}
	if (c->refs == 0 && !uv_is_closing((uv_handle_t *)&c->tcp))
		uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct conn *c = h->data;
	size_t want = c->rlen + 65536;

	(void)suggested;
	if (want > c->rcap) {
		uint8_t *p = realloc(c->rbuf, want);
		if (p == NULL) {
			buf->base = NULL;
			buf->len = 0;
			return;
		}
		c->rbuf = p;
		c->rcap = want;
	}
	buf->base = (char *)c->rbuf + c->rlen;
	buf->len = c->rcap - c->rlen;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct conn *c = s->data;
	size_t off = 0;

	(void)buf;
	if (nread < 0) {
		conn_close(c);
		return;
	}
	c->rlen += (size_t)nread;
	while (!c->closing) {
		size_t body;
		enum loy_frame_state st = loy_frame_peek(
		    c->rbuf + off, c->rlen - off, LOY_MAX_FRAME, &body);
		if (st == LOY_FRAME_TOOBIG) {
			LOG_WARN(&c->api->node->log, "client",
				 "%s: frame too big; closing", c->peer);
			conn_close(c);
			return;
		}
		if (st == LOY_FRAME_MORE)
			break;
		conn_frame(c, c->rbuf + off + LOY_FRAME_HEADER_SIZE, body);
		off += LOY_FRAME_HEADER_SIZE + body;
	}
	if (off > 0) {
		memmove(c->rbuf, c->rbuf + off, c->rlen - off);
		c->rlen -= off;
	}
	/* Do not hold a big buffer for an idle connection. */
	if (c->rlen == 0 && c->rcap > (1u << 20)) {
		free(c->rbuf);
		c->rbuf = NULL;
		c->rcap = 0;
	}
}

static void on_connection(uv_stream_t *server, int status)
{
	struct loy_client_api *a = server->data;
	struct loy_node *n = a->node;
	struct conn *c;
	struct sockaddr_storage ss;
	int len = sizeof ss;

	if (status != 0)
		return;
	c = calloc(1, sizeof *c);
	if (c == NULL)
		return;
	c->api = a;
	uv_tcp_init(n->loop, &c->tcp);
	c->tcp.data = c;
	a->open_handles++;
	c->next = a->conns;
	if (c->next)
		c->next->prev = c;
	a->conns = c;
	a->n_conns++;
	if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0 ||
	    a->n_conns > n->cfg.max_clients) {
		if (a->n_conns > n->cfg.max_clients)
			LOG_WARN(&n->log, "client",
				 "too many clients (max_clients = %llu); "
				 "refusing one",
				 (unsigned long long)n->cfg.max_clients);
		conn_close(c);
		return;
	}
	uv_tcp_nodelay(&c->tcp, 1);
	if (a->n_allowed > 0)
		c->auth.state = LOY_CLIENT_AUTH_HELLO;
	if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0) {
		char host[48] = "?";
		if (ss.ss_family == AF_INET)
			uv_ip4_name((struct sockaddr_in *)&ss, host,
				    sizeof host);
		else
			uv_ip6_name((struct sockaddr_in6 *)&ss, host,
				    sizeof host);
		snprintf(c->peer, sizeof c->peer, "client %s", host);
	}
	uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static void on_sweep(uv_timer_t *t)
{
	struct loy_client_api *a = t->data;
	uint64_t now = loy_node_now_ms();

	for (struct conn *c = a->conns; c; c = c->next) {
		struct pending *p, *next;
		for (p = c->pendings; p; p = next) {
			next = p->next;
			if (p->admitted && p->deadline <= now)
				pending_answer(
				    p, "timed out waiting for the commit; "
				       "query the transaction later");
		}
	}
}

static int is_loopback(const char *host)
{
	return strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0 ||
	       strcmp(host, "localhost") == 0;
}

int loy_client_api_start(struct loy_node *n, struct loy_client_api **out,
			 char *err, size_t err_size)
{
	struct loy_client_api *a = calloc(1, sizeof *a);
	struct sockaddr_storage ss;
	char host[LOY_HOSTPORT_MAX];
	uint16_t port;
	int rv;

	if (a == NULL)
		return LOY_ENOMEM;
	a->node = n;
	if (loy_hostport_parse(n->cfg.client_listen, host, &port) != 0 ||
	    (uv_ip4_addr(host, port, (struct sockaddr_in *)&ss) != 0 &&
	     uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss) != 0)) {
		snprintf(err, err_size,
			 "client: listen address %s is not an IP:port",
			 n->cfg.client_listen);
		free(a);
		return LOY_EINVAL;
	}
	if (loy_client_auth_parse_keys(n->cfg.client_allowed_keys, &a->allowed,
				       &a->n_allowed, err, err_size) != 0) {
		free(a);
		return LOY_EINVAL;
	}
	if (a->n_allowed > 0)
		LOG_INFO(&n->log, "client",
			 "clients authenticate with one of %u allowed keys; "
			 "links are encrypted",
			 a->n_allowed);
	if (!is_loopback(host) && a->n_allowed == 0) {
		/* Clients beyond loopback would need authenticated, encrypted
		 * links, which this version does not have: refuse rather than
		 * expose an open API. */
		snprintf(err, err_size,
			 "client: [client] listen = %s is not a loopback "
			 "address; this "
			 "version serves clients on loopback only (reach it "
			 "through an SSH "
			 "tunnel or a TLS proxy on the node's host)",
			 n->cfg.client_listen);
		free(a);
		return LOY_EINVAL;
	}
	uv_tcp_init(n->loop, &a->listener);
	a->listener.data = a;
	a->open_handles++;
	rv = uv_tcp_bind(&a->listener, (struct sockaddr *)&ss, 0);
	if (rv == 0)
		rv = uv_listen((uv_stream_t *)&a->listener, 128, on_connection);
	if (rv != 0) {
		snprintf(err, err_size, "client: listen %s: %s",
			 n->cfg.client_listen, uv_strerror(rv));
		a->closing = true;
		uv_close((uv_handle_t *)&a->listener, NULL);
		/* freed when the loop runs the close: leak-free enough for a
		 * node that is about to exit on this error */
		return LOY_EIO;
	}
	uv_timer_init(n->loop, &a->sweep);
	a->sweep.data = a;
	a->open_handles++;
	uv_timer_start(&a->sweep, on_sweep, 1000, 1000);
	*out = a;
	return 0;
}

static void on_api_handle_closed(uv_handle_t *h)
{
	struct loy_client_api *a = h->data;

	a->open_handles--;
	if (a->open_handles == 0 && a->closed) {
		void (*cb)(void *) = a->closed;
		void *d = a->closed_data;
		free(a->allowed);
		free(a);
		cb(d);
	}
}

void loy_client_api_close(struct loy_client_api *a, void (*done)(void *),
			  void *data)
{
	a->closing = true;
	a->closed = done;
	a->closed_data = data;
	uv_timer_stop(&a->sweep);
	uv_close((uv_handle_t *)&a->sweep, on_api_handle_closed);
	uv_close((uv_handle_t *)&a->listener, on_api_handle_closed);
	for (struct conn *c = a->conns; c; c = c->next)
		conn_close(c);
}
