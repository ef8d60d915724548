/* dpdkmp-probe: the smallest DPDK secondary that stays alive, for `dpdkmp check --probe`.
 * It attaches (rte_eal_init), prints "DPDKMP-PROBE READY pid=N", and waits until its stdin
 * reaches end of file or the timeout passes, so that its mappings can be compared live.
 *
 *   dpdkmp-probe EAL-ARGS [-- --timeout SECS]     (default 60 s)
 * Without -l, -c or --lcores among EAL-ARGS it runs on the first CPU it may use, so that it
 * starts no worker thread. Exit: 0 after a clean detach, 2 EAL init failed, 3 timeout. */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

#define PROBE_DEFAULT_TIMEOUT 60

static int has_lcore_option(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strncmp(argv[i], "-l", 2) || !strncmp(argv[i], "-c", 2) ||
		    !strncmp(argv[i], "--lcores", 8))
			return 1;
	return 0;
}

static int first_cpu(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (int c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &set))
				return c;
	return 0;
}

/* 0 at end of file on stdin, 1 when the timeout passed first. */
static int wait_stdin_eof(int timeout_s)
{
	struct timespec now, end;
	char buf[512];

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += timeout_s;
	for (;;) {
		struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
		long left_ms;
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left_ms = (end.tv_sec - now.tv_sec) * 1000 + (end.tv_nsec - now.tv_nsec) / 1000000;
		if (left_ms <= 0)
			return 1;
		if (poll(&p, 1, (int)left_ms) < 0) {
			if (errno == EINTR)
				continue;
			return 0;
		}
		if (!p.revents)
			continue;
		n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			return 0;
	}
}

int main(int argc, char **argv)
{
	char lcore[32], **eal_argv;
	int eal_argc = 0, ret, timeout_s = PROBE_DEFAULT_TIMEOUT, timed_out;

	eal_argv = calloc((size_t)argc + 3, sizeof(*eal_argv));
	if (!eal_argv)
		return 2;
	eal_argv[eal_argc++] = argv[0];
	if (!has_lcore_option(argc, argv)) {
		snprintf(lcore, sizeof(lcore), "%d", first_cpu());
		eal_argv[eal_argc++] = "-l";
		eal_argv[eal_argc++] = lcore;
	}
	for (int i = 1; i < argc; i++)
		eal_argv[eal_argc++] = argv[i];

	ret = rte_eal_init(eal_argc, eal_argv);
	if (ret < 0) {
		fprintf(stderr, "dpdkmp-probe: rte_eal_init: %s\n", rte_strerror(rte_errno));
		return 2;
	}
	for (int i = ret + 1; i < eal_argc; i++) {
		if (!strcmp(eal_argv[i], "--timeout") && i + 1 < eal_argc)
			timeout_s = atoi(eal_argv[++i]);
		else if (strcmp(eal_argv[i], "--")) {
			fprintf(stderr, "dpdkmp-probe: unknown argument %s (only --timeout SECS)\n",
				eal_argv[i]);
			rte_eal_cleanup();
			return 2;
		}
	}
	printf("DPDKMP-PROBE READY pid=%d\n", (int)getpid());
	fflush(stdout);
	timed_out = wait_stdin_eof(timeout_s > 0 ? timeout_s : PROBE_DEFAULT_TIMEOUT);
	if (timed_out)
		fprintf(stderr, "dpdkmp-probe: no end of file on stdin after %d s, detaching\n",
			timeout_s);
	rte_eal_cleanup();
	free(eal_argv);
	return timed_out ? 3 : 0;
}
