/* clock: monotonic milliseconds for the daemons' deadlines (idle timeouts, kill grace). */
#ifndef DPDKMP_CLOCK_H
#define DPDKMP_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t dpdkmp_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

#endif
