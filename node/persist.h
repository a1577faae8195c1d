/* The consensus signing record on disk (data_dir/consensus.state): written
 * durably before any vote it covers leaves the node; a crash mid-write
 * leaves the previous record. */
#ifndef LOY_NODE_PERSIST_H
#define LOY_NODE_PERSIST_H

#include <stddef.h>

#include "consensus/consensus.h"
#include "wire/buf.h"

/* A deep copy of a struct loy_cons_persist (the block bytes owned). */
struct loy_persist_copy {
	struct loy_cons_persist rec;
	struct loy_buf block;
	uint64_t seq;
};

/* Copies rec (and its block bytes) into c. Returns 0 or LOY_ENOMEM. */
int loy_persist_copy(struct loy_persist_copy *c,
		     const struct loy_cons_persist *rec, uint64_t seq);
void loy_persist_copy_free(struct loy_persist_copy *c);

/* dir/consensus.state, open for writing. */
struct loy_persist_file;

/* Opens (creating) dir/consensus.state and loads the newest durable record
 * into c. Returns 0 (c filled, owned), LOY_ENOTFOUND for a new node (c
 * empty), both with *f set; or LOY_ECORRUPT / LOY_EIO / LOY_ENOMEM with the
 * reason in err and *f NULL: a damaged record stops the node (it must not
 * forget what it signed). A file in the earlier single-record format is
 * converted. */
int loy_persist_open(const char *dir, struct loy_persist_file **f,
		     struct loy_persist_copy *c, char *err, size_t err_size);

/* Makes c the durable record: one pwrite into the older of two slots and
 * one fdatasync. Blocking: call it off the loop thread, one at a time.
 * Returns 0 or LOY_EIO / LOY_ENOMEM / LOY_EINVAL with the reason in err. */
int loy_persist_write(struct loy_persist_file *f,
		      const struct loy_persist_copy *c, char *err,
		      size_t err_size);

void loy_persist_close(struct loy_persist_file *f);

#endif
