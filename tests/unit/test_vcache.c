/* Verified-signature cache: membership, eviction of the oldest, and the
 * index staying consistent through many evictions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "node/vcache.h"

static void h_of(uint8_t h[32], uint32_t i)
{
	memset(h, 0, 32);
	/* the low bytes pick the slot: make neighbours collide often */
	h[0] = (uint8_t)(i % 7);
	memcpy(h + 4, &i, sizeof i);
	h[31] = 1;
}

static void test_add_has_evict(void **state)
{
	struct loy_vcache v;
	uint8_t h[32];
	(void)state;
	assert_int_equal(loy_vcache_init(&v, 1000), 0); /* rounds to 1024 */
	for (uint32_t i = 0; i < 1024; i++) {
		h_of(h, i);
		loy_vcache_add(&v, h);
	}
	for (uint32_t i = 0; i < 1024; i++) {
		h_of(h, i);
		assert_true(loy_vcache_has(&v, h));
	}
	/* 5000 more: only the last 1024 remain, and all of them are found */
	for (uint32_t i = 1024; i < 6024; i++) {
		h_of(h, i);
		loy_vcache_add(&v, h);
	}
	for (uint32_t i = 0; i < 6024; i++) {
		h_of(h, i);
		assert_int_equal(loy_vcache_has(&v, h), i >= 5000);
	}
	/* adding a present hash does not evict anything */
	h_of(h, 6000);
	loy_vcache_add(&v, h);
	h_of(h, 5000);
	assert_true(loy_vcache_has(&v, h));
	loy_vcache_free(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_add_has_evict),
	};
	return cmocka_run_group_tests_name("vcache", tests, NULL, NULL);
}
