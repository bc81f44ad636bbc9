/*
 * engine_api.h: the contract between libevent_core (plain C) and the Go
 * engine it loads at first need.
 *
 * Two tables of function pointers cross between them, each filled once per
 * engine copy by goevent_engine_attach, the engine's only exported symbol:
 *
 *   struct ge_engine_api  the engine's Go exports (engine_exports.h lists
 *                         them), which the C library calls through ge_eng;
 *   struct ge_core_api    what the engine needs of the C library: the
 *                         allocator, locks, logging, the C paths it hands
 *                         work back to, and the addresses of C handlers it
 *                         stores in events and buffers.
 *
 * Neither side links against the other: the core library's dynamic symbol
 * table stays libevent's alone, the engine may be loaded from anywhere (and,
 * after a fork, loaded again as a fresh copy), and a call through either
 * table is an indirect call, not a C/Go crossing of its own.
 */
#ifndef GOEVENT_ENGINE_API_H
#define GOEVENT_ENGINE_API_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine_exports.h"

struct event;
struct event_callback;
struct timeval;
struct ge_bev_io;

/* Bumped whenever either table or anything they pass changes meaning; the
 * engine refuses to attach to a core library of another generation. */
#define GE_ENGINE_ABI 3u

/* The engine's functions: one slot per Go export. */
struct ge_engine_api {
	uint32_t abi;
	uint32_t size;
#define GE_X_SLOT(ret, name, params) ret (*name##_fn) params;
	GE_ENGINE_EXPORTS(GE_X_SLOT)
#undef GE_X_SLOT
};

/* What the C library lends the engine. Functions the engine calls are
 * listed with their argument names so that the engine can wrap each in a
 * static inline function of the same name (engine/engine.h). */
#define GE_CORE_CALLS(X) \
	X(void *, ge_malloc, (size_t n), (n)) \
	X(ssize_t, ge_writev, (int fd, const void *iov, int n), (fd, iov, n)) \
	X(int, ge_buffer_note_sigpipe, (void), ()) \
	X(void *, ge_lock_alloc, (unsigned locktype), (locktype)) \
	X(void *, ge_bev_current_base, (void), ()) \
	X(int, ge_run_queue, (void *base, int pri, int max_to_process), \
	    (base, pri, max_to_process)) \
	X(int, ge_sig_install, (int sig, uintptr_t *saved), (sig, saved)) \
	X(int, ge_sig_restore, (int sig, uintptr_t saved), (sig, saved)) \
	X(void *, ge_current_base_get, (void), ()) \
	X(int, ge_malloc_many, (const size_t *sizes, void **out, int n), (sizes, out, n)) \
	/* end */
#define GE_CORE_VOID_CALLS(X) \
	X(ge_free, (void *p), (p)) \
	X(ge_lock_free, (void *lock, unsigned locktype), (lock, locktype)) \
	X(ge_lock_acquire, (void *lock), (lock)) \
	X(ge_lock_release, (void *lock), (lock)) \
	X(ge_log_str, (int severity, const char *msg), (severity, msg)) \
	X(ge_buffer_release_chains, (void *head), (head)) \
	X(ge_sig_set_target, (int fd), (fd)) \
	X(ge_sig_discard, (uintptr_t saved), (saved)) \
	X(ge_gocb_set_range, (uintptr_t lo, uintptr_t hi), (lo, hi)) \
	X(ge_filt_hooks_set, (void *read_hook, void *write_hook), \
	    (read_hook, write_hook)) \
	X(ge_free_many, (void *const *p, int n), (p, n)) \
	/* end */
/* C functions whose addresses the engine stores (event callbacks, buffer
 * hooks, filters); the C paths recognise them by address. */
#define GE_CORE_ADDRS(X) \
	X(ge_bev_sock_readcb) \
	X(ge_bev_sock_writecb) \
	X(ge_bev_deferred_run) \
	X(ge_bev_sock_finalize) \
	X(ge_bev_out_added) \
	X(ge_bev_in_wm_changed) \
	X(ge_bev_pair_out_added) \
	X(ge_bev_null_filter) \
	X(ge_gocb_slots) \
	X(ge_evsig_state) \
	/* end */

struct ge_core_api {
	uint32_t abi;
	uint32_t size;
#define GE_X_CALL(ret, name, params, args) ret (*name) params;
#define GE_X_VOID(name, params, args) void (*name) params;
#define GE_X_ADDR(name) void *name;
	GE_CORE_CALLS(GE_X_CALL)
	GE_CORE_VOID_CALLS(GE_X_VOID)
	GE_CORE_ADDRS(GE_X_ADDR)
#undef GE_X_CALL
#undef GE_X_VOID
#undef GE_X_ADDR
	/* The bufferevent read/write steps return a struct; listed apart. */
	struct ge_bev_io (*ge_bev_read)(uintptr_t buf, int fd, int howmuch);
	struct ge_bev_io (*ge_bev_write)(uintptr_t buf, int fd, int64_t atmost);
};

/* The engine's entry point: checks that both sides were built from the same
 * contract, keeps core for the engine's calls into C and fills out. 0 on
 * success, -1 if the two do not match. */
#define GE_ENGINE_ATTACH_SYMBOL "goevent_engine_attach"
typedef int (*ge_engine_attach_fn)(const struct ge_core_api *core,
    struct ge_engine_api *out, uint32_t abi);

#endif
