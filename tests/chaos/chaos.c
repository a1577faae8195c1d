/* Fault campaign: a 4-node loyd cluster under load, perturbed cycle after
 * cycle, then checked: nothing acknowledged lost or duplicated, identical
 * chains, audits pass. */
#include "tests/chaos/chaos.h"

enum kind { K_KILL9, K_STOP, K_TERM, K_LEADER, K_PARTITION, K_WIPE, K_COUNT };

static const char *const kind_name[K_COUNT] = {
    "kill -9 + restart", "SIGSTOP/SIGCONT", "SIGTERM + restart",
    "leader kill -9",    "partition",       "wiped data dir",
};

struct chaos_opt opt;

struct it_cluster cl;
struct it_tally tally = {"chaos", 0, 0};
static bool partition_hook;
/* When live, every node runs in its own network namespace and a partition
 * takes its link down; else loyd's fault signals cut it off. */
static struct it_netns netns;
static char partition_how[512]; /* how partitions are made, for the output */

uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void sleep_ms(int ms)
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

int rng_below(int n)
{
	return (int)(rng_next(&rng_main) % (uint64_t)n);
}

/* --- acknowledged transactions --- */

struct it_acked ack;

void hex_bin(uint8_t *out, const char *hex, size_t n)
{
	for (size_t b = 0; b < n; b++) {
		unsigned v = 0;
		if (sscanf(hex + 2 * b, "%2x", &v) != 1)
			v = 0;
		out[b] = (uint8_t)v;
	}
}

void bin_hex(char *out, const uint8_t *in, size_t n)
{
	for (size_t b = 0; b < n; b++)
		snprintf(out + 2 * b, 3, "%02x", in[b]);
}

bool faulted[IT_MAX_NODES]; /* the load avoids these nodes */

bool up(int i)
{
	return cl.nodes[i - 1].pid != 0;
}

/* Submits count fresh customer registrations to node i with wait and
 * records the acknowledged ones. */
int submit_regs(int i, uint32_t count, int timeout_ms)
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

/* Whether the load threads still submit. */
bool load_running(void)
{
	size_t sent;

	pthread_mutex_lock(&ack.lock);
	sent = ack.sent;
	pthread_mutex_unlock(&ack.lock);
	return !load_stop && now_ms() < load_deadline && sent < opt.max_txs;
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

void wipe_data(int i)
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
		if (netns.live)
			CHECK(it_netns_link(&netns, i, false) == 0,
			      "cut node %d's link (ip link set %s down)", i,
			      netns.veth[i - 1]);
		else
			CHECK(kill(cl.nodes[i - 1].pid, SIGUSR1) == 0,
			      "isolate node %d", i);
		sleep_ms(100);
		{
			/* a real cut: the others move on, the isolated node
			 * does not (asked from its own side of the cut) */
			uint64_t t0 = now_ms();
			long hp = it_height_inside(&cl, i, NULL), ho, hi;
			probe_commits(i, kind_name[k]);
			if (netns.live)
				CHECK(it_height(&cl, i, NULL) < 0,
				      "partition: node %d does not answer "
				      "clients outside its namespace",
				      i);
			/* it may still apply blocks it held (fetched, with
			 * their certificates) when the link went down: it
			 * must be still by the second half of the cut */
			sleep_ms(opt.stop_ms / 2 - (int)(now_ms() - t0));
			hp = it_height_inside(&cl, i, NULL);
			sleep_ms(opt.stop_ms - (int)(now_ms() - t0));
			ho = max_height_except(i);
			hi = it_height_inside(&cl, i, NULL);
			CHECK(hp >= 0 && hi <= hp + 1 && ho > hp + 1,
			      "partition is real: node %d stays at %ld (then "
			      "%ld) while the others reach %ld",
			      i, hp, hi, ho);
		}
		if (netns.live)
			CHECK(it_netns_link(&netns, i, true) == 0,
			      "heal node %d's link (ip link set %s up)", i,
			      netns.veth[i - 1]);
		else
			CHECK(kill(cl.nodes[i - 1].pid, SIGUSR2) == 0,
			      "heal node %d", i);
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
	printf("chaos: partition: %s\n", partition_how);
}

/* --- main --- */

static void on_interrupt(int sig)
{
	for (int i = 0; i < IT_MAX_NODES; i++)
		if (cl.nodes[i].pid > 0)
			kill(cl.nodes[i].pid, SIGKILL);
	it_netns_teardown(&netns);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Network namespaces unless CHAOS_NETNS=0 or they cannot be had here
 * (not root, no CAP_NET_ADMIN/CAP_SYS_ADMIN); CHAOS_NETNS=1 insists.
 * Says how partitions will be made in how; returns false only when
 * namespaces were insisted on and cannot be had. */
static bool partition_setup(char *how, size_t how_len)
{
	const char *env = getenv("CHAOS_NETNS");
	bool want = env == NULL || strcmp(env, "0") != 0;
	bool must = env != NULL && strcmp(env, "1") == 0;
	char why[300] = "CHAOS_NETNS=0";

	if (want && it_netns_available(why, sizeof why)) {
		it_netns_clean_stale();
		if (it_netns_setup(&netns, NODES, why, sizeof why) == 0) {
			snprintf(how, how_len,
				 "network namespaces (veth down): bridge %s "
				 "%s, namespaces %s..%s",
				 netns.bridge, netns.subnet, netns.name[0],
				 netns.name[NODES - 1]);
			return true;
		}
	}
	if (must) {
		fprintf(stderr,
			"chaos: CHAOS_NETNS=1 but network namespaces cannot "
			"be used: %s\n",
			why);
		return false;
	}
	snprintf(how, how_len,
		 "transport fault layer (loyd's fault signals: frames to and "
		 "from all peers dropped; network namespaces not used: %s)",
		 why);
	return true;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: chaos [--cycles N] [--seed S] [--short] "
		   "[--storage-kills N]\n"
		   "             [--no-damage] [--loyd PATH] [--loyctl PATH]\n"
		   "A 4-node loyd cluster under load, perturbed N times on a\n"
		   "random node (kill -9, SIGSTOP, SIGTERM, leader kill, "
		   "partition, wiped data),\n"
		   "then storage faults; checks nothing acknowledged is lost "
		   "or duplicated,\n"
		   "identical chains everywhere, and loyctl audit on every "
		   "data dir.\n"
		   "\n"
		   "Partitions: as root (with CAP_NET_ADMIN and CAP_SYS_ADMIN) "
		   "each node runs in\n"
		   "its own network namespace, joined to a bridge by a veth "
		   "pair; a partition\n"
		   "is `ip link set <node's veth> down`, the heal `up`. The "
		   "nodes then listen\n"
		   "on 10.x.y.i beyond loopback, so the harness authenticates "
		   "as a client key\n"
		   "they allow. Elsewhere the nodes run on 127.0.0.1 and a "
		   "partition uses loyd's\n"
		   "transport fault layer (LOYD_FAULT_SIGNALS: SIGUSR1 "
		   "isolates, SIGUSR2 heals).\n"
		   "The namespaces, veths and bridge are removed on exit, "
		   "failure, SIGINT and\n"
		   "SIGTERM; those of a run that died are removed by the next "
		   "one.\n"
		   "\n"
		   "Environment:\n"
		   "  CHAOS_NETNS=0  use the transport fault layer even as "
		   "root\n"
		   "  CHAOS_NETNS=1  network namespaces or fail (default: "
		   "them when possible)\n"
		   "  ITEST_KEEP=1   keep the cluster's temp directory\n");
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
	char verdicts[D_COUNT][1400];
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
	signal(SIGHUP, on_interrupt);
	if (!partition_setup(partition_how, sizeof partition_how))
		return 1;
	/* without namespaces, asks loyd for its test-only fault signals
	 * (SIGUSR1 isolates the node from its peers, SIGUSR2 heals); used only
	 * if its log confirms them */
	if (!netns.live)
		setenv("LOYD_FAULT_SIGNALS", "1", 1);
	it_acked_init(&ack);
	if (loy_crypto_init() != 0 ||
	    it_cluster_init_netns(&cl, NODES, opt.loyd,
				  netns.live ? &netns : NULL) != 0) {
		fprintf(stderr, "chaos: cannot set up the cluster\n");
		it_netns_teardown(&netns);
		return 1;
	}
	for (int i = 1; i <= NODES; i++)
		if (it_node_start(&cl, i) != 0)
			tally.failed++;
	CHECK(it_wait_converged(&cl, 0, 15000), "four nodes start and answer");
	{
		/* perturb a whole cluster: every link up first (a node still
		 * dialling a peer would make the first fault a double one) */
		uint64_t deadline = now_ms() + 20000;
		bool meshed = false;
		while (!meshed && now_ms() < deadline) {
			meshed = true;
			for (int i = 1; i <= NODES; i++)
				meshed =
				    meshed && it_peers(&cl, i) == NODES - 1;
			if (!meshed)
				sleep_ms(100);
		}
		CHECK(meshed, "every node is linked to the other three");
	}
	if (netns.live) {
		partition_hook = true;
		printf("chaos: partition: %s\n", partition_how);
	} else {
		char tail[4096];
		log_tail(1, tail, sizeof tail);
		partition_hook = strstr(tail, "fault signals enabled") != NULL;
		printf("chaos: partition: %s\n",
		       partition_hook
			   ? partition_how
			   : "MISSING: this loyd has no way to cut its links "
			     "from outside");
	}
	fflush(stdout);

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
	for (int d = D_FLIP_MIDDLE; d < D_COUNT; d++) {
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
	if (tally.failed)
		setenv("ITEST_KEEP", "1", 1);
	it_cluster_destroy(&cl);
	it_netns_teardown(&netns);
	it_acked_free(&ack);
	printf("chaos: %d passed, %d failed\n", tally.passed, tally.failed);
	return tally.failed ? 1 : 0;
}
