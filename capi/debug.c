/*
 * debug.c: event_enable_debug_mode's bookkeeping and checks.
 *
 * As libevent does, debug mode keeps a table of the events that are set up
 * (assigned and not torn down since), keyed by address and never trusting
 * the event's own bytes, so that a freed or clobbered event is still
 * recognised. The public functions of event.c consult it; misuse ends the
 * process the way libevent's does (its message through the log callback at
 * EVENT_LOG_ERR, then the fatal callback, then abort or exit), because
 * programs and test suites built on libevent expect exactly that.
 *
 * Whether an event is added is read from its flags (EVLIST_INSERTED,
 * EVLIST_TIMEOUT), which both the C loop and the Go loop keep at libevent's
 * offsets; libevent's table bit follows the same transitions (its loop
 * notes the deletion of an event it runs or times out).
 *
 * Events that goevent assigns in Go (a bufferevent's read and write events)
 * are noted when the bufferevent is made, as libevent's event_assign of
 * them would note them.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include <event2/bufferevent_struct.h>
#include <event2/event.h>
#include <event2/event_struct.h>

#include "internal.h"
#include "debug.h"

int ge_debug_state;

/* Open addressing on event addresses; TOMB marks a removed entry. */
#define TOMB ((const void *)1)
static const void **slots;
static size_t cap, used; /* used counts tombstones too */
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t slot_of(const void *ev)
{
	/* Events are at least 64 bytes apart: the low bits say nothing. */
	uint64_t x = (uint64_t)(uintptr_t)ev >> 6;
	x *= 0x9e3779b97f4a7c15ULL;
	return (size_t)(x >> 20) & (cap - 1);
}

/* The slot holding ev, or NULL. Needs the lock. */
static const void **lookup(const void *ev)
{
	if (!cap)
		return NULL;
	for (size_t i = slot_of(ev), n = 0; n < cap; i = (i + 1) & (cap - 1), n++) {
		if (slots[i] == ev)
			return &slots[i];
		if (!slots[i])
			return NULL;
	}
	return NULL;
}

/* Room for one more entry, rehashing without tombstones when the table is
 * over half full. 0 when memory ran out. Needs the lock. */
static int reserve(void)
{
	if ((used + 1) * 2 <= cap)
		return 1;
	size_t ncap = cap ? cap : 64;
	while ((used + 1) * 2 > ncap)
		ncap *= 2;
	const void **old = slots;
	size_t ocap = cap;
	slots = ge_calloc(ncap, sizeof(*slots));
	if (!slots) {
		slots = old;
		return 0;
	}
	cap = ncap;
	used = 0;
	for (size_t i = 0; i < ocap; i++) {
		if (old[i] && old[i] != TOMB) {
			size_t j = slot_of(old[i]);
			while (slots[j])
				j = (j + 1) & (cap - 1);
			slots[j] = old[i];
			used++;
		}
	}
	ge_free(old);
	return 1;
}

void event_enable_debug_mode(void)
{
	if (ge_debug_state & GE_DEBUG_ON_BIT)
		ge_errx(1, "%s was called twice!", "event_enable_debug_mode");
	if (ge_debug_state & GE_DEBUG_LATE)
		ge_errx(1, "%s must be called *before* creating any events or event_bases",
		    "event_enable_debug_mode");
	ge_debug_state |= GE_DEBUG_ON_BIT;
}

static int is_setup(const struct event *ev)
{
	pthread_mutex_lock(&table_lock);
	int r = lookup(ev) != NULL;
	pthread_mutex_unlock(&table_lock);
	return r;
}

/* libevent's wording, with the event's own fields. */
#define EV_FIELDS(ev) (const void *)(ev), (ev)->ev_events, (int)(ev)->ev_fd, \
	(ev)->ev_evcallback.evcb_flags

void ge_debug_note_setup_(const struct event *ev)
{
	ge_debug_state |= GE_DEBUG_LATE;
	if (!(ge_debug_state & GE_DEBUG_ON_BIT))
		return;
	pthread_mutex_lock(&table_lock);
	if (!lookup(ev)) {
		if (!reserve()) {
			pthread_mutex_unlock(&table_lock);
			ge_errx(1, "Out of memory in debugging code");
		}
		size_t i = slot_of(ev);
		while (slots[i] && slots[i] != TOMB)
			i = (i + 1) & (cap - 1);
		if (!slots[i])
			used++;
		slots[i] = ev;
	}
	pthread_mutex_unlock(&table_lock);
}

void ge_debug_note_teardown_(const struct event *ev)
{
	ge_debug_state |= GE_DEBUG_LATE;
	if (!(ge_debug_state & GE_DEBUG_ON_BIT))
		return;
	pthread_mutex_lock(&table_lock);
	const void **s = lookup(ev);
	if (s)
		*s = TOMB;
	pthread_mutex_unlock(&table_lock);
}

void ge_debug_assert_is_setup_(const struct event *ev)
{
	if ((ge_debug_state & GE_DEBUG_ON_BIT) && !is_setup(ev))
		ge_errx(GE_ERR_ABORT, "%s called on a non-initialized event %p"
		    " (events: 0x%x, fd: %d, flags: 0x%x)", "event_debug_assert_is_setup_",
		    EV_FIELDS(ev));
}

void ge_debug_assert_not_added_(const struct event *ev)
{
	if ((ge_debug_state & GE_DEBUG_ON_BIT) && is_setup(ev) &&
	    (ev->ev_evcallback.evcb_flags & (EVLIST_INSERTED | EVLIST_TIMEOUT)))
		ge_errx(GE_ERR_ABORT, "%s called on an already added event %p"
		    " (events: 0x%x, fd: %d, flags: 0x%x)", "event_debug_assert_not_added_",
		    EV_FIELDS(ev));
}

void ge_debug_note_add_(const struct event *ev)
{
	ge_debug_state |= GE_DEBUG_LATE;
	if ((ge_debug_state & GE_DEBUG_ON_BIT) && !is_setup(ev))
		ge_errx(GE_ERR_ABORT, "%s: noting an add on a non-setup event %p"
		    " (events: 0x%x, fd: %d, flags: 0x%x)", "event_debug_note_add_",
		    EV_FIELDS(ev));
}

void ge_debug_note_del_(const struct event *ev)
{
	ge_debug_state |= GE_DEBUG_LATE;
	if ((ge_debug_state & GE_DEBUG_ON_BIT) && !is_setup(ev))
		ge_errx(GE_ERR_ABORT, "%s: noting a del on a non-setup event %p"
		    " (events: 0x%x, fd: %d, flags: 0x%x)", "event_debug_note_del_",
		    EV_FIELDS(ev));
}

void ge_debug_assert_nonblocking_(evutil_socket_t fd)
{
	if (!(ge_debug_state & GE_DEBUG_ON_BIT) || fd < 0)
		return;
	int flags = fcntl(fd, F_GETFL, NULL);
	/* libevent's EVUTIL_ASSERT, whose message names its own source line. */
	if (flags >= 0 && !(flags & O_NONBLOCK))
		ge_errx(GE_ERR_ABORT, "%s:%d: Assertion %s failed in %s", "event.c", 385,
		    "flags & O_NONBLOCK", "event_debug_assert_socket_nonblocking_");
}

void ge_debug_note_bev_(struct bufferevent *bev)
{
	/* libevent's event_assign of a socket bufferevent's events checks
	 * its socket too. */
	ge_debug_assert_nonblocking_(bev->ev_read.ev_fd);
	ge_debug_note_setup_(&bev->ev_read);
	ge_debug_note_setup_(&bev->ev_write);
}
