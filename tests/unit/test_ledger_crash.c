/* Crash safety: a child process applies blocks and is killed with SIGKILL
 * at random moments, 100 times; after each, the reopened store's tip is a
 * complete block whose state root matches the replay, and every block the
 * child acknowledged (after its commit returned) is there. */
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#define NBLOCKS 120
#include "tests/unit/test_ledger_chain.h"

/* group: open in group mode, apply into the group (acknowledged once
 * the block log has it) and flush every 7 blocks, as a node does */
static void child_apply(const char *dir, struct chain *ch, int fd, int group)
{
	struct loy_ledger *l;
	uint64_t h;
	uint32_t replayed;
	if (loy_ledger_open(dir, group ? LOY_LEDGER_GROUP : 0, 64ull << 20, &l,
			    NULL, 0) != 0)
		_exit(2);
	if (group && loy_ledger_replay_log(l, &replayed) != 0)
		_exit(6);
	if (loy_ledger_tip(l, &h, NULL, NULL, NULL) != 0)
		_exit(3);
	for (h = h + 1; h <= NBLOCKS; h++) {
		if (loy_ledger_apply_block(
			l, ch->block[h].data, ch->block[h].len,
			ch->cert[h].data, ch->cert[h].len,
			group ? LOY_APPLY_GROUP : 0, NULL) != 0)
			_exit(4);
		if (group && h % 7 == 0 && loy_ledger_flush(l) != 0)
			_exit(7);
		uint8_t a[8];
		for (int i = 0; i < 8; i++)
			a[i] = (uint8_t)(h >> (56 - 8 * i));
		if (write(fd, a, 8) != 8)
			_exit(5);
	}
	loy_ledger_close(l);
	_exit(0);
}

static void kill9_rounds(int group)
{
	struct fx *f = fx_new(4, 0);
	struct chain *ch = calloc(1, sizeof *ch);
	struct fx *d = fx_new(4, 0); /* the victim's store */
	uint64_t seed = 0x1234567;
	unsigned kills = 0, completed = 0, replayed_total = 0;
	build_chain(f, ch);
	loy_ledger_close(d->l);
	d->l = NULL;
	for (int round = 0; round < 100; round++) {
		int p[2];
		assert_int_equal(pipe(p), 0);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(p[0]);
			child_apply(d->dir, ch, p[1], group);
		}
		close(p[1]);
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		struct timespec ts = {0, (long)(seed % 30000000)};
		nanosleep(&ts, NULL);
		if (kill(pid, SIGKILL) == 0)
			kills++;
		int st;
		assert_int_equal(waitpid(pid, &st, 0), pid);
		if (WIFEXITED(st)) {
			assert_int_equal(WEXITSTATUS(st), 0);
			completed++;
		}
		uint64_t acked = 0;
		uint8_t a[8];
		while (read(p[0], a, 8) == 8) {
			acked = 0;
			for (int i = 0; i < 8; i++)
				acked = acked << 8 | a[i];
		}
		close(p[0]);
		/* reopen: the tip is a whole block, and nothing acked is lost
		 */
		uint64_t h;
		uint8_t hash[32], root[32];
		assert_int_equal(
		    fx_open_dir(d, d->dir, group ? LOY_LEDGER_GROUP : 0), 0);
		if (group) {
			uint32_t replayed;
			assert_int_equal(loy_ledger_replay_log(d->l, &replayed),
					 0);
			replayed_total += replayed;
		}
		assert_int_equal(loy_ledger_tip(d->l, &h, hash, root, NULL), 0);
		assert_true(h >= acked);
		if (h > 0) {
			assert_memory_equal(hash, ch->hash[h], 32);
			assert_memory_equal(root, ch->root[h], 32);
		}
		char err[256];
		if (h > 0 && round % 10 == 0)
			assert_int_equal(
			    loy_ledger_check_invariants(d->l, err, sizeof err),
			    0);
		if (h == NBLOCKS) { /* start over from genesis */
			loy_ledger_close(d->l);
			fx_rmdir(d->dir);
			assert_int_equal(mkdir(d->dir, 0700), 0);
			assert_int_equal(fx_open_dir(d, d->dir, 0), 0);
			assert_int_equal(loy_ledger_init_genesis(d->l, &d->g),
					 0);
		}
		loy_ledger_close(d->l);
		d->l = NULL;
	}
	fprintf(stderr,
		"crash%s: %u kills, %u runs completed, %u blocks replayed "
		"from the block log\n",
		group ? " (group commit)" : "", kills, completed,
		replayed_total);
	if (group)
		assert_true(replayed_total > 0); /* the log was exercised */
	for (int h = 1; h <= NBLOCKS; h++) {
		loy_buf_free(&ch->block[h]);
		loy_buf_free(&ch->cert[h]);
	}
	free(ch);
	fx_free(d);
	fx_free(f);
}

static void test_kill9_while_applying(void **state)
{
	(void)state;
	kill9_rounds(0);
}

static void test_kill9_group_commit(void **state)
{
	(void)state;
	kill9_rounds(1);
}

/* Applies blocks 1..n into a group of a fresh store in group mode, then
 * "crashes" (the handle is dropped unflushed in a child). Returns the
 * store's directory owner. */
static void group_then_crash_from(struct fx *d, struct chain *ch, uint64_t n,
				  uint64_t unlogged_from, uint64_t unlogged_to);

static void group_then_crash(struct fx *d, struct chain *ch, uint64_t n)
{
	group_then_crash_from(d, ch, n, 0, 0);
}

/* As group_then_crash; blocks unlogged_from..unlogged_to are applied
 * LOY_APPLY_UNLOGGED (caught up from peers). */
static void group_then_crash_from(struct fx *d, struct chain *ch, uint64_t n,
				  uint64_t unlogged_from, uint64_t unlogged_to)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct loy_ledger *l;
		if (loy_ledger_open(d->dir, LOY_LEDGER_GROUP, 64ull << 20, &l,
				    NULL, 0) != 0)
			_exit(2);
		for (uint64_t h = 1; h <= n; h++)
			if (loy_ledger_apply_block(
				l, ch->block[h].data, ch->block[h].len,
				ch->cert[h].data, ch->cert[h].len,
				LOY_APPLY_GROUP |
				    (h >= unlogged_from && h <= unlogged_to
					 ? LOY_APPLY_UNLOGGED
					 : 0),
				NULL) != 0)
				_exit(3);
		_exit(0); /* no flush, no close */
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* Replays the block log of d's store; returns the tip after it. */
static uint64_t replay(struct fx *d, struct chain *ch, uint32_t want)
{
	uint32_t replayed = 99;
	uint64_t h;
	uint8_t root[32];
	assert_int_equal(fx_open_dir(d, d->dir, LOY_LEDGER_GROUP), 0);
	assert_int_equal(loy_ledger_tip(d->l, &h, NULL, NULL, NULL), 0);
	assert_int_equal(h, 0); /* data.mdb never got the group */
	assert_int_equal(loy_ledger_replay_log(d->l, &replayed), 0);
	assert_int_equal(replayed, want);
	assert_int_equal(loy_ledger_tip(d->l, &h, NULL, root, NULL), 0);
	if (h > 0)
		assert_memory_equal(root, ch->root[h], 32);
	/* the log is empty now: a second replay finds nothing */
	assert_int_equal(loy_ledger_replay_log(d->l, &replayed), 0);
	assert_int_equal(replayed, 0);
	loy_ledger_close(d->l);
	d->l = NULL;
	return h;
}

static void log_mangle(struct fx *d, long off_from_end, int truncate)
{
	char path[600];
	snprintf(path, sizeof path, "%s/blocks.wal", d->dir);
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	off_t end = lseek(fd, 0, SEEK_END);
	assert_true(end > off_from_end);
	if (truncate) {
		assert_int_equal(ftruncate(fd, end - off_from_end), 0);
	} else {
		uint8_t b;
		assert_int_equal(pread(fd, &b, 1, end - off_from_end), 1);
		b ^= 0x40;
		assert_int_equal(pwrite(fd, &b, 1, end - off_from_end), 1);
	}
	close(fd);
}

/* The block log: what a crash kept from data.mdb is applied at the next
 * start, up to the first torn or damaged record; readers on other threads
 * see data.mdb only, the writer thread sees the group. */
static void test_block_log(void **state)
{
	struct fx *f = fx_new(4, 0);
	struct chain *ch = calloc(1, sizeof *ch);
	struct fx *d = fx_new(4, 0);
	uint64_t h;
	(void)state;
	build_chain(f, ch);

	reopen_fresh(d);
	group_then_crash(d, ch, 5);
	assert_int_equal(replay(d, ch, 5), 5);

	reopen_fresh(d); /* the last record torn: 4 of 5 */
	group_then_crash(d, ch, 5);
	log_mangle(d, 10, 1);
	assert_int_equal(replay(d, ch, 4), 4);

	reopen_fresh(d); /* a flipped byte in the last record: 4 of 5 */
	group_then_crash(d, ch, 5);
	log_mangle(d, 100, 0);
	assert_int_equal(replay(d, ch, 4), 4);

	/* visibility: the group is the writer thread's until flushed */
	reopen_fresh(d);
	assert_int_equal(fx_open_dir(d, d->dir, LOY_LEDGER_GROUP), 0);
	for (h = 1; h <= 3; h++)
		assert_int_equal(loy_ledger_apply_block(
				     d->l, ch->block[h].data, ch->block[h].len,
				     ch->cert[h].data, ch->cert[h].len,
				     LOY_APPLY_GROUP, NULL),
				 0);
	assert_int_equal(loy_ledger_tip(d->l, &h, NULL, NULL, NULL), 0);
	assert_int_equal(h, 3);
	assert_int_equal(tip_elsewhere(d->l), 0);
	uint32_t blocks, txs;
	loy_ledger_group_size(d->l, &blocks, &txs, NULL);
	assert_int_equal(blocks, 3);
	assert_int_equal(loy_ledger_flush(d->l), 0);
	assert_int_equal(tip_elsewhere(d->l), 3);
	loy_ledger_group_size(d->l, &blocks, &txs, NULL);
	assert_int_equal(blocks, 0);
	/* a block applied without GROUP flushes the group with it */
	assert_int_equal(
	    loy_ledger_apply_block(d->l, ch->block[4].data, ch->block[4].len,
				   ch->cert[4].data, ch->cert[4].len,
				   LOY_APPLY_GROUP, NULL),
	    0);
	assert_int_equal(
	    loy_ledger_apply_block(d->l, ch->block[5].data, ch->block[5].len,
				   ch->cert[5].data, ch->cert[5].len, 0, NULL),
	    0);
	assert_int_equal(tip_elsewhere(d->l), 5);
	teardown(f, ch, d);
}

static uint64_t tip_after_open(struct fx *d)
{
	uint64_t h;
	assert_int_equal(fx_open_dir(d, d->dir, LOY_LEDGER_GROUP), 0);
	assert_int_equal(loy_ledger_tip(d->l, &h, NULL, NULL, NULL), 0);
	loy_ledger_close(d->l);
	d->l = NULL;
	return h;
}

/* Blocks caught up from peers join the group without a log record: a
 * crash loses them (data.mdb and the log stay consistent: the log begins
 * right above the store's tip), and a logged block after them flushes the
 * group durably. */
static void test_unlogged_blocks(void **state)
{
	struct fx *f = fx_new(4, 0);
	struct chain *ch = calloc(1, sizeof *ch);
	struct fx *d = fx_new(4, 0);
	uint64_t h;
	uint8_t root[32];
	(void)state;
	build_chain(f, ch);

	/* logged 1-3, unlogged 4-6, crash: the log gives back 1-3 */
	reopen_fresh(d);
	group_then_crash_from(d, ch, 6, 4, 6);
	assert_int_equal(replay(d, ch, 3), 3);

	/* unlogged 1-3, crash: nothing in data.mdb, nothing in the log */
	reopen_fresh(d);
	group_then_crash_from(d, ch, 3, 1, 3);
	assert_int_equal(replay(d, ch, 0), 0);

	/* unlogged 1-3 then logged 4-5, crash: 4 flushed 1-4 durably, the
	 * log holds 5 only */
	reopen_fresh(d);
	group_then_crash_from(d, ch, 5, 1, 3);
	assert_int_equal(tip_after_open(d), 4);
	assert_int_equal(fx_open_dir(d, d->dir, LOY_LEDGER_GROUP), 0);
	uint32_t replayed = 0;
	assert_int_equal(loy_ledger_replay_log(d->l, &replayed), 0);
	assert_int_equal(replayed, 1);
	assert_int_equal(loy_ledger_tip(d->l, &h, NULL, root, NULL), 0);
	assert_int_equal(h, 5);
	assert_memory_equal(root, ch->root[5], 32);
	loy_ledger_close(d->l);
	d->l = NULL;

	/* a block that does not fit the tip changes nothing: the group and
	 * the blocks in it stay; the flush writes them */
	reopen_fresh(d);
	assert_int_equal(fx_open_dir(d, d->dir, LOY_LEDGER_GROUP), 0);
	for (h = 1; h <= 2; h++)
		assert_int_equal(loy_ledger_apply_block(
				     d->l, ch->block[h].data, ch->block[h].len,
				     ch->cert[h].data, ch->cert[h].len,
				     LOY_APPLY_GROUP | LOY_APPLY_UNLOGGED,
				     NULL),
				 0);
	assert_int_equal(
	    loy_ledger_apply_block(d->l, ch->block[2].data, ch->block[2].len,
				   ch->cert[2].data, ch->cert[2].len,
				   LOY_APPLY_GROUP | LOY_APPLY_UNLOGGED, NULL),
	    LOY_EINVAL);
	assert_int_equal(tip_elsewhere(d->l), 0);
	assert_int_equal(
	    loy_ledger_apply_block(d->l, ch->block[3].data, ch->block[3].len,
				   ch->cert[3].data, ch->cert[3].len,
				   LOY_APPLY_GROUP | LOY_APPLY_UNLOGGED, NULL),
	    0);
	assert_int_equal(loy_ledger_flush(d->l), 0);
	assert_int_equal(tip_elsewhere(d->l), 3);
	assert_tip(d->l, ch, 3);
	teardown(f, ch, d);
}

/* A group of caught-up blocks only may be flushed without fsync: readers
 * elsewhere see it at once, a process crash right after loses none of it,
 * and a group that holds a logged block is flushed durably instead. */
static void test_unsynced_flush(void **state)
{
	struct fx *f = fx_new(4, 0);
	struct chain *ch = calloc(1, sizeof *ch);
	struct fx *d = fx_new(4, 0);
	bool durable = true;
	uint64_t h;
	pid_t pid;
	int st;
	(void)state;
	build_chain(f, ch);

	reopen_fresh(d);
	assert_int_equal(fx_open_dir(d, d->dir, LOY_LEDGER_GROUP), 0);
	assert_false(loy_ledger_group_unlogged_only(d->l)); /* no group */
	for (h = 1; h <= 2; h++)
		assert_int_equal(
		    apply_h(d->l, ch, h, LOY_APPLY_GROUP | LOY_APPLY_UNLOGGED),
		    0);
	assert_true(loy_ledger_group_unlogged_only(d->l));
	assert_int_equal(loy_ledger_flush_unsynced(d->l, &durable), 0);
	assert_false(durable);
	assert_int_equal(tip_elsewhere(d->l), 2);
	/* logged 3, then caught-up 4: not unlogged only, flushed durably */
	assert_int_equal(apply_h(d->l, ch, 3, LOY_APPLY_GROUP), 0);
	assert_false(loy_ledger_group_unlogged_only(d->l));
	assert_int_equal(
	    apply_h(d->l, ch, 4, LOY_APPLY_GROUP | LOY_APPLY_UNLOGGED), 0);
	assert_false(loy_ledger_group_unlogged_only(d->l));
	assert_int_equal(loy_ledger_flush_unsynced(d->l, &durable), 0);
	assert_true(durable);
	assert_int_equal(tip_elsewhere(d->l), 4);
	loy_ledger_close(d->l);
	d->l = NULL;

	/* caught up 1-3, flushed without fsync, then the process dies */
	reopen_fresh(d);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct loy_ledger *l;
		bool dur = true;
		if (loy_ledger_open(d->dir, LOY_LEDGER_GROUP, 64ull << 20, &l,
				    NULL, 0) != 0)
			_exit(2);
		for (h = 1; h <= 3; h++)
			if (apply_h(l, ch, h,
				    LOY_APPLY_GROUP | LOY_APPLY_UNLOGGED) != 0)
				_exit(3);
		if (loy_ledger_flush_unsynced(l, &dur) != 0 || dur)
			_exit(4);
		_exit(0); /* no sync, no close */
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(fx_open_dir(d, d->dir, LOY_LEDGER_GROUP), 0);
	assert_tip(d->l, ch, 3);
	teardown(f, ch, d);
}

/* Blocks go straight into the group (no child transaction): one that
 * fails half-way, here for a full map, drops the whole group and halts the
 * ledger. Reopened, data.mdb holds the last flush and the block log the
 * blocks after it; the chain goes on from there with the same roots. */
static void test_group_drop_on_failure(void **state)
{
	struct fx *f = fx_new(4, 0);
	struct chain *ch = calloc(1, sizeof *ch);
	struct fx *d = fx_new(4, 0);
	struct loy_ledger *l;
	uint32_t replayed = 0;
	uint64_t h, failed = 0;
	(void)state;
	build_chain(f, ch);

	reopen_fresh(d);
	/* LMDB grows a map smaller than the file to the file's size: the
	 * store then has little room left */
	assert_int_equal(
	    loy_ledger_open(d->dir, LOY_LEDGER_GROUP, 1u << 20, &l, NULL, 0),
	    0);
	for (h = 1; h <= NBLOCKS && failed == 0; h++) {
		if (apply_h(l, ch, h, LOY_APPLY_GROUP) != 0)
			failed = h;
		else if (h == 2)
			assert_int_equal(loy_ledger_flush(l), 0);
	}
	assert_true(failed > 3); /* the group held logged blocks 3.. */
	assert_int_equal(apply_h(l, ch, failed, LOY_APPLY_GROUP), LOY_ESTATE);
	assert_int_equal(loy_ledger_tip(l, &h, NULL, NULL, NULL), 0);
	assert_int_equal(h, 2); /* the group is gone, data.mdb is as flushed */
	loy_ledger_close(l);

	assert_int_equal(fx_open_dir(d, d->dir, LOY_LEDGER_GROUP), 0);
	assert_int_equal(loy_ledger_replay_log(d->l, &replayed), 0);
	assert_int_equal(replayed, failed - 3);
	assert_tip(d->l, ch, failed - 1);
	for (h = failed; h <= NBLOCKS; h++)
		assert_int_equal(apply_h(d->l, ch, h, LOY_APPLY_GROUP), 0);
	assert_int_equal(loy_ledger_flush(d->l), 0);
	assert_tip(d->l, ch, NBLOCKS);
	teardown(f, ch, d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kill9_while_applying),
	    cmocka_unit_test(test_kill9_group_commit),
	    cmocka_unit_test(test_block_log),
	    cmocka_unit_test(test_unlogged_blocks),
	    cmocka_unit_test(test_unsynced_flush),
	    cmocka_unit_test(test_group_drop_on_failure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
