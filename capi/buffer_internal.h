/*
 * buffer_internal.h: the evbuffer head and chains as the C fast paths see
 * them, and the checks that decide whether a fast path may run at all.
 * Internal to capi/: buffer.c (the public functions), buffer_fast.c (the
 * chain work of the fast paths) and buffer_io.c (reads and writes) share it.
 */
#ifndef GOEVENT_BUFFER_INTERNAL_H
#define GOEVENT_BUFFER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <event2/buffer.h>
#include <event2/event_struct.h>

#include "internal.h"

#define GEB(b) ((struct ge_evbuffer *)(void *)(b))

/* Longest add/prepend handed to Go as one slice; libevent fails such
 * requests anyway (no allocator can satisfy them). */
#define GE_MAX_SLICE ((size_t)1 << 46)

static inline void buf_lock(const struct evbuffer *b)
{
	void *l = GEB(b)->lock;
	if (l)
		ge_lock_acquire(l);
}

static inline void buf_unlock(const struct evbuffer *b)
{
	void *l = GEB(b)->lock;
	if (l)
		ge_lock_release(l);
}

/* Both buffers' locks, lower address first, each lock once (two buffers
 * may share one, as a bufferevent pair's do). */
static inline void buf_lock2(const struct evbuffer *a, const struct evbuffer *b)
{
	void *la = GEB(a)->lock, *lb = GEB(b)->lock;
	if ((uintptr_t)la > (uintptr_t)lb) {
		void *t = la;
		la = lb;
		lb = t;
	}
	if (la)
		ge_lock_acquire(la);
	if (lb && lb != la)
		ge_lock_acquire(lb);
}

static inline void buf_unlock2(const struct evbuffer *a, const struct evbuffer *b)
{
	void *la = GEB(a)->lock, *lb = GEB(b)->lock;
	if (lb && lb != la)
		ge_lock_release(lb);
	if (la)
		ge_lock_release(la);
}

/* The chain allocation libevent makes for `payload` bytes: header plus
 * payload rounded up to a power of two from 1024. 0 if too large for the
 * fast paths (Go handles the rest). */
static inline size_t chain_alloc_size(size_t payload)
{
	if (payload > ((size_t)1 << 40))
		return 0;
	size_t need = payload + GE_CHAIN_HEADER, n = GE_MIN_CHAIN_ALLOC;
	while (n < need)
		n <<= 1;
	return n;
}

/* A plain chain of room for payload bytes, sized as libevent sizes it; NULL
 * if it cannot be had. Its memory may come from the thread's cache of big
 * chains (ge_chain_cache_enable). */
struct ge_chain *ge_chain_new(size_t payload);
/* From the first bulk read a thread makes, its big chains come from and
 * go back to a small cache of its own (buffer_fast.c). */
void ge_chain_cache_enable(void);
/* Frees a list of plain chains. */
void ge_free_chain_list(struct ge_chain *c);

/* Plain: owned by the buffer alone, freed with ge_free and nothing else. */
static inline int chain_plain(const struct ge_chain *c)
{
	return c->flags == 0 && c->refcnt == 1;
}

/* With no callbacks registered (slow == 0) libevent resets the counts after
 * every change. */
static inline void no_callbacks(struct ge_evbuffer *b)
{
	b->n_add_for_cb = b->n_del_for_cb = 0;
}

/* Whether a fast path may change the end (quiet_end) or the front
 * (quiet_front) without Go: no callback needs to hear of it and that end is
 * not frozen. An idle watcher (GE_SLOW_IDLE_WATCH) needs nothing while its
 * event is inserted; only holders of the buffer's lock delete that event,
 * so the flag cannot drop while the caller's change is under way. */
static inline int idle_quiet(const struct ge_evbuffer *b)
{
	/* No event (a pair end's watcher): never idle, only hooked. */
	return b->idle_flags && (__atomic_load_n(b->idle_flags, __ATOMIC_RELAXED) &
	    EVLIST_INSERTED) != 0;
}

/* An idle watcher with a hook may be passed by too: cb_after runs the
 * hook after the change. */
static inline int idle_ok(const struct ge_evbuffer *b)
{
	return b->idle_hook || idle_quiet(b);
}

static inline int quiet_end(const struct ge_evbuffer *b)
{
	uint32_t s = b->slow;
	if (__builtin_expect(s == 0, 1))
		return 1;
	if (s & (GE_SLOW_CALLBACKS | GE_SLOW_FROZEN_END))
		return 0;
	if (s & GE_SLOW_C_CALLBACKS)
		return 1; /* the caller runs them: cb_after */
	return !(s & GE_SLOW_IDLE_WATCH) || idle_ok(b);
}

static inline int quiet_front(const struct ge_evbuffer *b)
{
	uint32_t s = b->slow;
	if (__builtin_expect(s == 0, 1))
		return 1;
	if (s & (GE_SLOW_CALLBACKS | GE_SLOW_FROZEN_START))
		return 0;
	if (s & GE_SLOW_C_CALLBACKS)
		return 1; /* the caller runs them: cb_after */
	return !(s & GE_SLOW_IDLE_WATCH) || idle_ok(b);
}

/* Runs a list of C callbacks on b (buffer_fast.c). */
void ge_run_c_callbacks(struct ge_evbuffer *b);

/* After a fast path changed b from before bytes to its length now (and
 * cleared the counts), what the callbacks the Go core would have run do,
 * with the counts this one change leaves (each change libevent reports on
 * its own gets its own call): a list of C callbacks runs here; an idle
 * watcher that is not idle runs its C hook, or, if the hook declines, Go
 * runs the callbacks. */
static inline void cb_after(struct ge_evbuffer *b, size_t before)
{
	uint32_t s = b->slow;
	size_t now = b->total_len;
	if (!(s & (GE_SLOW_C_CALLBACKS | GE_SLOW_IDLE_WATCH)) || now == before)
		return;
	size_t added = now > before ? now - before : 0;
	size_t deleted = now < before ? before - now : 0;
	if (s & GE_SLOW_C_CALLBACKS) {
		b->n_add_for_cb = added;
		b->n_del_for_cb = deleted;
		ge_run_c_callbacks(b);
		return;
	}
	if (idle_quiet(b) || (b->idle_hook && b->idle_hook(b->idle_arg, added, deleted)))
		return;
	b->n_add_for_cb = added;
	b->n_del_for_cb = deleted;
	goev_evbuffer_changed(b);
}

/* ---- the fast paths' chain work (buffer_fast.c) ---------------------------
 * Each returns 0, having changed nothing, when Go must do the call. */
int ge_add_fast(struct ge_evbuffer *b, const void *data, size_t datlen);
int ge_drain_chains(struct ge_evbuffer *b, size_t len);
int ge_drain_fast(struct ge_evbuffer *b, size_t len);
int ge_copy_front(const struct ge_evbuffer *b, unsigned char *out, size_t n);
int ge_add_buffer_fast(struct ge_evbuffer *out, struct ge_evbuffer *in);
int ge_find_line(const struct ge_evbuffer *b, int style, size_t *n, size_t *eol);
int ge_peek_front(const struct ge_evbuffer *b, ev_ssize_t len, struct evbuffer_iovec *vec,
    int n_vec);

#define NULL_BUF(fn, b, failval) do { \
	if (__builtin_expect((b) == NULL, 0)) { \
		GE_BADARG(fn, "NULL buffer"); \
		return failval; \
	} \
} while (0)
#define NULL_BUF_VOID(fn, b) do { \
	if (__builtin_expect((b) == NULL, 0)) { \
		GE_BADARG(fn, "NULL buffer"); \
		return; \
	} \
} while (0)

#endif
