/*
 * listener.c: the public functions of event2/listener.h. A struct
 * evconnlistener * is core/listener's off-heap header: its first 128 bytes
 * are the struct event watching the listening socket, so the fd and the base
 * are read here without entering Go.
 */
#include <errno.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/listener.h>

#include "internal.h"

/* The start of core/listener.Header. */
struct ge_lev_head {
	struct event ev; /* 0 */
	void *lock;      /* 128 */
};

static inline struct ge_lev_head *head(struct evconnlistener *lev)
{
	return (struct ge_lev_head *)(void *)lev;
}

#define CHECK_LEV(fn, lev, failval) do { \
	GE_NEED_ENGINE(fn, failval); \
	if (!(lev)) { GE_BADARG(fn, "NULL listener"); return failval; } \
} while (0)
#define CHECK_LEV_VOID(fn, lev) do { \
	GE_NEED_ENGINE_VOID(fn); \
	if (!(lev)) { GE_BADARG(fn, "NULL listener"); return; } \
} while (0)

struct evconnlistener *evconnlistener_new(struct event_base *base,
    evconnlistener_cb cb, void *ptr, unsigned flags, int backlog,
    evutil_socket_t fd)
{
	GE_NEED_ENGINE("evconnlistener_new", NULL);
	int err = 0;
	struct evconnlistener *l = goev_evconnlistener_new(base, (void *)cb, ptr,
	    flags, backlog, fd, &err);
	if (!l && err)
		errno = err;
	return l;
}

struct evconnlistener *evconnlistener_new_bind(struct event_base *base,
    evconnlistener_cb cb, void *ptr, unsigned flags, int backlog,
    const struct sockaddr *sa, int socklen)
{
	GE_NEED_ENGINE("evconnlistener_new_bind", NULL);
	int err = 0;
	struct evconnlistener *l = goev_evconnlistener_new_bind(base, (void *)cb,
	    ptr, flags, backlog, (void *)sa, socklen, &err);
	if (!l && err)
		errno = err;
	return l;
}

void evconnlistener_free(struct evconnlistener *lev)
{
	CHECK_LEV_VOID("evconnlistener_free", lev);
	goev_evconnlistener_free(lev);
}

int evconnlistener_enable(struct evconnlistener *lev)
{
	CHECK_LEV("evconnlistener_enable", lev, -1);
	return goev_evconnlistener_enable(lev);
}

int evconnlistener_disable(struct evconnlistener *lev)
{
	CHECK_LEV("evconnlistener_disable", lev, -1);
	return goev_evconnlistener_disable(lev);
}

struct event_base *evconnlistener_get_base(struct evconnlistener *lev)
{
	CHECK_LEV("evconnlistener_get_base", lev, NULL);
	return head(lev)->ev.ev_base;
}

evutil_socket_t evconnlistener_get_fd(struct evconnlistener *lev)
{
	CHECK_LEV("evconnlistener_get_fd", lev, -1);
	return head(lev)->ev.ev_fd;
}

void evconnlistener_set_cb(struct evconnlistener *lev, evconnlistener_cb cb,
    void *arg)
{
	CHECK_LEV_VOID("evconnlistener_set_cb", lev);
	goev_evconnlistener_set_cb(lev, (void *)cb, arg);
}

void evconnlistener_set_error_cb(struct evconnlistener *lev,
    evconnlistener_errorcb errorcb)
{
	CHECK_LEV_VOID("evconnlistener_set_error_cb", lev);
	goev_evconnlistener_set_error_cb(lev, (void *)errorcb);
}
