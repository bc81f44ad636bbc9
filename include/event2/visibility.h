/*
 * event2/visibility.h -- goevent's header for libevent 2.1.12's API of the
 * same name: the EVENT2_EXPORT_SYMBOL decoration that every public function
 * in the other headers carries.
 *
 * For programs the decoration is empty, exactly as with libevent. It only
 * expands to a default-visibility attribute while one of the libraries is
 * itself being built (the same *_shared_EXPORTS switches libevent's build
 * uses), so a build with -fvisibility=hidden still exports the public API.
 */
#ifndef EVENT2_VISIBILITY_H_INCLUDED_
#define EVENT2_VISIBILITY_H_INCLUDED_

#include <event2/event-config.h>

#if defined(event_shared_EXPORTS) || defined(event_extra_shared_EXPORTS) || \
    defined(event_core_shared_EXPORTS) || \
    defined(event_pthreads_shared_EXPORTS) || \
    defined(event_openssl_shared_EXPORTS)
# if defined(__GNUC__)
#  define EVENT2_EXPORT_SYMBOL __attribute__((visibility("default")))
# else
#  define EVENT2_EXPORT_SYMBOL
# endif
#else
# define EVENT2_EXPORT_SYMBOL
#endif

/* libevent needs a separate spelling only for Windows DLL imports; on this
 * platform it is the same decoration. */
#if !defined(EVENT2_CORE_EXPORT_SYMBOL)
# define EVENT2_CORE_EXPORT_SYMBOL EVENT2_EXPORT_SYMBOL
#endif

#endif /* EVENT2_VISIBILITY_H_INCLUDED_ */
