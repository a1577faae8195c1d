/* data_dir/unsynced: written by this boot it is a process crash (flush and
 * go on); written by another boot the machine stopped with blocks not on
 * disk, and the node must not start on the store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node/unsynced.h"
#include "wire/error.h"

static void test_marker_by_boot(void **state)
{
	char dir[] = "/tmp/loy-unsynced-XXXXXX", path[128], err[512] = "",
	     cmd[128];
	FILE *f;
	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(loy_unsynced_check(dir, err, sizeof err), 0);
	assert_int_equal(loy_unsynced_mark(dir, err, sizeof err), 0);
	assert_int_equal(loy_unsynced_check(dir, err, sizeof err), 1);
	assert_int_equal(loy_unsynced_clear(dir, err, sizeof err), 0);
	assert_int_equal(loy_unsynced_check(dir, err, sizeof err), 0);
	/* a marker left by an earlier boot */
	snprintf(path, sizeof path, "%s/unsynced", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("00000000-0000-0000-0000-000000000000\n", f);
	fclose(f);
	assert_int_equal(loy_unsynced_check(dir, err, sizeof err),
			 LOY_ECORRUPT);
	assert_non_null(strstr(err, "resync from its peers"));
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_marker_by_boot),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
