/* The chaos program's views of its nodes: heights, the leader, logs, exit
 * status, recovery and resync waits, stored blocks and audits. */
#include "tests/chaos/chaos.h"

/* --- cluster views --- */

long max_height_except(int skip)
{
	long top = -1;

	for (int i = 1; i <= NODES; i++) {
		long h;
		if (i == skip || !up(i) || faulted[i - 1])
			continue;
		h = it_height(&cl, i, NULL);
		if (h > top)
			top = h;
	}
	return top;
}

int leader_index(void)
{
	struct loy_client_request q;
	char *js = NULL, *p;
	int idx = -1;

	memset(&q, 0, sizeof q);
	q.kind = LOY_CLIENT_STATUS;
	for (int i = 1; i <= NODES && idx < 0; i++) {
		if (!up(i) || faulted[i - 1] ||
		    it_request(&cl, i, &q, &js, 2000) != 0)
			continue;
		p = js ? strstr(js, "\"leader\":\"") : NULL;
		for (int k = 1; p && k <= NODES; k++) {
			uint8_t pk[32];
			char hex[65];
			loy_seckey_pubkey(pk, cl.sk[k - 1]);
			bin_hex(hex, pk, 32);
			if (strncmp(p + 10, hex, 64) == 0)
				idx = k;
		}
		free(js);
		js = NULL;
	}
	return idx;
}

/* The last len bytes of node i's log, NUL-terminated, in buf. */
void log_tail(int i, char *buf, size_t len)
{
	char path[600];
	long size;
	size_t r = 0;
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof path, "%s/loyd.log", cl.nodes[i - 1].dir);
	f = fopen(path, "r");
	if (f == NULL)
		return;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	if (size > (long)len - 1)
		fseek(f, size - ((long)len - 1), SEEK_SET);
	else
		fseek(f, 0, SEEK_SET);
	r = fread(buf, 1, len - 1, f);
	buf[r] = '\0';
	fclose(f);
}

/* The last line of text in buf (modifies buf). */
const char *last_line(char *buf)
{
	size_t n = strlen(buf);
	char *p;

	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	p = strrchr(buf, '\n');
	return p ? p + 1 : buf;
}

/* The line explaining a failed start among what node i logged after byte
 * off: loyd's own "loyd: ..." line, else the last error, else the last. */
bool started_before; /* set by start_reason: the node had started */

void start_reason(int i, long off, char *out, size_t len)
{
	char path[600], buf[8192], *line, *save = NULL;
	const char *pick = NULL, *err = NULL, *last = NULL;
	size_t r = 0;
	FILE *f;

	snprintf(out, len, "(nothing logged)");
	started_before = false;
	snprintf(path, sizeof path, "%s/loyd.log", cl.nodes[i - 1].dir);
	f = fopen(path, "r");
	if (f == NULL)
		return;
	fseek(f, off, SEEK_SET);
	r = fread(buf, 1, sizeof buf - 1, f);
	buf[r] = '\0';
	fclose(f);
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "loyd: ", 6) == 0 &&
		    !strstr(line, "fault signals"))
			pick = line;
		if (strstr(line, "node: started"))
			started_before = true;
		if (strstr(line, " error") || strstr(line, "ERR") ||
		    strstr(line, "err "))
			err = line;
		last = line;
	}
	pick = err ? err : pick ? pick : last;
	if (pick)
		snprintf(out, len, "%s", pick);
}

long log_size(int i)
{
	char path[600];
	struct stat sb;

	snprintf(path, sizeof path, "%s/loyd.log", cl.nodes[i - 1].dir);
	return stat(path, &sb) == 0 ? (long)sb.st_size : 0;
}

/* Whether node i's process has exited; reaps it (pid 0 after). */
bool exited(int i, int *status)
{
	struct it_node *nd = &cl.nodes[i - 1];
	int st = 0;

	if (nd->pid == 0)
		return true;
	if (waitpid(nd->pid, &st, WNOHANG) == nd->pid) {
		nd->pid = 0;
		if (status)
			*status = WIFEXITED(st) ? WEXITSTATUS(st)
						: 128 + WTERMSIG(st);
		return true;
	}
	return false;
}

/* Waits until node i answers STATUS; false if it exits or time runs out. */
bool wait_answers(int i, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;

	while (now_ms() < deadline) {
		if (exited(i, NULL))
			return false;
		if (it_height(&cl, i, NULL) >= 0)
			return true;
		sleep_ms(20);
	}
	return false;
}

/* Recovery: from now until the cluster has committed past the height the
 * others had now and node i holds that block too. Seconds, or -1. */
double recover(int i)
{
	uint64_t t0 = now_ms(),
		 deadline = t0 + (uint64_t)opt.recover_timeout_ms;
	long h0 = max_height_except(i);

	if (!load_running()) {
		/* the load has spent its budget: without a block past h0
		 * there is nothing to recover to, so make one */
		for (int o = 1; o <= NODES; o++)
			if (o != i && up(o) && !faulted[o - 1]) {
				submit_regs(o, 5, 10000);
				break;
			}
	}

	while (now_ms() < deadline) {
		long hi = it_height(&cl, i, NULL);
		if (h0 >= 0 && hi >= h0 + 1 && max_height_except(i) >= h0 + 1)
			return (double)(now_ms() - t0) / 1000.0;
		if (h0 < 0)
			h0 = max_height_except(i);
		sleep_ms(20);
	}
	return -1;
}

/* Resync: node i reaches the height the others had when it was started
 * (the cluster need not move on meanwhile: the load may be over). Seconds,
 * or -1. */
double resync(int i)
{
	uint64_t t0 = now_ms(),
		 deadline = t0 + (uint64_t)opt.recover_timeout_ms;
	long h0 = max_height_except(i);

	while (now_ms() < deadline) {
		if (h0 < 0)
			h0 = max_height_except(i);
		else if (it_height(&cl, i, NULL) >= h0)
			return (double)(now_ms() - t0) / 1000.0;
		sleep_ms(20);
	}
	return -1;
}

/* Block hash and state root of height h on node i ("" when unreachable);
 * the whole JSON in *out when out is not NULL (caller frees). */
int block_at(int i, long h, char hash[65], char root[65], char **out)
{
	struct loy_client_request q;
	char *js = NULL, *p;
	int code;

	hash[0] = root[0] = '\0';
	memset(&q, 0, sizeof q);
	q.kind = LOY_CLIENT_QUERY;
	q.query.kind = LOY_Q_BLOCK;
	q.query.arg_count = 1;
	q.query.args[0].type = LOY_ARG_UINT;
	q.query.args[0].u = (uint64_t)h;
	code = it_request(&cl, i, &q, &js, 5000);
	if (code == 0 && js) {
		if ((p = strstr(js, "\"hash\":\"")) != NULL)
			snprintf(hash, 65, "%.64s", p + 8);
		if ((p = strstr(js, "\"state_root\":\"")) != NULL)
			snprintf(root, 65, "%.64s", p + 14);
	}
	if (out)
		*out = js;
	else
		free(js);
	return code;
}

int run_loyctl_audit(int i, char *msg, size_t msg_len)
{
	char cmd[2400], out[600], buf[2048];
	int rc;

	snprintf(out, sizeof out, "%s/audit.out", cl.nodes[i - 1].dir);
	snprintf(cmd, sizeof cmd,
		 "'%s' audit --data-dir '%s/data' --genesis '%s/genesis.json' "
		 "> '%s' 2>&1",
		 opt.loyctl, cl.nodes[i - 1].dir, cl.root, out);
	rc = system(cmd);
	rc = rc == -1 ? -1 : WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
	buf[0] = '\0';
	{
		FILE *f = fopen(out, "r");
		if (f) {
			size_t r = fread(buf, 1, sizeof buf - 1, f);
			buf[r] = '\0';
			fclose(f);
		}
	}
	/* the report after the progress lines, on one line */
	{
		const char *l = strstr(buf, "audit passed"), *cr;
		if (l == NULL)
			l = strstr(buf, "loyctl: audit");
		if (l == NULL)
			l = (cr = strrchr(buf, '\r')) != NULL ? cr + 1 : buf;
		size_t o = 0;
		bool sp = false;
		for (; *l && o + 1 < msg_len; l++) {
			bool ws = *l == ' ' || *l == '\n' || *l == '\t';
			if (ws && (sp || o == 0))
				continue;
			msg[o++] = ws ? ' ' : *l;
			sp = ws;
		}
		msg[o] = '\0';
	}
	{
		char *a = strstr(msg, "audit passed");
		if (a == NULL)
			a = strstr(msg, "audit failed");
		if (a && a != msg)
			memmove(msg, a, strlen(a) + 1);
	}
	return rc;
}
