/* Asynchronous flushes (ledger/checkpoint.c): data.mdb committed without
 * waiting for the disk, the wait left to loy_ledger_checkpoint. A process
 * crash loses nothing; a machine crash (an earlier boot's id in
 * data_dir/checkpoint) rolls data.mdb back to its last transaction on disk
 * and the block log applies the rest; where that cannot be done the store
 * is refused, never trusted. */
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define NBLOCKS 12
#include "tests/unit/test_ledger_chain.h"

#include "tests/checkpoint_fake.h"

#define SLOT 512

static bool exists(const char *dir, const char *name)
{
	char p[600];
	struct stat st;
	snprintf(p, sizeof p, "%s/%s", dir, name);
	return stat(p, &st) == 0;
}

/* A child applies blocks 1..durable and flushes durably, then
 * durable+1..async and flushes asynchronously (no checkpoint), then
 * async+1..last into the group, and dies without closing. */
static void run_then_die(struct fx *d, struct chain *ch, uint64_t durable,
			 uint64_t async, uint64_t last)
{
	pid_t pid = fork();
	int st;
	assert_true(pid >= 0);
	if (pid == 0) {
		struct loy_ledger *l;
		bool was_async = false;
		if (loy_ledger_open(d->dir, LOY_LEDGER_GROUP, 64ull << 20, &l,
				    NULL, 0) != 0)
			_exit(2);
		for (uint64_t h = 1; h <= last; h++) {
			if (apply_h(l, ch, h, LOY_APPLY_GROUP) != 0)
				_exit(3);
			if (h == durable && loy_ledger_flush(l) != 0)
				_exit(4);
			if (h == async &&
			    (loy_ledger_flush_async(l, &was_async) != 0 ||
			     !was_async))
				_exit(5);
		}
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void replay_to(struct fx *d, const struct chain *ch, uint32_t want,
		      uint64_t tip)
{
	uint32_t replayed = 99;
	char err[256];
	assert_int_equal(loy_ledger_replay_log(d->l, &replayed), 0);
	assert_int_equal(replayed, want);
	assert_tip(d->l, ch, tip);
	assert_int_equal(loy_ledger_check_invariants(d->l, err, sizeof err), 0);
}

/* The writer goes on while the flush waits; readers see it at once; the
 * next flush first waits for the previous one; a checkpoint with nothing
 * pending returns at once. */
static void test_async_flush(void **state)
{
	struct fx *f = fx_new(4, 0), *d = fx_new(4, 0);
	struct chain *ch = calloc(1, sizeof *ch);
	bool async = false;
	uint32_t blocks, txs;
	(void)state;
	build_chain(f, ch);
	reopen_fresh(d);
	assert_false(exists(d->dir, "checkpoint"));

	assert_int_equal(fx_open_dir(d, d->dir, LOY_LEDGER_GROUP), 0);
	/* nothing to flush */
	assert_int_equal(loy_ledger_flush_async(d->l, &async), 0);
	assert_false(async);
	for (uint64_t h = 1; h <= 4; h++)
		assert_int_equal(apply_h(d->l, ch, h, LOY_APPLY_GROUP), 0);
	assert_int_equal(loy_ledger_flush_async(d->l, &async), 0);
	assert_true(async);
	assert_true(exists(d->dir, "checkpoint"));
	assert_true(exists(d->dir, "blocks2.wal"));
	assert_int_equal(tip_elsewhere(d->l), 4);
	loy_ledger_group_size(d->l, &blocks, &txs, NULL);
	assert_int_equal(blocks, 0);
	for (uint64_t h = 5; h <= 8; h++)
		assert_int_equal(apply_h(d->l, ch, h, LOY_APPLY_GROUP), 0);
	assert_int_equal(loy_ledger_flush_async(d->l, &async), 0);
	assert_true(async);
	assert_int_equal(loy_ledger_checkpoint(d->l), 0);
	assert_int_equal(loy_ledger_checkpoint(d->l), 0);
	/* blocks caught up from peers (not in the log): flushed durably */
	assert_int_equal(
	    apply_h(d->l, ch, 9, LOY_APPLY_GROUP | LOY_APPLY_UNLOGGED), 0);
	assert_int_equal(loy_ledger_flush_async(d->l, &async), 0);
	assert_false(async);
	assert_int_equal(tip_elsewhere(d->l), 9);
	loy_ledger_close(d->l);
	d->l = NULL;

	assert_int_equal(fx_open_dir(d, d->dir, LOY_LEDGER_GROUP), 0);
	assert_null(loy_ledger_open_note(d->l));
	assert_tip(d->l, ch, 9);
	replay_to(d, ch, 0, 9);
	assert_int_equal(ckpt_fake_durable(d->dir),
			 ckpt_fake_newest_txn(d->dir));
	loy_ledger_close(d->l);
	d->l = NULL;

	/* data.mdb moved away, the checkpoint left behind: the new store's
	 * count starts again rather than stay under the old one's */
	char p[600];
	snprintf(p, sizeof p, "%s/data.mdb", d->dir);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(fx_open_dir(d, d->dir, LOY_LEDGER_GROUP), 0);
	assert_int_equal(loy_ledger_init_genesis(d->l, &d->g), 0);
	assert_int_equal(apply_h(d->l, ch, 1, LOY_APPLY_GROUP), 0);
	assert_int_equal(loy_ledger_flush_async(d->l, &async), 0);
	assert_true(async);
	assert_int_equal(loy_ledger_checkpoint(d->l), 0);
	assert_int_equal(ckpt_fake_durable(d->dir),
			 ckpt_fake_newest_txn(d->dir));
	teardown(f, ch, d);
}

/* The process dies after an asynchronous flush, before its checkpoint:
 * the kernel still holds data.mdb's pages, so the store is trusted as it
 * is (and synced at once); the log applies the blocks after it. */
static void test_process_crash(void **state)
{
	struct fx *f = fx_new(4, 0), *d = fx_new(4, 0);
	struct chain *ch = calloc(1, sizeof *ch);
	(void)state;
	build_chain(f, ch);
	reopen_fresh(d);
	run_then_die(d, ch, 3, 7, 10);
	assert_int_equal(fx_open_dir(d, d->dir, LOY_LEDGER_GROUP), 0);
	assert_null(loy_ledger_open_note(d->l));
	assert_tip(d->l, ch, 7);
	replay_to(d, ch, 3, 10);
	teardown(f, ch, d);
}

/* The machine stops after an asynchronous flush, before its checkpoint,
 * and the pages that flush appended are lost: data.mdb is rolled back to
 * its last transaction on disk and the two log files give back every
 * block after it, in order. */
static void test_machine_crash(void **state)
{
	struct fx *f = fx_new(4, 0), *d = fx_new(4, 0);
	struct chain *ch = calloc(1, sizeof *ch);
	(void)state;
	build_chain(f, ch);
	reopen_fresh(d);
	run_then_die(d, ch, 3, 7, 10);
	assert_int_equal(ckpt_fake_crash_before_sync(d->dir), 0);

	assert_int_equal(fx_open_dir(d, d->dir, LOY_LEDGER_GROUP), 0);
	assert_non_null(loy_ledger_open_note(d->l));
	assert_non_null(strstr(loy_ledger_open_note(d->l), "rolled"));
	assert_tip(d->l, ch, 3);
	replay_to(d, ch, 7, 10);
	/* the chain goes on from there */
	for (uint64_t h = 11; h <= NBLOCKS; h++)
		assert_int_equal(apply_h(d->l, ch, h, LOY_APPLY_GROUP), 0);
	assert_int_equal(loy_ledger_flush(d->l), 0);
	loy_ledger_close(d->l);
	d->l = NULL;
	assert_int_equal(fx_open_dir(d, d->dir, LOY_LEDGER_GROUP), 0);
	assert_null(loy_ledger_open_note(d->l));
	replay_to(d, ch, 0, NBLOCKS);
	teardown(f, ch, d);
}

/* Where the checkpoint cannot vouch for the store, it is refused with the
 * way out: commits made without waiting after the last checkpoint (blocks
 * caught up from peers, which the log does not hold), and a damaged
 * checkpoint file. */
static void test_refused(void **state)
{
	struct fx *f = fx_new(4, 0), *d = fx_new(4, 0);
	struct chain *ch = calloc(1, sizeof *ch);
	struct loy_ledger *l = NULL;
	bool async, durable;
	char err[512];
	pid_t pid;
	int st;
	(void)state;
	build_chain(f, ch);
	reopen_fresh(d);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (loy_ledger_open(d->dir, LOY_LEDGER_GROUP, 64ull << 20, &l,
				    NULL, 0) != 0 ||
		    apply_h(l, ch, 1, LOY_APPLY_GROUP) != 0 ||
		    loy_ledger_flush_async(l, &async) != 0 ||
		    loy_ledger_checkpoint(l) != 0)
			_exit(2);
		for (uint64_t h = 2; h <= 3; h++)
			if (apply_h(l, ch, h,
				    LOY_APPLY_GROUP | LOY_APPLY_UNLOGGED) !=
				0 ||
			    loy_ledger_flush_unsynced(l, &durable) != 0 ||
			    durable)
				_exit(3);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_true(ckpt_fake_earlier_boot(d->dir) > 0);
	assert_int_equal(
	    loy_ledger_open(d->dir, LOY_LEDGER_GROUP, 0, &l, err, sizeof err),
	    LOY_ECORRUPT);
	assert_non_null(strstr(err, "resync"));

	/* both records damaged */
	char p[600];
	snprintf(p, sizeof p, "%s/checkpoint", d->dir);
	int fd = open(p, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "x", 1, 30), 1);
	assert_int_equal(pwrite(fd, "x", 1, SLOT + 30), 1);
	close(fd);
	assert_int_equal(
	    loy_ledger_open(d->dir, LOY_LEDGER_GROUP, 0, &l, err, sizeof err),
	    LOY_ECORRUPT);
	assert_non_null(strstr(err, "checkpoint: damaged"));
	teardown(f, ch, d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_async_flush),
	    cmocka_unit_test(test_process_crash),
	    cmocka_unit_test(test_machine_crash),
	    cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
