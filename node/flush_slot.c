/* Flush slots of the validators: see flush_slot.h. */
#include "node/flush_slot.h"

bool loy_flush_slot(uint64_t height, uint32_t n, uint32_t idx)
{
	uint64_t cycle = (uint64_t)n * (n + 1);

	if (n == 0 || idx >= n)
		return false;
	return height % cycle == (uint64_t)idx * (n + 1);
}
