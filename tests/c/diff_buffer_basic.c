/*
 * diff_buffer_basic.c -- differential test of evbuffer's core data moves.
 *
 * Covers evbuffer_new/free, add, get_length, get_contiguous_space, remove,
 * copyout, drain, prepend, add_buffer, prepend_buffer and remove_buffer:
 * on empty buffers, with zero lengths and lengths past the end, and with data
 * spread over many chains (moved-in chains with spare room, reference chains,
 * prepended chains) so that every operation crosses chain boundaries. After
 * each step the trace shows return values, contents, and the extent layout
 * (which follows from libevent's chain allocation policy).
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

static unsigned char text[8192];

static void fill_text(void)
{
	size_t i;
	for (i = 0; i < sizeof(text); i++)
		text[i] = (unsigned char)('a' + (i * 7 + i / 26) % 26);
}

static void empty_buffer(void)
{
	struct evbuffer *b = evbuffer_new(), *o = evbuffer_new();
	char out[16];
	struct evbuffer_ptr p;
	size_t n = 99;
	char *line;

	printf("== empty buffer\n");
	tr_full("new", b);
	printf("remove 10 -> %d\n", evbuffer_remove(b, out, 10));
	printf("remove 0 -> %d\n", evbuffer_remove(b, out, 0));
	printf("copyout 10 -> %zd\n", evbuffer_copyout(b, out, 10));
	printf("drain 5 -> %d\n", evbuffer_drain(b, 5));
	printf("drain 0 -> %d\n", evbuffer_drain(b, 0));
	printf("drain max -> %d\n", evbuffer_drain(b, (size_t)-1));
	printf("pullup -1 null=%d\n", evbuffer_pullup(b, -1) == NULL);
	printf("pullup 0 null=%d\n", evbuffer_pullup(b, 0) == NULL);
	printf("pullup 1 null=%d\n", evbuffer_pullup(b, 1) == NULL);
	printf("remove_buffer 10 -> %d\n", evbuffer_remove_buffer(b, o, 10));
	printf("add_buffer from empty -> %d\n", evbuffer_add_buffer(o, b));
	printf("prepend_buffer from empty -> %d\n", evbuffer_prepend_buffer(o, b));
	printf("add_buffer to self -> %d\n", evbuffer_add_buffer(b, b));
	line = evbuffer_readln(b, &n, EVBUFFER_EOL_ANY);
	tr_line("readln", line, n);
	p = evbuffer_search(b, "a", 1, NULL);
	printf("search -> %zd\n", (ssize_t)p.pos);
	printf("peek count -> %d\n", evbuffer_peek(b, -1, NULL, NULL, 0));
	printf("peek 10 count -> %d\n", evbuffer_peek(b, 10, NULL, NULL, 0));
	printf("prepend 0 -> %d\n", evbuffer_prepend(b, "x", 0));
	tr_full("after prepend 0", b);
	printf("add 0 -> %d\n", evbuffer_add(b, "x", 0));
	tr_full("after add 0", b);
	/* The empty chain that add 0 left behind takes part of what comes
	 * next. */
	printf("add 2000 -> %d\n", evbuffer_add(b, text, 2000));
	tr_full("after add 2000", b);
	evbuffer_free(b);

	b = evbuffer_new();
	printf("fresh add 2000 -> %d\n", evbuffer_add(b, text, 2000));
	tr_full("fresh", b);
	printf("drain max -> %d\n", evbuffer_drain(b, (size_t)-1));
	tr_full("drained", b);
	printf("add 10 -> %d\n", evbuffer_add(b, text, 10));
	tr_full("after", b);
	evbuffer_free(b);
	evbuffer_free(o);
}

static void growth(void)
{
	struct evbuffer *b = evbuffer_new();
	int i;
	size_t sizes[] = { 1, 7, 100, 500, 975, 976, 977, 1000, 2000, 2048,
		2049, 4000, 4096, 5000, 8000 };

	printf("== growth\n");
	for (i = 0; i < 30; i++) {
		evbuffer_add(b, text + i * 100, 100);
		if (i % 5 == 4)
			tr_layout("add100", b);
	}
	tr_buf("content", b);
	evbuffer_free(b);

	/* First add of each size into a fresh buffer, then a second add. */
	for (i = 0; i < (int)(sizeof(sizes) / sizeof(sizes[0])); i++) {
		char label[32];
		b = evbuffer_new();
		evbuffer_add(b, text, sizes[i]);
		snprintf(label, sizeof(label), "first%zu", sizes[i]);
		tr_layout(label, b);
		evbuffer_add(b, text, 1500);
		snprintf(label, sizeof(label), "then1500");
		tr_layout(label, b);
		evbuffer_add(b, text, 3000);
		snprintf(label, sizeof(label), "then3000");
		tr_layout(label, b);
		printf("hash %016llx\n", (unsigned long long)tr_buf_hash(b));
		evbuffer_free(b);
	}

	/* Realignment: drain most of a chain, then add what fits only if the
	 * remaining data is moved to the front. */
	b = evbuffer_new();
	evbuffer_add(b, text, 900);
	evbuffer_drain(b, 850);
	tr_layout("drained to 50", b);
	evbuffer_add(b, text + 1000, 300);
	tr_full("add 300 realigns", b);
	evbuffer_drain(b, 10);
	evbuffer_add(b, text + 2000, 700);
	tr_full("add 700", b);
	evbuffer_free(b);

	b = evbuffer_new();
	evbuffer_add(b, text, 900);
	evbuffer_drain(b, 400);
	/* 500 left: not under half the chain, so no realignment. */
	evbuffer_add(b, text + 1000, 300);
	tr_full("no realign", b);
	evbuffer_free(b);
}

static void remove_copyout_drain(void)
{
	struct evbuffer *b = evbuffer_new();
	static const size_t pieces[] = { 3, 1, 17, 64, 5, 200, 2, 999, 31 };
	unsigned char out[4096];
	int r;
	ssize_t c;

	printf("== remove/copyout/drain across chains\n");
	tr_add_pieces(b, text, 3000, pieces, 9, 'a');
	tr_layout("built", b);
	printf("hash %016llx\n", (unsigned long long)tr_buf_hash(b));

	c = evbuffer_copyout(b, out, 0);
	printf("copyout 0 -> %zd\n", c);
	c = evbuffer_copyout(b, out, 2);
	printf("copyout 2 -> %zd ", c);
	tr_esc(out, (size_t)c);
	putchar('\n');
	c = evbuffer_copyout(b, out, 30);
	printf("copyout 30 -> %zd ", c);
	tr_esc(out, (size_t)c);
	putchar('\n');
	c = evbuffer_copyout(b, out, 3);
	printf("copyout 3 -> %zd ", c);
	tr_esc(out, (size_t)c);
	putchar('\n');
	tr_layout("copyout keeps layout", b);

	r = evbuffer_remove(b, out, 2);
	printf("remove 2 -> %d ", r);
	tr_esc(out, (size_t)r);
	putchar('\n');
	tr_layout("after", b);
	r = evbuffer_remove(b, out, 2);
	printf("remove 2 -> %d ", r);
	tr_esc(out, (size_t)r);
	putchar('\n');
	tr_layout("after", b);
	r = evbuffer_remove(b, out, 100);
	printf("remove 100 -> %d ", r);
	tr_esc(out, (size_t)r);
	putchar('\n');
	tr_layout("after", b);
	printf("drain 0 -> %d\n", evbuffer_drain(b, 0));
	tr_layout("after", b);
	printf("drain 1 -> %d\n", evbuffer_drain(b, 1));
	tr_layout("after", b);
	printf("drain 205 -> %d\n", evbuffer_drain(b, 205));
	tr_layout("after", b);
	printf("drain 1000 -> %d\n", evbuffer_drain(b, 1000));
	tr_full("after", b);
	r = evbuffer_remove(b, out, sizeof(out));
	printf("remove all -> %d hash=%016llx\n", r,
	    (unsigned long long)tr_fnv1a(out, (size_t)r));
	tr_full("empty", b);
	printf("remove 5 -> %d\n", evbuffer_remove(b, out, 5));

	/* drain with more than there is */
	tr_add_pieces(b, text, 1500, pieces, 9, 'm');
	printf("drain 1501 -> %d\n", evbuffer_drain(b, 1501));
	tr_full("after", b);
	tr_add_pieces(b, text, 1500, pieces, 9, 'r');
	printf("drain 1499 -> %d\n", evbuffer_drain(b, 1499));
	tr_full("after", b);
	printf("add 10 -> %d\n", evbuffer_add(b, "0123456789", 10));
	tr_full("after", b);
	evbuffer_free(b);
}

static void prepend(void)
{
	struct evbuffer *b = evbuffer_new(), *s = evbuffer_new();
	int i;

	printf("== prepend\n");
	printf("prepend abc -> %d\n", evbuffer_prepend(b, "abc", 3));
	tr_full("p1", b);
	printf("add xyz -> %d\n", evbuffer_add(b, "xyz", 3));
	tr_full("p2", b);
	printf("prepend 12 -> %d\n", evbuffer_prepend(b, "12", 2));
	tr_full("p3", b);
	for (i = 0; i < 10; i++)
		evbuffer_prepend(b, text + i * 150, 150);
	tr_layout("p4", b);
	printf("hash %016llx\n", (unsigned long long)tr_buf_hash(b));
	evbuffer_drain(b, 1000);
	tr_full("p5", b);
	evbuffer_free(b);

	/* Prepend partly fits in front of the first chain's data. */
	b = evbuffer_new();
	evbuffer_add(b, text, 500);
	evbuffer_drain(b, 100);
	tr_layout("q1", b);
	evbuffer_prepend(b, "ABCDEFGHIJ", 10);
	tr_layout("q2", b);
	evbuffer_prepend(b, text + 3000, 150);
	tr_layout("q3", b);
	tr_buf("q3", b);
	evbuffer_free(b);

	/* Prepend in front of a reference chain, and to an emptied chain. */
	b = evbuffer_new();
	evbuffer_add_reference(b, "REFDATA", 7, NULL, NULL);
	evbuffer_prepend(b, "pre:", 4);
	tr_full("r1", b);
	evbuffer_drain(b, 11);
	tr_full("r2", b);
	evbuffer_expand(b, 100);
	tr_full("r3", b);
	evbuffer_prepend(b, "again", 5);
	tr_full("r4", b);
	evbuffer_free(b);

	/* prepend_buffer: chains of src go before dst's. */
	b = evbuffer_new();
	evbuffer_add(b, "-tail", 5);
	evbuffer_add(s, "head", 4);
	evbuffer_add_reference(s, "+ref", 4, NULL, NULL);
	printf("prepend_buffer -> %d\n", evbuffer_prepend_buffer(b, s));
	tr_full("pb dst", b);
	tr_full("pb src", s);
	printf("prepend_buffer self -> %d\n", evbuffer_prepend_buffer(b, b));
	printf("prepend_buffer empty src -> %d\n", evbuffer_prepend_buffer(b, s));
	evbuffer_add(s, "more", 4);
	evbuffer_drain(b, (size_t)-1);
	printf("prepend_buffer into empty -> %d\n", evbuffer_prepend_buffer(b, s));
	tr_full("pb dst", b);
	tr_full("pb src", s);
	evbuffer_add(b, "!", 1);
	evbuffer_prepend(b, "<", 1);
	tr_full("pb dst", b);
	evbuffer_free(b);
	evbuffer_free(s);
}

static void add_buffer(void)
{
	struct evbuffer *a = evbuffer_new(), *b = evbuffer_new();
	static const size_t pieces[] = { 10, 300, 7 };

	printf("== add_buffer\n");
	evbuffer_add(a, "A-data", 6);
	evbuffer_add(b, "B-data", 6);
	printf("add_buffer -> %d\n", evbuffer_add_buffer(a, b));
	tr_full("a", a);
	tr_full("b", b);
	evbuffer_add(a, "+more", 5);
	tr_full("a", a);
	evbuffer_add(b, "again", 5);
	tr_full("b", b);

	tr_add_pieces(b, text, 1000, pieces, 3, 'a');
	tr_layout("b", b);
	printf("add_buffer -> %d\n", evbuffer_add_buffer(a, b));
	tr_layout("a", a);
	printf("a hash %016llx\n", (unsigned long long)tr_buf_hash(a));
	tr_full("b", b);
	evbuffer_add(b, "x", 1);
	tr_full("b", b);

	/* Into a buffer that holds only an empty chain. */
	evbuffer_free(a);
	a = evbuffer_new();
	evbuffer_expand(a, 5000);
	tr_layout("a expanded", a);
	printf("add_buffer -> %d\n", evbuffer_add_buffer(a, b));
	tr_full("a", a);
	evbuffer_add(a, text, 2000);
	tr_layout("a", a);

	/* A buffer whose last chain is an empty one after data. */
	evbuffer_free(b);
	b = evbuffer_new();
	evbuffer_add(b, text, 900);
	evbuffer_expand(b, 500);
	tr_layout("b expanded", b);
	printf("add_buffer -> %d\n", evbuffer_add_buffer(b, a));
	tr_layout("b", b);
	printf("b hash %016llx\n", (unsigned long long)tr_buf_hash(b));
	evbuffer_add(b, "end", 3);
	tr_layout("b", b);
	evbuffer_free(a);
	evbuffer_free(b);
}

static void remove_buffer(void)
{
	struct evbuffer *s = evbuffer_new(), *d = evbuffer_new();
	static const size_t pieces[] = { 5, 11, 300, 2, 40 };
	static const size_t amounts[] = { 0, 1, 4, 5, 6, 16, 17, 300, 316, 400,
		1, 2000, 9999 };
	int i, r;

	printf("== remove_buffer\n");
	tr_add_pieces(s, text, 1500, pieces, 5, 'a');
	tr_layout("src", s);
	for (i = 0; i < (int)(sizeof(amounts) / sizeof(amounts[0])); i++) {
		r = evbuffer_remove_buffer(s, d, amounts[i]);
		printf("remove_buffer %zu -> %d\n", amounts[i], r);
		tr_layout("src", s);
		tr_layout("dst", d);
	}
	printf("src hash %016llx dst hash %016llx\n",
	    (unsigned long long)tr_buf_hash(s),
	    (unsigned long long)tr_buf_hash(d));
	tr_buf("src", s);
	printf("remove_buffer self -> %d\n", evbuffer_remove_buffer(d, d, 10));
	printf("remove_buffer from empty -> %d\n", evbuffer_remove_buffer(s, d, 10));
	evbuffer_drain(d, (size_t)-1);

	/* Partial chains with data already in dst. */
	evbuffer_add(d, "dst:", 4);
	tr_add_pieces(s, text + 100, 1200, pieces, 5, 'm');
	for (i = 0; i < 6; i++) {
		r = evbuffer_remove_buffer(s, d, 7 + (size_t)i * 61);
		printf("remove_buffer %d -> %d\n", 7 + i * 61, r);
		tr_layout("src", s);
		tr_layout("dst", d);
	}
	printf("src hash %016llx dst hash %016llx\n",
	    (unsigned long long)tr_buf_hash(s),
	    (unsigned long long)tr_buf_hash(d));

	/* dst holding only an empty chain. */
	evbuffer_free(d);
	d = evbuffer_new();
	evbuffer_expand(d, 100);
	r = evbuffer_remove_buffer(s, d, 500);
	printf("remove_buffer 500 -> %d\n", r);
	tr_layout("src", s);
	tr_layout("dst", d);
	printf("dst hash %016llx\n", (unsigned long long)tr_buf_hash(d));
	evbuffer_free(s);
	evbuffer_free(d);
}

static void many_buffers(void)
{
	/* Shuffle data between three buffers and check nothing is lost. */
	struct evbuffer *b[3];
	int i;
	size_t total;

	printf("== shuffle\n");
	for (i = 0; i < 3; i++)
		b[i] = evbuffer_new();
	for (i = 0; i < 60; i++) {
		struct evbuffer *x = b[i % 3], *y = b[(i + 1) % 3];
		evbuffer_add(x, text + i * 37, (size_t)(i * 13 % 250 + 1));
		if (i % 4 == 0)
			evbuffer_prepend(y, text + i, (size_t)(i % 9 + 1));
		if (i % 5 == 1)
			evbuffer_remove_buffer(x, y, (size_t)(i * 7 % 300));
		if (i % 7 == 2)
			evbuffer_add_buffer(y, x);
		if (i % 11 == 3)
			evbuffer_prepend_buffer(x, y);
		if (i % 6 == 5)
			evbuffer_drain(y, (size_t)(i % 40));
	}
	total = 0;
	for (i = 0; i < 3; i++) {
		char label[16];
		snprintf(label, sizeof(label), "b%d", i);
		tr_layout(label, b[i]);
		printf("%s hash %016llx\n", label,
		    (unsigned long long)tr_buf_hash(b[i]));
		total += evbuffer_get_length(b[i]);
		evbuffer_free(b[i]);
	}
	printf("total %zu\n", total);
}

int main(void)
{
	tr_init();
	fill_text();
	empty_buffer();
	growth();
	remove_copyout_drain();
	prepend();
	add_buffer();
	remove_buffer();
	many_buffers();
	return 0;
}
