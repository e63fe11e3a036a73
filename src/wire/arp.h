/* SPDX-License-Identifier: MIT */
/*
 * arp.h - ARP for Ethernet and IPv4 (RFC 826): parse and build
 *
 * Byte order in struct arp_repr: op is in host order; the protocol addresses
 * spa/tpa stay in network order (uint32_t, as struct in_addr's s_addr),
 * because the neighbour cache compares them that way; hardware addresses are
 * bytes.  Only the Ethernet/IPv4 form (28 bytes) is accepted.  As Linux's
 * arp_process does on an Ethernet device, hardware type 6 (IEEE 802) is
 * accepted as well as 1; builds always write 1, as arp_create does.  The
 * opcode is not checked here (arp_process drops all but request and reply:
 * the caller does that).
 */
#ifndef USOCK_WIRE_ARP_H
#define USOCK_WIRE_ARP_H

#include <linux/if_ether.h>
#include <stddef.h>
#include <stdint.h>

#define ARP_HLEN 28		/* Ethernet/IPv4 ARP packet */
#define ARP_HTYPE_ETHER 1	/* ARPHRD_ETHER */
#define ARP_HTYPE_IEEE802 6	/* ARPHRD_IEEE802 */
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2

/* The wire layout (network order), for sizeof/offsetof. */
struct arp_hdr {
	uint16_t htype;
	uint16_t ptype;
	uint8_t hlen;
	uint8_t plen;
	uint16_t op;
	uint8_t sha[ETH_ALEN];
	uint8_t spa[4];
	uint8_t tha[ETH_ALEN];
	uint8_t tpa[4];
};

struct arp_repr {
	uint16_t op;		/* host order */
	uint8_t sha[ETH_ALEN];
	uint32_t spa;		/* network order */
	uint8_t tha[ETH_ALEN];
	uint32_t tpa;		/* network order */
};

/*
 * arp_parse - read an Ethernet/IPv4 ARP packet at p.
 * Return: ARP_HLEN; -EINVAL when len < ARP_HLEN or the hardware type is not
 * 1 or 6, the protocol type not 0x0800, or the address lengths not 6 and 4.
 */
int arp_parse(const uint8_t *p, size_t len, struct arp_repr *r);

/* arp_build - write r as an Ethernet/IPv4 ARP packet at p (ARP_HLEN bytes). Return: ARP_HLEN. */
int arp_build(uint8_t *p, const struct arp_repr *r);

#endif
