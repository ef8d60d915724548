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

void dpdkmp_windows_release(const struct dpdkmp_winset *ws)
{
	for (uint32_t i = 0; i < ws->n; i++)
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

int dpdkmp_windows_verify(const struct dpdkmp_winset *ws)
{
	struct dpdkmp_map *maps = NULL;
	size_t nmaps = 0;
	int bad = 0, ret;

	if ((ret = dpdkmp_maps_read(0, &maps, &nmaps)) < 0)
		return ret;
	for (uint32_t i = 0; i < ws->n; i++) {
		const struct dpdkmp_window *w = &ws->w[i];

		if (w->kind == DPDKMP_WIN_MEMSEG) {
			struct verify_ctx c = { .w = w };

			rte_memseg_list_walk(verify_walk, &c);
			if (!c.found) {
				DPDKMP_ERR("memseg list %s is not at the primary's address 0x%llx (+0x%llx)",
					   w->name, (unsigned long long)w->addr, (unsigned long long)w->len);
				bad++;
			}
		} else {
			const struct dpdkmp_map *m = dpdkmp_maps_find(maps, nmaps, w->addr);
			const char *base = m ? strrchr(m->path, '/') : NULL;

			if (!m || m->start != w->addr || !base || strcmp(base + 1, w->name) != 0) {
				DPDKMP_ERR("runtime file %s is not mapped at the primary's address 0x%llx (found %s)",
					   w->name, (unsigned long long)w->addr, m ? m->path : "nothing");
				bad++;
			}
		}
	}
	free(maps);
	return bad ? -EFAULT : 0;
}
