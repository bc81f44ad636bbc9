/*
 * loop.h: the event base as the C library and the engine share it, and the
 * small steps of the loop's C paths that several of its files take (the
 * base lock, the active queues, the timer heap's ordering, the decision
 * whether C may act on an event at all). Internal to capi/.
 *
 * Who does what: config.c (event_config), base.c (bases and the loop's
 * public functions), event.c (events), queue.c (active and deferred
 * queues), timer.c (the timer heap), epoll.c (the fd map and the epoll
 * backend), loop.c (the loop itself), signal.c (the signal handler). The
 * rules are core/loop's, in Go; each C step names the Go function it
 * stands in for.
 */
#ifndef GOEVENT_LOOP_H
#define GOEVENT_LOOP_H

#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "internal.h"

/* An active queue: callbacks linked through their evcb_active_next fields
 * (tqe_next is the next callback, tqe_prev holds the previous callback, not
 * TAILQ's pointer-to-next: core/loop's cbList). */
struct ge_cbq {
	struct event_callback *head, *tail;
};

/* What a struct event_base * points to: a header in memory core/loop
 * allocates, naming the Go-side base by handle, then the loop state that C
 * shares with Go. Mirrors baseHeader in core/loop/base.go (whose layout test
 * pins the offsets).
 *
 * Ownership of the shared part: on a base without a lock (no evthread
 * callbacks, or EVENT_BASE_FLAG_NOLOCK) only the thread running the loop may
 * use the base, as in libevent, and C and Go take turns on that thread, so
 * both read and write it freely. On a lockable base C touches it only while
 * holding the base's lock (lock_word, shared with Go): the loop, and the
 * fast paths of event_add/del/active/pending (c_lock); every
 * operation goes to Go, which serialises them with the base's mutex. */
/* One fd's slot in the fd map (core/loop ioEntry): its events, linked
 * through their ev_io_next, newest first, and how many want each kind of
 * readiness. */
struct ge_io {
	struct event *head;
	uint16_t nread, nwrite, nclose, pad_;
};

struct ge_base {
	uint32_t magic;
	uint32_t handle;
	int32_t npriorities;
	int32_t lockable;
	int32_t method;   /* index in ge_methods */
	int32_t features; /* EV_FEATURE_* of the backend */
	struct ge_cbq *active;          /* 24: npriorities queues */
	struct event_callback *current; /* 32: callback running now */
	int64_t count_active;           /* 40 */
	int64_t count_active_max;       /* 48 */
	int64_t event_count;            /* 56 */
	int64_t event_count_max;        /* 64 */
	int64_t running_priority;       /* 72: -1 between passes */
	uint8_t got_break;              /* 80 */
	uint8_t got_continue;           /* 81 */
	uint8_t got_term;               /* 82 */
	uint8_t waiting;                /* 83: blocked in the backend */
	uint32_t pad_;                  /* 84 */
	struct event **heap;            /* 88: timer min-heap */
	int64_t heap_len;               /* 96 */
	int64_t heap_cap;               /* 104 */
	struct timeval tv_cache;        /* 112: tv_sec == 0: none */
	struct timeval clock_diff;      /* 128: wall - monotonic */
	int64_t last_clock_update;      /* 144 */
	uint8_t precise;                /* 152 */
	uint8_t running;                /* 153 */
	uint8_t no_cache_time;          /* 154 */
	uint8_t c_loop;                 /* 155: event_base_loop runs in C */
	uint8_t sig_set_base;           /* 156: claim the signal pipe on start */
	uint8_t pad2_[3];
	int32_t epfd;                   /* 160 */
	int32_t pad3_;
	void *ep_events;                /* 168: struct epoll_event[ep_cap] */
	int64_t ep_cap;                 /* 176 */
	int64_t virtual_count;          /* 184 */
	int64_t n_deferreds;            /* 192 */
	struct ge_cbq later;            /* 200: active next iteration */
	int64_t max_callbacks;          /* 216 */
	int64_t limit_after_prio;       /* 224 */
	struct ge_io *io_map;           /* 232: the fd map, io_cap entries */
	int64_t io_cap;                 /* 240 */
	uint32_t lock_word;             /* 248: a lockable base's lock */
	int32_t current_waiters;        /* 252 */
	int32_t owner_tid;              /* 256: thread running the loop */
	int32_t pad4_;
	uint64_t owner_thread;          /* 264: its pthread_t (C loop only) */
};

#define GE_BASE_MAGIC 0x6765b45eu

/* Compile-time checks that the header matches core/loop's baseHeader (its
 * layout test pins the Go side). */
typedef char ge_base_size_ok[sizeof(struct ge_base) == 272 ? 1 : -1];
typedef char ge_base_lock_ok[offsetof(struct ge_base, lock_word) == 248 ? 1 : -1];
typedef char ge_base_io_ok[offsetof(struct ge_base, io_map) == 232 ? 1 : -1];
typedef char ge_base_running_ok[offsetof(struct ge_base, running) == 153 ? 1 : -1];
typedef char ge_base_epfd_ok[offsetof(struct ge_base, epfd) == 160 ? 1 : -1];
typedef char ge_base_later_ok[offsetof(struct ge_base, later) == 200 ? 1 : -1];
typedef char ge_base_limit_ok[offsetof(struct ge_base, limit_after_prio) == 224 ? 1 : -1];
typedef char ge_base_heap_ok[offsetof(struct ge_base, heap) == 88 ? 1 : -1];
typedef char ge_base_clock_ok[offsetof(struct ge_base, last_clock_update) == 144 ? 1 : -1];
typedef char ge_base_precise_ok[offsetof(struct ge_base, precise) == 152 ? 1 : -1];
typedef char ge_base_active_ok[offsetof(struct ge_base, active) == 24 ? 1 : -1];
typedef char ge_base_count_ok[offsetof(struct ge_base, count_active) == 40 ? 1 : -1];
typedef char ge_base_rpri_ok[offsetof(struct ge_base, running_priority) == 72 ? 1 : -1];
typedef char ge_base_wait_ok[offsetof(struct ge_base, waiting) == 83 ? 1 : -1];
typedef char ge_base_npri_ok[offsetof(struct ge_base, npriorities) == 8 ? 1 : -1];
typedef char ge_base_method_ok[offsetof(struct ge_base, method) == 16 ? 1 : -1];
#define GE_BASE(b) ((const struct ge_base *)(const void *)(b))

/* event_init's base, used by the compat API and wherever libevent accepts a
 * NULL base (base.c). */
extern struct event_base *ge_current_base;

/* Values libevent keeps in its private headers. */
#define GE_CLOSURE_EVENT 0
#define GE_CLOSURE_EVENT_SIGNAL 1
#define GE_CLOSURE_EVENT_PERSIST 2
#define GE_CLOSURE_CB_SELF 3
#define GE_CLOSURE_EVENT_FINALIZE 5
#define GE_CLOSURE_EVENT_FINALIZE_FREE 6
#define GE_LIST_QUEUED (EVLIST_TIMEOUT | EVLIST_INSERTED | EVLIST_ACTIVE | \
	EVLIST_ACTIVE_LATER | EVLIST_FINALIZING)
#define GE_DEL_NOBLOCK 0
#define GE_DEL_BLOCK 1
#define GE_DEL_AUTOBLOCK 2

static inline void set_errno_from(int r, int e)
{
	if (r < 0 && e)
		errno = e;
}

/* ---- event_config (config.c) -------------------------------------------- */

struct ge_avoid {
	struct ge_avoid *next;
	char *method;
};

struct event_config {
	int flags;
	int require_features;
	int n_cpus_hint;
	struct timeval max_dispatch_interval; /* tv_sec < 0: none */
	int max_dispatch_callbacks;
	int limit_callbacks_after_prio;
	struct ge_avoid *avoid;
};

/* Whether cfg avoids the method named m (event_config_avoid_method). */
int ge_config_avoids(const struct event_config *cfg, const char *m);

/* ---- a lockable base's lock (loop.c) ---------------------------------------
 *
 * The futex word in the header, with the protocol of core/loop's sharedLock
 * (0 free, 1 held, 2 held with waiters), so that the C loop and Go take the
 * same lock with no crossing. Bases without a lock skip it. */
void ge_futex_lock_slow(uint32_t *w);

static inline void base_lock(struct ge_base *b)
{
	uint32_t free_ = 0;
	if (b->lockable && !__atomic_compare_exchange_n(&b->lock_word, &free_, 1, 0,
	    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		ge_futex_lock_slow(&b->lock_word);
}

static inline void base_unlock(struct ge_base *b)
{
	if (b->lockable && __atomic_fetch_sub(&b->lock_word, 1, __ATOMIC_RELEASE) != 1) {
		__atomic_store_n(&b->lock_word, 0, __ATOMIC_RELEASE);
		syscall(SYS_futex, &b->lock_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	}
}

/* ---- the active queues (queue.c) ------------------------------------------ */

static inline struct event_callback *cbq_prev(const struct event_callback *cb)
{
	return (struct event_callback *)(void *)cb->evcb_active_next.tqe_prev;
}

static inline void cbq_set_prev(struct event_callback *cb, struct event_callback *p)
{
	cb->evcb_active_next.tqe_prev = (struct event_callback **)(void *)p;
}

static inline struct ge_cbq *queue_for(struct ge_base *b, unsigned pri)
{
	/* Clamped as in Go: an event assigned before the base had fewer
	 * priorities may carry a larger one. */
	if (pri >= (unsigned)b->npriorities)
		pri = (unsigned)b->npriorities - 1;
	return &b->active[pri];
}

/* Counts cb into a queue (incCount and the active counters) and appends
 * it to q with the given list flag. */
static inline void queue_push(struct ge_base *b, struct ge_cbq *q, struct event_callback *cb,
    uint16_t flag)
{
	if (!(cb->evcb_flags & EVLIST_INTERNAL)) {
		if (++b->event_count > b->event_count_max)
			b->event_count_max = b->event_count;
	}
	cb->evcb_flags |= flag;
	if (++b->count_active > b->count_active_max)
		b->count_active_max = b->count_active;
	cb->evcb_active_next.tqe_next = NULL;
	cbq_set_prev(cb, q->tail);
	if (q->tail)
		q->tail->evcb_active_next.tqe_next = cb;
	else
		q->head = cb;
	q->tail = cb;
}

static inline void queue_insert_active(struct ge_base *b, struct event_callback *cb)
{
	if (cb->evcb_flags & EVLIST_ACTIVE)
		return;
	queue_push(b, queue_for(b, cb->evcb_pri), cb, EVLIST_ACTIVE);
}

static inline void queue_remove_active(struct ge_base *b, struct event_callback *cb)
{
	if (!(cb->evcb_flags & EVLIST_INTERNAL))
		b->event_count--;
	cb->evcb_flags &= ~EVLIST_ACTIVE;
	b->count_active--;
	struct ge_cbq *q = queue_for(b, cb->evcb_pri);
	struct event_callback *next = cb->evcb_active_next.tqe_next, *prev = cbq_prev(cb);
	if (prev)
		prev->evcb_active_next.tqe_next = next;
	else
		q->head = next;
	if (next)
		cbq_set_prev(next, prev);
	else
		q->tail = prev;
	cb->evcb_active_next.tqe_next = NULL;
	cbq_set_prev(cb, NULL);
}

/* queueInsertActiveLater: active at the next iteration. */
static inline void queue_insert_active_later(struct ge_base *b, struct event_callback *cb)
{
	if (cb->evcb_flags & (EVLIST_ACTIVE | EVLIST_ACTIVE_LATER))
		return;
	queue_push(b, &b->later, cb, EVLIST_ACTIVE_LATER);
}

/* event_active when it needs nothing but the queues (b from c_lock).
 * Returns 1 if done, 0 if Go must do it. */
static inline int active_in_c(struct ge_base *b, struct event *ev, int res)
{
	struct event_callback *cb = &ev->ev_evcallback;
	if (cb->evcb_flags & EVLIST_FINALIZING)
		return 1;
	switch (cb->evcb_flags & (EVLIST_ACTIVE | EVLIST_ACTIVE_LATER)) {
	case EVLIST_ACTIVE:
		ev->ev_res |= (short)res;
		return 1;
	case 0:
		break;
	default:
		return 0;
	}
	if (ev->ev_events & EV_SIGNAL)
		return 0;
	ev->ev_res = (short)res;
	if ((int64_t)cb->evcb_pri < b->running_priority)
		b->got_continue = 1;
	queue_insert_active(b, cb);
	return 1;
}

/* core/loop's processQueue for queue pri (queue.c). */
int ge_run_queue(void *base, int pri, int max_to_process);

/* ---- the timer heap (timer.c) --------------------------------------------- */

/* Timeouts libevent marks as common in tv_usec, and the plain bits. */
#define GE_USEC_MASK 0x000fffffL
#define GE_COMMON_MASK 0xf0000000L
#define GE_COMMON_MAGIC 0x50000000L
/* core/loop's clockSyncInterval. */
#define GE_CLOCK_SYNC_INTERVAL 5

static inline int64_t heap_idx(const struct event *ev)
{
	int64_t i;
	memcpy(&i, &ev->ev_timeout_pos, sizeof(i));
	return i;
}

static inline void set_heap_idx(struct event *ev, int64_t i)
{
	memcpy(&ev->ev_timeout_pos, &i, sizeof(i));
}

static inline int tv_less(const struct timeval *a, const struct timeval *b)
{
	if (a->tv_sec == b->tv_sec)
		return a->tv_usec < b->tv_usec;
	return a->tv_sec < b->tv_sec;
}

/* x's deadline is later than y's. */
static inline int heap_greater(const struct event *x, const struct event *y)
{
	return tv_less(&y->ev_timeout, &x->ev_timeout);
}

static inline struct timeval tv_add(struct timeval a, struct timeval b)
{
	struct timeval r = { a.tv_sec + b.tv_sec, a.tv_usec + b.tv_usec };
	if (r.tv_usec >= 1000000) {
		r.tv_sec++;
		r.tv_usec -= 1000000;
	}
	return r;
}

static inline void count_inc(struct ge_base *b, uint16_t flags)
{
	if (!(flags & EVLIST_INTERNAL) && ++b->event_count > b->event_count_max)
		b->event_count_max = b->event_count;
}

static inline void count_dec(struct ge_base *b, uint16_t flags)
{
	if (!(flags & EVLIST_INTERNAL))
		b->event_count--;
}

static inline int is_common(const struct timeval *tv)
{
	return (tv->tv_usec & GE_COMMON_MASK) == GE_COMMON_MAGIC;
}

/* core/loop's gettime: the cached loop time, else the monotonic clock. */
struct timeval ge_base_gettime(struct ge_base *b);
/* Takes ev off the timer heap if it is there. */
void ge_heap_erase(struct ge_base *b, struct event *ev);
/* event_add of a timer: 1 done, 0 Go's turn. */
int ge_add_timer_in_c(struct ge_base *b, struct event *ev, const struct timeval *tv);
/* event_pending from the event's fields (timer.c). */
int ge_pending_in_c(const struct ge_base *b, const struct event *ev, short events,
    struct timeval *tv);

/* The base of ev if C may work on it, locked if it has a lock (release
 * with c_unlock), or NULL for Go's path: a base Go does not know, one
 * blocked in the backend (a change may have to wake it, which Go does), or
 * on a lockable base an event whose callback is running on another thread
 * than the caller (event_del must wait for it, which Go does). */
static inline struct ge_base *c_lock(const struct event *ev)
{
	struct ge_base *b = (struct ge_base *)(void *)ev->ev_base;
	if (b->magic != GE_BASE_MAGIC)
		return NULL;
	if (!b->lockable)
		return b->waiting ? NULL : b;
	base_lock(b);
	if (b->waiting || (b->current == &ev->ev_evcallback &&
	    b->owner_thread != (uint64_t)pthread_self())) {
		base_unlock(b);
		return NULL;
	}
	return b;
}

static inline void c_unlock(struct ge_base *b)
{
	base_unlock(b);
}

/* ---- fd events (epoll.c) ---------------------------------------------------- */

/* event_add of an I/O event: 1 done, 0 Go's turn, -1 failed, 2 registered
 * with the timeout left to Go. */
int ge_add_io_in_c(struct ge_base *b, struct event *ev, const struct timeval *tv);
/* event_del: 1 done, 0 Go's turn, -1 failed (errno set). */
int ge_del_in_c(struct ge_base *b, struct event *ev);
/* Whether ge_del_in_c would do it all (for an event not finalizing). */
int ge_del_ok_in_c(const struct ge_base *b, const struct event *ev);
/* Activates the n fds epoll_wait reported; 0 if Go must. */
int ge_io_ready_in_c(struct ge_base *b, int n);

/* ---- the loop (loop.c) -------------------------------------------------------- */

/* event_base_loop on a c_loop base; -2 when it is running already. */
int ge_loop_in_c(struct ge_base *b, int flags);

#endif
