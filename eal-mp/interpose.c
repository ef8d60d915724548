/* interpose: the two entry points libdpdkmp takes over when preloaded or linked before
 * libdpdk and libc. rte_eal_init decides the role of this process (primary with a fork
 * server, launcher handing a secondary off to it, or a forked child doing its genuine
 * secondary init); __libc_start_main records main, and hands over the main of an
 * executable being loaded into a child. An unversioned definition binds the versioned
 * references (rte_eal_init@DPDK_23, __libc_start_main@GLIBC_2.34). */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_errno.h>

#include "dpdkmp.h"
#include "internal.h"
#include "log.h"
#include "rundir.h"

int rte_eal_init(int argc, char **argv);
int __libc_start_main(dpdkmp_main_fn main, int argc, char **argv, void (*init)(void),
		      void (*fini)(void), void (*rtld_fini)(void), void *stack_end);

dpdkmp_main_fn dpdkmp_primary_main;

static struct {
	volatile int armed;
	dpdkmp_main_fn main;
	jmp_buf jb;
} capture;

typedef int (*libc_start_fn)(dpdkmp_main_fn, int, char **, void (*)(void), void (*)(void),
			     void (*)(void), void *);

int __libc_start_main(dpdkmp_main_fn main, int argc, char **argv, void (*init)(void),
		      void (*fini)(void), void (*rtld_fini)(void), void *stack_end)
{
	libc_start_fn real;

	if (capture.armed) {
		capture.main = main;
		longjmp(capture.jb, 1);
	}
	dpdkmp_primary_main = main;
	real = (libc_start_fn)dlvsym(RTLD_NEXT, "__libc_start_main", "GLIBC_2.34");
	if (!real)
		real = (libc_start_fn)dlsym(RTLD_NEXT, "__libc_start_main");
	return real(main, argc, argv, init, fini, rtld_fini, stack_end);
}

int dpdkmp_capture_main(void *entry, dpdkmp_main_fn *out)
{
	/* The stack _start expects from the kernel: argc, argv[], NULL, envp[] NULL, auxv
	 * AT_NULL. _start only passes these to __libc_start_main, which we stop at. */
	static uintptr_t stack[8192] __attribute__((aligned(64)));
	static char arg0[] = "dpdkmp-capture";
	uintptr_t *sp = &stack[8192 - 64];

	memset(sp, 0, 16 * sizeof(*sp));
	sp[0] = 1;
	sp[1] = (uintptr_t)arg0;
	capture.main = NULL;
	capture.armed = 1;
	if (setjmp(capture.jb) == 0)
		dpdkmp_enter_entry(entry, sp);
	capture.armed = 0;
	if (!capture.main)
		return -ENOEXEC;
	*out = capture.main;
	return 0;
}

int dpdkmp_is_forked_secondary(void)
{
	return dpdkmp_in_child;
}

/* Reads /proc/self/cmdline: programs such as dpdk-proc-info build a new argv before
 * rte_eal_init, and the secondary must see the command line it was started with. */
static char **read_cmdline(int *argc_out)
{
	char *buf = NULL, **v;
	size_t len = 0, cap = 0;
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC), n = 0;
	ssize_t r;

	if (fd < 0)
		return NULL;
	for (;;) {
		if (len == cap) {
			char *nb = realloc(buf, cap ? cap * 2 : 4096);

			if (!nb || cap > DPDKMP_MAX_PAYLOAD) {
				free(nb ? nb : buf);
				close(fd);
				return NULL;
			}
			buf = nb;
			cap = cap ? cap * 2 : 4096;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	if (!len || buf[len - 1] != '\0') {
		free(buf);
		return NULL;
	}
	for (size_t i = 0; i < len; i++)
		n += buf[i] == '\0';
	v = calloc((size_t)n + 1, sizeof(*v));
	if (!v) {
		free(buf);
		return NULL;
	}
	for (size_t i = 0, k = 0; i < len; i += strlen(buf + i) + 1)
		v[k++] = buf + i;
	*argc_out = n;
	return v;           /* buf stays allocated: v points into it until exit */
}

/* Transparent mode: this process was started as a secondary with libdpdkmp loaded. Run its
 * own executable as a child of the fork server instead, and mirror it until it ends. */
static void handoff(int argc, char **argv) __attribute__((noreturn));
static void handoff(int argc, char **argv)
{
	struct dpdkmp_launch_opts o = { .exe_fd = -1 };
	char exe[4096];
	char **cmd;
	int cmd_argc = 0, code;
	ssize_t l;

	dpdkmp_log_set_role(DPDKMP_ROLE_LAUNCHER);
	cmd = read_cmdline(&cmd_argc);
	if (!cmd) {
		cmd = argv;
		cmd_argc = argc;
	}
	l = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[l > 0 ? l : 0] = '\0';
	o.exe_fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	o.path = exe;
	o.argv = cmd;
	o.envp = environ;
	o.prefix = dpdkmp_arg_value(cmd_argc, cmd, "--file-prefix");
	code = dpdkmp_launch(&o);
	fflush(NULL);
	_exit(code);
}

static int fork_server_exists(int argc, char **argv)
{
	const char *prefix = dpdkmp_arg_value(argc, argv, "--file-prefix");
	char path[4096];
	struct stat st;

	/* The places dpdkmp_client_connect() looks, in its order. */
	if (dpdkmp_socket_path(prefix, path, sizeof(path)) == 0 && stat(path, &st) == 0 &&
	    S_ISSOCK(st.st_mode))
		return 1;
	return dpdkmp_root_socket_path(prefix, path, sizeof(path)) == 0 && stat(path, &st) == 0 &&
	       S_ISSOCK(st.st_mode);
}

int rte_eal_init(int argc, char **argv)
{
	dpdkmp_eal_init_fn real = (dpdkmp_eal_init_fn)dlvsym(RTLD_NEXT, "rte_eal_init", "DPDK_23");
	const char *pt, *off;

	if (!real) {
		DPDKMP_ERR("librte_eal.so.23 (rte_eal_init@DPDK_23) is not loaded: dpdkmp supports "
			   "DPDK 22.11 shared builds only");
		rte_errno = ENOTSUP;
		return -1;
	}
	if (dpdkmp_in_child)
		return dpdkmp_child_eal_init(real, argc, argv);

	off = getenv("DPDKMP_DISABLE");
	if (off && *off && strcmp(off, "0") != 0)
		return real(argc, argv);
	pt = dpdkmp_arg_value(argc, argv, "--proc-type");
	if (pt && !strcmp(pt, "secondary")) {
		if (!fork_server_exists(argc, argv)) {
			dpdkmp_log_set_role(DPDKMP_ROLE_LAUNCHER);
			DPDKMP_ERR("no dpdkmp fork server for file prefix '%s': start the primary "
				   "with `dpdkmp primary`, or set DPDKMP_DISABLE=1 to run this "
				   "secondary classically",
				   dpdkmp_arg_value(argc, argv, "--file-prefix") ?:
				   DPDKMP_DEFAULT_PREFIX);
			rte_errno = ENOENT;
			return -1;
		}
		handoff(argc, argv);
	}
	if (pt && !strcmp(pt, "auto") && fork_server_exists(argc, argv))
		handoff(argc, argv);
	return dpdkmp_primary_eal_init(real, argc, argv);
}
