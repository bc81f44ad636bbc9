/*
 * event2/event_struct.h -- goevent's header for libevent 2.1.12's API of the
 * same name: the layout of struct event, so programs can embed one in their
 * own structures and set it up with event_assign or event_set.
 *
 * The size (128 bytes) and the field offsets are the promise; what the
 * library keeps in each field is its own business, so programs should use
 * the accessors in event2/event.h (event_get_fd, event_get_base, ...)
 * rather than read fields. The library keeps all of an event's state inside
 * these 128 bytes or reachable from them, and never writes beyond them.
 *
 * The list links are written out with <sys/queue.h>'s member names instead
 * of through TAILQ_ENTRY/LIST_ENTRY, so the layout cannot change with a
 * program's own queue macros and this header leaves those macros alone.
 */
#ifndef EVENT2_EVENT_STRUCT_H_INCLUDED_
#define EVENT2_EVENT_STRUCT_H_INCLUDED_

#include <event2/event-config.h>
#include <sys/types.h>
#include <sys/time.h>
#include <event2/util.h>
#include <event2/keyvalq_struct.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bits of ev_evcallback.evcb_flags in libevent. */
#define EVLIST_TIMEOUT 0x01
#define EVLIST_INSERTED 0x02
#define EVLIST_SIGNAL 0x04
#define EVLIST_ACTIVE 0x08
#define EVLIST_INTERNAL 0x10
#define EVLIST_ACTIVE_LATER 0x20
#define EVLIST_FINALIZING 0x40
#define EVLIST_INIT 0x80
#define EVLIST_ALL 0xff

struct event;
struct event_base;

/* 40 bytes: offsets 0, 16, 18, 19, 24, 32. */
struct event_callback {
	struct {                                /* TAILQ_ENTRY(event_callback) */
		struct event_callback *tqe_next;
		struct event_callback **tqe_prev;
	} evcb_active_next;
	short evcb_flags;
	ev_uint8_t evcb_pri;
	ev_uint8_t evcb_closure;
	union {
		void (*evcb_callback)(evutil_socket_t, short, void *);
		void (*evcb_selfcb)(struct event_callback *, void *);
		void (*evcb_evfinalize)(struct event *, void *);
		void (*evcb_cbfinalize)(struct event_callback *, void *);
	} evcb_cb_union;
	void *evcb_arg;
};

/* 128 bytes. */
struct event {
	struct event_callback ev_evcallback;            /* 0 */

	union {                                         /* 40 */
		struct {                                /* TAILQ_ENTRY(event) */
			struct event *tqe_next;
			struct event **tqe_prev;
		} ev_next_with_common_timeout;
		int min_heap_idx;
	} ev_timeout_pos;
	evutil_socket_t ev_fd;                          /* 56 */

	struct event_base *ev_base;                     /* 64 */

	union {                                         /* 72 */
		struct {
			struct {                        /* LIST_ENTRY(event) */
				struct event *le_next;
				struct event **le_prev;
			} ev_io_next;
			struct timeval ev_timeout;
		} ev_io;
		struct {
			struct {                        /* LIST_ENTRY(event) */
				struct event *le_next;
				struct event **le_prev;
			} ev_signal_next;
			short ev_ncalls;
			short *ev_pncalls;
		} ev_signal;
	} ev_;

	short ev_events;                                /* 104 */
	short ev_res;                                   /* 106 */
	struct timeval ev_timeout;                      /* 112 */
};

struct event_list {                     /* TAILQ_HEAD(event_list, event) */
	struct event *tqh_first;
	struct event **tqh_last;
};

struct event_dlist {                    /* LIST_HEAD(event_dlist, event) */
	struct event *lh_first;
};

#ifdef __cplusplus
}
#endif

#endif /* EVENT2_EVENT_STRUCT_H_INCLUDED_ */
