/*
 * diff_buffer_defer.c -- differential test of evbuffer_defer_callbacks.
 *
 * Once a buffer's callbacks are deferred to an event_base, changes do not
 * call back at once: the changes accumulate (orig_size, n_added, n_deleted
 * add up across operations) and the callbacks run from the next pass of
 * event_base_loop. Covers accumulation over several operations, a pass with
 * nothing to run, a callback disabled while changes happen (its share is
 * lost), a buffer without callbacks that gets one later (orig_size must be
 * right), a deferred callback that changes its buffer (it runs again on a
 * later loop iteration, which a nonblocking loop still reaches), two
 * buffers on one base, and freeing a buffer while its callbacks are pending:
 * libevent keeps the buffer alive and still runs them on the next pass; and
 * an empty drain between a callback's removal and the next one's addition.
 * Each
 * callback logs to its own record, printed in a fixed order after each loop,
 * since the order between buffers is the loop's business, not evbuffer's.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "trace.h"

struct rec {
	const char *name;
	int drain_on_add;
	size_t calls;
	char log[1024];
	size_t used;
};

static struct rec ra = { "A", 0, 0, "", 0 }, rb = { "B", 0, 0, "", 0 };

static void rec_cb(struct evbuffer *b, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct rec *r = arg;
	int n;
	r->calls++;
	n = snprintf(r->log + r->used, sizeof(r->log) - r->used,
	    " (%zu,+%zu,-%zu;%zu)", info->orig_size, info->n_added,
	    info->n_deleted, evbuffer_get_length(b));
	if (n > 0 && r->used + (size_t)n < sizeof(r->log))
		r->used += (size_t)n;
	if (r->drain_on_add && info->n_added > 0)
		evbuffer_drain(b, 1);
}

static struct event_base *base;

static void flush(struct rec *r)
{
	if (r->used)
		printf("  %s:%s\n", r->name, r->log);
	r->used = 0;
	r->log[0] = '\0';
}

static void loop(const char *what)
{
	printf("loop %s\n", what);
	flush(&ra);
	flush(&rb);
	event_base_loop(base, EVLOOP_NONBLOCK);
	flush(&ra);
	flush(&rb);
}

int main(void)
{
	struct evbuffer *b, *c;
	struct evbuffer_cb_entry *ea;
	static const char text[] = "0123456789abcdefghijklmnopqrstuvwxyz";

	tr_init();
	base = event_base_new();
	if (!base) {
		printf("no base\n");
		return 1;
	}
	loop("idle");

	b = evbuffer_new();
	ea = evbuffer_add_cb(b, rec_cb, &ra);
	printf("defer -> %d\n", evbuffer_defer_callbacks(b, base));
	printf("add 10 -> %d\n", evbuffer_add(b, text, 10));
	printf("drain 3 -> %d\n", evbuffer_drain(b, 3));
	printf("prepend 4 -> %d\n", evbuffer_prepend(b, text, 4));
	loop("after three changes");
	loop("again");
	printf("add 5 -> %d\n", evbuffer_add(b, text, 5));
	printf("drain 5 -> %d\n", evbuffer_drain(b, 5));
	loop("after add and drain of the same amount");

	/* Disabled while the changes happen. */
	evbuffer_cb_clear_flags(b, ea, EVBUFFER_CB_ENABLED);
	printf("add 7 disabled -> %d\n", evbuffer_add(b, text, 7));
	loop("disabled");
	evbuffer_cb_set_flags(b, ea, EVBUFFER_CB_ENABLED);
	printf("add 1 enabled -> %d\n", evbuffer_add(b, text, 1));
	loop("enabled");

	/* A deferred callback that changes the buffer runs again later. */
	ra.drain_on_add = 1;
	printf("add 2 (A drains 1 on add) -> %d\n", evbuffer_add(b, text, 2));
	loop("first");
	loop("second");
	loop("third");
	ra.drain_on_add = 0;
	printf("defer again -> %d\n", evbuffer_defer_callbacks(b, base));
	printf("add 3 -> %d\n", evbuffer_add(b, text, 3));
	loop("after second defer");

	/* A buffer that has no callback while it changes. */
	c = evbuffer_new();
	printf("defer c -> %d\n", evbuffer_defer_callbacks(c, base));
	evbuffer_add(c, text, 20);
	loop("c without callbacks");
	evbuffer_add_cb(c, rec_cb, &rb);
	printf("c add 6 -> %d\n", evbuffer_add(c, text, 6));
	printf("b add 4 -> %d\n", evbuffer_add(b, text, 4));
	loop("two buffers");
	printf("c remove_buffer into b 10 -> %d\n", evbuffer_remove_buffer(c, b, 10));
	printf("b add_buffer c -> %d\n", evbuffer_add_buffer(b, c));
	loop("moves between them");

	/* Freed with callbacks pending. */
	printf("b add 9 -> %d\n", evbuffer_add(b, text, 9));
	evbuffer_free(b);
	printf("b freed\n");
	loop("after free");
	loop("again");
	evbuffer_free(c);

	/* Draining nothing from an empty buffer changes nothing, not even the
	 * counts a removed callback left pending: the callback added next
	 * hears of them on the deferred run. */
	c = evbuffer_new();
	evbuffer_defer_callbacks(c, base);
	ea = evbuffer_add_cb(c, rec_cb, &ra);
	printf("c add 3 -> %d\n", evbuffer_add(c, text, 3));
	printf("c drain 3 -> %d\n", evbuffer_drain(c, 3));
	printf("remove A -> %d\n", evbuffer_remove_cb_entry(c, ea));
	printf("c drain 0 -> %d\n", evbuffer_drain(c, 0));
	evbuffer_add_cb(c, rec_cb, &rb);
	loop("after an empty drain");
	evbuffer_free(c);

	event_base_free(base);
	printf("calls A=%zu B=%zu\n", ra.calls, rb.calls);
	return 0;
}
