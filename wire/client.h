/* Client API messages (submit, query, subscribe, status, their responses
 * and committed events) and the length-prefixed frame used on every link. */
#ifndef LOY_WIRE_CLIENT_H
#define LOY_WIRE_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/buf.h"
#include "wire/crypto.h"
#include "wire/limits.h"

#define LOY_CLIENT_MAX_ARGS    8u     /* arguments of one query */
#define LOY_CLIENT_ARG_MAX     256u   /* bytes of one bin or str argument */
#define LOY_CLIENT_EVENT_MAX   65536u /* bytes of one event body */
#define LOY_CLIENT_PAYLOAD_MAX (LOY_MAX_FRAME - 1024u) /* response payload */

/* Every client message is [version, kind, ...]. Requests go to the node;
 * RESPONSE and EVENT come back. */
enum loy_client_kind {
	LOY_CLIENT_SUBMIT = 1,
	LOY_CLIENT_QUERY = 2,
	LOY_CLIENT_SUBSCRIBE = 3,
	LOY_CLIENT_STATUS = 4,
	LOY_CLIENT_RESPONSE = 16,
	LOY_CLIENT_EVENT = 17,
};

enum loy_client_arg_type {
	LOY_ARG_UINT = 1, /* a non-negative integer */
	LOY_ARG_INT = 2,  /* a negative integer (a non-negative one is UINT) */
	LOY_ARG_STR = 3,
	LOY_ARG_BIN = 4,
};

/* One query argument; str and bin bytes live inline. */
struct loy_client_arg {
	uint8_t type; /* enum loy_client_arg_type */
	uint64_t u;   /* UINT */
	int64_t i;    /* INT, always < 0 */
	uint32_t len; /* STR, BIN: at most LOY_CLIENT_ARG_MAX bytes */
	uint8_t data[LOY_CLIENT_ARG_MAX];
};

enum loy_subscribe_filter {
	LOY_SUB_ALL = 0,      /* every committed event; id is empty */
	LOY_SUB_MEMBER = 1,   /* events of one member; id is 20 bytes */
	LOY_SUB_CUSTOMER = 2, /* events of one customer; id is 20 bytes */
};

/* Requests, encoded as
 *   SUBMIT    [version, 1, request_id, [tx bin, ...], wait]
 *   QUERY     [version, 2, request_id, query_kind, [arg, ...]]
 *   SUBSCRIBE [version, 3, request_id, filter, id bin (0 or 20 bytes)]
 *   STATUS    [version, 4, request_id]
 * Only the member of the kind is used. A query is a kind number (the
 * ledger's to define) and up to LOY_CLIENT_MAX_ARGS arguments, so new
 * queries need no format change. */
struct loy_client_request {
	uint8_t kind; /* SUBMIT..STATUS */
	uint64_t request_id;
	struct {
		uint32_t tx_count;   /* 1..LOY_MAX_SUBMIT_BATCH */
		struct loy_buf *txs; /* each 1..LOY_MAX_TX_BYTES */
		bool wait;           /* answer only once committed */
	} submit;
	struct {
		uint8_t kind;
		uint32_t arg_count;
		struct loy_client_arg args[LOY_CLIENT_MAX_ARGS];
	} query;
	struct {
		uint8_t filter; /* enum loy_subscribe_filter */
		uint8_t id[LOY_ID_SIZE];
	} subscribe;
};

/* [version, 16, request_id, code, message, payload]: code 0 is success,
 * otherwise a LOY_E* code with a human message; payload is the answer's own
 * encoding (e.g. the tx hashes of a submit, a query result). */
struct loy_client_response {
	uint64_t request_id;
	uint32_t code;
	char message[LOY_ERRMSG_MAX + 1];
	struct loy_buf payload; /* owned; may be empty */
};

/* [version, 17, height, tx_hash, event]: a committed transaction's event,
 * pushed to subscribers. */
struct loy_client_event {
	uint64_t height;
	uint8_t tx_hash[LOY_HASH_SIZE];
	struct loy_buf event; /* owned; 1..LOY_CLIENT_EVENT_MAX bytes */
};

/* Encoders: caller frees out with loy_buf_free. The message's own buffers
 * stay the caller's. */
int loy_client_request_encode(const struct loy_client_request *q,
			      struct loy_buf *out) LOY_MUST_USE;
/* On success q owns submit.txs (one allocation); release with
 * loy_client_request_free. On failure q holds nothing. */
int loy_client_request_decode(struct loy_client_request *q, const uint8_t *data,
			      size_t len) LOY_MUST_USE;
/* Frees what loy_client_request_decode allocated (not caller-built txs). */
void loy_client_request_free(struct loy_client_request *q);

int loy_client_response_encode(const struct loy_client_response *r,
			       struct loy_buf *out) LOY_MUST_USE;
/* On success r owns its payload (loy_client_response_free). */
int loy_client_response_decode(struct loy_client_response *r,
			       const uint8_t *data, size_t len) LOY_MUST_USE;
void loy_client_response_free(struct loy_client_response *r);

int loy_client_event_encode(const struct loy_client_event *e,
			    struct loy_buf *out) LOY_MUST_USE;
/* On success e owns its event bytes (loy_client_event_free). */
int loy_client_event_decode(struct loy_client_event *e, const uint8_t *data,
			    size_t len) LOY_MUST_USE;
void loy_client_event_free(struct loy_client_event *e);

/* Reads the kind of a client message without decoding it, to pick the
 * decoder. Returns 0, LOY_EMALFORMED or LOY_EVERSION. */
int loy_client_peek_kind(const uint8_t *data, size_t len,
			 uint8_t *kind) LOY_MUST_USE;

/* --- Frames: a 4-byte big-endian body length, then the body. --- */

#define LOY_FRAME_HEADER_SIZE 4

enum loy_frame_state {
	LOY_FRAME_MORE = 0,   /* not all of it is here yet */
	LOY_FRAME_READY = 1,  /* body_len bytes follow the header */
	LOY_FRAME_TOOBIG = 2, /* declared length over max (or zero): close */
};

/* Looks at the have bytes received so far. Once the header is in, the
 * declared length is checked against max before anything is allocated for
 * it: *body_len is set (MORE and READY) only when the length is in 1..max,
 * so a caller may size its buffer from it. READY means the whole body is in
 * data[LOY_FRAME_HEADER_SIZE .. LOY_FRAME_HEADER_SIZE + *body_len). */
enum loy_frame_state loy_frame_peek(const uint8_t *data, size_t have,
				    size_t max, size_t *body_len);

/* Writes the header for a body of len bytes. Returns 0 or LOY_ETOOBIG
 * (len is 0 or over LOY_MAX_FRAME). */
int loy_frame_header(uint8_t out[LOY_FRAME_HEADER_SIZE],
		     size_t len) LOY_MUST_USE;

#endif
