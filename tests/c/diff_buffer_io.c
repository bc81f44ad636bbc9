/*
 * diff_buffer_io.c -- differential test of evbuffer_read, evbuffer_write and
 * evbuffer_write_atmost on pipes, socketpairs and a regular file.
 *
 * Covers full and partial reads (howmuch -1, 0, small, larger than what is
 * available, larger than libevent's 4096-byte cap per read), reads into a
 * buffer whose last chain has room, EOF (0), EAGAIN on an empty nonblocking
 * descriptor, EBADF on a closed or wrong-direction descriptor, writes of
 * buffers made of many chains (including more chains than one writev takes),
 * write_atmost with limits inside, at and past chain boundaries, zero and
 * negative limits, writing an empty buffer, EAGAIN on a full nonblocking
 * pipe, and EPIPE towards a closed peer (SIGPIPE is ignored). Every failure
 * prints errno's symbolic name; whatever was written is read back and shown.
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
#include <sys/types.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "trace.h"

static unsigned char text[40000];

static void fill_text(void)
{
	size_t i;
	for (i = 0; i < sizeof(text); i++)
		text[i] = (unsigned char)(' ' + (i * 31 + i / 95) % 95);
}

/* A descriptor number that is not open. Numbers just closed are not used
 * for this: the library under test may open descriptors of its own at any
 * time and get them. */
static int bad_fd(void)
{
	int fd = 1000;
	while (fcntl(fd, F_GETFD) >= 0)
		fd++;
	return fd;
}

static void nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* Writes all of p to fd (blocking). */
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

/* Reads exactly n bytes from fd (blocking) and prints them. */
static void drain_fd(const char *label, int fd, size_t n)
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

static void show_read(const char *what, int r)
{
	if (r < 0)
		printf("%s -> %d %s\n", what, r, tr_errname(errno));
	else
		printf("%s -> %d\n", what, r);
}

static void reads(int rfd, int wfd, const char *kind)
{
	struct evbuffer *b = evbuffer_new();
	int r;

	printf("== reads from %s\n", kind);
	nonblock(rfd);
	errno = 0;
	r = evbuffer_read(b, rfd, -1);
	show_read("read empty nonblocking", r);
	tr_layout("buf", b);
	/* The failed read may leave the space it prepared behind. */
	evbuffer_add(b, "x", 1);
	tr_layout("buf after add", b);
	evbuffer_drain(b, 1);

	put(wfd, "hello", 5);
	r = evbuffer_read(b, rfd, -1);
	show_read("read 5 available", r);
	tr_full("buf", b);
	put(wfd, text, 10000);
	r = evbuffer_read(b, rfd, 100);
	show_read("read howmuch 100", r);
	tr_layout("buf", b);
	r = evbuffer_read(b, rfd, 0);
	show_read("read howmuch 0", r);
	tr_layout("buf", b);
	r = evbuffer_read(b, rfd, 9000);
	show_read("read howmuch 9000", r);
	tr_layout("buf", b);
	r = evbuffer_read(b, rfd, -1);
	show_read("read -1", r);
	tr_layout("buf", b);
	r = evbuffer_read(b, rfd, -1);
	show_read("read -1", r);
	tr_layout("buf", b);
	r = evbuffer_read(b, rfd, -1);
	show_read("read -1 drained", r);
	printf("content hash %016llx\n", (unsigned long long)tr_buf_hash(b));

	/* Less available than asked for. */
	put(wfd, text + 20000, 300);
	r = evbuffer_read(b, rfd, 5000);
	show_read("read 5000 of 300", r);
	tr_layout("buf", b);
	evbuffer_add(b, text, 3000);
	tr_layout("buf after add 3000", b);
	evbuffer_drain(b, evbuffer_get_length(b) - 10);
	put(wfd, text + 30000, 2000);
	r = evbuffer_read(b, rfd, -1);
	show_read("read 2000 after drain", r);
	tr_layout("buf", b);
	tr_buf("tail", b);

	/* EOF after the writer closes, once the data is gone. */
	put(wfd, "last", 4);
	close(wfd);
	r = evbuffer_read(b, rfd, -1);
	show_read("read before eof", r);
	r = evbuffer_read(b, rfd, -1);
	show_read("read at eof", r);
	r = evbuffer_read(b, rfd, 10);
	show_read("read at eof again", r);
	tr_buf("end", b);
	close(rfd);
	errno = 0;
	r = evbuffer_read(b, bad_fd(), -1);
	show_read("read closed fd", r);
	r = evbuffer_read(b, -1, 10);
	show_read("read fd -1", r);
	tr_layout("buf", b);
	evbuffer_free(b);
}

static void writes(int rfd, int wfd, const char *kind)
{
	struct evbuffer *b = evbuffer_new();
	static const size_t pieces[] = { 7, 1, 300, 64, 2 };
	int r;

	printf("== writes to %s\n", kind);
	errno = 0;
	r = evbuffer_write(b, wfd);
	printf("write empty -> %d\n", r);
	tr_add_pieces(b, text, 2000, pieces, 5, 'a');
	tr_layout("buf", b);
	r = evbuffer_write_atmost(b, wfd, 0);
	printf("write_atmost 0 -> %d\n", r);
	r = evbuffer_write_atmost(b, wfd, 3);
	printf("write_atmost 3 -> %d\n", r);
	drain_fd("  got", rfd, 3);
	tr_layout("buf", b);
	r = evbuffer_write_atmost(b, wfd, 4);
	printf("write_atmost 4 -> %d\n", r);
	drain_fd("  got", rfd, 4);
	r = evbuffer_write_atmost(b, wfd, 302);
	printf("write_atmost 302 -> %d\n", r);
	drain_fd("  got", rfd, 302);
	tr_layout("buf", b);
	r = evbuffer_write_atmost(b, wfd, 500);
	printf("write_atmost 500 -> %d\n", r);
	drain_fd("  got", rfd, (size_t)(r > 0 ? r : 0));
	tr_layout("buf", b);
	r = evbuffer_write_atmost(b, wfd, 100000);
	printf("write_atmost 100000 -> %d\n", r);
	drain_fd("  got", rfd, (size_t)(r > 0 ? r : 0));
	tr_layout("buf", b);
	r = evbuffer_write_atmost(b, wfd, -1);
	printf("write_atmost -1 on empty -> %d\n", r);

	/* More chains than one writev takes. */
	{
		static const size_t one[] = { 10 };
		tr_add_pieces(b, text, 1500, one, 1, 'a');
		tr_layout("150 chains", b);
		r = evbuffer_write(b, wfd);
		printf("write -> %d\n", r);
		drain_fd("  got", rfd, (size_t)(r > 0 ? r : 0));
		tr_layout("buf", b);
		r = evbuffer_write(b, wfd);
		printf("write -> %d\n", r);
		drain_fd("  got", rfd, (size_t)(r > 0 ? r : 0));
		tr_layout("buf", b);
	}

	/* A big single write. */
	evbuffer_add(b, text, 30000);
	evbuffer_prepend(b, "HEAD", 4);
	r = evbuffer_write(b, wfd);
	printf("write 30004 -> %d\n", r);
	drain_fd("  got", rfd, (size_t)(r > 0 ? r : 0));
	tr_layout("buf", b);

	/* Writing to the wrong end or a closed descriptor. */
	evbuffer_add(b, "abc", 3);
	errno = 0;
	r = evbuffer_write(b, -1);
	printf("write fd -1 -> %d %s\n", r, tr_errname(errno));
	tr_layout("buf", b);

	/* The peer goes away. */
	close(rfd);
	errno = 0;
	r = evbuffer_write(b, wfd);
	printf("write to closed peer -> %d %s\n", r, r < 0 ? tr_errname(errno) : "");
	tr_full("buf", b);
	errno = 0;
	r = evbuffer_write_atmost(b, wfd, 1);
	printf("write_atmost 1 to closed peer -> %d %s\n", r,
	    r < 0 ? tr_errname(errno) : "");
	close(wfd);
	errno = 0;
	r = evbuffer_write(b, bad_fd());
	printf("write closed fd -> %d %s\n", r, r < 0 ? tr_errname(errno) : "");
	tr_full("buf", b);
	evbuffer_free(b);
}

/* A nonblocking pipe shrunk to one page fills up. */
static void full_pipe(void)
{
	int fds[2], r, sz;
	struct evbuffer *b = evbuffer_new();

	printf("== full pipe\n");
	if (pipe(fds) < 0)
		return;
	sz = fcntl(fds[1], F_SETPIPE_SZ, 4096);
	printf("pipe size %s\n", sz == 4096 ? "4096" : "not settable");
	nonblock(fds[1]);
	evbuffer_add(b, text, 3000);
	evbuffer_add_reference(b, text + 3000, 3000, NULL, NULL);
	r = evbuffer_write(b, fds[1]);
	printf("write 6000 -> %d\n", r);
	tr_layout("buf", b);
	errno = 0;
	r = evbuffer_write(b, fds[1]);
	printf("write again -> %d %s\n", r, r < 0 ? tr_errname(errno) : "");
	tr_layout("buf", b);
	drain_fd("  got", fds[0], 4096);
	r = evbuffer_write(b, fds[1]);
	printf("write after drain -> %d\n", r);
	drain_fd("  got", fds[0], (size_t)(r > 0 ? r : 0));
	tr_layout("buf", b);
	close(fds[0]);
	close(fds[1]);
	evbuffer_free(b);
}

/* Reading a regular file: FIONREAD gives what is left in it. */
static void regular_file(void)
{
	char path[64];
	int fd, r;
	struct evbuffer *b = evbuffer_new();

	printf("== regular file\n");
	snprintf(path, sizeof(path), "/tmp/ge_diff_io_%ld.dat", (long)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		printf("cannot create file\n");
		return;
	}
	unlink(path);
	put(fd, text, 10000);
	lseek(fd, 0, SEEK_SET);
	while ((r = evbuffer_read(b, fd, -1)) > 0) {
		printf("read -> %d\n", r);
		tr_layout("buf", b);
	}
	printf("read -> %d\n", r);
	printf("content hash %016llx want %016llx\n",
	    (unsigned long long)tr_buf_hash(b),
	    (unsigned long long)tr_fnv1a(text, 10000));
	/* write to the file and read it back with pread */
	lseek(fd, 0, SEEK_SET);
	if (ftruncate(fd, 0) < 0)
		printf("ftruncate failed\n");
	r = evbuffer_write_atmost(b, fd, 777);
	printf("write_atmost 777 to file -> %d\n", r);
	{
		unsigned char back[800];
		ssize_t n = pread(fd, back, sizeof(back), 0);
		printf("file holds %zd hash %016llx\n", n,
		    (unsigned long long)tr_fnv1a(back, n > 0 ? (size_t)n : 0));
	}
	close(fd);
	evbuffer_free(b);
}

int main(void)
{
	int fds[2];
	tr_init();
	fill_text();
	signal(SIGPIPE, SIG_IGN);

	if (pipe(fds) == 0)
		reads(fds[0], fds[1], "pipe");
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0)
		reads(fds[0], fds[1], "socketpair");
	if (pipe(fds) == 0)
		writes(fds[0], fds[1], "pipe");
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0)
		writes(fds[0], fds[1], "socketpair");
	/* A read end used for writing and a write end used for reading. */
	if (pipe(fds) == 0) {
		struct evbuffer *b = evbuffer_new();
		int r;
		printf("== wrong direction\n");
		evbuffer_add(b, "data", 4);
		errno = 0;
		r = evbuffer_write(b, fds[0]);
		printf("write to read end -> %d %s\n", r, tr_errname(errno));
		errno = 0;
		r = evbuffer_read(b, fds[1], -1);
		printf("read from write end -> %d %s\n", r, tr_errname(errno));
		tr_full("buf", b);
		close(fds[0]);
		close(fds[1]);
		evbuffer_free(b);
	}
	full_pipe();
	regular_file();
	return 0;
}
