/* Unit tests for the pre-scan that bounds untrusted msgpack. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "wire/error.h"
#include "wire/prescan.h"

static const struct loy_limits lim = {1 << 20, 8, 1000};

#define SCAN(...)                                                              \
	({                                                                     \
		static const uint8_t b_[] = {__VA_ARGS__};                     \
		loy_prescan(b_, sizeof b_, &lim);                              \
	})

static void test_accepts_our_types(void **state)
{
	(void)state;
	assert_int_equal(SCAN(0x93, 0x01, 0xc3, 0xa2, 'h', 'i'), 0);
	assert_int_equal(SCAN(0x92, 0xc4, 0x02, 0xaa, 0xbb, 0xd0, 0x80), 0);
	assert_int_equal(SCAN(0xcf, 1, 2, 3, 4, 5, 6, 7, 8), 0);
	assert_int_equal(SCAN(0x90), 0);
}

static void test_msgpack_c_issue_985_input(void **state)
{
	(void)state;
	/* A huge array32 header inside: msgpack-c alone tries ~256 GiB. */
	assert_int_not_equal(SCAN(0x6f, 0xdd, 0x11, 0x6f, 0xfe, 0x11, 0xfc), 0);
	assert_int_equal(SCAN(0xdd, 0x11, 0x6f, 0xfe, 0x11, 0xfc),
			 LOY_EMALFORMED);
}

static void test_counts_bounded_by_bytes_left(void **state)
{
	(void)state;
	assert_int_equal(SCAN(0x93, 0x01, 0x02), LOY_EMALFORMED);
	assert_int_equal(SCAN(0xc4, 0x05, 1, 2), LOY_EMALFORMED);
	assert_int_equal(SCAN(0xdb, 0xff, 0xff, 0xff, 0xff, 'a'),
			 LOY_EMALFORMED);
	assert_int_equal(SCAN(0xcf, 1, 2), LOY_EMALFORMED);
}

static void test_refuses_unused_types_and_trailing(void **state)
{
	(void)state;
	assert_int_equal(SCAN(0xc0), LOY_EMALFORMED);             /* nil */
	assert_int_equal(SCAN(0xca, 0, 0, 0, 0), LOY_EMALFORMED); /* float */
	assert_int_equal(SCAN(0x81, 1, 2), LOY_EMALFORMED);       /* map */
	assert_int_equal(SCAN(0xd4, 1, 2), LOY_EMALFORMED);       /* ext */
	assert_int_equal(SCAN(0x01, 0x02), LOY_ETRAILING);
	assert_int_equal(loy_prescan((const uint8_t *)"", 0, &lim),
			 LOY_EMALFORMED);
}

static void test_depth_and_items(void **state)
{
	(void)state;
	/* depth 9 > 8 */
	assert_int_equal(
	    SCAN(0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x01),
	    LOY_ETOOBIG);
	assert_int_equal(
	    SCAN(0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x01), 0);
	{
		static uint8_t many[2003];
		struct loy_limits small = {1 << 20, 4, 1000};
		many[0] = 0xdc, many[1] = 0x07, many[2] = 0xd0; /* 2000 items */
		assert_int_equal(loy_prescan(many, sizeof many, &small),
				 LOY_ETOOBIG);
	}
	{
		struct loy_limits tiny = {4, 4, 100};
		static const uint8_t five[] = {0x94, 1, 2, 3, 4};
		assert_int_equal(loy_prescan(five, sizeof five, &tiny),
				 LOY_ETOOBIG);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_accepts_our_types),
	    cmocka_unit_test(test_msgpack_c_issue_985_input),
	    cmocka_unit_test(test_counts_bounded_by_bytes_left),
	    cmocka_unit_test(test_refuses_unused_types_and_trailing),
	    cmocka_unit_test(test_depth_and_items),
	};
	return cmocka_run_group_tests_name("prescan", tests, NULL, NULL);
}
