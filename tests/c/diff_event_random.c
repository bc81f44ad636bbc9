/*
 * diff_event_random.c -- randomized differential test of the loop's
 * bookkeeping.
 *
 * Sixteen events (some persistent, three priorities, some with EV_READ on
 * fd -1, which is added but never ready) are driven by a fixed-seed PRNG
 * from inside their own callbacks: event_active with assorted results,
 * event_add with no timeout or a zero timeout, event_del, priority
 * changes, event_remove_timer, loopcontinue, and deferred one-shot
 * callbacks (event_base_once). Every operation happens inside a callback,
 * where the loop's cached time makes zero timeouts share one deadline, so
 * the sequence of callbacks depends only on the loop's queueing rules: the
 * active queues per priority, the timer heap's order for equal deadlines,
 * the event counters. Each callback, each operation's result and the
 * counters are printed; libevent and goevent must agree on all of it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#define NEV 16
#define MAX_CALLBACKS 3000

static struct event_base *base;
static struct event evs[NEV];
#ifndef SEED
#define SEED 0x9e3779b97f4a7c15ULL
#endif
static uint64_t rng = SEED;
static int callbacks;

static uint32_t next(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (uint32_t)((z ^ (z >> 31)) >> 32);
}

static void once_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	printf("once %d what=0x%x\n", (int)(long)arg, what);
}

static void random_ops(int self)
{
	int nops = 1 + (int)(next() % 4), k;
	for (k = 0; k < nops; k++) {
		int i = (int)(next() % NEV), r;
		struct timeval zero = { 0, 0 };
		switch (next() % 10) {
		case 0:
		case 9:
		case 1: {
			static const short res[] = { EV_TIMEOUT, EV_READ, EV_WRITE, EV_READ | EV_WRITE, EV_SIGNAL };
			short rs = res[next() % 5];
			event_active(&evs[i], rs, 1);
			printf("  %d: active %d 0x%x\n", self, i, rs);
			break;
		}
		case 2:
			r = event_add(&evs[i], NULL);
			printf("  %d: add %d -> %d\n", self, i, r);
			break;
		case 3:
			r = event_add(&evs[i], &zero);
			printf("  %d: add0 %d -> %d\n", self, i, r);
			break;
		case 4:
			r = event_del(&evs[i]);
			printf("  %d: del %d -> %d\n", self, i, r);
			break;
		case 5:
			r = event_priority_set(&evs[i], (int)(next() % 3));
			printf("  %d: pri %d -> %d now %d\n", self, i, r, event_get_priority(&evs[i]));
			break;
		case 6:
			r = event_remove_timer(&evs[i]);
			printf("  %d: rmtimer %d -> %d\n", self, i, r);
			break;
		case 7:
			if (next() % 4 == 0) {
				r = event_base_loopcontinue(base);
				printf("  %d: continue -> %d\n", self, r);
			}
			break;
		case 8:
			r = event_base_once(base, -1, EV_TIMEOUT, once_cb, (void *)(long)(callbacks),
			    next() % 2 ? &zero : NULL);
			printf("  %d: once -> %d\n", self, r);
			break;
		}
	}
}

static void cb(evutil_socket_t fd, short what, void *arg)
{
	int self = (int)(long)arg;
	(void)fd;
	callbacks++;
	printf("cb %d what=0x%x pending=0x%x pri=%d n=%d/%d\n", self, what,
	    event_pending(&evs[self], EV_TIMEOUT | EV_READ | EV_WRITE, NULL),
	    event_get_priority(&evs[self]),
	    event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED),
	    event_base_get_num_events(base, EVENT_BASE_COUNT_ACTIVE));
	if (callbacks >= MAX_CALLBACKS) {
		printf("  loopbreak\n");
		event_base_loopbreak(base);
		return;
	}
	random_ops(self);
}

static void starter(evutil_socket_t fd, short what, void *arg)
{
	int i;
	(void)fd;
	(void)what;
	(void)arg;
	for (i = 0; i < NEV; i++)
		event_active(&evs[i], EV_TIMEOUT, 1);
}

int main(void)
{
	int i, r, round;
	struct event start;
	setvbuf(stdout, NULL, _IOLBF, 1 << 16);
	base = event_base_new();
	event_base_priority_init(base, 3);
	for (i = 0; i < NEV; i++) {
		short kind = (short)((i % 4 == 0) ? EV_PERSIST : (i % 4 == 1) ? (EV_READ | EV_PERSIST) :
		    (i % 4 == 2) ? EV_READ : 0);
		event_assign(&evs[i], base, -1, kind, cb, (void *)(long)i);
		event_priority_set(&evs[i], i % 3);
	}
	for (round = 0; round < 30; round++) {
		event_assign(&start, base, -1, 0, starter, NULL);
		event_active(&start, EV_TIMEOUT, 1);
		r = event_base_loop(base, round % 3 == 1 ? EVLOOP_ONCE : EVLOOP_NONBLOCK);
		printf("round %d loop -> %d callbacks=%d added=%d active=%d\n", round, r, callbacks,
		    event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED),
		    event_base_get_num_events(base, EVENT_BASE_COUNT_ACTIVE));
	}
	{
		/* If the activity died out, only never-ready events remain. */
		struct timeval safety = { 1, 0 };
		event_base_loopexit(base, &safety);
	}
	r = event_base_dispatch(base);
	printf("final dispatch -> %d callbacks=%d got_break=%d\n", r, callbacks, event_base_got_break(base));
	printf("max added=%d max active=%d\n",
	    event_base_get_max_events(base, EVENT_BASE_COUNT_ADDED, 0),
	    event_base_get_max_events(base, EVENT_BASE_COUNT_ACTIVE, 0));
	for (i = 0; i < NEV; i++)
		event_del(&evs[i]);
	event_base_free(base);
	printf("done\n");
	return 0;
}
