/* SPDX-License-Identifier: MIT */
/*
 * test_recv_cmsg.c - control messages on UDP/IPv4 receive: IP_PKTINFO,
 * IP_RECVTOS, IP_RECVTTL, IP_RECVORIGDSTADDR, SO_TIMESTAMP(NS), SO_RXQ_OVFL,
 * MSG_CTRUNC, and their order, kernel and usock side by side
 *
 * Expected values were read from the kernel (Linux 6.18, x86_64).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <stdint.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "sockapi.h"
#include "conf_util.h"

/* One receive with room for control data. */
struct rx {
	struct msghdr m;
	struct iovec iov;
	char data[64];
	struct {
		_Alignas(struct cmsghdr) unsigned char buf[512];
	} ctl;
	ssize_t n;
};

static int set_on(const struct sockapi *api, int fd, int lvl, int name)
{
	int one = 1;

	return OK(api->setsockopt(fd, lvl, name, &one, sizeof(one)));
}

/* recvmsg (non-blocking) with controllen bytes of control space (ctl NULL if < 0). */
static void rx_one(const struct sockapi *api, int fd, struct rx *r, long controllen)
{
	memset(r, 0, sizeof(*r));
	memset(r->ctl.buf, 0xee, sizeof(r->ctl.buf));
	r->iov = (struct iovec){ r->data, sizeof(r->data) };
	r->m.msg_iov = &r->iov;
	r->m.msg_iovlen = 1;
	r->m.msg_control = controllen < 0 ? NULL : r->ctl.buf;
	r->m.msg_controllen = controllen < 0 ? 100 : (size_t)controllen;
	r->n = OK(api->recvmsg(fd, &r->m, MSG_DONTWAIT));
}

static struct cmsghdr *find(struct rx *r, int lvl, int type)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&r->m); c; c = CMSG_NXTHDR(&r->m, c))
		if (c->cmsg_level == lvl && c->cmsg_type == type)
			return c;
	return NULL;
}

static int count_cmsgs(struct rx *r)
{
	int n = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(&r->m); c; c = CMSG_NXTHDR(&r->m, c))
		n++;
	return n;
}

static struct in_pktinfo pktinfo_of(struct rx *r)
{
	struct cmsghdr *c = find(r, IPPROTO_IP, IP_PKTINFO);
	struct in_pktinfo pi;

	cr_assert(c, "no IP_PKTINFO");
	cr_assert_eq(c->cmsg_len, CMSG_LEN(sizeof(pi)));
	memcpy(&pi, CMSG_DATA(c), sizeof(pi));
	return pi;
}

/* ---- one option at a time -------------------------------------------------- */

CONFORMANCE(udp_cmsg, none_unless_asked)
{
	int rx = bound_udp(api, "127.0.0.1", 5000, NULL);
	int tx = bound_udp(api, "127.0.0.1", 6000, NULL);
	struct rx r;

	conf_send_str(api, tx, "127.0.0.1", 5000, "x");
	rx_one(api, rx, &r, 256);
	cr_assert_eq(r.m.msg_controllen, 0);
	cr_assert_eq(r.m.msg_flags, 0);
	/* On, then off again. */
	set_on(api, rx, IPPROTO_IP, IP_PKTINFO);
	conf_send_str(api, tx, "127.0.0.1", 5000, "x");
	rx_one(api, rx, &r, 256);
	cr_assert_eq(count_cmsgs(&r), 1);
	OK(api->setsockopt(rx, IPPROTO_IP, IP_PKTINFO, &(int){ 0 }, sizeof(int)));
	conf_send_str(api, tx, "127.0.0.1", 5000, "x");
	rx_one(api, rx, &r, 256);
	cr_assert_eq(r.m.msg_controllen, 0);
	OK(api->close(rx));
	OK(api->close(tx));
}

CONFORMANCE(udp_cmsg, pktinfo_on_loopback)
{
	int rx = bound_udp(api, "127.0.0.1", 5000, NULL);
	int tx = bound_udp(api, "127.0.0.1", 6000, NULL);
	struct in_pktinfo pi;
	struct rx r;

	set_on(api, rx, IPPROTO_IP, IP_PKTINFO);
	conf_send_str(api, tx, "127.0.0.1", 5000, "hi");
	rx_one(api, rx, &r, 256);
	cr_assert_eq(r.n, 2);
	cr_assert_eq(r.m.msg_controllen, CMSG_SPACE(sizeof(struct in_pktinfo)));
	pi = pktinfo_of(&r);
	cr_assert_eq(pi.ipi_ifindex, 1);	/* lo */
	conf_assert_ip(pi.ipi_spec_dst, "127.0.0.1");
	conf_assert_ip(pi.ipi_addr, "127.0.0.1");
	OK(api->close(rx));
	OK(api->close(tx));
}

CONFORMANCE(udp_cmsg, pktinfo_wildcard_socket)
{
	int rx = bound_udp(api, "0.0.0.0", 5000, NULL);
	int tx = bound_udp(api, "127.0.0.1", 6000, NULL);
	struct in_pktinfo pi;
	struct rx r;

	set_on(api, rx, IPPROTO_IP, IP_PKTINFO);
	/* Any 127/8 address is local; pktinfo tells which one was used. */
	conf_send_str(api, tx, "127.0.0.5", 5000, "hi");
	rx_one(api, rx, &r, 256);
	pi = pktinfo_of(&r);
	cr_assert_eq(pi.ipi_ifindex, 1);
	conf_assert_ip(pi.ipi_spec_dst, "127.0.0.5");
	conf_assert_ip(pi.ipi_addr, "127.0.0.5");
	OK(api->close(rx));
	OK(api->close(tx));
}

CONFORMANCE(udp_cmsg, recvtos)
{
	int rx = bound_udp(api, "127.0.0.1", 5000, NULL);
	int tx = bound_udp(api, "127.0.0.1", 6000, NULL);
	int tos = 0xb9;	/* DSCP 46 (EF) + ECT(1): UDP keeps the ECN bits */
	struct cmsghdr *c;
	struct rx r;

	set_on(api, rx, IPPROTO_IP, IP_RECVTOS);
	conf_send_str(api, tx, "127.0.0.1", 5000, "a");
	rx_one(api, rx, &r, 256);
	c = find(&r, IPPROTO_IP, IP_TOS);
	cr_assert(c);
	/* One byte of data: cmsg_len 17, the buffer used is 24. */
	cr_assert_eq(c->cmsg_len, CMSG_LEN(1));
	cr_assert_eq(r.m.msg_controllen, CMSG_SPACE(1));
	cr_assert_eq(CMSG_DATA(c)[0], 0);
	OK(api->setsockopt(tx, IPPROTO_IP, IP_TOS, &tos, sizeof(tos)));
	conf_send_str(api, tx, "127.0.0.1", 5000, "b");
	rx_one(api, rx, &r, 256);
	c = find(&r, IPPROTO_IP, IP_TOS);
	cr_assert(c);
	cr_assert_eq(CMSG_DATA(c)[0], 0xb9);
	OK(api->close(rx));
	OK(api->close(tx));
}

CONFORMANCE(udp_cmsg, recvttl)
{
	int rx = bound_udp(api, "127.0.0.1", 5000, NULL);
	int tx = bound_udp(api, "127.0.0.1", 6000, NULL);
	int ttl = 17, v;
	struct cmsghdr *c;
	struct rx r;

	set_on(api, rx, IPPROTO_IP, IP_RECVTTL);
	conf_send_str(api, tx, "127.0.0.1", 5000, "a");
	rx_one(api, rx, &r, 256);
	c = find(&r, IPPROTO_IP, IP_TTL);
	cr_assert(c);
	cr_assert_eq(c->cmsg_len, CMSG_LEN(sizeof(int)));
	memcpy(&v, CMSG_DATA(c), sizeof(v));
	cr_assert_eq(v, 64);
	OK(api->setsockopt(tx, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)));
	conf_send_str(api, tx, "127.0.0.1", 5000, "b");
	rx_one(api, rx, &r, 256);
	c = find(&r, IPPROTO_IP, IP_TTL);
	cr_assert(c);
	memcpy(&v, CMSG_DATA(c), sizeof(v));
	cr_assert_eq(v, 17);
	OK(api->close(rx));
	OK(api->close(tx));
}

CONFORMANCE(udp_cmsg, origdstaddr)
{
	int rx = bound_udp(api, "0.0.0.0", 5000, NULL);
	int tx = bound_udp(api, "127.0.0.1", 6000, NULL);
	struct cmsghdr *c;
	struct sockaddr_in a;
	struct rx r;

	set_on(api, rx, IPPROTO_IP, IP_RECVORIGDSTADDR);
	conf_send_str(api, tx, "127.0.0.7", 5000, "a");
	rx_one(api, rx, &r, 256);
	c = find(&r, IPPROTO_IP, IP_ORIGDSTADDR);
	cr_assert(c);
	cr_assert_eq(c->cmsg_len, CMSG_LEN(sizeof(struct sockaddr_in)));
	memcpy(&a, CMSG_DATA(c), sizeof(a));
	cr_assert_eq(a.sin_family, AF_INET);
	cr_assert_eq(a.sin_port, htons(5000));
	conf_assert_ip(a.sin_addr, "127.0.0.7");
	OK(api->close(rx));
	OK(api->close(tx));
}

CONFORMANCE(udp_cmsg, timestamps_sane)
{
	int rx = bound_udp(api, "127.0.0.1", 5000, NULL);
	int tx = bound_udp(api, "127.0.0.1", 6000, NULL);
	struct timeval tv, now;
	struct timespec ts, nows;
	struct cmsghdr *c;
	struct rx r;
	double d;

	set_on(api, rx, SOL_SOCKET, SO_TIMESTAMP);
	conf_send_str(api, tx, "127.0.0.1", 5000, "a");
	rx_one(api, rx, &r, 256);
	gettimeofday(&now, NULL);
	c = find(&r, SOL_SOCKET, SCM_TIMESTAMP);
	cr_assert(c);
	cr_assert_eq(c->cmsg_len, CMSG_LEN(sizeof(tv)));
	cr_assert_eq(count_cmsgs(&r), 1);
	memcpy(&tv, CMSG_DATA(c), sizeof(tv));
	d = (now.tv_sec - tv.tv_sec) + (now.tv_usec - tv.tv_usec) / 1e6;
	cr_assert(d >= 0 && d < 1, "%s: stamp %.6f s old", api->name, d);
	cr_assert(tv.tv_usec >= 0 && tv.tv_usec < 1000000);
	/* Switching to ns replaces the us stamp (the two are exclusive). */
	set_on(api, rx, SOL_SOCKET, SO_TIMESTAMPNS);
	conf_send_str(api, tx, "127.0.0.1", 5000, "b");
	rx_one(api, rx, &r, 256);
	clock_gettime(CLOCK_REALTIME, &nows);
	cr_assert_eq(count_cmsgs(&r), 1);
	c = find(&r, SOL_SOCKET, SCM_TIMESTAMPNS);
	cr_assert(c);
	cr_assert_eq(c->cmsg_len, CMSG_LEN(sizeof(ts)));
	memcpy(&ts, CMSG_DATA(c), sizeof(ts));
	d = (nows.tv_sec - ts.tv_sec) + (nows.tv_nsec - ts.tv_nsec) / 1e9;
	cr_assert(d >= 0 && d < 1, "%s: stamp %.9f s old", api->name, d);
	cr_assert(ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000);
	OK(api->close(rx));
	OK(api->close(tx));
}

/* ---- truncation ------------------------------------------------------------- */

CONFORMANCE(udp_cmsg, ctrunc)
{
	int rx = bound_udp(api, "127.0.0.1", 5000, NULL);
	int tx = bound_udp(api, "127.0.0.1", 6000, NULL);
	struct cmsghdr h;
	struct rx r;
	int ifindex;

	set_on(api, rx, IPPROTO_IP, IP_PKTINFO);
	/* No room for even a header: nothing written, MSG_CTRUNC, length 0. */
	for (long len = 0; len < (long)sizeof(struct cmsghdr); len += 4) {
		conf_send_str(api, tx, "127.0.0.1", 5000, "x");
		rx_one(api, rx, &r, len);
		cr_assert_eq(r.n, 1);
		cr_assert_eq(r.m.msg_flags, MSG_CTRUNC, "%s: controllen %ld", api->name, len);
		cr_assert_eq(r.m.msg_controllen, 0);
		cr_assert_eq(r.ctl.buf[0], 0xee);
	}
	/* A NULL control buffer is the same, whatever msg_controllen says. */
	conf_send_str(api, tx, "127.0.0.1", 5000, "x");
	rx_one(api, rx, &r, -1);
	cr_assert_eq(r.m.msg_flags, MSG_CTRUNC);
	cr_assert_eq(r.m.msg_controllen, 0);
	/*
	 * Room for the header and part of the data: put_cmsg writes a cut
	 * message whose cmsg_len is the room there was (20 of 28 here).
	 */
	conf_send_str(api, tx, "127.0.0.1", 5000, "x");
	rx_one(api, rx, &r, 20);
	cr_assert_eq(r.m.msg_flags, MSG_CTRUNC);
	cr_assert_eq(r.m.msg_controllen, 20);
	memcpy(&h, r.ctl.buf, sizeof(h));
	cr_assert_eq(h.cmsg_len, 20);
	cr_assert_eq(h.cmsg_level, IPPROTO_IP);
	cr_assert_eq(h.cmsg_type, IP_PKTINFO);
	memcpy(&ifindex, r.ctl.buf + sizeof(h), sizeof(ifindex));
	cr_assert_eq(ifindex, 1);
	cr_assert_eq(r.ctl.buf[20], 0xee);
	/* CMSG_LEN exactly (no trailing padding room): complete, no flag. */
	conf_send_str(api, tx, "127.0.0.1", 5000, "x");
	rx_one(api, rx, &r, CMSG_LEN(sizeof(struct in_pktinfo)));
	cr_assert_eq(r.m.msg_flags, 0);
	cr_assert_eq(r.m.msg_controllen, CMSG_LEN(sizeof(struct in_pktinfo)));
	/* Two messages, room for the first only: it is whole, the second is cut off. */
	set_on(api, rx, IPPROTO_IP, IP_RECVTTL);
	conf_send_str(api, tx, "127.0.0.1", 5000, "x");
	rx_one(api, rx, &r, CMSG_SPACE(sizeof(struct in_pktinfo)) + 8);
	cr_assert_eq(r.m.msg_flags, MSG_CTRUNC);
	cr_assert_eq(r.m.msg_controllen, CMSG_SPACE(sizeof(struct in_pktinfo)));
	cr_assert_eq(count_cmsgs(&r), 1);
	cr_assert(find(&r, IPPROTO_IP, IP_PKTINFO));
	OK(api->close(rx));
	OK(api->close(tx));
}

/* ---- all at once ------------------------------------------------------------ */

CONFORMANCE(udp_cmsg, kernel_order)
{
	int rx = bound_udp(api, "127.0.0.1", 5000, NULL);
	int tx = bound_udp(api, "127.0.0.1", 6000, NULL);
	/*
	 * udp_recvmsg: socket-level first (timestamp, then drops), then
	 * ip_cmsg_recv_offset's fixed order: PKTINFO, TTL, TOS, ...,
	 * ORIGDSTADDR.  The order the options were set in does not matter.
	 */
	static const struct {
		int lvl, type;
		size_t len;
	} want[] = {
		{ SOL_SOCKET, SCM_TIMESTAMP, CMSG_LEN(sizeof(struct timeval)) },
		{ IPPROTO_IP, IP_PKTINFO, CMSG_LEN(sizeof(struct in_pktinfo)) },
		{ IPPROTO_IP, IP_TTL, CMSG_LEN(sizeof(int)) },
		{ IPPROTO_IP, IP_TOS, CMSG_LEN(1) },
		{ IPPROTO_IP, IP_ORIGDSTADDR, CMSG_LEN(sizeof(struct sockaddr_in)) },
	};
	struct cmsghdr *c;
	struct rx r;
	unsigned i = 0;

	set_on(api, rx, IPPROTO_IP, IP_RECVORIGDSTADDR);
	set_on(api, rx, IPPROTO_IP, IP_RECVTOS);
	set_on(api, rx, IPPROTO_IP, IP_RECVTTL);
	set_on(api, rx, SOL_SOCKET, SO_RXQ_OVFL);	/* no drops: no message */
	set_on(api, rx, IPPROTO_IP, IP_PKTINFO);
	set_on(api, rx, SOL_SOCKET, SO_TIMESTAMP);
	conf_send_str(api, tx, "127.0.0.1", 5000, "all");
	rx_one(api, rx, &r, 512);
	cr_assert_eq(r.m.msg_flags, 0);
	for (c = CMSG_FIRSTHDR(&r.m); c; c = CMSG_NXTHDR(&r.m, c), i++) {
		cr_assert_lt(i, sizeof(want) / sizeof(want[0]), "%s: extra cmsg", api->name);
		cr_assert(c->cmsg_level == want[i].lvl && c->cmsg_type == want[i].type,
			  "%s: cmsg %u is %d/%d, want %d/%d", api->name, i, c->cmsg_level,
			  c->cmsg_type, want[i].lvl, want[i].type);
		cr_assert_eq(c->cmsg_len, want[i].len);
	}
	cr_assert_eq(i, sizeof(want) / sizeof(want[0]));
	/* Each message padded to CMSG_SPACE, the last one too: 32+32+24+24+32. */
	cr_assert_eq(r.m.msg_controllen, 144);
	OK(api->close(rx));
	OK(api->close(tx));
}

CONFORMANCE(udp_cmsg, recvmmsg_per_entry_control)
{
	int rx = bound_udp(api, "127.0.0.1", 5000, NULL);
	int tx = bound_udp(api, "127.0.0.1", 6000, NULL);
	struct {
		_Alignas(struct cmsghdr) unsigned char b[64];
	} ctl[3];
	char data[3][8];
	struct iovec iov[3];
	struct mmsghdr v[3];
	int ttl;

	memset(v, 0, sizeof(v));
	for (int i = 0; i < 3; i++) {
		iov[i] = (struct iovec){ data[i], sizeof(data[i]) };
		v[i].msg_hdr.msg_iov = &iov[i];
		v[i].msg_hdr.msg_iovlen = 1;
		v[i].msg_hdr.msg_control = ctl[i].b;
		v[i].msg_hdr.msg_controllen = sizeof(ctl[i].b);
	}
	v[1].msg_hdr.msg_controllen = 8;	/* too small: this entry alone is cut */
	set_on(api, rx, IPPROTO_IP, IP_RECVTTL);
	for (int i = 0; i < 3; i++) {
		ttl = 10 + i;
		OK(api->setsockopt(tx, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)));
		conf_send_str(api, tx, "127.0.0.1", 5000, "m");
	}
	cr_assert_eq(OK(api->recvmmsg(rx, v, 3, MSG_DONTWAIT, NULL)), 3);
	for (int i = 0; i < 3; i += 2) {
		struct cmsghdr *c = CMSG_FIRSTHDR(&v[i].msg_hdr);

		cr_assert_eq(v[i].msg_hdr.msg_flags, 0);
		cr_assert_eq(v[i].msg_hdr.msg_controllen, CMSG_SPACE(sizeof(int)));
		cr_assert(c && c->cmsg_type == IP_TTL);
		memcpy(&ttl, CMSG_DATA(c), sizeof(ttl));
		cr_assert_eq(ttl, 10 + i);
	}
	cr_assert_eq(v[1].msg_hdr.msg_flags, MSG_CTRUNC);
	cr_assert_eq(v[1].msg_hdr.msg_controllen, 0);
	OK(api->close(rx));
	OK(api->close(tx));
}

/* ---- SO_RXQ_OVFL ------------------------------------------------------------- */

static int drops_of(struct rx *r)
{
	struct cmsghdr *c = find(r, SOL_SOCKET, SO_RXQ_OVFL);
	uint32_t v;

	if (!c)
		return -1;
	cr_assert_eq(c->cmsg_len, CMSG_LEN(sizeof(uint32_t)));
	memcpy(&v, CMSG_DATA(c), sizeof(v));
	return (int)v;
}

CONFORMANCE(udp_cmsg, rxq_ovfl_counts_drops)
{
	int rx = bound_udp(api, "127.0.0.1", 5000, NULL);
	int tx = bound_udp(api, "127.0.0.1", 6000, NULL);
	int rcvbuf = 2048;
	struct rx r;

	/* SO_RCVBUF 2048 (4096) keeps 4 of 20 one-byte datagrams (see test_recv.c). */
	OK(api->setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)));
	set_on(api, rx, SOL_SOCKET, SO_RXQ_OVFL);
	for (int i = 0; i < 20; i++)
		conf_send_str(api, tx, "127.0.0.1", 5000, "d");
	api->sleep_ms(20);
	/*
	 * The count is stamped on a datagram when it is queued, and only a
	 * non-zero count is reported: the four kept before the drops carry
	 * none.
	 */
	for (int i = 0; i < 4; i++) {
		rx_one(api, rx, &r, 256);
		cr_assert_eq(drops_of(&r), -1, "%s: datagram %d", api->name, i);
	}
	cr_assert_eq(conf_drain(api, rx), 0);
	/* Later datagrams carry the running total of drops. */
	conf_send_str(api, tx, "127.0.0.1", 5000, "e");
	rx_one(api, rx, &r, 256);
	cr_assert_eq(drops_of(&r), 16);
	conf_send_str(api, tx, "127.0.0.1", 5000, "f");
	rx_one(api, rx, &r, 256);
	cr_assert_eq(drops_of(&r), 16);
	/* Off: no message although the count is still 16. */
	OK(api->setsockopt(rx, SOL_SOCKET, SO_RXQ_OVFL, &(int){ 0 }, sizeof(int)));
	conf_send_str(api, tx, "127.0.0.1", 5000, "g");
	rx_one(api, rx, &r, 256);
	cr_assert_eq(r.m.msg_controllen, 0);
	OK(api->close(rx));
	OK(api->close(tx));
}
