/* elfinfo: reads only what the policy needs (ELF header, program headers, the dynamic
 * section and DT_NEEDED strings), through pread with every offset and size bounded, so a
 * hostile file can cost at most a few kilobytes of reads. */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "elfinfo.h"

static int pread_exact(int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	if (off > (uint64_t)INT64_MAX - len)
		return -ENOEXEC;  /* not a file offset: malformed headers */
	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -EIO;
		if (n == 0)
			return -ENOEXEC;  /* short file: headers point past the end */
		done += (size_t)n;
	}
	return 0;
}

/* Translates a virtual address into a file offset through the PT_LOAD segments. */
static int vaddr_to_off(const Elf64_Phdr *ph, unsigned int n, uint64_t va, uint64_t *off)
{
	for (unsigned int i = 0; i < n; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		if (va >= ph[i].p_vaddr && va - ph[i].p_vaddr < ph[i].p_filesz) {
			*off = ph[i].p_offset + (va - ph[i].p_vaddr);
			return 0;
		}
	}
	return -ENOEXEC;
}

static int read_needed(int fd, const Elf64_Phdr *ph, unsigned int nph, const Elf64_Dyn *dyn,
		       size_t ndyn, struct dpdkmp_elf_info *out)
{
	uint64_t strtab = 0, strsz = 0, stroff;
	char name[128];

	for (size_t i = 0; i < ndyn && dyn[i].d_tag != DT_NULL; i++) {
		if (dyn[i].d_tag == DT_STRTAB)
			strtab = dyn[i].d_un.d_ptr;
		else if (dyn[i].d_tag == DT_STRSZ)
			strsz = dyn[i].d_un.d_val;
	}
	if (!strtab)
		return 0;
	if (vaddr_to_off(ph, nph, strtab, &stroff) < 0)
		return -ENOEXEC;
	for (size_t i = 0; i < ndyn && dyn[i].d_tag != DT_NULL; i++) {
		const char *ver;
		size_t l;

		if (dyn[i].d_tag != DT_NEEDED || dyn[i].d_un.d_val >= strsz)
			continue;
		memset(name, 0, sizeof(name));
		if (pread(fd, name, sizeof(name) - 1, (off_t)(stroff + dyn[i].d_un.d_val)) <= 0)
			return -ENOEXEC;
		if (strncmp(name, "librte_", 7) != 0 || !(ver = strstr(name, ".so.")))
			continue;
		ver += 4;
		l = strcspn(ver, ".");
		if (strncmp(name, "librte_eal.so.", 14) == 0)
			snprintf(out->eal_needed, sizeof(out->eal_needed), "%.63s", name);
		if ((l != strlen(DPDKMP_DPDK_ABI) || strncmp(ver, DPDKMP_DPDK_ABI, l) != 0) &&
		    !out->other_abi[0])
			snprintf(out->other_abi, sizeof(out->other_abi), "%.63s", name);
	}
	return 0;
}

int dpdkmp_elf_inspect(int fd, struct dpdkmp_elf_info *out)
{
	struct dpdkmp_elf_info info;
	Elf64_Phdr ph[DPDKMP_ELF_MAX_PHDRS];
	Elf64_Dyn dyn[DPDKMP_ELF_MAX_DYNAMIC / sizeof(Elf64_Dyn)];
	Elf64_Ehdr eh;
	size_t ndyn = 0;
	int ret;

	memset(&info, 0, sizeof(info));
	if ((ret = pread_exact(fd, eh.e_ident, EI_NIDENT, 0)) < 0)
		return ret;
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
		return -ENOEXEC;
	info.elfclass = eh.e_ident[EI_CLASS];
	if (info.elfclass != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB) {
		*out = info;     /* enough for the policy to name the problem */
		return 0;
	}
	if ((ret = pread_exact(fd, &eh, sizeof(eh), 0)) < 0)
		return ret;
	info.type = eh.e_type;
	info.machine = eh.e_machine;
	info.entry = eh.e_entry;
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > DPDKMP_ELF_MAX_PHDRS)
		return -ENOEXEC;
	if ((ret = pread_exact(fd, ph, sizeof(Elf64_Phdr) * eh.e_phnum, eh.e_phoff)) < 0)
		return ret;
	for (unsigned int i = 0; i < eh.e_phnum; i++) {
		switch (ph[i].p_type) {
		case PT_INTERP:
			info.has_interp = 1;
			break;
		case PT_TLS:
			info.tls_memsz = ph[i].p_memsz;
			break;
		case PT_DYNAMIC:
			info.has_dynamic = 1;
			info.dynamic_off = ph[i].p_offset;
			info.dynamic_size = ph[i].p_filesz;
			break;
		}
	}
	if (info.has_dynamic) {
		size_t sz = info.dynamic_size < sizeof(dyn) ? info.dynamic_size : sizeof(dyn);

		ndyn = sz / sizeof(Elf64_Dyn);
		if ((ret = pread_exact(fd, dyn, ndyn * sizeof(Elf64_Dyn), info.dynamic_off)) < 0)
			return ret;
		for (size_t i = 0; i < ndyn && dyn[i].d_tag != DT_NULL; i++) {
			if (dyn[i].d_tag == DT_FLAGS_1) {
				info.pie = (dyn[i].d_un.d_val & DF_1_PIE) != 0;
				info.flags1_off = info.dynamic_off + i * sizeof(Elf64_Dyn) +
						  offsetof(Elf64_Dyn, d_un);
			}
		}
		if ((ret = read_needed(fd, ph, eh.e_phnum, dyn, ndyn, &info)) < 0)
			return ret;
	}
	*out = info;
	return 0;
}

/* Reads the NUL-terminated string at offset off of the string table, bounded. */
static int read_str(int fd, uint64_t stroff, uint64_t off, uint64_t strsz, char *out, size_t len)
{
	ssize_t n;

	if (off >= strsz)
		return -ENOEXEC;
	memset(out, 0, len);
	n = pread(fd, out, len - 1, (off_t)(stroff + off));
	return n > 0 ? 0 : -ENOEXEC;
}

/* "$ORIGIN/../lib" with origin "/opt/x/bin" -> "/opt/x/bin/../lib"; 0 if no $ORIGIN. */
static int subst_origin(const char *dir, size_t dlen, const char *origin, char *out, size_t len)
{
	const char *tok = NULL;
	size_t tlen = 0;

	for (size_t i = 0; i < dlen; i++) {
		if (!strncmp(dir + i, "$ORIGIN", 7)) {
			tok = dir + i;
			tlen = 7;
			break;
		}
		if (!strncmp(dir + i, "${ORIGIN}", 9)) {
			tok = dir + i;
			tlen = 9;
			break;
		}
	}
	if (!tok)
		return 0;
	return snprintf(out, len, "%.*s%s%.*s", (int)(tok - dir), dir, origin,
			(int)(dlen - (size_t)(tok - dir) - tlen), tok + tlen) < (int)len;
}

int dpdkmp_elf_origin_deps(int fd, const char *origin, char (*paths)[4096], int max)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph[DPDKMP_ELF_MAX_PHDRS];
	Elf64_Dyn dyn[DPDKMP_ELF_MAX_DYNAMIC / sizeof(Elf64_Dyn)];
	uint64_t strtab = 0, strsz = 0, stroff, dynoff = 0, dynsz = 0;
	char rpath[4096], name[256], dir[4096];
	size_t ndyn;
	int n = 0, ret;

	if ((ret = pread_exact(fd, &eh, sizeof(eh), 0)) < 0)
		return ret;
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > DPDKMP_ELF_MAX_PHDRS)
		return -ENOEXEC;
	if ((ret = pread_exact(fd, ph, sizeof(Elf64_Phdr) * eh.e_phnum, eh.e_phoff)) < 0)
		return ret;
	for (unsigned int i = 0; i < eh.e_phnum; i++)
		if (ph[i].p_type == PT_DYNAMIC) {
			dynoff = ph[i].p_offset;
			dynsz = ph[i].p_filesz;
		}
	if (!dynsz)
		return 0;
	ndyn = (dynsz < sizeof(dyn) ? dynsz : sizeof(dyn)) / sizeof(Elf64_Dyn);
	if ((ret = pread_exact(fd, dyn, ndyn * sizeof(Elf64_Dyn), dynoff)) < 0)
		return ret;
	rpath[0] = '\0';
	for (size_t i = 0; i < ndyn && dyn[i].d_tag != DT_NULL; i++) {
		if (dyn[i].d_tag == DT_STRTAB)
			strtab = dyn[i].d_un.d_ptr;
		else if (dyn[i].d_tag == DT_STRSZ)
			strsz = dyn[i].d_un.d_val;
	}
	if (!strtab || vaddr_to_off(ph, eh.e_phnum, strtab, &stroff) < 0)
		return 0;
	/* DT_RUNPATH wins over DT_RPATH, as in ld.so. */
	for (size_t i = 0; i < ndyn && dyn[i].d_tag != DT_NULL; i++)
		if (dyn[i].d_tag == DT_RUNPATH || (dyn[i].d_tag == DT_RPATH && !rpath[0]))
			if (read_str(fd, stroff, dyn[i].d_un.d_val, strsz, rpath, sizeof(rpath)) < 0)
				return -ENOEXEC;
	if (!strstr(rpath, "ORIGIN"))
		return 0;
	for (size_t i = 0; i < ndyn && dyn[i].d_tag != DT_NULL && n < max; i++) {
		const char *p = rpath;

		if (dyn[i].d_tag != DT_NEEDED ||
		    read_str(fd, stroff, dyn[i].d_un.d_val, strsz, name, sizeof(name)) < 0 ||
		    strchr(name, '/'))
			continue;
		while (*p && n < max) {
			size_t l = strcspn(p, ":");

			if (subst_origin(p, l, origin, dir, sizeof(dir)) &&
			    snprintf(paths[n], 4096, "%s/%s", dir, name) < 4096 &&
			    access(paths[n], R_OK) == 0) {
				n++;
				break;
			}
			p += l + (p[l] == ':');
		}
	}
	return n;
}

int dpdkmp_elf_check_secondary(const struct dpdkmp_elf_info *info, int same_binary,
			       const char *path, char *why, size_t whylen)
{
	(void)path;
#define REFUSE(...) do { snprintf(why, whylen, __VA_ARGS__); return -ENOEXEC; } while (0)
	if (info->elfclass != ELFCLASS64)
		REFUSE("it is a 32-bit or unknown-class ELF file; dpdkmp runs 64-bit secondaries only");
#if defined(__x86_64__)
	if (info->machine != EM_X86_64)
		REFUSE("it is built for another architecture (e_machine %u); build it for x86-64",
		       info->machine);
#endif
	if (info->type != ET_DYN && info->type != ET_EXEC)
		REFUSE("it is not an executable (ELF type %u)", info->type);
	if (!info->has_interp || !info->has_dynamic)
		REFUSE("it is statically linked; a secondary must be a dynamically linked PIE "
		       "using the shared DPDK libraries (build with `pkg-config --libs libdpdk`, not --static)");
	if (info->type != ET_DYN)
		REFUSE("it is not position-independent (ET_EXEC); rebuild it with -fPIE -pie");
	if (info->other_abi[0])
		REFUSE("it links %s, another DPDK ABI than the primary's (librte_eal.so.%s); rebuild it "
		       "against DPDK 22.11", info->other_abi, DPDKMP_DPDK_ABI);
	if (!info->eal_needed[0])
		REFUSE("it does not link librte_eal.so.%s, so it is not a shared-library DPDK program; "
		       "run it directly, or rebuild it against the shared DPDK 22.11 libraries",
		       DPDKMP_DPDK_ABI);
	if (!same_binary && info->tls_memsz)
		REFUSE("it has thread-local storage in the executable (PT_TLS, %llu bytes), which "
		       "would alias the primary's TLS when loaded into the primary's image; move "
		       "the thread-local variables (RTE_DEFINE_PER_LCORE, __thread) into a shared "
		       "library, or run it as the primary's own executable",
		       (unsigned long long)info->tls_memsz);
	return 0;
#undef REFUSE
}
