// SPDX-License-Identifier: GPL-2.0
/* guard.bpf.c: the BPF guard. Follows every registered zygote and its descendants, and checks
 * each mapping change (mmap, munmap, mremap, brk, shmat) of a descendant against the zygote's
 * hugepage VA windows: a change inside a window while the child is LOADING is a violation.
 * The contract (maps, marker, events, verdicts) is guard.h; the loader is dpdkmp-helper.
 *
 * Three hook sets, one chosen by the loader:
 *  - fentry: fentry/fexit on the mm functions; only the hooked calls pay; exact per call.
 *  - mmlock: for kernels that refuse BPF trampolines (lockdown, some VMs): the marker through
 *    the task_prctl_unknown tracepoint and a check of the windows' layout each time a tracked
 *    loading process takes its mmap lock (every mapping change does), and again at RUN.
 *    No syscall pays; reports which window changed and how, not which call did it.
 *  - syscalls: the raw syscall tracepoints: exact per call, but every syscall of every task
 *    takes the tracepoint path (measured in docs/BENCHMARKS.md).
 * Forks and exits use tp_btf in all three. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "guard.h"

char LICENSE[] SEC("license") = "GPL";

/* Settings: rodata, set by the loader between open and load. */
const volatile __u32 policy = DPDKMP_GUARD_POLICY_KILL;
const volatile __u32 emit_all = 0;	/* also report tracked mapping changes outside windows */

#define SIGKILL		9
#define PAGE_SIZE	4096ULL
#define PAGE_ALIGN(x)	(((x) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))
#define IS_ERR_VALUE(x)	((unsigned long)(x) >= (unsigned long)-4095)
#define NO_WINDOW	0xffffffffu
#define ENOENT		2
#define PF_EXITING	0x00000004

/* Sized for many fork servers and their children; an entry is 32 bytes (plus hash overhead). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct dpdkmp_guard_proc);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct dpdkmp_guard_zygote);
} zygotes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DPDKMP_GUARD_ST_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* A registration (584 bytes) does not fit the 512-byte BPF stack. Per-CPU: a non-sleepable
 * program does not migrate; only a second REGISTER preempting this one on the same CPU could
 * share the buffer, and registration happens once per zygote. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dpdkmp_guard_reg);
} regbuf SEC(".maps");

static __always_inline void stat_inc(__u32 k)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &k);

	if (v)
		(*v)++;
}

static __always_inline __u32 cur_tgid(void)
{
	return bpf_get_current_pid_tgid() >> 32;
}

/* A zeroed event (ring buffer memory is recycled, and every byte reaches user space) with the
 * identity of the process and its zygote's prefix. NULL when the ring buffer is full. */
static __always_inline struct dpdkmp_guard_event *
ev_new(__u32 type, __u32 tgid, __u32 tid, const struct dpdkmp_guard_proc *p)
{
	struct dpdkmp_guard_event *e;
	struct dpdkmp_guard_zygote *z;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_inc(DPDKMP_GUARD_ST_DROPS);
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->version = DPDKMP_GUARD_VERSION;
	e->type = type;
	e->tgid = tgid;
	e->tid = tid;
	e->window = NO_WINDOW;
	e->ts_ns = bpf_ktime_get_ns();
	if (p) {
		e->ppid = p->parent;
		e->zygote = p->zygote;
		e->phase = p->phase;
		z = bpf_map_lookup_elem(&zygotes, &p->zygote);
		if (z)
			__builtin_memcpy(e->prefix, z->prefix, sizeof(e->prefix));
	}
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	return e;
}

static __always_inline void ev_submit(struct dpdkmp_guard_event *e)
{
	bpf_ringbuf_submit(e, 0);
	stat_inc(DPDKMP_GUARD_ST_EVENTS);
}

static __always_inline int window_find(const struct dpdkmp_guard_zygote *z, __u64 start, __u64 end)
{
	__u32 n = z->nwindows;

	for (__u32 i = 0; i < DPDKMP_GUARD_MAX_WINDOWS; i++) {
		if (i >= n)
			break;
		if (start < z->w[i].base + z->w[i].len && z->w[i].base < end)
			return i;
	}
	return -1;
}

/* A violation by the current process p: counted, and under the kill policy SIGKILL first, so
 * that a full ring buffer cannot save the process. The fexit/sys_exit programs see the change
 * done; the signal stops the process before it returns to user space. */
static __always_inline __u32 violation_at(struct dpdkmp_guard_proc *p, int can_kill)
{
	__sync_fetch_and_add(&p->violations, 1);
	stat_inc(DPDKMP_GUARD_ST_VIOLATIONS);
	if (policy == DPDKMP_GUARD_POLICY_KILL && can_kill) {
		bpf_send_signal(SIGKILL);
		return DPDKMP_GUARD_KILLED;
	}
	return DPDKMP_GUARD_VIOLATION;
}

static __always_inline __u32 violation(struct dpdkmp_guard_proc *p)
{
	return violation_at(p, 1);
}

/* The verdict on a mapping change [start, start+len) by the current process p, and its event.
 * The zygote itself is never checked: it builds the windows. */
static __always_inline void check_range(struct dpdkmp_guard_proc *p, __u32 type, __u32 sc,
					__u64 start, __u64 len)
{
	struct dpdkmp_guard_zygote *z;
	struct dpdkmp_guard_event *e;
	__u64 id = bpf_get_current_pid_tgid();
	__u32 verdict;
	__u64 end;
	int w = -1;

	if (p->phase == DPDKMP_GUARD_PHASE_ZYGOTE || !len)
		return;
	end = start + len;
	if (end < start)
		end = ~0ULL;
	z = bpf_map_lookup_elem(&zygotes, &p->zygote);
	if (z)
		w = window_find(z, start, end);
	if (w < 0) {
		if (!emit_all)
			return;
		verdict = DPDKMP_GUARD_OK;
	} else if (p->phase == DPDKMP_GUARD_PHASE_LOADING) {
		verdict = violation(p);
	} else {
		verdict = DPDKMP_GUARD_EXPECTED;	/* RUN: EAL's own mappings, for the monitor */
	}

	e = ev_new(type, id >> 32, (__u32)id, p);
	if (!e)
		return;
	e->verdict = verdict;
	e->window = w < 0 ? NO_WINDOW : (__u32)w;
	e->syscall = sc;
	e->addr = start;
	e->len = len;
	ev_submit(e);
}

/* mremap: the destination is a MAP; a moved mapping empties its source (even with
 * MREMAP_DONTUNMAP, whose pages move), a shrink in place drops the tail. old_len 0 duplicates
 * a shared mapping and leaves the source alone. */
static __always_inline void on_mremap(struct dpdkmp_guard_proc *p, __u64 old, __u64 old_len,
				      __u64 new_len, __u64 ret)
{
	old_len = PAGE_ALIGN(old_len);
	new_len = PAGE_ALIGN(new_len);
	check_range(p, DPDKMP_GUARD_EV_MAP, DPDKMP_GUARD_SC_MREMAP, ret, new_len);
	if (old_len == 0)
		return;
	if (ret != old)
		check_range(p, DPDKMP_GUARD_EV_UNMAP, DPDKMP_GUARD_SC_MREMAP, old, old_len);
	else if (new_len < old_len)
		check_range(p, DPDKMP_GUARD_EV_UNMAP, DPDKMP_GUARD_SC_MREMAP, old + new_len,
			    old_len - new_len);
}

/* REGISTER: the caller becomes a zygote with the windows it describes. A process already
 * tracked as a descendant cannot: it would leave its zygote's windows unguarded. */
static __always_inline void on_register(__u32 tgid, __u32 tid, __u64 uptr, __u64 size)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct dpdkmp_guard_reg *reg;
	struct dpdkmp_guard_zygote *z;
	struct dpdkmp_guard_proc *p, np = {};
	struct dpdkmp_guard_event *e;
	__u32 zero = 0, n;

	p = bpf_map_lookup_elem(&procs, &tgid);
	if (p && p->phase != DPDKMP_GUARD_PHASE_ZYGOTE) {
		/* While LOADING, the attempt is a violation (a REGISTER event, len 0); after RUN
		 * it is simply ignored. */
		if (p->phase == DPDKMP_GUARD_PHASE_LOADING) {
			__u32 verdict = violation(p);

			e = ev_new(DPDKMP_GUARD_EV_REGISTER, tgid, tid, p);
			if (e) {
				e->verdict = verdict;
				ev_submit(e);
			}
		}
		return;
	}
	if (size != sizeof(*reg))
		return;
	reg = bpf_map_lookup_elem(&regbuf, &zero);
	if (!reg || bpf_probe_read_user(reg, sizeof(*reg), (const void *)uptr))
		return;
	n = reg->nwindows;
	if (reg->version != DPDKMP_GUARD_VERSION || n > DPDKMP_GUARD_MAX_WINDOWS)
		return;
	for (__u32 i = 0; i < DPDKMP_GUARD_MAX_WINDOWS; i++) {
		if (i >= n)
			break;
		/* a window that wraps could never match: refuse rather than guard nothing */
		if (!reg->w[i].len || reg->w[i].base + reg->w[i].len < reg->w[i].base)
			return;
	}
	/* Same size and the same offsets from prefix on: rewrite the header in place. */
	z = (struct dpdkmp_guard_zygote *)reg;
	z->nwindows = n;
	z->pad = 0;
	z->prefix[sizeof(z->prefix) - 1] = 0;
	if (bpf_map_update_elem(&zygotes, &tgid, z, BPF_ANY))
		return;
	if (!p) {
		np.zygote = tgid;
		np.parent = BPF_CORE_READ(task, real_parent, tgid);
		np.phase = DPDKMP_GUARD_PHASE_ZYGOTE;
		np.start_ns = bpf_ktime_get_ns();
		if (bpf_map_update_elem(&procs, &tgid, &np, BPF_ANY)) {
			bpf_map_delete_elem(&zygotes, &tgid);
			return;
		}
		p = bpf_map_lookup_elem(&procs, &tgid);
		if (!p)
			return;
	}
	e = ev_new(DPDKMP_GUARD_EV_REGISTER, tgid, tid, p);
	if (!e)
		return;
	e->len = n;
	ev_submit(e);
}

/* RUN: loading is over; later mappings inside the windows are the secondary's own. */
static __always_inline void on_run(__u32 tgid, __u32 tid)
{
	struct dpdkmp_guard_proc *p = bpf_map_lookup_elem(&procs, &tgid);
	struct dpdkmp_guard_event *e;

	if (!p || p->phase != DPDKMP_GUARD_PHASE_LOADING)
		return;
	p->phase = DPDKMP_GUARD_PHASE_RUN;
	e = ev_new(DPDKMP_GUARD_EV_PHASE, tgid, tid, p);
	if (!e)
		return;
	e->addr = DPDKMP_GUARD_PHASE_LOADING;
	e->len = DPDKMP_GUARD_PHASE_RUN;
	ev_submit(e);
}

/* The marker prctl(DPDKMP_GUARD_PRCTL, cmd, arg3, arg4): the option does not exist, the kernel
 * answers EINVAL after we look. regs are the caller's saved user registers. */
static __always_inline void on_prctl(const struct pt_regs *regs)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 option = (__u32)BPF_CORE_READ(regs, di);	/* prctl's option is an int */
	__u64 cmd;

	if (option != DPDKMP_GUARD_PRCTL)
		return;
	cmd = BPF_CORE_READ(regs, si);
	if (cmd == DPDKMP_GUARD_CMD_REGISTER)
		on_register(id >> 32, (__u32)id, BPF_CORE_READ(regs, dx), BPF_CORE_READ(regs, r10));
	else if (cmd == DPDKMP_GUARD_CMD_RUN)
		on_run(id >> 32, (__u32)id);
}

/* ---------------------------------------------------------------- hooks: fentry/fexit */

/* SysV shared memory: do_shmat() maps the segment with do_mmap() on a file the kernel names
 * "SYSV<key>", which gives the exact length (a do_shmat hook would only see the address). */
static __always_inline __u32 mmap_kind(struct file *file)
{
	char name[4] = {};
	const unsigned char *s;

	if (!file)
		return DPDKMP_GUARD_SC_MMAP;
	s = BPF_CORE_READ(file, f_path.dentry, d_name.name);
	if (bpf_probe_read_kernel(name, sizeof(name), s) == 0 &&
	    name[0] == 'S' && name[1] == 'Y' && name[2] == 'S' && name[3] == 'V')
		return DPDKMP_GUARD_SC_SHMAT;
	return DPDKMP_GUARD_SC_MMAP;
}

/* Every user mmap (and shmat, and the ELF loader) ends in do_mmap(); fexit sees the address the
 * kernel chose, so hints, MAP_FIXED and MAP_FIXED_NOREPLACE are all covered. */
SEC("fexit/do_mmap")
int BPF_PROG(dpdkmp_mmap, struct file *file, unsigned long addr, unsigned long len,
	     unsigned long prot, unsigned long flags, vm_flags_t vm_flags, unsigned long pgoff,
	     unsigned long *populate, struct list_head *uf, unsigned long ret)
{
	__u32 tgid = cur_tgid();
	struct dpdkmp_guard_proc *p = bpf_map_lookup_elem(&procs, &tgid);

	if (!p || IS_ERR_VALUE(ret))
		return 0;
	check_range(p, DPDKMP_GUARD_EV_MAP, mmap_kind(file), ret, PAGE_ALIGN(len));
	return 0;
}

/* munmap(2) is checked before it happens (fentry): the arguments are the whole story. */
SEC("fentry/__vm_munmap")
int BPF_PROG(dpdkmp_munmap, unsigned long start, size_t len, bool unlock)
{
	__u32 tgid = cur_tgid();
	struct dpdkmp_guard_proc *p = bpf_map_lookup_elem(&procs, &tgid);

	if (!p)
		return 0;
	check_range(p, DPDKMP_GUARD_EV_UNMAP, DPDKMP_GUARD_SC_MUNMAP, start, PAGE_ALIGN(len));
	return 0;
}

/* mremap(2) has no inner function with both ranges and the result, so the syscall wrapper:
 * its arguments are in the saved user registers (x86-64: di, si, dx, r10, r8). */
SEC("fexit/__x64_sys_mremap")
int BPF_PROG(dpdkmp_mremap, const struct pt_regs *regs, long ret)
{
	__u32 tgid = cur_tgid();
	struct dpdkmp_guard_proc *p = bpf_map_lookup_elem(&procs, &tgid);

	if (!p || IS_ERR_VALUE(ret))
		return 0;
	on_mremap(p, BPF_CORE_READ(regs, di), BPF_CORE_READ(regs, si), BPF_CORE_READ(regs, dx),
		  ret);
	return 0;
}

/* brk(2) growth (and the ELF loader's bss) ends in do_brk_flags(): [addr, addr+len). */
SEC("fexit/do_brk_flags")
int BPF_PROG(dpdkmp_brk, struct vma_iterator *vmi, struct vm_area_struct *vma,
	     unsigned long addr, unsigned long len, vm_flags_t vm_flags, int ret)
{
	__u32 tgid = cur_tgid();
	struct dpdkmp_guard_proc *p = bpf_map_lookup_elem(&procs, &tgid);

	if (!p || ret)
		return 0;
	check_range(p, DPDKMP_GUARD_EV_MAP, DPDKMP_GUARD_SC_BRK, addr, PAGE_ALIGN(len));
	return 0;
}

/* fentry on the wrapper costs only prctl callers, not every syscall. */
SEC("fentry/__x64_sys_prctl")
int BPF_PROG(dpdkmp_prctl, const struct pt_regs *regs)
{
	on_prctl(regs);
	return 0;
}

/* ---------------------------------------------------------------- hooks: raw syscalls */

/* x86-64 syscall numbers (the tracepoints see native syscalls; ia32 ones are not checked) */
#define NR_mmap		9
#define NR_munmap	11
#define NR_brk		12
#define NR_mremap	25
#define NR_shmat	30
#define NR_prctl	157

/* Before the syscall: munmap and brk are judged on their arguments (a brk that would grow into
 * a window is the attempt that counts; it would fail on the reservation anyway), and the
 * marker is read. */
SEC("tp_btf/sys_enter")
int BPF_PROG(dpdkmp_sysenter, struct pt_regs *regs, long id)
{
	struct dpdkmp_guard_proc *p;
	struct task_struct *task;
	__u64 a, old;
	__u32 tgid;

	if (id == NR_prctl) {
		on_prctl(regs);
		return 0;
	}
	if (id != NR_munmap && id != NR_brk)
		return 0;
	tgid = cur_tgid();
	p = bpf_map_lookup_elem(&procs, &tgid);
	if (!p)
		return 0;
	a = BPF_CORE_READ(regs, di);
	if (id == NR_munmap) {
		check_range(p, DPDKMP_GUARD_EV_UNMAP, DPDKMP_GUARD_SC_MUNMAP, a,
			    PAGE_ALIGN(BPF_CORE_READ(regs, si)));
		return 0;
	}
	task = bpf_get_current_task_btf();
	old = PAGE_ALIGN(BPF_CORE_READ(task, mm, brk));
	a = PAGE_ALIGN(a);
	if (a > old)
		check_range(p, DPDKMP_GUARD_EV_MAP, DPDKMP_GUARD_SC_BRK, old, a - old);
	return 0;
}

static long vma_len_cb(struct task_struct *task, struct vm_area_struct *vma, void *ctx)
{
	*(__u64 *)ctx = vma->vm_end - vma->vm_start;
	return 0;
}

/* After the syscall: the address the kernel chose. The arguments are still in the saved user
 * registers (only ax carries the result), the number in orig_ax. */
SEC("tp_btf/sys_exit")
int BPF_PROG(dpdkmp_sysexit, struct pt_regs *regs, long ret)
{
	struct dpdkmp_guard_proc *p;
	__u64 nr, len = PAGE_SIZE;
	__u32 tgid;

	nr = BPF_CORE_READ(regs, orig_ax);
	if (nr != NR_mmap && nr != NR_mremap && nr != NR_shmat)
		return 0;
	tgid = cur_tgid();
	p = bpf_map_lookup_elem(&procs, &tgid);
	if (!p || IS_ERR_VALUE(ret))
		return 0;
	if (nr == NR_mmap) {
		check_range(p, DPDKMP_GUARD_EV_MAP, DPDKMP_GUARD_SC_MMAP, ret,
			    PAGE_ALIGN(BPF_CORE_READ(regs, si)));
	} else if (nr == NR_mremap) {
		on_mremap(p, BPF_CORE_READ(regs, di), BPF_CORE_READ(regs, si),
			  BPF_CORE_READ(regs, dx), ret);
	} else {
		/* shmat returns only the address: the segment's VMA gives the length (one page
		 * if it cannot be looked up) */
		bpf_find_vma(bpf_get_current_task_btf(), ret, vma_len_cb, &len, 0);
		check_range(p, DPDKMP_GUARD_EV_MAP, DPDKMP_GUARD_SC_SHMAT, ret, len);
	}
	return 0;
}

/* ---------------------------------------------------------------- hooks: mmap lock */

#define VM_READ  0x1
#define VM_WRITE 0x2
#define VM_EXEC  0x4

struct layout_ctx {
	__u64 base;
	__u64 end;
	__u64 vstart;
	__u64 vend;
	__u32 bad;
};

/* The window must still be inside one inaccessible VMA: the zygote's PROT_NONE reservation the
 * child inherited (merged with a PROT_NONE neighbour is the same thing). */
static long layout_cb(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	struct layout_ctx *c = data;

	c->vstart = vma->vm_start;
	c->vend = vma->vm_end;
	c->bad = !(vma->vm_start <= c->base && vma->vm_end >= c->end &&
		   !(vma->vm_flags & (VM_READ | VM_WRITE | VM_EXEC)));
	return 0;
}

/* Checks every window of p's zygote in the current process's address space. One violation
 * event per process (under warn the state would be found again at each lock). */
static __always_inline void layout_check(struct dpdkmp_guard_proc *p)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct dpdkmp_guard_zygote *z;
	struct dpdkmp_guard_event *e;
	__u64 id = bpf_get_current_pid_tgid();

	if (p->phase != DPDKMP_GUARD_PHASE_LOADING || p->violations)
		return;
	z = bpf_map_lookup_elem(&zygotes, &p->zygote);
	if (!z)
		return;
	for (__u32 i = 0; i < DPDKMP_GUARD_MAX_WINDOWS; i++) {
		struct layout_ctx c = {};
		long r;

		if (i >= z->nwindows)
			break;
		c.base = z->w[i].base;
		c.end = z->w[i].base + z->w[i].len;
		r = bpf_find_vma(task, c.base, layout_cb, &c, 0);
		if (r == -ENOENT) {
			c.bad = 1;	/* nothing at the window's start: unmapped */
			c.vstart = c.base;
			c.vend = c.base;
		} else if (r) {
			continue;	/* -EBUSY: another thread holds the lock; next time */
		}
		if (!c.bad)
			continue;
		e = ev_new(c.vend > c.vstart ? DPDKMP_GUARD_EV_MAP : DPDKMP_GUARD_EV_UNMAP,
			   id >> 32, (__u32)id, p);
		{
			/* Found at exit (exit_mm takes the lock): too late to kill, say so. */
			__u32 verdict = violation_at(p, !(BPF_CORE_READ(task, flags) & PF_EXITING));

			if (!e)
				return;
			e->verdict = verdict;
		}
		e->window = i;
		e->syscall = DPDKMP_GUARD_SC_LAYOUT;
		/* What is there now: the VMA at the window's start (a split or a new mapping),
		 * or the window itself when nothing is. */
		e->addr = c.vend > c.vstart ? c.vstart : c.base;
		e->len = c.vend > c.vstart ? c.vend - c.vstart : z->w[i].len;
		ev_submit(e);
		return;
	}
}

/* Every mapping change takes the mmap lock for writing, and the next one (ld.so mprotects RELRO
 * after each library, EAL maps at init) finds the previous change done: the lock is not held
 * yet here, so the VMAs can be looked up. */
SEC("tp_btf/mmap_lock_start_locking")
int BPF_PROG(dpdkmp_mmlock, struct mm_struct *mm, bool write)
{
	__u32 tgid = cur_tgid();
	struct dpdkmp_guard_proc *p = bpf_map_lookup_elem(&procs, &tgid);
	struct task_struct *task;

	if (!p || p->phase != DPDKMP_GUARD_PHASE_LOADING)
		return 0;
	task = bpf_get_current_task_btf();
	if (BPF_CORE_READ(task, mm) != mm)
		return 0;	/* a tracked process reading another's maps */
	layout_check(p);
	return 0;
}

/* The marker, without any syscall hook: an unknown prctl option is traced (6.13+). RUN is
 * preceded by a last layout check, so that loading always ends with one. */
SEC("tp_btf/task_prctl_unknown")
int BPF_PROG(dpdkmp_prctl_unknown, int option, unsigned long arg2, unsigned long arg3,
	     unsigned long arg4, unsigned long arg5)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct dpdkmp_guard_proc *p;
	__u32 tgid = id >> 32;

	if ((__u32)option != DPDKMP_GUARD_PRCTL)
		return 0;
	if (arg2 == DPDKMP_GUARD_CMD_REGISTER) {
		on_register(tgid, (__u32)id, arg3, arg4);
	} else if (arg2 == DPDKMP_GUARD_CMD_RUN) {
		p = bpf_map_lookup_elem(&procs, &tgid);
		if (p)
			layout_check(p);
		on_run(tgid, (__u32)id);
	}
	return 0;
}

/* ---------------------------------------------------------------- processes */

/* Descendants: a new process (not a thread) of a tracked parent inherits its zygote. Children of
 * the zygote start LOADING; deeper descendants take their parent's phase. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(dpdkmp_fork, struct task_struct *parent, struct task_struct *child)
{
	struct dpdkmp_guard_proc *pp, np = {};
	struct dpdkmp_guard_event *e;
	__u32 ptgid, ctgid;
	int err;

	if (child->pid != child->tgid)
		return 0;
	ptgid = parent->tgid;
	pp = bpf_map_lookup_elem(&procs, &ptgid);
	if (!pp)
		return 0;
	ctgid = child->tgid;
	np.zygote = pp->zygote;
	np.parent = ptgid;
	np.phase = pp->phase == DPDKMP_GUARD_PHASE_ZYGOTE ? DPDKMP_GUARD_PHASE_LOADING : pp->phase;
	np.depth = pp->depth + 1;
	np.start_ns = bpf_ktime_get_ns();
	err = bpf_map_update_elem(&procs, &ctgid, &np, BPF_ANY);
	if (err)	/* procs is full: this child runs unguarded; say so loudly */
		stat_inc(DPDKMP_GUARD_ST_VIOLATIONS);

	e = ev_new(DPDKMP_GUARD_EV_SPAWN, ctgid, child->pid, &np);
	if (!e)
		return 0;
	if (err)
		e->verdict = DPDKMP_GUARD_VIOLATION;
	ev_submit(e);
	return 0;
}

/* The last thread of a tracked process exits (signal->live already dropped to 0). Threads
 * exiting together may both see 0: only the one whose delete succeeds reports. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(dpdkmp_exit, struct task_struct *task)
{
	struct dpdkmp_guard_proc *p, copy;
	struct dpdkmp_guard_event *e;
	__u32 tgid = task->tgid;

	p = bpf_map_lookup_elem(&procs, &tgid);
	if (!p || BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	/* A process that changed a window and exits before taking its mmap lock again is
	 * still reported (the mmap-lock hooks; the tracepoint runs before exit_mm). */
	if (p->phase == DPDKMP_GUARD_PHASE_LOADING && task == bpf_get_current_task_btf() &&
	    BPF_CORE_READ(task, mm))
		layout_check(p);
	copy = *p;
	if (bpf_map_delete_elem(&procs, &tgid))
		return 0;
	e = ev_new(DPDKMP_GUARD_EV_EXIT, tgid, task->pid, &copy);
	if (e) {
		e->addr = copy.violations;
		ev_submit(e);
	}
	if (copy.zygote == tgid)
		bpf_map_delete_elem(&zygotes, &tgid);
	return 0;
}
