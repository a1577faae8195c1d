/* libFuzzer target: the client API request, response and event decoder;
 * whatever it accepts must re-encode to exactly the input (canonical round
 * trip). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct loy_client_request q;
	struct loy_client_response r;
	struct loy_client_event e;
	struct loy_buf out;
	size_t n;
	uint8_t kind;

	(void)loy_frame_peek(data, len, LOY_MAX_FRAME, &n);
	(void)!loy_client_peek_kind(data, len, &kind);
	if (loy_client_request_decode(&q, data, len) == 0) {
		if (loy_client_request_encode(&q, &out) != 0 ||
		    out.len != len || memcmp(out.data, data, len) != 0)
			abort();
		loy_buf_free(&out);
		loy_client_request_free(&q);
	}
	if (loy_client_response_decode(&r, data, len) == 0) {
		if (loy_client_response_encode(&r, &out) != 0 ||
		    out.len != len || memcmp(out.data, data, len) != 0)
			abort();
		loy_buf_free(&out);
		loy_client_response_free(&r);
	}
	if (loy_client_event_decode(&e, data, len) == 0) {
		if (loy_client_event_encode(&e, &out) != 0 || out.len != len ||
		    memcmp(out.data, data, len) != 0)
			abort();
		loy_buf_free(&out);
		loy_client_event_free(&e);
	}
	return 0;
}
