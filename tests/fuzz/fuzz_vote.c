/* libFuzzer target: the vote (and block header) decoder; whatever it accepts
 * must re-encode to exactly the input (canonical round trip). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/block.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct loy_vote v;
	struct loy_block_header h;
	struct loy_buf out;
	static int ready;

	if (!ready && loy_crypto_init() == 0)
		ready = 1;
	if (loy_vote_decode(&v, data, len) == 0) {
		if (loy_vote_encode(&v, &out) != 0 || out.len != len ||
		    memcmp(out.data, data, len) != 0)
			abort();
		loy_buf_free(&out);
		(void)!loy_vote_verify(&v);
	}
	if (loy_block_header_decode(&h, data, len) == 0) {
		if (loy_block_header_encode(&h, &out) != 0 || out.len != len ||
		    memcmp(out.data, data, len) != 0)
			abort();
		loy_buf_free(&out);
	}
	return 0;
}
