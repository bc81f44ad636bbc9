/*
 * diff_event_compat.c -- differential test of the libevent 1.x API
 * (event_compat.h) over the global current base.
 *
 * event_init makes the current base; event_set assigns to it; event_add,
 * event_dispatch, event_loop, event_loopexit, event_loopbreak, event_once,
 * event_priority_init and event_get_method all act on it; event_base_set
 * moves an event to another base; event_base_free(NULL) frees the current
 * base.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event.h>

static struct event ev_a, ev_b, ev_c;
static int ticks;

static void tick_cb(int fd, short what, void *arg)
{
	struct timeval t10 = { 0, 10000 };
	(void)fd;
	printf("  tick %d what=0x%x arg=%s\n", ++ticks, what, (const char *)arg);
	if (ticks < 3)
		event_add(&ev_a, &t10);
	else
		printf("  loopbreak -> %d\n", event_loopbreak());
}

static void plain_cb(int fd, short what, void *arg)
{
	printf("  %s fd=%d what=0x%x\n", (const char *)arg, fd, what);
}

int main(void)
{
	struct event_base *b0, *other;
	struct timeval t10 = { 0, 10000 }, t30 = { 0, 30000 };
	int p[2], r;
	setvbuf(stdout, NULL, _IOLBF, 0);
	b0 = event_init();
	printf("event_init: %s method=%s\n", b0 ? "ok" : "NULL", event_get_method());
	printf("priority_init(2) -> %d npri=%d\n", event_priority_init(2),
	    event_base_get_npriorities(NULL));

	event_set(&ev_a, -1, 0, tick_cb, "a");
	printf("set: base is current=%d pri=%d\n", event_get_base(&ev_a) == b0,
	    event_get_priority(&ev_a));
	event_add(&ev_a, &t10);
	r = event_dispatch();
	printf("dispatch -> %d ticks=%d\n", r, ticks);

	if (pipe(p) != 0)
		return 1;
	event_set(&ev_b, p[1], EV_WRITE, plain_cb, "writer");
	event_add(&ev_b, NULL);
	r = event_loop(EVLOOP_NONBLOCK);
	printf("loop(NONBLOCK) -> %d\n", r);
	r = event_loop(EVLOOP_ONCE | EVLOOP_NONBLOCK);
	printf("loop(ONCE|NONBLOCK), nothing left -> %d\n", r);

	printf("once -> %d\n", event_once(-1, EV_TIMEOUT, plain_cb, "once", &t10));
	printf("loopexit -> %d\n", event_loopexit(&t30));
	r = event_dispatch();
	printf("dispatch -> %d\n", r);

	other = event_base_new();
	event_set(&ev_c, -1, 0, plain_cb, "moved");
	printf("base_set -> %d\n", event_base_set(other, &ev_c));
	event_add(&ev_c, &t10);
	r = event_dispatch();
	printf("current dispatch (event moved away) -> %d\n", r);
	r = event_base_dispatch(other);
	printf("other dispatch -> %d\n", r);
	event_base_free(other);

	event_base_free(NULL);
	close(p[0]);
	close(p[1]);
	printf("done\n");
	return 0;
}
