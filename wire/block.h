/* Block header, block, vote and commit certificate: what consensus agrees
 * on and what auditors verify. */
#ifndef LOY_WIRE_BLOCK_H
#define LOY_WIRE_BLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "wire/buf.h"
#include "wire/crypto.h"
#include "wire/limits.h"

/* Encoded as [version, chain_id, height, view, time_ms, prev_hash, tx_root,
 * state_root, proposer]. The block hash is BLAKE2b-256 of these bytes. */
struct loy_block_header {
	char chain_id[LOY_CHAIN_ID_MAX + 1];
	uint64_t height; /* genesis state is height 0 */
	uint64_t view;
	uint64_t time_ms; /* proposer's clock, Unix ms */
	uint8_t prev_hash[LOY_HASH_SIZE];
	uint8_t tx_root[LOY_HASH_SIZE];    /* Merkle root of tx hashes */
	uint8_t state_root[LOY_HASH_SIZE]; /* state after this block */
	uint8_t proposer[LOY_PUBKEY_SIZE]; /* proposer's validator key */
};

/* Encoded as [version, header, [tx bytes...]]: transactions are carried as
 * their canonical encodings (bin), so a tx hash is the hash of those bytes.
 * txs[i] points into one allocation owned by the block. */
struct loy_block {
	struct loy_block_header header;
	uint32_t tx_count;
	struct loy_buf *txs; /* tx_count entries, owned */
};

enum loy_vote_type {
	LOY_VOTE_PREPARE = 1,
	LOY_VOTE_COMMIT = 2,
};

/* Encoded as [version, type, chain_id, height, view, block_hash, validator,
 * sig]; sig is over the encoding of the first seven fields (domain VOTE). */
struct loy_vote {
	uint8_t type; /* enum loy_vote_type */
	char chain_id[LOY_CHAIN_ID_MAX + 1];
	uint64_t height;
	uint64_t view;
	uint8_t block_hash[LOY_HASH_SIZE];
	uint8_t validator[LOY_PUBKEY_SIZE];
	uint8_t sig[LOY_SIG_SIZE];
};

/* One validator's signature in a certificate. */
struct loy_cert_sig {
	uint8_t validator[LOY_PUBKEY_SIZE];
	uint8_t sig[LOY_SIG_SIZE];
};

/* Quorum certificate: 2f+1 votes of one type for one block, as
 * [version, type, chain_id, height, view, block_hash, [[validator, sig]...]],
 * signatures sorted by validator key (canonical, and duplicates are
 * detectable). Each sig is the validator's vote signature, so a third party
 * verifies it by rebuilding the vote. A commit certificate has type COMMIT. */
struct loy_cert {
	uint8_t type; /* enum loy_vote_type */
	char chain_id[LOY_CHAIN_ID_MAX + 1];
	uint64_t height;
	uint64_t view;
	uint8_t block_hash[LOY_HASH_SIZE];
	uint32_t sig_count;
	struct loy_cert_sig sigs[LOY_MAX_VALIDATORS];
};

/* --- Codecs. Encoders hand a loy_buf to the caller (free with
 * loy_buf_free). Decoders accept only the canonical encoding, check every
 * limit before allocating, and return 0 or a LOY_E* code; on failure the
 * output holds nothing to free. --- */

int loy_block_header_encode(const struct loy_block_header *h,
			    struct loy_buf *out) LOY_MUST_USE;
int loy_block_header_decode(struct loy_block_header *h, const uint8_t *data,
			    size_t len) LOY_MUST_USE;
/* Block hash: BLAKE2b-256 of the header's encoding. */
int loy_block_header_hash(const struct loy_block_header *h,
			  uint8_t out[LOY_HASH_SIZE]) LOY_MUST_USE;

int loy_block_encode(const struct loy_block *b,
		     struct loy_buf *out) LOY_MUST_USE;
/* On success the block owns its txs; release with loy_block_free. */
int loy_block_decode(struct loy_block *b, const uint8_t *data,
		     size_t len) LOY_MUST_USE;
void loy_block_free(struct loy_block *b);

/* Merkle root over the BLAKE2b-256 hashes of n encoded transactions
 * (leaves and inner nodes domain-separated; an odd node is promoted). The
 * root of no transactions is all zeroes. */
void loy_tx_root(uint8_t out[LOY_HASH_SIZE], const struct loy_buf *txs,
		 uint32_t n);
/* The same root from the transactions' hashes (loy_tx_hash), where the
 * caller has them already: a block's transactions are hashed once. */
void loy_tx_root_hashed(uint8_t out[LOY_HASH_SIZE],
			const uint8_t (*hashes)[LOY_HASH_SIZE], uint32_t n);

int loy_vote_encode(const struct loy_vote *v, struct loy_buf *out) LOY_MUST_USE;
int loy_vote_decode(struct loy_vote *v, const uint8_t *data,
		    size_t len) LOY_MUST_USE;
/* Sets v->validator from sk and signs the vote (domain VOTE, v->chain_id). */
int loy_vote_sign(struct loy_vote *v,
		  const uint8_t sk[LOY_SECKEY_SIZE]) LOY_MUST_USE;
/* 0 when v->sig is v->validator's signature over the vote, else
 * LOY_EBADSIG (or LOY_ENOMEM). */
int loy_vote_verify(const struct loy_vote *v) LOY_MUST_USE;

int loy_cert_encode(const struct loy_cert *c, struct loy_buf *out) LOY_MUST_USE;
int loy_cert_decode(struct loy_cert *c, const uint8_t *data,
		    size_t len) LOY_MUST_USE;
/* Adds a vote's signature to a certificate for the same (type, chain,
 * height, view, block); keeps signatures sorted by validator. Returns 0,
 * LOY_EINVAL if the vote is for something else or the validator is already
 * in, or LOY_ETOOBIG when full. Does not verify the signature. */
int loy_cert_add(struct loy_cert *c, const struct loy_vote *v) LOY_MUST_USE;
/* Verifies a certificate against a validator set: every signer is in the
 * set, no signer twice, every signature valid, and at least quorum signers.
 * Returns 0, LOY_EBADSIG, or LOY_EINVAL (unknown or repeated signer, or too
 * few). */
int loy_cert_verify(const struct loy_cert *c,
		    const uint8_t (*validators)[LOY_PUBKEY_SIZE],
		    uint32_t n_validators, uint32_t quorum) LOY_MUST_USE;

/* Quorum for n validators with f = floor((n-1)/3): floor((n+f)/2)+1, the
 * general form, which is 2f+1 when n = 3f+1 and still makes any two quorums
 * intersect in an honest validator for other n (e.g. 4 of 5, not 3). */
uint32_t loy_quorum(uint32_t n);

#endif
