/*
 * buffer.c: event2/buffer.h and event2/buffer_compat.h.
 *
 * Each function checks the fork guard and its arguments, takes the buffer's
 * lock (both buffers' locks, in address order, for two-buffer calls), and
 * calls the matching goev_evbuffer_* export in buffer.go, which does the work
 * on core/evbuffer.
 *
 * Fast paths. While no callback needs to hear of the change and the end
 * being changed is not frozen (quiet_end, quiet_front: the `slow` bits) the
 * most frequent calls run here without entering Go, as long as
 * every chain they touch is plain allocator memory (no reference, file,
 * multicast or pinned chain, whose release needs Go):
 *   evbuffer_add          all of it: appending, realigning, a new chain;
 *   evbuffer_drain        all of it;
 *   evbuffer_remove/copyout  when no sendfile chain is read;
 *   evbuffer_add_buffer   moving the chains;
 *   evbuffer_readln       when the line ends in the first chain;
 *   evbuffer_pullup       when the bytes are already contiguous;
 *   evbuffer_peek         from the start, without sendfile chains (it
 *                         changes nothing, so callbacks and freezes do not
 *                         matter);
 *   evbuffer_read         when the chains it may fill or free are plain;
 *   evbuffer_write(_atmost)  unless a sendfile chain is first (the writev
 *                         itself is always made from C, see SIGPIPE);
 *   evbuffer_get_length, get_contiguous_space, lock/unlock, set/clear_flags
 *                         always (they only read or flip head fields).
 * They make exactly the chain changes libevent makes (and core/evbuffer makes
 * on its side), so the layout programs observe through evbuffer_peek or
 * evbuffer_reserve_space is the same either way; the differential tests run
 * every operation through both. Whatever they cannot finish they hand to Go
 * before changing anything. The layouts involved are in goevent.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/buffer_compat.h>
#include <event2/event_struct.h>
#include <event2/thread.h>

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
static void buf_lock2(const struct evbuffer *a, const struct evbuffer *b)
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

static void buf_unlock2(const struct evbuffer *a, const struct evbuffer *b)
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

static struct ge_chain *chain_new(size_t payload)
{
	size_t n = chain_alloc_size(payload);
	struct ge_chain *c = n ? ge_malloc(n) : NULL;
	if (!c)
		return NULL;
	c->next = NULL;
	c->buffer_len = n - GE_CHAIN_HEADER;
	c->misalign = 0;
	c->off = 0;
	c->flags = 0;
	c->refcnt = 1;
	c->buffer = (unsigned char *)c + GE_CHAIN_HEADER;
	return c;
}

/* Plain: owned by the buffer alone, freed with ge_free and nothing else. */
static inline int chain_plain(const struct ge_chain *c)
{
	return c->flags == 0 && c->refcnt == 1;
}

static void free_chain_list(struct ge_chain *c)
{
	while (c) {
		struct ge_chain *next = c->next;
		ge_free(c);
		c = next;
	}
}

/* Go hands over lists of chains it is done with (see ReleaseChains). */
void ge_buffer_release_chains(void *head)
{
	free_chain_list(head);
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

/* After a fast path changed b from before bytes to its length now (and
 * cleared the counts), what the callbacks the Go core would have run do,
 * with the counts this one change leaves (each change libevent reports on
 * its own gets its own call): a list of C callbacks runs here; an idle
 * watcher that is not idle runs its C hook, or, if the hook declines, Go
 * runs the callbacks. */
static void run_c_callbacks(struct ge_evbuffer *b);
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
		run_c_callbacks(b);
		return;
	}
	if (idle_quiet(b) || (b->idle_hook && b->idle_hook(b->idle_arg, added, deleted)))
		return;
	b->n_add_for_cb = added;
	b->n_del_for_cb = deleted;
	goev_evbuffer_changed(b);
}

/* core/evbuffer runCallbacks on a buffer that does not defer, for a list
 * of C functions: the counts become one cb_info and are cleared, then
 * every enabled entry runs, newest first; entries removed meanwhile are
 * only marked (the Go side sees cb_depth), and unlinked by Go once the
 * outermost run is over. */
static void run_c_callbacks(struct ge_evbuffer *b)
{
	if (!b->callbacks) {
		no_callbacks(b);
		return;
	}
	if (b->n_add_for_cb == 0 && b->n_del_for_cb == 0)
		return;
	size_t new_size = b->total_len;
	struct evbuffer_cb_info info;
	info.orig_size = new_size + b->n_del_for_cb - b->n_add_for_cb;
	info.n_added = b->n_add_for_cb;
	info.n_deleted = b->n_del_for_cb;
	no_callbacks(b);
	b->cb_depth++;
	for (struct ge_cb_entry *e = b->callbacks; e; e = e->next) {
		if ((e->flags & (GE_CB_REMOVED | GE_CB_ENABLED)) != GE_CB_ENABLED || !e->fn)
			continue;
		if (e->flags & GE_CB_OBSOLETE)
			((evbuffer_cb)e->fn)((struct evbuffer *)(void *)b, info.orig_size,
			    new_size, e->arg);
		else
			((evbuffer_cb_func)e->fn)((struct evbuffer *)(void *)b, &info, e->arg);
	}
	if (--b->cb_depth == 0) {
		for (struct ge_cb_entry *e = b->callbacks; e; e = e->next) {
			if (e->flags & GE_CB_REMOVED) {
				goev_evbuffer_sweep(b);
				break;
			}
		}
	}
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

/* The link where a new last chain goes: after the last chain with data and
 * any pinned empty chains. The empty chains from there on are the ones
 * libevent frees before inserting; *plain says whether all of them are plain.
 * `extra` is data about to be written into *last_with_datap (so that it will
 * no longer count as empty). */
static struct ge_chain **trailing_link(struct ge_evbuffer *b, size_t extra,
    int *plain)
{
	struct ge_chain **ch = b->last_with_datap;
	while (*ch) {
		struct ge_chain *x = *ch;
		size_t off = x->off + (ch == b->last_with_datap ? extra : 0);
		if (off == 0 && !(x->flags & (GE_CHAIN_PINNED_R | GE_CHAIN_PINNED_W)))
			break;
		ch = &x->next;
	}
	*plain = 1;
	for (struct ge_chain *x = *ch; x; x = x->next)
		if (!chain_plain(x))
			*plain = 0;
	return ch;
}

/* evbuffer_add without callbacks; 0 if Go must do it (nothing changed). */
static int add_fast(struct ge_evbuffer *b, const void *data, size_t datlen)
{
	struct ge_chain *c = *b->last_with_datap;
	if (c == NULL) {
		/* No chain yet: one sized for the data. */
		if ((c = chain_new(datlen)) == NULL)
			return 0;
		if (datlen)
			memcpy(c->buffer, data, datlen);
		c->off = datlen;
		b->first = b->last = c;
		b->total_len = datlen;
		no_callbacks(b);
		return 1;
	}
	size_t remain = 0;
	if (!(c->flags & GE_CHAIN_IMMUTABLE)) {
		remain = c->buffer_len - c->misalign - c->off;
		if (remain >= datlen) {
			if (datlen)
				memcpy(c->buffer + c->misalign + c->off, data, datlen);
			c->off += datlen;
			b->total_len += datlen;
			no_callbacks(b);
			return 1;
		}
		/* Realign when that is cheap: the chain is less than half
		 * full and at most 2048 bytes move (libevent's rule). */
		if (!(c->flags & (GE_CHAIN_PINNED_R | GE_CHAIN_PINNED_W)) &&
		    c->buffer_len - c->off >= datlen &&
		    c->off < c->buffer_len / 2 && c->off <= 2048) {
			memmove(c->buffer, c->buffer + c->misalign, c->off);
			c->misalign = 0;
			memcpy(c->buffer + c->off, data, datlen);
			c->off += datlen;
			b->total_len += datlen;
			no_callbacks(b);
			return 1;
		}
	}
	/* A new chain: twice the last one up to 4096, or the data's size. */
	int plain;
	struct ge_chain **ch = trailing_link(b, remain, &plain);
	if (!plain)
		return 0;
	size_t size = c->buffer_len;
	if (size <= GE_CHAIN_MAX_AUTO / 2)
		size <<= 1;
	if (datlen > size)
		size = datlen;
	struct ge_chain *tmp = chain_new(size);
	if (!tmp)
		return 0;
	if (remain) {
		memcpy(c->buffer + c->misalign + c->off, data, remain);
		c->off += remain;
		data = (const unsigned char *)data + remain;
		datlen -= remain;
	}
	memcpy(tmp->buffer, data, datlen);
	tmp->off = datlen;
	free_chain_list(*ch);
	*ch = tmp;
	if (datlen) /* 0 only when appending nothing after an immutable chain */
		b->last_with_datap = ch;
	b->last = tmp;
	b->total_len += remain + datlen;
	no_callbacks(b);
	return 1;
}

/* The chain work of evbuffer_drain when every chain it frees is plain; 0 if
 * Go must do it (nothing changed). Callback counts are the caller's. */
static inline int drain_chains(struct ge_evbuffer *b, size_t len)
{
	struct ge_chain *c = b->first, *x;
	if (b->total_len == 0)
		return 1;
	if (c->off > len) {
		/* Within the first chain: the common case. */
		c->misalign += len;
		c->off -= len;
		b->total_len -= len;
		return 1;
	}
	if (len >= b->total_len) {
		/* Everything: every chain goes (none may be read-pinned, which
		 * plain excludes). */
		for (x = c; x; x = x->next)
			if (!chain_plain(x))
				return 0;
		free_chain_list(c);
		b->first = b->last = NULL;
		b->last_with_datap = &b->first;
		b->total_len = 0;
		return 1;
	}
	/* Whole leading chains go, the rest comes off the next one. */
	size_t remaining = len;
	for (x = c; remaining >= x->off; x = x->next) {
		if (!chain_plain(x))
			return 0;
		remaining -= x->off;
	}
	remaining = len;
	while (remaining >= c->off) {
		struct ge_chain *next = c->next;
		remaining -= c->off;
		if (c == *b->last_with_datap || &c->next == b->last_with_datap)
			b->last_with_datap = &b->first;
		ge_free(c);
		c = next;
	}
	b->first = c;
	c->misalign += remaining;
	c->off -= remaining;
	b->total_len -= len;
	return 1;
}

/* evbuffer_drain without callbacks; 0 if Go must do it (nothing changed). */
static int drain_fast(struct ge_evbuffer *b, size_t len)
{
	if (!drain_chains(b, len))
		return 0;
	no_callbacks(b);
	return 1;
}

/* Copies n bytes (n <= total_len) from the front; 0 if a sendfile chain is
 * in the way (its bytes live in a file; Go reads them). */
static int copy_front(const struct ge_evbuffer *b, unsigned char *out, size_t n)
{
	const struct ge_chain *c;
	for (c = b->first; n; c = c->next) {
		if (c->flags & GE_CHAIN_SENDFILE)
			return 0;
		size_t k = c->off < n ? c->off : n;
		if (k)
			memcpy(out, c->buffer + c->misalign, k);
		out += k;
		n -= k;
	}
	return 1;
}

#define NULL_BUF(fn, b, failval) do { \
	if (__builtin_expect((b) == NULL, 0)) { \
		GE_BADARG(fn, "NULL buffer"); \
		return failval; \
	} \
} while (0)
/* A NULL destination with a nonzero length: libevent copies nothing (and
 * answers 0) from an empty buffer, and would crash otherwise. */
#define NULL_DEST(fn, b, data, datlen) do { \
	if (__builtin_expect(!(data) && (datlen), 0)) { \
		if (null_dest_ok(b)) \
			return 0; \
		GE_BADARG(fn, "NULL destination"); \
		return -1; \
	} \
} while (0)
#define NULL_BUF_VOID(fn, b) do { \
	if (__builtin_expect((b) == NULL, 0)) { \
		GE_BADARG(fn, "NULL buffer"); \
		return; \
	} \
} while (0)

/* ---- life cycle, locking, flags --------------------------------------- */

struct evbuffer *evbuffer_new(void)
{
	GE_NEED_ENGINE("evbuffer_new", NULL);
	return goev_evbuffer_new();
}

void evbuffer_free(struct evbuffer *buf)
{
	GE_NEED_ENGINE_VOID("evbuffer_free");
	NULL_BUF_VOID("evbuffer_free", buf);
	void *lk = GEB(buf)->lock;
	if (lk)
		ge_lock_acquire(lk);
	int own = goev_evbuffer_free(buf);
	/* buf may be gone now; only the saved lock pointer is used. */
	if (lk) {
		ge_lock_release(lk);
		if (own)
			ge_lock_free(lk, EVTHREAD_LOCKTYPE_RECURSIVE);
	}
}

int evbuffer_enable_locking(struct evbuffer *buf, void *lock)
{
	GE_NEED_ENGINE("evbuffer_enable_locking", -1);
	NULL_BUF("evbuffer_enable_locking", buf, -1);
	if (GEB(buf)->lock)
		return -1;
	int own = 0;
	if (!lock) {
		/* NULL without evthread_use_pthreads (or custom callbacks)
		 * fails, as in libevent. */
		lock = ge_lock_alloc(EVTHREAD_LOCKTYPE_RECURSIVE);
		if (!lock)
			return -1;
		own = 1;
	}
	return goev_evbuffer_enable_locking(buf, lock, own);
}

void evbuffer_lock(struct evbuffer *buf)
{
	GE_NEED_ENGINE_VOID("evbuffer_lock");
	NULL_BUF_VOID("evbuffer_lock", buf);
	buf_lock(buf);
}

void evbuffer_unlock(struct evbuffer *buf)
{
	GE_NEED_ENGINE_VOID("evbuffer_unlock");
	NULL_BUF_VOID("evbuffer_unlock", buf);
	buf_unlock(buf);
}

int evbuffer_set_flags(struct evbuffer *buf, ev_uint64_t flags)
{
	GE_NEED_ENGINE("evbuffer_set_flags", -1);
	NULL_BUF("evbuffer_set_flags", buf, -1);
	buf_lock(buf);
	GEB(buf)->flags |= (uint32_t)flags;
	buf_unlock(buf);
	return 0;
}

int evbuffer_clear_flags(struct evbuffer *buf, ev_uint64_t flags)
{
	GE_NEED_ENGINE("evbuffer_clear_flags", -1);
	NULL_BUF("evbuffer_clear_flags", buf, -1);
	buf_lock(buf);
	GEB(buf)->flags &= ~(uint32_t)flags;
	buf_unlock(buf);
	return 0;
}

int evbuffer_freeze(struct evbuffer *buf, int at_front)
{
	GE_NEED_ENGINE("evbuffer_freeze", -1);
	NULL_BUF("evbuffer_freeze", buf, -1);
	buf_lock(buf);
	int r = goev_evbuffer_freeze(buf, at_front, 1);
	buf_unlock(buf);
	return r;
}

int evbuffer_unfreeze(struct evbuffer *buf, int at_front)
{
	GE_NEED_ENGINE("evbuffer_unfreeze", -1);
	NULL_BUF("evbuffer_unfreeze", buf, -1);
	buf_lock(buf);
	int r = goev_evbuffer_freeze(buf, at_front, 0);
	buf_unlock(buf);
	return r;
}

int evbuffer_defer_callbacks(struct evbuffer *buf, struct event_base *base)
{
	GE_NEED_ENGINE("evbuffer_defer_callbacks", -1);
	NULL_BUF("evbuffer_defer_callbacks", buf, -1);
	if (!base) {
		GE_BADARG("evbuffer_defer_callbacks", "NULL event_base");
		return -1;
	}
	buf_lock(buf);
	int r = goev_evbuffer_defer_callbacks(buf, base);
	buf_unlock(buf);
	return r;
}

/* ---- sizes -------------------------------------------------------------- */

size_t evbuffer_get_length(const struct evbuffer *buf)
{
	GE_NEED_ENGINE("evbuffer_get_length", 0);
	NULL_BUF("evbuffer_get_length", buf, 0);
	const struct ge_evbuffer *b = GEB(buf);
	if (!b->lock)
		return b->total_len;
	ge_lock_acquire(b->lock);
	size_t n = b->total_len;
	ge_lock_release(b->lock);
	return n;
}

size_t evbuffer_get_contiguous_space(const struct evbuffer *buf)
{
	GE_NEED_ENGINE("evbuffer_get_contiguous_space", 0);
	NULL_BUF("evbuffer_get_contiguous_space", buf, 0);
	buf_lock(buf);
	const struct ge_chain *c = GEB(buf)->first;
	size_t n = c ? c->off : 0;
	buf_unlock(buf);
	return n;
}

/* ---- adding --------------------------------------------------------------- */

int evbuffer_add(struct evbuffer *buf, const void *data, size_t datlen)
{
	GE_NEED_ENGINE("evbuffer_add", -1);
	NULL_BUF("evbuffer_add", buf, -1);
	if (__builtin_expect(!data && datlen, 0)) {
		GE_BADARG("evbuffer_add", "NULL data");
		return -1;
	}
	struct ge_evbuffer *b = GEB(buf);
	void *lk = b->lock;
	int r = 0;
	if (lk)
		ge_lock_acquire(lk);
	size_t before = b->total_len;
	if (datlen > SIZE_MAX - b->total_len || datlen > GE_MAX_SLICE)
		r = -1; /* libevent: overflow, or no memory for the chain */
	else if (!quiet_end(b) || !add_fast(b, data, datlen))
		r = goev_evbuffer_add(buf, (void *)data, datlen);
	else
		cb_after(b, before);
	if (lk)
		ge_lock_release(lk);
	return r;
}

int evbuffer_prepend(struct evbuffer *buf, const void *data, size_t datlen)
{
	GE_NEED_ENGINE("evbuffer_prepend", -1);
	NULL_BUF("evbuffer_prepend", buf, -1);
	if (!data && datlen) {
		GE_BADARG("evbuffer_prepend", "NULL data");
		return -1;
	}
	buf_lock(buf);
	int r;
	if (datlen > GE_MAX_SLICE)
		r = -1;
	else
		r = goev_evbuffer_prepend(buf, (void *)data, datlen);
	buf_unlock(buf);
	return r;
}

/* evbuffer_add_buffer without callbacks: the chains change hands. 0 if Go
 * must do it (a pinned or non-plain chain would have to be freed or kept). */
static int add_buffer_fast(struct ge_evbuffer *out, struct ge_evbuffer *in)
{
	if (in->total_len == 0 || out == in)
		return 1;
	if (in->last && (in->last->flags & GE_CHAIN_PINNED_R))
		return 0;
	if (out->total_len == 0) {
		/* out may hold empty chains; they go, in's list is taken. */
		for (struct ge_chain *x = out->first; x; x = x->next)
			if (!chain_plain(x))
				return 0;
		free_chain_list(out->first);
		out->first = in->first;
		out->last_with_datap = in->last_with_datap == &in->first ?
		    &out->first : in->last_with_datap;
		out->total_len = in->total_len;
	} else {
		int plain;
		struct ge_chain **ch = trailing_link(out, 0, &plain);
		if (!plain)
			return 0;
		free_chain_list(*ch);
		*ch = in->first;
		out->last_with_datap = in->last_with_datap == &in->first ?
		    ch : in->last_with_datap;
		out->total_len += in->total_len;
	}
	out->last = in->last;
	in->first = in->last = NULL;
	in->last_with_datap = &in->first;
	in->total_len = 0;
	no_callbacks(in);
	no_callbacks(out);
	return 1;
}

int ge_buf_move_all(struct ge_evbuffer *dst, struct ge_evbuffer *src)
{
	return add_buffer_fast(dst, src);
}

int evbuffer_add_buffer(struct evbuffer *outbuf, struct evbuffer *inbuf)
{
	GE_NEED_ENGINE("evbuffer_add_buffer", -1);
	NULL_BUF("evbuffer_add_buffer", outbuf, -1);
	NULL_BUF("evbuffer_add_buffer", inbuf, -1);
	buf_lock2(inbuf, outbuf);
	int r = 0;
	struct ge_evbuffer *out = GEB(outbuf), *in = GEB(inbuf);
	size_t n = in->total_len, out_before = out->total_len;
	/* The chains leave in's front and join out's end (libevent checks
	 * those freezes only). */
	if (!quiet_end(out) || !quiet_front(in) || !add_buffer_fast(out, in))
		r = goev_evbuffer_add_buffer(outbuf, inbuf);
	else if (out != in) {
		cb_after(in, n);
		cb_after(out, out_before);
	}
	buf_unlock2(inbuf, outbuf);
	return r;
}

int evbuffer_prepend_buffer(struct evbuffer *dst, struct evbuffer *src)
{
	GE_NEED_ENGINE("evbuffer_prepend_buffer", -1);
	NULL_BUF("evbuffer_prepend_buffer", dst, -1);
	NULL_BUF("evbuffer_prepend_buffer", src, -1);
	buf_lock2(src, dst);
	int r = goev_evbuffer_prepend_buffer(dst, src);
	buf_unlock2(src, dst);
	return r;
}

int evbuffer_add_buffer_reference(struct evbuffer *outbuf,
    struct evbuffer *inbuf)
{
	GE_NEED_ENGINE("evbuffer_add_buffer_reference", -1);
	NULL_BUF("evbuffer_add_buffer_reference", outbuf, -1);
	NULL_BUF("evbuffer_add_buffer_reference", inbuf, -1);
	buf_lock2(inbuf, outbuf);
	int r = goev_evbuffer_add_buffer_reference(outbuf, inbuf);
	buf_unlock2(inbuf, outbuf);
	return r;
}

int evbuffer_add_reference(struct evbuffer *outbuf, const void *data,
    size_t datlen, evbuffer_ref_cleanup_cb cleanupfn, void *cleanupfn_arg)
{
	GE_NEED_ENGINE("evbuffer_add_reference", -1);
	NULL_BUF("evbuffer_add_reference", outbuf, -1);
	if (!data && datlen) {
		/* libevent accepts it and crashes when the bytes are read. */
		GE_BADARG("evbuffer_add_reference", "NULL data");
		return -1;
	}
	buf_lock(outbuf);
	int r = goev_evbuffer_add_reference(outbuf, (void *)data, datlen,
	    (void *)cleanupfn, cleanupfn_arg);
	buf_unlock(outbuf);
	return r;
}

size_t evbuffer_add_iovec(struct evbuffer *buf, struct evbuffer_iovec *vec,
    int n_vec)
{
	GE_NEED_ENGINE("evbuffer_add_iovec", 0);
	NULL_BUF("evbuffer_add_iovec", buf, 0);
	if (!vec && n_vec > 0) {
		GE_BADARG("evbuffer_add_iovec", "NULL vector");
		return 0;
	}
	buf_lock(buf);
	size_t r = goev_evbuffer_add_iovec(buf, vec, n_vec);
	buf_unlock(buf);
	return r;
}

int evbuffer_add_vprintf(struct evbuffer *buf, const char *fmt, va_list ap)
{
	GE_NEED_ENGINE("evbuffer_add_vprintf", -1);
	NULL_BUF("evbuffer_add_vprintf", buf, -1);
	if (!fmt) {
		GE_BADARG("evbuffer_add_vprintf", "NULL format");
		return -1;
	}
	/* Format here (varargs cannot cross into Go), then let Go place the
	 * text exactly where libevent's in-place vsnprintf would have. */
	char small[512], *text = small;
	va_list aq;
	va_copy(aq, ap);
	int n = vsnprintf(small, sizeof(small), fmt, aq);
	va_end(aq);
	if (n >= (int)sizeof(small)) {
		text = malloc((size_t)n + 1);
		if (!text)
			return -1;
		va_copy(aq, ap);
		vsnprintf(text, (size_t)n + 1, fmt, aq);
		va_end(aq);
	}
	buf_lock(buf);
	int r = goev_evbuffer_add_printf(buf, text, n);
	buf_unlock(buf);
	if (text != small)
		free(text);
	return r;
}

int evbuffer_add_printf(struct evbuffer *buf, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = evbuffer_add_vprintf(buf, fmt, ap);
	va_end(ap);
	return r;
}

/* ---- files -------------------------------------------------------------- */

int evbuffer_add_file(struct evbuffer *buf, int fd, ev_off_t offset,
    ev_off_t length)
{
	GE_NEED_ENGINE("evbuffer_add_file", -1);
	NULL_BUF("evbuffer_add_file", buf, -1);
	int err = 0;
	buf_lock(buf);
	int r = goev_evbuffer_add_file(buf, fd, offset, length, &err);
	buf_unlock(buf);
	if (err)
		errno = err;
	return r;
}

struct evbuffer_file_segment *evbuffer_file_segment_new(int fd,
    ev_off_t offset, ev_off_t length, unsigned flags)
{
	GE_NEED_ENGINE("evbuffer_file_segment_new", NULL);
	int err = 0;
	struct evbuffer_file_segment *seg =
	    goev_evbuffer_file_segment_new(fd, offset, length, flags, &err);
	if (err)
		errno = err;
	return seg;
}

void evbuffer_file_segment_free(struct evbuffer_file_segment *seg)
{
	GE_NEED_ENGINE_VOID("evbuffer_file_segment_free");
	if (!seg) {
		GE_BADARG("evbuffer_file_segment_free", "NULL segment");
		return;
	}
	goev_evbuffer_file_segment_free(seg);
}

void evbuffer_file_segment_add_cleanup_cb(struct evbuffer_file_segment *seg,
    evbuffer_file_segment_cleanup_cb cb, void *arg)
{
	GE_NEED_ENGINE_VOID("evbuffer_file_segment_add_cleanup_cb");
	if (!seg) {
		GE_BADARG("evbuffer_file_segment_add_cleanup_cb", "NULL segment");
		return;
	}
	goev_evbuffer_file_segment_add_cleanup_cb(seg, (void *)cb, arg);
}

int evbuffer_add_file_segment(struct evbuffer *buf,
    struct evbuffer_file_segment *seg, ev_off_t offset, ev_off_t length)
{
	GE_NEED_ENGINE("evbuffer_add_file_segment", -1);
	NULL_BUF("evbuffer_add_file_segment", buf, -1);
	if (!seg) {
		GE_BADARG("evbuffer_add_file_segment", "NULL segment");
		return -1;
	}
	int err = 0;
	buf_lock(buf);
	int r = goev_evbuffer_add_file_segment(buf, seg, offset, length, &err);
	buf_unlock(buf);
	if (err)
		errno = err;
	return r;
}

/* ---- removing ----------------------------------------------------------- */

int evbuffer_drain(struct evbuffer *buf, size_t len)
{
	GE_NEED_ENGINE("evbuffer_drain", -1);
	NULL_BUF("evbuffer_drain", buf, -1);
	struct ge_evbuffer *b = GEB(buf);
	void *lk = b->lock;
	int r = 0;
	if (lk)
		ge_lock_acquire(lk);
	size_t before = b->total_len;
	if (!quiet_front(b) || !drain_fast(b, len))
		r = goev_evbuffer_drain(buf, len);
	else
		cb_after(b, before);
	if (lk)
		ge_lock_release(lk);
	return r;
}

/* Copies into a NULL destination are harmless in libevent only when nothing
 * would be copied. */
static int null_dest_ok(struct evbuffer *buf)
{
	buf_lock(buf);
	size_t n = GEB(buf)->total_len;
	buf_unlock(buf);
	return n == 0;
}

int evbuffer_remove(struct evbuffer *buf, void *data, size_t datlen)
{
	GE_NEED_ENGINE("evbuffer_remove", -1);
	NULL_BUF("evbuffer_remove", buf, -1);
	NULL_DEST("evbuffer_remove", buf, data, datlen);
	struct ge_evbuffer *b = GEB(buf);
	buf_lock(buf);
	int r;
	size_t n = datlen < b->total_len ? datlen : b->total_len;
	if (quiet_front(b) && n <= INT_MAX && copy_front(b, data, n)) {
		/* Copied; now the drain libevent's remove does. */
		size_t before = b->total_len;
		r = (int)n;
		if (n && !drain_fast(b, n))
			goev_evbuffer_drain(buf, n);
		else
			cb_after(b, before);
	} else {
		r = goev_evbuffer_remove(buf, data, datlen);
	}
	buf_unlock(buf);
	return r;
}

ev_ssize_t evbuffer_copyout(struct evbuffer *buf, void *data, size_t datlen)
{
	return evbuffer_copyout_from(buf, NULL, data, datlen);
}

ev_ssize_t evbuffer_copyout_from(struct evbuffer *buf,
    const struct evbuffer_ptr *pos, void *data, size_t datlen)
{
	GE_NEED_ENGINE("evbuffer_copyout_from", -1);
	NULL_BUF("evbuffer_copyout_from", buf, -1);
	NULL_DEST("evbuffer_copyout_from", buf, data, datlen);
	struct ge_evbuffer *b = GEB(buf);
	buf_lock(buf);
	ev_ssize_t r;
	size_t n = datlen < b->total_len ? datlen : b->total_len;
	/* Copying changes nothing, so callbacks do not matter; only a frozen
	 * front makes libevent refuse. */
	if (!pos && !(b->slow & GE_SLOW_FROZEN_START) && copy_front(b, data, n))
		r = (ev_ssize_t)n;
	else
		r = goev_evbuffer_copyout_from(buf, (void *)pos, data, datlen);
	buf_unlock(buf);
	return r;
}

int evbuffer_remove_buffer(struct evbuffer *src, struct evbuffer *dst,
    size_t datlen)
{
	GE_NEED_ENGINE("evbuffer_remove_buffer", -1);
	NULL_BUF("evbuffer_remove_buffer", src, -1);
	NULL_BUF("evbuffer_remove_buffer", dst, -1);
	buf_lock2(src, dst);
	int r;
	struct ge_evbuffer *s_ = GEB(src), *d_ = GEB(dst);
	/* Taking all of src is add_buffer (libevent does the same); here
	 * when no callback needs to hear of it and the ends that change are
	 * not frozen. A bufferevent's input, frozen at its end only,
	 * qualifies as src: a filter's input filter takes from it so. */
	size_t all = s_->total_len;
	if (datlen >= all && all > 0 && all <= INT32_MAX && s_ != d_ &&
	    quiet_front(s_) && quiet_end(d_)) {
		size_t d_before = d_->total_len;
		if (add_buffer_fast(d_, s_)) {
			r = (int)all;
			cb_after(s_, all);
			cb_after(d_, d_before);
		} else {
			r = goev_evbuffer_remove_buffer(src, dst, datlen);
		}
	} else
		r = goev_evbuffer_remove_buffer(src, dst, datlen);
	buf_unlock2(src, dst);
	return r;
}

/* Where the first line ends, for evbuffer_readln's fast path: only when the
 * end-of-line marker starts in the first chain, which is then where libevent
 * finds it too. Sets *n (line length) and *eol (marker length); 0 if Go must
 * look. */
static int find_line(const struct ge_evbuffer *b, int style, size_t *n,
    size_t *eol)
{
	const struct ge_chain *c = b->first;
	if (!c || (c->flags & GE_CHAIN_SENDFILE))
		return 0;
	const unsigned char *p = c->buffer + c->misalign, *q;
	size_t len = c->off;
	switch (style) {
	case EVBUFFER_EOL_LF:
	case EVBUFFER_EOL_NUL:
		q = memchr(p, style == EVBUFFER_EOL_LF ? '\n' : '\0', len);
		if (!q)
			return 0;
		*n = (size_t)(q - p);
		*eol = 1;
		return 1;
	case EVBUFFER_EOL_CRLF:
		q = memchr(p, '\n', len);
		if (!q)
			return 0;
		*n = (size_t)(q - p);
		*eol = 1;
		if (*n > 0 && q[-1] == '\r') {
			(*n)--;
			*eol = 2;
		}
		return 1;
	case EVBUFFER_EOL_CRLF_STRICT:
		q = memmem(p, len, "\r\n", 2);
		if (!q)
			return 0;
		*n = (size_t)(q - p);
		*eol = 2;
		return 1;
	case EVBUFFER_EOL_ANY: {
		size_t i;
		for (i = 0; i < len && p[i] != '\r' && p[i] != '\n'; i++)
			;
		if (i == len)
			return 0;
		*n = i;
		/* The run of CR/LF may go on in the next chains. */
		size_t k = 0;
		for (; c; c = c->next) {
			if (c->flags & GE_CHAIN_SENDFILE)
				return 0;
			const unsigned char *d = c->buffer + c->misalign;
			size_t j = c == b->first ? i : 0;
			while (j < c->off && (d[j] == '\r' || d[j] == '\n')) {
				j++;
				k++;
			}
			if (j < c->off)
				break;
		}
		*eol = k;
		return 1;
	}
	}
	return 0;
}

char *evbuffer_readln(struct evbuffer *buf, size_t *n_read_out,
    enum evbuffer_eol_style eol_style)
{
	GE_NEED_ENGINE("evbuffer_readln", NULL);
	if (!buf) {
		GE_BADARG("evbuffer_readln", "NULL buffer");
		if (n_read_out)
			*n_read_out = 0;
		return NULL;
	}
	struct ge_evbuffer *b = GEB(buf);
	buf_lock(buf);
	char *r;
	size_t n, eol;
	if (quiet_front(b) && find_line(b, (int)eol_style, &n, &eol) &&
	    (r = ge_malloc(n + 1)) != NULL) {
		/* libevent: remove the line (copy, drain), then drain the
		 * marker; the line is in the first chain. */
		const struct ge_chain *c = b->first;
		memcpy(r, c->buffer + c->misalign, n);
		r[n] = '\0';
		size_t before = b->total_len;
		if (n && !drain_fast(b, n))
			goev_evbuffer_drain(buf, n);
		else
			cb_after(b, before);
		before = b->total_len;
		if (!drain_fast(b, eol))
			goev_evbuffer_drain(buf, eol);
		else
			cb_after(b, before);
		if (n_read_out)
			*n_read_out = n;
	} else {
		r = goev_evbuffer_readln(buf, n_read_out, (int)eol_style);
	}
	buf_unlock(buf);
	return r;
}

char *evbuffer_readline(struct evbuffer *buf)
{
	return evbuffer_readln(buf, NULL, EVBUFFER_EOL_ANY);
}

unsigned char *evbuffer_pullup(struct evbuffer *buf, ev_ssize_t size)
{
	GE_NEED_ENGINE("evbuffer_pullup", NULL);
	NULL_BUF("evbuffer_pullup", buf, NULL);
	struct ge_evbuffer *b = GEB(buf);
	buf_lock(buf);
	unsigned char *r;
	struct ge_chain *c = b->first;
	size_t want = size < 0 ? b->total_len : (size_t)size;
	/* Already contiguous (and not a sendfile chain, whose bytes Go must
	 * fetch): nothing to change, no need to enter Go. */
	if (c && want != 0 && want <= b->total_len && c->off >= want &&
	    !(c->flags & GE_CHAIN_SENDFILE))
		r = c->buffer + c->misalign;
	else
		r = goev_evbuffer_pullup(buf, size);
	buf_unlock(buf);
	return r;
}

/* ---- space -------------------------------------------------------------- */

int evbuffer_expand(struct evbuffer *buf, size_t datlen)
{
	GE_NEED_ENGINE("evbuffer_expand", -1);
	NULL_BUF("evbuffer_expand", buf, -1);
	buf_lock(buf);
	int r = goev_evbuffer_expand(buf, datlen);
	buf_unlock(buf);
	return r;
}

int evbuffer_reserve_space(struct evbuffer *buf, ev_ssize_t size,
    struct evbuffer_iovec *vec, int n_vec)
{
	GE_NEED_ENGINE("evbuffer_reserve_space", -1);
	NULL_BUF("evbuffer_reserve_space", buf, -1);
	if (!vec && n_vec > 0) {
		GE_BADARG("evbuffer_reserve_space", "NULL vector");
		return -1;
	}
	buf_lock(buf);
	int r = goev_evbuffer_reserve_space(buf, size, vec, n_vec);
	buf_unlock(buf);
	return r;
}

int evbuffer_commit_space(struct evbuffer *buf, struct evbuffer_iovec *vec,
    int n_vecs)
{
	GE_NEED_ENGINE("evbuffer_commit_space", -1);
	NULL_BUF("evbuffer_commit_space", buf, -1);
	if (!vec && n_vecs > 0) {
		GE_BADARG("evbuffer_commit_space", "NULL vector");
		return -1;
	}
	buf_lock(buf);
	int r = goev_evbuffer_commit_space(buf, vec, n_vecs);
	buf_unlock(buf);
	return r;
}

/* ---- searching and peeking ---------------------------------------------- */

static struct evbuffer_ptr not_found(void)
{
	struct evbuffer_ptr p;
	p.pos = -1;
	p.internal_.chain = NULL;
	p.internal_.pos_in_chain = 0;
	return p;
}

struct evbuffer_ptr evbuffer_search_range(struct evbuffer *buf,
    const char *what, size_t len, const struct evbuffer_ptr *start,
    const struct evbuffer_ptr *end)
{
	GE_NEED_ENGINE("evbuffer_search_range", not_found());
	NULL_BUF("evbuffer_search_range", buf, not_found());
	if (!what && len) {
		GE_BADARG("evbuffer_search_range", "NULL pattern");
		return not_found();
	}
	struct evbuffer_ptr r;
	buf_lock(buf);
	goev_evbuffer_search_range(buf, (void *)what, len, (void *)start,
	    (void *)end, &r);
	buf_unlock(buf);
	return r;
}

struct evbuffer_ptr evbuffer_search(struct evbuffer *buf, const char *what,
    size_t len, const struct evbuffer_ptr *start)
{
	return evbuffer_search_range(buf, what, len, start, NULL);
}

struct evbuffer_ptr evbuffer_search_eol(struct evbuffer *buf,
    struct evbuffer_ptr *start, size_t *eol_len_out,
    enum evbuffer_eol_style eol_style)
{
	GE_NEED_ENGINE("evbuffer_search_eol", not_found());
	/* libevent answers a start at the end without looking at buf. */
	if (start && start->internal_.chain == NULL) {
		if (eol_len_out)
			*eol_len_out = 0;
		return not_found();
	}
	if (!buf) {
		GE_BADARG("evbuffer_search_eol", "NULL buffer");
		if (eol_len_out)
			*eol_len_out = 0;
		return not_found();
	}
	struct evbuffer_ptr r;
	buf_lock(buf);
	goev_evbuffer_search_eol(buf, start, eol_len_out, (int)eol_style, &r);
	buf_unlock(buf);
	return r;
}

int evbuffer_ptr_set(struct evbuffer *buf, struct evbuffer_ptr *ptr,
    size_t position, enum evbuffer_ptr_how how)
{
	GE_NEED_ENGINE("evbuffer_ptr_set", -1);
	NULL_BUF("evbuffer_ptr_set", buf, -1);
	if (!ptr) {
		GE_BADARG("evbuffer_ptr_set", "NULL evbuffer_ptr");
		return -1;
	}
	buf_lock(buf);
	int r = goev_evbuffer_ptr_set(buf, ptr, position, (int)how);
	buf_unlock(buf);
	return r;
}

/* evbuffer_peek from the start of the buffer; -1 if Go must do it (a
 * sendfile chain, whose bytes Go maps). The rules are libevent's: with no
 * vectors and a negative length every chain counts; otherwise a negative
 * length stops once the vectors are full, and a chain is counted if the
 * bytes before it fall short of the length. */
static int peek_front(const struct ge_evbuffer *b, ev_ssize_t len,
    struct evbuffer_iovec *vec, int n_vec)
{
	if (n_vec == 0 && len < 0)
		len = (ev_ssize_t)b->total_len;
	int idx = 0;
	size_t so_far = 0;
	for (const struct ge_chain *c = b->first; c; c = c->next) {
		if (len >= 0 && so_far >= (size_t)len)
			break;
		if (c->flags & GE_CHAIN_SENDFILE)
			return -1;
		if (idx < n_vec) {
			vec[idx].iov_base = c->buffer + c->misalign;
			vec[idx].iov_len = c->off;
		} else if (len < 0) {
			break;
		}
		idx++;
		so_far += c->off;
	}
	return idx;
}

int evbuffer_peek(struct evbuffer *buf, ev_ssize_t len,
    struct evbuffer_ptr *start_at, struct evbuffer_iovec *vec_out, int n_vec)
{
	GE_NEED_ENGINE("evbuffer_peek", -1);
	if (start_at && start_at->internal_.chain == NULL)
		return 0;
	NULL_BUF("evbuffer_peek", buf, -1);
	if (!vec_out && n_vec > 0) {
		GE_BADARG("evbuffer_peek", "NULL vector");
		return -1;
	}
	buf_lock(buf);
	int r = start_at ? -1 : peek_front(GEB(buf), len, vec_out, n_vec);
	if (r < 0)
		r = goev_evbuffer_peek(buf, len, start_at, vec_out, n_vec);
	buf_unlock(buf);
	return r;
}

unsigned char *evbuffer_find(struct evbuffer *buf, const unsigned char *what,
    size_t len)
{
	GE_NEED_ENGINE("evbuffer_find", NULL);
	NULL_BUF("evbuffer_find", buf, NULL);
	if (!what && len) {
		GE_BADARG("evbuffer_find", "NULL pattern");
		return NULL;
	}
	buf_lock(buf);
	unsigned char *r = goev_evbuffer_find(buf, (void *)what, len);
	buf_unlock(buf);
	return r;
}

/* ---- file descriptors ----------------------------------------------------- */

/*
 * evbuffer_read and evbuffer_write_atmost run their system calls here, from
 * C, whenever the buffer allows it: a system call made by Go inside a cgo
 * callback costs far more than the same call from C (getppid: 116 ns from C,
 * about 230 ns from Go after the crossing, measured under gVisor), and a
 * read is two calls (FIONREAD and readv). The chain work mirrors libevent 2.1.12 (and
 * core/evbuffer's Read/WriteAtMost) step by step, so the layouts and results
 * are the same whichever side runs; tests/c/diff_buffer_io*.c check that.
 */

/* libevent's limits on Linux: chains one readv may fill (NUM_READ_IOVEC),
 * bytes one read asks for unless FIONREAD says less (EVBUFFER_MAX_READ), and
 * chains one writev may send (NUM_WRITE_IOVEC). */
#define GE_READ_VECS 4
#define GE_MAX_READ 4096
#define GE_WRITE_VECS 128

/* Free room after a chain's data; none in immutable chains. */
static inline size_t chain_space(const struct ge_chain *c)
{
	if (c->flags & GE_CHAIN_IMMUTABLE)
		return 0;
	return c->buffer_len - c->misalign - c->off;
}

/* Whether every chain a read may touch (the last one with data and all
 * after it: filled, realigned, freed) is plain. Also checks what the read
 * relies on: an empty chain there is the first one (no data anywhere). */
static int read_tail_plain(const struct ge_evbuffer *b)
{
	const struct ge_chain *c = *b->last_with_datap;
	if (c && c->off == 0 && b->last_with_datap != &b->first)
		return 0;
	for (; c; c = c->next)
		if (!chain_plain(c))
			return 0;
	return 1;
}

/* libevent's evbuffer_expand_fast_ with four chains, on a buffer whose tail
 * is plain: make room for datlen bytes in the free space of at most four
 * chains from the last one with data, without moving data. Empty chains are
 * realigned; if four chains with room are not enough, either one more chain
 * is appended (fewer than four exist) or every empty chain is replaced by
 * one that holds what the last data chain cannot. -1: out of memory (errno
 * as the allocator left it, as in libevent). */
static int read_expand(struct ge_evbuffer *b, size_t datlen)
{
	struct ge_chain *c, *tmp;
	size_t avail = 0;
	int used = 0;

	if (b->last == NULL) {
		if ((c = chain_new(datlen)) == NULL)
			return -1;
		b->first = b->last = c;
		return 0;
	}
	for (c = *b->last_with_datap; c; c = c->next) {
		if (c->off) {
			size_t space = chain_space(c);
			if (space) {
				avail += space;
				used++;
			}
		} else {
			c->misalign = 0;
			avail += c->buffer_len;
			used++;
		}
		if (avail >= datlen)
			return 0;
		if (used == GE_READ_VECS)
			break;
	}
	if (used < GE_READ_VECS) {
		if ((tmp = chain_new(datlen - avail)) == NULL)
			return -1;
		b->last->next = tmp;
		b->last = tmp;
		return 0;
	}
	/* Four chains are not enough: the empty ones go (freed first, as in
	 * libevent, which also leaves them freed if the allocation fails). */
	c = *b->last_with_datap;
	if (c->off == 0) {
		/* Nothing but empty chains: the buffer starts over. */
		free_chain_list(c);
		b->first = b->last = NULL;
		b->last_with_datap = &b->first;
		b->total_len = 0;
		if ((tmp = chain_new(datlen)) == NULL)
			return -1;
		b->first = b->last = tmp;
		return 0;
	}
	avail = chain_space(c);
	free_chain_list(c->next);
	c->next = NULL;
	b->last = c;
	if ((tmp = chain_new(datlen - avail)) == NULL)
		return -1;
	c->next = tmp;
	b->last = tmp;
	return 0;
}

/* evbuffer_read on a buffer without freezes whose tail is plain;
 * everything as libevent does it, errno included (a failed FIONREAD is
 * ignored but leaves its errno, as there). With callbacks registered
 * (for_cb) the bytes read are added to n_add_for_cb for the caller to
 * report; without, the counts are reset as after every change. */
static inline int read_chains(struct ge_evbuffer *b, int fd, int howmuch,
    int for_cb, int raw)
{
	int n = GE_MAX_READ;
	if (ioctl(fd, FIONREAD, &n) < 0)
		n = -1;
	if (n <= 0 || n > GE_MAX_READ)
		n = GE_MAX_READ;
	if (howmuch < 0 || howmuch > n)
		howmuch = n;
	if (read_expand(b, (size_t)howmuch) < 0) {
		if (for_cb)
			errno = ENOMEM; /* what core/evbuffer's Read reports */
		return -1;
	}

	/* The vectors: free space from the first chain with room on, no
	 * more than howmuch in all (libevent's read_setup_vecs, exact). */
	struct iovec vecs[GE_READ_VECS];
	struct ge_chain **first = b->last_with_datap, *c;
	size_t want = (size_t)howmuch, so_far = 0;
	int nvecs = 0;
	if (*first && chain_space(*first) == 0)
		first = &(*first)->next;
	for (c = *first; c && nvecs < GE_READ_VECS && so_far < want;
	    c = c->next, nvecs++) {
		size_t avail = chain_space(c);
		if (avail > want - so_far)
			avail = want - so_far;
		vecs[nvecs].iov_base = c->buffer + c->misalign + c->off;
		vecs[nvecs].iov_len = avail;
		so_far += avail;
	}

	/* raw: a bufferevent's read of a ready fd, which cannot block (see
	 * GE_SYS_READV); evbuffer_read may be given a blocking fd and keeps
	 * libc's cancellation point. */
	ssize_t got = raw ? GE_SYS_READV(fd, vecs, nvecs) : readv(fd, vecs, nvecs);
	if (got <= 0)
		return (int)got; /* the prepared space stays, as in libevent */

	/* Account the bytes chain by chain; the chain the last byte went to
	 * becomes the last one with data. */
	size_t remaining = (size_t)got;
	struct ge_chain **link = first;
	for (int i = 0; i < nvecs; i++) {
		c = *link;
		size_t space = chain_space(c);
		if (space < remaining) {
			c->off += space;
			remaining -= space;
		} else {
			c->off += remaining;
			b->last_with_datap = link;
			break;
		}
		link = &c->next;
	}
	b->total_len += (size_t)got;
	if (for_cb)
		b->n_add_for_cb += (size_t)got;
	else
		no_callbacks(b);
	return (int)got;
}

/* evbuffer_read on a buffer without callbacks or freezes whose tail is
 * plain. */
static int read_fast(struct ge_evbuffer *b, int fd, int howmuch)
{
	return read_chains(b, fd, howmuch, 0, 0);
}

int evbuffer_read(struct evbuffer *buf, evutil_socket_t fd, int howmuch)
{
	GE_NEED_ENGINE("evbuffer_read", -1);
	NULL_BUF("evbuffer_read", buf, -1);
	struct ge_evbuffer *b = GEB(buf);
	int r;
	buf_lock(buf);
	if (quiet_end(b) && read_tail_plain(b)) {
		size_t before = b->total_len;
		r = read_fast(b, fd, howmuch);
		cb_after(b, before);
	} else {
		int err = 0;
		r = goev_evbuffer_read(buf, fd, howmuch, &err);
		if (err)
			errno = err;
	}
	buf_unlock(buf);
	return r;
}

/*
 * SIGPIPE. libevent's evbuffer_write is a plain writev, so writing to a pipe
 * or socket whose reader is gone raises SIGPIPE, which kills a program that
 * neither ignores nor handles it; libevent programs ignore it for that
 * reason. goevent keeps exactly that behaviour. The C fast paths call writev
 * from a thread that is not running Go, where the Go runtime's handler
 * passes SIGPIPE on to the disposition the program had, as libevent would
 * see it. The Go core's writev (buffers with callbacks) goes through
 * ge_writev, called from Go; there the runtime swallows the signal and the
 * call fails with EPIPE, so ge_writev finishes what the signal would have
 * done: when SIGPIPE still has the runtime's handler (the program never set
 * one) and the disposition before the runtime started was the default, it
 * restores the default and raises SIGPIPE. ("Before" is just before the
 * engine's runtime started, which is when it installed its handler; see
 * engine.c.) Bufferevents are different: they
 * write sockets with MSG_NOSIGNAL (see core/bufferevent).
 */
static void (*sigpipe_at_load)(int) = SIG_IGN;
static void (*sigpipe_go)(int);

/* Before the engine's runtime starts (engine.c): the disposition the
 * program itself gave SIGPIPE, normally the default. */
void ge_sigpipe_note_before_engine(void)
{
	struct sigaction sa;
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && !(sa.sa_flags & SA_SIGINFO))
		sigpipe_at_load = sa.sa_handler;
}

/* From the engine's start, once the runtime's handler is in place. (It
 * returns a value only because cgo's wrapper of a void(void) function trips
 * -Wunused-parameter.) */
int ge_buffer_note_sigpipe(void)
{
	struct sigaction sa;
	if (sigaction(SIGPIPE, NULL, &sa) != 0)
		return -1;
	sigpipe_go = sa.sa_handler;
	return 0;
}

ssize_t ge_writev(int fd, const void *iov, int n)
{
	ssize_t r = writev(fd, (const struct iovec *)iov, n);
	if (r < 0 && errno == EPIPE && sigpipe_at_load == SIG_DFL && sigpipe_go) {
		struct sigaction sa;
		if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == sigpipe_go) {
			signal(SIGPIPE, SIG_DFL);
			raise(SIGPIPE);
		}
	}
	return r;
}

/* libevent's evbuffer_write_iovec: one writev of the data from the front,
 * up to howmuch bytes over at most 128 chains, stopping before a sendfile
 * chain (not at the front: the caller sends those through Go). Every other
 * chain kind keeps its bytes at buffer + misalign. */
/* The vectors of a write from the front: up to howmuch bytes over at most
 * GE_WRITE_VECS chains, stopping before a sendfile chain. Returns how many. */
static int front_iovecs(const struct ge_evbuffer *b, size_t howmuch,
    struct iovec iov[GE_WRITE_VECS])
{
	const struct ge_chain *c;
	int i = 0;
	for (c = b->first; c && i < GE_WRITE_VECS && howmuch; c = c->next) {
		if (c->flags & GE_CHAIN_SENDFILE)
			break;
		size_t n = howmuch < c->off ? howmuch : c->off;
		iov[i].iov_base = c->buffer + c->misalign;
		iov[i++].iov_len = n;
		howmuch -= n;
	}
	return i;
}

static int write_iovec(const struct ge_evbuffer *b, int fd, size_t howmuch)
{
	struct iovec iov[GE_WRITE_VECS];
	int i = front_iovecs(b, howmuch, iov);
	if (i == 0)
		return 0;
	/* int, as in libevent (a writev over 2 GiB truncates there too). */
	return (int)writev(fd, iov, i);
}

int evbuffer_write_atmost(struct evbuffer *buf, evutil_socket_t fd,
    ev_ssize_t howmuch)
{
	GE_NEED_ENGINE("evbuffer_write_atmost", -1);
	NULL_BUF("evbuffer_write_atmost", buf, -1);
	struct ge_evbuffer *b = GEB(buf);
	int r;
	buf_lock(buf);
	size_t n = howmuch < 0 || (size_t)howmuch > b->total_len ?
	    b->total_len : (size_t)howmuch;
	if (quiet_front(b) && (n == 0 || !(b->first->flags & GE_CHAIN_SENDFILE))) {
		/* Nothing to send fails without touching errno. */
		r = n ? write_iovec(b, fd, n) : -1;
		size_t before = b->total_len;
		if (r > 0 && !drain_fast(b, (size_t)r))
			goev_evbuffer_drain(buf, (size_t)r);
		else
			cb_after(b, before);
	} else {
		int err = 0;
		r = goev_evbuffer_write_atmost(buf, fd, howmuch, &err);
		if (err)
			errno = err;
	}
	buf_unlock(buf);
	return r;
}

int evbuffer_write(struct evbuffer *buf, evutil_socket_t fd)
{
	return evbuffer_write_atmost(buf, fd, -1);
}

/*
 * Socket bufferevents' reads and writes (capi/bufferevent_io.go). Their
 * buffers may have callbacks the fast paths above cannot skip (watermark
 * and user callbacks), and the Go core's Read and WriteAtMostNoSignal
 * would make their system calls from Go, at a cost of about 85 ns more each
 * under gVisor. These helpers do the system calls and the chain work here,
 * in one Go->C call, and leave the callback counts (n_add_for_cb,
 * n_del_for_cb) updated for Go, which then runs the callbacks exactly as the
 * Go core would have. The bufferevent holds the buffer's lock; Go checked
 * that the end being changed is not frozen.
 */

int ge_bev_read_nocb(struct ge_evbuffer *b, int fd, int howmuch)
{
	if (!read_tail_plain(b))
		return -2;
	return read_chains(b, fd, howmuch, 0, 1);
}

/* core/evbuffer's Read on a buffer whose tail is plain. */
struct ge_bev_io ge_bev_read(uintptr_t buf, int fd, int howmuch)
{
	struct ge_evbuffer *b = (struct ge_evbuffer *)buf;
	struct ge_bev_io r = { 0, 0, GE_BEV_IO_DONE };
	if (!read_tail_plain(b)) {
		r.how = GE_BEV_IO_FALLBACK;
		return r;
	}
	r.n = read_chains(b, fd, howmuch, 1, 1);
	if (r.n < 0)
		r.err = errno;
	return r;
}

/* core/evbuffer's WriteAtMostNoSignal unless a sendfile chain is first or fd
 * is not a socket (Go then writes with writev, where a SIGPIPE cannot kill
 * the program): one sendmsg(MSG_NOSIGNAL) over up to 128 chains from the
 * front, then the drain, here when the chains it frees are plain. */
struct ge_bev_io ge_bev_write(uintptr_t buf, int fd, int64_t atmost)
{
	struct ge_evbuffer *b = (struct ge_evbuffer *)buf;
	struct ge_bev_io r = { -1, 0, GE_BEV_IO_DONE };
	size_t howmuch = atmost < 0 || (uint64_t)atmost > b->total_len ?
	    b->total_len : (size_t)atmost;
	if (howmuch == 0)
		return r; /* nothing to send: -1 without an errno, as in Go */
	if (b->first->flags & GE_CHAIN_SENDFILE) {
		r.how = GE_BEV_IO_FALLBACK;
		return r;
	}
	struct iovec iov[GE_WRITE_VECS];
	int i = front_iovecs(b, howmuch, iov);
	if (i == 0) {
		r.n = 0;
		return r;
	}
	struct msghdr msg;
	memset(&msg, 0, sizeof msg);
	msg.msg_iov = iov;
	msg.msg_iovlen = (size_t)i;
	ssize_t sent = GE_SYS_SENDMSG(fd, &msg, MSG_NOSIGNAL);
	if (sent < 0) {
		if (errno == ENOTSOCK)
			r.how = GE_BEV_IO_FALLBACK;
		r.err = errno;
		return r;
	}
	r.n = sent;
	if (sent > 0) {
		if (drain_chains(b, (size_t)sent))
			b->n_del_for_cb += (size_t)sent;
		else
			r.how = GE_BEV_IO_DRAIN;
	}
	return r;
}

/* ---- callbacks ---------------------------------------------------------- */

struct evbuffer_cb_entry *evbuffer_add_cb(struct evbuffer *buf,
    evbuffer_cb_func cb, void *cbarg)
{
	GE_NEED_ENGINE("evbuffer_add_cb", NULL);
	NULL_BUF("evbuffer_add_cb", buf, NULL);
	buf_lock(buf);
	struct evbuffer_cb_entry *e = goev_evbuffer_add_cb(buf, (void *)cb, cbarg);
	buf_unlock(buf);
	return e;
}

int evbuffer_remove_cb_entry(struct evbuffer *buf,
    struct evbuffer_cb_entry *ent)
{
	GE_NEED_ENGINE("evbuffer_remove_cb_entry", -1);
	NULL_BUF("evbuffer_remove_cb_entry", buf, -1);
	if (!ent) {
		GE_BADARG("evbuffer_remove_cb_entry", "NULL entry");
		return -1;
	}
	buf_lock(buf);
	int r = goev_evbuffer_remove_cb_entry(buf, ent);
	buf_unlock(buf);
	return r;
}

int evbuffer_remove_cb(struct evbuffer *buf, evbuffer_cb_func cb, void *cbarg)
{
	GE_NEED_ENGINE("evbuffer_remove_cb", -1);
	NULL_BUF("evbuffer_remove_cb", buf, -1);
	buf_lock(buf);
	int r = goev_evbuffer_remove_cb(buf, (void *)cb, cbarg);
	buf_unlock(buf);
	return r;
}

/* evbuffer_cb_set_flags and evbuffer_cb_clear_flags: set nonzero sets. */
static int cb_flags(const char *fn, struct evbuffer *buf,
    struct evbuffer_cb_entry *cb, ev_uint32_t flags, int set)
{
	GE_NEED_ENGINE(fn, -1);
	NULL_BUF(fn, buf, -1);
	if (!cb) {
		GE_BADARG(fn, "NULL entry");
		return -1;
	}
	buf_lock(buf);
	int r = goev_evbuffer_cb_flags(buf, cb, flags, set);
	buf_unlock(buf);
	return r;
}

int evbuffer_cb_set_flags(struct evbuffer *buf, struct evbuffer_cb_entry *cb,
    ev_uint32_t flags)
{
	return cb_flags("evbuffer_cb_set_flags", buf, cb, flags, 1);
}

int evbuffer_cb_clear_flags(struct evbuffer *buf, struct evbuffer_cb_entry *cb,
    ev_uint32_t flags)
{
	return cb_flags("evbuffer_cb_clear_flags", buf, cb, flags, 0);
}

int evbuffer_setcb(struct evbuffer *buf, evbuffer_cb cb, void *cbarg)
{
	GE_NEED_ENGINE("evbuffer_setcb", -1);
	NULL_BUF("evbuffer_setcb", buf, -1);
	buf_lock(buf);
	int r = goev_evbuffer_setcb(buf, (void *)cb, cbarg);
	buf_unlock(buf);
	return r;
}
