/* violator_lib: a library whose constructor changes the mappings of the process that loads
 * it, as a badly behaved dependency of a secondary could: it runs while a dpdkmp child is
 * still loading, which is what the guard watches. VIOLATOR_ACTION picks what it does:
 *   map-fixed  mmap MAP_FIXED at VIOLATOR_ADDR (inside a window: a violation)
 *   munmap     munmap one page at VIOLATOR_ADDR (part of a window: a violation)
 *   mremap     mremap a fresh page to VIOLATOR_ADDR (into a window: a violation)
 *   outside    mmap a page with no address hint (not a violation)
 *   fork-map-fixed  fork a helper process that does map-fixed (the helper is the violator;
 *              this process waits for it and goes on) */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((constructor)) static void violate(void)
{
	const char *act = getenv("VIOLATOR_ACTION"), *a = getenv("VIOLATOR_ADDR");
	void *addr = a ? (void *)strtoull(a, NULL, 0) : NULL, *p;

	if (!act)
		return;
	if (!strcmp(act, "fork-map-fixed")) {
		int st = 0;
		pid_t pid = fork();

		if (pid == 0) {
			p = mmap(addr, 4096, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
			_exit(p == MAP_FAILED ? 1 : 0);
		}
		waitpid(pid, &st, 0);
		fprintf(stderr, "VIOLATOR helper %d: %s %d\n", (int)pid,
			WIFSIGNALED(st) ? "killed by signal" : "exited with",
			WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		return;
	}
	if (!strcmp(act, "map-fixed")) {
		p = mmap(addr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	} else if (!strcmp(act, "munmap")) {
		p = munmap(addr, 4096) == 0 ? addr : MAP_FAILED;
	} else if (!strcmp(act, "mremap")) {
		p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p != MAP_FAILED)
			p = mremap(p, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED, addr);
	} else {
		p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	}
	fprintf(stderr, "VIOLATOR %s at %p: %s\n", act, addr, p == MAP_FAILED ? "failed" : "done");
}

int violator_linked(void);
int violator_linked(void)
{
	return 1;
}
