/* Mempool: dedup, caps, arrival order with per-signer nonce order, and
 * steady churn (tombstones never exhaust the table). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "node/mempool.h"
#include "wire/error.h"

static void key(uint8_t out[32], uint32_t v)
{
	memset(out, 0, 32);
	memcpy(out, &v, sizeof v);
	out[31] = (uint8_t)(v * 7);
}

static void test_dedup_and_caps(void **state)
{
	struct loy_mempool *mp;
	struct loy_mempool_limits lim = {4, 1000, 2};
	uint8_t h[32], s[32];
	(void)state;
	assert_int_equal(loy_mempool_new(&mp, &lim), 0);
	key(s, 1);
	key(h, 100);
	assert_int_equal(
	    loy_mempool_add(mp, h, s, 1, (const uint8_t *)"abc", 3), 0);
	assert_int_equal(
	    loy_mempool_add(mp, h, s, 1, (const uint8_t *)"abc", 3),
	    LOY_EINVAL);
	key(h, 101);
	assert_int_equal(
	    loy_mempool_add(mp, h, s, 2, (const uint8_t *)"abc", 3), 0);
	key(h, 102); /* signer queue full */
	assert_int_equal(
	    loy_mempool_add(mp, h, s, 3, (const uint8_t *)"abc", 3),
	    LOY_ETOOBIG);
	key(s, 2);
	assert_int_equal(
	    loy_mempool_add(mp, h, s, 1, (const uint8_t *)"abc", 3), 0);
	key(s, 3);
	key(h, 103);
	assert_int_equal(
	    loy_mempool_add(mp, h, s, 1, (const uint8_t *)"abc", 3), 0);
	key(h, 104); /* pool full */
	key(s, 4);
	assert_int_equal(
	    loy_mempool_add(mp, h, s, 1, (const uint8_t *)"abc", 3),
	    LOY_ETOOBIG);
	assert_int_equal(loy_mempool_count(mp), 4);
	assert_int_equal(loy_mempool_bytes(mp), 12);
	key(h, 100);
	assert_true(loy_mempool_has(mp, h));
	assert_true(loy_mempool_remove(mp, h));
	assert_false(loy_mempool_remove(mp, h));
	assert_false(loy_mempool_has(mp, h));
	assert_int_equal(loy_mempool_count(mp), 3);
	loy_mempool_free(mp);
}

static void test_take_orders_nonces(void **state)
{
	struct loy_mempool *mp;
	struct loy_mempool_limits lim = {100, 100000, 100};
	struct loy_mempool_tx out[10];
	uint8_t h[32], a[32], b[32];
	(void)state;
	assert_int_equal(loy_mempool_new(&mp, &lim), 0);
	key(a, 1);
	key(b, 2);
	/* arrival: a5, b1, a4, b2 -> a4 a5 b1 b2 */
	key(h, 10),
	    assert_int_equal(
		loy_mempool_add(mp, h, a, 5, (const uint8_t *)"a5", 2), 0);
	key(h, 11),
	    assert_int_equal(
		loy_mempool_add(mp, h, b, 1, (const uint8_t *)"b1", 2), 0);
	key(h, 12),
	    assert_int_equal(
		loy_mempool_add(mp, h, a, 4, (const uint8_t *)"a4", 2), 0);
	key(h, 13),
	    assert_int_equal(
		loy_mempool_add(mp, h, b, 2, (const uint8_t *)"b2", 2), 0);
	assert_int_equal(loy_mempool_take(mp, 10, 1000, out), 4);
	assert_memory_equal(out[0].data, "a4", 2);
	assert_memory_equal(out[1].data, "a5", 2);
	assert_memory_equal(out[2].data, "b1", 2);
	assert_memory_equal(out[3].data, "b2", 2);
	/* caps on count and bytes */
	assert_int_equal(loy_mempool_take(mp, 2, 1000, out), 2);
	assert_int_equal(loy_mempool_take(mp, 10, 5, out), 2);
	loy_mempool_free(mp);
}

static void test_churn(void **state)
{
	struct loy_mempool *mp;
	struct loy_mempool_limits lim = {64, 1 << 20, 64};
	uint8_t h[32], s[32];
	(void)state;
	assert_int_equal(loy_mempool_new(&mp, &lim), 0);
	/* keep ~50 in the pool while 100,000 pass through */
	for (uint32_t i = 0; i < 100000; i++) {
		key(h, i);
		key(s, i % 13);
		assert_int_equal(
		    loy_mempool_add(mp, h, s, i, (const uint8_t *)"x", 1), 0);
		if (i >= 50) {
			key(h, i - 50);
			assert_true(loy_mempool_remove(mp, h));
		}
	}
	assert_int_equal(loy_mempool_count(mp), 50);
	loy_mempool_free(mp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dedup_and_caps),
	    cmocka_unit_test(test_take_orders_nonces),
	    cmocka_unit_test(test_churn),
	};
	return cmocka_run_group_tests_name("mempool", tests, NULL, NULL);
}
