/* Peer links under hostile input: garbage and oversized frames from raw
 * sockets, and a hand-driven initiator that reaches the sealed phase to
 * send unknown channels, forged, oversized and replayed frames, or stalls
 * its handshake. */
#include "tests/unit/peer_fixture.h"

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
	    cmocka_unit_test_setup_teardown(test_garbage_closed, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_sealed_phase_faults, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(
		test_handshake_timeout_and_dial_rule, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
