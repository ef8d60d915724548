/* shortcuts: answers that a child's EAL init would otherwise get from thousands of system
 * calls, prepared once by the fork server. EAL 22.11 probes CPU and NUMA topology with one
 * access() per (lcore, node) pair (about 5000 calls here) and resolves each of the 256 plugin
 * names with realpath() (about 1800 readlink calls), although every plugin is loaded already.
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
	struct {
		char *path;     /* "<dir>/<name>", as EAL builds it */
		char *real;
	} plug[MAX_PLUGINS];
} sc;

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

void dpdkmp_shortcuts_begin(void)
{
	const char *off = getenv("DPDKMP_NO_SHORTCUTS");
	char cpu[sizeof(sc.cpu_online)], node[sizeof(sc.node_online)];
	struct stat st;

	if (off && *off && strcmp(off, "0"))
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
	sc.topo_on = 0;
	sc.plug_on = 0;
}

/* 1 exists, 0 does not, -1 not a path of the snapshot. */
static int topology_answer(const char *path)
{
	char again[96], tail;
	unsigned int a, b;

	if (sscanf(path, CPU_DIR "/cpu%u/topology/core_i%c", &a, &tail) == 2 && tail == 'd' &&
	    a < MAX_CPUS) {
		snprintf(again, sizeof(again), CPU_DIR "/cpu%u/topology/core_id", a);
		if (!strcmp(again, path))
			return get_bit(sc.has_core_id, a);
	}
	if (sscanf(path, NODE_DIR "/node%u/cpu%u", &a, &b) == 2 && a < MAX_NODES && b < MAX_CPUS) {
		snprintf(again, sizeof(again), NODE_DIR "/node%u/cpu%u", a, b);
		if (!strcmp(again, path))
			return get_bit(sc.node_cpu[a], b);
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

	if (sc.plug_on && path) {
		for (unsigned int i = 0; i < sc.nplug; i++) {
			if (strcmp(path, sc.plug[i].path))
				continue;
			if (resolved) {
				snprintf(resolved, PATH_MAX, "%s", sc.plug[i].real);
				return resolved;
			}
			return strdup(sc.plug[i].real);
		}
	}
	if (!real) {
		real = (realpath_fn)dlvsym(RTLD_NEXT, "realpath", "GLIBC_2.3");
		if (!real)
			real = (realpath_fn)dlsym(RTLD_NEXT, "realpath");
	}
	return real(path, resolved);
}
