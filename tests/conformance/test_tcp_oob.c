/* SPDX-License-Identifier: MIT */
/*
 * test_tcp_oob.c - MSG_OOB on TCP/IPv4: the urgent byte, the mark, SO_OOBINLINE
 *
 * Linux keeps BSD's one-byte out-of-band data: send(MSG_OOB) marks the
 * last byte of the call urgent; the receiver takes it with recv(MSG_OOB)
 * (it is cut out of the stream), a normal read stops at the mark, and
 * SIOCATMARK tells when the next byte is the mark.  Every scenario runs on
 * the kernel and on usock (see sockapi.h); expected values are the
 * kernel's (Linux 6.18), on lo.  The urgent pointer on the wire is in
 * test_tcp_wire.c.  Scenarios close every socket they open.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <netinet/in.h>

#include "sockapi.h"
#include "conf_util.h"
#include "conf_tcp.h"


/* SIOCATMARK of fd: 1 when the next byte to read is the urgent mark. */
static int at_mark(const struct sockapi *api, int fd)
{
	int m = -1;

	OK(api->ioctl(fd, SIOCATMARK, &m));
	return m;
}

/* poll's answer for fd right now (asked for IN, PRI, OUT). */
static short revents(const struct sockapi *api, int fd)
{
	return conf_tcp_poll(api, fd, POLLIN | POLLPRI | POLLOUT, 0);
}

/* Wait up to 1 s until fd reports all of events. */
static void wait_all(const struct sockapi *api, int fd, short events)
{
	short ev = 0;

	for (int i = 0; i < 100; i++) {
		ev = conf_tcp_poll(api, fd, events, 10);
		if ((ev & events) == events)
			return;
	}
	cr_assert_fail("%s: poll never reported %#x (last %#x)", api->name, events, ev);
}

/* recv(fd, flags | MSG_DONTWAIT) must return exactly the string want. */
static void expect_read(const struct sockapi *api, int fd, int flags, const char *want)
{
	char b[64];
	size_t n = strlen(want);

	CONF_RET(api->recv(fd, b, sizeof(b), flags | MSG_DONTWAIT), n);
	cr_assert(memcmp(b, want, n) == 0, "%s: read \"%.*s\", want \"%s\"", api->name, (int)n, b,
		  want);
}

/*
 * R-FLAG-OOB: "ab", then "XYZ" with MSG_OOB, then "cd": only Z, the last
 * byte of the urgent send, is out of band.  Before it, recv(MSG_OOB) is
 * EINVAL and SIOCATMARK 0.  With it: POLLPRI; MSG_OOB|MSG_PEEK shows Z and
 * leaves it; a normal read stops at the mark ("abXY") and SIOCATMARK turns
 * 1; recv(MSG_OOB) takes Z once (POLLPRI clears, a second read is EINVAL);
 * the stream goes on with "cd", without Z.
 */
CONFORMANCE(tcp_oob, urgent_byte_and_mark, .timeout = 10)
{
	int c, s;

	conf_tcp_pair(api, &c, &s);
	CONF_RET(at_mark(api, s), 0);
	FAILS(api->recv(s, (char[4]){ 0 }, 4, MSG_OOB), EINVAL);
	FAILS(api->recv(s, (char[4]){ 0 }, 4, MSG_OOB | MSG_DONTWAIT), EINVAL);
	CONF_RET(api->send(c, "ab", 2, 0), 2);
	CONF_RET(api->send(c, "XYZ", 3, MSG_OOB), 3);
	CONF_RET(api->send(c, "cd", 2, 0), 2);
	wait_all(api, s, POLLIN | POLLPRI);
	cr_assert_eq(revents(api, s), POLLIN | POLLPRI | POLLOUT);
	CONF_RET(at_mark(api, s), 0);
	expect_read(api, s, MSG_OOB | MSG_PEEK, "Z");
	expect_read(api, s, 0, "abXY");
	CONF_RET(at_mark(api, s), 1);
	cr_assert_eq(revents(api, s), POLLIN | POLLPRI | POLLOUT);
	expect_read(api, s, MSG_OOB, "Z");
	cr_assert_eq(revents(api, s), POLLIN | POLLOUT);
	FAILS(api->recv(s, (char[4]){ 0 }, 4, MSG_OOB), EINVAL);
	CONF_RET(at_mark(api, s), 1);
	expect_read(api, s, 0, "cd");
	CONF_RET(at_mark(api, s), 0);
	FAILS(api->recv(s, (char[4]){ 0 }, 4, MSG_DONTWAIT), EAGAIN);
	api->close(s);
	api->close(c);
}

/*
 * R-FLAG-OOB: the urgent byte taken before the data ahead of it: a normal
 * read still stops at the mark ("ab", SIOCATMARK 1), then "cd" follows.
 */
CONFORMANCE(tcp_oob, urgent_read_before_the_data, .timeout = 10)
{
	int c, s;

	conf_tcp_pair(api, &c, &s);
	CONF_RET(api->send(c, "ab", 2, 0), 2);
	CONF_RET(api->send(c, "X", 1, MSG_OOB), 1);
	CONF_RET(api->send(c, "cd", 2, 0), 2);
	wait_all(api, s, POLLIN | POLLPRI);
	expect_read(api, s, MSG_OOB, "X");
	CONF_RET(at_mark(api, s), 0);
	cr_assert_eq(revents(api, s), POLLIN | POLLOUT);
	expect_read(api, s, 0, "ab");
	CONF_RET(at_mark(api, s), 1);
	expect_read(api, s, 0, "cd");
	api->close(s);
	api->close(c);
}

/*
 * R-FLAG-OOB: with SO_OOBINLINE on the receiver the urgent byte stays in
 * the stream: recv(MSG_OOB) is EINVAL, POLLPRI is still set, a read stops
 * at the mark ("ab", SIOCATMARK 1) and the next one starts with it ("Xcd").
 */
CONFORMANCE(tcp_oob, oobinline, .timeout = 10)
{
	int c, s, one = 1;

	conf_tcp_pair(api, &c, &s);
	OK(api->setsockopt(s, SOL_SOCKET, SO_OOBINLINE, &one, sizeof(one)));
	CONF_RET(api->send(c, "ab", 2, 0), 2);
	CONF_RET(api->send(c, "X", 1, MSG_OOB), 1);
	CONF_RET(api->send(c, "cd", 2, 0), 2);
	wait_all(api, s, POLLIN | POLLPRI);
	CONF_RET(at_mark(api, s), 0);
	FAILS(api->recv(s, (char[4]){ 0 }, 4, MSG_OOB), EINVAL);
	expect_read(api, s, 0, "ab");
	CONF_RET(at_mark(api, s), 1);
	expect_read(api, s, 0, "Xcd");
	CONF_RET(at_mark(api, s), 0);
	api->close(s);
	api->close(c);
}

/*
 * R-FLAG-OOB: when the urgent byte is all there is, poll says POLLPRI but
 * not POLLIN and SIOCATMARK is 1.  A normal read then is EAGAIN, yet it
 * steps over the mark and drops the urgent byte (tcp_recvmsg): afterwards
 * recv(MSG_OOB) is EINVAL and POLLPRI is gone.
 */
CONFORMANCE(tcp_oob, normal_read_drops_lone_urgent_byte, .timeout = 10)
{
	int c, s;

	conf_tcp_pair(api, &c, &s);
	CONF_RET(api->send(c, "X", 1, MSG_OOB), 1);
	wait_all(api, s, POLLPRI);
	cr_assert_eq(revents(api, s), POLLPRI | POLLOUT);
	CONF_RET(at_mark(api, s), 1);
	FAILS(api->recv(s, (char[4]){ 0 }, 4, MSG_DONTWAIT), EAGAIN);
	cr_assert_eq(revents(api, s), POLLOUT);
	FAILS(api->recv(s, (char[4]){ 0 }, 4, MSG_OOB), EINVAL);
	CONF_RET(api->send(c, "q", 1, 0), 1);
	wait_all(api, s, POLLIN);
	expect_read(api, s, 0, "q");
	api->close(s);
	api->close(c);
}

/*
 * R-FLAG-OOB: a second urgent send before the first byte was taken moves
 * the mark: the old urgent byte becomes ordinary data ("aXb" up to the new
 * mark) and only the new one, Y, is out of band.
 */
CONFORMANCE(tcp_oob, second_urgent_send_moves_the_mark, .timeout = 10)
{
	int c, s;

	conf_tcp_pair(api, &c, &s);
	CONF_RET(api->send(c, "aX", 2, MSG_OOB), 2);
	CONF_RET(api->send(c, "bY", 2, MSG_OOB), 2);
	CONF_RET(api->send(c, "c", 1, 0), 1);
	wait_all(api, s, POLLIN | POLLPRI);
	CONF_RET(at_mark(api, s), 0);
	expect_read(api, s, 0, "aXb");
	CONF_RET(at_mark(api, s), 1);
	expect_read(api, s, MSG_OOB, "Y");
	expect_read(api, s, 0, "c");
	api->close(s);
	api->close(c);
}

/*
 * R-FLAG-OOB: send(MSG_OOB) of zero bytes returns 0 and marks nothing (no
 * POLLPRI on the peer); MSG_OOB through sendto (address ignored) and
 * sendmsg works as send; the peer can send urgent data back.
 */
CONFORMANCE(tcp_oob, zero_length_and_other_calls, .timeout = 10)
{
	struct sockaddr_in other = sin4("127.0.0.9", 9);
	struct iovec iov[2] = { { "m", 1 }, { "N", 1 } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };
	int c, s;

	conf_tcp_pair(api, &c, &s);
	CONF_RET(api->send(c, "", 0, MSG_OOB), 0);
	CONF_RET(api->send(c, "p", 1, 0), 1);
	wait_all(api, s, POLLIN);
	cr_assert_eq(revents(api, s), POLLIN | POLLOUT, "%s: urgent data from a 0-byte send",
		     api->name);
	expect_read(api, s, 0, "p");
	CONF_RET(api->sendto(c, "sT", 2, MSG_OOB, SA(&other), sizeof(other)), 2);
	wait_all(api, s, POLLPRI);
	expect_read(api, s, MSG_OOB, "T");
	expect_read(api, s, 0, "s");
	CONF_RET(api->sendmsg(c, &m, MSG_OOB), 2);
	wait_all(api, s, POLLPRI);
	expect_read(api, s, MSG_OOB, "N");
	expect_read(api, s, 0, "m");
	CONF_RET(api->send(s, "rU", 2, MSG_OOB), 2);
	wait_all(api, c, POLLPRI);
	expect_read(api, c, MSG_OOB, "U");
	expect_read(api, c, 0, "r");
	api->close(s);
	api->close(c);
}
