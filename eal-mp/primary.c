/* primary: the fork server's birth. Inside the primary's rte_eal_init, while the process is
 * still single-threaded, preload every PMD plugin EAL will load (so that plugin addresses
 * are identical in every secondary), flush stdio, fork the zygote, then run the real init
 * and hand the zygote the VA windows it must keep free for secondaries. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_memory.h>

#include "clock.h"
#include "dpdkmp_config.h"
#include "fdpass.h"
#include "internal.h"
#include "log.h"
#include "rundir.h"

int dpdkmp_plugin_name_ok(const char *n)
{
	size_t l = strlen(n);

	/* EAL's rule (eal_plugindir_init): "*.so" or "*.so.<ABI>". */
	return (l > 3 && !strcmp(n + l - 3, ".so")) ||
	       (l > 6 && !strcmp(n + l - 6, ".so." DPDKMP_DPDK_ABI));
}

static unsigned int preload_dir(const char *dir)
{
	char path[4096];
	struct dirent *de;
	unsigned int n = 0;
	DIR *d = opendir(dir);

	if (!d) {
		DPDKMP_WARN("cannot open the plugin directory %s: %s; plugin addresses may differ "
			    "in secondaries", dir, strerror(errno));
		return 0;
	}
	/* readdir order, as EAL: the load order decides the addresses. */
	while ((de = readdir(d))) {
		struct stat st;

		if (!dpdkmp_plugin_name_ok(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (dlopen(path, RTLD_NOW))
			n++;
		else
			DPDKMP_WARN("cannot preload plugin %s: %s", path, dlerror());
	}
	closedir(d);
	return n;
}

const char *dpdkmp_plugin_dir(void)
{
	return getenv("DPDKMP_PMD_DIR") ?: DPDKMP_PMD_DIR;
}

/* The default plugin directory, then every -d/--driver-path in order, as EAL loads them. */
static void preload_plugins(int argc, char **argv)
{
	const char *dir = dpdkmp_plugin_dir();
	unsigned int n = preload_dir(dir);

	for (int i = 1; i < argc && argv[i]; i++) {
		const char *v = NULL;
		struct stat st;

		if (!strcmp(argv[i], "--"))
			break;
		if ((!strcmp(argv[i], "-d") || !strcmp(argv[i], "--driver-path")) && i + 1 < argc)
			v = argv[++i];
		else if (!strncmp(argv[i], "-d", 2) && argv[i][2])
			v = argv[i] + 2;
		else if (!strncmp(argv[i], "--driver-path=", 14))
			v = argv[i] + 14;
		if (!v)
			continue;
		if (stat(v, &st) == 0 && S_ISDIR(st.st_mode))
			n += preload_dir(v);
		else if (dlopen(v, RTLD_NOW))
			n++;
	}
	DPDKMP_DEBUG("preloaded %u plugins", n);
}

static int no_shared_config(int argc, char **argv)
{
	for (int i = 1; i < argc && argv[i]; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--in-memory") || !strcmp(argv[i], "--no-shconf"))
			return 1;
	}
	return 0;
}

/* Moves fd out of the low range: EAL and applications must see the fd numbers they would
 * see without dpdkmp (dpdk-test finds the config file as "fd 3"). */
static int move_high(int fd)
{
	struct rlimit rl;
	int floor = 64, nfd;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > 512)
		floor = (int)(rl.rlim_cur > 4096 ? 2048 : rl.rlim_cur / 2);
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, floor);
	if (nfd < 0)
		return fd;
	close(fd);
	return nfd;
}

/* ---- the zygote's mirror of our hugepage segments (segments.c) ---------------------- */

/* The channel to the zygote stays open after its HELLO_ACK: each memory event of ours is
 * sent as SEGMENTS, with our fds of the segments' files. A send that fails closes it; the
 * zygote then drops its mirror and secondaries map the pages themselves. The channel is
 * non-blocking: EAL calls us with its memory hotplug lock held, and a zygote that stops
 * reading (stopped in a debugger, say) may delay an allocation of ours by SEG_SEND_WAIT_MS
 * once, never block it. */
#define SEG_SEND_WAIT_MS 1000
static int seg_chan = -1;
static struct {
	struct dpdkmp_segments h;
	struct dpdkmp_seg s[256];
	int fds[DPDKMP_MAX_FDS];
	uint32_t nfds;
} seg_batch;                    /* used under EAL's memory hotplug lock, or at init */

static void seg_flush(void)
{
	struct dpdkmp_segments *h = &seg_batch.h;
	int ret;

	if (seg_chan >= 0 && h->nsegs) {
		struct pollfd p = { .fd = seg_chan, .events = POLLOUT };
		uint64_t deadline = dpdkmp_now_ms() + SEG_SEND_WAIT_MS, now;

		while ((ret = dpdkmp_send(seg_chan, DPDKMP_MSG_SEGMENTS, h,
					  (uint32_t)(sizeof(*h) + h->nsegs * sizeof(seg_batch.s[0])),
					  seg_batch.fds, seg_batch.nfds)) == -EAGAIN &&
		       (now = dpdkmp_now_ms()) < deadline &&
		       poll(&p, 1, (int)(deadline - now)) >= 0)
			;
		if (ret < 0) {
			DPDKMP_WARN("cannot tell the zygote about our memory (%s): new secondaries "
				    "map the hugepages themselves", strerror(-ret));
			close(seg_chan);
			seg_chan = -1;
		}
	}
	h->nsegs = 0;
	seg_batch.nfds = 0;
}

static void seg_add(const struct rte_memseg *ms)
{
	struct dpdkmp_seg *e;
	size_t off = 0;
	uint32_t f;
	int fd = rte_memseg_get_fd_thread_unsafe(ms);

	/* No file (external memory, anonymous --in-memory pages): nothing to mirror. */
	if (fd < 0 || rte_memseg_get_fd_offset_thread_unsafe(ms, &off) < 0)
		return;
	if (seg_batch.h.op != DPDKMP_SEGS_ADD || seg_batch.h.nsegs == RTE_DIM(seg_batch.s))
		seg_flush();
	seg_batch.h.op = DPDKMP_SEGS_ADD;
	for (f = 0; f < seg_batch.nfds && seg_batch.fds[f] != fd; f++)
		;
	if (f == DPDKMP_MAX_FDS) {
		seg_flush();
		seg_batch.h.op = DPDKMP_SEGS_ADD;
		f = 0;
	}
	if (f == seg_batch.nfds)
		seg_batch.fds[seg_batch.nfds++] = fd;
	e = &seg_batch.s[seg_batch.h.nsegs++];
	*e = (struct dpdkmp_seg){ .addr = (uint64_t)(uintptr_t)ms->addr, .len = ms->len,
				  .offset = off, .iova = ms->iova, .fd = f };
}

static int seg_walk(const struct rte_memseg_list *msl, const struct rte_memseg *ms, void *arg)
{
	(void)msl;
	(void)arg;
	seg_add(ms);
	return seg_chan < 0;
}

/* EAL calls this with its memory hotplug lock held: after mapping new pages, before freeing
 * pages (the zygote lets go of them first). */
static void seg_event(enum rte_mem_event type, const void *addr, size_t len, void *arg)
{
	const struct rte_memseg_list *msl = rte_mem_virt2memseg_list(addr);

	(void)arg;
	if (seg_chan < 0 || !msl)
		return;
	seg_flush();
	if (type == RTE_MEM_EVENT_FREE) {
		seg_batch.h.op = DPDKMP_SEGS_DEL;
		seg_batch.s[0] = (struct dpdkmp_seg){ .addr = (uint64_t)(uintptr_t)addr, .len = len };
		seg_batch.h.nsegs = 1;
	} else {
		for (size_t o = 0; o < len && seg_chan >= 0; o += msl->page_sz) {
			const struct rte_memseg *ms = rte_mem_virt2memseg(RTE_PTR_ADD(addr, o), msl);

			if (ms)
				seg_add(ms);
		}
	}
	seg_flush();
}

static void follow_segments(int chan)
{
	const char *off = getenv("DPDKMP_NO_SHORTCUTS");

	if (off && *off && strcmp(off, "0")) {
		close(chan);
		return;
	}
	seg_chan = chan;
	fcntl(seg_chan, F_SETFL, fcntl(seg_chan, F_GETFL) | O_NONBLOCK);
	if (getenv("DPDKMP_TEST_SEGMENTS_SNDBUF")) {
		/* Test hook: a small send buffer, so that a stopped zygote fills it quickly. */
		int b = atoi(getenv("DPDKMP_TEST_SEGMENTS_SNDBUF"));

		setsockopt(seg_chan, SOL_SOCKET, SO_SNDBUF, &b, sizeof(b));
	}
	rte_memseg_walk(seg_walk, NULL);
	seg_flush();
	if (seg_chan >= 0 && rte_mem_event_callback_register("dpdkmp-segments", seg_event, NULL) < 0 &&
	    rte_errno != ENOTSUP)
		DPDKMP_WARN("cannot follow memory events (%s): secondaries map hugepages allocated "
			    "from now on themselves", rte_strerror(rte_errno));
}

/* rte_eal_init returns only once the socket accepts secondaries, so that a program may
 * start its own secondaries right after init (as dpdk-test does). */
static int wait_ready(int sock)
{
	static struct dpdkmp_msg m;
	struct pollfd p = { .fd = sock, .events = POLLIN };
	int ret;

	if (poll(&p, 1, 10000) <= 0)
		return -ETIMEDOUT;
	ret = dpdkmp_recv(sock, &m);
	if (ret < 0)
		return ret;
	dpdkmp_msg_close_fds(&m);
	return m.hdr.type == DPDKMP_MSG_HELLO_ACK ? 0 : -EPROTO;
}

int dpdkmp_primary_eal_init(dpdkmp_eal_init_fn real, int argc, char **argv)
{
	struct {
		struct dpdkmp_windows h;
		struct dpdkmp_window w[DPDKMP_MAX_WINDOWS];
	} *msg;
	struct dpdkmp_winset *ws;
	struct dpdkmp_policy policy;
	char perr[1024];
	int sp[2], ret, err;
	pid_t me = getpid(), zygote;

	dpdkmp_log_set_role(DPDKMP_ROLE_PRIMARY);
	dpdkmp_policy_init(&policy);
	if (dpdkmp_policy_load_env(&policy, perr, sizeof(perr)) < 0) {
		DPDKMP_ERR("%s", perr);
		rte_errno = EINVAL;
		return -1;
	}
	if (no_shared_config(argc, argv)) {
		DPDKMP_WARN("--in-memory/--no-shconf: this primary cannot have secondaries, so no "
			    "fork server is started");
		return real(argc, argv);
	}
	preload_plugins(argc, argv);
	fflush(NULL);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
		DPDKMP_ERR("cannot create the zygote channel: %s; continuing without a fork server",
			   strerror(errno));
		return real(argc, argv);
	}
	sp[0] = move_high(sp[0]);
	sp[1] = move_high(sp[1]);
	zygote = fork();
	if (zygote == 0) {
		close(sp[0]);
		dpdkmp_zygote_main(sp[1], me, &policy);
	}
	close(sp[1]);
	if (zygote < 0) {
		DPDKMP_ERR("cannot fork the zygote: %s; continuing without a fork server",
			   strerror(errno));
		close(sp[0]);
		return real(argc, argv);
	}
	ret = real(argc, argv);
	err = rte_errno;
	if (ret < 0) {
		close(sp[0]);   /* the zygote sees EOF and exits */
		rte_errno = err;
		return ret;
	}
	ws = malloc(sizeof(*ws));
	msg = malloc(sizeof(*msg));
	if (!ws || !msg || dpdkmp_windows_collect(ws) < 0) {
		DPDKMP_ERR("cannot collect the memory windows; secondaries through dpdkmp are "
			   "disabled for this primary");
	} else {
		memset(&msg->h, 0, sizeof(msg->h));
		msg->h.nwindows = ws->n;
		msg->h.primary_pid = (uint32_t)me;
		msg->h.flags = rte_eal_iova_mode() == RTE_IOVA_PA ? DPDKMP_PRIMARY_IOVA_PA : 0;
		memcpy(msg->h.runtime_dir, ws->runtime_dir, sizeof(msg->h.runtime_dir));
		memcpy(msg->w, ws->w, ws->n * sizeof(ws->w[0]));
		if (dpdkmp_send(sp[0], DPDKMP_MSG_WINDOWS, msg,
				(uint32_t)(sizeof(msg->h) + ws->n * sizeof(ws->w[0])), NULL, 0) < 0)
			DPDKMP_ERR("cannot reach the zygote (pid %d); secondaries through dpdkmp "
				   "are disabled for this primary", (int)zygote);
		else if (wait_ready(sp[0]) < 0)
			DPDKMP_ERR("the zygote (pid %d) did not start serving; secondaries through "
				   "dpdkmp are disabled for this primary", (int)zygote);
		else {
			DPDKMP_INFO("fork server (zygote pid %d) ready with %u windows", (int)zygote, ws->n);
			follow_segments(sp[0]);
			sp[0] = -1;
		}
	}
	free(ws);
	free(msg);
	if (sp[0] >= 0)
		close(sp[0]);
	rte_errno = err;
	return ret;
}
