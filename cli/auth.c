/* loyctl's side of client authentication: the peer handshake of
 * wire/handshake.h with the client as initiator, then an encrypted session
 * (used when the node only lets in clients it knows). */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

#include "ledger/txjson.h"
#include "wire/error.h"
#include "wire/handshake.h"
#include "wire/session.h"

static int fail(struct cli_conn *cn, int rv, const char *why)
{
	snprintf(cn->err, sizeof cn->err, "client authentication: %s", why);
	return rv;
}

int cli_conn_auth(struct cli_conn *cn)
{
	const char *node_hex = getenv("LOYCTL_NODE_KEY");
	const char *keyfile = getenv("LOYCTL_CLIENT_KEY");
	const char *chain = getenv("LOYCTL_CHAIN_ID");
	const char *pass = getenv("LOYCTL_PASSPHRASE");
	struct loy_hs_hello ours, theirs;
	struct loy_hs_auth auth;
	struct loy_eph_key eph, noncekey;
	struct loy_buf mine = {0}, a = {0};
	uint8_t node_pk[LOY_PUBKEY_SIZE], sk[LOY_SECKEY_SIZE];
	uint8_t transcript[LOY_HASH_SIZE], *body = NULL;
	size_t len;
	int rv;

	if (node_hex == NULL || node_hex[0] == '\0')
		return 0;
	if (loy_unhex(node_pk, LOY_PUBKEY_SIZE, node_hex) != 0)
		return fail(cn, CLI_FAIL,
			    "LOYCTL_NODE_KEY is not a 64-digit hex key");
	if (keyfile == NULL || chain == NULL || pass == NULL)
		return fail(cn, CLI_FAIL,
			    "set LOYCTL_CLIENT_KEY, LOYCTL_CHAIN_ID "
			    "and LOYCTL_PASSPHRASE");
	if (loy_keyfile_read(keyfile, pass, 0, sk) != 0)
		return fail(cn, CLI_FAIL,
			    "cannot read LOYCTL_CLIENT_KEY (passphrase?)");
	memset(&ours, 0, sizeof ours);
	snprintf(ours.chain_id, sizeof ours.chain_id, "%s", chain);
	loy_seckey_pubkey(ours.validator, sk);
	loy_eph_keygen(&eph);
	memcpy(ours.ephemeral, eph.pk, LOY_X25519_SIZE);
	loy_eph_keygen(&noncekey);
	memcpy(ours.nonce, noncekey.pk, LOY_HS_NONCE_SIZE);
	loy_eph_key_wipe(&noncekey);
	rv = loy_hs_hello_encode(&ours, &mine) != 0
		 ? fail(cn, CLI_FAIL, "bad LOYCTL_CHAIN_ID")
		 : cli_conn_send_raw(cn, mine.data, mine.len);
	if (rv == 0)
		rv = cli_conn_read_raw(cn, &body, &len);
	if (rv != 0) {
		if (strstr(cn->err, "closed"))
			fail(cn, CLI_UNREACHABLE,
			     "the node closed the connection: is this client "
			     "key "
			     "in its [client] allowed_keys, and "
			     "LOYCTL_CHAIN_ID right?");
		goto out;
	}
	if (loy_hs_hello_decode(&theirs, body, len) != 0 ||
	    loy_hs_hello_check(&ours, &theirs) != 0) {
		rv = fail(cn, CLI_UNREACHABLE,
			  "the node's HELLO is not for this chain");
		goto out;
	}
	if (memcmp(theirs.validator, node_pk, LOY_PUBKEY_SIZE) != 0) {
		rv = fail(cn, CLI_UNREACHABLE,
			  "the node's key is not LOYCTL_NODE_KEY");
		goto out;
	}
	loy_hs_transcript(transcript, mine.data, mine.len, body, len);
	free(body);
	body = NULL;
	loy_hs_auth_sign(&auth, LOY_HS_INITIATOR, chain, transcript, sk);
	rv = loy_hs_auth_encode(&auth, &a) != 0
		 ? fail(cn, CLI_FAIL, "out of memory")
		 : cli_conn_send_raw(cn, a.data, a.len);
	if (rv == 0)
		rv = cli_conn_read_raw(cn, &body, &len);
	if (rv != 0) {
		if (strstr(cn->err, "closed"))
			fail(cn, CLI_UNREACHABLE,
			     "the node refused this client key");
		goto out;
	}
	if (loy_hs_auth_decode(&auth, body, len) != 0 ||
	    loy_hs_auth_verify(&auth, LOY_HS_RESPONDER, chain, transcript,
			       node_pk) != 0) {
		rv = fail(cn, CLI_UNREACHABLE,
			  "the node's AUTH does not verify");
		goto out;
	}
	cn->sess = calloc(1, sizeof *cn->sess);
	if (cn->sess == NULL ||
	    loy_session_derive(cn->sess, LOY_HS_INITIATOR, &eph,
			       theirs.ephemeral, transcript) != 0) {
		free(cn->sess);
		cn->sess = NULL;
		rv = fail(cn, CLI_UNREACHABLE, "cannot derive the session");
	}
out:
	loy_wipe(sk, sizeof sk);
	loy_eph_key_wipe(&eph);
	loy_buf_free(&mine);
	loy_buf_free(&a);
	free(body);
	return rv;
}
