/*
 * event2/tag_compat.h -- goevent's header for libevent 2.1.12's API of the
 * same name: old names of two event2/tag.h functions (declarations only,
 * like tag.h).
 */
#ifndef EVENT2_TAG_COMPAT_H_INCLUDED_
#define EVENT2_TAG_COMPAT_H_INCLUDED_

#include <event2/tag.h>

#define encode_int(evbuf, number) evtag_encode_int((evbuf), (number))
#define encode_int64(evbuf, number) evtag_encode_int64((evbuf), (number))

#endif /* EVENT2_TAG_COMPAT_H_INCLUDED_ */
