/*
 * fuzz.h -- the frame the differential fuzz programs (tests/fuzz/fuzz_*.c)
 * share.
 *
 * A fuzz program turns a seed into a sequence of operations on libevent's
 * C API and prints what each one did: its arguments, its result and what
 * it left behind (lengths, contents as hashes, extent layouts, callback
 * reports). It is built against libevent and against goevent; the runner
 * (tests/fuzz/runner) runs both builds on the same seeds and compares.
 *
 * Every operation draws its choices from a generator seeded by (seed, op
 * index), never from one shared stream: leaving operations out (the
 * runner's shrinking does) changes nothing about the others' choices, only
 * the state they meet.
 *
 * Usage of every fuzz program:
 *   prog run FIRST COUNT [NOPS]    seeds FIRST..FIRST+COUNT-1; one line per
 *                                  seed, "SEED HASH", HASH being FNV-1a of
 *                                  the seed's whole trace; then one
 *                                  "skip RULE N" line per skip rule used
 *                                  (FZ_TRACE=1 in the environment: the
 *                                  traces in full as well)
 *   prog trace SEED [NOPS [KEEP]]  the trace of one seed, in full; KEEP
 *                                  lists the operations to run, as
 *                                  "0,3,5-9" (all when absent)
 * A program that crashes has printed the lines of the seeds before.
 */
#ifndef GE_TESTS_FUZZ_H
#define GE_TESTS_FUZZ_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FZ_MAX_OPS 512

/* ---- generator ---------------------------------------------------------- */

struct fz_rng {
	uint64_t s;
};

static inline uint64_t fz_next(struct fz_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A value in [0, n); n > 0. */
static inline size_t fz_below(struct fz_rng *r, size_t n)
{
	return (size_t)(fz_next(r) % n);
}

/* True with probability num/den. */
static inline int fz_chance(struct fz_rng *r, unsigned num, unsigned den)
{
	return fz_below(r, den) < num;
}

/* The generator of operation i of a seed's sequence. */
static inline struct fz_rng fz_op_rng(uint64_t seed, int i)
{
	struct fz_rng r = { seed * 0xd1342543de82ef95ULL + (uint64_t)i * 0x9e3779b97f4a7c15ULL };
	fz_next(&r);
	return r;
}

/* A length with the edges weighted: 0, 1, the sizes around libevent's chain
 * boundaries (a chain is a power of two from 1024 bytes, 48 of them its
 * header) and now and then something large. */
static inline size_t fz_size(struct fz_rng *r, size_t max)
{
	static const size_t edges[] = { 0, 1, 2, 7, 8, 15, 16, 63, 64, 255, 256,
		975, 976, 977, 1023, 1024, 1025, 2000, 2047, 2048, 2049, 3000,
		4047, 4048, 4049, 4095, 4096, 4097, 8144, 8192, 16336, 16384,
		32720, 32768, 65536 };
	size_t n;
	switch (fz_below(r, 8)) {
	case 0:
	case 1:
		n = edges[fz_below(r, sizeof(edges) / sizeof(edges[0]))];
		break;
	case 2:
		n = fz_below(r, 16);
		break;
	case 3:
		n = 8192 + fz_below(r, 60000);
		break;
	default:
		n = fz_below(r, 1500);
		break;
	}
	return n > max ? max : n;
}

/* ---- the trace ---------------------------------------------------------- */

static int fz_tracing;     /* 1: print the trace; 0: only hash it */
static uint64_t fz_hash;   /* FNV-1a of everything fz_printf produced */

static inline void fz_hash_bytes(const void *p, size_t n)
{
	const unsigned char *s = p;
	for (size_t i = 0; i < n; i++) {
		fz_hash ^= s[i];
		fz_hash *= 0x100000001b3ULL;
	}
}

static inline uint64_t fz_fnv(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static void fz_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fz_printf(const char *fmt, ...)
{
	char small[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	char *s = small;
	if ((size_t)n >= sizeof(small)) {
		s = malloc((size_t)n + 1);
		if (!s)
			abort();
		va_start(ap, fmt);
		vsnprintf(s, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	if (fz_tracing)
		fputs(s, stdout);
	else
		fz_hash_bytes(s, (size_t)n);
	if (s != small)
		free(s);
}

/* Notes: what callbacks report while an operation runs is kept aside and
 * printed after the operation's own line (fz_flush_notes), so that lines
 * stay whole. */
static char *fz_notes;
static size_t fz_notes_len, fz_notes_cap;

static void fz_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fz_note(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	/* A pass of the loop that never ends (see fuzz_bev's watchdog) would
	 * pile up notes without bound; they are dropped then anyway. */
	if (n < 0 || fz_notes_len > (4u << 20))
		return;
	if (fz_notes_len + (size_t)n + 1 > fz_notes_cap) {
		fz_notes_cap = (fz_notes_len + (size_t)n + 1) * 2;
		fz_notes = realloc(fz_notes, fz_notes_cap);
		if (!fz_notes)
			abort();
	}
	va_start(ap, fmt);
	vsnprintf(fz_notes + fz_notes_len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	fz_notes_len += (size_t)n;
}

static inline void fz_drop_notes(void)
{
	fz_notes_len = 0;
}

static inline void fz_flush_notes(void)
{
	if (fz_notes_len)
		fz_printf("%s", fz_notes);
	fz_notes_len = 0;
}

/* ---- skip rules --------------------------------------------------------
 * Operations whose outcome libevent leaves undefined (it crashes, reads
 * freed memory, or answers from uninitialised state) are not generated.
 * Each program names them in its table of rules; the runner holds the
 * reason for each id and prints how often each was avoided. */
struct fz_rule {
	const char *id;
	long count;
};

static struct fz_rule *fz_rules;
static int fz_nrules;

static inline void fz_skip(int rule)
{
	fz_rules[rule].count++;
	fz_printf("  (skipped: %s)\n", fz_rules[rule].id);
}

/* ---- operations kept (shrinking) ----------------------------------------- */

static unsigned char fz_keep[FZ_MAX_OPS];

static inline int fz_kept(int i)
{
	return i >= 0 && i < FZ_MAX_OPS && fz_keep[i];
}

static int fz_parse_keep(const char *s)
{
	memset(fz_keep, 0, sizeof(fz_keep));
	while (*s) {
		char *end;
		long a = strtol(s, &end, 10), b = a;
		if (end == s)
			return -1;
		if (*end == '-') {
			s = end + 1;
			b = strtol(s, &end, 10);
			if (end == s)
				return -1;
		}
		for (long i = a; i <= b && i < FZ_MAX_OPS; i++)
			if (i >= 0)
				fz_keep[i] = 1;
		s = end;
		if (*s == ',')
			s++;
		else if (*s)
			return -1;
	}
	return 0;
}

/* ---- the driver ---------------------------------------------------------- */

/* A program's sequence: nops operations from seed, those not fz_kept left
 * out. It prints through fz_printf and frees everything it made. */
typedef void (*fz_sequence_fn)(uint64_t seed, int nops);

static int fz_main(int argc, char **argv, int default_nops, struct fz_rule *rules,
    int nrules, fz_sequence_fn run)
{
	fz_rules = rules;
	fz_nrules = nrules;
	if (argc >= 4 && strcmp(argv[1], "run") == 0) {
		uint64_t first = strtoull(argv[2], NULL, 10);
		uint64_t count = strtoull(argv[3], NULL, 10);
		int nops = argc > 4 ? atoi(argv[4]) : default_nops;
		if (nops < 1 || nops > FZ_MAX_OPS)
			return 2;
		memset(fz_keep, 1, sizeof(fz_keep));
		/* FZ_TRACE=1: the traces in full, for finding what a seed's
		 * trace owes to the seeds run before it in one process. */
		fz_tracing = getenv("FZ_TRACE") != NULL;
		for (uint64_t s = first; s < first + count; s++) {
			fz_hash = 0xcbf29ce484222325ULL;
			run(s, nops);
			/* Flushed at once: after a crash the lines say which
			 * seeds were done. */
			printf("%llu %016llx\n", (unsigned long long)s,
			    (unsigned long long)fz_hash);
			fflush(stdout);
		}
		for (int i = 0; i < fz_nrules; i++)
			if (fz_rules[i].count)
				printf("skip %s %ld\n", fz_rules[i].id, fz_rules[i].count);
		fflush(stdout);
		return 0;
	}
	if (argc >= 3 && strcmp(argv[1], "trace") == 0) {
		uint64_t seed = strtoull(argv[2], NULL, 10);
		int nops = argc > 3 ? atoi(argv[3]) : default_nops;
		if (nops < 1 || nops > FZ_MAX_OPS)
			return 2;
		if (argc > 4) {
			if (fz_parse_keep(argv[4]) < 0)
				return 2;
		} else {
			memset(fz_keep, 1, sizeof(fz_keep));
		}
		fz_tracing = 1;
		setvbuf(stdout, NULL, _IOLBF, 0);
		printf("seed %llu, %d operations\n", (unsigned long long)seed, nops);
		run(seed, nops);
		return 0;
	}
	fprintf(stderr, "usage: %s run FIRST COUNT [NOPS] | trace SEED [NOPS [KEEP]]\n",
	    argv[0]);
	return 2;
}

#endif
