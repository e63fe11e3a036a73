/* SPDX-License-Identifier: MIT */
/*
 * test_wire.c - the wire parsers and builders: known vectors (one checked by
 * tshark), every truncation and invalid field rejected, Linux's TCP option
 * quirks, and build-then-parse round trips
 *
 * Parsers are fed copies in buffers of exactly the length they are told, so
 * an over-read shows up under AddressSanitizer.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/arp.h"
#include "wire/csum.h"
#include "wire/eth.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/ipv6.h"
#include "wire/tcp.h"
#include "wire/udp.h"

/* RFC 1071 byte-at-a-time, host order, not complemented: the independent check. */
static uint32_t wref_sum(const uint8_t *p, size_t n)
{
	uint64_t s = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

/* A message (with its pseudo-header bytes in front, if any) verifies: its sum is 0xffff. */
static bool wref_ok(const uint8_t *ph, size_t phlen, const uint8_t *p, size_t n)
{
	uint8_t *b = malloc(phlen + n + 1);
	bool ok;

	if (phlen)
		memcpy(b, ph, phlen);
	memcpy(b + phlen, p, n);
	ok = wref_sum(b, phlen + n) == 0xffff;
	free(b);
	return ok;
}

/* A heap copy of exactly n bytes, so that reading past it is caught by ASan. */
static uint8_t *wexact(const void *src, size_t n)
{
	uint8_t *p = malloc(n ? n : 1);

	cr_assert_not_null(p);
	memcpy(p, src, n);
	return p;
}

static uint32_t wip(const char *s)
{
	struct in_addr a;

	cr_assert_eq(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

static void wrand(void *p, size_t n)
{
	uint8_t *b = p;

	while (n--)
		*b++ = (uint8_t)rand();
}

/*
 * The frame tshark dissected with checksum validation on (IP 0x3248 and UDP
 * 0x4f36 "correct", 6 bytes of padding): Ethernet, IPv4 192.0.2.1 ->
 * 198.51.100.2 DF TTL 64 id 0x1c46, UDP 12345 -> 53, "hello usock!".
 */
static const uint8_t frame60[60] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
	0x45, 0x00, 0x00, 0x28, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x11, 0x32, 0x48,
	0xc0, 0x00, 0x02, 0x01, 0xc6, 0x33, 0x64, 0x02,
	0x30, 0x39, 0x00, 0x35, 0x00, 0x14, 0x4f, 0x36,
	'h', 'e', 'l', 'l', 'o', ' ', 'u', 's', 'o', 'c', 'k', '!',
	0, 0, 0, 0, 0, 0,
};

/* ---------------------------------------------------------------- Ethernet */

Test(wire_eth, known_frame)
{
	struct eth_repr r;
	static const uint8_t dst[6] = { 2, 0, 0, 0, 0, 2 }, src[6] = { 2, 0, 0, 0, 0, 1 };

	cr_assert_eq(eth_parse(frame60, sizeof(frame60), &r), ETH_HLEN);
	cr_assert_eq(memcmp(r.dst, dst, 6), 0);
	cr_assert_eq(memcmp(r.src, src, 6), 0);
	cr_assert_eq(r.proto, ETH_P_IP);
}

Test(wire_eth, truncations)
{
	struct eth_repr r;
	size_t n;

	for (n = 0; n < ETH_HLEN; n++) {
		uint8_t *p = wexact(frame60, n);

		cr_assert_eq(eth_parse(p, n, &r), -EINVAL, "len %zu", n);
		free(p);
	}
}

Test(wire_eth, round_trip_and_helpers)
{
	struct eth_repr a, b;
	uint8_t buf[ETH_HLEN];
	int i;

	srand(1);
	for (i = 0; i < 1000; i++) {
		wrand(&a, sizeof(a));
		cr_assert_eq(eth_build(buf, &a), ETH_HLEN);
		cr_assert_eq(eth_parse(buf, sizeof(buf), &b), ETH_HLEN);
		cr_assert_eq(memcmp(&a, &b, sizeof(a)), 0);
	}
	cr_assert(eth_is_broadcast((const uint8_t[6]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }));
	cr_assert_not(eth_is_broadcast((const uint8_t[6]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe }));
	cr_assert(eth_is_multicast((const uint8_t[6]){ 0x01, 0x00, 0x5e, 0, 0, 1 }));
	cr_assert_not(eth_is_multicast((const uint8_t[6]){ 0x02, 0, 0, 0, 0, 1 }));
}

/* --------------------------------------------------------------------- ARP */

/* who-has 192.0.2.2 tell 192.0.2.1, from 02:00:00:00:00:01 */
static const uint8_t arp_req[ARP_HLEN] = {
	0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0xc0, 0x00, 0x02, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x02, 0x02,
};

Test(wire_arp, known_request)
{
	struct arp_repr r;
	uint8_t buf[ARP_HLEN];

	cr_assert_eq(arp_parse(arp_req, sizeof(arp_req), &r), ARP_HLEN);
	cr_assert_eq(r.op, ARP_OP_REQUEST);
	cr_assert_eq(r.spa, wip("192.0.2.1"));
	cr_assert_eq(r.tpa, wip("192.0.2.2"));
	cr_assert_eq(r.sha[5], 1);
	cr_assert_eq(arp_build(buf, &r), ARP_HLEN);
	cr_assert_eq(memcmp(buf, arp_req, ARP_HLEN), 0);
}

Test(wire_arp, truncations_and_bad_fields)
{
	struct arp_repr r;
	uint8_t b[ARP_HLEN + 18];
	size_t n;

	for (n = 0; n < ARP_HLEN; n++) {
		uint8_t *p = wexact(arp_req, n);

		cr_assert_eq(arp_parse(p, n, &r), -EINVAL, "len %zu", n);
		free(p);
	}
	/* Ethernet padding after the 28 bytes is fine. */
	memset(b, 0, sizeof(b));
	memcpy(b, arp_req, ARP_HLEN);
	cr_assert_eq(arp_parse(b, sizeof(b), &r), ARP_HLEN);

	memcpy(b, arp_req, ARP_HLEN);
	b[1] = 6;	/* IEEE 802: taken, as arp_process does */
	cr_assert_eq(arp_parse(b, ARP_HLEN, &r), ARP_HLEN);
	b[1] = 2;
	cr_assert_eq(arp_parse(b, ARP_HLEN, &r), -EINVAL);
	b[0] = 1; b[1] = 1;
	cr_assert_eq(arp_parse(b, ARP_HLEN, &r), -EINVAL);
	memcpy(b, arp_req, ARP_HLEN);
	b[2] = 0x86; b[3] = 0xdd;
	cr_assert_eq(arp_parse(b, ARP_HLEN, &r), -EINVAL);
	memcpy(b, arp_req, ARP_HLEN);
	b[4] = 5;
	cr_assert_eq(arp_parse(b, ARP_HLEN, &r), -EINVAL);
	memcpy(b, arp_req, ARP_HLEN);
	b[5] = 16;
	cr_assert_eq(arp_parse(b, ARP_HLEN, &r), -EINVAL);
}

Test(wire_arp, round_trip)
{
	struct arp_repr a, b;
	uint8_t buf[ARP_HLEN];
	int i;

	srand(2);
	for (i = 0; i < 1000; i++) {
		memset(&a, 0, sizeof(a));
		a.op = (uint16_t)rand();
		wrand(a.sha, 6);
		wrand(a.tha, 6);
		a.spa = (uint32_t)rand();
		a.tpa = (uint32_t)rand() << 1;
		cr_assert_eq(arp_build(buf, &a), ARP_HLEN);
		memset(&b, 0, sizeof(b));
		cr_assert_eq(arp_parse(buf, sizeof(buf), &b), ARP_HLEN);
		cr_assert_eq(memcmp(&a, &b, sizeof(a)), 0);
	}
}

/* -------------------------------------------------------------------- IPv4 */

/* The IPv4 header of frame60 with its checksum recomputed after editing. */
static void ip4_fix_csum(uint8_t *h, size_t hlen)
{
	uint16_t c;

	h[10] = h[11] = 0;
	c = (uint16_t)~wref_sum(h, hlen);
	h[10] = (uint8_t)(c >> 8);
	h[11] = (uint8_t)c;
}

Test(wire_ipv4, known_packet_with_ethernet_padding)
{
	const uint8_t *ip = frame60 + ETH_HLEN;
	size_t avail = sizeof(frame60) - ETH_HLEN;	/* 46: 40 + 6 padding */
	struct ipv4_repr r;

	cr_assert_eq(ipv4_parse(ip, avail, &r), 20);
	cr_assert_eq(r.ihl, 5);
	cr_assert_eq(r.tot_len, 40);
	cr_assert_eq(r.id, 0x1c46);
	cr_assert_eq(r.frag_off, IPV4_DF);
	cr_assert(ipv4_dont_fragment(&r));
	cr_assert_not(ipv4_is_fragment(&r));
	cr_assert_eq(r.ttl, 64);
	cr_assert_eq(r.proto, IPPROTO_UDP);
	cr_assert_eq(r.saddr, wip("192.0.2.1"));
	cr_assert_eq(r.daddr, wip("198.51.100.2"));
	cr_assert_eq(r.optlen, 0);
	cr_assert_null(r.opt);
	cr_assert_eq(ntohs(r.check), 0x3248);
}

Test(wire_ipv4, truncations)
{
	const uint8_t *ip = frame60 + ETH_HLEN;
	struct ipv4_repr r;
	size_t n;

	/* Below 20 the header is short; below 40 the datagram is (tot_len > len). */
	for (n = 0; n < 40; n++) {
		uint8_t *p = wexact(ip, n);

		cr_assert_eq(ipv4_parse(p, n, &r), -EINVAL, "len %zu", n);
		cr_assert_eq(ipv4_parse_flags(p, n, &r, CSUM_SKIP), -EINVAL, "len %zu", n);
		free(p);
	}
	uint8_t *p = wexact(ip, 40);
	cr_assert_eq(ipv4_parse(p, 40, &r), 20);
	free(p);
}

Test(wire_ipv4, invalid_fields)
{
	uint8_t h[60];
	struct ipv4_repr r;

	memcpy(h, frame60 + ETH_HLEN, 40);
	h[0] = 0x65;			/* version 6 */
	ip4_fix_csum(h, 20);
	cr_assert_eq(ipv4_parse(h, 40, &r), -EINVAL);
	h[0] = 0x44;			/* IHL 4 */
	ip4_fix_csum(h, 20);
	cr_assert_eq(ipv4_parse_flags(h, 40, &r, CSUM_SKIP), -EINVAL);
	h[0] = 0x4f;			/* IHL 15: 60 bytes > 40 */
	cr_assert_eq(ipv4_parse_flags(h, 40, &r, CSUM_SKIP), -EINVAL);

	memcpy(h, frame60 + ETH_HLEN, 40);
	h[2] = 0; h[3] = 19;		/* tot_len below the header */
	ip4_fix_csum(h, 20);
	cr_assert_eq(ipv4_parse(h, 40, &r), -EINVAL);
	h[3] = 20;			/* exactly the header: fine */
	ip4_fix_csum(h, 20);
	cr_assert_eq(ipv4_parse(h, 40, &r), 20);
	h[3] = 41;			/* longer than the buffer */
	ip4_fix_csum(h, 20);
	cr_assert_eq(ipv4_parse(h, 40, &r), -EINVAL);

	memcpy(h, frame60 + ETH_HLEN, 40);
	h[11] ^= 1;			/* bad checksum, unless told to skip */
	cr_assert_eq(ipv4_parse(h, 40, &r), -EINVAL);
	cr_assert_eq(ipv4_parse_flags(h, 40, &r, CSUM_SKIP), 20);
	memcpy(h, frame60 + ETH_HLEN, 40);
	h[6] |= 0x80;			/* the reserved bit: Linux accepts it */
	ip4_fix_csum(h, 20);
	cr_assert_eq(ipv4_parse(h, 40, &r), 20);
	cr_assert_eq(r.frag_off, IPV4_CE | IPV4_DF);
}

Test(wire_ipv4, options_and_build)
{
	/* Router Alert (94 04 00 00), then NOP NOP NOP EOL. */
	static const uint8_t opts[8] = { 0x94, 0x04, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00 };
	struct ipv4_repr a = {
		.tos = 0xb8, .tot_len = 28 + 4, .id = 0xbeef, .frag_off = IPV4_MF | 100,
		.ttl = 1, .proto = IPPROTO_IGMP, .saddr = 0, .daddr = 0,
		.opt = opts, .optlen = sizeof(opts),
	};
	struct ipv4_repr b;
	uint8_t buf[32] = { 0 };
	size_t n;

	a.saddr = wip("10.1.2.3");
	a.daddr = wip("224.0.0.22");
	cr_assert_eq(ipv4_build(buf, &a), 28);
	cr_assert_eq(buf[0], 0x47);
	cr_assert(wref_ok(NULL, 0, buf, 28));
	cr_assert_eq(ipv4_parse(buf, sizeof(buf), &b), 28);
	cr_assert_eq(b.ihl, 7);
	cr_assert_eq(b.optlen, 8);
	cr_assert_eq(b.opt, buf + 20);
	cr_assert_eq(memcmp(b.opt, opts, 8), 0);
	cr_assert(ipv4_is_fragment(&b));
	cr_assert(ipv4_more_fragments(&b));
	cr_assert_eq(ipv4_frag_offset(&b), 800);
	for (n = 0; n < 32; n++) {
		uint8_t *p = wexact(buf, n);

		cr_assert_eq(ipv4_parse(p, n, &b), -EINVAL, "len %zu", n);
		free(p);
	}
	a.optlen = 3;
	cr_assert_eq(ipv4_build(buf, &a), -EINVAL);
	a.optlen = 44;
	cr_assert_eq(ipv4_build(buf, &a), -EINVAL);
	/* Last fragment: offset only. */
	b.frag_off = 185;
	cr_assert(ipv4_is_fragment(&b));
	cr_assert_not(ipv4_more_fragments(&b));
	cr_assert_eq(ipv4_frag_offset(&b), 1480);
}

Test(wire_ipv4, round_trip)
{
	uint8_t buf[IPV4_MAX_HLEN + 8], opts[IPV4_MAX_OPTLEN];
	struct ipv4_repr a, b;
	int i;

	srand(4);
	for (i = 0; i < 5000; i++) {
		memset(&a, 0, sizeof(a));
		a.optlen = (uint8_t)(4 * (rand() % 11));
		wrand(opts, sizeof(opts));
		a.opt = a.optlen ? opts : NULL;
		a.tos = (uint8_t)rand();
		a.tot_len = (uint16_t)(20 + a.optlen + rand() % 8);
		a.id = (uint16_t)rand();
		a.frag_off = (uint16_t)rand();
		a.ttl = (uint8_t)rand();
		a.proto = (uint8_t)rand();
		a.saddr = (uint32_t)rand() * 31u;
		a.daddr = (uint32_t)rand() * 17u;
		cr_assert_eq(ipv4_build(buf, &a), 20 + a.optlen);
		cr_assert_eq(ipv4_parse(buf, a.tot_len, &b), 20 + a.optlen);
		cr_assert_eq(b.tos, a.tos);
		cr_assert_eq(b.tot_len, a.tot_len);
		cr_assert_eq(b.id, a.id);
		cr_assert_eq(b.frag_off, a.frag_off);
		cr_assert_eq(b.ttl, a.ttl);
		cr_assert_eq(b.proto, a.proto);
		cr_assert_eq(b.saddr, a.saddr);
		cr_assert_eq(b.daddr, a.daddr);
		cr_assert_eq(b.optlen, a.optlen);
		cr_assert(a.optlen == 0 || memcmp(b.opt, opts, a.optlen) == 0);
		cr_assert(wref_ok(NULL, 0, buf, 20u + a.optlen));
	}
}

/* -------------------------------------------------------------------- IPv6 */

static const uint8_t ip6_hdr_vec[48] = {
	0x6a, 0xb1, 0x23, 0x45, 0x00, 0x08, 0x11, 0x40,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,
	0x30, 0x39, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00,
};

Test(wire_ipv6, known_header)
{
	struct ipv6_repr r;
	struct in6_addr s;
	uint8_t buf[40];

	cr_assert_eq(ipv6_parse(ip6_hdr_vec, sizeof(ip6_hdr_vec), &r), IPV6_HLEN);
	cr_assert_eq(r.tclass, 0xab);
	cr_assert_eq(r.flow, 0x12345);
	cr_assert_eq(r.payload_len, 8);
	cr_assert_eq(r.nexthdr, IPPROTO_UDP);
	cr_assert_eq(r.hop_limit, 64);
	inet_pton(AF_INET6, "2001:db8::1", &s);
	cr_assert_eq(memcmp(&r.saddr, &s, 16), 0);
	cr_assert_eq(ipv6_build(buf, &r), IPV6_HLEN);
	cr_assert_eq(memcmp(buf, ip6_hdr_vec, 40), 0);
}

Test(wire_ipv6, truncations_and_bad_fields)
{
	struct ipv6_repr r;
	uint8_t b[60];
	size_t n;

	for (n = 0; n < sizeof(ip6_hdr_vec); n++) {
		uint8_t *p = wexact(ip6_hdr_vec, n);

		cr_assert_eq(ipv6_parse(p, n, &r), -EINVAL, "len %zu", n);
		free(p);
	}
	memset(b, 0, sizeof(b));
	memcpy(b, ip6_hdr_vec, sizeof(ip6_hdr_vec));
	cr_assert_eq(ipv6_parse(b, sizeof(b), &r), IPV6_HLEN);	/* padded */
	b[0] = 0x4a;
	cr_assert_eq(ipv6_parse(b, sizeof(b), &r), -EINVAL);
	b[0] = 0x7a;
	cr_assert_eq(ipv6_parse(b, sizeof(b), &r), -EINVAL);
	b[0] = 0x6a;
	b[4] = 0xff;
	cr_assert_eq(ipv6_parse(b, sizeof(b), &r), -EINVAL);
	b[4] = 0; b[5] = 0;	/* payload length 0 (jumbogram marker) is a number like any */
	cr_assert_eq(ipv6_parse(b, 40, &r), IPV6_HLEN);
	cr_assert_eq(r.payload_len, 0);
}

Test(wire_ipv6, round_trip)
{
	struct ipv6_repr a, b;
	uint8_t buf[40 + 300];
	int i;

	srand(6);
	for (i = 0; i < 2000; i++) {
		memset(&a, 0, sizeof(a));
		a.tclass = (uint8_t)rand();
		a.flow = (uint32_t)rand() & 0xfffff;
		a.payload_len = (uint16_t)(rand() % 300);
		a.nexthdr = (uint8_t)rand();
		a.hop_limit = (uint8_t)rand();
		wrand(&a.saddr, 16);
		wrand(&a.daddr, 16);
		cr_assert_eq(ipv6_build(buf, &a), 40);
		memset(&b, 0, sizeof(b));
		cr_assert_eq(ipv6_parse(buf, 40u + a.payload_len, &b), 40);
		cr_assert_eq(memcmp(&a, &b, sizeof(a)), 0);
	}
}

/* -------------------------------------------------------------------- ICMP */

Test(wire_icmp4, echo_build_parse)
{
	struct icmp4_repr a = { .type = ICMP4_ECHO, .id = 0x1234, .seq = 7,
				.data = (const uint8_t *)"abcdefgh!", .data_len = 9 };
	struct icmp4_repr b;
	uint8_t buf[64];
	size_t n;

	cr_assert_eq(icmp4_hdr_build(buf, &a), 17);
	cr_assert_eq(buf[0], 8);
	cr_assert_eq(buf[1], 0);
	cr_assert_eq(buf[4], 0x12);
	cr_assert_eq(buf[5], 0x34);
	cr_assert_eq(buf[6], 0);
	cr_assert_eq(buf[7], 7);
	cr_assert(wref_ok(NULL, 0, buf, 17));
	cr_assert_eq(icmp4_hdr_parse(buf, 17, &b), ICMP_HLEN);
	cr_assert_eq(b.type, ICMP4_ECHO);
	cr_assert_eq(b.id, 0x1234);
	cr_assert_eq(b.seq, 7);
	cr_assert_eq(b.data_len, 9);
	cr_assert_eq(memcmp(b.data, "abcdefgh!", 9), 0);

	for (n = 0; n < ICMP_HLEN; n++) {
		uint8_t *p = wexact(buf, n);

		cr_assert_eq(icmp4_hdr_parse(p, n, &b), -EINVAL, "len %zu", n);
		cr_assert_eq(icmp4_hdr_parse_flags(p, n, &b, CSUM_SKIP), -EINVAL, "len %zu", n);
		free(p);
	}
	/* The checksum covers the whole message. */
	buf[16] ^= 0x40;
	cr_assert_eq(icmp4_hdr_parse(buf, 17, &b), -EINVAL);
	cr_assert_eq(icmp4_hdr_parse_flags(buf, 17, &b, CSUM_SKIP), ICMP_HLEN);
	buf[16] ^= 0x40;
	cr_assert_eq(icmp4_hdr_parse(buf, 16, &b), -EINVAL);

	/* Reply built in place over the request, data already at p + 8. */
	b.type = ICMP4_ECHOREPLY;
	b.data = buf + 8;
	cr_assert_eq(icmp4_hdr_build(buf, &b), 17);
	cr_assert(wref_ok(NULL, 0, buf, 17));
	cr_assert_eq(memcmp(buf + 8, "abcdefgh!", 9), 0);
	cr_assert_eq(buf[0], 0);
}

Test(wire_icmp4, errors_quote_and_rest)
{
	const uint8_t *orig = frame60 + ETH_HLEN;
	struct icmp4_repr a = { .type = ICMP4_DEST_UNREACH, .code = ICMP4_FRAG_NEEDED,
				.mtu = 1400, .data = orig, .data_len = 28 };
	struct icmp4_repr b;
	struct ipv4_repr q;
	uint8_t buf[64], hdr[8];

	cr_assert_eq(icmp4_hdr_build(buf, &a), 36);
	cr_assert_eq(memcmp(buf + 4, "\x00\x00\x05\x78", 4), 0);
	cr_assert(wref_ok(NULL, 0, buf, 36));
	cr_assert_eq(icmp4_hdr_parse(buf, 36, &b), ICMP_HLEN);
	cr_assert_eq(b.mtu, 1400);
	cr_assert_eq(b.data_len, 28);
	/* The quote is the original IP header and 8 bytes: it parses with CSUM_SKIP... */
	cr_assert_eq(memcmp(b.data, orig, 28), 0);
	cr_assert_eq(ipv4_parse(b.data, b.data_len, &q), -EINVAL);	/* ...not as a whole datagram */

	/* Same message from a header-only build and the body's sum. */
	cr_assert_eq(icmp4_hdr_build_hdr(hdr, &a, csum_partial(orig, 28, 0)), ICMP_HLEN);
	cr_assert_eq(memcmp(hdr, buf, 8), 0);

	/* Port unreachable: MTU ignored, rest zero. */
	a.code = ICMP4_PORT_UNREACH;
	icmp4_hdr_build(buf, &a);
	cr_assert_eq(memcmp(buf + 4, "\0\0\0\0", 4), 0);
	a.type = ICMP4_TIME_EXCEEDED;
	a.code = ICMP4_EXC_TTL;
	icmp4_hdr_build(buf, &a);
	cr_assert_eq(memcmp(buf + 4, "\0\0\0\0", 4), 0);
	a.type = ICMP4_PARAMETERPROB;
	a.code = 0;
	a.pointer = 20;
	icmp4_hdr_build(buf, &a);
	cr_assert_eq(memcmp(buf + 4, "\x14\0\0\0", 4), 0);
	cr_assert_eq(icmp4_hdr_parse(buf, 36, &b), ICMP_HLEN);
	cr_assert_eq(b.pointer, 20);
	a.type = ICMP4_REDIRECT;
	a.gateway = wip("192.0.2.254");
	icmp4_hdr_build(buf, &a);
	cr_assert_eq(memcmp(buf + 4, "\xc0\x00\x02\xfe", 4), 0);
	cr_assert_eq(icmp4_hdr_parse(buf, 36, &b), ICMP_HLEN);
	cr_assert_eq(b.gateway, wip("192.0.2.254"));
	a.type = 42;
	a.rest = 0xdeadbeef;
	icmp4_hdr_build(buf, &a);
	cr_assert_eq(memcmp(buf + 4, "\xde\xad\xbe\xef", 4), 0);
	cr_assert(wref_ok(NULL, 0, buf, 36));
}

/* IPv6 pseudo-header bytes, for the reference check. */
static void w_ph6(uint8_t ph[40], const struct in6_addr *s, const struct in6_addr *d, uint8_t nh,
		  uint32_t len)
{
	memcpy(ph, s, 16);
	memcpy(ph + 16, d, 16);
	ph[32] = (uint8_t)(len >> 24);
	ph[33] = (uint8_t)(len >> 16);
	ph[34] = (uint8_t)(len >> 8);
	ph[35] = (uint8_t)len;
	ph[36] = ph[37] = ph[38] = 0;
	ph[39] = nh;
}

Test(wire_icmp6, echo_and_ptb)
{
	struct in6_addr s, d;
	struct icmp6_repr a = { .type = ICMP6_ECHO_REQUEST, .id = 0xabcd, .seq = 0x0102,
				.data = (const uint8_t *)"ping6", .data_len = 5 };
	struct icmp6_repr b;
	uint8_t buf[64], ph[40];
	uint32_t ps;
	size_t n;

	inet_pton(AF_INET6, "2001:db8::1", &s);
	inet_pton(AF_INET6, "2001:db8::2", &d);
	ps = csum_pseudo6(&s, &d, IPPROTO_ICMPV6, 13);
	cr_assert_eq(icmp6_hdr_build(buf, &a, ps), 13);
	w_ph6(ph, &s, &d, IPPROTO_ICMPV6, 13);
	cr_assert(wref_ok(ph, 40, buf, 13));
	cr_assert_eq(icmp6_hdr_parse(buf, 13, &b), ICMP_HLEN);
	cr_assert_eq(icmp6_hdr_csum_check(ps, csum_partial(buf, 13, 0)), 0);
	cr_assert_eq(b.type, 128);
	cr_assert_eq(b.id, 0xabcd);
	cr_assert_eq(b.seq, 0x0102);
	cr_assert_eq(b.data_len, 5);
	buf[12] ^= 1;
	cr_assert_eq(icmp6_hdr_csum_check(ps, csum_partial(buf, 13, 0)), -EINVAL);
	/* The pseudo-header counts: the right bytes between other addresses fail. */
	buf[12] ^= 1;
	cr_assert_eq(icmp6_hdr_csum_check(csum_pseudo6(&d, &d, IPPROTO_ICMPV6, 13),
					  csum_partial(buf, 13, 0)), -EINVAL);
	for (n = 0; n < ICMP_HLEN; n++) {
		uint8_t *p = wexact(buf, n);

		cr_assert_eq(icmp6_hdr_parse(p, n, &b), -EINVAL, "len %zu", n);
		free(p);
	}

	a.type = ICMP6_PKT_TOOBIG;
	a.mtu = 1280;
	a.data = ip6_hdr_vec;
	a.data_len = 48;
	ps = csum_pseudo6(&s, &d, IPPROTO_ICMPV6, 56);
	cr_assert_eq(icmp6_hdr_build(buf, &a, ps), 56);
	cr_assert_eq(memcmp(buf + 4, "\x00\x00\x05\x00", 4), 0);
	w_ph6(ph, &s, &d, IPPROTO_ICMPV6, 56);
	cr_assert(wref_ok(ph, 40, buf, 56));
	cr_assert_eq(icmp6_hdr_parse(buf, 56, &b), ICMP_HLEN);
	cr_assert_eq(b.mtu, 1280);
	uint8_t hdr[8];
	cr_assert_eq(icmp6_hdr_build_hdr(hdr, &a, csum_partial(ip6_hdr_vec, 48, ps)), ICMP_HLEN);
	cr_assert_eq(memcmp(hdr, buf, 8), 0);
	a.type = ICMP6_PARAMPROB;
	a.pointer = 0x01020304;
	icmp6_hdr_build(buf, &a, ps);
	cr_assert_eq(memcmp(buf + 4, "\x01\x02\x03\x04", 4), 0);
	a.type = ICMP6_DEST_UNREACH;
	icmp6_hdr_build(buf, &a, ps);
	cr_assert_eq(memcmp(buf + 4, "\0\0\0\0", 4), 0);
	a.type = 135;	/* neighbour solicitation: reserved bytes from rest */
	a.rest = 0;
	icmp6_hdr_build(buf, &a, ps);
	cr_assert_eq(memcmp(buf + 4, "\0\0\0\0", 4), 0);
	cr_assert(wref_ok(ph, 40, buf, 56));
}

/* --------------------------------------------------------------------- UDP */

Test(wire_udp, known_datagram)
{
	const uint8_t *ip = frame60 + ETH_HLEN, *u = ip + 20;
	struct udp_repr r;
	uint8_t buf[20];
	uint32_t ps;

	cr_assert_eq(udp_hdr_parse(u, 20, &r), UDP_HLEN);
	cr_assert_eq(r.sport, htons(12345));
	cr_assert_eq(r.dport, htons(53));
	cr_assert_eq(r.len, 20);
	ps = csum_pseudo4(wip("192.0.2.1"), wip("198.51.100.2"), IPPROTO_UDP, r.len);
	cr_assert_eq(udp_hdr_csum_check(&r, ps, csum_partial(u, r.len, 0), AF_INET), 0);
	/* The IP payload here includes the Ethernet padding: the UDP length says where to trim. */
	cr_assert_eq(udp_hdr_parse(u, 26, &r), UDP_HLEN);
	cr_assert_eq(r.len, 20);
	/* Rebuild: the same bytes, checksum 0x4f36. */
	memcpy(buf + 8, u + 8, 12);
	cr_assert_eq(udp_hdr_build(buf, &r, ps, csum_partial(buf + 8, 12, 0)), UDP_HLEN);
	cr_assert_eq(memcmp(buf, u, 20), 0);
	/* A wrong byte fails the check; another address too. */
	buf[19] ^= 1;
	cr_assert_eq(udp_hdr_csum_check(&r, ps, csum_partial(buf, 20, 0), AF_INET), -EINVAL);
	buf[19] ^= 1;
	cr_assert_eq(udp_hdr_csum_check(&r, csum_pseudo4(wip("192.0.2.9"), wip("198.51.100.2"),
							 IPPROTO_UDP, 20),
					csum_partial(buf, 20, 0), AF_INET), -EINVAL);
}

Test(wire_udp, truncations_and_lengths)
{
	const uint8_t *u = frame60 + ETH_HLEN + 20;
	struct udp_repr r;
	uint8_t b[20];
	size_t n;

	/* Below 8 the header is short; below 20 the length field runs past the buffer. */
	for (n = 0; n < 20; n++) {
		uint8_t *p = wexact(u, n);

		cr_assert_eq(udp_hdr_parse(p, n, &r), -EINVAL, "len %zu", n);
		cr_assert_eq(udp_hdr_parse6(p, n, &r), -EINVAL, "len %zu", n);
		free(p);
	}
	memcpy(b, u, 20);
	b[4] = 0; b[5] = 7;
	cr_assert_eq(udp_hdr_parse(b, 20, &r), -EINVAL);
	b[5] = 0;
	cr_assert_eq(udp_hdr_parse(b, 20, &r), -EINVAL);
	/* Over IPv6 a zero length means "the rest of the payload" (__udp6_lib_rcv). */
	cr_assert_eq(udp_hdr_parse6(b, 20, &r), UDP_HLEN);
	cr_assert_eq(r.len, 20);
	b[5] = 8;
	cr_assert_eq(udp_hdr_parse(b, 20, &r), UDP_HLEN);
	cr_assert_eq(r.len, 8);
	cr_assert_eq(udp_hdr_parse6(b, 20, &r), UDP_HLEN);
	cr_assert_eq(r.len, 8);
}

Test(wire_udp, v6_checksum_and_round_trip)
{
	struct in6_addr s, d;
	struct udp_repr a, b;
	uint8_t buf[8 + 100], ph[40];
	int i;

	inet_pton(AF_INET6, "2001:db8::1", &s);
	inet_pton(AF_INET6, "2001:db8::2", &d);
	srand(8);
	for (i = 0; i < 2000; i++) {
		size_t plen = (size_t)(rand() % 100);
		uint32_t ps;

		a.sport = (uint16_t)rand();
		a.dport = (uint16_t)rand();
		a.len = (uint16_t)(8 + plen);
		a.check = 0;
		wrand(buf + 8, plen);
		ps = csum_pseudo6(&s, &d, IPPROTO_UDP, a.len);
		cr_assert_eq(udp_hdr_build(buf, &a, ps, csum_partial(buf + 8, plen, 0)), 8);
		w_ph6(ph, &s, &d, IPPROTO_UDP, a.len);
		cr_assert(wref_ok(ph, 40, buf, a.len));
		cr_assert_eq(udp_hdr_parse6(buf, a.len, &b), 8);
		cr_assert_eq(b.sport, a.sport);
		cr_assert_eq(b.dport, a.dport);
		cr_assert_eq(b.len, a.len);
		cr_assert_neq(b.check, 0);
		cr_assert_eq(udp_hdr_csum_check(&b, ps, csum_partial(buf, a.len, 0), AF_INET6), 0);
	}
}

/* --------------------------------------------------------------------- TCP */

/* A TCP header with the given option bytes (padded to 4 with zeros = EOL). */
static size_t w_tcp_with_opts(uint8_t *buf, const uint8_t *opt, size_t optlen, uint8_t flags)
{
	size_t hlen = 20 + ((optlen + 3) & ~(size_t)3);

	memset(buf, 0, hlen);
	buf[0] = 0x04; buf[1] = 0xd2;	/* 1234 */
	buf[2] = 0x00; buf[3] = 0x50;	/* 80 */
	buf[12] = (uint8_t)(hlen / 4) << 4;
	buf[13] = flags;
	memcpy(buf + 20, opt, optlen);
	return hlen;
}

Test(wire_tcp, linux_syn_layout)
{
	/* What Linux sends on a SYN: MSS, SACK-permitted folded with TS, NOP WS. */
	static const uint8_t want[20] = {
		0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x01, 0x02, 0x03, 0x04,
		0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
	};
	struct tcp_repr a = {
		.sport = htons(40000), .dport = htons(80), .seq = 0x11223344, .ack = 0,
		.flags = TCP_HDR_SYN, .window = 64240,
		.opt = { .mss = 1460, .sack_perm = true, .has_ts = true, .tsval = 0x01020304,
			 .has_wscale = true, .wscale = 7 },
	};
	struct tcp_repr b;
	uint8_t buf[60], ph[12];
	uint32_t s = wip("192.0.2.1"), d = wip("192.0.2.2"), ps;

	cr_assert_eq(tcp_hdr_opts_len(&a.opt), 20);
	ps = csum_pseudo4(s, d, IPPROTO_TCP, 40);
	cr_assert_eq(tcp_hdr_build(buf, &a, ps, 0), 40);
	cr_assert_eq(buf[12], 0xa0);
	cr_assert_eq(buf[13], 0x02);
	cr_assert_eq(memcmp(buf + 20, want, 20), 0);
	memcpy(ph, &s, 4);
	memcpy(ph + 4, &d, 4);
	ph[8] = 0; ph[9] = IPPROTO_TCP; ph[10] = 0; ph[11] = 40;
	cr_assert(wref_ok(ph, 12, buf, 40));
	cr_assert_eq(tcp_hdr_csum_check(ps, csum_partial(buf, 40, 0)), 0);
	buf[39] ^= 1;
	cr_assert_eq(tcp_hdr_csum_check(ps, csum_partial(buf, 40, 0)), -EINVAL);
	buf[39] ^= 1;

	cr_assert_eq(tcp_hdr_parse(buf, 40, &b), 40);
	cr_assert_eq(b.sport, a.sport);
	cr_assert_eq(b.seq, 0x11223344);
	cr_assert_eq(b.doff, 10);
	cr_assert_eq(b.flags, TCP_HDR_SYN);
	cr_assert_eq(b.window, 64240);
	cr_assert_eq(b.opt.mss, 1460);
	cr_assert(b.opt.sack_perm);
	cr_assert(b.opt.has_ts);
	cr_assert_eq(b.opt.tsval, 0x01020304);
	cr_assert_eq(b.opt.tsecr, 0);
	cr_assert(b.opt.has_wscale);
	cr_assert_eq(b.opt.wscale, 7);
	cr_assert_not(b.opt.malformed);
	cr_assert_not(b.opt.saw_unknown);
}

Test(wire_tcp, build_layouts)
{
	struct tcp_opts o;
	struct tcp_repr r, b;
	uint8_t buf[60];

	memset(&r, 0, sizeof(r));
	r.flags = TCP_HDR_ACK | TCP_HDR_AE | TCP_HDR_CWR;
	r.opt.has_ts = true;
	r.opt.tsval = 5;
	r.opt.tsecr = 6;
	r.opt.num_sacks = 3;
	r.opt.sacks[0] = (struct tcp_sack_block){ 100, 200 };
	r.opt.sacks[1] = (struct tcp_sack_block){ 300, 400 };
	r.opt.sacks[2] = (struct tcp_sack_block){ 0xfffffff0, 0x10 };
	cr_assert_eq(tcp_hdr_build(buf, &r, 0, 0), 60);
	cr_assert_eq(buf[12], 0xf1);	/* doff 15, AE */
	cr_assert_eq(buf[13], 0x90);
	cr_assert_eq(memcmp(buf + 20, "\x01\x01\x08\x0a\0\0\0\x05\0\0\0\x06\x01\x01\x05\x1a", 16), 0);
	cr_assert_eq(tcp_hdr_parse(buf, 60, &b), 60);
	cr_assert_eq(b.flags, r.flags);
	cr_assert_eq(b.opt.num_sacks, 3);
	cr_assert_eq(b.opt.sacks[2].start, 0xfffffff0);
	cr_assert_eq(b.opt.sacks[2].end, 0x10);
	/* A fourth block does not fit beside the timestamps. */
	r.opt.num_sacks = 4;
	cr_assert_eq(tcp_hdr_build(buf, &r, 0, 0), -EINVAL);
	r.opt.has_ts = false;
	cr_assert_eq(tcp_hdr_build(buf, &r, 0, 0), 56);
	r.opt.num_sacks = 5;
	cr_assert_eq(tcp_hdr_opts_len(&r.opt), -EINVAL);

	/* SACK-permitted alone: NOP NOP SACK_PERM. */
	memset(&o, 0, sizeof(o));
	o.sack_perm = true;
	memset(&r, 0, sizeof(r));
	r.opt = o;
	cr_assert_eq(tcp_hdr_build(buf, &r, 0, 0), 24);
	cr_assert_eq(memcmp(buf + 20, "\x01\x01\x04\x02", 4), 0);

	/* Fast Open: request, 8-byte cookie, experimental form, bad lengths. */
	memset(&r, 0, sizeof(r));
	r.opt.fastopen = true;
	r.opt.fastopen_len = 0;
	cr_assert_eq(tcp_hdr_build(buf, &r, 0, 0), 24);
	cr_assert_eq(memcmp(buf + 20, "\x22\x02\x01\x01", 4), 0);
	r.opt.fastopen_len = 8;
	memcpy(r.opt.fastopen_cookie, "COOKIE!!", 8);
	cr_assert_eq(tcp_hdr_build(buf, &r, 0, 0), 32);
	cr_assert_eq(memcmp(buf + 20, "\x22\x0a" "COOKIE!!" "\x01\x01", 12), 0);
	cr_assert_eq(tcp_hdr_parse(buf, 32, &b), 32);
	cr_assert(b.opt.fastopen);
	cr_assert_not(b.opt.fastopen_exp);
	cr_assert_eq(b.opt.fastopen_len, 8);
	cr_assert_eq(memcmp(b.opt.fastopen_cookie, "COOKIE!!", 8), 0);
	r.opt.fastopen_exp = true;
	cr_assert_eq(tcp_hdr_build(buf, &r, 0, 0), 32);
	cr_assert_eq(memcmp(buf + 20, "\xfe\x0c\xf9\x89" "COOKIE!!", 12), 0);
	cr_assert_eq(tcp_hdr_parse(buf, 32, &b), 32);
	cr_assert(b.opt.fastopen_exp);
	cr_assert_eq(b.opt.fastopen_len, 8);
	r.opt.fastopen_len = 6;
	cr_assert_eq(tcp_hdr_build(buf, &r, 0, 0), 32);
	cr_assert_eq(memcmp(buf + 20, "\xfe\x0a\xf9\x89" "COOKIE\x01\x01", 12), 0);
	r.opt.fastopen_len = 3;
	cr_assert_eq(tcp_hdr_build(buf, &r, 0, 0), -EINVAL);
	r.opt.fastopen_len = 18;
	cr_assert_eq(tcp_hdr_opts_len(&r.opt), -EINVAL);
	r.opt.fastopen_len = -1;
	cr_assert_eq(tcp_hdr_opts_len(&r.opt), -EINVAL);
	r.opt.fastopen_len = 2;
	cr_assert_eq(tcp_hdr_opts_len(&r.opt), -EINVAL);
}

Test(wire_tcp, header_truncations_and_doff)
{
	uint8_t buf[60];
	struct tcp_repr r;
	size_t hlen, n;

	hlen = w_tcp_with_opts(buf, (const uint8_t *)"\x02\x04\x05\xb4", 4, TCP_HDR_SYN);
	cr_assert_eq(hlen, 24);
	for (n = 0; n < hlen; n++) {
		uint8_t *p = wexact(buf, n);

		cr_assert_eq(tcp_hdr_parse(p, n, &r), -EINVAL, "len %zu", n);
		free(p);
	}
	uint8_t *p = wexact(buf, hlen);
	cr_assert_eq(tcp_hdr_parse(p, hlen, &r), 24);
	cr_assert_eq(r.opt.mss, 1460);
	free(p);
	buf[12] = 0x40;			/* doff 4 */
	cr_assert_eq(tcp_hdr_parse(buf, 24, &r), -EINVAL);
	buf[12] = 0x00;
	cr_assert_eq(tcp_hdr_parse(buf, 24, &r), -EINVAL);
	buf[12] = 0xf0;			/* 60 > 24 */
	cr_assert_eq(tcp_hdr_parse(buf, 24, &r), -EINVAL);
}

/* Parse option bytes alone; the return and the options read. */
static int w_opts(const char *bytes, size_t n, struct tcp_opts *o)
{
	uint8_t *p = wexact(bytes, n);
	int ret = tcp_hdr_parse_opts(p, n, o);

	free(p);
	return ret;
}

Test(wire_tcp, options_where_linux_stops)
{
	struct tcp_opts o;
	uint8_t buf[60];
	struct tcp_repr r;
	size_t hlen;

	/* A kind byte with no room for its length: stop (length < 2). */
	cr_assert_eq(w_opts("\x01\x01\x01\x02", 4, &o), -EINVAL);
	cr_assert_eq(w_opts("\x02\x04\x05\xb4\x01\x01\x01\x08", 8, &o), -EINVAL);
	cr_assert_eq(o.mss, 1460, "options before the stop are kept");
	/* Length 0 and 1: "silly options". */
	cr_assert_eq(w_opts("\x02\x04\x05\xb4\x03\x00\x07\x00", 8, &o), -EINVAL);
	cr_assert_eq(o.mss, 1460);
	cr_assert_not(o.has_wscale);
	cr_assert_eq(w_opts("\x03\x01\x07\x00", 4, &o), -EINVAL);
	/* Length running past the header: stop, don't parse partial options. */
	cr_assert_eq(w_opts("\x02\x08\x05\xb4", 4, &o), -EINVAL);
	cr_assert_eq(o.mss, 0);
	cr_assert_eq(w_opts("\x01\x08\x0a\x00\x00\x00\x01\x00\x00\x00", 10, &o), -EINVAL);
	cr_assert_not(o.has_ts);
	/* An unknown kind with a silly length stops the walk too. */
	cr_assert_eq(w_opts("\xaa\x00\x02\x04\x05\xb4", 6, &o), -EINVAL);
	cr_assert_eq(o.mss, 0);

	/* tcp_hdr_parse keeps the segment, as Linux does, and says the options stopped. */
	hlen = w_tcp_with_opts(buf, (const uint8_t *)"\x02\x04\x05\xb4\x03\x00\x07\x00", 8, 2);
	cr_assert_eq(tcp_hdr_parse(buf, hlen, &r), 28);
	cr_assert(r.opt.malformed);
	cr_assert_eq(r.opt.mss, 1460);
}

Test(wire_tcp, options_linux_ignores)
{
	struct tcp_opts o;

	/* EOL ends the list; what follows is not read, even garbage. */
	cr_assert_eq(w_opts("\x02\x04\x05\xb4\x00\x03\x00\xff", 8, &o), 0);
	cr_assert_eq(o.mss, 1460);
	cr_assert_not(o.has_wscale);
	/* Known options with a wrong (but in-bounds) length are skipped, and the walk goes on. */
	cr_assert_eq(w_opts("\x02\x03\x05\x03\x03\x07\x04\x03\x00\x08\x08\x00\x00\x00\x01\x00\x00\x00\x02",
			    19, &o), 0);
	cr_assert_eq(o.mss, 0);
	cr_assert(o.has_wscale);
	cr_assert_eq(o.wscale, 7);
	cr_assert_not(o.sack_perm);
	cr_assert_not(o.has_ts);
	cr_assert_not(o.saw_unknown);
	/* MSS 0 is ignored; a window scale above 14 is kept as sent (the caller clamps). */
	cr_assert_eq(w_opts("\x02\x04\x00\x00\x01\x03\x03\x0f", 8, &o), 0);
	cr_assert_eq(o.mss, 0);
	cr_assert_eq(o.wscale, 15);
	/* Later options of a kind win; NOPs anywhere. */
	cr_assert_eq(w_opts("\x08\x0a\0\0\0\x01\0\0\0\x02\x01\x08\x0a\0\0\0\x03\0\0\0\x04", 21, &o), 0);
	cr_assert_eq(o.tsval, 3);
	cr_assert_eq(o.tsecr, 4);
	/* SACK: 1..4 blocks; a size that is not 2 + 8n is ignored. */
	cr_assert_eq(w_opts("\x05\x0a\0\0\0\x01\0\0\0\x02", 10, &o), 0);
	cr_assert_eq(o.num_sacks, 1);
	cr_assert_eq(o.sacks[0].end, 2);
	cr_assert_eq(w_opts("\x05\x0b\0\0\0\x01\0\0\0\x02\x00", 11, &o), 0);
	cr_assert_eq(o.num_sacks, 0);
	cr_assert_eq(w_opts("\x05\x02", 2, &o), 0);
	cr_assert_eq(o.num_sacks, 0);
	/* Unknown kinds are skipped and noted; MD5 is known. */
	cr_assert_eq(w_opts("\x1e\x04\xab\xcd\x02\x04\x05\xb4", 8, &o), 0);
	cr_assert(o.saw_unknown);
	cr_assert_eq(o.mss, 1460);
	cr_assert_eq(w_opts("\x13\x12" "0123456789abcdef", 18, &o), 0);
	cr_assert_not(o.saw_unknown);
	/* Fast Open (tcp_parse_fastopen_option): even lengths only; 4..16 a cookie; 0 a request; else -1. */
	cr_assert_eq(w_opts("\x22\x02", 2, &o), 0);
	cr_assert(o.fastopen);
	cr_assert_eq(o.fastopen_len, 0);
	cr_assert_eq(w_opts("\x22\x03\x01", 3, &o), 0);
	cr_assert_not(o.fastopen);
	cr_assert_eq(w_opts("\x22\x04\x01\x02", 4, &o), 0);
	cr_assert(o.fastopen);
	cr_assert_eq(o.fastopen_len, -1);
	cr_assert_eq(w_opts("\x22\x14" "0123456789abcdefgh", 20, &o), 0);
	cr_assert_eq(o.fastopen_len, -1);
	cr_assert_eq(w_opts("\x22\x12" "0123456789abcdef", 18, &o), 0);
	cr_assert_eq(o.fastopen_len, 16);
	cr_assert_eq(w_opts("\xfe\x08\xf9\x89\x01\x02\x03\x04", 8, &o), 0);
	cr_assert(o.fastopen_exp);
	cr_assert_eq(o.fastopen_len, 4);
	cr_assert_eq(w_opts("\xfe\x08\xf9\x88\x01\x02\x03\x04", 8, &o), 0);
	cr_assert_not(o.fastopen);
	cr_assert(o.saw_unknown);
	cr_assert_eq(w_opts("\xfe\x03\xf9", 3, &o), 0);
	cr_assert(o.saw_unknown);
}

Test(wire_tcp, round_trip)
{
	uint8_t buf[60 + 16];
	struct tcp_repr a, b;
	int i, built = 0;

	srand(10);
	for (i = 0; i < 20000; i++) {
		int hl;

		memset(&a, 0, sizeof(a));
		a.sport = (uint16_t)rand();
		a.dport = (uint16_t)rand();
		a.seq = (uint32_t)rand() << 1 ^ (uint32_t)rand();
		a.ack = (uint32_t)rand() << 3;
		a.flags = (uint16_t)(rand() & 0xfff);
		a.window = (uint16_t)rand();
		a.urg = (uint16_t)rand();
		if (rand() & 1)
			a.opt.mss = (uint16_t)(rand() | 1);
		a.opt.sack_perm = rand() & 1;
		a.opt.has_ts = rand() & 1;
		if (a.opt.has_ts) {
			a.opt.tsval = (uint32_t)rand();
			a.opt.tsecr = (uint32_t)rand();
		}
		a.opt.has_wscale = rand() & 1;
		if (a.opt.has_wscale)
			a.opt.wscale = (uint8_t)rand();
		a.opt.num_sacks = (uint8_t)(rand() % 5);
		for (int k = 0; k < a.opt.num_sacks; k++)
			a.opt.sacks[k] = (struct tcp_sack_block){ (uint32_t)rand(), (uint32_t)rand() };
		if (rand() % 4 == 0) {
			a.opt.fastopen = true;
			a.opt.fastopen_exp = rand() & 1;
			a.opt.fastopen_len = (int8_t)((rand() % 2) ? 0 : 4 + 2 * (rand() % 7));
			wrand(a.opt.fastopen_cookie, (size_t)a.opt.fastopen_len);
		}
		hl = tcp_hdr_build(buf, &a, 0, 0);
		if (hl == -EINVAL) {
			cr_assert_eq(tcp_hdr_opts_len(&a.opt), -EINVAL);
			continue;
		}
		built++;
		cr_assert_eq(hl, 20 + tcp_hdr_opts_len(&a.opt));
		cr_assert_eq(hl % 4, 0);
		memset(&b, 0x5a, sizeof(b));
		cr_assert_eq(tcp_hdr_parse(buf, (size_t)hl, &b), hl);
		cr_assert_eq(tcp_hdr_csum_check(0, csum_partial(buf, (size_t)hl, 0)), 0);
		a.doff = (uint8_t)(hl / 4);
		b.check = 0;
		cr_assert_eq(memcmp(&a.opt, &b.opt, sizeof(a.opt)), 0, "iter %d", i);
		cr_assert_eq(b.sport, a.sport);
		cr_assert_eq(b.dport, a.dport);
		cr_assert_eq(b.seq, a.seq);
		cr_assert_eq(b.ack, a.ack);
		cr_assert_eq(b.doff, a.doff);
		cr_assert_eq(b.flags, a.flags);
		cr_assert_eq(b.window, a.window);
		cr_assert_eq(b.urg, a.urg);
	}
	cr_assert_gt(built, 10000);
}
