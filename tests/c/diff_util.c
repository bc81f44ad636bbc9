/*
 * diff_util.c: differential test of event2/util.h (the evutil_* helpers).
 *
 * Prints only results that are fully determined by the input (and by this
 * machine's interfaces and /etc files, which both runs share): return codes,
 * formatted text, parsed addresses, comparison signs, option values read back
 * from the kernel. Times and random bytes are reduced to properties
 * ("non-decreasing", "not all zero"). The trace must be byte-identical on
 * libevent and on goevent.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/util.h>

static int sign(int v) { return (v > 0) - (v < 0); }

/* Printable form of a possibly truncated C string. */
static const char *show(const char *s)
{
	static char out[4][256];
	static int slot;
	char *o = out[slot++ & 3];
	size_t j = 0;
	if (!s)
		return "(null)";
	o[j++] = '"';
	for (; *s && j < 240; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			o[j++] = (char)c;
		else
			j += (size_t)sprintf(o + j, "\\x%02x", c);
	}
	o[j++] = '"';
	o[j] = '\0';
	return o;
}

/* ---- snprintf / vsnprintf ---------------------------------------------- */

static int call_v(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = evutil_vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return r;
}

static void test_snprintf(void)
{
	static const size_t lens[] = { 0, 1, 2, 5, 11, 12, 13, 64 };
	printf("== snprintf\n");
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		char buf[80];
		memset(buf, '#', sizeof(buf));
		buf[sizeof(buf) - 1] = '\0';
		int r = evutil_snprintf(buf, lens[i], "%s-%d-%x", "hello", 42, 255);
		printf("snprintf len=%zu r=%d buf=%s byte_at_len=%d\n", lens[i], r,
		    lens[i] ? show(buf) : "(untouched)",
		    lens[i] < sizeof(buf) ? buf[lens[i]] : -1);
		memset(buf, '#', sizeof(buf));
		buf[sizeof(buf) - 1] = '\0';
		r = call_v(buf, lens[i], "%05.1f|%-4s|%c", 3.14159, "ab", 'z');
		printf("vsnprintf len=%zu r=%d buf=%s\n", lens[i], r,
		    lens[i] ? show(buf) : "(untouched)");
	}
	/* A zero length never touches the buffer, so NULL is fine there. */
	printf("snprintf NULL,0 r=%d\n", evutil_snprintf(NULL, 0, "%d", 12345));
	char big[8] = "junk";
	int r = evutil_snprintf(big, sizeof(big), "%s", "");
	printf("snprintf empty r=%d buf=%s\n", r, show(big));
}

/* ---- date_rfc1123 ------------------------------------------------------ */

static void test_date(void)
{
	static const time_t when[] = { 0, 784111777, 951782400, 1700000000,
		2147483647, 4102444800LL, 253402300799LL };
	static const size_t lens[] = { 0, 1, 10, 29, 30, 64 };
	printf("== date_rfc1123\n");
	for (size_t i = 0; i < sizeof(when) / sizeof(when[0]); i++) {
		struct tm tm;
		gmtime_r(&when[i], &tm);
		for (size_t j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
			char buf[64];
			memset(buf, 'X', sizeof(buf));
			buf[sizeof(buf) - 1] = '\0';
			int r = evutil_date_rfc1123(buf, lens[j], &tm);
			printf("t=%lld len=%zu r=%d %s\n", (long long)when[i], lens[j], r,
			    lens[j] ? show(buf) : "(untouched)");
		}
	}
	/* A hand-made tm: fields are printed as given, with no normalising. */
	struct tm odd;
	memset(&odd, 0, sizeof(odd));
	odd.tm_year = -1890; /* year 10 */
	odd.tm_mon = 11;
	odd.tm_mday = 5;
	odd.tm_wday = 6;
	odd.tm_hour = 7;
	odd.tm_min = 8;
	odd.tm_sec = 60;
	char buf[64];
	int r = evutil_date_rfc1123(buf, sizeof(buf), &odd);
	printf("odd tm r=%d %s\n", r, show(buf));
	/* Now: only the length is stable. */
	r = evutil_date_rfc1123(buf, sizeof(buf), NULL);
	printf("now r=%d strlen=%zu ends_GMT=%s\n", r, strlen(buf),
	    strcmp(buf + strlen(buf) - 4, " GMT") == 0 ? "yes" : "no");
}

/* ---- strcasecmp, strtoll ----------------------------------------------- */

static void test_strings(void)
{
	static const char *pairs[][2] = {
		{ "", "" }, { "abc", "ABC" }, { "abc", "abd" }, { "ABD", "abc" },
		{ "abc", "ab" }, { "ab", "abc" }, { "Hello World", "hELLO wORLD" },
		{ "[", "{" }, { "@", "`" }, { "Z", "z" }, { "_", "a" }, { "_", "A" },
		{ "\x80", "a" }, { "a", "\xff" }, { "\xc3\x89", "\xc3\xa9" },
		{ "Content-Length", "content-length" }, { "x-y", "X-Z" },
	};
	static const size_t ns[] = { 0, 1, 2, 3, 100 };
	printf("== strcasecmp\n");
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		printf("%s %s cmp=%d ncmp=", show(pairs[i][0]), show(pairs[i][1]),
		    sign(evutil_ascii_strcasecmp(pairs[i][0], pairs[i][1])));
		for (size_t j = 0; j < sizeof(ns) / sizeof(ns[0]); j++)
			printf("%s%zu:%d", j ? "," : "", ns[j],
			    sign(evutil_ascii_strncasecmp(pairs[i][0], pairs[i][1], ns[j])));
		printf("\n");
	}

	static const struct { const char *s; int base; } nums[] = {
		{ "0", 10 }, { "123", 10 }, { "-123", 10 }, { "  +42abc", 10 },
		{ "9223372036854775807", 10 }, { "9223372036854775808", 10 },
		{ "-9223372036854775808", 10 }, { "-9223372036854775809", 10 },
		{ "99999999999999999999999", 10 }, { "0x1f", 16 }, { "1f", 16 },
		{ "0x1f", 0 }, { "017", 0 }, { "017", 10 }, { "z", 36 }, { "", 10 },
		{ "abc", 10 }, { "-", 10 }, { " \t\n7", 10 }, { "7fffffffffffffff", 16 },
		{ "8000000000000000", 16 }, { "-0x10", 0 }, { "12", 1 }, { "12", 37 },
	};
	printf("== strtoll\n");
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		char *end = NULL;
		errno = 0;
		ev_int64_t v = evutil_strtoll(nums[i].s, &end, nums[i].base);
		int e = errno;
		printf("strtoll(%s, %d) = %lld end=", show(nums[i].s), nums[i].base,
		    (long long)v);
		/* With a bad base, what endptr holds is libc's business (glibc
		 * leaves it, sanitizer interceptors do not). */
		if (e == EINVAL)
			printf("n/a");
		else if (end)
			printf("+%td", end - nums[i].s);
		else
			printf("unset");
		printf(" errno=%s\n",
		    e == ERANGE ? "ERANGE" : e == EINVAL ? "EINVAL" : e ? "other" : "0");
	}
	printf("strtoll no endptr = %lld\n", (long long)evutil_strtoll("-77", NULL, 10));
}

/* ---- inet_pton / inet_ntop --------------------------------------------- */

static void print_bytes(const unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", b[i]);
}

static void test_pton(void)
{
	static const char *v4[] = {
		"1.2.3.4", "0.0.0.0", "255.255.255.255", "256.1.1.1", "1.2.3",
		"1.2.3.4.5", "1.2.3.4 ", " 1.2.3.4", "01.002.0003.4", "+1.2.3.4",
		"1.2.3.-4", "4294967297.0.0.1", "1.2.3.4x", "", "a.b.c.d", "127.1",
		"192.168.0.1", "1..2.3",
	};
	static const char *v6[] = {
		"::", "::1", "1::", "1::2", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:",
		"1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", ":1:2:3:4:5:6:7", "1:::2",
		"::ffff:1.2.3.4", "::1.2.3.4", "1:2:3:4:5:6:1.2.3.4",
		"1:2:3:4:5:6:7:1.2.3.4", "::ffff:1.2.3", "::ffff:256.1.1.1",
		"fe80::1", "FE80::ABCD:ef01", "12345::", "0x12::", "::fa1.2.3.4",
		"::1a.2.3.4", ".1.2.3.4", "1.2.3.4", "2001:db8::1:0:0:1",
		"::0000000001.2.3.4", "1::2::3", "g::", "::1 ", "0:0:0:0:0:0:0:0",
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fe80::1%1", "",
	};
	printf("== inet_pton\n");
	for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		struct in_addr a;
		int r = evutil_inet_pton(AF_INET, v4[i], &a);
		printf("pton4 %s r=%d", show(v4[i]), r);
		if (r == 1) {
			printf(" ");
			print_bytes((unsigned char *)&a, 4);
		}
		printf("\n");
	}
	for (size_t i = 0; i < sizeof(v6) / sizeof(v6[0]); i++) {
		struct in6_addr a;
		int r = evutil_inet_pton(AF_INET6, v6[i], &a);
		printf("pton6 %s r=%d", show(v6[i]), r);
		if (r == 1) {
			printf(" ");
			print_bytes(a.s6_addr, 16);
		}
		printf("\n");
	}
	unsigned char junk[16];
	printf("pton af=AF_UNIX r=%d\n", evutil_inet_pton(AF_UNIX, "1.2.3.4", junk));

	static const struct { int af; const char *s; } sc[] = {
		{ AF_INET6, "fe80::1%1" }, { AF_INET6, "fe80::1%lo" },
		{ AF_INET6, "fe80::1%42" }, { AF_INET6, "fe80::1%bogus0" },
		{ AF_INET6, "fe80::1%" }, { AF_INET6, "::1" }, { AF_INET6, "zz%7" },
		{ AF_INET6, "fe80::1%7x" }, { AF_INET, "1.2.3.4" },
		{ AF_INET, "1.2.3.4%1" }, { AF_UNIX, "x" },
		{ AF_INET6, "0000000000000000000000000000000000000000000000000000000000000000000000::1.2.3.4%3" },
		{ AF_INET6, "::00000000000000000000000000000000000000000000000000000000000000000000001.2.3.4%3" },
	};
	printf("== inet_pton_scope\n");
	for (size_t i = 0; i < sizeof(sc) / sizeof(sc[0]); i++) {
		unsigned char buf[16];
		unsigned idx = 12345;
		memset(buf, 0, sizeof(buf));
		int r = evutil_inet_pton_scope(sc[i].af, sc[i].s, buf, &idx);
		printf("scope af=%d %s r=%d idx=%u", sc[i].af, show(sc[i].s), r, idx);
		if (r == 1) {
			printf(" ");
			print_bytes(buf, sc[i].af == AF_INET ? 4 : 16);
		}
		printf("\n");
	}
}

static void test_ntop(void)
{
	static const char *v6[] = {
		"::", "::1", "1::", "1::2", "1:2:3:4:5:6:7:8", "::ffff:1.2.3.4",
		"::1.2.3.4", "::0.0.1.1", "::0.1.0.0", "::ffff:0.0.0.0",
		"1:0:0:2:0:0:0:3", "1:0:0:2:0:0:3:4", "1:0:2:0:3:0:4:0",
		"0:0:1:0:0:1:0:0", "fe80::1", "2001:db8::ff00:42:8329",
		"0:0:0:0:0:1:0:0", "0:0:0:0:1:ffff:1.2.3.4", "ffff::",
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "0:1:0:1:0:1:0:1",
	};
	static const size_t lens[] = { 0, 1, 3, 4, 7, 8, 9, 15, 16, 46 };
	printf("== inet_ntop\n");
	for (size_t i = 0; i < sizeof(v6) / sizeof(v6[0]); i++) {
		struct in6_addr a;
		char out[64];
		if (inet_pton(AF_INET6, v6[i], &a) != 1) {
			printf("bad fixture %s\n", v6[i]);
			continue;
		}
		const char *r = evutil_inet_ntop(AF_INET6, &a, out, sizeof(out));
		printf("ntop6 %s -> %s\n", v6[i], r ? show(r) : "NULL");
		/* Short buffers: including the one exactly as long as the text. */
		size_t full = r ? strlen(out) : 0;
		size_t try[] = { full - 1, full, full + 1 };
		for (int k = 0; r && k < 3; k++) {
			char small[64];
			memset(small, '@', sizeof(small));
			small[sizeof(small) - 1] = '\0';
			const char *r2 = evutil_inet_ntop(AF_INET6, &a, small, try[k]);
			printf("  len=%zu -> %s buf=%s\n", try[k], r2 ? "dst" : "NULL",
			    show(small));
		}
	}
	static const char *v4[] = { "1.2.3.4", "0.0.0.0", "255.255.255.255",
		"10.200.3.45" };
	for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		struct in_addr a;
		inet_pton(AF_INET, v4[i], &a);
		for (size_t j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
			char small[64];
			memset(small, '@', sizeof(small));
			small[sizeof(small) - 1] = '\0';
			const char *r = evutil_inet_ntop(AF_INET, &a, small, lens[j]);
			printf("ntop4 %s len=%zu -> %s buf=%s\n", v4[i], lens[j],
			    r ? "dst" : "NULL", show(small));
		}
	}
	char out[64];
	unsigned char zero[16] = { 0 };
	printf("ntop af=AF_UNIX -> %s\n",
	    evutil_inet_ntop(AF_UNIX, zero, out, sizeof(out)) ? "dst" : "NULL");
}

/* ---- sockaddr parse / compare ------------------------------------------ */

static void print_sa(const struct sockaddr *sa)
{
	char text[64];
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)sa;
		inet_ntop(AF_INET, &s->sin_addr, text, sizeof(text));
		printf("inet %s port %u", text, ntohs(s->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)sa;
		inet_ntop(AF_INET6, &s->sin6_addr, text, sizeof(text));
		printf("inet6 %s port %u scope %u flow %u", text, ntohs(s->sin6_port),
		    s->sin6_scope_id, s->sin6_flowinfo);
	} else {
		printf("family %d", sa->sa_family);
	}
}

static void test_parse_sockaddr(void)
{
	static const char *in[] = {
		"1.2.3.4", "1.2.3.4:80", "1.2.3.4:0", "1.2.3.4:65535", "1.2.3.4:65536",
		"1.2.3.4:-1", "1.2.3.4:80abc", "1.2.3.4:", "1.2.3.4:4295032832",
		"::1", "[::1]", "[::1]:8080", "[::1]:", "[::1]junk", "[::1",
		"[1.2.3.4]:80", "::ffff:1.2.3.4", "[fe80::1%1]:99", "fe80::1%3",
		"[fe80::1%lo]", "localhost:80", "", ":80", "[]:80", "1.2.3.4:80:90",
		"[::1]:0", "300.1.1.1:5",
		"[0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000::1]",
	};
	printf("== parse_sockaddr_port\n");
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		struct sockaddr_storage ss;
		memset(&ss, 0xa5, sizeof(ss));
		int len = (int)sizeof(ss);
		int r = evutil_parse_sockaddr_port(in[i], (struct sockaddr *)&ss, &len);
		printf("parse %s r=%d len=%d", show(in[i]), r, len);
		if (r == 0) {
			printf(" ");
			print_sa((struct sockaddr *)&ss);
			/* The rest of the caller's buffer is zeroed. */
			unsigned char *b = (unsigned char *)&ss;
			int tailzero = 1;
			for (size_t k = (size_t)len; k < sizeof(ss); k++)
				if (b[k])
					tailzero = 0;
			printf(" tail_zeroed=%d", tailzero);
		}
		printf("\n");
	}
	/* Too little room. */
	struct sockaddr_in6 s6;
	int len = (int)sizeof(struct sockaddr_in);
	int r = evutil_parse_sockaddr_port("[::1]:80", (struct sockaddr *)&s6, &len);
	printf("parse small6 r=%d len=%d\n", r, len);
	len = (int)sizeof(struct sockaddr_in) - 1;
	r = evutil_parse_sockaddr_port("1.2.3.4:80", (struct sockaddr *)&s6, &len);
	printf("parse small4 r=%d len=%d\n", r, len);
}

static void test_sockaddr_cmp(void)
{
	static const char *addrs[] = {
		"1.2.3.4:80", "1.2.3.4:81", "1.2.3.5:80", "2.2.3.4:1", "4.3.2.1:80",
		"[::1]:80", "[::1]:81", "[::2]:1", "[fe80::1]:80", "0.0.0.0:1",
	};
	enum { N = sizeof(addrs) / sizeof(addrs[0]) };
	struct sockaddr_storage ss[N];
	printf("== sockaddr_cmp\n");
	for (int i = 0; i < N; i++) {
		int len = (int)sizeof(ss[i]);
		if (evutil_parse_sockaddr_port(addrs[i], (struct sockaddr *)&ss[i], &len)) {
			printf("bad fixture %s\n", addrs[i]);
			return;
		}
	}
	for (int i = 0; i < N; i++) {
		printf("%-14s", addrs[i]);
		for (int j = 0; j < N; j++)
			printf(" %2d/%2d",
			    sign(evutil_sockaddr_cmp((struct sockaddr *)&ss[i],
			        (struct sockaddr *)&ss[j], 0)),
			    sign(evutil_sockaddr_cmp((struct sockaddr *)&ss[i],
			        (struct sockaddr *)&ss[j], 1)));
		printf("\n");
	}
	struct sockaddr_storage un;
	memset(&un, 0, sizeof(un));
	un.ss_family = AF_UNIX;
	printf("unix vs unix %d, unix vs inet %d, inet vs unix %d\n",
	    sign(evutil_sockaddr_cmp((struct sockaddr *)&un, (struct sockaddr *)&un, 1)),
	    sign(evutil_sockaddr_cmp((struct sockaddr *)&un, (struct sockaddr *)&ss[0], 1)),
	    sign(evutil_sockaddr_cmp((struct sockaddr *)&ss[0], (struct sockaddr *)&un, 1)));
}

/* ---- getaddrinfo ------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void gai_case(const char *node, const char *serv, int use_hints,
    int family, int socktype, int protocol, int flags)
{
	struct evutil_addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = socktype;
	hints.ai_protocol = protocol;
	hints.ai_flags = flags;
	int r = evutil_getaddrinfo(node, serv, use_hints ? &hints : NULL, &res);
	printf("gai node=%s serv=%s", node ? show(node) : "NULL", serv ? show(serv) : "NULL");
	if (use_hints)
		printf(" fam=%d type=%d proto=%d flags=%#x", family, socktype, protocol,
		    (unsigned)flags);
	else
		printf(" nohints");
	printf(" -> %d (%s)\n", r, evutil_gai_strerror(r));
	if (r != 0)
		return;

	char *lines[64];
	int n = 0;
	for (struct evutil_addrinfo *ai = res; ai && n < 64; ai = ai->ai_next) {
		char text[64] = "?";
		unsigned port = 0;
		if (ai->ai_family == AF_INET) {
			struct sockaddr_in *s = (void *)ai->ai_addr;
			inet_ntop(AF_INET, &s->sin_addr, text, sizeof(text));
			port = ntohs(s->sin_port);
		} else if (ai->ai_family == AF_INET6) {
			struct sockaddr_in6 *s = (void *)ai->ai_addr;
			inet_ntop(AF_INET6, &s->sin6_addr, text, sizeof(text));
			port = ntohs(s->sin6_port);
		}
		lines[n] = malloc(200);
		snprintf(lines[n], 200, "  fam=%d type=%d proto=%d addrlen=%u %s port %u canon=%s",
		    ai->ai_family, ai->ai_socktype, ai->ai_protocol,
		    (unsigned)ai->ai_addrlen, text, port,
		    ai->ai_canonname ? ai->ai_canonname : "-");
		n++;
	}
	qsort(lines, (size_t)n, sizeof(lines[0]), cmp_str);
	for (int i = 0; i < n; i++) {
		printf("%s\n", lines[i]);
		free(lines[i]);
	}
	evutil_freeaddrinfo(res);
}

static void test_getaddrinfo(void)
{
	const int NH = EVUTIL_AI_NUMERICHOST, PA = EVUTIL_AI_PASSIVE,
	    AC = EVUTIL_AI_ADDRCONFIG, NS = EVUTIL_AI_NUMERICSERV,
	    CN = EVUTIL_AI_CANONNAME;
	printf("== getaddrinfo\n");
	printf("flags passive=%#x canon=%#x numerichost=%#x numericserv=%#x "
	    "v4mapped=%#x all=%#x addrconfig=%#x\n",
	    EVUTIL_AI_PASSIVE, EVUTIL_AI_CANONNAME, EVUTIL_AI_NUMERICHOST,
	    EVUTIL_AI_NUMERICSERV, EVUTIL_AI_V4MAPPED, EVUTIL_AI_ALL,
	    EVUTIL_AI_ADDRCONFIG);

	static const char *hosts[] = { "127.0.0.1", "1.2.3.4", "::1", "fe80::1",
		"::ffff:10.0.0.1", "localhost", NULL };
	static const int fams[] = { AF_UNSPEC, AF_INET, AF_INET6 };
	const int flagsets[] = { 0, NH, PA, AC, NH | PA, NH | AC, PA | AC,
		NH | PA | AC };
	for (size_t h = 0; h < sizeof(hosts) / sizeof(hosts[0]); h++)
		for (size_t f = 0; f < sizeof(fams) / sizeof(fams[0]); f++)
			for (size_t k = 0; k < sizeof(flagsets) / sizeof(flagsets[0]); k++)
				gai_case(hosts[h], "80", 1, fams[f], SOCK_STREAM, 0,
				    flagsets[k]);

	/* Socket type and protocol inference, services, no hints. */
	gai_case("127.0.0.1", "8080", 1, AF_INET, 0, 0, NH);
	gai_case("127.0.0.1", "8080", 1, AF_INET, SOCK_DGRAM, 0, NH);
	gai_case("127.0.0.1", "8080", 1, AF_INET, 0, IPPROTO_UDP, NH);
	gai_case("127.0.0.1", "8080", 1, AF_INET, 0, IPPROTO_TCP, NH);
	gai_case("127.0.0.1", "http", 1, AF_INET, SOCK_STREAM, 0, NH);
	gai_case("127.0.0.1", "http", 1, AF_INET, SOCK_STREAM, 0, NH | NS);
	gai_case("127.0.0.1", "nosuchservice", 1, AF_INET, SOCK_STREAM, 0, NH);
	gai_case("127.0.0.1", "65536", 1, AF_INET, SOCK_STREAM, 0, NH);
	gai_case("127.0.0.1", NULL, 1, AF_INET, SOCK_STREAM, 0, NH);
	gai_case("127.0.0.1", "80", 0, 0, 0, 0, 0);
	gai_case("::1", "443", 0, 0, 0, 0, 0);
	gai_case(NULL, "80", 0, 0, 0, 0, 0);
	gai_case(NULL, NULL, 1, AF_UNSPEC, SOCK_STREAM, 0, PA);
	gai_case("not-a-number.invalid", "80", 1, AF_UNSPEC, SOCK_STREAM, 0, NH);
	gai_case("1.2.3", "80", 1, AF_INET, SOCK_STREAM, 0, NH);
	gai_case("1.2.3.4", "80", 1, AF_INET6, SOCK_STREAM, 0, NH);
	gai_case("::1", "80", 1, AF_INET, SOCK_STREAM, 0, NH);
	gai_case("1.2.3.4", "80", 1, AF_UNIX, SOCK_STREAM, 0, NH);
	gai_case("1.2.3.4", "80", 1, AF_INET, 12345, 0, NH);
	gai_case("127.0.0.1", "80", 1, AF_INET, SOCK_STREAM, 0, NH | CN);
	/* libevent's private "allocated by libevent" bit must never reach the
	 * system resolver (glibc would call the flags invalid). */
	gai_case("127.0.0.1", "80", 1, AF_INET, SOCK_STREAM, 0, (int)(NH | 0x80000000u));
	gai_case("127.0.0.1", "80", 1, AF_INET, SOCK_STREAM, 0, 0x4000000);

	printf("== gai_strerror\n");
	static const int codes[] = { 0, EVUTIL_EAI_ADDRFAMILY, EVUTIL_EAI_AGAIN,
		EVUTIL_EAI_BADFLAGS, EVUTIL_EAI_FAIL, EVUTIL_EAI_FAMILY,
		EVUTIL_EAI_MEMORY, EVUTIL_EAI_NODATA, EVUTIL_EAI_NONAME,
		EVUTIL_EAI_SERVICE, EVUTIL_EAI_SOCKTYPE, EVUTIL_EAI_SYSTEM,
		EVUTIL_EAI_CANCEL, -12, -100, -101, -102, -103, -104, -105, -901,
		-911, 1, 12345, -90002 };
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		printf("gai_strerror(%d) = %s\n", codes[i], evutil_gai_strerror(codes[i]));
}

/* ---- sockets ----------------------------------------------------------- */

static int getint(int fd, int level, int name)
{
	int v = -1;
	socklen_t l = sizeof(v);
	if (getsockopt(fd, level, name, &v, &l) < 0)
		return -1000 - errno;
	return v;
}

static const char *errname(int e)
{
	switch (e) {
	case 0: return "0";
	case EBADF: return "EBADF";
	case EINVAL: return "EINVAL";
	case ENOTSOCK: return "ENOTSOCK";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
	case ENOPROTOOPT: return "ENOPROTOOPT";
	case EFAULT: return "EFAULT";
	default: return "other";
	}
}

static void test_sockets(void)
{
	evutil_socket_t sv[2] = { -1, -1 };
	printf("== socketpair\n");
	int r = evutil_socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	printf("socketpair r=%d valid=%d\n", r, sv[0] >= 0 && sv[1] >= 0);
	const char msg[] = "ping through the pair";
	char back[64] = { 0 };
	ssize_t w = write(sv[0], msg, sizeof(msg));
	ssize_t rd = read(sv[1], back, sizeof(back));
	printf("round trip wrote=%zd read=%zd equal=%d\n", w, rd,
	    rd == (ssize_t)sizeof(msg) && memcmp(msg, back, sizeof(msg)) == 0);
	w = write(sv[1], "pong", 4);
	rd = read(sv[0], back, sizeof(back));
	printf("reverse wrote=%zd read=%zd text=%.*s\n", w, rd, (int)rd, back);

	int dg[2];
	r = evutil_socketpair(AF_UNIX, SOCK_DGRAM, 0, dg);
	printf("socketpair dgram r=%d\n", r);
	if (r == 0) {
		evutil_closesocket(dg[0]);
		evutil_closesocket(dg[1]);
	}
	int bad[2];
	errno = 0;
	r = evutil_socketpair(AF_INET, SOCK_STREAM, 0, bad);
	printf("socketpair AF_INET r=%d errno=%s\n", r, errname(r ? errno : 0));

	printf("== nonblocking / closeonexec\n");
	/* Each call is sequenced before its read-back: printf's arguments
	 * are evaluated in no fixed order. */
	printf("nonblock before=%d\n", !!(fcntl(sv[0], F_GETFL) & O_NONBLOCK));
	r = evutil_make_socket_nonblocking(sv[0]);
	printf("make_nonblocking r=%d after=%d\n", r,
	    !!(fcntl(sv[0], F_GETFL) & O_NONBLOCK));
	r = evutil_make_socket_nonblocking(sv[0]);
	printf("make_nonblocking again r=%d still=%d\n", r,
	    !!(fcntl(sv[0], F_GETFL) & O_NONBLOCK));
	errno = 0;
	rd = read(sv[0], back, sizeof(back));
	printf("empty nonblocking read=%zd eagain=%d\n", rd, errno == EAGAIN);
	printf("other end untouched nonblock=%d\n", !!(fcntl(sv[1], F_GETFL) & O_NONBLOCK));
	printf("cloexec before=%d\n", !!(fcntl(sv[1], F_GETFD) & FD_CLOEXEC));
	r = evutil_make_socket_closeonexec(sv[1]);
	printf("make_closeonexec r=%d after=%d\n", r,
	    !!(fcntl(sv[1], F_GETFD) & FD_CLOEXEC));
	r = evutil_make_socket_closeonexec(sv[1]);
	printf("make_closeonexec again r=%d still=%d\n", r,
	    !!(fcntl(sv[1], F_GETFD) & FD_CLOEXEC));
	printf("other end untouched cloexec=%d\n", !!(fcntl(sv[0], F_GETFD) & FD_CLOEXEC));

	/* Works on any descriptor, not only sockets, and keeps other flags. */
	int p[2];
	if (pipe(p) == 0) {
		fcntl(p[0], F_SETFL, O_APPEND);
		r = evutil_make_socket_nonblocking(p[0]);
		int fl = fcntl(p[0], F_GETFL);
		printf("pipe nonblocking r=%d nonblock=%d append_kept=%d\n", r,
		    !!(fl & O_NONBLOCK), !!(fl & O_APPEND));
		r = evutil_make_socket_closeonexec(p[1]);
		printf("pipe closeonexec r=%d flag=%d\n", r,
		    !!(fcntl(p[1], F_GETFD) & FD_CLOEXEC));
		close(p[0]);
		close(p[1]);
	}

	int closed = dup(sv[0]);
	close(closed);
	errno = 0;
	r = evutil_make_socket_nonblocking(closed);
	printf("nonblocking bad fd r=%d errno=%s\n", r, errname(errno));
	errno = 0;
	r = evutil_make_socket_closeonexec(closed);
	printf("closeonexec bad fd r=%d errno=%s\n", r, errname(errno));

	printf("closesocket r=%d\n", evutil_closesocket(sv[0]));
	errno = 0;
	r = evutil_closesocket(sv[0]);
	printf("closesocket again r=%d errno=%s\n", r, errname(errno));
	printf("peer sees eof read=%zd\n", read(sv[1], back, sizeof(back)));
	evutil_closesocket(sv[1]);

	printf("== listen socket options\n");
	int s = socket(AF_INET, SOCK_STREAM, 0);
	printf("reuseaddr before=%d\n", getint(s, SOL_SOCKET, SO_REUSEADDR));
	r = evutil_make_listen_socket_reuseable(s);
	printf("reuseable r=%d after=%d\n", r, getint(s, SOL_SOCKET, SO_REUSEADDR));
	printf("reuseport before=%d\n", getint(s, SOL_SOCKET, SO_REUSEPORT));
	r = evutil_make_listen_socket_reuseable_port(s);
	printf("reuseable_port r=%d after=%d\n", r, getint(s, SOL_SOCKET, SO_REUSEPORT));
	printf("defer_accept before=%d\n", getint(s, IPPROTO_TCP, TCP_DEFER_ACCEPT));
	r = evutil_make_tcp_listen_socket_deferred(s);
	/* The kernel stores the timeout in retransmission units and reads it
	 * back rounded, so only "set" is portable across kernels. */
	printf("deferred r=%d after_nonzero=%d\n", r,
	    getint(s, IPPROTO_TCP, TCP_DEFER_ACCEPT) > 0);
	errno = 0;
	r = evutil_make_listen_socket_ipv6only(s);
	printf("ipv6only on inet socket r=%d errno=%s\n", r, errname(r ? errno : 0));
	/* The options really are in force: a second socket may share the
	 * port only because both set SO_REUSEPORT. */
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r = bind(s, (struct sockaddr *)&sin, sizeof(sin));
	getsockname(s, (struct sockaddr *)&sin, &sl);
	printf("bind r=%d listen r=%d\n", r, listen(s, 8));
	int s2 = socket(AF_INET, SOCK_STREAM, 0);
	r = bind(s2, (struct sockaddr *)&sin, sizeof(sin));
	printf("second bind without reuseport r=%d\n", r);
	close(s2);
	s2 = socket(AF_INET, SOCK_STREAM, 0);
	int rp = evutil_make_listen_socket_reuseable_port(s2);
	r = bind(s2, (struct sockaddr *)&sin, sizeof(sin));
	printf("second bind with reuseport set=%d bind r=%d\n", rp, r);
	close(s2);
	close(s);

	s = socket(AF_INET6, SOCK_STREAM, 0);
	if (s < 0) {
		printf("no inet6 sockets\n");
	} else {
		int before = getint(s, IPPROTO_IPV6, IPV6_V6ONLY);
		r = evutil_make_listen_socket_ipv6only(s);
		printf("ipv6only r=%d before_ok=%d after=%d\n", r, before == 0 || before == 1,
		    getint(s, IPPROTO_IPV6, IPV6_V6ONLY));
		close(s);
	}

	s = socket(AF_INET, SOCK_DGRAM, 0);
	errno = 0;
	r = evutil_make_tcp_listen_socket_deferred(s);
	printf("deferred on udp r=%d errno=%s\n", r, errname(r ? errno : 0));
	close(s);

	errno = 0;
	r = evutil_make_listen_socket_reuseable(closed);
	printf("reuseable bad fd r=%d errno=%s\n", r, errname(errno));
	errno = 0;
	r = evutil_make_listen_socket_reuseable_port(closed);
	printf("reuseable_port bad fd r=%d errno=%s\n", r, errname(errno));
	errno = 0;
	r = evutil_make_listen_socket_ipv6only(closed);
	printf("ipv6only bad fd r=%d errno=%s\n", r, errname(errno));
	errno = 0;
	r = evutil_make_tcp_listen_socket_deferred(closed);
	printf("deferred bad fd r=%d errno=%s\n", r, errname(errno));
	int fd = open("/dev/null", O_RDONLY);
	errno = 0;
	r = evutil_make_listen_socket_reuseable(fd);
	printf("reuseable on file r=%d errno=%s\n", r, errname(errno));
	close(fd);
}

/* ---- monotonic timers, random bytes ------------------------------------ */

static void test_monotonic(void)
{
	static const int flagsets[] = { 0, EV_MONOT_PRECISE, EV_MONOT_FALLBACK,
		EV_MONOT_PRECISE | EV_MONOT_FALLBACK };
	printf("== monotonic\n");
	for (size_t i = 0; i < sizeof(flagsets) / sizeof(flagsets[0]); i++) {
		struct evutil_monotonic_timer *t = evutil_monotonic_timer_new();
		printf("flags=%d new=%s", flagsets[i], t ? "ok" : "NULL");
		if (!t) {
			printf("\n");
			continue;
		}
		int r = evutil_configure_monotonic_time(t, flagsets[i]);
		struct timeval prev = { 0, 0 }, now;
		int ok = 1, fails = 0, range = 1;
		for (int k = 0; k < 2000; k++) {
			if (evutil_gettime_monotonic(t, &now) != 0) {
				fails++;
				continue;
			}
			if (now.tv_usec < 0 || now.tv_usec >= 1000000)
				range = 0;
			if (k && evutil_timercmp(&now, &prev, <))
				ok = 0;
			prev = now;
		}
		/* Reconfiguring an in-use timer is allowed. */
		int r2 = evutil_configure_monotonic_time(t, flagsets[i]);
		struct timeval later;
		int r3 = evutil_gettime_monotonic(t, &later);
		printf(" configure=%d failures=%d usec_in_range=%s non-decreasing: %s "
		    "reconfigure=%d after=%s\n", r, fails, range ? "yes" : "no",
		    ok ? "yes" : "no", r2,
		    r3 == 0 && !evutil_timercmp(&later, &prev, <) ? "non-decreasing" : "went back");
		evutil_monotonic_timer_free(t);
	}
	/* A timer used before it is configured reads the wall clock: its
	 * zeroed clock id is CLOCK_REALTIME. */
	struct evutil_monotonic_timer *t = evutil_monotonic_timer_new();
	struct timeval tv = { 0, 0 };
	int r = evutil_gettime_monotonic(t, &tv);
	printf("unconfigured r=%d reads wall clock: %s\n", r,
	    tv.tv_sec > 1000000000 ? "yes" : "no");
	evutil_monotonic_timer_free(t);
	evutil_monotonic_timer_free(NULL);
	printf("free(NULL) ok\n");
}

static void test_rng(void)
{
	printf("== secure rng\n");
	printf("init r=%d\n", evutil_secure_rng_init());
	printf("init again r=%d\n", evutil_secure_rng_init());
	static const size_t sizes[] = { 0, 1, 3, 16, 17, 255, 4096, 65537 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		unsigned char *buf = calloc(1, n + 16);
		memset(buf + n, 0xee, 16);
		evutil_secure_rng_get_bytes(buf, n);
		int nonzero = 0, guard_ok = 1;
		for (size_t k = 0; k < n; k++)
			nonzero |= buf[k] != 0;
		for (size_t k = n; k < n + 16; k++)
			guard_ok &= buf[k] == 0xee;
		/* Fewer than 16 bytes may be all zero by chance; don't claim. */
		printf("get_bytes n=%zu %s no_overrun=%d\n", n,
		    n < 16 ? "(too short to judge)" : nonzero ? "not all zero" : "ALL ZERO",
		    guard_ok);
		free(buf);
	}
	unsigned char a[32], b[32];
	evutil_secure_rng_get_bytes(a, sizeof(a));
	evutil_secure_rng_get_bytes(b, sizeof(b));
	printf("two draws differ: %s\n", memcmp(a, b, sizeof(a)) ? "yes" : "no");
	evutil_secure_rng_add_bytes("some entropy", 12);
	evutil_secure_rng_get_bytes(a, sizeof(a));
	printf("after add_bytes differ: %s\n", memcmp(a, b, sizeof(a)) ? "yes" : "no");
	char dev[] = "/dev/urandom";
	printf("set_urandom_device_file r=%d\n",
	    evutil_secure_rng_set_urandom_device_file(dev));
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_snprintf();
	test_date();
	test_strings();
	test_pton();
	test_ntop();
	test_parse_sockaddr();
	test_sockaddr_cmp();
	test_getaddrinfo();
	test_sockets();
	test_monotonic();
	test_rng();
	printf("done\n");
	return 0;
}
