/* attach_probe: the smallest secondary, for scripts/bench. It reports the time from its launch
 * (DPDKMP_BENCH_T0, CLOCK_REALTIME ns taken by the script just before exec) until its
 * rte_eal_init returned, so launcher, fork server and real init are all inside the number. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <rte_eal.h>
#include <rte_errno.h>

static int read_t0(uint64_t *t0)
{
	const char *s = getenv("DPDKMP_BENCH_T0");
	char *end;

	if (!s || !*s)
		return -ENOENT;
	errno = 0;
	*t0 = strtoull(s, &end, 10);
	if (errno || *end || *t0 == 0)
		return -EINVAL;
	return 0;
}

int main(int argc, char **argv)
{
	struct timespec now;
	uint64_t t0 = 0;
	int have_t0 = read_t0(&t0) == 0;

	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "attach_probe: rte_eal_init: %s\n", rte_strerror(rte_errno));
		return 2;
	}
	/* Realtime, not monotonic: t0 was taken by another process (date +%s%N). */
	clock_gettime(CLOCK_REALTIME, &now);
	if (have_t0) {
		int64_t d = (int64_t)((uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec - t0);

		printf("ATTACH_MS=%.3f\n", (double)d / 1e6);
	} else {
		printf("ATTACH ok (set DPDKMP_BENCH_T0 to time it)\n");
	}
	fflush(stdout);
	rte_eal_cleanup();
	return 0;
}
