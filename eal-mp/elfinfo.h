/* elfinfo: inspection of an executable file through an fd (pread only, bounded), and the
 * policy deciding whether it can run as a secondary inside the fork server. */
#ifndef DPDKMP_ELFINFO_H
#define DPDKMP_ELFINFO_H

#include <stddef.h>
#include <stdint.h>

#define DPDKMP_ELF_MAX_PHDRS   64u
#define DPDKMP_ELF_MAX_DYNAMIC 4096u
#define DPDKMP_DPDK_ABI        "23"   /* librte_eal.so.23: DPDK 22.11 LTS */

struct dpdkmp_elf_info {
	uint16_t type;          /* ET_EXEC, ET_DYN, ... */
	uint16_t machine;       /* EM_X86_64, ... */
	uint8_t elfclass;       /* ELFCLASS64, ... */
	uint8_t has_interp;     /* PT_INTERP: dynamically linked executable */
	uint8_t has_dynamic;    /* PT_DYNAMIC */
	uint8_t pie;            /* DF_1_PIE in DT_FLAGS_1 */
	uint64_t entry;         /* e_entry */
	uint64_t tls_memsz;     /* PT_TLS p_memsz, 0 if none */
	uint64_t dynamic_off;   /* file offset of PT_DYNAMIC */
	uint64_t dynamic_size;
	uint64_t flags1_off;    /* file offset of the DT_FLAGS_1 d_val, 0 if none */
	char eal_needed[64];    /* "librte_eal.so.NN" from DT_NEEDED, "" if none */
	char other_abi[64];     /* first DT_NEEDED librte_*.so.X with X != our ABI, "" if none */
};

/* Reads the ELF headers of fd. 0, or -ENOEXEC (not an ELF file or malformed), -EIO. */
int dpdkmp_elf_inspect(int fd, struct dpdkmp_elf_info *out);

/* Decides whether info can be a secondary of a primary; same_binary says whether it is the
 * primary's own executable. 0, or -ENOEXEC with a message naming cause and fix in why,
 * worded to follow "cannot run PATH: " ("it is statically linked; ..."). path is unused. */
int dpdkmp_elf_check_secondary(const struct dpdkmp_elf_info *info, int same_binary,
			       const char *path, char *why, size_t whylen);

/* The DT_NEEDED libraries of fd that its DT_RUNPATH/DT_RPATH finds through $ORIGIN, with
 * $ORIGIN replaced by origin (the directory of the executable). A copy loaded from a memfd
 * has no usable $ORIGIN, so the loader loads these first by their real paths. Writes up to
 * max paths of PATH_MAX bytes each into paths; returns their number or -errno. */
int dpdkmp_elf_origin_deps(int fd, const char *origin, char (*paths)[4096], int max);

#endif
