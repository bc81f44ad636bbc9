/*
 * bufferevent.c: the public functions of event2/bufferevent.h,
 * bufferevent_compat.h and bufferevent_struct.h for socket bufferevents.
 *
 * struct bufferevent is goevent's off-heap header (core/bufferevent.Header):
 * the 392 public bytes, then a private area holding the lock and the handle
 * of the Go-side state. Getters, setcb/getcb and the read/write helpers
 * (which are evbuffer calls) run here without entering Go; everything that
 * touches scheduling makes one call into bufferevent.go.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <stdio.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_compat.h>
#include <event2/bufferevent_struct.h>
#include <event2/event.h>
#include <event2/event_struct.h>

#include "debug.h"
#include "bufferevent_c.h"

_Static_assert(sizeof(struct bufferevent) == 392, "struct bufferevent is ABI");

#define CHECK_BEV(fn, bev, failval) do { \
	GE_NEED_ENGINE(fn, failval); \
	if (!(bev)) { GE_BADARG(fn, "NULL bufferevent"); return failval; } \
} while (0)
#define CHECK_BEV_VOID(fn, bev) do { \
	GE_NEED_ENGINE_VOID(fn); \
	if (!(bev)) { GE_BADARG(fn, "NULL bufferevent"); return; } \
} while (0)

static void ge_bev_nop(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

/* The base event_assign picks when given none: libevent's current global
 * base (event_init's). Only the compat constructor needs it. */
void *ge_bev_current_base(void)
{
	struct event ev;
	if (event_assign(&ev, NULL, -1, 0, ge_bev_nop, NULL) < 0)
		return NULL;
	return ev.ev_base;
}

/* ---- construction and connecting -------------------------------------- */

struct bufferevent *bufferevent_socket_new(struct event_base *base,
    evutil_socket_t fd, int options)
{
	GE_NEED_ENGINE("bufferevent_socket_new", NULL);
	struct bufferevent *bev = goev_bufferevent_socket_new(base, fd, options);
	ge_debug_note_bev(bev);
	return bev;
}

struct bufferevent *bufferevent_new(evutil_socket_t fd,
    bufferevent_data_cb readcb, bufferevent_data_cb writecb,
    bufferevent_event_cb eventcb, void *cbarg)
{
	GE_NEED_ENGINE("bufferevent_new", NULL);
	struct bufferevent *bev = goev_bufferevent_socket_new(NULL, fd, 0);
	if (!bev)
		return NULL;
	ge_debug_note_bev(bev);
	bufferevent_setcb(bev, readcb, writecb, eventcb, cbarg);
	return bev;
}

int bufferevent_socket_connect(struct bufferevent *bev,
    const struct sockaddr *sa, int socklen)
{
	CHECK_BEV("bufferevent_socket_connect", bev, -1);
	int err = 0;
	int r = goev_bufferevent_socket_connect(bev, (void *)sa, socklen, &err);
	if (r < 0 && err)
		errno = err;
	return r;
}

int bufferevent_socket_connect_hostname(struct bufferevent *bev,
    struct evdns_base *evdns_base, int family, const char *hostname, int port)
{
	CHECK_BEV("bufferevent_socket_connect_hostname", bev, -1);
	/* goevent's core has no evdns: as libevent does when no evdns
	 * resolver is linked in, the name is looked up synchronously with the
	 * system resolver and the connect (or the error) follows at once. */
	(void)evdns_base;
	if (family != AF_INET && family != AF_INET6 && family != AF_UNSPEC)
		return -1;
	if (port < 1 || port > 65535)
		return -1;
	char portbuf[16];
	snprintf(portbuf, sizeof(portbuf), "%d", port);
	struct addrinfo hints, *ai = NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	int r = getaddrinfo(hostname, portbuf, &hints, &ai);
	if (r == 0 && !ai)
		r = EAI_FAIL;
	goev_bufferevent_connect_hostname(bev, r, r == 0 ? (void *)ai->ai_addr : NULL,
	    r == 0 ? (int)ai->ai_addrlen : 0);
	if (ai)
		freeaddrinfo(ai);
	return 0;
}

int bufferevent_socket_get_dns_error(struct bufferevent *bev)
{
	CHECK_BEV("bufferevent_socket_get_dns_error", bev, -1);
	return goev_bufferevent_get_dns_error(bev);
}

/* ---- callbacks and fields ---------------------------------------------- */

void bufferevent_setcb(struct bufferevent *bev, bufferevent_data_cb readcb,
    bufferevent_data_cb writecb, bufferevent_event_cb eventcb, void *cbarg)
{
	CHECK_BEV_VOID("bufferevent_setcb", bev);
	bev_lock(bev);
	bev->readcb = readcb;
	bev->writecb = writecb;
	bev->errorcb = eventcb;
	bev->cbarg = cbarg;
	bev_unlock(bev);
}

void bufferevent_getcb(struct bufferevent *bev, bufferevent_data_cb *readcb_ptr,
    bufferevent_data_cb *writecb_ptr, bufferevent_event_cb *eventcb_ptr,
    void **cbarg_ptr)
{
	CHECK_BEV_VOID("bufferevent_getcb", bev);
	bev_lock(bev);
	if (readcb_ptr)
		*readcb_ptr = bev->readcb;
	if (writecb_ptr)
		*writecb_ptr = bev->writecb;
	if (eventcb_ptr)
		*eventcb_ptr = bev->errorcb;
	if (cbarg_ptr)
		*cbarg_ptr = bev->cbarg;
	bev_unlock(bev);
}

struct evbuffer *bufferevent_get_input(struct bufferevent *bev)
{
	CHECK_BEV("bufferevent_get_input", bev, NULL);
	return bev->input;
}

struct evbuffer *bufferevent_get_output(struct bufferevent *bev)
{
	CHECK_BEV("bufferevent_get_output", bev, NULL);
	return bev->output;
}

struct event_base *bufferevent_get_base(struct bufferevent *bev)
{
	CHECK_BEV("bufferevent_get_base", bev, NULL);
	return bev->ev_base;
}

short bufferevent_get_enabled(struct bufferevent *bev)
{
	CHECK_BEV("bufferevent_get_enabled", bev, 0);
	bev_lock(bev);
	short r = bev->enabled;
	bev_unlock(bev);
	return r;
}

int bufferevent_get_priority(const struct bufferevent *bev)
{
	CHECK_BEV("bufferevent_get_priority", bev, -1);
	if (event_initialized(&bev->ev_read))
		return event_get_priority(&bev->ev_read);
	return event_base_get_npriorities(bev->ev_base) / 2;
}

int bufferevent_priority_set(struct bufferevent *bev, int pri)
{
	CHECK_BEV("bufferevent_priority_set", bev, -1);
	return goev_bufferevent_priority_set(bev, pri);
}

int bufferevent_base_set(struct event_base *base, struct bufferevent *bev)
{
	CHECK_BEV("bufferevent_base_set", bev, -1);
	return goev_bufferevent_base_set(base, bev);
}

/* ---- data ---------------------------------------------------------------- */

int bufferevent_write(struct bufferevent *bev, const void *data, size_t size)
{
	CHECK_BEV("bufferevent_write", bev, -1);
	return evbuffer_add(bev->output, data, size) == -1 ? -1 : 0;
}

int bufferevent_write_buffer(struct bufferevent *bev, struct evbuffer *buf)
{
	CHECK_BEV("bufferevent_write_buffer", bev, -1);
	return evbuffer_add_buffer(bev->output, buf) == -1 ? -1 : 0;
}

size_t bufferevent_read(struct bufferevent *bev, void *data, size_t size)
{
	CHECK_BEV("bufferevent_read", bev, 0);
	/* libevent returns evbuffer_remove's int as a size_t, -1 included. */
	return (size_t)evbuffer_remove(bev->input, data, size);
}

int bufferevent_read_buffer(struct bufferevent *bev, struct evbuffer *buf)
{
	CHECK_BEV("bufferevent_read_buffer", bev, -1);
	return evbuffer_add_buffer(buf, bev->input);
}

/* ---- enabling, watermarks, timeouts -------------------------------------- */

int bufferevent_enable(struct bufferevent *bev, short event)
{
	CHECK_BEV("bufferevent_enable", bev, -1);
	return goev_bufferevent_enable(bev, event);
}

int bufferevent_disable(struct bufferevent *bev, short event)
{
	CHECK_BEV("bufferevent_disable", bev, -1);
	return goev_bufferevent_disable(bev, event);
}

int bufferevent_set_timeouts(struct bufferevent *bev,
    const struct timeval *timeout_read, const struct timeval *timeout_write)
{
	CHECK_BEV("bufferevent_set_timeouts", bev, -1);
	return goev_bufferevent_set_timeouts(bev, (struct timeval *)timeout_read,
	    (struct timeval *)timeout_write);
}

void bufferevent_settimeout(struct bufferevent *bev, int timeout_read,
    int timeout_write)
{
	CHECK_BEV_VOID("bufferevent_settimeout", bev);
	struct timeval rd = {timeout_read, 0}, wr = {timeout_write, 0};
	goev_bufferevent_set_timeouts(bev, timeout_read ? &rd : NULL,
	    timeout_write ? &wr : NULL);
}

void bufferevent_setwatermark(struct bufferevent *bev, short events,
    size_t lowmark, size_t highmark)
{
	CHECK_BEV_VOID("bufferevent_setwatermark", bev);
	goev_bufferevent_setwatermark(bev, events, lowmark, highmark);
}

int bufferevent_getwatermark(struct bufferevent *bev, short events,
    size_t *lowmark, size_t *highmark)
{
	CHECK_BEV("bufferevent_getwatermark", bev, -1);
	const struct event_watermark *wm;
	if (events == EV_WRITE)
		wm = &bev->wm_write;
	else if (events == EV_READ)
		wm = &bev->wm_read;
	else
		return -1;
	bev_lock(bev);
	if (lowmark)
		*lowmark = wm->low;
	if (highmark)
		*highmark = wm->high;
	bev_unlock(bev);
	return 0;
}

/* ---- triggers, flush ----------------------------------------------------- */

void bufferevent_trigger(struct bufferevent *bev, short iotype, int options)
{
	CHECK_BEV_VOID("bufferevent_trigger", bev);
	goev_bufferevent_trigger(bev, iotype, options);
}

void bufferevent_trigger_event(struct bufferevent *bev, short what, int options)
{
	CHECK_BEV_VOID("bufferevent_trigger_event", bev);
	/* A deferred event callback sees the errno of this call. */
	goev_bufferevent_trigger_event(bev, what, options, errno);
}

int bufferevent_flush(struct bufferevent *bev, short iotype,
    enum bufferevent_flush_mode mode)
{
	CHECK_BEV("bufferevent_flush", bev, -1);
	return goev_bufferevent_flush(bev, iotype, (int)mode);
}

/* ---- lifetime and locking ------------------------------------------------ */

void bufferevent_free(struct bufferevent *bev)
{
	CHECK_BEV_VOID("bufferevent_free", bev);
	if (!ge_bev_sock_free_in_c(bev))
		goev_bufferevent_free(bev);
}

void bufferevent_incref(struct bufferevent *bev)
{
	CHECK_BEV_VOID("bufferevent_incref", bev);
	goev_bufferevent_incref(bev);
}

int bufferevent_decref(struct bufferevent *bev)
{
	CHECK_BEV("bufferevent_decref", bev, -1);
	return goev_bufferevent_decref(bev);
}

void bufferevent_lock(struct bufferevent *bev)
{
	CHECK_BEV_VOID("bufferevent_lock", bev);
	goev_bufferevent_lock(bev);
}

void bufferevent_unlock(struct bufferevent *bev)
{
	CHECK_BEV_VOID("bufferevent_unlock", bev);
	goev_bufferevent_unlock(bev);
}

/* ---- fds and kinds ------------------------------------------------------- */

int bufferevent_setfd(struct bufferevent *bev, evutil_socket_t fd)
{
	CHECK_BEV("bufferevent_setfd", bev, -1);
	return goev_bufferevent_setfd(bev, fd);
}

evutil_socket_t bufferevent_getfd(struct bufferevent *bev)
{
	CHECK_BEV("bufferevent_getfd", bev, -1);
	return goev_bufferevent_getfd(bev);
}

struct bufferevent *bufferevent_get_underlying(struct bufferevent *bev)
{
	CHECK_BEV("bufferevent_get_underlying", bev, NULL);
	return goev_bufferevent_get_underlying(bev);
}

/* ---- single read/write caps ---------------------------------------------- */

int bufferevent_set_max_single_read(struct bufferevent *bev, size_t size)
{
	CHECK_BEV("bufferevent_set_max_single_read", bev, -1);
	return (int)goev_bufferevent_max_single(bev, 0, 1, size);
}

int bufferevent_set_max_single_write(struct bufferevent *bev, size_t size)
{
	CHECK_BEV("bufferevent_set_max_single_write", bev, -1);
	return (int)goev_bufferevent_max_single(bev, 1, 1, size);
}

ev_ssize_t bufferevent_get_max_single_read(struct bufferevent *bev)
{
	CHECK_BEV("bufferevent_get_max_single_read", bev, -1);
	return goev_bufferevent_max_single(bev, 0, 0, 0);
}

ev_ssize_t bufferevent_get_max_single_write(struct bufferevent *bev)
{
	CHECK_BEV("bufferevent_get_max_single_write", bev, -1);
	return goev_bufferevent_max_single(bev, 1, 0, 0);
}

/* bufferevent_get_max_to_read/_write, which rate limits shape, are in
 * bufferevent_ratelim.c. */
