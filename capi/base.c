/*
 * base.c: event bases and the loop's public functions (event.h,
 * event_compat.h, evthread_make_base_notifiable). A base is made, freed and
 * mostly configured by the engine (core/loop); the loop itself runs in C
 * (loop.c) on the bases that allow it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_compat.h>
#include <event2/event_struct.h>
#include <event2/thread.h>

#include "debug.h"
#include "loop.h"

/* The backends core/loop has, in its order of preference (and Debian's
 * libevent's): event_get_supported_methods answers with this list. */
static const char *ge_methods[] = { "epoll", "poll", "select", NULL };

/* event_init's base, used by the compat API and wherever libevent accepts a
 * NULL base. */
struct event_base *ge_current_base;

/* ---- bases --------------------------------------------------------------- */

struct event_base *event_base_new_with_config(const struct event_config *cfg)
{
	GE_NEED_ENGINE("event_base_new_with_config", NULL);
	ge_debug_state |= GE_DEBUG_LATE; /* event_enable_debug_mode is too late now */
	int flags = cfg ? cfg->flags : 0;
	struct timeval none = { -1, 0 };
	const struct timeval *mx = cfg ? &cfg->max_dispatch_interval : &none;
	int lockable = ge_threads_enabled() && !(flags & EVENT_BASE_FLAG_NOLOCK);
	int err = 0;
	int avoid = 0;
	for (int i = 0; ge_methods[i]; i++)
		if (ge_config_avoids(cfg, ge_methods[i]))
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

/* The fd half of a reinit, done while a fresh engine starts (epoll.c). */
int ge_epoll_prepare_reinit(struct event_base *base, int epfd);

struct reinit_prep {
	struct event_base *base;
	int epfd;
	int failed;
};

static void reinit_prepare(void *arg)
{
	struct reinit_prep *rp = arg;
	rp->failed = ge_epoll_prepare_reinit(rp->base, rp->epfd) != 0;
}

int event_reinit(struct event_base *base)
{
	/* A child forked after the engine started loads a fresh copy here,
	 * and the copy's runtime takes a few milliseconds to start on a
	 * thread of its own. For a plain epoll base, a new epoll instance is
	 * made first (so it gets the number libevent's would) and filled with
	 * the base's fds meanwhile; Go's Reinit adopts it. */
	int prepared = -1;
	if (!GE_ENGINE_OK()) {
		if (base && ge_engine_state == GE_ENGINE_STALE &&
		    GE_BASE(base)->magic == GE_BASE_MAGIC && GE_BASE(base)->method == 0)
			prepared = epoll_create1(EPOLL_CLOEXEC);
		struct reinit_prep rp = { base, prepared, 0 };
		int ok = ge_engine_require_while("event_reinit",
		    prepared >= 0 ? reinit_prepare : NULL, &rp);
		/* A registration failed (a watched fd the program closed, say):
		 * Go does all of it, with libevent's log line and result. Closed
		 * only now: while the runtime started, a free number below the
		 * placeholders would have taken its descriptors. */
		if (prepared >= 0 && (!ok || rp.failed)) {
			close(prepared);
			prepared = -1;
		}
		if (!ok)
			return -1;
	}
	if (!base) {
		GE_BADARG("event_reinit", "NULL base");
		return -1;
	}
	return goev_event_reinit(base, prepared);
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
	if (!base) {
		GE_BADARG("event_base_get_method", "NULL base");
		return NULL;
	}
	return base_method(base);
}

const char *event_get_method(void)
{
	if (!ge_current_base) {
		GE_BADARG("event_get_method", "no current base (event_init)");
		return NULL;
	}
	return base_method(ge_current_base);
}

const char **event_get_supported_methods(void)
{
	return ge_methods;
}

int event_base_get_features(const struct event_base *base)
{
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
	if (!base)
		base = ge_current_base;
	if (!base)
		return gettimeofday(tv, NULL);
	GE_NEED_ENGINE("event_base_gettimeofday_cached", -1);
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
	/* Bases own all their memory, and a Go runtime, once started, cannot
	 * be shut down. What is left is the calling thread's cache of big
	 * chains (buffer_fast.c), which other threads give back when they
	 * end but the main thread, which exits, never would. */
	ge_chain_cache_release();
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
		int r = ge_loop_in_c(gb, flags);
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
