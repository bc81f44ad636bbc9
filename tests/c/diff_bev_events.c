/*
 * diff_bev_events: the event callback of socket bufferevents.
 *
 * EOF, read and write errors (with the errno the callback sees), a refused
 * connect, read and write timeouts (with a deterministic order), what each of
 * them leaves enabled, BEV_OPT_CLOSE_ON_FREE, and freeing the bufferevent
 * from inside its own callbacks. Each case runs plain and with
 * BEV_OPT_DEFER_CALLBACKS.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
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

#include "bevtest.h"

static const char *errname(int e)
{
	switch (e) {
	case 0: return "0";
	case EPIPE: return "EPIPE";
	case ECONNRESET: return "ECONNRESET";
	case ECONNREFUSED: return "ECONNREFUSED";
	case EAGAIN: return "EAGAIN";
	case EBADF: return "EBADF";
	case ENOTCONN: return "ENOTCONN";
	case ETIMEDOUT: return "ETIMEDOUT";
	default: return "other";
	}
}

static const char *fdstate(int fd)
{
	errno = 0;
	if (fcntl(fd, F_GETFD) == -1 && errno == EBADF)
		return "closed";
	return "open";
}

/* Log of what one bufferevent saw. */
struct seen {
	const char *tag;
	int reads;
	size_t bytes;
	int events;
	int free_in_event;
	int free_in_read;
	int break_on_event;
	struct event_base *base;
};

static void log_rcb(struct bufferevent *bev, void *arg)
{
	struct seen *s = arg;
	s->reads++;
	s->bytes += evbuffer_get_length(bev->input);
	evbuffer_drain(bev->input, evbuffer_get_length(bev->input));
	if (s->free_in_read) {
		printf("  %s: read cb frees the bufferevent\n", s->tag);
		bufferevent_free(bev);
	}
}

static void log_ecb(struct bufferevent *bev, short what, void *arg)
{
	struct seen *s = arg;
	int e = errno;
	s->events++;
	printf("  %s: event 0x%02x%s%s%s%s%s%s errno %s enabled 0x%x\n", s->tag,
	    what, what & BEV_EVENT_READING ? " READING" : "",
	    what & BEV_EVENT_WRITING ? " WRITING" : "",
	    what & BEV_EVENT_EOF ? " EOF" : "",
	    what & BEV_EVENT_ERROR ? " ERROR" : "",
	    what & BEV_EVENT_TIMEOUT ? " TIMEOUT" : "",
	    what & BEV_EVENT_CONNECTED ? " CONNECTED" : "",
	    (what & BEV_EVENT_ERROR) ? errname(e) : "-",
	    bufferevent_get_enabled(bev));
	if (s->free_in_event)
		bufferevent_free(bev);
	if (s->break_on_event)
		event_base_loopbreak(s->base);
}

static void case_eof(int opts)
{
	int fds[2];
	struct event_base *base = event_base_new();
	struct seen s = {"eof", 0, 0, 0, 0, 0, 0, base};
	make_pair(fds);
	struct bufferevent *bev = bufferevent_socket_new(base, fds[0], opts);
	bufferevent_setcb(bev, log_rcb, NULL, log_ecb, &s);
	bufferevent_enable(bev, EV_READ);
	if (write(fds[1], "hello", 5) != 5)
		exit(1);
	close(fds[1]);
	event_base_dispatch(base);
	printf("  eof: reads %d bytes %zu events %d\n", s.reads, s.bytes, s.events);
	bufferevent_free(bev);
	printf("  eof: without CLOSE_ON_FREE the fd is %s\n", fdstate(fds[0]));
	close(fds[0]);
	event_base_free(base);
}

static void case_reset(int opts)
{
	/* A TCP peer that closes with SO_LINGER 0 sends RST: the reader
	 * sees ECONNRESET. */
	struct event_base *base = event_base_new();
	struct seen s = {"reset", 0, 0, 0, 1, 0, 0, base};
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(l, (struct sockaddr *)&sin, sizeof(sin));
	listen(l, 4);
	getsockname(l, (struct sockaddr *)&sin, &slen);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(c, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		perror("connect");
		exit(1);
	}
	int a = accept(l, NULL, NULL);
	evutil_make_socket_nonblocking(a);
	struct bufferevent *bev = bufferevent_socket_new(base, a,
	    BEV_OPT_CLOSE_ON_FREE | opts);
	bufferevent_setcb(bev, log_rcb, NULL, log_ecb, &s);
	bufferevent_enable(bev, EV_READ);
	struct linger lg = {1, 0};
	setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(c);
	event_base_dispatch(base);
	printf("  reset: events %d, freed in event cb, fd %s\n", s.events, fdstate(a));
	close(l);
	event_base_free(base);
}

static void case_epipe(int opts)
{
	int fds[2];
	struct event_base *base = event_base_new();
	struct seen s = {"epipe", 0, 0, 0, 0, 0, 0, base};
	make_pair(fds);
	struct bufferevent *bev = bufferevent_socket_new(base, fds[0],
	    BEV_OPT_CLOSE_ON_FREE | opts);
	bufferevent_setcb(bev, NULL, NULL, log_ecb, &s);
	close(fds[1]);
	bufferevent_write(bev, "data that cannot be delivered", 29);
	event_base_dispatch(base);
	printf("  epipe: events %d output left %zu\n", s.events,
	    evbuffer_get_length(bev->output));
	bufferevent_free(bev);
	event_base_loop(base, EVLOOP_NONBLOCK);
	printf("  epipe: with CLOSE_ON_FREE the fd is %s\n", fdstate(fds[0]));
	event_base_free(base);
}

static void case_refused(int opts)
{
	struct event_base *base = event_base_new();
	struct seen s = {"refused", 0, 0, 0, 0, 0, 0, base};
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	/* Find a loopback port that nobody listens on: bind one, close it. */
	int l = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(l, (struct sockaddr *)&sin, sizeof(sin));
	getsockname(l, (struct sockaddr *)&sin, &slen);
	close(l);
	struct bufferevent *bev = bufferevent_socket_new(base, -1,
	    BEV_OPT_CLOSE_ON_FREE | opts);
	bufferevent_setcb(bev, log_rcb, NULL, log_ecb, &s);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	int r = bufferevent_socket_connect(bev, (struct sockaddr *)&sin, sizeof(sin));
	printf("  refused: connect returned %d, fd assigned %s\n", r,
	    bufferevent_getfd(bev) >= 0 ? "yes" : "no");
	event_base_dispatch(base);
	printf("  refused: events %d\n", s.events);
	bufferevent_free(bev);
	event_base_free(base);
}

/* Writes to fd (non-blocking) until the socket takes no more. */
static void fill_socket(int fd)
{
	static char junk[4096];
	while (write(fd, junk, sizeof(junk)) > 0)
		;
}

static void case_timeouts(int opts)
{
	/* Two bufferevents with different read timeouts on quiet sockets,
	 * one with a write timeout on a socket whose peer never reads: the
	 * callbacks come in timeout order. That order must not depend on how
	 * fast the machine runs: b3's socket is full before it is created, so
	 * its write timeout runs from the bufferevent_write that adds it (no
	 * write ever makes progress and restarts it), and the timeouts are
	 * added shortest first, so each deadline is later than the one
	 * before whatever time passes in between. */
	int p1[2], p2[2], p3[2];
	struct event_base *base = event_base_new();
	struct seen s1 = {"rd-30ms", 0, 0, 0, 0, 0, 0, base};
	struct seen s2 = {"rd-120ms", 0, 0, 0, 0, 0, 0, base};
	struct seen s3 = {"wr-70ms", 0, 0, 0, 0, 0, 0, base};
	make_pair(p1);
	make_pair(p2);
	make_pair(p3);
	fill_socket(p3[0]);
	struct bufferevent *b1 = bufferevent_socket_new(base, p1[0], opts);
	struct bufferevent *b2 = bufferevent_socket_new(base, p2[0], opts);
	struct bufferevent *b3 = bufferevent_socket_new(base, p3[0], opts);
	struct timeval t30 = {0, 30000}, t120 = {0, 120000}, t70 = {0, 70000};
	bufferevent_setcb(b1, log_rcb, NULL, log_ecb, &s1);
	bufferevent_setcb(b2, log_rcb, NULL, log_ecb, &s2);
	bufferevent_setcb(b3, log_rcb, NULL, log_ecb, &s3);
	bufferevent_set_timeouts(b1, &t30, NULL);
	bufferevent_set_timeouts(b2, &t120, NULL);
	bufferevent_set_timeouts(b3, NULL, &t70);
	printf("  timeouts: b1 timeout_read %ld.%06ld b3 timeout_write %ld.%06ld\n",
	    (long)b1->timeout_read.tv_sec, (long)b1->timeout_read.tv_usec,
	    (long)b3->timeout_write.tv_sec, (long)b3->timeout_write.tv_usec);
	bufferevent_enable(b1, EV_READ);
	static char big[1 << 16];
	memset(big, 'x', sizeof(big));
	for (int i = 0; i < 4; i++)
		bufferevent_write(b3, big, sizeof(big));
	bufferevent_enable(b2, EV_READ);
	event_base_dispatch(base);
	printf("  timeouts: enabled after: b1 0x%x b2 0x%x b3 0x%x\n",
	    bufferevent_get_enabled(b1), bufferevent_get_enabled(b2),
	    bufferevent_get_enabled(b3));
	/* Re-enabling reading restarts the timeout. */
	bufferevent_enable(b1, EV_READ);
	event_base_dispatch(base);
	/* Data arriving before the timeout means no timeout. */
	bufferevent_enable(b1, EV_READ);
	if (write(p1[1], "abc", 3) != 3)
		exit(1);
	struct timeval stop = {0, 10000};
	event_base_loopexit(base, &stop);
	event_base_dispatch(base);
	printf("  timeouts: b1 reads %d bytes %zu events %d\n", s1.reads, s1.bytes,
	    s1.events);
	/* Clearing the timeout. */
	bufferevent_set_timeouts(b1, NULL, NULL);
	printf("  timeouts: cleared timeout_read %ld.%06ld\n",
	    (long)b1->timeout_read.tv_sec, (long)b1->timeout_read.tv_usec);
	bufferevent_free(b1);
	bufferevent_free(b2);
	bufferevent_free(b3);
	close(p1[0]); close(p1[1]);
	close(p2[0]); close(p2[1]);
	close(p3[0]); close(p3[1]);
	event_base_free(base);
}

static void case_free_in_read(int opts)
{
	int fds[2];
	struct event_base *base = event_base_new();
	struct seen s = {"free-in-read", 0, 0, 0, 0, 1, 0, base};
	make_pair(fds);
	struct bufferevent *bev = bufferevent_socket_new(base, fds[0],
	    BEV_OPT_CLOSE_ON_FREE | opts);
	bufferevent_setcb(bev, log_rcb, NULL, log_ecb, &s);
	bufferevent_enable(bev, EV_READ);
	if (write(fds[1], "xyz", 3) != 3)
		exit(1);
	event_base_dispatch(base);
	printf("  free-in-read: reads %d bytes %zu, fd %s, loop ended\n", s.reads,
	    s.bytes, fdstate(fds[0]));
	/* More data for a freed bufferevent must not reach anyone. */
	close(fds[1]);
	event_base_free(base);
}

static void case_close_on_free(int opts)
{
	int fds[2];
	struct event_base *base = event_base_new();
	make_pair(fds);
	struct bufferevent *a = bufferevent_socket_new(base, fds[0], opts);
	struct bufferevent *b = bufferevent_socket_new(base, fds[1],
	    BEV_OPT_CLOSE_ON_FREE | opts);
	bufferevent_enable(a, EV_READ);
	bufferevent_enable(b, EV_READ);
	bufferevent_free(a);
	bufferevent_free(b);
	/* libevent finishes a free from the loop (its finalizers), so the
	 * socket is closed once the loop has run, not at once. */
	printf("  close-on-free: right after free the fd is %s\n", fdstate(fds[1]));
	event_base_loop(base, EVLOOP_NONBLOCK);
	printf("  close-on-free: without flag %s, with flag %s\n",
	    fdstate(fds[0]), fdstate(fds[1]));
	close(fds[0]);
	/* Free with data still queued: nothing is flushed, nothing crashes. */
	make_pair(fds);
	a = bufferevent_socket_new(base, fds[0], BEV_OPT_CLOSE_ON_FREE | opts);
	bufferevent_write(a, "pending", 7);
	bufferevent_free(a);
	event_base_loop(base, EVLOOP_NONBLOCK);
	char buf[16];
	ssize_t n = read(fds[1], buf, sizeof(buf));
	printf("  close-on-free: peer read after free with queued data: %zd\n", n);
	close(fds[1]);
	event_base_free(base);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	{
		/* No evthread_use_pthreads in this program: there is no lock to
		 * give a thread-safe bufferevent, so libevent refuses it. */
		struct event_base *base = event_base_new();
		int fds[2];
		make_pair(fds);
		struct bufferevent *ts = bufferevent_socket_new(base, fds[0],
		    BEV_OPT_THREADSAFE);
		printf("THREADSAFE without evthread: %s\n", ts ? "created" : "NULL");
		if (ts)
			bufferevent_free(ts);
		close(fds[0]);
		close(fds[1]);
		event_base_free(base);
	}
	for (int v = 0; v < 2; v++) {
		int opts = v ? BEV_OPT_DEFER_CALLBACKS : 0;
		printf("== %s\n", v ? "deferred callbacks" : "plain callbacks");
		case_eof(opts);
		case_reset(opts);
		case_epipe(opts);
		case_refused(opts);
		case_timeouts(opts);
		case_free_in_read(opts);
		case_close_on_free(opts);
	}
	return 0;
}
