/* The JSON genesis file: parsed into struct loy_genesis with jansson, every
 * mistake reported with its line, column or key. */
#ifndef LOY_LEDGER_GENESIS_JSON_H
#define LOY_LEDGER_GENESIS_JSON_H

#include <stddef.h>

#include "ledger/ledger.h"

/* Reads a genesis file:
 *   {"chain_id": "loyalty-local", "genesis_time_ms": 1795000000000,
 *    "commission_bps": 100, "point_value": 1,
 *    "members": [{"name": "Alpha Foods", "validator_key": "<64 hex>",
 *                 "address": "127.0.0.1:7101"}, ...]}
 * Unknown keys are errors (a typo must not silently drop a setting).
 * Returns 0, or LOY_EIO / LOY_EINVAL with "path:line:col: reason" or
 * "path: members[2].validator_key: reason" in err. */
int loy_genesis_load(struct loy_genesis *g, const char *path, char *err,
		     size_t err_size);

/* Writes g as a genesis file (0644, replacing path atomically). Returns 0
 * or LOY_EIO / LOY_ENOMEM. */
int loy_genesis_save(const struct loy_genesis *g, const char *path);

#endif
