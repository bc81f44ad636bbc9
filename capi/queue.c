/*
 * queue.c: the active queues in C.
 *
 * Activating an event and running the active queues are done here, on the
 * shared queues in struct ge_base, so that an event_active call costs no
 * C->Go crossing and running a plain C callback costs no Go->C crossing.
 * These functions are line-for-line the Go functions they stand in for
 * (core/loop queue.go, ops.go activeLocked, loop.go processQueue); whatever
 * needs more than the queue (signals, active later, non-persistent events
 * that are still added, persistent events with a timeout to re-arm, Go
 * callbacks, finalizers, deferred callbacks) goes to Go, which applies the
 * same rules. The inline steps shared with the other loop files are in
 * loop.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "loop.h"

/* The Go callback slots: what an event holds as its "function" when its
 * callback is written in Go (core/loop's RegisterGoCallback). They are bytes
 * of this library, which no engine copy outlives, so the events a copy made
 * keep naming the same slots in the next copy (see engine.c); they are data,
 * never a C function's address. ge_gocb_lo/hi: their range, set by the
 * engine at start-up. */
unsigned char ge_gocb_slots[256];
uintptr_t ge_gocb_lo, ge_gocb_hi; /* internal.h */

/* core/loop's maxDeferredsQueued. */
#define GE_MAX_DEFERREDS_QUEUED 32

/* Base.Schedule for a deferred callback: 1 newly queued, 0 queued
 * already, -1 when Go must do it. */
int ge_schedule_deferred(void *base, struct event_callback *cb)
{
	struct ge_base *b = base;
	if (!b || b->magic != GE_BASE_MAGIC)
		return -1;
	base_lock(b);
	int r = 1;
	if (b->waiting || (cb->evcb_flags & EVLIST_ACTIVE_LATER))
		r = -1; /* Go: a wake-up, or a move between queues */
	else if (b->n_deferreds > GE_MAX_DEFERREDS_QUEUED) {
		if (cb->evcb_flags & EVLIST_ACTIVE)
			r = 0;
		else
			queue_insert_active_later(b, cb);
	} else if (cb->evcb_flags & (EVLIST_ACTIVE | EVLIST_FINALIZING)) {
		r = 0;
	} else {
		queue_insert_active(b, cb);
		b->n_deferreds++;
	}
	base_unlock(b);
	return r;
}

/* Whether running cb needs nothing but taking it off its queue and calling
 * its C function: what the Go loop would do for it is exactly that. */
static inline int runs_in_c(const struct event_callback *cb)
{
	uint16_t fl = cb->evcb_flags;
	const struct event *ev = (const struct event *)(const void *)cb;
	uintptr_t fn = (uintptr_t)cb->evcb_cb_union.evcb_callback;
	if (fn >= ge_gocb_lo && fn < ge_gocb_hi)
		return 0;
	/* A deferred callback given a C function (a bufferevent's, see
	 * core/loop Deferred.SetCFunc) runs here; its Go twin in Go's loop. */
	if (cb->evcb_closure == GE_CLOSURE_CB_SELF)
		return fn != 0 && !(fl & (EVLIST_INIT | EVLIST_FINALIZING));
	if (!(fl & EVLIST_INIT))
		return 0;
	switch (cb->evcb_closure) {
	case GE_CLOSURE_EVENT_FINALIZE:
	case GE_CLOSURE_EVENT_FINALIZE_FREE:
		/* A finalizer in C (event_finalize's, a socket bufferevent's). */
		return fn != 0;
	case GE_CLOSURE_EVENT:
		/* A non-persistent event is deleted before it runs; with
		 * nothing but the active queue to leave, that is a removal. */
		return !(fl & (EVLIST_TIMEOUT | EVLIST_INSERTED | EVLIST_FINALIZING)) &&
		    !(ev->ev_events & EV_SIGNAL);
	case GE_CLOSURE_EVENT_PERSIST:
		/* No interval to re-arm. */
		return !(fl & EVLIST_FINALIZING) && ev->ev_.ev_io.ev_timeout.tv_sec == 0 &&
		    ev->ev_.ev_io.ev_timeout.tv_usec == 0;
	default:
		return 0;
	}
}

/* core/loop's QueueRunner: run active queue pri (see processQueue in
 * core/loop/loop.go for the rules). Go installs it for lock-free bases; the
 * C loop calls it for lockable ones too, holding the base's lock, which it
 * releases around each callback. */
int ge_run_queue(void *base, int pri, int max_to_process)
{
	struct ge_base *b = base;
	int count = 0;
	for (;;) {
		/* Looked up afresh: a callback may replace the queues
		 * (event_base_priority_init once they are empty). */
		if (pri >= b->npriorities)
			break;
		struct event_callback *cb = b->active[pri].head;
		if (!cb)
			break;
		if (runs_in_c(cb)) {
			struct event *ev = (struct event *)(void *)cb;
			queue_remove_active(b, cb);
			if (!(cb->evcb_flags & EVLIST_INTERNAL))
				count++;
			b->current = cb;
			b->current_waiters = 0;
			int closure = cb->evcb_closure;
			if (closure == GE_CLOSURE_EVENT_FINALIZE ||
			    closure == GE_CLOSURE_EVENT_FINALIZE_FREE)
				b->current = NULL; /* nothing waits for a finalizer */
			base_unlock(b);
			if (closure == GE_CLOSURE_CB_SELF) {
				cb->evcb_cb_union.evcb_selfcb(cb, cb->evcb_arg);
			} else if (closure == GE_CLOSURE_EVENT_FINALIZE) {
				cb->evcb_cb_union.evcb_evfinalize(ev, cb->evcb_arg);
			} else if (closure == GE_CLOSURE_EVENT_FINALIZE_FREE) {
				cb->evcb_cb_union.evcb_evfinalize(ev, cb->evcb_arg);
				ge_free(ev);
			} else {
				cb->evcb_cb_union.evcb_callback(ev->ev_fd, ev->ev_res, cb->evcb_arg);
			}
			base_lock(b);
			b->current = NULL;
			/* Threads whose event_del waits for this callback. */
			if (b->current_waiters)
				goev_cloop_wake_waiters(b);
		} else {
			/* Go goes on with the Go callbacks that follow
			 * (core/loop RunBatch); the checks below hold for
			 * where it stopped. */
			count += goev_loop_run_batch(base, cb, pri, max_to_process - count);
		}
		if (b->got_break)
			return -1;
		if (count >= max_to_process)
			return count;
		if (b->got_continue)
			break;
	}
	return count;
}
