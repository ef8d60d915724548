/* client: the client side of a fork server's socket, shared by the launcher, `dpdkmp status`
 * and `dpdkmp check`: finding and connecting to the socket of a file prefix, and the STATUS
 * request. */
#ifndef DPDKMP_CLIENT_H
#define DPDKMP_CLIENT_H

#include "proto.h"

/* Connects to the fork server of prefix (DPDK's runtime directory rule, then a root
 * primary's socket for a non-root client). On failure logs why and what to do, each message
 * starting with what ("cannot run /usr/bin/x", "check"), and returns -errno. */
int dpdkmp_client_connect(const char *prefix, const char *what);

/* Asks the fork server of prefix for its status; m holds the reply the out-pointers point
 * into. 0 or -errno, with a message as above. */
int dpdkmp_client_status(const char *prefix, const char *what, struct dpdkmp_msg *m,
			 const struct dpdkmp_status **s, const struct dpdkmp_window **w,
			 const struct dpdkmp_child_info **k);

#endif
