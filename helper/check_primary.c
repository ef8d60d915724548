/* check_primary: what the primary uses, learnt before any comparison, because the classes are
 * defined by it: its executable, runtime dir, hugetlbfs mounts and plugins, and whether this
 * kernel answers PROCMAP_QUERY. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "check_internal.h"
#include "dpdkmp_config.h"
#include "log.h"
#include "rundir.h"

/* Mount points of hugetlbfs in the primary's mount namespace (mountinfo field 5, octal escapes). */
static void find_hugetlbfs(struct check_ctx *c)
{
	char path[64], line[4096];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)c->primary);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && c->nhugemnt < MAX_HUGEMNT) {
		char *dash = strstr(line, " - "), *mnt = line, *o;
		int field;

		if (!dash || strncmp(dash + 3, "hugetlbfs ", 10))
			continue;
		for (field = 0; field < 4 && mnt; field++) {
			mnt = strchr(mnt, ' ');
			mnt = mnt ? mnt + 1 : NULL;
		}
		if (!mnt)
			continue;
		o = c->hugemnt[c->nhugemnt];
		for (size_t i = 0; mnt[i] && mnt[i] != ' ' && o - c->hugemnt[c->nhugemnt] < PATH_MAX - 1;
		     i++) {
			if (mnt[i] == '\\' && mnt[i + 1] >= '0' && mnt[i + 1] <= '3' && mnt[i + 2] &&
			    mnt[i + 3]) {
				*o++ = (char)(((mnt[i + 1] - '0') << 6) | ((mnt[i + 2] - '0') << 3) |
					      (mnt[i + 3] - '0'));
				i += 3;
			} else {
				*o++ = mnt[i];
			}
		}
		*o = '\0';
		c->nhugemnt++;
	}
	fclose(f);
}

static void add_plugin(struct check_ctx *c, const char *path)
{
	char real[PATH_MAX], **nv;

	if (!realpath(path, real))
		return;
	for (size_t i = 0; i < c->nplugins; i++)
		if (!strcmp(c->plugins[i], real))
			return;
	nv = realloc(c->plugins, (c->nplugins + 1) * sizeof(*nv));
	if (!nv)
		return;
	c->plugins = nv;
	c->plugins[c->nplugins] = strdup(real);
	if (c->plugins[c->nplugins])
		c->nplugins++;
}

/* A plugin directory (EAL loads every file in it) or a plugin file. */
static void add_plugin_source(struct check_ctx *c, const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	size_t i;

	if (stat(path, &st) < 0)
		return;
	for (i = 0; i < c->nplugin_src && strcmp(c->plugin_src[i], path); i++)
		;
	if (i < c->nplugin_src)
		return;
	if (c->nplugin_src < MAX_PLUGIN_SRC)
		snprintf(c->plugin_src[c->nplugin_src++], PATH_MAX, "%s", path);
	if (!S_ISDIR(st.st_mode)) {
		add_plugin(c, path);
		return;
	}
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		char f[PATH_MAX];

		if (de->d_name[0] == '.' || !strstr(de->d_name, ".so"))
			continue;
		snprintf(f, sizeof(f), "%s/%s", path, de->d_name);
		add_plugin(c, f);
	}
	closedir(d);
}

/* NUL-separated /proc/PID/{cmdline,environ}, read whole. */
static char *read_nul_file(pid_t pid, const char *what, size_t *len)
{
	char path[64], *buf = NULL;
	size_t cap = 0, n = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	for (;;) {
		ssize_t r;

		if (n + 4096 + 1 > cap) {
			char *nb = realloc(buf, cap + 65536);

			if (!nb)
				break;
			buf = nb;
			cap += 65536;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (buf)
		buf[n] = '\0';
	*len = n;
	return buf;
}

/* The plugins the primary loaded: DPDKMP_PMD_DIR (its environment's, else the built-in default),
 * and its EAL -d options. Debian's plugins are librte_* and caught by name anyway; this catches
 * plugins of any name. */
static void find_plugins(struct check_ctx *c)
{
	char *env, *cmd, path[PATH_MAX];
	size_t elen = 0, clen = 0;
	const char *dir = DPDKMP_PMD_DIR;

	env = read_nul_file(c->primary, "environ", &elen);
	for (size_t i = 0; env && i < elen; i += strlen(env + i) + 1)
		if (!strncmp(env + i, "DPDKMP_PMD_DIR=", 15) && env[i + 15])
			dir = env + i + 15;
	add_plugin_source(c, dir);
	cmd = read_nul_file(c->primary, "cmdline", &clen);
	for (size_t i = 0; cmd && i < clen; i += strlen(cmd + i) + 1) {
		const char *a = cmd + i, *v = NULL;

		if (!strcmp(a, "--"))
			break;
		if (!strcmp(a, "-d") && i + 3 < clen)
			v = a + 3;
		else if (!strncmp(a, "-d", 2) && a[2])
			v = a + 2;
		if (!v)
			continue;
		if (v[0] == '/')
			snprintf(path, sizeof(path), "%s", v);
		else
			snprintf(path, sizeof(path), "/proc/%d/cwd/%s", (int)c->primary, v);
		add_plugin_source(c, path);
	}
	free(env);
	free(cmd);
}

int check_primary_setup(struct check_ctx *c, const char *rundir)
{
	char link[64], self_maps[] = "/proc/self/maps", dir[PATH_MAX];
	uint8_t id[BUILD_ID_MAX];
	uint32_t idlen = 0;
	const char *no;
	ssize_t l;
	int fd, ret;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)c->primary);
	l = readlink(link, c->primary_exe, sizeof(c->primary_exe) - 1);
	if (l < 0) {
		DPDKMP_ERR("check: cannot read %s: %s%s", link, strerror(errno),
			   errno == ENOENT ? " (the primary has exited)" :
			   errno == EACCES ? "; run as the primary's user or root" : "");
		return -1;
	}
	c->primary_exe[l] = '\0';
	if (rundir && *rundir)
		snprintf(dir, sizeof(dir), "%s", rundir);
	else if (dpdkmp_runtime_dir(c->prefix, dir, sizeof(dir)) < 0)
		return -1;
	if (!realpath(dir, c->rundir)) {
		DPDKMP_ERR("check: runtime directory %s of prefix '%s': %s", dir, c->prefix,
			   strerror(errno));
		return -1;
	}
	strncat(c->rundir, "/", sizeof(c->rundir) - strlen(c->rundir) - 1);
	find_hugetlbfs(c);
	find_plugins(c);

	snprintf(link, sizeof(link), "/proc/%d/maps", (int)c->primary);
	c->primary_maps_fd = open(link, O_RDONLY | O_CLOEXEC);
	if (c->primary_maps_fd < 0) {
		DPDKMP_ERR("check: cannot open %s: %s", link, strerror(errno));
		return -1;
	}
	/* Does this kernel have PROCMAP_QUERY? Ask about our own code. */
	fd = open(self_maps, O_RDONLY | O_CLOEXEC);
	ret = check_compare_build_id(fd, (uint64_t)(uintptr_t)&check_main, id, &idlen);
	if (fd >= 0)
		close(fd);
	no = getenv("DPDKMP_CHECK_NO_PROCMAP");
	if (no && *no && strcmp(no, "0"))
		snprintf(c->procmap_why, sizeof(c->procmap_why), "not used: DPDKMP_CHECK_NO_PROCMAP "
			 "is set");
	else if (ret < 0)
		snprintf(c->procmap_why, sizeof(c->procmap_why), "unavailable (%s%s)",
			 strerrorname_np(-ret) ? strerrorname_np(-ret) : "?",
			 ret == -ENOTTY || ret == -EINVAL ? ": the kernel is older than Linux 6.11" : "");
	return 0;
}
