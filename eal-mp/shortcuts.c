/* shortcuts: answers that a child's EAL init would otherwise get from thousands of system
 * calls, prepared once by the fork server. EAL 22.11 probes CPU and NUMA topology with one
 * access() per (lcore, node) pair (about 5000 calls here), resolves each of the 256 plugin
 * names with realpath() (about 1800 readlink calls) and dlopen()s each of them, although
 * every plugin is loaded already (each dlopen compares the path with the name of every
 * loaded object: 11 us apiece here).
 * Exact or nothing: at the child's init each snapshot is checked against the system (CPU and
 * node online masks, the plugin directory's identity and mtime) and a mismatch turns that
 * shortcut off for the child, which then makes the real calls. DPDKMP_NO_SHORTCUTS=1 (the
 * primary's or the launcher's environment) turns them all off. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"
#include "log.h"

#define MAX_CPUS    1024
#define MAX_NODES   64
#define MAX_PLUGINS 512
#define WORDS       (MAX_CPUS / 64)
#define CPU_DIR     "/sys/devices/system/cpu"
#define NODE_DIR    "/sys/devices/system/node"

int access(const char *path, int mode);
char *realpath(const char *restrict path, char *restrict resolved);

static struct {
	int topo_ok;            /* snapshot taken */
	int plug_ok;
	int topo_on;            /* in use (during a child's real init) */
	int plug_on;
	char cpu_online[128];
	char node_online[128];
	uint64_t has_core_id[WORDS];
	uint64_t node_cpu[MAX_NODES][WORDS];
	struct stat plugdir;
	char plugdir_path[PATH_MAX];
	unsigned int nplug;
	struct plug {
		char *path;     /* "<dir>/<name>", as EAL builds it */
		char *real;
	} plug[MAX_PLUGINS];    /* sorted by path */
	unsigned int nlib;
	struct lib {
		char *real;
		void *handle;
		unsigned int credit;    /* EAL's dlopen()s of it that the fork server made */
	} lib[MAX_PLUGINS];     /* one per loaded plugin file, sorted by real path */
} sc;

void *dpdkmp_real_dlopen;       /* entry_x86_64.S jumps there */

static int read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	buf[n] = '\0';
	return 0;
}

static void set_bit(uint64_t *w, unsigned int b)
{
	w[b / 64] |= 1ull << (b % 64);
}

static int get_bit(const uint64_t *w, unsigned int b)
{
	return (w[b / 64] >> (b % 64)) & 1;
}

/* Which CPUs have topology/core_id and which node directory lists which CPU, from a few
 * directory reads instead of EAL's per-pair probing. */
static void snapshot_topology(void)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	unsigned int n;

	if (read_small(CPU_DIR "/online", sc.cpu_online, sizeof(sc.cpu_online)) < 0 ||
	    read_small(NODE_DIR "/online", sc.node_online, sizeof(sc.node_online)) < 0)
		return;        /* no NUMA in sysfs: let EAL probe */
	d = opendir(CPU_DIR);
	if (!d)
		return;
	while ((de = readdir(d))) {
		char tail;

		if (sscanf(de->d_name, "cpu%u%c", &n, &tail) != 1 || n >= MAX_CPUS)
			continue;
		snprintf(path, sizeof(path), CPU_DIR "/cpu%u/topology/core_id", n);
		if (syscall(SYS_faccessat, AT_FDCWD, path, F_OK, 0) == 0)
			set_bit(sc.has_core_id, n);
	}
	closedir(d);
	for (unsigned int node = 0; node < MAX_NODES; node++) {
		snprintf(path, sizeof(path), NODE_DIR "/node%u", node);
		d = opendir(path);
		if (!d)
			continue;
		while ((de = readdir(d))) {
			char tail;

			if (sscanf(de->d_name, "cpu%u%c", &n, &tail) == 1 && n < MAX_CPUS)
				set_bit(sc.node_cpu[node], n);
		}
		closedir(d);
	}
	sc.topo_ok = 1;
}

static int plug_cmp(const void *a, const void *b)
{
	return strcmp(((const struct plug *)a)->path, ((const struct plug *)b)->path);
}

static int lib_cmp(const void *a, const void *b)
{
	return strcmp(((const struct lib *)a)->real, ((const struct lib *)b)->real);
}

static struct lib *find_lib(const char *real)
{
	struct lib key = { .real = (char *)real };

	return sc.nlib ? bsearch(&key, sc.lib, sc.nlib, sizeof(key), lib_cmp) : NULL;
}

/* EAL's dlopen(realpath, RTLD_NOW) of a plugin loaded already only finds it and counts one
 * more reference. The fork server takes those references itself, as many as EAL will take:
 * one per directory entry EAL loads (name rule, regular file) that resolves to the file. A
 * child's EAL then gets the handle without the search, and the reference counts are the
 * ones a genuine init would leave. RTLD_NOLOAD: never load what the primary did not. */
static void credit_plugins(void)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < sc.nplug; i++) {
		const char *base = strrchr(sc.plug[i].path, '/') + 1;
		struct stat st;
		void *h;

		if (!dpdkmp_plugin_name_ok(base) || stat(sc.plug[i].path, &st) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		h = dlopen(sc.plug[i].real, RTLD_NOW | RTLD_NOLOAD);
		if (h)
			sc.lib[n++] = (struct lib){ .real = sc.plug[i].real, .handle = h, .credit = 1 };
	}
	/* One entry per file; the references of its names add up. */
	qsort(sc.lib, n, sizeof(sc.lib[0]), lib_cmp);
	for (unsigned int i = 0; i < n; i++) {
		if (sc.nlib && !strcmp(sc.lib[sc.nlib - 1].real, sc.lib[i].real))
			sc.lib[sc.nlib - 1].credit++;
		else
			sc.lib[sc.nlib++] = sc.lib[i];
	}
}

static void snapshot_plugins(const char *dir)
{
	char path[PATH_MAX], real[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if (!dir || stat(dir, &sc.plugdir) < 0 || !(d = opendir(dir)))
		return;
	snprintf(sc.plugdir_path, sizeof(sc.plugdir_path), "%s", dir);
	while ((de = readdir(d)) && sc.nplug < MAX_PLUGINS) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
			continue;
		if (!realpath(path, real))
			continue;
		sc.plug[sc.nplug].path = strdup(path);
		sc.plug[sc.nplug].real = strdup(real);
		if (!sc.plug[sc.nplug].path || !sc.plug[sc.nplug].real)
			break;
		sc.nplug++;
	}
	closedir(d);
	qsort(sc.plug, sc.nplug, sizeof(sc.plug[0]), plug_cmp);
	credit_plugins();
	sc.plug_ok = 1;
}

void dpdkmp_shortcuts_prepare(const char *plugin_dir)
{
	const char *off = getenv("DPDKMP_NO_SHORTCUTS");

	if (off && *off && strcmp(off, "0"))
		return;
	snapshot_topology();
	snapshot_plugins(plugin_dir);
	if (getenv("DPDKMP_TEST_STALE_SNAPSHOT")) {
		/* Test hook: a snapshot that no longer matches the system (CPU or node hotplug,
		 * a plugin directory that changed), so that the fallback path runs. */
		snprintf(sc.cpu_online, sizeof(sc.cpu_online), "stale\n");
		sc.plugdir.st_mtim.tv_nsec ^= 1;
	}
}

int dpdkmp_shortcuts_disabled(void)
{
	const char *off = getenv("DPDKMP_NO_SHORTCUTS");

	return off && *off && strcmp(off, "0");
}

void dpdkmp_shortcuts_begin(void)
{
	char cpu[sizeof(sc.cpu_online)], node[sizeof(sc.node_online)];
	struct stat st;

	if (dpdkmp_shortcuts_disabled())
		return;
	if (sc.topo_ok) {
		sc.topo_on = read_small(CPU_DIR "/online", cpu, sizeof(cpu)) == 0 &&
			     read_small(NODE_DIR "/online", node, sizeof(node)) == 0 &&
			     !strcmp(cpu, sc.cpu_online) && !strcmp(node, sc.node_online);
		if (!sc.topo_on)
			DPDKMP_INFO("the CPU/NUMA topology changed since the fork server started; "
				    "EAL probes it");
	}
	if (sc.plug_ok) {
		sc.plug_on = stat(sc.plugdir_path, &st) == 0 && st.st_dev == sc.plugdir.st_dev &&
			     st.st_ino == sc.plugdir.st_ino &&
			     st.st_mtim.tv_sec == sc.plugdir.st_mtim.tv_sec &&
			     st.st_mtim.tv_nsec == sc.plugdir.st_mtim.tv_nsec;
		if (!sc.plug_on)
			DPDKMP_INFO("the plugin directory %s changed since the fork server started; "
				    "EAL resolves the plugins itself", sc.plugdir_path);
	}
}

void dpdkmp_shortcuts_end(void)
{
	/* A reference EAL did not take (shortcuts off or stale, an init that failed early) is
	 * dropped again: the counts must be what this process's own dlopen calls made them. */
	for (unsigned int i = 0; i < sc.nlib; i++)
		for (; sc.lib[i].credit; sc.lib[i].credit--)
			dlclose(sc.lib[i].handle);
	sc.topo_on = 0;
	sc.plug_on = 0;
}

/* A decimal number as snprintf("%u") writes it (no sign, no leading zero), below max;
 * *p is left after it. -1 when the text is not one. */
static long canon_uint(const char **p, unsigned int max)
{
	const char *s = *p;
	unsigned long v = 0;

	if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] >= '0' && s[1] <= '9'))
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (unsigned long)(*s - '0');
		if (v >= max)
			return -1;
	}
	*p = s;
	return (long)v;
}

static int skip(const char **p, const char *lit, size_t len)
{
	if (strncmp(*p, lit, len))
		return 0;
	*p += len;
	return 1;
}
#define SKIP(p, lit) skip(p, lit, sizeof(lit) - 1)

/* 1 exists, 0 does not, -1 not a path of the snapshot. Exactly the strings EAL builds
 * ("%s/cpu%u/topology/core_id", "%s/node%u/cpu%u"): 5000 calls per init, so no sscanf. */
static int topology_answer(const char *path)
{
	const char *p = path;
	long a, b;

	if (SKIP(&p, CPU_DIR "/cpu")) {
		if ((a = canon_uint(&p, MAX_CPUS)) < 0 || strcmp(p, "/topology/core_id"))
			return -1;
		return get_bit(sc.has_core_id, (unsigned int)a);
	}
	if (SKIP(&p, NODE_DIR "/node")) {
		if ((a = canon_uint(&p, MAX_NODES)) < 0 || !SKIP(&p, "/cpu") ||
		    (b = canon_uint(&p, MAX_CPUS)) < 0 || *p)
			return -1;
		return get_bit(sc.node_cpu[a], (unsigned int)b);
	}
	return -1;
}

int access(const char *path, int mode)
{
	if (sc.topo_on && mode == F_OK) {
		int r = topology_answer(path);

		if (r == 1)
			return 0;
		if (r == 0) {
			errno = ENOENT;
			return -1;
		}
	}
	return (int)syscall(SYS_faccessat, AT_FDCWD, path, mode, 0);
}

typedef char *(*realpath_fn)(const char *, char *);

char *realpath(const char *restrict path, char *restrict resolved)
{
	static realpath_fn real;

	if (sc.plug_on && path && sc.nplug) {
		struct plug key = { .path = (char *)path }, *p;

		p = bsearch(&key, sc.plug, sc.nplug, sizeof(key), plug_cmp);
		if (p) {
			if (resolved) {
				snprintf(resolved, PATH_MAX, "%s", p->real);
				return resolved;
			}
			return strdup(p->real);
		}
	}
	if (!real) {
		real = (realpath_fn)dlvsym(RTLD_NEXT, "realpath", "GLIBC_2.3");
		if (!real)
			real = (realpath_fn)dlsym(RTLD_NEXT, "realpath");
	}
	return real(path, resolved);
}

/* Called by dlopen (entry_x86_64.S) before the real one: the handle when this is one of the
 * dlopen()s the fork server made for EAL, else NULL and the real dlopen runs, entered with
 * the caller's return address (glibc resolves a bare name with the caller's RUNPATH). */
void *dpdkmp_dlopen_shortcut(const char *path, int mode)
{
	struct lib *l;

	if (!dpdkmp_real_dlopen) {
		dpdkmp_real_dlopen = dlvsym(RTLD_NEXT, "dlopen", "GLIBC_2.34");
		if (!dpdkmp_real_dlopen)
			dpdkmp_real_dlopen = dlsym(RTLD_NEXT, "dlopen");
	}
	if (!sc.plug_on || !path || mode != RTLD_NOW || !(l = find_lib(path)) || !l->credit)
		return NULL;
	l->credit--;
	return l->handle;
}
