/* SPDX-License-Identifier: MIT */
/*
 * eth.h - Ethernet II header (destination, source, EtherType): parse and build
 *
 * Byte order in struct eth_repr: the EtherType is in host order (compare it
 * with ETH_P_IP etc. from <linux/if_ether.h>); MAC addresses are bytes as on
 * the wire.  The 14-byte header carries no length, so frames padded to
 * ETH_ZLEN leave padding behind the network header: the IP layer trims to
 * its own total length.  802.1Q tags are not parsed here (the EtherType is
 * then ETH_P_8021Q and the caller decides).
 */
#ifndef USOCK_WIRE_ETH_H
#define USOCK_WIRE_ETH_H

#include <linux/if_ether.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The wire layout (network order), for sizeof/offsetof; parsers never cast packet bytes to it. */
struct eth_hdr {
	uint8_t dst[ETH_ALEN];
	uint8_t src[ETH_ALEN];
	uint16_t proto;
};

struct eth_repr {
	uint8_t dst[ETH_ALEN];
	uint8_t src[ETH_ALEN];
	uint16_t proto;		/* EtherType, host order */
};

/*
 * eth_parse - read the Ethernet header at p.
 * Return: ETH_HLEN, or -EINVAL when len < ETH_HLEN.
 */
int eth_parse(const uint8_t *p, size_t len, struct eth_repr *r);

/* eth_build - write r as an Ethernet header at p (ETH_HLEN bytes). Return: ETH_HLEN. */
int eth_build(uint8_t *p, const struct eth_repr *r);

static inline bool eth_is_multicast(const uint8_t addr[ETH_ALEN])
{
	return addr[0] & 1;
}

static inline bool eth_is_broadcast(const uint8_t addr[ETH_ALEN])
{
	return (addr[0] & addr[1] & addr[2] & addr[3] & addr[4] & addr[5]) == 0xff;
}

#endif
