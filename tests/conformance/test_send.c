/* SPDX-License-Identifier: MIT */
/*
 * test_send.c - send(2), sendto(2), sendmsg(2) over UDP/IPv4: the R-SEND-* rules
 *
 * Every scenario runs on the kernel and on usock (see sockapi.h); expected
 * values are the kernel's (Linux 6.18).  Scenarios close every socket they
 * open: the usock teardown fails a test whose packet buffers are not back.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>

#include "sockapi.h"
#include "conf_util.h"

/* R-SEND-1 R-ERR-EDESTADDRREQ: UDP with no peer and no address: EDESTADDRREQ. */
CONFORMANCE(send, unconnected_udp_edestaddrreq)
{
	struct sockaddr_in ra, sa, any, un = { .sin_family = AF_UNSPEC };
	socklen_t l = sizeof(sa);
	struct iovec iov = { "x", 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct mmsghdr mm = { .msg_hdr = m };
	int r, s;

	r = bound_udp(api, "127.0.0.1", 1234, &ra);
	s = conf_udp(api);
	CONF_ERR(api->send(s, "x", 1, 0), EDESTADDRREQ);
	/*
	 * The failed send still bound the socket to an ephemeral port
	 * (inet_send_prepare autobinds before udp_sendmsg looks for a peer).
	 */
	CONF_RET(api->getsockname(s, (struct sockaddr *)&sa, &l), 0);
	cr_assert(sa.sin_port != 0, "%s: failed send did not autobind", api->name);
	CONF_ERR(api->write(s, "x", 1), EDESTADDRREQ);
	CONF_ERR(api->sendto(s, "x", 1, 0, NULL, 0), EDESTADDRREQ);
	CONF_ERR(api->sendmsg(s, &m, 0), EDESTADDRREQ);
	CONF_ERR(api->sendmmsg(s, &mm, 1, 0), EDESTADDRREQ);
	/* So bind now fails EINVAL.  Bound but not connected: still no peer. */
	any = sin4("127.0.0.1", 0);
	CONF_ERR(api->bind(s, (struct sockaddr *)&any, sizeof(any)), EINVAL);
	CONF_ERR(api->send(s, "x", 1, 0), EDESTADDRREQ);
	/* Connected: send works; dissolved (connect AF_UNSPEC): no peer again. */
	CONF_RET(api->connect(s, (struct sockaddr *)&ra, sizeof(ra)), 0);
	CONF_RET(api->send(s, "y", 1, 0), 1);
	conf_expect_dgram(api, r, "y", 1);
	CONF_RET(api->connect(s, (struct sockaddr *)&un, sizeof(un)), 0);
	CONF_ERR(api->send(s, "x", 1, 0), EDESTADDRREQ);
	conf_expect_none(api, r);
	api->close(s);
	api->close(r);
}

/* R-SEND-2: send() with flags 0 is write(), down to the empty datagram. */
CONFORMANCE(send, send_flags0_is_write)
{
	struct sockaddr_in ra, sa, from;
	char buf[64];
	socklen_t l = sizeof(sa);
	int r, s;

	r = bound_udp(api, "127.0.0.1", 1234, &ra);
	s = conf_udp_connected(api, &ra);
	cr_assert(api->getsockname(s, (struct sockaddr *)&sa, &l) == 0);
	CONF_RET(api->send(s, "hello", 5, 0), 5);
	CONF_RET(api->write(s, "hello", 5), 5);
	CONF_RET(api->send(s, "", 0, 0), 0);
	CONF_RET(api->write(s, "", 0), 0);
	for (int i = 0; i < 2; i++) {
		CONF_RET(conf_recv_wait(api, r, buf, sizeof(buf), 0, 1000, &from), 5);
		cr_assert(memcmp(buf, "hello", 5) == 0);
		cr_assert(from.sin_port == sa.sin_port &&
			  from.sin_addr.s_addr == sa.sin_addr.s_addr,
			  "%s: datagram %d from the wrong address", api->name, i);
	}
	/* The two empty datagrams are datagrams too. */
	CONF_RET(conf_recv_wait(api, r, buf, sizeof(buf), 0, 1000, NULL), 0);
	CONF_RET(conf_recv_wait(api, r, buf, sizeof(buf), 0, 1000, NULL), 0);
	conf_expect_none(api, r);
	api->close(s);
	api->close(r);
}

/* R-SEND-3: send(fd, b, n, f) is sendto(fd, b, n, f, NULL, 0), errors included. */
CONFORMANCE(send, send_is_sendto_null)
{
	struct sockaddr_in ra;
	int r, s, u;

	r = bound_udp(api, "127.0.0.1", 1234, &ra);
	s = conf_udp_connected(api, &ra);
	CONF_RET(api->send(s, "abc", 3, MSG_DONTWAIT), 3);
	CONF_RET(api->sendto(s, "abc", 3, MSG_DONTWAIT, NULL, 0), 3);
	/* A NULL address is no address, whatever addrlen says (sys_sendto). */
	CONF_RET(api->sendto(s, "abc", 3, 0, NULL, sizeof(ra)), 3);
	for (int i = 0; i < 3; i++)
		conf_expect_dgram(api, r, "abc", 3);
	CONF_ERR(api->send(s, "abc", 3, MSG_OOB), EOPNOTSUPP);
	CONF_ERR(api->sendto(s, "abc", 3, MSG_OOB, NULL, 0), EOPNOTSUPP);
	u = conf_udp(api);
	CONF_ERR(api->send(u, "abc", 3, 0), EDESTADDRREQ);
	CONF_ERR(api->sendto(u, "abc", 3, 0, NULL, 0), EDESTADDRREQ);
	conf_expect_none(api, r);
	api->close(u);
	api->close(s);
	api->close(r);
}

/*
 * R-SEND-4 (UDP angle): UDP is not connection-mode; on a connected UDP
 * socket the kernel neither ignores dest_addr nor says EISCONN: the datagram
 * goes to the address given, and the connection stays.
 */
CONFORMANCE(send, sendto_address_on_connected_udp)
{
	struct sockaddr_in r1a, r2a, peer;
	socklen_t l = sizeof(peer);
	int r1, r2, s;

	r1 = bound_udp(api, "127.0.0.1", 1234, &r1a);
	r2 = bound_udp(api, "127.0.0.1", 1235, &r2a);
	s = conf_udp_connected(api, &r1a);
	CONF_RET(api->sendto(s, "to2", 3, 0, (struct sockaddr *)&r2a, sizeof(r2a)), 3);
	conf_expect_dgram(api, r2, "to2", 3);
	conf_expect_none(api, r1);
	CONF_RET(api->getpeername(s, (struct sockaddr *)&peer, &l), 0);
	cr_assert(peer.sin_port == htons(1234), "%s: peer changed", api->name);
	CONF_RET(api->send(s, "to1", 3, 0), 3);
	conf_expect_dgram(api, r1, "to1", 3);
	conf_expect_none(api, r2);
	api->close(s);
	api->close(r2);
	api->close(r1);
}

/*
 * R-SEND-5 R-ERR-EINVAL: the destination is checked by udp_sendmsg():
 * addrlen below sizeof(sockaddr_in) is EINVAL, a longer one is fine, AF_INET6
 * is EAFNOSUPPORT, AF_UNSPEC passes as AF_INET (a kernel leniency), port 0 is
 * EINVAL.  Nothing is sent by a failing call.
 */
CONFORMANCE(send, sendto_destination_checks)
{
	struct sockaddr_storage big;
	struct sockaddr_in ra, a;
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(1234),
				   .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct iovec iov = { "m", 1 };
	struct msghdr m = { .msg_name = &ra, .msg_iov = &iov, .msg_iovlen = 1 };
	int r, s;

	r = bound_udp(api, "127.0.0.1", 1234, &ra);
	s = conf_udp(api);
	CONF_ERR(api->sendto(s, "x", 1, 0, (struct sockaddr *)&ra, 0), EINVAL);
	CONF_ERR(api->sendto(s, "x", 1, 0, (struct sockaddr *)&ra, 3), EINVAL);
	CONF_ERR(api->sendto(s, "x", 1, 0, (struct sockaddr *)&ra, sizeof(ra) - 1), EINVAL);
	m.msg_namelen = 8;
	CONF_ERR(api->sendmsg(s, &m, 0), EINVAL);
	CONF_ERR(api->sendto(s, "x", 1, 0, (struct sockaddr *)&a6, sizeof(a6)), EAFNOSUPPORT);
	a = sin4("127.0.0.1", 0);
	CONF_ERR(api->sendto(s, "x", 1, 0, (struct sockaddr *)&a, sizeof(a)), EINVAL);
	conf_expect_none(api, r);

	CONF_RET(api->sendto(s, "x", 1, 0, (struct sockaddr *)&ra, sizeof(ra)), 1);
	conf_expect_dgram(api, r, "x", 1);
	memset(&big, 0, sizeof(big));
	memcpy(&big, &ra, sizeof(ra));
	CONF_RET(api->sendto(s, "y", 1, 0, (struct sockaddr *)&big, sizeof(big)), 1);
	conf_expect_dgram(api, r, "y", 1);
	a = ra;
	a.sin_family = AF_UNSPEC;
	CONF_RET(api->sendto(s, "z", 1, 0, (struct sockaddr *)&a, sizeof(a)), 1);
	conf_expect_dgram(api, r, "z", 1);
	m.msg_namelen = sizeof(ra);
	CONF_RET(api->sendmsg(s, &m, 0), 1);
	conf_expect_dgram(api, r, "m", 1);
	api->close(s);
	api->close(r);
}

/* R-SEND-6: sendmsg gathers msg_iov as writev does; msg_flags is not read. */
CONFORMANCE(send, sendmsg_gathers_iov)
{
	struct iovec iov[4] = { { "on", 2 }, { "", 0 }, { "e-t", 3 }, { "wo", 2 } };
	struct sockaddr_in ra;
	struct msghdr m = { .msg_name = &ra, .msg_namelen = sizeof(ra), .msg_iov = iov,
			    .msg_iovlen = 4 };
	int r, s, c;

	r = bound_udp(api, "127.0.0.1", 1234, &ra);
	s = conf_udp(api);
	CONF_RET(api->sendmsg(s, &m, 0), 7);
	conf_expect_dgram(api, r, "one-two", 7);
	/* Every bit of msg_flags set, MSG_OOB among them: ignored on send. */
	m.msg_flags = ~0;
	CONF_RET(api->sendmsg(s, &m, 0), 7);
	conf_expect_dgram(api, r, "one-two", 7);
	/* The same vector through writev on a connected socket: the same datagram. */
	c = conf_udp_connected(api, &ra);
	CONF_RET(api->writev(c, iov, 4), 7);
	conf_expect_dgram(api, r, "one-two", 7);
	/* No iovec at all: an empty datagram. */
	m.msg_iov = NULL;
	m.msg_iovlen = 0;
	m.msg_flags = 0;
	CONF_RET(api->sendmsg(s, &m, 0), 0);
	conf_expect_dgram(api, r, "", 0);
	api->close(c);
	api->close(s);
	api->close(r);
}

/* Receive one datagram with IP_RECVTTL on; Return: its TTL. */
static int recv_ttl(const struct sockapi *api, int fd)
{
	union {
		char b[CMSG_SPACE(sizeof(int)) * 2];
		struct cmsghdr align;
	} ctl;
	char data[16];
	struct iovec iov = { data, sizeof(data) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
			    .msg_controllen = sizeof(ctl.b) };
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct cmsghdr *c;
	int ttl = -1;

	cr_assert(api->poll(&p, 1, 1000) == 1, "%s: no datagram", api->name);
	cr_assert(api->recvmsg(fd, &m, MSG_DONTWAIT) >= 0, "%s: recvmsg: %s", api->name,
		  strerror(errno));
	for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL)
			memcpy(&ttl, CMSG_DATA(c), sizeof(ttl));
	return ttl;
}

/*
 * R-SEND-7 R-ERR-EINVAL: ancillary data is sent (IP_TTL reaches the
 * receiver); malformed control messages fail EINVAL and send nothing, as
 * __cmsghdr checks and ip_cmsg_send() judge them: cmsg_len past the buffer
 * or below the header, unknown SOL_SOCKET or IPPROTO_IP types, a bad TTL.
 * What the kernel lets pass: a buffer shorter than one header, a tail
 * shorter than one header, levels it does not know, SCM_RIGHTS on UDP.
 */
CONFORMANCE(send, sendmsg_control_messages)
{
	union {
		char b[256];
		struct cmsghdr align;
	} ctl;
	struct cmsghdr *c = &ctl.align;
	struct sockaddr_in ra;
	struct iovec iov = { "x", 1 };
	struct msghdr m = { .msg_name = &ra, .msg_namelen = sizeof(ra), .msg_iov = &iov,
			    .msg_iovlen = 1, .msg_control = ctl.b };
	int r, s, one = 1;

	r = bound_udp(api, "127.0.0.1", 1234, &ra);
	cr_assert(api->setsockopt(r, IPPROTO_IP, IP_RECVTTL, &one, sizeof(one)) == 0);
	s = conf_udp(api);

	m.msg_controllen = conf_ttl_cmsgs(ctl.b, 1, 7);
	CONF_RET(api->sendmsg(s, &m, 0), 1);
	cr_assert_eq(recv_ttl(api, r), 7, "%s: IP_TTL cmsg not applied", api->name);
	/* The last message may end at CMSG_LEN, without the padding. */
	m.msg_controllen = CMSG_LEN(sizeof(int));
	CONF_RET(api->sendmsg(s, &m, 0), 1);
	cr_assert_eq(recv_ttl(api, r), 7);
	m.msg_controllen = 0;
	CONF_RET(api->sendmsg(s, &m, 0), 1);
	cr_assert_eq(recv_ttl(api, r), 64, "%s: default TTL", api->name);

	/* Rejected. */
	m.msg_controllen = conf_ttl_cmsgs(ctl.b, 1, 7);
	c->cmsg_len = CMSG_LEN(sizeof(int)) + 100;
	CONF_ERR(api->sendmsg(s, &m, 0), EINVAL);
	c->cmsg_len = sizeof(struct cmsghdr) - 6;
	CONF_ERR(api->sendmsg(s, &m, 0), EINVAL);
	c->cmsg_len = sizeof(struct cmsghdr);	/* IP_TTL with no int */
	CONF_ERR(api->sendmsg(s, &m, 0), EINVAL);
	conf_ttl_cmsgs(ctl.b, 1, 0);
	CONF_ERR(api->sendmsg(s, &m, 0), EINVAL);
	conf_ttl_cmsgs(ctl.b, 1, 256);
	CONF_ERR(api->sendmsg(s, &m, 0), EINVAL);
	conf_ttl_cmsgs(ctl.b, 1, 7);
	c->cmsg_type = 999;
	CONF_ERR(api->sendmsg(s, &m, 0), EINVAL);
	c->cmsg_level = SOL_SOCKET;
	CONF_ERR(api->sendmsg(s, &m, 0), EINVAL);
	c->cmsg_level = IPPROTO_UDP;
	CONF_ERR(api->sendmsg(s, &m, 0), EINVAL);
	/* A valid message followed by a zeroed header: cmsg_len 0 is malformed. */
	conf_ttl_cmsgs(ctl.b, 1, 7);
	memset(ctl.b + CMSG_SPACE(sizeof(int)), 0, sizeof(struct cmsghdr));
	m.msg_controllen = CMSG_SPACE(sizeof(int)) + sizeof(struct cmsghdr);
	CONF_ERR(api->sendmsg(s, &m, 0), EINVAL);
	memset(ctl.b, 0, sizeof(ctl.b));
	m.msg_controllen = sizeof(struct cmsghdr);
	CONF_ERR(api->sendmsg(s, &m, 0), EINVAL);
	conf_expect_none(api, r);

	/* Let through. */
	m.msg_controllen = sizeof(struct cmsghdr) - 1;
	CONF_RET(api->sendmsg(s, &m, 0), 1);
	cr_assert_eq(recv_ttl(api, r), 64);
	m.msg_controllen = conf_ttl_cmsgs(ctl.b, 1, 9) + sizeof(struct cmsghdr) - 1;
	CONF_RET(api->sendmsg(s, &m, 0), 1);
	cr_assert_eq(recv_ttl(api, r), 9);
	conf_ttl_cmsgs(ctl.b, 1, 7);
	m.msg_controllen = CMSG_SPACE(sizeof(int));
	c->cmsg_level = 999;
	CONF_RET(api->sendmsg(s, &m, 0), 1);
	cr_assert_eq(recv_ttl(api, r), 64);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	memset(CMSG_DATA(c), 0, sizeof(int));
	CONF_RET(api->sendmsg(s, &m, 0), 1);
	cr_assert_eq(recv_ttl(api, r), 64);
	conf_expect_none(api, r);
	api->close(s);
	api->close(r);
}

/*
 * R-SEND-9: a successful send says nothing about delivery: datagrams to a
 * port nobody listens on succeed every time on an unconnected socket (the
 * ICMP error is not reported to it).  A locally detected error (no route)
 * fails the call itself.
 */
CONFORMANCE(send, no_delivery_failure_reported)
{
	struct sockaddr_in closed = sin4("127.0.0.1", 9), far = sin4("198.19.0.5", 9);
	int s = conf_udp(api);

	for (int i = 0; i < 3; i++)
		CONF_RET(api->sendto(s, "x", 1, 0, (struct sockaddr *)&closed, sizeof(closed)), 1);
	CONF_RET(api->sendto(s, "x", 1, MSG_DONTWAIT, (struct sockaddr *)&closed,
			     sizeof(closed)), 1);
	CONF_ERR(api->sendto(s, "x", 1, 0, (struct sockaddr *)&far, sizeof(far)), ENETUNREACH);
	api->close(s);
}

/* R-SEND-11: the return is the byte count, for every size and every call. */
CONFORMANCE(send, returns_bytes_sent)
{
	static const size_t sizes[] = { 0, 1, 1472, 1473, 8000, 65507 };
	static uint8_t buf[65507];
	struct sockaddr_in ra;
	struct iovec iov[3] = { { buf, 100 }, { buf + 100, 0 }, { buf + 100, 900 } };
	struct msghdr m = { .msg_name = &ra, .msg_namelen = sizeof(ra), .msg_iov = iov,
			    .msg_iovlen = 3 };
	int r, s, c, big = 1 << 20;

	r = bound_udp(api, "127.0.0.1", 1234, &ra);
	api->setsockopt(r, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	s = conf_udp(api);
	c = conf_udp_connected(api, &ra);
	conf_fill(buf, sizeof(buf), 11);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		CONF_RET(api->sendto(s, buf, sizes[i], 0, (struct sockaddr *)&ra, sizeof(ra)),
			 sizes[i]);
		conf_expect_dgram(api, r, buf, sizes[i]);
		CONF_RET(api->send(c, buf, sizes[i], 0), sizes[i]);
		conf_expect_dgram(api, r, buf, sizes[i]);
		CONF_RET(api->write(c, buf, sizes[i]), sizes[i]);
		conf_expect_dgram(api, r, buf, sizes[i]);
	}
	CONF_RET(api->sendmsg(s, &m, 0), 1000);
	conf_expect_dgram(api, r, buf, 1000);
	CONF_RET(api->writev(c, iov, 3), 1000);
	conf_expect_dgram(api, r, buf, 1000);
	api->close(c);
	api->close(s);
	api->close(r);
}

/*
 * R-NOTE-TYPES: msg_iovlen and msg_controllen are size_t (glibc's msghdr),
 * and the calls read all of it: 2^32+1 iovecs is EMSGSIZE (not 1 iovec),
 * 2^32+24 bytes of control is ENOBUFS (not 24 bytes).
 */
_Static_assert(sizeof(((struct msghdr *)0)->msg_iovlen) == sizeof(size_t), "msg_iovlen");
_Static_assert(sizeof(((struct msghdr *)0)->msg_controllen) == sizeof(size_t), "controllen");
_Static_assert(sizeof(((struct mmsghdr *)0)->msg_len) == sizeof(unsigned int), "msg_len");
CONFORMANCE(send, msghdr_lengths_are_size_t)
{
	union {
		char b[64];
		struct cmsghdr align;
	} ctl;
	struct sockaddr_in ra;
	struct iovec iov = { "x", 1 };
	struct msghdr m = { .msg_name = &ra, .msg_namelen = sizeof(ra), .msg_iov = &iov,
			    .msg_iovlen = 1 };
	int r, s;

	r = bound_udp(api, "127.0.0.1", 1234, &ra);
	s = conf_udp(api);
#if SIZE_MAX > 0xffffffffu
	m.msg_iovlen = ((size_t)1 << 32) + 1;
	CONF_ERR(api->sendmsg(s, &m, 0), EMSGSIZE);
	m.msg_iovlen = 1;
	m.msg_control = ctl.b;
	m.msg_controllen = ((size_t)1 << 32) + conf_ttl_cmsgs(ctl.b, 1, 5);
	CONF_ERR(api->sendmsg(s, &m, 0), ENOBUFS);
	conf_expect_none(api, r);
#endif
	m.msg_control = NULL;
	m.msg_controllen = 0;
	CONF_RET(api->sendmsg(s, &m, 0), 1);
	conf_expect_dgram(api, r, "x", 1);
	api->close(s);
	api->close(r);
}

static short pollout(const struct sockapi *api, int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	cr_assert(api->poll(&p, 1, 0) >= 0);
	return p.revents & POLLOUT;
}

/*
 * R-SEND-10 R-ERR-EAGAIN R-NOTE-SELECT: a UDP send buffer fills while its
 * datagrams wait for ARP (see conf_stalled_sender).  SO_SNDBUF 4608 holds two
 * 2000-byte datagrams (truesize counts: the first already takes more than
 * half, so POLLOUT goes at once); the third non-blocking send is EAGAIN, and
 * EAGAIN is EWOULDBLOCK.  When ARP gives up the queue is freed: POLLOUT
 * comes back and sending goes on.
 */
CONFORMANCE(send, sndbuf_full_eagain_and_pollout, .timeout = 30)
{
	static char buf[2000];
	struct sockaddr_in dst;
	int s;

	_Static_assert(EAGAIN == EWOULDBLOCK, "EAGAIN is EWOULDBLOCK on Linux");
	s = conf_stalled_sender(api, &dst);
	cr_assert(pollout(api, s), "%s: empty send buffer not writable", api->name);
	CONF_RET(api->sendto(s, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&dst,
			     sizeof(dst)), sizeof(buf));

	cr_assert(!pollout(api, s), "%s: POLLOUT with more than half the buffer used",
		  api->name);
	CONF_RET(api->sendto(s, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&dst,
			     sizeof(dst)), sizeof(buf));

	CONF_ERR(api->sendto(s, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&dst,
			     sizeof(dst)), EAGAIN);
	CONF_ERR(api->sendto(s, buf, 1, MSG_DONTWAIT, (struct sockaddr *)&dst, sizeof(dst)),
		 EAGAIN);
	cr_assert(!pollout(api, s));
	/* ARP gives up after 3 x 300 ms: the queued datagrams are dropped. */
	api->sleep_ms(1500);
	cr_assert(pollout(api, s), "%s: no POLLOUT after the queue was freed", api->name);
	CONF_RET(api->sendto(s, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&dst,
			     sizeof(dst)), sizeof(buf));
	api->sleep_ms(1500);
	api->close(s);
}

/*
 * R-SEND-10: a blocking send that does not fit blocks until it does (here
 * until ARP gives up and frees the queue: the time passer's sleep_ms), then
 * returns the full count.  With SO_SNDTIMEO the wait ends in EAGAIN.
 */
CONFORMANCE(send, sndbuf_full_blocks_until_space, .timeout = 30)
{
	static char buf[2000];
	struct conf_later tp = { .api = api, .delay_ms = 100, .pass_ms = 1500 };
	struct sockaddr_in dst;
	struct timeval tv = { 0, 300000 };
	int s;

	s = conf_stalled_sender(api, &dst);
	for (int i = 0; i < 2; i++)
		CONF_RET(api->sendto(s, buf, sizeof(buf), 0, (struct sockaddr *)&dst,
				     sizeof(dst)), sizeof(buf));
	conf_later_start(&tp);
	CONF_RET(api->sendto(s, buf, sizeof(buf), 0, (struct sockaddr *)&dst, sizeof(dst)),
		 sizeof(buf));
	cr_assert(atomic_load(&tp.started), "%s: the send did not block", api->name);
	conf_later_join(&tp);
	api->sleep_ms(1500);

	/* Full again; now with a send timeout shorter than ARP's patience. */
	for (int i = 0; i < 2; i++)
		CONF_RET(api->sendto(s, buf, sizeof(buf), 0, (struct sockaddr *)&dst,
				     sizeof(dst)), sizeof(buf));
	cr_assert(api->setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == 0);
	tp.delay_ms = 50;
	tp.pass_ms = 500;
	conf_later_start(&tp);
	CONF_ERR(api->sendto(s, buf, sizeof(buf), 0, (struct sockaddr *)&dst, sizeof(dst)),
		 EAGAIN);
	conf_later_join(&tp);
	api->sleep_ms(1500);
	api->close(s);
}

/*
 * R-SEND-10 R-NOTE-SELECT (UDP_CORK angle, lo): a corked datagram is charged
 * to the send buffer, so POLLOUT goes once it holds more than half of
 * SO_SNDBUF; yet on lo (one 64 KiB skb with page fragments) appends never
 * block nor fail EAGAIN past SO_SNDBUF: the limit is the datagram size
 * (EMSGSIZE), which also drops the whole pending datagram (POLLOUT is back).
 */
CONFORMANCE(send, corked_appends_and_pollout_lo)
{
	static char buf[1000];
	struct sockaddr_in ra;
	int r, s, one = 1, total = 0;

	r = bound_udp(api, "127.0.0.1", 1234, &ra);
	s = conf_udp(api);
	cr_assert(api->setsockopt(s, SOL_SOCKET, SO_SNDBUF, &one, sizeof(one)) == 0);
	cr_assert(api->setsockopt(s, IPPROTO_UDP, UDP_CORK, &one, sizeof(one)) == 0);
	cr_assert(pollout(api, s));
	conf_fill(buf, sizeof(buf), 3);
	while (total + (int)sizeof(buf) <= 65507) {
		CONF_RET(api->sendto(s, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&ra,
				     sizeof(ra)), sizeof(buf));
		total += sizeof(buf);
		if (total == 5000)
			cr_assert(!pollout(api, s), "%s: POLLOUT with 5000 corked bytes",
				  api->name);
	}
	conf_expect_none(api, r);
	CONF_ERR(api->sendto(s, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&ra,
			     sizeof(ra)), EMSGSIZE);
	cr_assert(pollout(api, s), "%s: pending datagram not dropped by EMSGSIZE", api->name);
	/* Still corked: this starts a new datagram, sent by uncorking. */
	CONF_RET(api->sendto(s, "new", 3, 0, (struct sockaddr *)&ra, sizeof(ra)), 3);
	conf_expect_none(api, r);
	one = 0;
	cr_assert(api->setsockopt(s, IPPROTO_UDP, UDP_CORK, &one, sizeof(one)) == 0);
	conf_expect_dgram(api, r, "new", 3);
	conf_expect_none(api, r);
	api->close(s);
	api->close(r);
}
