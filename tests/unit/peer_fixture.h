/* Shared fixture of the peer-link tests: keys, a loop, nodes started and
 * closed, and bounded waits. Header-only: each test binary has its own. */
#ifndef LOY_TESTS_PEER_FIXTURE_H
#define LOY_TESTS_PEER_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "node/peer.h"
#include "wire/client.h"
#include "wire/crypto.h"
#include "wire/error.h"
#include "wire/handshake.h"
#include "wire/session.h"

#define NKEYS    4
#define CHAIN    "loy-test"
#define MAX_MSGS 256

static uint8_t pks[NKEYS][LOY_PUBKEY_SIZE]; /* ascending */
static uint8_t sks[NKEYS][LOY_SECKEY_SIZE];

struct rx {
	uint8_t from[LOY_PUBKEY_SIZE];
	uint8_t chan;
	size_t len;
	uint8_t data[64];
};

struct tnode {
	struct loy_peer_net *net;
	struct loy_peer_net_config cfg;
	int key; /* index in pks */
	int ups, downs, up_now;
	int nrx;
	uint64_t rx_bytes;
	struct rx rx[MAX_MSGS];
};

struct fixture {
	uv_loop_t loop;
	struct tnode nodes[NKEYS];
	uint16_t ports[NKEYS];
	int closed;
};

/* A port the kernel just handed out, free again once we close it. */
static inline uint16_t free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

static inline int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, LOY_PUBKEY_SIZE);
}

static inline int group_setup(void **state)
{
	uint8_t seed[LOY_SEED_SIZE];
	(void)state;

	assert_int_equal(loy_crypto_init(), 0);
	for (int i = 0; i < NKEYS; i++) {
		memset(seed, 0x40 + i, sizeof seed);
		loy_keypair_from_seed(pks[i], sks[i], seed);
	}
	/* sort pairs by public key so index order is dial order */
	for (int i = 0; i < NKEYS; i++)
		for (int j = i + 1; j < NKEYS; j++)
			if (key_cmp(pks[j], pks[i]) < 0) {
				uint8_t tp[LOY_PUBKEY_SIZE],
				    ts[LOY_SECKEY_SIZE];
				memcpy(tp, pks[i], sizeof tp);
				memcpy(ts, sks[i], sizeof ts);
				memcpy(pks[i], pks[j], sizeof tp);
				memcpy(sks[i], sks[j], sizeof ts);
				memcpy(pks[j], tp, sizeof tp);
				memcpy(sks[j], ts, sizeof ts);
			}
	return 0;
}

static inline int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	assert_non_null(f);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	for (int i = 0; i < NKEYS; i++) {
		f->ports[i] = free_port();
		f->nodes[i].key = i;
	}
	*state = f;
	return 0;
}

static inline void on_up(void *data, const uint8_t key[LOY_PUBKEY_SIZE])
{
	struct tnode *t = data;
	(void)key;
	t->ups++;
	t->up_now++;
}

static inline void on_down(void *data, const uint8_t key[LOY_PUBKEY_SIZE])
{
	struct tnode *t = data;
	(void)key;
	t->downs++;
	t->up_now--;
}

static inline void on_message(void *data, const uint8_t key[LOY_PUBKEY_SIZE],
			      uint8_t channel, const uint8_t *msg, size_t len)
{
	struct tnode *t = data;

	t->rx_bytes += len;
	if (t->nrx >= MAX_MSGS)
		return;
	memcpy(t->rx[t->nrx].from, key, LOY_PUBKEY_SIZE);
	t->rx[t->nrx].chan = channel;
	t->rx[t->nrx].len = len;
	memcpy(t->rx[t->nrx].data, msg, len < 64 ? len : 64);
	t->nrx++;
}

/* Configures node i (key index i) with the given peer indexes. */
static inline void make_cfg(struct fixture *f, int i, const int *peers,
			    int npeers, const char *chain)
{
	struct loy_peer_net_config *c = &f->nodes[i].cfg;

	memset(c, 0, sizeof *c);
	snprintf(c->chain_id, sizeof c->chain_id, "%s", chain);
	memcpy(c->sk, sks[i], LOY_SECKEY_SIZE);
	snprintf(c->listen, sizeof c->listen, "127.0.0.1:%u", f->ports[i]);
	for (int k = 0; k < npeers; k++) {
		struct loy_peer_addr *a = &c->peers[c->n_peers++];
		memcpy(a->key, pks[peers[k]], LOY_PUBKEY_SIZE);
		snprintf(a->address, sizeof a->address, "127.0.0.1:%u",
			 f->ports[peers[k]]);
	}
	c->max_frame = 1u << 20;
	c->max_queued = 4u << 20;
	c->reconnect_min_ms = 10;
	c->reconnect_max_ms = 80;
	c->handshake_timeout_ms = 300;
}

static inline void start(struct fixture *f, int i)
{
	struct loy_peer_net_cb cb = {&f->nodes[i], on_up, on_down, on_message};
	char err[256] = "";

	f->nodes[i].up_now = 0;
	if (loy_peer_net_start(&f->loop, &f->nodes[i].cfg, &cb,
			       &f->nodes[i].net, err, sizeof err) != 0)
		fail_msg("start node %d: %s", i, err);
}

static inline void closed_cb(void *data)
{
	struct fixture *f = data;
	f->closed++;
}

static inline void tick_cb(uv_timer_t *t)
{
	(void)t;
}

/* Runs the loop until pred holds or ms pass; returns pred's last value. */
static inline int run_until(struct fixture *f, int (*pred)(struct fixture *),
			    uint64_t ms)
{
	uv_timer_t tick;
	uint64_t end;
	int ok;

	uv_update_time(&f->loop);
	end = uv_now(&f->loop) + ms;
	uv_timer_init(&f->loop, &tick);
	uv_timer_start(&tick, tick_cb, 5, 5);
	while (!(ok = pred(f)) && uv_now(&f->loop) < end)
		uv_run(&f->loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&tick, NULL);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	return ok;
}

static inline int never(struct fixture *f)
{
	(void)f;
	return 0;
}

static inline void close_node(struct fixture *f, int i)
{
	int want = f->closed + 1;

	loy_peer_net_close(f->nodes[i].net, closed_cb, f);
	f->nodes[i].net = NULL;
	while (f->closed < want)
		uv_run(&f->loop, UV_RUN_ONCE);
}

static inline void walk_cb(uv_handle_t *h, void *arg)
{
	(void)arg;
	fprintf(stderr, "leaked handle type %s\n",
		uv_handle_type_name(h->type));
}

static inline int teardown(void **state)
{
	struct fixture *f = *state;

	for (int i = 0; i < NKEYS; i++)
		if (f->nodes[i].net != NULL)
			close_node(f, i);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&f->loop) != 0) {
		uv_walk(&f->loop, walk_cb, NULL);
		fail_msg("loop has open handles after close");
	}
	free(f);
	return 0;
}

static inline int all_up3(struct fixture *f)
{
	return f->nodes[0].up_now == 2 && f->nodes[1].up_now == 2 &&
	       f->nodes[2].up_now == 2;
}

static inline void mesh3(struct fixture *f)
{
	const int p0[] = {1, 2}, p1[] = {0, 2}, p2[] = {0, 1};

	make_cfg(f, 0, p0, 2, CHAIN);
	make_cfg(f, 1, p1, 2, CHAIN);
	make_cfg(f, 2, p2, 2, CHAIN);
	/* start the acceptor first so the first dial usually lands */
	start(f, 2);
	start(f, 1);
	start(f, 0);
	assert_true(run_until(f, all_up3, 3000));
}

static inline int rx_total(struct fixture *f)
{
	return f->nodes[0].nrx + f->nodes[1].nrx + f->nodes[2].nrx;
}

static inline int rx_all_mesh(struct fixture *f)
{
	return rx_total(f) == 3 * 2 * LOY_CHAN_MAX + 3 * 2;
}

/* Node 1 has received exactly one message. */
static inline int got_one(struct fixture *f)
{
	return f->nodes[1].nrx == 1;
}

/* Nodes 0 and 1 each have one link up. */
static inline int up_0_1(struct fixture *f)
{
	return f->nodes[0].up_now == 1 && f->nodes[1].up_now == 1;
}

#endif
