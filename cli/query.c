/* The query commands: status, balance, history, tx, block, members,
 * settlement, report, totals, partnership show. Human tables by default;
 * with --json the node's payload object as is (the stable output). */
#include "cli/cli.h"

#include <string.h>
#include <time.h>

#include "ledger/query_kinds.h"
#include "wire/error.h"

static long long ival(const json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

static const char *sval(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

/* Runs one query (or STATUS when kind is 0) against c->node. */
static int ask(struct cli *c, uint8_t kind, const struct loy_client_arg *args,
	       uint32_t n, json_t **p)
{
	struct cli_conn cn;
	int rv = cli_connect(c, &cn);

	if (rv)
		return rv;
	rv = kind ? cli_query(c, &cn, kind, args, n, p) : cli_status(c, &cn, p);
	cli_conn_close(&cn);
	return rv;
}

/* Parses exactly one positional ID (or none when optional). */
static int one_id(struct cli *c, int argc, char **argv,
		  const struct cli_opt *opts, const struct cli_usage *u,
		  bool optional, uint8_t id[LOY_ID_SIZE], bool *have)
{
	const char *pos[1];
	int np, rv = cli_parse(c, argc, argv, opts, pos, 1, &np, u);

	if (rv)
		return rv;
	*have = np == 1;
	if (np == 0 && !optional)
		return cli_usage_error(c, u, "give a loyalty ID");
	if (np == 1 && cli_parse_id(pos[0], id) != 0)
		return cli_usage_error(
		    c, u, "'%s' is not a loyalty ID (mistyped?)", pos[0]);
	return 0;
}

/* Stage timings of status (node/timing.h): one line per stage. */
static void print_timing(FILE *out, const json_t *t)
{
	static const struct {
		const char *key, *what;
	} st[] = {
	    {"height", "one block applied to the next"},
	    {"propose", "the leader gathers, builds and sends the block"},
	    {"check", "this node executes the proposal"},
	    {"vote", "vote records written, PREPARE and COMMIT rounds"},
	    {"apply", "decided to applied here"},
	    {"admit", "a batch's signature checks (last batches)"},
	    {"flush", "a group written to data.mdb (last flushes)"},
	    {"sync", "data.mdb reaching the disk after a flush, off the "
		     "ledger thread"},
	};

	if (!json_is_object(t))
		return;
	fprintf(out, "timing        ms p50 / p90 / p99 (samples), of the "
		     "last heights here\n");
	for (size_t i = 0; i < sizeof st / sizeof st[0]; i++) {
		char key[32];
		const json_t *s;

		snprintf(key, sizeof key, "%s_us", st[i].key);
		s = json_object_get(t, key);
		fprintf(out, "  %-8s %7.1f / %6.1f / %6.1f (%lld)  %s\n",
			st[i].key, (double)ival(s, "p50") / 1000,
			(double)ival(s, "p90") / 1000,
			(double)ival(s, "p99") / 1000, ival(s, "n"),
			st[i].what);
	}
}

/* CPU and memory of the node's process, and its signature checks. */
static void print_process(FILE *out, const json_t *p)
{
	const json_t *pr = json_object_get(p, "process");

	if (pr == NULL)
		return;
	fprintf(out,
		"process       CPU %.1f s (user %.1f, system %.1f), memory "
		"%.0f MiB private now (%.0f at most), %.0f MiB resident at "
		"most\n"
		"signatures    %lld transactions verified here\n",
		json_number_value(json_object_get(pr, "cpu_user_s")) +
		    json_number_value(json_object_get(pr, "cpu_system_s")),
		json_number_value(json_object_get(pr, "cpu_user_s")),
		json_number_value(json_object_get(pr, "cpu_system_s")),
		(double)ival(pr, "rss_anon_kib") / 1024,
		(double)ival(pr, "rss_anon_peak_kib") / 1024,
		(double)ival(pr, "max_rss_kib") / 1024,
		ival(p, "tx_signature_checks"));
}

/* Polling interval of status --wait-height: the error it adds to a
 * measured catch-up time, against the node's work of answering. */
#define WAIT_POLL_MS 20

static uint64_t mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

/* Asks for the status over one connection until the node's height reaches
 * want (a script waiting for a restarted or wiped node to catch up, without
 * a process started per poll) or timeout_s pass. */
static int wait_height(struct cli *c, uint64_t want, uint64_t timeout_s,
		       json_t **p)
{
	struct cli_conn cn;
	uint64_t end = mono_ms() + timeout_s * 1000u;
	int rv = cli_connect(c, &cn);

	*p = NULL;
	while (rv == 0) {
		long long h;
		struct timespec pause = {0, WAIT_POLL_MS * 1000000L};

		json_decref(*p);
		if ((rv = cli_status(c, &cn, p)) != 0)
			break;
		h = ival(*p, "height");
		if (h >= 0 && (uint64_t)h >= want)
			break;
		if (mono_ms() >= end) {
			cli_err(c, "height %lld after %llu s, not yet %llu",
				(long long)h, (unsigned long long)timeout_s,
				(unsigned long long)want);
			rv = CLI_FAIL;
			break;
		}
		nanosleep(&pause, NULL);
	}
	cli_conn_close(&cn);
	if (rv != 0) {
		json_decref(*p);
		*p = NULL;
	}
	return rv;
}

int cmd_status(struct cli *c, int argc, char **argv)
{
	static const struct cli_usage u = {
	    "loyctl status [--wait-height H [--timeout S]]",
	    "The node's name, chain, height, view, leader, state root, peers, "
	    "mempool,\nload it sheds, and where its time goes: p50/p90/p99 of "
	    "each stage of\nits last 256 heights (propose, check, vote, "
	    "apply), "
	    "of admission and of\nflushes; the CPU time and memory of its "
	    "process, and the transaction\nsignatures it has verified.",
	    "  --wait-height H  ask again until the height reaches H, then "
	    "print\n"
	    "  --timeout S      give up waiting after S seconds (default 60; "
	    "exit 1)\n",
	    "  loyctl status --node 127.0.0.1:7202\n"
	    "  loyctl status --node 127.0.0.1:7204 --wait-height 1500 "
	    "--timeout 30\n"};
	const char *wait_s = NULL, *timeout_s = NULL;
	const struct cli_opt opts[] = {{"wait-height", OPT_STR, &wait_s},
				       {"timeout", OPT_STR, &timeout_s},
				       {NULL, 0, NULL}};
	uint64_t want = 0, timeout = 60;
	json_t *p;
	int np, rv = cli_parse(c, argc, argv, opts, NULL, 0, &np, &u);

	if (rv)
		return rv;
	if (wait_s && cli_parse_u64(wait_s, &want) != 0)
		return cli_usage_error(c, &u,
				       "--wait-height: '%s' is not a "
				       "height",
				       wait_s);
	if (timeout_s && (cli_parse_u64(timeout_s, &timeout) != 0 ||
			  timeout == 0 || timeout > 86400))
		return cli_usage_error(
		    c, &u, "--timeout: '%s' is not 1..86400 seconds",
		    timeout_s);
	if (timeout_s && !wait_s)
		return cli_usage_error(c, &u, "--timeout needs --wait-height");
	rv =
	    wait_s ? wait_height(c, want, timeout, &p) : ask(c, 0, NULL, 0, &p);
	if (rv)
		return rv;
	if (c->json) {
		cli_print_json(c, p);
	} else {
		fprintf(c->out,
			"node          %s (%s)\nchain         %s\nmember       "
			" %s\n"
			"height        %lld (deciding %lld, view %lld, %lld "
			"view changes)\n"
			"block hash    %s\nstate root    %s\nleader        %s\n"
			"validators    %lld, peers connected %zu\nmempool      "
			" %lld\n"
			"committed txs %lld\n"
			"history       indexed to height %lld\n"
			"clients       %lld (%lld not read from: too much in "
			"progress), %lld submits waiting for commits\n"
			"sync dropped  %lld requests (a peer asking too fast), "
			"%lld answers (not asked for)\n"
			"gossip dropped %lld batches (a peer sending too "
			"fast)\n",
			sval(p, "name"), c->node, sval(p, "chain_id"),
			sval(p, "member"), ival(p, "height"),
			ival(p, "deciding"), ival(p, "view"),
			ival(p, "view_changes"), sval(p, "block_hash"),
			sval(p, "state_root"), sval(p, "leader"),
			ival(p, "validators"),
			json_array_size(json_object_get(p, "peers")),
			ival(p, "mempool"), ival(p, "committed_txs"),
			ival(p, "history_height"), ival(p, "clients"),
			ival(p, "clients_paused"), ival(p, "submits_waiting"),
			ival(p, "sync_requests_dropped"),
			ival(p, "sync_answers_unasked"),
			ival(p, "gossip_batches_dropped"));
		print_process(c->out, p);
		print_timing(c->out, json_object_get(p, "timing"));
	}
	json_decref(p);
	return CLI_OK;
}

int cmd_balance(struct cli *c, int argc, char **argv)
{
	static const struct cli_usage u = {
	    "loyctl balance ID",
	    "An account's balance in points, its type (customer, member, "
	    "terminal),\n"
	    "nonce and public key.",
	    NULL,
	    "  loyctl balance loy7bmqtbufxtpcfzzu4g2zwxh73a2amre4irbhbfbj\n"};
	uint8_t id[LOY_ID_SIZE];
	struct loy_client_arg a;
	bool have;
	json_t *p;
	int rv = one_id(c, argc, argv, NULL, &u, false, id, &have);

	if (rv)
		return rv;
	cli_arg_bin(&a, id, LOY_ID_SIZE);
	if ((rv = ask(c, LOY_Q_ACCOUNT, &a, 1, &p)) != 0)
		return rv;
	if (c->json)
		cli_print_json(c, p);
	else
		fprintf(c->out, "%s  %lld points\ntype %s%s, nonce %lld\n",
			sval(p, "id"), ival(p, "balance"), sval(p, "type"),
			json_is_true(json_object_get(p, "active"))
			    ? ""
			    : " (inactive)",
			ival(p, "nonce"));
	json_decref(p);
	return CLI_OK;
}

int cmd_history(struct cli *c, int argc, char **argv)
{
	static const struct cli_usage u = {
	    "loyctl history ID [--limit N] [--cursor C]",
	    "An account's transactions, newest first. When more remain, the "
	    "next page\n"
	    "is --cursor NEXT (printed at the end; next_cursor in --json).",
	    "  --limit N    items per page (default 20, at most 1000)\n"
	    "  --cursor C   continue from a previous page\n",
	    "  loyctl history loy... --limit 50\n"};
	const char *limit = NULL, *cursor = NULL;
	const struct cli_opt opts[] = {{"limit", OPT_STR, &limit},
				       {"cursor", OPT_STR, &cursor},
				       {NULL, 0, NULL}};
	uint8_t id[LOY_ID_SIZE];
	struct loy_client_arg a[3];
	uint64_t lim = 20, cur = 0;
	bool have;
	json_t *p, *items, *v;
	size_t i;
	int rv = one_id(c, argc, argv, opts, &u, false, id, &have);

	if (rv)
		return rv;
	if (limit &&
	    (cli_parse_u64(limit, &lim) != 0 || lim == 0 || lim > 1000))
		return cli_usage_error(c, &u, "--limit must be 1..1000");
	if (cursor && cli_parse_u64(cursor, &cur) != 0)
		return cli_usage_error(
		    c, &u, "--cursor must be a number from an earlier page");
	cli_arg_bin(&a[0], id, LOY_ID_SIZE);
	cli_arg_uint(&a[1], cur);
	cli_arg_uint(&a[2], lim);
	if ((rv = ask(c, LOY_Q_HISTORY, a, 3, &p)) != 0)
		return rv;
	if (c->json) {
		cli_print_json(c, p);
	} else {
		struct cli_table t;
		static const char *const hdr[] = {"HEIGHT", "KIND", "DELTA",
						  "RESULT", "TX"};
		items = json_object_get(p, "items");
		cli_table_init(&t, 5, hdr);
		json_array_foreach(items, i, v)
		{
			char h[24], d[24];
			const char *row[5] = {h, sval(v, "kind"), d,
					      sval(v, "result"), sval(v, "tx")};
			snprintf(h, sizeof h, "%lld", ival(v, "height"));
			snprintf(d, sizeof d, "%+lld", ival(v, "delta"));
			cli_table_add(&t, row);
		}
		if (json_array_size(items) == 0)
			fprintf(c->out, "no transactions\n");
		else
			cli_table_print(c, &t);
		cli_table_free(&t);
		if (ival(p, "next_cursor") != 0 &&
		    json_array_size(items) == lim)
			fprintf(c->out, "more: --cursor %lld\n",
				ival(p, "next_cursor"));
	}
	json_decref(p);
	return CLI_OK;
}

int cmd_tx(struct cli *c, int argc, char **argv)
{
	static const struct cli_usage u = {
	    "loyctl tx HASH",
	    "A committed transaction: its fields, block height and result.",
	    NULL, "  loyctl tx 9ab0c1...ef\n"};
	const char *pos[1];
	uint8_t h[LOY_HASH_SIZE];
	struct loy_client_arg a;
	json_t *p;
	int np, rv = cli_parse(c, argc, argv, NULL, pos, 1, &np, &u);

	if (rv)
		return rv;
	if (np != 1 || cli_parse_hash(pos[0], h) != 0)
		return cli_usage_error(
		    c, &u, "give a transaction hash (64 hex digits)");
	cli_arg_bin(&a, h, LOY_HASH_SIZE);
	if ((rv = ask(c, LOY_Q_TX, &a, 1, &p)) != 0)
		return rv;
	if (c->json) {
		cli_print_json(c, p);
	} else {
		const char *k;
		json_t *v;
		json_object_foreach(p, k, v)
		{
			char *s = json_is_string(v)
				      ? NULL
				      : json_dumps(v, JSON_ENCODE_ANY);
			fprintf(c->out, "%-16s %s\n", k,
				s ? s : json_string_value(v));
			free(s);
		}
	}
	json_decref(p);
	return CLI_OK;
}

int cmd_block(struct cli *c, int argc, char **argv)
{
	static const struct cli_usage u = {
	    "loyctl block N",
	    "Block N: hash, time, previous hash, roots, proposer, its "
	    "transactions and\n"
	    "the number of commit signatures.",
	    NULL, "  loyctl block 12\n"};
	const char *pos[1];
	uint64_t hgt;
	struct loy_client_arg a;
	json_t *p, *v;
	size_t i;
	int np, rv = cli_parse(c, argc, argv, NULL, pos, 1, &np, &u);

	if (rv)
		return rv;
	if (np != 1 || cli_parse_u64(pos[0], &hgt) != 0 || hgt == 0)
		return cli_usage_error(c, &u,
				       "give a block height (1, 2, ...)");
	cli_arg_uint(&a, hgt);
	if ((rv = ask(c, LOY_Q_BLOCK, &a, 1, &p)) != 0)
		return rv;
	if (c->json) {
		cli_print_json(c, p);
	} else {
		char t[32];
		cli_format_time_ms(t, sizeof t, (uint64_t)ival(p, "time_ms"));
		fprintf(
		    c->out,
		    "height       %lld (view %lld)\nhash         %s\ntime      "
		    "   %s\n"
		    "prev hash    %s\ntx root      %s\nstate root   "
		    "%s\nproposer     %s\n"
		    "commit sigs  %lld\nbytes        %lld\ntransactions %zu\n",
		    ival(p, "height"), ival(p, "view"), sval(p, "hash"), t,
		    sval(p, "prev_hash"), sval(p, "tx_root"),
		    sval(p, "state_root"), sval(p, "proposer"),
		    ival(p, "commit_signatures"), ival(p, "bytes"),
		    json_array_size(json_object_get(p, "txs")));
		json_array_foreach(json_object_get(p, "txs"), i, v)
		    fprintf(c->out, "  %s\n", json_string_value(v));
	}
	json_decref(p);
	return CLI_OK;
}

int cmd_members(struct cli *c, int argc, char **argv)
{
	static const struct cli_usage u = {
	    "loyctl members", "The consortium's member companies (validators).",
	    NULL, "  loyctl members --json\n"};
	json_t *p, *v;
	size_t i;
	int np, rv = cli_parse(c, argc, argv, NULL, NULL, 0, &np, &u);

	if (rv || (rv = ask(c, LOY_Q_MEMBERS, NULL, 0, &p)) != 0)
		return rv;
	if (c->json) {
		cli_print_json(c, p);
	} else {
		struct cli_table t;
		static const char *const hdr[] = {"NAME", "ID", "ADDRESS",
						  "ACTIVE"};
		cli_table_init(&t, 4, hdr);
		json_array_foreach(json_object_get(p, "members"), i, v)
		{
			const char *row[4] = {
			    sval(v, "name"), sval(v, "id"), sval(v, "address"),
			    json_is_true(json_object_get(v, "active")) ? "yes"
								       : "no"};
			cli_table_add(&t, row);
		}
		cli_table_print(c, &t);
		cli_table_free(&t);
	}
	json_decref(p);
	return CLI_OK;
}

int cmd_settlement(struct cli *c, int argc, char **argv)
{
	static const struct cli_usage u = {
	    "loyctl settlement [MEMBER_ID]",
	    "Settlement positions: per member the points issued (a liability), "
	    "redeemed\n"
	    "at it (a claim), commissions, payments settled, and the net: "
	    "payable,\n"
	    "receivable, net (positive: the member is owed).",
	    NULL, "  loyctl settlement\n  loyctl settlement loy... --json\n"};
	uint8_t id[LOY_ID_SIZE];
	struct loy_client_arg a;
	bool have;
	json_t *p, *v;
	size_t i;
	int rv = one_id(c, argc, argv, NULL, &u, true, id, &have);

	if (rv)
		return rv;
	if (have)
		cli_arg_bin(&a, id, LOY_ID_SIZE);
	if ((rv = ask(c, LOY_Q_SETTLEMENT, &a, have ? 1 : 0, &p)) != 0)
		return rv;
	if (c->json) {
		cli_print_json(c, p);
	} else {
		struct cli_table t;
		static const char *const hdr[] = {
		    "MEMBER",  "ISSUED",  "REVERSED",   "REDEEMED_AT",
		    "COUPONS", "PAYABLE", "RECEIVABLE", "NET"};
		cli_table_init(&t, 8, hdr);
		json_array_foreach(json_object_get(p, "settlement"), i, v)
		{
			char f[7][24];
			const char *row[8];
			const char *name = sval(v, "name");
			row[0] = name[0] ? name : sval(v, "member");
			snprintf(f[0], 24, "%lld", ival(v, "issued"));
			snprintf(f[1], 24, "%lld", ival(v, "reversed"));
			snprintf(f[2], 24, "%lld", ival(v, "redeemed_at"));
			snprintf(f[3], 24, "%lld", ival(v, "coupon_at"));
			snprintf(f[4], 24, "%lld", ival(v, "payable"));
			snprintf(f[5], 24, "%lld", ival(v, "receivable"));
			snprintf(f[6], 24, "%+lld", ival(v, "net"));
			for (int k = 0; k < 7; k++)
				row[k + 1] = f[k];
			cli_table_add(&t, row);
		}
		cli_table_print(c, &t);
		cli_table_free(&t);
	}
	json_decref(p);
	return CLI_OK;
}

int cmd_report(struct cli *c, int argc, char **argv)
{
	static const struct cli_usage u = {
	    "loyctl report --member ID --from YYYY-MM-DD --to YYYY-MM-DD",
	    "Per day between two dates (inclusive, UTC) for a member: points "
	    "issued,\n"
	    "redeemed, active customers, transactions and the outstanding "
	    "liability.",
	    "  --member ID    the member\n  --from DAY --to DAY   dates "
	    "(UTC)\n",
	    "  loyctl report --member loy... --from 2025-01-01 --to "
	    "2025-01-31\n"};
	const char *member = NULL, *from = NULL, *to = NULL;
	const struct cli_opt opts[] = {{"member", OPT_STR, &member},
				       {"from", OPT_STR, &from},
				       {"to", OPT_STR, &to},
				       {NULL, 0, NULL}};
	uint8_t id[LOY_ID_SIZE];
	uint32_t df, dt;
	struct loy_client_arg a[3];
	json_t *p, *v;
	size_t i;
	int np, rv = cli_parse(c, argc, argv, opts, NULL, 0, &np, &u);

	if (rv)
		return rv;
	if (!member || !from || !to)
		return cli_usage_error(
		    c, &u, "--member, --from and --to are required");
	if (cli_parse_id(member, id) != 0)
		return cli_usage_error(
		    c, &u, "--member: '%s' is not a loyalty ID", member);
	if (cli_parse_day(from, &df) != 0 || cli_parse_day(to, &dt) != 0 ||
	    dt < df)
		return cli_usage_error(c, &u,
				       "--from/--to must be dates YYYY-MM-DD, "
				       "--to not before --from");
	cli_arg_bin(&a[0], id, LOY_ID_SIZE);
	cli_arg_uint(&a[1], df);
	cli_arg_uint(&a[2], dt);
	if ((rv = ask(c, LOY_Q_REPORT, a, 3, &p)) != 0)
		return rv;
	if (c->json) {
		cli_print_json(c, p);
	} else {
		struct cli_table t;
		static const char *const hdr[] = {
		    "DAY", "ISSUED",     "REDEEMED", "ACTIVE_CUSTOMERS",
		    "TXS", "OUTSTANDING"};
		cli_table_init(&t, 6, hdr);
		json_array_foreach(json_object_get(p, "days"), i, v)
		{
			char f[6][24];
			const char *row[6] = {f[0], f[1], f[2],
					      f[3], f[4], f[5]};
			cli_format_day(f[0], 24, ival(v, "day"));
			snprintf(f[1], 24, "%lld", ival(v, "issued"));
			snprintf(f[2], 24, "%lld", ival(v, "redeemed"));
			snprintf(f[3], 24, "%lld", ival(v, "active_customers"));
			snprintf(f[4], 24, "%lld", ival(v, "txs"));
			snprintf(f[5], 24, "%lld", ival(v, "outstanding"));
			cli_table_add(&t, row);
		}
		fprintf(c->out, "member %s, %s .. %s\n", sval(p, "member"),
			from, to);
		if (json_array_size(json_object_get(p, "days")) == 0)
			fprintf(c->out, "no activity\n");
		else
			cli_table_print(c, &t);
		cli_table_free(&t);
	}
	json_decref(p);
	return CLI_OK;
}

int cmd_totals(struct cli *c, int argc, char **argv)
{
	static const struct cli_usage u = {
	    "loyctl totals",
	    "Programme totals: points issued, reversed, redeemed (and by "
	    "coupon),\n"
	    "customers and outstanding points.",
	    NULL, "  loyctl totals --json\n"};
	json_t *p;
	int np, rv = cli_parse(c, argc, argv, NULL, NULL, 0, &np, &u);

	if (rv || (rv = ask(c, LOY_Q_TOTALS, NULL, 0, &p)) != 0)
		return rv;
	if (c->json)
		cli_print_json(c, p);
	else
		fprintf(c->out,
			"issued           %lld\nreversed         "
			"%lld\nredeemed         %lld\n"
			"coupon redeemed  %lld\ncustomers        "
			"%lld\noutstanding      %lld\n",
			ival(p, "issued"), ival(p, "reversed"),
			ival(p, "redeemed"), ival(p, "coupon_redeemed"),
			ival(p, "customers"), ival(p, "outstanding"));
	json_decref(p);
	return CLI_OK;
}

int cli_partnership_show(struct cli *c, int argc, char **argv);
int cli_partnership_show(struct cli *c, int argc, char **argv)
{
	static const struct cli_usage u = {
	    "loyctl partnership show NAME",
	    "A partnership's creator, terms, members and pending join "
	    "requests.",
	    NULL, "  loyctl partnership show city-card\n"};
	const char *pos[1];
	struct loy_client_arg a;
	json_t *p, *v;
	size_t i;
	int np, rv = cli_parse(c, argc, argv, NULL, pos, 1, &np, &u);

	if (rv)
		return rv;
	if (np != 1 || strlen(pos[0]) > LOY_NAME_MAX)
		return cli_usage_error(c, &u, "give the partnership's name");
	cli_arg_str(&a, pos[0]);
	if ((rv = ask(c, LOY_Q_PARTNERSHIP, &a, 1, &p)) != 0)
		return rv;
	if (c->json) {
		cli_print_json(c, p);
	} else {
		json_t *t = json_object_get(p, "terms");
		fprintf(c->out,
			"partnership %s\ncreator     %s\nterms       %lld/%lld "
			"points per unit + %lld bonus, min purchase %lld\n"
			"pending     %lld join requests\nmembers:\n",
			sval(p, "name"), sval(p, "creator"),
			ival(t, "rate_num"), ival(t, "rate_den"),
			ival(t, "bonus"), ival(t, "min_purchase"),
			ival(p, "pending"));
		json_array_foreach(json_object_get(p, "members"), i, v)
		    fprintf(c->out, "  %s\n", json_string_value(v));
	}
	json_decref(p);
	return CLI_OK;
}
