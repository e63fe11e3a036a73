/* SPDX-License-Identifier: MIT */
/*
 * test_tcp_fastopen.c - sendto(MSG_FASTOPEN): connect and send in one call, EALREADY
 *
 * To keep a client's handshake in progress the listener is given backlog 0
 * and one connection it does not accept: its accept queue is then full and
 * it drops every further SYN (tcp_conn_request), so the client stays in
 * SYN_SENT until its SYN is retransmitted (1 s) after the queue is emptied.
 * net.ipv4.tcp_fastopen is set in the test's own namespace only.  Every
 * scenario runs on the kernel and on usock (see sockapi.h), on lo; expected
 * values are the kernel's (Linux 6.18).  Scenarios close every socket they
 * open.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "sockapi.h"
#include "conf_util.h"
#include "conf_tcp.h"

#define PORT CONF_TCP_PORT

/* A listener on 127.0.0.1:PORT with backlog 0 and a TCP_FASTOPEN queue (qlen 5). */
static int tfo_listener(const struct sockapi *api, struct sockaddr_in *a)
{
	int l, qlen = 5;

	*a = sin4("127.0.0.1", PORT);
	l = OK(api->socket(AF_INET, SOCK_STREAM, 0));
	OK(api->bind(l, SA(a), sizeof(*a)));
	OK(api->setsockopt(l, IPPROTO_TCP, TCP_FASTOPEN, &qlen, sizeof(qlen)));
	OK(api->listen(l, 0));
	return l;
}

static void set_tfo(const struct sockapi *api, const char *val)
{
	cr_assert(conf_sysctl(api, "", "net.ipv4.tcp_fastopen", val) == 0, "%s: sysctl: %s",
		  api->name, strerror(errno));
}

/* Accept the connection that fills the queue and close it: a retransmitted SYN then gets in. */
static void empty_queue(const struct sockapi *api, int l, int filler)
{
	int s = OK(api->accept4(l, NULL, NULL, 0));

	api->close(s);
	api->close(filler);
}

/*
 * R-ERR-EALREADY R-ERR-EISCONN: with no Fast Open cookie yet, a
 * non-blocking sendto(MSG_FASTOPEN) starts the connection and returns -1
 * EINPROGRESS: nothing was sent (the SYN only asks for a cookie).  While
 * the handshake is in progress every further sendto(MSG_FASTOPEN) (same
 * address, another, none) and connect() is EALREADY (__inet_stream_connect
 * in SS_CONNECTING), send() EAGAIN.  Once connected (POLLOUT, SO_ERROR 0)
 * the first sendto(MSG_FASTOPEN) sends (it finishes the connect's
 * bookkeeping), the next one is EISCONN.  The peer gets only what was sent
 * after the handshake.
 */
CONFORMANCE(tcp_tfo, ealready_while_connecting, .timeout = 20)
{
	struct sockaddr_in a, other = sin4("127.0.0.1", PORT + 1);
	int l, f, c, s, e;
	socklen_t el = sizeof(e);

	set_tfo(api, "3");
	l = tfo_listener(api, &a);
	f = OK(api->socket(AF_INET, SOCK_STREAM, 0));
	OK(api->connect(f, SA(&a), sizeof(a)));
	c = OK(api->socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
	FAILS(api->sendto(c, "hello", 5, MSG_FASTOPEN, SA(&a), sizeof(a)), EINPROGRESS);
	cr_assert_eq(conf_tcp_poll(api, c, POLLOUT, 50), 0, "%s: connected through a full queue",
		     api->name);
	FAILS(api->sendto(c, "again", 5, MSG_FASTOPEN, SA(&a), sizeof(a)), EALREADY);
	FAILS(api->sendto(c, "again", 5, MSG_FASTOPEN, SA(&other), sizeof(other)), EALREADY);
	FAILS(api->sendto(c, "again", 5, MSG_FASTOPEN, NULL, 0), EALREADY);
	FAILS(api->connect(c, SA(&a), sizeof(a)), EALREADY);
	FAILS(api->send(c, "x", 1, 0), EAGAIN);
	FAILS(api->sendto(c, "x", 1, 0, SA(&a), sizeof(a)), EAGAIN);

	empty_queue(api, l, f);
	cr_assert(conf_tcp_poll(api, c, POLLOUT, 3000) & POLLOUT, "%s: never connected", api->name);
	OK(api->getsockopt(c, SOL_SOCKET, SO_ERROR, &e, &el));
	cr_assert_eq(e, 0);
	CONF_RET(api->sendto(c, "again", 5, MSG_FASTOPEN, SA(&a), sizeof(a)), 5);
	FAILS(api->sendto(c, "again", 5, MSG_FASTOPEN, SA(&a), sizeof(a)), EISCONN);
	FAILS(api->sendto(c, "again", 5, MSG_FASTOPEN | MSG_NOSIGNAL, NULL, 0), EISCONN);
	CONF_RET(api->send(c, "y", 1, 0), 1);
	s = OK(api->accept4(l, NULL, NULL, 0));
	conf_tcp_expect_str(api, s, "againy");
	api->close(s);
	api->close(c);
	api->close(l);
}

/*
 * R-ERR-EALREADY: with a cookie cached from a first Fast Open connection
 * to the same server, a non-blocking sendto(MSG_FASTOPEN) puts the data in
 * the SYN and returns its length at once, though the handshake has not
 * finished (here the SYN is even dropped); a second sendto(MSG_FASTOPEN)
 * in that state is EALREADY.  The data is not lost: it reaches the server
 * once the retransmitted SYN gets in.  (The first, blocking, Fast Open
 * call with no cookie returns once connected, its data sent.)
 */
CONFORMANCE(tcp_tfo, ealready_after_data_in_syn, .timeout = 20)
{
	struct sockaddr_in a;
	int l, f, c, s;

	set_tfo(api, "3");
	l = tfo_listener(api, &a);
	f = OK(api->socket(AF_INET, SOCK_STREAM, 0));
	CONF_RET(api->sendto(f, "one", 3, MSG_FASTOPEN, SA(&a), sizeof(a)), 3);
	c = OK(api->socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
	CONF_RET(api->sendto(c, "hello", 5, MSG_FASTOPEN, SA(&a), sizeof(a)), 5);
	cr_assert_eq(conf_tcp_poll(api, c, POLLOUT, 50), 0, "%s: connected through a full queue",
		     api->name);
	FAILS(api->sendto(c, "again", 5, MSG_FASTOPEN, SA(&a), sizeof(a)), EALREADY);
	FAILS(api->connect(c, SA(&a), sizeof(a)), EALREADY);

	s = OK(api->accept4(l, NULL, NULL, 0));
	conf_tcp_expect_str(api, s, "one");
	api->close(s);
	api->close(f);
	cr_assert(conf_tcp_poll(api, c, POLLOUT, 3000) & POLLOUT, "%s: never connected", api->name);
	s = OK(api->accept4(l, NULL, NULL, 0));
	conf_tcp_expect_str(api, s, "hello");
	CONF_RET(api->send(c, "!", 1, 0), 1);
	conf_tcp_expect_str(api, s, "!");
	api->close(s);
	api->close(c);
	api->close(l);
}

/*
 * R-ERR-EOPNOTSUPP R-ERR-EINVAL R-ERR-EISCONN: Fast Open's own errors.  A
 * fresh namespace has net.ipv4.tcp_fastopen = 1 (client on).  No address
 * or a 3-byte one is EINVAL; AF_UNSPEC EOPNOTSUPP; a listening or
 * connected socket EISCONN; no listener ECONNREFUSED (a blocking Fast Open
 * is a connect).  With tcp_fastopen = 0 every MSG_FASTOPEN is EOPNOTSUPP.
 */
CONFORMANCE(tcp_tfo, errors, .timeout = 20)
{
	struct sockaddr_in a = sin4("127.0.0.1", PORT), none = sin4("127.0.0.1", PORT + 1);
	struct sockaddr_in un = { .sin_family = AF_UNSPEC };
	char val[16];
	int l, c, s, d;

	cr_assert(conf_sysctl_get(api, "", "net.ipv4.tcp_fastopen", val, sizeof(val)) == 0);
	cr_assert_eq(strtol(val, NULL, 10), 1, "%s: tcp_fastopen %s", api->name, val);
	l = OK(api->socket(AF_INET, SOCK_STREAM, 0));
	OK(api->bind(l, SA(&a), sizeof(a)));
	OK(api->listen(l, 4));
	d = OK(api->socket(AF_INET, SOCK_STREAM, 0));
	FAILS(api->sendto(d, "x", 1, MSG_FASTOPEN, NULL, 0), EINVAL);
	FAILS(api->sendto(d, "x", 1, MSG_FASTOPEN, SA(&a), 3), EINVAL);
	FAILS(api->sendto(d, "x", 1, MSG_FASTOPEN, SA(&un), sizeof(un)), EOPNOTSUPP);
	FAILS(api->sendto(l, "x", 1, MSG_FASTOPEN, SA(&a), sizeof(a)), EISCONN);
	FAILS(api->sendto(d, "x", 1, MSG_FASTOPEN, SA(&none), sizeof(none)), ECONNREFUSED);
	api->close(d);

	c = OK(api->socket(AF_INET, SOCK_STREAM, 0));
	OK(api->connect(c, SA(&a), sizeof(a)));
	FAILS(api->sendto(c, "x", 1, MSG_FASTOPEN, SA(&a), sizeof(a)), EISCONN);
	FAILS(api->sendto(c, "x", 1, MSG_FASTOPEN, NULL, 0), EISCONN);
	CONF_RET(api->send(c, "ok", 2, 0), 2);
	s = OK(api->accept4(l, NULL, NULL, 0));
	conf_tcp_expect_str(api, s, "ok");
	api->close(s);
	api->close(c);

	set_tfo(api, "0");
	d = OK(api->socket(AF_INET, SOCK_STREAM, 0));
	FAILS(api->sendto(d, "x", 1, MSG_FASTOPEN, SA(&a), sizeof(a)), EOPNOTSUPP);
	FAILS(api->sendto(d, "x", 1, MSG_FASTOPEN, NULL, 0), EOPNOTSUPP);
	api->close(d);
	api->close(l);
}
