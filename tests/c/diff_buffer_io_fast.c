/*
 * diff_buffer_io_fast.c -- differential test of the chain choices behind
 * evbuffer_read and evbuffer_write_atmost, the cases diff_buffer_io.c does
 * not reach.
 *
 * Reads: into free space spread over two, three and four chains; the
 * replacement of the empty chains when four are not enough (after a data
 * chain, and when the buffer holds nothing but empty chains); the space a
 * read prepares and leaves behind on EAGAIN, EOF and EBADF, and what later
 * reads and adds do with it; howmuch 1, 0 and negative values other than
 * -1; FIONREAD above and below the 4096-byte cap; a buffer whose last chain
 * is a reference or a multicast (add_buffer_reference) chain, or has one
 * before a plain last chain; buffers with callbacks and with a frozen end.
 *
 * Writes: more than 128 chains with limits below, at and past the 128-chain
 * boundary; reference chains among plain ones; a sendfile chain after
 * memory chains (the writev stops before it); callbacks; a frozen start;
 * EAGAIN and EBADF. The write cases run three times: with SIGPIPE as the
 * process got it, with a counting handler and with SIG_IGN; a peer that
 * closed its end (EPIPE) is only written to in the last two, where
 * libevent's outcome does not kill the process, and the handler's count is
 * printed.
 *
 * Free space is shown through evbuffer_reserve_space with size 1 and two
 * vectors, which changes nothing where room exists: it reports the room of
 * the first chain that has some.
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
#include <sys/types.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "trace.h"

static unsigned char text[70000];
static volatile sig_atomic_t sigpipes;

static void fill_text(void)
{
	size_t i;
	for (i = 0; i < sizeof(text); i++)
		text[i] = (unsigned char)('!' + (i * 7 + i / 89) % 90);
}

static void count_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

/* A descriptor number that is not open (see diff_buffer_io.c). */
static int bad_fd(void)
{
	int fd = 1000;
	while (fcntl(fd, F_GETFD) >= 0)
		fd++;
	return fd;
}

/* A pipe with both ends nonblocking and room for 64 KiB. */
static int nb_pipe(int fds[2])
{
	if (pipe2(fds, O_NONBLOCK) < 0)
		return -1;
	(void)fcntl(fds[1], F_SETPIPE_SZ, 65536);
	return 0;
}

static void put(int fd, const void *p, size_t n)
{
	const unsigned char *s = p;
	while (n) {
		ssize_t w = write(fd, s, n);
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

/* Reads what is queued on a nonblocking fd (up to n bytes) and prints it. */
static void take(const char *label, int fd, size_t n)
{
	unsigned char *d = malloc(n + 1);
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, d + got, n - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	tr_data(label, d, got);
	free(d);
}

static void show(const char *what, int r)
{
	if (r < 0)
		printf("%s -> %d %s\n", what, r, tr_errname(errno));
	else
		printf("%s -> %d\n", what, r);
}

/* The room of the first chain with some (see the top comment). */
static void room(const char *label, struct evbuffer *b)
{
	struct evbuffer_iovec v[2];
	int n = evbuffer_reserve_space(b, 1, v, 2);
	printf("%s room n=%d first=%zu\n", label, n, n > 0 ? v[0].iov_len : 0);
}

static void state(const char *label, struct evbuffer *b)
{
	tr_layout(label, b);
	room(label, b);
}

/* Shapes a buffer's tail: asking for more room than the chains from the
 * last one with data have, over more vectors than they fill, appends one
 * empty chain for the difference. Prints the extents it was given. */
static void reserve(struct evbuffer *b, size_t size, int nvec)
{
	struct evbuffer_iovec v[8];
	int n = evbuffer_reserve_space(b, (ev_ssize_t)size, v, nvec);
	int i;
	printf("reserve %zu/%d -> %d [", size, nvec, n);
	for (i = 0; i < n; i++)
		printf("%s%zu", i ? "," : "", v[i].iov_len);
	printf("]\n");
}

static void cb_print(struct evbuffer *b, const struct evbuffer_cb_info *info,
    void *arg)
{
	(void)b;
	printf("  cb %s orig=%zu added=%zu deleted=%zu\n", (const char *)arg,
	    info->orig_size, info->n_added, info->n_deleted);
}

static void read_spans(void)
{
	int fds[2], r;
	struct evbuffer *b;

	printf("== read into one new chain\n");
	if (nb_pipe(fds) < 0)
		return;
	b = evbuffer_new();
	put(fds[1], text, 10000);
	r = evbuffer_read(b, fds[0], -1);
	show("read -1 of 10000", r);
	state("buf", b);
	r = evbuffer_read(b, fds[0], 100);
	show("read 100", r);
	state("buf", b);
	r = evbuffer_read(b, fds[0], 1);
	show("read 1", r);
	r = evbuffer_read(b, fds[0], -7);
	show("read -7", r);
	state("buf", b);
	r = evbuffer_read(b, fds[0], 6000);
	show("read 6000", r);
	state("buf", b);
	printf("content hash %016llx want %016llx\n",
	    (unsigned long long)tr_buf_hash(b),
	    (unsigned long long)tr_fnv1a(text, evbuffer_get_length(b)));
	evbuffer_free(b);

	printf("== read spanning four chains\n");
	b = evbuffer_new();
	evbuffer_add(b, text, 966);
	reserve(b, 986, 2);
	reserve(b, 2986, 3);
	state("before", b);
	put(fds[1], text + 20000, 3000);
	r = evbuffer_read(b, fds[0], -1);
	show("read 3000", r);
	state("after", b);
	evbuffer_add(b, "tail", 4);
	state("after add", b);
	printf("content hash %016llx\n", (unsigned long long)tr_buf_hash(b));
	evbuffer_free(b);

	printf("== read spanning three chains, some bytes left over\n");
	b = evbuffer_new();
	evbuffer_add(b, text, 966);
	reserve(b, 986, 2);
	reserve(b, 2986, 3);
	put(fds[1], text + 30000, 2500);
	r = evbuffer_read(b, fds[0], 1500);
	show("read 1500", r);
	state("after", b);
	r = evbuffer_read(b, fds[0], -1);
	show("read rest", r);
	state("after", b);
	evbuffer_free(b);

	printf("== four chains too small after a data chain\n");
	b = evbuffer_new();
	evbuffer_add(b, text, 966);
	reserve(b, 986, 2);
	reserve(b, 1962, 3);
	reserve(b, 2938, 4);
	state("before", b);
	put(fds[1], text + 40000, 5000);
	r = evbuffer_read(b, fds[0], -1);
	show("read -1 of 5000", r);
	state("after", b);
	r = evbuffer_read(b, fds[0], -1);
	show("read rest", r);
	state("after", b);
	printf("content hash %016llx\n", (unsigned long long)tr_buf_hash(b));
	evbuffer_free(b);

	printf("== four chains too small, the new one smaller\n");
	b = evbuffer_new();
	evbuffer_add(b, text, 876);
	reserve(b, 1076, 2);
	reserve(b, 2052, 3);
	reserve(b, 3028, 4);
	put(fds[1], text + 45000, 4096);
	r = evbuffer_read(b, fds[0], -1);
	show("read -1 of 4096", r);
	state("after", b);
	evbuffer_free(b);

	printf("== full data chain, then four empty ones\n");
	b = evbuffer_new();
	evbuffer_add(b, text, 976);
	reserve(b, 976, 2);
	reserve(b, 1952, 3);
	reserve(b, 2928, 4);
	reserve(b, 3904, 4);
	tr_layout("before", b);
	put(fds[1], text + 47000, 4000);
	r = evbuffer_read(b, fds[0], 3500);
	show("read 3500", r);
	state("after", b);
	r = evbuffer_read(b, fds[0], -1);
	show("read rest", r);
	state("after", b);
	evbuffer_free(b);

	printf("== read ending exactly at a chain's end\n");
	b = evbuffer_new();
	evbuffer_add(b, text, 966);
	reserve(b, 986, 2);
	reserve(b, 2986, 3);
	put(fds[1], text + 49000, 2986);
	r = evbuffer_read(b, fds[0], 2986);
	show("read 2986", r);
	state("after", b);
	evbuffer_add(b, "more", 4);
	state("after add", b);
	evbuffer_free(b);

	printf("== nothing but empty chains\n");
	b = evbuffer_new();
	reserve(b, 500, 2);
	reserve(b, 1952, 3);
	reserve(b, 2928, 4);
	reserve(b, 3904, 4);
	state("before", b);
	put(fds[1], text + 50000, 5000);
	r = evbuffer_read(b, fds[0], 3000);
	show("read 3000 into empties", r);
	state("after", b);
	evbuffer_drain(b, 3000);
	reserve(b, 500, 2);
	reserve(b, 1952, 3);
	reserve(b, 2928, 4);
	reserve(b, 3904, 4);
	state("refilled", b);
	put(fds[1], text + 56000, 3000);
	r = evbuffer_read(b, fds[0], -1);
	show("read -1 past empties", r);
	state("after", b);
	evbuffer_free(b);

	close(fds[0]);
	close(fds[1]);
}

static void read_leftovers(void)
{
	int fds[2], r;
	struct evbuffer *b;

	printf("== EAGAIN leaves prepared space\n");
	if (nb_pipe(fds) < 0)
		return;
	b = evbuffer_new();
	evbuffer_add(b, text, 966);
	errno = 0;
	r = evbuffer_read(b, fds[0], -1);
	show("read empty pipe", r);
	state("after", b);
	r = evbuffer_read(b, fds[0], 50);
	show("read 50 empty pipe", r);
	state("after", b);
	put(fds[1], text + 100, 100);
	r = evbuffer_read(b, fds[0], -1);
	show("read 100", r);
	state("after", b);
	evbuffer_add(b, text, 5000);
	state("after add 5000", b);
	evbuffer_drain(b, evbuffer_get_length(b));
	state("drained", b);
	r = evbuffer_read(b, fds[0], -1);
	show("read empty pipe into empty buffer", r);
	state("after", b);
	evbuffer_add(b, "z", 1);
	state("after add 1", b);
	evbuffer_free(b);

	/* Prepending nothing to an empty chain moves its room to the front,
	 * where a read cannot use it until the chain is realigned. */
	printf("== read into an empty chain with its room in front\n");
	b = evbuffer_new();
	r = evbuffer_read(b, fds[0], -1);
	show("read empty pipe", r);
	printf("prepend 0 -> %d\n", evbuffer_prepend(b, "", 0));
	tr_layout("before", b);
	put(fds[1], text + 200, 3000);
	r = evbuffer_read(b, fds[0], -1);
	show("read 3000", r);
	state("after", b);
	tr_buf("buf", b);
	evbuffer_free(b);

	printf("== EOF leaves prepared space\n");
	b = evbuffer_new();
	evbuffer_add(b, text, 1000);
	evbuffer_add(b, text, 3000);
	state("before", b);
	put(fds[1], "end", 3);
	close(fds[1]);
	r = evbuffer_read(b, fds[0], -1);
	show("read last 3", r);
	state("after", b);
	r = evbuffer_read(b, fds[0], -1);
	show("read at eof", r);
	state("after", b);
	r = evbuffer_read(b, fds[0], 0);
	show("read 0 at eof", r);
	evbuffer_add(b, text, 2000);
	state("after add 2000", b);
	close(fds[0]);

	printf("== EBADF leaves prepared space\n");
	errno = 0;
	r = evbuffer_read(b, bad_fd(), -1);
	show("read closed fd", r);
	state("after", b);
	evbuffer_free(b);
	b = evbuffer_new();
	errno = 0;
	r = evbuffer_read(b, bad_fd(), 10);
	show("read closed fd into new buffer", r);
	state("after", b);
	evbuffer_free(b);
}

static void read_kinds(void)
{
	int fds[2], r;
	struct evbuffer *b, *src;
	struct evbuffer_cb_entry *ent;

	if (nb_pipe(fds) < 0)
		return;
	printf("== last chain a reference\n");
	b = evbuffer_new();
	evbuffer_add(b, "abc", 3);
	evbuffer_add_reference(b, text, 500, NULL, NULL);
	put(fds[1], text + 1000, 700);
	r = evbuffer_read(b, fds[0], -1);
	show("read 700", r);
	state("after", b);
	printf("== reference before a plain last chain\n");
	put(fds[1], text + 2000, 5000);
	r = evbuffer_read(b, fds[0], -1);
	show("read -1", r);
	state("after", b);
	tr_buf("buf", b);
	evbuffer_drain(b, evbuffer_get_length(b));

	printf("== last chain a multicast reference\n");
	src = evbuffer_new();
	evbuffer_add(src, text + 3000, 800);
	evbuffer_add_buffer_reference(b, src);
	tr_layout("before", b);
	r = evbuffer_read(b, fds[0], 300);
	show("read 300", r);
	state("after", b);
	tr_buf("buf", b);
	evbuffer_free(src);
	evbuffer_free(b);

	printf("== callbacks and freezing\n");
	b = evbuffer_new();
	ent = evbuffer_add_cb(b, cb_print, "read");
	r = evbuffer_read(b, fds[0], 1000);
	show("read 1000 with cb", r);
	state("after", b);
	errno = 0;
	r = evbuffer_read(b, fds[0], -1);
	show("read rest with cb", r);
	r = evbuffer_read(b, fds[0], -1);
	show("read empty pipe with cb", r);
	state("after", b);
	evbuffer_remove_cb_entry(b, ent);
	evbuffer_freeze(b, 0);
	put(fds[1], "frozen", 6);
	errno = 0;
	r = evbuffer_read(b, fds[0], -1);
	printf("read frozen end -> %d %s\n", r, tr_errname(errno));
	evbuffer_unfreeze(b, 0);
	evbuffer_freeze(b, 1);
	r = evbuffer_read(b, fds[0], -1);
	show("read with frozen start", r);
	evbuffer_unfreeze(b, 1);
	tr_full("buf", b);
	evbuffer_free(b);
	close(fds[0]);
	close(fds[1]);
}

/* Prints a write's result and takes what it sent from the pipe. */
static void wrote(const char *what, int r, int rfd)
{
	show(what, r);
	if (r > 0)
		take("  got", rfd, (size_t)r);
}

static void write_cases(const char *mode, int epipe)
{
	int fds[2], r;
	struct evbuffer *b;
	struct evbuffer_cb_entry *ent;
	static const size_t ten[] = { 10 };
	static const size_t mixed[] = { 100, 7, 3000, 1 };

	printf("== writes, SIGPIPE %s\n", mode);
	if (nb_pipe(fds) < 0)
		return;
	b = evbuffer_new();
	/* A burst of small writes first. (goevent looks at the SIGPIPE
	 * disposition again every 64th write; after the burst it has seen
	 * the change main made, so the cases below run both ways there.) */
	{
		int i, sum = 0;
		for (i = 0; i < 130; i++) {
			evbuffer_add(b, text + i, 1);
			sum += evbuffer_write(b, fds[1]);
		}
		printf("130 one-byte writes -> %d\n", sum);
		take("  got", fds[0], 130);
	}
	tr_add_pieces(b, text, 4000, ten, 1, 'm');
	tr_layout("400 chains", b);
	wrote("write_atmost 1285", evbuffer_write_atmost(b, fds[1], 1285), fds[0]);
	tr_layout("buf", b);
	wrote("write_atmost 1275", evbuffer_write_atmost(b, fds[1], 1275), fds[0]);
	tr_layout("buf", b);
	wrote("write_atmost 1280", evbuffer_write_atmost(b, fds[1], 1280), fds[0]);
	tr_layout("buf", b);
	wrote("write_atmost 5", evbuffer_write_atmost(b, fds[1], 5), fds[0]);
	wrote("write -1", evbuffer_write(b, fds[1]), fds[0]);
	tr_layout("buf", b);
	errno = 0;
	r = evbuffer_write(b, fds[1]);
	printf("write empty -> %d %s\n", r, tr_errname(errno));

	tr_add_pieces(b, text + 5000, 9000, mixed, 4, 'a');
	tr_layout("mixed chains", b);
	wrote("write_atmost 3050", evbuffer_write_atmost(b, fds[1], 3050), fds[0]);
	tr_layout("buf", b);
	wrote("write_atmost 3108", evbuffer_write_atmost(b, fds[1], 3108), fds[0]);
	tr_layout("buf", b);
	wrote("write -1", evbuffer_write(b, fds[1]), fds[0]);
	tr_layout("buf", b);

	/* A full pipe, then the limit of what it takes. */
	evbuffer_add(b, text, 70000);
	wrote("write 70000 to 64 KiB pipe", evbuffer_write(b, fds[1]), fds[0]);
	tr_layout("buf", b);
	errno = 0;
	put(fds[1], text, 65536);
	r = evbuffer_write(b, fds[1]);
	printf("write full pipe -> %d %s\n", r, tr_errname(errno));
	take("  drained", fds[0], 65536);
	wrote("write rest", evbuffer_write(b, fds[1]), fds[0]);

	/* Callbacks, freezing. */
	ent = evbuffer_add_cb(b, cb_print, "write");
	evbuffer_add(b, text, 300);
	wrote("write_atmost 200 with cb", evbuffer_write_atmost(b, fds[1], 200), fds[0]);
	wrote("write with cb", evbuffer_write(b, fds[1]), fds[0]);
	errno = 0;
	r = evbuffer_write(b, fds[1]);
	printf("write empty with cb -> %d %s\n", r, tr_errname(errno));
	evbuffer_remove_cb_entry(b, ent);
	evbuffer_add(b, "frozen", 6);
	evbuffer_freeze(b, 1);
	errno = 0;
	r = evbuffer_write(b, fds[1]);
	printf("write frozen start -> %d %s\n", r, tr_errname(errno));
	evbuffer_unfreeze(b, 1);
	evbuffer_freeze(b, 0);
	wrote("write with frozen end", evbuffer_write(b, fds[1]), fds[0]);
	evbuffer_unfreeze(b, 0);

	/* Bad descriptors. */
	evbuffer_add(b, "bad", 3);
	errno = 0;
	r = evbuffer_write(b, bad_fd());
	printf("write closed fd -> %d %s\n", r, tr_errname(errno));
	errno = 0;
	r = evbuffer_write(b, fds[0]);
	printf("write read end -> %d %s\n", r, tr_errname(errno));
	tr_full("buf", b);

	if (epipe) {
		close(fds[0]);
		errno = 0;
		r = evbuffer_write(b, fds[1]);
		printf("write to closed reader -> %d %s sigpipes=%d\n", r,
		    tr_errname(errno), (int)sigpipes);
		ent = evbuffer_add_cb(b, cb_print, "epipe");
		errno = 0;
		r = evbuffer_write_atmost(b, fds[1], 2);
		printf("write_atmost 2 with cb to closed reader -> %d %s sigpipes=%d\n",
		    r, tr_errname(errno), (int)sigpipes);
		evbuffer_remove_cb_entry(b, ent);
		tr_full("buf", b);
	} else {
		close(fds[0]);
	}
	close(fds[1]);
	evbuffer_free(b);
}

/* A sendfile chain behind memory chains: the writev stops before it, the
 * next write sends the file. */
static void write_sendfile(void)
{
	char path[64];
	int fds[2], fd;
	struct evbuffer *b = evbuffer_new();

	printf("== sendfile chain after memory chains\n");
	snprintf(path, sizeof(path), "/tmp/ge_diff_iofast_%ld.dat", (long)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || nb_pipe(fds) < 0) {
		printf("setup failed\n");
		return;
	}
	unlink(path);
	put(fd, text + 7000, 3000);
	evbuffer_set_flags(b, EVBUFFER_FLAG_DRAINS_TO_FD);
	evbuffer_add(b, "head", 4);
	evbuffer_add_reference(b, "ref", 3, NULL, NULL);
	printf("add_file -> %d\n", evbuffer_add_file(b, fd, 100, 2000));
	evbuffer_add(b, "tail", 4);
	tr_layout("buf", b);
	wrote("write_atmost 5", evbuffer_write_atmost(b, fds[1], 5), fds[0]);
	wrote("write", evbuffer_write(b, fds[1]), fds[0]);
	tr_layout("buf", b);
	wrote("write", evbuffer_write(b, fds[1]), fds[0]);
	tr_layout("buf", b);
	wrote("write", evbuffer_write(b, fds[1]), fds[0]);
	tr_layout("buf", b);
	close(fds[0]);
	close(fds[1]);
	evbuffer_free(b);
}

int main(void)
{
	tr_init();
	fill_text();

	read_spans();
	read_leftovers();
	read_kinds();
	write_sendfile();
	/* SIGPIPE as inherited: no write meets a closed reader. */
	write_cases("untouched", 0);
	signal(SIGPIPE, count_sigpipe);
	write_cases("counted", 1);
	signal(SIGPIPE, SIG_IGN);
	write_cases("ignored", 1);
	return 0;
}
