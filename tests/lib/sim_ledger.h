/* The simulated cluster's stand-in ledger: blocks of opaque txs, a state
 * root chained over tx roots, and validator-set changes by admin txs. */
#ifndef LOY_TESTS_SIM_LEDGER_H
#define LOY_TESTS_SIM_LEDGER_H

#include <stdint.h>

#include "consensus/consensus.h"
#include "wire/block.h"

#define SIM_CHAIN   "sim-chain"
#define SIM_MAX_TXS 4096

/* tx bytes: kind, u32 index in the scenario's tx list, [pk] */
enum {
	SIM_TX_PLAIN = 'T',
	SIM_TX_ADMIT = 'A',
	SIM_TX_REMOVE = 'R',
	SIM_TX_BAD = 'X'
};

struct sim_tx {
	uint8_t bytes[1 + 4 + LOY_PUBKEY_SIZE];
	uint32_t len;
	uint64_t at; /* submitted at (virtual ms) */
};

struct sim_blk {
	struct loy_buf bytes;
	struct loy_cert cert;
	uint8_t hash[LOY_HASH_SIZE];
	uint8_t state[LOY_HASH_SIZE];
	uint64_t time;
};

/* One node's ledger: chain[h] for h in 1..height; vsets[h] is the set that
 * decides height h (vsets[1] is genesis's). */
struct sim_ledger {
	uint64_t height;
	struct sim_blk *chain;
	struct loy_valset *vsets;
	uint64_t cap;
	uint8_t committed[SIM_MAX_TXS];
};

int sim_ledger_init(struct sim_ledger *l, const struct loy_valset *genesis);
void sim_ledger_free(struct sim_ledger *l);
const uint8_t *sim_ledger_tip_hash(const struct sim_ledger *l);
uint64_t sim_ledger_tip_time(const struct sim_ledger *l);
/* Txs submitted by now and not yet in this ledger. */
uint32_t sim_ledger_pending(const struct sim_ledger *l,
			    const struct sim_tx *txs, uint32_t n_txs,
			    uint64_t now);
/* Builds a block of pending txs (plus an invalid one when bad). */
int sim_ledger_build(const struct sim_ledger *l, const struct sim_tx *txs,
		     uint32_t n_txs, uint64_t now, uint64_t height,
		     uint64_t view, uint64_t time_ms,
		     const uint8_t proposer[LOY_PUBKEY_SIZE], uint32_t max_txs,
		     int bad, uint32_t skip, struct loy_buf *out);
/* Full validation against the tip: 1 when valid. */
int sim_ledger_check(const struct sim_ledger *l, const struct sim_tx *txs,
		     uint32_t n_txs, const uint8_t *block, size_t len);
/* Appends a block (the caller has checked it); fills the next set. */
int sim_ledger_apply(struct sim_ledger *l, const uint8_t *block, size_t len,
		     const struct loy_cert *cert);

#endif
