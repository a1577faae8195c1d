/* The simulated cluster: N consensus cores on a virtual clock, driven one
 * event at a time through a seeded network with faults, crash/restart,
 * clock skew and Byzantine validators, checked for safety after every step
 * and for liveness after the faults heal. Test-only; no globals. */
#ifndef LOY_TESTS_SIM_H
#define LOY_TESTS_SIM_H

#include <stdint.h>

#include "consensus/consensus.h"

/* Fault kinds a scenario may enable. */
#define SIM_DROP        (1u << 0) /* lose messages */
#define SIM_DUP         (1u << 1) /* deliver some twice */
#define SIM_REORDER     (1u << 2) /* wide delay jitter */
#define SIM_ISOLATE     (1u << 3) /* partition one node away */
#define SIM_SPLIT       (1u << 4) /* split the cluster in two */
#define SIM_ONEWAY      (1u << 5) /* cut links in one direction only */
#define SIM_CRASH       (1u << 6) /* crash, restart from what was persisted */
#define SIM_SKEW        (1u << 7) /* clocks off by up to +-300 ms */
#define SIM_EQUIVOCATE  (1u << 8) /* a Byzantine leader proposes twice */
#define SIM_DOUBLE_VOTE (1u << 9) /* a Byzantine validator votes twice */
#define SIM_INVALID                                                            \
	(1u << 10)                 /* Byzantine blocks with invalid txs, and   \
					 votes for them */
#define SIM_REPLAY      (1u << 11) /* re-sends old messages */
#define SIM_FORGE       (1u << 12) /* messages under another's key */
#define SIM_TWINS       (1u << 13) /* two copies of one validator, one key */
#define SIM_ADMIT       (1u << 14) /* a new validator is voted in */
#define SIM_REMOVE      (1u << 15) /* a validator is voted out */
#define SIM_FAULT_KINDS (16)

#define SIM_BYZANTINE                                                          \
	(SIM_EQUIVOCATE | SIM_DOUBLE_VOTE | SIM_INVALID | SIM_REPLAY |         \
	 SIM_FORGE | SIM_TWINS)

struct sim_opts {
	uint64_t seed;
	uint32_t n;        /* validators at genesis */
	unsigned faults;   /* SIM_* */
	uint64_t fault_ms; /* faults run from 0 to here, then heal */
	uint64_t live_ms;  /* after healing, a new block must be final by */
	/* negative controls */
	uint32_t twins;      /* validators with a twin (default: 1 if TWINS) */
	int ignore_prepared; /* the deliberately broken core */
	int verbose;
};

struct sim_result {
	int violation; /* 0: all checks held */
	char why[256];
	uint64_t heal_to_commit_ms; /* heal to a new block final everywhere */
	uint64_t view_changes;
	uint64_t height; /* highest final height */
	uint64_t steps;
	uint64_t evidence;   /* evidence records against Byzantine keys */
	uint32_t validators; /* size of the last final height's set */
};

/* Runs one scenario. Returns 0 when it ran (check r->violation), or a
 * LOY_E* code when the harness itself failed. */
int sim_run(const struct sim_opts *o, struct sim_result *r);

/* A scenario from a seed alone: n, faults and timings drawn from it, so
 * any failing seed replays with SIM_SEED=<seed>. */
void sim_opts_from_seed(struct sim_opts *o, uint64_t seed);

/* Names of the fault bits, for reports ("drop+split+crash"). */
void sim_fault_names(unsigned faults, char *out, unsigned cap);

#endif
