/*
 * diff_buffer_ref.c -- differential test of evbuffer_add_reference and
 * evbuffer_add_buffer_reference.
 *
 * add_reference: when the cleanup callback runs (on the drain that consumes
 * the last byte, on free, on pullup that copies the chain away, after the
 * chain moved to another buffer, never when the add fails on a frozen
 * buffer) and with which data, length and argument; zero-length references;
 * NULL cleanup; how later adds and prepends (and an add of nothing from a
 * NULL pointer) lay out around an immutable chain; partial remove_buffer through a reference chain.
 * add_buffer_reference: the destination shares the source's bytes; the
 * source can still be appended to, drained and freed without changing the
 * destination; a source holding such shared chains cannot be referenced
 * again (-1); self reference and a frozen destination fail; an empty source
 * is a no-op; a reference chain's cleanup waits for both buffers to let go.
 * Cleanup callbacks print a tag and the length they were given; the data
 * pointer is compared with the original, never printed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "trace.h"

static unsigned char text[20000];

struct tag {
	const char *name;
	const void *data;
};

static void cleanup(const void *data, size_t len, void *arg)
{
	struct tag *t = arg;
	printf("  cleanup %s len=%zu same_data=%d\n", t->name, len,
	    data == t->data);
}

static void add_reference(void)
{
	struct evbuffer *b = evbuffer_new(), *o = evbuffer_new();
	static struct tag t[12];
	static const char *names[] = { "t0", "t1", "t2", "t3", "t4", "t5", "t6",
		"t7", "t8", "t9", "t10", "t11" };
	unsigned char out[100];
	int i, r;

	for (i = 0; i < 12; i++) {
		t[i].name = names[i];
		t[i].data = text + i * 1000;
	}
	printf("== add_reference cleanup\n");
	r = evbuffer_add_reference(b, t[0].data, 10, cleanup, &t[0]);
	printf("add_reference 10 -> %d\n", r);
	tr_full("b", b);
	printf("drain 5 -> %d\n", evbuffer_drain(b, 5));
	printf("copyout 3 -> %zd\n", evbuffer_copyout(b, out, 3));
	printf("drain 5 -> %d\n", evbuffer_drain(b, 5));
	printf("after drain\n");

	printf("-- freed with the reference\n");
	evbuffer_add_reference(b, t[1].data, 20, cleanup, &t[1]);
	evbuffer_free(b);
	printf("after free\n");
	b = evbuffer_new();

	printf("-- frozen: no chain, no cleanup\n");
	evbuffer_freeze(b, 0);
	r = evbuffer_add_reference(b, t[2].data, 20, cleanup, &t[2]);
	printf("add_reference frozen -> %d\n", r);
	evbuffer_unfreeze(b, 0);
	tr_full("b", b);

	printf("-- zero length\n");
	r = evbuffer_add_reference(b, t[3].data, 0, cleanup, &t[3]);
	printf("add_reference 0 -> %d\n", r);
	tr_full("b", b);
	printf("drain 1 -> %d\n", evbuffer_drain(b, 1));
	printf("add 5 -> %d\n", evbuffer_add(b, text, 5));
	tr_full("b", b);
	evbuffer_drain(b, 5);
	r = evbuffer_add_reference(b, t[4].data, 0, cleanup, &t[4]);
	printf("add_reference 0 -> %d\n", r);
	printf("free\n");
	evbuffer_free(b);
	b = evbuffer_new();

	printf("-- pullup copies the chain away\n");
	evbuffer_add(b, text, 3);
	evbuffer_add_reference(b, t[5].data, 30, cleanup, &t[5]);
	evbuffer_add_reference(b, t[6].data, 30, cleanup, &t[6]);
	tr_layout("b", b);
	printf("pullup 20\n");
	evbuffer_pullup(b, 20);
	tr_layout("b", b);
	printf("pullup 40\n");
	evbuffer_pullup(b, 40);
	tr_layout("b", b);
	printf("pullup -1\n");
	evbuffer_pullup(b, -1);
	tr_full("b", b);
	evbuffer_drain(b, (size_t)-1);

	printf("-- moved to another buffer\n");
	evbuffer_add_reference(b, t[7].data, 50, cleanup, &t[7]);
	evbuffer_add_reference(b, t[8].data, 50, cleanup, &t[8]);
	printf("add_buffer -> %d\n", evbuffer_add_buffer(o, b));
	printf("drain o 60 -> %d\n", evbuffer_drain(o, 60));
	tr_layout("o", o);
	evbuffer_add_reference(b, t[9].data, 50, cleanup, &t[9]);
	printf("remove_buffer 20 -> %d\n", evbuffer_remove_buffer(b, o, 20));
	tr_layout("b", b);
	tr_layout("o", o);
	printf("remove_buffer 30 -> %d\n", evbuffer_remove_buffer(b, o, 30));
	tr_layout("b", b);
	tr_layout("o", o);
	printf("free o\n");
	evbuffer_free(o);
	o = evbuffer_new();

	printf("-- NULL cleanup and layout around immutable chains\n");
	evbuffer_add_reference(b, text, 100, NULL, NULL);
	evbuffer_add(b, text + 100, 10);
	tr_layout("b", b);
	evbuffer_add(b, text + 110, 3000);
	tr_layout("b", b);
	evbuffer_add_reference(b, text + 4000, 3000, NULL, NULL);
	evbuffer_add(b, text + 7000, 10);
	tr_layout("b", b);
	evbuffer_add(b, text + 7010, 6000);
	tr_layout("b", b);
	evbuffer_prepend(b, "P", 1);
	tr_layout("b", b);
	evbuffer_drain(b, 1);
	evbuffer_drain(b, 100);
	evbuffer_prepend(b, "Q", 1);
	tr_layout("b", b);
	printf("hash %016llx\n", (unsigned long long)tr_buf_hash(b));
	evbuffer_drain(b, (size_t)-1);
	evbuffer_add_reference(b, text, 2500, NULL, NULL);
	evbuffer_add(b, "x", 1);
	tr_layout("b", b);

	printf("-- nothing (NULL data) added after a reference chain\n");
	evbuffer_drain(b, (size_t)-1);
	evbuffer_add_reference(b, text, 10, NULL, NULL);
	printf("add NULL 0 -> %d\n", evbuffer_add(b, NULL, 0));
	tr_layout("b", b);
	printf("add 3 -> %d\n", evbuffer_add(b, "abc", 3));
	tr_layout("b", b);

	printf("-- many references, drained in steps\n");
	evbuffer_drain(b, (size_t)-1);
	for (i = 0; i < 12; i++)
		evbuffer_add_reference(b, t[i].data, 7, cleanup, &t[i]);
	for (i = 0; i < 6; i++) {
		printf("drain 13\n");
		evbuffer_drain(b, 13);
	}
	tr_layout("b", b);
	printf("remove 10 -> %d\n", evbuffer_remove(b, out, 10));
	printf("free\n");
	evbuffer_free(b);
	evbuffer_free(o);
}

static void buffer_reference(void)
{
	struct evbuffer *s = evbuffer_new(), *d = evbuffer_new(),
	    *e = evbuffer_new();
	static struct tag tr1 = { "shared-ref", NULL };
	int r;

	printf("== add_buffer_reference\n");
	evbuffer_add(s, "first chain|", 12);
	{
		struct evbuffer *t = evbuffer_new();
		evbuffer_add(t, "second chain|", 13);
		evbuffer_add_buffer(s, t);
		evbuffer_free(t);
	}
	tr_full("s", s);
	r = evbuffer_add_buffer_reference(d, s);
	printf("add_buffer_reference -> %d\n", r);
	tr_full("d", d);
	tr_full("s", s);
	evbuffer_add(s, "third", 5);
	tr_full("s after add", s);
	tr_full("d", d);
	evbuffer_drain(s, 14);
	tr_full("s after drain", s);
	tr_full("d", d);
	evbuffer_prepend(s, "pre|", 4);
	tr_full("s after prepend", s);
	tr_full("d", d);

	printf("-- a source that holds shared chains\n");
	r = evbuffer_add_buffer_reference(e, d);
	printf("reference d (shared chains) -> %d\n", r);
	tr_full("e", e);
	r = evbuffer_add_buffer_reference(e, s);
	printf("reference s (shared first chain) -> %d\n", r);
	tr_full("e", e);
	r = evbuffer_add_buffer_reference(d, d);
	printf("self -> %d\n", r);
	{
		struct evbuffer *x = evbuffer_new();
		r = evbuffer_add_buffer_reference(d, x);
		printf("empty source -> %d\n", r);
		r = evbuffer_add_buffer_reference(x, x);
		printf("empty self -> %d\n", r);
		evbuffer_free(x);
	}
	evbuffer_freeze(e, 0);
	r = evbuffer_add_buffer_reference(e, s);
	printf("frozen end dst -> %d\n", r);
	evbuffer_unfreeze(e, 0);
	evbuffer_freeze(s, 1);
	r = evbuffer_add_buffer_reference(e, s);
	printf("frozen start src -> %d\n", r);
	evbuffer_unfreeze(s, 1);
	tr_full("e", e);

	printf("-- adding to the destination\n");
	evbuffer_add(d, "+tail", 5);
	tr_full("d", d);
	evbuffer_add(d, text, 3000);
	tr_layout("d", d);
	evbuffer_drain(d, 25);
	tr_layout("d", d);
	printf("d hash %016llx\n", (unsigned long long)tr_buf_hash(d));

	printf("-- the source goes away\n");
	evbuffer_free(s);
	s = evbuffer_new();
	tr_layout("d", d);
	printf("d hash %016llx\n", (unsigned long long)tr_buf_hash(d));
	tr_full("e", e);
	evbuffer_pullup(e, -1);
	tr_full("e pulled up", e);
	evbuffer_drain(d, (size_t)-1);
	evbuffer_drain(e, (size_t)-1);

	printf("-- reference chain shared by two buffers\n");
	tr1.data = text + 500;
	evbuffer_add_reference(s, tr1.data, 40, cleanup, &tr1);
	evbuffer_add(s, "!", 1);
	r = evbuffer_add_buffer_reference(d, s);
	printf("add_buffer_reference -> %d\n", r);
	tr_layout("d", d);
	printf("drain s all\n");
	evbuffer_drain(s, (size_t)-1);
	tr_layout("d", d);
	printf("drain d 39\n");
	evbuffer_drain(d, 39);
	printf("drain d 1\n");
	evbuffer_drain(d, 1);
	printf("drain d 1\n");
	evbuffer_drain(d, 1);
	tr_full("d", d);

	evbuffer_add_reference(s, tr1.data, 40, cleanup, &tr1);
	evbuffer_add_buffer_reference(d, s);
	evbuffer_add_buffer_reference(e, s);
	printf("free s\n");
	evbuffer_free(s);
	printf("free d\n");
	evbuffer_free(d);
	tr_full("e", e);
	printf("free e\n");
	evbuffer_free(e);

	printf("-- many chains\n");
	s = evbuffer_new();
	d = evbuffer_new();
	{
		static const size_t pieces[] = { 1, 10, 100, 1000 };
		tr_add_pieces(s, text, 8000, pieces, 4, 'a');
	}
	evbuffer_add(d, "head:", 5);
	r = evbuffer_add_buffer_reference(d, s);
	printf("add_buffer_reference -> %d\n", r);
	tr_layout("d", d);
	printf("hashes equal=%d\n",
	    tr_buf_hash(s) == tr_fnv1a(text, 8000));
	{
		struct evbuffer *t = evbuffer_new();
		int n = evbuffer_remove_buffer(d, t, 2000);
		printf("remove_buffer 2000 -> %d\n", n);
		tr_layout("t", t);
		tr_layout("d", d);
		evbuffer_free(t);
	}
	printf("d hash %016llx\n", (unsigned long long)tr_buf_hash(d));
	evbuffer_drain(s, 4000);
	printf("d hash %016llx\n", (unsigned long long)tr_buf_hash(d));
	evbuffer_free(s);
	evbuffer_free(d);
}

int main(void)
{
	size_t i;
	tr_init();
	for (i = 0; i < sizeof(text); i++)
		text[i] = (unsigned char)('A' + (i * 13 + i / 57) % 58);
	add_reference();
	buffer_reference();
	return 0;
}
