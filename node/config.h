/* loyd's INI configuration: defaults, parsing with file:line errors, and
 * validation. */
#ifndef LOY_NODE_CONFIG_H
#define LOY_NODE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define LOY_PATH_MAX       1024
#define LOY_HOSTPORT_MAX   128
#define LOY_CONFIG_ERR_MAX 512

enum loy_log_level {
	LOY_LOG_ERROR = 0,
	LOY_LOG_WARN,
	LOY_LOG_INFO,
	LOY_LOG_DEBUG,
};

struct loy_config {
	/* [node] */
	char name[64];
	char data_dir[LOY_PATH_MAX];
	char key_file[LOY_PATH_MAX];
	char passphrase_file[LOY_PATH_MAX]; /* "" = $LOYD_PASSPHRASE */
	char genesis[LOY_PATH_MAX];
	int log_level; /* enum loy_log_level */
	/* [peer] */
	char peer_listen[LOY_HOSTPORT_MAX];
	/* [client] */
	char client_listen[LOY_HOSTPORT_MAX];
	/* Comma-separated Ed25519 public keys (hex) of the clients allowed
	 * in. Empty: no client authentication, and loopback only. Set: every
	 * client authenticates with one of these keys and the link is
	 * encrypted, and the listener may be on any address. */
	char client_allowed_keys[4400];
	/* [limits] */
	uint64_t mempool_max_txs;
	uint64_t mempool_max_per_signer;
	uint64_t block_max_txs;
	uint64_t block_max_bytes;
	uint64_t batch_ms;
	uint64_t view_timeout_ms;
	uint64_t map_size_mb;
	uint64_t max_clients;
};

/* Fills c with the defaults. */
void loy_config_defaults(struct loy_config *c);

/* Parses an INI file over the defaults, then validates. Returns 0, or
 * LOY_EINVAL / LOY_EIO with a message naming the file, line and key in
 * err (err_size bytes). Unknown sections and keys are errors: a typo must
 * not silently fall back to a default. */
int loy_config_load(struct loy_config *c, const char *path, char *err,
		    size_t err_size);

/* Parses "host:port" (IPv4 or [IPv6]) into host and port. Returns 0 or
 * LOY_EINVAL. host must hold LOY_HOSTPORT_MAX bytes. */
int loy_hostport_parse(const char *s, char *host, uint16_t *port);

/* The name of a log level ("info"), or its number from a name; -1 when
 * unknown. */
const char *loy_log_level_name(int level);
int loy_log_level_parse(const char *name);

#endif
