/*
 * diff_event_timers.c -- differential test of timers.
 *
 * Timer firing order (deadlines at least 20 ms apart, added out of order),
 * persistent timers (a fixed number of runs, then deleted from their own
 * callback), re-adding a pending timer (it moves), event_del and
 * event_remove_timer, event_pending with the reported deadline (only
 * whether it is set and its distance from now in whole seconds),
 * event_base_once with and without a timeout, loopexit with a delay,
 * common timeouts, and the event counters. Nothing printed depends on
 * timing beyond ordering by deadline.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <event2/event.h>
#include <event2/event_struct.h>

static struct event_base *base;

static struct timeval ms(long n)
{
	struct timeval tv = { n / 1000, (n % 1000) * 1000 };
	return tv;
}

static void named_cb(evutil_socket_t fd, short what, void *arg)
{
	printf("timer %s fd=%d what=0x%x\n", (const char *)arg, (int)fd, what);
}

static void test_order(void)
{
	static const long delays[] = { 80, 20, 120, 60, 40, 100 };
	static const char *names[] = { "80", "20", "120", "60", "40", "100" };
	struct event evs[6];
	int i;
	printf("-- order\n");
	for (i = 0; i < 6; i++) {
		struct timeval tv = ms(delays[i]);
		event_assign(&evs[i], base, -1, 0, named_cb, (void *)names[i]);
		printf("add %s -> %d\n", names[i], event_add(&evs[i], &tv));
	}
	printf("added=%d active=%d\n",
	    event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED),
	    event_base_get_num_events(base, EVENT_BASE_COUNT_ACTIVE));
	printf("loop -> %d\n", event_base_dispatch(base));
	printf("added=%d\n", event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED));
}

static int persist_runs;
static void persist_cb(evutil_socket_t fd, short what, void *arg)
{
	struct event *ev = arg;
	(void)fd;
	persist_runs++;
	printf("persist run %d what=0x%x pending=0x%x\n", persist_runs, what,
	    event_pending(ev, EV_TIMEOUT | EV_READ, NULL));
	if (persist_runs == 3)
		printf("del -> %d\n", event_del(ev));
}

static void test_persist(void)
{
	struct event *ev;
	struct timeval tv = ms(25);
	printf("-- persist\n");
	ev = event_new(base, -1, EV_PERSIST, persist_cb, event_self_cbarg());
	printf("callback_arg is self: %d\n", event_get_callback_arg(ev) == (void *)ev);
	printf("add -> %d\n", event_add(ev, &tv));
	{
		int r = event_base_dispatch(base);
		printf("loop -> %d runs=%d\n", r, persist_runs);
	}
	event_free(ev);
}

static void test_readd_and_remove(void)
{
	struct event a, b, c;
	struct timeval t40 = ms(40), t20 = ms(20), t200 = ms(200);
	struct timeval tv, now;
	int r;
	printf("-- readd/remove\n");
	event_assign(&a, base, -1, 0, named_cb, "a");
	event_assign(&b, base, -1, 0, named_cb, "b");
	event_assign(&c, base, 1000, EV_READ, named_cb, "c");
	event_add(&a, &t20);
	event_add(&b, &t40);
	/* Re-adding moves the deadline: a now fires after b. */
	event_add(&a, &t200);
	r = event_pending(&a, EV_TIMEOUT, &tv);
	gettimeofday(&now, NULL);
	printf("pending(a)=0x%x tv_set=%d secs_ahead_ok=%d\n", r,
	    tv.tv_sec != 0 || tv.tv_usec != 0,
	    tv.tv_sec - now.tv_sec >= 0 && tv.tv_sec - now.tv_sec <= 1);
	printf("pending(b, READ)=0x%x\n", event_pending(&b, EV_READ, NULL));
	r = event_remove_timer(&b);
	printf("remove_timer(b) -> %d pending=0x%x\n", r,
	    event_pending(&b, EV_TIMEOUT, NULL));
	printf("added=%d\n", event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED));
	printf("loop -> %d\n", event_base_dispatch(base));
	/* A non-timer event with a timer: removing the timer keeps it added. */
	r = event_add(&c, &t200);
	printf("add c (fd 1000, not open) -> %d errno_ebadf=%d\n", r, errno == EBADF);
	r = event_del(&c);
	printf("del c -> %d\n", r);
	printf("del again -> %d\n", event_del(&c));
}

static void test_pending_tv(void)
{
	struct event ev;
	struct timeval t5 = { 5, 0 }, tv = { 0, 0 }, now;
	int r;
	printf("-- pending tv\n");
	event_assign(&ev, base, -1, 0, named_cb, "p");
	printf("pending before add=0x%x\n", event_pending(&ev, EV_TIMEOUT, &tv));
	event_add(&ev, &t5);
	r = event_pending(&ev, EV_TIMEOUT | EV_READ | EV_WRITE | EV_SIGNAL, &tv);
	gettimeofday(&now, NULL);
	printf("pending=0x%x secs_ahead=%s\n", r,
	    (tv.tv_sec - now.tv_sec >= 4 && tv.tv_sec - now.tv_sec <= 5) ? "5" : "wrong");
	event_active(&ev, EV_WRITE, 1);
	printf("after active: pending(WRITE)=0x%x pending(all)=0x%x active=%d\n",
	    event_pending(&ev, EV_WRITE, NULL),
	    event_pending(&ev, EV_TIMEOUT | EV_READ | EV_WRITE, NULL),
	    event_base_get_num_events(base, EVENT_BASE_COUNT_ACTIVE));
	printf("loop nonblock -> %d\n", event_base_loop(base, EVLOOP_NONBLOCK));
	printf("pending after run=0x%x\n", event_pending(&ev, EV_TIMEOUT, NULL));
}

static void once_cb(evutil_socket_t fd, short what, void *arg)
{
	printf("once %s fd=%d what=0x%x\n", (const char *)arg, (int)fd, what);
}

static void test_once(void)
{
	struct timeval t30 = ms(30), zero = { 0, 0 };
	printf("-- once\n");
	printf("once timeout -> %d\n", event_base_once(base, -1, EV_TIMEOUT, once_cb, "timeout30", &t30));
	printf("once now -> %d\n", event_base_once(base, -1, EV_TIMEOUT, once_cb, "null-tv", NULL));
	printf("once zero -> %d\n", event_base_once(base, -1, EV_TIMEOUT, once_cb, "zero-tv", &zero));
	printf("once signal -> %d\n", event_base_once(base, -1, EV_SIGNAL, once_cb, "bad", NULL));
	printf("once persist -> %d\n", event_base_once(base, -1, EV_PERSIST | EV_TIMEOUT, once_cb, "bad", NULL));
	printf("once nothing -> %d\n", event_base_once(base, -1, 0, once_cb, "bad", NULL));
	printf("added=%d active=%d\n",
	    event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED),
	    event_base_get_num_events(base, EVENT_BASE_COUNT_ACTIVE));
	printf("loop -> %d\n", event_base_dispatch(base));
}

static int ticks;
static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	ticks++;
}

static void test_loopexit_delay(void)
{
	struct event ev;
	struct timeval t20 = ms(20), t70 = ms(70);
	printf("-- loopexit delay\n");
	event_assign(&ev, base, -1, EV_PERSIST, tick_cb, NULL);
	event_add(&ev, &t20);
	/* A tick every 20 ms keeps the loop busy; it leaves at 70 ms. How
	 * many ticks ran depends on scheduling, so only "some" is printed. */
	printf("loopexit -> %d\n", event_base_loopexit(base, &t70));
	{
		int r = event_base_dispatch(base);
		printf("loop -> %d ticked=%d got_exit=%d got_break=%d\n", r, ticks > 0,
		    event_base_got_exit(base), event_base_got_break(base));
		event_del(&ev);
		r = event_base_dispatch(base);
		printf("empty loop -> %d got_exit=%d\n", r, event_base_got_exit(base));
	}
}

static void test_common(void)
{
	const struct timeval *ct, *ct2;
	struct timeval d = ms(30), t60 = ms(60);
	struct event evs[3], other;
	static const char *names[] = { "c0", "c1", "c2" };
	int i;
	printf("-- common timeouts\n");
	ct = event_base_init_common_timeout(base, &d);
	ct2 = event_base_init_common_timeout(base, &d);
	printf("common same=%d sec=%ld usec_low=%ld magic_bits=%d\n", ct == ct2,
	    (long)ct->tv_sec, (long)(ct->tv_usec & 0xfffff), (ct->tv_usec & ~0xfffffL) != 0);
	for (i = 0; i < 3; i++) {
		event_assign(&evs[i], base, -1, 0, named_cb, (void *)names[i]);
		event_add(&evs[i], ct);
	}
	event_assign(&other, base, -1, 0, named_cb, "plain60");
	event_add(&other, &t60);
	printf("added=%d\n", event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED));
	printf("loop -> %d\n", event_base_dispatch(base));
}

static int count_cb(const struct event_base *b, const struct event *e, void *arg)
{
	(void)b;
	(void)e;
	++*(int *)arg;
	return 0;
}

static int stop_cb(const struct event_base *b, const struct event *e, void *arg)
{
	(void)b;
	(void)e;
	++*(int *)arg;
	return 42;
}

static void test_counts(void)
{
	struct event t1, t2, a1;
	struct timeval t100 = ms(100);
	int n = 0, r;
	printf("-- counts\n");
	event_base_get_max_events(base, EVENT_BASE_COUNT_ADDED | EVENT_BASE_COUNT_ACTIVE, 1);
	event_assign(&t1, base, -1, 0, named_cb, "t1");
	event_assign(&t2, base, -1, 0, named_cb, "t2");
	event_assign(&a1, base, -1, 0, named_cb, "a1");
	event_add(&t1, &t100);
	event_add(&t2, &t100);
	event_active(&a1, EV_TIMEOUT, 1);
	r = event_base_foreach_event(base, count_cb, &n);
	printf("foreach -> %d count=%d\n", r, n);
	n = 0;
	r = event_base_foreach_event(base, stop_cb, &n);
	printf("foreach stop -> %d count=%d\n", r, n);
	printf("foreach NULL fn -> %d\n", event_base_foreach_event(base, NULL, NULL));
	printf("added=%d active=%d virtual=%d\n",
	    event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED),
	    event_base_get_num_events(base, EVENT_BASE_COUNT_ACTIVE),
	    event_base_get_num_events(base, EVENT_BASE_COUNT_VIRTUAL));
	event_del(&t1);
	event_del(&t2);
	event_del(&a1);
	r = event_base_get_max_events(base, EVENT_BASE_COUNT_ADDED, 0);
	printf("max added=%d\n", r);
	r = event_base_get_max_events(base, EVENT_BASE_COUNT_ACTIVE, 1);
	printf("max active=%d\n", r);
	printf("after clear: max active=%d now added=%d\n",
	    event_base_get_max_events(base, EVENT_BASE_COUNT_ACTIVE, 0),
	    event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED));
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	base = event_base_new();
	if (!base) {
		printf("no base\n");
		return 1;
	}
	test_order();
	test_persist();
	test_readd_and_remove();
	test_pending_tv();
	test_once();
	test_loopexit_delay();
	test_common();
	test_counts();
	event_base_free(base);
	printf("done\n");
	return 0;
}
