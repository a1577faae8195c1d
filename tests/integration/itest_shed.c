/* Load a node sheds from hostile peers and clients: a member flooding
 * block-sync requests, answers nobody asked for and gossip; a client
 * pipelining requests, or waiting submits, without reading the answers.
 * Part of the itest program (itest.c runs them). */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "node/peer.h"
#include "node/serve_limit.h"
#include "tests/integration/itest_int.h"
#include "wire/crypto.h"
#include "wire/error.h"
#include "wire/sync.h"
#include "wire/tx.h"

bool log_has(int i, const char *line)
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
void test_sync_flood(void)
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

void test_pipelining_client(void)
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
void test_waiting_submits_bounded(void)
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
