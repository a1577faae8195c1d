/* Genesis JSON: a good file round-trips; every mistake names its place. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ledger/genesis_json.h"
#include "wire/error.h"

#define KEY1 "1111111111111111111111111111111111111111111111111111111111111111"
#define KEY2 "2222222222222222222222222222222222222222222222222222222222222222"

static char path[64];

static int load_text(const char *text, struct loy_genesis *g, char *err)
{
	int fd, rv;
	FILE *f;

	strcpy(path, "/tmp/loy-genesis-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	rv = loy_genesis_load(g, path, err, 512);
	unlink(path);
	return rv;
}

static void test_good_and_roundtrip(void **state)
{
	struct loy_genesis g, back;
	char err[512] = "", out[] = "/tmp/loy-genesis-out.json";
	(void)state;
	assert_int_equal(
	    load_text("{\"chain_id\": \"loy-test\", \"genesis_time_ms\": "
		      "1795000000000,\n"
		      " \"commission_bps\": 150, \"members\": [\n"
		      "  {\"name\": \"Alpha\", \"validator_key\": \"" KEY1
		      "\", \"address\": \"127.0.0.1:7101\"},\n"
		      "  {\"name\": \"Beta\", \"validator_key\": \"" KEY2
		      "\", \"address\": \"127.0.0.1:7102\"}]}\n",
		      &g, err),
	    0);
	assert_string_equal(g.chain_id, "loy-test");
	assert_int_equal(g.member_count, 2);
	assert_int_equal(g.commission_bps, 150);
	assert_int_equal(g.point_value, 1);
	assert_int_equal(g.members[1].pubkey[0], 0x22);
	assert_int_equal(loy_genesis_save(&g, out), 0);
	assert_int_equal(loy_genesis_load(&back, out, err, sizeof err), 0);
	assert_memory_equal(&g, &back, sizeof g);
	unlink(out);
}

static void expect(const char *text, int code, const char *needle)
{
	struct loy_genesis g;
	char err[512] = "";
	assert_int_equal(load_text(text, &g, err), code);
	if (strstr(err, needle) == NULL)
		fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
}

static void test_mistakes(void **state)
{
	(void)state;
	expect("{\"chain_id\": \"x\",\n \"genesis_time_ms\": 5,, }", LOY_EINVAL,
	       ":2:");
	expect("[1]", LOY_EINVAL, "must hold a JSON object");
	expect("{\"chain_id\": \"x\", \"genesis_time_ms\": 1, \"member\": []}",
	       LOY_EINVAL, "member: is not a known key");
	expect("{\"genesis_time_ms\": 1, \"members\": []}", LOY_EINVAL,
	       "chain_id: is missing");
	expect(
	    "{\"chain_id\": \"x\", \"genesis_time_ms\": -1, \"members\": []}",
	    LOY_EINVAL, "genesis_time_ms: must be a whole number");
	expect("{\"chain_id\": \"x\", \"genesis_time_ms\": 1, "
	       "\"commission_bps\": 10001, \"members\": []}",
	       LOY_EINVAL, "commission_bps");
	expect("{\"chain_id\": \"x\", \"genesis_time_ms\": 1, \"members\": []}",
	       LOY_EINVAL, "members: must be an array of 1..");
	expect("{\"chain_id\": \"x\", \"genesis_time_ms\": 1, \"members\": "
	       "[{\"name\": \"A\", \"validator_key\": \"abc\", \"address\": "
	       "\"h:1\"}]}",
	       LOY_EINVAL, "members[0].validator_key: must be 64 hex digits");
	expect("{\"chain_id\": \"x\", \"genesis_time_ms\": 1, \"members\": "
	       "[{\"name\": \"A\", \"validator_key\": \"" KEY1 "\"}]}",
	       LOY_EINVAL, "members[0].address: is missing");
	expect("{\"chain_id\": \"x\", \"genesis_time_ms\": 1, \"members\": ["
	       "{\"name\": \"A\", \"validator_key\": \"" KEY1
	       "\", \"address\": \"h:1\"},"
	       "{\"name\": \"B\", \"validator_key\": \"" KEY1
	       "\", \"address\": \"h:2\"}]}",
	       LOY_EINVAL, "members[1].validator_key: same key as members[0]");
	expect("{\"chain_id\": \"x\", \"chain_id\": \"y\"}", LOY_EINVAL,
	       "duplicate");
	{
		struct loy_genesis g;
		char err[512];
		assert_int_equal(loy_genesis_load(&g,
						  "/nonexistent/genesis.json",
						  err, sizeof err),
				 LOY_EIO);
		assert_non_null(strstr(err, "/nonexistent/genesis.json"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_and_roundtrip),
	    cmocka_unit_test(test_mistakes),
	};
	return cmocka_run_group_tests_name("genesis_json", tests, NULL, NULL);
}
