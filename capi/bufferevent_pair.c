/*
 * bufferevent_pair.c: bufferevent_pair_new and bufferevent_pair_get_partner
 * (event2/bufferevent.h), each one call into bufferevent_pair.go; the pair
 * itself is core/bufferevent/pair.go. The transfer a write starts has a C
 * twin here (ge_bev_pair_out_added), the output buffer's idle hook.
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/event_struct.h>

#include "debug.h"
#include "bufferevent_c.h"

int bufferevent_pair_new(struct event_base *base, int options,
    struct bufferevent *pair[2])
{
	GE_NEED_ENGINE("bufferevent_pair_new", -1);
	if (!pair) {
		GE_BADARG("bufferevent_pair_new", "NULL pair array");
		return -1;
	}
	void *out[2] = {NULL, NULL};
	if (goev_bufferevent_pair_new(base, options, out) < 0)
		return -1;
	pair[0] = out[0];
	pair[1] = out[1];
	ge_debug_note_bev(pair[0]);
	ge_debug_note_bev(pair[1]);
	return 0;
}

struct bufferevent *bufferevent_pair_get_partner(struct bufferevent *bev)
{
	GE_NEED_ENGINE("bufferevent_pair_get_partner", NULL);
	if (!bev) {
		GE_BADARG("bufferevent_pair_get_partner", "NULL bufferevent");
		return NULL;
	}
	return goev_bufferevent_pair_get_partner(bev);
}

/* A pair end's output watcher (core/bufferevent pairOutbufChanged and
 * pairTransfer), as the idle hook of the end's output: data the user just
 * added goes to the partner's input, chains and all, and both ends' callbacks
 * are offered (deferred, as pairs always are). 0 leaves it all to Go (a
 * lock, rate limits, the partner's read high watermark, callbacks of the
 * user's on the buffers, chains that cannot change hands). */
int ge_bev_pair_out_added(void *arg, size_t added, size_t deleted)
{
	struct bufferevent *src = arg;
	if (added <= deleted)
		return 1; /* pairOutbufChanged: nothing new to hand over */
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
	/* Both buffers as the pair keeps them (Go puts back a freeze the
	 * program lifted). */
	if (dst->wm_read.high != 0 || in->slow != GE_SLOW_FROZEN_END ||
	    (out->slow & ~GE_SLOW_IDLE_WATCH) != GE_SLOW_FROZEN_START)
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
		ge_bev_run_readcb(dst, dp);
	if (out->total_len <= src->wm_write.low)
		ge_bev_run_writecb(src, sp);
	bev_decref(dst, dp);
	bev_decref(src, sp);
	return 1;
}
