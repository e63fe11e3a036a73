/* SPDX-License-Identifier: MIT */
/* eth.c - Ethernet II header: parse and build */
#include "wire/eth.h"

#include <errno.h>
#include <string.h>

#include "wire/wire_internal.h"

_Static_assert(sizeof(struct eth_hdr) == ETH_HLEN, "Ethernet header layout");

int eth_parse(const uint8_t *p, size_t len, struct eth_repr *r)
{
	if (len < ETH_HLEN)
		return -EINVAL;
	memcpy(r->dst, p, ETH_ALEN);
	memcpy(r->src, p + ETH_ALEN, ETH_ALEN);
	r->proto = wire_be16(p + 2 * ETH_ALEN);
	return ETH_HLEN;
}

int eth_build(uint8_t *p, const struct eth_repr *r)
{
	memmove(p, r->dst, ETH_ALEN);
	memmove(p + ETH_ALEN, r->src, ETH_ALEN);
	wire_put_be16(p + 2 * ETH_ALEN, r->proto);
	return ETH_HLEN;
}
