/*
 * internal.h: what the C files of libevent_core share among themselves
 * (the engine never sees it): process state, logging, memory, locks, the
 * engine's function table and the C paths' entry points.
 */
#ifndef GOEVENT_CORE_INTERNAL_H
#define GOEVENT_CORE_INTERNAL_H

#define GE_CORE_LIBRARY 1

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "goevent.h"
#include "engine_api.h"

/* The address range of the Go callback slots (core/loop's
 * RegisterGoCallback): "function pointers" C must hand back to Go. */
extern uintptr_t ge_gocb_lo, ge_gocb_hi;
static inline int ge_is_go_fn(const void *fn)
{
	return (uintptr_t)fn >= ge_gocb_lo && (uintptr_t)fn < ge_gocb_hi;
}

/* ---- system calls on the hot paths --------------------------------------
 *
 * glibc makes readv, writev, sendmsg and epoll_wait cancellation points:
 * in a process with more than one thread (goevent's always has the Go
 * runtime's) each call then brackets the system call with two atomic
 * updates of the thread's cancellation state, which a single-threaded
 * libevent program never pays. On non-blocking fds, and for epoll_wait
 * with a zero timeout, these calls never block, so they are made with
 * syscall(2) instead; a pending pthread_cancel then takes effect at the
 * loop's next blocking epoll_wait, which stays a cancellation point. */
#include <sys/syscall.h>
#include <unistd.h>
#define GE_SYS_READV(fd, iov, n) ((ssize_t)syscall(SYS_readv, (fd), (iov), (n)))
#define GE_SYS_WRITEV(fd, iov, n) ((ssize_t)syscall(SYS_writev, (fd), (iov), (n)))
#define GE_SYS_SENDMSG(fd, msg, fl) ((ssize_t)syscall(SYS_sendmsg, (fd), (msg), (fl)))

/* buf is the struct evbuffer * as an integer (Go passes it so). */
struct ge_bev_io ge_bev_read(uintptr_t buf, int fd, int howmuch);
struct ge_bev_io ge_bev_write(uintptr_t buf, int fd, int64_t atmost);
struct ge_bev_io ge_bev_write_how(uintptr_t buf, int fd, int64_t atmost, int use_writev);
int ge_bev_writev_safe(int fd);
/* Read for the C handler into a buffer without callbacks: counts reset as
 * after any change; -2 (nothing done) when the tail is not plain. */
int ge_bev_read_nocb(struct ge_evbuffer *b, int fd, int howmuch);
/* A socket bufferevent's output watcher in C (the idle hook). */
int ge_bev_out_added(void *bev, size_t added, size_t deleted);
/* A socket bufferevent's input high-watermark watcher in C (the idle hook). */
int ge_bev_in_wm_changed(void *bev, size_t added, size_t deleted);
/* evbuffer_add_buffer(dst, src) on plain chains, for buffers whose
 * callbacks the caller answers for: 1 done, 0 nothing done. */
int ge_buf_move_all(struct ge_evbuffer *dst, struct ge_evbuffer *src);
/* A pair end's output watcher in C (the idle hook). */
int ge_bev_pair_out_added(void *bev, size_t added, size_t deleted);
/* Queues a deferred callback (event.c): 1 newly, 0 queued already, -1 Go
 * must do it. */
struct event_callback;
int ge_schedule_deferred(void *base, struct event_callback *cb);
/* A bufferevent's deferred callback run in C (bufferevent_sock.c). */
void ge_bev_deferred_run(struct event_callback *cb, void *bev);

/* ---- the engine (engine.c) ---------------------------------------------
 *
 * Everything this library does in Go goes through ge_eng, the table of the
 * engine copy loaded in this process. Every public function that may reach
 * Go starts with GE_NEED_ENGINE, which costs one load and a branch once the
 * engine runs; the first such call loads it. If the engine cannot be
 * loaded (missing, unreadable, not an engine) or cannot be used (this is a
 * child forked after the engine started), the function logs one line and
 * returns its error value. Functions that need no Go never load it. */
extern struct ge_engine_api ge_eng;
#define GE_ENGINE_NONE 0  /* not loaded in this process */
#define GE_ENGINE_READY 1 /* loaded and started */
#define GE_ENGINE_STALE 2 /* started before a fork: unusable in this child */
extern int ge_engine_state;
/* Makes the engine ready; 1 if it is, 0 after logging why not for fn
 * (errno set). */
int ge_engine_require(const char *fn);
/* ge_engine_require, running work(arg) on this thread while a freshly
 * loaded engine's runtime starts on its own (work runs only if the engine
 * had to be loaded, and must not need Go). */
int ge_engine_require_while(const char *fn, void (*work)(void *), void *arg);

#define GE_ENGINE_OK() \
	__builtin_expect(__atomic_load_n(&ge_engine_state, __ATOMIC_ACQUIRE) == \
	    GE_ENGINE_READY, 1)
#define GE_NEED_ENGINE(fn, failval) do { \
	if (!GE_ENGINE_OK() && !ge_engine_require(fn)) \
		return failval; \
} while (0)
#define GE_NEED_ENGINE_VOID(fn) do { \
	if (!GE_ENGINE_OK() && !ge_engine_require(fn)) \
		return; \
} while (0)

/* The engine's record of which base receives signals (libevent's
 * evsig_base, core/loop's evsigState; signal.c): process state that must
 * outlive any copy of the engine, so it lives in this library. */
struct ge_evsig_state {
	uint32_t lock;
	uint32_t pad_;
	void *base;
	int64_t n;
};
extern struct ge_evsig_state ge_evsig_state;

/* SIGPIPE's disposition just before the engine's runtime started
 * (buffer_io.c; see ge_writev). */
void ge_sigpipe_note_before_engine(void);

/* Frees the calling thread's cache of big chains (buffer_fast.c), for
 * libevent_global_shutdown. */
void ge_chain_cache_release(void);

/* ---- logging: libevent's path (event_set_log_callback or stderr) ------- */
void ge_log(int severity, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* An internal invariant broke: log, run the fatal callback, abort. */
void ge_fatal(const char *msg) __attribute__((noreturn));
/* Called from Go with an already formatted message. */
void ge_log_str(int severity, const char *msg);
/* libevent's event_errx (log.c): log, fatal callback, then exit(errcode),
 * or abort() for GE_ERR_ABORT without a callback. */
#define GE_ERR_ABORT ((int)0xdeaddead)
void ge_errx(int errcode, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
/* A bad argument where libevent would have crashed: one warning line. */
#define GE_BADARG(fn, what) ge_log(GE_LOG_WARN, "%s: %s", fn, what)

/* ---- memory: event_set_mem_functions or libc --------------------------- */
void *ge_malloc(size_t n);
void *ge_calloc(size_t count, size_t size);
void *ge_realloc(void *p, size_t n);
void ge_free(void *p);
int ge_malloc_many(const size_t *sizes, void **out, int n);
void ge_free_many(void *const *p, int n);
char *ge_strdup(const char *s);

/* ---- locks: evthread callbacks (pthreads or the user's) ----------------- */
/* Lock types and modes have libevent's values (thread.h). */
void *ge_lock_alloc(unsigned locktype);
void ge_lock_free(void *lock, unsigned locktype);
void ge_lock_acquire(void *lock);
void ge_lock_release(void *lock);
/* Nonzero once evthread_use_pthreads or evthread_set_lock_callbacks ran. */
int ge_threads_enabled(void);

#endif
