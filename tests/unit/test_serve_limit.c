/* The per-peer bound on block-sync answers in preparation: a peer that
 * floods requests gets SERVE_PER_PEER at a time and the rest dropped and
 * counted, while other peers are served as before. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "node/serve_limit.h"

static void key_of(uint8_t key[LOY_PUBKEY_SIZE], uint32_t i)
{
	memset(key, 0, LOY_PUBKEY_SIZE);
	memcpy(key, &i, sizeof i);
}

static void test_flooder_is_bounded(void **state)
{
	struct loy_serve_limit *s = malloc(sizeof *s);
	uint8_t flood[LOY_PUBKEY_SIZE], honest[LOY_PUBKEY_SIZE];
	uint64_t dropped = 0;

	(void)state;
	assert_non_null(s);
	loy_serve_limit_init(s, SERVE_PER_PEER);
	key_of(flood, 1);
	key_of(honest, 2);
	for (uint32_t i = 0; i < SERVE_PER_PEER; i++) {
		assert_true(loy_serve_take(s, flood, &dropped));
		assert_int_equal(dropped, 0);
	}
	for (uint64_t i = 1; i <= 1000; i++) {
		assert_false(loy_serve_take(s, flood, &dropped));
		assert_int_equal(dropped, i);
	}
	/* another peer is not held up by the flood */
	assert_true(loy_serve_take(s, honest, &dropped));
	assert_int_equal(dropped, 0);
	/* an answer sent frees one slot, and only one */
	loy_serve_give(s, flood);
	assert_true(loy_serve_take(s, flood, &dropped));
	assert_int_equal(dropped, 1000);
	assert_false(loy_serve_take(s, flood, &dropped));
	/* a give with nothing taken does not add room, and says so */
	assert_true(loy_serve_give(s, honest));
	assert_false(loy_serve_give(s, honest));
	for (uint32_t i = 0; i < SERVE_PER_PEER; i++)
		assert_true(loy_serve_take(s, honest, &dropped));
	assert_false(loy_serve_take(s, honest, &dropped));
	free(s);
}

/* Past LOY_MAX_VALIDATORS distinct peers, the others share one allowance:
 * the table cannot grow without bound, and the bound still holds. */
static void test_table_full_shares(void **state)
{
	struct loy_serve_limit *s = malloc(sizeof *s);
	uint8_t key[LOY_PUBKEY_SIZE];
	uint64_t dropped;

	(void)state;
	assert_non_null(s);
	loy_serve_limit_init(s, SERVE_PER_PEER);
	for (uint32_t i = 0; i < LOY_MAX_VALIDATORS; i++) {
		key_of(key, 100 + i);
		assert_true(loy_serve_take(s, key, &dropped));
	}
	for (uint32_t i = 0; i < SERVE_PER_PEER; i++) {
		key_of(key, 1000 + i); /* each a stranger to the table */
		assert_true(loy_serve_take(s, key, &dropped));
	}
	key_of(key, 2000);
	assert_false(loy_serve_take(s, key, &dropped));
	assert_int_equal(dropped, 1);
	loy_serve_give(s, key);
	assert_true(loy_serve_take(s, key, &dropped));
	/* the table's own peers keep their slots */
	key_of(key, 100);
	assert_true(loy_serve_take(s, key, &dropped));
	free(s);
}

/* The same table counts the requests this node has out with each peer:
 * an answer is taken only against a request, so a peer that sends answers
 * nobody asked for has them refused, and its answers to real requests
 * still go through. */
static void test_answers_only_to_requests(void **state)
{
	struct loy_serve_limit *s = malloc(sizeof *s);
	uint8_t asked[LOY_PUBKEY_SIZE], other[LOY_PUBKEY_SIZE];
	uint64_t dropped;

	(void)state;
	assert_non_null(s);
	loy_serve_limit_init(s, ASKED_PER_PEER);
	key_of(asked, 1);
	key_of(other, 2);
	assert_false(loy_serve_give(s, asked)); /* nothing asked yet */
	for (int i = 0; i < 2; i++)
		assert_true(loy_serve_take(s, asked, &dropped));
	assert_false(loy_serve_give(s, other)); /* asked someone else */
	assert_true(loy_serve_give(s, asked));
	assert_true(loy_serve_give(s, asked));
	for (int i = 0; i < 100; i++) /* a replay of the same answers */
		assert_false(loy_serve_give(s, asked));
	/* past ASKED_PER_PEER unanswered, the count stays at the bound */
	for (uint32_t i = 0; i < ASKED_PER_PEER + 5; i++)
		(void)loy_serve_take(s, asked, &dropped);
	for (uint32_t i = 0; i < ASKED_PER_PEER; i++)
		assert_true(loy_serve_give(s, asked));
	assert_false(loy_serve_give(s, asked));
	free(s);
}

/* Units (KiB of gossip): a peer's batches are taken while they fit in
 * per_peer together; one larger than the bound goes alone; given back,
 * they make room again. */
static void test_units(void **state)
{
	struct loy_serve_limit *s = malloc(sizeof *s);
	uint8_t peer[LOY_PUBKEY_SIZE], other[LOY_PUBKEY_SIZE];
	uint64_t dropped;

	(void)state;
	assert_non_null(s);
	loy_serve_limit_init(s, 100);
	key_of(peer, 1);
	key_of(other, 2);
	assert_true(loy_serve_take_n(s, peer, 60, &dropped));
	assert_true(loy_serve_take_n(s, peer, 40, &dropped));
	assert_false(loy_serve_take_n(s, peer, 1, &dropped));
	assert_int_equal(dropped, 1);
	assert_true(loy_serve_take_n(s, other, 100, &dropped));
	assert_true(loy_serve_give_n(s, peer, 60));
	assert_false(loy_serve_take_n(s, peer, 61, &dropped));
	assert_true(loy_serve_take_n(s, peer, 60, &dropped));
	assert_true(loy_serve_give_n(s, peer, 100));
	assert_false(loy_serve_give_n(s, peer, 1)); /* none held */
	/* one batch over the bound goes when nothing is held, alone */
	assert_true(loy_serve_take_n(s, peer, 500, &dropped));
	assert_false(loy_serve_take_n(s, peer, 1, &dropped));
	assert_true(loy_serve_give_n(s, peer, 500));
	assert_true(loy_serve_take_n(s, peer, 1, &dropped));
	assert_int_equal(dropped, 3); /* the three refused above */
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_flooder_is_bounded),
	    cmocka_unit_test(test_table_full_shares),
	    cmocka_unit_test(test_answers_only_to_requests),
	    cmocka_unit_test(test_units),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
