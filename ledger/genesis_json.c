/* Genesis file (JSON, via jansson) to struct loy_genesis and back. */
#include "ledger/genesis_json.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "wire/error.h"

static int key_from_hex(uint8_t out[LOY_PUBKEY_SIZE], const char *hex)
{
	if (strlen(hex) != 2 * LOY_PUBKEY_SIZE)
		return LOY_EINVAL;
	for (size_t i = 0; i < LOY_PUBKEY_SIZE; i++) {
		unsigned v = 0;
		for (int j = 0; j < 2; j++) {
			char c = hex[2 * i + (size_t)j];
			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= (unsigned)(c - '0');
			else if (c >= 'a' && c <= 'f')
				v |= (unsigned)(c - 'a' + 10);
			else if (c >= 'A' && c <= 'F')
				v |= (unsigned)(c - 'A' + 10);
			else
				return LOY_EINVAL;
		}
		out[i] = (uint8_t)v;
	}
	return 0;
}

static int unknown_keys(json_t *obj, const char *const *allowed,
			const char **bad)
{
	const char *k;
	json_t *v;

	json_object_foreach(obj, k, v)
	{
		int ok = 0;
		(void)v;
		for (const char *const *a = allowed; *a; a++)
			if (strcmp(k, *a) == 0)
				ok = 1;
		if (!ok) {
			*bad = k;
			return 1;
		}
	}
	return 0;
}

static int get_string(json_t *obj, const char *key, char *out, size_t cap,
		      int required, const char **why)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL) {
		*why = required ? "is missing" : NULL;
		return required ? LOY_EINVAL : 0;
	}
	if (!json_is_string(v)) {
		*why = "must be a string";
		return LOY_EINVAL;
	}
	if (json_string_length(v) == 0 || json_string_length(v) >= cap ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		*why = "is empty, too long or holds a NUL";
		return LOY_EINVAL;
	}
	strcpy(out, json_string_value(v));
	return 0;
}

static int get_uint(json_t *obj, const char *key, uint64_t max, uint64_t *out,
		    int required, const char **why)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL) {
		*why = required ? "is missing" : NULL;
		return required ? LOY_EINVAL : 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max) {
		*why = "must be a whole number in range";
		return LOY_EINVAL;
	}
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int parse_member(json_t *m, struct loy_genesis_member *gm,
			const char **field, const char **why)
{
	static const char *const allowed[] = {"name", "validator_key",
					      "address", NULL};
	char hex[2 * LOY_PUBKEY_SIZE + 2];

	if (!json_is_object(m)) {
		*field = "", *why = "must be an object";
		return LOY_EINVAL;
	}
	if (unknown_keys(m, allowed, field)) {
		*why = "is not a known key";
		return LOY_EINVAL;
	}
	*field = "name";
	if (get_string(m, "name", gm->name, sizeof gm->name, 1, why))
		return LOY_EINVAL;
	*field = "address";
	if (get_string(m, "address", gm->address, sizeof gm->address, 1, why))
		return LOY_EINVAL;
	*field = "validator_key";
	if (get_string(m, "validator_key", hex, sizeof hex, 1, why))
		return LOY_EINVAL;
	if (key_from_hex(gm->pubkey, hex) != 0) {
		*why = "must be 64 hex digits (an Ed25519 public key)";
		return LOY_EINVAL;
	}
	return 0;
}

int loy_genesis_load(struct loy_genesis *g, const char *path, char *err,
		     size_t err_size)
{
	static const char *const allowed[] = {
	    "chain_id",    "genesis_time_ms", "commission_bps",
	    "point_value", "members",         NULL};
	json_error_t je;
	json_t *root, *members;
	const char *why = NULL, *field = NULL;
	uint64_t v;
	int rv = LOY_EINVAL;

	memset(g, 0, sizeof *g);
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL) {
		if (je.line < 0) { /* could not read the file at all */
			snprintf(err, err_size, "%s: %s", path, je.text);
			return LOY_EIO;
		}
		snprintf(err, err_size, "%s:%d:%d: %s", path, je.line,
			 je.column, je.text);
		return LOY_EINVAL;
	}
	if (!json_is_object(root)) {
		snprintf(err, err_size, "%s: must hold a JSON object", path);
		goto out;
	}
	if (unknown_keys(root, allowed, &field)) {
		snprintf(err, err_size, "%s: %s: is not a known key", path,
			 field);
		goto out;
	}
	if (get_string(root, "chain_id", g->chain_id, sizeof g->chain_id, 1,
		       &why)) {
		snprintf(err, err_size, "%s: chain_id: %s (1..%u characters)",
			 path, why, LOY_CHAIN_ID_MAX);
		goto out;
	}
	if (get_uint(root, "genesis_time_ms", UINT64_MAX >> 1, &g->time_ms, 1,
		     &why)) {
		snprintf(err, err_size, "%s: genesis_time_ms: %s", path, why);
		goto out;
	}
	v = 0;
	if (get_uint(root, "commission_bps", 10000, &v, 0, &why)) {
		snprintf(err, err_size, "%s: commission_bps: %s (0..10000)",
			 path, why);
		goto out;
	}
	g->commission_bps = (uint32_t)v;
	g->point_value = 1;
	if (get_uint(root, "point_value", UINT32_MAX, &g->point_value, 0,
		     &why) ||
	    g->point_value == 0) {
		snprintf(err, err_size, "%s: point_value: %s", path,
			 why ? why : "must be at least 1");
		goto out;
	}
	members = json_object_get(root, "members");
	if (!json_is_array(members) || json_array_size(members) == 0 ||
	    json_array_size(members) > LOY_MAX_VALIDATORS) {
		snprintf(err, err_size,
			 "%s: members: must be an array of 1..%u members", path,
			 LOY_MAX_VALIDATORS);
		goto out;
	}
	g->member_count = (uint32_t)json_array_size(members);
	for (uint32_t i = 0; i < g->member_count; i++) {
		struct loy_genesis_member *gm = &g->members[i];
		if (parse_member(json_array_get(members, i), gm, &field,
				 &why)) {
			snprintf(err, err_size, "%s: members[%u].%s: %s", path,
				 i, field, why);
			goto out;
		}
		for (uint32_t j = 0; j < i; j++)
			if (memcmp(g->members[j].pubkey, gm->pubkey,
				   LOY_PUBKEY_SIZE) == 0) {
				snprintf(err, err_size,
					 "%s: members[%u].validator_key: same "
					 "key as members[%u]",
					 path, i, j);
				goto out;
			}
	}
	rv = 0;
out:
	json_decref(root);
	return rv;
}

int loy_genesis_save(const struct loy_genesis *g, const char *path)
{
	json_t *root = json_object(), *members = json_array();
	char tmp[4096 + 8];
	int rv = LOY_ENOMEM;

	if (root == NULL || members == NULL)
		goto out;
	json_object_set_new(root, "chain_id", json_string(g->chain_id));
	json_object_set_new(root, "genesis_time_ms",
			    json_integer((json_int_t)g->time_ms));
	json_object_set_new(root, "commission_bps",
			    json_integer(g->commission_bps));
	json_object_set_new(root, "point_value",
			    json_integer((json_int_t)g->point_value));
	for (uint32_t i = 0; i < g->member_count; i++) {
		const struct loy_genesis_member *m = &g->members[i];
		char hex[2 * LOY_PUBKEY_SIZE + 1];
		for (size_t b = 0; b < LOY_PUBKEY_SIZE; b++)
			snprintf(hex + 2 * b, 3, "%02x", m->pubkey[b]);
		json_array_append_new(members,
				      json_pack("{s:s, s:s, s:s}", "name",
						m->name, "validator_key", hex,
						"address", m->address));
	}
	json_object_set(root, "members", members);
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) {
		rv = LOY_EINVAL;
		goto out;
	}
	rv = LOY_EIO;
	if (json_dump_file(root, tmp, JSON_INDENT(2) | JSON_PRESERVE_ORDER) !=
	    0)
		goto out;
	if (rename(tmp, path) != 0)
		goto out;
	rv = 0;
out:
	json_decref(members);
	json_decref(root);
	return rv;
}
