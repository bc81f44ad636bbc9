/*
 * event2/bufferevent_struct.h -- goevent's header for libevent 2.1.12's API
 * of the same name: the public head of struct bufferevent (392 bytes).
 *
 * Many programs read bev->input and bev->output directly, and some read
 * bev->enabled, the watermarks, timeouts or callbacks, so goevent keeps
 * ev_base and every field from input to enabled current at these offsets
 * (input and output always equal bufferevent_get_input/_output). Read them
 * if you must; change them only through event2/bufferevent.h. be_ops,
 * ev_read and ev_write belong to the library. A bufferevent is always
 * allocated by the library: never embed or copy one.
 */
#ifndef EVENT2_BUFFEREVENT_STRUCT_H_INCLUDED_
#define EVENT2_BUFFEREVENT_STRUCT_H_INCLUDED_

#include <event2/event-config.h>
#include <sys/types.h>
#include <sys/time.h>
#include <event2/util.h>
#include <event2/event_struct.h>
#include <event2/bufferevent.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 16 bytes. */
struct event_watermark {
	size_t low;
	size_t high;
};

struct bufferevent_ops; /* opaque: the kind of bufferevent */

struct bufferevent {
	struct event_base *ev_base;             /* 0 */
	const struct bufferevent_ops *be_ops;   /* 8 */
	struct event ev_read;                   /* 16 */
	struct event ev_write;                  /* 144 */
	struct evbuffer *input;                 /* 272 */
	struct evbuffer *output;                /* 280 */
	struct event_watermark wm_read;         /* 288 */
	struct event_watermark wm_write;        /* 304 */
	bufferevent_data_cb readcb;             /* 320 */
	bufferevent_data_cb writecb;            /* 328 */
	bufferevent_event_cb errorcb;           /* 336 */
	void *cbarg;                            /* 344 */
	struct timeval timeout_read;            /* 352 */
	struct timeval timeout_write;           /* 368 */
	short enabled;                          /* 384: EV_READ|EV_WRITE */
};

#ifdef __cplusplus
}
#endif

#endif /* EVENT2_BUFFEREVENT_STRUCT_H_INCLUDED_ */
