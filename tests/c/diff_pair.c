/*
 * diff_pair: bufferevent pairs.
 *
 * Bulk transfers between the two ends (FNV-1a hash on the receiving side,
 * watermark promises checked on every callback), with and without
 * BEV_OPT_THREADSAFE; partner lookup; what enable/disable, watermarks and
 * the three flush modes move and report, step by step with small data;
 * and what the partner sees when one end is freed. Only results that
 * libevent defines are printed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/thread.h>
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

static void fill(unsigned char *p, size_t n, uint64_t off)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t x = off + i;
		p[i] = (unsigned char)(x * 131 + (x >> 9));
	}
}

/* ---- bulk ------------------------------------------------------------- */

struct bulk {
	struct bufferevent *w, *r;
	uint64_t total, sent, got, hash;
	size_t rhigh, rlow, wlow;
	int bad_high, bad_low, bad_wlow, writes_done;
};

static void bulk_fill(struct bulk *b)
{
	unsigned char chunk[8192];
	struct evbuffer *out = bufferevent_get_output(b->w);
	while (b->sent < b->total && evbuffer_get_length(out) < 65536) {
		size_t n = sizeof(chunk);
		if (n > b->total - b->sent)
			n = (size_t)(b->total - b->sent);
		fill(chunk, n, b->sent);
		bufferevent_write(b->w, chunk, n);
		b->sent += n;
	}
}

static void bulk_writecb(struct bufferevent *bev, void *arg)
{
	struct bulk *b = arg;
	if (evbuffer_get_length(bufferevent_get_output(bev)) > b->wlow)
		b->bad_wlow++;
	if (b->sent < b->total)
		bulk_fill(b);
	else if (!b->writes_done) {
		b->writes_done = 1;
		bufferevent_flush(bev, EV_WRITE, BEV_FINISHED);
	}
}

static void bulk_readcb(struct bufferevent *bev, void *arg)
{
	struct bulk *b = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len = evbuffer_get_length(in);
	unsigned char buf[4096];
	if (b->rhigh && len > b->rhigh)
		b->bad_high++;
	if (len < b->rlow)
		b->bad_low++;
	/* Take about half: the rest must still arrive later. */
	size_t want = len / 2 + 1;
	while (want > 0) {
		size_t n = want < sizeof(buf) ? want : sizeof(buf);
		int r = evbuffer_remove(in, buf, n);
		if (r <= 0)
			break;
		b->hash = fnv1a(b->hash, buf, (size_t)r);
		b->got += (uint64_t)r;
		want -= (size_t)r;
	}
}

static void bulk_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct bulk *b = arg;
	unsigned char buf[4096];
	int r;
	printf("  reader event 0x%x\n", what);
	while ((r = bufferevent_read(bev, buf, sizeof(buf))) > 0) {
		b->hash = fnv1a(b->hash, buf, (size_t)r);
		b->got += (uint64_t)r;
	}
}

static void bulk(const char *name, int options, uint64_t total, size_t rlow,
    size_t rhigh, size_t wlow)
{
	struct event_base *base = event_base_new();
	struct bufferevent *pair[2];
	struct bulk b;
	memset(&b, 0, sizeof(b));
	b.total = total;
	b.hash = FNV_INIT;
	b.rlow = rlow;
	b.rhigh = rhigh;
	b.wlow = wlow;
	if (bufferevent_pair_new(base, options, pair) < 0) {
		printf("%s: pair_new failed\n", name);
		return;
	}
	b.w = pair[0];
	b.r = pair[1];
	printf("%s: partner lookup %s %s\n", name,
	    bufferevent_pair_get_partner(b.w) == b.r ? "ok" : "WRONG",
	    bufferevent_pair_get_partner(b.r) == b.w ? "ok" : "WRONG");
	bufferevent_setcb(b.w, NULL, bulk_writecb, NULL, &b);
	bufferevent_setcb(b.r, bulk_readcb, NULL, bulk_eventcb, &b);
	bufferevent_setwatermark(b.r, EV_READ, rlow, rhigh);
	bufferevent_setwatermark(b.w, EV_WRITE, wlow, 0);
	bufferevent_enable(b.r, EV_READ);
	bulk_fill(&b);
	event_base_dispatch(base);
	uint64_t expect = FNV_INIT;
	{
		unsigned char chunk[8192];
		for (uint64_t off = 0; off < total; off += sizeof(chunk)) {
			size_t n = sizeof(chunk);
			if (n > total - off)
				n = (size_t)(total - off);
			fill(chunk, n, off);
			expect = fnv1a(expect, chunk, n);
		}
	}
	printf("%s: sent %llu got %llu hash %s; over high %d, under low %d, "
	    "write cb over low %d\n", name, (unsigned long long)b.sent,
	    (unsigned long long)b.got, b.hash == expect ? "match" : "DIFFERS",
	    b.bad_high, b.bad_low, b.bad_wlow);
	bufferevent_free(b.w);
	bufferevent_free(b.r);
	event_base_free(base);
}

/* ---- step by step --------------------------------------------------------- */

static const char *names[2] = {"A", "B"};
static struct bufferevent *ends[2];

static const char *who(struct bufferevent *bev)
{
	return bev == ends[0] ? names[0] : bev == ends[1] ? names[1] : "?";
}

/* Bytes the read callback takes each time. A read callback that leaves
 * the input at the high watermark is called again and again (libevent
 * re-triggers it), so the watermark steps always take something. */
static size_t take_in_cb;

static void step_readcb(struct bufferevent *bev, void *arg)
{
	(void)arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	printf("    %s read cb: input %zu\n", who(bev), evbuffer_get_length(in));
	evbuffer_drain(in, take_in_cb);
}

static void step_writecb(struct bufferevent *bev, void *arg)
{
	(void)arg;
	printf("    %s write cb: output %zu\n", who(bev),
	    evbuffer_get_length(bufferevent_get_output(bev)));
}

static void step_eventcb(struct bufferevent *bev, short what, void *arg)
{
	(void)arg;
	printf("    %s event 0x%x\n", who(bev), what);
}

static void show(struct event_base *base, const char *what)
{
	printf("  %s\n", what);
	event_base_loop(base, EVLOOP_NONBLOCK);
	event_base_loop(base, EVLOOP_NONBLOCK);
	for (int i = 0; i < 2; i++)
		if (ends[i])
			printf("    %s: in %zu out %zu enabled 0x%x\n", names[i],
			    evbuffer_get_length(bufferevent_get_input(ends[i])),
			    evbuffer_get_length(bufferevent_get_output(ends[i])),
			    bufferevent_get_enabled(ends[i]));
}

static void drain(struct bufferevent *bev, size_t n)
{
	evbuffer_drain(bufferevent_get_input(bev), n);
}

static void steps(void)
{
	struct event_base *base = event_base_new();
	printf("steps:\n");
	bufferevent_pair_new(base, 0, ends);
	for (int i = 0; i < 2; i++)
		bufferevent_setcb(ends[i], step_readcb, step_writecb, step_eventcb, NULL);
	show(base, "new pair");
	bufferevent_write(ends[0], "0123456789", 10);
	printf("  in B right after A's write: %zu (B does not read yet)\n",
	    evbuffer_get_length(bufferevent_get_input(ends[1])));
	show(base, "A wrote 10");
	take_in_cb = 3;
	bufferevent_setwatermark(ends[1], EV_READ, 2, 4);
	bufferevent_enable(ends[1], EV_READ);
	show(base, "B reads, watermarks 2..4, read cb takes 3");
	take_in_cb = 0;
	bufferevent_disable(ends[1], EV_READ);
	drain(ends[1], 4);
	bufferevent_setwatermark(ends[1], EV_READ, 0, 4);
	bufferevent_write(ends[0], "abc", 3);
	show(base, "B stopped reading and drained, A wrote 3");
	printf("  flush normal: %d\n", bufferevent_flush(ends[0], EV_WRITE, BEV_NORMAL));
	show(base, "after normal flush");
	printf("  flush: %d\n", bufferevent_flush(ends[0], EV_WRITE, BEV_FLUSH));
	show(base, "after BEV_FLUSH");
	printf("  flush: %d\n", bufferevent_flush(ends[0], EV_WRITE, BEV_FLUSH));
	show(base, "after a second BEV_FLUSH");
	printf("  finished write: %d\n", bufferevent_flush(ends[0], EV_WRITE, BEV_FINISHED));
	show(base, "after BEV_FINISHED on A's writing");
	printf("  finished read: %d\n", bufferevent_flush(ends[0], EV_READ, BEV_FINISHED));
	show(base, "after BEV_FINISHED on A's reading");
	printf("  finished both: %d\n", bufferevent_flush(ends[1], EV_READ | EV_WRITE, BEV_FINISHED));
	show(base, "after BEV_FINISHED on both of B's directions");
	bufferevent_setwatermark(ends[1], EV_READ, 0, 0);
	drain(ends[1], 100);
	bufferevent_enable(ends[1], EV_READ);
	bufferevent_enable(ends[0], EV_READ);
	bufferevent_write(ends[1], "xy", 2);
	show(base, "B wrote 2, both read");
	bufferevent_disable(ends[0], EV_WRITE);
	bufferevent_write(ends[0], "zz", 2);
	show(base, "A stopped writing and wrote 2");
	bufferevent_enable(ends[0], EV_WRITE);
	show(base, "A writes again");
	bufferevent_free(ends[0]);
	ends[0] = NULL;
	show(base, "A freed");
	printf("  B's partner: %s\n", bufferevent_pair_get_partner(ends[1]) ? "set" : "NULL");
	printf("  underlying of a pair end: %s\n",
	    bufferevent_get_underlying(ends[1]) ? "set" : "NULL");
	printf("  flush without partner: %d\n", bufferevent_flush(ends[1], EV_WRITE, BEV_FINISHED));
	printf("  write without partner: %d\n", bufferevent_write(ends[1], "q", 1));
	show(base, "B wrote to nobody");
	bufferevent_free(ends[1]);
	ends[1] = NULL;

	/* A socket bufferevent is nobody's partner. */
	int fds[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, fds);
	struct bufferevent *s = bufferevent_socket_new(base, fds[0], BEV_OPT_CLOSE_ON_FREE);
	printf("  partner of a socket bufferevent: %s\n",
	    bufferevent_pair_get_partner(s) ? "set" : "NULL");
	bufferevent_free(s);
	close(fds[1]);
	event_base_free(base);
}

/* Freeing an end from inside its partner's read callback. */
static struct bufferevent *victim;
static void free_partner_cb(struct bufferevent *bev, void *arg)
{
	(void)arg;
	printf("  read cb with %zu bytes frees its partner\n",
	    evbuffer_get_length(bufferevent_get_input(bev)));
	if (victim) {
		bufferevent_free(victim);
		victim = NULL;
	}
}

static void free_inside(void)
{
	struct event_base *base = event_base_new();
	struct bufferevent *p[2];
	printf("free inside a callback:\n");
	bufferevent_pair_new(base, BEV_OPT_CLOSE_ON_FREE, p);
	bufferevent_setcb(p[1], free_partner_cb, NULL, step_eventcb, NULL);
	bufferevent_enable(p[1], EV_READ);
	victim = p[0];
	bufferevent_write(p[0], "hello", 5);
	event_base_dispatch(base);
	printf("  partner after: %s\n", bufferevent_pair_get_partner(p[1]) ? "set" : "NULL");
	bufferevent_free(p[1]);
	event_base_free(base);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	bulk("plain", 0, 8u << 20, 0, 0, 0);
	bulk("watermarks", 0, 3u << 20, 100, 20000, 4096);
	bulk("odd sizes", BEV_OPT_CLOSE_ON_FREE, 1000003, 1, 4097, 7);
	evthread_use_pthreads();
	bulk("threadsafe", BEV_OPT_THREADSAFE, 4u << 20, 0, 65536, 0);
	bulk("threadsafe, unlocked callbacks",
	    BEV_OPT_THREADSAFE | BEV_OPT_DEFER_CALLBACKS | BEV_OPT_UNLOCK_CALLBACKS,
	    2u << 20, 10, 0, 0);
	steps();
	free_inside();
	return 0;
}
