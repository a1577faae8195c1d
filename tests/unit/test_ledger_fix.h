/* Shared fixture for the ledger tests: a temporary store with N genesis
 * members, deterministic keys, nonce bookkeeping, and one-call helpers that
 * sign transactions and commit them as certified blocks. */
#ifndef LOY_TEST_LEDGER_FIX_H
#define LOY_TEST_LEDGER_FIX_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ledger/builder.h"
#include "ledger/ledger.h"
#include "ledger/query.h"
#include "wire/error.h"
#include "wire/tx.h"

#define FX_CHAIN   "test-chain"
#define FX_T0      1700000000000ull /* genesis time, ms */
#define FX_MAXKEYS 512

struct fx_key {
	uint8_t pk[LOY_PUBKEY_SIZE];
	uint8_t sk[LOY_SECKEY_SIZE];
	uint8_t id[LOY_ID_SIZE];
	uint64_t nonce; /* last used */
};

struct fx {
	char dir[64];
	struct loy_ledger *l;
	struct loy_genesis g;
	uint32_t members;
	struct fx_key keys[FX_MAXKEYS]; /* 0..members-1 are the members */
	uint64_t time_ms;
	struct loy_tx_result res[64];
	uint32_t nres;
};

/* Key number i: members are 0..15, customers 100.., terminals 300... */
static inline struct fx_key *fx_key(struct fx *f, unsigned i)
{
	assert_true(i < FX_MAXKEYS);
	struct fx_key *k = &f->keys[i];
	if (!k->pk[0] && !k->pk[1] && !k->pk[2] && !k->pk[3]) {
		uint8_t seed[LOY_SEED_SIZE] = {0};
		seed[0] = (uint8_t)(i & 0xff);
		seed[1] = (uint8_t)(i >> 8);
		seed[2] = 0x5a;
		loy_keypair_from_seed(k->pk, k->sk, seed);
		loy_id_from_pubkey(k->id, k->pk);
	}
	return k;
}

static inline int fx_open_dir(struct fx *f, const char *dir, unsigned flags)
{
	char err[256];
	int rc =
	    loy_ledger_open(dir, flags, 64ull << 20, &f->l, err, sizeof err);
	if (rc != 0)
		fprintf(stderr, "%s\n", err);
	return rc;
}

static inline struct fx *fx_new(uint32_t members, uint32_t commission_bps)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	assert_int_equal(loy_crypto_init(), 0);
	snprintf(f->dir, sizeof f->dir, "/tmp/loyledgerXXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(fx_open_dir(f, f->dir, 0), 0);
	f->members = members;
	snprintf(f->g.chain_id, sizeof f->g.chain_id, "%s", FX_CHAIN);
	f->g.time_ms = FX_T0;
	f->g.commission_bps = commission_bps;
	f->g.point_value = 1;
	f->g.member_count = members;
	for (uint32_t i = 0; i < members; i++) {
		struct loy_genesis_member *m = &f->g.members[i];
		snprintf(m->name, sizeof m->name, "Member %c", 'A' + (int)i);
		snprintf(m->address, sizeof m->address, "127.0.0.1:%u",
			 7100 + i);
		memcpy(m->pubkey, fx_key(f, i)->pk, LOY_PUBKEY_SIZE);
	}
	assert_int_equal(loy_ledger_init_genesis(f->l, &f->g), 0);
	f->time_ms = FX_T0 + 1000;
	return f;
}

static inline void fx_rmdir(const char *dir)
{
	static const char *const files[] = {
	    "data.mdb",         "lock.mdb",     "blocks.wal",  "history.mdb",
	    "history.mdb-lock", "history.boot", "blocks2.wal", "checkpoint",
	};
	char p[128];
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, files[i]);
		unlink(p);
	}
	rmdir(dir);
}

static inline void fx_free(struct fx *f)
{
	if (f->l)
		loy_ledger_close(f->l);
	fx_rmdir(f->dir);
	free(f);
}

/* A tx of kind for key number k, with the next nonce (not yet consumed:
 * fx_enc consumes it). */
static inline void fx_tx(struct fx *f, struct loy_tx *tx, unsigned kind,
			 unsigned k)
{
	(void)f;
	memset(tx, 0, sizeof *tx);
	tx->kind = (uint8_t)kind;
	snprintf(tx->chain_id, sizeof tx->chain_id, "%s", FX_CHAIN);
	tx->nonce = fx_key(f, k)->nonce + 1;
}

/* Signs with key k, encodes into b (caller frees), consumes the nonce. */
static inline void fx_enc(struct fx *f, struct loy_tx *tx, unsigned k,
			  struct loy_buf *b)
{
	struct fx_key *key = fx_key(f, k);
	assert_int_equal(loy_tx_sign(tx, key->sk), 0);
	assert_int_equal(loy_tx_encode(tx, b), 0);
	if (tx->nonce > key->nonce)
		key->nonce = tx->nonce;
	loy_tx_free(tx);
}

/* Builds, certifies (all members sign) and applies a block of n txs at
 * f->time_ms; results land in f->res. Frees the txs. Returns the apply
 * code. */
static inline int fx_commit(struct fx *f, struct loy_buf *txs, uint32_t n)
{
	uint8_t sks[LOY_MAX_VALIDATORS][LOY_SECKEY_SIZE];
	uint8_t keys[LOY_MAX_VALIDATORS][LOY_PUBKEY_SIZE];
	uint32_t nv = 0, nsig = 0;
	uint64_t h;
	struct loy_buf b, c;
	int rc;
	assert_true(n <= 64);
	assert_int_equal(loy_ledger_tip(f->l, &h, NULL, NULL, NULL), 0);
	assert_int_equal(loy_ledger_validators(f->l, h + 1, keys, &nv), 0);
	/* sign with every validator we hold a key for */
	for (uint32_t i = 0; i < nv; i++)
		for (unsigned k = 0; k < 64; k++)
			if (!memcmp(fx_key(f, k)->pk, keys[i], 32)) {
				memcpy(sks[nsig++], fx_key(f, k)->sk, 64);
				break;
			}
	assert_true(nsig > 0);
	rc = loy_ledger_build_block(f->l, txs, n, f->time_ms, 0, sks[0],
				    (const uint8_t(*)[64])sks, nsig, &b, &c,
				    f->res);
	f->nres = n;
	if (rc == 0) {
		rc = loy_ledger_apply_block(f->l, b.data, b.len, c.data, c.len,
					    LOY_APPLY_VERIFY_SIGS, NULL);
		if (rc != 0)
			fprintf(stderr, "apply: %s\n", loy_ledger_errmsg(f->l));
	}
	loy_buf_free(&b);
	loy_buf_free(&c);
	for (uint32_t i = 0; i < n; i++)
		loy_buf_free(&txs[i]);
	return rc;
}

/* One tx as its own block: returns its result code (message in
 * f->res[0].msg). */
static inline int fx_one(struct fx *f, struct loy_tx *tx, unsigned k)
{
	struct loy_buf b;
	fx_enc(f, tx, k, &b);
	assert_int_equal(fx_commit(f, &b, 1), 0);
	return f->res[0].code;
}

static inline uint64_t fx_balance(struct fx *f, unsigned k)
{
	uint64_t p = 0;
	int rc = loy_ledger_balance(f->l, fx_key(f, k)->id, &p);
	assert_true(rc == 0 || rc == LOY_ENOTFOUND);
	return p;
}

static inline void fx_register(struct fx *f, unsigned k)
{
	struct loy_tx tx;
	fx_tx(f, &tx, LOY_TX_CUSTOMER_REGISTER, k);
	assert_int_equal(fx_one(f, &tx, k), 0);
}

static inline void fx_rule(struct fx *f, unsigned m, uint64_t num, uint64_t den,
			   uint64_t min)
{
	struct loy_tx tx;
	fx_tx(f, &tx, LOY_TX_RULE_SET, m);
	tx.u.rule_set.rate_num = num;
	tx.u.rule_set.rate_den = den;
	tx.u.rule_set.min_purchase = min;
	assert_int_equal(fx_one(f, &tx, m), 0);
}

/* reward.issue by key `by` for customer c; returns the result code and the
 * tx hash in hash (if not NULL). */
static inline int fx_issue(struct fx *f, unsigned by, unsigned c,
			   uint64_t purchase, const char *ref,
			   const char *reason, uint8_t *hash)
{
	struct loy_tx tx;
	struct loy_buf b;
	fx_tx(f, &tx, LOY_TX_REWARD_ISSUE, by);
	memcpy(tx.u.reward_issue.customer, fx_key(f, c)->id, LOY_ID_SIZE);
	tx.u.reward_issue.purchase = purchase;
	snprintf(tx.u.reward_issue.reference,
		 sizeof tx.u.reward_issue.reference, "%s", ref);
	snprintf(tx.u.reward_issue.reason, sizeof tx.u.reward_issue.reason,
		 "%s", reason);
	fx_enc(f, &tx, by, &b);
	if (hash)
		loy_tx_hash(hash, b.data, b.len);
	assert_int_equal(fx_commit(f, &b, 1), 0);
	return f->res[0].code;
}

static inline void fx_redeem_tx(struct fx *f, struct loy_buf *b, unsigned c,
				unsigned m, uint64_t amount, const char *ref)
{
	struct loy_tx tx;
	fx_tx(f, &tx, LOY_TX_REDEEM, c);
	memcpy(tx.u.redeem.member, fx_key(f, m)->id, LOY_ID_SIZE);
	tx.u.redeem.amount = amount;
	snprintf(tx.u.redeem.reference, sizeof tx.u.redeem.reference, "%s",
		 ref);
	fx_enc(f, &tx, c, b);
}

static inline int fx_redeem(struct fx *f, unsigned c, unsigned m,
			    uint64_t amount, const char *ref)
{
	struct loy_buf b;
	fx_redeem_tx(f, &b, c, m, amount, ref);
	assert_int_equal(fx_commit(f, &b, 1), 0);
	return f->res[0].code;
}

static inline void fx_invariants(struct fx *f)
{
	char err[256];
	int rc = loy_ledger_check_invariants(f->l, err, sizeof err);
	if (rc != 0)
		fprintf(stderr, "invariants: %s\n", err);
	assert_int_equal(rc, 0);
}

#endif
