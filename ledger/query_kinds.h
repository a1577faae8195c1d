/* Query kinds of the client API (struct loy_client_request.query.kind) and
 * their arguments. Answers are JSON objects (the response payload). A
 * protocol contract between loyd and its clients: never renumber. */
#ifndef LOY_LEDGER_QUERY_KINDS_H
#define LOY_LEDGER_QUERY_KINDS_H

enum loy_query_kind {
	LOY_Q_ACCOUNT = 1,       /* id(bin20) */
	LOY_Q_NONCE = 2,         /* id(bin20) -> {"nonce": last used} */
	LOY_Q_TX = 3,            /* hash(bin32) */
	LOY_Q_BLOCK = 4,         /* height(uint) */
	LOY_Q_HISTORY = 5,       /* id(bin20), cursor(uint), limit(uint) */
	LOY_Q_MEMBERS = 6,       /* - */
	LOY_Q_SETTLEMENT = 7,    /* [id(bin20)]: one member, or all */
	LOY_Q_COUPON_BATCH = 8,  /* batch(bin32) */
	LOY_Q_COUPONS = 9,       /* customer(bin20) [, lat(int), lon(int)] */
	LOY_Q_COUPONS_NEAR = 10, /* lat(int), lon(int) */
	LOY_Q_PARTNERSHIP = 11,  /* name(str) */
	LOY_Q_REPORT = 12, /* member(bin20), from_day(uint), to_day(uint) */
	LOY_Q_TOTALS = 13, /* - */
	LOY_Q_RULE = 14,   /* member(bin20) */
	LOY_Q_MAX = 14
};

#endif
