/*
 * bufferevent_sock.c: a socket bufferevent's read and write handlers, the
 * callbacks of its ev_read and ev_write.
 *
 * In a bulk transfer these run once per chunk, and every C/Go crossing on
 * the way costs more than the handler's own work. So the common case runs
 * here, called straight from the C event loop: one read or write system
 * call on the bufferevent's buffer, the watermark rule, the user's callback
 * called directly. The handler hands the whole event to Go
 * (core/bufferevent's SockReadCB/SockWriteCB) when the bufferevent needs
 * anything this file does not do: a lock, deferred callbacks, rate limits,
 * a connect in progress, a read high watermark, callbacks on the buffer,
 * timeouts firing. After the system call, only rare outcomes call Go:
 * errors and end of file, a full drain of a buffer holding special chains,
 * the last reference going.
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

#include "goevent.h"
#include "_cgo_export.h"

static inline struct ge_bev_priv *bev_priv(struct bufferevent *bev)
{
	return (struct ge_bev_priv *)(void *)((char *)bev + sizeof(struct bufferevent));
}

/* What the C handlers need of every bufferevent they serve: no lock (the
 * loop's thread owns it), no rate limit. */
static inline int plain_bev(const struct ge_bev_priv *p, uint32_t more)
{
	return (p->flags & (GE_BEVF_SOCK_C | GE_BEVF_RATELIMITED | GE_BEVF_FINALIZING | more)) ==
	    GE_BEVF_SOCK_C && !p->lock;
}

/* The read limit as libevent passes it to evbuffer_read: cut to an int
 * (core/bufferevent sockReadCB keeps the same wrap). */
static inline int read_limit(int64_t n)
{
	return (int)(int32_t)(uint32_t)(uint64_t)n;
}

/* Drops the reference a handler took; the last one starts the free in Go. */
static inline void handler_decref(struct bufferevent *bev, struct ge_bev_priv *p)
{
	if (--p->refcnt == 0)
		goev_bev_last_ref(bev);
}

/* The Go slots a filter stores as its underlying's read and write
 * callbacks (core/bufferevent FilterHooks), set at start-up. */
void *ge_filt_read_hook, *ge_filt_write_hook;

static void filter_read(struct bufferevent *u, struct bufferevent *f);
static void run_readcb(struct bufferevent *bev, struct ge_bev_priv *p);

/* Calls a bufferevent's data callback. It may be a Go slot: a filter above
 * routes its underlying's callbacks to itself that way; the common cases
 * of those run here too. */
static void call_data(struct bufferevent *bev, bufferevent_data_cb fn)
{
	if (!ge_is_go_fn((const void *)fn)) {
		fn(bev, bev->cbarg);
		return;
	}
	struct bufferevent *f = bev->cbarg;
	if ((void *)fn == ge_filt_read_hook) {
		filter_read(bev, f);
		return;
	}
	/* The filter's write hook runs its output filter, which has nothing
	 * to do while the filter's output is empty or writing is off. */
	if ((void *)fn == ge_filt_write_hook &&
	    (((struct ge_evbuffer *)(void *)f->output)->total_len == 0 ||
	    !(f->enabled & EV_WRITE)))
		return;
	goev_bev_call_layer(bev, (void *)fn, bev->cbarg);
}

/* What a filter does when its underlying has read (core/bufferevent
 * filterReadCB and readNolock): run the input filter while it makes
 * progress, then the filter's read callback by the watermark rule. Here
 * for a filter whose input filter is a C function and that needs nothing
 * else (lock, deferral, rate limits, a read high watermark). */
static void filter_read(struct bufferevent *u, struct bufferevent *f)
{
	struct ge_bev_priv *fp = bev_priv(f);
	if ((fp->flags & (GE_BEVF_FILTER_C | GE_BEVF_RATELIMITED | GE_BEVF_FINALIZING)) !=
	    GE_BEVF_FILTER_C || fp->lock || f->wm_read.high != 0) {
		goev_bev_call_layer(u, ge_filt_read_hook, f);
		return;
	}
	if (fp->refcnt <= 0 || !(f->enabled & EV_READ))
		return;
	bufferevent_filter_cb in_filter = (bufferevent_filter_cb)fp->filt_in;
	struct ge_evbuffer *src = (struct ge_evbuffer *)(void *)u->input;
	struct ge_evbuffer *dst = (struct ge_evbuffer *)(void *)f->input;
	int processed = 0;
	for (;;) {
		enum bufferevent_filter_result r = in_filter(u->input, f->input, -1,
		    BEV_NORMAL, fp->filt_ctx);
		if (r == BEV_OK)
			processed = 1;
		if (r != BEV_OK || !(f->enabled & EV_READ) || src->total_len == 0)
			break;
	}
	if (!processed)
		return;
	if (f->timeout_read.tv_sec || f->timeout_read.tv_usec)
		event_add(&f->ev_read, &f->timeout_read);
	if (dst->total_len >= f->wm_read.low && f->readcb) {
		if (fp->options & BEV_OPT_DEFER_CALLBACKS) {
			run_readcb(f, fp);
			return;
		}
		call_data(f, f->readcb);
		/* A high watermark set by the callback needs Go's checks. */
		if (f->wm_read.high != 0)
			goev_bev_filter_after_read(f);
	}
}

/* ---- running and deferring the user's callbacks --------------------------
 * core/bufferevent's RunReadCB, RunWriteCB, scheduleDeferred and
 * runDeferred, for bufferevents without a lock. */

/* scheduleDeferred: queue the deferred run, holding a reference while it
 * is queued. */
static void schedule_deferred(struct bufferevent *bev, struct ge_bev_priv *p)
{
	void *base = bev->ev_base ? (void *)bev->ev_base : (void *)bev->ev_read.ev_base;
	int r = p->deferred_cb ? ge_schedule_deferred(base, p->deferred_cb) : -1;
	if (r < 0)
		goev_bev_schedule_deferred(bev);
	else if (r > 0)
		p->refcnt++;
}

static void run_readcb(struct bufferevent *bev, struct ge_bev_priv *p)
{
	if (!bev->readcb)
		return;
	if (p->options & BEV_OPT_DEFER_CALLBACKS) {
		p->readcb_pending = 1;
		schedule_deferred(bev, p);
		return;
	}
	call_data(bev, bev->readcb);
	/* A read high watermark needs Go's check after the callback. */
	if (bev->wm_read.high != 0)
		goev_bev_inbuf_wm_check(bev);
}

static void run_writecb(struct bufferevent *bev, struct ge_bev_priv *p)
{
	if (!bev->writecb)
		return;
	if (p->options & BEV_OPT_DEFER_CALLBACKS) {
		p->writecb_pending = 1;
		schedule_deferred(bev, p);
		return;
	}
	call_data(bev, bev->writecb);
}

static void call_event(struct bufferevent *bev, bufferevent_event_cb fn, short what,
    void *arg, int err)
{
	if (ge_is_go_fn((const void *)fn)) {
		goev_bev_call_layer_event(bev, (void *)fn, what, arg, err);
		return;
	}
	if (err >= 0)
		errno = err;
	fn(bev, what, arg);
}

/* runDeferred, as the C loop's callback for the bufferevent's deferred
 * callback: connected first, then read, write and the other events, in
 * libevent's order. A bufferevent with a lock takes Go's version, which
 * handles BEV_OPT_UNLOCK_CALLBACKS. */
void ge_bev_deferred_run(struct event_callback *cb, void *arg)
{
	(void)cb;
	struct bufferevent *bev = arg;
	struct ge_bev_priv *p = bev_priv(bev);
	if (p->lock) {
		goev_bev_run_deferred(bev);
		return;
	}
	if ((p->eventcb_pending & BEV_EVENT_CONNECTED) && bev->errorcb) {
		p->eventcb_pending &= ~BEV_EVENT_CONNECTED;
		call_event(bev, bev->errorcb, BEV_EVENT_CONNECTED, bev->cbarg, -1);
	}
	if (p->readcb_pending && bev->readcb) {
		p->readcb_pending = 0;
		call_data(bev, bev->readcb);
		if (bev->wm_read.high != 0)
			goev_bev_inbuf_wm_check(bev);
	}
	if (p->writecb_pending && bev->writecb) {
		p->writecb_pending = 0;
		call_data(bev, bev->writecb);
	}
	if (p->eventcb_pending && bev->errorcb) {
		short what = p->eventcb_pending;
		int err = p->errno_pending;
		p->eventcb_pending = 0;
		p->errno_pending = 0;
		call_event(bev, bev->errorcb, what, bev->cbarg, err);
	}
	handler_decref(bev, p);
}

void ge_bev_sock_readcb(evutil_socket_t fd, short what, void *arg)
{
	struct bufferevent *bev = arg;
	struct ge_bev_priv *p = bev_priv(bev);
	struct ge_evbuffer *in = (struct ge_evbuffer *)(void *)bev->input;

	/* The input may be frozen at its end: that is the bufferevent's own
	 * freeze, which the Go handler lifts around its read too. */
	if (what != EV_READ || !plain_bev(p, 0) || p->read_suspended ||
	    bev->wm_read.high != 0 || (in->slow & ~GE_SLOW_FROZEN_END)) {
		goev_bev_sock_readcb(bev, fd, what);
		return;
	}
	int n = ge_bev_read_nocb(in, fd, read_limit(p->max_read));
	if (n == -2) {
		goev_bev_sock_readcb(bev, fd, what);
		return;
	}
	int e = errno;
	p->refcnt++;
	if (n <= 0) {
		if (n < 0 && (e == EAGAIN || e == EINTR))
			goto out;
		goev_bev_read_failed(bev, n, e);
		goto out;
	}
	if (in->total_len >= bev->wm_read.low)
		run_readcb(bev, p);
out:
	handler_decref(bev, p);
}

void ge_bev_sock_writecb(evutil_socket_t fd, short what, void *arg)
{
	struct bufferevent *bev = arg;
	struct ge_bev_priv *p = bev_priv(bev);
	struct ge_evbuffer *out = (struct ge_evbuffer *)(void *)bev->output;

	/* The output is frozen at its front by the bufferevent itself; its
	 * one callback may be the idle watcher, which has nothing to do while
	 * this event is inserted, as it is while its callback runs. */
	if (what != EV_WRITE || !plain_bev(p, GE_BEVF_CONNECTING) || p->write_suspended ||
	    (out->slow & ~(GE_SLOW_FROZEN_START | GE_SLOW_IDLE_WATCH))) {
		goev_bev_sock_writecb(bev, fd, what);
		return;
	}
	if (out->total_len > 0) {
		struct ge_bev_io r = ge_bev_write((uintptr_t)out, fd, p->max_write);
		if (r.how == GE_BEV_IO_FALLBACK) {
			goev_bev_sock_writecb(bev, fd, what);
			return;
		}
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
		run_writecb(bev, p);
out:
	handler_decref(bev, p);
}

/* The socket kind's output watcher (core/bufferevent outbufChanged), as the
 * idle hook of the bufferevent's output: data was added while ev_write is
 * not inserted, so start writing if the bufferevent wants to. 0 leaves it
 * to the Go watcher (a bufferevent without the C handlers). */
int ge_bev_out_added(void *arg)
{
	struct bufferevent *bev = arg;
	struct ge_bev_priv *p = bev_priv(bev);
	if (!(p->flags & GE_BEVF_SOCK_C))
		return 0;
	if ((bev->enabled & EV_WRITE) && !p->write_suspended &&
	    !event_pending(&bev->ev_write, EV_WRITE, NULL)) {
		const struct timeval *tv = NULL;
		if (bev->timeout_write.tv_sec || bev->timeout_write.tv_usec)
			tv = &bev->timeout_write;
		event_add(&bev->ev_write, tv);
	}
	return 1;
}

/* A pair end's output watcher (core/bufferevent pairOutbufChanged and
 * pairTransfer), as the idle hook of the end's output: data the user just
 * added goes to the partner's input, chains and all, and both ends' callbacks
 * are offered (deferred, as pairs always are). 0 leaves it all to Go (a
 * lock, rate limits, the partner's read high watermark, callbacks of the
 * user's on the buffers, chains that cannot change hands). */
int ge_bev_pair_out_added(void *arg)
{
	struct bufferevent *src = arg;
	struct ge_bev_priv *sp = bev_priv(src);
	struct bufferevent *dst = sp->partner;
	if (sp->lock || (sp->flags & (GE_BEVF_RATELIMITED | GE_BEVF_FINALIZING)))
		return 0;
	if (!dst)
		return 1;
	struct ge_bev_priv *dp = bev_priv(dst);
	struct ge_evbuffer *out = (struct ge_evbuffer *)(void *)src->output;
	struct ge_evbuffer *in = (struct ge_evbuffer *)(void *)dst->input;
	if (dp->lock || (dp->flags & (GE_BEVF_RATELIMITED | GE_BEVF_FINALIZING)))
		return 0;
	if (!(src->enabled & EV_WRITE) || !(dst->enabled & EV_READ) || dp->read_suspended ||
	    out->total_len == 0)
		return 1; /* not talking: nothing to do */
	if (dst->wm_read.high != 0 || (in->slow & ~GE_SLOW_FROZEN_END) ||
	    (out->slow & ~(GE_SLOW_FROZEN_START | GE_SLOW_IDLE_WATCH)))
		return 0;
	if (!ge_buf_move_all(in, out))
		return 0;
	sp->refcnt++;
	dp->refcnt++;
	if (dst->timeout_read.tv_sec || dst->timeout_read.tv_usec)
		event_add(&dst->ev_read, &dst->timeout_read);
	if (((struct ge_evbuffer *)(void *)dst->output)->total_len > 0) {
		if (dst->timeout_write.tv_sec || dst->timeout_write.tv_usec)
			event_add(&dst->ev_write, &dst->timeout_write);
	} else {
		event_del(&dst->ev_write);
	}
	if (in->total_len >= dst->wm_read.low)
		run_readcb(dst, dp);
	if (out->total_len <= src->wm_write.low)
		run_writecb(src, sp);
	handler_decref(dst, dp);
	handler_decref(src, sp);
	return 1;
}
