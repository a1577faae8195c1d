/* Session keys and frame sealing for peer links (libsodium X25519,
 * BLAKE2b, XChaCha20-Poly1305). */
#include "wire/session.h"

#include <sodium.h>
#include <string.h>

#include "wire/error.h"

#define KDF_LABEL "loy/session/v1"

void loy_eph_keygen(struct loy_eph_key *k)
{
	crypto_kx_keypair(k->pk, k->sk);
}

void loy_eph_keygen_seed(struct loy_eph_key *k,
			 const uint8_t seed[LOY_SEED_SIZE])
{
	crypto_kx_seed_keypair(k->pk, k->sk, seed);
}

void loy_eph_key_wipe(struct loy_eph_key *k)
{
	sodium_memzero(k, sizeof *k);
}

int loy_session_derive(struct loy_session *s, enum loy_hs_role role,
		       const struct loy_eph_key *ours,
		       const uint8_t peer_pk[LOY_X25519_SIZE],
		       const uint8_t transcript[LOY_HASH_SIZE])
{
	uint8_t shared[crypto_scalarmult_BYTES];
	uint8_t keys[2 * LOY_SESSION_KEY_SIZE];
	crypto_generichash_state st;
	const uint8_t *i2r = keys, *r2i = keys + LOY_SESSION_KEY_SIZE;

	memset(s, 0, sizeof *s);
	s->broken = 1;
	if (role != LOY_HS_INITIATOR && role != LOY_HS_RESPONDER)
		return LOY_EINVAL;
	if (crypto_scalarmult(shared, ours->sk, peer_pk) != 0)
		return LOY_EBADSIG;
	crypto_generichash_init(&st, NULL, 0, sizeof keys);
	crypto_generichash_update(&st, (const uint8_t *)KDF_LABEL,
				  sizeof KDF_LABEL);
	crypto_generichash_update(&st, shared, sizeof shared);
	crypto_generichash_update(&st, transcript, LOY_HASH_SIZE);
	crypto_generichash_final(&st, keys, sizeof keys);
	memcpy(s->tx.key, role == LOY_HS_INITIATOR ? i2r : r2i,
	       LOY_SESSION_KEY_SIZE);
	memcpy(s->rx.key, role == LOY_HS_INITIATOR ? r2i : i2r,
	       LOY_SESSION_KEY_SIZE);
	s->broken = 0;
	sodium_memzero(shared, sizeof shared);
	sodium_memzero(keys, sizeof keys);
	sodium_memzero(&st, sizeof st);
	return 0;
}

/* Each direction has its own key, so the frame counter alone is a unique
 * nonce; it also makes replayed or reordered frames fail to open. */
static void
counter_nonce(uint8_t n[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES],
	      uint64_t counter)
{
	memset(n, 0, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
	for (int i = 0; i < 8; i++)
		n[i] = (uint8_t)(counter >> (8 * i));
}

int loy_session_seal(struct loy_session *s, uint8_t *out, const uint8_t *in,
		     size_t len)
{
	uint8_t n[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];

	if (s->broken || s->tx.counter == UINT64_MAX)
		return LOY_ESTATE;
	counter_nonce(n, s->tx.counter);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out, NULL, in, len, NULL, 0,
						   NULL, n, s->tx.key);
	s->tx.counter++;
	return 0;
}

int loy_session_open(struct loy_session *s, uint8_t *out, const uint8_t *in,
		     size_t len)
{
	uint8_t n[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];

	if (s->broken || s->rx.counter == UINT64_MAX)
		return LOY_ESTATE;
	if (len < LOY_SESSION_TAG_SIZE)
		return LOY_EMALFORMED;
	counter_nonce(n, s->rx.counter);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		out, NULL, NULL, in, len, NULL, 0, n, s->rx.key) != 0) {
		s->broken = 1;
		return LOY_EBADSIG;
	}
	s->rx.counter++;
	return 0;
}

void loy_session_wipe(struct loy_session *s)
{
	sodium_memzero(s, sizeof *s);
	s->broken = 1;
}
