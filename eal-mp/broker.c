/* broker: the only code that reads bytes a client wrote. A child of the zygote without
 * capabilities, under an allow-list seccomp filter: it accepts connections, applies the peer
 * policy, validates every request (framing, sizes, argv/environment, the executable fd and its
 * ELF headers) and relays what passed to the zygote in a fixed internal format; it forwards the
 * zygote's replies. It cannot open files, execute, fork or signal.
 *
 * Connection states and the requests each accepts (anything else ends the connection):
 *   NEW       HELLO       -> READY
 *   READY     SPAWN       -> SPAWNING     STATUS_REQ -> STATUS (relayed reply, close)
 *   SPAWNING  (none; SPAWNED or ERROR from the zygote)   -> RUNNING / closed
 *   RUNNING   SIGNAL      -> RUNNING      (EOF: the zygote terminates the secondary) */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "fdpass.h"
#include "internal.h"
#include "log.h"
#include "sandbox.h"

#define MAX_ACTIVE      ((int)DPDKMP_MAX_CHILDREN + 64) /* connections being served */
#define MAX_CONNS       (MAX_ACTIVE + 64)               /* ... and being closed */
#define IDLE_TIMEOUT_MS 10000   /* a connection must finish its request in this time */
#define LINGER_MS       1000    /* a closing connection is drained this long at most */
#define GUEST_WAITING   32      /* requests in progress per uid other than root and the owner */

/* CLOSING: our last record is sent and our side shut down; what the peer still sends is
 * read and dropped until it closes. close() with unread data would reset the connection
 * and destroy the reply (an ERROR, EXITED) before the peer could read it. */
enum conn_state { C_FREE = 0, C_NEW, C_READY, C_STATUS, C_SPAWNING, C_RUNNING, C_CLOSING };

struct conn {
	enum conn_state state;
	int fd;
	uint32_t id;
	struct ucred cred;
	uint64_t deadline_ms;
};

static struct {
	const struct dpdkmp_broker_args *a;
	struct conn conns[MAX_CONNS];
	uint32_t next_id;
	struct dpdkmp_msg msg;
	uint8_t out[DPDKMP_MAX_PAYLOAD] __attribute__((aligned(8)));
	/* Decoded requests live here: the broker never allocates (no brk, no mmap). */
	char *storage[DPDKMP_SPAWN_STORAGE / sizeof(char *)];
} b;

static void fatal(const char *what, int err) __attribute__((noreturn));
static void fatal(const char *what, int err)
{
	DPDKMP_ERR("%s: %s", what, strerror(err));
	_exit(1);
}

static void conn_close(struct conn *c)
{
	if (c->state == C_FREE)
		return;
	close(c->fd);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* Ends a connection after our last record: see C_CLOSING. */
static void conn_end(struct conn *c)
{
	if (c->state == C_FREE || c->state == C_CLOSING)
		return;
	shutdown(c->fd, SHUT_WR);
	c->state = C_CLOSING;
	c->deadline_ms = dpdkmp_now_ms() + LINGER_MS;
}

static struct conn *conn_by_id(uint32_t id)
{
	for (int i = 0; i < MAX_CONNS; i++)
		if (b.conns[i].state != C_FREE && b.conns[i].id == id)
			return &b.conns[i];
	return NULL;
}

static void relay(uint16_t type, const struct conn *c, const void *extra, uint32_t len,
		  const int *fds, uint32_t nfds)
{
	struct dpdkmp_relay r = { .conn = c->id };
	int ret;

	memcpy(b.out, &r, sizeof(r));
	if (len)
		memcpy(b.out + sizeof(r), extra, len);
	ret = dpdkmp_send(b.a->channel_fd, type, b.out, (uint32_t)sizeof(r) + len, fds, nfds);
	if (ret < 0)
		fatal("cannot reach the zygote", -ret);
}

/* ---- requests ---------------------------------------------------------------------- */

static void on_hello(struct conn *c)
{
	struct dpdkmp_hello h;

	memcpy(&h, b.msg.payload, sizeof(h));
	if (h.flags != 0) {
		dpdkmp_send_error(c->fd, EINVAL, "unknown HELLO flags 0x%x", h.flags);
		conn_end(c);
		return;
	}
	if (b.a->fault && *b.a->fault) {
		/* Test hook (DPDKMP_TEST_BROKER_FAULT, set by the operator on the primary): prove
		 * that the filter kills the broker on a forbidden call. */
		if (!strcmp(b.a->fault, "openat"))
			syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY);
		else if (!strcmp(b.a->fault, "execve"))
			syscall(SYS_execve, "/bin/true", NULL, NULL);
		else if (!strcmp(b.a->fault, "ptrace"))
			syscall(SYS_ptrace, 0, 0, 0, 0);
	}
	if (dpdkmp_send(c->fd, DPDKMP_MSG_HELLO_ACK, &b.a->ack, sizeof(b.a->ack), NULL, 0) < 0) {
		conn_close(c);
		return;
	}
	c->state = C_READY;
}

static unsigned int live_for_uid(uid_t uid)
{
	unsigned int n = 0;

	for (int i = 0; i < MAX_CONNS; i++)
		if ((b.conns[i].state == C_SPAWNING || b.conns[i].state == C_RUNNING) &&
		    b.conns[i].cred.uid == uid)
			n++;
	return n;
}

/* The executable: a regular file the client could open, with an execute bit, that nobody
 * but root or the requester can have replaced. */
static int check_exe(const struct conn *c, int fd, struct stat *st, char *why, size_t len)
{
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		snprintf(why, len, "the executable fd is not a regular file");
		return -ENOEXEC;
	}
	if (!(st->st_mode & (S_IXUSR | S_IXGRP | S_IXOTH))) {
		snprintf(why, len, "it is not executable (chmod +x it)");
		return -EACCES;
	}
	if (st->st_mode & S_IWOTH) {
		snprintf(why, len, "it is writable by others (mode %04o): anyone could replace the "
			 "code the fork server runs; chmod o-w it", (unsigned int)(st->st_mode & 07777));
		return -EACCES;
	}
	if (st->st_uid != 0 && st->st_uid != c->cred.uid) {
		snprintf(why, len, "it is owned by uid %u, neither root nor you (uid %u); the fork "
			 "server only runs executables owned by root or by the requester",
			 (unsigned int)st->st_uid, (unsigned int)c->cred.uid);
		return -EACCES;
	}
	return 0;
}

static void on_spawn(struct conn *c)
{
	const struct dpdkmp_policy *pol = b.a->policy;
	struct dpdkmp_spawn_req req = { 0 };
	struct dpdkmp_elf_info elf;
	struct dpdkmp_relay_spawn rs;
	struct stat st;
	char why[1024];
	size_t plen;
	int fds[DPDKMP_SPAWN_FDS], ret;

	for (unsigned int i = 0; i < DPDKMP_SPAWN_FDS; i++)
		fds[i] = dpdkmp_msg_take_fd(&b.msg, i);
	if ((ret = dpdkmp_spawn_decode_in(b.msg.payload, b.msg.hdr.len, &req, b.storage,
					  sizeof(b.storage))) < 0) {
		dpdkmp_send_error(c->fd, -ret, "malformed SPAWN request: %s", strerror(-ret));
		goto refuse;
	}
	if ((ret = check_exe(c, fds[0], &st, why, sizeof(why))) < 0) {
		dpdkmp_send_error(c->fd, -ret, "%s", why);
		goto refuse;
	}
	if ((ret = dpdkmp_elf_inspect(fds[0], &elf)) < 0) {
		dpdkmp_send_error(c->fd, -ret, "it is not an ELF executable");
		goto refuse;
	}
	memset(&rs, 0, sizeof(rs));
	rs.same_binary = st.st_dev == b.a->ack.primary_exe_dev && st.st_ino == b.a->ack.primary_exe_ino;
	if (dpdkmp_elf_check_secondary(&elf, (int)rs.same_binary, req.argv[0], why, sizeof(why)) < 0) {
		dpdkmp_send_error(c->fd, ENOEXEC, "%s", why);
		goto refuse;
	}
	if (pol->max_per_uid && live_for_uid(c->cred.uid) >= pol->max_per_uid) {
		dpdkmp_send_error(c->fd, EAGAIN, "uid %u already runs %u secondaries, the limit of "
				  "this fork server (max-per-uid)", (unsigned int)c->cred.uid,
				  pol->max_per_uid);
		goto refuse;
	}
	rs.uid = c->cred.uid;
	rs.gid = c->cred.gid;
	rs.pid = (uint32_t)c->cred.pid;
	rs.entry = elf.entry;
	rs.flags1_off = elf.flags1_off;
	rs.pie = elf.pie;
	/* Re-encoded from the decoded request: the zygote reads only what we wrote. */
	memcpy(b.out + sizeof(struct dpdkmp_relay), &rs, sizeof(rs));
	ret = dpdkmp_spawn_encode(b.out + sizeof(struct dpdkmp_relay) + sizeof(rs),
				  sizeof(b.out) - sizeof(struct dpdkmp_relay) - sizeof(rs), &plen,
				  req.cwd, req.argv, req.envp);
	if (ret < 0) {
		dpdkmp_send_error(c->fd, -ret, "the request does not fit the protocol limits");
		goto refuse;
	}
	{
		struct dpdkmp_relay r = { .conn = c->id };

		memcpy(b.out, &r, sizeof(r));
		ret = dpdkmp_send(b.a->channel_fd, DPDKMP_MSG_RELAY_SPAWN, b.out,
				  (uint32_t)(sizeof(r) + sizeof(rs) + plen), fds, DPDKMP_SPAWN_FDS);
		if (ret < 0)
			fatal("cannot reach the zygote", -ret);
	}
	for (unsigned int i = 0; i < DPDKMP_SPAWN_FDS; i++)
		close(fds[i]);
	dpdkmp_spawn_req_free(&req);
	c->state = C_SPAWNING;
	return;
refuse:
	for (unsigned int i = 0; i < DPDKMP_SPAWN_FDS; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	dpdkmp_spawn_req_free(&req);
	conn_end(c);
}

static void on_status(struct conn *c)
{
	relay(DPDKMP_MSG_RELAY_STATUS, c, NULL, 0, NULL, 0);
	c->state = C_STATUS;    /* the zygote's reply ends the connection */
}

static void on_signal(struct conn *c)
{
	struct dpdkmp_signal s;

	memcpy(&s, b.msg.payload, sizeof(s));
	switch (s.signo) {
	case SIGINT: case SIGTERM: case SIGHUP: case SIGQUIT: case SIGUSR1: case SIGUSR2:
	case SIGWINCH: case SIGCONT: case SIGALRM:
		relay(DPDKMP_MSG_RELAY_SIGNAL, c, &s, sizeof(s), NULL, 0);
		break;
	default:
		dpdkmp_send_error(c->fd, EINVAL, "signal %u cannot be forwarded", s.signo);
		break;
	}
}

static const struct {
	enum conn_state state;
	uint16_t type;
	void (*fn)(struct conn *c);
} dispatch[] = {
	{ C_NEW, DPDKMP_MSG_HELLO, on_hello },
	{ C_READY, DPDKMP_MSG_SPAWN, on_spawn },
	{ C_READY, DPDKMP_MSG_STATUS_REQ, on_status },
	{ C_RUNNING, DPDKMP_MSG_SIGNAL, on_signal },
};

static void conn_readable(struct conn *c)
{
	int ret = dpdkmp_recv(c->fd, &b.msg);

	if (ret == -EAGAIN)
		return;
	if (c->state == C_CLOSING) {
		dpdkmp_msg_close_fds(&b.msg);
		if (ret == -ECONNRESET)
			conn_close(c);
		return;
	}
	if (ret == -ECONNRESET) {
		if (c->state == C_SPAWNING || c->state == C_RUNNING)
			relay(DPDKMP_MSG_RELAY_HANGUP, c, NULL, 0, NULL, 0);
		conn_close(c);
		return;
	}
	if (ret < 0) {
		DPDKMP_WARN("bad request from pid %d (uid %d): %s", (int)c->cred.pid, (int)c->cred.uid,
			    strerror(-ret));
		dpdkmp_send_error(c->fd, -ret, "bad request: %s", strerror(-ret));
		goto drop;
	}
	for (size_t i = 0; i < sizeof(dispatch) / sizeof(dispatch[0]); i++) {
		if (dispatch[i].state == c->state && dispatch[i].type == b.msg.hdr.type) {
			dispatch[i].fn(c);
			dpdkmp_msg_close_fds(&b.msg);
			return;
		}
	}
	dpdkmp_msg_close_fds(&b.msg);
	DPDKMP_WARN("unexpected %s from pid %d; closing the connection",
		    dpdkmp_msg_name(b.msg.hdr.type), (int)c->cred.pid);
	dpdkmp_send_error(c->fd, EPROTO, "%s is not allowed here", dpdkmp_msg_name(b.msg.hdr.type));
drop:
	if (c->state == C_SPAWNING || c->state == C_RUNNING)
		relay(DPDKMP_MSG_RELAY_HANGUP, c, NULL, 0, NULL, 0);
	conn_end(c);
}

static struct conn *free_slot(int *active)
{
	struct conn *slot = NULL;

	*active = 0;
	for (int i = 0; i < MAX_CONNS; i++) {
		if (b.conns[i].state == C_FREE)
			slot = slot ? slot : &b.conns[i];
		else if (b.conns[i].state != C_CLOSING)
			(*active)++;
	}
	return slot;
}

/* Connections of uid not running a secondary yet: what an idle client can pile up. */
static int waiting_for_uid(uid_t uid)
{
	int n = 0;

	for (int i = 0; i < MAX_CONNS; i++) {
		enum conn_state st = b.conns[i].state;

		if (st != C_FREE && st != C_CLOSING && st != C_RUNNING && b.conns[i].cred.uid == uid)
			n++;
	}
	return n;
}

static void accept_one(void)
{
	const struct dpdkmp_policy *pol = b.a->policy;
	socklen_t l = sizeof(struct ucred);
	struct ucred cred;
	struct conn *c;
	int fd = accept4(b.a->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK), active, waiting;

	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &l) < 0) {
		close(fd);
		return;
	}
	c = free_slot(&active);
	if (!c) {               /* even the closing slots are full: no reply is possible */
		close(fd);
		return;
	}
	/* Other users allowed by the policy must not be able to hold every slot with idle
	 * connections; root and the primary's owner could stop the primary anyway. */
	waiting = cred.uid != 0 && cred.uid != pol->owner ? waiting_for_uid(cred.uid) : 0;
	*c = (struct conn){ .state = C_NEW, .fd = fd, .cred = cred, .id = ++b.next_id,
			    .deadline_ms = dpdkmp_now_ms() + IDLE_TIMEOUT_MS };
	if (!dpdkmp_policy_allows(pol, cred.uid, cred.gid)) {
		DPDKMP_WARN("refused pid %d: uid %u gid %u is not allowed by the policy", (int)cred.pid,
			    (unsigned int)cred.uid, (unsigned int)cred.gid);
		dpdkmp_send_error(fd, EPERM, "permission denied: uid %u is not allowed to use this fork "
				  "server; the primary's operator can allow it with "
				  "`dpdkmp primary --allow-uid %u` (or --allow-gid)",
				  (unsigned int)cred.uid, (unsigned int)cred.uid);
		conn_end(c);
	} else if (active >= MAX_ACTIVE) {
		dpdkmp_send_error(fd, EAGAIN, "too many connections; try again later");
		conn_end(c);
	} else if (waiting >= GUEST_WAITING) {
		dpdkmp_send_error(fd, EAGAIN, "uid %u already has %d requests in progress; try "
				  "again later", (unsigned int)cred.uid, GUEST_WAITING);
		conn_end(c);
	}
}

/* A reply of the zygote for one connection: forward it; some replies end the connection. */
static void channel_readable(void)
{
	struct dpdkmp_relay r;
	struct conn *c;
	int ret = dpdkmp_recv(b.a->channel_fd, &b.msg);

	if (ret == -EAGAIN)
		return;
	if (ret == -ECONNRESET)
		_exit(0);       /* the zygote is gone */
	if (ret < 0 || b.msg.hdr.type != DPDKMP_MSG_RELAY_REPLY)
		fatal("bad message from the zygote", ret < 0 ? -ret : EPROTO);
	memcpy(&r, b.msg.payload, sizeof(r));
	c = conn_by_id(r.conn);
	if (!c)
		return;         /* the launcher left meanwhile */
	if (c->state == C_CLOSING)
		return;
	if (dpdkmp_send(c->fd, r.type, b.msg.payload + sizeof(r),
			b.msg.hdr.len - (uint32_t)sizeof(r), NULL, 0) < 0) {
		if (c->state == C_RUNNING || c->state == C_SPAWNING)
			relay(DPDKMP_MSG_RELAY_HANGUP, c, NULL, 0, NULL, 0);
		conn_close(c);
		return;
	}
	if (r.type == DPDKMP_MSG_SPAWNED && c->state == C_SPAWNING)
		c->state = C_RUNNING;
	else if (r.type == DPDKMP_MSG_EXITED || r.type == DPDKMP_MSG_ERROR ||
		 r.type == DPDKMP_MSG_STATUS)
		conn_end(c);
}

void dpdkmp_broker_main(const struct dpdkmp_broker_args *a)
{
	static struct pollfd pfd[2 + MAX_CONNS];
	static struct conn *pc[2 + MAX_CONNS];
	int ret;

	dpdkmp_log_set_role(DPDKMP_ROLE_BROKER);
	prctl(PR_SET_NAME, "dpdkmp-broker");
	b.a = a;
	for (int i = 0; i < MAX_CONNS; i++)
		b.conns[i].fd = -1;
	dpdkmp_log_level();     /* reads the environment before the filter is in place */
	if (a->sandbox) {
		if ((ret = dpdkmp_sandbox_drop_caps(0)) < 0)
			fatal("cannot drop the broker's capabilities", -ret);
		if ((ret = dpdkmp_sandbox_load_broker(-1)) < 0)
			fatal("cannot load the broker's seccomp filter", -ret);
	}
	for (;;) {
		uint64_t now = dpdkmp_now_ms(), next = now + 60000;
		int n = 0, ready;

		pfd[n] = (struct pollfd){ .fd = a->channel_fd, .events = POLLIN };
		pc[n++] = NULL;
		pfd[n] = (struct pollfd){ .fd = a->listen_fd, .events = POLLIN };
		pc[n++] = NULL;
		for (int i = 0; i < MAX_CONNS; i++) {
			struct conn *c = &b.conns[i];

			if (c->state == C_FREE)
				continue;
			if (c->state == C_CLOSING && now >= c->deadline_ms) {
				conn_close(c);
				continue;
			}
			if (c->state != C_RUNNING && c->state != C_CLOSING && now >= c->deadline_ms) {
				dpdkmp_send_error(c->fd, ETIMEDOUT, "request not completed in %d ms",
						  IDLE_TIMEOUT_MS);
				if (c->state == C_SPAWNING)
					relay(DPDKMP_MSG_RELAY_HANGUP, c, NULL, 0, NULL, 0);
				conn_end(c);
				continue;
			}
			if (c->state != C_RUNNING && c->deadline_ms < next)
				next = c->deadline_ms;
			pfd[n] = (struct pollfd){ .fd = c->fd, .events = POLLIN };
			pc[n++] = c;
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
			if (i == 0)
				channel_readable();
			else if (i == 1)
				accept_one();
			else if (pc[i]->state != C_FREE && pc[i]->fd == pfd[i].fd)
				conn_readable(pc[i]);
		}
	}
}
