/* Peer links over real TCP on 127.0.0.1 in one libuv loop: full mesh,
 * refusals, garbage, restarts, the fault layer and queue limits. Every wait
 * is bounded by a loop timer; nothing sleeps. */
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
static uint16_t free_port(void)
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

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, LOY_PUBKEY_SIZE);
}

static int group_setup(void **state)
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

static int setup(void **state)
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

static void on_up(void *data, const uint8_t key[LOY_PUBKEY_SIZE])
{
	struct tnode *t = data;
	(void)key;
	t->ups++;
	t->up_now++;
}

static void on_down(void *data, const uint8_t key[LOY_PUBKEY_SIZE])
{
	struct tnode *t = data;
	(void)key;
	t->downs++;
	t->up_now--;
}

static void on_message(void *data, const uint8_t key[LOY_PUBKEY_SIZE],
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
static void make_cfg(struct fixture *f, int i, const int *peers, int npeers,
		     const char *chain)
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

static void start(struct fixture *f, int i)
{
	struct loy_peer_net_cb cb = {&f->nodes[i], on_up, on_down, on_message};
	char err[256] = "";

	f->nodes[i].up_now = 0;
	if (loy_peer_net_start(&f->loop, &f->nodes[i].cfg, &cb,
			       &f->nodes[i].net, err, sizeof err) != 0)
		fail_msg("start node %d: %s", i, err);
}

static void closed_cb(void *data)
{
	struct fixture *f = data;
	f->closed++;
}

static void tick_cb(uv_timer_t *t)
{
	(void)t;
}

/* Runs the loop until pred holds or ms pass; returns pred's last value. */
static int run_until(struct fixture *f, int (*pred)(struct fixture *),
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

static int never(struct fixture *f)
{
	(void)f;
	return 0;
}

static void close_node(struct fixture *f, int i)
{
	int want = f->closed + 1;

	loy_peer_net_close(f->nodes[i].net, closed_cb, f);
	f->nodes[i].net = NULL;
	while (f->closed < want)
		uv_run(&f->loop, UV_RUN_ONCE);
}

static void walk_cb(uv_handle_t *h, void *arg)
{
	(void)arg;
	fprintf(stderr, "leaked handle type %s\n",
		uv_handle_type_name(h->type));
}

static int teardown(void **state)
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

static int all_up3(struct fixture *f)
{
	return f->nodes[0].up_now == 2 && f->nodes[1].up_now == 2 &&
	       f->nodes[2].up_now == 2;
}

static void mesh3(struct fixture *f)
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

static int rx_total(struct fixture *f)
{
	return f->nodes[0].nrx + f->nodes[1].nrx + f->nodes[2].nrx;
}

static int rx_all_mesh(struct fixture *f)
{
	return rx_total(f) == 3 * 2 * LOY_CHAN_MAX + 3 * 2;
}

static void test_mesh_exchange(void **state)
{
	struct fixture *f = *state;
	char msg[64];

	mesh3(f);
	for (int i = 0; i < 3; i++) {
		uint8_t keys[4][LOY_PUBKEY_SIZE];
		assert_int_equal(
		    loy_peer_net_connected(f->nodes[i].net, keys, 4), 2);
		for (int j = 0; j < 3; j++) {
			if (j == i)
				continue;
			for (uint8_t c = 1; c <= LOY_CHAN_MAX; c++) {
				int len = snprintf(msg, sizeof msg, "%d>%d#%u",
						   i, j, c);
				assert_int_equal(
				    loy_peer_net_send(f->nodes[i].net, pks[j],
						      c, (uint8_t *)msg,
						      (size_t)len),
				    0);
			}
		}
		snprintf(msg, sizeof msg, "all from %d", i);
		loy_peer_net_broadcast(f->nodes[i].net, LOY_CHAN_TXS,
				       (uint8_t *)msg, strlen(msg));
	}
	assert_true(run_until(f, rx_all_mesh, 3000));
	for (int j = 0; j < 3; j++) {
		struct tnode *t = &f->nodes[j];
		int direct = 0, bcast = 0;
		for (int k = 0; k < t->nrx; k++) {
			struct rx *r = &t->rx[k];
			int from = -1;
			for (int i = 0; i < 3; i++)
				if (memcmp(r->from, pks[i], LOY_PUBKEY_SIZE) ==
				    0)
					from = i;
			assert_true(from >= 0 && from != j);
			if (r->len > 0 && r->data[0] == 'a') {
				snprintf(msg, sizeof msg, "all from %d", from);
				assert_int_equal(r->chan, LOY_CHAN_TXS);
				bcast++;
			} else {
				snprintf(msg, sizeof msg, "%d>%d#%u", from, j,
					 r->chan);
				direct++;
			}
			assert_int_equal(r->len, strlen(msg));
			assert_memory_equal(r->data, msg, r->len);
		}
		assert_int_equal(direct, 2 * LOY_CHAN_MAX);
		assert_int_equal(bcast, 2);
	}
	/* exactly one link per pair: nothing flaps afterwards */
	run_until(f, never, 150);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(f->nodes[i].ups, 2);
		assert_int_equal(f->nodes[i].downs, 0);
	}
	/* bad arguments */
	assert_int_equal(loy_peer_net_send(f->nodes[0].net, pks[1], 0,
					   (const uint8_t *)"x", 1),
			 LOY_EINVAL);
	assert_int_equal(
	    loy_peer_net_send(f->nodes[0].net, pks[1], 1, NULL, (1u << 20) + 1),
	    LOY_ETOOBIG);
}

static int up_0_1(struct fixture *f)
{
	return f->nodes[0].up_now == 1 && f->nodes[1].up_now == 1;
}

static void test_unknown_key_refused(void **state)
{
	struct fixture *f = *state;
	const int p0[] = {1};

	/* 0 dials 1, but 1 does not know 0 */
	make_cfg(f, 0, p0, 1, CHAIN);
	make_cfg(f, 1, NULL, 0, CHAIN);
	start(f, 1);
	start(f, 0);
	assert_false(run_until(f, up_0_1, 300));
	assert_int_equal(f->nodes[0].ups + f->nodes[1].ups, 0);
	/* admitted by a validator set change: the redial now succeeds */
	{
		struct loy_peer_addr a;
		memcpy(a.key, pks[0], LOY_PUBKEY_SIZE);
		snprintf(a.address, sizeof a.address, "127.0.0.1:%u",
			 f->ports[0]);
		loy_peer_net_set_peers(f->nodes[1].net, &a, 1);
	}
	assert_true(run_until(f, up_0_1, 3000));
	/* and removed again: the link goes down on both sides */
	loy_peer_net_set_peers(f->nodes[1].net, NULL, 0);
	assert_int_equal(f->nodes[1].up_now, 0);
	assert_int_equal(f->nodes[1].downs, 1);
	assert_true(run_until(f, never, 200) == 0);
	assert_int_equal(f->nodes[0].up_now, 0);
	assert_int_equal(f->nodes[1].ups, 1);
}

static void test_wrong_chain_refused(void **state)
{
	struct fixture *f = *state;
	const int p0[] = {1}, p1[] = {0};

	make_cfg(f, 0, p0, 1, "another-chain");
	make_cfg(f, 1, p1, 1, CHAIN);
	start(f, 1);
	start(f, 0);
	assert_false(run_until(f, up_0_1, 300));
	assert_int_equal(f->nodes[0].ups + f->nodes[1].ups, 0);
	/* the same key on the right chain gets in */
	close_node(f, 0);
	make_cfg(f, 0, p0, 1, CHAIN);
	start(f, 0);
	assert_true(run_until(f, up_0_1, 3000));
}

struct raw {
	uv_tcp_t tcp;
	uv_connect_t conn;
	uv_write_t wr;
	const uint8_t *bytes;
	size_t len;
	int got_eof, closed;
	char rbuf[256];
};

static void raw_alloc(uv_handle_t *h, size_t s, uv_buf_t *b)
{
	struct raw *r = h->data;
	(void)s;
	*b = uv_buf_init(r->rbuf, sizeof r->rbuf);
}

static void raw_closed(uv_handle_t *h)
{
	struct raw *r = h->data;
	r->closed = 1;
}

static void raw_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct raw *r = s->data;
	(void)b;
	if (n < 0 && !r->got_eof) {
		r->got_eof = 1;
		uv_close((uv_handle_t *)&r->tcp, raw_closed);
	}
}

static void raw_written(uv_write_t *w, int status)
{
	(void)w;
	(void)status;
}

static void raw_connected(uv_connect_t *c, int status)
{
	struct raw *r = c->data;
	uv_buf_t b = uv_buf_init((char *)r->bytes, (unsigned int)r->len);

	assert_int_equal(status, 0);
	assert_int_equal(
	    uv_write(&r->wr, (uv_stream_t *)&r->tcp, &b, 1, raw_written), 0);
	assert_int_equal(
	    uv_read_start((uv_stream_t *)&r->tcp, raw_alloc, raw_read), 0);
}

static struct raw *raw_current;
static int raw_done(struct fixture *f)
{
	(void)f;
	return raw_current->closed;
}

/* Connects to node i's port, sends bytes, and expects to be cut off. */
static void raw_expect_close(struct fixture *f, int i, const uint8_t *bytes,
			     size_t len)
{
	struct raw r;
	struct sockaddr_in sa;

	memset(&r, 0, sizeof r);
	r.bytes = bytes;
	r.len = len;
	r.tcp.data = &r;
	r.conn.data = &r;
	uv_ip4_addr("127.0.0.1", f->ports[i], &sa);
	assert_int_equal(uv_tcp_init(&f->loop, &r.tcp), 0);
	assert_int_equal(uv_tcp_connect(&r.conn, &r.tcp, (struct sockaddr *)&sa,
					raw_connected),
			 0);
	raw_current = &r;
	if (!run_until(f, raw_done, 3000))
		fail_msg("node kept a connection sending %zu bad bytes", len);
	assert_true(r.got_eof);
}

static int got_one(struct fixture *f)
{
	return f->nodes[1].nrx == 1;
}

static void test_garbage_closed(void **state)
{
	struct fixture *f = *state;
	const int p0[] = {1}, p1[] = {0};
	static const uint8_t http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	static const uint8_t huge[] = {0xff, 0xff, 0xff, 0xff, 1, 2, 3};
	static const uint8_t zero[] = {0, 0, 0, 0, 1};
	static const uint8_t junk[] = {0, 0, 0, 6, 0x95, 1, 2, 3, 4, 5};
	static const uint8_t over[] = {0, 0, 4, 1}; /* 1025 > handshake cap */

	make_cfg(f, 0, p0, 1, CHAIN);
	make_cfg(f, 1, p1, 1, CHAIN);
	start(f, 1);
	start(f, 0);
	assert_true(run_until(f, up_0_1, 3000));
	raw_expect_close(f, 1, http, sizeof http - 1);
	raw_expect_close(f, 1, huge, sizeof huge);
	raw_expect_close(f, 1, zero, sizeof zero);
	raw_expect_close(f, 1, junk, sizeof junk);
	raw_expect_close(f, 1, over, sizeof over);
	/* the real link is untouched and still carries messages */
	assert_int_equal(f->nodes[1].downs, 0);
	assert_int_equal(loy_peer_net_send(f->nodes[0].net, pks[1],
					   LOY_CHAN_CONSENSUS,
					   (const uint8_t *)"still here", 10),
			 0);
	assert_true(run_until(f, got_one, 3000));
	assert_memory_equal(f->nodes[1].rx[0].data, "still here", 10);
}

static int down_0_1(struct fixture *f)
{
	return f->nodes[0].up_now == 0 || f->nodes[1].up_now == 0;
}

static void test_restart_reconnects(void **state)
{
	struct fixture *f = *state;
	const int p0[] = {1}, p1[] = {0};

	make_cfg(f, 0, p0, 1, CHAIN);
	make_cfg(f, 1, p1, 1, CHAIN);
	start(f, 0); /* the dialer first: its first dials fail and back off */
	run_until(f, never, 50);
	start(f, 1);
	assert_true(run_until(f, up_0_1, 3000));
	/* restart the acceptor */
	close_node(f, 1);
	run_until(f, down_0_1, 3000);
	assert_int_equal(f->nodes[0].downs, 1);
	start(f, 1);
	assert_true(run_until(f, up_0_1, 3000));
	/* restart the dialer */
	close_node(f, 0);
	assert_true(run_until(f, down_0_1, 3000));
	assert_int_equal(f->nodes[1].downs, 1);
	start(f, 0);
	assert_true(run_until(f, up_0_1, 3000));
	assert_int_equal(f->nodes[1].ups, 3);
	/* and it carries messages */
	assert_int_equal(loy_peer_net_send(f->nodes[0].net, pks[1],
					   LOY_CHAN_SYNC_REQ,
					   (const uint8_t *)"again", 5),
			 0);
	assert_true(run_until(f, got_one, 3000));
}

static void test_send_unconnected(void **state)
{
	struct fixture *f = *state;
	const int p0[] = {1, 2};

	make_cfg(f, 0, p0, 2, CHAIN);
	start(f, 0);
	run_until(f, never, 30);
	assert_int_equal(loy_peer_net_send(f->nodes[0].net, pks[1],
					   LOY_CHAN_TXS, (const uint8_t *)"x",
					   1),
			 LOY_ENOTFOUND);
	assert_int_equal(loy_peer_net_send(f->nodes[0].net, pks[3],
					   LOY_CHAN_TXS, (const uint8_t *)"x",
					   1),
			 LOY_ENOTFOUND);
	assert_int_equal(loy_peer_net_connected(f->nodes[0].net, NULL, 0), 0);
	loy_peer_net_broadcast(f->nodes[0].net, LOY_CHAN_TXS,
			       (const uint8_t *)"x", 1);
}

static int both_got_one(struct fixture *f)
{
	return f->nodes[0].nrx == 1 && f->nodes[1].nrx == 1;
}

static void test_block_unblock(void **state)
{
	struct fixture *f = *state;
	const int p0[] = {1}, p1[] = {0};

	make_cfg(f, 0, p0, 1, CHAIN);
	make_cfg(f, 1, p1, 1, CHAIN);
	start(f, 1);
	start(f, 0);
	assert_true(run_until(f, up_0_1, 3000));
	loy_peer_net_block(f->nodes[0].net, pks[1], 1);
	assert_int_equal(loy_peer_net_send(f->nodes[0].net, pks[1],
					   LOY_CHAN_CONSENSUS,
					   (const uint8_t *)"lost1", 5),
			 0);
	loy_peer_net_broadcast(f->nodes[0].net, LOY_CHAN_CONSENSUS,
			       (const uint8_t *)"lost2", 5);
	assert_int_equal(loy_peer_net_send(f->nodes[1].net, pks[0],
					   LOY_CHAN_CONSENSUS,
					   (const uint8_t *)"lost3", 5),
			 0);
	assert_false(run_until(f, both_got_one, 200));
	assert_int_equal(f->nodes[0].nrx + f->nodes[1].nrx, 0);
	loy_peer_net_block(f->nodes[0].net, pks[1], 0);
	assert_int_equal(loy_peer_net_send(f->nodes[0].net, pks[1],
					   LOY_CHAN_CONSENSUS,
					   (const uint8_t *)"flow0", 5),
			 0);
	assert_int_equal(loy_peer_net_send(f->nodes[1].net, pks[0],
					   LOY_CHAN_CONSENSUS,
					   (const uint8_t *)"flow1", 5),
			 0);
	assert_true(run_until(f, both_got_one, 3000));
	assert_memory_equal(f->nodes[1].rx[0].data, "flow0", 5);
	assert_memory_equal(f->nodes[0].rx[0].data, "flow1", 5);
	assert_int_equal(f->nodes[0].downs + f->nodes[1].downs, 0);
}

static int reup(struct fixture *f)
{
	return f->nodes[0].ups == 2 && up_0_1(f);
}

static void test_queue_limit_drops_link(void **state)
{
	struct fixture *f = *state;
	const int p0[] = {1}, p1[] = {0};
	static uint8_t big[60000];
	int rv = 0, sent = 0;

	make_cfg(f, 0, p0, 1, CHAIN);
	make_cfg(f, 1, p1, 1, CHAIN);
	f->nodes[0].cfg.max_queued = 1u << 20;
	start(f, 1);
	start(f, 0);
	assert_true(run_until(f, up_0_1, 3000));
	/* without running the loop, the kernel buffers fill and then ours */
	while (sent < 2000 && (rv = loy_peer_net_send(f->nodes[0].net, pks[1],
						      LOY_CHAN_SYNC_RESP, big,
						      sizeof big)) == 0)
		sent++;
	assert_int_equal(rv, LOY_ENOTFOUND);
	assert_int_equal(f->nodes[0].downs, 1);
	/* the peer sees the drop, and the dialer reconnects */
	assert_true(run_until(f, reup, 3000));
}

static void test_host_names(void **state)
{
	struct fixture *f = *state;
	const int p0[] = {1, 2}, p1[] = {0};

	make_cfg(f, 0, p0, 2, CHAIN);
	make_cfg(f, 1, p1, 1, CHAIN);
	snprintf(f->nodes[0].cfg.peers[0].address,
		 sizeof f->nodes[0].cfg.peers[0].address, "localhost:%u",
		 f->ports[1]);
	snprintf(f->nodes[0].cfg.peers[1].address,
		 sizeof f->nodes[0].cfg.peers[1].address,
		 "no-such-host.invalid:%u", f->ports[2]);
	start(f, 1);
	start(f, 0);
	assert_true(run_until(f, up_0_1, 3000));
	/* the unresolvable one keeps failing without harm to the other */
	run_until(f, never, 100);
	assert_int_equal(f->nodes[0].up_now, 1);
	assert_int_equal(f->nodes[0].downs, 0);
}

static void test_start_errors(void **state)
{
	struct fixture *f = *state;
	struct loy_peer_net *n = NULL;
	char err[256] = "";
	const int p0[] = {1};

	make_cfg(f, 0, p0, 1, CHAIN);
	start(f, 0);
	/* the same port twice */
	make_cfg(f, 1, NULL, 0, CHAIN);
	snprintf(f->nodes[1].cfg.listen, sizeof f->nodes[1].cfg.listen,
		 "127.0.0.1:%u", f->ports[0]);
	assert_int_not_equal(loy_peer_net_start(&f->loop, &f->nodes[1].cfg,
						NULL, &n, err, sizeof err),
			     0);
	assert_null(n);
	assert_non_null(strstr(err, "address already in use"));
	/* a listen address that is not IP:PORT */
	snprintf(f->nodes[1].cfg.listen, sizeof f->nodes[1].cfg.listen,
		 "nowhere");
	assert_int_equal(loy_peer_net_start(&f->loop, &f->nodes[1].cfg, NULL,
					    &n, err, sizeof err),
			 LOY_EINVAL);
	assert_non_null(strstr(err, "nowhere"));
	uv_run(&f->loop, UV_RUN_NOWAIT);
}

/* --- A hand-driven initiator over a plain socket, to reach the sealed
 * phase with bytes the peer net would never send itself. --- */

struct fake {
	int fd;
	int eof;
	uint8_t in[4096];
	size_t inlen;
	uint8_t sent[4096]; /* everything sent, for the replay test */
	size_t sentlen;
	struct loy_session s;
};

static struct fake *fake_cur;

static void fake_poll(struct fake *k)
{
	ssize_t r;

	while (!k->eof && k->inlen < sizeof k->in) {
		r = recv(k->fd, k->in + k->inlen, sizeof k->in - k->inlen,
			 MSG_DONTWAIT);
		if (r > 0)
			k->inlen += (size_t)r;
		else if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			k->eof = 1;
		else
			break;
	}
}

static int fake_has_frame(struct fixture *f)
{
	size_t body;
	(void)f;
	fake_poll(fake_cur);
	return loy_frame_peek(fake_cur->in, fake_cur->inlen, 4000, &body) ==
	       LOY_FRAME_READY;
}

static int fake_closed(struct fixture *f)
{
	(void)f;
	fake_poll(fake_cur);
	return fake_cur->eof;
}

/* Takes the next whole frame's body out of k->in into out. */
static size_t fake_pop(struct fixture *f, struct fake *k, uint8_t *out)
{
	size_t body = 0;

	fake_cur = k;
	if (!run_until(f, fake_has_frame, 3000))
		fail_msg("no frame from the node");
	memcpy(out, k->in + LOY_FRAME_HEADER_SIZE,
	       body = (size_t)((uint32_t)k->in[0] << 24 |
			       (uint32_t)k->in[1] << 16 |
			       (uint32_t)k->in[2] << 8 | k->in[3]));
	k->inlen -= LOY_FRAME_HEADER_SIZE + body;
	memmove(k->in, k->in + LOY_FRAME_HEADER_SIZE + body, k->inlen);
	return body;
}

static void fake_send_raw(struct fake *k, const uint8_t *b, size_t len)
{
	assert_true(k->sentlen + len <= sizeof k->sent);
	memcpy(k->sent + k->sentlen, b, len);
	k->sentlen += len;
	assert_int_equal(send(k->fd, b, len, MSG_NOSIGNAL), (ssize_t)len);
}

static void fake_send_frame(struct fake *k, const uint8_t *b, size_t len)
{
	uint8_t h[LOY_FRAME_HEADER_SIZE];

	assert_int_equal(loy_frame_header(h, len), 0);
	fake_send_raw(k, h, sizeof h);
	fake_send_raw(k, b, len);
}

static void fake_connect(struct fixture *f, struct fake *k, int node)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};

	memset(k, 0, sizeof *k);
	k->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(k->fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(f->ports[node]);
	assert_int_equal(connect(k->fd, (struct sockaddr *)&sa, sizeof sa), 0);
}

/* Runs the initiator's half of the handshake as validator `as` with
 * `node`; the session is in k->s afterwards. */
static void fake_handshake(struct fixture *f, struct fake *k, int node, int as)
{
	struct loy_hs_hello hi, hr;
	struct loy_hs_auth a;
	struct loy_eph_key eph, nonce;
	struct loy_buf hb = {0}, ab = {0};
	uint8_t rhello[1024], rauth[1024], tr[LOY_HASH_SIZE];
	size_t rlen, alen;

	fake_connect(f, k, node);
	memset(&hi, 0, sizeof hi);
	snprintf(hi.chain_id, sizeof hi.chain_id, "%s", CHAIN);
	memcpy(hi.validator, pks[as], LOY_PUBKEY_SIZE);
	loy_eph_keygen(&eph);
	loy_eph_keygen(&nonce);
	memcpy(hi.ephemeral, eph.pk, LOY_X25519_SIZE);
	memcpy(hi.nonce, nonce.pk, LOY_HS_NONCE_SIZE);
	assert_int_equal(loy_hs_hello_encode(&hi, &hb), 0);
	fake_send_frame(k, hb.data, hb.len);
	rlen = fake_pop(f, k, rhello);
	assert_int_equal(loy_hs_hello_decode(&hr, rhello, rlen), 0);
	assert_memory_equal(hr.validator, pks[node], LOY_PUBKEY_SIZE);
	loy_hs_transcript(tr, hb.data, hb.len, rhello, rlen);
	loy_hs_auth_sign(&a, LOY_HS_INITIATOR, CHAIN, tr, sks[as]);
	assert_int_equal(loy_hs_auth_encode(&a, &ab), 0);
	fake_send_frame(k, ab.data, ab.len);
	alen = fake_pop(f, k, rauth);
	assert_int_equal(loy_hs_auth_decode(&a, rauth, alen), 0);
	assert_int_equal(
	    loy_hs_auth_verify(&a, LOY_HS_RESPONDER, CHAIN, tr, pks[node]), 0);
	assert_int_equal(
	    loy_session_derive(&k->s, LOY_HS_INITIATOR, &eph, hr.ephemeral, tr),
	    0);
	loy_eph_key_wipe(&eph);
	loy_buf_free(&hb);
	loy_buf_free(&ab);
}

static void fake_send_sealed(struct fake *k, uint8_t chan, const char *msg)
{
	uint8_t b[256];
	size_t len = strlen(msg);

	b[0] = chan;
	memcpy(b + 1, msg, len);
	assert_int_equal(loy_session_seal(&k->s, b, b, 1 + len), 0);
	fake_send_frame(k, b, 1 + len + LOY_SESSION_TAG_SIZE);
}

static void fake_expect_closed(struct fixture *f, struct fake *k)
{
	fake_cur = k;
	if (!run_until(f, fake_closed, 3000))
		fail_msg("the node kept a misbehaving link open");
	close(k->fd);
}

static int node1_rx(struct fixture *f)
{
	return f->nodes[1].nrx > 0;
}

static void test_sealed_phase_faults(void **state)
{
	struct fixture *f = *state;
	const int p1[] = {0};
	struct fake k;
	static const uint8_t noise[40] = {1, 2, 3};
	uint8_t replay[4096];
	size_t replay_len;

	/* node 1 alone; the test plays validator 0, which dials it */
	make_cfg(f, 1, p1, 1, CHAIN);
	start(f, 1);

	/* a correct initiator gets through and its message is delivered */
	fake_handshake(f, &k, 1, 0);
	fake_send_sealed(&k, LOY_CHAN_TXS, "hello node");
	assert_true(run_until(f, node1_rx, 3000));
	assert_int_equal(f->nodes[1].rx[0].len, 10);
	assert_memory_equal(f->nodes[1].rx[0].data, "hello node", 10);
	assert_int_equal(f->nodes[1].up_now, 1);
	memcpy(replay, k.sent, k.sentlen);
	replay_len = k.sentlen;
	/* the node can send to it too */
	{
		uint8_t body[256], plain[256];
		size_t blen;
		assert_int_equal(loy_peer_net_send(f->nodes[1].net, pks[0],
						   LOY_CHAN_SYNC_REQ,
						   (const uint8_t *)"back", 4),
				 0);
		blen = fake_pop(f, &k, body);
		assert_int_equal(loy_session_open(&k.s, plain, body, blen), 0);
		assert_int_equal(plain[0], LOY_CHAN_SYNC_REQ);
		assert_memory_equal(plain + 1, "back", 4);
	}
	/* unknown channel */
	fake_send_sealed(&k, 9, "what");
	fake_expect_closed(f, &k);
	assert_int_equal(f->nodes[1].up_now, 0);

	/* a frame that does not decrypt */
	fake_handshake(f, &k, 1, 0);
	fake_send_frame(&k, noise, sizeof noise);
	fake_expect_closed(f, &k);

	/* a sealed frame over max_frame, refused from its length alone */
	fake_handshake(f, &k, 1, 0);
	{
		uint8_t h[LOY_FRAME_HEADER_SIZE];
		assert_int_equal(
		    loy_frame_header(h, (1u << 20) + 2 + LOY_SESSION_TAG_SIZE),
		    0);
		fake_send_raw(&k, h, sizeof h);
	}
	fake_expect_closed(f, &k);

	/* a recorded session replayed byte for byte: the node's fresh HELLO
	 * changes the transcript, so the old AUTH fails */
	fake_connect(f, &k, 1);
	fake_send_raw(&k, replay, replay_len);
	fake_expect_closed(f, &k);
	assert_int_equal(f->nodes[1].nrx, 1);
	assert_int_equal(f->nodes[1].ups, 3);
}

static void test_handshake_timeout_and_dial_rule(void **state)
{
	struct fixture *f = *state;
	const int p0[] = {1};
	struct fake k;

	/* node 0 has the smaller key: validator 1 must not dial it */
	make_cfg(f, 0, p0, 1, CHAIN);
	start(f, 0);
	fake_connect(f, &k, 0);
	{
		struct loy_hs_hello hi;
		struct loy_eph_key e;
		struct loy_buf hb = {0};
		memset(&hi, 0, sizeof hi);
		snprintf(hi.chain_id, sizeof hi.chain_id, "%s", CHAIN);
		memcpy(hi.validator, pks[1], LOY_PUBKEY_SIZE);
		loy_eph_keygen(&e);
		memcpy(hi.ephemeral, e.pk, LOY_X25519_SIZE);
		memset(hi.nonce, 7, sizeof hi.nonce);
		assert_int_equal(loy_hs_hello_encode(&hi, &hb), 0);
		fake_send_frame(&k, hb.data, hb.len);
		loy_buf_free(&hb);
	}
	fake_expect_closed(f, &k);
	assert_int_equal(f->nodes[0].ups, 0);
	/* a connection that never says HELLO is cut at the deadline */
	fake_connect(f, &k, 0);
	fake_expect_closed(f, &k);
	/* and one that stops after HELLO */
	fake_connect(f, &k, 0);
	{
		static const uint8_t part[] = {0, 0, 0, 100, 0x95};
		fake_send_raw(&k, part, sizeof part);
	}
	fake_expect_closed(f, &k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_mesh_exchange, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_key_refused, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_wrong_chain_refused, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_garbage_closed, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_restart_reconnects, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_send_unconnected, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_block_unblock, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_queue_limit_drops_link, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_host_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_start_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sealed_phase_faults, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(
		test_handshake_timeout_and_dial_rule, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
