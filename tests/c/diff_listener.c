/*
 * diff_listener: evconnlistener (listener.h).
 *
 * Binding 127.0.0.1:0 with LEV_OPT_CLOSE_ON_FREE|LEV_OPT_REUSEABLE, accepting
 * (several connections in one wakeup), the accepted socket's flags,
 * disable/enable, LEV_OPT_DISABLED, set_cb (to NULL and back), the error
 * callback on EMFILE, get_fd/get_base, evconnlistener_new on an existing
 * socket with and without CLOSE_ON_FREE, and freeing from inside the accept
 * callback. No port numbers or addresses beyond the family are printed.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

static const char *fdstate(int fd)
{
	errno = 0;
	if (fcntl(fd, F_GETFD) == -1 && errno == EBADF)
		return "closed";
	return "open";
}

struct acc {
	const char *tag;
	int n;
	int fds[16];
	int free_listener;
	int disable_after;
};

static void accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int socklen, void *arg)
{
	struct acc *a = arg;
	struct sockaddr_in *sin = (struct sockaddr_in *)sa;
	int fl = fcntl(fd, F_GETFL);
	int fdfl = fcntl(fd, F_GETFD);
	printf("  [%s] accept #%d: family %s socklen %d loopback %d nonblock %d "
	    "cloexec %d\n", a->tag, a->n + 1,
	    sa->sa_family == AF_INET ? "inet" : "other", socklen,
	    sin->sin_addr.s_addr == htonl(INADDR_LOOPBACK),
	    (fl & O_NONBLOCK) != 0, (fdfl & FD_CLOEXEC) != 0);
	if (a->n < 16)
		a->fds[a->n] = fd;
	a->n++;
	if (a->free_listener) {
		printf("  [%s] freeing the listener inside its callback\n", a->tag);
		evconnlistener_free(lev);
	} else if (a->disable_after && a->n == a->disable_after) {
		evconnlistener_disable(lev);
	}
}

static void error_cb(struct evconnlistener *lev, void *arg)
{
	int e = EVUTIL_SOCKET_ERROR();
	printf("  [%s] error cb: %s\n", ((struct acc *)arg)->tag,
	    e == EMFILE ? "EMFILE" : e == ENFILE ? "ENFILE" : "other");
	evconnlistener_disable(lev);
	event_base_loopbreak(evconnlistener_get_base(lev));
}

static int bound_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	if (getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
		return -1;
	return ntohs(sin.sin_port);
}

static int dial(int port)
{
	struct sockaddr_in sin;
	int c = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((unsigned short)port);
	if (connect(c, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		perror("connect");
		exit(1);
	}
	return c;
}

static void spin(struct event_base *base, int ms)
{
	struct timeval tv = {0, ms * 1000};
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

static void close_all(struct acc *a)
{
	for (int i = 0; i < a->n && i < 16; i++)
		close(a->fds[i]);
	a->n = 0;
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct event_base *base = event_base_new();
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

	printf("new_bind\n");
	printf("  backlog 0 -> %s\n", evconnlistener_new_bind(base, accept_cb, NULL,
	    LEV_OPT_CLOSE_ON_FREE, 0, (struct sockaddr *)&sin, sizeof(sin)) ? "listener" : "NULL");
	struct acc a = {"bind", 0, {0}, 0, 0};
	struct evconnlistener *lev = evconnlistener_new_bind(base, accept_cb, &a,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, -1,
	    (struct sockaddr *)&sin, sizeof(sin));
	int lfd = evconnlistener_get_fd(lev);
	int port = bound_port(lfd);
	int one = 0;
	socklen_t ol = sizeof(one);
	getsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, &ol);
	printf("  listener %s, fd valid %d, port bound %d, reuseaddr %d, base ok %d\n",
	    lev ? "yes" : "no", lfd >= 0, port > 0, one != 0,
	    evconnlistener_get_base(lev) == base);
	int fl = fcntl(lfd, F_GETFL);
	printf("  listening socket nonblocking %d\n", (fl & O_NONBLOCK) != 0);

	int c1 = dial(port), c2 = dial(port), c3 = dial(port);
	spin(base, 30);
	printf("  accepted %d (three dials before one loop)\n", a.n);
	close(c1); close(c2); close(c3);
	close_all(&a);

	printf("disable/enable\n");
	printf("  disable -> %d\n", evconnlistener_disable(lev));
	c1 = dial(port);
	spin(base, 30);
	printf("  accepted while disabled %d\n", a.n);
	printf("  enable -> %d\n", evconnlistener_enable(lev));
	spin(base, 30);
	printf("  accepted after enable %d\n", a.n);
	close(c1);
	close_all(&a);

	printf("disable from inside the callback\n");
	a.disable_after = 1;
	c1 = dial(port); c2 = dial(port);
	spin(base, 30);
	printf("  accepted %d\n", a.n);
	evconnlistener_enable(lev);
	spin(base, 30);
	printf("  after enable %d\n", a.n);
	a.disable_after = 0;
	close(c1); close(c2);
	close_all(&a);
	evconnlistener_enable(lev);

	printf("set_cb\n");
	evconnlistener_set_cb(lev, NULL, NULL);
	c1 = dial(port);
	spin(base, 30);
	/* With no callback libevent still accepts, and closes the new
	 * connection at once: the dialer sees EOF. */
	char ch;
	printf("  accepted with NULL cb %d, dialer reads %zd\n", a.n, read(c1, &ch, 1));
	struct acc b = {"cb2", 0, {0}, 0, 0};
	evconnlistener_set_cb(lev, accept_cb, &b);
	spin(base, 30);
	printf("  accepted by new cb %d, old cb %d\n", b.n, a.n);
	close(c1);
	close_all(&b);
	/* set_cb(NULL) then enable: the connection is again accepted and
	 * closed, so the restored callback sees nothing. */
	evconnlistener_set_cb(lev, NULL, NULL);
	printf("  enable with NULL cb -> %d\n", evconnlistener_enable(lev));
	c1 = dial(port);
	spin(base, 30);
	evconnlistener_set_cb(lev, accept_cb, &b);
	spin(base, 30);
	printf("  accepted after cb restored %d\n", b.n);
	close(c1);
	close_all(&b);

	printf("error callback\n");
	evconnlistener_set_error_cb(lev, error_cb);
	evconnlistener_set_cb(lev, accept_cb, &b);
	struct rlimit old, low;
	getrlimit(RLIMIT_NOFILE, &old);
	c1 = dial(port);
	/* No descriptor left for accept(): EMFILE is not retriable, so the
	 * error callback runs. */
	int probe = dup(0);
	low = old;
	low.rlim_cur = (rlim_t)probe;
	close(probe);
	setrlimit(RLIMIT_NOFILE, &low);
	spin(base, 200);
	setrlimit(RLIMIT_NOFILE, &old);
	printf("  accepted during EMFILE %d\n", b.n);
	evconnlistener_enable(lev);
	spin(base, 30);
	printf("  accepted after limit restored %d\n", b.n);
	close(c1);
	close_all(&b);
	evconnlistener_set_error_cb(lev, NULL);

	printf("free\n");
	evconnlistener_free(lev);
	printf("  CLOSE_ON_FREE listener fd %s\n", fdstate(lfd));

	printf("LEV_OPT_DISABLED, blocking, close-on-exec\n");
	struct acc d = {"disabled", 0, {0}, 0, 0};
	lev = evconnlistener_new_bind(base, accept_cb, &d,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_DISABLED |
	    LEV_OPT_LEAVE_SOCKETS_BLOCKING | LEV_OPT_CLOSE_ON_EXEC, 8,
	    (struct sockaddr *)&sin, sizeof(sin));
	port = bound_port(evconnlistener_get_fd(lev));
	c1 = dial(port);
	spin(base, 30);
	printf("  accepted while created disabled %d\n", d.n);
	evconnlistener_enable(lev);
	spin(base, 30);
	printf("  accepted after enable %d\n", d.n);
	close(c1);
	close_all(&d);
	evconnlistener_free(lev);

	printf("evconnlistener_new on an existing socket\n");
	for (int close_on_free = 0; close_on_free < 2; close_on_free++) {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		sin.sin_port = 0;
		bind(s, (struct sockaddr *)&sin, sizeof(sin));
		evutil_make_socket_nonblocking(s);
		struct acc e = {close_on_free ? "existing-cof" : "existing", 0, {0}, 1, 0};
		lev = evconnlistener_new(base, accept_cb, &e,
		    close_on_free ? LEV_OPT_CLOSE_ON_FREE : 0, 16, s);
		printf("  listener %s, get_fd matches %d\n", lev ? "yes" : "no",
		    evconnlistener_get_fd(lev) == s);
		c1 = dial(bound_port(s));
		spin(base, 30);
		printf("  accepted %d, socket after free in callback: %s\n", e.n,
		    fdstate(s));
		close(c1);
		close_all(&e);
		if (!close_on_free)
			close(s);
	}
	/* backlog 0 on evconnlistener_new means "already listening". */
	int s = socket(AF_INET, SOCK_STREAM, 0);
	sin.sin_port = 0;
	bind(s, (struct sockaddr *)&sin, sizeof(sin));
	listen(s, 4);
	evutil_make_socket_nonblocking(s);
	struct acc f = {"prelistened", 0, {0}, 0, 0};
	lev = evconnlistener_new(base, accept_cb, &f, LEV_OPT_CLOSE_ON_FREE, 0, s);
	c1 = dial(bound_port(s));
	spin(base, 30);
	printf("  pre-listened socket accepted %d\n", f.n);
	close(c1);
	close_all(&f);
	evconnlistener_free(lev);
	printf("  fd %s\n", fdstate(s));

	event_base_free(base);
	return 0;
}
