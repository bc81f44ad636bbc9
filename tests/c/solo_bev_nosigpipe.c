/*
 * solo_bev_nosigpipe.c -- goevent only: a socket bufferevent never raises
 * SIGPIPE, whatever descriptor it had before.
 *
 * goevent's bufferevents write sockets with MSG_NOSIGNAL (libevent's
 * writev would kill a program that leaves SIGPIPE at its default, which is
 * why this test cannot run against libevent), and write terminals with a
 * plain writev from C, which they remember per bufferevent. Here SIGPIPE
 * stays at its default: a bufferevent first writes a pseudo-terminal, is
 * then moved with bufferevent_setfd to a socket, writes a few times, and
 * writes again once the socket's peer has closed. It must get an error
 * event with EPIPE and the program must live; a bufferevent that kept
 * writing with writev from C would be killed. Then a bufferevent on a
 * pipe (written from Go once found not to be a socket) writes, and writes
 * again once the pipe's reader is gone: EPIPE again, and no signal.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bevtest.h"
#include "ptytest.h"

static short got_events;
static int got_err;

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)arg;
	got_events = what;
	got_err = EVUTIL_SOCKET_ERROR();
	event_base_loopbreak(bufferevent_get_base(bev));
}

/* Three writes through bev, each followed by 50 ms of the loop. */
static void write_thrice(struct event_base *base, struct bufferevent *bev, const char *msg)
{
	for (int i = 0; i < 3; i++) {
		bufferevent_write(bev, msg, strlen(msg));
		spin(base, 50);
	}
}

int main(void)
{
	signal(SIGPIPE, SIG_DFL);
	struct event_base *base = event_base_new();
	int s, m = open_raw_pty(&s);

	struct bufferevent *bev = bufferevent_socket_new(base, m, 0);
	bufferevent_setcb(bev, NULL, NULL, event_cb, NULL);
	bufferevent_enable(bev, EV_WRITE);
	bufferevent_write(bev, "to the terminal", 15);
	spin(base, 200);
	char buf[64];
	ssize_t n = read(s, buf, sizeof buf);
	int ok = n == 15 && memcmp(buf, "to the terminal", 15) == 0;
	printf("pty: %zd bytes arrived%s\n", n, ok ? "" : " (FAIL)");

	/* The first write after setfd goes through Go (setfd lifts the
	 * output's freeze); the later ones through the C handler, which is
	 * where a remembered writev would be used. */
	int sv[2];
	make_pair(sv);
	bufferevent_setfd(bev, sv[0]);
	bufferevent_enable(bev, EV_WRITE);
	write_thrice(base, bev, "to the socket");
	n = read(sv[1], buf, sizeof buf);
	int ok1 = n == 39;
	printf("socket: %zd bytes arrived%s\n", n, ok1 ? "" : " (FAIL)");
	ok = ok && ok1;
	close(sv[1]);
	bufferevent_write(bev, "to a closed peer", 16);
	struct timeval limit = { 2, 0 };
	event_base_loopexit(base, &limit);
	event_base_dispatch(base);
	int ok2 = got_events == (BEV_EVENT_ERROR | BEV_EVENT_WRITING) && got_err == EPIPE;
	printf("socket after setfd: events %#x, errno %s%s\n", got_events, strerror(got_err),
	    ok2 ? "" : " (FAIL)");

	bufferevent_free(bev);
	close(sv[0]);
	close(m);
	close(s);

	/* A pipe: written from Go (where SIGPIPE is swallowed) once found
	 * not to be a socket; its reader gone, EPIPE and no signal. */
	int p[2];
	if (pipe(p) != 0)
		return 1;
	evutil_make_socket_nonblocking(p[1]);
	bev = bufferevent_socket_new(base, p[1], BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(bev, NULL, NULL, event_cb, NULL);
	bufferevent_enable(bev, EV_WRITE);
	write_thrice(base, bev, "to the pipe");
	n = read(p[0], buf, sizeof buf);
	int ok3 = n == 33;
	printf("pipe: %zd bytes arrived%s\n", n, ok3 ? "" : " (FAIL)");
	close(p[0]);
	got_events = 0;
	bufferevent_write(bev, "to no reader", 12);
	event_base_loopexit(base, &limit);
	event_base_dispatch(base);
	int ok4 = got_events == (BEV_EVENT_ERROR | BEV_EVENT_WRITING) && got_err == EPIPE;
	printf("pipe without reader: events %#x, errno %s%s\n", got_events, strerror(got_err),
	    ok4 ? "" : " (FAIL)");
	bufferevent_free(bev);

	event_base_free(base);
	int all = ok && ok2 && ok3 && ok4;
	printf("solo_bev_nosigpipe: %s\n", all ? "OK" : "FAILED");
	return !all;
}
