/* The account history index: history.mdb beside data.mdb.
 *
 * Executing a block writes one sequential record of data.mdb,
 * block_history: for each account a transaction touched, its id, the
 * transaction and the point change, the signer's first (exec.c). Queries
 * need them by account, newest first, and a transaction's outcome by its
 * hash; this file keeps those two indexes,
 *     history: id20 || height8 || pos4 -> hash32 kind1 code2 delta8
 *     txs:     hash32 -> height8 pos4 code2 kind1 signer id20
 * in a separate LMDB environment, filled in batches off the path that
 * commits blocks. In data.mdb, a put per account and per transaction into
 * tables keyed by id and by hash wrote random pages at every flush: on
 * make bench's cluster that was about 50 us of CPU per transaction and
 * the largest share of the writes that every node's fsyncs waited behind.
 *
 * history.mdb is derived data, so it is written without waiting for the
 * disk. history.boot holds the boot id while it is open: a start after a
 * machine crash (another boot's id) deletes it and builds it again from
 * block_history, as does a start that cannot open it. A query first
 * indexes whatever data.mdb holds beyond it, so it never misses a committed
 * transaction.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ledger/internal.h"
#include "ledger/query.h"
#include "wire/boot_id.h"
#include "wire/error.h"

#define FILE_NAME "history.mdb"
#define MARK_NAME "history.boot"
#define KEY_SIZE  (LOY_ID_SIZE + 12)
#define VAL_SIZE  (LOY_HASH_SIZE + 11)
#define TX_SIZE   (8 + 4 + 2 + 1 + LOY_ID_SIZE)
/* Puts per write transaction. LMDB keeps a transaction's dirty pages in
 * memory and caches them after it for reuse, so this bounds the index's
 * share of the process's memory: a random put can dirty a page, and 65,536
 * per transaction held a node with a million accounts at 220 MiB (about
 * 60 MiB without). */
#define BATCH_MAX 2048u
/* Puts gathered and sorted before they are written (about 2.6 MiB): a
 * second of make bench's peak. */
#define ROUND_PUTS 32768u

static void remove_files(const struct loy_ledger *l)
{
	char path[1100];

	snprintf(path, sizeof path, "%s/" FILE_NAME, l->path);
	(void)unlink(path);
	snprintf(path, sizeof path, "%s/" FILE_NAME "-lock", l->path);
	(void)unlink(path);
}

static int hfail(char *err, size_t errlen, int code, const char *what, int mrc)
{
	if (err && errlen)
		snprintf(err, errlen, FILE_NAME ": %s: %s", what,
			 mdb_strerror(mrc));
	return code;
}

/* Says why history.mdb is being built again (loy_ledger_history_note). */
static void rebuilding(struct ldg_hist *h, const char *why)
{
	if (h->note[0] == '\0')
		snprintf(h->note, sizeof h->note, "%s", why);
}

static bool damaged(int mrc)
{
	return mrc == MDB_CORRUPTED || mrc == MDB_PAGE_NOTFOUND ||
	       mrc == MDB_INVALID || mrc == MDB_VERSION_MISMATCH ||
	       mrc == MDB_BAD_TXN;
}

static int env_open(struct loy_ledger *l, int *mrc_out)
{
	struct ldg_hist *h = &l->hist;
	MDB_envinfo info;
	MDB_txn *txn = NULL;
	MDB_val k = {7, "indexed"}, v;
	char path[1100];
	int mrc;

	snprintf(path, sizeof path, "%s/" FILE_NAME, l->path);
	mrc = mdb_env_info(l->env, &info);
	if (mrc == 0)
		mrc = mdb_env_create(&h->env);
	if (mrc != 0) {
		h->env = NULL;
		*mrc_out = mrc;
		return -1;
	}
	/* as large a map as data.mdb's: it holds a fraction of it */
	mrc = mdb_env_set_mapsize(h->env, info.me_mapsize);
	if (mrc == 0)
		mrc = mdb_env_set_maxdbs(h->env, 3);
	if (mrc == 0)
		mrc = mdb_env_open(h->env, path,
				   MDB_NOSUBDIR | MDB_NOSYNC | MDB_NOTLS, 0600);
	if (mrc == 0)
		mrc = mdb_txn_begin(h->env, NULL, 0, &txn);
	if (mrc == 0)
		mrc = mdb_dbi_open(txn, "history", MDB_CREATE, &h->idx);
	if (mrc == 0)
		mrc = mdb_dbi_open(txn, "txs", MDB_CREATE, &h->txs);
	if (mrc == 0)
		mrc = mdb_dbi_open(txn, "meta", MDB_CREATE, &h->meta);
	if (mrc == 0) {
		mrc = mdb_get(txn, h->meta, &k, &v);
		if (mrc == MDB_NOTFOUND) {
			h->indexed = 0;
			mrc = 0;
		} else if (mrc == 0 && v.mv_size == 8) {
			h->indexed = be64get(v.mv_data);
		} else if (mrc == 0) {
			mrc = MDB_CORRUPTED;
		}
	}
	/* an index of another chain (a data.mdb replaced under it) is no
	 * better than a damaged one */
	if (mrc == 0 && l->have_genesis) {
		MDB_val gk = {7, "genesis"}, gv;
		int grc = mdb_get(txn, h->meta, &gk, &gv);
		if (grc == 0 &&
		    (gv.mv_size != LOY_HASH_SIZE ||
		     memcmp(gv.mv_data, l->genesis_hash, LOY_HASH_SIZE) != 0)) {
			rebuilding(h, "it indexes another chain");
			mrc = MDB_INVALID;
		} else if (grc != MDB_NOTFOUND)
			mrc = grc;
	}
	if (mrc == 0)
		mrc = mdb_txn_commit(txn);
	else if (txn)
		mdb_txn_abort(txn);
	if (mrc != 0) {
		mdb_env_close(h->env);
		h->env = NULL;
		*mrc_out = mrc;
		return -1;
	}
	return 0;
}

/* Opens history.mdb (lock held), building it anew when an earlier boot left
 * it open or it cannot be opened. */
static int hist_open(struct loy_ledger *l, char *err, size_t errlen)
{
	char id[LOY_BOOT_ID_SIZE];
	int rv, mrc = 0;

	if (l->hist.env != NULL)
		return 0;
	if (l->flags & LOY_LEDGER_RDONLY) {
		if (err && errlen)
			snprintf(err, errlen,
				 FILE_NAME ": the store is open read-only");
		return LOY_ESTATE;
	}
	rv = loy_boot_mark_read(l->path, MARK_NAME, id);
	if (rv < 0) {
		if (err && errlen)
			snprintf(err, errlen, "%s/" MARK_NAME ": %s", l->path,
				 strerror(errno));
		return LOY_EIO;
	}
	/* written without fsync: after a machine crash it may be torn */
	if (rv == 1 && !loy_same_boot(id)) {
		rebuilding(&l->hist, "the machine stopped while it was open "
				     "(it is written without fsync)");
		remove_files(l);
	}
	if ((rv == 0 || !loy_same_boot(id)) &&
	    loy_boot_mark(l->path, MARK_NAME) != 0) {
		if (err && errlen)
			snprintf(err, errlen, "%s/" MARK_NAME ": %s", l->path,
				 strerror(errno));
		return LOY_EIO;
	}
	if (env_open(l, &mrc) == 0)
		return 0;
	if (!damaged(mrc))
		return hfail(err, errlen, LOY_EIO, "open", mrc);
	rebuilding(&l->hist, "it cannot be opened (damaged)");
	remove_files(l);
	if (env_open(l, &mrc) == 0)
		return 0;
	return hfail(err, errlen, LOY_EIO, "open", mrc);
}

void ldg_hist_close(struct loy_ledger *l)
{
	struct ldg_hist *h = &l->hist;

	if (h->env == NULL)
		return;
	/* On a failed sync the kernel may have dropped pages it could not
	 * write: build it again next time rather than trust it. */
	if (mdb_env_sync(h->env, 1) != 0) {
		mdb_env_close(h->env);
		remove_files(l);
	} else {
		mdb_env_close(h->env);
	}
	h->env = NULL;
	(void)loy_boot_unmark(l->path, MARK_NAME);
}

/* One put of a round: records are gathered from block_history, sorted by
 * table and key, and only then written. Put in block order, every record
 * of the hash-keyed txs table and nearly every account's record in idx
 * landed on a page of its own, so each write transaction of 2,048 puts
 * rewrote about as many pages, and on a grown chain that was most of both
 * trees at every transaction. In key order, the puts of a round that fall
 * on one page are one page write. */
struct hput {
	uint8_t key[KEY_SIZE];
	uint8_t val[VAL_SIZE];
	uint8_t vlen;
	uint8_t table; /* 0: idx, 1: txs */
	uint32_t seq;  /* order read: of two puts of one key the later wins */
};

_Static_assert(KEY_SIZE == LOY_HASH_SIZE && TX_SIZE <= VAL_SIZE,
	       "a put's buffers hold both tables' records");

struct hround {
	struct hput *p;
	uint32_t n, cap;
};

static struct hput *round_add(struct hround *r)
{
	if (r->n == r->cap) {
		uint32_t cap = r->cap ? r->cap * 2 : 4096;
		struct hput *p = realloc(r->p, (size_t)cap * sizeof *p);
		if (p == NULL)
			return NULL;
		r->p = p;
		r->cap = cap;
	}
	struct hput *x = &r->p[r->n];
	x->seq = r->n++;
	return x;
}

static int hput_cmp(const void *a, const void *b)
{
	const struct hput *x = *(struct hput *const *)a,
			  *y = *(struct hput *const *)b;
	int c;
	if (x->table != y->table)
		return x->table < y->table ? -1 : 1;
	c = memcmp(x->key, y->key, KEY_SIZE);
	if (c != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The txs record of the transaction whose signer's entry is e. */
static int index_tx(struct hround *r, uint64_t height, const uint8_t *e)
{
	const uint8_t *hash = e + LOY_ID_SIZE + 4;
	const uint8_t *kind_code = hash + LOY_HASH_SIZE;
	struct hput *x = round_add(r);

	if (x == NULL)
		return ENOMEM;
	x->table = 1;
	x->vlen = TX_SIZE;
	memcpy(x->key, hash, LOY_HASH_SIZE);
	be64put(x->val, height);
	memcpy(x->val + 8, e + LOY_ID_SIZE, 4);
	x->val[12] = kind_code[1];
	x->val[13] = kind_code[2];
	x->val[14] = kind_code[0];
	memcpy(x->val + 15, e, LOY_ID_SIZE);
	return 0;
}

/* Gathers the puts of one block_history record (height h). */
static int index_record(struct hround *r, uint64_t height, const MDB_val *v)
{
	const uint8_t *p = v->mv_data;
	uint32_t pos = 0;

	if (v->mv_size == 0 || v->mv_size % LDG_HIST_ENTRY != 0)
		return MDB_CORRUPTED;
	for (size_t off = 0; off < v->mv_size; off += LDG_HIST_ENTRY) {
		uint32_t at = be32get(p + off + LOY_ID_SIZE);
		struct hput *x = round_add(r);

		if (x == NULL)
			return ENOMEM;
		x->table = 0;
		x->vlen = VAL_SIZE;
		memcpy(x->key, p + off, LOY_ID_SIZE);
		be64put(x->key + LOY_ID_SIZE, height);
		memcpy(x->key + LOY_ID_SIZE + 8, p + off + LOY_ID_SIZE, 4);
		memcpy(x->val, p + off + LOY_ID_SIZE + 4, VAL_SIZE);
		/* a transaction's first entry is its signer's */
		if (off == 0 || at != pos) {
			int mrc = index_tx(r, height, p + off);
			if (mrc != 0)
				return mrc;
		}
		pos = at;
	}
	return 0;
}

/* history.mdb is never synced (it is derived data), so its dirty pages
 * waited for the kernel's 30 s expiry and then went out in one burst: after
 * make bench's peak runs, 280 MiB at once, and every fsync of data.mdb and
 * the block log queued behind it (a 0.4 s stall, commits up to 191 ms).
 * Starting their writeback every WRITEBACK_S seconds bounds the burst;
 * nothing waits for it. After every round it cost 5-8% of peak tx/s: each
 * round rewrites most pages of the txs table, and the page cache had
 * written a page once for many rounds. */
#define WRITEBACK_S 10
static void start_writeback(struct ldg_hist *h)
{
	struct timespec now;
	int fd;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec - h->writeback_s < WRITEBACK_S)
		return;
	h->writeback_s = (long)now.tv_sec;
	if (mdb_env_get_fd(h->env, &fd) == 0)
		(void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
}

/* Writes a gathered round in key order, BATCH_MAX puts per write
 * transaction; the last one also records last as indexed. A round cut
 * short is written again whole (a put of the same record is harmless). */
static int round_write(struct ldg_hist *h, struct loy_ledger *l,
		       struct hround *r, uint64_t last)
{
	uint32_t i = 0;
	int mrc = 0;
	/* sorted by reference: moving 84-byte puts was most of the sort */
	struct hput **by_key = malloc((r->n ? r->n : 1) * sizeof *by_key);

	if (by_key == NULL)
		return ENOMEM;
	for (uint32_t j = 0; j < r->n; j++)
		by_key[j] = &r->p[j];
	qsort(by_key, r->n, sizeof *by_key, hput_cmp);
	do {
		MDB_txn *w;
		uint32_t end = r->n - i > BATCH_MAX ? i + BATCH_MAX : r->n;

		mrc = mdb_txn_begin(h->env, NULL, 0, &w);
		if (mrc != 0)
			break;
		for (; mrc == 0 && i < end; i++) {
			struct hput *x = by_key[i];
			MDB_val k = {KEY_SIZE, x->key}, d = {x->vlen, x->val};
			mrc = mdb_put(w, x->table ? h->txs : h->idx, &k, &d, 0);
		}
		if (mrc == 0 && i == r->n) {
			uint8_t lb[8];
			MDB_val lk = {7, "indexed"}, lv = {8, lb};
			be64put(lb, last);
			mrc = mdb_put(w, h->meta, &lk, &lv, 0);
			if (mrc == 0 && l->have_genesis) {
				MDB_val gk = {7, "genesis"};
				MDB_val gv = {LOY_HASH_SIZE, l->genesis_hash};
				mrc = mdb_put(w, h->meta, &gk, &gv, 0);
			}
		}
		if (mrc == 0)
			mrc = mdb_txn_commit(w);
		else
			mdb_txn_abort(w);
	} while (mrc == 0 && i < r->n);
	free(by_key);
	if (mrc == 0)
		start_writeback(h);
	return mrc;
}

/* Indexes the block_history records above h->indexed that data.mdb holds
 * for this thread (lock held), about budget puts of them (0: all), in
 * rounds of whole blocks and about ROUND_PUTS puts (or budget, if less). */
static int hist_catch_up(struct loy_ledger *l, uint64_t budget, char *err,
			 size_t errlen)
{
	struct ldg_hist *h = &l->hist;
	struct hround r = {0};
	struct ldg_txn t;
	MDB_cursor *c;
	uint8_t k0[8];
	MDB_val k = {8, k0}, v;
	int rc = ldg_rbegin(l, &t), mrc = 0;
	bool more = true;
	uint64_t done = 0;
	uint32_t round =
	    budget && budget < ROUND_PUTS ? (uint32_t)budget : ROUND_PUTS;

	if (rc != 0)
		return rc;
	rc = ldg_cursor_open(&t, LDB_BLOCKHIST, &c);
	if (rc != 0) {
		ldg_rend(&t);
		return rc;
	}
	be64put(k0, h->indexed + 1);
	rc = ldg_cursor_get(&t, LDB_BLOCKHIST, c, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && more && (budget == 0 || done < budget)) {
		uint64_t last = h->indexed;

		r.n = 0;
		while (rc == 0 && r.n < round) {
			if (k.mv_size != 8) {
				rc = ldg_damaged(l, LDB_BLOCKHIST, k.mv_data,
						 k.mv_size, "has a bad key");
				break;
			}
			last = be64get(k.mv_data);
			mrc = index_record(&r, last, &v);
			if (mrc == MDB_CORRUPTED) {
				rc = ldg_damaged(l, LDB_BLOCKHIST, k.mv_data,
						 k.mv_size,
						 "is not a list of entries");
				break;
			}
			if (mrc != 0)
				break;
			rc = ldg_cursor_get(&t, LDB_BLOCKHIST, c, &k, &v,
					    MDB_NEXT);
		}
		more = rc == 0;
		if (rc == LOY_ENOTFOUND)
			rc = 0;
		if (rc != 0 || mrc != 0)
			break;
		mrc = round_write(h, l, &r, last);
		if (mrc != 0)
			break;
		h->indexed = last;
		done += r.n;
	}
	free(r.p);
	mdb_cursor_close(c);
	ldg_rend(&t);
	if (rc == LOY_ENOTFOUND)
		rc = 0;
	if (rc != 0) {
		if (err && errlen)
			snprintf(err, errlen, "%s",
				 loy_ledger_damage(l) ? loy_ledger_damage(l)
						      : loy_strerror(rc));
		return rc;
	}
	if (mrc == ENOMEM)
		return hfail(err, errlen, LOY_ENOMEM, "index", mrc);
	if (mrc != 0)
		return hfail(err, errlen, damaged(mrc) ? LOY_ECORRUPT : LOY_EIO,
			     "index", mrc);
	return 0;
}

/* Builds history.mdb again after it failed a read or a write. */
static int hist_rebuild(struct loy_ledger *l, uint64_t budget, char *err,
			size_t errlen)
{
	if (l->hist.env != NULL) {
		mdb_env_close(l->hist.env);
		l->hist.env = NULL;
	}
	rebuilding(&l->hist, "a read or a write found it damaged");
	remove_files(l);
	int rc = hist_open(l, err, errlen);
	return rc != 0 ? rc : hist_catch_up(l, budget, err, errlen);
}

static int hist_ready(struct loy_ledger *l, uint64_t budget, char *err,
		      size_t errlen)
{
	int rc = hist_open(l, err, errlen);

	if (rc == 0)
		rc = hist_catch_up(l, budget, err, errlen);
	/* damage in history.mdb (not in data.mdb, which stays final) */
	if (rc == LOY_ECORRUPT && loy_ledger_damage(l) == NULL)
		rc = hist_rebuild(l, budget, err, errlen);
	return rc;
}

int loy_ledger_history_index(struct loy_ledger *l, uint64_t budget,
			     uint64_t *height, char *err, size_t errlen)
{
	int rc;

	pthread_mutex_lock(&l->hist.lock);
	rc = hist_ready(l, budget, err, errlen);
	if (height)
		*height = l->hist.indexed;
	pthread_mutex_unlock(&l->hist.lock);
	return rc;
}

/* Reads a page of id's history from history.mdb (lock held). */
static int hist_read(struct ldg_hist *h, const uint8_t id[LOY_ID_SIZE],
		     uint64_t *cursor, struct loy_history_item *items,
		     uint32_t max, uint32_t *n)
{
	MDB_txn *txn;
	MDB_cursor *c;
	uint8_t k0[KEY_SIZE];
	MDB_val k = {sizeof k0, k0}, v;
	int mrc = mdb_txn_begin(h->env, NULL, MDB_RDONLY, &txn);

	if (mrc != 0)
		return mrc;
	mrc = mdb_cursor_open(txn, h->idx, &c);
	if (mrc != 0) {
		mdb_txn_abort(txn);
		return mrc;
	}
	/* The cursor is (height << 32 | position) of the next item to show,
	 * plus one; 0 means "from the newest". */
	memcpy(k0, id, LOY_ID_SIZE);
	if (*cursor == 0) {
		memset(k0 + LOY_ID_SIZE, 0xff, 12);
	} else {
		uint64_t cur = *cursor - 1;
		be64put(k0 + LOY_ID_SIZE, cur >> 32);
		be32put(k0 + LOY_ID_SIZE + 8, (uint32_t)cur);
	}
	mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	if (mrc == 0 &&
	    (k.mv_size != sizeof k0 || memcmp(k.mv_data, k0, sizeof k0)))
		mrc = mdb_cursor_get(c, &k, &v, MDB_PREV);
	else if (mrc == MDB_NOTFOUND)
		mrc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	*cursor = 0;
	for (; mrc == 0; mrc = mdb_cursor_get(c, &k, &v, MDB_PREV)) {
		const uint8_t *kk = k.mv_data, *vv = v.mv_data;
		struct loy_history_item *it;
		uint64_t height;
		uint32_t pos;

		if (k.mv_size != sizeof k0 || memcmp(kk, id, LOY_ID_SIZE) != 0)
			break;
		height = be64get(kk + LOY_ID_SIZE);
		pos = be32get(kk + LOY_ID_SIZE + 8);
		if (*n == max) {
			*cursor = (height << 32 | pos) + 1;
			break;
		}
		if (v.mv_size != VAL_SIZE) {
			mrc = MDB_CORRUPTED;
			break;
		}
		it = &items[(*n)++];
		it->height = height;
		it->position = pos;
		memcpy(it->hash, vv, LOY_HASH_SIZE);
		it->kind = vv[32];
		it->code = (uint16_t)(vv[33] << 8 | vv[34]);
		it->delta = (int64_t)be64get(vv + 35);
	}
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	return mrc == MDB_NOTFOUND ? 0 : mrc;
}

int loy_ledger_history(struct loy_ledger *l, const uint8_t id[LOY_ID_SIZE],
		       uint64_t *cursor, struct loy_history_item *items,
		       uint32_t max, uint32_t *n)
{
	uint64_t start = *cursor;
	char err[256];
	int rc, mrc;

	*n = 0;
	pthread_mutex_lock(&l->hist.lock);
	rc = hist_ready(l, 0, err, sizeof err);
	if (rc == 0) {
		mrc = hist_read(&l->hist, id, cursor, items, max, n);
		if (mrc != 0 && damaged(mrc)) {
			*n = 0;
			*cursor = start;
			rc = hist_rebuild(l, 0, err, sizeof err);
			if (rc == 0)
				mrc = hist_read(&l->hist, id, cursor, items,
						max, n);
		}
		if (rc == 0 && mrc != 0)
			rc = damaged(mrc) ? LOY_ECORRUPT : LOY_EIO;
	}
	pthread_mutex_unlock(&l->hist.lock);
	return rc;
}

/* Looks hash up in history.mdb's txs (lock held): 0, MDB_NOTFOUND or an
 * LMDB error. */
static int tx_read(struct ldg_hist *h, const uint8_t hash[LOY_HASH_SIZE],
		   struct loy_tx_status *out)
{
	MDB_txn *txn;
	MDB_val k = {LOY_HASH_SIZE, (void *)hash}, v;
	int mrc = mdb_txn_begin(h->env, NULL, MDB_RDONLY, &txn);

	if (mrc != 0)
		return mrc;
	mrc = mdb_get(txn, h->txs, &k, &v);
	if (mrc == 0 && v.mv_size != TX_SIZE)
		mrc = MDB_CORRUPTED;
	if (mrc == 0) {
		const uint8_t *p = v.mv_data;
		out->height = be64get(p);
		out->position = be32get(p + 8);
		out->code = (uint16_t)(p[12] << 8 | p[13]);
		out->kind = p[14];
		memcpy(out->signer, p + 15, LOY_ID_SIZE);
	}
	mdb_txn_abort(txn);
	return mrc;
}

/* The rejection message of a transaction found in the index. */
static int tx_message(struct loy_ledger *l, const uint8_t hash[LOY_HASH_SIZE],
		      struct loy_tx_status *out)
{
	struct ldg_txn t;
	MDB_val v;
	int rc = ldg_rbegin(l, &t);

	if (rc != 0)
		return rc;
	rc = ldg_get(&t, LDB_TXMSG, hash, LOY_HASH_SIZE, &v);
	if (rc == 0) {
		size_t n = v.mv_size < sizeof out->msg - 1
			       ? v.mv_size
			       : sizeof out->msg - 1;
		memcpy(out->msg, v.mv_data, n);
		out->msg[n] = '\0';
	}
	ldg_rend(&t);
	return rc == LOY_ENOTFOUND ? 0 : rc;
}

int loy_ledger_tx(struct loy_ledger *l, const uint8_t hash[LOY_HASH_SIZE],
		  struct loy_tx_status *out)
{
	char err[256];
	int rc, mrc;

	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&l->hist.lock);
	rc = hist_ready(l, 0, err, sizeof err);
	if (rc == 0) {
		mrc = tx_read(&l->hist, hash, out);
		if (mrc != 0 && mrc != MDB_NOTFOUND && damaged(mrc)) {
			rc = hist_rebuild(l, 0, err, sizeof err);
			if (rc == 0)
				mrc = tx_read(&l->hist, hash, out);
		}
		if (rc == 0 && mrc == MDB_NOTFOUND)
			rc = LOY_ENOTFOUND;
		else if (rc == 0 && mrc != 0)
			rc = damaged(mrc) ? LOY_ECORRUPT : LOY_EIO;
	}
	pthread_mutex_unlock(&l->hist.lock);
	if (rc == 0 && out->code != LOY_REJ_OK)
		rc = tx_message(l, hash, out);
	if (rc != 0)
		memset(out, 0, sizeof *out);
	return rc;
}

bool loy_ledger_history_note(struct loy_ledger *l, char *buf, size_t len)
{
	bool any;

	pthread_mutex_lock(&l->hist.lock);
	any = l->hist.note[0] != '\0';
	if (any && buf && len)
		snprintf(buf, len, "%s", l->hist.note);
	l->hist.note[0] = '\0';
	pthread_mutex_unlock(&l->hist.lock);
	return any;
}
