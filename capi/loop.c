/*
 * loop.c: event_base_loop in C, and the futex under a lockable base's lock.
 *
 * On an epoll base without a dispatch deadline the loop is core/loop's
 * Base.Loop step by step, with epoll_wait made from C (a system call made by
 * Go from inside a cgo callback costs more) and Go called only for the steps
 * that need its state: claiming the signal pipe, callbacks active next
 * time, fds the C side cannot activate, expired timers. A pass that finds
 * nothing to do costs no crossing. On a lockable base the loop holds the
 * base's lock except while it waits in epoll_wait and while a callback
 * runs, as libevent does, and other threads take the same lock.
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

/* ---- a lockable base's lock ---------------------------------------------
 *
 * The futex word in the header, with the protocol of core/loop's sharedLock
 * (0 free, 1 held, 2 held with waiters), so that the C loop and Go take the
 * same lock with no crossing. Bases without a lock skip it. */
void ge_futex_lock_slow(uint32_t *w)
{
	while (__atomic_exchange_n(w, 2, __ATOMIC_ACQUIRE) != 0)
		syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
}

/* ---- the loop ---------------------------------------------------------------- */

/* core/loop's maxEpollTimeoutMs: old kernels misbehave with longer waits. */
#define GE_MAX_EPOLL_TIMEOUT_MS (35 * 60 * 1000)

/* core/loop timeoutNext + the epoll backend's conversion: how long
 * epoll_wait may block, -1 for ever. */
static int next_timeout_ms(struct ge_base *b)
{
	if (b->heap_len == 0)
		return -1;
	const struct event *top = b->heap[0];
	struct timeval now = ge_base_gettime(b), tv = { 0, 0 };
	if (tv_less(&now, &top->ev_timeout))
		timersub(&top->ev_timeout, &now, &tv);
	int64_t ms;
	if (tv.tv_usec > 1000000 || tv.tv_sec > (INT64_MAX - 999) / 1000)
		ms = -1;
	else
		ms = (int64_t)tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
	if (ms < 0 || ms > GE_MAX_EPOLL_TIMEOUT_MS)
		ms = GE_MAX_EPOLL_TIMEOUT_MS;
	return (int)ms;
}

static inline void update_time_cache(struct ge_base *b)
{
	b->tv_cache.tv_sec = 0;
	if (!b->no_cache_time)
		b->tv_cache = ge_base_gettime(b);
}

static inline int max_for(const struct ge_base *b, int pri)
{
	return pri >= b->limit_after_prio ? (int)b->max_callbacks : INT32_MAX;
}

/* core/loop processActive without a dispatch deadline, from queue start. */
static int process_active(struct ge_base *b, int start)
{
	int c = 0;
	for (int i = start; i < b->npriorities; i++) {
		if (!b->active[i].head)
			continue;
		b->running_priority = i;
		c = ge_run_queue(b, i, max_for(b, i));
		if (c != 0)
			break;
	}
	b->running_priority = -1;
	return c;
}

/* process_active once Go has run count callbacks of queue pri (core/loop
 * CLoopIOReadyRun): ge_run_queue's checks for where Go stopped, the rest of
 * that queue, then the queues after it as process_active would. */
static int process_active_after(struct ge_base *b, int pri, int count)
{
	int max = max_for(b, pri), c;
	if (b->got_break) {
		c = -1;
	} else if (count >= max || b->got_continue) {
		c = count;
	} else {
		c = ge_run_queue(b, pri, max - count);
		if (c >= 0)
			c += count;
	}
	if (c == 0)
		return process_active(b, pri + 1);
	b->running_priority = -1;
	return c;
}

/* Runs the loop; -2 when it is running already (Go reports that). A
 * lockable base's lock is held throughout but for the wait and the
 * callbacks, as libevent holds its base lock. */
int ge_loop_in_c(struct ge_base *b, int flags)
{
	base_lock(b);
	if (b->running) {
		base_unlock(b);
		return -2;
	}
	b->running = 1;
	if (b->lockable) {
		b->owner_tid = (int32_t)syscall(SYS_gettid);
		b->owner_thread = (uint64_t)pthread_self();
	}
	b->tv_cache.tv_sec = 0;
	if (b->sig_set_base)
		goev_cloop_start(b);
	b->got_term = b->got_break = 0;
	int retval = 0, err = 0;
	for (;;) {
		b->got_continue = 0;
		b->n_deferreds = 0;
		if (b->got_term || b->got_break)
			break;
		int timeout_ms = 0;
		if (b->count_active == 0 && !(flags & EVLOOP_NONBLOCK))
			timeout_ms = next_timeout_ms(b);
		if (!(flags & EVLOOP_NO_EXIT_ON_EMPTY) &&
		    !(b->virtual_count > 0 || b->event_count > 0) && b->count_active == 0) {
			retval = 1;
			break;
		}
		if (b->later.head)
			goev_cloop_make_later_active(b);
		b->tv_cache.tv_sec = 0;
		b->waiting = 1;
		base_unlock(b);
		/* A wait that cannot block skips libc's cancellation
		 * bookkeeping (see GE_SYS_READV in goevent.h). */
		int n = timeout_ms == 0 ?
		    (int)syscall(SYS_epoll_wait, b->epfd, b->ep_events, (int)b->ep_cap, 0) :
		    epoll_wait(b->epfd, b->ep_events, (int)b->ep_cap, timeout_ms);
		int e = errno;
		base_lock(b);
		b->waiting = 0;
		if (n < 0) {
			if (e != EINTR) {
				goev_cloop_wait_error(e);
				err = e;
				retval = -1;
				break;
			}
			n = 0;
		}
		/* With fds ready, Go activates them and goes on with the pass
		 * (time cache, timers, the first Go callbacks to run) in the
		 * same crossing; pri says how far it got. */
		int pri = -2, ran = 0;
		if (n > 0 && !ge_io_ready_in_c(b, n))
			pri = goev_cloop_io_ready_run(b, n, &ran);
		if (pri == -2) {
			update_time_cache(b);
			if (b->heap_len > 0) {
				struct timeval now = ge_base_gettime(b);
				if (!tv_less(&now, &b->heap[0]->ev_timeout))
					goev_cloop_timeouts(b);
			}
		}
		if (pri >= 0) {
			int c = process_active_after(b, pri, ran);
			if ((flags & EVLOOP_ONCE) && b->count_active == 0 && c != 0)
				break;
		} else if (b->count_active != 0) {
			int c = process_active(b, 0);
			if ((flags & EVLOOP_ONCE) && b->count_active == 0 && c != 0)
				break;
		} else if (flags & EVLOOP_NONBLOCK) {
			break;
		}
	}
	b->tv_cache.tv_sec = 0;
	b->running = 0;
	base_unlock(b);
	if (retval < 0)
		errno = err;
	return retval;
}
