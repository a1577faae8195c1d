/* Audit replay from genesis over a data directory or a chain file, and the
 * chain file writer. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ledger/audit.h"
#include "ledger/query.h"
#include "wire/error.h"

#define CHAIN_MAGIC   "LOYCHAIN"
#define CHAIN_VERSION 1u
#define CERT_MAX      (64u << 10)

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
		const char *d = loy_ledger_damage(s->node);
		snprintf(why, n, "cannot read block or certificate: %s",
			 rc == LOY_ECORRUPT && d ? d : loy_strerror(rc));
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
		return snprintf(why, n,
				"chain file record for height %llu "
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

/* The replay is a pipeline. Helper threads read each block from the
 * source, decode it and verify its transactions' signatures (in chunks that
 * any thread may claim) up to PIPE_DEPTH blocks ahead, while the calling
 * thread re-executes block h into the scratch store and then helps verify
 * block h+1. Re-execution must stay in height order on one thread; the
 * signatures, which dominate the cost, spread over the other cores. The
 * outcome, and the first failure reported, are those of checking each block
 * fully, in order: block h is only judged once every signature before its
 * first bad one was checked, and nothing of block h+1 is reported before
 * block h applied. */
#define PIPE_DEPTH       4u
#define PIPE_CHUNK       32u
#define PIPE_MAX_HELPERS 7u
#define WHY_MAX          (LOY_ERRMSG_MAX + 128)

struct job {
	int k;         /* source: 1 a block, 0 the end, -1 an error */
	int decode_rc; /* loy_block_decode's result when k == 1 */
	struct loy_buf block, cert;
	struct loy_block b; /* decoded when k == 1 && decode_rc == 0 */
	uint32_t next;      /* first tx not claimed for verification */
	uint32_t inflight;  /* chunks claimed and not finished */
	int64_t bad;        /* first bad tx found so far, or -1 */
	char why[WHY_MAX];  /* source error, or why tx `bad` is bad */
};

struct pipe {
	pthread_mutex_t mu;
	pthread_cond_t cv; /* any change of the fields below */
	struct source *src;
	struct job jobs[PIPE_DEPTH]; /* height h in jobs[h % PIPE_DEPTH] */
	uint64_t head;               /* the height the caller works on */
	uint64_t tail;               /* the next height to read */
	bool reading;                /* a thread is reading height tail */
	bool eof; /* the source ended or failed at tail - 1 */
	bool stop;
};

static bool job_verified(const struct job *j)
{
	uint32_t lim = j->bad >= 0 ? (uint32_t)j->bad : j->b.tx_count;
	return j->k != 1 || j->decode_rc != 0 ||
	       (j->next >= lim && j->inflight == 0);
}

static bool job_claimable(const struct job *j)
{
	return j->k == 1 && j->decode_rc == 0 && j->next < j->b.tx_count &&
	       (j->bad < 0 || j->next < (uint32_t)j->bad);
}

/* Verifies txs [from, to) of j's block; runs unlocked. On the first bad one
 * sets *bad and why. */
static void verify_range(const struct job *j, uint32_t from, uint32_t to,
			 int64_t *bad, char *why, size_t n)
{
	*bad = -1;
	for (uint32_t i = from; i < to; i++) {
		const struct loy_buf *t = &j->b.txs[i];
		struct loy_tx tx;
		int rc = loy_tx_decode(&tx, t->data, t->len);
		if (rc != 0) {
			snprintf(why, n, "transaction does not decode: %s",
				 loy_strerror(rc));
			*bad = i;
			return;
		}
		rc = loy_tx_verify_encoded(&tx, t->data, t->len);
		loy_tx_free(&tx);
		if (rc != 0) {
			snprintf(why, n,
				 "transaction signature does not "
				 "verify");
			*bad = i;
			return;
		}
	}
}

/* Called locked: claims and verifies one chunk of j (unlocking meanwhile).
 * Returns false if nothing of j was left to claim. */
static bool pipe_verify_chunk(struct pipe *p, struct job *j)
{
	char why[WHY_MAX];
	int64_t bad;
	uint32_t from, to;

	if (!job_claimable(j))
		return false;
	from = j->next;
	to = j->b.tx_count - from > PIPE_CHUNK ? from + PIPE_CHUNK
					       : j->b.tx_count;
	j->next = to;
	j->inflight++;
	pthread_mutex_unlock(&p->mu);
	verify_range(j, from, to, &bad, why, sizeof why);
	pthread_mutex_lock(&p->mu);
	j->inflight--;
	if (bad >= 0 && (j->bad < 0 || bad < j->bad)) {
		j->bad = bad;
		memcpy(j->why, why, sizeof why);
	}
	pthread_cond_broadcast(&p->cv);
	return true;
}

/* Called locked: reads and decodes height tail if there is room and nobody
 * else is. Returns false if it did not. */
static bool pipe_read(struct pipe *p)
{
	struct job j;
	uint64_t h;

	if (p->eof || p->reading || p->tail - p->head >= PIPE_DEPTH)
		return false;
	p->reading = true;
	h = p->tail;
	pthread_mutex_unlock(&p->mu);
	memset(&j, 0, sizeof j);
	j.bad = -1;
	j.k = p->src->next(p->src, h, &j.block, &j.cert, j.why, sizeof j.why);
	if (j.k == 1) {
		j.decode_rc = loy_block_decode(&j.b, j.block.data, j.block.len);
		if (j.decode_rc != 0)
			snprintf(j.why, sizeof j.why,
				 "block does not decode: %s",
				 loy_strerror(j.decode_rc));
	}
	pthread_mutex_lock(&p->mu);
	p->jobs[h % PIPE_DEPTH] = j;
	p->tail = h + 1;
	p->reading = false;
	if (j.k != 1 || j.decode_rc != 0)
		p->eof = true;
	pthread_cond_broadcast(&p->cv);
	return true;
}

static void *pipe_helper(void *arg)
{
	struct pipe *p = arg;
	pthread_mutex_lock(&p->mu);
	while (!p->stop) {
		bool worked = false;
		for (uint64_t h = p->head; h < p->tail && !worked; h++)
			worked = pipe_verify_chunk(p, &p->jobs[h % PIPE_DEPTH]);
		if (!worked)
			worked = pipe_read(p);
		if (!worked)
			pthread_cond_wait(&p->cv, &p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* The job of height h (== head) once read and verified; the caller reads
 * and verifies it too rather than wait idle. */
static struct job *pipe_take(struct pipe *p, uint64_t h)
{
	struct job *j = &p->jobs[h % PIPE_DEPTH];
	pthread_mutex_lock(&p->mu);
	for (;;) {
		if (h < p->tail) {
			if (job_verified(j))
				break;
			if (pipe_verify_chunk(p, j))
				continue;
		} else if (pipe_read(p)) {
			continue;
		}
		pthread_cond_wait(&p->cv, &p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return j;
}

static void job_free(struct job *j)
{
	if (j->k == 1 && j->decode_rc == 0)
		loy_block_free(&j->b);
	loy_buf_free(&j->block);
	loy_buf_free(&j->cert);
	j->k = 0;
}

/* Done with height head: frees it and makes room for the next read. */
static void pipe_release(struct pipe *p)
{
	pthread_mutex_lock(&p->mu);
	job_free(&p->jobs[p->head % PIPE_DEPTH]);
	p->head++;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

static uint32_t pipe_helpers(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n <= 1)
		return 1; /* still overlaps reading with execution */
	return n - 1 > (long)PIPE_MAX_HELPERS ? PIPE_MAX_HELPERS
					      : (uint32_t)(n - 1);
}

/* Stops and joins the helpers and frees what they read ahead. */
static void pipe_stop(struct pipe *p, pthread_t *helpers, uint32_t n)
{
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (uint32_t i = 0; i < n; i++)
		pthread_join(helpers[i], NULL);
	for (uint64_t h = p->head; h < p->tail; h++)
		job_free(&p->jobs[h % PIPE_DEPTH]);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
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
	char dir[4096], why[WHY_MAX];
	struct loy_ledger *l = NULL;
	struct loy_tx_result *res = NULL;
	struct pipe *pp = NULL;
	pthread_t helpers[PIPE_MAX_HELPERS];
	uint32_t nhelpers = 0;
	uint64_t ntx;
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
	pp = calloc(1, sizeof *pp);
	if (!pp || pthread_mutex_init(&pp->mu, NULL) != 0) {
		free(pp);
		pp = NULL;
		rc = LOY_ENOMEM;
		snprintf(r->reason, sizeof r->reason, "audit: out of memory");
		goto out;
	}
	if (pthread_cond_init(&pp->cv, NULL) != 0) {
		pthread_mutex_destroy(&pp->mu);
		free(pp);
		pp = NULL;
		rc = LOY_ENOMEM;
		snprintf(r->reason, sizeof r->reason, "audit: out of memory");
		goto out;
	}
	pp->src = src;
	pp->head = pp->tail = 1;
	/* without helpers the caller reads and verifies everything itself */
	for (nhelpers = 0; nhelpers < pipe_helpers(); nhelpers++)
		if (pthread_create(&helpers[nhelpers], NULL, pipe_helper, pp))
			break;
	for (uint64_t h = 1;; h++) {
		struct job *j = pipe_take(pp, h);
		int64_t bad = -1;
		if (j->k == 0)
			break;
		if (j->k < 0) {
			rc = fail(r, h, -1, "block %llu: %s",
				  (unsigned long long)h, j->why);
			goto out;
		}
		if (j->decode_rc != 0) {
			bad = INT64_MAX;
			snprintf(why, sizeof why, "%s", j->why);
		} else if (j->bad >= 0) {
			bad = j->bad;
			snprintf(why, sizeof why, "%s", j->why);
		} else {
			rc = loy_ledger_apply_block(l, j->block.data,
						    j->block.len, j->cert.data,
						    j->cert.len, 0, res);
			if (rc != 0) {
				const char *m = loy_ledger_errmsg(l);
				const char *p = strstr(m, "tx ");
				bad = p ? strtoll(p + 3, NULL, 10) : -1;
				snprintf(why, sizeof why, "%s", m);
			}
		}
		ntx = j->decode_rc == 0 ? j->b.tx_count : 0;
		pipe_release(pp);
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
	pipe_stop(pp, helpers, nhelpers);
	pp = NULL;
	rc = loy_ledger_tip(l, NULL, NULL, r->state_root, NULL);
	if (rc != 0) {
		snprintf(r->reason, sizeof r->reason, "audit: tip: %s",
			 loy_strerror(rc));
		goto out;
	}
	if (expect_root && memcmp(expect_root, r->state_root, LOY_HASH_SIZE)) {
		rc = fail(r, r->blocks, -1,
			  "the node's tip state root differs "
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
	if (pp)
		pipe_stop(pp, helpers, nhelpers);
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
		return rc == LOY_ECORRUPT ? fail(r, 0, -1, "%s", r->reason)
					  : rc;
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
	/* the replay read every block; the node's own state records are
	 * checked against their integrity tags here */
	if (rc == 0) {
		char why[sizeof r->reason];
		int vrc = loy_ledger_verify_store(s.node, why, sizeof why);
		if (vrc == LOY_ECORRUPT)
			rc = fail(r, 0, -1, "%s", why);
		else if (vrc != 0) {
			snprintf(r->reason, sizeof r->reason,
				 "audit: reading the store: %.400s", why);
			rc = vrc;
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
		return fail(r, 0, -1, "%s is not a version %u chain file", path,
			    CHAIN_VERSION);
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
		const char *d = loy_ledger_damage(l);
		snprintf(errmsg, errlen, "export: no chain: %s",
			 rc == LOY_ECORRUPT && d ? d : loy_strerror(rc));
		return rc;
	}
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	fp = fopen(tmp, "wb");
	if (!fp) {
		snprintf(errmsg, errlen, "export: %s: %s", tmp,
			 strerror(errno));
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
		const char *d = loy_ledger_damage(l);
		snprintf(errmsg, errlen, "export %s: %s", path,
			 rc == LOY_ECORRUPT && d ? d : loy_strerror(rc));
		unlink(tmp);
	}
	return rc;
}
