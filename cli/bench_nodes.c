/* loyctl bench: what the nodes spent on a run. Each node's STATUS, read
 * just before the measured window and just after its last commit, gives
 * the CPU time of all its threads, the signatures it verified and its
 * memory; with the committed count, that is the cost of one transaction,
 * which says how far the machine's cores can carry the cluster. */
#include "cli/bench_nodes.h"

#include <jansson.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "wire/client.h"

void bench_nodes_init(struct bench_nodes *bn, const char *node,
		      const char *const *spread, uint32_t nspread)
{
	memset(bn, 0, sizeof *bn);
	for (uint32_t i = 0; i <= nspread; i++) {
		const char *a = i == 0 ? node : spread[i - 1];
		bool seen = false;
		for (uint32_t k = 0; k < bn->n; k++)
			seen = seen || strcmp(bn->addr[k], a) == 0;
		if (!seen && bn->n < BENCH_MAX_NODES)
			bn->addr[bn->n++] = a;
	}
}

static double num(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	return json_is_number(v) ? json_number_value(v) : -1;
}

/* Reads one node's STATUS; false when it does not answer or predates the
 * fields. Quiet: a node down during the run is reported as unknown. */
static bool sample_one(const char *addr, struct bench_node_sample *s)
{
	struct cli_conn cn;
	struct loy_client_request q;
	struct loy_client_response r;
	json_t *st = NULL, *proc;
	bool ok = false;

	if (cli_conn_open(&cn, addr, 2000) != 0)
		return false;
	memset(&q, 0, sizeof q);
	q.kind = LOY_CLIENT_STATUS;
	if (cli_conn_call(&cn, &q, &r) == 0) {
		if (r.code == 0 && r.payload.len > 0)
			st = json_loadb((const char *)r.payload.data,
					r.payload.len, 0, NULL);
		loy_client_response_free(&r);
	}
	cli_conn_close(&cn);
	proc = json_object_get(st, "process");
	if (proc != NULL && num(proc, "cpu_user_s") >= 0 &&
	    num(st, "tx_signature_checks") >= 0) {
		s->cpu_s = num(proc, "cpu_user_s") + num(proc, "cpu_system_s");
		s->sig_checks = num(st, "tx_signature_checks");
		s->max_rss_kib = num(proc, "max_rss_kib");
		s->rss_anon_kib = num(proc, "rss_anon_kib");
		ok = true;
	}
	json_decref(st);
	return ok;
}

static double self_cpu_s(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double mono_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

void bench_nodes_sample(struct bench_nodes *bn, int when)
{
	for (uint32_t k = 0; k < bn->n; k++)
		bn->ok[when][k] = sample_one(bn->addr[k], &bn->s[when][k]);
	bn->self_cpu_s[when] = self_cpu_s();
	bn->wall_s[when] = mono_s();
}

void bench_nodes_cost(const struct bench_nodes *bn, uint32_t committed,
		      struct bench_cost *cost)
{
	double wall = bn->wall_s[1] - bn->wall_s[0];

	memset(cost, 0, sizeof *cost);
	for (uint32_t k = 0; k < bn->n; k++) {
		const struct bench_node_sample *a = &bn->s[0][k],
					       *b = &bn->s[1][k];
		if (!bn->ok[0][k] || !bn->ok[1][k])
			continue;
		cost->nodes++;
		cost->cpu_s += b->cpu_s - a->cpu_s;
		cost->sig_checks += b->sig_checks - a->sig_checks;
	}
	cost->wall_s = wall;
	cost->client_cpu_s = bn->self_cpu_s[1] - bn->self_cpu_s[0];
	if (committed > 0 && cost->nodes > 0) {
		cost->cpu_us_per_tx = cost->cpu_s * 1e6 / committed;
		cost->checks_per_tx = cost->sig_checks / committed;
	}
	if (committed > 0)
		cost->client_us_per_tx = cost->client_cpu_s * 1e6 / committed;
}

json_t *bench_nodes_json(const struct bench_nodes *bn, uint32_t committed)
{
	struct bench_cost cost;
	json_t *arr = json_array(), *o;
	double wall = bn->wall_s[1] - bn->wall_s[0];

	bench_nodes_cost(bn, committed, &cost);
	for (uint32_t k = 0; k < bn->n; k++) {
		const struct bench_node_sample *a = &bn->s[0][k],
					       *b = &bn->s[1][k];
		json_t *e = json_pack("{s:s, s:b}", "node", bn->addr[k],
				      "measured", bn->ok[0][k] && bn->ok[1][k]);
		if (bn->ok[0][k] && bn->ok[1][k]) {
			json_object_set_new(e, "cpu_s",
					    json_real(b->cpu_s - a->cpu_s));
			json_object_set_new(
			    e, "cores_busy",
			    json_real(wall > 0 ? (b->cpu_s - a->cpu_s) / wall
					       : 0));
			json_object_set_new(
			    e, "tx_signature_checks",
			    json_integer(
				(json_int_t)(b->sig_checks - a->sig_checks)));
			json_object_set_new(e, "max_rss_mib",
					    json_real(b->max_rss_kib / 1024.0));
			if (b->rss_anon_kib >= 0)
				json_object_set_new(
				    e, "rss_anon_mib",
				    json_real(b->rss_anon_kib / 1024.0));
		}
		json_array_append_new(arr, e);
	}
	o = json_pack("{s:o, s:i, s:f, s:f, s:f, s:f}", "nodes", arr,
		      "nodes_measured", (int)cost.nodes, "node_cpu_us_per_tx",
		      cost.cpu_us_per_tx, "signature_checks_per_tx",
		      cost.checks_per_tx, "client_cpu_us_per_tx",
		      cost.client_us_per_tx, "window_s", wall);
	return o;
}

void bench_nodes_print(FILE *out, const struct bench_nodes *bn,
		       uint32_t committed)
{
	struct bench_cost cost;
	double wall = bn->wall_s[1] - bn->wall_s[0];

	bench_nodes_cost(bn, committed, &cost);
	fprintf(out, "nodes         %-21s  %5s  %10s  %s\n", "address", "cores",
		"signatures", "MiB resident (highest / private now)");
	for (uint32_t k = 0; k < bn->n; k++) {
		const struct bench_node_sample *a = &bn->s[0][k],
					       *b = &bn->s[1][k];
		if (!bn->ok[0][k] || !bn->ok[1][k]) {
			fprintf(
			    out,
			    "              %-21s  not measured (no status)\n",
			    bn->addr[k]);
			continue;
		}
		fprintf(
		    out, "              %-21s  %5.2f  %10.0f  %.0f / %.0f\n",
		    bn->addr[k], wall > 0 ? (b->cpu_s - a->cpu_s) / wall : 0,
		    b->sig_checks - a->sig_checks, b->max_rss_kib / 1024.0,
		    b->rss_anon_kib / 1024.0);
	}
	if (cost.nodes > 0 && committed > 0)
		fprintf(out,
			"cost per tx   %.0f us of CPU in %u nodes, %.2f "
			"signature checks; this client %.0f us\n",
			cost.cpu_us_per_tx, cost.nodes, cost.checks_per_tx,
			cost.client_us_per_tx);
}
