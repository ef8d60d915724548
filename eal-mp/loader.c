/* loader: loads a secondary's executable that is not the primary's into the child.
 * glibc refuses to dlopen a PIE, so a memfd copy with DF_1_PIE cleared is loaded instead;
 * main is captured by running the executable's own _start up to __libc_start_main (works on
 * stripped binaries, where dlsym("main") cannot); and the executable's COPY relocations,
 * which give it private snapshots of library data (optarg, stdout, rte_eth_devices, ...),
 * are made live by copying the current values in and pointing every other object's GOT
 * at the executable's copy, as a normally started process would have it. */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "log.h"

#define MAX_COPIES 512
#define MAX_OBJECTS 2048

struct copy_reloc {
	const char *name;
	uintptr_t canon;        /* the definition every other object was bound to */
	uintptr_t dst;          /* the executable's copy */
};

static struct {
	struct link_map *lm;
	struct copy_reloc copies[MAX_COPIES];
	unsigned int ncopies;
	unsigned int patched;
	uintptr_t seen[MAX_OBJECTS];    /* load addresses of the objects patched already */
	unsigned int nseen;
	int sorted;
} ld;

struct dyn {
	uintptr_t base;
	uintptr_t relro_start;  /* PT_GNU_RELRO: read-only after relocation */
	uintptr_t relro_end;
	const ElfW(Sym) *sym;
	const char *str;
	const char *soname;     /* NULL when the object has none */
	const ElfW(Rela) *rela;
	size_t relasz;
	const ElfW(Rela) *jmprel;
	size_t pltrelsz;
};

static int read_dyn(uintptr_t base, const ElfW(Dyn) *d, struct dyn *out)
{
	long soname_off = -1;

	memset(out, 0, sizeof(*out));
	out->base = base;
	/* glibc relocates d_ptr of most objects; the vDSO's are raw offsets. */
#define ABS(x) ((uintptr_t)(x) < base ? (uintptr_t)(x) + base : (uintptr_t)(x))
	for (; d->d_tag != DT_NULL; d++) {
		switch (d->d_tag) {
		case DT_SYMTAB: out->sym = (const void *)ABS(d->d_un.d_ptr); break;
		case DT_STRTAB: out->str = (const void *)ABS(d->d_un.d_ptr); break;
		case DT_RELA: out->rela = (const void *)ABS(d->d_un.d_ptr); break;
		case DT_RELASZ: out->relasz = d->d_un.d_val; break;
		case DT_JMPREL: out->jmprel = (const void *)ABS(d->d_un.d_ptr); break;
		case DT_PLTRELSZ: out->pltrelsz = d->d_un.d_val; break;
		case DT_SONAME: soname_off = (long)d->d_un.d_val; break;
		}
	}
#undef ABS
	if (soname_off >= 0 && out->str)
		out->soname = out->str + soname_off;
	return out->sym && out->str ? 0 : -ENOEXEC;
}

static const struct copy_reloc *copy_for_value(uintptr_t v)
{
	for (unsigned int i = 0; i < ld.ncopies; i++)
		if (ld.copies[i].canon == v)
			return &ld.copies[i];
	return NULL;
}

static void patch_slot(uintptr_t relro_start, uintptr_t relro_end, uintptr_t *slot, uintptr_t value)
{
	uintptr_t page = (uintptr_t)slot & ~(uintptr_t)(getpagesize() - 1);

	if ((uintptr_t)slot < relro_start || (uintptr_t)slot >= relro_end) {
		*slot = value;  /* writable data */
		ld.patched++;
		return;
	}
	/* GOT slots in RELRO are read-only after relocation: open the page for the write and
	 * close it again, so the mapping stays what the primary has (r--p). */
	if (mprotect((void *)page, (size_t)getpagesize(), PROT_READ | PROT_WRITE) < 0)
		return;
	*slot = value;
	ld.patched++;
	mprotect((void *)page, (size_t)getpagesize(), PROT_READ);
}

typedef int (*slot_fn)(const struct dyn *d, uintptr_t *slot, uintptr_t addend, const char *name,
		       void *arg);

/* Calls fn for each slot that holds a symbol's address plus an addend (GLOB_DAT, R_X86_64_64)
 * until fn fails. Only DT_RELA: the PLT's JUMP_SLOTs (DT_JMPREL) hold functions or lazy-
 * binding stubs, never the address of a data object, and they are most relocations. */
static int each_data_slot(const struct dyn *d, slot_fn fn, void *arg)
{
	for (size_t i = 0; d->rela && i < d->relasz / sizeof(ElfW(Rela)); i++) {
		const ElfW(Rela) *r = &d->rela[i];
		unsigned long type = ELF64_R_TYPE(r->r_info), si = ELF64_R_SYM(r->r_info);
		int ret;

		if (!si || (type != R_X86_64_GLOB_DAT && type != R_X86_64_64))
			continue;
		ret = fn(d, (uintptr_t *)(d->base + r->r_offset),
			 type == R_X86_64_64 ? (uintptr_t)r->r_addend : 0, d->str + d->sym[si].st_name, arg);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int patch_one(const struct dyn *d, uintptr_t *slot, uintptr_t addend, const char *name,
		     void *arg)
{
	/* Compare the value first: cheap, and rarely a hit. */
	const struct copy_reloc *c = copy_for_value(*slot - addend);

	(void)arg;
	if (c && strcmp(name, c->name) == 0)
		patch_slot(d->relro_start, d->relro_end, slot, c->dst + addend);
	return 0;
}

static void patch_object(const struct dyn *d)
{
	each_data_slot(d, patch_one, NULL);
}

static int addr_cmp(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

/* ---- the zygote's index of data-pointer slots ----------------------------------------- */

/* Walking every DT_RELA entry of the ~370 objects of a DPDK process took 1.2 ms per attach.
 * The zygote indexes them once, by the value they hold: a child then finds the slots bound
 * to a copied object's definition by lookup, and walks only objects loaded after the index
 * (the secondary's executable and its own libraries). The zygote runs no application code,
 * so a slot's value in a child at load time is its value when the index was built; each one
 * is still read again before it is patched. */
struct slot_ref {
	uintptr_t value;        /* *slot - addend */
	uintptr_t *slot;
	uintptr_t addend;
	const char *name;
	uint32_t obj;
};

struct indexed_obj {
	uintptr_t base;
	uintptr_t relro_start;
	uintptr_t relro_end;
};

static struct {
	struct slot_ref *v;
	size_t n, cap;
	struct indexed_obj *objs;
	uintptr_t *bases;
	size_t nobjs, objcap;
	int ready;
} idx;

static int object_dyn(struct dl_phdr_info *info, struct dyn *d)
{
	uintptr_t relro_start = 0, relro_end = 0, mask = ~(uintptr_t)(getpagesize() - 1);
	const ElfW(Dyn) *dynamic = NULL;

	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_DYNAMIC) {
			dynamic = (const ElfW(Dyn) *)(info->dlpi_addr + ph->p_vaddr);
		} else if (ph->p_type == PT_GNU_RELRO) {
			/* What ld.so made read-only (_dl_protect_relro): whole pages only. */
			relro_start = (info->dlpi_addr + ph->p_vaddr) & mask;
			relro_end = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz) & mask;
		}
	}
	if (!dynamic || read_dyn(info->dlpi_addr, dynamic, d) < 0)
		return -ENOENT;
	d->relro_start = relro_start;
	d->relro_end = relro_end;
	return 0;
}

/* Room for one more element in a doubling array. */
static int room(void **v, size_t *cap, size_t n, size_t elt, size_t first)
{
	size_t c = *cap ? *cap * 2 : first;
	void *p;

	if (n < *cap)
		return 0;
	p = realloc(*v, c * elt);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = c;
	return 0;
}

static int index_one(const struct dyn *d, uintptr_t *slot, uintptr_t addend, const char *name,
		     void *arg)
{
	(void)d;
	if (room((void **)&idx.v, &idx.cap, idx.n, sizeof(idx.v[0]), 16384) < 0)
		return -ENOMEM;
	idx.v[idx.n++] = (struct slot_ref){ *slot - addend, slot, addend, name,
					    *(uint32_t *)arg };
	return 0;
}

static int index_phdr(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct dyn d;
	uint32_t obj;

	(void)size;
	(void)arg;
	if (object_dyn(info, &d) < 0)
		return 0;
	if (room((void **)&idx.objs, &idx.objcap, idx.nobjs, sizeof(idx.objs[0]), 512) < 0)
		return 1;
	obj = (uint32_t)idx.nobjs;
	idx.objs[idx.nobjs++] = (struct indexed_obj){ info->dlpi_addr, d.relro_start, d.relro_end };
	return each_data_slot(&d, index_one, &obj) < 0;
}

static int ref_cmp(const void *a, const void *b)
{
	uintptr_t x = ((const struct slot_ref *)a)->value, y = ((const struct slot_ref *)b)->value;

	return x < y ? -1 : x > y;
}

void dpdkmp_loader_prepare(void)
{
	if (dl_iterate_phdr(index_phdr, NULL) != 0) {
		free(idx.v);
		free(idx.objs);
		memset(&idx, 0, sizeof(idx));
		return;                 /* out of memory: children walk every object */
	}
	qsort(idx.v, idx.n, sizeof(idx.v[0]), ref_cmp);
	/* slot_ref.obj indexes objs in load order; bases is the sorted copy for lookups */
	idx.bases = malloc((idx.nobjs ? idx.nobjs : 1) * sizeof(*idx.bases));
	if (!idx.bases)
		return;
	for (size_t i = 0; i < idx.nobjs; i++)
		idx.bases[i] = idx.objs[i].base;
	qsort(idx.bases, idx.nobjs, sizeof(*idx.bases), addr_cmp);
	idx.ready = 1;
	DPDKMP_DEBUG("indexed %zu data-pointer slots in %zu objects", idx.n, idx.nobjs);
}

static int indexed(uintptr_t base)
{
	for (size_t lo = 0, hi = idx.nobjs; idx.ready && lo < hi;) {
		size_t mid = (lo + hi) / 2;

		if (idx.bases[mid] == base)
			return 1;
		if (idx.bases[mid] < base)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static void patch_indexed(const struct copy_reloc *c)
{
	size_t lo = 0, hi = idx.n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (idx.v[mid].value < c->canon)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < idx.n && idx.v[i].value == c->canon; i++) {
		const struct slot_ref *e = &idx.v[i];
		const struct indexed_obj *o = &idx.objs[e->obj];

		if (*e->slot - e->addend != c->canon || strcmp(e->name, c->name) != 0)
			continue;
		patch_slot(o->relro_start, o->relro_end, e->slot, c->dst + e->addend);
	}
}

/* 1 when the object at this address was patched by an earlier pass (no object is unloaded
 * between the passes: EAL never closes a plugin). */
static int seen_before(uintptr_t addr)
{
	if (ld.sorted)
		return bsearch(&addr, ld.seen, ld.nseen, sizeof(addr), addr_cmp) != NULL;
	if (ld.nseen < MAX_OBJECTS)
		ld.seen[ld.nseen++] = addr;
	return 0;
}

static int patch_phdr(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct dyn d;

	if (info->dlpi_addr == ld.lm->l_addr && info->dlpi_name &&
	    strcmp(info->dlpi_name, ld.lm->l_name) == 0)
		return 0;       /* the executable itself keeps its own copies */
	if (seen_before(info->dlpi_addr) || indexed(info->dlpi_addr))
		return 0;       /* patched by a pass before, or through the zygote's index */
	if (object_dyn(info, &d) == 0)
		patch_object(&d);
	return 0;
}

static int collect_copies(void)
{
	struct dyn d;

	if (read_dyn(ld.lm->l_addr, ld.lm->l_ld, &d) < 0)
		return -ENOEXEC;
	for (size_t i = 0; d.rela && i < d.relasz / sizeof(ElfW(Rela)); i++) {
		const ElfW(Rela) *r = &d.rela[i];
		const ElfW(Sym) *s;
		const char *name;
		void *canon;

		if (ELF64_R_TYPE(r->r_info) != R_X86_64_COPY)
			continue;
		s = &d.sym[ELF64_R_SYM(r->r_info)];
		name = d.str + s->st_name;
		/* Only the global scope was bound to: a symbol defined by a library that only
		 * this executable needs is already bound to the executable's copy. */
		canon = dlsym(RTLD_DEFAULT, name);
		if (!canon)
			continue;
		if (ld.ncopies >= MAX_COPIES)
			return -E2BIG;
		ld.copies[ld.ncopies].name = name;
		ld.copies[ld.ncopies].canon = (uintptr_t)canon;
		ld.copies[ld.ncopies].dst = ld.lm->l_addr + r->r_offset;
		memcpy((void *)ld.copies[ld.ncopies].dst, canon, s->st_size);
		ld.ncopies++;
	}
	return 0;
}

static int copy_to_memfd(int exe_fd, const struct dpdkmp_elf_info *info, const char *name)
{
	struct stat st;
	char mname[64];
	void *src;
	int mfd;
	size_t done = 0;

	if (fstat(exe_fd, &st) < 0)
		return -errno;
	snprintf(mname, sizeof(mname), "dpdkmp:%s", name);
	mfd = memfd_create(mname, MFD_CLOEXEC);
	if (mfd < 0)
		return -errno;
	src = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, exe_fd, 0);
	if (src == MAP_FAILED) {
		int e = -errno;

		close(mfd);
		return e;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = write(mfd, (char *)src + done, (size_t)st.st_size - done);

		if (n <= 0) {
			munmap(src, (size_t)st.st_size);
			close(mfd);
			return n < 0 ? -errno : -EIO;
		}
		done += (size_t)n;
	}
	munmap(src, (size_t)st.st_size);
	if (info->pie && info->flags1_off) {
		ElfW(Xword) flags;

		if (pread(mfd, &flags, sizeof(flags), (off_t)info->flags1_off) != sizeof(flags)) {
			close(mfd);
			return -EIO;
		}
		flags &= ~(ElfW(Xword))DF_1_PIE;
		if (pwrite(mfd, &flags, sizeof(flags), (off_t)info->flags1_off) != sizeof(flags)) {
			close(mfd);
			return -EIO;
		}
	}
	return mfd;
}

/* A memfd copy has /proc/self/fd as its $ORIGIN: load the libraries the executable finds
 * through $ORIGIN first, from where they really are; ld.so then finds them by soname. */
static void load_origin_deps(int exe_fd, const char *name)
{
	static char paths[16][4096];
	char fdpath[64], real[4096], *slash;
	ssize_t l;
	int n;

	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", exe_fd);
	l = readlink(fdpath, real, sizeof(real) - 1);
	if (l <= 0)
		return;
	real[l] = '\0';
	slash = strrchr(real, '/');
	if (!slash)
		return;
	*slash = '\0';
	n = dpdkmp_elf_origin_deps(exe_fd, real, paths, 16);
	for (int i = 0; i < n; i++)
		if (!dlopen(paths[i], RTLD_NOW | RTLD_LOCAL))
			DPDKMP_WARN("%s: cannot preload %s: %s", name, paths[i], dlerror());
}

/* ---- a waiting pool child --------------------------------------------------------- */

static int warm_phdr(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct dyn d;

	(void)size;
	if (object_dyn(info, &d) == 0 && d.soname)
		*(volatile unsigned char *)arg += *(const volatile unsigned char *)d.soname;
	return 0;
}

/* Every dlopen compares the name it is asked for with the DT_SONAME of each loaded object
 * that does not match it otherwise (glibc's _dl_map_object), and fork copies no page tables
 * of file mappings: a child's first dlopen (its executable's) faulted in the page that holds
 * each of the ~370 objects' soname, 0.5 ms of an attach at 256 MiB (docs/FAST-ATTACH.md).
 * A waiting pool child reads them before any request. Only reads: nothing else changes. */
void dpdkmp_loader_warm(void)
{
	unsigned char sink = 0;

	if (getenv("DPDKMP_TEST_NO_WARM"))
		return;         /* test hook: fork's state, to compare with */
	dl_iterate_phdr(warm_phdr, &sink);
}

int dpdkmp_loader_load(int exe_fd, const struct dpdkmp_elf_info *info, const char *name,
		       dpdkmp_main_fn *out, char *err, size_t errlen)
{
	char path[64];
	void *h;
	int mfd, ret;

	load_origin_deps(exe_fd, name);
	mfd = copy_to_memfd(exe_fd, info, name);
	if (mfd < 0) {
		snprintf(err, errlen, "cannot copy %s into memory: %s", name, strerror(-mfd));
		return mfd;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	close(mfd);
	if (!h) {
		snprintf(err, errlen, "cannot load %s: %s", name, dlerror());
		return -ENOEXEC;
	}
	if (dlinfo(h, RTLD_DI_LINKMAP, &ld.lm) < 0) {
		snprintf(err, errlen, "cannot inspect %s after loading it: %s", name, dlerror());
		return -ENOEXEC;
	}
	if ((ret = dpdkmp_capture_main((void *)(ld.lm->l_addr + info->entry), out)) < 0) {
		snprintf(err, errlen, "cannot find main in %s: its entry point did not call "
			 "__libc_start_main (not a glibc C program?)", name);
		return ret;
	}
	if ((ret = collect_copies()) < 0) {
		snprintf(err, errlen, "cannot fix %s's copy relocations: %s", name, strerror(-ret));
		return ret;
	}
	ld.patched = 0;
	if (dpdkmp_shortcuts_disabled())
		idx.ready = 0;          /* walk every object, as without the index */
	for (unsigned int i = 0; idx.ready && i < ld.ncopies; i++)
		patch_indexed(&ld.copies[i]);
	if (ld.ncopies)
		dl_iterate_phdr(patch_phdr, NULL);
	qsort(ld.seen, ld.nseen, sizeof(ld.seen[0]), addr_cmp);
	ld.sorted = ld.nseen < MAX_OBJECTS;     /* else every object is looked at again */
	DPDKMP_DEBUG("loaded %s at 0x%lx: %u copy relocations, %u GOT slots redirected", name,
		     (unsigned long)ld.lm->l_addr, ld.ncopies, ld.patched);
	return 0;
}

void dpdkmp_loader_post_init(void)
{
	/* Objects loaded during the real init were bound to the libraries' definitions. */
	if (!ld.lm || !ld.ncopies)
		return;
	ld.patched = 0;
	dl_iterate_phdr(patch_phdr, NULL);
	DPDKMP_DEBUG("post-init: %u more GOT slots redirected", ld.patched);
}
