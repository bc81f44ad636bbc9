/*
 * buffer.c: event2/buffer.h and event2/buffer_compat.h (reads and writes on
 * file descriptors are in buffer_io.c).
 *
 * Each function makes sure the engine runs (GE_NEED_ENGINE), checks its
 * arguments, takes the buffer's
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
 *   evbuffer_get_length, get_contiguous_space, lock/unlock, set/clear_flags,
 *   evbuffer_set/get_max_read
 *                         always (they only read or flip head fields).
 * They make exactly the chain changes libevent makes (and core/evbuffer makes
 * on its side), so the layout programs observe through evbuffer_peek or
 * evbuffer_reserve_space is the same either way; the differential tests run
 * every operation through both. Whatever they cannot finish they hand to Go
 * before changing anything. The layouts involved are in goevent.h.
 */
#define _GNU_SOURCE
/* evbuffer_set_max_read and evbuffer_get_max_read are defined here. */
#define GOEVENT_EXTENSIONS
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/buffer_compat.h>
#include <event2/event_struct.h>
#include <event2/thread.h>

#include "buffer_internal.h"

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

/* The most one evbuffer_read takes (libevent 2.2's evbuffer_set_max_read,
 * which goevent exports in addition to 2.1.12's functions): up to INT_MAX,
 * as evbuffer_read returns an int; 0 too, which makes every read take
 * nothing, as in 2.2. The default is 2.1.12's fixed 4096, or
 * GOEVENT_MAX_READ. buffer_io.c's read_chains says what a larger cap
 * changes. */
int evbuffer_set_max_read(struct evbuffer *buf, size_t max)
{
	GE_NEED_ENGINE("evbuffer_set_max_read", -1);
	NULL_BUF("evbuffer_set_max_read", buf, -1);
	if (max > INT_MAX)
		return -1;
	buf_lock(buf);
	GEB(buf)->max_read = (int32_t)max;
	buf_unlock(buf);
	return 0;
}

size_t evbuffer_get_max_read(struct evbuffer *buf)
{
	GE_NEED_ENGINE("evbuffer_get_max_read", 0);
	NULL_BUF("evbuffer_get_max_read", buf, 0);
	buf_lock(buf);
	size_t n = (size_t)GEB(buf)->max_read;
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
	else if (!quiet_end(b) || !ge_add_fast(b, data, datlen))
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
	if (!quiet_end(out) || !quiet_front(in) || !ge_add_buffer_fast(out, in))
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
	if (!quiet_front(b) || !ge_drain_fast(b, len))
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

int evbuffer_remove(struct evbuffer *buf, void *data, size_t datlen)
{
	GE_NEED_ENGINE("evbuffer_remove", -1);
	NULL_BUF("evbuffer_remove", buf, -1);
	NULL_DEST("evbuffer_remove", buf, data, datlen);
	struct ge_evbuffer *b = GEB(buf);
	buf_lock(buf);
	int r;
	size_t n = datlen < b->total_len ? datlen : b->total_len;
	if (quiet_front(b) && n <= INT_MAX && ge_copy_front(b, data, n)) {
		/* Copied; now the drain libevent's remove does. */
		size_t before = b->total_len;
		r = (int)n;
		if (n && !ge_drain_fast(b, n))
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
	if (!pos && !(b->slow & GE_SLOW_FROZEN_START) && ge_copy_front(b, data, n))
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
		if (ge_add_buffer_fast(d_, s_)) {
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
	if (quiet_front(b) && ge_find_line(b, (int)eol_style, &n, &eol) &&
	    (r = ge_malloc(n + 1)) != NULL) {
		/* libevent: remove the line (copy, drain), then drain the
		 * marker; the line is in the first chain. */
		const struct ge_chain *c = b->first;
		memcpy(r, c->buffer + c->misalign, n);
		r[n] = '\0';
		size_t before = b->total_len;
		if (n && !ge_drain_fast(b, n))
			goev_evbuffer_drain(buf, n);
		else
			cb_after(b, before);
		before = b->total_len;
		if (!ge_drain_fast(b, eol))
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
	int r = start_at ? -1 : ge_peek_front(GEB(buf), len, vec_out, n_vec);
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
