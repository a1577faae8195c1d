/* The consensus core in the simulated cluster: thousands of seeded fault
 * scenarios that must all hold, and negative controls that must fail.
 * SIM_SEED=<s> replays one scenario; SIM_SEEDS=<n> sets the campaign size;
 * SIM_JOBS=<k> runs it in k processes; SIM_BASE=<s> starts it at seed s;
 * SIM_CONTROLS=0 skips the negative controls. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/lib/sim.h"
#include "wire/crypto.h"

struct tally {
	uint64_t runs, violations, max_heal_ms, view_changes, evidence;
	uint64_t max_height;
	uint64_t kinds; /* bitmask of fault kinds seen */
	uint64_t n4, n7;
	uint64_t first_bad_seed;
};

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);
	return v && *v ? strtoull(v, NULL, 10) : dflt;
}

static void run_one(uint64_t seed, struct tally *t, int verbose)
{
	struct sim_opts o;
	struct sim_result r;
	char names[256];

	sim_opts_from_seed(&o, seed);
	o.verbose = verbose;
	assert_int_equal(sim_run(&o, &r), 0);
	t->runs++;
	t->kinds |= o.faults;
	if (o.n == 4)
		t->n4++;
	else
		t->n7++;
	t->view_changes += r.view_changes;
	t->evidence += r.evidence;
	if (r.height > t->max_height)
		t->max_height = r.height;
	if (r.heal_to_commit_ms > t->max_heal_ms)
		t->max_heal_ms = r.heal_to_commit_ms;
	if (verbose || r.violation) {
		sim_fault_names(o.faults, names, sizeof names);
		printf("sim: seed %" PRIu64 " n=%u faults=%s height=%" PRIu64
		       " validators=%u views=%" PRIu64 " heal->commit=%" PRIu64
		       "ms %s\n",
		       seed, o.n, names, r.height, r.validators, r.view_changes,
		       r.heal_to_commit_ms, r.violation ? r.why : "ok");
	}
	if (r.violation) {
		if (t->violations++ == 0)
			t->first_bad_seed = seed;
		printf("sim: FAILED seed %" PRIu64 "; replay: SIM_SEED=%" PRIu64
		       " build/tests/test_consensus_sim\n",
		       seed, seed);
	}
}

/* Runs seeds [base, base + n) across jobs processes; sums the tallies. */
static void campaign(uint64_t base, uint64_t n, unsigned jobs, struct tally *t)
{
	int fds[16][2];
	pid_t pids[16];

	memset(t, 0, sizeof *t);
	if (jobs <= 1) {
		/* in-process, so the leak checker sees every scenario */
		for (uint64_t s = base; s < base + n; s++)
			run_one(s, t, 0);
		return;
	}
	if (jobs > 16)
		jobs = 16;
	for (unsigned j = 0; j < jobs; j++) {
		assert_int_equal(pipe(fds[j]), 0);
		fflush(stdout);
		pids[j] = fork();
		assert_true(pids[j] >= 0);
		if (pids[j] == 0) {
			struct tally mine;
			memset(&mine, 0, sizeof mine);
			close(fds[j][0]);
			for (uint64_t s = base + j; s < base + n; s += jobs)
				run_one(s, &mine, 0);
			fflush(stdout);
			if (write(fds[j][1], &mine, sizeof mine) != sizeof mine)
				_exit(2);
			_exit(0);
		}
		close(fds[j][1]);
	}
	for (unsigned j = 0; j < jobs; j++) {
		struct tally part;
		int st;

		assert_int_equal(read(fds[j][0], &part, sizeof part),
				 sizeof part);
		close(fds[j][0]);
		assert_int_equal(waitpid(pids[j], &st, 0), pids[j]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		t->runs += part.runs;
		if (part.violations && !t->violations)
			t->first_bad_seed = part.first_bad_seed;
		t->violations += part.violations;
		t->view_changes += part.view_changes;
		t->evidence += part.evidence;
		t->kinds |= part.kinds;
		t->n4 += part.n4;
		t->n7 += part.n7;
		if (part.max_heal_ms > t->max_heal_ms)
			t->max_heal_ms = part.max_heal_ms;
		if (part.max_height > t->max_height)
			t->max_height = part.max_height;
	}
}

static void test_seeded_scenarios(void **state)
{
	struct tally t;
	uint64_t one = env_u64("SIM_SEED", UINT64_MAX);
	uint64_t n = env_u64("SIM_SEEDS", 2000);
	unsigned jobs = (unsigned)env_u64("SIM_JOBS", 2);

	(void)state;
	if (one != UINT64_MAX) {
		memset(&t, 0, sizeof t);
		run_one(one, &t, 1);
		assert_int_equal(t.violations, 0);
		return;
	}
	campaign(env_u64("SIM_BASE", 1), n, jobs, &t);
	printf("sim: %" PRIu64 " scenarios (n=4: %" PRIu64 ", n=7: %" PRIu64
	       "), %" PRIu64 " violations, longest heal->commit %" PRIu64
	       " ms, %" PRIu64 " view changes, %" PRIu64
	       " evidence records, fault kinds 0x%" PRIx64 "\n",
	       t.runs, t.n4, t.n7, t.violations, t.max_heal_ms, t.view_changes,
	       t.evidence, t.kinds);
	if (t.violations)
		printf("sim: replay the first: SIM_SEED=%" PRIu64
		       " build/tests/test_consensus_sim\n",
		       t.first_bad_seed);
	assert_int_equal(t.violations, 0);
	assert_int_equal(t.kinds, (1u << SIM_FAULT_KINDS) - 1);
}

/* f+1 colluding keys: two twinned validators of four, split apart. The
 * agreement check must catch the fork in some seed. */
static void test_checker_catches_two_twins(void **state)
{
	struct sim_opts o;
	struct sim_result r;
	int caught = 0;

	(void)state;
	if (env_u64("SIM_CONTROLS", 1) == 0)
		skip();
	for (uint64_t seed = 1; seed <= 300 && !caught; seed++) {
		memset(&o, 0, sizeof o);
		o.seed = seed;
		o.n = 4;
		o.twins = 2;
		o.faults = SIM_TWINS;
		o.fault_ms = 1500;
		o.live_ms = 20000;
		assert_int_equal(sim_run(&o, &r), 0);
		if (r.violation && strstr(r.why, "agreement")) {
			printf("sim: negative control (two twins) caught at "
			       "seed %" PRIu64 ": %s\n",
			       seed, r.why);
			caught = 1;
		}
	}
	assert_true(caught);
}

/* A core whose NEW-VIEW ignores prepared certificates must be caught. */
static void test_checker_catches_broken_new_view(void **state)
{
	struct sim_opts o;
	struct sim_result r;
	int caught = 0;

	(void)state;
	if (env_u64("SIM_CONTROLS", 1) == 0)
		skip();
	for (uint64_t seed = 1; seed <= 1000 && !caught; seed++) {
		memset(&o, 0, sizeof o);
		o.seed = seed;
		o.n = (unsigned)env_u64("SIM_CTRL_N", 4);
		o.faults = (unsigned)env_u64(
		    "SIM_CTRL_FAULTS", SIM_DROP | SIM_ISOLATE | SIM_CRASH);
		o.fault_ms = env_u64("SIM_CTRL_MS", 1500);
		o.live_ms = 20000;
		o.ignore_prepared = 1;
		assert_int_equal(sim_run(&o, &r), 0);
		if (r.violation && strstr(r.why, "agreement")) {
			printf("sim: negative control (broken NEW-VIEW) caught "
			       "at seed %" PRIu64 ": %s\n",
			       seed, r.why);
			caught = 1;
		}
	}
	assert_true(caught);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_seeded_scenarios),
	    cmocka_unit_test(test_checker_catches_two_twins),
	    cmocka_unit_test(test_checker_catches_broken_new_view),
	};

	if (loy_crypto_init() != 0)
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
