/* harness.h: a small header-only TAP test harness in the spirit of the kernel's
 * kselftest_harness.h. Each TEST runs in its own forked process (its own process group) under a
 * timeout, so a crash, a hang or a leak checker's verdict fails that test alone.
 *
 *	TEST(parse_ok) { ASSERT_EQ(parse("x"), 0); }
 *	TEST_TIMEOUT(slow_one, 120) { ... }
 *	TEST_MAIN()
 *
 * ASSERT_* ends the test at the first failure; EXPECT_* records it and goes on. SKIP(fmt, ...)
 * ends the test as skipped with its reason. TH_LOG(fmt, ...) prints a TAP diagnostic line.
 * Arguments to the test binary select tests by exact name; -l lists them. */
#ifndef DPDKMP_HARNESS_H
#define DPDKMP_HARNESS_H

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define HARNESS_DEFAULT_TIMEOUT 30u
#define HARNESS_SKIP_EXIT       4    /* kselftest's KSFT_SKIP */
/* unused: a test file need not use every helper, nor a header checked alone */
#define HARNESS_FN static inline __attribute__((unused))

struct harness_test {
	const char *name;
	const char *file;
	int line;
	unsigned int timeout;           /* seconds */
	void (*fn)(void);
	struct harness_test *next;
};

/* Shared with the forked child so that it can hand back its skip reason. */
struct harness_shared {
	char skip_reason[512];
};

static struct harness_test *harness_list __attribute__((unused));
static struct harness_shared *harness_shm __attribute__((unused));
static int harness_failed __attribute__((unused));                /* in the child */
static volatile sig_atomic_t harness_child __attribute__((unused));
static volatile sig_atomic_t harness_timed_out __attribute__((unused));

HARNESS_FN void harness_register(struct harness_test *t)
{
	t->next = harness_list;
	harness_list = t;
}

#define TEST(tn_) TEST_TIMEOUT(tn_, HARNESS_DEFAULT_TIMEOUT)

#define TEST_TIMEOUT(tn_, secs)						\
	static void test_##tn_(void);						\
	static struct harness_test harness_t_##tn_ = {				\
		.name = #tn_, .file = __FILE__, .line = __LINE__,		\
		.timeout = (secs), .fn = test_##tn_,				\
	};									\
	static void __attribute__((constructor)) harness_reg_##tn_(void)	\
	{									\
		harness_register(&harness_t_##tn_);				\
	}									\
	static void test_##tn_(void)

HARNESS_FN void __attribute__((format(printf, 1, 2))) TH_LOG(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

HARNESS_FN void __attribute__((noreturn)) harness_child_exit(int code)
{
	fflush(NULL);
	_exit(code);
}

HARNESS_FN void __attribute__((noreturn, format(printf, 1, 2))) harness_skip(const char *fmt, ...)
{
	va_list ap;

	if (harness_failed)             /* an earlier EXPECT failed: that wins over the skip */
		harness_child_exit(1);
	va_start(ap, fmt);
	vsnprintf(harness_shm->skip_reason, sizeof(harness_shm->skip_reason), fmt, ap);
	va_end(ap);
	harness_child_exit(HARNESS_SKIP_EXIT);
}
#define SKIP(...) harness_skip(__VA_ARGS__)

/* Integer comparison that is correct across signedness: values travel as uintmax_t plus a
 * "was signed" flag. Returns -1, 0 or 1. */
HARNESS_FN int harness_cmp(uintmax_t a, int a_signed, uintmax_t b, int b_signed)
{
	int an = a_signed && (intmax_t)a < 0, bn = b_signed && (intmax_t)b < 0;

	if (an != bn)
		return an ? -1 : 1;
	return a < b ? -1 : a > b;
}

HARNESS_FN void harness_print_val(const char *expr, uintmax_t v, int is_signed)
{
	if (is_signed && (intmax_t)v < 0)
		printf("# \t%s = %" PRIdMAX "\n", expr, (intmax_t)v);
	else
		printf("# \t%s = %" PRIuMAX " (0x%" PRIxMAX ")\n", expr, v, v);
}

HARNESS_FN void harness_fail(int fatal)
{
	harness_failed = 1;
	if (fatal)
		harness_child_exit(1);
	fflush(stdout);
}

#define HARNESS_IS_SIGNED(x) ((__typeof__(x))-1LL < (__typeof__(x))1LL)

/* op is one of EQ NE LT LE GT GE; c is the sign of harness_cmp that makes it true. */
#define HARNESS_OK_EQ(c) ((c) == 0)
#define HARNESS_OK_NE(c) ((c) != 0)
#define HARNESS_OK_LT(c) ((c) < 0)
#define HARNESS_OK_LE(c) ((c) <= 0)
#define HARNESS_OK_GT(c) ((c) > 0)
#define HARNESS_OK_GE(c) ((c) >= 0)

#define HARNESS_CMP(kind, op, a, b, fatal) do {					\
	__typeof__(a) h_a_ = (a);						\
	__typeof__(b) h_b_ = (b);						\
	int h_as_ = HARNESS_IS_SIGNED(h_a_), h_bs_ = HARNESS_IS_SIGNED(h_b_);	\
	uintmax_t h_av_ = (uintmax_t)h_a_, h_bv_ = (uintmax_t)h_b_;		\
	if (!HARNESS_OK_##op(harness_cmp(h_av_, h_as_, h_bv_, h_bs_))) {	\
		printf("# %s:%d: " #kind "_" #op "(%s, %s) failed\n",		\
		       __FILE__, __LINE__, #a, #b);				\
		harness_print_val(#a, h_av_, h_as_);				\
		harness_print_val(#b, h_bv_, h_bs_);				\
		harness_fail(fatal);						\
	}									\
} while (0)

#define HARNESS_BOOL(kind, want, x, fatal) do {					\
	int h_x_ = !!(x);							\
	if (h_x_ != (want)) {							\
		printf("# %s:%d: " #kind "(%s) failed: it is %s\n",		\
		       __FILE__, __LINE__, #x, h_x_ ? "true" : "false");	\
		harness_fail(fatal);						\
	}									\
} while (0)

#define HARNESS_STREQ(kind, a, b, fatal) do {					\
	const char *h_sa_ = (a), *h_sb_ = (b);					\
	if (!h_sa_ || !h_sb_ || strcmp(h_sa_, h_sb_) != 0) {			\
		printf("# %s:%d: " #kind "_STREQ(%s, %s) failed\n",		\
		       __FILE__, __LINE__, #a, #b);				\
		printf("# \t%s = %s%s%s\n", #a, h_sa_ ? "\"" : "",		\
		       h_sa_ ? h_sa_ : "NULL", h_sa_ ? "\"" : "");		\
		printf("# \t%s = %s%s%s\n", #b, h_sb_ ? "\"" : "",		\
		       h_sb_ ? h_sb_ : "NULL", h_sb_ ? "\"" : "");		\
		harness_fail(fatal);						\
	}									\
} while (0)

#define ASSERT_EQ(a, b)    HARNESS_CMP(ASSERT, EQ, a, b, 1)
#define ASSERT_NE(a, b)    HARNESS_CMP(ASSERT, NE, a, b, 1)
#define ASSERT_LT(a, b)    HARNESS_CMP(ASSERT, LT, a, b, 1)
#define ASSERT_LE(a, b)    HARNESS_CMP(ASSERT, LE, a, b, 1)
#define ASSERT_GT(a, b)    HARNESS_CMP(ASSERT, GT, a, b, 1)
#define ASSERT_GE(a, b)    HARNESS_CMP(ASSERT, GE, a, b, 1)
#define ASSERT_TRUE(x)     HARNESS_BOOL(ASSERT_TRUE, 1, x, 1)
#define ASSERT_FALSE(x)    HARNESS_BOOL(ASSERT_FALSE, 0, x, 1)
#define ASSERT_STREQ(a, b) HARNESS_STREQ(ASSERT, a, b, 1)
#define EXPECT_EQ(a, b)    HARNESS_CMP(EXPECT, EQ, a, b, 0)
#define EXPECT_NE(a, b)    HARNESS_CMP(EXPECT, NE, a, b, 0)
#define EXPECT_LT(a, b)    HARNESS_CMP(EXPECT, LT, a, b, 0)
#define EXPECT_LE(a, b)    HARNESS_CMP(EXPECT, LE, a, b, 0)
#define EXPECT_GT(a, b)    HARNESS_CMP(EXPECT, GT, a, b, 0)
#define EXPECT_GE(a, b)    HARNESS_CMP(EXPECT, GE, a, b, 0)
#define EXPECT_TRUE(x)     HARNESS_BOOL(EXPECT_TRUE, 1, x, 0)
#define EXPECT_FALSE(x)    HARNESS_BOOL(EXPECT_FALSE, 0, x, 0)
#define EXPECT_STREQ(a, b) HARNESS_STREQ(EXPECT, a, b, 0)

HARNESS_FN void harness_on_alarm(int sig)
{
	(void)sig;
	harness_timed_out = 1;
	if (harness_child > 0)
		kill(-(pid_t)harness_child, SIGKILL);
}

/* Sorts the list by file and line: constructor order is not something to rely on. */
HARNESS_FN void harness_sort(void)
{
	struct harness_test *sorted = NULL;

	while (harness_list) {
		struct harness_test *t = harness_list, **pp = &sorted;

		harness_list = t->next;
		while (*pp && (strcmp((*pp)->file, t->file) < 0 ||
			       (strcmp((*pp)->file, t->file) == 0 && (*pp)->line < t->line)))
			pp = &(*pp)->next;
		t->next = *pp;
		*pp = t;
	}
	harness_list = sorted;
}

HARNESS_FN int harness_selected(const struct harness_test *t, int argc, char **argv)
{
	if (argc <= 1)
		return 1;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], t->name) == 0)
			return 1;
	return 0;
}

/* Runs one test in a child; prints its TAP line; returns 1 if it failed. */
HARNESS_FN int harness_run_one(const struct harness_test *t, unsigned int num)
{
	int status = 0, failed = 1;
	siginfo_t si;
	pid_t pid;

	memset(harness_shm, 0, sizeof(*harness_shm));
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		printf("# %s: fork: %s\n", t->name, strerror(errno));
		printf("not ok %u %s\n", num, t->name);
		return 1;
	}
	if (pid == 0) {
		setpgid(0, 0);
		signal(SIGALRM, SIG_DFL);
		harness_failed = 0;
		t->fn();
		harness_child_exit(harness_failed ? 1 : 0);
	}
	setpgid(pid, pid);      /* both sides, so that a timeout can kill the whole group */
	harness_timed_out = 0;
	harness_child = pid;
	alarm(t->timeout);
	/* Wait without reaping, so that the group id cannot be reused before the kill below
	 * ends whatever grandchildren the test left behind. */
	while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
		;
	alarm(0);
	harness_child = 0;
	kill(-pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			printf("# %s: waitpid: %s\n", t->name, strerror(errno));
			status = -1;
			break;
		}
	}

	if (harness_timed_out) {
		printf("# %s: timeout after %u s\n", t->name, t->timeout);
	} else if (status == -1) {
		/* reported above */
	} else if (WIFSIGNALED(status)) {
		printf("# %s: killed by signal %d (%s)\n", t->name, WTERMSIG(status),
		       strsignal(WTERMSIG(status)));
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == HARNESS_SKIP_EXIT &&
		   harness_shm->skip_reason[0]) {
		/* Only SKIP() writes a reason: a bare exit(4) is not a skip. */
		char *r = harness_shm->skip_reason;

		r[sizeof(harness_shm->skip_reason) - 1] = '\0';
		for (char *c = r; *c; c++)
			if (*c == '\n' || *c == '\r')
				*c = ' ';
		printf("ok %u %s # SKIP %s\n", num, t->name, r);
		fflush(stdout);
		return 0;
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		failed = 0;
	} else if (WIFEXITED(status)) {
		printf("# %s: exited with status %d\n", t->name, WEXITSTATUS(status));
	}
	printf("%s %u %s\n", failed ? "not ok" : "ok", num, t->name);
	fflush(stdout);
	return failed;
}

HARNESS_FN int harness_main(int argc, char **argv)
{
	struct sigaction sa;
	unsigned int n = 0, num = 0, nfail = 0;

	harness_sort();
	if (argc == 2 && strcmp(argv[1], "-l") == 0) {
		for (struct harness_test *t = harness_list; t; t = t->next)
			printf("%s\n", t->name);
		return 0;
	}
	harness_shm = mmap(NULL, sizeof(*harness_shm), PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (harness_shm == MAP_FAILED) {
		printf("Bail out! mmap: %s\n", strerror(errno));
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = harness_on_alarm;   /* no SA_RESTART: waitpid sees EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);

	for (struct harness_test *t = harness_list; t; t = t->next)
		n += (unsigned int)harness_selected(t, argc, argv);
	printf("TAP version 13\n1..%u\n", n);
	for (struct harness_test *t = harness_list; t; t = t->next)
		if (harness_selected(t, argc, argv))
			nfail += (unsigned int)harness_run_one(t, ++num);
	if (nfail)
		printf("# %u of %u tests failed\n", nfail, n);
	fflush(stdout);
	munmap(harness_shm, sizeof(*harness_shm));
	return nfail ? 1 : 0;
}

#define TEST_MAIN() int main(int argc, char **argv) { return harness_main(argc, argv); }

#endif
