/* A peer link made by the test itself, as one of the validators: to send
 * what a real node would not (floods, requests out of turn) through the
 * authenticated, sealed channel a Byzantine member would have. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/integration/harness_int.h"
#include "tests/integration/itest.h"

struct it_link {
	int fd;
	struct loy_session s;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct it_link *it_link_open(struct it_cluster *c, int i, int as,
			     int timeout_ms)
{
	struct it_link *l = calloc(1, sizeof *l);
	uint64_t deadline = mono_ms() + (uint64_t)timeout_ms;

	if (l == NULL)
		return NULL;
	l->fd = it_connect(c, i, false, true, timeout_ms);
	if (l->fd < 0) {
		free(l);
		return NULL;
	}
	if (it_auth(c, i, l->fd, &l->s, c->sk[as - 1], deadline) != 0) {
		loy_session_wipe(&l->s);
		close(l->fd);
		free(l);
		return NULL;
	}
	return l;
}

int it_link_send(struct it_link *l, uint8_t channel, const uint8_t *msg,
		 size_t len)
{
	uint8_t *b = malloc(len + 1);
	int rv;

	if (b == NULL)
		return -1;
	b[0] = channel;
	memcpy(b + 1, msg, len);
	rv = it_send_frame(l->fd, &l->s, b, len + 1, mono_ms() + 5000);
	free(b);
	return rv;
}

int it_link_recv(struct it_link *l, uint8_t *channel, uint8_t **msg,
		 size_t *len, int timeout_ms)
{
	uint8_t *body = NULL;
	size_t n = 0;

	*msg = NULL;
	if (it_read_frame(l->fd, &l->s, &body, &n,
			  mono_ms() + (uint64_t)timeout_ms) != 0)
		return -1;
	if (n < 1) {
		free(body);
		return -1;
	}
	*channel = body[0];
	memmove(body, body + 1, n - 1);
	*msg = body;
	*len = n - 1;
	return 0;
}

void it_link_close(struct it_link *l)
{
	if (l == NULL)
		return;
	loy_session_wipe(&l->s);
	close(l->fd);
	free(l);
}
