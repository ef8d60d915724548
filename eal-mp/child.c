/* child: a secondary forked from the zygote. It becomes the launcher's process in every way
 * a program can see (stdio, cwd, environment, signals, name), keeps the primary's windows
 * reserved while its executable is loaded and its pre-EAL code runs, then does a genuine
 * DPDK secondary init in the interposed rte_eal_init and checks that every window landed
 * at the primary's address. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include <linux/types.h>

#include "../bpf/guard.h"
#include "fdpass.h"
#include "internal.h"
#include "log.h"
#include "rundir.h"

#define EXE_FD 1023     /* below the smallest usual RLIMIT_NOFILE soft limit (1024) */
#define RUN_FD 1022     /* tells the zygote that loading is over (see dpdkmp_child_eal_init) */
_Static_assert(EXE_FD + 1 == DPDKMP_PREPARED_FD_BASE, "prepared fds follow EXE_FD");

int dpdkmp_in_child;
static const struct dpdkmp_winset *child_windows;
static uint32_t child_primary_flags;

/* DPDKMP_PHASES=1: where an attach spends its time, printed once EAL init returned (for
 * scripts/bench and docs/FAST-ATTACH.md). CLOCK_REALTIME so that phases compare with the
 * DPDKMP_BENCH_T0 the benchmark takes before exec. */
enum { PH_FORKED, PH_LOADED, PH_INIT, PH_INITED, PH_VERIFIED, PH_N };
static const char *const phase_names[PH_N] = { "forked", "loaded", "eal-init", "eal-done", "verified" };
static uint64_t phase_ns[PH_N];

static void phase(int i)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	phase_ns[i] = (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void phases_print(void)
{
	const char *on = getenv("DPDKMP_PHASES"), *t0s = getenv("DPDKMP_BENCH_T0");
	uint64_t prev = t0s ? strtoull(t0s, NULL, 10) : 0;

	if (!on || strcmp(on, "1") != 0)
		return;
	fprintf(stderr, "DPDKMP_PHASES");
	for (int i = 0; i < PH_N; i++) {
		if (prev && phase_ns[i])
			fprintf(stderr, " %s=%.3f", phase_names[i], (double)(phase_ns[i] - prev) / 1e6);
		if (phase_ns[i])
			prev = phase_ns[i];
	}
	fprintf(stderr, "\n");
}

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	char buf[1536];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	DPDKMP_ERR("%s", buf);
	_exit(126);     /* as a shell does for a command that cannot be executed */
}

static void reset_signals(void)
{
	sigset_t none;

	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Installs the launcher's stdio as 0, 1, 2 and closes every other fd but the executable's
 * and the run pipe's, which are renumbered high: the program must find the fd numbers a
 * freshly executed process would have. */
static void install_fds(int stdio[3], int exe_fd, int run_fd)
{
	int tmp[5];

	/* Move everything above 2 first so that dup2 never clobbers a source. */
	for (int i = 0; i < 3; i++)
		tmp[i] = fcntl(stdio[i], F_DUPFD_CLOEXEC, 10);
	tmp[3] = fcntl(exe_fd, F_DUPFD_CLOEXEC, 10);
	tmp[4] = fcntl(run_fd, F_DUPFD_CLOEXEC, 10);
	for (int i = 0; i < 5; i++)
		if (tmp[i] < 0)
			die("cannot install the launcher's file descriptors: %s", strerror(errno));
	for (int i = 0; i < 3; i++)
		if (dup2(tmp[i], i) < 0)
			die("dup2: %s", strerror(errno));
	if (dup3(tmp[3], EXE_FD, O_CLOEXEC) < 0 || dup3(tmp[4], RUN_FD, O_CLOEXEC) < 0)
		die("dup3: %s", strerror(errno));
	syscall(SYS_close_range, 3u, (unsigned int)RUN_FD - 1, 0u);
	/* A pool child's prepared hugepage files (initfiles.c) sit right above EXE_FD. */
	syscall(SYS_close_range, (unsigned int)dpdkmp_initfiles_fd_end(), ~0u, 0u);
}

/* The primary's argument area (fields 48 and 49 of /proc/self/stat), inherited through
 * the zygote: /proc/PID/cmdline shows whatever it holds. */
static int arg_area(char **start, size_t *len)
{
	char buf[2048], *p;
	unsigned long long a = 0, b = 0;
	ssize_t n;
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC), field = 2;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	p = strrchr(buf, ')');  /* comm may contain spaces and parentheses */
	if (!p)
		return -EIO;
	for (p++; *p && field < 49; p++) {
		if (*p != ' ')
			continue;
		field++;
		if (field == 48)
			a = strtoull(p + 1, NULL, 10);
		else if (field == 49)
			b = strtoull(p + 1, NULL, 10);
	}
	if (!a || b <= a)
		return -EIO;
	*start = (char *)(uintptr_t)a;
	*len = (size_t)(b - a);
	return 0;
}

/* ps and top show comm and /proc/PID/cmdline: make them the secondary's, not the primary's.
 * PR_SET_MM would point cmdline at a new buffer but needs CAP_SYS_RESOURCE; rewriting the
 * inherited argument area works everywhere, truncated to the primary's command length. */
static void set_identity(char **argv, int argc)
{
	const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	size_t len = 0, off = 0;
	char *area = NULL;

	prctl(PR_SET_NAME, base);
	program_invocation_name = argv[0];
	program_invocation_short_name = (char *)base;
	if (arg_area(&area, &len) < 0 || len < 2)
		return;
	memset(area, 0, len);
	for (int i = 0; i < argc && off < len - 1; i++) {
		size_t l = strlen(argv[i]) + 1;

		if (l > len - 1 - off)
			l = len - 1 - off;
		memcpy(area + off, argv[i], l);
		off += l;
	}
	area[len - 1] = '\0';
}

void dpdkmp_child_main(struct dpdkmp_child_args *a)
{
	struct dpdkmp_spawn_req *r = a->req;
	const char *name = strrchr(r->argv[0], '/') ? strrchr(r->argv[0], '/') + 1 : r->argv[0];
	dpdkmp_main_fn main_fn = NULL;
	char err[1024];
	int exe_fd, code;

	phase(PH_FORKED);
	dpdkmp_in_child = 1;
	dpdkmp_log_set_role(DPDKMP_ROLE_CHILD);
	reset_signals();
	/* Our own session: the primary's terminal signals are not ours, the launcher's are
	 * forwarded by the launcher. */
	setsid();
	install_fds(a->stdio, a->exe_fd, a->run_fd);
	exe_fd = EXE_FD;
	if (chdir(r->cwd) < 0)
		die("cannot change to the launcher's directory %s: %s", r->cwd, strerror(errno));
	environ = r->envp;
	/* The buffering mode of the primary's stdout is not the launcher's. */
	setvbuf(stdout, NULL, isatty(STDOUT_FILENO) ? _IOLBF : _IOFBF, BUFSIZ);
	optind = 1;
	opterr = 1;
	optarg = NULL;
	child_windows = a->windows;
	child_primary_flags = a->primary_flags;
	/* The windows are reserved already: the zygote holds the reservations and we inherited
	 * them, so that no mapping call of ours touches a window while loading (the guard
	 * would call that a violation). */
	set_identity(r->argv, (int)r->argc);

	if (a->same_binary) {
		main_fn = dpdkmp_primary_main;
		if (!main_fn)
			die("the primary's main was not recorded (libdpdkmp must be preloaded or "
			    "linked before libc)");
	} else if (dpdkmp_loader_load(exe_fd, a->elf, name, &main_fn, err, sizeof(err)) < 0) {
		die("%s", err);
	}
	close(exe_fd);
	phase(PH_LOADED);
	code = main_fn((int)r->argc, r->argv, environ);
	exit(code);
}

/* A pool child (zygote.c): forked before any request, it waits on its socket for one relayed
 * SPAWN (the broker's record, forwarded by the zygote with its 4 fds) and then becomes that
 * secondary exactly as a child forked for it would. EOF: retired, it ends. */
void dpdkmp_child_pooled(int sock, int run_fd, const struct dpdkmp_winset *ws,
			 uint32_t primary_flags)
{
	static struct dpdkmp_msg m;
	static struct dpdkmp_spawn_req req;
	static struct dpdkmp_elf_info elf;
	struct dpdkmp_relay_spawn rs;
	struct dpdkmp_child_args a;
	uint32_t conn;
	int ret;

	/* No signal of the zygote's (its signalfd set is blocked) may wait pending for the
	 * secondary: default dispositions while waiting too. */
	reset_signals();
	prctl(PR_SET_NAME, "dpdkmp-pool");
	dpdkmp_segments_prefault();
	dpdkmp_initfiles_prepare(ws ? ws->runtime_dir : NULL);
	dpdkmp_loader_warm();
	do
		ret = dpdkmp_recv(sock, &m);
	while (ret == -EINTR);
	if (ret < 0 || m.hdr.type != DPDKMP_MSG_RELAY_SPAWN ||
	    dpdkmp_relay_spawn_decode(m.payload, m.hdr.len, &conn, &rs, &req) < 0) {
		dpdkmp_initfiles_discard();
		_exit(0);
	}
	close(sock);
	elf.entry = rs.entry;
	elf.flags1_off = rs.flags1_off;
	elf.pie = (uint8_t)(rs.pie != 0);
	a = (struct dpdkmp_child_args){
		.req = &req, .exe_fd = m.fds[0], .run_fd = run_fd, .same_binary = rs.same_binary != 0,
		.elf = &elf, .windows = ws, .stdio = { m.fds[1], m.fds[2], m.fds[3] },
		.primary_flags = primary_flags,
	};
	dpdkmp_child_main(&a);
}

/* EAL needs to be told it is a secondary; `dpdkmp run prog -l 1` should just work, so
 * --proc-type=secondary is added when no --proc-type was given. */
static int real_init(dpdkmp_eal_init_fn real, int argc, char **argv)
{
	const char *pt = dpdkmp_arg_value(argc, argv, "--proc-type");
	char **v;
	int ret;

	if (pt)
		return real(argc, argv);
	v = calloc((size_t)argc + 2, sizeof(*v));
	if (!v)
		return real(argc, argv);
	v[0] = argv[0];
	v[1] = (char *)"--proc-type=secondary";
	memcpy(v + 2, argv + 1, (size_t)(argc - 1) * sizeof(*v));
	ret = real(argc + 1, v);
	/* EAL permutes its argv and puts the program name before the application's
	 * arguments; mirror the result into the caller's array, one slot shorter. */
	memcpy(argv + 1, v + 2, (size_t)(argc - 1) * sizeof(*v));
	if (ret > 0)
		ret--;
	return ret;
}

int dpdkmp_child_eal_init(dpdkmp_eal_init_fn real, int argc, char **argv)
{
	const char *pt = dpdkmp_arg_value(argc, argv, "--proc-type");
	int ret;

	if (pt && strcmp(pt, "secondary") && strcmp(pt, "auto")) {
		DPDKMP_ERR("--proc-type=%s: a program run through dpdkmp is a secondary; use "
			   "--proc-type=secondary or leave it out", pt);
		rte_errno = EINVAL;
		return -1;
	}
	/* Loading is over: tell the guard (a marker only this process's entry can change; EINVAL
	 * whether or not the guard is loaded) and the zygote (a byte on the run pipe), then give
	 * the windows to EAL. */
	if (child_windows) {
		prctl(DPDKMP_GUARD_PRCTL, DPDKMP_GUARD_CMD_RUN, 0, 0, 0);
		if (write(RUN_FD, "R", 1) < 0) {
			/* the zygote only loses the distinction "killed while loading" */
		}
		close(RUN_FD);
	}
	phase(PH_INIT);
	dpdkmp_shortcuts_begin();
	dpdkmp_initfiles_begin(child_windows && !dpdkmp_shortcuts_disabled());
	if (child_windows) {
		if (!dpdkmp_shortcuts_disabled())
			dpdkmp_segments_begin(child_primary_flags);
		dpdkmp_windows_release(child_windows);
	}
	ret = real_init(real, argc, argv);
	dpdkmp_initfiles_end();
	dpdkmp_segments_end();
	dpdkmp_shortcuts_end();
	phase(PH_INITED);
	if (ret < 0)
		return ret;
	dpdkmp_loader_post_init();
	if (child_windows && dpdkmp_windows_verify(child_windows) < 0) {
		DPDKMP_ERR("this secondary's memory does not match the primary's; refusing to run it");
		rte_eal_cleanup();
		rte_errno = EFAULT;
		return -1;
	}
	child_windows = NULL;
	phase(PH_VERIFIED);
	phases_print();
	/* EAL 22.11 lets a secondary pick its own IOVA mode (VA when it cannot read physical
	 * addresses) without comparing it with the primary's: DMA addresses would then be
	 * computed two ways. */
	if (!!(child_primary_flags & DPDKMP_PRIMARY_IOVA_PA) != (rte_eal_iova_mode() == RTE_IOVA_PA)) {
		DPDKMP_ERR("this secondary selected IOVA as %s but the primary uses %s; run the "
			   "primary with --iova-mode=va, or keep CAP_SYS_ADMIN for IOVA as PA",
			   rte_eal_iova_mode() == RTE_IOVA_PA ? "PA" : "VA",
			   child_primary_flags & DPDKMP_PRIMARY_IOVA_PA ? "PA" : "VA");
		rte_eal_cleanup();
		rte_errno = EINVAL;
		return -1;
	}
	return ret;
}
