/* SPDX-License-Identifier: MIT */
/* arp.c - ARP for Ethernet/IPv4: parse and build */
#include "wire/arp.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "wire/wire_internal.h"

_Static_assert(sizeof(struct arp_hdr) == ARP_HLEN, "ARP layout");
_Static_assert(offsetof(struct arp_hdr, tpa) == 24, "ARP layout");

int arp_parse(const uint8_t *p, size_t len, struct arp_repr *r)
{
	uint16_t htype;

	if (len < ARP_HLEN)
		return -EINVAL;
	htype = wire_be16(p + offsetof(struct arp_hdr, htype));
	/* IEEE 802 hardware type too: an Ethernet device takes both (arp_process). */
	if ((htype != ARP_HTYPE_ETHER && htype != ARP_HTYPE_IEEE802) ||
	    wire_be16(p + offsetof(struct arp_hdr, ptype)) != ETH_P_IP ||
	    p[offsetof(struct arp_hdr, hlen)] != ETH_ALEN ||
	    p[offsetof(struct arp_hdr, plen)] != 4)
		return -EINVAL;
	r->op = wire_be16(p + offsetof(struct arp_hdr, op));
	memcpy(r->sha, p + offsetof(struct arp_hdr, sha), ETH_ALEN);
	r->spa = wire_raw32(p + offsetof(struct arp_hdr, spa));
	memcpy(r->tha, p + offsetof(struct arp_hdr, tha), ETH_ALEN);
	r->tpa = wire_raw32(p + offsetof(struct arp_hdr, tpa));
	return ARP_HLEN;
}

int arp_build(uint8_t *p, const struct arp_repr *r)
{
	wire_put_be16(p + offsetof(struct arp_hdr, htype), ARP_HTYPE_ETHER);
	wire_put_be16(p + offsetof(struct arp_hdr, ptype), ETH_P_IP);
	p[offsetof(struct arp_hdr, hlen)] = ETH_ALEN;
	p[offsetof(struct arp_hdr, plen)] = 4;
	wire_put_be16(p + offsetof(struct arp_hdr, op), r->op);
	memmove(p + offsetof(struct arp_hdr, sha), r->sha, ETH_ALEN);
	wire_put_raw32(p + offsetof(struct arp_hdr, spa), r->spa);
	memmove(p + offsetof(struct arp_hdr, tha), r->tha, ETH_ALEN);
	wire_put_raw32(p + offsetof(struct arp_hdr, tpa), r->tpa);
	return ARP_HLEN;
}
