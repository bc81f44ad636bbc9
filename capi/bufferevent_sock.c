/*
 * bufferevent_sock.c: a socket bufferevent's read and write handlers, the
 * callbacks of its ev_read and ev_write.
 *
 * In a bulk transfer these run once per chunk, and every C/Go crossing on
 * the way costs more than the handler's own work. So the common case runs
 * here, called straight from the C event loop: one read or write system
 * call on the bufferevent's buffer, the watermark rules, the user's callback
 * called directly (under the bufferevent's lock if it has one). The handler
 * hands the whole event to Go (core/bufferevent's SockReadCB/SockWriteCB)
 * when the bufferevent needs anything this file does not do: rate limits,
 * a connect in progress, suspended I/O, a buffer not as the bufferevent
 * keeps it (callbacks of the program's on it, a freeze lifted), timeouts
 * firing. After the system call, only rare outcomes call Go: errors and end
 * of file, a full drain of a buffer holding special chains, the last
 * reference going. Callbacks run (or are deferred) through
 * bufferevent_cb.c. Two buffer watchers are here too, as idle hooks: the
 * output's, which starts writing when data arrives, and the input's read
 * high-watermark watcher, which holds reading off at the mark.
 *
 * The rules are core/bufferevent's sockReadCB and sockWriteCB, step for
 * step; the differential bufferevent tests run through both (this path for
 * the plain cases, Go for the others).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_struct.h>
#include <event2/event.h>
#include <event2/event_struct.h>

#include "bufferevent_c.h"


/* The read limit as libevent passes it to evbuffer_read: cut to an int
 * (core/bufferevent sockReadCB keeps the same wrap). */
static inline int read_limit(int64_t n)
{
	return (int)(int32_t)(uint32_t)(uint64_t)n;
}

/* The read high-watermark watcher (core/bufferevent inbufWMChanged) of a
 * socket bufferevent, as its input's idle hook: reading stops when the
 * input reaches the mark and resumes (the read event added again, as
 * libevent's unsuspend does on every change below the mark) when it is
 * below. Called with the buffer's lock held, which is the bufferevent's. */
static void wm_check(struct bufferevent *bev, struct ge_bev_priv *p)
{
	size_t len = ((struct ge_evbuffer *)(void *)bev->input)->total_len;
	if (len >= bev->wm_read.high) {
		if (!p->read_suspended)
			event_del(&bev->ev_read);
		p->read_suspended |= GE_SUSPEND_WM;
		return;
	}
	p->read_suspended &= (uint16_t)~GE_SUSPEND_WM;
	if (!p->read_suspended && (bev->enabled & EV_READ)) {
		const struct timeval *tv = NULL;
		if (bev->timeout_read.tv_sec || bev->timeout_read.tv_usec)
			tv = &bev->timeout_read;
		event_add(&bev->ev_read, tv);
	}
}

void ge_bev_sock_readcb(evutil_socket_t fd, short what, void *arg)
{
	struct bufferevent *bev = arg;
	struct ge_bev_priv *p = bev_priv(bev);
	struct ge_evbuffer *in = (struct ge_evbuffer *)(void *)bev->input;

	if (what != EV_READ)
		goto go;
	bev_lock(bev);
	/* The input must be just as the bufferevent keeps it: frozen at its
	 * end (the Go handler lifts that freeze around its read and puts it
	 * back, also when the program had lifted it), no callback but the
	 * read high-watermark watcher, whose C twin runs here. */
	size_t high = bev->wm_read.high;
	if (!plain_bev(p, 0) || p->read_suspended)
		goto unlock_go;
	int64_t howmuch = p->max_read;
	if (high) {
		if (in->slow != (GE_SLOW_FROZEN_END | GE_SLOW_IDLE_WATCH) ||
		    in->idle_hook != ge_bev_in_wm_changed)
			goto unlock_go;
		if (in->total_len >= high) {
			/* The mark was lowered under the data held. */
			wm_check(bev, p);
			bev_unlock(bev);
			return;
		}
		if ((uint64_t)(high - in->total_len) < (uint64_t)howmuch)
			howmuch = (int64_t)(high - in->total_len);
	} else if (in->slow != GE_SLOW_FROZEN_END) {
		goto unlock_go;
	}
	int n = ge_bev_read_nocb(in, fd, read_limit(howmuch));
	if (n == -2)
		goto unlock_go;
	int e = errno;
	p->refcnt++;
	if (n <= 0) {
		if (n < 0 && (e == EAGAIN || e == EINTR))
			goto out;
		goev_bev_read_failed(bev, n, e);
		goto out;
	}
	if (high)
		wm_check(bev, p);
	if (in->total_len >= bev->wm_read.low)
		ge_bev_run_readcb(bev, p);
out:
	bev_decref(bev, p);
	bev_unlock(bev);
	return;
unlock_go:
	bev_unlock(bev);
go:
	goev_bev_sock_readcb(bev, fd, what);
}

void ge_bev_sock_writecb(evutil_socket_t fd, short what, void *arg)
{
	struct bufferevent *bev = arg;
	struct ge_bev_priv *p = bev_priv(bev);
	struct ge_evbuffer *out = (struct ge_evbuffer *)(void *)bev->output;

	if (what != EV_WRITE)
		goto go;
	bev_lock(bev);
	/* The output must be frozen at its front, as the bufferevent keeps it
	 * (Go puts a lifted freeze back); its one callback may be the idle
	 * watcher, which has nothing to do while this event is inserted, as it
	 * is while its callback runs. */
	if (!plain_bev(p, GE_BEVF_CONNECTING) || p->write_suspended ||
	    (out->slow & ~GE_SLOW_IDLE_WATCH) != GE_SLOW_FROZEN_START)
		goto unlock_go;
	if (out->total_len > 0) {
		if (p->flags & GE_BEVF_NOTSOCK)
			goto unlock_go;
		struct ge_bev_io r = ge_bev_write_how((uintptr_t)out, fd, p->max_write,
		    (p->flags & GE_BEVF_WRITEV) != 0);
		/* Not a socket: found once per descriptor (bufferevent_setfd
		 * forgets it, core/bufferevent sockSetFd). A terminal or file
		 * is written here with writev; anything else (a pipe, which
		 * could raise SIGPIPE) by Go, told so by the flag. */
		if (r.how == GE_BEV_IO_FALLBACK && r.err == ENOTSOCK) {
			if (ge_bev_writev_safe(fd)) {
				p->flags |= GE_BEVF_WRITEV;
				r = ge_bev_write_how((uintptr_t)out, fd, p->max_write, 1);
			} else {
				p->flags |= GE_BEVF_NOTSOCK;
			}
		}
		if (r.how == GE_BEV_IO_FALLBACK)
			goto unlock_go;
		p->refcnt++;
		if (r.how == GE_BEV_IO_DRAIN)
			goev_bev_out_drain(bev, r.n);
		if (r.n < 0 && (r.err == EAGAIN || r.err == EINTR)) {
			if (out->total_len == 0)
				event_del(&bev->ev_write);
			goto out;
		}
		if (r.n <= 0) {
			goev_bev_write_failed(bev, r.n, r.err);
			goto out;
		}
		out->n_add_for_cb = out->n_del_for_cb = 0;
	} else {
		p->refcnt++;
	}
	if (out->total_len == 0)
		event_del(&bev->ev_write);
	if (out->total_len <= bev->wm_write.low)
		ge_bev_run_writecb(bev, p);
out:
	bev_decref(bev, p);
	bev_unlock(bev);
	return;
unlock_go:
	bev_unlock(bev);
go:
	goev_bev_sock_writecb(bev, fd, what);
}

/* The socket kind's output watcher (core/bufferevent outbufChanged), as the
 * idle hook of the bufferevent's output: data was added while ev_write is
 * not inserted, so start writing if the bufferevent wants to. 0 leaves it
 * to the Go watcher (a bufferevent without the C handlers). */
int ge_bev_out_added(void *arg, size_t added, size_t deleted)
{
	struct bufferevent *bev = arg;
	struct ge_bev_priv *p = bev_priv(bev);
	(void)deleted;
	if (!(p->flags & GE_BEVF_SOCK_C))
		return 0;
	if (!added)
		return 1; /* only additions start writing */
	if ((bev->enabled & EV_WRITE) && !p->write_suspended &&
	    !event_pending(&bev->ev_write, EV_WRITE, NULL)) {
		const struct timeval *tv = NULL;
		if (bev->timeout_write.tv_sec || bev->timeout_write.tv_usec)
			tv = &bev->timeout_write;
		event_add(&bev->ev_write, tv);
	}
	return 1;
}

int ge_bev_in_wm_changed(void *arg, size_t added, size_t deleted)
{
	struct bufferevent *bev = arg;
	struct ge_bev_priv *p = bev_priv(bev);
	(void)added;
	(void)deleted;
	if (!plain_bev(p, 0) || bev->wm_read.high == 0)
		return 0;
	wm_check(bev, p);
	return 1;
}
