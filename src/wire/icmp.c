/* SPDX-License-Identifier: MIT */
/* icmp.c - ICMPv4 and ICMPv6 headers: parse and build */
#include "wire/icmp.h"

#include <errno.h>
#include <string.h>

#include "wire/csum.h"
#include "wire/wire_internal.h"

_Static_assert(sizeof(struct icmp_hdr) == ICMP_HLEN, "ICMP header layout");

int icmp4_hdr_parse_flags(const uint8_t *p, size_t len, struct icmp4_repr *r, unsigned flags)
{
	const uint8_t *rest = p + offsetof(struct icmp_hdr, rest);

	if (len < ICMP_HLEN)
		return -EINVAL;
	if (!(flags & CSUM_SKIP) && csum_fold(csum_partial(p, len, 0)) != 0)
		return -EINVAL;
	r->type = p[0];
	r->code = p[1];
	r->check = wire_raw16(p + offsetof(struct icmp_hdr, check));
	r->id = wire_be16(rest);
	r->seq = wire_be16(rest + 2);
	r->mtu = r->seq;
	r->pointer = rest[0];
	r->gateway = wire_raw32(rest);
	r->rest = wire_be32(rest);
	r->data = p + ICMP_HLEN;
	r->data_len = len - ICMP_HLEN;
	return ICMP_HLEN;
}

int icmp4_hdr_parse(const uint8_t *p, size_t len, struct icmp4_repr *r)
{
	return icmp4_hdr_parse_flags(p, len, r, 0);
}

/* The four type-dependent bytes of an ICMPv4 header. */
static void icmp4_put_rest(uint8_t *rest, const struct icmp4_repr *r)
{
	switch (r->type) {
	case ICMP4_ECHO:
	case ICMP4_ECHOREPLY:
	case ICMP4_TIMESTAMP:
	case ICMP4_TIMESTAMPREPLY:
	case ICMP4_INFO_REQUEST:
	case ICMP4_INFO_REPLY:
	case ICMP4_ADDRESS:
	case ICMP4_ADDRESSREPLY:
		wire_put_be16(rest, r->id);
		wire_put_be16(rest + 2, r->seq);
		break;
	case ICMP4_DEST_UNREACH:
		/* RFC 1191: the next-hop MTU; otherwise unused, zero. */
		wire_put_be16(rest, 0);
		wire_put_be16(rest + 2, r->code == ICMP4_FRAG_NEEDED ? r->mtu : 0);
		break;
	case ICMP4_PARAMETERPROB:
		wire_put_be32(rest, (uint32_t)r->pointer << 24);
		break;
	case ICMP4_REDIRECT:
		wire_put_raw32(rest, r->gateway);
		break;
	case ICMP4_SOURCE_QUENCH:
	case ICMP4_TIME_EXCEEDED:
		wire_put_be32(rest, 0);
		break;
	default:
		wire_put_be32(rest, r->rest);
		break;
	}
}

int icmp4_hdr_build_hdr(uint8_t *p, const struct icmp4_repr *r, uint32_t body_sum)
{
	p[0] = r->type;
	p[1] = r->code;
	wire_put_raw16(p + offsetof(struct icmp_hdr, check), 0);
	icmp4_put_rest(p + offsetof(struct icmp_hdr, rest), r);
	wire_put_raw16(p + offsetof(struct icmp_hdr, check),
		       csum_fold(csum_partial(p, ICMP_HLEN, body_sum)));
	return ICMP_HLEN;
}

int icmp4_hdr_build(uint8_t *p, const struct icmp4_repr *r)
{
	if (r->data_len && r->data != p + ICMP_HLEN)
		memmove(p + ICMP_HLEN, r->data, r->data_len);
	icmp4_hdr_build_hdr(p, r, csum_partial(p + ICMP_HLEN, r->data_len, 0));
	return (int)(ICMP_HLEN + r->data_len);
}

int icmp6_hdr_parse(const uint8_t *p, size_t len, struct icmp6_repr *r)
{
	const uint8_t *rest = p + offsetof(struct icmp_hdr, rest);

	if (len < ICMP_HLEN)
		return -EINVAL;
	r->type = p[0];
	r->code = p[1];
	r->check = wire_raw16(p + offsetof(struct icmp_hdr, check));
	r->id = wire_be16(rest);
	r->seq = wire_be16(rest + 2);
	r->rest = wire_be32(rest);
	r->mtu = r->rest;
	r->pointer = r->rest;
	r->data = p + ICMP_HLEN;
	r->data_len = len - ICMP_HLEN;
	return ICMP_HLEN;
}

int icmp6_hdr_csum_check(uint32_t psum, uint32_t sum)
{
	return csum_fold(csum_add(psum, sum)) == 0 ? 0 : -EINVAL;
}

static void icmp6_put_rest(uint8_t *rest, const struct icmp6_repr *r)
{
	switch (r->type) {
	case ICMP6_ECHO_REQUEST:
	case ICMP6_ECHO_REPLY:
		wire_put_be16(rest, r->id);
		wire_put_be16(rest + 2, r->seq);
		break;
	case ICMP6_PKT_TOOBIG:
		wire_put_be32(rest, r->mtu);
		break;
	case ICMP6_PARAMPROB:
		wire_put_be32(rest, r->pointer);
		break;
	case ICMP6_DEST_UNREACH:
	case ICMP6_TIME_EXCEED:
		wire_put_be32(rest, 0);
		break;
	default:
		wire_put_be32(rest, r->rest);
		break;
	}
}

int icmp6_hdr_build_hdr(uint8_t *p, const struct icmp6_repr *r, uint32_t sum)
{
	p[0] = r->type;
	p[1] = r->code;
	wire_put_raw16(p + offsetof(struct icmp_hdr, check), 0);
	icmp6_put_rest(p + offsetof(struct icmp_hdr, rest), r);
	wire_put_raw16(p + offsetof(struct icmp_hdr, check),
		       csum_fold(csum_partial(p, ICMP_HLEN, sum)));
	return ICMP_HLEN;
}

int icmp6_hdr_build(uint8_t *p, const struct icmp6_repr *r, uint32_t psum)
{
	if (r->data_len && r->data != p + ICMP_HLEN)
		memmove(p + ICMP_HLEN, r->data, r->data_len);
	icmp6_hdr_build_hdr(p, r, csum_partial(p + ICMP_HLEN, r->data_len, psum));
	return (int)(ICMP_HLEN + r->data_len);
}
