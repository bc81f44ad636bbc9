/*
 * event2/buffer_compat.h -- goevent's header for libevent 2.1.12's API of
 * the same name: deprecated evbuffer calls and macros kept for old programs.
 */
#ifndef EVENT2_BUFFER_COMPAT_H_INCLUDED_
#define EVENT2_BUFFER_COMPAT_H_INCLUDED_

#include <event2/visibility.h>
#include <event2/buffer.h>

#ifdef __cplusplus
extern "C" {
#endif

/* evbuffer_readln(buffer, NULL, EVBUFFER_EOL_ANY): the caller frees the
 * returned line. */
EVENT2_EXPORT_SYMBOL
char *evbuffer_readline(struct evbuffer *buffer);

/* Old-style change callback: the length before and after. */
typedef void (*evbuffer_cb)(struct evbuffer *buffer, size_t old_len, size_t new_len, void *arg);

/* Removes every callback of the buffer, then installs cb (none if NULL). */
EVENT2_EXPORT_SYMBOL
int evbuffer_setcb(struct evbuffer *buffer, evbuffer_cb cb, void *cbarg);

/* Finds what[0..len); returns a pointer to the match after pulling the
 * buffer up to it, or NULL. The pointer follows rule (D) of
 * event2/buffer.h: valid until the buffer next changes. */
EVENT2_EXPORT_SYMBOL
unsigned char *evbuffer_find(struct evbuffer *buffer, const unsigned char *what, size_t len);

#define EVBUFFER_LENGTH(x) evbuffer_get_length(x)
/* The whole buffer made contiguous: evbuffer_pullup, rule (D). */
#define EVBUFFER_DATA(x) evbuffer_pullup((x), -1)

#ifdef __cplusplus
}
#endif

#endif /* EVENT2_BUFFER_COMPAT_H_INCLUDED_ */
