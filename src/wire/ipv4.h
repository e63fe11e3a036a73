/* SPDX-License-Identifier: MIT */
/*
 * ipv4.h - IPv4 header with options (RFC 791): parse and build
 *
 * Byte order in struct ipv4_repr: addresses (saddr, daddr) stay in network
 * order, as the rest of the stack compares them; every other multi-byte
 * field (tot_len, id, frag_off) is in host order; check is as on the wire.
 *
 * Options are not interpreted here: the repr points at them in the parsed
 * buffer (the IP layer validates them, as Linux's ip_options_compile does
 * after ip_rcv_core).  The buffer handed to ipv4_parse may be longer than
 * tot_len (Ethernet pads frames to 60 bytes): the parse accepts that and the
 * caller trims the packet to tot_len, as ip_rcv_core does.
 */
#ifndef USOCK_WIRE_IPV4_H
#define USOCK_WIRE_IPV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPV4_HLEN 20		/* header without options */
#define IPV4_MAX_HLEN 60
#define IPV4_MAX_OPTLEN 40

/* frag_off bits, host order */
#define IPV4_CE 0x8000		/* reserved ("evil") bit; Linux accepts it */
#define IPV4_DF 0x4000
#define IPV4_MF 0x2000
#define IPV4_OFFSET 0x1fff	/* in units of 8 bytes */

/* The wire layout (network order), for sizeof/offsetof. */
struct ipv4_hdr {
	uint8_t ver_ihl;
	uint8_t tos;
	uint16_t tot_len;
	uint16_t id;
	uint16_t frag_off;
	uint8_t ttl;
	uint8_t proto;
	uint16_t check;
	uint32_t saddr;
	uint32_t daddr;
};

struct ipv4_repr {
	uint8_t ihl;		/* header length in 32-bit words (parse only; build derives it) */
	uint8_t tos;
	uint16_t tot_len;	/* host order */
	uint16_t id;		/* host order */
	uint16_t frag_off;	/* host order: IPV4_DF | IPV4_MF | offset/8 */
	uint8_t ttl;
	uint8_t proto;
	uint16_t check;		/* as on the wire (parse only; build computes it) */
	uint32_t saddr, daddr;	/* network order */
	const uint8_t *opt;	/* options: into the parsed buffer, or to copy on build */
	uint8_t optlen;		/* bytes: ihl * 4 - 20 */
};

/*
 * ipv4_parse_flags - read and validate the IPv4 header at p, with flags
 * CSUM_SKIP (wire/csum.h) to trust the header checksum (loopback).
 * Checks in ip_rcv_core's order: len >= 20, version 4 and IHL >= 5, IHL*4
 * <= len, header checksum, tot_len <= len, tot_len >= IHL*4.
 * Return: the header length (IHL*4), or -EINVAL.
 */
int ipv4_parse_flags(const uint8_t *p, size_t len, struct ipv4_repr *r, unsigned flags);

/* ipv4_parse - ipv4_parse_flags() with the checksum verified. Return: header length, -EINVAL. */
int ipv4_parse(const uint8_t *p, size_t len, struct ipv4_repr *r);

/*
 * ipv4_build - write r as an IPv4 header at p (20 + r->optlen bytes), IHL
 * from optlen, with its checksum.  r->opt may point into the destination.
 * Return: the header length, or -EINVAL if optlen is over 40 or not a
 * multiple of 4 (pad options with EOL first, as ip_options_build expects).
 */
int ipv4_build(uint8_t *p, const struct ipv4_repr *r);

/* ipv4_is_fragment - part of a fragmented datagram (MF set or offset non-zero). */
static inline bool ipv4_is_fragment(const struct ipv4_repr *r)
{
	return r->frag_off & (IPV4_MF | IPV4_OFFSET);
}

static inline bool ipv4_more_fragments(const struct ipv4_repr *r)
{
	return r->frag_off & IPV4_MF;
}

static inline bool ipv4_dont_fragment(const struct ipv4_repr *r)
{
	return r->frag_off & IPV4_DF;
}

/* ipv4_frag_offset - offset of this fragment's payload in the datagram, in bytes. */
static inline unsigned ipv4_frag_offset(const struct ipv4_repr *r)
{
	return (unsigned)(r->frag_off & IPV4_OFFSET) << 3;
}

#endif
