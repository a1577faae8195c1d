/* Consensus messages on the wire: PROPOSE, PREPARE, COMMIT, VIEW-CHANGE,
 * NEW-VIEW and STATUS, one envelope with a version first. */
#ifndef LOY_WIRE_CONSENSUS_MSG_H
#define LOY_WIRE_CONSENSUS_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "wire/block.h"
#include "wire/buf.h"
#include "wire/crypto.h"
#include "wire/limits.h"

enum loy_cmsg_kind {
	LOY_CMSG_PROPOSE = 1,
	LOY_CMSG_PREPARE = 2,
	LOY_CMSG_COMMIT = 3,
	LOY_CMSG_VIEW_CHANGE = 4,
	LOY_CMSG_NEW_VIEW = 5,
	LOY_CMSG_STATUS = 6,
};

/* Largest encoded certificate inside a VIEW-CHANGE. */
#define LOY_CMSG_MAX_CERT_BYTES 8192u

/* Every message is [version, kind, chain_id, height, view, sender, ...]:
 *   PROPOSE      ... block bin, sig]        sig: PROPOSAL over sign bytes
 *   PREPARE      ... block_hash, sig]       the vote of wire/block.h
 *   COMMIT       ... block_hash, sig]
 *   VIEW_CHANGE  ... prepared cert bin (empty: none), block bin (empty:
 *                    none or stripped inside a NEW-VIEW), sig]
 *   NEW_VIEW     ... [VIEW_CHANGE bin...], block bin, sig]
 *   STATUS       ... last_hash]            unsigned; height = committed
 * In a VIEW_CHANGE, view is the view asked for. In a STATUS, view is 0. */
struct loy_cmsg {
	uint8_t kind; /* enum loy_cmsg_kind */
	char chain_id[LOY_CHAIN_ID_MAX + 1];
	uint64_t height;
	uint64_t view;
	uint8_t sender[LOY_PUBKEY_SIZE];
	uint8_t hash[LOY_HASH_SIZE]; /* PREPARE, COMMIT, STATUS */
	uint8_t sig[LOY_SIG_SIZE];   /* all but STATUS */
	struct loy_buf block;        /* PROPOSE, NEW_VIEW, VIEW_CHANGE; owned */
	struct loy_cert *prepared;   /* VIEW_CHANGE; owned, NULL for none */
	uint32_t vc_count;           /* NEW_VIEW */
	struct loy_cmsg *vcs;        /* NEW_VIEW: vc_count entries, owned */
};

/* Encodes m; the caller frees out with loy_buf_free. */
int loy_cmsg_encode(const struct loy_cmsg *m, struct loy_buf *out) LOY_MUST_USE;
/* Decodes the canonical encoding only, checking every limit before
 * allocating. On success m owns its parts (free with loy_cmsg_free); on
 * failure m holds nothing. */
int loy_cmsg_decode(struct loy_cmsg *m, const uint8_t *data,
		    size_t len) LOY_MUST_USE;
/* Frees what m owns and zeroes it. */
void loy_cmsg_free(struct loy_cmsg *m);

/* Signs a PROPOSE, VIEW_CHANGE or NEW_VIEW with sk (also sets sender).
 * block_hash is the hash of the proposed block (PROPOSE, NEW_VIEW) and is
 * ignored for VIEW_CHANGE, whose signature covers the prepared certificate's
 * view and block hash. */
int loy_cmsg_sign(struct loy_cmsg *m, const uint8_t block_hash[LOY_HASH_SIZE],
		  const uint8_t sk[LOY_SECKEY_SIZE]) LOY_MUST_USE;
/* 0 when m->sig is m->sender's signature, else LOY_EBADSIG. */
int loy_cmsg_verify(const struct loy_cmsg *m,
		    const uint8_t block_hash[LOY_HASH_SIZE]) LOY_MUST_USE;

/* PREPARE/COMMIT messages are votes: conversions both ways. */
void loy_cmsg_to_vote(const struct loy_cmsg *m, struct loy_vote *v);
void loy_cmsg_from_vote(struct loy_cmsg *m, const struct loy_vote *v);

#endif
