/*
 * diff_buffer_readln.c -- differential test of evbuffer_readln and the
 * compat evbuffer_readline.
 *
 * Every input is read line by line with each of the five EOL styles (and an
 * invalid style), first from a single chain with the full trace of lines and
 * n_read_out, then from the same bytes split into chains of 1, 2, 3 and 5
 * bytes in several chain kinds, where a one-line summary (count and hash of
 * all results) must match. Inputs cover CR and LF split across chains, a lone
 * trailing CR, "\r\r\n", "\n\r", runs of CR/LF, empty lines, embedded NULs,
 * data with no EOL, and long lines spanning many chains. n_read_out NULL is
 * used too, and the buffer layout after reads of long lines is shown.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/buffer_compat.h>

#include "trace.h"

struct input {
	const char *s;
	size_t n;
};

#define IN(x) { x, sizeof(x) - 1 }

static const struct input inputs[] = {
	IN("line1\nline2\r\nline3\rline4\n\rline5\r\r\nline6\n\nline7"),
	IN("\r\n\r\n"),
	IN("abc\r"),
	IN("abc\r\r\n"),
	IN("\n"),
	IN("\r"),
	IN(""),
	IN("no eol at all"),
	IN("a\0b\0\0c\n\0"),
	IN("x\r\ny\r\n\r\nz"),
	IN("\r\r\r\n\n"),
	IN("a\n\rb\n\r\n\rc"),
	IN("GET / HTTP/1.1\r\nHost: x\r\n\r\nbody\n"),
	IN("\n\n\n"),
	IN("one\r\ntwo\rthree\n\r\r\nfour"),
	IN("a\rb\r\nc\n"),
};

static const char *style_name(int style)
{
	static const char *names[] = { "ANY", "CRLF", "CRLF_STRICT", "LF", "NUL" };
	if (style >= 0 && style <= 4)
		return names[style];
	return "BAD";
}

/* Reads lines until readln fails. verbose prints each result; otherwise the
 * results are folded into *h and the count returned. */
static int read_all(struct evbuffer *b, int style, int verbose, uint64_t *h)
{
	int count = 0;
	for (;;) {
		size_t n = 12345;
		char *line = evbuffer_readln(b, &n, (enum evbuffer_eol_style)style);
		if (verbose)
			tr_line("  line", line, n);
		if (!line) {
			*h = tr_fnv1a_update(*h, &n, sizeof(n));
			break;
		}
		*h = tr_fnv1a_update(*h, line, n + 1);
		*h = tr_fnv1a_update(*h, &n, sizeof(n));
		free(line);
		count++;
		if (count > 1000)
			break;
	}
	*h = tr_fnv1a_update(*h, &count, sizeof(count));
	return count;
}

static void one_input(int idx)
{
	const struct input *in = &inputs[idx];
	static const size_t splits[] = { 1, 2, 3, 5 };
	static const char hows[] = { 'm', 'r', 'a' };
	int style, s, w;

	printf("== input %d ", idx);
	tr_esc(in->s, in->n);
	putchar('\n');
	for (style = 0; style <= 5; style++) {
		struct evbuffer *b = evbuffer_new();
		uint64_t h0 = 0xcbf29ce484222325ULL, r0;
		int st = style == 5 ? 9 : style;
		int c0, differ = 0;
		evbuffer_add(b, in->s, in->n);
		printf("style %s\n", style_name(st));
		c0 = read_all(b, st, 1, &h0);
		tr_buf("  rest", b);
		r0 = tr_buf_hash(b);
		evbuffer_free(b);
		for (s = 0; s < 4; s++) {
			for (w = 0; w < 3; w++) {
				uint64_t h = 0xcbf29ce484222325ULL, r;
				int c;
				b = evbuffer_new();
				tr_add_pieces(b, in->s, in->n, &splits[s], 1, hows[w]);
				c = read_all(b, st, 0, &h);
				r = tr_buf_hash(b);
				if (c != c0 || h != h0 || r != r0) {
					printf("  split %zu%c count=%d DIFFERS\n",
					    splits[s], hows[w], c);
					differ++;
				}
				evbuffer_free(b);
			}
		}
		printf("  count=%d hash=%016llx; %d of 12 splits differ\n", c0,
		    (unsigned long long)h0, differ);
	}
}

/* CR and LF on the two sides of a chain boundary, with the boundary built
 * from two chains of three kinds: a moved-in chain, two reference chains,
 * and a prepended chain in front of a plain one. The first kind's results
 * are printed; the others must agree with it. */
static void boundary(void)
{
	static const char *firsts[] = { "hello\r", "hello", "hello\r\r", "\r",
		"hello\n" };
	static const char *seconds[] = { "\nworld\n", "\r\nworld\n", "\n",
		"\r\n", "\rworld\r\n" };
	int i, j, style, kind;

	printf("== boundary\n");
	for (i = 0; i < 5; i++) {
		for (j = 0; j < 5; j++) {
			for (style = 0; style <= 4; style++) {
				uint64_t h0 = 0;
				for (kind = 0; kind < 3; kind++) {
					struct evbuffer *b = evbuffer_new();
					size_t n1 = strlen(firsts[i]), n2 = strlen(seconds[j]);
					size_t n = 99;
					uint64_t h;
					char *line;
					if (kind == 0) {
						struct evbuffer *t = evbuffer_new();
						evbuffer_add(b, firsts[i], n1);
						evbuffer_add(t, seconds[j], n2);
						evbuffer_add_buffer(b, t);
						evbuffer_free(t);
					} else if (kind == 1) {
						evbuffer_add_reference(b, firsts[i], n1, NULL, NULL);
						evbuffer_add_reference(b, seconds[j], n2, NULL, NULL);
					} else {
						evbuffer_add(b, seconds[j], n2);
						evbuffer_prepend(b, firsts[i], n1);
					}
					line = evbuffer_readln(b, &n, (enum evbuffer_eol_style)style);
					h = tr_fnv1a(&n, sizeof(n));
					if (line)
						h = tr_fnv1a_update(h, line, n + 1);
					h ^= tr_buf_hash(b);
					if (kind == 0) {
						h0 = h;
						printf("%s|", style_name(style));
						tr_esc(firsts[i], n1);
						putchar('|');
						tr_esc(seconds[j], n2);
						tr_line("", line, n);
						tr_buf("  rest", b);
					} else if (h != h0) {
						printf("  kind %d DIFFERS\n", kind);
					}
					free(line);
					evbuffer_free(b);
				}
			}
		}
	}
}

static void long_lines(void)
{
	static unsigned char big[20000];
	static const size_t pieces[] = { 100, 977, 3, 2048, 4000 };
	struct evbuffer *b = evbuffer_new();
	size_t i, n;
	char *line;
	int style;

	printf("== long lines\n");
	for (i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)('A' + i % 23);
	big[4999] = '\n';
	big[9998] = '\r';
	big[9999] = '\n';
	big[15000] = '\r';
	big[19999] = '\0';
	tr_add_pieces(b, big, sizeof(big), pieces, 5, 'a');
	tr_layout("built", b);
	for (style = 0; style <= 4; style++) {
		struct evbuffer *c = evbuffer_new();
		evbuffer_add_buffer_reference(c, b);
		line = evbuffer_readln(c, &n, (enum evbuffer_eol_style)style);
		printf("%s first: n=%zu hash=%016llx\n", style_name(style), n,
		    line ? (unsigned long long)tr_fnv1a(line, n) : 0ULL);
		free(line);
		tr_layout("  after", c);
		line = evbuffer_readln(c, &n, (enum evbuffer_eol_style)style);
		printf("%s second: n=%zu hash=%016llx\n", style_name(style), n,
		    line ? (unsigned long long)tr_fnv1a(line, n) : 0ULL);
		free(line);
		tr_layout("  after", c);
		evbuffer_free(c);
	}
	/* n_read_out may be NULL. */
	line = evbuffer_readln(b, NULL, EVBUFFER_EOL_LF);
	printf("readln NULL n_read_out -> %zu bytes\n", line ? strlen(line) : 0);
	free(line);
	tr_layout("after", b);
	/* The compat reader is readln with EVBUFFER_EOL_ANY. */
	line = evbuffer_readline(b);
	printf("readline -> %zu bytes\n", line ? strlen(line) : 0);
	free(line);
	tr_layout("after", b);
	line = evbuffer_readline(b);
	printf("readline -> %zu bytes\n", line ? strlen(line) : 0);
	free(line);
	tr_layout("after", b);
	evbuffer_free(b);

	b = evbuffer_new();
	evbuffer_add(b, "a\r\n\r\nb\n\rc\rd", 11);
	while ((line = evbuffer_readline(b)) != NULL) {
		tr_data("readline", line, strlen(line));
		free(line);
	}
	tr_buf("rest", b);
	evbuffer_free(b);
	b = evbuffer_new();
	line = evbuffer_readline(b);
	printf("readline empty -> %s\n", line ? "line" : "NULL");
	evbuffer_free(b);
}

int main(void)
{
	int i;
	tr_init();
	for (i = 0; i < (int)(sizeof(inputs) / sizeof(inputs[0])); i++)
		one_input(i);
	boundary();
	long_lines();
	return 0;
}
