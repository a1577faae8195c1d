/* libFuzzer target: the block sync request and response decoder; whatever it
 * accepts must re-encode to exactly the input (canonical round trip). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct loy_sync_request q;
	struct loy_sync_response s;
	struct loy_buf out;

	if (loy_sync_request_decode(&q, data, len) == 0) {
		if (loy_sync_request_encode(&q, &out) != 0 || out.len != len ||
		    memcmp(out.data, data, len) != 0)
			abort();
		loy_buf_free(&out);
	}
	if (loy_sync_response_decode(&s, data, len) == 0) {
		if (loy_sync_response_encode(&s, &out) != 0 || out.len != len ||
		    memcmp(out.data, data, len) != 0)
			abort();
		loy_buf_free(&out);
		for (uint32_t i = 0; i < s.count; i++) {
			struct loy_block b;
			struct loy_cert c;

			if (loy_sync_entry_open(&s.entries[i], &b, &c) == 0)
				loy_block_free(&b);
		}
		loy_sync_response_free(&s);
	}
	return 0;
}
