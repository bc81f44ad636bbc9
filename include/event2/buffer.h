/*
 * event2/buffer.h -- goevent's header for libevent 2.1.12's API of the same
 * name: struct evbuffer, a byte queue stored as a list of chunks, with
 * zero-copy peeking, reserving, searching and socket/file I/O.
 *
 * Functions returning int report success as 0 and failure as -1 unless a
 * comment says otherwise.
 *
 * POINTER LIFETIMES. Several calls hand out pointers into the buffer's own
 * memory. The rules, referred to below:
 *
 *  (D) Data pointers (evbuffer_pullup, evbuffer_peek, evbuffer_find,
 *      EVBUFFER_DATA) stay valid until the buffer is next changed in any
 *      way: data added, prepended, removed, drained, copied into another
 *      buffer by evbuffer_add_buffer/remove_buffer, read from or written to
 *      an fd, space reserved, committed or expanded, another pullup, or the
 *      buffer freed. Adding at the end counts too: it may move existing
 *      bytes. Reading (get_length, copyout, search, peek) does not. Whoever
 *      makes the change counts: a bufferevent changes its input and output
 *      buffers from the event loop, so such pointers never survive a return
 *      to the loop, and on a buffer shared between threads they are only
 *      safe while evbuffer_lock is held. Freezing does not extend them.
 *      Never write through a data pointer.
 *  (R) Space from evbuffer_reserve_space stays valid until it is committed
 *      with evbuffer_commit_space or the buffer is changed in any other way
 *      as in (D), whichever comes first. Reserving again without committing
 *      returns the same space and keeps it valid.
 *  (P) A struct evbuffer_ptr (evbuffer_ptr_set, the evbuffer_search family)
 *      is valid until the buffer is next changed as in (D); after that its
 *      pos field is only a number, and the pointer must be rebuilt with
 *      evbuffer_ptr_set before being passed to any function again.
 */
#ifndef EVENT2_BUFFER_H_INCLUDED_
#define EVENT2_BUFFER_H_INCLUDED_

#include <event2/visibility.h>
#include <event2/event-config.h>
#include <stdarg.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <event2/util.h>

#ifdef __cplusplus
extern "C" {
#endif

struct evbuffer; /* opaque */

/* A position in a buffer; see rule (P). pos is the offset from the start
 * (-1 for "not found"); internal_ is the library's cursor into its chunks. */
struct evbuffer_ptr {
	ev_ssize_t pos;
	struct {
		void *chain;
		size_t pos_in_chain;
	} internal_;
};

/* libevent makes struct evbuffer_iovec another name for the system's
 * struct iovec (void *iov_base; size_t iov_len), so the two mix freely. */
#define evbuffer_iovec iovec
#define EVBUFFER_IOVEC_IS_NATIVE_

/* ---- life cycle and locking ------------------------------------------ */
EVENT2_EXPORT_SYMBOL
struct evbuffer *evbuffer_new(void);
/* Frees the buffer and its data (running the cleanup callbacks of
 * referenced memory). Invalidates every pointer of rules (D), (R), (P). */
EVENT2_EXPORT_SYMBOL
void evbuffer_free(struct evbuffer *buf);
/* Makes every call on buf take a lock: lock (from the evthread lock
 * callbacks, recursive), or a new one if lock is NULL. Needs
 * evthread_use_pthreads or evthread_set_lock_callbacks first. */
EVENT2_EXPORT_SYMBOL
int evbuffer_enable_locking(struct evbuffer *buf, void *lock);
/* Hold the buffer's lock across several calls (no-op without locking). */
EVENT2_EXPORT_SYMBOL
void evbuffer_lock(struct evbuffer *buf);
EVENT2_EXPORT_SYMBOL
void evbuffer_unlock(struct evbuffer *buf);

#ifdef GOEVENT_EXTENSIONS
/* libevent 2.2's cap on one evbuffer_read, which goevent exports beside
 * 2.1.12's functions. Declared only for programs that define
 * GOEVENT_EXTENSIONS before including this header, so that 2.1.12 code
 * with functions of its own by these names compiles unchanged.
 *
 * evbuffer_set_max_read: from now on one evbuffer_read (and a socket
 * bufferevent's read into this buffer) takes at most max bytes, and never
 * more than the descriptor holds (FIONREAD). The default is 4096, 2.1.12's
 * fixed cap, unless the environment held GOEVENT_MAX_READ=<bytes> when
 * the library started. Above 4096 a read spreads over as many chains as
 * the bytes need, each sized to what arrived. Returns 0, or -1 (nothing
 * changed) when max is above INT_MAX. A max of 0 makes every read take
 * nothing, which evbuffer_read reports as 0, as in libevent 2.2.
 * evbuffer_get_max_read returns the cap. */
EVENT2_EXPORT_SYMBOL
int evbuffer_set_max_read(struct evbuffer *buf, size_t max);
EVENT2_EXPORT_SYMBOL
size_t evbuffer_get_max_read(struct evbuffer *buf);
#endif

/* The buffer is mostly drained to an fd, so prefer layouts (sendfile) that
 * suit that over ones that suit reading it in memory. */
#define EVBUFFER_FLAG_DRAINS_TO_FD 1
EVENT2_EXPORT_SYMBOL
int evbuffer_set_flags(struct evbuffer *buf, ev_uint64_t flags);
EVENT2_EXPORT_SYMBOL
int evbuffer_clear_flags(struct evbuffer *buf, ev_uint64_t flags);

/* ---- size ------------------------------------------------------------ */
/* Bytes stored. */
EVENT2_EXPORT_SYMBOL
size_t evbuffer_get_length(const struct evbuffer *buf);
/* Bytes stored contiguously at the front (readable with pullup without
 * copying). */
EVENT2_EXPORT_SYMBOL
size_t evbuffer_get_contiguous_space(const struct evbuffer *buf);
/* Makes room so that appending datlen more bytes needs no allocation. */
EVENT2_EXPORT_SYMBOL
int evbuffer_expand(struct evbuffer *buf, size_t datlen);

/* ---- writing in place ------------------------------------------------ */
/* Provides at least size bytes of writable space at the end, as up to n_vec
 * extents in vec (n_vec >= 1; 2 lets the library use what is left in the
 * last chunk). Returns the number of extents filled, or -1. The space is
 * not part of the buffer until committed; it is valid under rule (R). */
EVENT2_EXPORT_SYMBOL
int
evbuffer_reserve_space(struct evbuffer *buf, ev_ssize_t size,
    struct evbuffer_iovec *vec, int n_vec);
/* Appends the data written into reserved extents. vec/n_vecs are those
 * from the last evbuffer_reserve_space, with iov_len possibly lowered to
 * what was written; fails if the reservation is no longer valid. */
EVENT2_EXPORT_SYMBOL
int evbuffer_commit_space(struct evbuffer *buf,
    struct evbuffer_iovec *vec, int n_vecs);

/* ---- adding and removing --------------------------------------------- */
/* Appends a copy of datlen bytes. */
EVENT2_EXPORT_SYMBOL
int evbuffer_add(struct evbuffer *buf, const void *data, size_t datlen);
/* Moves up to datlen bytes from the front into data; returns the count, or
 * -1. */
EVENT2_EXPORT_SYMBOL
int evbuffer_remove(struct evbuffer *buf, void *data, size_t datlen);
/* As evbuffer_remove, but leaves the bytes in the buffer. */
EVENT2_EXPORT_SYMBOL
ev_ssize_t evbuffer_copyout(struct evbuffer *buf, void *data_out, size_t datlen);
/* As evbuffer_copyout, starting at pos (rule (P)). */
EVENT2_EXPORT_SYMBOL
ev_ssize_t evbuffer_copyout_from(struct evbuffer *buf, const struct evbuffer_ptr *pos, void *data_out, size_t datlen);
/* Moves up to datlen bytes from the front of src to the end of dst, without
 * copying whole chunks; returns the count moved, or -1. */
EVENT2_EXPORT_SYMBOL
int evbuffer_remove_buffer(struct evbuffer *src, struct evbuffer *dst,
    size_t datlen);

/* Line endings for evbuffer_readln and evbuffer_search_eol. */
enum evbuffer_eol_style {
	EVBUFFER_EOL_ANY,         /* any run of \r and \n characters */
	EVBUFFER_EOL_CRLF,        /* \n, optionally preceded by \r */
	EVBUFFER_EOL_CRLF_STRICT, /* exactly \r\n */
	EVBUFFER_EOL_LF,          /* exactly \n */
	EVBUFFER_EOL_NUL          /* a NUL byte */
};

/* Removes one line and its terminator from the front. Returns the line
 * without terminator, NUL-terminated, in new memory the caller releases
 * with free() (or with the free function given to event_set_mem_functions);
 * its length is stored in *n_read_out if that is not NULL. NULL when no
 * complete line is buffered. */
EVENT2_EXPORT_SYMBOL
char *evbuffer_readln(struct evbuffer *buffer, size_t *n_read_out,
    enum evbuffer_eol_style eol_style);

/* Moves all of inbuf to the end of outbuf (inbuf ends up empty). */
EVENT2_EXPORT_SYMBOL
int evbuffer_add_buffer(struct evbuffer *outbuf, struct evbuffer *inbuf);
/* Appends inbuf's current contents to outbuf without copying and without
 * changing inbuf. The shared memory stays alive, read-only, as long as
 * either buffer needs it. */
EVENT2_EXPORT_SYMBOL
int evbuffer_add_buffer_reference(struct evbuffer *outbuf,
    struct evbuffer *inbuf);

/* Called once the library no longer uses memory given to
 * evbuffer_add_reference. */
typedef void (*evbuffer_ref_cleanup_cb)(const void *data,
    size_t datalen, void *extra);
/* Appends caller-owned memory without copying. The caller keeps it alive
 * and unchanged until cleanupfn(data, datlen, cleanupfn_arg) runs: when
 * the bytes have all been drained or the buffer (or every buffer sharing
 * them) is freed. cleanupfn may be NULL. */
EVENT2_EXPORT_SYMBOL
int evbuffer_add_reference(struct evbuffer *outbuf,
    const void *data, size_t datlen,
    evbuffer_ref_cleanup_cb cleanupfn, void *cleanupfn_arg);

/* Appends length bytes of file fd from offset (length -1: to the end of
 * file). On success the buffer owns fd and closes it once the data has been
 * written out or dropped; on failure fd stays the caller's. */
EVENT2_EXPORT_SYMBOL
int evbuffer_add_file(struct evbuffer *outbuf, int fd, ev_off_t offset,
    ev_off_t length);

/* A part of a file that can be added to buffers, several times. */
struct evbuffer_file_segment;

#define EVBUF_FS_CLOSE_ON_FREE 0x01    /* close fd when the segment is freed */
#define EVBUF_FS_DISABLE_MMAP 0x02     /* never mmap the file */
#define EVBUF_FS_DISABLE_SENDFILE 0x04 /* never use sendfile for it */
#define EVBUF_FS_DISABLE_LOCKING 0x08  /* segment used from one thread only */

/* Called when the segment's last reference goes away; flags are the ones
 * it was created with. */
typedef void (*evbuffer_file_segment_cleanup_cb)(
    struct evbuffer_file_segment const* seg, int flags, void* arg);

/* A segment of length bytes (-1: to the end of file) of fd from offset, or
 * NULL. The file must not change while the segment is in use. */
EVENT2_EXPORT_SYMBOL
struct evbuffer_file_segment *evbuffer_file_segment_new(
	int fd, ev_off_t offset, ev_off_t length, unsigned flags);
/* Drops the caller's reference; the segment lives on while a buffer still
 * holds part of it. */
EVENT2_EXPORT_SYMBOL
void evbuffer_file_segment_free(struct evbuffer_file_segment *seg);
EVENT2_EXPORT_SYMBOL
void evbuffer_file_segment_add_cleanup_cb(struct evbuffer_file_segment *seg,
	evbuffer_file_segment_cleanup_cb cb, void* arg);
/* Appends length bytes (-1: the rest) of seg starting offset bytes into it. */
EVENT2_EXPORT_SYMBOL
int evbuffer_add_file_segment(struct evbuffer *buf,
    struct evbuffer_file_segment *seg, ev_off_t offset, ev_off_t length);

/* printf into the buffer; returns the bytes added, or -1. */
EVENT2_EXPORT_SYMBOL
int evbuffer_add_printf(struct evbuffer *buf, const char *fmt, ...)
#ifdef __GNUC__
  __attribute__((format(printf, 2, 3)))
#endif
;
EVENT2_EXPORT_SYMBOL
int evbuffer_add_vprintf(struct evbuffer *buf, const char *fmt, va_list ap)
#ifdef __GNUC__
	__attribute__((format(printf, 2, 0)))
#endif
;

/* Discards len bytes (or all, if fewer) from the front. */
EVENT2_EXPORT_SYMBOL
int evbuffer_drain(struct evbuffer *buf, size_t len);

/* ---- fd I/O ---------------------------------------------------------- */
/* One nonblocking write (writev/sendfile) from the front; drains what was
 * written and returns its count, or -1 with errno set (EAGAIN included). */
EVENT2_EXPORT_SYMBOL
int evbuffer_write(struct evbuffer *buffer, evutil_socket_t fd);
/* As evbuffer_write, at most howmuch bytes (-1: no limit). */
EVENT2_EXPORT_SYMBOL
int evbuffer_write_atmost(struct evbuffer *buffer, evutil_socket_t fd,
	ev_ssize_t howmuch);
/* Reads up to howmuch bytes (-1: what is available, within a library cap)
 * and appends them; returns bytes read, 0 at EOF, -1 on error. */
EVENT2_EXPORT_SYMBOL
int evbuffer_read(struct evbuffer *buffer, evutil_socket_t fd, int howmuch);

/* ---- searching ------------------------------------------------------- */
/* First occurrence of what[0..len) at or after start (NULL: the start);
 * pos is -1 if there is none. The result follows rule (P). */
EVENT2_EXPORT_SYMBOL
struct evbuffer_ptr evbuffer_search(struct evbuffer *buffer, const char *what, size_t len, const struct evbuffer_ptr *start);
/* As evbuffer_search, with the match ending no later than end (NULL: the
 * end of the buffer). */
EVENT2_EXPORT_SYMBOL
struct evbuffer_ptr evbuffer_search_range(struct evbuffer *buffer, const char *what, size_t len, const struct evbuffer_ptr *start, const struct evbuffer_ptr *end);

enum evbuffer_ptr_how {
	EVBUFFER_PTR_SET, /* move to the absolute position */
	EVBUFFER_PTR_ADD  /* move forward by position */
};
/* Points ptr at an offset (rule (P)); -1 if that is past the end. Pointing
 * exactly at the end is allowed. */
EVENT2_EXPORT_SYMBOL
int
evbuffer_ptr_set(struct evbuffer *buffer, struct evbuffer_ptr *ptr,
    size_t position, enum evbuffer_ptr_how how);
/* First line ending of eol_style at or after start (NULL: the start); its
 * length goes to *eol_len_out if not NULL. pos is -1 if none is found. The
 * result follows rule (P). */
EVENT2_EXPORT_SYMBOL
struct evbuffer_ptr evbuffer_search_eol(struct evbuffer *buffer,
    struct evbuffer_ptr *start, size_t *eol_len_out,
    enum evbuffer_eol_style eol_style);

/* Fills vec_out with up to n_vec extents pointing straight at the data,
 * from start_at (NULL: the start), covering len bytes (negative: as much
 * as fits in vec_out). The last extent may reach past len. Returns how many
 * extents the request needs, which can exceed n_vec; with n_vec 0 it only
 * counts. The extents are read-only and valid under rule (D). */
EVENT2_EXPORT_SYMBOL
int evbuffer_peek(struct evbuffer *buffer, ev_ssize_t len,
    struct evbuffer_ptr *start_at,
    struct evbuffer_iovec *vec_out, int n_vec);

/* ---- change callbacks ------------------------------------------------ */
/* What changed since the callback last ran. */
struct evbuffer_cb_info {
	size_t orig_size; /* length before the changes */
	size_t n_added;
	size_t n_deleted;
};

typedef void (*evbuffer_cb_func)(struct evbuffer *buffer, const struct evbuffer_cb_info *info, void *arg);

/* Handle of one registered callback; valid until removed or the buffer is
 * freed. */
struct evbuffer_cb_entry;
/* Registers cb (enabled) to run after each change of the buffer's length
 * (or, with evbuffer_defer_callbacks, later from the loop). */
EVENT2_EXPORT_SYMBOL
struct evbuffer_cb_entry *evbuffer_add_cb(struct evbuffer *buffer, evbuffer_cb_func cb, void *cbarg);
EVENT2_EXPORT_SYMBOL
int evbuffer_remove_cb_entry(struct evbuffer *buffer,
	struct evbuffer_cb_entry *ent);
/* Removes the first entry registered with exactly this cb and cbarg. */
EVENT2_EXPORT_SYMBOL
int evbuffer_remove_cb(struct evbuffer *buffer, evbuffer_cb_func cb, void *cbarg);

#define EVBUFFER_CB_ENABLED 1
EVENT2_EXPORT_SYMBOL
int evbuffer_cb_set_flags(struct evbuffer *buffer,
		struct evbuffer_cb_entry *cb, ev_uint32_t flags);
EVENT2_EXPORT_SYMBOL
int evbuffer_cb_clear_flags(struct evbuffer *buffer,
		struct evbuffer_cb_entry *cb, ev_uint32_t flags);

/* ---- contiguous access ----------------------------------------------- */
/* Makes the first size bytes (negative: all) contiguous and returns a
 * pointer to them, valid under rule (D). NULL if size exceeds the length,
 * if the buffer is empty with size < 0, or if size is 0. */
EVENT2_EXPORT_SYMBOL
unsigned char *evbuffer_pullup(struct evbuffer *buf, ev_ssize_t size);

/* Inserts a copy of size bytes / all of src at the front (src ends up
 * empty). */
EVENT2_EXPORT_SYMBOL
int evbuffer_prepend(struct evbuffer *buf, const void *data, size_t size);
EVENT2_EXPORT_SYMBOL
int evbuffer_prepend_buffer(struct evbuffer *dst, struct evbuffer* src);

/* While frozen, calls that would change the front (at_front != 0) or the
 * end of the buffer fail. Bufferevents use this on the ends they own. */
EVENT2_EXPORT_SYMBOL
int evbuffer_freeze(struct evbuffer *buf, int at_front);
EVENT2_EXPORT_SYMBOL
int evbuffer_unfreeze(struct evbuffer *buf, int at_front);

struct event_base;
/* From now on run the buffer's callbacks from base's loop instead of inside
 * the call that changed the buffer. */
EVENT2_EXPORT_SYMBOL
int evbuffer_defer_callbacks(struct evbuffer *buffer, struct event_base *base);

/* Appends copies of n_vec extents; returns the bytes added. */
EVENT2_EXPORT_SYMBOL
size_t evbuffer_add_iovec(struct evbuffer * buffer, struct evbuffer_iovec * vec, int n_vec);

#ifdef __cplusplus
}
#endif

#endif /* EVENT2_BUFFER_H_INCLUDED_ */
