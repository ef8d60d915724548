/* gen_corpus: writes the seed corpus of fuzz_request and fuzz_frame (one file per seed, the
 * same seeds in both directories): valid records of every type built with the real encoders,
 * and malformed ones next to each parser's edge. Run by `scripts/fuzz --gen-corpus`; the
 * output is committed, so that a change here shows up as a diff of fuzz/corpus/.
 *
 * Seed layout (both targets): 1 selector byte (fd count in bits 0-2, SO_PASSCRED on the
 * receiver in bit 3 for fuzz_frame), then the record: struct dpdkmp_hdr and the payload. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "proto.h"

#define SEL_CREDS 8u

static const char *outdir;
static unsigned int nseeds;

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* Writes one seed into OUTDIR/request/NAME and OUTDIR/frame/NAME. The header says len and
 * nfds unless hdr is given. */
static void seed(const char *name, uint8_t sel, const struct dpdkmp_hdr *hdr, uint16_t type,
		 const void *payload, size_t len)
{
	static const char *const sub[] = { "request", "frame" };
	struct dpdkmp_hdr h = {
		.magic = DPDKMP_MAGIC, .version = DPDKMP_PROTO_VERSION,
		.type = type, .len = (uint32_t)len, .nfds = sel & 7u,
	};
	char path[4096];

	if (hdr)
		h = *hdr;
	for (unsigned int i = 0; i < 2; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s/%s", outdir, sub[i], name);
		f = fopen(path, "wb");
		if (!f)
			die(path);
		if (fwrite(&sel, 1, 1, f) != 1 || fwrite(&h, sizeof(h), 1, f) != 1 ||
		    (len && fwrite(payload, len, 1, f) != 1) || fclose(f) != 0)
			die(path);
	}
	nseeds++;
}

static void mkdirs(void)
{
	static const char *const sub[] = { "", "/request", "/frame" };
	char path[4096];

	for (unsigned int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s%s", outdir, sub[i]);
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			die(path);
	}
}

static size_t spawn(void *buf, size_t cap, const char *cwd, char *const argv[],
		    char *const envp[])
{
	size_t len = 0;
	int ret = dpdkmp_spawn_encode(buf, cap, &len, cwd, argv, envp);

	if (ret < 0) {
		errno = -ret;
		die("dpdkmp_spawn_encode");
	}
	return len;
}

static struct dpdkmp_window window(uint64_t addr, uint64_t len, uint32_t kind, const char *name)
{
	struct dpdkmp_window w = { .addr = addr, .len = len, .kind = kind };

	snprintf(w.name, sizeof(w.name), "%s", name);
	return w;
}

static void seeds_fixed(void)
{
	struct dpdkmp_hello hello = { .client_pid = 4242 };
	struct dpdkmp_hello_ack ack = {
		.zygote_pid = 100, .primary_pid = 99, .primary_exe_dev = 0x803,
		.primary_exe_ino = 1234567, .nwindows = 3,
	};
	struct dpdkmp_spawned spawned = { .pid = 4243 };
	struct dpdkmp_exited exited = { .how = DPDKMP_EXIT_SIGNAL, .value = 9,
					.reason = DPDKMP_REASON_PRIMARY_GONE };
	struct dpdkmp_signal sig = { .signo = 15 };
	struct dpdkmp_hdr bad;

	seed("hello", 0, NULL, DPDKMP_MSG_HELLO, &hello, sizeof(hello));
	seed("hello-ack", 0, NULL, DPDKMP_MSG_HELLO_ACK, &ack, sizeof(ack));
	seed("spawned", 0, NULL, DPDKMP_MSG_SPAWNED, &spawned, sizeof(spawned));
	seed("exited", 0, NULL, DPDKMP_MSG_EXITED, &exited, sizeof(exited));
	seed("signal", 0, NULL, DPDKMP_MSG_SIGNAL, &sig, sizeof(sig));
	seed("status-req", 0, NULL, DPDKMP_MSG_STATUS_REQ, NULL, 0);

	/* Malformed headers. */
	bad = (struct dpdkmp_hdr){ .magic = DPDKMP_MAGIC ^ 1, .version = DPDKMP_PROTO_VERSION,
				   .type = DPDKMP_MSG_HELLO, .len = sizeof(hello) };
	seed("bad-magic", 0, &bad, 0, &hello, sizeof(hello));
	bad.magic = DPDKMP_MAGIC;
	bad.version = 2;
	seed("bad-version", 0, &bad, 0, &hello, sizeof(hello));
	bad.version = DPDKMP_PROTO_VERSION;
	bad.type = DPDKMP_MSG_MAX + 1;
	seed("bad-type", 0, &bad, 0, &hello, sizeof(hello));
	bad.type = DPDKMP_MSG_HELLO;
	bad.len = sizeof(hello) + 4;     /* says more than the record holds */
	seed("hello-len-lies", 0, &bad, 0, &hello, sizeof(hello));
	/* fds the type does not take; 5 = one more than any type; 7 overflows the receiver's
	 * control buffer (MSG_CTRUNC); with credentials in front of them. */
	seed("hello-with-fds", 5, NULL, DPDKMP_MSG_HELLO, &hello, sizeof(hello));
	seed("hello-creds", SEL_CREDS, NULL, DPDKMP_MSG_HELLO, &hello, sizeof(hello));
	seed("signal-7fds-creds", 7 | SEL_CREDS, NULL, DPDKMP_MSG_SIGNAL, &sig, sizeof(sig));
}

static void seeds_spawn(void)
{
	static uint8_t buf[DPDKMP_MAX_PAYLOAD];
	char *argv[] = { "/usr/bin/dpdk-procinfo", "--", "--stats", "", NULL };
	char *envp[] = { "PATH=/usr/sbin:/usr/bin", "HOME=/root", "EMPTY=", NULL };
	char *argv1[] = { "x", NULL };
	struct dpdkmp_spawn s;
	size_t len;

	len = spawn(buf, sizeof(buf), "/tmp", argv, envp);
	seed("spawn", DPDKMP_SPAWN_FDS, NULL, DPDKMP_MSG_SPAWN, buf, len);
	/* Same record, one fd short and one too many. */
	seed("spawn-3fds", 3, NULL, DPDKMP_MSG_SPAWN, buf, len);
	seed("spawn-5fds", 5, NULL, DPDKMP_MSG_SPAWN, buf, len);
	/* Trailing byte: the counts lie. */
	buf[len] = 'z';
	seed("spawn-trailing", DPDKMP_SPAWN_FDS, NULL, DPDKMP_MSG_SPAWN, buf, len + 1);
	/* argc says one more string than there is. */
	memcpy(&s, buf, sizeof(s));
	s.argc++;
	memcpy(buf, &s, sizeof(s));
	seed("spawn-argc-lies", DPDKMP_SPAWN_FDS, NULL, DPDKMP_MSG_SPAWN, buf, len);

	len = spawn(buf, sizeof(buf), "/", argv1, NULL);
	seed("spawn-minimal", DPDKMP_SPAWN_FDS, NULL, DPDKMP_MSG_SPAWN, buf, len);
	/* The last string loses its NUL. */
	seed("spawn-no-nul", DPDKMP_SPAWN_FDS, NULL, DPDKMP_MSG_SPAWN, buf, len - 1);

	/* An environment string without '=' (the encoder refuses to write it). */
	len = spawn(buf, sizeof(buf), "/", argv1, (char *[]){ "A=B", NULL });
	buf[len - 3] = '_';
	seed("spawn-env-no-eq", DPDKMP_SPAWN_FDS, NULL, DPDKMP_MSG_SPAWN, buf, len);
}

static void seeds_windows(void)
{
	static union {
		uint8_t b[sizeof(struct dpdkmp_status) + 4 * sizeof(struct dpdkmp_window) +
			  2 * sizeof(struct dpdkmp_child_info)];
		uint64_t align;
	} u;
	struct dpdkmp_windows wh = { .nwindows = 3, .primary_pid = 99 };
	struct dpdkmp_status sh = { .zygote_pid = 100, .primary_pid = 99, .nwindows = 2,
				    .nchildren = 2 };
	struct dpdkmp_window w[3] = {
		window(0x100000000ull, 0x40000000ull, DPDKMP_WIN_MEMSEG, "memseg-2048k-0-0"),
		window(0x140000000ull, 0x200000ull, DPDKMP_WIN_RUNFILE, "fbarray_memseg-2048k-0-0"),
		window(0x7f0000000000ull, 0x1000ull, DPDKMP_WIN_RUNFILE, "config"),
	};
	struct dpdkmp_child_info kids[2] = {
		{ .pid = 4243, .launcher_pid = 4242, .start_ns = 1700000000000000000ull },
		{ .pid = 4300, .launcher_pid = 4299, .launcher_uid = 1000 },
	};
	uint8_t *p;
	size_t len;

	snprintf(wh.runtime_dir, sizeof(wh.runtime_dir), "/var/run/dpdk/rte");
	snprintf(sh.runtime_dir, sizeof(sh.runtime_dir), "/var/run/dpdk/rte");
	snprintf(sh.primary_exe, sizeof(sh.primary_exe), "/usr/bin/dpdk-testpmd");
	snprintf(kids[0].program, sizeof(kids[0].program), "dpdk-procinfo");
	snprintf(kids[1].program, sizeof(kids[1].program), "dpdk-dumpcap");

	memcpy(u.b, &wh, sizeof(wh));
	memcpy(u.b + sizeof(wh), w, sizeof(w));
	len = sizeof(wh) + sizeof(w);
	seed("windows", 0, NULL, DPDKMP_MSG_WINDOWS, u.b, len);
	seed("windows-short", 0, NULL, DPDKMP_MSG_WINDOWS, u.b, len - sizeof(w[0]));
	/* A window whose end wraps around the address space. */
	w[2].addr = 0xfffffffffffff000ull;
	w[2].len = 0x2000;
	memcpy(u.b + sizeof(wh), w, sizeof(w));
	seed("windows-wrap", 0, NULL, DPDKMP_MSG_WINDOWS, u.b, len);
	{
		/* The primary's memory events: an ADD of three pages from two files, a DEL. */
		struct dpdkmp_segments sh = { .op = DPDKMP_SEGS_ADD, .nsegs = 3 };
		struct dpdkmp_seg sg[3] = {
			{ .addr = 0x100200000ull, .len = 0x200000, .iova = 0x2e00000, .fd = 0 },
			{ .addr = 0x100400000ull, .len = 0x200000, .iova = 0x2c00000, .fd = 1 },
			{ .addr = 0x100600000ull, .len = 0x200000, .offset = 0x200000, .fd = 1 },
		};

		memcpy(u.b, &sh, sizeof(sh));
		memcpy(u.b + sizeof(sh), sg, sizeof(sg));
		seed("segments-add", 2, NULL, DPDKMP_MSG_SEGMENTS, u.b, sizeof(sh) + sizeof(sg));
		sh.op = DPDKMP_SEGS_DEL;
		sh.nsegs = 1;
		memcpy(u.b, &sh, sizeof(sh));
		seed("segments-del", 0, NULL, DPDKMP_MSG_SEGMENTS, u.b, sizeof(sh) + sizeof(sg[0]));
	}

	p = u.b;
	memcpy(p, &sh, sizeof(sh));
	p += sizeof(sh);
	memcpy(p, w, 2 * sizeof(w[0]));
	p += 2 * sizeof(w[0]);
	memcpy(p, kids, sizeof(kids));
	p += sizeof(kids);
	len = (size_t)(p - u.b);
	seed("status", 0, NULL, DPDKMP_MSG_STATUS, u.b, len);
	/* A child name without its NUL. */
	memset(u.b + len - sizeof(kids[1].program), 'A', sizeof(kids[1].program));
	seed("status-name-no-nul", 0, NULL, DPDKMP_MSG_STATUS, u.b, len);
}

static void seeds_error(void)
{
	static const char text[] = "cannot load /usr/bin/foo: it uses thread-local storage";
	struct {
		struct dpdkmp_error e;
		char msg[sizeof(text)];
	} p = { .e = { .err = ENOEXEC, .msg_len = sizeof(text) - 1 } };

	memcpy(p.msg, text, sizeof(text) - 1);
	seed("error", 0, NULL, DPDKMP_MSG_ERROR, &p, sizeof(p.e) + sizeof(text) - 1);
	p.e.msg_len += 1;
	seed("error-len-lies", 0, NULL, DPDKMP_MSG_ERROR, &p, sizeof(p.e) + sizeof(text) - 1);
	p.e.msg_len -= 1;
	p.e.err = -ENOENT;
	seed("error-negative", 0, NULL, DPDKMP_MSG_ERROR, &p, sizeof(p.e) + sizeof(text) - 1);
}

/* broker -> zygote records: a dpdkmp_relay in front of what the broker vouches for. */
static void seeds_relay(void)
{
	static union {
		uint8_t b[DPDKMP_MAX_PAYLOAD];
		uint64_t align;
	} u;
	char *argv[] = { "/usr/bin/dpdk-procinfo", "--", "--stats", NULL };
	char *envp[] = { "PATH=/usr/bin", NULL };
	struct dpdkmp_relay r = { .conn = 7 };
	struct dpdkmp_relay_spawn rs = { .uid = 1000, .gid = 1000, .pid = 4242, .same_binary = 1,
					 .entry = 0x1040, .flags1_off = 0x2f88, .pie = 1 };
	struct dpdkmp_signal sig = { .signo = 2 };
	struct dpdkmp_error e = { .err = EPERM, .msg_len = 6 };
	size_t len, off = sizeof(r) + sizeof(rs);

	memcpy(u.b, &r, sizeof(r));
	memcpy(u.b + sizeof(r), &rs, sizeof(rs));
	len = spawn(u.b + off, sizeof(u.b) - off, "/tmp", argv, envp);
	seed("relay-spawn", DPDKMP_SPAWN_FDS, NULL, DPDKMP_MSG_RELAY_SPAWN, u.b, off + len);
	memcpy(u.b + sizeof(r), &sig, sizeof(sig));
	seed("relay-signal", 0, NULL, DPDKMP_MSG_RELAY_SIGNAL, u.b, sizeof(r) + sizeof(sig));
	seed("relay-hangup", 0, NULL, DPDKMP_MSG_RELAY_HANGUP, u.b, sizeof(r));
	seed("relay-status", 0, NULL, DPDKMP_MSG_RELAY_STATUS, u.b, sizeof(r));
	r.type = DPDKMP_MSG_ERROR;
	memcpy(u.b, &r, sizeof(r));
	memcpy(u.b + sizeof(r), &e, sizeof(e));
	memcpy(u.b + sizeof(r) + sizeof(e), "denied", 6);
	seed("relay-reply-error", 0, NULL, DPDKMP_MSG_RELAY_REPLY, u.b,
	     sizeof(r) + sizeof(e) + 6);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR (writes OUTDIR/request/ and OUTDIR/frame/)\n",
			argv[0]);
		return 2;
	}
	outdir = argv[1];
	mkdirs();
	seeds_fixed();
	seeds_spawn();
	seeds_windows();
	seeds_error();
	seeds_relay();
	printf("%u seeds in %s/request and %s/frame\n", nseeds, outdir, outdir);
	return 0;
}
