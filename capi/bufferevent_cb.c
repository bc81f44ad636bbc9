/*
 * bufferevent_cb.c: running a bufferevent's callbacks from C.
 *
 * core/bufferevent's RunReadCB, RunWriteCB, scheduleDeferred and
 * runDeferred for bufferevents without a lock, used by the C paths of the
 * socket handlers (bufferevent_sock.c), the pair transfer
 * (bufferevent_pair.c) and a filter's read step (here, since data
 * callbacks lead to it): a callback is called directly, or its run is
 * queued on the loop (BEV_OPT_DEFER_CALLBACKS) and made by
 * ge_bev_deferred_run, which the C loop calls like any C callback. A data
 * callback may be a Go slot: a filter routes its underlying's callbacks to
 * itself that way; the common case of the read hook runs here, the rest in
 * Go.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/event_struct.h>

#include "bufferevent_c.h"

/* The Go slots a filter stores as its underlying's read and write
 * callbacks (core/bufferevent FilterHooks), set at start-up. */
void *ge_filt_read_hook, *ge_filt_write_hook;

/* Calls a bufferevent's data callback with arg (its cbarg). It may be a Go
 * slot: a filter above routes its underlying's callbacks to itself that
 * way; the common cases of those run here too. */
void ge_bev_data_cb_arg(struct bufferevent *bev, bufferevent_data_cb fn, void *arg)
{
	if (!ge_is_go_fn((const void *)fn)) {
		fn(bev, arg);
		return;
	}
	struct bufferevent *f = arg;
	if ((void *)fn == ge_filt_read_hook) {
		ge_bev_filter_read(bev, f);
		return;
	}
	/* The filter's write hook runs its output filter, which has nothing
	 * to do while the filter's output is empty or writing is off (read
	 * under the filter's lock: a thread-safe filter goes to Go). */
	if ((void *)fn == ge_filt_write_hook && !bev_priv(f)->lock &&
	    (((struct ge_evbuffer *)(void *)f->output)->total_len == 0 ||
	    !(f->enabled & EV_WRITE)))
		return;
	goev_bev_call_layer(bev, (void *)fn, arg);
}

/* What a filter does when its underlying has read (core/bufferevent
 * filterReadCB and readNolock): run the input filter while it makes
 * progress, then the filter's read callback by the watermark rule. Here
 * for a filter whose input filter is a C function and that needs nothing
 * else (a lock, rate limits, a read high watermark). */
void ge_bev_filter_read(struct bufferevent *u, struct bufferevent *f)
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
			ge_bev_run_readcb(f, fp);
			return;
		}
		ge_bev_data_cb_arg(f, f->readcb, f->cbarg);
		/* A high watermark set by the callback needs Go's checks. */
		if (f->wm_read.high != 0)
			goev_bev_filter_after_read(f);
	}
}

static void schedule_deferred(struct bufferevent *bev, struct ge_bev_priv *p);

/* inbufWMCheck, after the read callback: when it left the input at or
 * above the read high mark while reading is enabled, reading is held off
 * and nothing would call it again, so it runs again from the loop
 * (bufferevent_trigger with BEV_TRIG_DEFER_CALLBACKS). */
static void inbuf_wm_check(struct bufferevent *bev, struct ge_bev_priv *p)
{
	size_t high = bev->wm_read.high;
	size_t len = ((struct ge_evbuffer *)(void *)bev->input)->total_len;
	if (!high || !(bev->enabled & EV_READ) || len < high)
		return;
	p->refcnt++;
	if (len >= bev->wm_read.low && bev->readcb) {
		p->readcb_pending = 1;
		schedule_deferred(bev, p);
	}
	bev_decref(bev, p);
}

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

void ge_bev_run_readcb(struct bufferevent *bev, struct ge_bev_priv *p)
{
	if (!bev->readcb)
		return;
	if (p->options & BEV_OPT_DEFER_CALLBACKS) {
		p->readcb_pending = 1;
		schedule_deferred(bev, p);
		return;
	}
	ge_bev_data_cb_arg(bev, bev->readcb, bev->cbarg);
	inbuf_wm_check(bev, p);
}

void ge_bev_run_writecb(struct bufferevent *bev, struct ge_bev_priv *p)
{
	if (!bev->writecb)
		return;
	if (p->options & BEV_OPT_DEFER_CALLBACKS) {
		p->writecb_pending = 1;
		schedule_deferred(bev, p);
		return;
	}
	ge_bev_data_cb_arg(bev, bev->writecb, bev->cbarg);
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
 * libevent's order, under the bufferevent's lock, released around each
 * callback with BEV_OPT_UNLOCK_CALLBACKS. */
void ge_bev_deferred_run(struct event_callback *cb, void *arg)
{
	(void)cb;
	struct bufferevent *bev = arg;
	struct ge_bev_priv *p = bev_priv(bev);
	void *lk = p->lock;
	int unlocked = lk && (p->options & BEV_OPT_UNLOCK_CALLBACKS);
	if (lk)
		ge_lock_acquire(lk);
#define GE_CALL_UNLOCKED(call) do { \
	if (unlocked) \
		ge_lock_release(lk); \
	call; \
	if (unlocked) \
		ge_lock_acquire(lk); \
} while (0)
	if ((p->eventcb_pending & BEV_EVENT_CONNECTED) && bev->errorcb) {
		bufferevent_event_cb fn = bev->errorcb;
		void *a = bev->cbarg;
		p->eventcb_pending &= ~BEV_EVENT_CONNECTED;
		GE_CALL_UNLOCKED(call_event(bev, fn, BEV_EVENT_CONNECTED, a, -1));
	}
	if (p->readcb_pending && bev->readcb) {
		bufferevent_data_cb fn = bev->readcb;
		void *a = bev->cbarg;
		p->readcb_pending = 0;
		GE_CALL_UNLOCKED(ge_bev_data_cb_arg(bev, fn, a));
		inbuf_wm_check(bev, p);
	}
	if (p->writecb_pending && bev->writecb) {
		bufferevent_data_cb fn = bev->writecb;
		void *a = bev->cbarg;
		p->writecb_pending = 0;
		GE_CALL_UNLOCKED(ge_bev_data_cb_arg(bev, fn, a));
	}
	if (p->eventcb_pending && bev->errorcb) {
		bufferevent_event_cb fn = bev->errorcb;
		void *a = bev->cbarg;
		short what = p->eventcb_pending;
		int err = p->errno_pending;
		p->eventcb_pending = 0;
		p->errno_pending = 0;
		GE_CALL_UNLOCKED(call_event(bev, fn, what, a, err));
	}
#undef GE_CALL_UNLOCKED
	bev_decref(bev, p);
	if (lk)
		ge_lock_release(lk);
}
