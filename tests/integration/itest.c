/* Integration tests: four real loyd processes on 127.0.0.1 agree, survive
 * kill -9, SIGTERM, a killed leader and a wiped data directory, refuse
 * hostile bytes, and lose no acknowledged transaction. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ledger/query_kinds.h"
#include "node/peer.h"
#include "node/serve_limit.h"
#include "tests/integration/itest.h"
#include "wire/crypto.h"
#include "wire/error.h"
#include "wire/sync.h"
#include "wire/tx.h"

static struct it_tally tally = {"itest", 0, 0};
static struct it_cluster cl;

/* Every transaction a node acknowledged as committed. */
static struct it_acked ack;

#define CHECK(cond, ...) IT_CHECK(&tally, cond, __VA_ARGS__)

static double secs(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Submits count fresh customer registrations to node i and waits for the
 * commits. Returns how many were acknowledged committed. */
static int submit_batch(int i, uint32_t count, int timeout_ms)
{
	return it_submit_registrations(&cl, i, count, timeout_ms, &ack);
}

static int leader_index(void)
{
	struct loy_client_request q;
	char *js = NULL, *p;
	int idx = -1;

	memset(&q, 0, sizeof q);
	q.kind = LOY_CLIENT_STATUS;
	for (int i = 1; i <= cl.n && idx < 0; i++) {
		if (cl.nodes[i - 1].pid == 0 ||
		    it_request(&cl, i, &q, &js, 2000) != 0)
			continue;
		p = js ? strstr(js, "\"leader\":\"") : NULL;
		if (p) {
			/* find which node's validator key this is */
			for (int k = 1; k <= cl.n; k++) {
				uint8_t pk[32];
				char hex[65];
				loy_seckey_pubkey(pk, cl.sk[k - 1]);
				for (int b = 0; b < 32; b++)
					snprintf(hex + 2 * b, 3, "%02x", pk[b]);
				if (strncmp(p + 10, hex, 64) == 0)
					idx = k;
			}
		}
		free(js);
		js = NULL;
	}
	return idx;
}

static void test_agree(void)
{
	double t0 = secs();
	int ok = 0;

	/* 2,000 signed transactions spread over all four nodes */
	for (int round = 0; round < 4; round++)
		for (int i = 1; i <= 4; i++)
			ok += submit_batch(i, 125, 20000);
	CHECK(ok == 2000,
	      "2,000 transactions through all four nodes committed (got %d)",
	      ok);
	CHECK(it_wait_converged(&cl, 1, 10000),
	      "four nodes agree on height and state root");
	fprintf(stderr, "itest: agreement: 2000 txs in %.2f s\n", secs() - t0);
}

/* A client told that its transaction committed reads it back at once from
 * the same node: the node answers when the block is final, before its
 * ledger has applied it, and holds the query back until it has. */
static void test_reads_own_writes(void)
{
	int found = 0, rounds = 40;

	for (int r = 0; r < rounds; r++) {
		struct loy_client_request sub, q;
		struct loy_tx tx;
		struct loy_buf b;
		uint8_t pk[32], sk[64], h[LOY_HASH_SIZE];
		char *js = NULL;
		int node = 1 + r % cl.n;

		memset(&tx, 0, sizeof tx);
		loy_keypair(pk, sk);
		tx.kind = LOY_TX_CUSTOMER_REGISTER;
		snprintf(tx.chain_id, sizeof tx.chain_id, "%s", cl.chain_id);
		tx.nonce = 1;
		if (loy_tx_sign(&tx, sk) != 0 || loy_tx_encode(&tx, &b) != 0)
			abort();
		loy_tx_hash(h, b.data, b.len);
		memset(&sub, 0, sizeof sub);
		sub.kind = LOY_CLIENT_SUBMIT;
		sub.request_id = 1;
		sub.submit.wait = true;
		sub.submit.tx_count = 1;
		sub.submit.txs = &b;
		memset(&q, 0, sizeof q);
		q.kind = LOY_CLIENT_QUERY;
		q.request_id = 2;
		q.query.kind = LOY_Q_TX;
		q.query.arg_count = 1;
		q.query.args[0].type = LOY_ARG_BIN;
		q.query.args[0].len = LOY_HASH_SIZE;
		memcpy(q.query.args[0].data, h, LOY_HASH_SIZE);
		/* the lookup answers 0 only for a transaction the ledger has */
		if (it_request_two(&cl, node, &sub, &q, &js, 10000) == 0 &&
		    js && strstr(js, "\"height\"") != NULL)
			found++;
		free(js);
		loy_buf_free(&b);
	}
	CHECK(found == rounds,
	      "a committed transaction is found by the next query on the same "
	      "node (%d of %d)",
	      found, rounds);
}

/* Background load for the kill -9 test: batches to one node until told. */
struct load {
	int node;
	volatile int stop;
	int sent, ok;
	pthread_t thread;
};

static void *load_main(void *arg)
{
	struct load *l = arg;
	while (!l->stop) {
		l->ok += submit_batch(l->node, 20, 20000);
		l->sent += 20;
	}
	return NULL;
}

static void test_kill9_and_catch_up(void)
{
	struct load l = {.node = 2};
	long h;
	double t0;

	pthread_create(&l.thread, NULL, load_main, &l);
	usleep(300000);
	CHECK(it_node_signal(&cl, 4, SIGKILL) >= 0,
	      "kill -9 node 4 under load");
	usleep(500000);
	CHECK(submit_batch(2, 100, 20000) == 100,
	      "3 of 4 nodes keep committing");
	l.stop = 1;
	pthread_join(l.thread, NULL);
	CHECK(l.ok == l.sent && l.sent > 0,
	      "load during the kill: %d of %d committed", l.ok, l.sent);
	h = it_height(&cl, 2, NULL);
	t0 = secs();
	CHECK(it_node_start(&cl, 4) == 0, "restart node 4");
	CHECK(it_wait_converged(&cl, h, 20000),
	      "node 4 catches up to height %ld", h);
	fprintf(stderr, "itest: kill -9 recovery: %.2f s\n", secs() - t0);
}

static void test_leader_killed(void)
{
	int leader = leader_index();
	double t0;
	long h;

	CHECK(leader >= 1, "status names the leader");
	if (leader < 1)
		return;
	CHECK(it_node_signal(&cl, leader, SIGKILL) >= 0,
	      "kill -9 the leader (node %d)", leader);
	t0 = secs();
	CHECK(submit_batch(leader % cl.n + 1, 50, 30000) == 50,
	      "a new leader commits after a view change");
	fprintf(stderr, "itest: leader killed: commit after %.2f s\n",
		secs() - t0);
	h = it_height(&cl, leader % cl.n + 1, NULL);
	CHECK(it_node_start(&cl, leader) == 0, "restart the old leader");
	CHECK(it_wait_converged(&cl, h, 20000), "old leader catches up");
}

static void test_sigterm(void)
{
	int rc = it_node_signal(&cl, 2, SIGTERM);
	long h;

	CHECK(rc == 0, "SIGTERM: loyd exits 0 (got %d)", rc);
	CHECK(submit_batch(1, 50, 20000) == 50,
	      "commits continue without node 2");
	h = it_height(&cl, 1, NULL);
	CHECK(it_node_start(&cl, 2) == 0, "restart node 2");
	CHECK(it_wait_converged(&cl, h, 20000), "node 2 back in step");
}

static void test_wiped_node_syncs(void)
{
	char cmd[700];
	long h;
	double t0;

	CHECK(it_node_signal(&cl, 3, SIGTERM) == 0, "stop node 3");
	snprintf(cmd, sizeof cmd, "rm -rf '%s/data'", cl.nodes[2].dir);
	CHECK(system(cmd) == 0, "wipe node 3's data directory");
	CHECK(submit_batch(4, 50, 20000) == 50, "commits while node 3 is away");
	h = it_height(&cl, 4, NULL);
	t0 = secs();
	CHECK(it_node_start(&cl, 3) == 0, "start node 3 empty");
	CHECK(it_wait_converged(&cl, h, 30000),
	      "wiped node 3 syncs from genesis to %ld", h);
	fprintf(stderr, "itest: wiped node synced %ld blocks in %.2f s\n", h,
		secs() - t0);
	/* caught-up blocks may have reached data.mdb without fsync under
	 * data_dir/unsynced (node/node_flush.c): once caught up, a durable
	 * flush removes it, or a reboot would keep the node from starting */
	snprintf(cmd, sizeof cmd, "%s/data/unsynced", cl.nodes[2].dir);
	t0 = secs();
	while (access(cmd, F_OK) == 0 && secs() - t0 < 10)
		usleep(50000);
	CHECK(access(cmd, F_OK) != 0,
	      "no data_dir/unsynced marker once node 3 is caught up");
}

/* Signs tx with a member's validator key and submits it to node 1. */
static int submit_signed(struct loy_tx *tx, const uint8_t sk[64], char **out)
{
	struct loy_client_request q;
	struct loy_buf b;
	int code;

	snprintf(tx->chain_id, sizeof tx->chain_id, "%s", cl.chain_id);
	if (loy_tx_sign(tx, sk) != 0 || loy_tx_encode(tx, &b) != 0)
		return -1;
	memset(&q, 0, sizeof q);
	q.kind = LOY_CLIENT_SUBMIT;
	q.submit.wait = true;
	q.submit.tx_count = 1;
	q.submit.txs = &b;
	code = it_request(&cl, 1, &q, out, 20000);
	loy_buf_free(&b);
	return code;
}

static void test_admit_fifth(void)
{
	struct loy_tx tx;
	struct loy_buf enc;
	uint8_t pk5[32], proposal[LOY_HASH_SIZE];
	char *js = NULL;
	long h;
	int code;

	/* node 5's key and config, as a new company would make them */
	if (it_node_add(&cl, pk5) != 0) {
		CHECK(0, "prepare a fifth node");
		return;
	}
	memset(&tx, 0, sizeof tx);
	tx.kind = LOY_TX_MEMBER_PROPOSE;
	tx.nonce = 1;
	tx.u.member_propose.action = LOY_MEMBER_ADMIT;
	memcpy(tx.u.member_propose.member, pk5, 32);
	snprintf(tx.u.member_propose.name, sizeof tx.u.member_propose.name,
		 "Fifth Company");
	snprintf(tx.u.member_propose.address,
		 sizeof tx.u.member_propose.address, "127.0.0.1:%d",
		 cl.nodes[4].peer_port);
	snprintf(tx.chain_id, sizeof tx.chain_id, "%s", cl.chain_id);
	if (loy_tx_sign(&tx, cl.sk[0]) != 0 || loy_tx_encode(&tx, &enc) != 0)
		abort();
	loy_tx_hash(proposal, enc.data, enc.len);
	loy_buf_free(&enc);
	code = submit_signed(&tx, cl.sk[0], &js);
	CHECK(code == 0 && js && strstr(js, "committed"),
	      "member 1 proposes a fifth company: %s", js ? js : "-");
	free(js);
	for (int v = 2; v <= 3; v++) {
		memset(&tx, 0, sizeof tx);
		tx.kind = LOY_TX_MEMBER_VOTE;
		tx.nonce = 1;
		memcpy(tx.u.member_vote.proposal, proposal, LOY_HASH_SIZE);
		tx.u.member_vote.approve = true;
		js = NULL;
		code = submit_signed(&tx, cl.sk[v - 1], &js);
		CHECK(code == 0 && js && strstr(js, "committed"),
		      "member %d votes yes: %s", v, js ? js : "-");
		free(js);
	}
	h = it_height(&cl, 1, NULL);
	CHECK(it_node_start(&cl, 5) == 0,
	      "start the fifth company's node from genesis");
	CHECK(it_wait_converged(&cl, h, 30000), "node 5 syncs to height %ld",
	      h);
	CHECK(submit_batch(5, 50, 20000) == 50,
	      "five validators keep committing (through node 5)");
	CHECK(it_wait_converged(&cl, h + 1, 20000), "five nodes agree");
	{
		char *st = NULL;
		struct loy_client_request q;
		memset(&q, 0, sizeof q);
		q.kind = LOY_CLIENT_STATUS;
		it_request(&cl, 5, &q, &st, 2000);
		CHECK(st && strstr(st, "\"validators\":5"),
		      "the validator set has five members: %s", st ? st : "-");
		free(st);
	}
}

static int raw_send(int port, const void *data, size_t len)
{
	struct sockaddr_in a = {0};
	char buf[64];
	int fd = socket(AF_INET, SOCK_STREAM, 0), closed = 0;
	struct timeval tv = {3, 0};

	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(0x7f000001);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (write(fd, data, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	/* the node must close on us */
	closed = read(fd, buf, sizeof buf) <= 0;
	close(fd);
	return closed ? 0 : -1;
}

static void test_hostile_bytes(void)
{
	static const uint8_t huge[] = {0xff, 0xff, 0xff, 0xff, 1, 2, 3};
	static const uint8_t evil[] = {0,    0,    0,    7,    0x6f, 0xdd,
				       0x11, 0x6f, 0xfe, 0x11, 0xfc};
	static const char http[] = "GET / HTTP/1.0\r\n\r\n";

	CHECK(raw_send(cl.nodes[0].client_port, huge, sizeof huge) == 0,
	      "client port: a 4 GiB frame length closes the connection");
	CHECK(
	    raw_send(cl.nodes[0].client_port, evil, sizeof evil) == 0,
	    "client port: the msgpack-c issue 985 input closes the connection");
	CHECK(raw_send(cl.nodes[0].peer_port, http, sizeof http - 1) == 0,
	      "peer port: an HTTP request closes the connection");
	CHECK(raw_send(cl.nodes[0].peer_port, huge, sizeof huge) == 0,
	      "peer port: a 4 GiB frame length closes the connection");
	CHECK(it_height(&cl, 1, NULL) >= 0,
	      "node 1 still answers after hostile input");
}

/* Whether node i's log has line (once the node has written it). */
static bool log_has(int i, const char *line)
{
	char path[sizeof cl.nodes[0].dir + 16], buf[1024];
	bool found = false;
	FILE *f;

	if (snprintf(path, sizeof path, "%s/loyd.log", cl.nodes[i - 1].dir) >=
	    (int)sizeof path)
		return false;
	f = fopen(path, "r");
	if (f == NULL)
		return false;
	while (!found && fgets(buf, sizeof buf, f) != NULL)
		found = strstr(buf, line) != NULL;
	fclose(f);
	return found;
}

/* A customer registration signed by a new key, and the request frame
 * template for submitting it (the caller sets the batch). */
static void new_registration(struct loy_tx *tx, struct loy_client_request *q)
{
	uint8_t pk[32], sk[64];

	memset(tx, 0, sizeof *tx);
	loy_keypair(pk, sk);
	tx->kind = LOY_TX_CUSTOMER_REGISTER;
	snprintf(tx->chain_id, sizeof tx->chain_id, "%s", cl.chain_id);
	tx->nonce = 1;
	if (loy_tx_sign(tx, sk) != 0)
		abort();
	memset(q, 0, sizeof *q);
	q->kind = LOY_CLIENT_SUBMIT;
}

/* The same member gossips 100 batches of 1,000 transactions with a bad
 * signature (15 MB of checks that all fail) in one burst: the node checks
 * 8 MiB of them at a time and drops the rest, says so, and counts them. */
static void gossip_flood(struct it_link *l, int to)
{
	enum { BATCHES = 100, PER = 1000 };
	struct loy_client_request q;
	struct loy_buf one = {0}, frame = {0}, *txs = NULL;
	struct loy_tx tx;
	int sent = 0;
	long dropped = -1;

	new_registration(&tx, &q);
	q.submit.tx_count = PER;
	txs = calloc(PER, sizeof *txs);
	if (txs == NULL)
		goto out;
	tx.nonce = 2; /* the signature no longer matches */
	if (loy_tx_encode(&tx, &one) != 0)
		goto out;
	for (int i = 0; i < PER; i++)
		txs[i] = one; /* shallow: encoded once */
	q.submit.txs = txs;
	if (loy_client_request_encode(&q, &frame) != 0)
		goto out;
	for (int i = 0; i < BATCHES; i++)
		sent +=
		    it_link_send(l, LOY_CHAN_TXS, frame.data, frame.len) == 0;
	for (double end = secs() + 10; secs() < end; usleep(100 * 1000)) {
		dropped = it_status_num(&cl, to, "gossip_batches_dropped");
		if (dropped > 0)
			break;
	}
out:
	CHECK(sent == BATCHES, "%d batches of %d badly signed txs gossiped",
	      BATCHES, PER);
	CHECK(dropped > 0 && dropped < BATCHES,
	      "node %d checked some and dropped %ld of them", to, dropped);
	CHECK(log_has(to, "gossips transactions faster than they are checked"),
	      "node %d logs the gossip flood", to);
	loy_buf_free(&one);
	loy_buf_free(&frame);
	free(txs);
}

/* A member that floods block-sync requests over its authenticated link
 * gets a few answers at a time (node/serve_limit.h), not one 2 MiB answer
 * per 20-byte request; the node says so in its log and keeps committing.
 * Answers sent back to it that it never asked for (a replay of its own,
 * blocks and certificates real) are dropped before they are decoded.
 * The flood comes from the node with the smallest key, stopped, whose place
 * the test takes: it is the one that dials every other (peer_link.c). */
static void test_sync_flood(void)
{
	enum { FLOOD = 300, REPLAY = 50 };
	struct loy_sync_request q = {1, LOY_MAX_SYNC_BLOCKS};
	struct loy_buf b = {0}, answer = {0};
	struct it_link *l;
	int sent = 0, answers = 0, as = 1, to, other;
	uint8_t ch, *msg, pk[32], least[32];
	size_t len;
	long h, dropped;

	loy_seckey_pubkey(least, cl.sk[0]);
	for (int i = 2; i <= cl.n; i++) {
		loy_seckey_pubkey(pk, cl.sk[i - 1]);
		if (memcmp(pk, least, 32) < 0) {
			memcpy(least, pk, 32);
			as = i;
		}
	}
	to = as % cl.n + 1;
	other = to % cl.n + 1;
	CHECK(it_node_signal(&cl, as, SIGTERM) == 0, "stop node %d", as);
	l = it_link_open(&cl, to, as, 5000);
	CHECK(l != NULL, "a peer link to node %d with node %d's key", to, as);
	if (l == NULL || loy_sync_request_encode(&q, &b) != 0)
		goto out;
	for (int i = 0; i < FLOOD; i++)
		sent += it_link_send(l, LOY_CHAN_SYNC_REQ, b.data, b.len) == 0;
	/* what comes back in 3 s: answers, and the node's own traffic */
	for (double end = secs() + 3; secs() < end;) {
		int ms = (int)((end - secs()) * 1000) + 1;
		if (it_link_recv(l, &ch, &msg, &len, ms) != 0)
			break;
		answers += ch == LOY_CHAN_SYNC_RESP;
		if (ch == LOY_CHAN_SYNC_RESP && answer.len == 0)
			(void)loy_buf_copy(&answer, msg, len);
		free(msg);
	}
	CHECK(sent == FLOOD, "%d sync requests sent in a burst", FLOOD);
	CHECK(answers >= 1 && answers <= 3 * (int)SERVE_PER_PEER,
	      "node %d answered %d of them (a few at a time, not %d)", to,
	      answers, FLOOD);
	CHECK(log_has(to, "asks for blocks faster than they are served"),
	      "node %d logs the flood", to);
	dropped = it_status_num(&cl, to, "sync_requests_dropped");
	/* each request was answered or dropped (an answer may still be on
	 * its way) */
	CHECK(dropped >= sent - 3 * (long)SERVE_PER_PEER &&
		  dropped <= sent - answers,
	      "node %d's status counts the requests it dropped (%ld)", to,
	      dropped);
	sent = 0;
	for (int i = 0; answer.len > 0 && i < REPLAY; i++)
		sent += it_link_send(l, LOY_CHAN_SYNC_RESP, answer.data,
				     answer.len) == 0;
	CHECK(sent == REPLAY, "%d of its own answers sent back to node %d",
	      REPLAY, to);
	for (double end = secs() + 5; secs() < end;) {
		dropped = it_status_num(&cl, to, "sync_answers_unasked");
		if (dropped >= REPLAY)
			break;
		usleep(50 * 1000);
	}
	CHECK(dropped == REPLAY,
	      "node %d dropped the %d answers it did not ask for (%ld)", to,
	      REPLAY, dropped);
	CHECK(log_has(to, "sent blocks this node did not ask for"),
	      "node %d logs them", to);
	gossip_flood(l, to);
out:
	it_link_close(l);
	loy_buf_free(&b);
	loy_buf_free(&answer);
	CHECK(submit_batch(other, 20, 20000) == 20,
	      "commits continue after the flood");
	h = it_height(&cl, to, NULL);
	CHECK(it_node_start(&cl, as) == 0, "restart node %d", as);
	CHECK(it_wait_converged(&cl, h, 20000), "node %d back in step", as);
}

static long rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* N status requests in one stream, as frames. */
static uint8_t *status_burst(uint32_t n, size_t *len)
{
	struct loy_client_request q;
	size_t cap = (size_t)n * 32, used = 0;
	uint8_t *b = malloc(cap);

	memset(&q, 0, sizeof q);
	q.kind = LOY_CLIENT_STATUS;
	for (uint32_t i = 0; b != NULL && i < n; i++) {
		struct loy_buf one;
		q.request_id = i + 1;
		if (loy_client_request_encode(&q, &one) != 0 ||
		    used + LOY_FRAME_HEADER_SIZE + one.len > cap ||
		    loy_frame_header(b + used, one.len) != 0) {
			free(b);
			return NULL;
		}
		memcpy(b + used + LOY_FRAME_HEADER_SIZE, one.data, one.len);
		used += LOY_FRAME_HEADER_SIZE + one.len;
		loy_buf_free(&one);
	}
	*len = used;
	return b;
}

/* A client that pipelines requests and does not read the answers: node 1
 * stops reading from it (TCP holds the client back) instead of keeping
 * every answer, up to 64 MiB a connection; read later, every answer is
 * there, in order, and other clients are served all along. */
struct in_order {
	uint32_t answers, in_order;
};

static void count_in_order(void *d, const uint8_t *body, size_t len)
{
	struct in_order *o = d;
	struct loy_client_response resp;

	if (loy_client_response_decode(&resp, body, len) == 0) {
		o->answers++;
		o->in_order &= resp.request_id == o->answers;
		loy_client_response_free(&resp);
	}
}

static void test_pipelining_client(void)
{
	enum { N = 100000 };
	size_t len = 0, off;
	uint8_t *burst = status_burst(N, &len);
	struct it_pipe *p = it_pipe_open(&cl, 1, burst, len);
	struct in_order o = {0, 1};
	long rss0, rss1;

	if (p == NULL) {
		CHECK(0, "pipelining client: cannot set up");
		return;
	}
	rss0 = rss_kb(cl.nodes[0].pid);
	off = it_pipe_push(p, 3000); /* what the node takes, reading none */
	usleep(500000);
	rss1 = rss_kb(cl.nodes[0].pid);
	fprintf(stderr,
		"itest: a client not reading its answers: %zu of %zu request "
		"bytes taken, node 1 grew %ld KiB\n",
		off, len, rss1 - rss0);
	CHECK(rss0 > 0 && rss1 - rss0 < 16 * 1024,
	      "a client not reading %u pipelined answers holds %ld KiB of "
	      "node 1 (bound: 16 MiB)",
	      N, rss1 - rss0);
	CHECK(it_height(&cl, 1, NULL) >= 0,
	      "node 1 answers other clients meanwhile");
	CHECK(it_status_num(&cl, 1, "clients_paused") >= 1,
	      "node 1's status shows that client not read from");
	/* now read everything, writing the rest as the node takes it */
	(void)it_pipe_drain(p, N, 60000, count_in_order, &o);
	CHECK(o.answers == N && o.in_order,
	      "all %u answers arrive once read, in order (got %u)", N,
	      o.answers);
	CHECK(it_status_num(&cl, 1, "clients_paused") == 0,
	      "and it is read from again");
	it_pipe_close(p);
}

/* While the cluster cannot commit (two of four nodes stopped), a client
 * pipelines one pending transaction in many waiting submits, reading no
 * answer: each would hold a waiter for WAIT_TIMEOUT_MS; node 1 stops
 * reading from it once MAX_CLIENT_REFS (256) wait. When the cluster
 * commits again, every request is answered. */
static void test_waiting_submits_bounded(void)
{
	enum { N = 2000 };
	struct loy_client_request q;
	struct loy_tx tx;
	struct loy_buf one = {0};
	uint8_t *burst = NULL;
	size_t len = 0;
	struct it_pipe *p = NULL;
	uint32_t answers;
	long waiting;

	new_registration(&tx, &q);
	q.submit.wait = true;
	q.submit.tx_count = 1;
	q.submit.txs = &one;
	if (loy_tx_encode(&tx, &one) == 0)
		burst = malloc((size_t)N * (one.len + 64));
	for (uint32_t i = 0; burst != NULL && i < N; i++) {
		struct loy_buf f;
		q.request_id = i + 1;
		if (loy_client_request_encode(&q, &f) != 0 ||
		    f.len > one.len + 64 - LOY_FRAME_HEADER_SIZE ||
		    loy_frame_header(burst + len, f.len) != 0)
			abort();
		memcpy(burst + len + LOY_FRAME_HEADER_SIZE, f.data, f.len);
		len += LOY_FRAME_HEADER_SIZE + f.len;
		loy_buf_free(&f);
	}
	p = it_pipe_open(&cl, 1, burst, len);
	if (p == NULL || cl.nodes[2].pid <= 0 || cl.nodes[3].pid <= 0) {
		CHECK(0, "waiting submits: cannot set up");
		goto out;
	}
	/* SIGSTOP, not it_node_signal (which waits for an exit) */
	CHECK(kill(cl.nodes[2].pid, SIGSTOP) == 0 &&
		  kill(cl.nodes[3].pid, SIGSTOP) == 0,
	      "stop nodes 3 and 4 (no quorum)");
	(void)it_pipe_push(p, 2000);
	/* requests may first be held until the ledger has flushed what
	 * clients were told of; sample for a while, keeping the most */
	waiting = 0;
	for (double end = secs() + 5; secs() < end; usleep(100 * 1000)) {
		long w = it_status_num(&cl, 1, "submits_waiting");
		if (w > waiting)
			waiting = w;
		if (waiting >= 256)
			break;
	}
	fprintf(stderr,
		"itest: %d waiting submits pipelined without a quorum: node 1 "
		"holds %ld of them at most\n",
		N, waiting);
	CHECK(waiting >= 1 && waiting <= 256,
	      "node 1 holds at most 256 of %d waiting submits (%ld)", N,
	      waiting);
	CHECK(it_status_num(&cl, 1, "clients_paused") >= 1,
	      "and does not read that client meanwhile");
	CHECK(kill(cl.nodes[2].pid, SIGCONT) == 0 &&
		  kill(cl.nodes[3].pid, SIGCONT) == 0,
	      "continue nodes 3 and 4");
	/* the transaction commits; the rest of the requests are answered at
	 * once (its nonce is used) */
	answers = it_pipe_drain(p, N, 60000, NULL, NULL);
	CHECK(answers == N, "all %d waiting submits answered (got %u)", N,
	      answers);
	CHECK(it_status_num(&cl, 1, "submits_waiting") == 0,
	      "none left waiting");
out:
	it_pipe_close(p);
	loy_buf_free(&one);
}

static void test_nothing_lost(void)
{
	size_t missing = 0;

	for (int i = 1; i <= cl.n; i++) {
		for (size_t k = 0; k < ack.n; k++) {
			struct loy_client_request q;
			memset(&q, 0, sizeof q);
			q.kind = LOY_CLIENT_QUERY;
			q.query.kind = LOY_Q_TX;
			q.query.arg_count = 1;
			q.query.args[0].type = LOY_ARG_BIN;
			q.query.args[0].len = LOY_HASH_SIZE;
			memcpy(q.query.args[0].data, ack.h[k], LOY_HASH_SIZE);
			if (it_request(&cl, i, &q, NULL, 5000) != 0)
				missing++;
		}
	}
	CHECK(
	    missing == 0,
	    "every acknowledged tx (%zu) is on every node (%zu lookups failed)",
	    ack.n, missing);
	{
		long top = it_height(&cl, 1, NULL);
		long differ = 0;
		for (long h = 1; h <= top; h++) {
			char first[80] = "";
			for (int i = 1; i <= cl.n; i++) {
				struct loy_client_request q;
				char *js = NULL, *p, hash[80] = "";
				if (cl.nodes[i - 1].pid == 0)
					continue;
				memset(&q, 0, sizeof q);
				q.kind = LOY_CLIENT_QUERY;
				q.query.kind = LOY_Q_BLOCK;
				q.query.arg_count = 1;
				q.query.args[0].type = LOY_ARG_UINT;
				q.query.args[0].u = (uint64_t)h;
				if (it_request(&cl, i, &q, &js, 5000) == 0 &&
				    js &&
				    (p = strstr(js, "\"hash\":\"")) != NULL)
					snprintf(hash, sizeof hash, "%.64s",
						 p + 8);
				free(js);
				if (!first[0])
					snprintf(first, sizeof first, "%s",
						 hash);
				if (!hash[0] || strcmp(first, hash) != 0)
					differ++;
			}
		}
		CHECK(top > 0 && differ == 0,
		      "identical block hashes at every height 1..%ld on every "
		      "node",
		      top);
	}
}

int main(int argc, char **argv)
{
	const char *loyd = argc > 1 ? argv[1] : "build/bin/loyd";

	it_acked_init(&ack);
	if (loy_crypto_init() != 0 || it_cluster_init(&cl, 4, loyd) != 0) {
		fprintf(stderr, "itest: cannot set up the cluster\n");
		return 1;
	}
	for (int i = 1; i <= cl.n; i++)
		if (it_node_start(&cl, i) != 0)
			tally.failed++;
	CHECK(it_wait_converged(&cl, 0, 10000), "four nodes start and answer");
	test_agree();
	test_reads_own_writes();
	test_hostile_bytes();
	test_sync_flood();
	test_pipelining_client();
	test_waiting_submits_bounded();
	test_kill9_and_catch_up();
	test_leader_killed();
	test_sigterm();
	test_wiped_node_syncs();
	test_admit_fifth();
	test_nothing_lost();
	if (tally.failed)
		setenv("ITEST_KEEP", "1", 1);
	it_cluster_destroy(&cl);
	it_acked_free(&ack);
	printf("integration: %d passed, %d failed\n", tally.passed,
	       tally.failed);
	return tally.failed ? 1 : 0;
}
