/* loyd configuration: defaults, every kind of mistake reported with its
 * file, line and key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "node/config.h"
#include "wire/error.h"

static char path[64];

static int load(const char *text, struct loy_config *c, char *err)
{
	FILE *f;
	int fd;

	strcpy(path, "/tmp/loy-config-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	loy_config_defaults(c);
	int rv = loy_config_load(c, path, err, 512);
	unlink(path);
	return rv;
}

static void test_good_config(void **state)
{
	struct loy_config c;
	char err[512] = "";
	(void)state;
	assert_int_equal(
	    load("[node]\nname = n1\ndata_dir = /tmp/d1\n"
		 "key_file = /tmp/k1\ngenesis = /tmp/g.json\n"
		 "log_level = debug\n[peer]\nlisten = 127.0.0.1:7101\n"
		 "[client]\nlisten = [::1]:7201\n[limits]\nbatch_ms = 5\n",
		 &c, err),
	    0);
	assert_string_equal(c.name, "n1");
	assert_string_equal(c.data_dir, "/tmp/d1");
	assert_int_equal(c.log_level, LOY_LOG_DEBUG);
	assert_int_equal(c.batch_ms, 5);
	assert_int_equal(c.mempool_max_per_signer, 10000); /* default kept */
}

static void expect_error(const char *text, const char *needle)
{
	struct loy_config c;
	char err[512] = "";
	assert_int_not_equal(load(text, &c, err), 0);
	if (strstr(err, needle) == NULL)
		fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
	assert_non_null(strstr(err, path));
}

static void test_mistakes_are_named(void **state)
{
	(void)state;
	expect_error("[node]\nname = a\nlog_levle = info\n",
		     ":3: [node] log_levle: unknown setting");
	expect_error(
	    "[node]\nlog_level = loud\n",
	    ":2: [node] log_level: expected error, warn, info or debug");
	expect_error("[limits]\n\nbatch_ms = -1\n",
		     ":3: [limits] batch_ms: expected a whole number");
	expect_error("[limits]\nblock_max_txs = 100000\n",
		     "out of range 1..8192");
	expect_error("[peer]\nlisten = localhost\n",
		     "[peer] listen: expected HOST:PORT");
	expect_error("[peer]\nlisten = 1.2.3.4:99999\n", "[peer] listen");
	expect_error("this is not ini\n", ":1: syntax error");
	expect_error("[bogus]\nx = 1\n", "[bogus] x: unknown setting");
	expect_error("[peer]\nlisten = 127.0.0.1:7200\n", "must differ");
}

static void test_missing_file(void **state)
{
	struct loy_config c;
	char err[512];
	(void)state;
	loy_config_defaults(&c);
	assert_int_equal(
	    loy_config_load(&c, "/nonexistent/loyd.conf", err, sizeof err),
	    LOY_EIO);
	assert_non_null(strstr(err, "/nonexistent/loyd.conf: cannot open"));
}

static void test_hostport(void **state)
{
	char host[LOY_HOSTPORT_MAX];
	uint16_t port;
	(void)state;
	assert_int_equal(loy_hostport_parse("127.0.0.1:7100", host, &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 7100);
	assert_int_equal(loy_hostport_parse("[::1]:80", host, &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(loy_hostport_parse(":80", host, &port), LOY_EINVAL);
	assert_int_equal(loy_hostport_parse("h:0", host, &port), LOY_EINVAL);
	assert_int_equal(loy_hostport_parse("h:80x", host, &port), LOY_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_config),
	    cmocka_unit_test(test_mistakes_are_named),
	    cmocka_unit_test(test_missing_file),
	    cmocka_unit_test(test_hostport),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
