/*
 * diff_buffer_defer_leak.c -- freeing an event_base while a deferred
 * evbuffer callback run is still queued on it.
 *
 * libevent forgets the queued run: the buffer keeps the reference that run
 * held, so evbuffer_free leaves it (its chain and callback entry included)
 * allocated for good. goevent must leak exactly that and nothing of its
 * own. Every allocation goes through event_set_mem_functions, which count
 * live blocks; the trace prints how many more are live after each round
 * than before the first, so it grows by what one round leaks.
 */
#include <stdio.h>
#include <stdlib.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "trace.h"

/* The program leaks on purpose (libevent's leak, which it measures): a
 * sanitizer build must not report that. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}

static long live;

static void *count_malloc(size_t n)
{
	void *p = malloc(n);
	if (p)
		live++;
	return p;
}

static void *count_realloc(void *p, size_t n)
{
	void *q = realloc(p, n);
	if (!p && q)
		live++;
	return q;
}

static void count_free(void *p)
{
	if (p)
		live--;
	free(p);
}

static int calls;

static void cb(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
	(void)b;
	(void)info;
	(void)arg;
	calls++;
}

/* One deferred run on a base of its own; with free_first the base goes
 * while the run is still queued. */
static void one(int free_first)
{
	struct event_base *base = event_base_new();
	struct evbuffer *b = evbuffer_new();
	evbuffer_defer_callbacks(b, base);
	evbuffer_add_cb(b, cb, NULL);
	evbuffer_add(b, "abc", 3);
	evbuffer_free(b);
	if (!free_first)
		event_base_loop(base, EVLOOP_NONBLOCK);
	event_base_free(base);
}

int main(void)
{
	tr_init();
	event_set_mem_functions(count_malloc, count_realloc, count_free);
	/* First whatever a library allocates once and keeps (goevent: its
	 * engine's tables and a pooled slot for deferred runs). */
	one(0);
	long before = live;
	one(0);
	printf("a run that happened: %ld more blocks live, %d calls\n",
	    live - before, calls);

	for (int round = 1; round <= 3; round++) {
		one(1);
		printf("base freed first, round %d: %ld more blocks live, %d calls\n",
		    round, live - before, calls);
	}
	before = live;
	one(0);
	printf("a run that happened: %ld more blocks live, %d calls\n",
	    live - before, calls);
	return 0;
}
