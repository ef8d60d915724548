/* tp_attach: attaches one do-nothing BPF program (r0 = 0; exit) to a tracepoint and holds it
 * until SIGINT/SIGTERM or the death of its parent, for scripts/bench-guard: the cost a syscall
 * tracepoint puts on every system call of every process, which the guard avoids.
 *
 * usage: tp_attach CATEGORY/NAME     e.g. syscalls/sys_enter_mmap (needs tracefs mounted)
 *        tp_attach raw:NAME          raw tracepoint, e.g. raw:sys_enter (no tracefs needed)
 * Prints "ATTACHED <what> prog_id N" once attached. Nothing is pinned: the program goes away
 * with the process. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <bpf/bpf.h>

static volatile sig_atomic_t stop;

static void on_sig(int sig)
{
	stop = 1;
}

/* The tracepoint id from tracefs; -errno. */
static int tp_id(const char *tp)
{
	static const char *const roots[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char path[512], buf[32];
	unsigned int i;
	ssize_t n;
	int fd;

	for (i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		snprintf(path, sizeof(path), "%s/events/%s/id", roots[i], tp);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			return -EIO;
		buf[n] = '\0';
		return atoi(buf);
	}
	fprintf(stderr, "tp_attach: no events/%s/id under /sys/kernel/tracing or "
		"/sys/kernel/debug/tracing (mount -t tracefs nodev /sys/kernel/tracing)\n", tp);
	return -ENOENT;
}

static int load(enum bpf_prog_type type)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	char log[4096] = "";
	LIBBPF_OPTS(bpf_prog_load_opts, o, .log_buf = log, .log_size = sizeof(log), .log_level = 1);
	int fd;

	fd = bpf_prog_load(type, "bench_nop", "GPL", insns, 2, &o);
	if (fd < 0)
		fprintf(stderr, "tp_attach: cannot load the program: %s\n%s", strerror(errno), log);
	return fd;
}

int main(int argc, char **argv)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_TRACEPOINT,
		.size = sizeof(attr),
		.sample_period = 1,
		.wakeup_events = 1,
	};
	struct bpf_prog_info info = {};
	__u32 info_len = sizeof(info);
	struct sigaction sa = { .sa_handler = on_sig };
	sigset_t block, old;
	int prog_fd = -1, pfd = -1, link_fd = -1, id, rc = 1;
	const char *tp;

	if (argc != 2 || !strchr(argv[1], argv[1][0] == 'r' ? ':' : '/')) {
		fprintf(stderr, "usage: tp_attach CATEGORY/NAME | raw:NAME\n"
			"example: tp_attach syscalls/sys_enter_mmap\n");
		return 2;
	}
	tp = argv[1];
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	/* Never outlive the benchmark that started us. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0) {
		perror("tp_attach: prctl(PR_SET_PDEATHSIG)");
		return 1;
	}

	if (!strncmp(tp, "raw:", 4)) {
		prog_fd = load(BPF_PROG_TYPE_RAW_TRACEPOINT);
		if (prog_fd < 0)
			goto out;
		link_fd = bpf_raw_tracepoint_open(tp + 4, prog_fd);
		if (link_fd < 0) {
			fprintf(stderr, "tp_attach: cannot attach to raw tracepoint %s: %s\n", tp + 4,
				strerror(errno));
			goto out;
		}
	} else {
		id = tp_id(tp);
		if (id < 0)
			goto out;
		prog_fd = load(BPF_PROG_TYPE_TRACEPOINT);
		if (prog_fd < 0)
			goto out;
		attr.config = (__u64)id;
		pfd = (int)syscall(SYS_perf_event_open, &attr, -1 /* pid */, 0 /* cpu */,
				   -1 /* group */, PERF_FLAG_FD_CLOEXEC);
		if (pfd < 0) {
			fprintf(stderr, "tp_attach: perf_event_open(%s): %s\n", tp, strerror(errno));
			goto out;
		}
		/* A tracepoint program runs on every CPU whatever the event's CPU. */
		if (ioctl(pfd, PERF_EVENT_IOC_SET_BPF, prog_fd) < 0 ||
		    ioctl(pfd, PERF_EVENT_IOC_ENABLE, 0) < 0) {
			fprintf(stderr, "tp_attach: attaching to %s: %s\n", tp, strerror(errno));
			goto out;
		}
	}
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &info_len) < 0)
		info.id = 0;
	printf("ATTACHED %s prog_id %u\n", tp, info.id);
	fflush(stdout);
	while (!stop)
		sigsuspend(&old);
	rc = 0;
out:
	if (link_fd >= 0)
		close(link_fd);
	if (pfd >= 0)
		close(pfd);
	if (prog_fd >= 0)
		close(prog_fd);
	return rc;
}
