/* dpdkmp: the command line. `primary` starts a DPDK primary with libdpdkmp preloaded,
 * `run` is the launcher of one secondary, `status` asks a fork server what it runs.
 * It does not load DPDK itself, so that `dpdkmp run` starts fast. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "client.h"
#include "dpdkmp.h"
#include "json.h"
#include "dpdkmp_config.h"
#include "fdpass.h"
#include "log.h"
#include "policy.h"
#include "sandbox.h"
#include "proto.h"
#include "rundir.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dpdkmp primary [POLICY OPTIONS] [--] PROGRAM [ARGS...]\n"
		"       dpdkmp run [--] PROGRAM [ARGS...]\n"
		"       dpdkmp status [--file-prefix PREFIX] [--json]\n"
		"       dpdkmp check [--file-prefix PREFIX] [--pid PID...] [--probe] [--tap|--json] [-v]\n"
		"       dpdkmp policy [--pfc]\n"
		"       dpdkmp --version | --help\n"
		"\n"
		"  primary  run a DPDK primary with the dpdkmp fork server attached\n"
		"  run      run PROGRAM as a secondary forked from the fork server of the primary\n"
		"           with the --file-prefix found in ARGS (default \"%s\"); stdio, signals\n"
		"           and exit status (128+N when killed by signal N) are PROGRAM's\n"
		"  status   show the fork server, its windows and its live secondaries\n"
		"  check    compare the mappings of the primary and its secondaries (hugepages,\n"
		"           runtime files, executable, DPDK libraries, plugins); exit 0 equal,\n"
		"           1 different (dpdkmp check --help)\n"
		"  policy   show the seccomp policies of the fork server (--pfc: as loaded)\n"
		"\n"
		"policy options of primary (docs/SECURITY.md):\n"
		"  --config FILE             key = value lines with the keys below\n"
		"  --allow-uid UID[,UID...]  users allowed besides the primary's (and root)\n"
		"  --allow-gid GID[,GID...]  groups allowed\n"
		"  --socket-mode MODE        socket permissions (default 0600)\n"
		"  --socket-group GROUP      socket group\n"
		"  --max-per-uid N           live secondaries per client uid (default 0: no limit)\n"
		"  --keep-cap CAP[,CAP...]   capabilities kept beyond CAP_IPC_LOCK\n"
		"  --no-sandbox              no capability reduction, no seccomp (logged loudly)\n"
		"\n"
		"examples:\n"
		"  dpdkmp primary -- dpdk-testpmd -l 0-1 --no-pci --vdev net_null0 --file-prefix pg -- -i\n"
		"  dpdkmp run -- dpdk-proc-info --file-prefix pg -- --stats\n"
		"  dpdkmp status --file-prefix pg --json\n"
		"\n"
		"environment: DPDKMP_LOG=error|warning|info|debug, DPDKMP_LIB=path of libdpdkmp.so,\n"
		"             DPDKMP_DISABLE=1 (a preloaded libdpdkmp does nothing)\n",
		DPDKMP_DEFAULT_PREFIX);
}

/* libdpdkmp.so beside this binary in a build tree, else the installed one. */
static int find_lib(char *out, size_t len)
{
	const char *env = getenv("DPDKMP_LIB");
	char self[PATH_MAX], *slash;
	ssize_t l;

	if (env && *env) {
		if (access(env, R_OK) < 0)
			return -errno;
		snprintf(out, len, "%s", env);
		return 0;
	}
	l = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (l > 0) {
		self[l] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			if (snprintf(out, len, "%.*s/../eal-mp/libdpdkmp.so", PATH_MAX - 32, self) < (int)len &&
			    access(out, R_OK) == 0 && realpath(out, self)) {
				snprintf(out, len, "%s", self);
				return 0;
			}
		}
	}
	snprintf(out, len, "%s/libdpdkmp.so", DPDKMP_LIBDIR);
	return access(out, R_OK) == 0 ? 0 : -ENOENT;
}

static char **skip_dashdash(char **argv)
{
	return argv[0] && !strcmp(argv[0], "--") ? argv + 1 : argv;
}

/* Policy options before PROGRAM, checked here for an early message, handed to libdpdkmp in
 * DPDKMP_OPTIONS (same syntax as the config file) and DPDKMP_CONFIG. */
static int primary_options(char ***argvp)
{
	static const char *const keys[] = { "allow-uid", "allow-gid", "socket-mode", "socket-group",
					    "max-per-uid", "keep-cap", NULL };
	char **argv = *argvp, opts[4096] = "", err[1024];
	struct dpdkmp_policy check;
	size_t o = 0;

	for (; argv[0] && argv[0][0] == '-' && argv[0][1] == '-' && argv[0][2]; argv++) {
		const char *opt = argv[0] + 2, *val = NULL;
		size_t klen = strcspn(opt, "=");
		int known = 0;

		if (!strcmp(opt, "no-sandbox")) {
			o += (size_t)snprintf(opts + o, sizeof(opts) - o, "sandbox=no;");
			continue;
		}
		if (opt[klen] == '=')
			val = opt + klen + 1;
		else if (argv[1])
			val = *++argv;
		if (!strncmp(opt, "config", klen) && klen == 6) {
			if (!val || access(val, R_OK) < 0) {
				DPDKMP_ERR("--config %s: %s", val ? val : "", val ? strerror(errno) :
					   "missing file name");
				return -1;
			}
			setenv("DPDKMP_CONFIG", val, 1);
			continue;
		}
		for (int i = 0; keys[i]; i++)
			known |= strlen(keys[i]) == klen && !strncmp(opt, keys[i], klen);
		if (!known || !val) {
			DPDKMP_ERR("primary: unknown option or missing value: %s (see dpdkmp --help; "
				   "put `--` before PROGRAM)", argv[0]);
			return -1;
		}
		o += (size_t)snprintf(opts + o, sizeof(opts) - o, "%.*s=%s;", (int)klen, opt, val);
		if (o >= sizeof(opts)) {
			DPDKMP_ERR("primary: policy options too long");
			return -1;
		}
	}
	dpdkmp_policy_init(&check);
	if (o && dpdkmp_policy_parse(&check, opts, "command line", err, sizeof(err)) < 0) {
		DPDKMP_ERR("%s", err);
		return -1;
	}
	if (o)
		setenv("DPDKMP_OPTIONS", opts, 1);
	else
		unsetenv("DPDKMP_OPTIONS");
	*argvp = argv;
	return 0;
}

static int cmd_primary(char **argv)
{
	char lib[PATH_MAX], *pre = NULL;
	const char *old = getenv("LD_PRELOAD");

	if (primary_options(&argv) < 0)
		return 2;
	argv = skip_dashdash(argv);
	if (!argv[0]) {
		DPDKMP_ERR("primary: missing PROGRAM; usage: dpdkmp primary [OPTIONS] [--] PROGRAM [ARGS...]");
		return 2;
	}
	if (find_lib(lib, sizeof(lib)) < 0) {
		DPDKMP_ERR("cannot find libdpdkmp.so (looked beside this binary and in %s); set "
			   "DPDKMP_LIB to its path", DPDKMP_LIBDIR);
		return 1;
	}
	if (asprintf(&pre, "%s%s%s", lib, old && *old ? ":" : "", old && *old ? old : "") < 0)
		return 1;
	setenv("LD_PRELOAD", pre, 1);
	free(pre);
	execvp(argv[0], argv);
	DPDKMP_ERR("cannot execute %s: %s", argv[0], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}

static int cmd_policy(char **argv)
{
	int pfc = 0;

	for (; *argv; argv++) {
		if (!strcmp(*argv, "--pfc"))
			pfc = 1;
		else if (strcmp(*argv, "--print")) {
			DPDKMP_ERR("policy: unknown option %s (use --pfc)", *argv);
			return 2;
		}
	}
	if (pfc) {
		fflush(stdout);
		printf("# dpdk-secondary filter (zygote and children; iopl/ioperm allowed only with "
		       "--keep-cap CAP_SYS_RAWIO)\n");
		fflush(stdout);
		if (dpdkmp_sandbox_load_secondary(0, STDOUT_FILENO) < 0)
			return 1;
		printf("# broker filter (added on top of the one above)\n");
		fflush(stdout);
		return dpdkmp_sandbox_load_broker(STDOUT_FILENO) < 0;
	}
	printf("dpdk-secondary filter: zygote and every secondary; default allow, these fail "
	       "with EPERM:\n");
	for (const struct dpdkmp_syscall_group *g = dpdkmp_denied_groups; g->name; g++) {
		printf("  %-12s %s:\n              ", g->name, g->help);
		for (const char *const *sc = g->syscalls; *sc; sc++)
			printf(" %s", *sc);
		printf("\n");
	}
	printf("  %-12s port I/O, unless CAP_SYS_RAWIO is kept:\n               iopl ioperm\n",
	       "ioport");
	printf("  %-12s clone with any CLONE_NEW* flag (EPERM); clone3 (ENOSYS, glibc falls back "
	       "to clone)\n", "clone");
	printf("  other architectures' system calls kill the process\n\n");
	printf("broker filter: the broker only; default kill process, these are allowed:\n ");
	for (const char *const *sc = dpdkmp_broker_syscalls; *sc; sc++)
		printf(" %s", *sc);
	printf("\n\ncapabilities of the zygote and secondaries: CAP_IPC_LOCK, plus CAP_SYS_ADMIN "
	       "when the primary uses IOVA as PA, plus --keep-cap; the broker has none\n");
	return 0;
}

static int cmd_run(char **argv)
{
	struct dpdkmp_launch_opts o = { .exe_fd = -1 };
	int argc = 0;

	argv = skip_dashdash(argv);
	if (!argv[0]) {
		DPDKMP_ERR("run: missing PROGRAM; usage: dpdkmp run [--] PROGRAM [ARGS...]");
		return 2;
	}
	while (argv[argc])
		argc++;
	o.path = argv[0];
	o.argv = argv;
	o.envp = environ;
	o.prefix = dpdkmp_arg_value(argc, argv, "--file-prefix");
	return dpdkmp_launch(&o);
}

static const char *kind_name(uint32_t k)
{
	return k == DPDKMP_WIN_MEMSEG ? "memseg" : k == DPDKMP_WIN_RUNFILE ? "runfile" : "?";
}

static int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "file-prefix", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct dpdkmp_msg m;
	const struct dpdkmp_status *s;
	const struct dpdkmp_window *w;
	const struct dpdkmp_child_info *k;
	const char *prefix = DPDKMP_DEFAULT_PREFIX;
	char caps[256];
	int json = 0, c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "p:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'p': prefix = optarg; break;
		case 'j': json = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (dpdkmp_client_status(prefix, "status", &m, &s, &w, &k) < 0)
		return 1;
	if (json) {
		printf("{\"file_prefix\":");
		json_str(prefix);
		dpdkmp_caps_describe(s->caps, caps, sizeof(caps));
		printf(",\"zygote_pid\":%u,\"broker_pid\":%u,\"primary_pid\":%u,\"sandbox\":%s,"
		       "\"capabilities\":\"%s\",\"iova\":\"%s\",\"primary_exe\":", s->zygote_pid,
		       s->broker_pid, s->primary_pid, s->flags & DPDKMP_STATUS_SANDBOX ? "true" : "false",
		       caps, (s->flags >> 8) & DPDKMP_PRIMARY_IOVA_PA ? "PA" : "VA");
		json_str(s->primary_exe);
		printf(",\"runtime_dir\":");
		json_str(s->runtime_dir);
		printf(",\"mirror_segments\":%u,\"mirror_bytes\":%llu,\"pool_waiting\":%u",
		       s->mirror_segs, (unsigned long long)s->mirror_bytes, s->pool_waiting);
		printf(",\"windows\":[");
		for (uint32_t i = 0; i < s->nwindows; i++) {
			printf("%s{\"kind\":\"%s\",\"name\":", i ? "," : "", kind_name(w[i].kind));
			json_str(w[i].name);
			printf(",\"start\":\"0x%llx\",\"end\":\"0x%llx\",\"len\":%llu}",
			       (unsigned long long)w[i].addr, (unsigned long long)(w[i].addr + w[i].len),
			       (unsigned long long)w[i].len);
		}
		printf("],\"secondaries\":[");
		for (uint32_t i = 0; i < s->nchildren; i++) {
			printf("%s{\"pid\":%u,\"program\":", i ? "," : "", k[i].pid);
			json_str(k[i].program);
			printf(",\"launcher_pid\":%u,\"launcher_uid\":%u,\"start_ns\":%llu}",
			       k[i].launcher_pid, k[i].launcher_uid, (unsigned long long)k[i].start_ns);
		}
		printf("]}\n");
		return 0;
	}
	dpdkmp_caps_describe(s->caps, caps, sizeof(caps));
	printf("file prefix:  %s\nprimary:      pid %u (%s), IOVA as %s\n"
	       "fork server:  zygote pid %u, broker pid %u\nsandbox:      %s\n"
	       "runtime dir:  %s\nattach:       %u hugepage segments mirrored (%llu MiB), %u "
	       "children waiting\nwindows:      %u\n", prefix, s->primary_pid, s->primary_exe,
	       (s->flags >> 8) & DPDKMP_PRIMARY_IOVA_PA ? "PA" : "VA", s->zygote_pid, s->broker_pid,
	       s->flags & DPDKMP_STATUS_SANDBOX ? caps : "DISABLED (--no-sandbox)", s->runtime_dir,
	       s->mirror_segs, (unsigned long long)(s->mirror_bytes >> 20), s->pool_waiting,
	       s->nwindows);
	printf("  %-8s %-18s %-18s %10s  %s\n", "KIND", "START", "END", "SIZE", "NAME");
	for (uint32_t i = 0; i < s->nwindows; i++)
		printf("  %-8s 0x%-16llx 0x%-16llx %9lluM  %s\n", kind_name(w[i].kind),
		       (unsigned long long)w[i].addr, (unsigned long long)(w[i].addr + w[i].len),
		       (unsigned long long)(w[i].len >> 20), w[i].name);
	printf("secondaries:  %u\n", s->nchildren);
	if (s->nchildren)
		printf("  %-8s %-10s %-6s %s\n", "PID", "LAUNCHER", "UID", "PROGRAM");
	for (uint32_t i = 0; i < s->nchildren; i++)
		printf("  %-8u %-10u %-6u %s\n", k[i].pid, k[i].launcher_pid, k[i].launcher_uid,
		       k[i].program);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("dpdkmp %s (wire protocol v%d, DPDK ABI %s)\n", DPDKMP_VERSION,
		       DPDKMP_PROTO_VERSION, "23");
		return 0;
	}
	if (!strcmp(argv[1], "primary"))
		return cmd_primary(argv + 2);
	if (!strcmp(argv[1], "run"))
		return cmd_run(argv + 2);
	if (!strcmp(argv[1], "status"))
		return cmd_status(argc - 1, argv + 1);
	if (!strcmp(argv[1], "check"))
		return check_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "policy"))
		return cmd_policy(argv + 2);
	DPDKMP_ERR("unknown command '%s'; see dpdkmp --help", argv[1]);
	return 2;
}
