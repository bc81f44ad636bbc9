/*
 * bufferevent_filter.c: bufferevent_filter_new (event2/bufferevent.h) and
 * the trampolines through which core/bufferevent/filter.go calls the user's
 * filter functions and context destructor.
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "debug.h"
#include "internal.h"

/* The input filter a filter made without one uses when the C handlers run
 * it (core/bufferevent's nullFilter otherwise): libevent's null filter,
 * which moves everything allowed from src to dst. */
enum bufferevent_filter_result ge_bev_null_filter(struct evbuffer *src,
    struct evbuffer *dst, ev_ssize_t limit, enum bufferevent_flush_mode mode,
    void *ctx)
{
	(void)mode;
	(void)ctx;
	if (evbuffer_remove_buffer(src, dst, limit < 0 ? (size_t)-1 : (size_t)limit) < 0)
		return BEV_ERROR;
	return BEV_OK;
}


struct bufferevent *bufferevent_filter_new(struct bufferevent *underlying,
    bufferevent_filter_cb input_filter, bufferevent_filter_cb output_filter,
    int options, void (*free_context)(void *), void *ctx)
{
	GE_NEED_ENGINE("bufferevent_filter_new", NULL);
	/* libevent returns NULL for a missing underlying without a word. */
	if (!underlying)
		return NULL;
	struct bufferevent *bev = goev_bufferevent_filter_new(underlying,
	    (void *)input_filter, (void *)output_filter, options,
	    (void *)free_context, ctx);
	ge_debug_note_bev(bev);
	return bev;
}
