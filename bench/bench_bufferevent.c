/*
 * bench_bufferevent: socket bufferevents, libevent vs goevent.
 *
 * Bulk: 1 GiB (at BENCH_SCALE=1) one way between two socket bufferevents in
 * one event loop, over a socketpair and over loopback TCP (a listener
 * accepts the reading end). The writer has a write low watermark and tops
 * its output up from its write callback, as a server streaming a large
 * reply would; the reader checks every byte against the reference stream
 * and drains it in its read callback. The two-thread case runs two such
 * socketpair transfers at once, each thread with its own event_base, and
 * reports their aggregate rate: it shows whether two loops scale or
 * contend inside the library.
 *
 * The bulk cases ending in _256KiB_io set the reader's
 * bufferevent_set_max_single_read and the writer's max_single_write to 256
 * KiB, as a program moving bulk data would: libevent 2.1.12 honours the
 * write size but still reads at most 4 KiB at a time; goevent, like
 * libevent 2.2, reads what the socket holds up to the size set.
 *
 * Echo: 64-byte messages over loopback TCP, the client bufferevent sending
 * one, the server bufferevent echoing it, the client checking it and
 * sending the next, all in one loop. With 100 connections every one has a
 * message in flight at once, so one loop pass serves many of them; the
 * number is the total time over the total round trips. Connection setup
 * is not timed.
 *
 * Terminal echo: the same 64-byte echo between socket bufferevents on the
 * two ends of a pseudo-terminal in raw mode, as a terminal multiplexer
 * talks to the programs in its panes (descriptors that are not sockets).
 *
 * bench_raw has cases of the same names for the bulk shapes: the same
 * bytes moved and checked with plain send/recv, no library.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <event2/util.h>

#include "bench.h"

#define CHUNK (64 * 1024)
/* The writer's output is refilled to FILL whenever it drains to LOWAT:
 * enough queued that the socket never waits for the callback. */
#define LOWAT (128 * 1024)
#define FILL (256 * 1024)
#define MSG 64

/* ---- bulk ---------------------------------------------------------------- */

struct bulk {
	size_t read_high; /* the reader's read high watermark, 0 for none */
	size_t max_read;  /* the reader's max_single_read, 0 for the default */
	size_t max_write; /* the writer's max_single_write, 0 for the default */
	struct event_base *base;
	struct bufferevent *w, *r;
	struct evconnlistener *lev;
	uint64_t total, sent, got;
};

static void
bulk_writecb(struct bufferevent *bev, void *arg)
{
	struct bulk *b = arg;
	struct evbuffer *out = bufferevent_get_output(bev);

	while (b->sent < b->total && evbuffer_get_length(out) < FILL) {
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

	while (evbuffer_get_length(in) > 0) {
		int i, n = evbuffer_peek(in, -1, NULL, v, 16);
		size_t len = 0;

		if (n > 16)
			n = 16;
		for (i = 0; i < n; i++) {
			bench_stream_verify(v[i].iov_base, v[i].iov_len, b->got + len, "bulk read");
			len += v[i].iov_len;
		}
		BENCH_CHECK(evbuffer_drain(in, len) == 0, "evbuffer_drain failed");
		b->got += len;
	}
	BENCH_CHECK(b->got <= b->total, "read %llu bytes, more than the %llu written",
	    (unsigned long long)b->got, (unsigned long long)b->total);
	if (b->got == b->total)
		event_base_loopbreak(b->base);
}

static void
bulk_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct bulk *b = arg;

	BENCH_CHECK(what == (BEV_EVENT_CONNECTED | BEV_EVENT_WRITING) ||
	    what == BEV_EVENT_CONNECTED, "unexpected event 0x%x on a bulk bufferevent", what);
	/* The connect finished: start the stream. */
	bulk_writecb(bev, b);
}

static void
bulk_setup_writer(struct bulk *b, struct bufferevent *w)
{
	b->w = w;
	if (b->max_write)
		BENCH_CHECK(bufferevent_set_max_single_write(w, b->max_write) == 0,
		    "bufferevent_set_max_single_write failed");
	bufferevent_setcb(w, NULL, bulk_writecb, bulk_eventcb, b);
	bufferevent_setwatermark(w, EV_WRITE, LOWAT, 0);
	BENCH_CHECK(bufferevent_enable(w, EV_WRITE) == 0, "bufferevent_enable failed");
}

static void
bulk_setup_reader(struct bulk *b, struct bufferevent *r)
{
	b->r = r;
	if (b->max_read)
		BENCH_CHECK(bufferevent_set_max_single_read(r, b->max_read) == 0,
		    "bufferevent_set_max_single_read failed");
	bufferevent_setcb(r, bulk_readcb, NULL, NULL, b);
	if (b->read_high)
		bufferevent_setwatermark(r, EV_READ, 0, b->read_high);
	BENCH_CHECK(bufferevent_enable(r, EV_READ) == 0, "bufferevent_enable failed");
}

static void
bulk_finish(struct bulk *b)
{
	BENCH_CHECK(b->got == b->total && b->sent == b->total,
	    "wrote %llu, read %llu of %llu bytes", (unsigned long long)b->sent,
	    (unsigned long long)b->got, (unsigned long long)b->total);
	bufferevent_free(b->w);
	bufferevent_free(b->r);
	if (b->lev)
		evconnlistener_free(b->lev);
}

/* The options of a bulk case (struct bulk's first fields). */
struct bulk_opts {
	size_t read_high, max_read, max_write;
};

static const struct bulk_opts plain_opts;

/* One socketpair transfer of total bytes on base; returns the nanoseconds
 * it took. */
static uint64_t
bulk_socketpair(struct event_base *base, uint64_t total, const struct bulk_opts *o)
{
	struct bulk b = { .base = base, .total = total, .read_high = o->read_high,
		.max_read = o->max_read, .max_write = o->max_write };
	int fds[2];
	uint64_t t0, t1;

	BENCH_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0, "socketpair failed");
	evutil_make_socket_nonblocking(fds[0]);
	evutil_make_socket_nonblocking(fds[1]);
	struct bufferevent *w = bufferevent_socket_new(base, fds[0], BEV_OPT_CLOSE_ON_FREE);
	struct bufferevent *r = bufferevent_socket_new(base, fds[1], BEV_OPT_CLOSE_ON_FREE);
	BENCH_CHECK(w && r, "bufferevent_socket_new failed");
	bulk_setup_writer(&b, w);
	bulk_setup_reader(&b, r);
	t0 = bench_now_ns();
	bulk_writecb(w, &b);
	BENCH_CHECK(event_base_dispatch(base) == 0, "event_base_dispatch failed");
	t1 = bench_now_ns();
	bulk_finish(&b);
	return t1 - t0;
}

static double
bulk_socketpair_case(long mib, const struct bulk_opts *o)
{
	struct event_base *base = event_base_new();
	uint64_t total = (uint64_t)mib * BENCH_MiB, t;

	BENCH_CHECK(base != NULL, "event_base_new failed");
	t = bulk_socketpair(base, total, o);
	event_base_free(base);
	return bench_mb_per_s(total, t);
}

static double
case_bulk_socketpair(long mib)
{
	return bulk_socketpair_case(mib, &plain_opts);
}

/* The same with a read high watermark on the reader (back-pressure, as
 * servers bound their input): every change of the input is checked
 * against the mark. */
static double
case_bulk_socketpair_wm(long mib)
{
	static const struct bulk_opts o = { .read_high = 64 * 1024 };

	return bulk_socketpair_case(mib, &o);
}

/* The _256KiB_io cases' reads and writes (see the top). */
static const struct bulk_opts big_opts = { .max_read = 256 * 1024, .max_write = 256 * 1024 };

static double
case_bulk_socketpair_256k(long mib)
{
	return bulk_socketpair_case(mib, &big_opts);
}

static void
bulk_acceptcb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa, int len,
    void *arg)
{
	struct bulk *b = arg;
	struct bufferevent *r;

	(void)sa;
	(void)len;
	BENCH_CHECK(b->r == NULL, "a second connection was accepted");
	r = bufferevent_socket_new(evconnlistener_get_base(lev), fd, BEV_OPT_CLOSE_ON_FREE);
	BENCH_CHECK(r != NULL, "bufferevent_socket_new failed");
	bulk_setup_reader(b, r);
}

/* A listener on 127.0.0.1 at a port the kernel picks; *sin gets its
 * address. */
static struct evconnlistener *
listen_loopback(struct event_base *base, evconnlistener_cb cb, void *arg, struct sockaddr_in *sin)
{
	struct evconnlistener *lev;
	socklen_t slen = sizeof(*sin);

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lev = evconnlistener_new_bind(base, cb, arg, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
	    1024, (struct sockaddr *)sin, sizeof(*sin));
	BENCH_CHECK(lev != NULL, "evconnlistener_new_bind failed");
	BENCH_CHECK(getsockname(evconnlistener_get_fd(lev), (struct sockaddr *)sin, &slen) == 0,
	    "getsockname failed");
	return lev;
}

static double
bulk_tcp_case(long mib, const struct bulk_opts *o)
{
	struct event_base *base = event_base_new();
	struct bulk b = { .base = base, .total = (uint64_t)mib * BENCH_MiB,
		.read_high = o->read_high, .max_read = o->max_read, .max_write = o->max_write };
	struct sockaddr_in sin;
	struct bufferevent *w;
	uint64_t t0, t1;

	BENCH_CHECK(base != NULL, "event_base_new failed");
	b.lev = listen_loopback(base, bulk_acceptcb, &b, &sin);
	w = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	BENCH_CHECK(w != NULL, "bufferevent_socket_new failed");
	bulk_setup_writer(&b, w);
	t0 = bench_now_ns();
	BENCH_CHECK(bufferevent_socket_connect(w, (struct sockaddr *)&sin, sizeof(sin)) == 0,
	    "bufferevent_socket_connect failed");
	BENCH_CHECK(event_base_dispatch(base) == 0, "event_base_dispatch failed");
	t1 = bench_now_ns();
	BENCH_CHECK(b.r != NULL, "the connection was never accepted");
	bulk_finish(&b);
	event_base_free(base);
	return bench_mb_per_s(b.total, t1 - t0);
}

static double
case_bulk_tcp(long mib)
{
	return bulk_tcp_case(mib, &plain_opts);
}

static double
case_bulk_tcp_256k(long mib)
{
	return bulk_tcp_case(mib, &big_opts);
}

/* ---- two loops in two threads --------------------------------------------- */

struct bulk_thread {
	pthread_barrier_t *start;
	uint64_t total, t0, t1;
};

static void *
bulk_thread_main(void *arg)
{
	struct bulk_thread *bt = arg;
	struct event_base *base = event_base_new();

	BENCH_CHECK(base != NULL, "event_base_new failed");
	pthread_barrier_wait(bt->start);
	bt->t0 = bench_now_ns();
	(void)bulk_socketpair(base, bt->total, &plain_opts);
	bt->t1 = bench_now_ns();
	event_base_free(base);
	return NULL;
}

/* evthread_use_pthreads, once: it stays on for the process. */
static void
threads_on(void)
{
	static int on;

	if (!on) {
		BENCH_CHECK(evthread_use_pthreads() == 0, "evthread_use_pthreads failed");
		on = 1;
	}
}

/* n MiB in each of two threads; the rate is both transfers' bytes over the
 * time from the earlier start until the later end. Each thread takes its
 * own times: on two cores a third, timing thread may not run again until
 * both transfers are over. */
static double
case_bulk_2threads(long mib)
{
	pthread_barrier_t start;
	pthread_t th[2];
	struct bulk_thread bt[2];
	uint64_t t0, t1;
	int i;

	threads_on();
	BENCH_CHECK(pthread_barrier_init(&start, NULL, 2) == 0, "pthread_barrier_init failed");
	for (i = 0; i < 2; i++) {
		bt[i] = (struct bulk_thread){ .start = &start, .total = (uint64_t)mib * BENCH_MiB };
		BENCH_CHECK(pthread_create(&th[i], NULL, bulk_thread_main, &bt[i]) == 0,
		    "pthread_create failed");
	}
	for (i = 0; i < 2; i++)
		BENCH_CHECK(pthread_join(th[i], NULL) == 0, "pthread_join failed");
	pthread_barrier_destroy(&start);
	t0 = bt[0].t0 < bt[1].t0 ? bt[0].t0 : bt[1].t0;
	t1 = bt[0].t1 > bt[1].t1 ? bt[0].t1 : bt[1].t1;
	return bench_mb_per_s(bt[0].total + bt[1].total, t1 - t0);
}

/* ---- echo ------------------------------------------------------------------ */

struct echo;

struct echo_conn {
	struct echo *e;
	struct bufferevent *c; /* the client end */
	uint64_t off;          /* stream offset of this connection's messages */
	long done, target;     /* round trips finished and wanted */
};

struct echo {
	int bev_options; /* BEV_OPT_* for every bufferevent */
	struct event_base *base;
	struct evconnlistener *lev;
	struct echo_conn *conns;
	struct bufferevent **servers;
	int nconn, connected, accepted, finished;
	int running; /* 0 while connecting, 1 while timing */
};

static void
echo_maybe_ready(struct echo *e)
{
	if (!e->running && e->connected == e->nconn && e->accepted == e->nconn)
		event_base_loopbreak(e->base);
}

static void
echo_server_readcb(struct bufferevent *bev, void *arg)
{
	(void)arg;
	BENCH_CHECK(bufferevent_write_buffer(bev, bufferevent_get_input(bev)) == 0,
	    "bufferevent_write_buffer failed");
}

static void
echo_server_eventcb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)arg;
	BENCH_CHECK(0, "unexpected event 0x%x on an echo server connection", what);
}

static void
echo_acceptcb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa, int len,
    void *arg)
{
	struct echo *e = arg;
	struct bufferevent *s;
	int one = 1;

	(void)sa;
	(void)len;
	BENCH_CHECK(e->accepted < e->nconn, "more connections accepted than made");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	s = bufferevent_socket_new(evconnlistener_get_base(lev), fd, e->bev_options);
	BENCH_CHECK(s != NULL, "bufferevent_socket_new failed");
	bufferevent_setcb(s, echo_server_readcb, NULL, echo_server_eventcb, e);
	BENCH_CHECK(bufferevent_enable(s, EV_READ) == 0, "bufferevent_enable failed");
	e->servers[e->accepted++] = s;
	echo_maybe_ready(e);
}

static void
echo_send(struct echo_conn *ec)
{
	BENCH_CHECK(bufferevent_write(ec->c, bench_stream_at(ec->off + (uint64_t)ec->done * MSG),
	    MSG) == 0, "bufferevent_write failed");
}

static void
echo_client_readcb(struct bufferevent *bev, void *arg)
{
	struct echo_conn *ec = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	unsigned char got[MSG];

	while (evbuffer_get_length(in) >= MSG) {
		BENCH_CHECK(ec->e->running, "an echo arrived before anything was sent");
		BENCH_CHECK(evbuffer_remove(in, got, MSG) == MSG, "evbuffer_remove failed");
		bench_stream_verify(got, MSG, ec->off + (uint64_t)ec->done * MSG, "echo");
		ec->done++;
		if (ec->done == ec->target) {
			BENCH_CHECK(evbuffer_get_length(in) == 0, "echo bytes beyond the last message");
			if (++ec->e->finished == ec->e->nconn)
				event_base_loopbreak(ec->e->base);
			return;
		}
		echo_send(ec);
	}
}

static void
echo_client_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct echo_conn *ec = arg;
	int one = 1;

	BENCH_CHECK(what & BEV_EVENT_CONNECTED, "unexpected event 0x%x on an echo client", what);
	setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ec->e->connected++;
	echo_maybe_ready(ec->e);
}

static double
echo_run(long trips, int nconn, int bev_options)
{
	struct echo e = { .nconn = nconn, .bev_options = bev_options };
	struct sockaddr_in sin;
	long per = trips / nconn > 0 ? trips / nconn : 1;
	uint64_t t0, t1;
	int i;

	e.base = event_base_new();
	e.conns = calloc((size_t)nconn, sizeof(*e.conns));
	e.servers = calloc((size_t)nconn, sizeof(*e.servers));
	BENCH_CHECK(e.base && e.conns && e.servers, "setup failed");
	e.lev = listen_loopback(e.base, echo_acceptcb, &e, &sin);
	for (i = 0; i < nconn; i++) {
		struct echo_conn *ec = &e.conns[i];

		ec->e = &e;
		ec->off = (uint64_t)i * 4099;
		ec->target = per;
		ec->c = bufferevent_socket_new(e.base, -1, bev_options);
		BENCH_CHECK(ec->c != NULL, "bufferevent_socket_new failed");
		bufferevent_setcb(ec->c, echo_client_readcb, NULL, echo_client_eventcb, ec);
		BENCH_CHECK(bufferevent_enable(ec->c, EV_READ) == 0, "bufferevent_enable failed");
		BENCH_CHECK(bufferevent_socket_connect(ec->c, (struct sockaddr *)&sin,
		    sizeof(sin)) == 0, "bufferevent_socket_connect failed");
	}
	/* Connect everything first; only the echoes are timed. */
	BENCH_CHECK(event_base_dispatch(e.base) == 0, "event_base_dispatch failed");
	BENCH_CHECK(e.connected == nconn && e.accepted == nconn, "%d connected, %d accepted of %d",
	    e.connected, e.accepted, nconn);
	e.running = 1;
	t0 = bench_now_ns();
	for (i = 0; i < nconn; i++)
		echo_send(&e.conns[i]);
	BENCH_CHECK(event_base_dispatch(e.base) == 0, "event_base_dispatch failed");
	t1 = bench_now_ns();
	BENCH_CHECK(e.finished == nconn, "%d of %d connections finished", e.finished, nconn);
	for (i = 0; i < nconn; i++) {
		BENCH_CHECK(e.conns[i].done == per, "connection %d: %ld of %ld round trips", i,
		    e.conns[i].done, per);
		bufferevent_free(e.conns[i].c);
		bufferevent_free(e.servers[i]);
	}
	evconnlistener_free(e.lev);
	event_base_free(e.base);
	free(e.conns);
	free(e.servers);
	return bench_ns_per_op(t1 - t0, (uint64_t)per * (uint64_t)nconn);
}

static double
case_echo_1conn(long trips)
{
	return echo_run(trips, 1, BEV_OPT_CLOSE_ON_FREE);
}

static double
case_echo_100conn(long trips)
{
	return echo_run(trips, 100, BEV_OPT_CLOSE_ON_FREE);
}

/* Echo over one connection on a base made after evthread_use_pthreads (a
 * lockable base), as threaded programs have: what the base's lock costs. */
static double
case_echo_1conn_locked(long trips)
{
	threads_on();
	return echo_run(trips, 1, BEV_OPT_CLOSE_ON_FREE);
}

/* The same with BEV_OPT_THREADSAFE bufferevents: their locks too. */
static double
case_echo_1conn_threadsafe(long trips)
{
	threads_on();
	return echo_run(trips, 1, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_THREADSAFE);
}

/* Threaded cases last: evthread_use_pthreads stays on for the process, and
 * must not slow the single-threaded cases when all of them run together. */
/* ---- terminal echo ------------------------------------------------------- */

struct pty_echo {
	long left;
	unsigned char msg[MSG];
};

static void
pty_client_read(struct bufferevent *bev, void *arg)
{
	struct pty_echo *e = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	while (evbuffer_get_length(in) >= MSG) {
		unsigned char got[MSG];
		evbuffer_remove(in, got, MSG);
		BENCH_CHECK(memcmp(got, e->msg, MSG) == 0, "pty echo corrupted");
		if (--e->left == 0) {
			event_base_loopbreak(bufferevent_get_base(bev));
			return;
		}
		e->msg[0]++;
		bufferevent_write(bev, e->msg, MSG);
	}
}

static void
pty_server_read(struct bufferevent *bev, void *arg)
{
	(void)arg;
	bufferevent_write_buffer(bev, bufferevent_get_input(bev));
}

static double
case_pty_echo(long trips)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	BENCH_CHECK(m >= 0 && grantpt(m) == 0 && unlockpt(m) == 0, "posix_openpt");
	int s = open(ptsname(m), O_RDWR | O_NOCTTY);
	BENCH_CHECK(s >= 0, "open pty slave");
	struct termios t;
	BENCH_CHECK(tcgetattr(s, &t) == 0, "tcgetattr");
	cfmakeraw(&t);
	BENCH_CHECK(tcsetattr(s, TCSANOW, &t) == 0, "tcsetattr");
	evutil_make_socket_nonblocking(m);
	evutil_make_socket_nonblocking(s);
	struct event_base *base = event_base_new();
	struct bufferevent *client = bufferevent_socket_new(base, m, BEV_OPT_CLOSE_ON_FREE);
	struct bufferevent *server = bufferevent_socket_new(base, s, BEV_OPT_CLOSE_ON_FREE);
	struct pty_echo e;
	e.left = trips;
	memset(e.msg, 'x', MSG);
	bufferevent_setcb(client, pty_client_read, NULL, NULL, &e);
	bufferevent_setcb(server, pty_server_read, NULL, NULL, NULL);
	bufferevent_enable(client, EV_READ | EV_WRITE);
	bufferevent_enable(server, EV_READ | EV_WRITE);
	uint64_t t0 = bench_now_ns();
	bufferevent_write(client, e.msg, MSG);
	event_base_dispatch(base);
	uint64_t dt = bench_now_ns() - t0;
	BENCH_CHECK(e.left == 0, "pty echo stopped with %ld trips left", e.left);
	bufferevent_free(client);
	bufferevent_free(server);
	event_base_free(base);
	return bench_ns_per_op(dt, (uint64_t)trips);
}

static const struct bench_case cases[] = {
	{ "bev_bulk_socketpair_1GiB", "MB/s", case_bulk_socketpair, 1024 },
	{ "bev_bulk_socketpair_1GiB_read_high", "MB/s", case_bulk_socketpair_wm, 1024 },
	{ "bev_bulk_tcp_1GiB", "MB/s", case_bulk_tcp, 1024 },
	{ "bev_bulk_socketpair_1GiB_256KiB_io", "MB/s", case_bulk_socketpair_256k, 1024 },
	{ "bev_bulk_tcp_1GiB_256KiB_io", "MB/s", case_bulk_tcp_256k, 1024 },
	{ "bev_echo_64B_1conn", "ns/op", case_echo_1conn, 100000 },
	{ "bev_echo_64B_100conn", "ns/op", case_echo_100conn, 300000 },
	{ "bev_echo_64B_1conn_lockable", "ns/op", case_echo_1conn_locked, 100000 },
	{ "bev_echo_64B_1conn_threadsafe", "ns/op", case_echo_1conn_threadsafe, 100000 },
	{ "bev_bulk_2threads", "MB/s", case_bulk_2threads, 1024 },
	{ "bev_pty_echo_64B", "ns/op", case_pty_echo, 20000 },
};

int
main(int argc, char **argv)
{
	return bench_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
