/*
 * diff_buffer_search.c -- differential test of evbuffer positions and
 * searching.
 *
 * Covers evbuffer_ptr_set (SET and ADD, in range, at the end, past the end,
 * on a pointer that is already invalid), evbuffer_search and
 * evbuffer_search_range (needles straddling chain boundaries, empty needles,
 * needles longer than the buffer, start at the end, end before start, end at
 * the end), evbuffer_search_eol for every EOL style from many start
 * positions, evbuffer_copyout_from, evbuffer_peek (with and without a start
 * pointer, counts with too few vectors, zero and negative lengths) and the
 * compat evbuffer_find. The buffer is built from many small chains of several
 * kinds. Each search result is also checked against a naive scan of the same
 * bytes; a disagreement prints a line starting with "MISMATCH".
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <event2/buffer.h>
#include <event2/buffer_compat.h>

#include "trace.h"

/* One spare byte past the data, for needles one longer than the buffer. */
static unsigned char data[601];
static size_t data_len;

static const size_t pieces[] = { 1, 2, 3, 5, 8, 13, 1, 1, 21, 4 };

/* Deterministic text over a small alphabet, so needles have many partial
 * matches, with a few line ends and NULs mixed in. */
static void make_data(void)
{
	struct tr_rng r = { 42 };
	size_t i;
	for (i = 0; i < sizeof(data) - 1; i++) {
		size_t k = tr_below(&r, 40);
		if (k < 3)
			data[i] = '\n';
		else if (k < 5)
			data[i] = '\r';
		else if (k == 5)
			data[i] = '\0';
		else
			data[i] = (unsigned char)"abcab"[k % 5];
	}
	data[600] = 'z';
	data_len = 600;
}

static struct evbuffer *build(char how)
{
	struct evbuffer *b = evbuffer_new();
	tr_add_pieces(b, data, data_len, pieces, 10, how);
	return b;
}

/* The first match of needle at or after start whose end is at or before
 * end, or -1. */
static ssize_t naive(const unsigned char *hay, size_t n, const char *needle,
    size_t len, size_t start, size_t end)
{
	size_t i;
	if (len == 0)
		return (ssize_t)start;
	for (i = start; i + len <= end && i + len <= n; i++)
		if (!memcmp(hay + i, needle, len))
			return (ssize_t)i;
	return -1;
}

static void ptr_set(void)
{
	struct evbuffer *b = build('a'), *e = evbuffer_new();
	struct evbuffer_ptr p, q;
	size_t len = evbuffer_get_length(b);
	static const size_t sets[] = { 0, 1, 2, 3, 6, 7, 100, 599, 600, 601,
		1000 };
	int i, r;

	printf("== ptr_set\n");
	tr_layout("buf", b);
	for (i = 0; i < (int)(sizeof(sets) / sizeof(sets[0])); i++) {
		r = evbuffer_ptr_set(b, &p, sets[i], EVBUFFER_PTR_SET);
		printf("set %zu -> %d pos=%zd\n", sets[i], r, (ssize_t)p.pos);
	}
	r = evbuffer_ptr_set(b, &p, 0, EVBUFFER_PTR_SET);
	printf("set 0 -> %d pos=%zd\n", r, (ssize_t)p.pos);
	for (i = 0; i < 12; i++) {
		r = evbuffer_ptr_set(b, &p, (size_t)i, EVBUFFER_PTR_ADD);
		printf("add %d -> %d pos=%zd\n", i, r, (ssize_t)p.pos);
	}
	r = evbuffer_ptr_set(b, &p, 0, EVBUFFER_PTR_ADD);
	printf("add 0 -> %d pos=%zd\n", r, (ssize_t)p.pos);
	r = evbuffer_ptr_set(b, &p, len - (size_t)p.pos, EVBUFFER_PTR_ADD);
	printf("add to end -> %d pos=%zd\n", r, (ssize_t)p.pos);
	r = evbuffer_ptr_set(b, &p, 0, EVBUFFER_PTR_ADD);
	printf("add 0 at end -> %d pos=%zd\n", r, (ssize_t)p.pos);
	r = evbuffer_ptr_set(b, &p, 1, EVBUFFER_PTR_ADD);
	printf("add 1 past end -> %d pos=%zd\n", r, (ssize_t)p.pos);
	r = evbuffer_ptr_set(b, &p, 1, EVBUFFER_PTR_ADD);
	printf("add 1 to invalid -> %d pos=%zd\n", r, (ssize_t)p.pos);
	r = evbuffer_ptr_set(b, &p, 0, EVBUFFER_PTR_ADD);
	printf("add 0 to invalid -> %d pos=%zd\n", r, (ssize_t)p.pos);
	r = evbuffer_ptr_set(b, &p, 590, EVBUFFER_PTR_SET);
	printf("set 590 -> %d pos=%zd\n", r, (ssize_t)p.pos);
	r = evbuffer_ptr_set(b, &p, 50, EVBUFFER_PTR_ADD);
	printf("add 50 past end -> %d pos=%zd\n", r, (ssize_t)p.pos);
	r = evbuffer_ptr_set(b, &p, 5, EVBUFFER_PTR_SET);
	printf("set 5 after invalid -> %d pos=%zd\n", r, (ssize_t)p.pos);

	/* ADD walks from where the pointer is; the result must equal SET. */
	for (i = 0; i < 600; i += 37) {
		char a[8], c[8];
		ssize_t n1, n2;
		evbuffer_ptr_set(b, &p, 3, EVBUFFER_PTR_SET);
		evbuffer_ptr_set(b, &p, (size_t)i, EVBUFFER_PTR_ADD);
		evbuffer_ptr_set(b, &q, (size_t)i + 3, EVBUFFER_PTR_SET);
		n1 = evbuffer_copyout_from(b, &p, a, sizeof(a));
		n2 = evbuffer_copyout_from(b, &q, c, sizeof(c));
		printf("walk %d: pos %zd/%zd copy %zd/%zd ", i, (ssize_t)p.pos,
		    (ssize_t)q.pos, n1, n2);
		tr_esc(a, n1 > 0 ? (size_t)n1 : 0);
		printf("%s\n", n1 == n2 && (n1 <= 0 || !memcmp(a, c, (size_t)n1))
		    ? "" : " MISMATCH");
	}

	/* An empty buffer has exactly one position. */
	r = evbuffer_ptr_set(e, &p, 0, EVBUFFER_PTR_SET);
	printf("empty set 0 -> %d pos=%zd\n", r, (ssize_t)p.pos);
	r = evbuffer_ptr_set(e, &p, 0, EVBUFFER_PTR_ADD);
	printf("empty add 0 -> %d pos=%zd\n", r, (ssize_t)p.pos);
	r = evbuffer_ptr_set(e, &p, 1, EVBUFFER_PTR_SET);
	printf("empty set 1 -> %d pos=%zd\n", r, (ssize_t)p.pos);
	evbuffer_free(e);
	evbuffer_free(b);
}

static void copyout_from(void)
{
	struct evbuffer *b = build('m');
	struct evbuffer_ptr p;
	unsigned char out[700];
	static const size_t starts[] = { 0, 1, 3, 4, 6, 10, 11, 32, 33, 299,
		590, 599, 600 };
	static const size_t lens[] = { 0, 1, 2, 5, 9, 40, 700 };
	int i, j;

	printf("== copyout_from\n");
	for (i = 0; i < (int)(sizeof(starts) / sizeof(starts[0])); i++) {
		for (j = 0; j < (int)(sizeof(lens) / sizeof(lens[0])); j++) {
			ssize_t n;
			evbuffer_ptr_set(b, &p, starts[i], EVBUFFER_PTR_SET);
			n = evbuffer_copyout_from(b, &p, out, lens[j]);
			printf("from %zu len %zu -> %zd ", starts[i], lens[j], n);
			tr_esc(out, n > 0 ? (size_t)n : 0);
			if (n > 0 && memcmp(out, data + starts[i], (size_t)n))
				printf(" MISMATCH");
			putchar('\n');
		}
	}
	printf("copyout_from NULL ptr 4 -> %zd\n",
	    evbuffer_copyout_from(b, NULL, out, 4));
	tr_layout("unchanged", b);
	evbuffer_free(b);
}

static void print_search(const char *what, struct evbuffer *b,
    const char *needle, size_t len, ssize_t start, ssize_t end)
{
	struct evbuffer_ptr s, e, r;
	size_t total = evbuffer_get_length(b);
	ssize_t want;
	if (start >= 0)
		evbuffer_ptr_set(b, &s, (size_t)start, EVBUFFER_PTR_SET);
	if (end >= 0)
		evbuffer_ptr_set(b, &e, (size_t)end, EVBUFFER_PTR_SET);
	if (end >= 0 || !strcmp(what, "range"))
		r = evbuffer_search_range(b, needle, len, start >= 0 ? &s : NULL,
		    end >= 0 ? &e : NULL);
	else
		r = evbuffer_search(b, needle, len, start >= 0 ? &s : NULL);
	want = naive(data, total, needle, len, start >= 0 ? (size_t)start : 0,
	    end >= 0 ? (size_t)end : total);
	printf("%s ", what);
	tr_esc(needle, len);
	printf(" start=%zd end=%zd -> %zd%s\n", start, end, (ssize_t)r.pos,
	    want == (ssize_t)r.pos ? "" : " MISMATCH");
}

static void search(void)
{
	static const char *needles[] = { "a", "ab", "abc", "cab", "bca",
		"\r\n", "\n\r", "ccc", "abab", "bcabca", "\0a", "zzz", "c\rab" };
	static const size_t nlens[] = { 1, 2, 3, 3, 3, 2, 2, 3, 4, 6, 2, 3, 4 };
	int h, i;
	char how[] = { 'm', 'r', 'a' };

	printf("== search\n");
	for (h = 0; h < 3; h++) {
		struct evbuffer *b = build(how[h]);
		struct evbuffer_ptr p;
		printf("-- build %c\n", how[h]);
		for (i = 0; i < (int)(sizeof(needles) / sizeof(needles[0])); i++) {
			const char *nd = needles[i];
			size_t nl = nlens[i];
			int count = 0;
			uint64_t hsh = 0xcbf29ce484222325ULL;
			ssize_t first = -1, last = -1;
			/* All matches, advancing one byte past each. */
			p = evbuffer_search(b, nd, nl, NULL);
			while (p.pos >= 0) {
				ssize_t want = naive(data, data_len, nd, nl,
				    last < 0 ? 0 : (size_t)last + 1, data_len);
				if (want != (ssize_t)p.pos)
					printf("MISMATCH at %zd\n", (ssize_t)p.pos);
				if (first < 0)
					first = (ssize_t)p.pos;
				last = (ssize_t)p.pos;
				hsh = tr_fnv1a_update(hsh, &last, sizeof(last));
				count++;
				if (evbuffer_ptr_set(b, &p, 1, EVBUFFER_PTR_ADD) < 0)
					break;
				p = evbuffer_search(b, nd, nl, &p);
			}
			printf("all ");
			tr_esc(nd, nl);
			printf(" count=%d first=%zd last=%zd poshash=%016llx\n",
			    count, first, last, (unsigned long long)hsh);
		}
		if (how[h] != 'a') {
			evbuffer_free(b);
			continue;
		}
		print_search("search", b, "ab", 2, -1, -1);
		print_search("search", b, "", 0, -1, -1);
		print_search("search", b, "", 0, 17, -1);
		print_search("search", b, "", 0, 600, -1);
		print_search("search", b, (const char *)data, 600, -1, -1);
		print_search("search", b, (const char *)data, 601, -1, -1);
		print_search("search", b, (const char *)data + 100, 250, -1, -1);
		print_search("search", b, (const char *)data + 100, 250, 100, -1);
		print_search("search", b, (const char *)data + 100, 250, 101, -1);
		print_search("search", b, (const char *)data + 598, 2, 590, -1);
		print_search("search", b, "a", 1, 600, -1);
		for (i = 0; i < 40; i += 3) {
			print_search("range", b, "ab", 2, i, i + 4);
			print_search("range", b, "a", 1, i, i + 1);
			print_search("range", b, "b", 1, i, i + 2);
			print_search("range", b, "a", 1, i, i);
		}
		print_search("range", b, "ab", 2, 50, 10);
		print_search("range", b, "ab", 2, 50, 49);
		print_search("range", b, "ab", 2, -1, 0);
		print_search("range", b, "ab", 2, -1, 600);
		print_search("range", b, "ab", 2, 500, 600);
		print_search("range", b, "ab", 2, 500, -1);
		print_search("range", b, "", 0, 30, 10);
		print_search("range", b, (const char *)data + 590, 10, 580, 600);
		print_search("range", b, (const char *)data + 590, 10, 580, 599);
		evbuffer_free(b);
	}

	/* Searching an empty buffer. */
	{
		struct evbuffer *e = evbuffer_new();
		struct evbuffer_ptr r = evbuffer_search(e, "x", 1, NULL);
		printf("empty search x -> %zd\n", (ssize_t)r.pos);
		r = evbuffer_search(e, "", 0, NULL);
		printf("empty search \"\" -> %zd\n", (ssize_t)r.pos);
		r = evbuffer_search_range(e, "x", 1, NULL, NULL);
		printf("empty range x -> %zd\n", (ssize_t)r.pos);
		evbuffer_free(e);
	}
}

static void search_eol(void)
{
	struct evbuffer *b = build('a'), *e = evbuffer_new();
	struct evbuffer_ptr s, r;
	int style, i;
	size_t eol;
	static const char *names[] = { "ANY", "CRLF", "CRLF_STRICT", "LF", "NUL" };

	printf("== search_eol\n");
	for (style = 0; style <= 4; style++) {
		uint64_t hsh = 0xcbf29ce484222325ULL;
		int count = 0;
		/* From every start position. */
		for (i = 0; i <= 600; i++) {
			ssize_t out[2];
			evbuffer_ptr_set(b, &s, (size_t)i, EVBUFFER_PTR_SET);
			eol = 77;
			r = evbuffer_search_eol(b, &s, &eol, (enum evbuffer_eol_style)style);
			out[0] = (ssize_t)r.pos;
			out[1] = (ssize_t)eol;
			hsh = tr_fnv1a_update(hsh, out, sizeof(out));
			if (i < 24 || i > 590 || i % 50 == 0)
				printf("eol %s from %d -> %zd len=%zu\n", names[style],
				    i, (ssize_t)r.pos, eol);
			if (r.pos >= 0)
				count++;
		}
		printf("eol %s summary found=%d hash=%016llx\n", names[style],
		    count, (unsigned long long)hsh);
		eol = 77;
		r = evbuffer_search_eol(b, NULL, &eol, (enum evbuffer_eol_style)style);
		printf("eol %s from NULL -> %zd len=%zu\n", names[style],
		    (ssize_t)r.pos, eol);
		r = evbuffer_search_eol(b, NULL, NULL, (enum evbuffer_eol_style)style);
		printf("eol %s no len_out -> %zd\n", names[style], (ssize_t)r.pos);
		eol = 77;
		r = evbuffer_search_eol(e, NULL, &eol, (enum evbuffer_eol_style)style);
		printf("eol %s empty -> %zd len=%zu\n", names[style],
		    (ssize_t)r.pos, eol);
	}
	/* An invalid pointer, and a style that does not exist. */
	evbuffer_ptr_set(b, &s, 601, EVBUFFER_PTR_SET);
	eol = 77;
	r = evbuffer_search_eol(b, &s, &eol, EVBUFFER_EOL_ANY);
	printf("eol from invalid ptr -> %zd len=%zu\n", (ssize_t)r.pos, eol);
	eol = 77;
	r = evbuffer_search_eol(b, NULL, &eol, (enum evbuffer_eol_style)7);
	printf("eol style 7 -> %zd len=%zu\n", (ssize_t)r.pos, eol);
	evbuffer_free(b);
	evbuffer_free(e);
}

static void print_peek(struct evbuffer *b, ssize_t len, ssize_t start,
    int nvec)
{
	struct evbuffer_iovec v[40];
	struct evbuffer_ptr p;
	int n, i, shown;
	size_t sum = 0;
	memset(v, 0, sizeof(v));
	if (start >= 0)
		evbuffer_ptr_set(b, &p, (size_t)start, EVBUFFER_PTR_SET);
	n = evbuffer_peek(b, len, start >= 0 ? &p : NULL, nvec ? v : NULL, nvec);
	printf("peek len=%zd start=%zd nvec=%d -> %d [", len, start, nvec, n);
	shown = n < nvec ? n : nvec;
	for (i = 0; i < shown; i++) {
		printf("%s%zu", i ? "," : "", v[i].iov_len);
		sum += v[i].iov_len;
	}
	printf("] sum=%zu", sum);
	if (shown > 0) {
		/* The extents must be the buffer's bytes, in order. */
		size_t off = start >= 0 ? (size_t)start : 0;
		int ok = 1;
		for (i = 0; i < shown; i++) {
			if (off + v[i].iov_len > data_len ||
			    memcmp(v[i].iov_base, data + off, v[i].iov_len))
				ok = 0;
			off += v[i].iov_len;
		}
		printf("%s", ok ? "" : " MISMATCH");
	}
	putchar('\n');
}

static void peek(void)
{
	struct evbuffer *b = build('a'), *e = evbuffer_new();
	struct evbuffer_ptr p;
	static const ssize_t lens[] = { -1, 0, 1, 2, 3, 4, 6, 7, 50, 599, 600,
		601, 100000 };
	static const ssize_t starts[] = { -1, 0, 1, 2, 3, 5, 6, 100, 599, 600 };
	static const int nvecs[] = { 0, 1, 2, 3, 40 };
	int i, j, k;

	printf("== peek\n");
	for (i = 0; i < (int)(sizeof(starts) / sizeof(starts[0])); i++)
		for (j = 0; j < (int)(sizeof(lens) / sizeof(lens[0])); j++)
			for (k = 0; k < (int)(sizeof(nvecs) / sizeof(nvecs[0])); k++)
				print_peek(b, lens[j], starts[i], nvecs[k]);
	/* From a pointer that failed to be set. */
	evbuffer_ptr_set(b, &p, 601, EVBUFFER_PTR_SET);
	printf("peek invalid ptr -> %d\n", evbuffer_peek(b, -1, &p, NULL, 0));
	printf("peek empty -1 -> %d\n", evbuffer_peek(e, -1, NULL, NULL, 0));
	printf("peek empty 5 -> %d\n", evbuffer_peek(e, 5, NULL, NULL, 0));
	evbuffer_ptr_set(e, &p, 0, EVBUFFER_PTR_SET);
	printf("peek empty from 0 -> %d\n", evbuffer_peek(e, 5, &p, NULL, 0));

	/* Trailing empty chains: peek with vectors and no length limit lists
	 * them, a count-only peek does not. */
	evbuffer_add(e, data, 300);
	evbuffer_add(e, data, 600);
	evbuffer_expand(e, 500);
	tr_layout("with empty tail", e);
	printf("peek -1 nvec 0 -> %d\n", evbuffer_peek(e, -1, NULL, NULL, 0));
	{
		struct evbuffer_iovec v[4];
		printf("peek -1 nvec 4 -> %d\n", evbuffer_peek(e, -1, NULL, v, 4));
		printf("peek 900 nvec 4 -> %d\n", evbuffer_peek(e, 900, NULL, v, 4));
		printf("peek 901 nvec 4 -> %d\n", evbuffer_peek(e, 901, NULL, v, 4));
		printf("peek 901 nvec 0 -> %d\n", evbuffer_peek(e, 901, NULL, NULL, 0));
		evbuffer_ptr_set(e, &p, 899, EVBUFFER_PTR_SET);
		printf("peek -1 from 899 nvec 0 -> %d\n", evbuffer_peek(e, -1, &p, NULL, 0));
		printf("peek -1 from 899 nvec 4 -> %d\n", evbuffer_peek(e, -1, &p, v, 4));
		evbuffer_ptr_set(e, &p, 900, EVBUFFER_PTR_SET);
		printf("peek -1 from 900 nvec 4 -> %d\n", evbuffer_peek(e, -1, &p, v, 4));
	}
	evbuffer_free(b);
	evbuffer_free(e);
}

static void find(void)
{
	static const char *needles[] = { "ab", "bcab", "\r\n", "zz", "a" };
	static const size_t nlens[] = { 2, 4, 2, 2, 1 };
	struct evbuffer *b = build('a'), *e = evbuffer_new();
	struct evbuffer_iovec v[1];
	unsigned char *f;
	int i;

	printf("== find\n");
	for (i = 0; i < 5; i++) {
		f = evbuffer_find(b, (const unsigned char *)needles[i], nlens[i]);
		printf("find ");
		tr_esc(needles[i], nlens[i]);
		if (!f) {
			printf(" -> NULL\n");
		} else {
			ssize_t want = naive(data, data_len, needles[i], nlens[i], 0,
			    data_len);
			/* The match lies in the first extent after find. */
			evbuffer_peek(b, 1, NULL, v, 1);
			printf(" -> off %td%s\n", f - (unsigned char *)v[0].iov_base,
			    (ssize_t)(f - (unsigned char *)v[0].iov_base) == want &&
			    !memcmp(f, needles[i], nlens[i]) ? "" : " MISMATCH");
		}
		tr_layout("after find", b);
	}
	f = evbuffer_find(b, (const unsigned char *)"a", 0);
	printf("find empty needle -> %s\n", f ? "ptr" : "NULL");
	f = evbuffer_find(b, data, 600);
	printf("find whole -> %s\n", f ? "ptr" : "NULL");
	f = evbuffer_find(b, data, 601);
	printf("find longer -> %s\n", f ? "ptr" : "NULL");
	f = evbuffer_find(e, (const unsigned char *)"a", 1);
	printf("find in empty -> %s\n", f ? "ptr" : "NULL");
	tr_buf("content", b);
	evbuffer_free(b);
	evbuffer_free(e);
}

int main(void)
{
	tr_init();
	make_data();
	ptr_set();
	copyout_from();
	search();
	search_eol();
	peek();
	find();
	return 0;
}
