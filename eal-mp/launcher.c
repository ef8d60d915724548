/* launcher: the client side of a secondary. Checks the program before anything is forked,
 * hands it to the fork server with this process's stdio, cwd and environment, forwards
 * signals, and ends with the secondary's status. Used by `dpdkmp run` (pre-EAL code runs
 * once, in the child) and by transparent mode (pre-EAL code runs here and in the child). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"
#include "dpdkmp.h"
#include "elfinfo.h"
#include "fdpass.h"
#include "log.h"
#include "proto.h"
#include "rundir.h"

#define REPLY_TIMEOUT_MS 30000
#define EXIT_LOST_SERVER 255

static int sig_pipe[2] = { -1, -1 };
static const int fwd_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2,
				   SIGWINCH, SIGCONT, SIGALRM };

static void on_signal(int s)
{
	int saved = errno;
	unsigned char c = (unsigned char)s;

	if (write(sig_pipe[1], &c, 1) < 0) {
		/* the pipe is full: the secondary has plenty of signals pending already */
	}
	errno = saved;
}

/* Opens path as execve would find it: as given when it has a '/', else through PATH. */
static int open_program(const char *path, char *resolved, size_t len)
{
	const char *envpath = getenv("PATH");
	char cand[PATH_MAX];
	int saw_eacces = 0;

	if (strchr(path, '/')) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		snprintf(resolved, len, "%s", path);
		return fd < 0 ? -errno : fd;
	}
	if (!envpath)
		envpath = "/usr/local/bin:/usr/bin:/bin";
	while (*envpath) {
		size_t l = strcspn(envpath, ":");
		int fd;

		snprintf(cand, sizeof(cand), "%.*s/%s", (int)l, l ? envpath : ".", path);
		envpath += l + (envpath[l] == ':');
		if (access(cand, X_OK) < 0) {
			saw_eacces |= errno == EACCES;
			continue;
		}
		fd = open(cand, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			snprintf(resolved, len, "%s", cand);
			return fd;
		}
	}
	return saw_eacces ? -EACCES : -ENOENT;
}

/* Waits for one record; prints and fails on ERROR. */
static int expect(int sock, struct dpdkmp_msg *m, uint16_t type, const char *path)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };
	int ret;

	ret = poll(&p, 1, REPLY_TIMEOUT_MS);
	if (ret == 0) {
		DPDKMP_ERR("cannot run %s: the fork server did not answer in %d s", path,
			   REPLY_TIMEOUT_MS / 1000);
		return -ETIMEDOUT;
	}
	ret = dpdkmp_recv(sock, m);
	if (ret < 0) {
		DPDKMP_ERR("cannot run %s: lost the fork server: %s", path,
			   ret == -ECONNRESET ? "it closed the connection" : strerror(-ret));
		return ret;
	}
	if (m->hdr.type == DPDKMP_MSG_ERROR) {
		const char *msg;
		uint32_t mlen;
		int err;

		if (dpdkmp_error_decode(m->payload, m->hdr.len, &err, &msg, &mlen) < 0) {
			DPDKMP_ERR("cannot run %s: malformed error from the fork server", path);
			return -EPROTO;
		}
		DPDKMP_ERR("cannot run %s: %.*s", path, (int)mlen, msg);
		return -err;
	}
	if (m->hdr.type != type) {
		DPDKMP_ERR("cannot run %s: unexpected %s from the fork server", path,
			   dpdkmp_msg_name(m->hdr.type));
		return -EPROTO;
	}
	return 0;
}

static int supervise(int sock, struct dpdkmp_msg *m, const struct dpdkmp_spawned *sp,
		     const struct dpdkmp_hello_ack *ack, const char *path)
{
	struct dpdkmp_exited e;

	for (;;) {
		struct pollfd p[2] = {
			{ .fd = sock, .events = POLLIN },
			{ .fd = sig_pipe[0], .events = POLLIN },
		};
		int ret = poll(p, 2, -1);

		if (ret < 0 && errno == EINTR)
			continue;
		if (p[1].revents & POLLIN) {
			unsigned char sigs[64];
			ssize_t n = read(sig_pipe[0], sigs, sizeof(sigs));

			for (ssize_t i = 0; i < n; i++) {
				struct dpdkmp_signal s = { .signo = sigs[i] };

				dpdkmp_send(sock, DPDKMP_MSG_SIGNAL, &s, sizeof(s), NULL, 0);
			}
		}
		if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		ret = dpdkmp_recv(sock, m);
		if (ret < 0) {
			DPDKMP_ERR("lost the fork server while %s (pid %u) was running: %s; the "
				   "primary (pid %u) or its zygote (pid %u) died", path, sp->pid,
				   ret == -ECONNRESET ? "connection closed" : strerror(-ret),
				   ack->primary_pid, ack->zygote_pid);
			return EXIT_LOST_SERVER;
		}
		if (m->hdr.type == DPDKMP_MSG_ERROR) {
			const char *msg;
			uint32_t mlen;
			int err;

			if (dpdkmp_error_decode(m->payload, m->hdr.len, &err, &msg, &mlen) == 0)
				DPDKMP_WARN("fork server: %.*s", (int)mlen, msg);
			continue;
		}
		if (m->hdr.type != DPDKMP_MSG_EXITED)
			continue;
		memcpy(&e, m->payload, sizeof(e));
		if (e.reason == DPDKMP_REASON_PRIMARY_GONE)
			DPDKMP_ERR("the primary (pid %u) exited, so %s (pid %u) was terminated",
				   ack->primary_pid, path, sp->pid);
		else if (e.reason == DPDKMP_REASON_KILLED_LOADING)
			DPDKMP_ERR("%s (pid %u) was killed (SIGKILL) while loading, before its EAL init; "
				   "if the dpdkmp guard is loaded with policy kill, it changed a mapping "
				   "inside the primary's memory windows: `dpdkmp-trace -p %u` or "
				   "`dpdkmp-trace --file-prefix PREFIX` shows it", path, sp->pid, sp->pid);
		else if (e.reason == DPDKMP_REASON_SHUTDOWN)
			DPDKMP_ERR("the fork server (zygote pid %u) was stopped, so %s (pid %u) was "
				   "terminated", ack->zygote_pid, path, sp->pid);
		if (e.how == DPDKMP_EXIT_SIGNAL)
			return 128 + (int)(e.value & 0x7f);
		return (int)(e.value & 0xff);
	}
}

int dpdkmp_launch(const struct dpdkmp_launch_opts *o)
{
	static struct dpdkmp_msg m;
	struct dpdkmp_hello hello = { .client_pid = (uint32_t)getpid() };
	struct dpdkmp_hello_ack ack;
	struct dpdkmp_spawned sp;
	struct dpdkmp_elf_info elf;
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
	const char *prefix = o->prefix && *o->prefix ? o->prefix : DPDKMP_DEFAULT_PREFIX;
	char resolved[PATH_MAX], why[1024], cwd[PATH_MAX];
	static char payload[DPDKMP_MAX_PAYLOAD];
	size_t plen;
	struct stat st;
	int exe_fd = o->exe_fd, sock = -1, code = 1, ret;

	if (dpdkmp_log_role() == DPDKMP_ROLE_CLI)
		dpdkmp_log_set_role(DPDKMP_ROLE_LAUNCHER);
	snprintf(resolved, sizeof(resolved), "%s", o->path ? o->path : o->argv[0]);
	{
		int argc = 0;
		const char *pt;

		while (o->argv[argc])
			argc++;
		pt = dpdkmp_arg_value(argc, o->argv, "--proc-type");
		if (pt && strcmp(pt, "secondary") && strcmp(pt, "auto")) {
			DPDKMP_ERR("cannot run %s with --proc-type=%s: a program run through dpdkmp is a "
				   "secondary; use --proc-type=secondary or leave it out", resolved, pt);
			return 126;
		}
	}
	if (exe_fd < 0) {
		exe_fd = open_program(o->path ? o->path : o->argv[0], resolved, sizeof(resolved));
		if (exe_fd == -ENOENT) {
			DPDKMP_ERR("cannot run %s: no such file (check the path, or PATH for a bare name)",
				   resolved);
			return 127;
		}
		if (exe_fd < 0) {
			DPDKMP_ERR("cannot run %s: %s", resolved, strerror(-exe_fd));
			return 126;
		}
	}
	if (fstat(exe_fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		DPDKMP_ERR("cannot run %s: not a regular file", resolved);
		code = 126;
		goto out;
	}
	if (!(st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH))) {
		DPDKMP_ERR("cannot run %s: it is not executable (chmod +x it)", resolved);
		code = 126;
		goto out;
	}
	if (dpdkmp_elf_inspect(exe_fd, &elf) < 0) {
		DPDKMP_ERR("cannot run %s: not an ELF executable", resolved);
		code = 126;
		goto out;
	}
	/* Everything that does not need the primary is checked before connecting. */
	if (dpdkmp_elf_check_secondary(&elf, 1, resolved, why, sizeof(why)) < 0) {
		DPDKMP_ERR("cannot run %s: %s", resolved, why);
		code = 126;
		goto out;
	}
	{
		char what[PATH_MAX + 16];

		snprintf(what, sizeof(what), "cannot run %s", resolved);
		if ((sock = dpdkmp_client_connect(prefix, what)) < 0)
			goto out;
	}
	if ((ret = dpdkmp_send(sock, DPDKMP_MSG_HELLO, &hello, sizeof(hello), NULL, 0)) < 0 ||
	    (ret = expect(sock, &m, DPDKMP_MSG_HELLO_ACK, resolved)) < 0)
		goto out;
	memcpy(&ack, m.payload, sizeof(ack));
	if (dpdkmp_elf_check_secondary(&elf, st.st_dev == ack.primary_exe_dev &&
				       st.st_ino == ack.primary_exe_ino, resolved, why, sizeof(why)) < 0) {
		DPDKMP_ERR("cannot run %s: %s", resolved, why);
		code = 126;
		goto out;
	}
	if (!getcwd(cwd, sizeof(cwd)))
		snprintf(cwd, sizeof(cwd), "/");
	ret = dpdkmp_spawn_encode(payload, sizeof(payload), &plen, cwd, o->argv, o->envp);
	if (ret < 0) {
		DPDKMP_ERR("cannot run %s: its arguments and environment exceed the protocol limits "
			   "(%u arguments, %u variables, %u bytes each, %u bytes in all)", resolved,
			   DPDKMP_MAX_ARGS, DPDKMP_MAX_ENV, DPDKMP_MAX_STRING, DPDKMP_MAX_PAYLOAD);
		goto out;
	}
	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		goto out;
	/* Installed before SPAWN: a signal that arrives meanwhile is forwarded once the
	 * secondary exists, never lost. */
	for (size_t i = 0; i < sizeof(fwd_signals) / sizeof(fwd_signals[0]); i++)
		sigaction(fwd_signals[i], &sa, NULL);
	{
		int fds[DPDKMP_SPAWN_FDS] = { exe_fd, STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO };

		if ((ret = dpdkmp_send(sock, DPDKMP_MSG_SPAWN, payload, (uint32_t)plen, fds,
				       DPDKMP_SPAWN_FDS)) < 0) {
			DPDKMP_ERR("cannot run %s: cannot send the request: %s", resolved, strerror(-ret));
			goto out;
		}
	}
	close(exe_fd);
	exe_fd = -1;
	if (expect(sock, &m, DPDKMP_MSG_SPAWNED, resolved) < 0)
		goto out;
	memcpy(&sp, m.payload, sizeof(sp));
	DPDKMP_INFO("%s runs as pid %u", resolved, sp.pid);
	code = supervise(sock, &m, &sp, &ack, resolved);
out:
	if (exe_fd >= 0 && exe_fd != o->exe_fd)
		close(exe_fd);
	if (sock >= 0)
		close(sock);
	return code;
}
