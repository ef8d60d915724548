/* policy: who may use a fork server and with which privileges its children run. Read in the
 * primary (config file, then the DPDKMP_OPTIONS set by `dpdkmp primary`), enforced by the
 * zygote (socket, capabilities, seccomp) and the broker (peer credentials, limits). */
#ifndef DPDKMP_POLICY_H
#define DPDKMP_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define DPDKMP_POLICY_MAX_IDS 32

struct dpdkmp_policy {
	uid_t allow_uids[DPDKMP_POLICY_MAX_IDS];
	unsigned int n_uids;
	gid_t allow_gids[DPDKMP_POLICY_MAX_IDS];
	unsigned int n_gids;
	unsigned int socket_mode;       /* permission bits of the socket */
	gid_t socket_group;             /* (gid_t)-1: the primary's */
	unsigned int max_per_uid;       /* 0: no limit */
	uint64_t keep_caps;             /* bit n: keep capability n, beyond the defaults */
	int sandbox;                    /* 0: --no-sandbox */
	uid_t owner;                    /* the primary's euid: always allowed */
};

/* Defaults: socket 0600, sandbox on, no other user than the primary's (always allowed). */
void dpdkmp_policy_init(struct dpdkmp_policy *p);

/* Applies "key = value" lines (separated by newlines or ';', '#' comments). where names the
 * source in messages ("/etc/dpdkmp.conf", "command line"). 0, or -EINVAL with a message in
 * err naming the line, the key and the fix. */
int dpdkmp_policy_parse(struct dpdkmp_policy *p, const char *text, const char *where,
			char *err, size_t errlen);

/* Reads DPDKMP_CONFIG (a file) and then DPDKMP_OPTIONS (overrides) from the environment. */
int dpdkmp_policy_load_env(struct dpdkmp_policy *p, char *err, size_t errlen);

/* Is a peer with these credentials allowed? Root and the owner always are. Makes no
 * system call (it runs in the broker). */
int dpdkmp_policy_allows(const struct dpdkmp_policy *p, uid_t uid, gid_t gid);

/* A user or group given by number or by name. 0 or -EINVAL. */
int dpdkmp_parse_uid(const char *v, uid_t *out);
int dpdkmp_parse_gid(const char *v, gid_t *out);

/* "allow-uid=0,1000;socket-mode=0600;..." for logs and tests. */
void dpdkmp_policy_describe(const struct dpdkmp_policy *p, char *out, size_t len);

#endif
