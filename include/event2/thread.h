/*
 * event2/thread.h -- goevent's header for libevent 2.1.12's API of the same
 * name: how a program turns on thread safety, either with the pthreads
 * implementation or with its own lock, condition and thread-id callbacks.
 *
 * Set this up before creating any base, buffer or bufferevent that more
 * than one thread will touch. evthread_use_pthreads lives in
 * libevent_pthreads (-levent_pthreads), the rest in libevent_core.
 */
#ifndef EVENT2_THREAD_H_INCLUDED_
#define EVENT2_THREAD_H_INCLUDED_

#include <event2/visibility.h>
#include <event2/event-config.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Mode bits for the lock/unlock callbacks. */
#define EVTHREAD_WRITE 0x04 /* read-write locks: exclusive */
#define EVTHREAD_READ 0x08  /* read-write locks: shared */
#define EVTHREAD_TRY 0x10   /* fail instead of blocking */

#define EVTHREAD_LOCK_API_VERSION 1

/* Lock types for the alloc/free callbacks (0 is a plain mutex). */
#define EVTHREAD_LOCKTYPE_RECURSIVE 1
#define EVTHREAD_LOCKTYPE_READWRITE 2

/* A lock implementation. lock/unlock return 0 on success; alloc returns
 * NULL on failure. */
struct evthread_lock_callbacks {
	int lock_api_version;        /* EVTHREAD_LOCK_API_VERSION */
	unsigned supported_locktypes; /* EVTHREAD_LOCKTYPE_* bits */
	void *(*alloc)(unsigned locktype);
	void (*free)(void *lock, unsigned locktype);
	int (*lock)(unsigned mode, void *lock);
	int (*unlock)(unsigned mode, void *lock);
};

/* Installs lock callbacks (copied). Once locks are in use they cannot be
 * replaced by different ones. */
EVENT2_EXPORT_SYMBOL
int evthread_set_lock_callbacks(const struct evthread_lock_callbacks *);

#define EVTHREAD_CONDITION_API_VERSION 1

struct timeval;

/* A condition-variable implementation. wait_condition returns 0 when
 * signalled, 1 on timeout (timeout NULL: none), -1 on error. */
struct evthread_condition_callbacks {
	int condition_api_version;   /* EVTHREAD_CONDITION_API_VERSION */
	void *(*alloc_condition)(unsigned condtype);
	void (*free_condition)(void *cond);
	int (*signal_condition)(void *cond, int broadcast);
	int (*wait_condition)(void *cond, void *lock,
	    const struct timeval *timeout);
};

/* Installs condition callbacks (copied). */
EVENT2_EXPORT_SYMBOL
int evthread_set_condition_callbacks(
	const struct evthread_condition_callbacks *);

/* Installs a function returning a distinct number for the calling thread. */
EVENT2_EXPORT_SYMBOL
void evthread_set_id_callback(
    unsigned long (*id_fn)(void));

/* Uses pthreads for locks, conditions and thread ids. */
EVENT2_EXPORT_SYMBOL
int evthread_use_pthreads(void);
#define EVTHREAD_USE_PTHREADS_IMPLEMENTED 1

/* Wraps the locks in checks that catch misuse (unlocking a lock not held,
 * recursion on a non-recursive lock) and abort. Call right after choosing
 * the lock implementation. */
EVENT2_EXPORT_SYMBOL
void evthread_enable_lock_debugging(void);
/* Misspelled older name of the same call. */
EVENT2_EXPORT_SYMBOL
void evthread_enable_lock_debuging(void);

struct event_base;
/* Lets other threads wake the base's loop (event_add or event_active from
 * another thread). Bases made after threading was set up already are. */
EVENT2_EXPORT_SYMBOL
int evthread_make_base_notifiable(struct event_base *base);

#ifdef __cplusplus
}
#endif

#endif /* EVENT2_THREAD_H_INCLUDED_ */
