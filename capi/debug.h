/*
 * debug.h: event_enable_debug_mode's checks (debug.c), as the public
 * functions of event.c and the bufferevent constructors call them. Each is
 * a branch on a flag unless debug mode is on; as in libevent, noting an
 * event (even with debug mode off) makes enabling debug mode too late.
 */
#ifndef GOEVENT_DEBUG_H
#define GOEVENT_DEBUG_H

#include <event2/event_struct.h>
#include <event2/util.h>

/* GE_DEBUG_LATE once an event was assigned or a base made (enabling debug
 * mode is too late then), | GE_DEBUG_ON while debug mode is on. Once a
 * program runs, the value is GE_DEBUG_LATE, and every check is one compare. */
#define GE_DEBUG_LATE 1
#define GE_DEBUG_ON_BIT 2
extern int ge_debug_state;

void ge_debug_note_setup_(const struct event *ev);
void ge_debug_note_teardown_(const struct event *ev);
void ge_debug_note_add_(const struct event *ev);
void ge_debug_note_del_(const struct event *ev);
void ge_debug_assert_is_setup_(const struct event *ev);
void ge_debug_assert_not_added_(const struct event *ev);
void ge_debug_assert_nonblocking_(evutil_socket_t fd);

#define GE_DEBUG_ON() __builtin_expect(ge_debug_state & GE_DEBUG_ON_BIT, 0)
#define GE_DEBUG_NOTE() __builtin_expect(ge_debug_state != GE_DEBUG_LATE, 0)

/* ev is assigned: set up (event_assign, event_set, event_new). */
static inline void ge_debug_note_setup(const struct event *ev)
{
	if (GE_DEBUG_NOTE())
		ge_debug_note_setup_(ev);
}

/* ev is no longer set up (event_free, event_debug_unassign). */
static inline void ge_debug_note_teardown(const struct event *ev)
{
	if (GE_DEBUG_NOTE())
		ge_debug_note_teardown_(ev);
}

static inline void ge_debug_note_add(const struct event *ev)
{
	if (GE_DEBUG_NOTE())
		ge_debug_note_add_(ev);
}

static inline void ge_debug_note_del(const struct event *ev)
{
	if (GE_DEBUG_NOTE())
		ge_debug_note_del_(ev);
}

/* Using ev needs it set up. */
static inline void ge_debug_assert_is_setup(const struct event *ev)
{
	if (GE_DEBUG_ON())
		ge_debug_assert_is_setup_(ev);
}

/* Assigning or unassigning ev needs it not added. */
static inline void ge_debug_assert_not_added(const struct event *ev)
{
	if (GE_DEBUG_ON())
		ge_debug_assert_not_added_(ev);
}

/* An fd event's socket must be non-blocking. */
static inline void ge_debug_assert_nonblocking(evutil_socket_t fd)
{
	if (GE_DEBUG_ON())
		ge_debug_assert_nonblocking_(fd);
}

/* A new bufferevent's read and write events, which goevent assigns in Go:
 * libevent's event_assign of them notes them (bufferevent_struct.h's
 * layout: both are struct events inside it). */
struct bufferevent;
void ge_debug_note_bev_(struct bufferevent *bev);
static inline void ge_debug_note_bev(struct bufferevent *bev)
{
	if (GE_DEBUG_ON() && bev)
		ge_debug_note_bev_(bev);
}

#endif
