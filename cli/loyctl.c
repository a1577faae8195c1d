/* loyctl: the operator and customer command line, a table of subcommands
 * (each in its own file) plus the global options they share. */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wire/error.h"

static int cmd_help(struct cli *c, int argc, char **argv);
static int cmd_version(struct cli *c, int argc, char **argv);

static const struct cli_cmd commands[] = {
    {"keygen", cmd_keygen,
     "create a passphrase-protected key file; prints the loyalty ID"},
    {"id", cmd_id, "print the loyalty ID of a key file"},
    {"testnet", cmd_testnet,
     "generate keys, genesis and configs for a local cluster"},
    {"status", cmd_status,
     "height, view, leader, state root and peers of a node"},
    {"customer", cmd_customer, "customer register"},
    {"member", cmd_member, "member propose | vote: admit or remove a company"},
    {"terminal", cmd_terminal, "terminal add | remove: POS keys of a member"},
    {"rule", cmd_rule, "rule set: a member's earning rule"},
    {"partnership", cmd_partnership,
     "partnership create | join | leave | show"},
    {"reward", cmd_reward,
     "reward issue | reverse: points for a purchase, or a refund"},
    {"redeem", cmd_redeem, "spend a customer's points at a member"},
    {"transfer", cmd_transfer, "move points to another customer"},
    {"coupon", cmd_coupon, "coupon issue | redeem | status | list | near"},
    {"settle", cmd_settle,
     "record (or confirm) an off-chain settlement payment"},
    {"balance", cmd_balance, "an account's balance, type and nonce"},
    {"history", cmd_history,
     "an account's transactions, newest first (paginated)"},
    {"tx", cmd_tx, "one transaction and its result"},
    {"block", cmd_block, "one block: header, transactions, commit signatures"},
    {"members", cmd_members, "the consortium's member companies"},
    {"settlement", cmd_settlement,
     "settlement positions: issued, redeemed, payable, receivable, net"},
    {"report", cmd_report, "per-day figures of a member between two dates"},
    {"totals", cmd_totals, "programme totals: issued, redeemed, outstanding"},
    {"watch", cmd_watch, "stream committed events for a member or customer"},
    {"sign", cmd_sign, "sign a transaction offline into a batch file"},
    {"submit", cmd_submit, "submit a batch file signed earlier"},
    {"audit", cmd_audit, "replay a chain from genesis and verify everything"},
    {"export", cmd_export, "write a node's chain to a file for auditors"},
    {"bench", cmd_bench,
     "load generator: committed tx/s and latency percentiles"},
    {"version", cmd_version, "print the version"},
    {"help", cmd_help, "this list"},
    {NULL, NULL, NULL},
};

static void print_commands(struct cli *c, FILE *f)
{
	fprintf(f, "usage: loyctl [global options] <command> [options]\n\n"
		   "commands:\n");
	for (const struct cli_cmd *k = commands; k->name; k++)
		fprintf(f, "  %-12s %s\n", k->name, k->desc);
	fprintf(
	    f,
	    "\nglobal options (anywhere on the line):\n"
	    "  --node HOST:PORT        the node's client API (default "
	    "$LOYCTL_NODE or %s)\n"
	    "  --json                  machine-readable output\n"
	    "  --key FILE              key file to sign with (default "
	    "$LOYCTL_KEY)\n"
	    "  --passphrase-file FILE  the key's passphrase (else "
	    "$LOYCTL_PASSPHRASE, else asked)\n"
	    "  --chain-id ID           chain id to sign for (default: asked "
	    "from the node)\n"
	    "  --no-wait               submit without waiting for the commit\n"
	    "\nexit codes: 0 ok, 1 rejected or failed check, 2 usage error, 3 "
	    "cannot reach node\n"
	    "'loyctl <command> --help' shows a command's options and an "
	    "example.\n",
	    LOYCTL_DEFAULT_NODE);
	(void)c;
}

static int cmd_help(struct cli *c, int argc, char **argv)
{
	if (argc >= 2) {
		for (const struct cli_cmd *k = commands; k->name; k++)
			if (strcmp(k->name, argv[1]) == 0 &&
			    k->fn != cmd_help) {
				char *args[] = {argv[1], (char *)"--help",
						NULL};
				int rv = k->fn(c, 2, args);
				return rv == CLI_HELP ? CLI_OK : rv;
			}
	}
	print_commands(c, c->out);
	return CLI_OK;
}

static int cmd_version(struct cli *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (c->json)
		fprintf(c->out, "{\"version\": \"%s\", \"wire_version\": %d}\n",
			LOYCTL_VERSION, LOY_WIRE_VERSION);
	else
		fprintf(c->out, "loyctl %s (wire protocol %d)\n",
			LOYCTL_VERSION, LOY_WIRE_VERSION);
	return CLI_OK;
}

/* Takes the global options out of argv wherever they are, so that
 * "loyctl balance X --json" and "loyctl --json balance X" both work. */
static int strip_globals(struct cli *c, int *argc, char **argv)
{
	static const char *const with_value[] = {"node", "key",
						 "passphrase-file", "chain-id"};
	int out = 1;

	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i];
		bool taken = false;
		if (strcmp(a, "--") == 0) {
			while (i < *argc)
				argv[out++] = argv[i++];
			break;
		}
		if (strcmp(a, "--json") == 0) {
			c->json = true;
			continue;
		}
		if (strcmp(a, "--no-wait") == 0) {
			c->no_wait = true;
			continue;
		}
		for (size_t k = 0; k < sizeof with_value / sizeof with_value[0];
		     k++) {
			size_t n = strlen(with_value[k]);
			const char *val = NULL;
			if (strncmp(a, "--", 2) != 0 ||
			    strncmp(a + 2, with_value[k], n) != 0)
				continue;
			if (a[2 + n] == '=')
				val = a + 3 + n;
			else if (a[2 + n] == '\0') {
				if (i + 1 >= *argc) {
					cli_err(c, "--%s needs a value",
						with_value[k]);
					return CLI_USAGE;
				}
				val = argv[++i];
			} else
				continue;
			if (k == 0)
				c->node = val;
			else if (k == 1)
				c->key_file = val;
			else if (k == 2)
				c->passphrase_file = val;
			else
				c->chain_id = val;
			taken = true;
			break;
		}
		if (!taken)
			argv[out++] = argv[i];
	}
	*argc = out;
	argv[out] = NULL;
	return 0;
}

int main(int argc, char **argv)
{
	struct cli c;
	int rv;

	cli_init(&c);
	if (loy_crypto_init() != 0) {
		fprintf(stderr, "loyctl: libsodium failed to start\n");
		return CLI_FAIL;
	}
	rv = strip_globals(&c, &argc, argv);
	if (rv)
		return rv;
	if (c.node == NULL)
		c.node = getenv("LOYCTL_NODE");
	if (c.node == NULL || c.node[0] == '\0')
		c.node = LOYCTL_DEFAULT_NODE;
	c.color_out =
	    !c.json && isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL;
	c.color_err =
	    !c.json && isatty(STDERR_FILENO) && getenv("NO_COLOR") == NULL;
	if (argc < 2) {
		print_commands(&c, stderr);
		return CLI_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cmd_help(&c, 1, argv + 1);
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
		return cmd_version(&c, 1, argv + 1);
	for (const struct cli_cmd *k = commands; k->name; k++) {
		if (strcmp(k->name, argv[1]) == 0) {
			rv = k->fn(&c, argc - 1, argv + 1);
			fflush(c.out);
			cli_fini(&c);
			return rv == CLI_HELP ? CLI_OK : rv;
		}
	}
	cli_err(&c, "unknown command '%s' (see loyctl help)", argv[1]);
	fprintf(stderr, "usage: loyctl [global options] <command> [options]\n");
	return CLI_USAGE;
}
