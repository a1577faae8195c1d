/* The client API listener: length-prefixed msgpack frames (wire/client.h)
 * carrying submit, query, status and subscribe requests; JSON payloads in
 * the answers. Submissions and commit notifications: client_submit.c. */
#include "node/client_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/client.h"
#include "wire/error.h"

/* --- writing --- */

struct write_req {
	uv_write_t req;
	struct conn *c;
	size_t len;
	uint8_t data[];
};

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
static void on_resume(uv_timer_t *t);

void loy_client_conn_maybe_resume(struct conn *c)
{
	if (c->paused && !c->closing &&
	    c->refs + c->waiting <= MAX_CLIENT_REFS / 2) {
		c->paused = false;
		if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) !=
		    0) {
			loy_client_conn_close(c);
			return;
		}
		/* frames read before the pause run from the loop, not from
		 * inside whatever callback freed the work */
		if (c->rlen > 0 && !c->api->closing)
			uv_timer_start(&c->api->resume, on_resume, 0, 0);
	}
}

void loy_client_conn_unref(struct conn *c)
{
	c->refs--;
	loy_client_conn_maybe_resume(c);
}

static void on_written(uv_write_t *w, int status)
{
	struct write_req *wr = (struct write_req *)w;
	struct conn *c = wr->c;

	c->queued -= wr->len;
	loy_client_conn_unref(c);
	free(wr);
	if (status != 0 || c->closing)
		loy_client_conn_close(c);
}

/* Sends one encoded message as a frame (sealed once the client has
 * authenticated). */
void loy_client_conn_send(struct conn *c, const struct loy_buf *msg)
{
	struct write_req *wr;
	uv_buf_t b;
	size_t body = msg->len + (c->sealed ? LOY_SESSION_TAG_SIZE : 0);

	if (c->closing)
		return;
	if (c->queued + msg->len > MAX_CLIENT_QUEUED) {
		LOG_WARN(&c->api->node->log, "client",
			 "%s is not reading its answers; closing", c->peer);
		loy_client_conn_close(c);
		return;
	}
	wr = malloc(sizeof *wr + LOY_FRAME_HEADER_SIZE + body);
	if (wr == NULL || loy_frame_header(wr->data, body) != 0) {
		free(wr);
		loy_client_conn_close(c);
		return;
	}
	if (c->sealed) {
		if (loy_session_seal(&c->auth.sess,
				     wr->data + LOY_FRAME_HEADER_SIZE,
				     msg->data, msg->len) != 0) {
			free(wr);
			loy_client_conn_close(c);
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
		loy_client_conn_close(c);
		return;
	}
	c->queued += wr->len;
	c->refs++;
}

void loy_client_send_response(struct conn *c, uint64_t request_id, int code,
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
		loy_client_conn_send(c, &out);
		loy_buf_free(&out);
	}
	free(text);
}

/* --- queries and status --- */

static void query_reply(void *data, uint64_t request_id, int code,
			const char *msg, json_t *payload)
{
	struct conn *c = data;

	loy_client_conn_unref(c);
	if (!c->closing)
		loy_client_send_response(c, request_id, code, msg, payload);
	else
		loy_client_conn_close(c);
}

/* Whether a request must wait for the ledger to apply what clients were
 * told of: a query would read older state, and a waiting submit of a
 * transaction in that block would wait for a commit already announced.
 * Behind a held request, every later one of the connection waits too, so
 * that its answers keep their order. */
static bool must_park(const struct conn *c, const struct loy_client_request *q)
{
	if (c->n_parked > 0)
		return true;
	if (!loy_node_behind_acks(c->api->node))
		return false;
	return q->kind == LOY_CLIENT_QUERY ||
	       (q->kind == LOY_CLIENT_SUBMIT && q->submit.wait);
}

static void park(struct conn *c, const uint8_t *data, size_t len)
{
	struct loy_client_api *a = c->api;
	struct parked *p = malloc(sizeof *p + len);

	if (p == NULL) {
		LOG_ERR(&a->node->log, "client",
			"%s: out of memory holding a request; closing",
			c->peer);
		loy_client_conn_close(c);
		return;
	}
	p->next = NULL;
	p->conn = c;
	p->len = len;
	memcpy(p->data, data, len);
	c->refs++;
	c->n_parked++;
	if (a->parked_tail)
		a->parked_tail->next = p;
	else
		a->parked_head = p;
	a->parked_tail = p;
	/* what it waits for may sit in the ledger's group */
	loy_node_flush_soon(a->node);
}

static void handle_request(struct conn *c, const uint8_t *data, size_t len,
			   bool replay)
{
	struct loy_client_request q;
	struct loy_node *n = c->api->node;
	int rv = loy_client_request_decode(&q, data, len);

	if (rv != 0) {
		LOG_WARN(&n->log, "client",
			 "%s: malformed request (%s); closing", c->peer,
			 loy_strerror(rv));
		loy_client_conn_close(c);
		return;
	}
	if (!replay && must_park(c, &q)) {
		park(c, data, len);
		loy_client_request_free(&q);
		return;
	}
	switch (q.kind) {
	case LOY_CLIENT_SUBMIT:
		loy_client_handle_submit(c, &q);
		break;
	case LOY_CLIENT_STATUS: {
		json_t *s = loy_node_status_json(n);
		loy_client_send_response(c, q.request_id, s ? 0 : LOY_ENOMEM,
					 "", s);
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
		loy_client_send_response(c, q.request_id, 0, "subscribed",
					 NULL);
		break;
	default:
		loy_client_send_response(c, q.request_id, LOY_EKIND,
					 "not a request", NULL);
		break;
	}
	loy_client_request_free(&q);
}

static void hs_fail(struct conn *c, const char *why)
{
	LOG_WARN(&c->api->node->log, "client",
		 "%s: handshake refused: %s; closing", c->peer, why);
	loy_client_conn_close(c);
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
		loy_client_conn_send(
		    c, &reply); /* plain: sealing starts after it */
		loy_buf_free(&reply);
		c->sealed = c->auth.state == LOY_CLIENT_AUTH_DONE;
		return;
	}
	if (c->sealed) {
		if (len < LOY_SESSION_TAG_SIZE ||
		    loy_session_open(&c->auth.sess, data, data, len) != 0) {
			LOG_WARN(&c->api->node->log, "client",
				 "%s: frame does not open; closing", c->peer);
			loy_client_conn_close(c);
			return;
		}
		len -= LOY_SESSION_TAG_SIZE;
	}
	handle_request(c, data, len, false);
}

/* Runs (or, for connections that closed, drops) the held requests, in
 * order. With release false, drops them all (the API is closing). */
static void run_parked(struct loy_client_api *a, bool release)
{
	struct parked *p = a->parked_head;

	a->parked_head = a->parked_tail = NULL;
	while (p) {
		struct parked *next = p->next;
		struct conn *c = p->conn;
		c->n_parked--;
		loy_client_conn_unref(c);
		if (release && !c->closing)
			handle_request(c, p->data, p->len, true);
		else if (c->closing)
			loy_client_conn_close(c);
		free(p);
		p = next;
	}
}

void loy_client_api_counts(const struct loy_client_api *a, uint32_t *open,
			   uint32_t *paused, uint64_t *waiting)
{
	*open = a->n_conns;
	*paused = 0;
	*waiting = 0;
	for (const struct conn *c = a->conns; c; c = c->next) {
		*paused += c->paused && !c->closing;
		*waiting += c->waiting;
	}
}

void loy_client_api_release(struct loy_client_api *a)
{
	if (a->parked_head && !loy_node_behind_acks(a->node))
		run_parked(a, true);
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

void loy_client_conn_close(struct conn *c)
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
				loy_client_pending_free(p);
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

/* Runs the whole frames in c's buffer, up to MAX_CLIENT_REFS of work in
 * progress: the rest waits in the buffer, and reading stops, until half
 * of that work is done (loy_client_conn_maybe_resume). */
static void conn_process(struct conn *c)
{
	size_t off = 0;

	while (!c->closing && c->refs + c->waiting < MAX_CLIENT_REFS) {
		size_t body;
		enum loy_frame_state st = loy_frame_peek(
		    c->rbuf + off, c->rlen - off, LOY_MAX_FRAME, &body);
		if (st == LOY_FRAME_TOOBIG) {
			LOG_WARN(&c->api->node->log, "client",
				 "%s: frame too big; closing", c->peer);
			loy_client_conn_close(c);
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
	if (!c->closing && !c->paused &&
	    c->refs + c->waiting >= MAX_CLIENT_REFS) {
		/* TCP holds the rest back: the client waits, not the node */
		c->paused = true;
		uv_read_stop((uv_stream_t *)&c->tcp);
		LOG_DEBUG(&c->api->node->log, "client",
			  "%s has %u requests and answers in progress; not "
			  "reading from it until half are done",
			  c->peer, c->refs + c->waiting);
	}
	/* Do not hold a big buffer for an idle connection. */
	if (c->rlen == 0 && c->rcap > (1u << 20)) {
		free(c->rbuf);
		c->rbuf = NULL;
		c->rcap = 0;
	}
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct conn *c = s->data;

	(void)buf;
	if (nread < 0) {
		loy_client_conn_close(c);
		return;
	}
	c->rlen += (size_t)nread;
	conn_process(c);
}

static void on_resume(uv_timer_t *t)
{
	struct loy_client_api *a = t->data;

	for (struct conn *c = a->conns; c; c = c->next)
		if (!c->closing && !c->paused && c->rlen > 0)
			conn_process(c);
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
		loy_client_conn_close(c);
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
				loy_client_pending_answer(
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
	uv_timer_init(n->loop, &a->resume);
	a->resume.data = a;
	a->open_handles++;
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
	uv_timer_stop(&a->resume);
	uv_close((uv_handle_t *)&a->resume, on_api_handle_closed);
	uv_close((uv_handle_t *)&a->listener, on_api_handle_closed);
	run_parked(a, false);
	for (struct conn *c = a->conns; c; c = c->next)
		loy_client_conn_close(c);
}
