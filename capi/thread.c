/*
 * thread.c: event2/thread.h: the evthread lock, condition and thread-id
 * callbacks (evthread_use_pthreads or the program's own), lock debugging,
 * and the lock calls the rest of goevent makes through them. Plain C.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/time.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "internal.h"

static struct evthread_lock_callbacks ge_lockfns;
static int ge_threads_on;
static unsigned long (*ge_id_fn)(void);
static struct evthread_condition_callbacks ge_condfns;

int ge_threads_enabled(void) { return ge_threads_on; }

/* Set by evthread_enable_lock_debugging; see there. */
static int ge_lock_debugging;
static struct evthread_lock_callbacks ge_inner_lockfns;

int evthread_set_lock_callbacks(const struct evthread_lock_callbacks *cbs)
{
	if (ge_lock_debugging && cbs) {
		/* Debug wrappers are installed: real callbacks go underneath
		 * them, allowed once, before any lock was allocated. */
		if (ge_inner_lockfns.alloc)
			return (ge_inner_lockfns.alloc == cbs->alloc) ? 0 : -1;
		if (!(cbs->alloc && cbs->free && cbs->lock && cbs->unlock))
			return -1;
		ge_inner_lockfns = *cbs;
		return 0;
	}
	if (!cbs) {
		if (ge_threads_on)
			ge_log(GE_LOG_WARN, "Trying to disable lock functions after "
			    "they have been set up will probably not work.");
		memset(&ge_lockfns, 0, sizeof(ge_lockfns));
		ge_threads_on = 0;
		return 0;
	}
	if (ge_threads_on) {
		/* Same table again is fine; a different one cannot be honoured
		 * because locks already allocated belong to the old one. */
		if (ge_lockfns.lock_api_version == cbs->lock_api_version &&
		    ge_lockfns.supported_locktypes == cbs->supported_locktypes &&
		    ge_lockfns.alloc == cbs->alloc && ge_lockfns.free == cbs->free &&
		    ge_lockfns.lock == cbs->lock && ge_lockfns.unlock == cbs->unlock)
			return 0;
		ge_log(GE_LOG_WARN, "Can't change lock callbacks once they have been "
		    "initialized.");
		return -1;
	}
	if (cbs->alloc && cbs->free && cbs->lock && cbs->unlock) {
		ge_lockfns = *cbs;
		ge_threads_on = 1;
		return 0;
	}
	return -1;
}

int evthread_set_condition_callbacks(const struct evthread_condition_callbacks *cbs)
{
	if (!cbs) {
		memset(&ge_condfns, 0, sizeof(ge_condfns));
		return 0;
	}
	if (cbs->alloc_condition && cbs->free_condition &&
	    cbs->signal_condition && cbs->wait_condition) {
		ge_condfns = *cbs;
		return 0;
	}
	return -1;
}

void evthread_set_id_callback(unsigned long (*id_fn)(void))
{
	ge_id_fn = id_fn;
}

/* Lock debugging, as libevent does it: every lock becomes a small record
 * that counts holds and checks the owner, wrapping the real lock when real
 * lock callbacks exist. Like libevent, enabling it makes lock allocation
 * succeed even without evthread_use_pthreads, so BEV_OPT_THREADSAFE objects
 * can be created (test-ratelim relies on that). */
struct ge_debug_lock {
	unsigned locktype;
	int count;
	unsigned long owner;
	void *inner;
};


static unsigned long ge_self_id(void)
{
	return ge_id_fn ? ge_id_fn() : (unsigned long)pthread_self();
}

static void *ge_debug_alloc(unsigned locktype)
{
	struct ge_debug_lock *l = ge_malloc(sizeof(*l));
	if (!l)
		return NULL;
	l->locktype = locktype;
	l->count = 0;
	l->owner = 0;
	l->inner = NULL;
	if (ge_inner_lockfns.alloc) {
		l->inner = ge_inner_lockfns.alloc(locktype | EVTHREAD_LOCKTYPE_RECURSIVE);
		if (!l->inner) {
			ge_free(l);
			return NULL;
		}
	}
	return l;
}

static void ge_debug_free(void *lock, unsigned locktype)
{
	struct ge_debug_lock *l = lock;
	if (l->count != 0)
		ge_fatal("evthread lock debugging: freeing a held lock");
	if (l->inner)
		ge_inner_lockfns.free(l->inner, locktype | EVTHREAD_LOCKTYPE_RECURSIVE);
	ge_free(l);
}

static int ge_debug_lock(unsigned mode, void *lock)
{
	struct ge_debug_lock *l = lock;
	if (l->inner) {
		int r = ge_inner_lockfns.lock(mode, l->inner);
		if (r)
			return r;
	}
	if (l->count > 0 && !(l->locktype & EVTHREAD_LOCKTYPE_RECURSIVE))
		ge_fatal("evthread lock debugging: non-recursive lock taken twice");
	l->owner = ge_self_id();
	l->count++;
	return 0;
}

static int ge_debug_unlock(unsigned mode, void *lock)
{
	struct ge_debug_lock *l = lock;
	if (l->count <= 0 || l->owner != ge_self_id())
		ge_fatal("evthread lock debugging: unlocking a lock not held by this thread");
	if (--l->count == 0)
		l->owner = 0;
	return l->inner ? ge_inner_lockfns.unlock(mode, l->inner) : 0;
}

void evthread_enable_lock_debugging(void)
{
	if (ge_lock_debugging)
		return;
	ge_inner_lockfns = ge_threads_on ? ge_lockfns : (struct evthread_lock_callbacks){0};
	ge_lockfns = (struct evthread_lock_callbacks){
		EVTHREAD_LOCK_API_VERSION,
		EVTHREAD_LOCKTYPE_RECURSIVE,
		ge_debug_alloc,
		ge_debug_free,
		ge_debug_lock,
		ge_debug_unlock,
	};
	ge_threads_on = 1;
	ge_lock_debugging = 1;
}

/* libevent 2.1 still exports the misspelt name; keep it. */
void evthread_enable_lock_debuging(void)
{
	evthread_enable_lock_debugging();
}

static void *ge_pthread_alloc(unsigned locktype)
{
	pthread_mutexattr_t attr;
	pthread_mutex_t *m = ge_malloc(sizeof(*m));
	if (!m)
		return NULL;
	pthread_mutexattr_init(&attr);
	if (locktype & EVTHREAD_LOCKTYPE_RECURSIVE)
		pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(m, &attr);
	pthread_mutexattr_destroy(&attr);
	return m;
}

static void ge_pthread_free(void *lock, unsigned locktype)
{
	(void)locktype;
	pthread_mutex_destroy(lock);
	ge_free(lock);
}

static int ge_pthread_lock(unsigned mode, void *lock)
{
	if (mode & EVTHREAD_TRY)
		return pthread_mutex_trylock(lock);
	return pthread_mutex_lock(lock);
}

static int ge_pthread_unlock(unsigned mode, void *lock)
{
	(void)mode;
	return pthread_mutex_unlock(lock);
}

static unsigned long ge_pthread_id(void)
{
	return (unsigned long)pthread_self();
}

static void *ge_cond_alloc(unsigned flags)
{
	(void)flags;
	pthread_cond_t *c = ge_malloc(sizeof(*c));
	if (c)
		pthread_cond_init(c, NULL);
	return c;
}

static void ge_cond_free(void *c)
{
	pthread_cond_destroy(c);
	ge_free(c);
}

static int ge_cond_signal(void *c, int all)
{
	return all ? pthread_cond_broadcast(c) : pthread_cond_signal(c);
}

static int ge_cond_wait(void *c, void *lock, const struct timeval *tv)
{
	if (!tv)
		return pthread_cond_wait(c, lock) ? -1 : 0;
	struct timespec ts;
	struct timeval now;
	gettimeofday(&now, NULL);
	ts.tv_sec = now.tv_sec + tv->tv_sec;
	ts.tv_nsec = (now.tv_usec + tv->tv_usec) * 1000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	int r = pthread_cond_timedwait(c, lock, &ts);
	if (r == ETIMEDOUT)
		return 1;
	return r ? -1 : 0;
}

int evthread_use_pthreads(void)
{
	struct evthread_lock_callbacks locks = {
		EVTHREAD_LOCK_API_VERSION,
		EVTHREAD_LOCKTYPE_RECURSIVE,
		ge_pthread_alloc,
		ge_pthread_free,
		ge_pthread_lock,
		ge_pthread_unlock,
	};
	struct evthread_condition_callbacks conds = {
		EVTHREAD_CONDITION_API_VERSION,
		ge_cond_alloc,
		ge_cond_free,
		ge_cond_signal,
		ge_cond_wait,
	};
	if (evthread_set_lock_callbacks(&locks) < 0)
		return -1;
	evthread_set_condition_callbacks(&conds);
	evthread_set_id_callback(ge_pthread_id);
	return 0;
}

void *ge_lock_alloc(unsigned locktype)
{
	if (!ge_threads_on)
		return NULL;
	return ge_lockfns.alloc(locktype);
}

void ge_lock_free(void *lock, unsigned locktype)
{
	if (lock && ge_threads_on)
		ge_lockfns.free(lock, locktype);
}

void ge_lock_acquire(void *lock)
{
	if (lock)
		ge_lockfns.lock(0, lock);
}

void ge_lock_release(void *lock)
{
	if (lock)
		ge_lockfns.unlock(0, lock);
}
