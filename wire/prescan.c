/* Bounded, allocation-free walk over msgpack bytes from outside. */
#include "wire/prescan.h"

#include "wire/error.h"

/* Reads a big-endian length of n bytes at data[*pos]. */
static int read_len(const uint8_t *data, size_t len, size_t *pos, unsigned n,
		    uint64_t *out)
{
	uint64_t v = 0;

	if (len - *pos < n)
		return LOY_EMALFORMED;
	for (unsigned i = 0; i < n; i++)
		v = (v << 8) | data[(*pos)++];
	*out = v;
	return 0;
}

int loy_prescan(const uint8_t *data, size_t len, const struct loy_limits *lim)
{
	/* pending[d] = objects still expected at depth d. Depth is bounded, so
	 * an explicit stack replaces recursion on hostile input. */
	uint64_t pending[64];
	uint32_t depth = 0, items = 0;
	size_t pos = 0;
	int rv;

	if (len == 0)
		return LOY_EMALFORMED;
	if (len > lim->max_bytes)
		return LOY_ETOOBIG;
	if (lim->max_depth >= sizeof pending / sizeof pending[0])
		return LOY_EINVAL;
	pending[0] = 1;
	while (1) {
		uint64_t n = 0, skip = 0, children = 0;
		uint8_t b;

		while (pending[depth] == 0) {
			if (depth == 0)
				return pos == len ? 0 : LOY_ETRAILING;
			depth--;
		}
		pending[depth]--;
		if (pos >= len)
			return LOY_EMALFORMED;
		if (++items > lim->max_items)
			return LOY_ETOOBIG;
		b = data[pos++];
		if (b <= 0x7f || b >= 0xe0 || b == 0xc2 || b == 0xc3) {
			/* fixint or boolean: nothing follows */
		} else if (b >= 0xa0 && b <= 0xbf) {
			skip = b & 0x1f;
		} else if (b >= 0x90 && b <= 0x9f) {
			children = b & 0x0f;
		} else {
			switch (b) {
			case 0xcc:
			case 0xd0:
				skip = 1;
				break;
			case 0xcd:
			case 0xd1:
				skip = 2;
				break;
			case 0xce:
			case 0xd2:
				skip = 4;
				break;
			case 0xcf:
			case 0xd3:
				skip = 8;
				break;
			case 0xc4:
			case 0xd9:
				rv = read_len(data, len, &pos, 1, &n);
				goto sized;
			case 0xc5:
			case 0xda:
				rv = read_len(data, len, &pos, 2, &n);
				goto sized;
			case 0xc6:
			case 0xdb:
				rv = read_len(data, len, &pos, 4, &n);
				goto sized;
			case 0xdc:
				rv = read_len(data, len, &pos, 2, &children);
				goto counted;
			case 0xdd:
				rv = read_len(data, len, &pos, 4, &children);
				goto counted;
			default:
				/* nil, floats, maps, ext: never in our messages
				 */
				return LOY_EMALFORMED;
			}
			goto scalar;
		sized:
			if (rv != 0)
				return rv;
			skip = n;
			goto scalar;
		counted:
			if (rv != 0)
				return rv;
		}
	scalar:
		if (skip > len - pos)
			return LOY_EMALFORMED;
		pos += skip;
		if (children > 0) {
			/* Every element takes at least one byte. */
			if (children > len - pos)
				return LOY_EMALFORMED;
			if (children > lim->max_items - items)
				return LOY_ETOOBIG;
			if (depth + 1 > lim->max_depth)
				return LOY_ETOOBIG;
			pending[++depth] = children;
		}
	}
}
