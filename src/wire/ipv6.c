/* SPDX-License-Identifier: MIT */
/* ipv6.c - IPv6 fixed header: parse and build */
#include "wire/ipv6.h"

#include <errno.h>
#include <string.h>

#include "wire/wire_internal.h"

_Static_assert(sizeof(struct ipv6_hdr) == IPV6_HLEN, "IPv6 header layout");

int ipv6_parse(const uint8_t *p, size_t len, struct ipv6_repr *r)
{
	uint32_t vtf;
	uint16_t plen;

	if (len < IPV6_HLEN)
		return -EINVAL;
	vtf = wire_be32(p);
	if ((vtf >> 28) != 6)
		return -EINVAL;
	plen = wire_be16(p + offsetof(struct ipv6_hdr, payload_len));
	if ((size_t)plen > len - IPV6_HLEN)
		return -EINVAL;
	r->tclass = (uint8_t)(vtf >> 20);
	r->flow = vtf & 0xfffff;
	r->payload_len = plen;
	r->nexthdr = p[offsetof(struct ipv6_hdr, nexthdr)];
	r->hop_limit = p[offsetof(struct ipv6_hdr, hop_limit)];
	memcpy(&r->saddr, p + offsetof(struct ipv6_hdr, saddr), sizeof(r->saddr));
	memcpy(&r->daddr, p + offsetof(struct ipv6_hdr, daddr), sizeof(r->daddr));
	return IPV6_HLEN;
}

int ipv6_build(uint8_t *p, const struct ipv6_repr *r)
{
	wire_put_be32(p, (uint32_t)6 << 28 | (uint32_t)r->tclass << 20 | (r->flow & 0xfffff));
	wire_put_be16(p + offsetof(struct ipv6_hdr, payload_len), r->payload_len);
	p[offsetof(struct ipv6_hdr, nexthdr)] = r->nexthdr;
	p[offsetof(struct ipv6_hdr, hop_limit)] = r->hop_limit;
	memmove(p + offsetof(struct ipv6_hdr, saddr), &r->saddr, sizeof(r->saddr));
	memmove(p + offsetof(struct ipv6_hdr, daddr), &r->daddr, sizeof(r->daddr));
	return IPV6_HLEN;
}
