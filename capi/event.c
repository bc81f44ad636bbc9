/*
 * event.c: events (event.h, event_compat.h): event_assign and its family
 * and the accessors are plain stores into and loads from the caller's 128
 * bytes; event_add, event_del, event_active and event_pending do the common
 * cases in C on the base's shared state (timer.c, epoll.c, queue.c) and
 * leave the rest to the engine.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/event_compat.h>
#include <event2/event_struct.h>
#include <event2/thread.h>

#include "debug.h"
#include "loop.h"

/* ---- events: assignment and accessors (pure C) --------------------------- */

static int ge_self_cbarg_anchor;

/* Debug mode (event_enable_debug_mode, debug.c) checks the events the
 * functions below are given; the ge_debug_* calls are branches on a flag
 * unless it is on. */

/* Debug mode's check in libevent's evmap_io_add: edge-triggered and
 * level-triggered events may not share an fd. 1 (after a warning) if ev
 * would mix them. */
static int debug_et_mix(const struct event *ev)
{
	if (!(ev->ev_events & (EV_READ | EV_WRITE | EV_CLOSED)) ||
	    (ev->ev_events & EV_SIGNAL) || (ev->ev_evcallback.evcb_flags & EVLIST_INSERTED))
		return 0;
	struct ge_base *b = (struct ge_base *)(void *)ev->ev_base;
	if (b->magic != GE_BASE_MAGIC)
		return 0;
	base_lock(b);
	const struct event *old = ev->ev_fd >= 0 && ev->ev_fd < b->io_cap ?
	    b->io_map[ev->ev_fd].head : NULL;
	int mix = old && (old->ev_events & EV_ET) != (ev->ev_events & EV_ET);
	base_unlock(b);
	if (mix)
		ge_log(GE_LOG_WARN, "Tried to mix edge-triggered and non-edge-triggered "
		    "events on fd %d", (int)ev->ev_fd);
	return mix;
}

void *event_self_cbarg(void)
{
	return &ge_self_cbarg_anchor;
}

int event_assign(struct event *ev, struct event_base *base, evutil_socket_t fd,
    short events, event_callback_fn callback, void *arg)
{
	if (!ev) {
		GE_BADARG("event_assign", "NULL event");
		return -1;
	}
	if (!base)
		base = ge_current_base;
	if (arg == &ge_self_cbarg_anchor)
		arg = ev;
	if (!(events & EV_SIGNAL))
		ge_debug_assert_nonblocking(fd);
	ge_debug_assert_not_added(ev);
	ev->ev_base = base;
	ev->ev_evcallback.evcb_cb_union.evcb_callback = callback;
	ev->ev_evcallback.evcb_arg = arg;
	ev->ev_fd = fd;
	ev->ev_events = events;
	ev->ev_res = 0;
	ev->ev_evcallback.evcb_flags = EVLIST_INIT;
	ev->ev_.ev_signal.ev_ncalls = 0;
	ev->ev_.ev_signal.ev_pncalls = NULL;
	if (events & EV_SIGNAL) {
		if (events & (EV_READ | EV_WRITE | EV_CLOSED)) {
			ge_log(GE_LOG_WARN, "event_assign: EV_SIGNAL is not compatible "
			    "with EV_READ, EV_WRITE or EV_CLOSED");
			return -1;
		}
		ev->ev_evcallback.evcb_closure = GE_CLOSURE_EVENT_SIGNAL;
	} else if (events & EV_PERSIST) {
		memset(&ev->ev_.ev_io.ev_timeout, 0, sizeof(struct timeval));
		ev->ev_evcallback.evcb_closure = GE_CLOSURE_EVENT_PERSIST;
	} else {
		ev->ev_evcallback.evcb_closure = GE_CLOSURE_EVENT;
	}
	/* Not in the timer heap: core/loop reads the whole first word. */
	int64_t none = -1;
	memcpy(&ev->ev_timeout_pos, &none, sizeof(none));
	if (base)
		ev->ev_evcallback.evcb_pri = (ev_uint8_t)(GE_BASE(base)->npriorities / 2);
	ge_debug_note_setup(ev);
	return 0;
}

void event_set(struct event *ev, evutil_socket_t fd, short events,
    void (*callback)(evutil_socket_t, short, void *), void *arg)
{
	event_assign(ev, ge_current_base, fd, events, callback, arg);
}

struct event *event_new(struct event_base *base, evutil_socket_t fd,
    short events, event_callback_fn cb, void *arg)
{
	struct event *ev = ge_malloc(sizeof(struct event));
	if (!ev)
		return NULL;
	if (event_assign(ev, base, fd, events, cb, arg) < 0) {
		ge_free(ev);
		return NULL;
	}
	return ev;
}

int event_base_set(struct event_base *base, struct event *ev)
{
	if (!base || !ev) {
		GE_BADARG("event_base_set", "NULL argument");
		return -1;
	}
	/* Only an event on no queue may move to another base. */
	if (ev->ev_evcallback.evcb_flags != EVLIST_INIT)
		return -1;
	ge_debug_assert_is_setup(ev);
	ev->ev_base = base;
	ev->ev_evcallback.evcb_pri = (ev_uint8_t)(GE_BASE(base)->npriorities / 2);
	return 0;
}

int event_priority_set(struct event *ev, int pri)
{
	if (ev)
		ge_debug_assert_is_setup(ev);
	if (!ev || !ev->ev_base) {
		GE_BADARG("event_priority_set", "event has no event_base set");
		return -1;
	}
	if (ev->ev_evcallback.evcb_flags & EVLIST_ACTIVE)
		return -1;
	if (pri < 0 || pri >= GE_BASE(ev->ev_base)->npriorities)
		return -1;
	ev->ev_evcallback.evcb_pri = (ev_uint8_t)pri;
	return 0;
}

void event_debug_unassign(struct event *ev)
{
	if (!ev)
		return;
	ge_debug_assert_not_added(ev);
	ge_debug_note_teardown(ev);
	ev->ev_evcallback.evcb_flags &= ~EVLIST_INIT;
}

int event_initialized(const struct event *ev)
{
	return (ev->ev_evcallback.evcb_flags & EVLIST_INIT) ? 1 : 0;
}

evutil_socket_t event_get_fd(const struct event *ev)
{
	ge_debug_assert_is_setup(ev);
	return ev->ev_fd;
}

struct event_base *event_get_base(const struct event *ev)
{
	ge_debug_assert_is_setup(ev);
	return ev->ev_base;
}

short event_get_events(const struct event *ev)
{
	ge_debug_assert_is_setup(ev);
	return ev->ev_events;
}

event_callback_fn event_get_callback(const struct event *ev)
{
	ge_debug_assert_is_setup(ev);
	return ev->ev_evcallback.evcb_cb_union.evcb_callback;
}

void *event_get_callback_arg(const struct event *ev)
{
	ge_debug_assert_is_setup(ev);
	return ev->ev_evcallback.evcb_arg;
}

int event_get_priority(const struct event *ev)
{
	ge_debug_assert_is_setup(ev);
	return ev->ev_evcallback.evcb_pri;
}

void event_get_assignment(const struct event *event, struct event_base **base_out,
    evutil_socket_t *fd_out, short *events_out, event_callback_fn *callback_out,
    void **arg_out)
{
	ge_debug_assert_is_setup(event);
	if (base_out)
		*base_out = event->ev_base;
	if (fd_out)
		*fd_out = event->ev_fd;
	if (events_out)
		*events_out = event->ev_events;
	if (callback_out)
		*callback_out = event->ev_evcallback.evcb_cb_union.evcb_callback;
	if (arg_out)
		*arg_out = event->ev_evcallback.evcb_arg;
}

size_t event_get_struct_event_size(void)
{
	return sizeof(struct event);
}

/* ---- events: queue operations (Go) --------------------------------------- */

/* An event on no queue of a base without locking has nothing to undo and
 * no other thread to wait for: event_del and event_pending answer in C. */
static inline int ge_idle_unlocked(const struct event *ev)
{
	return !(ev->ev_evcallback.evcb_flags & GE_LIST_QUEUED) &&
	    !GE_BASE(ev->ev_base)->lockable;
}

static int event_add_nodebug(struct event *ev, const struct timeval *tv)
{
	struct ge_base *b = c_lock(ev);
	if (b) {
		int done = ge_add_io_in_c(b, ev, tv);
		if (!done && tv)
			done = ge_add_timer_in_c(b, ev, tv);
		c_unlock(b);
		if (done == 1)
			return 0;
		if (done < 0)
			return -1;
		/* 2: registered; Go adds the timeout to the event now
		 * inserted. */
	}
	int err = 0;
	int r = goev_event_add(ev, (struct timeval *)tv, &err);
	set_errno_from(r, err);
	return r;
}

int event_add(struct event *ev, const struct timeval *tv)
{
	GE_NEED_ENGINE("event_add", -1);
	if (!ev || !ev->ev_base) {
		ge_log(GE_LOG_WARN, "event_add: event has no event_base set.");
		return -1;
	}
	if (GE_DEBUG_ON()) {
		ge_debug_assert_is_setup(ev);
		if (debug_et_mix(ev))
			return -1;
	}
	int r = event_add_nodebug(ev, tv);
	ge_debug_note_add(ev);
	return r;
}

static int event_del_mode(const char *fn, struct event *ev, int mode)
{
	if (!ev || !ev->ev_base) {
		ge_log(GE_LOG_WARN, "%s: event has no event_base set.", fn);
		return -1;
	}
	int r;
	/* A signal event whose callback is being run for several deliveries
	 * (ev_ncalls left): deleting it ends that run, as libevent's
	 * ev_pncalls does; Go keeps the run's state. */
	int sig_run = (ev->ev_events & EV_SIGNAL) && ev->ev_.ev_signal.ev_ncalls != 0;
	if (!sig_run && ge_idle_unlocked(ev)) {
		r = 0;
	} else {
		struct ge_base *b = sig_run ? NULL : c_lock(ev);
		int done = 0;
		if (b) {
			done = ge_del_in_c(b, ev);
			c_unlock(b);
		}
		if (done) {
			r = done > 0 ? 0 : -1;
		} else {
			int err = 0;
			r = goev_event_del(ev, mode, &err);
			set_errno_from(r, err);
		}
	}
	ge_debug_note_del(ev);
	return r;
}

int event_del(struct event *ev)
{
	GE_NEED_ENGINE("event_del", -1);
	return event_del_mode("event_del", ev, GE_DEL_AUTOBLOCK);
}

int event_del_block(struct event *ev)
{
	GE_NEED_ENGINE("event_del_block", -1);
	return event_del_mode("event_del_block", ev, GE_DEL_BLOCK);
}

int event_del_noblock(struct event *ev)
{
	GE_NEED_ENGINE("event_del_noblock", -1);
	return event_del_mode("event_del_noblock", ev, GE_DEL_NOBLOCK);
}

void event_free(struct event *ev)
{
	GE_NEED_ENGINE_VOID("event_free");
	if (!ev)
		return;
	if (ev->ev_base)
		event_del(ev);
	ge_debug_note_teardown(ev);
	ge_free(ev);
}

int event_remove_timer(struct event *ev)
{
	GE_NEED_ENGINE("event_remove_timer", -1);
	if (!ev || !ev->ev_base) {
		ge_log(GE_LOG_WARN, "event_remove_timer: event has no event_base set.");
		return -1;
	}
	ge_debug_assert_is_setup(ev);
	return goev_event_remove_timer(ev);
}

void event_active(struct event *ev, int res, short ncalls)
{
	GE_NEED_ENGINE_VOID("event_active");
	if (!ev || !ev->ev_base) {
		ge_log(GE_LOG_WARN, "event_active: event has no event_base set.");
		return;
	}
	ge_debug_assert_is_setup(ev);
	struct ge_base *b = c_lock(ev);
	if (b) {
		int done = active_in_c(b, ev, res);
		c_unlock(b);
		if (done)
			return;
	}
	goev_event_active(ev, res, ncalls);
}

int event_pending(const struct event *ev, short events, struct timeval *tv)
{
	GE_NEED_ENGINE("event_pending", 0);
	if (!ev || !ev->ev_base) {
		ge_log(GE_LOG_WARN, "event_pending: event has no event_base set.");
		return 0;
	}
	ge_debug_assert_is_setup(ev);
	if (ge_idle_unlocked(ev))
		return 0;
	struct ge_base *b = c_lock(ev);
	if (b) {
		int r = ge_pending_in_c(b, ev, events, tv);
		c_unlock(b);
		return r;
	}
	return goev_event_pending((struct event *)ev, events, tv);
}

int event_finalize(unsigned flags, struct event *ev, event_finalize_callback_fn cb)
{
	GE_NEED_ENGINE("event_finalize", -1);
	(void)flags;
	if (!ev || !ev->ev_base) {
		ge_log(GE_LOG_WARN, "event_finalize: event has no event_base set.");
		return -1;
	}
	return goev_event_finalize(ev, (void *)cb, 0);
}

int event_free_finalize(unsigned flags, struct event *ev, event_finalize_callback_fn cb)
{
	GE_NEED_ENGINE("event_free_finalize", -1);
	(void)flags;
	if (!ev || !ev->ev_base) {
		ge_log(GE_LOG_WARN, "event_free_finalize: event has no event_base set.");
		return -1;
	}
	return goev_event_finalize(ev, (void *)cb, 1);
}
