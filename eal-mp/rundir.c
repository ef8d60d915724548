/* rundir: mirrors EAL's runtime directory rule so that a launcher finds the socket of the
 * primary started with the same --file-prefix by the same user. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto.h"
#include "rundir.h"

const char *dpdkmp_arg_value(int argc, char *const argv[], const char *opt)
{
	size_t l = strlen(opt);
	const char *val = NULL;

	/* The last occurrence wins, as with getopt_long in EAL. */
	for (int i = 1; i < argc && argv[i]; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strncmp(argv[i], opt, l) && argv[i][l] == '=')
			val = argv[i] + l + 1;
		else if (!strcmp(argv[i], opt) && i + 1 < argc)
			val = argv[++i];
	}
	return val;
}

int dpdkmp_runtime_dir(const char *prefix, char *out, size_t len)
{
	const char *dir = getenv("RUNTIME_DIRECTORY");
	int n;

	if (!prefix || !*prefix)
		prefix = DPDKMP_DEFAULT_PREFIX;
	if (!dir) {
		if (getuid() == 0)
			dir = "/var/run";
		else
			dir = getenv("XDG_RUNTIME_DIR") ? getenv("XDG_RUNTIME_DIR") : "/tmp";
	}
	n = snprintf(out, len, "%s/dpdk/%s", dir, prefix);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int dpdkmp_socket_path(const char *prefix, char *out, size_t len)
{
	char dir[4096];
	int n, ret;

	if ((ret = dpdkmp_runtime_dir(prefix, dir, sizeof(dir))) < 0)
		return ret;
	n = snprintf(out, len, "%s/%s", dir, DPDKMP_SOCK_NAME);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int dpdkmp_root_socket_path(const char *prefix, char *out, size_t len)
{
	int n;

	if (getuid() == 0 || getenv("RUNTIME_DIRECTORY"))
		return -ENOENT;
	if (!prefix || !*prefix)
		prefix = DPDKMP_DEFAULT_PREFIX;
	n = snprintf(out, len, "/var/run/dpdk/%s/%s", prefix, DPDKMP_SOCK_NAME);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}
