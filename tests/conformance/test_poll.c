/* SPDX-License-Identifier: MIT */
/*
 * test_poll.c - poll() on UDP/IPv4 sockets: readiness masks through the
 * socket's life, errors, shutdown, mixing with kernel fds, timeouts,
 * kernel and usock side by side
 *
 * Expected masks were read from the kernel (Linux 6.18): every scenario asks
 * for every event poll(2) can report, so an extra or a missing bit fails.
 * R-NOTE-SELECT: poll tells when data can be sent (POLLOUT) and read.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "sockapi.h"
#include "conf_util.h"

/* Everything poll(2) reports on request (the rest it reports anyway). */
#define ALL                                                                            \
	(POLLIN | POLLPRI | POLLOUT | POLLRDNORM | POLLRDBAND | POLLWRNORM | POLLWRBAND | \
	 POLLRDHUP)
#define WRITABLE (POLLOUT | POLLWRNORM | POLLWRBAND)	/* 0x304 */
#define READABLE (POLLIN | POLLRDNORM)			/* 0x041 */

/* poll one fd for ALL with timeout 0; Return: revents. */
static short revents_of(const struct sockapi *api, int fd)
{
	struct pollfd p = { .fd = fd, .events = ALL, .revents = 0x7fff };
	int n = OK(api->poll(&p, 1, 0));

	cr_assert_eq(n, p.revents ? 1 : 0, "%s: poll returned %d, revents %#x", api->name, n,
		     p.revents);
	return p.revents;
}

#define ASSERT_MASK(api, fd, want)                                                     \
	do {                                                                           \
		short m_ = revents_of(api, fd);                                        \
		cr_assert_eq(m_, (want), "%s: revents %#x, want %#x", (api)->name, m_, \
			     (want));                                                  \
	} while (0)

/* R-NOTE-SELECT R-SEND-10 */
CONFORMANCE(udp_poll, writable_through_setup)
{
	int fd = OK(api->socket(AF_INET, SOCK_DGRAM, 0));
	struct sockaddr_in a = sin4("127.0.0.1", 0), d = sin4("127.0.0.1", 5000);

	/* Unbound, bound, connected: writable, nothing else (no POLLHUP on UDP). */
	ASSERT_MASK(api, fd, WRITABLE);
	OK(api->bind(fd, SA(&a), sizeof(a)));
	ASSERT_MASK(api, fd, WRITABLE);
	OK(api->connect(fd, SA(&d), sizeof(d)));
	ASSERT_MASK(api, fd, WRITABLE);
	OK(api->close(fd));
}

CONFORMANCE(udp_poll, readable_while_queued)
{
	int rx = bound_udp(api, "127.0.0.1", 5000, NULL);
	int tx = bound_udp(api, "127.0.0.1", 6000, NULL);
	char b[8];

	conf_send_str(api, tx, "127.0.0.1", 5000, "a");
	conf_send_str(api, tx, "127.0.0.1", 5000, "");
	ASSERT_MASK(api, rx, READABLE | WRITABLE);
	cr_assert_eq(OK(api->recv(rx, b, sizeof(b), 0)), 1);
	/* A zero-length datagram makes the socket readable all the same. */
	ASSERT_MASK(api, rx, READABLE | WRITABLE);
	cr_assert_eq(OK(api->recv(rx, b, sizeof(b), 0)), 0);
	ASSERT_MASK(api, rx, WRITABLE);
	OK(api->close(rx));
	OK(api->close(tx));
}

CONFORMANCE(udp_poll, wakes_on_arrival)
{
	int rx = bound_udp(api, "127.0.0.1", 5000, NULL);
	int tx = bound_udp(api, "127.0.0.1", 6000, NULL);
	struct conf_later l = { .api = api, .delay_ms = 150, .fd = tx, .msg = "wake",
				  .to = sin4("127.0.0.1", 5000) };
	struct pollfd p = { .fd = rx, .events = POLLIN };
	double t0, dt;

	conf_later_start(&l);
	t0 = conf_now_ms();
	cr_assert_eq(OK(api->poll(&p, 1, 5000)), 1);
	dt = conf_now_ms() - t0;
	cr_assert(dt >= 100 && dt < 4000, "%s: woke after %.0f ms", api->name, dt);
	cr_assert_eq(p.revents, POLLIN);
	conf_later_join(&l);
	cr_assert_eq(conf_drain(api, rx), 1);
	OK(api->close(rx));
	OK(api->close(tx));
}

CONFORMANCE(udp_poll, error_after_port_unreachable)
{
	int fd = OK(api->socket(AF_INET, SOCK_DGRAM, 0));
	struct sockaddr_in d = sin4("127.0.0.1", 9);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int err = -1;
	socklen_t l = sizeof(err);
	char b[8];

	OK(api->connect(fd, SA(&d), sizeof(d)));
	cr_assert_eq(OK(api->send(fd, "x", 1, 0)), 1);
	/* POLLERR is reported even though only POLLIN was asked for. */
	cr_assert_eq(OK(api->poll(&p, 1, 2000)), 1);
	cr_assert_eq(p.revents, POLLERR);
	ASSERT_MASK(api, fd, POLLERR | WRITABLE);
	OK(api->getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l));
	cr_assert_eq(err, ECONNREFUSED);
	ASSERT_MASK(api, fd, WRITABLE);
	/* Again, this time consumed by recv(), which fails with it once. */
	cr_assert_eq(OK(api->send(fd, "x", 1, 0)), 1);
	p.revents = 0;
	cr_assert_eq(OK(api->poll(&p, 1, 2000)), 1);
	cr_assert_eq(p.revents, POLLERR);
	errno = 0;
	cr_assert_eq(api->recv(fd, b, sizeof(b), MSG_DONTWAIT), -1);
	cr_assert_eq(errno, ECONNREFUSED);
	ASSERT_MASK(api, fd, WRITABLE);
	errno = 0;
	cr_assert_eq(api->recv(fd, b, sizeof(b), MSG_DONTWAIT), -1);
	cr_assert_eq(errno, EAGAIN);
	OK(api->close(fd));
}

CONFORMANCE(udp_poll, unconnected_ignores_port_unreachable)
{
	int fd = bound_udp(api, "127.0.0.1", 6000, NULL);
	struct sockaddr_in d = sin4("127.0.0.1", 9);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int err = -1;
	socklen_t l = sizeof(err);

	/* Without connect() (and without IP_RECVERR) ICMP errors are dropped. */
	cr_assert_eq(OK(api->sendto(fd, "x", 1, 0, SA(&d), sizeof(d))), 1);
	cr_assert_eq(OK(api->poll(&p, 1, 100)), 0);
	cr_assert_eq(p.revents, 0);
	OK(api->getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l));
	cr_assert_eq(err, 0);
	OK(api->close(fd));
}

CONFORMANCE(udp_poll, after_shutdown)
{
	struct sockaddr_in d = sin4("127.0.0.1", 5000);
	int rd = OK(api->socket(AF_INET, SOCK_DGRAM, 0));
	int wr = OK(api->socket(AF_INET, SOCK_DGRAM, 0));
	int rdwr = OK(api->socket(AF_INET, SOCK_DGRAM, 0));
	int unconn = OK(api->socket(AF_INET, SOCK_DGRAM, 0));

	OK(api->connect(rd, SA(&d), sizeof(d)));
	OK(api->connect(wr, SA(&d), sizeof(d)));
	OK(api->connect(rdwr, SA(&d), sizeof(d)));
	OK(api->shutdown(rd, SHUT_RD));
	OK(api->shutdown(wr, SHUT_WR));
	OK(api->shutdown(rdwr, SHUT_RDWR));
	/* SHUT_RD: readable (recv returns 0) and POLLRDHUP. */
	ASSERT_MASK(api, rd, READABLE | POLLRDHUP | WRITABLE);
	/* SHUT_WR alone changes nothing poll can see: still "writable". */
	ASSERT_MASK(api, wr, WRITABLE);
	/* Both: POLLHUP too. */
	ASSERT_MASK(api, rdwr, READABLE | POLLRDHUP | WRITABLE | POLLHUP);
	/* The ENOTCONN shutdown of an unconnected socket still took effect. */
	errno = 0;
	cr_assert_eq(api->shutdown(unconn, SHUT_RD), -1);
	cr_assert_eq(errno, ENOTCONN);
	ASSERT_MASK(api, unconn, READABLE | POLLRDHUP | WRITABLE);
	errno = 0;
	cr_assert_eq(api->shutdown(unconn, SHUT_WR), -1);
	ASSERT_MASK(api, unconn, READABLE | POLLRDHUP | WRITABLE | POLLHUP);
	OK(api->close(rd));
	OK(api->close(wr));
	OK(api->close(rdwr));
	OK(api->close(unconn));
}

/* The pipe is a kernel fd in both runs: usock's poll must hand it to the kernel. */
CONFORMANCE(udp_poll, mixed_with_pipe)
{
	int rx = bound_udp(api, "127.0.0.1", 5000, NULL);
	int tx = bound_udp(api, "127.0.0.1", 6000, NULL);
	int pfd[2];
	struct pollfd p[3];
	double t0, dt;

	cr_assert_eq(pipe(pfd), 0);
	p[0] = (struct pollfd){ .fd = rx, .events = POLLIN };
	p[1] = (struct pollfd){ .fd = pfd[0], .events = POLLIN };
	p[2] = (struct pollfd){ .fd = pfd[1], .events = POLLIN };
	/* Timeout 0: nothing readable, returns at once. */
	t0 = conf_now_ms();
	cr_assert_eq(OK(api->poll(p, 2, 0)), 0);
	cr_assert_lt(conf_now_ms() - t0, 50);
	/* A small timeout is honoured, not cut short. */
	t0 = conf_now_ms();
	cr_assert_eq(OK(api->poll(p, 2, 60)), 0);
	dt = conf_now_ms() - t0;
	cr_assert(dt >= 55 && dt < 1000, "%s: 60 ms poll took %.0f ms", api->name, dt);
	cr_assert(p[0].revents == 0 && p[1].revents == 0);
	/* The pipe alone. */
	cr_assert_eq(write(pfd[1], "p", 1), 1);
	cr_assert_eq(OK(api->poll(p, 2, 1000)), 1);
	cr_assert_eq(p[0].revents, 0);
	cr_assert_eq(p[1].revents, POLLIN);
	/* Both. */
	conf_send_str(api, tx, "127.0.0.1", 5000, "s");
	cr_assert_eq(OK(api->poll(p, 2, 1000)), 2);
	cr_assert_eq(p[0].revents, POLLIN);
	cr_assert_eq(p[1].revents, POLLIN);
	/* Writable ends of both kinds, with the write end of the pipe asking POLLOUT. */
	p[0].events = POLLOUT;
	p[2].events = POLLOUT;
	cr_assert_eq(OK(api->poll(p, 3, 0)), 3);
	cr_assert_eq(p[0].revents, POLLOUT);	/* the queued datagram was not asked about */
	cr_assert_eq(p[2].revents, POLLOUT);
	cr_assert_eq(conf_drain(api, rx), 1);
	close(pfd[0]);
	close(pfd[1]);
	OK(api->close(rx));
	OK(api->close(tx));
}

CONFORMANCE(udp_poll, closed_and_negative_fds)
{
	int fd = OK(api->socket(AF_INET, SOCK_DGRAM, 0));
	int gone = OK(api->socket(AF_INET, SOCK_DGRAM, 0));
	struct pollfd p[3];

	OK(api->close(gone));
	p[0] = (struct pollfd){ .fd = gone, .events = POLLIN };
	p[1] = (struct pollfd){ .fd = -1, .events = POLLIN, .revents = 0x55 };
	p[2] = (struct pollfd){ .fd = fd, .events = POLLOUT };
	/* POLLNVAL counts as ready; a negative fd is skipped and its revents zeroed. */
	cr_assert_eq(OK(api->poll(p, 3, 0)), 2);
	cr_assert_eq(p[0].revents, POLLNVAL);
	cr_assert_eq(p[1].revents, 0);
	cr_assert_eq(p[2].revents, POLLOUT);
	OK(api->close(fd));
}

CONFORMANCE(udp_poll, timeouts_on_idle_socket)
{
	int rx = bound_udp(api, "127.0.0.1", 5000, NULL);
	struct pollfd p = { .fd = rx, .events = POLLIN | POLLPRI };
	double t0, dt;

	t0 = conf_now_ms();
	cr_assert_eq(OK(api->poll(&p, 1, 80)), 0);
	dt = conf_now_ms() - t0;
	cr_assert(dt >= 75 && dt < 1000, "%s: 80 ms poll took %.0f ms", api->name, dt);
	cr_assert_eq(p.revents, 0);
	/* No fds at all: a plain sleep. */
	t0 = conf_now_ms();
	cr_assert_eq(OK(api->poll(NULL, 0, 30)), 0);
	dt = conf_now_ms() - t0;
	cr_assert(dt >= 25 && dt < 1000, "%s: 30 ms empty poll took %.0f ms", api->name, dt);
	OK(api->close(rx));
}
