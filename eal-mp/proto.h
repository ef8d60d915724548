/* dpdkmp wire protocol v1: the only definition of the bytes exchanged between a launcher
 * (`dpdkmp run`, transparent secondaries, `dpdkmp status`), the zygote and the primary.
 * Explicit-width fields only; every message is one SOCK_SEQPACKET record. See docs/PROTOCOL.md. */
#ifndef DPDKMP_PROTO_H
#define DPDKMP_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define DPDKMP_MAGIC         0x504d5044u /* "DPMP" in little-endian memory order */
#define DPDKMP_PROTO_VERSION 1
#define DPDKMP_SOCK_NAME     "dpdkmp.sock"

/* Bounds checked on send and on receive. */
#define DPDKMP_MAX_PAYLOAD   (60u * 1024u)
#define DPDKMP_MAX_FDS       4u
#define DPDKMP_MAX_ARGS      1024u
#define DPDKMP_MAX_ENV       2048u
#define DPDKMP_MAX_STRING    4096u    /* one argument, variable or the cwd, NUL included */
#define DPDKMP_MAX_WINDOWS   128u
#define DPDKMP_MAX_ERRMSG    1024u
#define DPDKMP_MAX_CHILDREN  256u

/* Message types (uint16_t on the wire). */
#define DPDKMP_MSG_HELLO      1  /* client -> zygote: dpdkmp_hello */
#define DPDKMP_MSG_HELLO_ACK  2  /* zygote -> client: dpdkmp_hello_ack */
#define DPDKMP_MSG_SPAWN      3  /* client -> zygote: dpdkmp_spawn + strings, fds exe,in,out,err */
#define DPDKMP_MSG_SPAWNED    4  /* zygote -> client: dpdkmp_spawned */
#define DPDKMP_MSG_EXITED     5  /* zygote -> client: dpdkmp_exited */
#define DPDKMP_MSG_ERROR      6  /* zygote -> client: dpdkmp_error + message */
#define DPDKMP_MSG_SIGNAL     7  /* client -> zygote: dpdkmp_signal */
#define DPDKMP_MSG_STATUS_REQ 8  /* client -> zygote: empty */
#define DPDKMP_MSG_STATUS     9  /* zygote -> client: dpdkmp_status + windows + children */
#define DPDKMP_MSG_WINDOWS    10 /* primary -> zygote (private socketpair): dpdkmp_windows + windows */
/* Internal, broker <-> zygote (private socketpair). Every payload starts with a dpdkmp_relay
 * naming the client connection by a broker-assigned id; the zygote never sees client bytes. */
#define DPDKMP_MSG_RELAY_SPAWN  11 /* broker -> zygote: relay + relay_spawn + canonical SPAWN; 4 fds */
#define DPDKMP_MSG_RELAY_SIGNAL 12 /* broker -> zygote: relay + dpdkmp_signal */
#define DPDKMP_MSG_RELAY_HANGUP 13 /* broker -> zygote: relay; the launcher went away */
#define DPDKMP_MSG_RELAY_STATUS 14 /* broker -> zygote: relay */
#define DPDKMP_MSG_RELAY_REPLY  15 /* zygote -> broker: relay (type: client message) + its payload */
/* primary -> zygote (the private socketpair, kept after HELLO_ACK): dpdkmp_segments + segs;
 * ADD carries 1 to DPDKMP_MAX_FDS fds (the segments' files), DEL none. */
#define DPDKMP_MSG_SEGMENTS     16
#define DPDKMP_MSG_MAX          16

struct dpdkmp_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t type;
	uint32_t len;   /* payload bytes after this header */
	uint32_t nfds;  /* SCM_RIGHTS fds carried by this record */
};
_Static_assert(sizeof(struct dpdkmp_hdr) == 16, "wire header size");

struct dpdkmp_hello {
	uint32_t client_pid;
	uint32_t flags;         /* must be 0 in v1 */
};
_Static_assert(sizeof(struct dpdkmp_hello) == 8, "hello size");

struct dpdkmp_hello_ack {
	uint32_t zygote_pid;
	uint32_t primary_pid;
	uint64_t primary_exe_dev; /* st_dev/st_ino of the primary's executable */
	uint64_t primary_exe_ino;
	uint32_t nwindows;
	uint32_t flags;
};
_Static_assert(sizeof(struct dpdkmp_hello_ack) == 32, "hello ack size");

/* Followed by cwd_len bytes of cwd (NUL included), then argc NUL-terminated arguments,
 * then envc NUL-terminated "NAME=value" strings; nothing else. fds: exactly 4, in order
 * executable (regular file, opened by the client), stdin, stdout, stderr. */
struct dpdkmp_spawn {
	uint32_t argc;
	uint32_t envc;
	uint32_t cwd_len;
	uint32_t flags;         /* must be 0 in v1 */
};
_Static_assert(sizeof(struct dpdkmp_spawn) == 16, "spawn size");
#define DPDKMP_SPAWN_FDS 4u

struct dpdkmp_spawned {
	uint32_t pid;
	uint32_t pad;
};
_Static_assert(sizeof(struct dpdkmp_spawned) == 8, "spawned size");

#define DPDKMP_EXIT_CODE   1 /* value is the exit code */
#define DPDKMP_EXIT_SIGNAL 2 /* value is the signal number */
#define DPDKMP_REASON_NORMAL       0
#define DPDKMP_REASON_PRIMARY_GONE 1 /* terminated because the primary exited */
#define DPDKMP_REASON_SHUTDOWN     2 /* terminated because the zygote was told to stop */
#define DPDKMP_REASON_KILLED_LOADING 3 /* SIGKILL before its EAL init (e.g. by the guard) */
struct dpdkmp_exited {
	uint32_t how;
	uint32_t value;
	uint32_t reason;
	uint32_t pad;
};
_Static_assert(sizeof(struct dpdkmp_exited) == 16, "exited size");

/* Followed by msg_len bytes of text (no NUL), msg_len <= DPDKMP_MAX_ERRMSG. */
struct dpdkmp_error {
	int32_t err;            /* positive errno */
	uint32_t msg_len;
};
_Static_assert(sizeof(struct dpdkmp_error) == 8, "error size");

struct dpdkmp_signal {
	uint32_t signo;
	uint32_t pad;
};
_Static_assert(sizeof(struct dpdkmp_signal) == 8, "signal size");

#define DPDKMP_WIN_MEMSEG  1 /* a memseg list VA reservation */
#define DPDKMP_WIN_RUNFILE 2 /* a mapping of a file under the runtime directory */
struct dpdkmp_window {
	uint64_t addr;
	uint64_t len;
	uint32_t kind;
	uint32_t pad;
	char name[64];          /* NUL-padded file name (RUNFILE) or memseg list name */
};
_Static_assert(sizeof(struct dpdkmp_window) == 88, "window size");

/* The primary's hugepage segments, for the zygote to map at the same addresses (docs/
 * FAST-ATTACH.md): ADD after the primary's init and on each memory allocation event, DEL on
 * each free event. */
#define DPDKMP_SEGS_ADD 1u
#define DPDKMP_SEGS_DEL 2u
#define DPDKMP_MAX_SEGS 1024u
struct dpdkmp_segments {
	uint32_t op;            /* DPDKMP_SEGS_* */
	uint32_t nsegs;
};
_Static_assert(sizeof(struct dpdkmp_segments) == 8, "segments size");

struct dpdkmp_seg {
	uint64_t addr;          /* page aligned, inside a memseg window */
	uint64_t len;           /* one hugepage (ADD); any page multiple (DEL) */
	uint64_t offset;        /* in the file (ADD) */
	uint64_t iova;          /* the primary's memseg IOVA (ADD) */
	uint32_t fd;            /* index of the message's fd holding the page (ADD) */
	uint32_t pad;
};
_Static_assert(sizeof(struct dpdkmp_seg) == 40, "seg size");

#define DPDKMP_PRIMARY_IOVA_PA 1u /* the primary uses IOVA as physical addresses */
/* Followed by nwindows dpdkmp_window. */
struct dpdkmp_windows {
	uint32_t nwindows;
	uint32_t primary_pid;
	uint32_t flags;         /* DPDKMP_PRIMARY_* */
	uint32_t pad;
	char runtime_dir[256];  /* NUL-terminated */
};
_Static_assert(sizeof(struct dpdkmp_windows) == 272, "windows size");

struct dpdkmp_child_info {
	uint32_t pid;
	uint32_t launcher_pid;
	uint32_t launcher_uid;
	uint32_t pad;
	uint64_t start_ns;      /* CLOCK_REALTIME of the spawn */
	char program[128];      /* argv[0], NUL-padded, truncated */
};
_Static_assert(sizeof(struct dpdkmp_child_info) == 152, "child info size");

#define DPDKMP_STATUS_SANDBOX 1u  /* capabilities reduced and seccomp filters loaded */
/* Followed by nwindows dpdkmp_window, then nchildren dpdkmp_child_info. */
struct dpdkmp_status {
	uint32_t zygote_pid;
	uint32_t primary_pid;
	uint32_t nwindows;
	uint32_t nchildren;
	uint32_t broker_pid;
	uint32_t flags;         /* DPDKMP_STATUS_* and DPDKMP_PRIMARY_* << 8 */
	uint64_t caps;          /* capabilities kept by the zygote and its children */
	uint64_t mirror_bytes;  /* the primary's hugepage segments the zygote maps (FAST-ATTACH.md) */
	uint32_t mirror_segs;
	uint32_t pool_waiting;  /* pre-forked children waiting for a request */
	char runtime_dir[256];
	char primary_exe[256];
};
_Static_assert(sizeof(struct dpdkmp_status) == 560, "status size");

struct dpdkmp_relay {
	uint32_t conn;          /* broker-assigned connection id */
	uint16_t type;          /* RELAY_REPLY: the client message type to forward */
	uint16_t pad;
};
_Static_assert(sizeof(struct dpdkmp_relay) == 8, "relay size");

/* What the broker established about a SPAWN request. */
struct dpdkmp_relay_spawn {
	uint32_t uid;           /* SO_PEERCRED of the launcher */
	uint32_t gid;
	uint32_t pid;
	uint32_t same_binary;   /* the executable is the primary's */
	uint64_t entry;         /* e_entry */
	uint64_t flags1_off;    /* file offset of DT_FLAGS_1's value, 0 if none */
	uint32_t pie;           /* DF_1_PIE set */
	uint32_t pad;
};
_Static_assert(sizeof(struct dpdkmp_relay_spawn) == 40, "relay spawn size");

/* A received record. fds[i] >= 0 are owned by the record until taken. */
struct dpdkmp_msg {
	struct dpdkmp_hdr hdr;
	uint32_t nfds;
	int fds[DPDKMP_MAX_FDS];
	uint8_t payload[DPDKMP_MAX_PAYLOAD] __attribute__((aligned(8)));
};

/* Decoded SPAWN request; all pointers point into buf. */
struct dpdkmp_spawn_req {
	int owned;              /* buf, argv and envp were malloc'd by dpdkmp_spawn_decode */
	char *buf;
	const char *cwd;
	char **argv;            /* NULL-terminated */
	char **envp;            /* NULL-terminated */
	uint32_t argc;
	uint32_t envc;
};

/* Checks a header against the protocol: magic, version, known type, length bounds, the exact
 * payload size of fixed-size types and the fd count of each type. 0 or -errno. */
int dpdkmp_hdr_check(const struct dpdkmp_hdr *h, uint32_t nfds_received);

/* Encodes a SPAWN payload into buf. 0, -E2BIG (over the limits) or -EINVAL (relative cwd,
 * environment string without '='). */
int dpdkmp_spawn_encode(void *buf, size_t cap, size_t *len, const char *cwd,
			char *const argv[], char *const envp[]);
/* Decodes a SPAWN payload of exactly len bytes. 0 or -EBADMSG / -E2BIG / -ENOMEM. */
int dpdkmp_spawn_decode(const void *payload, size_t len, struct dpdkmp_spawn_req *out);
/* The same into caller storage (no allocation: the broker runs without mmap and brk). */
#define DPDKMP_SPAWN_STORAGE (DPDKMP_MAX_PAYLOAD + (DPDKMP_MAX_ARGS + DPDKMP_MAX_ENV + 2) * sizeof(char *))
int dpdkmp_spawn_decode_in(const void *payload, size_t len, struct dpdkmp_spawn_req *out,
			   void *storage, size_t storage_len);
void dpdkmp_spawn_req_free(struct dpdkmp_spawn_req *r);

/* Decodes a WINDOWS or STATUS payload's variable part: validates counts against len. */
int dpdkmp_windows_decode(const void *payload, size_t len, const struct dpdkmp_windows **hdr,
			  const struct dpdkmp_window **win);
int dpdkmp_status_decode(const void *payload, size_t len, const struct dpdkmp_status **hdr,
			 const struct dpdkmp_window **win, const struct dpdkmp_child_info **kids);

/* Decodes an ERROR payload: msg_len must match the record. msg is not NUL-terminated. */
int dpdkmp_error_decode(const void *payload, size_t len, int *err, const char **msg,
			uint32_t *msg_len);

/* Decodes a RELAY_SPAWN payload: the relay header, what the broker established, and the
 * canonical SPAWN payload (decoded into out, allocated). 0 or -EBADMSG / -E2BIG / -ENOMEM. */
int dpdkmp_relay_spawn_decode(const void *payload, size_t len, uint32_t *conn,
			      struct dpdkmp_relay_spawn *rs, struct dpdkmp_spawn_req *out);

/* Decodes a SEGMENTS payload: op, counts against len, each seg page-aligned, not wrapping,
 * an ADD's fd index below nfds. 0 or -EBADMSG / -E2BIG. */
int dpdkmp_segments_decode(const void *payload, size_t len, uint32_t nfds,
			   const struct dpdkmp_segments **hdr, const struct dpdkmp_seg **segs);

const char *dpdkmp_msg_name(uint16_t type);

#endif
