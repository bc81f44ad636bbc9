/*
 * epoll.c: the fd map and the epoll backend in C.
 *
 * Adding or deleting an I/O event on an epoll base whose loop runs in C
 * changes the fd map (struct ge_io, shared with core/loop's evmap.go) and
 * makes at most one epoll_ctl; done here, a bufferevent that starts and
 * stops writing once per message costs no crossing for it. The steps are
 * evmap.go's ioAdd/ioDel and epoll_linux.go's ctl, in the same order;
 * whatever they do not cover (an fd beyond the map, which Go grows; counts
 * at their limit; signals; what c_lock leaves to Go) goes to Go before
 * anything changes. The fds epoll_wait reports are activated here too.
 * (poll and select bases, chosen through event_config_avoid_method or
 * EVENT_NO*, run entirely in the engine.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "loop.h"

#define GE_RWC (EV_READ | EV_WRITE | EV_CLOSED)

static inline short io_mask(const struct ge_io *e)
{
	return (short)((e->nread ? EV_READ : 0) | (e->nwrite ? EV_WRITE : 0) |
	    (e->nclose ? EV_CLOSED : 0));
}

static inline uint32_t epoll_bits(short ev)
{
	return (ev & EV_READ ? EPOLLIN : 0) | (ev & EV_WRITE ? EPOLLOUT : 0) |
	    (ev & EV_CLOSED ? EPOLLRDHUP : 0);
}

static const char *epoll_op_name(int op)
{
	return op == EPOLL_CTL_ADD ? "ADD" : op == EPOLL_CTL_MOD ? "MOD" : "DEL";
}

/* A change's code in libevent's failure line: add 1 or del 2, with EV_ET. */
static int change_code(short res, short kind, int del, int et)
{
	return res & kind ? (del ? 2 : 1) | (et ? EV_ET : 0) : 0;
}

static const char *change_name(int code)
{
	return code & 1 ? "add" : code & 2 ? "del" : "none";
}

/* One epoll_ctl with the retries libevent makes: a MOD of an fd epoll no
 * longer knows becomes an ADD, an ADD of one it knows a MOD, and a DEL of a
 * closed fd is no error. 0, or -1 with errno after one log line, worded as
 * libevent's (old: the fd's events before; res: those added, or with del
 * removed). */
static int epoll_ctl_retry(struct ge_base *b, int op, int fd, uint32_t bits, int et,
    short old, short res, int del)
{
	struct epoll_event e;
	memset(&e, 0, sizeof e);
	e.events = bits | (et ? EPOLLET : 0);
	e.data.fd = fd;
	if (epoll_ctl(b->epfd, op, fd, &e) == 0)
		return 0;
	int err = errno, alt = -1;
	if (op == EPOLL_CTL_MOD && err == ENOENT)
		alt = EPOLL_CTL_ADD;
	else if (op == EPOLL_CTL_ADD && err == EEXIST)
		alt = EPOLL_CTL_MOD;
	else if (op == EPOLL_CTL_DEL && (err == ENOENT || err == EBADF || err == EPERM))
		return 0;
	if (alt >= 0) {
		if (epoll_ctl(b->epfd, alt, fd, &e) == 0)
			return 0;
		err = errno;
		ge_log(GE_LOG_WARN, "Epoll %s(%u) on %d retried as %s; that failed too: %s",
		    epoll_op_name(op), (unsigned)e.events, fd, epoll_op_name(alt), strerror(err));
	} else {
		int rc = change_code(res, EV_READ, del, et), wc = change_code(res, EV_WRITE, del, et),
		    cc = change_code(res, EV_CLOSED, del, et);
		ge_log(GE_LOG_WARN, "Epoll %s(%u) on fd %d failed. Old events were %d; read change "
		    "was %d (%s); write change was %d (%s); close change was %d (%s): %s",
		    epoll_op_name(op), (unsigned)e.events, fd, old, rc, change_name(rc), wc,
		    change_name(wc), cc, change_name(cc), strerror(err));
	}
	errno = err;
	return -1;
}

/* The fd map slot of an I/O event C may register or unregister, or NULL. */
static inline struct ge_io *io_slot(const struct ge_base *b, const struct event *ev)
{
	int fd = ev->ev_fd;
	if (!b->c_loop || b->epfd < 0 || fd < 0 || fd >= b->io_cap ||
	    !(ev->ev_events & GE_RWC) || (ev->ev_events & EV_SIGNAL))
		return NULL;
	return &b->io_map[fd];
}

/* core/loop keeps the previous event itself (not the address of its link)
 * in le_prev, as cbq_prev does for the active queues. */
#define IO_NEXT(ev) ((ev)->ev_.ev_io.ev_io_next.le_next)
static inline struct event *io_prev(const struct event *ev)
{
	return (struct event *)(void *)ev->ev_.ev_io.ev_io_next.le_prev;
}
static inline void io_set_prev(struct event *ev, struct event *p)
{
	ev->ev_.ev_io.ev_io_next.le_prev = (struct event **)(void *)p;
}

/* ioAdd + queueInsertInserted: 1 done, 0 nothing done (Go's turn), -1
 * epoll refused (nothing done, errno set). */
static int io_add_in_c(struct ge_base *b, struct event *ev, struct ge_io *e)
{
	short old = io_mask(e), res = 0;
	unsigned nr = e->nread, nw = e->nwrite, nc = e->nclose;
	if ((ev->ev_events & EV_READ) && ++nr == 1)
		res |= EV_READ;
	if ((ev->ev_events & EV_WRITE) && ++nw == 1)
		res |= EV_WRITE;
	if ((ev->ev_events & EV_CLOSED) && ++nc == 1)
		res |= EV_CLOSED;
	if (nr > 0xffff || nw > 0xffff || nc > 0xffff)
		return 0; /* Go refuses it, with its warning */
	if (res && epoll_ctl_retry(b, old & GE_RWC ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
	    ev->ev_fd, epoll_bits((short)((old | res) & GE_RWC)), ev->ev_events & EV_ET,
	    old, res, 0) < 0)
		return -1;
	e->nread = (uint16_t)nr;
	e->nwrite = (uint16_t)nw;
	e->nclose = (uint16_t)nc;
	io_set_prev(ev, NULL);
	IO_NEXT(ev) = e->head;
	if (e->head)
		io_set_prev(e->head, ev);
	e->head = ev;
	count_inc(b, ev->ev_evcallback.evcb_flags);
	ev->ev_evcallback.evcb_flags |= EVLIST_INSERTED;
	return 1;
}

/* queueRemoveInserted + ioDel: 0, or -1 if epoll refused (the event is
 * unregistered all the same, as in Go and libevent). */
static int io_del_in_c(struct ge_base *b, struct event *ev, struct ge_io *e)
{
	count_dec(b, ev->ev_evcallback.evcb_flags);
	ev->ev_evcallback.evcb_flags &= ~EVLIST_INSERTED;
	short old = io_mask(e), res = 0;
	if ((ev->ev_events & EV_READ) && --e->nread == 0)
		res |= EV_READ;
	if ((ev->ev_events & EV_WRITE) && --e->nwrite == 0)
		res |= EV_WRITE;
	if ((ev->ev_events & EV_CLOSED) && --e->nclose == 0)
		res |= EV_CLOSED;
	int r = 0;
	if (res) {
		short left = old & ~res & GE_RWC;
		int et = ev->ev_events & EV_ET;
		r = left ? epoll_ctl_retry(b, EPOLL_CTL_MOD, ev->ev_fd, epoll_bits(left), et, old, res, 1) :
		    epoll_ctl_retry(b, EPOLL_CTL_DEL, ev->ev_fd, epoll_bits(old & GE_RWC), et, old, res, 1);
	}
	struct event *next = IO_NEXT(ev), *prev = io_prev(ev);
	if (prev)
		IO_NEXT(prev) = next;
	else if (e->head == ev)
		e->head = next;
	if (next)
		io_set_prev(next, prev);
	IO_NEXT(ev) = NULL;
	io_set_prev(ev, NULL);
	return r;
}

/* event_add of an I/O event that is not yet registered (or, without a
 * timeout, one that is): 1 done, 0 Go's turn, -1 failed (errno set), 2
 * registered with the timeout left to Go (a common timeout, a full heap),
 * to ask once b is unlocked. */
int ge_add_io_in_c(struct ge_base *b, struct event *ev, const struct timeval *tv)
{
	uint16_t fl = ev->ev_evcallback.evcb_flags;
	struct ge_io *e = io_slot(b, ev);
	if (!e || (fl & EVLIST_FINALIZING))
		return 0;
	if (fl & (EVLIST_INSERTED | EVLIST_ACTIVE | EVLIST_ACTIVE_LATER))
		return !tv && (fl & EVLIST_INSERTED); /* nothing to register */
	int r = io_add_in_c(b, ev, e);
	if (r <= 0 || !tv || ge_add_timer_in_c(b, ev, tv))
		return r;
	return 2;
}

/* Whether ge_del_in_c can delete ev (not finalizing) without leaving any
 * of it to Go: the checks it makes before changing anything. */
int ge_del_ok_in_c(const struct ge_base *b, const struct event *ev)
{
	uint16_t fl = ev->ev_evcallback.evcb_flags;
	if ((fl & EVLIST_INSERTED) && !io_slot(b, ev))
		return 0;
	if ((ev->ev_events & EV_SIGNAL) || (fl & EVLIST_ACTIVE_LATER))
		return 0;
	if ((fl & EVLIST_TIMEOUT) && is_common(&ev->ev_timeout))
		return 0;
	return 1;
}

/* event_del when nothing but the timer and the active queue are left to
 * undo (core/loop delLocked). Returns 1 if done, 0 if Go must do it. */
int ge_del_in_c(struct ge_base *b, struct event *ev)
{
	struct event_callback *cb = &ev->ev_evcallback;
	uint16_t fl = cb->evcb_flags;
	if (fl & EVLIST_FINALIZING)
		return 1; /* libevent ignores it */
	if (!ge_del_ok_in_c(b, ev))
		return 0;
	struct ge_io *e = (fl & EVLIST_INSERTED) ? io_slot(b, ev) : NULL;
	if (fl & EVLIST_TIMEOUT) {
		count_dec(b, fl);
		cb->evcb_flags &= ~EVLIST_TIMEOUT;
		ge_heap_erase(b, ev);
	}
	if (cb->evcb_flags & EVLIST_ACTIVE)
		queue_remove_active(b, cb);
	if (e && io_del_in_c(b, ev, e) < 0)
		return -1;
	return 1;
}

/* ---- ready fds in C -------------------------------------------------------
 *
 * core/loop keeps each fd's event list linked through the events' own
 * ev_io_next and keeps the fd map off the Go heap (io_map), so the fds epoll_wait
 * reports can be activated here as epollBackend.activate and ioActive do
 * it. Go does it instead when the result array is full (it grows the array)
 * or an event to activate is on the next iteration's queue. */

/* epollBackend.activate's translation of epoll's bits. */
static inline short epoll_what(uint32_t e)
{
	if (e & EPOLLERR)
		return EV_READ | EV_WRITE;
	if ((e & EPOLLHUP) && !(e & EPOLLRDHUP))
		return EV_READ | EV_WRITE;
	short what = 0;
	if (e & EPOLLIN)
		what |= EV_READ;
	if (e & EPOLLOUT)
		what |= EV_WRITE;
	if (e & EPOLLRDHUP)
		what |= EV_CLOSED;
	return what;
}

static inline struct event *io_head(const struct ge_base *b, int fd)
{
	return fd >= 0 && fd < b->io_cap ? b->io_map[fd].head : NULL;
}

int ge_io_ready_in_c(struct ge_base *b, int n)
{
	const struct epoll_event *r = b->ep_events;
	if (n >= b->ep_cap)
		return 0;
	for (int i = 0; i < n; i++) {
		short what = epoll_what(r[i].events);
		for (struct event *ev = io_head(b, r[i].data.fd); ev && what;
		    ev = ev->ev_.ev_io.ev_io_next.le_next) {
			if ((ev->ev_events & what) &&
			    (ev->ev_evcallback.evcb_flags & EVLIST_ACTIVE_LATER))
				return 0;
		}
	}
	for (int i = 0; i < n; i++) {
		short what = epoll_what(r[i].events);
		for (struct event *ev = io_head(b, r[i].data.fd); ev && what;
		    ev = ev->ev_.ev_io.ev_io_next.le_next) {
			if (!(ev->ev_events & what))
				continue;
			struct event_callback *cb = &ev->ev_evcallback;
			short res = ev->ev_events & (what | EV_ET);
			if (cb->evcb_flags & EVLIST_FINALIZING)
				continue;
			if (cb->evcb_flags & EVLIST_ACTIVE) {
				ev->ev_res |= res;
				continue;
			}
			ev->ev_res = res;
			if ((int64_t)cb->evcb_pri < b->running_priority)
				b->got_continue = 1;
			queue_insert_active(b, cb);
		}
	}
	return 1;
}

/* event_reinit in a child that must load a fresh engine: while the new
 * runtime starts on its own thread, register every fd the base watches with
 * a new epoll instance (core/loop reregister's fd half, libevent's
 * evmap_io_reinit), which Go's Reinit then adopts instead of creating one.
 * 0, or -1 if any registration failed (the caller drops epfd and Go does
 * all of it, with its log lines). */
int ge_epoll_prepare_reinit(struct event_base *base, int epfd)
{
	struct ge_base *b = (struct ge_base *)(void *)base;
	int r = 0;
	base_lock(b);
	for (int64_t fd = 0; fd < b->io_cap && r == 0; fd++) {
		const struct ge_io *e = &b->io_map[fd];
		short mask = io_mask(e);
		if (!mask)
			continue;
		struct epoll_event ev;
		memset(&ev, 0, sizeof ev);
		ev.events = epoll_bits(mask);
		if (e->head && (e->head->ev_events & EV_ET))
			ev.events |= EPOLLET;
		ev.data.fd = (int)fd;
		r = epoll_ctl(epfd, EPOLL_CTL_ADD, (int)fd, &ev);
	}
	base_unlock(b);
	return r;
}
