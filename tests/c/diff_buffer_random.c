/*
 * diff_buffer_random.c -- randomized differential test of evbuffer.
 *
 * Long scripted sequences of evbuffer operations on a few buffers, chosen by
 * a fixed-seed PRNG (trace.h's splitmix64, so every run and every C library
 * gives the same script): add, prepend, add_reference, add_printf,
 * add_iovec, reserve/commit, expand, drain, remove, copyout, copyout_from,
 * pullup, readln, search, peek, add_buffer, prepend_buffer, remove_buffer,
 * add_buffer_reference, write to a pipe and read back, with an end of the
 * buffer frozen now and then so that some operations fail. Nothing is
 * compared inside the program: after each step it prints the result and the
 * touched buffer's length, content hash, contiguous space and extent count,
 * and libevent's run is the oracle. Every 50 steps the full layouts are
 * printed too. The later seeds also give every buffer a callback (two of
 * them start disabled, and a step may switch one on or off) and print how
 * often each ran and a hash of every cb_info it was told: a buffer whose
 * callbacks are all off takes goevent's C fast paths, one with a callback
 * on takes Go's, and both must report exactly what libevent reports.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "trace.h"

#define NBUF 4
#define POOL 65536

static unsigned char pool[POOL];
static struct evbuffer *bufs[NBUF];
static int pfd[2];

/* The callbacks of the seeds that have them. */
static int with_cbs;
static struct evbuffer_cb_entry *cbe[NBUF];
static int cb_on[NBUF];
static long cb_calls[NBUF];
static uint64_t cb_hash[NBUF];

static void watch(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
	int i = (int)(intptr_t)arg;
	uint64_t v[3] = { info->orig_size, info->n_added, info->n_deleted };

	(void)b;
	cb_calls[i]++;
	cb_hash[i] = tr_fnv1a_update(cb_hash[i], v, sizeof(v));
}

static void state(int i)
{
	struct evbuffer *b = bufs[i];
	printf("  b%d len=%zu hash=%016llx contig=%zu ext=%d\n", i,
	    evbuffer_get_length(b), (unsigned long long)tr_buf_hash(b),
	    evbuffer_get_contiguous_space(b), evbuffer_peek(b, -1, NULL, NULL, 0));
	if (with_cbs)
		printf("  b%d cb %s calls=%ld info=%016llx\n", i, cb_on[i] ? "on" : "off",
		    cb_calls[i], (unsigned long long)cb_hash[i]);
}

/* Whether b has no data but still holds chains. libevent 2.1.12 mishandles
 * add_buffer_reference into such a buffer (it frees the chains and keeps
 * using them), so the script avoids that case. */
static int empty_with_chains(struct evbuffer *b)
{
	struct evbuffer_iovec v[1];
	return evbuffer_get_length(b) == 0 && evbuffer_peek(b, -1, NULL, v, 1) > 0;
}

static void run(uint64_t seed, int steps, int cbs)
{
	struct tr_rng r = { seed };
	int s, i;

	printf("== seed %llu%s\n", (unsigned long long)seed, cbs ? " with callbacks" : "");
	with_cbs = cbs;
	for (i = 0; i < NBUF; i++) {
		bufs[i] = evbuffer_new();
		if (!cbs)
			continue;
		cbe[i] = evbuffer_add_cb(bufs[i], watch, (void *)(intptr_t)i);
		cb_on[i] = i >= 2;
		cb_calls[i] = 0;
		cb_hash[i] = 0xcbf29ce484222325ULL;
		if (!cb_on[i])
			evbuffer_cb_clear_flags(bufs[i], cbe[i], EVBUFFER_CB_ENABLED);
	}
	for (s = 0; s < steps; s++) {
		int a = (int)tr_below(&r, NBUF), c = (int)tr_below(&r, NBUF);
		struct evbuffer *x = bufs[a], *y = bufs[c];
		size_t len = evbuffer_get_length(x);
		size_t k = tr_below(&r, 10) < 8 ? tr_below(&r, 300) : tr_below(&r, 9000);
		size_t off = tr_below(&r, POOL - 9500);
		int op = (int)tr_below(&r, cbs ? 25 : 24);
		int frozen = -1;
		long res = 0;
		char what[64], detail[64] = "";

		if (tr_below(&r, 25) == 0) {
			frozen = (int)tr_below(&r, 2);
			evbuffer_freeze(x, frozen);
		}
		switch (op) {
		case 0:
		case 1:
			snprintf(what, sizeof(what), "add %zu", k);
			res = evbuffer_add(x, pool + off, k);
			break;
		case 2:
			snprintf(what, sizeof(what), "prepend %zu", k);
			res = evbuffer_prepend(x, pool + off, k);
			break;
		case 3:
			snprintf(what, sizeof(what), "add_reference %zu", k);
			res = evbuffer_add_reference(x, pool + off, k, NULL, NULL);
			break;
		case 4:
			snprintf(what, sizeof(what), "add_printf %zu", k);
			res = evbuffer_add_printf(x, "%.*s|%zu\n", (int)k,
			    (const char *)pool + off, k);
			break;
		case 5: {
			struct evbuffer_iovec v[3];
			int j;
			for (j = 0; j < 3; j++) {
				v[j].iov_base = pool + off + (size_t)j * 100;
				v[j].iov_len = k / (size_t)(j + 1);
			}
			snprintf(what, sizeof(what), "add_iovec %zu", k);
			res = (long)evbuffer_add_iovec(x, v, 3);
			break;
		}
		case 6: {
			struct evbuffer_iovec v[3];
			int nv = (int)tr_below(&r, 3) + 1, n, j;
			size_t left = k;
			n = evbuffer_reserve_space(x, (ssize_t)k, v, nv);
			for (j = 0; j < n; j++) {
				size_t use = v[j].iov_len < left ? v[j].iov_len : left;
				memcpy(v[j].iov_base, pool + off, use);
				v[j].iov_len = use;
				left -= use;
			}
			snprintf(what, sizeof(what), "reserve %zu nvec %d -> %d", k, nv, n);
			res = n > 0 ? evbuffer_commit_space(x, v, n) : -2;
			break;
		}
		case 7:
			snprintf(what, sizeof(what), "expand %zu", k);
			res = evbuffer_expand(x, k);
			break;
		case 8:
		case 9:
			snprintf(what, sizeof(what), "drain %zu", k);
			res = evbuffer_drain(x, k);
			break;
		case 10: {
			unsigned char *out = malloc(k + 1);
			snprintf(what, sizeof(what), "remove %zu", k);
			res = evbuffer_remove(x, out, k);
			if (res > 0)
				snprintf(detail, sizeof(detail), "  removed %016llx\n",
				    (unsigned long long)tr_fnv1a(out, (size_t)res));
			free(out);
			break;
		}
		case 11: {
			unsigned char *out = malloc(k + 1);
			struct evbuffer_ptr p;
			size_t at = len ? tr_below(&r, len + 1) : 0;
			snprintf(what, sizeof(what), "copyout_from %zu %zu", at, k);
			if (evbuffer_ptr_set(x, &p, at, EVBUFFER_PTR_SET) == 0) {
				res = evbuffer_copyout_from(x, &p, out, k);
				if (res > 0)
					snprintf(detail, sizeof(detail), "  copied %016llx\n",
					    (unsigned long long)tr_fnv1a(out, (size_t)res));
			}
			free(out);
			break;
		}
		case 12: {
			ssize_t n = (ssize_t)k;
			unsigned char *p;
			if (tr_below(&r, 4) == 0)
				n = -1;
			snprintf(what, sizeof(what), "pullup %zd", n);
			p = evbuffer_pullup(x, n);
			res = p != NULL;
			if (p)
				snprintf(detail, sizeof(detail), "  pulled %016llx\n",
				    (unsigned long long)tr_fnv1a(p, n < 0 ?
				    evbuffer_get_length(x) : (size_t)n));
			break;
		}
		case 13: {
			size_t n = 0;
			int style = (int)tr_below(&r, 5);
			char *line = evbuffer_readln(x, &n, (enum evbuffer_eol_style)style);
			snprintf(what, sizeof(what), "readln style %d", style);
			res = line ? (long)n : -1;
			if (line)
				snprintf(detail, sizeof(detail), "  line %016llx\n",
				    (unsigned long long)tr_fnv1a(line, n));
			free(line);
			break;
		}
		case 14: {
			struct evbuffer_ptr p;
			size_t nl = tr_below(&r, 4) + 1;
			size_t at = len > nl ? tr_below(&r, len - nl) : 0;
			char needle[8];
			memset(needle, 'a', sizeof(needle));
			if (len >= nl) {
				evbuffer_ptr_set(x, &p, at, EVBUFFER_PTR_SET);
				evbuffer_copyout_from(x, &p, needle, nl);
			} else {
				memcpy(needle, "\n\r\n", 4);
			}
			p = evbuffer_search(x, needle, nl, NULL);
			snprintf(what, sizeof(what), "search %zu from %zu", nl, at);
			res = (long)p.pos;
			break;
		}
		case 15: {
			struct evbuffer_iovec v[5];
			snprintf(what, sizeof(what), "peek %zu", k);
			res = evbuffer_peek(x, (ssize_t)k, NULL, v, 5);
			break;
		}
		case 16:
			snprintf(what, sizeof(what), "add_buffer b%d <- b%d", a, c);
			res = evbuffer_add_buffer(x, y);
			break;
		case 17:
			snprintf(what, sizeof(what), "prepend_buffer b%d <- b%d", a, c);
			res = evbuffer_prepend_buffer(x, y);
			break;
		case 18:
		case 19:
			snprintf(what, sizeof(what), "remove_buffer b%d -> b%d %zu", a, c, k);
			res = evbuffer_remove_buffer(x, y, k);
			break;
		case 20:
			snprintf(what, sizeof(what), "add_buffer_reference b%d <= b%d", c, a);
			if (empty_with_chains(y))
				res = -9;
			else
				res = evbuffer_add_buffer_reference(y, x);
			break;
		case 21: {
			int got = 0, rr;
			snprintf(what, sizeof(what), "pipe b%d -> b%d %zu", a, c, k);
			res = evbuffer_write_atmost(x, pfd[1], (ssize_t)k);
			while (res > 0 && got < res) {
				rr = evbuffer_read(y, pfd[0], -1);
				if (rr <= 0)
					break;
				got += rr;
			}
			snprintf(detail, sizeof(detail), "  read back %d\n", got);
			break;
		}
		case 22:
			snprintf(what, sizeof(what), "copyout %zu", k);
			{
				unsigned char *out = malloc(k + 1);
				res = evbuffer_copyout(x, out, k);
				if (res > 0)
					snprintf(detail, sizeof(detail), "  copied %016llx\n",
					    (unsigned long long)tr_fnv1a(out, (size_t)res));
				free(out);
			}
			break;
		case 24:
			cb_on[a] = !cb_on[a];
			snprintf(what, sizeof(what), "callback %s", cb_on[a] ? "on" : "off");
			res = cb_on[a] ? evbuffer_cb_set_flags(x, cbe[a], EVBUFFER_CB_ENABLED) :
			    evbuffer_cb_clear_flags(x, cbe[a], EVBUFFER_CB_ENABLED);
			break;
		default:
			snprintf(what, sizeof(what), "search_eol");
			{
				size_t el = 0;
				struct evbuffer_ptr p = evbuffer_search_eol(x, NULL, &el,
				    (enum evbuffer_eol_style)tr_below(&r, 5));
				res = (long)p.pos * 10 + (long)el;
			}
			break;
		}
		if (frozen >= 0)
			evbuffer_unfreeze(x, frozen);
		printf("%d b%d %s%s -> %ld\n%s", s, a, what,
		    frozen < 0 ? "" : frozen ? " [front frozen]" : " [end frozen]", res,
		    detail);
		state(a);
		if (a != c && op >= 16 && op <= 21)
			state(c);
		/* Keep the buffers from growing without bound. */
		if (evbuffer_get_length(x) > 60000) {
			evbuffer_drain(x, evbuffer_get_length(x) / 2);
			printf("  trimmed\n");
			state(a);
		}
		if (s % 50 == 49) {
			for (i = 0; i < NBUF; i++) {
				char label[16];
				snprintf(label, sizeof(label), "  L%d", i);
				tr_layout(label, bufs[i]);
			}
		}
	}
	for (i = 0; i < NBUF; i++)
		state(i);
	/* Buffers may hold references to each other's chains
	 * (add_buffer_reference) both ways; each such chain keeps its source
	 * buffer alive, so freeing them as they are would leave a cycle that
	 * neither library ever frees. Emptying them first lets every buffer
	 * go. */
	for (i = 0; i < NBUF; i++)
		evbuffer_drain(bufs[i], evbuffer_get_length(bufs[i]));
	for (i = 0; i < NBUF; i++)
		evbuffer_free(bufs[i]);
}

int main(void)
{
	size_t i;
	struct tr_rng r = { 12345 };
	tr_init();
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < POOL; i++) {
		uint64_t v = tr_next(&r);
		/* Mostly text, with line ends often enough for readln. */
		pool[i] = (v & 31) == 0 ? '\n' : (v & 63) == 1 ? '\r' :
		    (unsigned char)('a' + (v >> 8) % 26);
	}
	if (pipe(pfd) < 0)
		return 1;
	fcntl(pfd[0], F_SETFL, O_NONBLOCK);
	run(1, 500, 0);
	run(2, 500, 0);
	run(3, 500, 0);
	run(4, 500, 1);
	run(5, 500, 1);
	run(6, 500, 1);
	return 0;
}
