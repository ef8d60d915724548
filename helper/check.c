/* check: `dpdkmp check` compares, from /proc/PID/maps, a primary with each of its secondaries
 * (the live ones of the fork server, the --pid list, or a probe secondary spawned for it) and
 * fails on any difference. File identity is proven by GNU build ID read with PROCMAP_QUERY
 * (Linux 6.11), else by device and inode.
 *
 *   primary                                 secondary (dpdkmp)
 *   0x100000000  <hugetlbfs>/<P>map_*   ==  same address, file, offset, perms    hugepages
 *   0x7f..       /run/dpdk/<P>/config,  ==  same (own fbarray_*_<pid> extra)     rundir
 *                fbarray_*
 *   0x55..       the primary's exe      ==  same, also for another binary        exe
 *   0x7f..       librte_*.so*, plugins  ==  same ranges both ways, same build ID libs
 *
 * VMAs may be split differently in the two processes, so each of the primary's ranges is walked
 * across the secondary's mappings; lines are never compared. A difference must survive three reads of both maps
 * 200 ms apart: the primary may be mapping hugepages that its secondaries map a moment later. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>

#include "check.h"
#include "client.h"
#include "json.h"
#include "dpdkmp_config.h"
#include "fdpass.h"
#include "log.h"
#include "maps.h"
#include "proto.h"
#include "rundir.h"

#ifndef PROCMAP_QUERY
/* PROCMAP_QUERY, Linux 6.11 (include/uapi/linux/fs.h): an ioctl on an open /proc/PID/maps that
 * answers for one address, with the file's build ID. Debian 12's kernel headers (6.1) lack it;
 * these are the kernel's names and layout, so this block goes away with newer headers. */
#define PROCFS_IOCTL_MAGIC 'f'
enum procmap_query_flags {
	PROCMAP_QUERY_VMA_READABLE = 0x01,
	PROCMAP_QUERY_VMA_WRITABLE = 0x02,
	PROCMAP_QUERY_VMA_EXECUTABLE = 0x04,
	PROCMAP_QUERY_VMA_SHARED = 0x08,
	PROCMAP_QUERY_COVERING_OR_NEXT_VMA = 0x10,
	PROCMAP_QUERY_FILE_BACKED_VMA = 0x20,
};
struct procmap_query {
	__u64 size;
	__u64 query_flags;      /* in */
	__u64 query_addr;       /* in */
	__u64 vma_start;        /* out */
	__u64 vma_end;          /* out */
	__u64 vma_flags;        /* out */
	__u64 vma_page_size;    /* out */
	__u64 vma_offset;       /* out */
	__u64 inode;            /* out */
	__u32 dev_major;        /* out */
	__u32 dev_minor;        /* out */
	__u32 vma_name_size;    /* in/out */
	__u32 build_id_size;    /* in/out */
	__u64 vma_name_addr;    /* in */
	__u64 build_id_addr;    /* in */
};
#define PROCMAP_QUERY _IOWR(PROCFS_IOCTL_MAGIC, 17, struct procmap_query)
#endif
_Static_assert(sizeof(struct procmap_query) == 104, "struct procmap_query of Linux 6.11");

#define PROBE_ATTACH_TIMEOUT_MS 30000
#define PROBE_EXIT_TIMEOUT_MS   10000
#define PROBE_LOG_MAX           (64u * 1024u)
#define PROBE_NAME              "dpdkmp-probe"
#define PROBE_READY             "DPDKMP-PROBE READY pid="
#define ATTEMPTS                3
#define RETRY_DELAY_MS          200
#define BUILD_ID_MAX            64
#define MAX_HUGEMNT             16
#define MAX_PLUGIN_SRC          16
#define MAX_TARGETS             (DPDKMP_MAX_CHILDREN + 64)
#define MAPLINE                 (sizeof(((struct dpdkmp_map *)0)->path) + 128)

enum check_class { CLS_HUGEPAGES, CLS_RUNDIR, CLS_EXE, CLS_LIBS, CLS_N };

static const char *const class_names[CLS_N] = { "hugepages", "rundir", "exe", "libs" };
static const char *const class_files[CLS_N] = { "hugepage files", "runtime files",
						"executable", "libraries and plugins" };

enum output { OUT_HUMAN, OUT_TAP, OUT_JSON };

/* What a secondary runs: the primary's program (a dpdkmp secondary of the same binary, or a
 * classic one), another program loaded by dpdkmp's loader (its memfd copy is mapped), or
 * another program exec'ed classically (/proc/PID/exe differs; a dpdkmp secondary's always
 * names the primary's executable). */
enum exe_kind { EXE_UNKNOWN, EXE_PRIMARY, EXE_LOADED, EXE_OTHER };
static const char *const exe_kind_names[] = { "unknown", "primary", "loaded", "other" };
static const char *const exe_kind_text[] = {
	"unknown program", "the primary's executable",
	"another executable, loaded by dpdkmp", "another executable, not run by dpdkmp",
};
#define LOADER_MEMFD "/memfd:dpdkmp:"

/* One difference (or, with -v, one note on a file found equal). */
struct mismatch {
	enum check_class cls;
	bool info;
	unsigned int more;              /* further differing ranges of the file, not listed */
	char file[1024];
	char what[256];
	char pline[MAPLINE];            /* the primary's /proc/PID/maps line, "" for none */
	char sline[MAPLINE];            /* the secondary's */
};

struct class_result {
	unsigned int files;             /* files of the class the primary maps */
	unsigned int ranges;            /* their mappings */
	unsigned int differ;            /* files mapped differently (extra ones included) */
	unsigned int extra;             /* files only the secondary maps, not allowed */
	unsigned int own;               /* files only the secondary maps, allowed */
	unsigned int build_id;          /* files proven the same by build ID */
	unsigned int dev_inode;         /* by device and inode */
};

struct target {
	pid_t pid;
	char program[256];
	const char *source;             /* "fork server", "--pid", "probe" */
	enum exe_kind exe;              /* which program it runs */
	char gone[192];                 /* why it was not compared; "" when it was */
	unsigned int attempts;
	struct class_result res[CLS_N];
	struct mismatch *mm;
	size_t nmm, cap, ndiff;
};

struct check_ctx {
	const char *prefix;
	pid_t primary;
	pid_t zygote;                   /* 0: no fork server asked */
	char primary_exe[PATH_MAX];     /* as its mappings name it */
	char rundir[PATH_MAX];          /* realpath, '/' appended */
	char hugemnt[MAX_HUGEMNT][PATH_MAX];
	size_t nhugemnt;
	char **plugins;                 /* canonical paths of the primary's plugin files */
	size_t nplugins;
	char plugin_src[MAX_PLUGIN_SRC][PATH_MAX]; /* where they come from: directories, -d files */
	size_t nplugin_src;
	char procmap_why[160];          /* "": PROCMAP_QUERY works, else why it is not used */
	int primary_maps_fd;
	bool verbose;
	enum output out;
	struct target *t;
	size_t nt;
};

/* The sides of one comparison: maps sorted by address, and an open maps fd for the ioctl. */
struct side {
	pid_t pid;
	const struct dpdkmp_map *v;
	size_t n;
	int fd;
};

struct probe {
	pid_t launcher;                 /* `dpdkmp run` */
	pid_t pid;                      /* the secondary, from its READY line */
	int in_fd;                      /* its stdin; closing it ends the probe */
	int out_fd;                     /* its stdout and stderr, and the launcher's */
	char *log;
	size_t loglen;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dpdkmp check [--file-prefix PREFIX] [--pid PID[,PID...]]... [--primary PID]\n"
		"                    [--probe] [--probe-program PATH] [--tap | --json] [-v]\n"
		"                    [-- PROBE-EAL-ARGS...]\n"
		"\n"
		"Compares the mappings of the primary with those of each secondary, from /proc/PID/maps:\n"
		"  hugepages  <hugetlbfs>/<PREFIX>map_*: same address, file, offset, perms, both ways\n"
		"  rundir     files of the runtime dir (config, fbarrays); the secondary's own\n"
		"             per-process fbarray_*_<pid> copies are allowed extra\n"
		"  exe        the primary's executable (a dpdkmp secondary of another binary maps it too)\n"
		"  libs       librte_*.so* and the primary's PMD plugins: same ranges both ways, and the\n"
		"             same files (GNU build ID by PROCMAP_QUERY, Linux 6.11, else device/inode)\n"
		"\n"
		"Secondaries compared: --pid PIDs; else the live secondaries of the fork server of PREFIX\n"
		"(default \"%s\"); with --probe, or when there is none, a probe secondary started with\n"
		"`dpdkmp run -- %s` (found beside dpdkmp or in %s) and ended after the check;\n"
		"PROBE-EAL-ARGS replace its default --no-pci.\n"
		"  --primary PID  the primary to compare with (default: the fork server's), so that\n"
		"                 --pid works without a fork server\n"
		"  --tap          TAP: one test per secondary and class, differences as diagnostics\n"
		"  --json         one JSON document\n"
		"  -v             also list the files found equal, and every differing range\n"
		"Exit status: 0 all equal, 1 a difference, 2 usage error or nothing to compare with.\n"
		"\n"
		"examples:\n"
		"  dpdkmp check --file-prefix pg\n"
		"  dpdkmp check --file-prefix pg --probe --tap\n"
		"  dpdkmp check --file-prefix pg --pid 4242 --json\n",
		DPDKMP_DEFAULT_PREFIX, PROBE_NAME, DPDKMP_LIBEXECDIR);
}

static int parse_pid(const char *s, pid_t *pid)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > INT_MAX)
		return -EINVAL;
	*pid = (pid_t)v;
	return 0;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* ------------------------------------------------------------------ targets */

static struct target *add_target(struct check_ctx *c, pid_t pid, const char *program,
				 const char *source)
{
	struct target *t;

	for (size_t i = 0; i < c->nt; i++)
		if (c->t[i].pid == pid)
			return &c->t[i];
	if (c->nt == MAX_TARGETS)
		return NULL;
	t = &c->t[c->nt++];
	memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->source = source;
	snprintf(t->program, sizeof(t->program), "%s", program ? program : "");
	return t;
}

/* The name a --pid target goes by: its comm (a dpdkmp secondary's is its program's name). */
static void pid_program(pid_t pid, char *out, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	snprintf(out, len, "?");
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(out, (int)len, f))
		out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

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

/* ------------------------------------------------------------------ the fork server */

/* The STATUS request, as `dpdkmp status` makes it: primary, runtime dir, live secondaries. */
static int ask_status(struct check_ctx *c, bool want_children, char *rundir, size_t rlen)
{
	const struct dpdkmp_child_info *k;
	const struct dpdkmp_status *s;
	const struct dpdkmp_window *w;
	struct dpdkmp_msg *m;
	int ret;

	m = malloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	ret = dpdkmp_client_status(c->prefix, "check", m, &s, &w, &k);
	if (ret < 0) {
		if (ret == -ENOENT)
			DPDKMP_ERR("check: or compare without a fork server: --primary PID --pid PID");
		free(m);
		return ret;
	}
	c->zygote = (pid_t)s->zygote_pid;
	if (!c->primary)
		c->primary = (pid_t)s->primary_pid;
	snprintf(rundir, rlen, "%.*s", (int)sizeof(s->runtime_dir), s->runtime_dir);
	for (uint32_t i = 0; want_children && i < s->nchildren; i++) {
		char prog[sizeof(k[i].program) + 1];

		snprintf(prog, sizeof(prog), "%.*s", (int)sizeof(k[i].program), k[i].program);
		if (!add_target(c, (pid_t)k[i].pid, base_name(prog), "fork server"))
			break;
	}
	free(m);
	return 0;
}

/* ------------------------------------------------------------------ the probe secondary */

/* dpdkmp-probe beside this binary (a build tree: helper/), else the installed one. */
static int find_probe(char *out, size_t len)
{
	char self[PATH_MAX];
	ssize_t l = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (l > 0) {
		char *slash;

		self[l] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			if (snprintf(out, len, "%s/%s", self, PROBE_NAME) < (int)len &&
			    access(out, X_OK) == 0)
				return 0;
		}
	}
	snprintf(out, len, "%s/%s", DPDKMP_LIBEXECDIR, PROBE_NAME);
	return access(out, X_OK) == 0 ? 0 : -ENOENT;
}

static void probe_read(struct probe *p)
{
	char buf[4096];
	ssize_t n = read(p->out_fd, buf, sizeof(buf));

	if (n <= 0) {
		if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
			close(p->out_fd);
			p->out_fd = -1;
		}
		return;
	}
	if (p->loglen + (size_t)n >= PROBE_LOG_MAX)
		return;         /* keep the beginning: the attach is what matters */
	memcpy(p->log + p->loglen, buf, (size_t)n);
	p->loglen += (size_t)n;
	p->log[p->loglen] = '\0';
}

/* The probe's output (EAL's log and the launcher's messages) as diagnostics. */
static void probe_dump(const struct probe *p, const char *why)
{
	fprintf(stderr, "dpdkmp check: %s; output of `dpdkmp run -- %s`:\n", why, PROBE_NAME);
	if (p->loglen)
		fputs(p->log, stderr);
	if (!p->loglen || p->log[p->loglen - 1] != '\n')
		fputc('\n', stderr);
}

static int launcher_status(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Waits for the launcher; SIGTERM (which it forwards to the probe), then SIGKILL, when it takes
 * too long. 0 with its wait status, or -1 when it could not be reaped. */
static int reap(pid_t pid, int *st)
{
	long deadline = now_ms() + PROBE_EXIT_TIMEOUT_MS;
	int sig = SIGTERM;

	for (;;) {
		pid_t r = waitpid(pid, st, WNOHANG);

		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
		if (now_ms() > deadline) {
			if (sig == 0)
				return -1;
			kill(pid, sig);
			sig = sig == SIGTERM ? SIGKILL : 0;
			deadline = now_ms() + PROBE_EXIT_TIMEOUT_MS / 2;
		}
		sleep_ms(20);
	}
}

/* Starts `dpdkmp run -- dpdkmp-probe --file-prefix P --proc-type=secondary ARGS` with stdin and
 * stdout+stderr on pipes, and waits for its READY line. 0, or -errno with the reason printed. */
static int probe_start(struct check_ctx *c, const char *prog, char **extra, int nextra,
		       struct probe *p)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, st, argc = 0;
	char prefix_opt[PATH_MAX], **argv;
	long deadline;
	pid_t pid;

	argv = calloc((size_t)nextra + 8, sizeof(*argv));
	p->log = malloc(PROBE_LOG_MAX);
	if (!argv || !p->log || pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
		int err = errno ? errno : ENOMEM;

		DPDKMP_ERR("check: cannot start the probe: %s", strerror(err));
		free(argv);
		for (int i = 0; i < 2; i++) {
			if (in[i] >= 0)
				close(in[i]);
			if (out[i] >= 0)
				close(out[i]);
		}
		return -err;
	}
	p->log[0] = '\0';
	snprintf(prefix_opt, sizeof(prefix_opt), "--file-prefix=%s", c->prefix);
	argv[argc++] = "dpdkmp";
	argv[argc++] = "run";
	argv[argc++] = "--";
	argv[argc++] = (char *)prog;
	argv[argc++] = prefix_opt;
	argv[argc++] = "--proc-type=secondary";
	if (nextra == 0)
		argv[argc++] = "--no-pci";
	for (int i = 0; i < nextra; i++)
		argv[argc++] = extra[i];
	argv[argc] = NULL;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		if (dup2(in[0], STDIN_FILENO) < 0 || dup2(out[1], STDOUT_FILENO) < 0 ||
		    dup2(out[1], STDERR_FILENO) < 0)
			_exit(126);
		execv("/proc/self/exe", argv);
		fprintf(stderr, "cannot execute /proc/self/exe run: %s\n", strerror(errno));
		_exit(126);
	}
	free(argv);
	close(in[0]);
	close(out[1]);
	if (pid < 0) {
		int err = errno;

		close(in[1]);
		close(out[0]);
		DPDKMP_ERR("check: cannot start the probe: fork: %s", strerror(err));
		return -err;
	}
	p->launcher = pid;
	p->in_fd = in[1];
	p->out_fd = out[0];

	deadline = now_ms() + PROBE_ATTACH_TIMEOUT_MS;
	while (p->out_fd >= 0 && now_ms() < deadline) {
		struct pollfd pf = { .fd = p->out_fd, .events = POLLIN };
		const char *ready;

		if (poll(&pf, 1, (int)(deadline - now_ms() > 0 ? deadline - now_ms() : 0)) <= 0)
			continue;
		probe_read(p);
		ready = p->loglen ? strstr(p->log, PROBE_READY) : NULL;
		if (ready && strchr(ready, '\n')) {
			p->pid = (pid_t)strtol(ready + strlen(PROBE_READY), NULL, 10);
			return p->pid > 0 ? 0 : -EPROTO;
		}
	}
	if (p->out_fd >= 0) {
		probe_dump(p, "the probe secondary did not attach within 30 s");
		kill(p->launcher, SIGTERM);
	}
	if (reap(p->launcher, &st) == 0 && p->out_fd < 0) {
		char why[128];

		snprintf(why, sizeof(why), "the probe secondary exited with status %d before it "
			 "attached", launcher_status(st));
		probe_dump(p, why);
	}
	p->launcher = 0;
	close(p->in_fd);
	p->in_fd = -1;
	if (p->out_fd >= 0)
		close(p->out_fd);
	p->out_fd = -1;
	free(p->log);
	p->log = NULL;
	return -ECHILD;
}

/* End of file on its stdin ends the probe; then SIGTERM (forwarded by the launcher), SIGKILL. */
static void probe_stop(struct probe *p)
{
	long deadline = now_ms() + PROBE_EXIT_TIMEOUT_MS;
	int st = 0;

	if (p->in_fd >= 0)
		close(p->in_fd);
	p->in_fd = -1;
	/* Drain its output until it ends, so that it never blocks writing its goodbye. */
	while (p->out_fd >= 0 && now_ms() < deadline) {
		struct pollfd pf = { .fd = p->out_fd, .events = POLLIN };

		if (poll(&pf, 1, 100) > 0)
			probe_read(p);
	}
	if (reap(p->launcher, &st) < 0)
		DPDKMP_WARN("check: cannot reap the launcher (pid %d) of the probe secondary",
			    (int)p->launcher);
	else if (launcher_status(st) != 0)
		DPDKMP_WARN("check: the probe secondary (pid %d) ended with status %d", (int)p->pid,
			    launcher_status(st));
	else
		DPDKMP_INFO("check: the probe secondary (pid %d) ended", (int)p->pid);
	if (p->out_fd >= 0)
		close(p->out_fd);
	p->out_fd = -1;
	p->launcher = 0;
	free(p->log);
	p->log = NULL;
}

/* ------------------------------------------------------------------ what the primary uses */

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

/* 0 with the build ID of the file mapped at addr (len 0: it has none, or the kernel could not
 * read it), or -errno: -ENOTTY or -EINVAL when the kernel has no PROCMAP_QUERY. */
static int query_build_id(int maps_fd, uint64_t addr, uint8_t *id, uint32_t *len)
{
	struct procmap_query q = {
		.size = sizeof(q),
		.query_flags = PROCMAP_QUERY_FILE_BACKED_VMA,
		.query_addr = addr,
		.build_id_size = BUILD_ID_MAX,
		.build_id_addr = (uint64_t)(uintptr_t)id,
	};

	if (maps_fd < 0)
		return -EBADF;
	if (ioctl(maps_fd, PROCMAP_QUERY, &q) < 0)
		return -errno;
	*len = q.build_id_size;
	return 0;
}

static int setup_primary(struct check_ctx *c, const char *rundir)
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
	ret = query_build_id(fd, (uint64_t)(uintptr_t)&check_main, id, &idlen);
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

/* ------------------------------------------------------------------ comparing */

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

	if (!c->procmap_why[0] && query_build_id(c->primary_maps_fd, pm->start, pid_, &plen) == 0 &&
	    query_build_id(S->fd, sm->start, sid, &slen) == 0 && plen && slen) {
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
static int compare_target(struct check_ctx *c, struct target *t)
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

/* ------------------------------------------------------------------ reporting */

static const char *identity_text(const struct check_ctx *c, char *buf, size_t len)
{
	if (!c->procmap_why[0])
		snprintf(buf, len, "GNU build IDs read with PROCMAP_QUERY (device and inode for "
			 "files without one)");
	else
		snprintf(buf, len, "device and inode; PROCMAP_QUERY %s", c->procmap_why);
	return buf;
}

static const char *target_result(const struct target *t)
{
	return t->gone[0] ? "gone" : t->ndiff ? "different" : "equal";
}

static void cell(const struct target *t, enum check_class k, char *buf, size_t len)
{
	const struct class_result *r = &t->res[k];

	if (t->gone[0])
		snprintf(buf, len, "-");
	else if (r->differ)
		snprintf(buf, len, "DIFF %u/%u", r->differ, r->files + r->extra);
	else if (!r->files)
		snprintf(buf, len, "none");
	else
		snprintf(buf, len, "ok %u", r->files);
}

/* "LABEL FILE: WHAT", then the two /proc/PID/maps lines below it. */
static void print_mm(FILE *f, const char *indent, const char *label, const struct mismatch *m)
{
	fprintf(f, "%s%s%s: %s", indent, label, m->file, m->what);
	if (m->more)
		fprintf(f, " (and %u more range%s)", m->more, m->more == 1 ? "" : "s");
	fputc('\n', f);
	if (m->info && !m->sline[0])
		return;
	if (!m->info || m->pline[0])
		fprintf(f, "%s    primary:   %s\n", indent, m->pline[0] ? m->pline : "(nothing mapped)");
	fprintf(f, "%s    secondary: %s\n", indent, m->sline[0] ? m->sline : "(nothing mapped)");
}

static void header_lines(const struct check_ctx *c, const char *lead)
{
	char idt[256];

	printf("%sdpdkmp check: file prefix '%s', primary pid %d (%s)\n", lead, c->prefix,
	       (int)c->primary, c->primary_exe);
	printf("%s  runtime dir %s, hugetlbfs", lead, c->rundir);
	for (size_t i = 0; i < c->nhugemnt; i++)
		printf(" %s", c->hugemnt[i]);
	printf("%s, plugins", c->nhugemnt ? "" : " (none mounted)");
	for (size_t i = 0; i < c->nplugin_src; i++)
		printf(" %s", c->plugin_src[i]);
	printf("%s\n", c->nplugin_src ? "" : " (none)");
	printf("%s  file identity: %s\n", lead, identity_text(c, idt, sizeof(idt)));
}

static void summary(const struct check_ctx *c, unsigned int *eq, unsigned int *diff,
		    unsigned int *gone, unsigned int *bid, unsigned int *ino)
{
	*eq = *diff = *gone = *bid = *ino = 0;
	for (size_t i = 0; i < c->nt; i++) {
		const struct target *t = &c->t[i];

		if (t->gone[0])
			(*gone)++;
		else if (t->ndiff)
			(*diff)++;
		else
			(*eq)++;
		for (int k = 0; k < CLS_N; k++) {
			*bid += t->res[k].build_id;
			*ino += t->res[k].dev_inode;
		}
	}
}

static void output_human(const struct check_ctx *c)
{
	unsigned int eq, diff, gone, bid, ino;
	char cells[CLS_N][32];

	header_lines(c, "");
	printf("%-8s %-18s %-11s %-12s %-12s %-12s %-12s %s\n", "PID", "PROGRAM", "FROM",
	       "HUGEPAGES", "RUNDIR", "EXE", "LIBS", "RESULT");
	for (size_t i = 0; i < c->nt; i++) {
		const struct target *t = &c->t[i];

		for (int k = 0; k < CLS_N; k++)
			cell(t, (enum check_class)k, cells[k], sizeof(cells[k]));
		printf("%-8d %-18.18s %-11s %-12s %-12s %-12s %-12s %s\n", (int)t->pid, t->program,
		       t->source, cells[0], cells[1], cells[2], cells[3], target_result(t));
	}
	for (size_t i = 0; i < c->nt; i++) {
		const struct target *t = &c->t[i];

		if (t->gone[0]) {
			printf("\npid %d (%s): not compared: %s\n", (int)t->pid, t->program, t->gone);
			continue;
		}
		if (!t->ndiff && !c->verbose)
			continue;
		printf("\npid %d (%s, %s):\n", (int)t->pid, t->program, exe_kind_text[t->exe]);
		for (int k = 0; k < CLS_N; k++)
			for (size_t j = 0; j < t->nmm; j++)
				if (t->mm[j].cls == (enum check_class)k && (!t->mm[j].info || c->verbose)) {
					char label[32];

					snprintf(label, sizeof(label), "%s%s ",
						 t->mm[j].info ? "" : "DIFF ", class_names[k]);
					print_mm(stdout, "  ", label, &t->mm[j]);
				}
	}
	summary(c, &eq, &diff, &gone, &bid, &ino);
	printf("\n%zu secondar%s: %u equal, %u different", c->nt, c->nt == 1 ? "y" : "ies", eq,
	       diff);
	if (gone)
		printf(", %u exited before the check", gone);
	printf("; files proven the same by build ID: %u, by device and inode: %u\n", bid, ino);
}

static void output_tap(const struct check_ctx *c)
{
	unsigned int n = 0, eq, diff, gone, bid, ino;

	printf("TAP version 13\n1..%zu\n", c->nt * CLS_N);
	header_lines(c, "# ");
	for (size_t i = 0; i < c->nt; i++) {
		const struct target *t = &c->t[i];

		printf("# pid %d (%s, from %s): %s\n", (int)t->pid, t->program, t->source,
		       t->gone[0] ? "not compared" : exe_kind_text[t->exe]);
		for (int k = 0; k < CLS_N; k++) {
			const struct class_result *r = &t->res[k];

			n++;
			if (t->gone[0]) {
				printf("ok %u - pid %d (%s) %s # SKIP %s\n", n, (int)t->pid, t->program,
				       class_names[k], t->gone);
				continue;
			}
			if (!r->files && !r->differ) {
				printf("ok %u - pid %d (%s) %s # SKIP the primary maps no %s\n", n,
				       (int)t->pid, t->program, class_names[k], class_files[k]);
				continue;
			}
			if (r->differ)
				printf("not ok %u - pid %d (%s) %s: %u of %u %s differ\n", n, (int)t->pid,
				       t->program, class_names[k], r->differ, r->files + r->extra,
				       class_files[k]);
			else
				printf("ok %u - pid %d (%s) %s: %u %s mapped alike (%u mappings)%s\n", n,
				       (int)t->pid, t->program, class_names[k], r->files,
				       class_files[k], r->ranges,
				       r->own ? ", plus the secondary's own" : "");
			for (size_t j = 0; j < t->nmm; j++)
				if (t->mm[j].cls == (enum check_class)k && (!t->mm[j].info || c->verbose))
					print_mm(stdout, "#   ", "", &t->mm[j]);
		}
	}
	summary(c, &eq, &diff, &gone, &bid, &ino);
	printf("# %zu secondaries: %u equal, %u different, %u gone; files proven the same by build "
	       "ID: %u, by device and inode: %u\n", c->nt, eq, diff, gone, bid, ino);
}

static void json_line(const char *l)
{
	if (l[0])
		json_str(l);
	else
		printf("null");
}

static void output_json(const struct check_ctx *c)
{
	unsigned int eq, diff, gone, bid, ino;
	char idt[256];

	summary(c, &eq, &diff, &gone, &bid, &ino);
	printf("{\"file_prefix\":");
	json_str(c->prefix);
	printf(",\"primary_pid\":%d,\"zygote_pid\":%d,\"primary_exe\":", (int)c->primary,
	       (int)c->zygote);
	json_str(c->primary_exe);
	printf(",\"runtime_dir\":");
	json_str(c->rundir);
	printf(",\"hugetlbfs\":[");
	for (size_t i = 0; i < c->nhugemnt; i++) {
		printf("%s", i ? "," : "");
		json_str(c->hugemnt[i]);
	}
	printf("],\"plugins\":[");
	for (size_t i = 0; i < c->nplugin_src; i++) {
		printf("%s", i ? "," : "");
		json_str(c->plugin_src[i]);
	}
	printf("],\"identity\":\"%s\",\"identity_detail\":",
	       c->procmap_why[0] ? "dev-inode" : "build-id");
	json_str(identity_text(c, idt, sizeof(idt)));
	printf(",\"result\":\"%s\",\"equal\":%u,\"different\":%u,\"gone\":%u,\"secondaries\":[",
	       diff ? "different" : "equal", eq, diff, gone);
	for (size_t i = 0; i < c->nt; i++) {
		const struct target *t = &c->t[i];

		printf("%s{\"pid\":%d,\"program\":", i ? "," : "", (int)t->pid);
		json_str(t->program);
		printf(",\"from\":\"%s\",\"executable\":\"%s\",\"result\":\"%s\"", t->source,
		       exe_kind_names[t->exe], target_result(t));
		if (t->gone[0]) {
			printf(",\"reason\":");
			json_str(t->gone);
		}
		printf(",\"attempts\":%u,\"classes\":{", t->attempts);
		for (int k = 0; k < CLS_N; k++) {
			const struct class_result *r = &t->res[k];
			bool firstm = true;

			printf("%s\"%s\":{\"result\":\"%s\",\"files\":%u,\"mappings\":%u,\"differ\":%u,"
			       "\"secondary_own\":%u,\"secondary_extra\":%u,\"by_build_id\":%u,"
			       "\"by_dev_inode\":%u,"
			       "\"mismatches\":[", k ? "," : "", class_names[k],
			       t->gone[0] ? "gone" : r->differ ? "different" : !r->files ? "none" :
			       "equal", r->files, r->ranges, r->differ, r->own, r->extra, r->build_id,
			       r->dev_inode);
			for (size_t j = 0; j < t->nmm; j++) {
				const struct mismatch *m = &t->mm[j];

				if (m->cls != (enum check_class)k || m->info)
					continue;
				printf("%s{\"file\":", firstm ? "" : ",");
				json_str(m->file);
				printf(",\"what\":");
				json_str(m->what);
				printf(",\"primary\":");
				json_line(m->pline);
				printf(",\"secondary\":");
				json_line(m->sline);
				printf(",\"more_ranges\":%u}", m->more);
				firstm = false;
			}
			printf("]");
			if (c->verbose) {
				firstm = true;
				printf(",\"notes\":[");
				for (size_t j = 0; j < t->nmm; j++) {
					const struct mismatch *m = &t->mm[j];

					if (m->cls != (enum check_class)k || !m->info)
						continue;
					printf("%s{\"file\":", firstm ? "" : ",");
					json_str(m->file);
					printf(",\"what\":");
					json_str(m->what);
					printf("}");
					firstm = false;
				}
				printf("]");
			}
			printf("}");
		}
		printf("}}");
	}
	printf("]}\n");
}

/* ------------------------------------------------------------------ main */

static int add_pid_list(const char *arg, pid_t *pids, size_t *n, size_t max)
{
	char buf[4096], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", arg);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		pid_t pid;

		if (parse_pid(tok, &pid) < 0) {
			DPDKMP_ERR("check: --pid %s: not a process id", tok);
			return -EINVAL;
		}
		if (*n == max) {
			DPDKMP_ERR("check: more than %zu process ids", max);
			return -E2BIG;
		}
		pids[(*n)++] = pid;
	}
	return 0;
}

int check_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "file-prefix", required_argument, NULL, 'p' },
		{ "pid", required_argument, NULL, 'P' },
		{ "primary", required_argument, NULL, 'm' },
		{ "probe", no_argument, NULL, 'b' },
		{ "probe-program", required_argument, NULL, 'B' },
		{ "tap", no_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct check_ctx c = { .prefix = DPDKMP_DEFAULT_PREFIX, .primary_maps_fd = -1 };
	struct probe probe = { .in_fd = -1, .out_fd = -1 };
	const char *probe_prog = NULL;
	char probe_path[PATH_MAX], rundir[PATH_MAX] = "";
	pid_t pids[MAX_TARGETS];
	size_t npids = 0;
	bool want_probe = false, tap = false, json = false;
	char **extra = NULL;
	int nextra = 0, opt, rc = 2;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "+vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			c.prefix = optarg;
			break;
		case 'P':
			if (add_pid_list(optarg, pids, &npids, MAX_TARGETS) < 0)
				return 2;
			break;
		case 'm':
			if (parse_pid(optarg, &c.primary) < 0) {
				DPDKMP_ERR("check: --primary %s: not a process id", optarg);
				return 2;
			}
			break;
		case 'B':
			probe_prog = optarg;
			/* fall through */
		case 'b':
			want_probe = true;
			break;
		case 't':
			tap = true;
			break;
		case 'j':
			json = true;
			break;
		case 'v':
			c.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	/* PIDs may follow --pid as separate words; after "--": the probe's EAL arguments. */
	if (!(optind > 1 && !strcmp(argv[optind - 1], "--")))
		for (; optind < argc && strcmp(argv[optind], "--"); optind++)
			if (add_pid_list(argv[optind], pids, &npids, MAX_TARGETS) < 0) {
				usage(stderr);
				return 2;
			}
	if (optind < argc && !strcmp(argv[optind], "--"))
		optind++;
	extra = argv + optind;
	nextra = argc - optind;
	if (tap && json) {
		DPDKMP_ERR("check: --tap and --json exclude each other");
		return 2;
	}
	if (!*c.prefix || strchr(c.prefix, '/')) {
		DPDKMP_ERR("check: --file-prefix '%s': not a file prefix", c.prefix);
		return 2;
	}
	if (nextra && !want_probe && npids) {
		DPDKMP_ERR("check: arguments after -- are for the probe secondary; add --probe");
		return 2;
	}
	c.out = json ? OUT_JSON : tap ? OUT_TAP : OUT_HUMAN;
	c.t = calloc(MAX_TARGETS, sizeof(*c.t));
	if (!c.t)
		return 2;

	/* The fork server says which primary, which runtime dir, which secondaries. */
	if (!c.primary || !npids || want_probe) {
		if (ask_status(&c, !npids && !want_probe, rundir, sizeof(rundir)) < 0)
			goto out;
	}
	if (setup_primary(&c, rundir) < 0)
		goto out;
	for (size_t i = 0; i < npids; i++) {
		char prog[64];

		pid_program(pids[i], prog, sizeof(prog));
		add_target(&c, pids[i], prog, "--pid");
	}
	if (want_probe || !c.nt) {
		if (probe_prog)
			snprintf(probe_path, sizeof(probe_path), "%s", probe_prog);
		else if (find_probe(probe_path, sizeof(probe_path)) < 0) {
			DPDKMP_ERR("check: %s, and no %s to start as a probe secondary (looked beside "
				   "this dpdkmp and in %s); pass --pid PID or --probe-program PATH",
				   want_probe ? "--probe" : "the fork server has no live secondary",
				   PROBE_NAME, DPDKMP_LIBEXECDIR);
			goto out;
		}
		if (!want_probe && c.out == OUT_HUMAN)
			printf("no live secondary: starting the probe secondary %s\n", probe_path);
		if (probe_start(&c, probe_path, extra, nextra, &probe) < 0)
			goto out;
		add_target(&c, probe.pid, PROBE_NAME, "probe");
	}

	rc = 0;
	for (size_t i = 0; i < c.nt; i++)
		if (compare_target(&c, &c.t[i]) < 0) {
			rc = 2;
			goto out;
		}
	if (probe.launcher > 0)
		probe_stop(&probe);
	if (c.out == OUT_JSON)
		output_json(&c);
	else if (c.out == OUT_TAP)
		output_tap(&c);
	else
		output_human(&c);
	{
		unsigned int eq, diff, gone, bid, ino;

		summary(&c, &eq, &diff, &gone, &bid, &ino);
		rc = diff ? 1 : eq ? 0 : 2;
		if (!diff && !eq)
			DPDKMP_ERR("check: nothing compared: every secondary exited before it could be "
				   "read");
	}
out:
	if (probe.launcher > 0)
		probe_stop(&probe);
	if (c.primary_maps_fd >= 0)
		close(c.primary_maps_fd);
	for (size_t i = 0; i < c.nt; i++)
		free(c.t[i].mm);
	free(c.t);
	for (size_t i = 0; i < c.nplugins; i++)
		free(c.plugins[i]);
	free(c.plugins);
	return rc;
}
