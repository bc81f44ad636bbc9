/*
 * event2/bufferevent.h -- goevent's header for libevent 2.1.12's API of the
 * same name: bufferevents, an input and an output evbuffer joined to a
 * socket (or to another bufferevent, for pairs and filters) by the event
 * loop, with watermarks, timeouts and rate limits.
 *
 * Functions returning int report success as 0 and failure as -1 unless a
 * comment says otherwise. Callbacks run from the loop of the bufferevent's
 * base; without BEV_OPT_DEFER_CALLBACKS one may also run inside the library
 * call that caused it (a write into a pair, bufferevent_trigger...).
 */
#ifndef EVENT2_BUFFEREVENT_H_INCLUDED_
#define EVENT2_BUFFEREVENT_H_INCLUDED_

#include <event2/visibility.h>
#include <event2/event-config.h>
#include <sys/types.h>
#include <sys/time.h>
#include <event2/util.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The "what" argument of the event callback: a condition, plus the
 * direction it happened in. */
#define BEV_EVENT_READING 0x01
#define BEV_EVENT_WRITING 0x02
#define BEV_EVENT_EOF 0x10
#define BEV_EVENT_ERROR 0x20     /* details in EVUTIL_SOCKET_ERROR() */
#define BEV_EVENT_TIMEOUT 0x40
#define BEV_EVENT_CONNECTED 0x80

/* Layout in event2/bufferevent_struct.h (392 bytes). */
struct bufferevent;
struct event_base;
struct evbuffer;
struct sockaddr;

/* Read callback: input reached the read low watermark. Write callback:
 * output drained to the write low watermark or below. */
typedef void (*bufferevent_data_cb)(struct bufferevent *bev, void *ctx);
/* Connection, EOF, error and timeout notifications (BEV_EVENT_*). */
typedef void (*bufferevent_event_cb)(struct bufferevent *bev, short what, void *ctx);

enum bufferevent_options {
	/* Closing/freeing the underlying fd or bufferevent on bufferevent_free. */
	BEV_OPT_CLOSE_ON_FREE = (1<<0),
	/* Give it a lock (needs evthread setup) so threads may share it. */
	BEV_OPT_THREADSAFE = (1<<1),
	/* Run callbacks from the loop, never inside the call causing them. */
	BEV_OPT_DEFER_CALLBACKS = (1<<2),
	/* With DEFER_CALLBACKS: do not hold the lock while callbacks run. */
	BEV_OPT_UNLOCK_CALLBACKS = (1<<3)
};

/* ---- socket bufferevents --------------------------------------------- */
/* A bufferevent on fd (which should be nonblocking), or on no fd yet with
 * -1 (see bufferevent_setfd, bufferevent_socket_connect). Created with
 * writing enabled and reading disabled. NULL on failure. */
EVENT2_EXPORT_SYMBOL
struct bufferevent *bufferevent_socket_new(struct event_base *base, evutil_socket_t fd, int options);
/* Starts a nonblocking connect to the address (creating the socket if the
 * bufferevent has none); BEV_EVENT_CONNECTED or BEV_EVENT_ERROR follows.
 * With a NULL address, waits for a connect already under way on its fd. */
EVENT2_EXPORT_SYMBOL
int bufferevent_socket_connect(struct bufferevent *, const struct sockaddr *, int);

struct evdns_base;
/* Resolves hostname (family AF_INET, AF_INET6 or AF_UNSPEC) and connects to
 * its first address. goevent has no evdns: pass NULL, and the name is
 * resolved with a blocking getaddrinfo as libevent does for NULL. A failed
 * lookup is reported as BEV_EVENT_ERROR; see bufferevent_socket_get_dns_error. */
EVENT2_EXPORT_SYMBOL
int bufferevent_socket_connect_hostname(struct bufferevent *,
    struct evdns_base *, int, const char *, int);
/* The EVUTIL_EAI_* error of the last failed lookup, or 0. */
EVENT2_EXPORT_SYMBOL
int bufferevent_socket_get_dns_error(struct bufferevent *bev);

/* ---- common ---------------------------------------------------------- */
/* Moves a bufferevent (not yet active) to another base. */
EVENT2_EXPORT_SYMBOL
int bufferevent_base_set(struct event_base *base, struct bufferevent *bufev);
EVENT2_EXPORT_SYMBOL
struct event_base *bufferevent_get_base(struct bufferevent *bev);
/* Priority of its read/write events. */
EVENT2_EXPORT_SYMBOL
int bufferevent_priority_set(struct bufferevent *bufev, int pri);
EVENT2_EXPORT_SYMBOL
int bufferevent_get_priority(const struct bufferevent *bufev);
/* Stops all callbacks at once and releases the caller's reference; the
 * memory goes when the last reference (deferred callbacks, incref) does.
 * Pending output is not flushed. */
EVENT2_EXPORT_SYMBOL
void bufferevent_free(struct bufferevent *bufev);

/* Replaces all callbacks and their shared argument (NULL: none). */
EVENT2_EXPORT_SYMBOL
void bufferevent_setcb(struct bufferevent *bufev,
    bufferevent_data_cb readcb, bufferevent_data_cb writecb,
    bufferevent_event_cb eventcb, void *cbarg);
/* Current callbacks; NULL outputs are skipped. */
EVENT2_EXPORT_SYMBOL
void bufferevent_getcb(struct bufferevent *bufev,
    bufferevent_data_cb *readcb_ptr,
    bufferevent_data_cb *writecb_ptr,
    bufferevent_event_cb *eventcb_ptr,
    void **cbarg_ptr);

/* Changes the socket (socket bufferevents only). */
EVENT2_EXPORT_SYMBOL
int bufferevent_setfd(struct bufferevent *bufev, evutil_socket_t fd);
/* Its socket, or -1. */
EVENT2_EXPORT_SYMBOL
evutil_socket_t bufferevent_getfd(struct bufferevent *bufev);
/* The bufferevent a filter sits on, or NULL. */
EVENT2_EXPORT_SYMBOL
struct bufferevent *bufferevent_get_underlying(struct bufferevent *bufev);

/* Appends a copy of size bytes to the output buffer. */
EVENT2_EXPORT_SYMBOL
int bufferevent_write(struct bufferevent *bufev,
    const void *data, size_t size);
/* Moves all of buf to the output buffer. */
EVENT2_EXPORT_SYMBOL
int bufferevent_write_buffer(struct bufferevent *bufev, struct evbuffer *buf);
/* Removes up to size bytes from the input buffer; returns the count. */
EVENT2_EXPORT_SYMBOL
size_t bufferevent_read(struct bufferevent *bufev, void *data, size_t size);
/* Moves all of the input buffer to buf. */
EVENT2_EXPORT_SYMBOL
int bufferevent_read_buffer(struct bufferevent *bufev, struct evbuffer *buf);

/* The bufferevent's own buffers (the same pointers as bev->input and
 * bev->output), valid until the bufferevent is freed. The loop adds to the
 * input and drains the output, so pointers *into* them (evbuffer_peek,
 * evbuffer_pullup...) do not survive a return to the loop. Do not free. */
EVENT2_EXPORT_SYMBOL
struct evbuffer *bufferevent_get_input(struct bufferevent *bufev);
EVENT2_EXPORT_SYMBOL
struct evbuffer *bufferevent_get_output(struct bufferevent *bufev);

/* Turns reading and/or writing (EV_READ, EV_WRITE) on or off. */
EVENT2_EXPORT_SYMBOL
int bufferevent_enable(struct bufferevent *bufev, short event);
EVENT2_EXPORT_SYMBOL
int bufferevent_disable(struct bufferevent *bufev, short event);
/* EV_READ|EV_WRITE bits currently enabled. */
EVENT2_EXPORT_SYMBOL
short bufferevent_get_enabled(struct bufferevent *bufev);

/* Inactivity timeouts per direction (NULL: none). When one expires that
 * direction is disabled and the event callback gets BEV_EVENT_TIMEOUT with
 * BEV_EVENT_READING or BEV_EVENT_WRITING. */
EVENT2_EXPORT_SYMBOL
int bufferevent_set_timeouts(struct bufferevent *bufev,
    const struct timeval *timeout_read, const struct timeval *timeout_write);

/* Sets the watermarks of EV_READ and/or EV_WRITE. Read: the read callback
 * waits for lowmark bytes, and reading pauses while the input holds
 * highmark bytes or more (0: no limit). Write: the write callback runs when
 * the output drains to lowmark; highmark only matters for filters. */
EVENT2_EXPORT_SYMBOL
void bufferevent_setwatermark(struct bufferevent *bufev, short events,
    size_t lowmark, size_t highmark);
/* Watermarks of exactly one of EV_READ or EV_WRITE; -1 otherwise. NULL
 * outputs are skipped. */
EVENT2_EXPORT_SYMBOL
int bufferevent_getwatermark(struct bufferevent *bufev, short events,
    size_t *lowmark, size_t *highmark);

/* Hold the bufferevent's lock across several calls (no-op without
 * BEV_OPT_THREADSAFE). */
EVENT2_EXPORT_SYMBOL
void bufferevent_lock(struct bufferevent *bufev);
EVENT2_EXPORT_SYMBOL
void bufferevent_unlock(struct bufferevent *bufev);

/* Extra references keep the memory (not the callbacks) alive across
 * bufferevent_free. decref returns 1 if it freed the bufferevent, else 0. */
EVENT2_EXPORT_SYMBOL
void bufferevent_incref(struct bufferevent *bufev);
EVENT2_EXPORT_SYMBOL
int bufferevent_decref(struct bufferevent *bufev);

enum bufferevent_flush_mode {
	BEV_NORMAL = 0,   /* ordinary traffic */
	BEV_FLUSH = 1,    /* push out everything buffered */
	BEV_FINISHED = 2  /* as BEV_FLUSH, and no more data will follow */
};

/* Pushes buffered data through (iotype EV_READ and/or EV_WRITE); meaningful
 * for filters and pairs, a no-op for sockets. Returns -1 on failure, 0 if
 * nothing moved, 1 if something did. */
EVENT2_EXPORT_SYMBOL
int bufferevent_flush(struct bufferevent *bufev,
    short iotype,
    enum bufferevent_flush_mode mode);

enum bufferevent_trigger_options {
	/* run the callback even if the watermark is not reached */
	BEV_TRIG_IGNORE_WATERMARKS = (1<<16),
	/* run it from the loop rather than right away */
	BEV_TRIG_DEFER_CALLBACKS = BEV_OPT_DEFER_CALLBACKS
};

/* Runs the read and/or write callback (iotype EV_READ/EV_WRITE) as if data
 * had arrived/drained. */
EVENT2_EXPORT_SYMBOL
void bufferevent_trigger(struct bufferevent *bufev, short iotype,
    int options);
/* Runs the event callback with the BEV_EVENT_* flags what. */
EVENT2_EXPORT_SYMBOL
void bufferevent_trigger_event(struct bufferevent *bufev, short what,
    int options);

/* ---- filters --------------------------------------------------------- */
enum bufferevent_filter_result {
	BEV_OK = 0,        /* wrote something to dst */
	BEV_NEED_MORE = 1, /* needs more input before it can write */
	BEV_ERROR = 2      /* failed: the bufferevent reports an error */
};

/* Moves (transformed) data from src to dst, writing no more than dst_limit
 * bytes when that is not negative. */
typedef enum bufferevent_filter_result (*bufferevent_filter_cb)(
    struct evbuffer *src, struct evbuffer *dst, ev_ssize_t dst_limit,
    enum bufferevent_flush_mode mode, void *ctx);

/* A bufferevent whose data passes through input_filter (from underlying's
 * input) and output_filter (to underlying's output); NULL filters copy
 * unchanged. free_context(ctx) runs when it is freed. With
 * BEV_OPT_CLOSE_ON_FREE, underlying is freed with it. */
EVENT2_EXPORT_SYMBOL
struct bufferevent *
bufferevent_filter_new(struct bufferevent *underlying,
		       bufferevent_filter_cb input_filter,
		       bufferevent_filter_cb output_filter,
		       int options,
		       void (*free_context)(void *),
		       void *ctx);

/* ---- pairs ----------------------------------------------------------- */
/* Two bufferevents in one process, each writing into the other's input. */
EVENT2_EXPORT_SYMBOL
int bufferevent_pair_new(struct event_base *base, int options,
    struct bufferevent *pair[2]);
/* The other end, or NULL once it has been freed. */
EVENT2_EXPORT_SYMBOL
struct bufferevent *bufferevent_pair_get_partner(struct bufferevent *bev);

/* ---- rate limiting --------------------------------------------------- */
/* Token-bucket settings: rates in bytes per tick, bursts as bucket sizes. */
struct ev_token_bucket_cfg;
/* Bufferevents sharing one budget. */
struct bufferevent_rate_limit_group;

#define EV_RATE_LIMIT_MAX EV_SSIZE_MAX

/* tick_len NULL means one second. The bufferevents using it copy nothing:
 * free it only after they stop using it. */
EVENT2_EXPORT_SYMBOL
struct ev_token_bucket_cfg *ev_token_bucket_cfg_new(
	size_t read_rate, size_t read_burst,
	size_t write_rate, size_t write_burst,
	const struct timeval *tick_len);
EVENT2_EXPORT_SYMBOL
void ev_token_bucket_cfg_free(struct ev_token_bucket_cfg *cfg);
/* Applies cfg to one bufferevent (NULL removes its limit). */
EVENT2_EXPORT_SYMBOL
int bufferevent_set_rate_limit(struct bufferevent *bev,
    struct ev_token_bucket_cfg *cfg);
/* The group copies cfg. */
EVENT2_EXPORT_SYMBOL
struct bufferevent_rate_limit_group *bufferevent_rate_limit_group_new(
	struct event_base *base,
	const struct ev_token_bucket_cfg *cfg);
EVENT2_EXPORT_SYMBOL
int bufferevent_rate_limit_group_set_cfg(
	struct bufferevent_rate_limit_group *,
	const struct ev_token_bucket_cfg *);
/* Smallest number of bytes a member may move at once (default 64). */
EVENT2_EXPORT_SYMBOL
int bufferevent_rate_limit_group_set_min_share(
	struct bufferevent_rate_limit_group *, size_t);
/* Members must have left the group first. */
EVENT2_EXPORT_SYMBOL
void bufferevent_rate_limit_group_free(struct bufferevent_rate_limit_group *);
EVENT2_EXPORT_SYMBOL
int bufferevent_add_to_rate_limit_group(struct bufferevent *bev,
    struct bufferevent_rate_limit_group *g);
EVENT2_EXPORT_SYMBOL
int bufferevent_remove_from_rate_limit_group(struct bufferevent *bev);

/* Largest single read/write. 0 or more than EV_SSIZE_MAX restores the
 * default (16384, or GOEVENT_MAX_READ when that is larger).
 * As in libevent 2.2, setting the read size also sets the input buffer's
 * evbuffer_set_max_read, so reads take up to that much (2.1.12 read at
 * most 4096 whatever was set), each no more than the socket holds;
 * restoring the default restores the input's default too. A read size
 * above INT_MAX is kept but leaves the input's cap alone and returns -1,
 * as in 2.2. Writes send up to the write size, over at most 128 of the
 * output's chains per system call, as libevent does. */
EVENT2_EXPORT_SYMBOL
int bufferevent_set_max_single_read(struct bufferevent *bev, size_t size);
EVENT2_EXPORT_SYMBOL
int bufferevent_set_max_single_write(struct bufferevent *bev, size_t size);
EVENT2_EXPORT_SYMBOL
ev_ssize_t bufferevent_get_max_single_read(struct bufferevent *bev);
EVENT2_EXPORT_SYMBOL
ev_ssize_t bufferevent_get_max_single_write(struct bufferevent *bev);

/* Tokens left in the bufferevent's own bucket (EV_SSIZE_MAX if unlimited);
 * may be negative. */
EVENT2_EXPORT_SYMBOL
ev_ssize_t bufferevent_get_read_limit(struct bufferevent *bev);
EVENT2_EXPORT_SYMBOL
ev_ssize_t bufferevent_get_write_limit(struct bufferevent *bev);
/* How much the next read/write may move, all limits considered. */
EVENT2_EXPORT_SYMBOL
ev_ssize_t bufferevent_get_max_to_read(struct bufferevent *bev);
EVENT2_EXPORT_SYMBOL
ev_ssize_t bufferevent_get_max_to_write(struct bufferevent *bev);
/* The cfg set with bufferevent_set_rate_limit, or NULL. */
EVENT2_EXPORT_SYMBOL
const struct ev_token_bucket_cfg *bufferevent_get_token_bucket_cfg(const struct bufferevent * bev);

/* Tokens left in the group's buckets. */
EVENT2_EXPORT_SYMBOL
ev_ssize_t bufferevent_rate_limit_group_get_read_limit(
	struct bufferevent_rate_limit_group *);
EVENT2_EXPORT_SYMBOL
ev_ssize_t bufferevent_rate_limit_group_get_write_limit(
	struct bufferevent_rate_limit_group *);

/* Takes decr tokens (negative: gives them back), e.g. for traffic made
 * outside the bufferevent. */
EVENT2_EXPORT_SYMBOL
int bufferevent_decrement_read_limit(struct bufferevent *bev, ev_ssize_t decr);
EVENT2_EXPORT_SYMBOL
int bufferevent_decrement_write_limit(struct bufferevent *bev, ev_ssize_t decr);
EVENT2_EXPORT_SYMBOL
int bufferevent_rate_limit_group_decrement_read(
	struct bufferevent_rate_limit_group *, ev_ssize_t);
EVENT2_EXPORT_SYMBOL
int bufferevent_rate_limit_group_decrement_write(
	struct bufferevent_rate_limit_group *, ev_ssize_t);

/* Bytes the group's members moved since creation or the last reset; NULL
 * outputs are skipped. */
EVENT2_EXPORT_SYMBOL
void bufferevent_rate_limit_group_get_totals(
    struct bufferevent_rate_limit_group *grp,
    ev_uint64_t *total_read_out, ev_uint64_t *total_written_out);
EVENT2_EXPORT_SYMBOL
void
bufferevent_rate_limit_group_reset_totals(
	struct bufferevent_rate_limit_group *grp);

#ifdef __cplusplus
}
#endif

#endif /* EVENT2_BUFFEREVENT_H_INCLUDED_ */
