/* loyctl internals shared by the subcommand files: the invocation context,
 * option parsing, output helpers, the client API connection and the
 * transaction submit path. */
#ifndef LOY_CLI_CLI_H
#define LOY_CLI_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "wire/client.h"
#include "wire/session.h"
#include "wire/crypto.h"
#include "wire/tx.h"

#define LOYCTL_VERSION        "0.1.0"
#define LOYCTL_DEFAULT_NODE   "127.0.0.1:7201"
#define LOYCTL_DEV_PASSPHRASE "loyalty-dev-passphrase"

/* Exit codes: what a script can rely on. */
enum cli_exit {
	CLI_OK = 0,
	CLI_FAIL = 1,        /* rejected, refused, or a check failed */
	CLI_USAGE = 2,       /* bad command line */
	CLI_UNREACHABLE = 3, /* cannot reach the node */
	CLI_HELP = -1,       /* --help was printed: exit 0 */
};

/* Offline signing (loyctl sign): where signed transactions go instead of a
 * node. */
struct cli_sign {
	bool active;
	const char *out;      /* file to append to; NULL = stdout */
	const char *nonce;    /* explicit nonce, or NULL = tracked in out */
	const char *chain_id; /* required offline */
};

/* One invocation of loyctl: the global options, passed to every command.
 * Nothing here is process-global so tests can build several. */
struct cli {
	const char *node;
	bool json;
	bool no_wait;
	const char *key_file;
	const char *passphrase_file;
	const char
	    *chain_id; /* --chain-id override, else asked from the node */
	bool color_out, color_err;
	FILE *out, *err;
	struct cli_sign sign;
	/* cached after the first use */
	bool have_key;
	uint8_t sk[LOY_SECKEY_SIZE];
	char node_chain_id[LOY_CHAIN_ID_MAX + 1];
};

typedef int (*cli_fn)(struct cli *c, int argc, char **argv);

struct cli_cmd {
	const char *name;
	cli_fn fn;
	const char *desc;
};

/* --- options --- */

#define CLI_LIST_MAX 1000

enum cli_opt_type { OPT_STR = 1, OPT_FLAG, OPT_LIST };

struct cli_list {
	int n;
	const char *v[CLI_LIST_MAX];
};

/* One --name option: OPT_STR stores into (const char **)dst, OPT_FLAG sets
 * (bool *)dst, OPT_LIST appends to (struct cli_list *)dst (repeatable, and
 * comma-separated values are split by the command itself). */
struct cli_opt {
	const char *name;
	int type;
	void *dst;
};

/* What --help and a usage error print. */
struct cli_usage {
	const char *usage;   /* "loyctl balance ID" */
	const char *desc;    /* one paragraph */
	const char *options; /* lines "  --x N   what", or NULL */
	const char *example; /* one or more command lines */
};

/* Parses argv[1..] (argv[0] is the command's name) against opts; bare
 * words go to pos (at most max_pos, *npos set). Accepts --name value and
 * --name=value. Returns 0, CLI_HELP after printing help for --help/-h, or
 * CLI_USAGE after printing the error and the usage line. */
int cli_parse(struct cli *c, int argc, char **argv, const struct cli_opt *opts,
	      const char **pos, int max_pos, int *npos,
	      const struct cli_usage *u);
void cli_print_help(struct cli *c, const struct cli_usage *u);
/* Prints "loyctl: msg" and the usage line; returns CLI_USAGE. */
int cli_usage_error(struct cli *c, const struct cli_usage *u, const char *fmt,
		    ...) __attribute__((format(printf, 3, 4)));
/* Dispatches argv[1] of a family ("coupon issue") to its table; prints the
 * family's list on no or unknown sub-command. */
int cli_dispatch(struct cli *c, const char *family, const struct cli_cmd *cmds,
		 int argc, char **argv);

/* --- parsing values (0 on success, -1 with a message in err) --- */

int cli_parse_u64(const char *s, uint64_t *v);
int cli_parse_u32(const char *s, uint32_t *v);
/* Decimal degrees "48.856613" into micro-degrees (at most 6 decimals, no
 * floating point); range checked by max_deg (90 or 180). */
int cli_parse_udeg(const char *s, int32_t max_deg, int32_t *v);
/* "LAT,LON" or "LAT,LON,RADIUS_M". want_radius: 1 required, 0 forbidden. */
int cli_parse_geo(const char *s, struct loy_geo *g, uint32_t *radius,
		  int want_radius);
/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
int64_t cli_days_from_civil(int64_t y, unsigned m, unsigned d);
/* "YYYY-MM-DD" into days since the epoch. */
int cli_parse_day(const char *s, uint32_t *day);
/* "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS][Z]" (UTC) or plain milliseconds. */
int cli_parse_time_ms(const char *s, uint64_t *ms);
/* Formats days since the epoch as YYYY-MM-DD (out: 11+ bytes). */
void cli_format_day(char *out, size_t n, int64_t day);
void cli_format_time_ms(char *out, size_t n, uint64_t ms);
int cli_parse_id(const char *s, uint8_t id[LOY_ID_SIZE]);
int cli_parse_hash(const char *s, uint8_t h[LOY_HASH_SIZE]);
/* "host:port" with a non-empty host and a port 1..65535. */
int cli_parse_hostport(const char *s, char *host, size_t hostsz,
		       uint16_t *port);
/* Copies a bounded string field; -1 when too long. */
int cli_copy_field(char *dst, size_t dstsz, const char *src);

/* --- output --- */

void cli_err(struct cli *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cli_ok(struct cli *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints a JSON value on c->out, indented, with a newline. */
void cli_print_json(struct cli *c, const json_t *v);

/* A text table: columns aligned, numbers right-aligned. */
struct cli_table {
	int cols;
	int rows;
	int cap;
	char **cells; /* rows x cols, owned */
	bool right[16];
};
int cli_table_init(struct cli_table *t, int cols, const char *const *header);
int cli_table_add(struct cli_table *t, const char *const *row);
/* Renders into a new string (caller frees). */
char *cli_table_render(const struct cli_table *t);
void cli_table_print(struct cli *c, struct cli_table *t);
void cli_table_free(struct cli_table *t);

/* --- keys and passphrases --- */

/* The passphrase: --passphrase-file (first line), $LOYCTL_PASSPHRASE, or a
 * prompt on the terminal without echo (confirm: ask twice). out is wiped by
 * the caller. Returns 0 or CLI_FAIL/CLI_USAGE after printing why. */
int cli_passphrase(struct cli *c, const char *prompt, bool confirm, char *out,
		   size_t outsz);
/* Loads --key into c->sk (once). */
int cli_load_key(struct cli *c);

/* --- the client API connection --- */

struct cli_conn {
	int fd;
	uint64_t next_id;
	uint8_t *buf;
	size_t len, cap;
	int timeout_ms; /* per read; <0 = forever */
	char err[512];
	struct loy_session *sess; /* set once authenticated (cli/auth.c) */
};

/* Client authentication (cli/auth.c). When LOYCTL_NODE_KEY names the
 * node's public key (hex), the connection runs the handshake with the
 * client key file LOYCTL_CLIENT_KEY (passphrase LOYCTL_PASSPHRASE) for chain
 * LOYCTL_CHAIN_ID, and every frame after it is encrypted. Returns 0 (also
 * when no node key is set) or CLI_UNREACHABLE / CLI_FAIL with cn->err. */
int cli_conn_auth(struct cli_conn *cn);
/* Frame I/O used by the handshake. */
int cli_conn_send_raw(struct cli_conn *cn, const uint8_t *body, size_t len);
int cli_conn_read_raw(struct cli_conn *cn, uint8_t **body, size_t *len);

/* Connects to host:port within timeout_ms. Returns 0 or CLI_UNREACHABLE
 * with c->err set. */
int cli_conn_open(struct cli_conn *cn, const char *hostport, int timeout_ms);
void cli_conn_close(struct cli_conn *cn);
/* Sends a request (request_id is assigned). Returns 0 or CLI_UNREACHABLE. */
int cli_conn_send(struct cli_conn *cn, struct loy_client_request *q);
/* Reads the next frame: *kind is RESPONSE or EVENT; exactly one of r / e
 * is filled (owned by the caller). Returns 0, or CLI_UNREACHABLE. */
int cli_conn_read(struct cli_conn *cn, uint8_t *kind,
		  struct loy_client_response *r, struct loy_client_event *e);
/* Sends q and waits for the response with its request_id (events before
 * it are dropped). */
int cli_conn_call(struct cli_conn *cn, struct loy_client_request *q,
		  struct loy_client_response *r);

/* One-shot helpers over c->node: each opens a connection, prints errors,
 * and returns CLI_OK / CLI_FAIL / CLI_UNREACHABLE. *payload is the parsed
 * JSON (caller json_decref's it). */
int cli_status(struct cli *c, struct cli_conn *cn, json_t **payload);
int cli_query(struct cli *c, struct cli_conn *cn, uint8_t kind,
	      const struct loy_client_arg *args, uint32_t nargs,
	      json_t **payload);
void cli_arg_bin(struct loy_client_arg *a, const uint8_t *p, uint32_t n);
void cli_arg_uint(struct loy_client_arg *a, uint64_t v);
void cli_arg_int(struct loy_client_arg *a, int64_t v);
void cli_arg_str(struct loy_client_arg *a, const char *s);
/* Connects to c->node, printing why not. */
int cli_connect(struct cli *c, struct cli_conn *cn);

/* --- transactions --- */

/* Finishes a built transaction (its kind and body set): fills chain id and
 * nonce, signs with --key, then submits it and prints the outcome, or in
 * sign mode appends it to the batch. Frees what tx owns. */
int cli_tx_finish(struct cli *c, struct loy_tx *tx);
/* The same, and hands the tx hash to a callback before submitting (the
 * bearer coupon codes file needs the batch hash). */
int cli_tx_finish_cb(struct cli *c, struct loy_tx *tx,
		     int (*before)(void *d, const uint8_t hash[LOY_HASH_SIZE]),
		     void *d);
/* Prints one submitted tx's outcome from a SUBMIT answer entry; returns
 * CLI_OK for committed/pending, CLI_FAIL otherwise. */
int cli_print_outcome(struct cli *c, const json_t *r);

/* --- testnet (also used by the unit tests) --- */

struct cli_testnet_opts {
	unsigned nodes;
	const char *dir;
	const char *chain_id;
	unsigned base_port;
	const char *passphrase; /* NULL = the dev passphrase */
	bool min_kdf;
};
int cli_testnet_write(const struct cli_testnet_opts *o, char *err,
		      size_t errsz);

/* --- subcommands --- */

int cmd_keygen(struct cli *c, int argc, char **argv);
int cmd_id(struct cli *c, int argc, char **argv);
int cmd_testnet(struct cli *c, int argc, char **argv);
int cmd_status(struct cli *c, int argc, char **argv);
int cmd_balance(struct cli *c, int argc, char **argv);
int cmd_history(struct cli *c, int argc, char **argv);
int cmd_tx(struct cli *c, int argc, char **argv);
int cmd_block(struct cli *c, int argc, char **argv);
int cmd_members(struct cli *c, int argc, char **argv);
int cmd_settlement(struct cli *c, int argc, char **argv);
int cmd_report(struct cli *c, int argc, char **argv);
int cmd_totals(struct cli *c, int argc, char **argv);
int cmd_customer(struct cli *c, int argc, char **argv);
int cmd_member(struct cli *c, int argc, char **argv);
int cmd_terminal(struct cli *c, int argc, char **argv);
int cmd_rule(struct cli *c, int argc, char **argv);
int cmd_partnership(struct cli *c, int argc, char **argv);
int cmd_reward(struct cli *c, int argc, char **argv);
int cmd_redeem(struct cli *c, int argc, char **argv);
int cmd_transfer(struct cli *c, int argc, char **argv);
int cmd_settle(struct cli *c, int argc, char **argv);
int cmd_coupon(struct cli *c, int argc, char **argv);
int cmd_watch(struct cli *c, int argc, char **argv);
int cmd_sign(struct cli *c, int argc, char **argv);
int cmd_submit(struct cli *c, int argc, char **argv);
int cmd_audit(struct cli *c, int argc, char **argv);
int cmd_export(struct cli *c, int argc, char **argv);
int cmd_bench(struct cli *c, int argc, char **argv);

/* The transaction commands, for sign to dispatch into. */
int cli_tx_command(struct cli *c, int argc, char **argv);

/* Initialises c with defaults (out/err = stdout/stderr, colour off). */
void cli_init(struct cli *c);
void cli_fini(struct cli *c);

#endif
