/* libFuzzer target: the quorum certificate decoder; whatever it accepts must
 * re-encode to exactly the input (canonical round trip). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/block.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct loy_cert c;
	struct loy_buf out;

	if (loy_cert_decode(&c, data, len) != 0)
		return 0;
	if (loy_cert_encode(&c, &out) != 0 || out.len != len ||
	    memcmp(out.data, data, len) != 0)
		abort();
	loy_buf_free(&out);
	return 0;
}
