/* Client authentication on the client API: the peer handshake of
 * wire/handshake.h with the node as responder, allowing only the client keys
 * of [client] allowed_keys, then an encrypted session. */
#ifndef LOY_NODE_CLIENT_AUTH_H
#define LOY_NODE_CLIENT_AUTH_H

#include <stdint.h>

#include "wire/buf.h"
#include "wire/handshake.h"
#include "wire/session.h"

enum loy_client_auth_state {
	LOY_CLIENT_AUTH_HELLO = 1, /* waiting for the client's HELLO */
	LOY_CLIENT_AUTH_AUTH,      /* waiting for the client's AUTH */
	LOY_CLIENT_AUTH_DONE,      /* sess is ready */
};

struct loy_client_auth {
	int state; /* enum loy_client_auth_state */
	struct loy_eph_key eph;
	struct loy_hs_hello ours, theirs;
	uint8_t transcript[LOY_HASH_SIZE];
	struct loy_session sess;
};

/* What the node needs to answer: its identity and the allowed keys. */
struct loy_client_auth_cfg {
	const char *chain_id;
	const uint8_t *pk; /* the node's validator key */
	const uint8_t *sk;
	const uint8_t (*allowed)[LOY_PUBKEY_SIZE];
	uint32_t n_allowed;
};

/* Feeds one handshake frame. On 0, *reply (caller frees) holds the bytes
 * to send back, and au->state says what comes next. On failure returns
 * LOY_EINVAL with *why saying why (close the connection). */
int loy_client_auth_step(struct loy_client_auth *au,
			 const struct loy_client_auth_cfg *cfg,
			 const uint8_t *data, size_t len, struct loy_buf *reply,
			 const char **why);

/* Parses "hex,hex,..." (spaces allowed) into a new array (caller frees).
 * Returns 0 or LOY_EINVAL with the bad entry in err. */
int loy_client_auth_parse_keys(const char *list,
			       uint8_t (**keys)[LOY_PUBKEY_SIZE], uint32_t *n,
			       char *err, size_t err_size);

/* Wipes the ephemeral key and the session. */
void loy_client_auth_wipe(struct loy_client_auth *au);

#endif
