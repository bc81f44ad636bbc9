/*
 * diff_buffer_lock.c -- differential test of evbuffer locking.
 *
 * Covers evbuffer_enable_locking before any threading is set up (it fails,
 * and evbuffer_lock / evbuffer_unlock do nothing), then after
 * evthread_use_pthreads (it succeeds once per buffer, also for a buffer
 * created before threading was set up, and fails the second time),
 * evbuffer_lock / evbuffer_unlock taken recursively, and real concurrent use:
 * producer threads append records (some as two adds under evbuffer_lock,
 * which must stay together) while a consumer thread reads lines out and a
 * callback counts bytes. Only interleaving-independent results are printed:
 * per-producer record counts and order checks, totals and callback sums.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "trace.h"

/* From event2/thread.h (libevent_pthreads); declared here so the test does
 * not depend on that header. */
int evthread_use_pthreads(void);

#define PRODUCERS 4
#define RECORDS 3000

static struct evbuffer *shared;
static volatile int producers_done;
static size_t cb_added, cb_deleted, cb_calls;

static void count_cb(struct evbuffer *b, const struct evbuffer_cb_info *info,
    void *arg)
{
	(void)b;
	(void)arg;
	/* Runs with the buffer's lock held, so no other lock is needed. */
	cb_calls++;
	cb_added += info->n_added;
	cb_deleted += info->n_deleted;
}

static void *producer(void *arg)
{
	int id = (int)(intptr_t)arg, i;
	char rec[32];
	for (i = 0; i < RECORDS; i++) {
		int n;
		if (i % 3 == 0) {
			/* Two adds that must not be split by other writers. */
			evbuffer_lock(shared);
			n = snprintf(rec, sizeof(rec), "P%d:%d:", id, i);
			evbuffer_add(shared, rec, (size_t)n);
			evbuffer_add_printf(shared, "pair\n");
			evbuffer_unlock(shared);
		} else {
			n = snprintf(rec, sizeof(rec), "P%d:%d:single\n", id, i);
			evbuffer_add(shared, rec, (size_t)n);
		}
	}
	return NULL;
}

struct tally {
	int next[PRODUCERS];
	int count[PRODUCERS];
	int out_of_order, broken_pairs, bad;
};

static void check_line(struct tally *t, const char *line)
{
	int id, seq, off = 0;
	if (sscanf(line, "P%d:%d:%n", &id, &seq, &off) != 2 || id < 0 ||
	    id >= PRODUCERS) {
		t->bad++;
		return;
	}
	if (seq != t->next[id])
		t->out_of_order++;
	t->next[id] = seq + 1;
	t->count[id]++;
	if (strcmp(line + off, seq % 3 == 0 ? "pair" : "single") != 0)
		t->broken_pairs++;
}

static struct tally consumed;

static void *consumer(void *arg)
{
	int last = 0;
	(void)arg;
	for (;;) {
		size_t n;
		char *line = evbuffer_readln(shared, &n, EVBUFFER_EOL_LF);
		if (line) {
			check_line(&consumed, line);
			free(line);
			continue;
		}
		/* One more pass after the producers are done picks up what
		 * they added after the failed read. */
		if (last)
			break;
		last = __atomic_load_n(&producers_done, __ATOMIC_ACQUIRE);
		sched_yield();
	}
	return NULL;
}

int main(void)
{
	struct evbuffer *early, *b;
	pthread_t prod[PRODUCERS], cons;
	size_t n;
	char *line;
	int i;

	tr_init();
	printf("== without threading\n");
	early = evbuffer_new();
	printf("enable_locking -> %d\n", evbuffer_enable_locking(early, NULL));
	evbuffer_lock(early);
	evbuffer_add(early, "x", 1);
	evbuffer_unlock(early);
	tr_buf("early", early);

	printf("== with pthreads\n");
	printf("evthread_use_pthreads -> %d\n", evthread_use_pthreads());
	printf("enable_locking early buffer -> %d\n",
	    evbuffer_enable_locking(early, NULL));
	printf("enable_locking again -> %d\n", evbuffer_enable_locking(early, NULL));
	b = evbuffer_new();
	printf("enable_locking new buffer -> %d\n", evbuffer_enable_locking(b, NULL));
	printf("enable_locking again -> %d\n", evbuffer_enable_locking(b, NULL));
	evbuffer_lock(b);
	evbuffer_lock(b);
	evbuffer_add(b, "locked twice\n", 13);
	evbuffer_unlock(b);
	evbuffer_add(b, "once\n", 5);
	evbuffer_unlock(b);
	line = evbuffer_readln(b, &n, EVBUFFER_EOL_LF);
	tr_line("readln", line, n);
	free(line);
	/* Operations between two locked buffers. */
	evbuffer_add_buffer(early, b);
	tr_buf("early", early);
	evbuffer_remove_buffer(early, b, 3);
	tr_buf("b", b);
	evbuffer_prepend_buffer(b, early);
	tr_buf("b", b);
	evbuffer_add_buffer_reference(early, b);
	tr_buf("early", early);
	evbuffer_free(early);
	evbuffer_free(b);

	printf("== concurrent use\n");
	shared = evbuffer_new();
	printf("enable_locking -> %d\n", evbuffer_enable_locking(shared, NULL));
	evbuffer_add_cb(shared, count_cb, NULL);
	pthread_create(&cons, NULL, consumer, NULL);
	for (i = 0; i < PRODUCERS; i++)
		pthread_create(&prod[i], NULL, producer, (void *)(intptr_t)i);
	for (i = 0; i < PRODUCERS; i++)
		pthread_join(prod[i], NULL);
	__atomic_store_n(&producers_done, 1, __ATOMIC_RELEASE);
	pthread_join(cons, NULL);
	for (i = 0; i < PRODUCERS; i++)
		printf("producer %d: %d records\n", i, consumed.count[i]);
	printf("out of order %d, broken pairs %d, bad lines %d\n",
	    consumed.out_of_order, consumed.broken_pairs, consumed.bad);
	printf("left %zu\n", evbuffer_get_length(shared));
	printf("callback added=%zu deleted=%zu balance=%s\n", cb_added, cb_deleted,
	    cb_added - cb_deleted == evbuffer_get_length(shared) ? "ok" : "BAD");
	printf("callback ran: %s\n", cb_calls > 0 ? "yes" : "no");
	evbuffer_free(shared);
	return 0;
}
