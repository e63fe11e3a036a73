/* FUZZ_WIRE_ONLY: built with src/wire only */
/* SPDX-License-Identifier: MIT */
/*
 * fuzz_wire.c - libFuzzer target for every wire parser
 *
 * Each parser runs on the input at every offset up to 64 (the input buffer
 * ends exactly where libFuzzer's allocation does, so AddressSanitizer sees
 * any read past the length a parser was given), then the receive path's
 * chain Ethernet -> ARP/IPv4/IPv6 -> UDP/TCP/ICMP on the lengths the headers
 * declare.  What parses is rebuilt and must parse again to the same
 * values, with a checksum that verifies.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined -Iinclude -Isrc
 *        fuzz/fuzz_wire.c and every .c file of src/wire
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "wire/arp.h"
#include "wire/csum.h"
#include "wire/eth.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/ipv6.h"
#include "wire/tcp.h"
#include "wire/udp.h"

#define FUZZ_CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

static uint8_t fuzz_out[65536 + 64];

static void fuzz_eth(const uint8_t *p, size_t len)
{
	struct eth_repr r;

	if (eth_parse(p, len, &r) < 0)
		return;
	FUZZ_CHECK(eth_build(fuzz_out, &r) == ETH_HLEN);
	FUZZ_CHECK(memcmp(fuzz_out, p, ETH_HLEN) == 0);
}

static void fuzz_arp(const uint8_t *p, size_t len)
{
	struct arp_repr r;

	if (arp_parse(p, len, &r) < 0)
		return;
	FUZZ_CHECK(arp_build(fuzz_out, &r) == ARP_HLEN);
	/* Everything but the hardware type (6 is read, 1 is written). */
	FUZZ_CHECK(memcmp(fuzz_out + 2, p + 2, ARP_HLEN - 2) == 0);
}

/* Return: the IPv4 header length, with *r filled, or -1. */
static int fuzz_ipv4(const uint8_t *p, size_t len, struct ipv4_repr *r)
{
	struct ipv4_repr r2;
	int hl = ipv4_parse(p, len, r), hl2;

	hl2 = ipv4_parse_flags(p, len, &r2, CSUM_SKIP);
	FUZZ_CHECK(hl < 0 || hl2 == hl);
	if (hl2 < 0)
		return -1;
	FUZZ_CHECK(r2.ihl * 4 == hl2 && r2.tot_len >= hl2 && r2.tot_len <= len);
	FUZZ_CHECK(ipv4_build(fuzz_out, &r2) == hl2);
	/* Same bytes apart from the checksum, which now verifies. */
	FUZZ_CHECK(memcmp(fuzz_out, p, 10) == 0 && memcmp(fuzz_out + 12, p + 12, (size_t)hl2 - 12) == 0);
	FUZZ_CHECK(csum_fold(csum_partial(fuzz_out, (size_t)hl2, 0)) == 0);
	return hl;
}

static int fuzz_ipv6(const uint8_t *p, size_t len, struct ipv6_repr *r)
{
	if (ipv6_parse(p, len, r) < 0)
		return -1;
	FUZZ_CHECK(IPV6_HLEN + (size_t)r->payload_len <= len);
	FUZZ_CHECK(ipv6_build(fuzz_out, r) == IPV6_HLEN);
	FUZZ_CHECK(memcmp(fuzz_out, p, IPV6_HLEN) == 0);
	return IPV6_HLEN;
}

static void fuzz_udp(const uint8_t *p, size_t len, uint32_t psum, int family)
{
	struct udp_repr r;
	uint32_t ps;

	if (udp_hdr_parse6(p, len, &r) >= 0)
		FUZZ_CHECK(r.len >= UDP_HLEN && r.len <= len);
	if (udp_hdr_parse(p, len, &r) < 0)
		return;
	FUZZ_CHECK(r.len >= UDP_HLEN && r.len <= len);
	(void)udp_hdr_csum_check(&r, psum, csum_partial(p, r.len, 0), family);
	/* Rebuilt with its payload, the checksum must verify for this family. */
	memcpy(fuzz_out + UDP_HLEN, p + UDP_HLEN, r.len - UDP_HLEN);
	ps = csum_add(psum, 0);
	FUZZ_CHECK(udp_hdr_build(fuzz_out, &r, ps, csum_partial(fuzz_out + UDP_HLEN, r.len - UDP_HLEN, 0)) ==
		   UDP_HLEN);
	FUZZ_CHECK(memcmp(fuzz_out, p, 6) == 0);
	FUZZ_CHECK(udp_hdr_parse(fuzz_out, r.len, &r) == UDP_HLEN);
	FUZZ_CHECK(r.check != 0);
	FUZZ_CHECK(udp_hdr_csum_check(&r, ps, csum_partial(fuzz_out, r.len, 0), family) == 0);
}

static void fuzz_tcp(const uint8_t *p, size_t len, uint32_t psum)
{
	struct tcp_repr r, r2;
	struct tcp_opts o;
	int hl, hl2;

	hl = tcp_hdr_parse(p, len, &r);
	if (hl < 0)
		return;
	FUZZ_CHECK(hl == r.doff * 4 && (size_t)hl <= len);
	FUZZ_CHECK(r.opt.num_sacks <= TCP_MAX_SACKS);
	FUZZ_CHECK(tcp_hdr_parse_opts(p + TCP_HLEN, (size_t)hl - TCP_HLEN, &o) == (r.opt.malformed ? -22 : 0));
	(void)tcp_hdr_csum_check(psum, csum_partial(p, len, 0));
	hl2 = tcp_hdr_build(fuzz_out, &r, psum, 0);
	if (hl2 < 0)
		return;
	FUZZ_CHECK(tcp_hdr_parse(fuzz_out, (size_t)hl2, &r2) == hl2);
	FUZZ_CHECK(tcp_hdr_csum_check(psum, csum_partial(fuzz_out, (size_t)hl2, 0)) == 0);
	r.opt.saw_unknown = false;
	r.opt.malformed = false;
	FUZZ_CHECK(memcmp(&r.opt, &r2.opt, sizeof(r.opt)) == 0);
	FUZZ_CHECK(r.sport == r2.sport && r.dport == r2.dport && r.seq == r2.seq && r.ack == r2.ack &&
		   r.flags == r2.flags && r.window == r2.window && r.urg == r2.urg);
}

static void fuzz_icmp(const uint8_t *p, size_t len)
{
	struct icmp4_repr r4;
	struct icmp6_repr r6;

	if (len > sizeof(fuzz_out))
		return;
	(void)icmp4_hdr_parse(p, len, &r4);
	if (icmp4_hdr_parse_flags(p, len, &r4, CSUM_SKIP) >= 0) {
		FUZZ_CHECK(r4.data == p + ICMP_HLEN && r4.data_len == len - ICMP_HLEN);
		FUZZ_CHECK(icmp4_hdr_build(fuzz_out, &r4) == (int)len);
		FUZZ_CHECK(fuzz_out[0] == p[0] && fuzz_out[1] == p[1]);
		FUZZ_CHECK(icmp4_hdr_parse(fuzz_out, len, &r4) == ICMP_HLEN);
	}
	if (icmp6_hdr_parse(p, len, &r6) >= 0) {
		uint32_t ps = 0x1234;

		(void)icmp6_hdr_csum_check(ps, csum_partial(p, len, 0));
		FUZZ_CHECK(icmp6_hdr_build(fuzz_out, &r6, ps) == (int)len);
		FUZZ_CHECK(icmp6_hdr_csum_check(ps, csum_partial(fuzz_out, len, 0)) == 0);
	}
}

/* Every parser on [p, p+len): no length or checksum assumptions. */
static void fuzz_all(const uint8_t *p, size_t len)
{
	struct ipv4_repr r4;
	struct ipv6_repr r6;

	fuzz_eth(p, len);
	fuzz_arp(p, len);
	fuzz_ipv4(p, len, &r4);
	fuzz_ipv6(p, len, &r6);
	fuzz_udp(p, len, 0, AF_INET);
	fuzz_udp(p, len, 0xffff, AF_INET6);
	fuzz_tcp(p, len, 0);
	fuzz_icmp(p, len);
}

/* Layer 4 of an IP packet, on exactly the length the IP header declared. */
static void fuzz_l4(uint8_t proto, const uint8_t *p, size_t len, uint32_t psum, int family)
{
	switch (proto) {
	case IPPROTO_UDP:
		fuzz_udp(p, len, psum, family);
		break;
	case IPPROTO_TCP:
		fuzz_tcp(p, len, psum);
		break;
	default:
		fuzz_icmp(p, len);
		break;
	}
}

/* The receive path: Ethernet, then by EtherType, trimming to declared lengths. */
static void fuzz_frame(const uint8_t *p, size_t len)
{
	struct eth_repr e;
	struct ipv4_repr r4;
	struct ipv6_repr r6;
	struct arp_repr a;
	int hl;

	if (eth_parse(p, len, &e) < 0)
		return;
	p += ETH_HLEN;
	len -= ETH_HLEN;
	switch (e.proto) {
	case ETH_P_ARP:
		(void)arp_parse(p, len, &a);
		break;
	case ETH_P_IP:
		hl = fuzz_ipv4(p, len, &r4);
		if (hl < 0)
			break;
		fuzz_l4(r4.proto, p + hl, r4.tot_len - (size_t)hl,
			csum_pseudo4(r4.saddr, r4.daddr, r4.proto, r4.tot_len - (unsigned)hl), AF_INET);
		break;
	case ETH_P_IPV6:
		if (fuzz_ipv6(p, len, &r6) < 0)
			break;
		fuzz_l4(r6.nexthdr, p + IPV6_HLEN, r6.payload_len,
			csum_pseudo6(&r6.saddr, &r6.daddr, r6.nexthdr, r6.payload_len), AF_INET6);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off;

	for (off = 0; off < size && off <= 64; off++)
		fuzz_all(data + off, size - off);
	fuzz_frame(data, size);
	/* The checksum on odd offsets and splits: chaining must match one pass. */
	if (size) {
		size_t cut = data[0] % size;
		uint32_t whole = csum_partial(data, size, 0);
		uint32_t two = csum_partial_at(data + cut, size - cut, csum_partial(data, cut, 0), cut);

		FUZZ_CHECK(csum_fold(whole) == csum_fold(two));
	}
	return 0;
}
