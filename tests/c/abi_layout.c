/*
 * abi_layout.c -- pins the parts of libevent 2.1.12's ABI that programs
 * compile into themselves: public struct sizes and field offsets, and the
 * values of public constants (shared/ABI.md, plus the other constants of
 * the public headers, with the values libevent's headers give them).
 *
 * It only uses sizeof, offsetof and macros, so it needs no library to link.
 * Build it twice and compare:
 *
 *   gcc -std=c99 tests/c/abi_layout.c -o /tmp/abi_lib      # libevent's headers
 *   gcc -std=c99 -Iinclude tests/c/abi_layout.c -o /tmp/abi_ge  # goevent's
 *   /tmp/abi_lib > lib.txt; /tmp/abi_ge > ge.txt; diff lib.txt ge.txt
 *
 * Each run prints one "name value" line per row on stdout, reports every
 * row that differs from the expected value embedded below on stderr, and
 * exits 1 if any did.
 */
/* The event2 headers come first on purpose: like libevent's, goevent's
 * event-config.h turns on glibc's extensions for what follows, which is
 * what makes struct addrinfo (evutil_addrinfo) complete under -std=c99. */
#include <event2/util.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_struct.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <event2/keyvalq_struct.h>

#include <stddef.h>
#include <stdio.h>
#include <string.h>

struct row {
	const char *name;
	long long got;
	long long want;
};

#define SIZE(T, want) { "sizeof(" #T ")", (long long)sizeof(T), want }
#define OFF(T, f, want) \
	{ "offsetof(" #T ", " #f ")", (long long)offsetof(T, f), want }
#define FSIZE(T, f, want) \
	{ "fieldsize(" #T ", " #f ")", (long long)sizeof(((T *)0)->f), want }
#define CONST(c, want) { #c, (long long)(c), want }

static const struct row rows[] = {
	/* ---- struct event: 128 bytes (ABI.md) ---- */
	SIZE(struct event, 128),
	OFF(struct event, ev_evcallback, 0),
	FSIZE(struct event, ev_evcallback, 40),
	OFF(struct event, ev_evcallback.evcb_active_next, 0),
	FSIZE(struct event, ev_evcallback.evcb_active_next, 16),
	OFF(struct event, ev_evcallback.evcb_flags, 16),
	FSIZE(struct event, ev_evcallback.evcb_flags, 2),
	OFF(struct event, ev_evcallback.evcb_pri, 18),
	FSIZE(struct event, ev_evcallback.evcb_pri, 1),
	OFF(struct event, ev_evcallback.evcb_closure, 19),
	FSIZE(struct event, ev_evcallback.evcb_closure, 1),
	OFF(struct event, ev_evcallback.evcb_cb_union, 24),
	FSIZE(struct event, ev_evcallback.evcb_cb_union, 8),
	OFF(struct event, ev_evcallback.evcb_cb_union.evcb_callback, 24),
	OFF(struct event, ev_evcallback.evcb_arg, 32),
	FSIZE(struct event, ev_evcallback.evcb_arg, 8),
	OFF(struct event, ev_timeout_pos, 40),
	FSIZE(struct event, ev_timeout_pos, 16),
	OFF(struct event, ev_fd, 56),
	FSIZE(struct event, ev_fd, 4),
	OFF(struct event, ev_base, 64),
	FSIZE(struct event, ev_base, 8),
	OFF(struct event, ev_, 72),
	FSIZE(struct event, ev_, 32),
	OFF(struct event, ev_events, 104),
	FSIZE(struct event, ev_events, 2),
	OFF(struct event, ev_res, 106),
	FSIZE(struct event, ev_res, 2),
	OFF(struct event, ev_timeout, 112),
	FSIZE(struct event, ev_timeout, 16),
	/* inner members (values from libevent's headers) */
	OFF(struct event, ev_timeout_pos.min_heap_idx, 40),
	OFF(struct event, ev_.ev_io.ev_io_next, 72),
	OFF(struct event, ev_.ev_io.ev_timeout, 88),
	OFF(struct event, ev_.ev_signal.ev_signal_next, 72),
	OFF(struct event, ev_.ev_signal.ev_ncalls, 88),
	OFF(struct event, ev_.ev_signal.ev_pncalls, 96),
	SIZE(struct event_callback, 40),
	SIZE(struct event_list, 16),
	SIZE(struct event_dlist, 8),

	/* ---- struct bufferevent: 392 bytes (ABI.md) ---- */
	SIZE(struct bufferevent, 392),
	OFF(struct bufferevent, ev_base, 0),
	FSIZE(struct bufferevent, ev_base, 8),
	OFF(struct bufferevent, be_ops, 8),
	FSIZE(struct bufferevent, be_ops, 8),
	OFF(struct bufferevent, ev_read, 16),
	FSIZE(struct bufferevent, ev_read, 128),
	OFF(struct bufferevent, ev_write, 144),
	FSIZE(struct bufferevent, ev_write, 128),
	OFF(struct bufferevent, input, 272),
	FSIZE(struct bufferevent, input, 8),
	OFF(struct bufferevent, output, 280),
	FSIZE(struct bufferevent, output, 8),
	OFF(struct bufferevent, wm_read, 288),
	FSIZE(struct bufferevent, wm_read, 16),
	OFF(struct bufferevent, wm_read.low, 288),
	OFF(struct bufferevent, wm_read.high, 296),
	OFF(struct bufferevent, wm_write, 304),
	FSIZE(struct bufferevent, wm_write, 16),
	OFF(struct bufferevent, wm_write.low, 304),
	OFF(struct bufferevent, wm_write.high, 312),
	OFF(struct bufferevent, readcb, 320),
	FSIZE(struct bufferevent, readcb, 8),
	OFF(struct bufferevent, writecb, 328),
	FSIZE(struct bufferevent, writecb, 8),
	OFF(struct bufferevent, errorcb, 336),
	FSIZE(struct bufferevent, errorcb, 8),
	OFF(struct bufferevent, cbarg, 344),
	FSIZE(struct bufferevent, cbarg, 8),
	OFF(struct bufferevent, timeout_read, 352),
	FSIZE(struct bufferevent, timeout_read, 16),
	OFF(struct bufferevent, timeout_write, 368),
	FSIZE(struct bufferevent, timeout_write, 16),
	OFF(struct bufferevent, enabled, 384),
	FSIZE(struct bufferevent, enabled, 2),

	/* ---- other public structs (ABI.md) ---- */
	SIZE(struct event_watermark, 16),
	OFF(struct event_watermark, low, 0),
	OFF(struct event_watermark, high, 8),
	SIZE(struct evbuffer_ptr, 24),
	OFF(struct evbuffer_ptr, pos, 0),
	FSIZE(struct evbuffer_ptr, pos, 8),
	OFF(struct evbuffer_ptr, internal_, 8),
	FSIZE(struct evbuffer_ptr, internal_, 16),
	SIZE(struct evbuffer_iovec, 16),
	OFF(struct evbuffer_iovec, iov_base, 0),
	OFF(struct evbuffer_iovec, iov_len, 8),
	SIZE(struct evbuffer_cb_info, 24),
	OFF(struct evbuffer_cb_info, orig_size, 0),
	OFF(struct evbuffer_cb_info, n_added, 8),
	OFF(struct evbuffer_cb_info, n_deleted, 16),
	/* values from libevent's headers */
	SIZE(struct evthread_lock_callbacks, 40),
	OFF(struct evthread_lock_callbacks, supported_locktypes, 4),
	OFF(struct evthread_lock_callbacks, alloc, 8),
	OFF(struct evthread_lock_callbacks, free, 16),
	OFF(struct evthread_lock_callbacks, lock, 24),
	OFF(struct evthread_lock_callbacks, unlock, 32),
	SIZE(struct evthread_condition_callbacks, 40),
	OFF(struct evthread_condition_callbacks, alloc_condition, 8),
	OFF(struct evthread_condition_callbacks, free_condition, 16),
	OFF(struct evthread_condition_callbacks, signal_condition, 24),
	OFF(struct evthread_condition_callbacks, wait_condition, 32),
	SIZE(struct evkeyval, 32),
	OFF(struct evkeyval, key, 16),
	OFF(struct evkeyval, value, 24),
	SIZE(struct evkeyvalq, 16),
	SIZE(struct evutil_addrinfo, 48),

	/* ---- integer types (libevent's headers) ---- */
	SIZE(ev_uint64_t, 8), SIZE(ev_int64_t, 8),
	SIZE(ev_uint32_t, 4), SIZE(ev_int32_t, 4),
	SIZE(ev_uint16_t, 2), SIZE(ev_int16_t, 2),
	SIZE(ev_uint8_t, 1), SIZE(ev_int8_t, 1),
	SIZE(ev_uintptr_t, 8), SIZE(ev_intptr_t, 8),
	SIZE(ev_ssize_t, 8), SIZE(ev_off_t, 8), SIZE(ev_socklen_t, 4),
	SIZE(evutil_socket_t, 4),
	SIZE(enum evbuffer_eol_style, 4),
	SIZE(enum bufferevent_options, 4),
	SIZE(enum bufferevent_flush_mode, 4),
	CONST((ev_off_t)-1 < 0, 1),
	CONST((ev_ssize_t)-1 < 0, 1),
	CONST((evutil_socket_t)-1 < 0, 1),
	CONST(EV_SIZE_MAX == (size_t)-1, 1),
	CONST(EV_UINT64_MAX == 0xffffffffffffffffULL, 1),
	CONST(EV_SSIZE_MAX, 0x7fffffffffffffffLL),
	CONST(EV_SSIZE_MIN == -EV_SSIZE_MAX - 1, 1),
	CONST(EV_INT64_MAX, 0x7fffffffffffffffLL),
	CONST(EV_UINT32_MAX, 0xffffffffLL),
	CONST(EV_INT32_MAX, 0x7fffffffLL),
	CONST(EV_INT32_MIN, -0x7fffffffLL - 1),
	CONST(EV_UINT16_MAX, 0xffff),
	CONST(EV_INT16_MAX, 0x7fff),
	CONST(EV_INT16_MIN, -0x8000),
	CONST(EV_UINT8_MAX, 255),
	CONST(EV_INT8_MAX, 127),
	CONST(EV_INT8_MIN, -128),

	/* ---- constants listed in ABI.md ---- */
	CONST(EV_TIMEOUT, 0x01),
	CONST(EV_READ, 0x02),
	CONST(EV_WRITE, 0x04),
	CONST(EV_SIGNAL, 0x08),
	CONST(EV_PERSIST, 0x10),
	CONST(EV_ET, 0x20),
	CONST(EV_FINALIZE, 0x40),
	CONST(EV_CLOSED, 0x80),
	CONST(BEV_EVENT_READING, 0x01),
	CONST(BEV_EVENT_WRITING, 0x02),
	CONST(BEV_EVENT_EOF, 0x10),
	CONST(BEV_EVENT_ERROR, 0x20),
	CONST(BEV_EVENT_TIMEOUT, 0x40),
	CONST(BEV_EVENT_CONNECTED, 0x80),
	CONST(BEV_OPT_CLOSE_ON_FREE, 1),
	CONST(BEV_OPT_THREADSAFE, 2),
	CONST(BEV_OPT_DEFER_CALLBACKS, 4),
	CONST(BEV_OPT_UNLOCK_CALLBACKS, 8),
	CONST(EVBUFFER_EOL_ANY, 0),
	CONST(EVBUFFER_EOL_CRLF, 1),
	CONST(EVBUFFER_EOL_CRLF_STRICT, 2),
	CONST(EVBUFFER_EOL_LF, 3),
	CONST(EVBUFFER_EOL_NUL, 4),

	/* ---- other public constants (libevent's headers) ---- */
	CONST(LIBEVENT_VERSION_NUMBER, 0x02010c00),
	CONST(EVENT__NUMERIC_VERSION, 0x02010c00),
	CONST(EVENT__SIZEOF_OFF_T, 8),
	CONST(EVENT__SIZEOF_SIZE_T, 8),
	CONST(EVENT__SIZEOF_VOID_P, 8),
	CONST(EVENT__SIZEOF_LONG, 8),
	CONST(EVENT__SIZEOF_INT, 4),
	CONST(EVENT__SIZEOF_TIME_T, 8),
	CONST(EVENT__SIZEOF_PTHREAD_T, 8),
	CONST(EVENT_MAX_PRIORITIES, 256),
	CONST(EVENT_BASE_COUNT_ACTIVE, 1),
	CONST(EVENT_BASE_COUNT_VIRTUAL, 2),
	CONST(EVENT_BASE_COUNT_ADDED, 4),
	CONST(EV_FEATURE_ET, 0x01),
	CONST(EV_FEATURE_O1, 0x02),
	CONST(EV_FEATURE_FDS, 0x04),
	CONST(EV_FEATURE_EARLY_CLOSE, 0x08),
	CONST(EVENT_BASE_FLAG_NOLOCK, 0x01),
	CONST(EVENT_BASE_FLAG_IGNORE_ENV, 0x02),
	CONST(EVENT_BASE_FLAG_STARTUP_IOCP, 0x04),
	CONST(EVENT_BASE_FLAG_NO_CACHE_TIME, 0x08),
	CONST(EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST, 0x10),
	CONST(EVENT_BASE_FLAG_PRECISE_TIMER, 0x20),
	CONST(EVENT_LOG_DEBUG, 0),
	CONST(EVENT_LOG_MSG, 1),
	CONST(EVENT_LOG_WARN, 2),
	CONST(EVENT_LOG_ERR, 3),
	CONST(EVENT_DBG_ALL, 0xffffffffLL),
	CONST(EVENT_DBG_NONE, 0),
	CONST(EVLOOP_ONCE, 0x01),
	CONST(EVLOOP_NONBLOCK, 0x02),
	CONST(EVLOOP_NO_EXIT_ON_EMPTY, 0x04),
	CONST(EVLIST_TIMEOUT, 0x01),
	CONST(EVLIST_INSERTED, 0x02),
	CONST(EVLIST_SIGNAL, 0x04),
	CONST(EVLIST_ACTIVE, 0x08),
	CONST(EVLIST_INTERNAL, 0x10),
	CONST(EVLIST_ACTIVE_LATER, 0x20),
	CONST(EVLIST_FINALIZING, 0x40),
	CONST(EVLIST_INIT, 0x80),
	CONST(EVLIST_ALL, 0xff),
	CONST(EVBUFFER_FLAG_DRAINS_TO_FD, 1),
	CONST(EVBUFFER_CB_ENABLED, 1),
	CONST(EVBUFFER_PTR_SET, 0),
	CONST(EVBUFFER_PTR_ADD, 1),
	CONST(EVBUF_FS_CLOSE_ON_FREE, 0x01),
	CONST(EVBUF_FS_DISABLE_MMAP, 0x02),
	CONST(EVBUF_FS_DISABLE_SENDFILE, 0x04),
	CONST(EVBUF_FS_DISABLE_LOCKING, 0x08),
	CONST(BEV_NORMAL, 0),
	CONST(BEV_FLUSH, 1),
	CONST(BEV_FINISHED, 2),
	CONST(BEV_TRIG_IGNORE_WATERMARKS, 0x10000),
	CONST(BEV_TRIG_DEFER_CALLBACKS, 4),
	CONST(BEV_OK, 0),
	CONST(BEV_NEED_MORE, 1),
	CONST(BEV_ERROR, 2),
	CONST(EV_RATE_LIMIT_MAX, 0x7fffffffffffffffLL),
	CONST(LEV_OPT_LEAVE_SOCKETS_BLOCKING, 0x001),
	CONST(LEV_OPT_CLOSE_ON_FREE, 0x002),
	CONST(LEV_OPT_CLOSE_ON_EXEC, 0x004),
	CONST(LEV_OPT_REUSEABLE, 0x008),
	CONST(LEV_OPT_THREADSAFE, 0x010),
	CONST(LEV_OPT_DISABLED, 0x020),
	CONST(LEV_OPT_DEFERRED_ACCEPT, 0x040),
	CONST(LEV_OPT_REUSEABLE_PORT, 0x080),
	CONST(LEV_OPT_BIND_IPV6ONLY, 0x100),
	CONST(EVTHREAD_WRITE, 0x04),
	CONST(EVTHREAD_READ, 0x08),
	CONST(EVTHREAD_TRY, 0x10),
	CONST(EVTHREAD_LOCK_API_VERSION, 1),
	CONST(EVTHREAD_LOCKTYPE_RECURSIVE, 1),
	CONST(EVTHREAD_LOCKTYPE_READWRITE, 2),
	CONST(EVTHREAD_CONDITION_API_VERSION, 1),
	CONST(EVTHREAD_USE_PTHREADS_IMPLEMENTED, 1),
	CONST(EV_MONOT_PRECISE, 1),
	CONST(EV_MONOT_FALLBACK, 2),
	CONST(EVUTIL_INVALID_SOCKET, -1),
	/* glibc's EAI_* / AI_* values (these names map onto them) */
	CONST(EVUTIL_EAI_ADDRFAMILY, -9),
	CONST(EVUTIL_EAI_AGAIN, -3),
	CONST(EVUTIL_EAI_BADFLAGS, -1),
	CONST(EVUTIL_EAI_FAIL, -4),
	CONST(EVUTIL_EAI_FAMILY, -6),
	CONST(EVUTIL_EAI_MEMORY, -10),
	CONST(EVUTIL_EAI_NODATA, -5),
	CONST(EVUTIL_EAI_NONAME, -2),
	CONST(EVUTIL_EAI_SERVICE, -8),
	CONST(EVUTIL_EAI_SOCKTYPE, -7),
	CONST(EVUTIL_EAI_SYSTEM, -11),
	CONST(EVUTIL_EAI_CANCEL, -90001),
	CONST(EVUTIL_AI_PASSIVE, 0x0001),
	CONST(EVUTIL_AI_CANONNAME, 0x0002),
	CONST(EVUTIL_AI_NUMERICHOST, 0x0004),
	CONST(EVUTIL_AI_NUMERICSERV, 0x0400),
	CONST(EVUTIL_AI_V4MAPPED, 0x0008),
	CONST(EVUTIL_AI_ALL, 0x0010),
	CONST(EVUTIL_AI_ADDRCONFIG, 0x0020),
};

struct srow {
	const char *name;
	const char *got;
	const char *want;
};

#define SCONST(c, want) { #c, c, want }

static const struct srow srows[] = {
	SCONST(LIBEVENT_VERSION, "2.1.12-stable"),
	SCONST(EVENT__VERSION, "2.1.12-stable"),
};

int main(void)
{
	size_t i;
	int bad = 0;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		printf("%s %lld\n", rows[i].name, rows[i].got);
		if (rows[i].got != rows[i].want) {
			fprintf(stderr, "MISMATCH %s: got %lld, want %lld\n",
			    rows[i].name, rows[i].got, rows[i].want);
			bad++;
		}
	}
	for (i = 0; i < sizeof(srows) / sizeof(srows[0]); i++) {
		printf("%s \"%s\"\n", srows[i].name, srows[i].got);
		if (strcmp(srows[i].got, srows[i].want) != 0) {
			fprintf(stderr, "MISMATCH %s: got \"%s\", want \"%s\"\n",
			    srows[i].name, srows[i].got, srows[i].want);
			bad++;
		}
	}
	if (bad) {
		fprintf(stderr, "abi_layout: %d mismatches\n", bad);
		return 1;
	}
	return 0;
}
