/*
 * diff_filter: filter bufferevents.
 *
 * Over a pair (so every step is deterministic) and over a socketpair:
 *   - an input filter that needs four bytes before it emits
 *     (BEV_NEED_MORE), flushed with BEV_FLUSH and BEV_FINISHED;
 *   - an output filter that transforms bytes and honours dst_limit;
 *   - a filter stacked on a filter, with flushes and events reaching
 *     through both layers;
 *   - watermarks on the filter and on the underlying bufferevent;
 *   - free_context, BEV_OPT_CLOSE_ON_FREE and what the underlying looks
 *     like after its filter goes;
 *   - multi-megabyte transfers through filters over a socketpair, checked
 *     with an FNV-1a hash.
 */
#include <ctype.h>
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

static const char *mode_name(enum bufferevent_flush_mode m)
{
	return m == BEV_NORMAL ? "normal" : m == BEV_FLUSH ? "flush" :
	    m == BEV_FINISHED ? "finished" : "?";
}

static int trace_filters = 1;

/* Emits whole groups of four bytes; everything when flushing. */
static enum bufferevent_filter_result
fours(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t lim,
    enum bufferevent_flush_mode mode, void *ctx)
{
	(void)ctx;
	size_t n = evbuffer_get_length(src);
	if (mode == BEV_NORMAL)
		n -= n % 4;
	if (lim >= 0 && n > (size_t)lim)
		n = (size_t)lim;
	if (trace_filters)
		printf("      fours(%zu, lim %ld, %s) -> %zu\n",
		    evbuffer_get_length(src), (long)lim, mode_name(mode), n);
	if (n == 0)
		return BEV_NEED_MORE;
	evbuffer_remove_buffer(src, dst, n);
	return BEV_OK;
}

static int upper_calls;

/* Upper-cases up to lim bytes; a '!' makes it fail. */
static enum bufferevent_filter_result
upper(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t lim,
    enum bufferevent_flush_mode mode, void *ctx)
{
	(void)ctx;
	char buf[256];
	size_t n = evbuffer_get_length(src);
	if (lim >= 0 && n > (size_t)lim)
		n = (size_t)lim;
	if (n > sizeof(buf))
		n = sizeof(buf);
	upper_calls++;
	if (trace_filters)
		printf("      upper(%zu, lim %ld, %s) -> %zu\n",
		    evbuffer_get_length(src), (long)lim, mode_name(mode), n);
	evbuffer_copyout(src, buf, n);
	if (memchr(buf, '!', n))
		return BEV_ERROR;
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)toupper((unsigned char)buf[i]);
	evbuffer_drain(src, n);
	evbuffer_add(dst, buf, n);
	return BEV_OK;
}

/* ---- tracing callbacks ---------------------------------------------------- */

#define NB 5
static struct bufferevent *bevs[NB];
static const char *bnames[NB] = {"A", "B", "F", "G", "S"};

static const char *who(struct bufferevent *bev)
{
	for (int i = 0; i < NB; i++)
		if (bevs[i] == bev)
			return bnames[i];
	return "?";
}

static void t_readcb(struct bufferevent *bev, void *arg)
{
	(void)arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char buf[128];
	size_t n = evbuffer_get_length(in);
	if (n > sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	evbuffer_remove(in, buf, n);
	buf[n] = 0;
	printf("    %s read cb: \"%s\"\n", who(bev), buf);
}

static void t_writecb(struct bufferevent *bev, void *arg)
{
	(void)arg;
	printf("    %s write cb: output %zu\n", who(bev),
	    evbuffer_get_length(bufferevent_get_output(bev)));
}

static void t_eventcb(struct bufferevent *bev, short what, void *arg)
{
	(void)arg;
	printf("    %s event 0x%x\n", who(bev), what);
}

static void show(struct event_base *base, const char *what)
{
	printf("  %s\n", what);
	for (int k = 0; k < 3; k++)
		event_base_loop(base, EVLOOP_NONBLOCK);
	for (int i = 0; i < NB; i++)
		if (bevs[i])
			printf("    %s: in %zu out %zu\n", bnames[i],
			    evbuffer_get_length(bufferevent_get_input(bevs[i])),
			    evbuffer_get_length(bufferevent_get_output(bevs[i])));
}

static int freed_ctx;
static void free_ctx(void *ctx)
{
	freed_ctx++;
	printf("    free_context(%s)\n", (const char *)ctx);
}

/* ---- one filter over a pair ----------------------------------------------- */

static void need_more(void)
{
	struct event_base *base = event_base_new();
	upper_calls = 0;
	printf("need more:\n");
	printf("  filter_new(NULL): %s\n",
	    bufferevent_filter_new(NULL, NULL, NULL, 0, NULL, NULL) ? "bev" : "NULL");
	bufferevent_pair_new(base, 0, bevs);
	bevs[2] = bufferevent_filter_new(bevs[0], fours, upper, 0, free_ctx, "F");
	printf("  underlying of F is A: %s; of A: %s\n",
	    bufferevent_get_underlying(bevs[2]) == bevs[0] ? "yes" : "no",
	    bufferevent_get_underlying(bevs[0]) ? "set" : "NULL");
	printf("  A enabled 0x%x after filter_new, F 0x%x\n",
	    bufferevent_get_enabled(bevs[0]), bufferevent_get_enabled(bevs[2]));
	bufferevent_setcb(bevs[1], t_readcb, t_writecb, t_eventcb, NULL);
	bufferevent_setcb(bevs[2], t_readcb, t_writecb, t_eventcb, NULL);
	bufferevent_enable(bevs[1], EV_READ);
	show(base, "new (F not reading)");
	bufferevent_write(bevs[1], "123456", 6);
	show(base, "B wrote 6");
	bufferevent_enable(bevs[2], EV_READ);
	show(base, "F reads");
	bufferevent_write(bevs[1], "78", 2);
	show(base, "B wrote 2");
	bufferevent_write(bevs[1], "9", 1);
	show(base, "B wrote 1");
	printf("  flush F read normal: %d\n", bufferevent_flush(bevs[2], EV_READ, BEV_NORMAL));
	show(base, "after");
	printf("  flush F read flush: %d\n", bufferevent_flush(bevs[2], EV_READ, BEV_FLUSH));
	show(base, "after");
	printf("  flush F read flush again: %d\n", bufferevent_flush(bevs[2], EV_READ, BEV_FLUSH));
	show(base, "after");
	bufferevent_write(bevs[2], "hello there", 11);
	show(base, "F wrote 11");
	bufferevent_setwatermark(bevs[0], EV_WRITE, 0, 4);
	bufferevent_disable(bevs[1], EV_READ);
	bufferevent_write(bevs[2], "abcdefghij", 10);
	show(base, "A's write high mark 4, B not reading, F wrote 10");
	bufferevent_enable(bevs[1], EV_READ);
	show(base, "B reads again");
	printf("  flush F write finished: %d\n", bufferevent_flush(bevs[2], EV_WRITE, BEV_FINISHED));
	show(base, "after");
	bufferevent_setwatermark(bevs[0], EV_WRITE, 0, 0);
	bufferevent_write(bevs[2], "bad!data", 8);
	show(base, "F wrote 8 with a '!' (the filter fails)");
	bufferevent_disable(bevs[2], EV_READ);
	bufferevent_write(bevs[1], "wxyz", 4);
	show(base, "F stopped reading, B wrote 4");
	bufferevent_enable(bevs[2], EV_READ);
	show(base, "F reads again");
	bufferevent_flush(bevs[1], EV_WRITE, BEV_FINISHED);
	show(base, "B finished writing");
	printf("  upper ran %d times\n", upper_calls);
	bufferevent_free(bevs[2]);
	bevs[2] = NULL;
	show(base, "F freed (no CLOSE_ON_FREE)");
	bufferevent_data_cb rcb;
	bufferevent_event_cb ecb;
	bufferevent_getcb(bevs[0], &rcb, NULL, &ecb, NULL);
	printf("  A after: callbacks %s, partner %s, enabled 0x%x\n",
	    rcb || ecb ? "set" : "cleared",
	    bufferevent_pair_get_partner(bevs[0]) ? "set" : "NULL",
	    bufferevent_get_enabled(bevs[0]));
	bufferevent_setcb(bevs[0], t_readcb, NULL, NULL, NULL);
	bufferevent_write(bevs[1], "direct", 6);
	show(base, "B wrote 6 to A directly");
	bufferevent_free(bevs[0]);
	bufferevent_free(bevs[1]);
	bevs[0] = bevs[1] = NULL;
	event_base_free(base);
}

/* ---- stacked filters -------------------------------------------------------- */

static void stacked(void)
{
	struct event_base *base = event_base_new();
	printf("stacked:\n");
	freed_ctx = 0;
	bufferevent_pair_new(base, 0, bevs);
	bevs[2] = bufferevent_filter_new(bevs[0], NULL, fours, BEV_OPT_CLOSE_ON_FREE,
	    free_ctx, "F");
	bevs[3] = bufferevent_filter_new(bevs[2], fours, upper, BEV_OPT_CLOSE_ON_FREE,
	    free_ctx, "G");
	printf("  G over F over A: %s %s\n",
	    bufferevent_get_underlying(bevs[3]) == bevs[2] ? "yes" : "no",
	    bufferevent_get_underlying(bevs[2]) == bevs[0] ? "yes" : "no");
	bufferevent_setcb(bevs[1], t_readcb, t_writecb, t_eventcb, NULL);
	bufferevent_setcb(bevs[3], t_readcb, t_writecb, t_eventcb, NULL);
	bufferevent_enable(bevs[1], EV_READ);
	bufferevent_enable(bevs[3], EV_READ);
	bufferevent_write(bevs[3], "stacked", 7);
	show(base, "G wrote 7");
	printf("  flush G write flush: %d\n", bufferevent_flush(bevs[3], EV_WRITE, BEV_FLUSH));
	show(base, "after");
	printf("  flush G write finished: %d\n", bufferevent_flush(bevs[3], EV_WRITE, BEV_FINISHED));
	show(base, "after");
	bufferevent_write(bevs[1], "abcdefg", 7);
	show(base, "B wrote 7");
	printf("  flush G read finished: %d\n", bufferevent_flush(bevs[3], EV_READ, BEV_FINISHED));
	show(base, "after");
	bufferevent_write(bevs[1], "xyz", 3);
	bufferevent_flush(bevs[1], EV_WRITE, BEV_FINISHED);
	show(base, "B wrote 3 and finished");
	bufferevent_free(bevs[3]);
	/* G's CLOSE_ON_FREE frees F, and F's frees A: none may be read again
	 * (the loop runs the deferred frees inside show). */
	bevs[3] = bevs[2] = bevs[0] = NULL;
	show(base, "G freed (CLOSE_ON_FREE all the way)");
	printf("  contexts freed %d; B's partner %s\n", freed_ctx,
	    bufferevent_pair_get_partner(bevs[1]) ? "set" : "NULL");
	bufferevent_free(bevs[1]);
	bevs[1] = NULL;
	event_base_free(base);
}

/* ---- watermarks on the filter ---------------------------------------------- */

static size_t take_each;
static void take_readcb(struct bufferevent *bev, void *arg)
{
	(void)arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	printf("    %s read cb: input %zu, takes %zu\n", who(bev),
	    evbuffer_get_length(in), take_each);
	evbuffer_drain(in, take_each);
}

static void filter_marks(int options)
{
	struct event_base *base = event_base_new();
	printf("filter watermarks, options 0x%x:\n", options);
	bufferevent_pair_new(base, 0, bevs);
	bevs[2] = bufferevent_filter_new(bevs[0], NULL, NULL, options, NULL, NULL);
	bufferevent_setcb(bevs[2], take_readcb, NULL, t_eventcb, NULL);
	bufferevent_setwatermark(bevs[2], EV_READ, 0, 10);
	bufferevent_enable(bevs[2], EV_READ);
	take_each = 3;
	bufferevent_write(bevs[1], "0123456789abcdefghijklmnopqrstuvwxyz", 36);
	show(base, "B wrote 36; F's high mark 10, read cb takes 3");
	take_each = 100;
	evbuffer_drain(bufferevent_get_input(bevs[2]), 100);
	show(base, "user drained F");
	bufferevent_write(bevs[1], "more", 4);
	show(base, "B wrote 4 more, read cb takes all");
	bufferevent_free(bevs[2]);
	bufferevent_free(bevs[0]);
	bufferevent_free(bevs[1]);
	bevs[0] = bevs[1] = bevs[2] = NULL;
	event_base_free(base);
}

/* ---- bulk over a socketpair ----------------------------------------------------- */

/* XORs every byte with ctx's key: its own inverse. */
static enum bufferevent_filter_result
xorf(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t lim,
    enum bufferevent_flush_mode mode, void *ctx)
{
	(void)mode;
	unsigned char key = *(unsigned char *)ctx;
	struct evbuffer_iovec v[2];
	size_t n = evbuffer_get_length(src);
	if (lim >= 0 && n > (size_t)lim)
		n = (size_t)lim;
	if (n > 4096)
		n = 4096;
	if (n == 0)
		return BEV_NEED_MORE;
	if (evbuffer_reserve_space(dst, n, v, 1) < 1)
		return BEV_ERROR;
	evbuffer_remove(src, v[0].iov_base, n);
	for (size_t i = 0; i < n; i++)
		((unsigned char *)v[0].iov_base)[i] ^= key;
	v[0].iov_len = n;
	evbuffer_commit_space(dst, v, 1);
	return BEV_OK;
}

struct bulk {
	struct bufferevent *w, *r;
	uint64_t total, sent, got, hash, want;
};

static void gen(unsigned char *p, size_t n, uint64_t off)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)((off + i) * 2654435761u >> 13);
}

static void bulk_writecb(struct bufferevent *bev, void *arg)
{
	struct bulk *b = arg;
	unsigned char chunk[16384];
	while (b->sent < b->total &&
	    evbuffer_get_length(bufferevent_get_output(bev)) < 65536) {
		size_t n = sizeof(chunk);
		if (n > b->total - b->sent)
			n = (size_t)(b->total - b->sent);
		gen(chunk, n, b->sent);
		b->want = fnv1a(b->want, chunk, n);
		/* The write below may run this callback again at once (a
		 * filter's write callback is not deferred): account first. */
		b->sent += n;
		bufferevent_write(bev, chunk, n);
	}
}

static void bulk_readcb(struct bufferevent *bev, void *arg)
{
	struct bulk *b = arg;
	unsigned char buf[8192];
	int n;
	while ((n = bufferevent_read(bev, buf, sizeof(buf))) > 0) {
		b->hash = fnv1a(b->hash, buf, (size_t)n);
		b->got += (uint64_t)n;
	}
	if (b->got == b->total)
		event_base_loopexit(bufferevent_get_base(bev), NULL);
}

static void bulk(const char *name, int layers, int options, uint64_t total)
{
	struct event_base *base = event_base_new();
	int fds[2];
	unsigned char k1 = 0x5a, k2 = 0xc3;
	struct bulk b;
	memset(&b, 0, sizeof(b));
	b.total = total;
	b.hash = b.want = FNV_INIT;
	socketpair(AF_UNIX, SOCK_STREAM, 0, fds);
	evutil_make_socket_nonblocking(fds[0]);
	evutil_make_socket_nonblocking(fds[1]);
	struct bufferevent *s0 = bufferevent_socket_new(base, fds[0], BEV_OPT_CLOSE_ON_FREE | options);
	struct bufferevent *s1 = bufferevent_socket_new(base, fds[1], BEV_OPT_CLOSE_ON_FREE | options);
	b.w = s0;
	b.r = s1;
	for (int i = 0; i < layers; i++) {
		unsigned char *k = i ? &k2 : &k1;
		b.w = bufferevent_filter_new(b.w, xorf, xorf, BEV_OPT_CLOSE_ON_FREE | options, NULL, k);
		b.r = bufferevent_filter_new(b.r, xorf, xorf, BEV_OPT_CLOSE_ON_FREE | options, NULL, k);
	}
	bufferevent_setcb(b.w, NULL, bulk_writecb, NULL, &b);
	bufferevent_setcb(b.r, bulk_readcb, NULL, NULL, &b);
	bufferevent_setwatermark(b.r, EV_READ, 0, 100000);
	bufferevent_enable(b.r, EV_READ);
	bulk_writecb(b.w, &b);
	event_base_dispatch(base);
	printf("%s: sent %llu got %llu hash %s\n", name, (unsigned long long)b.sent,
	    (unsigned long long)b.got, b.hash == b.want ? "match" : "DIFFERS");
	bufferevent_free(b.w);
	bufferevent_free(b.r);
	event_base_dispatch(base);
	event_base_free(base);
}

/* A transformed stream on the wire: F xors, the raw peer sees the result. */
static void on_the_wire(void)
{
	struct event_base *base = event_base_new();
	int fds[2];
	unsigned char key = 0x20;
	printf("on the wire:\n");
	socketpair(AF_UNIX, SOCK_STREAM, 0, fds);
	evutil_make_socket_nonblocking(fds[0]);
	evutil_make_socket_nonblocking(fds[1]);
	bevs[4] = bufferevent_socket_new(base, fds[0], BEV_OPT_CLOSE_ON_FREE);
	bevs[2] = bufferevent_filter_new(bevs[4], xorf, xorf, BEV_OPT_CLOSE_ON_FREE, NULL, &key);
	printf("  F's fd is S's: %s\n", bufferevent_getfd(bevs[2]) == fds[0] ? "yes" : "no");
	bufferevent_setcb(bevs[2], t_readcb, NULL, t_eventcb, NULL);
	bufferevent_enable(bevs[2], EV_READ);
	bufferevent_write(bevs[2], "hello", 5);
	show(base, "F wrote hello");
	char buf[16] = {0};
	ssize_t n = read(fds[1], buf, sizeof(buf) - 1);
	printf("  the peer read %zd bytes: \"%s\"\n", n, buf);
	write(fds[1], "WORLD", 5);
	show(base, "the peer wrote WORLD");
	close(fds[1]);
	show(base, "the peer closed");
	bufferevent_free(bevs[2]);
	bevs[2] = bevs[4] = NULL;
	event_base_free(base);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	need_more();
	stacked();
	filter_marks(0);
	filter_marks(BEV_OPT_DEFER_CALLBACKS);
	on_the_wire();
	trace_filters = 0;
	bulk("one filter", 1, 0, 4u << 20);
	bulk("two filters", 2, 0, 3u << 20);
	bulk("two filters, deferred", 2, BEV_OPT_DEFER_CALLBACKS, 2u << 20);
	evthread_use_pthreads();
	bulk("two filters, threadsafe", 2, BEV_OPT_THREADSAFE, 2u << 20);
	return 0;
}
