/* loyctl testnet: validator keys, a genesis file and one loyd.conf per node
 * for a local cluster (what deploy/cluster.sh runs), like cometbft testnet. */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ledger/genesis_json.h"
#include "wire/error.h"

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, mode) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

static int write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	size_t n = strlen(text);
	ssize_t w;

	if (fd < 0)
		return -1;
	w = write(fd, text, n);
	if (fchmod(fd, mode) != 0 || close(fd) != 0 || w < 0 || (size_t)w != n)
		return -1;
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int cli_testnet_write(const struct cli_testnet_opts *o, char *err, size_t errsz)
{
	char dir[PATH_MAX], path[PATH_MAX + 64], text[6 * PATH_MAX];
	const char *pass =
	    o->passphrase ? o->passphrase : LOYCTL_DEV_PASSPHRASE;
	struct kdf {
		struct loy_kdf_cost c;
	} k = {o->min_kdf ? loy_kdf_cost_min() : loy_kdf_cost_default()};
	struct loy_genesis *g;
	struct stat st;
	int rv = LOY_EIO;

	if (o->nodes < 1 || o->nodes > LOY_MAX_VALIDATORS) {
		snprintf(err, errsz, "--nodes must be 1..%u",
			 LOY_MAX_VALIDATORS);
		return LOY_EINVAL;
	}
	if (o->base_port < 1 || o->base_port + 100 + o->nodes > 65535) {
		snprintf(err, errsz, "--base-port leaves no room for %u nodes",
			 o->nodes);
		return LOY_EINVAL;
	}
	if (mkdir_p(o->dir, 0755) != 0 || realpath(o->dir, dir) == NULL) {
		snprintf(err, errsz, "%s: %s", o->dir, strerror(errno));
		return LOY_EIO;
	}
	snprintf(path, sizeof path, "%s/genesis.json", dir);
	if (stat(path, &st) == 0) {
		snprintf(err, errsz,
			 "%s already exists; use an empty directory", path);
		return LOY_EINVAL;
	}
	g = calloc(1, sizeof *g);
	if (g == NULL)
		return LOY_ENOMEM;
	if (cli_copy_field(g->chain_id, sizeof g->chain_id,
			   o->chain_id ? o->chain_id : "loyalty-local") != 0) {
		snprintf(err, errsz, "chain id is longer than %d bytes",
			 LOY_CHAIN_ID_MAX);
		rv = LOY_EINVAL;
		goto out_g;
	}
	g->time_ms = now_ms() / 1000u * 1000u - 60000u;
	g->commission_bps = 0;
	g->point_value = 1;
	g->member_count = o->nodes;

	snprintf(path, sizeof path, "%s/passphrase", dir);
	snprintf(text, sizeof text, "%s\n", pass);
	if (write_file(path, text, 0600) != 0) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		goto out_g;
	}
	for (unsigned i = 1; i <= o->nodes; i++) {
		uint8_t pk[LOY_PUBKEY_SIZE], sk[LOY_SECKEY_SIZE];
		struct loy_genesis_member *m = &g->members[i - 1];
		int wr;

		snprintf(path, sizeof path, "%s/node%u/data", dir, i);
		if (mkdir_p(path, 0700) != 0) {
			snprintf(err, errsz, "%s: %s", path, strerror(errno));
			goto out_g;
		}
		snprintf(path, sizeof path, "%s/node%u/validator.key", dir, i);
		loy_keypair(pk, sk);
		wr = loy_keyfile_write(path, sk, pass, k.c);
		loy_wipe(sk, sizeof sk);
		if (wr != 0) {
			snprintf(err, errsz, "%s: %s", path,
				 wr == LOY_EIO ? strerror(errno)
					       : loy_strerror(wr));
			rv = wr;
			goto out_g;
		}
		snprintf(m->name, sizeof m->name, "Member %u", i);
		memcpy(m->pubkey, pk, LOY_PUBKEY_SIZE);
		snprintf(m->address, sizeof m->address, "127.0.0.1:%u",
			 o->base_port + i - 1);

		snprintf(text, sizeof text,
			 "; loyd configuration of node %u of a local test "
			 "network (loyctl testnet)\n"
			 "[node]\n"
			 "name = node%u\n"
			 "data_dir = %s/node%u/data\n"
			 "key_file = %s/node%u/validator.key\n"
			 "passphrase_file = %s/passphrase\n"
			 "genesis = %s/genesis.json\n"
			 "log_level = info\n"
			 "\n[peer]\nlisten = 127.0.0.1:%u\n"
			 "\n[client]\nlisten = 127.0.0.1:%u\n",
			 i, i, dir, i, dir, i, dir, dir, o->base_port + i - 1,
			 o->base_port + 100 + i - 1);
		snprintf(path, sizeof path, "%s/node%u/loyd.conf", dir, i);
		if (write_file(path, text, 0644) != 0) {
			snprintf(err, errsz, "%s: %s", path, strerror(errno));
			goto out_g;
		}
	}
	snprintf(path, sizeof path, "%s/genesis.json", dir);
	rv = loy_genesis_save(g, path);
	if (rv != 0)
		snprintf(err, errsz, "%s: %s", path, loy_strerror(rv));
out_g:
	free(g);
	return rv;
}

static const struct cli_usage testnet_usage = {
    "loyctl testnet --nodes N --dir DIR [--chain-id ID] [--base-port P] "
    "[--kdf-cost min|default]",
    "Generates a local test network: N validator key files (the passphrase in\n"
    "DIR/passphrase, 0600; the dev passphrase unless --passphrase-file), a\n"
    "genesis.json with members \"Member 1\".. at 127.0.0.1:P+i-1, and per "
    "node\n"
    "DIR/nodeI/loyd.conf (peer port P+i-1, client port P+100+i-1). Keys use "
    "the\n"
    "minimal KDF cost by default so nodes start fast: dev use only.",
    "  --nodes N          number of validators (default 4)\n"
    "  --dir DIR          output directory (created; must not hold a genesis)\n"
    "  --chain-id ID      chain id (default loyalty-local)\n"
    "  --base-port P      first peer port (default 7101; node 1's client port "
    "is P+100)\n"
    "  --kdf-cost COST    'min' (default here) or 'default'\n",
    "  loyctl testnet --nodes 4 --dir ./testnet\n"
    "  loyd --config ./testnet/node1/loyd.conf\n",
};

int cmd_testnet(struct cli *c, int argc, char **argv)
{
	const char *nodes_s = "4", *dir = NULL, *port_s = "7101", *cost = NULL,
		   *pos[1];
	const struct cli_opt opts[] = {{"nodes", OPT_STR, &nodes_s},
				       {"dir", OPT_STR, &dir},
				       {"base-port", OPT_STR, &port_s},
				       {"kdf-cost", OPT_STR, &cost},
				       {NULL, 0, NULL}};
	struct cli_testnet_opts o;
	char pass[256], err[PATH_MAX + 256];
	uint32_t n, port;
	int np, rv;

	rv = cli_parse(c, argc, argv, opts, pos, 0, &np, &testnet_usage);
	if (rv)
		return rv;
	if (dir == NULL)
		return cli_usage_error(c, &testnet_usage,
				       "testnet needs --dir DIR");
	if (cli_parse_u32(nodes_s, &n) != 0 || n < 1 || n > LOY_MAX_VALIDATORS)
		return cli_usage_error(c, &testnet_usage,
				       "--nodes must be 1..%u",
				       LOY_MAX_VALIDATORS);
	if (cli_parse_u32(port_s, &port) != 0 || port < 1 || port > 65000)
		return cli_usage_error(c, &testnet_usage,
				       "--base-port must be a port number");
	if (cost && strcmp(cost, "min") != 0 && strcmp(cost, "default") != 0)
		return cli_usage_error(c, &testnet_usage,
				       "--kdf-cost is 'min' or 'default'");
	memset(&o, 0, sizeof o);
	o.nodes = n;
	o.dir = dir;
	o.chain_id = c->chain_id;
	o.base_port = port;
	o.min_kdf = cost == NULL || strcmp(cost, "min") == 0;
	if (c->passphrase_file) {
		rv = cli_passphrase(c, "", false, pass, sizeof pass);
		if (rv)
			return rv;
		o.passphrase = pass;
	}
	rv = cli_testnet_write(&o, err, sizeof err);
	if (o.passphrase)
		loy_wipe(pass, sizeof pass);
	if (rv != 0) {
		cli_err(c, "testnet: %s", err);
		return rv == LOY_EINVAL ? CLI_USAGE : CLI_FAIL;
	}
	if (c->json) {
		json_t *o2 = json_pack(
		    "{s:s, s:I, s:s, s:I}", "dir", dir, "nodes", (json_int_t)n,
		    "chain_id", c->chain_id ? c->chain_id : "loyalty-local",
		    "first_client_port", (json_int_t)(port + 100));
		cli_print_json(c, o2);
		json_decref(o2);
	} else {
		fprintf(c->out, "wrote a %u-node test network to %s\n", n, dir);
		for (unsigned i = 1; i <= n; i++)
			fprintf(c->out,
				"  node%u: %s/node%u/loyd.conf  peer "
				"127.0.0.1:%u  client 127.0.0.1:%u\n",
				i, dir, i, port + i - 1, port + 100 + i - 1);
		fprintf(c->out,
			"keys use the dev passphrase in %s/passphrase: never "
			"use them for real\n",
			dir);
	}
	return CLI_OK;
}
