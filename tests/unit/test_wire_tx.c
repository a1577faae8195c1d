/* Transaction codec: golden vectors, round trips, and one rejection test per
 * kind of malformed field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/golden/tx_vectors.h"
#include "tests/unit/tx_samples.h"
#include "wire/error.h"
#include "wire/tx.h"

static size_t unhex(uint8_t *out, size_t cap, const char *hex)
{
	size_t n = 0;
	for (; hex[0] && hex[1]; hex += 2) {
		unsigned v;
		assert_true(n < cap);
		assert_int_equal(sscanf(hex, "%2x", &v), 1);
		out[n++] = (uint8_t)v;
	}
	return n;
}

static void test_golden_vectors(void **state)
{
	uint8_t pk[32], sk[64], want[4096], h[32], wh[32], ws[64];
	(void)state;
	sample_key(pk, sk, 1);
	for (size_t i = 0; i < sizeof golden_txs / sizeof golden_txs[0]; i++) {
		const struct golden_tx *g = &golden_txs[i];
		struct loy_tx tx, back;
		struct loy_buf b;
		size_t n = unhex(want, sizeof want, g->bytes);

		sample_tx(&tx, g->kind);
		assert_int_equal(loy_tx_sign(&tx, sk), 0);
		assert_int_equal(loy_tx_encode(&tx, &b), 0);
		assert_int_equal(b.len, n);
		assert_memory_equal(b.data, want, n);
		loy_tx_hash(h, b.data, b.len);
		unhex(wh, sizeof wh, g->hash);
		assert_memory_equal(h, wh, 32);
		unhex(ws, sizeof ws, g->sig);
		assert_memory_equal(tx.sig, ws, 64);
		/* the checked-in bytes decode and verify on their own */
		assert_int_equal(loy_tx_decode(&back, want, n), 0);
		assert_int_equal(loy_tx_verify_encoded(&back, want, n), 0);
		assert_int_equal(loy_tx_verify(&back), 0);
		loy_tx_free(&back);
		loy_tx_free(&tx);
		loy_buf_free(&b);
	}
}

static void test_roundtrip_every_kind(void **state)
{
	uint8_t pk[32], sk[64];
	(void)state;
	sample_key(pk, sk, 9);
	for (unsigned k = 1; k <= LOY_TX_KIND_MAX; k++) {
		struct loy_tx tx, back;
		struct loy_buf a, b;

		sample_tx(&tx, k);
		assert_int_equal(loy_tx_sign(&tx, sk), 0);
		assert_int_equal(loy_tx_encode(&tx, &a), 0);
		assert_int_equal(loy_tx_decode(&back, a.data, a.len), 0);
		assert_int_equal(back.kind, k);
		assert_memory_equal(back.signer, pk, 32);
		assert_int_equal(loy_tx_encode(&back, &b), 0);
		assert_int_equal(a.len, b.len);
		assert_memory_equal(a.data, b.data, a.len);
		assert_int_equal(loy_tx_verify_encoded(&back, a.data, a.len),
				 0);
		assert_string_equal(
		    loy_tx_kind_name(k),
		    loy_tx_kind_name(loy_tx_kind_parse(loy_tx_kind_name(k))));
		loy_tx_free(&tx);
		loy_tx_free(&back);
		loy_buf_free(&a);
		loy_buf_free(&b);
	}
	assert_null(loy_tx_kind_name(0));
	assert_null(loy_tx_kind_name(LOY_TX_KIND_MAX + 1));
	assert_int_equal(loy_tx_kind_parse("reward.issue"),
			 LOY_TX_REWARD_ISSUE);
	assert_int_equal(loy_tx_kind_parse("nope"), 0);
}

static void test_tampered_signature_fails(void **state)
{
	uint8_t pk[32], sk[64];
	struct loy_tx tx, back;
	struct loy_buf a;
	(void)state;
	sample_key(pk, sk, 2);
	sample_tx(&tx, LOY_TX_REDEEM);
	assert_int_equal(loy_tx_sign(&tx, sk), 0);
	assert_int_equal(loy_tx_encode(&tx, &a), 0);
	/* change the amount byte in place (60 -> 61): still canonical */
	for (size_t i = 0; i + 1 < a.len; i++)
		if (a.data[i] == 0x3c &&
		    a.data[i + 1] == 0xab) { /* 60, fixstr(11) */
			a.data[i] = 0x3d;
			break;
		}
	assert_int_equal(loy_tx_decode(&back, a.data, a.len), 0);
	assert_int_equal(back.u.redeem.amount, 61);
	assert_int_equal(loy_tx_verify_encoded(&back, a.data, a.len),
			 LOY_EBADSIG);
	assert_int_equal(loy_tx_verify(&back), LOY_EBADSIG);
	loy_buf_free(&a);
}

/* A hand-rolled msgpack builder, so malformed inputs can be written field by
 * field (tests do not include msgpack-c). */
struct bb {
	uint8_t b[20000];
	size_t n;
};
static void bb_byte(struct bb *b, uint8_t v)
{
	b->b[b->n++] = v;
}
static void bb_arr(struct bb *b, unsigned n)
{
	bb_byte(b, (uint8_t)(0x90 | n));
}
static void bb_uint(struct bb *b, uint64_t v)
{
	if (v < 128) {
		bb_byte(b, (uint8_t)v);
	} else if (v < 256) {
		bb_byte(b, 0xcc), bb_byte(b, (uint8_t)v);
	} else if (v < 65536) {
		bb_byte(b, 0xcd), bb_byte(b, (uint8_t)(v >> 8)),
		    bb_byte(b, (uint8_t)v);
	} else {
		bb_byte(b, 0xcf);
		for (int i = 7; i >= 0; i--)
			bb_byte(b, (uint8_t)(v >> (8 * i)));
	}
}
static void bb_str(struct bb *b, const char *s)
{
	size_t n = strlen(s);
	if (n < 32) {
		bb_byte(b, (uint8_t)(0xa0 | n));
	} else {
		bb_byte(b, 0xd9), bb_byte(b, (uint8_t)n);
	}
	memcpy(b->b + b->n, s, n), b->n += n;
}
static void bb_bin(struct bb *b, uint8_t fill, size_t n)
{
	bb_byte(b, 0xc4), bb_byte(b, (uint8_t)n);
	memset(b->b + b->n, fill, n), b->n += n;
}

/* Knobs for one field of a redeem tx built by hand. */
struct redeem_spec {
	uint64_t version, kind, nonce, amount;
	size_t signer_len, sig_len;
	const char *reference;
	int nonce_wide;   /* nonce as uint16 though it fits a fixint */
	int chain_as_bin; /* chain id with the wrong type */
	int extra_body;   /* one field too many in the body */
	int negative_amount;
	int trailing;
};

static const struct redeem_spec good = {
    1, LOY_TX_REDEEM, 7, 60, 32, 64, "pos-77-0001", 0, 0, 0, 0, 0};

static size_t build_redeem(struct bb *b, const struct redeem_spec *s)
{
	b->n = 0;
	bb_arr(b, 7);
	bb_uint(b, s->version);
	bb_uint(b, s->kind);
	if (s->chain_as_bin)
		bb_bin(b, 'x', 12);
	else
		bb_str(b, "loyalty-test");
	bb_bin(b, 0x11, s->signer_len);
	if (s->nonce_wide)
		bb_byte(b, 0xcd), bb_byte(b, 0), bb_byte(b, (uint8_t)s->nonce);
	else
		bb_uint(b, s->nonce);
	bb_arr(b, s->extra_body ? 5 : 4);
	bb_bin(b, 0x22, 20);
	if (s->negative_amount)
		bb_byte(b, 0xff); /* -1 */
	else
		bb_uint(b, s->amount);
	bb_str(b, s->reference);
	bb_str(b, "discount");
	if (s->extra_body)
		bb_uint(b, 1);
	bb_bin(b, 0x33, s->sig_len);
	if (s->trailing)
		bb_byte(b, 0x00);
	return b->n;
}

static int decode_spec(const struct redeem_spec *s)
{
	static struct bb b;
	struct loy_tx tx;
	int rv;

	build_redeem(&b, s);
	rv = loy_tx_decode(&tx, b.b, b.n);
	if (rv == 0)
		loy_tx_free(&tx);
	return rv;
}

static void test_rejects_each_malformed_field(void **state)
{
	struct redeem_spec s;
	char longref[LOY_REF_MAX + 2];
	(void)state;

	assert_int_equal(decode_spec(&good), 0);
	s = good, s.version = 2;
	assert_int_equal(decode_spec(&s), LOY_EVERSION);
	s = good, s.kind = 99;
	assert_int_equal(decode_spec(&s), LOY_EKIND);
	s = good, s.kind = 0;
	assert_int_equal(decode_spec(&s), LOY_EKIND);
	s = good, s.chain_as_bin = 1; /* wrong type */
	assert_int_equal(decode_spec(&s), LOY_EMALFORMED);
	s = good, s.signer_len = 31; /* wrong length */
	assert_int_equal(decode_spec(&s), LOY_EMALFORMED);
	s = good, s.sig_len = 63;
	assert_int_equal(decode_spec(&s), LOY_EMALFORMED);
	s = good, s.sig_len = 65;
	assert_int_equal(decode_spec(&s), LOY_ETOOBIG);
	s = good, s.nonce = 0; /* out of range */
	assert_int_equal(decode_spec(&s), LOY_ERANGE);
	s = good, s.negative_amount = 1;
	assert_int_equal(decode_spec(&s), LOY_ERANGE);
	s = good, s.nonce_wide = 1; /* non-canonical integer width */
	assert_int_equal(decode_spec(&s), LOY_ENONCANON);
	s = good, s.trailing = 1;
	assert_int_equal(decode_spec(&s), LOY_ETRAILING);
	s = good, s.extra_body = 1;
	assert_int_equal(decode_spec(&s), LOY_EMALFORMED);
	memset(longref, 'r', sizeof longref - 1);
	longref[sizeof longref - 1] = '\0';
	s = good, s.reference = longref; /* oversized field */
	assert_int_equal(decode_spec(&s), LOY_ETOOBIG);
}

static void test_rejects_noncanonical_string_header(void **state)
{
	static struct bb b;
	struct loy_tx tx;
	size_t n = build_redeem(&b, &good);
	uint8_t *p = memmem(b.b, n,
			    "\xa8"
			    "discount",
			    9);
	(void)state;
	/* rewrite fixstr(8) as str8(8): same content, wider header */
	assert_non_null(p);
	memmove(p + 1, p, (size_t)(b.b + n - p));
	p[0] = 0xd9, p[1] = 8;
	assert_int_equal(loy_tx_decode(&tx, b.b, n + 1), LOY_ENONCANON);
}

static void test_rejects_bad_coupon_and_geo(void **state)
{
	uint8_t pk[32], sk[64];
	struct loy_tx tx, back;
	struct loy_buf a;
	(void)state;
	sample_key(pk, sk, 1);
	/* latitude out of range does not decode */
	sample_tx(&tx, LOY_TX_COUPON_REDEEM);
	tx.u.coupon_redeem.location.lat_udeg = 90000001;
	assert_int_equal(loy_tx_encode(&tx, &a), 0);
	assert_int_equal(loy_tx_decode(&back, a.data, a.len), LOY_ERANGE);
	loy_buf_free(&a);
	/* a coupon index past the batch limit */
	sample_tx(&tx, LOY_TX_COUPON_REDEEM);
	tx.u.coupon_redeem.index = LOY_MAX_COUPONS_PER_ISSUE;
	assert_int_equal(loy_tx_encode(&tx, &a), 0);
	assert_int_equal(loy_tx_decode(&back, a.data, a.len), LOY_ERANGE);
	loy_buf_free(&a);
	/* an empty batch or a holder of unknown kind cannot be encoded */
	sample_tx(&tx, LOY_TX_COUPON_ISSUE);
	tx.u.coupon_issue.coupons[1].holder_kind = 9;
	assert_int_equal(loy_tx_encode(&tx, &a), LOY_EINVAL);
	tx.u.coupon_issue.coupon_count = 0;
	assert_int_equal(loy_tx_encode(&tx, &a), LOY_EINVAL);
	tx.u.coupon_issue.coupon_count = 2;
	loy_tx_free(&tx);
}

static void test_rejects_oversized_and_hostile(void **state)
{
	static const uint8_t evil[] = {0x6f, 0xdd, 0x11, 0x6f,
				       0xfe, 0x11, 0xfc};
	static const uint8_t evil2[] = {0xdd, 0x11, 0x6f, 0xfe,
					0x11, 0xfc, 0x00};
	static uint8_t big[LOY_MAX_TX_BYTES + 1];
	struct loy_tx tx;
	(void)state;
	assert_int_not_equal(loy_tx_decode(&tx, evil, sizeof evil), 0);
	assert_int_equal(loy_tx_decode(&tx, evil2, sizeof evil2),
			 LOY_EMALFORMED);
	assert_int_equal(loy_tx_decode(&tx, big, sizeof big), LOY_ETOOBIG);
	assert_int_equal(loy_tx_decode(&tx, big, 0), LOY_EMALFORMED);
	/* the biggest coupon batch does not fit in one transaction */
	sample_tx(&tx, LOY_TX_COUPON_ISSUE);
	free(tx.u.coupon_issue.coupons);
	tx.u.coupon_issue.coupon_count = LOY_MAX_COUPONS_PER_ISSUE;
	tx.u.coupon_issue.coupons =
	    calloc(LOY_MAX_COUPONS_PER_ISSUE, sizeof(struct loy_coupon_slot));
	for (unsigned i = 0; i < LOY_MAX_COUPONS_PER_ISSUE; i++)
		tx.u.coupon_issue.coupons[i].holder_kind = LOY_COUPON_BEARER;
	{
		struct loy_buf a;
		assert_int_equal(loy_tx_encode(&tx, &a), LOY_ETOOBIG);
	}
	loy_tx_free(&tx);
}

static void test_signature_domain_is_tx(void **state)
{
	uint8_t pk[32], sk[64];
	struct loy_tx tx;
	struct loy_buf sb;
	(void)state;
	sample_key(pk, sk, 4);
	sample_tx(&tx, LOY_TX_TRANSFER);
	assert_int_equal(loy_tx_sign(&tx, sk), 0);
	assert_int_equal(loy_tx_signing_bytes(&tx, &sb), 0);
	assert_int_equal(
	    loy_verify(tx.sig, LOY_DOMAIN_TX, tx.chain_id, sb.data, sb.len, pk),
	    0);
	assert_int_equal(loy_verify(tx.sig, LOY_DOMAIN_VOTE, tx.chain_id,
				    sb.data, sb.len, pk),
			 LOY_EBADSIG);
	/* a tx for another chain is another message */
	strcpy(tx.chain_id, "other");
	assert_int_equal(loy_tx_verify(&tx), LOY_EBADSIG);
	loy_buf_free(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_golden_vectors),
	    cmocka_unit_test(test_roundtrip_every_kind),
	    cmocka_unit_test(test_tampered_signature_fails),
	    cmocka_unit_test(test_rejects_each_malformed_field),
	    cmocka_unit_test(test_rejects_noncanonical_string_header),
	    cmocka_unit_test(test_rejects_bad_coupon_and_geo),
	    cmocka_unit_test(test_rejects_oversized_and_hostile),
	    cmocka_unit_test(test_signature_domain_is_tx),
	};
	if (loy_crypto_init() != 0)
		return 1;
	return cmocka_run_group_tests_name("wire_tx", tests, NULL, NULL);
}
