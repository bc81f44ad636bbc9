/*
 * bufferevent_free.c: freeing a socket bufferevent without entering Go.
 *
 * A bufferevent goes in two steps, in libevent and here: its last
 * reference deletes its two events and queues a finalizer on the loop;
 * the finalizer, which runs once no callback of the bufferevent can still
 * be running, closes the fd (BEV_OPT_CLOSE_ON_FREE) and releases both
 * buffers and the bufferevent's memory. Done in Go (core/bufferevent's
 * Free, lastRefAndUnlock and finalizeCB), each step costs a crossing into
 * Go and another back into C for the memory: more than twice libevent's
 * whole work. A server frees a socket bufferevent per connection, so for
 * the plain socket bufferevent both steps are done here, line for line
 * what the Go functions do. Whatever this file does not know (a lock, a
 * rate limit, a deferred callback still queued, buffers shared or holding
 * references or file segments, a base C may not touch now) goes to Go as
 * before, decided before anything is changed.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_struct.h>
#include <event2/event.h>
#include <event2/event_struct.h>

#include "buffer_internal.h"
#include "bufferevent_c.h"
#include "loop.h"

static inline struct ge_bev_go *bev_go(struct bufferevent *bev)
{
	return (struct ge_bev_go *)(void *)((char *)bev + GE_BEV_HEADER_SIZE);
}

static inline const struct ge_evbuffer_priv *evb_priv(const struct ge_evbuffer *b)
{
	return (const struct ge_evbuffer_priv *)(const void *)((const char *)b +
	    GE_EVB_PRIV_OFFSET);
}

/* Whether b goes with its bufferevent by plain frees (core/evbuffer's
 * decref when nothing but memory is left to release): the bufferevent
 * holds the only reference, no deferred run of its own and no lock of its
 * own, plain chains only. */
static int buf_plain(const struct ge_evbuffer *b)
{
	const struct ge_evbuffer_priv *q = evb_priv(b);
	if (q->refcnt != 1 || q->deferred || (q->state & GE_EVB_ST_OWN_LOCK))
		return 0;
	for (const struct ge_chain *c = b->first; c; c = c->next)
		if (!chain_plain(c))
			return 0;
	return 1;
}

static void buf_release(struct ge_evbuffer *b)
{
	ge_free_chain_list(b->first);
	for (struct ge_cb_entry *e = b->callbacks; e;) {
		struct ge_cb_entry *next = e->next;
		ge_free(e);
		e = next;
	}
	ge_free(b);
}

/* The finalizer a socket bufferevent's last reference queues (here or in
 * core/bufferevent's lastRefAndUnlock): finalizeCB in C when it can be,
 * else in Go. The bufferevent is gone from every queue. */
void ge_bev_sock_finalize(struct event *ev, void *arg)
{
	struct bufferevent *bev = arg;
	struct ge_bev_priv *p = bev_priv(bev);
	struct ge_evbuffer *in = GEB(bev->input), *out = GEB(bev->output);
	(void)ev;
	if (p->magic != GE_BEV_MAGIC || p->kind != GE_BEV_KIND_SOCKET || p->lock ||
	    bev_go(bev)->rlim || !buf_plain(in) || !buf_plain(out)) {
		goev_bev_finalize(bev);
		return;
	}
	/* socketOps.Destruct */
	int fd = bev->ev_read.ev_fd;
	if ((p->options & BEV_OPT_CLOSE_ON_FREE) && fd >= 0)
		close(fd);
	/* freeParts and freeBlock */
	buf_release(in);
	buf_release(out);
	ge_free(p->deferred_cb); /* the deferred callback's block starts with it */
	p->magic = 0;
	ge_free(bev);
}

/* The base of a socket bufferevent whose last reference C may handle,
 * locked (release with c_unlock), or NULL when Go must: the checks of
 * lastRefAndUnlock's path, made before anything changes. */
static struct ge_base *last_ref_base(struct bufferevent *bev, struct ge_bev_priv *p)
{
	struct event_callback *dcb = p->deferred_cb;
	if (bev_go(bev)->rlim || !dcb || (dcb->evcb_flags & (EVLIST_ACTIVE | EVLIST_ACTIVE_LATER)) ||
	    !bev->ev_read.ev_base || bev->ev_write.ev_base != bev->ev_read.ev_base)
		return NULL;
	struct ge_base *b = c_lock(&bev->ev_read);
	if (!b)
		return NULL;
	const struct event *r = &bev->ev_read, *w = &bev->ev_write;
	if (((r->ev_evcallback.evcb_flags | w->ev_evcallback.evcb_flags) & EVLIST_FINALIZING) ||
	    !ge_del_ok_in_c(b, r) || !ge_del_ok_in_c(b, w)) {
		c_unlock(b);
		return NULL;
	}
	return b;
}

/* lastRefAndUnlock on b (from last_ref_base): socketOps.Unlink does
 * nothing and the deferred callback is not queued; then
 * loop.FinalizeAlso(ev_write) and loop.FinalizeCallback(ev_read) with this
 * file's finalizer (a failed epoll_ctl is ignored there too). Unlocks b. */
static void last_ref(struct bufferevent *bev, struct ge_bev_priv *p, struct ge_base *b)
{
	bev_go(bev)->finalizing = 1;
	p->flags |= GE_BEVF_FINALIZING;
	(void)ge_del_in_c(b, &bev->ev_write);
	bev->ev_write.ev_evcallback.evcb_flags |= EVLIST_FINALIZING;
	struct event *ev = &bev->ev_read;
	struct event_callback *cb = &ev->ev_evcallback;
	(void)ge_del_in_c(b, ev);
	cb->evcb_closure = GE_CLOSURE_EVENT_FINALIZE;
	cb->evcb_cb_union.evcb_evfinalize = ge_bev_sock_finalize;
	/* As loop.FinalizeCallback (libevent's event_callback_activate_nolock_):
	 * queued without ending the pass over a lower-priority queue. The
	 * event is on no queue now. */
	ev->ev_res = EV_FINALIZE;
	queue_insert_active(b, cb);
	cb->evcb_flags |= EVLIST_FINALIZING;
	c_unlock(b);
}

/* What the free path needs of the bufferevent itself: a live socket
 * bufferevent without a lock that the C handlers serve, not connecting. */
static inline int sock_plain(const struct ge_bev_priv *p)
{
	return p->magic == GE_BEV_MAGIC && p->kind == GE_BEV_KIND_SOCKET && !p->lock &&
	    plain_bev(p, GE_BEVF_CONNECTING);
}

/* bufferevent_free of a socket bufferevent (core/bufferevent Free: the
 * callbacks go, socketOps' cancel has nothing to cancel, a reference
 * goes). Returns 1 if done, 0 if Go must do it; nothing has changed then. */
int ge_bev_sock_free_in_c(struct bufferevent *bev)
{
	struct ge_bev_priv *p = bev_priv(bev);
	if (!sock_plain(p) || p->refcnt < 1)
		return 0;
	struct ge_base *b = NULL;
	if (p->refcnt == 1 && !(b = last_ref_base(bev, p)))
		return 0;
	bev->readcb = NULL;
	bev->writecb = NULL;
	bev->errorcb = NULL;
	bev->cbarg = NULL;
	if (--p->refcnt == 0)
		last_ref(bev, p, b);
	return 1;
}

/* A socket bufferevent's count dropped to 0 in a C handler: its last
 * reference in C if it can be (1), else 0 and Go's LastRef must run. */
int ge_bev_sock_last_ref_in_c(struct bufferevent *bev)
{
	struct ge_bev_priv *p = bev_priv(bev);
	struct ge_base *b;
	if (!sock_plain(p) || p->refcnt != 0 || !(b = last_ref_base(bev, p)))
		return 0;
	last_ref(bev, p, b);
	return 1;
}
