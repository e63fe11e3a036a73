/* SPDX-License-Identifier: MIT */
/*
 * test_send_flags.c - the send flags over UDP/IPv4 (R-FLAG-*), on one host
 *
 * Every scenario runs on the kernel and on usock (see sockapi.h); expected
 * values are the kernel's (Linux 6.18).  What a flag does on the wire
 * between two hosts (MSG_CONFIRM's missing probe, MSG_DONTROUTE past a
 * gateway) is in test_twohost.c; MSG_OOB is in test_send_errors.c.
 * Scenarios close every socket they open: the usock run fails a test whose
 * packet buffers are not back.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/udp.h>

#include "sockapi.h"
#include "conf_util.h"

/*
 * Send "f" with flags through send, sendto, sendmsg and sendmmsg (s is
 * connected to ra) and check each arrives whole on r.
 */
static void each_call_delivers(const struct sockapi *api, int s, int r, struct sockaddr_in *ra,
			       int flags)
{
	struct iovec iov = { "f", 1 };
	struct msghdr m = { .msg_name = ra, .msg_namelen = sizeof(*ra), .msg_iov = &iov,
			    .msg_iovlen = 1 };
	struct mmsghdr mm = { .msg_hdr = m };

	CONF_RET(api->send(s, "f", 1, flags), 1);
	conf_expect_dgram(api, r, "f", 1);
	CONF_RET(api->sendto(s, "f", 1, flags, (struct sockaddr *)ra, sizeof(*ra)), 1);
	conf_expect_dgram(api, r, "f", 1);
	CONF_RET(api->sendmsg(s, &m, flags), 1);
	conf_expect_dgram(api, r, "f", 1);
	CONF_RET(api->sendmmsg(s, &mm, 1, flags), 1);
	conf_expect_dgram(api, r, "f", 1);
	conf_expect_none(api, r);
}

/* R-FLAG-CONFIRM: accepted by every send call on UDP; the datagram is unchanged. */
CONFORMANCE(send_flags, confirm_accepted)
{
	struct sockaddr_in ra;
	int r, s;

	r = bound_udp(api, "127.0.0.1", 1234, &ra);
	s = conf_udp_connected(api, &ra);
	each_call_delivers(api, s, r, &ra, MSG_CONFIRM);
	api->close(s);
	api->close(r);
}

/*
 * R-FLAG-DONTROUTE: to a directly reachable host (lo) it works, as flag and
 * as SO_DONTROUTE; to a destination with no route it is ENETUNREACH either
 * way (the gateway case is in test_twohost.c).
 */
CONFORMANCE(send_flags, dontroute_local)
{
	struct sockaddr_in ra, far = sin4("198.19.0.5", 1234);
	int r, s, d, one = 1;

	r = bound_udp(api, "127.0.0.1", 1234, &ra);
	s = conf_udp_connected(api, &ra);
	each_call_delivers(api, s, r, &ra, MSG_DONTROUTE);
	CONF_ERR(api->sendto(s, "f", 1, MSG_DONTROUTE, (struct sockaddr *)&far, sizeof(far)),
		 ENETUNREACH);
	d = conf_udp(api);
	cr_assert(api->setsockopt(d, SOL_SOCKET, SO_DONTROUTE, &one, sizeof(one)) == 0);
	CONF_RET(api->sendto(d, "f", 1, 0, (struct sockaddr *)&ra, sizeof(ra)), 1);
	conf_expect_dgram(api, r, "f", 1);
	CONF_ERR(api->sendto(d, "f", 1, 0, (struct sockaddr *)&far, sizeof(far)), ENETUNREACH);
	api->close(d);
	api->close(s);
	api->close(r);
}

/*
 * R-FLAG-DONTWAIT R-ERR-EAGAIN: with the send buffer full (see
 * conf_stalled_sender), MSG_DONTWAIT makes this one call EAGAIN; the file
 * stays blocking (no O_NONBLOCK before or after), and the next call without
 * the flag blocks until there is room.
 */
CONFORMANCE(send_flags, dontwait_is_per_call, .timeout = 30)
{
	static char buf[2000];
	struct conf_later tp = { .api = api, .delay_ms = 100, .pass_ms = 1500 };
	struct sockaddr_in dst;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m = { .msg_name = &dst, .msg_namelen = sizeof(dst), .msg_iov = &iov,
			    .msg_iovlen = 1 };
	int s, fl;

	s = conf_stalled_sender(api, &dst);
	fl = api->fcntl(s, F_GETFL, 0);
	cr_assert(fl >= 0 && !(fl & O_NONBLOCK));
	for (int i = 0; i < 2; i++)
		CONF_RET(api->sendto(s, buf, sizeof(buf), 0, (struct sockaddr *)&dst, sizeof(dst)),
			 sizeof(buf));
	CONF_ERR(api->sendto(s, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&dst,
			     sizeof(dst)), EAGAIN);
	CONF_ERR(api->sendmsg(s, &m, MSG_DONTWAIT), EAGAIN);
	fl = api->fcntl(s, F_GETFL, 0);
	cr_assert(fl >= 0 && !(fl & O_NONBLOCK), "%s: MSG_DONTWAIT set O_NONBLOCK", api->name);
	conf_later_start(&tp);
	CONF_RET(api->sendto(s, buf, sizeof(buf), 0, (struct sockaddr *)&dst, sizeof(dst)),
		 sizeof(buf));
	cr_assert(atomic_load(&tp.started), "%s: the blocking send did not block", api->name);
	conf_later_join(&tp);
	api->sleep_ms(1500);
	api->close(s);
}

/*
 * R-FLAG-EOR (UDP): MSG_EOR means nothing to a datagram socket and the
 * kernel ignores it: every call succeeds, the datagram is unchanged, and
 * with MSG_MORE it does not end the pending datagram either.
 */
CONFORMANCE(send_flags, eor_ignored_on_udp)
{
	struct sockaddr_in ra;
	int r, s;

	r = bound_udp(api, "127.0.0.1", 1234, &ra);
	s = conf_udp_connected(api, &ra);
	each_call_delivers(api, s, r, &ra, MSG_EOR);
	CONF_RET(api->send(s, "ab", 2, MSG_MORE | MSG_EOR), 2);
	conf_expect_none(api, r);
	CONF_RET(api->send(s, "c", 1, MSG_EOR), 1);
	conf_expect_dgram(api, r, "abc", 3);
	conf_expect_none(api, r);
	api->close(s);
	api->close(r);
}

/*
 * R-FLAG-MORE-UDP: MSG_MORE appends to one pending datagram, sent by the
 * next call without it: "ab", "cd", "e" is one datagram "abcde".  The
 * first call fixes the destination: the addresses of the appending calls
 * are not even checked (udp_sendmsg goes straight to the append), so a
 * bad addrlen or a plain send() on an unconnected socket append too.
 */
CONFORMANCE(send_flags, more_appends_one_datagram)
{
	struct sockaddr_in r1a, r2a;
	struct iovec iov[2] = { { "gh", 2 }, { "ij", 2 } };
	struct msghdr m = { .msg_name = &r2a, .msg_namelen = sizeof(r2a), .msg_iov = iov,
			    .msg_iovlen = 2 };
	int r1, r2, s;

	r1 = bound_udp(api, "127.0.0.1", 1234, &r1a);
	r2 = bound_udp(api, "127.0.0.1", 1235, &r2a);
	s = conf_udp(api);
	CONF_RET(api->sendto(s, "ab", 2, MSG_MORE, (struct sockaddr *)&r1a, sizeof(r1a)), 2);
	CONF_RET(api->sendto(s, "cd", 2, MSG_MORE, (struct sockaddr *)&r1a, sizeof(r1a)), 2);
	conf_expect_none(api, r1);
	CONF_RET(api->sendto(s, "e", 1, 0, (struct sockaddr *)&r1a, sizeof(r1a)), 1);
	conf_expect_dgram(api, r1, "abcde", 5);
	conf_expect_none(api, r1);

	/* Later destinations are ignored while a datagram is pending. */
	CONF_RET(api->sendto(s, "ab", 2, MSG_MORE, (struct sockaddr *)&r1a, sizeof(r1a)), 2);
	CONF_RET(api->sendmsg(s, &m, MSG_MORE), 4);
	CONF_RET(api->sendto(s, "k", 1, MSG_MORE, (struct sockaddr *)&r2a, 3), 1);
	CONF_RET(api->send(s, "l", 1, 0), 1);
	conf_expect_dgram(api, r1, "abghijkl", 8);
	conf_expect_none(api, r2);
	/* With nothing pending, the address matters again. */
	CONF_ERR(api->sendto(s, "k", 1, 0, (struct sockaddr *)&r2a, 3), EINVAL);
	CONF_ERR(api->send(s, "l", 1, 0), EDESTADDRREQ);
	/* An empty final call still ends the datagram. */
	CONF_RET(api->sendto(s, "mn", 2, MSG_MORE, (struct sockaddr *)&r2a, sizeof(r2a)), 2);
	CONF_RET(api->sendto(s, "", 0, 0, (struct sockaddr *)&r2a, sizeof(r2a)), 0);
	conf_expect_dgram(api, r2, "mn", 2);
	conf_expect_none(api, r1);
	conf_expect_none(api, r2);
	api->close(s);
	api->close(r2);
	api->close(r1);
}

/*
 * R-FLAG-MORE-UDP: UDP_CORK holds every send of the socket in one pending
 * datagram until it is cleared; clearing it with nothing pending sends
 * nothing; MSG_MORE under the cork changes nothing.
 */
CONFORMANCE(send_flags, udp_cork_holds_until_cleared)
{
	struct sockaddr_in ra;
	socklen_t l = sizeof(int);
	int r, s, on = 1, off = 0, v = -1;

	r = bound_udp(api, "127.0.0.1", 1234, &ra);
	s = conf_udp_connected(api, &ra);
	CONF_RET(api->setsockopt(s, IPPROTO_UDP, UDP_CORK, &on, sizeof(on)), 0);
	CONF_RET(api->getsockopt(s, IPPROTO_UDP, UDP_CORK, &v, &l), 0);
	cr_assert_eq(v, 1);
	CONF_RET(api->send(s, "ab", 2, 0), 2);
	CONF_RET(api->send(s, "cd", 2, 0), 2);
	CONF_RET(api->send(s, "e", 1, MSG_MORE), 1);
	conf_expect_none(api, r);
	CONF_RET(api->setsockopt(s, IPPROTO_UDP, UDP_CORK, &off, sizeof(off)), 0);
	conf_expect_dgram(api, r, "abcde", 5);
	CONF_RET(api->setsockopt(s, IPPROTO_UDP, UDP_CORK, &on, sizeof(on)), 0);
	CONF_RET(api->setsockopt(s, IPPROTO_UDP, UDP_CORK, &off, sizeof(off)), 0);
	conf_expect_none(api, r);
	l = sizeof(int);
	CONF_RET(api->getsockopt(s, IPPROTO_UDP, UDP_CORK, &v, &l), 0);
	cr_assert_eq(v, 0);
	/* Uncorked again: each send is its own datagram. */
	CONF_RET(api->send(s, "x", 1, 0), 1);
	CONF_RET(api->send(s, "y", 1, 0), 1);
	conf_expect_dgram(api, r, "x", 1);
	conf_expect_dgram(api, r, "y", 1);
	conf_expect_none(api, r);
	api->close(s);
	api->close(r);
}

/*
 * R-FLAG-MORE-UDP: what becomes of a pending datagram.  Growing it past
 * 65507 bytes is EMSGSIZE and drops all of it; an EOPNOTSUPP (MSG_OOB)
 * keeps it; closing the socket drops it.
 */
CONFORMANCE(send_flags, more_pending_fate)
{
	static char big[60000];
	struct sockaddr_in ra;
	int r, s, t;

	r = bound_udp(api, "127.0.0.1", 1234, &ra);
	s = conf_udp(api);
	CONF_RET(api->sendto(s, big, sizeof(big), MSG_MORE, (struct sockaddr *)&ra, sizeof(ra)),
		 sizeof(big));
	CONF_ERR(api->sendto(s, big, 6000, MSG_MORE, (struct sockaddr *)&ra, sizeof(ra)),
		 EMSGSIZE);
	CONF_RET(api->sendto(s, "z", 1, 0, (struct sockaddr *)&ra, sizeof(ra)), 1);
	conf_expect_dgram(api, r, "z", 1);

	CONF_RET(api->sendto(s, "pp", 2, MSG_MORE, (struct sockaddr *)&ra, sizeof(ra)), 2);
	CONF_ERR(api->sendto(s, "q", 1, MSG_OOB, (struct sockaddr *)&ra, sizeof(ra)), EOPNOTSUPP);
	CONF_RET(api->sendto(s, "r", 1, 0, (struct sockaddr *)&ra, sizeof(ra)), 1);
	conf_expect_dgram(api, r, "ppr", 3);

	t = conf_udp(api);
	CONF_RET(api->sendto(t, "gone", 4, MSG_MORE, (struct sockaddr *)&ra, sizeof(ra)), 4);
	api->close(t);
	conf_expect_none(api, r);
	api->close(s);
	api->close(r);
}
