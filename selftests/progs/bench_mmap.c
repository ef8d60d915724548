/* bench_mmap: the microbenchmark of scripts/bench-guard. It times the system calls the guard
 * may slow down, in a process the guard does not track or in a child of a registered zygote.
 *
 * usage: bench_mmap mmap N           N x (mmap + munmap of one anonymous 4 KiB page)
 *        bench_mmap null N           N x getppid(), the null system call
 *        bench_mmap tracked mmap|null N
 *            register this process as a guard zygote (one window: a PROT_NONE reservation
 *            nothing else can be mapped into), fork a child that sends the RUN marker and runs
 *            the loop: tracked, but never touching the window, so never a violation
 * Untracked runs have the same shape (reservation, fork, loop in the child) without the
 * registration and the marker: the address space is laid out alike, so the new page has the
 * same neighbours (an anonymous page next to an anonymous VMA merges and splits; next to the
 * PROT_NONE reservation it does not, which alone changes the cost by a third).
 * Output: one line "bench_mmap MODE: X.X ns/iter (N iterations)"; exit 0, or 1 with the reason. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/types.h>

#include "guard.h"

/* The window: far from anything the loop maps, reserved so that nothing lands in it. */
#define WINDOW_LEN (1ul << 30)

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int loop_mmap(long n)
{
	long i;

	for (i = 0; i < n; i++) {
		void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED) {
			fprintf(stderr, "bench_mmap: mmap: %s\n", strerror(errno));
			return -1;
		}
		if (munmap(p, 4096) < 0) {
			fprintf(stderr, "bench_mmap: munmap: %s\n", strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int loop_null(long n)
{
	long i;

	/* syscall(2), not getppid(): glibc could cache it some day. */
	for (i = 0; i < n; i++)
		syscall(SYS_getppid);
	return 0;
}

static int run(const char *mode, long n, const char *label)
{
	double t0, t1;
	int rc;

	t0 = now_ns();
	rc = !strcmp(mode, "mmap") ? loop_mmap(n) : loop_null(n);
	t1 = now_ns();
	if (rc < 0)
		return 1;
	printf("bench_mmap %s: %.1f ns/iter (%ld iterations)\n", label, (t1 - t0) / n, n);
	return fflush(stdout) == 0 ? 0 : 1;
}

/* prctl marker; the kernel answers EINVAL whether the guard is loaded or not. */
static int marker(unsigned long cmd, void *arg, unsigned long len)
{
	if (prctl(DPDKMP_GUARD_PRCTL, cmd, (unsigned long)arg, len, 0) == 0) {
		fprintf(stderr, "bench_mmap: prctl(DPDKMP_GUARD_PRCTL) succeeded: the kernel "
			"knows option %#x, the marker is not safe here\n", DPDKMP_GUARD_PRCTL);
		return -1;
	}
	if (errno != EINVAL) {
		fprintf(stderr, "bench_mmap: prctl(DPDKMP_GUARD_PRCTL): %s (expected EINVAL)\n",
			strerror(errno));
		return -1;
	}
	return 0;
}

static int in_child(const char *mode, long n, int tracked)
{
	static struct dpdkmp_guard_reg reg;
	void *win;
	pid_t pid;
	int status;

	win = mmap(NULL, WINDOW_LEN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (win == MAP_FAILED) {
		fprintf(stderr, "bench_mmap: cannot reserve the window: %s\n", strerror(errno));
		return 1;
	}
	reg.version = DPDKMP_GUARD_VERSION;
	reg.nwindows = 1;
	snprintf(reg.prefix, sizeof(reg.prefix), "bench_mmap_%d", (int)getpid());
	reg.w[0].base = (__u64)(unsigned long)win;
	reg.w[0].len = WINDOW_LEN;
	if (tracked && marker(DPDKMP_GUARD_CMD_REGISTER, &reg, sizeof(reg)) < 0)
		return 1;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "bench_mmap: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		char label[32];

		if (tracked && marker(DPDKMP_GUARD_CMD_RUN, NULL, 0) < 0)
			_exit(1);
		snprintf(label, sizeof(label), "%s%s", tracked ? "tracked " : "", mode);
		_exit(run(mode, n, label));
	}
	if (waitpid(pid, &status, 0) < 0) {
		fprintf(stderr, "bench_mmap: waitpid: %s\n", strerror(errno));
		return 1;
	}
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "bench_mmap: the %schild was killed by signal %d%s\n",
			tracked ? "tracked " : "", WTERMSIG(status), tracked &&
			WTERMSIG(status) == SIGKILL ? " (by the guard? it touched no window)" : "");
		return 1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

static long parse_n(const char *s)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno || end == s || *end || n <= 0)
		return -1;
	return n;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: bench_mmap mmap N | null N | tracked mmap|null N\n"
		"  mmap     N x mmap+munmap of a 4 KiB anonymous page, untracked (in a child)\n"
		"  null     N x getppid(), untracked (in a child)\n"
		"  tracked  the same in a child of this process registered as a guard zygote\n"
		"example: bench_mmap tracked mmap 100000\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *mode;
	long n;

	if (argc == 3 && (!strcmp(argv[1], "mmap") || !strcmp(argv[1], "null"))) {
		mode = argv[1];
		n = parse_n(argv[2]);
		if (n < 0)
			return usage();
		return in_child(mode, n, 0);
	}
	if (argc == 4 && !strcmp(argv[1], "tracked") &&
	    (!strcmp(argv[2], "mmap") || !strcmp(argv[2], "null"))) {
		n = parse_n(argv[3]);
		if (n < 0)
			return usage();
		return in_child(argv[2], n, 1);
	}
	return usage();
}
