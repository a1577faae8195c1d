/* consensus.state: a small, checksummed, atomically replaced file. */
#include "node/persist.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

int loy_persist_save(const char *dir, const struct loy_persist_copy *c,
		     char *err, size_t err_size)
{
	const struct loy_cons_persist *r = &c->rec;
	struct img m = {0};
	struct loy_buf cert = {0};
	uint8_t sum[LOY_HASH_SIZE];
	char path[1100], tmp[1100];
	int fd = -1, dfd = -1, rv = LOY_EIO;

	put(&m, MAGIC, 8);
	put_u64(&m, r->height);
	put_u64(&m, r->view);
	put_u8(&m, r->in_view_change);
	put_u8(&m, r->proposed);
	put(&m, r->proposed_hash, LOY_HASH_SIZE);
	put_u8(&m, r->voted_prepare);
	put(&m, r->prepare_hash, LOY_HASH_SIZE);
	put_u8(&m, r->voted_commit);
	put(&m, r->commit_hash, LOY_HASH_SIZE);
	put_u8(&m, r->has_prepared);
	if (r->has_prepared) {
		if (loy_cert_encode(&r->prepared, &cert) != 0) {
			snprintf(
			    err, err_size,
			    "persist: cannot encode the prepared certificate");
			rv = LOY_EINVAL;
			goto out;
		}
		put_u64(&m, cert.len);
		put(&m, cert.data, cert.len);
		put_u64(&m, c->block.len);
		put(&m, c->block.data, c->block.len);
	}
	if (m.oom) {
		rv = LOY_ENOMEM;
		snprintf(err, err_size, "persist: out of memory");
		goto out;
	}
	loy_hash(sum, m.p, m.n);
	put(&m, sum, sizeof sum);
	if (m.oom || path_of(path, sizeof path, dir, FILE_NAME) ||
	    path_of(tmp, sizeof tmp, dir, FILE_NAME ".tmp")) {
		rv = LOY_ENOMEM;
		snprintf(err, err_size,
			 "persist: out of memory or path too long");
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, m.p, m.n) != (ssize_t)m.n || fsync(fd) != 0) {
		snprintf(err, err_size, "persist: write %s: %s", tmp,
			 strerror(errno));
		goto out;
	}
	if (rename(tmp, path) != 0) {
		snprintf(err, err_size, "persist: rename to %s: %s", path,
			 strerror(errno));
		goto out;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) != 0) {
		snprintf(err, err_size, "persist: fsync %s: %s", dir,
			 strerror(errno));
		goto out;
	}
	rv = 0;
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	loy_buf_free(&cert);
	free(m.p);
	return rv;
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

int loy_persist_load(const char *dir, struct loy_persist_copy *c, char *err,
		     size_t err_size)
{
	char path[1100];
	uint8_t *buf = NULL, sum[LOY_HASH_SIZE];
	struct loy_cons_persist *rec = &c->rec;
	struct stat st;
	struct rd r;
	int fd, rv = LOY_ECORRUPT;
	char magic[8];

	memset(c, 0, sizeof *c);
	if (path_of(path, sizeof path, dir, FILE_NAME))
		return LOY_EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return LOY_ENOTFOUND;
		snprintf(err, err_size, "%s: %s", path, strerror(errno));
		return LOY_EIO;
	}
	if (fstat(fd, &st) != 0 || st.st_size < (off_t)(8 + LOY_HASH_SIZE) ||
	    st.st_size > (off_t)MAX_FILE) {
		snprintf(err, err_size, "%s: damaged (size %lld)", path,
			 (long long)st.st_size);
		close(fd);
		return LOY_ECORRUPT;
	}
	buf = malloc((size_t)st.st_size);
	if (buf == NULL || read(fd, buf, (size_t)st.st_size) != st.st_size) {
		snprintf(err, err_size, "%s: cannot read", path);
		close(fd);
		free(buf);
		return LOY_EIO;
	}
	close(fd);
	r = (struct rd){buf, (size_t)st.st_size - LOY_HASH_SIZE, 0, 0};
	loy_hash(sum, buf, r.n);
	if (memcmp(sum, buf + r.n, LOY_HASH_SIZE) != 0) {
		snprintf(err, err_size,
			 "%s: checksum mismatch (the file is damaged; "
			 "the node will not start rather than forget what it "
			 "signed)",
			 path);
		goto out;
	}
	get(&r, magic, 8);
	if (r.bad || memcmp(magic, MAGIC, 8) != 0) {
		snprintf(err, err_size, "%s: not a consensus state file", path);
		goto out;
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
			goto out;
		}
		r.off += (size_t)clen;
		blen = get_u64(&r);
		if (r.bad || blen > r.n - r.off ||
		    loy_buf_copy(&c->block, r.p + r.off, (size_t)blen) != 0) {
			snprintf(err, err_size, "%s: bad prepared block", path);
			goto out;
		}
		r.off += (size_t)blen;
		rec->prepared_block = c->block.data;
		rec->prepared_block_len = c->block.len;
	}
	if (r.bad || r.off != r.n) {
		snprintf(err, err_size, "%s: damaged (length)", path);
		goto out;
	}
	rv = 0;
out:
	free(buf);
	if (rv != 0)
		loy_persist_copy_free(c);
	return rv;
}
