/* windows: the address ranges a secondary must find free and then find at the primary's
 * addresses: the memseg lists' VA reservations and every mapping of a file under the
 * runtime directory (config, fbarrays).
 *
 *   primary, after init              child, before init           child, after init
 *   0x100000000 config       ---->   PROT_NONE reservation  -->   config (same address)
 *   0x100200000 msl 0 (16G)  ---->   PROT_NONE reservation  -->   msl 0  (same address)
 *
 * The reservation keeps the loader and the secondary's pre-EAL code out of the windows;
 * it is released immediately before the real secondary init maps them. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>


#include <rte_eal.h>
#include <rte_memory.h>

#include "internal.h"
#include "log.h"
#include "maps.h"

static int add_window(struct dpdkmp_winset *ws, uint64_t addr, uint64_t len, uint32_t kind,
		      const char *name)
{
	struct dpdkmp_window *w;

	if (ws->n >= DPDKMP_MAX_WINDOWS)
		return -E2BIG;
	w = &ws->w[ws->n++];
	memset(w, 0, sizeof(*w));
	w->addr = addr;
	w->len = len;
	w->kind = kind;
	snprintf(w->name, sizeof(w->name), "%s", name);
	return 0;
}

static int msl_walk(const struct rte_memseg_list *msl, void *arg)
{
	struct dpdkmp_winset *ws = arg;

	if (!msl->base_va || !msl->len)
		return 0;
	return add_window(ws, (uint64_t)(uintptr_t)msl->base_va, msl->len, DPDKMP_WIN_MEMSEG,
			  msl->memseg_arr.name) < 0 ? -1 : 0;
}

static int inside_memseg(const struct dpdkmp_winset *ws, uint64_t a, uint64_t b)
{
	for (uint32_t i = 0; i < ws->n; i++)
		if (ws->w[i].kind == DPDKMP_WIN_MEMSEG && a >= ws->w[i].addr &&
		    b <= ws->w[i].addr + ws->w[i].len)
			return 1;
	return 0;
}

int dpdkmp_windows_collect(struct dpdkmp_winset *ws)
{
	char real[PATH_MAX];
	struct dpdkmp_map *maps = NULL;
	size_t nmaps = 0, rl;
	int ret;

	memset(ws, 0, sizeof(*ws));
	ws->primary_pid = getpid();
	if (snprintf(ws->runtime_dir, sizeof(ws->runtime_dir), "%s", rte_eal_get_runtime_dir()) >=
	    (int)sizeof(ws->runtime_dir))
		return -ENAMETOOLONG;
	if (rte_memseg_list_walk(msl_walk, ws) < 0)
		return -E2BIG;
	/* /var/run is a symlink to /run: /proc/PID/maps shows the resolved path. */
	if (!realpath(ws->runtime_dir, real))
		return -errno;
	rl = strlen(real);
	if ((ret = dpdkmp_maps_read(0, &maps, &nmaps)) < 0)
		return ret;
	for (size_t i = 0; i < nmaps; i++) {
		const char *p = maps[i].path, *base;

		if (strncmp(p, real, rl) != 0 || p[rl] != '/')
			continue;
		if (inside_memseg(ws, maps[i].start, maps[i].end))
			continue;
		base = strrchr(p, '/') + 1;
		if ((ret = add_window(ws, maps[i].start, maps[i].end - maps[i].start,
				      DPDKMP_WIN_RUNFILE, base)) < 0)
			break;
	}
	free(maps);
	return ret < 0 ? ret : 0;
}

int dpdkmp_windows_reserve(const struct dpdkmp_winset *ws, char *err, size_t errlen)
{
	for (uint32_t i = 0; i < ws->n; i++) {
		const struct dpdkmp_window *w = &ws->w[i];
		void *p = mmap((void *)(uintptr_t)w->addr, w->len, PROT_NONE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);

		if (p == (void *)(uintptr_t)w->addr)
			continue;
		snprintf(err, errlen, "cannot reserve the primary's window %s at 0x%llx-0x%llx: %s "
			 "(something is already mapped there in the fork server)", w->name,
			 (unsigned long long)w->addr, (unsigned long long)(w->addr + w->len),
			 p == MAP_FAILED ? strerror(errno) : "mapped elsewhere");
		if (p != MAP_FAILED)
			munmap(p, w->len);
		for (uint32_t j = 0; j < i; j++)
			munmap((void *)(uintptr_t)ws->w[j].addr, ws->w[j].len);
		return -EADDRINUSE;
	}
	return 0;
}

/* A memseg window holding mirrored segments stays reserved: EAL's own reservation request
 * for it is answered in place (segments.c). */
void dpdkmp_windows_release(const struct dpdkmp_winset *ws)
{
	for (uint32_t i = 0; i < ws->n; i++)
		if (!dpdkmp_segments_held(i))
			munmap((void *)(uintptr_t)ws->w[i].addr, ws->w[i].len);
}

struct verify_ctx {
	const struct dpdkmp_window *w;
	int found;
};

static int verify_walk(const struct rte_memseg_list *msl, void *arg)
{
	struct verify_ctx *c = arg;

	if ((uint64_t)(uintptr_t)msl->base_va == c->w->addr && msl->len == c->w->len)
		c->found = 1;
	return 0;
}

/* The runtime files are checked with PROCMAP_QUERY (maps.h), one ioctl each: a secondary with
 * 8 GiB has 4000 hugepage mappings, and reading /proc/self/maps for the few runtime files took
 * 3 to 6 ms of its attach. */

/* Test hook (DPDKMP_TEST_VERIFY in the launcher's environment, words separated by commas):
 * "maps" checks through /proc/self/maps as on kernels without PROCMAP_QUERY; "wrong"
 * expects a runtime file of another name, so that a mismatch is reported. */
static const char *expected_name(const struct dpdkmp_window *w)
{
	const char *t = getenv("DPDKMP_TEST_VERIFY");

	return t && strstr(t, "wrong") ? "dpdkmp-test-no-such-file" : w->name;
}

/* 0 the mapping is as expected, -EFAULT it is not (found says what is there), -ENOTTY the
 * kernel has no PROCMAP_QUERY. */
static int query_runfile(int fd, const struct dpdkmp_window *w, char *found, size_t flen)
{
	char name[PATH_MAX];
	struct procmap_query q = {
		.query_addr = w->addr,
		.vma_name_size = sizeof(name), .vma_name_addr = (__u64)(uintptr_t)name,
	};
	const char *base;
	int ret;

	name[0] = '\0';
	if ((ret = dpdkmp_maps_query(fd, &q)) < 0) {
		if (ret == -ENOTTY || ret == -EINVAL || ret == -E2BIG)
			return -ENOTTY;
		snprintf(found, flen, "nothing");
		return -EFAULT;
	}
	snprintf(found, flen, "%s", q.vma_name_size ? name : "an anonymous mapping");
	base = q.vma_name_size ? strrchr(name, '/') : NULL;
	return q.vma_start == w->addr && base && !strcmp(base + 1, expected_name(w)) ? 0 : -EFAULT;
}

static int verify_memseg(const struct dpdkmp_window *w)
{
	struct verify_ctx c = { .w = w };

	rte_memseg_list_walk(verify_walk, &c);
	if (c.found)
		return 0;
	DPDKMP_ERR("memseg list %s is not at the primary's address 0x%llx (+0x%llx)",
		   w->name, (unsigned long long)w->addr, (unsigned long long)w->len);
	return -EFAULT;
}

static void runfile_error(const struct dpdkmp_window *w, const char *found)
{
	DPDKMP_ERR("runtime file %s is not mapped at the primary's address 0x%llx (found %s)",
		   w->name, (unsigned long long)w->addr, found);
}

/* The same checks from /proc/self/maps, for kernels without PROCMAP_QUERY. */
static int verify_runfiles_maps(const struct dpdkmp_winset *ws)
{
	struct dpdkmp_map *maps = NULL;
	size_t nmaps = 0;
	int bad = 0, ret;

	if ((ret = dpdkmp_maps_read(0, &maps, &nmaps)) < 0)
		return ret;
	for (uint32_t i = 0; i < ws->n; i++) {
		const struct dpdkmp_window *w = &ws->w[i];
		const struct dpdkmp_map *m;
		const char *base;

		if (w->kind != DPDKMP_WIN_RUNFILE)
			continue;
		m = dpdkmp_maps_find(maps, nmaps, w->addr);
		base = m ? strrchr(m->path, '/') : NULL;
		if (!m || m->start != w->addr || !base || strcmp(base + 1, expected_name(w)) != 0) {
			runfile_error(w, m ? m->path : "nothing");
			bad++;
		}
	}
	free(maps);
	return bad ? -EFAULT : 0;
}

int dpdkmp_windows_verify(const struct dpdkmp_winset *ws)
{
	char found[PATH_MAX];
	const char *t = getenv("DPDKMP_TEST_VERIFY");
	int bad = 0, fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC), ret;
	int use_maps = fd < 0 || (t && strstr(t, "maps"));

	for (uint32_t i = 0; i < ws->n; i++) {
		const struct dpdkmp_window *w = &ws->w[i];

		if (w->kind == DPDKMP_WIN_MEMSEG) {
			bad += verify_memseg(w) < 0;
			continue;
		}
		if (use_maps)
			continue;
		ret = query_runfile(fd, w, found, sizeof(found));
		if (ret == -ENOTTY) {
			use_maps = 1;
		} else if (ret < 0) {
			runfile_error(w, found);
			bad++;
		}
	}
	if (fd >= 0)
		close(fd);
	if (use_maps)
		bad += verify_runfiles_maps(ws) < 0;
	return bad ? -EFAULT : 0;
}
