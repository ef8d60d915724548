/* sandbox: privilege reduction with libcap-ng and libseccomp. Filters are inherited and can
 * only be added to, so the layering is: the zygote loads what a DPDK secondary may not do,
 * its children inherit it; the broker adds what parsing needs and nothing more. */
#include <cap-ng.h>
#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/prctl.h>

#include "sandbox.h"

#define G(...) ((const char *const[]){ __VA_ARGS__, NULL })

const struct dpdkmp_syscall_group dpdkmp_denied_groups[] = {
	{ "debug", "inspecting or stealing from other processes, the primary first",
	  G("ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "kcmp",
	    "pidfd_getfd") },
	{ "modules", "loading kernel code",
	  G("init_module", "finit_module", "delete_module") },
	{ "kexec", "replacing or restarting the kernel",
	  G("kexec_load", "kexec_file_load", "reboot") },
	{ "bpf", "kernel programs and map access", G("bpf") },
	{ "mount", "changing the file system view",
	  G("mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen",
	    "fsconfig", "fsmount", "fspick", "mount_setattr") },
	{ "namespaces", "leaving the primary's namespaces (clone with CLONE_NEW* is denied too)",
	  G("setns", "unshare") },
	{ "keys", "the kernel keyrings", G("keyctl", "add_key", "request_key") },
	{ "perf", "profiling other processes, kernel side channels", G("perf_event_open") },
	{ "userfaultfd", "a classic exploitation primitive", G("userfaultfd") },
	{ "io_uring", "queued operations bypass this filter",
	  G("io_uring_setup", "io_uring_enter", "io_uring_register") },
	{ "system", "host administration",
	  G("swapon", "swapoff", "acct", "settimeofday", "clock_settime", "clock_adjtime",
	    "adjtimex", "syslog", "quotactl", "quotactl_fd", "sethostname", "setdomainname",
	    "vhangup", "lookup_dcookie", "name_to_handle_at", "open_by_handle_at", "uselib") },
	{ NULL, NULL, NULL },
};

/* Port I/O: denied unless CAP_SYS_RAWIO is kept for a driver that needs it. */
static const char *const ioport_syscalls[] = { "iopl", "ioperm", NULL };

/* Exactly what the broker's loop makes (checked under strace by selftests/t_sandbox.sh):
 * no allocation (requests are decoded into static storage), no file opening, no signals.
 * clock_gettime is normally served by the vDSO; it is listed for kernels without one. */
const char *const dpdkmp_broker_syscalls[] = {
	"accept4", "getsockopt", "recvmsg", "sendmsg", "shutdown", "poll", "close", "newfstatat", "pread64",
	"write", "getpid", "exit_group", "restart_syscall", "clock_gettime", NULL,
};

int dpdkmp_sandbox_drop_caps(uint64_t keep)
{
	capng_select_t sel = CAPNG_SELECT_ALL;

	/* Changing the bounding set takes CAP_SETPCAP: the zygote has it and shrinks the set;
	 * the broker, forked from a zygote without it, inherits the zygote's bounding set. */
	if (capng_get_caps_process() < 0)
		return -EPERM;
	if (!capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP))
		sel = CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT;
	capng_clear(CAPNG_SELECT_ALL);
	for (int c = 0; c <= 63; c++) {
		if (!(keep & (1ull << c)))
			continue;
		if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET,
				 (unsigned int)c) < 0)
			return -EINVAL;
	}
	if (capng_apply(sel) < 0)
		return -EPERM;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return 0;
}

static int add_rules(scmp_filter_ctx ctx, uint32_t action, const char *const *names)
{
	for (; *names; names++) {
		int nr = seccomp_syscall_resolve_name(*names), ret;

		if (nr == __NR_SCMP_ERROR)
			continue;   /* not on this architecture */
		ret = seccomp_rule_add(ctx, action, nr, 0);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int finish(scmp_filter_ctx ctx, int export_fd)
{
	int ret = export_fd >= 0 ? seccomp_export_pfc(ctx, export_fd) : seccomp_load(ctx);

	seccomp_release(ctx);
	return ret;
}

int dpdkmp_sandbox_load_secondary(int allow_ioport, int export_fd)
{
	static const uint64_t ns_flags[] = { CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS,
					     CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID,
					     CLONE_NEWNET, CLONE_NEWTIME };
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	uint32_t deny = SCMP_ACT_ERRNO(EPERM);
	int ret = 0;

	if (!ctx)
		return -ENOMEM;
	/* Another architecture's syscall numbers (i386, x32) would bypass the list: kill. */
	seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	for (const struct dpdkmp_syscall_group *g = dpdkmp_denied_groups; g->name && !ret; g++)
		ret = add_rules(ctx, deny, g->syscalls);
	if (!ret && !allow_ioport)
		ret = add_rules(ctx, deny, ioport_syscalls);
	/* clone3 takes its flags through a pointer, which seccomp cannot read: make glibc fall
	 * back to clone, whose flags are checked. */
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	for (size_t i = 0; !ret && i < sizeof(ns_flags) / sizeof(ns_flags[0]); i++)
		ret = seccomp_rule_add(ctx, deny, SCMP_SYS(clone), 1,
				       SCMP_A0_64(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]));
	if (ret < 0) {
		seccomp_release(ctx);
		return ret;
	}
	return finish(ctx, export_fd);
}

int dpdkmp_sandbox_load_broker(int export_fd)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int ret;

	if (!ctx)
		return -ENOMEM;
	seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	ret = add_rules(ctx, SCMP_ACT_ALLOW, dpdkmp_broker_syscalls);
	if (ret < 0) {
		seccomp_release(ctx);
		return ret;
	}
	return finish(ctx, export_fd);
}

void dpdkmp_caps_describe(uint64_t caps, char *out, size_t len)
{
	size_t o = 0;

	out[0] = '\0';
	for (int c = 0; c <= 63; c++) {
		const char *n;
		int w;

		if (!(caps & (1ull << c)))
			continue;
		n = capng_capability_to_name((unsigned int)c);
		w = snprintf(out + o, o < len ? len - o : 0, "%sCAP_%s", o ? "," : "", n ? n : "?");
		if (w > 0)
			o += (size_t)w;
	}
	for (char *p = out; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	if (!o)
		snprintf(out, len, "none");
}
