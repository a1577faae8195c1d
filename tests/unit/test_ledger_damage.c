/* A damaged store is refused at open with a message naming the damage: a
 * truncated data.mdb (LMDB would fault reading past the end), and a tip
 * block whose bytes no longer match its hash. */
#include <sys/stat.h>

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

static void test_truncated_store_refused(void **state)
{
	struct fx *f = fx_new(2, 0);
	char file[128], err[512] = "";
	struct loy_ledger *l = NULL;
	struct stat st;
	(void)state;
	build_chain(f);
	loy_ledger_close(f->l);
	f->l = NULL;
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
	char file[128], err[512] = "";
	struct loy_ledger *l = NULL;
	struct loy_buf blk = {0};
	uint64_t h;
	FILE *fp;
	uint8_t *img;
	long size;
	(void)state;
	build_chain(f);
	assert_int_equal(loy_ledger_tip(f->l, &h, NULL, NULL, NULL), 0);
	assert_int_equal(loy_ledger_block(f->l, h, &blk, NULL), 0);
	loy_ledger_close(f->l);
	f->l = NULL;
	/* find the tip block's bytes in the file and change one byte of its
	 * last transaction's signature */
	snprintf(file, sizeof file, "%s/data.mdb", f->dir);
	fp = fopen(file, "r+b");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	img = malloc((size_t)size);
	fseek(fp, 0, SEEK_SET);
	assert_int_equal(fread(img, 1, (size_t)size, fp), (size_t)size);
	{
		uint8_t *hit = memmem(img, (size_t)size, blk.data, blk.len);
		assert_non_null(hit);
		fseek(fp, (long)(hit - img) + (long)blk.len - 3, SEEK_SET);
		fputc(hit[blk.len - 3] ^ 0x01, fp);
	}
	fclose(fp);
	free(img);
	loy_buf_free(&blk);
	assert_int_equal(
	    loy_ledger_open(f->dir, 0, 64ull << 20, &l, err, sizeof err),
	    LOY_ECORRUPT);
	assert_non_null(strstr(err, "tip block"));
	assert_null(l);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_truncated_store_refused),
	    cmocka_unit_test(test_damaged_tip_refused),
	};
	if (loy_crypto_init() != 0)
		return 1;
	return cmocka_run_group_tests_name("ledger_damage", tests, NULL, NULL);
}
