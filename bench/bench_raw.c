/*
 * bench_raw: the machine's limit for the benchmark shapes where one exists.
 *
 * Each case here has the same name and unit as a case of bench_evbuffer,
 * bench_loop or bench_bufferevent and does the same work with plain libc
 * and system calls (memcpy, memmem, read/write, send/recv, epoll), as a
 * program that needed no buffer or loop library would. It links no
 * libevent. bench/run.sh shows its numbers in the table's "raw" column, so a
 * ratio can be read against how much room is left.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

/* ---- copies ------------------------------------------------------------ */

/* The least an add of 64 KiB followed by its drain can do: one memcpy into
 * memory that is already there. */
static double
case_add64k_drain_each(long n)
{
	size_t size = 64 * BENCH_KiB, off = 0;
	unsigned char *dst = malloc(size);
	uint64_t t0, t;
	long i;

	BENCH_CHECK(dst != NULL, "out of memory");
	t0 = bench_now_ns();
	for (i = 0; i < n; i++) {
		memcpy(dst, bench_stream_buf + off, size);
		if ((i & 1023) == 1023)
			bench_stream_verify(dst, size, off, "copy");
		off = (off + size) % BENCH_STREAM_PERIOD;
		bench_keep((uint64_t)(uintptr_t)dst);
	}
	t = bench_now_ns() - t0;
	free(dst);
	return bench_mb_per_s((uint64_t)n * size, t);
}

/* 1000 adds of 64 KiB then a drain: 1000 copies into 64 MiB of memory that
 * is already mapped. (An allocator that maps fresh memory each round pays
 * page faults on top of this; that is the allocator's cost, not the
 * machine's limit.) */
static double
case_add64k_x1000(long n)
{
	size_t size = 64 * BENCH_KiB, total = 1000 * size;
	unsigned char *dst = malloc(total);
	uint64_t t = 0, t0;
	long r, k;

	BENCH_CHECK(dst != NULL, "out of memory");
	memset(dst, 0, total);
	for (r = 0; r < n; r++) {
		size_t off = 0;

		t0 = bench_now_ns();
		for (k = 0; k < 1000; k++) {
			memcpy(dst + (size_t)k * size, bench_stream_buf + off, size);
			off = (off + size) % BENCH_STREAM_PERIOD;
		}
		bench_keep((uint64_t)(uintptr_t)dst);
		t += bench_now_ns() - t0;
		bench_stream_verify(dst, total, 0, "copies");
	}
	free(dst);
	return bench_mb_per_s((uint64_t)n * total, t);
}

/* memmem over one contiguous MiB with pat at its end. */
static double
search_end(long n, const char *pat)
{
	size_t patlen = strlen(pat), total = BENCH_MiB;
	unsigned char *hay = malloc(total);
	uint64_t t0, t;
	long i;

	BENCH_CHECK(hay != NULL, "out of memory");
	memcpy(hay, bench_stream_buf, total - patlen);
	memcpy(hay + total - patlen, pat, patlen);
	t0 = bench_now_ns();
	for (i = 0; i < n; i++) {
		const unsigned char *p;

		/* memmem is pure: without this the search would be hoisted. */
		bench_keep((uint64_t)(uintptr_t)hay);
		p = memmem(hay, total, pat, patlen);

		if (p != hay + total - patlen)
			BENCH_CHECK(0, "memmem found the pattern at the wrong place");
	}
	t = bench_now_ns() - t0;
	free(hay);
	return bench_mb_per_s((uint64_t)n * total, t);
}

static double
case_search_end(long n)
{
	return search_end(n, "q7-end-of-haystack");
}

static double
case_search_alnum_end(long n)
{
	return search_end(n, "q7endofhaystack9z");
}

/* Making 1024 separate 1 KiB pieces contiguous: copy each into 1 MiB of
 * memory that is already mapped, and free it. */
static double
case_pullup(long n)
{
	size_t total = BENCH_MiB, piece = BENCH_KiB, npieces = total / piece, k;
	unsigned char **pieces = calloc(npieces, sizeof(*pieces));
	unsigned char *dst = malloc(total);
	uint64_t t = 0, t0;
	long i;

	BENCH_CHECK(pieces != NULL && dst != NULL, "out of memory");
	memset(dst, 0, total);
	for (i = 0; i < n; i++) {
		for (k = 0; k < npieces; k++) {
			pieces[k] = malloc(piece);
			BENCH_CHECK(pieces[k] != NULL, "out of memory");
			memcpy(pieces[k], bench_stream_buf + k * piece, piece);
		}
		t0 = bench_now_ns();
		for (k = 0; k < npieces; k++) {
			memcpy(dst + k * piece, pieces[k], piece);
			free(pieces[k]);
		}
		bench_keep((uint64_t)(uintptr_t)dst);
		t += bench_now_ns() - t0;
		bench_stream_verify(dst, total, 0, "pullup");
		memset(dst, 0, total);
	}
	free(dst);
	free(pieces);
	return bench_mb_per_s((uint64_t)n * total, t);
}

/* ---- pipe I/O ---------------------------------------------------------- */

/* write() of a step from memory, read() of it into memory, n MiB in all. */
static double
pipe_rw(long n, size_t step)
{
	uint64_t total = (uint64_t)n * BENCH_MiB, moved = 0, t = 0, t0;
	unsigned char *got = malloc(step);
	size_t woff = 0, roff = 0;
	int fds[2];

	BENCH_CHECK(got != NULL, "out of memory");
	BENCH_CHECK(pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0, "pipe2: %s", strerror(errno));
	(void)fcntl(fds[1], F_SETPIPE_SZ, (int)(256 * BENCH_KiB));
	BENCH_CHECK(fcntl(fds[1], F_GETPIPE_SZ) >= (int)step, "pipe too small for step %zu", step);
	while (moved < total) {
		ssize_t w, r;

		t0 = bench_now_ns();
		w = write(fds[1], bench_stream_buf + woff, step);
		r = read(fds[0], got, step);
		t += bench_now_ns() - t0;
		BENCH_CHECK(w > 0 && r == w, "write %zd, read %zd: %s", w, r, strerror(errno));
		bench_stream_verify(got, (size_t)r, roff, "pipe read");
		woff = (woff + (size_t)w) % BENCH_STREAM_PERIOD;
		roff = (roff + (size_t)r) % BENCH_STREAM_PERIOD;
		moved += (uint64_t)r;
	}
	close(fds[0]);
	close(fds[1]);
	free(got);
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

/* ---- epoll ------------------------------------------------------------- */

#define NUM_PAIRS 1000
#define NUM_ACTIVE 100
#define WRITES_PER_ROUND 1000

/* The socketpair ring of bench_loop with level-triggered epoll and nothing
 * else: epoll_wait, then recv and forward for each ready descriptor. */
static double
case_pairs(long n)
{
	static int fds[2 * NUM_PAIRS];
	struct epoll_event evs[NUM_PAIRS];
	struct rlimit rl;
	uint64_t t = 0, t0, callbacks = 0;
	int ep = epoll_create1(EPOLL_CLOEXEC);
	long r, i;

	BENCH_CHECK(ep >= 0, "epoll_create1: %s", strerror(errno));
	BENCH_CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0, "getrlimit");
	if (rl.rlim_cur < 2 * NUM_PAIRS + 64) {
		rl.rlim_cur = 2 * NUM_PAIRS + 64;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;
		BENCH_CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0, "setrlimit: %s", strerror(errno));
	}
	for (i = 0; i < NUM_PAIRS; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint64_t)i };

		BENCH_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
		    &fds[2 * i]) == 0, "socketpair: %s", strerror(errno));
		BENCH_CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, fds[2 * i], &ev) == 0, "epoll_ctl: %s",
		    strerror(errno));
	}
	for (r = 0; r < n; r++) {
		long sends = 0, received = 0, writes_left = WRITES_PER_ROUND;

		for (i = 0; i < NUM_ACTIVE; i++) {
			BENCH_CHECK(send(fds[2 * (i * (NUM_PAIRS / NUM_ACTIVE)) + 1], "e", 1, 0) == 1,
			    "send: %s", strerror(errno));
			sends++;
		}
		t0 = bench_now_ns();
		while (received < sends) {
			int k, nev = epoll_wait(ep, evs, NUM_PAIRS, 0);

			BENCH_CHECK(nev >= 0, "epoll_wait: %s", strerror(errno));
			for (k = 0; k < nev; k++) {
				long idx = (long)evs[k].data.u64;
				unsigned char ch;

				if (recv(fds[2 * idx], &ch, 1, 0) != 1 || ch != 'e')
					BENCH_CHECK(0, "recv on pair %ld: %s", idx, strerror(errno));
				received++;
				if (writes_left > 0) {
					long next = idx + 1 == NUM_PAIRS ? 0 : idx + 1;

					if (send(fds[2 * next + 1], "e", 1, 0) != 1)
						BENCH_CHECK(0, "send: %s", strerror(errno));
					writes_left--;
					sends++;
				}
			}
		}
		t += bench_now_ns() - t0;
		BENCH_CHECK(received == NUM_ACTIVE + WRITES_PER_ROUND, "received %ld", received);
		callbacks += (uint64_t)received;
	}
	for (i = 0; i < 2 * NUM_PAIRS; i++)
		close(fds[i]);
	close(ep);
	return bench_ns_per_op(t, callbacks);
}

/* One epoll_wait with a zero timeout on an epoll set holding one quiet fd. */
static double
case_idle(long n)
{
	struct epoll_event ev = { .events = EPOLLIN }, out[32];
	int ep = epoll_create1(EPOLL_CLOEXEC), fds[2];
	uint64_t t0, t;
	long i;

	BENCH_CHECK(ep >= 0, "epoll_create1: %s", strerror(errno));
	BENCH_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0,
	    "socketpair: %s", strerror(errno));
	BENCH_CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, fds[0], &ev) == 0, "epoll_ctl: %s",
	    strerror(errno));
	t0 = bench_now_ns();
	for (i = 0; i < n; i++)
		if (epoll_wait(ep, out, 32, 0) != 0)
			BENCH_CHECK(0, "epoll_wait reported an event on a quiet fd");
	t = bench_now_ns() - t0;
	close(fds[0]);
	close(fds[1]);
	close(ep);
	return bench_ns_per_op(t, (uint64_t)n);
}

/* ---- socket streams (bench_bufferevent's bulk cases) ------------------- */

/* Moves total bytes from wfd to rfd (both nonblocking) in one thread: send
 * up to 64 KiB of the stream, recv whatever has arrived and check it, until
 * everything is through. The same bytes, checks and thread count as a
 * bufferevent transfer in one event loop, without the loop: no readiness
 * waits, no buffers between the socket and the data, and reads of up to
 * 64 KiB where libevent's socket bufferevent reads at most 4 KiB per
 * readiness event. So the gap to this limit is mostly calls and loop
 * passes, not copies. Returns the nanoseconds it took. */
static uint64_t
sock_stream(int wfd, int rfd, uint64_t total)
{
	size_t bufsize = 64 * BENCH_KiB;
	unsigned char *got = malloc(bufsize);
	uint64_t sent = 0, recvd = 0, t0;

	BENCH_CHECK(got != NULL, "out of memory");
	t0 = bench_now_ns();
	while (recvd < total) {
		ssize_t w = 0, r;

		if (sent < total) {
			size_t n = total - sent < bufsize ? (size_t)(total - sent) : bufsize;

			w = send(wfd, bench_stream_at(sent), n, 0);
			if (w > 0)
				sent += (uint64_t)w;
			else if (errno != EAGAIN)
				BENCH_CHECK(0, "send: %s", strerror(errno));
		}
		r = recv(rfd, got, bufsize, 0);
		if (r > 0) {
			bench_stream_verify(got, (size_t)r, recvd, "socket read");
			recvd += (uint64_t)r;
		} else if (r == 0 || errno != EAGAIN) {
			BENCH_CHECK(0, "recv: %s", r == 0 ? "early end of stream" : strerror(errno));
		}
	}
	t0 = bench_now_ns() - t0;
	BENCH_CHECK(sent == total && recvd == total, "sent %llu, received %llu of %llu",
	    (unsigned long long)sent, (unsigned long long)recvd, (unsigned long long)total);
	free(got);
	return t0;
}

static uint64_t
sock_stream_socketpair(uint64_t total)
{
	int fds[2];
	uint64_t t;

	BENCH_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0,
	    "socketpair: %s", strerror(errno));
	t = sock_stream(fds[0], fds[1], total);
	close(fds[0]);
	close(fds[1]);
	return t;
}

static double
case_sock_socketpair(long mib)
{
	uint64_t total = (uint64_t)mib * BENCH_MiB;

	return bench_mb_per_s(total, sock_stream_socketpair(total));
}

/* A loopback TCP connection made with plain calls (the connect and accept
 * are not timed). */
static double
case_sock_tcp(long mib)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t slen = sizeof(sin);
	uint64_t total = (uint64_t)mib * BENCH_MiB, t;
	int lfd, cfd, afd;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	BENCH_CHECK(lfd >= 0, "socket: %s", strerror(errno));
	BENCH_CHECK(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == 0 && listen(lfd, 1) == 0 &&
	    getsockname(lfd, (struct sockaddr *)&sin, &slen) == 0, "listen: %s", strerror(errno));
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	BENCH_CHECK(cfd >= 0 && connect(cfd, (struct sockaddr *)&sin, sizeof(sin)) == 0,
	    "connect: %s", strerror(errno));
	afd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	BENCH_CHECK(afd >= 0, "accept4: %s", strerror(errno));
	BENCH_CHECK(fcntl(cfd, F_SETFL, fcntl(cfd, F_GETFL) | O_NONBLOCK) == 0, "fcntl: %s",
	    strerror(errno));
	t = sock_stream(cfd, afd, total);
	close(cfd);
	close(afd);
	close(lfd);
	return bench_mb_per_s(total, t);
}

struct sock_thread {
	pthread_barrier_t *start;
	uint64_t total, t0, t1;
};

static void *
sock_thread_main(void *arg)
{
	struct sock_thread *st = arg;

	pthread_barrier_wait(st->start);
	st->t0 = bench_now_ns();
	(void)sock_stream_socketpair(st->total);
	st->t1 = bench_now_ns();
	return NULL;
}

/* Two socketpair streams at once, one per thread: aggregate rate from the
 * earlier start until the later end (each thread takes its own times: on
 * two cores a third, timing thread may not run until both are done). */
static double
case_sock_2threads(long mib)
{
	pthread_barrier_t start;
	pthread_t th[2];
	struct sock_thread st[2];
	uint64_t t0, t1;
	int i;

	BENCH_CHECK(pthread_barrier_init(&start, NULL, 2) == 0, "pthread_barrier_init failed");
	for (i = 0; i < 2; i++) {
		st[i] = (struct sock_thread){ .start = &start, .total = (uint64_t)mib * BENCH_MiB };
		BENCH_CHECK(pthread_create(&th[i], NULL, sock_thread_main, &st[i]) == 0,
		    "pthread_create failed");
	}
	for (i = 0; i < 2; i++)
		BENCH_CHECK(pthread_join(th[i], NULL) == 0, "pthread_join failed");
	pthread_barrier_destroy(&start);
	t0 = st[0].t0 < st[1].t0 ? st[0].t0 : st[1].t0;
	t1 = st[0].t1 > st[1].t1 ? st[0].t1 : st[1].t1;
	return bench_mb_per_s(st[0].total + st[1].total, t1 - t0);
}

/* Same names, units and default sizes as the library benchmarks. */
static const struct bench_case cases[] = {
	{ "evbuffer_add_64KiB_drain_each", "MB/s", case_add64k_drain_each, 65536 },
	{ "evbuffer_add_64KiB_x1000_then_drain", "MB/s", case_add64k_x1000, 4 },
	{ "evbuffer_search_end_of_1MiB", "MB/s", case_search_end, 200 },
	{ "evbuffer_search_alnum_end_of_1MiB", "MB/s", case_search_alnum_end, 200 },
	{ "evbuffer_pullup_1MiB_1024_chains", "MB/s", case_pullup, 100 },
	{ "evbuffer_pipe_rw_4KiB_steps", "MB/s", case_pipe_4k, 256 },
	{ "evbuffer_pipe_rw_16KiB_steps", "MB/s", case_pipe_16k, 256 },
	{ "evbuffer_pipe_rw_64KiB_steps", "MB/s", case_pipe_64k, 256 },
	{ "loop_1000_socketpairs_100_active", "ns/op", case_pairs, 50 },
	{ "loop_nonblock_idle_pass", "ns/op", case_idle, 200000 },
	{ "bev_bulk_socketpair_1GiB", "MB/s", case_sock_socketpair, 1024 },
	{ "bev_bulk_tcp_1GiB", "MB/s", case_sock_tcp, 1024 },
	/* The bulk cases with 256 KiB reads and writes move the same bytes:
	 * their limit is the same 64 KiB send/recv loop. */
	{ "bev_bulk_socketpair_1GiB_256KiB_io", "MB/s", case_sock_socketpair, 1024 },
	{ "bev_bulk_tcp_1GiB_256KiB_io", "MB/s", case_sock_tcp, 1024 },
	{ "bev_bulk_2threads", "MB/s", case_sock_2threads, 1024 },
};

int
main(int argc, char **argv)
{
	return bench_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
