/* test_elf: unit tests of ELF inspection and of the secondary policy (elfinfo.c), on binaries
 * compiled here at test time with the system cc, on hand-made malformed files, and on the
 * Debian DPDK tools. A test whose compiler or library is missing skips with that reason. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "elfinfo.h"

/* ---- helpers ---------------------------------------------------------------------------- */

struct work {
	char dir[64];
};

static void work_init(struct work *w)
{
	snprintf(w->dir, sizeof(w->dir), "/tmp/test_elf.XXXXXX");
	ASSERT_TRUE(mkdtemp(w->dir) != NULL);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

static void work_done(struct work *w)
{
	ASSERT_EQ(nftw(w->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS), 0);
}

static int sh(const char *cmd)
{
	int st = system(cmd);

	return st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void need_cc(void)
{
	if (sh("cc --version >/dev/null 2>&1") != 0)
		SKIP("no C compiler: `cc` is not installed");
}

static void need_dpdk(void)
{
	need_cc();
	if (sh("pkg-config --exists 'libdpdk >= 22.11' 2>/dev/null") != 0)
		SKIP("DPDK development files missing: `pkg-config libdpdk` fails (apt install dpdk-dev)");
}

#define DPDK_CFLAGS "$(pkg-config --cflags libdpdk)"
#define DPDK_LIBS   "$(pkg-config --libs libdpdk)"

/* Writes dir/name.c and compiles it into dir/name. Returns cc's exit status; on failure the
 * compiler's output is shown as diagnostics. */
static int try_build(const struct work *w, const char *name, const char *src, const char *cflags,
		     const char *libs, char *out, size_t outlen)
{
	char path[PATH_MAX], cmd[4096], line[512];
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "%s/%s.c", w->dir, name);
	f = fopen(path, "we");
	ASSERT_TRUE(f != NULL);
	ASSERT_GE(fputs(src, f), 0);
	ASSERT_EQ(fclose(f), 0);
	snprintf(out, outlen, "%s/%s", w->dir, name);
	ret = snprintf(cmd, sizeof(cmd), "cc %s -o %s %s %s >%s.log 2>&1", cflags, out, path, libs,
		       out);
	ASSERT_LT(ret, (int)sizeof(cmd));
	ret = sh(cmd);
	if (ret != 0) {
		TH_LOG("`%s` failed (%d):", cmd, ret);
		snprintf(path, sizeof(path), "%s.log", out);
		if ((f = fopen(path, "re"))) {
			for (int i = 0; i < 20 && fgets(line, sizeof(line), f); i++)
				TH_LOG("  %.*s", (int)strcspn(line, "\n"), line);
			fclose(f);
		}
	}
	return ret;
}

static void build(const struct work *w, const char *name, const char *src, const char *cflags,
		  const char *libs, char *out, size_t outlen)
{
	ASSERT_EQ(try_build(w, name, src, cflags, libs, out, outlen), 0);
}

static int inspect(const char *path, struct dpdkmp_elf_info *info)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ret;

	ASSERT_GE(fd, 0);
	memset(info, 0xcc, sizeof(*info));
	ret = dpdkmp_elf_inspect(fd, info);
	close(fd);
	return ret;
}

static void inspect_ok(const char *path, struct dpdkmp_elf_info *info)
{
	ASSERT_EQ(inspect(path, info), 0);
}

/* Inspection must fail with err and leave the output untouched. */
static void inspect_fails(const char *path, int err)
{
	struct dpdkmp_elf_info info;

	ASSERT_EQ(inspect(path, &info), err);
	ASSERT_EQ(info.type, 0xcccc);
	ASSERT_EQ(info.tls_memsz, 0xccccccccccccccccull);
}

/* The policy must refuse with a message containing needle, worded to follow
 * "cannot run PATH: " (elfinfo.h). */
static void refused_with(const struct dpdkmp_elf_info *info, int same, const char *path,
			 const char *needle)
{
	char why[1024] = "";

	ASSERT_EQ(dpdkmp_elf_check_secondary(info, same, path, why, sizeof(why)), -ENOEXEC);
	TH_LOG("cannot run %s: %s", path, why);
	ASSERT_TRUE(strstr(why, needle) != NULL);
	ASSERT_EQ(strncmp(why, "it ", 3), 0);
}

static void accepted(const struct dpdkmp_elf_info *info, int same, const char *path)
{
	char why[1024] = "";
	int ret = dpdkmp_elf_check_secondary(info, same, path, why, sizeof(why));

	if (ret)
		TH_LOG("cannot run %s: %s", path, why);
	ASSERT_EQ(ret, 0);
}

static void write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	ASSERT_GE(fd, 0);
	ASSERT_EQ(write(fd, buf, len), (ssize_t)len);
	ASSERT_EQ(close(fd), 0);
}

/* Copies the first n bytes of src to dst. */
static void copy_prefix(const char *src, const char *dst, size_t n)
{
	char *buf = malloc(n ? n : 1);
	int fd = open(src, O_RDONLY | O_CLOEXEC);

	ASSERT_TRUE(buf != NULL);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(read(fd, buf, n), (ssize_t)n);
	close(fd);
	write_file(dst, buf, n);
	free(buf);
}

static const char src_plain[] = "int main(void) { return 0; }\n";

static const char src_tls[] =
	"__thread char tls_buf[1000];\n"
	"int main(int argc, char **argv) { (void)argv; tls_buf[argc] = 1; return tls_buf[0]; }\n";

static const char src_dpdk[] =
	"#include <rte_eal.h>\n"
	"int main(int argc, char **argv) { return rte_eal_init(argc, argv) < 0; }\n";

static const char src_dpdk_tls[] =
	"#include <rte_eal.h>\n"
	"#include <rte_per_lcore.h>\n"
	"static RTE_DEFINE_PER_LCORE(long, counter);\n"
	"int main(int argc, char **argv) {\n"
	"	RTE_PER_LCORE(counter)++;\n"
	"	return rte_eal_init(argc, argv) < 0 || RTE_PER_LCORE(counter) != 1;\n"
	"}\n";

/* A minimal 64-bit x86-64 ELF header followed by nph program headers, in a byte buffer. */
struct fake_elf {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[4];
	Elf64_Dyn dyn[8];
	char strtab[64];
};

static void fake_init(struct fake_elf *f)
{
	memset(f, 0, sizeof(*f));
	memcpy(f->eh.e_ident, ELFMAG, SELFMAG);
	f->eh.e_ident[EI_CLASS] = ELFCLASS64;
	f->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	f->eh.e_ident[EI_VERSION] = EV_CURRENT;
	f->eh.e_type = ET_DYN;
	f->eh.e_machine = EM_X86_64;
	f->eh.e_version = EV_CURRENT;
	f->eh.e_entry = 0x1000;
	f->eh.e_phoff = offsetof(struct fake_elf, ph);
	f->eh.e_ehsize = sizeof(Elf64_Ehdr);
	f->eh.e_phentsize = sizeof(Elf64_Phdr);
	f->eh.e_phnum = 0;
}

/* A well-formed dynamic PIE: PT_LOAD of the whole file at vaddr 0, PT_INTERP, PT_DYNAMIC with
 * DT_NEEDED librte_eal.so.23, DT_FLAGS_1 PIE. */
static void fake_pie(struct fake_elf *f)
{
	static const char strs[] = "\0librte_eal.so.23\0/lib64/ld-linux-x86-64.so.2";

	fake_init(f);
	memcpy(f->strtab, strs, sizeof(strs));
	f->eh.e_phnum = 3;
	f->ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = 0, .p_vaddr = 0,
				 .p_filesz = sizeof(*f), .p_memsz = sizeof(*f) };
	f->ph[1] = (Elf64_Phdr){ .p_type = PT_INTERP,
				 .p_offset = offsetof(struct fake_elf, strtab) + 18,
				 .p_filesz = 28 };
	f->ph[2] = (Elf64_Phdr){ .p_type = PT_DYNAMIC, .p_offset = offsetof(struct fake_elf, dyn),
				 .p_vaddr = offsetof(struct fake_elf, dyn),
				 .p_filesz = sizeof(f->dyn) };
	f->dyn[0] = (Elf64_Dyn){ .d_tag = DT_NEEDED, .d_un.d_val = 1 };
	f->dyn[1] = (Elf64_Dyn){ .d_tag = DT_STRTAB,
				 .d_un.d_ptr = offsetof(struct fake_elf, strtab) };
	f->dyn[2] = (Elf64_Dyn){ .d_tag = DT_STRSZ, .d_un.d_val = sizeof(strs) };
	f->dyn[3] = (Elf64_Dyn){ .d_tag = DT_FLAGS_1, .d_un.d_val = DF_1_PIE };
	f->dyn[4] = (Elf64_Dyn){ .d_tag = DT_NULL };
}

static void fake_write(const struct work *w, const char *name, const void *f, size_t len,
		       char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/%s", w->dir, name);
	write_file(out, f, len);
}

/* ---- binaries built now ----------------------------------------------------------------- */

TEST_TIMEOUT(pie_default, 60)
{
	struct work w;
	struct dpdkmp_elf_info i;
	char exe[PATH_MAX];

	need_cc();
	work_init(&w);
	build(&w, "pie", src_plain, "", "", exe, sizeof(exe));
	inspect_ok(exe, &i);
	ASSERT_EQ(i.elfclass, ELFCLASS64);
	ASSERT_EQ(i.machine, EM_X86_64);
	ASSERT_EQ(i.type, ET_DYN);
	ASSERT_EQ(i.pie, 1);
	ASSERT_EQ(i.has_interp, 1);
	ASSERT_EQ(i.has_dynamic, 1);
	ASSERT_NE(i.entry, 0);
	ASSERT_EQ(i.tls_memsz, 0);
	ASSERT_GT(i.dynamic_off, 0);
	ASSERT_EQ(i.dynamic_size % sizeof(Elf64_Dyn), 0);
	ASSERT_STREQ(i.eal_needed, "");
	ASSERT_STREQ(i.other_abi, "");
	/* flags1_off points at the DT_FLAGS_1 value in the file. */
	{
		uint64_t v = 0;
		int fd = open(exe, O_RDONLY | O_CLOEXEC);

		ASSERT_GT(i.flags1_off, i.dynamic_off);
		ASSERT_LT(i.flags1_off, i.dynamic_off + i.dynamic_size);
		ASSERT_EQ(pread(fd, &v, sizeof(v), (off_t)i.flags1_off), 8);
		ASSERT_EQ(v & DF_1_PIE, DF_1_PIE);
		close(fd);
	}
	refused_with(&i, 0, exe, "does not link librte_eal");
	refused_with(&i, 1, exe, "does not link librte_eal");
	work_done(&w);
}

TEST_TIMEOUT(no_pie, 60)
{
	struct work w;
	struct dpdkmp_elf_info i;
	char exe[PATH_MAX];

	need_dpdk();
	work_init(&w);
	/* A DPDK program in every way but position independence. */
	build(&w, "nopie", src_dpdk, "-fno-pie -no-pie " DPDK_CFLAGS, DPDK_LIBS, exe, sizeof(exe));
	inspect_ok(exe, &i);
	ASSERT_EQ(i.type, ET_EXEC);
	ASSERT_EQ(i.pie, 0);
	ASSERT_EQ(i.has_interp, 1);
	ASSERT_STREQ(i.eal_needed, "librte_eal.so.23");
	refused_with(&i, 0, exe, "-fPIE");
	refused_with(&i, 1, exe, "-fPIE");
	work_done(&w);
}

TEST_TIMEOUT(static_binary, 60)
{
	struct work w;
	struct dpdkmp_elf_info i;
	char exe[PATH_MAX];

	need_cc();
	work_init(&w);
	if (try_build(&w, "static", src_plain, "-static", "", exe, sizeof(exe)) != 0) {
		work_done(&w);
		SKIP("`cc -static` does not link here (static libc missing?)");
	}
	inspect_ok(exe, &i);
	ASSERT_EQ(i.has_interp, 0);
	refused_with(&i, 0, exe, "statically linked");
	refused_with(&i, 1, exe, "statically linked");
	work_done(&w);
}

TEST_TIMEOUT(static_pie_binary, 60)
{
	struct work w;
	struct dpdkmp_elf_info i;
	char exe[PATH_MAX];

	need_cc();
	work_init(&w);
	if (try_build(&w, "spie", src_plain, "-static-pie", "", exe, sizeof(exe)) != 0) {
		work_done(&w);
		SKIP("`cc -static-pie` does not link here");
	}
	inspect_ok(exe, &i);
	ASSERT_EQ(i.type, ET_DYN);
	ASSERT_EQ(i.has_interp, 0);
	ASSERT_EQ(i.has_dynamic, 1);
	refused_with(&i, 1, exe, "statically linked");
	work_done(&w);
}

TEST_TIMEOUT(tls_plain, 60)
{
	struct work w;
	struct dpdkmp_elf_info i;
	char exe[PATH_MAX];

	need_cc();
	work_init(&w);
	build(&w, "tls", src_tls, "", "", exe, sizeof(exe));
	inspect_ok(exe, &i);
	ASSERT_EQ(i.pie, 1);
	ASSERT_GE(i.tls_memsz, 1000);
	ASSERT_LT(i.tls_memsz, 1000 + 64);
	work_done(&w);
}

TEST_TIMEOUT(tls_dpdk, 60)
{
	struct work w;
	struct dpdkmp_elf_info i;
	char exe[PATH_MAX];

	need_dpdk();
	work_init(&w);
	build(&w, "tlsdpdk", src_dpdk_tls, DPDK_CFLAGS, DPDK_LIBS, exe, sizeof(exe));
	inspect_ok(exe, &i);
	ASSERT_EQ(i.pie, 1);
	ASSERT_STREQ(i.eal_needed, "librte_eal.so.23");
	ASSERT_GE(i.tls_memsz, sizeof(long));
	TH_LOG("PT_TLS of a program with one RTE_DEFINE_PER_LCORE(long): %llu bytes",
	       (unsigned long long)i.tls_memsz);
	/* TLS in the executable aliases the primary's, unless it is the primary's own binary. */
	refused_with(&i, 0, exe, "thread-local storage");
	refused_with(&i, 0, exe, "RTE_DEFINE_PER_LCORE");
	accepted(&i, 1, exe);
	work_done(&w);
}

TEST_TIMEOUT(dpdk_pie_accepted, 60)
{
	struct work w;
	struct dpdkmp_elf_info i;
	char exe[PATH_MAX];

	need_dpdk();
	work_init(&w);
	build(&w, "dpdk", src_dpdk, DPDK_CFLAGS, DPDK_LIBS, exe, sizeof(exe));
	inspect_ok(exe, &i);
	ASSERT_EQ(i.type, ET_DYN);
	ASSERT_EQ(i.pie, 1);
	ASSERT_EQ(i.tls_memsz, 0);
	ASSERT_STREQ(i.eal_needed, "librte_eal.so.23");
	ASSERT_STREQ(i.other_abi, "");
	accepted(&i, 0, exe);
	accepted(&i, 1, exe);
	work_done(&w);
}

TEST_TIMEOUT(other_dpdk_abi, 60)
{
	static const char lib[] = "int rte_fake(void) { return 1; }\n";
	static const char src[] =
		"#include <rte_eal.h>\n"
		"int rte_fake(void);\n"
		"int main(int argc, char **argv) { return rte_eal_init(argc, argv) < 0 || rte_fake(); }\n";
	struct work w;
	struct dpdkmp_elf_info i;
	char so[PATH_MAX], exe[PATH_MAX], libs[PATH_MAX + 128];

	need_dpdk();
	work_init(&w);
	/* A library that claims to be from another DPDK release: librte_fake.so.24. */
	build(&w, "librte_fake.so.24", lib, "-shared -fPIC -Wl,-soname,librte_fake.so.24", "",
	      so, sizeof(so));
	snprintf(libs, sizeof(libs), "%s " DPDK_LIBS, so);
	build(&w, "abi", src, DPDK_CFLAGS, libs, exe, sizeof(exe));
	inspect_ok(exe, &i);
	ASSERT_STREQ(i.eal_needed, "librte_eal.so.23");
	ASSERT_STREQ(i.other_abi, "librte_fake.so.24");
	refused_with(&i, 1, exe, "another DPDK ABI");
	refused_with(&i, 1, exe, "librte_fake.so.24");
	work_done(&w);
}

TEST_TIMEOUT(elf32_compiled, 60)
{
	struct work w;
	struct dpdkmp_elf_info i;
	char exe[PATH_MAX];

	need_cc();
	work_init(&w);
	if (try_build(&w, "m32", src_plain, "-m32", "", exe, sizeof(exe)) != 0) {
		work_done(&w);
		SKIP("`cc -m32` cannot link (no 32-bit libc: apt install gcc-multilib)");
	}
	inspect_ok(exe, &i);
	ASSERT_EQ(i.elfclass, ELFCLASS32);
	refused_with(&i, 0, exe, "32-bit");
	work_done(&w);
}

/* ---- files that are not (good) ELF ------------------------------------------------------ */

TEST(not_elf)
{
	struct work w;
	char p[PATH_MAX];

	work_init(&w);
	fake_write(&w, "text", "#!/bin/sh\necho hello\n", 21, p, sizeof(p));
	inspect_fails(p, -ENOEXEC);
	fake_write(&w, "empty", "", 0, p, sizeof(p));
	inspect_fails(p, -ENOEXEC);
	fake_write(&w, "short", "\177EL", 3, p, sizeof(p));
	inspect_fails(p, -ENOEXEC);
	fake_write(&w, "magic_only", "\177ELF", 4, p, sizeof(p));
	inspect_fails(p, -ENOEXEC);
	work_done(&w);
}

TEST_TIMEOUT(truncated_real_elf, 60)
{
	struct work w;
	struct dpdkmp_elf_info i;
	char exe[PATH_MAX], t[PATH_MAX];
	const size_t cuts[] = { 16, 63, 64, 100, 200 };

	need_cc();
	work_init(&w);
	build(&w, "whole", src_plain, "", "", exe, sizeof(exe));
	inspect_ok(exe, &i);
	for (size_t k = 0; k < sizeof(cuts) / sizeof(cuts[0]); k++) {
		snprintf(t, sizeof(t), "%s/cut%zu", w.dir, cuts[k]);
		copy_prefix(exe, t, cuts[k]);
		TH_LOG("first %zu bytes", cuts[k]);
		inspect_fails(t, -ENOEXEC);
	}
	work_done(&w);
}

TEST(crafted_good)
{
	struct work w;
	struct fake_elf f;
	struct dpdkmp_elf_info i;
	char p[PATH_MAX];

	/* The reference for the malformed variants below: it must pass. */
	work_init(&w);
	fake_pie(&f);
	fake_write(&w, "good", &f, sizeof(f), p, sizeof(p));
	inspect_ok(p, &i);
	ASSERT_EQ(i.type, ET_DYN);
	ASSERT_EQ(i.pie, 1);
	ASSERT_EQ(i.has_interp, 1);
	ASSERT_EQ(i.entry, 0x1000);
	ASSERT_EQ(i.dynamic_off, offsetof(struct fake_elf, dyn));
	ASSERT_EQ(i.flags1_off, offsetof(struct fake_elf, dyn) + 3 * sizeof(Elf64_Dyn) + 8);
	ASSERT_STREQ(i.eal_needed, "librte_eal.so.23");
	accepted(&i, 0, p);
	work_done(&w);
}

TEST(crafted_elf32)
{
	struct work w;
	struct fake_elf f;
	struct dpdkmp_elf_info i;
	char p[PATH_MAX];

	work_init(&w);
	fake_init(&f);
	f.eh.e_ident[EI_CLASS] = ELFCLASS32;
	fake_write(&w, "elf32", &f, sizeof(Elf32_Ehdr), p, sizeof(p));
	inspect_ok(p, &i);
	ASSERT_EQ(i.elfclass, ELFCLASS32);
	refused_with(&i, 1, p, "32-bit");
	/* Unknown class */
	f.eh.e_ident[EI_CLASS] = 7;
	fake_write(&w, "class7", &f, sizeof(Elf32_Ehdr), p, sizeof(p));
	inspect_ok(p, &i);
	refused_with(&i, 1, p, "unknown-class");
	/* Big-endian 64-bit: refused, whatever the reason given. */
	fake_pie(&f);
	f.eh.e_ident[EI_DATA] = ELFDATA2MSB;
	fake_write(&w, "msb", &f, sizeof(f), p, sizeof(p));
	inspect_ok(p, &i);
	ASSERT_EQ(dpdkmp_elf_check_secondary(&i, 1, p, (char[64]){ 0 }, 64), -ENOEXEC);
	work_done(&w);
}

TEST(crafted_other_machine_and_type)
{
	struct work w;
	struct fake_elf f;
	struct dpdkmp_elf_info i;
	char p[PATH_MAX];

	work_init(&w);
	fake_pie(&f);
	f.eh.e_machine = EM_AARCH64;
	fake_write(&w, "arm", &f, sizeof(f), p, sizeof(p));
	inspect_ok(p, &i);
	ASSERT_EQ(i.machine, EM_AARCH64);
	refused_with(&i, 1, p, "another architecture");
	fake_pie(&f);
	f.eh.e_type = ET_REL;
	fake_write(&w, "rel", &f, sizeof(f), p, sizeof(p));
	inspect_ok(p, &i);
	refused_with(&i, 1, p, "not an executable");
	work_done(&w);
}

TEST(crafted_bad_program_headers)
{
	struct work w;
	struct fake_elf f;
	char p[PATH_MAX];

	work_init(&w);
	fake_pie(&f);
	f.eh.e_phnum = 0xffff;
	fake_write(&w, "phnum_huge", &f, sizeof(f), p, sizeof(p));
	inspect_fails(p, -ENOEXEC);
	fake_pie(&f);
	f.eh.e_phnum = DPDKMP_ELF_MAX_PHDRS + 1;
	fake_write(&w, "phnum_65", &f, sizeof(f), p, sizeof(p));
	inspect_fails(p, -ENOEXEC);
	fake_pie(&f);
	f.eh.e_phnum = 50;              /* fewer than 64, but past the end of the file */
	fake_write(&w, "phnum_past_eof", &f, sizeof(f), p, sizeof(p));
	inspect_fails(p, -ENOEXEC);
	fake_pie(&f);
	f.eh.e_phentsize = sizeof(Elf32_Phdr);
	fake_write(&w, "phentsize", &f, sizeof(f), p, sizeof(p));
	inspect_fails(p, -ENOEXEC);
	fake_pie(&f);
	f.eh.e_phoff = 1u << 30;
	fake_write(&w, "phoff_past_eof", &f, sizeof(f), p, sizeof(p));
	inspect_fails(p, -ENOEXEC);
	work_done(&w);
}

TEST(crafted_offsets_beyond_off_t)
{
	struct work w;
	struct fake_elf f[3];
	struct dpdkmp_elf_info i;
	char p[PATH_MAX];

	/* Offsets that do not fit in off_t are malformed input (-ENOEXEC), not I/O errors. */
	work_init(&w);
	for (int k = 0; k < 3; k++)
		fake_pie(&f[k]);
	f[0].eh.e_phoff = 0x8000000000000000ull;
	f[1].eh.e_phoff = UINT64_MAX - 8;
	f[2].ph[2].p_offset = 0xfffffffffffff000ull;    /* PT_DYNAMIC */
	for (int k = 0; k < 3; k++) {
		int ret;

		fake_write(&w, "off", &f[k], sizeof(f[k]), p, sizeof(p));
		ret = inspect(p, &i);
		if (ret != -ENOEXEC)
			TH_LOG("case %d: %d (%s)", k, ret, strerror(-ret));
		EXPECT_EQ(ret, -ENOEXEC);
	}
	work_done(&w);
}

TEST(crafted_bad_dynamic)
{
	struct work w;
	struct fake_elf f;
	struct dpdkmp_elf_info i;
	char p[PATH_MAX];

	work_init(&w);
	/* PT_DYNAMIC past the end of the file */
	fake_pie(&f);
	f.ph[2].p_offset = 1u << 20;
	fake_write(&w, "dyn_past_eof", &f, sizeof(f), p, sizeof(p));
	inspect_fails(p, -ENOEXEC);
	/* A huge PT_DYNAMIC: at most DPDKMP_ELF_MAX_DYNAMIC is read, and that is past the end */
	fake_pie(&f);
	f.ph[2].p_filesz = 1ull << 40;
	fake_write(&w, "dyn_huge", &f, sizeof(f), p, sizeof(p));
	inspect_fails(p, -ENOEXEC);
	/* DT_STRTAB outside every PT_LOAD */
	fake_pie(&f);
	f.dyn[1].d_un.d_ptr = 0x10000000;
	fake_write(&w, "strtab_unmapped", &f, sizeof(f), p, sizeof(p));
	inspect_fails(p, -ENOEXEC);
	/* DT_STRTAB whose file offset is past the end of the file */
	fake_pie(&f);
	f.ph[0].p_filesz = 1u << 20;
	f.dyn[1].d_un.d_ptr = 1u << 19;
	fake_write(&w, "strtab_past_eof", &f, sizeof(f), p, sizeof(p));
	inspect_fails(p, -ENOEXEC);
	/* DT_NEEDED beyond DT_STRSZ is ignored, not followed */
	fake_pie(&f);
	f.dyn[0].d_un.d_val = 1000;
	fake_write(&w, "needed_past_strsz", &f, sizeof(f), p, sizeof(p));
	inspect_ok(p, &i);
	ASSERT_STREQ(i.eal_needed, "");
	/* No DT_NULL at all: the walk stops at the end of PT_DYNAMIC */
	fake_pie(&f);
	for (int k = 4; k < 8; k++)
		f.dyn[k] = (Elf64_Dyn){ .d_tag = DT_DEBUG };
	fake_write(&w, "no_dt_null", &f, sizeof(f), p, sizeof(p));
	inspect_ok(p, &i);
	ASSERT_STREQ(i.eal_needed, "librte_eal.so.23");
	/* A name without NUL before the end of the file is cut, not overread */
	fake_pie(&f);
	memset(f.strtab, 'x', sizeof(f.strtab));
	memcpy(f.strtab + 1, "librte_eal.so.23", 16);
	fake_write(&w, "name_no_nul", &f, sizeof(f), p, sizeof(p));
	inspect_ok(p, &i);
	ASSERT_EQ(strncmp(i.eal_needed, "librte_eal.so.23", 16), 0);
	ASSERT_LT(strlen(i.eal_needed), sizeof(i.eal_needed));
	work_done(&w);
}

TEST(check_message_truncation)
{
	struct dpdkmp_elf_info i;
	char why[16];

	memset(&i, 0, sizeof(i));
	i.elfclass = ELFCLASS64;
	i.machine = EM_X86_64;
	i.type = ET_DYN;
	i.has_interp = i.has_dynamic = i.pie = 1;
	memset(why, 'z', sizeof(why));
	ASSERT_EQ(dpdkmp_elf_check_secondary(&i, 0, "/a/very/long/path/to/a/program", why, 8),
		  -ENOEXEC);
	ASSERT_EQ(why[7], '\0');
	ASSERT_EQ(why[8], 'z');
	snprintf(i.eal_needed, sizeof(i.eal_needed), "librte_eal.so.23");
	ASSERT_EQ(dpdkmp_elf_check_secondary(&i, 0, "/p", why, sizeof(why)), 0);
}

/* ---- the Debian DPDK tools -------------------------------------------------------------- */

static void debian_tool(const char *path)
{
	struct dpdkmp_elf_info i;
	char why[1024] = "";
	int ret;

	if (access(path, R_OK) != 0)
		SKIP("%s is not installed (apt install dpdk)", path);
	inspect_ok(path, &i);
	TH_LOG("%s: PT_TLS %llu bytes, %s", path, (unsigned long long)i.tls_memsz, i.eal_needed);
	ASSERT_EQ(i.type, ET_DYN);
	ASSERT_EQ(i.pie, 1);
	ASSERT_EQ(i.has_interp, 1);
	ASSERT_STREQ(i.eal_needed, "librte_eal.so.23");
	ASSERT_STREQ(i.other_abi, "");
	accepted(&i, 1, path);
	ret = dpdkmp_elf_check_secondary(&i, 0, path, why, sizeof(why));
	ASSERT_EQ(ret, i.tls_memsz ? -ENOEXEC : 0);
	if (ret)
		TH_LOG("as a secondary of another primary: %s", why);
}

TEST(debian_testpmd)
{
	debian_tool("/usr/bin/dpdk-testpmd");
}

TEST(debian_proc_info)
{
	debian_tool("/usr/bin/dpdk-proc-info");
}

/* A secondary whose RUNPATH says $ORIGIN: the loader must find its libraries beside it. */
TEST_TIMEOUT(origin_deps, 60)
{
	static char paths[4][4096];
	struct work w;
	char lib[PATH_MAX], exe[PATH_MAX], libs[PATH_MAX + 128], want[PATH_MAX + 32];
	int fd, n;

	need_cc();
	work_init(&w);
	build(&w, "libbeside.so", "int beside(void) { return 1; }\n", "-shared -fPIC", "", lib,
	      sizeof(lib));
	snprintf(libs, sizeof(libs), "-L%s -l:libbeside.so -Wl,-rpath,'$ORIGIN'", w.dir);
	build(&w, "origin", "int beside(void);\nint main(void) { return beside() - 1; }\n", "",
	      libs, exe, sizeof(exe));
	fd = open(exe, O_RDONLY | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	n = dpdkmp_elf_origin_deps(fd, w.dir, paths, 4);
	ASSERT_EQ(n, 1);
	snprintf(want, sizeof(want), "%s/libbeside.so", w.dir);
	ASSERT_STREQ(paths[0], want);
	ASSERT_EQ(dpdkmp_elf_origin_deps(fd, "/nonexistent", paths, 4), 0);
	close(fd);
	/* No $ORIGIN: nothing to do. */
	fd = open(lib, O_RDONLY | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(dpdkmp_elf_origin_deps(fd, w.dir, paths, 4), 0);
	close(fd);
	work_done(&w);
}

TEST_MAIN()
