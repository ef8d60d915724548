/* hash_primary: a DPDK primary owning an rte_hash whose hash function lives in this executable.
 * A secondary can use the table only if this executable is mapped at the same address in it,
 * which a classic secondary of another binary never has and a dpdkmp secondary always has.
 *
 * usage: hash_primary EAL_ARGS [-- --mem-grow MIB]
 * stdin: "grow" allocates MIB MiB with rte_malloc (needs --mem-grow); "shrink" frees the last
 * of those allocations (EAL gives the pages back); "quit" or EOF ends.
 * Started as a secondary (--proc-type=secondary), it acts as hash_secondary does, including
 * HASH_SECONDARY_WAIT: that is the same-binary case, where dpdkmp calls main directly. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "hash_table.h"

#define GROW_MAX_MIB 1024u

/* FNV-1a, deliberately not rte_jhash or rte_hash_crc: those live in DPDK's libraries, which a
 * classic secondary may map at the same address by luck; this one exists only in this binary. */
static uint32_t fnv1a_hash(const void *key, uint32_t len, uint32_t init)
{
	const uint8_t *p = key;
	uint32_t h = 2166136261u ^ init;

	for (uint32_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}

static int parse_app_args(int argc, char **argv, unsigned int *grow_mib)
{
	for (int i = 0; i < argc; i++) {
		char *end;
		unsigned long v;

		if (strcmp(argv[i], "--mem-grow") != 0 || i + 1 >= argc) {
			fprintf(stderr, "hash_primary: unknown argument '%s' (usage: -- --mem-grow MIB)\n",
				argv[i]);
			return -EINVAL;
		}
		errno = 0;
		v = strtoul(argv[++i], &end, 10);
		if (errno || *end || v == 0 || v > GROW_MAX_MIB) {
			fprintf(stderr, "hash_primary: --mem-grow wants 1..%u MiB\n", GROW_MAX_MIB);
			return -EINVAL;
		}
		*grow_mib = (unsigned int)v;
	}
	return 0;
}

static struct rte_hash *create_table(void)
{
	struct rte_hash_parameters p = {
		.name = HASH_NAME,
		.entries = 4096,
		.key_len = sizeof(uint32_t),
		.hash_func = fnv1a_hash,
		.hash_func_init_val = 0,
		.socket_id = (int)rte_socket_id(),
	};
	struct rte_hash *h = rte_hash_create(&p);

	if (!h) {
		fprintf(stderr, "hash_primary: rte_hash_create: %s\n", rte_strerror(rte_errno));
		return NULL;
	}
	for (uint32_t k = 0; k < HASH_KEYS; k++) {
		int ret = rte_hash_add_key_data(h, &k, (void *)hash_table_value(k));

		if (ret < 0) {
			fprintf(stderr, "hash_primary: add key %u: %s\n", k, strerror(-ret));
			rte_hash_free(h);
			return NULL;
		}
	}
	return h;
}

/* Allocations are kept until "shrink" or exit: the point is to make the primary map new
 * hugepages that running secondaries must then map at the same addresses, and free them. */
#define GROW_KEEP 64
static void *grown[GROW_KEEP];
static unsigned int ngrown;

static void shrink(void)
{
	if (!ngrown) {
		printf("SHRINK nothing grown\n");
		return;
	}
	rte_free(grown[--ngrown]);
	printf("SHRINK ok addr=%p\n", grown[ngrown]);
}

static void grow(unsigned int mib)
{
	size_t len = (size_t)mib << 20;
	void *p;

	if (mib == 0) {
		printf("GROW refused: start with -- --mem-grow MIB\n");
		return;
	}
	p = rte_malloc("dpdkmp_grow", len, 0);
	if (!p) {
		printf("GROW failed: %s\n", rte_strerror(rte_errno));
		return;
	}
	memset(p, 0x5a, len);
	if (ngrown < GROW_KEEP)
		grown[ngrown++] = p;
	printf("GROW ok mib=%u addr=%p\n", mib, p);
}

static int run_secondary(void)
{
	struct rte_hash *h = rte_hash_find_existing(HASH_NAME);
	int ret;

	if (!h) {
		fprintf(stderr, "hash_primary: no hash table '%s' (is the primary running?)\n",
			HASH_NAME);
		return 3;
	}
	ret = hash_table_check(h) == 0 ? 0 : 4;
	hash_table_wait_if_asked();
	return ret;
}

int main(int argc, char **argv)
{
	unsigned int grow_mib = 0;
	struct rte_hash *h;
	char line[64];
	int n;

	n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "hash_primary: rte_eal_init: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	if (rte_eal_process_type() == RTE_PROC_SECONDARY) {
		int ret = run_secondary();

		rte_eal_cleanup();
		return ret;
	}
	if (parse_app_args(argc - n - 1, argv + n + 1, &grow_mib) < 0)
		goto fail;
	h = create_table();
	if (!h)
		goto fail;

	printf("PRIMARY READY pid=%d hash_func=%p\n", (int)getpid(), (void *)fnv1a_hash);
	fflush(stdout);

	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		if (strcmp(line, "quit") == 0)
			break;
		if (strcmp(line, "grow") == 0)
			grow(grow_mib);
		else if (strcmp(line, "shrink") == 0)
			shrink();
		fflush(stdout);
	}
	rte_hash_free(h);
	rte_eal_cleanup();
	return 0;
fail:
	rte_eal_cleanup();
	return 1;
}
