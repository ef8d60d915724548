/* fdpass: one record per sendmsg/recvmsg on SOCK_SEQPACKET, fds by SCM_RIGHTS.
 * Receiving is defensive: truncation of data or control is an error, the fd count comes from
 * cmsg_len and must equal the header's, and nothing received survives an error. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fdpass.h"

int dpdkmp_send(int sock, uint16_t type, const void *payload, uint32_t len,
		const int *fds, uint32_t nfds)
{
	struct dpdkmp_hdr h = {
		.magic = DPDKMP_MAGIC, .version = DPDKMP_PROTO_VERSION,
		.type = type, .len = len, .nfds = nfds,
	};
	union {
		char buf[CMSG_SPACE(sizeof(int) * DPDKMP_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov[2] = {
		{ .iov_base = &h, .iov_len = sizeof(h) },
		{ .iov_base = (void *)payload, .iov_len = len },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	ssize_t n;

	if (len > DPDKMP_MAX_PAYLOAD || nfds > DPDKMP_MAX_FDS)
		return -EMSGSIZE;
	if ((len && !payload) || (nfds && !fds))
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
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n != sizeof(h) + len)
		return -EIO;
	return 0;
}

void dpdkmp_msg_close_fds(struct dpdkmp_msg *m)
{
	for (unsigned int i = 0; i < DPDKMP_MAX_FDS; i++) {
		if (m->fds[i] >= 0)
			close(m->fds[i]);
		m->fds[i] = -1;
	}
	m->nfds = 0;
}

int dpdkmp_msg_take_fd(struct dpdkmp_msg *m, unsigned int i)
{
	int fd;

	if (i >= DPDKMP_MAX_FDS)
		return -1;
	fd = m->fds[i];
	m->fds[i] = -1;
	return fd;
}

int dpdkmp_recv(int sock, struct dpdkmp_msg *m)
{
	/* Room for one more fd than allowed, so that an excess shows as a count mismatch
	 * rather than as MSG_CTRUNC with the kernel silently closing the rest. */
	union {
		char buf[CMSG_SPACE(sizeof(int) * (DPDKMP_MAX_FDS + 1))];
		struct cmsghdr align;
	} ctl;
	int extra[DPDKMP_MAX_FDS + 1];
	struct iovec iov[2] = {
		{ .iov_base = &m->hdr, .iov_len = sizeof(m->hdr) },
		{ .iov_base = m->payload, .iov_len = sizeof(m->payload) },
	};
	struct msghdr mh = {
		.msg_iov = iov, .msg_iovlen = 2,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	unsigned int nrecv = 0;
	ssize_t n;
	int ret = 0;

	for (unsigned int i = 0; i < DPDKMP_MAX_FDS; i++)
		m->fds[i] = -1;
	m->nfds = 0;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		size_t cnt;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			ret = -EPROTO;
			continue;
		}
		cnt = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < cnt; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (nrecv < DPDKMP_MAX_FDS + 1)
				extra[nrecv++] = fd;
			else
				close(fd);
		}
	}
	for (unsigned int i = 0; i < nrecv; i++) {
		if (i < DPDKMP_MAX_FDS)
			m->fds[i] = extra[i];
		else
			close(extra[i]);
	}
	m->nfds = nrecv < DPDKMP_MAX_FDS ? nrecv : DPDKMP_MAX_FDS;

	if (n == 0 && nrecv == 0)
		return -ECONNRESET;
	if (ret == 0 && (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
		ret = -EMSGSIZE;
	if (ret == 0 && (size_t)n < sizeof(m->hdr))
		ret = -EBADMSG;
	if (ret == 0 && m->hdr.len != (size_t)n - sizeof(m->hdr))
		ret = -EBADMSG;
	if (ret == 0)
		ret = dpdkmp_hdr_check(&m->hdr, nrecv);
	if (ret < 0)
		dpdkmp_msg_close_fds(m);
	return ret;
}

int dpdkmp_send_error(int sock, int err, const char *fmt, ...)
{
	struct {
		struct dpdkmp_error e;
		char msg[DPDKMP_MAX_ERRMSG + 1];
	} p;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(p.msg, sizeof(p.msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((unsigned int)n > DPDKMP_MAX_ERRMSG)
		n = DPDKMP_MAX_ERRMSG;
	/* ERROR carries a positive errno; 0 or INT_MIN would be no error or undefined. */
	p.e.err = err > 0 ? err : (err < 0 && err != INT_MIN ? -err : EIO);
	p.e.msg_len = (uint32_t)n;
	return dpdkmp_send(sock, DPDKMP_MSG_ERROR, &p, sizeof(p.e) + (uint32_t)n, NULL, 0);
}
