/* The STATUS answer: where the node is (height, view, leader, peers), what
 * it holds back under load, where its time goes (node/timing.h) and what
 * the process has used. */
#include "node/internal.h"

#include <jansson.h>
#include <stdio.h>
#include <sys/resource.h>

#include "node/client_int.h"
#include "node/json_fmt.h"

/* Percentiles of each stage of the last heights (node/timing.h), in us. */
static json_t *timing_json(const struct loy_timing *t)
{
	json_t *o = json_object();

	for (int s = 0; s < LOY_T_COUNT && o; s++) {
		struct loy_timing_pct p;
		char key[32];

		loy_timing_pct(t, (enum loy_timing_stage)s, &p);
		snprintf(key, sizeof key, "%s_us",
			 loy_timing_name((enum loy_timing_stage)s));
		json_object_set_new(
		    o, key,
		    json_pack("{s:I, s:I, s:I, s:I, s:I}", "n", (json_int_t)p.n,
			      "p50", (json_int_t)p.p50_us, "p90",
			      (json_int_t)p.p90_us, "p99", (json_int_t)p.p99_us,
			      "max", (json_int_t)p.max_us));
	}
	return o;
}

static double tv_s(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

/* The private part of the resident memory now (RssAnon, Linux), in KiB;
 * -1 where /proc does not tell. */
static long long rss_anon_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[128];
	long long kib = -1, v;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "RssAnon: %lld kB", &v) == 1) {
			kib = v;
			break;
		}
	fclose(f);
	return kib;
}

static void note_peak(struct loy_node *n, long long kib)
{
	if (kib > 0 && (uint64_t)kib > n->rss_anon_peak_kib)
		n->rss_anon_peak_kib = (uint64_t)kib;
}

void loy_node_mem_sample(struct loy_node *n)
{
	note_peak(n, rss_anon_kib());
}

/* What the process has used so far: CPU time of all its threads, the
 * highest resident memory, and (Linux) the private part resident now and
 * at its highest. So a load generator, on this host or another, reports
 * each node's cost without sampling its memory itself. */
static json_t *process_json(struct loy_node *n)
{
	struct rusage ru;
	json_t *o = json_object();
	long long anon;

	if (o == NULL || getrusage(RUSAGE_SELF, &ru) != 0)
		return o;
	json_object_set_new(o, "cpu_user_s", json_real(tv_s(&ru.ru_utime)));
	json_object_set_new(o, "cpu_system_s", json_real(tv_s(&ru.ru_stime)));
	json_object_set_new(o, "max_rss_kib", json_integer(ru.ru_maxrss));
	anon = rss_anon_kib();
	if (anon >= 0) {
		note_peak(n, anon); /* so the peak shown is never below now */
		json_object_set_new(o, "rss_anon_kib", json_integer(anon));
		json_object_set_new(
		    o, "rss_anon_peak_kib",
		    json_integer((json_int_t)n->rss_anon_peak_kib));
	}
	return o;
}

json_t *loy_node_status_json(struct loy_node *n)
{
	uint8_t keys[LOY_MAX_VALIDATORS][LOY_PUBKEY_SIZE];
	uint32_t np =
	    n->net ? loy_peer_net_connected(n->net, keys, LOY_MAX_VALIDATORS)
		   : 0;
	uint64_t height = loy_cons_height(n->cons),
		 view = loy_cons_view(n->cons);
	json_t *peers = json_array(), *o;
	const uint8_t *leader = NULL;
	uint8_t id[LOY_ID_SIZE];

	for (uint32_t i = 0; i < np; i++)
		json_array_append_new(peers,
				      hex_json(keys[i], LOY_PUBKEY_SIZE));
	if (n->valset.n > 0)
		leader = n->valset.keys[(height + view) % n->valset.n];
	loy_id_from_pubkey(id, n->pk);
	o = json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
		      "s:I, s:I, s:o}",
		      "name", n->cfg.name, "chain_id", n->genesis.chain_id,
		      "member", id_json(id), "validator_key",
		      hex_json(n->pk, LOY_PUBKEY_SIZE), "height",
		      u64_json(n->tip_height), "deciding", u64_json(height),
		      "view", u64_json(view), "view_changes",
		      u64_json(loy_cons_view_changes(n->cons)), "block_hash",
		      hex_json(n->tip_hash, LOY_HASH_SIZE), "state_root",
		      hex_json(n->tip_root, LOY_HASH_SIZE), "peers", peers,
		      "validators", (json_int_t)n->valset.n, "mempool",
		      (json_int_t)loy_mempool_count(n->mempool),
		      "committed_txs", u64_json(n->committed_txs));
	if (o && leader)
		json_object_set_new(o, "leader",
				    hex_json(leader, LOY_PUBKEY_SIZE));
	if (o) {
		/* load shed: what node/serve_limit.h and MAX_CLIENT_REFS held
		 * back (a flood shows here before it shows anywhere else) */
		uint32_t open = 0, paused = 0;
		uint64_t waiting = 0;
		if (n->api)
			loy_client_api_counts(n->api, &open, &paused, &waiting);
		json_object_set_new(o, "clients", json_integer(open));
		json_object_set_new(o, "clients_paused", json_integer(paused));
		json_object_set_new(o, "submits_waiting", u64_json(waiting));
		json_object_set_new(o, "sync_requests_dropped",
				    u64_json(loy_serve_dropped(&n->serving)));
		json_object_set_new(o, "sync_answers_unasked",
				    u64_json(n->sync_unasked));
		json_object_set_new(o, "gossip_batches_dropped",
				    u64_json(loy_serve_dropped(&n->gossiping)));
		json_object_set_new(o, "timing", timing_json(&n->timing));
		json_object_set_new(o, "tx_signature_checks",
				    u64_json(n->sig_checks));
		/* how far behind the chain account history is being indexed
		 * (queries catch up the rest themselves) */
		json_object_set_new(o, "history_height",
				    u64_json(n->history_height));
		json_object_set_new(o, "process", process_json(n));
	}
	return o;
}
