/* loyctl audit and export: replay a chain (a node's data directory or an
 * exported chain file) from genesis and give a verdict; write a chain file. */
#include "cli/cli.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ledger/audit.h"
#include "ledger/genesis_json.h"
#include "ledger/txjson.h"
#include "wire/error.h"

struct progress {
	struct cli *c;
	struct timespec start, last;
	bool shown;
};

static double secs_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) +
	       (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* At most one progress line a second, and only once the run is long. */
static int on_progress(void *data, uint64_t height, uint64_t txs)
{
	struct progress *p = data;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (secs_between(&p->last, &now) < 1.0)
		return 0;
	p->last = now;
	p->shown = true;
	fprintf(p->c->err, "%saudit: block %llu, %llu transactions, %.0f tx/s",
		isatty(fileno(p->c->err)) ? "\r" : "",
		(unsigned long long)height, (unsigned long long)txs,
		(double)txs / secs_between(&p->start, &now));
	if (!isatty(fileno(p->c->err)))
		fputc('\n', p->c->err);
	fflush(p->c->err);
	return 0;
}

static const struct cli_usage audit_usage = {
    "loyctl audit (--data-dir DIR | --file CHAIN) --genesis FILE",
    "Replays a chain from genesis into a scratch store and verifies "
    "everything:\n"
    "block hashes and links, tx roots, commit certificates against the "
    "validator\n"
    "set of each height, every signature, re-execution with the state root of\n"
    "each header, and at the end the ledger invariants (conservation, "
    "settlement\n"
    "positions, coupons used once, nonces). Safe on a running node's data "
    "dir.\n"
    "Exit 0 only when everything verifies; otherwise names the first bad "
    "block.",
    "  --data-dir DIR   a node's data directory (opened read-only)\n"
    "  --file CHAIN     a chain file written by loyctl export\n"
    "  --genesis FILE   the genesis file the chain starts from\n"
    "  --tmpdir DIR     where the scratch store goes (default /tmp)\n",
    "  loyctl audit --data-dir testnet/node1/data --genesis "
    "testnet/genesis.json\n"
    "  loyctl audit --file chain.loy --genesis genesis.json --json\n",
};

int cmd_audit(struct cli *c, int argc, char **argv)
{
	const char *dir = NULL, *file = NULL, *gen = NULL, *tmp = NULL;
	const struct cli_opt opts[] = {{"data-dir", OPT_STR, &dir},
				       {"file", OPT_STR, &file},
				       {"genesis", OPT_STR, &gen},
				       {"tmpdir", OPT_STR, &tmp},
				       {NULL, 0, NULL}};
	static struct loy_genesis g;
	struct loy_audit_report rep;
	struct loy_audit_opts ao;
	struct progress pr;
	char err[1024], root[2 * LOY_HASH_SIZE + 1];
	double secs;
	int np, rv = cli_parse(c, argc, argv, opts, NULL, 0, &np, &audit_usage);

	if (rv)
		return rv;
	if ((dir == NULL) == (file == NULL))
		return cli_usage_error(
		    c, &audit_usage,
		    "give one of --data-dir DIR or --file CHAIN");
	if (gen == NULL)
		return cli_usage_error(c, &audit_usage,
				       "--genesis FILE is required");
	memset(&g, 0, sizeof g);
	if (loy_genesis_load(&g, gen, err, sizeof err) != 0) {
		cli_err(c, "%s", err);
		return CLI_FAIL;
	}
	memset(&ao, 0, sizeof ao);
	memset(&rep, 0, sizeof rep);
	memset(&pr, 0, sizeof pr);
	pr.c = c;
	clock_gettime(CLOCK_MONOTONIC, &pr.start);
	pr.last = pr.start;
	ao.tmpdir = tmp;
	ao.progress = on_progress;
	ao.data = &pr;
	rv = dir ? loy_audit_datadir(&g, dir, &ao, &rep)
		 : loy_audit_file(&g, file, &ao, &rep);
	{
		struct timespec end;
		clock_gettime(CLOCK_MONOTONIC, &end);
		secs = secs_between(&pr.start, &end);
	}
	if (pr.shown && isatty(fileno(c->err)))
		fputc('\n', c->err);
	loy_hex(root, rep.state_root, LOY_HASH_SIZE);
	if (c->json) {
		json_t *o = json_pack(
		    "{s:b, s:s, s:I, s:I, s:s, s:b, s:f}", "ok",
		    rv == 0 && rep.ok, "source", dir ? dir : file, "blocks",
		    (json_int_t)rep.blocks, "transactions", (json_int_t)rep.txs,
		    "state_root", root, "invariants_checked", rv == 0 && rep.ok,
		    "seconds", secs);
		if (!(rv == 0 && rep.ok)) {
			json_object_set_new(
			    o, "height", json_integer((json_int_t)rep.height));
			json_object_set_new(o, "tx", json_integer(rep.tx));
			json_object_set_new(o, "reason",
					    json_string(rep.reason));
		}
		cli_print_json(c, o);
		json_decref(o);
	}
	if (rv == 0 && rep.ok) {
		if (!c->json) {
			cli_ok(c, "audit passed: %s", dir ? dir : file);
			fprintf(c->out,
				"blocks        %llu\ntransactions  %llu (every "
				"signature verified)\n"
				"state root    %s (matches the last header)\n"
				"invariants    conservation, settlement "
				"positions, coupons used once, "
				"nonces: all hold\ntime          %.2f s (%.0f "
				"tx/s)\n",
				(unsigned long long)rep.blocks,
				(unsigned long long)rep.txs, root, secs,
				secs > 0 ? (double)rep.txs / secs : 0.0);
		}
		return CLI_OK;
	}
	if (rv == LOY_ECORRUPT || (rv == 0 && !rep.ok)) {
		if (rep.tx >= 0)
			cli_err(
			    c,
			    "audit FAILED at block %llu, transaction %lld: %s",
			    (unsigned long long)rep.height, (long long)rep.tx,
			    rep.reason);
		else
			cli_err(c, "audit FAILED at block %llu: %s",
				(unsigned long long)rep.height, rep.reason);
		fprintf(c->err,
			"verified before it: %llu blocks, %llu transactions\n",
			(unsigned long long)rep.blocks,
			(unsigned long long)rep.txs);
	} else {
		cli_err(c, "audit could not run: %s",
			rep.reason[0] ? rep.reason : loy_strerror(rv));
	}
	return CLI_FAIL;
}

static const struct cli_usage export_usage = {
    "loyctl export --data-dir DIR --out FILE",
    "Writes every block of a node's chain with its commit certificate to a "
    "chain\n"
    "file for auditors (the node may keep running: the store is opened "
    "read-only).",
    "  --data-dir DIR   the node's data directory\n"
    "  --out FILE       the chain file to write (replaced atomically)\n",
    "  loyctl export --data-dir testnet/node1/data --out chain.loy\n"
    "  loyctl audit --file chain.loy --genesis testnet/genesis.json\n",
};

int cmd_export(struct cli *c, int argc, char **argv)
{
	const char *dir = NULL, *out = NULL;
	const struct cli_opt opts[] = {{"data-dir", OPT_STR, &dir},
				       {"out", OPT_STR, &out},
				       {NULL, 0, NULL}};
	struct loy_ledger *l;
	char err[512];
	uint64_t height = 0;
	int np,
	    rv = cli_parse(c, argc, argv, opts, NULL, 0, &np, &export_usage);

	if (rv)
		return rv;
	if (dir == NULL || out == NULL)
		return cli_usage_error(c, &export_usage,
				       "--data-dir and --out are required");
	rv = loy_ledger_open(dir, LOY_LEDGER_RDONLY, 0, &l, err, sizeof err);
	if (rv != 0) {
		cli_err(c, "%s: %s", dir, err);
		return CLI_FAIL;
	}
	if (loy_ledger_tip(l, &height, NULL, NULL, NULL) != 0)
		height = 0;
	rv = loy_ledger_export(l, out, err, sizeof err);
	loy_ledger_close(l);
	if (rv != 0) {
		cli_err(c, "export: %s", err);
		return CLI_FAIL;
	}
	if (c->json) {
		json_t *o = json_pack("{s:s, s:I}", "file", out, "blocks",
				      (json_int_t)height);
		cli_print_json(c, o);
		json_decref(o);
	} else
		fprintf(c->out, "exported blocks 1..%llu to %s\n",
			(unsigned long long)height, out);
	return CLI_OK;
}
