/*
 * evutil.h -- goevent's header for libevent 2.1.12's API of the same name:
 * the libevent 1.x name of event2/util.h.
 */
#ifndef EVENT1_EVUTIL_H_INCLUDED_
#define EVENT1_EVUTIL_H_INCLUDED_

#include <event2/util.h>

#endif /* EVENT1_EVUTIL_H_INCLUDED_ */
