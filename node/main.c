/* loyd: run one validator node of the loyalty consortium. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "ledger/ledger.h"
#include "node/config.h"
#include "node/node.h"
#include "node/store_check.h"
#include "wire/crypto.h"
#include "wire/error.h"

#define LOYD_VERSION "0.1.0"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: loyd --config FILE [--check]\n"
		"\n"
		"Runs one validator node of a loyalty consortium chain.\n"
		"\n"
		"  -c, --config FILE  INI configuration (see "
		"deploy/loyd.conf.example)\n"
		"      --check        load and check the configuration, "
		"genesis and key,\n"
		"                     then exit (0 when all is well)\n"
		"      --skip-store-check\n"
		"                     start without first reading the whole "
		"store\n"
		"                     (by default every record's integrity "
		"tag is\n"
		"                     checked, in a child process, before "
		"the node\n"
		"                     starts: about a second per GiB)\n"
		"  -h, --help         this text\n"
		"  -V, --version      print the version\n"
		"\n"
		"The key file's passphrase comes from [node] passphrase_file, "
		"or from\n"
		"the LOYD_PASSPHRASE environment variable.\n"
		"Logs go to stderr. SIGTERM or SIGINT stops the node cleanly.\n"
		"Tests only: with LOYD_FAULT_SIGNALS=1, SIGUSR1 isolates the "
		"node from\n"
		"its peers (every peer frame dropped) and SIGUSR2 heals it.\n"
		"Exit codes: 0 stopped cleanly, 1 runtime failure, 2 usage or "
		"configuration error.\n"
		"\n"
		"example: loyd --config /etc/loyd/loyd.conf\n");
}

static int read_passphrase(const struct loy_config *c, char *out, size_t cap)
{
	const char *env = getenv("LOYD_PASSPHRASE");

	if (c->passphrase_file[0]) {
		FILE *f = fopen(c->passphrase_file, "r");
		size_t n;
		if (f == NULL) {
			fprintf(stderr, "loyd: %s: %s\n", c->passphrase_file,
				strerror(errno));
			return -1;
		}
		n = fread(out, 1, cap - 1, f);
		fclose(f);
		out[n] = '\0';
		out[strcspn(out, "\r\n")] = '\0';
		return 0;
	}
	if (env) {
		snprintf(out, cap, "%s", env);
		return 0;
	}
	fprintf(stderr,
		"loyd: no passphrase for %s: set [node] passphrase_file "
		"or LOYD_PASSPHRASE\n",
		c->key_file);
	return -1;
}

struct main_ctx {
	struct loy_node *node;
	int exit_code;
	uv_signal_t sigterm, sigint;
	uv_signal_t sigusr1, sigusr2; /* test fault signals, when enabled */
	int faults;
};

static void on_stopped(void *data, int exit_code)
{
	struct main_ctx *m = data;

	m->exit_code = exit_code;
	m->node = NULL;
	uv_close((uv_handle_t *)&m->sigterm, NULL);
	uv_close((uv_handle_t *)&m->sigint, NULL);
	if (m->faults) {
		uv_close((uv_handle_t *)&m->sigusr1, NULL);
		uv_close((uv_handle_t *)&m->sigusr2, NULL);
	}
}

/* LOYD_FAULT_SIGNALS=1 (tests only): SIGUSR1 cuts the node off from its
 * peers, SIGUSR2 heals it. */
static void on_fault_signal(uv_signal_t *s, int signum)
{
	struct main_ctx *m = s->data;

	if (m->node)
		loy_node_isolate(m->node, signum == SIGUSR1);
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct main_ctx *m = s->data;

	fprintf(stderr, "loyd: %s received, stopping\n",
		signum == SIGTERM ? "SIGTERM" : "SIGINT");
	if (m->node)
		loy_node_stop(m->node, 0);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"check", no_argument, NULL, 'k'},
	    {"skip-store-check", no_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct loy_config cfg;
	struct loy_node_params params;
	struct main_ctx m = {0};
	const char *config = NULL;
	char err[1024], pass[1024], note[512];
	int c, check = 0, skip_store_check = 0, rv;
	uv_loop_t *loop;

	while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'k':
			check = 1;
			break;
		case 's':
			skip_store_check = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("loyd %s\n", LOYD_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (config == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (loy_crypto_init() != 0) {
		fprintf(stderr, "loyd: libsodium failed to initialise\n");
		return 1;
	}
	loy_config_defaults(&cfg);
	if (loy_config_load(&cfg, config, err, sizeof err) != 0) {
		fprintf(stderr, "loyd: %s\n", err);
		return 2;
	}
	if (read_passphrase(&cfg, pass, sizeof pass) != 0)
		return 2;
	/* a roll-back after a machine crash comes before any reading */
	rv = loy_ledger_recover(cfg.data_dir, note, sizeof note, err,
				sizeof err);
	if (rv != 0 || note[0]) {
		fprintf(stderr, "loyd: %s: %s\n", cfg.data_dir,
			rv != 0 ? err : note);
		if (rv != 0) {
			loy_wipe(pass, sizeof pass);
			return 1;
		}
	}
	if (!skip_store_check) {
		rv = loy_store_check(cfg.data_dir, cfg.map_size_mb << 20, err,
				     sizeof err);
		if (rv != 0) {
			fprintf(stderr, "loyd: %s\n", err);
			loy_wipe(pass, sizeof pass);
			return 1;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	loop = uv_default_loop();
	params.cfg = &cfg;
	params.passphrase = pass;
	params.on_stopped = on_stopped;
	params.data = &m;
	rv = loy_node_start(loop, &params, &m.node, err, sizeof err);
	loy_wipe(pass, sizeof pass);
	if (rv != 0) {
		fprintf(stderr, "loyd: %s\n", err);
		uv_run(loop,
		       UV_RUN_DEFAULT); /* let handles of a half start close */
		return rv == LOY_EINVAL || rv == LOY_EMALFORMED ||
			       rv == LOY_EPASSPHRASE || rv == LOY_EKEYPERM
			   ? 2
			   : 1;
	}
	if (check) {
		printf("loyd: configuration, genesis and key are fine\n");
		loy_node_stop(m.node, 0);
	}
	uv_signal_init(loop, &m.sigterm);
	uv_signal_init(loop, &m.sigint);
	m.sigterm.data = m.sigint.data = &m;
	uv_signal_start(&m.sigterm, on_signal, SIGTERM);
	uv_signal_start(&m.sigint, on_signal, SIGINT);
	if (!check && getenv("LOYD_FAULT_SIGNALS") &&
	    strcmp(getenv("LOYD_FAULT_SIGNALS"), "1") == 0) {
		m.faults = 1;
		uv_signal_init(loop, &m.sigusr1);
		uv_signal_init(loop, &m.sigusr2);
		m.sigusr1.data = m.sigusr2.data = &m;
		uv_signal_start(&m.sigusr1, on_fault_signal, SIGUSR1);
		uv_signal_start(&m.sigusr2, on_fault_signal, SIGUSR2);
		fprintf(stderr,
			"loyd: fault signals enabled (LOYD_FAULT_SIGNALS=1): "
			"SIGUSR1 isolates this node from its peers, SIGUSR2 "
			"heals\n");
	}
	if (check && m.node == NULL) {
		uv_close((uv_handle_t *)&m.sigterm, NULL);
		uv_close((uv_handle_t *)&m.sigint, NULL);
	}
	uv_run(loop, UV_RUN_DEFAULT);
	uv_loop_close(loop);
	return m.exit_code;
}
