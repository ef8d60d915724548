/* log: role-tagged messages on stderr. Formatting into one buffer and one write(2) keeps
 * lines whole when the primary, the zygote and children share a terminal. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"

static enum dpdkmp_role cur_role;
static int cur_level = -1;

static const char *const role_names[] = {
	[DPDKMP_ROLE_CLI] = "dpdkmp", [DPDKMP_ROLE_PRIMARY] = "primary",
	[DPDKMP_ROLE_ZYGOTE] = "zygote", [DPDKMP_ROLE_CHILD] = "child",
	[DPDKMP_ROLE_LAUNCHER] = "launcher", [DPDKMP_ROLE_BROKER] = "broker",
};
static const char *const level_names[] = { "error", "warning", "info", "debug" };

void dpdkmp_log_set_role(enum dpdkmp_role role)
{
	cur_role = role;
}

enum dpdkmp_role dpdkmp_log_role(void)
{
	return cur_role;
}

int dpdkmp_log_level(void)
{
	if (cur_level < 0) {
		const char *e = getenv("DPDKMP_LOG");

		cur_level = DPDKMP_LOG_WARN;
		for (int i = 0; e && i < 4; i++)
			if (!strcasecmp(e, level_names[i]))
				cur_level = i;
	}
	return cur_level;
}

void dpdkmp_log(int level, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	int n, m;

	if (level > dpdkmp_log_level())
		return;
	n = snprintf(buf, sizeof(buf), "dpdkmp[%s %d]: %s%s", role_names[cur_role], (int)getpid(),
		     level <= DPDKMP_LOG_WARN ? level_names[level] : "",
		     level <= DPDKMP_LOG_WARN ? ": " : "");
	va_start(ap, fmt);
	m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	if (buf[n - 1] != '\n')
		buf[n++] = '\n';
	if (write(STDERR_FILENO, buf, (size_t)n) < 0) {
		/* nowhere left to report it */
	}
}
