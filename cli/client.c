/* A small blocking client for loyd's client API: connect with a timeout,
 * framed requests out, framed responses and events in. */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wire/error.h"

static int connect_timeout(int fd, const struct sockaddr *sa, socklen_t len,
			   int timeout_ms)
{
	int flags = fcntl(fd, F_GETFL, 0), rv, err = 0;
	socklen_t elen = sizeof err;
	struct pollfd p = {.fd = fd, .events = POLLOUT};

	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -1;
	rv = connect(fd, sa, len);
	if (rv < 0 && errno != EINPROGRESS)
		return -1;
	if (rv < 0) {
		rv = poll(&p, 1, timeout_ms);
		if (rv == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (rv < 0 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
			return -1;
		if (err != 0) {
			errno = err;
			return -1;
		}
	}
	return fcntl(fd, F_SETFL, flags);
}

int cli_conn_open(struct cli_conn *cn, const char *hostport, int timeout_ms)
{
	char host[128], port_s[8];
	uint16_t port;
	struct addrinfo hints, *res = NULL, *ai;
	int rv, one = 1;

	memset(cn, 0, sizeof *cn);
	cn->fd = -1;
	cn->next_id = 1;
	cn->timeout_ms = -1;
	if (cli_parse_hostport(hostport, host, sizeof host, &port) != 0) {
		snprintf(cn->err, sizeof cn->err,
			 "node address '%.200s' is not HOST:PORT", hostport);
		return CLI_USAGE;
	}
	snprintf(port_s, sizeof port_s, "%u", port);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rv = getaddrinfo(host, port_s, &hints, &res);
	if (rv != 0) {
		snprintf(cn->err, sizeof cn->err, "cannot resolve %s: %s", host,
			 gai_strerror(rv));
		return CLI_UNREACHABLE;
	}
	errno = ECONNREFUSED;
	for (ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
				ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect_timeout(fd, ai->ai_addr, ai->ai_addrlen,
				    timeout_ms) == 0) {
			cn->fd = fd;
			break;
		}
		rv = errno;
		close(fd);
		errno = rv;
	}
	freeaddrinfo(res);
	if (cn->fd < 0) {
		snprintf(cn->err, sizeof cn->err,
			 "cannot reach node %.200s: %s", hostport,
			 strerror(errno));
		return CLI_UNREACHABLE;
	}
	setsockopt(cn->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	cn->timeout_ms = timeout_ms;
	rv = cli_conn_auth(cn);
	cn->timeout_ms = -1;
	if (rv != 0) {
		char keep[sizeof cn->err];
		memcpy(keep, cn->err, sizeof keep);
		cli_conn_close(cn);
		memcpy(cn->err, keep, sizeof keep);
	}
	return rv;
}

void cli_conn_close(struct cli_conn *cn)
{
	if (cn->sess) {
		loy_session_wipe(cn->sess);
		free(cn->sess);
		cn->sess = NULL;
	}
	if (cn->fd >= 0)
		close(cn->fd);
	cn->fd = -1;
	free(cn->buf);
	cn->buf = NULL;
	cn->len = cn->cap = 0;
}

static int write_all(struct cli_conn *cn, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(cn->fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			snprintf(cn->err, sizeof cn->err, "send to node: %s",
				 strerror(errno));
			return CLI_UNREACHABLE;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int cli_conn_send_raw(struct cli_conn *cn, const uint8_t *body, size_t len)
{
	uint8_t hdr[LOY_FRAME_HEADER_SIZE];
	int rv;

	if (loy_frame_header(hdr, len) != 0) {
		snprintf(cn->err, sizeof cn->err, "request too big");
		return CLI_FAIL;
	}
	rv = write_all(cn, hdr, sizeof hdr);
	if (rv == 0)
		rv = write_all(cn, body, len);
	return rv;
}

int cli_conn_send(struct cli_conn *cn, struct loy_client_request *q)
{
	struct loy_buf out = {0};
	uint8_t *sealed = NULL;
	int rv;

	q->request_id = cn->next_id++;
	rv = loy_client_request_encode(q, &out);
	if (rv != 0) {
		snprintf(cn->err, sizeof cn->err, "encode request: %s",
			 loy_strerror(rv));
		return CLI_FAIL;
	}
	if (cn->sess) {
		sealed = malloc(out.len + LOY_SESSION_TAG_SIZE);
		if (sealed == NULL ||
		    loy_session_seal(cn->sess, sealed, out.data, out.len) !=
			0) {
			free(sealed);
			loy_buf_free(&out);
			snprintf(cn->err, sizeof cn->err,
				 "cannot seal the request");
			return CLI_FAIL;
		}
		rv = cli_conn_send_raw(cn, sealed,
				       out.len + LOY_SESSION_TAG_SIZE);
		free(sealed);
	} else {
		rv = cli_conn_send_raw(cn, out.data, out.len);
	}
	loy_buf_free(&out);
	return rv;
}

/* Reads until a whole frame is buffered; *body_len is its body size. */
static int read_frame(struct cli_conn *cn, size_t *body_len)
{
	for (;;) {
		enum loy_frame_state st =
		    loy_frame_peek(cn->buf, cn->len, LOY_MAX_FRAME, body_len);
		ssize_t r;
		if (st == LOY_FRAME_READY)
			return 0;
		if (st == LOY_FRAME_TOOBIG) {
			snprintf(cn->err, sizeof cn->err,
				 "node sent an oversized frame");
			return CLI_UNREACHABLE;
		}
		if (cn->cap - cn->len < 65536) {
			size_t cap = cn->cap ? cn->cap * 2 : 131072;
			uint8_t *p = realloc(cn->buf, cap);
			if (p == NULL) {
				snprintf(cn->err, sizeof cn->err,
					 "out of memory");
				return CLI_FAIL;
			}
			cn->buf = p;
			cn->cap = cap;
		}
		if (cn->timeout_ms >= 0) {
			struct pollfd p = {.fd = cn->fd, .events = POLLIN};
			int pr = poll(&p, 1, cn->timeout_ms);
			if (pr == 0) {
				snprintf(cn->err, sizeof cn->err,
					 "node did not answer in time");
				return CLI_UNREACHABLE;
			}
			if (pr < 0 && errno == EINTR)
				return CLI_FAIL; /* interrupted: the caller
						    decides */
		}
		r = recv(cn->fd, cn->buf + cn->len, cn->cap - cn->len, 0);
		if (r < 0 && errno == EINTR)
			return CLI_FAIL;
		if (r <= 0) {
			snprintf(cn->err, sizeof cn->err,
				 "node closed the connection%s%s",
				 r < 0 ? ": " : "",
				 r < 0 ? strerror(errno) : "");
			return CLI_UNREACHABLE;
		}
		cn->len += (size_t)r;
	}
}

int cli_conn_read_raw(struct cli_conn *cn, uint8_t **body, size_t *len)
{
	size_t n = 0, total;
	int rv = read_frame(cn, &n);

	if (rv != 0)
		return rv;
	total = LOY_FRAME_HEADER_SIZE + n;
	*body = malloc(n ? n : 1);
	if (*body == NULL)
		return CLI_FAIL;
	memcpy(*body, cn->buf + LOY_FRAME_HEADER_SIZE, n);
	*len = n;
	memmove(cn->buf, cn->buf + total, cn->len - total);
	cn->len -= total;
	return 0;
}

int cli_conn_read(struct cli_conn *cn, uint8_t *kind,
		  struct loy_client_response *r, struct loy_client_event *e)
{
	size_t body = 0, total;
	const uint8_t *p;
	int rv = read_frame(cn, &body);

	if (rv != 0)
		return rv;
	p = cn->buf + LOY_FRAME_HEADER_SIZE;
	total = LOY_FRAME_HEADER_SIZE + body;
	if (cn->sess) {
		/* opened in place: the plaintext is the body less the tag */
		if (body < LOY_SESSION_TAG_SIZE ||
		    loy_session_open(cn->sess, cn->buf + LOY_FRAME_HEADER_SIZE,
				     p, body) != 0) {
			snprintf(cn->err, sizeof cn->err,
				 "a frame from the node does not open");
			return CLI_UNREACHABLE;
		}
		body -= LOY_SESSION_TAG_SIZE;
	}
	rv = loy_client_peek_kind(p, body, kind);
	if (rv == 0 && *kind == LOY_CLIENT_RESPONSE)
		rv = loy_client_response_decode(r, p, body);
	else if (rv == 0 && *kind == LOY_CLIENT_EVENT)
		rv = loy_client_event_decode(e, p, body);
	else if (rv == 0)
		rv = LOY_EKIND;
	memmove(cn->buf, cn->buf + total, cn->len - total);
	cn->len -= total;
	if (rv != 0) {
		snprintf(cn->err, sizeof cn->err, "bad message from node: %s",
			 loy_strerror(rv));
		return CLI_UNREACHABLE;
	}
	return 0;
}

int cli_conn_call(struct cli_conn *cn, struct loy_client_request *q,
		  struct loy_client_response *r)
{
	int rv = cli_conn_send(cn, q);

	while (rv == 0) {
		uint8_t kind;
		struct loy_client_event e;
		rv = cli_conn_read(cn, &kind, r, &e);
		if (rv != 0)
			break;
		if (kind == LOY_CLIENT_EVENT) {
			loy_client_event_free(&e);
			continue;
		}
		if (r->request_id == q->request_id)
			return 0;
		loy_client_response_free(r);
	}
	return rv;
}

/* --- one-shot helpers --- */

int cli_connect(struct cli *c, struct cli_conn *cn)
{
	int rv = cli_conn_open(cn, c->node, 5000);

	if (rv != 0)
		cli_err(c, "%s", cn->err);
	else
		cn->timeout_ms = 60000;
	return rv;
}

static int call_json(struct cli *c, struct cli_conn *cn,
		     struct loy_client_request *q, json_t **payload)
{
	struct loy_client_response r;
	json_error_t jerr;
	int rv = cli_conn_call(cn, q, &r);

	*payload = NULL;
	if (rv != 0) {
		cli_err(c, "%s", cn->err);
		return rv;
	}
	if (r.code != 0) {
		cli_err(c, "%s",
			r.message[0] ? r.message : loy_strerror((int)r.code));
		loy_client_response_free(&r);
		return CLI_FAIL;
	}
	if (r.payload.len > 0)
		*payload = json_loadb((const char *)r.payload.data,
				      r.payload.len, 0, &jerr);
	else
		*payload = json_object();
	loy_client_response_free(&r);
	if (*payload == NULL) {
		cli_err(c, "node answered with invalid JSON: %s", jerr.text);
		return CLI_FAIL;
	}
	return CLI_OK;
}

int cli_status(struct cli *c, struct cli_conn *cn, json_t **payload)
{
	struct loy_client_request q;

	memset(&q, 0, sizeof q);
	q.kind = LOY_CLIENT_STATUS;
	return call_json(c, cn, &q, payload);
}

int cli_query(struct cli *c, struct cli_conn *cn, uint8_t kind,
	      const struct loy_client_arg *args, uint32_t nargs,
	      json_t **payload)
{
	struct loy_client_request q;

	memset(&q, 0, sizeof q);
	q.kind = LOY_CLIENT_QUERY;
	q.query.kind = kind;
	q.query.arg_count = nargs;
	for (uint32_t i = 0; i < nargs && i < LOY_CLIENT_MAX_ARGS; i++)
		q.query.args[i] = args[i];
	return call_json(c, cn, &q, payload);
}

void cli_arg_bin(struct loy_client_arg *a, const uint8_t *p, uint32_t n)
{
	memset(a, 0, sizeof *a);
	a->type = LOY_ARG_BIN;
	a->len = n;
	memcpy(a->data, p, n);
}

void cli_arg_uint(struct loy_client_arg *a, uint64_t v)
{
	memset(a, 0, sizeof *a);
	a->type = LOY_ARG_UINT;
	a->u = v;
}

void cli_arg_int(struct loy_client_arg *a, int64_t v)
{
	if (v >= 0) {
		cli_arg_uint(a, (uint64_t)v);
		return;
	}
	memset(a, 0, sizeof *a);
	a->type = LOY_ARG_INT;
	a->i = v;
}

void cli_arg_str(struct loy_client_arg *a, const char *s)
{
	size_t n = strlen(s);

	memset(a, 0, sizeof *a);
	a->type = LOY_ARG_STR;
	if (n > LOY_CLIENT_ARG_MAX)
		n = LOY_CLIENT_ARG_MAX;
	a->len = (uint32_t)n;
	memcpy(a->data, s, n);
}
