/*
 * solo_maxread.c -- reads above libevent 2.1.12's 4096 bytes, which only a
 * program's request (evbuffer_set_max_read, bufferevent_set_max_single_read
 * above 4096) or the operator's (GOEVENT_MAX_READ, see solo_maxread_env.c)
 * turns on. libevent 2.1.12 has no such reads, so this test runs against
 * goevent alone and checks results it knows:
 *
 *   1. evbuffer_set/get_max_read and bufferevent_set/get_max_single_read
 *      round trips, and bad values answered as libevent 2.2 answers them;
 *   2. bytes intact and in order through a socket bufferevent for caps from
 *      1 to 1 MiB (every cap up to 24 and around 4096, every power of two
 *      and its neighbours, random ones), with random peer write sizes, each
 *      read no larger than the cap, on the C read handler and on the Go one
 *      (a rate-limited bufferevent);
 *   3. read high watermarks held exactly with a 1 MiB cap;
 *   4. a bulk evbuffer_read made by the C path and by the Go core (a buffer
 *      with deferred callbacks) leaves the same chains;
 *   5. memory: chains a short read left unused are used again, not piled
 *      up; end of file with a large cap costs what it costs by default;
 *      libevent_global_shutdown frees the thread's cache of big chains.
 *
 * Memory is counted through event_set_mem_functions. Prints each failed
 * check and a closing "N passed, M failed" line; exit status 0 only if all
 * passed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#define GOEVENT_EXTENSIONS
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

static int passed, failed;

static void check(int ok, const char *what, int line)
{
	if (ok) {
		passed++;
	} else {
		failed++;
		printf("FAIL line %d: %s\n", line, what);
	}
}

#define CHECK(cond) check((cond), #cond, __LINE__)
#define CHECK_INT(expr, want) check((long long)(expr) == (long long)(want), #expr " == " #want, __LINE__)

/* ---- counting allocator ------------------------------------------------ */

/* Every block carries its size in front, so that frees can be counted. */
static long long live_bytes;

static void *count_malloc(size_t n)
{
	size_t *p = malloc(n + 16);
	if (!p)
		return NULL;
	p[0] = n;
	__atomic_add_fetch(&live_bytes, (long long)n, __ATOMIC_RELAXED);
	return p + 2;
}

static void count_free(void *q)
{
	if (!q)
		return;
	size_t *p = (size_t *)q - 2;
	__atomic_sub_fetch(&live_bytes, (long long)p[0], __ATOMIC_RELAXED);
	free(p);
}

static void *count_realloc(void *q, size_t n)
{
	if (!q)
		return count_malloc(n);
	size_t *p = (size_t *)q - 2, old = p[0];
	size_t *np = realloc(p, n + 16);
	if (!np)
		return NULL;
	np[0] = n;
	__atomic_add_fetch(&live_bytes, (long long)n - (long long)old, __ATOMIC_RELAXED);
	return np + 2;
}

static long long live(void)
{
	return __atomic_load_n(&live_bytes, __ATOMIC_RELAXED);
}

/* ---- helpers ------------------------------------------------------------ */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545f4914f6cdd1du;
}

/* A number from 0 to n-1 (n > 0). */
static size_t below(size_t n)
{
	return (size_t)(rnd() % n);
}

/* The byte at offset i of the test stream: no period a misplaced piece
 * could hide in. */
static unsigned char stream_at(uint64_t i)
{
	uint64_t x = (i + 1) * 0x9e3779b97f4a7c15u;
	return (unsigned char)((x >> 56) ^ (x >> 29));
}

static void fill_stream(unsigned char *p, size_t n, uint64_t off)
{
	for (size_t i = 0; i < n; i++)
		p[i] = stream_at(off + i);
}

static int stream_ok(const unsigned char *p, size_t n, uint64_t off)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != stream_at(off + i))
			return 0;
	return 1;
}

static void make_pair(int fds[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0) {
		perror("socketpair");
		exit(1);
	}
	evutil_make_socket_nonblocking(fds[0]);
	evutil_make_socket_nonblocking(fds[1]);
}

static int log_lines;

static void count_log(int severity, const char *msg)
{
	(void)severity;
	(void)msg;
	log_lines++;
}

/* ---- 1: round trips and bad values --------------------------------------- */

static void test_api(struct event_base *base)
{
	struct evbuffer *b = evbuffer_new();
	CHECK_INT(evbuffer_get_max_read(b), 4096);
	CHECK_INT(evbuffer_set_max_read(b, 0), 0);
	CHECK_INT(evbuffer_get_max_read(b), 0);
	CHECK_INT(evbuffer_set_max_read(b, 1), 0);
	CHECK_INT(evbuffer_get_max_read(b), 1);
	CHECK_INT(evbuffer_set_max_read(b, 262144), 0);
	CHECK_INT(evbuffer_get_max_read(b), 262144);
	CHECK_INT(evbuffer_set_max_read(b, INT_MAX), 0);
	CHECK_INT(evbuffer_get_max_read(b), INT_MAX);
	/* Above INT_MAX: refused, nothing changes (libevent 2.2). */
	CHECK_INT(evbuffer_set_max_read(b, (size_t)INT_MAX + 1), -1);
	CHECK_INT(evbuffer_set_max_read(b, (size_t)1 << 40), -1);
	CHECK_INT(evbuffer_set_max_read(b, (size_t)-1), -1);
	CHECK_INT(evbuffer_get_max_read(b), INT_MAX);

	/* A cap of 0 reads nothing, which evbuffer_read reports as 0. */
	int fds[2];
	make_pair(fds);
	CHECK_INT(write(fds[1], "data", 4), 4);
	CHECK_INT(evbuffer_set_max_read(b, 0), 0);
	CHECK_INT(evbuffer_read(b, fds[0], -1), 0);
	CHECK_INT(evbuffer_get_length(b), 0);
	CHECK_INT(evbuffer_set_max_read(b, 4096), 0);
	CHECK_INT(evbuffer_read(b, fds[0], -1), 4);
	evbuffer_free(b);

	/* NULL buffers: logged, error values (libevent would crash). */
	event_set_log_callback(count_log);
	log_lines = 0;
	CHECK_INT(evbuffer_set_max_read(NULL, 10), -1);
	CHECK_INT(evbuffer_get_max_read(NULL), 0);
	CHECK_INT(log_lines, 2);
	event_set_log_callback(NULL);

	struct bufferevent *bev = bufferevent_socket_new(base, fds[0], 0);
	struct evbuffer *in = bufferevent_get_input(bev);
	CHECK_INT(bufferevent_get_max_single_read(bev), 16384);
	CHECK_INT(evbuffer_get_max_read(in), 4096);
	CHECK_INT(bufferevent_set_max_single_read(bev, 1000), 0);
	CHECK_INT(bufferevent_get_max_single_read(bev), 1000);
	CHECK_INT(evbuffer_get_max_read(in), 1000);
	CHECK_INT(bufferevent_set_max_single_read(bev, 262144), 0);
	CHECK_INT(bufferevent_get_max_single_read(bev), 262144);
	CHECK_INT(evbuffer_get_max_read(in), 262144);
	/* 0 restores both defaults. */
	CHECK_INT(bufferevent_set_max_single_read(bev, 0), 0);
	CHECK_INT(bufferevent_get_max_single_read(bev), 16384);
	CHECK_INT(evbuffer_get_max_read(in), 4096);
	CHECK_INT(bufferevent_set_max_single_read(bev, INT_MAX), 0);
	CHECK_INT(evbuffer_get_max_read(in), INT_MAX);
	/* Above INT_MAX and up to SSIZE_MAX: kept for the bufferevent, refused
	 * for its input, -1 (libevent 2.2). */
	CHECK_INT(bufferevent_set_max_single_read(bev, 4096), 0);
	CHECK_INT(bufferevent_set_max_single_read(bev, ((size_t)1 << 32) + 7), -1);
	CHECK_INT(bufferevent_get_max_single_read(bev), ((long long)1 << 32) + 7);
	CHECK_INT(evbuffer_get_max_read(in), 4096);
	CHECK_INT(bufferevent_set_max_single_read(bev, (size_t)SSIZE_MAX), -1);
	CHECK_INT(bufferevent_get_max_single_read(bev), SSIZE_MAX);
	/* Above SSIZE_MAX ("negative"): the defaults again. */
	CHECK_INT(bufferevent_set_max_single_read(bev, (size_t)SSIZE_MAX + 1), 0);
	CHECK_INT(bufferevent_get_max_single_read(bev), 16384);
	CHECK_INT(evbuffer_get_max_read(in), 4096);
	CHECK_INT(bufferevent_set_max_single_read(bev, (size_t)-1), 0);
	CHECK_INT(bufferevent_get_max_single_read(bev), 16384);
	CHECK_INT(evbuffer_get_max_read(in), 4096);
	/* The write size is independent of all this. */
	CHECK_INT(bufferevent_get_max_single_write(bev), 16384);
	bufferevent_free(bev);
	close(fds[0]);
	close(fds[1]);
}

/* ---- 2 and 3: transfers through a socket bufferevent --------------------- */

struct xfer {
	struct event_base *base;
	struct bufferevent *bev;
	struct event *wev;
	int peer;
	size_t cap, high;
	uint64_t total, sent, got;
	size_t left;     /* input length when the last read callback returned */
	size_t biggest;  /* largest single read seen */
	size_t over;     /* a read above the cap, 0 if none */
	size_t over_wm;  /* an input above the high watermark, 0 if none */
	int bad_bytes, eof;
};

static void xfer_writecb(evutil_socket_t fd, short what, void *arg)
{
	struct xfer *x = arg;
	static unsigned char buf[256 * 1024];
	(void)what;
	for (int k = 1 + (int)below(8); k > 0 && x->sent < x->total; k--) {
		size_t limits[3] = { 64, 8192, sizeof(buf) };
		size_t n = 1 + below(limits[below(3)]);
		if (n > x->total - x->sent)
			n = (size_t)(x->total - x->sent);
		fill_stream(buf, n, x->sent);
		ssize_t w = write(fd, buf, n);
		if (w <= 0)
			return;
		x->sent += (uint64_t)w;
	}
	if (x->sent == x->total) {
		event_del(x->wev);
		shutdown(fd, SHUT_WR);
	}
}

/* Takes n bytes off the front of the input and checks them. */
static void take(struct xfer *x, struct evbuffer *in, size_t n)
{
	static unsigned char buf[1 << 21];
	while (n) {
		size_t k = n < sizeof(buf) ? n : sizeof(buf);
		if (evbuffer_remove(in, buf, k) != (int)k || !stream_ok(buf, k, x->got))
			x->bad_bytes = 1;
		x->got += k;
		n -= k;
	}
}

static void xfer_readcb(struct bufferevent *bev, void *arg)
{
	struct xfer *x = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len = evbuffer_get_length(in);
	/* One read ran since the last callback: what it added. */
	size_t grew = len - x->left;
	if (grew > x->biggest)
		x->biggest = grew;
	if (grew > x->cap && !x->over)
		x->over = grew;
	if (x->high && len > x->high && !x->over_wm)
		x->over_wm = len;
	/* Take a random part: everything, nothing, or some. */
	size_t n;
	switch (below(3)) {
	case 0:
		n = len;
		break;
	case 1:
		n = 0;
		break;
	default:
		n = below(len + 1);
	}
	/* At the high mark reading stops until something goes. */
	if (x->high && len >= x->high && n == 0)
		n = 1;
	take(x, in, n);
	x->left = evbuffer_get_length(in);
}

static void xfer_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct xfer *x = arg;
	if (what & BEV_EVENT_EOF) {
		struct evbuffer *in = bufferevent_get_input(bev);
		take(x, in, evbuffer_get_length(in));
		x->eof = 1;
	}
	event_base_loopbreak(x->base);
}

/* Moves total bytes through a bufferevent reading with cap (and a high
 * watermark if high); rate_limited sends every read through the Go
 * handler. Returns the largest read seen. */
static size_t transfer(struct event_base *base, size_t cap, size_t high, uint64_t total,
    int rate_limited)
{
	struct xfer x;
	int fds[2];
	memset(&x, 0, sizeof(x));
	x.base = base;
	x.cap = cap;
	x.high = high;
	x.total = total;
	make_pair(fds);
	x.peer = fds[1];
	x.bev = bufferevent_socket_new(base, fds[0], BEV_OPT_CLOSE_ON_FREE);
	CHECK_INT(bufferevent_set_max_single_read(x.bev, cap), 0);
	struct ev_token_bucket_cfg *cfg = NULL;
	if (rate_limited) {
		/* A bucket too big to ever limit: only the path changes. */
		struct timeval tick = { 1, 0 };
		cfg = ev_token_bucket_cfg_new((size_t)1 << 30, (size_t)1 << 30,
		    (size_t)1 << 30, (size_t)1 << 30, &tick);
		CHECK_INT(bufferevent_set_rate_limit(x.bev, cfg), 0);
	}
	if (high)
		bufferevent_setwatermark(x.bev, EV_READ, 0, high);
	bufferevent_setcb(x.bev, xfer_readcb, NULL, xfer_eventcb, &x);
	bufferevent_enable(x.bev, EV_READ);
	x.wev = event_new(base, x.peer, EV_WRITE | EV_PERSIST, xfer_writecb, &x);
	event_add(x.wev, NULL);
	event_base_dispatch(base);
	char what[160];
	snprintf(what, sizeof(what), "cap %zu high %zu rate-limited %d: eof %d, %llu of %llu bytes, "
	    "bad bytes %d, read above cap %zu, input above mark %zu", cap, high, rate_limited,
	    x.eof, (unsigned long long)x.got, (unsigned long long)total, x.bad_bytes, x.over,
	    x.over_wm);
	check(x.eof && x.got == total && !x.bad_bytes && !x.over && !x.over_wm, what, __LINE__);
	event_free(x.wev);
	bufferevent_free(x.bev);
	if (cfg)
		ev_token_bucket_cfg_free(cfg);
	close(x.peer);
	return x.biggest;
}

static void test_caps(struct event_base *base)
{
	size_t caps[200];
	int n = 0;
	for (size_t c = 1; c <= 24; c++)
		caps[n++] = c;
	for (size_t c = 4090; c <= 4100; c++)
		caps[n++] = c;
	for (int k = 5; k <= 20; k++) {
		caps[n++] = ((size_t)1 << k) - 1;
		caps[n++] = (size_t)1 << k;
		caps[n++] = ((size_t)1 << k) + 1;
	}
	caps[n++] = 65536 - 48;
	while (n < 130)
		caps[n++] = 1 + below((size_t)1 << 20);
	for (int i = 0; i < n; i++) {
		size_t cap = caps[i];
		uint64_t total = (cap * 16 < ((size_t)1 << 19) ? cap * 16 : ((size_t)1 << 19)) +
		    below(8192) + 1;
		for (int rl = 0; rl < 2; rl++) {
			size_t biggest = transfer(base, cap, 0, total, rl);
			/* Big caps really read big: the bulk path ran. */
			if (cap >= 65536) {
				char what[96];
				snprintf(what, sizeof(what), "cap %zu rate-limited %d: largest read %zu",
				    cap, rl, biggest);
				check(biggest > 4096, what, __LINE__);
			}
		}
	}
}

static void test_high_watermarks(struct event_base *base)
{
	size_t marks[] = { 1, 2, 100, 4095, 4096, 4097, 65535, 65536, 200000, 1 << 20, 0, 0, 0 };
	int n = sizeof(marks) / sizeof(marks[0]);
	for (int i = n - 3; i < n; i++)
		marks[i] = 1 + below(300000);
	for (int i = 0; i < n; i++) {
		uint64_t total = marks[i] < 100 ? 20000 : 1 << 20;
		transfer(base, 1 << 20, marks[i], total, 0);
		transfer(base, 1 << 20, marks[i], total, 1);
	}
}

/* ---- 4: the C path and the Go core make the same chains ------------------- */

static void noop_cb(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
	(void)b;
	(void)info;
	(void)arg;
}

/* The extents of b (at most 256) into lens; returns how many. */
static int extents(struct evbuffer *b, size_t *lens)
{
	struct evbuffer_iovec v[256];
	int n = evbuffer_peek(b, -1, NULL, v, 256);
	for (int i = 0; i < n && i < 256; i++)
		lens[i] = v[i].iov_len;
	return n;
}

static void test_paths_agree(struct event_base *base)
{
	int pa[2], pb[2];
	int sz = 4 << 20;
	make_pair(pa);
	make_pair(pb);
	setsockopt(pa[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(pb[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	struct evbuffer *a = evbuffer_new(), *b = evbuffer_new();
	/* b's callbacks are deferred, which sends every call on it to Go. */
	evbuffer_defer_callbacks(b, base);
	evbuffer_add_cb(b, noop_cb, NULL);
	evbuffer_set_max_read(a, 1 << 20);
	evbuffer_set_max_read(b, 1 << 20);
	static unsigned char buf[1 << 20];
	uint64_t sent = 0, got = 0;
	int mismatches = 0, steps = 0;
	for (int step = 0; step < 300; step++) {
		size_t n = 1 + below(below(2) ? 4096 : sizeof(buf));
		fill_stream(buf, n, sent);
		ssize_t wa = write(pa[1], buf, n), wb = write(pb[1], buf, n);
		if (wa != wb) {
			mismatches++;
			break;
		}
		if (wa > 0)
			sent += (uint64_t)wa;
		/* Sometimes data of the program's own, or space reserved and
		 * only partly used, as a protocol layer would. */
		if (below(4) == 0) {
			struct evbuffer_iovec va[4], vb[4];
			size_t want = 1 + below(20000);
			int ka = evbuffer_reserve_space(a, (ev_ssize_t)want, va, 4);
			int kb = evbuffer_reserve_space(b, (ev_ssize_t)want, vb, 4);
			if (ka != kb || ka < 1) {
				mismatches++;
				break;
			}
			va[0].iov_len = vb[0].iov_len = 0;
			for (int i = 1; i < ka; i++)
				va[i].iov_len = vb[i].iov_len = 0;
			evbuffer_commit_space(a, va, ka);
			evbuffer_commit_space(b, vb, kb);
		}
		int howmuch = below(3) ? -1 : (int)(1 + below(300000));
		int ra = evbuffer_read(a, pa[0], howmuch), rb = evbuffer_read(b, pb[0], howmuch);
		size_t la[256], lb[256];
		int na = extents(a, la), nb = extents(b, lb);
		if (ra != rb || na != nb || memcmp(la, lb, sizeof(size_t) * (size_t)(na < 256 ? na : 256))) {
			printf("  step %d: read %d/%d, %d/%d extents\n", step, ra, rb, na, nb);
			mismatches++;
			break;
		}
		/* The same random drain on both, checking the bytes. */
		size_t len = evbuffer_get_length(a), take = below(len + 1);
		if (take > sizeof(buf))
			take = sizeof(buf);
		if (evbuffer_remove(a, buf, take) != (int)take || !stream_ok(buf, take, got) ||
		    evbuffer_remove(b, buf, take) != (int)take || !stream_ok(buf, take, got)) {
			mismatches++;
			break;
		}
		got += take;
		steps++;
		event_base_loop(base, EVLOOP_NONBLOCK);
	}
	CHECK_INT(mismatches, 0);
	CHECK_INT(steps, 300);
	evbuffer_free(a);
	evbuffer_free(b);
	close(pa[0]);
	close(pa[1]);
	close(pb[0]);
	close(pb[1]);
}

/* ---- 5: memory ------------------------------------------------------------- */

/* A packet-mode pipe reports all its bytes through FIONREAD but hands out
 * one packet per read, so every bulk read prepares more than it gets. */
static void test_short_reads(void)
{
	int p[2];
	if (pipe2(p, O_NONBLOCK | O_DIRECT) < 0) {
		printf("  no packet-mode pipes: short reads not tested\n");
		return;
	}
	struct evbuffer *b = evbuffer_new();
	evbuffer_set_max_read(b, 1 << 20);
	long long base_live = live(), peak = 0;
	static unsigned char buf[65536];
	uint64_t sent = 0, got = 0;
	int bad = 0, shorts = 0;
	for (int i = 0; i < 2000; i++) {
		for (int k = 0; k < 16; k++) {
			size_t n = 1 + below(4096);
			fill_stream(buf, n, sent);
			ssize_t w = write(p[1], buf, n);
			if (w <= 0)
				break;
			sent += (uint64_t)w;
		}
		for (;;) {
			int queued = 0;
			ioctl(p[0], FIONREAD, &queued);
			int r = evbuffer_read(b, p[0], -1);
			if (r <= 0)
				break;
			if (r < queued)
				shorts++;
			if (live() - base_live > peak)
				peak = live() - base_live;
			/* Keep a little, as a parser waiting for the rest of
			 * a message would. */
			size_t len = evbuffer_get_length(b), keep = len < 100 ? len : 100;
			if (evbuffer_remove(b, buf, len - keep) != (int)(len - keep) ||
			    !stream_ok(buf, len - keep, got))
				bad = 1;
			got += len - keep;
		}
	}
	CHECK(shorts > 10000);
	CHECK(!bad);
	/* At most 64 KiB in flight per read, plus what the thread's chain
	 * cache may hold (512 KiB): repeated, a leak of what short reads left
	 * unused would come to megabytes. */
	char what[80];
	snprintf(what, sizeof(what), "short reads: peak %lld bytes held", peak);
	check(peak < (long long)(640 * 1024), what, __LINE__);
	evbuffer_free(b);
	close(p[0]);
	close(p[1]);
}

/* At end of file FIONREAD reports nothing: a large cap then prepares what
 * the default read prepares, not the cap. */
static void test_eof(void)
{
	long long used[2];
	size_t caps[2] = { 4096, 1 << 20 };
	for (int i = 0; i < 2; i++) {
		int fds[2];
		make_pair(fds);
		struct evbuffer *b = evbuffer_new();
		evbuffer_set_max_read(b, caps[i]);
		shutdown(fds[1], SHUT_WR);
		long long before = live();
		CHECK_INT(evbuffer_read(b, fds[0], -1), 0);
		used[i] = live() - before;
		evbuffer_free(b);
		close(fds[0]);
		close(fds[1]);
	}
	CHECK(used[0] > 0 && used[1] == used[0]);
}

int main(void)
{
	/* Before anything is allocated, as libevent requires. */
	event_set_mem_functions(count_malloc, count_realloc, count_free);
	struct event_base *base = event_base_new();
	test_api(base);
	test_eof();
	test_short_reads();
	test_paths_agree(base);
	test_caps(base);
	test_high_watermarks(base);
	event_base_free(base);
	/* The bulk reads above left big chains in this thread's cache;
	 * libevent_global_shutdown gives them back. */
	long long before = live();
	libevent_global_shutdown();
	CHECK(live() < before);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
