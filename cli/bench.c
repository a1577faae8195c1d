/* loyctl bench: a load generator. Sets up terminals and funded customers,
 * pre-signs reward.issue and redeem transactions before the measured
 * window, submits them in batches over several connections (closed loop, or
 * open loop at --rate), and counts commits from a SUBSCRIBE stream:
 * committed tx/s and submit-to-commit latency percentiles. */
#include "cli/cli.h"

#include "cli/bench_nodes.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ledger/query_kinds.h"
#include "ledger/txjson.h"
#include "wire/error.h"

#define MAX_CONNS      64
#define TERMS_PER_CONN 4 /* keeps each signer's queue short */

struct bench_tx {
	uint8_t hash[LOY_HASH_SIZE];
	uint32_t idx;
};

struct bench {
	struct cli *c;
	uint32_t n, conns, batch;
	double rate; /* tx/s over all connections; 0 = closed loop */
	double duration;
	struct loy_buf *txs;
	struct bench_tx *index; /* sorted by hash */
	double *sent, *done;    /* seconds since start, per tx */
	uint32_t *order[MAX_CONNS];
	uint32_t count[MAX_CONNS];
	struct timespec t0;
	atomic_uint_fast64_t submitted, committed, ok, refused, window;
	atomic_bool stop;
	double last_commit;
	/* closed loop: submitters wait here for room in the window, woken by
	 * the subscriber, instead of polling (which stole the nodes' CPU) */
	pthread_mutex_t room_lock;
	pthread_cond_t room;
};

static double now_s(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) +
	       (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Whether the closed loop has room for another batch. */
static bool has_room(struct bench *b)
{
	return atomic_load(&b->submitted) - atomic_load(&b->committed) <=
	       b->window;
}

/* Closed loop: waits until the window has room (or 50 ms, to look at the
 * stop flag and the duration). */
static void wait_room(struct bench *b)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += 50 * 1000 * 1000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&b->room_lock);
	if (!has_room(b) && !atomic_load(&b->stop))
		pthread_cond_timedwait(&b->room, &b->room_lock, &until);
	pthread_mutex_unlock(&b->room_lock);
}

/* Open loop: sleeps until `due` seconds after the start, 50 ms at most at
 * a time (one wake-up per batch instead of one every 0.5 ms). */
static void sleep_until(const struct bench *b, double due)
{
	struct timespec t = b->t0;
	double now = now_s(&b->t0);

	if (due > now + 0.05)
		due = now + 0.05;
	t.tv_sec += (time_t)due;
	t.tv_nsec += (long)((due - (double)(time_t)due) * 1e9);
	if (t.tv_nsec >= 1000000000) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) ==
	       EINTR)
		;
}

static int cmp_hash(const void *a, const void *b)
{
	return memcmp(((const struct bench_tx *)a)->hash,
		      ((const struct bench_tx *)b)->hash, LOY_HASH_SIZE);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

struct sub_arg {
	struct bench *b;
	struct cli_conn cn;
};

static void *subscriber(void *p)
{
	struct sub_arg *s = p;
	struct bench *b = s->b;

	s->cn.timeout_ms = 500;
	while (atomic_load(&b->committed) < b->n && !atomic_load(&b->stop)) {
		uint8_t kind;
		struct loy_client_response r;
		struct loy_client_event e;
		struct bench_tx key, *hit;
		int rv = cli_conn_read(&s->cn, &kind, &r, &e);
		if (rv != 0) {
			if (strstr(s->cn.err, "in time"))
				continue; /* a quiet half second: check stop */
			break;
		}
		if (kind == LOY_CLIENT_RESPONSE) {
			loy_client_response_free(&r);
			continue;
		}
		memcpy(key.hash, e.tx_hash, LOY_HASH_SIZE);
		hit = bsearch(&key, b->index, b->n, sizeof key, cmp_hash);
		if (hit && b->done[hit->idx] == 0) {
			double t = now_s(&b->t0);
			b->done[hit->idx] = t;
			b->last_commit = t;
			if (strstr((const char *)e.event.data,
				   "\"result\":\"ok\"") != NULL)
				atomic_fetch_add(&b->ok, 1);
			atomic_fetch_add(&b->committed, 1);
			if (!(b->rate > 0) && has_room(b)) {
				pthread_mutex_lock(&b->room_lock);
				pthread_cond_broadcast(&b->room);
				pthread_mutex_unlock(&b->room_lock);
			}
		}
		loy_client_event_free(&e);
	}
	return NULL;
}

struct sub_conn {
	struct bench *b;
	uint32_t k;
	struct cli_conn cn;
	int rv;
};

static void *submitter(void *p)
{
	struct sub_conn *s = p;
	struct bench *b = s->b;
	struct loy_buf *batch = calloc(b->batch, sizeof *batch);
	double per_conn_rate = b->rate > 0 ? b->rate / b->conns : 0;
	uint32_t sent = 0;

	s->cn.timeout_ms = 30000;
	while (batch && sent < b->count[s->k] && !atomic_load(&b->stop)) {
		uint32_t k = b->count[s->k] - sent < b->batch
				 ? b->count[s->k] - sent
				 : b->batch;
		struct loy_client_request q;
		struct loy_client_response r;
		double t = now_s(&b->t0), due;
		json_t *ans;

		if (t > b->duration)
			break;
		/* open loop: connection k of K sends its i-th batch of B at
		 * (i + k/K) * B / per-connection rate, so arrivals over all
		 * connections are evenly spaced rather than in bursts of K */
		due =
		    per_conn_rate > 0
			? ((double)sent + (double)s->k * b->batch / b->conns) /
			      per_conn_rate
			: 0;
		if (due > t) {
			sleep_until(b, due);
			continue;
		}
		if (per_conn_rate == 0 && !has_room(b)) {
			wait_room(b); /* closed loop: bounded work in flight */
			continue;
		}
		for (uint32_t i = 0; i < k; i++) {
			uint32_t idx = b->order[s->k][sent + i];
			batch[i] = b->txs[idx];
			b->sent[idx] = t;
		}
		memset(&q, 0, sizeof q);
		q.kind = LOY_CLIENT_SUBMIT;
		q.submit.tx_count = k;
		q.submit.txs = batch;
		q.submit.wait = false;
		atomic_fetch_add(&b->submitted, k);
		if ((s->rv = cli_conn_call(&s->cn, &q, &r)) != 0)
			break;
		ans = json_loadb((const char *)r.payload.data, r.payload.len, 0,
				 NULL);
		for (size_t i = 0;
		     i < json_array_size(json_object_get(ans, "txs")); i++) {
			const char *st = json_string_value(json_object_get(
			    json_array_get(json_object_get(ans, "txs"), i),
			    "status"));
			if (st && strcmp(st, "refused") == 0)
				atomic_fetch_add(&b->refused, 1);
		}
		json_decref(ans);
		loy_client_response_free(&r);
		sent += k;
	}
	free(batch);
	return NULL;
}

/* Signs and encodes tx into out; frees what tx owns. */
static int seal(struct loy_tx *tx, const uint8_t sk[LOY_SECKEY_SIZE],
		const char *chain, uint64_t nonce, struct loy_buf *out)
{
	int rv;

	snprintf(tx->chain_id, sizeof tx->chain_id, "%s", chain);
	tx->nonce = nonce;
	rv = loy_tx_sign(tx, sk);
	if (rv == 0)
		rv = loy_tx_encode(tx, out);
	loy_tx_free(tx);
	return rv;
}

/* Setup transactions, submitted in order with wait: not measured. */
static int setup_submit(struct cli *c, struct cli_conn *cn, struct loy_buf *txs,
			uint32_t n)
{
	for (uint32_t off = 0; off < n; off += LOY_MAX_SUBMIT_BATCH) {
		uint32_t k = n - off < LOY_MAX_SUBMIT_BATCH
				 ? n - off
				 : LOY_MAX_SUBMIT_BATCH;
		struct loy_client_request q;
		struct loy_client_response r;
		int rv;
		memset(&q, 0, sizeof q);
		q.kind = LOY_CLIENT_SUBMIT;
		q.submit.tx_count = k;
		q.submit.txs = txs + off;
		q.submit.wait = true;
		cn->timeout_ms = 60000;
		if ((rv = cli_conn_call(cn, &q, &r)) != 0) {
			cli_err(c, "bench setup: %s", cn->err);
			return rv;
		}
		if (r.code != 0) {
			cli_err(c, "bench setup failed: %s", r.message);
			loy_client_response_free(&r);
			return CLI_FAIL;
		}
		loy_client_response_free(&r);
	}
	return 0;
}

/* --latency-log: when each transaction was sent and seen committed, by
 * connection, with the start as Unix time to match the nodes' logs. */
static int write_latency_log(const struct bench *b, FILE *f)
{
	struct timespec rt;
	int ok;

	clock_gettime(CLOCK_REALTIME, &rt);
	fprintf(f, "# start %.3f\n",
		(double)rt.tv_sec + (double)rt.tv_nsec / 1e9 - now_s(&b->t0));
	for (uint32_t k = 0; k < b->conns; k++)
		for (uint32_t j = 0; j < b->count[k]; j++) {
			uint32_t i = b->order[k][j];
			fprintf(f, "%u %.4f %.4f\n", k, b->sent[i], b->done[i]);
		}
	ok = !ferror(f);
	return fclose(f) == 0 && ok ? 0 : -1;
}

static const struct cli_usage bench_usage = {
    "loyctl bench --key MEMBER.key [--txs N] [--duration S] [--customers C] "
    "[--conns K] [--batch B] [--rate R] [--warmup S] [--spread H:P,...] "
    "[--latency-log FILE]",
    "Load generator. Setup (not measured): K terminals for the member, C new\n"
    "customers registered and funded. Then N transactions (half reward.issue "
    "by\n"
    "the terminals, half redeem by the customers) are signed before the "
    "window,\n"
    "submitted in batches of B over K connections, closed loop at full speed "
    "or\n"
    "open loop at R tx/s, for at most S seconds. Commits are counted from a\n"
    "SUBSCRIBE stream. The first S seconds warm the cluster up and are left\n"
    "out: committed tx/s counts commits after them, latencies are of\n"
    "transactions sent after them. Reports committed tx/s and latency\n"
    "p50/p90/p99/max, the signing time (apart), and each node's cost over\n"
    "the run from its status (--node and the --spread nodes): CPU cores\n"
    "busy, signatures verified, resident memory; then CPU and signature\n"
    "checks per committed tx.",
    "  --txs N          transactions in the measured window (default 20000)\n"
    "  --duration S     longest submit window, seconds (default 30)\n"
    "  --customers C    customers (default 1000)\n"
    "  --conns K        submitting connections (default 4)\n"
    "  --batch B        transactions per SUBMIT (default 256)\n"
    "  --rate R         open loop at R tx/s (default: closed loop)\n"
    "  --warmup S       seconds left out at the start (default 1; none when\n"
    "                   the run lasts less than twice that)\n"
    "  --spread LIST    submitting connections go round-robin to these nodes\n"
    "                   (HOST:PORT,...; setup and the commit stream stay on\n"
    "                   --node), as when each member's terminals use its own\n"
    "                   node\n"
    "  --latency-log F  writes one line per transaction: submitting\n"
    "                   connection, sent and committed (seconds from the\n"
    "                   start; 0: no commit seen), after a first line\n"
    "                   \"# start UNIX-SECONDS\", to find when a tail\n"
    "                   happened and on which node\n",
    "  loyctl bench --key testnet/node1/validator.key --passphrase-file "
    "testnet/passphrase --txs 50000\n",
};

int cmd_bench(struct cli *c, int argc, char **argv)
{
	const char *txs_s = "20000", *dur_s = "30", *cust_s = "1000",
		   *conns_s = "4", *batch_s = "256", *rate_s = NULL,
		   *warm_s = "1", *spread_s = NULL, *log_s = NULL;
	const struct cli_opt opts[] = {
	    {"txs", OPT_STR, &txs_s},         {"duration", OPT_STR, &dur_s},
	    {"customers", OPT_STR, &cust_s},  {"conns", OPT_STR, &conns_s},
	    {"batch", OPT_STR, &batch_s},     {"rate", OPT_STR, &rate_s},
	    {"warmup", OPT_STR, &warm_s},     {"spread", OPT_STR, &spread_s},
	    {"latency-log", OPT_STR, &log_s}, {NULL, 0, NULL}};
	struct bench *b = calloc(1, sizeof *b);
	FILE *logf = NULL;
	bool log_bad = false;
	struct cli_conn cn = {.fd = -1};
	struct sub_arg sa;
	struct sub_conn sc[MAX_CONNS];
	pthread_t st, th[MAX_CONNS];
	uint32_t ncust, dur, rate = 0, nsetup = 0, warm;
	uint8_t(*csk)[LOY_SECKEY_SIZE] = NULL,
	tsk[MAX_CONNS * TERMS_PER_CONN][LOY_SECKEY_SIZE];
	uint8_t mpk[LOY_PUBKEY_SIZE], mid[LOY_ID_SIZE], cid[LOY_ID_SIZE],
	    pk[LOY_PUBKEY_SIZE];
	uint64_t mnonce, *cnonce = NULL, tnonce[MAX_CONNS * TERMS_PER_CONN];
	uint32_t nterm;
	struct loy_buf *setup = NULL;
	char chain[LOY_CHAIN_ID_MAX + 1], run_id[16];
	struct loy_client_arg a;
	json_t *p;
	double elapsed, *lat = NULL;
	uint32_t nlat = 0, ncommitted = 0, nwindow = 0, nspread = 0;
	char spread_buf[1024];
	const char *spread[MAX_CONNS];
	struct bench_nodes bn;
	struct timespec sign_t0;
	double sign_s = 0;
	int np, rv;

	sa.cn.fd = -1;
	if (b == NULL)
		return CLI_FAIL;
	pthread_mutex_init(&b->room_lock, NULL);
	pthread_cond_init(&b->room, NULL);
	rv = cli_parse(c, argc, argv, opts, NULL, 0, &np, &bench_usage);
	if (rv)
		goto out;
	rv = CLI_USAGE;
	if (cli_parse_u32(txs_s, &b->n) || b->n == 0 ||
	    cli_parse_u32(dur_s, &dur) || dur == 0 ||
	    cli_parse_u32(cust_s, &ncust) || ncust == 0 ||
	    cli_parse_u32(warm_s, &warm) || warm > 3600 ||
	    cli_parse_u32(conns_s, &b->conns) || b->conns == 0 ||
	    b->conns > MAX_CONNS || cli_parse_u32(batch_s, &b->batch) ||
	    b->batch == 0 || b->batch > LOY_MAX_SUBMIT_BATCH ||
	    (rate_s && (cli_parse_u32(rate_s, &rate) || rate == 0))) {
		cli_usage_error(c, &bench_usage,
				"counts must be positive integers (--conns <= "
				"%d, --batch <= %u)",
				MAX_CONNS, LOY_MAX_SUBMIT_BATCH);
		goto out;
	}
	/* opened first: a path that cannot be written fails before the run */
	if (log_s != NULL && (logf = fopen(log_s, "w")) == NULL) {
		cli_err(c, "bench: cannot write %s: %s", log_s,
			strerror(errno));
		rv = CLI_FAIL;
		goto out;
	}
	if (spread_s != NULL) {
		char *save = NULL, *tok;
		snprintf(spread_buf, sizeof spread_buf, "%s", spread_s);
		for (tok = strtok_r(spread_buf, ",", &save);
		     tok && nspread < MAX_CONNS;
		     tok = strtok_r(NULL, ",", &save))
			spread[nspread++] = tok;
		if (nspread == 0) {
			cli_usage_error(
			    c, &bench_usage,
			    "--spread needs HOST:PORT[,HOST:PORT...]");
			goto out;
		}
	}
	b->c = c;
	b->duration = dur;
	b->rate = rate;
	b->window = 2u * b->batch * b->conns;
	nterm = b->conns * TERMS_PER_CONN;
	if ((rv = cli_load_key(c)) != 0 || (rv = cli_connect(c, &cn)) != 0)
		goto out;
	loy_seckey_pubkey(mpk, c->sk);
	loy_id_from_pubkey(mid, mpk);
	if ((rv = cli_status(c, &cn, &p)) != 0)
		goto out;
	snprintf(chain, sizeof chain, "%s",
		 json_string_value(json_object_get(p, "chain_id")));
	json_decref(p);
	cli_arg_bin(&a, mid, LOY_ID_SIZE);
	if ((rv = cli_query(c, &cn, LOY_Q_NONCE, &a, 1, &p)) != 0)
		goto out;
	mnonce = (uint64_t)json_integer_value(json_object_get(p, "nonce")) + 1;
	json_decref(p);

	rv = CLI_FAIL;
	csk = calloc(ncust, sizeof *csk);
	cnonce = calloc(ncust, sizeof *cnonce);
	setup = calloc(nterm + 2u * ncust, sizeof *setup);
	b->txs = calloc(b->n, sizeof *b->txs);
	b->index = calloc(b->n, sizeof *b->index);
	b->sent = calloc(b->n, sizeof *b->sent);
	b->done = calloc(b->n, sizeof *b->done);
	lat = calloc(b->n, sizeof *lat);
	for (uint32_t k = 0; k < b->conns; k++)
		b->order[k] = calloc(b->n, sizeof *b->order[k]);
	if (!csk || !cnonce || !setup || !b->txs || !b->index || !b->sent ||
	    !b->done || !lat)
		goto out;
	{
		uint8_t r[LOY_HASH_SIZE], tpk[LOY_PUBKEY_SIZE],
		    tmp[LOY_SECKEY_SIZE];
		loy_keypair(tpk, tmp);
		loy_hash(r, tmp, sizeof tmp);
		loy_wipe(tmp, sizeof tmp);
		loy_hex(run_id, r, 7);
	}
	fprintf(c->err, "bench: setting up %u terminals and %u customers...\n",
		nterm, ncust);
	for (uint32_t k = 0; k < nterm; k++) {
		struct loy_tx tx;
		memset(&tx, 0, sizeof tx);
		tx.kind = LOY_TX_TERMINAL_ADD;
		loy_keypair(tx.u.terminal.terminal, tsk[k]);
		snprintf(tx.u.terminal.label, sizeof tx.u.terminal.label,
			 "bench %s %u", run_id, k);
		tnonce[k] = 1;
		if (seal(&tx, c->sk, chain, mnonce++, &setup[nsetup++]) != 0)
			goto out;
	}
	for (uint32_t j = 0; j < ncust; j++) {
		struct loy_tx tx;
		memset(&tx, 0, sizeof tx);
		tx.kind = LOY_TX_CUSTOMER_REGISTER;
		loy_keypair(pk, csk[j]);
		cnonce[j] = 1;
		if (seal(&tx, csk[j], chain, cnonce[j]++, &setup[nsetup++]) !=
		    0)
			goto out;
	}
	for (uint32_t j = 0; j < ncust; j++) {
		struct loy_tx tx;
		memset(&tx, 0, sizeof tx);
		tx.kind = LOY_TX_REWARD_ISSUE;
		loy_seckey_pubkey(pk, csk[j]);
		loy_id_from_pubkey(tx.u.reward_issue.customer, pk);
		tx.u.reward_issue.purchase = 1000000;
		snprintf(tx.u.reward_issue.reference,
			 sizeof tx.u.reward_issue.reference, "bench-%s-fund-%u",
			 run_id, j);
		snprintf(tx.u.reward_issue.reason,
			 sizeof tx.u.reward_issue.reason, "topup");
		if (seal(&tx, c->sk, chain, mnonce++, &setup[nsetup++]) != 0)
			goto out;
	}
	if ((rv = setup_submit(c, &cn, setup, nsetup)) != 0)
		goto out;
	rv = CLI_FAIL;
	fprintf(c->err, "bench: signing %u transactions...\n", b->n);
	clock_gettime(CLOCK_MONOTONIC, &sign_t0);
	for (uint32_t i = 0; i < b->n; i++) {
		struct loy_tx tx;
		uint32_t j = (i / 2) % ncust, k;
		memset(&tx, 0, sizeof tx);
		if (i % 2 == 0) {
			uint32_t t = (i / 2) % nterm;
			k = t % b->conns;
			tx.kind = LOY_TX_REWARD_ISSUE;
			loy_seckey_pubkey(pk, csk[j]);
			loy_id_from_pubkey(tx.u.reward_issue.customer, pk);
			tx.u.reward_issue.purchase = 10;
			snprintf(tx.u.reward_issue.reference,
				 sizeof tx.u.reward_issue.reference,
				 "bench-%s-%u", run_id, i);
			snprintf(tx.u.reward_issue.reason,
				 sizeof tx.u.reward_issue.reason, "topup");
			if (seal(&tx, tsk[t], chain, tnonce[t]++, &b->txs[i]) !=
			    0)
				goto out;
		} else {
			k = j % b->conns;
			tx.kind = LOY_TX_REDEEM;
			memcpy(tx.u.redeem.member, mid, LOY_ID_SIZE);
			tx.u.redeem.amount = 1;
			snprintf(tx.u.redeem.reference,
				 sizeof tx.u.redeem.reference, "bench-%s-%u",
				 run_id, i);
			if (seal(&tx, csk[j], chain, cnonce[j]++, &b->txs[i]) !=
			    0)
				goto out;
		}
		loy_tx_hash(b->index[i].hash, b->txs[i].data, b->txs[i].len);
		b->index[i].idx = i;
		b->order[k][b->count[k]++] = i;
	}
	(void)cid;
	qsort(b->index, b->n, sizeof *b->index, cmp_hash);
	/* signing is the clients' work, not the cluster's: reported apart */
	sign_s = now_s(&sign_t0);

	/* the measured window */
	sa.b = b;
	if ((rv = cli_conn_open(&sa.cn, c->node, 5000)) != 0) {
		cli_err(c, "%s", sa.cn.err);
		goto out;
	}
	{
		struct loy_client_request q;
		struct loy_client_response r;
		memset(&q, 0, sizeof q);
		q.kind = LOY_CLIENT_SUBSCRIBE;
		q.subscribe.filter = LOY_SUB_ALL;
		if ((rv = cli_conn_call(&sa.cn, &q, &r)) != 0) {
			cli_err(c, "subscribe: %s", sa.cn.err);
			goto out;
		}
		loy_client_response_free(&r);
	}
	for (uint32_t k = 0; k < b->conns; k++) {
		sc[k].b = b;
		sc[k].k = k;
		sc[k].rv = 0;
		if ((rv = cli_conn_open(&sc[k].cn,
					nspread ? spread[k % nspread] : c->node,
					5000)) != 0) {
			cli_err(c, "%s", sc[k].cn.err);
			for (uint32_t i = 0; i < k; i++)
				cli_conn_close(&sc[i].cn);
			goto out;
		}
	}
	bench_nodes_init(&bn, c->node, spread, nspread);
	bench_nodes_sample(&bn, 0);
	fprintf(c->err, "bench: submitting over %u connections (%s)...\n",
		b->conns, rate ? "open loop" : "closed loop");
	clock_gettime(CLOCK_MONOTONIC, &b->t0);
	pthread_create(&st, NULL, subscriber, &sa);
	for (uint32_t k = 0; k < b->conns; k++)
		pthread_create(&th[k], NULL, submitter, &sc[k]);
	for (uint32_t k = 0; k < b->conns; k++) {
		pthread_join(th[k], NULL);
		if (sc[k].rv != 0)
			cli_err(c, "connection %u: %s", k, sc[k].cn.err);
	}
	/* wait for what was submitted to commit, 10 s at most */
	while (atomic_load(&b->committed) + atomic_load(&b->refused) <
		   atomic_load(&b->submitted) &&
	       now_s(&b->t0) < b->duration + 10)
		usleep(10000);
	bench_nodes_sample(&bn, 1);
	atomic_store(&b->stop, true);
	pthread_join(st, NULL);
	for (uint32_t k = 0; k < b->conns; k++)
		cli_conn_close(&sc[k].cn);

	elapsed = b->last_commit > 0 ? b->last_commit : now_s(&b->t0);
	if (elapsed < 2.0 * warm)
		warm = 0;
	for (uint32_t i = 0; i < b->n; i++) {
		if (b->done[i] > 0)
			ncommitted++;
		if (b->done[i] > 0 && b->done[i] >= warm)
			nwindow++;
		if (b->done[i] > 0 && b->sent[i] >= warm)
			lat[nlat++] = (b->done[i] - b->sent[i]) * 1000.0;
	}
	if (logf != NULL) {
		int wrv = write_latency_log(b, logf);
		logf = NULL;
		if (wrv != 0)
			cli_err(c, "bench: cannot write %s: %s", log_s,
				strerror(errno));
		log_bad = wrv != 0;
	}
	qsort(lat, nlat, sizeof *lat, cmp_double);
	{
		double p50 = nlat ? lat[nlat / 2] : 0,
		       p90 = nlat ? lat[(size_t)(nlat * 0.9)] : 0;
		double p99 = nlat ? lat[(size_t)(nlat * 0.99)] : 0,
		       mx = nlat ? lat[nlat - 1] : 0;
		double tps =
		    elapsed > warm ? (double)nwindow / (elapsed - warm) : 0;
		uint64_t sub = atomic_load(&b->submitted),
			 ok = atomic_load(&b->ok),
			 ref = atomic_load(&b->refused);
		if (c->json) {
			json_t *o = json_pack(
			    "{s:s, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:f, "
			    "s:I, "
			    "s:{s:f, s:f, s:f, s:f}, s:I, s:I, s:f}",
			    "mode", rate ? "open" : "closed", "submitted",
			    (json_int_t)sub, "committed",
			    (json_int_t)ncommitted, "committed_ok",
			    (json_int_t)ok, "refused", (json_int_t)ref,
			    "connections", (json_int_t)b->conns, "seconds",
			    elapsed, "warmup_s", (double)warm,
			    "committed_tx_per_s", tps, "latency_samples",
			    (json_int_t)nlat, "latency_ms", "p50", p50, "p90",
			    p90, "p99", p99, "max", mx, "batch",
			    (json_int_t)b->batch, "customers",
			    (json_int_t)ncust, "rate", (double)rate);
			json_t *nodes = bench_nodes_json(&bn, ncommitted);
			json_object_set_new(
			    o, "signing",
			    json_pack("{s:I, s:f, s:f}", "txs",
				      (json_int_t)b->n, "seconds", sign_s,
				      "per_s", sign_s > 0 ? b->n / sign_s : 0));
			json_object_update(o, nodes);
			json_decref(nodes);
			cli_print_json(c, o);
			json_decref(o);
		} else {
			fprintf(
			    c->out,
			    "bench (%s loop%s, %u connections, batches of "
			    "%u, %u customers)\n"
			    "submitted     %llu\ncommitted     %u (%llu "
			    "ok, %llu rejected), %llu refused\n"
			    "elapsed       %.2f s (the first %u s left out)\n"
			    "throughput    %.0f committed tx/s\n"
			    "latency ms    p50 %.1f  p90 %.1f  p99 %.1f  "
			    "max %.1f\n",
			    rate ? "open" : "closed",
			    rate ? (rate_s ? ", target rate" : "") : "",
			    b->conns, b->batch, ncust, (unsigned long long)sub,
			    ncommitted, (unsigned long long)ok,
			    (unsigned long long)(ncommitted - ok),
			    (unsigned long long)ref, elapsed, warm, tps, p50,
			    p90, p99, mx);
			fprintf(c->out,
				"signing       %u txs in %.2f s before the "
				"window (%.0f/s, not measured)\n",
				b->n, sign_s, sign_s > 0 ? b->n / sign_s : 0);
			bench_nodes_print(c->out, &bn, ncommitted);
		}
		rv = ncommitted > 0 && !log_bad ? CLI_OK : CLI_FAIL;
	}
out:
	if (logf != NULL)
		fclose(logf);
	cli_conn_close(&cn);
	cli_conn_close(&sa.cn);
	for (uint32_t i = 0; i < nsetup; i++)
		loy_buf_free(&setup[i]);
	for (uint32_t i = 0; b->txs && i < b->n; i++)
		loy_buf_free(&b->txs[i]);
	for (uint32_t k = 0; k < MAX_CONNS; k++)
		free(b->order[k]);
	if (csk)
		loy_wipe(csk, ncust * sizeof *csk);
	loy_wipe(tsk, sizeof tsk);
	free(csk);
	free(cnonce);
	free(setup);
	free(b->txs);
	free(b->index);
	free(b->sent);
	free(b->done);
	free(lat);
	pthread_cond_destroy(&b->room);
	pthread_mutex_destroy(&b->room_lock);
	free(b);
	return rv;
}
