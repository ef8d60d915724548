/* dpdkmp public API. Most users need none of it: `dpdkmp primary` and `dpdkmp run` (or
 * LD_PRELOAD=libdpdkmp.so) are enough. Linking libdpdkmp before libdpdk into a primary or a
 * secondary has the same effect as preloading it. */
#ifndef DPDKMP_H
#define DPDKMP_H

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct dpdkmp_launch_opts {
	const char *prefix;     /* DPDK --file-prefix of the primary; NULL: "rte" */
	int exe_fd;             /* the program, opened by the caller; -1: open path */
	const char *path;       /* program path (also used in messages) */
	char *const *argv;      /* NULL-terminated, argv[0] included */
	char *const *envp;      /* NULL-terminated */
};

/* Runs a program as a secondary inside the fork server of the primary with the given
 * prefix, with this process's stdin/stdout/stderr and cwd, forwarding signals, until it
 * ends. Returns the exit status a shell would see: the program's exit code, 128+N when it
 * was killed by signal N, or 1 (with a message on stderr naming cause and fix) when it
 * could not be started. */
int dpdkmp_launch(const struct dpdkmp_launch_opts *opts);

/* 1 inside a secondary forked by dpdkmp, else 0. */
int dpdkmp_is_forked_secondary(void);

#ifdef __cplusplus
}
#endif
#endif
