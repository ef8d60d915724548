/* initfiles: the files a child's EAL init opens.
 *
 * 1. Prepared hugepage files: a waiting pool child opens its own file description of each
 *    mirrored hugepage file before any request, and EAL's open of that file gets it.
 *
 *   waiting pool child                          the same child, in EAL's init
 *   open(map_7) -> fd 1031, close-on-exec       stat(map_7)                      real
 *                                                open(map_7, O_CREAT|O_RDWR)
 *                                                  the inode stat saw is 1031's, and
 *                                                  1031 is still that file (fstat) -> 1031,
 *                                                  close-on-exec cleared
 *                                                flock(LOCK_SH), ftruncate        real
 *
 *    Exact or nothing (docs/FAST-ATTACH.md): the fd EAL gets is a description of its own, of
 *    the file the path names at EAL's stat, opened read-write as EAL's open would; no lock is
 *    taken before EAL takes it (the primary's LOCK_EX probe of a freed page must see only real
 *    users). Anything else, and every fd EAL does not ask for, goes back to the kernel.
 *
 * 2. A new fbarray file in the runtime directory (a secondary's private memseg arrays, named
 *    after its pid): EAL creates it, then locks it. Every DPDK process ends its init by removing
 *    the fbarray files it can lock (eal_clean_runtime_dir); one that looks between the create
 *    and the lock removes the new file, and the secondary fails ("couldn't lock ...: Resource
 *    temporarily unavailable", docs/FAST-ATTACH.md). The child creates it under a name no
 *    cleaner matches and renames it once EAL has locked it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <dlfcn.h>

#include "internal.h"

/* ---- prepared hugepage files ------------------------------------------------------- */

enum { PREP_READY = 1, PREP_HANDED };

struct prep {
	char *path;
	int fd;
	dev_t dev;
	ino_t ino;
	uint8_t state;
	uint8_t statted;        /* EAL's last stat of path named this file */
};

static struct {
	struct prep *v;         /* v[i].fd == DPDKMP_PREPARED_FD_BASE + i */
	size_t n, cap;
	struct prep **by_path;  /* sorted by path */
	int on;                 /* EAL's init is running */
	int stale;              /* test hook: no stat names a prepared file */
} pr;

static int sys_fstat(int fd, struct stat *st)
{
	return (int)syscall(SYS_newfstatat, fd, "", st, AT_EMPTY_PATH);
}

static void count_file(const char *path, dev_t dev, ino_t ino, void *arg)
{
	(*(size_t *)arg)++;
}

static void open_file(const char *path, dev_t dev, ino_t ino, void *arg)
{
	struct prep *e;
	struct stat st;
	int fd, hi;

	if (pr.n == pr.cap)
		return;
	fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;
	/* The name still names the mirrored file: what EAL opens is what it will map. */
	if (sys_fstat(fd, &st) < 0 || st.st_dev != dev || st.st_ino != ino) {
		syscall(SYS_close, fd);
		return;
	}
	hi = fcntl(fd, F_DUPFD_CLOEXEC, DPDKMP_PREPARED_FD_BASE + (int)pr.n);
	syscall(SYS_close, fd);
	if (hi != DPDKMP_PREPARED_FD_BASE + (int)pr.n) {
		if (hi >= 0)
			syscall(SYS_close, hi);
		return;
	}
	e = &pr.v[pr.n];
	*e = (struct prep){ .path = strdup(path), .fd = hi, .dev = dev, .ino = ino,
			    .state = PREP_READY };
	if (!e->path) {
		syscall(SYS_close, hi);
		return;
	}
	pr.n++;
}

static int by_path_cmp(const void *a, const void *b)
{
	return strcmp((*(struct prep *const *)a)->path, (*(struct prep *const *)b)->path);
}

/* In a waiting pool child, before any request (zygote.c): its fds are stdio, its socket and
 * its run pipe, all below DPDKMP_PREPARED_FD_BASE. The files go above it, close-on-exec until
 * EAL asks for them (a program that execs before rte_eal_init passes none on). */
void dpdkmp_initfiles_prepare(void)
{
	struct rlimit rl, raised;
	size_t files = 0;

	if (getenv("DPDKMP_TEST_NO_PREPARE"))
		return;
	dpdkmp_segments_each_file(count_file, &files);
	if (!files || getrlimit(RLIMIT_NOFILE, &rl) < 0 ||
	    rl.rlim_max <= DPDKMP_PREPARED_FD_BASE)
		return;
	pr.cap = files;
	if (pr.cap > rl.rlim_max - DPDKMP_PREPARED_FD_BASE)
		pr.cap = rl.rlim_max - DPDKMP_PREPARED_FD_BASE;
	/* Above the soft limit only for as long as it takes to open them: the program finds the
	 * limit it was started with (EAL raises it to the hard limit in its init). */
	raised = rl;
	if (raised.rlim_cur < DPDKMP_PREPARED_FD_BASE + pr.cap)
		raised.rlim_cur = DPDKMP_PREPARED_FD_BASE + pr.cap;
	pr.v = calloc(pr.cap, sizeof(*pr.v));
	pr.by_path = calloc(pr.cap, sizeof(*pr.by_path));
	if (!pr.v || !pr.by_path || setrlimit(RLIMIT_NOFILE, &raised) < 0) {
		free(pr.v);
		free(pr.by_path);
		pr.v = NULL;
		pr.by_path = NULL;
		pr.cap = 0;
		return;
	}
	dpdkmp_segments_each_file(open_file, NULL);
	setrlimit(RLIMIT_NOFILE, &rl);
	for (size_t i = 0; i < pr.n; i++)
		pr.by_path[i] = &pr.v[i];
	qsort(pr.by_path, pr.n, sizeof(*pr.by_path), by_path_cmp);
}

/* One past the last prepared fd: child.c closes everything else above its own fds. */
int dpdkmp_initfiles_fd_end(void)
{
	return DPDKMP_PREPARED_FD_BASE + (int)pr.n;
}

/* ---- a new fbarray file ------------------------------------------------------------ */

static struct {
	int init;               /* EAL's init is running in this child */
	int racy;               /* test hook DPDKMP_TEST_RACY_FBARRAY: EAL's create as it is */
	int fd;                 /* EAL's new file, under a name no cleaner matches, until locked */
	char tmp[PATH_MAX], path[PATH_MAX];
} rf = { .fd = -1 };

typedef int (*flock_fn)(int, int);
static flock_fn real_flock;

static int is_fbarray(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash && slash != path && !strncmp(slash + 1, "fbarray_", 8);
}

/* Test hook: DPDKMP_TEST_FBARRAY_DELAY_MS makes EAL wait that long between its create of a
 * new fbarray file and its lock. */
static void test_delay(void)
{
	const char *v = getenv("DPDKMP_TEST_FBARRAY_DELAY_MS");
	long ms = v ? strtol(v, NULL, 10) : 0;

	if (ms > 0 && ms <= 10000) {
		struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

		while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
		}
	}
}

static int real_open_call(const char *path, int flags, mode_t mode);

/* EAL's open(path, O_CREAT | O_RDWR, 0600) of a <runtime dir>/fbarray_* file that does not
 * exist yet: made as <runtime dir>/.dpdkmp-PID-fbarray_..., a name no cleaner matches, and
 * given its own name at EAL's flock of it (dpdkmp_flock), locked already. -1 (errno
 * untouched) when the name exists (EAL then opens that file, as it would) or the temporary
 * name cannot be made. */
static int create_hidden(const char *path, int flags, mode_t mode)
{
	const char *slash = strrchr(path, '/');
	struct stat st;
	int err = errno, fd = -1;

	if ((flags & O_EXCL) || strlen(path) >= sizeof(rf.path) ||
	    syscall(SYS_newfstatat, AT_FDCWD, path, &st, 0) == 0 ||
	    snprintf(rf.tmp, sizeof(rf.tmp), "%.*s/.dpdkmp-%d-%s", (int)(slash - path), path,
		     (int)getpid(), slash + 1) >= (int)sizeof(rf.tmp))
		goto out;
	/* A leftover of a process of the same pid that died here. */
	syscall(SYS_unlinkat, AT_FDCWD, rf.tmp, 0);
	fd = real_open_call(rf.tmp, flags | O_EXCL, mode);
	if (fd >= 0) {
		rf.fd = fd;
		strcpy(rf.path, path);
	}
out:
	errno = err;
	return fd;
}

/* The new file EAL made is locked (or failed to be): its name, or gone. */
static void settle(int locked)
{
	int err = errno;

	if (!locked || syscall(SYS_renameat2, AT_FDCWD, rf.tmp, AT_FDCWD, rf.path, 0) < 0)
		syscall(SYS_unlinkat, AT_FDCWD, rf.tmp, 0);
	rf.fd = -1;
	errno = err;
}

int dpdkmp_flock(int fd, int op) __asm__("flock");

int dpdkmp_flock(int fd, int op)
{
	int ret = real_flock ? real_flock(fd, op) : (int)syscall(SYS_flock, fd, op);

	if (rf.fd >= 0 && fd == rf.fd)
		settle(ret == 0);
	return ret;
}

typedef int (*close_fn)(int);
static close_fn real_close;

/* EAL closes its fds with close(): its new fbarray file without a lock (its error path), or a
 * file the mapping check knows (segments.c). */
int close(int fd)
{
	if (rf.fd >= 0 && fd == rf.fd)
		settle(0);
	dpdkmp_segments_closed(fd);
	return real_close ? real_close(fd) : (int)syscall(SYS_close, fd);
}

/* ---- in EAL's init ----------------------------------------------------------------- */

void dpdkmp_initfiles_begin(int use_prepared)
{
	rf.init = 1;
	rf.racy = getenv("DPDKMP_TEST_RACY_FBARRAY") != NULL;
	if (!use_prepared || !pr.n)
		return;
	/* Test hook: as if every path named another file now. */
	pr.stale = getenv("DPDKMP_TEST_STALE_PREPARED") != NULL;
	pr.on = 1;
}

/* After EAL's init (or instead of it): every prepared file EAL did not ask for is closed, if
 * the fd is still ours (a program may have put something else there). */
void dpdkmp_initfiles_end(void)
{
	struct stat st;

	rf.init = 0;
	if (rf.fd >= 0)
		settle(0);
	pr.on = 0;
	for (size_t i = 0; i < pr.n; i++) {
		struct prep *e = &pr.v[i];

		if (e->state == PREP_READY && sys_fstat(e->fd, &st) == 0 && st.st_dev == e->dev &&
		    st.st_ino == e->ino)
			syscall(SYS_close, e->fd);
		free(e->path);
	}
	free(pr.v);
	free(pr.by_path);
	pr.v = NULL;
	pr.by_path = NULL;
	pr.n = pr.cap = 0;
}

static struct prep *find(const char *path)
{
	size_t lo = 0, hi = pr.n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(path, pr.by_path[mid]->path);

		if (!c)
			return pr.by_path[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* EAL's open(path, O_CREAT | O_RDWR, 0600) right after its stat(path): the prepared fd when
 * both name the same file, else -1. */
static int hand(const char *path, int flags)
{
	struct prep *e;
	struct stat st;
	int statted;

	if (flags != (O_CREAT | O_RDWR) || !(e = find(path)) || e->state != PREP_READY)
		return -1;
	statted = e->statted;
	e->statted = 0;
	if (!statted || sys_fstat(e->fd, &st) < 0 || st.st_dev != e->dev || st.st_ino != e->ino ||
	    fcntl(e->fd, F_SETFD, 0) < 0)
		return -1;
	e->state = PREP_HANDED;
	dpdkmp_segments_know(e->fd, e->dev, e->ino);
	return e->fd;
}

static void saw_stat(const char *path, int ret, const struct stat *st)
{
	struct prep *e = find(path);

	if (e)
		e->statted = ret == 0 && st->st_dev == e->dev && st->st_ino == e->ino && !pr.stale;
}

/* glibc's names (EAL calls stat64 and open64; on x86_64 each pair is one function). */
typedef int (*stat_fn)(const char *, struct stat *);
typedef int (*open_fn)(const char *, int, ...);

/* With 64-bit off_t, <sys/stat.h> and <fcntl.h> already call stat "stat64" and open "open64":
 * the exported names are given explicitly. */
int dpdkmp_stat(const char *path, struct stat *st) __asm__("stat");
int dpdkmp_stat64(const char *path, struct stat *st) __asm__("stat64") __attribute__((alias("stat")));
int dpdkmp_open(const char *path, int flags, ...) __asm__("open");
int dpdkmp_open64(const char *path, int flags, ...) __asm__("open64") __attribute__((alias("open")));

static stat_fn real_stat;
static open_fn real_open;

/* Looked up at load: the sandboxed processes forked later must not need the dynamic linker. */
__attribute__((constructor)) static void initfiles_resolve(void)
{
	real_stat = (stat_fn)dlvsym(RTLD_NEXT, "stat64", "GLIBC_2.33");
	real_open = (open_fn)dlsym(RTLD_NEXT, "open64");
	real_flock = (flock_fn)dlsym(RTLD_NEXT, "flock");
	real_close = (close_fn)dlsym(RTLD_NEXT, "close");
}

int dpdkmp_stat(const char *path, struct stat *st)
{
	int ret = real_stat ? real_stat(path, st) :
		  (int)syscall(SYS_newfstatat, AT_FDCWD, path, st, 0);

	if (pr.on && path)
		saw_stat(path, ret, st);
	return ret;
}

static int real_open_call(const char *path, int flags, mode_t mode)
{
	if (!real_open)
		return (int)syscall(SYS_openat, AT_FDCWD, path, flags, mode);
	return real_open(path, flags, mode);
}

static int open_call(const char *path, int flags, mode_t mode)
{
	int fd;

	if (pr.on && path && (fd = hand(path, flags)) >= 0)
		return fd;
	if (!rf.init || !path || !(flags & O_CREAT) || rf.fd >= 0 || !is_fbarray(path))
		return real_open_call(path, flags, mode);
	fd = rf.racy ? -1 : create_hidden(path, flags, mode);
	if (fd < 0)
		fd = real_open_call(path, flags, mode);
	if (fd >= 0)
		test_delay();
	return fd;
}

/* The mode argument, as glibc decides whether one was passed. */
static mode_t mode_arg(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(ap, mode_t) : 0;
}

int dpdkmp_open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	return open_call(path, flags, mode);
}
