/* zygote: the fork server. A clone of the primary taken before its EAL init; it never
 * initialises DPDK, stays single-threaded, and never reads a byte a client wrote: the broker
 * (its child) parses client requests and relays validated ones over a private socketpair.
 * Before serving it binds the socket, reduces its capabilities and loads the dpdk-secondary
 * seccomp filter, which children inherit. Its poll loop watches the primary (pidfd), stop
 * signals (signalfd), the broker (channel and pidfd) and the children (pidfds). When the
 * primary exits, children are terminated, their launchers told why, and the zygote exits.
 *
 * Relayed requests (DPDKMP_MSG_RELAY_*) and what the zygote does:
 *   SPAWN   fork a child for the connection, reply SPAWNED (or ERROR)
 *   SIGNAL  forward the signal to that connection's child
 *   HANGUP  the launcher is gone: SIGTERM its child, SIGKILL 3 s later
 *   STATUS  reply STATUS */
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

#include <linux/types.h>

#include "../bpf/guard.h"
#include "clock.h"
#include "fdpass.h"
#include "internal.h"
#include "log.h"
#include "sandbox.h"

#define NCHILD            ((int)DPDKMP_MAX_CHILDREN)
#define TERM_GRACE_MS     3000  /* SIGTERM, then SIGKILL after this */
#define BROKER_RESTARTS   5     /* at most this many broker restarts ... */
#define BROKER_WINDOW_MS  60000 /* ... within this time */
#define POOL_MAX          8     /* pre-forked children, at most (DPDKMP_POOL) */
#define POOL_DEFAULT      2
#define POOL_QUIET_MS     20    /* no refill fork within this time of a spawn or memory event */
#define CAP_SYS_ADMIN_BIT (1ull << 21)
#define CAP_SYS_RAWIO_BIT (1ull << 17)

struct child {
	pid_t pid;              /* 0: free slot */
	int pidfd;
	int run_fd;             /* read end of the run pipe: a byte once loading is over */
	uint32_t conn;          /* the broker's connection id */
	unsigned int generation;/* of the broker that relayed it; 0: its launcher is gone */
	uint32_t reason;
	uint64_t kill_at_ms;    /* SIGKILL deadline after a SIGTERM, 0 if none */
	struct dpdkmp_child_info info;
};

/* A pre-forked child waiting for a request (docs/FAST-ATTACH.md, after Android's USAP pool). */
struct pooled {
	pid_t pid;              /* 0: free slot */
	int pidfd;
	int sock;               /* the request goes there; -1: retired (it exits on EOF) */
	int run_fd;             /* read end of its run pipe */
};

static struct {
	pid_t primary_pid;
	uint32_t primary_flags;
	int primary_pidfd;
	int signal_fd;
	int listen_fd;
	int channel_fd;         /* to the current broker */
	int memory_fd;          /* from the primary: SEGMENTS (segments.c) */
	uint64_t guard_from[DPDKMP_MAX_WINDOWS];        /* see guard_register() */
	int broker_pidfd;
	pid_t broker_pid;
	unsigned int generation;
	uint64_t restarts[BROKER_RESTARTS];
	const char *fault;      /* DPDKMP_TEST_BROKER_FAULT, first broker only */
	char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct stat primary_exe;
	char primary_exe_path[256];
	struct dpdkmp_policy policy;
	uint64_t caps;
	struct dpdkmp_winset ws;
	struct child children[DPDKMP_MAX_CHILDREN];
	struct pooled pool[POOL_MAX];
	int pool_target;
	uint64_t quiet_until_ms;
	struct dpdkmp_msg msg;
	uint8_t out[DPDKMP_MAX_PAYLOAD] __attribute__((aligned(8)));
	int shutting_down;
} z;

static void fatal(const char *what, int err) __attribute__((noreturn));
static void fatal(const char *what, int err)
{
	DPDKMP_ERR("%s: %s; the fork server stops", what, strerror(err));
	if (z.sock_path[0])
		unlink(z.sock_path);
	_exit(1);
}

/* Sends a client record to the broker, for the connection conn. */
static void reply(uint32_t conn, uint16_t type, const void *payload, uint32_t len)
{
	struct dpdkmp_relay r = { .conn = conn, .type = type };

	if (z.channel_fd < 0)
		return;
	memcpy(z.out, &r, sizeof(r));
	memcpy(z.out + sizeof(r), payload, len);
	dpdkmp_send(z.channel_fd, DPDKMP_MSG_RELAY_REPLY, z.out, (uint32_t)sizeof(r) + len, NULL, 0);
}

static void reply_error(uint32_t conn, int err, const char *msg)
{
	struct {
		struct dpdkmp_error e;
		char text[DPDKMP_MAX_ERRMSG];
	} p;
	size_t l = strlen(msg);

	if (l > sizeof(p.text))
		l = sizeof(p.text);

	p.e.err = err;
	p.e.msg_len = (uint32_t)l;
	memcpy(p.text, msg, l);
	reply(conn, DPDKMP_MSG_ERROR, &p, (uint32_t)(sizeof(p.e) + l));
}

static struct child *child_by_conn(uint32_t conn)
{
	for (int i = 0; i < NCHILD; i++)
		if (z.children[i].pid && z.children[i].generation == z.generation &&
		    z.children[i].conn == conn)
			return &z.children[i];
	return NULL;
}

static void child_terminate(struct child *k, uint32_t reason)
{
	if (k->kill_at_ms)
		return;
	k->reason = reason;
	kill(k->pid, SIGTERM);
	k->kill_at_ms = dpdkmp_now_ms() + TERM_GRACE_MS;
}

static int live_children(void)
{
	int n = 0;

	for (int i = 0; i < NCHILD; i++)
		n += z.children[i].pid != 0;
	return n;
}

/* ---- the pool of pre-forked children ----------------------------------------------- */

/* DPDKMP_POOL (the primary's environment): how many children wait forked; 0 turns the pool
 * off. DPDKMP_NO_SHORTCUTS turns it off too. */
static int pool_size(void)
{
	const char *v = getenv("DPDKMP_POOL"), *off = getenv("DPDKMP_NO_SHORTCUTS");
	char *end;
	long n;

	if (off && *off && strcmp(off, "0"))
		return 0;
	if (!v || !*v)
		return POOL_DEFAULT;
	n = strtol(v, &end, 10);
	if (*end || n < 0 || n > POOL_MAX) {
		DPDKMP_WARN("DPDKMP_POOL=%s: want 0 to %d; using %d", v, POOL_MAX, POOL_DEFAULT);
		return POOL_DEFAULT;
	}
	return (int)n;
}

/* Keeps a and b (and 0-2), closes every other fd: a waiting pool child must not hold the
 * zygote's sockets (a retired sibling would never see EOF, the primary never our close). */
static void close_all_but(int a, int b)
{
	int lo = a < b ? a : b, hi = a < b ? b : a;

	if (lo > 3)
		syscall(SYS_close_range, 3u, (unsigned int)lo - 1, 0u);
	if (hi > lo + 1)
		syscall(SYS_close_range, (unsigned int)lo + 1, (unsigned int)hi - 1, 0u);
	syscall(SYS_close_range, (unsigned int)hi + 1, ~0u, 0u);
}

static struct pooled *pool_free_slot(void)
{
	for (int i = 0; i < POOL_MAX; i++)
		if (!z.pool[i].pid)
			return &z.pool[i];
	return NULL;
}

/* 1 when a child was forked into the pool; 0 when none could be (no free slot: retired ones
 * not reaped yet; or an error, which turns the pool off). */
static int pool_fork(void)
{
	struct pooled *p = pool_free_slot();
	int sp[2] = { -1, -1 }, run[2] = { -1, -1 };
	pid_t pid;

	if (!p)
		return 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0 ||
	    pipe2(run, O_CLOEXEC | O_NONBLOCK) < 0) {
		DPDKMP_WARN("cannot make a pool child's channel (%s); the pool is off", strerror(errno));
		for (int i = 0; i < 2; i++) {
			if (sp[i] >= 0)
				close(sp[i]);
			if (run[i] >= 0)
				close(run[i]);
		}
		z.pool_target = 0;
		return 0;
	}
	pid = fork();
	if (pid == 0) {
		close_all_but(sp[1], run[1]);
		dpdkmp_child_pooled(sp[1], run[1], &z.ws, z.primary_flags);
	}
	close(sp[1]);
	close(run[1]);
	if (pid < 0) {
		close(sp[0]);
		close(run[0]);
		z.pool_target = 0;      /* do not try again and again */
		DPDKMP_WARN("cannot fork a pool child (%s); the pool is off", strerror(errno));
		return 0;
	}
	*p = (struct pooled){ .pid = pid, .pidfd = (int)syscall(SYS_pidfd_open, pid, 0),
			      .sock = sp[0], .run_fd = run[0] };
	if (p->pidfd < 0)
		fatal("pidfd_open", errno);
	fcntl(p->pidfd, F_SETFD, FD_CLOEXEC);
	return 1;
}

static int pool_ready(void)
{
	int n = 0;

	for (int i = 0; i < POOL_MAX; i++)
		n += z.pool[i].pid && z.pool[i].sock >= 0;
	return n;
}

static void pool_forget(struct pooled *p)
{
	if (p->sock >= 0)
		close(p->sock);
	if (p->run_fd >= 0)
		close(p->run_fd);
	p->sock = p->run_fd = -1;
}

/* Retired children exit on EOF; they are reaped when their pidfd says so. */
static void pool_retire_all(void)
{
	for (int i = 0; i < POOL_MAX; i++)
		if (z.pool[i].pid)
			pool_forget(&z.pool[i]);
}

static void pool_exited(int i)
{
	struct pooled *p = &z.pool[i];
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid((idtype_t)P_PIDFD, (id_t)p->pidfd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
		return;
	dpdkmp_initfiles_sweep(z.ws.runtime_dir, (int)p->pid);
	if (p->sock >= 0)
		DPDKMP_WARN("pool child %d ended while waiting (%s %d)", (int)p->pid,
			    si.si_code == CLD_EXITED ? "status" : "signal", si.si_status);
	pool_forget(p);
	close(p->pidfd);
	*p = (struct pooled){ .pidfd = -1, .sock = -1, .run_fd = -1 };
}

/* Hands the request in z.msg to a waiting pool child: its pid, pidfd and run pipe, or -1. */
static pid_t pool_take(const int fds[DPDKMP_SPAWN_FDS], int *pidfd, int *run_fd)
{
	for (int i = 0; i < POOL_MAX; i++) {
		struct pooled *p = &z.pool[i];
		pid_t pid = p->pid;

		if (!pid || p->sock < 0)
			continue;
		if (dpdkmp_send(p->sock, DPDKMP_MSG_RELAY_SPAWN, z.msg.payload, z.msg.hdr.len, fds,
				DPDKMP_SPAWN_FDS) < 0) {
			pool_forget(p);         /* gone: reaped through its pidfd */
			continue;
		}
		close(p->sock);
		*pidfd = p->pidfd;
		*run_fd = p->run_fd;
		*p = (struct pooled){ .pidfd = -1, .sock = -1, .run_fd = -1 };
		return pid;
	}
	return -1;
}

/* ---- relayed requests -------------------------------------------------------------- */

static void on_spawn(uint32_t conn)
{
	struct dpdkmp_relay_spawn relayed, *rs = &relayed;
	struct dpdkmp_spawn_req req = { 0 };
	struct dpdkmp_elf_info elf;
	struct dpdkmp_child_args a;
	struct dpdkmp_spawned done = { 0 };
	struct timespec t;
	struct child *k = NULL;
	int fds[DPDKMP_SPAWN_FDS], ret, pidfd, run[2] = { -1, -1 };
	pid_t pid;

	for (unsigned int i = 0; i < DPDKMP_SPAWN_FDS; i++)
		fds[i] = dpdkmp_msg_take_fd(&z.msg, i);
	if ((ret = dpdkmp_relay_spawn_decode(z.msg.payload, z.msg.hdr.len, &conn, rs, &req)) < 0) {
		reply_error(conn, EPROTO, "internal error: the broker relayed a malformed request");
		goto out;
	}
	for (int i = 0; i < NCHILD && !k; i++)
		if (!z.children[i].pid)
			k = &z.children[i];
	if (!k) {
		reply_error(conn, EAGAIN, "the fork server already runs its maximum of secondaries");
		goto out;
	}
	memset(&elf, 0, sizeof(elf));
	elf.entry = rs->entry;
	elf.flags1_off = rs->flags1_off;
	elf.pie = (uint8_t)(rs->pie != 0);
	z.quiet_until_ms = dpdkmp_now_ms() + POOL_QUIET_MS;
	pid = pool_take(fds, &pidfd, &run[0]);
	if (pid > 0)
		goto spawned;
	if (pipe2(run, O_CLOEXEC | O_NONBLOCK) < 0) {
		reply_error(conn, errno, "cannot create the run pipe");
		goto out;
	}
	a = (struct dpdkmp_child_args){
		.req = &req, .exe_fd = fds[0], .run_fd = run[1],
		.same_binary = rs->same_binary != 0, .elf = &elf,
		.windows = &z.ws, .stdio = { fds[1], fds[2], fds[3] }, .primary_flags = z.primary_flags,
	};
	pid = fork();
	if (pid == 0)
		dpdkmp_child_main(&a);
	close(run[1]);
	if (pid < 0) {
		char msg[128];

		snprintf(msg, sizeof(msg), "cannot fork: %s", strerror(errno));
		reply_error(conn, errno, msg);
		close(run[0]);
		goto out;
	}
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		fatal("pidfd_open", errno);
	fcntl(pidfd, F_SETFD, FD_CLOEXEC);
spawned:
	clock_gettime(CLOCK_REALTIME, &t);
	*k = (struct child){ .pid = pid, .pidfd = pidfd, .run_fd = run[0], .conn = conn,
			     .generation = z.generation };
	k->info.pid = (uint32_t)pid;
	k->info.launcher_pid = rs->pid;
	k->info.launcher_uid = rs->uid;
	k->info.start_ns = (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
	snprintf(k->info.program, sizeof(k->info.program), "%s", req.argv[0]);
	DPDKMP_INFO("spawned %s as pid %d for launcher pid %u (uid %u)", req.argv[0], (int)pid,
		    rs->pid, rs->uid);
	done.pid = (uint32_t)pid;
	reply(conn, DPDKMP_MSG_SPAWNED, &done, sizeof(done));
out:
	for (unsigned int i = 0; i < DPDKMP_SPAWN_FDS; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	dpdkmp_spawn_req_free(&req);
}

static void on_signal(uint32_t conn)
{
	struct dpdkmp_signal s;
	struct child *k = child_by_conn(conn);

	memcpy(&s, z.msg.payload + sizeof(struct dpdkmp_relay), sizeof(s));
	switch (s.signo) {     /* the broker checked it; so do we */
	case SIGINT: case SIGTERM: case SIGHUP: case SIGQUIT: case SIGUSR1: case SIGUSR2:
	case SIGWINCH: case SIGCONT: case SIGALRM:
		if (k)
			kill(k->pid, (int)s.signo);
		break;
	}
}

static void on_hangup(uint32_t conn)
{
	struct child *k = child_by_conn(conn);

	if (!k)
		return;
	DPDKMP_INFO("launcher of pid %d went away; terminating it", (int)k->pid);
	k->generation = 0;
	child_terminate(k, DPDKMP_REASON_NORMAL);
}

static void on_status(uint32_t conn)
{
	struct dpdkmp_relay r = { .conn = conn, .type = DPDKMP_MSG_STATUS };
	struct dpdkmp_status *s = (struct dpdkmp_status *)(z.out + sizeof(r));
	struct dpdkmp_child_info *k;
	uint32_t n = 0;
	size_t len;

	memset(s, 0, sizeof(*s));
	s->zygote_pid = (uint32_t)getpid();
	s->primary_pid = (uint32_t)z.primary_pid;
	s->broker_pid = (uint32_t)z.broker_pid;
	s->flags = (z.policy.sandbox ? DPDKMP_STATUS_SANDBOX : 0) | z.primary_flags << 8;
	s->caps = z.caps;
	s->mirror_segs = (uint32_t)dpdkmp_segments_count();
	s->mirror_bytes = dpdkmp_segments_bytes();
	s->pool_waiting = (uint32_t)pool_ready();
	s->nwindows = z.ws.n;
	snprintf(s->runtime_dir, sizeof(s->runtime_dir), "%s", z.ws.runtime_dir);
	snprintf(s->primary_exe, sizeof(s->primary_exe), "%s", z.primary_exe_path);
	memcpy(s + 1, z.ws.w, z.ws.n * sizeof(struct dpdkmp_window));
	k = (struct dpdkmp_child_info *)((struct dpdkmp_window *)(s + 1) + z.ws.n);
	for (int i = 0; i < NCHILD; i++)
		if (z.children[i].pid)
			k[n++] = z.children[i].info;
	s->nchildren = n;
	len = sizeof(*s) + z.ws.n * sizeof(struct dpdkmp_window) + n * sizeof(*k);
	memcpy(z.out, &r, sizeof(r));
	dpdkmp_send(z.channel_fd, DPDKMP_MSG_RELAY_REPLY, z.out, (uint32_t)(sizeof(r) + len), NULL, 0);
}

static void broker_start(void);

static void channel_readable(void)
{
	struct dpdkmp_relay r;
	int ret = dpdkmp_recv(z.channel_fd, &z.msg);

	if (ret == -EAGAIN)
		return;
	if (ret < 0) {
		/* EOF: the broker died; its pidfd tells how. Anything else: a broken broker. */
		if (ret != -ECONNRESET)
			DPDKMP_ERR("bad record from the broker: %s", strerror(-ret));
		close(z.channel_fd);
		z.channel_fd = -1;
		return;
	}
	memcpy(&r, z.msg.payload, sizeof(r));
	switch (z.msg.hdr.type) {
	case DPDKMP_MSG_RELAY_SPAWN:
		if (!z.shutting_down) {
			on_spawn(r.conn);
			break;
		}
		reply_error(r.conn, ESHUTDOWN, "the fork server is stopping");
		break;
	case DPDKMP_MSG_RELAY_SIGNAL: on_signal(r.conn); break;
	case DPDKMP_MSG_RELAY_HANGUP: on_hangup(r.conn); break;
	case DPDKMP_MSG_RELAY_STATUS: on_status(r.conn); break;
	default:
		DPDKMP_ERR("unexpected %s from the broker", dpdkmp_msg_name(z.msg.hdr.type));
		break;
	}
	dpdkmp_msg_close_fds(&z.msg);
}

static void child_exited(int ki)
{
	struct child *k = &z.children[ki];
	struct dpdkmp_exited e = { .reason = k->reason };
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid((idtype_t)P_PIDFD, (id_t)k->pidfd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
		return;
	/* before the launcher hears of the exit: nothing of this pid is left behind then */
	dpdkmp_initfiles_sweep(z.ws.runtime_dir, (int)k->pid);
	e.how = si.si_code == CLD_EXITED ? DPDKMP_EXIT_CODE : DPDKMP_EXIT_SIGNAL;
	e.value = (uint32_t)si.si_status;
	if (e.how == DPDKMP_EXIT_SIGNAL && e.value == SIGKILL && e.reason == DPDKMP_REASON_NORMAL) {
		char c;

		if (read(k->run_fd, &c, 1) != 1)
			e.reason = DPDKMP_REASON_KILLED_LOADING;
	}
	DPDKMP_INFO("pid %d (%s) %s %u", (int)k->pid, k->info.program,
		    e.how == DPDKMP_EXIT_CODE ? "exited with" : "was killed by signal", e.value);
	if (k->generation == z.generation)
		reply(k->conn, DPDKMP_MSG_EXITED, &e, sizeof(e));
	close(k->pidfd);
	close(k->run_fd);
	memset(k, 0, sizeof(*k));
	k->pidfd = -1;
	k->run_fd = -1;
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
	for (int i = 0; i < NCHILD; i++)
		if (z.children[i].pid)
			child_terminate(&z.children[i], reason);
	pool_retire_all();
}

static void on_stop_signal(void)
{
	struct signalfd_siginfo si;

	if (read(z.signal_fd, &si, sizeof(si)) != sizeof(si))
		return;
	DPDKMP_INFO("signal %u from pid %u", si.ssi_signo, si.ssi_pid);
	begin_shutdown("asked to stop", DPDKMP_REASON_SHUTDOWN);
}

/* The broker died: its connections died with it, so the secondaries it was serving have no
 * launcher any more. Start a new one unless it keeps dying. */
static void broker_exited(void)
{
	siginfo_t si;
	uint64_t now = dpdkmp_now_ms();

	memset(&si, 0, sizeof(si));
	if (waitid((idtype_t)P_PIDFD, (id_t)z.broker_pidfd, &si, WEXITED | WNOHANG) < 0 ||
	    si.si_pid == 0)
		return;
	close(z.broker_pidfd);
	z.broker_pidfd = -1;
	if (z.channel_fd >= 0) {
		close(z.channel_fd);
		z.channel_fd = -1;
	}
	if (si.si_code == CLD_EXITED)
		DPDKMP_ERR("the broker (pid %d) exited with %d", (int)si.si_pid, si.si_status);
	else if (si.si_status == SIGSYS)
		DPDKMP_ERR("the broker (pid %d) was killed by SIGSYS: it made a system call its "
			   "seccomp filter forbids", (int)si.si_pid);
	else
		DPDKMP_ERR("the broker (pid %d) was killed by signal %d", (int)si.si_pid, si.si_status);
	for (int i = 0; i < NCHILD; i++) {
		if (z.children[i].pid && z.children[i].generation == z.generation) {
			z.children[i].generation = 0;
			child_terminate(&z.children[i], DPDKMP_REASON_NORMAL);
		}
	}
	if (z.shutting_down)
		return;
	if (z.restarts[0] && now - z.restarts[0] < BROKER_WINDOW_MS) {
		begin_shutdown("the broker keeps dying (5 restarts within a minute)",
			       DPDKMP_REASON_SHUTDOWN);
		return;
	}
	memmove(z.restarts, z.restarts + 1, sizeof(z.restarts) - sizeof(z.restarts[0]));
	z.restarts[BROKER_RESTARTS - 1] = now;
	broker_start();
}

/* ---- the primary's memory -------------------------------------------------------- */

static void guard_register(void);

/* SEGMENTS from the primary: map or unmap the mirror (segments.c). The primary is trusted
 * (it forked us) but its messages are still decoded with bounds. EOF or a bad message ends
 * the mirror: children then map every page themselves, as without it. */
static void memory_readable(void)
{
	const struct dpdkmp_segments *h;
	const struct dpdkmp_seg *s;
	int ret = dpdkmp_recv(z.memory_fd, &z.msg);

	if (ret == 0 && z.msg.hdr.type == DPDKMP_MSG_SEGMENTS &&
	    (ret = dpdkmp_segments_decode(z.msg.payload, z.msg.hdr.len, z.msg.nfds, &h, &s)) == 0) {
		dpdkmp_segments_apply(h, s, z.msg.fds, z.msg.nfds);
		dpdkmp_msg_close_fds(&z.msg);
		/* Waiting children have the old mirror (and would hold freed pages). */
		pool_retire_all();
		z.quiet_until_ms = dpdkmp_now_ms() + POOL_QUIET_MS;
		if (h->op == DPDKMP_SEGS_ADD)
			guard_register();
		return;
	}
	if (ret == 0)
		dpdkmp_msg_close_fds(&z.msg);
	if (ret != -ECONNRESET)
		DPDKMP_WARN("bad memory message from the primary (%s); hugepage mirror stopped",
			    ret ? strerror(-ret) : dpdkmp_msg_name(z.msg.hdr.type));
	dpdkmp_segments_drop_all();
	pool_retire_all();
	close(z.memory_fd);
	z.memory_fd = -1;
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
	z.primary_flags = h->flags;
	memcpy(z.ws.runtime_dir, h->runtime_dir, sizeof(z.ws.runtime_dir));
	memcpy(z.ws.w, w, h->nwindows * sizeof(*w));
	/* The primary holds the prefix now: what dead children of an earlier one left goes. */
	dpdkmp_initfiles_sweep(z.ws.runtime_dir, 0);
}

/* Tells the BPF guard, if loaded, which ranges a loading child must leave alone (a marker
 * prctl: EINVAL either way). A memseg window is described from the end of the hugepage
 * segments the zygote mirrors in it (segments.c): the guard's lock-time check expects one
 * PROT_NONE reservation per range. That start only moves up (z.guard_from), so that a child
 * forked before the primary freed memory never looks wrong. */
static void guard_register(void)
{
	struct dpdkmp_guard_reg reg;
	const char *slash = strrchr(z.ws.runtime_dir, '/');

	memset(&reg, 0, sizeof(reg));
	reg.version = DPDKMP_GUARD_VERSION;
	snprintf(reg.prefix, sizeof(reg.prefix), "%.*s", (int)sizeof(reg.prefix) - 1,
		 slash ? slash + 1 : z.ws.runtime_dir);
	for (uint32_t i = 0; i < z.ws.n && reg.nwindows < DPDKMP_GUARD_MAX_WINDOWS; i++) {
		const struct dpdkmp_window *w = &z.ws.w[i];
		uint64_t from = w->addr;

		if (w->kind == DPDKMP_WIN_MEMSEG) {
			from = dpdkmp_segments_end_in(w->addr, w->len);
			if (i < DPDKMP_MAX_WINDOWS && from < z.guard_from[i])
				from = z.guard_from[i];
			if (i < DPDKMP_MAX_WINDOWS)
				z.guard_from[i] = from;
			if (from >= w->addr + w->len)
				continue;       /* all mirrored */
		}
		reg.w[reg.nwindows].base = from;
		reg.w[reg.nwindows].len = w->addr + w->len - from;
		reg.nwindows++;
	}
	prctl(DPDKMP_GUARD_PRCTL, DPDKMP_GUARD_CMD_REGISTER, (unsigned long)&reg, sizeof(reg), 0);
}

/* The zygote holds the windows reserved (PROT_NONE) for all its children, who inherit the
 * reservations and give them to EAL at their real init. */
static void reserve_and_register(void)
{
	char err[512];

	if (dpdkmp_windows_reserve(&z.ws, err, sizeof(err)) < 0)
		DPDKMP_ERR("%s; secondaries may fail to attach", err);
	guard_register();
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
	if (z.policy.socket_group != (gid_t)-1 && chown(z.sock_path, (uid_t)-1, z.policy.socket_group) < 0)
		fatal("cannot give the socket to the configured group", errno);
	if (chmod(z.sock_path, z.policy.socket_mode) < 0)
		fatal("cannot set the socket's mode", errno);
	if (z.policy.socket_mode & 0077) {
		/* Other users reach the socket only through the runtime directory and its parent,
		 * which EAL creates 0700: add search permission for whom the mode lets in. */
		mode_t x = (z.policy.socket_mode & 0070 ? 0010 : 0) | (z.policy.socket_mode & 0007 ? 0001 : 0);
		char parent[sizeof(z.ws.runtime_dir)], *slash;
		struct stat st;

		snprintf(parent, sizeof(parent), "%s", z.ws.runtime_dir);
		slash = strrchr(parent, '/');
		if (slash && slash != parent)
			*slash = '\0';
		if (stat(z.ws.runtime_dir, &st) == 0)
			chmod(z.ws.runtime_dir, (st.st_mode & 07777) | x);
		if (slash && stat(parent, &st) == 0)
			chmod(parent, (st.st_mode & 07777) | x);
	}
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

static void apply_sandbox(void)
{
	char caps[256];
	int ret;

	z.caps = DPDKMP_KEEP_CAPS_DEFAULT | z.policy.keep_caps;
	if (z.primary_flags & DPDKMP_PRIMARY_IOVA_PA) {
		z.caps |= CAP_SYS_ADMIN_BIT;
		DPDKMP_WARN("the primary uses IOVA as physical addresses: its secondaries need "
			    "CAP_SYS_ADMIN to read them, so the fork server keeps it; start the "
			    "primary with --iova-mode=va to run secondaries without it");
	}
	dpdkmp_caps_describe(z.caps, caps, sizeof(caps));
	if (!z.policy.sandbox) {
		DPDKMP_WARN("SANDBOX DISABLED (--no-sandbox): secondaries run with all of the "
			    "primary's privileges and no seccomp filter");
		return;
	}
	if ((ret = dpdkmp_sandbox_drop_caps(z.caps)) < 0)
		fatal("cannot reduce the fork server's capabilities", -ret);
	if ((ret = dpdkmp_sandbox_load_secondary((z.caps & CAP_SYS_RAWIO_BIT) != 0, -1)) < 0)
		fatal("cannot load the dpdk-secondary seccomp filter", -ret);
	DPDKMP_INFO("sandbox: capabilities %s, NO_NEW_PRIVS, seccomp dpdk-secondary", caps);
}

static void broker_start(void)
{
	struct dpdkmp_broker_args a;
	int sp[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		fatal("socketpair", errno);
	z.generation++;
	a = (struct dpdkmp_broker_args){
		.listen_fd = z.listen_fd, .channel_fd = sp[1], .sandbox = z.policy.sandbox,
		.policy = &z.policy, .fault = z.generation == 1 ? z.fault : NULL,
		.ack = {
			.zygote_pid = (uint32_t)getpid(), .primary_pid = (uint32_t)z.primary_pid,
			.primary_exe_dev = z.primary_exe.st_dev, .primary_exe_ino = z.primary_exe.st_ino,
			.nwindows = z.ws.n,
		},
	};
	pid = fork();
	if (pid == 0) {
		/* Only the listening socket, the channel and stderr go along. */
		unsigned int lo = (unsigned int)(z.listen_fd < sp[1] ? z.listen_fd : sp[1]);
		unsigned int hi = (unsigned int)(z.listen_fd < sp[1] ? sp[1] : z.listen_fd);

		if (lo > 3)
			syscall(SYS_close_range, 3u, lo - 1, 0u);
		if (hi > lo + 1)
			syscall(SYS_close_range, lo + 1, hi - 1, 0u);
		syscall(SYS_close_range, hi + 1, ~0u, 0u);
		dpdkmp_segments_unmap_all();
		dpdkmp_broker_main(&a);
	}
	close(sp[1]);
	if (pid < 0)
		fatal("cannot fork the broker", errno);
	z.channel_fd = sp[0];
	z.broker_pid = pid;
	z.broker_pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (z.broker_pidfd < 0)
		fatal("pidfd_open", errno);
	fcntl(z.broker_pidfd, F_SETFD, FD_CLOEXEC);
	DPDKMP_INFO("broker pid %d serving %s", (int)pid, z.sock_path);
}

void dpdkmp_zygote_main(int primary_sock, pid_t primary_pid, const struct dpdkmp_policy *policy)
{
	enum { P_PRIMARY = -1, P_SIGNAL = -2, P_CHANNEL = -3, P_BROKER = -4, P_MEMORY = -5,
	       P_POOL = -100 /* - index */ };
	static struct pollfd pfd[5 + POOL_MAX + DPDKMP_MAX_CHILDREN];
	static int pidx[5 + POOL_MAX + DPDKMP_MAX_CHILDREN];
	ssize_t l;

	dpdkmp_log_set_role(DPDKMP_ROLE_ZYGOTE);
	prctl(PR_SET_NAME, "dpdkmp-zygote");
	z.primary_pid = primary_pid;
	z.policy = *policy;
	z.fault = getenv("DPDKMP_TEST_BROKER_FAULT");
	z.listen_fd = z.channel_fd = z.broker_pidfd = z.memory_fd = -1;
	for (int i = 0; i < POOL_MAX; i++)
		z.pool[i] = (struct pooled){ .pidfd = -1, .sock = -1, .run_fd = -1 };
	z.pool_target = pool_size();
	z.quiet_until_ms = dpdkmp_now_ms() + 100;       /* the mirror arrives first */
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
	reserve_and_register();
	dpdkmp_segments_init(&z.ws);
	dpdkmp_shortcuts_prepare(dpdkmp_plugin_dir());
	dpdkmp_loader_prepare();
	listen_socket();
	apply_sandbox();
	broker_start();
	{
		struct dpdkmp_hello_ack a = {
			.zygote_pid = (uint32_t)getpid(), .primary_pid = (uint32_t)primary_pid,
			.primary_exe_dev = z.primary_exe.st_dev, .primary_exe_ino = z.primary_exe.st_ino,
			.nwindows = z.ws.n,
		};

		dpdkmp_send(primary_sock, DPDKMP_MSG_HELLO_ACK, &a, sizeof(a), NULL, 0);
	}
	z.memory_fd = primary_sock;     /* SEGMENTS from now on (segments.c) */
	DPDKMP_INFO("serving %s for primary pid %d (%u windows)", z.sock_path, (int)primary_pid, z.ws.n);

	for (;;) {
		uint64_t now = dpdkmp_now_ms(), next = now + 60000;
		int n = 0, ready;

		if (z.shutting_down && !live_children())
			break;
		if (!z.shutting_down && pool_ready() < z.pool_target && now >= z.quiet_until_ms &&
		    pool_fork())
			continue;
		/* (no free slot: retired children not reaped yet; their pidfds wake us) */
		if (!z.shutting_down && pool_ready() < z.pool_target && pool_free_slot() &&
		    z.quiet_until_ms < next)
			next = z.quiet_until_ms;
		if (!z.shutting_down) {
			pfd[n] = (struct pollfd){ .fd = z.primary_pidfd, .events = POLLIN };
			pidx[n++] = P_PRIMARY;
			pfd[n] = (struct pollfd){ .fd = z.signal_fd, .events = POLLIN };
			pidx[n++] = P_SIGNAL;
		}
		if (z.channel_fd >= 0) {
			pfd[n] = (struct pollfd){ .fd = z.channel_fd, .events = POLLIN };
			pidx[n++] = P_CHANNEL;
		}
		if (z.memory_fd >= 0) {
			pfd[n] = (struct pollfd){ .fd = z.memory_fd, .events = POLLIN };
			pidx[n++] = P_MEMORY;
		}
		if (z.broker_pidfd >= 0) {
			pfd[n] = (struct pollfd){ .fd = z.broker_pidfd, .events = POLLIN };
			pidx[n++] = P_BROKER;
		}
		for (int i = 0; i < POOL_MAX; i++) {
			if (!z.pool[i].pid)
				continue;
			pfd[n] = (struct pollfd){ .fd = z.pool[i].pidfd, .events = POLLIN };
			pidx[n++] = P_POOL - i;
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
			pidx[n++] = i;
		}
		ready = poll(pfd, (nfds_t)n, (int)(next > now ? next - now : 0));
		if (ready < 0) {
			if (errno == EINTR)
				continue;
			fatal("poll", errno);
		}
		for (int i = 0; i < n && ready > 0; i++) {
			if (!pfd[i].revents)
				continue;
			ready--;
			switch (pidx[i]) {
			case P_PRIMARY:
				begin_shutdown("the primary exited", DPDKMP_REASON_PRIMARY_GONE);
				break;
			case P_SIGNAL: on_stop_signal(); break;
			case P_CHANNEL: if (z.channel_fd >= 0) channel_readable(); break;
			case P_MEMORY: memory_readable(); break;
			case P_BROKER: broker_exited(); break;
			default:
				if (pidx[i] <= P_POOL)
					pool_exited(P_POOL - pidx[i]);
				else
					child_exited(pidx[i]);
				break;
			}
		}
	}
	if (z.broker_pidfd >= 0) {
		/* The broker ends on EOF of its channel; SIGKILL only if it does not. */
		struct pollfd p = { .fd = z.broker_pidfd, .events = POLLIN };
		siginfo_t si;

		if (z.channel_fd >= 0)
			close(z.channel_fd);
		if (poll(&p, 1, 1000) <= 0)
			kill(z.broker_pid, SIGKILL);
		waitid((idtype_t)P_PIDFD, (id_t)z.broker_pidfd, &si, WEXITED);
	}
	/* Retired pool children exit on EOF: reap them rather than leave them to init. */
	for (int i = 0; i < POOL_MAX; i++) {
		siginfo_t si;

		if (z.pool[i].pid) {
			waitid((idtype_t)P_PIDFD, (id_t)z.pool[i].pidfd, &si, WEXITED);
			dpdkmp_initfiles_sweep(z.ws.runtime_dir, (int)z.pool[i].pid);
		}
	}
	DPDKMP_INFO("exiting");
	_exit(0);
}
