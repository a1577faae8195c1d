/* Unit tests for client API messages and the frame length prefix. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/golden/peer_vectors.h"
#include "tests/unit/wire_mp.h"
#include "wire/client.h"
#include "wire/error.h"

static int dec_req(const uint8_t *p, size_t n)
{
	struct loy_client_request q;
	int rv = loy_client_request_decode(&q, p, n);
	if (rv == 0)
		loy_client_request_free(&q);
	return rv;
}

static int dec_resp(const uint8_t *p, size_t n)
{
	struct loy_client_response r;
	int rv = loy_client_response_decode(&r, p, n);
	if (rv == 0)
		loy_client_response_free(&r);
	return rv;
}

static int dec_event(const uint8_t *p, size_t n)
{
	struct loy_client_event e;
	int rv = loy_client_event_decode(&e, p, n);
	if (rv == 0)
		loy_client_event_free(&e);
	return rv;
}

static void assert_hex(const struct loy_buf *b, const char *hex)
{
	char s[2048];
	assert_true(2 * b->len < sizeof s);
	mp_hex(s, b->data, b->len);
	assert_string_equal(s, hex);
}

/* Encodes q, checks the golden bytes, decodes and re-encodes. */
static void roundtrip(const struct loy_client_request *q, const char *hex,
		      struct loy_client_request *back)
{
	struct loy_buf b, again;
	uint8_t kind;

	assert_int_equal(loy_client_request_encode(q, &b), 0);
	assert_hex(&b, hex);
	assert_int_equal(loy_client_peek_kind(b.data, b.len, &kind), 0);
	assert_int_equal(kind, q->kind);
	assert_int_equal(loy_client_request_decode(back, b.data, b.len), 0);
	assert_int_equal(back->kind, q->kind);
	assert_int_equal(back->request_id, q->request_id);
	assert_int_equal(loy_client_request_encode(back, &again), 0);
	assert_int_equal(again.len, b.len);
	assert_memory_equal(again.data, b.data, b.len);
	loy_buf_free(&b);
	loy_buf_free(&again);
}

static void fx_submit(struct loy_client_request *q, struct loy_buf txs[2])
{
	memset(q, 0, sizeof *q);
	txs[0].data = (uint8_t *)(uintptr_t) "tx-a";
	txs[0].len = 4;
	txs[1].data = (uint8_t *)(uintptr_t) "tx-bb";
	txs[1].len = 5;
	q->kind = LOY_CLIENT_SUBMIT;
	q->request_id = 300;
	q->submit.tx_count = 2;
	q->submit.txs = txs;
	q->submit.wait = true;
}

static void fx_query(struct loy_client_request *q)
{
	memset(q, 0, sizeof *q);
	q->kind = LOY_CLIENT_QUERY;
	q->request_id = 2;
	q->query.kind = 5;
	q->query.arg_count = 4;
	q->query.args[0].type = LOY_ARG_UINT;
	q->query.args[0].u = 1000000;
	q->query.args[1].type = LOY_ARG_INT;
	q->query.args[1].i = -45;
	q->query.args[2].type = LOY_ARG_STR;
	q->query.args[2].len = 3;
	memcpy(q->query.args[2].data, "abc", 3);
	q->query.args[3].type = LOY_ARG_BIN;
	q->query.args[3].len = LOY_ID_SIZE;
	memset(q->query.args[3].data, 0x42, LOY_ID_SIZE);
}

static void test_requests_roundtrip(void **state)
{
	struct loy_client_request q, back;
	struct loy_buf txs[2];
	(void)state;
	fx_submit(&q, txs);
	roundtrip(&q, GV_CLIENT_SUBMIT, &back);
	assert_int_equal(back.submit.tx_count, 2);
	assert_true(back.submit.wait);
	assert_memory_equal(back.submit.txs[1].data, "tx-bb", 5);
	loy_client_request_free(&back);
	fx_query(&q);
	roundtrip(&q, GV_CLIENT_QUERY, &back);
	assert_memory_equal(&back.query, &q.query, sizeof q.query);
	loy_client_request_free(&back);
	memset(&q, 0, sizeof q);
	q.kind = LOY_CLIENT_SUBSCRIBE;
	q.request_id = 3;
	q.subscribe.filter = LOY_SUB_CUSTOMER;
	memset(q.subscribe.id, 0x17, LOY_ID_SIZE);
	roundtrip(&q, GV_CLIENT_SUBSCRIBE, &back);
	assert_memory_equal(&back.subscribe, &q.subscribe, sizeof q.subscribe);
	q.subscribe.filter = LOY_SUB_ALL;
	memset(q.subscribe.id, 0, LOY_ID_SIZE);
	roundtrip(&q, "9501030300c400", &back);
	memset(&q, 0, sizeof q);
	q.kind = LOY_CLIENT_STATUS;
	q.request_id = 1ull << 40;
	roundtrip(&q, GV_CLIENT_STATUS, &back);
}

static void test_request_encoder_refuses(void **state)
{
	struct loy_client_request q;
	struct loy_buf txs[2], b;
	(void)state;
	fx_submit(&q, txs);
	q.submit.tx_count = 0;
	assert_int_equal(loy_client_request_encode(&q, &b), LOY_EINVAL);
	q.submit.tx_count = LOY_MAX_SUBMIT_BATCH + 1;
	assert_int_equal(loy_client_request_encode(&q, &b), LOY_ETOOBIG);
	q.submit.tx_count = 2;
	txs[1].len = 0;
	assert_int_equal(loy_client_request_encode(&q, &b), LOY_EINVAL);
	txs[1].len = LOY_MAX_TX_BYTES + 1;
	assert_int_equal(loy_client_request_encode(&q, &b), LOY_ETOOBIG);
	fx_query(&q);
	q.query.args[1].i = 0; /* would come back as UINT */
	assert_int_equal(loy_client_request_encode(&q, &b), LOY_EINVAL);
	fx_query(&q);
	q.query.args[3].len = LOY_CLIENT_ARG_MAX + 1;
	assert_int_equal(loy_client_request_encode(&q, &b), LOY_ETOOBIG);
	q.query.arg_count = LOY_CLIENT_MAX_ARGS + 1;
	assert_int_equal(loy_client_request_encode(&q, &b), LOY_ETOOBIG);
	q.kind = 9;
	assert_int_equal(loy_client_request_encode(&q, &b), LOY_EKIND);
}

static void test_requests_reject_bad_fields(void **state)
{
	struct mpf f[5], a[4];
	uint8_t id[LOY_ID_SIZE] = {1};
	uint8_t big[LOY_CLIENT_ARG_MAX + 1] = {0};
	(void)state;
	/* SUBMIT */
	a[0] = mpf_bin("tx-a", 4, 0);
	a[1] = mpf_bin("tx-bb", 5, 0);
	f[0] = mpf_u(LOY_WIRE_VERSION);
	f[1] = mpf_u(LOY_CLIENT_SUBMIT);
	f[2] = mpf_u(300);
	f[3] = mpf_arr(a, 2);
	f[4] = mpf_bool(0);
	mp_check_fields("submit", dec_req, f, 5);
	f[3] = mpf_arr(a, 0);
	assert_int_equal(mp_try(dec_req, f, 5), LOY_EMALFORMED);
	a[1] = mpf_bin("", 0, 0);
	f[3] = mpf_arr(a, 2);
	assert_int_equal(mp_try(dec_req, f, 5), LOY_EMALFORMED);
	a[1] = mpf_u(4);
	f[3] = mpf_arr(a, 2);
	assert_int_equal(mp_try(dec_req, f, 5), LOY_EMALFORMED);
	f[3] = mpf_arr(a, 1);
	f[1] = mpf_u(99);
	assert_int_equal(mp_try(dec_req, f, 5), LOY_EKIND);
	f[1] = mpf_u(LOY_CLIENT_RESPONSE);
	assert_int_equal(mp_try(dec_req, f, 5), LOY_EKIND);
	f[1] = mpf_u(LOY_CLIENT_SUBMIT);
	f[0] = mpf_u(0);
	assert_int_equal(mp_try(dec_req, f, 5), LOY_EVERSION);
	/* QUERY */
	a[0] = mpf_u(7);
	a[1] = mpf_neg(-3);
	a[2] = mpf_str("abc");
	a[3] = mpf_bin(id, sizeof id, 0);
	f[0] = mpf_u(LOY_WIRE_VERSION);
	f[1] = mpf_u(LOY_CLIENT_QUERY);
	f[2] = mpf_u(1);
	f[3] = mpf_u(4);
	f[4] = mpf_arr(a, 4);
	mp_check_fields("query", dec_req, f, 5);
	f[3] = mpf_u(256);
	assert_int_equal(mp_try(dec_req, f, 5), LOY_ERANGE);
	f[3] = mpf_u(4);
	a[3] = mpf_bin(big, sizeof big, 0);
	f[4] = mpf_arr(a, 4);
	assert_int_equal(mp_try(dec_req, f, 5), LOY_ETOOBIG);
	a[3] = mpf_bool(1);
	f[4] = mpf_arr(a, 4);
	assert_int_equal(mp_try(dec_req, f, 5), LOY_EMALFORMED);
	{
		struct mpf many[LOY_CLIENT_MAX_ARGS + 1];
		for (unsigned i = 0; i <= LOY_CLIENT_MAX_ARGS; i++)
			many[i] = mpf_u(i);
		f[4] = mpf_arr(many, LOY_CLIENT_MAX_ARGS + 1);
		assert_int_equal(mp_try(dec_req, f, 5), LOY_ETOOBIG);
	}
	/* SUBSCRIBE */
	f[1] = mpf_u(LOY_CLIENT_SUBSCRIBE);
	f[3] = mpf_u(LOY_SUB_MEMBER);
	f[4] = mpf_bin(id, sizeof id, 1);
	mp_check_fields("subscribe", dec_req, f, 5);
	f[3] = mpf_u(3);
	assert_int_equal(mp_try(dec_req, f, 5), LOY_ERANGE);
	f[3] = mpf_u(LOY_SUB_ALL); /* "all" carries no ID */
	assert_int_equal(mp_try(dec_req, f, 5), LOY_EMALFORMED);
	f[4] = mpf_bin(id, 0, 0);
	assert_int_equal(mp_try(dec_req, f, 5), 0);
	f[3] = mpf_u(LOY_SUB_CUSTOMER);
	assert_int_equal(mp_try(dec_req, f, 5), LOY_EMALFORMED);
	/* STATUS */
	f[1] = mpf_u(LOY_CLIENT_STATUS);
	f[2] = mpf_u(77);
	mp_check_fields("status", dec_req, f, 3);
	assert_int_equal(mp_try(dec_req, f, 5), LOY_EMALFORMED);
}

static void test_response_and_event(void **state)
{
	struct loy_client_response r, rb;
	struct loy_client_event e, eb;
	struct loy_buf b;
	struct mpf f[6];
	char msg[LOY_ERRMSG_MAX + 2];
	uint8_t kind, hash[32];
	(void)state;
	memset(&r, 0, sizeof r);
	r.request_id = 300;
	r.code = LOY_EREJECTED;
	strcpy(r.message, "nonce already used");
	r.payload.data = (uint8_t *)(uintptr_t) "\x01\x02";
	r.payload.len = 2;
	assert_int_equal(loy_client_response_encode(&r, &b), 0);
	assert_hex(&b, GV_CLIENT_RESPONSE);
	assert_int_equal(loy_client_peek_kind(b.data, b.len, &kind), 0);
	assert_int_equal(kind, LOY_CLIENT_RESPONSE);
	assert_int_equal(loy_client_response_decode(&rb, b.data, b.len), 0);
	assert_string_equal(rb.message, r.message);
	assert_int_equal(rb.code, r.code);
	assert_int_equal(rb.payload.len, 2);
	loy_client_response_free(&rb);
	assert_int_equal(dec_event(b.data, b.len), LOY_EKIND);
	loy_buf_free(&b);
	/* success: empty message and payload */
	memset(&r, 0, sizeof r);
	assert_int_equal(loy_client_response_encode(&r, &b), 0);
	assert_int_equal(loy_client_response_decode(&rb, b.data, b.len), 0);
	assert_string_equal(rb.message, "");
	loy_client_response_free(&rb);
	loy_buf_free(&b);
	f[0] = mpf_u(LOY_WIRE_VERSION);
	f[1] = mpf_u(LOY_CLIENT_RESPONSE);
	f[2] = mpf_u(9);
	f[3] = mpf_u(0);
	f[4] = mpf_str("ok");
	f[5] = mpf_bin("xyz", 3, 0);
	mp_check_fields("response", dec_resp, f, 6);
	f[3] = mpf_u(1ull << 32);
	assert_int_equal(mp_try(dec_resp, f, 6), LOY_ERANGE);
	f[3] = mpf_u(0);
	memset(msg, 'm', sizeof msg - 1);
	msg[sizeof msg - 1] = '\0';
	f[4] = mpf_str(msg);
	assert_int_equal(mp_try(dec_resp, f, 6), LOY_ETOOBIG);
	f[4] = mpf_str("ok");
	f[1] = mpf_u(LOY_CLIENT_EVENT);
	assert_int_equal(mp_try(dec_resp, f, 6), LOY_EKIND);
	/* event */
	memset(&e, 0, sizeof e);
	e.height = 1234;
	memset(e.tx_hash, 0xab, 32);
	e.event.data = (uint8_t *)(uintptr_t) "redeem";
	e.event.len = 6;
	assert_int_equal(loy_client_event_encode(&e, &b), 0);
	assert_hex(&b, GV_CLIENT_EVENT);
	assert_int_equal(loy_client_event_decode(&eb, b.data, b.len), 0);
	assert_int_equal(eb.height, 1234);
	assert_memory_equal(eb.event.data, "redeem", 6);
	loy_client_event_free(&eb);
	assert_int_equal(dec_resp(b.data, b.len), LOY_EKIND);
	loy_buf_free(&b);
	memset(hash, 1, sizeof hash);
	f[0] = mpf_u(LOY_WIRE_VERSION);
	f[1] = mpf_u(LOY_CLIENT_EVENT);
	f[2] = mpf_u(5);
	f[3] = mpf_bin(hash, 32, 1);
	f[4] = mpf_bin("ev", 2, 0);
	mp_check_fields("event", dec_event, f, 5);
	f[4] = mpf_bin("", 0, 0);
	assert_int_equal(mp_try(dec_event, f, 5), LOY_EMALFORMED);
	e.event.len = 0;
	assert_int_equal(loy_client_event_encode(&e, &b), LOY_EINVAL);
}

static void test_peek_kind(void **state)
{
	uint8_t k;
	(void)state;
	assert_int_equal(
	    loy_client_peek_kind((const uint8_t *)"\x93\x01\x04\x00", 4, &k),
	    0);
	assert_int_equal(k, LOY_CLIENT_STATUS);
	assert_int_equal(
	    loy_client_peek_kind((const uint8_t *)"\x93\x02\x04", 3, &k),
	    LOY_EVERSION);
	assert_int_equal(
	    loy_client_peek_kind((const uint8_t *)"\x93\x01", 2, &k),
	    LOY_EMALFORMED);
	assert_int_equal(
	    loy_client_peek_kind((const uint8_t *)"\x81\x01\x04", 3, &k),
	    LOY_EMALFORMED);
	assert_int_equal(
	    loy_client_peek_kind((const uint8_t *)"\x93\x01\xcc", 3, &k),
	    LOY_EMALFORMED);
}

static void test_frames(void **state)
{
	uint8_t buf[16] = {0}, hdr[4];
	size_t n = 0;
	(void)state;
	assert_int_equal(loy_frame_peek(buf, 0, 100, &n), LOY_FRAME_MORE);
	assert_int_equal(loy_frame_peek(buf, 3, 100, &n), LOY_FRAME_MORE);
	assert_int_equal(loy_frame_header(hdr, 5), 0);
	assert_memory_equal(hdr, "\x00\x00\x00\x05", 4);
	memcpy(buf, hdr, 4);
	n = 0;
	assert_int_equal(loy_frame_peek(buf, 4, 100, &n), LOY_FRAME_MORE);
	assert_int_equal(n, 5); /* known early, so the buffer can be sized */
	assert_int_equal(loy_frame_peek(buf, 8, 100, &n), LOY_FRAME_MORE);
	assert_int_equal(loy_frame_peek(buf, 9, 100, &n), LOY_FRAME_READY);
	assert_int_equal(n, 5);
	assert_int_equal(loy_frame_peek(buf, 16, 100, &n), LOY_FRAME_READY);
	/* over the per-call maximum: refused from the header alone */
	assert_int_equal(loy_frame_peek(buf, 4, 4, &n), LOY_FRAME_TOOBIG);
	assert_int_equal(loy_frame_peek((const uint8_t *)"\xff\xff\xff\xff", 4,
					LOY_MAX_FRAME, &n),
			 LOY_FRAME_TOOBIG);
	assert_int_equal(
	    loy_frame_peek((const uint8_t *)"\x00\x00\x00\x00", 4, 100, &n),
	    LOY_FRAME_TOOBIG);
	assert_int_equal(loy_frame_header(hdr, 0), LOY_ETOOBIG);
	assert_int_equal(loy_frame_header(hdr, LOY_MAX_FRAME + 1), LOY_ETOOBIG);
	assert_int_equal(loy_frame_header(hdr, 0x00712345), 0);
	assert_memory_equal(hdr, "\x00\x71\x23\x45", 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_requests_roundtrip),
	    cmocka_unit_test(test_request_encoder_refuses),
	    cmocka_unit_test(test_requests_reject_bad_fields),
	    cmocka_unit_test(test_response_and_event),
	    cmocka_unit_test(test_peek_kind),
	    cmocka_unit_test(test_frames),
	};
	if (loy_crypto_init() != 0)
		return 1;
	return cmocka_run_group_tests_name("wire_client", tests, NULL, NULL);
}
