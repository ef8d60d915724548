/* check_internal: what the files of `dpdkmp check` share (check.c drives, check_primary.c learns
 * what the primary uses, check_probe.c runs the probe secondary, check_compare.c compares maps,
 * check_report.c prints). Not for other commands: check.h is their interface. */
#ifndef DPDKMP_CHECK_INTERNAL_H
#define DPDKMP_CHECK_INTERNAL_H

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "maps.h"
#include "proto.h"

#define PROBE_NAME              "dpdkmp-probe"
#define BUILD_ID_MAX            64
#define MAX_HUGEMNT             16
#define MAX_PLUGIN_SRC          16
#define MAX_TARGETS             (DPDKMP_MAX_CHILDREN + 64)
#define MAPLINE                 (sizeof(((struct dpdkmp_map *)0)->path) + 128)

enum check_class { CLS_HUGEPAGES, CLS_RUNDIR, CLS_EXE, CLS_LIBS, CLS_N };

enum output { OUT_HUMAN, OUT_TAP, OUT_JSON };

/* What a secondary runs: the primary's program (a dpdkmp secondary of the same binary, or a
 * classic one), another program loaded by dpdkmp's loader (its memfd copy is mapped), or
 * another program exec'ed classically (/proc/PID/exe differs; a dpdkmp secondary's always
 * names the primary's executable). */
enum exe_kind { EXE_UNKNOWN, EXE_PRIMARY, EXE_LOADED, EXE_OTHER };

/* One difference (or, with -v, one note on a file found equal). */
struct mismatch {
	enum check_class cls;
	bool info;
	unsigned int more;              /* further differing ranges of the file, not listed */
	char file[1024];
	char what[256];
	char pline[MAPLINE];            /* the primary's /proc/PID/maps line, "" for none */
	char sline[MAPLINE];            /* the secondary's */
};

struct class_result {
	unsigned int files;             /* files of the class the primary maps */
	unsigned int ranges;            /* their mappings */
	unsigned int differ;            /* files mapped differently (extra ones included) */
	unsigned int extra;             /* files only the secondary maps, not allowed */
	unsigned int own;               /* files only the secondary maps, allowed */
	unsigned int build_id;          /* files proven the same by build ID */
	unsigned int dev_inode;         /* by device and inode */
};

struct target {
	pid_t pid;
	char program[256];
	const char *source;             /* "fork server", "--pid", "probe" */
	enum exe_kind exe;              /* which program it runs */
	char gone[192];                 /* why it was not compared; "" when it was */
	unsigned int attempts;
	struct class_result res[CLS_N];
	struct mismatch *mm;
	size_t nmm, cap, ndiff;
};

struct check_ctx {
	const char *prefix;
	pid_t primary;
	pid_t zygote;                   /* 0: no fork server asked */
	char primary_exe[PATH_MAX];     /* as its mappings name it */
	char rundir[PATH_MAX];          /* realpath, '/' appended */
	char hugemnt[MAX_HUGEMNT][PATH_MAX];
	size_t nhugemnt;
	char **plugins;                 /* canonical paths of the primary's plugin files */
	size_t nplugins;
	char plugin_src[MAX_PLUGIN_SRC][PATH_MAX]; /* where they come from: directories, -d files */
	size_t nplugin_src;
	char procmap_why[160];          /* "": PROCMAP_QUERY works, else why it is not used */
	int primary_maps_fd;
	bool verbose;
	enum output out;
	struct target *t;
	size_t nt;
};

struct probe {
	pid_t launcher;                 /* `dpdkmp run` */
	pid_t pid;                      /* the secondary, from its READY line */
	int in_fd;                      /* its stdin; closing it ends the probe */
	int out_fd;                     /* its stdout and stderr, and the launcher's */
	char *log;
	size_t loglen;
};

/* Small helpers more than one of the files needs; inline so that each file stays self-contained. */
static inline int parse_pid(const char *s, pid_t *pid)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > INT_MAX)
		return -EINVAL;
	*pid = (pid_t)v;
	return 0;
}

static inline void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static inline const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* check_primary.c: the primary's executable, runtime dir (the fork server's, else the one of
 * the prefix), hugetlbfs mounts, plugins, and whether PROCMAP_QUERY is used. 0, or -1 with
 * the reason printed. */
int check_primary_setup(struct check_ctx *c, const char *rundir);

/* check_probe.c: find, start (0 once it is attached, or -errno with the reason printed) and
 * stop the probe secondary. */
int check_probe_find(char *out, size_t len);
int check_probe_start(struct check_ctx *c, const char *prog, char **extra, int nextra,
		      struct probe *p);
void check_probe_stop(struct probe *p);

/* check_compare.c: the build ID of the file mapped at addr in the process of maps_fd (len 0:
 * none), or -errno; and one secondary compared with the primary (0, t->gone set when it could
 * not be read; -1 when the primary cannot be read). */
int check_compare_build_id(int maps_fd, uint64_t addr, uint8_t *id, uint32_t *len);
int check_compare_target(struct check_ctx *c, struct target *t);

/* check_report.c: the three output formats, and the counts that decide the exit status. */
void check_report_summary(const struct check_ctx *c, unsigned int *eq, unsigned int *diff,
			  unsigned int *gone, unsigned int *bid, unsigned int *ino);
void check_report_human(const struct check_ctx *c);
void check_report_tap(const struct check_ctx *c);
void check_report_json(const struct check_ctx *c);

#endif
