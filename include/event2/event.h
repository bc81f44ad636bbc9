/*
 * event2/event.h -- goevent's header for libevent 2.1.12's API of the same
 * name: event bases (the loop), their configuration, and events on file
 * descriptors, signals and timeouts.
 *
 * Functions returning int report success as 0 and failure as -1 unless a
 * comment says otherwise.
 *
 * One difference from libevent: goevent's loop runs on the Go runtime, which
 * does not survive fork(). A child that keeps using a base without exec()ing
 * gets an immediate error on stderr and failing calls instead of a hang;
 * event_reinit cannot repair that.
 */
#ifndef EVENT2_EVENT_H_INCLUDED_
#define EVENT2_EVENT_H_INCLUDED_

#include <event2/visibility.h>
#include <event2/event-config.h>
#include <sys/types.h>
#include <sys/time.h>
#include <stdio.h>
#include <event2/util.h>

#ifdef __cplusplus
extern "C" {
#endif

struct event_base;   /* opaque: one event loop */
struct event;        /* layout in event2/event_struct.h (128 bytes) */
struct event_config; /* opaque: options for event_base_new_with_config */

/* ---- library setup --------------------------------------------------- */
/* Turns on checks for misuse of events (adding an uninitialized event,
 * re-assigning a pending one...). Call before creating any event or base. */
EVENT2_EXPORT_SYMBOL
void event_enable_debug_mode(void);
/* In debug mode, forgets a non-pending event set up with event_assign,
 * before its storage is freed or reused; a no-op otherwise. */
EVENT2_EXPORT_SYMBOL
void event_debug_unassign(struct event *);

/* ---- bases ----------------------------------------------------------- */
/* A base with the default configuration, or NULL. */
EVENT2_EXPORT_SYMBOL
struct event_base *event_base_new(void);
/* libevent's repair step after fork(). goevent's child cannot keep using
 * the library (see the top of this file): there this reports the problem
 * and returns -1. */
EVENT2_EXPORT_SYMBOL
int event_reinit(struct event_base *base);
/* event_base_loop(base, 0). */
EVENT2_EXPORT_SYMBOL
int event_base_dispatch(struct event_base *);
/* Name of the kernel mechanism in use ("epoll"). The string is static. */
EVENT2_EXPORT_SYMBOL
const char *event_base_get_method(const struct event_base *);
/* NULL-terminated static array of the mechanism names this library has. */
EVENT2_EXPORT_SYMBOL
const char **event_get_supported_methods(void);
/* Reads the base's monotonic clock. */
EVENT2_EXPORT_SYMBOL
int event_gettime_monotonic(struct event_base *base, struct timeval *tp);

/* Which events event_base_get_num_events / _get_max_events count. */
#define EVENT_BASE_COUNT_ACTIVE 1U
#define EVENT_BASE_COUNT_VIRTUAL 2U
#define EVENT_BASE_COUNT_ADDED 4U

/* Number of events of the kinds in flags (EVENT_BASE_COUNT_*); internal
 * events are included. */
EVENT2_EXPORT_SYMBOL
int event_base_get_num_events(struct event_base *, unsigned int);
/* Highest such count seen so far; a nonzero third argument resets it. */
EVENT2_EXPORT_SYMBOL
int event_base_get_max_events(struct event_base *, unsigned int, int);

/* ---- configuration --------------------------------------------------- */
EVENT2_EXPORT_SYMBOL
struct event_config *event_config_new(void);
EVENT2_EXPORT_SYMBOL
void event_config_free(struct event_config *cfg);
/* Never use the mechanism with this name. */
EVENT2_EXPORT_SYMBOL
int event_config_avoid_method(struct event_config *cfg, const char *method);

/* Backend capabilities, for event_config_require_features and
 * event_base_get_features. */
enum event_method_feature {
	EV_FEATURE_ET = 0x01,
	EV_FEATURE_O1 = 0x02,
	EV_FEATURE_FDS = 0x04,
	EV_FEATURE_EARLY_CLOSE = 0x08
};

/* Flags for event_config_set_flag. */
enum event_base_config_flag {
	EVENT_BASE_FLAG_NOLOCK = 0x01,
	EVENT_BASE_FLAG_IGNORE_ENV = 0x02,
	EVENT_BASE_FLAG_STARTUP_IOCP = 0x04,
	EVENT_BASE_FLAG_NO_CACHE_TIME = 0x08,
	EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST = 0x10,
	EVENT_BASE_FLAG_PRECISE_TIMER = 0x20
};

/* Bitwise OR of enum event_method_feature. */
EVENT2_EXPORT_SYMBOL
int event_base_get_features(const struct event_base *base);
/* Replaces the required feature set; event_base_new_with_config returns
 * NULL when no backend provides it. */
EVENT2_EXPORT_SYMBOL
int event_config_require_features(struct event_config *cfg, int feature);
/* Adds enum event_base_config_flag bits. */
EVENT2_EXPORT_SYMBOL
int event_config_set_flag(struct event_config *cfg, int flag);
/* A hint only. */
EVENT2_EXPORT_SYMBOL
int event_config_set_num_cpus_hint(struct event_config *cfg, int cpus);
/* Re-check for new events after max_interval or max_callbacks callbacks,
 * when running callbacks of priority >= min_priority (NULL / -1: no limit). */
EVENT2_EXPORT_SYMBOL
int event_config_set_max_dispatch_interval(struct event_config *cfg,
    const struct timeval *max_interval, int max_callbacks,
    int min_priority);
/* NULL if no backend satisfies cfg. cfg may be freed afterwards. */
EVENT2_EXPORT_SYMBOL
struct event_base *event_base_new_with_config(const struct event_config *);
/* Frees the base. Events still assigned to it are not freed, and pending
 * finalizers run first. */
EVENT2_EXPORT_SYMBOL
void event_base_free(struct event_base *);
/* As event_base_free, but pending finalizers are dropped, not run. */
EVENT2_EXPORT_SYMBOL
void event_base_free_nofinalize(struct event_base *);

/* ---- logging --------------------------------------------------------- */
#define EVENT_LOG_DEBUG 0
#define EVENT_LOG_MSG 1
#define EVENT_LOG_WARN 2
#define EVENT_LOG_ERR 3
/* Older spellings. */
#define _EVENT_LOG_DEBUG EVENT_LOG_DEBUG
#define _EVENT_LOG_MSG EVENT_LOG_MSG
#define _EVENT_LOG_WARN EVENT_LOG_WARN
#define _EVENT_LOG_ERR EVENT_LOG_ERR

typedef void (*event_log_cb)(int severity, const char *msg);
/* Routes library log lines to cb (NULL: stderr). cb must not call back into
 * the library. */
EVENT2_EXPORT_SYMBOL
void event_set_log_callback(event_log_cb cb);

typedef void (*event_fatal_cb)(int err);
/* Called instead of exit(1) on an unrecoverable internal error; it must not
 * return into the library. */
EVENT2_EXPORT_SYMBOL
void event_set_fatal_callback(event_fatal_cb cb);

#define EVENT_DBG_ALL 0xffffffffu
#define EVENT_DBG_NONE 0
/* Enables debug-severity log lines (EVENT_DBG_ALL or EVENT_DBG_NONE). */
EVENT2_EXPORT_SYMBOL
void event_enable_debug_logging(ev_uint32_t which);

/* Moves a not-yet-pending event to another base. */
EVENT2_EXPORT_SYMBOL
int event_base_set(struct event_base *, struct event *);

/* ---- running the loop ------------------------------------------------ */
#define EVLOOP_ONCE 0x01
#define EVLOOP_NONBLOCK 0x02
#define EVLOOP_NO_EXIT_ON_EMPTY 0x04

/* Runs callbacks until no events are left (unless EVLOOP_NO_EXIT_ON_EMPTY),
 * loopexit/loopbreak is called, or after one pass (EVLOOP_ONCE, or
 * EVLOOP_NONBLOCK without waiting). Returns 0, -1 on error, or 1 when it
 * stopped because nothing was pending or active. */
EVENT2_EXPORT_SYMBOL
int event_base_loop(struct event_base *, int);
/* Stop after the given delay (NULL: now), once the active callbacks have
 * run. */
EVENT2_EXPORT_SYMBOL
int event_base_loopexit(struct event_base *, const struct timeval *);
/* Stop right after the callback now running. */
EVENT2_EXPORT_SYMBOL
int event_base_loopbreak(struct event_base *);
/* From a callback: skip the rest of this pass and poll again. */
EVENT2_EXPORT_SYMBOL
int event_base_loopcontinue(struct event_base *);
/* Nonzero if the last loop ended by loopexit / by loopbreak; reset when the
 * loop starts again. */
EVENT2_EXPORT_SYMBOL
int event_base_got_exit(struct event_base *);
EVENT2_EXPORT_SYMBOL
int event_base_got_break(struct event_base *);

/* ---- events ---------------------------------------------------------- */
/* What an event waits for, and what its callback is told happened. */
#define EV_TIMEOUT 0x01
#define EV_READ 0x02
#define EV_WRITE 0x04
#define EV_SIGNAL 0x08
#define EV_PERSIST 0x10
#define EV_ET 0x20
#define EV_FINALIZE 0x40
#define EV_CLOSED 0x80

/* Pure timers. */
#define evtimer_assign(ev, b, cb, arg) \
	event_assign((ev), (b), -1, 0, (cb), (arg))
#define evtimer_new(b, cb, arg) event_new((b), -1, 0, (cb), (arg))
#define evtimer_add(ev, tv) event_add((ev), (tv))
#define evtimer_del(ev) event_del(ev)
#define evtimer_pending(ev, tv) event_pending((ev), EV_TIMEOUT, (tv))
#define evtimer_initialized(ev) event_initialized(ev)

/* Signal events (persistent by default). */
#define evsignal_add(ev, tv) event_add((ev), (tv))
#define evsignal_assign(ev, b, x, cb, arg) \
	event_assign((ev), (b), (x), EV_SIGNAL|EV_PERSIST, cb, (arg))
#define evsignal_new(b, x, cb, arg) \
	event_new((b), (x), EV_SIGNAL|EV_PERSIST, (cb), (arg))
#define evsignal_del(ev) event_del(ev)
#define evsignal_pending(ev, tv) event_pending((ev), EV_SIGNAL, (tv))
#define evsignal_initialized(ev) event_initialized(ev)

/* User-triggered events. */
#define evuser_new(b, cb, arg) event_new((b), -1, 0, (cb), (arg))
#define evuser_del(ev) event_del(ev)
#define evuser_pending(ev, tv) event_pending((ev), 0, (tv))
#define evuser_initialized(ev) event_initialized(ev)
#define evuser_trigger(ev) event_active((ev), 0, 0)

/* fd (or signal number), the EV_* flags that fired, the user argument. */
typedef void (*event_callback_fn)(evutil_socket_t, short, void *);

/* Stands for "the new event itself" when passed as the callback argument
 * to event_new or event_assign. */
EVENT2_EXPORT_SYMBOL
void *event_self_cbarg(void);

/* A heap-allocated event (free with event_free), or NULL. fd is -1 for
 * timers and user events, the signal number with EV_SIGNAL. */
EVENT2_EXPORT_SYMBOL
struct event *event_new(struct event_base *, evutil_socket_t, short, event_callback_fn, void *);
/* Initializes caller-provided storage of sizeof(struct event) bytes (see
 * event_struct.h), which must stay put until the event is deleted. Must
 * not be used on a pending event. */
EVENT2_EXPORT_SYMBOL
int event_assign(struct event *, struct event_base *, evutil_socket_t, short, event_callback_fn, void *);
/* Deletes (if pending) and frees an event from event_new. */
EVENT2_EXPORT_SYMBOL
void event_free(struct event *);

typedef void (*event_finalize_callback_fn)(struct event *, void *);
/* Deletes the event without waiting for a running callback; cb runs in the
 * loop once no callback of the event can still be running. The first
 * argument is reserved (pass 0). event_free_finalize also frees it after cb. */
EVENT2_EXPORT_SYMBOL
int event_finalize(unsigned, struct event *, event_finalize_callback_fn);
EVENT2_EXPORT_SYMBOL
int event_free_finalize(unsigned, struct event *, event_finalize_callback_fn);

/* Runs cb once when fd is ready or the timeout passes; the library owns and
 * frees the event. EV_SIGNAL and EV_PERSIST are not allowed. */
EVENT2_EXPORT_SYMBOL
int event_base_once(struct event_base *, evutil_socket_t, short, event_callback_fn, void *, const struct timeval *);

/* Makes the event pending, with an optional timeout (relative; replaces a
 * previous one). */
EVENT2_EXPORT_SYMBOL
int event_add(struct event *ev, const struct timeval *timeout);
/* Drops the timeout but leaves the event pending on fd/signal. */
EVENT2_EXPORT_SYMBOL
int event_remove_timer(struct event *ev);
/* Makes the event non-pending and non-active. If its callback is running in
 * another thread, waits for it to return (unless made with EV_FINALIZE). */
EVENT2_EXPORT_SYMBOL
int event_del(struct event *);
/* event_del that never waits for a callback running in another thread. */
EVENT2_EXPORT_SYMBOL
int event_del_noblock(struct event *ev);
/* event_del that always waits, EV_FINALIZE or not. */
EVENT2_EXPORT_SYMBOL
int event_del_block(struct event *ev);
/* Runs the callback with res as its flags on the next loop pass, pending or
 * not; ncalls is ignored. Safe from other threads once threading is set up. */
EVENT2_EXPORT_SYMBOL
void event_active(struct event *ev, int res, short ncalls);
/* Which of the EV_* kinds in events the event is pending/active for (0 if
 * none); with EV_TIMEOUT and a pending timeout, stores its expiry in *tv. */
EVENT2_EXPORT_SYMBOL
int event_pending(const struct event *ev, short events, struct timeval *tv);
/* The event whose callback is running now, when called from a callback. */
EVENT2_EXPORT_SYMBOL
struct event *event_base_get_running_event(struct event_base *base);
/* Tells an assigned event from zeroed memory (not from garbage). */
EVENT2_EXPORT_SYMBOL
int event_initialized(const struct event *ev);

#define event_get_signal(ev) ((int)event_get_fd(ev))

/* Accessors for what the event was assigned. */
EVENT2_EXPORT_SYMBOL
evutil_socket_t event_get_fd(const struct event *ev);
EVENT2_EXPORT_SYMBOL
struct event_base *event_get_base(const struct event *ev);
EVENT2_EXPORT_SYMBOL
short event_get_events(const struct event *ev);
EVENT2_EXPORT_SYMBOL
event_callback_fn event_get_callback(const struct event *ev);
EVENT2_EXPORT_SYMBOL
void *event_get_callback_arg(const struct event *ev);
EVENT2_EXPORT_SYMBOL
int event_get_priority(const struct event *ev);
/* All of the above at once; NULL outputs are skipped. */
EVENT2_EXPORT_SYMBOL
void event_get_assignment(const struct event *event,
    struct event_base **base_out, evutil_socket_t *fd_out, short *events_out,
    event_callback_fn *callback_out, void **arg_out);

/* sizeof(struct event) inside the library: 128. */
EVENT2_EXPORT_SYMBOL
size_t event_get_struct_event_size(void);

/* ---- version --------------------------------------------------------- */
/* Of the library linked in: "2.1.12-stable" and 0x02010c00. */
EVENT2_EXPORT_SYMBOL
const char *event_get_version(void);
EVENT2_EXPORT_SYMBOL
ev_uint32_t event_get_version_number(void);

/* Of these headers. */
#define LIBEVENT_VERSION EVENT__VERSION
#define LIBEVENT_VERSION_NUMBER EVENT__NUMERIC_VERSION

/* ---- priorities ------------------------------------------------------ */
#define EVENT_MAX_PRIORITIES 256
/* Sets how many priorities the base has (default 1); only while no event is
 * active. Priority 0 runs first; new events get the middle one. */
EVENT2_EXPORT_SYMBOL
int	event_base_priority_init(struct event_base *, int);
EVENT2_EXPORT_SYMBOL
int	event_base_get_npriorities(struct event_base *eb);
/* Not while the event is active. */
EVENT2_EXPORT_SYMBOL
int	event_priority_set(struct event *, int);

/* Returns a special timeval that, given to event_add, means "duration"
 * and is cheaper when many events share that duration. It belongs to the
 * base and lives as long as the base. */
EVENT2_EXPORT_SYMBOL
const struct timeval *event_base_init_common_timeout(struct event_base *base,
    const struct timeval *duration);

/* ---- memory ---------------------------------------------------------- */
/* Replaces malloc/realloc/free for everything the library allocates,
 * including strings handed to the caller (evbuffer_readln...), which must
 * then be released with free_fn. Call before any other library function. */
EVENT2_EXPORT_SYMBOL
void event_set_mem_functions(
	void *(*malloc_fn)(size_t sz),
	void *(*realloc_fn)(void *ptr, size_t sz),
	void (*free_fn)(void *ptr));
#define EVENT_SET_MEM_FUNCTIONS_IMPLEMENTED

/* ---- introspection --------------------------------------------------- */
/* Human-readable list of inserted and active events (format not stable). */
EVENT2_EXPORT_SYMBOL
void event_base_dump_events(struct event_base *, FILE *);
/* Activates the pending events on fd whose kinds intersect events
 * (EV_READ/EV_WRITE/EV_TIMEOUT). */
EVENT2_EXPORT_SYMBOL
void event_base_active_by_fd(struct event_base *base, evutil_socket_t fd, short events);
/* Activates the pending events for signal sig. */
EVENT2_EXPORT_SYMBOL
void event_base_active_by_signal(struct event_base *base, int sig);

/* Return 0 to continue, anything else to stop. Must not change the base or
 * its events. */
typedef int (*event_base_foreach_event_cb)(const struct event_base *, const struct event *, void *);
/* Calls fn for each added or active event (internal ones included), with
 * the base locked. Returns 0, or fn's nonzero result. */
EVENT2_EXPORT_SYMBOL
int event_base_foreach_event(struct event_base *base, event_base_foreach_event_cb fn, void *arg);

/* The loop's cached "now" if it has one, else the current time. */
EVENT2_EXPORT_SYMBOL
int event_base_gettimeofday_cached(struct event_base *base,
    struct timeval *tv);
/* Refreshes that cache (useful after a long callback). */
EVENT2_EXPORT_SYMBOL
int event_base_update_cache_time(struct event_base *base);

/* Releases process-wide resources (global locks and such). Only when no
 * further library call will follow; never required. */
EVENT2_EXPORT_SYMBOL
void libevent_global_shutdown(void);

#ifdef __cplusplus
}
#endif

#endif /* EVENT2_EVENT_H_INCLUDED_ */
