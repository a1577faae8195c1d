/* A pass over untrusted msgpack bytes that bounds sizes, counts and depth
 * before msgpack-c is allowed to allocate anything for them. */
#ifndef LOY_WIRE_PRESCAN_H
#define LOY_WIRE_PRESCAN_H

#include <stddef.h>
#include <stdint.h>

struct loy_limits {
	size_t max_bytes;   /* whole message */
	uint32_t max_depth; /* nesting of arrays */
	uint32_t max_items; /* every object counts, containers included */
};

/* Checks that data holds exactly one msgpack object built only of the types
 * our messages use (non-negative and negative integers, booleans, str, bin,
 * arrays), with every declared length or count no larger than the bytes left,
 * nesting within max_depth, and at most max_items objects in all. Floats,
 * maps, nil and ext are refused. Allocates nothing.
 * Returns 0, LOY_ETOOBIG, LOY_EMALFORMED or LOY_ETRAILING. */
int loy_prescan(const uint8_t *data, size_t len, const struct loy_limits *lim);

#endif
