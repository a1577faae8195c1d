/* The start-up read of the whole store, in a child process. */
#ifndef LOY_NODE_STORE_CHECK_H
#define LOY_NODE_STORE_CHECK_H

#include <stddef.h>
#include <stdint.h>

/* Opens dir's data.mdb read-only in a forked child and reads every record
 * (loy_ledger_verify_store: integrity tags, key order, record counts). Some
 * damage LMDB cannot report (a broken page header) crashes whoever reads
 * it; in the child that becomes a refusal with a clear message instead of
 * a crash of the node. Returns 0 (sound, or no store yet), LOY_ECORRUPT
 * (damaged) or LOY_EIO (could not run the check), with the reason in err. */
int loy_store_check(const char *dir, uint64_t map_size, char *err,
		    size_t err_size);

#endif
