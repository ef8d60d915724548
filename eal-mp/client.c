/* client: connecting to a fork server and asking it for its status. The connect error
 * messages are the user's first contact with a missing or dead primary: each names the
 * socket, the cause and the fix. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "client.h"
#include "fdpass.h"
#include "log.h"
#include "rundir.h"

#define REPLY_TIMEOUT_MS 10000

int dpdkmp_client_connect(const char *prefix, const char *what)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char sock[sizeof(sa.sun_path)];
	int fd, ret;

	if (!prefix || !*prefix)
		prefix = DPDKMP_DEFAULT_PREFIX;
	if (dpdkmp_socket_path(prefix, sock, sizeof(sock)) < 0) {
		DPDKMP_ERR("%s: the runtime directory of prefix '%s' is too long for a unix socket",
			   what, prefix);
		return -ENAMETOOLONG;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memcpy(sa.sun_path, sock, sizeof(sock));
	ret = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : -errno;
	if (ret == -ENOENT && dpdkmp_root_socket_path(prefix, sa.sun_path, sizeof(sa.sun_path)) == 0) {
		/* Not ours: maybe a root primary's fork server open to this user. */
		ret = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : -errno;
		if (ret != -ENOENT)
			memcpy(sock, sa.sun_path, sizeof(sock));
	}
	if (ret == 0)
		return fd;
	close(fd);
	switch (-ret) {
	case ENOENT:
		DPDKMP_ERR("%s: no dpdkmp fork server for file prefix '%s' (%s does not exist). "
			   "Start the primary with `dpdkmp primary -- PROGRAM --file-prefix %s ...` "
			   "and wait until its EAL init is done, or pass the primary's --file-prefix",
			   what, prefix, sock, prefix);
		break;
	case ECONNREFUSED:
		DPDKMP_ERR("%s: the fork server of file prefix '%s' is gone (stale socket %s); the "
			   "primary has exited: restart it with `dpdkmp primary`", what, prefix, sock);
		break;
	case EACCES:
	case EPERM:
		DPDKMP_ERR("%s: permission denied on %s; run as the primary's user, or have its "
			   "operator allow you (dpdkmp primary --allow-uid, --socket-mode)", what, sock);
		break;
	default:
		DPDKMP_ERR("%s: cannot connect to %s: %s", what, sock, strerror(-ret));
	}
	return ret;
}

static int recv_within(int fd, struct dpdkmp_msg *m, uint16_t type)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int ret = poll(&p, 1, REPLY_TIMEOUT_MS);

	if (ret <= 0)
		return ret == 0 ? -ETIMEDOUT : -errno;
	ret = dpdkmp_recv(fd, m);
	if (ret < 0)
		return ret;
	return m->hdr.type == type ? 0 : -EPROTO;
}

int dpdkmp_client_status(const char *prefix, const char *what, struct dpdkmp_msg *m,
			 const struct dpdkmp_status **s, const struct dpdkmp_window **w,
			 const struct dpdkmp_child_info **k)
{
	struct dpdkmp_hello hello = { .client_pid = (uint32_t)getpid() };
	int fd = dpdkmp_client_connect(prefix, what), ret;

	if (fd < 0)
		return fd;
	ret = dpdkmp_send(fd, DPDKMP_MSG_HELLO, &hello, sizeof(hello), NULL, 0);
	if (ret == 0)
		ret = recv_within(fd, m, DPDKMP_MSG_HELLO_ACK);
	if (ret == 0)
		ret = dpdkmp_send(fd, DPDKMP_MSG_STATUS_REQ, NULL, 0, NULL, 0);
	if (ret == 0)
		ret = recv_within(fd, m, DPDKMP_MSG_STATUS);
	if (ret == 0)
		ret = dpdkmp_status_decode(m->payload, m->hdr.len, s, w, k);
	close(fd);
	if (ret < 0)
		DPDKMP_ERR("%s: the fork server of prefix '%s' did not answer the status request "
			   "(%s); is it a dpdkmp of the same version?", what, prefix, strerror(-ret));
	return ret;
}
