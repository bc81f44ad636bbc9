/*
 * diff_ratelim: rate limiting.
 *
 * The token-bucket API's answers (ev_token_bucket_cfg_new's argument
 * checks, the limits, max-to-read/write, decrements, groups' shares,
 * limits and totals), then rate-limited transfers over a socketpair: one
 * with a limited writer, one with two readers in a limited group. Each must
 * arrive intact (FNV-1a) and take at least the time the configured rate
 * implies (with a generous margin and no upper bound, so the trace does not
 * depend on the machine's speed).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#define FNV_INIT 0xcbf29ce484222325ULL
static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static void gen(unsigned char *p, size_t n, uint64_t off)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)((off + i) * 40503u >> 7);
}

static double now_s(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

static const char *lim(ev_ssize_t v)
{
	static char buf[8][32];
	static int i;
	i = (i + 1) % 8;
	if (v == EV_SSIZE_MAX)
		return "EV_SSIZE_MAX";
	snprintf(buf[i], sizeof(buf[i]), "%lld", (long long)v);
	return buf[i];
}

static void api(void)
{
	struct event_base *base = event_base_new();
	struct timeval tick = {0, 250000};
	int fds[2];

	printf("cfg_new:\n");
	printf("  rate 0: %s\n", ev_token_bucket_cfg_new(0, 10, 10, 10, NULL) ? "cfg" : "NULL");
	printf("  burst 0: %s\n", ev_token_bucket_cfg_new(1, 0, 1, 1, NULL) ? "cfg" : "NULL");
	printf("  write rate 0: %s\n", ev_token_bucket_cfg_new(10, 10, 0, 10, NULL) ? "cfg" : "NULL");
	printf("  rate > burst: %s\n", ev_token_bucket_cfg_new(11, 10, 10, 10, NULL) ? "cfg" : "NULL");
	printf("  burst > EV_RATE_LIMIT_MAX: %s\n",
	    ev_token_bucket_cfg_new(10, (size_t)EV_RATE_LIMIT_MAX + 1, 10, 10, NULL) ? "cfg" : "NULL");
	struct ev_token_bucket_cfg *cfg = ev_token_bucket_cfg_new(1000, 3000, 500, 800, &tick);
	printf("  valid: %s\n", cfg ? "cfg" : "NULL");

	socketpair(AF_UNIX, SOCK_STREAM, 0, fds);
	struct bufferevent *b = bufferevent_socket_new(base, fds[0], BEV_OPT_CLOSE_ON_FREE);
	struct bufferevent *c = bufferevent_socket_new(base, fds[1], BEV_OPT_CLOSE_ON_FREE);
	/* Every call is its own statement: C leaves the order in which a
	 * call's arguments are evaluated open. */
	ev_ssize_t r1, r2, r3, r4;
	int rc, rc2, rc3;
#define LIMITS(bev) do { \
	r1 = bufferevent_get_read_limit(bev); \
	r2 = bufferevent_get_write_limit(bev); \
	r3 = bufferevent_get_max_to_read(bev); \
	r4 = bufferevent_get_max_to_write(bev); \
	printf("    read %s write %s max to read %s max to write %s cfg %s\n", \
	    lim(r1), lim(r2), lim(r3), lim(r4), \
	    bufferevent_get_token_bucket_cfg(bev) == cfg ? "cfg" : \
	    bufferevent_get_token_bucket_cfg(bev) ? "other" : "NULL"); \
} while (0)
	printf("unlimited:\n");
	LIMITS(b);
	bufferevent_set_max_single_read(b, 100);
	printf("  max single read 100:\n");
	LIMITS(b);
	rc = bufferevent_set_rate_limit(b, cfg);
	printf("set_rate_limit: %d\n", rc);
	LIMITS(b);
	rc = bufferevent_set_rate_limit(b, cfg);
	printf("  same cfg again: %d\n", rc);
	rc = bufferevent_decrement_read_limit(b, 1500);
	printf("  decrement read 1500: %d\n", rc);
	LIMITS(b);
	rc = bufferevent_decrement_read_limit(b, -700);
	printf("  decrement read -700: %d\n", rc);
	LIMITS(b);
	rc = bufferevent_decrement_write_limit(b, 501);
	printf("  decrement write 501: %d\n", rc);
	LIMITS(b);
	struct ev_token_bucket_cfg *small = ev_token_bucket_cfg_new(100, 150, 100, 150, &tick);
	rc = bufferevent_set_rate_limit(b, small);
	printf("  switch to a smaller cfg: %d\n", rc);
	LIMITS(b);
	rc = bufferevent_set_rate_limit(b, NULL);
	printf("  remove: %d\n", rc);
	LIMITS(b);

	struct ev_token_bucket_cfg *gcfg = ev_token_bucket_cfg_new(2000, 2000, 3000, 3000, &tick);
	struct bufferevent_rate_limit_group *g = bufferevent_rate_limit_group_new(base, gcfg);
	ev_uint64_t tr = 1, tw = 1;
#define GLIMITS() do { \
	r1 = bufferevent_rate_limit_group_get_read_limit(g); \
	r2 = bufferevent_rate_limit_group_get_write_limit(g); \
	printf("    group read %s write %s\n", lim(r1), lim(r2)); \
} while (0)
	printf("group:\n");
	GLIMITS();
	rc = bufferevent_add_to_rate_limit_group(b, g);
	rc2 = bufferevent_add_to_rate_limit_group(c, g);
	rc3 = bufferevent_add_to_rate_limit_group(b, g);
	printf("  add b: %d, add c: %d, add b again: %d\n", rc, rc2, rc3);
	printf("  b:\n");
	LIMITS(b);
	printf("  c:\n");
	LIMITS(c);
	rc = bufferevent_rate_limit_group_decrement_read(g, 1900);
	printf("  decrement group read 1900: %d\n", rc);
	GLIMITS();
	LIMITS(b);
	rc = bufferevent_rate_limit_group_set_min_share(g, 10);
	printf("  min share 10: %d\n", rc);
	LIMITS(b);
	rc = bufferevent_rate_limit_group_set_min_share(g, 5000);
	printf("  min share 5000: %d\n", rc);
	LIMITS(b);
	rc = bufferevent_rate_limit_group_decrement_write(g, 3500);
	printf("  decrement group write 3500: %d\n", rc);
	GLIMITS();
	LIMITS(c);
	rc = bufferevent_rate_limit_group_decrement_write(g, -600);
	printf("  decrement group write -600: %d\n", rc);
	GLIMITS();
	LIMITS(c);
	bufferevent_rate_limit_group_set_min_share(g, 64);
	struct ev_token_bucket_cfg *gsmall = ev_token_bucket_cfg_new(50, 60, 40, 40, &tick);
	rc = bufferevent_rate_limit_group_set_cfg(g, gsmall);
	printf("  set_cfg smaller: %d\n", rc);
	GLIMITS();
	LIMITS(b);
	printf("  set_cfg NULL: %d\n", bufferevent_rate_limit_group_set_cfg(g, NULL));
	bufferevent_rate_limit_group_get_totals(g, &tr, &tw);
	printf("  totals %llu %llu\n", (unsigned long long)tr, (unsigned long long)tw);
	rc = bufferevent_remove_from_rate_limit_group(b);
	rc2 = bufferevent_remove_from_rate_limit_group(b);
	printf("  remove b: %d, remove b again: %d\n", rc, rc2);
	LIMITS(b);
	bufferevent_remove_from_rate_limit_group(c);
	bufferevent_rate_limit_group_free(g);
	bufferevent_free(b);
	bufferevent_free(c);
	event_base_free(base);
	ev_token_bucket_cfg_free(cfg);
	ev_token_bucket_cfg_free(small);
	ev_token_bucket_cfg_free(gcfg);
	ev_token_bucket_cfg_free(gsmall);
}

/* ---- timed transfers ------------------------------------------------------ */

struct xfer {
	struct bufferevent *w, *r[2];
	uint64_t total, sent, got[2], hash[2], want;
	int readers, done;
};

static void xfer_writecb(struct bufferevent *bev, void *arg)
{
	struct xfer *x = arg;
	unsigned char chunk[16384];
	while (x->sent < x->total &&
	    evbuffer_get_length(bufferevent_get_output(bev)) < 65536) {
		size_t n = sizeof(chunk);
		if (n > x->total - x->sent)
			n = (size_t)(x->total - x->sent);
		gen(chunk, n, x->sent);
		x->sent += n;
		bufferevent_write(bev, chunk, n);
	}
}

static void xfer_readcb(struct bufferevent *bev, void *arg)
{
	struct xfer *x = arg;
	int i = bev == x->r[0] ? 0 : 1;
	unsigned char buf[8192];
	int n;
	while ((n = bufferevent_read(bev, buf, sizeof(buf))) > 0) {
		x->hash[i] = fnv1a(x->hash[i], buf, (size_t)n);
		x->got[i] += (uint64_t)n;
	}
	if (x->got[i] == x->total && ++x->done == x->readers)
		event_base_loopexit(bufferevent_get_base(bev), NULL);
}

/* total bytes to each of `readers` readers. */
static void timed(const char *name, int readers, uint64_t total, size_t rate,
    int group, double expect)
{
	struct event_base *base = event_base_new();
	struct timeval tick = {0, 100000};
	struct ev_token_bucket_cfg *cfg = ev_token_bucket_cfg_new(rate, rate, rate, rate, &tick);
	struct bufferevent_rate_limit_group *g = NULL;
	struct xfer x;
	int fds[2][2];
	memset(&x, 0, sizeof(x));
	x.total = total;
	x.readers = readers;
	x.hash[0] = x.hash[1] = x.want = FNV_INIT;
	if (group)
		g = bufferevent_rate_limit_group_new(base, cfg);
	struct bufferevent *wr[2];
	for (int i = 0; i < readers; i++) {
		socketpair(AF_UNIX, SOCK_STREAM, 0, fds[i]);
		evutil_make_socket_nonblocking(fds[i][0]);
		evutil_make_socket_nonblocking(fds[i][1]);
		wr[i] = bufferevent_socket_new(base, fds[i][0], BEV_OPT_CLOSE_ON_FREE);
		x.r[i] = bufferevent_socket_new(base, fds[i][1], BEV_OPT_CLOSE_ON_FREE);
		bufferevent_setcb(x.r[i], xfer_readcb, NULL, NULL, &x);
		bufferevent_enable(x.r[i], EV_READ);
		if (g)
			bufferevent_add_to_rate_limit_group(x.r[i], g);
	}
	if (!group)
		bufferevent_set_rate_limit(wr[0], cfg);
	/* Every writer sends the same stream. */
	for (int i = 0; i < readers; i++) {
		x.sent = 0;
		x.w = wr[i];
		bufferevent_setcb(wr[i], NULL, xfer_writecb, NULL, &x);
	}
	/* Reader-limited runs: the writers fill up front (no rate on them). */
	double t0 = now_s();
	if (group) {
		for (int i = 0; i < readers; i++) {
			unsigned char *all = malloc(total);
			gen(all, total, 0);
			bufferevent_setcb(wr[i], NULL, NULL, NULL, NULL);
			bufferevent_write(wr[i], all, total);
			free(all);
		}
	} else {
		xfer_writecb(wr[0], &x);
	}
	event_base_dispatch(base);
	double el = now_s() - t0;
	{
		unsigned char chunk[16384];
		for (uint64_t off = 0; off < total; off += sizeof(chunk)) {
			size_t n = sizeof(chunk);
			if (n > total - off)
				n = (size_t)(total - off);
			gen(chunk, n, off);
			x.want = fnv1a(x.want, chunk, n);
		}
	}
	printf("%s:", name);
	for (int i = 0; i < readers; i++)
		printf(" reader %d got %llu hash %s;", i, (unsigned long long)x.got[i],
		    x.hash[i] == x.want ? "match" : "DIFFERS");
	printf(" elapsed >= expected: %s\n", el >= expect ? "yes" : "no");
	if (el < expect)
		fprintf(stderr, "%s: %.3fs, expected at least %.3fs\n", name, el, expect);
	if (g) {
		ev_uint64_t tr, tw;
		bufferevent_rate_limit_group_get_totals(g, &tr, &tw);
		printf("  group totals: read %llu written %llu\n", (unsigned long long)tr,
		    (unsigned long long)tw);
		bufferevent_rate_limit_group_reset_totals(g);
		bufferevent_rate_limit_group_get_totals(g, &tr, &tw);
		printf("  after reset: %llu %llu\n", (unsigned long long)tr, (unsigned long long)tw);
	}
	for (int i = 0; i < readers; i++) {
		/* A freed member leaves its group only when it is finalized:
		 * take it out first, or the group cannot be freed yet. */
		if (g)
			bufferevent_remove_from_rate_limit_group(x.r[i]);
		bufferevent_free(wr[i]);
		bufferevent_free(x.r[i]);
	}
	if (g)
		bufferevent_rate_limit_group_free(g);
	event_base_free(base);
	ev_token_bucket_cfg_free(cfg);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	api();
	/* 640 KiB at 64 KiB per 100 ms tick: the first 64 KiB go at once, the
	 * rest needs nine refills; allow for two early ones. */
	timed("limited writer", 1, 640 * 1024, 64 * 1024, 0, 0.7);
	/* Two readers of 256 KiB sharing 64 KiB per tick: 512 KiB, seven
	 * refills at least; again allow for two early ones. */
	timed("group of two readers", 2, 256 * 1024, 64 * 1024, 1, 0.5);
	return 0;
}
