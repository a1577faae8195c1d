/* Audit replay from genesis over a data directory or a chain file, and the
 * chain file writer. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ledger/audit.h"
#include "ledger/query.h"
#include "wire/error.h"

#define CHAIN_MAGIC "LOYCHAIN"
#define CHAIN_VERSION 1u
#define CERT_MAX (64u << 10)

/* A source of (block, cert) pairs in height order. next returns 1 with the
 * pair (owned by the caller), 0 at the end, or -1 with why set. */
struct source {
	int (*next)(struct source *s, uint64_t height, struct loy_buf *block,
		    struct loy_buf *cert, char *why, size_t n);
	struct loy_ledger *node;
	uint64_t tip;
	FILE *fp;
};

static int dir_next(struct source *s, uint64_t height, struct loy_buf *block,
		    struct loy_buf *cert, char *why, size_t n)
{
	if (height > s->tip) {
		/* the node may have committed more since we started */
		if (loy_ledger_tip(s->node, &s->tip, NULL, NULL, NULL) != 0 ||
		    height > s->tip)
			return 0;
	}
	int rc = loy_ledger_block(s->node, height, block, cert);
	if (rc != 0) {
		snprintf(why, n, "cannot read block or certificate: %s",
			 loy_strerror(rc));
		return -1;
	}
	return 1;
}

static int rd(FILE *fp, void *p, size_t n)
{
	return fread(p, 1, n, fp) == n ? 0 : -1;
}

static int file_next(struct source *s, uint64_t height, struct loy_buf *block,
		     struct loy_buf *cert, char *why, size_t n)
{
	uint8_t hdr[12], l4[4];
	int c = fgetc(s->fp);
	if (c == EOF)
		return ferror(s->fp) ? (snprintf(why, n, "read error"), -1) : 0;
	ungetc(c, s->fp);
	if (rd(s->fp, hdr, sizeof hdr) != 0)
		return snprintf(why, n, "chain file truncated"), -1;
	uint64_t h = 0;
	for (int i = 0; i < 8; i++)
		h = h << 8 | hdr[i];
	uint32_t bl = (uint32_t)hdr[8] << 24 | (uint32_t)hdr[9] << 16 |
		      (uint32_t)hdr[10] << 8 | hdr[11];
	if (h != height)
		return snprintf(why, n, "chain file record for height %llu "
					"where %llu was expected",
				(unsigned long long)h,
				(unsigned long long)height),
		       -1;
	if (bl == 0 || bl > LOY_MAX_BLOCK_BYTES)
		return snprintf(why, n, "block length %u out of range", bl), -1;
	block->data = malloc(bl);
	if (!block->data)
		return snprintf(why, n, "out of memory"), -1;
	block->len = bl;
	if (rd(s->fp, block->data, bl) != 0 || rd(s->fp, l4, 4) != 0)
		goto trunc;
	uint32_t cl = (uint32_t)l4[0] << 24 | (uint32_t)l4[1] << 16 |
		      (uint32_t)l4[2] << 8 | l4[3];
	if (cl == 0 || cl > CERT_MAX) {
		snprintf(why, n, "certificate length %u out of range", cl);
		loy_buf_free(block);
		return -1;
	}
	cert->data = malloc(cl);
	if (!cert->data) {
		loy_buf_free(block);
		return snprintf(why, n, "out of memory"), -1;
	}
	cert->len = cl;
	if (rd(s->fp, cert->data, cl) != 0)
		goto trunc;
	return 1;
trunc:
	loy_buf_free(block);
	loy_buf_free(cert);
	return snprintf(why, n, "chain file truncated"), -1;
}

static int fail(struct loy_audit_report *r, uint64_t height, int64_t tx,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(struct loy_audit_report *r, uint64_t height, int64_t tx,
		const char *fmt, ...)
{
	va_list ap;
	r->ok = false;
	r->height = height;
	r->tx = tx;
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof r->reason, fmt, ap);
	va_end(ap);
	return LOY_ECORRUPT;
}

/* Verifies every tx signature of an encoded block; returns the position of
 * the first bad one or -1, with why set. */
static int64_t verify_sigs(const uint8_t *data, size_t len, uint64_t *ntx,
			   char *why, size_t n)
{
	struct loy_block b;
	int rc = loy_block_decode(&b, data, len);
	if (rc != 0) {
		snprintf(why, n, "block does not decode: %s", loy_strerror(rc));
		return INT64_MAX;
	}
	*ntx = b.tx_count;
	for (uint32_t i = 0; i < b.tx_count; i++) {
		struct loy_tx tx;
		rc = loy_tx_decode(&tx, b.txs[i].data, b.txs[i].len);
		if (rc != 0) {
			snprintf(why, n, "transaction does not decode: %s",
				 loy_strerror(rc));
			loy_block_free(&b);
			return i;
		}
		rc = loy_tx_verify_encoded(&tx, b.txs[i].data, b.txs[i].len);
		loy_tx_free(&tx);
		if (rc != 0) {
			snprintf(why, n, "transaction signature does not "
					 "verify");
			loy_block_free(&b);
			return i;
		}
	}
	loy_block_free(&b);
	return -1;
}

static void rmtree(const char *dir)
{
	char p[4200];
	snprintf(p, sizeof p, "%s/data.mdb", dir);
	unlink(p);
	snprintf(p, sizeof p, "%s/lock.mdb", dir);
	unlink(p);
	rmdir(dir);
}

static int run(const struct loy_genesis *g, struct source *src,
	       const struct loy_audit_opts *opts, struct loy_audit_report *r,
	       const uint8_t *expect_root)
{
	char dir[4096], why[LOY_ERRMSG_MAX + 128];
	struct loy_ledger *l = NULL;
	struct loy_tx_result *res = NULL;
	int rc;

	snprintf(dir, sizeof dir, "%s/loyauditXXXXXX",
		 opts && opts->tmpdir ? opts->tmpdir : "/tmp");
	if (!mkdtemp(dir)) {
		snprintf(r->reason, sizeof r->reason,
			 "audit: cannot create a scratch directory: %s",
			 strerror(errno));
		return LOY_EIO;
	}
	rc = loy_ledger_open(dir, LOY_LEDGER_NOSYNC, opts ? opts->mapsize : 0,
			     &l, r->reason, sizeof r->reason);
	if (rc != 0)
		goto out;
	res = malloc(LOY_MAX_BLOCK_TXS * sizeof *res);
	if (!res) {
		rc = LOY_ENOMEM;
		snprintf(r->reason, sizeof r->reason, "audit: out of memory");
		goto out;
	}
	rc = loy_ledger_init_genesis(l, g);
	if (rc != 0) {
		rc = fail(r, 0, -1, "genesis: %s", loy_ledger_errmsg(l));
		goto out;
	}
	for (uint64_t h = 1;; h++) {
		struct loy_buf block = {0}, cert = {0};
		uint64_t ntx = 0;
		int k = src->next(src, h, &block, &cert, why, sizeof why);
		if (k == 0)
			break;
		if (k < 0) {
			rc = fail(r, h, -1, "block %llu: %s",
				  (unsigned long long)h, why);
			goto out;
		}
		int64_t bad = verify_sigs(block.data, block.len, &ntx, why,
					  sizeof why);
		if (bad == -1) {
			rc = loy_ledger_apply_block(l, block.data, block.len,
						    cert.data, cert.len, 0, res);
			if (rc != 0) {
				const char *m = loy_ledger_errmsg(l);
				const char *p = strstr(m, "tx ");
				bad = p ? strtoll(p + 3, NULL, 10) : -1;
				snprintf(why, sizeof why, "%s", m);
			}
		}
		loy_buf_free(&block);
		loy_buf_free(&cert);
		if (bad != -1 || rc != 0) {
			rc = fail(r, h, bad == INT64_MAX ? -1 : bad,
				  "block %llu: %s", (unsigned long long)h, why);
			goto out;
		}
		r->blocks++;
		r->txs += ntx;
		if (opts && opts->progress &&
		    opts->progress(opts->data, h, r->txs) != 0) {
			rc = fail(r, h, -1, "stopped");
			goto out;
		}
	}
	rc = loy_ledger_tip(l, NULL, NULL, r->state_root, NULL);
	if (rc != 0) {
		snprintf(r->reason, sizeof r->reason, "audit: tip: %s",
			 loy_strerror(rc));
		goto out;
	}
	if (expect_root && memcmp(expect_root, r->state_root, LOY_HASH_SIZE)) {
		rc = fail(r, r->blocks, -1, "the node's tip state root differs "
					    "from the replayed one");
		goto out;
	}
	rc = loy_ledger_check_invariants(l, why, sizeof why);
	if (rc != 0) {
		rc = fail(r, 0, -1, "invariant: %s", why);
		goto out;
	}
	r->ok = true;
out:
	free(res);
	if (l)
		loy_ledger_close(l);
	rmtree(dir);
	return rc;
}

static void report_init(struct loy_audit_report *r)
{
	memset(r, 0, sizeof *r);
	r->tx = -1;
}

int loy_audit_datadir(const struct loy_genesis *g, const char *datadir,
		      const struct loy_audit_opts *opts,
		      struct loy_audit_report *r)
{
	struct source s = {.next = dir_next};
	uint8_t root[LOY_HASH_SIZE], gh[LOY_HASH_SIZE];
	uint64_t tip0;
	int rc;

	report_init(r);
	rc = loy_ledger_open(datadir, LOY_LEDGER_RDONLY, 0, &s.node, r->reason,
			     sizeof r->reason);
	if (rc != 0)
		return rc == LOY_ECORRUPT ? fail(r, 0, -1, "%s", r->reason) : rc;
	rc = loy_ledger_tip(s.node, &s.tip, NULL, root, NULL);
	if (rc == 0)
		rc = loy_ledger_genesis_hash(s.node, gh);
	if (rc != 0) {
		loy_ledger_close(s.node);
		return fail(r, 0, -1, "data directory has no chain: %s",
			    loy_strerror(rc));
	}
	tip0 = s.tip;
	rc = run(g, &s, opts, r, NULL);
	/* compare with the node's root at the height we stopped at */
	if (rc == 0 && r->blocks >= tip0) {
		struct loy_buf b;
		if (loy_ledger_block(s.node, r->blocks, &b, NULL) == 0) {
			struct loy_block blk;
			if (loy_block_decode(&blk, b.data, b.len) == 0) {
				if (memcmp(blk.header.state_root, r->state_root,
					   LOY_HASH_SIZE) != 0)
					rc = fail(r, r->blocks, -1,
						  "state root differs");
				loy_block_free(&blk);
			}
			loy_buf_free(&b);
		}
	}
	(void)root;
	loy_ledger_close(s.node);
	return rc;
}

int loy_audit_file(const struct loy_genesis *g, const char *path,
		   const struct loy_audit_opts *opts,
		   struct loy_audit_report *r)
{
	struct source s = {.next = file_next};
	uint8_t hdr[12];
	int rc;

	report_init(r);
	s.fp = fopen(path, "rb");
	if (!s.fp) {
		snprintf(r->reason, sizeof r->reason, "audit: open %s: %s",
			 path, strerror(errno));
		return LOY_EIO;
	}
	if (rd(s.fp, hdr, sizeof hdr) != 0 || memcmp(hdr, CHAIN_MAGIC, 8) ||
	    hdr[8] || hdr[9] || hdr[10] || hdr[11] != CHAIN_VERSION) {
		fclose(s.fp);
		return fail(r, 0, -1, "%s is not a version %u chain file",
			    path, CHAIN_VERSION);
	}
	rc = run(g, &s, opts, r, NULL);
	fclose(s.fp);
	return rc;
}

static int wr(FILE *fp, const void *p, size_t n)
{
	return fwrite(p, 1, n, fp) == n ? 0 : -1;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int loy_ledger_export(struct loy_ledger *l, const char *path, char *errmsg,
		      size_t errlen)
{
	char tmp[4200];
	uint8_t hdr[12];
	uint64_t tip;
	FILE *fp;
	int rc = loy_ledger_tip(l, &tip, NULL, NULL, NULL);
	if (rc != 0) {
		snprintf(errmsg, errlen, "export: no chain: %s",
			 loy_strerror(rc));
		return rc;
	}
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	fp = fopen(tmp, "wb");
	if (!fp) {
		snprintf(errmsg, errlen, "export: %s: %s", tmp, strerror(errno));
		return LOY_EIO;
	}
	memcpy(hdr, CHAIN_MAGIC, 8);
	put32(hdr + 8, CHAIN_VERSION);
	rc = wr(fp, hdr, sizeof hdr) ? LOY_EIO : 0;
	for (uint64_t h = 1; rc == 0 && h <= tip; h++) {
		struct loy_buf b, c;
		uint8_t rec[12], l4[4];
		rc = loy_ledger_block(l, h, &b, &c);
		if (rc != 0)
			break;
		for (int i = 0; i < 8; i++)
			rec[i] = (uint8_t)(h >> (56 - 8 * i));
		put32(rec + 8, (uint32_t)b.len);
		put32(l4, (uint32_t)c.len);
		if (wr(fp, rec, 12) || wr(fp, b.data, b.len) || wr(fp, l4, 4) ||
		    wr(fp, c.data, c.len))
			rc = LOY_EIO;
		loy_buf_free(&b);
		loy_buf_free(&c);
	}
	if (fflush(fp) != 0 || fsync(fileno(fp)) != 0)
		rc = rc ? rc : LOY_EIO;
	if (fclose(fp) != 0)
		rc = rc ? rc : LOY_EIO;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = LOY_EIO;
	if (rc != 0) {
		snprintf(errmsg, errlen, "export %s: %s", path,
			 loy_strerror(rc));
		unlink(tmp);
	}
	return rc;
}
