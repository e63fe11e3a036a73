/* SPDX-License-Identifier: MIT */
/* udp.c - UDP header: parse, checksum check, build */
#include "wire/udp.h"

#include <errno.h>
#include <sys/socket.h>

#include "wire/csum.h"
#include "wire/wire_internal.h"

_Static_assert(sizeof(struct udp_hdr) == UDP_HLEN, "UDP header layout");

int udp_hdr_parse(const uint8_t *p, size_t len, struct udp_repr *r)
{
	uint16_t ulen;

	if (len < UDP_HLEN)
		return -EINVAL;
	ulen = wire_be16(p + offsetof(struct udp_hdr, len));
	if (ulen < UDP_HLEN || ulen > len)
		return -EINVAL;
	r->sport = wire_raw16(p + offsetof(struct udp_hdr, sport));
	r->dport = wire_raw16(p + offsetof(struct udp_hdr, dport));
	r->len = ulen;
	r->check = wire_raw16(p + offsetof(struct udp_hdr, check));
	return UDP_HLEN;
}

int udp_hdr_parse6(const uint8_t *p, size_t len, struct udp_repr *r)
{
	if (len >= UDP_HLEN && len <= 0xffff && wire_be16(p + offsetof(struct udp_hdr, len)) == 0) {
		r->sport = wire_raw16(p + offsetof(struct udp_hdr, sport));
		r->dport = wire_raw16(p + offsetof(struct udp_hdr, dport));
		r->len = (uint16_t)len;
		r->check = wire_raw16(p + offsetof(struct udp_hdr, check));
		return UDP_HLEN;
	}
	return udp_hdr_parse(p, len, r);
}

int udp_hdr_csum_check(const struct udp_repr *r, uint32_t psum, uint32_t sum, int family)
{
	if (r->check == 0)
		return family == AF_INET ? 0 : -EINVAL;
	return csum_fold(csum_add(psum, sum)) == 0 ? 0 : -EINVAL;
}

int udp_hdr_build(uint8_t *p, const struct udp_repr *r, uint32_t psum, uint32_t payload_sum)
{
	wire_put_raw16(p + offsetof(struct udp_hdr, sport), r->sport);
	wire_put_raw16(p + offsetof(struct udp_hdr, dport), r->dport);
	wire_put_be16(p + offsetof(struct udp_hdr, len), r->len);
	wire_put_raw16(p + offsetof(struct udp_hdr, check), 0);
	wire_put_raw16(p + offsetof(struct udp_hdr, check),
		       csum_fold_udp(csum_hdr_sum(p, UDP_HLEN, csum_add(psum, payload_sum))));
	return UDP_HLEN;
}
