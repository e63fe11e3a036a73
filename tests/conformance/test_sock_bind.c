/* SPDX-License-Identifier: MIT */
/*
 * test_sock_bind.c - UDP/IPv4 bind(): ephemeral ports, conflicts, reuse
 * options, bad addresses, kernel and usock side by side
 *
 * Expected values were read from the kernel (Linux 6.18, x86_64).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "sockapi.h"
#include "conf_util.h"

/* A UDP socket with SO_REUSEADDR / SO_REUSEPORT as asked, not bound yet. */
static int udp_reuse(const struct sockapi *api, int reuseaddr, int reuseport)
{
	int fd = conf_udp(api);

	if (reuseaddr)
		OK(api->setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuseaddr, sizeof(int)));
	if (reuseport)
		OK(api->setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &reuseport, sizeof(int)));
	return fd;
}

static int bind_to(const struct sockapi *api, int fd, const char *ip, uint16_t port)
{
	struct sockaddr_in a = sin4(ip, port);

	return api->bind(fd, SA(&a), sizeof(a));
}

/* Send n one-byte datagrams from fd to ip:port. */
static void send_n(const struct sockapi *api, int fd, const char *ip, uint16_t port, int n)
{
	for (int i = 0; i < n; i++)
		conf_send(api, fd, ip, port, "x", 1);
}

/* ---- ephemeral ports and double binds ----------------------------------- */

CONFORMANCE(udp_bind, bind_ephemeral_in_range)
{
	char txt[64];
	unsigned lo, hi;
	struct sockaddr_in a;
	int fd = bound_udp(api, "127.0.0.1", 0, &a), any;

	OK(conf_sysctl_get(api, NULL, "net.ipv4.ip_local_port_range", txt, sizeof(txt)));
	cr_assert_eq(sscanf(txt, "%u %u", &lo, &hi), 2);
	conf_assert_addr(&a, "127.0.0.1", ntohs(a.sin_port));
	cr_assert(ntohs(a.sin_port) >= lo && ntohs(a.sin_port) <= hi, "port %u not in %u-%u",
		  ntohs(a.sin_port), lo, hi);
	any = bound_udp(api, "0.0.0.0", 0, &a);
	cr_assert_eq(a.sin_addr.s_addr, htonl(INADDR_ANY));
	cr_assert(ntohs(a.sin_port) >= lo && ntohs(a.sin_port) <= hi);
	OK(api->close(fd));
	OK(api->close(any));
}

CONFORMANCE(udp_bind, bind_twice_einval)
{
	int fd = bound_udp(api, "127.0.0.1", 0, NULL);
	int sent = conf_udp(api);
	struct sockaddr_in d = sin4("127.0.0.1", 9);

	/* inet_bind refuses any second bind, even to the same or a free port. */
	FAILS(bind_to(api, fd, "127.0.0.1", 0), EINVAL);
	FAILS(bind_to(api, fd, "127.0.0.1", 4000), EINVAL);
	FAILS(bind_to(api, fd, "0.0.0.0", 0), EINVAL);
	/* A socket autobound by sendto() is bound too. */
	cr_assert_eq(OK(api->sendto(sent, "x", 1, 0, SA(&d), sizeof(d))), 1);
	FAILS(bind_to(api, sent, "127.0.0.1", 4001), EINVAL);
	OK(api->close(fd));
	OK(api->close(sent));
}

CONFORMANCE(udp_bind, bind_eaddrinuse)
{
	int a = bound_udp(api, "127.0.0.1", 5000, NULL);
	int b = conf_udp(api);
	struct sockaddr_in got;

	FAILS(bind_to(api, b, "127.0.0.1", 5000), EADDRINUSE);
	/* The failed bind left b unbound: it can still bind elsewhere. */
	got = conf_local_of(api, b);
	conf_assert_addr(&got, "0.0.0.0", 0);
	OK(bind_to(api, b, "127.0.0.1", 5001));
	OK(api->close(a));
	OK(api->close(b));
}

CONFORMANCE(udp_bind, bind_port_free_after_close)
{
	int a = bound_udp(api, "127.0.0.1", 5000, NULL);

	/* UDP has no TIME_WAIT: the port is free the moment the socket closes. */
	OK(api->close(a));
	a = bound_udp(api, "127.0.0.1", 5000, NULL);
	OK(api->close(a));
}

/* R-ERR-EAGAIN-PORT */
CONFORMANCE(udp_bind, ephemeral_ports_exhausted)
{
	struct sockaddr_in d = sin4("127.0.0.1", 9), a;
	int x, y, z = conf_udp(api);
	socklen_t l = sizeof(a);

	/* A two-port range, both ports taken by wildcard binds. */
	OK(conf_sysctl(api, NULL, "net.ipv4.ip_local_port_range", "40000 40001"));
	x = bound_udp(api, "0.0.0.0", 0, NULL);
	y = bound_udp(api, "0.0.0.0", 0, NULL);
	/*
	 * Explicit bind(port 0) reports EADDRINUSE, while the implicit
	 * autobind of connect() and sendto() reports EAGAIN (inet_autobind).
	 */
	FAILS(bind_to(api, z, "127.0.0.2", 0), EADDRINUSE);
	FAILS(api->connect(z, SA(&d), sizeof(d)), EAGAIN);
	FAILS(api->sendto(z, "x", 1, 0, SA(&d), sizeof(d)), EAGAIN);
	FAILS(api->getpeername(z, SA(&a), &l), ENOTCONN);
	/* An explicit port outside the range still works. */
	OK(bind_to(api, z, "127.0.0.1", 5000));
	OK(api->close(x));
	OK(api->close(y));
	OK(api->close(z));
}

/* ---- SO_REUSEADDR / SO_REUSEPORT ---------------------------------------- */

CONFORMANCE(udp_bind, reuseaddr_needs_both)
{
	int a = udp_reuse(api, 1, 0), b = udp_reuse(api, 0, 0);

	OK(bind_to(api, a, "127.0.0.1", 5000));
	FAILS(bind_to(api, b, "127.0.0.1", 5000), EADDRINUSE);
	OK(api->close(a));
	OK(api->close(b));
	a = udp_reuse(api, 0, 0);
	b = udp_reuse(api, 1, 0);
	OK(bind_to(api, a, "127.0.0.1", 5000));
	FAILS(bind_to(api, b, "127.0.0.1", 5000), EADDRINUSE);
	OK(api->close(a));
	OK(api->close(b));
}

CONFORMANCE(udp_bind, reuseaddr_both_newest_receives)
{
	int a = udp_reuse(api, 1, 0), b = udp_reuse(api, 1, 0), c = udp_reuse(api, 1, 0);
	int tx = bound_udp(api, "127.0.0.1", 6000, NULL);

	/* UDP lets two SO_REUSEADDR sockets share one address and port. */
	OK(bind_to(api, a, "127.0.0.1", 5000));
	OK(bind_to(api, b, "127.0.0.1", 5000));
	/*
	 * Unicast goes to one of them only: the one bound last (the kernel
	 * adds to the head of the port's hash chain and the first best score
	 * wins).
	 */
	send_n(api, tx, "127.0.0.1", 5000, 5);
	cr_assert_eq(conf_drain(api, a), 0);
	cr_assert_eq(conf_drain(api, b), 5);
	OK(bind_to(api, c, "127.0.0.1", 5000));
	send_n(api, tx, "127.0.0.1", 5000, 5);
	cr_assert_eq(conf_drain(api, a), 0);
	cr_assert_eq(conf_drain(api, b), 0);
	cr_assert_eq(conf_drain(api, c), 5);
	/* Closing the newest hands the traffic to the next newest. */
	OK(api->close(c));
	send_n(api, tx, "127.0.0.1", 5000, 5);
	cr_assert_eq(conf_drain(api, a), 0);
	cr_assert_eq(conf_drain(api, b), 5);
	OK(api->close(a));
	OK(api->close(b));
	OK(api->close(tx));
}

CONFORMANCE(udp_bind, reuseaddr_any_and_specific)
{
	int any = udp_reuse(api, 1, 0), lo = udp_reuse(api, 1, 0);
	int tx = bound_udp(api, "127.0.0.1", 6000, NULL);

	OK(bind_to(api, any, "0.0.0.0", 5000));
	OK(bind_to(api, lo, "127.0.0.1", 5000));
	/* The exact address match scores higher than the wildcard. */
	send_n(api, tx, "127.0.0.1", 5000, 3);
	send_n(api, tx, "127.0.0.3", 5000, 2);
	cr_assert_eq(conf_drain(api, lo), 3);
	cr_assert_eq(conf_drain(api, any), 2);
	OK(api->close(any));
	OK(api->close(lo));
	OK(api->close(tx));
}

CONFORMANCE(udp_bind, reuseport_both)
{
	int a = udp_reuse(api, 0, 1), b = udp_reuse(api, 0, 1), c = udp_reuse(api, 0, 0);
	int tx = bound_udp(api, "127.0.0.1", 6000, NULL);
	int na, nb;

	OK(bind_to(api, a, "127.0.0.1", 5000));
	OK(bind_to(api, b, "127.0.0.1", 5000));
	FAILS(bind_to(api, c, "127.0.0.1", 5000), EADDRINUSE);
	/*
	 * The group picks a socket by a hash of the 4-tuple: every datagram
	 * of one flow lands on the same socket (which one is the hash's
	 * business, not asserted).
	 */
	send_n(api, tx, "127.0.0.1", 5000, 10);
	na = conf_drain(api, a);
	nb = conf_drain(api, b);
	cr_assert(na + nb == 10 && (na == 10 || nb == 10), "%s: split %d/%d", api->name, na, nb);
	OK(api->close(a));
	OK(api->close(b));
	OK(api->close(c));
	/* SO_REUSEPORT on the first socket only is no use either. */
	a = udp_reuse(api, 0, 1);
	b = udp_reuse(api, 0, 0);
	OK(bind_to(api, a, "127.0.0.1", 5001));
	FAILS(bind_to(api, b, "127.0.0.1", 5001), EADDRINUSE);
	OK(api->close(a));
	OK(api->close(b));
	OK(api->close(tx));
}

/* ---- bad arguments ------------------------------------------------------- */

CONFORMANCE(udp_bind, bind_addrlen)
{
	int fd = conf_udp(api);
	struct {
		struct sockaddr_in a;
		char pad[16];
	} big;
	struct sockaddr_in a = sin4("127.0.0.1", 5000);

	FAILS(api->bind(fd, SA(&a), sizeof(a) - 1), EINVAL);
	FAILS(api->bind(fd, SA(&a), 2), EINVAL);
	FAILS(api->bind(fd, SA(&a), 0), EINVAL);
	/* Longer than a sockaddr_in is fine: the tail is ignored. */
	memset(&big, 0x55, sizeof(big));
	big.a = a;
	OK(api->bind(fd, SA(&big), sizeof(big)));
	a = conf_local_of(api, fd);
	conf_assert_addr(&a, "127.0.0.1", 5000);
	OK(api->close(fd));
}

CONFORMANCE(udp_bind, bind_wrong_family)
{
	int fd = conf_udp(api);
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(5000) };
	struct sockaddr_in a;

	FAILS(api->bind(fd, SA(&a6), sizeof(a6)), EAFNOSUPPORT);
	FAILS(api->bind(fd, SA(&a6), sizeof(struct sockaddr_in)), EAFNOSUPPORT);
	/* The length is checked first: too short for a sockaddr_in is EINVAL. */
	FAILS(api->bind(fd, SA(&a6), 8), EINVAL);
	/*
	 * AF_UNSPEC is taken as AF_INET only with INADDR_ANY (a compatibility
	 * rule of __inet_bind); with any other address it is EAFNOSUPPORT.
	 */
	a = sin4("127.0.0.1", 5000);
	a.sin_family = AF_UNSPEC;
	FAILS(api->bind(fd, SA(&a), sizeof(a)), EAFNOSUPPORT);
	a = sin4("0.0.0.0", 5000);
	a.sin_family = AF_UNSPEC;
	OK(api->bind(fd, SA(&a), sizeof(a)));
	a = conf_local_of(api, fd);
	conf_assert_addr(&a, "0.0.0.0", 5000);
	OK(api->close(fd));
}

CONFORMANCE(udp_bind, bind_nonlocal_address)
{
	int fd = conf_udp(api), fb = conf_udp(api), one = 1;
	struct sockaddr_in a;

	FAILS(bind_to(api, fd, "10.1.2.3", 5000), EADDRNOTAVAIL);
	FAILS(bind_to(api, fd, "192.0.2.1", 0), EADDRNOTAVAIL);
	/* Still unbound after the failures. */
	a = conf_local_of(api, fd);
	conf_assert_addr(&a, "0.0.0.0", 0);
	/* IP_FREEBIND lifts the check. */
	OK(api->setsockopt(fb, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one)));
	OK(bind_to(api, fb, "10.1.2.3", 5000));
	a = conf_local_of(api, fb);
	conf_assert_addr(&a, "10.1.2.3", 5000);
	OK(api->close(fd));
	OK(api->close(fb));
}

/* Addresses inet_addr_type() accepts although no interface carries them as such. */
CONFORMANCE(udp_bind, bind_local_kinds)
{
	static const char *const ok[] = { "127.0.0.2", "127.255.255.254", "255.255.255.255",
					  "224.0.0.1" };

	for (unsigned i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int fd = conf_udp(api);
		struct sockaddr_in a;

		OK(bind_to(api, fd, ok[i], 5000));
		a = conf_local_of(api, fd);
		conf_assert_addr(&a, ok[i], 5000);
		OK(api->close(fd));
	}
}

/* ---- wildcard vs specific ------------------------------------------------ */

CONFORMANCE(udp_bind, bind_any_vs_specific)
{
	int a = bound_udp(api, "0.0.0.0", 5000, NULL), b = conf_udp(api);
	int c = bound_udp(api, "127.0.0.1", 5001, NULL), d = conf_udp(api);

	FAILS(bind_to(api, b, "127.0.0.1", 5000), EADDRINUSE);
	FAILS(bind_to(api, d, "0.0.0.0", 5001), EADDRINUSE);
	OK(api->close(a));
	OK(api->close(b));
	OK(api->close(c));
	OK(api->close(d));
}

CONFORMANCE(udp_bind, bind_two_specific_addresses)
{
	int a = bound_udp(api, "127.0.0.1", 5000, NULL);
	int b = bound_udp(api, "127.0.0.2", 5000, NULL);
	int tx = bound_udp(api, "127.0.0.1", 6000, NULL);
	int any = conf_udp(api);

	/* Each receives what is addressed to it. */
	send_n(api, tx, "127.0.0.2", 5000, 2);
	send_n(api, tx, "127.0.0.1", 5000, 3);
	cr_assert_eq(conf_drain(api, a), 3);
	cr_assert_eq(conf_drain(api, b), 2);
	/* A wildcard on that port would overlap both. */
	FAILS(bind_to(api, any, "0.0.0.0", 5000), EADDRINUSE);
	OK(api->close(any));
	OK(api->close(a));
	OK(api->close(b));
	OK(api->close(tx));
}

CONFORMANCE(udp_bind, bind_privileged_port_as_root)
{
	int a = bound_udp(api, "127.0.0.1", 80, NULL);
	int b = bound_udp(api, "127.0.0.1", 1, NULL);
	struct sockaddr_in got = conf_local_of(api, a);

	conf_assert_addr(&got, "127.0.0.1", 80);
	got = conf_local_of(api, b);
	conf_assert_addr(&got, "127.0.0.1", 1);
	OK(api->close(a));
	OK(api->close(b));
}
