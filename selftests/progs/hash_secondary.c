/* hash_secondary: a secondary that is a different binary from hash_primary, looking up keys in
 * the primary's table. rte_hash calls the primary's hash function through the pointer stored in
 * shared memory, so this only works when the primary's executable is mapped here at its address.
 *
 * env: HASH_SECONDARY_WAIT=1      after the lookups, print "SECONDARY WAITING pid=N" and block
 *                                 until "quit" or EOF on stdin (tests read its live mappings);
 *      HASH_SECONDARY_NO_LOOKUP=1 skip the lookups (a classic secondary would crash in them).
 * exit: 0 all keys found, 2 no EAL, 3 no table, 4 wrong lookups. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_hash.h>

#include "hash_table.h"

int main(int argc, char **argv)
{
	const char *no_lookup = getenv("HASH_SECONDARY_NO_LOOKUP");
	struct rte_hash *h;
	int ret = 0;

	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "hash_secondary: rte_eal_init: %s\n", rte_strerror(rte_errno));
		return 2;
	}
	if (!no_lookup || !*no_lookup || strcmp(no_lookup, "0") == 0) {
		h = rte_hash_find_existing(HASH_NAME);
		if (!h) {
			fprintf(stderr, "hash_secondary: no hash table '%s' (is hash_primary running?)\n",
				HASH_NAME);
			rte_eal_cleanup();
			return 3;
		}
		ret = hash_table_check(h) == 0 ? 0 : 4;
	}
	hash_table_wait_if_asked();
	rte_eal_cleanup();
	return ret;
}
