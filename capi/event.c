/*
 * event.c: event.h, event_compat.h and evthread_make_base_notifiable.
 *
 * The event loop's state and rules live in Go (core/loop). This file keeps
 * in C what needs no Go state: event_config, event_assign/event_set/event_new
 * (plain stores into the caller's 128 bytes), the accessors, the compat
 * wrappers over the global current base, and, on a base without a lock, the
 * hot paths over the state the base header shares with Go: event_active,
 * running the active queues, event_add/event_del of timers, event_pending,
 * and the loop itself (see "the active queues in C" and below).
 * It also holds the process signal handler: libevent's design, a handler
 * that writes the signal number to a pipe the loop watches, so that signal
 * callbacks run from the loop and never inside the handler.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_compat.h>
#include <event2/event_struct.h>
#include <event2/thread.h>

#include "internal.h"

/* An active queue: callbacks linked through their evcb_active_next fields
 * (tqe_next is the next callback, tqe_prev holds the previous callback, not
 * TAILQ's pointer-to-next: core/loop's cbList). */
struct ge_cbq {
	struct event_callback *head, *tail;
};

/* What a struct event_base * points to: a header in memory core/loop
 * allocates, naming the Go-side base by handle, then the loop state that C
 * shares with Go. Mirrors baseHeader in core/loop/base.go (whose layout test
 * pins the offsets).
 *
 * Ownership of the shared part: on a base without a lock (no evthread
 * callbacks, or EVENT_BASE_FLAG_NOLOCK) only the thread running the loop may
 * use the base, as in libevent, and C and Go take turns on that thread, so
 * both read and write it freely. On a lockable base C touches it only while
 * holding the base's lock (lock_word, shared with Go): the loop, and the
 * fast paths of event_add/del/active/pending (c_lock); every
 * operation goes to Go, which serialises them with the base's mutex. */
/* One fd's slot in the fd map (core/loop ioEntry): its events, linked
 * through their ev_io_next, newest first, and how many want each kind of
 * readiness. */
struct ge_io {
	struct event *head;
	uint16_t nread, nwrite, nclose, pad_;
};

struct ge_base {
	uint32_t magic;
	uint32_t handle;
	int32_t npriorities;
	int32_t lockable;
	int32_t method;   /* index in ge_methods */
	int32_t features; /* EV_FEATURE_* of the backend */
	struct ge_cbq *active;          /* 24: npriorities queues */
	struct event_callback *current; /* 32: callback running now */
	int64_t count_active;           /* 40 */
	int64_t count_active_max;       /* 48 */
	int64_t event_count;            /* 56 */
	int64_t event_count_max;        /* 64 */
	int64_t running_priority;       /* 72: -1 between passes */
	uint8_t got_break;              /* 80 */
	uint8_t got_continue;           /* 81 */
	uint8_t got_term;               /* 82 */
	uint8_t waiting;                /* 83: blocked in the backend */
	uint32_t pad_;                  /* 84 */
	struct event **heap;            /* 88: timer min-heap */
	int64_t heap_len;               /* 96 */
	int64_t heap_cap;               /* 104 */
	struct timeval tv_cache;        /* 112: tv_sec == 0: none */
	struct timeval clock_diff;      /* 128: wall - monotonic */
	int64_t last_clock_update;      /* 144 */
	uint8_t precise;                /* 152 */
	uint8_t running;                /* 153 */
	uint8_t no_cache_time;          /* 154 */
	uint8_t c_loop;                 /* 155: event_base_loop runs in C */
	uint8_t sig_set_base;           /* 156: claim the signal pipe on start */
	uint8_t pad2_[3];
	int32_t epfd;                   /* 160 */
	int32_t pad3_;
	void *ep_events;                /* 168: struct epoll_event[ep_cap] */
	int64_t ep_cap;                 /* 176 */
	int64_t virtual_count;          /* 184 */
	int64_t n_deferreds;            /* 192 */
	struct ge_cbq later;            /* 200: active next iteration */
	int64_t max_callbacks;          /* 216 */
	int64_t limit_after_prio;       /* 224 */
	struct ge_io *io_map;           /* 232: the fd map, io_cap entries */
	int64_t io_cap;                 /* 240 */
	uint32_t lock_word;             /* 248: a lockable base's lock */
	int32_t current_waiters;        /* 252 */
	int32_t owner_tid;              /* 256: thread running the loop */
	int32_t pad4_;
	uint64_t owner_thread;          /* 264: its pthread_t (C loop only) */
};

#define GE_BASE_MAGIC 0x6765b45eu

/* The backends core/loop has, in its order of preference (and Debian's
 * libevent's): event_get_supported_methods answers with this list. */
static const char *ge_methods[] = { "epoll", "poll", "select", NULL };

/* Compile-time checks that the header matches core/loop's baseHeader (its
 * layout test pins the Go side). */
typedef char ge_base_size_ok[sizeof(struct ge_base) == 272 ? 1 : -1];
typedef char ge_base_lock_ok[offsetof(struct ge_base, lock_word) == 248 ? 1 : -1];
typedef char ge_base_io_ok[offsetof(struct ge_base, io_map) == 232 ? 1 : -1];
typedef char ge_base_running_ok[offsetof(struct ge_base, running) == 153 ? 1 : -1];
typedef char ge_base_epfd_ok[offsetof(struct ge_base, epfd) == 160 ? 1 : -1];
typedef char ge_base_later_ok[offsetof(struct ge_base, later) == 200 ? 1 : -1];
typedef char ge_base_limit_ok[offsetof(struct ge_base, limit_after_prio) == 224 ? 1 : -1];
typedef char ge_base_heap_ok[offsetof(struct ge_base, heap) == 88 ? 1 : -1];
typedef char ge_base_clock_ok[offsetof(struct ge_base, last_clock_update) == 144 ? 1 : -1];
typedef char ge_base_precise_ok[offsetof(struct ge_base, precise) == 152 ? 1 : -1];
typedef char ge_base_active_ok[offsetof(struct ge_base, active) == 24 ? 1 : -1];
typedef char ge_base_count_ok[offsetof(struct ge_base, count_active) == 40 ? 1 : -1];
typedef char ge_base_rpri_ok[offsetof(struct ge_base, running_priority) == 72 ? 1 : -1];
typedef char ge_base_wait_ok[offsetof(struct ge_base, waiting) == 83 ? 1 : -1];
typedef char ge_base_npri_ok[offsetof(struct ge_base, npriorities) == 8 ? 1 : -1];
typedef char ge_base_method_ok[offsetof(struct ge_base, method) == 16 ? 1 : -1];
#define GE_BASE(b) ((const struct ge_base *)(const void *)(b))

/* event_init's base, used by the compat API and wherever libevent accepts a
 * NULL base. */
struct event_base *ge_current_base;

/* Values libevent keeps in its private headers. */
#define GE_CLOSURE_EVENT 0
#define GE_CLOSURE_EVENT_SIGNAL 1
#define GE_CLOSURE_EVENT_PERSIST 2
#define GE_CLOSURE_CB_SELF 3
#define GE_LIST_QUEUED (EVLIST_TIMEOUT | EVLIST_INSERTED | EVLIST_ACTIVE | \
	EVLIST_ACTIVE_LATER | EVLIST_FINALIZING)
#define GE_DEL_NOBLOCK 0
#define GE_DEL_BLOCK 1
#define GE_DEL_AUTOBLOCK 2

static inline void set_errno_from(int r, int e)
{
	if (r < 0 && e)
		errno = e;
}

static int loop_in_c(struct ge_base *b, int flags);

/* ---- event_config -------------------------------------------------------- */

struct ge_avoid {
	struct ge_avoid *next;
	char *method;
};

struct event_config {
	int flags;
	int require_features;
	int n_cpus_hint;
	struct timeval max_dispatch_interval; /* tv_sec < 0: none */
	int max_dispatch_callbacks;
	int limit_callbacks_after_prio;
	struct ge_avoid *avoid;
};

struct event_config *event_config_new(void)
{
	GE_NEED_ENGINE("event_config_new", NULL);
	struct event_config *cfg = ge_calloc(1, sizeof(*cfg));
	if (!cfg)
		return NULL;
	cfg->max_dispatch_interval.tv_sec = -1;
	cfg->max_dispatch_callbacks = INT32_MAX;
	cfg->limit_callbacks_after_prio = 1;
	return cfg;
}

void event_config_free(struct event_config *cfg)
{
	GE_NEED_ENGINE_VOID("event_config_free");
	if (!cfg)
		return;
	while (cfg->avoid) {
		struct ge_avoid *a = cfg->avoid;
		cfg->avoid = a->next;
		ge_free(a->method);
		ge_free(a);
	}
	ge_free(cfg);
}

int event_config_avoid_method(struct event_config *cfg, const char *method)
{
	GE_NEED_ENGINE("event_config_avoid_method", -1);
	if (!cfg || !method) {
		GE_BADARG("event_config_avoid_method", "NULL argument");
		return -1;
	}
	struct ge_avoid *a = ge_malloc(sizeof(*a));
	if (!a)
		return -1;
	a->method = ge_strdup(method);
	if (!a->method) {
		ge_free(a);
		return -1;
	}
	/* Order does not matter: only membership is ever asked. */
	a->next = cfg->avoid;
	cfg->avoid = a;
	return 0;
}

int event_config_require_features(struct event_config *cfg, int features)
{
	GE_NEED_ENGINE("event_config_require_features", -1);
	if (!cfg)
		return -1;
	cfg->require_features = features;
	return 0;
}

int event_config_set_flag(struct event_config *cfg, int flag)
{
	GE_NEED_ENGINE("event_config_set_flag", -1);
	if (!cfg)
		return -1;
	cfg->flags |= flag;
	return 0;
}

int event_config_set_num_cpus_hint(struct event_config *cfg, int cpus)
{
	GE_NEED_ENGINE("event_config_set_num_cpus_hint", -1);
	if (!cfg)
		return -1;
	cfg->n_cpus_hint = cpus;
	return 0;
}

int event_config_set_max_dispatch_interval(struct event_config *cfg,
    const struct timeval *max_interval, int max_callbacks, int min_priority)
{
	GE_NEED_ENGINE("event_config_set_max_dispatch_interval", -1);
	if (!cfg) {
		GE_BADARG("event_config_set_max_dispatch_interval", "NULL config");
		return -1;
	}
	if (max_interval)
		cfg->max_dispatch_interval = *max_interval;
	else
		cfg->max_dispatch_interval.tv_sec = -1;
	cfg->max_dispatch_callbacks = max_callbacks >= 0 ? max_callbacks : INT32_MAX;
	cfg->limit_callbacks_after_prio = min_priority < 0 ? 0 : min_priority;
	return 0;
}

static int config_avoids(const struct event_config *cfg, const char *m)
{
	for (const struct ge_avoid *a = cfg ? cfg->avoid : NULL; a; a = a->next)
		if (strcmp(a->method, m) == 0)
			return 1;
	return 0;
}

/* ---- bases --------------------------------------------------------------- */

struct event_base *event_base_new_with_config(const struct event_config *cfg)
{
	GE_NEED_ENGINE("event_base_new_with_config", NULL);
	int flags = cfg ? cfg->flags : 0;
	struct timeval none = { -1, 0 };
	const struct timeval *mx = cfg ? &cfg->max_dispatch_interval : &none;
	int lockable = ge_threads_enabled() && !(flags & EVENT_BASE_FLAG_NOLOCK);
	int err = 0;
	int avoid = 0;
	for (int i = 0; ge_methods[i]; i++)
		if (config_avoids(cfg, ge_methods[i]))
			avoid |= 1 << i;
	void *b = goev_event_base_new(flags, cfg ? cfg->require_features : 0,
	    avoid, mx->tv_sec, mx->tv_usec,
	    cfg ? cfg->max_dispatch_callbacks : INT32_MAX,
	    cfg ? cfg->limit_callbacks_after_prio : 1, lockable, &err);
	if (!b && err)
		errno = err;
	return b;
}

struct event_base *event_base_new(void)
{
	GE_NEED_ENGINE("event_base_new", NULL);
	struct event_config *cfg = event_config_new();
	if (!cfg)
		return NULL;
	struct event_base *b = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return b;
}

struct event_base *event_init(void)
{
	GE_NEED_ENGINE("event_init", NULL);
	struct event_base *b = event_base_new_with_config(NULL);
	if (!b) {
		ge_log(GE_LOG_ERR, "event_init: Unable to construct event_base");
		return NULL;
	}
	ge_current_base = b;
	return b;
}

static void base_free(struct event_base *base, int run_finalizers)
{
	if (!base)
		base = ge_current_base;
	if (!base) {
		ge_log(GE_LOG_WARN, "event_base_free_: no base to free");
		return;
	}
	goev_event_base_free(base, run_finalizers);
	if (base == ge_current_base)
		ge_current_base = NULL;
}

void event_base_free(struct event_base *base)
{
	GE_NEED_ENGINE_VOID("event_base_free");
	base_free(base, 1);
}

void event_base_free_nofinalize(struct event_base *base)
{
	GE_NEED_ENGINE_VOID("event_base_free_nofinalize");
	base_free(base, 0);
}

int event_reinit(struct event_base *base)
{
	/* In a forked child this is where a libevent program would carry on;
	 * goevent cannot, and the guard says so. */
	GE_NEED_ENGINE("event_reinit", -1);
	if (!base) {
		GE_BADARG("event_reinit", "NULL base");
		return -1;
	}
	return goev_event_reinit(base);
}

/* Method names by the index core/loop reports: the supported methods, then
 * epoll's changelist variant (EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST). */
static const char *ge_method_names[] = { "epoll", "poll", "select",
	"epoll (with changelist)" };

static const char *base_method(const struct event_base *base)
{
	int32_t m = GE_BASE(base)->method;
	if (m < 0 || m >= (int32_t)(sizeof(ge_method_names) / sizeof(ge_method_names[0])))
		return NULL;
	return ge_method_names[m];
}

const char *event_base_get_method(const struct event_base *base)
{
	GE_NEED_ENGINE("event_base_get_method", NULL);
	if (!base) {
		GE_BADARG("event_base_get_method", "NULL base");
		return NULL;
	}
	return base_method(base);
}

const char *event_get_method(void)
{
	GE_NEED_ENGINE("event_get_method", NULL);
	if (!ge_current_base) {
		GE_BADARG("event_get_method", "no current base (event_init)");
		return NULL;
	}
	return base_method(ge_current_base);
}

const char **event_get_supported_methods(void)
{
	GE_NEED_ENGINE("event_get_supported_methods", NULL);
	return ge_methods;
}

int event_base_get_features(const struct event_base *base)
{
	GE_NEED_ENGINE("event_base_get_features", 0);
	if (!base) {
		GE_BADARG("event_base_get_features", "NULL base");
		return 0;
	}
	return GE_BASE(base)->features;
}

int event_base_priority_init(struct event_base *base, int npriorities)
{
	GE_NEED_ENGINE("event_base_priority_init", -1);
	if (!base) {
		GE_BADARG("event_base_priority_init", "NULL base");
		return -1;
	}
	return goev_event_base_priority_init(base, npriorities);
}

int event_priority_init(int npriorities)
{
	GE_NEED_ENGINE("event_priority_init", -1);
	return event_base_priority_init(ge_current_base, npriorities);
}

int event_base_get_npriorities(struct event_base *base)
{
	GE_NEED_ENGINE("event_base_get_npriorities", -1);
	if (!base)
		base = ge_current_base;
	if (!base) {
		GE_BADARG("event_base_get_npriorities", "no base");
		return -1;
	}
	return GE_BASE(base)->npriorities;
}

int event_base_get_num_events(struct event_base *base, unsigned int type)
{
	GE_NEED_ENGINE("event_base_get_num_events", -1);
	if (!base) {
		GE_BADARG("event_base_get_num_events", "NULL base");
		return -1;
	}
	return goev_event_base_get_num_events(base, (int)type);
}

int event_base_get_max_events(struct event_base *base, unsigned int type, int clear)
{
	GE_NEED_ENGINE("event_base_get_max_events", -1);
	if (!base) {
		GE_BADARG("event_base_get_max_events", "NULL base");
		return -1;
	}
	return goev_event_base_get_max_events(base, (int)type, clear);
}

int event_gettime_monotonic(struct event_base *base, struct timeval *tp)
{
	GE_NEED_ENGINE("event_gettime_monotonic", -1);
	if (!base || !tp)
		return -1;
	return goev_event_gettime_monotonic(base, tp);
}

int event_base_gettimeofday_cached(struct event_base *base, struct timeval *tv)
{
	GE_NEED_ENGINE("event_base_gettimeofday_cached", -1);
	if (!base)
		base = ge_current_base;
	if (!base)
		return gettimeofday(tv, NULL);
	return goev_event_base_gettimeofday_cached(base, tv);
}

int event_base_update_cache_time(struct event_base *base)
{
	GE_NEED_ENGINE("event_base_update_cache_time", -1);
	if (!base)
		base = ge_current_base;
	if (!base)
		return -1;
	goev_event_base_update_cache_time(base);
	return 0;
}

const struct timeval *event_base_init_common_timeout(struct event_base *base,
    const struct timeval *duration)
{
	GE_NEED_ENGINE("event_base_init_common_timeout", NULL);
	if (!base || !duration) {
		GE_BADARG("event_base_init_common_timeout", "NULL argument");
		return NULL;
	}
	return goev_event_base_init_common_timeout(base, (struct timeval *)duration);
}

int evthread_make_base_notifiable(struct event_base *base)
{
	GE_NEED_ENGINE("evthread_make_base_notifiable", -1);
	if (!base)
		return -1;
	int err = 0;
	int r = goev_evthread_make_base_notifiable(base, &err);
	set_errno_from(r, err);
	return r;
}

void libevent_global_shutdown(void)
{
	GE_NEED_ENGINE_VOID("libevent_global_shutdown");
	/* goevent keeps no global state that needs releasing: bases own all
	 * their memory, and the Go runtime cannot be shut down. */
}

/* ---- the loop ------------------------------------------------------------ */

int event_base_loop(struct event_base *base, int flags)
{
	GE_NEED_ENGINE("event_base_loop", -1);
	if (!base) {
		GE_BADARG("event_base_loop", "NULL base");
		return -1;
	}
	struct ge_base *gb = (struct ge_base *)(void *)base;
	if (gb->magic == GE_BASE_MAGIC && gb->c_loop) {
		int r = loop_in_c(gb, flags);
		if (r != -2)
			return r;
	}
	int err = 0;
	int r = goev_event_base_loop(base, flags, &err);
	set_errno_from(r, err);
	return r;
}

int event_base_dispatch(struct event_base *base)
{
	GE_NEED_ENGINE("event_base_dispatch", -1);
	return event_base_loop(base, 0);
}

int event_loop(int flags)
{
	GE_NEED_ENGINE("event_loop", -1);
	return event_base_loop(ge_current_base, flags);
}

int event_dispatch(void)
{
	GE_NEED_ENGINE("event_dispatch", -1);
	return event_base_loop(ge_current_base, 0);
}

int event_base_loopexit(struct event_base *base, const struct timeval *tv)
{
	GE_NEED_ENGINE("event_base_loopexit", -1);
	if (!base)
		return -1;
	return goev_event_base_loopexit(base, (struct timeval *)tv);
}

int event_loopexit(const struct timeval *tv)
{
	GE_NEED_ENGINE("event_loopexit", -1);
	return event_base_loopexit(ge_current_base, tv);
}

int event_base_loopbreak(struct event_base *base)
{
	GE_NEED_ENGINE("event_base_loopbreak", -1);
	if (!base)
		return -1;
	goev_event_base_loopbreak(base);
	return 0;
}

int event_loopbreak(void)
{
	GE_NEED_ENGINE("event_loopbreak", -1);
	return event_base_loopbreak(ge_current_base);
}

int event_base_loopcontinue(struct event_base *base)
{
	GE_NEED_ENGINE("event_base_loopcontinue", -1);
	if (!base)
		return -1;
	goev_event_base_loopcontinue(base);
	return 0;
}

int event_base_got_exit(struct event_base *base)
{
	GE_NEED_ENGINE("event_base_got_exit", -1);
	if (!base) {
		GE_BADARG("event_base_got_exit", "NULL base");
		return -1;
	}
	return goev_event_base_got_exit(base);
}

int event_base_got_break(struct event_base *base)
{
	GE_NEED_ENGINE("event_base_got_break", -1);
	if (!base) {
		GE_BADARG("event_base_got_break", "NULL base");
		return -1;
	}
	return goev_event_base_got_break(base);
}

struct event *event_base_get_running_event(struct event_base *base)
{
	GE_NEED_ENGINE("event_base_get_running_event", NULL);
	if (!base)
		return NULL;
	return goev_event_base_get_running_event(base);
}

int event_base_once(struct event_base *base, evutil_socket_t fd, short events,
    event_callback_fn callback, void *arg, const struct timeval *tv)
{
	GE_NEED_ENGINE("event_base_once", -1);
	if (!base)
		return -1;
	return goev_event_base_once(base, fd, events, (void *)callback, arg,
	    (struct timeval *)tv);
}

int event_once(evutil_socket_t fd, short events,
    void (*callback)(evutil_socket_t, short, void *), void *arg,
    const struct timeval *tv)
{
	GE_NEED_ENGINE("event_once", -1);
	return event_base_once(ge_current_base, fd, events, callback, arg, tv);
}

int event_base_foreach_event(struct event_base *base,
    event_base_foreach_event_cb fn, void *arg)
{
	GE_NEED_ENGINE("event_base_foreach_event", -1);
	if (!fn || !base)
		return -1;
	return goev_event_base_foreach_event(base, (void *)fn, arg);
}

void event_base_dump_events(struct event_base *base, FILE *output)
{
	GE_NEED_ENGINE_VOID("event_base_dump_events");
	if (!base || !output) {
		GE_BADARG("event_base_dump_events", "NULL argument");
		return;
	}
	char *text = goev_event_base_dump_events(base);
	if (text) {
		fputs(text, output);
		free(text); /* C.CString memory */
	}
}

void event_base_active_by_fd(struct event_base *base, evutil_socket_t fd, short events)
{
	GE_NEED_ENGINE_VOID("event_base_active_by_fd");
	if (!base) {
		GE_BADARG("event_base_active_by_fd", "NULL base");
		return;
	}
	goev_event_base_active_by_fd(base, fd, events);
}

void event_base_active_by_signal(struct event_base *base, int sig)
{
	GE_NEED_ENGINE_VOID("event_base_active_by_signal");
	if (!base) {
		GE_BADARG("event_base_active_by_signal", "NULL base");
		return;
	}
	goev_event_base_active_by_signal(base, sig);
}

/* ---- events: assignment and accessors (pure C) --------------------------- */

static int ge_self_cbarg_anchor;
static int ge_debug_mode;

void event_enable_debug_mode(void)
{
	GE_NEED_ENGINE_VOID("event_enable_debug_mode");
	if (ge_debug_mode)
		ge_log(GE_LOG_ERR, "event_enable_debug_mode was called twice!");
	/* goevent accepts the call; its loop does not keep libevent's table
	 * of every event, so misuse is not diagnosed beyond the checks that
	 * are always on. */
	ge_debug_mode = 1;
}

void *event_self_cbarg(void)
{
	return &ge_self_cbarg_anchor;
}

int event_assign(struct event *ev, struct event_base *base, evutil_socket_t fd,
    short events, event_callback_fn callback, void *arg)
{
	GE_NEED_ENGINE("event_assign", -1);
	if (!ev) {
		GE_BADARG("event_assign", "NULL event");
		return -1;
	}
	if (!base)
		base = ge_current_base;
	if (arg == &ge_self_cbarg_anchor)
		arg = ev;
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
	return 0;
}

void event_set(struct event *ev, evutil_socket_t fd, short events,
    void (*callback)(evutil_socket_t, short, void *), void *arg)
{
	GE_NEED_ENGINE_VOID("event_set");
	event_assign(ev, ge_current_base, fd, events, callback, arg);
}

struct event *event_new(struct event_base *base, evutil_socket_t fd,
    short events, event_callback_fn cb, void *arg)
{
	GE_NEED_ENGINE("event_new", NULL);
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
	GE_NEED_ENGINE("event_base_set", -1);
	if (!base || !ev) {
		GE_BADARG("event_base_set", "NULL argument");
		return -1;
	}
	/* Only an event on no queue may move to another base. */
	if (ev->ev_evcallback.evcb_flags != EVLIST_INIT)
		return -1;
	ev->ev_base = base;
	ev->ev_evcallback.evcb_pri = (ev_uint8_t)(GE_BASE(base)->npriorities / 2);
	return 0;
}

int event_priority_set(struct event *ev, int pri)
{
	GE_NEED_ENGINE("event_priority_set", -1);
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
	GE_NEED_ENGINE_VOID("event_debug_unassign");
	if (ev)
		ev->ev_evcallback.evcb_flags &= ~EVLIST_INIT;
}

int event_initialized(const struct event *ev)
{
	GE_NEED_ENGINE("event_initialized", 0);
	return (ev->ev_evcallback.evcb_flags & EVLIST_INIT) ? 1 : 0;
}

evutil_socket_t event_get_fd(const struct event *ev)
{
	GE_NEED_ENGINE("event_get_fd", -1);
	return ev->ev_fd;
}

struct event_base *event_get_base(const struct event *ev)
{
	GE_NEED_ENGINE("event_get_base", NULL);
	return ev->ev_base;
}

short event_get_events(const struct event *ev)
{
	GE_NEED_ENGINE("event_get_events", 0);
	return ev->ev_events;
}

event_callback_fn event_get_callback(const struct event *ev)
{
	GE_NEED_ENGINE("event_get_callback", NULL);
	return ev->ev_evcallback.evcb_cb_union.evcb_callback;
}

void *event_get_callback_arg(const struct event *ev)
{
	GE_NEED_ENGINE("event_get_callback_arg", NULL);
	return ev->ev_evcallback.evcb_arg;
}

int event_get_priority(const struct event *ev)
{
	GE_NEED_ENGINE("event_get_priority", -1);
	return ev->ev_evcallback.evcb_pri;
}

void event_get_assignment(const struct event *event, struct event_base **base_out,
    evutil_socket_t *fd_out, short *events_out, event_callback_fn *callback_out,
    void **arg_out)
{
	GE_NEED_ENGINE_VOID("event_get_assignment");
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

/* ---- a lockable base's lock ---------------------------------------------
 *
 * The futex word in the header, with the protocol of core/loop's sharedLock
 * (0 free, 1 held, 2 held with waiters), so that the C loop and Go take the
 * same lock with no crossing. Bases without a lock skip it. */

static void futex_lock_slow(uint32_t *w)
{
	while (__atomic_exchange_n(w, 2, __ATOMIC_ACQUIRE) != 0)
		syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
}

static inline void base_lock(struct ge_base *b)
{
	uint32_t free_ = 0;
	if (b->lockable && !__atomic_compare_exchange_n(&b->lock_word, &free_, 1, 0,
	    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		futex_lock_slow(&b->lock_word);
}

static inline void base_unlock(struct ge_base *b)
{
	if (b->lockable && __atomic_fetch_sub(&b->lock_word, 1, __ATOMIC_RELEASE) != 1) {
		__atomic_store_n(&b->lock_word, 0, __ATOMIC_RELEASE);
		syscall(SYS_futex, &b->lock_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	}
}

/* ---- the active queues in C ---------------------------------------------
 *
 * On a base without a lock, activating an event and running the active
 * queues are done here, on the shared queues in struct ge_base, so that an
 * event_active call costs no C->Go crossing and running a plain C callback
 * costs no Go->C crossing. These functions are line-for-line the Go
 * functions they stand in for (core/loop queue.go, ops.go activeLocked,
 * loop.go processQueue); whatever needs more than the queue (signals, active
 * later, non-persistent events that are still added, persistent events with
 * a timeout to re-arm, Go callbacks, finalizers, deferred callbacks) goes to
 * Go, which applies the same rules. */

/* The address range of core/loop's Go callbacks (set once at start-up). */
uintptr_t ge_gocb_lo, ge_gocb_hi; /* internal.h */

static inline struct event_callback *cbq_prev(const struct event_callback *cb)
{
	return (struct event_callback *)(void *)cb->evcb_active_next.tqe_prev;
}

static inline void cbq_set_prev(struct event_callback *cb, struct event_callback *p)
{
	cb->evcb_active_next.tqe_prev = (struct event_callback **)(void *)p;
}

static inline struct ge_cbq *queue_for(struct ge_base *b, unsigned pri)
{
	/* Clamped as in Go: an event assigned before the base had fewer
	 * priorities may carry a larger one. */
	if (pri >= (unsigned)b->npriorities)
		pri = (unsigned)b->npriorities - 1;
	return &b->active[pri];
}

/* Counts cb into a queue (incCount and the active counters) and appends
 * it to q with the given list flag. */
static inline void queue_push(struct ge_base *b, struct ge_cbq *q, struct event_callback *cb,
    uint16_t flag)
{
	if (!(cb->evcb_flags & EVLIST_INTERNAL)) {
		if (++b->event_count > b->event_count_max)
			b->event_count_max = b->event_count;
	}
	cb->evcb_flags |= flag;
	if (++b->count_active > b->count_active_max)
		b->count_active_max = b->count_active;
	cb->evcb_active_next.tqe_next = NULL;
	cbq_set_prev(cb, q->tail);
	if (q->tail)
		q->tail->evcb_active_next.tqe_next = cb;
	else
		q->head = cb;
	q->tail = cb;
}

static inline void queue_insert_active(struct ge_base *b, struct event_callback *cb)
{
	if (cb->evcb_flags & EVLIST_ACTIVE)
		return;
	queue_push(b, queue_for(b, cb->evcb_pri), cb, EVLIST_ACTIVE);
}

static inline void queue_remove_active(struct ge_base *b, struct event_callback *cb)
{
	if (!(cb->evcb_flags & EVLIST_INTERNAL))
		b->event_count--;
	cb->evcb_flags &= ~EVLIST_ACTIVE;
	b->count_active--;
	struct ge_cbq *q = queue_for(b, cb->evcb_pri);
	struct event_callback *next = cb->evcb_active_next.tqe_next, *prev = cbq_prev(cb);
	if (prev)
		prev->evcb_active_next.tqe_next = next;
	else
		q->head = next;
	if (next)
		cbq_set_prev(next, prev);
	else
		q->tail = prev;
	cb->evcb_active_next.tqe_next = NULL;
	cbq_set_prev(cb, NULL);
}

/* queueInsertActiveLater: active at the next iteration. */
static inline void queue_insert_active_later(struct ge_base *b, struct event_callback *cb)
{
	if (cb->evcb_flags & (EVLIST_ACTIVE | EVLIST_ACTIVE_LATER))
		return;
	queue_push(b, &b->later, cb, EVLIST_ACTIVE_LATER);
}

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

/* event_active when it needs nothing but the queues (b from c_lock).
 * Returns 1 if done, 0 if Go must do it. */
static inline int active_in_c(struct ge_base *b, struct event *ev, int res)
{
	struct event_callback *cb = &ev->ev_evcallback;
	if (cb->evcb_flags & EVLIST_FINALIZING)
		return 1;
	switch (cb->evcb_flags & (EVLIST_ACTIVE | EVLIST_ACTIVE_LATER)) {
	case EVLIST_ACTIVE:
		ev->ev_res |= (short)res;
		return 1;
	case 0:
		break;
	default:
		return 0;
	}
	if (ev->ev_events & EV_SIGNAL)
		return 0;
	ev->ev_res = (short)res;
	if ((int64_t)cb->evcb_pri < b->running_priority)
		b->got_continue = 1;
	queue_insert_active(b, cb);
	return 1;
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
			base_unlock(b);
			if (cb->evcb_closure == GE_CLOSURE_CB_SELF)
				cb->evcb_cb_union.evcb_selfcb(cb, cb->evcb_arg);
			else
				cb->evcb_cb_union.evcb_callback(ev->ev_fd, ev->ev_res, cb->evcb_arg);
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

/* ---- timers in C ----------------------------------------------------------
 *
 * The timer heap lives in struct ge_base too. event_add with a timeout and
 * event_del of a timer change it here (under the base's lock when it has
 * one, see c_lock), with the same
 * sift operations as core/loop/timer.go (so that timers with equal
 * deadlines fire in the same order whichever side built the heap), and
 * leave to Go what needs more: fds and signals to register or unregister,
 * common timeouts, a full heap array, finalizing events. */

#define GE_USEC_MASK 0x000fffffL
#define GE_COMMON_MASK 0xf0000000L
#define GE_COMMON_MAGIC 0x50000000L
/* core/loop's clockSyncInterval. */
#define GE_CLOCK_SYNC_INTERVAL 5

static inline int64_t heap_idx(const struct event *ev)
{
	int64_t i;
	memcpy(&i, &ev->ev_timeout_pos, sizeof(i));
	return i;
}

static inline void set_heap_idx(struct event *ev, int64_t i)
{
	memcpy(&ev->ev_timeout_pos, &i, sizeof(i));
}

static inline int tv_less(const struct timeval *a, const struct timeval *b)
{
	if (a->tv_sec == b->tv_sec)
		return a->tv_usec < b->tv_usec;
	return a->tv_sec < b->tv_sec;
}

/* x's deadline is later than y's. */
static inline int heap_greater(const struct event *x, const struct event *y)
{
	return tv_less(&y->ev_timeout, &x->ev_timeout);
}

static inline struct timeval tv_add(struct timeval a, struct timeval b)
{
	struct timeval r = { a.tv_sec + b.tv_sec, a.tv_usec + b.tv_usec };
	if (r.tv_usec >= 1000000) {
		r.tv_sec++;
		r.tv_usec -= 1000000;
	}
	return r;
}

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

static void heap_erase(struct ge_base *b, struct event *ev)
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
static struct timeval base_gettime(struct ge_base *b)
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

static inline void count_inc(struct ge_base *b, uint16_t flags)
{
	if (!(flags & EVLIST_INTERNAL) && ++b->event_count > b->event_count_max)
		b->event_count_max = b->event_count;
}

static inline void count_dec(struct ge_base *b, uint16_t flags)
{
	if (!(flags & EVLIST_INTERNAL))
		b->event_count--;
}

static inline int is_common(const struct timeval *tv)
{
	return (tv->tv_usec & GE_COMMON_MASK) == GE_COMMON_MAGIC;
}

/* The base of ev if C may work on it, locked if it has a lock (release
 * with c_unlock), or NULL for Go's path: a base Go does not know, one
 * blocked in the backend (a change may have to wake it, which Go does), or
 * on a lockable base an event whose callback is running on another thread
 * than the caller (event_del must wait for it, which Go does). */
static inline struct ge_base *c_lock(const struct event *ev)
{
	struct ge_base *b = (struct ge_base *)(void *)ev->ev_base;
	if (b->magic != GE_BASE_MAGIC)
		return NULL;
	if (!b->lockable)
		return b->waiting ? NULL : b;
	base_lock(b);
	if (b->waiting || (b->current == &ev->ev_evcallback &&
	    b->owner_thread != (uint64_t)pthread_self())) {
		base_unlock(b);
		return NULL;
	}
	return b;
}

static inline void c_unlock(struct ge_base *b)
{
	base_unlock(b);
}

/* event_add(ev, tv) with tv != NULL when only the timer changes (core/loop
 * addLocked). Returns 1 if done (event_add returns 0), 0 if Go must do it. */
static int add_timer_in_c(struct ge_base *b, struct event *ev, const struct timeval *tv)
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
		heap_erase(b, ev);
	}
	/* An activation by the old timeout is void once it is rescheduled. */
	if ((cb->evcb_flags & EVLIST_ACTIVE) && (ev->ev_res & EV_TIMEOUT))
		queue_remove_active(b, cb);
	ev->ev_timeout = tv_add(base_gettime(b), *tv);
	count_inc(b, cb->evcb_flags);
	cb->evcb_flags |= EVLIST_TIMEOUT;
	heap_push(b, ev);
	return 1;
}

/* event_del when nothing but the timer and the active queue are left to
 * undo (core/loop delLocked). Returns 1 if done, 0 if Go must do it. */
/* ---- fd events in C -------------------------------------------------------
 *
 * Adding or deleting an I/O event on an epoll base whose loop runs in C
 * changes the fd map (struct ge_io, shared with core/loop's evmap.go) and
 * makes at most one
 * epoll_ctl; done here, a bufferevent that starts and stops writing once per
 * message costs no crossing for it. The steps are evmap.go's ioAdd/ioDel
 * and epoll_linux.go's ctl, in the same order; whatever they do not cover
 * (an fd beyond the map, which Go grows; counts at their limit; signals;
 * what c_lock leaves to Go) goes to Go before anything changes. */

#define GE_RWC (EV_READ | EV_WRITE | EV_CLOSED)

static inline short io_mask(const struct ge_io *e)
{
	return (short)((e->nread ? EV_READ : 0) | (e->nwrite ? EV_WRITE : 0) |
	    (e->nclose ? EV_CLOSED : 0));
}

static inline uint32_t epoll_bits(short ev)
{
	return (ev & EV_READ ? EPOLLIN : 0) | (ev & EV_WRITE ? EPOLLOUT : 0) |
	    (ev & EV_CLOSED ? EPOLLRDHUP : 0);
}

static const char *epoll_op_name(int op)
{
	return op == EPOLL_CTL_ADD ? "ADD" : op == EPOLL_CTL_MOD ? "MOD" : "DEL";
}

/* One epoll_ctl with the retries libevent makes: a MOD of an fd epoll no
 * longer knows becomes an ADD, an ADD of one it knows a MOD, and a DEL of a
 * closed fd is no error. 0, or -1 with errno after one log line. */
static int epoll_ctl_retry(struct ge_base *b, int op, int fd, uint32_t bits, int et)
{
	struct epoll_event e;
	memset(&e, 0, sizeof e);
	e.events = bits | (et ? EPOLLET : 0);
	e.data.fd = fd;
	if (epoll_ctl(b->epfd, op, fd, &e) == 0)
		return 0;
	int err = errno, alt = -1;
	if (op == EPOLL_CTL_MOD && err == ENOENT)
		alt = EPOLL_CTL_ADD;
	else if (op == EPOLL_CTL_ADD && err == EEXIST)
		alt = EPOLL_CTL_MOD;
	else if (op == EPOLL_CTL_DEL && (err == ENOENT || err == EBADF || err == EPERM))
		return 0;
	if (alt >= 0) {
		if (epoll_ctl(b->epfd, alt, fd, &e) == 0)
			return 0;
		err = errno;
		ge_log(GE_LOG_WARN, "Epoll %s(%u) on %d retried as %s; that failed too: %s",
		    epoll_op_name(op), (unsigned)e.events, fd, epoll_op_name(alt), strerror(err));
	} else {
		ge_log(GE_LOG_WARN, "Epoll %s(%u) on fd %d failed: %s", epoll_op_name(op),
		    (unsigned)e.events, fd, strerror(err));
	}
	errno = err;
	return -1;
}

/* The fd map slot of an I/O event C may register or unregister, or NULL. */
static inline struct ge_io *io_slot(const struct ge_base *b, const struct event *ev)
{
	int fd = ev->ev_fd;
	if (!b->c_loop || b->epfd < 0 || fd < 0 || fd >= b->io_cap ||
	    !(ev->ev_events & GE_RWC) || (ev->ev_events & EV_SIGNAL))
		return NULL;
	return &b->io_map[fd];
}

/* core/loop keeps the previous event itself (not the address of its link)
 * in le_prev, as cbq_prev does for the active queues. */
#define IO_NEXT(ev) ((ev)->ev_.ev_io.ev_io_next.le_next)
static inline struct event *io_prev(const struct event *ev)
{
	return (struct event *)(void *)ev->ev_.ev_io.ev_io_next.le_prev;
}
static inline void io_set_prev(struct event *ev, struct event *p)
{
	ev->ev_.ev_io.ev_io_next.le_prev = (struct event **)(void *)p;
}

/* ioAdd + queueInsertInserted: 1 done, 0 nothing done (Go's turn), -1
 * epoll refused (nothing done, errno set). */
static int io_add_in_c(struct ge_base *b, struct event *ev, struct ge_io *e)
{
	short old = io_mask(e), res = 0;
	unsigned nr = e->nread, nw = e->nwrite, nc = e->nclose;
	if ((ev->ev_events & EV_READ) && ++nr == 1)
		res |= EV_READ;
	if ((ev->ev_events & EV_WRITE) && ++nw == 1)
		res |= EV_WRITE;
	if ((ev->ev_events & EV_CLOSED) && ++nc == 1)
		res |= EV_CLOSED;
	if (nr > 0xffff || nw > 0xffff || nc > 0xffff)
		return 0; /* Go refuses it, with its warning */
	if (res && epoll_ctl_retry(b, old & GE_RWC ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
	    ev->ev_fd, epoll_bits((short)((old | res) & GE_RWC)), ev->ev_events & EV_ET) < 0)
		return -1;
	e->nread = (uint16_t)nr;
	e->nwrite = (uint16_t)nw;
	e->nclose = (uint16_t)nc;
	io_set_prev(ev, NULL);
	IO_NEXT(ev) = e->head;
	if (e->head)
		io_set_prev(e->head, ev);
	e->head = ev;
	count_inc(b, ev->ev_evcallback.evcb_flags);
	ev->ev_evcallback.evcb_flags |= EVLIST_INSERTED;
	return 1;
}

/* queueRemoveInserted + ioDel: 0, or -1 if epoll refused (the event is
 * unregistered all the same, as in Go and libevent). */
static int io_del_in_c(struct ge_base *b, struct event *ev, struct ge_io *e)
{
	count_dec(b, ev->ev_evcallback.evcb_flags);
	ev->ev_evcallback.evcb_flags &= ~EVLIST_INSERTED;
	short old = io_mask(e), res = 0;
	if ((ev->ev_events & EV_READ) && --e->nread == 0)
		res |= EV_READ;
	if ((ev->ev_events & EV_WRITE) && --e->nwrite == 0)
		res |= EV_WRITE;
	if ((ev->ev_events & EV_CLOSED) && --e->nclose == 0)
		res |= EV_CLOSED;
	int r = 0;
	if (res) {
		short left = old & ~res & GE_RWC;
		int et = ev->ev_events & EV_ET;
		r = left ? epoll_ctl_retry(b, EPOLL_CTL_MOD, ev->ev_fd, epoll_bits(left), et) :
		    epoll_ctl_retry(b, EPOLL_CTL_DEL, ev->ev_fd, epoll_bits(old & GE_RWC), et);
	}
	struct event *next = IO_NEXT(ev), *prev = io_prev(ev);
	if (prev)
		IO_NEXT(prev) = next;
	else if (e->head == ev)
		e->head = next;
	if (next)
		io_set_prev(next, prev);
	IO_NEXT(ev) = NULL;
	io_set_prev(ev, NULL);
	return r;
}

/* event_add of an I/O event that is not yet registered (or, without a
 * timeout, one that is): 1 done, 0 Go's turn, -1 failed (errno set), 2
 * registered with the timeout left to Go (a common timeout, a full heap),
 * to ask once b is unlocked. */
static int add_io_in_c(struct ge_base *b, struct event *ev, const struct timeval *tv)
{
	uint16_t fl = ev->ev_evcallback.evcb_flags;
	struct ge_io *e = io_slot(b, ev);
	if (!e || (fl & EVLIST_FINALIZING))
		return 0;
	if (fl & (EVLIST_INSERTED | EVLIST_ACTIVE | EVLIST_ACTIVE_LATER))
		return !tv && (fl & EVLIST_INSERTED); /* nothing to register */
	int r = io_add_in_c(b, ev, e);
	if (r <= 0 || !tv || add_timer_in_c(b, ev, tv))
		return r;
	return 2;
}

static int del_in_c(struct ge_base *b, struct event *ev)
{
	struct event_callback *cb = &ev->ev_evcallback;
	uint16_t fl = cb->evcb_flags;
	if (fl & EVLIST_FINALIZING)
		return 1; /* libevent ignores it */
	struct ge_io *e = NULL;
	if (fl & EVLIST_INSERTED) {
		if (!(e = io_slot(b, ev)))
			return 0;
	}
	if ((ev->ev_events & EV_SIGNAL) || (fl & EVLIST_ACTIVE_LATER))
		return 0;
	if ((fl & EVLIST_TIMEOUT) && is_common(&ev->ev_timeout))
		return 0;
	if (fl & EVLIST_TIMEOUT) {
		count_dec(b, fl);
		cb->evcb_flags &= ~EVLIST_TIMEOUT;
		heap_erase(b, ev);
	}
	if (cb->evcb_flags & EVLIST_ACTIVE)
		queue_remove_active(b, cb);
	if (e && io_del_in_c(b, ev, e) < 0)
		return -1;
	return 1;
}

/* event_pending from the event's own fields (core/loop Pending). Returns
 * -1 if Go must answer. */
static int pending_in_c(const struct ge_base *b, const struct event *ev, short events,
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

/* ---- the loop in C ---------------------------------------------------------
 *
 * event_base_loop on a base Go marked c_loop (epoll, no dispatch
 * deadline): Base.Loop in core/loop/loop.go step by step, with epoll_wait
 * made from C (a system call made by Go from inside a cgo callback costs
 * more) and Go called only for the steps that need its state: claiming the
 * signal pipe, callbacks active next time, fds that became ready, expired
 * timers. A pass that finds nothing to do costs no crossing. On a lockable
 * base the loop holds the base's lock except while it waits in epoll_wait
 * and while a callback runs, as libevent does, and other threads' calls
 * (which go to Go) take the same lock. */

/* core/loop's maxEpollTimeoutMs: old kernels misbehave with longer waits. */
#define GE_MAX_EPOLL_TIMEOUT_MS (35 * 60 * 1000)

/* core/loop timeoutNext + the epoll backend's conversion: how long
 * epoll_wait may block, -1 for ever. */
static int next_timeout_ms(struct ge_base *b)
{
	if (b->heap_len == 0)
		return -1;
	const struct event *top = b->heap[0];
	struct timeval now = base_gettime(b), tv = { 0, 0 };
	if (tv_less(&now, &top->ev_timeout))
		timersub(&top->ev_timeout, &now, &tv);
	int64_t ms;
	if (tv.tv_usec > 1000000 || tv.tv_sec > (INT64_MAX - 999) / 1000)
		ms = -1;
	else
		ms = (int64_t)tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
	if (ms < 0 || ms > GE_MAX_EPOLL_TIMEOUT_MS)
		ms = GE_MAX_EPOLL_TIMEOUT_MS;
	return (int)ms;
}

static inline void update_time_cache(struct ge_base *b)
{
	b->tv_cache.tv_sec = 0;
	if (!b->no_cache_time)
		b->tv_cache = base_gettime(b);
}

static inline int max_for(const struct ge_base *b, int pri)
{
	return pri >= b->limit_after_prio ? (int)b->max_callbacks : INT32_MAX;
}

/* core/loop processActive without a dispatch deadline, from queue start. */
static int process_active(struct ge_base *b, int start)
{
	int c = 0;
	for (int i = start; i < b->npriorities; i++) {
		if (!b->active[i].head)
			continue;
		b->running_priority = i;
		c = ge_run_queue(b, i, max_for(b, i));
		if (c != 0)
			break;
	}
	b->running_priority = -1;
	return c;
}

/* process_active once Go has run count callbacks of queue pri (core/loop
 * CLoopIOReadyRun): ge_run_queue's checks for where Go stopped, the rest of
 * that queue, then the queues after it as process_active would. */
static int process_active_after(struct ge_base *b, int pri, int count)
{
	int max = max_for(b, pri), c;
	if (b->got_break) {
		c = -1;
	} else if (count >= max || b->got_continue) {
		c = count;
	} else {
		c = ge_run_queue(b, pri, max - count);
		if (c >= 0)
			c += count;
	}
	if (c == 0)
		return process_active(b, pri + 1);
	b->running_priority = -1;
	return c;
}

/* ---- ready fds in C -------------------------------------------------------
 *
 * core/loop keeps each fd's event list linked through the events' own
 * ev_io_next and keeps the fd map off the Go heap (io_map), so the fds epoll_wait
 * reports can be activated here as epollBackend.activate and ioActive do
 * it. Go does it instead when the result array is full (it grows the array)
 * or an event to activate is on the next iteration's queue. */

/* epollBackend.activate's translation of epoll's bits. */
static inline short epoll_what(uint32_t e)
{
	if (e & EPOLLERR)
		return EV_READ | EV_WRITE;
	if ((e & EPOLLHUP) && !(e & EPOLLRDHUP))
		return EV_READ | EV_WRITE;
	short what = 0;
	if (e & EPOLLIN)
		what |= EV_READ;
	if (e & EPOLLOUT)
		what |= EV_WRITE;
	if (e & EPOLLRDHUP)
		what |= EV_CLOSED;
	return what;
}

static inline struct event *io_head(const struct ge_base *b, int fd)
{
	return fd >= 0 && fd < b->io_cap ? b->io_map[fd].head : NULL;
}

static int io_ready_in_c(struct ge_base *b, int n)
{
	const struct epoll_event *r = b->ep_events;
	if (n >= b->ep_cap)
		return 0;
	for (int i = 0; i < n; i++) {
		short what = epoll_what(r[i].events);
		for (struct event *ev = io_head(b, r[i].data.fd); ev && what;
		    ev = ev->ev_.ev_io.ev_io_next.le_next) {
			if ((ev->ev_events & what) &&
			    (ev->ev_evcallback.evcb_flags & EVLIST_ACTIVE_LATER))
				return 0;
		}
	}
	for (int i = 0; i < n; i++) {
		short what = epoll_what(r[i].events);
		for (struct event *ev = io_head(b, r[i].data.fd); ev && what;
		    ev = ev->ev_.ev_io.ev_io_next.le_next) {
			if (!(ev->ev_events & what))
				continue;
			struct event_callback *cb = &ev->ev_evcallback;
			short res = ev->ev_events & (what | EV_ET);
			if (cb->evcb_flags & EVLIST_FINALIZING)
				continue;
			if (cb->evcb_flags & EVLIST_ACTIVE) {
				ev->ev_res |= res;
				continue;
			}
			ev->ev_res = res;
			if ((int64_t)cb->evcb_pri < b->running_priority)
				b->got_continue = 1;
			queue_insert_active(b, cb);
		}
	}
	return 1;
}

/* Runs the loop; -2 when it is running already (Go reports that). A
 * lockable base's lock is held throughout but for the wait and the
 * callbacks, as libevent holds its base lock. */
static int loop_in_c(struct ge_base *b, int flags)
{
	base_lock(b);
	if (b->running) {
		base_unlock(b);
		return -2;
	}
	b->running = 1;
	if (b->lockable) {
		b->owner_tid = (int32_t)syscall(SYS_gettid);
		b->owner_thread = (uint64_t)pthread_self();
	}
	b->tv_cache.tv_sec = 0;
	if (b->sig_set_base)
		goev_cloop_start(b);
	b->got_term = b->got_break = 0;
	int retval = 0, err = 0;
	for (;;) {
		b->got_continue = 0;
		b->n_deferreds = 0;
		if (b->got_term || b->got_break)
			break;
		int timeout_ms = 0;
		if (b->count_active == 0 && !(flags & EVLOOP_NONBLOCK))
			timeout_ms = next_timeout_ms(b);
		if (!(flags & EVLOOP_NO_EXIT_ON_EMPTY) &&
		    !(b->virtual_count > 0 || b->event_count > 0) && b->count_active == 0) {
			retval = 1;
			break;
		}
		if (b->later.head)
			goev_cloop_make_later_active(b);
		b->tv_cache.tv_sec = 0;
		b->waiting = 1;
		base_unlock(b);
		/* A wait that cannot block skips libc's cancellation
		 * bookkeeping (see GE_SYS_READV in goevent.h). */
		int n = timeout_ms == 0 ?
		    (int)syscall(SYS_epoll_wait, b->epfd, b->ep_events, (int)b->ep_cap, 0) :
		    epoll_wait(b->epfd, b->ep_events, (int)b->ep_cap, timeout_ms);
		int e = errno;
		base_lock(b);
		b->waiting = 0;
		if (n < 0) {
			if (e != EINTR) {
				goev_cloop_wait_error(e);
				err = e;
				retval = -1;
				break;
			}
			n = 0;
		}
		/* With fds ready, Go activates them and goes on with the pass
		 * (time cache, timers, the first Go callbacks to run) in the
		 * same crossing; pri says how far it got. */
		int pri = -2, ran = 0;
		if (n > 0 && !io_ready_in_c(b, n))
			pri = goev_cloop_io_ready_run(b, n, &ran);
		if (pri == -2) {
			update_time_cache(b);
			if (b->heap_len > 0) {
				struct timeval now = base_gettime(b);
				if (!tv_less(&now, &b->heap[0]->ev_timeout))
					goev_cloop_timeouts(b);
			}
		}
		if (pri >= 0) {
			int c = process_active_after(b, pri, ran);
			if ((flags & EVLOOP_ONCE) && b->count_active == 0 && c != 0)
				break;
		} else if (b->count_active != 0) {
			int c = process_active(b, 0);
			if ((flags & EVLOOP_ONCE) && b->count_active == 0 && c != 0)
				break;
		} else if (flags & EVLOOP_NONBLOCK) {
			break;
		}
	}
	b->tv_cache.tv_sec = 0;
	b->running = 0;
	base_unlock(b);
	if (retval < 0)
		errno = err;
	return retval;
}

/* ---- events: queue operations (Go) --------------------------------------- */

/* An event on no queue of a base without locking has nothing to undo and
 * no other thread to wait for: event_del and event_pending answer in C. */
static inline int ge_idle_unlocked(const struct event *ev)
{
	return !(ev->ev_evcallback.evcb_flags & GE_LIST_QUEUED) &&
	    !GE_BASE(ev->ev_base)->lockable;
}

int event_add(struct event *ev, const struct timeval *tv)
{
	GE_NEED_ENGINE("event_add", -1);
	if (!ev || !ev->ev_base) {
		ge_log(GE_LOG_WARN, "event_add: event has no event_base set.");
		return -1;
	}
	struct ge_base *b = c_lock(ev);
	if (b) {
		int done = add_io_in_c(b, ev, tv);
		if (!done && tv)
			done = add_timer_in_c(b, ev, tv);
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

static int event_del_mode(const char *fn, struct event *ev, int mode)
{
	if (!ev || !ev->ev_base) {
		ge_log(GE_LOG_WARN, "%s: event has no event_base set.", fn);
		return -1;
	}
	if (ge_idle_unlocked(ev))
		return 0;
	struct ge_base *b = c_lock(ev);
	if (b) {
		int done = del_in_c(b, ev);
		c_unlock(b);
		if (done)
			return done > 0 ? 0 : -1;
	}
	int err = 0;
	int r = goev_event_del(ev, mode, &err);
	set_errno_from(r, err);
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
	ge_free(ev);
}

int event_remove_timer(struct event *ev)
{
	GE_NEED_ENGINE("event_remove_timer", -1);
	if (!ev || !ev->ev_base) {
		ge_log(GE_LOG_WARN, "event_remove_timer: event has no event_base set.");
		return -1;
	}
	return goev_event_remove_timer(ev);
}

void event_active(struct event *ev, int res, short ncalls)
{
	GE_NEED_ENGINE_VOID("event_active");
	if (!ev || !ev->ev_base) {
		ge_log(GE_LOG_WARN, "event_active: event has no event_base set.");
		return;
	}
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
	if (ge_idle_unlocked(ev))
		return 0;
	struct ge_base *b = c_lock(ev);
	if (b) {
		int r = pending_in_c(b, ev, events, tv);
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

/* ---- signals ------------------------------------------------------------- */

/* The fd the handler writes caught signal numbers to: the signal pipe of
 * the base that most recently added a signal or started its loop. */
static volatile int ge_sig_fd = -1;

static void ge_sig_handler(int sig)
{
	int saved = errno;
	int fd = ge_sig_fd;
	if (fd >= 0) {
		unsigned char msg = (unsigned char)sig;
		if (write(fd, &msg, 1) < 0) {
			/* pipe full: the loop is already due to wake up */
		}
	}
	errno = saved;
}

void ge_sig_set_target(int fd)
{
	ge_sig_fd = fd;
}

/* Installs the handler for sig and returns the previous disposition in
 * *saved (memory ge_sig_restore releases). SA_ONSTACK because the signal
 * may land on a Go thread, whose stack is too small for a handler. */
int ge_sig_install(int sig, uintptr_t *saved)
{
	struct sigaction sa, *old = ge_malloc(sizeof(*old));
	if (!old)
		return ENOMEM;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = ge_sig_handler;
	sa.sa_flags = SA_RESTART | SA_ONSTACK;
	sigfillset(&sa.sa_mask);
	if (sigaction(sig, &sa, old) == -1) {
		int e = errno;
		ge_free(old);
		return e;
	}
	*saved = (uintptr_t)old;
	return 0;
}

int ge_sig_restore(int sig, uintptr_t saved)
{
	struct sigaction *old = (struct sigaction *)saved;
	int r = 0;
	if (old && sigaction(sig, old, NULL) == -1)
		r = errno;
	ge_free(old);
	return r;
}

/* ---- clocks -------------------------------------------------------------- */

/* Through libc so that the vDSO answers; the coarse monotonic clock is what
 * libevent uses unless a base asks for precise timers. */
void ge_clock_mono(int precise, int64_t *sec, int64_t *usec)
{
	struct timespec ts;
	if (clock_gettime(precise ? CLOCK_MONOTONIC : CLOCK_MONOTONIC_COARSE, &ts) != 0)
		clock_gettime(CLOCK_MONOTONIC, &ts);
	*sec = ts.tv_sec;
	*usec = ts.tv_nsec / 1000;
}

void ge_clock_wall(int64_t *sec, int64_t *usec)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	*sec = tv.tv_sec;
	*usec = tv.tv_usec;
}
