/*
 * event2/listener.h -- goevent's header for libevent 2.1.12's API of the
 * same name: evconnlistener, which accepts connections on a listening
 * socket from the event loop and hands each new socket to a callback.
 */
#ifndef EVENT2_LISTENER_H_INCLUDED_
#define EVENT2_LISTENER_H_INCLUDED_

#include <event2/visibility.h>
#include <event2/event.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sockaddr;
struct evconnlistener; /* opaque */

/* A new connection: its socket (now the callback's to keep or close), the
 * peer address and its length, and the user pointer. The address is only
 * valid until the callback returns; copy it to keep it. */
typedef void (*evconnlistener_cb)(struct evconnlistener *, evutil_socket_t, struct sockaddr *, int socklen, void *);
/* accept() failed with an error other than "try again"; the error is in
 * EVUTIL_SOCKET_ERROR(). Gets the same user pointer as the callback. The
 * listener stays enabled. */
typedef void (*evconnlistener_errorcb)(struct evconnlistener *, void *);

/* Hand out accepted sockets in blocking mode (default: nonblocking). */
#define LEV_OPT_LEAVE_SOCKETS_BLOCKING (1u<<0)
/* Close the listening socket in evconnlistener_free. */
#define LEV_OPT_CLOSE_ON_FREE (1u<<1)
/* Set close-on-exec on the listening socket. */
#define LEV_OPT_CLOSE_ON_EXEC (1u<<2)
/* SO_REUSEADDR on the listening socket. */
#define LEV_OPT_REUSEABLE (1u<<3)
/* Give the listener a lock (needs evthread setup). */
#define LEV_OPT_THREADSAFE (1u<<4)
/* Create it disabled; start it with evconnlistener_enable. */
#define LEV_OPT_DISABLED (1u<<5)
/* TCP_DEFER_ACCEPT: wake only when the client has sent data. */
#define LEV_OPT_DEFERRED_ACCEPT (1u<<6)
/* SO_REUSEPORT on the listening socket. */
#define LEV_OPT_REUSEABLE_PORT (1u<<7)
/* IPV6_V6ONLY on the listening socket. */
#define LEV_OPT_BIND_IPV6ONLY (1u<<8)

/* A listener on fd, a bound socket. backlog goes to listen(): -1 picks a
 * default, 0 means fd is already listening. NULL on failure. */
EVENT2_EXPORT_SYMBOL
struct evconnlistener *evconnlistener_new(struct event_base *base,
    evconnlistener_cb cb, void *ptr, unsigned flags, int backlog,
    evutil_socket_t fd);
/* As evconnlistener_new on a socket it creates (nonblocking, SO_KEEPALIVE,
 * plus the socket options in flags) and binds to sa. Pass
 * LEV_OPT_CLOSE_ON_FREE to have evconnlistener_free close it. backlog must
 * not be 0 here. */
EVENT2_EXPORT_SYMBOL
struct evconnlistener *evconnlistener_new_bind(struct event_base *base,
    evconnlistener_cb cb, void *ptr, unsigned flags, int backlog,
    const struct sockaddr *sa, int socklen);
/* Stops accepting and frees the listener. */
EVENT2_EXPORT_SYMBOL
void evconnlistener_free(struct evconnlistener *lev);
/* Resume / pause accepting. */
EVENT2_EXPORT_SYMBOL
int evconnlistener_enable(struct evconnlistener *lev);
EVENT2_EXPORT_SYMBOL
int evconnlistener_disable(struct evconnlistener *lev);
EVENT2_EXPORT_SYMBOL
struct event_base *evconnlistener_get_base(struct evconnlistener *lev);
/* The listening socket. */
EVENT2_EXPORT_SYMBOL
evutil_socket_t evconnlistener_get_fd(struct evconnlistener *lev);
/* Replaces the callback and its pointer; a NULL cb stops accepting until
 * a callback is set again. */
EVENT2_EXPORT_SYMBOL
void evconnlistener_set_cb(struct evconnlistener *lev,
    evconnlistener_cb cb, void *arg);
EVENT2_EXPORT_SYMBOL
void evconnlistener_set_error_cb(struct evconnlistener *lev,
    evconnlistener_errorcb errorcb);

#ifdef __cplusplus
}
#endif

#endif /* EVENT2_LISTENER_H_INCLUDED_ */
