/* The chaos program's storage-fault trials and its final checks of the
 * chain, the acknowledged transactions and the audits. */
#include "tests/chaos/chaos.h"

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
    "data.mdb truncated to half its size",
};

/* Damages node i's stopped store, starts it and reports what loyd does: it
 * must refuse with a clear message or resync; serving from the damaged
 * store is a finding. Then wipes and resyncs the node. */
void storage_damage(int i, enum damage d, char *verdict, size_t vlen)
{
	char path[600], tail[4096], msg[512];
	struct stat sb;
	int st = -1, fd;
	off_t at = 0;
	long log_off;
	uint64_t deadline;

	faulted[i - 1] = true;
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
		int arc, ref = i % NODES + 1;
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
		sleep_ms(300);
		snprintf(verdict, vlen,
			 "offset %lld of %lld: STARTED (%s): status height "
			 "%ld; of blocks 1..%ld "
			 "%ld unreadable and %ld different from node %d; "
			 "loyctl audit of the store: "
			 "exit %d: %s",
			 (long long)at, (long long)sb.st_size,
			 exited(i, &st) ? "then died" : "still running", hi, hi,
			 unreadable, differ, ref, arc, msg);
		if (arc != 0 || differ != 0)
			CHECK(0,
			      "node %d starts and serves from a damaged store "
			      "(%s); "
			      "loyd must refuse or resync",
			      i, damage_name[d]);
		if (cl.nodes[i - 1].pid)
			it_node_signal(&cl, i, SIGKILL);
	}
	/* restore it: wipe and resync from the others */
	wipe_data(i);
	faulted[i - 1] = false;
	CHECK(it_node_start(&cl, i) == 0,
	      "start node %d empty after storage damage", i);
	CHECK(recover(i) >= 0, "node %d resyncs after storage damage", i);
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
