/* Ledger benchmark: Ed25519 verify rate, block apply rate and audit replay
 * rate on one machine, each beside one core's verify rate. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ledger/audit.h"
#include "ledger/builder.h"
#include "ledger/ledger.h"
#include "ledger/query.h"
#include "wire/error.h"
#include "wire/tx.h"

#define CHAIN       "bench-chain"
#define T0          1700000000000ull
#define NMEMBERS    4u
#define MAX_RUNS    9u
#define VERIFY_MSGS 64u
#define MAPSIZE     (4ull << 30)

struct key {
	uint8_t pk[LOY_PUBKEY_SIZE];
	uint8_t sk[LOY_SECKEY_SIZE];
	uint8_t id[LOY_ID_SIZE];
	uint64_t nonce;   /* last used */
	uint64_t balance; /* customers: points as the benchmark expects them */
};

struct cfg {
	uint32_t blocks, txs, runs, customers, verifies;
	const char *json;
};

struct chain {
	struct loy_buf *blocks, *certs;
	uint32_t n;
	uint64_t txs;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, uint32_t n)
{
	qsort(v, n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void die(const char *what, int rc, const char *detail)
{
	fprintf(stderr, "bench_ledger: %s: %s%s%s\n", what, loy_strerror(rc),
		detail && detail[0] ? ": " : "", detail ? detail : "");
	exit(1);
}

static void key_init(struct key *k, uint32_t i)
{
	uint8_t seed[LOY_SEED_SIZE] = {0};
	seed[0] = (uint8_t)i;
	seed[1] = (uint8_t)(i >> 8);
	seed[2] = (uint8_t)(i >> 16);
	seed[3] = 0xbe;
	loy_keypair_from_seed(k->pk, k->sk, seed);
	loy_id_from_pubkey(k->id, k->pk);
}

/* --- (a) Ed25519 verification rate --- */

struct vctx {
	uint8_t pk[LOY_PUBKEY_SIZE];
	uint8_t msg[VERIFY_MSGS][200];
	uint8_t sig[VERIFY_MSGS][LOY_SIG_SIZE];
	uint32_t count;
	uint32_t bad;
	double cpu; /* thread CPU seconds of the loop */
};

static void *verify_loop(void *arg)
{
	struct vctx *v = arg;
	struct timespec a, b;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	for (uint32_t i = 0; i < v->count; i++) {
		uint32_t m = i % VERIFY_MSGS;
		if (loy_verify(v->sig[m], LOY_DOMAIN_TX, CHAIN, v->msg[m],
			       sizeof v->msg[m], v->pk) != 0)
			v->bad++;
	}
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	v->cpu = (double)(b.tv_sec - a.tv_sec) +
		 (double)(b.tv_nsec - a.tv_nsec) * 1e-9;
	return NULL;
}

static void vctx_init(struct vctx *v, uint32_t count)
{
	struct key k;
	key_init(&k, 9999);
	memcpy(v->pk, k.pk, sizeof v->pk);
	for (uint32_t m = 0; m < VERIFY_MSGS; m++) {
		for (size_t j = 0; j < sizeof v->msg[m]; j++)
			v->msg[m][j] = (uint8_t)(m * 31 + j);
		loy_sign(v->sig[m], LOY_DOMAIN_TX, CHAIN, v->msg[m],
			 sizeof v->msg[m], k.sk);
	}
	v->count = count;
	v->bad = 0;
}

/* Verifications per second over nthreads threads, each doing count; the
 * CPU microseconds one verification took in *cpu_us if not NULL. */
static double verify_rate(uint32_t nthreads, uint32_t count, double *cpu_us)
{
	struct vctx *v = calloc(nthreads, sizeof *v);
	pthread_t *th = calloc(nthreads, sizeof *th);
	double t;
	if (!v || !th)
		die("verify", LOY_ENOMEM, NULL);
	for (uint32_t i = 0; i < nthreads; i++)
		vctx_init(&v[i], count);
	t = now();
	for (uint32_t i = 0; i < nthreads; i++)
		if (pthread_create(&th[i], NULL, verify_loop, &v[i]) != 0)
			die("verify", LOY_ENOMEM, "pthread_create");
	for (uint32_t i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	t = now() - t;
	if (cpu_us)
		*cpu_us = 0;
	for (uint32_t i = 0; i < nthreads; i++) {
		if (v[i].bad)
			die("verify", LOY_EBADSIG, "fixed message");
		if (cpu_us)
			*cpu_us += v[i].cpu * 1e6 / ((double)nthreads * count);
	}
	free(v);
	free(th);
	return (double)nthreads * count / t;
}

/* --- (b) building the chain --- */

static void fill_genesis(struct loy_genesis *g, const struct key *members)
{
	memset(g, 0, sizeof *g);
	snprintf(g->chain_id, sizeof g->chain_id, "%s", CHAIN);
	g->time_ms = T0;
	g->commission_bps = 100;
	g->point_value = 1;
	g->member_count = NMEMBERS;
	for (uint32_t i = 0; i < NMEMBERS; i++) {
		struct loy_genesis_member *m = &g->members[i];
		snprintf(m->name, sizeof m->name, "Member %c", 'A' + (int)i);
		snprintf(m->address, sizeof m->address, "127.0.0.1:%u",
			 7100 + i);
		memcpy(m->pubkey, members[i].pk, LOY_PUBKEY_SIZE);
	}
}

static void tx_start(struct loy_tx *tx, unsigned kind, struct key *k)
{
	memset(tx, 0, sizeof *tx);
	tx->kind = (uint8_t)kind;
	snprintf(tx->chain_id, sizeof tx->chain_id, "%s", CHAIN);
	tx->nonce = ++k->nonce;
}

static void tx_finish(struct loy_tx *tx, const struct key *k,
		      struct loy_buf *out)
{
	int rc = loy_tx_sign(tx, k->sk);
	if (rc == 0)
		rc = loy_tx_encode(tx, out);
	if (rc != 0)
		die("sign", rc, NULL);
	loy_tx_free(tx);
}

static void commit(struct loy_ledger *l, struct chain *ch,
		   const struct key *members, struct loy_buf *txs, uint32_t n,
		   uint64_t time_ms, struct loy_tx_result *res)
{
	uint8_t sks[NMEMBERS][LOY_SECKEY_SIZE];
	struct loy_buf b, c;
	int rc;
	for (uint32_t i = 0; i < NMEMBERS; i++)
		memcpy(sks[i], members[i].sk, LOY_SECKEY_SIZE);
	rc = loy_ledger_build_block(l, txs, n, time_ms, 0, sks[0],
				    (const uint8_t(*)[LOY_SECKEY_SIZE])sks,
				    NMEMBERS, &b, &c, res);
	if (rc != 0)
		die("build block", rc, loy_ledger_errmsg(l));
	for (uint32_t i = 0; i < n; i++) {
		if (res[i].code != LOY_REJ_OK)
			die("build block", LOY_EREJECTED, res[i].msg);
		loy_buf_free(&txs[i]);
	}
	rc = loy_ledger_apply_block(l, b.data, b.len, c.data, c.len,
				    LOY_APPLY_TRUST_CERT, NULL);
	if (rc != 0)
		die("apply block", rc, loy_ledger_errmsg(l));
	ch->blocks[ch->n] = b;
	ch->certs[ch->n] = c;
	ch->n++;
	ch->txs += n;
}

/* Registers the customers and sets each member's rule, then cfg->blocks
 * blocks of reward.issue (a member to a customer) and redeem (a customer at
 * another member), half and half once customers hold points. */
static void build_chain(const char *dir, const struct cfg *cfg,
			struct key *members, struct key *cust,
			const struct loy_genesis *g, struct chain *ch)
{
	uint32_t per = cfg->txs, regblocks = (cfg->customers + per - 1) / per;
	struct loy_buf *txs = calloc(per + NMEMBERS, sizeof *txs);
	struct loy_tx_result *res = calloc(per + NMEMBERS, sizeof *res);
	struct loy_ledger *l;
	struct loy_tx tx;
	char err[256];
	uint64_t time_ms = T0;
	uint32_t n, ci = 0, ri = 0, refs = 0;
	int rc;

	ch->blocks = calloc(regblocks + cfg->blocks, sizeof *ch->blocks);
	ch->certs = calloc(regblocks + cfg->blocks, sizeof *ch->certs);
	if (!txs || !res || !ch->blocks || !ch->certs)
		die("build chain", LOY_ENOMEM, NULL);
	rc = loy_ledger_open(dir, LOY_LEDGER_NOSYNC, MAPSIZE, &l, err,
			     sizeof err);
	if (rc != 0)
		die("open", rc, err);
	rc = loy_ledger_init_genesis(l, g);
	if (rc != 0)
		die("genesis", rc, loy_ledger_errmsg(l));
	for (uint32_t b = 0; b < regblocks; b++) {
		n = 0;
		if (b == 0) {
			for (uint32_t m = 0; m < NMEMBERS; m++) {
				tx_start(&tx, LOY_TX_RULE_SET, &members[m]);
				tx.u.rule_set.rate_num = 1;
				tx.u.rule_set.rate_den = 1;
				tx_finish(&tx, &members[m], &txs[n++]);
			}
		}
		for (; n < per + NMEMBERS && ci < cfg->customers; ci++) {
			tx_start(&tx, LOY_TX_CUSTOMER_REGISTER, &cust[ci]);
			snprintf(tx.u.customer_register.memo,
				 sizeof tx.u.customer_register.memo, "card %u",
				 ci);
			tx_finish(&tx, &cust[ci], &txs[n++]);
		}
		time_ms += 1000;
		commit(l, ch, members, txs, n, time_ms, res);
	}
	ci = 0;
	for (uint32_t b = 0; b < cfg->blocks; b++) {
		for (n = 0; n < per; n++) {
			uint32_t m = refs % NMEMBERS;
			struct key *c = &cust[ri];
			refs++;
			if (n % 2 == 1 && c->balance >= 40) {
				/* redeem at a member other than the issuer */
				tx_start(&tx, LOY_TX_REDEEM, c);
				memcpy(tx.u.redeem.member,
				       members[(m + 1) % NMEMBERS].id,
				       LOY_ID_SIZE);
				tx.u.redeem.amount = 40;
				snprintf(tx.u.redeem.reference,
					 sizeof tx.u.redeem.reference,
					 "pos-%u-%u", b, n);
				tx_finish(&tx, c, &txs[n]);
				c->balance -= 40;
				ri = (ri + 1) % cfg->customers;
				continue;
			}
			c = &cust[ci];
			tx_start(&tx, LOY_TX_REWARD_ISSUE, &members[m]);
			memcpy(tx.u.reward_issue.customer, c->id, LOY_ID_SIZE);
			tx.u.reward_issue.purchase = 100 + n % 50;
			snprintf(tx.u.reward_issue.reference,
				 sizeof tx.u.reward_issue.reference,
				 "receipt-%u", refs);
			snprintf(tx.u.reward_issue.reason,
				 sizeof tx.u.reward_issue.reason, "purchase");
			tx_finish(&tx, &members[m], &txs[n]);
			c->balance += 100 + n % 50;
			ci = (ci + 1) % cfg->customers;
		}
		time_ms += 1000;
		commit(l, ch, members, txs, n, time_ms, res);
	}
	loy_ledger_close(l);
	free(txs);
	free(res);
}

static void rmstore(const char *dir)
{
	char p[512];
	snprintf(p, sizeof p, "%s/data.mdb", dir);
	unlink(p);
	snprintf(p, sizeof p, "%s/lock.mdb", dir);
	unlink(p);
	rmdir(dir);
}

/* Applies the whole chain to a fresh store: tx/s, signatures excluded
 * (certificates trusted, no tx signature checks), one durable commit per
 * block unless nosync. */
static double apply_rate(const char *base, const struct chain *ch,
			 const struct loy_genesis *g, unsigned oflags)
{
	char dir[512], err[256];
	struct loy_ledger *l;
	double t;
	int rc;
	snprintf(dir, sizeof dir, "%s/applyXXXXXX", base);
	if (!mkdtemp(dir))
		die("mkdtemp", LOY_EIO, strerror(errno));
	rc = loy_ledger_open(dir, oflags, MAPSIZE, &l, err, sizeof err);
	if (rc != 0)
		die("open", rc, err);
	rc = loy_ledger_init_genesis(l, g);
	if (rc != 0)
		die("genesis", rc, loy_ledger_errmsg(l));
	t = now();
	for (uint32_t i = 0; i < ch->n; i++) {
		rc = loy_ledger_apply_block(
		    l, ch->blocks[i].data, ch->blocks[i].len, ch->certs[i].data,
		    ch->certs[i].len, LOY_APPLY_TRUST_CERT, NULL);
		if (rc != 0)
			die("apply", rc, loy_ledger_errmsg(l));
	}
	t = now() - t;
	loy_ledger_close(l);
	rmstore(dir);
	return (double)ch->txs / t;
}

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Audit replay (every signature, certificate, root): tx/s, and the CPU
 * time it took per tx in *cpu_us (all threads). With pin, the audit runs
 * confined to the CPU this thread is on (its helper threads inherit it). */
static double audit_rate(const char *base, const char *src, bool file,
			 const struct loy_genesis *g, uint64_t want_txs,
			 bool pin, double *cpu_us)
{
	struct loy_audit_opts o = {.tmpdir = base, .mapsize = MAPSIZE};
	struct loy_audit_report r;
	cpu_set_t old, one;
	double t, c;
	int rc;

	if (pin) {
		int cur = sched_getcpu();
		size_t cpu = cur < 0 ? 0 : (size_t)cur;
		if (sched_getaffinity(0, sizeof old, &old) != 0)
			die("affinity", LOY_EIO, strerror(errno));
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		if (sched_setaffinity(0, sizeof one, &one) != 0)
			die("affinity", LOY_EIO, strerror(errno));
	}
	c = cpu_now();
	t = now();
	rc = file ? loy_audit_file(g, src, &o, &r)
		  : loy_audit_datadir(g, src, &o, &r);
	t = now() - t;
	c = cpu_now() - c;
	if (pin && sched_setaffinity(0, sizeof old, &old) != 0)
		die("affinity", LOY_EIO, strerror(errno));
	if (rc != 0 || !r.ok)
		die("audit", rc ? rc : LOY_ECORRUPT, r.reason);
	if (r.txs != want_txs)
		die("audit", LOY_ECORRUPT, "transaction count differs");
	if (cpu_us)
		*cpu_us = c * 1e6 / (double)r.txs;
	return (double)r.txs / t;
}

static double loadavg(void)
{
	double l[1];
	return getloadavg(l, 1) == 1 ? l[0] : -1;
}

static uint32_t arg_u32(const char *s, uint32_t lo, uint32_t hi)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (*end || v < lo || v > hi) {
		fprintf(stderr, "bench_ledger: %s: out of range %u..%u\n", s,
			lo, hi);
		exit(2);
	}
	return (uint32_t)v;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_ledger [-b blocks] [-t txs-per-block] "
			"[-r runs] [-c customers] [-v verifies] "
			"[-j results.json]\n");
	exit(2);
}

static void parse(int argc, char **argv, struct cfg *c)
{
	int o;
	while ((o = getopt(argc, argv, "b:t:r:c:v:j:h")) != -1) {
		switch (o) {
		case 'b':
			c->blocks = arg_u32(optarg, 1, 100000);
			break;
		case 't':
			c->txs = arg_u32(optarg, 2, 4096);
			break;
		case 'r':
			c->runs = arg_u32(optarg, 1, MAX_RUNS);
			break;
		case 'c':
			c->customers = arg_u32(optarg, 1, 1000000);
			break;
		case 'v':
			c->verifies = arg_u32(optarg, 100, 10000000);
			break;
		case 'j':
			c->json = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
}

static void line(const char *what, double rate, double one)
{
	printf("  %-34s %10.0f tx/s = %.2f x one core's Ed25519 verify rate "
	       "(%.0f/s)\n",
	       what, rate, rate / one, one);
}

int main(int argc, char **argv)
{
	struct cfg cfg = {.blocks = 150,
			  .txs = 1000,
			  .runs = 3,
			  .customers = 2000,
			  .verifies = 20000};
	double v1[MAX_RUNS], vn[MAX_RUNS], ap[MAX_RUNS], apd[MAX_RUNS];
	double af[MAX_RUNS], cpu[MAX_RUNS], vr[MAX_RUNS], ratio[MAX_RUNS];
	double one, all, apply_ns, apply_d, audit_f, audit_d, audit_1, t;
	double audit_cpu, audit_ratio, one_paired, load0, load1, vd, v1p;
	double vcpu[MAX_RUNS], verify_cpu;
	struct key *members, *cust;
	struct loy_genesis g;
	struct chain ch = {0};
	char base[64], src[128], file[128], err[256];
	uint32_t ncpu;
	long np = sysconf(_SC_NPROCESSORS_ONLN);
	int rc;

	parse(argc, argv, &cfg);
	ncpu = np > 0 ? (uint32_t)np : 1;
	if (loy_crypto_init() != 0)
		die("crypto", LOY_EINVAL, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	load0 = loadavg();

	for (uint32_t r = 0; r < cfg.runs; r++) {
		v1[r] = verify_rate(1, cfg.verifies, NULL);
		vn[r] = verify_rate(ncpu, cfg.verifies, NULL);
	}
	one = median(v1, cfg.runs);
	all = median(vn, cfg.runs);
	printf("  %-34s %10.0f verify/s (%u x loy_verify, 200-byte "
	       "messages)\n",
	       "Ed25519 verify, one core", one, cfg.verifies);
	printf("  %-34s %10.0f verify/s (%u threads = %.2f x one core)\n",
	       "Ed25519 verify, all cores", all, ncpu, all / one);

	snprintf(base, sizeof base, "/tmp/loybenchXXXXXX");
	if (!mkdtemp(base))
		die("mkdtemp", LOY_EIO, strerror(errno));
	snprintf(src, sizeof src, "%s/chain", base);
	snprintf(file, sizeof file, "%s/chain.loychain", base);
	if (mkdir(src, 0700) != 0)
		die("mkdir", LOY_EIO, strerror(errno));
	members = calloc(NMEMBERS, sizeof *members);
	cust = calloc(cfg.customers, sizeof *cust);
	if (!members || !cust)
		die("keys", LOY_ENOMEM, NULL);
	for (uint32_t i = 0; i < NMEMBERS; i++)
		key_init(&members[i], i);
	for (uint32_t i = 0; i < cfg.customers; i++)
		key_init(&cust[i], 1000 + i);
	fill_genesis(&g, members);
	t = now();
	build_chain(src, &cfg, members, cust, &g, &ch);
	printf("  chain: %u blocks, %llu signed txs (%u customers register, "
	       "then reward.issue/redeem), built in %.1f s\n",
	       ch.n, (unsigned long long)ch.txs, cfg.customers, now() - t);
	{
		struct loy_ledger *l;
		rc = loy_ledger_open(src, LOY_LEDGER_NOSYNC, MAPSIZE, &l, err,
				     sizeof err);
		if (rc != 0)
			die("open", rc, err);
		rc = loy_ledger_export(l, file, err, sizeof err);
		if (rc != 0)
			die("export", rc, err);
		loy_ledger_close(l);
	}

	for (uint32_t r = 0; r < cfg.runs; r++) {
		ap[r] = apply_rate(base, &ch, &g, 0);
		apd[r] = apply_rate(base, &ch, &g, LOY_LEDGER_NOSYNC);
	}
	apply_d = median(ap, cfg.runs);
	apply_ns = median(apd, cfg.runs);
	/* Each audit run is paired with a fresh one-core verify measurement,
	 * so that a load that comes and goes hits both sides of the ratio. */
	for (uint32_t r = 0; r < cfg.runs; r++) {
		double v = verify_rate(1, cfg.verifies, &vcpu[r]);
		af[r] =
		    audit_rate(base, file, true, &g, ch.txs, false, &cpu[r]);
		vr[r] = v;
		ratio[r] = af[r] / v;
	}
	audit_f = median(af, cfg.runs);
	audit_cpu = median(cpu, cfg.runs);
	audit_ratio = median(ratio, cfg.runs);
	one_paired = median(vr, cfg.runs);
	verify_cpu = median(vcpu, cfg.runs);
	vd = verify_rate(1, cfg.verifies, NULL);
	audit_d = audit_rate(base, src, false, &g, ch.txs, false, NULL);
	v1p = verify_rate(1, cfg.verifies, NULL);
	audit_1 = audit_rate(base, file, true, &g, ch.txs, true, NULL);

	line("apply, durable (fsync per block)", apply_d, one);
	line("apply, no fsync", apply_ns, one);
	printf("  %-34s %10.0f tx/s = %.2f x one core's Ed25519 verify rate "
	       "(%.0f/s)\n",
	       "audit replay, chain file", audit_f, audit_ratio, one_paired);
	line("audit replay, data dir (1 run)", audit_d, vd);
	line("audit replay, 1 core only (1 run)", audit_1, v1p);
	printf("  %-34s %10.1f CPU-us per tx, all threads = %.2f x one "
	       "verify's CPU time (%.1f us)\n",
	       "audit cost", audit_cpu, audit_cpu / verify_cpu, verify_cpu);
	printf("  goal: audit replay >= 0.85 x one core's verify rate: %s "
	       "(%.2f, using %u core%s: signatures on all, re-execution on "
	       "one)\n",
	       audit_ratio >= 0.85 ? "met" : "NOT met", audit_ratio, ncpu,
	       ncpu == 1 ? "" : "s");
	load1 = loadavg();
	printf("  load average: %.1f before, %.1f after, on %u cores%s\n",
	       load0, load1, ncpu,
	       load0 > 0.5 * ncpu || load1 > 0.5 * ncpu + 1
		   ? " (other processes compete: figures are low)"
		   : "");

	if (cfg.json) {
		FILE *fp = fopen(cfg.json, "w");
		if (!fp)
			die("json", LOY_EIO, strerror(errno));
		fprintf(
		    fp,
		    "{\"runs\": %u, \"cores\": %u, \"blocks\": %u, "
		    "\"txs\": %llu, \"txs_per_block\": %u,\n"
		    " \"load_before\": %.2f, \"load_after\": %.2f,\n"
		    " \"verify_one_core_per_s\": %.0f, "
		    "\"verify_all_cores_per_s\": %.0f,\n"
		    " \"apply_durable_tx_per_s\": %.0f, "
		    "\"apply_durable_ratio\": %.3f,\n"
		    " \"apply_nosync_tx_per_s\": %.0f, "
		    "\"apply_nosync_ratio\": %.3f,\n"
		    " \"audit_file_tx_per_s\": %.0f, "
		    "\"audit_file_ratio\": %.3f, "
		    "\"audit_verify_paired_per_s\": %.0f,\n"
		    " \"audit_cpu_us_per_tx\": %.2f, "
		    "\"verify_cpu_us\": %.2f,\n"
		    " \"audit_datadir_tx_per_s\": %.0f, "
		    "\"audit_datadir_ratio\": %.3f,\n"
		    " \"audit_one_core_tx_per_s\": %.0f, "
		    "\"audit_one_core_ratio\": %.3f,\n"
		    " \"audit_goal_ratio\": 0.85, \"audit_goal_met\": %s}\n",
		    cfg.runs, ncpu, ch.n, (unsigned long long)ch.txs, cfg.txs,
		    load0, load1, one, all, apply_d, apply_d / one, apply_ns,
		    apply_ns / one, audit_f, audit_ratio, one_paired, audit_cpu,
		    verify_cpu, audit_d, audit_d / vd, audit_1, audit_1 / v1p,
		    audit_ratio >= 0.85 ? "true" : "false");
		if (fclose(fp) != 0)
			die("json", LOY_EIO, strerror(errno));
	}

	for (uint32_t i = 0; i < ch.n; i++) {
		loy_buf_free(&ch.blocks[i]);
		loy_buf_free(&ch.certs[i]);
	}
	free(ch.blocks);
	free(ch.certs);
	free(members);
	free(cust);
	unlink(file);
	rmstore(src);
	rmdir(base);
	return 0;
}
