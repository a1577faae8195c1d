/* loyctl bench: each node's CPU time, signature checks and memory over a
 * run, read from STATUS before and after it (cli/bench_nodes.c). */
#ifndef LOY_CLI_BENCH_NODES_H
#define LOY_CLI_BENCH_NODES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cli/cli.h"

#define BENCH_MAX_NODES 16

struct bench_node_sample {
	double cpu_s;                     /* user + system, all threads */
	double sig_checks;                /* tx signatures verified so far */
	double max_rss_kib, rss_anon_kib; /* -1 when unknown */
};

struct bench_nodes {
	uint32_t n;
	const char *addr[BENCH_MAX_NODES];              /* borrowed */
	struct bench_node_sample s[2][BENCH_MAX_NODES]; /* before, after */
	bool ok[2][BENCH_MAX_NODES];
	double self_cpu_s[2]; /* this process (the load generator) */
	double wall_s[2];
};

/* The cost of a run, over the nodes measured both times. */
struct bench_cost {
	uint32_t nodes;
	double wall_s, cpu_s, sig_checks, client_cpu_s;
	double cpu_us_per_tx;    /* all nodes' CPU per committed tx */
	double checks_per_tx;    /* signature checks per committed tx */
	double client_us_per_tx; /* this process's CPU per committed tx */
};

/* The distinct addresses among node and spread (both borrowed). */
void bench_nodes_init(struct bench_nodes *bn, const char *node,
		      const char *const *spread, uint32_t nspread);
/* Reads every node's STATUS: when 0 before the run, 1 after it. */
void bench_nodes_sample(struct bench_nodes *bn, int when);
void bench_nodes_cost(const struct bench_nodes *bn, uint32_t committed,
		      struct bench_cost *cost);
/* {"nodes": [...], "node_cpu_us_per_tx", "signature_checks_per_tx", ...} */
json_t *bench_nodes_json(const struct bench_nodes *bn, uint32_t committed);
void bench_nodes_print(FILE *out, const struct bench_nodes *bn,
		       uint32_t committed);

#endif
