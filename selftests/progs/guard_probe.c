/* guard_probe: drives the BPF guard for t_helper. As a zygote it reserves one window, registers
 * it with the marker prctl and forks children that each change the window (or not) in one way;
 * it then reads the guard's events and prints "PASS name" / "FAIL name: why" per expectation.
 *
 *   window (16 MiB, PROT_NONE reservation of the zygote)
 *   +--------+--------+--------+--------+
 *   | fixed  | munmap | mremap | shmat  |   children, LOADING: each touches one quarter
 *   +--------+--------+--------+--------+
 *   0        4M       8M       12M      16M
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "guard.h"

#define WIN_LEN (16UL << 20)
#define QUARTER (4UL << 20)
#define MAX_EVENTS 4096
#define MAX_KIDS 16

static char *win;
static struct dpdkmp_guard_event evs[MAX_EVENTS];
static int nev;
static int failures;

static void result(bool ok, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void result(bool ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		printf("PASS %s\n", name);
	} else {
		failures++;
		printf("FAIL %s: ", name);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		putchar('\n');
	}
	fflush(stdout);
}

static long marker(unsigned long cmd, void *arg, unsigned long size)
{
	return prctl(DPDKMP_GUARD_PRCTL, cmd, (unsigned long)arg, size, 0UL);
}

/* ---------------------------------------------------------------- the children's actions */

static void *thread_mmap(void *arg)
{
	void *p = mmap(NULL, 1 << 20, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p != MAP_FAILED)
		munmap(p, 1 << 20);
	return arg;
}

static int act(const char *what)
{
	void *p;

	if (!strcmp(what, "fixed")) {
		p = mmap(win, 2 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
			 -1, 0);
		return p == win ? 0 : 10;
	}
	if (!strcmp(what, "munmap"))
		return munmap(win + QUARTER, 1 << 20) ? 10 : 0;
	if (!strcmp(what, "mremap")) {
		p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return 10;
		p = mremap(p, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED, win + 2 * QUARTER);
		return p == win + 2 * QUARTER ? 0 : 10;
	}
	if (!strcmp(what, "shmat")) {
		int id = shmget(IPC_PRIVATE, 1 << 20, IPC_CREAT | 0600);

		if (id < 0)
			return 10;
		p = shmat(id, win + 3 * QUARTER, SHM_REMAP);
		shmctl(id, IPC_RMID, NULL);
		return p == win + 3 * QUARTER ? 0 : 10;
	}
	if (!strcmp(what, "outside")) {
		p = mmap(NULL, 2 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return 10;
		p = mremap(p, 2 << 20, 4 << 20, MREMAP_MAYMOVE);
		return p != MAP_FAILED && munmap(p, 4 << 20) == 0 ? 0 : 10;
	}
	if (!strcmp(what, "run")) {
		marker(DPDKMP_GUARD_CMD_RUN, NULL, 0);
		p = mmap(win, 2 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
			 -1, 0);
		return p == win ? 0 : 10;
	}
	if (!strcmp(what, "threads")) {
		pthread_t t[3];

		for (int i = 0; i < 3; i++)
			if (pthread_create(&t[i], NULL, thread_mmap, NULL))
				return 10;
		for (int i = 0; i < 3; i++)
			pthread_join(t[i], NULL);
		return 0;
	}
	if (!strcmp(what, "grandchild")) {
		int st;
		pid_t g = fork();

		if (g < 0)
			return 10;
		if (g == 0)
			_exit(act("fixed"));
		if (waitpid(g, &st, 0) != g)
			return 10;
		/* the grandchild's fate is the exit status: 0 survived, else its signal */
		return WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st) ? 10 : 0;
	}
	if (!strcmp(what, "reregister")) {
		struct dpdkmp_guard_reg reg = { .version = DPDKMP_GUARD_VERSION, .nwindows = 0 };

		marker(DPDKMP_GUARD_CMD_REGISTER, &reg, sizeof(reg));
		return 0;
	}
	return 20;
}

struct kid {
	const char *what;
	pid_t pid;
	int status;
};

static pid_t spawn(const char *what)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(act(what));
	return pid;
}

/* ---------------------------------------------------------------- events */

static int on_event(void *ctx, void *data, size_t size)
{
	if (size != sizeof(struct dpdkmp_guard_event)) {
		result(false, "event size", "sample of %zu bytes, expected %zu", size,
		       sizeof(struct dpdkmp_guard_event));
		return 0;
	}
	if (nev < MAX_EVENTS)
		memcpy(&evs[nev++], data, size);
	return 0;
}

static int count(__u32 type, __u32 tgid, int verdict, int sc)
{
	int n = 0;

	for (int i = 0; i < nev; i++)
		if (evs[i].type == type && evs[i].tgid == tgid &&
		    (verdict < 0 || evs[i].verdict == (__u32)verdict) &&
		    (sc < 0 || evs[i].syscall == (__u32)sc))
			n++;
	return n;
}

static int open_events(void)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/events", DPDKMP_GUARD_PIN_DIR);
	return bpf_obj_get(path);
}

/* open-map NAME rw|ro: print the errno of opening a pinned map, for the permission tests */
static int open_map(const char *name, const char *how)
{
	LIBBPF_OPTS(bpf_obj_get_opts, o, .file_flags = strcmp(how, "ro") ? 0 : BPF_F_RDONLY);
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", DPDKMP_GUARD_PIN_DIR, name);
	fd = bpf_obj_get_opts(path, &o);
	printf("%s\n", fd >= 0 ? "OK" : strerrorname_np(errno));
	return fd >= 0 ? 0 : 1;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: guard_probe run kill|warn [--no-drain]\n"
		"       guard_probe open-map NAME rw|ro\n");
	return 2;
}

int main(int argc, char **argv)
{
	static const char *const tests[] = {
		"fixed", "munmap", "mremap", "shmat", "outside", "run", "threads", "grandchild",
		"reregister",
	};
	struct kid kids[MAX_KIDS] = {};
	struct dpdkmp_guard_reg reg = {};
	struct ring_buffer *rb = NULL;
	bool kill_policy, drain = true;
	pid_t untracked, self = getpid();
	int nkids = 0, fd = -1, st;
	long rc;

	if (argc == 4 && !strcmp(argv[1], "open-map"))
		return open_map(argv[2], argv[3]);
	if (argc < 3 || strcmp(argv[1], "run"))
		return usage();
	kill_policy = !strcmp(argv[2], "kill");
	if (argc > 3 && !strcmp(argv[3], "--no-drain"))
		drain = false;
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (drain) {
		fd = open_events();
		if (fd < 0) {
			printf("FAIL open events: %s (is the guard loaded?)\n", strerror(errno));
			return 1;
		}
		rb = ring_buffer__new(fd, on_event, NULL, NULL);
		if (!rb) {
			printf("FAIL ring buffer: %s\n", strerror(errno));
			return 1;
		}
		ring_buffer__consume(rb);	/* older events are not ours */
		nev = 0;
	}

	win = mmap(NULL, WIN_LEN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (win == MAP_FAILED) {
		printf("FAIL reserve window: %s\n", strerror(errno));
		return 1;
	}
	/* a process forked before registration is no descendant of a zygote */
	untracked = spawn("fixed");

	reg.version = DPDKMP_GUARD_VERSION;
	reg.nwindows = 1;
	snprintf(reg.prefix, sizeof(reg.prefix), "guard_probe_%d", (int)self);
	reg.w[0].base = (unsigned long)win;
	reg.w[0].len = WIN_LEN;
	rc = marker(DPDKMP_GUARD_CMD_REGISTER, &reg, sizeof(reg));
	result(rc == -1 && errno == EINVAL, "marker prctl answers EINVAL", "rc %ld errno %d", rc,
	       errno);

	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		kids[nkids].what = tests[i];
		kids[nkids].pid = spawn(tests[i]);
		/* one at a time: the events of each child are easy to tell apart in a log */
		waitpid(kids[nkids].pid, &kids[nkids].status, 0);
		nkids++;
	}
	waitpid(untracked, &st, 0);
	result(WIFEXITED(st) && WEXITSTATUS(st) == 0, "untracked process maps into the window",
	       "status 0x%x", st);

	/* the zygote builds its windows: never checked */
	result(mmap(win, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == win,
	       "zygote maps into its own window", "mmap failed");

	for (int i = 0; i < nkids; i++) {
		struct kid *k = &kids[i];
		bool flagged = strcmp(k->what, "outside") && strcmp(k->what, "run") &&
			       strcmp(k->what, "threads");
		char name[64];

		snprintf(name, sizeof(name), "%s: %s", k->what,
			 !flagged ? "survives" : kill_policy ? "killed by SIGKILL" : "survives (warn)");
		if (!strcmp(k->what, "grandchild"))
			result(WIFEXITED(k->status) &&
			       WEXITSTATUS(k->status) == (kill_policy ? SIGKILL : 0),
			       name, "child status 0x%x (exit = grandchild's signal)", k->status);
		else if (flagged && kill_policy)
			result(WIFSIGNALED(k->status) && WTERMSIG(k->status) == SIGKILL, name,
			       "status 0x%x", k->status);
		else
			result(WIFEXITED(k->status) && WEXITSTATUS(k->status) == 0, name,
			       "status 0x%x", k->status);
	}
	if (!drain)
		return failures ? 1 : 0;

	ring_buffer__consume(rb);
	printf("# %d events\n", nev);
	{
		int verdict = kill_policy ? DPDKMP_GUARD_KILLED : DPDKMP_GUARD_VIOLATION;
		int reg_ev = 0, foreign_spawn = 0;

		for (int i = 0; i < nev; i++) {
			if (evs[i].type == DPDKMP_GUARD_EV_REGISTER && evs[i].tgid == (__u32)self &&
			    evs[i].len == 1 && !strcmp(evs[i].prefix, reg.prefix) &&
			    evs[i].version == DPDKMP_GUARD_VERSION)
				reg_ev++;
			if (evs[i].type == DPDKMP_GUARD_EV_SPAWN && evs[i].tgid != evs[i].tid)
				foreign_spawn++;
		}
		result(reg_ev == 1, "REGISTER event with 1 window and the prefix", "%d", reg_ev);
		result(foreign_spawn == 0, "no SPAWN event for a thread", "%d", foreign_spawn);
		result(count(DPDKMP_GUARD_EV_MAP, untracked, -1, -1) == 0 &&
		       count(DPDKMP_GUARD_EV_SPAWN, untracked, -1, -1) == 0,
		       "no event for the untracked process", "%s", "events seen");

		for (int i = 0; i < nkids; i++) {
			struct kid *k = &kids[i];
			__u32 t = k->pid;
			char name[64];
			int n;

			snprintf(name, sizeof(name), "%s: SPAWN and EXIT events", k->what);
			result(count(DPDKMP_GUARD_EV_SPAWN, t, DPDKMP_GUARD_OK, -1) == 1 &&
			       count(DPDKMP_GUARD_EV_EXIT, t, -1, -1) == 1, name, "spawn %d exit %d",
			       count(DPDKMP_GUARD_EV_SPAWN, t, -1, -1),
			       count(DPDKMP_GUARD_EV_EXIT, t, -1, -1));
			snprintf(name, sizeof(name), "%s: verdict events", k->what);
			if (!strcmp(k->what, "fixed"))
				n = count(DPDKMP_GUARD_EV_MAP, t, verdict, DPDKMP_GUARD_SC_MMAP);
			else if (!strcmp(k->what, "munmap"))
				n = count(DPDKMP_GUARD_EV_UNMAP, t, verdict, DPDKMP_GUARD_SC_MUNMAP);
			else if (!strcmp(k->what, "mremap"))
				n = count(DPDKMP_GUARD_EV_MAP, t, verdict, DPDKMP_GUARD_SC_MREMAP);
			else if (!strcmp(k->what, "shmat"))
				n = count(DPDKMP_GUARD_EV_MAP, t, verdict, DPDKMP_GUARD_SC_SHMAT);
			else if (!strcmp(k->what, "reregister"))
				n = count(DPDKMP_GUARD_EV_REGISTER, t, verdict, -1);
			else if (!strcmp(k->what, "run"))
				n = count(DPDKMP_GUARD_EV_PHASE, t, DPDKMP_GUARD_OK, -1) == 1 &&
				    count(DPDKMP_GUARD_EV_MAP, t, DPDKMP_GUARD_EXPECTED, DPDKMP_GUARD_SC_MMAP);
			else if (!strcmp(k->what, "grandchild")) {
				/* the grandchild: a SPAWN from the child, its violation */
				n = 0;
				for (int j = 0; j < nev; j++)
					if (evs[j].type == DPDKMP_GUARD_EV_SPAWN && evs[j].ppid == t &&
					    evs[j].phase == DPDKMP_GUARD_PHASE_LOADING &&
					    count(DPDKMP_GUARD_EV_MAP, evs[j].tgid, verdict, -1) == 1)
						n++;
			} else {	/* outside, threads: quiet */
				n = count(DPDKMP_GUARD_EV_MAP, t, -1, -1) + count(DPDKMP_GUARD_EV_UNMAP, t, -1, -1) == 0;
			}
			result(n == 1, name, "%d matching events", n);
		}
	}
	ring_buffer__free(rb);
	close(fd);
	return failures ? 1 : 0;
}
