/* Seeded property test (random valid and invalid transactions, invariants
 * after every block, replay gives the same roots) and audit tamper tests. */
#include <lmdb.h>

#include "ledger/audit.h"
#include "tests/unit/test_ledger_fix.h"

#define NCUST 24
#define C0    100

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return r->s;
}

static unsigned pick(struct rng *r, unsigned n)
{
	return (unsigned)(rnd(r) % n);
}

struct world {
	struct fx *f;
	struct rng r;
	char issues[4096][LOY_REF_MAX + 1]; /* reward.issue references */
	unsigned nissues;
	unsigned refn;
	uint8_t roots[512][32];
	uint64_t blocks;
};

static void ref(struct world *w, char *out, size_t n)
{
	/* sometimes reuse an old reference: a duplicate */
	unsigned v =
	    pick(&w->r, 20) == 0 && w->refn ? pick(&w->r, w->refn) : w->refn++;
	snprintf(out, n, "ref-%u", v);
}

static void random_tx(struct world *w, struct loy_buf *b)
{
	struct fx *f = w->f;
	struct loy_tx tx;
	unsigned c = C0 + pick(&w->r, NCUST), m = pick(&w->r, 4), k;
	switch (pick(&w->r, 8)) {
	case 0:
	case 1:
	case 2: /* issue (sometimes zero, sometimes a partnership) */
		k = m;
		fx_tx(f, &tx, LOY_TX_REWARD_ISSUE, k);
		memcpy(tx.u.reward_issue.customer,
		       fx_key(f, pick(&w->r, 30) ? c : 399)->id, LOY_ID_SIZE);
		tx.u.reward_issue.purchase =
		    pick(&w->r, 10) ? rnd(&w->r) % 500 : 0;
		if (pick(&w->r, 6) == 0)
			snprintf(tx.u.reward_issue.reason, 8, "topup");
		if (pick(&w->r, 5) == 0)
			snprintf(tx.u.reward_issue.partnership, 8, "mall");
		ref(w, tx.u.reward_issue.reference, LOY_REF_MAX);
		break;
	case 3:
	case 4: /* redeem, often more than the balance */
		k = c;
		fx_tx(f, &tx, LOY_TX_REDEEM, k);
		memcpy(tx.u.redeem.member, fx_key(f, m)->id, LOY_ID_SIZE);
		tx.u.redeem.amount = rnd(&w->r) % 300;
		ref(w, tx.u.redeem.reference, LOY_REF_MAX);
		break;
	case 5: /* transfer */
		k = c;
		fx_tx(f, &tx, LOY_TX_TRANSFER, k);
		memcpy(tx.u.transfer.to, fx_key(f, C0 + pick(&w->r, NCUST))->id,
		       LOY_ID_SIZE);
		tx.u.transfer.amount = rnd(&w->r) % 200;
		ref(w, tx.u.transfer.reference, LOY_REF_MAX);
		break;
	case 6: /* reverse an earlier issue, by someone */
		k = m;
		fx_tx(f, &tx, LOY_TX_REWARD_REVERSE, k);
		if (w->nissues)
			memcpy(tx.u.reward_reverse.issue_ref,
			       w->issues[pick(&w->r, w->nissues)],
			       LOY_REF_MAX + 1);
		ref(w, tx.u.reward_reverse.reference, LOY_REF_MAX);
		break;
	default: { /* settle claim between two members */
		k = m;
		fx_tx(f, &tx, LOY_TX_SETTLE, k);
		memcpy(tx.u.settle.counterparty, fx_key(f, (m + 1) % 4)->id,
		       LOY_ID_SIZE);
		tx.u.settle.amount = 1 + rnd(&w->r) % 50;
		ref(w, tx.u.settle.reference, LOY_REF_MAX);
		break;
	}
	}
	bool bad_nonce = pick(&w->r, 40) == 0;
	if (bad_nonce)
		tx.nonce += 3;
	uint64_t saved = fx_key(f, k)->nonce;
	if (tx.kind == LOY_TX_REWARD_ISSUE) {
		fx_enc(f, &tx, k, b);
		if (w->nissues < 4096)
			memcpy(w->issues[w->nissues++],
			       tx.u.reward_issue.reference, LOY_REF_MAX + 1);
	} else {
		fx_enc(f, &tx, k, b);
	}
	if (bad_nonce)
		fx_key(f, k)->nonce = saved;
}

static void world_setup(struct world *w, uint64_t seed)
{
	struct loy_tx tx;
	struct loy_buf b[NCUST + 8];
	unsigned n = 0;
	memset(w, 0, sizeof *w);
	w->r.s = seed;
	w->f = fx_new(4, 150);
	struct fx *f = w->f;
	for (unsigned i = 0; i < NCUST; i++) {
		fx_tx(f, &tx, LOY_TX_CUSTOMER_REGISTER, C0 + i);
		fx_enc(f, &tx, C0 + i, &b[n++]);
	}
	for (unsigned m = 0; m < 4; m++) {
		fx_tx(f, &tx, LOY_TX_RULE_SET, m);
		tx.u.rule_set.rate_num = 1 + m;
		tx.u.rule_set.rate_den = 2;
		tx.u.rule_set.min_purchase = 10;
		fx_enc(f, &tx, m, &b[n++]);
	}
	fx_tx(f, &tx, LOY_TX_PARTNERSHIP_CREATE, 0);
	snprintf(tx.u.partnership_create.name, 8, "mall");
	tx.u.partnership_create.rate_num = 1;
	tx.u.partnership_create.rate_den = 1;
	tx.u.partnership_create.bonus = 5;
	fx_enc(f, &tx, 0, &b[n++]);
	assert_int_equal(fx_commit(f, b, n), 0);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(f->res[i].code, 0);
	assert_int_equal(loy_ledger_tip(f->l, NULL, NULL, w->roots[1], NULL),
			 0);
	w->blocks = 1;
}

static void world_run(struct world *w, unsigned blocks, unsigned per_block)
{
	struct loy_buf b[64];
	for (unsigned i = 0; i < blocks; i++) {
		for (unsigned j = 0; j < per_block; j++)
			random_tx(w, &b[j]);
		w->f->time_ms += 1 + pick(&w->r, 4000000);
		assert_int_equal(fx_commit(w->f, b, per_block), 0);
		w->blocks++;
		assert_int_equal(loy_ledger_tip(w->f->l, NULL, NULL,
						w->roots[w->blocks], NULL),
				 0);
		fx_invariants(w->f);
	}
}

static int count_progress(void *data, uint64_t h, uint64_t txs)
{
	(void)h;
	(void)txs;
	(*(unsigned *)data)++;
	return 0;
}

static void test_property_random_chains(void **state)
{
	/* 20 seeds x 25 blocks x 48 random valid and invalid txs by default
	 * (about 24,000); LEDGER_PROP_SEEDS=N for a longer run */
	const char *env = getenv("LEDGER_PROP_SEEDS");
	uint64_t seeds = env ? strtoull(env, NULL, 10) : 20;
	(void)state;
	for (uint64_t seed = 1; seed <= seeds; seed++) {
		struct world *w = calloc(1, sizeof *w);
		struct loy_audit_report rep;
		unsigned calls = 0;
		struct loy_audit_opts o = {.progress = count_progress,
					   .data = &calls};
		char path[128], err[256];
		world_setup(w, seed * 0x9e3779b97f4a7c15ull);
		world_run(w, 25, 48);
		/* some of everything happened */
		struct loy_totals tt;
		assert_int_equal(loy_ledger_totals(w->f->l, &tt), 0);
		assert_true(tt.issued > 0 && tt.redeemed > 0 &&
			    tt.reversed > 0);
		/* replay: the audit re-executes and compares every root */
		assert_int_equal(
		    loy_audit_datadir(&w->f->g, w->f->dir, &o, &rep), 0);
		assert_true(rep.ok);
		assert_int_equal(rep.blocks, w->blocks);
		assert_int_equal(calls, w->blocks);
		assert_memory_equal(rep.state_root, w->roots[w->blocks], 32);
		snprintf(path, sizeof path, "%s/chain.bin", w->f->dir);
		assert_int_equal(
		    loy_ledger_export(w->f->l, path, err, sizeof err), 0);
		assert_int_equal(loy_audit_file(&w->f->g, path, NULL, &rep), 0);
		assert_true(rep.ok);
		/* replay into a fresh store block by block: same roots */
		struct fx *g = fx_new(4, 150);
		for (uint64_t h = 1; h <= w->blocks; h++) {
			struct loy_buf bb, cc;
			uint8_t root[32];
			assert_int_equal(loy_ledger_block(w->f->l, h, &bb, &cc),
					 0);
			assert_int_equal(
			    loy_ledger_apply_block(g->l, bb.data, bb.len,
						   cc.data, cc.len, 0, NULL),
			    0);
			assert_int_equal(
			    loy_ledger_tip(g->l, NULL, NULL, root, NULL), 0);
			assert_memory_equal(root, w->roots[h], 32);
			loy_buf_free(&bb);
			loy_buf_free(&cc);
		}
		fx_free(g);
		unlink(path);
		fx_free(w->f);
		free(w);
	}
}

/* --- tamper --- */

static size_t file_size(const char *p)
{
	FILE *fp = fopen(p, "rb");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	long n = ftell(fp);
	fclose(fp);
	return (size_t)n;
}

static void flip_at(const char *p, size_t off)
{
	FILE *fp = fopen(p, "r+b");
	assert_non_null(fp);
	fseek(fp, (long)off, SEEK_SET);
	int c = fgetc(fp);
	fseek(fp, (long)off, SEEK_SET);
	fputc(c ^ 0x01, fp);
	fclose(fp);
}

/* Offsets in the chain file: record of height h starts at rec[h]. */
static void record_offsets(const char *path, uint64_t n, size_t *rec,
			   size_t *blen, size_t *clen)
{
	FILE *fp = fopen(path, "rb");
	uint8_t hdr[12], l4[4];
	size_t off = 12;
	assert_non_null(fp);
	fseek(fp, 12, SEEK_SET);
	for (uint64_t h = 1; h <= n; h++) {
		assert_int_equal(fread(hdr, 1, 12, fp), 12);
		rec[h] = off;
		blen[h] = (size_t)hdr[8] << 24 | (size_t)hdr[9] << 16 |
			  (size_t)hdr[10] << 8 | hdr[11];
		fseek(fp, (long)blen[h], SEEK_CUR);
		assert_int_equal(fread(l4, 1, 4, fp), 4);
		clen[h] = (size_t)l4[0] << 24 | (size_t)l4[1] << 16 |
			  (size_t)l4[2] << 8 | l4[3];
		fseek(fp, (long)clen[h], SEEK_CUR);
		off += 12 + blen[h] + 4 + clen[h];
	}
	fclose(fp);
	assert_int_equal(off, file_size(path));
}

static void copy_file(const char *from, const char *to)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "cp '%s' '%s'", from, to);
	assert_int_equal(system(cmd), 0);
}

static void test_tamper_chain_file(void **state)
{
	struct world *w = calloc(1, sizeof *w);
	char path[128], bad[160], err[256];
	size_t rec[32], blen[32], clen[32];
	struct loy_audit_report rep;
	(void)state;
	world_setup(w, 77);
	world_run(w, 8, 12);
	snprintf(path, sizeof path, "%s/chain.bin", w->f->dir);
	snprintf(bad, sizeof bad, "%s/bad.bin", w->f->dir);
	assert_int_equal(loy_ledger_export(w->f->l, path, err, sizeof err), 0);
	record_offsets(path, w->blocks, rec, blen, clen);
	struct rng r = {12345};
	for (int trial = 0; trial < 24; trial++) {
		uint64_t h = 1 + rnd(&r) % w->blocks;
		size_t off;
		int what = trial % 3;
		if (what == 0) /* anywhere in the block (header or txs) */
			off = rec[h] + 12 + rnd(&r) % blen[h];
		else if (what == 1) /* in the certificate */
			off = rec[h] + 12 + blen[h] + 4 + rnd(&r) % clen[h];
		else /* in the last transaction's bytes (the block's tail) */
			off = rec[h] + 12 + blen[h] - 1 - rnd(&r) % 100;
		copy_file(path, bad);
		flip_at(bad, off);
		int rc = loy_audit_file(&w->f->g, bad, NULL, &rep);
		if (rc == 0)
			fprintf(stderr,
				"trial %d: flip at %zu (h %llu) passed\n",
				trial, off, (unsigned long long)h);
		assert_int_equal(rc, LOY_ECORRUPT);
		assert_false(rep.ok);
		assert_int_equal(rep.height, h);
		char want[32];
		snprintf(want, sizeof want, "block %llu",
			 (unsigned long long)h);
		assert_non_null(strstr(rep.reason, want));
	}
	/* the untouched file still passes */
	assert_int_equal(loy_audit_file(&w->f->g, path, NULL, &rep), 0);
	/* a wrong genesis fails at block 1 */
	struct loy_genesis g2 = w->f->g;
	g2.commission_bps = 151;
	assert_int_equal(loy_audit_file(&g2, path, NULL, &rep), LOY_ECORRUPT);
	assert_int_equal(rep.height, 1);
	unlink(path);
	unlink(bad);
	fx_free(w->f);
	free(w);
}

static void test_tamper_data_dir(void **state)
{
	struct world *w = calloc(1, sizeof *w);
	struct loy_audit_report rep;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	(void)state;
	world_setup(w, 99);
	world_run(w, 6, 10);
	loy_ledger_close(w->f->l);
	w->f->l = NULL;
	const char *dbs[2] = {"blocks", "certs"};
	for (int i = 0; i < 2; i++) {
		uint64_t h = 3 + (uint64_t)i;
		uint8_t k[8] = {0}, *copy;
		MDB_val key = {8, k}, val;
		k[7] = (uint8_t)h;
		assert_int_equal(mdb_env_create(&env), 0);
		assert_int_equal(mdb_env_set_maxdbs(env, 64), 0);
		assert_int_equal(mdb_env_open(env, w->f->dir, 0, 0600), 0);
		assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
		assert_int_equal(mdb_dbi_open(txn, dbs[i], 0, &dbi), 0);
		assert_int_equal(mdb_get(txn, dbi, &key, &val), 0);
		copy = malloc(val.mv_size);
		memcpy(copy, val.mv_data, val.mv_size);
		copy[val.mv_size / 2] ^= 0x40;
		val.mv_data = copy;
		assert_int_equal(mdb_put(txn, dbi, &key, &val, 0), 0);
		assert_int_equal(mdb_txn_commit(txn), 0);
		mdb_env_close(env);
		free(copy);
		assert_int_equal(
		    loy_audit_datadir(&w->f->g, w->f->dir, NULL, &rep),
		    LOY_ECORRUPT);
		assert_int_equal(rep.height, 3);
	}
	fx_free(w->f);
	free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_property_random_chains),
	    cmocka_unit_test(test_tamper_chain_file),
	    cmocka_unit_test(test_tamper_data_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
