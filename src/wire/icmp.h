/* SPDX-License-Identifier: MIT */
/*
 * icmp.h - ICMP (RFC 792) and ICMPv6 (RFC 4443) headers: parse and build
 *
 * Both share the 8-byte fixed part: type, code, checksum and four bytes whose
 * meaning depends on the type ("rest of header").  The message body (the
 * echo data, or the quoted datagram of an error) follows.
 *
 * Byte order in the reprs: every multi-byte number is in host order (echo
 * id and seq, MTU, pointer, rest), except the ICMPv4 redirect gateway, an
 * IPv4 address, which stays in network order.  Parse fills every field from
 * the same four bytes whatever the type (a field that does not apply to the
 * type is just a view of those bytes); build writes the field(s) the type
 * uses, and 'rest' for types it does not know.
 *
 * Checksums: ICMPv4's covers the whole message, so icmp4_hdr_parse verifies
 * it; ICMPv6's includes the IPv6 pseudo-header, so it is checked apart with
 * icmp6_hdr_csum_check.  Error quotes: build copies the quote the caller
 * gives; how much of the offending datagram to quote is the IP layer's rule
 * (Linux's icmp_send quotes up to 576 bytes in all, icmp6_send up to 1280).
 */
#ifndef USOCK_WIRE_ICMP_H
#define USOCK_WIRE_ICMP_H

#include <stddef.h>
#include <stdint.h>

#define ICMP_HLEN 8

/* ICMPv4 types and the codes the stack uses */
#define ICMP4_ECHOREPLY 0
#define ICMP4_DEST_UNREACH 3
#define ICMP4_SOURCE_QUENCH 4
#define ICMP4_REDIRECT 5
#define ICMP4_ECHO 8
#define ICMP4_TIME_EXCEEDED 11
#define ICMP4_PARAMETERPROB 12
#define ICMP4_TIMESTAMP 13
#define ICMP4_TIMESTAMPREPLY 14
#define ICMP4_INFO_REQUEST 15
#define ICMP4_INFO_REPLY 16
#define ICMP4_ADDRESS 17
#define ICMP4_ADDRESSREPLY 18
#define ICMP4_NET_UNREACH 0
#define ICMP4_HOST_UNREACH 1
#define ICMP4_PROT_UNREACH 2
#define ICMP4_PORT_UNREACH 3
#define ICMP4_FRAG_NEEDED 4
#define ICMP4_EXC_TTL 0
#define ICMP4_EXC_FRAGTIME 1

/* ICMPv6 types (the glibc names where glibc has one, same values) */
#define ICMP6_DEST_UNREACH 1
#define ICMP6_PKT_TOOBIG 2
#define ICMP6_TIME_EXCEED 3
#define ICMP6_PARAMPROB 4
#ifndef ICMP6_ECHO_REQUEST
#define ICMP6_ECHO_REQUEST 128
#endif
#ifndef ICMP6_ECHO_REPLY
#define ICMP6_ECHO_REPLY 129
#endif

/* The wire layout (network order), for sizeof/offsetof; the same for v4 and v6. */
struct icmp_hdr {
	uint8_t type;
	uint8_t code;
	uint16_t check;
	uint8_t rest[4];
};

struct icmp4_repr {
	uint8_t type, code;
	uint16_t id, seq;	/* bytes 4-5, 6-7: echo, timestamp, info, address mask */
	uint16_t mtu;		/* bytes 6-7: next-hop MTU of "fragmentation needed" (RFC 1191) */
	uint8_t pointer;	/* byte 4: parameter problem */
	uint32_t gateway;	/* bytes 4-7: redirect, network order */
	uint32_t rest;		/* bytes 4-7 as one number: other types */
	uint16_t check;		/* as on the wire (parse only) */
	const uint8_t *data;	/* body after the 8-byte header */
	size_t data_len;
};

struct icmp6_repr {
	uint8_t type, code;
	uint16_t id, seq;	/* bytes 4-5, 6-7: echo request/reply */
	uint32_t mtu;		/* bytes 4-7: packet too big */
	uint32_t pointer;	/* bytes 4-7: parameter problem */
	uint32_t rest;		/* bytes 4-7: other types (NDP flags, MLD...) */
	uint16_t check;		/* as on the wire (parse only) */
	const uint8_t *data;
	size_t data_len;
};

/*
 * icmp4_hdr_parse_flags - read the ICMPv4 message [p, p+len) (len: the IP
 * payload length), verifying the checksum over all of it unless flags has
 * CSUM_SKIP (wire/csum.h).
 * Return: ICMP_HLEN; -EINVAL when len < 8 or the checksum is wrong.
 */
int icmp4_hdr_parse_flags(const uint8_t *p, size_t len, struct icmp4_repr *r, unsigned flags);

/* icmp4_hdr_parse - icmp4_hdr_parse_flags() with the checksum verified. Return: ICMP_HLEN, -EINVAL. */
int icmp4_hdr_parse(const uint8_t *p, size_t len, struct icmp4_repr *r);

/*
 * icmp4_hdr_build - write the message: header, then r->data_len bytes of
 * body from r->data (which may already sit at p + 8, or overlap it), then the
 * checksum over everything.  For an echo reply pass the request's data; for
 * an error pass the quoted datagram (its IP header and at least 8 bytes).
 * Return: ICMP_HLEN + r->data_len.
 */
int icmp4_hdr_build(uint8_t *p, const struct icmp4_repr *r);

/*
 * icmp4_hdr_build_hdr - write only the 8-byte header, for a body that is not
 * contiguous with it: @body_sum is csum_partial over the body (which starts
 * at the even offset 8, so no rotation is needed).
 * Return: ICMP_HLEN.
 */
int icmp4_hdr_build_hdr(uint8_t *p, const struct icmp4_repr *r, uint32_t body_sum);

/*
 * icmp6_hdr_parse - read the ICMPv6 message [p, p+len).  The checksum is
 * not checked (see icmp6_hdr_csum_check).
 * Return: ICMP_HLEN; -EINVAL when len < 8.
 */
int icmp6_hdr_parse(const uint8_t *p, size_t len, struct icmp6_repr *r);

/*
 * icmp6_hdr_csum_check - verify an ICMPv6 checksum: @psum is
 * csum_pseudo6(saddr, daddr, IPPROTO_ICMPV6, len), @sum the csum_partial of
 * the whole message (len bytes, checksum field included).
 * Return: 0, or -EINVAL if it does not verify.
 */
int icmp6_hdr_csum_check(uint32_t psum, uint32_t sum);

/*
 * icmp6_hdr_build - as icmp4_hdr_build, the checksum covering the
 * pseudo-header sum @psum (csum_pseudo6 with the message length).
 * Return: ICMP_HLEN + r->data_len.
 */
int icmp6_hdr_build(uint8_t *p, const struct icmp6_repr *r, uint32_t psum);

/* icmp6_hdr_build_hdr - header only; @sum is the pseudo-header sum plus the body's sum. Return: ICMP_HLEN. */
int icmp6_hdr_build_hdr(uint8_t *p, const struct icmp6_repr *r, uint32_t sum);

#endif
