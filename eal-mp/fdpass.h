/* fdpass: send and receive one dpdkmp record (header + payload + SCM_RIGHTS fds) on a
 * SOCK_SEQPACKET socket. The only code that touches ancillary data. */
#ifndef DPDKMP_FDPASS_H
#define DPDKMP_FDPASS_H

#include <stdint.h>
#include "proto.h"

/* Sends one record. Bounds are checked before anything is sent. 0 or -errno. */
int dpdkmp_send(int sock, uint16_t type, const void *payload, uint32_t len,
		const int *fds, uint32_t nfds);

/* Receives one record into m and validates it with dpdkmp_hdr_check. Received fds are
 * CLOEXEC. On any error every received fd is closed and m->nfds is 0.
 * 0, -ECONNRESET on orderly close, -EBADMSG / -EPROTO / -EMSGSIZE on bad input, or -errno. */
int dpdkmp_recv(int sock, struct dpdkmp_msg *m);

/* Closes every fd still owned by m. */
void dpdkmp_msg_close_fds(struct dpdkmp_msg *m);

/* Moves fd i out of m: the caller owns it, the slot becomes -1. */
int dpdkmp_msg_take_fd(struct dpdkmp_msg *m, unsigned int i);

/* Sends an ERROR record with a formatted message (truncated to DPDKMP_MAX_ERRMSG). */
int dpdkmp_send_error(int sock, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
