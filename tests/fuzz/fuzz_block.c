/* libFuzzer target: the block decoder; whatever it accepts must re-encode to
 * exactly the input (canonical round trip). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/block.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct loy_block b;
	struct loy_buf out;

	if (loy_block_decode(&b, data, len) != 0)
		return 0;
	if (loy_block_encode(&b, &out) != 0 || out.len != len ||
	    memcmp(out.data, data, len) != 0)
		abort();
	loy_buf_free(&out);
	loy_block_free(&b);
	return 0;
}
