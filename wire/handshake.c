/* Peer handshake codecs, transcript hash and AUTH signatures. */
#include "wire/handshake.h"

#include <string.h>

#include "wire/codec.h"
#include "wire/error.h"

static int hello_encode_cb(const void *in, struct loy_w *w)
{
	const struct loy_hs_hello *h = in;
	size_t n = strnlen(h->chain_id, sizeof h->chain_id);

	if (n == 0 || n > LOY_CHAIN_ID_MAX)
		return LOY_EINVAL;
	loy_w_array(w, 5);
	loy_w_u64(w, LOY_WIRE_VERSION);
	loy_w_str(w, h->chain_id);
	loy_w_bin(w, h->validator, LOY_PUBKEY_SIZE);
	loy_w_bin(w, h->ephemeral, LOY_X25519_SIZE);
	loy_w_bin(w, h->nonce, LOY_HS_NONCE_SIZE);
	return w->err;
}

static int hello_decode_cb(const msgpack_object *root, void *out)
{
	struct loy_hs_hello *h = out;
	struct loy_r r;

	loy_r_open(&r, root, 5, 5);
	loy_r_version(&r);
	loy_r_str(&r, h->chain_id, sizeof h->chain_id);
	if (r.err == 0 && h->chain_id[0] == '\0')
		loy_r_fail(&r, LOY_ERANGE);
	loy_r_bin_fixed(&r, h->validator, LOY_PUBKEY_SIZE);
	loy_r_bin_fixed(&r, h->ephemeral, LOY_X25519_SIZE);
	loy_r_bin_fixed(&r, h->nonce, LOY_HS_NONCE_SIZE);
	return loy_r_end(&r);
}

static const struct loy_codec hello_codec = {
    .limits = {192, 1, 8},
    .out_size = sizeof(struct loy_hs_hello),
    .decode = hello_decode_cb,
    .encode = hello_encode_cb,
};

static int auth_encode_cb(const void *in, struct loy_w *w)
{
	const struct loy_hs_auth *a = in;

	loy_w_array(w, 2);
	loy_w_u64(w, LOY_WIRE_VERSION);
	loy_w_bin(w, a->sig, LOY_SIG_SIZE);
	return w->err;
}

static int auth_decode_cb(const msgpack_object *root, void *out)
{
	struct loy_hs_auth *a = out;
	struct loy_r r;

	loy_r_open(&r, root, 2, 2);
	loy_r_version(&r);
	loy_r_bin_fixed(&r, a->sig, LOY_SIG_SIZE);
	return loy_r_end(&r);
}

static const struct loy_codec auth_codec = {
    .limits = {96, 1, 4},
    .out_size = sizeof(struct loy_hs_auth),
    .decode = auth_decode_cb,
    .encode = auth_encode_cb,
};

int loy_hs_hello_encode(const struct loy_hs_hello *h, struct loy_buf *out)
{
	return loy_encode_with(&hello_codec, h, out);
}

int loy_hs_hello_decode(struct loy_hs_hello *h, const uint8_t *data, size_t len)
{
	return loy_decode_canonical(&hello_codec, data, len, h);
}

int loy_hs_auth_encode(const struct loy_hs_auth *a, struct loy_buf *out)
{
	return loy_encode_with(&auth_codec, a, out);
}

int loy_hs_auth_decode(struct loy_hs_auth *a, const uint8_t *data, size_t len)
{
	return loy_decode_canonical(&auth_codec, data, len, a);
}

int loy_hs_hello_check(const struct loy_hs_hello *ours,
		       const struct loy_hs_hello *peer)
{
	if (strncmp(ours->chain_id, peer->chain_id, sizeof ours->chain_id) != 0)
		return LOY_EINVAL;
	if (memcmp(ours->validator, peer->validator, LOY_PUBKEY_SIZE) == 0 ||
	    memcmp(ours->ephemeral, peer->ephemeral, LOY_X25519_SIZE) == 0 ||
	    memcmp(ours->nonce, peer->nonce, LOY_HS_NONCE_SIZE) == 0)
		return LOY_EINVAL;
	return 0;
}

void loy_hs_transcript(uint8_t out[LOY_HASH_SIZE], const uint8_t *init_hello,
		       size_t init_len, const uint8_t *resp_hello,
		       size_t resp_len)
{
	loy_hash2(out, init_hello, init_len, resp_hello, resp_len);
}

static void auth_message(uint8_t msg[1 + LOY_HASH_SIZE], enum loy_hs_role role,
			 const uint8_t transcript[LOY_HASH_SIZE])
{
	msg[0] = (uint8_t)role;
	memcpy(msg + 1, transcript, LOY_HASH_SIZE);
}

void loy_hs_auth_sign(struct loy_hs_auth *a, enum loy_hs_role role,
		      const char *chain_id,
		      const uint8_t transcript[LOY_HASH_SIZE],
		      const uint8_t sk[LOY_SECKEY_SIZE])
{
	uint8_t msg[1 + LOY_HASH_SIZE];

	auth_message(msg, role, transcript);
	loy_sign(a->sig, LOY_DOMAIN_HANDSHAKE, chain_id, msg, sizeof msg, sk);
}

int loy_hs_auth_verify(const struct loy_hs_auth *a, enum loy_hs_role role,
		       const char *chain_id,
		       const uint8_t transcript[LOY_HASH_SIZE],
		       const uint8_t pk[LOY_PUBKEY_SIZE])
{
	uint8_t msg[1 + LOY_HASH_SIZE];

	if (role != LOY_HS_INITIATOR && role != LOY_HS_RESPONDER)
		return LOY_EBADSIG;
	auth_message(msg, role, transcript);
	return loy_verify(a->sig, LOY_DOMAIN_HANDSHAKE, chain_id, msg,
			  sizeof msg, pk);
}
