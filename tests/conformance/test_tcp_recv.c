/* SPDX-License-Identifier: MIT */
/*
 * test_tcp_recv.c - the receive side of TCP: recv flags, SO_RCVLOWAT, SO_RCVTIMEO, ioctls
 *
 * MSG_PEEK, MSG_WAITALL (and every way it returns short), MSG_TRUNC as
 * Linux treats it on a stream (the bytes are dropped, the count returned),
 * MSG_DONTWAIT, the end of file, ENOTCONN; SO_RCVLOWAT as poll and recv
 * honour it; SO_RCVTIMEO; FIONREAD/SIOCINQ, SIOCOUTQ and SIOCOUTQNSD.
 * Every scenario runs on the kernel and on usock (see sockapi.h), on lo of
 * the test's own namespace (real time for both stacks: no topology), except
 * the last, which needs a link that loses everything.  Expected values are
 * the kernel's (Linux 6.18).  Scenarios close every socket they open.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "sockapi.h"
#include "conf_util.h"
#include "conf_tcp.h"

#define PORT CONF_TCP_PORT

/* An int ioctl of fd (asserted to succeed). */
static int ioctl_int(const struct sockapi *api, int fd, unsigned long req)
{
	int v = -1;

	OK(api->ioctl(fd, req, &v));
	return v;
}

/* Send the string msg on fd, all of it (asserted). */
static void send_str(const struct sockapi *api, int fd, const char *msg)
{
	CONF_RET(api->send(fd, msg, strlen(msg), 0), strlen(msg));
}

/* Wait (up to 1 s) until fd has at least n bytes readable (FIONREAD). */
static void wait_inq(const struct sockapi *api, int fd, int n)
{
	int v = 0;

	for (int t = 0; t < 200; t++) {
		v = ioctl_int(api, fd, FIONREAD);
		if (v >= n)
			return;
		api->sleep_ms(5);
	}
	cr_assert_fail("%s: %d bytes readable, want %d", api->name, v, n);
}

/*
 * struct actor - a thread that, after delay_ms of real time, sends msg on
 * fd (if any), then shuts fd down with how (if shut), or closes it with an
 * RST (if abort: SO_LINGER {1, 0}, then close; fd is gone afterwards),
 * while the scenario's own thread is blocked in a call.  It asserts
 * nothing (Criterion asserts belong to the test's thread).
 */
struct actor {
	const struct sockapi *api;
	int fd;
	unsigned delay_ms;
	const char *msg;
	bool shut, abort;
	int how;
	atomic_int done;
	pthread_t th;
};

static void *actor_run(void *arg)
{
	struct actor *a = arg;
	struct timespec ts = { a->delay_ms / 1000, (long)(a->delay_ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
	if (a->msg)
		a->api->send(a->fd, a->msg, strlen(a->msg), MSG_NOSIGNAL);
	if (a->shut)
		a->api->shutdown(a->fd, a->how);
	if (a->abort) {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		a->api->setsockopt(a->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		a->api->close(a->fd);
	}
	atomic_store(&a->done, 1);
	return NULL;
}

static void actor_start(struct actor *a)
{
	atomic_store(&a->done, 0);
	cr_assert(pthread_create(&a->th, NULL, actor_run, a) == 0);
}

static void actor_join(struct actor *a)
{
	pthread_join(a->th, NULL);
}

/* ---- MSG_PEEK ---------------------------------------------------------------- */

/*
 * MSG_PEEK copies without consuming: a short peek gives the head, a long
 * one everything queued (across the two segments the peer sent), FIONREAD
 * does not move, and the reads that follow return the same bytes.  A peek
 * does not wait for more than is there (it returns what is queued, like a
 * read), and on an empty socket MSG_PEEK|MSG_DONTWAIT is EAGAIN.
 */
CONFORMANCE(tcp_recv, peek_then_read, .timeout = 10)
{
	char b[64];
	int c, s, one = 1;

	conf_tcp_pair(api, &c, &s);
	OK(api->setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)));
	FAILS(api->recv(s, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT), EAGAIN);
	send_str(api, c, "hello");
	wait_inq(api, s, 5);
	send_str(api, c, " world");
	wait_inq(api, s, 11);
	CONF_RET(api->recv(s, b, 3, MSG_PEEK), 3);
	cr_assert(memcmp(b, "hel", 3) == 0, "%s: peek got \"%.3s\"", api->name, b);
	CONF_RET(api->recv(s, b, sizeof(b), MSG_PEEK), 11);
	cr_assert(memcmp(b, "hello world", 11) == 0, "%s: peek got \"%.11s\"", api->name, b);
	CONF_RET(api->recv(s, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT), 11);
	CONF_RET(ioctl_int(api, s, FIONREAD), 11);
	cr_assert(conf_tcp_poll(api, s, POLLIN, 0) & POLLIN);
	CONF_RET(api->recv(s, b, 7, 0), 7);
	cr_assert(memcmp(b, "hello w", 7) == 0);
	CONF_RET(api->recv(s, b, sizeof(b), MSG_PEEK), 4);
	cr_assert(memcmp(b, "orld", 4) == 0);
	CONF_RET(api->recv(s, b, sizeof(b), 0), 4);
	cr_assert(memcmp(b, "orld", 4) == 0);
	FAILS(api->recv(s, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT), EAGAIN);
	CONF_RET(ioctl_int(api, s, FIONREAD), 0);
	api->close(c);
	api->close(s);
}

/*
 * A blocking MSG_PEEK on an empty socket waits for data, returns it and
 * leaves it queued; after the peer's FIN a peek reads 0 (end of file) once
 * the data is gone, as a read does.
 */
CONFORMANCE(tcp_recv, peek_blocks_then_eof, .timeout = 10)
{
	struct actor ac = { .api = api, .delay_ms = 100, .msg = "abc", .shut = true,
			    .how = SHUT_WR };
	char b[16];
	int c, s;

	conf_tcp_pair(api, &c, &s);
	ac.fd = c;
	actor_start(&ac);
	CONF_RET(api->recv(s, b, sizeof(b), MSG_PEEK), 3);
	cr_assert(memcmp(b, "abc", 3) == 0);
	actor_join(&ac);
	CONF_RET(api->recv(s, b, sizeof(b), 0), 3);
	CONF_RET(api->recv(s, b, sizeof(b), MSG_PEEK), 0);
	CONF_RET(api->recv(s, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT), 0);
	CONF_RET(api->recv(s, b, sizeof(b), 0), 0);
	api->close(c);
	api->close(s);
}

/*
 * SO_PEEK_OFF on TCP (Linux 6.10 on): reads -1 (off) until set; with an
 * offset, each MSG_PEEK starts there and moves it past what it copied;
 * reading moves it back by what was read (never below 0); a peek at or
 * beyond the queued bytes finds nothing (EAGAIN with MSG_DONTWAIT).
 * Negative values are stored as given (any of them means off).
 */
CONFORMANCE(tcp_recv, peek_off, .timeout = 10)
{
	char b[16];
	int c, s;

	conf_tcp_pair(api, &c, &s);
	CONF_RET(conf_tcp_get_int(api, s, SOL_SOCKET, SO_PEEK_OFF), -1);
	OK(conf_tcp_set_int(api, s, SOL_SOCKET, SO_PEEK_OFF, -7));
	CONF_RET(conf_tcp_get_int(api, s, SOL_SOCKET, SO_PEEK_OFF), -7);
	send_str(api, c, "abcdefgh");
	wait_inq(api, s, 8);
	CONF_RET(api->recv(s, b, 3, MSG_PEEK), 3);
	cr_assert(memcmp(b, "abc", 3) == 0);
	OK(conf_tcp_set_int(api, s, SOL_SOCKET, SO_PEEK_OFF, 0));
	CONF_RET(api->recv(s, b, 3, MSG_PEEK), 3);
	cr_assert(memcmp(b, "abc", 3) == 0);
	CONF_RET(api->recv(s, b, 3, MSG_PEEK), 3);
	cr_assert(memcmp(b, "def", 3) == 0, "%s: second peek \"%.3s\"", api->name, b);
	CONF_RET(conf_tcp_get_int(api, s, SOL_SOCKET, SO_PEEK_OFF), 6);
	CONF_RET(api->recv(s, b, 3, 0), 3);
	cr_assert(memcmp(b, "abc", 3) == 0);
	CONF_RET(conf_tcp_get_int(api, s, SOL_SOCKET, SO_PEEK_OFF), 3);
	CONF_RET(api->recv(s, b, sizeof(b), MSG_PEEK), 2);
	cr_assert(memcmp(b, "gh", 2) == 0);
	CONF_RET(conf_tcp_get_int(api, s, SOL_SOCKET, SO_PEEK_OFF), 5);
	FAILS(api->recv(s, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT), EAGAIN);
	OK(conf_tcp_set_int(api, s, SOL_SOCKET, SO_PEEK_OFF, 1));
	CONF_RET(api->recv(s, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT), 4);
	cr_assert(memcmp(b, "efgh", 4) == 0);
	CONF_RET(api->recv(s, b, sizeof(b), 0), 5);
	cr_assert(memcmp(b, "defgh", 5) == 0);
	CONF_RET(conf_tcp_get_int(api, s, SOL_SOCKET, SO_PEEK_OFF), 0);
	api->close(c);
	api->close(s);
}

/*
 * SO_PEEK_OFF set on a listener: the accepted socket starts with it
 * (sk_clone_lock copies sk_peek_off), so its first peek starts there.
 */
CONFORMANCE(tcp_recv, peek_off_inherited, .timeout = 10)
{
	struct sockaddr_in a;
	char b[16];
	int l, c, s;

	l = conf_tcp_lo_listener(api, &a);
	CONF_RET(conf_tcp_get_int(api, l, SOL_SOCKET, SO_PEEK_OFF), -1);
	OK(conf_tcp_set_int(api, l, SOL_SOCKET, SO_PEEK_OFF, 2));
	conf_tcp_pair_on(api, l, &a, &c, &s);
	CONF_RET(conf_tcp_get_int(api, s, SOL_SOCKET, SO_PEEK_OFF), 2);
	CONF_RET(conf_tcp_get_int(api, c, SOL_SOCKET, SO_PEEK_OFF), -1);
	send_str(api, c, "abcdef");
	wait_inq(api, s, 6);
	CONF_RET(api->recv(s, b, sizeof(b), MSG_PEEK), 4);
	cr_assert(memcmp(b, "cdef", 4) == 0);
	CONF_RET(conf_tcp_get_int(api, s, SOL_SOCKET, SO_PEEK_OFF), 6);
	api->close(c);
	api->close(s);
	api->close(l);
}

/*
 * MSG_PEEK|MSG_WAITALL waits, like MSG_WAITALL, until the whole length is
 * queued (3 bytes there, 4 more 200 ms later), returns it, and leaves
 * every byte queued.
 */
CONFORMANCE(tcp_recv, peek_waitall, .timeout = 10)
{
	struct actor ac = { .api = api, .delay_ms = 200, .msg = "defg" };
	char b[16];
	double t0, dt;
	int c, s;

	conf_tcp_pair(api, &c, &s);
	send_str(api, c, "abc");
	wait_inq(api, s, 3);
	ac.fd = c;
	actor_start(&ac);
	t0 = conf_now_ms();
	CONF_RET(api->recv(s, b, 6, MSG_PEEK | MSG_WAITALL), 6);
	dt = conf_now_ms() - t0;
	actor_join(&ac);
	cr_assert(memcmp(b, "abcdef", 6) == 0);
	cr_assert(dt >= 150, "%s: returned after %.0f ms", api->name, dt);
	CONF_RET(api->recv(s, b, sizeof(b), 0), 7);
	cr_assert(memcmp(b, "abcdefg", 7) == 0);
	api->close(c);
	api->close(s);
}

/*
 * A stream has no sender address: recvfrom leaves the address buffer
 * alone and sets its length to 0; recvmsg sets msg_namelen 0 and
 * msg_flags 0, and scatters the bytes over several iovecs in order.
 * MSG_ERRQUEUE with nothing queued is EAGAIN (blocking or not); MSG_OOB
 * with no urgent data is EINVAL.
 */
CONFORMANCE(tcp_recv, no_address_and_flags, .timeout = 10)
{
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	char b1[2], b2[3], b3[8];
	struct iovec iov[3] = { { b1, sizeof(b1) }, { b2, sizeof(b2) }, { b3, sizeof(b3) } };
	struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = iov,
			    .msg_iovlen = 3, .msg_flags = -1 };
	int c, s;

	conf_tcp_pair(api, &c, &s);
	FAILS(api->recv(s, b3, sizeof(b3), MSG_ERRQUEUE), EAGAIN);
	FAILS(api->recv(s, b3, sizeof(b3), MSG_ERRQUEUE | MSG_DONTWAIT), EAGAIN);
	FAILS(api->recv(s, b3, sizeof(b3), MSG_OOB), EINVAL);
	send_str(api, c, "abcdefghij");
	wait_inq(api, s, 10);
	memset(&from, 0x55, sizeof(from));
	CONF_RET(api->recvfrom(s, b3, 2, 0, SA(&from), &fl), 2);
	CONF_RET(fl, 0);
	cr_assert_eq(from.sin_family, 0x5555, "%s: recvfrom wrote an address", api->name);
	CONF_RET(api->recvmsg(s, &m, 0), 8);
	CONF_RET(m.msg_namelen, 0);
	CONF_RET(m.msg_flags, 0);
	cr_assert(memcmp(b1, "cd", 2) == 0 && memcmp(b2, "efg", 3) == 0 &&
		  memcmp(b3, "hij", 3) == 0, "%s: scattered wrongly", api->name);
	api->close(c);
	api->close(s);
}

/*
 * shutdown(SHUT_RD) on TCP only ends waiting: queued data is still read,
 * then recv returns 0 at once (blocking or not); data the peer sends
 * afterwards is still accepted, counted by FIONREAD and read (Linux does
 * not discard it).  poll says POLLIN|POLLOUT|POLLRDHUP throughout.
 */
CONFORMANCE(tcp_recv, shut_rd_keeps_receiving, .timeout = 10)
{
	struct pollfd p;
	char b[16];
	int c, s;

	conf_tcp_pair(api, &c, &s);
	send_str(api, c, "abcd");
	wait_inq(api, s, 4);
	OK(api->shutdown(s, SHUT_RD));
	p = (struct pollfd){ .fd = s, .events = POLLIN | POLLOUT | POLLRDHUP };
	OK(api->poll(&p, 1, 0));
	CONF_RET(p.revents, POLLIN | POLLOUT | POLLRDHUP);
	CONF_RET(api->recv(s, b, 2, 0), 2);
	CONF_RET(api->recv(s, b, sizeof(b), 0), 2);
	cr_assert(memcmp(b, "cd", 2) == 0);
	CONF_RET(api->recv(s, b, sizeof(b), 0), 0);
	CONF_RET(api->recv(s, b, sizeof(b), MSG_DONTWAIT), 0);
	send_str(api, c, "xyz");
	wait_inq(api, s, 3);
	OK(api->poll(&p, 1, 0));
	CONF_RET(p.revents, POLLIN | POLLOUT | POLLRDHUP);
	CONF_RET(api->recv(s, b, sizeof(b), 0), 3);
	cr_assert(memcmp(b, "xyz", 3) == 0);
	CONF_RET(api->recv(s, b, sizeof(b), 0), 0);
	send_str(api, s, "back");
	wait_inq(api, c, 4);
	api->close(c);
	api->close(s);
}

/* ---- MSG_WAITALL ------------------------------------------------------------- */

/*
 * MSG_WAITALL blocks until the whole length came: 3 bytes are there, the
 * rest arrives 150 ms later in another segment, and one call returns all
 * 10.  Without MSG_WAITALL the same call returns the 3 at once.
 */
CONFORMANCE(tcp_recv, waitall_blocks_until_all, .timeout = 10)
{
	struct actor ac = { .api = api, .delay_ms = 150, .msg = "defghij" };
	char b[16];
	double t0, dt;
	int c, s;

	conf_tcp_pair(api, &c, &s);
	send_str(api, c, "abc");
	wait_inq(api, s, 3);
	ac.fd = c;
	actor_start(&ac);
	t0 = conf_now_ms();
	CONF_RET(api->recv(s, b, 10, MSG_WAITALL), 10);
	dt = conf_now_ms() - t0;
	cr_assert(memcmp(b, "abcdefghij", 10) == 0, "%s: got \"%.10s\"", api->name, b);
	cr_assert(dt >= 100, "%s: MSG_WAITALL returned after %.0f ms", api->name, dt);
	actor_join(&ac);

	send_str(api, c, "klm");
	wait_inq(api, s, 3);
	CONF_RET(api->recv(s, b, 10, 0), 3);
	/* MSG_WAITALL with MSG_DONTWAIT: whatever is there, no wait */
	send_str(api, c, "no");
	wait_inq(api, s, 2);
	CONF_RET(api->recv(s, b, 10, MSG_WAITALL | MSG_DONTWAIT), 2);
	FAILS(api->recv(s, b, 10, MSG_WAITALL | MSG_DONTWAIT), EAGAIN);
	api->close(c);
	api->close(s);
}

/*
 * MSG_WAITALL returns short when the peer's FIN ends the stream: the 3
 * bytes before it; then 0 for good.
 */
CONFORMANCE(tcp_recv, waitall_short_on_fin, .timeout = 10)
{
	struct actor ac = { .api = api, .delay_ms = 150, .msg = "xyz", .shut = true,
			    .how = SHUT_WR };
	char b[16];
	int c, s;

	conf_tcp_pair(api, &c, &s);
	send_str(api, c, "abc");
	ac.fd = c;
	actor_start(&ac);
	CONF_RET(api->recv(s, b, 10, MSG_WAITALL), 6);
	cr_assert(memcmp(b, "abcxyz", 6) == 0);
	actor_join(&ac);
	CONF_RET(api->recv(s, b, 10, MSG_WAITALL), 0);
	api->close(c);
	api->close(s);
}

/*
 * MSG_WAITALL returns short when another thread shuts the socket's own
 * receive side (shutdown(SHUT_RD) wakes the sleeper, tcp_recvmsg stops at
 * RCV_SHUTDOWN): the bytes read so far, and 0 once nothing was read.
 */
CONFORMANCE(tcp_recv, waitall_short_on_shut_rd, .timeout = 10)
{
	struct actor ac = { .api = api, .delay_ms = 150, .shut = true, .how = SHUT_RD };
	char b[16];
	int c, s;

	conf_tcp_pair(api, &c, &s);
	send_str(api, c, "abcd");
	wait_inq(api, s, 4);
	ac.fd = s;
	actor_start(&ac);
	CONF_RET(api->recv(s, b, 10, MSG_WAITALL), 4);
	actor_join(&ac);
	cr_assert(atomic_load(&ac.done));
	CONF_RET(api->recv(s, b, 10, MSG_WAITALL), 0);
	api->close(c);
	api->close(s);
}

/*
 * R-ERR-EINTR: MSG_WAITALL interrupted by a signal (no SA_RESTART) returns
 * the count read so far; with nothing read it is EINTR.  With SA_RESTART
 * an empty blocking recv is restarted and returns the data sent later.
 */
CONFORMANCE(tcp_recv, waitall_short_on_signal, .timeout = 10)
{
	struct conf_later it = { .api = api, .delay_ms = 150, .sig = SIGUSR1 };
	struct actor ac = { .api = api, .delay_ms = 300, .msg = "late" };
	char b[16];
	int c, s;

	conf_count_signal(SIGUSR1, false, NULL);
	conf_tcp_pair(api, &c, &s);
	send_str(api, c, "ab");
	wait_inq(api, s, 2);
	conf_later_start(&it);
	CONF_RET(api->recv(s, b, 10, MSG_WAITALL), 2);
	cr_assert_eq(conf_signals(), 1);
	conf_later_join(&it);

	conf_later_start(&it);
	FAILS(api->recv(s, b, 10, MSG_WAITALL), EINTR);
	cr_assert_eq(conf_signals(), 2);
	conf_later_join(&it);

	conf_count_signal(SIGUSR1, true, NULL);
	ac.fd = c;
	conf_later_start(&it);
	actor_start(&ac);
	CONF_RET(api->recv(s, b, 4, MSG_WAITALL), 4);
	cr_assert(memcmp(b, "late", 4) == 0);
	cr_assert_eq(conf_signals(), 1);
	conf_later_join(&it);
	actor_join(&ac);
	api->close(c);
	api->close(s);
}

/*
 * R-ERR-ECONNRESET: a MSG_WAITALL recv that has part of the data when the
 * peer resets returns that part (3 bytes queued, 2 more then the RST 150
 * ms later: 5); the reset comes with the next call (ECONNRESET), then EOF.
 */
CONFORMANCE(tcp_recv, waitall_short_on_reset, .timeout = 10)
{
	struct actor ac = { .api = api, .delay_ms = 150, .msg = "de", .abort = true };
	char b[16];
	int c, s;

	conf_tcp_pair(api, &c, &s);
	send_str(api, c, "abc");
	wait_inq(api, s, 3);
	ac.fd = c;
	actor_start(&ac);
	CONF_RET(api->recv(s, b, 10, MSG_WAITALL), 5);
	cr_assert(memcmp(b, "abcde", 5) == 0);
	actor_join(&ac);
	FAILS(api->recv(s, b, 10, MSG_WAITALL), ECONNRESET);
	CONF_RET(api->recv(s, b, 10, MSG_WAITALL), 0);
	api->close(s);
}

/*
 * R-ERR-EINTR: SA_RESTART does not restart a blocking recv that has a
 * receive timeout (SO_RCVTIMEO 10 s, longer than the test): EINTR
 * (sock_intr_errno), as for send.
 */
CONFORMANCE(tcp_recv, eintr_sa_restart_with_rcvtimeo, .timeout = 10)
{
	struct conf_later it = { .api = api, .delay_ms = 150, .sig = SIGUSR1 };
	struct timeval tv = { 10, 0 };
	char b[16];
	int c, s;

	conf_count_signal(SIGUSR1, true, NULL);
	conf_tcp_pair(api, &c, &s);
	OK(api->setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	conf_later_start(&it);
	FAILS(api->recv(s, b, sizeof(b), 0), EINTR);
	cr_assert_eq(conf_signals(), 1);
	conf_later_join(&it);
	api->close(c);
	api->close(s);
}

/*
 * R-ERR-EAGAIN: SO_RCVTIMEO (200 ms) ends a blocking recv on an empty
 * socket with EAGAIN after the timeout; MSG_WAITALL with part of the data
 * there returns that part when the timeout ends it.  The timeout is the
 * value set (a 200 ms timeval reads back as set).
 */
CONFORMANCE(tcp_recv, rcvtimeo_expiry, .timeout = 10)
{
	struct timeval tv = { 0, 200000 }, got;
	socklen_t l = sizeof(got);
	char b[16];
	double t0, dt;
	int c, s;

	conf_tcp_pair(api, &c, &s);
	OK(api->setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	OK(api->getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &got, &l));
	cr_assert(got.tv_sec == 0 && got.tv_usec == 200000, "%s: SO_RCVTIMEO %ld.%06ld",
		  api->name, (long)got.tv_sec, (long)got.tv_usec);
	t0 = conf_now_ms();
	FAILS(api->recv(s, b, sizeof(b), 0), EAGAIN);
	dt = conf_now_ms() - t0;
	cr_assert(dt >= 150 && dt < 2000, "%s: EAGAIN after %.0f ms", api->name, dt);

	t0 = conf_now_ms();
	FAILS(api->read(s, b, sizeof(b)), EAGAIN);
	dt = conf_now_ms() - t0;
	cr_assert(dt >= 150 && dt < 2000, "%s: read EAGAIN after %.0f ms", api->name, dt);

	send_str(api, c, "abc");
	wait_inq(api, s, 3);
	t0 = conf_now_ms();
	CONF_RET(api->recv(s, b, 10, MSG_WAITALL), 3);
	dt = conf_now_ms() - t0;
	cr_assert(dt >= 150 && dt < 2000, "%s: short MSG_WAITALL after %.0f ms", api->name, dt);
	cr_assert(memcmp(b, "abc", 3) == 0);
	api->close(c);
	api->close(s);
}

/* ---- MSG_TRUNC, MSG_DONTWAIT, EOF, ENOTCONN ----------------------------------- */

/*
 * MSG_TRUNC on TCP discards: recv(NULL, 4, MSG_TRUNC) drops the next 4
 * bytes and returns 4 (tcp_recvmsg skips the copy), the buffer is not
 * touched, and the next read starts after them.  With MSG_PEEK it counts
 * without dropping.  Asking for more than is queued drops what is there.
 */
CONFORMANCE(tcp_recv, msg_trunc_discards, .timeout = 10)
{
	char b[16];
	int c, s;

	conf_tcp_pair(api, &c, &s);
	send_str(api, c, "0123456789");
	wait_inq(api, s, 10);
	CONF_RET(api->recv(s, NULL, 4, MSG_TRUNC), 4);
	CONF_RET(ioctl_int(api, s, FIONREAD), 6);
	memset(b, '#', sizeof(b));
	CONF_RET(api->recv(s, b, 2, MSG_TRUNC), 2);
	cr_assert_eq(b[0], '#', "%s: MSG_TRUNC wrote to the buffer", api->name);
	CONF_RET(api->recv(s, NULL, 3, MSG_TRUNC | MSG_PEEK), 3);
	CONF_RET(ioctl_int(api, s, FIONREAD), 4);
	CONF_RET(api->recv(s, b, 2, 0), 2);
	cr_assert(memcmp(b, "67", 2) == 0, "%s: after MSG_TRUNC read \"%.2s\"", api->name, b);
	CONF_RET(api->recv(s, NULL, 100, MSG_TRUNC), 2);
	FAILS(api->recv(s, NULL, 100, MSG_TRUNC | MSG_DONTWAIT), EAGAIN);
	send_str(api, c, "z");
	wait_inq(api, s, 1);
	CONF_RET(api->recv(s, b, sizeof(b), 0), 1);
	cr_assert_eq(b[0], 'z');
	api->close(c);
	api->close(s);
}

/*
 * R-ERR-EAGAIN R-FLAG-DONTWAIT: an empty connected socket gives EAGAIN to
 * recv(MSG_DONTWAIT), and to recv, read and readv once O_NONBLOCK is set;
 * so is a zero-length recv(MSG_DONTWAIT): tcp_recvmsg looks for data even
 * for 0 bytes (a blocking one would wait), and returns 0 once some is there.
 */
CONFORMANCE(tcp_recv, dontwait_eagain, .timeout = 10)
{
	char b[8];
	struct iovec iov = { b, sizeof(b) };
	int c, s, fl;

	conf_tcp_pair(api, &c, &s);
	FAILS(api->recv(s, b, sizeof(b), MSG_DONTWAIT), EAGAIN);
	FAILS(api->recv(s, b, sizeof(b), MSG_DONTWAIT | MSG_WAITALL), EAGAIN);
	fl = OK(api->fcntl(s, F_GETFL, 0));
	OK(api->fcntl(s, F_SETFL, fl | O_NONBLOCK));
	FAILS(api->recv(s, b, sizeof(b), 0), EAGAIN);
	FAILS(api->read(s, b, sizeof(b)), EAGAIN);
	FAILS(api->readv(s, &iov, 1), EAGAIN);
	OK(api->fcntl(s, F_SETFL, fl));
	FAILS(api->recv(s, b, 0, MSG_DONTWAIT), EAGAIN);
	send_str(api, c, "q");
	wait_inq(api, s, 1);
	CONF_RET(api->recv(s, b, 0, 0), 0);
	CONF_RET(api->recv(s, b, 0, MSG_DONTWAIT), 0);
	CONF_RET(api->recv(s, b, sizeof(b), MSG_DONTWAIT), 1);
	api->close(c);
	api->close(s);
}

/*
 * After the peer's FIN: the data first, then recv is 0, again and again,
 * blocking or not, whatever the flags; poll says POLLIN|POLLRDHUP (and
 * POLLOUT: this side may still send); FIONREAD does not count the FIN.
 */
CONFORMANCE(tcp_recv, eof_after_fin, .timeout = 10)
{
	struct pollfd p;
	char b[8];
	int c, s;

	conf_tcp_pair(api, &c, &s);
	send_str(api, c, "bye");
	OK(api->shutdown(c, SHUT_WR));
	cr_assert(conf_tcp_poll(api, s, POLLRDHUP, 1000) & POLLRDHUP, "%s: no FIN", api->name);
	CONF_RET(ioctl_int(api, s, FIONREAD), 3);
	CONF_RET(api->recv(s, b, sizeof(b), 0), 3);
	CONF_RET(ioctl_int(api, s, FIONREAD), 0);
	CONF_RET(api->recv(s, b, sizeof(b), 0), 0);
	CONF_RET(api->recv(s, b, sizeof(b), 0), 0);
	CONF_RET(api->recv(s, b, sizeof(b), MSG_DONTWAIT), 0);
	CONF_RET(api->recv(s, b, sizeof(b), MSG_WAITALL), 0);
	CONF_RET(api->recv(s, b, sizeof(b), MSG_PEEK), 0);
	CONF_RET(api->read(s, b, sizeof(b)), 0);
	p = (struct pollfd){ .fd = s, .events = POLLIN | POLLOUT | POLLRDHUP };
	OK(api->poll(&p, 1, 0));
	cr_assert_eq(p.revents, POLLIN | POLLOUT | POLLRDHUP, "%s: revents %#x", api->name,
		     p.revents);
	/* the half-closed side can still send */
	send_str(api, s, "ok");
	wait_inq(api, c, 2);
	CONF_RET(api->recv(c, b, sizeof(b), 0), 2);
	api->close(c);
	api->close(s);
}

/*
 * R-ERR-ENOTCONN: recv on a TCP socket that was never connected, and on a
 * listening one, is ENOTCONN whatever the flags (blocking, MSG_DONTWAIT,
 * MSG_PEEK, MSG_WAITALL, MSG_TRUNC) and through read and readv.
 */
CONFORMANCE(tcp_recv, enotconn_unconnected_and_listening, .timeout = 10)
{
	struct sockaddr_in a;
	char b[8];
	struct iovec iov = { b, sizeof(b) };
	int u, l, fds[2], i;

	u = conf_tcp_socket(api, 0);
	l = conf_tcp_lo_listener(api, &a);
	fds[0] = u;
	fds[1] = l;
	for (i = 0; i < 2; i++) {
		FAILS(api->recv(fds[i], b, sizeof(b), 0), ENOTCONN);
		FAILS(api->recv(fds[i], b, sizeof(b), MSG_DONTWAIT), ENOTCONN);
		FAILS(api->recv(fds[i], b, sizeof(b), MSG_PEEK), ENOTCONN);
		FAILS(api->recv(fds[i], b, sizeof(b), MSG_WAITALL), ENOTCONN);
		FAILS(api->recv(fds[i], NULL, 4, MSG_TRUNC), ENOTCONN);
		FAILS(api->recvfrom(fds[i], b, sizeof(b), 0, NULL, NULL), ENOTCONN);
		FAILS(api->read(fds[i], b, sizeof(b)), ENOTCONN);
		FAILS(api->readv(fds[i], &iov, 1), ENOTCONN);
	}
	/* a bound, unconnected socket is no different */
	a = sin4("127.0.0.1", PORT + 1);
	OK(api->bind(u, SA(&a), sizeof(a)));
	FAILS(api->recv(u, b, sizeof(b), 0), ENOTCONN);
	api->close(u);
	api->close(l);
}

/*
 * struct acceptor - a thread that waits (up to 3 s) for a connection on
 * the listener l, accepts it into fd and sends "hi" on it.
 */
struct acceptor {
	const struct sockapi *api;
	int l, fd;
	pthread_t th;
};

static void *acceptor_run(void *arg)
{
	struct acceptor *ac = arg;
	struct pollfd p = { .fd = ac->l, .events = POLLIN };

	ac->fd = -1;
	if (ac->api->poll(&p, 1, 3000) == 1) {
		ac->fd = ac->api->accept4(ac->l, NULL, NULL, 0);
		if (ac->fd >= 0)
			ac->api->send(ac->fd, "hi", 2, MSG_NOSIGNAL);
	}
	return NULL;
}

/*
 * recv on a socket whose connect is still in progress (SYN_SENT: the
 * listener's accept queue is full, backlog 0 with one connection waiting,
 * so its SYN goes unanswered) is not ENOTCONN: with MSG_DONTWAIT it is
 * EAGAIN, FIONREAD reads 0, and a blocking recv waits for the connection
 * and its data: room is made in the accept queue, the SYN is retransmitted
 * 1 s after it was first sent, another thread accepts and sends.
 */
CONFORMANCE(tcp_recv, recv_while_connecting, .timeout = 20)
{
	struct sockaddr_in a = sin4("127.0.0.1", PORT);
	struct acceptor acc = { .api = api };
	struct timeval tv = { 5, 0 };
	char b[16];
	int l, c1, s1, c2;

	l = conf_tcp_socket(api, 0);
	OK(api->bind(l, SA(&a), sizeof(a)));
	OK(api->listen(l, 0));
	c1 = conf_tcp_socket(api, 0);
	OK(api->connect(c1, SA(&a), sizeof(a)));
	c2 = OK(api->socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
	FAILS(api->connect(c2, SA(&a), sizeof(a)), EINPROGRESS);
	api->sleep_ms(50);
	FAILS(api->recv(c2, b, sizeof(b), MSG_DONTWAIT), EAGAIN);
	FAILS(api->recv(c2, b, sizeof(b), 0), EAGAIN);
	CONF_RET(ioctl_int(api, c2, FIONREAD), 0);
	s1 = OK(api->accept4(l, NULL, NULL, 0));
	OK(api->fcntl(c2, F_SETFL, 0));
	OK(api->setsockopt(c2, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	acc.l = l;
	cr_assert(pthread_create(&acc.th, NULL, acceptor_run, &acc) == 0);
	CONF_RET(api->recv(c2, b, sizeof(b), 0), 2);
	cr_assert(memcmp(b, "hi", 2) == 0);
	pthread_join(acc.th, NULL);
	cr_assert(acc.fd >= 0, "%s: the second connection was not accepted", api->name);
	api->close(acc.fd);
	api->close(c2);
	api->close(s1);
	api->close(c1);
	api->close(l);
}

/*
 * R-ERR-ECONNRESET: bytes that came before the peer's RST stay counted by
 * FIONREAD (3) and readable; then ECONNRESET, then FIONREAD 0 and EOF.
 */
CONFORMANCE(tcp_recv, fionread_after_reset, .timeout = 10)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	char b[16];
	int c, s;

	conf_tcp_pair(api, &c, &s);
	send_str(api, c, "abc");
	wait_inq(api, s, 3);
	OK(api->setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	api->close(c);
	cr_assert(conf_tcp_poll(api, s, POLLERR, 1000) & POLLERR, "%s: no RST", api->name);
	CONF_RET(ioctl_int(api, s, FIONREAD), 3);
	CONF_RET(api->recv(s, b, sizeof(b), 0), 3);
	FAILS(api->recv(s, b, sizeof(b), 0), ECONNRESET);
	CONF_RET(ioctl_int(api, s, FIONREAD), 0);
	CONF_RET(api->recv(s, b, sizeof(b), 0), 0);
	api->close(s);
}

/* ---- SO_RCVLOWAT ------------------------------------------------------------- */

/*
 * R-ERR-EINVAL: SO_RCVLOWAT reads 1 by default; 0 is stored as 1, a
 * negative value as INT_MAX, and for TCP every value is capped at half the
 * largest receive buffer (tcp_set_rcvlowat: tcp_rmem[2] / 2, 16777216 with
 * Linux 6.18's default tcp_rmem; half of SO_RCVBUF once that is set).  A
 * short optlen is EINVAL.  Raising it past what the receive buffer can
 * offer grows SO_RCVBUF (to twice the mark: tcp_space_from_win) unless
 * SO_RCVBUF was set.
 */
CONFORMANCE(tcp_recv, rcvlowat_values, .timeout = 10)
{
	char rmem[64];
	long lo, def, hi;
	int fd, v = 5, cap;

	cr_assert(conf_sysctl_get(api, NULL, "net.ipv4.tcp_rmem", rmem, sizeof(rmem)) == 0);
	cr_assert(sscanf(rmem, "%ld %ld %ld", &lo, &def, &hi) == 3, "%s: tcp_rmem \"%s\"",
		  api->name, rmem);
	cap = (int)(hi / 2);
	fd = conf_tcp_socket(api, 0);
	CONF_RET(conf_tcp_get_int(api, fd, SOL_SOCKET, SO_RCVLOWAT), 1);
	OK(conf_tcp_set_int(api, fd, SOL_SOCKET, SO_RCVLOWAT, 10));
	CONF_RET(conf_tcp_get_int(api, fd, SOL_SOCKET, SO_RCVLOWAT), 10);
	OK(conf_tcp_set_int(api, fd, SOL_SOCKET, SO_RCVLOWAT, 0));
	CONF_RET(conf_tcp_get_int(api, fd, SOL_SOCKET, SO_RCVLOWAT), 1);
	OK(conf_tcp_set_int(api, fd, SOL_SOCKET, SO_RCVLOWAT, -1));
	CONF_RET(conf_tcp_get_int(api, fd, SOL_SOCKET, SO_RCVLOWAT), cap);
	OK(conf_tcp_set_int(api, fd, SOL_SOCKET, SO_RCVLOWAT, 1 << 30));
	CONF_RET(conf_tcp_get_int(api, fd, SOL_SOCKET, SO_RCVLOWAT), cap);
	FAILS(api->setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &v, 2), EINVAL);
	CONF_RET(conf_tcp_get_int(api, fd, SOL_SOCKET, SO_RCVBUF), 2 * cap);
	api->close(fd);

	fd = conf_tcp_socket(api, 0);
	OK(conf_tcp_set_int(api, fd, SOL_SOCKET, SO_RCVLOWAT, 50000));
	CONF_RET(conf_tcp_get_int(api, fd, SOL_SOCKET, SO_RCVBUF), def);
	OK(conf_tcp_set_int(api, fd, SOL_SOCKET, SO_RCVLOWAT, 100000));
	CONF_RET(conf_tcp_get_int(api, fd, SOL_SOCKET, SO_RCVBUF), 200000);
	OK(conf_tcp_set_int(api, fd, SOL_SOCKET, SO_RCVBUF, 10000));
	OK(conf_tcp_set_int(api, fd, SOL_SOCKET, SO_RCVLOWAT, 1 << 30));
	CONF_RET(conf_tcp_get_int(api, fd, SOL_SOCKET, SO_RCVLOWAT), 10000);
	CONF_RET(conf_tcp_get_int(api, fd, SOL_SOCKET, SO_RCVBUF), 20000);
	api->close(fd);
}

/*
 * SO_RCVLOWAT 10: poll reports no POLLIN while fewer than 10 bytes are
 * queued and POLLIN once 10 are; MSG_DONTWAIT returns what is there, below
 * the mark; the peer's FIN makes the socket readable whatever the mark.
 */
CONFORMANCE(tcp_recv, rcvlowat_poll, .timeout = 10)
{
	char b[32];
	int c, s, one = 1;

	conf_tcp_pair(api, &c, &s);
	OK(api->setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)));
	OK(conf_tcp_set_int(api, s, SOL_SOCKET, SO_RCVLOWAT, 10));
	send_str(api, c, "12345");
	wait_inq(api, s, 5);
	api->sleep_ms(20);
	cr_assert_eq(conf_tcp_poll(api, s, POLLIN, 0), 0, "%s: POLLIN below SO_RCVLOWAT",
		     api->name);
	send_str(api, c, "67890");
	wait_inq(api, s, 10);
	cr_assert(conf_tcp_poll(api, s, POLLIN, 1000) & POLLIN, "%s: no POLLIN at SO_RCVLOWAT",
		  api->name);
	CONF_RET(api->recv(s, b, 3, MSG_DONTWAIT), 3);
	cr_assert_eq(conf_tcp_poll(api, s, POLLIN, 0), 0, "%s: POLLIN with 7 of 10", api->name);
	CONF_RET(api->recv(s, b, sizeof(b), MSG_DONTWAIT), 7);
	cr_assert(memcmp(b, "4567890", 7) == 0);

	send_str(api, c, "xy");
	wait_inq(api, s, 2);
	cr_assert_eq(conf_tcp_poll(api, s, POLLIN, 0), 0);
	OK(conf_tcp_set_int(api, s, SOL_SOCKET, SO_RCVLOWAT, 2));
	cr_assert(conf_tcp_poll(api, s, POLLIN, 0) & POLLIN,
		  "%s: no POLLIN after lowering the mark", api->name);
	OK(conf_tcp_set_int(api, s, SOL_SOCKET, SO_RCVLOWAT, 10));
	cr_assert_eq(conf_tcp_poll(api, s, POLLIN, 0), 0);
	OK(api->shutdown(c, SHUT_WR));
	cr_assert(conf_tcp_poll(api, s, POLLIN, 1000) & POLLIN, "%s: no POLLIN after FIN",
		  api->name);
	CONF_RET(api->recv(s, b, sizeof(b), 0), 2);
	CONF_RET(api->recv(s, b, sizeof(b), 0), 0);
	api->close(c);
	api->close(s);
}

/*
 * SO_RCVLOWAT 10 and a blocking recv.  With nothing queued, 10 bytes
 * arriving 150 ms later wake it and it returns them.  With 4 bytes queued
 * it copies those and sleeps; the other 6 arriving 150 ms later do NOT
 * wake it: tcp_data_ready compares only the bytes not yet copied (6) with
 * the mark.  So it returns all 10 only when SO_RCVTIMEO (600 ms) ends the
 * wait.
 */
CONFORMANCE(tcp_recv, rcvlowat_blocking_recv, .timeout = 10)
{
	struct actor ac = { .api = api, .delay_ms = 150, .msg = "0123456789" };
	struct timeval tv = { 0, 600000 };
	char b[32];
	double t0, dt;
	int c, s, one = 1;

	conf_tcp_pair(api, &c, &s);
	OK(api->setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)));
	OK(conf_tcp_set_int(api, s, SOL_SOCKET, SO_RCVLOWAT, 10));
	OK(api->setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	ac.fd = c;
	actor_start(&ac);
	t0 = conf_now_ms();
	CONF_RET(api->recv(s, b, sizeof(b), 0), 10);
	dt = conf_now_ms() - t0;
	actor_join(&ac);
	cr_assert(memcmp(b, "0123456789", 10) == 0);
	cr_assert(dt >= 100 && dt < 450, "%s: recv returned after %.0f ms", api->name, dt);

	send_str(api, c, "abcd");
	wait_inq(api, s, 4);
	ac.msg = "efghij";
	actor_start(&ac);
	t0 = conf_now_ms();
	CONF_RET(api->recv(s, b, sizeof(b), 0), 10);
	dt = conf_now_ms() - t0;
	actor_join(&ac);
	cr_assert(memcmp(b, "abcdefghij", 10) == 0);
	cr_assert(dt >= 500 && dt < 2000, "%s: recv returned after %.0f ms, want at the timeout",
		  api->name, dt);
	api->close(c);
	api->close(s);
}

/*
 * SO_RCVLOWAT with SO_RCVTIMEO: a blocking recv below the mark returns the
 * bytes there when the timeout ends the wait (not EAGAIN).
 */
CONFORMANCE(tcp_recv, rcvlowat_with_rcvtimeo, .timeout = 10)
{
	struct timeval tv = { 0, 200000 };
	char b[32];
	double t0, dt;
	int c, s;

	conf_tcp_pair(api, &c, &s);
	OK(conf_tcp_set_int(api, s, SOL_SOCKET, SO_RCVLOWAT, 10));
	OK(api->setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	send_str(api, c, "abcd");
	wait_inq(api, s, 4);
	t0 = conf_now_ms();
	CONF_RET(api->recv(s, b, sizeof(b), 0), 4);
	dt = conf_now_ms() - t0;
	cr_assert(dt >= 150 && dt < 2000, "%s: returned after %.0f ms", api->name, dt);
	api->close(c);
	api->close(s);
}

/* ---- ioctls ----------------------------------------------------------------- */

/*
 * R-ERR-EINVAL: FIONREAD (== SIOCINQ) counts the bytes readable: 0 on a
 * fresh or idle socket, the sum of what the peer sent, less what was read;
 * urgent data aside.  On a listening socket it is EINVAL; SIOCOUTQ and
 * SIOCOUTQNSD too.  On an unconnected socket all three read 0.
 */
CONFORMANCE(tcp_recv, fionread_siocinq, .timeout = 10)
{
	struct sockaddr_in a;
	char b[16];
	int c, s, l, u, v;

	u = conf_tcp_socket(api, 0);
	CONF_RET(ioctl_int(api, u, FIONREAD), 0);
	CONF_RET(ioctl_int(api, u, SIOCOUTQ), 0);
	CONF_RET(ioctl_int(api, u, SIOCOUTQNSD), 0);
	l = conf_tcp_lo_listener(api, &a);
	FAILS(api->ioctl(l, FIONREAD, &v), EINVAL);
	FAILS(api->ioctl(l, SIOCINQ, &v), EINVAL);
	FAILS(api->ioctl(l, SIOCOUTQ, &v), EINVAL);
	FAILS(api->ioctl(l, SIOCOUTQNSD, &v), EINVAL);
	c = conf_tcp_socket(api, 0);
	OK(api->connect(c, SA(&a), sizeof(a)));
	s = OK(api->accept4(l, NULL, NULL, 0));
	CONF_RET(ioctl_int(api, s, FIONREAD), 0);
	CONF_RET(ioctl_int(api, c, FIONREAD), 0);
	send_str(api, c, "abc");
	send_str(api, c, "defg");
	wait_inq(api, s, 7);
	CONF_RET(ioctl_int(api, s, FIONREAD), 7);
	CONF_RET(ioctl_int(api, s, SIOCINQ), 7);
	CONF_RET(api->recv(s, b, 2, 0), 2);
	CONF_RET(ioctl_int(api, s, SIOCINQ), 5);
	CONF_RET(api->recv(s, b, sizeof(b), 0), 5);
	CONF_RET(ioctl_int(api, s, SIOCINQ), 0);
	/* everything was acknowledged on lo: nothing waits on the sender */
	api->sleep_ms(50);
	CONF_RET(ioctl_int(api, c, SIOCOUTQ), 0);
	CONF_RET(ioctl_int(api, c, SIOCOUTQNSD), 0);
	api->close(c);
	api->close(s);
	api->close(l);
	api->close(u);
}

/*
 * SIOCOUTQ (bytes not yet acknowledged) and SIOCOUTQNSD (bytes not yet
 * sent) with the peer's receive window closed: the peer (SO_RCVBUF 4096)
 * does not read, the client (SO_SNDBUF 4096) sends until EAGAIN.  Then
 * SIOCOUTQ is everything sent less what the peer holds (it acknowledged
 * that), and all of it is unsent: SIOCOUTQNSD == SIOCOUTQ.  Reading
 * everything opens the window and both fall back to 0.
 */
CONFORMANCE(tcp_recv, siocoutq_with_closed_window, .timeout = 20)
{
	static char pat[65536];
	size_t sent = 0, got = 0;
	ssize_t r;
	int c, s, outq, nsd, inq;

	conf_fill(pat, sizeof(pat), 3);
	api->close(conf_tcp_small_pair(api, &c, &s));

	for (int round = 0; round < 20; round++) {
		int n = 0;

		while ((r = api->send(c, pat + sent, 1000, MSG_DONTWAIT)) > 0) {
			sent += (size_t)r;
			n++;
			cr_assert(sent + 1000 <= sizeof(pat), "%s: the send buffer never fills",
				  api->name);
		}
		cr_assert_eq(errno, EAGAIN);
		if (n == 0 && round > 0)
			break;
		api->sleep_ms(250);
	}
	inq = ioctl_int(api, s, FIONREAD);
	outq = ioctl_int(api, c, SIOCOUTQ);
	nsd = ioctl_int(api, c, SIOCOUTQNSD);
	cr_assert(inq > 0 && (size_t)inq < sent, "%s: peer holds %d of %zu", api->name, inq,
		  sent);
	cr_assert_eq((size_t)outq, sent - (size_t)inq, "%s: SIOCOUTQ %d, sent %zu, peer holds %d",
		     api->name, outq, sent, inq);
	cr_assert_eq(nsd, outq, "%s: SIOCOUTQNSD %d, SIOCOUTQ %d", api->name, nsd, outq);

	while (got < sent) {
		static char b[65536];

		cr_assert(conf_tcp_poll(api, s, POLLIN, 1000) & POLLIN, "%s: stalled at %zu of %zu",
			  api->name, got, sent);
		r = OK(api->recv(s, b, sizeof(b), MSG_DONTWAIT));
		cr_assert(r > 0 && memcmp(b, pat + got, (size_t)r) == 0);
		got += (size_t)r;
	}
	api->sleep_ms(100);
	CONF_RET(ioctl_int(api, c, SIOCOUTQ), 0);
	CONF_RET(ioctl_int(api, c, SIOCOUTQNSD), 0);
	api->close(c);
	api->close(s);
}
