/* Asynchronous flushes, and data_dir/checkpoint: which of data.mdb's
 * transactions is known to be on disk.
 *
 * A durable flush of the group writes its pages and waits for the disk
 * while holding the ledger thread: 25-35 ms once the chain has grown, most
 * of it the fdatasync, and a validator that cannot check the next block
 * meanwhile stalls the heights it is needed for. An asynchronous flush
 * commits the group without waiting (pages and meta page go to the kernel)
 * and leaves the fdatasync to another thread (loy_ledger_checkpoint); the
 * ledger thread goes on with the next group at once.
 *
 * That is safe because of three rules:
 * - the flushed group's blocks stay in the block log until data.mdb has
 *   them on disk: the log alternates between two files, and the one that
 *   holds the group is emptied only after the fdatasync and this file's
 *   update (blocklog.c);
 * - no commit starts while one is not on disk, so of LMDB's two meta
 *   pages the older always points at a tree that is wholly on disk, and
 *   none of that tree's pages is written over (a transaction writes only
 *   pages free before it, and the older tree's pages are freed by the
 *   newer transaction itself);
 * - this file names the newest transaction known to be on disk, T, and the
 *   boot that wrote it.
 * When the machine stops before the fdatasync, data.mdb's newest meta page
 * (transaction T + 1) may point at pages that never reached the disk. The
 * next start, seeing an earlier boot's id and T + 1 in data.mdb, copies
 * the meta page of T over it, which rolls the store back to T, and the
 * block log applies the rest. A process crash loses nothing (the kernel
 * still has the pages), so under the same boot the store is trusted as it
 * is and synced at once.
 *
 * The file has two 512-byte slots, written alternately: magic, sequence,
 * txnid, boot id, and a BLAKE2b of those; the valid slot with the higher
 * sequence counts, so a torn write leaves the previous record. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ledger/internal.h"
#include "wire/boot_id.h"
#include "wire/error.h"

#define NAME     "checkpoint"
#define MAGIC    "LOYCKPT1"
#define SLOT     512
#define REC_BODY (8 + 8 + 8 + LOY_BOOT_ID_SIZE)
#define REC_SUM  16

/* LMDB 0.9's file format (mdb.c): the two meta pages are pages 0 and 1;
 * after a 16-byte page header, MDB_meta begins with the magic and the
 * version, holds the page size in its first database record and ends with
 * the txnid (136 bytes on 64-bit builds). */
#define PAGE_HDR      16
#define META_LEN      136
#define META_MAGIC    0xBEEFC0DEu
#define META_VERSION  1u
#define META_PSIZE_AT 24  /* mm_dbs[FREE_DBI].md_pad */
#define META_TXNID_AT 128 /* mm_txnid */
#define P_META        0x08u

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* --- the checkpoint file --- */

struct rec {
	uint64_t seq, txnid;
	char boot[LOY_BOOT_ID_SIZE];
};

/* 1 with the newest valid record, 0 when there is none. */
static int file_read(int fd, struct rec *out)
{
	int found = 0;

	for (unsigned k = 0; k < 2; k++) {
		uint8_t b[REC_BODY + REC_SUM], sum[REC_SUM];
		struct rec r;
		if (pread(fd, b, sizeof b, (off_t)k * SLOT) !=
			(ssize_t)sizeof b ||
		    memcmp(b, MAGIC, 8) != 0)
			continue;
		crypto_generichash(sum, REC_SUM, b, REC_BODY, NULL, 0);
		if (sodium_memcmp(sum, b + REC_BODY, REC_SUM) != 0)
			continue;
		r.seq = be64get(b + 8);
		r.txnid = be64get(b + 16);
		memcpy(r.boot, b + 24, LOY_BOOT_ID_SIZE);
		r.boot[LOY_BOOT_ID_SIZE - 1] = '\0';
		if (!found || r.seq > out->seq)
			*out = r;
		found = 1;
	}
	return found;
}

/* Writes txnid as this boot's newest record, durably. ckpt.lock held. */
static int file_write(struct loy_ledger *l, uint64_t txnid)
{
	struct ldg_ckpt *c = &l->ckpt;
	uint8_t b[REC_BODY + REC_SUM] = {0};
	char boot[LOY_BOOT_ID_SIZE];
	uint64_t seq = c->seq + 1;

	/* never backwards: a sync that read its txnid before a later one
	 * finished must not claim less than that one did */
	if (c->seq > 0 && txnid <= c->durable)
		return 0;
	loy_boot_id(boot);
	memcpy(b, MAGIC, 8);
	be64put(b + 8, seq);
	be64put(b + 16, txnid);
	memcpy(b + 24, boot, strnlen(boot, LOY_BOOT_ID_SIZE - 1));
	crypto_generichash(b + REC_BODY, REC_SUM, b, REC_BODY, NULL, 0);
	if (pwrite(c->fd, b, sizeof b, (off_t)(seq % 2) * SLOT) !=
		(ssize_t)sizeof b ||
	    fdatasync(c->fd) != 0)
		return ldg_fail(l, LOY_EIO, "ledger: %s/" NAME ": %s", l->path,
				strerror(errno));
	c->seq = seq;
	c->durable = txnid;
	return 0;
}

/* --- data.mdb's meta pages --- */

struct metas {
	unsigned psize;
	uint64_t txnid[2];
	uint8_t meta[2][META_LEN];
};

static int metas_read(int fd, struct metas *m)
{
	uint8_t page[PAGE_HDR + META_LEN];

	m->psize = 0;
	for (unsigned k = 0; k < 2; k++) {
		const uint8_t *meta = page + PAGE_HDR;
		if (pread(fd, page, sizeof page, (off_t)k * m->psize) !=
			(ssize_t)sizeof page ||
		    !(((unsigned)page[10] | (unsigned)page[11] << 8) &
		      P_META) ||
		    le32(meta) != META_MAGIC || le32(meta + 4) != META_VERSION)
			return -1;
		if (k == 0) {
			m->psize = le32(meta + META_PSIZE_AT);
			if (m->psize < 512 || m->psize > 65536 ||
			    (m->psize & (m->psize - 1)) != 0)
				return -1;
		}
		m->txnid[k] = le64(meta + META_TXNID_AT);
		memcpy(m->meta[k], meta, META_LEN);
	}
	return 0;
}

/* Copies meta page `from` over meta page `to` (the store then opens at
 * from's transaction), durably. */
static int metas_roll_back(int fd, const struct metas *m, unsigned from)
{
	unsigned to = from ^ 1u;

	if (pwrite(fd, m->meta[from], META_LEN,
		   (off_t)to * m->psize + PAGE_HDR) != META_LEN)
		return -1;
	return fdatasync(fd);
}

/* Where data.mdb's newest transaction may not be on disk: rolls it back to
 * T when it is T + 1 and an earlier boot wrote the file. */
static int check_store(const char *dir, const struct rec *r, uint64_t *newest,
		       char *note, size_t note_size, char *why, size_t why_size)
{
	char path[4200];
	struct metas m;
	unsigned newer;
	uint64_t x;
	int fd, rc = 0;

	snprintf(path, sizeof path, "%s/data.mdb", dir);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0; /* LMDB says what is missing */
		snprintf(why, why_size, "%s: %s", path, strerror(errno));
		return LOY_EIO;
	}
	if (metas_read(fd, &m) != 0) {
		close(fd); /* not LMDB's format: LMDB says so */
		return 0;
	}
	newer = m.txnid[1] > m.txnid[0];
	x = m.txnid[newer];
	*newest = x;
	if (x <= r->txnid || loy_same_boot(r->boot))
		goto out; /* on disk, or the kernel still holds it */
	if (x == r->txnid + 1 && m.txnid[newer ^ 1u] == r->txnid) {
		if (metas_roll_back(fd, &m, newer ^ 1u) != 0) {
			snprintf(why, why_size, "%s: %s", path,
				 strerror(errno));
			rc = LOY_EIO;
			goto out;
		}
		snprintf(note, note_size,
			 "the machine stopped before data.mdb's last flush "
			 "reached the disk: rolled data.mdb back to its "
			 "transaction %llu, which did; the block log holds "
			 "the blocks that followed",
			 (unsigned long long)r->txnid);
		goto out;
	}
	rc = LOY_ECORRUPT;
	snprintf(why, why_size,
		 "data.mdb holds transaction %llu, but only %llu is "
		 "known to have reached the disk before the machine "
		 "stopped, so data.mdb may be incomplete or damaged; "
		 "move the data directory away and let the node "
		 "resync from its peers",
		 (unsigned long long)x, (unsigned long long)r->txnid);
out:
	close(fd);
	return rc;
}

/* Opens dir/checkpoint (fd -1 when there is none) and reads its newest
 * record. */
static int ckpt_file_open(const char *dir, int *fd, struct rec *r, char *why,
			  size_t why_size)
{
	char path[4200];

	snprintf(path, sizeof path, "%s/" NAME, dir);
	*fd = open(path, O_RDWR | O_CLOEXEC);
	if (*fd < 0) {
		if (errno == ENOENT)
			return 0; /* no asynchronous flush yet */
		snprintf(why, why_size, "%s: %s", path, strerror(errno));
		return LOY_EIO;
	}
	if (!file_read(*fd, r)) {
		close(*fd);
		*fd = -1;
		snprintf(why, why_size,
			 "%s: damaged, so it cannot say whether data.mdb "
			 "reached the disk; move the data directory away and "
			 "let the node resync from its peers",
			 path);
		return LOY_ECORRUPT;
	}
	return 0;
}

int loy_ledger_recover(const char *dir, char *note, size_t note_size, char *why,
		       size_t why_size)
{
	struct rec r;
	uint64_t x = 0;
	int fd, rc;

	if (note_size > 0)
		note[0] = '\0';
	rc = ckpt_file_open(dir, &fd, &r, why, why_size);
	if (rc != 0 || fd < 0)
		return rc;
	rc = check_store(dir, &r, &x, note, note_size, why, why_size);
	close(fd);
	return rc;
}

int ldg_ckpt_open(struct loy_ledger *l, bool rdonly, char *why, size_t why_size)
{
	struct ldg_ckpt *c = &l->ckpt;
	struct rec r;
	uint64_t x = 0;
	int fd, rc;

	/* A read-only open (an audit, perhaps of a copy made while the node
	 * ran) reads data.mdb as it is: the audit checks every block and
	 * root, so damage fails it loudly. */
	if (rdonly)
		return 0;
	rc = ckpt_file_open(l->path, &fd, &r, why, why_size);
	if (rc != 0 || fd < 0)
		return rc;
	rc = check_store(l->path, &r, &x, c->note, sizeof c->note, why,
			 why_size);
	if (rc != 0) {
		close(fd);
		return rc;
	}
	c->fd = fd;
	c->seq = r.seq;
	/* a data.mdb older than the file (a new one after the old was moved
	 * away, or one restored) starts the count again */
	c->durable = x < r.txnid ? 0 : r.txnid;
	return 0;
}

static uint64_t last_txnid(struct loy_ledger *l)
{
	MDB_envinfo info;

	if (mdb_env_info(l->env, &info) != 0)
		return 0;
	return (uint64_t)info.me_last_txnid;
}

/* fdatasync of data.mdb, then the file says txnid is on disk. The caller
 * read txnid before, so that a commit made meanwhile is not claimed. */
static int sync_to(struct loy_ledger *l, uint64_t txnid)
{
	mdb_filehandle_t fd;

	if (mdb_env_get_fd(l->env, &fd) != 0 || fdatasync(fd) != 0)
		return ldg_fail(l, LOY_EIO, "ledger: %s/data.mdb: sync: %s",
				l->path, strerror(errno));
	return l->ckpt.fd >= 0 ? file_write(l, txnid) : 0;
}

int ldg_ckpt_opened(struct loy_ledger *l)
{
	struct ldg_ckpt *c = &l->ckpt;
	uint64_t x = last_txnid(l);
	int rc = 0;

	if (c->fd < 0 || x <= c->durable)
		return 0;
	pthread_mutex_lock(&c->lock);
	rc = sync_to(l, x);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

/* The pending asynchronous flush reaches the disk; its blocks leave the
 * log. ckpt.lock held. */
static int settle(struct loy_ledger *l)
{
	struct ldg_ckpt *c = &l->ckpt;
	uint64_t p = atomic_load(&c->pending);
	int rc;

	if (p == 0)
		return 0;
	rc = sync_to(l, p);
	if (rc != 0)
		return rc;
	atomic_store(&c->pending, 0);
	ldg_log_drop_spare(l);
	return 0;
}

int loy_ledger_checkpoint(struct loy_ledger *l)
{
	int rc;

	pthread_mutex_lock(&l->ckpt.lock);
	rc = settle(l);
	pthread_mutex_unlock(&l->ckpt.lock);
	return rc;
}

int ldg_ckpt_before_commit(struct loy_ledger *l)
{
	return atomic_load(&l->ckpt.pending) ? loy_ledger_checkpoint(l) : 0;
}

int ldg_ckpt_after_commit(struct loy_ledger *l, bool durable)
{
	struct ldg_ckpt *c = &l->ckpt;
	int rc = 0;

	if (!durable)
		return 0;
	pthread_mutex_lock(&c->lock);
	if (c->fd >= 0)
		rc = file_write(l, last_txnid(l));
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int loy_ledger_sync(struct loy_ledger *l)
{
	uint64_t x = last_txnid(l);
	int rc;

	pthread_mutex_lock(&l->ckpt.lock);
	rc = sync_to(l, x);
	pthread_mutex_unlock(&l->ckpt.lock);
	return rc == 0 ? 0 : LOY_EIO;
}

/* Creates the file, naming the newest transaction, which must be on disk. */
static int ckpt_create(struct loy_ledger *l)
{
	struct ldg_ckpt *c = &l->ckpt;
	char path[4200];
	uint64_t x = last_txnid(l);
	int rc;

	snprintf(path, sizeof path, "%s/" NAME, l->path);
	pthread_mutex_lock(&c->lock);
	c->fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	c->seq = 0;
	c->durable = 0;
	rc = c->fd < 0
		 ? ldg_fail(l, LOY_EIO, "ledger: %s: %s", path, strerror(errno))
		 : sync_to(l, x); /* what an earlier run left unsynced */
	pthread_mutex_unlock(&c->lock);
	if (rc != 0)
		return rc;
	/* the file's name, durably */
	if (loy_sync_dir(l->path) != 0)
		return ldg_fail(l, LOY_EIO, "ledger: %s: sync: %s", l->path,
				strerror(errno));
	return 0;
}

int loy_ledger_flush_async(struct loy_ledger *l, bool *async)
{
	struct ldg_ckpt *c = &l->ckpt;
	struct ldg_group *g = &l->group;
	int rc;

	*async = false;
	if (g->txn == NULL || g->unlogged || g->logged == 0)
		return loy_ledger_flush(l);
	rc = ldg_ckpt_before_commit(l);
	if (rc == 0 && c->fd < 0)
		rc = ckpt_create(l);
	if (rc != 0)
		return rc;
	pthread_mutex_lock(&c->lock);
	rc = ldg_log_rotate(l);
	pthread_mutex_unlock(&c->lock);
	if (rc != 0)
		return rc;
	rc = ldg_group_commit(l, true);
	if (rc != 0)
		return rc;
	atomic_store(&c->pending, last_txnid(l));
	*async = true;
	return 0;
}

const char *loy_ledger_open_note(struct loy_ledger *l)
{
	return l->ckpt.note[0] ? l->ckpt.note : NULL;
}

void ldg_ckpt_close(struct loy_ledger *l)
{
	if (l->ckpt.fd >= 0)
		close(l->ckpt.fd);
	l->ckpt.fd = -1;
}
