/* Unit tests for block sync requests and responses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/golden/block_vectors.h"
#include "tests/unit/wire_fixtures.h"
#include "tests/unit/wire_mp.h"
#include "wire/error.h"
#include "wire/sync.h"

static int dec_req(const uint8_t *p, size_t n)
{
	struct loy_sync_request q;
	return loy_sync_request_decode(&q, p, n);
}

static int dec_resp(const uint8_t *p, size_t n)
{
	struct loy_sync_response s;
	int rv = loy_sync_response_decode(&s, p, n);
	if (rv == 0)
		loy_sync_response_free(&s);
	return rv;
}

/* The fixture block and its 3-signer commit certificate, encoded. */
static void block_and_cert(struct loy_buf *blk, struct loy_buf *cert)
{
	struct loy_block b;
	struct loy_buf txs[3];
	struct loy_cert c;

	fx_block(&b, txs);
	assert_int_equal(loy_block_encode(&b, blk), 0);
	assert_int_equal(fx_cert(&c, 3), 0);
	assert_int_equal(loy_cert_encode(&c, cert), 0);
}

static void test_request(void **state)
{
	struct loy_sync_request q = {7, 16}, back;
	struct loy_buf b;
	struct mpf f[3];
	char hex[64];
	(void)state;
	assert_int_equal(loy_sync_request_encode(&q, &b), 0);
	mp_hex(hex, b.data, b.len);
	assert_string_equal(hex, GV_SYNC_REQUEST);
	assert_int_equal(loy_sync_request_decode(&back, b.data, b.len), 0);
	assert_memory_equal(&q, &back, sizeof q);
	loy_buf_free(&b);
	f[0] = mpf_u(LOY_WIRE_VERSION);
	f[1] = mpf_u(1u << 20);
	f[2] = mpf_u(LOY_MAX_SYNC_BLOCKS);
	mp_check_fields("sync request", dec_req, f, 3);
	f[2] = mpf_u(0);
	assert_int_equal(mp_try(dec_req, f, 3), LOY_ERANGE);
	f[2] = mpf_u(LOY_MAX_SYNC_BLOCKS + 1);
	assert_int_equal(mp_try(dec_req, f, 3), LOY_ERANGE);
	f[2] = mpf_u(1);
	f[0] = mpf_u(2);
	assert_int_equal(mp_try(dec_req, f, 3), LOY_EVERSION);
	q.max_count = 0;
	assert_int_equal(loy_sync_request_encode(&q, &b), LOY_EINVAL);
}

static void test_response_roundtrip_and_open(void **state)
{
	struct loy_sync_response s = {0}, back;
	struct loy_buf blk, cert, enc;
	struct loy_block b;
	struct loy_cert c;
	char *hex;
	(void)state;
	block_and_cert(&blk, &cert);
	assert_int_equal(
	    loy_sync_response_add(&s, blk.data, blk.len, cert.data, cert.len),
	    0);
	assert_int_equal(loy_sync_response_encode(&s, &enc), 0);
	hex = malloc(2 * enc.len + 1);
	mp_hex(hex, enc.data, enc.len);
	assert_string_equal(hex, GV_SYNC_RESPONSE);
	free(hex);
	assert_int_equal(loy_sync_response_decode(&back, enc.data, enc.len), 0);
	assert_int_equal(back.count, 1);
	assert_int_equal(back.entries[0].block.len, blk.len);
	assert_memory_equal(back.entries[0].block.data, blk.data, blk.len);
	assert_memory_equal(back.entries[0].cert.data, cert.data, cert.len);
	assert_int_equal(loy_sync_entry_open(&back.entries[0], &b, &c), 0);
	assert_int_equal(b.tx_count, 3);
	assert_int_equal(c.sig_count, 3);
	loy_block_free(&b);
	loy_sync_response_free(&back);
	loy_buf_free(&enc);
	/* a certificate for another block does not open with this one */
	{
		struct loy_cert other;
		struct loy_buf ob;
		assert_int_equal(fx_cert(&other, 3), 0);
		other.block_hash[0] ^= 1;
		assert_int_equal(loy_cert_encode(&other, &ob), 0);
		loy_buf_free(&s.entries[0].cert);
		s.entries[0].cert = ob;
		assert_int_equal(loy_sync_entry_open(&s.entries[0], &b, &c),
				 LOY_EINVAL);
		assert_null(b.txs);
	}
	loy_sync_response_free(&s);
	/* empty response */
	assert_int_equal(loy_sync_response_encode(&s, &enc), 0);
	assert_int_equal(loy_sync_response_decode(&back, enc.data, enc.len), 0);
	assert_int_equal(back.count, 0);
	loy_buf_free(&enc);
	loy_buf_free(&blk);
	loy_buf_free(&cert);
}

static void test_response_rejects_bad_fields(void **state)
{
	struct loy_buf blk, cert;
	struct mpf *f = calloc(3, sizeof *f), *e = calloc(2, sizeof *e);
	struct mpf *ent = calloc(1, sizeof *ent);
	(void)state;
	block_and_cert(&blk, &cert);
	e[0] = mpf_bin(blk.data, blk.len, 0);
	e[1] = mpf_bin(cert.data, cert.len, 0);
	ent[0] = mpf_arr(e, 2);
	f[0] = mpf_u(LOY_WIRE_VERSION);
	f[1] = mpf_arr(ent, 1);
	mp_check_fields("sync response", dec_resp, f, 2);
	e[1] = mpf_bin("", 0, 0);
	ent[0] = mpf_arr(e, 2);
	f[1] = mpf_arr(ent, 1);
	assert_int_equal(mp_try(dec_resp, f, 2), LOY_EMALFORMED);
	e[1] = mpf_str("x");
	ent[0] = mpf_arr(e, 2);
	f[1] = mpf_arr(ent, 1);
	assert_int_equal(mp_try(dec_resp, f, 2), LOY_EMALFORMED);
	ent[0] = mpf_arr(e, 1);
	f[1] = mpf_arr(ent, 1);
	assert_int_equal(mp_try(dec_resp, f, 2), LOY_EMALFORMED);
	f[0] = mpf_u(7);
	assert_int_equal(mp_try(dec_resp, f, 2), LOY_EVERSION);
	free(f);
	free(e);
	free(ent);
	loy_buf_free(&blk);
	loy_buf_free(&cert);
}

static void test_response_limits(void **state)
{
	struct loy_sync_response s = {0};
	uint8_t *big = calloc(1, LOY_MAX_BLOCK_BYTES + 1), *p;
	uint8_t one = 1;
	size_t n;
	(void)state;
	assert_non_null(big);
	assert_int_equal(loy_sync_response_add(&s, big, 0, &one, 1),
			 LOY_EINVAL);
	assert_int_equal(
	    loy_sync_response_add(&s, big, LOY_MAX_BLOCK_BYTES + 1, &one, 1),
	    LOY_ETOOBIG);
	assert_int_equal(
	    loy_sync_response_add(&s, &one, 1, big, LOY_MAX_CERT_BYTES + 1),
	    LOY_ETOOBIG);
	/* two 6 MiB blocks do not fit one 8 MiB frame */
	assert_int_equal(
	    loy_sync_response_add(&s, big, LOY_MAX_BLOCK_BYTES, &one, 1), 0);
	assert_int_equal(
	    loy_sync_response_add(&s, big, LOY_MAX_BLOCK_BYTES, &one, 1),
	    LOY_ETOOBIG);
	loy_sync_response_free(&s);
	for (unsigned i = 0; i < LOY_MAX_SYNC_BLOCKS; i++)
		assert_int_equal(loy_sync_response_add(&s, &one, 1, &one, 1),
				 0);
	assert_int_equal(loy_sync_response_add(&s, &one, 1, &one, 1),
			 LOY_ETOOBIG);
	loy_sync_response_free(&s);
	/* a response declaring 65 entries */
	p = big;
	*p++ = 0x92, *p++ = 0x01, *p++ = 0xdc, *p++ = 0,
	*p++ = LOY_MAX_SYNC_BLOCKS + 1;
	for (unsigned i = 0; i <= LOY_MAX_SYNC_BLOCKS; i++)
		*p++ = 0x92, *p++ = 0xc4, *p++ = 1, *p++ = 1, *p++ = 0xc4,
		*p++ = 1, *p++ = 1;
	n = (size_t)(p - big);
	assert_int_equal(dec_resp(big, n), LOY_ETOOBIG);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_request),
	    cmocka_unit_test(test_response_roundtrip_and_open),
	    cmocka_unit_test(test_response_rejects_bad_fields),
	    cmocka_unit_test(test_response_limits),
	};
	if (loy_crypto_init() != 0)
		return 1;
	return cmocka_run_group_tests_name("wire_sync", tests, NULL, NULL);
}
