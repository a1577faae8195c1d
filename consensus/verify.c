/* Signature checks for the core, behind a per-core cache of signatures
 * already verified (keyed by a digest of everything the signature covers),
 * so a vote re-sent or carried again in a certificate costs a hash, not an
 * Ed25519 verification. */
#include "consensus/core.h"

#include <string.h>

#include "wire/error.h"

static uint32_t slot_of(const uint8_t key[LOY_HASH_SIZE])
{
	uint32_t s =
	    (uint32_t)key[0] | (uint32_t)key[1] << 8 | (uint32_t)key[2] << 16;
	return s % CONS_CACHE_SLOTS;
}

static int cache_has(const struct loy_cons *c, const uint8_t key[LOY_HASH_SIZE])
{
	return memcmp(c->cache[slot_of(key)], key, LOY_HASH_SIZE) == 0;
}

static void cache_put(struct loy_cons *c, const uint8_t key[LOY_HASH_SIZE])
{
	memcpy(c->cache[slot_of(key)], key, LOY_HASH_SIZE);
}

static void vote_key(const struct loy_vote *v, uint8_t key[LOY_HASH_SIZE])
{
	uint8_t b[1 + 16 + LOY_HASH_SIZE + LOY_PUBKEY_SIZE + LOY_SIG_SIZE];
	size_t n = 0;

	b[n++] = v->type;
	memcpy(b + n, &v->height, 8);
	n += 8;
	memcpy(b + n, &v->view, 8);
	n += 8;
	memcpy(b + n, v->block_hash, LOY_HASH_SIZE);
	n += LOY_HASH_SIZE;
	memcpy(b + n, v->validator, LOY_PUBKEY_SIZE);
	n += LOY_PUBKEY_SIZE;
	memcpy(b + n, v->sig, LOY_SIG_SIZE);
	n += LOY_SIG_SIZE;
	loy_hash2(key, "vote", 4, b, n);
}

int cons_verify_vote(struct loy_cons *c, const struct loy_vote *v)
{
	uint8_t key[LOY_HASH_SIZE];
	int rv;

	if (strcmp(v->chain_id, c->cfg.chain_id) != 0)
		return LOY_EBADSIG;
	vote_key(v, key);
	if (cache_has(c, key))
		return 0;
	rv = loy_vote_verify(v);
	c->sig_checks++;
	if (rv == 0)
		cache_put(c, key);
	return rv;
}

int cons_verify_msg(struct loy_cons *c, const struct loy_cmsg *m,
		    const uint8_t block_hash[LOY_HASH_SIZE])
{
	uint8_t
	    b[1 + 16 + 2 * LOY_HASH_SIZE + 8 + LOY_PUBKEY_SIZE + LOY_SIG_SIZE];
	uint8_t key[LOY_HASH_SIZE];
	size_t n = 0;
	int rv;

	b[n++] = m->kind;
	memcpy(b + n, &m->height, 8);
	n += 8;
	memcpy(b + n, &m->view, 8);
	n += 8;
	memcpy(b + n, block_hash, LOY_HASH_SIZE);
	n += LOY_HASH_SIZE;
	if (m->prepared) {
		memcpy(b + n, &m->prepared->view, 8);
		memcpy(b + n + 8, m->prepared->block_hash, LOY_HASH_SIZE);
	} else {
		memset(b + n, 0xff, 8 + LOY_HASH_SIZE);
	}
	n += 8 + LOY_HASH_SIZE;
	memcpy(b + n, m->sender, LOY_PUBKEY_SIZE);
	n += LOY_PUBKEY_SIZE;
	memcpy(b + n, m->sig, LOY_SIG_SIZE);
	n += LOY_SIG_SIZE;
	loy_hash2(key, "cmsg", 4, b, n);
	if (cache_has(c, key))
		return 0;
	rv = loy_cmsg_verify(m, block_hash);
	if (rv == 0)
		cache_put(c, key);
	return rv;
}

/* A certificate for the current height, checked as loy_cert_verify does
 * (signers in the set, strictly sorted so none twice, quorum, every
 * signature) but through the cache. */
/* The vote each of a certificate's signatures covers (signer and signature
 * left for the caller). */
static void cert_vote(const struct loy_cert *cert, struct loy_vote *v)
{
	memset(v, 0, sizeof *v);
	v->type = cert->type;
	memcpy(v->chain_id, cert->chain_id, sizeof v->chain_id);
	v->height = cert->height;
	v->view = cert->view;
	memcpy(v->block_hash, cert->block_hash, LOY_HASH_SIZE);
}

/* Verifies a certificate's signatures into the cache and nothing else:
 * which signers count, and whether they make a quorum, is decided when the
 * certificate is used (cons_verify_cert, against the set of its height).
 * Only signers of the current set are looked at, so a junk certificate
 * costs no more than it would cost at use. */
void cons_warm_cert(struct loy_cons *c, const struct loy_cert *cert)
{
	struct loy_vote v;

	if (strcmp(cert->chain_id, c->cfg.chain_id) != 0 ||
	    cert->sig_count > LOY_MAX_VALIDATORS)
		return;
	cert_vote(cert, &v);
	for (uint32_t i = 0; i < cert->sig_count; i++) {
		if (cons_index(c, cert->sigs[i].validator) < 0)
			continue;
		memcpy(v.validator, cert->sigs[i].validator, LOY_PUBKEY_SIZE);
		memcpy(v.sig, cert->sigs[i].sig, LOY_SIG_SIZE);
		if (cons_verify_vote(c, &v) != 0)
			return;
	}
}

int cons_verify_cert(struct loy_cons *c, const struct loy_cert *cert,
		     uint8_t type)
{
	struct loy_vote v;

	if (cert->type != type || cert->height != c->height ||
	    strcmp(cert->chain_id, c->cfg.chain_id) != 0 ||
	    cert->sig_count < c->quorum || cert->sig_count > LOY_MAX_VALIDATORS)
		return LOY_EINVAL;
	for (uint32_t i = 0; i < cert->sig_count; i++) {
		if (cons_index(c, cert->sigs[i].validator) < 0)
			return LOY_EINVAL;
		if (i > 0 &&
		    memcmp(cert->sigs[i - 1].validator, cert->sigs[i].validator,
			   LOY_PUBKEY_SIZE) >= 0)
			return LOY_EINVAL;
	}
	cert_vote(cert, &v);
	for (uint32_t i = 0; i < cert->sig_count; i++) {
		memcpy(v.validator, cert->sigs[i].validator, LOY_PUBKEY_SIZE);
		memcpy(v.sig, cert->sigs[i].sig, LOY_SIG_SIZE);
		if (cons_verify_vote(c, &v) != 0)
			return LOY_EBADSIG;
	}
	return 0;
}
