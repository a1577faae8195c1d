/* The encrypted peer channel set up by the handshake: ephemeral X25519 keys,
 * session key derivation, and AEAD seal/open of frames. */
#ifndef LOY_WIRE_SESSION_H
#define LOY_WIRE_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "wire/crypto.h"
#include "wire/handshake.h"

#define LOY_SESSION_KEY_SIZE 32
#define LOY_SESSION_TAG_SIZE 16 /* bytes a sealed frame adds */

/* An ephemeral X25519 key pair, used for one handshake and then wiped. */
struct loy_eph_key {
	uint8_t pk[LOY_X25519_SIZE];
	uint8_t sk[LOY_X25519_SIZE]; /* secret: wipe with loy_eph_key_wipe */
};

/* One direction of a session: its key and the count of frames sealed (or
 * opened) so far, which is also the nonce of the next frame. */
struct loy_session_dir {
	uint8_t key[LOY_SESSION_KEY_SIZE];
	uint64_t counter;
};

/* Both directions. Frames must be opened in the order they were sealed
 * (TCP keeps order), so a replayed, dropped or reordered frame fails. After
 * a failed open the session refuses every further call: close the link. */
struct loy_session {
	struct loy_session_dir tx;
	struct loy_session_dir rx;
	int broken;
};

/* A fresh random ephemeral key pair. */
void loy_eph_keygen(struct loy_eph_key *k);
/* The key pair of a 32-byte seed (tests and golden vectors only). */
void loy_eph_keygen_seed(struct loy_eph_key *k,
			 const uint8_t seed[LOY_SEED_SIZE]);
void loy_eph_key_wipe(struct loy_eph_key *k);

/* Derives the session after both AUTHs verified: X25519(ours.sk, peer_pk),
 * then BLAKE2b-512 over a fixed label, the shared secret and the transcript
 * hash; the first half keys initiator-to-responder frames, the second half
 * the other direction. role is OUR role. Returns 0, or LOY_EBADSIG when the
 * peer's key is a low-order point (the shared secret would be all zero).
 * The shared secret is wiped; ours is not (wipe it when done). */
int loy_session_derive(struct loy_session *s, enum loy_hs_role role,
		       const struct loy_eph_key *ours,
		       const uint8_t peer_pk[LOY_X25519_SIZE],
		       const uint8_t transcript[LOY_HASH_SIZE]) LOY_MUST_USE;

/* Seals len bytes of in into out, which must hold len +
 * LOY_SESSION_TAG_SIZE bytes (in and out may be the same buffer). Returns 0,
 * or LOY_ESTATE when the session is broken or its counter is spent. */
int loy_session_seal(struct loy_session *s, uint8_t *out, const uint8_t *in,
		     size_t len) LOY_MUST_USE;

/* Opens a sealed frame of len bytes into out, which must hold len -
 * LOY_SESSION_TAG_SIZE bytes. Returns 0, LOY_EMALFORMED (shorter than a
 * tag), LOY_EBADSIG (forged, replayed or out of order: the session is then
 * broken) or LOY_ESTATE. */
int loy_session_open(struct loy_session *s, uint8_t *out, const uint8_t *in,
		     size_t len) LOY_MUST_USE;

/* Wipes both keys; the session is broken afterwards. */
void loy_session_wipe(struct loy_session *s);

#endif
