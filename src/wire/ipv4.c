/* SPDX-License-Identifier: MIT */
/* ipv4.c - IPv4 header: parse and build */
#include "wire/ipv4.h"

#include <errno.h>
#include <string.h>

#include "wire/csum.h"
#include "wire/wire_internal.h"

_Static_assert(sizeof(struct ipv4_hdr) == IPV4_HLEN, "IPv4 header layout");

int ipv4_parse_flags(const uint8_t *p, size_t len, struct ipv4_repr *r, unsigned flags)
{
	unsigned ihl, hlen, tot_len;

	if (len < IPV4_HLEN)
		return -EINVAL;
	ihl = p[0] & 0x0f;
	if ((p[0] >> 4) != 4 || ihl < 5)
		return -EINVAL;
	hlen = ihl * 4;
	if (hlen > len)
		return -EINVAL;
	if (!(flags & CSUM_SKIP) && csum_fold(csum_hdr_sum(p, hlen, 0)) != 0)
		return -EINVAL;
	tot_len = wire_be16(p + offsetof(struct ipv4_hdr, tot_len));
	if (tot_len > len || tot_len < hlen)
		return -EINVAL;

	r->ihl = (uint8_t)ihl;
	r->tos = p[offsetof(struct ipv4_hdr, tos)];
	r->tot_len = (uint16_t)tot_len;
	r->id = wire_be16(p + offsetof(struct ipv4_hdr, id));
	r->frag_off = wire_be16(p + offsetof(struct ipv4_hdr, frag_off));
	r->ttl = p[offsetof(struct ipv4_hdr, ttl)];
	r->proto = p[offsetof(struct ipv4_hdr, proto)];
	r->check = wire_raw16(p + offsetof(struct ipv4_hdr, check));
	r->saddr = wire_raw32(p + offsetof(struct ipv4_hdr, saddr));
	r->daddr = wire_raw32(p + offsetof(struct ipv4_hdr, daddr));
	r->optlen = (uint8_t)(hlen - IPV4_HLEN);
	r->opt = r->optlen ? p + IPV4_HLEN : NULL;
	return (int)hlen;
}

int ipv4_parse(const uint8_t *p, size_t len, struct ipv4_repr *r)
{
	return ipv4_parse_flags(p, len, r, 0);
}

int ipv4_build(uint8_t *p, const struct ipv4_repr *r)
{
	unsigned hlen = IPV4_HLEN + r->optlen;

	if (r->optlen > IPV4_MAX_OPTLEN || (r->optlen & 3))
		return -EINVAL;
	if (r->optlen)
		memmove(p + IPV4_HLEN, r->opt, r->optlen);
	p[0] = (uint8_t)(4 << 4 | hlen / 4);
	p[offsetof(struct ipv4_hdr, tos)] = r->tos;
	wire_put_be16(p + offsetof(struct ipv4_hdr, tot_len), r->tot_len);
	wire_put_be16(p + offsetof(struct ipv4_hdr, id), r->id);
	wire_put_be16(p + offsetof(struct ipv4_hdr, frag_off), r->frag_off);
	p[offsetof(struct ipv4_hdr, ttl)] = r->ttl;
	p[offsetof(struct ipv4_hdr, proto)] = r->proto;
	wire_put_raw16(p + offsetof(struct ipv4_hdr, check), 0);
	wire_put_raw32(p + offsetof(struct ipv4_hdr, saddr), r->saddr);
	wire_put_raw32(p + offsetof(struct ipv4_hdr, daddr), r->daddr);
	wire_put_raw16(p + offsetof(struct ipv4_hdr, check), csum_fold(csum_hdr_sum(p, hlen, 0)));
	return (int)hlen;
}
