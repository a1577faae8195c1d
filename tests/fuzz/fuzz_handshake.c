/* libFuzzer target: the peer handshake HELLO and AUTH decoder; whatever it
 * accepts must re-encode to exactly the input (canonical round trip). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/handshake.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct loy_hs_hello h;
	struct loy_hs_auth a;
	struct loy_buf out;

	if (loy_hs_hello_decode(&h, data, len) == 0) {
		if (loy_hs_hello_encode(&h, &out) != 0 || out.len != len ||
		    memcmp(out.data, data, len) != 0)
			abort();
		loy_buf_free(&out);
	}
	if (loy_hs_auth_decode(&a, data, len) == 0) {
		if (loy_hs_auth_encode(&a, &out) != 0 || out.len != len ||
		    memcmp(out.data, data, len) != 0)
			abort();
		loy_buf_free(&out);
	}
	return 0;
}
