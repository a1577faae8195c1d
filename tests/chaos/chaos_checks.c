/* The chaos program's storage-fault trials and its final checks of the
 * chain, the acknowledged transactions and the audits. */
#include "tests/chaos/chaos.h"

#include <lmdb.h>

/* --- storage faults --- */

int storage_reopen_ok, storage_consistent, storage_runs;

/* kill -9 a node while blocks commit under load, restart it: it must open,
 * its tip must be a whole block the others agree on, and it catches up. */
void storage_kill_during_commits(int count)
{
	for (int k = 0; k < count; k++) {
		int i = 1 + rng_below(NODES), st = 0;
		long target, hi;
		char hash[65], root[65], ohash[65], oroot[65], sroot[65];
		int other = 0;

		sleep_ms(20 + rng_below(250));
		storage_runs++;
		it_node_signal(&cl, i, SIGKILL);
		target = max_height_except(i);
		if (it_node_start(&cl, i) != 0 || !wait_answers(i, 10000)) {
			char tail[2048];
			exited(i, &st);
			log_tail(i, tail, sizeof tail);
			CHECK(0,
			      "storage kill %d: node %d reopens after kill -9 "
			      "(exit %d: %s)",
			      k + 1, i, st, last_line(tail));
			if (cl.nodes[i - 1].pid == 0)
				it_node_start(&cl, i);
			continue;
		}
		storage_reopen_ok++;
		hi = it_height(&cl, i, sroot);
		block_at(i, hi, hash, root, NULL);
		/* a peer that has that height too */
		for (uint64_t dl = now_ms() + 5000; other == 0 && now_ms() < dl;
		     sleep_ms(20))
			for (int o = 1; o <= NODES && other == 0; o++)
				if (o != i && up(o) &&
				    it_height(&cl, o, NULL) >= hi)
					other = o;
		ohash[0] = oroot[0] = '\0';
		if (other)
			block_at(other, hi, ohash, oroot, NULL);
		if (hi >= 0 &&
		    (hi == 0 ||
		     (hash[0] && strcmp(hash, ohash) == 0 &&
		      strcmp(root, oroot) == 0 && strcmp(root, sroot) == 0)))
			storage_consistent++;
		else
			CHECK(0,
			      "storage kill %d: node %d's tip %ld is a whole "
			      "agreed block "
			      "(%.16s vs %.16s, root %.16s vs %.16s)",
			      k + 1, i, hi, hash, ohash, root, oroot);
		/* back in step before the next one */
		{
			uint64_t deadline = now_ms() + 15000;
			while (now_ms() < deadline &&
			       it_height(&cl, i, NULL) < target)
				sleep_ms(20);
			CHECK(it_height(&cl, i, NULL) >= target,
			      "storage kill %d: node %d catches up to %ld",
			      k + 1, i, target);
		}
	}
	printf("chaos: storage: kill -9 during commits: reopened %d/%d, tip "
	       "consistent %d/%d\n",
	       storage_reopen_ok, storage_runs, storage_consistent,
	       storage_runs);
}

const char *const damage_name[] = {
    "one byte flipped in the middle of data.mdb",
    "one byte flipped in the last page of data.mdb",
    "one byte flipped in an older block record",
    "one byte flipped in a customer's balance",
    "data.mdb truncated to half its size",
};

/* A record of a stopped node's store, read with LMDB itself: the block
 * record at height h (h > 0), or else an account record in the middle of
 * the table, preferring customers (its key in key[20]). The stored bytes
 * go to *val (malloc'd); returns their length, 0 if none. */
static size_t raw_record(const char *dir, long h, uint8_t key[20],
			 uint8_t **val)
{
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_cursor *c = NULL;
	MDB_dbi dbi;
	MDB_val k, v;
	MDB_stat st;
	size_t n = 0;

	*val = NULL;
	if (mdb_env_create(&env) != 0 || mdb_env_set_maxdbs(env, 64) != 0 ||
	    mdb_env_open(env, dir, MDB_RDONLY, 0600) != 0 ||
	    mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) != 0 ||
	    mdb_dbi_open(txn, h > 0 ? "blocks" : "accounts", 0, &dbi) != 0 ||
	    mdb_cursor_open(txn, dbi, &c) != 0)
		goto out;
	if (h > 0) {
		uint8_t kb[8];
		for (int b = 0; b < 8; b++)
			kb[b] = (uint8_t)((uint64_t)h >> (56 - 8 * b));
		k.mv_size = 8;
		k.mv_data = kb;
		if (mdb_cursor_get(c, &k, &v, MDB_SET_KEY) != 0)
			goto out;
	} else {
		size_t half, pos = 0;
		bool found = false;
		if (mdb_stat(txn, dbi, &st) != 0 || st.ms_entries < 3)
			goto out;
		half = st.ms_entries / 2;
		for (int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
		     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT), pos++) {
			/* type 1 = customer */
			if (pos >= half && k.mv_size == 20 && v.mv_size > 0 &&
			    ((const uint8_t *)v.mv_data)[0] == 1 &&
			    pos + 1 < st.ms_entries) {
				found = true;
				break;
			}
		}
		if (!found)
			goto out;
		memcpy(key, k.mv_data, 20);
	}
	*val = malloc(v.mv_size);
	if (*val) {
		memcpy(*val, v.mv_data, v.mv_size);
		n = v.mv_size;
	}
out:
	if (c)
		mdb_cursor_close(c);
	if (txn)
		mdb_txn_abort(txn);
	if (env)
		mdb_env_close(env);
	return n;
}

/* Flips byte `at` of every copy of needle in the file (old copies of a
 * page linger in free pages: flipping all of them hits the live one).
 * Returns the offset of the first copy, or -1. */
static off_t flip_copies(const char *path, const uint8_t *needle, size_t n,
			 size_t at)
{
	struct stat sb;
	uint8_t *img;
	off_t first = -1;
	int fd = open(path, O_RDWR);

	if (fd < 0 || fstat(fd, &sb) != 0 ||
	    (img = malloc((size_t)sb.st_size)) == NULL) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (pread(fd, img, (size_t)sb.st_size, 0) == sb.st_size) {
		uint8_t *p = img;
		while ((p = memmem(p, (size_t)(img + sb.st_size - p), needle,
				   n)) != NULL) {
			uint8_t b = p[at] ^ 0x04;
			if (first < 0)
				first = (off_t)(p - img);
			if (pwrite(fd, &b, 1, (off_t)(p - img) + (off_t)at) !=
			    1)
				break;
			p += n;
		}
	}
	free(img);
	close(fd);
	return first;
}

static int account_query(int i, const uint8_t id[20])
{
	struct loy_client_request q;
	char *js = NULL;
	int code;

	memset(&q, 0, sizeof q);
	q.kind = LOY_CLIENT_QUERY;
	q.query.kind = LOY_Q_ACCOUNT;
	q.query.arg_count = 1;
	q.query.args[0].type = LOY_ARG_BIN;
	q.query.args[0].len = 20;
	memcpy(q.query.args[0].data, id, 20);
	code = it_request(&cl, i, &q, &js, 5000);
	free(js);
	return code;
}

/* Does node i's log after byte off say the store is damaged? */
static bool log_names_damage(int i, long off, const char *what)
{
	char path[600], buf[16384];
	size_t r;
	FILE *f;

	snprintf(path, sizeof path, "%s/loyd.log", cl.nodes[i - 1].dir);
	f = fopen(path, "r");
	if (f == NULL)
		return false;
	fseek(f, off, SEEK_SET);
	r = fread(buf, 1, sizeof buf - 1, f);
	buf[r] = '\0';
	fclose(f);
	return strstr(buf, "data.mdb damaged") && strstr(buf, what);
}

/* Damages node i's stopped store, starts it and reports what loyd does: it
 * must refuse with a clear message, or run and halt with one as soon as it
 * reads the damage (a client asking gets an error); serving from the
 * damaged store is a finding. Then wipes and resyncs the node. */
void storage_damage(int i, enum damage d, char *verdict, size_t vlen)
{
	char path[600], tail[4096], msg[512];
	struct stat sb;
	int st = -1, fd;
	off_t at = 0;
	long log_off, old_h = -1;
	uint64_t deadline;
	uint8_t acct[20] = {0};
	bool targeted = d == D_FLIP_OLD_BLOCK || d == D_FLIP_ACCOUNT;

	faulted[i - 1] = true;
	if (d == D_FLIP_OLD_BLOCK) {
		long hi = it_height(&cl, i, NULL);
		old_h = hi >= 6 ? hi / 2 : -1;
	}
	CHECK(it_node_signal(&cl, i, SIGTERM) == 0,
	      "stop node %d for storage damage", i);
	snprintf(path, sizeof path, "%s/data/data.mdb", cl.nodes[i - 1].dir);
	if (stat(path, &sb) != 0 || sb.st_size < 4 * 4096) {
		CHECK(0, "%s: missing or too small", path);
		faulted[i - 1] = false;
		it_node_start(&cl, i);
		return;
	}
	if (d == D_TRUNCATE) {
		at = (sb.st_size / 2) & ~(off_t)4095;
		CHECK(truncate(path, at) == 0, "truncate %s", path);
	} else if (targeted) {
		char dir[600];
		uint8_t *rec = NULL;
		size_t n;
		snprintf(dir, sizeof dir, "%s/data", cl.nodes[i - 1].dir);
		n = d == D_FLIP_OLD_BLOCK && old_h < 0
			? 0
			: raw_record(dir, d == D_FLIP_OLD_BLOCK ? old_h : 0,
				     acct, &rec);
		/* blocks: mid-record; accounts: the balance's low byte */
		at = n ? flip_copies(path, rec, n,
				     d == D_FLIP_OLD_BLOCK ? n / 2
							   : 2 + 32 + 20 + 7)
		       : -1;
		free(rec);
		if (at < 0) {
			snprintf(verdict, vlen, "NOT RUN (no such record)");
			faulted[i - 1] = false;
			it_node_start(&cl, i);
			return;
		}
	} else {
		uint8_t b = 0;
		/* never the two meta pages at the start */
		at = d == D_FLIP_MIDDLE ? sb.st_size / 2 + 100
					: sb.st_size - 4096 + 100;
		fd = open(path, O_RDWR);
		if (fd < 0 || pread(fd, &b, 1, at) != 1) {
			CHECK(0, "read %s", path);
		} else {
			b ^= 0xff;
			CHECK(pwrite(fd, &b, 1, at) == 1, "flip a byte of %s",
			      path);
		}
		if (fd >= 0)
			close(fd);
	}
	log_off = log_size(i);
	it_node_start(&cl, i);
	deadline = now_ms() + 4000;
	while (now_ms() < deadline && !exited(i, &st))
		sleep_ms(50);
	start_reason(i, log_off, tail, sizeof tail);
	if (cl.nodes[i - 1].pid == 0) {
		snprintf(verdict, vlen,
			 "offset %lld of %lld: %s (exit %d%s): %.600s",
			 (long long)at, (long long)sb.st_size,
			 st >= 128        ? "CRASHED at start"
			 : started_before ? "STARTED on it, then halted"
					  : "refused to start",
			 st,
			 st == 128 + SIGBUS    ? ", SIGBUS"
			 : st == 128 + SIGSEGV ? ", SIGSEGV"
					       : "",
			 tail);
		if (st >= 128)
			CHECK(0,
			      "node %d dies of signal %d on a damaged store "
			      "(%s) instead of "
			      "refusing with a clear message",
			      i, st - 128, damage_name[d]);
	} else {
		/* it runs: what does it serve, and does audit accept its store?
		 */
		char root[65] = "";
		long hi = it_height(&cl, i, root), unreadable = 0, differ = 0;
		int arc, ref = i % NODES + 1, qcode = 0;
		bool died, named, audit_damage;
		if (d == D_FLIP_ACCOUNT)
			qcode = account_query(i, acct);
		for (long h = 1; h <= hi; h++) {
			char a[65], ra[65], b2[65], rb[65];
			if (block_at(i, h, a, ra, NULL) != 0 || !a[0]) {
				unreadable++;
				continue;
			}
			block_at(ref, h, b2, rb, NULL);
			if (strcmp(a, b2) != 0 || strcmp(ra, rb) != 0)
				differ++;
		}
		arc = run_loyctl_audit(i, msg, sizeof msg);
		deadline = now_ms() + 3000;
		while (now_ms() < deadline && !exited(i, &st))
			sleep_ms(50);
		died = cl.nodes[i - 1].pid == 0;
		named =
		    log_names_damage(i, log_off,
				     d == D_FLIP_ACCOUNT     ? "accounts record"
				     : d == D_FLIP_OLD_BLOCK ? "blocks record"
							     : "");
		audit_damage = strstr(msg, "data.mdb damaged") != NULL;
		snprintf(verdict, vlen,
			 "offset %lld of %lld: STARTED (%s%s): status height "
			 "%ld; of blocks 1..%ld "
			 "%ld unreadable and %ld different from node %d; %s"
			 "loyctl audit of the store: exit %d: %s",
			 (long long)at, (long long)sb.st_size,
			 died ? "then halted, exit " : "still running",
			 died ? (st == 1 ? "1" : "not 1") : "", hi, hi,
			 unreadable, differ, ref,
			 d == D_FLIP_ACCOUNT
			     ? (qcode == LOY_ECORRUPT
				    ? "its balance query got an error; "
				    : "its balance query got NO error; ")
			     : "",
			 arc, msg);
		/* an audit that finds the damage by its tags is expected;
		 * serving a block that differs, or an audit failing for
		 * another reason, is serving from a damaged store */
		if (differ != 0 || (arc != 0 && !audit_damage))
			CHECK(0,
			      "node %d starts and serves from a damaged store "
			      "(%s); "
			      "loyd must refuse or resync",
			      i, damage_name[d]);
		if (died && st != 1)
			CHECK(0,
			      "node %d halts with exit 1 on a damaged store "
			      "(%s), not %d",
			      i, damage_name[d], st);
		if (targeted)
			CHECK(died && st == 1 && named &&
				  (d != D_FLIP_ACCOUNT ||
				   qcode == LOY_ECORRUPT ||
				   qcode == -1 /* halted before it asked */),
			      "node %d meets the damage (%s), %s, logs what it "
			      "is and halts",
			      i, damage_name[d],
			      d == D_FLIP_ACCOUNT
				  ? "answers the balance query with an error"
				  : "refuses to serve that block");
		if (cl.nodes[i - 1].pid)
			it_node_signal(&cl, i, SIGKILL);
	}
	/* restore it: wipe and resync from the others */
	wipe_data(i);
	faulted[i - 1] = false;
	CHECK(it_node_start(&cl, i) == 0,
	      "start node %d empty after storage damage", i);
	/* the trials can outlast the load: catching up is what counts */
	CHECK(resync(i) >= 0, "node %d resyncs after storage damage", i);
}

/* --- final checks --- */

struct loc {
	uint8_t h[HASH];
	long height;
	int pos;
};

static int loc_cmp(const void *a, const void *b)
{
	return memcmp(((const struct loc *)a)->h, ((const struct loc *)b)->h,
		      HASH);
}

static int hash_cmp(const void *a, const void *b)
{
	return memcmp(a, b, HASH);
}

size_t lost, duplicated, misplaced;

void final_checks(void)
{
	struct loc *chain = NULL;
	size_t n_chain = 0, cap_chain = 0, q_fail = 0, dup_any = 0;
	long top;
	long differ = 0;

	CHECK(it_wait_converged(&cl, 1, 30000),
	      "all four nodes converge after the campaign");
	top = it_height(&cl, 1, NULL);
	/* block by block: same hash and state root everywhere; collect the txs
	 */
	for (long h = 1; h <= top; h++) {
		char first[65] = "", froot[65] = "";
		for (int i = 1; i <= NODES; i++) {
			char hash[65], root[65], *js = NULL, *p;
			block_at(i, h, hash, root, i == 1 ? &js : NULL);
			if (i == 1) {
				snprintf(first, sizeof first, "%s", hash);
				snprintf(froot, sizeof froot, "%s", root);
				p = js ? strstr(js, "\"txs\":") : NULL;
				p = p ? strchr(p, '[') : NULL;
				for (int pos = 0; p && *p && *p != ']';) {
					p++;
					while (*p == ' ' || *p == ',' ||
					       *p == '\n')
						p++;
					if (*p != '"' || strlen(p) < 66 ||
					    p[65] != '"')
						break;
					if (n_chain == cap_chain) {
						size_t nc = cap_chain
								? cap_chain * 2
								: 8192;
						void *na = realloc(
						    chain, nc * sizeof *chain);
						if (na == NULL)
							abort();
						chain = na;
						cap_chain = nc;
					}
					hex_bin(chain[n_chain].h, p + 1, HASH);
					chain[n_chain].height = h;
					chain[n_chain].pos = pos++;
					n_chain++;
					p += 66;
					while (*p == ' ' || *p == '\n')
						p++;
					if (*p != ',')
						break;
				}
				free(js);
			}
			if (!hash[0] || strcmp(first, hash) != 0 ||
			    strcmp(froot, root) != 0)
				differ++;
		}
	}
	CHECK(top > 0 && differ == 0,
	      "identical block hashes and state roots at every height 1..%ld "
	      "on all nodes (%ld differ)",
	      top, differ);
	if (chain)
		qsort(chain, n_chain, sizeof *chain, loc_cmp);
	for (size_t k = 1; k < n_chain; k++)
		if (memcmp(chain[k].h, chain[k - 1].h, HASH) == 0)
			dup_any++;
	CHECK(dup_any == 0,
	      "no transaction appears twice in the chain (%zu repeats of %zu)",
	      dup_any, n_chain);
	/* each acknowledged hash: exactly once in the chain, and LOY_Q_TX on
	 * every node names the same place */
	qsort(ack.h, ack.n, HASH, hash_cmp);
	for (size_t k = 0; k < ack.n; k++) {
		struct loc key, *f;
		size_t lo, hi2, cnt;
		if (k > 0 && memcmp(ack.h[k], ack.h[k - 1], HASH) == 0) {
			duplicated++; /* acknowledged twice: never expected */
			continue;
		}
		memcpy(key.h, ack.h[k], HASH);
		f = n_chain
			? bsearch(&key, chain, n_chain, sizeof *chain, loc_cmp)
			: NULL;
		if (f == NULL) {
			lost++;
			continue;
		}
		lo = (size_t)(f - chain);
		hi2 = lo;
		while (lo > 0 && memcmp(chain[lo - 1].h, key.h, HASH) == 0)
			lo--;
		while (hi2 + 1 < n_chain &&
		       memcmp(chain[hi2 + 1].h, key.h, HASH) == 0)
			hi2++;
		cnt = hi2 - lo + 1;
		if (cnt > 1)
			duplicated++;
		for (int i = 1; i <= NODES; i++) {
			struct loy_client_request q;
			char *js = NULL, *p;
			long qh = -1, qp = -1;
			memset(&q, 0, sizeof q);
			q.kind = LOY_CLIENT_QUERY;
			q.query.kind = LOY_Q_TX;
			q.query.arg_count = 1;
			q.query.args[0].type = LOY_ARG_BIN;
			q.query.args[0].len = HASH;
			memcpy(q.query.args[0].data, ack.h[k], HASH);
			if (it_request(&cl, i, &q, &js, 5000) != 0 ||
			    js == NULL) {
				q_fail++;
				free(js);
				continue;
			}
			if ((p = strstr(js, "\"height\":")) != NULL)
				qh = strtol(p + 9, NULL, 10);
			if ((p = strstr(js, "\"position\":")) != NULL)
				qp = strtol(p + 11, NULL, 10);
			if (qh != chain[lo].height || qp != chain[lo].pos)
				misplaced++;
			free(js);
		}
	}
	CHECK(lost == 0, "acknowledged txs lost: %zu of %zu", lost, ack.n);
	CHECK(duplicated == 0, "acknowledged txs duplicated: %zu", duplicated);
	CHECK(q_fail == 0 && misplaced == 0,
	      "LOY_Q_TX finds every acknowledged tx on every node at its block "
	      "position "
	      "(%zu not found, %zu elsewhere)",
	      q_fail, misplaced);
	printf("chaos: chain: %ld blocks, %zu txs; %zu acknowledged txs "
	       "checked on %d nodes\n",
	       top, n_chain, ack.n, NODES);
	free(chain);
}

void audits(void)
{
	for (int i = 1; i <= NODES; i++) {
		char msg[512];
		int rc = it_node_signal(&cl, i, SIGTERM);
		CHECK(rc == 0, "node %d stops cleanly at the end (exit %d)", i,
		      rc);
		rc = run_loyctl_audit(i, msg, sizeof msg);
		CHECK(rc == 0,
		      "loyctl audit of node %d's data dir: exit %d: %s", i, rc,
		      msg);
		printf("chaos: audit node %d: %s: %s\n", i,
		       rc == 0 ? "ok" : "FAILED", msg);
	}
}
