/* loyctl watch: subscribe to committed events (all, one member's or one
 * customer's) and print them until interrupted. */
#include "cli/cli.h"

#include <signal.h>
#include <string.h>

#include "wire/error.h"

/* Set by SIGINT/SIGTERM; a signal handler can only reach a global. */
static volatile sig_atomic_t watch_stop;

static void on_signal(int sig)
{
	(void)sig;
	watch_stop = 1;
}

/* One line per event: height, kind, the fields that matter, the result. */
static void print_event(struct cli *c, const json_t *o)
{
	static const char *const keys[] = {
	    "customer", "member",  "to",        "purchase", "amount",
	    "value",    "coupons", "reference", "site",     "name"};
	const char *result = json_string_value(json_object_get(o, "result"));
	const char *msg = json_string_value(json_object_get(o, "message"));
	bool ok = result && strcmp(result, "ok") == 0;

	fprintf(c->out, "%6lld  %-18s %s",
		(long long)json_integer_value(json_object_get(o, "height")),
		json_string_value(json_object_get(o, "kind")),
		json_string_value(json_object_get(o, "signer")));
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		json_t *v = json_object_get(o, keys[i]);
		if (json_is_integer(v))
			fprintf(c->out, " %s=%lld", keys[i],
				(long long)json_integer_value(v));
		else if (json_is_string(v) && json_string_value(v)[0])
			fprintf(c->out, " %s=%s", keys[i],
				json_string_value(v));
	}
	if (ok)
		fprintf(c->out, "  %sok%s\n", c->color_out ? "\033[32m" : "",
			c->color_out ? "\033[0m" : "");
	else
		fprintf(c->out, "  %srejected: %s%s\n",
			c->color_out ? "\033[31m" : "",
			msg      ? msg
			: result ? result
				 : "?",
			c->color_out ? "\033[0m" : "");
	fflush(c->out);
}

static const struct cli_usage watch_usage = {
    "loyctl watch [--member ID | --customer ID] [--count N]",
    "Streams committed transactions as they are finalised (rewards,\n"
    "redemptions, coupons...) touching a member or a customer, or all of "
    "them,\n"
    "until interrupted (Ctrl-C). --json prints one JSON object a line.",
    "  --member ID     events of one member (and its terminals' transactions)\n"
    "  --customer ID   events of one customer\n"
    "  --count N       stop after N events\n",
    "  loyctl watch --member loy...\n  loyctl watch --customer loy... --json\n",
};

int cmd_watch(struct cli *c, int argc, char **argv)
{
	const char *member = NULL, *customer = NULL, *count_s = NULL;
	const struct cli_opt opts[] = {{"member", OPT_STR, &member},
				       {"customer", OPT_STR, &customer},
				       {"count", OPT_STR, &count_s},
				       {NULL, 0, NULL}};
	struct loy_client_request q;
	struct loy_client_response r;
	struct cli_conn cn;
	struct sigaction sa, old_int, old_term;
	uint64_t count = 0, seen = 0;
	int np, rv = cli_parse(c, argc, argv, opts, NULL, 0, &np, &watch_usage);

	if (rv)
		return rv;
	memset(&q, 0, sizeof q);
	q.kind = LOY_CLIENT_SUBSCRIBE;
	q.subscribe.filter = LOY_SUB_ALL;
	if (member && customer)
		return cli_usage_error(c, &watch_usage,
				       "give --member or --customer, not both");
	if (member || customer) {
		q.subscribe.filter = member ? LOY_SUB_MEMBER : LOY_SUB_CUSTOMER;
		if (cli_parse_id(member ? member : customer, q.subscribe.id) !=
		    0)
			return cli_usage_error(c, &watch_usage,
					       "'%s' is not a loyalty ID",
					       member ? member : customer);
	}
	if (count_s && cli_parse_u64(count_s, &count) != 0)
		return cli_usage_error(c, &watch_usage,
				       "--count must be a number");
	if ((rv = cli_connect(c, &cn)) != 0)
		return rv;
	rv = cli_conn_call(&cn, &q, &r);
	if (rv != 0 || r.code != 0) {
		cli_err(c, "subscribe: %s", rv ? cn.err : r.message);
		if (rv == 0)
			loy_client_response_free(&r);
		cli_conn_close(&cn);
		return rv ? rv : CLI_FAIL;
	}
	loy_client_response_free(&r);
	if (!c->json)
		fprintf(c->err, "watching %s on %s (Ctrl-C to stop)\n",
			member     ? member
			: customer ? customer
				   : "all events",
			c->node);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal; /* no SA_RESTART: the read returns */
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	watch_stop = 0;
	cn.timeout_ms = -1;
	while (!watch_stop && (count == 0 || seen < count)) {
		uint8_t kind;
		struct loy_client_event e;
		json_t *o;
		rv = cli_conn_read(&cn, &kind, &r, &e);
		if (rv != 0) {
			if (watch_stop)
				rv = CLI_OK;
			else
				cli_err(c, "%s",
					cn.err[0] ? cn.err
						  : "read interrupted");
			break;
		}
		if (kind == LOY_CLIENT_RESPONSE) {
			loy_client_response_free(&r);
			continue;
		}
		seen++;
		if (c->json) {
			fprintf(c->out, "%.*s\n", (int)e.event.len,
				(const char *)e.event.data);
			fflush(c->out);
		} else if ((o = json_loadb((const char *)e.event.data,
					   e.event.len, 0, NULL)) != NULL) {
			print_event(c, o);
			json_decref(o);
		}
		loy_client_event_free(&e);
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	cli_conn_close(&cn);
	if (watch_stop || (count && seen >= count))
		rv = CLI_OK;
	return rv;
}
