/* guard.h: the contract between the BPF guard (guard.bpf.c), its loader (dpdkmp-helper),
 * its monitor (dpdkmp-trace) and libdpdkmp (registration and phase marker). Constants and
 * fixed-width structs only; included by BPF code (after vmlinux.h) and by user space (after
 * <linux/types.h>). */
#ifndef DPDKMP_GUARD_H
#define DPDKMP_GUARD_H

#define DPDKMP_GUARD_VERSION     1
#define DPDKMP_GUARD_PIN_DIR     "/sys/fs/bpf/dpdkmp"
/* Pinned objects under DPDKMP_GUARD_PIN_DIR: maps "events" (ringbuf), "procs", "zygotes",
 * "stats"; links "link_<program>". */

/* The marker: prctl(DPDKMP_GUARD_PRCTL, cmd, arg3, arg4, 0). No such prctl option exists, so
 * the kernel answers EINVAL whether or not the guard is loaded; the guard sees the call at
 * entry. A process can only describe itself with it. */
#define DPDKMP_GUARD_PRCTL       0x44504d50u /* "DPMP" */
#define DPDKMP_GUARD_CMD_REGISTER 1  /* zygote: arg3 = struct dpdkmp_guard_reg *, arg4 = size */
#define DPDKMP_GUARD_CMD_RUN      2  /* child: loading is over, the real EAL init starts */

#define DPDKMP_GUARD_MAX_WINDOWS 32

/* Phases of a tracked process. Children of a zygote start LOADING (from fork until their
 * real EAL init); a violation is a mapping change inside a window while LOADING. */
#define DPDKMP_GUARD_PHASE_ZYGOTE  1
#define DPDKMP_GUARD_PHASE_LOADING 2
#define DPDKMP_GUARD_PHASE_RUN     3

/* Policy (rodata, set at load). */
#define DPDKMP_GUARD_POLICY_WARN 0   /* event only */
#define DPDKMP_GUARD_POLICY_KILL 1   /* SIGKILL the violating process, and the event */

struct dpdkmp_guard_window {
	__u64 base;
	__u64 len;
};

/* What a zygote registers (user memory, read by the guard). */
struct dpdkmp_guard_reg {
	__u32 version;           /* DPDKMP_GUARD_VERSION */
	__u32 nwindows;
	char prefix[64];         /* --file-prefix, NUL-terminated */
	struct dpdkmp_guard_window w[DPDKMP_GUARD_MAX_WINDOWS];
};

/* Map "zygotes": key __u32 zygote tgid. */
struct dpdkmp_guard_zygote {
	__u32 nwindows;
	__u32 pad;
	char prefix[64];
	struct dpdkmp_guard_window w[DPDKMP_GUARD_MAX_WINDOWS];
};

/* Map "procs": key __u32 tgid; the zygote itself and every descendant. */
struct dpdkmp_guard_proc {
	__u32 zygote;            /* tgid of the zygote whose windows apply */
	__u32 parent;            /* tgid of the parent */
	__u32 phase;             /* DPDKMP_GUARD_PHASE_* */
	__u32 depth;             /* 0 zygote, 1 child, 2 grandchild... */
	__u64 violations;
	__u64 start_ns;          /* bpf_ktime_get_ns() at fork */
};

/* Event types */
#define DPDKMP_GUARD_EV_REGISTER 1   /* a zygote registered (len = number of windows) */
#define DPDKMP_GUARD_EV_SPAWN    2   /* a tracked process forked a process */
#define DPDKMP_GUARD_EV_PHASE    3   /* phase change (addr = old phase, len = new phase) */
#define DPDKMP_GUARD_EV_MAP      4   /* mmap, brk, shmat, mremap destination */
#define DPDKMP_GUARD_EV_UNMAP    5   /* munmap, mremap source */
#define DPDKMP_GUARD_EV_EXIT     6   /* a tracked process exited (addr = violations) */

/* Verdicts */
#define DPDKMP_GUARD_OK        0     /* nothing to say (spawn, phase, exit, outside windows) */
#define DPDKMP_GUARD_EXPECTED  1     /* inside a window after loading: EAL's own mapping */
#define DPDKMP_GUARD_VIOLATION 2     /* inside a window while loading, policy warn */
#define DPDKMP_GUARD_KILLED    3     /* inside a window while loading, process killed */

struct dpdkmp_guard_event {
	__u32 version;           /* DPDKMP_GUARD_VERSION */
	__u32 type;              /* DPDKMP_GUARD_EV_* */
	__u32 verdict;           /* DPDKMP_GUARD_* verdict */
	__u32 tgid;
	__u32 tid;
	__u32 ppid;              /* tracked parent */
	__u32 zygote;
	__u32 phase;             /* phase at the time of the event */
	__u32 window;            /* index of the window touched, or 0xffffffff */
	__u32 syscall;           /* for MAP/UNMAP: DPDKMP_GUARD_SC_* */
	__u64 ts_ns;             /* bpf_ktime_get_ns() (CLOCK_MONOTONIC) */
	__u64 addr;
	__u64 len;
	char comm[16];
	char prefix[64];
};

_Static_assert(sizeof(struct dpdkmp_guard_reg) == 584, "guard reg size");
_Static_assert(sizeof(struct dpdkmp_guard_zygote) == 584, "guard zygote size");
_Static_assert(sizeof(struct dpdkmp_guard_proc) == 32, "guard proc size");
_Static_assert(sizeof(struct dpdkmp_guard_event) == 144, "guard event size");

#define DPDKMP_GUARD_SC_LAYOUT 0  /* found as a changed window layout (mmap-lock hooks) */
#define DPDKMP_GUARD_SC_MMAP   1
#define DPDKMP_GUARD_SC_MUNMAP 2
#define DPDKMP_GUARD_SC_MREMAP 3
#define DPDKMP_GUARD_SC_BRK    4
#define DPDKMP_GUARD_SC_SHMAT  5

/* Map "stats": per-CPU array of __u64 */
#define DPDKMP_GUARD_ST_EVENTS     0
#define DPDKMP_GUARD_ST_DROPS      1  /* ring buffer full: events lost */
#define DPDKMP_GUARD_ST_VIOLATIONS 2
#define DPDKMP_GUARD_ST_MAX        3

#endif
