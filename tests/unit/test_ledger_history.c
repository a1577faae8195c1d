/* The account history and transaction indexes (ledger/history.c): what a
 * query returns comes from history.mdb, kept behind data.mdb's
 * block_history records, and history.mdb is rebuilt whenever it cannot be
 * trusted. */
#include <fcntl.h>
#include <unistd.h>

#include "ledger/query.h"
#include "tests/unit/test_ledger_fix.h"
#include "wire/boot_id.h"

#define PAGE 64

/* All of customer k's history, newest first. */
static uint32_t history_of(struct fx *f, unsigned k,
			   struct loy_history_item *out, uint32_t max)
{
	uint64_t cursor = 0;
	uint32_t total = 0, n;

	do {
		assert_true(total + 3 <= max);
		assert_int_equal(loy_ledger_history(f->l, fx_key(f, k)->id,
						    &cursor, out + total, 3,
						    &n),
				 0);
		total += n;
	} while (cursor);
	return total;
}

/* A customer with a registration and `issues` rewards of 10 points (one
 * block each). */
static struct fx *with_history(unsigned issues)
{
	struct fx *f = fx_new(2, 0);

	fx_register(f, 100);
	fx_register(f, 101);
	fx_rule(f, 0, 1, 1, 0);
	for (unsigned i = 0; i < issues; i++) {
		char ref[16];
		snprintf(ref, sizeof ref, "h%u", i);
		assert_int_equal(fx_issue(f, 0, 100, 10, ref, "buy", NULL), 0);
	}
	return f;
}

static void assert_same(const struct loy_history_item *a,
			const struct loy_history_item *b, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(a[i].height, b[i].height);
		assert_int_equal(a[i].position, b[i].position);
		assert_memory_equal(a[i].hash, b[i].hash, LOY_HASH_SIZE);
		assert_int_equal(a[i].kind, b[i].kind);
		assert_int_equal(a[i].code, b[i].code);
		assert_int_equal(a[i].delta, b[i].delta);
	}
}

/* The rebuild note is there (with words in it) or not, and read once. */
static void assert_note(struct fx *f, const char *words)
{
	char why[160];

	assert_int_equal(loy_ledger_history_note(f->l, why, sizeof why),
			 words != NULL);
	if (words)
		assert_non_null(strstr(why, words));
	assert_false(loy_ledger_history_note(f->l, why, sizeof why));
}

static void shut(struct fx *f)
{
	loy_ledger_close(f->l);
	f->l = NULL;
}

/* Opens f's store again: customer 100's history is the n items of a. */
static void assert_reopens_with(struct fx *f, const struct loy_history_item *a,
				uint32_t n)
{
	struct loy_history_item b[PAGE];

	assert_int_equal(fx_open_dir(f, f->dir, 0), 0);
	assert_int_equal(history_of(f, 100, b, PAGE), n);
	assert_same(a, b, n);
}

static void put_file(const char *dir, const char *name, const void *p, size_t n)
{
	char path[128];
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	close(fd);
}

static bool exists(const char *dir, const char *name)
{
	char path[128];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

static void test_entries_and_deltas(void **state)
{
	struct loy_history_item it[PAGE];
	struct fx *f = with_history(5);
	uint64_t tip, indexed;
	char err[256];
	uint32_t n;
	(void)state;
	n = history_of(f, 100, it, PAGE);
	assert_int_equal(n, 6); /* registration and 5 rewards */
	for (uint32_t i = 0; i < 5; i++) {
		assert_int_equal(it[i].kind, LOY_TX_REWARD_ISSUE);
		assert_int_equal(it[i].delta, 10);
		assert_true(i == 0 || it[i].height < it[i - 1].height);
	}
	assert_int_equal(it[5].kind, LOY_TX_CUSTOMER_REGISTER);
	/* the other customer sees only its own registration */
	assert_int_equal(history_of(f, 101, it, PAGE), 1);
	/* one query indexed every block that has entries */
	assert_int_equal(loy_ledger_tip(f->l, &tip, NULL, NULL, NULL), 0);
	assert_int_equal(
	    loy_ledger_history_index(f->l, 0, &indexed, err, sizeof err), 0);
	assert_int_equal(indexed, tip);
	/* a later block reaches the next query without any indexing call */
	assert_int_equal(fx_issue(f, 0, 100, 10, "late", "buy", NULL), 0);
	assert_int_equal(history_of(f, 100, it, PAGE), 7);
	assert_int_equal(it[0].height, tip + 1);
	fx_free(f);
}

static void test_kept_across_reopen_and_marker_removed(void **state)
{
	struct loy_history_item a[PAGE];
	struct fx *f = with_history(4);
	uint32_t n;
	(void)state;
	n = history_of(f, 100, a, PAGE);
	assert_true(exists(f->dir, "history.mdb"));
	assert_true(exists(f->dir, "history.boot"));
	shut(f);
	/* a clean close wrote it to disk and took its marker away */
	assert_false(exists(f->dir, "history.boot"));
	assert_reopens_with(f, a, n);
	assert_note(f, NULL);
	fx_free(f);
}

static void test_rebuilt_when_deleted(void **state)
{
	struct loy_history_item a[PAGE];
	struct fx *f = with_history(4);
	char p[128];
	uint32_t n;
	(void)state;
	n = history_of(f, 100, a, PAGE);
	shut(f);
	snprintf(p, sizeof p, "%s/history.mdb", f->dir);
	assert_int_equal(unlink(p), 0);
	assert_reopens_with(f, a, n);
	fx_free(f);
}

/* An earlier boot's marker: the machine stopped while history.mdb was open
 * and written without fsync, so whatever is on disk is thrown away, even
 * when it looks fine (here: an index of another customer's entries). */
static void test_rebuilt_after_machine_crash(void **state)
{
	struct loy_history_item a[PAGE];
	struct fx *f = with_history(3);
	const char *other = "00000000-0000-0000-0000-000000000000\n";
	uint32_t n;
	(void)state;
	n = history_of(f, 100, a, PAGE);
	shut(f);
	/* a stale index: another chain's, indexed above this tip */
	{
		struct fx *g = with_history(6);
		struct loy_history_item x[PAGE];
		char from[128], to[128];
		uint64_t h;
		char err[128];
		(void)history_of(g, 100, x, PAGE);
		assert_int_equal(
		    loy_ledger_history_index(g->l, 0, &h, err, sizeof err), 0);
		loy_ledger_close(g->l);
		g->l = NULL;
		snprintf(from, sizeof from, "%s/history.mdb", g->dir);
		snprintf(to, sizeof to, "%s/history.mdb", f->dir);
		assert_int_equal(rename(from, to), 0);
		fx_free(g);
	}
	put_file(f->dir, "history.boot", other, strlen(other));
	assert_reopens_with(f, a, n);
	assert_note(f, "machine stopped");
	/* and this boot's marker replaced the old one */
	{
		char id[LOY_BOOT_ID_SIZE];
		assert_int_equal(loy_boot_mark_read(f->dir, "history.boot", id),
				 1);
		assert_true(loy_same_boot(id));
	}
	fx_free(f);
}

/* history.mdb of another chain (its data.mdb replaced): built again, even
 * under this boot's marker. */
static void test_rebuilt_for_another_chain(void **state)
{
	struct loy_history_item a[PAGE], b[PAGE];
	struct fx *f = with_history(2), *g = fx_new(3, 0);
	char from[128], to[128];
	uint32_t n;
	(void)state;
	n = history_of(f, 100, a, PAGE);
	fx_register(g, 100);
	fx_rule(g, 0, 1, 1, 0);
	for (int i = 0; i < 8; i++) {
		char ref[16];
		snprintf(ref, sizeof ref, "g%d", i);
		assert_int_equal(fx_issue(g, 0, 100, 10, ref, "buy", NULL), 0);
	}
	(void)history_of(g, 100, b, PAGE);
	shut(g);
	shut(f);
	snprintf(from, sizeof from, "%s/history.mdb", g->dir);
	snprintf(to, sizeof to, "%s/history.mdb", f->dir);
	assert_int_equal(rename(from, to), 0);
	assert_int_equal(loy_boot_mark(f->dir, "history.boot"), 0);
	assert_reopens_with(f, a, n);
	assert_note(f, "another chain");
	fx_free(f);
	fx_free(g);
}

/* Garbage in history.mdb: LMDB refuses to open it; it is built again. */
static void test_rebuilt_when_damaged(void **state)
{
	struct loy_history_item a[PAGE];
	struct fx *f = with_history(3);
	uint8_t junk[16384];
	uint32_t n;
	(void)state;
	n = history_of(f, 100, a, PAGE);
	shut(f);
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (uint8_t)(i * 131 + 7);
	put_file(f->dir, "history.mdb", junk, sizeof junk);
	assert_reopens_with(f, a, n);
	assert_note(f, "cannot be opened");
	fx_free(f);
}

/* The transaction index: outcome, place and signer by hash, a rejection's
 * message with it, the same after a rebuild. */
static void test_transactions_by_hash(void **state)
{
	struct fx *f = with_history(2);
	struct loy_tx_status ok, bad, again;
	uint8_t h_ok[LOY_HASH_SIZE], h_bad[LOY_HASH_SIZE], none[LOY_HASH_SIZE];
	uint64_t tip;
	char p[128];
	(void)state;
	assert_int_equal(fx_issue(f, 0, 100, 10, "dup", "buy", h_ok), 0);
	assert_int_equal(loy_ledger_tip(f->l, &tip, NULL, NULL, NULL), 0);
	/* the same reference again: included, and rejected */
	assert_int_not_equal(fx_issue(f, 0, 100, 10, "dup", "buy", h_bad), 0);
	assert_int_equal(loy_ledger_tx(f->l, h_ok, &ok), 0);
	assert_int_equal(ok.height, tip);
	assert_int_equal(ok.position, 0);
	assert_int_equal(ok.code, 0);
	assert_int_equal(ok.kind, LOY_TX_REWARD_ISSUE);
	assert_memory_equal(ok.signer, fx_key(f, 0)->id, LOY_ID_SIZE);
	assert_string_equal(ok.msg, "");
	assert_int_equal(loy_ledger_tx(f->l, h_bad, &bad), 0);
	assert_int_equal(bad.height, tip + 1);
	assert_int_equal(bad.code, f->res[0].code);
	assert_string_equal(bad.msg, f->res[0].msg);
	assert_true(bad.msg[0] != '\0');
	memset(none, 0xab, sizeof none);
	assert_int_equal(loy_ledger_tx(f->l, none, &again), LOY_ENOTFOUND);
	/* rebuilt from data.mdb: the same answers */
	shut(f);
	snprintf(p, sizeof p, "%s/history.mdb", f->dir);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(fx_open_dir(f, f->dir, 0), 0);
	assert_int_equal(loy_ledger_tx(f->l, h_bad, &again), 0);
	assert_memory_equal(&again, &bad, sizeof bad);
	assert_int_equal(loy_ledger_tx(f->l, h_ok, &again), 0);
	assert_memory_equal(&again, &ok, sizeof ok);
	fx_free(f);
}

#define MANY   12 /* customers 100.., one reward each per block */
#define ROUNDS 3

/* Blocks of many transactions, indexed a few puts per call: the index
 * advances in whole blocks, and every account's history and every
 * transaction come out as they went in (a round is sorted by table and
 * key before it is written). */
static void test_indexed_in_rounds(void **state)
{
	struct fx *f = fx_new(2, 0);
	uint8_t hashes[ROUNDS][MANY][LOY_HASH_SIZE];
	uint64_t first, tip, indexed = 0, was;
	struct loy_history_item it[PAGE];
	unsigned calls = 0;
	char err[256];
	(void)state;
	for (unsigned c = 0; c < MANY; c++)
		fx_register(f, 100 + c);
	fx_rule(f, 0, 1, 1, 0);
	assert_int_equal(loy_ledger_tip(f->l, &first, NULL, NULL, NULL), 0);
	for (unsigned r = 0; r < ROUNDS; r++) {
		struct loy_buf b[MANY];
		for (unsigned c = 0; c < MANY; c++) {
			struct loy_tx tx;
			fx_tx(f, &tx, LOY_TX_REWARD_ISSUE, 0);
			memcpy(tx.u.reward_issue.customer,
			       fx_key(f, 100 + c)->id, LOY_ID_SIZE);
			tx.u.reward_issue.purchase = 1 + r * MANY + c;
			snprintf(tx.u.reward_issue.reference,
				 sizeof tx.u.reward_issue.reference, "r%u-%u",
				 r, c);
			fx_enc(f, &tx, 0, &b[c]);
			loy_tx_hash(hashes[r][c], b[c].data, b[c].len);
		}
		assert_int_equal(fx_commit(f, b, MANY), 0);
	}
	assert_int_equal(loy_ledger_tip(f->l, &tip, NULL, NULL, NULL), 0);
	do {
		was = indexed;
		assert_int_equal(loy_ledger_history_index(f->l, 5, &indexed,
							  err, sizeof err),
				 0);
		assert_true(indexed > was);
		calls++;
	} while (indexed < tip);
	assert_int_equal(indexed, tip);
	assert_true(calls > 3); /* a budget of 5 puts: a few blocks a call */
	for (unsigned c = 0; c < MANY; c++) {
		assert_int_equal(history_of(f, 100 + c, it, PAGE), ROUNDS + 1);
		for (unsigned r = 0; r < ROUNDS; r++) {
			const struct loy_history_item *x = &it[ROUNDS - 1 - r];
			struct loy_tx_status st;
			assert_int_equal(x->height, first + 1 + r);
			assert_int_equal(x->position, c);
			assert_int_equal(x->delta, 1 + r * MANY + c);
			assert_memory_equal(x->hash, hashes[r][c],
					    LOY_HASH_SIZE);
			assert_int_equal(loy_ledger_tx(f->l, hashes[r][c], &st),
					 0);
			assert_int_equal(st.height, first + 1 + r);
			assert_int_equal(st.position, c);
			assert_memory_equal(st.signer, fx_key(f, 0)->id,
					    LOY_ID_SIZE);
		}
		assert_int_equal(it[ROUNDS].kind, LOY_TX_CUSTOMER_REGISTER);
	}
	fx_free(f);
}

/* A read-only store (the auditor's) has no index to write. */
static void test_read_only_store(void **state)
{
	struct fx *f = with_history(1);
	struct loy_ledger *ro;
	struct loy_history_item it[4];
	uint64_t cursor = 0;
	char err[256];
	uint32_t n;
	(void)state;
	shut(f);
	assert_int_equal(
	    loy_ledger_open(f->dir, LOY_LEDGER_RDONLY, 0, &ro, err, sizeof err),
	    0);
	assert_int_equal(loy_ledger_history_index(ro, 0, NULL, err, sizeof err),
			 LOY_ESTATE);
	assert_non_null(strstr(err, "read-only"));
	assert_int_equal(
	    loy_ledger_history(ro, fx_key(f, 100)->id, &cursor, it, 4, &n),
	    LOY_ESTATE);
	loy_ledger_close(ro);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_entries_and_deltas),
	    cmocka_unit_test(test_kept_across_reopen_and_marker_removed),
	    cmocka_unit_test(test_rebuilt_when_deleted),
	    cmocka_unit_test(test_rebuilt_after_machine_crash),
	    cmocka_unit_test(test_rebuilt_for_another_chain),
	    cmocka_unit_test(test_rebuilt_when_damaged),
	    cmocka_unit_test(test_transactions_by_hash),
	    cmocka_unit_test(test_indexed_in_rounds),
	    cmocka_unit_test(test_read_only_store),
	};
	if (loy_crypto_init() != 0)
		return 1;
	return cmocka_run_group_tests_name("ledger_history", tests, NULL, NULL);
}
