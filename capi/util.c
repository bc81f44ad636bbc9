/*
 * util.c: event2/util.h, libevent's portability helpers.
 *
 * Every function here is a thin wrapper over libc, so all of it stays in C:
 * a crossing into Go would cost more than most of these calls do in total.
 * Behaviour and return values are those of libevent 2.1.12 as Debian builds
 * it for glibc (native getaddrinfo, glibc's arc4random, clock_gettime), the
 * reference goevent is tested against. Where that behaviour is an oddity a
 * program could observe, the code says so with "libevent quirk"; those are
 * kept on purpose, because a drop-in replacement must answer as the original
 * did.
 *
 * Where libevent would dereference a NULL argument and crash, these functions
 * log one warning and return the function's error value instead.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/util.h>

#include "internal.h"

/* These functions are plain C and never reach Go, so unlike the rest of the
 * library they keep working in a forked child, as libevent's do (closing or
 * configuring sockets between fork and exec is common). */

/* ---- formatting -------------------------------------------------------- */

/* libevent's vsnprintf: always NUL-terminates when there is room for
 * anything. libevent quirk: a zero-sized buffer answers 0, not the length
 * the output would have had. */
static int util_vformat(char *buf, size_t buflen, const char *format,
    va_list ap)
{
	if (buflen == 0)
		return 0;
	int r = vsnprintf(buf, buflen, format, ap);
	buf[buflen - 1] = '\0';
	return r;
}

static int util_format(char *buf, size_t buflen, const char *format, ...)
	__attribute__((format(printf, 3, 4)));

static int util_format(char *buf, size_t buflen, const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	int r = util_vformat(buf, buflen, format, ap);
	va_end(ap);
	return r;
}

int evutil_vsnprintf(char *buf, size_t buflen, const char *format, va_list ap)
{
	if (buflen && (!buf || !format)) {
		GE_BADARG("evutil_vsnprintf", buf ? "NULL format" : "NULL buffer");
		return -1;
	}
	return util_vformat(buf, buflen, format, ap);
}

int evutil_snprintf(char *buf, size_t buflen, const char *format, ...)
{
	if (buflen && (!buf || !format)) {
		GE_BADARG("evutil_snprintf", buf ? "NULL format" : "NULL buffer");
		return -1;
	}
	va_list ap;
	va_start(ap, format);
	int r = util_vformat(buf, buflen, format, ap);
	va_end(ap);
	return r;
}

int evutil_date_rfc1123(char *date, const size_t datelen, const struct tm *tm)
{
	static const char wday[7][4] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
	};
	static const char mon[12][4] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
	};
	struct tm now;

	if (datelen && !date) {
		GE_BADARG("evutil_date_rfc1123", "NULL buffer");
		return -1;
	}
	if (!tm) {
		time_t t = time(NULL);
		gmtime_r(&t, &now);
		tm = &now;
	}
	/* libevent indexes its name tables with these unchecked. */
	if (tm->tm_wday < 0 || tm->tm_wday > 6 || tm->tm_mon < 0 ||
	    tm->tm_mon > 11) {
		GE_BADARG("evutil_date_rfc1123", "tm_wday or tm_mon out of range");
		return -1;
	}
	return util_format(date, datelen, "%s, %02d %s %4lld %02d:%02d:%02d GMT",
	    wday[tm->tm_wday], tm->tm_mday, mon[tm->tm_mon],
	    1900LL + tm->tm_year, tm->tm_hour, tm->tm_min, tm->tm_sec);
}

/* ---- strings and numbers ----------------------------------------------- */

static char ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Orders NULL before any string, for the comparisons below: libevent would
 * crash instead. Returns 2 when neither is NULL. */
static int null_order(const char *fn, const char *s1, const char *s2)
{
	if (s1 && s2)
		return 2;
	GE_BADARG(fn, "NULL string");
	if (!s1 && !s2)
		return 0;
	return s1 ? 1 : -1;
}

/* libevent quirk: bytes are compared as (signed) char, so every byte >= 0x80
 * sorts before plain ASCII. */
int evutil_ascii_strcasecmp(const char *s1, const char *s2)
{
	int o = null_order("evutil_ascii_strcasecmp", s1, s2);
	if (o != 2)
		return o;
	for (;; s1++, s2++) {
		char c1 = ascii_lower(*s1), c2 = ascii_lower(*s2);
		if (c1 != c2)
			return c1 < c2 ? -1 : 1;
		if (c1 == '\0')
			return 0;
	}
}

int evutil_ascii_strncasecmp(const char *s1, const char *s2, size_t n)
{
	if (n == 0)
		return 0;
	int o = null_order("evutil_ascii_strncasecmp", s1, s2);
	if (o != 2)
		return o;
	for (; n; n--, s1++, s2++) {
		char c1 = ascii_lower(*s1), c2 = ascii_lower(*s2);
		if (c1 != c2)
			return c1 < c2 ? -1 : 1;
		if (c1 == '\0')
			return 0;
	}
	return 0;
}

ev_int64_t evutil_strtoll(const char *s, char **endptr, int base)
{
	if (!s) {
		GE_BADARG("evutil_strtoll", "NULL string");
		errno = EINVAL;
		return 0;
	}
	return (ev_int64_t)strtoll(s, endptr, base);
}

/* ---- sockets ----------------------------------------------------------- */

int evutil_socketpair(int family, int type, int protocol, evutil_socket_t fd[2])
{
	return socketpair(family, type, protocol, fd);
}

int evutil_closesocket(evutil_socket_t sock)
{
	return close(sock);
}

int evutil_make_socket_nonblocking(evutil_socket_t fd)
{
	int flags = fcntl(fd, F_GETFL, NULL);
	if (flags < 0) {
		ge_log(GE_LOG_WARN, "fcntl(%d, F_GETFL): %s", fd, strerror(errno));
		return -1;
	}
	/* Already nonblocking: no second system call, as in libevent. */
	if (!(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1) {
		ge_log(GE_LOG_WARN, "fcntl(%d, F_SETFL): %s", fd, strerror(errno));
		return -1;
	}
	return 0;
}

int evutil_make_socket_closeonexec(evutil_socket_t fd)
{
	int flags = fcntl(fd, F_GETFD, NULL);
	if (flags < 0) {
		ge_log(GE_LOG_WARN, "fcntl(%d, F_GETFD): %s", fd, strerror(errno));
		return -1;
	}
	if (!(flags & FD_CLOEXEC) && fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == -1) {
		ge_log(GE_LOG_WARN, "fcntl(%d, F_SETFD): %s", fd, strerror(errno));
		return -1;
	}
	return 0;
}

static int set_int_opt(evutil_socket_t sock, int level, int name)
{
	int one = 1;
	return setsockopt(sock, level, name, &one, (socklen_t)sizeof(one));
}

int evutil_make_listen_socket_reuseable(evutil_socket_t sock)
{
	return set_int_opt(sock, SOL_SOCKET, SO_REUSEADDR);
}

int evutil_make_listen_socket_reuseable_port(evutil_socket_t sock)
{
	return set_int_opt(sock, SOL_SOCKET, SO_REUSEPORT);
}

int evutil_make_listen_socket_ipv6only(evutil_socket_t sock)
{
	return set_int_opt(sock, IPPROTO_IPV6, IPV6_V6ONLY);
}

int evutil_make_tcp_listen_socket_deferred(evutil_socket_t sock)
{
	/* The option's value is a timeout in seconds; libevent passes 1. */
	return set_int_opt(sock, IPPROTO_TCP, TCP_DEFER_ACCEPT);
}

/* ---- addresses: text to binary ----------------------------------------- */

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int is_xdigit(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Dotted quad through sscanf, as libevent does: it accepts what %u accepts
 * (leading blanks, a '+', leading zeros, values that wrap to <= 255 in an
 * unsigned int) and rejects any trailing character. */
static int parse_quad(const char *s, unsigned q[4])
{
	char extra;
	if (sscanf(s, "%u.%u.%u.%u%c", &q[0], &q[1], &q[2], &q[3], &extra) != 4)
		return 0;
	return q[0] <= 255 && q[1] <= 255 && q[2] <= 255 && q[3] <= 255;
}

static int pton4(const char *src, struct in_addr *out)
{
	unsigned q[4];
	if (!parse_quad(src, q))
		return 0;
	out->s_addr = htonl(q[0] << 24 | q[1] << 16 | q[2] << 8 | q[3]);
	return 1;
}

/* libevent's own IPv6 parser rather than inet_pton(3): it differs at the
 * edges (a trailing ':' after eight groups is accepted, a group may be
 * written "0x12", the embedded dotted quad follows parse_quad's rules), and
 * programs see those differences. */
static int pton6(const char *src, struct in6_addr *out)
{
	uint16_t w[8];
	int n = 0, nset = 0, gap = -1;
	const char *dot = strchr(src, '.');
	const char *end;

	if (dot == src)
		return 0;
	if (!dot) {
		end = src + strlen(src);
	} else {
		/* The dotted quad starts at the digits just before the first dot. */
		unsigned q[4];
		for (end = dot; end > src && is_digit(end[-1]); end--)
			;
		if (!parse_quad(end, q))
			return 0;
		w[6] = (uint16_t)(q[0] << 8 | q[1]);
		w[7] = (uint16_t)(q[2] << 8 | q[3]);
		nset = 2;
	}

	while (src < end) {
		if (n > 7)
			return 0;
		if (is_xdigit(*src)) {
			char *next;
			long v = strtol(src, &next, 16);
			if (next - src > 4 || next == src || v < 0 || v > 0xffff)
				return 0;
			w[n++] = (uint16_t)v;
			nset++;
			src = next;
			if (*src != ':' && src != end)
				return 0;
			src++; /* the separator, or one past end */
		} else if (*src == ':' && n > 0 && gap == -1) {
			gap = n;
			src++;
		} else if (*src == ':' && n == 0 && src[1] == ':' && gap == -1) {
			gap = 0;
			src += 2;
		} else {
			return 0;
		}
	}

	if (nset > 8 || (nset == 8 && gap != -1) || (nset < 8 && gap == -1))
		return 0;
	if (gap >= 0) {
		/* Slide the groups after "::" to the right and zero the hole. */
		int tail = nset - (dot ? 2 : 0) - gap;
		int hole = 8 - nset;
		memmove(&w[gap + hole], &w[gap], sizeof(w[0]) * (size_t)tail);
		memset(&w[gap], 0, sizeof(w[0]) * (size_t)hole);
	}
	for (int i = 0; i < 8; i++) {
		out->s6_addr[2 * i] = (unsigned char)(w[i] >> 8);
		out->s6_addr[2 * i + 1] = (unsigned char)(w[i] & 0xff);
	}
	return 1;
}

static int pton(int af, const char *src, void *dst)
{
	if (af == AF_INET)
		return pton4(src, dst);
	if (af == AF_INET6)
		return pton6(src, dst);
	return -1;
}

static int pton_scope(int af, const char *src, void *dst, unsigned *indexp)
{
	char small[64], *copy;
	const char *pct;
	unsigned idx;
	size_t n;
	int r;

	*indexp = 0;
	if (af != AF_INET6 || !(pct = strchr(src, '%')))
		return pton(af, src, dst);

	/* The zone is an interface name or else a decimal index. */
	idx = if_nametoindex(pct + 1);
	if (idx == 0) {
		char *rest;
		idx = (unsigned)strtoul(pct + 1, &rest, 10);
		if (*rest != '\0')
			return 0;
	}
	/* libevent quirk: the index is stored even if the address part then
	 * turns out to be invalid. */
	*indexp = idx;

	n = (size_t)(pct - src);
	copy = n < sizeof(small) ? small : ge_malloc(n + 1);
	if (!copy) {
		ge_log(GE_LOG_WARN, "evutil_inet_pton_scope: out of memory");
		return -1;
	}
	memcpy(copy, src, n);
	copy[n] = '\0';
	r = pton6(copy, dst);
	if (copy != small)
		ge_free(copy);
	return r;
}

int evutil_inet_pton(int af, const char *src, void *dst)
{
	if ((af == AF_INET || af == AF_INET6) && (!src || !dst)) {
		GE_BADARG("evutil_inet_pton", src ? "NULL destination" : "NULL source");
		return -1;
	}
	return pton(af, src, dst);
}

int evutil_inet_pton_scope(int af, const char *src, void *dst, unsigned *indexp)
{
	if (!indexp || ((af == AF_INET || af == AF_INET6) && (!src || !dst))) {
		GE_BADARG("evutil_inet_pton_scope", "NULL argument");
		return -1;
	}
	return pton_scope(af, src, dst, indexp);
}

/* ---- addresses: binary to text ----------------------------------------- */

/* libevent quirk: the result is refused only when it is longer than len, so a
 * text of exactly len characters comes back cut short by one, with success. */
static const char *copy_out(const char *text, char *dst, size_t len)
{
	size_t n = strlen(text);
	if (n > len)
		return NULL;
	if (len) {
		if (n > len - 1)
			n = len - 1;
		memcpy(dst, text, n);
		dst[n] = '\0';
	}
	return dst;
}

static const char *ntop4(const struct in_addr *in, char *dst, size_t len)
{
	uint32_t a = ntohl(in->s_addr);
	int r = util_format(dst, len, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff,
	    (a >> 8) & 0xff, a & 0xff);
	if (r < 0 || (size_t)r >= len)
		return NULL;
	return dst;
}

static const char *ntop6(const struct in6_addr *in, char *dst, size_t len)
{
	const unsigned char *b = in->s6_addr;
	uint16_t w[8];
	char buf[64], *p = buf;
	int i;

	for (i = 0; i < 8; i++)
		w[i] = (uint16_t)(b[2 * i] << 8 | b[2 * i + 1]);

	/* IPv4-compatible (both low groups nonzero) and IPv4-mapped addresses
	 * end in a dotted quad. */
	if (!w[0] && !w[1] && !w[2] && !w[3] && !w[4] &&
	    ((!w[5] && w[6] && w[7]) || w[5] == 0xffff)) {
		if (!w[5])
			util_format(buf, sizeof(buf), "::%u.%u.%u.%u",
			    b[12], b[13], b[14], b[15]);
		else
			util_format(buf, sizeof(buf), "::%x:%u.%u.%u.%u",
			    (unsigned)w[5], b[12], b[13], b[14], b[15]);
		return copy_out(buf, dst, len);
	}

	/* The first longest run of two or more zero groups becomes "::". */
	int best = -1, bestlen = 1;
	for (i = 0; i < 8;) {
		if (w[i]) {
			i++;
			continue;
		}
		int start = i;
		while (i < 8 && !w[i])
			i++;
		if (i - start > bestlen) {
			best = start;
			bestlen = i - start;
		}
	}

	for (i = 0; i < 8; i++) {
		if (i == best) {
			if (i == 0)
				*p++ = ':';
			*p++ = ':';
			i += bestlen - 1;
			continue;
		}
		p += util_format(p, sizeof(buf) - (size_t)(p - buf), "%x",
		    (unsigned)w[i]);
		if (i != 7)
			*p++ = ':';
	}
	*p = '\0';
	return copy_out(buf, dst, len);
}

const char *evutil_inet_ntop(int af, const void *src, char *dst, size_t len)
{
	if (af != AF_INET && af != AF_INET6)
		return NULL;
	if (!src || (!dst && len)) {
		GE_BADARG("evutil_inet_ntop", src ? "NULL destination" : "NULL source");
		return NULL;
	}
	if (af == AF_INET)
		return ntop4(src, dst, len);
	return ntop6(src, dst, len);
}

/* ---- sockaddr helpers -------------------------------------------------- */

int evutil_parse_sockaddr_port(const char *str, struct sockaddr *out, int *outlen)
{
	char buf[128];
	const char *addr, *portstr = NULL, *colon;
	size_t n;
	int v6, port = 0;

	if (!str || !out || !outlen) {
		GE_BADARG("evutil_parse_sockaddr_port", "NULL argument");
		return -1;
	}

	/* Accepted: [v6]:port, [v6], v6, v4:port, v4. */
	colon = strchr(str, ':');
	if (str[0] == '[') {
		const char *close = strchr(str, ']');
		if (!close)
			return -1;
		n = (size_t)(close - str - 1);
		if (n > sizeof(buf) - 1)
			return -1;
		memcpy(buf, str + 1, n);
		buf[n] = '\0';
		addr = buf;
		/* libevent quirk: anything after ']' but ":port" is ignored. */
		if (close[1] == ':')
			portstr = close + 2;
		v6 = 1;
	} else if (colon && strchr(colon + 1, ':')) {
		addr = str;
		v6 = 1;
	} else if (colon) {
		n = (size_t)(colon - str);
		if (n > sizeof(buf) - 1)
			return -1;
		memcpy(buf, str, n);
		buf[n] = '\0';
		addr = buf;
		portstr = colon + 1;
		v6 = 0;
	} else {
		addr = str;
		v6 = 0;
	}

	if (portstr) {
		/* atoi, as in libevent: trailing junk is ignored and port 0 is
		 * refused. */
		port = atoi(portstr);
		if (port <= 0 || port > 65535)
			return -1;
	}

	if (v6) {
		struct sockaddr_in6 sin6;
		unsigned scope;
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons((uint16_t)port);
		if (pton_scope(AF_INET6, addr, &sin6.sin6_addr, &scope) != 1)
			return -1;
		if ((int)sizeof(sin6) > *outlen)
			return -1;
		sin6.sin6_scope_id = scope;
		memset(out, 0, (size_t)*outlen);
		memcpy(out, &sin6, sizeof(sin6));
		*outlen = (int)sizeof(sin6);
		return 0;
	}

	struct sockaddr_in sin;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	if (pton4(addr, &sin.sin_addr) != 1)
		return -1;
	if ((int)sizeof(sin) > *outlen)
		return -1;
	memset(out, 0, (size_t)*outlen);
	memcpy(out, &sin, sizeof(sin));
	*outlen = (int)sizeof(sin);
	return 0;
}

int evutil_sockaddr_cmp(const struct sockaddr *sa1, const struct sockaddr *sa2,
    int include_port)
{
	int r;

	if (!sa1 || !sa2) {
		GE_BADARG("evutil_sockaddr_cmp", "NULL address");
		return (!sa1 && !sa2) ? 0 : (sa1 ? 1 : -1);
	}
	if ((r = sa1->sa_family - sa2->sa_family) != 0)
		return r;

	if (sa1->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)sa1;
		const struct sockaddr_in *b = (const struct sockaddr_in *)sa2;
		/* libevent quirk: addresses and ports are compared as the raw
		 * network-order integers, which on this little-endian target is
		 * not numeric address order. */
		if (a->sin_addr.s_addr != b->sin_addr.s_addr)
			return a->sin_addr.s_addr < b->sin_addr.s_addr ? -1 : 1;
		if (include_port)
			return (int)a->sin_port - (int)b->sin_port;
		return 0;
	}
	if (sa1->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa1;
		const struct sockaddr_in6 *b = (const struct sockaddr_in6 *)sa2;
		if ((r = memcmp(a->sin6_addr.s6_addr, b->sin6_addr.s6_addr, 16)) != 0)
			return r;
		if (include_port)
			return (int)a->sin6_port - (int)b->sin6_port;
		return 0;
	}
	/* Other families cannot be compared; libevent calls them different. */
	return 1;
}

/* ---- getaddrinfo ------------------------------------------------------- */

/* libevent marks addrinfo lists it built itself (rather than the system's
 * getaddrinfo) with this ai_flags bit; glibc never sets it. */
#define UTIL_AI_OWN 0x80000000u

int evutil_getaddrinfo(const char *nodename, const char *servname,
    const struct evutil_addrinfo *hints_in, struct evutil_addrinfo **res)
{
	struct addrinfo hints;

	if (!res) {
		GE_BADARG("evutil_getaddrinfo", "NULL result pointer");
		errno = EINVAL;
		return EVUTIL_EAI_SYSTEM;
	}
	if (hints_in) {
		hints = *hints_in;
	} else {
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = PF_UNSPEC;
	}
	/* glibc implements every EVUTIL_AI_* flag natively (they are its AI_*
	 * values), including AI_ADDRCONFIG and the numeric-host and NULL-node
	 * cases, and fills in socktype and protocol itself; libevent on glibc
	 * therefore delegates entirely, and so does goevent. Only libevent's
	 * private bit must not reach the system. */
	hints.ai_flags = (int)((unsigned)hints.ai_flags & ~UTIL_AI_OWN);
	return getaddrinfo(nodename, servname, &hints, res);
}

void evutil_freeaddrinfo(struct evutil_addrinfo *ai)
{
	if (!ai) {
		GE_BADARG("evutil_freeaddrinfo", "NULL list");
		return;
	}
	if (!((unsigned)ai->ai_flags & UTIL_AI_OWN)) {
		freeaddrinfo(ai);
		return;
	}
	/* A list built by libevent itself (one node per allocation, address
	 * stored in the same block): released with the library allocator. */
	while (ai) {
		struct evutil_addrinfo *next = ai->ai_next;
		ge_free(ai->ai_canonname);
		ge_free(ai);
		ai = next;
	}
}

const char *evutil_gai_strerror(int err)
{
	/* libevent's own wording for the codes it names; glibc's otherwise. */
	switch (err) {
	case EVUTIL_EAI_CANCEL:
		return "Request canceled";
	case 0:
		return "No error";
	case EVUTIL_EAI_ADDRFAMILY:
		return "address family for nodename not supported";
	case EVUTIL_EAI_AGAIN:
		return "temporary failure in name resolution";
	case EVUTIL_EAI_BADFLAGS:
		return "invalid value for ai_flags";
	case EVUTIL_EAI_FAIL:
		return "non-recoverable failure in name resolution";
	case EVUTIL_EAI_FAMILY:
		return "ai_family not supported";
	case EVUTIL_EAI_MEMORY:
		return "memory allocation failure";
	case EVUTIL_EAI_NODATA:
		return "no address associated with nodename";
	case EVUTIL_EAI_NONAME:
		return "nodename nor servname provided, or not known";
	case EVUTIL_EAI_SERVICE:
		return "servname not supported for ai_socktype";
	case EVUTIL_EAI_SOCKTYPE:
		return "ai_socktype not supported";
	case EVUTIL_EAI_SYSTEM:
		return "system error";
	default:
		return gai_strerror(err);
	}
}

/* ---- monotonic timers -------------------------------------------------- */

struct evutil_monotonic_timer {
	/* The clock_gettime clock, or -1: gettimeofday held monotonic by
	 * ratcheting. A timer never configured reads clock 0 (CLOCK_REALTIME),
	 * as libevent's zeroed timer does. */
	int clock;
	struct timeval adjust; /* added to gettimeofday to undo backward steps */
	struct timeval last;   /* last time handed out by the ratchet */
};

struct evutil_monotonic_timer *evutil_monotonic_timer_new(void)
{
	struct evutil_monotonic_timer *t = ge_malloc(sizeof(*t));
	if (t)
		memset(t, 0, sizeof(*t));
	return t;
}

void evutil_monotonic_timer_free(struct evutil_monotonic_timer *timer)
{
	ge_free(timer);
}

int evutil_configure_monotonic_time(struct evutil_monotonic_timer *timer,
    int flags)
{
	struct timespec ts;

	if (!timer) {
		GE_BADARG("evutil_configure_monotonic_time", "NULL timer");
		return -1;
	}
	/* The ratchet state is deliberately left alone: libevent does not reset
	 * it when a timer is configured again. */
	if (!(flags & (EV_MONOT_PRECISE | EV_MONOT_FALLBACK)) &&
	    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) == 0) {
		timer->clock = CLOCK_MONOTONIC_COARSE;
		return 0;
	}
	if (!(flags & EV_MONOT_FALLBACK) && clock_gettime(CLOCK_MONOTONIC, &ts) == 0) {
		timer->clock = CLOCK_MONOTONIC;
		return 0;
	}
	timer->clock = -1;
	return 0;
}

int evutil_gettime_monotonic(struct evutil_monotonic_timer *timer,
    struct timeval *tp)
{
	struct timespec ts;

	if (!timer || !tp) {
		GE_BADARG("evutil_gettime_monotonic", timer ? "NULL timeval" : "NULL timer");
		return -1;
	}
	if (timer->clock >= 0) {
		if (clock_gettime(timer->clock, &ts) == -1)
			return -1;
		tp->tv_sec = ts.tv_sec;
		tp->tv_usec = ts.tv_nsec / 1000;
		return 0;
	}
	if (gettimeofday(tp, NULL) < 0)
		return -1;
	timeradd(tp, &timer->adjust, tp);
	if (timercmp(tp, &timer->last, <)) {
		/* The wall clock stepped back: absorb the step for good. */
		struct timeval back;
		timersub(&timer->last, tp, &back);
		timeradd(&timer->adjust, &back, &timer->adjust);
		*tp = timer->last;
	}
	timer->last = *tp;
	return 0;
}

/* ---- random bytes ------------------------------------------------------ */

/* Debian's libevent is built on glibc's arc4random (kernel getrandom plus a
 * per-thread ChaCha20 stream), which takes no seed file and no extra
 * entropy; goevent uses the same source and answers the seeding calls as
 * that build does. Older glibc has no arc4random: use getrandom directly. */
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 36))
#define UTIL_HAVE_ARC4RANDOM 1
#endif

int evutil_secure_rng_set_urandom_device_file(char *fname)
{
	(void)fname;
	return -1; /* no device file is read: the kernel is the source */
}

int evutil_secure_rng_init(void)
{
#ifdef UTIL_HAVE_ARC4RANDOM
	(void)arc4random(); /* let glibc set its state up now */
#endif
	return 0;
}

void evutil_secure_rng_get_bytes(void *buf, size_t n)
{
	if (!buf && n) {
		GE_BADARG("evutil_secure_rng_get_bytes", "NULL buffer");
		return;
	}
#ifdef UTIL_HAVE_ARC4RANDOM
	arc4random_buf(buf, n);
#else
	unsigned char *p = buf;
	while (n) {
		ssize_t r = getrandom(p, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			ge_log(GE_LOG_ERR, "evutil_secure_rng_get_bytes: getrandom: %s",
			    strerror(errno));
			abort(); /* handing out predictable bytes would be worse */
		}
		p += r;
		n -= (size_t)r;
	}
#endif
}

void evutil_secure_rng_add_bytes(const char *dat, size_t datlen)
{
	/* arc4random takes no outside entropy; Debian's build ignores it too. */
	(void)dat;
	(void)datlen;
}
