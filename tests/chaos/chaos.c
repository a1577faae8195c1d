/* Fault campaign: a 4-node loyd cluster under load, perturbed cycle after
 * cycle, then checked: nothing acknowledged lost or duplicated, identical
 * chains, audits pass. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ledger/query_kinds.h"
#include "tests/integration/itest.h"
#include "wire/crypto.h"
#include "wire/error.h"
#include "wire/tx.h"

#define NODES 4
#define HASH  32

enum kind { K_KILL9, K_STOP, K_TERM, K_LEADER, K_PARTITION, K_WIPE, K_COUNT };

static const char *const kind_name[K_COUNT] = {
    "kill -9 + restart", "SIGSTOP/SIGCONT", "SIGTERM + restart",
    "leader kill -9",    "partition",       "wiped data dir",
};

static struct {
	int cycles;
	uint64_t seed;
	bool short_run;
	bool no_damage; /* skip the flipped-byte/truncation trials */
	const char *loyd, *loyctl;
	int storage_kills;
	int hold_ms, stop_ms; /* how long a node stays perturbed */
	int load_threads, batch, pause_ms, submit_timeout_ms;
	size_t max_txs;
	int recover_timeout_ms;
} opt;

static struct it_cluster cl;
static int passed, failed;
static bool partition_hook;

#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		if (cond) {                                                    \
			passed++;                                              \
		} else {                                                       \
			failed++;                                              \
			fprintf(stderr, "chaos: FAIL %s:%d: ", __FILE__,       \
				__LINE__);                                     \
			fprintf(stderr, __VA_ARGS__);                          \
			fprintf(stderr, "\n");                                 \
		}                                                              \
	} while (0)

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(int ms)
{
	if (ms > 0)
		usleep((useconds_t)ms * 1000u);
}

/* --- seeded randomness (splitmix64) --- */

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rng_main;

static int rng_below(int n)
{
	return (int)(rng_next(&rng_main) % (uint64_t)n);
}

/* --- acknowledged transactions --- */

static struct it_acked ack;

static void hex_bin(uint8_t *out, const char *hex, size_t n)
{
	for (size_t b = 0; b < n; b++) {
		unsigned v = 0;
		if (sscanf(hex + 2 * b, "%2x", &v) != 1)
			v = 0;
		out[b] = (uint8_t)v;
	}
}

static void bin_hex(char *out, const uint8_t *in, size_t n)
{
	for (size_t b = 0; b < n; b++)
		snprintf(out + 2 * b, 3, "%02x", in[b]);
}

static bool faulted[IT_MAX_NODES]; /* the load avoids these nodes */

static bool up(int i)
{
	return cl.nodes[i - 1].pid != 0;
}

/* Submits count fresh customer registrations to node i with wait and
 * records the acknowledged ones. */
static int submit_regs(int i, uint32_t count, int timeout_ms)
{
	return it_submit_registrations(&cl, i, count, timeout_ms, &ack);
}

/* --- steady load: a few client threads, bounded in count and time --- */

static volatile int load_stop;
static uint64_t load_deadline;

static void *load_main(void *arg)
{
	uint64_t s = opt.seed ^ (uint64_t)(uintptr_t)arg * 0x1234567ull;

	while (!load_stop && now_ms() < load_deadline) {
		int i = 1 + (int)(rng_next(&s) % NODES);
		size_t sent;
		pthread_mutex_lock(&ack.lock);
		sent = ack.sent;
		pthread_mutex_unlock(&ack.lock);
		if (sent >= opt.max_txs)
			break;
		if (!up(i) || faulted[i - 1]) {
			sleep_ms(5);
			continue;
		}
		submit_regs(i, (uint32_t)opt.batch, opt.submit_timeout_ms);
		sleep_ms(opt.pause_ms);
	}
	return NULL;
}

/* --- cluster views --- */

static long max_height_except(int skip)
{
	long top = -1;

	for (int i = 1; i <= NODES; i++) {
		long h;
		if (i == skip || !up(i) || faulted[i - 1])
			continue;
		h = it_height(&cl, i, NULL);
		if (h > top)
			top = h;
	}
	return top;
}

static int leader_index(void)
{
	struct loy_client_request q;
	char *js = NULL, *p;
	int idx = -1;

	memset(&q, 0, sizeof q);
	q.kind = LOY_CLIENT_STATUS;
	for (int i = 1; i <= NODES && idx < 0; i++) {
		if (!up(i) || faulted[i - 1] ||
		    it_request(&cl, i, &q, &js, 2000) != 0)
			continue;
		p = js ? strstr(js, "\"leader\":\"") : NULL;
		for (int k = 1; p && k <= NODES; k++) {
			uint8_t pk[32];
			char hex[65];
			loy_seckey_pubkey(pk, cl.sk[k - 1]);
			bin_hex(hex, pk, 32);
			if (strncmp(p + 10, hex, 64) == 0)
				idx = k;
		}
		free(js);
		js = NULL;
	}
	return idx;
}

/* The last len bytes of node i's log, NUL-terminated, in buf. */
static void log_tail(int i, char *buf, size_t len)
{
	char path[600];
	long size;
	size_t r = 0;
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof path, "%s/loyd.log", cl.nodes[i - 1].dir);
	f = fopen(path, "r");
	if (f == NULL)
		return;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	if (size > (long)len - 1)
		fseek(f, size - ((long)len - 1), SEEK_SET);
	else
		fseek(f, 0, SEEK_SET);
	r = fread(buf, 1, len - 1, f);
	buf[r] = '\0';
	fclose(f);
}

/* The last line of text in buf (modifies buf). */
static const char *last_line(char *buf)
{
	size_t n = strlen(buf);
	char *p;

	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	p = strrchr(buf, '\n');
	return p ? p + 1 : buf;
}

/* The line explaining a failed start among what node i logged after byte
 * off: loyd's own "loyd: ..." line, else the last error, else the last. */
static bool started_before; /* set by start_reason: the node had started */

static void start_reason(int i, long off, char *out, size_t len)
{
	char path[600], buf[8192], *line, *save = NULL;
	const char *pick = NULL, *err = NULL, *last = NULL;
	size_t r = 0;
	FILE *f;

	snprintf(out, len, "(nothing logged)");
	started_before = false;
	snprintf(path, sizeof path, "%s/loyd.log", cl.nodes[i - 1].dir);
	f = fopen(path, "r");
	if (f == NULL)
		return;
	fseek(f, off, SEEK_SET);
	r = fread(buf, 1, sizeof buf - 1, f);
	buf[r] = '\0';
	fclose(f);
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "loyd: ", 6) == 0 &&
		    !strstr(line, "fault signals"))
			pick = line;
		if (strstr(line, "node: started"))
			started_before = true;
		if (strstr(line, " error") || strstr(line, "ERR") ||
		    strstr(line, "err "))
			err = line;
		last = line;
	}
	pick = err ? err : pick ? pick : last;
	if (pick)
		snprintf(out, len, "%s", pick);
}

static long log_size(int i)
{
	char path[600];
	struct stat sb;

	snprintf(path, sizeof path, "%s/loyd.log", cl.nodes[i - 1].dir);
	return stat(path, &sb) == 0 ? (long)sb.st_size : 0;
}

/* Whether node i's process has exited; reaps it (pid 0 after). */
static bool exited(int i, int *status)
{
	struct it_node *nd = &cl.nodes[i - 1];
	int st = 0;

	if (nd->pid == 0)
		return true;
	if (waitpid(nd->pid, &st, WNOHANG) == nd->pid) {
		nd->pid = 0;
		if (status)
			*status = WIFEXITED(st) ? WEXITSTATUS(st)
						: 128 + WTERMSIG(st);
		return true;
	}
	return false;
}

/* Waits until node i answers STATUS; false if it exits or time runs out. */
static bool wait_answers(int i, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;

	while (now_ms() < deadline) {
		if (exited(i, NULL))
			return false;
		if (it_height(&cl, i, NULL) >= 0)
			return true;
		sleep_ms(20);
	}
	return false;
}

/* Recovery: from now until the cluster has committed past the height the
 * others had now and node i holds that block too. Seconds, or -1. */
static double recover(int i)
{
	uint64_t t0 = now_ms(),
		 deadline = t0 + (uint64_t)opt.recover_timeout_ms;
	long h0 = max_height_except(i);

	while (now_ms() < deadline) {
		long hi = it_height(&cl, i, NULL);
		if (h0 >= 0 && hi >= h0 + 1 && max_height_except(i) >= h0 + 1)
			return (double)(now_ms() - t0) / 1000.0;
		if (h0 < 0)
			h0 = max_height_except(i);
		sleep_ms(20);
	}
	return -1;
}

/* Block hash and state root of height h on node i ("" when unreachable);
 * the whole JSON in *out when out is not NULL (caller frees). */
static int block_at(int i, long h, char hash[65], char root[65], char **out)
{
	struct loy_client_request q;
	char *js = NULL, *p;
	int code;

	hash[0] = root[0] = '\0';
	memset(&q, 0, sizeof q);
	q.kind = LOY_CLIENT_QUERY;
	q.query.kind = LOY_Q_BLOCK;
	q.query.arg_count = 1;
	q.query.args[0].type = LOY_ARG_UINT;
	q.query.args[0].u = (uint64_t)h;
	code = it_request(&cl, i, &q, &js, 5000);
	if (code == 0 && js) {
		if ((p = strstr(js, "\"hash\":\"")) != NULL)
			snprintf(hash, 65, "%.64s", p + 8);
		if ((p = strstr(js, "\"state_root\":\"")) != NULL)
			snprintf(root, 65, "%.64s", p + 14);
	}
	if (out)
		*out = js;
	else
		free(js);
	return code;
}

static int run_loyctl_audit(int i, char *msg, size_t msg_len)
{
	char cmd[2400], out[600], buf[2048];
	int rc;

	snprintf(out, sizeof out, "%s/audit.out", cl.nodes[i - 1].dir);
	snprintf(cmd, sizeof cmd,
		 "'%s' audit --data-dir '%s/data' --genesis '%s/genesis.json' "
		 "> '%s' 2>&1",
		 opt.loyctl, cl.nodes[i - 1].dir, cl.root, out);
	rc = system(cmd);
	rc = rc == -1 ? -1 : WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
	buf[0] = '\0';
	{
		FILE *f = fopen(out, "r");
		if (f) {
			size_t r = fread(buf, 1, sizeof buf - 1, f);
			buf[r] = '\0';
			fclose(f);
		}
	}
	/* the report after the progress lines, on one line */
	{
		const char *l = strstr(buf, "audit passed"), *cr;
		if (l == NULL)
			l = strstr(buf, "loyctl: audit");
		if (l == NULL)
			l = (cr = strrchr(buf, '\r')) != NULL ? cr + 1 : buf;
		size_t o = 0;
		bool sp = false;
		for (; *l && o + 1 < msg_len; l++) {
			bool ws = *l == ' ' || *l == '\n' || *l == '\t';
			if (ws && (sp || o == 0))
				continue;
			msg[o++] = ws ? ' ' : *l;
			sp = ws;
		}
		msg[o] = '\0';
	}
	{
		char *a = strstr(msg, "audit passed");
		if (a == NULL)
			a = strstr(msg, "audit failed");
		if (a && a != msg)
			memmove(msg, a, strlen(a) + 1);
	}
	return rc;
}

/* --- the perturbation cycles --- */

static double rec_times[K_COUNT][256];
static int rec_count[K_COUNT], kind_runs[K_COUNT], kind_missing[K_COUNT];

/* A probe while the fault is on: the others still commit. */
static void probe_commits(int skip, const char *what)
{
	int other = skip % NODES + 1;
	uint64_t t0 = now_ms();
	int ok;

	while (!up(other) || faulted[other - 1])
		other = other % NODES + 1;
	ok = submit_regs(other, 5, 20000);
	CHECK(ok == 5,
	      "%s on node %d: the other three commit (%d of 5 in %.2f s)", what,
	      skip, ok, (double)(now_ms() - t0) / 1000.0);
}

static void wipe_data(int i)
{
	char cmd[700];
	snprintf(cmd, sizeof cmd, "rm -rf '%s/data'", cl.nodes[i - 1].dir);
	CHECK(system(cmd) == 0, "wipe node %d's data directory", i);
}

static void run_cycle(int cycle, enum kind k)
{
	int i = 1 + rng_below(NODES), rc;
	double r;

	if (k == K_LEADER) {
		int l = leader_index();
		if (l < 1) {
			CHECK(0, "cycle %d: no node names the leader", cycle);
			return;
		}
		i = l;
	}
	if (k == K_PARTITION && !partition_hook) {
		kind_missing[k]++;
		printf("chaos: cycle %d: partition of node %d: NOT RUN (loyd "
		       "has no fault hook)\n",
		       cycle, i);
		return;
	}
	kind_runs[k]++;
	faulted[i - 1] = true;
	switch (k) {
	case K_KILL9:
	case K_LEADER:
		CHECK(it_node_signal(&cl, i, SIGKILL) >= 0, "kill -9 node %d",
		      i);
		probe_commits(i, kind_name[k]);
		sleep_ms(opt.hold_ms);
		CHECK(it_node_start(&cl, i) == 0, "restart node %d", i);
		break;
	case K_STOP:
		CHECK(kill(cl.nodes[i - 1].pid, SIGSTOP) == 0,
		      "SIGSTOP node %d", i);
		probe_commits(i, kind_name[k]);
		sleep_ms(opt.stop_ms);
		CHECK(kill(cl.nodes[i - 1].pid, SIGCONT) == 0,
		      "SIGCONT node %d", i);
		break;
	case K_TERM:
		rc = it_node_signal(&cl, i, SIGTERM);
		CHECK(rc == 0, "SIGTERM: node %d exits 0 (got %d)", i, rc);
		probe_commits(i, kind_name[k]);
		sleep_ms(opt.hold_ms);
		CHECK(it_node_start(&cl, i) == 0, "restart node %d", i);
		break;
	case K_PARTITION:
		CHECK(kill(cl.nodes[i - 1].pid, SIGUSR1) == 0,
		      "isolate node %d", i);
		sleep_ms(100);
		{
			/* a real cut: the others move on, the isolated node
			 * does not */
			long hp = it_height(&cl, i, NULL), ho;
			probe_commits(i, kind_name[k]);
			sleep_ms(opt.stop_ms);
			ho = max_height_except(i);
			CHECK(it_height(&cl, i, NULL) <= hp + 1 && ho > hp + 1,
			      "partition is real: node %d stays at %ld while "
			      "the others reach %ld",
			      i, it_height(&cl, i, NULL), ho);
		}
		CHECK(kill(cl.nodes[i - 1].pid, SIGUSR2) == 0, "heal node %d",
		      i);
		break;
	case K_WIPE:
		CHECK(it_node_signal(&cl, i, SIGKILL) >= 0, "kill -9 node %d",
		      i);
		wipe_data(i);
		probe_commits(i, kind_name[k]);
		sleep_ms(opt.hold_ms);
		CHECK(it_node_start(&cl, i) == 0, "start node %d empty", i);
		break;
	default:
		break;
	}
	faulted[i - 1] = false;
	r = recover(i);
	CHECK(r >= 0, "cycle %d: node %d recovers after %s within %d s", cycle,
	      i, kind_name[k], opt.recover_timeout_ms / 1000);
	if (r >= 0 && rec_count[k] < 256)
		rec_times[k][rec_count[k]++] = r;
	printf("chaos: cycle %d: %-18s node %d: recovered in %s%.2f s (height "
	       "%ld)\n",
	       cycle, kind_name[k], i, r < 0 ? "NOT " : "", r < 0 ? 0 : r,
	       it_height(&cl, i, NULL));
	fflush(stdout);
}

/* --- storage faults --- */

static int storage_reopen_ok, storage_consistent, storage_runs;

/* kill -9 a node while blocks commit under load, restart it: it must open,
 * its tip must be a whole block the others agree on, and it catches up. */
static void storage_kill_during_commits(int count)
{
	for (int k = 0; k < count; k++) {
		int i = 1 + rng_below(NODES), st = 0;
		long target, hi;
		char hash[65], root[65], ohash[65], oroot[65], sroot[65];
		int other = 0;

		sleep_ms(20 + rng_below(250));
		storage_runs++;
		it_node_signal(&cl, i, SIGKILL);
		target = max_height_except(i);
		if (it_node_start(&cl, i) != 0 || !wait_answers(i, 10000)) {
			char tail[2048];
			exited(i, &st);
			log_tail(i, tail, sizeof tail);
			CHECK(0,
			      "storage kill %d: node %d reopens after kill -9 "
			      "(exit %d: %s)",
			      k + 1, i, st, last_line(tail));
			if (cl.nodes[i - 1].pid == 0)
				it_node_start(&cl, i);
			continue;
		}
		storage_reopen_ok++;
		hi = it_height(&cl, i, sroot);
		block_at(i, hi, hash, root, NULL);
		/* a peer that has that height too */
		for (uint64_t dl = now_ms() + 5000; other == 0 && now_ms() < dl;
		     sleep_ms(20))
			for (int o = 1; o <= NODES && other == 0; o++)
				if (o != i && up(o) &&
				    it_height(&cl, o, NULL) >= hi)
					other = o;
		ohash[0] = oroot[0] = '\0';
		if (other)
			block_at(other, hi, ohash, oroot, NULL);
		if (hi >= 0 &&
		    (hi == 0 ||
		     (hash[0] && strcmp(hash, ohash) == 0 &&
		      strcmp(root, oroot) == 0 && strcmp(root, sroot) == 0)))
			storage_consistent++;
		else
			CHECK(0,
			      "storage kill %d: node %d's tip %ld is a whole "
			      "agreed block "
			      "(%.16s vs %.16s, root %.16s vs %.16s)",
			      k + 1, i, hi, hash, ohash, root, oroot);
		/* back in step before the next one */
		{
			uint64_t deadline = now_ms() + 15000;
			while (now_ms() < deadline &&
			       it_height(&cl, i, NULL) < target)
				sleep_ms(20);
			CHECK(it_height(&cl, i, NULL) >= target,
			      "storage kill %d: node %d catches up to %ld",
			      k + 1, i, target);
		}
	}
	printf("chaos: storage: kill -9 during commits: reopened %d/%d, tip "
	       "consistent %d/%d\n",
	       storage_reopen_ok, storage_runs, storage_consistent,
	       storage_runs);
}

enum damage { D_FLIP_MIDDLE, D_FLIP_LAST_PAGE, D_TRUNCATE };

static const char *const damage_name[] = {
    "one byte flipped in the middle of data.mdb",
    "one byte flipped in the last page of data.mdb",
    "data.mdb truncated to half its size",
};

/* Damages node i's stopped store, starts it and reports what loyd does: it
 * must refuse with a clear message or resync; serving from the damaged
 * store is a finding. Then wipes and resyncs the node. */
static void storage_damage(int i, enum damage d, char *verdict, size_t vlen)
{
	char path[600], tail[4096], msg[512];
	struct stat sb;
	int st = -1, fd;
	off_t at = 0;
	long log_off;
	uint64_t deadline;

	faulted[i - 1] = true;
	CHECK(it_node_signal(&cl, i, SIGTERM) == 0,
	      "stop node %d for storage damage", i);
	snprintf(path, sizeof path, "%s/data/data.mdb", cl.nodes[i - 1].dir);
	if (stat(path, &sb) != 0 || sb.st_size < 4 * 4096) {
		CHECK(0, "%s: missing or too small", path);
		faulted[i - 1] = false;
		it_node_start(&cl, i);
		return;
	}
	if (d == D_TRUNCATE) {
		at = (sb.st_size / 2) & ~(off_t)4095;
		CHECK(truncate(path, at) == 0, "truncate %s", path);
	} else {
		uint8_t b = 0;
		/* never the two meta pages at the start */
		at = d == D_FLIP_MIDDLE ? sb.st_size / 2 + 100
					: sb.st_size - 4096 + 100;
		fd = open(path, O_RDWR);
		if (fd < 0 || pread(fd, &b, 1, at) != 1) {
			CHECK(0, "read %s", path);
		} else {
			b ^= 0xff;
			CHECK(pwrite(fd, &b, 1, at) == 1, "flip a byte of %s",
			      path);
		}
		if (fd >= 0)
			close(fd);
	}
	log_off = log_size(i);
	it_node_start(&cl, i);
	deadline = now_ms() + 4000;
	while (now_ms() < deadline && !exited(i, &st))
		sleep_ms(50);
	start_reason(i, log_off, tail, sizeof tail);
	if (cl.nodes[i - 1].pid == 0) {
		snprintf(verdict, vlen,
			 "offset %lld of %lld: %s (exit %d%s): %.600s",
			 (long long)at, (long long)sb.st_size,
			 st >= 128        ? "CRASHED at start"
			 : started_before ? "STARTED on it, then halted"
					  : "refused to start",
			 st,
			 st == 128 + SIGBUS    ? ", SIGBUS"
			 : st == 128 + SIGSEGV ? ", SIGSEGV"
					       : "",
			 tail);
		if (st >= 128)
			CHECK(0,
			      "node %d dies of signal %d on a damaged store "
			      "(%s) instead of "
			      "refusing with a clear message",
			      i, st - 128, damage_name[d]);
	} else {
		/* it runs: what does it serve, and does audit accept its store?
		 */
		char root[65] = "";
		long hi = it_height(&cl, i, root), unreadable = 0, differ = 0;
		int arc, ref = i % NODES + 1;
		for (long h = 1; h <= hi; h++) {
			char a[65], ra[65], b2[65], rb[65];
			if (block_at(i, h, a, ra, NULL) != 0 || !a[0]) {
				unreadable++;
				continue;
			}
			block_at(ref, h, b2, rb, NULL);
			if (strcmp(a, b2) != 0 || strcmp(ra, rb) != 0)
				differ++;
		}
		arc = run_loyctl_audit(i, msg, sizeof msg);
		sleep_ms(300);
		snprintf(verdict, vlen,
			 "offset %lld of %lld: STARTED (%s): status height "
			 "%ld; of blocks 1..%ld "
			 "%ld unreadable and %ld different from node %d; "
			 "loyctl audit of the store: "
			 "exit %d: %s",
			 (long long)at, (long long)sb.st_size,
			 exited(i, &st) ? "then died" : "still running", hi, hi,
			 unreadable, differ, ref, arc, msg);
		if (arc != 0 || differ != 0)
			CHECK(0,
			      "node %d starts and serves from a damaged store "
			      "(%s); "
			      "loyd must refuse or resync",
			      i, damage_name[d]);
		if (cl.nodes[i - 1].pid)
			it_node_signal(&cl, i, SIGKILL);
	}
	/* restore it: wipe and resync from the others */
	wipe_data(i);
	faulted[i - 1] = false;
	CHECK(it_node_start(&cl, i) == 0,
	      "start node %d empty after storage damage", i);
	CHECK(recover(i) >= 0, "node %d resyncs after storage damage", i);
}

/* --- final checks --- */

struct loc {
	uint8_t h[HASH];
	long height;
	int pos;
};

static int loc_cmp(const void *a, const void *b)
{
	return memcmp(((const struct loc *)a)->h, ((const struct loc *)b)->h,
		      HASH);
}

static int hash_cmp(const void *a, const void *b)
{
	return memcmp(a, b, HASH);
}

static size_t lost, duplicated, misplaced;

static void final_checks(void)
{
	struct loc *chain = NULL;
	size_t n_chain = 0, cap_chain = 0, q_fail = 0, dup_any = 0;
	long top;
	long differ = 0;

	CHECK(it_wait_converged(&cl, 1, 30000),
	      "all four nodes converge after the campaign");
	top = it_height(&cl, 1, NULL);
	/* block by block: same hash and state root everywhere; collect the txs
	 */
	for (long h = 1; h <= top; h++) {
		char first[65] = "", froot[65] = "";
		for (int i = 1; i <= NODES; i++) {
			char hash[65], root[65], *js = NULL, *p;
			block_at(i, h, hash, root, i == 1 ? &js : NULL);
			if (i == 1) {
				snprintf(first, sizeof first, "%s", hash);
				snprintf(froot, sizeof froot, "%s", root);
				p = js ? strstr(js, "\"txs\":") : NULL;
				p = p ? strchr(p, '[') : NULL;
				for (int pos = 0; p && *p && *p != ']';) {
					p++;
					while (*p == ' ' || *p == ',' ||
					       *p == '\n')
						p++;
					if (*p != '"' || strlen(p) < 66 ||
					    p[65] != '"')
						break;
					if (n_chain == cap_chain) {
						size_t nc = cap_chain
								? cap_chain * 2
								: 8192;
						void *na = realloc(
						    chain, nc * sizeof *chain);
						if (na == NULL)
							abort();
						chain = na;
						cap_chain = nc;
					}
					hex_bin(chain[n_chain].h, p + 1, HASH);
					chain[n_chain].height = h;
					chain[n_chain].pos = pos++;
					n_chain++;
					p += 66;
					while (*p == ' ' || *p == '\n')
						p++;
					if (*p != ',')
						break;
				}
				free(js);
			}
			if (!hash[0] || strcmp(first, hash) != 0 ||
			    strcmp(froot, root) != 0)
				differ++;
		}
	}
	CHECK(top > 0 && differ == 0,
	      "identical block hashes and state roots at every height 1..%ld "
	      "on all nodes (%ld differ)",
	      top, differ);
	if (chain)
		qsort(chain, n_chain, sizeof *chain, loc_cmp);
	for (size_t k = 1; k < n_chain; k++)
		if (memcmp(chain[k].h, chain[k - 1].h, HASH) == 0)
			dup_any++;
	CHECK(dup_any == 0,
	      "no transaction appears twice in the chain (%zu repeats of %zu)",
	      dup_any, n_chain);
	/* each acknowledged hash: exactly once in the chain, and LOY_Q_TX on
	 * every node names the same place */
	qsort(ack.h, ack.n, HASH, hash_cmp);
	for (size_t k = 0; k < ack.n; k++) {
		struct loc key, *f;
		size_t lo, hi2, cnt;
		if (k > 0 && memcmp(ack.h[k], ack.h[k - 1], HASH) == 0) {
			duplicated++; /* acknowledged twice: never expected */
			continue;
		}
		memcpy(key.h, ack.h[k], HASH);
		f = n_chain
			? bsearch(&key, chain, n_chain, sizeof *chain, loc_cmp)
			: NULL;
		if (f == NULL) {
			lost++;
			continue;
		}
		lo = (size_t)(f - chain);
		hi2 = lo;
		while (lo > 0 && memcmp(chain[lo - 1].h, key.h, HASH) == 0)
			lo--;
		while (hi2 + 1 < n_chain &&
		       memcmp(chain[hi2 + 1].h, key.h, HASH) == 0)
			hi2++;
		cnt = hi2 - lo + 1;
		if (cnt > 1)
			duplicated++;
		for (int i = 1; i <= NODES; i++) {
			struct loy_client_request q;
			char *js = NULL, *p;
			long qh = -1, qp = -1;
			memset(&q, 0, sizeof q);
			q.kind = LOY_CLIENT_QUERY;
			q.query.kind = LOY_Q_TX;
			q.query.arg_count = 1;
			q.query.args[0].type = LOY_ARG_BIN;
			q.query.args[0].len = HASH;
			memcpy(q.query.args[0].data, ack.h[k], HASH);
			if (it_request(&cl, i, &q, &js, 5000) != 0 ||
			    js == NULL) {
				q_fail++;
				free(js);
				continue;
			}
			if ((p = strstr(js, "\"height\":")) != NULL)
				qh = strtol(p + 9, NULL, 10);
			if ((p = strstr(js, "\"position\":")) != NULL)
				qp = strtol(p + 11, NULL, 10);
			if (qh != chain[lo].height || qp != chain[lo].pos)
				misplaced++;
			free(js);
		}
	}
	CHECK(lost == 0, "acknowledged txs lost: %zu of %zu", lost, ack.n);
	CHECK(duplicated == 0, "acknowledged txs duplicated: %zu", duplicated);
	CHECK(q_fail == 0 && misplaced == 0,
	      "LOY_Q_TX finds every acknowledged tx on every node at its block "
	      "position "
	      "(%zu not found, %zu elsewhere)",
	      q_fail, misplaced);
	printf("chaos: chain: %ld blocks, %zu txs; %zu acknowledged txs "
	       "checked on %d nodes\n",
	       top, n_chain, ack.n, NODES);
	free(chain);
}

static void audits(void)
{
	for (int i = 1; i <= NODES; i++) {
		char msg[512];
		int rc = it_node_signal(&cl, i, SIGTERM);
		CHECK(rc == 0, "node %d stops cleanly at the end (exit %d)", i,
		      rc);
		rc = run_loyctl_audit(i, msg, sizeof msg);
		CHECK(rc == 0,
		      "loyctl audit of node %d's data dir: exit %d: %s", i, rc,
		      msg);
		printf("chaos: audit node %d: %s: %s\n", i,
		       rc == 0 ? "ok" : "FAILED", msg);
	}
}

/* --- report --- */

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void report(int cycles_run)
{
	printf("\nchaos: seed %llu, %d cycles run, %zu txs submitted, %zu "
	       "acknowledged, "
	       "%zu lost, %zu duplicated (%zu batches unanswered)\n",
	       (unsigned long long)opt.seed, cycles_run, ack.sent, ack.n, lost,
	       duplicated, ack.failed_batches);
	printf("chaos: recovery time per perturbation kind:\n");
	for (int k = 0; k < K_COUNT; k++) {
		if (kind_missing[k] && kind_runs[k] == 0) {
			printf("  %-20s MISSING: %d cycles not run (loyd has "
			       "no fault hook)\n",
			       kind_name[k], kind_missing[k]);
			continue;
		}
		if (rec_count[k] == 0) {
			printf("  %-20s %d runs, none recovered\n",
			       kind_name[k], kind_runs[k]);
			continue;
		}
		qsort(rec_times[k], (size_t)rec_count[k], sizeof(double),
		      dbl_cmp);
		printf("  %-20s %2d runs: median %.2f s, max %.2f s\n",
		       kind_name[k], kind_runs[k],
		       rec_times[k][rec_count[k] / 2],
		       rec_times[k][rec_count[k] - 1]);
	}
}

/* --- main --- */

static void on_interrupt(int sig)
{
	for (int i = 0; i < IT_MAX_NODES; i++)
		if (cl.nodes[i].pid > 0)
			kill(cl.nodes[i].pid, SIGKILL);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: chaos [--cycles N] [--seed S] [--short] "
		   "[--storage-kills N]\n"
		   "             [--no-damage] [--loyd PATH] [--loyctl PATH]\n"
		   "A 4-node loyd cluster on 127.0.0.1 under load, perturbed N "
		   "times on a\n"
		   "random node (kill -9, SIGSTOP, SIGTERM, leader kill, "
		   "partition, wiped data),\n"
		   "then storage faults; checks nothing acknowledged is lost "
		   "or duplicated,\n"
		   "identical chains everywhere, and loyctl audit on every "
		   "data dir.\n");
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
	    {"cycles", required_argument, NULL, 'n'},
	    {"seed", required_argument, NULL, 's'},
	    {"short", no_argument, NULL, 'S'},
	    {"storage-kills", required_argument, NULL, 'k'},
	    {"no-damage", no_argument, NULL, 'D'},
	    {"loyd", required_argument, NULL, 'd'},
	    {"loyctl", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	enum kind order[K_COUNT];
	pthread_t th[8];
	int c, cycles_run = 0, cycles_set = -1, kills_set = -1;
	bool seed_set = false;
	char verdicts[3][1400];
	uint64_t t_start = now_ms();

	opt.loyd = "build/bin/loyd";
	opt.loyctl = "build/bin/loyctl";
	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			cycles_set = atoi(optarg);
			break;
		case 's':
			opt.seed = strtoull(optarg, NULL, 0);
			seed_set = true;
			break;
		case 'S':
			opt.short_run = true;
			break;
		case 'k':
			kills_set = atoi(optarg);
			break;
		case 'D':
			opt.no_damage = true;
			break;
		case 'd':
			opt.loyd = optarg;
			break;
		case 'c':
			opt.loyctl = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!seed_set)
		opt.seed = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 16;
	rng_main = opt.seed;
	if (opt.short_run) {
		opt.cycles = K_COUNT;
		opt.storage_kills = 20;
		opt.hold_ms = 500;
		opt.stop_ms = 2000;
		opt.load_threads = 4;
		opt.batch = 10;
		opt.pause_ms = 10;
		opt.submit_timeout_ms = 5000;
		opt.max_txs = 20000;
		opt.recover_timeout_ms = 30000;
	} else {
		opt.cycles = 30;
		opt.storage_kills = 100;
		opt.hold_ms = 3000;
		opt.stop_ms = 10000;
		opt.load_threads = 4;
		opt.batch = 20;
		opt.pause_ms = 20;
		opt.submit_timeout_ms = 10000;
		opt.max_txs = 400000;
		opt.recover_timeout_ms = 60000;
	}
	if (cycles_set >= 0)
		opt.cycles = cycles_set;
	if (kills_set >= 0)
		opt.storage_kills = kills_set;
	if (opt.cycles > 1000)
		opt.cycles = 1000;
	printf("chaos: seed %llu (replay with --seed %llu%s), %d cycles, %d "
	       "storage kills\n",
	       (unsigned long long)opt.seed, (unsigned long long)opt.seed,
	       opt.short_run ? " --short" : "", opt.cycles, opt.storage_kills);
	fflush(stdout);

	signal(SIGINT, on_interrupt);
	signal(SIGTERM, on_interrupt);
	/* asks loyd for its test-only fault signals (SIGUSR1 isolates the node
	 * from its peers, SIGUSR2 heals); used only if its log confirms them */
	setenv("LOYD_FAULT_SIGNALS", "1", 1);
	it_acked_init(&ack);
	if (loy_crypto_init() != 0 ||
	    it_cluster_init(&cl, NODES, opt.loyd) != 0) {
		fprintf(stderr, "chaos: cannot set up the cluster\n");
		return 1;
	}
	for (int i = 1; i <= NODES; i++)
		if (it_node_start(&cl, i) != 0)
			failed++;
	CHECK(it_wait_converged(&cl, 0, 15000), "four nodes start and answer");
	{
		char tail[4096];
		log_tail(1, tail, sizeof tail);
		partition_hook = strstr(tail, "fault signals enabled") != NULL;
		printf("chaos: partition: %s\n",
		       partition_hook
			   ? "via loyd's fault signals (transport fault layer: "
			     "frames to and from all peers dropped)"
			   : "MISSING: this loyd has no way to cut its links "
			     "from outside");
	}

	/* steady load for the whole campaign (bounded) */
	load_deadline = now_ms() + (opt.short_run ? 180000u : 3600000u);
	for (int t = 0; t < opt.load_threads; t++)
		pthread_create(&th[t], NULL, load_main,
			       (void *)(uintptr_t)(t + 1));
	sleep_ms(500);

	for (int k = 0; k < K_COUNT; k++)
		order[k] = (enum kind)k;
	for (int cyc = 0; cyc < opt.cycles; cyc++) {
		enum kind k;
		if (cyc % K_COUNT ==
		    0) /* every kind once per round, shuffled */
			for (int a = K_COUNT - 1; a > 0; a--) {
				int b = rng_below(a + 1);
				enum kind tmp = order[a];
				order[a] = order[b];
				order[b] = tmp;
			}
		k = opt.short_run || cyc < K_COUNT
			? order[cyc % K_COUNT]
			: (enum kind)rng_below(K_COUNT);
		run_cycle(cyc + 1, k);
		cycles_run++;
	}

	printf("chaos: [%.1f s] cycles done\n",
	       (double)(now_ms() - t_start) / 1000.0);
	storage_kill_during_commits(opt.storage_kills);
	printf("chaos: [%.1f s] storage kills done\n",
	       (double)(now_ms() - t_start) / 1000.0);
	for (int d = D_FLIP_MIDDLE; d <= D_TRUNCATE; d++) {
		if (opt.no_damage) {
			printf("chaos: storage: %s: NOT RUN (--no-damage)\n",
			       damage_name[d]);
			continue;
		}
		storage_damage(1 + rng_below(NODES), (enum damage)d,
			       verdicts[d], sizeof verdicts[d]);
		printf("chaos: storage: %s: %s\n", damage_name[d], verdicts[d]);
		fflush(stdout);
	}
	load_stop = 1;
	for (int t = 0; t < opt.load_threads; t++)
		pthread_join(th[t], NULL);

	printf("chaos: [%.1f s] storage damage done\n",
	       (double)(now_ms() - t_start) / 1000.0);
	final_checks();
	printf("chaos: [%.1f s] chain checks done\n",
	       (double)(now_ms() - t_start) / 1000.0);
	audits();
	report(cycles_run);
	printf("chaos: storage: kill -9 during commits: reopened consistent "
	       "%d/%d\n",
	       storage_consistent, storage_runs);
	printf("chaos: whole run %.1f s\n",
	       (double)(now_ms() - t_start) / 1000.0);
	if (failed)
		setenv("ITEST_KEEP", "1", 1);
	it_cluster_destroy(&cl);
	it_acked_free(&ack);
	printf("chaos: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
