/* Owned byte strings produced by encoders. */
#ifndef LOY_WIRE_BUF_H
#define LOY_WIRE_BUF_H

#include <stddef.h>
#include <stdint.h>

/* A heap byte string. Encoders fill one and hand ownership to the caller,
 * who releases it with loy_buf_free. A zeroed loy_buf is empty and valid. */
struct loy_buf {
	uint8_t *data;
	size_t len;
};

/* Frees data (if any) and empties the buffer. */
void loy_buf_free(struct loy_buf *b);

/* Copies len bytes into a new buffer. Returns 0 or LOY_ENOMEM. */
int loy_buf_copy(struct loy_buf *b, const void *data, size_t len);

#endif
