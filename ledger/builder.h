/* Building final blocks from transactions with known validator keys: for
 * development chains, benchmarks, simulations and tests (a real proposer
 * gets its certificate from consensus instead). */
#ifndef LOY_LEDGER_BUILDER_H
#define LOY_LEDGER_BUILDER_H

#include "ledger/ledger.h"

/* Executes n encoded txs as block tip+1 at time_ms (invalid ones are left
 * out, as a proposer would), makes the header (height, view, prev hash, tx
 * root, state root, proposer = public key of proposer_sk), encodes the block
 * into *block and a COMMIT certificate signed by the n_signers keys into
 * *cert. Nothing is committed: apply them with loy_ledger_apply_block.
 * results (caller-allocated, n entries, may be NULL) gets each input tx's
 * outcome; invalid ones have a code <= LOY_REJ_INVALID_MAX. On success the
 * caller owns *block and *cert (loy_buf_free); on failure they are empty.
 * Returns 0 or the loy_ledger_execute / codec error. */
int loy_ledger_build_block(struct loy_ledger *l, const struct loy_buf *txs,
			   uint32_t n, uint64_t time_ms, uint64_t view,
			   const uint8_t proposer_sk[LOY_SECKEY_SIZE],
			   const uint8_t (*signer_sks)[LOY_SECKEY_SIZE],
			   uint32_t n_signers, struct loy_buf *block,
			   struct loy_buf *cert,
			   struct loy_tx_result *results) LOY_MUST_USE;

#endif
