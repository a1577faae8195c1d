/* When a validator writes its group of committed blocks to data.mdb.
 *
 * A flush holds the node's ledger thread for 20-60 ms on this class of
 * machine (every B-tree page the group touched is written, then fsync'd),
 * and a node that flushes cannot check or apply blocks meanwhile. One
 * validator flushing at a time costs the cluster nothing: the other n-1
 * still make a quorum of 3 of 4. Two at once stall every height; with each
 * node flushing for 100 ms groups at times of its own, that was 16% of a
 * half-of-peak run.
 *
 * So each validator has a slot: the heights h with
 *     h mod (n * (n + 1)) == i * (n + 1)
 * for the validator at index i of the set. At its slot height it is the
 * view-0 leader (h mod n == i), so its flush falls between its own block
 * and its next turn to lead, n heights later; and the slots of the n
 * validators are n + 1 heights apart, so their flushes do not overlap
 * while a flush takes under n + 1 heights. Pure; no clock. */
#ifndef LOY_NODE_FLUSH_SLOT_H
#define LOY_NODE_FLUSH_SLOT_H

#include <stdbool.h>
#include <stdint.h>

/* Whether height is the flush slot of the validator at index idx of a set
 * of n; false for n == 0 or idx >= n. */
bool loy_flush_slot(uint64_t height, uint32_t n, uint32_t idx);

#endif
