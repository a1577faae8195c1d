/* Read-only queries over the committed state, for the node's client API and
 * loyctl. Each call runs in its own read-only LMDB transaction (any thread,
 * never blocks the writer) and copies what it returns into caller-owned
 * memory: nothing returned points into the store. All return 0,
 * LOY_ENOTFOUND, or LOY_EIO / LOY_ECORRUPT. */
#ifndef LOY_LEDGER_QUERY_H
#define LOY_LEDGER_QUERY_H

#include "ledger/ledger.h"

enum loy_account_type {
	LOY_ACCOUNT_CUSTOMER = 1,
	LOY_ACCOUNT_MEMBER = 2,
	LOY_ACCOUNT_TERMINAL = 3,
};

struct loy_account_info {
	uint8_t type; /* enum loy_account_type */
	bool active;
	uint8_t pubkey[LOY_PUBKEY_SIZE];
	uint8_t member[LOY_ID_SIZE]; /* a terminal's member */
	uint64_t balance;            /* customers: points held */
	uint64_t created;            /* height */
	uint64_t nonce;              /* last used nonce (0: none) */
};

/* An account by ID. The nonce is filled even for a signer without an
 * account (type 0, LOY_ENOTFOUND is then not returned if a nonce exists). */
int loy_ledger_account(struct loy_ledger *l, const uint8_t id[LOY_ID_SIZE],
		       struct loy_account_info *out) LOY_MUST_USE;

/* A customer's balance (0 and LOY_ENOTFOUND for an unknown ID). */
int loy_ledger_balance(struct loy_ledger *l, const uint8_t id[LOY_ID_SIZE],
		       uint64_t *points) LOY_MUST_USE;

/* The last nonce a signer used (0 if none): the next tx uses nonce + 1. */
int loy_ledger_nonce(struct loy_ledger *l, const uint8_t id[LOY_ID_SIZE],
		     uint64_t *nonce) LOY_MUST_USE;
/* The last used nonces of n signers (0 for one that has none), read in
 * one read transaction: admission asks for a batch's at once. Returns 0
 * or the store's error. */
int loy_ledger_nonces(struct loy_ledger *l, const uint8_t (*ids)[LOY_ID_SIZE],
		      uint32_t n, uint64_t *nonces) LOY_MUST_USE;

struct loy_tx_status {
	uint64_t height;
	uint32_t position;
	uint16_t code; /* enum loy_reject */
	uint8_t kind;
	uint8_t signer[LOY_ID_SIZE];
	char msg[LOY_ERRMSG_MAX]; /* "" when applied */
};

/* Where a committed tx is and how it ended. */
int loy_ledger_tx(struct loy_ledger *l, const uint8_t hash[LOY_HASH_SIZE],
		  struct loy_tx_status *out) LOY_MUST_USE;

/* Copies the encoded block and its commit certificate of a height (either
 * out may be NULL). The caller owns the buffers (loy_buf_free). */
int loy_ledger_block(struct loy_ledger *l, uint64_t height,
		     struct loy_buf *block, struct loy_buf *cert) LOY_MUST_USE;

struct loy_history_item {
	uint64_t height;
	uint32_t position;
	uint8_t hash[LOY_HASH_SIZE];
	uint8_t kind;
	uint16_t code;
	int64_t delta; /* the account's point change (customers) */
};

/* History of a customer, member or terminal, newest first. Pass *cursor = 0
 * for the first page; on return *cursor is the cursor of the next page, or 0
 * when there is no more. Fills up to max items, *n of them. */
int loy_ledger_history(struct loy_ledger *l, const uint8_t id[LOY_ID_SIZE],
		       uint64_t *cursor, struct loy_history_item *items,
		       uint32_t max, uint32_t *n) LOY_MUST_USE;

/* Brings the history index (history.mdb, ledger/history.c) up to what
 * data.mdb holds for the calling thread, or about budget index records
 * closer (0: all the way); a query catches up all the way itself, so
 * calling it ahead (off the threads that apply blocks) only moves the work.
 * *height, if not NULL, is then the highest height indexed. On failure err
 * says why. Any thread. */
/* Whether history.mdb was deleted to be built again since the last call,
 * and why (into buf): after a machine crash, damage, or another chain's
 * index. Any thread. */
bool loy_ledger_history_note(struct loy_ledger *l, char *buf, size_t len);

int loy_ledger_history_index(struct loy_ledger *l, uint64_t budget,
			     uint64_t *height, char *err,
			     size_t errlen) LOY_MUST_USE;

struct loy_member_info {
	uint8_t id[LOY_ID_SIZE];
	uint8_t pubkey[LOY_PUBKEY_SIZE];
	bool active;
	uint64_t admitted, removed; /* heights (0 = genesis / not removed) */
	char name[LOY_NAME_MAX + 1];
	char address[LOY_ADDR_MAX + 1];
};

/* Every member ever admitted (active or not), in ID order; up to max. */
int loy_ledger_members(struct loy_ledger *l, struct loy_member_info *out,
		       uint32_t max, uint32_t *n) LOY_MUST_USE;

/* A member's settlement position. 1 point = 1 currency unit. */
struct loy_settlement {
	uint8_t member[LOY_ID_SIZE];
	uint64_t issued, reversed, redeemed_at;
	uint64_t coupon_owed, coupon_at;
	uint64_t commission_paid, commission_earned;
	uint64_t paid, received;
	uint64_t outstanding; /* its points customers still hold */
	uint64_t owes; /* issued - reversed + coupon_owed + commission_paid */
	uint64_t owed; /* redeemed_at + coupon_at + commission_earned */
	int64_t net;   /* owed - owes + paid - received; < 0: payable */
};

int loy_ledger_settlement(struct loy_ledger *l, const uint8_t id[LOY_ID_SIZE],
			  struct loy_settlement *out) LOY_MUST_USE;

struct loy_coupon_batch_status {
	uint8_t issuer[LOY_ID_SIZE];
	uint64_t value, valid_from_ms, valid_until_ms;
	bool has_geofence;
	struct loy_geo center;
	uint32_t radius_m, per_customer_limit;
	uint32_t issued, redeemed;
	uint32_t expired_unused; /* unused and the window has closed at now */
	uint32_t remaining; /* unused and still redeemable at or after now */
};

/* A coupon batch (its coupon.issue tx hash) as seen at time now_ms. */
int loy_ledger_coupon_batch(struct loy_ledger *l,
			    const uint8_t batch[LOY_HASH_SIZE], uint64_t now_ms,
			    struct loy_coupon_batch_status *out) LOY_MUST_USE;

struct loy_coupon_ref {
	uint8_t batch[LOY_HASH_SIZE];
	uint32_t index;
	uint64_t value, valid_from_ms, valid_until_ms;
	bool bearer;
};

/* Unused coupons allotted to a customer and redeemable at now_ms; with near
 * not NULL, only those without a geofence or whose geofence contains near. */
int loy_ledger_customer_coupons(struct loy_ledger *l,
				const uint8_t id[LOY_ID_SIZE], uint64_t now_ms,
				const struct loy_geo *near,
				struct loy_coupon_ref *out, uint32_t max,
				uint32_t *n) LOY_MUST_USE;

/* Batches with a geofence containing near, redeemable at now_ms and with
 * coupons left ("which coupons can be used in this area"): one entry per
 * batch (index = first unused coupon). Scans all batches. */
int loy_ledger_coupons_near(struct loy_ledger *l, struct loy_geo near,
			    uint64_t now_ms, struct loy_coupon_ref *out,
			    uint32_t max, uint32_t *n) LOY_MUST_USE;

struct loy_rule_info {
	uint64_t rate_num, rate_den, bonus, min_purchase;
	uint64_t valid_from_ms, valid_until_ms;
};

/* A member's own earning rule. */
int loy_ledger_rule(struct loy_ledger *l, const uint8_t member[LOY_ID_SIZE],
		    struct loy_rule_info *out) LOY_MUST_USE;

struct loy_partnership_info {
	uint8_t creator[LOY_ID_SIZE];
	struct loy_rule_info terms;
	uint64_t created;
	uint32_t member_count; /* full members (both sides) */
	uint8_t members[LOY_MAX_VALIDATORS][LOY_ID_SIZE];
	uint32_t pending_count; /* requested or approved only */
};

int loy_ledger_partnership(struct loy_ledger *l, const char *name,
			   struct loy_partnership_info *out) LOY_MUST_USE;

struct loy_daily {
	uint32_t day; /* days since 1970-01-01 (block time, UTC) */
	uint64_t issued, redeemed;
	uint32_t active_customers, txs;
	uint64_t outstanding; /* the member's points outstanding that day */
};

/* A member's daily aggregates for days [from_day, to_day], oldest first. */
int loy_ledger_daily(struct loy_ledger *l, const uint8_t member[LOY_ID_SIZE],
		     uint32_t from_day, uint32_t to_day, struct loy_daily *out,
		     uint32_t max, uint32_t *n) LOY_MUST_USE;

/* The ledger's integer geofence test: is p within radius_m metres of c?
 * (Equirectangular approximation in micro-degrees; see
 * ledger/exec_coupon.c.) Exactly what execution uses. */
bool loy_geo_within(struct loy_geo c, struct loy_geo p, uint32_t radius_m);

/* Consortium totals. */
struct loy_totals {
	uint64_t issued, reversed, redeemed, coupon_redeemed, customers;
	uint64_t outstanding; /* issued - reversed - redeemed */
};

int loy_ledger_totals(struct loy_ledger *l,
		      struct loy_totals *out) LOY_MUST_USE;

#endif
