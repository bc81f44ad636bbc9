/*
 * event2/event_compat.h -- goevent's header for libevent 2.1.12's API of the
 * same name: the libevent 1.x calls that work on an implicit global base,
 * and the old timeout_* / signal_* macro names.
 *
 * The global base is the one event_init created last. These calls are not
 * thread-safe; new code should use event_base_* and event_assign.
 */
#ifndef EVENT2_EVENT_COMPAT_H_INCLUDED_
#define EVENT2_EVENT_COMPAT_H_INCLUDED_

#include <event2/visibility.h>
#include <event2/event-config.h>
#include <sys/types.h>
#include <sys/time.h>
#include <event2/util.h>

#ifdef __cplusplus
extern "C" {
#endif

struct event;
struct event_base;

/* Creates a base and makes it the global one. */
EVENT2_EXPORT_SYMBOL
struct event_base *event_init(void);
/* event_base_dispatch / _loop / _loopexit / _loopbreak on the global base. */
EVENT2_EXPORT_SYMBOL
int event_dispatch(void);
EVENT2_EXPORT_SYMBOL
int event_loop(int);
EVENT2_EXPORT_SYMBOL
int event_loopexit(const struct timeval *);
EVENT2_EXPORT_SYMBOL
int event_loopbreak(void);
/* event_base_once on the global base. */
EVENT2_EXPORT_SYMBOL
int event_once(evutil_socket_t , short,
    void (*)(evutil_socket_t, short, void *), void *, const struct timeval *);
/* event_base_get_method of the global base. */
EVENT2_EXPORT_SYMBOL
const char *event_get_method(void);
/* event_base_priority_init on the global base. */
EVENT2_EXPORT_SYMBOL
int event_priority_init(int);
/* event_assign with the global base (none before event_init: then give the
 * event a base with event_base_set before adding it). */
EVENT2_EXPORT_SYMBOL
void event_set(struct event *, evutil_socket_t, short, void (*)(evutil_socket_t, short, void *), void *);

#define evtimer_set(ev, cb, arg) event_set((ev), -1, 0, (cb), (arg))
#define evsignal_set(ev, x, cb, arg) \
	event_set((ev), (x), EV_SIGNAL|EV_PERSIST, (cb), (arg))

#define timeout_add(ev, tv) event_add((ev), (tv))
#define timeout_set(ev, cb, arg) event_set((ev), -1, 0, (cb), (arg))
#define timeout_del(ev) event_del(ev)
#define timeout_pending(ev, tv) event_pending((ev), EV_TIMEOUT, (tv))
#define timeout_initialized(ev) event_initialized(ev)

#define signal_add(ev, tv) event_add((ev), (tv))
#define signal_set(ev, x, cb, arg) \
	event_set((ev), (x), EV_SIGNAL|EV_PERSIST, (cb), (arg))
#define signal_del(ev) event_del(ev)
#define signal_pending(ev, tv) event_pending((ev), EV_SIGNAL, (tv))
#define signal_initialized(ev) event_initialized(ev)

#ifndef EVENT_FD
#define EVENT_FD(ev) ((int)event_get_fd(ev))
#define EVENT_SIGNAL(ev) event_get_signal(ev)
#endif

#ifdef __cplusplus
}
#endif

#endif /* EVENT2_EVENT_COMPAT_H_INCLUDED_ */
