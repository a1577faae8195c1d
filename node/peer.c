/* The peer net: listener, configured peer slots, the dial rule and
 * reconnect backoff, send/broadcast, the fault layer, and closing. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/peer_int.h"
#include "wire/error.h"

/*
 * Dial rule: of each pair, the node whose validator key is lexicographically
 * smaller dials and the other only accepts (and refuses a dial from a
 * larger key), so there is never more than one link per pair to tie-break,
 * however the two restart. A responder that authenticates a new link for a
 * peer that still has one (the dialer restarted before we saw the old link
 * die) keeps the new link and closes the old one.
 */

void peer_log(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	fprintf(stderr, "loyd peer: %s\n", line);
}

struct peer *peer_find(struct loy_peer_net *n,
		       const uint8_t key[LOY_PUBKEY_SIZE])
{
	for (uint32_t i = 0; i < n->n_peers; i++)
		if (memcmp(n->peers[i]->key, key, LOY_PUBKEY_SIZE) == 0)
			return n->peers[i];
	return NULL;
}

void peer_net_handle_closed(struct loy_peer_net *n)
{
	if (--n->open_handles > 0 || !n->closing)
		return;
	loy_wipe(n->sk, sizeof n->sk);
	if (n->done != NULL)
		n->done(n->done_data);
	free(n);
}

static int parse_addr(const char *s, struct sockaddr_storage *sa)
{
	char host[LOY_HOSTPORT_MAX];
	uint16_t port;

	memset(sa, 0, sizeof *sa);
	if (loy_hostport_parse(s, host, &port) != 0)
		return LOY_EINVAL;
	if (uv_ip4_addr(host, port, (struct sockaddr_in *)sa) == 0)
		return 0;
	if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)sa) == 0)
		return 0;
	return LOY_EINVAL;
}

/* An IP literal is parsed once; a host name is resolved at each dial. */
static int peer_set_address(struct peer *p, const char *address)
{
	char host[LOY_HOSTPORT_MAX];
	uint16_t port;

	if (loy_hostport_parse(address, host, &port) != 0)
		return LOY_EINVAL;
	snprintf(p->address, sizeof p->address, "%s", address);
	p->addr_ok = parse_addr(address, &p->addr) == 0;
	memcpy(p->host, host, sizeof p->host);
	snprintf(p->port, sizeof p->port, "%u", port);
	return 0;
}

/* The first delay after a failure, with up to a quarter of jitter drawn
 * from the key bytes so that a cluster restarted at once does not redial
 * in lockstep. */
static uint64_t backoff_delay(const struct peer *p)
{
	uint64_t b = p->backoff_ms, j = b / 4;

	if (j == 0)
		return b;
	return b - j + (((uint64_t)p->key[0] << 8 | p->key[1]) % (j + 1));
}

static void retry_cb(uv_timer_t *t)
{
	struct peer *p = t->data;
	struct loy_peer_net *n = p->net;

	if (n->closing || p->removed || p->link != NULL || p->dial != NULL)
		return;
	if (peer_link_dial(p) != 0)
		peer_link_gone(p, 0);
}

void peer_link_gone(struct peer *p, int was_up)
{
	struct loy_peer_net *n = p->net;
	uint64_t delay;

	if (n->closing || p->removed || !p->we_dial || p->link != NULL ||
	    p->dial != NULL)
		return;
	if (was_up) {
		p->backoff_ms = n->reconnect_min_ms;
		p->fails = 0;
	} else {
		p->fails++;
	}
	delay = backoff_delay(p);
	p->backoff_ms *= 2;
	if (p->backoff_ms > n->reconnect_max_ms)
		p->backoff_ms = n->reconnect_max_ms;
	uv_timer_start(&p->retry, retry_cb, delay, 0);
}

void peer_link_up(struct link *l)
{
	struct peer *p = l->peer;
	struct loy_peer_net *n = l->net;

	if (p->link != NULL && p->link != l)
		peer_link_close(p->link, "replaced by a newer link");
	if (p->dial == l)
		p->dial = NULL;
	p->link = l;
	p->backoff_ms = n->reconnect_min_ms;
	p->fails = 0;
	snprintf(l->name, sizeof l->name, "peer %s (%s)", p->hex, p->address);
	peer_log("%s: link up (%s)", l->name,
		 l->role == LOY_HS_INITIATOR ? "we dialed" : "it dialed");
	if (n->cb.on_up != NULL)
		n->cb.on_up(n->cb.data, p->key);
}

static void peer_closed_cb(uv_handle_t *h)
{
	struct peer *p = h->data;
	struct loy_peer_net *n = p->net;

	free(p);
	peer_net_handle_closed(n);
}

/* Closes p's links and its timer; p is freed in the timer's close
 * callback. */
static void peer_drop(struct peer *p)
{
	struct loy_peer_net *n = p->net;
	struct link *l, *next;

	p->removed = 1;
	for (l = n->links; l != NULL; l = next) {
		next = l->next;
		if (l->peer == p)
			peer_link_close(
			    l, n->closing ? NULL
					  : "validator removed from the set");
	}
	uv_close((uv_handle_t *)&p->retry, peer_closed_cb);
}

/* Makes a peer slot (its timer initialised and counted). */
static struct peer *peer_new(struct loy_peer_net *n,
			     const struct loy_peer_addr *a, char *err,
			     size_t err_size)
{
	struct peer *p;

	if (memcmp(a->key, n->pk, LOY_PUBKEY_SIZE) == 0) {
		snprintf(err, err_size, "peer: %s: that is our own key",
			 a->address);
		return NULL;
	}
	p = calloc(1, sizeof *p);
	if (p == NULL) {
		snprintf(err, err_size, "peer: out of memory");
		return NULL;
	}
	p->net = n;
	memcpy(p->key, a->key, LOY_PUBKEY_SIZE);
	snprintf(p->address, sizeof p->address, "%s", a->address);
	snprintf(p->hex, sizeof p->hex, "%02x%02x%02x%02x", a->key[0],
		 a->key[1], a->key[2], a->key[3]);
	p->we_dial = memcmp(n->pk, a->key, LOY_PUBKEY_SIZE) < 0;
	if (peer_set_address(p, a->address) != 0 && p->we_dial) {
		snprintf(err, err_size,
			 "peer: %s: address \"%s\" is not HOST:PORT", p->hex,
			 a->address);
		free(p);
		return NULL;
	}
	p->backoff_ms = n->reconnect_min_ms;
	uv_timer_init(n->loop, &p->retry);
	p->retry.data = p;
	n->open_handles++;
	if (p->we_dial)
		uv_timer_start(&p->retry, retry_cb, 0, 0);
	return p;
}

static void listener_closed_cb(uv_handle_t *h)
{
	struct loy_peer_net *n = h->data;

	free(h);
	if (n != NULL)
		peer_net_handle_closed(n);
}

static void connection_cb(uv_stream_t *s, int status)
{
	struct loy_peer_net *n = s->data;

	if (status < 0) {
		peer_log("accept: %s", uv_strerror(status));
		return;
	}
	if (n->closing)
		return;
	peer_link_accept(n);
}

static int listen_start(struct loy_peer_net *n, const char *listen, char *err,
			size_t err_size)
{
	struct sockaddr_storage sa;
	int rv;

	if (parse_addr(listen, &sa) != 0) {
		snprintf(err, err_size, "peer: listen \"%s\": not IP:PORT",
			 listen);
		return LOY_EINVAL;
	}
	n->listener = malloc(sizeof *n->listener);
	if (n->listener == NULL) {
		snprintf(err, err_size, "peer: out of memory");
		return LOY_ENOMEM;
	}
	uv_tcp_init(n->loop, n->listener);
	n->listener->data = NULL; /* set once the net owns it */
	rv = uv_tcp_bind(n->listener, (const struct sockaddr *)&sa, 0);
	if (rv == 0)
		rv = uv_listen((uv_stream_t *)n->listener, 128, connection_cb);
	if (rv != 0) {
		snprintf(err, err_size, "peer: listen %s: %s", listen,
			 uv_strerror(rv));
		/* freed by its close callback, which touches nothing else */
		uv_close((uv_handle_t *)n->listener, listener_closed_cb);
		n->listener = NULL;
		return LOY_EIO;
	}
	n->listener->data = n;
	n->open_handles++;
	return 0;
}

int loy_peer_net_start(uv_loop_t *loop, const struct loy_peer_net_config *cfg,
		       const struct loy_peer_net_cb *cb,
		       struct loy_peer_net **out, char *err, size_t err_size)
{
	struct loy_peer_net *n;
	const size_t cap = LOY_MAX_FRAME - 1 - LOY_SESSION_TAG_SIZE;
	int rv;

	*out = NULL;
	if (cfg->n_peers > LOY_MAX_VALIDATORS || cfg->chain_id[0] == '\0' ||
	    cfg->reconnect_min_ms == 0 ||
	    cfg->reconnect_max_ms < cfg->reconnect_min_ms) {
		snprintf(err, err_size,
			 "peer: invalid configuration (peers, "
			 "chain id or reconnect delays)");
		return LOY_EINVAL;
	}
	n = calloc(1, sizeof *n);
	if (n == NULL) {
		snprintf(err, err_size, "peer: out of memory");
		return LOY_ENOMEM;
	}
	n->loop = loop;
	if (cb != NULL)
		n->cb = *cb;
	snprintf(n->chain_id, sizeof n->chain_id, "%s", cfg->chain_id);
	memcpy(n->sk, cfg->sk, LOY_SECKEY_SIZE);
	loy_seckey_pubkey(n->pk, n->sk);
	n->max_msg =
	    cfg->max_frame == 0 || cfg->max_frame > cap ? cap : cfg->max_frame;
	n->max_queued =
	    cfg->max_queued != 0 ? cfg->max_queued : PEER_DEFAULT_MAX_QUEUED;
	n->reconnect_min_ms = cfg->reconnect_min_ms;
	n->reconnect_max_ms = cfg->reconnect_max_ms;
	n->hs_timeout_ms = cfg->handshake_timeout_ms != 0
			       ? cfg->handshake_timeout_ms
			       : PEER_HS_TIMEOUT_MS;
	/* Peers are checked before the listener exists: no handle to undo. */
	for (uint32_t i = 0; i < cfg->n_peers; i++) {
		char host[LOY_HOSTPORT_MAX];
		uint16_t port;
		if (memcmp(cfg->peers[i].key, n->pk, LOY_PUBKEY_SIZE) == 0 ||
		    (memcmp(n->pk, cfg->peers[i].key, LOY_PUBKEY_SIZE) < 0 &&
		     loy_hostport_parse(cfg->peers[i].address, host, &port) !=
			 0)) {
			snprintf(err, err_size,
				 "peer: peer %u (%s): our own key, or an "
				 "address that is not HOST:PORT",
				 i, cfg->peers[i].address);
			rv = LOY_EINVAL;
			goto err_net;
		}
	}
	rv = listen_start(n, cfg->listen, err, err_size);
	if (rv != 0)
		goto err_net;
	for (uint32_t i = 0; i < cfg->n_peers; i++) {
		if (peer_find(n, cfg->peers[i].key) != NULL)
			continue;
		/* checked above: it can only fail for memory */
		struct peer *p = peer_new(n, &cfg->peers[i], err, err_size);
		if (p == NULL) {
			/* the handles made so far free n once closed */
			loy_peer_net_close(n, NULL, NULL);
			return LOY_ENOMEM;
		}
		n->peers[n->n_peers++] = p;
	}
	*out = n;
	return 0;
err_net:
	loy_wipe(n->sk, sizeof n->sk);
	free(n);
	return rv;
}

int loy_peer_net_send(struct loy_peer_net *n,
		      const uint8_t key[LOY_PUBKEY_SIZE], uint8_t channel,
		      const uint8_t *msg, size_t len)
{
	struct peer *p = peer_find(n, key);

	if (channel < 1 || channel > LOY_CHAN_MAX)
		return LOY_EINVAL;
	if (len > n->max_msg)
		return LOY_ETOOBIG;
	if (n->closing || p == NULL || p->link == NULL)
		return LOY_ENOTFOUND;
	if (p->blocked)
		return 0;
	return peer_link_send(p->link, channel, msg, len);
}

void loy_peer_net_broadcast(struct loy_peer_net *n, uint8_t channel,
			    const uint8_t *msg, size_t len)
{
	if (channel < 1 || channel > LOY_CHAN_MAX || len > n->max_msg ||
	    n->closing)
		return;
	for (uint32_t i = 0; i < n->n_peers; i++) {
		struct peer *p = n->peers[i];
		if (p->link != NULL && !p->blocked)
			(void)peer_link_send(p->link, channel, msg, len);
	}
}

void loy_peer_net_set_peers(struct loy_peer_net *n,
			    const struct loy_peer_addr *peers, uint32_t count)
{
	struct peer *keep[LOY_MAX_VALIDATORS];
	uint32_t nkeep = 0;
	char err[256];

	if (n->closing)
		return;
	if (count > LOY_MAX_VALIDATORS)
		count = LOY_MAX_VALIDATORS;
	for (uint32_t i = 0; i < n->n_peers; i++) {
		struct peer *p = n->peers[i];
		int listed = 0;
		for (uint32_t j = 0; j < count && !listed; j++)
			listed =
			    memcmp(p->key, peers[j].key, LOY_PUBKEY_SIZE) == 0;
		if (listed) {
			keep[nkeep++] = p;
		} else {
			peer_log("peer %s: no longer a validator", p->hex);
			peer_drop(p);
		}
	}
	memcpy(n->peers, keep, nkeep * sizeof keep[0]);
	n->n_peers = nkeep;
	for (uint32_t j = 0; j < count; j++) {
		struct peer *p = peer_find(n, peers[j].key);
		if (p != NULL) {
			if (strcmp(p->address, peers[j].address) != 0 &&
			    peer_set_address(p, peers[j].address) != 0)
				peer_log("peer %s: address \"%s\" is not "
					 "HOST:PORT; keeping the old one",
					 p->hex, peers[j].address);
			continue;
		}
		p = peer_new(n, &peers[j], err, sizeof err);
		if (p == NULL) {
			peer_log("set peers: %s", err + strlen("peer: "));
			continue;
		}
		n->peers[n->n_peers++] = p;
		peer_log("peer %s: added (%s)", p->hex,
			 p->we_dial ? "we dial" : "it dials");
	}
}

void loy_peer_net_block(struct loy_peer_net *n,
			const uint8_t key[LOY_PUBKEY_SIZE], int blocked)
{
	struct peer *p = peer_find(n, key);

	if (p != NULL)
		p->blocked = blocked != 0;
}

uint32_t loy_peer_net_connected(const struct loy_peer_net *n,
				uint8_t (*keys)[LOY_PUBKEY_SIZE], uint32_t max)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < n->n_peers && k < max; i++)
		if (n->peers[i]->link != NULL)
			memcpy(keys[k++], n->peers[i]->key, LOY_PUBKEY_SIZE);
	return k;
}

void loy_peer_net_close(struct loy_peer_net *n, void (*done)(void *data),
			void *data)
{
	struct link *l, *next;

	if (n->closing)
		return;
	n->closing = 1;
	n->done = done;
	n->done_data = data;
	for (uint32_t i = 0; i < n->n_peers; i++)
		peer_drop(n->peers[i]);
	n->n_peers = 0;
	for (l = n->links; l != NULL; l = next) {
		next = l->next;
		peer_link_close(l, NULL);
	}
	uv_close((uv_handle_t *)n->listener, listener_closed_cb);
}
