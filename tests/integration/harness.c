/* Integration harness: a temp directory with keys, genesis and configs,
 * loyd processes started and killed for real (in network namespaces when
 * asked), and a blocking client that authenticates when it must. */
#include "tests/integration/itest.h"
#include "tests/integration/harness_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ledger/genesis_json.h"
#include "ledger/txjson.h"
#include "wire/crypto.h"
#include "wire/error.h"
#include "wire/handshake.h"
#include "wire/session.h"
#include "wire/tx.h"

/* A connection to one node process; sealed once authenticated. */
struct it_conn {
	int fd;
	pid_t pid;                   /* the process it reached */
	struct loy_session sess, *s; /* s is &sess when sealed, else NULL */
	struct it_conn *next;
};

#define POOL_PER_NODE 8

static void conn_close(struct it_conn *cn);

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static bool port_free(int port)
{
	struct sockaddr_in a = {0};
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(0x7f000001);
	ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* A base under the kernel's ephemeral range (32768+) whose peer (base+i)
 * and client (base+100+i) ports are all free now; from the pid, so parallel
 * runs start apart. */
static int pick_base_port(void)
{
	for (int t = 0; t < 200; t++) {
		int base = 12000 + (int)((getpid() + t * 7) % 900) * 20;
		bool ok = true;
		for (int i = 0; i < IT_MAX_NODES && ok; i++)
			ok = port_free(base + i) && port_free(base + 100 + i);
		if (ok)
			return base;
	}
	return -1;
}

static int write_node(struct it_cluster *c, int i)
{
	struct it_node *nd = &c->nodes[i];
	char path[1024], allow[2 * 32 + 32] = "";
	FILE *f;

	nd->index = i + 1;
	nd->peer_port = c->base_port + i;
	nd->client_port = c->base_port + 100 + i;
	snprintf(nd->host, sizeof nd->host, "%s",
		 c->netns ? c->netns->addr[i] : "127.0.0.1");
	if (c->netns) {
		/* beyond loopback loyd lets in only the clients it knows */
		uint8_t pk[32];
		loy_seckey_pubkey(pk, c->client_sk);
		memcpy(allow, "allowed_keys = ", 15);
		loy_hex(allow + 15, pk, 32);
		memcpy(allow + 15 + 64, "\n", 2);
	}
	snprintf(path, sizeof path, "%s/node%d", c->root, i + 1);
	memcpy(nd->dir, path, strlen(path) + 1);
	mkdir(nd->dir, 0700);
	snprintf(path, sizeof path, "%s/key", nd->dir);
	if (loy_keyfile_write(path, c->sk[i], "itest", loy_kdf_cost_min()) != 0)
		return -1;
	snprintf(path, sizeof path, "%s/loyd.conf", nd->dir);
	f = fopen(path, "w");
	if (f == NULL)
		return -1;
	fprintf(f,
		"[node]\nname = node%d\ndata_dir = %s/data\nkey_file = %s/key\n"
		"genesis = %s/genesis.json\nlog_level = info\n"
		"[peer]\nlisten = %s:%d\n[client]\nlisten = %s:%d\n%s"
		/* a 30-cycle chaos campaign writes ~400,000 txs: 256 MiB
		 * filled up (MDB_MAP_FULL halts a node) */
		"[limits]\nview_timeout_ms = 400\nmap_size_mb = 1024\n",
		i + 1, nd->dir, nd->dir, c->root, nd->host, nd->peer_port,
		nd->host, nd->client_port, allow);
	fclose(f);
	return 0;
}

int it_cluster_init(struct it_cluster *c, int n, const char *loyd)
{
	return it_cluster_init_netns(c, n, loyd, NULL);
}

int it_cluster_init_netns(struct it_cluster *c, int n, const char *loyd,
			  const struct it_netns *ns)
{
	struct loy_genesis *g;
	char path[1024];
	int rv = 0;

	memset(c, 0, sizeof *c);
	pthread_mutex_init(&c->pool_lock, NULL);
	if (n < 1 || n > IT_MAX_NODES || (ns && n > ns->n))
		return -1;
	g = calloc(1, sizeof *g);
	snprintf(c->root, sizeof c->root, "/tmp/loy-itest-XXXXXX");
	if (g == NULL || mkdtemp(c->root) == NULL) {
		free(g);
		return -1;
	}
	c->netns = ns;
	if (ns) {
		uint8_t pk[32];
		loy_keypair(pk, c->client_sk);
	}
	snprintf(c->loyd, sizeof c->loyd, "%s", loyd);
	snprintf(c->chain_id, sizeof c->chain_id, "loy-itest");
	c->n = n;
	c->base_port = pick_base_port();
	if (c->base_port < 0) {
		free(g);
		return -1;
	}
	snprintf(g->chain_id, sizeof g->chain_id, "%s", c->chain_id);
	g->time_ms = 1795000000000ull;
	g->point_value = 1;
	g->commission_bps = 100;
	g->member_count = (uint32_t)n;
	for (int i = 0; i < n; i++) {
		uint8_t pk[32];
		loy_keypair(pk, c->sk[i]);
		if (write_node(c, i) != 0)
			rv = -1;
		snprintf(g->members[i].name, sizeof g->members[i].name,
			 "Member %d", i + 1);
		memcpy(g->members[i].pubkey, pk, 32);
		snprintf(g->members[i].address, sizeof g->members[i].address,
			 "%s:%d", c->nodes[i].host, c->nodes[i].peer_port);
	}
	snprintf(path, sizeof path, "%s/genesis.json", c->root);
	if (rv == 0 && loy_genesis_save(g, path) != 0)
		rv = -1;
	free(g);
	return rv;
}

int it_node_add(struct it_cluster *c, uint8_t pk[32])
{
	if (c->n >= IT_MAX_NODES || (c->netns && c->n >= c->netns->n))
		return -1;
	loy_keypair(pk, c->sk[c->n]);
	if (write_node(c, c->n) != 0)
		return -1;
	c->n++;
	return 0;
}

int it_node_start(struct it_cluster *c, int i)
{
	struct it_node *nd = &c->nodes[i - 1];
	char conf[600], log[600];
	pid_t pid;

	snprintf(conf, sizeof conf, "%s/loyd.conf", nd->dir);
	snprintf(log, sizeof log, "%s/loyd.log", nd->dir);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 2);
			dup2(fd, 1);
			close(fd);
		}
		setenv("LOYD_PASSPHRASE", "itest", 1);
		/* exec keeps the pid: signals from the harness reach loyd */
		if (c->netns && it_netns_enter(c->netns, i) != 0)
			_exit(126);
		execl(c->loyd, "loyd", "--config", conf, (char *)NULL);
		_exit(127);
	}
	nd->pid = pid;
	return 0;
}

int it_node_signal(struct it_cluster *c, int i, int sig)
{
	struct it_node *nd = &c->nodes[i - 1];
	int status;
	uint64_t deadline = now_ms() + 20000;

	if (nd->pid == 0)
		return -1;
	kill(nd->pid, sig);
	while (now_ms() < deadline) {
		pid_t r = waitpid(nd->pid, &status, WNOHANG);
		if (r == nd->pid) {
			nd->pid = 0;
			return WIFEXITED(status) ? WEXITSTATUS(status)
						 : 128 + WTERMSIG(status);
		}
		usleep(10000);
	}
	kill(nd->pid, SIGKILL);
	waitpid(nd->pid, &status, 0);
	nd->pid = 0;
	return -1;
}

void it_cluster_destroy(struct it_cluster *c)
{
	char cmd[700];

	for (int i = 0; i < IT_MAX_NODES; i++)
		while (c->pool[i]) {
			struct it_conn *next = c->pool[i]->next;
			conn_close(c->pool[i]);
			c->pool[i] = next;
		}
	pthread_mutex_destroy(&c->pool_lock);
	loy_wipe(c->client_sk, sizeof c->client_sk);
	for (int i = 1; i <= c->n; i++)
		if (c->nodes[i - 1].pid)
			it_node_signal(c, i, SIGKILL);
	if (getenv("ITEST_KEEP") == NULL) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", c->root);
		if (system(cmd) != 0)
			fprintf(stderr, "itest: could not remove %s\n",
				c->root);
	} else {
		fprintf(stderr, "itest: kept %s\n", c->root);
	}
}

/* A connection to node i's client port, from the root namespace or, when
 * inside, from the node's own namespace. */
int it_connect(struct it_cluster *c, int i, bool inside, bool peer,
	       int timeout_ms)
{
	const struct it_node *nd = &c->nodes[i - 1];
	struct sockaddr_in a = {0};
	struct pollfd p;
	int fd, err = 0, one = 1;
	socklen_t len = sizeof err;

	fd = inside && c->netns
		 ? it_netns_socket(c->netns, i, SOCK_STREAM | SOCK_NONBLOCK)
		 : socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)(peer ? nd->peer_port : nd->client_port));
	if (inet_pton(AF_INET, nd->host, &a.sin_addr) != 1 ||
	    (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 &&
	     errno != EINPROGRESS)) {
		close(fd);
		return -1;
	}
	p.fd = fd;
	p.events = POLLOUT;
	if (poll(&p, 1, timeout_ms) != 1 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
		close(fd);
		return -1;
	}
	/* the handshake is request-response: no small write may wait */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

static int io_all(int fd, void *buf, size_t len, int write_mode,
		  uint64_t deadline)
{
	size_t done = 0;

	while (done < len) {
		struct pollfd p = {fd, (short)(write_mode ? POLLOUT : POLLIN),
				   0};
		uint64_t now = now_ms();
		ssize_t r;
		if (now >= deadline || poll(&p, 1, (int)(deadline - now)) != 1)
			return -1;
		r = write_mode ? write(fd, (char *)buf + done, len - done)
			       : read(fd, (char *)buf + done, len - done);
		if (r <= 0) {
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			return -1;
		}
		done += (size_t)r;
	}
	return 0;
}

/* One frame out: the length, then the body, sealed first when s is not
 * NULL; in one write, so that no part waits on the other's ACK. */
int it_send_frame(int fd, struct loy_session *s, const uint8_t *body,
		  size_t len, uint64_t deadline)
{
	size_t n = len + (s ? LOY_SESSION_TAG_SIZE : 0);
	uint8_t *f = malloc(LOY_FRAME_HEADER_SIZE + n);
	int rv = -1;

	if (f == NULL || loy_frame_header(f, n) != 0)
		goto out;
	if (s) {
		if (loy_session_seal(s, f + LOY_FRAME_HEADER_SIZE, body, len) !=
		    0)
			goto out;
	} else if (len > 0) {
		memcpy(f + LOY_FRAME_HEADER_SIZE, body, len);
	}
	rv = io_all(fd, f, LOY_FRAME_HEADER_SIZE + n, 1, deadline);
out:
	free(f);
	return rv;
}

/* One frame in, opened when s is not NULL: *body (caller frees) holds
 * *len bytes of plaintext. */
int it_read_frame(int fd, struct loy_session *s, uint8_t **body, size_t *len,
		  uint64_t deadline)
{
	uint8_t h[LOY_FRAME_HEADER_SIZE];
	size_t n;

	*body = NULL;
	if (io_all(fd, h, sizeof h, 0, deadline) != 0)
		return -1;
	n = (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
	if (n > LOY_MAX_FRAME || (s && n < LOY_SESSION_TAG_SIZE) ||
	    (*body = malloc(n ? n : 1)) == NULL)
		return -1;
	if (io_all(fd, *body, n, 0, deadline) != 0 ||
	    (s && loy_session_open(s, *body, *body, n) != 0)) {
		free(*body);
		*body = NULL;
		return -1;
	}
	*len = s ? n - LOY_SESSION_TAG_SIZE : n;
	return 0;
}

/* The initiator's side of node i's handshake, on its client port as on its
 * peer port (node/client_auth.h, node/peer_link.c): HELLO both ways, AUTH
 * both ways with key sk, then the session that seals every frame after. */
int it_auth(struct it_cluster *c, int i, int fd, struct loy_session *s,
	    const uint8_t sk[64], uint64_t deadline)
{
	struct loy_hs_hello ours, theirs;
	struct loy_hs_auth auth;
	struct loy_eph_key eph, noncekey;
	struct loy_buf hello = {0}, ab = {0};
	uint8_t node_pk[32], transcript[LOY_HASH_SIZE], *body = NULL;
	size_t len = 0;
	int rv = -1;

	loy_seckey_pubkey(node_pk, c->sk[i - 1]);
	memset(&ours, 0, sizeof ours);
	snprintf(ours.chain_id, sizeof ours.chain_id, "%s", c->chain_id);
	loy_seckey_pubkey(ours.validator, sk);
	loy_eph_keygen(&eph);
	memcpy(ours.ephemeral, eph.pk, LOY_X25519_SIZE);
	loy_eph_keygen(&noncekey); /* fresh random bytes for the nonce */
	memcpy(ours.nonce, noncekey.pk, LOY_HS_NONCE_SIZE);
	loy_eph_key_wipe(&noncekey);
	if (loy_hs_hello_encode(&ours, &hello) != 0 ||
	    it_send_frame(fd, NULL, hello.data, hello.len, deadline) != 0 ||
	    it_read_frame(fd, NULL, &body, &len, deadline) != 0 ||
	    loy_hs_hello_decode(&theirs, body, len) != 0 ||
	    loy_hs_hello_check(&ours, &theirs) != 0 ||
	    memcmp(theirs.validator, node_pk, sizeof node_pk) != 0)
		goto out;
	loy_hs_transcript(transcript, hello.data, hello.len, body, len);
	free(body);
	body = NULL;
	loy_hs_auth_sign(&auth, LOY_HS_INITIATOR, c->chain_id, transcript, sk);
	if (loy_hs_auth_encode(&auth, &ab) != 0 ||
	    it_send_frame(fd, NULL, ab.data, ab.len, deadline) != 0 ||
	    it_read_frame(fd, NULL, &body, &len, deadline) != 0 ||
	    loy_hs_auth_decode(&auth, body, len) != 0 ||
	    loy_hs_auth_verify(&auth, LOY_HS_RESPONDER, c->chain_id, transcript,
			       node_pk) != 0 ||
	    loy_session_derive(s, LOY_HS_INITIATOR, &eph, theirs.ephemeral,
			       transcript) != 0)
		goto out;
	rv = 0;
out:
	loy_eph_key_wipe(&eph);
	loy_buf_free(&hello);
	loy_buf_free(&ab);
	free(body);
	return rv;
}

static void conn_close(struct it_conn *cn)
{
	if (cn->s)
		loy_session_wipe(cn->s);
	close(cn->fd);
	free(cn);
}

static struct it_conn *conn_open(struct it_cluster *c, int i, bool inside,
				 uint64_t deadline)
{
	struct it_conn *cn = calloc(1, sizeof *cn);
	uint64_t now = now_ms();

	if (cn == NULL || now >= deadline)
		goto fail;
	cn->pid = c->nodes[i - 1].pid;
	cn->fd = it_connect(c, i, inside, false, (int)(deadline - now));
	if (cn->fd < 0)
		goto fail;
	if (c->netns) {
		if (it_auth(c, i, cn->fd, &cn->sess, c->client_sk, deadline) !=
		    0) {
			loy_session_wipe(&cn->sess);
			close(cn->fd);
			goto fail;
		}
		cn->s = &cn->sess;
	}
	return cn;
fail:
	free(cn);
	return NULL;
}

/* One request and its response: the response code, or -1 when the
 * connection failed (it is of no further use then). */
static int exchange(struct it_conn *cn, struct loy_client_request *q,
		    char **out, uint64_t deadline)
{
	struct loy_client_response r;
	struct loy_buf b = {0};
	uint8_t *body = NULL;
	size_t len = 0;
	int code = -1;

	if (loy_client_request_encode(q, &b) != 0 ||
	    it_send_frame(cn->fd, cn->s, b.data, b.len, deadline) != 0 ||
	    it_read_frame(cn->fd, cn->s, &body, &len, deadline) != 0 ||
	    loy_client_response_decode(&r, body, len) != 0)
		goto out;
	code = (int)r.code;
	if (out) {
		*out = malloc(r.payload.len + 1);
		if (*out) {
			memcpy(*out, r.payload.data, r.payload.len);
			(*out)[r.payload.len] = '\0';
		}
	}
	loy_client_response_free(&r);
out:
	free(body);
	loy_buf_free(&b);
	return code;
}

/* A kept connection to node i's current process, or NULL. */
static struct it_conn *pool_take(struct it_cluster *c, int i)
{
	struct it_conn *cn, *stale = NULL;

	pthread_mutex_lock(&c->pool_lock);
	while ((cn = c->pool[i - 1]) != NULL) {
		c->pool[i - 1] = cn->next;
		if (cn->pid == c->nodes[i - 1].pid)
			break;
		cn->next = stale;
		stale = cn;
	}
	pthread_mutex_unlock(&c->pool_lock);
	while (stale) {
		struct it_conn *next = stale->next;
		conn_close(stale);
		stale = next;
	}
	return cn;
}

static void pool_put(struct it_cluster *c, int i, struct it_conn *cn)
{
	int n = 0;

	pthread_mutex_lock(&c->pool_lock);
	for (struct it_conn *k = c->pool[i - 1]; k; k = k->next)
		n++;
	if (n < POOL_PER_NODE) {
		cn->next = c->pool[i - 1];
		c->pool[i - 1] = cn;
		cn = NULL;
	}
	pthread_mutex_unlock(&c->pool_lock);
	if (cn)
		conn_close(cn);
}

/* Read-only requests over authenticated links reuse connections: the
 * handshake (two signatures, two checks, a key exchange) costs more than
 * most queries. Everything else gets a fresh connection, as on loopback,
 * so a submission is never sent twice. */
static int request(struct it_cluster *c, int i, bool inside,
		   struct loy_client_request *q, char **out, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	bool reuse =
	    c->netns && !inside &&
	    (q->kind == LOY_CLIENT_STATUS || q->kind == LOY_CLIENT_QUERY);
	struct it_conn *cn;
	int code;

	if (out)
		*out = NULL;
	if (reuse && (cn = pool_take(c, i)) != NULL) {
		code = exchange(cn, q, out, deadline);
		if (code >= 0) {
			pool_put(c, i, cn);
			return code;
		}
		/* closed by the node since, most likely: once more afresh */
		conn_close(cn);
	}
	cn = conn_open(c, i, inside, deadline);
	if (cn == NULL)
		return -1;
	code = exchange(cn, q, out, deadline);
	if (code >= 0 && reuse)
		pool_put(c, i, cn);
	else
		conn_close(cn);
	return code;
}

int it_request(struct it_cluster *c, int i, struct loy_client_request *q,
	       char **out, int timeout_ms)
{
	return request(c, i, false, q, out, timeout_ms);
}

int it_request_two(struct it_cluster *c, int i, struct loy_client_request *a,
		   struct loy_client_request *b, char **out, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	struct it_conn *cn = conn_open(c, i, false, deadline);
	int code = -1;

	if (out)
		*out = NULL;
	if (cn == NULL)
		return -1;
	if (exchange(cn, a, NULL, deadline) == 0)
		code = exchange(cn, b, out, deadline);
	conn_close(cn);
	return code;
}

/* Pulls "key":number or "key":"text" out of a flat JSON answer. */
static long json_num(const char *js, const char *key)
{
	char pat[64];
	const char *p;
	snprintf(pat, sizeof pat, "\"%s\":", key);
	p = strstr(js, pat);
	return p ? strtol(p + strlen(pat), NULL, 10) : -1;
}

/* Node i's status as JSON (malloc'd), or NULL. */
static char *status_json(struct it_cluster *c, int i, bool inside)
{
	struct loy_client_request q;
	char *js = NULL;

	memset(&q, 0, sizeof q);
	q.kind = LOY_CLIENT_STATUS;
	q.request_id = 1;
	if (request(c, i, inside, &q, &js, 2000) != 0) {
		free(js);
		return NULL;
	}
	return js;
}

static long height(struct it_cluster *c, int i, bool inside, char root[65])
{
	char *js = status_json(c, i, inside);
	long h = -1;

	if (js) {
		const char *p = strstr(js, "\"state_root\":\"");
		h = json_num(js, "height");
		if (root && p)
			snprintf(root, 65, "%.64s", p + 14);
	}
	free(js);
	return h;
}

int it_peers(struct it_cluster *c, int i)
{
	char *js = status_json(c, i, false);
	const char *p = js ? strstr(js, "\"peers\":[") : NULL;
	int n = -1;

	/* "peers":["<hex>",...]: the connected peers' keys */
	if (p != NULL) {
		n = 0;
		for (p += 9; *p && *p != ']'; p++)
			n += *p == '"';
		n /= 2;
	}
	free(js);
	return n;
}

char *it_status_json(struct it_cluster *c, int i)
{
	return status_json(c, i, false);
}

long it_status_num(struct it_cluster *c, int i, const char *key)
{
	char *js = status_json(c, i, false);
	long v = js ? json_num(js, key) : -1;

	free(js);
	return v;
}

long it_height(struct it_cluster *c, int i, char root[65])
{
	return height(c, i, false, root);
}

long it_height_inside(struct it_cluster *c, int i, char root[65])
{
	return height(c, i, true, root);
}

bool it_wait_converged(struct it_cluster *c, long h, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;

	while (now_ms() < deadline) {
		char first[65] = "", root[65];
		long top = -1;
		bool ok = true;
		for (int i = 1; i <= c->n && ok; i++) {
			long hi;
			if (c->nodes[i - 1].pid == 0)
				continue;
			hi = it_height(c, i, root);
			if (hi < h || (top >= 0 && hi != top) ||
			    (first[0] && strcmp(first, root) != 0))
				ok = false;
			top = hi;
			snprintf(first, sizeof first, "%s", root);
		}
		if (ok)
			return true;
		usleep(50000);
	}
	return false;
}

void it_acked_init(struct it_acked *a)
{
	memset(a, 0, sizeof *a);
	pthread_mutex_init(&a->lock, NULL);
}

void it_acked_free(struct it_acked *a)
{
	free(a->h);
	pthread_mutex_destroy(&a->lock);
	memset(a, 0, sizeof *a);
}

static void acked_add(struct it_acked *a, const char *hex)
{
	pthread_mutex_lock(&a->lock);
	if (a->n == a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 4096;
		void *na = realloc(a->h, nc * sizeof *a->h);
		if (na == NULL) {
			pthread_mutex_unlock(&a->lock);
			abort();
		}
		a->h = na;
		a->cap = nc;
	}
	for (int b = 0; b < 32; b++) {
		unsigned v = 0;
		if (sscanf(hex + 2 * b, "%2x", &v) != 1)
			v = 0;
		a->h[a->n][b] = (uint8_t)v;
	}
	a->n++;
	pthread_mutex_unlock(&a->lock);
}

int it_submit_registrations(struct it_cluster *c, int i, uint32_t count,
			    int timeout_ms, struct it_acked *a)
{
	struct loy_client_request q;
	char *js = NULL, *p;
	int code, ok = 0;

	memset(&q, 0, sizeof q);
	q.kind = LOY_CLIENT_SUBMIT;
	q.request_id = 7;
	q.submit.wait = true;
	q.submit.tx_count = count;
	q.submit.txs = calloc(count, sizeof *q.submit.txs);
	if (q.submit.txs == NULL)
		return 0;
	for (uint32_t k = 0; k < count; k++) {
		struct loy_tx tx;
		uint8_t pk[32], sk[64];
		memset(&tx, 0, sizeof tx);
		loy_keypair(pk, sk);
		tx.kind = LOY_TX_CUSTOMER_REGISTER;
		snprintf(tx.chain_id, sizeof tx.chain_id, "%s", c->chain_id);
		tx.nonce = 1;
		if (loy_tx_sign(&tx, sk) != 0 ||
		    loy_tx_encode(&tx, &q.submit.txs[k]) != 0)
			abort();
	}
	code = it_request(c, i, &q, &js, timeout_ms);
	/* every tx's answer: {"hash":"<64 hex>","status":"committed",...} */
	for (p = js; code == 0 && p && (p = strstr(p, "\"hash\":\"")) != NULL;
	     p += 8) {
		if (strlen(p + 8) < 64 + 22 ||
		    strncmp(p + 8 + 64, "\",\"status\":\"committed\"", 22) != 0)
			continue;
		acked_add(a, p + 8);
		ok++;
	}
	pthread_mutex_lock(&a->lock);
	a->sent += count;
	if (code != 0)
		a->failed_batches++;
	pthread_mutex_unlock(&a->lock);
	free(js);
	for (uint32_t k = 0; k < count; k++)
		loy_buf_free(&q.submit.txs[k]);
	free(q.submit.txs);
	return ok;
}

void it_check_fail(struct it_tally *t, const char *file, int line,
		   const char *fmt, ...)
{
	va_list ap;

	t->failed++;
	fprintf(stderr, "%s: FAIL %s:%d: ", t->prog, file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
}
