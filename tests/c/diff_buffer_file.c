/*
 * diff_buffer_file.c -- differential test of file data in evbuffers.
 *
 * Covers evbuffer_add_file (whole file, offset and length, bad descriptor,
 * bad offset; the descriptor is closed once the data is gone),
 * evbuffer_file_segment_new (offsets, lengths, -1 for "to the end of the
 * file", the EVBUF_FS_* flags, invalid arguments), evbuffer_add_file_segment
 * (offsets and lengths within the segment, past its end, the same segment in
 * several places and buffers), evbuffer_file_segment_free and
 * evbuffer_file_segment_add_cleanup_cb (when the cleanup runs, with which
 * flags and argument), evbuffer_set_flags / evbuffer_clear_flags with
 * EVBUFFER_FLAG_DRAINS_TO_FD (file data then goes out through sendfile, one
 * segment per write call), and add_buffer_reference refusing file chains.
 * Data added with sendfile possible is only ever written out, never read in
 * place (libevent leaves that undefined); it is checked by reading the pipe
 * it was written to. Data of segments made with EVBUF_FS_DISABLE_SENDFILE is
 * read directly. The temporary files live under /tmp and are removed.
 *
 * A failing evbuffer_add_file_segment gives up the caller's reference to the
 * segment in libevent (the "failure" section shows the cleanup running
 * then); the test never frees a segment after such a failure.
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
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "trace.h"

#define FILE_LEN 20000

static unsigned char content[FILE_LEN];
static char path[64];
static int pipefd[2];

static int open_file(void)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		printf("cannot open %s\n", "file");
	return fd;
}

static struct stat file_st;

/* Whether fd still refers to the test file. A closed number may be taken
 * again by someone else (a library's own descriptors), so a descriptor that
 * now refers to anything else counts as closed too. */
static const char *fd_state(int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return "closed";
	if (st.st_ino != file_st.st_ino || st.st_dev != file_st.st_dev)
		return "closed";
	return "open";
}

/* Writes the whole buffer to the pipe, a call at a time, then reads it back
 * and compares it with want (n bytes). */
static void write_out(const char *label, struct evbuffer *b,
    const unsigned char *want, size_t n)
{
	unsigned char *got = malloc(n + 1);
	size_t total = 0;
	int r, calls = 0;
	printf("%s: write", label);
	while (evbuffer_get_length(b) > 0 && calls < 50) {
		r = evbuffer_write(b, pipefd[1]);
		printf(" %d", r);
		calls++;
		if (r <= 0)
			break;
		total += (size_t)r;
	}
	printf("\n");
	if (total > n)
		total = n;
	{
		size_t k = 0;
		while (k < total) {
			ssize_t x = read(pipefd[0], got + k, total - k);
			if (x <= 0)
				break;
			k += (size_t)x;
		}
		printf("%s: got %zu bytes, %s\n", label, k,
		    k == n && !memcmp(got, want, n) ? "as expected" : "DIFFERENT");
	}
	free(got);
}

static void seg_cleanup(struct evbuffer_file_segment const *seg, int flags,
    void *arg)
{
	(void)seg;
	printf("  segment cleanup %s flags=0x%x\n", (const char *)arg, flags);
}

static void add_file(void)
{
	struct evbuffer *b = evbuffer_new();
	int fd, r;

	printf("== evbuffer_add_file\n");
	fd = open_file();
	r = evbuffer_add_file(b, fd, 0, -1);
	printf("add_file whole -> %d len=%zu fd %s\n", r, evbuffer_get_length(b),
	    fd_state(fd));
	tr_layout("b", b);
	write_out("whole", b, content, FILE_LEN);
	printf("fd %s\n", fd_state(fd));

	fd = open_file();
	r = evbuffer_add_file(b, fd, 100, 500);
	printf("add_file 100+500 -> %d len=%zu\n", r, evbuffer_get_length(b));
	evbuffer_add(b, "|tail", 5);
	evbuffer_prepend(b, "head|", 5);
	tr_layout("b", b);
	{
		unsigned char want[510];
		memcpy(want, "head|", 5);
		memcpy(want + 5, content + 100, 500);
		memcpy(want + 505, "|tail", 5);
		write_out("slice", b, want, 510);
	}
	printf("fd %s\n", fd_state(fd));

	/* Offsets and lengths that make no segment: the descriptor stays
	 * the caller's. */
	fd = open_file();
	r = evbuffer_add_file(b, fd, -1, 10);
	printf("add_file offset -1 -> %d fd %s\n", r, fd_state(fd));
	r = evbuffer_add_file(b, fd, 0, -5);
	printf("add_file length -5 -> %d fd %s\n", r, fd_state(fd));
	close(fd);
	r = evbuffer_add_file(b, -1, 0, -1);
	printf("add_file fd -1 whole -> %d\n", r);
	printf("len=%zu\n", evbuffer_get_length(b));

	/* Partly drained before going out. */
	fd = open_file();
	evbuffer_add_file(b, fd, 0, 3000);
	evbuffer_drain(b, 1000);
	printf("drained 1000 of 3000 -> len=%zu\n", evbuffer_get_length(b));
	write_out("rest", b, content + 1000, 2000);
	printf("fd %s\n", fd_state(fd));

	/* Freed before going out. */
	fd = open_file();
	evbuffer_add_file(b, fd, 0, 10);
	evbuffer_free(b);
	printf("buffer freed: fd %s\n", fd_state(fd));
}

static void segments(void)
{
	struct evbuffer *b = evbuffer_new(), *c = evbuffer_new();
	struct evbuffer_file_segment *seg, *s2;
	int fd = open_file(), r;

	printf("== segments\n");
	seg = evbuffer_file_segment_new(fd, 0, -1, EVBUF_FS_DISABLE_SENDFILE);
	printf("segment whole -> %s\n", seg ? "ok" : "NULL");
	evbuffer_file_segment_add_cleanup_cb(seg, seg_cleanup, "whole");
	r = evbuffer_add_file_segment(b, seg, 0, -1);
	printf("add all -> %d len=%zu\n", r, evbuffer_get_length(b));
	r = evbuffer_add_file_segment(b, seg, 100, 50);
	printf("add 100+50 -> %d len=%zu\n", r, evbuffer_get_length(b));
	r = evbuffer_add_file_segment(b, seg, 19990, -1);
	printf("add 19990+rest -> %d len=%zu\n", r, evbuffer_get_length(b));
	r = evbuffer_add_file_segment(b, seg, FILE_LEN, -1);
	printf("add at end+rest -> %d len=%zu\n", r, evbuffer_get_length(b));
	r = evbuffer_add_file_segment(c, seg, 5, 7);
	printf("add 5+7 to c -> %d\n", r);
	tr_layout("b", b);
	tr_full("c", c);
	/* These chains hold ordinary memory: read them in place. */
	{
		struct evbuffer_ptr p;
		unsigned char out[64];
		ssize_t n;
		evbuffer_ptr_set(b, &p, 19995, EVBUFFER_PTR_SET);
		n = evbuffer_copyout_from(b, &p, out, 20);
		printf("copyout_from 19995 -> %zd ", n);
		tr_esc(out, n > 0 ? (size_t)n : 0);
		printf(" %s\n", n == 20 && !memcmp(out, content + 19995, 5) &&
		    !memcmp(out + 5, content + 100, 15) ? "ok" : "DIFFERENT");
		p = evbuffer_search(b, (const char *)content + 140, 20, NULL);
		printf("search -> %zd\n", (ssize_t)p.pos);
		n = evbuffer_remove(c, out, 3);
		printf("remove 3 from c -> %zd ", n);
		tr_esc(out, n > 0 ? (size_t)n : 0);
		putchar('\n');
	}
	{
		struct evbuffer *d = evbuffer_new();
		r = evbuffer_add_buffer_reference(d, c);
		printf("add_buffer_reference of file data -> %d len=%zu\n", r,
		    evbuffer_get_length(d));
		evbuffer_free(d);
	}
	printf("free segment\n");
	evbuffer_file_segment_free(seg);
	printf("drain b 19999\n");
	evbuffer_drain(b, 19999);
	printf("drain b 61\n");
	evbuffer_drain(b, 61);
	tr_full("b", b);
	printf("drain c\n");
	evbuffer_drain(c, (size_t)-1);
	printf("add x to b\n");
	evbuffer_add(b, "x", 1);
	evbuffer_drain(b, 1);

	/* A segment that starts inside the file. */
	seg = evbuffer_file_segment_new(fd, 1000, 5000,
	    EVBUF_FS_DISABLE_SENDFILE | EVBUF_FS_DISABLE_MMAP);
	printf("segment 1000+5000 read into memory -> %s\n", seg ? "ok" : "NULL");
	evbuffer_file_segment_add_cleanup_cb(seg, seg_cleanup, "mem");
	r = evbuffer_add_file_segment(b, seg, 20, 50);
	printf("add 20+50 -> %d\n", r);
	r = evbuffer_add_file_segment(b, seg, 4990, -1);
	printf("add 4990+rest -> %d\n", r);
	tr_full("b", b);
	{
		unsigned char out[60];
		evbuffer_copyout(b, out, 60);
		printf("copyout ok=%d\n", !memcmp(out, content + 1020, 50) &&
		    !memcmp(out + 50, content + 5990, 10));
	}
	printf("free b\n");
	evbuffer_free(b);
	b = evbuffer_new();
	printf("free segment\n");
	evbuffer_file_segment_free(seg);

	/* mmap'd segment with an offset that is not a page multiple. */
	seg = evbuffer_file_segment_new(fd, 4097, 3000, EVBUF_FS_DISABLE_SENDFILE);
	printf("segment 4097+3000 -> %s\n", seg ? "ok" : "NULL");
	r = evbuffer_add_file_segment(b, seg, 1, 2998);
	printf("add 1+2998 -> %d\n", r);
	evbuffer_file_segment_free(seg);
	{
		struct evbuffer *t = evbuffer_new();
		r = evbuffer_remove_buffer(b, t, 1000);
		printf("remove_buffer 1000 -> %d\n", r);
		tr_layout("t", t);
		tr_layout("b", b);
		printf("t ok=%d b ok=%d\n",
		    tr_buf_hash(t) == tr_fnv1a(content + 4098, 1000),
		    tr_buf_hash(b) == tr_fnv1a(content + 5098, 1998));
		evbuffer_free(t);
	}
	evbuffer_drain(b, (size_t)-1);

	/* Arguments that make no segment. */
	s2 = evbuffer_file_segment_new(fd, -1, 10, 0);
	printf("offset -1 -> %s\n", s2 ? "ok" : "NULL");
	s2 = evbuffer_file_segment_new(fd, 0, -7, 0);
	printf("length -7 -> %s\n", s2 ? "ok" : "NULL");
	s2 = evbuffer_file_segment_new(-1, 0, -1, 0);
	printf("fd -1 length -1 -> %s\n", s2 ? "ok" : "NULL");
	s2 = evbuffer_file_segment_new(-1, 0, 10,
	    EVBUF_FS_DISABLE_SENDFILE | EVBUF_FS_DISABLE_MMAP);
	printf("fd -1 read into memory -> %s\n", s2 ? "ok" : "NULL");
	/* "-1" means the file's size, even with an offset: past the end. */
	s2 = evbuffer_file_segment_new(fd, 100, -1,
	    EVBUF_FS_DISABLE_SENDFILE | EVBUF_FS_DISABLE_MMAP);
	printf("offset 100 length -1 read into memory -> %s\n", s2 ? "ok" : "NULL");
	s2 = evbuffer_file_segment_new(fd, 0, FILE_LEN + 1,
	    EVBUF_FS_DISABLE_SENDFILE | EVBUF_FS_DISABLE_MMAP);
	printf("length past end read into memory -> %s\n", s2 ? "ok" : "NULL");
	s2 = evbuffer_file_segment_new(fd, 0, FILE_LEN,
	    EVBUF_FS_DISABLE_SENDFILE | EVBUF_FS_DISABLE_MMAP);
	printf("exact length read into memory -> %s\n", s2 ? "ok" : "NULL");
	printf("file offset unchanged: %ld\n", (long)lseek(fd, 0, SEEK_CUR));
	evbuffer_file_segment_free(s2);

	/* CLOSE_ON_FREE: the descriptor goes with the last reference. */
	{
		int fd2 = open_file();
		seg = evbuffer_file_segment_new(fd2, 0, 100,
		    EVBUF_FS_CLOSE_ON_FREE | EVBUF_FS_DISABLE_LOCKING);
		evbuffer_file_segment_add_cleanup_cb(seg, seg_cleanup, "close");
		evbuffer_add_file_segment(b, seg, 0, 100);
		evbuffer_add_file_segment(c, seg, 50, 10);
		printf("free segment\n");
		evbuffer_file_segment_free(seg);
		printf("fd %s\n", fd_state(fd2));
		write_out("close b", b, content, 100);
		printf("fd %s\n", fd_state(fd2));
		printf("free c\n");
		evbuffer_free(c);
		printf("fd %s\n", fd_state(fd2));
		c = evbuffer_new();
	}

	/* A segment that was never added. */
	seg = evbuffer_file_segment_new(fd, 0, 10, EVBUF_FS_DISABLE_SENDFILE);
	evbuffer_file_segment_add_cleanup_cb(seg, seg_cleanup, "unused");
	printf("free unused segment\n");
	evbuffer_file_segment_free(seg);
	/* The cleanup callback can be replaced. */
	seg = evbuffer_file_segment_new(fd, 0, 10, EVBUF_FS_DISABLE_SENDFILE);
	evbuffer_file_segment_add_cleanup_cb(seg, seg_cleanup, "first");
	evbuffer_file_segment_add_cleanup_cb(seg, seg_cleanup, "second");
	printf("free replaced\n");
	evbuffer_file_segment_free(seg);

	close(fd);
	evbuffer_free(b);
	evbuffer_free(c);
}

static void failures(void)
{
	struct evbuffer *b = evbuffer_new(), *c = evbuffer_new();
	struct evbuffer_file_segment *seg;
	int fd = open_file(), r;

	printf("== failure gives up the reference\n");
	seg = evbuffer_file_segment_new(fd, 0, 1000, EVBUF_FS_DISABLE_SENDFILE);
	evbuffer_file_segment_add_cleanup_cb(seg, seg_cleanup, "fail-1");
	printf("add 900+200\n");
	r = evbuffer_add_file_segment(b, seg, 900, 200);
	printf("add 900+200 -> %d\n", r);

	seg = evbuffer_file_segment_new(fd, 0, 1000, EVBUF_FS_DISABLE_SENDFILE);
	evbuffer_file_segment_add_cleanup_cb(seg, seg_cleanup, "fail-2");
	r = evbuffer_add_file_segment(b, seg, 0, 10);
	printf("add 0+10 -> %d\n", r);
	evbuffer_freeze(c, 0);
	r = evbuffer_add_file_segment(c, seg, 0, 10);
	printf("add to frozen -> %d\n", r);
	printf("drain b\n");
	evbuffer_drain(b, (size_t)-1);
	printf("drained\n");
	evbuffer_free(b);
	evbuffer_free(c);
	close(fd);
}

static void drains_to_fd(void)
{
	struct evbuffer *b = evbuffer_new();
	struct evbuffer_file_segment *seg;
	int fd = open_file(), r;
	unsigned char want[4000];

	printf("== EVBUFFER_FLAG_DRAINS_TO_FD\n");
	printf("set_flags -> %d\n", evbuffer_set_flags(b, EVBUFFER_FLAG_DRAINS_TO_FD));
	seg = evbuffer_file_segment_new(fd, 0, -1, 0);
	evbuffer_file_segment_add_cleanup_cb(seg, seg_cleanup, "sendfile");
	evbuffer_add(b, "hdr:", 4);
	r = evbuffer_add_file_segment(b, seg, 10, 1000);
	printf("add 10+1000 -> %d\n", r);
	evbuffer_add(b, ":mid:", 5);
	r = evbuffer_add_file_segment(b, seg, 5000, 2000);
	printf("add 5000+2000 -> %d\n", r);
	evbuffer_add(b, ":end", 4);
	tr_layout("b", b);
	memcpy(want, "hdr:", 4);
	memcpy(want + 4, content + 10, 1000);
	memcpy(want + 1004, ":mid:", 5);
	memcpy(want + 1009, content + 5000, 2000);
	memcpy(want + 3009, ":end", 4);
	/* The header goes by writev, each file chain by its own sendfile. */
	write_out("sendfile", b, want, 3013);

	/* Partly drained file chain. */
	evbuffer_add_file_segment(b, seg, 0, 3000);
	evbuffer_drain(b, 1234);
	write_out("drained", b, content + 1234, 1766);

	/* add_buffer_reference refuses file chains. */
	{
		struct evbuffer *d = evbuffer_new();
		evbuffer_add_file_segment(b, seg, 0, 10);
		r = evbuffer_add_buffer_reference(d, b);
		printf("add_buffer_reference -> %d len=%zu\n", r,
		    evbuffer_get_length(d));
		evbuffer_free(d);
		evbuffer_drain(b, (size_t)-1);
	}

	/* Cleared again: the file data is mapped and written with the rest. */
	printf("clear_flags -> %d\n", evbuffer_clear_flags(b, EVBUFFER_FLAG_DRAINS_TO_FD));
	evbuffer_add(b, "hdr:", 4);
	r = evbuffer_add_file_segment(b, seg, 10, 1000);
	printf("add 10+1000 -> %d\n", r);
	evbuffer_add(b, ":end", 4);
	memcpy(want + 1004, ":end", 4);
	write_out("mapped", b, want, 1008);
	printf("set_flags other bits -> %d\n", evbuffer_set_flags(b, 0x10));
	printf("clear_flags other bits -> %d\n", evbuffer_clear_flags(b, 0x10));

	/* evbuffer_add_file on a draining buffer. */
	evbuffer_set_flags(b, EVBUFFER_FLAG_DRAINS_TO_FD);
	{
		int fd2 = open_file();
		r = evbuffer_add_file(b, fd2, 300, 2000);
		printf("add_file 300+2000 -> %d\n", r);
		write_out("add_file", b, content + 300, 2000);
		printf("fd %s\n", fd_state(fd2));
	}
	printf("free segment\n");
	evbuffer_file_segment_free(seg);
	evbuffer_free(b);
	close(fd);
}

int main(void)
{
	int fd;
	size_t i;
	tr_init();
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < FILE_LEN; i++)
		content[i] = (unsigned char)((i * 131 + i / 256) & 0xff);
	snprintf(path, sizeof(path), "/tmp/ge_diff_file_%ld.dat", (long)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, content, FILE_LEN) != FILE_LEN) {
		printf("cannot create the test file\n");
		return 1;
	}
	fstat(fd, &file_st);
	close(fd);
	if (pipe(pipefd) < 0)
		return 1;
	add_file();
	segments();
	failures();
	drains_to_fd();
	unlink(path);
	return 0;
}
