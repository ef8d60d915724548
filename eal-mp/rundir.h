/* rundir: where DPDK keeps a file prefix's runtime directory, computed as EAL 22.11 does
 * (eal_create_runtime_dir), and the fork server's socket inside it. */
#ifndef DPDKMP_RUNDIR_H
#define DPDKMP_RUNDIR_H

#include <stddef.h>

#define DPDKMP_DEFAULT_PREFIX "rte"

/* The --file-prefix value among EAL arguments (before "--"), or NULL. */
const char *dpdkmp_arg_value(int argc, char *const argv[], const char *opt);

/* "<RUNTIME_DIRECTORY | /var/run (root) | XDG_RUNTIME_DIR | /tmp>/dpdk/<prefix>". 0 or -ENAMETOOLONG. */
int dpdkmp_runtime_dir(const char *prefix, char *out, size_t len);
int dpdkmp_socket_path(const char *prefix, char *out, size_t len);

/* For a non-root client without RUNTIME_DIRECTORY: the socket of a root primary with that
 * prefix (/var/run/dpdk/<prefix>/dpdkmp.sock), which a policy may open to other users.
 * 0, or -ENOENT when there is no such second place to look. */
int dpdkmp_root_socket_path(const char *prefix, char *out, size_t len);

#endif
