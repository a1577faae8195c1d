/* The consensus signing record on disk (data_dir/consensus.state): written
 * atomically and durably before any vote it covers leaves the node. */
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

/* Writes the record to dir/consensus.state: temp file, fsync, rename, fsync
 * of the directory. Blocking: call it on the thread pool. Returns 0 or
 * LOY_EIO / LOY_ENOMEM with the reason in err. */
int loy_persist_save(const char *dir, const struct loy_persist_copy *c,
		     char *err, size_t err_size);

/* Reads the record. Returns 0 (c filled, owned), LOY_ENOTFOUND when there is
 * none (a new node), or LOY_ECORRUPT / LOY_EIO with the reason in err: a
 * damaged record stops the node (it must not forget what it signed). */
int loy_persist_load(const char *dir, struct loy_persist_copy *c, char *err,
		     size_t err_size);

#endif
