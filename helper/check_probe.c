/* check_probe: the probe secondary of `dpdkmp check`, started as `dpdkmp run -- dpdkmp-probe`
 * through the fork server, waited for until it says READY, and ended after the check. Its output
 * is kept so that a probe that never attaches can say why. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check_internal.h"
#include "log.h"

#define PROBE_ATTACH_TIMEOUT_MS 30000
#define PROBE_EXIT_TIMEOUT_MS   10000
#define PROBE_LOG_MAX           (64u * 1024u)
#define PROBE_READY             "DPDKMP-PROBE READY pid="

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* dpdkmp-probe beside this binary (a build tree: helper/), else the installed one. */
int check_probe_find(char *out, size_t len)
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
int check_probe_start(struct check_ctx *c, const char *prog, char **extra, int nextra,
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
void check_probe_stop(struct probe *p)
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
