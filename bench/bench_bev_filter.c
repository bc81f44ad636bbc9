/*
 * bench_bev_filter: filter bufferevents, libevent vs goevent.
 *
 * 1 GiB (at BENCH_SCALE=1) through an identity filter on each end of a
 * socketpair: the writer writes 64 KiB chunks to its filter, whose output
 * filter (a C function: the user-callback path) moves them to the socket
 * bufferevent; the reader's input filter moves what the socket read up to
 * the reader, which checks every byte against the reference stream. The
 * same transfer with libevent's built-in null filters (NULL callbacks)
 * shows the cost of calling a user filter.
 */
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#include "bench.h"

#define CHUNK (64 * 1024)

static long filter_calls;

static enum bufferevent_filter_result
identity(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t lim,
    enum bufferevent_flush_mode mode, void *ctx)
{
	(void)mode;
	(void)ctx;
	filter_calls++;
	if (evbuffer_get_length(src) == 0)
		return BEV_NEED_MORE;
	return evbuffer_remove_buffer(src, dst, lim < 0 ? evbuffer_get_length(src) : (size_t)lim) < 0 ?
	    BEV_ERROR : BEV_OK;
}

struct bulk {
	uint64_t total, sent, got;
};

static void
writecb(struct bufferevent *bev, void *arg)
{
	struct bulk *b = arg;

	while (b->sent < b->total &&
	    evbuffer_get_length(bufferevent_get_output(bev)) < 4 * CHUNK) {
		size_t n = CHUNK;

		if (n > b->total - b->sent)
			n = (size_t)(b->total - b->sent);
		/* Count first: a filter's write callback may run again inside
		 * this write. */
		b->sent += n;
		BENCH_CHECK(bufferevent_write(bev, bench_stream_at(b->sent - n), n) == 0,
		    "bufferevent_write failed");
	}
}

static void
readcb(struct bufferevent *bev, void *arg)
{
	struct bulk *b = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_iovec v[16];

	/* Everything that is there: one callback may follow many chunks. */
	while (evbuffer_get_length(in) > 0) {
		int i, n = evbuffer_peek(in, -1, NULL, v, 16);
		size_t len = 0;

		if (n > 16)
			n = 16;
		for (i = 0; i < n; i++) {
			bench_stream_verify(v[i].iov_base, v[i].iov_len, b->got + len, "filter bulk");
			len += v[i].iov_len;
		}
		evbuffer_drain(in, len);
		b->got += len;
	}
	if (b->got == b->total)
		event_base_loopbreak(bufferevent_get_base(bev));
}

static double
filter_bulk(long mib, bufferevent_filter_cb f)
{
	struct event_base *base = event_base_new();
	struct bulk b = {0};
	int fds[2];
	uint64_t t0, t1;

	BENCH_CHECK(base != NULL, "event_base_new failed");
	BENCH_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0, "socketpair failed");
	evutil_make_socket_nonblocking(fds[0]);
	evutil_make_socket_nonblocking(fds[1]);
	struct bufferevent *s0 = bufferevent_socket_new(base, fds[0], BEV_OPT_CLOSE_ON_FREE);
	struct bufferevent *s1 = bufferevent_socket_new(base, fds[1], BEV_OPT_CLOSE_ON_FREE);
	struct bufferevent *w = bufferevent_filter_new(s0, f, f, BEV_OPT_CLOSE_ON_FREE, NULL, NULL);
	struct bufferevent *r = bufferevent_filter_new(s1, f, f, BEV_OPT_CLOSE_ON_FREE, NULL, NULL);
	BENCH_CHECK(s0 && s1 && w && r, "bufferevent setup failed");
	b.total = (uint64_t)mib * BENCH_MiB;
	bufferevent_setcb(w, NULL, writecb, NULL, &b);
	bufferevent_setcb(r, readcb, NULL, NULL, &b);
	/* Keep the socket's output bounded, so the writer refills as the
	 * kernel drains it. */
	bufferevent_setwatermark(s0, EV_WRITE, 0, 4 * CHUNK);
	bufferevent_enable(r, EV_READ);
	t0 = bench_now_ns();
	writecb(w, &b);
	event_base_dispatch(base);
	t1 = bench_now_ns();
	BENCH_CHECK(b.got == b.total, "got %llu of %llu bytes",
	    (unsigned long long)b.got, (unsigned long long)b.total);
	bufferevent_free(w);
	bufferevent_free(r);
	event_base_free(base);
	return bench_mb_per_s(b.total, t1 - t0);
}

static double
identity_bulk(long mib)
{
	double v = filter_bulk(mib, identity);

	BENCH_CHECK(filter_calls > 0, "the identity filter never ran");
	return v;
}

static double
null_bulk(long mib)
{
	return filter_bulk(mib, NULL);
}

static const struct bench_case cases[] = {
	{"filter_identity_socketpair_1GiB", "MB/s", identity_bulk, 1024},
	{"filter_null_socketpair_1GiB", "MB/s", null_bulk, 1024},
};

int
main(int argc, char **argv)
{
	return bench_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
