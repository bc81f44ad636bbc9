/*
 * bufferevent_pair.c: bufferevent_pair_new and bufferevent_pair_get_partner
 * (event2/bufferevent.h). The pair itself is core/bufferevent/pair.go; each
 * function here is one call into bufferevent_pair.go.
 */
#include <event2/bufferevent.h>

#include "goevent.h"
#include "_cgo_export.h"

int bufferevent_pair_new(struct event_base *base, int options,
    struct bufferevent *pair[2])
{
	GE_FORK_GUARD("bufferevent_pair_new", -1);
	if (!pair) {
		GE_BADARG("bufferevent_pair_new", "NULL pair array");
		return -1;
	}
	void *out[2] = {NULL, NULL};
	if (goev_bufferevent_pair_new(base, options, out) < 0)
		return -1;
	pair[0] = out[0];
	pair[1] = out[1];
	return 0;
}

struct bufferevent *bufferevent_pair_get_partner(struct bufferevent *bev)
{
	GE_FORK_GUARD("bufferevent_pair_get_partner", NULL);
	if (!bev) {
		GE_BADARG("bufferevent_pair_get_partner", "NULL bufferevent");
		return NULL;
	}
	return goev_bufferevent_pair_get_partner(bev);
}
