/* libFuzzer target: the consensus message decoder; whatever it accepts must
 * re-encode to exactly the input, and checking its signature must not
 * crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/consensus_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct loy_cmsg m;
	struct loy_buf out;
	static int ready;

	if (!ready && loy_crypto_init() == 0)
		ready = 1;
	if (loy_cmsg_decode(&m, data, len) != 0)
		return 0;
	if (loy_cmsg_encode(&m, &out) != 0 || out.len != len ||
	    memcmp(out.data, data, len) != 0)
		abort();
	loy_buf_free(&out);
	if (m.kind != LOY_CMSG_STATUS && m.kind != LOY_CMSG_PREPARE &&
	    m.kind != LOY_CMSG_COMMIT)
		(void)!loy_cmsg_verify(&m, m.hash);
	loy_cmsg_free(&m);
	return 0;
}
