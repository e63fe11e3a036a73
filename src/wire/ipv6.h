/* SPDX-License-Identifier: MIT */
/*
 * ipv6.h - the IPv6 fixed header (RFC 8200): parse and build
 *
 * Only the 40-byte fixed header.  Extension headers are not walked here:
 * nexthdr is reported as it is, and a later ipv6 extension module will parse
 * them.  Byte order in struct ipv6_repr: addresses are struct in6_addr (wire
 * bytes); payload_len and flow are in host order.
 *
 * A payload length of 0 is accepted as a number (it announces a jumbogram
 * when a hop-by-hop header follows, which the caller checks, as ipv6_rcv
 * does); the buffer may be longer than 40 + payload_len (Ethernet padding),
 * and the caller trims.
 */
#ifndef USOCK_WIRE_IPV6_H
#define USOCK_WIRE_IPV6_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#define IPV6_HLEN 40

/* The wire layout (network order), for sizeof/offsetof. */
struct ipv6_hdr {
	uint32_t ver_tc_flow;	/* version 4 bits, traffic class 8, flow label 20 */
	uint16_t payload_len;
	uint8_t nexthdr;
	uint8_t hop_limit;
	struct in6_addr saddr;
	struct in6_addr daddr;
};

struct ipv6_repr {
	uint8_t tclass;
	uint32_t flow;		/* flow label, 20 bits, host order */
	uint16_t payload_len;	/* host order */
	uint8_t nexthdr;
	uint8_t hop_limit;
	struct in6_addr saddr, daddr;
};

/*
 * ipv6_parse - read the IPv6 fixed header at p.
 * Return: IPV6_HLEN; -EINVAL when len < 40, the version is not 6, or
 * 40 + payload_len > len (ipv6_rcv's truncated-packet check).
 */
int ipv6_parse(const uint8_t *p, size_t len, struct ipv6_repr *r);

/* ipv6_build - write r as the IPv6 fixed header at p (40 bytes). Return: IPV6_HLEN. */
int ipv6_build(uint8_t *p, const struct ipv6_repr *r);

#endif
