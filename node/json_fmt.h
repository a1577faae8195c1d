/* JSON values shared by the query answers and the status (jansson). */
#ifndef LOY_NODE_JSON_FMT_H
#define LOY_NODE_JSON_FMT_H

#include <jansson.h>
#include <stdint.h>

#include "ledger/txjson.h"
#include "wire/crypto.h"

static inline json_t *id_json(const uint8_t id[LOY_ID_SIZE])
{
	char s[LOY_ID_STR_SIZE];
	loy_id_format(s, id);
	return json_string(s);
}

static inline json_t *hex_json(const uint8_t *p, size_t n)
{
	char s[2 * 64 + 1];
	loy_hex(s, p, n);
	return json_string(s);
}

static inline json_t *u64_json(uint64_t v)
{
	return json_integer((json_int_t)v);
}

#endif
