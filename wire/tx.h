/* Transactions: every kind of DESIGN.md section 4, their canonical
 * encoding, signing and hashing. */
#ifndef LOY_WIRE_TX_H
#define LOY_WIRE_TX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/buf.h"
#include "wire/crypto.h"
#include "wire/limits.h"

enum loy_tx_kind {
	LOY_TX_CUSTOMER_REGISTER = 1,
	LOY_TX_TERMINAL_ADD,
	LOY_TX_TERMINAL_REMOVE,
	LOY_TX_MEMBER_PROPOSE,
	LOY_TX_MEMBER_VOTE,
	LOY_TX_RULE_SET,
	LOY_TX_PARTNERSHIP_CREATE,
	LOY_TX_PARTNERSHIP_JOIN,
	LOY_TX_PARTNERSHIP_LEAVE,
	LOY_TX_REWARD_ISSUE,
	LOY_TX_REWARD_REVERSE,
	LOY_TX_REDEEM,
	LOY_TX_TRANSFER,
	LOY_TX_COUPON_ISSUE,
	LOY_TX_COUPON_REDEEM,
	LOY_TX_SETTLE,
	LOY_TX_KIND_MAX = LOY_TX_SETTLE
};

/* Stable dotted name of a kind ("reward.issue"), or NULL if unknown. */
const char *loy_tx_kind_name(unsigned kind);
/* The kind of a dotted name, or 0. */
unsigned loy_tx_kind_parse(const char *name);

/* Geographic points are integer micro-degrees (no floating point anywhere in
 * execution); a radius is in metres. */
struct loy_geo {
	int32_t lat_udeg; /* -90e6 .. 90e6 */
	int32_t lon_udeg; /* -180e6 .. 180e6 */
};

/* customer.register: the signer's key becomes a customer account. */
struct loy_tx_customer_register {
	char memo[LOY_MEMO_MAX + 1];
};

/* terminal.add / terminal.remove: signed by a member. */
struct loy_tx_terminal {
	uint8_t terminal[LOY_PUBKEY_SIZE];
	char label[LOY_NAME_MAX + 1];
};

enum loy_member_action {
	LOY_MEMBER_ADMIT = 1,
	LOY_MEMBER_REMOVE = 2,
};

/* member.propose: a member proposes to admit a company (its validator key,
 * name and peer address) or to remove one (key only; name/address empty). */
struct loy_tx_member_propose {
	uint8_t action; /* enum loy_member_action */
	uint8_t member[LOY_PUBKEY_SIZE];
	char name[LOY_NAME_MAX + 1];
	char address[LOY_ADDR_MAX + 1];
};

/* member.vote: a member's vote on a proposal (the proposing tx's hash). */
struct loy_tx_member_vote {
	uint8_t proposal[LOY_HASH_SIZE];
	bool approve;
};

/* rule.set: the signing member's own earning rule: points = purchase *
 * rate_num / rate_den (rounded down) when purchase >= min_purchase and the
 * block time is inside [valid_from_ms, valid_until_ms) (0 = open end). */
struct loy_tx_rule_set {
	uint64_t rate_num;
	uint64_t rate_den; /* > 0 */
	uint64_t min_purchase;
	uint64_t valid_from_ms;
	uint64_t valid_until_ms;
};

/* partnership.create: a named partnership with its own earning terms: points
 * = purchase * rate_num / rate_den + bonus, for purchase >= min_purchase in
 * the window. The creator approves who joins. */
struct loy_tx_partnership_create {
	char name[LOY_NAME_MAX + 1];
	uint64_t rate_num;
	uint64_t rate_den;
	uint64_t bonus;
	uint64_t min_purchase;
	uint64_t valid_from_ms;
	uint64_t valid_until_ms;
};

/* partnership.join / partnership.leave. A join signed by a member is its
 * request; a join signed by the creator naming a member approves it (the
 * member is in once both exist). A leave signed by the member removes it. */
struct loy_tx_partnership_member {
	char name[LOY_NAME_MAX + 1];
	uint8_t member[LOY_ID_SIZE];
};

/* reward.issue: signed by a member or one of its terminals. points are
 * computed by the ledger from the purchase amount and the applicable rule
 * (the member's own, or the named partnership's); reason "topup" loads
 * purchase points 1:1. */
struct loy_tx_reward_issue {
	uint8_t customer[LOY_ID_SIZE];
	uint64_t purchase;
	char partnership[LOY_NAME_MAX + 1]; /* "" = the member's own rule */
	char reference[LOY_REF_MAX + 1];    /* unique per member forever */
	char reason[LOY_MEMO_MAX + 1];
};

/* reward.reverse: the issuing member takes back the points of an earlier
 * reward.issue, named by that issue's reference (a refund names the
 * receipt); never below zero. */
struct loy_tx_reward_reverse {
	char issue_ref[LOY_REF_MAX + 1];
	char reference[LOY_REF_MAX + 1];
	char reason[LOY_MEMO_MAX + 1];
};

/* redeem: the customer spends points at a member. */
struct loy_tx_redeem {
	uint8_t member[LOY_ID_SIZE];
	uint64_t amount;
	char reference[LOY_REF_MAX + 1];
	char memo[LOY_MEMO_MAX + 1];
};

/* transfer: the customer moves points to another customer. */
struct loy_tx_transfer {
	uint8_t to[LOY_ID_SIZE];
	uint64_t amount;
	char reference[LOY_REF_MAX + 1];
	char memo[LOY_MEMO_MAX + 1];
};

enum loy_coupon_holder {
	LOY_COUPON_ALLOTTED = 1, /* to a customer ID */
	LOY_COUPON_BEARER = 2,   /* to whoever reveals a code: hash of it */
};

/* One coupon of a batch: holder is a customer ID (allotted) or, for a
 * bearer coupon, BLAKE2b-256 of its secret code (first 20 bytes unused: the
 * full 32-byte hash is stored). */
struct loy_coupon_slot {
	uint8_t holder_kind;           /* enum loy_coupon_holder */
	uint8_t holder[LOY_HASH_SIZE]; /* ID in the first 20 bytes, or hash */
};

/* coupon.issue: a batch of coupons worth value points each, valid in
 * [valid_from_ms, valid_until_ms), redeemable at the listed members (none =
 * the issuer only), optionally only within radius_m of a point, at most
 * per_customer_limit redeemed per customer (0 = no limit). Coupon i of the
 * batch is identified by (tx hash, i). */
struct loy_tx_coupon_issue {
	uint64_t value;
	uint64_t valid_from_ms;
	uint64_t valid_until_ms;
	bool has_geofence;
	struct loy_geo center;
	uint32_t radius_m;
	uint32_t per_customer_limit;
	uint32_t site_count;
	uint8_t sites[LOY_MAX_REDEEM_SITES][LOY_ID_SIZE];
	uint32_t coupon_count;           /* 1 .. LOY_MAX_COUPONS_PER_ISSUE */
	struct loy_coupon_slot *coupons; /* owned; freed by loy_tx_free */
};

/* coupon.redeem: by the customer (allotted) or by the accepting member or
 * its terminal (bearer, revealing the code), at a member site and location. */
struct loy_tx_coupon_redeem {
	uint8_t batch[LOY_HASH_SIZE]; /* coupon.issue tx hash */
	uint32_t index;
	char code[LOY_CODE_MAX + 1]; /* bearer only, else "" */
	uint8_t site[LOY_ID_SIZE];   /* member where it is redeemed */
	struct loy_geo location;
	char reference[LOY_REF_MAX + 1];
};

/* settle: a member records an off-chain payment of amount to the
 * counterparty; confirm is all zeroes for a new claim, or the hash of the
 * counterparty's settle tx this one confirms. */
struct loy_tx_settle {
	uint8_t counterparty[LOY_ID_SIZE];
	uint64_t amount;
	uint8_t confirm[LOY_HASH_SIZE];
	char reference[LOY_REF_MAX + 1];
};

/* A transaction. Encoded as [version, kind, chain_id, signer, nonce,
 * [body fields...], sig]. The signature (domain TX) covers the encoding's
 * bytes up to the sig field, i.e. all but its last 66 bytes (bin8 header
 * c4 40 and 64 signature bytes), so a verifier needs no re-encoding. The tx
 * hash is BLAKE2b-256 of the full encoding. */
struct loy_tx {
	uint8_t kind; /* enum loy_tx_kind */
	char chain_id[LOY_CHAIN_ID_MAX + 1];
	uint8_t signer[LOY_PUBKEY_SIZE];
	uint64_t nonce; /* per signer, 1, 2, 3, ... */
	union {
		struct loy_tx_customer_register customer_register;
		struct loy_tx_terminal terminal;
		struct loy_tx_member_propose member_propose;
		struct loy_tx_member_vote member_vote;
		struct loy_tx_rule_set rule_set;
		struct loy_tx_partnership_create partnership_create;
		struct loy_tx_partnership_member partnership_member;
		struct loy_tx_reward_issue reward_issue;
		struct loy_tx_reward_reverse reward_reverse;
		struct loy_tx_redeem redeem;
		struct loy_tx_transfer transfer;
		struct loy_tx_coupon_issue coupon_issue;
		struct loy_tx_coupon_redeem coupon_redeem;
		struct loy_tx_settle settle;
	} u;
	uint8_t sig[LOY_SIG_SIZE];
};

/* Releases what a decoded or built tx owns (coupon slots); the tx may be
 * reused afterwards. */
void loy_tx_free(struct loy_tx *tx);

/* Encodes tx (with its signature) into out (caller frees). Returns 0,
 * LOY_EINVAL for a field out of range, or LOY_ENOMEM. */
int loy_tx_encode(const struct loy_tx *tx, struct loy_buf *out) LOY_MUST_USE;

/* Decodes one canonical transaction (size <= LOY_MAX_TX_BYTES) without
 * verifying its signature. On success tx owns its coupon slots (release
 * with loy_tx_free); on failure there is nothing to free. */
int loy_tx_decode(struct loy_tx *tx, const uint8_t *data,
		  size_t len) LOY_MUST_USE;

/* The signed bytes of tx: its encoding up to the signature field. */
int loy_tx_signing_bytes(const struct loy_tx *tx,
			 struct loy_buf *out) LOY_MUST_USE;

/* Sets tx->signer from sk and signs. Returns 0, LOY_EINVAL or LOY_ENOMEM. */
int loy_tx_sign(struct loy_tx *tx,
		const uint8_t sk[LOY_SECKEY_SIZE]) LOY_MUST_USE;

/* 0 when tx->sig is tx->signer's signature, LOY_EBADSIG otherwise. */
int loy_tx_verify(const struct loy_tx *tx) LOY_MUST_USE;

/* Verifies the signature of an encoded transaction straight from its bytes
 * (the signed part is a prefix of them: no re-encoding). tx must be the
 * decoding of data. */
int loy_tx_verify_encoded(const struct loy_tx *tx, const uint8_t *data,
			  size_t len) LOY_MUST_USE;

/* Hash of an encoded transaction. */
void loy_tx_hash(uint8_t out[LOY_HASH_SIZE], const uint8_t *data, size_t len);

/* The account ID of the signer. */
void loy_tx_signer_id(const struct loy_tx *tx, uint8_t id[LOY_ID_SIZE]);

#endif
