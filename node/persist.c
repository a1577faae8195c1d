/* consensus.state: a small, checksummed, atomically replaced file. */
#include "node/persist.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wire/boot_id.h"
#include "wire/error.h"

#define MAGIC     "LOYCS001"
#define FILE_NAME "consensus.state"
#define MAX_FILE  (LOY_MAX_BLOCK_BYTES + 64 * 1024)

int loy_persist_copy(struct loy_persist_copy *c,
		     const struct loy_cons_persist *rec, uint64_t seq)
{
	memset(c, 0, sizeof *c);
	c->rec = *rec;
	c->seq = seq;
	c->rec.prepared_block = NULL;
	c->rec.prepared_block_len = 0;
	if (rec->has_prepared && rec->prepared_block_len > 0) {
		if (loy_buf_copy(&c->block, rec->prepared_block,
				 rec->prepared_block_len) != 0)
			return LOY_ENOMEM;
		c->rec.prepared_block = c->block.data;
		c->rec.prepared_block_len = c->block.len;
	}
	return 0;
}

void loy_persist_copy_free(struct loy_persist_copy *c)
{
	loy_buf_free(&c->block);
	c->rec.prepared_block = NULL;
	c->rec.prepared_block_len = 0;
}

/* A growable byte string for the file image. */
struct img {
	uint8_t *p;
	size_t n, cap;
	int oom;
};

static void put(struct img *m, const void *d, size_t len)
{
	if (m->oom)
		return;
	if (m->n + len > m->cap) {
		size_t cap = (m->n + len) * 2;
		uint8_t *q = realloc(m->p, cap);
		if (q == NULL) {
			m->oom = 1;
			return;
		}
		m->p = q;
		m->cap = cap;
	}
	memcpy(m->p + m->n, d, len);
	m->n += len;
}

static void put_u64(struct img *m, uint64_t v)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put(m, b, 8);
}

static void put_u8(struct img *m, uint8_t v)
{
	put(m, &v, 1);
}

static int path_of(char *out, size_t cap, const char *dir, const char *name)
{
	return (size_t)snprintf(out, cap, "%s/%s", dir, name) < cap
		   ? 0
		   : LOY_EINVAL;
}

/* Builds the record image: magic, fields, BLAKE2b of all that. */
static int encode_image(const struct loy_persist_copy *c, struct img *m,
			char *err, size_t err_size)
{
	const struct loy_cons_persist *r = &c->rec;
	struct loy_buf cert = {0};
	uint8_t sum[LOY_HASH_SIZE];

	put(m, MAGIC, 8);
	put_u64(m, r->height);
	put_u64(m, r->view);
	put_u8(m, r->in_view_change);
	put_u8(m, r->proposed);
	put(m, r->proposed_hash, LOY_HASH_SIZE);
	put_u8(m, r->voted_prepare);
	put(m, r->prepare_hash, LOY_HASH_SIZE);
	put_u8(m, r->voted_commit);
	put(m, r->commit_hash, LOY_HASH_SIZE);
	put_u8(m, r->has_prepared);
	if (r->has_prepared) {
		if (loy_cert_encode(&r->prepared, &cert) != 0) {
			snprintf(
			    err, err_size,
			    "persist: cannot encode the prepared certificate");
			return LOY_EINVAL;
		}
		put_u64(m, cert.len);
		put(m, cert.data, cert.len);
		put_u64(m, c->block.len);
		put(m, c->block.data, c->block.len);
		loy_buf_free(&cert);
	}
	if (!m->oom) {
		loy_hash(sum, m->p, m->n);
		put(m, sum, sizeof sum);
	}
	if (m->oom) {
		snprintf(err, err_size, "persist: out of memory");
		return LOY_ENOMEM;
	}
	return 0;
}

/* A bounded reader over the file image. */
struct rd {
	const uint8_t *p;
	size_t n, off;
	int bad;
};

static void get(struct rd *r, void *out, size_t len)
{
	if (r->bad || r->n - r->off < len) {
		r->bad = 1;
		memset(out, 0, len);
		return;
	}
	memcpy(out, r->p + r->off, len);
	r->off += len;
}

static uint64_t get_u64(struct rd *r)
{
	uint8_t b[8];
	uint64_t v = 0;
	get(r, b, 8);
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | b[i];
	return v;
}

static uint8_t get_u8(struct rd *r)
{
	uint8_t v;
	get(r, &v, 1);
	return v;
}

/* Parses a record image (magic, fields, checksum) into c. */
static int decode_image(const uint8_t *buf, size_t len,
			struct loy_persist_copy *c, const char *path, char *err,
			size_t err_size)
{
	struct loy_cons_persist *rec = &c->rec;
	uint8_t sum[LOY_HASH_SIZE];
	struct rd r;
	char magic[8];

	memset(c, 0, sizeof *c);
	if (len < 8 + LOY_HASH_SIZE) {
		snprintf(err, err_size, "%s: damaged (record of %zu bytes)",
			 path, len);
		return LOY_ECORRUPT;
	}
	r = (struct rd){buf, len - LOY_HASH_SIZE, 0, 0};
	loy_hash(sum, buf, r.n);
	if (memcmp(sum, buf + r.n, LOY_HASH_SIZE) != 0) {
		snprintf(err, err_size,
			 "%s: checksum mismatch (the file is damaged; "
			 "the node will not start rather than forget what it "
			 "signed)",
			 path);
		return LOY_ECORRUPT;
	}
	get(&r, magic, 8);
	if (r.bad || memcmp(magic, MAGIC, 8) != 0) {
		snprintf(err, err_size, "%s: not a consensus state file", path);
		return LOY_ECORRUPT;
	}
	rec->height = get_u64(&r);
	rec->view = get_u64(&r);
	rec->in_view_change = get_u8(&r);
	rec->proposed = get_u8(&r);
	get(&r, rec->proposed_hash, LOY_HASH_SIZE);
	rec->voted_prepare = get_u8(&r);
	get(&r, rec->prepare_hash, LOY_HASH_SIZE);
	rec->voted_commit = get_u8(&r);
	get(&r, rec->commit_hash, LOY_HASH_SIZE);
	rec->has_prepared = get_u8(&r);
	if (rec->has_prepared) {
		uint64_t clen = get_u64(&r), blen;
		if (r.bad || clen > r.n - r.off ||
		    loy_cert_decode(&rec->prepared, r.p + r.off,
				    (size_t)clen) != 0) {
			snprintf(err, err_size, "%s: bad prepared certificate",
				 path);
			goto bad;
		}
		r.off += (size_t)clen;
		blen = get_u64(&r);
		if (r.bad || blen > r.n - r.off ||
		    loy_buf_copy(&c->block, r.p + r.off, (size_t)blen) != 0) {
			snprintf(err, err_size, "%s: bad prepared block", path);
			goto bad;
		}
		r.off += (size_t)blen;
		rec->prepared_block = c->block.data;
		rec->prepared_block_len = c->block.len;
	}
	if (r.bad || r.off != r.n) {
		snprintf(err, err_size, "%s: damaged (length)", path);
		goto bad;
	}
	return 0;
bad:
	loy_persist_copy_free(c);
	return LOY_ECORRUPT;
}

/*
 * The file holds two slots at fixed offsets, written alternately: a write
 * is one pwrite and one fdatasync (no temp file, rename or directory sync),
 * and a write torn by a crash leaves the other slot, the last durable
 * record, intact. A slot is
 *   SLOT_MAGIC(8) | seq u64 | len u64 | image(len) | BLAKE2b(all before)
 * with seq n in slot (n - 1) % 2; the loader takes the valid slot with the
 * higher seq.
 */
#define SLOT_MAGIC "LOYCSLT1"
#define SLOT_HDR   24
#define SLOT_SIZE  (((MAX_FILE + SLOT_HDR + LOY_HASH_SIZE) + 4095) & ~4095u)

struct loy_persist_file {
	int fd;
	uint64_t seq; /* of the last slot written or loaded */
	char path[1100];
};

static void put_u64_at(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_u64_at(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* Reads slot k: 1 with its image in *img (malloc'd) and *seq, 0 when the
 * slot is empty, torn or damaged (never written durably). */
static int read_slot(int fd, unsigned k, uint8_t **img, size_t *len,
		     uint64_t *seq)
{
	uint8_t hdr[SLOT_HDR], sum[LOY_HASH_SIZE], *buf;
	off_t at = (off_t)k * (off_t)SLOT_SIZE;
	uint64_t n;

	if (pread(fd, hdr, sizeof hdr, at) != (ssize_t)sizeof hdr ||
	    memcmp(hdr, SLOT_MAGIC, 8) != 0)
		return 0;
	n = get_u64_at(hdr + 16);
	if (n > MAX_FILE)
		return 0;
	buf = malloc(SLOT_HDR + (size_t)n + LOY_HASH_SIZE);
	if (buf == NULL)
		return -1;
	if (pread(fd, buf, SLOT_HDR + (size_t)n + LOY_HASH_SIZE, at) !=
	    (ssize_t)(SLOT_HDR + n + LOY_HASH_SIZE)) {
		free(buf);
		return 0;
	}
	loy_hash(sum, buf, SLOT_HDR + (size_t)n);
	if (memcmp(sum, buf + SLOT_HDR + n, LOY_HASH_SIZE) != 0) {
		free(buf);
		return 0;
	}
	*seq = get_u64_at(buf + 8);
	memmove(buf, buf + SLOT_HDR, (size_t)n);
	*img = buf;
	*len = (size_t)n;
	return 1;
}

/* Writes the image into the slot after f->seq and makes it durable. */
static int write_slot(struct loy_persist_file *f, const uint8_t *img,
		      size_t len, char *err, size_t err_size)
{
	uint64_t seq = f->seq + 1;
	off_t at = (off_t)((seq - 1) % 2) * (off_t)SLOT_SIZE;
	uint8_t *buf;

	if (len > MAX_FILE) { /* it would run into the other slot */
		snprintf(err, err_size,
			 "persist: record of %zu bytes too large", len);
		return LOY_EINVAL;
	}
	buf = malloc(SLOT_HDR + len + LOY_HASH_SIZE);
	if (buf == NULL) {
		snprintf(err, err_size, "persist: out of memory");
		return LOY_ENOMEM;
	}
	memcpy(buf, SLOT_MAGIC, 8);
	put_u64_at(buf + 8, seq);
	put_u64_at(buf + 16, len);
	memcpy(buf + SLOT_HDR, img, len);
	loy_hash(buf + SLOT_HDR + len, buf, SLOT_HDR + len);
	if (pwrite(f->fd, buf, SLOT_HDR + len + LOY_HASH_SIZE, at) !=
		(ssize_t)(SLOT_HDR + len + LOY_HASH_SIZE) ||
	    fdatasync(f->fd) != 0) {
		snprintf(err, err_size, "persist: write %s: %s", f->path,
			 strerror(errno));
		free(buf);
		return LOY_EIO;
	}
	free(buf);
	f->seq = seq;
	return 0;
}

int loy_persist_write(struct loy_persist_file *f,
		      const struct loy_persist_copy *c, char *err,
		      size_t err_size)
{
	struct img m = {0};
	int rv;

	if (c->rec.has_prepared && c->block.len > LOY_MAX_BLOCK_BYTES) {
		snprintf(err, err_size, "persist: prepared block too large");
		return LOY_EINVAL;
	}
	rv = encode_image(c, &m, err, err_size);
	if (rv == 0)
		rv = write_slot(f, m.p, m.n, err, err_size);
	free(m.p);
	return rv;
}

/* Reads the whole file (an older single-record file). */
static int read_all(int fd, const char *path, uint8_t **out, size_t *len,
		    char *err, size_t err_size)
{
	struct stat st;
	uint8_t *buf;

	if (fstat(fd, &st) != 0 || st.st_size < (off_t)(8 + LOY_HASH_SIZE) ||
	    st.st_size > (off_t)MAX_FILE) {
		snprintf(err, err_size, "%s: damaged (size %lld)", path,
			 (long long)st.st_size);
		return LOY_ECORRUPT;
	}
	buf = malloc((size_t)st.st_size);
	if (buf == NULL ||
	    pread(fd, buf, (size_t)st.st_size, 0) != st.st_size) {
		snprintf(err, err_size, "%s: cannot read", path);
		free(buf);
		return LOY_EIO;
	}
	*out = buf;
	*len = (size_t)st.st_size;
	return 0;
}

/* Replaces an older single-record file by a slot file holding rec, through
 * a temp file and rename so a crash leaves one or the other. */
static int convert_old(struct loy_persist_file *f, const char *dir,
		       const uint8_t *img, size_t len, char *err,
		       size_t err_size)
{
	char tmp[1100];
	struct loy_persist_file t = {.fd = -1, .seq = 0};
	int rv;

	if (path_of(tmp, sizeof tmp, dir, FILE_NAME ".tmp") != 0)
		return LOY_EINVAL;
	snprintf(t.path, sizeof t.path, "%s", tmp);
	t.fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (t.fd < 0) {
		snprintf(err, err_size, "%s: %s", tmp, strerror(errno));
		return LOY_EIO;
	}
	rv = write_slot(&t, img, len, err, err_size);
	if (rv == 0 && rename(tmp, f->path) != 0) {
		snprintf(err, err_size, "persist: rename to %s: %s", f->path,
			 strerror(errno));
		rv = LOY_EIO;
	}
	if (rv == 0 && loy_sync_dir(dir) != 0) {
		snprintf(err, err_size, "persist: fsync %s: %s", dir,
			 strerror(errno));
		rv = LOY_EIO;
	}
	if (rv != 0) {
		close(t.fd);
		return rv;
	}
	close(f->fd);
	f->fd = t.fd;
	f->seq = t.seq;
	return 0;
}

int loy_persist_open(const char *dir, struct loy_persist_file **out,
		     struct loy_persist_copy *c, char *err, size_t err_size)
{
	struct loy_persist_file *f = calloc(1, sizeof *f);
	uint8_t *img[2] = {NULL, NULL}, magic[8];
	size_t len[2] = {0, 0};
	uint64_t seq[2] = {0, 0};
	int ok[2], rv = LOY_ENOTFOUND, best;

	*out = NULL;
	memset(c, 0, sizeof *c);
	if (f == NULL)
		return LOY_ENOMEM;
	if (path_of(f->path, sizeof f->path, dir, FILE_NAME) != 0) {
		free(f);
		return LOY_EINVAL;
	}
	f->fd = open(f->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (f->fd < 0) {
		snprintf(err, err_size, "%s: %s", f->path, strerror(errno));
		free(f);
		return LOY_EIO;
	}
	if (pread(f->fd, magic, 8, 0) == 8 && memcmp(magic, MAGIC, 8) == 0) {
		/* the single-record format of earlier versions */
		rv = read_all(f->fd, f->path, &img[0], &len[0], err, err_size);
		if (rv == 0)
			rv = decode_image(img[0], len[0], c, f->path, err,
					  err_size);
		if (rv == 0)
			rv = convert_old(f, dir, img[0], len[0], err, err_size);
		free(img[0]);
		img[0] = NULL;
		goto out;
	}
	for (unsigned k = 0; k < 2; k++) {
		ok[k] = read_slot(f->fd, k, &img[k], &len[k], &seq[k]);
		if (ok[k] < 0) {
			rv = LOY_ENOMEM;
			goto out;
		}
	}
	if (!ok[0] && !ok[1]) {
		struct stat st;
		/* Slot 0 alone, torn: the node's first write never finished,
		 * so nothing it covers was sent: a new node. Anything else is
		 * damage. */
		if (fstat(f->fd, &st) == 0 && st.st_size <= (off_t)SLOT_SIZE) {
			rv = LOY_ENOTFOUND;
		} else {
			snprintf(err, err_size,
				 "%s: no intact record (the file is damaged; "
				 "the node will not start rather than forget "
				 "what it signed)",
				 f->path);
			rv = LOY_ECORRUPT;
		}
		goto out;
	}
	best = ok[0] && (!ok[1] || seq[0] > seq[1]) ? 0 : 1;
	f->seq = seq[best];
	rv = decode_image(img[best], len[best], c, f->path, err, err_size);
out:
	free(img[0]);
	free(img[1]);
	if (rv != 0 && rv != LOY_ENOTFOUND) {
		close(f->fd);
		free(f);
		return rv;
	}
	*out = f;
	return rv;
}

void loy_persist_close(struct loy_persist_file *f)
{
	if (f == NULL)
		return;
	close(f->fd);
	free(f);
}
