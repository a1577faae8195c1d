/* A client that pipelines a burst of request frames without reading the
 * answers, then reads them: see itest.h (it_pipe). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tests/integration/itest.h"
#include "wire/client.h"

#define RCAP (1u << 20)

struct it_pipe {
	int fd;
	uint8_t *burst, *rbuf;
	size_t len, off, rlen;
};

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

struct it_pipe *it_pipe_open(const struct it_cluster *c, int i, uint8_t *burst,
			     size_t len)
{
	struct it_pipe *p = calloc(1, sizeof *p);
	struct sockaddr_in a = {0};

	if (p == NULL) {
		free(burst);
		return NULL;
	}
	p->burst = burst;
	p->len = len;
	p->rbuf = malloc(RCAP);
	p->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)c->nodes[i - 1].client_port);
	a.sin_addr.s_addr = htonl(0x7f000001);
	if (burst == NULL || p->rbuf == NULL || p->fd < 0 ||
	    (connect(p->fd, (struct sockaddr *)&a, sizeof a) != 0 &&
	     errno != EINPROGRESS)) {
		it_pipe_close(p);
		return NULL;
	}
	return p;
}

static void push_some(struct it_pipe *p)
{
	ssize_t w = write(p->fd, p->burst + p->off, p->len - p->off);
	if (w > 0)
		p->off += (size_t)w;
}

size_t it_pipe_push(struct it_pipe *p, int ms)
{
	for (double end = now_s() + ms / 1e3;
	     p->off < p->len && now_s() < end;) {
		struct pollfd q = {p->fd, POLLOUT, 0};
		if (poll(&q, 1, 100) == 1)
			push_some(p);
	}
	return p->off;
}

uint32_t it_pipe_drain(struct it_pipe *p, uint32_t n, int ms,
		       void (*each)(void *, const uint8_t *, size_t),
		       void *data)
{
	uint32_t got = 0;

	for (double end = now_s() + ms / 1e3; got < n && now_s() < end;) {
		struct pollfd q = {
		    p->fd, (short)(POLLIN | (p->off < p->len ? POLLOUT : 0)),
		    0};
		size_t used = 0, body;
		ssize_t r;
		if (poll(&q, 1, 100) != 1)
			continue;
		if ((q.revents & POLLOUT) && p->off < p->len)
			push_some(p);
		if (!(q.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		r = read(p->fd, p->rbuf + p->rlen, RCAP - p->rlen);
		if (r <= 0)
			break; /* closed on us */
		p->rlen += (size_t)r;
		while (loy_frame_peek(p->rbuf + used, p->rlen - used,
				      LOY_MAX_FRAME,
				      &body) == LOY_FRAME_READY) {
			if (each)
				each(data,
				     p->rbuf + used + LOY_FRAME_HEADER_SIZE,
				     body);
			got++;
			used += LOY_FRAME_HEADER_SIZE + body;
		}
		memmove(p->rbuf, p->rbuf + used, p->rlen - used);
		p->rlen -= used;
	}
	return got;
}

void it_pipe_close(struct it_pipe *p)
{
	if (p == NULL)
		return;
	if (p->fd >= 0)
		close(p->fd);
	free(p->burst);
	free(p->rbuf);
	free(p);
}
