/*
 * goevent.h: the memory layouts libevent_core's C code (capi/) and the Go
 * engine (engine/, core/) share. Nothing here is public; the public headers
 * live in include/event2. What only the C library uses is in internal.h.
 *
 * The layouts below are mirrored by Go structs in core/ (core/chain and
 * core/evbuffer). They live in memory allocated outside the Go heap, so C may
 * read them directly: that is what lets the hottest trivial calls
 * (evbuffer_get_length, a small evbuffer_add, a small evbuffer_drain) run
 * without crossing into Go at all. Change a field here and in the Go mirror
 * together; core/evbuffer's layout test pins the offsets.
 */
#ifndef GOEVENT_INTERNAL_H
#define GOEVENT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One chain: a header followed (for ordinary chains) by its storage. Same
 * size as libevent's chain header (48 bytes) so that a chain allocation of
 * N bytes leaves exactly the storage libevent would leave. */
struct ge_chain {
	struct ge_chain *next;  /* 0 */
	size_t buffer_len;      /* 8: capacity of buffer */
	size_t misalign;        /* 16: bytes skipped at the front of buffer */
	size_t off;             /* 24: bytes of data after misalign */
	uint32_t flags;         /* 32: GE_CHAIN_* */
	int32_t refcnt;         /* 36 */
	unsigned char *buffer;  /* 40 */
};

#define GE_CHAIN_FILESEGMENT 0x0001u
#define GE_CHAIN_SENDFILE    0x0002u
#define GE_CHAIN_REFERENCE   0x0004u
#define GE_CHAIN_IMMUTABLE   0x0008u
#define GE_CHAIN_PINNED_R    0x0010u
#define GE_CHAIN_PINNED_W    0x0020u
#define GE_CHAIN_DANGLING    0x0040u
#define GE_CHAIN_MULTICAST   0x0080u
/* Any flag set means the chain is not plain allocator-owned memory. */
#define GE_CHAIN_SPECIAL     0x00ffu

/* The head of an evbuffer: what a `struct evbuffer *` points to. The fast
 * paths read the fields up to `callbacks`; the Go core owns everything
 * after (struct ge_evbuffer_priv), which C only reads to free a
 * bufferevent's buffers (bufferevent_free.c). */
struct ge_evbuffer {
	struct ge_chain *first;            /* 0 */
	struct ge_chain *last;             /* 8 */
	struct ge_chain **last_with_datap; /* 16 */
	size_t total_len;                  /* 24 */
	size_t n_add_for_cb;               /* 32 */
	size_t n_del_for_cb;               /* 40 */
	uint32_t slow;                     /* 48: GE_SLOW_*; 0 => all fast paths may run */
	uint32_t flags;                    /* 52: EVBUFFER_FLAG_* */
	void *lock;                        /* 56: lock object or NULL (C-managed) */
	const uint16_t *idle_flags;        /* 64: see GE_SLOW_IDLE_WATCH */
	int (*idle_hook)(void *, size_t, size_t); /* 72: see GE_SLOW_IDLE_WATCH */
	void *idle_arg;                    /* 80 */
	int32_t cb_depth;                  /* 88: nesting of callback runs */
	int32_t max_read;                  /* 92: most bytes one read takes (evbuffer_set_max_read) */
	struct ge_cb_entry *callbacks;     /* 96: newest first */
};

/* A registered callback (core/evbuffer CBEntry); C reads these to run a
 * list of C callbacks (GE_SLOW_C_CALLBACKS). */
struct ge_cb_entry {
	struct ge_cb_entry *next; /* 0 */
	void *prev_link;          /* 8 */
	void *fn;                 /* 16 */
	void *arg;                /* 24 */
	uint32_t flags;           /* 32: GE_CB_* */
};
#define GE_CB_ENABLED  0x00000001u /* EVBUFFER_CB_ENABLED */
#define GE_CB_OBSOLETE 0x00040000u /* fn is an evbuffer_cb (evbuffer_setcb) */
#define GE_CB_REMOVED  0x00100000u /* removed while a run was under way */

/* Why the C fast paths must leave a buffer to Go (bits of `slow`, set by
 * core/evbuffer's updateSlow). Paths that change the end check CALLBACKS
 * and FROZEN_END, paths that change the front CALLBACKS and FROZEN_START.
 * IDLE_WATCH: the only callback is one that does nothing while the event
 * whose evcb_flags is at idle_flags is inserted (a socket bufferevent's
 * output watcher while its write event waits); then the fast paths may run
 * and clear the counts, as that callback's run would. With idle_hook set,
 * the fast paths may also run while the event is not inserted (or when
 * there is no event): after the change they call idle_hook(idle_arg,
 * added, deleted), which does the watcher's work and returns nonzero, or
 * returns 0, and the callbacks then run in Go. */
#define GE_SLOW_CALLBACKS     0x1u
#define GE_SLOW_FROZEN_START  0x2u
#define GE_SLOW_FROZEN_END    0x4u
#define GE_SLOW_IDLE_WATCH    0x8u
/* C_CALLBACKS: the callbacks are all C functions and are not deferred; the
 * fast paths that change the buffer may run, then run the list themselves
 * (buffer.c cb_after), exactly where the Go core would. */
#define GE_SLOW_C_CALLBACKS   0x10u

/* Chain allocation as libevent sizes it: header + payload rounded up to a
 * power of two from 1024. Written twice, in chain.AllocSize (Go) and in
 * capi/buffer.c (the C fast paths); the differential tests pin both. */
#define GE_CHAIN_HEADER 48
#define GE_MIN_CHAIN_ALLOC 1024
#define GE_CHAIN_MAX_AUTO 4096

/* ---- bufferevents ------------------------------------------------------ */

/* The private area after the public 392 bytes of struct bufferevent
 * (core/bufferevent.Header, whose test pins the offsets). */
struct ge_bev_priv {
	void *lock;               /* 392: the bufferevent's lock or NULL */
	uint32_t magic;           /* 400: GE_BEV_MAGIC while the bufferevent lives */
	uint32_t kind;            /* 404: socket 1, pair 2, filter 3 */
	int32_t options;          /* 408: BEV_OPT_* */
	int32_t refcnt;           /* 412: references */
	uint16_t read_suspended;  /* 416: BEV_SUSPEND_* bits */
	uint16_t write_suspended; /* 418 */
	uint32_t flags;           /* 420: GE_BEVF_* */
	int64_t max_read;         /* 424: max single read */
	int64_t max_write;        /* 432: max single write */
	void *filt_in;            /* 440: a filter's C input filter */
	void *filt_ctx;           /* 448: and its context */
	void *partner;            /* 456: a pair end's partner */
	void *deferred_cb;        /* 464: struct event_callback * */
	uint8_t readcb_pending;   /* 472: waiting for the deferred run */
	uint8_t writecb_pending;  /* 473 */
	int16_t eventcb_pending;  /* 474 */
	int32_t errno_pending;    /* 476 */
};
#define GE_BEV_MAGIC 0x67656265u
#define GE_BEV_KIND_SOCKET 1u

/* The rest of a bufferevent's block, after the private area (at 480):
 * core/bufferevent's BEV. C reads and sets these only to free a socket
 * bufferevent (bufferevent_free.c); the Go layout test pins them. */
#define GE_BEV_HEADER_SIZE 480
struct ge_bev_go {
	void *h;                    /* 480: the header itself */
	uint8_t connection_refused; /* 488 */
	uint8_t own_lock;           /* 489 */
	uint8_t finalizing;         /* 490 */
	uint8_t pad_;
	int32_t dns_error;          /* 492 */
	void *deferred;             /* 496: the deferred callback's block */
	void *wm_watch;             /* 504 */
	uint64_t kind_state[7];     /* 512 */
	void *rlim;                 /* 568: rate-limit state or NULL */
};

/* core/evbuffer's private fields after struct ge_evbuffer (at 104). */
struct ge_evbuffer_priv {
	uint32_t state;     /* 104: GE_EVB_ST_* */
	int32_t refcnt;     /* 108 */
	uintptr_t cb_queue; /* 112 */
	uintptr_t parent;   /* 120 */
	void *deferred;     /* 128: its deferred callback, or NULL */
};
#define GE_EVB_PRIV_OFFSET 104
#define GE_EVB_ST_OWN_LOCK 0x10u
#define GE_BEVF_SOCK_C      0x1u /* socket kind, C handlers installed */
#define GE_BEVF_CONNECTING  0x2u
#define GE_BEVF_RATELIMITED 0x4u
#define GE_BEVF_FINALIZING  0x8u
#define GE_BEVF_FILTER_C    0x10u
#define GE_BEVF_WRITEV      0x20u /* fd is not a socket: the C handler writes with writev */
#define GE_BEVF_NOTSOCK     0x40u /* fd is not a socket and may raise SIGPIPE: Go writes */
/* core/bufferevent's SuspendWM: reading held off by the read high mark. */
#define GE_SUSPEND_WM 0x01u

/* A socket bufferevent's reads and writes on its buffers (buffer.c):
 * what the Go side or the C handlers (bufferevent_sock.c) still have to
 * do is in how. */
#define GE_BEV_IO_DONE 0     /* all done; Go runs the callbacks if n > 0 */
#define GE_BEV_IO_FALLBACK 1 /* nothing done; Go does the whole call */
#define GE_BEV_IO_DRAIN 2    /* n bytes sent; Go drains them */
struct ge_bev_io {
	int64_t n;   /* byte count, 0 (end of file / nothing sent) or -1 */
	int32_t err; /* errno when n is -1 (0: not a system call's failure) */
	int32_t how; /* GE_BEV_IO_* */
};
/* ---- logging severities (libevent's EVENT_LOG_*) -------------------- */
#define GE_LOG_DEBUG 0
#define GE_LOG_MSG   1
#define GE_LOG_WARN  2
#define GE_LOG_ERR   3

#endif
