/* SPDX-License-Identifier: MIT */
/*
 * test_sock_opts.c - setsockopt()/getsockopt() on UDP/IPv4 sockets
 * (SOL_SOCKET, IPPROTO_IP, IPPROTO_UDP), kernel and usock side by side
 *
 * Expected values were read from the kernel (Linux 6.18, x86_64, HZ=250).
 * Buffer limits come from the stack's own sysctls (net.core.*mem_*).
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "sockapi.h"
#include "conf_util.h"

/* getsockopt of an int, asserting the full int came back. */
static int get_int(const struct sockapi *api, int fd, int lvl, int name)
{
	int v = 0x5a5a5a5a;
	socklen_t l = sizeof(v);

	OK(api->getsockopt(fd, lvl, name, &v, &l));
	cr_assert_eq(l, sizeof(int), "%s: optlen %u for %d/%d", api->name, l, lvl, name);
	return v;
}

static int set_int(const struct sockapi *api, int fd, int lvl, int name, int v)
{
	return api->setsockopt(fd, lvl, name, &v, sizeof(v));
}

/* set then get: the value the kernel reports back. */
static int set_get(const struct sockapi *api, int fd, int lvl, int name, int v)
{
	OK(set_int(api, fd, lvl, name, v));
	return get_int(api, fd, lvl, name);
}

static long sysctl_long(const struct sockapi *api, const char *name)
{
	char txt[64];

	OK(conf_sysctl_get(api, NULL, name, txt, sizeof(txt)));
	return strtol(txt, NULL, 10);
}

/* ---- identity ------------------------------------------------------------ */

CONFORMANCE(udp_opts, identity_options)
{
	int fd = conf_udp(api);

	cr_assert_eq(get_int(api, fd, SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
	cr_assert_eq(get_int(api, fd, SOL_SOCKET, SO_DOMAIN), AF_INET);
	cr_assert_eq(get_int(api, fd, SOL_SOCKET, SO_PROTOCOL), IPPROTO_UDP);
	cr_assert_eq(get_int(api, fd, SOL_SOCKET, SO_ACCEPTCONN), 0);
	cr_assert_eq(get_int(api, fd, SOL_SOCKET, SO_ERROR), 0);
	/* Read-only: sk_setsockopt has no case for them. */
	FAILS(set_int(api, fd, SOL_SOCKET, SO_TYPE, SOCK_DGRAM), ENOPROTOOPT);
	FAILS(set_int(api, fd, SOL_SOCKET, SO_DOMAIN, AF_INET), ENOPROTOOPT);
	FAILS(set_int(api, fd, SOL_SOCKET, SO_PROTOCOL, IPPROTO_UDP), ENOPROTOOPT);
	FAILS(set_int(api, fd, SOL_SOCKET, SO_ERROR, 0), ENOPROTOOPT);
	OK(api->close(fd));
}

/* ---- SO_SNDBUF / SO_RCVBUF ------------------------------------------------ */

CONFORMANCE(udp_opts, buf_defaults)
{
	int fd = conf_udp(api);

	cr_assert_eq(get_int(api, fd, SOL_SOCKET, SO_SNDBUF),
		     sysctl_long(api, "net.core.wmem_default"));
	cr_assert_eq(get_int(api, fd, SOL_SOCKET, SO_RCVBUF),
		     sysctl_long(api, "net.core.rmem_default"));
	OK(api->close(fd));
}

CONFORMANCE(udp_opts, buf_doubling)
{
	int fd = conf_udp(api);

	/* The kernel doubles the request to account for its own overhead. */
	cr_assert_eq(set_get(api, fd, SOL_SOCKET, SO_SNDBUF, 4096), 8192);
	cr_assert_eq(set_get(api, fd, SOL_SOCKET, SO_RCVBUF, 4096), 8192);
	cr_assert_eq(set_get(api, fd, SOL_SOCKET, SO_SNDBUF, 2305), 4610);
	cr_assert_eq(set_get(api, fd, SOL_SOCKET, SO_RCVBUF, 1153), 2306);
	cr_assert_eq(set_get(api, fd, SOL_SOCKET, SO_RCVBUF, 65536), 131072);
	OK(api->close(fd));
}

CONFORMANCE(udp_opts, buf_minimums)
{
	int fd = conf_udp(api);

	/*
	 * SOCK_MIN_SNDBUF 4608 and SOCK_MIN_RCVBUF 2304 on this build
	 * (2 x and 1 x (2048 + the aligned struct sk_buff of 256 bytes)).
	 */
	cr_assert_eq(set_get(api, fd, SOL_SOCKET, SO_SNDBUF, 0), 4608);
	cr_assert_eq(set_get(api, fd, SOL_SOCKET, SO_SNDBUF, 1), 4608);
	cr_assert_eq(set_get(api, fd, SOL_SOCKET, SO_SNDBUF, 2304), 4608);
	cr_assert_eq(set_get(api, fd, SOL_SOCKET, SO_RCVBUF, 0), 2304);
	cr_assert_eq(set_get(api, fd, SOL_SOCKET, SO_RCVBUF, 1), 2304);
	cr_assert_eq(set_get(api, fd, SOL_SOCKET, SO_RCVBUF, 1151), 2304);
	OK(api->close(fd));
}

CONFORMANCE(udp_opts, buf_caps)
{
	int fd = conf_udp(api);
	long wmax = sysctl_long(api, "net.core.wmem_max");
	long rmax = sysctl_long(api, "net.core.rmem_max");

	cr_assert_eq(set_get(api, fd, SOL_SOCKET, SO_SNDBUF, 0x7fffffff), 2 * wmax);
	cr_assert_eq(set_get(api, fd, SOL_SOCKET, SO_RCVBUF, 0x7fffffff), 2 * rmax);
	/* Negative values compare as huge unsigned ones: capped, not minimum. */
	cr_assert_eq(set_get(api, fd, SOL_SOCKET, SO_SNDBUF, -1), 2 * wmax);
	cr_assert_eq(set_get(api, fd, SOL_SOCKET, SO_RCVBUF, -1), 2 * rmax);
	OK(api->close(fd));
}

CONFORMANCE(udp_opts, buf_force_as_root)
{
	int fd = conf_udp(api);
	int big = 8 << 20;
	int v;
	socklen_t l = sizeof(v);

	/* The *FORCE variants skip the sysctl cap (CAP_NET_ADMIN) but still double. */
	cr_assert_gt(big, sysctl_long(api, "net.core.wmem_max"));
	OK(set_int(api, fd, SOL_SOCKET, SO_SNDBUFFORCE, big));
	cr_assert_eq(get_int(api, fd, SOL_SOCKET, SO_SNDBUF), 2 * big);
	OK(set_int(api, fd, SOL_SOCKET, SO_RCVBUFFORCE, big));
	cr_assert_eq(get_int(api, fd, SOL_SOCKET, SO_RCVBUF), 2 * big);
	/* Negative is clamped to 0, then to the minimum. */
	OK(set_int(api, fd, SOL_SOCKET, SO_SNDBUFFORCE, -5));
	cr_assert_eq(get_int(api, fd, SOL_SOCKET, SO_SNDBUF), 4608);
	OK(set_int(api, fd, SOL_SOCKET, SO_RCVBUFFORCE, 0));
	cr_assert_eq(get_int(api, fd, SOL_SOCKET, SO_RCVBUF), 2304);
	/* They cannot be read back. */
	FAILS(api->getsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, &l), ENOPROTOOPT);
	FAILS(api->getsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, &l), ENOPROTOOPT);
	OK(api->close(fd));
}

/* ---- SO_ERROR ------------------------------------------------------------- */

CONFORMANCE(udp_opts, so_error_reports_and_clears)
{
	int fd = conf_udp(api);
	struct sockaddr_in d = sin4("127.0.0.1", 9);
	struct pollfd p = { .fd = fd, .events = POLLIN };

	/* Connected to a port nobody listens on: the ICMP error lands in sk_err. */
	OK(api->connect(fd, SA(&d), sizeof(d)));
	cr_assert_eq(OK(api->send(fd, "x", 1, 0)), 1);
	cr_assert_eq(OK(api->poll(&p, 1, 2000)), 1);
	cr_assert(p.revents & POLLERR);
	cr_assert_eq(get_int(api, fd, SOL_SOCKET, SO_ERROR), ECONNREFUSED);
	/* Reading it cleared it. */
	cr_assert_eq(get_int(api, fd, SOL_SOCKET, SO_ERROR), 0);
	OK(api->close(fd));
}

/* ---- boolean options ------------------------------------------------------ */

CONFORMANCE(udp_opts, booleans_normalised)
{
	static const struct {
		int lvl, name;
	} opts[] = {
		{ SOL_SOCKET, SO_BROADCAST }, { SOL_SOCKET, SO_REUSEADDR },
		{ SOL_SOCKET, SO_REUSEPORT }, { SOL_SOCKET, SO_KEEPALIVE },
		{ SOL_SOCKET, SO_RXQ_OVFL },  { IPPROTO_IP, IP_PKTINFO },
		{ IPPROTO_IP, IP_RECVTOS },   { IPPROTO_IP, IP_RECVTTL },
		{ IPPROTO_IP, IP_RECVORIGDSTADDR }, { IPPROTO_IP, IP_FREEBIND },
	};
	int fd = conf_udp(api);

	for (unsigned i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		int lvl = opts[i].lvl, name = opts[i].name;

		cr_assert_eq(get_int(api, fd, lvl, name), 0, "%s: default of %d/%d", api->name,
			     lvl, name);
		/* Any non-zero value reads back as 1 (SO_KEEPALIVE on UDP too). */
		cr_assert_eq(set_get(api, fd, lvl, name, 7), 1, "%s: %d/%d", api->name, lvl,
			     name);
		cr_assert_eq(set_get(api, fd, lvl, name, -1), 1);
		cr_assert_eq(set_get(api, fd, lvl, name, 0), 0);
	}
	OK(api->close(fd));
}

/* ---- SO_RCVTIMEO / SO_SNDTIMEO --------------------------------------------- */

static struct timeval timeo_roundtrip(const struct sockapi *api, int fd, int name,
				      struct timeval in)
{
	struct timeval out = { -1, -1 };
	socklen_t l = sizeof(out);

	OK(api->setsockopt(fd, SOL_SOCKET, name, &in, sizeof(in)));
	OK(api->getsockopt(fd, SOL_SOCKET, name, &out, &l));
	cr_assert_eq(l, sizeof(out));
	return out;
}

CONFORMANCE(udp_opts, timeo_rounded_to_jiffies)
{
	/*
	 * sock_set_timeout stores whole jiffies, rounding microseconds up;
	 * this kernel has HZ=250, so a jiffy is 4000 us.
	 */
	static const struct {
		long in_s, in_us, out_s, out_us;
	} cases[] = {
		{ 0, 1, 0, 4000 },	   { 0, 999, 0, 4000 },	    { 0, 4000, 0, 4000 },
		{ 0, 4001, 0, 8000 },	   { 0, 10000, 0, 12000 },  { 0, 123456, 0, 124000 },
		{ 0, 999999, 1, 0 },	   { 3, 500000, 3, 500000 }, { 2, 1, 2, 4000 },
		{ 0, 0, 0, 0 },
	};
	int fd = conf_udp(api);
	int names[] = { SO_RCVTIMEO, SO_SNDTIMEO };

	for (unsigned n = 0; n < 2; n++) {
		struct timeval t;
		socklen_t l = sizeof(t);

		/* Default: 0/0, which means "wait forever". */
		OK(api->getsockopt(fd, SOL_SOCKET, names[n], &t, &l));
		cr_assert(t.tv_sec == 0 && t.tv_usec == 0);
		for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			struct timeval in = { cases[i].in_s, cases[i].in_us };

			t = timeo_roundtrip(api, fd, names[n], in);
			cr_assert(t.tv_sec == cases[i].out_s && t.tv_usec == cases[i].out_us,
				  "%s: %ld.%06ld -> %ld.%06ld, want %ld.%06ld", api->name,
				  cases[i].in_s, cases[i].in_us, (long)t.tv_sec, (long)t.tv_usec,
				  cases[i].out_s, cases[i].out_us);
		}
	}
	OK(api->close(fd));
}

CONFORMANCE(udp_opts, timeo_invalid)
{
	int fd = conf_udp(api);
	struct timeval bad = { 0, 1000000 }, neg_us = { 1, -1 }, neg_s = { -1, 0 };
	struct timeval t = { 1, 0 };
	socklen_t l = 8;

	FAILS(api->setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &bad, sizeof(bad)), EDOM);
	FAILS(api->setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &bad, sizeof(bad)), EDOM);
	FAILS(api->setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &neg_us, sizeof(neg_us)), EDOM);
	FAILS(api->setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &t, 8), EINVAL);
	/* A negative tv_sec is accepted and stored as 0 jiffies (see test_recv.c). */
	t = timeo_roundtrip(api, fd, SO_RCVTIMEO, neg_s);
	cr_assert(t.tv_sec == 0 && t.tv_usec == 0);
	/* A short getsockopt buffer gets the first bytes, no error. */
	t = timeo_roundtrip(api, fd, SO_SNDTIMEO, (struct timeval){ 7, 0 });
	memset(&t, 0, sizeof(t));
	OK(api->getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &t, &l));
	cr_assert_eq(l, 8);
	cr_assert_eq(t.tv_sec, 7);
	OK(api->close(fd));
}

/* ---- SO_LINGER, SO_PRIORITY, SO_MARK --------------------------------------- */

CONFORMANCE(udp_opts, linger)
{
	int fd = conf_udp(api);
	struct linger lg = { -1, -1 };
	socklen_t l = sizeof(lg);

	OK(api->getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &l));
	cr_assert(l == sizeof(lg) && lg.l_onoff == 0 && lg.l_linger == 0);
	lg = (struct linger){ 5, 7 };
	OK(api->setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	OK(api->getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &l));
	cr_assert_eq(lg.l_onoff, 1);
	cr_assert_eq(lg.l_linger, 7);
	/* Turning it off leaves the old linger time in place. */
	lg = (struct linger){ 0, -3 };
	OK(api->setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	OK(api->getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &l));
	cr_assert_eq(lg.l_onoff, 0);
	cr_assert_eq(lg.l_linger, 7);
	FAILS(api->setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(int)), EINVAL);
	OK(api->close(fd));
}

CONFORMANCE(udp_opts, priority_and_mark)
{
	int fd = conf_udp(api);

	cr_assert_eq(get_int(api, fd, SOL_SOCKET, SO_PRIORITY), 0);
	cr_assert_eq(set_get(api, fd, SOL_SOCKET, SO_PRIORITY, 6), 6);
	/* Above 6 needs CAP_NET_ADMIN: root has it. */
	cr_assert_eq(set_get(api, fd, SOL_SOCKET, SO_PRIORITY, 7), 7);
	cr_assert_eq(set_get(api, fd, SOL_SOCKET, SO_PRIORITY, -1), -1);
	cr_assert_eq(get_int(api, fd, SOL_SOCKET, SO_MARK), 0);
	cr_assert_eq(set_get(api, fd, SOL_SOCKET, SO_MARK, 0x1234), 0x1234);
	OK(api->close(fd));
}

CONFORMANCE(udp_opts, timestamp_flags_exclusive)
{
	int fd = conf_udp(api);

	cr_assert_eq(get_int(api, fd, SOL_SOCKET, SO_TIMESTAMP), 0);
	cr_assert_eq(get_int(api, fd, SOL_SOCKET, SO_TIMESTAMPNS), 0);
	cr_assert_eq(set_get(api, fd, SOL_SOCKET, SO_TIMESTAMP, 1), 1);
	/* Turning on the ns flavour hides the us one, and the other way round. */
	cr_assert_eq(set_get(api, fd, SOL_SOCKET, SO_TIMESTAMPNS, 1), 1);
	cr_assert_eq(get_int(api, fd, SOL_SOCKET, SO_TIMESTAMP), 0);
	cr_assert_eq(set_get(api, fd, SOL_SOCKET, SO_TIMESTAMP, 1), 1);
	cr_assert_eq(get_int(api, fd, SOL_SOCKET, SO_TIMESTAMPNS), 0);
	cr_assert_eq(set_get(api, fd, SOL_SOCKET, SO_TIMESTAMP, 0), 0);
	cr_assert_eq(get_int(api, fd, SOL_SOCKET, SO_TIMESTAMPNS), 0);
	OK(api->close(fd));
}

/* ---- IPPROTO_IP ------------------------------------------------------------ */

CONFORMANCE(udp_opts, ip_tos)
{
	int fd = conf_udp(api);
	unsigned char c = 0x48;

	cr_assert_eq(get_int(api, fd, IPPROTO_IP, IP_TOS), 0);
	cr_assert_eq(set_get(api, fd, IPPROTO_IP, IP_TOS, 0x28), 0x28);
	/* UDP keeps the ECN bits (only TCP masks them). */
	cr_assert_eq(set_get(api, fd, IPPROTO_IP, IP_TOS, 0x03), 0x03);
	cr_assert_eq(set_get(api, fd, IPPROTO_IP, IP_TOS, 0xff), 0xff);
	/* Wider values are cut to their low byte, not refused. */
	cr_assert_eq(set_get(api, fd, IPPROTO_IP, IP_TOS, 0x1b8), 0xb8);
	cr_assert_eq(set_get(api, fd, IPPROTO_IP, IP_TOS, -1), 0xff);
	/* A one-byte option value is accepted... */
	OK(api->setsockopt(fd, IPPROTO_IP, IP_TOS, &c, 1));
	cr_assert_eq(get_int(api, fd, IPPROTO_IP, IP_TOS), 0x48);
	/* ...and so is an empty one, which reads as 0. */
	OK(api->setsockopt(fd, IPPROTO_IP, IP_TOS, &c, 0));
	cr_assert_eq(get_int(api, fd, IPPROTO_IP, IP_TOS), 0);
	OK(api->close(fd));
}

CONFORMANCE(udp_opts, ip_ttl)
{
	int fd = conf_udp(api), v = 0;
	unsigned char c = 33;

	cr_assert_eq(get_int(api, fd, IPPROTO_IP, IP_TTL), 64);
	cr_assert_eq(set_get(api, fd, IPPROTO_IP, IP_TTL, 17), 17);
	cr_assert_eq(set_get(api, fd, IPPROTO_IP, IP_TTL, 255), 255);
	FAILS(set_int(api, fd, IPPROTO_IP, IP_TTL, 0), EINVAL);
	FAILS(set_int(api, fd, IPPROTO_IP, IP_TTL, 256), EINVAL);
	FAILS(set_int(api, fd, IPPROTO_IP, IP_TTL, -2), EINVAL);
	cr_assert_eq(get_int(api, fd, IPPROTO_IP, IP_TTL), 255);
	/* -1 goes back to the namespace default (net.ipv4.ip_default_ttl). */
	cr_assert_eq(set_get(api, fd, IPPROTO_IP, IP_TTL, -1), 64);
	OK(api->setsockopt(fd, IPPROTO_IP, IP_TTL, &c, 1));
	cr_assert_eq(get_int(api, fd, IPPROTO_IP, IP_TTL), 33);
	/*
	 * Unlike IP_TOS, an empty value is refused; a 2-byte one is read as
	 * its first byte, here 0, out of range (ip_ttl_short_optlen).
	 */
	FAILS(api->setsockopt(fd, IPPROTO_IP, IP_TTL, &c, 0), EINVAL);
	FAILS(api->setsockopt(fd, IPPROTO_IP, IP_TTL, &v, 2), EINVAL);
	OK(api->close(fd));
}

/* The TTL of the next datagram rx receives (IP_RECVTTL must be on). */
static int rx_ttl(const struct sockapi *api, int rx)
{
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	char byte;
	struct iovec iov = { &byte, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	int ttl = -1;
	struct pollfd p = { .fd = rx, .events = POLLIN };

	m.msg_control = ctl.b;
	m.msg_controllen = sizeof(ctl.b);
	cr_assert_eq(api->poll(&p, 1, 1000), 1, "%s: no datagram", api->name);
	OK(api->recvmsg(rx, &m, MSG_DONTWAIT));
	c = CMSG_FIRSTHDR(&m);
	cr_assert(c && c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL, "%s: no IP_TTL",
		  api->name);
	memcpy(&ttl, CMSG_DATA(c), sizeof(ttl));
	return ttl;
}

/*
 * R-ERR-EINVAL: IP_TTL takes a whole int only from an optlen of at least
 * sizeof(int); from optlen 1 to 3 it reads the first byte alone
 * (do_ip_setsockopt), so what follows it does not count, a first byte 0
 * is TTL 0 and EINVAL, and 0xff is 255 (one byte cannot say -1).  optlen
 * 0 is EINVAL.  The datagrams sent then carry that TTL.
 */
CONFORMANCE(udp_opts, ip_ttl_short_optlen)
{
	static const struct {
		unsigned char b[4];
		socklen_t len;
		int err, ttl;	/* errno, or the TTL read back */
	} cases[] = {
		{ { 30, 1, 1, 1 }, 0, EINVAL, 0 },  { { 31, 1, 1, 1 }, 1, 0, 31 },
		{ { 32, 1, 1, 1 }, 2, 0, 32 },	    { { 33, 1, 1, 1 }, 3, 0, 33 },
		{ { 34, 1, 1, 1 }, 4, EINVAL, 0 },  { { 0, 35, 0, 0 }, 2, EINVAL, 0 },
		{ { 0, 36, 0, 0 }, 3, EINVAL, 0 },  { { 0xff, 0xff, 0, 0 }, 2, 0, 255 },
		{ { 37, 0, 0, 0 }, 4, 0, 37 },	    { { 0xff, 0xff, 0xff, 0xff }, 3, 0, 255 },
	};
	struct sockaddr_in to;
	int rx = bound_udp(api, "127.0.0.1", 0, &to), tx = conf_udp(api), ttl = 64;
	unsigned char two[2] = { 42, 0 };

	OK(set_int(api, rx, IPPROTO_IP, IP_RECVTTL, 1));
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].err) {
			FAILS(api->setsockopt(tx, IPPROTO_IP, IP_TTL, cases[i].b, cases[i].len),
			      cases[i].err);
		} else {
			OK(api->setsockopt(tx, IPPROTO_IP, IP_TTL, cases[i].b, cases[i].len));
			ttl = cases[i].ttl;
		}
		cr_assert_eq(get_int(api, tx, IPPROTO_IP, IP_TTL), ttl, "%s: case %u", api->name,
			     i);
	}
	OK(api->setsockopt(tx, IPPROTO_IP, IP_TTL, two, sizeof(two)));
	conf_send_str(api, tx, "127.0.0.1", ntohs(to.sin_port), "t");
	cr_assert_eq(rx_ttl(api, rx), 42, "%s: TTL on the wire", api->name);
	OK(api->close(tx));
	OK(api->close(rx));
}

/*
 * (no ID) IP_TOS sets SO_PRIORITY from the TOS class whenever the TOS
 * changes (__ip_sock_set_tos, rt_tos2priority): 0x10 interactive 6, 0x08
 * bulk 2, 0x18 interactive bulk 4, anything else best effort 0.  A
 * datagram socket keeps all eight bits, so an ECN bit alone is a change.
 * Setting the TOS the socket already has leaves a priority set since then
 * alone; a changed TOS overrides it, to 0 too.
 */
CONFORMANCE(udp_opts, ip_tos_sets_priority)
{
	static const struct {
		int tos, prio;
	} cases[] = {
		{ 0x10, 6 }, { 0x08, 2 }, { 0x18, 4 }, { 0x04, 0 }, { 0x02, 0 }, { 0x1e, 4 },
		{ 0x13, 6 }, { 0x0c, 2 }, { 0xb8, 4 }, { 0xe0, 0 }, { 0x00, 0 },
	};
	int fd = conf_udp(api);

	cr_assert_eq(get_int(api, fd, SOL_SOCKET, SO_PRIORITY), 0);
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(set_get(api, fd, IPPROTO_IP, IP_TOS, cases[i].tos), cases[i].tos);
		cr_assert_eq(get_int(api, fd, SOL_SOCKET, SO_PRIORITY), cases[i].prio,
			     "%s: IP_TOS 0x%x", api->name, cases[i].tos);
	}
	cr_assert_eq(set_get(api, fd, IPPROTO_IP, IP_TOS, 0x10), 0x10);
	OK(set_int(api, fd, SOL_SOCKET, SO_PRIORITY, 5));
	OK(set_int(api, fd, IPPROTO_IP, IP_TOS, 0x10));
	cr_assert_eq(get_int(api, fd, SOL_SOCKET, SO_PRIORITY), 5);
	OK(set_int(api, fd, IPPROTO_IP, IP_TOS, 0x11));
	cr_assert_eq(get_int(api, fd, SOL_SOCKET, SO_PRIORITY), 6);
	OK(set_int(api, fd, SOL_SOCKET, SO_PRIORITY, 5));
	OK(set_int(api, fd, IPPROTO_IP, IP_TOS, 0));
	cr_assert_eq(get_int(api, fd, SOL_SOCKET, SO_PRIORITY), 0);
	OK(api->close(fd));
}

/*
 * R-ERR-EINVAL: the rest of do_ip_setsockopt/do_ip_getsockopt as a UDP
 * socket sees it.  IP_FREEBIND, IP_TRANSPARENT, IP_MULTICAST_TTL and
 * IP_MULTICAST_LOOP refuse an empty value; IP_MULTICAST_LOOP reads back
 * what was set; IP_ROUTER_ALERT is for raw sockets (EINVAL) and multicast
 * routing for raw IGMP (EOPNOTSUPP); an empty
 * IP_OPTIONS clears them and reads back empty; the options only raw or
 * multicast sockets change read their defaults, IP_PROTOCOL the local port.
 */
CONFORMANCE(udp_opts, ip_odd_options)
{
	static const int empty_einval[] = { IP_FREEBIND, IP_TRANSPARENT, IP_MULTICAST_TTL,
					    IP_MULTICAST_LOOP };
	struct sockaddr_in me;
	int fd = bound_udp(api, "127.0.0.1", 0, &me), v = 1;
	socklen_t l = sizeof(v);
	struct in_addr mif = { 0x5a5a5a5a };

	for (unsigned i = 0; i < sizeof(empty_einval) / sizeof(empty_einval[0]); i++)
		FAILS(api->setsockopt(fd, IPPROTO_IP, empty_einval[i], &v, 0), EINVAL);
	cr_assert_eq(get_int(api, fd, IPPROTO_IP, IP_MULTICAST_TTL), 1);
	cr_assert_eq(get_int(api, fd, IPPROTO_IP, IP_MULTICAST_LOOP), 1);
	cr_assert_eq(set_get(api, fd, IPPROTO_IP, IP_MULTICAST_LOOP, 0), 0);
	cr_assert_eq(set_get(api, fd, IPPROTO_IP, IP_MULTICAST_LOOP, 9), 1);
	FAILS(set_int(api, fd, IPPROTO_IP, IP_ROUTER_ALERT, 1), EINVAL);
	FAILS(set_int(api, fd, IPPROTO_IP, 200 /* MRT_INIT */, 1), EOPNOTSUPP);
	FAILS(api->getsockopt(fd, IPPROTO_IP, 200, &v, &l), EOPNOTSUPP);
	OK(api->setsockopt(fd, IPPROTO_IP, IP_OPTIONS, NULL, 0));
	l = sizeof(v);
	OK(api->getsockopt(fd, IPPROTO_IP, IP_OPTIONS, &v, &l));
	cr_assert_eq(l, 0);
	cr_assert_eq(get_int(api, fd, IPPROTO_IP, IP_ROUTER_ALERT), 0);
	cr_assert_eq(get_int(api, fd, IPPROTO_IP, IP_HDRINCL), 0);
	cr_assert_eq(get_int(api, fd, IPPROTO_IP, IP_MULTICAST_ALL), 1);
	cr_assert_eq(get_int(api, fd, IPPROTO_IP, 52 /* IP_PROTOCOL */), ntohs(me.sin_port));
	l = sizeof(mif);
	OK(api->getsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mif, &l));
	cr_assert(l == sizeof(mif) && mif.s_addr == 0);
	OK(api->close(fd));
}

CONFORMANCE(udp_opts, ip_mtu_discover)
{
	int fd = conf_udp(api);

	/* net.ipv4.ip_no_pmtu_disc is 0: the default is IP_PMTUDISC_WANT. */
	cr_assert_eq(get_int(api, fd, IPPROTO_IP, IP_MTU_DISCOVER), IP_PMTUDISC_WANT);
	cr_assert_eq(set_get(api, fd, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO),
		     IP_PMTUDISC_DO);
	cr_assert_eq(set_get(api, fd, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_OMIT),
		     IP_PMTUDISC_OMIT);
	FAILS(set_int(api, fd, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_OMIT + 1), EINVAL);
	FAILS(set_int(api, fd, IPPROTO_IP, IP_MTU_DISCOVER, -1), EINVAL);
	cr_assert_eq(get_int(api, fd, IPPROTO_IP, IP_MTU_DISCOVER), IP_PMTUDISC_OMIT);
	OK(api->close(fd));
}

CONFORMANCE(udp_opts, ip_mtu)
{
	int fd = conf_udp(api), v;
	socklen_t l = sizeof(v);
	struct sockaddr_in d = sin4("127.0.0.1", 9);

	FAILS(api->getsockopt(fd, IPPROTO_IP, IP_MTU, &v, &l), ENOTCONN);
	OK(api->connect(fd, SA(&d), sizeof(d)));
	/* lo's MTU is 65536, but a route's MTU is capped at IP_MAX_MTU. */
	cr_assert_eq(get_int(api, fd, IPPROTO_IP, IP_MTU), 65535);
	/* Not settable. */
	FAILS(set_int(api, fd, IPPROTO_IP, IP_MTU, 1000), ENOPROTOOPT);
	OK(api->close(fd));
}

/* ---- IPPROTO_UDP ---------------------------------------------------------- */

/* R-FLAG-MORE-UDP (the option itself; what corking sends is in test_send*.c) */
CONFORMANCE(udp_opts, udp_cork)
{
	int fd = conf_udp(api), v = 1;

	cr_assert_eq(get_int(api, fd, IPPROTO_UDP, UDP_CORK), 0);
	cr_assert_eq(set_get(api, fd, IPPROTO_UDP, UDP_CORK, 5), 1);
	cr_assert_eq(set_get(api, fd, IPPROTO_UDP, UDP_CORK, 0), 0);
	FAILS(api->setsockopt(fd, IPPROTO_UDP, UDP_CORK, &v, 2), EINVAL);
	OK(api->close(fd));
}

/* ---- malformed calls ------------------------------------------------------ */

CONFORMANCE(udp_opts, bad_optlen_and_pointer)
{
	int fd = conf_udp(api), v = 1;
	long long wide = 1;

	FAILS(api->setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &v, 2), EINVAL);
	FAILS(api->setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &v, 0), EINVAL);
	FAILS(api->setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, 3), EINVAL);
	FAILS(api->setsockopt(fd, SOL_SOCKET, SO_BROADCAST, NULL, sizeof(int)), EFAULT);
	/* A longer optlen is fine: the first int is used. */
	OK(api->setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &wide, sizeof(wide)));
	cr_assert_eq(get_int(api, fd, SOL_SOCKET, SO_BROADCAST), 1);
	OK(api->close(fd));
}

CONFORMANCE(udp_opts, unknown_options)
{
	int fd = conf_udp(api), v = 1;
	socklen_t l = sizeof(v);

	FAILS(set_int(api, fd, SOL_SOCKET, 9999, 1), ENOPROTOOPT);
	FAILS(api->getsockopt(fd, SOL_SOCKET, 9999, &v, &l), ENOPROTOOPT);
	FAILS(set_int(api, fd, IPPROTO_IP, 9999, 1), ENOPROTOOPT);
	FAILS(api->getsockopt(fd, IPPROTO_IP, 9999, &v, &l), ENOPROTOOPT);
	FAILS(set_int(api, fd, IPPROTO_UDP, 9999, 1), ENOPROTOOPT);
	FAILS(api->getsockopt(fd, IPPROTO_UDP, 9999, &v, &l), ENOPROTOOPT);
	/*
	 * A level UDP does not know falls through to ip_{set,get}sockopt,
	 * which disagree: ENOPROTOOPT to set, EOPNOTSUPP to get.
	 */
	FAILS(set_int(api, fd, IPPROTO_TCP, 1, 1), ENOPROTOOPT);
	FAILS(api->getsockopt(fd, IPPROTO_TCP, 1, &v, &l), EOPNOTSUPP);
	FAILS(set_int(api, fd, 12345, 1, 1), ENOPROTOOPT);
	FAILS(api->getsockopt(fd, 12345, 1, &v, &l), EOPNOTSUPP);
	OK(api->close(fd));
}

/* getsockopt into a buffer shorter than an int. */
static void short_get(const struct sockapi *api, int fd, int lvl, int name, socklen_t len,
		      socklen_t want_len, const unsigned char *want, const char *what)
{
	unsigned char b[8];
	socklen_t l = len;

	memset(b, 0xee, sizeof(b));
	OK(api->getsockopt(fd, lvl, name, b, &l));
	cr_assert_eq(l, want_len, "%s: %s optlen %u -> %u, want %u", api->name, what, len, l,
		     want_len);
	cr_assert_arr_eq(b, want, sizeof(b), "%s: %s optlen %u: bytes differ", api->name, what,
			 len);
}

CONFORMANCE(udp_opts, getsockopt_short_optlen)
{
	static const unsigned char none[8] = { 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee };
	static const unsigned char type1[8] = { 2, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee };
	static const unsigned char type2[8] = { 2, 0, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee };
	static const unsigned char type4[8] = { 2, 0, 0, 0, 0xee, 0xee, 0xee, 0xee };
	static const unsigned char ttl1[8] = { 64, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee };
	static const unsigned char mtu2[8] = { 0xff, 0xff, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee };
	static const unsigned char cork2[8] = { 0, 0, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee };
	struct sockaddr_in d = sin4("127.0.0.1", 9);
	int fd = conf_udp(api), v;
	socklen_t l;

	/* SOL_SOCKET: the first len bytes of the int, optlen = len. */
	short_get(api, fd, SOL_SOCKET, SO_TYPE, 0, 0, none, "SO_TYPE");
	short_get(api, fd, SOL_SOCKET, SO_TYPE, 1, 1, type1, "SO_TYPE");
	short_get(api, fd, SOL_SOCKET, SO_TYPE, 2, 2, type2, "SO_TYPE");
	short_get(api, fd, SOL_SOCKET, SO_TYPE, 8, 4, type4, "SO_TYPE");
	/*
	 * IPPROTO_IP: a value 0..255 asked for with 1..3 bytes comes back as
	 * ONE byte, optlen 1 (do_ip_getsockopt's unsigned char path).
	 */
	short_get(api, fd, IPPROTO_IP, IP_TTL, 0, 0, none, "IP_TTL");
	short_get(api, fd, IPPROTO_IP, IP_TTL, 1, 1, ttl1, "IP_TTL");
	short_get(api, fd, IPPROTO_IP, IP_TTL, 2, 1, ttl1, "IP_TTL");
	short_get(api, fd, IPPROTO_IP, IP_TTL, 3, 1, ttl1, "IP_TTL");
	/* ...but a value above 255 takes the plain truncating path. */
	OK(api->connect(fd, SA(&d), sizeof(d)));
	short_get(api, fd, IPPROTO_IP, IP_MTU, 2, 2, mtu2, "IP_MTU");
	short_get(api, fd, IPPROTO_UDP, UDP_CORK, 0, 0, none, "UDP_CORK");
	short_get(api, fd, IPPROTO_UDP, UDP_CORK, 2, 2, cork2, "UDP_CORK");
	/* A negative optlen is EINVAL at every level. */
	l = (socklen_t)-1;
	FAILS(api->getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &l), EINVAL);
	l = (socklen_t)-1;
	FAILS(api->getsockopt(fd, IPPROTO_IP, IP_TTL, &v, &l), EINVAL);
	l = (socklen_t)-1;
	FAILS(api->getsockopt(fd, IPPROTO_UDP, UDP_CORK, &v, &l), EINVAL);
	FAILS(api->getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, NULL), EFAULT);
	OK(api->close(fd));
}
