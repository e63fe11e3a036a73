/* SPDX-License-Identifier: MIT */
/*
 * test_csum.c - the Internet checksum against a byte-at-a-time reference:
 * RFC 1071's example, every length 0..2000 at every alignment, odd-length
 * chaining, pseudo-headers, UDP's 0 -> 0xFFFF rule and RFC 1624 updates
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/csum.h"
#include "wire/ipv4.h"
#include "wire/udp.h"

/*
 * The reference: RFC 1071 literally, big-endian 16-bit words one at a time,
 * a trailing byte padded with zero, carries folded at the end.  Returns the
 * one's complement sum (not complemented), host order.
 */
static uint32_t ref_sum(const uint8_t *p, size_t n, uint32_t start)
{
	uint64_t s = start;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)s;
}

/* The checksum as the reference computes it, host order. */
static uint16_t ref_csum(const uint8_t *p, size_t n)
{
	return (uint16_t)~ref_sum(p, n, 0);
}

/* A csum_fold result read the way it lands in the packet: big-endian bytes. */
static uint16_t stored(uint16_t folded)
{
	uint8_t b[2];

	memcpy(b, &folded, 2);
	return (uint16_t)(b[0] << 8 | b[1]);
}

/* The 16-bit one's complement sum of an accumulator, host order, without complement. */
static uint16_t acc16(uint32_t acc)
{
	return (uint16_t)~stored(csum_fold(acc));
}

static void fill_random(uint8_t *p, size_t n, unsigned seed)
{
	size_t i;

	srand(seed);
	for (i = 0; i < n; i++)
		p[i] = (uint8_t)rand();
}

/* Two 16-bit one's complement sums are equal (0 and 0xffff both mean zero). */
static bool same16(uint32_t a, uint32_t b)
{
	return a % 0xffff == b % 0xffff;
}

Test(wire_csum, rfc1071_example)
{
	/* RFC 1071 section 3: 0001 f203 f4f5 f6f7 sums to ddf2 (carry folded). */
	static const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	uint16_t c = csum_fold(csum_partial(b, sizeof(b), 0));
	uint8_t out[2];

	memcpy(out, &c, 2);
	cr_assert_eq(out[0], 0x22);
	cr_assert_eq(out[1], 0x0d);
	cr_assert_eq(acc16(csum_partial(b, sizeof(b), 0)), 0xddf2);
	cr_assert_eq(ref_csum(b, sizeof(b)), 0x220d);
}

Test(wire_csum, empty_and_tiny)
{
	static const uint8_t one[] = { 0xab };

	cr_assert_eq(csum_partial(one, 0, 0), 0);
	cr_assert_eq(csum_partial(NULL, 0, 1234), 1234);
	cr_assert_eq(stored(csum_fold(csum_partial(one, 1, 0))), (uint16_t)~0xab00);
}

Test(wire_csum, every_length_every_alignment_vs_reference)
{
	static uint8_t buf[2000 + 8];
	size_t len, off;

	fill_random(buf, sizeof(buf), 1);
	for (off = 0; off < 8; off++)
		for (len = 0; len <= 2000; len++)
			cr_assert_eq(stored(csum_fold(csum_partial(buf + off, len, 0))),
				     ref_csum(buf + off, len), "len %zu off %zu", len, off);
}

Test(wire_csum, all_ones_and_all_zeros)
{
	static uint8_t buf[4096];
	size_t len;

	memset(buf, 0xff, sizeof(buf));
	for (len = 0; len <= sizeof(buf); len += 7)
		cr_assert_eq(stored(csum_fold(csum_partial(buf, len, 0))), ref_csum(buf, len));
	memset(buf, 0, sizeof(buf));
	cr_assert_eq(csum_fold(csum_partial(buf, sizeof(buf), 0)), 0xffff);
}

Test(wire_csum, large_buffer)
{
	size_t n = (1 << 20) + 3;
	uint8_t *b = malloc(n);

	cr_assert_not_null(b);
	fill_random(b, n, 7);
	cr_assert_eq(stored(csum_fold(csum_partial(b, n, 0))), ref_csum(b, n));
	memset(b, 0xff, n);
	cr_assert_eq(stored(csum_fold(csum_partial(b, n, 0))), ref_csum(b, n));
	free(b);
}

Test(wire_csum, incoming_sum_any_value)
{
	static uint8_t buf[300];
	static const uint32_t starts[] = { 0, 1, 0xffff, 0x10000, 0xfffe0001, 0xffffffff, 0x80000000 };
	size_t i, len;

	fill_random(buf, sizeof(buf), 3);
	for (i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
		/* A start value is a memory-order accumulator: its host-order worth is the swapped fold. */
		uint32_t st = (starts[i] & 0xffff) + (starts[i] >> 16);

		st = (st & 0xffff) + (st >> 16);
		st = ntohs((uint16_t)st);
		for (len = 0; len < sizeof(buf); len += 13)
			cr_assert(same16(acc16(csum_partial(buf, len, starts[i])), ref_sum(buf, len, st)),
				  "start %#x len %zu", starts[i], len);
	}
}

Test(wire_csum, chain_any_split_with_offsets)
{
	static uint8_t buf[257];
	size_t a, b, n = sizeof(buf);
	uint16_t want;

	fill_random(buf, n, 11);
	want = ref_csum(buf, n);
	/* Every two-way and many three-way splits, odd lengths in the middle included. */
	for (a = 0; a <= n; a++) {
		uint32_t s = csum_partial_at(buf, a, 0, 0);

		s = csum_partial_at(buf + a, n - a, s, a);
		cr_assert_eq(stored(csum_fold(s)), want, "split %zu", a);
		for (b = a; b <= n; b += 5) {
			s = csum_partial_at(buf, a, 0, 0);
			s = csum_partial_at(buf + a, b - a, s, a);
			s = csum_partial_at(buf + b, n - b, s, b);
			cr_assert_eq(stored(csum_fold(s)), want, "split %zu %zu", a, b);
		}
	}
}

Test(wire_csum, chain_one_byte_pieces)
{
	static uint8_t buf[1001];
	uint32_t s = 0;
	size_t i;

	fill_random(buf, sizeof(buf), 12);
	for (i = 0; i < sizeof(buf); i++)
		s = csum_partial_at(buf + i, 1, s, i);
	cr_assert_eq(stored(csum_fold(s)), ref_csum(buf, sizeof(buf)));
}

Test(wire_csum, block_add_matches_partial_at)
{
	static uint8_t buf[64];
	uint32_t whole, part;

	fill_random(buf, sizeof(buf), 13);
	whole = csum_partial(buf, sizeof(buf), 0);
	part = csum_block_add(csum_partial(buf, 3, 0), csum_partial(buf + 3, 61, 0), 3);
	cr_assert(same16(acc16(whole), acc16(part)));
	part = csum_block_add(csum_partial(buf, 4, 0), csum_partial(buf + 4, 60, 0), 4);
	cr_assert(same16(acc16(whole), acc16(part)));
	cr_assert(same16(acc16(csum_sub(whole, csum_partial(buf, 4, 0))),
			 acc16(csum_partial(buf + 4, 60, 0))));
}

Test(wire_csum, pseudo4_vs_bytes)
{
	uint8_t ph[12 + 9];
	uint32_t s = htonl(0xc0000201), d = htonl(0xc6336402);
	unsigned len;

	for (len = 0; len <= 0xffff; len += 257) {
		memcpy(ph, &s, 4);
		memcpy(ph + 4, &d, 4);
		ph[8] = 0;
		ph[9] = IPPROTO_UDP;
		ph[10] = (uint8_t)(len >> 8);
		ph[11] = (uint8_t)len;
		memcpy(ph + 12, "abcdefghi", 9);
		cr_assert_eq(stored(csum_fold(csum_partial(ph + 12, 9, csum_pseudo4(s, d, IPPROTO_UDP, len)))),
			     ref_csum(ph, sizeof(ph)), "len %u", len);
	}
}

Test(wire_csum, pseudo6_vs_bytes)
{
	uint8_t ph[40 + 5];
	struct in6_addr s, d;
	uint32_t len;

	inet_pton(AF_INET6, "2001:db8::1", &s);
	inet_pton(AF_INET6, "fe80::ffff:ffff:ffff:fffe", &d);
	for (len = 0; len < 0x30000; len += 4099) {
		memcpy(ph, &s, 16);
		memcpy(ph + 16, &d, 16);
		ph[32] = (uint8_t)(len >> 24);
		ph[33] = (uint8_t)(len >> 16);
		ph[34] = (uint8_t)(len >> 8);
		ph[35] = (uint8_t)len;
		ph[36] = ph[37] = ph[38] = 0;
		ph[39] = IPPROTO_ICMPV6;
		memcpy(ph + 40, "\x80\x00\x12\x34\x56", 5);
		cr_assert_eq(stored(csum_fold(csum_partial(ph + 40, 5,
							   csum_pseudo6(&s, &d, IPPROTO_ICMPV6, len)))),
			     ref_csum(ph, sizeof(ph)), "len %u", len);
	}
}

/* The packet of test_wire's tshark-checked vector: IPv4 192.0.2.1 -> 198.51.100.2, UDP 12345 -> 53. */
static const uint8_t known_ip_udp[] = {
	0x45, 0x00, 0x00, 0x28, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x11, 0x32, 0x48,
	0xc0, 0x00, 0x02, 0x01, 0xc6, 0x33, 0x64, 0x02,
	0x30, 0x39, 0x00, 0x35, 0x00, 0x14, 0x4f, 0x36,
	'h', 'e', 'l', 'l', 'o', ' ', 'u', 's', 'o', 'c', 'k', '!',
};

Test(wire_csum, known_packet_header_and_udp)
{
	uint8_t p[sizeof(known_ip_udp)];
	uint32_t saddr, daddr, ps;

	memcpy(p, known_ip_udp, sizeof(p));
	/* Verifies as received. */
	cr_assert_eq(csum_fold(csum_partial(p, 20, 0)), 0);
	memcpy(&saddr, p + 12, 4);
	memcpy(&daddr, p + 16, 4);
	ps = csum_pseudo4(saddr, daddr, IPPROTO_UDP, 20);
	cr_assert_eq(csum_fold(csum_partial(p + 20, 20, ps)), 0);
	/* Recomputed from zeroed fields, it is the value tshark called correct. */
	p[10] = p[11] = 0;
	cr_assert_eq(stored(csum_fold(csum_partial(p, 20, 0))), 0x3248);
	cr_assert_eq(ref_csum(p, 20), 0x3248);
	p[26] = p[27] = 0;
	cr_assert_eq(stored(csum_fold_udp(csum_partial(p + 20, 20, ps))), 0x4f36);
}

Test(wire_csum, udp_zero_is_sent_as_ffff)
{
	uint8_t dg[10];
	struct udp_repr r = { .sport = htons(1000), .dport = htons(2000), .len = 10 };
	uint32_t s = htonl(0x0a000001), d = htonl(0x0a000002), ps, rest;
	uint16_t w;

	/* Pick the 2-byte payload so that everything else plus it sums to 0xffff: checksum 0. */
	memset(dg, 0, sizeof(dg));
	dg[0] = 0x03; dg[1] = 0xe8; dg[2] = 0x07; dg[3] = 0xd0; dg[4] = 0; dg[5] = 10;
	ps = csum_pseudo4(s, d, IPPROTO_UDP, 10);
	rest = csum_partial(dg, 8, ps);
	w = (uint16_t)~acc16(rest);
	dg[8] = (uint8_t)(w >> 8);
	dg[9] = (uint8_t)w;
	cr_assert_eq(csum_fold(csum_partial(dg, 10, ps)), 0, "payload makes the checksum 0");
	cr_assert_eq(csum_fold_udp(csum_partial(dg, 10, ps)), 0xffff);
	cr_assert_eq(udp_hdr_build(dg, &r, ps, csum_partial(dg + 8, 2, 0)), 8);
	cr_assert_eq(dg[6], 0xff);
	cr_assert_eq(dg[7], 0xff);
	/* 0xFFFF verifies; a 0 field means "none" over IPv4 only. */
	struct udp_repr pr;
	cr_assert_eq(udp_hdr_parse(dg, sizeof(dg), &pr), 8);
	cr_assert_eq(udp_hdr_csum_check(&pr, ps, csum_partial(dg, 10, 0), AF_INET), 0);
	cr_assert_eq(udp_hdr_csum_check(&pr, ps, csum_partial(dg, 10, 0), AF_INET6), 0);
	pr.check = 0;
	cr_assert_eq(udp_hdr_csum_check(&pr, ps, 12345, AF_INET), 0);
	cr_assert_eq(udp_hdr_csum_check(&pr, ps, 12345, AF_INET6), -EINVAL);
}

Test(wire_csum, replace_matches_recompute)
{
	uint8_t h[20];
	int i;

	srand(99);
	for (i = 0; i < 20000; i++) {
		struct ipv4_repr r = {
			.tos = (uint8_t)rand(), .tot_len = (uint16_t)rand(), .id = (uint16_t)rand(),
			.frag_off = (uint16_t)rand(), .ttl = (uint8_t)rand(), .proto = (uint8_t)rand(),
			.saddr = (uint32_t)rand() * 2654435761u, .daddr = (uint32_t)rand(),
		};
		uint16_t old16, new16, want;
		uint32_t old32, new32;

		if (i % 7 == 0)
			r.saddr = 0xffffffff;
		ipv4_build(h, &r);
		/* TTL/protocol word, then an address. */
		memcpy(&old16, h + 8, 2);
		h[8] = (uint8_t)(h[8] - 1);
		memcpy(&new16, h + 8, 2);
		csum_replace2(h + 10, old16, new16);
		memcpy(&want, h + 10, 2);
		h[10] = h[11] = 0;
		cr_assert_eq(csum_fold(csum_partial(h, 20, 0)), want, "iter %d", i);
		memcpy(h + 10, &want, 2);

		memcpy(&old32, h + 12, 4);
		new32 = (uint32_t)rand() ^ ((uint32_t)rand() << 16);
		if (i % 5 == 0)
			new32 = 0;
		memcpy(h + 12, &new32, 4);
		csum_replace4(h + 10, old32, new32);
		memcpy(&want, h + 10, 2);
		h[10] = h[11] = 0;
		cr_assert_eq(csum_fold(csum_partial(h, 20, 0)), want, "iter %d", i);
	}
}
