/*
 * bench_evbuffer: evbuffer operations, libevent vs goevent.
 *
 * Small operations (16-512 byte adds, get_length, add_buffer) are dominated
 * by per-call overhead, which is where a Go implementation pays for crossing
 * from C; large ones (64 KiB adds, pullup, search, pipe I/O) are dominated
 * by copying and system calls, where both should approach the machine's
 * limit (bench_raw measures that limit for the same shapes).
 *
 * Setup and verification run outside the timed regions where the case's
 * shape allows it; where it does not (every-call checks of a return value,
 * the memcmp+free a readln caller does anyway), both builds pay the same.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "bench.h"

/* Large enough for the biggest contiguous check: 1000 adds of 64 KiB. */
static unsigned char *scratch;
static size_t scratch_len;

static unsigned char *
scratch_get(size_t n)
{
	if (n > scratch_len) {
		free(scratch);
		scratch = malloc(n);
		BENCH_CHECK(scratch != NULL, "out of memory for %zu bytes", n);
		scratch_len = n;
	}
	return scratch;
}

/* Advances a stream offset, keeping it below the period so that
 * bench_stream_buf + off is valid for BENCH_STREAM_SLACK bytes without a
 * division in the hot loop. */
static inline size_t
stream_advance(size_t off, size_t by)
{
	off += by;
	while (off >= BENCH_STREAM_PERIOD)
		off -= BENCH_STREAM_PERIOD;
	return off;
}

static struct evbuffer *
new_buffer(void)
{
	struct evbuffer *b = evbuffer_new();

	BENCH_CHECK(b != NULL, "evbuffer_new failed");
	return b;
}

/* Copies the whole buffer out (without draining) and checks it against the
 * stream at off. */
static void
verify_buffer(struct evbuffer *b, size_t want_len, size_t off, const char *what)
{
	size_t len = evbuffer_get_length(b);
	unsigned char *p;

	BENCH_CHECK(len == want_len, "%s: length %zu, want %zu", what, len, want_len);
	p = scratch_get(len ? len : 1);
	BENCH_CHECK(evbuffer_copyout(b, p, len) == (ev_ssize_t)len,
	    "%s: copyout of %zu bytes fell short", what, len);
	bench_stream_verify(p, len, off, what);
}

/* ---- add then drain, one at a time ------------------------------------- */

/* Each add takes the next bytes of the stream; every 1024th add the buffer is
 * copied out and checked before the drain, so adds that store the wrong bytes
 * fail while the check stays a small part of the time. */
static uint64_t
add_drain_each(long n, size_t size)
{
	struct evbuffer *b = new_buffer();
	unsigned char check[64 * 1024];
	size_t off = 0;
	uint64_t t0, t;
	long i;

	t0 = bench_now_ns();
	for (i = 0; i < n; i++) {
		if (evbuffer_add(b, bench_stream_buf + off, size) != 0)
			BENCH_CHECK(0, "evbuffer_add(%zu) failed", size);
		if ((i & 1023) == 1023) {
			BENCH_CHECK(evbuffer_get_length(b) == size, "length %zu after add of %zu",
			    evbuffer_get_length(b), size);
			BENCH_CHECK(evbuffer_copyout(b, check, size) == (ev_ssize_t)size,
			    "copyout fell short");
			bench_stream_verify(check, size, off, "add/drain");
		}
		if (evbuffer_drain(b, size) != 0)
			BENCH_CHECK(0, "evbuffer_drain(%zu) failed", size);
		off = stream_advance(off, size);
	}
	t = bench_now_ns() - t0;
	BENCH_CHECK(evbuffer_get_length(b) == 0, "buffer not empty after the last drain");
	evbuffer_free(b);
	return t;
}

static double
case_add16_drain_each(long n)
{
	return bench_ns_per_op(add_drain_each(n, 16), (uint64_t)n);
}

static double
case_add512_drain_each(long n)
{
	return bench_ns_per_op(add_drain_each(n, 512), (uint64_t)n);
}

static double
case_add64k_drain_each(long n)
{
	size_t size = 64 * BENCH_KiB;

	return bench_mb_per_s((uint64_t)n * size, add_drain_each(n, size));
}

/* The same with a callback registered on the buffer (a program watching
 * its buffer, as evbuffer_add_cb users do): the callback counts the bytes
 * it is told of, and the count is checked at the end. */
struct cb_count {
	size_t added, deleted;
};

static void
count_cb(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
	struct cb_count *c = arg;

	(void)b;
	c->added += info->n_added;
	c->deleted += info->n_deleted;
}

static double
case_add16_drain_each_cb(long n)
{
	struct evbuffer *b = new_buffer();
	struct cb_count c = { 0, 0 };
	uint64_t t0, t;
	long i;

	BENCH_CHECK(evbuffer_add_cb(b, count_cb, &c) != NULL, "evbuffer_add_cb failed");
	t0 = bench_now_ns();
	for (i = 0; i < n; i++) {
		if (evbuffer_add(b, bench_stream_buf + (i & 1023), 16) != 0)
			BENCH_CHECK(0, "evbuffer_add failed");
		if (evbuffer_drain(b, 16) != 0)
			BENCH_CHECK(0, "evbuffer_drain failed");
	}
	t = bench_now_ns() - t0;
	BENCH_CHECK(c.added == (size_t)n * 16 && c.deleted == (size_t)n * 16,
	    "the callback was told of %zu added, %zu deleted", c.added, c.deleted);
	evbuffer_free(b);
	return bench_ns_per_op(t, (uint64_t)n);
}

/* ---- 1000 adds, then one drain ----------------------------------------- */

/* n rounds of 1000 adds and one drain of everything. The adds and the drain
 * are timed; the full-content check between them is not. */
static uint64_t
add_many_drain(long rounds, size_t size)
{
	const long per_round = 1000;
	struct evbuffer *b = new_buffer();
	size_t off = 0;
	uint64_t t = 0, t0;
	long r, k;

	for (r = 0; r < rounds; r++) {
		size_t start = off;

		t0 = bench_now_ns();
		for (k = 0; k < per_round; k++) {
			if (evbuffer_add(b, bench_stream_buf + off, size) != 0)
				BENCH_CHECK(0, "evbuffer_add(%zu) failed", size);
			off = stream_advance(off, size);
		}
		t += bench_now_ns() - t0;

		verify_buffer(b, (size_t)per_round * size, start, "1000 adds");

		t0 = bench_now_ns();
		if (evbuffer_drain(b, (size_t)per_round * size) != 0)
			BENCH_CHECK(0, "evbuffer_drain failed");
		t += bench_now_ns() - t0;
		BENCH_CHECK(evbuffer_get_length(b) == 0, "buffer not empty after drain");
	}
	evbuffer_free(b);
	return t;
}

static double
case_add16_x1000(long n)
{
	return bench_ns_per_op(add_many_drain(n, 16), (uint64_t)n * 1000);
}

static double
case_add512_x1000(long n)
{
	return bench_ns_per_op(add_many_drain(n, 512), (uint64_t)n * 1000);
}

static double
case_add64k_x1000(long n)
{
	size_t size = 64 * BENCH_KiB;

	return bench_mb_per_s((uint64_t)n * 1000 * size, add_many_drain(n, size));
}

/* ---- add + remove 64 bytes --------------------------------------------- */

static double
case_add_remove64(long n)
{
	struct evbuffer *b = new_buffer();
	unsigned char out[64];
	size_t off = 0;
	uint64_t t0, t;
	long i;

	t0 = bench_now_ns();
	for (i = 0; i < n; i++) {
		const unsigned char *src = bench_stream_buf + off;

		if (evbuffer_add(b, src, sizeof(out)) != 0)
			BENCH_CHECK(0, "evbuffer_add failed");
		if (evbuffer_remove(b, out, sizeof(out)) != (int)sizeof(out))
			BENCH_CHECK(0, "evbuffer_remove returned short");
		if (memcmp(out, src, sizeof(out)) != 0)
			BENCH_CHECK(0, "removed bytes differ from added bytes at op %ld", i);
		off = stream_advance(off, sizeof(out));
	}
	t = bench_now_ns() - t0;
	BENCH_CHECK(evbuffer_get_length(b) == 0, "buffer not empty");
	evbuffer_free(b);
	return bench_ns_per_op(t, (uint64_t)n);
}

/* ---- readln ------------------------------------------------------------ */

#define LINES_PER_FILL 8192
#define LINE_LEN 80

/* n lines of 80 bytes each (terminator included), read back in rounds of
 * LINES_PER_FILL. The text is added in 4093-byte pieces so that lines and
 * terminators (CR and LF included) straddle chain boundaries as they do
 * when data arrives from a socket. */
static double
readln_case(long n, enum evbuffer_eol_style style)
{
	size_t eol_len = style == EVBUFFER_EOL_CRLF ? 2 : 1;
	size_t content = LINE_LEN - eol_len;
	size_t text_len = (size_t)LINES_PER_FILL * LINE_LEN;
	unsigned char *text = malloc(text_len);
	struct evbuffer *b = new_buffer();
	long rounds = (n + LINES_PER_FILL - 1) / LINES_PER_FILL;
	uint64_t t = 0, t0;
	long r, k;
	size_t i;

	BENCH_CHECK(text != NULL, "out of memory");
	for (k = 0; k < LINES_PER_FILL; k++) {
		unsigned char *line = text + (size_t)k * LINE_LEN;

		memcpy(line, bench_stream_at((uint64_t)k * LINE_LEN), content);
		if (eol_len == 2)
			line[content] = '\r';
		line[LINE_LEN - 1] = '\n';
	}

	for (r = 0; r < rounds; r++) {
		for (i = 0; i < text_len; i += 4093) {
			size_t piece = text_len - i < 4093 ? text_len - i : 4093;

			BENCH_CHECK(evbuffer_add(b, text + i, piece) == 0, "evbuffer_add failed");
		}

		t0 = bench_now_ns();
		for (k = 0; k < LINES_PER_FILL; k++) {
			size_t got = 0;
			char *line = evbuffer_readln(b, &got, style);

			if (line == NULL || got != content ||
			    memcmp(line, text + (size_t)k * LINE_LEN, content) != 0 ||
			    line[content] != '\0')
				BENCH_CHECK(0, "line %ld of round %ld: length %zu (want %zu) or bytes differ",
				    k, r, line ? got : 0, content);
			free(line);
		}
		t += bench_now_ns() - t0;
		BENCH_CHECK(evbuffer_get_length(b) == 0, "%zu bytes left after the last line",
		    evbuffer_get_length(b));
		BENCH_CHECK(evbuffer_readln(b, NULL, style) == NULL, "readln on an empty buffer");
	}
	evbuffer_free(b);
	free(text);
	return bench_ns_per_op(t, (uint64_t)rounds * LINES_PER_FILL);
}

static double
case_readln_lf(long n)
{
	return readln_case(n, EVBUFFER_EOL_LF);
}

static double
case_readln_crlf(long n)
{
	return readln_case(n, EVBUFFER_EOL_CRLF);
}

/* ---- fill helpers ------------------------------------------------------ */

/* Appends len stream bytes starting at off, in pieces of `piece` bytes. */
static void
fill_from_stream(struct evbuffer *b, size_t off, size_t len, size_t piece)
{
	while (len > 0) {
		size_t k = len < piece ? len : piece;

		BENCH_CHECK(evbuffer_add(b, bench_stream_buf + off, k) == 0, "evbuffer_add failed");
		off = stream_advance(off, k);
		len -= k;
	}
}

/* ---- search ------------------------------------------------------------ */

/* One MiB of stream text (letters and digits, added in 4 KiB pieces) with
 * the pattern in its last bytes. The pattern starts with a letter, so the
 * search meets a candidate first byte about every 36 bytes, as a search for
 * a delimiter in real text would; its '-' cannot occur in the stream, so the
 * only match is the planted one. */
static double
search_end(long n, const char *pat)
{
	size_t patlen = strlen(pat);
	size_t total = BENCH_MiB;
	struct evbuffer *b = new_buffer();
	uint64_t t0, t;
	long i;

	fill_from_stream(b, 0, total - patlen, 4 * BENCH_KiB);
	BENCH_CHECK(evbuffer_add(b, pat, patlen) == 0, "evbuffer_add failed");
	BENCH_CHECK(evbuffer_get_length(b) == total, "length %zu", evbuffer_get_length(b));

	t0 = bench_now_ns();
	for (i = 0; i < n; i++) {
		struct evbuffer_ptr p = evbuffer_search(b, pat, patlen, NULL);

		if (p.pos != (ev_off_t)(total - patlen))
			BENCH_CHECK(0, "found at %lld, want %zu", (long long)p.pos, total - patlen);
	}
	t = bench_now_ns() - t0;
	evbuffer_free(b);
	return bench_mb_per_s((uint64_t)n * total, t);
}

static double
case_search_end(long n)
{
	return search_end(n, "q7-end-of-haystack");
}

/* The same with a pattern of letters and digits only: every byte of it is
 * as frequent in the data as the first, so no byte of it is rarer to scan
 * for (chance matches of 17 such bytes are too unlikely to matter). */
static double
case_search_alnum_end(long n)
{
	return search_end(n, "q7endofhaystack9z");
}


/* ---- add_buffer -------------------------------------------------------- */

/* Moves 1 MiB (about 256 chains of 4 KiB adds) back and forth between two
 * buffers; one op is one evbuffer_add_buffer. */
static double
case_add_buffer(long n)
{
	size_t total = BENCH_MiB;
	struct evbuffer *a = new_buffer(), *b = new_buffer(), *tmp;
	uint64_t t0, t;
	long i;

	fill_from_stream(a, 0, total, 4 * BENCH_KiB);
	t0 = bench_now_ns();
	for (i = 0; i < n; i++) {
		if (evbuffer_add_buffer(b, a) != 0)
			BENCH_CHECK(0, "evbuffer_add_buffer failed at op %ld", i);
		if ((i & 1023) == 0)
			BENCH_CHECK(evbuffer_get_length(b) == total && evbuffer_get_length(a) == 0,
			    "after a move: dst %zu, src %zu", evbuffer_get_length(b),
			    evbuffer_get_length(a));
		tmp = a;
		a = b;
		b = tmp;
	}
	t = bench_now_ns() - t0;
	verify_buffer(a, total, 0, "add_buffer");
	BENCH_CHECK(evbuffer_get_length(b) == 0, "source not emptied");
	evbuffer_free(a);
	evbuffer_free(b);
	return bench_ns_per_op(t, (uint64_t)n);
}

/* ---- pullup ------------------------------------------------------------ */

/* 1 MiB built as 1024 chains of 1 KiB (each 1 KiB is added to a scratch
 * buffer and moved over, so no two share a chain), then made contiguous by
 * evbuffer_pullup(-1). Only the pullup is timed. */
static double
case_pullup(long n)
{
	size_t total = BENCH_MiB, piece = BENCH_KiB;
	struct evbuffer *b = new_buffer(), *one = new_buffer();
	uint64_t t = 0, t0;
	long i;
	size_t off;

	for (i = 0; i < n; i++) {
		unsigned char *p;

		for (off = 0; off < total; off += piece) {
			BENCH_CHECK(evbuffer_add(one, bench_stream_buf + off, piece) == 0,
			    "evbuffer_add failed");
			BENCH_CHECK(evbuffer_add_buffer(b, one) == 0, "evbuffer_add_buffer failed");
		}
		t0 = bench_now_ns();
		p = evbuffer_pullup(b, -1);
		t += bench_now_ns() - t0;
		BENCH_CHECK(p != NULL, "evbuffer_pullup returned NULL");
		BENCH_CHECK(evbuffer_get_length(b) == total, "length changed by pullup");
		BENCH_CHECK(evbuffer_get_contiguous_space(b) == total,
		    "contiguous space %zu after pullup", evbuffer_get_contiguous_space(b));
		bench_stream_verify(p, total, 0, "pullup");
		BENCH_CHECK(evbuffer_drain(b, total) == 0, "evbuffer_drain failed");
	}
	evbuffer_free(b);
	evbuffer_free(one);
	return bench_mb_per_s((uint64_t)n * total, t);
}

/* ---- get_length -------------------------------------------------------- */

static double
case_get_length(long n)
{
	struct evbuffer *b[2] = { new_buffer(), new_buffer() };
	uint64_t sum = 0, t0, t;
	long i;

	fill_from_stream(b[0], 0, 1000, 1000);
	fill_from_stream(b[1], 0, 3, 3);
	t0 = bench_now_ns();
	for (i = 0; i < n; i++)
		sum += evbuffer_get_length(b[i & 1]);
	t = bench_now_ns() - t0;
	BENCH_CHECK(sum == (uint64_t)(n / 2) * 1003 + (uint64_t)(n & 1) * 1000,
	    "sum of lengths %llu is wrong", (unsigned long long)sum);
	bench_keep(sum);
	evbuffer_free(b[0]);
	evbuffer_free(b[1]);
	return bench_ns_per_op(t, (uint64_t)n);
}

/* ---- evbuffer_write / evbuffer_read through a pipe --------------------- */

/* n MiB through a nonblocking pipe in steps of `step` bytes: each step is an
 * evbuffer_write_atmost from `out` and the evbuffer_read calls into `in` that
 * take it all back (libevent 2.1 reads at most 4 KiB per call, so a larger
 * step takes several), and only those calls are timed. Refilling `out` (1 MiB at a time) and removing
 * and checking what arrived in `in` happen between the timed calls. */
static double
pipe_rw(long n, size_t step)
{
	uint64_t total = (uint64_t)n * BENCH_MiB, moved = 0, t = 0, t0;
	struct evbuffer *out = new_buffer(), *in = new_buffer();
	unsigned char *got = scratch_get(step);
	size_t woff = 0, roff = 0;
	int fds[2];

	BENCH_CHECK(pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0, "pipe2: %s", strerror(errno));
	/* The pipe must hold a whole step, or a write could be partial. */
	(void)fcntl(fds[1], F_SETPIPE_SZ, (int)(256 * BENCH_KiB));
	BENCH_CHECK(fcntl(fds[1], F_GETPIPE_SZ) >= (int)step, "pipe too small for step %zu", step);

	while (moved < total) {
		int w, r;

		if (evbuffer_get_length(out) < step) {
			fill_from_stream(out, woff, BENCH_MiB, BENCH_MiB);
			woff = stream_advance(woff, BENCH_MiB);
		}
		t0 = bench_now_ns();
		w = evbuffer_write_atmost(out, fds[1], (ev_ssize_t)step);
		for (r = 0; w > 0 && r < w;) {
			int k = evbuffer_read(in, fds[0], (int)step);

			if (k <= 0) {
				r = k < 0 ? k : -2;
				break;
			}
			r += k;
		}
		t += bench_now_ns() - t0;
		BENCH_CHECK(w > 0 && (size_t)w <= step, "evbuffer_write_atmost returned %d (%s)",
		    w, w < 0 ? strerror(errno) : "short");
		BENCH_CHECK(r == w, "evbuffer_read got %d (-1: error, -2: EOF) of a write of %d (%s)",
		    r, w, r == -1 ? strerror(errno) : "");
		BENCH_CHECK(evbuffer_remove(in, got, (size_t)r) == r, "evbuffer_remove fell short");
		bench_stream_verify(got, (size_t)r, roff, "pipe read");
		roff = stream_advance(roff, (size_t)r);
		moved += (uint64_t)r;
	}
	BENCH_CHECK(evbuffer_get_length(in) == 0, "input buffer not empty");
	close(fds[0]);
	close(fds[1]);
	evbuffer_free(out);
	evbuffer_free(in);
	return bench_mb_per_s(moved, t);
}

static double
case_pipe_4k(long n)
{
	return pipe_rw(n, 4 * BENCH_KiB);
}

static double
case_pipe_16k(long n)
{
	return pipe_rw(n, 16 * BENCH_KiB);
}

static double
case_pipe_64k(long n)
{
	return pipe_rw(n, 64 * BENCH_KiB);
}

/* ---- peek -------------------------------------------------------------- */

/* evbuffer_peek over all of a 1 MiB buffer built from 4 KiB adds: one op is
 * the sizing call (n_vec 0) and the call that fills the vectors. Lengths are
 * checked every op; the bytes behind the vectors every 256th op, untimed. */
static double
case_peek(long n)
{
	size_t total = BENCH_MiB;
	struct evbuffer *b = new_buffer();
	struct evbuffer_iovec vec[1024];
	uint64_t t = 0, t0;
	long i;
	int j;

	fill_from_stream(b, 0, total, 4 * BENCH_KiB);
	for (i = 0; i < n; i++) {
		int need, got;
		size_t sum = 0;

		t0 = bench_now_ns();
		need = evbuffer_peek(b, -1, NULL, NULL, 0);
		got = need > 0 && need <= 1024 ? evbuffer_peek(b, -1, NULL, vec, need) : -1;
		t += bench_now_ns() - t0;
		BENCH_CHECK(need > 0 && need <= 1024 && got == need,
		    "evbuffer_peek: %d vectors needed, %d filled", need, got);
		for (j = 0; j < got; j++)
			sum += vec[j].iov_len;
		BENCH_CHECK(sum == total, "vectors cover %zu bytes, want %zu", sum, total);
		if ((i & 255) == 0) {
			size_t off = 0;

			for (j = 0; j < got; j++) {
				bench_stream_verify(vec[j].iov_base, vec[j].iov_len, off, "peek");
				off += vec[j].iov_len;
			}
		}
	}
	evbuffer_free(b);
	return bench_ns_per_op(t, (uint64_t)n);
}

static const struct bench_case cases[] = {
	{ "evbuffer_add_16B_drain_each", "ns/op", case_add16_drain_each, 4000000 },
	{ "evbuffer_add_16B_drain_each_with_cb", "ns/op", case_add16_drain_each_cb, 5000000 },
	{ "evbuffer_add_512B_drain_each", "ns/op", case_add512_drain_each, 2000000 },
	{ "evbuffer_add_64KiB_drain_each", "MB/s", case_add64k_drain_each, 65536 },
	{ "evbuffer_add_16B_x1000_then_drain", "ns/op", case_add16_x1000, 4000 },
	{ "evbuffer_add_512B_x1000_then_drain", "ns/op", case_add512_x1000, 1000 },
	{ "evbuffer_add_64KiB_x1000_then_drain", "MB/s", case_add64k_x1000, 4 },
	{ "evbuffer_add_remove_64B", "ns/op", case_add_remove64, 2000000 },
	{ "evbuffer_readln_80B_LF", "ns/op", case_readln_lf, 1000000 },
	{ "evbuffer_readln_80B_CRLF", "ns/op", case_readln_crlf, 1000000 },
	{ "evbuffer_search_end_of_1MiB", "MB/s", case_search_end, 200 },
	{ "evbuffer_search_alnum_end_of_1MiB", "MB/s", case_search_alnum_end, 200 },
	{ "evbuffer_add_buffer_1MiB", "ns/op", case_add_buffer, 4000000 },
	{ "evbuffer_pullup_1MiB_1024_chains", "MB/s", case_pullup, 100 },
	{ "evbuffer_get_length", "ns/op", case_get_length, 20000000 },
	{ "evbuffer_pipe_rw_4KiB_steps", "MB/s", case_pipe_4k, 256 },
	{ "evbuffer_pipe_rw_16KiB_steps", "MB/s", case_pipe_16k, 256 },
	{ "evbuffer_pipe_rw_64KiB_steps", "MB/s", case_pipe_64k, 256 },
	{ "evbuffer_peek_1MiB", "ns/op", case_peek, 50000 },
};

int
main(int argc, char **argv)
{
	return bench_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
