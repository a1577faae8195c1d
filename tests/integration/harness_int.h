/* Internal to the integration harness: the socket, framing and handshake
 * helpers that harness.c (client requests) and link.c (peer links) share. */
#ifndef LOY_TESTS_INTEGRATION_HARNESS_INT_H
#define LOY_TESTS_INTEGRATION_HARNESS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/integration/itest.h"
#include "wire/session.h"

/* A connected non-blocking socket to node i's client port (peer port when
 * peer), or -1. */
int it_connect(struct it_cluster *c, int i, bool inside, bool peer,
	       int timeout_ms);
/* One frame out or in, sealed or opened when s is not NULL; 0 or -1. */
int it_send_frame(int fd, struct loy_session *s, const uint8_t *body,
		  size_t len, uint64_t deadline);
int it_read_frame(int fd, struct loy_session *s, uint8_t **body, size_t *len,
		  uint64_t deadline);
/* The initiator's handshake with node i as the holder of sk; 0 or -1. */
int it_auth(struct it_cluster *c, int i, int fd, struct loy_session *s,
	    const uint8_t sk[64], uint64_t deadline);

#endif
