/* The transaction commands other than coupons: customer, member, terminal,
 * rule, partnership (create/join/leave), reward, redeem, transfer, settle.
 * Each parses its options into a struct loy_tx and hands it to
 * cli_tx_finish (nonce, signing, submit or offline batch). */
#include "cli/cli.h"

#include <errno.h>
#include <string.h>

#include "ledger/txjson.h"
#include "wire/error.h"

#define NEED(v, name)                                                          \
	do {                                                                   \
		if ((v) == NULL)                                               \
			return cli_usage_error(c, &u, "--%s is required",      \
					       name);                          \
	} while (0)
#define PARSE(opts)                                                            \
	do {                                                                   \
		int np_,                                                       \
		    rv_ = cli_parse(c, argc, argv, opts, NULL, 0, &np_, &u);   \
		if (rv_)                                                       \
			return rv_;                                            \
	} while (0)

static void tx_init(struct loy_tx *tx, uint8_t kind)
{
	memset(tx, 0, sizeof *tx);
	tx->kind = kind;
}

static int bad(struct cli *c, const struct cli_usage *u, const char *what,
	       const char *v)
{
	return cli_usage_error(c, u, "%s: '%s' is not valid", what, v);
}

static int str_field(struct cli *c, const struct cli_usage *u, char *dst,
		     size_t sz, const char *v, const char *name)
{
	if (cli_copy_field(dst, sz, v) != 0)
		return cli_usage_error(c, u, "--%s is longer than %zu bytes",
				       name, sz - 1);
	return 0;
}

/* A public key: 64 hex digits, or a key file (only its public part). */
static int pubkey_arg(struct cli *c, const struct cli_usage *u, const char *v,
		      uint8_t pk[LOY_PUBKEY_SIZE])
{
	int rv;

	if (strlen(v) == 2 * LOY_PUBKEY_SIZE &&
	    loy_unhex(pk, LOY_PUBKEY_SIZE, v) == 0)
		return 0;
	rv = loy_keyfile_pubkey(v, pk);
	if (rv != 0)
		return cli_usage_error(
		    c, u,
		    "'%s' is neither a public key in hex nor a key file (%s)",
		    v, rv == LOY_EIO ? strerror(errno) : loy_strerror(rv));
	return 0;
}

/* "N/D" or "N" (D = 1). */
static int rate_arg(const char *s, uint64_t *num, uint64_t *den)
{
	char buf[64];
	const char *slash = strchr(s, '/');

	if (slash == NULL) {
		*den = 1;
		return cli_parse_u64(s, num);
	}
	if ((size_t)(slash - s) >= sizeof buf)
		return -1;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	if (cli_parse_u64(buf, num) != 0 ||
	    cli_parse_u64(slash + 1, den) != 0 || *den == 0)
		return -1;
	return 0;
}

static int window_args(struct cli *c, const struct cli_usage *u,
		       const char *from, const char *until, uint64_t *f,
		       uint64_t *t)
{
	*f = *t = 0;
	if (from && cli_parse_time_ms(from, f) != 0)
		return bad(c, u, "--from (YYYY-MM-DD[THH:MM[:SS]Z] or ms)",
			   from);
	if (until && cli_parse_time_ms(until, t) != 0)
		return bad(c, u, "--until (YYYY-MM-DD[THH:MM[:SS]Z] or ms)",
			   until);
	if (*t != 0 && *t <= *f)
		return cli_usage_error(c, u, "--until must be after --from");
	return 0;
}

/* --- customer --- */

static int customer_register(struct cli *c, int argc, char **argv)
{
	static const struct cli_usage u = {
	    "loyctl customer register [--memo TEXT] --key CUSTOMER.key",
	    "Registers the key's loyalty ID as a customer account (signed by "
	    "the\n"
	    "customer; no personal data goes on the chain).",
	    "  --memo TEXT   a note (at most 128 bytes)\n",
	    "  loyctl keygen --out alice.key && loyctl customer register --key "
	    "alice.key\n"};
	const char *memo = NULL;
	const struct cli_opt opts[] = {{"memo", OPT_STR, &memo},
				       {NULL, 0, NULL}};
	struct loy_tx tx;

	PARSE(opts);
	tx_init(&tx, LOY_TX_CUSTOMER_REGISTER);
	if (str_field(c, &u, tx.u.customer_register.memo,
		      sizeof tx.u.customer_register.memo, memo, "memo"))
		return CLI_USAGE;
	return cli_tx_finish(c, &tx);
}

int cmd_customer(struct cli *c, int argc, char **argv)
{
	static const struct cli_cmd cmds[] = {
	    {"register", customer_register, "register the key as a customer"},
	    {NULL, NULL, NULL}};
	return cli_dispatch(c, "customer", cmds, argc, argv);
}

/* --- member --- */

static int member_propose(struct cli *c, int argc, char **argv)
{
	static const struct cli_usage u = {
	    "loyctl member propose --action admit|remove --member-key HEX|FILE "
	    "[--name NAME --address HOST:PORT]",
	    "Proposes to admit a company (its validator key, name and peer "
	    "address)\n"
	    "or to remove one. Takes effect once 2/3 of the members voted for "
	    "it;\n"
	    "the proposal is this transaction's hash.",
	    "  --action A         admit or remove\n"
	    "  --member-key K     the company's validator public key (hex) or "
	    "its key file\n"
	    "  --name NAME        company name (admit)\n"
	    "  --address H:P      its peer address (admit)\n",
	    "  loyctl member propose --action admit --member-key delta.key "
	    "--name \"Delta Fuel\" \\\n"
	    "      --address 10.0.0.4:7100 --key node1/validator.key\n"};
	const char *action = NULL, *key = NULL, *name = NULL, *addr = NULL;
	const struct cli_opt opts[] = {{"action", OPT_STR, &action},
				       {"member-key", OPT_STR, &key},
				       {"name", OPT_STR, &name},
				       {"address", OPT_STR, &addr},
				       {NULL, 0, NULL}};
	struct loy_tx tx;
	struct loy_tx_member_propose *b = &tx.u.member_propose;

	PARSE(opts);
	NEED(action, "action");
	NEED(key, "member-key");
	tx_init(&tx, LOY_TX_MEMBER_PROPOSE);
	if (strcmp(action, "admit") == 0) {
		b->action = LOY_MEMBER_ADMIT;
		NEED(name, "name");
		NEED(addr, "address");
	} else if (strcmp(action, "remove") == 0) {
		b->action = LOY_MEMBER_REMOVE;
	} else {
		return bad(c, &u, "--action (admit or remove)", action);
	}
	if (pubkey_arg(c, &u, key, b->member) ||
	    str_field(c, &u, b->name, sizeof b->name, name, "name") ||
	    str_field(c, &u, b->address, sizeof b->address, addr, "address"))
		return CLI_USAGE;
	return cli_tx_finish(c, &tx);
}

static int member_vote(struct cli *c, int argc, char **argv)
{
	static const struct cli_usage u = {
	    "loyctl member vote --proposal HASH [--reject]",
	    "Votes on a membership proposal (the proposing transaction's "
	    "hash):\n"
	    "approve by default, --reject to vote against.",
	    "  --proposal HASH   the member propose transaction's hash\n"
	    "  --reject          vote against\n",
	    "  loyctl member vote --proposal 3f1a...c2 --key "
	    "node2/validator.key\n"};
	const char *prop = NULL;
	bool reject = false;
	const struct cli_opt opts[] = {{"proposal", OPT_STR, &prop},
				       {"reject", OPT_FLAG, &reject},
				       {NULL, 0, NULL}};
	struct loy_tx tx;

	PARSE(opts);
	NEED(prop, "proposal");
	tx_init(&tx, LOY_TX_MEMBER_VOTE);
	if (cli_parse_hash(prop, tx.u.member_vote.proposal) != 0)
		return bad(c, &u, "--proposal (64 hex digits)", prop);
	tx.u.member_vote.approve = !reject;
	return cli_tx_finish(c, &tx);
}

int cmd_member(struct cli *c, int argc, char **argv)
{
	static const struct cli_cmd cmds[] = {
	    {"propose", member_propose, "propose to admit or remove a company"},
	    {"vote", member_vote, "vote on a proposal"},
	    {NULL, NULL, NULL}};
	return cli_dispatch(c, "member", cmds, argc, argv);
}

/* --- terminal --- */

static int terminal_tx(struct cli *c, int argc, char **argv, uint8_t kind)
{
	static const struct cli_usage u = {
	    "loyctl terminal add|remove --terminal-key HEX|FILE [--label TEXT] "
	    "--key MEMBER.key",
	    "Binds a POS terminal's key to the signing member (add), or "
	    "unbinds it\n"
	    "(remove). A terminal may issue rewards and accept redemptions for "
	    "its member.",
	    "  --terminal-key K   the terminal's public key (hex) or its key "
	    "file\n"
	    "  --label TEXT       a name for it (e.g. the till)\n",
	    "  loyctl keygen --out till1.key\n"
	    "  loyctl terminal add --terminal-key till1.key --label \"till 1\" "
	    "--key node1/validator.key\n"};
	const char *key = NULL, *label = NULL;
	const struct cli_opt opts[] = {{"terminal-key", OPT_STR, &key},
				       {"label", OPT_STR, &label},
				       {NULL, 0, NULL}};
	struct loy_tx tx;

	PARSE(opts);
	NEED(key, "terminal-key");
	tx_init(&tx, kind);
	if (pubkey_arg(c, &u, key, tx.u.terminal.terminal) ||
	    str_field(c, &u, tx.u.terminal.label, sizeof tx.u.terminal.label,
		      label, "label"))
		return CLI_USAGE;
	return cli_tx_finish(c, &tx);
}

static int terminal_add(struct cli *c, int argc, char **argv)
{
	return terminal_tx(c, argc, argv, LOY_TX_TERMINAL_ADD);
}

static int terminal_remove(struct cli *c, int argc, char **argv)
{
	return terminal_tx(c, argc, argv, LOY_TX_TERMINAL_REMOVE);
}

int cmd_terminal(struct cli *c, int argc, char **argv)
{
	static const struct cli_cmd cmds[] = {
	    {"add", terminal_add, "bind a POS key to the signing member"},
	    {"remove", terminal_remove, "unbind it"},
	    {NULL, NULL, NULL}};
	return cli_dispatch(c, "terminal", cmds, argc, argv);
}

/* --- rule --- */

static int rule_set(struct cli *c, int argc, char **argv)
{
	static const struct cli_usage u = {
	    "loyctl rule set --rate NUM[/DEN] [--min-purchase N] [--from T] "
	    "[--until T]",
	    "Sets the signing member's earning rule: points = purchase * NUM / "
	    "DEN\n"
	    "(rounded down) for purchases of at least --min-purchase, inside "
	    "the\n"
	    "optional window (T: YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS]Z or ms).",
	    "  --rate N/D          points per purchase unit, e.g. 1/10\n"
	    "  --min-purchase N    smallest purchase that earns (default 0)\n"
	    "  --from T --until T  validity window (default: always)\n",
	    "  loyctl rule set --rate 1/10 --min-purchase 100 --key "
	    "node1/validator.key\n"};
	const char *rate = NULL, *min = NULL, *from = NULL, *until = NULL;
	const struct cli_opt opts[] = {{"rate", OPT_STR, &rate},
				       {"min-purchase", OPT_STR, &min},
				       {"from", OPT_STR, &from},
				       {"until", OPT_STR, &until},
				       {NULL, 0, NULL}};
	struct loy_tx tx;
	struct loy_tx_rule_set *b = &tx.u.rule_set;

	PARSE(opts);
	NEED(rate, "rate");
	tx_init(&tx, LOY_TX_RULE_SET);
	if (rate_arg(rate, &b->rate_num, &b->rate_den) != 0)
		return bad(c, &u, "--rate (N or N/D)", rate);
	if (min && cli_parse_u64(min, &b->min_purchase) != 0)
		return bad(c, &u, "--min-purchase", min);
	if (window_args(c, &u, from, until, &b->valid_from_ms,
			&b->valid_until_ms))
		return CLI_USAGE;
	return cli_tx_finish(c, &tx);
}

int cmd_rule(struct cli *c, int argc, char **argv)
{
	static const struct cli_cmd cmds[] = {
	    {"set", rule_set, "set the member's earning rule"},
	    {NULL, NULL, NULL}};
	return cli_dispatch(c, "rule", cmds, argc, argv);
}

/* --- partnership --- */

static int partnership_create(struct cli *c, int argc, char **argv)
{
	static const struct cli_usage u = {
	    "loyctl partnership create --name NAME --rate NUM[/DEN] [--bonus "
	    "N] [--min-purchase N] [--from T] [--until T]",
	    "Creates a multi-merchant partnership with its own earning terms: "
	    "points =\n"
	    "purchase * NUM / DEN + bonus. The signing member is its creator "
	    "and\n"
	    "approves who joins.",
	    "  --name NAME         the partnership's name\n"
	    "  --rate N/D          points per purchase unit\n"
	    "  --bonus N           points added per qualifying purchase\n"
	    "  --min-purchase N    smallest qualifying purchase\n"
	    "  --from T --until T  validity window\n",
	    "  loyctl partnership create --name city-card --rate 1/20 --bonus "
	    "5 --key node1/validator.key\n"};
	const char *name = NULL, *rate = NULL, *bonus = NULL, *min = NULL,
		   *from = NULL, *until = NULL;
	const struct cli_opt opts[] = {{"name", OPT_STR, &name},
				       {"rate", OPT_STR, &rate},
				       {"bonus", OPT_STR, &bonus},
				       {"min-purchase", OPT_STR, &min},
				       {"from", OPT_STR, &from},
				       {"until", OPT_STR, &until},
				       {NULL, 0, NULL}};
	struct loy_tx tx;
	struct loy_tx_partnership_create *b = &tx.u.partnership_create;

	PARSE(opts);
	NEED(name, "name");
	NEED(rate, "rate");
	tx_init(&tx, LOY_TX_PARTNERSHIP_CREATE);
	if (str_field(c, &u, b->name, sizeof b->name, name, "name"))
		return CLI_USAGE;
	if (rate_arg(rate, &b->rate_num, &b->rate_den) != 0)
		return bad(c, &u, "--rate (N or N/D)", rate);
	if (bonus && cli_parse_u64(bonus, &b->bonus) != 0)
		return bad(c, &u, "--bonus", bonus);
	if (min && cli_parse_u64(min, &b->min_purchase) != 0)
		return bad(c, &u, "--min-purchase", min);
	if (window_args(c, &u, from, until, &b->valid_from_ms,
			&b->valid_until_ms))
		return CLI_USAGE;
	return cli_tx_finish(c, &tx);
}

static int partnership_member_tx(struct cli *c, int argc, char **argv,
				 uint8_t kind)
{
	static const struct cli_usage u = {
	    "loyctl partnership join|leave --name NAME [--member ID]",
	    "join: signed by a member, requests to join (--member defaults to "
	    "the\n"
	    "signer); signed by the creator naming --member, approves that "
	    "request.\n"
	    "leave: the signing member leaves.",
	    "  --name NAME    the partnership\n"
	    "  --member ID    the member joining (default: the signer)\n",
	    "  loyctl partnership join --name city-card --key "
	    "node2/validator.key\n"
	    "  loyctl partnership join --name city-card --member loy... --key "
	    "node1/validator.key\n"};
	const char *name = NULL, *member = NULL;
	const struct cli_opt opts[] = {{"name", OPT_STR, &name},
				       {"member", OPT_STR, &member},
				       {NULL, 0, NULL}};
	struct loy_tx tx;
	struct loy_tx_partnership_member *b = &tx.u.partnership_member;
	int rv;

	PARSE(opts);
	NEED(name, "name");
	tx_init(&tx, kind);
	if (str_field(c, &u, b->name, sizeof b->name, name, "name"))
		return CLI_USAGE;
	if (member) {
		if (cli_parse_id(member, b->member) != 0)
			return bad(c, &u, "--member (a loyalty ID)", member);
	} else {
		uint8_t pk[LOY_PUBKEY_SIZE];
		if ((rv = cli_load_key(c)) != 0)
			return rv;
		loy_seckey_pubkey(pk, c->sk);
		loy_id_from_pubkey(b->member, pk);
	}
	return cli_tx_finish(c, &tx);
}

static int partnership_join(struct cli *c, int argc, char **argv)
{
	return partnership_member_tx(c, argc, argv, LOY_TX_PARTNERSHIP_JOIN);
}

static int partnership_leave(struct cli *c, int argc, char **argv)
{
	return partnership_member_tx(c, argc, argv, LOY_TX_PARTNERSHIP_LEAVE);
}

int cli_partnership_show(struct cli *c, int argc, char **argv);

int cmd_partnership(struct cli *c, int argc, char **argv)
{
	static const struct cli_cmd cmds[] = {
	    {"create", partnership_create,
	     "create a partnership with its terms"},
	    {"join", partnership_join, "request to join, or approve a request"},
	    {"leave", partnership_leave, "leave a partnership"},
	    {"show", cli_partnership_show, "a partnership's terms and members"},
	    {NULL, NULL, NULL}};
	if (c->sign.active && argc >= 2 && strcmp(argv[1], "show") == 0) {
		cli_err(c, "partnership show is a query, not a transaction");
		return CLI_USAGE;
	}
	return cli_dispatch(c, "partnership", cmds, argc, argv);
}

/* --- reward --- */

static int reward_issue(struct cli *c, int argc, char **argv)
{
	static const struct cli_usage u = {
	    "loyctl reward issue --customer ID --purchase N --reference REF "
	    "[--reason TEXT] [--partnership NAME]",
	    "Gives a customer points for a purchase, computed by the ledger "
	    "from the\n"
	    "signing member's rule (or the partnership's). Signed by a member "
	    "or one\n"
	    "of its terminals (the member is implicit). The reference is "
	    "unique per\n"
	    "member forever, so a retry after a timeout never earns twice. "
	    "Reason\n"
	    "'topup' loads the purchase amount 1:1 (points paid for at the "
	    "counter).",
	    "  --customer ID        the customer's loyalty ID\n"
	    "  --purchase N         purchase amount (integer currency units)\n"
	    "  --reference REF      the till's receipt number (unique per "
	    "member)\n"
	    "  --reason TEXT        'purchase' (default), 'topup', ...\n"
	    "  --partnership NAME   earn under a partnership's terms\n",
	    "  loyctl reward issue --customer loy... --purchase 1200 "
	    "--reference till1-0001 --key till1.key\n"};
	const char *cust = NULL, *purchase = NULL, *ref = NULL, *reason = NULL,
		   *pship = NULL;
	const struct cli_opt opts[] = {
	    {"customer", OPT_STR, &cust},     {"purchase", OPT_STR, &purchase},
	    {"reference", OPT_STR, &ref},     {"reason", OPT_STR, &reason},
	    {"partnership", OPT_STR, &pship}, {NULL, 0, NULL}};
	struct loy_tx tx;
	struct loy_tx_reward_issue *b = &tx.u.reward_issue;

	PARSE(opts);
	NEED(cust, "customer");
	NEED(purchase, "purchase");
	NEED(ref, "reference");
	tx_init(&tx, LOY_TX_REWARD_ISSUE);
	if (cli_parse_id(cust, b->customer) != 0)
		return bad(c, &u, "--customer (a loyalty ID)", cust);
	if (cli_parse_u64(purchase, &b->purchase) != 0)
		return bad(c, &u, "--purchase (a non-negative integer)",
			   purchase);
	if (str_field(c, &u, b->reference, sizeof b->reference, ref,
		      "reference") ||
	    str_field(c, &u, b->reason, sizeof b->reason,
		      reason ? reason : "purchase", "reason") ||
	    str_field(c, &u, b->partnership, sizeof b->partnership, pship,
		      "partnership"))
		return CLI_USAGE;
	return cli_tx_finish(c, &tx);
}

static int reward_reverse(struct cli *c, int argc, char **argv)
{
	static const struct cli_usage u = {
	    "loyctl reward reverse --issue-ref REF --reference REF [--reason "
	    "TEXT]",
	    "A refund or return: the issuing member takes back the points of "
	    "an\n"
	    "earlier reward issue, named by that issue's reference (the "
	    "receipt).\n"
	    "Rejected if the customer already spent them.",
	    "  --issue-ref REF   the reference the reward issue was given\n"
	    "  --reference REF   this reversal's own unique reference\n"
	    "  --reason TEXT     why (default 'refund')\n",
	    "  loyctl reward reverse --issue-ref receipt-0042 --reference "
	    "refund-0001 --key node1/validator.key\n"};
	const char *issue = NULL, *ref = NULL, *reason = NULL;
	const struct cli_opt opts[] = {{"issue-ref", OPT_STR, &issue},
				       {"reference", OPT_STR, &ref},
				       {"reason", OPT_STR, &reason},
				       {NULL, 0, NULL}};
	struct loy_tx tx;
	struct loy_tx_reward_reverse *b = &tx.u.reward_reverse;

	PARSE(opts);
	NEED(issue, "issue-ref");
	NEED(ref, "reference");
	tx_init(&tx, LOY_TX_REWARD_REVERSE);
	if (str_field(c, &u, b->issue_ref, sizeof b->issue_ref, issue,
		      "issue-ref") ||
	    str_field(c, &u, b->reference, sizeof b->reference, ref,
		      "reference") ||
	    str_field(c, &u, b->reason, sizeof b->reason,
		      reason ? reason : "refund", "reason"))
		return CLI_USAGE;
	return cli_tx_finish(c, &tx);
}

int cmd_reward(struct cli *c, int argc, char **argv)
{
	static const struct cli_cmd cmds[] = {
	    {"issue", reward_issue, "points for a purchase"},
	    {"reverse", reward_reverse, "take back an earlier issue (refund)"},
	    {NULL, NULL, NULL}};
	return cli_dispatch(c, "reward", cmds, argc, argv);
}

/* --- redeem, transfer, settle --- */

int cmd_redeem(struct cli *c, int argc, char **argv)
{
	static const struct cli_usage u = {
	    "loyctl redeem --member ID --amount N --reference REF [--memo "
	    "TEXT] --key CUSTOMER.key",
	    "The customer spends points at a member (a payment or a discount).",
	    "  --member ID       where the points are spent\n"
	    "  --amount N        points\n"
	    "  --reference REF   unique per customer\n"
	    "  --memo TEXT       a note\n",
	    "  loyctl redeem --member loy... --amount 60 --reference pos7-0042 "
	    "--key alice.key\n"};
	const char *member = NULL, *amount = NULL, *ref = NULL, *memo = NULL;
	const struct cli_opt opts[] = {{"member", OPT_STR, &member},
				       {"amount", OPT_STR, &amount},
				       {"reference", OPT_STR, &ref},
				       {"memo", OPT_STR, &memo},
				       {NULL, 0, NULL}};
	struct loy_tx tx;
	struct loy_tx_redeem *b = &tx.u.redeem;

	PARSE(opts);
	NEED(member, "member");
	NEED(amount, "amount");
	NEED(ref, "reference");
	tx_init(&tx, LOY_TX_REDEEM);
	if (cli_parse_id(member, b->member) != 0)
		return bad(c, &u, "--member (a loyalty ID)", member);
	if (cli_parse_u64(amount, &b->amount) != 0)
		return bad(c, &u, "--amount", amount);
	if (str_field(c, &u, b->reference, sizeof b->reference, ref,
		      "reference") ||
	    str_field(c, &u, b->memo, sizeof b->memo, memo, "memo"))
		return CLI_USAGE;
	return cli_tx_finish(c, &tx);
}

int cmd_transfer(struct cli *c, int argc, char **argv)
{
	static const struct cli_usage u = {
	    "loyctl transfer --to ID --amount N --reference REF [--memo TEXT] "
	    "--key CUSTOMER.key",
	    "Moves points from the signing customer to another customer.",
	    "  --to ID           the receiving customer\n"
	    "  --amount N        points\n"
	    "  --reference REF   unique per customer\n"
	    "  --memo TEXT       a note\n",
	    "  loyctl transfer --to loy... --amount 25 --reference gift-1 "
	    "--key alice.key\n"};
	const char *to = NULL, *amount = NULL, *ref = NULL, *memo = NULL;
	const struct cli_opt opts[] = {{"to", OPT_STR, &to},
				       {"amount", OPT_STR, &amount},
				       {"reference", OPT_STR, &ref},
				       {"memo", OPT_STR, &memo},
				       {NULL, 0, NULL}};
	struct loy_tx tx;
	struct loy_tx_transfer *b = &tx.u.transfer;

	PARSE(opts);
	NEED(to, "to");
	NEED(amount, "amount");
	NEED(ref, "reference");
	tx_init(&tx, LOY_TX_TRANSFER);
	if (cli_parse_id(to, b->to) != 0)
		return bad(c, &u, "--to (a loyalty ID)", to);
	if (cli_parse_u64(amount, &b->amount) != 0)
		return bad(c, &u, "--amount", amount);
	if (str_field(c, &u, b->reference, sizeof b->reference, ref,
		      "reference") ||
	    str_field(c, &u, b->memo, sizeof b->memo, memo, "memo"))
		return CLI_USAGE;
	return cli_tx_finish(c, &tx);
}

int cmd_settle(struct cli *c, int argc, char **argv)
{
	static const struct cli_usage u = {
	    "loyctl settle --counterparty ID --amount N --reference REF "
	    "[--confirm HASH]",
	    "Records an off-chain payment of N to the counterparty member, "
	    "clearing part\n"
	    "of a settlement position. The counterparty confirms it with its "
	    "own settle\n"
	    "naming --confirm HASH (the first settle's transaction).",
	    "  --counterparty ID   the other member\n"
	    "  --amount N          currency units paid\n"
	    "  --reference REF     the payment's reference\n"
	    "  --confirm HASH      confirm the counterparty's settle "
	    "transaction\n",
	    "  loyctl settle --counterparty loy... --amount 540 --reference "
	    "wire-2024-07 --key node1/validator.key\n"};
	const char *cp = NULL, *amount = NULL, *ref = NULL, *confirm = NULL;
	const struct cli_opt opts[] = {{"counterparty", OPT_STR, &cp},
				       {"amount", OPT_STR, &amount},
				       {"reference", OPT_STR, &ref},
				       {"confirm", OPT_STR, &confirm},
				       {NULL, 0, NULL}};
	struct loy_tx tx;
	struct loy_tx_settle *b = &tx.u.settle;

	PARSE(opts);
	NEED(cp, "counterparty");
	NEED(amount, "amount");
	NEED(ref, "reference");
	tx_init(&tx, LOY_TX_SETTLE);
	if (cli_parse_id(cp, b->counterparty) != 0)
		return bad(c, &u, "--counterparty (a loyalty ID)", cp);
	if (cli_parse_u64(amount, &b->amount) != 0)
		return bad(c, &u, "--amount", amount);
	if (confirm && cli_parse_hash(confirm, b->confirm) != 0)
		return bad(c, &u, "--confirm (64 hex digits)", confirm);
	if (str_field(c, &u, b->reference, sizeof b->reference, ref,
		      "reference"))
		return CLI_USAGE;
	return cli_tx_finish(c, &tx);
}

/* The commands loyctl sign accepts. */
int cli_tx_command(struct cli *c, int argc, char **argv)
{
	static const struct cli_cmd cmds[] = {
	    {"customer", cmd_customer, ""},
	    {"member", cmd_member, ""},
	    {"terminal", cmd_terminal, ""},
	    {"rule", cmd_rule, ""},
	    {"partnership", cmd_partnership, ""},
	    {"reward", cmd_reward, ""},
	    {"redeem", cmd_redeem, ""},
	    {"transfer", cmd_transfer, ""},
	    {"coupon", cmd_coupon, ""},
	    {"settle", cmd_settle, ""},
	    {NULL, NULL, NULL}};
	return cli_dispatch(c, "sign", cmds, argc, argv);
}
