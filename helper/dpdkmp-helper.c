/* dpdkmp-helper: the privileged control helper. `setup` prepares the host (hugepages, hugetlbfs,
 * bpffs, tracefs, the DPDK runtime directory) idempotently; `guard` loads, pins, unloads and
 * reports the BPF guard (bpf/guard.bpf.c, contract in bpf/guard.h); `status` shows all of it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <linux/types.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "guard.h"
#include "policy.h"
#include "guard.skel.h"

#define TAG "dpdkmp-helper"
#define BPFFS_DIR "/sys/fs/bpf"
#define TRACEFS_DIR "/sys/kernel/tracing"
#define RUNTIME_DIR "/var/run/dpdk"
#define HUGETLBFS_DIR "/dev/hugepages"
#define BTF_VMLINUX "/sys/kernel/btf/vmlinux"
#define NODE_DIR "/sys/devices/system/node"
#define PROG_PREFIX "dpdkmp_"	/* every guard program is named dpdkmp_* (bpftool prog show) */

#ifndef TRACEFS_MAGIC
#define TRACEFS_MAGIC 0x74726163
#endif
#ifndef ENOTSUPP
#define ENOTSUPP 524	/* kernel-internal "operation not supported", seen from bpf(2) */
#endif

static bool verbose;
static bool libbpf_quiet;	/* while probing whether the kernel takes fentry */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dpdkmp-helper setup [--check] [--hugepages N] [--node N] [--page-size 2M|1G]\n"
		"                           [--hugetlbfs-dir DIR] [--owner USER] [--group GROUP]\n"
		"                           [--mode MODE] [--bpffs] [--tracefs] [--runtime-dir[=DIR]]\n"
		"       dpdkmp-helper guard load [--policy kill|warn] [--group GROUP] [--all-events]\n"
		"                                [--hooks auto|fentry|mmlock|syscalls] [--replace]\n"
		"       dpdkmp-helper guard unload\n"
		"       dpdkmp-helper guard status\n"
		"       dpdkmp-helper status\n"
		"       dpdkmp-helper [-v] ... | --help\n"
		"\n"
		"  setup         make the host ready for dpdkmp; idempotent. Without a part option\n"
		"                it checks the hugetlbfs mount, bpffs, tracefs and the runtime\n"
		"                directory; hugepages are only reserved with --hugepages.\n"
		"    --check           change nothing; list what would change (exit 1 if anything)\n"
		"    --hugepages N     N pages of --page-size on each node (or on --node); never\n"
		"                      below the pages in use\n"
		"    --node N          only NUMA node N (default: every node)\n"
		"    --page-size SZ    2M (default) or 1G, for --hugepages and the hugetlbfs mount\n"
		"    --hugetlbfs-dir D hugetlbfs mount point (default " HUGETLBFS_DIR ")\n"
		"    --owner/--group/--mode  owner, group and mode of the hugetlbfs root and of the\n"
		"                      runtime directory\n"
		"    --bpffs           bpffs mounted on " BPFFS_DIR ", searchable by others (o+x)\n"
		"    --tracefs         tracefs mounted on " TRACEFS_DIR "\n"
		"    --runtime-dir[=D] the DPDK runtime directory (default " RUNTIME_DIR ")\n"
		"  guard load    load the guard, attach it and pin it under " DPDKMP_GUARD_PIN_DIR "\n"
		"    --policy P        kill (default): SIGKILL a child that changes a window while\n"
		"                      loading; warn: report it only\n"
		"    --group G         members of G may read events and stats (dpdkmp-trace)\n"
		"    --all-events      report every mapping change of tracked processes\n"
		"    --hooks H         fentry: fentry/fexit on the mm functions, only they pay;\n"
		"                      mmlock: tracepoints on the mmap lock and unknown prctls,\n"
		"                      no syscall pays, window changes are reported per window\n"
		"                      (for kernels that refuse BPF trampolines);\n"
		"                      syscalls: raw syscall tracepoints, every syscall pays;\n"
		"                      auto (default): the first of these the kernel takes\n"
		"    --replace         reload a loaded guard, keeping its maps (tracked processes)\n"
		"  guard unload  unpin everything, which detaches the guard\n"
		"  guard status  loaded or not, policy, programs, tracked processes, counters\n"
		"  status        hugepages, mounts and the guard in one view\n"
		"\n"
		"examples:\n"
		"  dpdkmp-helper setup --check\n"
		"  dpdkmp-helper setup --hugepages 1024 --group dpdk --mode 0770 --bpffs --runtime-dir\n"
		"  dpdkmp-helper setup --hugepages 4 --page-size 1G --node 0 --hugetlbfs-dir /mnt/huge1G\n"
		"  dpdkmp-helper guard load --policy warn --group dpdk\n"
		"  dpdkmp-helper guard status\n"
		"  dpdkmp-helper guard unload\n");
}

static void err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, TAG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if ((level == LIBBPF_DEBUG || libbpf_quiet) && !verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int need_root(const char *what)
{
	if (geteuid() == 0)
		return 0;
	err("%s needs root (CAP_SYS_ADMIN, CAP_BPF and CAP_PERFMON): run it with sudo", what);
	return -EPERM;
}

/* ---------------------------------------------------------------- small file helpers */

static int read_long(const char *path, long *out)
{
	char buf[64];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	buf[n] = '\0';
	*out = strtol(buf, NULL, 10);
	return 0;
}

static int write_long(const char *path, long v)
{
	char buf[32];
	int fd, len, rc = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%ld\n", v);
	if (write(fd, buf, len) != len)
		rc = -errno;
	close(fd);
	return rc;
}

/* mountinfo escapes blanks and backslashes as \ooo */
static void unescape(char *s)
{
	char *d = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] && s[3]) {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*d++ = *s++;
		}
	}
	*d = '\0';
}

struct mnt {
	char fstype[32];
	char super[256];	/* per-superblock options, e.g. "rw,pagesize=2M" */
};

/* The file system mounted on DIR (the top of the stack), from /proc/self/mountinfo.
 * 1 when something is mounted there, 0 when not. */
static int find_mount(const char *dir, struct mnt *m)
{
	char real[PATH_MAX], line[4096];
	int found = 0;
	FILE *f;

	if (!realpath(dir, real))
		return errno == ENOENT ? 0 : -errno;
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *tok, *mp = NULL, *dash;
		int i = 0;

		for (tok = strtok_r(line, " ", &save); tok && i < 5; tok = strtok_r(NULL, " ", &save))
			if (++i == 5)
				mp = tok;
		if (!mp)
			continue;
		unescape(mp);
		if (strcmp(mp, real))
			continue;
		/* optional fields end at " - ", then fstype, source, super options */
		dash = save ? strstr(save, "- ") : NULL;
		if (!dash)
			continue;
		if (sscanf(dash, "- %31s %*s %255s", m->fstype, m->super) < 1)
			continue;
		found = 1;
	}
	fclose(f);
	return found;
}

/* pagesize=2M / 1024M / 1G in hugetlbfs super options, in kB */
static unsigned long mount_page_kb(const char *super)
{
	const char *p = strstr(super, "pagesize=");
	unsigned long v;
	char unit = 0;

	if (!p || sscanf(p + 9, "%lu%c", &v, &unit) < 1)
		return 0;
	switch (unit) {
	case 'G': return v << 20;
	case 'M': return v << 10;
	case 'K': case 'k': return v;
	default: return v >> 10;
	}
}

static void mkdir_p(const char *path, mode_t mode)
{
	char tmp[PATH_MAX], *p;

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(tmp, mode);
		*p = '/';
	}
	mkdir(tmp, mode);
}

/* ---------------------------------------------------------------- setup */

struct setup {
	bool check;
	long hugepages;		/* -1: leave the reservation alone */
	int node;		/* -1: every node */
	unsigned long page_kb;
	const char *hugedir;
	const char *rundir;
	bool owner_set, group_set, mode_set;
	uid_t owner;
	gid_t group;
	mode_t mode;
	bool do_hugetlbfs, do_bpffs, do_tracefs, do_rundir;
	int changes;		/* changed, or would change with --check */
	int errors;
};

static void say(struct setup *s, bool change, const char *fmt, ...)
{
	va_list ap;

	if (change)
		s->changes++;
	printf("%-12s", !change ? "ok" : s->check ? "would set" : "set");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void setup_node_pages(struct setup *s, const char *node)
{
	char dir[PATH_MAX], path[PATH_MAX + 32];
	long nr, nfree, surplus = 0, in_use, target, got;
	int rc;

	snprintf(dir, sizeof(dir), NODE_DIR "/%s/hugepages/hugepages-%lukB", node, s->page_kb);
	snprintf(path, sizeof(path), "%s/nr_hugepages", dir);
	rc = read_long(path, &nr);
	if (rc) {
		err("cannot read %s: %s (no %lu kB pages on this machine? try --page-size 2M)",
		    path, strerror(-rc), s->page_kb);
		s->errors++;
		return;
	}
	snprintf(path, sizeof(path), "%s/free_hugepages", dir);
	if (read_long(path, &nfree))
		nfree = nr;
	snprintf(path, sizeof(path), "%s/surplus_hugepages", dir);
	read_long(path, &surplus);
	in_use = nr + surplus - nfree;
	if (in_use < 0)
		in_use = 0;
	target = s->hugepages > in_use ? s->hugepages : in_use;
	if (target == nr) {
		say(s, false, "hugepages %s %lukB: %ld (%ld in use)", node, s->page_kb, nr, in_use);
		return;
	}
	say(s, true, "hugepages %s %lukB: %ld -> %ld%s", node, s->page_kb, nr, target,
	    target > s->hugepages ? " (the pages in use)" : "");
	if (s->check)
		return;
	snprintf(path, sizeof(path), "%s/nr_hugepages", dir);
	rc = write_long(path, target);
	if (rc || read_long(path, &got) || got != target) {
		err("%s: asked for %ld pages, the kernel has %ld (%s); memory is fragmented or short:"
		    " reserve them at boot (hugepages= on the kernel command line)",
		    path, target, rc ? nr : got, rc ? strerror(-rc) : "partial allocation");
		s->errors++;
	}
}

static void setup_hugepages(struct setup *s)
{
	char name[32];
	struct dirent *de;
	int seen = 0;
	DIR *d;

	if (s->node >= 0) {
		snprintf(name, sizeof(name), "node%d", s->node);
		if (access(NODE_DIR, F_OK) == 0) {
			char p[PATH_MAX];

			snprintf(p, sizeof(p), NODE_DIR "/%s", name);
			if (access(p, F_OK)) {
				err("no NUMA node %d (see %s)", s->node, NODE_DIR);
				s->errors++;
				return;
			}
		}
		setup_node_pages(s, name);
		return;
	}
	d = opendir(NODE_DIR);
	if (!d) {
		err("cannot list %s: %s", NODE_DIR, strerror(errno));
		s->errors++;
		return;
	}
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "node", 4) || de->d_name[4] < '0' || de->d_name[4] > '9')
			continue;
		setup_node_pages(s, de->d_name);
		seen++;
	}
	closedir(d);
	if (!seen) {
		err("no NUMA node in %s", NODE_DIR);
		s->errors++;
	}
}

/* owner, group and mode of a directory we manage (only those asked for) */
static void setup_owner(struct setup *s, const char *what, const char *dir)
{
	struct stat st;
	uid_t uid;
	gid_t gid;
	mode_t mode;

	if (stat(dir, &st)) {
		if (!s->check) {
			err("cannot stat %s: %s", dir, strerror(errno));
			s->errors++;
		}
		return;
	}
	uid = s->owner_set ? s->owner : st.st_uid;
	gid = s->group_set ? s->group : st.st_gid;
	mode = s->mode_set ? s->mode : (st.st_mode & 07777);
	if (uid == st.st_uid && gid == st.st_gid && mode == (st.st_mode & 07777)) {
		say(s, false, "%s %s: %u:%u %04o", what, dir, st.st_uid, st.st_gid, st.st_mode & 07777);
		return;
	}
	say(s, true, "%s %s: %u:%u %04o -> %u:%u %04o", what, dir, st.st_uid, st.st_gid,
	    st.st_mode & 07777, uid, gid, mode);
	if (s->check)
		return;
	if (chown(dir, uid, gid) || chmod(dir, mode)) {
		err("cannot set the owner or mode of %s: %s", dir, strerror(errno));
		s->errors++;
	}
}

static void setup_hugetlbfs(struct setup *s)
{
	char opts[128];
	struct mnt m;
	unsigned long kb;
	int rc, len;

	rc = find_mount(s->hugedir, &m);
	if (rc < 0) {
		err("cannot read the mounts: %s", strerror(-rc));
		s->errors++;
		return;
	}
	if (rc && strcmp(m.fstype, "hugetlbfs")) {
		err("%s is a %s mount, not hugetlbfs: unmount it or choose another --hugetlbfs-dir",
		    s->hugedir, m.fstype);
		s->errors++;
		return;
	}
	if (rc) {
		kb = mount_page_kb(m.super);
		if (kb && kb != s->page_kb) {
			err("%s is mounted with %lu kB pages, not %lu kB: umount %s, or choose another"
			    " --hugetlbfs-dir or --page-size", s->hugedir, kb, s->page_kb, s->hugedir);
			s->errors++;
			return;
		}
		say(s, false, "hugetlbfs %s mounted (%s)", s->hugedir, m.super);
	} else {
		/* uid, gid and mode at mount time, so the root is never briefly too open */
		len = snprintf(opts, sizeof(opts), "pagesize=%luK", s->page_kb);
		if (s->owner_set)
			len += snprintf(opts + len, sizeof(opts) - len, ",uid=%u", s->owner);
		if (s->group_set)
			len += snprintf(opts + len, sizeof(opts) - len, ",gid=%u", s->group);
		if (s->mode_set)
			snprintf(opts + len, sizeof(opts) - len, ",mode=%o", s->mode);
		say(s, true, "hugetlbfs %s: mount (%s)", s->hugedir, opts);
		if (s->check)
			return;
		mkdir_p(s->hugedir, 0755);
		if (mount("nodev", s->hugedir, "hugetlbfs", MS_NOSUID | MS_NODEV, opts)) {
			err("cannot mount hugetlbfs on %s (%s): %s", s->hugedir, opts, strerror(errno));
			s->errors++;
			return;
		}
	}
	/* an existing mount keeps its options; the root's owner and mode are what matter */
	if (s->owner_set || s->group_set || s->mode_set)
		setup_owner(s, "hugetlbfs", s->hugedir);
}

static void setup_pseudofs(struct setup *s, const char *dir, const char *type, long magic,
			   const char *opts)
{
	struct statfs sf;

	if (statfs(dir, &sf) == 0 && sf.f_type == magic) {
		say(s, false, "%s %s mounted", type, dir);
		return;
	}
	say(s, true, "%s %s: mount", type, dir);
	if (s->check)
		return;
	if (mount(type, dir, type, MS_NOSUID | MS_NODEV | MS_NOEXEC, opts)) {
		err("cannot mount %s on %s: %s%s", type, dir, strerror(errno),
		    errno == ENODEV ? " (the kernel lacks it)" : "");
		s->errors++;
	}
}

/* bpffs: group members of the guard must be able to reach /sys/fs/bpf/dpdkmp, so others need
 * search (x) permission on the root; it lists nothing and opens nothing by itself. */
static void setup_bpffs(struct setup *s)
{
	struct stat st;

	setup_pseudofs(s, BPFFS_DIR, "bpf", BPF_FS_MAGIC, "mode=0711");
	if (stat(BPFFS_DIR, &st))
		return;
	if ((st.st_mode & 0011) == 0011) {
		say(s, false, "bpf %s searchable (%04o)", BPFFS_DIR, st.st_mode & 07777);
		return;
	}
	say(s, true, "bpf %s: mode %04o -> %04o", BPFFS_DIR, st.st_mode & 07777,
	    (st.st_mode | 0011) & 07777);
	if (!s->check && chmod(BPFFS_DIR, (st.st_mode | 0011) & 07777)) {
		err("cannot chmod %s: %s", BPFFS_DIR, strerror(errno));
		s->errors++;
	}
}

static void setup_rundir(struct setup *s)
{
	struct stat st;

	if (stat(s->rundir, &st) == 0 && !S_ISDIR(st.st_mode)) {
		err("%s exists and is not a directory: remove it", s->rundir);
		s->errors++;
		return;
	}
	if (stat(s->rundir, &st)) {
		say(s, true, "runtime dir %s: create", s->rundir);
		if (s->check)
			return;
		mkdir_p(s->rundir, s->mode_set ? s->mode : 0755);
	}
	if (s->owner_set || s->group_set || s->mode_set)
		setup_owner(s, "runtime dir", s->rundir);
	else
		say(s, false, "runtime dir %s exists", s->rundir);
}

static int cmd_setup(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "check", no_argument, NULL, 'c' },
		{ "hugepages", required_argument, NULL, 'n' },
		{ "node", required_argument, NULL, 'N' },
		{ "page-size", required_argument, NULL, 'p' },
		{ "hugetlbfs-dir", required_argument, NULL, 'd' },
		{ "owner", required_argument, NULL, 'o' },
		{ "group", required_argument, NULL, 'g' },
		{ "mode", required_argument, NULL, 'm' },
		{ "bpffs", no_argument, NULL, 'b' },
		{ "tracefs", no_argument, NULL, 't' },
		{ "runtime-dir", optional_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct setup s = {
		.hugepages = -1, .node = -1, .page_kb = 2048,
		.hugedir = HUGETLBFS_DIR, .rundir = RUNTIME_DIR,
	};
	bool parts = false;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			s.check = true;
			break;
		case 'n':
			s.hugepages = strtol(optarg, &end, 10);
			if (*end || s.hugepages < 0) {
				err("--hugepages %s: a number of pages", optarg);
				return 2;
			}
			break;
		case 'N':
			s.node = strtol(optarg, &end, 10);
			if (*end || s.node < 0) {
				err("--node %s: a NUMA node number", optarg);
				return 2;
			}
			break;
		case 'p':
			if (!strcasecmp(optarg, "2M") || !strcmp(optarg, "2048kB"))
				s.page_kb = 2048;
			else if (!strcasecmp(optarg, "1G") || !strcmp(optarg, "1048576kB"))
				s.page_kb = 1048576;
			else {
				err("--page-size %s: 2M or 1G", optarg);
				return 2;
			}
			break;
		case 'd':
			s.hugedir = optarg;
			s.do_hugetlbfs = parts = true;
			break;
		case 'o':
			if (dpdkmp_parse_uid(optarg, &s.owner)) {
				err("--owner %s: no such user", optarg);
				return 2;
			}
			s.owner_set = true;
			break;
		case 'g':
			if (dpdkmp_parse_gid(optarg, &s.group)) {
				err("--group %s: no such group (groupadd --system %s)", optarg, optarg);
				return 2;
			}
			s.group_set = true;
			break;
		case 'm':
			s.mode = strtoul(optarg, &end, 8);
			if (*end || s.mode > 07777) {
				err("--mode %s: an octal mode such as 0770", optarg);
				return 2;
			}
			s.mode_set = true;
			break;
		case 'b':
			s.do_bpffs = parts = true;
			break;
		case 't':
			s.do_tracefs = parts = true;
			break;
		case 'r':
			if (optarg)
				s.rundir = optarg;
			s.do_rundir = parts = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		err("setup: unexpected argument %s", argv[optind]);
		return 2;
	}
	if (s.owner_set || s.group_set || s.mode_set) {
		/* ownership applies to the hugetlbfs root and to the runtime directory */
		if (!s.do_hugetlbfs && !s.do_rundir)
			s.do_hugetlbfs = s.do_rundir = true;
		parts = true;
	}
	if (s.hugepages >= 0)
		parts = true;
	if (!parts)
		s.do_hugetlbfs = s.do_bpffs = s.do_tracefs = s.do_rundir = true;
	if (!s.check && need_root("setup"))
		return 1;

	if (s.hugepages >= 0)
		setup_hugepages(&s);
	if (s.do_hugetlbfs)
		setup_hugetlbfs(&s);
	if (s.do_bpffs)
		setup_bpffs(&s);
	if (s.do_tracefs)
		setup_pseudofs(&s, TRACEFS_DIR, "tracefs", TRACEFS_MAGIC, NULL);
	if (s.do_rundir)
		setup_rundir(&s);

	if (s.check) {
		printf("%d change%s needed\n", s.changes, s.changes == 1 ? "" : "s");
		return s.errors ? 2 : s.changes ? 1 : 0;
	}
	return s.errors ? 1 : 0;
}

/* ---------------------------------------------------------------- guard */

struct guard_file {
	const char *name;
	mode_t mode;
	bool group;	/* owned by the --group (else root:root) */
};

/* events must be writable to consume (the consumer position page); procs and zygotes stay
 * root's: a group member able to write them could untrack itself or move the windows. */
static const struct guard_file guard_maps[] = {
	{ "events", 0660, true },
	{ "stats", 0640, true },
	{ "procs", 0600, false },
	{ "zygotes", 0600, false },
};

static int pin_path(char *buf, size_t len, const char *name)
{
	if (snprintf(buf, len, DPDKMP_GUARD_PIN_DIR "/%s", name) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

static bool guard_loaded(void)
{
	char p[PATH_MAX];

	pin_path(p, sizeof(p), "events");
	return access(p, F_OK) == 0;
}

/* bpffs on /sys/fs/bpf, mounted when missing */
static int ensure_bpffs(void)
{
	struct statfs sf;

	if (statfs(BPFFS_DIR, &sf) == 0 && sf.f_type == BPF_FS_MAGIC)
		return 0;
	printf("bpffs is not mounted on %s: mounting it\n", BPFFS_DIR);
	if (mount("bpf", BPFFS_DIR, "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0711")) {
		err("cannot mount bpffs on %s: %s (mount -t bpf bpf %s)", BPFFS_DIR, strerror(errno),
		    BPFFS_DIR);
		return -errno;
	}
	return 0;
}

/* Programs named dpdkmp_* in the kernel (attached or held by some fd). */
static int count_our_progs(void)
{
	struct bpf_prog_info info;
	__u32 id = 0, len;
	int n = 0, fd;

	while (bpf_prog_get_next_id(id, &id) == 0) {
		fd = bpf_prog_get_fd_by_id(id);
		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 &&
		    !strncmp(info.name, PROG_PREFIX, strlen(PROG_PREFIX)))
			n++;
		close(fd);
	}
	return n;
}

static const char *load_hint(int e)
{
	switch (e) {
	case EPERM:
	case EACCES:
		return "not permitted: run as root; with --hooks fentry, the kernel may refuse BPF"
		       " trampolines (try --hooks syscalls)";
	case ENOTSUPP:
	case EOPNOTSUPP:
		return "the kernel lacks fentry/fexit (BPF trampolines need x86-64 and"
		       " CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS)";
	case ENOENT:
	case ESRCH:
		return "a hooked kernel function is missing (do_mmap, __vm_munmap, __x64_sys_mremap,"
		       " do_brk_flags, __x64_sys_prctl) or the kernel has no BTF; run with -v";
	case EINVAL:
		return "the verifier or the kernel refused the program; run with -v for its log";
	default:
		return "run with -v for libbpf's log";
	}
}

enum hooks { HOOKS_AUTO, HOOKS_FENTRY, HOOKS_MMLOCK, HOOKS_SYSCALLS };

/* Which programs each hook set loads; fork and exit tracking are in all of them. */
static const char *const fentry_progs[] = {
	"dpdkmp_mmap", "dpdkmp_munmap", "dpdkmp_mremap", "dpdkmp_brk", "dpdkmp_prctl", NULL,
};
static const char *const mmlock_progs[] = { "dpdkmp_mmlock", "dpdkmp_prctl_unknown", NULL };
static const char *const syscall_progs[] = { "dpdkmp_sysenter", "dpdkmp_sysexit", NULL };

static const char *hooks_name(enum hooks h)
{
	return h == HOOKS_FENTRY ? "fentry/fexit" : h == HOOKS_MMLOCK ? "mmap-lock" : "syscall";
}

struct load_opts {
	enum hooks hooks;
	__u32 policy;
	bool emit_all;
	bool replace;
	gid_t group;
};

static int chown_pin(const char *path, gid_t group, mode_t mode)
{
	if (chown(path, 0, group) || chmod(path, mode)) {
		err("cannot set the owner or mode of %s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

/* Pin a link atomically over an older one (--replace): pin beside it, then rename over it;
 * the old link goes when its last reference (the old pin) does. bpffs refuses names with a
 * dot, hence the "new_" prefix. */
static int pin_link(struct bpf_link *link, const char *prog)
{
	char path[PATH_MAX], tmp[PATH_MAX], name[128];
	int rc;

	snprintf(name, sizeof(name), "link_%s", prog);
	pin_path(path, sizeof(path), name);
	snprintf(name, sizeof(name), "new_link_%s", prog);
	pin_path(tmp, sizeof(tmp), name);
	unlink(tmp);
	rc = bpf_link__pin(link, tmp);
	if (rc) {
		err("cannot pin %s: %s", tmp, strerror(-rc));
		return rc;
	}
	if (rename(tmp, path)) {
		rc = -errno;
		err("cannot rename %s to %s: %s", tmp, path, strerror(errno));
		unlink(tmp);
		return rc;
	}
	return chown_pin(path, 0, 0600);
}

/* Links of programs that no longer exist (an older guard replaced by a newer one). */
static void remove_stale_links(struct guard *skel)
{
	char path[PATH_MAX];
	struct bpf_program *prog;
	struct dirent *de;
	bool keep;
	DIR *d;

	d = opendir(DPDKMP_GUARD_PIN_DIR);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "link_", 5))
			continue;
		keep = false;
		bpf_object__for_each_program(prog, skel->obj)
			if (bpf_program__autoload(prog) &&
			    !strcmp(de->d_name + 5, bpf_program__name(prog)))
				keep = true;
		if (keep)
			continue;
		pin_path(path, sizeof(path), de->d_name);
		unlink(path);
	}
	closedir(d);
}

static int guard_unpin_all(void);

/* Programs behind the pinned links, to see them go after --replace. */
static int old_prog_ids(__u32 *ids, int max)
{
	char path[PATH_MAX];
	struct bpf_link_info info;
	struct dirent *de;
	__u32 len;
	int n = 0, fd;
	DIR *d;

	d = opendir(DPDKMP_GUARD_PIN_DIR);
	if (!d)
		return 0;
	while ((de = readdir(d)) && n < max) {
		if (strncmp(de->d_name, "link_", 5))
			continue;
		pin_path(path, sizeof(path), de->d_name);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
			ids[n++] = info.prog_id;
		close(fd);
	}
	closedir(d);
	return n;
}

/* A released link detaches from a work queue: until then old and new programs both run. */
static void wait_progs_gone(const __u32 *ids, int n)
{
	int left = n, fd;

	for (int t = 0; t < 50 && left; t++) {
		left = 0;
		for (int i = 0; i < n; i++) {
			fd = bpf_prog_get_fd_by_id(ids[i]);
			if (fd >= 0) {
				left++;
				close(fd);
			}
		}
		if (left)
			usleep(100 * 1000);
	}
	if (left)
		printf("note: %d program%s of the replaced guard still in the kernel: a process"
		       " holds them (bpftool prog show)\n", left, left == 1 ? "" : "s");
}

static bool in_list(const char *name, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(name, *list))
			return true;
	return false;
}

/* open, set rodata, load and attach one hook set; NULL and *err on failure */
static struct guard *guard_try(const struct load_opts *o, enum hooks hooks, int *errp,
			       const char **stage)
{
	char path[PATH_MAX];
	struct bpf_program *prog;
	struct guard *skel;
	const char *name;
	size_t i;
	int rc;

	skel = guard__open();
	if (!skel) {
		*errp = errno;
		*stage = "open";
		return NULL;
	}
	skel->rodata->policy = o->policy;
	skel->rodata->emit_all = o->emit_all;
	bpf_object__for_each_program(prog, skel->obj) {
		name = bpf_program__name(prog);
		if ((hooks != HOOKS_FENTRY && in_list(name, fentry_progs)) ||
		    (hooks != HOOKS_MMLOCK && in_list(name, mmlock_progs)) ||
		    (hooks != HOOKS_SYSCALLS && in_list(name, syscall_progs)))
			bpf_program__set_autoload(prog, false);
	}
	/* Pinned maps are reused as they are: --replace keeps the tracked processes, the
	 * zygotes' windows and the ring buffer its consumers already read. */
	for (i = 0; i < sizeof(guard_maps) / sizeof(guard_maps[0]); i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(skel->obj, guard_maps[i].name);

		pin_path(path, sizeof(path), guard_maps[i].name);
		if (!m || bpf_map__set_pin_path(m, path)) {
			*errp = ENOENT;
			*stage = "open";
			goto fail;
		}
	}
	rc = guard__load(skel);
	if (rc) {
		*errp = -rc;
		*stage = "load";
		goto fail;
	}
	rc = guard__attach(skel);
	if (rc) {
		*errp = -rc;
		*stage = "attach";
		goto fail;
	}
	return skel;
fail:
	guard__destroy(skel);
	return NULL;
}

static int guard_load(const struct load_opts *o)
{
	char path[PATH_MAX];
	struct bpf_program *prog;
	struct guard *skel = NULL;
	const char *stage = "load";
	enum hooks hooks;
	struct stat st;
	__u32 old_ids[32];
	int nold = 0;
	bool fresh;
	size_t i;
	int e = 0;

	if (need_root("guard load"))
		return 1;
	if (access(BTF_VMLINUX, R_OK)) {
		err("no %s: the kernel was built without BTF (CONFIG_DEBUG_INFO_BTF=y is needed"
		    " for CO-RE, tp_btf and fentry)", BTF_VMLINUX);
		return 1;
	}
	if (ensure_bpffs())
		return 1;
	if (guard_loaded() && !o->replace) {
		printf("guard already loaded (" DPDKMP_GUARD_PIN_DIR "); guard status shows it,"
		       " --replace reloads it\n");
		return 0;
	}
	fresh = !guard_loaded();
	if (!fresh)
		nold = old_prog_ids(old_ids, 32);
	if (mkdir(DPDKMP_GUARD_PIN_DIR, 0750) && errno != EEXIST) {
		err("cannot create %s: %s", DPDKMP_GUARD_PIN_DIR, strerror(errno));
		return 1;
	}
	if (chown_pin(DPDKMP_GUARD_PIN_DIR, o->group, 0750))
		goto fail;

	/* auto: the cheapest set the kernel accepts. fentry costs only the hooked calls; the
	 * mmap-lock set costs no syscall but reports window changes rather than calls; the
	 * syscall tracepoints slow every syscall of the host (docs/BENCHMARKS.md). */
	hooks = o->hooks == HOOKS_AUTO ? HOOKS_FENTRY : o->hooks;
	libbpf_quiet = o->hooks == HOOKS_AUTO;
	skel = guard_try(o, hooks, &e, &stage);
	if (!skel && o->hooks == HOOKS_AUTO) {
		printf("the kernel refuses fentry/fexit (%s: %s): using the mmap-lock and "
		       "prctl tracepoints\n", stage, strerror(e));
		hooks = HOOKS_MMLOCK;
		skel = guard_try(o, hooks, &e, &stage);
	}
	libbpf_quiet = false;
	if (!skel && o->hooks == HOOKS_AUTO) {
		printf("the kernel lacks them too (%s: %s): using the raw syscall tracepoints;"
		       " every syscall on this host is slower while the guard is loaded\n",
		       stage, strerror(e));
		hooks = HOOKS_SYSCALLS;
		skel = guard_try(o, hooks, &e, &stage);
	}
	if (!skel) {
		err("cannot %s the guard (%s hooks): %s: %s", stage, hooks_name(hooks), strerror(e),
		    load_hint(e));
		if (!fresh)
			err("if a pinned map is incompatible: dpdkmp-helper guard unload, then load");
		goto fail;
	}
	for (i = 0; i < sizeof(guard_maps) / sizeof(guard_maps[0]); i++) {
		pin_path(path, sizeof(path), guard_maps[i].name);
		if (chown_pin(path, guard_maps[i].group ? o->group : 0, guard_maps[i].mode))
			goto fail;
	}
	bpf_object__for_each_program(prog, skel->obj) {
		struct bpf_link *link = NULL;

		if (!bpf_program__autoload(prog))
			continue;
		for (i = 0; i < (size_t)skel->skeleton->prog_cnt; i++)
			if (*skel->skeleton->progs[i].prog == prog)
				link = *skel->skeleton->progs[i].link;
		if (!link || pin_link(link, bpf_program__name(prog)))
			goto fail;
	}
	remove_stale_links(skel);
	wait_progs_gone(old_ids, nold);
	printf("guard %s: %s hooks, policy %s%s, pinned under %s (group %u)\n",
	       fresh ? "loaded" : "replaced", hooks_name(hooks),
	       o->policy == DPDKMP_GUARD_POLICY_KILL ? "kill" : "warn",
	       o->emit_all ? ", all events" : "", DPDKMP_GUARD_PIN_DIR, o->group);
	if (stat(BPFFS_DIR, &st) == 0 && o->group && (st.st_mode & 0001) == 0)
		printf("note: %s is mode %04o: members of group %u cannot reach the guard;"
		       " dpdkmp-helper setup --bpffs makes it searchable\n",
		       BPFFS_DIR, st.st_mode & 07777, o->group);
	/* the pins hold the links: destroying the skeleton leaves the guard attached */
	guard__destroy(skel);
	return 0;
fail:
	guard__destroy(skel);
	if (fresh)
		guard_unpin_all();
	return 1;
}

/* Every pin goes; the links go with their last reference, which detaches the programs. */
static int guard_unpin_all(void)
{
	char path[PATH_MAX];
	struct dirent *de;
	int rc = 0;
	DIR *d;

	d = opendir(DPDKMP_GUARD_PIN_DIR);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		pin_path(path, sizeof(path), de->d_name);
		if (unlink(path)) {
			rc = -errno;
			err("cannot remove %s: %s", path, strerror(errno));
		}
	}
	closedir(d);
	if (rmdir(DPDKMP_GUARD_PIN_DIR) && errno != ENOENT) {
		rc = -errno;
		err("cannot remove %s: %s", DPDKMP_GUARD_PIN_DIR, strerror(errno));
	}
	return rc;
}

static int guard_unload(void)
{
	struct statfs sf;
	int i, n;

	if (need_root("guard unload"))
		return 1;
	if (statfs(BPFFS_DIR, &sf) || sf.f_type != BPF_FS_MAGIC || access(DPDKMP_GUARD_PIN_DIR, F_OK)) {
		n = count_our_progs();
		printf("guard not loaded%s\n", n ? "" : "; nothing attached");
		if (n) {
			err("%d program%s named " PROG_PREFIX "* still in the kernel, not pinned by us:"
			    " some process holds them (bpftool prog show; bpftool link show)",
			    n, n == 1 ? "" : "s");
			return 1;
		}
		return 0;
	}
	if (guard_unpin_all())
		return 1;
	/* links and programs are freed after an RCU grace period */
	for (i = 0; i < 50 && (n = count_our_progs()) > 0; i++)
		usleep(100 * 1000);
	if (n) {
		err("unpinned, but %d program%s named " PROG_PREFIX "* remain: a process holds their"
		    " link or program fds (bpftool link show; bpftool prog show)", n, n == 1 ? "" : "s");
		return 1;
	}
	printf("guard unloaded; no " PROG_PREFIX "* program left in the kernel\n");
	return 0;
}

/* Open a pinned map read-only, the way a group member would. */
static int open_pinned(const char *name)
{
	LIBBPF_OPTS(bpf_obj_get_opts, oo, .file_flags = BPF_F_RDONLY);
	char path[PATH_MAX];

	pin_path(path, sizeof(path), name);
	return bpf_obj_get_opts(path, &oo);
}

static long count_keys(const char *name)
{
	__u32 key, next, *prev = NULL;
	long n = 0;
	int fd;

	fd = open_pinned(name);
	if (fd < 0)
		return -errno;
	while (bpf_map_get_next_key(fd, prev, &next) == 0 && n < 1000000) {
		key = next;
		prev = &key;
		n++;
	}
	close(fd);
	return n;
}

static int read_stats(__u64 tot[DPDKMP_GUARD_ST_MAX])
{
	int ncpu = libbpf_num_possible_cpus(), fd, rc = 0;
	__u64 *v;

	if (ncpu <= 0)
		return -EINVAL;
	fd = open_pinned("stats");
	if (fd < 0)
		return -errno;
	v = calloc(ncpu, sizeof(*v));
	if (!v) {
		close(fd);
		return -ENOMEM;
	}
	for (__u32 k = 0; k < DPDKMP_GUARD_ST_MAX; k++) {
		tot[k] = 0;
		if (bpf_map_lookup_elem(fd, &k, v)) {
			rc = -errno;
			break;
		}
		for (int c = 0; c < ncpu; c++)
			tot[k] += v[c];
	}
	free(v);
	close(fd);
	return rc;
}

/* The settings a loaded guard runs with: its .rodata map, found from a pinned link. */
static int read_rodata(int prog_fd, struct guard__rodata *out)
{
	struct bpf_prog_info pinfo;
	struct bpf_map_info minfo;
	__u32 ids[16], len, zero = 0, i;
	char *val;
	int fd, rc = -ENOENT;

	memset(&pinfo, 0, sizeof(pinfo));
	pinfo.nr_map_ids = 16;
	pinfo.map_ids = (__u64)(unsigned long)ids;
	len = sizeof(pinfo);
	if (bpf_obj_get_info_by_fd(prog_fd, &pinfo, &len))
		return -errno;
	for (i = 0; i < pinfo.nr_map_ids && i < 16 && rc; i++) {
		fd = bpf_map_get_fd_by_id(ids[i]);
		if (fd < 0)
			continue;
		memset(&minfo, 0, sizeof(minfo));
		len = sizeof(minfo);
		if (bpf_obj_get_info_by_fd(fd, &minfo, &len) == 0 && strstr(minfo.name, ".rodata") &&
		    minfo.value_size >= sizeof(*out)) {
			val = calloc(1, minfo.value_size);
			if (val && bpf_map_lookup_elem(fd, &zero, val) == 0) {
				memcpy(out, val, sizeof(*out));
				rc = 0;
			}
			free(val);
		}
		close(fd);
	}
	return rc;
}

static int guard_status(void)
{
	char path[PATH_MAX];
	struct guard__rodata ro;
	struct bpf_link_info linfo;
	struct bpf_prog_info pinfo;
	__u64 st[DPDKMP_GUARD_ST_MAX];
	bool have_ro = false;
	struct dirent *de;
	int nlinks = 0, fd, pfd, rc;
	const char *hooks = "fentry/fexit (only the hooked mm functions pay)";
	__u32 len;
	DIR *d;

	d = opendir(DPDKMP_GUARD_PIN_DIR);
	if (!d) {
		if (errno == EACCES)
			printf("guard: %s not readable by uid %u (root, or a member of its group)\n",
			       DPDKMP_GUARD_PIN_DIR, getuid());
		else
			printf("guard: not loaded (no %s)\n", DPDKMP_GUARD_PIN_DIR);
		return errno == EACCES ? 1 : 3;
	}
	printf("guard: loaded, pinned under %s\n", DPDKMP_GUARD_PIN_DIR);
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "link_", 5))
			continue;
		nlinks++;
		if (!strcmp(de->d_name, "link_dpdkmp_sysenter"))
			hooks = "raw syscall tracepoints (every syscall on the host pays)";
		else if (!strcmp(de->d_name, "link_dpdkmp_mmlock"))
			hooks = "mmap-lock and prctl tracepoints (no syscall pays)";
		pin_path(path, sizeof(path), de->d_name);
		fd = bpf_obj_get(path);
		if (fd < 0) {
			printf("  %-24s (%s)\n", de->d_name, strerror(errno));
			continue;
		}
		memset(&linfo, 0, sizeof(linfo));
		len = sizeof(linfo);
		if (bpf_obj_get_info_by_fd(fd, &linfo, &len) == 0) {
			pfd = bpf_prog_get_fd_by_id(linfo.prog_id);
			memset(&pinfo, 0, sizeof(pinfo));
			len = sizeof(pinfo);
			if (pfd >= 0 && bpf_obj_get_info_by_fd(pfd, &pinfo, &len) == 0) {
				printf("  %-24s link %u prog %u %s, run %llu times",
				       de->d_name, linfo.id, linfo.prog_id, pinfo.name,
				       (unsigned long long)pinfo.run_cnt);
				if (pinfo.run_cnt && pinfo.run_time_ns)
					printf(", %llu ns each",
					       (unsigned long long)(pinfo.run_time_ns / pinfo.run_cnt));
				putchar('\n');
				if (!have_ro)
					have_ro = read_rodata(pfd, &ro) == 0;
			} else {
				printf("  %-24s link %u prog %u\n", de->d_name, linfo.id, linfo.prog_id);
			}
			if (pfd >= 0)
				close(pfd);
		}
		close(fd);
	}
	closedir(d);
	if (have_ro)
		printf("  policy: %s, events: %s\n",
		       ro.policy == DPDKMP_GUARD_POLICY_KILL ? "kill" : "warn",
		       ro.emit_all ? "all tracked mapping changes" : "windows only");
	else
		printf("  policy: unknown (reading it needs root)\n");
	printf("  links: %d, hooks: %s\n", nlinks, hooks);
	rc = (int)count_keys("procs");
	if (rc >= 0)
		printf("  tracked processes: %d\n", rc);
	rc = (int)count_keys("zygotes");
	if (rc >= 0)
		printf("  zygotes: %d\n", rc);
	if (read_stats(st) == 0)
		printf("  events: %llu, drops: %llu, violations: %llu\n",
		       (unsigned long long)st[DPDKMP_GUARD_ST_EVENTS],
		       (unsigned long long)st[DPDKMP_GUARD_ST_DROPS],
		       (unsigned long long)st[DPDKMP_GUARD_ST_VIOLATIONS]);
	else
		printf("  counters: %s/stats not readable by uid %u\n", DPDKMP_GUARD_PIN_DIR, getuid());
	return 0;
}

static int cmd_guard(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "group", required_argument, NULL, 'g' },
		{ "all-events", no_argument, NULL, 'a' },
		{ "replace", no_argument, NULL, 'r' },
		{ "hooks", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct load_opts o = { .policy = DPDKMP_GUARD_POLICY_KILL };
	const char *verb;
	int c;

	if (argc < 2) {
		err("guard: load, unload or status?");
		usage(stderr);
		return 2;
	}
	verb = argv[1];
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (!strcmp(optarg, "kill"))
				o.policy = DPDKMP_GUARD_POLICY_KILL;
			else if (!strcmp(optarg, "warn"))
				o.policy = DPDKMP_GUARD_POLICY_WARN;
			else {
				err("--policy %s: kill or warn", optarg);
				return 2;
			}
			break;
		case 'g':
			if (dpdkmp_parse_gid(optarg, &o.group)) {
				err("--group %s: no such group (groupadd --system %s)", optarg, optarg);
				return 2;
			}
			break;
		case 'a':
			o.emit_all = true;
			break;
		case 'r':
			o.replace = true;
			break;
		case 'H':
			if (!strcmp(optarg, "auto"))
				o.hooks = HOOKS_AUTO;
			else if (!strcmp(optarg, "fentry"))
				o.hooks = HOOKS_FENTRY;
			else if (!strcmp(optarg, "mmlock"))
				o.hooks = HOOKS_MMLOCK;
			else if (!strcmp(optarg, "syscalls"))
				o.hooks = HOOKS_SYSCALLS;
			else {
				err("--hooks %s: auto, fentry, mmlock or syscalls", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		err("guard %s: unexpected argument %s", verb, argv[optind]);
		return 2;
	}
	if (!strcmp(verb, "load"))
		return guard_load(&o);
	if (!strcmp(verb, "unload"))
		return guard_unload();
	if (!strcmp(verb, "status"))
		return guard_status() == 1 ? 1 : 0;
	err("guard %s: load, unload or status", verb);
	return 2;
}

/* ---------------------------------------------------------------- status */

static void status_mount(const char *what, const char *dir)
{
	struct stat st;
	struct mnt m;
	int rc = find_mount(dir, &m);

	if (rc <= 0) {
		printf("  %-10s %-24s not mounted\n", what, dir);
		return;
	}
	if (stat(dir, &st))
		memset(&st, 0, sizeof(st));
	printf("  %-10s %-24s %s (%s) %u:%u %04o\n", what, dir, m.fstype, m.super,
	       st.st_uid, st.st_gid, st.st_mode & 07777);
}

static void status_hugetlbfs(void)
{
	char line[4096];
	int n = 0;
	FILE *f;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char mp[PATH_MAX], *dash = strstr(line, " - hugetlbfs ");

		if (!dash || sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1)
			continue;
		unescape(mp);
		status_mount("hugetlbfs", mp);
		n++;
	}
	fclose(f);
	if (!n)
		printf("  %-10s none mounted (dpdkmp-helper setup)\n", "hugetlbfs");
}

static void status_hugepages(void)
{
	char p[PATH_MAX];
	struct dirent *de, *pe;
	long nr, nfree;
	DIR *d, *hd;

	printf("hugepages:\n");
	d = opendir(NODE_DIR);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "node", 4) || de->d_name[4] < '0' || de->d_name[4] > '9')
			continue;
		snprintf(p, sizeof(p), NODE_DIR "/%s/hugepages", de->d_name);
		hd = opendir(p);
		if (!hd)
			continue;
		while ((pe = readdir(hd))) {
			char q[PATH_MAX + 512];

			if (strncmp(pe->d_name, "hugepages-", 10))
				continue;
			snprintf(q, sizeof(q), "%s/%s/nr_hugepages", p, pe->d_name);
			if (read_long(q, &nr))
				continue;
			snprintf(q, sizeof(q), "%s/%s/free_hugepages", p, pe->d_name);
			if (read_long(q, &nfree))
				nfree = 0;
			printf("  %-6s %-22s total %ld, free %ld\n", de->d_name, pe->d_name + 10,
			       nr, nfree);
		}
		closedir(hd);
	}
	closedir(d);
}

static int cmd_status(void)
{
	struct stat st;

	status_hugepages();
	printf("mounts:\n");
	status_hugetlbfs();
	status_mount("bpffs", BPFFS_DIR);
	status_mount("tracefs", TRACEFS_DIR);
	if (stat(RUNTIME_DIR, &st) == 0)
		printf("  %-10s %-24s %u:%u %04o\n", "runtime", RUNTIME_DIR, st.st_uid, st.st_gid,
		       st.st_mode & 07777);
	else
		printf("  %-10s %-24s missing\n", "runtime", RUNTIME_DIR);
	guard_status();
	return 0;
}

int main(int argc, char **argv)
{
	int i = 1;

	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			verbose = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			err("unknown option %s", argv[i]);
			usage(stderr);
			return 2;
		}
		i++;
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	libbpf_set_print(libbpf_log);
	if (!strcmp(argv[i], "setup"))
		return cmd_setup(argc - i, argv + i);
	if (!strcmp(argv[i], "guard"))
		return cmd_guard(argc - i, argv + i);
	if (!strcmp(argv[i], "status"))
		return cmd_status();
	err("unknown command %s", argv[i]);
	usage(stderr);
	return 2;
}
