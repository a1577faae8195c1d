/* Unit tests for the peer handshake: HELLO/AUTH codecs, transcript, AUTH
 * signatures by role. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/golden/peer_vectors.h"
#include "tests/unit/wire_fixtures.h"
#include "tests/unit/wire_mp.h"
#include "wire/error.h"
#include "wire/handshake.h"

static int dec_hello(const uint8_t *p, size_t n)
{
	struct loy_hs_hello h;
	return loy_hs_hello_decode(&h, p, n);
}

static int dec_auth(const uint8_t *p, size_t n)
{
	struct loy_hs_auth a;
	return loy_hs_auth_decode(&a, p, n);
}

static void assert_hex(const uint8_t *p, size_t n, const char *hex)
{
	char s[1024];
	assert_true(2 * n < sizeof s);
	mp_hex(s, p, n);
	assert_string_equal(s, hex);
}

static void test_hello_auth_roundtrip(void **state)
{
	struct loy_hs_hello h, back;
	struct loy_hs_auth a = {{0}}, aback;
	struct loy_eph_key e;
	struct loy_buf b;
	(void)state;
	fx_hello(&h, &e, 0);
	assert_int_equal(loy_hs_hello_encode(&h, &b), 0);
	assert_int_equal(loy_hs_hello_decode(&back, b.data, b.len), 0);
	assert_memory_equal(&h, &back, sizeof h);
	loy_buf_free(&b);
	fx_bytes(a.sig, sizeof a.sig, 9);
	assert_int_equal(loy_hs_auth_encode(&a, &b), 0);
	assert_int_equal(loy_hs_auth_decode(&aback, b.data, b.len), 0);
	assert_memory_equal(&a, &aback, sizeof a);
	loy_buf_free(&b);
	h.chain_id[0] = '\0';
	assert_int_equal(loy_hs_hello_encode(&h, &b), LOY_EINVAL);
	loy_eph_key_wipe(&e);
}

static void test_hello_auth_reject_bad_fields(void **state)
{
	struct loy_hs_hello h;
	struct loy_eph_key e;
	uint8_t sig[64] = {0};
	struct mpf f[5];
	(void)state;
	fx_hello(&h, &e, 1);
	f[0] = mpf_u(LOY_WIRE_VERSION);
	f[1] = mpf_str(h.chain_id);
	f[2] = mpf_bin(h.validator, 32, 1);
	f[3] = mpf_bin(h.ephemeral, 32, 1);
	f[4] = mpf_bin(h.nonce, 32, 1);
	mp_check_fields("hello", dec_hello, f, 5);
	f[0] = mpf_u(3);
	assert_int_equal(mp_try(dec_hello, f, 5), LOY_EVERSION);
	f[0] = mpf_u(LOY_WIRE_VERSION);
	f[1] = mpf_str("");
	assert_int_equal(mp_try(dec_hello, f, 5), LOY_ERANGE);
	f[1] = mpf_str("a-chain-id-that-is-far-too-long-to-be-valid");
	assert_int_equal(mp_try(dec_hello, f, 5), LOY_ETOOBIG);
	f[0] = mpf_u(LOY_WIRE_VERSION);
	f[1] = mpf_bin(sig, 64, 1);
	mp_check_fields("auth", dec_auth, f, 2);
	f[0] = mpf_u(2);
	assert_int_equal(mp_try(dec_auth, f, 2), LOY_EVERSION);
}

static void test_hello_check(void **state)
{
	struct loy_hs_hello a, b, t;
	struct loy_eph_key ea, eb;
	(void)state;
	fx_hello(&a, &ea, 0);
	fx_hello(&b, &eb, 1);
	assert_int_equal(loy_hs_hello_check(&a, &b), 0);
	assert_int_equal(loy_hs_hello_check(&a, &a), LOY_EINVAL); /* echo */
	t = b, strcpy(t.chain_id, "other");
	assert_int_equal(loy_hs_hello_check(&a, &t), LOY_EINVAL);
	t = b, memcpy(t.validator, a.validator, 32);
	assert_int_equal(loy_hs_hello_check(&a, &t), LOY_EINVAL);
	t = b, memcpy(t.ephemeral, a.ephemeral, 32);
	assert_int_equal(loy_hs_hello_check(&a, &t), LOY_EINVAL);
	t = b, memcpy(t.nonce, a.nonce, 32);
	assert_int_equal(loy_hs_hello_check(&a, &t), LOY_EINVAL);
}

/* A whole handshake between validators 0 (initiator) and 1 (responder). */
static void test_auth_by_role(void **state)
{
	struct loy_hs_hello hi, hr;
	struct loy_eph_key ei, er;
	struct loy_buf bi, br;
	struct loy_hs_auth ai, ar;
	uint8_t pk0[32], sk0[64], pk1[32], sk1[64], tr[32], tr2[32];
	(void)state;
	fx_key(0, pk0, sk0);
	fx_key(1, pk1, sk1);
	fx_hello(&hi, &ei, 0);
	fx_hello(&hr, &er, 1);
	assert_int_equal(loy_hs_hello_encode(&hi, &bi), 0);
	assert_int_equal(loy_hs_hello_encode(&hr, &br), 0);
	loy_hs_transcript(tr, bi.data, bi.len, br.data, br.len);
	loy_hs_auth_sign(&ai, LOY_HS_INITIATOR, FX_CHAIN, tr, sk0);
	loy_hs_auth_sign(&ar, LOY_HS_RESPONDER, FX_CHAIN, tr, sk1);
	assert_int_equal(
	    loy_hs_auth_verify(&ai, LOY_HS_INITIATOR, FX_CHAIN, tr, pk0), 0);
	assert_int_equal(
	    loy_hs_auth_verify(&ar, LOY_HS_RESPONDER, FX_CHAIN, tr, pk1), 0);
	/* the two roles' signatures differ, and one cannot pass as the other */
	assert_memory_not_equal(ai.sig, ar.sig, 64);
	assert_int_equal(
	    loy_hs_auth_verify(&ai, LOY_HS_RESPONDER, FX_CHAIN, tr, pk0),
	    LOY_EBADSIG);
	assert_int_equal(
	    loy_hs_auth_verify(&ai, LOY_HS_INITIATOR, FX_CHAIN, tr, pk1),
	    LOY_EBADSIG);
	assert_int_equal(
	    loy_hs_auth_verify(&ai, LOY_HS_INITIATOR, "other", tr, pk0),
	    LOY_EBADSIG);
	assert_int_equal(loy_hs_auth_verify(&ai, 3, FX_CHAIN, tr, pk0),
			 LOY_EBADSIG);
	/* the order of the HELLOs matters, and a fresh nonce changes it all */
	loy_hs_transcript(tr2, br.data, br.len, bi.data, bi.len);
	assert_memory_not_equal(tr, tr2, 32);
	assert_int_equal(
	    loy_hs_auth_verify(&ai, LOY_HS_INITIATOR, FX_CHAIN, tr2, pk0),
	    LOY_EBADSIG);
	bi.data[bi.len - 1] ^= 1;
	loy_hs_transcript(tr2, bi.data, bi.len, br.data, br.len);
	assert_int_equal(
	    loy_hs_auth_verify(&ai, LOY_HS_INITIATOR, FX_CHAIN, tr2, pk0),
	    LOY_EBADSIG);
	bi.data[bi.len - 1] ^= 1;
	/* golden */
	assert_hex(bi.data, bi.len, GV_HELLO_INIT);
	assert_hex(br.data, br.len, GV_HELLO_RESP);
	assert_hex(tr, 32, GV_TRANSCRIPT);
	assert_hex(ai.sig, 64, GV_AUTH_INIT_SIG);
	assert_hex(ar.sig, 64, GV_AUTH_RESP_SIG);
	loy_buf_free(&bi);
	loy_buf_free(&br);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hello_auth_roundtrip),
	    cmocka_unit_test(test_hello_auth_reject_bad_fields),
	    cmocka_unit_test(test_hello_check),
	    cmocka_unit_test(test_auth_by_role),
	};
	if (loy_crypto_init() != 0)
		return 1;
	return cmocka_run_group_tests_name("wire_handshake", tests, NULL, NULL);
}
