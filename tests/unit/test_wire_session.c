/* Unit tests for session keys and frame sealing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tests/golden/peer_vectors.h"
#include "tests/unit/wire_fixtures.h"
#include "tests/unit/wire_mp.h"
#include "wire/error.h"
#include "wire/session.h"

static void pair(struct loy_session *si, struct loy_session *sr)
{
	struct loy_hs_hello hi, hr;
	struct loy_eph_key ei, er;
	uint8_t tr[32];

	fx_hello(&hi, &ei, 0);
	fx_hello(&hr, &er, 1);
	memset(tr, 0x33, sizeof tr);
	assert_int_equal(
	    loy_session_derive(si, LOY_HS_INITIATOR, &ei, er.pk, tr), 0);
	assert_int_equal(
	    loy_session_derive(sr, LOY_HS_RESPONDER, &er, ei.pk, tr), 0);
	loy_eph_key_wipe(&ei);
	loy_eph_key_wipe(&er);
}

static void test_derive_matches_and_directions_differ(void **state)
{
	struct loy_session si, sr;
	(void)state;
	pair(&si, &sr);
	assert_memory_equal(si.tx.key, sr.rx.key, 32);
	assert_memory_equal(si.rx.key, sr.tx.key, 32);
	assert_memory_not_equal(si.tx.key, si.rx.key, 32);
}

static void test_seal_open(void **state)
{
	struct loy_session si, sr;
	uint8_t ct[64], pt[64], ct2[64];
	char hex[200];
	(void)state;
	pair(&si, &sr);
	assert_int_equal(loy_session_seal(&si, ct, (const uint8_t *)"ping", 4),
			 0);
	mp_hex(hex, ct, 4 + LOY_SESSION_TAG_SIZE);
	assert_string_equal(hex, GV_SEALED_PING);
	assert_int_equal(
	    loy_session_open(&sr, pt, ct, 4 + LOY_SESSION_TAG_SIZE), 0);
	assert_memory_equal(pt, "ping", 4);
	/* the same plaintext seals differently next time (counter nonce) */
	assert_int_equal(loy_session_seal(&si, ct2, (const uint8_t *)"ping", 4),
			 0);
	assert_memory_not_equal(ct, ct2, 20);
	/* a replay of the first frame fails, and breaks the session */
	assert_int_equal(loy_session_open(&sr, pt, ct, 20), LOY_EBADSIG);
	assert_int_equal(loy_session_open(&sr, pt, ct2, 20), LOY_ESTATE);
	/* the other direction, with a tampered frame */
	pair(&si, &sr);
	assert_int_equal(loy_session_seal(&sr, ct, (const uint8_t *)"pong", 4),
			 0);
	ct[2] ^= 1;
	assert_int_equal(loy_session_open(&si, pt, ct, 20), LOY_EBADSIG);
	/* a frame opened by its own sender's rx key fails */
	pair(&si, &sr);
	assert_int_equal(loy_session_seal(&si, ct, (const uint8_t *)"ping", 4),
			 0);
	assert_int_equal(loy_session_open(&si, pt, ct, 20), LOY_EBADSIG);
	pair(&si, &sr);
	assert_int_equal(loy_session_open(&sr, pt, ct, 3), LOY_EMALFORMED);
	/* empty frames work; wiped sessions refuse */
	assert_int_equal(loy_session_seal(&si, ct, NULL, 0), 0);
	assert_int_equal(loy_session_open(&sr, pt, ct, 16), 0);
	loy_session_wipe(&si);
	assert_int_equal(loy_session_seal(&si, ct, pt, 1), LOY_ESTATE);
}

static void test_low_order_point_refused(void **state)
{
	struct loy_session s;
	struct loy_eph_key e;
	uint8_t zero[32] = {0}, tr[32] = {0};
	(void)state;
	loy_eph_keygen(&e);
	assert_int_equal(loy_session_derive(&s, LOY_HS_INITIATOR, &e, zero, tr),
			 LOY_EBADSIG);
	assert_int_equal(loy_session_seal(&s, tr, tr, 1), LOY_ESTATE);
	loy_eph_key_wipe(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_derive_matches_and_directions_differ),
	    cmocka_unit_test(test_seal_open),
	    cmocka_unit_test(test_low_order_point_refused),
	};
	if (loy_crypto_init() != 0)
		return 1;
	return cmocka_run_group_tests_name("wire_session", tests, NULL, NULL);
}
