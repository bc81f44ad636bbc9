/*
 * trace.h -- printing helpers for the evbuffer differential tests
 * (tests/c/diff_buffer_*.c).
 *
 * A differential test is judged by its stdout alone, so everything here
 * prints values that do not depend on addresses, timing or the machine:
 * lengths, escaped bytes (or an FNV-1a hash when the data is long), errno
 * names rather than strerror() text, and the extent lengths of a buffer as
 * evbuffer_peek() reports them. Reading a buffer's contents goes through
 * evbuffer_peek() only, which neither changes the chain layout nor fails on
 * a frozen buffer, so a trace probe never disturbs what it observes.
 *
 * The header also carries the fixed-seed PRNG (splitmix64) the randomized
 * tests use: rand() differs between C libraries, this does not.
 */
#ifndef GE_TESTS_TRACE_H
#define GE_TESTS_TRACE_H

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

/* Long data is printed as its length and hash instead of its bytes. */
#define TR_MAX_ESC 96

/* Line-buffered stdout: when a run dies, its trace still shows how far it
 * got, which is what one wants when the other implementation crashes. */
static inline void tr_init(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
}

static inline uint64_t tr_fnv1a_update(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i;
	for (i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static inline uint64_t tr_fnv1a(const void *p, size_t n)
{
	return tr_fnv1a_update(0xcbf29ce484222325ULL, p, n);
}

/* splitmix64: a small, well-mixed generator with a 64-bit state. */
struct tr_rng {
	uint64_t s;
};

static inline uint64_t tr_next(struct tr_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A value in [0, n); n > 0. The slight modulo bias does not matter here. */
static inline size_t tr_below(struct tr_rng *r, size_t n)
{
	return (size_t)(tr_next(r) % n);
}

/* The symbolic name of an errno value. */
static inline const char *tr_errname(int e)
{
	switch (e) {
	case 0: return "0";
	case EAGAIN: return "EAGAIN";
	case EPIPE: return "EPIPE";
	case EBADF: return "EBADF";
	case EINVAL: return "EINVAL";
	case ENOENT: return "ENOENT";
	case EINTR: return "EINTR";
	case EFAULT: return "EFAULT";
	case ENOMEM: return "ENOMEM";
	case EISDIR: return "EISDIR";
	case ESPIPE: return "ESPIPE";
	case ENOTSOCK: return "ENOTSOCK";
	case ECONNRESET: return "ECONNRESET";
	case ENOTCONN: return "ENOTCONN";
	case EMSGSIZE: return "EMSGSIZE";
	case EOVERFLOW: return "EOVERFLOW";
	case ENOSYS: return "ENOSYS";
	default: return "E?";
	}
}

/* Prints n bytes as a quoted, escaped string, or as <len:hash> when long. */
static inline void tr_esc(const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i;
	if (n > TR_MAX_ESC) {
		printf("<%zu:%016llx>", n, (unsigned long long)tr_fnv1a(p, n));
		return;
	}
	putchar('"');
	for (i = 0; i < n; i++) {
		unsigned char c = s[i];
		switch (c) {
		case '\r': fputs("\\r", stdout); break;
		case '\n': fputs("\\n", stdout); break;
		case '\t': fputs("\\t", stdout); break;
		case '\0': fputs("\\0", stdout); break;
		case '\\': fputs("\\\\", stdout); break;
		case '"': fputs("\\\"", stdout); break;
		default:
			if (c >= 0x20 && c < 0x7f)
				putchar(c);
			else
				printf("\\x%02x", c);
		}
	}
	putchar('"');
}

/* "label len=N data" for a plain memory range. */
static inline void tr_data(const char *label, const void *p, size_t n)
{
	printf("%s len=%zu ", label, n);
	tr_esc(p, n);
	putchar('\n');
}

/* Copies a buffer's whole contents into fresh memory through evbuffer_peek.
 * Returns the length; *out must be freed. */
static inline size_t tr_snapshot(struct evbuffer *b, unsigned char **out)
{
	int n = evbuffer_peek(b, -1, NULL, NULL, 0);
	struct evbuffer_iovec *v;
	size_t len = evbuffer_get_length(b), got = 0;
	int i;
	*out = malloc(len + 1);
	if (n <= 0)
		return 0;
	v = calloc((size_t)n, sizeof(*v));
	n = evbuffer_peek(b, -1, NULL, v, n);
	for (i = 0; i < n && got < len; i++) {
		size_t k = v[i].iov_len;
		if (k > len - got)
			k = len - got;
		memcpy(*out + got, v[i].iov_base, k);
		got += k;
	}
	free(v);
	return got;
}

/* "label len=N data": a buffer's length and contents. */
static inline void tr_buf(const char *label, struct evbuffer *b)
{
	unsigned char *d;
	size_t got = tr_snapshot(b, &d);
	printf("%s len=%zu ", label, evbuffer_get_length(b));
	tr_esc(d, got);
	putchar('\n');
	free(d);
}

/* The hash of a buffer's contents (for long data). */
static inline uint64_t tr_buf_hash(struct evbuffer *b)
{
	unsigned char *d;
	size_t got = tr_snapshot(b, &d);
	uint64_t h = tr_fnv1a(d, got);
	free(d);
	return h;
}

/* "label len=N contig=C ext=K [l1,l2,...]": how the data is laid out in
 * extents. Those follow from libevent's chain allocation policy, which a
 * drop-in replacement reproduces. At most 24 extent lengths are listed. */
static inline void tr_layout(const char *label, struct evbuffer *b)
{
	struct evbuffer_iovec v[24];
	int n = evbuffer_peek(b, -1, NULL, NULL, 0);
	int k = evbuffer_peek(b, -1, NULL, v, 24);
	int i;
	printf("%s len=%zu contig=%zu ext=%d [", label, evbuffer_get_length(b),
	    evbuffer_get_contiguous_space(b), n);
	for (i = 0; i < k && i < 24; i++)
		printf("%s%zu", i ? "," : "", v[i].iov_len);
	printf("%s]\n", n > 24 ? ",..." : "");
}

/* Both of the above. */
static inline void tr_full(const char *label, struct evbuffer *b)
{
	tr_buf(label, b);
	tr_layout(label, b);
}

/* Appends len bytes of data to b in pieces whose sizes cycle through
 * sizes[0..nsizes-1], each piece in a chain of its own, so that later
 * operations have chain boundaries to cross. how:
 *   'm'  each piece is added to a scratch buffer and moved in with
 *        evbuffer_add_buffer (a mutable chain with spare room after it);
 *   'r'  each piece is added with evbuffer_add_reference (an immutable
 *        chain; data must outlive b);
 *   'a'  the two alternate, starting with 'm'. */
static inline void tr_add_pieces(struct evbuffer *b, const void *data,
    size_t len, const size_t *sizes, int nsizes, char how)
{
	const unsigned char *p = data;
	size_t off = 0;
	int i = 0;
	while (off < len) {
		size_t k = sizes[i % nsizes];
		int byref = how == 'r' || (how == 'a' && (i & 1));
		if (k == 0 || k > len - off)
			k = len - off;
		if (byref) {
			evbuffer_add_reference(b, p + off, k, NULL, NULL);
		} else {
			struct evbuffer *t = evbuffer_new();
			evbuffer_add(t, p + off, k);
			evbuffer_add_buffer(b, t);
			evbuffer_free(t);
		}
		off += k;
		i++;
	}
}

/* A readln-style result: the line (or NULL) and n_read_out. */
static inline void tr_line(const char *label, char *line, size_t n)
{
	if (!line) {
		printf("%s NULL n=%zu\n", label, n);
		return;
	}
	printf("%s n=%zu strlen=%zu ", label, n, strlen(line));
	tr_esc(line, n);
	putchar('\n');
}

#endif /* GE_TESTS_TRACE_H */
