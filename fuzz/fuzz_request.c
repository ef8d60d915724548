/* fuzz_request: libFuzzer target for the payload parsers of wire protocol v1 (proto.c):
 * dpdkmp_hdr_check and the SPAWN (both decoders), WINDOWS, STATUS, ERROR and RELAY_SPAWN
 * (the zygote's) decoders, each on
 * a heap copy of exactly the payload size so that ASan sees any byte read past the record.
 *
 * Input (the same layout as the fuzz_frame seeds, see gen_corpus.c):
 *
 *   +------+---------------------+--------------------------+
 *   | sel  | struct dpdkmp_hdr   | payload (any length)     |
 *   | 1 B  | 16 B                |                          |
 *   +------+---------------------+--------------------------+
 *
 * sel & 7 is the fd count handed to dpdkmp_hdr_check. Every decoder runs on the payload,
 * whatever the header says; what a decoder accepts must pass the header check as a record of
 * that type, outputs are set only on success, and a decoded SPAWN re-encodes to the same
 * bytes. A failed check aborts, so it is reported like a crash. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

#define SEL_LEN 1
#define HDR_LEN sizeof(struct dpdkmp_hdr)

#define CHECK(cond)                                                                     \
	do {                                                                            \
		if (!(cond)) {                                                          \
			fprintf(stderr, "fuzz_request: %s:%d: check failed: %s\n",      \
				__FILE__, __LINE__, #cond);                             \
			abort();                                                        \
		}                                                                       \
	} while (0)

/* Touches every byte of [p, p + n) so that ASan reports a range that is not really there. */
static uint8_t touch(const void *p, size_t n)
{
	const volatile uint8_t *b = p;
	uint8_t x = 0;

	for (size_t i = 0; i < n; i++)
		x ^= b[i];
	return x;
}

/* The allocation-free decoder (the broker's) on storage of exactly the size it needs, and one
 * byte less: it must agree with the allocating one and never write past its storage. */
static void fuzz_spawn_in(const uint8_t *payload, size_t len, int want,
			  const struct dpdkmp_spawn_req *ref)
{
	struct dpdkmp_spawn s;
	struct dpdkmp_spawn_req r;
	size_t need;
	void *storage;
	int ret;

	if (len < sizeof(s) || len > DPDKMP_MAX_PAYLOAD)
		return;
	memcpy(&s, payload, sizeof(s));
	if (s.argc > DPDKMP_MAX_ARGS || s.envc > DPDKMP_MAX_ENV)
		return;
	need = ((size_t)s.argc + 1 + s.envc + 1) * sizeof(char *) + len - sizeof(s);
	CHECK(need <= DPDKMP_SPAWN_STORAGE);
	storage = malloc(need);
	CHECK(storage != NULL);

	memset(&r, 0xa5, sizeof(r));
	ret = dpdkmp_spawn_decode_in(payload, len, &r, storage, need);
	CHECK(ret == want);
	if (ret == 0) {
		CHECK(!r.owned && r.argc == ref->argc && r.envc == ref->envc);
		CHECK(strcmp(r.cwd, ref->cwd) == 0);
		CHECK(r.argv[r.argc] == NULL && r.envp[r.envc] == NULL);
		for (uint32_t i = 0; i < r.argc; i++)
			CHECK(strcmp(r.argv[i], ref->argv[i]) == 0);
		for (uint32_t i = 0; i < r.envc; i++)
			CHECK(strcmp(r.envp[i], ref->envp[i]) == 0);
		dpdkmp_spawn_req_free(&r); /* not owned: frees nothing */
		/* One byte short of storage is refused before anything is written. */
		CHECK(dpdkmp_spawn_decode_in(payload, len, &r, storage, need - 1) == -ENOMEM);
	}
	free(storage);
}

/* Returns 0 if the payload is a valid SPAWN, and checks everything the decoder promises. */
static int fuzz_spawn(const uint8_t *payload, size_t len)
{
	static uint8_t again[DPDKMP_MAX_PAYLOAD];
	struct dpdkmp_spawn_req r;
	size_t relen = 0;
	int ret;

	memset(&r, 0xa5, sizeof(r));
	ret = dpdkmp_spawn_decode(payload, len, &r);
	if (ret < 0) {
		CHECK(ret == -EBADMSG || ret == -E2BIG || ret == -ENOMEM);
		if (ret != -ENOMEM)
			fuzz_spawn_in(payload, len, ret, NULL);
		return ret;
	}
	fuzz_spawn_in(payload, len, 0, &r);
	CHECK(r.owned && r.argc >= 1 && r.argc <= DPDKMP_MAX_ARGS && r.envc <= DPDKMP_MAX_ENV);
	CHECK(r.cwd && r.cwd[0] == '/');
	CHECK(r.argv[r.argc] == NULL && r.envp[r.envc] == NULL);
	touch(r.cwd, strlen(r.cwd) + 1);
	for (uint32_t i = 0; i < r.argc; i++) {
		CHECK(r.argv[i] != NULL);
		CHECK(strlen(r.argv[i]) < DPDKMP_MAX_STRING);
	}
	for (uint32_t i = 0; i < r.envc; i++) {
		CHECK(r.envp[i] != NULL && r.envp[i][0] != '=' && strchr(r.envp[i], '='));
		CHECK(strlen(r.envp[i]) < DPDKMP_MAX_STRING);
	}
	/* Decode and encode are inverses: anything accepted is exactly what a client sends. */
	ret = dpdkmp_spawn_encode(again, sizeof(again), &relen, r.cwd, r.argv, r.envp);
	CHECK(ret == 0);
	CHECK(relen == len && memcmp(again, payload, len) == 0);
	dpdkmp_spawn_req_free(&r);
	CHECK(r.buf == NULL && r.argv == NULL && r.envp == NULL);
	return 0;
}

static int fuzz_windows(const uint8_t *payload, size_t len)
{
	const struct dpdkmp_windows *h = (const void *)1;
	const struct dpdkmp_window *w = (const void *)1;
	int ret = dpdkmp_windows_decode(payload, len, &h, &w);

	if (ret < 0) {
		CHECK(ret == -EBADMSG || ret == -E2BIG);
		CHECK(h == (const void *)1 && w == (const void *)1); /* untouched on error */
		return ret;
	}
	CHECK((const void *)h == payload && h->nwindows <= DPDKMP_MAX_WINDOWS);
	CHECK(strlen(h->runtime_dir) < sizeof(h->runtime_dir));
	for (uint32_t i = 0; i < h->nwindows; i++) {
		touch(&w[i], sizeof(w[i]));
		CHECK(strlen(w[i].name) < sizeof(w[i].name));
		CHECK(w[i].len != 0 && w[i].addr + w[i].len > w[i].addr);
	}
	return 0;
}

static int fuzz_status(const uint8_t *payload, size_t len)
{
	const struct dpdkmp_status *h = (const void *)1;
	const struct dpdkmp_window *w = (const void *)1;
	const struct dpdkmp_child_info *k = (const void *)1;
	int ret = dpdkmp_status_decode(payload, len, &h, &w, &k);

	if (ret < 0) {
		CHECK(ret == -EBADMSG || ret == -E2BIG);
		CHECK(h == (const void *)1 && w == (const void *)1 && k == (const void *)1);
		return ret;
	}
	CHECK(h->nwindows <= DPDKMP_MAX_WINDOWS && h->nchildren <= DPDKMP_MAX_CHILDREN);
	CHECK(strlen(h->runtime_dir) < sizeof(h->runtime_dir));
	CHECK(strlen(h->primary_exe) < sizeof(h->primary_exe));
	for (uint32_t i = 0; i < h->nwindows; i++)
		CHECK(strlen(w[i].name) < sizeof(w[i].name));
	for (uint32_t i = 0; i < h->nchildren; i++) {
		touch(&k[i], sizeof(k[i]));
		CHECK(strlen(k[i].program) < sizeof(k[i].program));
	}
	CHECK((const uint8_t *)(k + h->nchildren) == payload + len);
	return 0;
}

static int fuzz_error(const uint8_t *payload, size_t len)
{
	const char *msg = NULL;
	uint32_t msg_len = UINT32_MAX;
	int err = 0;
	int ret = dpdkmp_error_decode(payload, len, &err, &msg, &msg_len);

	if (ret < 0) {
		CHECK(ret == -EBADMSG);
		CHECK(msg == NULL && msg_len == UINT32_MAX && err == 0);
		return ret;
	}
	CHECK(err > 0 && msg_len <= DPDKMP_MAX_ERRMSG);
	CHECK((const uint8_t *)msg + msg_len == payload + len);
	touch(msg, msg_len);
	return 0;
}

/* The zygote's only parser: a RELAY_SPAWN from the broker. */
static int fuzz_relay_spawn(const uint8_t *payload, size_t len)
{
	struct dpdkmp_spawn_req r = { 0 };
	struct dpdkmp_relay_spawn rs = { .uid = 7 };
	uint32_t conn = 12345;
	int ret = dpdkmp_relay_spawn_decode(payload, len, &conn, &rs, &r);

	if (ret < 0) {
		CHECK(ret == -EBADMSG || ret == -E2BIG || ret == -ENOMEM);
		CHECK(conn == 12345 && rs.uid == 7 && r.buf == NULL && r.argv == NULL);
		return ret;
	}
	CHECK(rs.same_binary <= 1 && rs.pie <= 1);
	CHECK(r.argc >= 1 && r.argv[r.argc] == NULL && r.envp[r.envc] == NULL && r.cwd[0] == '/');
	for (uint32_t i = 0; i < r.argc; i++)
		touch(r.argv[i], strlen(r.argv[i]) + 1);
	dpdkmp_spawn_req_free(&r);
	return 0;
}

/* The zygote's parser of the primary's memory events. */
static int fuzz_segments(const uint8_t *payload, size_t len, uint32_t nfds)
{
	const struct dpdkmp_segments *h = (const void *)1;
	const struct dpdkmp_seg *s = (const void *)1;
	int ret = dpdkmp_segments_decode(payload, len, nfds, &h, &s);

	if (ret < 0) {
		CHECK(ret == -EBADMSG || ret == -E2BIG);
		CHECK(h == (const void *)1 && s == (const void *)1);
		return ret;
	}
	CHECK(h->nsegs <= DPDKMP_MAX_SEGS && (h->op == DPDKMP_SEGS_ADD || h->op == DPDKMP_SEGS_DEL));
	CHECK(nfds <= DPDKMP_MAX_FDS && (h->op == DPDKMP_SEGS_ADD) == (nfds > 0));
	for (uint32_t i = 0; i < h->nsegs; i++) {
		touch(&s[i], sizeof(s[i]));
		CHECK(s[i].len && !(s[i].addr & 4095) && s[i].addr + s[i].len > s[i].addr);
		CHECK(h->op == DPDKMP_SEGS_DEL || s[i].fd < nfds);
	}
	CHECK((const uint8_t *)(s + h->nsegs) == payload + len);
	return 0;
}

static int valid_as(uint16_t type, size_t len, uint32_t nfds)
{
	struct dpdkmp_hdr h = {
		.magic = DPDKMP_MAGIC, .version = DPDKMP_PROTO_VERSION,
		.type = type, .len = (uint32_t)len, .nfds = nfds,
	};

	return dpdkmp_hdr_check(&h, nfds) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dpdkmp_hdr h;
	uint8_t *payload;
	size_t len;
	int hret;

	if (size < SEL_LEN + HDR_LEN)
		return 0;
	len = size - SEL_LEN - HDR_LEN;
	if (len > DPDKMP_MAX_PAYLOAD + 64)
		return -1; /* not a record dpdkmp_recv can return; keep it out of the corpus */

	memcpy(&h, data + SEL_LEN, HDR_LEN);
	hret = dpdkmp_hdr_check(&h, data[0] & 7);
	CHECK(hret == 0 || hret == -EBADMSG || hret == -EPROTONOSUPPORT || hret == -EMSGSIZE);
	CHECK(hret != 0 || (h.len <= DPDKMP_MAX_PAYLOAD && h.nfds <= DPDKMP_MAX_FDS));

	/* An exact-size, 16-aligned heap copy: one byte past the payload is a redzone. */
	payload = malloc(len ? len : 1);
	CHECK(payload != NULL);
	memcpy(payload, data + SEL_LEN + HDR_LEN, len);

	/* Whatever a decoder accepts, the header check accepts in a record of that type and
	 * length: the two halves of the parser agree on the protocol. */
	if (fuzz_spawn(payload, len) == 0)
		CHECK(valid_as(DPDKMP_MSG_SPAWN, len, DPDKMP_SPAWN_FDS));
	if (fuzz_windows(payload, len) == 0)
		CHECK(valid_as(DPDKMP_MSG_WINDOWS, len, 0));
	if (fuzz_status(payload, len) == 0)
		CHECK(valid_as(DPDKMP_MSG_STATUS, len, 0));
	if (fuzz_error(payload, len) == 0)
		CHECK(valid_as(DPDKMP_MSG_ERROR, len, 0));
	if (fuzz_relay_spawn(payload, len) == 0)
		CHECK(valid_as(DPDKMP_MSG_RELAY_SPAWN, len, DPDKMP_SPAWN_FDS));
	if (fuzz_segments(payload, len, data[0] & 7) == 0)
		CHECK(valid_as(DPDKMP_MSG_SEGMENTS, len, data[0] & 7));
	free(payload);
	return 0;
}
