/* rawclient: a hostile client of the dpdkmp fork server, for t_hostile.sh. It performs one case
 * and prints one line, so that the test states the expected behaviour of every case in a table:
 *   RESULT <case> <outcome> [errno-name] [message or details]
 * Well-formed records go through fdpass (dpdkmp_send/dpdkmp_recv); malformed ones through a raw
 * sendmsg. Every wait is a poll with a timeout: a silent server gives TIMEOUT, never a hang.
 *
 * usage: rawclient [-t SECS] SOCKET CASE [ARGS]   (-t: every wait, default 15 s)
 * Outcomes:
 *   ERROR E.. text       the server replied ERROR (errno name, message) and closed
 *   ERROR-OPEN E.. text  it replied ERROR but kept the connection open (the protocol says close)
 *   CLOSED               it closed the connection without a reply
 *   TIMEOUT              no reply and no close within the timeout
 *   REPLY TYPE           another reply than the case expects (e.g. HELLO_ACK to a bad record)
 *   SENDFAIL E..         the kernel refused to send the record (nothing reached the server)
 *   SPAWNED pid=N ...    a child was forked; followed by how it ended
 *   EXITED code|signal=N good: the child ran and ended
 *   ALIVE / COUNT ...    hello-then-close, slowloris, flood: see the case
 *   SETUP reason         the case could not be prepared (a test error, not a server verdict)
 * Exit status: 0 when a RESULT line was printed (whatever the outcome), 2 on a usage error. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fdpass.h"
#include "proto.h"

extern char **environ;

static const char *sock_path;
static const char *case_name;
static int timeout_ms = 15000;
static struct dpdkmp_msg msg;   /* 60 KiB: not on the stack */
static char payload[DPDKMP_MAX_PAYLOAD + 4096];

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static const char *errname(int e)
{
	const char *n = strerrorname_np(e < 0 ? -e : e);

	return n ? n : "EUNKNOWN";
}

/* The one result line; the process ends with it. */
static void result(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void result(const char *fmt, ...)
{
	va_list ap;

	printf("RESULT %s ", case_name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	exit(0);
}

/* Connects to the server; retries while its backlog is full, for at most the timeout. */
static int connect_server(int quiet)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint64_t end = now_ms() + (uint64_t)timeout_ms;
	int fd;

	if (strlen(sock_path) >= sizeof(sa.sun_path))
		result("SETUP socket path too long");
	strcpy(sa.sun_path, sock_path);
	for (;;) {
		fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			result("SETUP socket: %s", strerror(errno));
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		close(fd);
		if (errno != EAGAIN || now_ms() >= end) {
			if (quiet)
				return -errno;
			result("SETUP connect %s: %s", sock_path, strerror(errno));
		}
		usleep(10000);
	}
	/* Blocking from here, with a send timeout: a server that stops reading cannot hang us. */
	{
		struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };

		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	return fd;
}

/* One record exactly as given: header fields, payload bytes and fds are independent, so that
 * every lie a client can tell is expressible. 0 or -errno. */
static int raw_send(int fd, const struct dpdkmp_hdr *h, size_t hlen, const void *data,
		    size_t plen, const int *fds, unsigned int nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 253)]; /* SCM_MAX_FD */
		struct cmsghdr align;
	} ctl;
	struct iovec iov[2] = {
		{ .iov_base = (void *)h, .iov_len = hlen },
		{ .iov_base = (void *)data, .iov_len = plen },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = plen ? 2 : 1 };
	ssize_t n;

	if (nfds > 253)
		return -EINVAL;
	if (nfds) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	do
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == hlen + plen ? 0 : -EIO;
}

static struct dpdkmp_hdr hdr(uint16_t type, uint32_t len, uint32_t nfds)
{
	return (struct dpdkmp_hdr){ .magic = DPDKMP_MAGIC, .version = DPDKMP_PROTO_VERSION,
				    .type = type, .len = len, .nfds = nfds };
}

/* Waits up to ms for a record. 1: a record in msg; 0: the server closed; -ETIMEDOUT; or -errno
 * of a reply that fdpass itself refuses (the server broke the protocol). */
static int await(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r;

	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r == 0)
		return -ETIMEDOUT;
	r = dpdkmp_recv(fd, &msg);
	dpdkmp_msg_close_fds(&msg);
	if (r == -ECONNRESET || r == -EPIPE)
		return 0;
	return r < 0 ? r : 1;
}

/* Reports the server's reply to a request it must refuse: ERROR then close is the protocol. */
static void report_reply(int fd) __attribute__((noreturn));
static void report_reply(int fd)
{
	const char *text;
	uint32_t tlen;
	int r = await(fd, timeout_ms), err;

	if (r == -ETIMEDOUT)
		result("TIMEOUT");
	if (r == 0)
		result("CLOSED");
	if (r < 0)
		result("BADREPLY %s", errname(r));
	if (msg.hdr.type == DPDKMP_MSG_SPAWNED) {
		struct dpdkmp_spawned sp;

		memcpy(&sp, msg.payload, sizeof(sp));
		r = await(fd, timeout_ms);
		if (r == 1 && msg.hdr.type == DPDKMP_MSG_EXITED) {
			struct dpdkmp_exited e;

			memcpy(&e, msg.payload, sizeof(e));
			result("SPAWNED pid=%u %s=%u", sp.pid,
			       e.how == DPDKMP_EXIT_CODE ? "code" : "signal", e.value);
		}
		result("SPAWNED pid=%u (no EXITED: %s)", sp.pid, r == 1 ? dpdkmp_msg_name(msg.hdr.type) :
		       r == 0 ? "closed" : errname(r));
	}
	if (msg.hdr.type != DPDKMP_MSG_ERROR)
		result("REPLY %s", dpdkmp_msg_name(msg.hdr.type));
	if (dpdkmp_error_decode(msg.payload, msg.hdr.len, &err, &text, &tlen) < 0)
		result("BADREPLY malformed ERROR");
	{
		char t[DPDKMP_MAX_ERRMSG + 1];
		int after;

		memcpy(t, text, tlen);
		t[tlen] = '\0';
		for (char *p = t; *p; p++)      /* one line, whatever the server says */
			if (*p == '\n' || *p == '\r')
				*p = ' ';
		/* After an ERROR the server must close: wait a little for it. */
		after = await(fd, timeout_ms < 3000 ? timeout_ms : 3000);
		result("%s %s %s", after == 0 ? "ERROR" : "ERROR-OPEN", errname(err), t);
	}
}

static void hello(int fd)
{
	struct dpdkmp_hello h = { .client_pid = (uint32_t)getpid() };
	int r;

	if ((r = dpdkmp_send(fd, DPDKMP_MSG_HELLO, &h, sizeof(h), NULL, 0)) < 0)
		result("SENDFAIL %s HELLO", errname(r));
	r = await(fd, timeout_ms);
	if (r == 1 && msg.hdr.type == DPDKMP_MSG_HELLO_ACK)
		return;
	if (r == 1 && msg.hdr.type == DPDKMP_MSG_ERROR) {
		int err;
		const char *t;
		uint32_t tl;

		if (dpdkmp_error_decode(msg.payload, msg.hdr.len, &err, &t, &tl) == 0)
			result("SETUP HELLO refused: %s %.*s", errname(err), (int)tl, t);
	}
	result("SETUP no HELLO_ACK: %s", r == 1 ? dpdkmp_msg_name(msg.hdr.type) :
	       r == 0 ? "closed" : errname(r));
}

/* ---- SPAWN payloads ------------------------------------------------------------------ */


/* A SPAWN payload by hand, without the encoder's limits: cwd "/", argv[0] and argc - 1 copies
 * of arg, envc copies of env. */
static size_t spawn_by_hand(const char *argv0, uint32_t argc, const char *arg, uint32_t envc,
			    const char *env)
{
	struct dpdkmp_spawn s = { .argc = argc, .envc = envc, .cwd_len = 2 };
	char *p = payload + sizeof(s), *end = payload + sizeof(payload);

#define PUT(str) do { size_t n_ = strlen(str) + 1; \
		if ((size_t)(end - p) < n_) result("SETUP payload over %zu bytes", sizeof(payload)); \
		memcpy(p, str, n_); p += n_; } while (0)
	PUT("/");
	PUT(argv0);
	for (uint32_t i = 1; i < argc; i++)
		PUT(arg);
	for (uint32_t i = 0; i < envc; i++)
		PUT(env);
#undef PUT
	memcpy(payload, &s, sizeof(s));
	return (size_t)(p - payload);
}

static int open_or_die(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0)
		result("SETUP open %s: %s", path, strerror(errno));
	return fd;
}

/* Sends SPAWN with exe and stdio /dev/null (4 fds unless told otherwise), then reports. */
static void spawn_and_report(int fd, const void *pl, size_t plen, int exe_fd, uint32_t hdr_nfds,
			     unsigned int nfds) __attribute__((noreturn));
static void spawn_and_report(int fd, const void *pl, size_t plen, int exe_fd, uint32_t hdr_nfds,
			     unsigned int nfds)
{
	int fds[253], null = open_or_die("/dev/null", O_RDWR);
	struct dpdkmp_hdr h = hdr(DPDKMP_MSG_SPAWN, (uint32_t)plen, hdr_nfds);
	int r;

	fds[0] = exe_fd;
	for (unsigned int i = 1; i < nfds && i < 253; i++)
		fds[i] = null;
	if ((r = raw_send(fd, &h, sizeof(h), pl, plen, fds, nfds)) < 0)
		result("SENDFAIL %s", errname(r));
	report_reply(fd);
}

static void spawn_path(int fd, const char *path, int argc, char **args) __attribute__((noreturn));
static void spawn_path(int fd, const char *path, int argc, char **args)
{
	char **argv = calloc((size_t)argc + 2, sizeof(char *));
	size_t plen;
	int r;

	if (!argv)
		result("SETUP out of memory");
	argv[0] = (char *)path;
	for (int i = 0; i < argc; i++)
		argv[i + 1] = args[i];
	if ((r = dpdkmp_spawn_encode(payload, sizeof(payload), &plen, "/", argv, environ)) < 0)
		result("SETUP encode: %s", errname(r));
	spawn_and_report(fd, payload, plen, open_or_die(path, O_RDONLY), DPDKMP_SPAWN_FDS,
			 DPDKMP_SPAWN_FDS);
}

/* ---- cases --------------------------------------------------------------------------- */

static void c_truncated_header(int argc, char **argv)
{
	struct dpdkmp_hdr h = hdr(DPDKMP_MSG_HELLO, 0, 0);
	int fd = connect_server(0), r;

	(void)argc, (void)argv;
	if ((r = raw_send(fd, &h, 10, NULL, 0, NULL, 0)) < 0)
		result("SENDFAIL %s", errname(r));
	report_reply(fd);
}

/* A HELLO with one header field replaced. */
static void bad_hello(uint32_t magic, uint16_t version, uint16_t type, uint32_t len,
		      size_t sent) __attribute__((noreturn));
static void bad_hello(uint32_t magic, uint16_t version, uint16_t type, uint32_t len, size_t sent)
{
	struct dpdkmp_hdr h = { .magic = magic, .version = version, .type = type, .len = len };
	struct dpdkmp_hello p = { .client_pid = (uint32_t)getpid() };
	int fd = connect_server(0), r;

	if ((r = raw_send(fd, &h, sizeof(h), &p, sent, NULL, 0)) < 0)
		result("SENDFAIL %s", errname(r));
	report_reply(fd);
}

static void c_wrong_magic(int argc, char **argv)
{
	(void)argc, (void)argv;
	bad_hello(0x44504d50u /* byte-swapped */, 1, DPDKMP_MSG_HELLO, 8, 8);
}

static void c_future_version(int argc, char **argv)
{
	(void)argc, (void)argv;
	bad_hello(DPDKMP_MAGIC, 2, DPDKMP_MSG_HELLO, 8, 8);
}

static void c_unknown_type(int argc, char **argv)
{
	/* Default: the first type a future version could add; 0 is the other boundary. */
	bad_hello(DPDKMP_MAGIC, 1, (uint16_t)(argc > 0 ? atoi(argv[0]) : DPDKMP_MSG_MAX + 1), 8, 8);
}

static void c_short_payload(int argc, char **argv)
{
	(void)argc, (void)argv;
	bad_hello(DPDKMP_MAGIC, 1, DPDKMP_MSG_HELLO, 8, 4);
}

/* HELLO, then a record of type N with a zeroed payload of LEN bytes (default 8) and no fds: a
 * reply type, the primary's WINDOWS or an internal relay type, sent by a client. */
static void c_type_after_hello(int argc, char **argv)
{
	uint32_t len = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 8;
	struct dpdkmp_hdr h;
	int fd, r;

	if (argc < 1 || len > DPDKMP_MAX_PAYLOAD)
		result("SETUP usage: type-after-hello TYPE [LEN]");
	h = hdr((uint16_t)atoi(argv[0]), len, 0);
	memset(payload, 0, len);
	fd = connect_server(0);
	hello(fd);
	if ((r = raw_send(fd, &h, sizeof(h), payload, len, NULL, 0)) < 0)
		result("SENDFAIL %s", errname(r));
	report_reply(fd);
}

/* The record is longer than the server's buffer (16 + 61440): it sees MSG_TRUNC. */
static void c_oversized_len(int argc, char **argv)
{
	uint32_t len = argc > 0 ? (uint32_t)strtoul(argv[0], NULL, 0) : DPDKMP_MAX_PAYLOAD + 4096;
	struct dpdkmp_hdr h = hdr(DPDKMP_MSG_SPAWN, len, 0);
	char *big = calloc(1, len);
	int fd = connect_server(0), r;

	if (!big)
		result("SETUP out of memory");
	hello(fd);
	if ((r = raw_send(fd, &h, sizeof(h), big, len, NULL, 0)) < 0)
		result("SENDFAIL %s", errname(r));
	report_reply(fd);
}

/* A zero-length record: SOCK_SEQPACKET delivers it, and recvmsg returns 0 as for EOF. */
static void c_empty_record(int argc, char **argv)
{
	int fd = connect_server(0), r;

	(void)argc, (void)argv;
	hello(fd);
	if ((r = raw_send(fd, &(struct dpdkmp_hdr){ 0 }, 0, NULL, 0, NULL, 0)) < 0)
		result("SENDFAIL %s", errname(r));
	report_reply(fd);
}

/* HELLO, then the client goes away without reading the HELLO_ACK; then a second connection
 * must still be served (HELLO, STATUS_REQ -> STATUS). */
static void c_hello_then_close(int argc, char **argv)
{
	struct dpdkmp_hello h = { .client_pid = (uint32_t)getpid() };
	int fd = connect_server(0), r;

	(void)argc, (void)argv;
	if ((r = dpdkmp_send(fd, DPDKMP_MSG_HELLO, &h, sizeof(h), NULL, 0)) < 0)
		result("SENDFAIL %s", errname(r));
	close(fd);
	fd = connect_server(0);
	hello(fd);
	if ((r = dpdkmp_send(fd, DPDKMP_MSG_STATUS_REQ, NULL, 0, NULL, 0)) < 0)
		result("SENDFAIL %s STATUS_REQ", errname(r));
	r = await(fd, timeout_ms);
	if (r == 1 && msg.hdr.type == DPDKMP_MSG_STATUS)
		result("ALIVE");
	result("DEAD %s", r == 1 ? dpdkmp_msg_name(msg.hdr.type) : r == 0 ? "closed" : errname(r));
}

static void c_spawn_without_hello(int argc, char **argv)
{
	int fd = connect_server(0);
	char *args[] = { "/proc/self/exe", NULL };
	size_t plen;

	(void)argc, (void)argv;
	if (dpdkmp_spawn_encode(payload, sizeof(payload), &plen, "/", args, NULL) < 0)
		result("SETUP encode");
	spawn_and_report(fd, payload, plen, open_or_die("/proc/self/exe", O_RDONLY),
			 DPDKMP_SPAWN_FDS, DPDKMP_SPAWN_FDS);
}

static void c_argv_over(int argc, char **argv)
{
	int fd = connect_server(0);
	size_t plen = spawn_by_hand("/proc/self/exe", DPDKMP_MAX_ARGS + 1, "a", 0, NULL);

	(void)argc, (void)argv;
	hello(fd);
	spawn_and_report(fd, payload, plen, open_or_die("/proc/self/exe", O_RDONLY),
			 DPDKMP_SPAWN_FDS, DPDKMP_SPAWN_FDS);
}

static void c_env_over(int argc, char **argv)
{
	int fd = connect_server(0);
	size_t plen = spawn_by_hand("/proc/self/exe", 1, NULL, DPDKMP_MAX_ENV + 1, "V=1");

	(void)argc, (void)argv;
	hello(fd);
	spawn_and_report(fd, payload, plen, open_or_die("/proc/self/exe", O_RDONLY),
			 DPDKMP_SPAWN_FDS, DPDKMP_SPAWN_FDS);
}

static void c_string_over(int argc, char **argv)
{
	static char big[5001];
	int fd = connect_server(0);
	size_t plen;

	(void)argc, (void)argv;
	memset(big, 'A', sizeof(big) - 1);
	plen = spawn_by_hand("/proc/self/exe", 2, big, 0, NULL);
	hello(fd);
	spawn_and_report(fd, payload, plen, open_or_die("/proc/self/exe", O_RDONLY),
			 DPDKMP_SPAWN_FDS, DPDKMP_SPAWN_FDS);
}

/* A valid SPAWN payload with a given exe fd and fd counts. */
static void spawn_fds(int exe_fd, uint32_t hdr_nfds, unsigned int nfds) __attribute__((noreturn));
static void spawn_fds(int exe_fd, uint32_t hdr_nfds, unsigned int nfds)
{
	int fd = connect_server(0);
	char *args[] = { "/proc/self/exe", NULL };
	size_t plen;

	if (dpdkmp_spawn_encode(payload, sizeof(payload), &plen, "/", args, NULL) < 0)
		result("SETUP encode");
	hello(fd);
	spawn_and_report(fd, payload, plen, exe_fd, hdr_nfds, nfds);
}

static void c_too_many_fds(int argc, char **argv)
{
	unsigned int n = argc > 0 ? (unsigned int)atoi(argv[0]) : DPDKMP_SPAWN_FDS + 1;

	/* The header tells the truth about the count; the type allows 4. */
	spawn_fds(open_or_die("/proc/self/exe", O_RDONLY), n, n);
}

static void c_wrong_fd_count(int argc, char **argv)
{
	(void)argc, (void)argv;
	spawn_fds(open_or_die("/proc/self/exe", O_RDONLY), DPDKMP_SPAWN_FDS, DPDKMP_SPAWN_FDS - 1);
}

static void c_exe_socket(int argc, char **argv)
{
	int sp[2];

	(void)argc, (void)argv;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		result("SETUP socketpair: %s", strerror(errno));
	spawn_fds(sp[0], DPDKMP_SPAWN_FDS, DPDKMP_SPAWN_FDS);
}

static void c_exe_dir(int argc, char **argv)
{
	spawn_fds(open_or_die(argc > 0 ? argv[0] : "/", O_RDONLY | O_DIRECTORY), DPDKMP_SPAWN_FDS,
		  DPDKMP_SPAWN_FDS);
}

/* PATH must really be what the case says, or its verdict would mean nothing. */
static void c_exe_world_writable(int argc, char **argv)
{
	struct stat st;
	int fd;

	if (argc < 1)
		result("SETUP usage: exe-world-writable PATH [ARGS]");
	if (stat(argv[0], &st) < 0 || !(st.st_mode & S_IWOTH))
		result("SETUP %s is not writable by others", argv[0]);
	fd = connect_server(0);
	hello(fd);
	spawn_path(fd, argv[0], argc - 1, argv + 1);
}

static void c_exe_not_owned(int argc, char **argv)
{
	struct stat st;
	int fd;

	if (argc < 1)
		result("SETUP usage: exe-not-owned PATH [ARGS]");
	if (stat(argv[0], &st) < 0 || st.st_uid == 0 || st.st_uid == getuid() ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)))
		result("SETUP %s must be owned by another uid than 0 and ours, not writable by others",
		       argv[0]);
	fd = connect_server(0);
	hello(fd);
	spawn_path(fd, argv[0], argc - 1, argv + 1);
}

/* A normal spawn: the child's stdout and stderr are our stderr, so that stdout holds only the
 * result line. */
static void c_good(int argc, char **argv)
{
	char **av, cwd[PATH_MAX];
	size_t plen;
	uint64_t t0 = now_ms();
	struct dpdkmp_spawned sp;
	int fd, r, fds[4];

	if (argc < 1)
		result("SETUP usage: good PATH [ARGS]");
	av = calloc((size_t)argc + 1, sizeof(char *));
	if (!av)
		result("SETUP out of memory");
	for (int i = 0; i < argc; i++)
		av[i] = argv[i];
	if (!getcwd(cwd, sizeof(cwd)))
		strcpy(cwd, "/");
	if ((r = dpdkmp_spawn_encode(payload, sizeof(payload), &plen, cwd, av, environ)) < 0)
		result("SETUP encode: %s", errname(r));
	fds[0] = open_or_die(argv[0], O_RDONLY);
	fds[1] = open_or_die("/dev/null", O_RDONLY);
	fds[2] = STDERR_FILENO;
	fds[3] = STDERR_FILENO;
	fd = connect_server(0);
	hello(fd);
	if ((r = dpdkmp_send(fd, DPDKMP_MSG_SPAWN, payload, (uint32_t)plen, fds, 4)) < 0)
		result("SENDFAIL %s", errname(r));
	r = await(fd, timeout_ms);
	if (r != 1 || msg.hdr.type != DPDKMP_MSG_SPAWNED) {
		if (r == 1 && msg.hdr.type == DPDKMP_MSG_ERROR) {
			int err;
			const char *t;
			uint32_t tl;

			if (dpdkmp_error_decode(msg.payload, msg.hdr.len, &err, &t, &tl) == 0)
				result("ERROR %s %.*s", errname(err), (int)tl, t);
		}
		result("%s", r == 1 ? dpdkmp_msg_name(msg.hdr.type) : r == 0 ? "CLOSED" :
		       r == -ETIMEDOUT ? "TIMEOUT" : errname(r));
	}
	memcpy(&sp, msg.payload, sizeof(sp));
	r = await(fd, timeout_ms);
	if (r == 1 && msg.hdr.type == DPDKMP_MSG_EXITED) {
		struct dpdkmp_exited e;

		memcpy(&e, msg.payload, sizeof(e));
		result("EXITED %s=%u pid=%u ms=%llu", e.how == DPDKMP_EXIT_CODE ? "code" : "signal",
		       e.value, sp.pid, (unsigned long long)(now_ms() - t0));
	}
	result("SPAWNED pid=%u no EXITED: %s", sp.pid, r == 1 ? dpdkmp_msg_name(msg.hdr.type) :
	       r == 0 ? "closed" : errname(r));
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* N connections that never send a byte, held SECS seconds. The server must close each one
 * (ERROR ETIMEDOUT) about 10 s after accepting it, and keep serving others meanwhile. */
static void c_slowloris(int argc, char **argv)
{
	int n = argc > 0 ? atoi(argv[0]) : 100, secs = argc > 1 ? atoi(argv[1]) : 12;
	int connected = 0, closed = 0, etimedout = 0, other = 0;
	struct pollfd *p;
	uint64_t t0, end, first = 0, last = 0;

	if (n <= 0 || secs <= 0)
		result("SETUP usage: slowloris N SECS");
	raise_nofile();
	p = calloc((size_t)n, sizeof(*p));
	if (!p)
		result("SETUP out of memory");
	t0 = now_ms();
	for (int i = 0; i < n; i++) {
		int fd = connect_server(1);

		p[i] = (struct pollfd){ .fd = fd < 0 ? -1 : fd, .events = POLLIN };
		connected += fd >= 0;
	}
	/* Readiness marker for the test: it starts its good spawn now. */
	fprintf(stderr, "slowloris: %d connections open after %llu ms\n", connected,
		(unsigned long long)(now_ms() - t0));
	end = t0 + (uint64_t)secs * 1000;
	while (now_ms() < end && closed < connected) {
		int r = poll(p, (nfds_t)n, (int)(end - now_ms()));

		if (r <= 0)
			continue;
		for (int i = 0; i < n; i++) {
			int e;

			if (!p[i].revents || p[i].fd < 0)
				continue;
			e = await(p[i].fd, 0);
			if (e == 1 && msg.hdr.type == DPDKMP_MSG_ERROR) {
				struct dpdkmp_error er;

				memcpy(&er, msg.payload, sizeof(er));
				if (er.err == ETIMEDOUT)
					etimedout++;
				else
					other++;
				continue;       /* the close follows */
			}
			if (e == -ETIMEDOUT)
				continue;
			if (e == 1)
				other++;
			close(p[i].fd);
			p[i].fd = -1;
			closed++;
			last = now_ms() - t0;
			if (!first)
				first = last;
		}
	}
	result("COUNT closed=%d of=%d connected=%d etimedout=%d other=%d first_ms=%llu last_ms=%llu",
	       closed, n, connected, etimedout, other, (unsigned long long)first,
	       (unsigned long long)last);
}

/* N idle connections (more than the server takes), then one more that sends HELLO at once,
 * as the launcher does: a refusal must reach it as an ERROR saying why. */
static void c_over_capacity(int argc, char **argv)
{
	int n = argc > 0 ? atoi(argv[0]) : 330, fd, r;
	struct dpdkmp_hello h = { .client_pid = (uint32_t)getpid() };

	if (n <= 0)
		result("SETUP usage: over-capacity N");
	raise_nofile();
	for (int i = 0; i < n; i++)
		connect_server(1);      /* held until exit */
	usleep(200000);                 /* let the server accept them all */
	fd = connect_server(0);
	if ((r = dpdkmp_send(fd, DPDKMP_MSG_HELLO, &h, sizeof(h), NULL, 0)) < 0)
		result("SENDFAIL %s", errname(r));
	report_reply(fd);
}

/* N sequential connections, each HELLO then STATUS_REQ (status), a SPAWN whose exe is
 * /dev/null (badspawn: ERROR ENOEXEC, nothing forked), or both in turn (mixed). */
static void c_flood(int argc, char **argv)
{
	int n = argc > 0 ? atoi(argv[0]) : 1000, good = 0, fails = 0;
	const char *mode = argc > 1 ? argv[1] : "mixed";
	char first_fail[160] = "";
	uint64_t t0 = now_ms();
	char *args[] = { "/dev/null", NULL };
	size_t plen;

	if (dpdkmp_spawn_encode(payload, sizeof(payload), &plen, "/", args, NULL) < 0)
		result("SETUP encode");
	for (int i = 0; i < n; i++) {
		int bad = !strcmp(mode, "badspawn") || (!strcmp(mode, "mixed") && (i & 1));
		struct dpdkmp_hello h = { .client_pid = (uint32_t)getpid() };
		int fd = connect_server(1), r, okay = 0;

		if (fd < 0) {
			r = fd;
			goto failed;
		}
		if ((r = dpdkmp_send(fd, DPDKMP_MSG_HELLO, &h, sizeof(h), NULL, 0)) < 0 ||
		    (r = await(fd, timeout_ms)) != 1 || msg.hdr.type != DPDKMP_MSG_HELLO_ACK)
			goto failed;
		if (bad) {
			int null = open_or_die("/dev/null", O_RDWR), fds[4] = { null, null, null, null };

			r = dpdkmp_send(fd, DPDKMP_MSG_SPAWN, payload, (uint32_t)plen, fds, 4);
			close(null);
			if (r < 0 || (r = await(fd, timeout_ms)) != 1)
				goto failed;
			okay = msg.hdr.type == DPDKMP_MSG_ERROR &&
			       ((struct dpdkmp_error *)msg.payload)->err == ENOEXEC;
		} else {
			if ((r = dpdkmp_send(fd, DPDKMP_MSG_STATUS_REQ, NULL, 0, NULL, 0)) < 0 ||
			    (r = await(fd, timeout_ms)) != 1)
				goto failed;
			okay = msg.hdr.type == DPDKMP_MSG_STATUS;
		}
		/* ... and the server closes after the reply. */
		if (okay && (r = await(fd, timeout_ms)) == 0) {
			good++;
			close(fd);
			continue;
		}
failed:
		if (!first_fail[0])
			snprintf(first_fail, sizeof(first_fail), "first_failure=#%d:%s", i,
				 r == 1 ? dpdkmp_msg_name(msg.hdr.type) : r == 0 ? "closed" : errname(r));
		if (fd >= 0)
			close(fd);
		if (++fails >= 20)      /* the server is gone or wedged: stop, bounded */
			break;
	}
	result("COUNT ok=%d of=%d ms=%llu %s", good, n, (unsigned long long)(now_ms() - t0),
	       first_fail);
}

static const struct {
	const char *name;
	void (*fn)(int argc, char **argv);
} cases[] = {
	{ "truncated-header", c_truncated_header },
	{ "wrong-magic", c_wrong_magic },
	{ "future-version", c_future_version },
	{ "unknown-type", c_unknown_type },
	{ "type-after-hello", c_type_after_hello },
	{ "oversized-len", c_oversized_len },
	{ "short-payload", c_short_payload },
	{ "empty-record", c_empty_record },
	{ "hello-then-close", c_hello_then_close },
	{ "spawn-without-hello", c_spawn_without_hello },
	{ "argv-over", c_argv_over },
	{ "env-over", c_env_over },
	{ "string-over", c_string_over },
	{ "too-many-fds", c_too_many_fds },
	{ "wrong-fd-count", c_wrong_fd_count },
	{ "exe-socket", c_exe_socket },
	{ "exe-dir", c_exe_dir },
	{ "exe-world-writable", c_exe_world_writable },
	{ "exe-not-owned", c_exe_not_owned },
	{ "good", c_good },
	{ "slowloris", c_slowloris },
	{ "over-capacity", c_over_capacity },
	{ "flood", c_flood },
};

static void usage(void)
{
	fprintf(stderr, "usage: rawclient [-t SECS] SOCKET CASE [ARGS]\ncases:");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		fprintf(stderr, " %s", cases[i].name);
	fprintf(stderr, "\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int a = 1;

	if (argc > 2 && !strcmp(argv[1], "-t")) {
		timeout_ms = atoi(argv[2]) * 1000;
		if (timeout_ms <= 0)
			usage();
		a = 3;
	}
	if (argc - a < 2)
		usage();
	sock_path = argv[a];
	case_name = argv[a + 1];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (!strcmp(cases[i].name, case_name))
			cases[i].fn(argc - a - 2, argv + a + 2);
	usage();
}
