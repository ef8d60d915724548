/* proto: pure encode/decode and validation of wire protocol v1 (proto.h). No I/O here, so
 * that the unit tests and the fuzzers exercise exactly what the daemons run. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

struct type_rule {
	uint32_t min_len;   /* fixed part */
	uint32_t exact;     /* 1: payload must be exactly min_len */
	uint32_t nfds;      /* exact fd count, or ANY_FDS: 0 to DPDKMP_MAX_FDS */
};
#define ANY_FDS UINT32_MAX

static const struct type_rule rules[DPDKMP_MSG_MAX + 1] = {
	[DPDKMP_MSG_HELLO]      = { sizeof(struct dpdkmp_hello), 1, 0 },
	[DPDKMP_MSG_HELLO_ACK]  = { sizeof(struct dpdkmp_hello_ack), 1, 0 },
	[DPDKMP_MSG_SPAWN]      = { sizeof(struct dpdkmp_spawn), 0, DPDKMP_SPAWN_FDS },
	[DPDKMP_MSG_SPAWNED]    = { sizeof(struct dpdkmp_spawned), 1, 0 },
	[DPDKMP_MSG_EXITED]     = { sizeof(struct dpdkmp_exited), 1, 0 },
	[DPDKMP_MSG_ERROR]      = { sizeof(struct dpdkmp_error), 0, 0 },
	[DPDKMP_MSG_SIGNAL]     = { sizeof(struct dpdkmp_signal), 1, 0 },
	[DPDKMP_MSG_STATUS_REQ] = { 0, 1, 0 },
	[DPDKMP_MSG_STATUS]     = { sizeof(struct dpdkmp_status), 0, 0 },
	[DPDKMP_MSG_WINDOWS]    = { sizeof(struct dpdkmp_windows), 0, 0 },
	[DPDKMP_MSG_RELAY_SPAWN] = { sizeof(struct dpdkmp_relay) + sizeof(struct dpdkmp_relay_spawn) +
				     sizeof(struct dpdkmp_spawn), 0, DPDKMP_SPAWN_FDS },
	[DPDKMP_MSG_RELAY_SIGNAL] = { sizeof(struct dpdkmp_relay) + sizeof(struct dpdkmp_signal), 1, 0 },
	[DPDKMP_MSG_RELAY_HANGUP] = { sizeof(struct dpdkmp_relay), 1, 0 },
	[DPDKMP_MSG_RELAY_STATUS] = { sizeof(struct dpdkmp_relay), 1, 0 },
	[DPDKMP_MSG_RELAY_REPLY]  = { sizeof(struct dpdkmp_relay), 0, 0 },
	[DPDKMP_MSG_SEGMENTS]     = { sizeof(struct dpdkmp_segments), 0, ANY_FDS },
};

static const char *const names[DPDKMP_MSG_MAX + 1] = {
	[DPDKMP_MSG_HELLO] = "HELLO", [DPDKMP_MSG_HELLO_ACK] = "HELLO_ACK",
	[DPDKMP_MSG_SPAWN] = "SPAWN", [DPDKMP_MSG_SPAWNED] = "SPAWNED",
	[DPDKMP_MSG_EXITED] = "EXITED", [DPDKMP_MSG_ERROR] = "ERROR",
	[DPDKMP_MSG_SIGNAL] = "SIGNAL", [DPDKMP_MSG_STATUS_REQ] = "STATUS_REQ",
	[DPDKMP_MSG_STATUS] = "STATUS", [DPDKMP_MSG_WINDOWS] = "WINDOWS",
	[DPDKMP_MSG_RELAY_SPAWN] = "RELAY_SPAWN", [DPDKMP_MSG_RELAY_SIGNAL] = "RELAY_SIGNAL",
	[DPDKMP_MSG_RELAY_HANGUP] = "RELAY_HANGUP", [DPDKMP_MSG_RELAY_STATUS] = "RELAY_STATUS",
	[DPDKMP_MSG_RELAY_REPLY] = "RELAY_REPLY", [DPDKMP_MSG_SEGMENTS] = "SEGMENTS",
};

const char *dpdkmp_msg_name(uint16_t type)
{
	return type >= 1 && type <= DPDKMP_MSG_MAX ? names[type] : "UNKNOWN";
}

int dpdkmp_hdr_check(const struct dpdkmp_hdr *h, uint32_t nfds_received)
{
	const struct type_rule *r;

	if (h->magic != DPDKMP_MAGIC)
		return -EBADMSG;
	if (h->version != DPDKMP_PROTO_VERSION)
		return -EPROTONOSUPPORT;
	if (h->type < 1 || h->type > DPDKMP_MSG_MAX)
		return -EBADMSG;
	if (h->len > DPDKMP_MAX_PAYLOAD)
		return -EMSGSIZE;
	if (h->nfds != nfds_received)
		return -EBADMSG;
	r = &rules[h->type];
	if (h->len < r->min_len || (r->exact && h->len != r->min_len))
		return -EBADMSG;
	if (r->nfds == ANY_FDS ? h->nfds > DPDKMP_MAX_FDS : h->nfds != r->nfds)
		return -EBADMSG;
	if (h->type == DPDKMP_MSG_ERROR && h->len - r->min_len > DPDKMP_MAX_ERRMSG)
		return -EMSGSIZE;
	return 0;
}

static int put_str(char **p, const char *end, const char *s)
{
	size_t n = strlen(s) + 1;

	if (n > DPDKMP_MAX_STRING || (size_t)(end - *p) < n)
		return -E2BIG;
	memcpy(*p, s, n);
	*p += n;
	return 0;
}

int dpdkmp_spawn_encode(void *buf, size_t cap, size_t *len, const char *cwd,
			char *const argv[], char *const envp[])
{
	struct dpdkmp_spawn s = { 0 };
	char *p = (char *)buf + sizeof(s), *end = (char *)buf + cap;
	int ret;

	if (!cwd || cwd[0] != '/' || !argv || !argv[0] || cap < sizeof(s))
		return -EINVAL;
	if (cap > DPDKMP_MAX_PAYLOAD)
		end = (char *)buf + DPDKMP_MAX_PAYLOAD;
	s.cwd_len = (uint32_t)strlen(cwd) + 1;
	if ((ret = put_str(&p, end, cwd)) < 0)
		return ret;
	for (; argv[s.argc]; s.argc++) {
		if (s.argc >= DPDKMP_MAX_ARGS)
			return -E2BIG;
		if ((ret = put_str(&p, end, argv[s.argc])) < 0)
			return ret;
	}
	for (; envp && envp[s.envc]; s.envc++) {
		if (s.envc >= DPDKMP_MAX_ENV)
			return -E2BIG;
		if (!strchr(envp[s.envc], '=') || envp[s.envc][0] == '=')
			return -EINVAL;
		if ((ret = put_str(&p, end, envp[s.envc])) < 0)
			return ret;
	}
	memcpy(buf, &s, sizeof(s));
	*len = (size_t)(p - (char *)buf);
	return 0;
}

void dpdkmp_spawn_req_free(struct dpdkmp_spawn_req *r)
{
	if (r->owned) {
		free(r->buf);
		free(r->argv);
		free(r->envp);
	}
	memset(r, 0, sizeof(*r));
}

/* Walks count NUL-terminated strings starting at *p, each at most DPDKMP_MAX_STRING. */
static int take_strings(char **p, const char *end, uint32_t count, char **vec)
{
	for (uint32_t i = 0; i < count; i++) {
		size_t room = (size_t)(end - *p);
		char *nul = memchr(*p, '\0', room < DPDKMP_MAX_STRING ? room : DPDKMP_MAX_STRING);

		if (!nul)
			return -EBADMSG;
		if (vec)
			vec[i] = *p;
		*p = nul + 1;
	}
	return 0;
}

/* Checks the fixed part; *s is the header. */
static int spawn_head(const void *payload, size_t len, struct dpdkmp_spawn *s)
{
	if (len < sizeof(*s) || len > DPDKMP_MAX_PAYLOAD)
		return -EBADMSG;
	memcpy(s, payload, sizeof(*s));
	if (s->flags != 0 || s->argc < 1)
		return -EBADMSG;
	if (s->argc > DPDKMP_MAX_ARGS || s->envc > DPDKMP_MAX_ENV)
		return -E2BIG;
	if (s->cwd_len < 2 || s->cwd_len > DPDKMP_MAX_STRING || s->cwd_len > len - sizeof(*s))
		return -EBADMSG;
	return 0;
}

/* Parses the strings of r->buf (len bytes, already copied) into r->argv and r->envp. */
static int spawn_body(const struct dpdkmp_spawn *s, size_t len, struct dpdkmp_spawn_req *r)
{
	char *p = r->buf, *end = r->buf + len;
	int ret;

	if (p[s->cwd_len - 1] != '\0' || strlen(p) != s->cwd_len - 1 || p[0] != '/')
		return -EBADMSG;
	r->cwd = p;
	p += s->cwd_len;
	if ((ret = take_strings(&p, end, s->argc, r->argv)) < 0 ||
	    (ret = take_strings(&p, end, s->envc, r->envp)) < 0)
		return ret;
	if (p != end)           /* trailing bytes: the counts lie */
		return -EBADMSG;
	for (uint32_t i = 0; i < s->envc; i++)
		if (!strchr(r->envp[i], '=') || r->envp[i][0] == '=')
			return -EBADMSG;
	r->argv[s->argc] = NULL;
	r->envp[s->envc] = NULL;
	r->argc = s->argc;
	r->envc = s->envc;
	return 0;
}

int dpdkmp_spawn_decode(const void *payload, size_t len, struct dpdkmp_spawn_req *out)
{
	struct dpdkmp_spawn_req r = { .owned = 1 };
	struct dpdkmp_spawn s;
	int ret;

	if ((ret = spawn_head(payload, len, &s)) < 0)
		return ret;
	r.buf = malloc(len - sizeof(s));
	r.argv = calloc(s.argc + 1, sizeof(char *));
	r.envp = calloc(s.envc + 1, sizeof(char *));
	if (!r.buf || !r.argv || !r.envp) {
		ret = -ENOMEM;
		goto fail;
	}
	memcpy(r.buf, (const char *)payload + sizeof(s), len - sizeof(s));
	if ((ret = spawn_body(&s, len - sizeof(s), &r)) < 0)
		goto fail;
	*out = r;
	return 0;
fail:
	dpdkmp_spawn_req_free(&r);
	return ret;
}

int dpdkmp_spawn_decode_in(const void *payload, size_t len, struct dpdkmp_spawn_req *out,
			   void *storage, size_t storage_len)
{
	struct dpdkmp_spawn_req r = { .owned = 0 };
	struct dpdkmp_spawn s;
	size_t vecs;
	int ret;

	if ((ret = spawn_head(payload, len, &s)) < 0)
		return ret;
	vecs = ((size_t)s.argc + 1 + s.envc + 1) * sizeof(char *);
	if ((uintptr_t)storage % sizeof(char *) || storage_len < vecs + (len - sizeof(s)))
		return -ENOMEM;
	r.argv = storage;
	r.envp = r.argv + s.argc + 1;
	r.buf = (char *)storage + vecs;
	memcpy(r.buf, (const char *)payload + sizeof(s), len - sizeof(s));
	if ((ret = spawn_body(&s, len - sizeof(s), &r)) < 0)
		return ret;
	*out = r;
	return 0;
}

int dpdkmp_relay_spawn_decode(const void *payload, size_t len, uint32_t *conn,
			      struct dpdkmp_relay_spawn *rs, struct dpdkmp_spawn_req *out)
{
	const size_t head = sizeof(struct dpdkmp_relay) + sizeof(*rs);
	struct dpdkmp_relay r;
	struct dpdkmp_relay_spawn s;
	int ret;

	if (len < head)
		return -EBADMSG;
	memcpy(&r, payload, sizeof(r));
	memcpy(&s, (const uint8_t *)payload + sizeof(r), sizeof(s));
	if (r.type != 0 || r.pad != 0 || s.pad != 0 || s.same_binary > 1 || s.pie > 1)
		return -EBADMSG;
	if ((ret = dpdkmp_spawn_decode((const uint8_t *)payload + head, len - head, out)) < 0)
		return ret;
	*conn = r.conn;
	*rs = s;
	return 0;
}

int dpdkmp_error_decode(const void *payload, size_t len, int *err, const char **msg,
			uint32_t *msg_len)
{
	struct dpdkmp_error e;

	if (len < sizeof(e))
		return -EBADMSG;
	memcpy(&e, payload, sizeof(e));
	if (e.msg_len != len - sizeof(e) || e.msg_len > DPDKMP_MAX_ERRMSG || e.err <= 0)
		return -EBADMSG;
	*err = e.err;
	*msg = (const char *)payload + sizeof(e);
	*msg_len = e.msg_len;
	return 0;
}

static int name_ok(const char *name, size_t cap)
{
	return memchr(name, '\0', cap) != NULL;
}

static int window_ok(const struct dpdkmp_window *w)
{
	return name_ok(w->name, sizeof(w->name)) && w->len != 0 &&
	       (w->kind == DPDKMP_WIN_MEMSEG || w->kind == DPDKMP_WIN_RUNFILE) &&
	       w->addr + w->len > w->addr && !(w->addr & 4095) && !(w->len & 4095);
}

int dpdkmp_windows_decode(const void *payload, size_t len, const struct dpdkmp_windows **hdr,
			  const struct dpdkmp_window **win)
{
	const struct dpdkmp_windows *h = payload;
	const struct dpdkmp_window *w;

	if (len < sizeof(*h) || ((uintptr_t)payload & 7))
		return -EBADMSG;
	if (h->nwindows > DPDKMP_MAX_WINDOWS)
		return -E2BIG;
	if (len != sizeof(*h) + (size_t)h->nwindows * sizeof(*w) || !name_ok(h->runtime_dir, sizeof(h->runtime_dir)))
		return -EBADMSG;
	w = (const struct dpdkmp_window *)(h + 1);
	for (uint32_t i = 0; i < h->nwindows; i++)
		if (!window_ok(&w[i]))
			return -EBADMSG;
	*hdr = h;
	*win = w;
	return 0;
}

int dpdkmp_segments_decode(const void *payload, size_t len, uint32_t nfds,
			   const struct dpdkmp_segments **hdr, const struct dpdkmp_seg **segs)
{
	const struct dpdkmp_segments *h = payload;
	const struct dpdkmp_seg *s;

	if (len < sizeof(*h) || ((uintptr_t)payload & 7))
		return -EBADMSG;
	if (h->nsegs > DPDKMP_MAX_SEGS)
		return -E2BIG;
	if (len != sizeof(*h) + (size_t)h->nsegs * sizeof(*s) ||
	    (h->op != DPDKMP_SEGS_ADD && h->op != DPDKMP_SEGS_DEL) ||
	    (h->op == DPDKMP_SEGS_ADD) != (nfds > 0) || nfds > DPDKMP_MAX_FDS)
		return -EBADMSG;
	s = (const struct dpdkmp_seg *)(h + 1);
	for (uint32_t i = 0; i < h->nsegs; i++) {
		if (!s[i].len || (s[i].addr & 4095) || (s[i].len & 4095) ||
		    s[i].addr + s[i].len <= s[i].addr)
			return -EBADMSG;
		if (h->op == DPDKMP_SEGS_ADD && (s[i].fd >= nfds || (s[i].offset & 4095) ||
						 s[i].offset + s[i].len <= s[i].offset))
			return -EBADMSG;
	}
	*hdr = h;
	*segs = s;
	return 0;
}

int dpdkmp_status_decode(const void *payload, size_t len, const struct dpdkmp_status **hdr,
			 const struct dpdkmp_window **win, const struct dpdkmp_child_info **kids)
{
	const struct dpdkmp_status *h = payload;
	const struct dpdkmp_window *w;
	const struct dpdkmp_child_info *k;

	if (len < sizeof(*h) || ((uintptr_t)payload & 7))
		return -EBADMSG;
	if (h->nwindows > DPDKMP_MAX_WINDOWS || h->nchildren > DPDKMP_MAX_CHILDREN)
		return -E2BIG;
	if (len != sizeof(*h) + (size_t)h->nwindows * sizeof(*w) + (size_t)h->nchildren * sizeof(*k))
		return -EBADMSG;
	if (!name_ok(h->runtime_dir, sizeof(h->runtime_dir)) || !name_ok(h->primary_exe, sizeof(h->primary_exe)))
		return -EBADMSG;
	w = (const struct dpdkmp_window *)(h + 1);
	k = (const struct dpdkmp_child_info *)(w + h->nwindows);
	for (uint32_t i = 0; i < h->nwindows; i++)
		if (!window_ok(&w[i]))
			return -EBADMSG;
	for (uint32_t i = 0; i < h->nchildren; i++)
		if (!name_ok(k[i].program, sizeof(k[i].program)))
			return -EBADMSG;
	*hdr = h;
	*win = w;
	*kids = k;
	return 0;
}
