/* hash_table: what hash_primary puts in its table and what a secondary expects to find there,
 * shared so that the writer and the readers cannot drift apart. */
#ifndef DPDKMP_PROGS_HASH_TABLE_H
#define DPDKMP_PROGS_HASH_TABLE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_hash.h>

#define HASH_NAME "dpdkmp_fnptr"
#define HASH_KEYS 1000u

static inline uintptr_t hash_table_value(uint32_t key)
{
	return (uintptr_t)key * 7 + 1;
}

/* Looks every key up and prints "SECONDARY hit=H/1000 correct=C". The line before it is flushed
 * first: if the lookup crashes (a classic secondary), the output so far must not die in a buffer.
 * Returns 0 when every key was found with its value. */
static inline int hash_table_check(const struct rte_hash *h)
{
	unsigned int hit = 0, correct = 0;

	printf("SECONDARY lookup pid=%d\n", (int)getpid());
	fflush(stdout);
	for (uint32_t k = 0; k < HASH_KEYS; k++) {
		void *d = NULL;

		if (rte_hash_lookup_data(h, &k, &d) < 0)
			continue;
		hit++;
		if ((uintptr_t)d == hash_table_value(k))
			correct++;
	}
	printf("SECONDARY hit=%u/%u correct=%u\n", hit, HASH_KEYS, correct);
	fflush(stdout);
	return hit == HASH_KEYS && correct == HASH_KEYS ? 0 : -1;
}

/* Secondaries stay alive for tests that read their mappings when HASH_SECONDARY_WAIT is set,
 * until a line "quit" or EOF on stdin. */
static inline void hash_table_wait_if_asked(void)
{
	const char *v = getenv("HASH_SECONDARY_WAIT");
	char line[64];

	if (!v || !*v || strcmp(v, "0") == 0)
		return;
	printf("SECONDARY WAITING pid=%d\n", (int)getpid());
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin))
		if (strcmp(line, "quit\n") == 0 || strcmp(line, "quit") == 0)
			break;
}

#endif
