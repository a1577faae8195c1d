/* Block header, block, vote and commit certificate: what consensus agrees
 * on and what auditors verify. */
#ifndef LOY_WIRE_BLOCK_H
#define LOY_WIRE_BLOCK_H

#include <stdint.h>

#include "wire/buf.h"
#include "wire/crypto.h"
#include "wire/limits.h"

/* Encoded as [version, chain_id, height, view, time_ms, prev_hash, tx_root,
 * state_root, proposer]. The block hash is BLAKE2b-256 of these bytes. */
struct loy_block_header {
	char chain_id[LOY_CHAIN_ID_MAX + 1];
	uint64_t height;                    /* genesis state is height 0 */
	uint64_t view;
	uint64_t time_ms;                   /* proposer's clock, Unix ms */
	uint8_t prev_hash[LOY_HASH_SIZE];
	uint8_t tx_root[LOY_HASH_SIZE];     /* Merkle root of tx hashes */
	uint8_t state_root[LOY_HASH_SIZE];  /* state after this block */
	uint8_t proposer[LOY_PUBKEY_SIZE];  /* proposer's validator key */
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

#endif
