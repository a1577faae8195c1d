/* libFuzzer target for the transaction decoder: any input either fails to
 * decode or decodes to a tx whose encoding is exactly the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/tx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct loy_tx tx;
	struct loy_buf again;

	if (loy_tx_decode(&tx, data, size) != 0)
		return 0;
	if (loy_tx_encode(&tx, &again) != 0)
		abort();
	if (again.len != size || memcmp(again.data, data, size) != 0)
		abort(); /* accepted a non-canonical encoding */
	(void)loy_tx_verify_encoded(&tx, data, size);
	loy_buf_free(&again);
	loy_tx_free(&tx);
	return 0;
}
