/* segments: the primary's hugepage segments, mapped by the zygote at the primary's addresses
 * (following the primary's memory events) so that a child inherits them, and a child's genuine
 * EAL init finding them there: its mapping of a segment that is already mapped, from the same
 * file at the same offset, costs a fstat instead of an mmap that populates the page tables.
 *
 *   zygote (memseg window, 16 GiB)           child, during EAL init
 *   [seg 0][seg 1][ PROT_NONE reservation ]   EAL reserves the window    -> gaps become EAL's
 *    MAP_SHARED from the primary's files       EAL maps seg 0 from its fd -> same inode: kept
 *                                               EAL asks seg 0's IOVA      -> the primary's
 *                                               not claimed at the end     -> EAL's reservation
 *
 * Exact or nothing (docs/FAST-ATTACH.md): a segment is kept only for EAL's own mapping call
 * with the same address, length, offset and file (device and inode of EAL's fd); anything else
 * goes to the kernel, and whatever EAL did not claim is put back as EAL's reservation. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/mempolicy.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <dlfcn.h>
#include <rte_eal.h>
#include <rte_memory.h>

#include "internal.h"
#include "log.h"

struct seg {
	uint64_t addr;
	uint64_t len;
	uint64_t off;
	uint64_t iova;
	dev_t dev;
	ino_t ino;
	char *path;             /* the file's name when mirrored, or NULL (initfiles.c) */
	uint8_t claimed;        /* child: EAL mapped it (kept) */
	uint8_t gone;           /* child: replaced by a real mapping call */
};

static struct {
	const struct dpdkmp_winset *ws;
	struct seg *v;          /* sorted by addr, no overlaps */
	size_t n, cap;
	/* child, during EAL init */
	int on;
	uint32_t held;          /* bit i: memseg window i kept reserved for EAL's request */
	uint32_t given;         /* bit i: EAL has reserved window i (gaps are EAL's) */
	int iova_pa;            /* answer rte_mem_virt2iova from the primary's IOVAs */
	int numa_probe, numa_probe_errno;
	int one_node;           /* the kernel's possible NUMA nodes are node 0 alone */
	/* child, during EAL init: the files of EAL's fds seen by the mapping check, so that a
	 * file mapped page by page (single file segments) is looked at once; forgotten when EAL
	 * closes the fd */
	struct known_fd {
		int fd;
		dev_t dev;
		ino_t ino;
	} known[8];
	unsigned int nknown;
} sm;

/* The mapping system calls themselves: the interposers below must not call themselves. */
static void *sys_mmap(void *a, size_t l, int prot, int flags, int fd, off_t off)
{
	long r = syscall(SYS_mmap, a, l, prot, flags, fd, off);

	return r < 0 && r > -4096 ? MAP_FAILED : (void *)r;
}

static void reserve(uint64_t addr, uint64_t len)
{
	sys_mmap((void *)(uintptr_t)addr, len, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
}

static int memseg_window(uint64_t addr, uint64_t len)
{
	for (uint32_t i = 0; sm.ws && i < sm.ws->n && i < 32; i++) {
		const struct dpdkmp_window *w = &sm.ws->w[i];

		if (w->kind == DPDKMP_WIN_MEMSEG && addr >= w->addr && addr + len > addr &&
		    addr + len <= w->addr + w->len)
			return (int)i;
	}
	return -1;
}

/* First segment whose end is above addr. */
static size_t lower(uint64_t addr)
{
	size_t lo = 0, hi = sm.n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (sm.v[mid].addr + sm.v[mid].len <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct seg *find(uint64_t addr)
{
	size_t i = lower(addr);

	return i < sm.n && sm.v[i].addr <= addr ? &sm.v[i] : NULL;
}

static void forget(uint64_t addr, uint64_t len)
{
	size_t i = lower(addr), j = i;

	while (j < sm.n && sm.v[j].addr < addr + len) {
		reserve(sm.v[j].addr, sm.v[j].len);
		free(sm.v[j].path);
		j++;
	}
	memmove(&sm.v[i], &sm.v[j], (sm.n - j) * sizeof(sm.v[0]));
	sm.n -= j - i;
}

/* ---- zygote ------------------------------------------------------------------------ */

/* The possible node mask is fixed at boot: with node 0 alone, every page is on node 0. */
static int only_node0(void)
{
	char buf[16] = "";
	int fd = open("/sys/devices/system/node/possible", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	return n > 0 && !strcmp(buf, "0\n");
}

void dpdkmp_segments_init(const struct dpdkmp_winset *ws)
{
	sm.ws = ws;
	/* The answer to libnuma's numa_available() probe, asked once (see get_mempolicy). */
	sm.numa_probe = (int)syscall(SYS_get_mempolicy, NULL, NULL, 0UL, NULL, 0U);
	sm.numa_probe_errno = sm.numa_probe < 0 ? errno : 0;
	sm.one_node = only_node0();
}

/* A waiting pool child (zygote.c) faults the mirrored pages in before any request: fork
 * copies no page tables of shared hugetlb mappings, and EAL writes to each page it maps, which
 * would fault each one during its init. A read maps a page of a shared writable mapping
 * writable, and changes nothing in it. */
void dpdkmp_segments_prefault(void)
{
	if (getenv("DPDKMP_TEST_NO_PREFAULT"))
		return;
	for (size_t i = 0; i < sm.n; i++)
		(void)*(volatile const char *)(uintptr_t)sm.v[i].addr;
}

static int add_one(const struct dpdkmp_seg *s, int fd, const struct stat *st, const char *path)
{
	struct seg *e;
	size_t i;

	if (memseg_window(s->addr, s->len) < 0)
		return -EINVAL;
	forget(s->addr, s->len);
	if (sm.n == sm.cap) {
		size_t cap = sm.cap ? sm.cap * 2 : 1024;
		struct seg *v = realloc(sm.v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		sm.v = v;
		sm.cap = cap;
	}
	if (sys_mmap((void *)(uintptr_t)s->addr, s->len, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_POPULATE | MAP_FIXED, fd, (off_t)s->offset) == MAP_FAILED) {
		int err = errno;

		reserve(s->addr, s->len);
		return -err;
	}
	i = lower(s->addr);
	memmove(&sm.v[i + 1], &sm.v[i], (sm.n - i) * sizeof(sm.v[0]));
	e = &sm.v[i];
	*e = (struct seg){ .addr = s->addr, .len = s->len, .off = s->offset, .iova = s->iova,
			   .dev = st->st_dev, .ino = st->st_ino, .path = path ? strdup(path) : NULL };
	sm.n++;
	return 0;
}

/* The name a primary's file has now (what EAL builds to open it), or NULL: unlinked. */
static char *file_name(const char *proc_fd)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(proc_fd, buf, sizeof(buf) - 1);

	if (n <= 0 || buf[0] != '/')
		return NULL;
	buf[n] = '\0';
	if (n > 10 && !strcmp(buf + n - 10, " (deleted)"))
		return NULL;
	return strdup(buf);
}

void dpdkmp_segments_apply(const struct dpdkmp_segments *h, const struct dpdkmp_seg *s,
			   const int *fds, uint32_t nfds)
{
	int own[DPDKMP_MAX_FDS];
	struct stat st[DPDKMP_MAX_FDS];
	char *name[DPDKMP_MAX_FDS];
	unsigned int failed = 0;
	int first_err = 0;

	if (h->op == DPDKMP_SEGS_DEL) {
		for (uint32_t i = 0; i < h->nsegs; i++)
			forget(s[i].addr, s[i].len);
		return;
	}
	/* A file description of our own, without the primary's lock: EAL's flock protocol
	 * (a LOCK_SH per user, LOCK_EX to decide who unlinks a freed page) must not see us. */
	for (uint32_t f = 0; f < nfds; f++) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[f]);
		own[f] = open(path, O_RDWR | O_CLOEXEC);
		if (own[f] >= 0 && fstat(own[f], &st[f]) < 0) {
			close(own[f]);
			own[f] = -1;
		}
		name[f] = own[f] >= 0 ? file_name(path) : NULL;
	}
	for (uint32_t i = 0; i < h->nsegs; i++) {
		int ret = own[s[i].fd] < 0 ? -EBADF :
			  add_one(&s[i], own[s[i].fd], &st[s[i].fd], name[s[i].fd]);

		if (ret < 0 && !failed++)
			first_err = -ret;
	}
	for (uint32_t f = 0; f < nfds; f++) {
		if (own[f] >= 0)
			close(own[f]);
		free(name[f]);
	}
	if (failed)
		DPDKMP_WARN("%u of %u hugepage segments not mirrored (first error: %s); "
			    "secondaries map them themselves", failed, h->nsegs, strerror(first_err));
}

void dpdkmp_segments_drop_all(void)
{
	while (sm.n)
		forget(sm.v[0].addr, sm.v[sm.n - 1].addr + sm.v[sm.n - 1].len - sm.v[0].addr);
}

/* A process forked from the zygote that is no secondary (the broker) must not hold pages the
 * primary may free. */
void dpdkmp_segments_unmap_all(void)
{
	for (size_t i = 0; i < sm.n; i++) {
		syscall(SYS_munmap, (void *)(uintptr_t)sm.v[i].addr, sm.v[i].len);
		free(sm.v[i].path);
	}
	sm.n = 0;
}

/* Calls fn once per mirrored file (a file's segments are neighbours: one page, or a memseg
 * list of single file segments). */
void dpdkmp_segments_each_file(void (*fn)(const char *path, dev_t dev, ino_t ino, void *arg),
			       void *arg)
{
	for (size_t i = 0; i < sm.n; i++) {
		const struct seg *e = &sm.v[i];

		if (!e->path || (i > 0 && sm.v[i - 1].path && sm.v[i - 1].dev == e->dev &&
				 sm.v[i - 1].ino == e->ino))
			continue;
		fn(e->path, e->dev, e->ino, arg);
	}
}

/* The end of the last mirrored segment in [addr, addr+len), or addr when there is none. */
uint64_t dpdkmp_segments_end_in(uint64_t addr, uint64_t len)
{
	size_t i = lower(addr + len);
	uint64_t end = addr;

	/* lower() gives the first segment ending above addr+len; the one before it is the last
	 * one inside (segments never straddle a window). */
	if (i > 0 && sm.v[i - 1].addr >= addr && sm.v[i - 1].addr < addr + len)
		end = sm.v[i - 1].addr + sm.v[i - 1].len;
	return end;
}

size_t dpdkmp_segments_count(void)
{
	return sm.n;
}

uint64_t dpdkmp_segments_bytes(void)
{
	uint64_t b = 0;

	for (size_t i = 0; i < sm.n; i++)
		b += sm.v[i].len;
	return b;
}

/* ---- child ------------------------------------------------------------------------- */

/* Called with the windows still reserved, before EAL's init: which memseg windows keep
 * their reservation (and mirrored segments) for EAL's own reservation request. */
void dpdkmp_segments_begin(uint32_t primary_flags)
{
	if (!sm.n || !sm.ws)
		return;
	if (getenv("DPDKMP_TEST_STALE_SEGMENTS")) {
		/* Test hook: a mirror that does not match the primary's files any more. */
		for (size_t i = 0; i < sm.n; i++)
			sm.v[i].ino ^= 1;
	}
	sm.on = 1;
	sm.iova_pa = !!(primary_flags & DPDKMP_PRIMARY_IOVA_PA);
	if (getenv("DPDKMP_TEST_ASK_NODE"))
		sm.one_node = 0;        /* test hook: every page's node asked */
	for (size_t i = 0; i < sm.n; i++) {
		int w = memseg_window(sm.v[i].addr, sm.v[i].len);

		if (w >= 0)
			sm.held |= 1u << w;
	}
}

int dpdkmp_segments_held(uint32_t window)
{
	return sm.on && window < 32 && (sm.held >> window & 1);
}

/* Every segment EAL did not map is given back as what EAL's reservation would be there. */
void dpdkmp_segments_end(void)
{
	if (!sm.on)
		return;
	for (size_t i = 0; i < sm.n; i++) {
		struct seg *e = &sm.v[i];
		int w = memseg_window(e->addr, e->len);

		if (e->claimed || e->gone)
			continue;
		if (w >= 0 && (sm.given >> w & 1)) {
			sys_mmap((void *)(uintptr_t)e->addr, e->len, PROT_NONE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
			syscall(SYS_madvise, (void *)(uintptr_t)e->addr, e->len, MADV_DONTDUMP);
		} else {
			/* EAL never reserved this window: as if it had been released. */
			syscall(SYS_munmap, (void *)(uintptr_t)e->addr, e->len);
		}
		e->gone = 1;
	}
	for (uint32_t w = 0; sm.ws && w < sm.ws->n && w < 32; w++)
		if ((sm.held >> w & 1) && !(sm.given >> w & 1))
			dpdkmp_window_release_gaps(&sm.ws->w[w]);
	sm.on = 0;
	sm.nknown = 0;
}

/* Calls fn on each part of [addr, addr+len) that holds no mirrored segment kept for EAL. */
static int each_gap(uint64_t addr, uint64_t len, int (*fn)(uint64_t, uint64_t, void *), void *arg)
{
	uint64_t at = addr, end = addr + len;
	int ret;

	for (size_t i = lower(addr); i < sm.n && sm.v[i].addr < end; i++) {
		if (sm.v[i].gone)
			continue;
		if (sm.v[i].addr > at && (ret = fn(at, sm.v[i].addr - at, arg)) < 0)
			return ret;
		at = sm.v[i].addr + sm.v[i].len;
	}
	return at < end ? fn(at, end - at, arg) : 0;
}

static int gap_unmap(uint64_t a, uint64_t l, void *arg)
{
	(void)arg;
	return (int)syscall(SYS_munmap, (void *)(uintptr_t)a, l);
}

void dpdkmp_window_release_gaps(const struct dpdkmp_window *w)
{
	each_gap(w->addr, w->len, gap_unmap, NULL);
	/* The segments themselves: released as well, EAL will not map over them now. */
	for (size_t i = lower(w->addr); i < sm.n && sm.v[i].addr < w->addr + w->len; i++) {
		if (!sm.v[i].gone && !sm.v[i].claimed)
			syscall(SYS_munmap, (void *)(uintptr_t)sm.v[i].addr, sm.v[i].len);
		sm.v[i].gone = 1;
	}
}

struct gap_map {
	int prot, flags;
};

static int gap_map(uint64_t a, uint64_t l, void *arg)
{
	const struct gap_map *g = arg;

	return sys_mmap((void *)(uintptr_t)a, l, g->prot, g->flags | MAP_FIXED, -1, 0) == MAP_FAILED ?
	       -errno : 0;
}

static int gap_madvise(uint64_t a, uint64_t l, void *arg)
{
	return (int)syscall(SYS_madvise, (void *)(uintptr_t)a, l, *(int *)arg);
}

/* The window whose exact range this is, if it is held for EAL. */
static int held_window(const void *addr, size_t len)
{
	for (uint32_t i = 0; sm.ws && i < sm.ws->n && i < 32; i++)
		if (sm.ws->w[i].addr == (uint64_t)(uintptr_t)addr && sm.ws->w[i].len == len &&
		    (sm.held >> i & 1))
			return (int)i;
	return -1;
}

/* An fd whose file was just looked at (here, or by initfiles.c when it hands EAL an fd). */
void dpdkmp_segments_know(int fd, dev_t dev, ino_t ino)
{
	sm.known[sm.nknown++ % 8] = (struct known_fd){ .fd = fd, .dev = dev, .ino = ino };
}

/* The device and inode of EAL's fd, from one fstat per fd until EAL closes it. */
static const struct known_fd *known_file(int fd)
{
	struct stat st;

	for (unsigned int i = 0; i < sm.nknown && i < 8; i++)
		if (sm.known[i].fd == fd)
			return &sm.known[i];
	if (fstat(fd, &st) < 0)
		return NULL;
	dpdkmp_segments_know(fd, st.st_dev, st.st_ino);
	return &sm.known[(sm.nknown - 1) % 8];
}

static void *map_call(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	uint64_t a = (uint64_t)(uintptr_t)addr;
	int w;

	if (sm.on && fd < 0 && prot == PROT_NONE && flags == (MAP_PRIVATE | MAP_ANONYMOUS) &&
	    (w = held_window(addr, len)) >= 0 && !(sm.given >> w & 1)) {
		/* EAL reserves a window that we kept: its gaps become EAL's reservation, the
		 * mirrored segments stay for EAL's own mapping calls. */
		struct gap_map g = { .prot = prot, .flags = flags };

		if (each_gap(a, len, gap_map, &g) == 0) {
			sm.given |= 1u << w;
			return addr;
		}
		dpdkmp_window_release_gaps(&sm.ws->w[w]);
		sm.held &= ~(1u << w);
		return sys_mmap(addr, len, prot, flags, fd, off);
	}
	if (sm.on && fd >= 0 && prot == (PROT_READ | PROT_WRITE) &&
	    flags == (MAP_SHARED | MAP_POPULATE | MAP_FIXED)) {
		struct seg *e = find(a);
		const struct known_fd *k;

		if (e && !e->claimed && !e->gone && e->addr == a && e->len == len &&
		    e->off == (uint64_t)off && (k = known_file(fd)) && k->dev == e->dev &&
		    k->ino == e->ino) {
			e->claimed = 1;
			return addr;
		}
	}
	if (sm.on && a) {
		/* A real call over mirrored segments replaces them: they are not ours any more. */
		for (size_t i = lower(a); i < sm.n && sm.v[i].addr < a + len; i++)
			if (!sm.v[i].claimed)
				sm.v[i].gone = 1;
	}
	return sys_mmap(addr, len, prot, flags, fd, off);
}

/* Both names glibc exports (with 64-bit off_t, <sys/mman.h> already calls mmap "mmap64"). */
void *dpdkmp_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) __asm__("mmap");
void *dpdkmp_mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off) __asm__("mmap64");
int madvise(void *addr, size_t len, int advice);
rte_iova_t rte_mem_virt2iova(const void *virt);

void *dpdkmp_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return map_call(addr, len, prot, flags, fd, off);
}

void *dpdkmp_mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return map_call(addr, len, prot, flags, fd, off);
}

int madvise(void *addr, size_t len, int advice)
{
	int w;

	/* EAL excludes its fresh reservation from core dumps; the segments it then maps are
	 * new mappings without that flag, as the mirrored ones must stay. */
	if (sm.on && advice == MADV_DONTDUMP && (w = held_window(addr, len)) >= 0 &&
	    (sm.given >> w & 1))
		return each_gap((uint64_t)(uintptr_t)addr, len, gap_madvise, &advice) < 0 ? -1 : 0;
	return (int)syscall(SYS_madvise, addr, len, advice);
}

/* EAL closed fd (initfiles.c's close): it is not the file the mapping check saw any more (an
 * fd closed another way during EAL's init would have to be reused for another file between
 * two of EAL's mapping calls with it, which EAL never does). */
void dpdkmp_segments_closed(int fd)
{
	if (sm.on)
		for (unsigned int i = 0; i < sm.nknown && i < 8; i++)
			if (sm.known[i].fd == fd)
				sm.known[i].fd = -1;
}

/* libnuma's system call wrapper, which EAL calls for each page it maps: once through
 * numa_available() (all arguments 0: "is there NUMA?", whose answer depends only on the
 * kernel), and once for the node of the page: answered for a page EAL kept from the mirror
 * (mapped, so the kernel would not fail) when node 0 is the only possible node, asked
 * otherwise. */
long get_mempolicy(int *mode, unsigned long *nmask, unsigned long maxnode, void *addr,
		   unsigned int flags);

long get_mempolicy(int *mode, unsigned long *nmask, unsigned long maxnode, void *addr,
		   unsigned int flags)
{
	struct seg *e;

	if (sm.on && !mode && !nmask && !maxnode && !addr && !flags) {
		if (sm.numa_probe < 0)
			errno = sm.numa_probe_errno;
		return sm.numa_probe;
	}
	if (sm.on && sm.one_node && mode && !nmask && flags == (MPOL_F_NODE | MPOL_F_ADDR) &&
	    (e = find((uint64_t)(uintptr_t)addr)) && e->claimed && !e->gone) {
		*mode = 0;
		return 0;
	}
	return syscall(SYS_get_mempolicy, mode, nmask, maxnode, addr, flags);
}

typedef rte_iova_t (*virt2iova_fn)(const void *);

/* EAL asks each segment's IOVA after mapping it (a /proc/self/pagemap open, seek, read and
 * close with IOVA as PA); for a segment kept from the mirror the primary's IOVA of the same
 * page of the same file is the answer. */
rte_iova_t rte_mem_virt2iova(const void *virt)
{
	static virt2iova_fn real;
	struct seg *e;

	if (sm.on && sm.iova_pa && rte_eal_iova_mode() == RTE_IOVA_PA &&
	    (e = find((uint64_t)(uintptr_t)virt)) && e->claimed && e->iova != RTE_BAD_IOVA)
		return e->iova + ((uint64_t)(uintptr_t)virt - e->addr);
	if (!real) {
		real = (virt2iova_fn)dlvsym(RTLD_NEXT, "rte_mem_virt2iova", "DPDK_23");
		if (!real)
			real = (virt2iova_fn)dlsym(RTLD_NEXT, "rte_mem_virt2iova");
	}
	return real(virt);
}
