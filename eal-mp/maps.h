/* maps: parsing /proc/PID/maps, used by the primary (runtime-dir windows), the child
 * (window verification) and the tests (mapping equality). */
#ifndef DPDKMP_MAPS_H
#define DPDKMP_MAPS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct dpdkmp_map {
	uint64_t start;
	uint64_t end;
	uint64_t offset;
	uint64_t inode;
	uint32_t dev_major;
	uint32_t dev_minor;
	char perms[5];
	char path[1024];        /* "" for anonymous mappings; may end with " (deleted)" */
	uint8_t truncated;      /* the path was longer than path[] holds */
};

/* Parses one line (with or without the trailing newline). 0 or -EINVAL. */
int dpdkmp_maps_parse_line(const char *line, struct dpdkmp_map *m);

/* Reads every mapping of pid (0: self) into a malloc'd array. 0 or -errno. */
int dpdkmp_maps_read(pid_t pid, struct dpdkmp_map **out, size_t *n);

/* The mapping containing addr, or NULL. */
const struct dpdkmp_map *dpdkmp_maps_find(const struct dpdkmp_map *v, size_t n, uint64_t addr);

#endif
