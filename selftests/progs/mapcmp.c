/* mapcmp: compares a class of file mappings of a DPDK primary with a live secondary, from
 * /proc/PID/maps, for t_mapping_equality.sh. Every byte the primary maps in the class must be
 * mapped in the secondary at the same address, from the same file at the same offset, with the
 * same permissions; VMAs may be split differently, so ranges are walked, not lines compared.
 *
 * usage: mapcmp [-a] [-m MAX] CLASS PREFIX PRIMARY_PID SECONDARY_PID
 *   CLASS hugepages  files <hugetlbfs>/<PREFIX>map_*   (missing and extra mappings fail)
 *         rundir     files under realpath(/var/run/dpdk/<PREFIX>)  (secondary-only ones are
 *                    listed, not failed: secondaries own per-process fbarrays)
 *         exe        the primary's executable
 *         libs       librte_*.so*: the DPDK libraries and the PMD plugins (pmds-23.0/)
 *   -a    exe, libs: a file the primary maps must be mapped by the secondary too; without -a only
 *         files mapped by both are compared
 *   -m    print at most MAX differences (default 20)
 * Output: one line per differing file (at most MAX) and a summary line.
 * Exit 0 equal, 1 different, 2 cannot compare. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "maps.h"

enum map_class { CLASS_HUGEPAGES, CLASS_RUNDIR, CLASS_EXE, CLASS_LIBS };

struct cmp_ctx {
	enum map_class cls;
	const char *prefix;
	char rundir[PATH_MAX];  /* realpath of the runtime dir, with a trailing '/' */
	char exe[PATH_MAX];     /* the primary's executable */
	bool require_all;
	unsigned int max_print;
	unsigned int printed;
};

struct cmp_count {
	size_t primary_maps, primary_bytes;
	size_t equal, differ, missing, extra;
};

static const char *const class_names[] = { "hugepages", "rundir", "exe", "libs" };

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static bool in_class(const struct cmp_ctx *c, const struct dpdkmp_map *m)
{
	const char *b = base_name(m->path);
	size_t pl = strlen(c->prefix);

	if (m->path[0] != '/')
		return false;
	switch (c->cls) {
	case CLASS_HUGEPAGES:
		return strncmp(b, c->prefix, pl) == 0 && strncmp(b + pl, "map_", 4) == 0;
	case CLASS_RUNDIR:
		return strncmp(m->path, c->rundir, strlen(c->rundir)) == 0;
	case CLASS_EXE:
		return strcmp(m->path, c->exe) == 0;
	case CLASS_LIBS:
		return strncmp(b, "librte_", 7) == 0 && strstr(b, ".so") != NULL;
	}
	return false;
}

static bool path_mapped(const struct dpdkmp_map *v, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].path, path) == 0)
			return true;
	return false;
}

/* The secondary's mapping of path at offset, wherever it is. */
static const struct dpdkmp_map *first_mapping(const struct dpdkmp_map *v, size_t n, const char *path,
					      uint64_t offset)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].path, path) == 0 && v[i].offset == offset)
			return &v[i];
	return NULL;
}

static void report(struct cmp_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void report(struct cmp_ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->printed++ >= c->max_print)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

/* Does the secondary map [p->start, p->end) exactly as the primary does? Returns NULL if so, else
 * what differs at *at. */
static const char *range_differs(const struct dpdkmp_map *p, const struct dpdkmp_map *sv, size_t sn,
				 uint64_t *at, const struct dpdkmp_map **found)
{
	uint64_t addr = p->start;

	while (addr < p->end) {
		const struct dpdkmp_map *s = dpdkmp_maps_find(sv, sn, addr);

		*at = addr;
		*found = s;
		if (!s)
			return "not mapped";
		if (strcmp(s->path, p->path) != 0)
			return "other file";
		if (s->dev_major != p->dev_major || s->dev_minor != p->dev_minor || s->inode != p->inode)
			return "other inode";
		if (s->offset + (addr - s->start) != p->offset + (addr - p->start))
			return "other offset";
		if (strcmp(s->perms, p->perms) != 0)
			return "other perms";
		addr = s->end;
	}
	return NULL;
}

static void compare(struct cmp_ctx *c, const struct dpdkmp_map *pv, size_t pn,
		    const struct dpdkmp_map *sv, size_t sn, struct cmp_count *k)
{
	bool last_differ = false;

	for (size_t i = 0; i < pn; i++) {
		const struct dpdkmp_map *p = &pv[i], *s = NULL;
		const char *why;
		uint64_t at = 0;

		if (!in_class(c, p))
			continue;
		k->primary_maps++;
		k->primary_bytes += p->end - p->start;
		if (!path_mapped(sv, sn, p->path)) {
			bool fails = c->cls == CLASS_HUGEPAGES || c->cls == CLASS_RUNDIR || c->require_all;

			k->missing++;
			last_differ = false;
			if (i > 0 && strcmp(pv[i - 1].path, p->path) == 0)
				continue;
			report(c, "%s: %" PRIx64 "-%" PRIx64 " %s off %" PRIx64 " %s: not mapped by the secondary",
			       fails ? "MISSING" : "primary only", p->start, p->end, p->perms, p->offset,
			       p->path);
			continue;
		}
		why = range_differs(p, sv, sn, &at, &s);
		if (!why) {
			k->equal++;
			last_differ = false;
			continue;
		}
		k->differ++;
		/* One line per file is enough to see a shift; its other segments would repeat it. */
		if (i > 0 && strcmp(pv[i - 1].path, p->path) == 0 && last_differ)
			continue;
		last_differ = true;
		if (why[0] == 'n' && (s = first_mapping(sv, sn, p->path, p->offset)))
			report(c, "MOVED: primary %" PRIx64 "-%" PRIx64 " %s off %" PRIx64 " %s | secondary %"
			       PRIx64 "-%" PRIx64 " %s off %" PRIx64 " (shift %s0x%" PRIx64 ")",
			       p->start, p->end, p->perms, p->offset, p->path, s->start, s->end, s->perms,
			       s->offset, s->start >= p->start ? "+" : "-",
			       s->start >= p->start ? s->start - p->start : p->start - s->start);
		else if (s)
			report(c, "DIFFER (%s at %" PRIx64 "): primary %" PRIx64 "-%" PRIx64 " %s off %" PRIx64
			       " %s | secondary %" PRIx64 "-%" PRIx64 " %s off %" PRIx64 " %s", why, at,
			       p->start, p->end, p->perms, p->offset, p->path, s->start, s->end, s->perms,
			       s->offset, s->path[0] ? s->path : "[anon]");
		else
			report(c, "DIFFER (%s at %" PRIx64 "): primary %" PRIx64 "-%" PRIx64 " %s off %" PRIx64
			       " %s", why, at, p->start, p->end, p->perms, p->offset, p->path);
	}

	/* The other direction: what the secondary maps in this class that the primary does not. */
	for (size_t i = 0; i < sn; i++) {
		const struct dpdkmp_map *s = &sv[i], *p = NULL;
		uint64_t at = 0;

		if (!in_class(c, s) || !range_differs(s, pv, pn, &at, &p))
			continue;
		k->extra++;
		if (i > 0 && strcmp(sv[i - 1].path, s->path) == 0 && c->cls != CLASS_HUGEPAGES)
			continue;
		report(c, "%s: %" PRIx64 "-%" PRIx64 " %s off %" PRIx64 " %s",
		       c->cls == CLASS_HUGEPAGES ? "EXTRA" : "secondary only", s->start, s->end,
		       s->perms, s->offset, s->path);
	}
}

static int parse_class(const char *s, enum map_class *cls)
{
	for (size_t i = 0; i < sizeof(class_names) / sizeof(class_names[0]); i++)
		if (strcmp(s, class_names[i]) == 0) {
			*cls = (enum map_class)i;
			return 0;
		}
	return -EINVAL;
}

static int parse_pid(const char *s, pid_t *pid)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v <= 0 || v > INT_MAX)
		return -EINVAL;
	*pid = (pid_t)v;
	return 0;
}

static int setup_paths(struct cmp_ctx *c, pid_t primary)
{
	char dir[PATH_MAX], link[64];
	ssize_t l;

	snprintf(dir, sizeof(dir), "/var/run/dpdk/%s", c->prefix);
	if (!realpath(dir, c->rundir)) {
		fprintf(stderr, "mapcmp: %s: %s\n", dir, strerror(errno));
		return -errno;
	}
	strncat(c->rundir, "/", sizeof(c->rundir) - strlen(c->rundir) - 1);

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)primary);
	l = readlink(link, c->exe, sizeof(c->exe) - 1);
	if (l < 0) {
		fprintf(stderr, "mapcmp: %s: %s\n", link, strerror(errno));
		return -errno;
	}
	c->exe[l] = '\0';
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: mapcmp [-a] [-m MAX] hugepages|rundir|exe|libs PREFIX PRIMARY_PID "
		"SECONDARY_PID\n");
}

int main(int argc, char **argv)
{
	struct cmp_ctx c = { .max_print = 20 };
	struct dpdkmp_map *pv = NULL, *sv = NULL;
	struct cmp_count k = { 0 };
	size_t pn = 0, sn = 0;
	pid_t ppid, spid;
	bool pass;
	int opt, ret;

	while ((opt = getopt(argc, argv, "am:")) != -1) {
		switch (opt) {
		case 'a':
			c.require_all = true;
			break;
		case 'm':
			c.max_print = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		default:
			usage();
			return 2;
		}
	}
	if (argc - optind != 4 || parse_class(argv[optind], &c.cls) < 0 ||
	    parse_pid(argv[optind + 2], &ppid) < 0 || parse_pid(argv[optind + 3], &spid) < 0) {
		usage();
		return 2;
	}
	c.prefix = argv[optind + 1];
	if (!*c.prefix || strchr(c.prefix, '/')) {
		usage();
		return 2;
	}
	if (setup_paths(&c, ppid) < 0)
		return 2;
	/* Read both as close together as possible: the primary may map new pages at any time. */
	ret = dpdkmp_maps_read(ppid, &pv, &pn);
	if (ret == 0)
		ret = dpdkmp_maps_read(spid, &sv, &sn);
	if (ret < 0) {
		fprintf(stderr, "mapcmp: reading /proc/%d/maps or /proc/%d/maps: %s\n", (int)ppid,
			(int)spid, strerror(-ret));
		free(pv);
		return 2;
	}

	compare(&c, pv, pn, sv, sn, &k);
	if (c.printed > c.max_print)
		printf("... %u more not shown\n", c.printed - c.max_print);

	/* An empty class would make every comparison vacuously equal (wrong prefix, wrong pid). */
	pass = k.primary_maps > 0 && k.equal > 0 && k.differ == 0;
	if (k.missing && (c.cls == CLASS_HUGEPAGES || c.cls == CLASS_RUNDIR || c.require_all))
		pass = false;
	if (k.extra && c.cls == CLASS_HUGEPAGES)
		pass = false;
	printf("mapcmp %s: primary %zu mappings (%zu KiB): equal %zu, differ %zu, missing %zu, "
	       "secondary-only %zu -> %s%s\n", class_names[c.cls], k.primary_maps,
	       k.primary_bytes >> 10, k.equal, k.differ, k.missing, k.extra, pass ? "EQUAL" : "DIFFERENT",
	       !k.primary_maps ? " (the primary maps nothing of this class)" :
	       !k.equal ? " (nothing is mapped alike)" : "");
	free(pv);
	free(sv);
	return pass ? 0 : 1;
}
