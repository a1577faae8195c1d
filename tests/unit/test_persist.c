/* consensus.state: the newest durable record is what a restart reads; a
 * write torn by a crash falls back to the previous record; damage to both
 * slots stops the node; the older single-record format is converted. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "node/persist.h"
#include "wire/crypto.h"
#include "wire/error.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/loy-persist-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof path, "%s/consensus.state", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd);
}

/* A record at height h; with a prepared certificate and block when
 * block_len > 0. */
static void make_rec(struct loy_persist_copy *c, uint64_t h, size_t block_len,
		     uint8_t *block)
{
	memset(c, 0, sizeof *c);
	c->rec.height = h;
	c->rec.view = h % 3;
	c->rec.voted_prepare = 1;
	memset(c->rec.prepare_hash, (int)(h & 0xff), LOY_HASH_SIZE);
	if (block_len > 0) {
		struct loy_cert *p = &c->rec.prepared;
		c->rec.has_prepared = 1;
		p->type = 1;
		snprintf(p->chain_id, sizeof p->chain_id, "test");
		p->height = h;
		p->view = c->rec.view;
		memset(p->block_hash, 7, LOY_HASH_SIZE);
		p->sig_count = 1;
		memset(p->sigs[0].validator, 9, sizeof p->sigs[0].validator);
		memset(p->sigs[0].sig, 5, sizeof p->sigs[0].sig);
		memset(block, (int)(h & 0xff), block_len);
		c->block.data = block;
		c->block.len = block_len;
	}
}

static uint64_t open_height(int *rv)
{
	struct loy_persist_file *f = NULL;
	struct loy_persist_copy c;
	char err[256] = "";
	uint64_t h = 0;

	*rv = loy_persist_open(dir, &f, &c, err, sizeof err);
	if (*rv == 0) {
		h = c.rec.height;
		loy_persist_copy_free(&c);
	}
	loy_persist_close(f);
	return h;
}

static void write_heights(uint64_t from, uint64_t to, size_t block_len)
{
	struct loy_persist_file *f = NULL;
	struct loy_persist_copy c, got;
	uint8_t *block = malloc(block_len + 1);
	char err[256] = "";
	int rv = loy_persist_open(dir, &f, &got, err, sizeof err);

	assert_true(rv == 0 || rv == LOY_ENOTFOUND);
	if (rv == 0)
		loy_persist_copy_free(&got);
	for (uint64_t h = from; h <= to; h++) {
		make_rec(&c, h, block_len, block);
		assert_int_equal(loy_persist_write(f, &c, err, sizeof err), 0);
	}
	loy_persist_close(f);
	free(block);
}

static void test_new_then_newest_wins(void **state)
{
	int rv;
	(void)state;
	(void)open_height(&rv);
	assert_int_equal(rv, LOY_ENOTFOUND);
	for (uint64_t n = 1; n <= 5; n++) {
		write_heights(n * 10, n * 10 + n - 1, 100);
		assert_int_equal(open_height(&rv), n * 10 + n - 1);
		assert_int_equal(rv, 0);
	}
}

static void test_prepared_block_round_trip(void **state)
{
	struct loy_persist_file *f = NULL;
	struct loy_persist_copy c;
	char err[256];
	(void)state;
	write_heights(41, 42, 3000);
	assert_int_equal(loy_persist_open(dir, &f, &c, err, sizeof err), 0);
	assert_int_equal(c.rec.height, 42);
	assert_true(c.rec.has_prepared);
	assert_int_equal(c.rec.prepared.height, 42);
	assert_int_equal(c.rec.prepared.sig_count, 1);
	assert_int_equal(c.rec.prepared_block_len, 3000);
	assert_int_equal(c.rec.prepared_block[2999], 42);
	loy_persist_copy_free(&c);
	loy_persist_close(f);
}

/* Flips one byte at off. */
static void flip(off_t off)
{
	int fd = open(path, O_RDWR);
	uint8_t b = 0;
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, off), 1);
	b ^= 0x40;
	assert_int_equal(pwrite(fd, &b, 1, off), 1);
	close(fd);
}

static off_t slot_size(void)
{
	struct stat st;
	/* two records written: the file ends inside slot 1 */
	assert_int_equal(stat(path, &st), 0);
	return st.st_size & ~(off_t)4095;
}

static void test_torn_newest_falls_back(void **state)
{
	int rv;
	(void)state;
	write_heights(1, 2, 50); /* 1 in slot 0, 2 in slot 1 */
	flip(slot_size() + 40);  /* height 2's record, torn */
	assert_int_equal(open_height(&rv), 1);
	assert_int_equal(rv, 0);
	/* the next write goes after the intact record and wins */
	write_heights(7, 7, 50);
	assert_int_equal(open_height(&rv), 7);
}

static void test_both_damaged_refused(void **state)
{
	int rv;
	(void)state;
	write_heights(1, 2, 50);
	flip(40);
	flip(slot_size() + 40);
	(void)open_height(&rv);
	assert_int_equal(rv, LOY_ECORRUPT);
}

static void test_first_write_torn_is_new(void **state)
{
	int rv;
	(void)state;
	write_heights(1, 1, 0);
	flip(30);
	(void)open_height(&rv);
	assert_int_equal(rv, LOY_ENOTFOUND);
}

/* The earlier format: "LOYCS001", fields, BLAKE2b of all before. */
static void test_old_format_converted(void **state)
{
	uint8_t img[256], *p = img;
	uint64_t h = 77, v = 2;
	int fd, rv;
	(void)state;
	memcpy(p, "LOYCS001", 8), p += 8;
	for (int i = 0; i < 8; i++)
		*p++ = (uint8_t)(h >> (8 * i));
	for (int i = 0; i < 8; i++)
		*p++ = (uint8_t)(v >> (8 * i));
	*p++ = 0; /* in_view_change */
	*p++ = 0; /* proposed */
	memset(p, 0, 32), p += 32;
	*p++ = 1; /* voted_prepare */
	memset(p, 3, 32), p += 32;
	*p++ = 0; /* voted_commit */
	memset(p, 0, 32), p += 32;
	*p++ = 0; /* has_prepared */
	loy_hash(p, img, (size_t)(p - img));
	p += 32;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, img, (size_t)(p - img)), p - img);
	close(fd);
	assert_int_equal(open_height(&rv), 77);
	assert_int_equal(rv, 0);
	/* converted: later writes and reads use the slots */
	write_heights(78, 80, 10);
	assert_int_equal(open_height(&rv), 80);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_new_then_newest_wins, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_prepared_block_round_trip,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_torn_newest_falls_back, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_both_damaged_refused, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_first_write_torn_is_new, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_old_format_converted, setup,
					    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
