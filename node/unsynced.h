/* data_dir/unsynced: present while the ledger holds blocks committed without
 * waiting for the disk (blocks caught up from peers). A process crash loses
 * nothing of them (the kernel still has the pages); a machine crash may
 * leave the store incomplete or damaged, and the file says which boot wrote
 * it, so the next start can tell the two apart. */
#ifndef LOY_NODE_UNSYNCED_H
#define LOY_NODE_UNSYNCED_H

#include <stddef.h>

/* At start. Returns 0 when there is no file, 1 when this boot wrote it (the
 * caller flushes the ledger, then clears it), LOY_ECORRUPT when an earlier
 * boot did (the machine stopped before those blocks reached the disk: the
 * node must not start on the store), with the reason in err; or LOY_EIO. */
int loy_unsynced_check(const char *dir, char *err, size_t err_size);

/* Writes the file durably (before the first non-durable commit). Returns 0
 * or LOY_EIO with the reason in err. */
int loy_unsynced_mark(const char *dir, char *err, size_t err_size);

/* Removes it durably (after a flush covering every such commit). */
int loy_unsynced_clear(const char *dir, char *err, size_t err_size);

#endif
