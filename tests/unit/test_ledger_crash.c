/* Crash safety: a child process applies blocks and is killed with SIGKILL
 * at random moments, 100 times; after each, the reopened store's tip is a
 * complete block whose state root matches the replay, and every block the
 * child acknowledged (after its commit returned) is there. */
#include <fcntl.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "tests/unit/test_ledger_fix.h"

#define NBLOCKS 120

struct chain {
	struct loy_buf block[NBLOCKS + 1], cert[NBLOCKS + 1];
	uint8_t root[NBLOCKS + 1][32], hash[NBLOCKS + 1][32];
};

static void build_chain(struct fx *f, struct chain *ch)
{
	struct loy_tx tx;
	struct loy_buf b[32];
	for (unsigned i = 0; i < 8; i++)
		fx_register(f, 100 + i);
	fx_rule(f, 0, 1, 1, 0);
	uint64_t h0;
	assert_int_equal(loy_ledger_tip(f->l, &h0, NULL, NULL, NULL), 0);
	for (uint64_t h = h0 + 1; h <= NBLOCKS; h++) {
		for (unsigned j = 0; j < 16; j++) {
			unsigned c = 100 + j % 8;
			char ref[32];
			snprintf(ref, sizeof ref, "b%llu-%u",
				 (unsigned long long)h, j);
			if (j % 3 == 2) {
				fx_redeem_tx(f, &b[j], c, 1, 5, ref);
				continue;
			}
			fx_tx(f, &tx, LOY_TX_REWARD_ISSUE, 0);
			memcpy(tx.u.reward_issue.customer, fx_key(f, c)->id,
			       20);
			tx.u.reward_issue.purchase = 10 + j;
			snprintf(tx.u.reward_issue.reference, 32, "%s", ref);
			fx_enc(f, &tx, 0, &b[j]);
		}
		f->time_ms += 1000;
		assert_int_equal(fx_commit(f, b, 16), 0);
	}
	for (uint64_t h = 1; h <= NBLOCKS; h++) {
		struct loy_block blk;
		assert_int_equal(
		    loy_ledger_block(f->l, h, &ch->block[h], &ch->cert[h]), 0);
		assert_int_equal(
		    loy_block_decode(&blk, ch->block[h].data, ch->block[h].len),
		    0);
		memcpy(ch->root[h], blk.header.state_root, 32);
		assert_int_equal(
		    loy_block_header_hash(&blk.header, ch->hash[h]), 0);
		loy_block_free(&blk);
	}
}

static void child_apply(const char *dir, struct chain *ch, int fd)
{
	struct loy_ledger *l;
	uint64_t h;
	if (loy_ledger_open(dir, 0, 64ull << 20, &l, NULL, 0) != 0)
		_exit(2);
	if (loy_ledger_tip(l, &h, NULL, NULL, NULL) != 0)
		_exit(3);
	for (h = h + 1; h <= NBLOCKS; h++) {
		if (loy_ledger_apply_block(l, ch->block[h].data,
					   ch->block[h].len, ch->cert[h].data,
					   ch->cert[h].len, 0, NULL) != 0)
			_exit(4);
		uint8_t a[8];
		for (int i = 0; i < 8; i++)
			a[i] = (uint8_t)(h >> (56 - 8 * i));
		if (write(fd, a, 8) != 8)
			_exit(5);
	}
	loy_ledger_close(l);
	_exit(0);
}

static void test_kill9_while_applying(void **state)
{
	struct fx *f = fx_new(4, 0);
	struct chain *ch = calloc(1, sizeof *ch);
	struct fx *d = fx_new(4, 0); /* the victim's store */
	uint64_t seed = 0x1234567;
	unsigned kills = 0, completed = 0;
	(void)state;
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
			child_apply(d->dir, ch, p[1]);
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
		assert_int_equal(fx_open_dir(d, d->dir, 0), 0);
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
	fprintf(stderr, "crash: %u kills, %u runs completed\n", kills,
		completed);
	for (int h = 1; h <= NBLOCKS; h++) {
		loy_buf_free(&ch->block[h]);
		loy_buf_free(&ch->cert[h]);
	}
	free(ch);
	fx_free(d);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kill9_while_applying),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
