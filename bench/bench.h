/*
 * bench.h: the small harness every benchmark program shares.
 *
 * A benchmark program is one C file built twice (against Debian's libevent
 * and against goevent) and holds a table of cases. Each case does a fixed
 * amount of work and returns one number in the unit its table entry names.
 * The harness runs each case once at a tenth of its size to warm caches and
 * allocators, then once for real, and prints one line per case:
 *
 *     <case-name> <unit> <value>
 *
 * where unit is "ns/op" (lower is better) or "MB/s" (10^6 bytes per second,
 * higher is better). bench/run.sh parses exactly that.
 *
 * Every case checks what the library gave back (bytes, lengths, positions,
 * callback counts) and aborts on the first mismatch: a fast but wrong
 * implementation must fail the benchmark, not win it.
 *
 * Environment: BENCH_SCALE (a positive factor, default 1) scales the work of
 * every case, for quick smoke runs (BENCH_SCALE=0.05) or steadier numbers.
 * Arguments: case names or substrings of them; when given, only matching
 * cases run. `--list` prints each case's name and unit and runs nothing.
 */
#ifndef GOEVENT_BENCH_H
#define GOEVENT_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_CHECK(cond, ...) do { \
	if (!(cond)) { \
		fprintf(stderr, "bench: check failed at %s:%d: %s: ", \
		    __FILE__, __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__); \
		fputc('\n', stderr); \
		abort(); \
	} \
} while (0)

#define BENCH_KiB ((size_t)1024)
#define BENCH_MiB ((size_t)1024 * 1024)

static inline uint64_t
bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Keeps a computed value alive so the compiler cannot drop the loop that
 * produced it. */
static inline void
bench_keep(uint64_t v)
{
	__asm__ __volatile__("" : : "r"(v) : "memory");
}

static inline double
bench_ns_per_op(uint64_t ns, uint64_t ops)
{
	return ops ? (double)ns / (double)ops : 0.0;
}

static inline double
bench_mb_per_s(uint64_t bytes, uint64_t ns)
{
	return ns ? (double)bytes * 1000.0 / (double)ns : 0.0;
}

/* xorshift64*: a fixed-seed generator, so both builds see the same inputs. */
static inline uint64_t
bench_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/*
 * The reference byte stream. Data that goes through a buffer or a pipe is
 * taken from this stream at a running offset, so the receiver verifies it
 * with one memcmp against bench_stream_at(offset) instead of hashing. Its
 * period is an odd size, so chunk and chain boundaries never line up with
 * it; the array holds the period plus BENCH_STREAM_SLACK extra bytes so that
 * any run of up to BENCH_STREAM_SLACK bytes at any offset is contiguous.
 * The bytes are lowercase letters and digits: no CR, LF or NUL, so line
 * tests and search tests can build on it.
 */
#define BENCH_STREAM_PERIOD ((size_t)1048573) /* a prime just under 1 MiB */
#define BENCH_STREAM_SLACK ((size_t)1100 * 1024)

static unsigned char *bench_stream_buf;

static inline void
bench_stream_init(void)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	uint64_t st = 0x9E3779B97F4A7C15ULL;
	size_t i, n = BENCH_STREAM_PERIOD + BENCH_STREAM_SLACK;

	if (bench_stream_buf)
		return;
	bench_stream_buf = malloc(n);
	BENCH_CHECK(bench_stream_buf != NULL, "out of memory");
	for (i = 0; i < BENCH_STREAM_PERIOD; i++)
		bench_stream_buf[i] = (unsigned char)alphabet[bench_rand(&st) % 36];
	for (; i < n; i++)
		bench_stream_buf[i] = bench_stream_buf[i - BENCH_STREAM_PERIOD];
}

/* The stream's bytes from offset on; valid for BENCH_STREAM_SLACK bytes. */
static inline const unsigned char *
bench_stream_at(uint64_t offset)
{
	return bench_stream_buf + (size_t)(offset % BENCH_STREAM_PERIOD);
}

/* Checks len received bytes against the stream at offset (len may be any
 * size: long runs are compared piecewise). */
static inline void
bench_stream_verify(const void *got, size_t len, uint64_t offset, const char *what)
{
	const unsigned char *p = got;

	while (len > 0) {
		size_t n = len < BENCH_STREAM_SLACK ? len : BENCH_STREAM_SLACK;

		BENCH_CHECK(memcmp(p, bench_stream_at(offset), n) == 0,
		    "%s: data differs from what was written near stream offset %llu",
		    what, (unsigned long long)offset);
		p += n;
		offset += n;
		len -= n;
	}
}

/* ---- the case table ---------------------------------------------------- */

struct bench_case {
	const char *name;
	const char *unit; /* "ns/op" or "MB/s" */
	double (*run)(long n);
	long n; /* the work at BENCH_SCALE=1, in the case's own units */
};

static inline double
bench_scale(void)
{
	const char *s = getenv("BENCH_SCALE");
	double v;

	if (!s || !*s)
		return 1.0;
	v = strtod(s, NULL);
	return v > 0 ? v : 1.0;
}

/* With no arguments every case runs. An argument equal to a case name picks
 * that case alone; any other argument picks the cases whose names contain
 * it. */
static inline int
bench_selected(const struct bench_case *cases, size_t ncases, const char *name,
    int argc, char **argv)
{
	int i;
	size_t k;

	if (argc < 2)
		return 1;
	for (i = 1; i < argc; i++) {
		int exact = 0;

		for (k = 0; k < ncases; k++)
			if (strcmp(argv[i], cases[k].name) == 0)
				exact = 1;
		if (exact ? strcmp(argv[i], name) == 0 : strstr(name, argv[i]) != NULL)
			return 1;
	}
	return 0;
}

static inline int
bench_main(const struct bench_case *cases, size_t ncases, int argc, char **argv)
{
	double scale = bench_scale();
	size_t i;

	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (i = 0; i < ncases; i++)
			printf("%s %s\n", cases[i].name, cases[i].unit);
		return 0;
	}
	bench_stream_init();
	for (i = 0; i < ncases; i++) {
		const struct bench_case *c = &cases[i];
		long n = (long)((double)c->n * scale);
		long warm;
		double v;

		if (!bench_selected(cases, ncases, c->name, argc, argv))
			continue;
		if (n < 1)
			n = 1;
		warm = n / 10 > 0 ? n / 10 : 1;
		(void)c->run(warm);
		v = c->run(n);
		printf("%s %s %.2f\n", c->name, c->unit, v);
		fflush(stdout);
	}
	return 0;
}

#endif
