/*
 * bufferevent_c.h: what capi's C bufferevent paths share (bufferevent_cb.c
 * runs and defers the user's callbacks; bufferevent_sock.c, the filter's
 * read step and the pair transfer use it). Internal to capi.
 */
#ifndef GE_BUFFEREVENT_C_H
#define GE_BUFFEREVENT_C_H

#include <event2/bufferevent.h>
#include <event2/bufferevent_struct.h>

#include "internal.h"

/* The private area after the public struct (struct ge_bev_priv). */
static inline struct ge_bev_priv *bev_priv(const struct bufferevent *bev)
{
	return (struct ge_bev_priv *)(void *)((char *)bev + sizeof(struct bufferevent));
}

/* BEV_LOCK/BEV_UNLOCK: the bufferevent's lock, if it has one (recursive). */
static inline void bev_lock(const struct bufferevent *bev)
{
	void *lk = bev_priv(bev)->lock;
	if (lk)
		ge_lock_acquire(lk);
}

static inline void bev_unlock(const struct bufferevent *bev)
{
	void *lk = bev_priv(bev)->lock;
	if (lk)
		ge_lock_release(lk);
}

/* What the C socket paths (handlers, free) need of every bufferevent they
 * serve: the C handlers installed, no rate limit, not being freed (nor the
 * flags in more). Read under the bufferevent's lock, which the handlers
 * hold as the Go ones do. */
static inline int plain_bev(const struct ge_bev_priv *p, uint32_t more)
{
	return (p->flags & (GE_BEVF_SOCK_C | GE_BEVF_RATELIMITED | GE_BEVF_FINALIZING | more)) ==
	    GE_BEVF_SOCK_C;
}

/* bufferevent_free.c: a socket bufferevent's free, last reference and
 * finalizer in C (1 done, 0 Go's turn). */
int ge_bev_sock_free_in_c(struct bufferevent *bev);
int ge_bev_sock_last_ref_in_c(struct bufferevent *bev);
void ge_bev_sock_finalize(struct event *ev, void *arg);

/* Drops a reference taken by a C path; the last one starts the free, in C
 * for a plain socket bufferevent, else in Go, as DecrefAndUnlock does. */
static inline void bev_decref(struct bufferevent *bev, struct ge_bev_priv *p)
{
	if (--p->refcnt == 0 && !ge_bev_sock_last_ref_in_c(bev))
		goev_bev_last_ref(bev);
}

/* core/bufferevent's RunReadCB and RunWriteCB for a bufferevent without a
 * lock: the callback now, or (BEV_OPT_DEFER_CALLBACKS) from the loop. */
void ge_bev_run_readcb(struct bufferevent *bev, struct ge_bev_priv *p);
void ge_bev_run_writecb(struct bufferevent *bev, struct ge_bev_priv *p);

/* Calls a data callback with arg; it may be one of a filter's Go hooks. */
void ge_bev_data_cb_arg(struct bufferevent *bev, bufferevent_data_cb fn, void *arg);

/* The filter's read step on its underlying's read (bufferevent_cb.c). */
void ge_bev_filter_read(struct bufferevent *u, struct bufferevent *f);

#endif
