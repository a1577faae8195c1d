/* A transaction as a JSON object (jansson) for APIs, events and the CLI:
 * every field, IDs in their printable form, hashes and keys in hex. */
#ifndef LOY_LEDGER_TXJSON_H
#define LOY_LEDGER_TXJSON_H

#include <jansson.h>

#include "wire/tx.h"

/* Returns a new object (caller json_decref's it) or NULL when out of
 * memory: {"kind": "redeem", "signer": "loy...", "nonce": 7, ...body}. */
json_t *loy_tx_json(const struct loy_tx *tx);

/* Lower-case hex of n bytes (out holds 2n+1). */
void loy_hex(char *out, const uint8_t *p, size_t n);

/* Parses exactly 2n hex digits into out. Returns 0 or LOY_EINVAL. */
int loy_unhex(uint8_t *out, size_t n, const char *hex);

/* Calls fn(data, id) for every account ID a transaction touches (its
 * signer and every ID in its body), for event filters. */
void loy_tx_parties(const struct loy_tx *tx,
		    void (*fn)(void *data, const uint8_t id[LOY_ID_SIZE]),
		    void *data);

#endif
