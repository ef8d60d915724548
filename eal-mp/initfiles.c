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
 *    cleaner matches and renames it once EAL has locked it.
 *
 * 3. Prepared memseg arrays: those fbarray files, made by a waiting pool child under the hidden
 *    name of 2, of the size EAL gives them and zero-filled, so that EAL's zeroing of them finds
 *    their pages in the page cache. EAL's create gets one only where its open would have made
 *    the same file. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
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

#define HIDDEN ".dpdkmp-"

/* <dir>/NAME -> <dir>/.dpdkmp-PID-NAME, the name a new fbarray file has until EAL locks it (and
 * the one dpdkmp_initfiles_sweep looks for). -1 when it does not fit. */
static int hidden_name(char *out, size_t len, const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return -1;
	return snprintf(out, len, "%.*s/" HIDDEN "%d-%s", (int)(slash - path), path,
			(int)getpid(), slash + 1) < (int)len ? 0 : -1;
}

/* The link count of that file when name names it, else 0. */
static nlink_t links_to(const char *name, dev_t dev, ino_t ino)
{
	struct stat st;

	if (syscall(SYS_newfstatat, AT_FDCWD, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    st.st_dev != dev || st.st_ino != ino)
		return 0;
	return st.st_nlink;
}

/* ---- prepared memseg arrays ------------------------------------------------------- */

/* Prepared memseg arrays: a secondary's EAL makes a private copy of each of the primary's
 * memseg lists (fbarray_memseg-..._PID, the same size as the primary's file), and zeroes all
 * of it through a shared mapping: with a new file, every page of it faults in a new page
 * cache page (about 100 per list; on ext4, block reservations too). A waiting pool child makes
 * each file under its hidden name, of that size and zero-filled, before any request; EAL's
 * create of the name gets it, and the rename at EAL's flock is section 2's. */
#define MAX_PREP_ARRAYS 32

static struct {
	struct prep_array {
		int fd;
		dev_t dev;
		ino_t ino;
		char *path;     /* <runtime dir>/NAME_PID, what EAL creates (hidden_name: made as) */
	} v[MAX_PREP_ARRAYS];
	int n;
	int on;                 /* EAL's init is running, with shortcuts */
	int stale;              /* test hook: as if the hidden names named other files */
	int fscreate;           /* the program set a security context for the files it creates */
	mode_t umask;           /* the creation mode came from these */
	uid_t euid;
	gid_t egid;
} pa;

static void drop_array(struct prep_array *a)
{
	char tmp[PATH_MAX];

	if (a->fd >= 0) {
		/* the hidden name is removed only while it still names this file */
		if (hidden_name(tmp, sizeof(tmp), a->path) == 0 && links_to(tmp, a->dev, a->ino))
			syscall(SYS_unlinkat, AT_FDCWD, tmp, 0);
		syscall(SYS_close, a->fd);
	}
	free(a->path);
	*a = (struct prep_array){ .fd = -1 };
}

/* Zero-filled to size through write(2): the pages are in the page cache when EAL maps them. */
static int zero_fill(int fd, off_t size)
{
	static const char zero[65536];

	for (off_t off = 0; off < size;) {
		size_t n = size - off < (off_t)sizeof(zero) ? (size_t)(size - off) : sizeof(zero);
		ssize_t w = pwrite(fd, zero, n, off);

		if (w <= 0)
			return -1;
		off += w;
	}
	return 0;
}

static void prepare_array(int dirfd, const char *rundir, const char *name, int *next_fd)
{
	struct prep_array *a = &pa.v[pa.n];
	char tmp[PATH_MAX], path[PATH_MAX];
	struct stat st;
	int fd;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
	    snprintf(path, sizeof(path), "%s/%s_%d", rundir, name, (int)getpid()) >=
		    (int)sizeof(path) ||
	    hidden_name(tmp, sizeof(tmp), path) < 0)
		return;
	syscall(SYS_unlinkat, AT_FDCWD, tmp, 0);        /* a leftover of a dead pid */
	fd = real_open_call(tmp, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	*a = (struct prep_array){ .fd = fcntl(fd, F_DUPFD_CLOEXEC, *next_fd), .path = strdup(path) };
	syscall(SYS_close, fd);
	if (a->fd != *next_fd || !a->path || ftruncate(a->fd, st.st_size) < 0 ||
	    zero_fill(a->fd, st.st_size) < 0 || sys_fstat(a->fd, &st) < 0) {
		syscall(SYS_unlinkat, AT_FDCWD, tmp, 0);
		if (a->fd >= 0)
			syscall(SYS_close, a->fd);
		free(a->path);
		return;
	}
	a->dev = st.st_dev;
	a->ino = st.st_ino;
	(*next_fd)++;
	pa.n++;
}

/* The primary's memseg arrays are <runtime dir>/fbarray_memseg-SIZEk-TYPE-LIST: no '_' after
 * "fbarray_" (a secondary's copies end in _PID). */
static void prepare_arrays(const char *rundir)
{
	int next_fd = DPDKMP_PREPARED_FD_BASE + (int)pr.n;
	struct dirent *e;
	DIR *d;

	if (!rundir || !*rundir || !(d = opendir(rundir)))
		return;
	pa.umask = umask(0);
	umask(pa.umask);
	pa.euid = geteuid();
	pa.egid = getegid();
	while ((e = readdir(d)) && pa.n < MAX_PREP_ARRAYS)
		if (!strncmp(e->d_name, "fbarray_memseg-", 15) && !strchr(e->d_name + 8, '_'))
			prepare_array(dirfd(d), rundir, e->d_name, &next_fd);
	closedir(d);
}

/* EAL's create of a memseg array file that a waiting child prepared: its fd, when the hidden
 * name (already in rf.tmp) still names it and EAL's open would have made the same file (flags,
 * mode, umask, owner, security context), else -1. The caller has made sure that the name does
 * not exist. */
static int hand_array(const char *path, int flags, mode_t mode)
{
	mode_t um;

	for (int i = 0; pa.on && i < pa.n; i++) {
		struct prep_array *a = &pa.v[i];

		if (a->fd < 0 || strcmp(a->path, path))
			continue;
		um = umask(0);
		umask(um);
		if (pa.stale || flags != (O_CREAT | O_RDWR) || mode != 0600 || um != pa.umask ||
		    pa.fscreate || geteuid() != pa.euid || getegid() != pa.egid ||
		    links_to(rf.tmp, a->dev, a->ino) != 1)
			return -1;
		/* EAL keeps this fd: at the number its open would have had, not close-on-exec */
		if ((rf.fd = fcntl(a->fd, F_DUPFD, 0)) < 0)
			return -1;
		syscall(SYS_close, a->fd);
		strcpy(rf.path, path);
		free(a->path);
		*a = (struct prep_array){ .fd = -1 };
		return rf.fd;
	}
	return -1;
}

/* Every prepared array no EAL took: its hidden name goes, and its fd. */
static void drop_arrays(void)
{
	for (int i = 0; i < pa.n; i++)
		drop_array(&pa.v[i]);
	pa.n = 0;
}

/* ---- in a waiting pool child ------------------------------------------------------ */

/* In a waiting pool child, before any request (zygote.c): its fds are stdio, its socket and
 * its run pipe, all below DPDKMP_PREPARED_FD_BASE. The files go above it, close-on-exec until
 * EAL asks for them (a program that execs before rte_eal_init passes none on). */
void dpdkmp_initfiles_prepare(const char *rundir)
{
	struct rlimit rl, raised;
	size_t files = 0;

	if (getenv("DPDKMP_TEST_NO_PREPARE"))
		return;
	dpdkmp_segments_each_file(count_file, &files);
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 ||
	    rl.rlim_max <= DPDKMP_PREPARED_FD_BASE + MAX_PREP_ARRAYS)
		return;
	pr.cap = files;
	if (pr.cap > rl.rlim_max - DPDKMP_PREPARED_FD_BASE - MAX_PREP_ARRAYS)
		pr.cap = rl.rlim_max - DPDKMP_PREPARED_FD_BASE - MAX_PREP_ARRAYS;
	/* Above the soft limit only for as long as it takes to open them: the program finds the
	 * limit it was started with (EAL raises it to the hard limit in its init). */
	raised = rl;
	if (raised.rlim_cur < DPDKMP_PREPARED_FD_BASE + pr.cap + MAX_PREP_ARRAYS)
		raised.rlim_cur = DPDKMP_PREPARED_FD_BASE + pr.cap + MAX_PREP_ARRAYS;
	pr.v = calloc(pr.cap ? pr.cap : 1, sizeof(*pr.v));
	pr.by_path = calloc(pr.cap ? pr.cap : 1, sizeof(*pr.by_path));
	if (!pr.v || !pr.by_path || setrlimit(RLIMIT_NOFILE, &raised) < 0) {
		free(pr.v);
		free(pr.by_path);
		pr.v = NULL;
		pr.by_path = NULL;
		pr.cap = 0;
		return;
	}
	dpdkmp_segments_each_file(open_file, NULL);
	prepare_arrays(rundir);
	setrlimit(RLIMIT_NOFILE, &rl);
	for (size_t i = 0; i < pr.n; i++)
		pr.by_path[i] = &pr.v[i];
	qsort(pr.by_path, pr.n, sizeof(*pr.by_path), by_path_cmp);
}

/* A waiting pool child that ends without a request: no hidden file stays behind. */
void dpdkmp_initfiles_discard(void)
{
	drop_arrays();
}

/* One past the last prepared fd: child.c closes everything else above its own fds. */
int dpdkmp_initfiles_fd_end(void)
{
	return DPDKMP_PREPARED_FD_BASE + (int)pr.n + pa.n;
}

/* ---- in the zygote ----------------------------------------------------------------- */

/* The zygote, for each child it reaped (pid), and once when the primary's init is done
 * (pid 0: of every pid that no longer exists, such as pool children killed together with
 * their zygote): a hidden file (hidden_name) of that pid, section 2's or a prepared array of
 * a pool child that died waiting or ran a program which never called rte_eal_init, does not
 * outlive it. */
void dpdkmp_initfiles_sweep(const char *rundir, int pid)
{
	struct dirent *e;
	DIR *d;

	if (!rundir || !*rundir || !(d = opendir(rundir)))
		return;
	while ((e = readdir(d))) {
		char *end;
		long owner;

		if (strncmp(e->d_name, HIDDEN, strlen(HIDDEN)))
			continue;
		owner = strtol(e->d_name + strlen(HIDDEN), &end, 10);
		if (*end != '-' || owner <= 0 || owner > INT_MAX ||
		    (pid ? owner != pid : kill((pid_t)owner, 0) == 0 || errno != ESRCH))
			continue;
		unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}

/* EAL's open(path, O_CREAT | O_RDWR, 0600) of a <runtime dir>/fbarray_* file that does not
 * exist yet: made as <runtime dir>/.dpdkmp-PID-fbarray_..., a name no cleaner matches, and
 * given its own name at EAL's flock of it (dpdkmp_flock), locked already. -1 (errno
 * untouched) when the name exists (EAL then opens that file, as it would) or the temporary
 * name cannot be made. */
static int create_hidden(const char *path, int flags, mode_t mode)
{
	struct stat st;
	int err = errno, fd = -1;

	if ((flags & O_EXCL) || strlen(path) >= sizeof(rf.path) ||
	    syscall(SYS_newfstatat, AT_FDCWD, path, &st, 0) == 0 ||
	    hidden_name(rf.tmp, sizeof(rf.tmp), path) < 0)
		goto out;
	/* Made already by this child while it waited in the pool? */
	if ((fd = hand_array(path, flags, mode)) >= 0)
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

/* 1 when this thread has a creation context for new files (SELinux setfscreatecon): the
 * files it creates are labelled with it, not as a waiting child's were. No LSM: EINVAL. */
static int fscreate_set(void)
{
	char buf[256];
	int err = errno, set;
	int fd = (int)syscall(SYS_openat, AT_FDCWD, "/proc/thread-self/attr/fscreate",
			      O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		set = errno != ENOENT;
	} else {
		n = read(fd, buf, sizeof(buf));
		set = n > 0 || (n < 0 && errno != EINVAL);
		syscall(SYS_close, fd);
	}
	errno = err;
	return set;
}

void dpdkmp_initfiles_begin(int use_prepared)
{
	rf.init = 1;
	rf.racy = getenv("DPDKMP_TEST_RACY_FBARRAY") != NULL;
	if (!use_prepared)
		return;
	/* Test hook: as if every path named another file now. */
	pa.stale = pr.stale = getenv("DPDKMP_TEST_STALE_PREPARED") != NULL;
	pa.fscreate = fscreate_set();
	pa.on = 1;
	pr.on = pr.n > 0;
}

/* After EAL's init (or instead of it): every prepared file EAL did not ask for is closed, if
 * the fd is still ours (a program may have put something else there). */
void dpdkmp_initfiles_end(void)
{
	struct stat st;

	rf.init = 0;
	if (rf.fd >= 0)
		settle(0);
	drop_arrays();
	pa.on = 0;
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
