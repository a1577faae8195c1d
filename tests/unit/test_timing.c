/* Stage timings of the last heights (node/timing.h): each applied height
 * splits into propose, check, vote and apply, which add up to the height;
 * marks of another height are not mixed in; percentiles cover the newest
 * LOY_TIMING_SAMPLES samples only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "node/timing.h"

static struct loy_timing_pct pct(const struct loy_timing *t,
				 enum loy_timing_stage s)
{
	struct loy_timing_pct p;

	loy_timing_pct(t, s, &p);
	return p;
}

/* One height h applied at base + 100, the previous one at base. */
static void one_height(struct loy_timing *t, uint64_t h, uint64_t base)
{
	loy_timing_proposed(t, h, base + 10);
	loy_timing_proposed(t, h, base + 50); /* a re-send: the first counts */
	loy_timing_checked(t, h, base + 30);
	loy_timing_decided(t, h, base + 90);
	loy_timing_applied(t, h, base + 100);
}

static void test_stages_add_up(void **state)
{
	struct loy_timing t;

	(void)state;
	loy_timing_init(&t);
	loy_timing_applied(&t, 1, 1000); /* starts the clock */
	assert_int_equal(pct(&t, LOY_T_HEIGHT).n, 0);
	one_height(&t, 2, 1000);
	assert_int_equal(pct(&t, LOY_T_HEIGHT).n, 1);
	assert_int_equal(pct(&t, LOY_T_HEIGHT).p50_us, 100);
	assert_int_equal(pct(&t, LOY_T_PROPOSE).p50_us, 10);
	assert_int_equal(pct(&t, LOY_T_CHECK).p50_us, 20);
	assert_int_equal(pct(&t, LOY_T_VOTE).p50_us, 60);
	assert_int_equal(pct(&t, LOY_T_APPLY).p50_us, 10);
	/* the leader's own block is valid as built: check 0 */
	loy_timing_proposed(&t, 3, 1105);
	loy_timing_checked(&t, 3, 1105);
	loy_timing_decided(&t, 3, 1150);
	loy_timing_applied(&t, 3, 1160);
	assert_int_equal(pct(&t, LOY_T_CHECK).n, 2);
	assert_int_equal(pct(&t, LOY_T_CHECK).p50_us, 20);
	assert_int_equal(pct(&t, LOY_T_CHECK).p90_us, 20);
	assert_int_equal(pct(&t, LOY_T_VOTE).max_us, 60);
}

static void test_other_heights_are_not_mixed(void **state)
{
	struct loy_timing t;

	(void)state;
	loy_timing_init(&t);
	loy_timing_applied(&t, 1, 1000);
	/* a check of a later block (caught up ahead) is not this height's */
	loy_timing_proposed(&t, 5, 1010);
	loy_timing_checked(&t, 5, 1020);
	one_height(&t, 2, 2000);
	/* height 2's clock did not start at height 1's apply: the marks of
	 * 5 reset it, and the next applied height starts it again */
	assert_int_equal(pct(&t, LOY_T_HEIGHT).n, 0);
	assert_int_equal(pct(&t, LOY_T_CHECK).p50_us, 20);
	one_height(&t, 3, 2100);
	assert_int_equal(pct(&t, LOY_T_HEIGHT).n, 1);
	assert_int_equal(pct(&t, LOY_T_HEIGHT).p50_us, 100);
	/* a check without a proposal mark, or a height applied without any
	 * mark (fetched), adds nothing but the height */
	loy_timing_checked(&t, 4, 2210);
	loy_timing_applied(&t, 4, 2300);
	assert_int_equal(pct(&t, LOY_T_HEIGHT).n, 2);
	assert_int_equal(pct(&t, LOY_T_CHECK).n, 2);
	assert_int_equal(pct(&t, LOY_T_APPLY).n, 2);
}

static void test_newest_samples_only(void **state)
{
	struct loy_timing t;
	struct loy_timing_pct p;

	(void)state;
	loy_timing_init(&t);
	for (uint32_t i = 0; i < 1000; i++)
		loy_timing_add(&t, LOY_T_ADMIT, 1000000);
	for (uint32_t i = 1; i <= LOY_TIMING_SAMPLES; i++)
		loy_timing_add(&t, LOY_T_ADMIT, i);
	p = pct(&t, LOY_T_ADMIT);
	assert_int_equal(p.n, LOY_TIMING_SAMPLES);
	assert_int_equal(p.max_us, LOY_TIMING_SAMPLES);
	assert_int_equal(p.p50_us, LOY_TIMING_SAMPLES / 2 + 1);
	assert_int_equal(p.p99_us, LOY_TIMING_SAMPLES * 99 / 100 + 1);
	/* a sample past 32 bits is kept as the largest */
	loy_timing_add(&t, LOY_T_FLUSH, UINT64_MAX);
	assert_int_equal(pct(&t, LOY_T_FLUSH).max_us, UINT32_MAX);
	assert_int_equal(pct(&t, LOY_T_COUNT).n, 0);
	assert_string_equal(loy_timing_name(LOY_T_VOTE), "vote");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stages_add_up),
	    cmocka_unit_test(test_other_heights_are_not_mixed),
	    cmocka_unit_test(test_newest_samples_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
