/*
 * diff_bev_nonsock: socket bufferevents on descriptors that are not
 * sockets, as terminal programs (tmux, screen-like tools) and programs
 * that talk to pipes make them.
 *
 *  - a pseudo-terminal master (raw mode): 256 KiB written through the
 *    bufferevent arrive intact at the slave, with the writes held up by the
 *    terminal's small buffer along the way; bytes written at the slave
 *    reach the bufferevent's read callback; the slave closed: the
 *    bufferevent reports it as libevent does (EIO: error while reading);
 *  - a regular file: a bufferevent's output written to it;
 *  - a pipe: 256 KiB through a bufferevent on the write end; then the read
 *    end closed (SIGPIPE ignored, as programs that write pipes do): the
 *    error event with EPIPE;
 *  - bufferevent_setfd from a pseudo-terminal to a socket pair: the data
 *    written afterwards goes through the socket.
 *
 * The trace: byte counts, a checksum of what arrived, each event's flags
 * and errno.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bevtest.h"
#include "ptytest.h"

#define TOTAL (256u << 10)

static unsigned char pattern(size_t i)
{
	return (unsigned char)((i * 2654435761u) >> 11);
}

struct sink {
	int fd;
	size_t got;
	unsigned sum;
	int bad;
	struct event *ev;
	struct event_base *base;
	size_t want;
};

static void sink_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sink *s = arg;
	unsigned char buf[8192];
	(void)what;
	ssize_t n = read(fd, buf, sizeof buf);
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] != pattern(s->got + (size_t)i))
			s->bad++;
		s->sum = s->sum * 31 + buf[i];
	}
	if (n > 0)
		s->got += (size_t)n;
	if (n == 0 || s->got >= s->want)
		event_base_loopbreak(s->base);
}

struct writer {
	size_t queued;
	int fills;
	short events;
	int err;
};

/* Keeps the output topped up to 32 KiB until TOTAL is queued. */
static void fill(struct bufferevent *bev, struct writer *w)
{
	unsigned char buf[4096];
	while (w->queued < TOTAL && out_len(bev) < (32u << 10)) {
		size_t n = TOTAL - w->queued < sizeof buf ? TOTAL - w->queued : sizeof buf;
		for (size_t i = 0; i < n; i++)
			buf[i] = pattern(w->queued + i);
		bufferevent_write(bev, buf, n);
		w->queued += n;
	}
	w->fills++;
}

static void writer_cb(struct bufferevent *bev, void *arg)
{
	fill(bev, arg);
}

static void writer_event(struct bufferevent *bev, short what, void *arg)
{
	struct writer *w = arg;
	w->events = what;
	w->err = EVUTIL_SOCKET_ERROR();
	event_base_loopbreak(bufferevent_get_base(bev));
}

/* Sends TOTAL bytes through bev into the descriptor sfd, read by the loop. */
static void transfer(struct event_base *base, struct bufferevent *bev, int sfd, const char *what)
{
	struct writer w = { 0, 0, 0, 0 };
	struct sink s = { sfd, 0, 0, 0, NULL, base, TOTAL };
	s.ev = event_new(base, sfd, EV_READ | EV_PERSIST, sink_cb, &s);
	event_add(s.ev, NULL);
	bufferevent_setcb(bev, NULL, writer_cb, writer_event, &w);
	bufferevent_setwatermark(bev, EV_WRITE, 8192, 0);
	bufferevent_enable(bev, EV_WRITE);
	fill(bev, &w);
	struct timeval limit = { 10, 0 };
	event_base_loopexit(base, &limit);
	event_base_dispatch(base);
	printf("%s: %zu of %u bytes arrived, %s, checksum %08x, output left %zu, "
	    "refills > 8: %s\n", what, s.got, TOTAL, s.bad ? "CORRUPTED" : "intact", s.sum,
	    out_len(bev), w.fills > 8 ? "yes" : "no");
	event_free(s.ev);
}

/* ---- reading side and errors --------------------------------------------- */

struct reader {
	size_t got;
	short events;
	int err;
};

static void reader_cb(struct bufferevent *bev, void *arg)
{
	struct reader *r = arg;
	char buf[256];
	size_t n;
	while ((n = bufferevent_read(bev, buf, sizeof buf)) > 0)
		r->got += n;
	if (r->got >= 11)
		event_base_loopbreak(bufferevent_get_base(bev));
}

static void reader_event(struct bufferevent *bev, short what, void *arg)
{
	struct reader *r = arg;
	r->events = what;
	r->err = EVUTIL_SOCKET_ERROR();
	event_base_loopbreak(bufferevent_get_base(bev));
}

static void pty_case(struct event_base *base)
{
	int slave, master = open_raw_pty(&slave);
	struct bufferevent *bev = bufferevent_socket_new(base, master, BEV_OPT_CLOSE_ON_FREE);
	transfer(base, bev, slave, "pty master -> slave");

	struct reader r = { 0, 0, 0 };
	bufferevent_setcb(bev, reader_cb, NULL, reader_event, &r);
	bufferevent_enable(bev, EV_READ);
	put(slave, "hello, pty\n", 11);
	spin(base, 2000);
	printf("pty slave -> master: %zu bytes read\n", r.got);

	close(slave);
	r.events = 0;
	spin(base, 2000);
	printf("pty slave closed: events %#x, errno %s\n", r.events,
	    r.events & BEV_EVENT_ERROR ? strerror(r.err) : "-");
	bufferevent_free(bev);
}

static void file_case(struct event_base *base)
{
	char path[] = "/tmp/diff_bev_nonsock-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0) {
		perror("mkstemp");
		exit(1);
	}
	unlink(path);
	struct bufferevent *bev = bufferevent_socket_new(base, fd, 0);
	struct writer w = { 0, 0, 0, 0 };
	bufferevent_setcb(bev, NULL, NULL, writer_event, &w);
	bufferevent_enable(bev, EV_WRITE);
	/* epoll refuses regular files: the write event cannot be added, and
	 * the output stays where it is, under both libraries. */
	bufferevent_write(bev, "file bytes\n", 11);
	spin(base, 100);
	printf("file: output left %zu, file size %ld, events %#x\n", out_len(bev),
	    (long)lseek(fd, 0, SEEK_END), w.events);
	bufferevent_free(bev);
	close(fd);
}

static void pipe_case(struct event_base *base)
{
	int p[2];
	if (pipe(p) != 0) {
		perror("pipe");
		exit(1);
	}
	evutil_make_socket_nonblocking(p[0]);
	evutil_make_socket_nonblocking(p[1]);
	struct bufferevent *bev = bufferevent_socket_new(base, p[1], BEV_OPT_CLOSE_ON_FREE);
	transfer(base, bev, p[0], "pipe");

	close(p[0]);
	struct writer w = { 0, 0, 0, 0 };
	bufferevent_setcb(bev, NULL, NULL, writer_event, &w);
	bufferevent_write(bev, "after the reader left", 21);
	struct timeval limit = { 2, 0 };
	event_base_loopexit(base, &limit);
	event_base_dispatch(base);
	printf("pipe reader closed: events %#x, errno %s\n", w.events,
	    w.events & BEV_EVENT_ERROR ? strerror(w.err) : "-");
	bufferevent_free(bev);
}

static void setfd_case(struct event_base *base)
{
	int slave, master = open_raw_pty(&slave);
	struct bufferevent *bev = bufferevent_socket_new(base, master, 0);
	transfer(base, bev, slave, "setfd: pty first");
	int sv[2];
	make_pair(sv);
	bufferevent_setfd(bev, sv[0]);
	bufferevent_enable(bev, EV_WRITE);
	transfer(base, bev, sv[1], "setfd: then a socket");
	bufferevent_free(bev);
	close(sv[0]);
	close(sv[1]);
	close(master);
	close(slave);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	struct event_base *base = event_base_new();
	pty_case(base);
	file_case(base);
	pipe_case(base);
	setfd_case(base);
	event_base_free(base);
	return 0;
}
