/* One peer link: TCP connect/accept, the HELLO/AUTH handshake, reading
 * length-prefixed frames (checked before allocation), sealed frames after
 * the handshake, bounded write queues, and closing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/peer_int.h"
#include "wire/client.h"
#include "wire/error.h"

struct write_req {
	uv_write_t req;
	size_t len;
	uint8_t data[];
};

/* Drops one of the link's handles or requests; frees it after the last. */
static void link_unref(struct link *l)
{
	struct loy_peer_net *n = l->net;

	if (--l->open_handles > 0)
		return;
	free(l->rbuf);
	loy_buf_free(&l->init_hello);
	loy_buf_free(&l->resp_hello);
	loy_eph_key_wipe(&l->eph);
	loy_session_wipe(&l->sess);
	free(l);
	peer_net_handle_closed(n);
}

static void link_handle_closed(uv_handle_t *h)
{
	link_unref(h->data);
}

void peer_link_close(struct link *l, const char *reason)
{
	struct loy_peer_net *n = l->net;
	struct peer *p = l->peer;
	int was_up = l->state == LINK_UP;

	if (l->state == LINK_CLOSING)
		return;
	/* A peer that stays down is reported on the first failures and then
	 * once in a while, not on every redial. */
	if (reason != NULL && p != NULL && l->role == LOY_HS_INITIATOR &&
	    !was_up && p->fails >= 3) {
		if (p->fails % 32 == 0)
			peer_log("%s: %s (%u failed dials in a row)", l->name,
				 reason, p->fails);
	} else if (reason != NULL) {
		peer_log("%s: %s; closing", l->name, reason);
	}
	l->state = LINK_CLOSING;
	if (l->pending) {
		l->pending = 0;
		n->pending--;
	}
	if (l->prev != NULL)
		l->prev->next = l->next;
	else
		n->links = l->next;
	if (l->next != NULL)
		l->next->prev = l->prev;
	l->prev = l->next = NULL;
	if (l->gai_pending)
		uv_cancel((uv_req_t *)&l->gai); /* its callback still runs */
	uv_close((uv_handle_t *)&l->tcp, link_handle_closed);
	uv_close((uv_handle_t *)&l->hs_timer, link_handle_closed);
	loy_eph_key_wipe(&l->eph);
	loy_session_wipe(&l->sess);
	if (p == NULL)
		return;
	if (p->dial == l)
		p->dial = NULL;
	if (p->link == l)
		p->link = NULL;
	else
		was_up =
		    0; /* replaced: the new link already announced itself */
	l->peer = NULL;
	if (was_up && !n->closing && n->cb.on_down != NULL)
		n->cb.on_down(n->cb.data, p->key);
	peer_link_gone(p, was_up);
}

static void hs_timeout_cb(uv_timer_t *t)
{
	struct link *l = t->data;

	peer_link_close(l, "handshake timed out");
}

/* Allocates a link with both handles initialised and on net->links. */
static struct link *link_new(struct loy_peer_net *n, enum loy_hs_role role)
{
	struct link *l = calloc(1, sizeof *l);
	int rv;

	if (l == NULL)
		return NULL;
	/* small until authenticated: strangers get no big buffers */
	l->rcap = LOY_FRAME_HEADER_SIZE + PEER_HS_MAX_FRAME;
	l->rbuf = malloc(l->rcap);
	if (l->rbuf == NULL)
		goto err_link;
	rv = uv_tcp_init(n->loop, &l->tcp);
	if (rv != 0)
		goto err_rbuf;
	rv = uv_timer_init(n->loop, &l->hs_timer);
	if (rv != 0) {
		/* the tcp handle is live: it must go through uv_close */
		l->net = n;
		l->open_handles = 1;
		n->open_handles++;
		l->tcp.data = l;
		l->state = LINK_CLOSING;
		uv_close((uv_handle_t *)&l->tcp, link_handle_closed);
		return NULL;
	}
	l->net = n;
	l->role = role;
	l->open_handles = 2;
	n->open_handles++; /* the link counts once; freed after both close */
	l->tcp.data = l;
	l->hs_timer.data = l;
	l->connect_req.data = l;
	l->next = n->links;
	if (n->links != NULL)
		n->links->prev = l;
	n->links = l;
	uv_timer_start(&l->hs_timer, hs_timeout_cb, n->hs_timeout_ms, 0);
	return l;
err_rbuf:
	free(l->rbuf);
err_link:
	free(l);
	return NULL;
}

static void write_cb(uv_write_t *req, int status)
{
	struct link *l = req->data;

	free(req);
	if (status < 0 && status != UV_ECANCELED) {
		char why[96];
		snprintf(why, sizeof why, "write: %s", uv_strerror(status));
		peer_link_close(l, why);
	}
}

/* Queues one frame (header + body already in w->data). Drops the link when
 * its write queue would pass max_queued. Takes w in every case. */
static int link_write(struct link *l, struct write_req *w)
{
	struct loy_peer_net *n = l->net;
	uv_buf_t b = uv_buf_init((char *)w->data, (unsigned int)w->len);
	int rv;
	size_t queued = uv_stream_get_write_queue_size((uv_stream_t *)&l->tcp);

	/* One frame may always go out on an idle link, whatever its size. */
	if (l->state == LINK_UP && queued > 0 &&
	    queued + w->len > n->max_queued) {
		free(w);
		peer_link_close(l,
				"send queue over max_queued (peer too slow)");
		return LOY_ENOTFOUND;
	}
	w->req.data = l;
	rv = uv_write(&w->req, (uv_stream_t *)&l->tcp, &b, 1, write_cb);
	if (rv != 0) {
		char why[96];
		free(w);
		snprintf(why, sizeof why, "write: %s", uv_strerror(rv));
		peer_link_close(l, why);
		return LOY_ENOTFOUND;
	}
	return 0;
}

static struct write_req *write_req_new(size_t body_len)
{
	struct write_req *w =
	    malloc(sizeof *w + LOY_FRAME_HEADER_SIZE + body_len);

	if (w == NULL)
		return NULL;
	w->len = LOY_FRAME_HEADER_SIZE + body_len;
	if (loy_frame_header(w->data, body_len) != 0) {
		free(w);
		return NULL;
	}
	return w;
}

/* Sends a plaintext handshake frame. */
static int link_send_plain(struct link *l, const struct loy_buf *b)
{
	struct write_req *w = write_req_new(b->len);

	if (w == NULL) {
		peer_link_close(l, "out of memory");
		return LOY_ENOMEM;
	}
	memcpy(w->data + LOY_FRAME_HEADER_SIZE, b->data, b->len);
	return link_write(l, w);
}

int peer_link_send(struct link *l, uint8_t channel, const uint8_t *msg,
		   size_t len)
{
	size_t body = 1 + len + LOY_SESSION_TAG_SIZE;
	struct write_req *w = write_req_new(body);
	uint8_t *p;

	if (w == NULL) {
		peer_link_close(l, "out of memory");
		return LOY_ENOTFOUND;
	}
	p = w->data + LOY_FRAME_HEADER_SIZE;
	p[0] = channel;
	if (len > 0)
		memcpy(p + 1, msg, len);
	if (loy_session_seal(&l->sess, p, p, 1 + len) != 0) {
		free(w);
		peer_link_close(l, "session spent");
		return LOY_ENOTFOUND;
	}
	return link_write(l, w);
}

/* Builds our HELLO with a fresh ephemeral key and nonce. The nonce comes
 * from a second ephemeral key pair: wire/session.h is the randomness we
 * may use here. */
static int link_make_hello(struct link *l, struct loy_buf *out)
{
	struct loy_peer_net *n = l->net;
	struct loy_eph_key nonce_src;

	loy_eph_keygen(&l->eph);
	loy_eph_keygen(&nonce_src);
	memset(&l->ours, 0, sizeof l->ours);
	memcpy(l->ours.chain_id, n->chain_id, sizeof l->ours.chain_id);
	memcpy(l->ours.validator, n->pk, LOY_PUBKEY_SIZE);
	memcpy(l->ours.ephemeral, l->eph.pk, LOY_X25519_SIZE);
	memcpy(l->ours.nonce, nonce_src.pk, LOY_HS_NONCE_SIZE);
	loy_eph_key_wipe(&nonce_src);
	return loy_hs_hello_encode(&l->ours, out);
}

static int link_send_auth(struct link *l)
{
	struct loy_hs_auth a;
	struct loy_buf b = {0};
	int rv;

	loy_hs_auth_sign(&a, l->role, l->net->chain_id, l->transcript,
			 l->net->sk);
	rv = loy_hs_auth_encode(&a, &b);
	if (rv != 0) {
		peer_link_close(l, "encode AUTH failed");
		return rv;
	}
	rv = link_send_plain(l, &b);
	loy_buf_free(&b);
	return rv;
}

/* A HELLO arrived: check it, and as responder answer with ours. */
static void link_on_hello(struct link *l, const uint8_t *data, size_t len)
{
	struct loy_peer_net *n = l->net;
	struct loy_hs_hello h;
	struct loy_buf mine = {0};
	struct peer *p;
	int rv;

	rv = loy_hs_hello_decode(&h, data, len);
	if (rv != 0) {
		char why[96];
		snprintf(why, sizeof why, "bad HELLO: %s", loy_strerror(rv));
		peer_link_close(l, why);
		return;
	}
	if (strncmp(h.chain_id, n->chain_id, sizeof h.chain_id) != 0) {
		char why[128];
		snprintf(why, sizeof why,
			 "HELLO for chain \"%s\", ours is \"%s\"", h.chain_id,
			 n->chain_id);
		peer_link_close(l, why);
		return;
	}
	p = peer_find(n, h.validator);
	if (p == NULL) {
		char why[64];
		snprintf(why, sizeof why,
			 "unknown validator key %02x%02x%02x%02x: refused",
			 h.validator[0], h.validator[1], h.validator[2],
			 h.validator[3]);
		peer_link_close(l, why);
		return;
	}
	if (l->role == LOY_HS_INITIATOR) {
		if (l->peer != p) {
			peer_link_close(
			    l, "answered with another validator's key");
			return;
		}
		if (loy_hs_hello_check(&l->ours, &h) != 0) {
			peer_link_close(l, "HELLO echoes ours");
			return;
		}
		rv = loy_buf_copy(&l->resp_hello, data, len);
	} else {
		if (p->we_dial) {
			peer_link_close(l, "dial rule: the smaller key dials, "
					   "and that is us");
			return;
		}
		l->peer = p;
		snprintf(l->name, sizeof l->name, "peer %s (incoming)", p->hex);
		rv = loy_buf_copy(&l->init_hello, data, len);
		if (rv == 0)
			rv = link_make_hello(l, &mine);
		if (rv == 0 && loy_hs_hello_check(&l->ours, &h) != 0)
			rv = LOY_EINVAL;
		if (rv == 0) {
			l->resp_hello = mine;
			mine.data = NULL;
		}
	}
	if (rv != 0) {
		loy_buf_free(&mine);
		peer_link_close(l, "HELLO refused");
		return;
	}
	memcpy(l->peer_validator, h.validator, LOY_PUBKEY_SIZE);
	memcpy(l->peer_eph, h.ephemeral, LOY_X25519_SIZE);
	loy_hs_transcript(l->transcript, l->init_hello.data, l->init_hello.len,
			  l->resp_hello.data, l->resp_hello.len);
	l->state = LINK_WAIT_AUTH;
	if (l->role == LOY_HS_RESPONDER)
		(void)link_send_plain(l, &l->resp_hello);
	else
		(void)link_send_auth(l);
}

static void link_on_auth(struct link *l, const uint8_t *data, size_t len)
{
	struct loy_peer_net *n = l->net;
	enum loy_hs_role theirs =
	    l->role == LOY_HS_INITIATOR ? LOY_HS_RESPONDER : LOY_HS_INITIATOR;
	struct loy_hs_auth a;
	int rv;

	rv = loy_hs_auth_decode(&a, data, len);
	if (rv != 0) {
		peer_link_close(l, "bad AUTH");
		return;
	}
	if (loy_hs_auth_verify(&a, theirs, n->chain_id, l->transcript,
			       l->peer_validator) != 0) {
		peer_link_close(l, "AUTH signature does not verify");
		return;
	}
	if (l->role == LOY_HS_RESPONDER && link_send_auth(l) != 0)
		return;
	if (loy_session_derive(&l->sess, l->role, &l->eph, l->peer_eph,
			       l->transcript) != 0) {
		peer_link_close(l, "bad ephemeral key");
		return;
	}
	loy_eph_key_wipe(&l->eph);
	uv_timer_stop(&l->hs_timer);
	if (l->pending) {
		l->pending = 0;
		n->pending--;
	}
	l->state = LINK_UP;
	peer_link_up(l);
}

static void link_on_sealed(struct link *l, const uint8_t *data, size_t len)
{
	struct loy_peer_net *n = l->net;
	uint8_t *plain;
	size_t plen;
	int rv;

	if (len < 1 + LOY_SESSION_TAG_SIZE) {
		peer_link_close(l, "frame shorter than a sealed channel byte");
		return;
	}
	plen = len - LOY_SESSION_TAG_SIZE;
	plain = malloc(plen);
	if (plain == NULL) {
		peer_link_close(l, "out of memory");
		return;
	}
	rv = loy_session_open(&l->sess, plain, data, len);
	if (rv != 0) {
		free(plain);
		peer_link_close(l, "frame does not decrypt");
		return;
	}
	if (plain[0] < 1 || plain[0] > LOY_CHAN_MAX) {
		char why[48];
		snprintf(why, sizeof why, "unknown channel %u", plain[0]);
		free(plain);
		peer_link_close(l, why);
		return;
	}
	/* Blocked frames are opened first so the counters stay in step. */
	if (!l->peer->blocked && n->cb.on_message != NULL)
		n->cb.on_message(n->cb.data, l->peer->key, plain[0], plain + 1,
				 plen - 1);
	free(plain);
}

static void link_on_frame(struct link *l, const uint8_t *data, size_t len)
{
	switch (l->state) {
	case LINK_WAIT_HELLO:
		link_on_hello(l, data, len);
		break;
	case LINK_WAIT_AUTH:
		link_on_auth(l, data, len);
		break;
	case LINK_UP:
		link_on_sealed(l, data, len);
		break;
	default:
		break;
	}
}

static size_t link_max_body(const struct link *l)
{
	if (l->state == LINK_UP)
		return 1 + l->net->max_msg + LOY_SESSION_TAG_SIZE;
	return PEER_HS_MAX_FRAME;
}

/* Sizes the buffer for the next read: grown only to a frame length that
 * loy_frame_peek has already checked against the limit. */
static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct link *l = h->data;
	size_t body = 0, need = 0;
	(void)suggested;

	if (loy_frame_peek(l->rbuf, l->rlen, link_max_body(l), &body) ==
		LOY_FRAME_MORE &&
	    body > 0)
		need = LOY_FRAME_HEADER_SIZE + body;
	if (l->state == LINK_UP && need < PEER_RBUF_BASE)
		need = PEER_RBUF_BASE;
	if (need > l->rcap) {
		uint8_t *nb = realloc(l->rbuf, need);
		if (nb == NULL) {
			*buf =
			    uv_buf_init(NULL, 0); /* read_cb gets UV_ENOBUFS */
			return;
		}
		l->rbuf = nb;
		l->rcap = need;
	}
	*buf = uv_buf_init((char *)l->rbuf + l->rlen,
			   (unsigned int)(l->rcap - l->rlen));
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct link *l = s->data;
	size_t off = 0;
	(void)buf;

	if (l->state == LINK_CLOSING)
		return;
	if (nread < 0) {
		char why[96];
		snprintf(why, sizeof why, "read: %s",
			 nread == UV_EOF ? "closed by peer"
					 : uv_strerror((int)nread));
		peer_link_close(l, why);
		return;
	}
	l->rlen += (size_t)nread;
	while (l->state != LINK_CLOSING) {
		size_t body = 0;
		enum loy_frame_state st = loy_frame_peek(
		    l->rbuf + off, l->rlen - off, link_max_body(l), &body);
		if (st == LOY_FRAME_TOOBIG) {
			char why[96];
			snprintf(why, sizeof why,
				 "frame length zero or over %zu bytes",
				 link_max_body(l));
			peer_link_close(l, why);
			return;
		}
		if (st == LOY_FRAME_MORE)
			break;
		link_on_frame(l, l->rbuf + off + LOY_FRAME_HEADER_SIZE, body);
		off += LOY_FRAME_HEADER_SIZE + body;
	}
	if (l->state == LINK_CLOSING)
		return;
	memmove(l->rbuf, l->rbuf + off, l->rlen - off);
	l->rlen -= off;
	if (l->rcap > PEER_RBUF_BASE && l->rlen <= PEER_RBUF_BASE) {
		uint8_t *nb = realloc(l->rbuf, PEER_RBUF_BASE);
		if (nb != NULL) {
			l->rbuf = nb;
			l->rcap = PEER_RBUF_BASE;
		}
	}
}

static int link_start_reading(struct link *l)
{
	int rv;

	uv_tcp_nodelay(&l->tcp, 1);
	uv_tcp_keepalive(&l->tcp, 1, 30);
	rv = uv_read_start((uv_stream_t *)&l->tcp, alloc_cb, read_cb);
	if (rv != 0) {
		char why[96];
		snprintf(why, sizeof why, "read start: %s", uv_strerror(rv));
		peer_link_close(l, why);
	}
	return rv;
}

void peer_link_accept(struct loy_peer_net *n)
{
	struct link *l = link_new(n, LOY_HS_RESPONDER);
	struct sockaddr_storage sa;
	int salen = sizeof sa;
	char host[64] = "?";
	int rv;

	if (l == NULL) {
		peer_log("accept: out of memory");
		return;
	}
	l->state = LINK_WAIT_HELLO;
	l->pending = 1;
	n->pending++;
	snprintf(l->name, sizeof l->name, "incoming connection");
	rv = uv_accept((uv_stream_t *)n->listener, (uv_stream_t *)&l->tcp);
	if (rv != 0) {
		char why[96];
		snprintf(why, sizeof why, "accept: %s", uv_strerror(rv));
		peer_link_close(l, why);
		return;
	}
	if (uv_tcp_getpeername(&l->tcp, (struct sockaddr *)&sa, &salen) == 0) {
		if (sa.ss_family == AF_INET6)
			uv_ip6_name((struct sockaddr_in6 *)&sa, host,
				    sizeof host);
		else
			uv_ip4_name((struct sockaddr_in *)&sa, host,
				    sizeof host);
		snprintf(l->name, sizeof l->name, "incoming %s:%u", host,
			 sa.ss_family == AF_INET6
			     ? ntohs(((struct sockaddr_in6 *)&sa)->sin6_port)
			     : ntohs(((struct sockaddr_in *)&sa)->sin_port));
	}
	if (n->pending > PEER_MAX_PENDING) {
		peer_link_close(l, "too many handshakes in progress");
		return;
	}
	(void)link_start_reading(l);
}

static void connect_cb(uv_connect_t *req, int status)
{
	struct link *l = req->data;
	struct loy_buf hello = {0};

	if (l->state == LINK_CLOSING)
		return;
	if (status != 0) {
		char why[96];
		snprintf(why, sizeof why, "connect: %s", uv_strerror(status));
		peer_link_close(l, why);
		return;
	}
	l->state = LINK_WAIT_HELLO;
	if (link_start_reading(l) != 0)
		return;
	if (link_make_hello(l, &hello) != 0) {
		peer_link_close(l, "encode HELLO failed");
		return;
	}
	l->init_hello = hello;
	(void)link_send_plain(l, &l->init_hello);
}

static void link_connect(struct link *l, const struct sockaddr *sa)
{
	int rv = uv_tcp_connect(&l->connect_req, &l->tcp, sa, connect_cb);

	if (rv != 0) {
		char why[96];
		snprintf(why, sizeof why, "connect: %s", uv_strerror(rv));
		peer_link_close(l, why);
	}
}

static void gai_cb(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct link *l = req->data;
	const struct addrinfo *a, *pick = NULL;
	struct sockaddr_storage sa;

	l->gai_pending = 0;
	if (l->state == LINK_CLOSING) {
		uv_freeaddrinfo(res);
		link_unref(l);
		return;
	}
	l->open_handles--; /* the tcp handle and timer still hold it */
	if (status < 0) {
		char why[128];
		snprintf(why, sizeof why, "resolve host: %s",
			 uv_strerror(status));
		peer_link_close(l, why);
		return;
	}
	/* IPv4 first: "localhost" should reach a 127.0.0.1 listener */
	for (a = res; a != NULL; a = a->ai_next)
		if (pick == NULL ||
		    (a->ai_family == AF_INET && pick->ai_family != AF_INET))
			pick = a;
	if (pick == NULL || pick->ai_addrlen > sizeof sa) {
		uv_freeaddrinfo(res);
		peer_link_close(l, "resolve host: no usable address");
		return;
	}
	memcpy(&sa, pick->ai_addr, pick->ai_addrlen);
	uv_freeaddrinfo(res);
	link_connect(l, (const struct sockaddr *)&sa);
}

int peer_link_dial(struct peer *p)
{
	struct link *l = link_new(p->net, LOY_HS_INITIATOR);
	struct addrinfo hints;
	int rv;

	if (l == NULL)
		return LOY_ENOMEM;
	l->peer = p;
	p->dial = l;
	snprintf(l->name, sizeof l->name, "peer %s (%s)", p->hex, p->address);
	if (p->addr_ok) {
		link_connect(l, (const struct sockaddr *)&p->addr);
		return 0;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	l->gai.data = l;
	l->open_handles++;
	l->gai_pending = 1;
	rv = uv_getaddrinfo(p->net->loop, &l->gai, gai_cb, p->host, p->port,
			    &hints);
	if (rv != 0) {
		char why[128];
		l->open_handles--;
		l->gai_pending = 0;
		snprintf(why, sizeof why, "resolve host: %s", uv_strerror(rv));
		peer_link_close(l, why);
	}
	return 0;
}
