/* Logger: timestamped, levelled lines on stderr, written with one call so
 * lines from threads do not interleave. */
#include "node/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

void loy_log_init(struct loy_log *l, const char *name, int level)
{
	l->level = level;
	snprintf(l->name, sizeof l->name, "%s", name);
}

void loy_logf(const struct loy_log *l, int level, const char *area,
	      const char *fmt, ...)
{
	char line[2048], ts[32];
	struct timeval tv;
	struct tm tm;
	va_list ap;
	int n;

	if (level > l->level)
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof line, "%s.%03dZ %-5s %s %s: ", ts,
		     (int)(tv.tv_usec / 1000), loy_log_level_name(level),
		     l->name, area);
	if (n < 0 || (size_t)n >= sizeof line)
		return;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	va_end(ap);
	n = (int)strlen(line);
	if ((size_t)n >= sizeof line - 1)
		n = (int)sizeof line - 2;
	line[n++] = '\n';
	fwrite(line, 1, (size_t)n, stderr);
}

void loy_log_short(char out[9], const uint8_t *bytes)
{
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < 4; i++) {
		out[2 * i] = hex[bytes[i] >> 4];
		out[2 * i + 1] = hex[bytes[i] & 15];
	}
	out[8] = '\0';
}
