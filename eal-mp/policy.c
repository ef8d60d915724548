/* policy: parsing of the fork server's policy. One syntax for the config file and for the
 * options `dpdkmp primary` passes in DPDKMP_OPTIONS, so both are checked by the same code. */
#include <cap-ng.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "policy.h"

#define MAX_CONFIG (64 * 1024)

void dpdkmp_policy_init(struct dpdkmp_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->owner = geteuid();
	p->socket_mode = 0600;
	p->socket_group = (gid_t)-1;
	p->sandbox = 1;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int parse_uint(const char *v, unsigned long max, int base, unsigned long *out)
{
	char *end;
	unsigned long n;

	if (!*v || *v == '-')
		return -EINVAL;
	errno = 0;
	n = strtoul(v, &end, base);
	if (errno || *end || n > max)
		return -EINVAL;
	*out = n;
	return 0;
}

int dpdkmp_parse_uid(const char *v, uid_t *out)
{
	unsigned long n;
	struct passwd *pw;

	if (parse_uint(v, (uid_t)-2, 10, &n) == 0) {
		*out = (uid_t)n;
		return 0;
	}
	pw = getpwnam(v);
	if (!pw)
		return -EINVAL;
	*out = pw->pw_uid;
	return 0;
}

int dpdkmp_parse_gid(const char *v, gid_t *out)
{
	unsigned long n;
	struct group *gr;

	if (parse_uint(v, (gid_t)-2, 10, &n) == 0) {
		*out = (gid_t)n;
		return 0;
	}
	gr = getgrnam(v);
	if (!gr)
		return -EINVAL;
	*out = gr->gr_gid;
	return 0;
}

static int parse_cap(const char *v, uint64_t *mask)
{
	char name[64];
	size_t i;
	int cap;

	if (!strncasecmp(v, "cap_", 4))
		v += 4;
	for (i = 0; v[i] && i < sizeof(name) - 1; i++)
		name[i] = (char)tolower((unsigned char)v[i]);
	name[i] = '\0';
	cap = capng_name_to_capability(name);
	if (cap < 0 || cap > 63)
		return -EINVAL;
	*mask |= 1ull << cap;
	return 0;
}

static int parse_bool(const char *v, int *out)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcasecmp(v, "on") || !strcmp(v, "1"))
		*out = 1;
	else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcasecmp(v, "off") || !strcmp(v, "0"))
		*out = 0;
	else
		return -EINVAL;
	return 0;
}

/* A comma-separated list, each item through fn. */
#define PARSE_LIST(v, fn, arr, n, what)                                                   \
	do {                                                                              \
		char *save = NULL, *item;                                                 \
		(n) = 0;                                                                  \
		for (item = strtok_r((v), ",", &save); item; item = strtok_r(NULL, ",", &save)) { \
			item = trim(item);                                                \
			if ((n) >= DPDKMP_POLICY_MAX_IDS)                                 \
				return bad(err, errlen, where, line, key, "at most 32 " what); \
			if (fn(item, &(arr)[(n)]) < 0)                                    \
				return bad(err, errlen, where, line, key, "unknown " what " '%s'", item); \
			(n)++;                                                            \
		}                                                                         \
	} while (0)

static int bad(char *err, size_t errlen, const char *where, int line, const char *key,
	       const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int bad(char *err, size_t errlen, const char *where, int line, const char *key,
	       const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s, line %d: %s%s%s; see docs/SECURITY.md (Configuration)", where,
		 line, key ? key : "", key ? ": " : "", msg);
	return -EINVAL;
}

static int apply(struct dpdkmp_policy *p, char *key, char *v, const char *where, int line,
		 char *err, size_t errlen)
{
	unsigned long n;

	if (!strcmp(key, "allow-uid")) {
		PARSE_LIST(v, dpdkmp_parse_uid, p->allow_uids, p->n_uids, "user");
	} else if (!strcmp(key, "allow-gid")) {
		PARSE_LIST(v, dpdkmp_parse_gid, p->allow_gids, p->n_gids, "group");
	} else if (!strcmp(key, "socket-mode")) {
		if (parse_uint(v, 0777, 8, &n) < 0 || !(n & 0200))
			return bad(err, errlen, where, line, key, "'%s' is not an octal mode that lets "
				   "the owner write (e.g. 0600, 0660)", v);
		p->socket_mode = (unsigned int)n;
	} else if (!strcmp(key, "socket-group")) {
		if (dpdkmp_parse_gid(v, &p->socket_group) < 0)
			return bad(err, errlen, where, line, key, "unknown group '%s'", v);
	} else if (!strcmp(key, "max-per-uid")) {
		if (parse_uint(v, 256, 10, &n) < 0)
			return bad(err, errlen, where, line, key, "'%s' is not a number from 0 (no "
				   "limit) to 256", v);
		p->max_per_uid = (unsigned int)n;
	} else if (!strcmp(key, "keep-cap")) {
		char *save = NULL, *item;

		for (item = strtok_r(v, ",", &save); item; item = strtok_r(NULL, ",", &save))
			if (parse_cap(trim(item), &p->keep_caps) < 0)
				return bad(err, errlen, where, line, key, "unknown capability '%s' "
					   "(e.g. CAP_SYS_RAWIO)", trim(item));
	} else if (!strcmp(key, "sandbox")) {
		if (parse_bool(v, &p->sandbox) < 0)
			return bad(err, errlen, where, line, key, "'%s' is not yes or no", v);
	} else {
		return bad(err, errlen, where, line, NULL, "unknown key '%s' (known: allow-uid, "
			   "allow-gid, socket-mode, socket-group, max-per-uid, keep-cap, sandbox)", key);
	}
	return 0;
}

int dpdkmp_policy_parse(struct dpdkmp_policy *p, const char *text, const char *where,
			char *err, size_t errlen)
{
	char *copy = strdup(text), *save = NULL, *l;
	int line = 0, ret = 0;

	if (!copy)
		return -ENOMEM;
	for (l = strtok_r(copy, "\n;", &save); l; l = strtok_r(NULL, "\n;", &save)) {
		char *hash = strchr(l, '#'), *eq, *key, *val;

		line++;
		if (hash)
			*hash = '\0';
		l = trim(l);
		if (!*l)
			continue;
		eq = strchr(l, '=');
		if (!eq) {
			ret = bad(err, errlen, where, line, NULL, "'%s' is not 'key = value'", l);
			break;
		}
		*eq = '\0';
		key = trim(l);
		val = trim(eq + 1);
		if ((ret = apply(p, key, val, where, line, err, errlen)) < 0)
			break;
	}
	free(copy);
	return ret;
}

int dpdkmp_policy_load_env(struct dpdkmp_policy *p, char *err, size_t errlen)
{
	const char *file = getenv("DPDKMP_CONFIG"), *opts = getenv("DPDKMP_OPTIONS");
	int ret;

	if (file && *file) {
		char *buf = malloc(MAX_CONFIG + 1);
		FILE *f = fopen(file, "re");
		size_t n;

		if (!buf || !f) {
			snprintf(err, errlen, "cannot read the config file %s: %s", file,
				 strerror(errno));
			free(buf);
			if (f)
				fclose(f);
			return -ENOENT;
		}
		n = fread(buf, 1, MAX_CONFIG + 1, f);
		fclose(f);
		if (n > MAX_CONFIG) {
			snprintf(err, errlen, "the config file %s is over %d bytes", file, MAX_CONFIG);
			free(buf);
			return -E2BIG;
		}
		buf[n] = '\0';
		ret = dpdkmp_policy_parse(p, buf, file, err, errlen);
		free(buf);
		if (ret < 0)
			return ret;
	}
	if (opts && *opts)
		return dpdkmp_policy_parse(p, opts, "dpdkmp primary options", err, errlen);
	return 0;
}

int dpdkmp_policy_allows(const struct dpdkmp_policy *p, uid_t uid, gid_t gid)
{
	/* The primary's own user could ptrace the primary anyway; root can do anything. */
	if (uid == 0 || uid == p->owner)
		return 1;
	for (unsigned int i = 0; i < p->n_uids; i++)
		if (p->allow_uids[i] == uid)
			return 1;
	for (unsigned int i = 0; i < p->n_gids; i++)
		if (p->allow_gids[i] == gid)
			return 1;
	return 0;
}

void dpdkmp_policy_describe(const struct dpdkmp_policy *p, char *out, size_t len)
{
	size_t o = 0;

#define PUT(...) do { int n_ = snprintf(out + o, o < len ? len - o : 0, __VA_ARGS__); \
		      if (n_ > 0) o += (size_t)n_; } while (0)
	PUT("allow-uid=");
	for (unsigned int i = 0; i < p->n_uids; i++)
		PUT("%s%u", i ? "," : "", (unsigned int)p->allow_uids[i]);
	PUT(";allow-gid=");
	for (unsigned int i = 0; i < p->n_gids; i++)
		PUT("%s%u", i ? "," : "", (unsigned int)p->allow_gids[i]);
	PUT(";socket-mode=0%o;max-per-uid=%u;sandbox=%s", p->socket_mode, p->max_per_uid,
	    p->sandbox ? "yes" : "no");
#undef PUT
}
