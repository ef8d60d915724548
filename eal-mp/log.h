/* log: every message says which dpdkmp role speaks and its pid, e.g.
 * "dpdkmp[zygote 1234]: error: ...". Messages go to stderr with a single write(2). */
#ifndef DPDKMP_LOG_H
#define DPDKMP_LOG_H

enum dpdkmp_role {
	DPDKMP_ROLE_CLI = 0,
	DPDKMP_ROLE_PRIMARY,
	DPDKMP_ROLE_ZYGOTE,
	DPDKMP_ROLE_CHILD,
	DPDKMP_ROLE_LAUNCHER,
	DPDKMP_ROLE_BROKER,
};

#define DPDKMP_LOG_ERR   0
#define DPDKMP_LOG_WARN  1
#define DPDKMP_LOG_INFO  2
#define DPDKMP_LOG_DEBUG 3

void dpdkmp_log_set_role(enum dpdkmp_role role);
enum dpdkmp_role dpdkmp_log_role(void);
/* Level from DPDKMP_LOG (error, warning, info, debug); default warning. */
int dpdkmp_log_level(void);
void dpdkmp_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define DPDKMP_ERR(...)   dpdkmp_log(DPDKMP_LOG_ERR, __VA_ARGS__)
#define DPDKMP_WARN(...)  dpdkmp_log(DPDKMP_LOG_WARN, __VA_ARGS__)
#define DPDKMP_INFO(...)  dpdkmp_log(DPDKMP_LOG_INFO, __VA_ARGS__)
#define DPDKMP_DEBUG(...) dpdkmp_log(DPDKMP_LOG_DEBUG, __VA_ARGS__)

#endif
