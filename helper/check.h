/* check: `dpdkmp check`, the proof for CI that secondaries map what their primary maps, where
 * the primary maps it (hugepage windows, runtime files, executable, DPDK libraries, plugins). */
#ifndef DPDKMP_CHECK_H
#define DPDKMP_CHECK_H

/* argv[0] is "check". Returns the exit status: 0 all equal, 1 a difference, 2 usage error or
 * nothing to compare against (no fork server, no such process, probe did not attach). */
int check_main(int argc, char **argv);

#endif
