/* The block log (data_dir/blocks.wal): committed blocks that are in the
 * ledger's open group transaction but not yet in data.mdb. Appending one is
 * a sequential write and one fdatasync, where committing it to data.mdb
 * would write every B-tree page it touched; the group reaches data.mdb at
 * the next flush, after which the log is emptied. An asynchronous flush
 * (checkpoint.c) moves the appends to a second file, blocks2.wal, and the
 * first is emptied only once data.mdb has that group on disk; the two
 * alternate. At start the node applies what the log holds above the
 * store's tip (after a crash), the file with the older blocks first, each
 * block with its commit certificate checked again.
 *
 * A record: "LOYW", u32 record length, u64 height, u32 block length,
 * u32 certificate length, the block, the certificate, and a 16-byte
 * BLAKE2b of everything before it. A torn or damaged record ends the
 * log: nothing after it was acknowledged by this append. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger/internal.h"
#include "wire/error.h"
#include "wire/limits.h"

#define HDR     24u
#define SUM     16u
#define MAGIC   "LOYW"
#define LOGNAME "blocks.wal"
/* the two files the log alternates between (see ldg_log_rotate) */
static const char *const log_names[2] = {LOGNAME, "blocks2.wal"};
/* a certificate: a few dozen signatures, far below this */
#define CERT_MAX (256u << 10)

/* Reads the record at off into *buf (grown as needed). Returns its length,
 * or 0 at the end of the log (end of file, a torn or damaged record). */
static size_t read_record(int fd, uint64_t off, uint8_t **buf, size_t *cap,
			  uint64_t *height, const uint8_t **block,
			  uint32_t *blen, const uint8_t **cert, uint32_t *clen)
{
	uint8_t hdr[HDR], sum[SUM];
	uint32_t len, bl, cl;
	ssize_t r = pread(fd, hdr, HDR, (off_t)off);

	if (r != (ssize_t)HDR || memcmp(hdr, MAGIC, 4) != 0)
		return 0;
	len = be32get(hdr + 4);
	bl = be32get(hdr + 16);
	cl = be32get(hdr + 20);
	/* sizes first: nothing is allocated for a length the record cannot
	 * have */
	if (bl == 0 || bl > LOY_MAX_BLOCK_BYTES || cl == 0 || cl > CERT_MAX ||
	    len != HDR + bl + cl + SUM)
		return 0;
	if (*cap < len) {
		uint8_t *nb = realloc(*buf, len);
		if (nb == NULL)
			return 0;
		*buf = nb;
		*cap = len;
	}
	r = pread(fd, *buf, len, (off_t)off);
	if (r != (ssize_t)len)
		return 0;
	crypto_generichash(sum, SUM, *buf, len - SUM, NULL, 0);
	if (sodium_memcmp(sum, *buf + len - SUM, SUM) != 0)
		return 0;
	*height = be64get(*buf + 8);
	*block = *buf + HDR;
	*blen = bl;
	*cert = *buf + HDR + bl;
	*clen = cl;
	return len;
}

/* Opens log file idx; a missing one is created, or left at -1 when not
 * create. */
static int open_file(struct loy_ledger *l, unsigned idx, bool create, int *fd)
{
	char path[4200];

	snprintf(path, sizeof path, "%s/%s", l->path, log_names[idx]);
	*fd = open(path, O_RDWR | (create ? O_CREAT : 0) | O_CLOEXEC, 0600);
	if (*fd < 0 && !create && errno == ENOENT)
		return 0;
	if (*fd < 0)
		return ldg_fail(l, LOY_EIO, "ledger: %s: %s", path,
				strerror(errno));
	return 0;
}

/* The end of the last whole record of fd (a torn one is written over). */
static uint64_t log_end(int fd)
{
	uint8_t *buf = NULL;
	size_t cap = 0, n;
	uint64_t off = 0, h;
	const uint8_t *b, *c;
	uint32_t bl, cl;

	while ((n = read_record(fd, off, &buf, &cap, &h, &b, &bl, &c, &cl)) > 0)
		off += n;
	free(buf);
	return off;
}

static int log_open(struct loy_ledger *l)
{
	int rc;

	if (l->group.log_fd >= 0)
		return 0;
	rc = open_file(l, l->group.log_idx, true, &l->group.log_fd);
	if (rc == 0)
		l->group.log_off = log_end(l->group.log_fd);
	return rc;
}

int ldg_log_rotate(struct loy_ledger *l)
{
	struct ldg_group *g = &l->group;
	int rc = log_open(l), fd;

	if (rc != 0)
		return rc;
	if (g->spare_fd < 0) {
		rc = open_file(l, g->log_idx ^ 1u, true, &g->spare_fd);
		if (rc != 0)
			return rc;
	}
	/* what it held is on disk already (ldg_log_drop_spare) */
	if (ftruncate(g->spare_fd, 0) != 0)
		return ldg_fail(l, LOY_EIO, "ledger: block log: truncate: %s",
				strerror(errno));
	fd = g->spare_fd;
	g->spare_fd = g->log_fd;
	g->log_fd = fd;
	g->log_idx ^= 1u;
	g->log_off = 0;
	return 0;
}

void ldg_log_drop_spare(struct loy_ledger *l)
{
	/* Not synced, and may fail: records the store holds are skipped at
	 * replay. */
	if (l->group.spare_fd >= 0 && ftruncate(l->group.spare_fd, 0) != 0)
		return;
}

int ldg_log_append(struct loy_ledger *l, uint64_t height, const uint8_t *block,
		   size_t blen, const uint8_t *cert, size_t clen)
{
	size_t len = HDR + blen + clen + SUM, done = 0;
	uint8_t *rec;
	int rc = log_open(l);

	if (rc != 0)
		return rc;
	if (blen == 0 || blen > LOY_MAX_BLOCK_BYTES || clen == 0 ||
	    clen > CERT_MAX)
		return ldg_fail(l, LOY_EINVAL,
				"ledger: block log: block %llu "
				"too large",
				(unsigned long long)height);
	rec = malloc(len);
	if (rec == NULL)
		return ldg_fail(l, LOY_ENOMEM, "ledger: block log: no memory");
	memcpy(rec, MAGIC, 4);
	be32put(rec + 4, (uint32_t)len);
	be64put(rec + 8, height);
	be32put(rec + 16, (uint32_t)blen);
	be32put(rec + 20, (uint32_t)clen);
	memcpy(rec + HDR, block, blen);
	memcpy(rec + HDR + blen, cert, clen);
	crypto_generichash(rec + len - SUM, SUM, rec, len - SUM, NULL, 0);
	while (done < len) {
		ssize_t w = pwrite(l->group.log_fd, rec + done, len - done,
				   (off_t)(l->group.log_off + done));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			free(rec);
			return ldg_fail(l, LOY_EIO,
					"ledger: block log: write: %s",
					strerror(errno));
		}
		done += (size_t)w;
	}
	free(rec);
	if (fdatasync(l->group.log_fd) != 0)
		return ldg_fail(l, LOY_EIO, "ledger: block log: fdatasync: %s",
				strerror(errno));
	l->group.log_off += len;
	return 0;
}

void ldg_log_reset(struct loy_ledger *l)
{
	/* Not synced: records the store already holds are skipped at replay,
	 * whether or not this truncation reached the disk. */
	if (l->group.replaying)
		return;
	if (l->group.log_fd >= 0 && l->group.log_off > 0 &&
	    ftruncate(l->group.log_fd, 0) == 0)
		l->group.log_off = 0;
	pthread_mutex_lock(&l->ckpt.lock);
	ldg_log_drop_spare(l);
	pthread_mutex_unlock(&l->ckpt.lock);
}

void ldg_log_close(struct loy_ledger *l)
{
	if (l->group.log_fd >= 0)
		close(l->group.log_fd);
	if (l->group.spare_fd >= 0)
		close(l->group.spare_fd);
	l->group.log_fd = -1;
	l->group.spare_fd = -1;
}

/* Applies the blocks of one log file above the store's tip, in order, up to
 * the first that is not the next one. */
static int replay_file(struct loy_ledger *l, unsigned idx, int fd,
		       uint32_t *replayed)
{
	uint8_t *buf = NULL;
	size_t cap = 0, n;
	uint64_t off = 0, h, tip = 0;
	const uint8_t *b, *c;
	uint32_t bl, cl;
	int rc = 0;

	while ((n = read_record(fd, off, &buf, &cap, &h, &b, &bl, &c, &cl)) >
	       0) {
		off += n;
		rc = loy_ledger_tip(l, &tip, NULL, NULL, NULL);
		if (rc != 0)
			break;
		if (h <= tip)
			continue; /* in the store already */
		if (h != tip + 1)
			break; /* not the next block: the log ends here */
		/* durable, and the certificate checked against the set */
		rc = loy_ledger_apply_block(l, b, bl, c, cl, 0, NULL);
		if (rc != 0) {
			char why[sizeof l->errmsg];
			snprintf(why, sizeof why, "%s", l->errmsg);
			ldg_fail(l, rc, "ledger: %s/%s: block %llu: %s",
				 l->path, log_names[idx], (unsigned long long)h,
				 why);
			break;
		}
		(*replayed)++;
	}
	free(buf);
	return rc;
}

/* The height of fd's first record, UINT64_MAX when it has none. */
static uint64_t first_height(int fd)
{
	uint8_t *buf = NULL;
	size_t cap = 0;
	uint64_t h = UINT64_MAX;
	const uint8_t *b, *c;
	uint32_t bl, cl;

	if (read_record(fd, 0, &buf, &cap, &h, &b, &bl, &c, &cl) == 0)
		h = UINT64_MAX;
	free(buf);
	return h;
}

int loy_ledger_replay_log(struct loy_ledger *l, uint32_t *replayed)
{
	struct ldg_group *g = &l->group;
	unsigned first;
	int rc;

	*replayed = 0;
	if (l->flags & LOY_LEDGER_RDONLY)
		return 0;
	rc = log_open(l);
	if (rc == 0 && g->spare_fd < 0)
		rc = open_file(l, g->log_idx ^ 1u, false, &g->spare_fd);
	if (rc != 0)
		return rc;
	/* After an asynchronous flush both files hold blocks: the older
	 * group's file first. */
	first = g->spare_fd >= 0 &&
			first_height(g->spare_fd) < first_height(g->log_fd)
		    ? g->log_idx ^ 1u
		    : g->log_idx;
	/* each block is committed durably, which would empty the log */
	g->replaying = true;
	rc = replay_file(
	    l, first, first == g->log_idx ? g->log_fd : g->spare_fd, replayed);
	if (rc == 0 && g->spare_fd >= 0)
		rc = replay_file(l, first ^ 1u,
				 first == g->log_idx ? g->spare_fd : g->log_fd,
				 replayed);
	g->replaying = false;
	g->log_off = log_end(g->log_fd);
	if (rc == 0)
		ldg_log_reset(l);
	return rc;
}
