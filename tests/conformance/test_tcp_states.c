/* SPDX-License-Identifier: MIT */
/*
 * test_tcp_states.c - TCP connection set-up: connect, listen, accept4, names
 *
 * Refused and non-blocking connects and what poll, SO_ERROR and a repeated
 * connect say at each step; a handshake held in progress (a listener with
 * backlog 0 whose accept queue is full drops further SYNs, so the client
 * stays in SYN_SENT until its SYN is retransmitted 1 s after room is
 * made); the backlog; accept4's flags; getsockname and getpeername on both
 * ends.  Every scenario runs on the kernel and on usock (see sockapi.h), on
 * lo; expected values are the kernel's (Linux 6.18).  Scenarios close every
 * socket they open.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <netinet/in.h>

#include "sockapi.h"
#include "conf_util.h"
#include "conf_tcp.h"

#define PORT CONF_TCP_PORT
#define POLL_ALL (POLLIN | POLLPRI | POLLOUT | POLLRDHUP)

/* A socket listening on ip:PORT with backlog; *a (if not NULL) gets ip:PORT. */
static int tcp_listener(const struct sockapi *api, const char *ip, int backlog,
			struct sockaddr_in *a)
{
	if (a)
		*a = sin4(ip, PORT);
	return conf_tcp_listener(api, ip, PORT, backlog, false, 0);
}

static void assert_revents(const struct sockapi *api, short got, short want)
{
	cr_assert_eq(got, want, "%s: poll revents %#x, want %#x", api->name, got, want);
}

/* ---- connect ---------------------------------------------------------------- */

/*
 * A connect that reported its failure leaves the socket closed but
 * reusable: its address is back to 0.0.0.0 (tcp_disconnect), the port it
 * had is still reported.
 */
static void assert_refused_name(const struct sockapi *api, int fd)
{
	struct sockaddr_in n = conf_local_of(api, fd);

	conf_assert_ip(n.sin_addr, "0.0.0.0");
	cr_assert_neq(n.sin_port, 0, "%s: no port after a refused connect", api->name);
}

/*
 * connect (no ID: the spec's "what a user expects"): a blocking connect to
 * a port with no listener is ECONNREFUSED, and so is the next; SO_ERROR is
 * then 0 (the call reported it).  The same socket can then connect to a
 * listener.
 */
CONFORMANCE(tcp_states, connect_refused, .timeout = 10)
{
	struct sockaddr_in a, none = sin4("127.0.0.1", PORT + 1);
	int l, c, s;

	l = tcp_listener(api, "127.0.0.1", 4, &a);
	c = conf_tcp_socket(api, 0);
	FAILS(api->connect(c, SA(&none), sizeof(none)), ECONNREFUSED);
	CONF_RET(conf_tcp_so_error(api, c), 0);
	assert_refused_name(api, c);
	FAILS(api->connect(c, SA(&none), sizeof(none)), ECONNREFUSED);
	CONF_RET(api->connect(c, SA(&a), sizeof(a)), 0);
	s = OK(api->accept4(l, NULL, NULL, 0));
	CONF_RET(api->send(c, "r", 1, 0), 1);
	CONF_RET(api->recv(s, (char[4]){ 0 }, 4, 0), 1);
	api->close(s);
	api->close(c);
	api->close(l);
}

/*
 * connect (no ID): a non-blocking connect to a port with no listener is
 * EINPROGRESS; the RST makes poll say IN|OUT|ERR|HUP|RDHUP and SO_ERROR
 * ECONNREFUSED (then 0, and ERR goes).
 * The next connect then reports ECONNABORTED (__inet_stream_connect finds
 * the socket closed with no error left) and resets it: the one after
 * starts a new attempt (EINPROGRESS).  Had SO_ERROR not been read, that
 * next connect would report ECONNREFUSED itself.  The local address stays
 * 127.0.0.1 until that connect resets it to 0.0.0.0 (tcp_disconnect).
 */
CONFORMANCE(tcp_states, connect_refused_nonblocking, .timeout = 10)
{
	struct sockaddr_in none = sin4("127.0.0.1", PORT + 1), n;
	int c;

	c = conf_tcp_socket(api, SOCK_NONBLOCK);
	FAILS(api->connect(c, SA(&none), sizeof(none)), EINPROGRESS);
	cr_assert(conf_tcp_poll(api, c, POLLOUT, 1000) & POLLERR);
	assert_revents(api, conf_tcp_poll(api, c, POLL_ALL, 0),
		       POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDHUP);
	CONF_RET(conf_tcp_so_error(api, c), ECONNREFUSED);
	CONF_RET(conf_tcp_so_error(api, c), 0);
	assert_revents(api, conf_tcp_poll(api, c, POLL_ALL, 0),
		       POLLIN | POLLOUT | POLLHUP | POLLRDHUP);
	n = conf_local_of(api, c);
	conf_assert_ip(n.sin_addr, "127.0.0.1");
	cr_assert_neq(n.sin_port, 0);
	FAILS(api->connect(c, SA(&none), sizeof(none)), ECONNABORTED);
	assert_refused_name(api, c);
	FAILS(api->connect(c, SA(&none), sizeof(none)), EINPROGRESS);
	cr_assert(conf_tcp_poll(api, c, POLLOUT, 1000) & POLLERR);
	FAILS(api->connect(c, SA(&none), sizeof(none)), ECONNREFUSED);
	CONF_RET(conf_tcp_so_error(api, c), 0);
	FAILS(api->connect(c, SA(&none), sizeof(none)), EINPROGRESS);
	api->close(c);
}

/*
 * R-ERR-EPIPE R-SEND-1: the error of a refused non-blocking connect is
 * reported once, by whichever call comes first: send gives
 * ECONNREFUSED (no SIGPIPE) then EPIPE; recv gives ECONNREFUSED then EOF.
 */
CONFORMANCE(tcp_states, connect_refused_error_goes_to_first_call, .timeout = 10)
{
	struct sockaddr_in none = sin4("127.0.0.1", PORT + 1);
	struct sigaction old;
	char b[4];
	int c;

	conf_count_signal(SIGPIPE, false, &old);
	c = conf_tcp_socket(api, SOCK_NONBLOCK);
	FAILS(api->connect(c, SA(&none), sizeof(none)), EINPROGRESS);
	cr_assert(conf_tcp_poll(api, c, POLLOUT, 1000) & POLLERR);
	FAILS(api->send(c, "x", 1, 0), ECONNREFUSED);
	cr_assert_eq(conf_signals(), 0);
	FAILS(api->send(c, "x", 1, MSG_NOSIGNAL), EPIPE);
	api->close(c);

	c = conf_tcp_socket(api, SOCK_NONBLOCK);
	FAILS(api->connect(c, SA(&none), sizeof(none)), EINPROGRESS);
	cr_assert(conf_tcp_poll(api, c, POLLOUT, 1000) & POLLERR);
	FAILS(api->recv(c, b, sizeof(b), 0), ECONNREFUSED);
	CONF_RET(api->recv(c, b, sizeof(b), 0), 0);
	CONF_RET(conf_tcp_so_error(api, c), 0);
	cr_assert_eq(conf_signals(), 0);
	sigaction(SIGPIPE, &old, NULL);
	api->close(c);
}

/*
 * R-NOTE-SELECT R-ERR-EISCONN: a non-blocking connect to a listener is
 * EINPROGRESS even on lo; then POLLOUT alone, SO_ERROR 0.  The first
 * connect after that returns 0 (it finds the handshake done and marks the
 * socket connected), every later one EISCONN.
 */
CONFORMANCE(tcp_states, connect_nonblocking, .timeout = 10)
{
	struct sockaddr_in a;
	int l, c, s;

	l = tcp_listener(api, "127.0.0.1", 4, &a);
	c = conf_tcp_socket(api, SOCK_NONBLOCK);
	FAILS(api->connect(c, SA(&a), sizeof(a)), EINPROGRESS);
	cr_assert(conf_tcp_poll(api, c, POLLOUT, 1000) & POLLOUT);
	assert_revents(api, conf_tcp_poll(api, c, POLL_ALL, 0), POLLOUT);
	CONF_RET(conf_tcp_so_error(api, c), 0);
	CONF_RET(api->connect(c, SA(&a), sizeof(a)), 0);
	FAILS(api->connect(c, SA(&a), sizeof(a)), EISCONN);
	FAILS(api->connect(c, SA(&a), sizeof(a)), EISCONN);
	s = OK(api->accept4(l, NULL, NULL, 0));
	CONF_RET(api->send(c, "n", 1, 0), 1);
	cr_assert(conf_tcp_poll(api, s, POLLIN, 1000) & POLLIN);
	CONF_RET(api->recv(s, (char[4]){ 0 }, 4, 0), 1);
	api->close(s);
	api->close(c);
	api->close(l);
}

/*
 * Fill the accept queue of l (backlog 0: one connection fits) with a
 * connection nobody accepts, then start a non-blocking connect whose SYN
 * the listener drops.  Return: the connecting socket; *filler the first.
 */
static int stuck_connect(const struct sockapi *api, int l, const struct sockaddr_in *a,
			 int *filler)
{
	int c;

	*filler = conf_tcp_socket(api, 0);
	OK(api->connect(*filler, (const struct sockaddr *)a, sizeof(*a)));
	c = conf_tcp_socket(api, SOCK_NONBLOCK);
	FAILS(api->connect(c, (const struct sockaddr *)a, sizeof(*a)), EINPROGRESS);
	cr_assert_eq(conf_tcp_poll(api, c, POLL_ALL, 100), 0, "%s: connected through a full queue",
		     api->name);
	return c;
}

/*
 * R-ERR-EALREADY R-ERR-EAGAIN R-ERR-EISCONN: while a non-blocking connect
 * is in progress (SYN_SENT) poll reports nothing; connect again, to the
 * same or another address, is EALREADY; send and recv are EAGAIN;
 * getpeername ENOTCONN while getsockname already shows the local address.
 * A blocking send waits for the handshake (sk_stream_wait_connect): with
 * SO_SNDTIMEO 200 ms it ends EAGAIN.  Once the accept queue has room the
 * retransmitted SYN completes the connection: POLLOUT, SO_ERROR 0, connect
 * 0 then EISCONN.
 */
CONFORMANCE(tcp_states, connect_ealready, .timeout = 15)
{
	struct sockaddr_in a, other = sin4("127.0.0.1", PORT + 1), me, peer;
	struct timeval tv = { 0, 200000 };
	socklen_t pl = sizeof(peer);
	double t0, dt;
	int l, f, c, s, fs;

	l = tcp_listener(api, "127.0.0.1", 0, &a);
	c = stuck_connect(api, l, &a, &f);
	FAILS(api->connect(c, SA(&a), sizeof(a)), EALREADY);
	FAILS(api->connect(c, SA(&other), sizeof(other)), EALREADY);
	FAILS(api->send(c, "x", 1, 0), EAGAIN);
	FAILS(api->recv(c, (char[4]){ 0 }, 4, 0), EAGAIN);
	FAILS(api->getpeername(c, SA(&peer), &pl), ENOTCONN);
	me = conf_local_of(api, c);
	conf_assert_ip(me.sin_addr, "127.0.0.1");
	cr_assert_neq(me.sin_port, 0);
	OK(api->setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)));
	OK(api->fcntl(c, F_SETFL, OK(api->fcntl(c, F_GETFL, 0)) & ~O_NONBLOCK));
	t0 = conf_now_ms();
	FAILS(api->send(c, "x", 1, 0), EAGAIN);
	dt = conf_now_ms() - t0;
	cr_assert(dt >= 150 && dt < 900, "%s: blocking send gave up after %.0f ms", api->name,
		  dt);

	fs = OK(api->accept4(l, NULL, NULL, 0));
	api->close(fs);
	api->close(f);
	cr_assert(conf_tcp_poll(api, c, POLLOUT, 3000) & POLLOUT, "%s: never connected", api->name);
	CONF_RET(conf_tcp_so_error(api, c), 0);
	CONF_RET(api->connect(c, SA(&a), sizeof(a)), 0);
	FAILS(api->connect(c, SA(&a), sizeof(a)), EISCONN);
	s = OK(api->accept4(l, NULL, NULL, 0));
	peer = conf_peer_of(api, s);
	cr_assert(peer.sin_port == me.sin_port && peer.sin_addr.s_addr == me.sin_addr.s_addr);
	CONF_RET(api->send(c, "e", 1, 0), 1);
	CONF_RET(api->recv(s, (char[4]){ 0 }, 4, 0), 1);
	api->close(s);
	api->close(c);
	api->close(l);
}

/*
 * (no ID) shutdown() of a socket whose connect is in progress aborts it
 * (inet_shutdown disconnects a SYN_SENT socket, whatever `how`): it
 * returns 0, poll says OUT|ERR|HUP, SO_ERROR is ECONNRESET, and a new
 * connect starts over (EINPROGRESS).
 */
CONFORMANCE(tcp_states, shutdown_aborts_connect, .timeout = 15)
{
	struct sockaddr_in a;
	int l, f, c;

	l = tcp_listener(api, "127.0.0.1", 0, &a);
	c = stuck_connect(api, l, &a, &f);
	CONF_RET(api->shutdown(c, SHUT_WR), 0);
	assert_revents(api, conf_tcp_poll(api, c, POLL_ALL, 0), POLLOUT | POLLERR | POLLHUP);
	CONF_RET(conf_tcp_so_error(api, c), ECONNRESET);
	FAILS(api->connect(c, SA(&a), sizeof(a)), EINPROGRESS);
	FAILS(api->connect(c, SA(&a), sizeof(a)), EALREADY);
	CONF_RET(api->shutdown(c, SHUT_RD), 0);
	CONF_RET(conf_tcp_so_error(api, c), ECONNRESET);
	api->close(c);
	api->close(f);
	api->close(l);
}

/*
 * R-ERR-EISCONN R-ERR-EINVAL: connect on a connected socket is EISCONN
 * (same peer or another), and on a listening one too; listen or bind on a
 * connected socket is EINVAL.  connect(AF_UNSPEC) dissolves the
 * connection (the peer gets RST: ECONNRESET; this side: poll
 * OUT|ERR|HUP, getpeername ENOTCONN, the port kept with address 0.0.0.0)
 * and the socket can connect again.
 */
CONFORMANCE(tcp_states, connect_eisconn_and_unspec, .timeout = 10)
{
	struct sockaddr_in a, other = sin4("127.0.0.2", PORT), me, n, p;
	struct sockaddr_in un = { .sin_family = AF_UNSPEC };
	socklen_t pl = sizeof(p);
	int l, c, s;

	l = tcp_listener(api, "0.0.0.0", 4, &a);
	a = sin4("127.0.0.1", PORT);
	FAILS(api->connect(l, SA(&a), sizeof(a)), EISCONN);
	c = conf_tcp_socket(api, 0);
	OK(api->connect(c, SA(&a), sizeof(a)));
	s = OK(api->accept4(l, NULL, NULL, 0));
	FAILS(api->connect(c, SA(&a), sizeof(a)), EISCONN);
	FAILS(api->connect(c, SA(&other), sizeof(other)), EISCONN);
	FAILS(api->listen(c, 4), EINVAL);
	FAILS(api->listen(s, 4), EINVAL);
	FAILS(api->bind(c, SA(&other), sizeof(other)), EINVAL);

	me = conf_local_of(api, c);
	CONF_RET(api->connect(c, SA(&un), sizeof(un)), 0);
	cr_assert(conf_tcp_poll(api, s, POLLERR, 1000) & POLLERR, "%s: peer saw no RST", api->name);
	FAILS(api->recv(s, (char[4]){ 0 }, 4, 0), ECONNRESET);
	assert_revents(api, conf_tcp_poll(api, c, POLL_ALL, 0), POLLOUT | POLLERR | POLLHUP);
	FAILS(api->getpeername(c, SA(&p), &pl), ENOTCONN);
	n = conf_local_of(api, c);
	conf_assert_ip(n.sin_addr, "0.0.0.0");
	cr_assert_eq(n.sin_port, me.sin_port);
	api->close(s);

	CONF_RET(api->connect(c, SA(&other), sizeof(other)), 0);
	s = OK(api->accept4(l, NULL, NULL, 0));
	p = conf_peer_of(api, c);
	conf_assert_addr(&p, "127.0.0.2", PORT);
	api->close(s);
	api->close(c);
	api->close(l);
}

/*
 * R-ERR-EINVAL (connect's, as R-SEND-5's): a 3- or 15-byte address is EINVAL,
 * an AF_INET6 one EAFNOSUPPORT; broadcast and multicast destinations are
 * ENETUNREACH (tcp_v4_connect refuses such routes); AF_UNSPEC on a fresh
 * socket is a no-op returning 0.
 */
CONFORMANCE(tcp_states, connect_bad_addresses, .timeout = 10)
{
	struct sockaddr_in a = sin4("127.0.0.1", PORT), bc = sin4("255.255.255.255", PORT);
	struct sockaddr_in mc = sin4("224.0.0.1", PORT), un = { .sin_family = AF_UNSPEC };
	struct sockaddr_in6 six = { .sin6_family = AF_INET6, .sin6_port = htons(PORT) };
	int c;

	c = conf_tcp_socket(api, 0);
	FAILS(api->connect(c, SA(&a), 3), EINVAL);
	FAILS(api->connect(c, SA(&a), sizeof(a) - 1), EINVAL);
	FAILS(api->connect(c, SA(&six), sizeof(six)), EAFNOSUPPORT);
	FAILS(api->connect(c, SA(&bc), sizeof(bc)), ENETUNREACH);
	FAILS(api->connect(c, SA(&mc), sizeof(mc)), ENETUNREACH);
	CONF_RET(api->connect(c, SA(&un), sizeof(un)), 0);
	FAILS(api->connect(c, SA(&a), sizeof(a)), ECONNREFUSED);
	api->close(c);
}

/* ---- listen and accept ------------------------------------------------------- */

/*
 * (no ID) The backlog bounds the accept queue at backlog + 1 (sk_acceptq_is_full
 * is `>`): with listen(0) one connection completes without accept and the
 * next SYN is dropped.  listen() again on the listening socket changes
 * the backlog in place: after listen(1) the retransmitted SYN gets in (2
 * queued), a third client is stuck until one is accepted.
 */
CONFORMANCE(tcp_states, listen_backlog, .timeout = 20)
{
	struct sockaddr_in a;
	int l, c[3], s;

	l = tcp_listener(api, "127.0.0.1", 0, &a);
	c[0] = conf_tcp_socket(api, 0);
	OK(api->connect(c[0], SA(&a), sizeof(a)));
	c[1] = conf_tcp_socket(api, SOCK_NONBLOCK);
	FAILS(api->connect(c[1], SA(&a), sizeof(a)), EINPROGRESS);
	cr_assert_eq(conf_tcp_poll(api, c[1], POLLOUT, 100), 0, "%s: backlog 0 took two",
		     api->name);
	CONF_RET(api->listen(l, 1), 0);
	cr_assert(conf_tcp_poll(api, c[1], POLLOUT, 3000) & POLLOUT, "%s: listen(1) did not let "
		  "the second in", api->name);
	c[2] = conf_tcp_socket(api, SOCK_NONBLOCK);
	FAILS(api->connect(c[2], SA(&a), sizeof(a)), EINPROGRESS);
	cr_assert_eq(conf_tcp_poll(api, c[2], POLLOUT, 100), 0, "%s: backlog 1 took three",
		     api->name);
	s = OK(api->accept4(l, NULL, NULL, 0));
	api->close(s);
	cr_assert(conf_tcp_poll(api, c[2], POLLOUT, 3000) & POLLOUT, "%s: third never got in",
		  api->name);
	for (int i = 0; i < 2; i++)
		api->close(OK(api->accept4(l, NULL, NULL, 0)));
	for (int i = 0; i < 3; i++)
		api->close(c[i]);
	api->close(l);
}

/* Assert fd's O_NONBLOCK and FD_CLOEXEC are as wanted (and it is O_RDWR). */
static void assert_fd_flags(const struct sockapi *api, int fd, bool nonblock, bool cloexec)
{
	int fl = OK(api->fcntl(fd, F_GETFL, 0)), fdfl = OK(api->fcntl(fd, F_GETFD, 0));

	cr_assert_eq(fl & O_ACCMODE, O_RDWR, "%s: F_GETFL %#x", api->name, fl);
	cr_assert_eq(!!(fl & O_NONBLOCK), nonblock, "%s: F_GETFL %#x", api->name, fl);
	cr_assert_eq(!!(fdfl & FD_CLOEXEC), cloexec, "%s: F_GETFD %#x", api->name, fdfl);
}

/*
 * (no ID) accept4's flags: SOCK_NONBLOCK gives the new socket O_NONBLOCK (its
 * recv is EAGAIN), SOCK_CLOEXEC FD_CLOEXEC; without them the new socket
 * has neither, even when the listener is O_NONBLOCK (Linux does not
 * inherit file flags).  Any other flag is EINVAL; so is accept on a socket
 * that is not listening (fresh, connected, shut down); an empty
 * non-blocking listener is EAGAIN.  SO_ACCEPTCONN tells the listener.
 */
CONFORMANCE(tcp_states, accept4_flags, .timeout = 10)
{
	struct sockaddr_in a;
	int l, c[4], s[4], u, v = -1;
	socklen_t vl = sizeof(v);
	static const int flags[4] = { 0, SOCK_NONBLOCK, SOCK_CLOEXEC,
				      SOCK_NONBLOCK | SOCK_CLOEXEC };

	l = tcp_listener(api, "127.0.0.1", 8, &a);
	OK(api->getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl));
	cr_assert_eq(v, 1);
	for (int i = 0; i < 4; i++) {
		c[i] = conf_tcp_socket(api, 0);
		OK(api->connect(c[i], SA(&a), sizeof(a)));
		s[i] = OK(api->accept4(l, NULL, NULL, flags[i]));
		assert_fd_flags(api, s[i], flags[i] & SOCK_NONBLOCK, flags[i] & SOCK_CLOEXEC);
	}
	FAILS(api->recv(s[1], (char[4]){ 0 }, 4, 0), EAGAIN);
	OK(api->getsockopt(s[0], SOL_SOCKET, SO_ACCEPTCONN, &v, &vl));
	cr_assert_eq(v, 0);

	OK(api->fcntl(l, F_SETFL, O_NONBLOCK));
	FAILS(api->accept4(l, NULL, NULL, 0), EAGAIN);
	FAILS(api->accept4(l, NULL, NULL, SOCK_NONBLOCK), EAGAIN);
	u = conf_tcp_socket(api, 0);
	OK(api->connect(u, SA(&a), sizeof(a)));
	cr_assert(conf_tcp_poll(api, l, POLLIN, 1000) & POLLIN);
	FAILS(api->accept4(l, NULL, NULL, 0x1000), EINVAL);
	FAILS(api->accept4(l, NULL, NULL, MSG_DONTWAIT), EINVAL);
	v = OK(api->accept4(l, NULL, NULL, 0));
	assert_fd_flags(api, v, false, false);
	api->close(v);
	api->close(u);

	u = conf_tcp_socket(api, 0);
	FAILS(api->accept4(u, NULL, NULL, 0), EINVAL);
	FAILS(api->accept4(c[0], NULL, NULL, 0), EINVAL);
	FAILS(api->accept4(s[0], NULL, NULL, 0), EINVAL);
	CONF_RET(api->shutdown(l, SHUT_RDWR), 0);
	assert_revents(api, conf_tcp_poll(api, l, POLL_ALL, 0), POLLOUT | POLLHUP);
	FAILS(api->accept4(l, NULL, NULL, 0), EINVAL);
	api->close(u);
	for (int i = 0; i < 4; i++) {
		api->close(s[i]);
		api->close(c[i]);
	}
	api->close(l);
}

/*
 * (no ID) getsockname/getpeername on every kind of TCP socket.  Fresh: 0.0.0.0:0,
 * no peer (ENOTCONN).  listen() without bind picks an ephemeral port
 * (ip_local_port_range, 32768-60999) on 0.0.0.0.  A listener on
 * 0.0.0.0:PORT reached at 127.0.0.2: the client's local address is
 * 127.0.0.1 (lo's preferred source) and its peer 127.0.0.2:PORT; the
 * accepted socket's local address is the one dialled, 127.0.0.2:PORT, its
 * peer the client's local address, which accept4 also returns.  An addrlen
 * shorter than the address truncates the copy but reports the full 16.
 */
CONFORMANCE(tcp_states, names_on_both_ends, .timeout = 10)
{
	struct sockaddr_in fresh, n, p, from, dst = sin4("127.0.0.2", PORT);
	uint8_t small[8];
	socklen_t fl = sizeof(from), sl = 4, pl = sizeof(p);
	int u, al, l, c, s, c2, s2, c3, s3;

	u = conf_tcp_socket(api, 0);
	fresh = conf_local_of(api, u);
	conf_assert_addr(&fresh, "0.0.0.0", 0);
	FAILS(api->getpeername(u, SA(&p), &pl), ENOTCONN);
	al = conf_tcp_socket(api, 0);
	OK(api->listen(al, 1));
	n = conf_local_of(api, al);
	conf_assert_ip(n.sin_addr, "0.0.0.0");
	cr_assert(ntohs(n.sin_port) >= 32768 && ntohs(n.sin_port) <= 60999,
		  "%s: listen autobound to port %u", api->name, ntohs(n.sin_port));

	l = tcp_listener(api, "0.0.0.0", 4, NULL);
	n = conf_local_of(api, l);
	conf_assert_addr(&n, "0.0.0.0", PORT);
	pl = sizeof(p);
	FAILS(api->getpeername(l, SA(&p), &pl), ENOTCONN);

	c = conf_tcp_socket(api, 0);
	OK(api->connect(c, SA(&dst), sizeof(dst)));
	memset(&from, 0xee, sizeof(from));
	s = OK(api->accept4(l, SA(&from), &fl, 0));
	cr_assert_eq(fl, sizeof(from));
	n = conf_local_of(api, c);
	conf_assert_ip(n.sin_addr, "127.0.0.1");
	cr_assert(ntohs(n.sin_port) >= 32768 && ntohs(n.sin_port) <= 60999);
	p = conf_peer_of(api, c);
	conf_assert_addr(&p, "127.0.0.2", PORT);
	cr_assert(from.sin_family == AF_INET && from.sin_port == n.sin_port &&
		  from.sin_addr.s_addr == n.sin_addr.s_addr, "%s: accept4's address", api->name);
	p = conf_peer_of(api, s);
	cr_assert(p.sin_port == n.sin_port && p.sin_addr.s_addr == n.sin_addr.s_addr);
	n = conf_local_of(api, s);
	conf_assert_addr(&n, "127.0.0.2", PORT);

	c2 = conf_tcp_socket(api, 0);
	OK(api->connect(c2, SA(&dst), sizeof(dst)));
	memset(small, 0xee, sizeof(small));
	s2 = OK(api->accept4(l, SA(small), &sl, 0));
	cr_assert_eq(sl, sizeof(struct sockaddr_in), "%s: addrlen %u", api->name, sl);
	cr_assert(small[0] == AF_INET && small[1] == 0 && small[4] == 0xee,
		  "%s: a 4-byte accept address is not a truncated copy", api->name);
	c3 = conf_tcp_socket(api, 0);
	OK(api->connect(c3, SA(&dst), sizeof(dst)));
	s3 = OK(api->accept4(l, NULL, &sl, 0));

	api->close(s3);
	api->close(c3);
	api->close(s2);
	api->close(c2);
	api->close(s);
	api->close(c);
	api->close(l);
	api->close(al);
	api->close(u);
}
