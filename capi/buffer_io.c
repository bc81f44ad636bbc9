/*
 * buffer_io.c: evbuffer_read, evbuffer_write and the reads and writes of a
 * socket bufferevent (ge_bev_read, ge_bev_write, ge_bev_read_nocb), with
 * their system calls made from C.
 *
 * evbuffer_read and evbuffer_write_atmost run their system calls here, from
 * C, whenever the buffer allows it: a system call made by Go inside a cgo
 * callback costs far more than the same call from C (getppid: 116 ns from C,
 * about 230 ns from Go after the crossing, measured under gVisor), and a
 * read is two calls (FIONREAD and readv). The chain work mirrors libevent 2.1.12 (and
 * core/evbuffer's Read/WriteAtMost) step by step, so the layouts and results
 * are the same whichever side runs; tests/c/diff_buffer_io*.c check that.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event_struct.h>

#include "buffer_internal.h"

/* libevent's limits on Linux: chains one readv may fill (NUM_READ_IOVEC),
 * the default of bytes one read asks for unless FIONREAD says less
 * (EVBUFFER_MAX_READ; a buffer's own cap is its max_read, see
 * evbuffer_set_max_read), and chains one writev may send (NUM_WRITE_IOVEC). */
#define GE_READ_VECS 4
#define GE_MAX_READ 4096
#define GE_WRITE_VECS 128
/* A bulk read (more than GE_MAX_READ bytes at once, see read_bulk): at most
 * this many vectors, and new chains of at most GE_BULK_CHAIN bytes with
 * their header unless the read needs bigger ones to fit the vectors. */
#define GE_BULK_VECS 64
#define GE_BULK_CHAIN ((size_t)64 * 1024)

/* Free room after a chain's data; none in immutable chains. */
static inline size_t chain_space(const struct ge_chain *c)
{
	if (c->flags & GE_CHAIN_IMMUTABLE)
		return 0;
	return c->buffer_len - c->misalign - c->off;
}

/* Whether every chain a read may touch (the last one with data and all
 * after it: filled, realigned, freed) is plain. Also checks what the read
 * relies on: an empty chain there is the first one (no data anywhere). */
static int read_tail_plain(const struct ge_evbuffer *b)
{
	const struct ge_chain *c = *b->last_with_datap;
	if (c && c->off == 0 && b->last_with_datap != &b->first)
		return 0;
	for (; c; c = c->next)
		if (!chain_plain(c))
			return 0;
	return 1;
}

/* libevent's evbuffer_expand_fast_ with four chains, on a buffer whose tail
 * is plain: make room for datlen bytes in the free space of at most four
 * chains from the last one with data, without moving data. Empty chains are
 * realigned; if four chains with room are not enough, either one more chain
 * is appended (fewer than four exist) or every empty chain is replaced by
 * one that holds what the last data chain cannot. -1: out of memory (errno
 * as the allocator left it, as in libevent). */
static int read_expand(struct ge_evbuffer *b, size_t datlen)
{
	struct ge_chain *c, *tmp;
	size_t avail = 0;
	int used = 0;

	if (b->last == NULL) {
		if ((c = ge_chain_new(datlen)) == NULL)
			return -1;
		b->first = b->last = c;
		return 0;
	}
	for (c = *b->last_with_datap; c; c = c->next) {
		if (c->off) {
			size_t space = chain_space(c);
			if (space) {
				avail += space;
				used++;
			}
		} else {
			c->misalign = 0;
			avail += c->buffer_len;
			used++;
		}
		if (avail >= datlen)
			return 0;
		if (used == GE_READ_VECS)
			break;
	}
	if (used < GE_READ_VECS) {
		if ((tmp = ge_chain_new(datlen - avail)) == NULL)
			return -1;
		b->last->next = tmp;
		b->last = tmp;
		return 0;
	}
	/* Four chains are not enough: the empty ones go (freed first, as in
	 * libevent, which also leaves them freed if the allocation fails). */
	c = *b->last_with_datap;
	if (c->off == 0) {
		/* Nothing but empty chains: the buffer starts over. */
		ge_free_chain_list(c);
		b->first = b->last = NULL;
		b->last_with_datap = &b->first;
		b->total_len = 0;
		if ((tmp = ge_chain_new(datlen)) == NULL)
			return -1;
		b->first = b->last = tmp;
		return 0;
	}
	avail = chain_space(c);
	ge_free_chain_list(c->next);
	c->next = NULL;
	b->last = c;
	if ((tmp = ge_chain_new(datlen - avail)) == NULL)
		return -1;
	c->next = tmp;
	b->last = tmp;
	return 0;
}

/* The chain allocation (header included) for the next new chain of a bulk
 * read that still has need bytes to place and slots vectors left for them:
 * the largest power of two whose storage does not exceed need, so that
 * chains hold what the socket holds instead of up to twice as much, at
 * least libevent's smallest chain and at most GE_BULK_CHAIN, doubled while
 * chains that size could not place need in the vectors left. */
static size_t bulk_chain_alloc(size_t need, int slots)
{
	size_t cap = GE_BULK_CHAIN;
	while ((cap - GE_CHAIN_HEADER) * (size_t)(slots - 1) < need && cap < ((size_t)1 << 30))
		cap <<= 1;
	size_t n = GE_MIN_CHAIN_ALLOC;
	while (n < cap && (n << 1) - GE_CHAIN_HEADER <= need)
		n <<= 1;
	return n;
}

/* What a bulk read may use, howmuch bytes in all: the room after the last
 * chain with data, then the empty chains after it (left by an earlier read
 * that got less than it prepared for, or by evbuffer_reserve_space: used
 * again, not left to pile up), then new chains sized by bulk_chain_alloc.
 * Fills vecs and, for each, the link that points at its chain; returns how
 * many, with *got_room the bytes they describe (less than howmuch only if
 * an allocation failed or the vectors ran out). The tail is plain. */
static int bulk_vecs(struct ge_evbuffer *b, size_t howmuch, struct iovec *vecs,
    struct ge_chain ***links, size_t *got_room)
{
	struct ge_chain **link = b->last_with_datap, *c;
	size_t room = 0;
	int n = 0;

	if (*link && (*link)->off) {
		size_t space = chain_space(*link);
		if (space) {
			vecs[n].iov_base = (*link)->buffer + (*link)->misalign + (*link)->off;
			vecs[n].iov_len = space < howmuch ? space : howmuch;
			room += vecs[n].iov_len;
			links[n++] = link;
		}
		link = &(*link)->next;
	}
	for (; (c = *link) != NULL && room < howmuch && n < GE_BULK_VECS; link = &c->next) {
		c->misalign = 0; /* empty: all of it is room */
		size_t take = howmuch - room < c->buffer_len ? howmuch - room : c->buffer_len;
		vecs[n].iov_base = c->buffer;
		vecs[n].iov_len = take;
		room += take;
		links[n++] = link;
	}
	while (room < howmuch && n < GE_BULK_VECS) {
		size_t need = howmuch - room;
		c = ge_chain_new(bulk_chain_alloc(need, GE_BULK_VECS - n) - GE_CHAIN_HEADER);
		if (!c)
			break;
		link = b->last ? &b->last->next : &b->first;
		*link = c;
		b->last = c;
		size_t take = need < c->buffer_len ? need : c->buffer_len;
		vecs[n].iov_base = c->buffer;
		vecs[n].iov_len = take;
		room += take;
		links[n++] = link;
	}
	*got_room = room;
	return n;
}

/* A read of more than GE_MAX_READ bytes (a buffer whose max_read is above
 * it, and a socket holding that much): one readv into as many chains as
 * the bytes need (bulk_vecs). libevent 2.2 prepares such a read in at most
 * four chains, the last one as big as the rest of the read rounded up to a
 * power of two; here the chains fit the data instead. Whatever a short
 * read leaves unused stays as empty chains, which the next read uses
 * first. Counts as read_chains keeps them. */
static int read_bulk(struct ge_evbuffer *b, int fd, size_t howmuch, int for_cb, int raw)
{
	struct iovec vecs[GE_BULK_VECS];
	struct ge_chain **links[GE_BULK_VECS];
	size_t room;
	ge_chain_cache_enable();
	int nvecs = bulk_vecs(b, howmuch, vecs, links, &room);
	if (room == 0) {
		if (for_cb)
			errno = ENOMEM;
		return -1;
	}
	ssize_t got = raw ? GE_SYS_READV(fd, vecs, nvecs) : readv(fd, vecs, nvecs);
	if (got <= 0)
		return (int)got;
	size_t remaining = (size_t)got;
	for (int i = 0; i < nvecs && remaining; i++) {
		size_t take = remaining < vecs[i].iov_len ? remaining : vecs[i].iov_len;
		(*links[i])->off += take;
		remaining -= take;
		if (remaining == 0)
			b->last_with_datap = links[i];
	}
	b->total_len += (size_t)got;
	if (for_cb)
		b->n_add_for_cb += (size_t)got;
	else
		no_callbacks(b);
	return (int)got;
}

/* evbuffer_read on a buffer without freezes whose tail is plain;
 * everything as libevent does it, errno included (a failed FIONREAD is
 * ignored but leaves its errno, as there). With callbacks registered
 * (for_cb) the bytes read are added to n_add_for_cb for the caller to
 * report; without, the counts are reset as after every change.
 *
 * The cap is the buffer's max_read. Up to GE_MAX_READ (the default) this
 * is libevent's read, 2.1.12's exactly at the default and 2.2's below it.
 * Above, what FIONREAD reports bounds the read (GE_MAX_READ when it
 * reports nothing: at end of file, or for fds it does not know), so that
 * an idle or closing connection never gets the cap's worth of chains; a
 * read that still comes to more than GE_MAX_READ is a bulk read. */
static inline int read_chains(struct ge_evbuffer *b, int fd, int howmuch,
    int for_cb, int raw)
{
	int max = b->max_read;
	int n = GE_MAX_READ;
	if (ioctl(fd, FIONREAD, &n) < 0)
		n = -1;
	if (max <= GE_MAX_READ) {
		if (n <= 0 || n > max)
			n = max;
	} else if (n <= 0) {
		n = GE_MAX_READ;
	} else if (n > max) {
		n = max;
	}
	if (howmuch < 0 || howmuch > n)
		howmuch = n;
	if (howmuch > GE_MAX_READ)
		return read_bulk(b, fd, (size_t)howmuch, for_cb, raw);
	if (read_expand(b, (size_t)howmuch) < 0) {
		if (for_cb)
			errno = ENOMEM; /* what core/evbuffer's Read reports */
		return -1;
	}

	/* The vectors: free space from the first chain with room on, no
	 * more than howmuch in all (libevent's read_setup_vecs, exact). */
	struct iovec vecs[GE_READ_VECS];
	struct ge_chain **first = b->last_with_datap, *c;
	size_t want = (size_t)howmuch, so_far = 0;
	int nvecs = 0;
	if (*first && chain_space(*first) == 0)
		first = &(*first)->next;
	for (c = *first; c && nvecs < GE_READ_VECS && so_far < want;
	    c = c->next, nvecs++) {
		size_t avail = chain_space(c);
		if (avail > want - so_far)
			avail = want - so_far;
		vecs[nvecs].iov_base = c->buffer + c->misalign + c->off;
		vecs[nvecs].iov_len = avail;
		so_far += avail;
	}

	/* raw: a bufferevent's read of a ready fd, which cannot block (see
	 * GE_SYS_READV); evbuffer_read may be given a blocking fd and keeps
	 * libc's cancellation point. */
	ssize_t got = raw ? GE_SYS_READV(fd, vecs, nvecs) : readv(fd, vecs, nvecs);
	if (got <= 0)
		return (int)got; /* the prepared space stays, as in libevent */

	/* Account the bytes chain by chain; the chain the last byte went to
	 * becomes the last one with data. */
	size_t remaining = (size_t)got;
	struct ge_chain **link = first;
	for (int i = 0; i < nvecs; i++) {
		c = *link;
		size_t space = chain_space(c);
		if (space < remaining) {
			c->off += space;
			remaining -= space;
		} else {
			c->off += remaining;
			b->last_with_datap = link;
			break;
		}
		link = &c->next;
	}
	b->total_len += (size_t)got;
	if (for_cb)
		b->n_add_for_cb += (size_t)got;
	else
		no_callbacks(b);
	return (int)got;
}

/* evbuffer_read on a buffer without callbacks or freezes whose tail is
 * plain. */
static int read_fast(struct ge_evbuffer *b, int fd, int howmuch)
{
	return read_chains(b, fd, howmuch, 0, 0);
}

int evbuffer_read(struct evbuffer *buf, evutil_socket_t fd, int howmuch)
{
	GE_NEED_ENGINE("evbuffer_read", -1);
	NULL_BUF("evbuffer_read", buf, -1);
	struct ge_evbuffer *b = GEB(buf);
	int r;
	buf_lock(buf);
	if (quiet_end(b) && read_tail_plain(b)) {
		size_t before = b->total_len;
		r = read_fast(b, fd, howmuch);
		cb_after(b, before);
	} else {
		int err = 0;
		r = goev_evbuffer_read(buf, fd, howmuch, &err);
		if (err)
			errno = err;
	}
	buf_unlock(buf);
	return r;
}

/*
 * SIGPIPE. libevent's evbuffer_write is a plain writev, so writing to a pipe
 * or socket whose reader is gone raises SIGPIPE, which kills a program that
 * neither ignores nor handles it; libevent programs ignore it for that
 * reason. goevent keeps exactly that behaviour. The C fast paths call writev
 * from a thread that is not running Go, where the Go runtime's handler
 * passes SIGPIPE on to the disposition the program had, as libevent would
 * see it. The Go core's writev (buffers with callbacks) goes through
 * ge_writev, called from Go; there the runtime swallows the signal and the
 * call fails with EPIPE, so ge_writev finishes what the signal would have
 * done: when SIGPIPE still has the runtime's handler (the program never set
 * one) and the disposition before the runtime started was the default, it
 * restores the default and raises SIGPIPE. ("Before" is just before the
 * engine's runtime started, which is when it installed its handler; see
 * engine.c.) Bufferevents are different: they
 * write sockets with MSG_NOSIGNAL (see core/bufferevent).
 */
static void (*sigpipe_at_load)(int) = SIG_IGN;
static void (*sigpipe_go)(int);

/* Before the engine's runtime starts (engine.c): the disposition the
 * program itself gave SIGPIPE, normally the default. */
void ge_sigpipe_note_before_engine(void)
{
	struct sigaction sa;
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && !(sa.sa_flags & SA_SIGINFO))
		sigpipe_at_load = sa.sa_handler;
}

/* From the engine's start, once the runtime's handler is in place. (It
 * returns a value only because cgo's wrapper of a void(void) function trips
 * -Wunused-parameter.) */
int ge_buffer_note_sigpipe(void)
{
	struct sigaction sa;
	if (sigaction(SIGPIPE, NULL, &sa) != 0)
		return -1;
	sigpipe_go = sa.sa_handler;
	return 0;
}

ssize_t ge_writev(int fd, const void *iov, int n)
{
	ssize_t r = writev(fd, (const struct iovec *)iov, n);
	if (r < 0 && errno == EPIPE && sigpipe_at_load == SIG_DFL && sigpipe_go) {
		struct sigaction sa;
		if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == sigpipe_go) {
			signal(SIGPIPE, SIG_DFL);
			raise(SIGPIPE);
		}
	}
	return r;
}

/* libevent's evbuffer_write_iovec: one writev of the data from the front,
 * up to howmuch bytes over at most 128 chains, stopping before a sendfile
 * chain (not at the front: the caller sends those through Go). Every other
 * chain kind keeps its bytes at buffer + misalign. */
/* The vectors of a write from the front: up to howmuch bytes over at most
 * GE_WRITE_VECS chains, stopping before a sendfile chain. Returns how many. */
static int front_iovecs(const struct ge_evbuffer *b, size_t howmuch,
    struct iovec iov[GE_WRITE_VECS])
{
	const struct ge_chain *c;
	int i = 0;
	for (c = b->first; c && i < GE_WRITE_VECS && howmuch; c = c->next) {
		if (c->flags & GE_CHAIN_SENDFILE)
			break;
		size_t n = howmuch < c->off ? howmuch : c->off;
		iov[i].iov_base = c->buffer + c->misalign;
		iov[i++].iov_len = n;
		howmuch -= n;
	}
	return i;
}

static int write_iovec(const struct ge_evbuffer *b, int fd, size_t howmuch)
{
	struct iovec iov[GE_WRITE_VECS];
	int i = front_iovecs(b, howmuch, iov);
	if (i == 0)
		return 0;
	/* int, as in libevent (a writev over 2 GiB truncates there too). */
	return (int)writev(fd, iov, i);
}

int evbuffer_write_atmost(struct evbuffer *buf, evutil_socket_t fd,
    ev_ssize_t howmuch)
{
	GE_NEED_ENGINE("evbuffer_write_atmost", -1);
	NULL_BUF("evbuffer_write_atmost", buf, -1);
	struct ge_evbuffer *b = GEB(buf);
	int r;
	buf_lock(buf);
	size_t n = howmuch < 0 || (size_t)howmuch > b->total_len ?
	    b->total_len : (size_t)howmuch;
	if (quiet_front(b) && (n == 0 || !(b->first->flags & GE_CHAIN_SENDFILE))) {
		/* Nothing to send fails without touching errno. */
		r = n ? write_iovec(b, fd, n) : -1;
		size_t before = b->total_len;
		if (r > 0 && !ge_drain_fast(b, (size_t)r))
			goev_evbuffer_drain(buf, (size_t)r);
		else
			cb_after(b, before);
	} else {
		int err = 0;
		r = goev_evbuffer_write_atmost(buf, fd, howmuch, &err);
		if (err)
			errno = err;
	}
	buf_unlock(buf);
	return r;
}

int evbuffer_write(struct evbuffer *buf, evutil_socket_t fd)
{
	return evbuffer_write_atmost(buf, fd, -1);
}

/*
 * Socket bufferevents' reads and writes (capi/bufferevent_io.go). Their
 * buffers may have callbacks the fast paths above cannot skip (watermark
 * and user callbacks), and the Go core's Read and WriteAtMostNoSignal
 * would make their system calls from Go, at a cost of about 85 ns more each
 * under gVisor. These helpers do the system calls and the chain work here,
 * in one Go->C call, and leave the callback counts (n_add_for_cb,
 * n_del_for_cb) updated for Go, which then runs the callbacks exactly as the
 * Go core would have. The bufferevent holds the buffer's lock; Go checked
 * that the end being changed is not frozen.
 */

int ge_bev_read_nocb(struct ge_evbuffer *b, int fd, int howmuch)
{
	if (!read_tail_plain(b))
		return -2;
	return read_chains(b, fd, howmuch, 0, 1);
}

/* core/evbuffer's Read on a buffer whose tail is plain. */
struct ge_bev_io ge_bev_read(uintptr_t buf, int fd, int howmuch)
{
	struct ge_evbuffer *b = (struct ge_evbuffer *)buf;
	struct ge_bev_io r = { 0, 0, GE_BEV_IO_DONE };
	if (!read_tail_plain(b)) {
		r.how = GE_BEV_IO_FALLBACK;
		return r;
	}
	r.n = read_chains(b, fd, howmuch, 1, 1);
	if (r.n < 0)
		r.err = errno;
	return r;
}

/* core/evbuffer's WriteAtMostNoSignal unless a sendfile chain is first or fd
 * is not a socket (Go then writes with writev, where a SIGPIPE cannot kill
 * the program): one sendmsg(MSG_NOSIGNAL) over up to 128 chains from the
 * front, then the drain, here when the chains it frees are plain. */
struct ge_bev_io ge_bev_write(uintptr_t buf, int fd, int64_t atmost)
{
	return ge_bev_write_how(buf, fd, atmost, 0);
}

/* ge_bev_write, or with use_writev a plain writev instead of the sendmsg:
 * for descriptors that are not sockets and cannot raise SIGPIPE (see
 * ge_bev_writev_safe). */
struct ge_bev_io ge_bev_write_how(uintptr_t buf, int fd, int64_t atmost, int use_writev)
{
	struct ge_evbuffer *b = (struct ge_evbuffer *)buf;
	struct ge_bev_io r = { -1, 0, GE_BEV_IO_DONE };
	size_t howmuch = atmost < 0 || (uint64_t)atmost > b->total_len ?
	    b->total_len : (size_t)atmost;
	if (howmuch == 0)
		return r; /* nothing to send: -1 without an errno, as in Go */
	if (b->first->flags & GE_CHAIN_SENDFILE) {
		r.how = GE_BEV_IO_FALLBACK;
		return r;
	}
	struct iovec iov[GE_WRITE_VECS];
	int i = front_iovecs(b, howmuch, iov);
	if (i == 0) {
		r.n = 0;
		return r;
	}
	ssize_t sent;
	if (use_writev) {
		sent = GE_SYS_WRITEV(fd, iov, i);
	} else {
		struct msghdr msg;
		memset(&msg, 0, sizeof msg);
		msg.msg_iov = iov;
		msg.msg_iovlen = (size_t)i;
		sent = GE_SYS_SENDMSG(fd, &msg, MSG_NOSIGNAL);
	}
	if (sent < 0) {
		if (errno == ENOTSOCK)
			r.how = GE_BEV_IO_FALLBACK;
		r.err = errno;
		return r;
	}
	r.n = sent;
	if (sent > 0) {
		if (ge_drain_chains(b, (size_t)sent))
			b->n_del_for_cb += (size_t)sent;
		else
			r.how = GE_BEV_IO_DRAIN;
	}
	return r;
}

/* Whether a bufferevent's descriptor that is not a socket may be written
 * with writev from C: a terminal, pseudo-terminal or other character
 * device, or a regular file, none of which raises SIGPIPE. (A pipe would:
 * those keep going through Go's writev.) tmux's panes are ptys; without
 * this each write made two failed sendmsg calls and a crossing into Go. */
int ge_bev_writev_safe(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && (S_ISCHR(st.st_mode) || S_ISREG(st.st_mode));
}
