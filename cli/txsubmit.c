/* The path every transaction command ends in: chain id and nonce, local
 * signing, then SUBMIT (waiting for the commit) and the outcome in plain
 * words; or, offline, appending to a batch file (loyctl sign / submit). */
#include "cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ledger/query_kinds.h"
#include "ledger/txjson.h"
#include "wire/error.h"

static int chain_id_online(struct cli *c, struct cli_conn *cn, char *out)
{
	json_t *st;
	const char *id;
	int rv;

	if (c->chain_id)
		return cli_copy_field(out, LOY_CHAIN_ID_MAX + 1, c->chain_id) ==
			       0
			   ? 0
			   : CLI_USAGE;
	if (c->node_chain_id[0]) {
		strcpy(out, c->node_chain_id);
		return 0;
	}
	rv = cli_status(c, cn, &st);
	if (rv)
		return rv;
	id = json_string_value(json_object_get(st, "chain_id"));
	if (id == NULL || cli_copy_field(c->node_chain_id,
					 sizeof c->node_chain_id, id) != 0) {
		cli_err(c, "the node's status has no usable chain_id");
		json_decref(st);
		return CLI_FAIL;
	}
	json_decref(st);
	strcpy(out, c->node_chain_id);
	return 0;
}

static int next_nonce_online(struct cli *c, struct cli_conn *cn,
			     const uint8_t pk[LOY_PUBKEY_SIZE], uint64_t *nonce)
{
	struct loy_client_arg a;
	uint8_t id[LOY_ID_SIZE];
	json_t *p;
	int rv;

	loy_id_from_pubkey(id, pk);
	cli_arg_bin(&a, id, LOY_ID_SIZE);
	rv = cli_query(c, cn, LOY_Q_NONCE, &a, 1, &p);
	if (rv)
		return rv;
	*nonce = (uint64_t)json_integer_value(json_object_get(p, "nonce")) + 1;
	json_decref(p);
	return 0;
}

/* Reads a batch file: one hex-encoded transaction a line; '#' lines and
 * blank lines are comments. *txs is owned by the caller (free each and the
 * array). A missing file is an empty batch when missing_ok. */
static int read_batch(struct cli *c, const char *path, bool missing_ok,
		      struct loy_buf **txs, uint32_t *n)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	static char line[2 * LOY_MAX_TX_BYTES + 64];
	uint32_t cap = 0, lineno = 0;

	*txs = NULL;
	*n = 0;
	if (f == NULL) {
		if (missing_ok && errno == ENOENT)
			return 0;
		cli_err(c, "%s: %s", path, strerror(errno));
		return CLI_FAIL;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		size_t len = strcspn(line, "\r\n");
		struct loy_buf b = {0};
		lineno++;
		line[len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		if (len % 2 != 0 || len / 2 > LOY_MAX_TX_BYTES ||
		    (b.data = malloc(len / 2)) == NULL ||
		    loy_unhex(b.data, len / 2, line) != 0) {
			free(b.data);
			cli_err(c, "%s:%u: not a signed transaction line", path,
				lineno);
			goto fail;
		}
		b.len = len / 2;
		if (*n == cap) {
			uint32_t nc = cap ? 2 * cap : 64;
			struct loy_buf *p = realloc(*txs, nc * sizeof *p);
			if (p == NULL) {
				free(b.data);
				goto fail;
			}
			*txs = p;
			cap = nc;
		}
		(*txs)[(*n)++] = b;
	}
	if (f != stdin)
		fclose(f);
	return 0;
fail:
	if (f != stdin)
		fclose(f);
	for (uint32_t i = 0; i < *n; i++)
		loy_buf_free(&(*txs)[i]);
	free(*txs);
	*txs = NULL;
	*n = 0;
	return CLI_FAIL;
}

static void free_batch(struct loy_buf *txs, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		loy_buf_free(&txs[i]);
	free(txs);
}

/* The next nonce of pk tracked in the batch file (0 when it has none). */
static int next_nonce_file(struct cli *c, const char *path,
			   const uint8_t pk[LOY_PUBKEY_SIZE], uint64_t *nonce)
{
	struct loy_buf *txs;
	uint32_t n;
	int rv = read_batch(c, path, true, &txs, &n);

	*nonce = 0;
	if (rv)
		return rv;
	for (uint32_t i = 0; i < n; i++) {
		struct loy_tx tx;
		if (loy_tx_decode(&tx, txs[i].data, txs[i].len) != 0)
			continue;
		if (memcmp(tx.signer, pk, LOY_PUBKEY_SIZE) == 0 &&
		    tx.nonce + 1 > *nonce)
			*nonce = tx.nonce + 1;
		loy_tx_free(&tx);
	}
	free_batch(txs, n);
	return 0;
}

static int append_signed(struct cli *c, const struct loy_tx *tx,
			 const struct loy_buf *enc,
			 const uint8_t hash[LOY_HASH_SIZE])
{
	FILE *f = c->sign.out ? fopen(c->sign.out, "a") : c->out;
	char *hex = malloc(2 * enc->len + 1), hh[2 * LOY_HASH_SIZE + 1];
	int ok;

	if (f == NULL || hex == NULL) {
		cli_err(c, "%s: %s", c->sign.out, strerror(errno));
		free(hex);
		if (f && f != c->out)
			fclose(f);
		return CLI_FAIL;
	}
	if (c->sign.out)
		chmod(c->sign.out, 0600);
	loy_hex(hex, enc->data, enc->len);
	loy_hex(hh, hash, LOY_HASH_SIZE);
	fprintf(f, "# %s nonce %llu tx %s\n%s\n", loy_tx_kind_name(tx->kind),
		(unsigned long long)tx->nonce, hh, hex);
	ok = fflush(f) == 0;
	if (f != c->out)
		ok &= fclose(f) == 0;
	free(hex);
	if (!ok) {
		cli_err(c, "cannot write the signed transaction: %s",
			strerror(errno));
		return CLI_FAIL;
	}
	if (c->sign.out) {
		if (c->json) {
			json_t *o = json_pack("{s:s, s:I, s:s}", "tx", hh,
					      "nonce", (json_int_t)tx->nonce,
					      "file", c->sign.out);
			cli_print_json(c, o);
			json_decref(o);
		} else
			fprintf(c->out, "signed %s nonce %llu into %s\ntx %s\n",
				loy_tx_kind_name(tx->kind),
				(unsigned long long)tx->nonce, c->sign.out, hh);
	}
	return CLI_OK;
}

int cli_print_outcome(struct cli *c, const json_t *r)
{
	const char *status = json_string_value(json_object_get(r, "status"));
	const char *hash = json_string_value(json_object_get(r, "hash"));
	const char *msg = json_string_value(json_object_get(r, "message"));
	const char *result = json_string_value(json_object_get(r, "result"));
	json_int_t height = json_integer_value(json_object_get(r, "height"));

	if (status == NULL)
		status = "?";
	if (strcmp(status, "committed") == 0) {
		cli_ok(c, "committed at height %lld", (long long)height);
		fprintf(c->out, "tx %s\n", hash ? hash : "?");
		return CLI_OK;
	}
	if (strcmp(status, "pending") == 0) {
		fprintf(c->out,
			"submitted, not waiting for the commit\ntx %s\n",
			hash ? hash : "?");
		return CLI_OK;
	}
	if (strcmp(status, "rejected") == 0) {
		cli_err(c, "rejected at height %lld: %s", (long long)height,
			msg && msg[0] ? msg
			: result      ? result
				      : "?");
		fprintf(c->err, "tx %s\n", hash ? hash : "?");
		return CLI_FAIL;
	}
	msg = json_string_value(json_object_get(r, "error"));
	cli_err(c, "refused by the node: %s", msg ? msg : status);
	return CLI_FAIL;
}

/* Sends txs with SUBMIT; *answer is the parsed payload (may be NULL when
 * the node sent none). Returns the response code in *code. */
static int submit_batch(struct cli *c, struct cli_conn *cn, struct loy_buf *txs,
			uint32_t n, bool wait, json_t **answer, uint32_t *code,
			char *msg, size_t msgsz)
{
	struct loy_client_request q;
	struct loy_client_response r;
	int rv;

	memset(&q, 0, sizeof q);
	q.kind = LOY_CLIENT_SUBMIT;
	q.submit.tx_count = n;
	q.submit.txs = txs;
	q.submit.wait = wait;
	cn->timeout_ms = 45000; /* the node answers a wait within 30 s */
	rv = cli_conn_call(cn, &q, &r);
	*answer = NULL;
	if (rv) {
		cli_err(c, "%s", cn->err);
		return rv;
	}
	*code = r.code;
	snprintf(msg, msgsz, "%s", r.message);
	if (r.payload.len > 0)
		*answer = json_loadb((const char *)r.payload.data,
				     r.payload.len, 0, NULL);
	loy_client_response_free(&r);
	return 0;
}

int cli_tx_finish_cb(struct cli *c, struct loy_tx *tx,
		     int (*before)(void *d, const uint8_t hash[LOY_HASH_SIZE]),
		     void *d)
{
	struct cli_conn cn = {.fd = -1};
	struct loy_buf enc = {0};
	uint8_t pk[LOY_PUBKEY_SIZE], hash[LOY_HASH_SIZE];
	json_t *answer = NULL;
	uint32_t code = 0;
	char msg[LOY_ERRMSG_MAX + 1];
	int rv = cli_load_key(c);

	if (rv)
		goto out;
	loy_seckey_pubkey(pk, c->sk);
	if (c->sign.active) {
		const char *cid =
		    c->sign.chain_id ? c->sign.chain_id : c->chain_id;
		if (cid == NULL)
			cid = getenv("LOYCTL_CHAIN_ID");
		if (cid == NULL ||
		    cli_copy_field(tx->chain_id, sizeof tx->chain_id, cid) !=
			0) {
			cli_err(c, "offline signing needs --chain-id ID (the "
				   "node's chain id)");
			rv = CLI_USAGE;
			goto out;
		}
		if (c->sign.nonce) {
			if (cli_parse_u64(c->sign.nonce, &tx->nonce) != 0 ||
			    tx->nonce == 0) {
				cli_err(c,
					"--nonce must be a positive integer");
				rv = CLI_USAGE;
				goto out;
			}
		} else {
			if (c->sign.out)
				rv = next_nonce_file(c, c->sign.out, pk,
						     &tx->nonce);
			if (rv)
				goto out;
			if (tx->nonce == 0) {
				cli_err(c,
					"no earlier transaction of this key in "
					"%s: give the "
					"first --nonce (the account's nonce + "
					"1, see loyctl balance)",
					c->sign.out ? c->sign.out
						    : "the output");
				rv = CLI_USAGE;
				goto out;
			}
		}
	} else {
		if ((rv = cli_connect(c, &cn)) != 0 ||
		    (rv = chain_id_online(c, &cn, tx->chain_id)) != 0 ||
		    (rv = next_nonce_online(c, &cn, pk, &tx->nonce)) != 0)
			goto out;
	}
	if ((rv = loy_tx_sign(tx, c->sk)) != 0 ||
	    (rv = loy_tx_encode(tx, &enc)) != 0) {
		cli_err(c, "cannot sign the transaction: %s", loy_strerror(rv));
		rv = CLI_USAGE;
		goto out;
	}
	loy_tx_hash(hash, enc.data, enc.len);
	if (before && (rv = before(d, hash)) != 0)
		goto out;
	if (c->sign.active) {
		rv = append_signed(c, tx, &enc, hash);
		goto out;
	}
	rv = submit_batch(c, &cn, &enc, 1, !c->no_wait, &answer, &code, msg,
			  sizeof msg);
	if (rv)
		goto out;
	if (c->json && answer) {
		cli_print_json(c, answer);
		rv = code == 0 ? CLI_OK : CLI_FAIL;
		{
			const char *s = json_string_value(json_object_get(
			    json_array_get(json_object_get(answer, "txs"), 0),
			    "status"));
			if (s && (strcmp(s, "rejected") == 0 ||
				  strcmp(s, "refused") == 0))
				rv = CLI_FAIL;
		}
	} else if (code == LOY_ESTATE) {
		char hh[2 * LOY_HASH_SIZE + 1];
		loy_hex(hh, hash, LOY_HASH_SIZE);
		cli_err(c, "%s", msg);
		fprintf(c->err, "tx %s (see loyctl tx %s)\n", hh, hh);
		rv = CLI_FAIL;
	} else if (answer &&
		   json_array_size(json_object_get(answer, "txs")) == 1) {
		rv = cli_print_outcome(
		    c, json_array_get(json_object_get(answer, "txs"), 0));
	} else {
		cli_err(c, "%s", msg[0] ? msg : loy_strerror((int)code));
		rv = CLI_FAIL;
	}
out:
	json_decref(answer);
	loy_buf_free(&enc);
	loy_tx_free(tx);
	cli_conn_close(&cn);
	return rv;
}

int cli_tx_finish(struct cli *c, struct loy_tx *tx)
{
	return cli_tx_finish_cb(c, tx, NULL, NULL);
}

/* --- sign --- */

static const struct cli_usage sign_usage = {
    "loyctl sign [--out FILE] [--nonce N] --chain-id ID <transaction "
    "command...>",
    "Signs a transaction without contacting a node (an offline terminal) and\n"
    "appends it to FILE (created 0600), or writes it to standard output. The\n"
    "nonce is tracked in FILE: the next after the signer's last one there; "
    "give\n"
    "--nonce for the first (the account's nonce + 1). Send the batch later "
    "with\n"
    "loyctl submit FILE; resubmitting it commits nothing twice.",
    "  --out FILE      batch file to append to (default: standard output)\n"
    "  --nonce N       this transaction's nonce\n"
    "  --chain-id ID   the chain id (global option; or LOYCTL_CHAIN_ID)\n",
    "  loyctl sign --out batch.txt --nonce 1 --chain-id loyalty-local --key "
    "till.key \\\n"
    "      reward issue --customer loy... --purchase 1200 --reference "
    "till1-0001\n"
    "  loyctl submit batch.txt\n",
};

int cmd_sign(struct cli *c, int argc, char **argv)
{
	int i = 1;

	while (i < argc && strncmp(argv[i], "--", 2) == 0) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0) {
			cli_print_help(c, &sign_usage);
			return CLI_HELP;
		}
		if ((strcmp(a, "--out") == 0 || strcmp(a, "--nonce") == 0) &&
		    i + 1 < argc) {
			if (a[2] == 'o')
				c->sign.out = argv[i + 1];
			else
				c->sign.nonce = argv[i + 1];
			i += 2;
			continue;
		}
		return cli_usage_error(c, &sign_usage,
				       "unknown or incomplete option %s", a);
	}
	if (i >= argc)
		return cli_usage_error(c, &sign_usage,
				       "sign needs a transaction command");
	c->sign.active = true;
	return cli_tx_command(c, argc - i + 1, argv + i - 1);
}

/* --- submit --- */

static const struct cli_usage submit_usage = {
    "loyctl submit FILE",
    "Submits a batch of transactions signed earlier (loyctl sign) and reports\n"
    "each one's outcome. A transaction already on the chain (the same file "
    "sent\n"
    "twice) is reported as such and is never committed again: nonces and\n"
    "references are enforced by the ledger. Exit 0 when every transaction is\n"
    "committed (now or before) without rejection.",
    NULL,
    "  loyctl submit batch.txt\n",
};

/* For a tx the node refused: is it on the chain already? */
static json_t *lookup_tx(struct cli *c, struct cli_conn *cn, const char *hex)
{
	struct loy_client_arg a;
	uint8_t h[LOY_HASH_SIZE];
	json_t *p = NULL;
	FILE *saved = c->err;

	if (hex == NULL || cli_parse_hash(hex, h) != 0)
		return NULL;
	cli_arg_bin(&a, h, LOY_HASH_SIZE);
	c->err = fopen("/dev/null", "w"); /* not found is an expected answer */
	if (c->err == NULL)
		c->err = saved;
	if (cli_query(c, cn, LOY_Q_TX, &a, 1, &p) != 0)
		p = NULL;
	if (c->err != saved)
		fclose(c->err);
	c->err = saved;
	return p;
}

int cmd_submit(struct cli *c, int argc, char **argv)
{
	const char *pos[1];
	const struct cli_opt opts[] = {{NULL, 0, NULL}};
	struct cli_conn cn = {.fd = -1};
	struct loy_buf *txs = NULL;
	json_t *all = json_array();
	uint32_t n = 0, committed = 0, before = 0, failed = 0;
	int np, rv;

	rv = cli_parse(c, argc, argv, opts, pos, 1, &np, &submit_usage);
	if (rv || np != 1) {
		json_decref(all);
		return rv ? rv
			  : cli_usage_error(c, &submit_usage,
					    "submit needs a FILE");
	}
	if ((rv = read_batch(c, pos[0], false, &txs, &n)) != 0 ||
	    (rv = cli_connect(c, &cn)) != 0)
		goto out;
	for (uint32_t off = 0; off < n; off += LOY_MAX_SUBMIT_BATCH) {
		uint32_t k = n - off < LOY_MAX_SUBMIT_BATCH
				 ? n - off
				 : LOY_MAX_SUBMIT_BATCH,
			 code = 0;
		char msg[LOY_ERRMSG_MAX + 1];
		json_t *answer = NULL, *arr;
		rv = submit_batch(c, &cn, txs + off, k, !c->no_wait, &answer,
				  &code, msg, sizeof msg);
		if (rv)
			goto out;
		arr = json_object_get(answer, "txs");
		if (arr == NULL) {
			cli_err(c, "node: %s",
				msg[0] ? msg : loy_strerror((int)code));
			json_decref(answer);
			rv = CLI_FAIL;
			goto out;
		}
		for (size_t i = 0; i < json_array_size(arr); i++) {
			json_t *r = json_array_get(arr, i);
			const char *st =
			    json_string_value(json_object_get(r, "status"));
			if (st && strcmp(st, "refused") == 0) {
				json_t *t =
				    lookup_tx(c, &cn,
					      json_string_value(
						  json_object_get(r, "hash")));
				if (t) {
					json_object_set_new(
					    r, "status",
					    json_string("already_committed"));
					json_object_set(
					    r, "height",
					    json_object_get(t, "height"));
					json_object_set(
					    r, "code",
					    json_object_get(t, "code"));
					json_object_set(
					    r, "result",
					    json_object_get(t, "result"));
					json_decref(t);
				}
			}
			json_array_append(all, r);
		}
		json_decref(answer);
	}
	for (size_t i = 0; i < json_array_size(all); i++) {
		json_t *r = json_array_get(all, i);
		const char *st =
		    json_string_value(json_object_get(r, "status"));
		json_int_t code =
		    json_integer_value(json_object_get(r, "code"));
		if (st && strcmp(st, "committed") == 0 && code == 0)
			committed++;
		else if (st && strcmp(st, "already_committed") == 0 &&
			 code == 0)
			before++;
		else if (st && strcmp(st, "pending") == 0 && c->no_wait)
			;
		else
			failed++;
		if (c->json)
			continue;
		fprintf(c->out, "%4zu  %.16s  ", i + 1,
			json_string_value(json_object_get(r, "hash"))
			    ? json_string_value(json_object_get(r, "hash"))
			    : "?");
		if (st && strcmp(st, "already_committed") == 0)
			fprintf(
			    c->out,
			    "already on the chain at height %lld (%s): not "
			    "committed again\n",
			    (long long)json_integer_value(
				json_object_get(r, "height")),
			    json_string_value(json_object_get(r, "result")));
		else if (st && strcmp(st, "committed") == 0)
			fprintf(c->out, "committed at height %lld\n",
				(long long)json_integer_value(
				    json_object_get(r, "height")));
		else if (st && strcmp(st, "rejected") == 0)
			fprintf(
			    c->out, "rejected at height %lld: %s\n",
			    (long long)json_integer_value(
				json_object_get(r, "height")),
			    json_string_value(json_object_get(r, "message")));
		else if (st && strcmp(st, "pending") == 0)
			fprintf(c->out, "submitted (pending)\n");
		else
			fprintf(c->out, "refused: %s\n",
				json_string_value(json_object_get(r, "error")));
	}
	if (c->json) {
		json_t *o =
		    json_pack("{s:O, s:I, s:I, s:I}", "txs", all, "committed",
			      (json_int_t)committed, "already_committed",
			      (json_int_t)before, "failed", (json_int_t)failed);
		cli_print_json(c, o);
		json_decref(o);
	} else {
		fprintf(c->out,
			"%u transactions: %u committed now, %u already on the "
			"chain, %u failed\n",
			n, committed, before, failed);
	}
	rv = failed ? CLI_FAIL : CLI_OK;
out:
	json_decref(all);
	free_batch(txs, n);
	cli_conn_close(&cn);
	return rv;
}
