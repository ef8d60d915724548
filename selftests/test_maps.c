/* test_maps: unit tests of the /proc/PID/maps parser (maps.c): crafted lines, good and bad,
 * then this process's own live mappings, whose addresses, permissions and files we know. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "maps.h"

static struct dpdkmp_map m;

static void parse_ok(const char *line)
{
	memset(&m, 0x5a, sizeof(m));
	ASSERT_EQ(dpdkmp_maps_parse_line(line, &m), 0);
}

static void parse_fails(const char *line)
{
	struct dpdkmp_map r;

	memset(&r, 0x5a, sizeof(r));
	if (dpdkmp_maps_parse_line(line, &r) != -EINVAL)
		TH_LOG("line accepted: \"%s\"", line);
	ASSERT_EQ(dpdkmp_maps_parse_line(line, &r), -EINVAL);
	ASSERT_EQ(r.start, 0x5a5a5a5a5a5a5a5aull);      /* untouched on error */
}

/* Reads our own maps; the caller frees *v. */
static size_t read_self(struct dpdkmp_map **v)
{
	size_t n = 0;

	*v = NULL;
	ASSERT_EQ(dpdkmp_maps_read(0, v, &n), 0);
	ASSERT_GT(n, 5);
	ASSERT_TRUE(*v != NULL);
	return n;
}

static const long page = 4096;

static int under_valgrind(void)
{
	const char *p = getenv("LD_PRELOAD");

	return p && strstr(p, "vgpreload") != NULL;
}

/* ---- crafted lines ---------------------------------------------------------------------- */

TEST(parse_anonymous)
{
	parse_ok("7f3ea96ef000-7f3ea96f2000 rw-p 00000000 00:00 0 \n");
	ASSERT_EQ(m.start, 0x7f3ea96ef000ull);
	ASSERT_EQ(m.end, 0x7f3ea96f2000ull);
	ASSERT_STREQ(m.perms, "rw-p");
	ASSERT_EQ(m.offset, 0);
	ASSERT_EQ(m.dev_major, 0);
	ASSERT_EQ(m.dev_minor, 0);
	ASSERT_EQ(m.inode, 0);
	ASSERT_STREQ(m.path, "");
	ASSERT_EQ(m.truncated, 0);
	/* without the trailing space and newline */
	parse_ok("7f3ea96ef000-7f3ea96f2000 ---p 00000000 00:00 0");
	ASSERT_STREQ(m.perms, "---p");
	ASSERT_STREQ(m.path, "");
}

TEST(parse_file_backed)
{
	parse_ok("7f3ea9718000-7f3ea986e000 r-xp 00026000 fe:01 332835                     "
		 "/usr/lib/x86_64-linux-gnu/libc.so.6\n");
	ASSERT_EQ(m.start, 0x7f3ea9718000ull);
	ASSERT_EQ(m.end, 0x7f3ea986e000ull);
	ASSERT_STREQ(m.perms, "r-xp");
	ASSERT_EQ(m.offset, 0x26000);
	ASSERT_EQ(m.dev_major, 0xfe);
	ASSERT_EQ(m.dev_minor, 1);
	ASSERT_EQ(m.inode, 332835);
	ASSERT_STREQ(m.path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
	ASSERT_EQ(m.truncated, 0);
	/* 64-bit offsets and devices above 255, full-width addresses */
	parse_ok("ffffffffff600000-ffffffffff601000 --xp 1234567890abc 103:1ff 18446744073709551615 /x");
	ASSERT_EQ(m.start, 0xffffffffff600000ull);
	ASSERT_EQ(m.end, 0xffffffffff601000ull);
	ASSERT_EQ(m.offset, 0x1234567890abcull);
	ASSERT_EQ(m.dev_major, 0x103);
	ASSERT_EQ(m.dev_minor, 0x1ff);
	ASSERT_EQ(m.inode, UINT64_MAX);
	ASSERT_STREQ(m.path, "/x");
}

TEST(parse_path_with_spaces)
{
	parse_ok("555d735c2000-555d735c3000 r--p 00000000 fe:00 10953186   /tmp/my dir/a  b c\n");
	ASSERT_STREQ(m.path, "/tmp/my dir/a  b c");
	ASSERT_EQ(m.inode, 10953186);
}

TEST(parse_pseudo_paths)
{
	parse_ok("555d7dc49000-555d7dc6a000 rw-p 00000000 00:00 0                          [heap]\n");
	ASSERT_STREQ(m.path, "[heap]");
	parse_ok("7ffcfdd99000-7ffcfddba000 rw-p 00000000 00:00 0                          [stack]");
	ASSERT_STREQ(m.path, "[stack]");
	parse_ok("7f3ea98ed000-7f3ea98ef000 r-xp 00000000 00:00 0                          [vdso]\n");
	ASSERT_STREQ(m.path, "[vdso]");
	ASSERT_STREQ(m.perms, "r-xp");
}

TEST(parse_deleted)
{
	parse_ok("7f0000000000-7f0000001000 rw-s 00000000 00:01 2050 /memfd:dpdk (deleted)\n");
	ASSERT_STREQ(m.path, "/memfd:dpdk (deleted)");
	ASSERT_STREQ(m.perms, "rw-s");
	ASSERT_EQ(m.inode, 2050);
}

TEST(parse_hugepage_file)
{
	parse_ok("100200000-100400000 rw-s 00000000 00:2f 12345                      "
		 "/dev/hugepages/rtemap_0\n");
	ASSERT_EQ(m.start, 0x100200000ull);
	ASSERT_EQ(m.end, 0x100400000ull);
	ASSERT_EQ(m.end - m.start, 2u << 20);
	ASSERT_STREQ(m.perms, "rw-s");
	ASSERT_EQ(m.dev_minor, 0x2f);
	ASSERT_STREQ(m.path, "/dev/hugepages/rtemap_0");
}

TEST(parse_overlong_path)
{
	const char *prefix = "7f0000000000-7f0000001000 r--p 00000000 fe:00 42 ";
	size_t plen = 3000;
	char *line = malloc(strlen(prefix) + plen + 2);

	ASSERT_TRUE(line != NULL);
	strcpy(line, prefix);
	line[strlen(prefix)] = '/';
	for (size_t i = 1; i < plen; i++)
		line[strlen(prefix) + i] = (char)('a' + i % 26);
	strcpy(line + strlen(prefix) + plen, "\n");
	parse_ok(line);
	ASSERT_EQ(m.truncated, 1);
	ASSERT_EQ(strlen(m.path), sizeof(m.path) - 1);
	ASSERT_EQ(memcmp(m.path, line + strlen(prefix), sizeof(m.path) - 1), 0);
	ASSERT_EQ(m.inode, 42);

	/* exactly sizeof(path) - 1 characters fits */
	line[strlen(prefix) + sizeof(m.path) - 1] = '\0';
	parse_ok(line);
	ASSERT_EQ(m.truncated, 0);
	ASSERT_EQ(strlen(m.path), sizeof(m.path) - 1);
	/* one more does not */
	line[strlen(prefix) + sizeof(m.path) - 1] = 'x';
	line[strlen(prefix) + sizeof(m.path)] = '\0';
	parse_ok(line);
	ASSERT_EQ(m.truncated, 1);
	free(line);
}

TEST(parse_missing_fields)
{
	parse_fails("");
	parse_fails("\n");
	parse_fails("7f0000000000");
	parse_fails("7f0000000000-");
	parse_fails("7f0000000000-7f0000001000");
	parse_fails("7f0000000000-7f0000001000 ");
	parse_fails("7f0000000000-7f0000001000 rw-p");
	parse_fails("7f0000000000-7f0000001000 rw-p ");
	parse_fails("7f0000000000-7f0000001000 rw-p 00000000");
	parse_fails("7f0000000000-7f0000001000 rw-p 00000000 00:00");
	parse_fails("7f0000000000-7f0000001000 rw-p 00000000 00:00 ");
	parse_fails("7f0000000000-7f0000001000 rw-p 00000000 00:00 \n");
	parse_fails("7f0000000000-7f0000001000 rw-p 00000000 00 0");
	parse_fails("7f0000000000-7f0000001000 rw-p 00:00 0 /x");
}

TEST(parse_bad_hex)
{
	parse_fails("7g0000000000-7f0000001000 rw-p 00000000 00:00 0");
	parse_fails("7f0000000000-7f000000100z rw-p 00000000 00:00 0");
	parse_fails("-7f0000001000 rw-p 00000000 00:00 0");
	parse_fails(" 7f0000000000-7f0000001000 rw-p 00000000 00:00 0");
	parse_fails("+7f0000000000-7f0000001000 rw-p 00000000 00:00 0");
	parse_fails("7f0000000000--7f0000001000 rw-p 00000000 00:00 0");
	parse_fails("7f0000000000-7f0000001000 rw-p 0000000g 00:00 0");
	parse_fails("7f0000000000-7f0000001000 rw-p 00000000 0x:00 0");
	parse_fails("7f0000000000-7f0000001000 rw-p 00000000 00:zz 0");
	parse_fails("7f0000000000-7f0000001000 rw-p 00000000 00:00 x");
	parse_fails("7f0000000000-7f0000001000 rw-p 00000000 00:00 -1");
	parse_fails("7f0000000000-7f0000001000 rw-p 00000000 00:00 12a /x");
	/* 17 hex digits overflow 64 bits */
	parse_fails("10000000000000000-10000000000001000 rw-p 00000000 00:00 0");
	parse_fails("7f0000000000-7f0000001000 rw-p 00000000 00:00 99999999999999999999");
}

TEST(parse_end_not_after_start)
{
	parse_fails("7f0000001000-7f0000001000 rw-p 00000000 00:00 0");
	parse_fails("7f0000002000-7f0000001000 rw-p 00000000 00:00 0");
	parse_ok("7f0000001000-7f0000001001 rw-p 00000000 00:00 0");
	ASSERT_EQ(m.end - m.start, 1);
}

TEST(parse_bad_perms)
{
	parse_fails("7f0000000000-7f0000001000 rw-q 00000000 00:00 0");
	parse_fails("7f0000000000-7f0000001000 RW-P 00000000 00:00 0");
	parse_fails("7f0000000000-7f0000001000 rw- 00000000 00:00 0");
	parse_fails("7f0000000000-7f0000001000 rw-pp 00000000 00:00 0");
	parse_fails("7f0000000000-7f0000001000 r\twp 00000000 00:00 0");
	parse_fails("7f0000000000-7f0000001000 rw 00000000 00:00 0");
}

TEST(parse_strict_fields)
{
	/* The kernel writes each permission in its own position (r|-, w|-, x|-, p|s), addresses
	 * in bare lowercase hex, and device numbers that fit 32 bits: anything else is not a
	 * maps line. Every case is reported, not only the first. */
	static const char *const bad[] = {
		"7f0000000000-7f0000001000 pppp 00000000 00:00 0",
		"7f0000000000-7f0000001000 ---- 00000000 00:00 0",
		"7f0000000000-7f0000001000 xwrp 00000000 00:00 0",
		"7f0000000000-7f0000001000 rw-- 00000000 00:00 0",
		"0x7f0000000000-7f0000001000 rw-p 00000000 00:00 0",
		"7f0000000000-0x7f0000001000 rw-p 00000000 00:00 0",
		"7f0000000000-7f0000001000 rw-p 00000000 100000001:00 0",
		"7f0000000000-7f0000001000 rw-p 00000000 00:100000001 0",
	};
	struct dpdkmp_map r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = dpdkmp_maps_parse_line(bad[i], &r);

		if (ret != -EINVAL)
			TH_LOG("accepted: \"%s\"", bad[i]);
		EXPECT_EQ(ret, -EINVAL);
	}
	parse_ok("7f0000000000-7f0000001000 r-xs 00000000 fff:fffff 0");
	ASSERT_EQ(m.dev_major, 0xfff);
	ASSERT_EQ(m.dev_minor, 0xfffff);
}

/* ---- live mappings ---------------------------------------------------------------------- */

static void __attribute__((noinline)) code_marker(void)
{
	__asm__ volatile("");
}

TEST(read_self_stack)
{
	struct dpdkmp_map *v;
	size_t n = read_self(&v);
	/* The frame address, not a local: sanitizers may move locals to a fake stack. */
	const struct dpdkmp_map *s = dpdkmp_maps_find(v, n, (uintptr_t)__builtin_frame_address(0));

	ASSERT_TRUE(s != NULL);
	ASSERT_STREQ(s->perms, "rw-p");
	/* valgrind runs the program on a stack of its own, an anonymous mapping */
	ASSERT_STREQ(s->path, under_valgrind() ? "" : "[stack]");
	ASSERT_EQ(s->inode, 0);
	free(v);
}

TEST(read_self_code)
{
	struct dpdkmp_map *v;
	size_t n = read_self(&v);
	const struct dpdkmp_map *c = dpdkmp_maps_find(v, n, (uintptr_t)&code_marker);
	char exe[PATH_MAX];
	struct stat st;

	/* argv[0], not /proc/self/exe: under valgrind the latter is the valgrind tool. */
	code_marker();
	ASSERT_TRUE(realpath(program_invocation_name, exe) != NULL);
	ASSERT_EQ(stat(exe, &st), 0);
	ASSERT_TRUE(c != NULL);
	ASSERT_STREQ(c->perms, "r-xp");
	ASSERT_STREQ(c->path, exe);
	ASSERT_EQ(c->inode, st.st_ino);
	ASSERT_EQ(c->dev_major, major(st.st_dev));
	ASSERT_EQ(c->dev_minor, minor(st.st_dev));
	ASSERT_EQ(c->offset % (uint64_t)page, 0);
	ASSERT_EQ(c->start % (uint64_t)page, 0);
	free(v);
}

TEST(read_self_ordered)
{
	struct dpdkmp_map *v;
	size_t n = read_self(&v);

	/* The kernel lists mappings in address order, without overlap. */
	for (size_t i = 1; i < n; i++) {
		ASSERT_LE(v[i - 1].end, v[i].start);
		ASSERT_LT(v[i].start, v[i].end);
	}
	free(v);
}

/*
 * A private anonymous region fenced by PROT_NONE guard pages, so that the kernel cannot merge
 * it with a neighbour and its bounds are exactly known:
 *
 *   base          base+1p                     base+4p        base+5p
 *   | ---p guard  | rw-p  (3 pages, tested)    | ---p guard   |
 */
TEST(read_self_anon_region)
{
	uint8_t *base = mmap(NULL, 5 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct dpdkmp_map *v;
	const struct dpdkmp_map *r, *g;
	size_t n;

	ASSERT_TRUE(base != MAP_FAILED);
	ASSERT_EQ(mprotect(base + page, 3 * page, PROT_READ | PROT_WRITE), 0);
	base[page] = 1;
	n = read_self(&v);
	r = dpdkmp_maps_find(v, n, (uintptr_t)(base + 2 * page));
	ASSERT_TRUE(r != NULL);
	ASSERT_EQ(r->start, (uintptr_t)(base + page));
	ASSERT_EQ(r->end, (uintptr_t)(base + 4 * page));
	ASSERT_STREQ(r->perms, "rw-p");
	ASSERT_STREQ(r->path, "");
	ASSERT_EQ(r->inode, 0);
	ASSERT_EQ(r->dev_major, 0);
	ASSERT_EQ(r->dev_minor, 0);
	g = dpdkmp_maps_find(v, n, (uintptr_t)base);
	ASSERT_TRUE(g != NULL);
	ASSERT_STREQ(g->perms, "---p");
	ASSERT_EQ(g->end, (uintptr_t)(base + page));
	g = dpdkmp_maps_find(v, n, (uintptr_t)(base + 4 * page));
	ASSERT_TRUE(g != NULL);
	ASSERT_EQ(g->start, (uintptr_t)(base + 4 * page));
	ASSERT_STREQ(g->perms, "---p");
	free(v);
	munmap(base, 5 * page);
}

TEST(read_self_shared_file_with_spaces_then_deleted)
{
	char dir[] = "/tmp/test_maps.XXXXXX", path[PATH_MAX], want[PATH_MAX + 16];
	struct dpdkmp_map *v;
	const struct dpdkmp_map *r;
	struct stat st;
	void *p;
	size_t n;
	int fd;

	ASSERT_TRUE(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/a file  with spaces", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(ftruncate(fd, 2 * page), 0);
	ASSERT_EQ(fstat(fd, &st), 0);
	p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, page);
	ASSERT_TRUE(p != MAP_FAILED);
	close(fd);

	n = read_self(&v);
	r = dpdkmp_maps_find(v, n, (uintptr_t)p);
	ASSERT_TRUE(r != NULL);
	ASSERT_EQ(r->start, (uintptr_t)p);
	ASSERT_EQ(r->end - r->start, (uint64_t)page);
	ASSERT_STREQ(r->perms, "rw-s");
	ASSERT_EQ(r->offset, (uint64_t)page);
	ASSERT_EQ(r->inode, st.st_ino);
	ASSERT_STREQ(r->path, path);
	free(v);

	ASSERT_EQ(unlink(path), 0);
	ASSERT_EQ(rmdir(dir), 0);
	n = read_self(&v);
	r = dpdkmp_maps_find(v, n, (uintptr_t)p);
	ASSERT_TRUE(r != NULL);
	snprintf(want, sizeof(want), "%s (deleted)", path);
	ASSERT_STREQ(r->path, want);
	free(v);
	munmap(p, page);
}

TEST(read_self_memfd)
{
	int fd = memfd_create("dpdkmp test", MFD_CLOEXEC);
	struct dpdkmp_map *v;
	const struct dpdkmp_map *r;
	void *p;
	size_t n;

	ASSERT_GE(fd, 0);
	ASSERT_EQ(ftruncate(fd, page), 0);
	p = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	n = read_self(&v);
	r = dpdkmp_maps_find(v, n, (uintptr_t)p);
	ASSERT_TRUE(r != NULL);
	ASSERT_STREQ(r->perms, "r--s");
	ASSERT_STREQ(r->path, "/memfd:dpdkmp test (deleted)");
	free(v);
	munmap(p, page);
	close(fd);
}

TEST(read_other_pid)
{
	int go[2], ready[2];
	uintptr_t addr = 0;
	struct dpdkmp_map *v = NULL;
	const struct dpdkmp_map *r;
	size_t n = 0;
	pid_t pid;
	char c = 0;

	ASSERT_EQ(pipe(go), 0);
	ASSERT_EQ(pipe(ready), 0);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		uint8_t *b = mmap(NULL, 3 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (b == MAP_FAILED || mprotect(b + page, page, PROT_READ) < 0)
			_exit(1);
		addr = (uintptr_t)(b + page);
		if (write(ready[1], &addr, sizeof(addr)) != sizeof(addr))
			_exit(1);
		if (read(go[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	ASSERT_EQ(read(ready[0], &addr, sizeof(addr)), (ssize_t)sizeof(addr));
	ASSERT_EQ(dpdkmp_maps_read(pid, &v, &n), 0);
	r = dpdkmp_maps_find(v, n, addr);
	ASSERT_TRUE(r != NULL);
	ASSERT_EQ(r->start, addr);
	ASSERT_EQ(r->end, addr + (uint64_t)page);
	ASSERT_STREQ(r->perms, "r--p");
	free(v);
	ASSERT_EQ(write(go[1], "x", 1), 1);
	ASSERT_EQ(waitpid(pid, NULL, 0), pid);
}

TEST(read_missing_pid)
{
	struct dpdkmp_map *v = (void *)1;
	size_t n = 77;

	/* pid_max is at most 2^22: this pid cannot exist. */
	ASSERT_EQ(dpdkmp_maps_read(0x7ffffff0, &v, &n), -ENOENT);
	ASSERT_EQ((uintptr_t)v, 1);
	ASSERT_EQ(n, 77);
}

TEST(find)
{
	struct dpdkmp_map v[3];

	memset(v, 0, sizeof(v));
	v[0].start = 0x1000; v[0].end = 0x3000;
	v[1].start = 0x3000; v[1].end = 0x4000;
	v[2].start = 0x8000; v[2].end = 0x9000;
	ASSERT_TRUE(dpdkmp_maps_find(v, 3, 0xfff) == NULL);
	ASSERT_TRUE(dpdkmp_maps_find(v, 3, 0x1000) == &v[0]);
	ASSERT_TRUE(dpdkmp_maps_find(v, 3, 0x2fff) == &v[0]);
	ASSERT_TRUE(dpdkmp_maps_find(v, 3, 0x3000) == &v[1]);  /* end is exclusive */
	ASSERT_TRUE(dpdkmp_maps_find(v, 3, 0x3fff) == &v[1]);
	ASSERT_TRUE(dpdkmp_maps_find(v, 3, 0x4000) == NULL);
	ASSERT_TRUE(dpdkmp_maps_find(v, 3, 0x7fff) == NULL);
	ASSERT_TRUE(dpdkmp_maps_find(v, 3, 0x8000) == &v[2]);
	ASSERT_TRUE(dpdkmp_maps_find(v, 3, 0x9000) == NULL);
	ASSERT_TRUE(dpdkmp_maps_find(v, 3, UINT64_MAX) == NULL);
	ASSERT_TRUE(dpdkmp_maps_find(v, 2, 0x8000) == NULL);   /* n bounds the search */
	ASSERT_TRUE(dpdkmp_maps_find(NULL, 0, 0x1000) == NULL);
}

TEST_MAIN()
