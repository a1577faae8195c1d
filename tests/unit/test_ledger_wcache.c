/* The block cache (ledger/wcache.c): a block's reads and writes through it
 * see exactly what they would see on the store alone, and leave the same
 * store and the same write set behind. The test runs one seeded sequence
 * of gets, puts, deletes and cursor scans three times in a write
 * transaction: on the store alone, through a roomy cache, and through one
 * so small that most records miss it; every answer and the end state must
 * match byte for byte. Keys and values include ones too big for the cache.
 */
#include "ledger/internal.h"
#include "tests/unit/test_ledger_fix.h"

#define KEYS  12u
#define STEPS 3000u

struct out {
	uint8_t *p;
	size_t len, cap;
};

static void out_add(struct out *o, const void *p, size_t n)
{
	if (o->len + n + 4 > o->cap) {
		o->cap = (o->len + n + 4) * 2;
		o->p = realloc(o->p, o->cap);
		assert_non_null(o->p);
	}
	be32put(o->p + o->len, (uint32_t)n);
	memcpy(o->p + o->len + 4, p, n);
	o->len += n + 4;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static const enum ldb tables[3] = {LDB_LOTS, LDB_REFS, LDB_NONCES};

/* Key i of a table: fixed 40 bytes for lots, 8 for nonces; refs take
 * 21..117 bytes, some past the cache's key limit. */
static size_t key_of(enum ldb db, unsigned i, uint8_t *k)
{
	size_t n = db == LDB_LOTS ? 40 : db == LDB_NONCES ? 8 : 21 + i * 8;
	memset(k, 0, n);
	k[0] = (uint8_t)(i * 37);
	k[n - 1] = (uint8_t)i;
	return n;
}

/* A value: small, or (sometimes for refs) past the cache's limit. */
static size_t val_of(enum ldb db, uint64_t r, uint8_t *v)
{
	size_t n = db == LDB_NONCES ? 8
		   : db == LDB_LOTS ? 8 + r % 40
		   : r % 4 == 0     ? LDG_WC_VAL_MAX + 1 + r % 50
				    : r % 90;
	for (size_t i = 0; i < n; i++)
		v[i] = (uint8_t)(r >> (i % 8 * 8)) ^ (uint8_t)i;
	return n;
}

static void scan(struct ldg_txn *t, enum ldb db, struct out *o)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc = ldg_cursor_open(t, db, &c);

	assert_int_equal(rc, 0);
	for (rc = ldg_cursor_get(t, db, c, &k, &v, MDB_FIRST); rc == 0;
	     rc = ldg_cursor_get(t, db, c, &k, &v, MDB_NEXT)) {
		out_add(o, k.mv_data, k.mv_size);
		out_add(o, v.mv_data, v.mv_size);
	}
	assert_int_equal(rc, LOY_ENOTFOUND);
	mdb_cursor_close(c);
}

/* Runs the sequence with cache wc (NULL: the store alone) into o, the
 * write set's root last; the transaction is aborted. */
static void run(struct loy_ledger *l, struct ldg_wc *wc, struct out *o)
{
	uint8_t k[160], v[160], zero[LOY_HASH_SIZE] = {0}, root[32];
	struct ldg_ws ws;
	struct ldg_txn t = {.l = l, .ws = &ws};
	uint64_t s = 0x9e3779b97f4a7c15ull;
	MDB_val got;

	ldg_ws_init(&ws);
	assert_int_equal(mdb_txn_begin(l->env, NULL, 0, &t.txn), 0);
	if (wc) {
		assert_true(ldg_wc_begin(wc));
		assert_false(ldg_wc_begin(wc)); /* one block at a time */
		t.wc = wc;
	}
	for (unsigned i = 0; i < STEPS; i++) {
		uint64_t r = rnd(&s);
		enum ldb db = tables[r % 3];
		size_t kl = key_of(db, (unsigned)(r >> 8) % KEYS, k), vl;
		int rc;
		switch ((r >> 16) % 10) {
		case 0:
		case 1:
		case 2:
		case 3:
			rc = ldg_get(&t, db, k, kl, &got);
			out_add(o, &rc, sizeof rc);
			if (rc == 0)
				out_add(o, got.mv_data, got.mv_size);
			break;
		case 4:
		case 5:
		case 6:
			vl = val_of(db, rnd(&s), v);
			assert_int_equal(ldg_put(&t, db, k, kl, v, vl), 0);
			break;
		case 7:
		case 8:
			assert_int_equal(ldg_del(&t, db, k, kl), 0);
			break;
		default:
			scan(&t, db, o);
		}
	}
	if (wc) {
		assert_int_equal(ldg_wc_flush(wc, &t, -1), 0);
		ldg_wc_end(wc);
		t.wc = NULL;
	}
	for (unsigned i = 0; i < 3; i++)
		scan(&t, tables[i], o);
	assert_int_equal(ldg_state_root(&ws, 1, zero, root), 0);
	out_add(o, root, sizeof root);
	mdb_txn_abort(t.txn);
	ldg_ws_free(&ws);
}

/* Some records in the store before the block, for it to find there. */
static void seed_store(struct loy_ledger *l)
{
	uint8_t k[160], v[160];
	struct ldg_txn t = {.l = l};
	uint64_t s = 12345;

	assert_int_equal(mdb_txn_begin(l->env, NULL, 0, &t.txn), 0);
	for (unsigned i = 0; i < KEYS; i += 2)
		for (unsigned d = 0; d < 3; d++) {
			size_t kl = key_of(tables[d], i, k);
			size_t vl = val_of(tables[d], rnd(&s), v);
			assert_int_equal(ldg_put(&t, tables[d], k, kl, v, vl),
					 0);
		}
	assert_int_equal(mdb_txn_commit(t.txn), 0);
}

static void test_cache_sees_what_the_store_would(void **state)
{
	(void)state;
	struct fx *f = fx_new(2, 0);
	struct ldg_wc *big = ldg_wc_new(4096), *small = ldg_wc_new(5);
	struct out direct = {0}, cached = {0}, tight = {0};

	assert_non_null(big);
	assert_non_null(small);
	seed_store(f->l);
	run(f->l, NULL, &direct);
	run(f->l, big, &cached);
	run(f->l, small, &tight);
	run(f->l, big, &cached); /* a second block on the same cache */
	assert_true(direct.len > 10000);
	assert_int_equal(cached.len, 2 * direct.len);
	assert_memory_equal(cached.p, direct.p, direct.len);
	assert_memory_equal(cached.p + direct.len, direct.p, direct.len);
	assert_int_equal(tight.len, direct.len);
	assert_memory_equal(tight.p, direct.p, direct.len);
	free(direct.p);
	free(cached.p);
	free(tight.p);
	ldg_wc_free(big);
	ldg_wc_free(small);
	fx_free(f);
}

/* A block writes each changed record once, however often it changed. */
static void test_flush_writes_each_record_once(void **state)
{
	(void)state;
	struct fx *f = fx_new(2, 0);
	struct ldg_wc *wc = ldg_wc_new(64);
	struct ldg_txn t = {.l = f->l};
	uint8_t k[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	MDB_val got;
	uint64_t w0, n;

	assert_int_equal(mdb_txn_begin(f->l->env, NULL, 0, &t.txn), 0);
	assert_true(ldg_wc_begin(wc));
	t.wc = wc;
	w0 = f->l->writes;
	for (uint64_t i = 1; i <= 100; i++) {
		assert_int_equal(ldg_u64_get(&t, LDB_NONCES, k, 8, &n),
				 i == 1 ? LOY_ENOTFOUND : 0);
		assert_int_equal(n, i - 1);
		assert_int_equal(ldg_u64_put(&t, LDB_NONCES, k, 8, i), 0);
	}
	assert_int_equal(f->l->writes, w0); /* nothing reached the store */
	assert_int_equal(ldg_wc_flush(wc, &t, -1), 0);
	assert_int_equal(f->l->writes, w0 + 1);
	ldg_wc_end(wc);
	t.wc = NULL;
	assert_int_equal(ldg_get(&t, LDB_NONCES, k, 8, &got), 0);
	assert_int_equal(got.mv_size, 8);
	assert_int_equal(be64get(got.mv_data), 100);
	mdb_txn_abort(t.txn);
	ldg_wc_free(wc);
	fx_free(f);
}

/* The state root of a fixed chain, pinned: what nodes of every version
 * must compute alike (the cache changes how a block's writes reach the
 * store and the write set, never the root). Blocks of many transactions
 * that share records: issues by two members, redemptions across them that
 * use up lots, a duplicate reference and a redemption beyond the
 * balance. The value was computed by the build before the cache too. */
#define GOLDEN_ROOT                                                            \
	"1ce04614bfe3273b4c3e3a36bdc360196b48e6a54d196b9ba9194bb75539ec7f"

static void test_state_root_golden(void **state)
{
	(void)state;
	struct fx *f = fx_new(2, 150);
	struct loy_buf b[48];
	uint8_t root[LOY_HASH_SIZE];
	char hex[2 * LOY_HASH_SIZE + 1], ref[32];
	uint64_t h;
	uint32_t n = 0;

	for (unsigned c = 100; c < 106; c++)
		fx_register(f, c);
	fx_rule(f, 0, 3, 2, 10);
	for (unsigned round = 0; round < 2; round++) {
		n = 0;
		for (unsigned i = 0; i < 24; i++) {
			struct loy_tx tx;
			unsigned by = i % 2, c = 100 + i % 6;
			fx_tx(f, &tx, LOY_TX_REWARD_ISSUE, by);
			memcpy(tx.u.reward_issue.customer, fx_key(f, c)->id,
			       LOY_ID_SIZE);
			tx.u.reward_issue.purchase = 20 + i;
			snprintf(tx.u.reward_issue.reference,
				 sizeof tx.u.reward_issue.reference, "g%u-%u",
				 round, i % 20); /* 4 duplicates per block */
			snprintf(tx.u.reward_issue.reason,
				 sizeof tx.u.reward_issue.reason, "%s",
				 by ? "topup" : "buy");
			fx_enc(f, &tx, by, &b[n++]);
		}
		for (unsigned i = 0; i < 24; i++) {
			snprintf(ref, sizeof ref, "r%u-%u", round, i);
			fx_redeem_tx(f, &b[n++], 100 + i % 6, i % 2,
				     i % 5 == 4 ? 100000 : 7 + i, ref);
		}
		f->time_ms += 1000;
		assert_int_equal(fx_commit(f, b, n), 0);
	}
	fx_invariants(f);
	assert_int_equal(loy_ledger_tip(f->l, &h, NULL, root, NULL), 0);
	for (unsigned i = 0; i < LOY_HASH_SIZE; i++)
		snprintf(hex + 2 * i, 3, "%02x", root[i]);
	fprintf(stderr, "state root at %llu: %s\n", (unsigned long long)h, hex);
	assert_string_equal(hex, GOLDEN_ROOT);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cache_sees_what_the_store_would),
	    cmocka_unit_test(test_flush_writes_each_record_once),
	    cmocka_unit_test(test_state_root_golden),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
