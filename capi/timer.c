/*
 * timer.c: the timer heap in C.
 *
 * The heap lives in struct ge_base. event_add with a timeout and event_del
 * of a timer change it here (under the base's lock when it has one, see
 * c_lock in loop.h), with the same sift operations as core/loop/timer.go,
 * so that timers with equal deadlines fire in the same order whichever side
 * built the heap (diff_event_fastpath fails if the tie-break differs).
 * Whatever needs more is left to the engine: fds and signals to register or
 * unregister, common timeouts, a full heap array (Go grows it), finalizing
 * events.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "loop.h"

static void heap_shift_up(struct ge_base *b, int64_t hole, struct event *ev)
{
	struct event **h = b->heap;
	while (hole > 0) {
		int64_t parent = (hole - 1) / 2;
		if (!heap_greater(h[parent], ev))
			break;
		h[hole] = h[parent];
		set_heap_idx(h[hole], hole);
		hole = parent;
	}
	h[hole] = ev;
	set_heap_idx(ev, hole);
}

static void heap_shift_up_unconditional(struct ge_base *b, int64_t hole, struct event *ev)
{
	struct event **h = b->heap;
	int64_t parent = (hole - 1) / 2;
	for (;;) {
		h[hole] = h[parent];
		set_heap_idx(h[hole], hole);
		hole = parent;
		parent = (hole - 1) / 2;
		if (hole == 0 || !heap_greater(h[parent], ev))
			break;
	}
	h[hole] = ev;
	set_heap_idx(ev, hole);
}

static void heap_shift_down(struct ge_base *b, int64_t hole, struct event *ev)
{
	struct event **h = b->heap;
	int64_t n = b->heap_len;
	int64_t min_child = 2 * (hole + 1);
	while (min_child <= n) {
		if (min_child == n || heap_greater(h[min_child], h[min_child - 1]))
			min_child--;
		if (!heap_greater(ev, h[min_child]))
			break;
		h[hole] = h[min_child];
		set_heap_idx(h[hole], hole);
		hole = min_child;
		min_child = 2 * (hole + 1);
	}
	h[hole] = ev;
	set_heap_idx(ev, hole);
}

/* Needs heap_len < heap_cap. */
static inline void heap_push(struct ge_base *b, struct event *ev)
{
	b->heap_len++;
	heap_shift_up(b, b->heap_len - 1, ev);
}

void ge_heap_erase(struct ge_base *b, struct event *ev)
{
	int64_t idx = heap_idx(ev);
	if (idx < 0)
		return;
	int64_t n = b->heap_len - 1;
	struct event *last = b->heap[n];
	b->heap[n] = NULL;
	b->heap_len = n;
	if (last != ev) {
		int64_t parent = (idx - 1) / 2;
		if (idx > 0 && heap_greater(b->heap[parent], last))
			heap_shift_up_unconditional(b, idx, last);
		else
			heap_shift_down(b, idx, last);
	}
	set_heap_idx(ev, -1);
}

/* core/loop's gettime: the cached loop time, else the monotonic clock
 * (refreshing the wall-clock offset every few seconds). */
struct timeval ge_base_gettime(struct ge_base *b)
{
	if (b->tv_cache.tv_sec != 0)
		return b->tv_cache;
	struct timespec ts;
	if (clock_gettime(b->precise ? CLOCK_MONOTONIC : CLOCK_MONOTONIC_COARSE, &ts) != 0)
		clock_gettime(CLOCK_MONOTONIC, &ts);
	struct timeval now = { ts.tv_sec, ts.tv_nsec / 1000 };
	if (b->last_clock_update + GE_CLOCK_SYNC_INTERVAL < now.tv_sec) {
		struct timeval wall;
		gettimeofday(&wall, NULL);
		timersub(&wall, &now, &b->clock_diff);
		b->last_clock_update = now.tv_sec;
	}
	return now;
}

/* event_add(ev, tv) with tv != NULL when only the timer changes (core/loop
 * addLocked). Returns 1 if done (event_add returns 0), 0 if Go must do it. */
int ge_add_timer_in_c(struct ge_base *b, struct event *ev, const struct timeval *tv)
{
	struct event_callback *cb = &ev->ev_evcallback;
	uint16_t fl = cb->evcb_flags;
	if ((fl & EVLIST_FINALIZING) || (ev->ev_events & EV_SIGNAL))
		return 0;
	if ((ev->ev_events & (EV_READ | EV_WRITE | EV_CLOSED)) &&
	    !(fl & (EVLIST_INSERTED | EVLIST_ACTIVE | EVLIST_ACTIVE_LATER)))
		return 0; /* the fd must be registered */
	if (is_common(tv) || ((fl & EVLIST_TIMEOUT) && is_common(&ev->ev_timeout)))
		return 0;
	if (!(fl & EVLIST_TIMEOUT) && b->heap_len >= b->heap_cap)
		return 0; /* Go grows the heap */

	if (cb->evcb_closure == GE_CLOSURE_EVENT_PERSIST)
		ev->ev_.ev_io.ev_timeout = *tv;
	if (fl & EVLIST_TIMEOUT) {
		count_dec(b, cb->evcb_flags);
		cb->evcb_flags &= ~EVLIST_TIMEOUT;
		ge_heap_erase(b, ev);
	}
	/* An activation by the old timeout is void once it is rescheduled. */
	if ((cb->evcb_flags & EVLIST_ACTIVE) && (ev->ev_res & EV_TIMEOUT))
		queue_remove_active(b, cb);
	ev->ev_timeout = tv_add(ge_base_gettime(b), *tv);
	count_inc(b, cb->evcb_flags);
	cb->evcb_flags |= EVLIST_TIMEOUT;
	heap_push(b, ev);
	return 1;
}

/* event_pending from the event's own fields (core/loop Pending). Returns
 * -1 if Go must answer. */
int ge_pending_in_c(const struct ge_base *b, const struct event *ev, short events,
    struct timeval *tv)
{
	uint16_t fl = ev->ev_evcallback.evcb_flags;
	short flags = 0;
	if (fl & EVLIST_INSERTED)
		flags |= ev->ev_events & (EV_READ | EV_WRITE | EV_CLOSED | EV_SIGNAL);
	if (fl & (EVLIST_ACTIVE | EVLIST_ACTIVE_LATER))
		flags |= ev->ev_res;
	if (fl & EVLIST_TIMEOUT)
		flags |= EV_TIMEOUT;
	events &= EV_TIMEOUT | EV_READ | EV_WRITE | EV_CLOSED | EV_SIGNAL;
	if (tv && (flags & events & EV_TIMEOUT)) {
		struct timeval t = ev->ev_timeout;
		t.tv_usec &= GE_USEC_MASK;
		*tv = tv_add(b->clock_diff, t);
	}
	return flags & events;
}
