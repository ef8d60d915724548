/* check_compare: one secondary's /proc/PID/maps against the primary's, class by class. File
 * identity is proven by GNU build ID read with PROCMAP_QUERY (Linux 6.11), else by device and
 * inode.
 *
 *   primary                                 secondary (dpdkmp)
 *   0x100000000  <hugetlbfs>/<P>map_*   ==  same address, file, offset, perms    hugepages
 *   0x7f..       /run/dpdk/<P>/config,  ==  same (own fbarray_*_<pid> extra)     rundir
 *                fbarray_*
 *   0x55..       the primary's exe      ==  same, also for another binary        exe
 *   0x7f..       librte_*.so*, plugins  ==  same ranges both ways, same build ID libs
 *
 * VMAs may be split differently in the two processes, so each of the primary's ranges is walked
 * across the secondary's mappings; lines are never compared. A difference must survive three
 * reads of both maps 200 ms apart: the primary may be mapping hugepages that its secondaries map
 * a moment later. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_internal.h"
#include "log.h"
#include "maps.h"

#define ATTEMPTS                3
#define RETRY_DELAY_MS          200
#define LOADER_MEMFD            "/memfd:dpdkmp:"


/* The sides of one comparison: maps sorted by address, and an open maps fd for the ioctl. */
struct side {
	pid_t pid;
	const struct dpdkmp_map *v;
	size_t n;
	int fd;
};

static void reset_results(struct target *t)
{
	memset(t->res, 0, sizeof(t->res));
	t->nmm = 0;
	t->ndiff = 0;
}

static struct mismatch *add_mm(struct target *t, enum check_class cls, bool info,
			       const char *file)
{
	struct mismatch *m;

	if (t->nmm == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct mismatch *nv = realloc(t->mm, cap * sizeof(*nv));

		if (!nv) {
			DPDKMP_ERR("check: out of memory");
			exit(2);
		}
		t->mm = nv;
		t->cap = cap;
	}
	m = &t->mm[t->nmm++];
	memset(m, 0, offsetof(struct mismatch, file));
	m->cls = cls;
	m->info = info;
	snprintf(m->file, sizeof(m->file), "%s", file);
	m->what[0] = m->pline[0] = m->sline[0] = '\0';
	if (!info)
		t->ndiff++;
	return m;
}

/* A mapping as /proc/PID/maps prints it. */
static void map_line(const struct dpdkmp_map *m, char *out, size_t len)
{
	if (!m) {
		out[0] = '\0';
		return;
	}
	snprintf(out, len, "%08" PRIx64 "-%08" PRIx64 " %s %08" PRIx64 " %02x:%02x %" PRIu64 "%s%s",
		 m->start, m->end, m->perms, m->offset, m->dev_major, m->dev_minor, m->inode,
		 m->path[0] ? " " : "", m->path);
}

/* 0 with the build ID of the file mapped at addr (len 0: it has none, or the kernel could not
 * read it), or -errno: -ENOTTY or -EINVAL when the kernel has no PROCMAP_QUERY. */
int check_compare_build_id(int maps_fd, uint64_t addr, uint8_t *id, uint32_t *len)
{
	struct procmap_query q = {
		.query_flags = PROCMAP_QUERY_FILE_BACKED_VMA,
		.query_addr = addr,
		.build_id_size = BUILD_ID_MAX,
		.build_id_addr = (uint64_t)(uintptr_t)id,
	};
	int ret = dpdkmp_maps_query(maps_fd, &q);

	if (ret < 0)
		return ret;
	*len = q.build_id_size;
	return 0;
}

static bool in_class(const struct check_ctx *c, enum check_class cls, const struct dpdkmp_map *m)
{
	const char *b = base_name(m->path);
	size_t pl = strlen(c->prefix);

	if (m->path[0] != '/')
		return false;
	switch (cls) {
	case CLS_HUGEPAGES:
		if (strncmp(b, c->prefix, pl) || strncmp(b + pl, "map_", 4))
			return false;
		for (size_t i = 0; i < c->nhugemnt; i++) {
			size_t ml = strlen(c->hugemnt[i]);

			if (!strncmp(m->path, c->hugemnt[i], ml) && m->path[ml] == '/')
				return true;
		}
		return false;
	case CLS_RUNDIR:
		return !strncmp(m->path, c->rundir, strlen(c->rundir));
	case CLS_EXE:
		return !strcmp(m->path, c->primary_exe);
	case CLS_LIBS:
		if (!strcmp(m->path, c->primary_exe))
			return false;
		if (!strncmp(b, "librte_", 7) && strstr(b, ".so"))
			return true;
		for (size_t i = 0; i < c->nplugins; i++)
			if (!strcmp(m->path, c->plugins[i]))
				return true;
		return false;
	case CLS_N:
		break;
	}
	return false;
}

static int by_path_then_start(const void *a, const void *b)
{
	const struct dpdkmp_map *x = *(const struct dpdkmp_map *const *)a;
	const struct dpdkmp_map *y = *(const struct dpdkmp_map *const *)b;
	int r = strcmp(x->path, y->path);

	return r ? r : x->start < y->start ? -1 : x->start > y->start;
}

/* The mappings of a class, sorted by file, then address. */
static const struct dpdkmp_map **collect(const struct check_ctx *c, enum check_class cls,
					 const struct side *s, size_t *n)
{
	const struct dpdkmp_map **v = malloc((s->n + 1) * sizeof(*v));

	*n = 0;
	if (!v)
		return NULL;
	for (size_t i = 0; i < s->n; i++)
		if (in_class(c, cls, &s->v[i]))
			v[(*n)++] = &s->v[i];
	qsort(v, *n, sizeof(*v), by_path_then_start);
	return v;
}

/* First index of path in a collected array, or n. */
static size_t lower_bound(const struct dpdkmp_map **v, size_t n, const char *path)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(v[mid]->path, path) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static size_t group_len(const struct dpdkmp_map **v, size_t n, size_t i)
{
	size_t j = i;

	while (j < n && !strcmp(v[j]->path, v[i]->path))
		j++;
	return j - i;
}

/* The mapping containing addr (maps are sorted by address). */
static const struct dpdkmp_map *find_map(const struct side *s, uint64_t addr)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < s->v[mid].start)
			hi = mid;
		else if (addr >= s->v[mid].end)
			lo = mid + 1;
		else
			return &s->v[mid];
	}
	return NULL;
}

/* Does o map [p->start, p->end) exactly as p does? NULL if so, else what differs at *at, with the
 * mapping found there (or NULL: nothing mapped). */
static const char *range_differs(const struct dpdkmp_map *p, const struct side *o, uint64_t *at,
				 const struct dpdkmp_map **found)
{
	uint64_t addr = p->start;

	while (addr < p->end) {
		const struct dpdkmp_map *s = find_map(o, addr);

		*at = addr;
		*found = s;
		if (!s)
			return "nothing mapped";
		if (strcmp(s->path, p->path))
			return "another file mapped";
		if (s->dev_major != p->dev_major || s->dev_minor != p->dev_minor || s->inode != p->inode)
			return "another inode of the file mapped";
		if (s->offset + (addr - s->start) != p->offset + (addr - p->start))
			return "another offset of the file mapped";
		if (strcmp(s->perms, p->perms))
			return "other permissions";
		addr = s->end;
	}
	return NULL;
}

static void hex(const uint8_t *b, uint32_t n, char *out, size_t len)
{
	out[0] = '\0';
	for (uint32_t i = 0; i < n && 2 * i + 2 < len; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* exe, libs: is the file the primary maps the file the secondary maps? Build IDs when the kernel
 * reads them, else device and inode. */
static void identity(struct check_ctx *c, struct target *t, enum check_class cls,
		     const struct dpdkmp_map *pm, const struct dpdkmp_map *sm, const struct side *S,
		     bool differs, char *note, size_t nlen)
{
	uint8_t pid_[BUILD_ID_MAX], sid[BUILD_ID_MAX];
	uint32_t plen = 0, slen = 0;
	struct class_result *r = &t->res[cls];
	char ph[2 * BUILD_ID_MAX + 1], sh[2 * BUILD_ID_MAX + 1];
	struct mismatch *m;

	if (!c->procmap_why[0] &&
	    check_compare_build_id(c->primary_maps_fd, pm->start, pid_, &plen) == 0 &&
	    check_compare_build_id(S->fd, sm->start, sid, &slen) == 0 && plen && slen) {
		r->build_id++;
		hex(pid_, plen, ph, sizeof(ph));
		hex(sid, slen, sh, sizeof(sh));
		if (plen == slen && !memcmp(pid_, sid, plen)) {
			snprintf(note, nlen, "build ID %s", ph);
			return;
		}
		m = add_mm(t, cls, false, pm->path);
		snprintf(m->what, sizeof(m->what), "other build ID (primary %s, secondary %s)", ph, sh);
		map_line(pm, m->pline, sizeof(m->pline));
		map_line(sm, m->sline, sizeof(m->sline));
		return;
	}
	r->dev_inode++;
	snprintf(note, nlen, "device %02x:%02x inode %" PRIu64 " (no build ID)", pm->dev_major,
		 pm->dev_minor, pm->inode);
	if (differs || (pm->dev_major == sm->dev_major && pm->dev_minor == sm->dev_minor &&
			pm->inode == sm->inode))
		return;
	m = add_mm(t, cls, false, pm->path);
	snprintf(m->what, sizeof(m->what), "another file of that name (device and inode differ)");
	map_line(pm, m->pline, sizeof(m->pline));
	map_line(sm, m->sline, sizeof(m->sline));
}

/* One file the primary maps (pg, pn: its mappings) against the secondary's (sg, sn). */
static void compare_file(struct check_ctx *c, struct target *t, enum check_class cls,
			 const struct dpdkmp_map **pg, size_t pn, const struct dpdkmp_map **sg,
			 size_t sn, const struct side *P, const struct side *S)
{
	struct class_result *r = &t->res[cls];
	struct mismatch *first = NULL, *m;
	size_t before = t->ndiff;
	char note[256] = "";

	r->files++;
	r->ranges += (unsigned int)pn;
	if (!sn) {
		first = add_mm(t, cls, false, pg[0]->path);
		snprintf(first->what, sizeof(first->what), "not mapped by the secondary");
		map_line(pg[0], first->pline, sizeof(first->pline));
		first->more = (unsigned int)pn - 1;
		r->differ++;
		return;
	}
	for (size_t i = 0; i < pn; i++) {
		const struct dpdkmp_map *found = NULL, *moved = NULL;
		const char *why;
		uint64_t at = 0;

		why = range_differs(pg[i], S, &at, &found);
		if (!why)
			continue;
		if (first && !c->verbose) {
			first->more++;
			continue;
		}
		if (!found || strcmp(found->path, pg[i]->path))
			for (size_t j = 0; j < sn && !moved; j++)
				if (sg[j]->offset == pg[i]->offset)
					moved = sg[j];
		m = add_mm(t, cls, false, pg[i]->path);
		if (moved)
			snprintf(m->what, sizeof(m->what), "mapped at another address in the secondary "
				 "(%s0x%" PRIx64 ")", moved->start >= pg[i]->start ? "+" : "-",
				 moved->start >= pg[i]->start ? moved->start - pg[i]->start :
				 pg[i]->start - moved->start);
		else
			snprintf(m->what, sizeof(m->what), "%s in the secondary at 0x%" PRIx64, why, at);
		map_line(pg[i], m->pline, sizeof(m->pline));
		map_line(moved ? moved : found, m->sline, sizeof(m->sline));
		if (!first)
			first = m;
	}
	/* The secondary maps the file somewhere the primary does not (a second copy, a range
	 * the primary unmapped): only worth saying when the primary's ranges were all found. */
	for (size_t i = 0; !first && i < sn; i++) {
		const struct dpdkmp_map *found = NULL;
		const char *why;
		uint64_t at = 0;

		why = range_differs(sg[i], P, &at, &found);
		if (!why)
			continue;
		m = add_mm(t, cls, false, sg[i]->path);
		snprintf(m->what, sizeof(m->what), "the secondary maps it where the primary does not "
			 "(primary: %s at 0x%" PRIx64 ")", why, at);
		map_line(found, m->pline, sizeof(m->pline));
		map_line(sg[i], m->sline, sizeof(m->sline));
		first = m;
	}
	if (cls == CLS_EXE || cls == CLS_LIBS)
		identity(c, t, cls, pg[0], sg[0], S, first != NULL, note, sizeof(note));
	if (t->ndiff > before) {
		r->differ++;
	} else if (c->verbose) {
		m = add_mm(t, cls, true, pg[0]->path);
		snprintf(m->what, sizeof(m->what), "equal: %zu mapping%s%s%s", pn, pn == 1 ? "" : "s",
			 note[0] ? ", " : "", note);
	}
}

/* A file only the secondary maps: fine for its own fbarray copies and its own libraries. */
static void secondary_only(struct check_ctx *c, struct target *t, enum check_class cls,
			   const struct dpdkmp_map **sg, size_t sn, const struct side *P)
{
	struct class_result *r = &t->res[cls];
	const char *b = base_name(sg[0]->path), *u = strrchr(b, '_');
	const struct dpdkmp_map *found;
	struct mismatch *m;
	pid_t owner = 0;
	bool own;

	own = cls == CLS_LIBS ||
	      (cls == CLS_RUNDIR && u && parse_pid(u + 1, &owner) == 0 && owner == t->pid);
	if (own) {
		r->own++;
		if (c->verbose) {
			m = add_mm(t, cls, true, sg[0]->path);
			snprintf(m->what, sizeof(m->what), "the secondary's own (%s), %zu mapping%s",
				 cls == CLS_LIBS ? "not mapped by the primary" : "per-process copy",
				 sn, sn == 1 ? "" : "s");
			map_line(sg[0], m->sline, sizeof(m->sline));
		}
		return;
	}
	m = add_mm(t, cls, false, sg[0]->path);
	snprintf(m->what, sizeof(m->what), "mapped by the secondary only");
	found = find_map(P, sg[0]->start);
	map_line(found, m->pline, sizeof(m->pline));
	map_line(sg[0], m->sline, sizeof(m->sline));
	m->more = (unsigned int)sn - 1;
	r->differ++;
	r->extra++;
}

static int compare_class(struct check_ctx *c, struct target *t, enum check_class cls,
			 const struct side *P, const struct side *S)
{
	const struct dpdkmp_map **pa, **sa;
	size_t pn, sn;

	pa = collect(c, cls, P, &pn);
	sa = collect(c, cls, S, &sn);
	if (!pa || !sa) {
		free(pa);
		free(sa);
		return -ENOMEM;
	}
	for (size_t i = 0; i < pn;) {
		size_t gl = group_len(pa, pn, i), j = lower_bound(sa, sn, pa[i]->path);
		size_t sl = j < sn && !strcmp(sa[j]->path, pa[i]->path) ? group_len(sa, sn, j) : 0;

		compare_file(c, t, cls, pa + i, gl, sa + j, sl, P, S);
		i += gl;
	}
	for (size_t i = 0; i < sn;) {
		size_t gl = group_len(sa, sn, i), j = lower_bound(pa, pn, sa[i]->path);

		if (j == pn || strcmp(pa[j]->path, sa[i]->path))
			secondary_only(c, t, cls, sa + i, gl, P);
		i += gl;
	}
	free(pa);
	free(sa);
	return 0;
}

static void which_executable(const struct check_ctx *c, struct target *t,
			     const struct dpdkmp_map *sv, size_t sn)
{
	char p[64], s[64];
	struct stat ps, ss;

	snprintf(p, sizeof(p), "/proc/%d/exe", (int)c->primary);
	snprintf(s, sizeof(s), "/proc/%d/exe", (int)t->pid);
	t->exe = EXE_UNKNOWN;
	if (stat(p, &ps) < 0 || stat(s, &ss) < 0)
		return;
	if (ps.st_dev != ss.st_dev || ps.st_ino != ss.st_ino) {
		t->exe = EXE_OTHER;
		return;
	}
	t->exe = EXE_PRIMARY;
	for (size_t i = 0; i < sn; i++)
		if (!strncmp(sv[i].path, LOADER_MEMFD, strlen(LOADER_MEMFD))) {
			t->exe = EXE_LOADED;
			return;
		}
}

/* Reads both maps and compares every class; again, up to ATTEMPTS times, while they differ.
 * 0 (t->gone says when the secondary could not be read), or -1: the primary cannot be read. */
int check_compare_target(struct check_ctx *c, struct target *t)
{
	char path[64];
	struct dpdkmp_map *pv = NULL, *sv = NULL;
	size_t pn = 0, sn = 0;
	int sfd, ret;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)t->pid);
	sfd = open(path, O_RDONLY | O_CLOEXEC);
	if (sfd < 0) {
		snprintf(t->gone, sizeof(t->gone), "cannot open %s: %s", path,
			 errno == ENOENT ? "the process has exited" : strerror(errno));
		return 0;
	}
	for (t->attempts = 1; t->attempts <= ATTEMPTS; t->attempts++) {
		struct side P, S;

		reset_results(t);
		ret = dpdkmp_maps_read(c->primary, &pv, &pn);
		if (ret < 0) {
			DPDKMP_ERR("check: cannot read /proc/%d/maps of the primary: %s", (int)c->primary,
				   strerror(-ret));
			close(sfd);
			return -1;
		}
		ret = dpdkmp_maps_read(t->pid, &sv, &sn);
		if (ret < 0 || sn == 0) {
			snprintf(t->gone, sizeof(t->gone), "cannot read %s: %s", path,
				 ret == -ENOENT || ret == -ESRCH || !ret ? "the process has exited" :
				 strerror(-ret));
			free(pv);
			if (!ret)
				free(sv);
			close(sfd);
			return 0;
		}
		which_executable(c, t, sv, sn);
		P = (struct side){ .pid = c->primary, .v = pv, .n = pn, .fd = c->primary_maps_fd };
		S = (struct side){ .pid = t->pid, .v = sv, .n = sn, .fd = sfd };
		for (int k = 0; k < CLS_N; k++)
			if (compare_class(c, t, (enum check_class)k, &P, &S) < 0) {
				DPDKMP_ERR("check: out of memory");
				exit(2);
			}
		free(pv);
		free(sv);
		pv = sv = NULL;
		if (!t->ndiff || t->attempts == ATTEMPTS)
			break;
		sleep_ms(RETRY_DELAY_MS);
	}
	close(sfd);
	return 0;
}
