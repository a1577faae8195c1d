/* Peer links over real TCP on 127.0.0.1 in one libuv loop: full mesh,
 * refusals, restarts, the fault layer and queue limits. Every wait is
 * bounded by a loop timer; nothing sleeps. */
#include "tests/unit/peer_fixture.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_mesh_exchange, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_key_refused, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_wrong_chain_refused, setup,
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
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
