/* SPDX-License-Identifier: MIT */
/*
 * udp.h - UDP header (RFC 768): parse, checksum check, build
 *
 * Byte order in struct udp_repr: ports stay in network order (the socket
 * tables compare them that way); len is in host order; check is as on the
 * wire.
 *
 * Checksum rules differ by family, so verification is apart from parsing:
 * over IPv4 a zero checksum means "none" and is accepted; over IPv6 it is
 * invalid (RFC 8200 8.1; udp6_csum_init drops it).  When sending, a computed
 * 0 goes out as 0xFFFF (csum_fold_udp); a socket with SO_NO_CHECK over IPv4
 * overwrites the field with 0 after building.
 */
#ifndef USOCK_WIRE_UDP_H
#define USOCK_WIRE_UDP_H

#include <stddef.h>
#include <stdint.h>

#define UDP_HLEN 8

/* The wire layout (network order), for sizeof/offsetof. */
struct udp_hdr {
	uint16_t sport;
	uint16_t dport;
	uint16_t len;
	uint16_t check;
};

struct udp_repr {
	uint16_t sport, dport;	/* network order */
	uint16_t len;		/* header + payload, host order */
	uint16_t check;		/* as on the wire */
};

/*
 * udp_hdr_parse - read the UDP header at p; len is the bytes available (the
 * IP payload length).  The datagram is then [p, p + r->len): the caller
 * trims anything after it, as __udp4_lib_rcv does.
 * Return: UDP_HLEN; -EINVAL when len < 8 or the length field is below 8 or
 * above len.
 */
int udp_hdr_parse(const uint8_t *p, size_t len, struct udp_repr *r);

/*
 * udp_hdr_parse6 - udp_hdr_parse() for a datagram carried by IPv6, where a
 * length field of 0 means "up to the end of the IPv6 payload", as
 * __udp6_lib_rcv reads it (meant for jumbograms, taken on any packet).
 * r->len is then len; jumbograms themselves (len > 65535) are not supported.
 * Return: UDP_HLEN; -EINVAL as udp_hdr_parse, or len > 65535 with a 0 field.
 */
int udp_hdr_parse6(const uint8_t *p, size_t len, struct udp_repr *r);

/*
 * udp_hdr_csum_check - verify the checksum of a parsed datagram.
 * @psum: csum_pseudo4/6(saddr, daddr, IPPROTO_UDP, r->len).  @sum:
 * csum_partial over the whole datagram (r->len bytes, header included; use
 * csum_partial_at or pkt_csum_partial when it spans pieces).
 * @family: AF_INET or AF_INET6.
 * Return: 0 when valid (or absent over IPv4), -EINVAL otherwise.
 */
int udp_hdr_csum_check(const struct udp_repr *r, uint32_t psum, uint32_t sum, int family);

/*
 * udp_hdr_build - write the header (ports, r->len) at p and its checksum.
 * @psum: the pseudo-header sum with length r->len.  @payload_sum:
 * csum_partial over the r->len - 8 payload bytes (they start at the even
 * offset 8 of the datagram, so a sum taken from offset 0 of the payload
 * chains without rotation).
 * Return: UDP_HLEN.
 */
int udp_hdr_build(uint8_t *p, const struct udp_repr *r, uint32_t psum, uint32_t payload_sum);

#endif
