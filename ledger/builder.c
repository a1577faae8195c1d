/* Block building with known validator keys (development and tests). */
#include <stdlib.h>
#include <string.h>

#include "ledger/builder.h"
#include "wire/error.h"

int loy_ledger_build_block(struct loy_ledger *l, const struct loy_buf *txs,
			   uint32_t n, uint64_t time_ms, uint64_t view,
			   const uint8_t proposer_sk[LOY_SECKEY_SIZE],
			   const uint8_t (*signer_sks)[LOY_SECKEY_SIZE],
			   uint32_t n_signers, struct loy_buf *block,
			   struct loy_buf *cert, struct loy_tx_result *results)
{
	struct loy_tx_result *res = results;
	struct loy_block b = {0};
	struct loy_cert *c = NULL;
	uint8_t bhash[LOY_HASH_SIZE];
	uint64_t height;
	int rc;

	memset(block, 0, sizeof *block);
	memset(cert, 0, sizeof *cert);
	if (!res && n) {
		res = malloc(n * sizeof *res);
		if (!res)
			return LOY_ENOMEM;
	}
	b.txs = n ? malloc(n * sizeof *b.txs) : NULL;
	c = calloc(1, sizeof *c);
	if ((n && !b.txs) || !c) {
		rc = LOY_ENOMEM;
		goto out;
	}
	rc = loy_ledger_tip(l, &height, b.header.prev_hash, NULL, NULL);
	if (rc != 0)
		goto out;
	rc = loy_ledger_execute(l, txs, n, time_ms, LOY_EXEC_SKIP_INVALID, res,
				b.header.state_root);
	if (rc != 0)
		goto out;
	for (uint32_t i = 0; i < n; i++)
		if (res[i].code == LOY_REJ_OK ||
		    res[i].code > LOY_REJ_INVALID_MAX)
			b.txs[b.tx_count++] = txs[i];
	memcpy(b.header.chain_id, loy_ledger_chain_id(l),
	       sizeof b.header.chain_id);
	b.header.height = height + 1;
	b.header.view = view;
	b.header.time_ms = time_ms;
	loy_tx_root(b.header.tx_root, b.txs, b.tx_count);
	loy_seckey_pubkey(b.header.proposer, proposer_sk);
	rc = loy_block_encode(&b, block);
	if (rc == 0)
		rc = loy_block_header_hash(&b.header, bhash);
	if (rc != 0)
		goto out;
	c->type = LOY_VOTE_COMMIT;
	memcpy(c->chain_id, b.header.chain_id, sizeof c->chain_id);
	c->height = b.header.height;
	c->view = view;
	memcpy(c->block_hash, bhash, LOY_HASH_SIZE);
	for (uint32_t i = 0; i < n_signers && rc == 0; i++) {
		struct loy_vote v = {.type = LOY_VOTE_COMMIT};
		memcpy(v.chain_id, c->chain_id, sizeof v.chain_id);
		v.height = c->height;
		v.view = view;
		memcpy(v.block_hash, bhash, LOY_HASH_SIZE);
		rc = loy_vote_sign(&v, signer_sks[i]);
		if (rc == 0)
			rc = loy_cert_add(c, &v);
	}
	if (rc == 0)
		rc = loy_cert_encode(c, cert);
out:
	if (rc != 0) {
		loy_buf_free(block);
		loy_buf_free(cert);
	}
	free(b.txs); /* borrowed entries: not loy_block_free */
	free(c);
	if (res != results)
		free(res);
	return rc;
}
