/* SPDX-License-Identifier: MIT */
/*
 * test_twohost.c - UDP/IPv4 sends between two hosts, checked on the wire
 *
 * Hosts A and B joined by veth (conf_topo_pair: 198.18.0.1/24 on A's veth0,
 * 198.18.0.2/24 on B's veth1, MTU 1500).  The kernel run makes real network
 * namespaces, the usock run usock namespaces on virtual time; captures on
 * B's veth1 show what crossed the link.  Expected values are the kernel's
 * (Linux 6.18).  Scenarios close every socket they open.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/udp.h>

#include "sockapi.h"
#include "conf_util.h"

#define ETH_HLEN_ 14

static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static bool is_ip4(const struct frame *f)
{
	return f->len >= ETH_HLEN_ + 20 && get16(f->data + 12) == 0x0800;
}

static bool ip4_addr_is(const uint8_t *p, const char *ip)
{
	struct sockaddr_in a = sin4(ip, 0);

	return memcmp(p, &a.sin_addr, 4) == 0;
}

/* An IPv4 frame from src to dst carrying protocol proto (0: any). */
static bool is_ip4_flow(const struct frame *f, const char *src, const char *dst, int proto)
{
	const uint8_t *ip = f->data + ETH_HLEN_;

	return is_ip4(f) && ip4_addr_is(ip + 12, src) && ip4_addr_is(ip + 16, dst) &&
	       (!proto || ip[9] == proto);
}

/* An ARP request (op 1) sent by sender_ip; *unicast says whether to a MAC. */
static bool is_arp_request_from(const struct frame *f, const char *sender_ip, bool *unicast)
{
	if (f->len < ETH_HLEN_ + 28 || get16(f->data + 12) != 0x0806)
		return false;
	if (get16(f->data + ETH_HLEN_ + 6) != 1 ||
	    !ip4_addr_is(f->data + ETH_HLEN_ + 14, sender_ip))
		return false;
	*unicast = memcmp(f->data, bcast_mac, 6) != 0;
	return true;
}

static void pair(const struct sockapi *api, const char *extra)
{
	cr_assert(api->topo(conf_topo_pair) == 0, "%s: topology", api->name);
	if (extra)
		cr_assert(api->topo(extra) == 0, "%s: topology", api->name);
}

/*
 * The MSG_CONFIRM scenario: B listens (so no ICMP goes back), A resolves B
 * and lets the entry age past its probes to STALE (reachable time 250-750
 * ms, first probe 1 s after DELAY), then sends every 200 ms for 2.4 s.
 * Return: the unicast ARP requests (probes) A sent in that window.
 */
static int confirm_probes(const struct sockapi *api, int flags)
{
	struct sockaddr_in b;
	struct frame *fr;
	bool unicast;
	int rb, s, cap, n, probes = 0, got;

	pair(api, "A: sysctl net.ipv4.neigh.veth0.base_reachable_time_ms=500\n"
		  "A: sysctl net.ipv4.neigh.veth0.delay_first_probe_time=1\n");
	cr_assert(api->enter("B") == 0);
	rb = bound_udp(api, "198.18.0.2", 1234, &b);
	cr_assert(api->enter("A") == 0);
	s = conf_udp(api);
	CONF_RET(api->sendto(s, "r", 1, 0, (struct sockaddr *)&b, sizeof(b)), 1);
	api->sleep_ms(3000);
	cap = api->capture_start("B", "veth1");
	cr_assert(cap >= 0, "%s: capture", api->name);
	for (int i = 0; i < 12; i++) {
		CONF_RET(api->sendto(s, "c", 1, flags, (struct sockaddr *)&b, sizeof(b)), 1);
		api->sleep_ms(200);
	}
	api->sleep_ms(300);
	n = api->capture_take(cap, &fr);
	cr_assert(n >= 12, "%s: %d frames captured", api->name, n);
	for (int i = 0; i < n; i++)
		if (is_arp_request_from(&fr[i], "198.18.0.1", &unicast) && unicast)
			probes++;
	capture_free(fr, n);
	got = conf_drain(api, rb);
	cr_assert_eq(got, 13, "%s: B received %d datagrams", api->name, got);
	api->close(s);
	cr_assert(api->enter("B") == 0);
	api->close(rb);
	api->enter("");
	return probes;
}

/*
 * R-FLAG-CONFIRM: without MSG_CONFIRM, sending on a STALE entry moves it to
 * DELAY and then PROBE: A sends a unicast ARP request to B.
 */
CONFORMANCE(twohost, stale_neighbour_is_probed, .timeout = 60)
{
	int probes = confirm_probes(api, 0);

	cr_assert(probes >= 1, "%s: no unicast ARP probe without MSG_CONFIRM", api->name);
}

/*
 * R-FLAG-CONFIRM: with MSG_CONFIRM every send confirms the neighbour, so
 * DELAY goes back to REACHABLE and no probe is ever sent.
 */
CONFORMANCE(twohost, msg_confirm_suppresses_probe, .timeout = 60)
{
	int probes = confirm_probes(api, MSG_CONFIRM);

	cr_assert_eq(probes, 0, "%s: %d unicast ARP probes despite MSG_CONFIRM", api->name,
		     probes);
}

/*
 * R-FLAG-DONTROUTE: A's default route goes via B (198.18.0.2).  Without the
 * flag a datagram to the off-link 198.19.0.5 leaves for the gateway: on the
 * wire its destination MAC is B's (the same as a datagram addressed to B)
 * while its IP destination stays 198.19.0.5.  With MSG_DONTROUTE (or
 * SO_DONTROUTE) it is ENETUNREACH and nothing leaves; to the on-link B it
 * works.
 */
CONFORMANCE(twohost, dontroute_never_via_gateway, .timeout = 30)
{
	struct sockaddr_in b, far = sin4("198.19.0.5", 1234);
	struct frame *fr;
	const uint8_t *mac_b = NULL, *mac_far = NULL;
	int rb, s, d, cap, n, far_frames = 0, one = 1;

	pair(api, "A: route add default via 198.18.0.2\n");
	cr_assert(api->enter("B") == 0);
	rb = bound_udp(api, "198.18.0.2", 1234, &b);
	cap = api->capture_start("B", "veth1");
	cr_assert(cap >= 0);
	cr_assert(api->enter("A") == 0);
	s = conf_udp(api);
	d = conf_udp(api);
	cr_assert(api->setsockopt(d, SOL_SOCKET, SO_DONTROUTE, &one, sizeof(one)) == 0);

	CONF_RET(api->sendto(s, "direct", 6, 0, (struct sockaddr *)&b, sizeof(b)), 6);
	CONF_RET(api->sendto(s, "viagw", 5, 0, (struct sockaddr *)&far, sizeof(far)), 5);
	CONF_ERR(api->sendto(s, "no", 2, MSG_DONTROUTE, (struct sockaddr *)&far, sizeof(far)),
		 ENETUNREACH);
	CONF_ERR(api->sendto(d, "no", 2, 0, (struct sockaddr *)&far, sizeof(far)), ENETUNREACH);
	CONF_RET(api->sendto(s, "dr", 2, MSG_DONTROUTE, (struct sockaddr *)&b, sizeof(b)), 2);
	CONF_RET(api->sendto(d, "so", 2, 0, (struct sockaddr *)&b, sizeof(b)), 2);
	api->sleep_ms(50);

	n = api->capture_take(cap, &fr);
	for (int i = 0; i < n; i++) {
		if (is_ip4_flow(&fr[i], "198.18.0.1", "198.18.0.2", IPPROTO_UDP) && !mac_b)
			mac_b = fr[i].data;
		if (is_ip4_flow(&fr[i], "198.18.0.1", "198.19.0.5", IPPROTO_UDP)) {
			mac_far = fr[i].data;
			far_frames++;
		}
	}
	cr_assert(mac_b && mac_far, "%s: frames missing (%d captured)", api->name, n);
	cr_assert_eq(far_frames, 1, "%s: %d frames to 198.19.0.5", api->name, far_frames);
	cr_assert(memcmp(mac_b, mac_far, 6) == 0, "%s: off-link frame not sent to the gateway",
		  api->name);
	capture_free(fr, n);
	api->close(d);
	api->close(s);
	cr_assert(api->enter("B") == 0);
	conf_expect_dgram(api, rb, "direct", 6);
	conf_expect_dgram(api, rb, "dr", 2);
	conf_expect_dgram(api, rb, "so", 2);
	conf_expect_none(api, rb);
	api->close(rb);
	api->enter("");
}

/*
 * R-SEND-11 R-ERR-EMSGSIZE: the largest UDP/IPv4 datagram, 65507 bytes,
 * crosses an MTU-1500 link as 45 fragments (1480 payload bytes each, the
 * last 395, MF on all but the last, offsets in order) and arrives whole
 * and byte-exact.
 */
CONFORMANCE(twohost, max_datagram_fragments, .timeout = 30)
{
	static uint8_t buf[65507];
	struct sockaddr_in b;
	struct frame *fr;
	int rb, s, cap, n, frags = 0, rcv = 1 << 20;
	unsigned expect_off = 0;

	pair(api, NULL);
	cr_assert(api->enter("B") == 0);
	rb = bound_udp(api, "198.18.0.2", 1234, &b);
	api->setsockopt(rb, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	cap = api->capture_start("B", "veth1");
	cr_assert(cap >= 0);
	cr_assert(api->enter("A") == 0);
	s = conf_udp(api);
	conf_fill(buf, sizeof(buf), 42);
	CONF_RET(api->sendto(s, buf, sizeof(buf), 0, (struct sockaddr *)&b, sizeof(b)),
		 sizeof(buf));
	api->sleep_ms(50);
	n = api->capture_take(cap, &fr);
	for (int i = 0; i < n; i++) {
		const uint8_t *ip = fr[i].data + ETH_HLEN_;
		unsigned fo, tot;
		bool mf;

		if (!is_ip4_flow(&fr[i], "198.18.0.1", "198.18.0.2", IPPROTO_UDP))
			continue;
		fo = get16(ip + 6);
		tot = get16(ip + 2);
		mf = fo & 0x2000;
		cr_assert(fr[i].len <= ETH_HLEN_ + 1500, "%s: frame of %zu bytes", api->name,
			  fr[i].len);
		cr_assert_eq((fo & 0x1fff) * 8, expect_off, "%s: fragment %d at offset %u",
			     api->name, frags, (fo & 0x1fff) * 8);
		expect_off += tot - 20;
		frags++;
		cr_assert(mf == (expect_off < 65515), "%s: MF bit of fragment %d", api->name,
			  frags);
	}
	capture_free(fr, n);
	cr_assert_eq(frags, 45, "%s: %d fragments", api->name, frags);
	cr_assert_eq(expect_off, 65515);
	api->close(s);
	cr_assert(api->enter("B") == 0);
	conf_expect_dgram(api, rb, buf, sizeof(buf));
	api->close(rb);
	api->enter("");
}

/*
 * R-ERR-EACCES-BCAST: the subnet broadcast 198.18.0.255 without
 * SO_BROADCAST is EACCES; with it the datagram leaves as an Ethernet
 * broadcast and reaches B's wildcard-bound socket.  The limited broadcast
 * 255.255.255.255 needs a route first (ENETUNREACH without one, whatever
 * SO_BROADCAST says); with A's default route it behaves as the subnet one.
 */
CONFORMANCE(twohost, broadcast_needs_so_broadcast, .timeout = 30)
{
	struct sockaddr_in any, bc = sin4("198.18.0.255", 1234), lb = sin4("255.255.255.255", 1234);
	struct frame *fr;
	int rb, s, cap, n, bframes = 0, one = 1;

	pair(api, NULL);
	cr_assert(api->enter("B") == 0);
	rb = bound_udp(api, "0.0.0.0", 1234, &any);
	cap = api->capture_start("B", "veth1");
	cr_assert(cap >= 0);
	cr_assert(api->enter("A") == 0);
	s = conf_udp(api);
	CONF_ERR(api->sendto(s, "b", 1, 0, (struct sockaddr *)&bc, sizeof(bc)), EACCES);
	CONF_ERR(api->sendto(s, "b", 1, 0, (struct sockaddr *)&lb, sizeof(lb)), ENETUNREACH);
	cr_assert(api->topo("A: route add default via 198.18.0.2") == 0);
	CONF_ERR(api->sendto(s, "b", 1, 0, (struct sockaddr *)&lb, sizeof(lb)), EACCES);
	cr_assert(api->setsockopt(s, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) == 0);
	CONF_RET(api->sendto(s, "sub", 3, 0, (struct sockaddr *)&bc, sizeof(bc)), 3);
	CONF_RET(api->sendto(s, "all", 3, 0, (struct sockaddr *)&lb, sizeof(lb)), 3);
	api->sleep_ms(50);
	n = api->capture_take(cap, &fr);
	for (int i = 0; i < n; i++)
		if (is_ip4(&fr[i]) && memcmp(fr[i].data, bcast_mac, 6) == 0)
			bframes++;
	capture_free(fr, n);
	cr_assert_eq(bframes, 2, "%s: %d broadcast frames", api->name, bframes);
	api->close(s);
	cr_assert(api->enter("B") == 0);
	conf_expect_dgram(api, rb, "sub", 3);
	conf_expect_dgram(api, rb, "all", 3);
	conf_expect_none(api, rb);
	api->close(rb);
	api->enter("");
}

/*
 * ICMP port unreachable, R-SEND-9: B has no socket on port 9.  On A's
 * connected socket the send succeeds; B's ICMP error is already there when
 * the call has returned (the kernel handles it in the sender's softirq; the
 * test allows 50 ms): the next send fails ECONNREFUSED (and sends nothing),
 * the one after that works again; a recv reports it the same way, once;
 * SO_ERROR reads and clears it.  An unconnected socket never hears of it.
 */
CONFORMANCE(twohost, icmp_port_unreachable_econnrefused, .timeout = 30)
{
	struct sockaddr_in closed = sin4("198.18.0.2", 9);
	struct pollfd p;
	struct frame *fr;
	char buf[8];
	socklen_t l = sizeof(int);
	int s, u, cap, n, to_b = 0, err = -1;

	pair(api, NULL);
	cap = api->capture_start("B", "veth1");
	cr_assert(cap >= 0);
	cr_assert(api->enter("A") == 0);
	s = conf_udp(api);
	cr_assert(api->connect(s, (struct sockaddr *)&closed, sizeof(closed)) == 0);
	CONF_RET(api->send(s, "1", 1, 0), 1);
	api->sleep_ms(50);
	p.fd = s;
	p.events = POLLOUT;
	p.revents = 0;
	CONF_RET(api->poll(&p, 1, 0), 1);
	cr_assert(p.revents & POLLERR, "%s: no POLLERR (revents %#x)", api->name, p.revents);
	CONF_ERR(api->send(s, "2", 1, 0), ECONNREFUSED);
	CONF_RET(api->send(s, "3", 1, 0), 1);
	api->sleep_ms(50);
	CONF_ERR(api->recv(s, buf, sizeof(buf), MSG_DONTWAIT), ECONNREFUSED);
	CONF_ERR(api->recv(s, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	CONF_RET(api->send(s, "4", 1, 0), 1);
	api->sleep_ms(50);
	CONF_RET(api->getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &l), 0);
	cr_assert_eq(err, ECONNREFUSED);
	CONF_RET(api->getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &l), 0);
	cr_assert_eq(err, 0);

	u = conf_udp(api);
	for (int i = 0; i < 2; i++) {
		CONF_RET(api->sendto(u, "u", 1, 0, (struct sockaddr *)&closed, sizeof(closed)), 1);
		api->sleep_ms(50);
	}
	n = api->capture_take(cap, &fr);
	for (int i = 0; i < n; i++)
		if (is_ip4_flow(&fr[i], "198.18.0.1", "198.18.0.2", IPPROTO_UDP))
			to_b++;
	capture_free(fr, n);
	cr_assert_eq(to_b, 5, "%s: %d datagrams on the wire, want 5 (the refused one sends none)",
		     api->name, to_b);
	api->close(u);
	api->close(s);
	api->enter("");
}

/*
 * R-SEND-10 R-ERR-ENOBUFS (UDP_CORK across an MTU-1500 link): a corked
 * datagram larger than the MTU is built as one skb per fragment; past the
 * first, the kernel allocates them without waiting and refuses (ENOBUFS,
 * not EAGAIN, even blocking) once the socket holds twice SO_SNDBUF: with
 * SO_SNDBUF 4608, five 1000-byte appends fit, the sixth fails, and the
 * whole pending datagram is dropped (POLLOUT is back, nothing reaches B).
 */
CONFORMANCE(twohost, corked_appends_enobufs, .timeout = 30)
{
	static char buf[1000];
	struct sockaddr_in b;
	struct pollfd p;
	int rb, s, one = 1, off = 0, ok = 0;

	pair(api, NULL);
	cr_assert(api->enter("B") == 0);
	rb = bound_udp(api, "198.18.0.2", 1234, &b);
	cr_assert(api->enter("A") == 0);
	s = conf_udp(api);
	cr_assert(api->setsockopt(s, SOL_SOCKET, SO_SNDBUF, &one, sizeof(one)) == 0);
	cr_assert(api->setsockopt(s, IPPROTO_UDP, UDP_CORK, &one, sizeof(one)) == 0);
	for (;;) {
		ssize_t r = api->sendto(s, buf, sizeof(buf), 0, (struct sockaddr *)&b, sizeof(b));

		if (r < 0) {
			cr_assert_eq(errno, ENOBUFS, "%s: append %d: %s", api->name, ok,
				     strerror(errno));
			break;
		}
		cr_assert(++ok < 60);
	}
	cr_assert_eq(ok, 5, "%s: %d appends before ENOBUFS", api->name, ok);
	p.fd = s;
	p.events = POLLOUT;
	p.revents = 0;
	cr_assert(api->poll(&p, 1, 0) == 1 && (p.revents & POLLOUT));
	CONF_RET(api->setsockopt(s, IPPROTO_UDP, UDP_CORK, &off, sizeof(off)), 0);
	CONF_RET(api->sendto(s, "after", 5, 0, (struct sockaddr *)&b, sizeof(b)), 5);
	api->sleep_ms(50);
	api->close(s);
	cr_assert(api->enter("B") == 0);
	conf_expect_dgram(api, rb, "after", 5);
	conf_expect_none(api, rb);
	api->close(rb);
	api->enter("");
}
