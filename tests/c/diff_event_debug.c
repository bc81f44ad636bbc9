/*
 * diff_event_debug.c -- event_enable_debug_mode's checks, compared with
 * libevent: edge-triggered and level-triggered events may not share an fd
 * (event_add fails with a warning, whichever was added first), and the
 * events already added keep working.
 */
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/util.h>

#include "bevtest.h"
#include "trace.h"

static int warnings;

static void log_cb(int severity, const char *msg)
{
	(void)msg;
	if (severity == EVENT_LOG_WARN)
		warnings++;
}

static void read_cb(evutil_socket_t fd, short what, void *arg)
{
	char c;
	(void)arg;
	ssize_t n = read(fd, &c, 1);
	printf("read callback: what %#x, read %zd\n", what & ~EV_ET, n);
}

static void mix(struct event_base *base, int fds[2], short first, short second)
{
	struct event *a = event_new(base, fds[0], first, read_cb, NULL);
	struct event *b = event_new(base, fds[0], second, read_cb, NULL);
	warnings = 0;
	int ra = event_add(a, NULL);
	int rb = event_add(b, NULL);
	printf("add %s then %s: %d %d, %d warning(s); pending %#x %#x\n",
	    first & EV_ET ? "ET" : "LT", second & EV_ET ? "ET" : "LT", ra, rb, warnings,
	    event_pending(a, EV_READ, NULL), event_pending(b, EV_READ, NULL));
	put(fds[1], "x", 1);
	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	event_free(a);
	event_free(b);
}

int main(void)
{
	int fds[2];
	tr_init();
	event_set_log_callback(log_cb);
	event_enable_debug_mode();
	struct event_base *base = event_base_new();
	make_pair(fds);

	mix(base, fds, EV_READ | EV_ET, EV_READ);
	mix(base, fds, EV_READ, EV_READ | EV_ET);
	mix(base, fds, EV_READ | EV_ET, EV_READ | EV_ET | EV_PERSIST);
	mix(base, fds, EV_READ, EV_WRITE);
	mix(base, fds, EV_READ | EV_ET, EV_WRITE);

	close(fds[0]);
	close(fds[1]);
	event_base_free(base);
	return 0;
}
