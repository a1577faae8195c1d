/* Command-line parsing for loyctl: --options, usage/help text, and the
 * value parsers (amounts, dates, micro-degrees, IDs, hashes). */
#include "cli/cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/txjson.h"
#include "wire/error.h"

void cli_print_help(struct cli *c, const struct cli_usage *u)
{
	fprintf(c->out, "usage: %s\n\n%s\n", u->usage, u->desc);
	if (u->options)
		fprintf(c->out, "\noptions:\n%s", u->options);
	fprintf(c->out,
		"\nglobal options: --node HOST:PORT  --json  --key FILE  "
		"--passphrase-file FILE  --no-wait\n");
	if (u->example)
		fprintf(c->out, "\nexample:\n%s", u->example);
}

int cli_usage_error(struct cli *c, const struct cli_usage *u, const char *fmt,
		    ...)
{
	va_list ap;

	fprintf(c->err, "%sloyctl: ", c->color_err ? "\033[31m" : "");
	va_start(ap, fmt);
	vfprintf(c->err, fmt, ap);
	va_end(ap);
	fprintf(c->err, "%s\n", c->color_err ? "\033[0m" : "");
	if (u)
		fprintf(c->err, "usage: %s\n(see --help)\n", u->usage);
	return CLI_USAGE;
}

static const struct cli_opt *find_opt(const struct cli_opt *opts,
				      const char *name, size_t n)
{
	for (; opts && opts->name; opts++)
		if (strlen(opts->name) == n &&
		    strncmp(opts->name, name, n) == 0)
			return opts;
	return NULL;
}

int cli_parse(struct cli *c, int argc, char **argv, const struct cli_opt *opts,
	      const char **pos, int max_pos, int *npos,
	      const struct cli_usage *u)
{
	int np = 0;
	bool only_pos = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!only_pos &&
		    (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
			cli_print_help(c, u);
			return CLI_HELP;
		}
		if (!only_pos && strcmp(a, "--") == 0) {
			only_pos = true;
			continue;
		}
		if (!only_pos && a[0] == '-' && a[1] == '-') {
			const char *name = a + 2, *eq = strchr(name, '=');
			size_t n = eq ? (size_t)(eq - name) : strlen(name);
			const struct cli_opt *o = find_opt(opts, name, n);
			const char *val = eq ? eq + 1 : NULL;
			if (o == NULL)
				return cli_usage_error(c, u,
						       "unknown option --%.*s",
						       (int)n, name);
			if (o->type == OPT_FLAG) {
				if (val)
					return cli_usage_error(
					    c, u, "--%s takes no value",
					    o->name);
				*(bool *)o->dst = true;
				continue;
			}
			if (val == NULL) {
				if (i + 1 >= argc)
					return cli_usage_error(
					    c, u, "--%s needs a value",
					    o->name);
				val = argv[++i];
			}
			if (o->type == OPT_STR) {
				*(const char **)o->dst = val;
			} else {
				struct cli_list *l = o->dst;
				if (l->n >= CLI_LIST_MAX)
					return cli_usage_error(
					    c, u, "too many --%s", o->name);
				l->v[l->n++] = val;
			}
			continue;
		}
		if (np >= max_pos)
			return cli_usage_error(c, u, "unexpected argument '%s'",
					       a);
		pos[np++] = a;
	}
	if (npos)
		*npos = np;
	return 0;
}

int cli_dispatch(struct cli *c, const char *family, const struct cli_cmd *cmds,
		 int argc, char **argv)
{
	if (argc >= 2 && argv[1][0] != '-') {
		for (const struct cli_cmd *k = cmds; k->name; k++)
			if (strcmp(k->name, argv[1]) == 0)
				return k->fn(c, argc - 1, argv + 1);
	}
	if (argc >= 2 &&
	    (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	     strcmp(argv[1], "help") == 0)) {
		fprintf(c->out,
			"usage: loyctl %s <command> [options]\n\ncommands:\n",
			family);
		for (const struct cli_cmd *k = cmds; k->name; k++)
			fprintf(c->out, "  %-10s %s\n", k->name, k->desc);
		fprintf(c->out,
			"\n'loyctl %s <command> --help' shows each one's "
			"options.\n",
			family);
		return CLI_HELP;
	}
	if (argc >= 2)
		cli_err(c, "unknown command '%s %s'", family, argv[1]);
	else
		cli_err(c, "'%s' needs a command", family);
	fprintf(c->err, "usage: loyctl %s {", family);
	for (const struct cli_cmd *k = cmds; k->name; k++)
		fprintf(c->err, "%s%s", k->name, k[1].name ? "|" : "");
	fprintf(c->err, "} [options]\n");
	return CLI_USAGE;
}

/* --- values --- */

int cli_parse_u64(const char *s, uint64_t *v)
{
	uint64_t x = 0;

	if (s == NULL || *s == '\0')
		return -1;
	for (const char *p = s; *p; p++) {
		unsigned d;
		if (*p == '_' && p != s && p[1] != '\0')
			continue; /* 1_000_000 */
		if (*p < '0' || *p > '9')
			return -1;
		d = (unsigned)(*p - '0');
		if (x > (UINT64_MAX - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	*v = x;
	return 0;
}

int cli_parse_u32(const char *s, uint32_t *v)
{
	uint64_t x;

	if (cli_parse_u64(s, &x) != 0 || x > UINT32_MAX)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

int cli_parse_udeg(const char *s, int32_t max_deg, int32_t *v)
{
	bool neg = false;
	int64_t whole = 0, frac = 0;
	int fdigits = 0, wdigits = 0;
	const char *p = s;

	if (s == NULL)
		return -1;
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	for (; *p >= '0' && *p <= '9'; p++, wdigits++) {
		whole = whole * 10 + (*p - '0');
		if (whole > 1000)
			return -1;
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++) {
			if (fdigits == 6)
				return -1; /* finer than a micro-degree */
			frac = frac * 10 + (*p - '0');
			fdigits++;
		}
		if (fdigits == 0)
			return -1;
	}
	if (*p != '\0' || wdigits == 0)
		return -1;
	for (; fdigits < 6; fdigits++)
		frac *= 10;
	{
		int64_t x = whole * 1000000 + frac;
		if (x > (int64_t)max_deg * 1000000)
			return -1;
		*v = (int32_t)(neg ? -x : x);
	}
	return 0;
}

int cli_parse_geo(const char *s, struct loy_geo *g, uint32_t *radius,
		  int want_radius)
{
	char buf[96], *parts[4];
	int n = 0;

	if (s == NULL || strlen(s) >= sizeof buf)
		return -1;
	strcpy(buf, s);
	for (char *p = buf, *tok; (tok = strsep(&p, ",")) != NULL;) {
		if (n == 3)
			return -1;
		while (*tok == ' ')
			tok++;
		parts[n++] = tok;
	}
	if (n != (want_radius ? 3 : 2))
		return -1;
	if (cli_parse_udeg(parts[0], 90, &g->lat_udeg) != 0 ||
	    cli_parse_udeg(parts[1], 180, &g->lon_udeg) != 0)
		return -1;
	if (want_radius &&
	    (cli_parse_u32(parts[2], radius) != 0 || *radius == 0))
		return -1;
	return 0;
}

int64_t cli_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (int64_t)(m > 2 ? m - 3 : m + 9) + 2) / 5 + (int64_t)d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	*y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y += *m <= 2;
}

static int fixed_digits(const char *s, int n, unsigned *v)
{
	unsigned x = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		x = x * 10 + (unsigned)(s[i] - '0');
	}
	*v = x;
	return 0;
}

static int parse_date(const char *s, int64_t *days)
{
	unsigned y, m, d;
	static const unsigned mdays[] = {31, 29, 31, 30, 31, 30,
					 31, 31, 30, 31, 30, 31};

	if (strlen(s) < 10 || s[4] != '-' || s[7] != '-' ||
	    fixed_digits(s, 4, &y) || fixed_digits(s + 5, 2, &m) ||
	    fixed_digits(s + 8, 2, &d))
		return -1;
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return -1;
	if (m == 2 && d == 29 &&
	    !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return -1;
	*days = cli_days_from_civil(y, m, d);
	return 0;
}

int cli_parse_day(const char *s, uint32_t *day)
{
	int64_t d;

	if (s == NULL || strlen(s) != 10 || parse_date(s, &d) != 0)
		return -1;
	*day = (uint32_t)d;
	return 0;
}

int cli_parse_time_ms(const char *s, uint64_t *ms)
{
	int64_t days;
	unsigned hh = 0, mm = 0, ss = 0;
	const char *p;

	if (s == NULL || *s == '\0')
		return -1;
	if (strchr(s, '-') == NULL)
		return cli_parse_u64(s, ms);
	if (parse_date(s, &days) != 0)
		return -1;
	p = s + 10;
	if (*p == 'T' || *p == ' ') {
		if (fixed_digits(p + 1, 2, &hh) || p[3] != ':' ||
		    fixed_digits(p + 4, 2, &mm))
			return -1;
		p += 6;
		if (*p == ':') {
			if (fixed_digits(p + 1, 2, &ss))
				return -1;
			p += 3;
		}
		if (*p == 'Z')
			p++;
		if (hh > 23 || mm > 59 || ss > 59)
			return -1;
	}
	if (*p != '\0')
		return -1;
	*ms = ((uint64_t)days * 86400u + hh * 3600u + mm * 60u + ss) * 1000u;
	return 0;
}

void cli_format_day(char *out, size_t n, int64_t day)
{
	int64_t y;
	unsigned m, d;

	civil_from_days(day, &y, &m, &d);
	snprintf(out, n, "%04lld-%02u-%02u", (long long)y, m, d);
}

void cli_format_time_ms(char *out, size_t n, uint64_t ms)
{
	uint64_t s = ms / 1000;
	char day[16];

	if (ms == 0) {
		snprintf(out, n, "-");
		return;
	}
	cli_format_day(day, sizeof day, (int64_t)(s / 86400));
	s %= 86400;
	snprintf(out, n, "%sT%02u:%02u:%02uZ", day, (unsigned)(s / 3600),
		 (unsigned)(s / 60 % 60), (unsigned)(s % 60));
}

int cli_parse_id(const char *s, uint8_t id[LOY_ID_SIZE])
{
	return s && loy_id_parse(id, s) == 0 ? 0 : -1;
}

int cli_parse_hash(const char *s, uint8_t h[LOY_HASH_SIZE])
{
	return s && strlen(s) == 2 * LOY_HASH_SIZE &&
		       loy_unhex(h, LOY_HASH_SIZE, s) == 0
		   ? 0
		   : -1;
}

int cli_parse_hostport(const char *s, char *host, size_t hostsz, uint16_t *port)
{
	const char *colon;
	uint32_t p;
	size_t hl;

	if (s == NULL)
		return -1;
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (end == NULL || end[1] != ':')
			return -1;
		hl = (size_t)(end - s - 1);
		s++;
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return -1;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= hostsz || cli_parse_u32(colon + 1, &p) != 0 ||
	    p == 0 || p > 65535)
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	*port = (uint16_t)p;
	return 0;
}

int cli_copy_field(char *dst, size_t dstsz, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (n >= dstsz)
		return -1;
	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
	return 0;
}
