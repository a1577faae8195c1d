/* The invariants of DESIGN.md section 4, checked over the committed state
 * (after every block in tests; at the end of an audit replay). Balances are
 * unsigned and every subtraction is checked, so "never negative" holds by
 * construction; what is checked here is that the books agree. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/internal.h"
#include "wire/error.h"

struct inv {
	struct ldg_txn t;
	char *err;
	size_t errlen;
};

static int bad(struct inv *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int bad(struct inv *v, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (v->err && v->errlen)
		vsnprintf(v->err, v->errlen, fmt, ap);
	va_end(ap);
	return LOY_ECORRUPT;
}

typedef int (*each_fn)(struct inv *v, const MDB_val *k, const MDB_val *d,
		       void *ctx);

static int each(struct inv *v, enum ldb db, each_fn fn, void *ctx)
{
	MDB_cursor *c;
	MDB_val k, d;
	int rc = ldg_cursor_open(&v->t, db, &c), grc;
	if (rc != 0)
		return rc;
	for (grc = ldg_cursor_get(&v->t, db, c, &k, &d, MDB_FIRST);
	     grc == 0 && rc == 0;
	     grc = ldg_cursor_get(&v->t, db, c, &k, &d, MDB_NEXT))
		rc = fn(v, &k, &d, ctx);
	mdb_cursor_close(c);
	if (rc == 0 && grc != LOY_ENOTFOUND)
		rc = grc;
	return rc;
}

/* --- customers and lots --- */

struct sums {
	unsigned __int128 balances, lots;
	uint8_t cur[LOY_ID_SIZE];
	uint64_t cur_sum;
	bool have_cur;
};

static int cust_close(struct inv *v, struct sums *s)
{
	struct ldg_account a;
	char id[LOY_ID_STR_SIZE];
	if (!s->have_cur)
		return 0;
	int rc = ldg_account_get(&v->t, s->cur, &a);
	if (rc != 0 && rc != LOY_ENOTFOUND)
		return rc;
	if (rc != 0 || a.type != LDG_CUSTOMER || a.balance != s->cur_sum) {
		loy_id_format(id, s->cur);
		return bad(v,
			   "customer %s: balance %llu but its lots add up "
			   "to %llu",
			   id, (unsigned long long)a.balance,
			   (unsigned long long)s->cur_sum);
	}
	return 0;
}

static int on_lot(struct inv *v, const MDB_val *k, const MDB_val *d, void *ctx)
{
	struct sums *s = ctx;
	if (k->mv_size != 2 * LOY_ID_SIZE || d->mv_size != 8)
		return bad(v, "malformed lot record");
	if (!s->have_cur || memcmp(s->cur, k->mv_data, LOY_ID_SIZE) != 0) {
		int rc = cust_close(v, s);
		if (rc != 0)
			return rc;
		memcpy(s->cur, k->mv_data, LOY_ID_SIZE);
		s->cur_sum = 0;
		s->have_cur = true;
	}
	uint64_t x = be64get(d->mv_data);
	if (x == 0 || !ldg_add(&s->cur_sum, x))
		return bad(v, "lot out of range");
	s->lots += x;
	return 0;
}

static int on_account(struct inv *v, const MDB_val *k, const MDB_val *d,
		      void *ctx)
{
	struct sums *s = ctx;
	struct ldg_account a;
	(void)k;
	if (ldg_account_dec(&a, d) != 0)
		return bad(v, "malformed account record");
	if (a.type == LDG_CUSTOMER)
		s->balances += a.balance;
	else if (a.balance != 0)
		return bad(v, "a non-customer account holds points");
	return 0;
}

/* --- members: issue records and positions --- */

struct mem {
	uint8_t id[LOY_ID_SIZE];
	uint64_t issued, reversed;
};

struct mems {
	struct mem *v;
	size_t n, cap;
	unsigned __int128 pos_issued, pos_reversed, redeemed_at, consumed;
	unsigned __int128 cpaid, cearned, paid, received, cowed, cat;
	__int128 net;
};

static struct mem *mem_of(struct mems *m, const uint8_t id[LOY_ID_SIZE])
{
	for (size_t i = 0; i < m->n; i++)
		if (!memcmp(m->v[i].id, id, LOY_ID_SIZE))
			return &m->v[i];
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		struct mem *nv = realloc(m->v, cap * sizeof *nv);
		if (!nv)
			return NULL;
		m->v = nv;
		m->cap = cap;
	}
	memset(&m->v[m->n], 0, sizeof m->v[0]);
	memcpy(m->v[m->n].id, id, LOY_ID_SIZE);
	return &m->v[m->n++];
}

/* A reference record: a transaction's hash, and a reward.issue's issue
 * record after it, whose issuer owns the reference. */
static int on_ref(struct inv *v, const MDB_val *k, const MDB_val *d, void *ctx)
{
	struct ldg_issue is;
	struct mem *m;
	MDB_val rec = {LDG_ISSUE_LEN, (uint8_t *)d->mv_data + LOY_HASH_SIZE};
	if (k->mv_size <= LOY_ID_SIZE)
		return bad(v, "malformed reference key");
	if (d->mv_size == LOY_HASH_SIZE)
		return 0;
	if (d->mv_size != LOY_HASH_SIZE + LDG_ISSUE_LEN ||
	    ldg_issue_dec(&is, &rec) != 0)
		return bad(v, "malformed issue record");
	if (memcmp(is.issuer, k->mv_data, LOY_ID_SIZE) != 0)
		return bad(v, "an issue record under another member's "
			      "reference");
	m = mem_of(ctx, is.issuer);
	if (!m)
		return LOY_ENOMEM;
	m->issued += is.points;
	if (is.reversed)
		m->reversed += is.points;
	return 0;
}

static int on_position(struct inv *v, const MDB_val *k, const MDB_val *d,
		       void *ctx)
{
	struct mems *ms = ctx;
	struct ldg_position s;
	struct mem *m;
	int64_t net;
	char id[LOY_ID_STR_SIZE];
	if (k->mv_size != LOY_ID_SIZE || ldg_position_dec(&s, d) != 0)
		return bad(v, "malformed position record");
	m = mem_of(ms, k->mv_data);
	if (!m)
		return LOY_ENOMEM;
	loy_id_format(id, k->mv_data);
	if (m->issued != s.issued || m->reversed != s.reversed)
		return bad(v,
			   "member %s: position says issued %llu reversed "
			   "%llu, its issue records say %llu and %llu",
			   id, (unsigned long long)s.issued,
			   (unsigned long long)s.reversed,
			   (unsigned long long)m->issued,
			   (unsigned long long)m->reversed);
	if (s.reversed + s.consumed > s.issued)
		return bad(v,
			   "member %s: more of its points spent or reversed "
			   "than issued",
			   id);
	if (ldg_position_net(&s, &net) != 0)
		return bad(v, "member %s: position out of range", id);
	ms->pos_issued += s.issued;
	ms->pos_reversed += s.reversed;
	ms->redeemed_at += s.redeemed_at;
	ms->consumed += s.consumed;
	ms->cpaid += s.comm_paid;
	ms->cearned += s.comm_earned;
	ms->paid += s.paid;
	ms->received += s.received;
	ms->cowed += s.coupon_owed;
	ms->cat += s.coupon_at;
	ms->net += net;
	m->issued = m->reversed = 0; /* matched */
	return 0;
}

/* --- coupons --- */

struct cps {
	uint8_t cur[LOY_HASH_SIZE];
	uint32_t used;
	bool have;
	unsigned __int128 value;
};

static int batch_close(struct inv *v, struct cps *c)
{
	struct ldg_batch b;
	MDB_val d;
	if (!c->have)
		return 0;
	int rc = ldg_get(&v->t, LDB_BATCHES, c->cur, LOY_HASH_SIZE, &d);
	if (rc == 0)
		rc = ldg_batch_dec(&b, &d);
	if (rc != 0)
		return bad(v, "coupon without its batch");
	if (b.redeemed != c->used)
		return bad(v,
			   "coupon batch says %u redeemed, %u coupons are "
			   "used",
			   b.redeemed, c->used);
	c->value += (unsigned __int128)b.value * c->used;
	return 0;
}

static int on_coupon(struct inv *v, const MDB_val *k, const MDB_val *d,
		     void *ctx)
{
	struct cps *c = ctx;
	struct ldg_coupon cp;
	if (k->mv_size != LOY_HASH_SIZE + 4 || ldg_coupon_dec(&cp, d) != 0)
		return bad(v, "malformed coupon record");
	if (!c->have || memcmp(c->cur, k->mv_data, LOY_HASH_SIZE) != 0) {
		int rc = batch_close(v, c);
		if (rc != 0)
			return rc;
		memcpy(c->cur, k->mv_data, LOY_HASH_SIZE);
		c->used = 0;
		c->have = true;
	}
	if (cp.used > 1)
		return bad(v, "coupon used flag out of range");
	c->used += cp.used;
	return 0;
}

/* --- nonces --- */

struct sig {
	uint8_t *ids; /* n * 20 */
	size_t n, cap;
};

/* The signers of a block's transactions: the first history entry of each
 * position (exec.c). */
static int on_block_history(struct inv *v, const MDB_val *k, const MDB_val *d,
			    void *ctx)
{
	struct sig *s = ctx;
	const uint8_t *p = d->mv_data;
	uint32_t pos = 0;
	(void)k;
	if (d->mv_size == 0 || d->mv_size % LDG_HIST_ENTRY != 0)
		return bad(v, "malformed block history record");
	for (size_t off = 0; off < d->mv_size; off += LDG_HIST_ENTRY) {
		uint32_t at = be32get(p + off + LOY_ID_SIZE);
		if (off > 0 && at == pos)
			continue; /* another account of the same tx */
		pos = at;
		if (s->n == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 1024;
			uint8_t *nv = realloc(s->ids, cap * LOY_ID_SIZE);
			if (!nv)
				return LOY_ENOMEM;
			s->ids = nv;
			s->cap = cap;
		}
		memcpy(s->ids + s->n * LOY_ID_SIZE, p + off, LOY_ID_SIZE);
		s->n++;
	}
	return 0;
}

static int id_cmp(const void *a, const void *b)
{
	return memcmp(a, b, LOY_ID_SIZE);
}

struct nonce_walk {
	struct sig *s;
	size_t i;
};

static int on_nonce(struct inv *v, const MDB_val *k, const MDB_val *d,
		    void *ctx)
{
	struct nonce_walk *w = ctx;
	char id[LOY_ID_STR_SIZE];
	uint64_t cnt = 0;
	if (k->mv_size != LOY_ID_SIZE || d->mv_size != 8)
		return bad(v, "malformed nonce record");
	while (w->i < w->s->n && memcmp(w->s->ids + w->i * LOY_ID_SIZE,
					k->mv_data, LOY_ID_SIZE) < 0)
		return bad(v, "a signer has transactions but no nonce");
	while (w->i < w->s->n && !memcmp(w->s->ids + w->i * LOY_ID_SIZE,
					 k->mv_data, LOY_ID_SIZE)) {
		cnt++;
		w->i++;
	}
	if (cnt != be64get(d->mv_data)) {
		loy_id_format(id, k->mv_data);
		return bad(v, "signer %s: nonce %llu but %llu transactions", id,
			   (unsigned long long)be64get(d->mv_data),
			   (unsigned long long)cnt);
	}
	return 0;
}

static int check(struct inv *v)
{
	struct sums s = {0};
	struct mems ms = {0};
	struct cps cp = {0};
	struct sig sg = {0};
	struct ldg_totals tt;
	int rc;

	rc = ldg_totals_get(&v->t, &tt);
	if (rc == 0)
		rc = each(v, LDB_ACCOUNTS, on_account, &s);
	if (rc == 0)
		rc = each(v, LDB_LOTS, on_lot, &s);
	if (rc == 0)
		rc = cust_close(v, &s);
	if (rc != 0)
		return rc;
	if (s.lots != s.balances)
		return bad(v, "lots add up to %llu, balances to %llu",
			   (unsigned long long)s.lots,
			   (unsigned long long)s.balances);
	if ((unsigned __int128)tt.issued !=
	    s.balances + tt.reversed + tt.redeemed)
		return bad(v,
			   "conservation: balances %llu != issued %llu - "
			   "reversed %llu - redeemed %llu",
			   (unsigned long long)s.balances,
			   (unsigned long long)tt.issued,
			   (unsigned long long)tt.reversed,
			   (unsigned long long)tt.redeemed);
	rc = each(v, LDB_REFS, on_ref, &ms);
	if (rc == 0)
		rc = each(v, LDB_POSITIONS, on_position, &ms);
	for (size_t i = 0; rc == 0 && i < ms.n; i++)
		if (ms.v[i].issued || ms.v[i].reversed)
			rc = bad(v, "a member issued points but has no "
				    "position");
	free(ms.v);
	if (rc != 0)
		return rc;
	if (ms.pos_issued != tt.issued || ms.pos_reversed != tt.reversed ||
	    ms.redeemed_at != tt.redeemed || ms.consumed != tt.redeemed)
		return bad(v, "settlement: member positions do not add up to "
			      "the consortium totals");
	if (ms.cpaid != ms.cearned || ms.paid != ms.received ||
	    ms.cowed != ms.cat || ms.cowed != tt.coupon_redeemed)
		return bad(v, "settlement: commissions, settlements or coupon "
			      "claims do not net to zero");
	if (ms.net != -(__int128)s.balances)
		return bad(v,
			   "settlement: positions net to %lld, not minus "
			   "the %llu points outstanding",
			   (long long)ms.net, (unsigned long long)s.balances);
	rc = each(v, LDB_COUPONS, on_coupon, &cp);
	if (rc == 0)
		rc = batch_close(v, &cp);
	if (rc != 0)
		return rc;
	if (cp.value != tt.coupon_redeemed)
		return bad(v,
			   "coupons: used coupons are worth %llu, totals say "
			   "%llu",
			   (unsigned long long)cp.value,
			   (unsigned long long)tt.coupon_redeemed);
	rc = each(v, LDB_BLOCKHIST, on_block_history, &sg);
	if (rc == 0) {
		struct nonce_walk w = {&sg, 0};
		if (sg.n)
			qsort(sg.ids, sg.n, LOY_ID_SIZE, id_cmp);
		rc = each(v, LDB_NONCES, on_nonce, &w);
		if (rc == 0 && w.i != sg.n)
			rc = bad(v, "a signer has transactions but no nonce");
	}
	free(sg.ids);
	return rc;
}

int loy_ledger_check_invariants(struct loy_ledger *l, char *errmsg,
				size_t errlen)
{
	struct inv v = {.t = {.l = l}, .err = errmsg, .errlen = errlen};
	int rc = ldg_mdb_err(mdb_txn_begin(l->env, NULL, MDB_RDONLY, &v.t.txn));
	if (errmsg && errlen)
		errmsg[0] = '\0';
	if (rc != 0)
		return rc;
	rc = check(&v);
	mdb_txn_abort(v.t.txn);
	/* a record that fails its tag comes before any disagreement of the
	 * books it may have caused */
	if (rc != 0 && loy_ledger_damage(l) && errmsg && errlen)
		snprintf(errmsg, errlen, "%s", loy_ledger_damage(l));
	else if (rc != 0 && rc != LOY_ECORRUPT && errmsg && errlen &&
		 !errmsg[0])
		snprintf(errmsg, errlen, "%s", loy_strerror(rc));
	return rc;
}
