/* zygote: the fork server. A clone of the primary taken before its EAL init; it never
 * initialises DPDK and stays single-threaded. It serves one poll loop: client connections
 * (one secondary each), the children's pidfds, and the primary's pidfd. When the primary
 * exits, children are terminated, their launchers told why, and the zygote exits.
 *
 * Connection states and the requests each accepts (anything else ends the connection):
 *   NEW      HELLO                 -> READY
 *   READY    SPAWN                 -> RUNNING      STATUS_REQ -> (reply, close)
 *   RUNNING  SIGNAL                -> RUNNING      (EOF: the child is terminated) */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fdpass.h"
#include "internal.h"
#include "log.h"

#define MAX_CONNS      ((int)DPDKMP_MAX_CHILDREN + 64)
#define NCHILD         ((int)DPDKMP_MAX_CHILDREN)
#define IDLE_TIMEOUT_MS 10000   /* a connection must finish its request in this time */
#define TERM_GRACE_MS   3000    /* SIGTERM, then SIGKILL after this */

enum conn_state { C_FREE = 0, C_NEW, C_READY, C_RUNNING };

struct conn {
	enum conn_state state;
	int fd;
	struct ucred cred;
	uint64_t deadline_ms;   /* idle deadline in NEW/READY */
	int child;              /* index in children, or -1 */
};

struct child {
	pid_t pid;              /* 0: free slot */
	int pidfd;
	int conn;               /* index in conns, or -1 once the launcher is gone */
	uint32_t reason;
	uint64_t kill_at_ms;    /* SIGKILL deadline after a SIGTERM, 0 if none */
	struct dpdkmp_child_info info;
};

static struct {
	pid_t primary_pid;
	int primary_pidfd;
	int signal_fd;
	int listen_fd;
	char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct stat primary_exe;
	char primary_exe_path[256];
	struct dpdkmp_winset ws;
	struct conn conns[MAX_CONNS];
	struct child children[DPDKMP_MAX_CHILDREN];
	struct dpdkmp_msg msg;
	int shutting_down;
} z;

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static void fatal(const char *what, int err) __attribute__((noreturn));
static void fatal(const char *what, int err)
{
	DPDKMP_ERR("%s: %s; the fork server stops", what, strerror(err));
	if (z.sock_path[0])
		unlink(z.sock_path);
	_exit(1);
}

static void conn_close(int i)
{
	struct conn *c = &z.conns[i];

	if (c->state == C_FREE)
		return;
	close(c->fd);
	if (c->child >= 0)
		z.children[c->child].conn = -1;
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->child = -1;
}

static void child_terminate(struct child *k, uint32_t reason)
{
	if (k->kill_at_ms)
		return;
	k->reason = reason;
	kill(k->pid, SIGTERM);
	k->kill_at_ms = now_ms() + TERM_GRACE_MS;
}

/* ---- requests ---------------------------------------------------------------------- */

static void on_hello(int ci)
{
	struct conn *c = &z.conns[ci];
	struct dpdkmp_hello h;
	struct dpdkmp_hello_ack a = {
		.zygote_pid = (uint32_t)getpid(),
		.primary_pid = (uint32_t)z.primary_pid,
		.primary_exe_dev = z.primary_exe.st_dev,
		.primary_exe_ino = z.primary_exe.st_ino,
		.nwindows = z.ws.n,
	};

	memcpy(&h, z.msg.payload, sizeof(h));
	if (h.flags != 0) {
		dpdkmp_send_error(c->fd, EINVAL, "unknown HELLO flags 0x%x", h.flags);
		conn_close(ci);
		return;
	}
	if (dpdkmp_send(c->fd, DPDKMP_MSG_HELLO_ACK, &a, sizeof(a), NULL, 0) < 0) {
		conn_close(ci);
		return;
	}
	c->state = C_READY;
}

static int free_child_slot(void)
{
	for (int i = 0; i < NCHILD; i++)
		if (!z.children[i].pid)
			return i;
	return -1;
}

static void on_spawn(int ci)
{
	struct conn *c = &z.conns[ci];
	struct dpdkmp_spawn_req req = { 0 };
	struct dpdkmp_elf_info elf;
	struct dpdkmp_child_args a;
	struct dpdkmp_spawned sp = { 0 };
	char why[1024];
	struct stat st;
	int slot, pidfd, exe_fd, stdio[3], ret, same;
	pid_t pid;

	exe_fd = dpdkmp_msg_take_fd(&z.msg, 0);
	for (int i = 0; i < 3; i++)
		stdio[i] = dpdkmp_msg_take_fd(&z.msg, (unsigned int)i + 1);

	if ((ret = dpdkmp_spawn_decode(z.msg.payload, z.msg.hdr.len, &req)) < 0) {
		dpdkmp_send_error(c->fd, -ret, "malformed SPAWN request: %s", strerror(-ret));
		goto refuse;
	}
	if (fstat(exe_fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		dpdkmp_send_error(c->fd, ENOEXEC, "the executable fd is not a regular file");
		goto refuse;
	}
	if (!(st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH))) {
		dpdkmp_send_error(c->fd, EACCES, "it is not executable (chmod +x it)");
		goto refuse;
	}
	if ((ret = dpdkmp_elf_inspect(exe_fd, &elf)) < 0) {
		dpdkmp_send_error(c->fd, -ret, "it is not an ELF executable");
		goto refuse;
	}
	same = st.st_dev == z.primary_exe.st_dev && st.st_ino == z.primary_exe.st_ino;
	if (dpdkmp_elf_check_secondary(&elf, same, req.argv[0], why, sizeof(why)) < 0) {
		dpdkmp_send_error(c->fd, ENOEXEC, "%s", why);
		goto refuse;
	}
	if ((slot = free_child_slot()) < 0) {
		dpdkmp_send_error(c->fd, EAGAIN, "the fork server already runs %u secondaries",
				  DPDKMP_MAX_CHILDREN);
		goto refuse;
	}

	a = (struct dpdkmp_child_args){
		.req = &req, .exe_fd = exe_fd, .same_binary = same, .elf = &elf, .windows = &z.ws,
		.stdio = { stdio[0], stdio[1], stdio[2] },
	};
	pid = fork();
	if (pid == 0)
		dpdkmp_child_main(&a);
	if (pid < 0) {
		dpdkmp_send_error(c->fd, errno, "cannot fork: %s", strerror(errno));
		goto refuse;
	}
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		fatal("pidfd_open", errno);
	fcntl(pidfd, F_SETFD, FD_CLOEXEC);

	z.children[slot] = (struct child){ .pid = pid, .pidfd = pidfd, .conn = ci };
	z.children[slot].info.pid = (uint32_t)pid;
	z.children[slot].info.launcher_pid = (uint32_t)c->cred.pid;
	z.children[slot].info.launcher_uid = c->cred.uid;
	{
		struct timespec t;

		clock_gettime(CLOCK_REALTIME, &t);
		z.children[slot].info.start_ns = (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
	}
	snprintf(z.children[slot].info.program, sizeof(z.children[slot].info.program), "%s",
		 req.argv[0]);
	c->child = slot;
	c->state = C_RUNNING;
	DPDKMP_INFO("spawned %s as pid %d for launcher pid %d", req.argv[0], (int)pid,
		    (int)c->cred.pid);
	sp.pid = (uint32_t)pid;
	if (dpdkmp_send(c->fd, DPDKMP_MSG_SPAWNED, &sp, sizeof(sp), NULL, 0) < 0) {
		conn_close(ci);
		child_terminate(&z.children[slot], DPDKMP_REASON_NORMAL);
	}
	close(exe_fd);
	for (int i = 0; i < 3; i++)
		close(stdio[i]);
	dpdkmp_spawn_req_free(&req);
	return;
refuse:
	if (exe_fd >= 0)
		close(exe_fd);
	for (int i = 0; i < 3; i++)
		if (stdio[i] >= 0)
			close(stdio[i]);
	dpdkmp_spawn_req_free(&req);
	conn_close(ci);
}

static void on_signal(int ci)
{
	struct conn *c = &z.conns[ci];
	struct dpdkmp_signal s;

	memcpy(&s, z.msg.payload, sizeof(s));
	/* Only what a terminal or an operator sends; never SIGKILL/SIGSTOP by proxy. */
	switch (s.signo) {
	case SIGINT: case SIGTERM: case SIGHUP: case SIGQUIT: case SIGUSR1: case SIGUSR2:
	case SIGWINCH: case SIGCONT: case SIGALRM:
		kill(z.children[c->child].pid, (int)s.signo);
		break;
	default:
		dpdkmp_send_error(c->fd, EINVAL, "signal %u cannot be forwarded", s.signo);
		break;
	}
}

static void on_status(int ci)
{
	struct conn *c = &z.conns[ci];
	size_t len;
	struct dpdkmp_status *s;
	struct dpdkmp_child_info *k;
	uint32_t n = 0;

	s = calloc(1, sizeof(*s) + z.ws.n * sizeof(struct dpdkmp_window) +
		      DPDKMP_MAX_CHILDREN * sizeof(struct dpdkmp_child_info));
	if (!s) {
		dpdkmp_send_error(c->fd, ENOMEM, "out of memory");
		conn_close(ci);
		return;
	}
	s->zygote_pid = (uint32_t)getpid();
	s->primary_pid = (uint32_t)z.primary_pid;
	s->nwindows = z.ws.n;
	snprintf(s->runtime_dir, sizeof(s->runtime_dir), "%s", z.ws.runtime_dir);
	snprintf(s->primary_exe, sizeof(s->primary_exe), "%s", z.primary_exe_path);
	memcpy(s + 1, z.ws.w, z.ws.n * sizeof(struct dpdkmp_window));
	k = (struct dpdkmp_child_info *)((struct dpdkmp_window *)(s + 1) + z.ws.n);
	for (unsigned int i = 0; i < DPDKMP_MAX_CHILDREN; i++)
		if (z.children[i].pid)
			k[n++] = z.children[i].info;
	s->nchildren = n;
	len = sizeof(*s) + z.ws.n * sizeof(struct dpdkmp_window) + n * sizeof(*k);
	dpdkmp_send(c->fd, DPDKMP_MSG_STATUS, s, (uint32_t)len, NULL, 0);
	free(s);
	conn_close(ci);
}

/* Which request is allowed in which state. */
static const struct {
	enum conn_state state;
	uint16_t type;
	void (*fn)(int ci);
} dispatch[] = {
	{ C_NEW, DPDKMP_MSG_HELLO, on_hello },
	{ C_READY, DPDKMP_MSG_SPAWN, on_spawn },
	{ C_READY, DPDKMP_MSG_STATUS_REQ, on_status },
	{ C_RUNNING, DPDKMP_MSG_SIGNAL, on_signal },
};

static void conn_readable(int ci)
{
	struct conn *c = &z.conns[ci];
	int ret = dpdkmp_recv(c->fd, &z.msg);

	if (ret == -EAGAIN)
		return;
	if (ret == -ECONNRESET) {
		if (c->child >= 0) {
			DPDKMP_INFO("launcher of pid %d went away; terminating it",
				    (int)z.children[c->child].pid);
			child_terminate(&z.children[c->child], DPDKMP_REASON_NORMAL);
		}
		conn_close(ci);
		return;
	}
	if (ret < 0) {
		DPDKMP_WARN("bad request from pid %d (uid %d): %s", (int)c->cred.pid, (int)c->cred.uid,
			    strerror(-ret));
		dpdkmp_send_error(c->fd, -ret, "bad request: %s", strerror(-ret));
		if (c->child >= 0)
			child_terminate(&z.children[c->child], DPDKMP_REASON_NORMAL);
		conn_close(ci);
		return;
	}
	for (size_t i = 0; i < sizeof(dispatch) / sizeof(dispatch[0]); i++) {
		if (dispatch[i].state == c->state && dispatch[i].type == z.msg.hdr.type) {
			dispatch[i].fn(ci);
			dpdkmp_msg_close_fds(&z.msg);
			return;
		}
	}
	dpdkmp_msg_close_fds(&z.msg);
	DPDKMP_WARN("unexpected %s from pid %d; closing the connection",
		    dpdkmp_msg_name(z.msg.hdr.type), (int)c->cred.pid);
	dpdkmp_send_error(c->fd, EPROTO, "%s is not allowed here", dpdkmp_msg_name(z.msg.hdr.type));
	if (c->child >= 0)
		child_terminate(&z.children[c->child], DPDKMP_REASON_NORMAL);
	conn_close(ci);
}

static void accept_one(void)
{
	socklen_t l = sizeof(struct ucred);
	struct ucred cred;
	int fd = accept4(z.listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &l) < 0 ||
	    (cred.uid != geteuid() && cred.uid != 0)) {
		DPDKMP_WARN("refused a client with uid %d: only uid %d may use this fork server",
			    (int)cred.uid, (int)geteuid());
		dpdkmp_send_error(fd, EPERM, "permission denied: only uid %d may use this fork server",
				  (int)geteuid());
		close(fd);
		return;
	}
	for (int i = 0; i < MAX_CONNS; i++) {
		if (z.conns[i].state != C_FREE)
			continue;
		z.conns[i] = (struct conn){ .state = C_NEW, .fd = fd, .cred = cred, .child = -1,
					    .deadline_ms = now_ms() + IDLE_TIMEOUT_MS };
		return;
	}
	dpdkmp_send_error(fd, EAGAIN, "too many connections; try again later");
	close(fd);
}

static void child_exited(int ki)
{
	struct child *k = &z.children[ki];
	struct dpdkmp_exited e = { .reason = k->reason };
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid((idtype_t)P_PIDFD, (id_t)k->pidfd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
		return;
	if (si.si_code == CLD_EXITED) {
		e.how = DPDKMP_EXIT_CODE;
		e.value = (uint32_t)si.si_status;
	} else {
		e.how = DPDKMP_EXIT_SIGNAL;
		e.value = (uint32_t)si.si_status;
	}
	DPDKMP_INFO("pid %d (%s) %s %u", (int)k->pid, k->info.program,
		    e.how == DPDKMP_EXIT_CODE ? "exited with" : "was killed by signal", e.value);
	if (k->conn >= 0) {
		dpdkmp_send(z.conns[k->conn].fd, DPDKMP_MSG_EXITED, &e, sizeof(e), NULL, 0);
		z.conns[k->conn].child = -1;
		conn_close(k->conn);
	}
	close(k->pidfd);
	memset(k, 0, sizeof(*k));
	k->pidfd = -1;
	k->conn = -1;
}

static int live_children(void)
{
	int n = 0;

	for (unsigned int i = 0; i < DPDKMP_MAX_CHILDREN; i++)
		n += z.children[i].pid != 0;
	return n;
}

static void begin_shutdown(const char *why, uint32_t reason)
{
	if (z.shutting_down)
		return;
	z.shutting_down = 1;
	DPDKMP_INFO("%s; terminating %d secondaries", why, live_children());
	if (z.listen_fd >= 0) {
		close(z.listen_fd);
		z.listen_fd = -1;
		unlink(z.sock_path);
	}
	for (unsigned int i = 0; i < DPDKMP_MAX_CHILDREN; i++)
		if (z.children[i].pid)
			child_terminate(&z.children[i], reason);
	for (int i = 0; i < MAX_CONNS; i++)
		if (z.conns[i].state != C_FREE && z.conns[i].child < 0)
			conn_close(i);
}

static void on_stop_signal(void)
{
	struct signalfd_siginfo si;

	if (read(z.signal_fd, &si, sizeof(si)) != sizeof(si))
		return;
	DPDKMP_INFO("signal %u from pid %u", si.ssi_signo, si.ssi_pid);
	begin_shutdown("asked to stop", DPDKMP_REASON_SHUTDOWN);
}

/* ---- setup ------------------------------------------------------------------------- */

static void receive_windows(int sock)
{
	const struct dpdkmp_windows *h;
	const struct dpdkmp_window *w;
	int ret;

	/* Blocks until the primary's init is done; EOF means it failed or the primary died. */
	ret = dpdkmp_recv(sock, &z.msg);
	if (ret == -ECONNRESET)
		_exit(0);
	if (ret < 0 || z.msg.hdr.type != DPDKMP_MSG_WINDOWS)
		fatal("bad message from the primary", ret < 0 ? -ret : EPROTO);
	if ((ret = dpdkmp_windows_decode(z.msg.payload, z.msg.hdr.len, &h, &w)) < 0)
		fatal("bad windows from the primary", -ret);
	z.ws.n = h->nwindows;
	z.ws.primary_pid = z.primary_pid;
	memcpy(z.ws.runtime_dir, h->runtime_dir, sizeof(z.ws.runtime_dir));
	memcpy(z.ws.w, w, h->nwindows * sizeof(*w));
}

static void listen_socket(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old;
	int n;

	n = snprintf(z.sock_path, sizeof(z.sock_path), "%s/%s", z.ws.runtime_dir, DPDKMP_SOCK_NAME);
	if (n < 0 || (size_t)n >= sizeof(z.sock_path))
		fatal("runtime directory path too long for a unix socket", ENAMETOOLONG);
	memcpy(sa.sun_path, z.sock_path, (size_t)n + 1);
	z.listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (z.listen_fd < 0)
		fatal("socket", errno);
	unlink(z.sock_path);    /* a stale socket of a dead primary with this prefix */
	old = umask(0177);      /* srw------- from the start: no window for other users */
	if (bind(z.listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		umask(old);
		fatal(z.sock_path, errno);
	}
	umask(old);
	if (listen(z.listen_fd, 64) < 0)
		fatal("listen", errno);
}

/* The zygote keeps stderr for its log and the primary socket; nothing else of the
 * primary's pre-init state (fds, signal handlers, stdin/stdout) may leak into children. */
static void sanitize_process(int primary_sock)
{
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (devnull >= 0) {
		dup2(devnull, STDIN_FILENO);
		dup2(devnull, STDOUT_FILENO);
		if (devnull > STDERR_FILENO)
			close(devnull);
	}
	if (primary_sock > 3)
		syscall(SYS_close_range, 3u, (unsigned int)primary_sock - 1, 0u);
	syscall(SYS_close_range, (unsigned int)primary_sock + 1, ~0u, 0u);
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	/* Out of the primary's session: a Ctrl-C meant for the primary must not kill the fork
	 * server under its secondaries; the primary's exit is what ends it (pidfd). */
	setsid();
}

/* SIGTERM, SIGINT and SIGHUP sent to the zygote itself end it the orderly way. */
static int shutdown_signals(void)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return fd < 0 ? -errno : fd;
}

void dpdkmp_zygote_main(int primary_sock, pid_t primary_pid)
{
	static struct pollfd pfd[3 + MAX_CONNS + DPDKMP_MAX_CHILDREN];
	static int pidx[3 + MAX_CONNS + DPDKMP_MAX_CHILDREN];
	ssize_t l;

	dpdkmp_log_set_role(DPDKMP_ROLE_ZYGOTE);
	prctl(PR_SET_NAME, "dpdkmp-zygote");
	z.primary_pid = primary_pid;
	z.listen_fd = -1;
	for (int i = 0; i < MAX_CONNS; i++) {
		z.conns[i].fd = -1;
		z.conns[i].child = -1;
	}
	sanitize_process(primary_sock);
	z.signal_fd = shutdown_signals();
	if (z.signal_fd < 0)
		fatal("signalfd", -z.signal_fd);
	z.primary_pidfd = (int)syscall(SYS_pidfd_open, primary_pid, 0);
	if (z.primary_pidfd < 0 || getppid() != primary_pid)
		_exit(0);       /* the primary is already gone */
	fcntl(z.primary_pidfd, F_SETFD, FD_CLOEXEC);
	if (stat("/proc/self/exe", &z.primary_exe) < 0)
		fatal("stat /proc/self/exe", errno);
	l = readlink("/proc/self/exe", z.primary_exe_path, sizeof(z.primary_exe_path) - 1);
	z.primary_exe_path[l > 0 ? l : 0] = '\0';

	receive_windows(primary_sock);
	listen_socket();
	{
		struct dpdkmp_hello_ack a = {
			.zygote_pid = (uint32_t)getpid(), .primary_pid = (uint32_t)primary_pid,
			.primary_exe_dev = z.primary_exe.st_dev, .primary_exe_ino = z.primary_exe.st_ino,
			.nwindows = z.ws.n,
		};

		dpdkmp_send(primary_sock, DPDKMP_MSG_HELLO_ACK, &a, sizeof(a), NULL, 0);
	}
	close(primary_sock);
	DPDKMP_INFO("serving %s for primary pid %d (%u windows)", z.sock_path, (int)primary_pid, z.ws.n);

	for (;;) {
		uint64_t now = now_ms(), next = now + 1000;
		int n = 0, timeout, ready;

		if (z.shutting_down && !live_children())
			break;
		if (!z.shutting_down) {
			pfd[n] = (struct pollfd){ .fd = z.primary_pidfd, .events = POLLIN };
			pidx[n++] = -1;
			pfd[n] = (struct pollfd){ .fd = z.signal_fd, .events = POLLIN };
			pidx[n++] = -3;
		}
		if (z.listen_fd >= 0) {
			pfd[n] = (struct pollfd){ .fd = z.listen_fd, .events = POLLIN };
			pidx[n++] = -2;
		}
		for (int i = 0; i < MAX_CONNS; i++) {
			struct conn *c = &z.conns[i];

			if (c->state == C_FREE)
				continue;
			if (c->state != C_RUNNING && now >= c->deadline_ms) {
				dpdkmp_send_error(c->fd, ETIMEDOUT, "request not completed in %d ms",
						  IDLE_TIMEOUT_MS);
				conn_close(i);
				continue;
			}
			if (c->state != C_RUNNING && c->deadline_ms < next)
				next = c->deadline_ms;
			pfd[n] = (struct pollfd){ .fd = c->fd, .events = POLLIN };
			pidx[n++] = i;
		}
		for (int i = 0; i < NCHILD; i++) {
			struct child *k = &z.children[i];

			if (!k->pid)
				continue;
			if (k->kill_at_ms && now >= k->kill_at_ms) {
				kill(k->pid, SIGKILL);
				k->kill_at_ms = UINT64_MAX;
			}
			if (k->kill_at_ms && k->kill_at_ms < next)
				next = k->kill_at_ms;
			pfd[n] = (struct pollfd){ .fd = k->pidfd, .events = POLLIN };
			pidx[n++] = MAX_CONNS + i;
		}
		timeout = (int)(next > now ? next - now : 0);
		ready = poll(pfd, (nfds_t)n, timeout);
		if (ready < 0) {
			if (errno == EINTR)
				continue;
			fatal("poll", errno);
		}
		for (int i = 0; i < n && ready > 0; i++) {
			if (!pfd[i].revents)
				continue;
			ready--;
			if (pidx[i] == -1)
				begin_shutdown("the primary exited", DPDKMP_REASON_PRIMARY_GONE);
			else if (pidx[i] == -3)
				on_stop_signal();
			else if (pidx[i] == -2)
				accept_one();
			else if (pidx[i] >= MAX_CONNS)
				child_exited(pidx[i] - MAX_CONNS);
			else if (z.conns[pidx[i]].state != C_FREE)
				conn_readable(pidx[i]);
		}
	}
	DPDKMP_INFO("exiting");
	_exit(0);
}
