/* INI configuration for loyd, parsed with inih. */
#include "node/config.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "wire/error.h"

enum field_type { F_STR, F_U64, F_LOG_LEVEL, F_HOSTPORT };

struct field {
	const char *section;
	const char *key;
	enum field_type type;
	size_t offset;
	size_t size;       /* F_STR: capacity */
	uint64_t min, max; /* F_U64 */
};

#define STR(sec, k, m)                                                         \
	{                                                                      \
		sec, k, F_STR, offsetof(struct loy_config, m),                 \
		    sizeof(((struct loy_config *)0)->m), 0, 0                  \
	}
#define HOST(sec, k, m)                                                        \
	{                                                                      \
		sec, k, F_HOSTPORT, offsetof(struct loy_config, m),            \
		    sizeof(((struct loy_config *)0)->m), 0, 0                  \
	}
#define U64(sec, k, m, lo, hi)                                                 \
	{                                                                      \
		sec, k, F_U64, offsetof(struct loy_config, m), 0, lo, hi       \
	}

static const struct field fields[] = {
    STR("node", "name", name),
    STR("node", "data_dir", data_dir),
    STR("node", "key_file", key_file),
    STR("node", "passphrase_file", passphrase_file),
    STR("node", "genesis", genesis),
    {"node", "log_level", F_LOG_LEVEL, offsetof(struct loy_config, log_level),
     0, 0, 0},
    HOST("peer", "listen", peer_listen),
    HOST("client", "listen", client_listen),
    STR("client", "allowed_keys", client_allowed_keys),
    U64("limits", "mempool_max_txs", mempool_max_txs, 1, 10000000),
    U64("limits", "mempool_max_per_signer", mempool_max_per_signer, 1, 1000000),
    U64("limits", "block_max_txs", block_max_txs, 1, 8192),
    U64("limits", "block_max_bytes", block_max_bytes, 1024, 6u << 20),
    U64("limits", "batch_ms", batch_ms, 0, 10000),
    U64("limits", "view_timeout_ms", view_timeout_ms, 50, 600000),
    U64("limits", "map_size_mb", map_size_mb, 16, 1u << 20),
    U64("limits", "max_clients", max_clients, 1, 100000),
};

static const char *const level_names[] = {"error", "warn", "info", "debug"};

const char *loy_log_level_name(int level)
{
	if (level < 0 || level > LOY_LOG_DEBUG)
		return "?";
	return level_names[level];
}

int loy_log_level_parse(const char *name)
{
	for (int i = 0; i <= LOY_LOG_DEBUG; i++)
		if (strcasecmp(name, level_names[i]) == 0)
			return i;
	return -1;
}

void loy_config_defaults(struct loy_config *c)
{
	memset(c, 0, sizeof *c);
	strcpy(c->name, "loyd");
	strcpy(c->data_dir, "/var/lib/loyd");
	strcpy(c->key_file, "/etc/loyd/validator.key");
	strcpy(c->genesis, "/etc/loyd/genesis.json");
	c->log_level = LOY_LOG_INFO;
	strcpy(c->peer_listen, "127.0.0.1:7100");
	strcpy(c->client_listen, "127.0.0.1:7200");
	c->mempool_max_txs = 200000;
	c->mempool_max_per_signer = 10000;
	c->block_max_txs = 4096;
	c->block_max_bytes = 4u << 20;
	c->batch_ms = 2;
	c->view_timeout_ms = 3000;
	c->map_size_mb = 4096;
	c->max_clients = 1024;
}

int loy_hostport_parse(const char *s, char *host, uint16_t *port)
{
	const char *colon, *h = s;
	size_t hlen;
	char *end;
	unsigned long p;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (rb == NULL || rb[1] != ':')
			return LOY_EINVAL;
		h = s + 1;
		hlen = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return LOY_EINVAL;
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= LOY_HOSTPORT_MAX)
		return LOY_EINVAL;
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (errno || *end != '\0' || end == colon + 1 || p == 0 || p > 65535)
		return LOY_EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (uint16_t)p;
	return 0;
}

struct parse_ctx {
	struct loy_config *c;
	char msg[LOY_CONFIG_ERR_MAX];
};

/* Records the first error as "[section] key: what \"value\"". */
static int fail(struct parse_ctx *x, const char *section, const char *key,
		const char *what, const char *value)
{
	if (x->msg[0] == '\0')
		snprintf(x->msg, sizeof x->msg, "[%s] %s: %s%s%s%s", section,
			 key, what, value ? " \"" : "", value ? value : "",
			 value ? "\"" : "");
	return 0;
}

static int on_entry(void *user, const char *section, const char *key,
		    const char *value)
{
	struct parse_ctx *x = user;
	const struct field *f = NULL;
	char *base = (char *)x->c;

	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
		if (strcmp(fields[i].section, section) == 0 &&
		    strcmp(fields[i].key, key) == 0)
			f = &fields[i];
	if (f == NULL)
		return fail(x, section, key, "unknown setting", NULL);
	switch (f->type) {
	case F_STR:
		if (strlen(value) >= f->size)
			return fail(x, section, key, "value too long:", value);
		strcpy(base + f->offset, value);
		return 1;
	case F_HOSTPORT: {
		char host[LOY_HOSTPORT_MAX];
		uint16_t port;
		if (loy_hostport_parse(value, host, &port) != 0)
			return fail(x, section, key, "expected HOST:PORT, got",
				    value);
		strcpy(base + f->offset, value);
		return 1;
	}
	case F_LOG_LEVEL: {
		int l = loy_log_level_parse(value);
		if (l < 0)
			return fail(x, section, key,
				    "expected error, warn, info or debug, got",
				    value);
		*(int *)(void *)(base + f->offset) = l;
		return 1;
	}
	case F_U64: {
		char *end;
		unsigned long long v;
		errno = 0;
		v = strtoull(value, &end, 10);
		if (errno || *end != '\0' || end == value || value[0] == '-')
			return fail(x, section, key,
				    "expected a whole number, got", value);
		if (v < f->min || v > f->max) {
			char what[96];
			snprintf(what, sizeof what, "out of range %llu..%llu:",
				 (unsigned long long)f->min,
				 (unsigned long long)f->max);
			return fail(x, section, key, what, value);
		}
		*(uint64_t *)(void *)(base + f->offset) = v;
		return 1;
	}
	}
	return 0;
}

int loy_config_load(struct loy_config *c, const char *path, char *err,
		    size_t err_size)
{
	struct parse_ctx x = {.c = c};
	int line;

	line = ini_parse(path, on_entry, &x);
	if (line == -1) {
		snprintf(err, err_size, "%s: cannot open: %s", path,
			 strerror(errno));
		return LOY_EIO;
	}
	if (line == -2) {
		snprintf(err, err_size, "%s: out of memory", path);
		return LOY_ENOMEM;
	}
	if (line > 0) {
		snprintf(
		    err, err_size, "%s:%d: %s", path, line,
		    x.msg[0]
			? x.msg
			: "syntax error (expected [section] or key = value)");
		return LOY_EINVAL;
	}
	if (c->data_dir[0] == '\0' || c->key_file[0] == '\0' ||
	    c->genesis[0] == '\0') {
		snprintf(
		    err, err_size,
		    "%s: [node] data_dir, key_file and genesis must be set",
		    path);
		return LOY_EINVAL;
	}
	if (strcmp(c->peer_listen, c->client_listen) == 0) {
		snprintf(
		    err, err_size,
		    "%s: [peer] listen and [client] listen must differ (%s)",
		    path, c->peer_listen);
		return LOY_EINVAL;
	}
	return 0;
}
