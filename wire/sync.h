/* Block sync messages: a node that is behind asks a peer for a run of
 * committed blocks, and gets them back with their commit certificates. */
#ifndef LOY_WIRE_SYNC_H
#define LOY_WIRE_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "wire/block.h"
#include "wire/buf.h"
#include "wire/crypto.h"
#include "wire/limits.h"

/* Largest encoded commit certificate a sync entry may carry. */
#define LOY_MAX_CERT_BYTES 8192u

/* Encoded as [version, from_height, max_count]: blocks from_height,
 * from_height+1, ... up to max_count of them (1..LOY_MAX_SYNC_BLOCKS). */
struct loy_sync_request {
	uint64_t from_height;
	uint32_t max_count;
};

/* One committed block: its canonical encoding and the encoding of its
 * commit certificate, both carried as bin so the receiver decodes each with
 * loy_block_decode / loy_cert_decode (or loy_sync_entry_open). */
struct loy_sync_entry {
	struct loy_buf block; /* owned */
	struct loy_buf cert;  /* owned */
};

/* Encoded as [version, [[block bin, cert bin], ...]], at most
 * LOY_MAX_SYNC_BLOCKS entries and LOY_MAX_FRAME bytes in all, in height
 * order. An empty response means "nothing more from me". */
struct loy_sync_response {
	uint32_t count;
	struct loy_sync_entry *entries; /* count entries, owned */
};

int loy_sync_request_encode(const struct loy_sync_request *q,
			    struct loy_buf *out) LOY_MUST_USE;
int loy_sync_request_decode(struct loy_sync_request *q, const uint8_t *data,
			    size_t len) LOY_MUST_USE;

/* Appends copies of one block's and one certificate's encodings (neither is
 * decoded here). Returns 0, LOY_EINVAL for an empty buffer, LOY_ETOOBIG if
 * the response would pass LOY_MAX_SYNC_BLOCKS entries or LOY_MAX_FRAME
 * encoded bytes (the response is unchanged: send it and continue in the
 * next one), or LOY_ENOMEM. A zeroed response is empty and valid. */
int loy_sync_response_add(struct loy_sync_response *s, const uint8_t *block,
			  size_t block_len, const uint8_t *cert,
			  size_t cert_len) LOY_MUST_USE;

/* Encodes; the caller frees out with loy_buf_free. */
int loy_sync_response_encode(const struct loy_sync_response *s,
			     struct loy_buf *out) LOY_MUST_USE;
/* On success s owns its entries; release with loy_sync_response_free. On
 * failure s holds nothing. */
int loy_sync_response_decode(struct loy_sync_response *s, const uint8_t *data,
			     size_t len) LOY_MUST_USE;
/* Frees every entry and the table; s is empty afterwards. */
void loy_sync_response_free(struct loy_sync_response *s);

/* Decodes an entry's block and certificate and checks that they belong
 * together: a COMMIT certificate of the same chain and height whose block
 * hash is the hash of this block's header. The certificate's signatures are
 * NOT checked here (the validator set of that height is the caller's: use
 * loy_cert_verify). On success b owns its txs (loy_block_free); on failure
 * nothing is held. Returns 0, a decode error, or LOY_EINVAL for a mismatch. */
int loy_sync_entry_open(const struct loy_sync_entry *e, struct loy_block *b,
			struct loy_cert *c) LOY_MUST_USE;

#endif
