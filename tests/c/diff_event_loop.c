/*
 * diff_event_loop.c -- differential test of loop control and priorities.
 *
 * event_base_loop's return codes (1 with no events, 0 after a normal stop,
 * -1 when reentered), EVLOOP_ONCE, EVLOOP_NONBLOCK and
 * EVLOOP_NO_EXIT_ON_EMPTY; loopexit (finishes the current pass) against
 * loopbreak (stops after the running callback); got_exit/got_break;
 * loopcontinue; priorities (one queue per pass, a higher priority
 * activated from a lower one's callback runs first); event_active merging
 * results and ncalls; the running event; event_base_get_npriorities and
 * event_priority_set's checks. Everything is driven by event_active and
 * short timers, so the order of callbacks is fully determined.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/event_struct.h>

static struct event_base *base;

static void log_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	printf("  cb %s what=0x%x\n", (const char *)arg, what);
}

static struct event ev_a, ev_b, ev_c, ev_d;

static void exit_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	printf("  cb %s: loopexit -> %d\n", (const char *)arg, event_base_loopexit(base, NULL));
}

static void break_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	printf("  cb %s: loopbreak -> %d\n", (const char *)arg, event_base_loopbreak(base));
}

static void test_return_codes(void)
{
	struct event ev;
	struct timeval t10 = { 0, 10000 };
	int r;
	printf("-- return codes\n");
	r = event_base_loop(base, 0);
	printf("empty loop -> %d\n", r);
	r = event_base_loop(base, EVLOOP_NONBLOCK);
	printf("empty nonblock -> %d\n", r);
	r = event_base_loop(base, EVLOOP_ONCE);
	printf("empty once -> %d\n", r);
	r = event_base_loop(base, EVLOOP_NONBLOCK | EVLOOP_NO_EXIT_ON_EMPTY);
	printf("empty nonblock|no_exit -> %d\n", r);

	event_assign(&ev, base, -1, 0, log_cb, "t10");
	event_add(&ev, &t10);
	r = event_base_loop(base, EVLOOP_NONBLOCK);
	printf("nonblock with pending timer -> %d pending=0x%x\n", r,
	    event_pending(&ev, EV_TIMEOUT, NULL));
	r = event_base_loop(base, EVLOOP_ONCE);
	printf("once -> %d pending=0x%x\n", r, event_pending(&ev, EV_TIMEOUT, NULL));
	r = event_base_loop(base, EVLOOP_ONCE);
	printf("once again -> %d\n", r);
}

static void test_exit_vs_break(void)
{
	int r;
	printf("-- loopexit vs loopbreak\n");
	event_assign(&ev_a, base, -1, 0, exit_cb, "a");
	event_assign(&ev_b, base, -1, 0, log_cb, "b");
	event_active(&ev_a, EV_TIMEOUT, 1);
	event_active(&ev_b, EV_TIMEOUT, 1);
	r = event_base_dispatch(base);
	printf("loop -> %d got_exit=%d got_break=%d\n", r,
	    event_base_got_exit(base), event_base_got_break(base));

	event_assign(&ev_c, base, -1, 0, break_cb, "c");
	event_assign(&ev_d, base, -1, 0, log_cb, "d");
	event_active(&ev_c, EV_TIMEOUT, 1);
	event_active(&ev_d, EV_TIMEOUT, 1);
	r = event_base_dispatch(base);
	printf("loop -> %d got_exit=%d got_break=%d d_pending=0x%x\n", r,
	    event_base_got_exit(base), event_base_got_break(base),
	    event_pending(&ev_d, EV_TIMEOUT, NULL));
	r = event_base_loop(base, EVLOOP_NONBLOCK);
	printf("resume -> %d got_break=%d\n", r, event_base_got_break(base));

	/* Break and exit requested before the loop starts are forgotten. */
	event_base_loopbreak(base);
	event_active(&ev_d, EV_TIMEOUT, 1);
	r = event_base_loop(base, EVLOOP_NONBLOCK);
	printf("break before loop -> %d\n", r);
}

static int reentry_result = 99;
static void reenter_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	reentry_result = event_base_loop(base, EVLOOP_NONBLOCK);
	printf("  running event is self: %d\n",
	    event_base_get_running_event(base) == &ev_a);
}

static void test_reentrant(void)
{
	int r;
	printf("-- reentrant\n");
	event_assign(&ev_a, base, -1, 0, reenter_cb, NULL);
	event_active(&ev_a, EV_TIMEOUT, 1);
	r = event_base_dispatch(base);
	/* (Not asked outside a callback: libevent dereferences a NULL current
	 * event there.) */
	printf("loop -> %d nested -> %d\n", r, reentry_result);
}

static struct event pri_ev[3], extra_ev;

static void pri_cb(evutil_socket_t fd, short what, void *arg)
{
	int i = (int)(long)arg;
	(void)fd;
	printf("  pri%d what=0x%x\n", i, what);
	if (i == 2 && !event_pending(&extra_ev, EV_TIMEOUT, NULL)) {
		/* Activating a higher priority restarts the pass there. */
		event_active(&pri_ev[0], EV_READ, 1);
		event_active(&extra_ev, EV_TIMEOUT, 1);
	}
}

static void test_priorities(void)
{
	int i, r;
	printf("-- priorities\n");
	printf("npriorities=%d\n", event_base_get_npriorities(base));
	printf("priority_init(0) -> %d\n", event_base_priority_init(base, 0));
	printf("priority_init(256) -> %d\n", event_base_priority_init(base, 256));
	printf("priority_init(3) -> %d\n", event_base_priority_init(base, 3));
	printf("npriorities=%d\n", event_base_get_npriorities(base));
	for (i = 0; i < 3; i++) {
		event_assign(&pri_ev[i], base, -1, 0, pri_cb, (void *)(long)i);
		printf("default pri of ev%d=%d\n", i, event_get_priority(&pri_ev[i]));
		printf("set pri %d -> %d\n", i, event_priority_set(&pri_ev[i], i));
	}
	event_assign(&extra_ev, base, -1, 0, log_cb, "extra");
	event_priority_set(&extra_ev, 2);
	printf("set pri 3 -> %d, pri -1 -> %d\n", event_priority_set(&pri_ev[0], 3),
	    event_priority_set(&pri_ev[0], -1));
	event_active(&pri_ev[2], EV_TIMEOUT, 1);
	event_active(&pri_ev[1], EV_TIMEOUT, 1);
	event_active(&pri_ev[0], EV_TIMEOUT, 1);
	event_active(&pri_ev[0], EV_WRITE, 5); /* merges into the pending result */
	printf("set pri while active -> %d\n", event_priority_set(&pri_ev[0], 1));
	printf("priority_init while active -> %d\n", event_base_priority_init(base, 2));
	r = event_base_loop(base, EVLOOP_ONCE);
	printf("once -> %d\n", r);
	event_active(&pri_ev[2], EV_TIMEOUT, 1);
	event_active(&pri_ev[1], EV_TIMEOUT, 1);
	r = event_base_loop(base, EVLOOP_NONBLOCK);
	printf("nonblock -> %d\n", r);
	r = event_base_loop(base, EVLOOP_NONBLOCK);
	printf("nonblock again -> %d\n", r);
	printf("priority_init(1) -> %d\n", event_base_priority_init(base, 1));
}

static int cont_runs;
static void cont_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	printf("  cont %s\n", (const char *)arg);
	if (++cont_runs == 1)
		printf("  loopcontinue -> %d\n", event_base_loopcontinue(base));
}

static void test_continue(void)
{
	int r;
	printf("-- loopcontinue\n");
	event_assign(&ev_a, base, -1, 0, cont_cb, "a");
	event_assign(&ev_b, base, -1, 0, cont_cb, "b");
	event_active(&ev_a, EV_TIMEOUT, 1);
	event_active(&ev_b, EV_TIMEOUT, 1);
	r = event_base_loop(base, EVLOOP_ONCE);
	printf("once -> %d\n", r);
	r = event_base_loop(base, EVLOOP_NONBLOCK);
	printf("nonblock -> %d\n", r);
}

static int sig_like_runs;
static void ncalls_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)arg;
	printf("  ncalls cb what=0x%x run=%d\n", what, ++sig_like_runs);
}

static void test_active_results(void)
{
	int r;
	printf("-- active results\n");
	event_assign(&ev_a, base, 5, EV_READ | EV_WRITE, ncalls_cb, NULL);
	event_active(&ev_a, EV_READ, 1);
	event_active(&ev_a, EV_WRITE | EV_TIMEOUT, 1);
	printf("pending=0x%x active=%d\n", event_pending(&ev_a, EV_READ | EV_WRITE | EV_TIMEOUT, NULL),
	    event_base_get_num_events(base, EVENT_BASE_COUNT_ACTIVE));
	r = event_base_loop(base, EVLOOP_NONBLOCK);
	printf("nonblock -> %d\n", r);
	/* Deleting an active event cancels its callback. */
	event_active(&ev_a, EV_READ, 1);
	printf("del -> %d\n", event_del(&ev_a));
	r = event_base_loop(base, EVLOOP_NONBLOCK);
	printf("nonblock after del -> %d runs=%d\n", r, sig_like_runs);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	base = event_base_new();
	if (!base) {
		printf("no base\n");
		return 1;
	}
	test_return_codes();
	test_exit_vs_break();
	test_reentrant();
	test_priorities();
	test_continue();
	test_active_results();
	event_base_free(base);
	printf("done\n");
	return 0;
}
