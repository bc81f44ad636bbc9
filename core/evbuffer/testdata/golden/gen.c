/*
 * gen.c: records libevent's answers to a random sequence of evbuffer
 * operations. golden_test.go replays the same sequence (same PRNG, same
 * draws in the same order) on core/evbuffer and requires the identical
 * trace, so the Go core is checked against the real libevent 2.1.12, chain
 * layout included (every step prints each buffer's peek extents).
 *
 * Regenerate (from core/evbuffer/testdata/golden):
 *   cc -O1 -o /tmp/gen gen.c $(pkg-config --cflags --libs libevent_core)
 *   for s in 1 3 4 5 6 7; do /tmp/gen $s 700 | gzip -9n > seed$s.txt.gz; done
 * (seed 1 ends with a buffer holding multicast references to its own chains,
 * which libevent never frees; the others free everything.)
 *
 * Every random draw is its own statement: C leaves the evaluation order of
 * function arguments open, and the Go replica must draw in the same order.
 * Cases libevent aborts on (reserving or reading 0 bytes into a full last
 * chain) are avoided, since there is nothing to compare.
 */
#define _GNU_SOURCE
#include <event2/buffer.h>
#include <event2/buffer_compat.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned long long rs;
static unsigned rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (unsigned)(rs >> 11);
}
static unsigned rn(unsigned n) { return n ? rnd() % n : 0; }

#define NB 3
static struct evbuffer *B[NB];
static char refmem[8][4096];
static int cleanups;

static void refcleanup(const void *d, size_t l, void *x)
{
	(void)d;
	printf("  cleanup %zu %ld\n", l, (long)(intptr_t)x);
	cleanups++;
}

static void cb(struct evbuffer *b, const struct evbuffer_cb_info *i, void *arg)
{
	printf("  cb%ld len=%zu orig=%zu add=%zu del=%zu\n", (long)(intptr_t)arg,
	    evbuffer_get_length(b), i->orig_size, i->n_added, i->n_deleted);
}

static void ocb(struct evbuffer *b, size_t o, size_t n, void *arg)
{
	(void)b;
	printf("  ocb%ld %zu->%zu\n", (long)(intptr_t)arg, o, n);
}

static const unsigned char alpha[15] = "abcde\r\n\r\n\0xyzab";
static void fill(unsigned char *p, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		p[i] = alpha[rn(15)];
	if (rn(3) == 0)
		for (i = 0; i < n; i++)
			p[i] = "ab\r\n"[rn(4)];
}

static size_t rsize(void)
{
	switch (rn(6)) {
	case 0: return rn(4);
	case 1: return rn(40);
	case 2: return rn(1100);
	case 3: return rn(5000);
	case 4: return 975 + rn(3);
	default: return rn(200);
	}
}

static unsigned long hash(struct evbuffer *b)
{
	size_t n = evbuffer_get_length(b);
	unsigned char *p = malloc(n + 1);
	ev_ssize_t r = evbuffer_copyout(b, p, n);
	unsigned long h = 5381;
	ev_ssize_t i;
	for (i = 0; i < r; i++)
		h = h * 33 + p[i];
	free(p);
	return h ^ (unsigned long)r;
}

static void dump(int i)
{
	struct evbuffer *b = B[i];
	struct evbuffer_iovec v[64];
	int n = evbuffer_peek(b, -1, NULL, v, 64);
	int k;
	printf("  B%d len=%zu cs=%zu n=%d h=%lx [", i, evbuffer_get_length(b),
	    evbuffer_get_contiguous_space(b), n, hash(b));
	for (k = 0; k < n && k < 64; k++)
		printf("%zu ", v[k].iov_len);
	printf("] peek0=%d\n", evbuffer_peek(b, -1, NULL, NULL, 0));
}

static void pptr(const char *w, struct evbuffer_ptr p)
{
	printf("  %s pos=%ld c=%d pic=%zu\n", w, (long)p.pos,
	    p.internal_.chain != NULL, p.internal_.pos_in_chain);
}

static const char text1[40] = "line one\r\nline two\nthree\r\r\n\n4\0zz\r";
static const char text2[40] = "\r\n\n\rX\n";

int main(int argc, char **argv)
{
	static unsigned char tmp[20000], big[10000], pat[8];
	struct evbuffer_cb_entry *ent = NULL;
	int pfd[2], s, i;
	if (argc < 3)
		return 2;
	rs = strtoull(argv[1], 0, 10) * 2654435761ULL + 1;
	int steps = atoi(argv[2]);
	for (i = 0; i < NB; i++)
		B[i] = evbuffer_new();
	if (pipe2(pfd, O_NONBLOCK) < 0)
		return 1;
	for (s = 0; s < steps; s++) {
		int a = rn(NB);
		int b2 = (a + 1 + rn(NB - 1)) % NB;
		struct evbuffer *x = B[a], *y = B[b2];
		int op = rn(40);
		size_t n = rsize();
		size_t L = evbuffer_get_length(x);
		printf("%d op%d a=%d b=%d n=%zu\n", s, op, a, b2, n);
		switch (op) {
		case 0: case 1: case 2:
			fill(tmp, n);
			printf("  r=%d\n", evbuffer_add(x, tmp, n));
			break;
		case 3:
			fill(tmp, n);
			printf("  r=%d\n", evbuffer_prepend(x, tmp, n));
			break;
		case 4: case 5: {
			size_t d = n;
			if (rn(2) == 0) {
				unsigned k = rn(3);
				d = L - k;
			}
			printf("  r=%d\n", evbuffer_drain(x, d));
			break;
		}
		case 6:
			printf("  r=%d\n", evbuffer_remove(x, tmp, n));
			break;
		case 7:
			printf("  r=%d\n", evbuffer_add_buffer(x, y));
			break;
		case 8:
			printf("  r=%d\n", evbuffer_prepend_buffer(x, y));
			break;
		case 9:
			printf("  r=%d\n", evbuffer_remove_buffer(x, y, n));
			break;
		case 10: {
			ev_ssize_t sz = -1;
			if (rn(4) != 0)
				sz = (ev_ssize_t)rn(L + 3);
			unsigned char *p = evbuffer_pullup(x, sz);
			printf("  sz=%ld r=%d\n", (long)sz, p != NULL);
			if (p) {
				unsigned long h = 0;
				size_t m = sz < 0 ? L : (size_t)sz, k;
				for (k = 0; k < m; k++)
					h = h * 31 + p[k];
				printf("  h=%lx\n", h);
			}
			break;
		}
		case 11: case 12: {
			struct evbuffer_iovec v[4];
			int nv = 1 + rn(3), k, used = 0;
			if (n == 0 && nv > 1)
				n = 1;
			int r = evbuffer_reserve_space(x, n, v, nv);
			printf("  r=%d", r);
			for (k = 0; k < r; k++)
				printf(" %zu", v[k].iov_len);
			printf("\n");
			if (r > 0) {
				size_t left = rn(n + 1);
				for (k = 0; k < r; k++) {
					size_t t = v[k].iov_len < left ? v[k].iov_len : left;
					fill(v[k].iov_base, t);
					v[k].iov_len = t;
					left -= t;
					used = k + 1;
					if (!left && rn(2))
						break;
				}
				printf("  commit=%d\n", evbuffer_commit_space(x, v, used));
			}
			break;
		}
		case 13:
			printf("  r=%d\n", evbuffer_expand(x, n));
			break;
		case 14: case 15: {
			struct evbuffer_ptr sp, e, r;
			if (!L)
				break;
			size_t st = rn(L), pl = 1 + rn(4);
			evbuffer_ptr_set(x, &sp, st, EVBUFFER_PTR_SET);
			unsigned char *all = malloc(L);
			if (evbuffer_copyout(x, all, L) != (ev_ssize_t)L)
				memset(all, 'a', L);
			size_t from = rn(L);
			if (from + pl > L)
				pl = L - from;
			memcpy(pat, all + from, pl);
			free(all);
			if (rn(5) == 0)
				pat[0] = 'q';
			int usep = rn(2);
			r = evbuffer_search(x, (char *)pat, pl, usep ? &sp : NULL);
			pptr("search", r);
			size_t epos = rn(L + 1);
			evbuffer_ptr_set(x, &e, epos, EVBUFFER_PTR_SET);
			usep = rn(2);
			r = evbuffer_search_range(x, (char *)pat, pl, usep ? &sp : NULL, &e);
			pptr("range", r);
			break;
		}
		case 16: {
			int st = rn(5);
			size_t el = 99;
			struct evbuffer_ptr sp;
			int usep = rn(2);
			if (usep) {
				size_t p = rn(L + 2);
				int rr = evbuffer_ptr_set(x, &sp, p, EVBUFFER_PTR_SET);
				printf("  ps=%d\n", rr);
				if (rr < 0)
					usep = 0;
			}
			struct evbuffer_ptr r = evbuffer_search_eol(x, usep ? &sp : NULL, &el, st);
			pptr("eol", r);
			printf("  st=%d el=%zu\n", st, el);
			break;
		}
		case 17: case 18: {
			int st = rn(5);
			size_t nr = 77;
			char *l = evbuffer_readln(x, &nr, st);
			printf("  st=%d l=%d nr=%zu", st, l != NULL, nr);
			if (l) {
				unsigned long h = 0;
				size_t k;
				for (k = 0; k < nr; k++)
					h = h * 31 + (unsigned char)l[k];
				printf(" h=%lx z=%d", h, l[nr]);
				free(l);
			}
			printf("\n");
			break;
		}
		case 19: {
			struct evbuffer_ptr sp;
			struct evbuffer_iovec v[8];
			size_t p = rn(L + 2);
			int rr = evbuffer_ptr_set(x, &sp, p, EVBUFFER_PTR_SET);
			ev_ssize_t len = -1;
			if (rn(3) != 0)
				len = (ev_ssize_t)rn(L + 10);
			int nv = rn(9), k;
			int usep = rr == 0 && rn(2);
			int r = evbuffer_peek(x, len, usep ? &sp : NULL, v, nv);
			printf("  rr=%d len=%ld nv=%d r=%d:", rr, (long)len, nv, r);
			for (k = 0; k < r && k < nv; k++)
				printf(" %zu", v[k].iov_len);
			printf("\n");
			break;
		}
		case 20: {
			int hello = rn(2);
			int prec = rn(3) ? (int)rn(50) : (int)rn(2000);
			printf("  r=%d\n", evbuffer_add_printf(x, "%s-%d-%.*s|",
			    hello ? "hello\r\n" : "x", (int)n, prec, (const char *)tmp));
			break;
		}
		case 21: {
			struct evbuffer_iovec v[3];
			int nv = rn(4), k;
			for (k = 0; k < nv; k++) {
				v[k].iov_base = tmp + k * 3000;
				v[k].iov_len = rsize() % 3000;
				fill(v[k].iov_base, v[k].iov_len);
			}
			printf("  r=%zu\n", evbuffer_add_iovec(x, v, nv));
			break;
		}
		case 22: {
			int k = rn(8);
			size_t l = n % 4096;
			fill((unsigned char *)refmem[k], l);
			int withcb = rn(4) != 0;
			printf("  r=%d\n", evbuffer_add_reference(x, refmem[k], l,
			    withcb ? refcleanup : NULL, (void *)(intptr_t)s));
			break;
		}
		case 23:
			printf("  r=%d\n", evbuffer_add_buffer_reference(x, y));
			break;
		case 24: {
			struct evbuffer_ptr sp;
			memset(&sp, 0, sizeof(sp));
			int r1 = evbuffer_ptr_set(x, &sp, n % (L + 3), EVBUFFER_PTR_SET);
			pptr("set", sp);
			size_t add = rn(50);
			int r2 = evbuffer_ptr_set(x, &sp, add, EVBUFFER_PTR_ADD);
			pptr("add", sp);
			printf("  r=%d %d\n", r1, r2);
			if (r2 == 0) {
				size_t m = rn(100);
				printf("  co=%ld\n", (long)evbuffer_copyout_from(x, &sp, tmp, m));
			}
			break;
		}
		case 25:
			if (rn(4) == 0) {
				int st = rn(2);
				printf("  fr %d %d\n", st, evbuffer_freeze(x, st));
			} else {
				int u0 = evbuffer_unfreeze(x, 0);
				int u1 = evbuffer_unfreeze(x, 1);
				printf("  unfr %d %d\n", u0, u1);
			}
			break;
		case 26: {
			if (!L)
				break;
			unsigned char *all = malloc(L);
			if (evbuffer_copyout(x, all, L) != (ev_ssize_t)L)
				memset(all, 'b', L);
			size_t f = rn(L), pl = 1 + rn(3);
			if (f + pl > L)
				pl = L - f;
			unsigned char *p = evbuffer_find(x, all + f, pl);
			struct evbuffer_iovec v0;
			evbuffer_peek(x, 1, NULL, &v0, 1);
			printf("  find=%ld\n", p ? (long)(p - (unsigned char *)v0.iov_base) : -1L);
			free(all);
			break;
		}
		case 27: {
			char *l = evbuffer_readline(x);
			printf("  rl=%d\n", l != NULL);
			free(l);
			break;
		}
		case 28:
			if (a == 0) {
				if (ent) {
					printf("  rm=%d\n", evbuffer_remove_cb_entry(x, ent));
					ent = NULL;
				} else {
					ent = evbuffer_add_cb(x, cb, (void *)(intptr_t)s);
				}
			}
			break;
		case 29:
			if (a == 1) {
				int on = rn(2);
				printf("  setcb=%d\n", evbuffer_setcb(x, on ? ocb : NULL, (void *)(intptr_t)s));
			}
			break;
		case 30:
			if (ent && a == 0) {
				if (rn(2))
					evbuffer_cb_clear_flags(x, ent, EVBUFFER_CB_ENABLED);
				else
					evbuffer_cb_set_flags(x, ent, EVBUFFER_CB_ENABLED);
			}
			break;
		case 31: {
			ev_ssize_t wm = -1;
			if (rn(3) != 0)
				wm = (ev_ssize_t)n;
			printf("  w=%d\n", evbuffer_write_atmost(x, pfd[1], wm));
			int h = -1;
			if (rn(3) != 0)
				h = 1 + (int)rsize();
			int rr = evbuffer_read(y, pfd[0], h);
			printf("  rd=%d\n", rr);
			while ((rr = evbuffer_read(y, pfd[0], -1)) > 0)
				printf("  rd=%d\n", rr);
			break;
		}
		case 32:
			printf("  co=%ld\n", (long)evbuffer_copyout(x, tmp, n));
			break;
		case 33: {
			struct evbuffer_iovec v[3];
			int nv = rn(4);
			if (n == 0)
				n = 1;
			printf("  r=%d", evbuffer_reserve_space(x, n, v, nv));
			printf(" c0=%d\n", evbuffer_commit_space(x, v, 0));
			break;
		}
		case 34:
			fill(tmp, 3);
			printf("  r=%d\n", evbuffer_add(x, tmp, 0));
			break;
		case 35: {
			int k;
			fill(big, sizeof(big));
			for (k = 0; k < 5; k++) {
				size_t m = rsize();
				evbuffer_add(x, big, m);
			}
			break;
		}
		case 36: {
			const char *t = rn(2) ? text1 : text2;
			size_t m = 25 + rn(6);
			evbuffer_add(x, t, m);
			break;
		}
		default:
			fill(tmp, n);
			evbuffer_add(x, tmp, n);
			break;
		}
		for (i = 0; i < NB; i++)
			dump(i);
	}
	for (i = 0; i < NB; i++)
		evbuffer_free(B[i]);
	printf("cleanups=%d\n", cleanups);
	return 0;
}
