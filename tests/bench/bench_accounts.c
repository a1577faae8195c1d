/* Fills a local test network (loyctl testnet) with many registered
 * customers before its nodes first start, so that `make bench` can measure
 * the nodes' memory with a million accounts without spending minutes of
 * consensus on registrations. The chain is real: customer.register
 * transactions signed by each customer's key, in blocks built and certified
 * with the validators' keys from the testnet folder, applied through the
 * ledger API into node 1's data directory, which is then copied to the
 * others (every node holds the same blocks, as after a sync).
 *
 * Usage: bench_accounts TESTNET_DIR ACCOUNTS
 * Prints progress on stderr and one JSON line on stdout. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ledger/builder.h"
#include "ledger/genesis_json.h"
#include "ledger/ledger.h"
#include "ledger/query.h"
#include "wire/crypto.h"
#include "wire/error.h"
#include "wire/tx.h"

#define PER_BLOCK 4096u
#define MAPSIZE   (4096ull << 20) /* loyd's default map_size_mb */
#define SIGNERS   2u

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "bench_accounts: %s%s%s\n", what, detail ? ": " : "",
		detail ? detail : "");
	exit(1);
}

struct sign_part {
	const char *chain;
	uint32_t first, count; /* customer indexes */
	struct loy_buf *out;
	int rc;
};

/* Customer i's key comes from a seed made of i: the same run after run. */
static void *sign_range(void *arg)
{
	struct sign_part *p = arg;
	for (uint32_t k = 0; k < p->count && p->rc == 0; k++) {
		uint32_t i = p->first + k;
		uint8_t seed[LOY_SEED_SIZE] = {0}, pk[LOY_PUBKEY_SIZE],
			sk[LOY_SECKEY_SIZE];
		struct loy_tx tx;
		memcpy(seed, "accounts", 8);
		for (int b = 0; b < 4; b++)
			seed[8 + b] = (uint8_t)(i >> (8 * b));
		loy_keypair_from_seed(pk, sk, seed);
		memset(&tx, 0, sizeof tx);
		tx.kind = LOY_TX_CUSTOMER_REGISTER;
		snprintf(tx.chain_id, sizeof tx.chain_id, "%s", p->chain);
		tx.nonce = 1;
		snprintf(tx.u.customer_register.memo,
			 sizeof tx.u.customer_register.memo, "account %u", i);
		p->rc = loy_tx_sign(&tx, sk);
		if (p->rc == 0)
			p->rc = loy_tx_encode(&tx, &p->out[k]);
		loy_tx_free(&tx);
		loy_wipe(sk, sizeof sk);
	}
	return NULL;
}

static void sign_block(const char *chain, uint32_t first, uint32_t n,
		       struct loy_buf *out)
{
	pthread_t th[SIGNERS];
	struct sign_part parts[SIGNERS];
	uint32_t per = (n + SIGNERS - 1) / SIGNERS;

	for (uint32_t t = 0; t < SIGNERS; t++) {
		uint32_t lo = t * per < n ? t * per : n;
		uint32_t hi = lo + per < n ? lo + per : n;
		parts[t] =
		    (struct sign_part){chain, first + lo, hi - lo, out + lo, 0};
		if (pthread_create(&th[t], NULL, sign_range, &parts[t]) != 0)
			die("thread", strerror(errno));
	}
	for (uint32_t t = 0; t < SIGNERS; t++) {
		pthread_join(th[t], NULL);
		if (parts[t].rc != 0)
			die("sign", loy_strerror(parts[t].rc));
	}
}

static char *read_line(const char *path)
{
	static char buf[1024];
	FILE *f = fopen(path, "r");
	if (f == NULL || fgets(buf, sizeof buf, f) == NULL)
		die("read", path);
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	return buf;
}

static void copy_file(const char *from, const char *to)
{
	char buf[1 << 16];
	int in = open(from, O_RDONLY), out;
	ssize_t n;

	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (in < 0 || out < 0)
		die("copy", to);
	while ((n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, (size_t)n) != n)
			die("copy", to);
	if (n < 0 || fsync(out) != 0)
		die("copy", to);
	close(in);
	close(out);
}

int main(int argc, char **argv)
{
	static struct loy_genesis g;
	uint8_t sks[LOY_MAX_VALIDATORS][LOY_SECKEY_SIZE];
	struct loy_buf *txs, block, cert;
	struct loy_tx_result *res;
	struct loy_ledger *l;
	char path[1200], err[512], pass[1024];
	uint32_t total, done = 0, blocks = 0;
	uint64_t time_ms;
	double t0 = now_s(), t_sign = 0, t_apply = 0;
	int rc;

	if (argc != 3 || (total = (uint32_t)strtoul(argv[2], NULL, 10)) == 0) {
		fprintf(stderr, "usage: bench_accounts TESTNET_DIR ACCOUNTS\n");
		return 2;
	}
	snprintf(path, sizeof path, "%s/genesis.json", argv[1]);
	if (loy_genesis_load(&g, path, err, sizeof err) != 0)
		die("genesis", err);
	snprintf(path, sizeof path, "%s/passphrase", argv[1]);
	snprintf(pass, sizeof pass, "%s", read_line(path));
	for (uint32_t i = 0; i < g.member_count; i++) {
		snprintf(path, sizeof path, "%s/node%u/validator.key", argv[1],
			 i + 1);
		if (loy_keyfile_read(path, pass, 0, sks[i]) != 0)
			die("key file", path);
	}
	snprintf(path, sizeof path, "%s/node1/data", argv[1]);
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		die("mkdir", path);
	rc = loy_ledger_open(path, LOY_LEDGER_NOSYNC, MAPSIZE, &l, err,
			     sizeof err);
	if (rc != 0)
		die("open", err);
	if (loy_ledger_tip(l, NULL, NULL, NULL, NULL) != LOY_ENOTFOUND)
		die("open", "node 1 already holds a chain: use a new testnet");
	if (loy_ledger_init_genesis(l, &g) != 0)
		die("genesis", loy_ledger_errmsg(l));
	txs = calloc(PER_BLOCK, sizeof *txs);
	res = calloc(PER_BLOCK, sizeof *res);
	if (txs == NULL || res == NULL)
		die("memory", NULL);
	/* block times: one millisecond apart, ending before now (a node
	 * refuses a next block older than its tip) */
	time_ms = (uint64_t)time(NULL) * 1000 - (total / PER_BLOCK + 2) - 1000;
	if (time_ms <= g.time_ms)
		time_ms = g.time_ms + 1;
	while (done < total) {
		uint32_t n =
		    total - done < PER_BLOCK ? total - done : PER_BLOCK;
		double t1 = now_s();
		sign_block(g.chain_id, done, n, txs);
		t_sign += now_s() - t1;
		t1 = now_s();
		rc = loy_ledger_build_block(
		    l, txs, n, ++time_ms, 0, sks[blocks % g.member_count],
		    (const uint8_t(*)[LOY_SECKEY_SIZE])sks, g.member_count,
		    &block, &cert, res);
		if (rc != 0)
			die("build block", loy_ledger_errmsg(l));
		for (uint32_t i = 0; i < n; i++) {
			if (res[i].code != LOY_REJ_OK)
				die("build block", res[i].msg);
			loy_buf_free(&txs[i]);
		}
		rc = loy_ledger_apply_block(l, block.data, block.len, cert.data,
					    cert.len, LOY_APPLY_TRUST_CERT,
					    NULL);
		if (rc != 0)
			die("apply block", loy_ledger_errmsg(l));
		loy_buf_free(&block);
		loy_buf_free(&cert);
		t_apply += now_s() - t1;
		done += n;
		blocks++;
		if (blocks % 25 == 0 || done == total)
			fprintf(stderr,
				"bench_accounts: %u of %u accounts "
				"registered (%u blocks)\n",
				done, total, blocks);
	}
	if (loy_ledger_sync(l) != 0)
		die("sync", NULL);
	/* the history index too, as a node that applied these blocks has it
	 * (its pool keeps it current); close writes it to disk */
	if (loy_ledger_history_index(l, 0, NULL, err, sizeof err) != 0)
		die("history index", err);
	loy_ledger_close(l);
	for (uint32_t i = 1; i < g.member_count; i++) {
		char from[1200], to[1200];
		snprintf(to, sizeof to, "%s/node%u/data", argv[1], i + 1);
		if (mkdir(to, 0700) != 0 && errno != EEXIST)
			die("mkdir", to);
		snprintf(from, sizeof from, "%s/node1/data/data.mdb", argv[1]);
		snprintf(to, sizeof to, "%s/node%u/data/data.mdb", argv[1],
			 i + 1);
		copy_file(from, to);
		snprintf(from, sizeof from, "%s/node1/data/history.mdb",
			 argv[1]);
		snprintf(to, sizeof to, "%s/node%u/data/history.mdb", argv[1],
			 i + 1);
		copy_file(from, to);
	}
	for (uint32_t i = 0; i < g.member_count; i++)
		loy_wipe(sks[i], sizeof sks[i]);
	snprintf(path, sizeof path, "%s/node1/data/data.mdb", argv[1]);
	{
		struct stat st;
		long long mib = stat(path, &st) == 0 ? st.st_size >> 20 : -1;
		printf(
		    "{\"accounts\": %u, \"blocks\": %u, \"store_mib\": %lld, "
		    "\"sign_s\": %.1f, \"apply_s\": %.1f, \"total_s\": "
		    "%.1f}\n",
		    total, blocks, mib, t_sign, t_apply, now_s() - t0);
	}
	free(txs);
	free(res);
	return 0;
}
