/* dpdkmp-trace: the live monitor of the dpdkmp guard. It loads nothing: it opens the maps
 * `dpdkmp-helper guard load` pinned under DPDKMP_GUARD_PIN_DIR, prints what the guard already
 * tracks, then one line (or JSON object) per event of the "events" ring buffer. */
#include <argp.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <linux/magic.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dpdkmp_config.h"
#include "guard.h"

#define MAX_PIDS 64
#define NO_WINDOW 0xffffffffu

static struct env {
	bool json;
	bool verbose;
	bool no_snapshot;
	const char *pin_dir;
	const char *prefix;
	__u32 pids[MAX_PIDS];
	int npids;
	long duration;          /* seconds, 0: until a signal */
	long count;             /* live events to print, 0: no limit */
} env = {
	.pin_dir = DPDKMP_GUARD_PIN_DIR,
};

/* What the run saw, for the periodic lost line and the summary. */
static struct counters {
	unsigned long long received;    /* valid samples */
	unsigned long long shown;       /* printed after the filters */
	unsigned long long violations;
	unsigned long long killed;
	unsigned long long bad_size;
	unsigned long long bad_version;
	unsigned long long drops_start; /* stats DROPS when we started */
	unsigned long long drops_seen;  /* last value reported */
} cnt;

static volatile sig_atomic_t exiting;
static long long mono_to_real_ns;       /* CLOCK_REALTIME - CLOCK_MONOTONIC at start */
static int stats_fd = -1;
static int nr_cpus;

const char *argp_program_version = "dpdkmp-trace " DPDKMP_VERSION;
static const char argp_program_doc[] =
"Show what the dpdkmp guard sees: zygote registrations, the processes\n"
"forked from them, their phase changes, and mappings that touch the\n"
"zygote's windows (VIOLATION while a child is still loading).\n"
"\n"
"It loads nothing: it reads the maps `dpdkmp-helper guard load` pinned\n"
"under " DPDKMP_GUARD_PIN_DIR ", so a member of the group the events map\n"
"is shared with can run it without root.\n"
"\n"
"Columns: TIME PID COMM PREFIX EVENT ADDR LEN VERDICT DETAIL. An EVENT\n"
"ending in '*' belongs to the startup snapshot of what was already\n"
"tracked; lines starting with '#' are notices (lost events...).\n"
"One reader at a time: a BPF ring buffer has a single consumer.\n"
"\n"
"USAGE: dpdkmp-trace [-v] [--json] [-p PID]... [--file-prefix P]\n"
"                    [-d SECONDS] [-c COUNT]\n"
"\n"
"EXAMPLES:\n"
"    dpdkmp-trace                   # every event, after a snapshot\n"
"    dpdkmp-trace --file-prefix pg  # the primary run with --file-prefix pg\n"
"    dpdkmp-trace -p 1234 -p 1240   # only these processes (tgid)\n"
"    dpdkmp-trace --json | jq .     # newline-delimited JSON, every field\n"
"    dpdkmp-trace -d 10 -c 100      # stop after 10 s or 100 events\n";

enum { OPT_PREFIX = 0x100, OPT_JSON, OPT_PIN_DIR, OPT_NO_SNAPSHOT };

static const struct argp_option opts[] = {
	{ "pid", 'p', "PID", 0, "Only this process (tgid); repeatable", 0 },
	{ "file-prefix", OPT_PREFIX, "P", 0, "Only processes of the zygote registered with --file-prefix P", 0 },
	{ "json", OPT_JSON, NULL, 0, "Newline-delimited JSON objects with every field", 0 },
	{ "duration", 'd', "SECONDS", 0, "Stop after SECONDS", 0 },
	{ "count", 'c', "COUNT", 0, "Stop after COUNT live events (after the filters)", 0 },
	{ "no-snapshot", OPT_NO_SNAPSHOT, NULL, 0, "Do not print what is already tracked", 0 },
	{ "pin-dir", OPT_PIN_DIR, "DIR", 0, "Pinned maps directory (default " DPDKMP_GUARD_PIN_DIR ")", 0 },
	{ "verbose", 'v', NULL, 0, "Print libbpf debug messages", 0 },
	{ NULL, 'h', NULL, OPTION_HIDDEN, "Show the full help", 0 },
	{ 0 },
};

static long parse_long(const char *s, long min, long max, struct argp_state *state)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		argp_error(state, "invalid number '%s' (%ld..%ld)", s, min, max);
	return v;
}

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'p':
		if (env.npids == MAX_PIDS)
			argp_error(state, "at most %d -p options", MAX_PIDS);
		env.pids[env.npids++] = (__u32)parse_long(arg, 1, 0x7fffffff, state);
		break;
	case OPT_PREFIX:
		if (!*arg || strlen(arg) >= sizeof(((struct dpdkmp_guard_event *)0)->prefix))
			argp_error(state, "--file-prefix must be 1..63 characters");
		env.prefix = arg;
		break;
	case OPT_JSON:
		env.json = true;
		break;
	case 'd':
		env.duration = parse_long(arg, 1, 86400L * 365, state);
		break;
	case 'c':
		env.count = parse_long(arg, 1, 0x7fffffff, state);
		break;
	case OPT_NO_SNAPSHOT:
		env.no_snapshot = true;
		break;
	case OPT_PIN_DIR:
		env.pin_dir = arg;
		break;
	case 'v':
		env.verbose = true;
		break;
	case 'h':
		argp_state_help(state, stderr, ARGP_HELP_STD_HELP);
		break;
	case ARGP_KEY_ARG:
		argp_usage(state);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static int libbpf_print_fn(enum libbpf_print_level level, const char *format, va_list args)
{
	if (level == LIBBPF_DEBUG && !env.verbose)
		return 0;
	return vfprintf(stderr, format, args);
}

static void sig_handler(int sig)
{
	exiting = 1;
}

static unsigned long long now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

/* HH:MM:SS.mmm local time of a bpf_ktime_get_ns() timestamp. */
static void fmt_time(char *buf, size_t len, __u64 mono_ns)
{
	long long real = (long long)mono_ns + mono_to_real_ns;
	time_t sec = (time_t)(real / 1000000000ll);
	struct tm tm;

	localtime_r(&sec, &tm);
	snprintf(buf, len, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)(real % 1000000000ll / 1000000));
}

static const char *event_name(__u32 type)
{
	switch (type) {
	case DPDKMP_GUARD_EV_REGISTER: return "register";
	case DPDKMP_GUARD_EV_SPAWN: return "spawn";
	case DPDKMP_GUARD_EV_PHASE: return "phase";
	case DPDKMP_GUARD_EV_MAP: return "map";
	case DPDKMP_GUARD_EV_UNMAP: return "unmap";
	case DPDKMP_GUARD_EV_EXIT: return "exit";
	}
	return "unknown";
}

static const char *verdict_name(__u32 v)
{
	switch (v) {
	case DPDKMP_GUARD_OK: return "ok";
	case DPDKMP_GUARD_EXPECTED: return "expected";
	case DPDKMP_GUARD_VIOLATION: return "VIOLATION";
	case DPDKMP_GUARD_KILLED: return "KILLED";
	}
	return "unknown";
}

static const char *phase_name(__u64 p)
{
	switch (p) {
	case 0: return "none";
	case DPDKMP_GUARD_PHASE_ZYGOTE: return "zygote";
	case DPDKMP_GUARD_PHASE_LOADING: return "loading";
	case DPDKMP_GUARD_PHASE_RUN: return "run";
	}
	return "unknown";
}

static const char *syscall_name(__u32 sc)
{
	switch (sc) {
	case DPDKMP_GUARD_SC_LAYOUT: return "layout";
	case DPDKMP_GUARD_SC_MMAP: return "mmap";
	case DPDKMP_GUARD_SC_MUNMAP: return "munmap";
	case DPDKMP_GUARD_SC_MREMAP: return "mremap";
	case DPDKMP_GUARD_SC_BRK: return "brk";
	case DPDKMP_GUARD_SC_SHMAT: return "shmat";
	}
	return "unknown";
}

/* A kernel string (comm, prefix) made printable: bounded, NUL-terminated, no control bytes. */
static void clean_str(char *dst, const char *src, size_t srclen)
{
	size_t i;

	for (i = 0; i < srclen && src[i]; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[i] = '\0';
}

static void json_str(const char *key, const char *src, size_t srclen)
{
	size_t i;

	printf("\"%s\":\"", key);
	for (i = 0; i < srclen && src[i]; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static bool pid_wanted(__u32 tgid)
{
	int i;

	if (!env.npids)
		return true;
	for (i = 0; i < env.npids; i++)
		if (env.pids[i] == tgid)
			return true;
	return false;
}

static bool prefix_wanted(const char *prefix, size_t len)
{
	return !env.prefix || !strncmp(env.prefix, prefix, len);
}

/* One text line; addr/len/detail already formatted by the caller. */
static void print_line(__u64 ts, __u32 pid, const char *comm, size_t comm_len, const char *prefix,
		       size_t prefix_len, const char *event, const char *addr, const char *len,
		       const char *verdict, const char *detail)
{
	char t[32], c[17], p[65];

	fmt_time(t, sizeof(t), ts);
	clean_str(c, comm, comm_len < 16 ? comm_len : 16);
	clean_str(p, prefix, prefix_len < 64 ? prefix_len : 64);
	printf("%-12s %-7u %-16s %-16s %-9s %-18s %-12s %-9s %s\n", t, pid, c, p[0] ? p : "-",
	       event, addr, len, verdict, detail);
}

static void print_header(void)
{
	if (env.json)
		return;
	printf("%-12s %-7s %-16s %-16s %-9s %-18s %-12s %-9s %s\n", "TIME", "PID", "COMM",
	       "PREFIX", "EVENT", "ADDR", "LEN", "VERDICT", "DETAIL");
}

/* A notice: a '#' line on stdout in text mode; stderr in JSON mode, so that stdout stays
 * valid JSON. */
static void notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void notice(const char *fmt, ...)
{
	FILE *f = env.json ? stderr : stdout;
	va_list ap;

	fputs("# ", f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fflush(f);
}

static void print_event(const struct dpdkmp_guard_event *e)
{
	char addr[32] = "-", len[32] = "-", detail[160] = "", win[24] = "";
	char t[32];

	if (env.json) {
		fmt_time(t, sizeof(t), e->ts_ns);
		printf("{\"time\":\"%s\",\"ts_ns\":%llu,\"snapshot\":false,\"event\":\"%s\",\"type\":%u,"
		       "\"verdict\":\"%s\",\"pid\":%u,\"tid\":%u,\"ppid\":%u,\"zygote\":%u,"
		       "\"phase\":\"%s\",\"window\":", t, (unsigned long long)e->ts_ns,
		       event_name(e->type), e->type, verdict_name(e->verdict), e->tgid, e->tid, e->ppid,
		       e->zygote, phase_name(e->phase));
		if (e->window == NO_WINDOW)
			printf("null");
		else
			printf("%u", e->window);
		printf(",\"syscall\":");
		if (e->type == DPDKMP_GUARD_EV_MAP || e->type == DPDKMP_GUARD_EV_UNMAP)
			printf("\"%s\"", syscall_name(e->syscall));
		else
			printf("null");
		printf(",\"addr\":%llu,\"len\":%llu,", (unsigned long long)e->addr,
		       (unsigned long long)e->len);
		json_str("comm", e->comm, sizeof(e->comm));
		putchar(',');
		json_str("prefix", e->prefix, sizeof(e->prefix));
		printf(",\"version\":%u}\n", e->version);
		return;
	}

	switch (e->type) {
	case DPDKMP_GUARD_EV_REGISTER:
		snprintf(len, sizeof(len), "%llu", (unsigned long long)e->len);
		snprintf(detail, sizeof(detail), "%llu window%s", (unsigned long long)e->len,
			 e->len == 1 ? "" : "s");
		break;
	case DPDKMP_GUARD_EV_SPAWN:
		snprintf(detail, sizeof(detail), "parent %u, zygote %u, %s", e->ppid, e->zygote,
			 phase_name(e->phase));
		break;
	case DPDKMP_GUARD_EV_PHASE:
		snprintf(detail, sizeof(detail), "%s -> %s", phase_name(e->addr), phase_name(e->len));
		break;
	case DPDKMP_GUARD_EV_MAP:
	case DPDKMP_GUARD_EV_UNMAP:
		snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)e->addr);
		snprintf(len, sizeof(len), "0x%llx", (unsigned long long)e->len);
		if (e->window != NO_WINDOW)
			snprintf(win, sizeof(win), " window %u", e->window);
		snprintf(detail, sizeof(detail), "%s%s, %s", syscall_name(e->syscall), win,
			 phase_name(e->phase));
		break;
	case DPDKMP_GUARD_EV_EXIT:
		snprintf(detail, sizeof(detail), "%llu violation%s", (unsigned long long)e->addr,
			 e->addr == 1 ? "" : "s");
		break;
	default:
		snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)e->addr);
		snprintf(len, sizeof(len), "0x%llx", (unsigned long long)e->len);
		snprintf(detail, sizeof(detail), "type %u", e->type);
	}
	if (e->tid != e->tgid) {
		size_t l = strlen(detail);

		snprintf(detail + l, sizeof(detail) - l, "%stid %u", l ? ", " : "", e->tid);
	}
	print_line(e->ts_ns, e->tgid, e->comm, sizeof(e->comm), e->prefix, sizeof(e->prefix),
		   event_name(e->type), addr, len, verdict_name(e->verdict), detail);
}

static int handle_event(void *ctx, void *data, size_t size)
{
	const struct dpdkmp_guard_event *e = data;

	if (size != sizeof(*e)) {
		if (!cnt.bad_size++)
			fprintf(stderr, "dpdkmp-trace: event of %zu bytes, expected %zu: the loaded guard "
				"and this dpdkmp-trace were built from different bpf/guard.h; such "
				"events are skipped\n", size, sizeof(*e));
		return 0;
	}
	if (e->version != DPDKMP_GUARD_VERSION) {
		if (!cnt.bad_version++)
			fprintf(stderr, "dpdkmp-trace: event version %u, expected %u: rebuild "
				"dpdkmp-trace or reload the guard; such events are skipped\n",
				e->version, DPDKMP_GUARD_VERSION);
		return 0;
	}
	cnt.received++;
	if (env.count && cnt.shown >= (unsigned long long)env.count)
		return 0;
	if (!pid_wanted(e->tgid) || !prefix_wanted(e->prefix, sizeof(e->prefix)))
		return 0;
	if (e->verdict == DPDKMP_GUARD_VIOLATION)
		cnt.violations++;
	else if (e->verdict == DPDKMP_GUARD_KILLED)
		cnt.killed++;
	print_event(e);
	cnt.shown++;
	if (env.count && cnt.shown >= (unsigned long long)env.count)
		exiting = 1;
	return 0;
}

/* ---- pinned maps ---- */

static void describe_denied(const char *path)
{
	char dir[512], *slash;
	const char *what = path;
	struct stat st;
	struct group *gr;
	struct passwd *pw;
	char gname[64], uname[64];

	if (stat(path, &st) < 0) {
		/* The directory itself is not searchable. */
		snprintf(dir, sizeof(dir), "%s", path);
		slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
		if (stat(dir, &st) < 0) {
			fprintf(stderr, "dpdkmp-trace: permission denied on %s: %s\n", path,
				strerror(errno));
			return;
		}
		what = dir;
	}
	gr = getgrgid(st.st_gid);
	pw = getpwuid(st.st_uid);
	snprintf(gname, sizeof(gname), "%s", gr ? gr->gr_name : "?");
	snprintf(uname, sizeof(uname), "%s", pw ? pw->pw_name : "?");
	if (!gr)
		snprintf(gname, sizeof(gname), "%u", (unsigned int)st.st_gid);
	fprintf(stderr, "dpdkmp-trace: permission denied on %s (mode %04o, owner %s, group %s)",
		what, (unsigned int)(st.st_mode & 07777), uname, gname);
	if (st.st_gid != 0 && (st.st_mode & 0060))
		fprintf(stderr, ": run as root or as a member of group '%s' "
			"(`dpdkmp-helper guard load` chooses the group)\n", gname);
	else
		fprintf(stderr, ": it is shared with no group; run as root, or reload the guard "
			"with a group (see `dpdkmp-helper guard load --help`)\n");
}

static bool bpffs_mounted(void)
{
	struct statfs sf;

	return statfs("/sys/fs/bpf", &sf) == 0 && sf.f_type == BPF_FS_MAGIC;
}

/* The pinned map NAME, checked for type and sizes; -errno. With `quiet`, only debug logs. */
static int open_map(const char *name, bool rdonly, enum bpf_map_type type, __u32 key_size,
		    __u32 value_size, bool quiet)
{
	LIBBPF_OPTS(bpf_obj_get_opts, o, .file_flags = rdonly ? BPF_F_RDONLY : 0);
	struct bpf_map_info info = {};
	__u32 info_len = sizeof(info);
	char path[512];
	int fd, err;

	if (snprintf(path, sizeof(path), "%s/%s", env.pin_dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = bpf_obj_get_opts(path, &o);
	if (fd < 0) {
		err = -errno;
		if (quiet)
			return err;
		if (err == -ENOENT)
			fprintf(stderr, "dpdkmp-trace: the dpdkmp guard is not loaded (no %s%s): "
				"run `dpdkmp-helper guard load`\n", path, bpffs_mounted() ? "" :
				"; no bpf file system is mounted on /sys/fs/bpf");
		else if (err == -EACCES || err == -EPERM)
			describe_denied(path);
		else
			fprintf(stderr, "dpdkmp-trace: cannot open %s: %s\n", path, strerror(-err));
		return err;
	}
	if (bpf_obj_get_info_by_fd(fd, &info, &info_len) < 0) {
		err = -errno;
		fprintf(stderr, "dpdkmp-trace: %s: cannot get map info: %s\n", path, strerror(-err));
		close(fd);
		return err;
	}
	if (info.type != type || info.key_size != key_size || info.value_size != value_size) {
		fprintf(stderr, "dpdkmp-trace: %s is not what bpf/guard.h describes (type %u key %u "
			"value %u, expected type %u key %u value %u): rebuild dpdkmp-trace or reload "
			"the guard\n", path, info.type, info.key_size, info.value_size, type, key_size,
			value_size);
		close(fd);
		return -EPROTO;
	}
	return fd;
}

/* Sum of a per-CPU counter of "stats"; -errno. */
static int read_stat(__u32 key, unsigned long long *out)
{
	__u64 *v;
	unsigned long long sum = 0;
	int i, err = 0;

	if (stats_fd < 0 || nr_cpus <= 0)
		return -EBADF;
	v = calloc((size_t)nr_cpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(stats_fd, &key, v) < 0) {
		err = -errno;
	} else {
		for (i = 0; i < nr_cpus; i++)
			sum += v[i];
		*out = sum;
	}
	free(v);
	return err;
}

/* "# lost N events" when DROPS grew since the last report. */
static void report_lost(void)
{
	unsigned long long drops;

	if (read_stat(DPDKMP_GUARD_ST_DROPS, &drops) < 0 || drops <= cnt.drops_seen)
		return;
	if (env.json)
		printf("{\"event\":\"lost\",\"count\":%llu,\"total\":%llu}\n",
		       drops - cnt.drops_seen, drops - cnt.drops_start);
	else
		printf("# lost %llu events (%llu since start): the ring buffer was full\n",
		       drops - cnt.drops_seen, drops - cnt.drops_start);
	cnt.drops_seen = drops;
}

/* A BPF ring buffer has a single consumer position: two readers would each get part of the
 * events. Readers of the guard take this lock on the pin directory; -errno. */
static int lock_reader(int *out)
{
	int fd = open(env.pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	*out = fd;
	return 0;
}

/* ---- startup snapshot ---- */

struct snap_proc {
	__u32 tgid;
	struct dpdkmp_guard_proc p;
};

static int cmp_snap(const void *a, const void *b)
{
	const struct snap_proc *x = a, *y = b;

	if (x->p.zygote != y->p.zygote)
		return x->p.zygote < y->p.zygote ? -1 : 1;
	if (x->p.depth != y->p.depth)
		return x->p.depth < y->p.depth ? -1 : 1;
	return x->tgid < y->tgid ? -1 : x->tgid > y->tgid;
}

static void proc_comm(__u32 tgid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(buf, len, "?");
	snprintf(path, sizeof(path), "/proc/%u/comm", tgid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/* Every key of a hash map keyed by __u32, sorted; NULL and *n = 0 when empty. */
static __u32 *map_keys(int fd, size_t *n)
{
	__u32 key, next, *keys = NULL, *tmp;
	size_t cap = 0;
	bool first = true;

	*n = 0;
	while (bpf_map_get_next_key(fd, first ? NULL : &key, &next) == 0) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			tmp = realloc(keys, cap * sizeof(*keys));
			if (!tmp)
				break;
			keys = tmp;
		}
		keys[(*n)++] = next;
		key = next;
		first = false;
		if (*n > (1u << 20)) /* a key vanished under us and iteration restarted */
			break;
	}
	return keys;
}

static void snap_json_head(__u64 ts, const char *event, __u32 pid, const char *comm,
			   const char *prefix)
{
	char t[32];

	fmt_time(t, sizeof(t), ts);
	printf("{\"time\":\"%s\",\"ts_ns\":%llu,\"snapshot\":true,\"event\":\"%s\",\"pid\":%u,", t,
	       (unsigned long long)ts, event, pid);
	json_str("comm", comm, 16);
	putchar(',');
	json_str("prefix", prefix, 64);
}

static void snapshot_zygote(__u32 tgid, const struct dpdkmp_guard_zygote *z, __u64 ts)
{
	char comm[32], addr[32], len[32], detail[64];
	__u32 i, n = z->nwindows < DPDKMP_GUARD_MAX_WINDOWS ? z->nwindows : DPDKMP_GUARD_MAX_WINDOWS;

	proc_comm(tgid, comm, sizeof(comm));
	if (env.json) {
		snap_json_head(ts, "zygote", tgid, comm, z->prefix);
		printf(",\"nwindows\":%u,\"windows\":[", z->nwindows);
		for (i = 0; i < n; i++)
			printf("%s{\"base\":%llu,\"len\":%llu}", i ? "," : "",
			       (unsigned long long)z->w[i].base, (unsigned long long)z->w[i].len);
		printf("]}\n");
		return;
	}
	snprintf(len, sizeof(len), "%u", z->nwindows);
	snprintf(detail, sizeof(detail), "%u window%s", z->nwindows, z->nwindows == 1 ? "" : "s");
	print_line(ts, tgid, comm, sizeof(comm), z->prefix, sizeof(z->prefix), "zygote*", "-", len,
		   "-", detail);
	for (i = 0; i < n; i++) {
		snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)z->w[i].base);
		snprintf(len, sizeof(len), "0x%llx", (unsigned long long)z->w[i].len);
		snprintf(detail, sizeof(detail), "window %u", i);
		print_line(ts, tgid, comm, sizeof(comm), z->prefix, sizeof(z->prefix), "window*",
			   addr, len, "-", detail);
	}
}

static void snapshot_proc(const struct snap_proc *sp, const char *prefix)
{
	char comm[32], detail[128];
	const struct dpdkmp_guard_proc *p = &sp->p;

	proc_comm(sp->tgid, comm, sizeof(comm));
	if (env.json) {
		snap_json_head(p->start_ns, "child", sp->tgid, comm, prefix);
		printf(",\"zygote\":%u,\"ppid\":%u,\"phase\":\"%s\",\"depth\":%u,\"violations\":%llu,"
		       "\"start_ns\":%llu}\n", p->zygote, p->parent, phase_name(p->phase), p->depth,
		       (unsigned long long)p->violations, (unsigned long long)p->start_ns);
		return;
	}
	snprintf(detail, sizeof(detail), "parent %u, zygote %u, depth %u, %s, %llu violation%s",
		 p->parent, p->zygote, p->depth, phase_name(p->phase),
		 (unsigned long long)p->violations, p->violations == 1 ? "" : "s");
	print_line(p->start_ns, sp->tgid, comm, sizeof(comm), prefix, 64, "child*", "-", "-",
		   p->violations ? "VIOLATION" : "-", detail);
}

/* What the guard tracks already, from "zygotes" and "procs" (root only, usually). */
static void snapshot(void)
{
	int zfd, pfd, err;
	__u32 *zkeys = NULL, *pkeys = NULL;
	size_t nz = 0, np = 0, i, nsp = 0;
	struct snap_proc *sp = NULL;
	struct dpdkmp_guard_zygote z;
	__u64 now = now_ns(CLOCK_MONOTONIC);

	zfd = open_map("zygotes", true, BPF_MAP_TYPE_HASH, sizeof(__u32), sizeof(z), true);
	pfd = open_map("procs", true, BPF_MAP_TYPE_HASH, sizeof(__u32),
		       sizeof(struct dpdkmp_guard_proc), true);
	if (zfd < 0 || pfd < 0) {
		err = zfd < 0 ? zfd : pfd;
		notice("no snapshot of tracked processes: cannot open %s/%s: %s%s; live events "
		       "follow", env.pin_dir, zfd < 0 ? "zygotes" : "procs", strerror(-err),
		       err == -EACCES || err == -EPERM ? " (it is readable by root only)" : "");
		goto out;
	}
	zkeys = map_keys(zfd, &nz);
	pkeys = map_keys(pfd, &np);
	sp = calloc(np ? np : 1, sizeof(*sp));
	if (!sp)
		goto out;
	for (i = 0; i < np; i++) {
		sp[nsp].tgid = pkeys[i];
		if (bpf_map_lookup_elem(pfd, &pkeys[i], &sp[nsp].p) == 0)
			nsp++;
	}
	qsort(sp, nsp, sizeof(*sp), cmp_snap);

	for (i = 0; i < nz; i++) {
		size_t j;
		__u64 ts = now;

		if (bpf_map_lookup_elem(zfd, &zkeys[i], &z) < 0)
			continue;
		if (!prefix_wanted(z.prefix, sizeof(z.prefix)))
			continue;
		for (j = 0; j < nsp; j++)
			if (sp[j].tgid == zkeys[i] && sp[j].p.start_ns)
				ts = sp[j].p.start_ns;
		if (pid_wanted(zkeys[i]))
			snapshot_zygote(zkeys[i], &z, ts);
	}
	for (i = 0; i < nsp; i++) {
		char prefix[64] = "";

		if (sp[i].p.depth == 0 && sp[i].tgid == sp[i].p.zygote)
			continue; /* the zygote, shown above */
		if (bpf_map_lookup_elem(zfd, &sp[i].p.zygote, &z) == 0)
			memcpy(prefix, z.prefix, sizeof(prefix));
		prefix[sizeof(prefix) - 1] = '\0';
		if (!pid_wanted(sp[i].tgid) || !prefix_wanted(prefix, sizeof(prefix)))
			continue;
		snapshot_proc(&sp[i], prefix);
	}
	if (!env.json)
		notice("snapshot: the guard tracks %zu zygote%s and %zu process%s in all; live "
		       "events follow", nz, nz == 1 ? "" : "s", nsp, nsp == 1 ? "" : "es");
out:
	free(sp);
	free(zkeys);
	free(pkeys);
	if (zfd >= 0)
		close(zfd);
	if (pfd >= 0)
		close(pfd);
}

int main(int argc, char **argv)
{
	static const struct argp argp = {
		.options = opts,
		.parser = parse_arg,
		.doc = argp_program_doc,
	};
	struct ring_buffer *rb = NULL;
	struct sigaction sa = { .sa_handler = sig_handler };
	unsigned long long start, last_lost;
	int events_fd = -1, lock_fd = -1, err;

	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err)
		return 1;
	libbpf_set_print(libbpf_print_fn);
	setvbuf(stdout, NULL, _IOLBF, 0);

	mono_to_real_ns = (long long)now_ns(CLOCK_REALTIME) - (long long)now_ns(CLOCK_MONOTONIC);

	events_fd = open_map("events", false, BPF_MAP_TYPE_RINGBUF, 0, 0, false);
	if (events_fd < 0) {
		err = 1;
		goto cleanup;
	}
	err = lock_reader(&lock_fd);
	if (err == -EWOULDBLOCK) {
		fprintf(stderr, "dpdkmp-trace: another dpdkmp-trace is reading the guard's events "
			"(lock on %s); a BPF ring buffer has one reader, two would each see part of "
			"the events: stop the other one first\n", env.pin_dir);
		err = 1;
		goto cleanup;
	}
	/* Any other error: the directory cannot be opened, the lock is only advisory. */
	nr_cpus = libbpf_num_possible_cpus();
	stats_fd = open_map("stats", true, BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(__u32), sizeof(__u64),
			    true);
	if (stats_fd < 0)
		fprintf(stderr, "dpdkmp-trace: cannot open %s/stats (%s): lost events will not be "
			"reported\n", env.pin_dir, strerror(-stats_fd));
	read_stat(DPDKMP_GUARD_ST_DROPS, &cnt.drops_start);
	cnt.drops_seen = cnt.drops_start;

	rb = ring_buffer__new(events_fd, handle_event, NULL, NULL);
	if (!rb) {
		err = -errno;
		if (err == -EACCES || err == -EPERM) {
			char path[512];

			snprintf(path, sizeof(path), "%s/events", env.pin_dir);
			describe_denied(path);
		} else {
			fprintf(stderr, "dpdkmp-trace: cannot map the events ring buffer: %s\n",
				strerror(-err));
		}
		err = 1;
		goto cleanup;
	}

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0) {
		fprintf(stderr, "dpdkmp-trace: cannot set signal handlers: %s\n", strerror(errno));
		err = 1;
		goto cleanup;
	}

	print_header();
	if (!env.no_snapshot)
		snapshot();

	start = last_lost = now_ns(CLOCK_MONOTONIC);
	err = 0;
	while (!exiting) {
		unsigned long long t;

		err = ring_buffer__poll(rb, 100 /* ms */);
		if (err == -EINTR) {
			err = 0;
			continue;
		}
		if (err < 0) {
			fprintf(stderr, "dpdkmp-trace: polling the ring buffer: %s\n", strerror(-err));
			break;
		}
		err = 0;
		t = now_ns(CLOCK_MONOTONIC);
		if (t - last_lost >= 1000000000ull) {
			report_lost();
			last_lost = t;
		}
		if (env.duration && t - start >= (unsigned long long)env.duration * 1000000000ull)
			break;
	}
	/* What is already in the ring buffer when we stop is still shown (up to -c). */
	if (!err && !(env.count && cnt.shown >= (unsigned long long)env.count))
		ring_buffer__consume(rb);
	report_lost();
	fprintf(stderr, "dpdkmp-trace: %llu events received, %llu shown (%llu VIOLATION, %llu "
		"KILLED), %llu lost, %llu malformed, in %.1f s\n", cnt.received, cnt.shown,
		cnt.violations, cnt.killed, cnt.drops_seen - cnt.drops_start,
		cnt.bad_size + cnt.bad_version, (now_ns(CLOCK_MONOTONIC) - start) / 1e9);
	err = err < 0 ? 1 : 0;

cleanup:
	ring_buffer__free(rb);
	if (stats_fd >= 0)
		close(stats_fd);
	if (events_fd >= 0)
		close(events_fd);
	if (lock_fd >= 0)
		close(lock_fd);
	return err;
}
