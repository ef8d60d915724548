/* Declarations shared by the files of libdpdkmp.so; not installed. Each process role has
 * its own file: primary.c, zygote.c, child.c, launcher.c; loader.c loads a secondary's
 * executable; windows.c owns the primary's VA windows. */
#ifndef DPDKMP_INTERNAL_H
#define DPDKMP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "elfinfo.h"
#include "policy.h"
#include "proto.h"

typedef int (*dpdkmp_main_fn)(int, char **, char **);
typedef int (*dpdkmp_eal_init_fn)(int, char **);

/* The primary's VA windows: memseg lists and runtime-dir file mappings. */
struct dpdkmp_winset {
	uint32_t n;
	pid_t primary_pid;
	char runtime_dir[256];
	struct dpdkmp_window w[DPDKMP_MAX_WINDOWS];
};

/* windows.c */
int dpdkmp_windows_collect(struct dpdkmp_winset *ws);
int dpdkmp_windows_reserve(const struct dpdkmp_winset *ws, char *err, size_t errlen);
void dpdkmp_windows_release(const struct dpdkmp_winset *ws);
int dpdkmp_windows_verify(const struct dpdkmp_winset *ws);

/* segments.c: the zygote's mirror of the primary's hugepage segments */
struct dpdkmp_segments;
struct dpdkmp_seg;
void dpdkmp_segments_init(const struct dpdkmp_winset *ws);
void dpdkmp_segments_apply(const struct dpdkmp_segments *h, const struct dpdkmp_seg *s,
			   const int *fds, uint32_t nfds);
void dpdkmp_segments_drop_all(void);
void dpdkmp_segments_unmap_all(void);
size_t dpdkmp_segments_count(void);
uint64_t dpdkmp_segments_bytes(void);
uint64_t dpdkmp_segments_end_in(uint64_t addr, uint64_t len);
void dpdkmp_segments_prefault(void);
void dpdkmp_segments_each_file(void (*fn)(const char *path, dev_t dev, ino_t ino, void *arg),
			       void *arg);
void dpdkmp_segments_know(int fd, dev_t dev, ino_t ino);
void dpdkmp_segments_closed(int fd);
void dpdkmp_segments_begin(uint32_t primary_flags);
void dpdkmp_segments_end(void);
int dpdkmp_segments_held(uint32_t window);
void dpdkmp_window_release_gaps(const struct dpdkmp_window *w);

/* initfiles.c: the files a child's EAL init opens: a waiting pool child's own descriptions of
 * the mirrored hugepage files and its memseg array files, made while it waits, and a new
 * fbarray file kept from cleaners until EAL locks it */
#define DPDKMP_PREPARED_FD_BASE 1024    /* the first prepared fd; child.c keeps its fds below */
void dpdkmp_initfiles_prepare(const char *runtime_dir);
void dpdkmp_initfiles_discard(void);
void dpdkmp_initfiles_sweep(const char *runtime_dir, int pid);   /* zygote; 0: dead pids' */
int dpdkmp_initfiles_fd_end(void);
void dpdkmp_initfiles_begin(int use_prepared);
void dpdkmp_initfiles_end(void);

/* interpose.c */
extern dpdkmp_main_fn dpdkmp_primary_main;
int dpdkmp_capture_main(void *entry, dpdkmp_main_fn *out);
/* entry_x86_64.S: switches to sp and jumps to a process entry point; never returns. */
void dpdkmp_enter_entry(void *entry, void *sp) __attribute__((noreturn));

/* primary.c */
struct dpdkmp_primary_info {
	uint32_t flags;         /* DPDKMP_PRIMARY_* */
};
int dpdkmp_primary_eal_init(dpdkmp_eal_init_fn real, int argc, char **argv);
/* The default PMD plugin directory (DPDKMP_PMD_DIR, else the build's). */
const char *dpdkmp_plugin_dir(void);

/* broker.c */
struct dpdkmp_broker_args {
	int listen_fd;          /* the fork server's socket, bound and listening */
	int channel_fd;         /* to the zygote */
	int sandbox;            /* load the broker filter */
	const struct dpdkmp_policy *policy;
	struct dpdkmp_hello_ack ack;
	const char *fault;      /* test hook: a forbidden syscall to make on HELLO, or NULL */
};
void dpdkmp_broker_main(const struct dpdkmp_broker_args *a) __attribute__((noreturn));

/* zygote.c */
void dpdkmp_zygote_main(int primary_sock, pid_t primary_pid, const struct dpdkmp_policy *policy)
	__attribute__((noreturn));

/* child.c */
struct dpdkmp_child_args {
	struct dpdkmp_spawn_req *req;
	int exe_fd;
	int run_fd;             /* write end of the run pipe */
	int stdio[3];
	int same_binary;
	const struct dpdkmp_elf_info *elf;
	const struct dpdkmp_winset *windows;
	uint32_t primary_flags; /* DPDKMP_PRIMARY_* */
};
extern int dpdkmp_in_child;
void dpdkmp_child_main(struct dpdkmp_child_args *a) __attribute__((noreturn));
int dpdkmp_child_eal_init(dpdkmp_eal_init_fn real, int argc, char **argv);
void dpdkmp_child_pooled(int sock, int run_fd, const struct dpdkmp_winset *ws,
			 uint32_t primary_flags) __attribute__((noreturn));

/* primary.c: EAL's rule for a plugin directory entry (eal_plugindir_init) */
int dpdkmp_plugin_name_ok(const char *name);

/* shortcuts.c */
void dpdkmp_shortcuts_prepare(const char *plugin_dir);
void dpdkmp_shortcuts_begin(void);
int dpdkmp_shortcuts_disabled(void);    /* DPDKMP_NO_SHORTCUTS */
void dpdkmp_shortcuts_end(void);
void *dpdkmp_dlopen_shortcut(const char *path, int mode);
extern void *dpdkmp_real_dlopen;

/* loader.c */
int dpdkmp_loader_load(int exe_fd, const struct dpdkmp_elf_info *info, const char *name,
		       dpdkmp_main_fn *out, char *err, size_t errlen);
void dpdkmp_loader_post_init(void);
void dpdkmp_loader_warm(void);
void dpdkmp_loader_prepare(void);       /* zygote: index the loaded objects' data slots */

#endif
