/* SPDX-License-Identifier: MIT */
/*
 * test_ioctl.c - fcntl() and ioctl() on UDP/IPv4 sockets: O_NONBLOCK,
 * FD_CLOEXEC, FIONBIO, FIONREAD/SIOCINQ, SIOCOUTQ, SIOCGSTAMP(NS),
 * kernel and usock side by side
 *
 * Expected values were read from the kernel (Linux 6.18, x86_64).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <time.h>

#include "sockapi.h"
#include "conf_util.h"

static int ioctl_int(const struct sockapi *api, int fd, unsigned long req)
{
	int v = 0x5a5a5a5a;

	OK(api->ioctl(fd, req, &v));
	return v;
}

CONFORMANCE(udp_ioctl, fcntl_nonblock)
{
	int fd = bound_udp(api, "127.0.0.1", 5000, NULL);
	char b[8];
	double t0;

	cr_assert_eq(OK(api->fcntl(fd, F_GETFL, 0)), O_RDWR);
	OK(api->fcntl(fd, F_SETFL, O_NONBLOCK));
	cr_assert_eq(OK(api->fcntl(fd, F_GETFL, 0)), O_RDWR | O_NONBLOCK);
	t0 = conf_now_ms();
	FAILS(api->recv(fd, b, sizeof(b), 0), EAGAIN);
	FAILS(api->read(fd, b, sizeof(b)), EAGAIN);
	cr_assert_lt(conf_now_ms() - t0, 1000);
	/* F_SETFL replaces the flags: 0 clears O_NONBLOCK (the access mode stays). */
	OK(api->fcntl(fd, F_SETFL, 0));
	cr_assert_eq(OK(api->fcntl(fd, F_GETFL, 0)), O_RDWR);
	OK(api->close(fd));
}

CONFORMANCE(udp_ioctl, fcntl_cloexec)
{
	int fd = OK(api->socket(AF_INET, SOCK_DGRAM, 0));

	cr_assert_eq(OK(api->fcntl(fd, F_GETFD, 0)), 0);
	OK(api->fcntl(fd, F_SETFD, FD_CLOEXEC));
	cr_assert_eq(OK(api->fcntl(fd, F_GETFD, 0)), FD_CLOEXEC);
	OK(api->fcntl(fd, F_SETFD, 0));
	cr_assert_eq(OK(api->fcntl(fd, F_GETFD, 0)), 0);
	OK(api->close(fd));
}

CONFORMANCE(udp_ioctl, fionbio)
{
	int fd = bound_udp(api, "127.0.0.1", 5000, NULL);
	int on = 7, off = 0;
	char b[8];

	/* Any non-zero int turns it on; the file flag shows it. */
	OK(api->ioctl(fd, FIONBIO, &on));
	cr_assert_eq(OK(api->fcntl(fd, F_GETFL, 0)), O_RDWR | O_NONBLOCK);
	FAILS(api->recv(fd, b, sizeof(b), 0), EAGAIN);
	OK(api->ioctl(fd, FIONBIO, &off));
	cr_assert_eq(OK(api->fcntl(fd, F_GETFL, 0)), O_RDWR);
	FAILS(api->ioctl(fd, FIONBIO, NULL), EFAULT);
	OK(api->close(fd));
}

CONFORMANCE(udp_ioctl, fionread_next_datagram)
{
	int rx = bound_udp(api, "127.0.0.1", 5000, NULL);
	int tx = bound_udp(api, "127.0.0.1", 6000, NULL);
	struct pollfd p = { .fd = rx, .events = POLLIN };
	char b[32];

	cr_assert_eq(ioctl_int(api, rx, FIONREAD), 0);
	conf_send(api, tx, "127.0.0.1", 5000, "hello world", 11);
	conf_send(api, tx, "127.0.0.1", 5000, "abc", 3);
	/* UDP answers with the size of the next datagram, not the queue's total. */
	cr_assert_eq(ioctl_int(api, rx, FIONREAD), 11);
	cr_assert_eq(ioctl_int(api, rx, SIOCINQ), 11);
	cr_assert_eq(OK(api->recv(rx, b, sizeof(b), 0)), 11);
	cr_assert_eq(ioctl_int(api, rx, FIONREAD), 3);
	cr_assert_eq(OK(api->recv(rx, b, sizeof(b), 0)), 3);
	cr_assert_eq(ioctl_int(api, rx, SIOCINQ), 0);
	/* A queued zero-length datagram: 0 as well, though poll says readable. */
	conf_send(api, tx, "127.0.0.1", 5000, "", 0);
	cr_assert_eq(ioctl_int(api, rx, FIONREAD), 0);
	cr_assert_eq(OK(api->poll(&p, 1, 0)), 1);
	cr_assert_eq(OK(api->recv(rx, b, sizeof(b), 0)), 0);
	OK(api->close(rx));
	OK(api->close(tx));
}

CONFORMANCE(udp_ioctl, siocoutq_zero_on_loopback)
{
	int rx = bound_udp(api, "127.0.0.1", 5000, NULL);
	int tx = bound_udp(api, "127.0.0.1", 6000, NULL);
	char big[1400] = { 0 };

	cr_assert_eq(ioctl_int(api, tx, SIOCOUTQ), 0);
	/* Loopback frees the sender's charge as it hands the packet over. */
	conf_send(api, tx, "127.0.0.1", 5000, big, sizeof(big));
	conf_send(api, tx, "127.0.0.1", 5000, "x", 1);
	cr_assert_eq(ioctl_int(api, tx, SIOCOUTQ), 0);
	/* The receiver's queue is not the sender's outq. */
	cr_assert_eq(ioctl_int(api, rx, SIOCOUTQ), 0);
	cr_assert_eq(conf_drain(api, rx), 2);
	OK(api->close(rx));
	OK(api->close(tx));
}

CONFORMANCE(udp_ioctl, siocgstamp)
{
	int rx = bound_udp(api, "127.0.0.1", 5000, NULL);
	int tx = bound_udp(api, "127.0.0.1", 6000, NULL);
	struct timeval tv, now;
	struct timespec ts, nows;
	char b[8];
	double d;

	/* Nothing received yet: no stamp. */
	FAILS(api->ioctl(rx, SIOCGSTAMP, &tv), ENOENT);
	FAILS(api->ioctl(rx, SIOCGSTAMPNS, &ts), ENOENT);
	conf_send(api, tx, "127.0.0.1", 5000, "x", 1);
	/* Queued is not enough: the stamp is taken when a datagram is read. */
	FAILS(api->ioctl(rx, SIOCGSTAMP, &tv), ENOENT);
	cr_assert_eq(OK(api->recv(rx, b, sizeof(b), 0)), 1);
	OK(api->ioctl(rx, SIOCGSTAMP, &tv));
	gettimeofday(&now, NULL);
	d = (now.tv_sec - tv.tv_sec) + (now.tv_usec - tv.tv_usec) / 1e6;
	cr_assert(d >= 0 && d < 1, "%s: stamp %.6f s old", api->name, d);
	cr_assert(tv.tv_usec >= 0 && tv.tv_usec < 1000000);
	OK(api->ioctl(rx, SIOCGSTAMPNS, &ts));
	clock_gettime(CLOCK_REALTIME, &nows);
	d = (nows.tv_sec - ts.tv_sec) + (nows.tv_nsec - ts.tv_nsec) / 1e9;
	cr_assert(d >= 0 && d < 1, "%s: stamp %.9f s old", api->name, d);
	/* Both name the same instant. */
	cr_assert_eq(ts.tv_sec, tv.tv_sec);
	cr_assert_eq(ts.tv_nsec / 1000, tv.tv_usec);
	OK(api->close(rx));
	OK(api->close(tx));
}

CONFORMANCE(udp_ioctl, unknown_and_closed)
{
	int fd = OK(api->socket(AF_INET, SOCK_DGRAM, 0));
	int v = 0;

	FAILS(api->ioctl(fd, 0x1234, &v), ENOTTY);
	OK(api->close(fd));
	FAILS(api->ioctl(fd, FIONREAD, &v), EBADF);
	FAILS(api->fcntl(fd, F_GETFL, 0), EBADF);
}
