/* sandbox: the fork server's privilege reduction. Capabilities through libcap-ng, and the two
 * seccomp policies through libseccomp: "dpdk-secondary" (zygote and children: a deny list of
 * named groups, EPERM) and "broker" (an allow list, anything else kills the process). */
#ifndef DPDKMP_SANDBOX_H
#define DPDKMP_SANDBOX_H

#include <stdint.h>

struct dpdkmp_syscall_group {
	const char *name;
	const char *help;
	const char *const *syscalls;
};

/* The dpdk-secondary deny list, NULL-terminated, for documentation and `dpdkmp policy`. */
extern const struct dpdkmp_syscall_group dpdkmp_denied_groups[];
/* The broker's allow list, NULL-terminated. */
extern const char *const dpdkmp_broker_syscalls[];

#define DPDKMP_KEEP_CAPS_DEFAULT (1ull << 14) /* CAP_IPC_LOCK */

/* Reduces this process's capabilities to keep (bit n = capability n) in the effective,
 * permitted and bounding sets, empties inheritable and ambient, sets NO_NEW_PRIVS. Without
 * CAP_SETPCAP the bounding set is left as inherited. 0 or -errno. */
int dpdkmp_sandbox_drop_caps(uint64_t keep);

/* Loads the dpdk-secondary filter. allow_ioport keeps iopl/ioperm (CAP_SYS_RAWIO kept).
 * fd >= 0: write the filter as PFC text there instead of loading it. 0 or -errno. */
int dpdkmp_sandbox_load_secondary(int allow_ioport, int export_fd);

/* Loads the broker's allow list (kill process on anything else). export_fd as above. */
int dpdkmp_sandbox_load_broker(int export_fd);

/* "CAP_IPC_LOCK,CAP_SYS_ADMIN" */
void dpdkmp_caps_describe(uint64_t caps, char *out, size_t len);

#endif
