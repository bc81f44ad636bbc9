/*
 * diff_event_fastpath.c -- differential test of the loop's C fast paths.
 *
 * On a base without a lock goevent activates events, runs plain C
 * callbacks, adds and deletes timers, answers event_pending and runs the
 * whole loop in C, handing the rest to Go. This test mixes the two sides
 * so that any disagreement shows in the order of callbacks: events that
 * re-activate themselves and activate others (higher and lower priorities,
 * loopbreak and loopcontinue in the middle of a chain), I/O and
 * non-persistent events with timeouts (Go's share), persistent timers,
 * timers with equal deadlines built by interleaved adds, re-adds and
 * deletes (their firing order depends on the heap's exact shape),
 * event_del of an event that is active but has not run, an event freed by
 * its own callback, the max-callbacks limit, EVLOOP_ONCE/NONBLOCK, and the
 * counters. Then the same on a lockable base with another thread calling
 * event_active, event_add and event_del while the loop runs.
 *
 * Timers that must fire in a set order are added from inside a callback,
 * where the loop's cached time gives them the same "now", so their order
 * depends on deadlines and heap order only, never on the clock's ticks.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/thread.h>

static struct event_base *base;

/* ---- a chain of self-activations mixed with other priorities ------------ */

static struct event chain, hi, lo, io_ev, once_to, victim;
static int chain_n;
static int fds[2];

static void hi_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)arg;
	printf("  hi what=0x%x running_self=%d\n", what,
	    event_base_get_running_event(base) == &hi);
}

static void lo_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)arg;
	printf("  lo what=0x%x\n", what);
}

static void victim_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)arg;
	printf("  victim ran what=0x%x (must not)\n", what);
}

static void io_cb(evutil_socket_t fd, short what, void *arg)
{
	char buf[16];
	ssize_t n = recv(fd, buf, sizeof(buf), 0);
	(void)arg;
	printf("  io what=0x%x read=%zd\n", what, n);
}

static void once_to_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)arg;
	printf("  once_to what=0x%x pending=0x%x\n", what,
	    event_pending(&once_to, EV_READ | EV_TIMEOUT, NULL));
}

static void chain_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)arg;
	chain_n++;
	printf("  chain %d what=0x%x running_self=%d active=%d\n", chain_n, what,
	    event_base_get_running_event(base) == &chain,
	    event_base_get_num_events(base, EVENT_BASE_COUNT_ACTIVE));
	switch (chain_n) {
	case 2:
		event_active(&hi, EV_READ, 1); /* higher priority: continue */
		break;
	case 3:
		event_active(&lo, EV_WRITE, 1);
		event_active(&lo, EV_READ, 1); /* merges */
		break;
	case 4:
		event_active(&victim, EV_READ, 1);
		event_del(&victim);
		printf("  victim pending=0x%x\n", event_pending(&victim, EV_READ, NULL));
		break;
	case 5:
		if (send(fds[1], "x", 1, 0) != 1)
			printf("  send failed\n");
		break;
	case 6:
		event_base_loopbreak(base);
		break;
	}
	if (chain_n < 10) {
		event_active(&chain, EV_READ | EV_TIMEOUT, 1);
		event_active(&chain, EV_WRITE, 1); /* merges */
	}
}

static void test_chain(void)
{
	struct timeval hour = { 3600, 0 };
	int r;
	printf("-- chain\n");
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
		return;
	event_base_priority_init(base, 3);
	event_assign(&chain, base, -1, 0, chain_cb, NULL);
	event_assign(&hi, base, -1, 0, hi_cb, NULL);
	event_assign(&lo, base, -1, 0, lo_cb, NULL);
	event_assign(&victim, base, -1, 0, victim_cb, NULL);
	event_assign(&io_ev, base, fds[0], EV_READ | EV_PERSIST, io_cb, NULL);
	event_assign(&once_to, base, fds[0], EV_READ, once_to_cb, NULL);
	event_priority_set(&hi, 0);
	event_priority_set(&lo, 2);
	event_add(&io_ev, NULL);
	event_add(&once_to, &hour);
	printf("pending once_to=0x%x io=0x%x\n",
	    event_pending(&once_to, EV_READ | EV_WRITE | EV_TIMEOUT, NULL),
	    event_pending(&io_ev, EV_READ | EV_TIMEOUT, NULL));
	event_active(&chain, EV_READ, 1);
	r = event_base_loop(base, 0);
	printf("loop -> %d got_break=%d chain=%d\n", r, event_base_got_break(base), chain_n);
	r = event_base_loop(base, EVLOOP_NONBLOCK);
	printf("nonblock -> %d chain=%d\n", r, chain_n);
	printf("pending chain=0x%x once_to=0x%x added=%d active=%d\n",
	    event_pending(&chain, EV_READ | EV_WRITE | EV_TIMEOUT, NULL),
	    event_pending(&once_to, EV_READ | EV_TIMEOUT, NULL),
	    event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED),
	    event_base_get_num_events(base, EVENT_BASE_COUNT_ACTIVE));
	event_del(&io_ev);
	event_del(&once_to);
	event_del(&chain);
	printf("after del added=%d\n", event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED));
}

/* ---- timers with equal deadlines ------------------------------------------ */

#define NT 40
static struct event tm[NT], starter, ticker;
static int ticks, near_expected, timeouts_fired;

static void tm_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	if (what & EV_TIMEOUT)
		timeouts_fired++;
	printf("  t%ld what=0x%x\n", (long)(intptr_t)arg, what);
}

static void ticker_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)arg;
	if (++ticks >= 3) {
		printf("  ticker %d what=0x%x: del\n", ticks, what);
		event_del(&ticker);
	}
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static unsigned next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng >> 32);
}

static void starter_cb(evutil_socket_t fd, short what, void *arg)
{
	static const struct timeval tvs[] = { { 0, 1000 }, { 0, 2000 }, { 0, 1000 }, { 0, 3000 } };
	struct timeval far = { 100, 0 }, tick = { 0, 500 };
	int i, k, near[NT], act[NT];
	(void)fd;
	(void)what;
	(void)arg;
	for (i = 0; i < NT; i++) {
		event_add(&tm[i], &tvs[next_rand() % 4]);
		near[i] = 1;
		act[i] = 0;
	}
	for (k = 0; k < 60; k++) {
		i = (int)(next_rand() % NT);
		switch (next_rand() % 4) {
		case 0:
			event_del(&tm[i]);
			near[i] = act[i] = 0;
			break;
		case 1:
			event_add(&tm[i], &tvs[next_rand() % 4]);
			near[i] = 1;
			break;
		case 2:
			event_add(&tm[i], &far);
			near[i] = 0;
			break;
		default:
			event_active(&tm[i], EV_READ, 1);
			act[i] = 1;
			break;
		}
	}
	/* An activated event loses its timer when it runs. */
	near_expected = 0;
	for (i = 0; i < NT; i++)
		near_expected += near[i] && !act[i];
	printf("  near timers: %d\n", near_expected);
	event_add(&ticker, &tick);
	for (i = 0; i < NT; i += 7)
		printf("  pending t%d=0x%x\n", i, event_pending(&tm[i], EV_TIMEOUT | EV_READ, NULL));
	printf("  added=%d active=%d\n", event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED),
	    event_base_get_num_events(base, EVENT_BASE_COUNT_ACTIVE));
}

static void test_timers(void)
{
	struct timeval tv = { 0, 0 };
	int i, r, far = 0;
	printf("-- timers\n");
	for (i = 0; i < NT; i++)
		event_assign(&tm[i], base, -1, 0, tm_cb, (void *)(intptr_t)i);
	event_assign(&starter, base, -1, 0, starter_cb, NULL);
	event_assign(&ticker, base, -1, EV_PERSIST, ticker_cb, NULL);
	event_add(&starter, &tv);
	/* Runs until only the far timers are left; they are then counted and
	 * deleted. */
	for (i = 0; i < 1000; i++) {
		r = event_base_loop(base, EVLOOP_ONCE);
		if (r != 0 || (ticks >= 3 && timeouts_fired >= near_expected))
			break;
	}
	printf("loop done: r=%d fired=%d ticks=%d\n", r, timeouts_fired, ticks);
	for (i = 0; i < NT; i++)
		if (event_pending(&tm[i], EV_TIMEOUT, NULL)) {
			far++;
			event_del(&tm[i]);
		}
	printf("far timers deleted: %d added=%d\n", far,
	    event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED));
}

/* ---- an event freed by its own callback, max callbacks, once ------------- */

static struct event *self_free;
static struct event counted[6];

static void self_free_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)arg;
	printf("  self_free what=0x%x\n", what);
	event_free(self_free);
	self_free = NULL;
}

static void counted_cb(evutil_socket_t fd, short what, void *arg)
{
	long i = (long)(intptr_t)arg;
	(void)fd;
	printf("  counted %ld what=0x%x\n", i, what);
	if (i == 0)
		event_active(&counted[5], EV_READ, 1);
}

static void test_limits(void)
{
	struct event_config *cfg = event_config_new();
	struct event_base *b2;
	int i, r;
	printf("-- limits\n");
	event_config_set_max_dispatch_interval(cfg, NULL, 2, 0);
	b2 = event_base_new_with_config(cfg);
	event_config_free(cfg);
	for (i = 0; i < 6; i++)
		event_assign(&counted[i], b2, -1, 0, counted_cb, (void *)(intptr_t)i);
	self_free = event_new(b2, -1, 0, self_free_cb, NULL);
	event_active(self_free, EV_TIMEOUT, 1);
	for (i = 0; i < 5; i++)
		event_active(&counted[i], EV_READ, 1);
	for (i = 0; i < 4; i++) {
		r = event_base_loop(b2, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		printf(" pass %d -> %d active=%d\n", i, r,
		    event_base_get_num_events(b2, EVENT_BASE_COUNT_ACTIVE));
	}
	r = event_base_loop(b2, 0);
	printf("loop -> %d\n", r);
	event_base_free(b2);
}

/* ---- a lockable base and another thread ------------------------------------ */

static struct event th_target, th_timer, th_far, th_idle;
static volatile int th_hits;
static int th_fired;

static void th_target_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	th_hits++;
}

static void th_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)arg;
	th_fired++;
	printf("  th_timer what=0x%x\n", what);
	event_base_loopexit(base, NULL);
}

static void th_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

static void *worker(void *arg)
{
	struct timeval far = { 100, 0 }, soon = { 0, 20000 };
	int i;
	(void)arg;
	usleep(20000);
	for (i = 0; i < 1000; i++) {
		event_active(&th_target, EV_READ, 1);
		event_add(&th_far, &far);
		event_del(&th_far);
		if (i % 100 == 0)
			usleep(1000);
	}
	event_add(&th_timer, &soon);
	return NULL;
}

static void test_threads(void)
{
	pthread_t t;
	int r;
	printf("-- threads\n");
	printf("use_pthreads -> %d\n", evthread_use_pthreads());
	base = event_base_new();
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
		return;
	event_assign(&th_target, base, -1, 0, th_target_cb, NULL);
	event_assign(&th_timer, base, -1, 0, th_timer_cb, NULL);
	event_assign(&th_far, base, -1, 0, th_timer_cb, NULL);
	event_assign(&th_idle, base, fds[0], EV_READ | EV_PERSIST, th_idle_cb, NULL);
	event_add(&th_idle, NULL);
	pthread_create(&t, NULL, worker, NULL);
	r = event_base_loop(base, 0);
	pthread_join(t, NULL);
	printf("loop -> %d fired=%d hits_ok=%d far_pending=0x%x\n", r, th_fired,
	    th_hits >= 1 && th_hits <= 1000, event_pending(&th_far, EV_TIMEOUT, NULL));
	event_del(&th_idle);
	printf("added=%d\n", event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED));
	event_base_free(base);
	close(fds[0]);
	close(fds[1]);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	base = event_base_new();
	test_chain();
	test_timers();
	test_limits();
	event_base_free(base);
	close(fds[0]);
	close(fds[1]);
	test_threads();
	return 0;
}
