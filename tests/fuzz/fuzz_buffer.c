/*
 * fuzz_buffer.c -- differential fuzzing of evbuffer (buffer.h and
 * buffer_compat.h) through the C ABI; see fuzz.h for the frame and usage.
 *
 * A sequence works on three buffers, some of them locked (with -t, which
 * turns on evthread_use_pthreads), some with deferred callbacks, all with
 * callbacks that report every change they hear of. Operations: every
 * add/prepend/remove/copy/search/readln/peek/pullup/reserve/commit/expand
 * call, evbuffer_ptr positions set and moved (and used at once: a position
 * a later change made stale is undefined), freezes of either end,
 * references with cleanup callbacks, moving and referencing between the
 * buffers, file segments (mmap, sendfile and plain reads) and whole files,
 * writes to and reads from a pipe and a socketpair, the event loop that
 * runs deferred callbacks, and freeing and recreating a buffer.
 *
 * After each operation the trace holds its result and, for every buffer
 * it touched, the length, a hash of the contents and the extent layout
 * (which follows from libevent's chain sizing, part of what programs
 * observe).
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
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/buffer_compat.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "fuzz.h"

enum {
	SKIP_RESERVE_ZERO_MULTI,
	SKIP_REF_INTO_EMPTY_WITH_CHAINS,
	SKIP_REFERENCE_CYCLE,
	SKIP_SENDFILE_CHAIN,
	SKIP_DEFER_TWICE,
	SKIP_SEGMENT_PAST_EOF,
	SKIP_READ_ZERO,
	SKIP_SEGMENT_EMPTY,
	NRULES
};
static struct fz_rule rules[NRULES] = {
	{ "reserve-zero-multi", 0 },
	{ "ref-into-empty-with-chains", 0 },
	{ "reference-cycle", 0 },
	{ "sendfile-chain", 0 },
	{ "defer-twice", 0 },
	{ "segment-past-eof", 0 },
	{ "read-zero", 0 },
	{ "segment-empty", 0 },
};

#define NB 3
#define POOL (160 * 1024)
#define FILE_LEN 100000
#define MAX_LEN (200 * 1024)

static unsigned char pool[POOL];
static int file_fd = -1;
static int pipe_fd[2] = { -1, -1 };
static int sock_fd[2] = { -1, -1 };
static int threads;

struct bufstate {
	struct evbuffer *b;
	int locked, deferred, frozen[2];
	struct evbuffer_cb_entry *cbe[2];
	int obsolete_cb;
	int drains; /* EVBUFFER_FLAG_DRAINS_TO_FD set */
	/* Buffers this one holds references into (add_buffer_reference):
	 * a reference both ways would never be freed by either library. */
	unsigned refs_into;
};

static struct bufstate bs[NB];
static struct event_base *base;
static int cb_depth;

/* ---- callbacks ------------------------------------------------------------ */

static int which(const struct evbuffer *b)
{
	for (int i = 0; i < NB; i++)
		if (bs[i].b == b)
			return i;
	return -1; /* a buffer freed by the program, kept alive by a pending run */
}

/* arg: buffer index * 4 + entry index, + 2 for "drains one byte" */
static void watch(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
	intptr_t a = (intptr_t)arg;
	fz_note("  cb b%d/e%d orig %zu +%zu -%zu len %zu\n", which(b), (int)(a & 1),
	    info->orig_size, info->n_added, info->n_deleted, evbuffer_get_length(b));
	/* A callback that changes its own buffer: the change reports to the
	 * callbacks again (nested), once. */
	if ((a & 2) && info->n_added > 0 && cb_depth == 0 && which(b) >= 0) {
		cb_depth++;
		int r = evbuffer_drain(b, 1);
		fz_note("  cb drains 1 -> %d\n", r);
		cb_depth--;
	}
}

static void obsolete_watch(struct evbuffer *b, size_t old, size_t now, void *arg)
{
	(void)arg;
	fz_note("  setcb b%d %zu -> %zu\n", which(b), old, now);
}

static void ref_cleanup(const void *data, size_t len, void *arg)
{
	fz_note("  ref cleanup %s len %zu at %td\n", (const char *)arg, len,
	    (const unsigned char *)data - pool);
}

static void seg_cleanup(struct evbuffer_file_segment const *seg, int flags, void *arg)
{
	(void)seg;
	fz_note("  segment cleanup %s flags %d\n", (const char *)arg, flags);
}

/* ---- the trace ------------------------------------------------------------ */

static void show(int i)
{
	struct evbuffer *b = bs[i].b;
	struct evbuffer_iovec v[16];
	size_t len = evbuffer_get_length(b);
	int n = evbuffer_peek(b, -1, NULL, NULL, 0);
	int k = evbuffer_peek(b, -1, NULL, v, 16);
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t sum = 0;
	/* The contents' hash from the extents (peek does not change the
	 * layout); when there are more than 16, from a copy. */
	if (n <= 16) {
		for (int j = 0; j < k; j++) {
			const unsigned char *p = v[j].iov_base;
			for (size_t x = 0; x < v[j].iov_len; x++) {
				h ^= p[x];
				h *= 0x100000001b3ULL;
			}
			sum += v[j].iov_len;
		}
	} else {
		unsigned char *tmp = malloc(len + 1);
		ev_ssize_t got = evbuffer_copyout(b, tmp, len);
		h = fz_fnv(tmp, got > 0 ? (size_t)got : 0);
		sum = got > 0 ? (size_t)got : 0;
		free(tmp);
	}
	fz_printf("  b%d len %zu sum %zu hash %016llx contig %zu ext %d [", i, len, sum,
	    (unsigned long long)h, evbuffer_get_contiguous_space(b), n);
	for (int j = 0; j < k && j < 16; j++)
		fz_printf("%s%zu", j ? "," : "", v[j].iov_len);
	fz_printf("%s]\n", n > 16 ? ",..." : "");
}

/* ---- operations ---------------------------------------------------------- */

static void new_buffer(int i, struct fz_rng *r)
{
	struct bufstate *s = &bs[i];
	memset(s, 0, sizeof(*s));
	s->b = evbuffer_new();
	if (threads && fz_chance(r, 1, 2)) {
		s->locked = 1;
		evbuffer_enable_locking(s->b, NULL);
	}
	int ncb = (int)fz_below(r, 3);
	for (int e = 0; e < ncb; e++) {
		intptr_t arg = i * 4 + e + (fz_chance(r, 1, 4) ? 2 : 0);
		s->cbe[e] = evbuffer_add_cb(s->b, watch, (void *)arg);
	}
	if (ncb && fz_chance(r, 1, 3)) {
		s->deferred = 1;
		evbuffer_defer_callbacks(s->b, base);
	}
	fz_flush_notes();
	fz_printf("  new b%d: locked %d callbacks %d deferred %d\n", i, s->locked, ncb,
	    s->deferred);
}

static void free_buffer(int i)
{
	/* Another buffer's reference chains into this one keep it alive
	 * (and, both ways, forever): release them from the holders first so
	 * that both libraries free everything. */
	for (int j = 0; j < NB; j++) {
		if (j != i && (bs[j].refs_into & (1u << i)) && bs[j].b) {
			for (int f = 0; f < 2; f++)
				if (bs[j].frozen[f])
					evbuffer_unfreeze(bs[j].b, f);
			bs[j].frozen[0] = bs[j].frozen[1] = 0;
			evbuffer_drain(bs[j].b, evbuffer_get_length(bs[j].b));
			bs[j].refs_into = 0;
		}
	}
	evbuffer_free(bs[i].b);
	bs[i].b = NULL;
}

/* A position in b: set, then maybe moved (both may fail at the end). */
static int set_ptr(struct fz_rng *r, struct evbuffer *b, struct evbuffer_ptr *p,
    char *desc, size_t dlen)
{
	size_t len = evbuffer_get_length(b);
	size_t at = fz_chance(r, 1, 8) ? len + fz_below(r, 3) : len ? fz_below(r, len + 1) : 0;
	int rr = evbuffer_ptr_set(b, p, at, EVBUFFER_PTR_SET);
	int n = snprintf(desc, dlen, "@%zu%s", at, rr < 0 ? "!" : "");
	if (rr == 0 && fz_chance(r, 1, 3)) {
		size_t by = fz_below(r, 3000);
		rr = evbuffer_ptr_set(b, p, by, EVBUFFER_PTR_ADD);
		snprintf(desc + n, dlen - (size_t)n, "+%zu%s", by, rr < 0 ? "!" : "");
	}
	return rr;
}

static void hash_out(const char *what, const void *p, long n)
{
	if (n > 0)
		fz_printf("  %s %016llx\n", what, (unsigned long long)fz_fnv(p, (size_t)n));
}

/* Whether buffer i holds, maybe through other buffers, references into
 * buffer j (conservatively: a holder that was drained still counts). */
static int reaches(int i, int j)
{
	unsigned seen = 0, front = bs[i].refs_into;
	while (front & ~seen) {
		seen |= front;
		unsigned next = 0;
		for (int k = 0; k < NB; k++)
			if (front & (1u << k))
				next |= bs[k].refs_into;
		front = next;
	}
	return (seen >> j) & 1;
}

static int empty_with_chains(struct evbuffer *b)
{
	struct evbuffer_iovec v[1];
	return evbuffer_get_length(b) == 0 && evbuffer_peek(b, -1, NULL, v, 1) > 0;
}

static void op(uint64_t seed, int idx)
{
	struct fz_rng r = fz_op_rng(seed, idx);
	int a = (int)fz_below(&r, NB), c = (int)fz_below(&r, NB);
	struct bufstate *s = &bs[a];
	struct evbuffer *x = s->b, *y = bs[c].b;
	size_t k = fz_size(&r, 70000);
	size_t off = fz_below(&r, POOL - 70001);
	long res = 0;
	int touched2 = 0;
	char pdesc[64] = "";
	int kind = (int)fz_below(&r, 48);

	fz_printf("%d: b%d ", idx, a);
	switch (kind) {
	case 0: case 1: case 2:
		fz_printf("add %zu", k);
		res = evbuffer_add(x, pool + off, k);
		break;
	case 3:
		fz_printf("prepend %zu", k);
		res = evbuffer_prepend(x, pool + off, k);
		break;
	case 4: {
		int w = (int)fz_below(&r, 300);
		fz_printf("add_printf %zu/%d", k % 2000, w);
		res = evbuffer_add_printf(x, "%.*s|%*d|%s\n", (int)(k % 2000),
		    (const char *)pool + off, w, (int)k, "tail");
		break;
	}
	case 5: {
		struct evbuffer_iovec v[4];
		int nv = (int)fz_below(&r, 5);
		fz_printf("add_iovec %d", nv);
		for (int j = 0; j < nv; j++) {
			v[j].iov_base = pool + fz_below(&r, POOL - 5000);
			v[j].iov_len = fz_size(&r, 4999);
			fz_printf(" %zu", v[j].iov_len);
		}
		res = (long)evbuffer_add_iovec(x, v, nv);
		break;
	}
	case 6: {
		static const char *tags[] = { "r0", "r1", "r2", "r3" };
		int t = (int)fz_below(&r, 5);
		fz_printf("add_reference %zu %s", k, t < 4 ? tags[t] : "nocleanup");
		res = evbuffer_add_reference(x, pool + off, k, t < 4 ? ref_cleanup : NULL,
		    t < 4 ? (void *)tags[t] : NULL);
		break;
	}
	case 7:
		fz_printf("add_buffer <- b%d", c);
		touched2 = 1;
		/* Moving a chain that refers into x (maybe through other
		 * buffers) into x closes a cycle too. */
		if (a != c && reaches(c, a)) {
			fz_skip(SKIP_REFERENCE_CYCLE);
			res = -9;
			break;
		}
		res = evbuffer_add_buffer(x, y);
		s->refs_into |= bs[c].refs_into;
		break;
	case 8:
		fz_printf("prepend_buffer <- b%d", c);
		touched2 = 1;
		if (a != c && reaches(c, a)) {
			fz_skip(SKIP_REFERENCE_CYCLE);
			res = -9;
			break;
		}
		res = evbuffer_prepend_buffer(x, y);
		s->refs_into |= bs[c].refs_into;
		break;
	case 9:
		fz_printf("add_buffer_reference <= b%d", c);
		touched2 = 1;
		if (empty_with_chains(x)) {
			fz_skip(SKIP_REF_INTO_EMPTY_WITH_CHAINS);
			res = -9;
		} else if (reaches(c, a)) {
			fz_skip(SKIP_REFERENCE_CYCLE);
			res = -9;
		} else {
			res = evbuffer_add_buffer_reference(x, y);
			if (res == 0 && a != c && evbuffer_get_length(y) > 0)
				s->refs_into |= 1u << c;
		}
		break;
	case 10:
		fz_printf("remove_buffer -> b%d %zu", c, k);
		touched2 = 1;
		if (a != c && reaches(a, c)) {
			fz_skip(SKIP_REFERENCE_CYCLE);
			res = -9;
			break;
		}
		res = evbuffer_remove_buffer(x, y, k);
		bs[c].refs_into |= s->refs_into;
		break;
	case 11: case 12: {
		size_t n = fz_chance(&r, 1, 10) ? (size_t)-1 : k;
		fz_printf("drain %zd", (ssize_t)n);
		res = evbuffer_drain(x, n);
		break;
	}
	case 13: {
		unsigned char *out = malloc(k + 1);
		fz_printf("remove %zu", k);
		res = evbuffer_remove(x, out, k);
		hash_out("removed", out, res);
		free(out);
		break;
	}
	case 14: {
		unsigned char *out = malloc(k + 1);
		fz_printf("copyout %zu", k);
		res = evbuffer_copyout(x, out, k);
		hash_out("copied", out, res);
		free(out);
		break;
	}
	case 15: {
		struct evbuffer_ptr p;
		unsigned char *out = malloc(k + 1);
		int rr = set_ptr(&r, x, &p, pdesc, sizeof(pdesc));
		fz_printf("copyout_from %s %zu", pdesc, k);
		res = rr < 0 ? -9 : evbuffer_copyout_from(x, &p, out, k);
		hash_out("copied", out, res);
		free(out);
		break;
	}
	case 16: {
		ev_ssize_t n = fz_chance(&r, 1, 4) ? -1 :
		    fz_chance(&r, 1, 6) ? (ev_ssize_t)(evbuffer_get_length(x) + 1) :
		    (ev_ssize_t)(k % (evbuffer_get_length(x) + 1));
		fz_printf("pullup %zd", (ssize_t)n);
		unsigned char *p = evbuffer_pullup(x, n);
		res = p != NULL;
		if (p)
			hash_out("pulled", p, n < 0 ? (long)evbuffer_get_length(x) : (long)n);
		break;
	}
	case 17: case 18: {
		size_t n = 0;
		int style = (int)fz_below(&r, 5);
		char *line = evbuffer_readln(x, fz_chance(&r, 1, 8) ? NULL : &n,
		    (enum evbuffer_eol_style)style);
		fz_printf("readln style %d", style);
		res = line ? (long)strlen(line) : -1;
		if (line)
			fz_printf(" n %zu", n);
		hash_out("line", line, res);
		free(line);
		break;
	}
	case 19: {
		char *line = evbuffer_readline(x);
		fz_printf("readline");
		res = line ? (long)strlen(line) : -1;
		hash_out("line", line, res);
		free(line);
		break;
	}
	case 20: case 21: {
		/* A needle taken from the buffer (so it is found somewhere) or
		 * a short literal. */
		char needle[40];
		size_t nl = 1 + fz_below(&r, fz_chance(&r, 1, 3) ? 39 : 4);
		size_t len = evbuffer_get_length(x);
		memset(needle, '?', sizeof(needle));
		if (len >= nl && fz_chance(&r, 3, 4)) {
			struct evbuffer_ptr q;
			size_t at = fz_below(&r, len - nl + 1);
			evbuffer_ptr_set(x, &q, at, EVBUFFER_PTR_SET);
			ev_ssize_t got = evbuffer_copyout_from(x, &q, needle, nl);
			fz_printf("needle@%zu %zd ", at, (ssize_t)got);
		} else {
			static const char lit[40] = "\r\n\r\nab\nab\r\nabcabcab\r\r\n\n\0xyz0123456789012";
			memcpy(needle, lit, sizeof(lit));
		}
		struct evbuffer_ptr start, end, got;
		int mode = (int)fz_below(&r, 3);
		fz_printf("needle %016llx ", (unsigned long long)fz_fnv(needle, nl));
		if (mode == 0) {
			fz_printf("search %zu", nl);
			got = evbuffer_search(x, needle, nl, NULL);
		} else if (set_ptr(&r, x, &start, pdesc, sizeof(pdesc)) < 0) {
			fz_printf("search %zu from %s", nl, pdesc);
			got.pos = -9;
		} else if (mode == 1) {
			fz_printf("search %zu from %s", nl, pdesc);
			got = evbuffer_search(x, needle, nl, &start);
		} else {
			char edesc[64];
			int er = set_ptr(&r, x, &end, edesc, sizeof(edesc));
			fz_printf("search_range %zu %s..%s", nl, pdesc, edesc);
			got = er < 0 ? evbuffer_search_range(x, needle, nl, &start, NULL) :
			    evbuffer_search_range(x, needle, nl, &start, &end);
		}
		res = (long)got.pos;
		if (got.pos >= 0) {
			/* The found position must be usable for more. */
			char at[8] = "";
			ev_ssize_t n = evbuffer_copyout_from(x, &got, at, sizeof(at));
			hash_out("at", at, n);
		}
		break;
	}
	case 22: {
		struct evbuffer_ptr start, got;
		size_t el = 77;
		int style = (int)fz_below(&r, 5);
		int from = fz_chance(&r, 1, 2) && set_ptr(&r, x, &start, pdesc, sizeof(pdesc)) == 0;
		fz_printf("search_eol style %d %s", style, from ? pdesc : "");
		got = evbuffer_search_eol(x, from ? &start : NULL, &el,
		    (enum evbuffer_eol_style)style);
		res = (long)got.pos;
		if (got.pos >= 0)
			fz_printf(" eol_len %zu", el);
		break;
	}
	case 23: {
		struct evbuffer_ptr p;
		res = set_ptr(&r, x, &p, pdesc, sizeof(pdesc));
		fz_printf("ptr_set %s", pdesc);
		if (res == 0)
			fz_printf(" pos %lld", (long long)p.pos);
		break;
	}
	case 24: case 25: {
		struct evbuffer_iovec v[8];
		struct evbuffer_ptr p;
		int nv = (int)fz_below(&r, 9);
		ev_ssize_t len = fz_chance(&r, 1, 4) ? -1 : (ev_ssize_t)k;
		int from = fz_chance(&r, 1, 3) && set_ptr(&r, x, &p, pdesc, sizeof(pdesc)) == 0;
		fz_printf("peek %zd %s nvec %d", (ssize_t)len, from ? pdesc : "", nv);
		res = evbuffer_peek(x, len, from ? &p : NULL, nv ? v : NULL, nv);
		int shown = res < nv ? (int)res : nv;
		for (int j = 0; j < shown; j++)
			fz_printf(" %zu", v[j].iov_len);
		break;
	}
	case 26:
		fz_printf("expand %zu", k);
		res = evbuffer_expand(x, k);
		break;
	case 27: case 28: {
		struct evbuffer_iovec v[4];
		int nv = 1 + (int)fz_below(&r, 4);
		ev_ssize_t want = (ev_ssize_t)k;
		if (fz_chance(&r, 1, 10))
			want = 0;
		fz_printf("reserve %zd nvec %d", (ssize_t)want, nv);
		if (want == 0 && nv >= 2) {
			fz_skip(SKIP_RESERVE_ZERO_MULTI);
			res = -9;
			break;
		}
		int n = evbuffer_reserve_space(x, want, v, nv);
		fz_printf(" -> %d [", n);
		for (int j = 0; j < n && j < nv; j++)
			fz_printf("%s%zu", j ? "," : "", v[j].iov_len);
		fz_printf("]");
		if (n <= 0) {
			res = n;
			break;
		}
		/* Fill, then commit: all of it, a part, nothing, or vectors
		 * that do not match the reservation. Every reserved byte is
		 * written first, so that a commit of more than was asked for
		 * (which may fit in the chain) commits defined bytes. */
		size_t left = (size_t)want;
		int how = (int)fz_below(&r, 5);
		for (int j = 0; j < n && j < nv; j++)
			memset(v[j].iov_base, 'A' + j, v[j].iov_len);
		for (int j = 0; j < n && j < nv; j++) {
			size_t use = v[j].iov_len < left ? v[j].iov_len : left;
			if (how == 1)
				use /= 2;
			memcpy(v[j].iov_base, pool + off, use);
			v[j].iov_len = use;
			left -= use;
		}
		if (how == 2)
			n = 0;
		if (how == 3 && n > 0)
			v[0].iov_base = (char *)v[0].iov_base + 1;
		if (how == 4 && n > 0)
			v[0].iov_len += 100000;
		fz_printf(" commit %d %d", how, n);
		res = evbuffer_commit_space(x, v, n);
		break;
	}
	case 29: {
		int front = (int)fz_below(&r, 2);
		if (s->frozen[front]) {
			fz_printf("unfreeze %s", front ? "front" : "end");
			res = evbuffer_unfreeze(x, front);
			s->frozen[front] = 0;
		} else {
			fz_printf("freeze %s", front ? "front" : "end");
			res = evbuffer_freeze(x, front);
			s->frozen[front] = 1;
		}
		break;
	}
	case 30: {
		int e = (int)fz_below(&r, 2);
		int what = (int)fz_below(&r, 4);
		if (!s->cbe[e]) {
			intptr_t arg = a * 4 + e + (fz_chance(&r, 1, 4) ? 2 : 0);
			fz_printf("add_cb e%d", e);
			s->cbe[e] = evbuffer_add_cb(x, watch, (void *)arg);
			res = s->cbe[e] != NULL;
		} else if (what == 0) {
			fz_printf("remove_cb_entry e%d", e);
			res = evbuffer_remove_cb_entry(x, s->cbe[e]);
			s->cbe[e] = NULL;
		} else if (what == 1) {
			fz_printf("cb_clear_flags e%d", e);
			res = evbuffer_cb_clear_flags(x, s->cbe[e], EVBUFFER_CB_ENABLED);
		} else {
			fz_printf("cb_set_flags e%d", e);
			res = evbuffer_cb_set_flags(x, s->cbe[e], EVBUFFER_CB_ENABLED);
		}
		break;
	}
	case 31: {
		/* Removing by function and argument: the argument names one of
		 * the entries (or none, which fails). */
		int e = (int)fz_below(&r, 2);
		int drainer = (int)fz_below(&r, 2);
		intptr_t arg = a * 4 + e + drainer * 2;
		fz_printf("remove_cb e%d%s", e, drainer ? " drainer" : "");
		res = evbuffer_remove_cb(x, watch, (void *)arg);
		if (res == 0)
			s->cbe[e] = NULL;
		break;
	}
	case 32:
		s->obsolete_cb = !s->obsolete_cb;
		fz_printf("setcb %s", s->obsolete_cb ? "on" : "off");
		/* setcb removes every callback first, add_cb's ones too. */
		evbuffer_setcb(x, s->obsolete_cb ? obsolete_watch : NULL, NULL);
		s->cbe[0] = s->cbe[1] = NULL;
		break;
	case 33: case 34:
		fz_printf("loop");
		res = event_base_loop(base, EVLOOP_NONBLOCK);
		break;
	case 35:
		fz_printf("defer_callbacks");
		if (s->deferred) {
			fz_skip(SKIP_DEFER_TWICE);
			res = -9;
			break;
		}
		res = evbuffer_defer_callbacks(x, base);
		s->deferred = 1;
		break;
	case 36: {
		ev_off_t o = (ev_off_t)fz_below(&r, FILE_LEN);
		ev_off_t l = (ev_off_t)fz_size(&r, (size_t)(FILE_LEN - o));
		fz_printf("add_file %lld %lld", (long long)o, (long long)l);
		if (s->drains) {
			fz_skip(SKIP_SENDFILE_CHAIN);
			res = -9;
			break;
		}
		/* The buffer owns the descriptor now, also when the add fails
		 * (the segment it made is freed, and closes it). */
		res = evbuffer_add_file(x, dup(file_fd), o, l);
		break;
	}
	case 37: {
		static const char *tags[] = { "s0", "s1" };
		static const int fl[] = { 0, EVBUF_FS_DISABLE_MMAP, EVBUF_FS_DISABLE_SENDFILE,
			EVBUF_FS_DISABLE_MMAP | EVBUF_FS_DISABLE_SENDFILE, EVBUF_FS_DISABLE_LOCKING };
		int flags = fl[fz_below(&r, 5)];
		ev_off_t so = (ev_off_t)fz_below(&r, FILE_LEN);
		ev_off_t sl = fz_chance(&r, 1, 5) ? -1 : (ev_off_t)fz_size(&r, (size_t)(FILE_LEN - so));
		if (sl < 0 && so > 0) {
			/* -1 means the file's size, whatever the offset */
			fz_printf("file_segment %lld/-1", (long long)so);
			fz_skip(SKIP_SEGMENT_PAST_EOF);
			res = -9;
			break;
		}
		ev_off_t seglen = sl < 0 ? FILE_LEN - so : sl;
		ev_off_t ao = (ev_off_t)fz_below(&r, (size_t)seglen + 1);
		ev_off_t al = fz_chance(&r, 1, 5) ? -1 : (ev_off_t)fz_below(&r, (size_t)(seglen - ao) + 1);
		int t = (int)fz_below(&r, 2);
		fz_printf("file_segment flags %d %lld/%lld add %lld/%lld", flags, (long long)so,
		    (long long)sl, (long long)ao, (long long)al);
		if (seglen == 0) {
			fz_skip(SKIP_SEGMENT_EMPTY);
			res = -9;
			break;
		}
		if (s->drains || bs[c].drains) {
			fz_skip(SKIP_SENDFILE_CHAIN);
			res = -9;
			break;
		}
		struct evbuffer_file_segment *seg = evbuffer_file_segment_new(file_fd, so, sl, flags);
		if (!seg) {
			res = -8;
			break;
		}
		evbuffer_file_segment_add_cleanup_cb(seg, seg_cleanup, (void *)tags[t]);
		/* A failed add drops the caller's reference (libevent frees the
		 * segment there, and evbuffer_add_file relies on it), so the
		 * segment is freed here only while every add succeeded. */
		res = evbuffer_add_file_segment(x, seg, ao, al);
		if (res == 0 && fz_chance(&r, 1, 2)) {
			fz_printf(" -> 0, and b%d", c);
			res = evbuffer_add_file_segment(y, seg, 0, fz_chance(&r, 1, 2) ? -1 : 1);
			touched2 = 1;
		}
		if (res == 0)
			evbuffer_file_segment_free(seg);
		break;
	}
	case 38: case 39: {
		/* Through a pipe: write_atmost from x, read back into y. */
		ev_ssize_t at = fz_chance(&r, 1, 4) ? -1 : (ev_ssize_t)k;
		if (at < 0 && evbuffer_get_length(x) > 60000)
			at = 60000;
		if (at > 60000)
			at = 60000;
		fz_printf("pipe write_atmost %zd -> b%d", (ssize_t)at, c);
		if (fz_chance(&r, 1, 3)) {
			res = evbuffer_write(x, pipe_fd[1]);
			fz_printf(" (write)");
		} else {
			res = evbuffer_write_atmost(x, pipe_fd[1], at);
		}
		long got = 0;
		int howmuch = fz_chance(&r, 1, 3) ? (int)fz_size(&r, 70000) : -1;
		if (howmuch == 0)
			howmuch = 1 + (int)fz_below(&r, 5); /* see SKIP_READ_ZERO */
		while (res > 0 && got < res) {
			int rr = evbuffer_read(y, pipe_fd[0], howmuch);
			if (rr <= 0) {
				fz_printf(" read %d", rr);
				break;
			}
			got += rr;
		}
		fz_printf(" read back %ld (%d)", got, howmuch);
		touched2 = 1;
		break;
	}
	case 40: {
		/* Through a socketpair: the bytes queued there are read later
		 * in pieces. */
		if (fz_chance(&r, 1, 2)) {
			ev_ssize_t at = (ev_ssize_t)(k % 20000);
			fz_printf("sock write_atmost %zd", (ssize_t)at);
			res = evbuffer_write_atmost(x, sock_fd[0], at);
		} else {
			int howmuch = fz_chance(&r, 1, 2) ? -1 : (int)fz_size(&r, 70000);
			fz_printf("sock read %d", howmuch);
			if (howmuch == 0) {
				fz_skip(SKIP_READ_ZERO);
				res = -9;
				break;
			}
			errno = 0;
			res = evbuffer_read(x, sock_fd[1], howmuch);
			if (res < 0)
				fz_printf(" errno %s", errno == EAGAIN ? "EAGAIN" : "other");
		}
		break;
	}
	case 41: {
		int set = fz_chance(&r, 1, 2);
		fz_printf("%s DRAINS_TO_FD", set ? "set_flags" : "clear_flags");
		res = set ? evbuffer_set_flags(x, EVBUFFER_FLAG_DRAINS_TO_FD) :
		    evbuffer_clear_flags(x, EVBUFFER_FLAG_DRAINS_TO_FD);
		s->drains = set;
		break;
	}
	case 46: case 47: {
		/* sendfile: a file segment in a buffer that drains to an fd
		 * becomes a chain whose bytes stay in the file. Only writing
		 * may touch such a chain (libevent reads through a bogus
		 * pointer for anything else), so it lives in a buffer of its
		 * own, written out whole to the pipe and read back into x. */
		static const int fl[] = { 0, EVBUF_FS_DISABLE_MMAP, EVBUF_FS_DISABLE_SENDFILE,
			EVBUF_FS_DISABLE_LOCKING };
		int flags = fl[fz_below(&r, 4)];
		ev_off_t so = (ev_off_t)fz_below(&r, FILE_LEN);
		ev_off_t sl = (ev_off_t)fz_size(&r, (size_t)(FILE_LEN - so));
		if (sl > 60000)
			sl = 60000;
		ev_off_t ao = (ev_off_t)fz_below(&r, (size_t)sl + 1);
		struct evbuffer *z = evbuffer_new();
		evbuffer_set_flags(z, EVBUFFER_FLAG_DRAINS_TO_FD);
		if (fz_chance(&r, 1, 3))
			evbuffer_add(z, pool + off, k % 3000);
		fz_printf("sendfile flags %d %lld/%lld from %lld", flags, (long long)so,
		    (long long)sl, (long long)ao);
		struct evbuffer_file_segment *seg = evbuffer_file_segment_new(file_fd, so, sl, flags);
		if (!seg) {
			res = -8;
			evbuffer_free(z);
			break;
		}
		res = evbuffer_add_file_segment(z, seg, ao, -1);
		if (res == 0)
			evbuffer_file_segment_free(seg);
		long wrote = 0, got = 0;
		while (evbuffer_get_length(z) > 0) {
			int w = evbuffer_write_atmost(z, pipe_fd[1],
			    fz_chance(&r, 1, 2) ? -1 : (ev_ssize_t)(1 + fz_below(&r, 20000)));
			if (w <= 0)
				break;
			wrote += w;
			while (got < wrote) {
				int rr = evbuffer_read(x, pipe_fd[0], -1);
				if (rr <= 0)
					break;
				got += rr;
			}
		}
		fz_printf(" wrote %ld read %ld left %zu", wrote, got, evbuffer_get_length(z));
		evbuffer_free(z);
		break;
	}
	case 42: {
		unsigned char what[6];
		size_t wl = 1 + fz_below(&r, 5);
		size_t len = evbuffer_get_length(x);
		/* copyout_from fails on a buffer frozen at the front */
		memset(what, '?', sizeof(what));
		if (len >= wl && fz_chance(&r, 1, 2)) {
			struct evbuffer_ptr q;
			evbuffer_ptr_set(x, &q, fz_below(&r, len - wl + 1), EVBUFFER_PTR_SET);
			evbuffer_copyout_from(x, &q, what, wl);
		} else {
			memcpy(what, "\r\nq\0z", 6);
		}
		fz_printf("find %zu", wl);
		unsigned char *p = evbuffer_find(x, what, wl);
		res = p ? (long)fz_fnv(p, wl) % 1000 : -1;
		break;
	}
	case 43:
		fz_printf("lock/unlock");
		evbuffer_lock(x);
		res = (long)evbuffer_get_length(x);
		evbuffer_unlock(x);
		break;
	case 44:
		if (fz_chance(&r, 1, 3)) {
			fz_printf("free and new");
			free_buffer(a);
			new_buffer(a, &r);
			x = bs[a].b;
		} else {
			fz_printf("length");
			res = (long)evbuffer_get_length(x);
		}
		break;
	case 45: {
		/* Transfers between buffers of a chosen size, through a
		 * remove into memory and an add. */
		unsigned char *tmp = malloc(k + 1);
		fz_printf("remove+add -> b%d %zu", c, k);
		res = evbuffer_remove(x, tmp, k);
		if (res > 0)
			res = evbuffer_add(y, tmp, (size_t)res);
		free(tmp);
		touched2 = 1;
		break;
	}
	}
	fz_printf(" -> %ld\n", res);
	fz_flush_notes();
	show(a);
	if (touched2 && c != a)
		show(c);
	/* Keep sizes bounded; an unfrozen front is drained. */
	for (int i = 0; i < NB; i++) {
		if (evbuffer_get_length(bs[i].b) > MAX_LEN && !bs[i].frozen[1]) {
			fz_printf("  trim b%d -> %d\n", i,
			    evbuffer_drain(bs[i].b, evbuffer_get_length(bs[i].b) - MAX_LEN / 2));
			fz_flush_notes();
			show(i);
		}
	}
}

/* Empties the socketpair and pipe between sequences. */
static void empty_fds(void)
{
	char junk[65536];
	while (read(sock_fd[1], junk, sizeof(junk)) > 0)
		;
	while (read(pipe_fd[0], junk, sizeof(junk)) > 0)
		;
}

static void sequence(uint64_t seed, int nops)
{
	struct fz_rng r = fz_op_rng(seed, -1);
	base = event_base_new();
	for (int i = 0; i < NB; i++)
		new_buffer(i, &r);
	for (int i = 0; i < nops; i++)
		if (fz_kept(i))
			op(seed, i);
	fz_printf("end\n");
	for (int i = 0; i < NB; i++)
		show(i);
	/* Every buffer emptied before any is freed: the reference chains
	 * that keep buffers alive go, whatever path they took between the
	 * buffers, and both libraries free everything (a sanitizer build
	 * checks that). */
	for (int i = 0; i < NB; i++) {
		for (int f = 0; f < 2; f++)
			if (bs[i].frozen[f])
				evbuffer_unfreeze(bs[i].b, f);
		bs[i].frozen[0] = bs[i].frozen[1] = 0;
		evbuffer_drain(bs[i].b, evbuffer_get_length(bs[i].b));
	}
	fz_flush_notes();
	for (int i = 0; i < NB; i++)
		free_buffer(i);
	/* Deferred runs of freed buffers still happen (libevent keeps such
	 * buffers alive until then). */
	event_base_loop(base, EVLOOP_NONBLOCK);
	fz_flush_notes();
	event_base_free(base);
	fz_flush_notes();
	empty_fds();
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc > 1 && strcmp(argv[1], "-t") == 0) {
		threads = 1;
		evthread_use_pthreads();
		argc--;
		argv++;
	}
	struct fz_rng r = { 0x5eed };
	for (size_t i = 0; i < POOL; i++) {
		uint64_t v = fz_next(&r);
		pool[i] = (v & 31) == 0 ? '\n' : (v & 63) == 1 ? '\r' : (v & 255) == 2 ? '\0' :
		    (unsigned char)('a' + (v >> 8) % 26);
	}
	char path[] = "/tmp/fuzz_buffer.XXXXXX";
	file_fd = mkstemp(path);
	if (file_fd < 0 || write(file_fd, pool + 12345, FILE_LEN) != FILE_LEN)
		return 2;
	unlink(path);
	if (pipe(pipe_fd) < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sock_fd) < 0)
		return 2;
	for (int i = 0; i < 2; i++) {
		fcntl(pipe_fd[i], F_SETFL, O_NONBLOCK);
		fcntl(sock_fd[i], F_SETFL, O_NONBLOCK);
	}
	return fz_main(argc, argv, 60, rules, NRULES, sequence);
}
