/* check: `dpdkmp check`, the command: its options, which primary and which secondaries (the
 * fork server's live ones, the --pid list, or a probe secondary), then compare each and report.
 * The roles it drives live in check_primary.c, check_probe.c, check_compare.c, check_report.c. */
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "check_internal.h"
#include "client.h"
#include "dpdkmp_config.h"
#include "log.h"
#include "proto.h"
#include "rundir.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dpdkmp check [--file-prefix PREFIX] [--pid PID[,PID...]]... [--primary PID]\n"
		"                    [--probe] [--probe-program PATH] [--tap | --json] [-v]\n"
		"                    [-- PROBE-EAL-ARGS...]\n"
		"\n"
		"Compares the mappings of the primary with those of each secondary, from /proc/PID/maps:\n"
		"  hugepages  <hugetlbfs>/<PREFIX>map_*: same address, file, offset, perms, both ways\n"
		"  rundir     files of the runtime dir (config, fbarrays); the secondary's own\n"
		"             per-process fbarray_*_<pid> copies are allowed extra\n"
		"  exe        the primary's executable (a dpdkmp secondary of another binary maps it too)\n"
		"  libs       librte_*.so* and the primary's PMD plugins: same ranges both ways, and the\n"
		"             same files (GNU build ID by PROCMAP_QUERY, Linux 6.11, else device/inode)\n"
		"\n"
		"Secondaries compared: --pid PIDs; else the live secondaries of the fork server of PREFIX\n"
		"(default \"%s\"); with --probe, or when there is none, a probe secondary started with\n"
		"`dpdkmp run -- %s` (found beside dpdkmp or in %s) and ended after the check;\n"
		"PROBE-EAL-ARGS replace its default --no-pci.\n"
		"  --primary PID  the primary to compare with (default: the fork server's), so that\n"
		"                 --pid works without a fork server\n"
		"  --tap          TAP: one test per secondary and class, differences as diagnostics\n"
		"  --json         one JSON document\n"
		"  -v             also list the files found equal, and every differing range\n"
		"Exit status: 0 all equal, 1 a difference, 2 usage error or nothing to compare with.\n"
		"\n"
		"examples:\n"
		"  dpdkmp check --file-prefix pg\n"
		"  dpdkmp check --file-prefix pg --probe --tap\n"
		"  dpdkmp check --file-prefix pg --pid 4242 --json\n",
		DPDKMP_DEFAULT_PREFIX, PROBE_NAME, DPDKMP_LIBEXECDIR);
}

/* ------------------------------------------------------------------ targets */

static struct target *add_target(struct check_ctx *c, pid_t pid, const char *program,
				 const char *source)
{
	struct target *t;

	for (size_t i = 0; i < c->nt; i++)
		if (c->t[i].pid == pid)
			return &c->t[i];
	if (c->nt == MAX_TARGETS)
		return NULL;
	t = &c->t[c->nt++];
	memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->source = source;
	snprintf(t->program, sizeof(t->program), "%s", program ? program : "");
	return t;
}

/* The name a --pid target goes by: its comm (a dpdkmp secondary's is its program's name). */
static void pid_program(pid_t pid, char *out, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	snprintf(out, len, "?");
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(out, (int)len, f))
		out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

/* ------------------------------------------------------------------ the fork server */

/* The STATUS request, as `dpdkmp status` makes it: primary, runtime dir, live secondaries. */
static int ask_status(struct check_ctx *c, bool want_children, char *rundir, size_t rlen)
{
	const struct dpdkmp_child_info *k;
	const struct dpdkmp_status *s;
	const struct dpdkmp_window *w;
	struct dpdkmp_msg *m;
	int ret;

	m = malloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	ret = dpdkmp_client_status(c->prefix, "check", m, &s, &w, &k);
	if (ret < 0) {
		if (ret == -ENOENT)
			DPDKMP_ERR("check: or compare without a fork server: --primary PID --pid PID");
		free(m);
		return ret;
	}
	c->zygote = (pid_t)s->zygote_pid;
	if (!c->primary)
		c->primary = (pid_t)s->primary_pid;
	snprintf(rundir, rlen, "%.*s", (int)sizeof(s->runtime_dir), s->runtime_dir);
	for (uint32_t i = 0; want_children && i < s->nchildren; i++) {
		char prog[sizeof(k[i].program) + 1];

		snprintf(prog, sizeof(prog), "%.*s", (int)sizeof(k[i].program), k[i].program);
		if (!add_target(c, (pid_t)k[i].pid, base_name(prog), "fork server"))
			break;
	}
	free(m);
	return 0;
}

/* ------------------------------------------------------------------ main */

static int add_pid_list(const char *arg, pid_t *pids, size_t *n, size_t max)
{
	char buf[4096], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", arg);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		pid_t pid;

		if (parse_pid(tok, &pid) < 0) {
			DPDKMP_ERR("check: --pid %s: not a process id", tok);
			return -EINVAL;
		}
		if (*n == max) {
			DPDKMP_ERR("check: more than %zu process ids", max);
			return -E2BIG;
		}
		pids[(*n)++] = pid;
	}
	return 0;
}

int check_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "file-prefix", required_argument, NULL, 'p' },
		{ "pid", required_argument, NULL, 'P' },
		{ "primary", required_argument, NULL, 'm' },
		{ "probe", no_argument, NULL, 'b' },
		{ "probe-program", required_argument, NULL, 'B' },
		{ "tap", no_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct check_ctx c = { .prefix = DPDKMP_DEFAULT_PREFIX, .primary_maps_fd = -1 };
	struct probe probe = { .in_fd = -1, .out_fd = -1 };
	const char *probe_prog = NULL;
	char probe_path[PATH_MAX], rundir[PATH_MAX] = "";
	pid_t pids[MAX_TARGETS];
	size_t npids = 0;
	bool want_probe = false, tap = false, json = false;
	char **extra = NULL;
	int nextra = 0, opt, rc = 2;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "+vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			c.prefix = optarg;
			break;
		case 'P':
			if (add_pid_list(optarg, pids, &npids, MAX_TARGETS) < 0)
				return 2;
			break;
		case 'm':
			if (parse_pid(optarg, &c.primary) < 0) {
				DPDKMP_ERR("check: --primary %s: not a process id", optarg);
				return 2;
			}
			break;
		case 'B':
			probe_prog = optarg;
			/* fall through */
		case 'b':
			want_probe = true;
			break;
		case 't':
			tap = true;
			break;
		case 'j':
			json = true;
			break;
		case 'v':
			c.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	/* PIDs may follow --pid as separate words; after "--": the probe's EAL arguments. */
	if (!(optind > 1 && !strcmp(argv[optind - 1], "--")))
		for (; optind < argc && strcmp(argv[optind], "--"); optind++)
			if (add_pid_list(argv[optind], pids, &npids, MAX_TARGETS) < 0) {
				usage(stderr);
				return 2;
			}
	if (optind < argc && !strcmp(argv[optind], "--"))
		optind++;
	extra = argv + optind;
	nextra = argc - optind;
	if (tap && json) {
		DPDKMP_ERR("check: --tap and --json exclude each other");
		return 2;
	}
	if (!*c.prefix || strchr(c.prefix, '/')) {
		DPDKMP_ERR("check: --file-prefix '%s': not a file prefix", c.prefix);
		return 2;
	}
	if (nextra && !want_probe && npids) {
		DPDKMP_ERR("check: arguments after -- are for the probe secondary; add --probe");
		return 2;
	}
	c.out = json ? OUT_JSON : tap ? OUT_TAP : OUT_HUMAN;
	c.t = calloc(MAX_TARGETS, sizeof(*c.t));
	if (!c.t)
		return 2;

	/* The fork server says which primary, which runtime dir, which secondaries. */
	if (!c.primary || !npids || want_probe) {
		if (ask_status(&c, !npids && !want_probe, rundir, sizeof(rundir)) < 0)
			goto out;
	}
	if (check_primary_setup(&c, rundir) < 0)
		goto out;
	for (size_t i = 0; i < npids; i++) {
		char prog[64];

		pid_program(pids[i], prog, sizeof(prog));
		add_target(&c, pids[i], prog, "--pid");
	}
	if (want_probe || !c.nt) {
		if (probe_prog)
			snprintf(probe_path, sizeof(probe_path), "%s", probe_prog);
		else if (check_probe_find(probe_path, sizeof(probe_path)) < 0) {
			DPDKMP_ERR("check: %s, and no %s to start as a probe secondary (looked beside "
				   "this dpdkmp and in %s); pass --pid PID or --probe-program PATH",
				   want_probe ? "--probe" : "the fork server has no live secondary",
				   PROBE_NAME, DPDKMP_LIBEXECDIR);
			goto out;
		}
		if (!want_probe && c.out == OUT_HUMAN)
			printf("no live secondary: starting the probe secondary %s\n", probe_path);
		if (check_probe_start(&c, probe_path, extra, nextra, &probe) < 0)
			goto out;
		add_target(&c, probe.pid, PROBE_NAME, "probe");
	}

	rc = 0;
	for (size_t i = 0; i < c.nt; i++)
		if (check_compare_target(&c, &c.t[i]) < 0) {
			rc = 2;
			goto out;
		}
	if (probe.launcher > 0)
		check_probe_stop(&probe);
	if (c.out == OUT_JSON)
		check_report_json(&c);
	else if (c.out == OUT_TAP)
		check_report_tap(&c);
	else
		check_report_human(&c);
	{
		unsigned int eq, diff, gone, bid, ino;

		check_report_summary(&c, &eq, &diff, &gone, &bid, &ino);
		rc = diff ? 1 : eq ? 0 : 2;
		if (!diff && !eq)
			DPDKMP_ERR("check: nothing compared: every secondary exited before it could be "
				   "read");
	}
out:
	if (probe.launcher > 0)
		check_probe_stop(&probe);
	if (c.primary_maps_fd >= 0)
		close(c.primary_maps_fd);
	for (size_t i = 0; i < c.nt; i++)
		free(c.t[i].mm);
	free(c.t);
	for (size_t i = 0; i < c.nplugins; i++)
		free(c.plugins[i]);
	free(c.plugins);
	return rc;
}
