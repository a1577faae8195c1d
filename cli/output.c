/* loyctl output: messages (colour only on a terminal, never with --json),
 * JSON printing and aligned text tables. */
#include "cli/cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wire/crypto.h"

void cli_init(struct cli *c)
{
	memset(c, 0, sizeof *c);
	c->out = stdout;
	c->err = stderr;
}

void cli_fini(struct cli *c)
{
	loy_wipe(c->sk, sizeof c->sk);
	c->have_key = false;
}

void cli_err(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(c->err, "%sloyctl: ", c->color_err ? "\033[31m" : "");
	va_start(ap, fmt);
	vfprintf(c->err, fmt, ap);
	va_end(ap);
	fprintf(c->err, "%s\n", c->color_err ? "\033[0m" : "");
}

void cli_ok(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	if (c->color_out)
		fputs("\033[32m", c->out);
	va_start(ap, fmt);
	vfprintf(c->out, fmt, ap);
	va_end(ap);
	fprintf(c->out, "%s\n", c->color_out ? "\033[0m" : "");
}

void cli_print_json(struct cli *c, const json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	if (s) {
		fprintf(c->out, "%s\n", s);
		free(s);
	} else {
		fprintf(c->out, "null\n");
	}
}

/* --- tables --- */

static char *dupstr(const char *s)
{
	size_t n = strlen(s ? s : "") + 1;
	char *p = malloc(n);

	if (p)
		memcpy(p, s ? s : "", n);
	return p;
}

static bool numeric(const char *s)
{
	if (*s == '-' || *s == '+')
		s++;
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if ((*s < '0' || *s > '9') && *s != '.' && *s != ',')
			return false;
	return true;
}

int cli_table_init(struct cli_table *t, int cols, const char *const *header)
{
	memset(t, 0, sizeof *t);
	if (cols < 1 || cols > 16)
		return -1;
	t->cols = cols;
	for (int i = 0; i < cols; i++)
		t->right[i] = true; /* until a non-numeric cell shows up */
	return cli_table_add(t, header);
}

int cli_table_add(struct cli_table *t, const char *const *row)
{
	if (t->rows == t->cap) {
		int cap = t->cap ? 2 * t->cap : 16;
		char **p = realloc(t->cells,
				   (size_t)cap * (size_t)t->cols * sizeof *p);
		if (p == NULL)
			return -1;
		t->cells = p;
		t->cap = cap;
	}
	for (int i = 0; i < t->cols; i++) {
		t->cells[t->rows * t->cols + i] = dupstr(row[i]);
		if (t->rows > 0 && row[i] && row[i][0] && !numeric(row[i]))
			t->right[i] = false;
	}
	t->rows++;
	return 0;
}

char *cli_table_render(const struct cli_table *t)
{
	size_t w[16] = {0}, total = 0, off = 0;
	char *out;

	for (int r = 0; r < t->rows; r++)
		for (int i = 0; i < t->cols; i++) {
			const char *s = t->cells[r * t->cols + i];
			size_t n = s ? strlen(s) : 0;
			if (n > w[i])
				w[i] = n;
		}
	for (int i = 0; i < t->cols; i++)
		total += w[i] + 2;
	total = (total + 1) * (size_t)(t->rows + 1) + 1;
	out = malloc(total);
	if (out == NULL)
		return NULL;
	for (int r = 0; r < t->rows; r++) {
		size_t line_start = off;
		for (int i = 0; i < t->cols; i++) {
			const char *s = t->cells[r * t->cols + i];
			int pad = (int)w[i];
			bool last = i == t->cols - 1;
			if (t->right[i] && r > 0)
				off += (size_t)snprintf(out + off, total - off,
							"%*s", pad, s ? s : "");
			else if (t->right[i])
				off += (size_t)snprintf(out + off, total - off,
							"%*s", pad, s ? s : "");
			else
				off += (size_t)snprintf(out + off, total - off,
							"%-*s", last ? 0 : pad,
							s ? s : "");
			if (!last)
				off += (size_t)snprintf(out + off, total - off,
							"  ");
		}
		while (off > line_start && out[off - 1] == ' ')
			off--;
		out[off++] = '\n';
		out[off] = '\0';
	}
	out[off] = '\0';
	return out;
}

void cli_table_print(struct cli *c, struct cli_table *t)
{
	char *s = cli_table_render(t);

	if (s) {
		if (c->color_out) {
			/* the header line in bold */
			char *nl = strchr(s, '\n');
			fprintf(c->out, "\033[1m%.*s\033[0m%s", (int)(nl - s),
				s, nl);
		} else {
			fputs(s, c->out);
		}
		free(s);
	}
}

void cli_table_free(struct cli_table *t)
{
	for (int i = 0; i < t->rows * t->cols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof *t);
}
