/*
 * engine.h: how the engine's Go code reaches the C library.
 *
 * The engine is a library of its own, loaded by libevent_core at first
 * need; it does not link against the core (whose only dynamic symbols are
 * libevent's). Instead the core hands it a table of functions at attach
 * time (capi/engine_api.h), and this header gives each entry a static
 * inline function of the C library's own name, so the Go files call
 * C.ge_malloc and friends as before. Trampolines into user callbacks need
 * nothing of the core and are defined here outright.
 */
#ifndef GOEVENT_ENGINE_H
#define GOEVENT_ENGINE_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>

#include <event2/buffer.h>
#include <event2/buffer_compat.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "goevent.h"
#include "engine_api.h"

/* Set by goevent_engine_attach (attach.c) before any Go export runs. */
extern const struct ge_core_api *ge_core;

#define GE_X_CALL(ret, name, params, args) \
	static inline ret name params { return ge_core->name args; }
#define GE_X_VOID(name, params, args) \
	static inline void name params { ge_core->name args; }
#define GE_X_ADDR(name) \
	static inline void *name##_addr(void) { return ge_core->name; }
GE_CORE_CALLS(GE_X_CALL)
GE_CORE_VOID_CALLS(GE_X_VOID)
GE_CORE_ADDRS(GE_X_ADDR)
#undef GE_X_CALL
#undef GE_X_VOID
#undef GE_X_ADDR

static inline struct ge_bev_io ge_bev_read(uintptr_t buf, int fd, int howmuch)
{
	return ge_core->ge_bev_read(buf, fd, howmuch);
}

static inline struct ge_bev_io ge_bev_write(uintptr_t buf, int fd, int64_t atmost)
{
	return ge_core->ge_bev_write(buf, fd, atmost);
}

/* ---- trampolines: Go calling user code ----------------------------------
 * The pointers are C memory; several travel as integers because pointer
 * arguments would make every call pay for cgo's pointer checks. */

static inline void ge_bev_call_data(uintptr_t fn, uintptr_t bev, uintptr_t arg)
{
	((bufferevent_data_cb)fn)((struct bufferevent *)bev, (void *)arg);
}

/* The calling thread's errno, for an event callback deferred now: libevent
 * saves it when it schedules the callback and sets it again when it runs. */
static inline int ge_errno_get(void)
{
	return errno;
}

/* err < 0 leaves errno as it is. */
static inline void ge_bev_call_event(uintptr_t fn, uintptr_t bev, short what,
    uintptr_t arg, int err)
{
	if (err >= 0)
		errno = err;
	((bufferevent_event_cb)fn)((struct bufferevent *)bev, what, (void *)arg);
}

static inline int ge_bev_filter_call(void *fn, void *src, void *dst, ssize_t limit,
    int mode, void *ctx)
{
	return (int)((bufferevent_filter_cb)fn)((struct evbuffer *)src,
	    (struct evbuffer *)dst, limit, (enum bufferevent_flush_mode)mode, ctx);
}

static inline void ge_bev_filter_free_ctx(void *fn, void *ctx)
{
	((void (*)(void *))fn)(ctx);
}

static inline void ge_buffer_run_cb(void *fn, void *buf, size_t orig, size_t added,
    size_t deleted, void *arg)
{
	struct evbuffer_cb_info info;
	info.orig_size = orig;
	info.n_added = added;
	info.n_deleted = deleted;
	((evbuffer_cb_func)fn)((struct evbuffer *)buf, &info, arg);
}

static inline void ge_buffer_run_obsolete_cb(void *fn, void *buf, size_t oldlen,
    size_t newlen, void *arg)
{
	((evbuffer_cb)fn)((struct evbuffer *)buf, oldlen, newlen, arg);
}

static inline void ge_buffer_run_ref_cleanup(void *fn, void *data, size_t len, void *extra)
{
	((evbuffer_ref_cleanup_cb)fn)(data, len, extra);
}

static inline void ge_buffer_run_seg_cleanup(void *fn, void *seg, int flags, void *arg)
{
	((evbuffer_file_segment_cleanup_cb)fn)(
	    (const struct evbuffer_file_segment *)seg, flags, arg);
}

static inline void ge_lev_call_accept(void *fn, void *lev, int fd, void *sa, int salen,
    void *arg)
{
	((evconnlistener_cb)fn)((struct evconnlistener *)lev, fd,
	    (struct sockaddr *)sa, salen, arg);
}

/* The error callback finds accept's error in errno. */
static inline void ge_lev_call_error(void *fn, void *lev, void *arg, int err)
{
	errno = err;
	((evconnlistener_errorcb)fn)((struct evconnlistener *)lev, arg);
}

#endif
