/* SPDX-License-Identifier: MIT */
/*
 * test_sock_lifecycle.c - UDP/IPv4 socket(), connect(), getsockname(),
 * getpeername(), shutdown() and close(), kernel and usock side by side
 *
 * Every expected value below was read from the kernel (Linux 6.18, x86_64)
 * by running the scenario; the comments name the surprising ones.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sockapi.h"
#include "conf_util.h"

/* The port must lie in the stack's ip_local_port_range. */
static void assert_ephemeral(const struct sockapi *api, uint16_t port_net)
{
	char txt[64];
	unsigned lo, hi, p = ntohs(port_net);

	OK(conf_sysctl_get(api, NULL, "net.ipv4.ip_local_port_range", txt, sizeof(txt)));
	cr_assert_eq(sscanf(txt, "%u %u", &lo, &hi), 2, "range \"%s\"", txt);
	cr_assert(p >= lo && p <= hi, "%s: port %u outside %u-%u", api->name, p, lo, hi);
}

/* Receive one datagram without blocking and compare it with want. */
static void expect_dgram(const struct sockapi *api, int fd, const char *want)
{
	char buf[64];
	ssize_t n = OK(api->recv(fd, buf, sizeof(buf), MSG_DONTWAIT));

	cr_assert_eq((size_t)n, strlen(want), "%s: got %zd bytes, want \"%s\"", api->name, n, want);
	cr_assert_arr_eq(buf, want, strlen(want));
}

/* ---- socket() ------------------------------------------------------------ */

CONFORMANCE(udp_life, socket_protocol_0_and_udp)
{
	int protos[] = { 0, IPPROTO_UDP };

	for (unsigned i = 0; i < 2; i++) {
		int fd = OK(api->socket(AF_INET, SOCK_DGRAM, protos[i]));
		int v = -1;
		socklen_t l = sizeof(v);

		OK(api->getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &l));
		cr_assert_eq(v, IPPROTO_UDP, "protocol %d gives SO_PROTOCOL %d", protos[i], v);
		OK(api->getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &l));
		cr_assert_eq(v, SOCK_DGRAM);
		OK(api->getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &l));
		cr_assert_eq(v, AF_INET);
		/* A plain socket's file is O_RDWR, blocking, without close-on-exec. */
		cr_assert_eq(OK(api->fcntl(fd, F_GETFL, 0)), O_RDWR);
		cr_assert_eq(OK(api->fcntl(fd, F_GETFD, 0)), 0);
		OK(api->close(fd));
	}
}

CONFORMANCE(udp_life, socket_nonblock_flag)
{
	int fd = OK(api->socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0));
	int v = -1;
	socklen_t l = sizeof(v);
	char b[8];

	cr_assert_eq(OK(api->fcntl(fd, F_GETFL, 0)), O_RDWR | O_NONBLOCK);
	cr_assert_eq(OK(api->fcntl(fd, F_GETFD, 0)), 0);
	/* The flag is not part of the type the socket reports. */
	OK(api->getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &l));
	cr_assert_eq(v, SOCK_DGRAM);
	/* ...and it makes a plain recv() return at once. */
	FAILS(api->recv(fd, b, sizeof(b), 0), EAGAIN);
	OK(api->close(fd));
}

CONFORMANCE(udp_life, socket_cloexec_flag)
{
	int fd = OK(api->socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
	int both = OK(api->socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_UDP));

	cr_assert_eq(OK(api->fcntl(fd, F_GETFD, 0)), FD_CLOEXEC);
	cr_assert_eq(OK(api->fcntl(fd, F_GETFL, 0)), O_RDWR);
	cr_assert_eq(OK(api->fcntl(both, F_GETFD, 0)), FD_CLOEXEC);
	cr_assert_eq(OK(api->fcntl(both, F_GETFL, 0)), O_RDWR | O_NONBLOCK);
	OK(api->close(fd));
	OK(api->close(both));
}

CONFORMANCE(udp_life, socket_bad_domain)
{
	FAILS(api->socket(-1, SOCK_DGRAM, 0), EAFNOSUPPORT);
	FAILS(api->socket(9999, SOCK_DGRAM, 0), EAFNOSUPPORT);
}

CONFORMANCE(udp_life, socket_bad_type)
{
	/* Types at or past SOCK_MAX (11) fail in __sys_socket before any family. */
	FAILS(api->socket(AF_INET, 11, 0), EINVAL);
	FAILS(api->socket(AF_INET, 99, 0), EINVAL);
	/*
	 * A valid type IPv4 has no protocol for: ESOCKTNOSUPPORT from
	 * inet_create (this kernel has no SCTP module to load).
	 */
	FAILS(api->socket(AF_INET, SOCK_SEQPACKET, 0), ESOCKTNOSUPPORT);
}

CONFORMANCE(udp_life, socket_bad_protocol)
{
	FAILS(api->socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP), EPROTONOSUPPORT);
	FAILS(api->socket(AF_INET, SOCK_DGRAM, 99), EPROTONOSUPPORT);
	FAILS(api->socket(AF_INET, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT);
	/* A negative protocol is EINVAL, not EPROTONOSUPPORT (inet_create's range check). */
	FAILS(api->socket(AF_INET, SOCK_DGRAM, -1), EINVAL);
}

CONFORMANCE(udp_life, socket_bad_type_flags)
{
	FAILS(api->socket(AF_INET, SOCK_DGRAM | 0x10, 0), EINVAL);
	FAILS(api->socket(AF_INET, SOCK_DGRAM | 0x40000000, 0), EINVAL);
}

/* ---- connect() ----------------------------------------------------------- */

CONFORMANCE(udp_life, connect_sets_peer_and_autobinds)
{
	int fd = conf_udp(api);
	struct sockaddr_in d = sin4("127.0.0.1", 5000), a;

	OK(api->connect(fd, SA(&d), sizeof(d)));
	a = conf_peer_of(api, fd);
	conf_assert_addr(&a, "127.0.0.1", 5000);
	a = conf_local_of(api, fd);
	cr_assert_eq(a.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	assert_ephemeral(api, a.sin_port);
	/* Already bound by connect: bind() is refused. */
	d = sin4("127.0.0.1", 0);
	FAILS(api->bind(fd, SA(&d), sizeof(d)), EINVAL);
	OK(api->close(fd));
}

CONFORMANCE(udp_life, connect_unspec_disconnects)
{
	int fd = conf_udp(api);
	struct sockaddr_in d = sin4("127.0.0.1", 5000), a;
	struct sockaddr u = { .sa_family = AF_UNSPEC };
	socklen_t l = sizeof(a);

	/* Disconnecting a socket that never connected is fine. */
	OK(api->connect(fd, &u, sizeof(u)));
	OK(api->connect(fd, SA(&d), sizeof(d)));
	OK(api->connect(fd, &u, sizeof(u)));
	FAILS(api->getpeername(fd, SA(&a), &l), ENOTCONN);
	/*
	 * The port connect() chose is given back: __udp_disconnect unhashes a
	 * socket whose port was not bound explicitly.
	 */
	a = conf_local_of(api, fd);
	conf_assert_addr(&a, "0.0.0.0", 0);
	/* R-SEND-1 R-ERR-EDESTADDRREQ: no peer any more. */
	FAILS(api->send(fd, "x", 1, 0), EDESTADDRREQ);
	/* Only sa_family is read: addrlen 2 is enough, 1 and 0 are not. */
	OK(api->connect(fd, SA(&d), sizeof(d)));
	OK(api->connect(fd, &u, 2));
	FAILS(api->getpeername(fd, SA(&a), &l), ENOTCONN);
	FAILS(api->connect(fd, &u, 1), EINVAL);
	FAILS(api->connect(fd, &u, 0), EINVAL);
	OK(api->close(fd));
}

CONFORMANCE(udp_life, disconnect_keeps_what_bind_locked)
{
	struct sockaddr_in d = sin4("127.0.0.1", 5000), a;
	struct sockaddr u = { .sa_family = AF_UNSPEC };
	int fd = bound_udp(api, "127.0.0.1", 0, &a);
	int any = bound_udp(api, "0.0.0.0", 7777, NULL);

	cr_assert(fd >= 0 && any >= 0);
	/*
	 * Bound to 127.0.0.1:0: bind locked the address but not the port, so
	 * after connect + disconnect the address stays and the port is 0.
	 */
	OK(api->connect(fd, SA(&d), sizeof(d)));
	OK(api->connect(fd, &u, sizeof(u)));
	a = conf_local_of(api, fd);
	conf_assert_addr(&a, "127.0.0.1", 0);
	/* Bound to 0.0.0.0:7777: the port stays, the source connect chose goes. */
	OK(api->connect(any, SA(&d), sizeof(d)));
	a = conf_local_of(api, any);
	conf_assert_addr(&a, "127.0.0.1", 7777);
	OK(api->connect(any, &u, sizeof(u)));
	a = conf_local_of(api, any);
	conf_assert_addr(&a, "0.0.0.0", 7777);
	OK(api->close(fd));
	OK(api->close(any));
}

CONFORMANCE(udp_life, connect_to_any_means_loopback)
{
	int rx = bound_udp(api, "127.0.0.1", 5000, NULL);
	int fd = conf_udp(api);
	struct sockaddr_in d = sin4("0.0.0.0", 5000), a;

	cr_assert(rx >= 0);
	OK(api->connect(fd, SA(&d), sizeof(d)));
	/* The route lookup rewrote the destination to 127.0.0.1. */
	a = conf_peer_of(api, fd);
	conf_assert_addr(&a, "127.0.0.1", 5000);
	a = conf_local_of(api, fd);
	cr_assert_eq(a.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	cr_assert_eq(OK(api->send(fd, "zero", 4, 0)), 4);
	expect_dgram(api, rx, "zero");
	OK(api->close(fd));
	OK(api->close(rx));
}

CONFORMANCE(udp_life, connect_to_port_zero)
{
	int fd = conf_udp(api);
	struct sockaddr_in d = sin4("127.0.0.1", 0), a;
	socklen_t l = sizeof(a);

	/* Accepted, and the socket is autobound... */
	OK(api->connect(fd, SA(&d), sizeof(d)));
	a = conf_local_of(api, fd);
	assert_ephemeral(api, a.sin_port);
	/* ...but inet_getname calls a peer with port 0 "not connected". */
	FAILS(api->getpeername(fd, SA(&a), &l), ENOTCONN);
	/* R-SEND-1: send() still takes the connected path (no EDESTADDRREQ). */
	cr_assert_eq(OK(api->send(fd, "x", 1, 0)), 1);
	OK(api->close(fd));
}

/* Fresh socket, one failing connect(): the error, then what it left behind. */
static void connect_fails(const struct sockapi *api, const void *addr, socklen_t len, int err)
{
	int fd = conf_udp(api);
	struct sockaddr_in a;
	socklen_t l = sizeof(a);

	FAILS(api->connect(fd, addr, len), err);
	FAILS(api->getpeername(fd, SA(&a), &l), ENOTCONN);
	/*
	 * inet_dgram_connect autobinds before the protocol looks at the
	 * address: even a connect() that fails leaves an ephemeral port bound
	 * (the address stays 0.0.0.0).
	 */
	a = conf_local_of(api, fd);
	cr_assert_eq(a.sin_addr.s_addr, htonl(INADDR_ANY));
	assert_ephemeral(api, a.sin_port);
	OK(api->close(fd));
}

CONFORMANCE(udp_life, connect_errors)
{
	struct sockaddr_in d = sin4("127.0.0.1", 5000), bad = d;
	struct sockaddr_in6 d6 = { .sin6_family = AF_INET6, .sin6_port = htons(5000) };
	struct sockaddr u = { .sa_family = AF_UNSPEC };
	int fd = conf_udp(api);
	struct sockaddr_in a;

	connect_fails(api, &d, sizeof(d) - 1, EINVAL);
	connect_fails(api, &d6, sizeof(d6), EAFNOSUPPORT);
	bad.sin_family = AF_INET6;
	connect_fails(api, &bad, sizeof(bad), EAFNOSUPPORT);
	/* Only lo exists: no route to anything else. */
	bad = sin4("10.0.0.1", 5000);
	connect_fails(api, &bad, sizeof(bad), ENETUNREACH);
	/* Too short to hold a family: refused before autobind. */
	FAILS(api->connect(fd, &u, 1), EINVAL);
	a = conf_local_of(api, fd);
	conf_assert_addr(&a, "0.0.0.0", 0);
	OK(api->close(fd));
}

CONFORMANCE(udp_life, reconnect_to_new_peer)
{
	struct sockaddr_in me, b = sin4("127.0.0.1", 6001), c = sin4("127.0.0.1", 6002);
	int fd = bound_udp(api, "127.0.0.1", 6000, &me);
	int pb = bound_udp(api, "127.0.0.1", 6001, NULL);
	int pc = bound_udp(api, "127.0.0.1", 6002, NULL);
	struct sockaddr_in a;
	char buf[16];

	cr_assert(fd >= 0 && pb >= 0 && pc >= 0);
	OK(api->connect(fd, SA(&b), sizeof(b)));
	OK(api->connect(fd, SA(&c), sizeof(c)));
	a = conf_peer_of(api, fd);
	conf_assert_addr(&a, "127.0.0.1", 6002);
	a = conf_local_of(api, fd);
	conf_assert_addr(&a, "127.0.0.1", 6000);
	/* The old peer is now a stranger. */
	conf_send_str(api, pb, "127.0.0.1", 6000, "from-b");
	conf_send_str(api, pc, "127.0.0.1", 6000, "from-c");
	expect_dgram(api, fd, "from-c");
	FAILS(api->recv(fd, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	cr_assert_eq(OK(api->send(fd, "hi", 2, 0)), 2);
	expect_dgram(api, pc, "hi");
	OK(api->close(fd));
	OK(api->close(pb));
	OK(api->close(pc));
}

CONFORMANCE(udp_life, connect_filters_other_sources)
{
	int fd = bound_udp(api, "127.0.0.1", 6000, NULL);
	int peer = bound_udp(api, "127.0.0.1", 6001, NULL);
	int other = bound_udp(api, "127.0.0.1", 6002, NULL);
	int other_addr = bound_udp(api, "127.0.0.2", 6001, NULL);
	struct sockaddr_in p = sin4("127.0.0.1", 6001);
	char buf[16];

	cr_assert(fd >= 0 && peer >= 0 && other >= 0 && other_addr >= 0);
	/* Queued before connect(): connect does not purge the receive queue. */
	conf_send_str(api, other, "127.0.0.1", 6000, "early");
	OK(api->connect(fd, SA(&p), sizeof(p)));
	/* Same address, other port; same port, other address: both dropped. */
	conf_send_str(api, other, "127.0.0.1", 6000, "late");
	conf_send_str(api, other_addr, "127.0.0.1", 6000, "late2");
	conf_send_str(api, peer, "127.0.0.1", 6000, "peer");
	expect_dgram(api, fd, "early");
	expect_dgram(api, fd, "peer");
	FAILS(api->recv(fd, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	OK(api->close(fd));
	OK(api->close(peer));
	OK(api->close(other));
	OK(api->close(other_addr));
}

/* ---- getsockname() / getpeername() ------------------------------------- */

CONFORMANCE(udp_life, getsockname_unbound)
{
	int fd = conf_udp(api);
	struct sockaddr_in a = conf_local_of(api, fd);

	conf_assert_addr(&a, "0.0.0.0", 0);
	OK(api->close(fd));
}

CONFORMANCE(udp_life, getpeername_unconnected)
{
	struct sockaddr_in a;
	socklen_t l = sizeof(a);
	int fd = bound_udp(api, "127.0.0.1", 0, NULL);

	cr_assert(fd >= 0);
	FAILS(api->getpeername(fd, SA(&a), &l), ENOTCONN);
	OK(api->close(fd));
}

/* Short buffers: truncated copy, and the full length is reported back. */
CONFORMANCE(udp_life, getname_short_addrlen)
{
	int fd = bound_udp(api, "127.0.0.1", 4321, NULL);
	struct sockaddr_in d = sin4("127.0.0.1", 5000);
	unsigned char buf[32];
	socklen_t l;
	int which;

	cr_assert(fd >= 0);
	OK(api->connect(fd, SA(&d), sizeof(d)));
	for (which = 0; which < 2; which++) {
		int (*get)(int, struct sockaddr *, socklen_t *) =
			which ? api->getpeername : api->getsockname;
		uint16_t port = which ? 5000 : 4321;

		memset(buf, 0xee, sizeof(buf));
		l = 4;
		OK(get(fd, SA(buf), &l));
		cr_assert_eq(l, sizeof(struct sockaddr_in));
		/* family (host order) then port (network order); nothing more. */
		cr_assert_eq(buf[0] | buf[1] << 8, AF_INET);
		cr_assert_eq(buf[2] << 8 | buf[3], port);
		cr_assert_eq(buf[4], 0xee);

		memset(buf, 0xee, sizeof(buf));
		l = 0;
		OK(get(fd, SA(buf), &l));
		cr_assert_eq(l, sizeof(struct sockaddr_in));
		cr_assert_eq(buf[0], 0xee);

		/* A longer buffer gets 16 bytes, the rest untouched. */
		memset(buf, 0xee, sizeof(buf));
		l = sizeof(buf);
		OK(get(fd, SA(buf), &l));
		cr_assert_eq(l, sizeof(struct sockaddr_in));
		cr_assert_eq(buf[16], 0xee);

		FAILS(get(fd, SA(buf), NULL), EFAULT);
		/* A "negative" length (socklen_t is unsigned) is EINVAL. */
		l = (socklen_t)-1;
		FAILS(get(fd, SA(buf), &l), EINVAL);
	}
	OK(api->close(fd));
}

/* ---- shutdown() ---------------------------------------------------------- */

CONFORMANCE(udp_life, shutdown_unconnected)
{
	int fd = bound_udp(api, "127.0.0.1", 0, NULL);
	char b[8];

	cr_assert(fd >= 0);
	/* how is checked before the state. */
	FAILS(api->shutdown(fd, 3), EINVAL);
	FAILS(api->shutdown(fd, -1), EINVAL);
	/*
	 * ENOTCONN, yet inet_shutdown records the shutdown anyway (its "hack
	 * to wake up other listeners"): a blocking recv now returns 0 at
	 * once, while MSG_DONTWAIT still says EAGAIN.
	 */
	FAILS(api->shutdown(fd, SHUT_RD), ENOTCONN);
	cr_assert_eq(OK(api->recv(fd, b, sizeof(b), 0)), 0);
	FAILS(api->recv(fd, b, sizeof(b), MSG_DONTWAIT), EAGAIN);
	FAILS(api->shutdown(fd, SHUT_WR), ENOTCONN);
	FAILS(api->shutdown(fd, SHUT_RDWR), ENOTCONN);
	OK(api->close(fd));
}

CONFORMANCE(udp_life, shutdown_bad_how)
{
	int fd = conf_udp(api);
	struct sockaddr_in d = sin4("127.0.0.1", 5000);

	OK(api->connect(fd, SA(&d), sizeof(d)));
	FAILS(api->shutdown(fd, 3), EINVAL);
	FAILS(api->shutdown(fd, -1), EINVAL);
	FAILS(api->shutdown(fd, 100), EINVAL);
	OK(api->close(fd));
}

CONFORMANCE(udp_life, shutdown_rd_connected)
{
	struct sockaddr_in p = sin4("127.0.0.1", 6001);
	int fd = bound_udp(api, "127.0.0.1", 6000, NULL);
	int peer = bound_udp(api, "127.0.0.1", 6001, NULL);
	char b[16];

	cr_assert(fd >= 0 && peer >= 0);
	OK(api->connect(fd, SA(&p), sizeof(p)));
	conf_send_str(api, peer, "127.0.0.1", 6000, "pre");
	OK(api->shutdown(fd, SHUT_RD));
	/* What was queued is still delivered... */
	cr_assert_eq(OK(api->recv(fd, b, sizeof(b), 0)), 3);
	/* ...then a blocking recv returns 0 without waiting, twice. */
	cr_assert_eq(OK(api->recv(fd, b, sizeof(b), 0)), 0);
	cr_assert_eq(OK(api->recv(fd, b, sizeof(b), 0)), 0);
	FAILS(api->recv(fd, b, sizeof(b), MSG_DONTWAIT), EAGAIN);
	/* UDP keeps queueing after SHUT_RD: new datagrams are still read. */
	conf_send_str(api, peer, "127.0.0.1", 6000, "post");
	expect_dgram(api, fd, "post");
	/* Sending is unaffected, and SHUT_RD may be repeated. */
	cr_assert_eq(OK(api->send(fd, "y", 1, 0)), 1);
	expect_dgram(api, peer, "y");
	OK(api->shutdown(fd, SHUT_RD));
	OK(api->close(fd));
	OK(api->close(peer));
}

/* R-ERR-EPIPE R-FLAG-NOSIGNAL R-SEND-2 */
CONFORMANCE(udp_life, shutdown_wr_then_send)
{
	struct sockaddr_in p = sin4("127.0.0.1", 6001);
	int fd = bound_udp(api, "127.0.0.1", 6000, NULL);
	int peer = bound_udp(api, "127.0.0.1", 6001, NULL);
	char b[16];

	cr_assert(fd >= 0 && peer >= 0);
	conf_count_signal(SIGPIPE, false, NULL);
	OK(api->connect(fd, SA(&p), sizeof(p)));
	OK(api->shutdown(fd, SHUT_WR));
	/*
	 * EPIPE from sock_alloc_send_pskb, and no SIGPIPE: only the stream
	 * paths raise it.  An explicit address changes nothing.
	 */
	FAILS(api->send(fd, "x", 1, 0), EPIPE);
	FAILS(api->send(fd, "x", 1, MSG_NOSIGNAL), EPIPE);
	FAILS(api->write(fd, "x", 1), EPIPE);
	FAILS(api->sendto(fd, "x", 1, 0, SA(&p), sizeof(p)), EPIPE);
	cr_assert_eq(conf_signals(), 0, "%s: %d SIGPIPE", api->name, conf_signals());
	FAILS(api->recv(peer, b, sizeof(b), MSG_DONTWAIT), EAGAIN);
	/* Receiving still works. */
	conf_send_str(api, peer, "127.0.0.1", 6000, "in");
	expect_dgram(api, fd, "in");
	OK(api->close(fd));
	OK(api->close(peer));
}

/* ---- close() ------------------------------------------------------------- */

/* R-ERR-EBADF */
CONFORMANCE(udp_life, close_then_ebadf)
{
	int fd = bound_udp(api, "127.0.0.1", 6000, NULL);
	struct sockaddr_in d = sin4("127.0.0.1", 6000);
	int v;
	socklen_t l = sizeof(v);
	char b[4];

	cr_assert(fd >= 0);
	OK(api->close(fd));
	FAILS(api->close(fd), EBADF);
	FAILS(api->getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &l), EBADF);
	FAILS(api->send(fd, "x", 1, 0), EBADF);
	FAILS(api->sendto(fd, "x", 1, 0, SA(&d), sizeof(d)), EBADF);
	FAILS(api->recv(fd, b, sizeof(b), MSG_DONTWAIT), EBADF);
	FAILS(api->bind(fd, SA(&d), sizeof(d)), EBADF);
	FAILS(api->shutdown(fd, SHUT_RD), EBADF);
	/* The port was released: a new socket can bind it at once. */
	fd = bound_udp(api, "127.0.0.1", 6000, NULL);
	cr_assert(fd >= 0);
	OK(api->close(fd));
}
