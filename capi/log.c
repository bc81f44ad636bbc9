/*
 * log.c: libevent's logging path (event_set_log_callback, else stderr),
 * through which every goevent diagnostic goes, the fatal callback, and the
 * version queries. Plain C: works without the engine and in a forked child.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>

#include "internal.h"

static event_log_cb ge_log_fn;
static event_fatal_cb ge_fatal_fn;
static volatile ev_uint32_t ge_debug_mask;

void event_set_log_callback(event_log_cb cb)
{
	ge_log_fn = cb;
}

void event_set_fatal_callback(event_fatal_cb cb)
{
	ge_fatal_fn = cb;
}

void event_enable_debug_logging(ev_uint32_t which)
{
	ge_debug_mask = which;
}

void ge_log_str(int severity, const char *msg)
{
	if (severity == GE_LOG_DEBUG && !ge_debug_mask)
		return;
	if (ge_log_fn) {
		ge_log_fn(severity, msg);
		return;
	}
	const char *s;
	switch (severity) {
	case GE_LOG_DEBUG: s = "debug"; break;
	case GE_LOG_MSG: s = "msg"; break;
	case GE_LOG_WARN: s = "warn"; break;
	case GE_LOG_ERR: s = "err"; break;
	default: s = "???"; break;
	}
	fprintf(stderr, "[%s] %s\n", s, msg);
}

void ge_log(int severity, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int saved = errno;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ge_log_str(severity, buf);
	errno = saved;
}

/* An internal invariant broke: tell the fatal callback, then stop, as
 * libevent does. */
void ge_fatal(const char *msg)
{
	ge_log_str(GE_LOG_ERR, msg);
	if (ge_fatal_fn)
		ge_fatal_fn(-1);
	abort();
}

/* libevent's event_errx: the message at EVENT_LOG_ERR, then the fatal
 * callback with errcode and exit(errcode) should it return; without one,
 * abort() for GE_ERR_ABORT (libevent's assertion code) and exit(errcode)
 * otherwise. */
void ge_errx(int errcode, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ge_log_str(GE_LOG_ERR, buf);
	if (ge_fatal_fn) {
		ge_fatal_fn(errcode);
		exit(errcode);
	}
	if (errcode == GE_ERR_ABORT)
		abort();
	exit(errcode);
}

/* ---- version ----------------------------------------------------------- */

const char *event_get_version(void)
{
	return "2.1.12-stable";
}

ev_uint32_t event_get_version_number(void)
{
	return 0x02010c00;
}
