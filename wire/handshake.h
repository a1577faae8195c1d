/* Peer handshake messages (DESIGN.md section 7): HELLO carries each side's
 * validator key, ephemeral X25519 key and nonce; AUTH signs the transcript
 * of both HELLOs so a recorded session cannot be replayed. */
#ifndef LOY_WIRE_HANDSHAKE_H
#define LOY_WIRE_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>

#include "wire/buf.h"
#include "wire/crypto.h"
#include "wire/limits.h"

#define LOY_HS_NONCE_SIZE 32

/* Which side of the connection signs. The role is part of the signed bytes,
 * so an AUTH cannot be reflected back at the side that made it. */
enum loy_hs_role {
	LOY_HS_INITIATOR = 1, /* the side that connected */
	LOY_HS_RESPONDER = 2, /* the side that accepted */
};

/* Encoded as [version, chain_id, validator, ephemeral, nonce]. */
struct loy_hs_hello {
	char chain_id[LOY_CHAIN_ID_MAX + 1]; /* non-empty */
	uint8_t validator[LOY_PUBKEY_SIZE];  /* long-term Ed25519 key */
	uint8_t ephemeral[LOY_X25519_SIZE];  /* fresh X25519 public key */
	uint8_t nonce[LOY_HS_NONCE_SIZE];    /* fresh random bytes */
};

/* Encoded as [version, sig]. */
struct loy_hs_auth {
	uint8_t sig[LOY_SIG_SIZE];
};

int loy_hs_hello_encode(const struct loy_hs_hello *h,
			struct loy_buf *out) LOY_MUST_USE;
int loy_hs_hello_decode(struct loy_hs_hello *h, const uint8_t *data,
			size_t len) LOY_MUST_USE;
int loy_hs_auth_encode(const struct loy_hs_auth *a,
		       struct loy_buf *out) LOY_MUST_USE;
int loy_hs_auth_decode(struct loy_hs_auth *a, const uint8_t *data,
		       size_t len) LOY_MUST_USE;

/* Checks a peer's HELLO against ours before any key work: same chain, and
 * a validator key, ephemeral key and nonce that differ from ours (a peer
 * echoing our HELLO is refused). Whether the peer's key is a known
 * validator is the caller's check. Returns 0 or LOY_EINVAL. */
int loy_hs_hello_check(const struct loy_hs_hello *ours,
		       const struct loy_hs_hello *peer) LOY_MUST_USE;

/* Transcript hash: loy_hash2 over the initiator's HELLO bytes then the
 * responder's, exactly as they were sent and received. Both sides compute
 * the same value. */
void loy_hs_transcript(uint8_t out[LOY_HASH_SIZE], const uint8_t *init_hello,
		       size_t init_len, const uint8_t *resp_hello,
		       size_t resp_len);

/* Signs (domain HANDSHAKE, chain_id) the role byte followed by the
 * transcript hash with our validator secret key. */
void loy_hs_auth_sign(struct loy_hs_auth *a, enum loy_hs_role role,
		      const char *chain_id,
		      const uint8_t transcript[LOY_HASH_SIZE],
		      const uint8_t sk[LOY_SECKEY_SIZE]);

/* Verifies the peer's AUTH: role is the PEER's role and pk the validator
 * key from the peer's HELLO. Returns 0 or LOY_EBADSIG. */
int loy_hs_auth_verify(const struct loy_hs_auth *a, enum loy_hs_role role,
		       const char *chain_id,
		       const uint8_t transcript[LOY_HASH_SIZE],
		       const uint8_t pk[LOY_PUBKEY_SIZE]) LOY_MUST_USE;

#endif
