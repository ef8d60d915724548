/* probe_secondary: a DPDK secondary that does one observable thing on request, so that the
 * lifecycle tests can check what a program run through dpdkmp sees and how it ends.
 *   probe_secondary EAL-ARGS -- ACTION [ARG]
 * Actions: exit N | raise SIG | wait (print READY, block until a signal, report it, exit 0
 * for SIGTERM/SIGINT/SIGUSR1 after printing GOT) | fds | env NAME | cwd | echo (copy stdin
 * to stdout) | selfexec (run itself as a secondary and wait, as dpdk-test does; the
 * primary's --file-prefix must be given as --file-prefix=P) | denied (try system calls the
 * fork server's seccomp policy denies; one "DENIED name errno" line each) | topology
 * (what EAL detected: sockets, lcores, each lcore's socket and core, one line each) |
 * refcount PATH FRESH (the dlopen reference count of the loaded object PATH; FRESH is a
 * library not loaded yet, to find where glibc keeps the count) */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strerrorname_np, CLONE_NEW* */
#endif
#include <dirent.h>
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sched.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_lcore.h>

static volatile sig_atomic_t got;

/* Where glibc keeps a link map's dlopen reference count (l_direct_opencount, not a public
 * field): the one unsigned int of a freshly loaded library's link map that reads 1, 2, 3
 * after one, two, three dlopen() calls. -1 when there is not exactly one. */
static long count_offset(const char *fresh)
{
	enum { SPAN = 2048 / sizeof(unsigned int) };
	unsigned int snap[3][SPAN];
	long off = -1;
	void *h = NULL;

	for (int k = 0; k < 3; k++) {
		h = dlopen(fresh, RTLD_NOW | RTLD_LOCAL);
		if (!h)
			return -1;
		memcpy(snap[k], h, sizeof(snap[k]));
	}
	for (unsigned int i = 0; i < SPAN; i++) {
		if (snap[0][i] != 1 || snap[1][i] != 2 || snap[2][i] != 3)
			continue;
		if (off >= 0)
			return -1;
		off = (long)(i * sizeof(unsigned int));
	}
	return off;
}

/* The dlopen reference count of the loaded object PATH, read where count_offset() found it. */
static int refcount(const char *path, const char *fresh)
{
	long off = count_offset(fresh);
	void *h = dlopen(path, RTLD_NOW | RTLD_NOLOAD);

	if (!h || off < 0) {
		printf("REFCOUNT %s\n", h ? "unknown (no counter found)" : "not loaded");
		return 1;
	}
	printf("REFCOUNT %u\n", *(unsigned int *)((char *)h + off) - 1);
	dlclose(h);
	return 0;
}

static void on_sig(int s)
{
	got = s;
}

static int list_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int self = d ? dirfd(d) : -1;

	if (!d)
		return 1;
	/* Only fds the program did not open itself: DPDK's own (mp socket, config, hugepage
	 * fds, eventfds) show with their targets so that a leak is recognisable. */
	while ((de = readdir(d))) {
		char p[300], t[512];
		ssize_t n;

		if (de->d_name[0] == '.' || atoi(de->d_name) == self)
			continue;
		snprintf(p, sizeof(p), "/proc/self/fd/%s", de->d_name);
		n = readlink(p, t, sizeof(t) - 1);
		t[n > 0 ? n : 0] = '\0';
		printf("FD %s %s\n", de->d_name, t);
	}
	closedir(d);
	return 0;
}

/* Each call is harmless if it were allowed (and fails for lack of privilege or arguments
 * anyway), so the errno tells the filter's answer apart: EPERM (or ENOSYS for clone3). */
static int try_denied(void)
{
	static const struct {
		const char *name;
		long nr;
		long a0, a1, a2;
	} calls[] = {
		{ "ptrace", SYS_ptrace, PTRACE_PEEKDATA, 1, 0 },
		{ "process_vm_readv", SYS_process_vm_readv, 1, 0, 0 },
		{ "mount", SYS_mount, 0, 0, 0 },
		{ "bpf", SYS_bpf, -1, 0, 0 },
		{ "init_module", SYS_init_module, 0, 0, 0 },
		{ "unshare", SYS_unshare, CLONE_NEWUSER, 0, 0 },
		{ "setns", SYS_setns, -1, 0, 0 },
		{ "keyctl", SYS_keyctl, -1, 0, 0 },
		{ "perf_event_open", SYS_perf_event_open, 0, 0, 0 },
		{ "userfaultfd", SYS_userfaultfd, -1, 0, 0 },
		{ "io_uring_setup", SYS_io_uring_setup, 0, 0, 0 },
		{ "kexec_load", SYS_kexec_load, 0, 0, 0 },
		{ "clone(CLONE_NEWNET)", SYS_clone, CLONE_NEWNET | SIGCHLD, 0, 0 },
		{ "clone3", SYS_clone3, 0, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		long r;

		errno = 0;
		r = syscall(calls[i].nr, calls[i].a0, calls[i].a1, calls[i].a2, 0, 0, 0);
		if (r == 0 && calls[i].nr == SYS_clone)
			_exit(0);       /* the child of an allowed clone */
		printf("DENIED %s %s\n", calls[i].name, r < 0 ? strerrorname_np(errno) : "ALLOWED");
	}
	return 0;
}

/* As dpdk-test's multiprocess tests: run our own executable as a secondary and wait. */
static int selfexec(int argc, char **argv)
{
	char prefix[256] = "--file-prefix=rte";
	int st = 0;
	pid_t pid;

	for (int i = 1; i < argc; i++)
		if (!strncmp(argv[i], "--file-prefix=", 14))
			snprintf(prefix, sizeof(prefix), "%s", argv[i]);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execl("/proc/self/exe", argv[0], "-l", "1", "--no-pci", "--proc-type=secondary",
		      prefix, "--", "exit", "7", (char *)NULL);
		perror("execl");
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return 1;
	printf("SELFEXEC status=%d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return 0;
}

int main(int argc, char **argv)
{
	char **orig = argv;
	int orig_argc = argc, ret = rte_eal_init(argc, argv);
	const char *act;

	if (ret < 0) {
		fprintf(stderr, "probe_secondary: rte_eal_init failed\n");
		return 2;
	}
	argc -= ret;
	argv += ret;
	act = argc > 1 ? argv[1] : "exit";
	if (!strcmp(act, "exit")) {
		ret = argc > 2 ? atoi(argv[2]) : 0;
	} else if (!strcmp(act, "raise")) {
		fflush(stdout);
		raise(argc > 2 ? atoi(argv[2]) : SIGSEGV);
		ret = 3;
	} else if (!strcmp(act, "wait")) {
		signal(SIGTERM, on_sig);
		signal(SIGINT, on_sig);
		signal(SIGUSR1, on_sig);
		signal(SIGHUP, on_sig);
		printf("READY pid=%d\n", getpid());
		fflush(stdout);
		while (!got)
			pause();
		printf("GOT %d\n", (int)got);
		ret = 0;
	} else if (!strcmp(act, "fds")) {
		ret = list_fds();
	} else if (!strcmp(act, "env")) {
		const char *v = argc > 2 ? getenv(argv[2]) : NULL;

		printf("ENV %s=%s\n", argc > 2 ? argv[2] : "", v ? v : "(unset)");
		ret = 0;
	} else if (!strcmp(act, "cwd")) {
		char b[4096];

		printf("CWD %s\n", getcwd(b, sizeof(b)) ? b : "?");
		ret = 0;
	} else if (!strcmp(act, "echo")) {
		char b[4096];

		while (fgets(b, sizeof(b), stdin))
			fputs(b, stdout);
		ret = 0;
	} else if (!strcmp(act, "topology")) {
		printf("SOCKETS %u LCORES %u\n", rte_socket_count(), rte_lcore_count());
		for (unsigned int i = 0; i < RTE_MAX_LCORE; i++)
			printf("LCORE %u socket %u cpu %d\n", i, rte_lcore_to_socket_id(i),
			       rte_lcore_to_cpu_id((int)i));
		ret = 0;
	} else if (!strcmp(act, "refcount") && argc > 3) {
		ret = refcount(argv[2], argv[3]);
	} else if (!strcmp(act, "denied")) {
		ret = try_denied();
	} else if (!strcmp(act, "selfexec")) {
		ret = selfexec(orig_argc, orig);
	} else {
		fprintf(stderr, "probe_secondary: unknown action %s\n", act);
		ret = 2;
	}
	fflush(stdout);
	rte_eal_cleanup();
	return ret;
}
