/* test_proto: unit tests of the wire protocol (proto.c) and of record transport with fd
 * passing (fdpass.c), the latter over real AF_UNIX SOCK_SEQPACKET socketpairs. Wire sizes are
 * written here as literals on purpose: a change of a struct must show up as a failing test. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "harness.h"
#include "proto.h"
#include "fdpass.h"

/* ---- helpers ---------------------------------------------------------------------------- */

/* What docs/PROTOCOL.md promises for each type: fixed part, exact or not, fd count. */
static const struct {
	uint16_t type;
	const char *name;
	uint32_t len;
	int exact;
	uint32_t nfds;
} wire[] = {
	{ DPDKMP_MSG_HELLO,      "HELLO",      8,   1, 0 },
	{ DPDKMP_MSG_HELLO_ACK,  "HELLO_ACK",  32,  1, 0 },
	{ DPDKMP_MSG_SPAWN,      "SPAWN",      16,  0, 4 },
	{ DPDKMP_MSG_SPAWNED,    "SPAWNED",    8,   1, 0 },
	{ DPDKMP_MSG_EXITED,     "EXITED",     16,  1, 0 },
	{ DPDKMP_MSG_ERROR,      "ERROR",      8,   0, 0 },
	{ DPDKMP_MSG_SIGNAL,     "SIGNAL",     8,   1, 0 },
	{ DPDKMP_MSG_STATUS_REQ, "STATUS_REQ", 0,   1, 0 },
	{ DPDKMP_MSG_STATUS,     "STATUS",     560, 0, 0 },
	{ DPDKMP_MSG_WINDOWS,    "WINDOWS",    272, 0, 0 },
	{ DPDKMP_MSG_RELAY_SPAWN,  "RELAY_SPAWN",  64, 0, 4 },
	{ DPDKMP_MSG_RELAY_SIGNAL, "RELAY_SIGNAL", 16, 1, 0 },
	{ DPDKMP_MSG_RELAY_HANGUP, "RELAY_HANGUP", 8,  1, 0 },
	{ DPDKMP_MSG_RELAY_STATUS, "RELAY_STATUS", 8,  1, 0 },
	{ DPDKMP_MSG_RELAY_REPLY,  "RELAY_REPLY",  8,  0, 0 },
	{ DPDKMP_MSG_SEGMENTS,     "SEGMENTS",     8,  0, 0 },  /* 0 to 4 fds */
};
#define NWIRE (sizeof(wire) / sizeof(wire[0]))

static struct dpdkmp_hdr mkhdr(uint16_t type, uint32_t len, uint32_t nfds)
{
	struct dpdkmp_hdr h = {
		.magic = DPDKMP_MAGIC, .version = DPDKMP_PROTO_VERSION,
		.type = type, .len = len, .nfds = nfds,
	};
	return h;
}

static int hdr_check(uint16_t type, uint32_t len, uint32_t nfds)
{
	struct dpdkmp_hdr h = mkhdr(type, len, nfds);

	return dpdkmp_hdr_check(&h, nfds);
}

/* Number of open fds of this process. */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	ASSERT_TRUE(d != NULL);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static int fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static void seqpair(int sv[2])
{
	int sz = 1 << 20;

	ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	/* Large enough for a record over the maximum, whatever the sysctl defaults are. */
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
}

/* n distinct files (memfds: each its own inode). */
static void open_files(int *fds, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		fds[i] = memfd_create("test_proto", MFD_CLOEXEC);
		ASSERT_GE(fds[i], 0);
	}
}

static void close_files(int *fds, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

/* One sendmsg of arbitrary bytes with n fds: what a hostile peer can do. */
static void send_raw(int sock, const void *buf, size_t len, const int *fds, unsigned int n)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 16)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	ASSERT_LE(n, 16);
	if (n) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	}
	ASSERT_EQ(sendmsg(sock, &mh, MSG_NOSIGNAL), (ssize_t)len);
}

/* Sends a header (plus pad payload bytes) with n fds. */
static void send_hdr_raw(int sock, struct dpdkmp_hdr h, size_t pad, const int *fds, unsigned int n)
{
	uint8_t *buf = calloc(1, sizeof(h) + pad);

	ASSERT_TRUE(buf != NULL);
	memcpy(buf, &h, sizeof(h));
	send_raw(sock, buf, sizeof(h) + pad, fds, n);
	free(buf);
}

static struct dpdkmp_msg msg;   /* 60 KiB: not on the stack */

/* After a failed dpdkmp_recv the record must own nothing. */
static void assert_msg_empty(const struct dpdkmp_msg *m)
{
	ASSERT_EQ(m->nfds, 0);
	for (unsigned int i = 0; i < DPDKMP_MAX_FDS; i++)
		ASSERT_EQ(m->fds[i], -1);
}

/* Nothing is waiting on sock. */
static void assert_nothing_queued(int sock)
{
	char b;

	ASSERT_EQ(recv(sock, &b, 1, MSG_DONTWAIT), -1);
	ASSERT_EQ(errno, EAGAIN);
}

/* A SPAWN payload, built by hand: header fields then body bytes. */
static size_t build_spawn(uint8_t *buf, uint32_t argc, uint32_t envc, uint32_t cwd_len,
			  uint32_t flags, const char *body, size_t body_len)
{
	struct dpdkmp_spawn s = { .argc = argc, .envc = envc, .cwd_len = cwd_len, .flags = flags };

	memcpy(buf, &s, sizeof(s));
	memcpy(buf + sizeof(s), body, body_len);
	return sizeof(s) + body_len;
}

/* Decodes a copy of exactly len bytes on the heap, so that ASan/valgrind see any overread. */
static int decode_copy(const void *p, size_t len, struct dpdkmp_spawn_req *out)
{
	void *c = malloc(len ? len : 1);
	int ret;

	ASSERT_TRUE(c != NULL);
	memcpy(c, p, len);
	ret = dpdkmp_spawn_decode(c, len, out);
	free(c);
	return ret;
}

/* A decode that must fail with err and leave out untouched. */
static void expect_decode_fails(const void *p, size_t len, int err)
{
	struct dpdkmp_spawn_req r;

	memset(&r, 0xa5, sizeof(r));
	ASSERT_EQ(decode_copy(p, len, &r), err);
	ASSERT_EQ(r.argc, 0xa5a5a5a5u);
	ASSERT_EQ((uintptr_t)r.buf, (uintptr_t)0xa5a5a5a5a5a5a5a5ull);
}

static char *const sample_argv[] = { "/usr/bin/prog", "-l", "0-1", "", "with space", NULL };
static char *const sample_env[] = { "PATH=/usr/bin", "EMPTY=", "EQ==x", NULL };
static const char sample_cwd[] = "/srv/dir with space";

static size_t encode_sample(uint8_t *buf, size_t cap)
{
	size_t len = 0;

	ASSERT_EQ(dpdkmp_spawn_encode(buf, cap, &len, sample_cwd, sample_argv, sample_env), 0);
	return len;
}

static uint8_t pbuf[DPDKMP_MAX_PAYLOAD + 4096];

/* ---- header checks ---------------------------------------------------------------------- */

TEST(hdr_good_each_type)
{
	ASSERT_EQ(NWIRE, DPDKMP_MSG_MAX);
	for (size_t i = 0; i < NWIRE; i++) {
		ASSERT_EQ(hdr_check(wire[i].type, wire[i].len, wire[i].nfds), 0);
		ASSERT_STREQ(dpdkmp_msg_name(wire[i].type), wire[i].name);
	}
	ASSERT_STREQ(dpdkmp_msg_name(0), "UNKNOWN");
	ASSERT_STREQ(dpdkmp_msg_name(DPDKMP_MSG_MAX + 1), "UNKNOWN");
	ASSERT_STREQ(dpdkmp_msg_name(0xffff), "UNKNOWN");
}

TEST(hdr_wire_sizes)
{
	ASSERT_EQ(sizeof(struct dpdkmp_hdr), 16);
	ASSERT_EQ(DPDKMP_MAGIC, 0x504d5044u);
	ASSERT_EQ(memcmp(&(uint32_t){ DPDKMP_MAGIC }, "DPMP", 4), 0);
	ASSERT_EQ(sizeof(struct dpdkmp_window), 88);
	ASSERT_EQ(sizeof(struct dpdkmp_child_info), 152);
	ASSERT_EQ(DPDKMP_MAX_PAYLOAD, 61440);
}

TEST(hdr_wrong_magic)
{
	struct dpdkmp_hdr h = mkhdr(DPDKMP_MSG_HELLO, 8, 0);

	h.magic = 0x44504d50u;          /* byte-swapped */
	ASSERT_EQ(dpdkmp_hdr_check(&h, 0), -EBADMSG);
	h.magic = 0;
	ASSERT_EQ(dpdkmp_hdr_check(&h, 0), -EBADMSG);
	h.magic = DPDKMP_MAGIC ^ 1;
	ASSERT_EQ(dpdkmp_hdr_check(&h, 0), -EBADMSG);
}

TEST(hdr_version)
{
	struct dpdkmp_hdr h = mkhdr(DPDKMP_MSG_HELLO, 8, 0);

	h.version = DPDKMP_PROTO_VERSION + 1;
	ASSERT_EQ(dpdkmp_hdr_check(&h, 0), -EPROTONOSUPPORT);
	h.version = 0xffff;
	ASSERT_EQ(dpdkmp_hdr_check(&h, 0), -EPROTONOSUPPORT);
	h.version = 0;
	ASSERT_EQ(dpdkmp_hdr_check(&h, 0), -EPROTONOSUPPORT);
	/* A future version is reported as such even if the rest is unknown to us. */
	h = mkhdr(0x7777, DPDKMP_MAX_PAYLOAD + 1, 3);
	h.version = 2;
	ASSERT_EQ(dpdkmp_hdr_check(&h, 3), -EPROTONOSUPPORT);
}

TEST(hdr_unknown_type)
{
	ASSERT_EQ(hdr_check(0, 0, 0), -EBADMSG);
	ASSERT_EQ(hdr_check(DPDKMP_MSG_MAX + 1, 0, 0), -EBADMSG);
	ASSERT_EQ(hdr_check(0xffff, 8, 0), -EBADMSG);
}

TEST(hdr_oversized_len)
{
	/* Variable-size types accept up to the maximum and not one byte more. */
	ASSERT_EQ(hdr_check(DPDKMP_MSG_STATUS, DPDKMP_MAX_PAYLOAD, 0), 0);
	ASSERT_EQ(hdr_check(DPDKMP_MSG_STATUS, DPDKMP_MAX_PAYLOAD + 1, 0), -EMSGSIZE);
	ASSERT_EQ(hdr_check(DPDKMP_MSG_SPAWN, DPDKMP_MAX_PAYLOAD, 4), 0);
	ASSERT_EQ(hdr_check(DPDKMP_MSG_SPAWN, DPDKMP_MAX_PAYLOAD + 1, 4), -EMSGSIZE);
	ASSERT_EQ(hdr_check(DPDKMP_MSG_WINDOWS, UINT32_MAX, 0), -EMSGSIZE);
	ASSERT_EQ(hdr_check(DPDKMP_MSG_HELLO, UINT32_MAX, 0), -EMSGSIZE);
}

TEST(hdr_exact_lengths)
{
	for (size_t i = 0; i < NWIRE; i++) {
		uint16_t t = wire[i].type;
		uint32_t l = wire[i].len, n = wire[i].nfds;

		if (l > 0)
			ASSERT_EQ(hdr_check(t, l - 1, n), -EBADMSG);
		ASSERT_EQ(hdr_check(t, 0, n), l == 0 ? 0 : -EBADMSG);
		ASSERT_EQ(hdr_check(t, l + 1, n), wire[i].exact ? -EBADMSG : 0);
		ASSERT_EQ(hdr_check(t, l + 1000, n), wire[i].exact ? -EBADMSG : 0);
	}
}

TEST(hdr_fd_counts)
{
	/* SPAWN takes exactly 4. */
	for (uint32_t n = 0; n <= 8; n++)
		ASSERT_EQ(hdr_check(DPDKMP_MSG_SPAWN, 64, n), n == 4 ? 0 : -EBADMSG);
	/* SEGMENTS takes 0 to 4 (an ADD's files), never more. */
	for (uint32_t n = 0; n <= 8; n++)
		ASSERT_EQ(hdr_check(DPDKMP_MSG_SEGMENTS, 48, n), n <= 4 ? 0 : -EBADMSG);
	/* Every other type takes exactly its own count: 4 for the spawns, none elsewhere. */
	for (size_t i = 0; i < NWIRE; i++) {
		if (wire[i].type == DPDKMP_MSG_SEGMENTS)
			continue;
		ASSERT_EQ(hdr_check(wire[i].type, wire[i].len, 1), -EBADMSG);
		ASSERT_EQ(hdr_check(wire[i].type, wire[i].len, wire[i].nfds ? 0 : 4), -EBADMSG);
	}
}

TEST(hdr_nfds_must_match_received)
{
	struct dpdkmp_hdr h = mkhdr(DPDKMP_MSG_SPAWN, 64, 4);

	ASSERT_EQ(dpdkmp_hdr_check(&h, 4), 0);
	ASSERT_EQ(dpdkmp_hdr_check(&h, 3), -EBADMSG);
	ASSERT_EQ(dpdkmp_hdr_check(&h, 5), -EBADMSG);
	ASSERT_EQ(dpdkmp_hdr_check(&h, 0), -EBADMSG);
	h = mkhdr(DPDKMP_MSG_HELLO, 8, 0);
	ASSERT_EQ(dpdkmp_hdr_check(&h, 1), -EBADMSG);
}

TEST(hdr_error_message_bound)
{
	ASSERT_EQ(hdr_check(DPDKMP_MSG_ERROR, 8 + DPDKMP_MAX_ERRMSG, 0), 0);
	ASSERT_EQ(hdr_check(DPDKMP_MSG_ERROR, 8 + DPDKMP_MAX_ERRMSG + 1, 0), -EMSGSIZE);
}

/* ---- SPAWN encode/decode ---------------------------------------------------------------- */

TEST(spawn_round_trip)
{
	struct dpdkmp_spawn_req r;
	struct dpdkmp_spawn s;
	size_t len = encode_sample(pbuf, sizeof(pbuf)), want = 16 + sizeof(sample_cwd);

	for (int i = 0; sample_argv[i]; i++)
		want += strlen(sample_argv[i]) + 1;
	for (int i = 0; sample_env[i]; i++)
		want += strlen(sample_env[i]) + 1;
	ASSERT_EQ(len, want);
	memcpy(&s, pbuf, sizeof(s));
	ASSERT_EQ(s.argc, 5);
	ASSERT_EQ(s.envc, 3);
	ASSERT_EQ(s.cwd_len, sizeof(sample_cwd));
	ASSERT_EQ(s.flags, 0);
	ASSERT_EQ(memcmp(pbuf + 16, sample_cwd, sizeof(sample_cwd)), 0);

	ASSERT_EQ(decode_copy(pbuf, len, &r), 0);
	ASSERT_STREQ(r.cwd, sample_cwd);
	ASSERT_EQ(r.argc, 5);
	ASSERT_EQ(r.envc, 3);
	for (int i = 0; i < 5; i++)
		ASSERT_STREQ(r.argv[i], sample_argv[i]);
	ASSERT_TRUE(r.argv[5] == NULL);
	for (int i = 0; i < 3; i++)
		ASSERT_STREQ(r.envp[i], sample_env[i]);
	ASSERT_TRUE(r.envp[3] == NULL);
	dpdkmp_spawn_req_free(&r);
	ASSERT_TRUE(r.buf == NULL && r.argv == NULL && r.envp == NULL);
	dpdkmp_spawn_req_free(&r);      /* twice is harmless */
}

TEST(spawn_round_trip_no_env)
{
	char *argv[] = { "x", NULL };
	char *envp[] = { NULL };
	struct dpdkmp_spawn_req r;
	size_t len = 0;

	ASSERT_EQ(dpdkmp_spawn_encode(pbuf, sizeof(pbuf), &len, "/", argv, NULL), 0);
	ASSERT_EQ(len, 16 + 2 + 2);
	ASSERT_EQ(decode_copy(pbuf, len, &r), 0);
	ASSERT_EQ(r.argc, 1);
	ASSERT_EQ(r.envc, 0);
	ASSERT_STREQ(r.cwd, "/");
	ASSERT_STREQ(r.argv[0], "x");
	ASSERT_TRUE(r.envp != NULL && r.envp[0] == NULL);
	dpdkmp_spawn_req_free(&r);
	ASSERT_EQ(dpdkmp_spawn_encode(pbuf, sizeof(pbuf), &len, "/", argv, envp), 0);
	ASSERT_EQ(len, 16 + 2 + 2);
}

TEST(spawn_round_trip_at_limits)
{
	static char *argv[DPDKMP_MAX_ARGS + 1], *envp[DPDKMP_MAX_ENV + 1];
	char *big = malloc(DPDKMP_MAX_STRING);
	struct dpdkmp_spawn_req r;
	size_t len = 0;

	/* A string of DPDKMP_MAX_STRING bytes with its NUL, 1024 args, 2048 variables. */
	ASSERT_TRUE(big != NULL);
	memset(big, 'a', DPDKMP_MAX_STRING - 1);
	big[DPDKMP_MAX_STRING - 1] = '\0';
	argv[0] = big;
	for (unsigned int i = 1; i < DPDKMP_MAX_ARGS; i++)
		argv[i] = "a";
	for (unsigned int i = 0; i < DPDKMP_MAX_ENV; i++)
		envp[i] = "A=";
	ASSERT_EQ(dpdkmp_spawn_encode(pbuf, sizeof(pbuf), &len, "/", argv, envp), 0);
	ASSERT_EQ(len, 16 + 2 + DPDKMP_MAX_STRING + 2 * (DPDKMP_MAX_ARGS - 1) + 3 * DPDKMP_MAX_ENV);
	ASSERT_EQ(decode_copy(pbuf, len, &r), 0);
	ASSERT_EQ(r.argc, DPDKMP_MAX_ARGS);
	ASSERT_EQ(r.envc, DPDKMP_MAX_ENV);
	ASSERT_EQ(strlen(r.argv[0]), DPDKMP_MAX_STRING - 1);
	ASSERT_STREQ(r.argv[DPDKMP_MAX_ARGS - 1], "a");
	ASSERT_STREQ(r.envp[DPDKMP_MAX_ENV - 1], "A=");
	ASSERT_TRUE(r.argv[DPDKMP_MAX_ARGS] == NULL);
	dpdkmp_spawn_req_free(&r);
	free(big);
}

TEST(spawn_encode_invalid)
{
	char *argv[] = { "x", NULL }, *empty[] = { NULL };
	size_t len = 12345;

	ASSERT_EQ(dpdkmp_spawn_encode(pbuf, sizeof(pbuf), &len, NULL, argv, NULL), -EINVAL);
	ASSERT_EQ(dpdkmp_spawn_encode(pbuf, sizeof(pbuf), &len, "/", NULL, NULL), -EINVAL);
	ASSERT_EQ(dpdkmp_spawn_encode(pbuf, sizeof(pbuf), &len, "/", empty, NULL), -EINVAL);
	ASSERT_EQ(dpdkmp_spawn_encode(pbuf, 15, &len, "/", argv, NULL), -EINVAL);
	ASSERT_EQ(len, 12345);  /* out-parameter untouched on error */
}

TEST(spawn_encode_small_buffer)
{
	size_t full = encode_sample(pbuf, sizeof(pbuf)), len = 777;
	uint8_t *b = malloc(full);

	ASSERT_TRUE(b != NULL);
	for (size_t cap = 16; cap < full; cap++) {
		int ret = dpdkmp_spawn_encode(b, cap, &len, sample_cwd, sample_argv, sample_env);

		if (ret != -E2BIG)
			TH_LOG("cap %zu of %zu", cap, full);
		ASSERT_EQ(ret, -E2BIG);
		ASSERT_EQ(len, 777);
	}
	ASSERT_EQ(dpdkmp_spawn_encode(b, full, &len, sample_cwd, sample_argv, sample_env), 0);
	ASSERT_EQ(len, full);
	ASSERT_EQ(memcmp(b, pbuf, full), 0);
	free(b);
}

TEST(spawn_encode_over_limits)
{
	static char *argv[DPDKMP_MAX_ARGS + 2], *envp[DPDKMP_MAX_ENV + 2];
	char *toolong = malloc(DPDKMP_MAX_STRING + 1), *big = malloc(4000);
	char *one[] = { "x", NULL }, *two[] = { NULL, NULL };
	size_t len = 0;

	ASSERT_TRUE(toolong != NULL && big != NULL);
	memset(toolong, 'b', DPDKMP_MAX_STRING);
	toolong[DPDKMP_MAX_STRING] = '\0';      /* DPDKMP_MAX_STRING + 1 with its NUL */

	/* one argument, one variable, the cwd over DPDKMP_MAX_STRING */
	two[0] = toolong;
	ASSERT_EQ(dpdkmp_spawn_encode(pbuf, sizeof(pbuf), &len, "/", two, NULL), -E2BIG);
	toolong[1] = '=';
	ASSERT_EQ(dpdkmp_spawn_encode(pbuf, sizeof(pbuf), &len, "/", one, two), -E2BIG);
	/* what the decoder would refuse is not encoded either */
	ASSERT_EQ(dpdkmp_spawn_encode(pbuf, sizeof(pbuf), &len, "relative", one, NULL), -EINVAL);
	two[0] = "NOEQUALS";
	ASSERT_EQ(dpdkmp_spawn_encode(pbuf, sizeof(pbuf), &len, "/", one, two), -EINVAL);
	toolong[0] = '/';
	ASSERT_EQ(dpdkmp_spawn_encode(pbuf, sizeof(pbuf), &len, toolong, one, NULL), -E2BIG);

	/* DPDKMP_MAX_ARGS + 1 arguments, DPDKMP_MAX_ENV + 1 variables */
	for (unsigned int i = 0; i <= DPDKMP_MAX_ARGS; i++)
		argv[i] = "a";
	ASSERT_EQ(dpdkmp_spawn_encode(pbuf, sizeof(pbuf), &len, "/", argv, NULL), -E2BIG);
	for (unsigned int i = 0; i <= DPDKMP_MAX_ENV; i++)
		envp[i] = "A=";
	ASSERT_EQ(dpdkmp_spawn_encode(pbuf, sizeof(pbuf), &len, "/", one, envp), -E2BIG);

	/* The whole payload over DPDKMP_MAX_PAYLOAD, although cap is larger */
	memset(big, 'c', 3999);
	big[3999] = '\0';
	for (unsigned int i = 0; i < 15; i++)
		argv[i] = big;
	argv[15] = NULL;
	ASSERT_EQ(dpdkmp_spawn_encode(pbuf, sizeof(pbuf), &len, "/", argv, NULL), 0);
	ASSERT_EQ(len, 16 + 2 + 15 * 4000);
	argv[15] = big;         /* 64018 bytes */
	argv[16] = NULL;
	ASSERT_EQ(dpdkmp_spawn_encode(pbuf, sizeof(pbuf), &len, "/", argv, NULL), -E2BIG);
	free(toolong);
	free(big);
}

TEST(spawn_decode_every_prefix)
{
	size_t full = encode_sample(pbuf, sizeof(pbuf));
	struct dpdkmp_spawn_req r;

	for (size_t l = 0; l < full; l++) {
		memset(&r, 0xa5, sizeof(r));
		if (decode_copy(pbuf, l, &r) != -EBADMSG)
			TH_LOG("prefix of %zu bytes of %zu", l, full);
		expect_decode_fails(pbuf, l, -EBADMSG);
	}
	ASSERT_EQ(decode_copy(pbuf, full, &r), 0);
	ASSERT_EQ(r.argc, 5);
	dpdkmp_spawn_req_free(&r);
}

TEST(spawn_decode_trailing_garbage)
{
	size_t full = encode_sample(pbuf, sizeof(pbuf));

	pbuf[full] = 'x';
	expect_decode_fails(pbuf, full + 1, -EBADMSG);
	pbuf[full] = '\0';
	expect_decode_fails(pbuf, full + 1, -EBADMSG);
	memset(pbuf + full, 0, 100);
	expect_decode_fails(pbuf, full + 100, -EBADMSG);
}

TEST(spawn_decode_lying_counts)
{
	size_t full = encode_sample(pbuf, sizeof(pbuf));
	struct dpdkmp_spawn *s = (struct dpdkmp_spawn *)pbuf;
	struct dpdkmp_spawn orig = *s;
	const uint32_t cwd_lens[] = { 0, 1, orig.cwd_len - 1, orig.cwd_len + 1,
				      DPDKMP_MAX_STRING + 1, (uint32_t)full, UINT32_MAX };

	s->argc = orig.argc + 1;        /* swallows the first variable as an argument */
	expect_decode_fails(pbuf, full, -EBADMSG);
	s->argc = orig.argc - 1;
	expect_decode_fails(pbuf, full, -EBADMSG);
	*s = orig;
	s->envc = orig.envc + 1;
	expect_decode_fails(pbuf, full, -EBADMSG);
	s->envc = orig.envc - 1;
	expect_decode_fails(pbuf, full, -EBADMSG);
	s->envc = 0;
	expect_decode_fails(pbuf, full, -EBADMSG);
	*s = orig;
	for (size_t i = 0; i < sizeof(cwd_lens) / sizeof(cwd_lens[0]); i++) {
		s->cwd_len = cwd_lens[i];
		expect_decode_fails(pbuf, full, -EBADMSG);
	}
	*s = orig;
	s->flags = 1;
	expect_decode_fails(pbuf, full, -EBADMSG);
	s->flags = 0x80000000u;
	expect_decode_fails(pbuf, full, -EBADMSG);
	*s = orig;
	struct dpdkmp_spawn_req r;
	ASSERT_EQ(decode_copy(pbuf, full, &r), 0);
	dpdkmp_spawn_req_free(&r);
}

TEST(spawn_decode_strings_without_nul)
{
	size_t full = encode_sample(pbuf, sizeof(pbuf));

	/* The last variable loses its NUL: it runs to the end of the payload. */
	pbuf[full - 1] = 'x';
	expect_decode_fails(pbuf, full, -EBADMSG);
	/* The cwd loses its NUL. */
	encode_sample(pbuf, sizeof(pbuf));
	pbuf[16 + sizeof(sample_cwd) - 1] = 'x';
	expect_decode_fails(pbuf, full, -EBADMSG);
	/* No NUL at all after the header. */
	memset(pbuf + 16, 'y', full - 16);
	expect_decode_fails(pbuf, full, -EBADMSG);
}

/* A literal body: "\0" is followed by a separate literal so that no octal escape forms. */
#define BODY(lit) (lit), sizeof(lit) - 1

TEST(spawn_decode_handmade)
{
	uint8_t b[256];
	struct dpdkmp_spawn_req r;
	size_t l;

	/* the smallest valid request */
	l = build_spawn(b, 1, 0, 2, 0, BODY("/\0" "p\0"));
	ASSERT_EQ(decode_copy(b, l, &r), 0);
	ASSERT_STREQ(r.cwd, "/");
	ASSERT_STREQ(r.argv[0], "p");
	dpdkmp_spawn_req_free(&r);
	/* an empty argv[0] is still an argument */
	l = build_spawn(b, 1, 1, 2, 0, BODY("/\0" "\0" "A=1\0"));
	ASSERT_EQ(decode_copy(b, l, &r), 0);
	ASSERT_STREQ(r.argv[0], "");
	ASSERT_STREQ(r.envp[0], "A=1");
	dpdkmp_spawn_req_free(&r);

	/* argc 0 */
	l = build_spawn(b, 0, 0, 2, 0, BODY("/\0"));
	expect_decode_fails(b, l, -EBADMSG);
	l = build_spawn(b, 0, 1, 2, 0, BODY("/\0" "A=1\0"));
	expect_decode_fails(b, l, -EBADMSG);
	/* relative or empty cwd */
	l = build_spawn(b, 1, 0, 4, 0, BODY("tmp\0" "p\0"));
	expect_decode_fails(b, l, -EBADMSG);
	l = build_spawn(b, 1, 0, 2, 0, BODY(".\0" "p\0"));
	expect_decode_fails(b, l, -EBADMSG);
	l = build_spawn(b, 1, 0, 1, 0, BODY("\0" "p\0"));
	expect_decode_fails(b, l, -EBADMSG);
	/* a NUL inside the cwd */
	l = build_spawn(b, 1, 0, 4, 0, BODY("/a\0b\0" "p\0"));
	expect_decode_fails(b, l, -EBADMSG);
	/* variables without '=' or with an empty name */
	l = build_spawn(b, 1, 1, 2, 0, BODY("/\0" "p\0" "NOEQUALS\0"));
	expect_decode_fails(b, l, -EBADMSG);
	l = build_spawn(b, 1, 1, 2, 0, BODY("/\0" "p\0" "=value\0"));
	expect_decode_fails(b, l, -EBADMSG);
	l = build_spawn(b, 1, 1, 2, 0, BODY("/\0" "p\0" "\0"));
	expect_decode_fails(b, l, -EBADMSG);
	l = build_spawn(b, 1, 2, 2, 0, BODY("/\0" "p\0" "A=1\0" "B\0"));
	expect_decode_fails(b, l, -EBADMSG);
	/* counts over the limits: refused before allocating anything */
	l = build_spawn(b, DPDKMP_MAX_ARGS + 1, 0, 2, 0, BODY("/\0" "p\0"));
	expect_decode_fails(b, l, -E2BIG);
	l = build_spawn(b, UINT32_MAX, 0, 2, 0, BODY("/\0" "p\0"));
	expect_decode_fails(b, l, -E2BIG);
	l = build_spawn(b, 1, DPDKMP_MAX_ENV + 1, 2, 0, BODY("/\0" "p\0"));
	expect_decode_fails(b, l, -E2BIG);
	l = build_spawn(b, 1, UINT32_MAX, 2, 0, BODY("/\0" "p\0"));
	expect_decode_fails(b, l, -E2BIG);
	/* counts within the limits but far more than the bytes hold */
	l = build_spawn(b, DPDKMP_MAX_ARGS, DPDKMP_MAX_ENV, 2, 0, BODY("/\0" "p\0"));
	expect_decode_fails(b, l, -EBADMSG);
}

TEST(spawn_decode_string_over_max)
{
	/* One argument of DPDKMP_MAX_STRING + 1 bytes with its NUL. */
	size_t body = 2 + DPDKMP_MAX_STRING + 1;
	char *b = calloc(1, body);
	size_t l;

	ASSERT_TRUE(b != NULL);
	b[0] = '/';
	memset(b + 2, 'a', DPDKMP_MAX_STRING);
	l = build_spawn(pbuf, 1, 0, 2, 0, b, body);
	expect_decode_fails(pbuf, l, -EBADMSG);
	/* One byte shorter fits. */
	b[2 + DPDKMP_MAX_STRING - 1] = '\0';
	l = build_spawn(pbuf, 1, 0, 2, 0, b, body - 1);
	struct dpdkmp_spawn_req r;
	ASSERT_EQ(decode_copy(pbuf, l, &r), 0);
	ASSERT_EQ(strlen(r.argv[0]), DPDKMP_MAX_STRING - 1);
	dpdkmp_spawn_req_free(&r);
	free(b);
}

TEST(spawn_decode_over_max_payload)
{
	expect_decode_fails(pbuf, DPDKMP_MAX_PAYLOAD + 1, -EBADMSG);
}

/* ---- WINDOWS and STATUS ----------------------------------------------------------------- */

static void fill_window(struct dpdkmp_window *w, uint64_t addr, uint64_t len, uint32_t kind,
			const char *name)
{
	memset(w, 0, sizeof(*w));
	w->addr = addr;
	w->len = len;
	w->kind = kind;
	snprintf(w->name, sizeof(w->name), "%s", name);
}

/* A WINDOWS payload with n windows in a heap buffer of exactly its size. */
#define WH sizeof(struct dpdkmp_windows)
#define SH sizeof(struct dpdkmp_status)

static uint8_t *make_windows(uint32_t n, size_t *len)
{
	struct dpdkmp_windows h = { .nwindows = n, .primary_pid = 42 };
	uint8_t *p;

	*len = WH + (size_t)n * 88;
	p = calloc(1, *len);
	ASSERT_TRUE(p != NULL);
	snprintf(h.runtime_dir, sizeof(h.runtime_dir), "/var/run/dpdk/rte");
	memcpy(p, &h, sizeof(h));
	for (uint32_t i = 0; i < n; i++)
		fill_window((struct dpdkmp_window *)(p + WH) + i, 0x100000000ull + i * 0x200000ull,
			    0x200000, i % 2 ? DPDKMP_WIN_RUNFILE : DPDKMP_WIN_MEMSEG,
			    i % 2 ? "fbarray_memseg-2048k-0-0" : "memseg-2048k-0-0");
	return p;
}

static void expect_windows_fails(const uint8_t *p, size_t len, int err)
{
	const struct dpdkmp_windows *h = (void *)1;
	const struct dpdkmp_window *w = (void *)1;

	ASSERT_EQ(dpdkmp_windows_decode(p, len, &h, &w), err);
	ASSERT_EQ((uintptr_t)h, 1);
	ASSERT_EQ((uintptr_t)w, 1);
}

TEST(windows_decode_good)
{
	const struct dpdkmp_windows *h = NULL;
	const struct dpdkmp_window *w = NULL;
	size_t len;
	uint8_t *p = make_windows(2, &len);

	ASSERT_EQ(dpdkmp_windows_decode(p, len, &h, &w), 0);
	ASSERT_EQ((uintptr_t)h, (uintptr_t)p);
	ASSERT_EQ((uintptr_t)w, (uintptr_t)(p + WH));
	ASSERT_EQ(h->nwindows, 2);
	ASSERT_STREQ(h->runtime_dir, "/var/run/dpdk/rte");
	ASSERT_EQ(w[1].addr, 0x100200000ull);
	ASSERT_STREQ(w[1].name, "fbarray_memseg-2048k-0-0");
	free(p);
	p = make_windows(0, &len);
	ASSERT_EQ(dpdkmp_windows_decode(p, len, &h, &w), 0);
	free(p);
	p = make_windows(DPDKMP_MAX_WINDOWS, &len);
	ASSERT_EQ(dpdkmp_windows_decode(p, len, &h, &w), 0);
	free(p);
}

TEST(windows_decode_wrong_counts)
{
	size_t len;
	uint8_t *p = make_windows(2, &len);
	struct dpdkmp_windows *h = (struct dpdkmp_windows *)p;

	h->nwindows = 3;
	expect_windows_fails(p, len, -EBADMSG);
	h->nwindows = 1;
	expect_windows_fails(p, len, -EBADMSG);
	h->nwindows = DPDKMP_MAX_WINDOWS + 1;
	expect_windows_fails(p, len, -E2BIG);
	h->nwindows = UINT32_MAX;
	expect_windows_fails(p, len, -E2BIG);
	h->nwindows = 2;
	expect_windows_fails(p, len - 1, -EBADMSG);
	expect_windows_fails(p, 263, -EBADMSG);
	expect_windows_fails(p, 0, -EBADMSG);
	free(p);
}

TEST(windows_decode_bad_fields)
{
	size_t len;
	uint8_t *p = make_windows(2, &len);
	struct dpdkmp_windows *h = (struct dpdkmp_windows *)p;
	struct dpdkmp_window *w = (struct dpdkmp_window *)(p + WH), saved = w[1];

	memset(h->runtime_dir, 'r', sizeof(h->runtime_dir));
	expect_windows_fails(p, len, -EBADMSG);
	free(p);
	p = make_windows(2, &len);
	w = (struct dpdkmp_window *)(p + WH);
	memset(w[1].name, 'n', sizeof(w[1].name));
	expect_windows_fails(p, len, -EBADMSG);
	w[1] = saved;
	w[1].len = 0;
	expect_windows_fails(p, len, -EBADMSG);
	w[1] = saved;
	w[1].kind = 0;
	expect_windows_fails(p, len, -EBADMSG);
	w[1].kind = 3;
	expect_windows_fails(p, len, -EBADMSG);
	w[1] = saved;
	w[1].addr += 1;
	expect_windows_fails(p, len, -EBADMSG);
	w[1] = saved;
	w[1].len = 4095;
	expect_windows_fails(p, len, -EBADMSG);
	w[1] = saved;
	w[1].addr = 0xfffffffffffff000ull;      /* addr + len wraps */
	expect_windows_fails(p, len, -EBADMSG);
	w[1] = saved;
	ASSERT_EQ(dpdkmp_windows_decode(p, len, &(const struct dpdkmp_windows *){ 0 },
					&(const struct dpdkmp_window *){ 0 }), 0);
	free(p);
}

TEST(windows_decode_misaligned)
{
	size_t len;
	uint8_t *p = make_windows(1, &len), *q = malloc(len + 8);

	ASSERT_TRUE(q != NULL);
	memcpy(q + 4, p, len);
	expect_windows_fails(q + 4, len, -EBADMSG);
	free(q);
	free(p);
}

/* A SEGMENTS payload of n segments (2 MiB pages from 0x100200000, fd index i % nfds). */
static uint8_t *make_segments(uint32_t op, uint32_t n, uint32_t nfds, size_t *len)
{
	struct dpdkmp_segments *h;
	struct dpdkmp_seg *s;
	uint8_t *p;

	*len = sizeof(*h) + n * sizeof(*s);
	p = calloc(1, *len);
	if (!p)
		abort();
	h = (struct dpdkmp_segments *)p;
	h->op = op;
	h->nsegs = n;
	s = (struct dpdkmp_seg *)(h + 1);
	for (uint32_t i = 0; i < n; i++)
		s[i] = (struct dpdkmp_seg){ .addr = 0x100200000ull + i * 0x200000ull, .len = 0x200000,
					    .offset = 0, .iova = 0x4000000ull * i, .fd = nfds ? i % nfds : 0 };
	return p;
}

static int segs_decode(const uint8_t *p, size_t len, uint32_t nfds)
{
	const struct dpdkmp_segments *h = (const void *)1;
	const struct dpdkmp_seg *s = (const void *)1;
	int ret = dpdkmp_segments_decode(p, len, nfds, &h, &s);

	/* out-parameters only on success */
	if (ret < 0 && ((uintptr_t)h != 1 || (uintptr_t)s != 1))
		return -999;
	return ret;
}

TEST(segments_decode_good)
{
	const struct dpdkmp_segments *h = NULL;
	const struct dpdkmp_seg *s = NULL;
	size_t len;
	uint8_t *p = make_segments(DPDKMP_SEGS_ADD, 3, 2, &len);

	ASSERT_EQ(sizeof(struct dpdkmp_segments), 8);
	ASSERT_EQ(sizeof(struct dpdkmp_seg), 40);
	ASSERT_EQ(dpdkmp_segments_decode(p, len, 2, &h, &s), 0);
	ASSERT_EQ((uintptr_t)h, (uintptr_t)p);
	ASSERT_EQ((uintptr_t)s, (uintptr_t)(p + 8));
	ASSERT_EQ(s[2].addr, 0x100600000ull);
	ASSERT_EQ(s[2].fd, 0);
	free(p);
	p = make_segments(DPDKMP_SEGS_DEL, 1, 0, &len);
	ASSERT_EQ(segs_decode(p, len, 0), 0);
	free(p);
	p = make_segments(DPDKMP_SEGS_ADD, DPDKMP_MAX_SEGS, 4, &len);
	ASSERT_EQ(segs_decode(p, len, 4), 0);
	free(p);
	p = make_segments(DPDKMP_SEGS_DEL, 0, 0, &len);
	ASSERT_EQ(segs_decode(p, len, 0), 0);
	free(p);
}

TEST(segments_decode_wrong_counts)
{
	size_t len;
	uint8_t *p = make_segments(DPDKMP_SEGS_ADD, 2, 1, &len);
	struct dpdkmp_segments *h = (struct dpdkmp_segments *)p;

	h->nsegs = 3;
	ASSERT_EQ(segs_decode(p, len, 1), -EBADMSG);
	h->nsegs = 1;
	ASSERT_EQ(segs_decode(p, len, 1), -EBADMSG);
	h->nsegs = DPDKMP_MAX_SEGS + 1;
	ASSERT_EQ(segs_decode(p, len, 1), -E2BIG);
	h->nsegs = UINT32_MAX;
	ASSERT_EQ(segs_decode(p, len, 1), -E2BIG);
	h->nsegs = 2;
	ASSERT_EQ(segs_decode(p, len - 1, 1), -EBADMSG);
	ASSERT_EQ(segs_decode(p, 7, 1), -EBADMSG);
	ASSERT_EQ(segs_decode(p, len, 0), -EBADMSG);     /* ADD without its files */
	ASSERT_EQ(segs_decode(p, len, 5), -EBADMSG);
	h->op = DPDKMP_SEGS_DEL;
	ASSERT_EQ(segs_decode(p, len, 1), -EBADMSG);     /* DEL with files */
	ASSERT_EQ(segs_decode(p, len, 0), 0);
	h->op = 0;
	ASSERT_EQ(segs_decode(p, len, 0), -EBADMSG);
	h->op = 3;
	ASSERT_EQ(segs_decode(p, len, 1), -EBADMSG);
	free(p);
}

TEST(segments_decode_bad_fields)
{
	size_t len;
	uint8_t *p = make_segments(DPDKMP_SEGS_ADD, 2, 2, &len);
	struct dpdkmp_seg *s = (struct dpdkmp_seg *)(p + 8), saved = s[1];

	s[1].fd = 2;                                    /* index of an fd not sent */
	ASSERT_EQ(segs_decode(p, len, 2), -EBADMSG);
	s[1] = saved;
	s[1].len = 0;
	ASSERT_EQ(segs_decode(p, len, 2), -EBADMSG);
	s[1] = saved;
	s[1].addr += 1;
	ASSERT_EQ(segs_decode(p, len, 2), -EBADMSG);
	s[1] = saved;
	s[1].len = 4095;
	ASSERT_EQ(segs_decode(p, len, 2), -EBADMSG);
	s[1] = saved;
	s[1].offset = 12;
	ASSERT_EQ(segs_decode(p, len, 2), -EBADMSG);
	s[1] = saved;
	s[1].addr = 0xffffffffffe00000ull;              /* addr + len wraps */
	ASSERT_EQ(segs_decode(p, len, 2), -EBADMSG);
	s[1] = saved;
	s[1].offset = 0xffffffffffe00000ull;            /* offset + len wraps */
	ASSERT_EQ(segs_decode(p, len, 2), -EBADMSG);
	s[1] = saved;
	ASSERT_EQ(segs_decode(p, len, 2), 0);
	free(p);
}

TEST(segments_decode_misaligned)
{
	size_t len;
	uint8_t *p = make_segments(DPDKMP_SEGS_ADD, 1, 1, &len), *q = malloc(len + 8);

	ASSERT_TRUE(q != NULL);
	memcpy(q + 4, p, len);
	ASSERT_EQ(segs_decode(q + 4, len, 1), -EBADMSG);
	free(q);
	free(p);
}

/* A STATUS payload with nw windows and nk children, exactly sized on the heap. */
static uint8_t *make_status(uint32_t nw, uint32_t nk, size_t *len)
{
	struct dpdkmp_status h = { .zygote_pid = 10, .primary_pid = 9, .nwindows = nw,
				   .nchildren = nk };
	struct dpdkmp_child_info *k;
	uint8_t *p;

	*len = SH + (size_t)nw * 88 + (size_t)nk * 152;
	p = calloc(1, *len);
	ASSERT_TRUE(p != NULL);
	snprintf(h.runtime_dir, sizeof(h.runtime_dir), "/run/dpdk/rte");
	snprintf(h.primary_exe, sizeof(h.primary_exe), "/usr/bin/dpdk-testpmd");
	memcpy(p, &h, sizeof(h));
	for (uint32_t i = 0; i < nw; i++)
		fill_window((struct dpdkmp_window *)(p + SH) + i, 0x200000ull * (i + 1), 0x200000,
			    DPDKMP_WIN_MEMSEG, "memseg");
	k = (struct dpdkmp_child_info *)(p + SH + (size_t)nw * 88);
	for (uint32_t i = 0; i < nk; i++) {
		k[i].pid = 100 + i;
		snprintf(k[i].program, sizeof(k[i].program), "prog%u", i);
	}
	return p;
}

static void expect_status_fails(const uint8_t *p, size_t len, int err)
{
	const struct dpdkmp_status *h = (void *)1;
	const struct dpdkmp_window *w = (void *)1;
	const struct dpdkmp_child_info *k = (void *)1;

	ASSERT_EQ(dpdkmp_status_decode(p, len, &h, &w, &k), err);
	ASSERT_EQ((uintptr_t)h, 1);
	ASSERT_EQ((uintptr_t)w, 1);
	ASSERT_EQ((uintptr_t)k, 1);
}

TEST(status_decode_good)
{
	const struct dpdkmp_status *h = NULL;
	const struct dpdkmp_window *w = NULL;
	const struct dpdkmp_child_info *k = NULL;
	size_t len;
	uint8_t *p = make_status(2, 3, &len);

	ASSERT_EQ(dpdkmp_status_decode(p, len, &h, &w, &k), 0);
	ASSERT_EQ((uintptr_t)h, (uintptr_t)p);
	ASSERT_EQ((uintptr_t)w, (uintptr_t)(p + SH));
	ASSERT_EQ((uintptr_t)k, (uintptr_t)(p + SH + 2 * 88));
	ASSERT_EQ(k[2].pid, 102);
	ASSERT_STREQ(k[2].program, "prog2");
	ASSERT_STREQ(h->primary_exe, "/usr/bin/dpdk-testpmd");
	free(p);
	p = make_status(0, 0, &len);
	ASSERT_EQ(dpdkmp_status_decode(p, len, &h, &w, &k), 0);
	free(p);
	p = make_status(DPDKMP_MAX_WINDOWS, DPDKMP_MAX_CHILDREN, &len);
	ASSERT_LE(len, DPDKMP_MAX_PAYLOAD);    /* the largest STATUS fits in a record */
	ASSERT_EQ(dpdkmp_status_decode(p, len, &h, &w, &k), 0);
	free(p);
}

TEST(status_decode_wrong_counts)
{
	size_t len;
	uint8_t *p = make_status(2, 3, &len);
	struct dpdkmp_status *h = (struct dpdkmp_status *)p;

	h->nwindows = 3;
	expect_status_fails(p, len, -EBADMSG);
	h->nwindows = 1;
	expect_status_fails(p, len, -EBADMSG);
	h->nwindows = 2;
	h->nchildren = 4;
	expect_status_fails(p, len, -EBADMSG);
	h->nchildren = 2;
	expect_status_fails(p, len, -EBADMSG);
	h->nchildren = 0;
	expect_status_fails(p, len, -EBADMSG);
	h->nchildren = DPDKMP_MAX_CHILDREN + 1;
	expect_status_fails(p, len, -E2BIG);
	h->nchildren = 3;
	h->nwindows = DPDKMP_MAX_WINDOWS + 1;
	expect_status_fails(p, len, -E2BIG);
	h->nwindows = UINT32_MAX;
	h->nchildren = UINT32_MAX;
	expect_status_fails(p, len, -E2BIG);
	h->nwindows = 2;
	h->nchildren = 3;
	expect_status_fails(p, len - 8, -EBADMSG);
	expect_status_fails(p, 527, -EBADMSG);
	free(p);
}

TEST(status_decode_unterminated_strings)
{
	size_t len;
	uint8_t *p = make_status(1, 2, &len);
	struct dpdkmp_status *h = (struct dpdkmp_status *)p;
	struct dpdkmp_child_info *k = (struct dpdkmp_child_info *)(p + SH + 88);

	memset(k[1].program, 'p', sizeof(k[1].program));
	expect_status_fails(p, len, -EBADMSG);
	free(p);
	p = make_status(1, 2, &len);
	h = (struct dpdkmp_status *)p;
	memset(h->primary_exe, 'e', sizeof(h->primary_exe));
	expect_status_fails(p, len, -EBADMSG);
	free(p);
	p = make_status(1, 2, &len);
	h = (struct dpdkmp_status *)p;
	memset(h->runtime_dir, 'd', sizeof(h->runtime_dir));
	expect_status_fails(p, len, -EBADMSG);
	free(p);
	p = make_status(1, 2, &len);
	memset(((struct dpdkmp_window *)(p + SH))->name, 'w', 64);
	expect_status_fails(p, len, -EBADMSG);
	free(p);
}

/* ---- records over a real SOCK_SEQPACKET socketpair --------------------------------------- */

TEST(fdpass_round_trip_spawn_with_fds)
{
	int sv[2], fds[4];
	size_t len = encode_sample(pbuf, sizeof(pbuf));
	struct dpdkmp_spawn_req r;

	seqpair(sv);
	open_files(fds, 4);
	ASSERT_EQ(dpdkmp_send(sv[1], DPDKMP_MSG_SPAWN, pbuf, (uint32_t)len, fds, 4), 0);
	ASSERT_EQ(dpdkmp_recv(sv[0], &msg), 0);
	ASSERT_EQ(msg.hdr.magic, DPDKMP_MAGIC);
	ASSERT_EQ(msg.hdr.version, 1);
	ASSERT_EQ(msg.hdr.type, DPDKMP_MSG_SPAWN);
	ASSERT_EQ(msg.hdr.len, len);
	ASSERT_EQ(msg.hdr.nfds, 4);
	ASSERT_EQ(msg.nfds, 4);
	ASSERT_EQ(memcmp(msg.payload, pbuf, len), 0);
	for (int i = 0; i < 4; i++) {
		struct stat a, b;

		ASSERT_GE(msg.fds[i], 0);
		ASSERT_NE(msg.fds[i], fds[i]);
		ASSERT_EQ(fstat(fds[i], &a), 0);
		ASSERT_EQ(fstat(msg.fds[i], &b), 0);
		ASSERT_EQ(a.st_dev, b.st_dev);
		ASSERT_EQ(a.st_ino, b.st_ino);   /* same file, same order */
		ASSERT_EQ(fcntl(msg.fds[i], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	}
	ASSERT_EQ(dpdkmp_spawn_decode(msg.payload, msg.hdr.len, &r), 0);
	ASSERT_STREQ(r.argv[4], "with space");
	dpdkmp_spawn_req_free(&r);
	dpdkmp_msg_close_fds(&msg);
	assert_msg_empty(&msg);
	close_files(fds, 4);
	close(sv[0]);
	close(sv[1]);
}

TEST(fdpass_round_trip_no_payload)
{
	int sv[2];

	seqpair(sv);
	ASSERT_EQ(dpdkmp_send(sv[1], DPDKMP_MSG_STATUS_REQ, NULL, 0, NULL, 0), 0);
	memset(&msg, 0xee, sizeof(msg.hdr) + sizeof(msg.nfds) + sizeof(msg.fds));
	ASSERT_EQ(dpdkmp_recv(sv[0], &msg), 0);
	ASSERT_EQ(msg.hdr.type, DPDKMP_MSG_STATUS_REQ);
	ASSERT_EQ(msg.hdr.len, 0);
	assert_msg_empty(&msg);
	close(sv[0]);
	close(sv[1]);
}

TEST(fdpass_send_error)
{
	int sv[2];
	struct dpdkmp_error e;
	char *longmsg = malloc(3000);

	seqpair(sv);
	ASSERT_EQ(dpdkmp_send_error(sv[1], -ENOEXEC, "cannot load %s", "/x"), 0);
	ASSERT_EQ(dpdkmp_recv(sv[0], &msg), 0);
	ASSERT_EQ(msg.hdr.type, DPDKMP_MSG_ERROR);
	ASSERT_EQ(msg.hdr.len, 8 + 14);
	memcpy(&e, msg.payload, sizeof(e));
	ASSERT_EQ(e.err, ENOEXEC);
	ASSERT_EQ(e.msg_len, 14);
	ASSERT_EQ(memcmp(msg.payload + 8, "cannot load /x", 14), 0);

	/* A long message is truncated to DPDKMP_MAX_ERRMSG and still passes the checks. */
	ASSERT_TRUE(longmsg != NULL);
	memset(longmsg, 'm', 2999);
	longmsg[2999] = '\0';
	ASSERT_EQ(dpdkmp_send_error(sv[1], EPERM, "%s", longmsg), 0);
	ASSERT_EQ(dpdkmp_recv(sv[0], &msg), 0);
	ASSERT_EQ(msg.hdr.len, 8 + DPDKMP_MAX_ERRMSG);
	memcpy(&e, msg.payload, sizeof(e));
	ASSERT_EQ(e.err, EPERM);
	ASSERT_EQ(e.msg_len, DPDKMP_MAX_ERRMSG);
	free(longmsg);
	close(sv[0]);
	close(sv[1]);
}

TEST(fdpass_record_shorter_than_header)
{
	int sv[2], fds[2];
	struct dpdkmp_hdr h = mkhdr(DPDKMP_MSG_STATUS_REQ, 0, 0);
	int before;

	seqpair(sv);
	send_raw(sv[1], &h, 8, NULL, 0);
	ASSERT_EQ(dpdkmp_recv(sv[0], &msg), -EBADMSG);
	assert_msg_empty(&msg);
	send_raw(sv[1], &h, 1, NULL, 0);
	ASSERT_EQ(dpdkmp_recv(sv[0], &msg), -EBADMSG);
	/* Same, carrying fds: they must not survive. */
	open_files(fds, 2);
	send_raw(sv[1], &h, 15, fds, 2);
	close_files(fds, 2);
	before = count_fds();
	ASSERT_EQ(dpdkmp_recv(sv[0], &msg), -EBADMSG);
	assert_msg_empty(&msg);
	ASSERT_EQ(count_fds(), before);
	close(sv[0]);
	close(sv[1]);
}

TEST(fdpass_len_field_disagrees_with_record)
{
	int sv[2];

	seqpair(sv);
	send_hdr_raw(sv[1], mkhdr(DPDKMP_MSG_HELLO, 8, 0), 4, NULL, 0);
	ASSERT_EQ(dpdkmp_recv(sv[0], &msg), -EBADMSG);
	send_hdr_raw(sv[1], mkhdr(DPDKMP_MSG_HELLO, 8, 0), 9, NULL, 0);
	ASSERT_EQ(dpdkmp_recv(sv[0], &msg), -EBADMSG);
	send_hdr_raw(sv[1], mkhdr(DPDKMP_MSG_HELLO, 8, 0), 8, NULL, 0);
	ASSERT_EQ(dpdkmp_recv(sv[0], &msg), 0);
	close(sv[0]);
	close(sv[1]);
}

/* Sends a SPAWN header claiming hdr_nfds with real_nfds fds attached; the receive must fail
 * with err and leave no fd behind. */
static void spawn_with_fds(uint32_t hdr_nfds, unsigned int real_nfds, int err)
{
	int sv[2], fds[16];
	int before;

	seqpair(sv);
	open_files(fds, real_nfds);
	send_hdr_raw(sv[1], mkhdr(DPDKMP_MSG_SPAWN, 16, hdr_nfds), 16, fds, real_nfds);
	close_files(fds, real_nfds);
	before = count_fds();
	memset(msg.fds, 0x55, sizeof(msg.fds));
	ASSERT_EQ(dpdkmp_recv(sv[0], &msg), err);
	assert_msg_empty(&msg);
	ASSERT_EQ(count_fds(), before);
	close(sv[0]);
	close(sv[1]);
}

TEST(fdpass_header_says_4_only_3_sent)
{
	spawn_with_fds(4, 3, -EBADMSG);
}

TEST(fdpass_header_says_3_and_3_sent)
{
	/* Consistent with itself, but SPAWN needs 4. */
	spawn_with_fds(3, 3, -EBADMSG);
}

TEST(fdpass_five_fds)
{
	spawn_with_fds(4, 5, -EBADMSG);
	spawn_with_fds(5, 5, -EBADMSG);
}

TEST(fdpass_many_fds_ctrunc)
{
	/* More than the receiver's control buffer: MSG_CTRUNC. */
	spawn_with_fds(4, 8, -EMSGSIZE);
	spawn_with_fds(4, 16, -EMSGSIZE);
}

TEST(fdpass_fds_on_type_without_fds)
{
	int sv[2], fds[1];
	int before;

	seqpair(sv);
	open_files(fds, 1);
	ASSERT_EQ(dpdkmp_send(sv[1], DPDKMP_MSG_HELLO, &(struct dpdkmp_hello){ 1, 0 }, 8, fds, 1), 0);
	close_files(fds, 1);
	before = count_fds();
	ASSERT_EQ(dpdkmp_recv(sv[0], &msg), -EBADMSG);
	assert_msg_empty(&msg);
	ASSERT_EQ(count_fds(), before);
	close(sv[0]);
	close(sv[1]);
}

TEST(fdpass_bad_header_with_fds)
{
	int sv[2], fds[4];
	struct dpdkmp_hdr h = mkhdr(DPDKMP_MSG_SPAWN, 16, 4);
	int before;

	seqpair(sv);
	h.magic = 0xdeadbeef;
	open_files(fds, 4);
	send_hdr_raw(sv[1], h, 16, fds, 4);
	h = mkhdr(DPDKMP_MSG_SPAWN, 16, 4);
	h.version = 2;
	send_hdr_raw(sv[1], h, 16, fds, 4);
	close_files(fds, 4);
	before = count_fds();
	ASSERT_EQ(dpdkmp_recv(sv[0], &msg), -EBADMSG);
	assert_msg_empty(&msg);
	ASSERT_EQ(dpdkmp_recv(sv[0], &msg), -EPROTONOSUPPORT);
	assert_msg_empty(&msg);
	ASSERT_EQ(count_fds(), before);
	close(sv[0]);
	close(sv[1]);
}

TEST(fdpass_record_too_large)
{
	int sv[2], fds[4];
	size_t big = sizeof(struct dpdkmp_hdr) + DPDKMP_MAX_PAYLOAD + 1;
	uint8_t *b = calloc(1, big);
	struct dpdkmp_hdr h = mkhdr(DPDKMP_MSG_SPAWN, DPDKMP_MAX_PAYLOAD + 1, 4);
	int before;

	ASSERT_TRUE(b != NULL);
	memcpy(b, &h, sizeof(h));
	seqpair(sv);
	open_files(fds, 4);
	send_raw(sv[1], b, big, fds, 4);
	close_files(fds, 4);
	before = count_fds();
	ASSERT_EQ(dpdkmp_recv(sv[0], &msg), -EMSGSIZE);
	assert_msg_empty(&msg);
	ASSERT_EQ(count_fds(), before);
	/* The largest allowed record still goes through. */
	h = mkhdr(DPDKMP_MSG_STATUS, DPDKMP_MAX_PAYLOAD, 0);
	memcpy(b, &h, sizeof(h));
	send_raw(sv[1], b, big - 1, NULL, 0);
	ASSERT_EQ(dpdkmp_recv(sv[0], &msg), 0);
	ASSERT_EQ(msg.hdr.len, DPDKMP_MAX_PAYLOAD);
	free(b);
	close(sv[0]);
	close(sv[1]);
}

TEST(fdpass_other_cmsg_with_fds)
{
	/* With SO_PASSCRED the kernel adds SCM_CREDENTIALS: not ours to accept. */
	int sv[2], fds[4], on = 1;
	int before;

	seqpair(sv);
	ASSERT_EQ(setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)), 0);
	ASSERT_EQ(dpdkmp_send(sv[1], DPDKMP_MSG_HELLO, &(struct dpdkmp_hello){ 1, 0 }, 8, NULL, 0), 0);
	ASSERT_EQ(dpdkmp_recv(sv[0], &msg), -EPROTO);
	open_files(fds, 4);
	send_hdr_raw(sv[1], mkhdr(DPDKMP_MSG_SPAWN, 16, 4), 16, fds, 4);
	close_files(fds, 4);
	before = count_fds();
	ASSERT_LT(dpdkmp_recv(sv[0], &msg), 0);
	assert_msg_empty(&msg);
	ASSERT_EQ(count_fds(), before);
	close(sv[0]);
	close(sv[1]);
}

TEST(fdpass_orderly_close)
{
	int sv[2];

	seqpair(sv);
	close(sv[1]);
	ASSERT_EQ(dpdkmp_recv(sv[0], &msg), -ECONNRESET);
	assert_msg_empty(&msg);
	ASSERT_EQ(dpdkmp_recv(sv[0], &msg), -ECONNRESET);
	close(sv[0]);
}

TEST(fdpass_queued_then_close)
{
	/* Records queued before the close are delivered first. */
	int sv[2];

	seqpair(sv);
	ASSERT_EQ(dpdkmp_send(sv[1], DPDKMP_MSG_SIGNAL, &(struct dpdkmp_signal){ 15, 0 }, 8, NULL, 0), 0);
	close(sv[1]);
	ASSERT_EQ(dpdkmp_recv(sv[0], &msg), 0);
	ASSERT_EQ(msg.hdr.type, DPDKMP_MSG_SIGNAL);
	ASSERT_EQ(dpdkmp_recv(sv[0], &msg), -ECONNRESET);
	close(sv[0]);
}

TEST(fdpass_take_fd)
{
	int sv[2], fds[4], taken, before;
	struct stat a, b;

	seqpair(sv);
	open_files(fds, 4);
	ASSERT_EQ(dpdkmp_send(sv[1], DPDKMP_MSG_SPAWN, pbuf, (uint32_t)encode_sample(pbuf, sizeof(pbuf)),
			      fds, 4), 0);
	ASSERT_EQ(dpdkmp_recv(sv[0], &msg), 0);
	before = count_fds();
	taken = dpdkmp_msg_take_fd(&msg, 2);
	ASSERT_GE(taken, 0);
	ASSERT_EQ(msg.fds[2], -1);
	ASSERT_EQ(dpdkmp_msg_take_fd(&msg, 2), -1);     /* taken once only */
	ASSERT_EQ(dpdkmp_msg_take_fd(&msg, DPDKMP_MAX_FDS), -1);
	ASSERT_EQ(dpdkmp_msg_take_fd(&msg, 0xffffffffu), -1);
	ASSERT_EQ(fstat(taken, &a), 0);
	ASSERT_EQ(fstat(fds[2], &b), 0);
	ASSERT_EQ(a.st_ino, b.st_ino);
	/* Closing the record's fds leaves the taken one open. */
	dpdkmp_msg_close_fds(&msg);
	assert_msg_empty(&msg);
	ASSERT_EQ(count_fds(), before - 3);
	ASSERT_TRUE(fd_is_open(taken));
	close(taken);
	dpdkmp_msg_close_fds(&msg);     /* idempotent */
	close_files(fds, 4);
	close(sv[0]);
	close(sv[1]);
}

TEST(fdpass_send_refuses_before_sending)
{
	int sv[2], fds[DPDKMP_MAX_FDS + 1];

	seqpair(sv);
	open_files(fds, DPDKMP_MAX_FDS + 1);
	ASSERT_EQ(dpdkmp_send(sv[1], DPDKMP_MSG_STATUS, pbuf, DPDKMP_MAX_PAYLOAD + 1, NULL, 0),
		  -EMSGSIZE);
	assert_nothing_queued(sv[0]);
	ASSERT_EQ(dpdkmp_send(sv[1], DPDKMP_MSG_STATUS, pbuf, UINT32_MAX, NULL, 0), -EMSGSIZE);
	assert_nothing_queued(sv[0]);
	ASSERT_EQ(dpdkmp_send(sv[1], DPDKMP_MSG_SPAWN, pbuf, 16, fds, DPDKMP_MAX_FDS + 1),
		  -EMSGSIZE);
	assert_nothing_queued(sv[0]);
	ASSERT_EQ(dpdkmp_send(sv[1], DPDKMP_MSG_HELLO, NULL, 8, NULL, 0), -EINVAL);
	ASSERT_EQ(dpdkmp_send(sv[1], DPDKMP_MSG_STATUS_REQ, NULL, 0, NULL, 1), -EINVAL);
	assert_nothing_queued(sv[0]);
	/* The largest allowed payload is sent. */
	ASSERT_EQ(dpdkmp_send(sv[1], DPDKMP_MSG_STATUS, pbuf, DPDKMP_MAX_PAYLOAD, NULL, 0), 0);
	ASSERT_EQ(dpdkmp_recv(sv[0], &msg), 0);
	close_files(fds, DPDKMP_MAX_FDS + 1);
	close(sv[0]);
	close(sv[1]);
}

TEST(fdpass_send_to_closed_peer)
{
	int sv[2];

	seqpair(sv);
	close(sv[0]);
	/* MSG_NOSIGNAL: an error, not a SIGPIPE that kills the sender. */
	ASSERT_EQ(dpdkmp_send(sv[1], DPDKMP_MSG_STATUS_REQ, NULL, 0, NULL, 0), -EPIPE);
	close(sv[1]);
}

TEST_MAIN()
