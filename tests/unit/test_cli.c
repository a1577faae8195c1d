/* loyctl: value parsers (amounts, dates, micro-degrees), option parsing and
 * usage errors, tables, keygen/id round trip, testnet output that loyd and
 * the genesis loader accept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/cli.h"
#include "ledger/genesis_json.h"
#include "ledger/txjson.h"
#include "node/config.h"
#include "wire/error.h"

/* A cli whose output goes to temporary files, read back as strings. */
struct capture {
	struct cli c;
	char out[8192], err[8192];
};

static void cap_init(struct capture *k)
{
	cli_init(&k->c);
	k->c.out = tmpfile();
	k->c.err = tmpfile();
	assert_non_null(k->c.out);
	assert_non_null(k->c.err);
}

static void slurp(FILE *f, char *buf, size_t n)
{
	size_t r;

	fflush(f);
	rewind(f);
	r = fread(buf, 1, n - 1, f);
	buf[r] = '\0';
}

static void cap_done(struct capture *k)
{
	slurp(k->c.out, k->out, sizeof k->out);
	slurp(k->c.err, k->err, sizeof k->err);
	fclose(k->c.out);
	fclose(k->c.err);
	cli_fini(&k->c);
}

static int run(struct capture *k, cli_fn fn, int argc, const char **argv)
{
	return fn(&k->c, argc, (char **)argv);
}

static void test_amounts(void **state)
{
	uint64_t v;
	uint32_t w;
	(void)state;

	assert_int_equal(cli_parse_u64("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(cli_parse_u64("1200", &v), 0);
	assert_int_equal(v, 1200);
	assert_int_equal(cli_parse_u64("1_000_000", &v), 0);
	assert_int_equal(v, 1000000);
	assert_int_equal(cli_parse_u64("18446744073709551615", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(cli_parse_u64("18446744073709551616", &v), -1);
	assert_int_equal(cli_parse_u64("-1", &v), -1);
	assert_int_equal(cli_parse_u64("12a", &v), -1);
	assert_int_equal(cli_parse_u64("", &v), -1);
	assert_int_equal(cli_parse_u64("1.5", &v), -1);
	assert_int_equal(cli_parse_u64("_1", &v), -1);
	assert_int_equal(cli_parse_u32("4294967296", &w), -1);
	assert_int_equal(cli_parse_u32("4294967295", &w), 0);
}

static void test_micro_degrees(void **state)
{
	int32_t v;
	struct loy_geo g;
	uint32_t r;
	(void)state;

	assert_int_equal(cli_parse_udeg("48.856613", 90, &v), 0);
	assert_int_equal(v, 48856613);
	assert_int_equal(cli_parse_udeg("-0.5", 90, &v), 0);
	assert_int_equal(v, -500000);
	assert_int_equal(cli_parse_udeg("2.3522", 180, &v), 0);
	assert_int_equal(v, 2352200);
	assert_int_equal(cli_parse_udeg("-180", 180, &v), 0);
	assert_int_equal(v, -180000000);
	assert_int_equal(cli_parse_udeg("0", 90, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(cli_parse_udeg("90.000001", 90, &v), -1);
	assert_int_equal(cli_parse_udeg("1.1234567", 90, &v),
			 -1); /* finer than 1e-6 */
	assert_int_equal(cli_parse_udeg("abc", 90, &v), -1);
	assert_int_equal(cli_parse_udeg("1.", 90, &v), -1);
	assert_int_equal(cli_parse_udeg(".5", 90, &v), -1);
	assert_int_equal(cli_parse_udeg("1e5", 90, &v), -1);
	assert_int_equal(cli_parse_udeg("--1", 90, &v), -1);
	assert_int_equal(cli_parse_udeg("", 90, &v), -1);

	assert_int_equal(cli_parse_geo("48.856613,2.352222,500", &g, &r, 1), 0);
	assert_int_equal(g.lat_udeg, 48856613);
	assert_int_equal(g.lon_udeg, 2352222);
	assert_int_equal(r, 500);
	assert_int_equal(cli_parse_geo("-33.8688, 151.2093", &g, NULL, 0), 0);
	assert_int_equal(g.lat_udeg, -33868800);
	assert_int_equal(g.lon_udeg, 151209300);
	assert_int_equal(cli_parse_geo("48.8,2.3", &g, &r, 1),
			 -1); /* radius missing */
	assert_int_equal(cli_parse_geo("48.8,2.3,0", &g, &r, 1),
			 -1); /* zero radius */
	assert_int_equal(cli_parse_geo("48.8,2.3,5", &g, NULL, 0), -1);
	assert_int_equal(cli_parse_geo("95,2.3", &g, NULL, 0), -1);
	assert_int_equal(cli_parse_geo("48.8;2.3", &g, NULL, 0), -1);
}

static void test_dates(void **state)
{
	uint32_t d;
	uint64_t ms;
	char buf[32];
	(void)state;

	assert_int_equal(cli_parse_day("1970-01-01", &d), 0);
	assert_int_equal(d, 0);
	assert_int_equal(cli_parse_day("2000-03-01", &d), 0);
	assert_int_equal(d, 11017);
	assert_int_equal(cli_parse_day("2024-02-29", &d), 0);
	assert_int_equal(d, 19782);
	assert_int_equal(cli_parse_day("2023-02-29", &d), -1);
	assert_int_equal(cli_parse_day("2024-13-01", &d), -1);
	assert_int_equal(cli_parse_day("2024-1-01", &d), -1);
	assert_int_equal(cli_parse_day("yesterday", &d), -1);
	assert_int_equal(cli_parse_day("2024-01-01T00:00", &d), -1);

	assert_int_equal(cli_parse_time_ms("2025-01-01", &ms), 0);
	assert_true(ms == 1735689600000ull);
	assert_int_equal(cli_parse_time_ms("2025-01-01T12:30:15Z", &ms), 0);
	assert_true(ms ==
		    1735689600000ull + (12 * 3600 + 30 * 60 + 15) * 1000ull);
	assert_int_equal(cli_parse_time_ms("2025-01-01T12:30", &ms), 0);
	assert_int_equal(cli_parse_time_ms("1735689600000", &ms), 0);
	assert_true(ms == 1735689600000ull);
	assert_int_equal(cli_parse_time_ms("2025-01-01T25:00", &ms), -1);
	assert_int_equal(cli_parse_time_ms("2025-01-01X", &ms), -1);
	assert_int_equal(cli_parse_time_ms("soon", &ms), -1);

	cli_format_day(buf, sizeof buf, 19782);
	assert_string_equal(buf, "2024-02-29");
	cli_format_time_ms(buf, sizeof buf, 1735689600000ull + 61000);
	assert_string_equal(buf, "2025-01-01T00:01:01Z");
	for (int64_t day = 0; day < 40000; day += 37) {
		cli_format_day(buf, sizeof buf, day);
		assert_int_equal(cli_parse_day(buf, &d), 0);
		assert_int_equal(d, day);
	}
}

static void test_ids_hostport(void **state)
{
	uint8_t id[LOY_ID_SIZE], back[LOY_ID_SIZE], pk[LOY_PUBKEY_SIZE],
	    h[LOY_HASH_SIZE];
	char s[LOY_ID_STR_SIZE], host[64];
	uint16_t port;
	(void)state;

	memset(pk, 7, sizeof pk);
	loy_id_from_pubkey(id, pk);
	loy_id_format(s, id);
	assert_int_equal(cli_parse_id(s, back), 0);
	assert_memory_equal(id, back, LOY_ID_SIZE);
	s[10] = s[10] == 'a' ? 'b' : 'a'; /* a typo */
	assert_int_equal(cli_parse_id(s, back), -1);
	assert_int_equal(cli_parse_hash("00", h), -1);
	assert_int_equal(cli_parse_hash("ab12ab12ab12ab12ab12ab12ab12ab12ab12ab"
					"12ab12ab12ab12ab12ab12ab12",
					h),
			 0);
	assert_int_equal(h[0], 0xab);

	assert_int_equal(
	    cli_parse_hostport("127.0.0.1:7201", host, sizeof host, &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 7201);
	assert_int_equal(
	    cli_parse_hostport("[::1]:80", host, sizeof host, &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(
	    cli_parse_hostport("localhost", host, sizeof host, &port), -1);
	assert_int_equal(cli_parse_hostport(":80", host, sizeof host, &port),
			 -1);
	assert_int_equal(cli_parse_hostport("h:0", host, sizeof host, &port),
			 -1);
	assert_int_equal(
	    cli_parse_hostport("h:65536", host, sizeof host, &port), -1);
}

static void test_table(void **state)
{
	struct cli_table t;
	static const char *const hdr[] = {"NAME", "POINTS"};
	static const char *const r1[] = {"alice", "5"};
	static const char *const r2[] = {"bob", "1200"};
	char *s;
	(void)state;

	assert_int_equal(cli_table_init(&t, 2, hdr), 0);
	assert_int_equal(cli_table_add(&t, r1), 0);
	assert_int_equal(cli_table_add(&t, r2), 0);
	s = cli_table_render(&t);
	assert_non_null(s);
	assert_string_equal(s, "NAME   POINTS\n"
			       "alice       5\n"
			       "bob      1200\n");
	free(s);
	cli_table_free(&t);
}

static void test_option_parsing(void **state)
{
	struct capture k;
	const char *a = NULL, *pos[2];
	bool f = false;
	struct cli_list *l = calloc(1, sizeof *l);
	const struct cli_opt opts[] = {{"alpha", OPT_STR, &a},
				       {"flag", OPT_FLAG, &f},
				       {"to", OPT_LIST, l},
				       {NULL, 0, NULL}};
	static const struct cli_usage u = {"loyctl thing [--alpha X]",
					   "Does a thing.", NULL,
					   "  loyctl thing --alpha 1\n"};
	const char *argv1[] = {"thing", "--alpha=3", "p1", "--flag", "--to",
			       "x",     "--to",      "y",  NULL};
	const char *argv2[] = {"thing", "--beta", "1", NULL};
	const char *argv3[] = {"thing", "--alpha", NULL};
	const char *argv4[] = {"thing", "--help", NULL};
	const char *argv5[] = {"thing", "a", "b", "c", NULL};
	int np = 0;
	(void)state;

	cap_init(&k);
	assert_int_equal(
	    cli_parse(&k.c, 8, (char **)argv1, opts, pos, 2, &np, &u), 0);
	assert_string_equal(a, "3");
	assert_true(f);
	assert_int_equal(np, 1);
	assert_string_equal(pos[0], "p1");
	assert_int_equal(l->n, 2);
	assert_string_equal(l->v[1], "y");
	assert_int_equal(
	    cli_parse(&k.c, 3, (char **)argv2, opts, pos, 2, &np, &u),
	    CLI_USAGE);
	assert_int_equal(
	    cli_parse(&k.c, 2, (char **)argv3, opts, pos, 2, &np, &u),
	    CLI_USAGE);
	assert_int_equal(
	    cli_parse(&k.c, 4, (char **)argv5, opts, pos, 2, &np, &u),
	    CLI_USAGE);
	assert_int_equal(
	    cli_parse(&k.c, 2, (char **)argv4, opts, pos, 2, &np, &u),
	    CLI_HELP);
	cap_done(&k);
	assert_non_null(strstr(k.err, "unknown option --beta"));
	assert_non_null(strstr(k.err, "usage: loyctl thing"));
	assert_non_null(strstr(k.out, "example:"));
	free(l);
}

/* Every command's usage errors exit 2 with a usage line; --help exits 0. */
static void test_usage_errors(void **state)
{
	struct {
		cli_fn fn;
		int argc;
		const char *argv[6];
	} cases[] = {
	    {cmd_reward, 2, {"reward", "issue"}},
	    {cmd_reward, 2, {"reward", "bogus"}},
	    {cmd_redeem, 3, {"redeem", "--amount", "x"}},
	    {cmd_coupon, 4, {"coupon", "issue", "--value", "0"}},
	    {cmd_balance, 2, {"balance", "not-an-id"}},
	    {cmd_report, 4, {"report", "--from", "2024-01-01", "--to"}},
	    {cmd_audit, 1, {"audit"}},
	    {cmd_keygen, 1, {"keygen"}},
	    {cmd_testnet, 3, {"testnet", "--nodes", "0"}},
	    {cmd_block, 2, {"block", "zero"}},
	    {cmd_watch, 5, {"watch", "--member", "a", "--customer", "b"}},
	};
	(void)state;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct capture k;
		int rv;
		cap_init(&k);
		rv = run(&k, cases[i].fn, cases[i].argc, cases[i].argv);
		cap_done(&k);
		if (rv != CLI_USAGE)
			fail_msg("case %zu (%s %s) gave %d: %s", i,
				 cases[i].argv[0],
				 cases[i].argv[1] ? cases[i].argv[1] : "", rv,
				 k.err);
		assert_non_null(strstr(k.err, "usage: loyctl"));
	}
	{
		struct capture k;
		const char *argv[] = {"coupon", "issue", "--help", NULL};
		cap_init(&k);
		assert_int_equal(run(&k, cmd_coupon, 3, argv), CLI_HELP);
		cap_done(&k);
		assert_non_null(strstr(k.out, "usage: loyctl coupon issue"));
		assert_non_null(strstr(k.out, "example:"));
	}
}

static void make_tmpdir(char *dir)
{
	strcpy(dir, "/tmp/loy-cli-XXXXXX");
	assert_non_null(mkdtemp(dir));
}

static void write_pass(const char *path)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("correct horse\n", f);
	fclose(f);
}

static void test_keygen_id_roundtrip(void **state)
{
	char dir[64], key[128], pass[128], id1[128];
	struct capture k;
	struct stat st;
	uint8_t sk[LOY_SECKEY_SIZE];
	(void)state;

	make_tmpdir(dir);
	snprintf(key, sizeof key, "%s/a.key", dir);
	snprintf(pass, sizeof pass, "%s/pass", dir);
	write_pass(pass);
	{
		const char *argv[] = {"keygen",     "--out", key,
				      "--kdf-cost", "min",   NULL};
		cap_init(&k);
		k.c.passphrase_file = pass;
		assert_int_equal(run(&k, cmd_keygen, 5, argv), CLI_OK);
		cap_done(&k);
	}
	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(strncmp(k.out, "loy", 3), 0);
	snprintf(id1, sizeof id1, "%.*s", (int)strcspn(k.out, "\n"), k.out);
	assert_int_equal(strlen(id1), LOY_ID_STR_SIZE - 1);
	assert_non_null(strstr(k.out, "public key "));
	{
		const char *argv[] = {"id", key, NULL};
		cap_init(&k);
		assert_int_equal(run(&k, cmd_id, 2, argv), CLI_OK);
		cap_done(&k);
		assert_int_equal(strncmp(k.out, id1, strlen(id1)), 0);
	}
	{ /* refuses to overwrite */
		const char *argv[] = {"keygen",     "--out", key,
				      "--kdf-cost", "min",   NULL};
		cap_init(&k);
		k.c.passphrase_file = pass;
		assert_int_equal(run(&k, cmd_keygen, 5, argv), CLI_FAIL);
		cap_done(&k);
		assert_non_null(strstr(k.err, "already exists"));
	}
	{ /* the key loads with the passphrase, and the ID matches */
		struct cli c;
		uint8_t pk[LOY_PUBKEY_SIZE], id[LOY_ID_SIZE];
		char s[LOY_ID_STR_SIZE];
		cli_init(&c);
		c.err = fopen("/dev/null", "w");
		c.key_file = key;
		c.passphrase_file = pass;
		assert_int_equal(cli_load_key(&c), 0);
		loy_seckey_pubkey(pk, c.sk);
		loy_id_from_pubkey(id, pk);
		loy_id_format(s, id);
		assert_string_equal(s, id1);
		fclose(c.err);
		cli_fini(&c);
	}
	{ /* a loose mode is refused */
		struct cli c;
		cli_init(&c);
		c.err = fopen("/dev/null", "w");
		c.key_file = key;
		c.passphrase_file = pass;
		chmod(key, 0644);
		assert_int_equal(cli_load_key(&c), CLI_FAIL);
		fclose(c.err);
		cli_fini(&c);
	}
	(void)sk;
	unlink(key);
	unlink(pass);
	rmdir(dir);
}

static void test_testnet(void **state)
{
	char dir[64], path[256], err[1024];
	struct cli_testnet_opts o;
	struct loy_genesis *g = calloc(1, sizeof *g);
	struct loy_config cfg;
	struct stat st;
	(void)state;

	make_tmpdir(dir);
	memset(&o, 0, sizeof o);
	o.nodes = 4;
	o.dir = dir;
	o.chain_id = "test-chain";
	o.base_port = 7101;
	o.min_kdf = true;
	assert_int_equal(cli_testnet_write(&o, err, sizeof err), 0);
	snprintf(path, sizeof path, "%s/genesis.json", dir);
	assert_int_equal(loy_genesis_load(g, path, err, sizeof err), 0);
	assert_string_equal(g->chain_id, "test-chain");
	assert_int_equal(g->member_count, 4);
	assert_string_equal(g->members[0].name, "Member 1");
	assert_string_equal(g->members[3].address, "127.0.0.1:7104");
	snprintf(path, sizeof path, "%s/passphrase", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	for (unsigned i = 1; i <= 4; i++) {
		uint8_t pk[LOY_PUBKEY_SIZE], sk[LOY_SECKEY_SIZE];
		char want[64];
		snprintf(path, sizeof path, "%s/node%u/loyd.conf", dir, i);
		loy_config_defaults(&cfg);
		if (loy_config_load(&cfg, path, err, sizeof err) != 0)
			fail_msg("%s", err);
		snprintf(want, sizeof want, "127.0.0.1:%u", 7100 + i);
		assert_string_equal(cfg.peer_listen, want);
		snprintf(want, sizeof want, "127.0.0.1:%u", 7200 + i);
		assert_string_equal(cfg.client_listen, want);
		assert_int_equal(stat(cfg.data_dir, &st), 0);
		assert_true(S_ISDIR(st.st_mode));
		/* the key file opens with the written passphrase and is genesis
		 * member i */
		assert_int_equal(loy_keyfile_read(cfg.key_file,
						  LOYCTL_DEV_PASSPHRASE, 0, sk),
				 0);
		loy_seckey_pubkey(pk, sk);
		assert_memory_equal(pk, g->members[i - 1].pubkey,
				    LOY_PUBKEY_SIZE);
		loy_wipe(sk, sizeof sk);
	}
	/* a second run into the same directory is refused */
	assert_int_equal(cli_testnet_write(&o, err, sizeof err), LOY_EINVAL);
	free(g);
	{
		char cmd[128];
		snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
		assert_int_equal(system(cmd), 0);
	}
}

/* Offline signing writes a batch file with tracked nonces (no node). */
static void test_sign_offline(void **state)
{
	char dir[64], key[128], pass[128], batch[128], line[40000];
	struct capture k;
	uint8_t cid[LOY_ID_SIZE], pk[LOY_PUBKEY_SIZE];
	char cids[LOY_ID_STR_SIZE];
	FILE *f;
	uint64_t nonces[4];
	int n = 0;
	(void)state;

	make_tmpdir(dir);
	snprintf(key, sizeof key, "%s/t.key", dir);
	snprintf(pass, sizeof pass, "%s/pass", dir);
	snprintf(batch, sizeof batch, "%s/batch.txt", dir);
	write_pass(pass);
	{
		const char *argv[] = {"keygen",     "--out", key,
				      "--kdf-cost", "min",   NULL};
		cap_init(&k);
		k.c.passphrase_file = pass;
		assert_int_equal(run(&k, cmd_keygen, 5, argv), CLI_OK);
		cap_done(&k);
	}
	memset(pk, 3, sizeof pk);
	loy_id_from_pubkey(cid, pk);
	loy_id_format(cids, cid);
	for (int i = 0; i < 3; i++) {
		char ref[16];
		const char *argv[] = {"sign",       "--out",      batch,
				      "--nonce",    "5",          "reward",
				      "issue",      "--customer", cids,
				      "--purchase", "100",        "--reference",
				      ref,          NULL};
		int argc = 13;
		snprintf(ref, sizeof ref, "r%d", i);
		if (i > 0) { /* nonce tracked in the file */
			memmove(&argv[3], &argv[5], 9 * sizeof argv[0]);
			argc = 11;
		}
		cap_init(&k);
		k.c.passphrase_file = pass;
		k.c.key_file = key;
		k.c.chain_id = "test-chain";
		if (run(&k, cmd_sign, argc, argv) != CLI_OK) {
			cap_done(&k);
			fail_msg("sign %d: %s", i, k.err);
		}
		cap_done(&k);
	}
	f = fopen(batch, "r");
	assert_non_null(f);
	while (fgets(line, sizeof line, f)) {
		size_t len = strcspn(line, "\n");
		uint8_t *bytes;
		struct loy_tx tx;
		if (line[0] == '#')
			continue;
		line[len] = '\0';
		bytes = malloc(len / 2);
		assert_int_equal(loy_unhex(bytes, len / 2, line), 0);
		assert_int_equal(loy_tx_decode(&tx, bytes, len / 2), 0);
		assert_int_equal(loy_tx_verify(&tx), 0);
		assert_int_equal(tx.kind, LOY_TX_REWARD_ISSUE);
		assert_string_equal(tx.chain_id, "test-chain");
		assert_true(n < 4);
		nonces[n++] = tx.nonce;
		loy_tx_free(&tx);
		free(bytes);
	}
	fclose(f);
	assert_int_equal(n, 3);
	assert_true(nonces[0] == 5 && nonces[1] == 6 && nonces[2] == 7);
	{
		char cmd[128];
		snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
		assert_int_equal(system(cmd), 0);
	}
}

/* A node that is not there: exit code 3. */
static void test_unreachable(void **state)
{
	struct capture k;
	const char *argv[] = {"status", NULL};
	(void)state;

	cap_init(&k);
	k.c.node = "127.0.0.1:1";
	assert_int_equal(run(&k, cmd_status, 1, argv), CLI_UNREACHABLE);
	cap_done(&k);
	assert_non_null(strstr(k.err, "cannot reach node"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_amounts),
	    cmocka_unit_test(test_micro_degrees),
	    cmocka_unit_test(test_dates),
	    cmocka_unit_test(test_ids_hostport),
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_option_parsing),
	    cmocka_unit_test(test_usage_errors),
	    cmocka_unit_test(test_keygen_id_roundtrip),
	    cmocka_unit_test(test_testnet),
	    cmocka_unit_test(test_sign_offline),
	    cmocka_unit_test(test_unreachable),
	};
	if (loy_crypto_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
