/* maps: a strict parser of the /proc/PID/maps line format
 *   start-end perms offset major:minor inode [path]
 * Paths may contain spaces; everything after the inode and its padding is the path. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "maps.h"

static int hexnum(const char **p, uint64_t *v, char stop)
{
	const char *s = *p;
	char *end;

	if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')) ||
	    (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')))
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 16);
	if (errno || *end != stop)
		return -EINVAL;
	*p = end + 1;
	return 0;
}

int dpdkmp_maps_parse_line(const char *line, struct dpdkmp_map *m)
{
	struct dpdkmp_map r;
	const char *p = line;
	uint64_t maj, min;
	char *end;
	size_t l;

	memset(&r, 0, sizeof(r));
	if (hexnum(&p, &r.start, '-') < 0 || hexnum(&p, &r.end, ' ') < 0 || r.end <= r.start)
		return -EINVAL;
	if (strlen(p) < 5 || p[4] != ' ')
		return -EINVAL;
	memcpy(r.perms, p, 4);
	if ((p[0] != 'r' && p[0] != '-') || (p[1] != 'w' && p[1] != '-') ||
	    (p[2] != 'x' && p[2] != '-') || (p[3] != 'p' && p[3] != 's'))
		return -EINVAL;
	p += 5;
	if (hexnum(&p, &r.offset, ' ') < 0 || hexnum(&p, &maj, ':') < 0 || hexnum(&p, &min, ' ') < 0 ||
	    maj > UINT32_MAX || min > UINT32_MAX)
		return -EINVAL;
	r.dev_major = (uint32_t)maj;
	r.dev_minor = (uint32_t)min;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	errno = 0;
	r.inode = strtoull(p, &end, 10);
	if (errno || (*end != ' ' && *end != '\n' && *end != '\0'))
		return -EINVAL;
	p = end;
	while (*p == ' ')
		p++;
	l = strcspn(p, "\n");
	if (l >= sizeof(r.path)) {
		l = sizeof(r.path) - 1;
		r.truncated = 1;
	}
	memcpy(r.path, p, l);
	r.path[l] = '\0';
	*m = r;
	return 0;
}

int dpdkmp_maps_read(pid_t pid, struct dpdkmp_map **out, size_t *n)
{
	char path[64], line[4200];
	struct dpdkmp_map *v = NULL;
	size_t cnt = 0, cap = 0;
	FILE *f;
	int ret = 0;

	if (pid > 0)
		snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/maps");
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (cnt == cap) {
			struct dpdkmp_map *nv;

			cap = cap ? cap * 2 : 256;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				ret = -ENOMEM;
				break;
			}
			v = nv;
		}
		if (dpdkmp_maps_parse_line(line, &v[cnt]) < 0) {
			ret = -EINVAL;
			break;
		}
		cnt++;
	}
	fclose(f);
	if (ret < 0) {
		free(v);
		return ret;
	}
	*out = v;
	*n = cnt;
	return 0;
}

const struct dpdkmp_map *dpdkmp_maps_find(const struct dpdkmp_map *v, size_t n, uint64_t addr)
{
	for (size_t i = 0; i < n; i++)
		if (addr >= v[i].start && addr < v[i].end)
			return &v[i];
	return NULL;
}

int dpdkmp_maps_query(int maps_fd, struct procmap_query *q)
{
	if (maps_fd < 0)
		return -EBADF;
	q->size = sizeof(*q);
	return ioctl(maps_fd, PROCMAP_QUERY, q) < 0 ? -errno : 0;
}
