/* violator: a DPDK secondary linked with libviolator_lib, whose constructor misbehaves while
 * the secondary is being loaded into a dpdkmp child (see violator_lib.c). If it gets as far
 * as its main, it attaches and says so. */
#include <stdio.h>

#include <rte_eal.h>

int violator_linked(void);

int main(int argc, char **argv)
{
	if (!violator_linked() || rte_eal_init(argc, argv) < 0)
		return 2;
	printf("VIOLATOR MAIN RAN\n");
	fflush(stdout);
	rte_eal_cleanup();
	return 0;
}
