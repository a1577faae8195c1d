/* A damaged store is never served: a truncated data.mdb and a damaged tip
 * are refused at open; a flipped byte in any other record (a state record,
 * an older block, a key) or a B-tree page LMDB finds broken makes every
 * read of it fail with LOY_ECORRUPT and a message naming the table and key,
 * never a wrong answer (so does a record hidden by a damaged pointer in its
 * page); a page number past the file in LMDB's free-page list is found by
 * the full check; and a store of the old format is refused. */
#include <lmdb.h>
#include <sys/stat.h>

#include "ledger/audit.h"
#include "tests/unit/test_ledger_fix.h"

static void build_chain(struct fx *f)
{
	fx_register(f, 100);
	fx_rule(f, 0, 1, 1, 0);
	for (int i = 0; i < 20; i++) {
		char ref[16];
		snprintf(ref, sizeof ref, "p%d", i);
		assert_int_equal(fx_issue(f, 0, 100, 10, ref, "buy", NULL), 0);
	}
}

static void fx_close(struct fx *f)
{
	loy_ledger_close(f->l);
	f->l = NULL;
}

static int fx_reopen(struct fx *f, char *err, size_t errlen)
{
	int rc = loy_ledger_open(f->dir, 0, 64ull << 20, &f->l, err, errlen);
	if (rc != 0)
		f->l = NULL;
	return rc;
}

/* The stored bytes (record and tag) of a record, read with LMDB itself from
 * a closed store. Returns the length; *out is malloc'd. */
static size_t raw_get(const char *dir, const char *table, const void *key,
		      size_t klen, uint8_t **out)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {klen, (void *)key}, v;

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 64), 0);
	assert_int_equal(mdb_env_open(env, dir, MDB_RDONLY, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, table, 0, &dbi), 0);
	assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
	*out = malloc(v.mv_size);
	assert_non_null(*out);
	memcpy(*out, v.mv_data, v.mv_size);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return v.mv_size;
}

static uint8_t *file_read(const char *dir, long *size)
{
	char file[128];
	uint8_t *img;
	FILE *fp;

	snprintf(file, sizeof file, "%s/data.mdb", dir);
	fp = fopen(file, "rb");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	*size = ftell(fp);
	img = malloc((size_t)*size);
	assert_non_null(img);
	fseek(fp, 0, SEEK_SET);
	assert_int_equal(fread(img, 1, (size_t)*size, fp), (size_t)*size);
	fclose(fp);
	return img;
}

static void file_write(const char *dir, const uint8_t *img, long size)
{
	char file[128];
	FILE *fp;

	snprintf(file, sizeof file, "%s/data.mdb", dir);
	fp = fopen(file, "r+b");
	assert_non_null(fp);
	assert_int_equal(fwrite(img, 1, (size_t)size, fp), (size_t)size);
	fclose(fp);
}

/* Flips byte `at` of every copy of needle in data.mdb (LMDB leaves old
 * copies of a page in free pages: flipping them all is sure to hit the live
 * one). Returns how many copies it flipped. */
static int flip_all(const char *dir, const uint8_t *needle, size_t n, size_t at)
{
	long size;
	uint8_t *img = file_read(dir, &size), *p = img;
	int hits = 0;

	while ((p = memmem(p, (size_t)(img + size - p), needle, n)) != NULL) {
		p[at] ^= 0x04;
		hits++;
		p += n;
	}
	file_write(dir, img, size);
	free(img);
	return hits;
}

static int id_cmp(const void *a, const void *b)
{
	return memcmp(a, b, LOY_ID_SIZE);
}

/* Registers customers 100..106 and returns one whose account record is
 * neither the first nor the last of the accounts table (the open checks
 * those two; this one is found only when read). */
static unsigned middle_customer(struct fx *f)
{
	uint8_t ids[2 + 7][LOY_ID_SIZE];
	unsigned n = 0;

	for (unsigned k = 0; k < f->members; k++)
		memcpy(ids[n++], fx_key(f, k)->id, LOY_ID_SIZE);
	for (unsigned c = 100; c < 107; c++) {
		fx_register(f, c);
		memcpy(ids[n++], fx_key(f, c)->id, LOY_ID_SIZE);
	}
	qsort(ids, n, LOY_ID_SIZE, id_cmp);
	for (unsigned c = 100; c < 107; c++)
		if (memcmp(fx_key(f, c)->id, ids[0], LOY_ID_SIZE) != 0 &&
		    memcmp(fx_key(f, c)->id, ids[n - 1], LOY_ID_SIZE) != 0)
			return c;
	fail();
	return 0;
}

static void id_hex(char out[41], const uint8_t id[LOY_ID_SIZE])
{
	for (int i = 0; i < LOY_ID_SIZE; i++)
		snprintf(out + 2 * i, 3, "%02x", id[i]);
}

static void assert_damage(struct fx *f, const char *table_key)
{
	const char *d = loy_ledger_damage(f->l);
	assert_non_null(d);
	if (strstr(d, table_key) == NULL)
		fail_msg("damage \"%s\" does not name \"%s\"", d, table_key);
	assert_non_null(strstr(d, "data.mdb damaged"));
	assert_non_null(strstr(d, "fails its integrity check"));
}

static void test_truncated_store_refused(void **state)
{
	struct fx *f = fx_new(2, 0);
	char file[128], err[512] = "";
	struct loy_ledger *l = NULL;
	struct stat st;
	(void)state;
	build_chain(f);
	fx_close(f);
	snprintf(file, sizeof file, "%s/data.mdb", f->dir);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(truncate(file, st.st_size / 2 / 4096 * 4096), 0);
	assert_int_equal(
	    loy_ledger_open(f->dir, 0, 64ull << 20, &l, err, sizeof err),
	    LOY_ECORRUPT);
	assert_non_null(strstr(err, "truncated"));
	assert_null(l);
	fx_free(f);
}

static void test_damaged_tip_refused(void **state)
{
	struct fx *f = fx_new(2, 0);
	char err[512] = "";
	struct loy_buf blk = {0};
	uint64_t h;
	(void)state;
	build_chain(f);
	assert_int_equal(loy_ledger_tip(f->l, &h, NULL, NULL, NULL), 0);
	assert_int_equal(loy_ledger_block(f->l, h, &blk, NULL), 0);
	fx_close(f);
	/* one byte of the tip block's last transaction's signature */
	assert_true(flip_all(f->dir, blk.data, blk.len, blk.len - 3) >= 1);
	loy_buf_free(&blk);
	assert_int_equal(fx_reopen(f, err, sizeof err), LOY_ECORRUPT);
	assert_non_null(strstr(err, "data.mdb damaged: blocks record "
				    "0000000000000016 fails its integrity "
				    "check"));
	assert_null(f->l);
	fx_free(f);
}

/* (a) a byte of a customer's balance: reads and executions that touch it
 * fail, others still answer, and the ledger then refuses every write. */
static void test_flipped_state_record(void **state)
{
	struct fx *f = fx_new(2, 0);
	char err[512] = "", hex[41];
	struct loy_tx tx;
	struct loy_buf b;
	struct loy_tx_result res;
	uint8_t *rec;
	uint64_t pts = 0;
	unsigned c, other;
	size_t n;
	(void)state;
	fx_rule(f, 0, 1, 1, 0);
	c = middle_customer(f);
	other = c == 100 ? 101 : 100;
	assert_int_equal(fx_issue(f, 0, c, 500, "r1", "buy", NULL), 0);
	assert_int_equal(fx_issue(f, 0, other, 700, "r2", "buy", NULL), 0);
	fx_close(f);
	n = raw_get(f->dir, "accounts", fx_key(f, c)->id, LOY_ID_SIZE, &rec);
	assert_int_equal(n, 2 + 32 + 20 + 8 + 8 + LOY_STORE_TAG_SIZE);
	/* the low byte of the balance: 500 would read as 496 */
	assert_true(flip_all(f->dir, rec, n, 2 + 32 + 20 + 7) >= 1);
	free(rec);

	assert_int_equal(fx_reopen(f, err, sizeof err), 0);
	/* an unrelated record still reads */
	assert_int_equal(loy_ledger_balance(f->l, fx_key(f, other)->id, &pts),
			 0);
	assert_int_equal(pts, 700);
	assert_null(loy_ledger_damage(f->l));
	/* the damaged one is an error, never 496 */
	pts = 0;
	assert_int_equal(loy_ledger_balance(f->l, fx_key(f, c)->id, &pts),
			 LOY_ECORRUPT);
	assert_int_not_equal(pts, 496);
	id_hex(hex, fx_key(f, c)->id);
	{
		char want[80];
		snprintf(want, sizeof want, "accounts record %s", hex);
		assert_damage(f, want);
	}
	/* executing against it fails with the damage, not a result */
	fx_tx(f, &tx, LOY_TX_REDEEM, c);
	memcpy(tx.u.redeem.member, fx_key(f, 0)->id, LOY_ID_SIZE);
	tx.u.redeem.amount = 10;
	snprintf(tx.u.redeem.reference, sizeof tx.u.redeem.reference, "x");
	fx_enc(f, &tx, c, &b);
	assert_int_equal(
	    loy_ledger_check_tx(f->l, b.data, b.len, f->time_ms, 0, &res),
	    LOY_ECORRUPT);
	assert_non_null(strstr(loy_ledger_errmsg(f->l), "accounts record"));
	loy_buf_free(&b);
	/* and so does everything written from now on */
	fx_tx(f, &tx, LOY_TX_CUSTOMER_REGISTER, 200);
	fx_enc(f, &tx, 200, &b);
	assert_int_equal(
	    loy_ledger_check_tx(f->l, b.data, b.len, f->time_ms, 0, &res),
	    LOY_ECORRUPT);
	loy_buf_free(&b);
	/* the store audit finds it too */
	assert_int_equal(loy_ledger_verify_store(f->l, err, sizeof err),
			 LOY_ECORRUPT);
	assert_non_null(strstr(err, "accounts record"));
	fx_free(f);
}

/* The damage is found whichever thread reads it first: a fresh handle
 * executing a block (not a query) meets it as well. */
static void test_flipped_state_record_on_execute(void **state)
{
	struct fx *f = fx_new(2, 0);
	char err[512] = "";
	uint8_t *rec;
	unsigned c;
	size_t n;
	(void)state;
	fx_rule(f, 0, 1, 1, 0);
	c = middle_customer(f);
	assert_int_equal(fx_issue(f, 0, c, 500, "r1", "buy", NULL), 0);
	fx_close(f);
	n = raw_get(f->dir, "accounts", fx_key(f, c)->id, LOY_ID_SIZE, &rec);
	assert_true(flip_all(f->dir, rec, n, 1) >= 1); /* "active" */
	free(rec);
	assert_int_equal(fx_reopen(f, err, sizeof err), 0);
	{
		struct loy_tx tx;
		struct loy_buf b, blk, cert;
		uint8_t sks[2][LOY_SECKEY_SIZE];
		struct loy_tx_result res[1];
		memcpy(sks[0], fx_key(f, 0)->sk, LOY_SECKEY_SIZE);
		memcpy(sks[1], fx_key(f, 1)->sk, LOY_SECKEY_SIZE);
		fx_tx(f, &tx, LOY_TX_REWARD_ISSUE, 0);
		memcpy(tx.u.reward_issue.customer, fx_key(f, c)->id,
		       LOY_ID_SIZE);
		tx.u.reward_issue.purchase = 5;
		snprintf(tx.u.reward_issue.reference,
			 sizeof tx.u.reward_issue.reference, "r2");
		fx_enc(f, &tx, 0, &b);
		assert_int_equal(
		    loy_ledger_build_block(f->l, &b, 1, f->time_ms, 0, sks[0],
					   (const uint8_t(*)[64])sks, 2, &blk,
					   &cert, res),
		    LOY_ECORRUPT);
		loy_buf_free(&b);
	}
	assert_non_null(strstr(loy_ledger_errmsg(f->l), "accounts record"));
	assert_non_null(loy_ledger_damage(f->l));
	fx_free(f);
}

/* (b) a byte of an older block (not the tip, which the open checks): the
 * open succeeds, reading that block fails, the audit names it. */
static void test_flipped_old_block(void **state)
{
	struct fx *f = fx_new(2, 0);
	char err[512] = "";
	struct loy_buf blk = {0}, c = {0};
	struct loy_audit_report rep;
	uint8_t key[8] = {0, 0, 0, 0, 0, 0, 0, 3}, *rec;
	size_t n;
	(void)state;
	build_chain(f);
	fx_close(f);
	n = raw_get(f->dir, "blocks", key, 8, &rec);
	assert_true(flip_all(f->dir, rec, n, n / 2) >= 1);
	free(rec);
	assert_int_equal(fx_reopen(f, err, sizeof err), 0);
	assert_int_equal(loy_ledger_block(f->l, 2, &blk, &c), 0);
	loy_buf_free(&blk);
	loy_buf_free(&c);
	assert_int_equal(loy_ledger_block(f->l, 3, &blk, &c), LOY_ECORRUPT);
	assert_null(blk.data);
	assert_damage(f, "blocks record 0000000000000003");
	fx_close(f);
	assert_int_equal(loy_audit_datadir(&f->g, f->dir, NULL, &rep),
			 LOY_ECORRUPT);
	assert_int_equal(rep.height, 3);
	assert_non_null(strstr(rep.reason, "blocks record 0000000000000003"));
	fx_free(f);
}

/* (c) a byte of a key: the record no longer sits under its key, yet it
 * must not read as absent (an unregistered customer, zero points). */
static void flipped_key(size_t at)
{
	struct fx *f = fx_new(2, 0);
	char err[512] = "";
	uint8_t *rec, *needle;
	uint64_t pts = 0;
	struct loy_account_info ai;
	unsigned c;
	size_t n;
	c = middle_customer(f);
	fx_rule(f, 0, 1, 1, 0);
	assert_int_equal(fx_issue(f, 0, c, 500, "r1", "buy", NULL), 0);
	fx_close(f);
	/* an LMDB leaf node holds the key and then the value */
	n = raw_get(f->dir, "accounts", fx_key(f, c)->id, LOY_ID_SIZE, &rec);
	needle = malloc(LOY_ID_SIZE + n);
	memcpy(needle, fx_key(f, c)->id, LOY_ID_SIZE);
	memcpy(needle + LOY_ID_SIZE, rec, n);
	assert_true(flip_all(f->dir, needle, LOY_ID_SIZE + n, at) >= 1);
	free(needle);
	free(rec);
	assert_int_equal(fx_reopen(f, err, sizeof err), 0);
	assert_int_equal(loy_ledger_balance(f->l, fx_key(f, c)->id, &pts),
			 LOY_ECORRUPT);
	assert_int_equal(loy_ledger_account(f->l, fx_key(f, c)->id, &ai),
			 LOY_ECORRUPT);
	assert_damage(f, "accounts record");
	/* the store audit walks into it */
	assert_int_equal(loy_ledger_verify_store(f->l, err, sizeof err),
			 LOY_ECORRUPT);
	fx_free(f);
}

static void test_flipped_key_last_byte(void **state)
{
	(void)state;
	flipped_key(LOY_ID_SIZE - 1);
}

static void test_flipped_key_first_byte(void **state)
{
	(void)state;
	flipped_key(0); /* the record's sort position moves far away */
}

/* A byte of LMDB's own page layout: the pointer to a customer's record in
 * its leaf page now points at the next record (whose tag is fine), so the
 * customer's record is no longer reachable. Reading it must not say "no
 * such customer"; the store check finds the disorder. */
static void test_damaged_node_pointer(void **state)
{
	struct fx *f = fx_new(2, 0);
	char err[512] = "";
	uint8_t *rec, *img, *id, *needle;
	uint64_t pts = 0;
	long size;
	size_t n;
	unsigned c;
	int hits = 0;
	(void)state;
	c = middle_customer(f);
	fx_close(f);
	id = fx_key(f, c)->id;
	n = raw_get(f->dir, "accounts", id, LOY_ID_SIZE, &rec);
	needle = malloc(LOY_ID_SIZE + n);
	assert_non_null(needle);
	memcpy(needle, id, LOY_ID_SIZE);
	memcpy(needle + LOY_ID_SIZE, rec, n);
	img = file_read(f->dir, &size);
	for (uint8_t *p = img; (p = memmem(p, (size_t)(img + size - p), needle,
					   LOY_ID_SIZE + n)) != NULL;
	     p += LOY_ID_SIZE + n) {
		/* LMDB 0.9 page: pgno 8, pad 2, flags 2, lower 2, upper 2,
		 * then one 2-byte pointer per node; a node is 8 bytes of
		 * header and then its key */
		uint8_t *page = img + (p - img) / 4096 * 4096;
		unsigned lower = (unsigned)(page[12] | page[13] << 8);
		unsigned keys = (lower - 16) / 2,
			 node = (unsigned)(p - page) - 8;
		for (unsigned i = 0; i + 1 < keys; i++) {
			uint8_t *ptr = page + 16 + 2 * i;
			if ((unsigned)(ptr[0] | ptr[1] << 8) == node) {
				memcpy(ptr, ptr + 2, 2);
				hits++;
				break;
			}
		}
	}
	assert_true(hits >= 1);
	file_write(f->dir, img, size);
	free(img);
	free(needle);
	free(rec);
	assert_int_equal(fx_reopen(f, err, sizeof err), 0);
	assert_int_equal(loy_ledger_balance(f->l, id, &pts), LOY_ECORRUPT);
	assert_non_null(strstr(loy_ledger_damage(f->l), "accounts record"));
	assert_int_equal(loy_ledger_verify_store(f->l, err, sizeof err),
			 LOY_ECORRUPT);
	fx_free(f);
}

/* A page LMDB itself finds broken (a leaf page whose flags no longer say
 * leaf): a clear refusal at open, not a crash. */
static void test_broken_page_refused(void **state)
{
	struct fx *f = fx_new(2, 0);
	char err[512] = "";
	uint8_t *rec, *img;
	long size;
	size_t n;
	int hits = 0;
	(void)state;
	fx_register(f, 100);
	fx_close(f);
	n = raw_get(f->dir, "accounts", fx_key(f, 100)->id, LOY_ID_SIZE, &rec);
	img = file_read(f->dir, &size);
	for (uint8_t *p = img;
	     (p = memmem(p, (size_t)(img + size - p), rec, n)) != NULL;
	     p += n) {
		/* the page header: pgno (8), pad (2), flags (2) */
		uint8_t *page = img + (p - img) / 4096 * 4096;
		page[10] = 0;
		page[11] = 0;
		hits++;
	}
	assert_true(hits >= 1);
	file_write(f->dir, img, size);
	free(img);
	free(rec);
	assert_int_equal(fx_reopen(f, err, sizeof err), LOY_ECORRUPT);
	if (strstr(err, "data.mdb damaged") == NULL)
		fail_msg("open says \"%s\"", err);
	fx_free(f);
}

/* A page number in LMDB's free-page list that points past the file: no
 * read looks at the list, and the next write would take that page (and
 * fail with EFBIG, long after the node started). The full check refuses
 * the store and names the list. */
static void test_damaged_free_list_refused(void **state)
{
	struct fx *f = fx_new(2, 0);
	char err[512] = "";
	MDB_env *env;
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k, v;
	MDB_envinfo info;
	uint8_t *entry, *img;
	long size;
	size_t n, len, pg;
	int hits = 0;
	(void)state;
	build_chain(f);
	fx_close(f);
	/* the first entry of the list (freed pages exist after 20 blocks) */
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 64), 0);
	assert_int_equal(mdb_env_open(env, f->dir, MDB_RDONLY, 0600), 0);
	assert_int_equal(mdb_env_info(env, &info), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_cursor_open(txn, 0, &c), 0);
	assert_int_equal(mdb_cursor_get(c, &k, &v, MDB_FIRST), 0);
	memcpy(&n, v.mv_data, sizeof n);
	assert_true(n >= 1);
	len = v.mv_size;
	entry = malloc(len);
	assert_non_null(entry);
	memcpy(entry, v.mv_data, len);
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	/* its first page number (and that of any old copy) past the file */
	img = file_read(f->dir, &size);
	for (uint8_t *p = img;
	     (p = memmem(p, (size_t)(img + size - p), entry, len)) != NULL;
	     p += len) {
		memcpy(&pg, p + sizeof n, sizeof pg);
		pg += (size_t)info.me_last_pgno + 1000;
		memcpy(p + sizeof n, &pg, sizeof pg);
		hits++;
	}
	assert_true(hits >= 1);
	file_write(f->dir, img, size);
	free(img);
	free(entry);
	assert_int_equal(loy_ledger_open(f->dir, LOY_LEDGER_RDONLY, 64ull << 20,
					 &f->l, err, sizeof err),
			 0);
	assert_int_equal(loy_ledger_verify_store(f->l, err, sizeof err),
			 LOY_ECORRUPT);
	if (strstr(err, "free-page list") == NULL ||
	    strstr(err, "outside the file") == NULL ||
	    strstr(err, "data.mdb damaged") == NULL)
		fail_msg("the check says \"%s\"", err);
	fx_free(f);
}

/* The intact store passes the full check; an old-format store (schema 1,
 * no tags) is refused with a message that says so. */
/* Writes the store format record of a closed store (value v as stored,
 * tag or none) with LMDB itself. */
static void put_schema(const char *dir, MDB_val *v)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {6, "schema"};

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 64), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &k, v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void test_old_format_refused(void **state)
{
	struct fx *f = fx_new(2, 0);
	char err[512] = "";
	uint8_t one[4] = {0, 0, 0, 1};
	MDB_val v = {4, one};
	(void)state;
	build_chain(f);
	assert_int_equal(loy_ledger_verify_store(f->l, err, sizeof err), 0);
	fx_close(f);
	put_schema(f->dir, &v);
	assert_int_equal(fx_reopen(f, err, sizeof err), LOY_ECORRUPT);
	if (strstr(err, "format 1") == NULL)
		fail_msg("open says \"%s\"", err);
	fx_free(f);
}

/* A tagged store of an earlier format (3: issue records keyed by hash) is
 * refused with the way out. */
static void test_earlier_tagged_format_refused(void **state)
{
	struct fx *f = fx_new(2, 0);
	char err[512] = "";
	uint8_t three[4 + LOY_STORE_TAG_SIZE] = {0, 0, 0, 3};
	MDB_val v = {sizeof three, three};
	(void)state;
	build_chain(f);
	fx_close(f);
	loy_store_tag(three + 4, "meta", "schema", 6, three, 4);
	put_schema(f->dir, &v);
	assert_int_equal(fx_reopen(f, err, sizeof err), LOY_ECORRUPT);
	if (strstr(err, "format 3; this loyd needs format 4") == NULL ||
	    strstr(err, "resync") == NULL)
		fail_msg("open says \"%s\"", err);
	fx_free(f);
}

/* A store that reaches its map size stops with what to do about it. */
static void test_map_full_says_what_to_do(void **state)
{
	struct fx *f = fx_new(2, 0);
	char err[256];
	int rc = 0;
	(void)state;
	loy_ledger_close(f->l);
	/* LMDB raises a map smaller than the file to the file's size: no
	 * room left beyond the pages it has */
	assert_int_equal(
	    loy_ledger_open(f->dir, 0, 4096, &f->l, err, sizeof err), 0);
	for (unsigned i = 0; i < 400 && rc == 0; i++) {
		struct loy_tx tx;
		struct loy_buf b;
		fx_tx(f, &tx, LOY_TX_CUSTOMER_REGISTER, 100 + i);
		fx_enc(f, &tx, 100 + i, &b);
		f->time_ms += 1000;
		rc = fx_commit(f, &b, 1);
	}
	assert_int_not_equal(rc, 0);
	assert_non_null(strstr(loy_ledger_errmsg(f->l), "MDB_MAP_FULL"));
	assert_non_null(strstr(loy_ledger_errmsg(f->l), "map_size_mb"));
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_truncated_store_refused),
	    cmocka_unit_test(test_damaged_tip_refused),
	    cmocka_unit_test(test_flipped_state_record),
	    cmocka_unit_test(test_flipped_state_record_on_execute),
	    cmocka_unit_test(test_flipped_old_block),
	    cmocka_unit_test(test_flipped_key_last_byte),
	    cmocka_unit_test(test_flipped_key_first_byte),
	    cmocka_unit_test(test_damaged_node_pointer),
	    cmocka_unit_test(test_broken_page_refused),
	    cmocka_unit_test(test_damaged_free_list_refused),
	    cmocka_unit_test(test_old_format_refused),
	    cmocka_unit_test(test_earlier_tagged_format_refused),
	    cmocka_unit_test(test_map_full_says_what_to_do),
	};
	if (loy_crypto_init() != 0)
		return 1;
	return cmocka_run_group_tests_name("ledger_damage", tests, NULL, NULL);
}
