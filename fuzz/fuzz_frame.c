/* fuzz_frame: libFuzzer target for the record framing (fdpass.c): arbitrary bytes and 0..7
 * SCM_RIGHTS fds go out as ONE raw SOCK_SEQPACKET record, dpdkmp_recv takes them on the other
 * end, and no fd may survive dpdkmp_msg_close_fds. An accepted record is sent back with
 * dpdkmp_send and must arrive identical.
 *
 * Input (the same layout as the fuzz_request seeds, see gen_corpus.c):
 *
 *   +------+------------------------------------------------+
 *   | sel  | record bytes, sent as they are (header+payload) |
 *   | 1 B  | at most FRAME_MAX                              |
 *   +------+------------------------------------------------+
 *
 *   sel & 7   fds attached (dups of /dev/null); more than DPDKMP_MAX_FDS + 1 makes the kernel
 *             truncate the control data (MSG_CTRUNC)
 *   sel & 8   SO_PASSCRED on the receiver: an SCM_CREDENTIALS message comes first
 *
 * Any failed check aborts, so libFuzzer reports it like a crash: an fd leak is a crash. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fdpass.h"
#include "proto.h"

/* Larger than any record dpdkmp_recv accepts (16 + 60 KiB), small enough for the socket. */
#define FRAME_MAX   (64u * 1024u + 64u)
#define SEND_FDS    7u
#define FD_WINDOW   64 /* fds probed above the lowest free one: all this input can open */

#define CHECK(cond)                                                                     \
	do {                                                                            \
		if (!(cond)) {                                                          \
			fprintf(stderr, "fuzz_frame: %s:%d: check failed: %s\n",        \
				__FILE__, __LINE__, #cond);                             \
			abort();                                                        \
		}                                                                       \
	} while (0)

static int sv[2] = { -1, -1 };  /* sv[0] sends the raw record, sv[1] runs dpdkmp_recv */
static int devnull = -1;
static struct dpdkmp_msg msg, back;

static void setup(void)
{
	int big = 4 << 20;

	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
	for (int i = 0; i < 2; i++) {
		/* Never block: a record that does not fit fails to send instead of hanging. */
		CHECK(fcntl(sv[i], F_SETFL, O_NONBLOCK) == 0);
		CHECK(setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big)) == 0);
		CHECK(setsockopt(sv[i], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big)) == 0);
	}
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	CHECK(devnull >= 0);
}

/* The open/closed state of the FD_WINDOW fds from the lowest free one up. Within one input
 * nothing else opens fds, so every fd this input creates lands in the window. */
struct fd_snap {
	int base;
	uint64_t open;
};

static struct fd_snap fd_snap(int base)
{
	struct fd_snap s = { base, 0 };

	if (s.base < 0) {
		s.base = fcntl(devnull, F_DUPFD_CLOEXEC, 0);
		CHECK(s.base >= 0);
		close(s.base);
	}
	for (int i = 0; i < FD_WINDOW; i++)
		if (fcntl(s.base + i, F_GETFD) >= 0)
			s.open |= 1ull << i;
	return s;
}

static void set_passcred(int on)
{
	CHECK(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) == 0);
}

/* Sends the bytes as one record with nfds dups of /dev/null. 0 or -errno from sendmsg. */
static int send_raw(const uint8_t *buf, size_t len, unsigned int nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * SEND_FDS)];
		struct cmsghdr align;
	} ctl;
	int fds[SEND_FDS];
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;
	int ret = 0;

	for (unsigned int i = 0; i < nfds; i++) {
		fds[i] = fcntl(devnull, F_DUPFD_CLOEXEC, 0);
		CHECK(fds[i] >= 0);
	}
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
		n = sendmsg(sv[0], &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		ret = -errno;
	else
		CHECK((size_t)n == len);
	for (unsigned int i = 0; i < nfds; i++)
		close(fds[i]);
	return ret;
}

/* Nothing may be left queued in either direction: one record in, one record consumed. */
static void check_drained(void)
{
	char c;

	for (int i = 0; i < 2; i++) {
		ssize_t n = recv(sv[i], &c, 1, MSG_PEEK | MSG_DONTWAIT);

		CHECK(n < 0 && errno == EAGAIN);
	}
}

static void check_no_fds(const struct dpdkmp_msg *m)
{
	CHECK(m->nfds == 0);
	for (unsigned int i = 0; i < DPDKMP_MAX_FDS; i++)
		CHECK(m->fds[i] == -1);
}

/* An accepted record goes back through dpdkmp_send, fds included, and must arrive the same. */
static void round_trip(const struct dpdkmp_msg *m)
{
	int ret = dpdkmp_send(sv[1], m->hdr.type, m->payload, m->hdr.len, m->fds, m->nfds);

	CHECK(ret == 0);
	ret = dpdkmp_recv(sv[0], &back);
	CHECK(ret == 0);
	CHECK(memcmp(&back.hdr, &m->hdr, sizeof(m->hdr)) == 0);
	CHECK(back.nfds == m->nfds);
	CHECK(memcmp(back.payload, m->payload, m->hdr.len) == 0);
	for (unsigned int i = 0; i < back.nfds; i++)
		CHECK(back.fds[i] >= 0 && fcntl(back.fds[i], F_GETFD) == FD_CLOEXEC);
	dpdkmp_msg_close_fds(&back);
	check_no_fds(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fd_snap before, after;
	unsigned int nfds, creds;
	size_t len;
	int ret, sent;

	if (sv[0] < 0)
		setup();
	if (size < 1)
		return 0;
	nfds = data[0] & 7;
	creds = !!(data[0] & 8);
	len = size - 1;
	if (len > FRAME_MAX)
		len = FRAME_MAX;

	before = fd_snap(-1);
	if (creds)
		set_passcred(1);
	sent = send_raw(data + 1, len, nfds);
	if (sent < 0) {
		/* Only a record too large for the socket may fail; then nothing is queued. */
		CHECK(sent == -EMSGSIZE || sent == -ENOBUFS);
		if (creds)
			set_passcred(0);
		check_drained();
		goto out;
	}

	memset(&msg, 0x5a, offsetof(struct dpdkmp_msg, payload));
	ret = dpdkmp_recv(sv[1], &msg);
	if (creds)
		set_passcred(0);
	if (len == 0 && nfds == 0) {
		/* An empty record reads like an orderly close (recvmsg returns 0). */
		CHECK(ret == -ECONNRESET);
	} else if (len == 0 && ret == -ECONNRESET) {
		/* So does an empty one whose fds the kernel dropped for want of control room
		 * (credentials first): nothing was received. */
		CHECK(creds);
		check_no_fds(&msg);
	} else if (ret < 0) {
		CHECK(ret == -EBADMSG || ret == -EPROTO || ret == -EMSGSIZE ||
		      ret == -EPROTONOSUPPORT);
		check_no_fds(&msg);
	} else {
		/* Accepted: it is exactly the record sent, with all its fds and no credentials. */
		CHECK(!creds);
		CHECK(len == sizeof(msg.hdr) + msg.hdr.len);
		CHECK(memcmp(&msg.hdr, data + 1, sizeof(msg.hdr)) == 0);
		CHECK(memcmp(msg.payload, data + 1 + sizeof(msg.hdr), msg.hdr.len) == 0);
		CHECK(msg.nfds == nfds && msg.hdr.nfds == nfds);
		for (unsigned int i = 0; i < msg.nfds; i++)
			CHECK(msg.fds[i] >= 0 && fcntl(msg.fds[i], F_GETFD) == FD_CLOEXEC);
		CHECK(dpdkmp_hdr_check(&msg.hdr, msg.nfds) == 0);
		round_trip(&msg);
	}
	dpdkmp_msg_close_fds(&msg);
	check_no_fds(&msg);
	check_drained();
out:
	after = fd_snap(before.base);
	if (after.open != before.open) {
		fprintf(stderr, "fuzz_frame: fd leak: open fds from %d: before %#llx, after %#llx "
			"(sel %#x, %zu record bytes)\n", before.base,
			(unsigned long long)before.open, (unsigned long long)after.open,
			data[0], len);
		abort();
	}
	return 0;
}
