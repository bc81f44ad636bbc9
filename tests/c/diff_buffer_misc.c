/*
 * diff_buffer_misc.c -- differential test of evbuffer's space management,
 * formatting, freezing and the compat macros.
 *
 * Covers evbuffer_expand (zero, small, large, impossible sizes) and
 * evbuffer_get_contiguous_space, evbuffer_reserve_space /
 * evbuffer_commit_space (one and two vectors, sizes around chain capacity,
 * partial commits, commits that do not match the reservation, zero vectors,
 * a reservation that is repeated, a reservation made stale by an add),
 * evbuffer_add_iovec, evbuffer_pullup (-1, 0, within the first chain, into
 * the first chain's room, into a new chain, more than the buffer holds),
 * evbuffer_add_printf / evbuffer_add_vprintf (many formats, empty output,
 * output larger than a chain, after an immutable chain), freezing each end
 * of a buffer and trying every operation that must then fail or still
 * succeed, and EVBUFFER_LENGTH / EVBUFFER_DATA from buffer_compat.h. The
 * layout of extents is shown after each step.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/buffer_compat.h>

#include "trace.h"

static unsigned char text[20000];

static void expand(void)
{
	struct evbuffer *b = evbuffer_new();
	int r;

	printf("== expand and contiguous space\n");
	printf("contig empty -> %zu\n", evbuffer_get_contiguous_space(b));
	r = evbuffer_expand(b, 0);
	printf("expand 0 -> %d\n", r);
	tr_layout("b", b);
	r = evbuffer_expand(b, 500);
	printf("expand 500 -> %d\n", r);
	tr_layout("b", b);
	r = evbuffer_expand(b, 5000);
	printf("expand 5000 -> %d\n", r);
	tr_layout("b", b);
	evbuffer_add(b, text, 5000);
	tr_layout("add 5000", b);
	evbuffer_add(b, text, 100);
	tr_layout("add 100", b);
	r = evbuffer_expand(b, 10);
	printf("expand 10 -> %d\n", r);
	tr_layout("b", b);
	r = evbuffer_expand(b, 3000);
	printf("expand 3000 -> %d\n", r);
	evbuffer_add(b, text, 3000);
	tr_layout("add 3000", b);
	r = evbuffer_expand(b, (size_t)-1 / 2);
	printf("expand huge -> %d\n", r);
	r = evbuffer_expand(b, (size_t)-1);
	printf("expand max -> %d\n", r);
	tr_layout("b", b);
	printf("add huge -> %d\n", evbuffer_add(b, text, (size_t)-1 / 2));
	tr_layout("b", b);
	evbuffer_free(b);

	/* expand resizes a small, full chain instead of adding one. */
	b = evbuffer_new();
	evbuffer_add(b, text, 100);
	r = evbuffer_expand(b, 2000);
	printf("expand 2000 after 100 -> %d\n", r);
	tr_layout("b", b);
	evbuffer_add(b, text, 2000);
	tr_layout("add 2000", b);
	evbuffer_drain(b, 2050);
	tr_layout("drained", b);
	r = evbuffer_expand(b, 40);
	printf("expand 40 -> %d\n", r);
	tr_layout("b", b);
	evbuffer_add(b, text, 40);
	tr_layout("add 40", b);
	evbuffer_free(b);

	/* After an immutable chain. */
	b = evbuffer_new();
	evbuffer_add_reference(b, text, 10, NULL, NULL);
	r = evbuffer_expand(b, 10);
	printf("expand 10 after reference -> %d\n", r);
	evbuffer_add(b, text, 10);
	tr_layout("b", b);
	evbuffer_free(b);
}

static void show_vecs(const char *what, int n, struct evbuffer_iovec *v)
{
	int i;
	printf("%s -> %d [", what, n);
	for (i = 0; i < n && i < 4; i++)
		printf("%s%zu", i ? "," : "", v[i].iov_len);
	printf("]\n");
}

static void reserve(void)
{
	struct evbuffer *b = evbuffer_new();
	struct evbuffer_iovec v[4], w[4];
	int n, r;
	static const ssize_t sizes[] = { 0, 1, 100, 976, 977, 2000, 5000 };
	int i, k;

	printf("== reserve and commit\n");
	for (k = 1; k <= 3; k++) {
		for (i = 0; i < (int)(sizeof(sizes) / sizeof(sizes[0])); i++) {
			char what[48];
			struct evbuffer *e = evbuffer_new();
			n = evbuffer_reserve_space(e, sizes[i], v, k);
			snprintf(what, sizeof(what), "empty reserve %zd nvec %d",
			    sizes[i], k);
			show_vecs(what, n, v);
			tr_layout("  e", e);
			evbuffer_add(e, text, 900);
			n = evbuffer_reserve_space(e, sizes[i], v, k);
			snprintf(what, sizeof(what), "900 reserve %zd nvec %d",
			    sizes[i], k);
			show_vecs(what, n, v);
			tr_layout("  e", e);
			evbuffer_free(e);
		}
	}
	n = evbuffer_reserve_space(b, 100, v, 0);
	printf("reserve nvec 0 -> %d\n", n);
	n = evbuffer_reserve_space(b, -1, v, 1);
	printf("reserve -1 nvec 1 -> %d\n", n);
	n = evbuffer_reserve_space(b, -1, v, 2);
	printf("reserve -1 nvec 2 -> %d\n", n);
	tr_layout("b", b);

	/* Use part of one extent. */
	n = evbuffer_reserve_space(b, 1024, v, 2);
	show_vecs("reserve 1024", n, v);
	memset(v[0].iov_base, 'X', 512);
	v[0].iov_len = 512;
	r = evbuffer_commit_space(b, v, 1);
	printf("commit 512 -> %d\n", r);
	tr_layout("b", b);
	/* A repeated reservation offers the same space. */
	n = evbuffer_reserve_space(b, 32, v, 2);
	k = evbuffer_reserve_space(b, 32, w, 2);
	show_vecs("reserve 32", n, v);
	printf("again same=%d\n", n == k && v[0].iov_base == w[0].iov_base &&
	    v[0].iov_len == w[0].iov_len);
	memset(v[0].iov_base, 'Y', 8);
	v[0].iov_len = 8;
	printf("commit 8 -> %d\n", evbuffer_commit_space(b, v, 1));
	/* Split across two chains. */
	n = evbuffer_reserve_space(b, 2000, v, 2);
	show_vecs("reserve 2000", n, v);
	memset(v[0].iov_base, 'W', 400);
	v[0].iov_len = 400;
	memset(v[1].iov_base, 'x', 60);
	v[1].iov_len = 60;
	printf("commit 400+60 -> %d\n", evbuffer_commit_space(b, v, 2));
	tr_layout("b", b);
	printf("hash %016llx\n", (unsigned long long)tr_buf_hash(b));
	/* Commits that do not match. */
	n = evbuffer_reserve_space(b, 100, v, 2);
	show_vecs("reserve 100", n, v);
	w[0] = v[0];
	w[0].iov_len = v[0].iov_len + 1;
	printf("commit too long -> %d\n", evbuffer_commit_space(b, w, 1));
	w[0] = v[0];
	w[0].iov_base = (char *)v[0].iov_base + 1;
	w[0].iov_len = 1;
	printf("commit wrong base -> %d\n", evbuffer_commit_space(b, w, 1));
	printf("commit no vecs -> %d\n", evbuffer_commit_space(b, v, 0));
	w[0] = v[0];
	w[0].iov_len = 0;
	printf("commit zero length -> %d\n", evbuffer_commit_space(b, w, 1));
	tr_layout("b", b);
	/* Made stale by an add. */
	n = evbuffer_reserve_space(b, 10, v, 1);
	evbuffer_add(b, "zz", 2);
	v[0].iov_len = 1;
	printf("commit after add -> %d\n", evbuffer_commit_space(b, v, 1));
	tr_layout("b", b);
	/* Two extents, only the second used. */
	n = evbuffer_reserve_space(b, 3000, v, 2);
	show_vecs("reserve 3000", n, v);
	if (n == 2) {
		v[0].iov_len = 0;
		memset(v[1].iov_base, 'q', 5);
		v[1].iov_len = 5;
		printf("commit 0+5 -> %d\n", evbuffer_commit_space(b, v, 2));
	}
	tr_layout("b", b);
	evbuffer_add(b, "end", 3);
	tr_layout("b", b);
	printf("hash %016llx\n", (unsigned long long)tr_buf_hash(b));
	/* After an immutable chain. */
	evbuffer_add_reference(b, "ref", 3, NULL, NULL);
	n = evbuffer_reserve_space(b, 10, v, 2);
	show_vecs("reserve after reference", n, v);
	memcpy(v[0].iov_base, "after", 5);
	v[0].iov_len = 5;
	printf("commit 5 -> %d\n", evbuffer_commit_space(b, v, 1));
	tr_layout("b", b);
	evbuffer_free(b);

	/* Many reservations and commits of varying sizes. */
	b = evbuffer_new();
	for (i = 0; i < 60; i++) {
		size_t want = (size_t)(i * 97 % 1500 + 1);
		int nv = i % 3 + 1;
		n = evbuffer_reserve_space(b, (ssize_t)want, v, nv);
		if (n > 0) {
			size_t left = want;
			for (k = 0; k < n; k++) {
				size_t use = v[k].iov_len < left ? v[k].iov_len : left;
				memcpy(v[k].iov_base, text + i, use);
				v[k].iov_len = use;
				left -= use;
			}
			r = evbuffer_commit_space(b, v, n);
		} else {
			r = -2;
		}
		if (i % 6 == 5)
			evbuffer_drain(b, want * 2);
		printf("round %d want %zu nvec %d -> n=%d commit=%d len=%zu contig=%zu\n",
		    i, want, nv, n, r, evbuffer_get_length(b),
		    evbuffer_get_contiguous_space(b));
	}
	tr_layout("b", b);
	printf("hash %016llx\n", (unsigned long long)tr_buf_hash(b));
	evbuffer_free(b);
}

static void iovec(void)
{
	struct evbuffer *b = evbuffer_new();
	struct evbuffer_iovec v[8];
	size_t r;
	int i;

	printf("== add_iovec\n");
	r = evbuffer_add_iovec(b, v, 0);
	printf("add_iovec 0 vecs -> %zu\n", r);
	tr_layout("b", b);
	for (i = 0; i < 8; i++) {
		v[i].iov_base = text + i * 1000;
		v[i].iov_len = (size_t)(i * 333 % 1200);
	}
	r = evbuffer_add_iovec(b, v, 8);
	printf("add_iovec 8 vecs -> %zu\n", r);
	tr_layout("b", b);
	r = evbuffer_add_iovec(b, v + 1, 1);
	printf("add_iovec 1 vec -> %zu\n", r);
	tr_layout("b", b);
	printf("hash %016llx\n", (unsigned long long)tr_buf_hash(b));
	v[0].iov_base = text;
	v[0].iov_len = 9000;
	r = evbuffer_add_iovec(b, v, 1);
	printf("add_iovec 9000 -> %zu\n", r);
	tr_layout("b", b);
	evbuffer_freeze(b, 0);
	r = evbuffer_add_iovec(b, v + 2, 3);
	printf("add_iovec frozen -> %zu\n", r);
	evbuffer_unfreeze(b, 0);
	tr_layout("b", b);
	evbuffer_free(b);
}

static void pullup(void)
{
	struct evbuffer *b = evbuffer_new();
	static const size_t pieces[] = { 100, 50, 3, 700, 20, 2000, 1 };
	unsigned char *p;

	printf("== pullup\n");
	p = evbuffer_pullup(b, -1);
	printf("empty -1 -> %s\n", p ? "ptr" : "NULL");
	tr_add_pieces(b, text, 5000, pieces, 7, 'm');
	tr_layout("b", b);
	p = evbuffer_pullup(b, 0);
	printf("pullup 0 -> %s\n", p ? "ptr" : "NULL");
	p = evbuffer_pullup(b, 5001);
	printf("pullup 5001 -> %s\n", p ? "ptr" : "NULL");
	tr_layout("b", b);
	p = evbuffer_pullup(b, 60);
	printf("pullup 60 -> ok=%d\n", p && !memcmp(p, text, 60));
	tr_layout("b", b);
	p = evbuffer_pullup(b, 150);
	printf("pullup 150 -> ok=%d\n", p && !memcmp(p, text, 150));
	tr_layout("b", b);
	p = evbuffer_pullup(b, 152);
	printf("pullup 152 -> ok=%d\n", p && !memcmp(p, text, 152));
	tr_layout("b", b);
	p = evbuffer_pullup(b, 900);
	printf("pullup 900 -> ok=%d\n", p && !memcmp(p, text, 900));
	tr_layout("b", b);
	p = evbuffer_pullup(b, 1500);
	printf("pullup 1500 -> ok=%d\n", p && !memcmp(p, text, 1500));
	tr_layout("b", b);
	evbuffer_drain(b, 7);
	p = evbuffer_pullup(b, -1);
	printf("pullup -1 -> ok=%d\n", p && !memcmp(p, text + 7, 4993));
	tr_layout("b", b);
	evbuffer_add(b, "more", 4);
	tr_layout("b", b);
	evbuffer_free(b);

	/* Room in the first chain: data from the next chains moves in. */
	b = evbuffer_new();
	evbuffer_add(b, text, 100);
	evbuffer_add_reference(b, text + 100, 50, NULL, NULL);
	evbuffer_add(b, text + 150, 30);
	tr_layout("b", b);
	p = evbuffer_pullup(b, 160);
	printf("pullup 160 -> ok=%d\n", p && !memcmp(p, text, 160));
	tr_layout("b", b);
	p = evbuffer_pullup(b, 180);
	printf("pullup 180 -> ok=%d\n", p && !memcmp(p, text, 180));
	tr_layout("b", b);
	evbuffer_add(b, text + 180, 10);
	tr_layout("b", b);
	evbuffer_free(b);

	/* A drained first chain whose room is at the front. */
	b = evbuffer_new();
	evbuffer_add(b, text, 900);
	evbuffer_drain(b, 850);
	evbuffer_add_reference(b, text + 900, 900, NULL, NULL);
	tr_layout("b", b);
	p = evbuffer_pullup(b, 100);
	printf("pullup 100 -> ok=%d\n", p && !memcmp(p, text + 850, 100));
	tr_layout("b", b);
	p = evbuffer_pullup(b, 950);
	printf("pullup 950 -> ok=%d\n", p && !memcmp(p, text + 850, 950));
	tr_layout("b", b);
	evbuffer_free(b);

	/* Compat macros. */
	b = evbuffer_new();
	printf("EVBUFFER_LENGTH empty -> %zu\n", EVBUFFER_LENGTH(b));
	printf("EVBUFFER_DATA empty -> %s\n", EVBUFFER_DATA(b) ? "ptr" : "NULL");
	evbuffer_add(b, "compat", 6);
	evbuffer_add_reference(b, " macros", 7, NULL, NULL);
	printf("EVBUFFER_LENGTH -> %zu\n", EVBUFFER_LENGTH(b));
	p = EVBUFFER_DATA(b);
	printf("EVBUFFER_DATA -> ");
	tr_esc(p, EVBUFFER_LENGTH(b));
	putchar('\n');
	tr_layout("b", b);
	evbuffer_free(b);
}

static int vprintf_into(struct evbuffer *b, const char *fmt, ...)
{
	va_list ap;
	int r;
	va_start(ap, fmt);
	r = evbuffer_add_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

static void printf_tests(void)
{
	struct evbuffer *b = evbuffer_new();
	static char big[9000];
	int r;

	printf("== printf\n");
	r = evbuffer_add_printf(b, "%d|%i|%u|%x|%X|%o|%c|%s|%%|%5d|%-5d|%05d", -42, 7,
	    3000000000u, 0xbeef, 0xbeef, 8, 'q', "str", 12, 12, 12);
	printf("add_printf ints -> %d\n", r);
	tr_full("b", b);
	r = evbuffer_add_printf(b, "|%ld|%lld|%zu|%hd|%hhu|%lu", -1L, -9000000000LL,
	    (size_t)123456789, (short)-3, (unsigned char)250, 4000000000UL);
	printf("add_printf longs -> %d\n", r);
	r = evbuffer_add_printf(b, "|%.3f|%e|%g|%10.4s|%-8s|%*d|%.*s", 3.14159, 1e10,
	    0.5, "abcdefgh", "ab", 6, 42, 2, "xyz");
	printf("add_printf floats, widths -> %d\n", r);
	tr_full("b", b);
	r = evbuffer_add_printf(b, "%s", "");
	printf("add_printf empty -> %d\n", r);
	r = vprintf_into(b, "|v%dv%sv", 9, "ap");
	printf("add_vprintf -> %d\n", r);
	tr_full("b", b);
	evbuffer_free(b);

	/* Output bigger than any chain at hand. */
	b = evbuffer_new();
	memset(big, 'B', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	r = evbuffer_add_printf(b, "<%s>", big);
	printf("add_printf 9001 -> %d\n", r);
	tr_layout("b", b);
	r = evbuffer_add_printf(b, "%05000d", 7);
	printf("add_printf %%05000d -> %d\n", r);
	tr_layout("b", b);
	r = evbuffer_add_printf(b, "%s", "tiny");
	printf("add_printf tiny -> %d\n", r);
	tr_layout("b", b);
	r = vprintf_into(b, "%*s|", 4500, "right");
	printf("add_vprintf 4501 -> %d\n", r);
	tr_layout("b", b);
	printf("hash %016llx\n", (unsigned long long)tr_buf_hash(b));
	evbuffer_free(b);

	/* Many small ones, the chain fills and the next begins. */
	b = evbuffer_new();
	{
		int i, sum = 0;
		for (i = 0; i < 300; i++)
			sum += evbuffer_add_printf(b, "line %d: %s\n", i, i % 2 ? "odd" : "even");
		printf("300 printfs -> %d\n", sum);
	}
	tr_layout("b", b);
	printf("hash %016llx\n", (unsigned long long)tr_buf_hash(b));
	evbuffer_free(b);

	/* After an immutable chain, and on an empty buffer: no data, but the
	 * room printf prepared stays. */
	b = evbuffer_new();
	r = evbuffer_add_printf(b, "%s", "");
	printf("empty printf on empty -> %d\n", r);
	tr_layout("b", b);
	evbuffer_add_reference(b, "ref", 3, NULL, NULL);
	r = evbuffer_add_printf(b, "[%d]", 5);
	printf("printf after reference -> %d\n", r);
	tr_full("b", b);
	evbuffer_add(b, text, 2000);
	tr_layout("b", b);
	evbuffer_free(b);
}

/* Gives x some data again if an operation moved it all away: at whichever
 * end is not frozen. */
static void refill(struct evbuffer *x, const char *what)
{
	if (evbuffer_get_length(x) == 0 && evbuffer_add(x, what, strlen(what)) < 0)
		evbuffer_prepend(x, what, strlen(what));
}

/* Every operation, on a buffer frozen at one end. */
static void freeze(int at_front)
{
	struct evbuffer *b = evbuffer_new(), *o = evbuffer_new();
	struct evbuffer_iovec v[2];
	struct evbuffer_ptr p;
	char out[64];
	char *line;
	size_t n;
	int fds[2], r;
	ssize_t c;

	printf("== frozen %s\n", at_front ? "front" : "end");
	evbuffer_add(b, "line one\nline two\n", 18);
	evbuffer_add(o, "other", 5);
	printf("freeze -> %d\n", evbuffer_freeze(b, at_front));
	printf("freeze twice -> %d\n", evbuffer_freeze(b, at_front));
	printf("add -> %d\n", evbuffer_add(b, "x", 1));
	printf("add 0 -> %d\n", evbuffer_add(b, "x", 0));
	printf("prepend -> %d\n", evbuffer_prepend(b, "x", 1));
	printf("prepend 0 -> %d\n", evbuffer_prepend(b, "x", 0));
	printf("drain 1 -> %d\n", evbuffer_drain(b, 1));
	printf("drain 0 -> %d\n", evbuffer_drain(b, 0));
	printf("remove 2 -> %d\n", evbuffer_remove(b, out, 2));
	printf("remove 0 -> %d\n", evbuffer_remove(b, out, 0));
	printf("copyout 2 -> %zd\n", evbuffer_copyout(b, out, 2));
	printf("copyout 0 -> %zd\n", evbuffer_copyout(b, out, 0));
	evbuffer_ptr_set(b, &p, 3, EVBUFFER_PTR_SET);
	c = evbuffer_copyout_from(b, &p, out, 2);
	printf("copyout_from 2 -> %zd\n", c);
	printf("ptr_set -> %d\n", evbuffer_ptr_set(b, &p, 4, EVBUFFER_PTR_SET));
	printf("search -> %zd\n", (ssize_t)evbuffer_search(b, "two", 3, NULL).pos);
	printf("search_eol -> %zd\n",
	    (ssize_t)evbuffer_search_eol(b, NULL, &n, EVBUFFER_EOL_LF).pos);
	printf("peek -> %d\n", evbuffer_peek(b, -1, NULL, NULL, 0));
	printf("length -> %zu contig -> %zu\n", evbuffer_get_length(b),
	    evbuffer_get_contiguous_space(b));
	n = 99;
	line = evbuffer_readln(b, &n, EVBUFFER_EOL_LF);
	tr_line("readln", line, n);
	free(line);
	line = evbuffer_readline(b);
	printf("readline -> %s\n", line ? line : "NULL");
	free(line);
	printf("add_printf -> %d\n", evbuffer_add_printf(b, "%d", 5));
	v[0].iov_base = (void *)"iov";
	v[0].iov_len = 3;
	printf("add_iovec -> %zu\n", evbuffer_add_iovec(b, v, 1));
	printf("add_reference -> %d\n", evbuffer_add_reference(b, "r", 1, NULL, NULL));
	printf("expand -> %d\n", evbuffer_expand(b, 100));
	r = evbuffer_reserve_space(b, 10, v, 1);
	printf("reserve -> %d\n", r);
	if (r == 1) {
		memcpy(v[0].iov_base, "RS", 2);
		v[0].iov_len = 2;
		printf("commit -> %d\n", evbuffer_commit_space(b, v, 1));
	}
	printf("commit 0 vecs -> %d\n", evbuffer_commit_space(b, v, 0));
	printf("pullup -> %s\n", evbuffer_pullup(b, -1) ? "ptr" : "NULL");
	refill(b, "refill");
	printf("add_buffer into -> %d\n", evbuffer_add_buffer(b, o));
	tr_buf("  o", o);
	refill(o, "other");
	refill(b, "refill");
	printf("add_buffer from -> %d\n", evbuffer_add_buffer(o, b));
	tr_buf("  o", o);
	refill(o, "other");
	refill(b, "refill");
	printf("prepend_buffer into -> %d\n", evbuffer_prepend_buffer(b, o));
	tr_buf("  o", o);
	refill(o, "other");
	refill(b, "refill");
	printf("prepend_buffer from -> %d\n", evbuffer_prepend_buffer(o, b));
	tr_buf("  o", o);
	refill(o, "other");
	refill(b, "refill");
	printf("remove_buffer from 2 -> %d\n", evbuffer_remove_buffer(b, o, 2));
	printf("remove_buffer from 0 -> %d\n", evbuffer_remove_buffer(b, o, 0));
	printf("remove_buffer into 2 -> %d\n", evbuffer_remove_buffer(o, b, 2));
	tr_buf("  o", o);
	refill(o, "other");
	refill(b, "refill");
	{
		struct evbuffer *x = evbuffer_new();
		printf("add_buffer_reference into -> %d\n",
		    evbuffer_add_buffer_reference(b, o));
		printf("add_buffer_reference from -> %d\n",
		    evbuffer_add_buffer_reference(x, b));
		tr_buf("  x", x);
		evbuffer_free(x);
		x = evbuffer_new();
		printf("add_buffer from empty -> %d\n", evbuffer_add_buffer(b, x));
		printf("add_buffer into from empty -> %d\n", evbuffer_add_buffer(x, b));
		evbuffer_free(x);
	}
	tr_buf("b", b);
	refill(b, "refill");
	if (pipe(fds) == 0) {
		if (write(fds[1], "piped", 5) != 5)
			printf("pipe write failed\n");
		printf("read -> %d\n", evbuffer_read(b, fds[0], -1));
		printf("write -> %d\n", evbuffer_write(b, fds[1]));
		printf("write_atmost -> %d\n", evbuffer_write_atmost(b, fds[1], 3));
		close(fds[0]);
		close(fds[1]);
	}
	tr_full("b", b);
	printf("unfreeze -> %d\n", evbuffer_unfreeze(b, at_front));
	printf("unfreeze twice -> %d\n", evbuffer_unfreeze(b, at_front));
	printf("other end unfreeze -> %d\n", evbuffer_unfreeze(b, !at_front));
	printf("add -> %d\n", evbuffer_add(b, "!", 1));
	printf("drain 1 -> %d\n", evbuffer_drain(b, 1));
	tr_full("b", b);
	/* Both ends at once. */
	refill(b, "refill");
	refill(o, "other");
	evbuffer_freeze(b, 0);
	evbuffer_freeze(b, 1);
	r = evbuffer_add(b, "x", 1);
	printf("both: add -> %d\n", r);
	r = evbuffer_drain(b, 1);
	printf("both: drain -> %d\n", r);
	r = evbuffer_remove_buffer(b, o, 1);
	printf("both: remove_buffer -> %d\n", r);
	evbuffer_unfreeze(b, 1);
	r = evbuffer_add(b, "x", 1);
	printf("end only: add -> %d\n", r);
	r = evbuffer_drain(b, 1);
	printf("end only: drain -> %d\n", r);
	tr_buf("b", b);
	evbuffer_free(b);
	evbuffer_free(o);
}

int main(void)
{
	size_t i;
	tr_init();
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < sizeof(text); i++)
		text[i] = (unsigned char)('0' + (i * 17 + i / 75) % 75);
	expand();
	reserve();
	iovec();
	pullup();
	printf_tests();
	freeze(1);
	freeze(0);
	return 0;
}
