/* loyctl coupon: issue a batch (allotted or bearer codes written to a file),
 * redeem one, and the coupon queries (batch status, a customer's coupons,
 * coupons redeemable near a place). */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger/query_kinds.h"
#include "ledger/txjson.h"
#include "wire/error.h"

/* Bearer codes: 16 characters of an unambiguous alphabet (80 bits). */
#define CODE_LEN 16
static const char code_alphabet[] = "abcdefghjkmnpqrstuvwxyz23456789";

struct bearer_codes {
	struct cli *c;
	const char *path;
	uint32_t n;
	char (*codes)[CODE_LEN + 1];
};

/* Writes the codes file once the batch hash is known, before submitting:
 * codes must never be lost for a batch that commits. */
static int write_codes(void *d, const uint8_t hash[LOY_HASH_SIZE])
{
	struct bearer_codes *bc = d;
	char hh[2 * LOY_HASH_SIZE + 1];
	int fd = open(bc->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (f == NULL) {
		cli_err(bc->c, "%s: %s", bc->path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return CLI_FAIL;
	}
	loy_hex(hh, hash, LOY_HASH_SIZE);
	fprintf(f, "# bearer coupons of batch %s: batch index code\n", hh);
	for (uint32_t i = 0; i < bc->n; i++)
		fprintf(f, "%s %u %s\n", hh, i, bc->codes[i]);
	if (fclose(f) != 0) {
		cli_err(bc->c, "%s: %s", bc->path, strerror(errno));
		return CLI_FAIL;
	}
	if (!bc->c->json && !bc->c->sign.active)
		fprintf(bc->c->err, "wrote %u bearer codes to %s (mode 0600)\n",
			bc->n, bc->path);
	return 0;
}

static int split_ids(struct cli *c, const struct cli_usage *u,
		     const struct cli_list *l, uint8_t (*out)[LOY_ID_SIZE],
		     uint32_t max, uint32_t *n, const char *what)
{
	*n = 0;
	for (int i = 0; i < l->n; i++) {
		char buf[4096];
		char *p = buf, *tok;
		if (cli_copy_field(buf, sizeof buf, l->v[i]) != 0)
			return cli_usage_error(c, u, "%s list too long", what);
		while ((tok = strsep(&p, ",")) != NULL) {
			if (*tok == '\0')
				continue;
			if (*n >= max)
				return cli_usage_error(c, u, "at most %u %s",
						       max, what);
			if (cli_parse_id(tok, out[*n]) != 0)
				return cli_usage_error(
				    c, u, "%s: '%s' is not a loyalty ID", what,
				    tok);
			(*n)++;
		}
	}
	return 0;
}

static int coupon_issue(struct cli *c, int argc, char **argv)
{
	static const struct cli_usage u = {
	    "loyctl coupon issue --value N --from T --until T (--to ID[,ID...] "
	    "| --bearer N --codes-file FILE)\n"
	    "       [--geofence LAT,LON,RADIUS_M] [--sites ID,...] "
	    "[--per-customer N]",
	    "Issues a batch of coupons worth N points each, valid in [--from, "
	    "--until)\n"
	    "(block time; T is YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS]Z or ms). Each "
	    "coupon is\n"
	    "allotted to a customer (--to, repeatable or comma-separated) or "
	    "is a bearer\n"
	    "coupon whose secret code is written to --codes-file (0600) for "
	    "printing.\n"
	    "Coupon i of the batch is (batch hash, i); the batch hash is "
	    "printed.",
	    "  --value N              points per coupon\n"
	    "  --from T --until T     validity window\n"
	    "  --to ID[,ID...]        allotted coupons, one per ID\n"
	    "  --bearer N             N bearer coupons (needs --codes-file)\n"
	    "  --codes-file FILE      where bearer codes go (must not exist)\n"
	    "  --geofence LAT,LON,R   redeemable only within R metres (decimal "
	    "degrees)\n"
	    "  --sites ID,...         members where redeemable (default: the "
	    "issuer)\n"
	    "  --per-customer N       at most N redeemed per customer (0: no "
	    "limit)\n",
	    "  loyctl coupon issue --value 50 --from 2025-01-01 --until "
	    "2025-02-01 \\\n"
	    "      --geofence 48.856613,2.352222,500 --to loy...,loy... --key "
	    "node1/validator.key\n"
	    "  loyctl coupon issue --value 20 --from 2025-01-01 --until "
	    "2025-12-31 --bearer 100 \\\n"
	    "      --codes-file codes.txt --key node1/validator.key\n"};
	const char *value = NULL, *from = NULL, *until = NULL, *bearer = NULL,
		   *codes = NULL;
	const char *geo = NULL, *per = NULL;
	struct cli_list *to = calloc(1, sizeof *to),
			*sites = calloc(1, sizeof *sites);
	const struct cli_opt opts[] = {
	    {"value", OPT_STR, &value},      {"from", OPT_STR, &from},
	    {"until", OPT_STR, &until},      {"to", OPT_LIST, to},
	    {"bearer", OPT_STR, &bearer},    {"codes-file", OPT_STR, &codes},
	    {"geofence", OPT_STR, &geo},     {"sites", OPT_LIST, sites},
	    {"per-customer", OPT_STR, &per}, {NULL, 0, NULL}};
	struct loy_tx tx;
	struct loy_tx_coupon_issue *b = &tx.u.coupon_issue;
	struct bearer_codes bc = {c, NULL, 0, NULL};
	uint8_t(*ids)[LOY_ID_SIZE] =
	    calloc(LOY_MAX_COUPONS_PER_ISSUE, LOY_ID_SIZE);
	uint32_t nids = 0, nb = 0;
	int np, rv;

	memset(&tx, 0, sizeof tx);
	if (to == NULL || sites == NULL || ids == NULL) {
		rv = CLI_FAIL;
		goto out;
	}
	tx.kind = LOY_TX_COUPON_ISSUE;
	rv = cli_parse(c, argc, argv, opts, NULL, 0, &np, &u);
	if (rv)
		goto out;
	rv = CLI_USAGE;
	if (value == NULL || from == NULL || until == NULL) {
		cli_usage_error(c, &u,
				"--value, --from and --until are required");
		goto out;
	}
	if (cli_parse_u64(value, &b->value) != 0 || b->value == 0) {
		cli_usage_error(c, &u, "--value must be a positive integer");
		goto out;
	}
	if (cli_parse_time_ms(from, &b->valid_from_ms) != 0 ||
	    cli_parse_time_ms(until, &b->valid_until_ms) != 0 ||
	    b->valid_until_ms <= b->valid_from_ms) {
		cli_usage_error(c, &u,
				"--from/--until must be dates or ms with "
				"--until after --from");
		goto out;
	}
	if (geo) {
		if (cli_parse_geo(geo, &b->center, &b->radius_m, 1) != 0) {
			cli_usage_error(c, &u,
					"--geofence must be LAT,LON,RADIUS_M "
					"(e.g. 48.8566,2.3522,500)");
			goto out;
		}
		b->has_geofence = true;
	}
	if (per && cli_parse_u32(per, &b->per_customer_limit) != 0) {
		cli_usage_error(c, &u, "--per-customer must be an integer");
		goto out;
	}
	if (split_ids(c, &u, sites, b->sites, LOY_MAX_REDEEM_SITES,
		      &b->site_count, "sites") ||
	    split_ids(c, &u, to, ids, LOY_MAX_COUPONS_PER_ISSUE, &nids,
		      "--to customers"))
		goto out;
	if (bearer && (cli_parse_u32(bearer, &nb) != 0 || nb == 0)) {
		cli_usage_error(c, &u, "--bearer must be a positive count");
		goto out;
	}
	if ((nb > 0) == (nids > 0)) {
		cli_usage_error(c, &u,
				"give either --to customers or --bearer N");
		goto out;
	}
	if (nb > 0 && codes == NULL) {
		cli_usage_error(
		    c, &u,
		    "--bearer needs --codes-file FILE for the secret codes");
		goto out;
	}
	if (nb + nids > LOY_MAX_COUPONS_PER_ISSUE) {
		cli_usage_error(c, &u, "at most %u coupons in one batch",
				LOY_MAX_COUPONS_PER_ISSUE);
		goto out;
	}
	b->coupon_count = nb + nids;
	b->coupons = calloc(b->coupon_count, sizeof *b->coupons);
	if (b->coupons == NULL ||
	    (nb && (bc.codes = calloc(nb, sizeof *bc.codes)) == NULL)) {
		rv = CLI_FAIL;
		goto out;
	}
	for (uint32_t i = 0; i < nids; i++) {
		b->coupons[i].holder_kind = LOY_COUPON_ALLOTTED;
		memcpy(b->coupons[i].holder, ids[i], LOY_ID_SIZE);
	}
	for (uint32_t i = 0; i < nb; i++) {
		uint8_t rnd[LOY_HASH_SIZE];
		{
			uint8_t pk[LOY_PUBKEY_SIZE], sk[LOY_SECKEY_SIZE];
			loy_keypair(pk, sk); /* randomness from libsodium */
			loy_hash(rnd, sk, LOY_SEED_SIZE);
			loy_wipe(sk, sizeof sk);
		}
		for (int k = 0; k < CODE_LEN; k++)
			bc.codes[i][k] =
			    code_alphabet[rnd[k] % (sizeof code_alphabet - 1)];
		bc.codes[i][CODE_LEN] = '\0';
		b->coupons[i].holder_kind = LOY_COUPON_BEARER;
		loy_hash(b->coupons[i].holder, bc.codes[i], CODE_LEN);
	}
	bc.path = codes;
	bc.n = nb;
	if (!c->json && !c->sign.active)
		fprintf(c->err, "issuing %u coupons of %llu points\n",
			b->coupon_count, (unsigned long long)b->value);
	rv = cli_tx_finish_cb(c, &tx, nb ? write_codes : NULL, &bc);
out:
	loy_tx_free(&tx);
	if (bc.codes)
		loy_wipe(bc.codes, nb * sizeof *bc.codes);
	free(bc.codes);
	free(ids);
	free(to);
	free(sites);
	return rv;
}

static int coupon_redeem(struct cli *c, int argc, char **argv)
{
	static const struct cli_usage u = {
	    "loyctl coupon redeem --batch HASH --index I --site MEMBER_ID --at "
	    "LAT,LON --reference REF [--code CODE]",
	    "Redeems one coupon at a member site and location. An allotted "
	    "coupon is\n"
	    "redeemed by its customer (--key the customer's key); a bearer "
	    "coupon by\n"
	    "the accepting member or its terminal, revealing --code. Single "
	    "use; must\n"
	    "be inside the window (block time) and the geofence.",
	    "  --batch HASH      the coupon issue transaction\n"
	    "  --index I         which coupon of the batch\n"
	    "  --site ID         the member where it is redeemed\n"
	    "  --at LAT,LON      where (decimal degrees)\n"
	    "  --reference REF   unique reference\n"
	    "  --code CODE       the bearer coupon's secret code\n",
	    "  loyctl coupon redeem --batch 5e2c...01 --index 0 --site loy... "
	    "--at 48.8570,2.3530 \\\n"
	    "      --reference pos7-0043 --key alice.key\n"};
	const char *batch = NULL, *index = NULL, *site = NULL, *at = NULL,
		   *ref = NULL, *code = NULL;
	const struct cli_opt opts[] = {{"batch", OPT_STR, &batch},
				       {"index", OPT_STR, &index},
				       {"site", OPT_STR, &site},
				       {"at", OPT_STR, &at},
				       {"reference", OPT_STR, &ref},
				       {"code", OPT_STR, &code},
				       {NULL, 0, NULL}};
	struct loy_tx tx;
	struct loy_tx_coupon_redeem *b = &tx.u.coupon_redeem;
	int np, rv = cli_parse(c, argc, argv, opts, NULL, 0, &np, &u);

	if (rv)
		return rv;
	if (!batch || !index || !site || !at || !ref)
		return cli_usage_error(c, &u,
				       "--batch, --index, --site, --at and "
				       "--reference are required");
	memset(&tx, 0, sizeof tx);
	tx.kind = LOY_TX_COUPON_REDEEM;
	if (cli_parse_hash(batch, b->batch) != 0)
		return cli_usage_error(c, &u, "--batch must be 64 hex digits");
	if (cli_parse_u32(index, &b->index) != 0)
		return cli_usage_error(c, &u, "--index must be an integer");
	if (cli_parse_id(site, b->site) != 0)
		return cli_usage_error(c, &u, "--site must be a loyalty ID");
	if (cli_parse_geo(at, &b->location, NULL, 0) != 0)
		return cli_usage_error(
		    c, &u, "--at must be LAT,LON in decimal degrees");
	if (cli_copy_field(b->reference, sizeof b->reference, ref) != 0 ||
	    cli_copy_field(b->code, sizeof b->code, code) != 0)
		return cli_usage_error(c, &u,
				       "--reference or --code is too long");
	return cli_tx_finish(c, &tx);
}

/* --- queries --- */

static int run_query(struct cli *c, uint8_t kind,
		     const struct loy_client_arg *args, uint32_t n, json_t **p)
{
	struct cli_conn cn;
	int rv = cli_connect(c, &cn);

	if (rv)
		return rv;
	rv = cli_query(c, &cn, kind, args, n, p);
	cli_conn_close(&cn);
	return rv;
}

static void print_coupons(struct cli *c, const json_t *arr)
{
	struct cli_table t;
	static const char *const hdr[] = {"BATCH", "INDEX", "VALUE",
					  "FROM",  "UNTIL", "KIND"};
	size_t i;
	json_t *v;

	if (json_array_size(arr) == 0) {
		fprintf(c->out, "no coupons\n");
		return;
	}
	cli_table_init(&t, 6, hdr);
	json_array_foreach(arr, i, v)
	{
		char idx[16], val[24], f[32], un[32];
		const char *row[6];
		snprintf(
		    idx, sizeof idx, "%lld",
		    (long long)json_integer_value(json_object_get(v, "index")));
		snprintf(
		    val, sizeof val, "%lld",
		    (long long)json_integer_value(json_object_get(v, "value")));
		cli_format_time_ms(f, sizeof f,
				   (uint64_t)json_integer_value(
				       json_object_get(v, "valid_from_ms")));
		cli_format_time_ms(un, sizeof un,
				   (uint64_t)json_integer_value(
				       json_object_get(v, "valid_until_ms")));
		row[0] = json_string_value(json_object_get(v, "batch"));
		row[1] = idx;
		row[2] = val;
		row[3] = f;
		row[4] = un;
		row[5] = json_is_true(json_object_get(v, "bearer"))
			     ? "bearer"
			     : "allotted";
		cli_table_add(&t, row);
	}
	cli_table_print(c, &t);
	cli_table_free(&t);
}

static int coupon_status(struct cli *c, int argc, char **argv)
{
	static const struct cli_usage u = {
	    "loyctl coupon status BATCH",
	    "A coupon batch: issuer, value, window, geofence, and how many are "
	    "issued,\n"
	    "redeemed, expired unused and remaining.",
	    NULL, "  loyctl coupon status 5e2c...01 --json\n"};
	const char *pos[1];
	struct loy_client_arg a;
	uint8_t h[LOY_HASH_SIZE];
	json_t *p;
	int np, rv = cli_parse(c, argc, argv, NULL, pos, 1, &np, &u);

	if (rv)
		return rv;
	if (np != 1 || cli_parse_hash(pos[0], h) != 0)
		return cli_usage_error(c, &u,
				       "give the batch hash (64 hex digits)");
	cli_arg_bin(&a, h, LOY_HASH_SIZE);
	if ((rv = run_query(c, LOY_Q_COUPON_BATCH, &a, 1, &p)) != 0)
		return rv;
	if (c->json) {
		cli_print_json(c, p);
	} else {
		char f[32], un[32];
		json_t *g = json_object_get(p, "geofence");
		cli_format_time_ms(f, sizeof f,
				   (uint64_t)json_integer_value(
				       json_object_get(p, "valid_from_ms")));
		cli_format_time_ms(un, sizeof un,
				   (uint64_t)json_integer_value(
				       json_object_get(p, "valid_until_ms")));
		fprintf(
		    c->out,
		    "batch      %s\nissuer     %s\nvalue      %lld "
		    "points\nwindow     %s .. %s\n",
		    json_string_value(json_object_get(p, "batch")),
		    json_string_value(json_object_get(p, "issuer")),
		    (long long)json_integer_value(json_object_get(p, "value")),
		    f, un);
		if (g)
			fprintf(c->out,
				"geofence   %lld, %lld micro-degrees, radius "
				"%lld m\n",
				(long long)json_integer_value(
				    json_object_get(g, "lat_udeg")),
				(long long)json_integer_value(
				    json_object_get(g, "lon_udeg")),
				(long long)json_integer_value(
				    json_object_get(g, "radius_m")));
		fprintf(
		    c->out,
		    "issued %lld, redeemed %lld, expired unused %lld, "
		    "remaining %lld\n",
		    (long long)json_integer_value(json_object_get(p, "issued")),
		    (long long)json_integer_value(
			json_object_get(p, "redeemed")),
		    (long long)json_integer_value(
			json_object_get(p, "expired_unused")),
		    (long long)json_integer_value(
			json_object_get(p, "remaining")));
	}
	json_decref(p);
	return CLI_OK;
}

static int coupon_list(struct cli *c, int argc, char **argv)
{
	static const struct cli_usage u = {
	    "loyctl coupon list [CUSTOMER] [--near LAT,LON]",
	    "A customer's redeemable coupons (only those usable at LAT,LON "
	    "with --near),\n"
	    "or without a customer, every coupon batch redeemable near "
	    "LAT,LON.",
	    "  --near LAT,LON   a place, in decimal degrees\n",
	    "  loyctl coupon list loy... --near 48.8570,2.3530\n"
	    "  loyctl coupon near 48.8570,2.3530\n"};
	const char *pos[2] = {NULL, NULL}, *near = NULL;
	const struct cli_opt opts[] = {{"near", OPT_STR, &near},
				       {NULL, 0, NULL}};
	struct loy_client_arg a[3];
	struct loy_geo g;
	uint8_t id[LOY_ID_SIZE];
	uint32_t n = 0;
	json_t *p;
	int np, rv = cli_parse(c, argc, argv, opts, pos, 2, &np, &u);

	if (rv)
		return rv;
	if (strcmp(argv[0], "near") == 0 && np >= 1 && near == NULL)
		near = pos[--np];
	if (np > 1)
		return cli_usage_error(c, &u, "one customer at most");
	if (near && cli_parse_geo(near, &g, NULL, 0) != 0)
		return cli_usage_error(
		    c, &u, "--near must be LAT,LON in decimal degrees");
	if (np == 1) {
		if (cli_parse_id(pos[0], id) != 0)
			return cli_usage_error(
			    c, &u, "'%s' is not a loyalty ID", pos[0]);
		cli_arg_bin(&a[n++], id, LOY_ID_SIZE);
	} else if (near == NULL) {
		return cli_usage_error(
		    c, &u, "give a customer ID, --near LAT,LON, or both");
	}
	if (near) {
		cli_arg_int(&a[n++], g.lat_udeg);
		cli_arg_int(&a[n++], g.lon_udeg);
	}
	if ((rv = run_query(c, np == 1 ? LOY_Q_COUPONS : LOY_Q_COUPONS_NEAR, a,
			    n, &p)) != 0)
		return rv;
	if (c->json)
		cli_print_json(c, p);
	else
		print_coupons(c, json_object_get(p, "coupons"));
	json_decref(p);
	return CLI_OK;
}

int cmd_coupon(struct cli *c, int argc, char **argv)
{
	static const struct cli_cmd cmds[] = {
	    {"issue", coupon_issue, "issue a batch of coupons"},
	    {"redeem", coupon_redeem, "redeem one coupon"},
	    {"status", coupon_status, "a batch's figures"},
	    {"list", coupon_list, "a customer's coupons [--near LAT,LON]"},
	    {"near", coupon_list, "coupons redeemable near LAT,LON"},
	    {NULL, NULL, NULL}};
	if (c->sign.active && argc >= 2 && strcmp(argv[1], "issue") != 0 &&
	    strcmp(argv[1], "redeem") != 0 && strcmp(argv[1], "--help") != 0) {
		cli_err(c, "coupon %s is a query, not a transaction", argv[1]);
		return CLI_USAGE;
	}
	return cli_dispatch(c, "coupon", cmds, argc, argv);
}
