/* maps: parsing /proc/PID/maps, and asking it for one address (PROCMAP_QUERY), used by the
 * primary (runtime-dir windows), the child (window verification), `dpdkmp check` and the
 * tests (mapping equality). */
#ifndef DPDKMP_MAPS_H
#define DPDKMP_MAPS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/fs.h>
#include <linux/types.h>

#ifndef PROCMAP_QUERY
/* PROCMAP_QUERY, Linux 6.11 (include/uapi/linux/fs.h): an ioctl on an open /proc/PID/maps that
 * answers for one address, with the file's name and build ID. Debian 12's kernel headers (6.1)
 * lack it; these are the kernel's names and layout, so this block goes away with newer
 * headers. */
#define PROCFS_IOCTL_MAGIC 'f'
enum procmap_query_flags {
	PROCMAP_QUERY_VMA_READABLE = 0x01,
	PROCMAP_QUERY_VMA_WRITABLE = 0x02,
	PROCMAP_QUERY_VMA_EXECUTABLE = 0x04,
	PROCMAP_QUERY_VMA_SHARED = 0x08,
	PROCMAP_QUERY_COVERING_OR_NEXT_VMA = 0x10,
	PROCMAP_QUERY_FILE_BACKED_VMA = 0x20,
};
struct procmap_query {
	__u64 size;
	__u64 query_flags;      /* in */
	__u64 query_addr;       /* in */
	__u64 vma_start;        /* out */
	__u64 vma_end;          /* out */
	__u64 vma_flags;        /* out */
	__u64 vma_page_size;    /* out */
	__u64 vma_offset;       /* out */
	__u64 inode;            /* out */
	__u32 dev_major;        /* out */
	__u32 dev_minor;        /* out */
	__u32 vma_name_size;    /* in/out */
	__u32 build_id_size;    /* in/out */
	__u64 vma_name_addr;    /* in */
	__u64 build_id_addr;    /* in */
};
#define PROCMAP_QUERY _IOWR(PROCFS_IOCTL_MAGIC, 17, struct procmap_query)
#endif
_Static_assert(sizeof(struct procmap_query) == 104, "struct procmap_query of Linux 6.11");

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

/* PROCMAP_QUERY on an open /proc/PID/maps, q filled in by the caller (size is set here).
 * 0, or -errno: -ENOTTY or -EINVAL when the kernel has no PROCMAP_QUERY, -ENOENT when no
 * mapping answers the query. */
int dpdkmp_maps_query(int maps_fd, struct procmap_query *q);

/* The mapping containing addr, or NULL. */
const struct dpdkmp_map *dpdkmp_maps_find(const struct dpdkmp_map *v, size_t n, uint64_t addr);

#endif
