/*
 * diff_bev_transfer: bulk data through socket bufferevents.
 *
 * Multi-megabyte transfers over a socketpair and over TCP loopback, with a
 * content hash (FNV-1a) on both ends, while checking libevent's watermark
 * promises on every callback:
 *   - the input buffer never grows past the read high watermark;
 *   - the read callback never runs with less than the read low watermark;
 *   - the write callback only runs at or below the write low watermark;
 *   - reading resumes when the user drains the input buffer directly.
 * Every scenario runs with and without BEV_OPT_DEFER_CALLBACKS; the totals
 * must be the same. Only well-defined results are printed.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_struct.h>
#include <event2/event.h>
#include <event2/util.h>

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}
#define FNV_INIT 0xcbf29ce484222325ULL

/* A deterministic byte stream: xorshift64 seeded per scenario. */
struct gen {
	uint64_t s;
};
static void gen_fill(struct gen *g, unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		g->s ^= g->s << 13;
		g->s ^= g->s >> 7;
		g->s ^= g->s << 17;
		p[i] = (unsigned char)(g->s >> 24);
	}
}

/* ---- writer --------------------------------------------------------- */

struct writer {
	struct bufferevent *bev;
	struct gen g;
	size_t total, sent;
	uint64_t hash;
	size_t wlow;
	int bad_wcb; /* write callback above the low watermark */
	int wcb_calls_after_done;
	int freed;
};

static void writer_fill(struct writer *w)
{
	unsigned char chunk[16384];
	struct evbuffer *out = bufferevent_get_output(w->bev);
	while (w->sent < w->total && evbuffer_get_length(out) < 256 * 1024) {
		size_t n = w->total - w->sent;
		if (n > sizeof(chunk))
			n = sizeof(chunk);
		gen_fill(&w->g, chunk, n);
		w->hash = fnv1a(w->hash, chunk, n);
		if (bufferevent_write(w->bev, chunk, n) != 0) {
			printf("bufferevent_write failed\n");
			exit(1);
		}
		w->sent += n;
	}
}

static void writer_wcb(struct bufferevent *bev, void *arg)
{
	struct writer *w = arg;
	if (evbuffer_get_length(bev->output) > w->wlow)
		w->bad_wcb++;
	if (w->sent < w->total) {
		writer_fill(w);
		return;
	}
	if (evbuffer_get_length(bev->output) == 0) {
		/* All written: free from inside the callback; CLOSE_ON_FREE
		 * closes the socket, which the reader sees as EOF. */
		bufferevent_free(bev);
		w->bev = NULL;
		w->freed = 1;
	}
}

static void writer_ecb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)arg;
	printf("writer: unexpected event 0x%x\n", what);
}

/* ---- reader --------------------------------------------------------- */

enum { RD_ALL, RD_HALF, RD_AT_HIGH };

struct reader {
	struct bufferevent *bev;
	struct event_base *base;
	size_t recvd;
	uint64_t hash;
	size_t low, high;
	int mode;
	int bad_high, bad_low;
	int eof_events, other_events;
	struct event *drain_timer;
	int drain_pending;
	size_t expect;
};

static void consume(struct reader *r, size_t n)
{
	struct evbuffer *in = bufferevent_get_input(r->bev);
	unsigned char *p = evbuffer_pullup(in, (ev_ssize_t)n);
	r->hash = fnv1a(r->hash, p, n);
	r->recvd += n;
	evbuffer_drain(in, n);
}

static void drain_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct reader *r = arg;
	(void)fd;
	(void)what;
	r->drain_pending = 0;
	/* Drain from outside any bufferevent callback: the bufferevent must
	 * notice and resume reading by itself. */
	consume(r, evbuffer_get_length(r->bev->input));
}

static void reader_rcb(struct bufferevent *bev, void *arg)
{
	struct reader *r = arg;
	size_t len = evbuffer_get_length(bev->input);
	if (r->high && len > r->high)
		r->bad_high++;
	/* In RD_AT_HIGH mode libevent itself re-runs the read callback
	 * (deferred, from its high-watermark check) after our timer may
	 * already have drained the buffer, so the low-watermark promise
	 * only holds for the other modes. */
	if (len < r->low && r->mode != RD_AT_HIGH)
		r->bad_low++;
	switch (r->mode) {
	case RD_ALL: {
		unsigned char buf[5000];
		size_t n;
		while ((n = bufferevent_read(bev, buf, sizeof(buf))) > 0) {
			r->hash = fnv1a(r->hash, buf, n);
			r->recvd += n;
		}
		break;
	}
	case RD_HALF:
		consume(r, (len + 1) / 2);
		break;
	case RD_AT_HIGH:
		if (len >= r->high && !r->drain_pending) {
			struct timeval tv = {0, 1000};
			r->drain_pending = 1;
			evtimer_add(r->drain_timer, &tv);
		}
		break;
	}
}

static void reader_ecb(struct bufferevent *bev, short what, void *arg)
{
	struct reader *r = arg;
	if (what == (BEV_EVENT_EOF | BEV_EVENT_READING)) {
		r->eof_events++;
		consume(r, evbuffer_get_length(bev->input));
		bufferevent_free(bev);
		r->bev = NULL;
	} else {
		r->other_events++;
		printf("reader: unexpected event 0x%x errno %d\n", what, errno);
	}
}

static void run_pair(const char *name, int opts, int mode, size_t total,
    size_t rlow, size_t rhigh, size_t wlow)
{
	int fds[2];
	struct event_base *base = event_base_new();
	struct writer w;
	struct reader r;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0) {
		perror("socketpair");
		exit(1);
	}
	evutil_make_socket_nonblocking(fds[0]);
	evutil_make_socket_nonblocking(fds[1]);

	memset(&w, 0, sizeof(w));
	memset(&r, 0, sizeof(r));
	w.g.s = 0x9e3779b97f4a7c15ULL ^ total;
	w.total = total;
	w.hash = FNV_INIT;
	w.wlow = wlow;
	w.bev = bufferevent_socket_new(base, fds[0], BEV_OPT_CLOSE_ON_FREE | opts);
	bufferevent_setcb(w.bev, NULL, writer_wcb, writer_ecb, &w);
	bufferevent_setwatermark(w.bev, EV_WRITE, wlow, 0);
	writer_fill(&w);
	bufferevent_enable(w.bev, EV_WRITE);

	r.base = base;
	r.hash = FNV_INIT;
	r.low = rlow;
	r.high = rhigh;
	r.mode = mode;
	r.drain_timer = evtimer_new(base, drain_timer_cb, &r);
	r.bev = bufferevent_socket_new(base, fds[1], BEV_OPT_CLOSE_ON_FREE | opts);
	bufferevent_setcb(r.bev, reader_rcb, NULL, reader_ecb, &r);
	bufferevent_setwatermark(r.bev, EV_READ, rlow, rhigh);
	bufferevent_enable(r.bev, EV_READ);

	event_base_dispatch(base);

	printf("%s: sent %zu recv %zu hash %s %016llx eof %d other %d "
	    "bad_high %d bad_low %d bad_wcb %d writer_freed %d\n",
	    name, w.sent, r.recvd, w.hash == r.hash ? "match" : "MISMATCH",
	    (unsigned long long)r.hash, r.eof_events, r.other_events,
	    r.bad_high, r.bad_low, w.bad_wcb, w.freed);
	event_free(r.drain_timer);
	event_base_free(base);
}

/* ---- TCP loopback echo ---------------------------------------------- */

struct echo_srv {
	struct event_base *base;
	evutil_socket_t lfd;
	struct event *accept_ev;
	struct bufferevent *conn;
	int opts;
	int paused, resumed;
	int eof;
};

static void srv_rcb(struct bufferevent *bev, void *arg)
{
	struct echo_srv *s = arg;
	bufferevent_write_buffer(bev, bufferevent_get_input(bev));
	if (evbuffer_get_length(bufferevent_get_output(bev)) > 128 * 1024) {
		/* Too much queued: stop reading until the peer catches up. */
		bufferevent_disable(bev, EV_READ);
		bufferevent_setwatermark(bev, EV_WRITE, 32 * 1024, 0);
		s->paused++;
	}
}

static void srv_wcb(struct bufferevent *bev, void *arg)
{
	struct echo_srv *s = arg;
	if (!(bufferevent_get_enabled(bev) & EV_READ)) {
		bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
		bufferevent_enable(bev, EV_READ);
		s->resumed++;
	}
}

static void srv_ecb(struct bufferevent *bev, short what, void *arg)
{
	struct echo_srv *s = arg;
	if (what & BEV_EVENT_EOF)
		s->eof++;
	else
		printf("server: event 0x%x\n", what);
	bufferevent_free(bev);
	s->conn = NULL;
}

static void srv_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct echo_srv *s = arg;
	(void)what;
	evutil_socket_t fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		return;
	evutil_make_socket_nonblocking(fd);
	s->conn = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE | s->opts);
	bufferevent_setcb(s->conn, srv_rcb, srv_wcb, srv_ecb, s);
	bufferevent_enable(s->conn, EV_READ | EV_WRITE);
	event_del(s->accept_ev);
}

struct echo_cli {
	struct bufferevent *bev;
	struct gen g;
	size_t total, sent, recvd;
	uint64_t hash_out, hash_in;
	int connected;
	int bad_high, bad_low;
	size_t rlow, rhigh;
};

static void cli_fill(struct echo_cli *c)
{
	unsigned char chunk[10000];
	while (c->sent < c->total &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) < 64 * 1024) {
		size_t n = c->total - c->sent;
		if (n > sizeof(chunk))
			n = sizeof(chunk);
		gen_fill(&c->g, chunk, n);
		c->hash_out = fnv1a(c->hash_out, chunk, n);
		bufferevent_write(c->bev, chunk, n);
		c->sent += n;
	}
}

static void cli_rcb(struct bufferevent *bev, void *arg)
{
	struct echo_cli *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len = evbuffer_get_length(in);
	if (len > c->rhigh)
		c->bad_high++;
	if (len < c->rlow && c->recvd + len < c->total)
		c->bad_low++;
	/* Everything is taken, eight extents at a time: bytes left behind
	 * below the low watermark would wait for more data, and at the end
	 * of the stream none comes. */
	while (evbuffer_get_length(in) > 0) {
		struct evbuffer_iovec v[8];
		int n = evbuffer_peek(in, -1, NULL, v, 8);
		size_t took = 0;
		for (int i = 0; i < n && i < 8; i++) {
			c->hash_in = fnv1a(c->hash_in, v[i].iov_base, v[i].iov_len);
			took += v[i].iov_len;
		}
		evbuffer_drain(in, took);
		c->recvd += took;
	}
	/* How the last bytes arrive is up to TCP: once fewer than the low
	 * watermark are still to come, any amount must reach this callback. */
	if (c->total - c->recvd < c->rlow) {
		c->rlow = 0;
		bufferevent_setwatermark(bev, EV_READ, 0, c->rhigh);
	}
	if (c->recvd >= c->total) {
		/* Everything came back: closing our end ends the server's
		 * connection with EOF, and then the loop runs out of events. */
		bufferevent_free(bev);
		c->bev = NULL;
	}
}

static void cli_wcb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	cli_fill(arg);
}

static void cli_ecb(struct bufferevent *bev, short what, void *arg)
{
	struct echo_cli *c = arg;
	(void)bev;
	if (what == BEV_EVENT_CONNECTED) {
		c->connected++;
		return;
	}
	printf("client: event 0x%x\n", what);
}

static void run_tcp(const char *name, int opts, size_t total)
{
	struct echo_srv s;
	struct echo_cli c;
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);

	memset(&s, 0, sizeof(s));
	memset(&c, 0, sizeof(c));
	s.base = event_base_new();
	s.opts = opts;
	s.lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s.lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(s.lfd, 8) < 0 ||
	    getsockname(s.lfd, (struct sockaddr *)&sin, &slen) < 0) {
		perror("listen");
		exit(1);
	}
	s.accept_ev = event_new(s.base, s.lfd, EV_READ | EV_PERSIST, srv_accept, &s);
	event_add(s.accept_ev, NULL);

	c.g.s = 0x1234567887654321ULL;
	c.total = total;
	c.hash_out = c.hash_in = FNV_INIT;
	c.rlow = 1000;
	c.rhigh = 50000;
	c.bev = bufferevent_socket_new(s.base, -1, BEV_OPT_CLOSE_ON_FREE | opts);
	bufferevent_setcb(c.bev, cli_rcb, cli_wcb, cli_ecb, &c);
	bufferevent_setwatermark(c.bev, EV_READ, c.rlow, c.rhigh);
	bufferevent_setwatermark(c.bev, EV_WRITE, 16 * 1024, 0);
	bufferevent_enable(c.bev, EV_READ | EV_WRITE);
	int r = bufferevent_socket_connect(c.bev, (struct sockaddr *)&sin, sizeof(sin));
	/* Queue data before the connection completes: it must go out once
	 * the connect finishes. */
	cli_fill(&c);
	event_base_dispatch(s.base);

	printf("%s: connect %d connected %d sent %zu recv %zu hash %s %016llx "
	    "bad_high %d bad_low %d server_eof %d paused %s\n",
	    name, r, c.connected, c.sent, c.recvd,
	    c.hash_out == c.hash_in ? "match" : "MISMATCH",
	    (unsigned long long)c.hash_in, c.bad_high, c.bad_low, s.eof,
	    s.paused == s.resumed ? "balanced" : "unbalanced");
	event_free(s.accept_ev);
	close(s.lfd);
	event_base_free(s.base);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	static const struct {
		const char *name;
		int opts;
	} variants[] = {
		{"plain", 0},
		{"deferred", BEV_OPT_DEFER_CALLBACKS},
	};
	for (unsigned v = 0; v < 2; v++) {
		char name[64];
		int o = variants[v].opts;
		snprintf(name, sizeof(name), "pair-all-%s", variants[v].name);
		run_pair(name, o, RD_ALL, 4u << 20, 0, 0, 0);
		snprintf(name, sizeof(name), "pair-wm-all-%s", variants[v].name);
		run_pair(name, o, RD_ALL, 4u << 20, 100, 8192, 4096);
		snprintf(name, sizeof(name), "pair-wm-half-%s", variants[v].name);
		run_pair(name, o, RD_HALF, 3u << 20, 1000, 65536, 100000);
		snprintf(name, sizeof(name), "pair-drain-at-high-%s", variants[v].name);
		run_pair(name, o, RD_AT_HIGH, 2u << 20, 10, 30000, 0);
		snprintf(name, sizeof(name), "pair-odd-sizes-%s", variants[v].name);
		run_pair(name, o, RD_HALF, 1000003, 7, 4097, 1);
		snprintf(name, sizeof(name), "tcp-echo-%s", variants[v].name);
		run_tcp(name, o, 4u << 20);
	}
	return 0;
}
