/* Client handshake on the node side (responder): HELLO in, HELLO out; AUTH
 * in, AUTH out; then the session. */
#include "node/client_auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/txjson.h"
#include "wire/error.h"

#define MAX_KEYS 256

static int allowed(const struct loy_client_auth_cfg *cfg, const uint8_t *pk)
{
	for (uint32_t i = 0; i < cfg->n_allowed; i++)
		if (memcmp(cfg->allowed[i], pk, LOY_PUBKEY_SIZE) == 0)
			return 1;
	return 0;
}

static int hello(struct loy_client_auth *au,
		 const struct loy_client_auth_cfg *cfg, const uint8_t *data,
		 size_t len, struct loy_buf *reply, const char **why)
{
	struct loy_eph_key noncekey;

	if (loy_hs_hello_decode(&au->theirs, data, len) != 0) {
		*why = "malformed HELLO";
		return LOY_EINVAL;
	}
	memset(&au->ours, 0, sizeof au->ours);
	snprintf(au->ours.chain_id, sizeof au->ours.chain_id, "%s",
		 cfg->chain_id);
	memcpy(au->ours.validator, cfg->pk, LOY_PUBKEY_SIZE);
	loy_eph_keygen(&au->eph);
	memcpy(au->ours.ephemeral, au->eph.pk, LOY_X25519_SIZE);
	loy_eph_keygen(&noncekey); /* fresh random bytes for the nonce */
	memcpy(au->ours.nonce, noncekey.pk, LOY_HS_NONCE_SIZE);
	loy_eph_key_wipe(&noncekey);
	if (loy_hs_hello_check(&au->ours, &au->theirs) != 0) {
		*why = "another chain, or an echoed HELLO";
		return LOY_EINVAL;
	}
	if (!allowed(cfg, au->theirs.validator)) {
		*why = "key not in [client] allowed_keys";
		return LOY_EINVAL;
	}
	if (loy_hs_hello_encode(&au->ours, reply) != 0) {
		*why = "out of memory";
		return LOY_EINVAL;
	}
	/* the transcript covers both HELLOs as sent */
	loy_hs_transcript(au->transcript, data, len, reply->data, reply->len);
	au->state = LOY_CLIENT_AUTH_AUTH;
	return 0;
}

static int auth(struct loy_client_auth *au,
		const struct loy_client_auth_cfg *cfg, const uint8_t *data,
		size_t len, struct loy_buf *reply, const char **why)
{
	struct loy_hs_auth theirs, mine;

	if (loy_hs_auth_decode(&theirs, data, len) != 0 ||
	    loy_hs_auth_verify(&theirs, LOY_HS_INITIATOR, cfg->chain_id,
			       au->transcript, au->theirs.validator) != 0) {
		*why = "AUTH does not verify";
		return LOY_EINVAL;
	}
	loy_hs_auth_sign(&mine, LOY_HS_RESPONDER, cfg->chain_id, au->transcript,
			 cfg->sk);
	if (loy_hs_auth_encode(&mine, reply) != 0) {
		*why = "out of memory";
		return LOY_EINVAL;
	}
	if (loy_session_derive(&au->sess, LOY_HS_RESPONDER, &au->eph,
			       au->theirs.ephemeral, au->transcript) != 0) {
		loy_buf_free(reply);
		*why = "bad ephemeral key";
		return LOY_EINVAL;
	}
	loy_eph_key_wipe(&au->eph);
	au->state = LOY_CLIENT_AUTH_DONE;
	return 0;
}

int loy_client_auth_step(struct loy_client_auth *au,
			 const struct loy_client_auth_cfg *cfg,
			 const uint8_t *data, size_t len, struct loy_buf *reply,
			 const char **why)
{
	reply->data = NULL;
	reply->len = 0;
	if (len > 1024) {
		*why = "oversized handshake frame";
		return LOY_EINVAL;
	}
	if (au->state == LOY_CLIENT_AUTH_HELLO)
		return hello(au, cfg, data, len, reply, why);
	if (au->state == LOY_CLIENT_AUTH_AUTH)
		return auth(au, cfg, data, len, reply, why);
	*why = "handshake already done";
	return LOY_EINVAL;
}

int loy_client_auth_parse_keys(const char *list,
			       uint8_t (**keys)[LOY_PUBKEY_SIZE], uint32_t *n,
			       char *err, size_t err_size)
{
	const char *p = list;

	*keys = NULL;
	*n = 0;
	while (*p) {
		char hex[2 * LOY_PUBKEY_SIZE + 2];
		size_t k = 0;
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		while (*p && *p != ',' && *p != ' ' && k < sizeof hex - 1)
			hex[k++] = *p++;
		hex[k] = '\0';
		if (*keys == NULL)
			*keys = calloc(MAX_KEYS, sizeof **keys);
		if (*keys == NULL || *n >= MAX_KEYS ||
		    loy_unhex((*keys)[*n], LOY_PUBKEY_SIZE, hex) != 0) {
			snprintf(
			    err, err_size,
			    "[client] allowed_keys: \"%s\" is not a 64-digit "
			    "hex public key (or more than %d keys)",
			    hex, MAX_KEYS);
			free(*keys);
			*keys = NULL;
			*n = 0;
			return LOY_EINVAL;
		}
		(*n)++;
	}
	return 0;
}

void loy_client_auth_wipe(struct loy_client_auth *au)
{
	loy_eph_key_wipe(&au->eph);
	loy_session_wipe(&au->sess);
}
