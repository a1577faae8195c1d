/* Decoding hostile bytes allocates no more than their own size: malloc is
 * counted by interposing glibc's allocator (this test is built without
 * sanitizers, which would replace malloc themselves). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wire/error.h"
#include "wire/tx.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static int counting;
static size_t counted_bytes, largest;

static void note(size_t n)
{
	if (!counting)
		return;
	counted_bytes += n;
	if (n > largest)
		largest = n;
}

void *malloc(size_t n)
{
	note(n);
	return __libc_malloc(n);
}

void *calloc(size_t a, size_t b)
{
	note(a * b);
	return __libc_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
	note(n);
	return __libc_realloc(p, n);
}

void free(void *p)
{
	__libc_free(p);
}

static void test_issue_985_input_allocates_nothing(void **state)
{
	static const uint8_t evil[] = {0x6f, 0xdd, 0x11, 0x6f,
				       0xfe, 0x11, 0xfc};
	struct loy_tx tx;
	int rv;
	(void)state;

	counted_bytes = largest = 0;
	counting = 1;
	rv = loy_tx_decode(&tx, evil, sizeof evil);
	counting = 0;
	assert_int_not_equal(rv, 0);
	assert_true(counted_bytes <= sizeof evil);
	/* and the bare array32 header is refused as malformed */
	counting = 1;
	rv = loy_tx_decode(&tx, evil + 1, sizeof evil - 1);
	counting = 0;
	assert_int_equal(rv, LOY_EMALFORMED);
	assert_true(counted_bytes <= sizeof evil);
}

static void test_counter_sees_real_decodes(void **state)
{
	/* control: a decode that gets past the pre-scan does allocate, so the
	 * counter above is really watching */
	static const uint8_t arr[] = {0x93, 0x01, 0x02, 0x03};
	struct loy_tx tx;
	(void)state;
	counted_bytes = 0;
	counting = 1;
	int rv = loy_tx_decode(&tx, arr, sizeof arr);
	counting = 0;
	assert_int_not_equal(rv, 0);
	assert_true(counted_bytes > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_issue_985_input_allocates_nothing),
	    cmocka_unit_test(test_counter_sees_real_decodes),
	};
	return cmocka_run_group_tests_name("alloc_bound", tests, NULL, NULL);
}
