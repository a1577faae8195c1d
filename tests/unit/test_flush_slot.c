/* Flush slots: over any run of heights, the validators' slots come in
 * turn, n + 1 heights apart, each at a height its owner leads in view 0,
 * so that no two validators flush at once and none flushes while it must
 * build the next block. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "node/flush_slot.h"

/* The owner of height h's slot, or -1. */
static int owner(uint64_t h, uint32_t n)
{
	int who = -1;

	for (uint32_t i = 0; i < n; i++) {
		if (!loy_flush_slot(h, n, i))
			continue;
		assert_int_equal(who, -1); /* one owner at most */
		who = (int)i;
	}
	return who;
}

static void test_slots_take_turns_apart(void **state)
{
	(void)state;
	for (uint32_t n = 1; n <= 7; n++) {
		/* heights far from 0 too: the schedule does not drift */
		uint64_t starts[] = {0, 1000003, UINT64_MAX - 200};
		for (size_t s = 0; s < 3; s++) {
			uint64_t last = 0;
			int last_who = -1;
			uint32_t seen = 0;
			for (uint64_t h = starts[s]; h < starts[s] + 120; h++) {
				int who = owner(h, n);
				if (who < 0)
					continue;
				/* at its slot, the owner leads (view 0) */
				assert_int_equal(h % n, (uint64_t)who);
				if (last_who >= 0 && h - last < n * (n + 1)) {
					/* the next validator, n + 1 later */
					assert_int_equal(h - last, n + 1);
					assert_int_equal(
					    (uint32_t)who,
					    ((uint32_t)last_who + 1) % n);
				}
				last = h;
				last_who = who;
				seen++;
			}
			/* 120 heights hold two whole cycles (n <= 7) */
			assert_true(seen >= 2 * n);
		}
	}
}

static void test_no_slot_outside_the_set(void **state)
{
	(void)state;
	for (uint64_t h = 0; h < 100; h++) {
		assert_false(loy_flush_slot(h, 0, 0));
		assert_false(loy_flush_slot(h, 4, 4));
		assert_false(loy_flush_slot(h, 4, UINT32_MAX));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_slots_take_turns_apart),
	    cmocka_unit_test(test_no_slot_outside_the_set),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
