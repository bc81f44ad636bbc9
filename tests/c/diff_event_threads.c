/*
 * diff_event_threads.c -- differential test of cross-thread wakeups.
 *
 * With evthread_use_pthreads, a base is lockable and notifiable: another
 * thread's event_active, event_add (of an earlier timer), event_del,
 * loopbreak and loopexit must wake a loop that is blocked with nothing
 * else to do (its only event is a read on a pipe nobody writes, and it has
 * no timers, so without a wakeup it would wait forever). The worker thread
 * prints nothing; it waits on a condition variable for each callback, so
 * the trace is fully ordered. "prompt" is whether the loop returned within
 * a second of being asked.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/thread.h>

static struct event_base *base;
static struct event idle, target, timer2, starter, victim;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int step;
static struct timespec asked;

static void advance(void)
{
	pthread_mutex_lock(&mu);
	step++;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

static void wait_step(int n)
{
	pthread_mutex_lock(&mu);
	while (step < n)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static void mark_asked(void)
{
	clock_gettime(CLOCK_MONOTONIC, &asked);
}

static int prompt(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double d = (double)(now.tv_sec - asked.tv_sec) + (now.tv_nsec - asked.tv_nsec) / 1e9;
	return d < 1.0;
}

static void idle_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)arg;
	printf("  idle ran?! what=0x%x\n", what);
}

static void target_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)arg;
	printf("  target ran what=0x%x prompt=%d\n", what, prompt());
	advance();
}

static void timer2_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)arg;
	printf("  timer2 ran what=0x%x prompt=%d\n", what, prompt());
	advance();
}

static void victim_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	printf("  victim ran?!\n");
}

static void *worker(void *arg)
{
	int mode = (int)(long)arg;
	struct timeval t20 = { 0, 20000 };
	if (mode == 0) {
		sleep_ms(50); /* the loop is blocked by now */
		mark_asked();
		event_active(&target, EV_READ | EV_WRITE, 1);
		wait_step(1);
		sleep_ms(50);
		mark_asked();
		event_add(&timer2, &t20);
		wait_step(2);
		sleep_ms(50);
		/* Deleting from here: its 10 s timeout must never fire. */
		event_del(&victim);
		sleep_ms(50);
		mark_asked();
		event_base_loopbreak(base);
	} else {
		sleep_ms(50);
		mark_asked();
		event_base_loopexit(base, NULL);
	}
	return NULL;
}

static pthread_t th;

static void starter_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	printf("  starter: launching worker\n");
	pthread_create(&th, NULL, worker, arg);
}

int main(void)
{
	int p[2], r;
	struct timeval t10 = { 0, 10000 }, t10s = { 10, 0 };
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("use_pthreads -> %d\n", evthread_use_pthreads());
	base = event_base_new();
	if (!base || pipe(p) != 0) {
		printf("setup failed\n");
		return 1;
	}
	event_assign(&idle, base, p[0], EV_READ | EV_PERSIST, idle_cb, NULL);
	event_assign(&target, base, -1, 0, target_cb, NULL);
	event_assign(&timer2, base, -1, 0, timer2_cb, NULL);
	event_assign(&victim, base, -1, 0, victim_cb, NULL);
	event_add(&idle, NULL);
	event_add(&victim, &t10s);

	printf("-- active, add, del, loopbreak from another thread\n");
	event_assign(&starter, base, -1, 0, starter_cb, (void *)0L);
	event_add(&starter, &t10);
	r = event_base_dispatch(base);
	printf("dispatch -> %d got_break=%d prompt=%d\n", r, event_base_got_break(base), prompt());
	pthread_join(th, NULL);
	printf("victim pending=0x%x\n", event_pending(&victim, EV_TIMEOUT, NULL));

	printf("-- loopexit from another thread\n");
	event_assign(&starter, base, -1, 0, starter_cb, (void *)1L);
	event_add(&starter, &t10);
	r = event_base_dispatch(base);
	printf("dispatch -> %d got_exit=%d prompt=%d\n", r, event_base_got_exit(base), prompt());
	pthread_join(th, NULL);

	event_del(&idle);
	event_base_free(base);
	close(p[0]);
	close(p[1]);
	printf("done\n");
	return 0;
}
