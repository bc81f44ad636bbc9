/*
 * bench_bev_pair: bufferevent pairs, libevent vs goevent.
 *
 * Bulk: 1 GiB (at BENCH_SCALE=1) from one end of a pair to the other in
 * 64 KiB writes, the writer refilling from its write callback and the
 * reader checking every byte against the reference stream. Data changes
 * sides by moving chains, so this measures the pair's and the deferred
 * callbacks' overhead per chunk plus one copy in (bufferevent_write).
 * Ping-pong: a 32-byte message bounced between the ends, one round trip
 * per operation (two deferred read callbacks and two writes).
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "bench.h"

#define CHUNK (64 * 1024)

struct bulk {
	struct bufferevent *w, *r;
	uint64_t total, sent, got;
};

static void
bulk_writecb(struct bufferevent *bev, void *arg)
{
	struct bulk *b = arg;

	while (b->sent < b->total &&
	    evbuffer_get_length(bufferevent_get_output(bev)) < 4 * CHUNK) {
		size_t n = CHUNK;

		if (n > b->total - b->sent)
			n = (size_t)(b->total - b->sent);
		BENCH_CHECK(bufferevent_write(bev, bench_stream_at(b->sent), n) == 0,
		    "bufferevent_write failed");
		b->sent += n;
	}
}

static void
bulk_readcb(struct bufferevent *bev, void *arg)
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
			bench_stream_verify(v[i].iov_base, v[i].iov_len, b->got + len, "pair bulk");
			len += v[i].iov_len;
		}
		evbuffer_drain(in, len);
		b->got += len;
	}
	if (b->got == b->total)
		event_base_loopbreak(bufferevent_get_base(bev));
}

static double
pair_bulk(long mib)
{
	struct event_base *base = event_base_new();
	struct bufferevent *p[2];
	struct bulk b = {0};
	uint64_t t0, t1;

	BENCH_CHECK(base && bufferevent_pair_new(base, 0, p) == 0, "pair_new failed");
	b.w = p[0];
	b.r = p[1];
	b.total = (uint64_t)mib * BENCH_MiB;
	bufferevent_setcb(b.w, NULL, bulk_writecb, NULL, &b);
	bufferevent_setcb(b.r, bulk_readcb, NULL, NULL, &b);
	bufferevent_setwatermark(b.w, EV_WRITE, CHUNK, 0);
	bufferevent_enable(b.r, EV_READ);
	t0 = bench_now_ns();
	bulk_writecb(b.w, &b);
	event_base_dispatch(base);
	t1 = bench_now_ns();
	BENCH_CHECK(b.got == b.total, "got %llu of %llu bytes",
	    (unsigned long long)b.got, (unsigned long long)b.total);
	bufferevent_free(p[0]);
	bufferevent_free(p[1]);
	event_base_free(base);
	return bench_mb_per_s(b.total, t1 - t0);
}

/* ---- ping-pong ------------------------------------------------------------ */

#define MSG 32

struct pp {
	struct bufferevent *a, *b;
	long rounds, left;
};

static void
pp_readcb(struct bufferevent *bev, void *arg)
{
	struct pp *p = arg;
	char buf[MSG];

	while (evbuffer_get_length(bufferevent_get_input(bev)) >= MSG) {
		BENCH_CHECK(bufferevent_read(bev, buf, MSG) == MSG, "short read");
		BENCH_CHECK(memcmp(buf, bench_stream_at(0), MSG) == 0, "message differs");
		if (bev == p->a) {
			if (--p->left == 0) {
				event_base_loopbreak(bufferevent_get_base(bev));
				return;
			}
		}
		bufferevent_write(bev, buf, MSG);
	}
}

static double
pair_pingpong(long rounds)
{
	struct event_base *base = event_base_new();
	struct bufferevent *p[2];
	struct pp s = {0};
	uint64_t t0, t1;

	BENCH_CHECK(base && bufferevent_pair_new(base, 0, p) == 0, "pair_new failed");
	s.a = p[0];
	s.b = p[1];
	s.rounds = s.left = rounds;
	bufferevent_setcb(s.a, pp_readcb, NULL, NULL, &s);
	bufferevent_setcb(s.b, pp_readcb, NULL, NULL, &s);
	bufferevent_enable(s.a, EV_READ);
	bufferevent_enable(s.b, EV_READ);
	t0 = bench_now_ns();
	bufferevent_write(s.a, bench_stream_at(0), MSG);
	event_base_dispatch(base);
	t1 = bench_now_ns();
	BENCH_CHECK(s.left == 0, "%ld round trips missing", s.left);
	bufferevent_free(p[0]);
	bufferevent_free(p[1]);
	event_base_free(base);
	return bench_ns_per_op(t1 - t0, (uint64_t)rounds);
}

static const struct bench_case cases[] = {
	{"pair_bulk_1GiB", "MB/s", pair_bulk, 1024},
	{"pair_pingpong_32B", "ns/op", pair_pingpong, 200000},
};

int
main(int argc, char **argv)
{
	return bench_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
