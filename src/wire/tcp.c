/* SPDX-License-Identifier: MIT */
/* tcp.c - TCP header and options: parse and build */
#include "wire/tcp.h"

#include <errno.h>
#include <string.h>

#include "wire/csum.h"
#include "wire/wire_internal.h"

_Static_assert(sizeof(struct tcp_hdr) == TCP_HLEN, "TCP header layout");

#define TCP_OLEN_MSS 4
#define TCP_OLEN_WS 3
#define TCP_OLEN_SACK_PERM 2
#define TCP_OLEN_TS 10
#define TCP_OLEN_SACK_BASE 2
#define TCP_OLEN_SACK_PERBLOCK 8
#define TCP_OLEN_FASTOPEN_BASE 2
#define TCP_OLEN_EXP_FASTOPEN_BASE 4

/*
 * A Fast Open cookie of clen bytes at c: only an even, non-negative length
 * counts; 4..16 is a cookie, 0 a request, anything else marks the length bad
 * (tcp_parse_fastopen_option, without its SYN test: the caller's).
 */
static void tcp_opt_fastopen(struct tcp_opts *o, int clen, const uint8_t *c, bool exp)
{
	if (clen < 0 || (clen & 1))
		return;
	/* No stale bytes of an earlier cookie behind a shorter one: reprs compare whole. */
	memset(o->fastopen_cookie, 0, sizeof(o->fastopen_cookie));
	if (clen >= TCP_FASTOPEN_COOKIE_MIN && clen <= TCP_FASTOPEN_COOKIE_MAX)
		memcpy(o->fastopen_cookie, c, (size_t)clen);
	else if (clen != 0)
		clen = -1;
	o->fastopen = true;
	o->fastopen_exp = exp;
	o->fastopen_len = (int8_t)clen;
}

/* One option of known-good framing: kind, its total size, and its value bytes. */
static void tcp_opt_one(struct tcp_opts *o, uint8_t kind, unsigned size, const uint8_t *v)
{
	unsigned i, n;

	switch (kind) {
	case TCP_OPT_MSS:
		if (size == TCP_OLEN_MSS && wire_be16(v))
			o->mss = wire_be16(v);
		break;
	case TCP_OPT_WS:
		if (size == TCP_OLEN_WS) {
			o->has_wscale = true;
			o->wscale = v[0];
		}
		break;
	case TCP_OPT_TS:
		if (size == TCP_OLEN_TS) {
			o->has_ts = true;
			o->tsval = wire_be32(v);
			o->tsecr = wire_be32(v + 4);
		}
		break;
	case TCP_OPT_SACK_PERM:
		if (size == TCP_OLEN_SACK_PERM)
			o->sack_perm = true;
		break;
	case TCP_OPT_SACK:
		/* tcp_parse_options remembers the last well-formed one; tcp_sacktag_write_queue reads at most 4 blocks. */
		if (size >= TCP_OLEN_SACK_BASE + TCP_OLEN_SACK_PERBLOCK &&
		    (size - TCP_OLEN_SACK_BASE) % TCP_OLEN_SACK_PERBLOCK == 0) {
			n = (size - TCP_OLEN_SACK_BASE) / TCP_OLEN_SACK_PERBLOCK;
			if (n > TCP_MAX_SACKS)
				n = TCP_MAX_SACKS;
			/* No stale blocks of an earlier, longer SACK behind this one. */
			memset(o->sacks, 0, sizeof(o->sacks));
			for (i = 0; i < n; i++) {
				o->sacks[i].start = wire_be32(v + 8 * i);
				o->sacks[i].end = wire_be32(v + 8 * i + 4);
			}
			o->num_sacks = (uint8_t)n;
		}
		break;
	case TCP_OPT_MD5:
		break;	/* checked by the caller against the key, as tcp_v4_rcv does */
	case TCP_OPT_FASTOPEN:
		tcp_opt_fastopen(o, (int)size - TCP_OLEN_FASTOPEN_BASE, v, false);
		break;
	case TCP_OPT_EXP:
		if (size >= TCP_OLEN_EXP_FASTOPEN_BASE && wire_be16(v) == TCP_FASTOPEN_MAGIC)
			tcp_opt_fastopen(o, (int)size - TCP_OLEN_EXP_FASTOPEN_BASE, v + 2, true);
		else
			o->saw_unknown = true;	/* SMC is not offered */
		break;
	default:
		o->saw_unknown = true;
		break;
	}
}

int tcp_hdr_parse_opts(const uint8_t *p, size_t len, struct tcp_opts *o)
{
	size_t i = 0;

	memset(o, 0, sizeof(*o));
	while (i < len) {
		uint8_t kind = p[i];
		unsigned size;

		if (kind == TCP_OPT_EOL)
			return 0;
		if (kind == TCP_OPT_NOP) {
			i++;
			continue;
		}
		/* The three places tcp_parse_options gives up. */
		if (len - i < 2)
			return -EINVAL;
		size = p[i + 1];
		if (size < 2 || size > len - i)
			return -EINVAL;
		tcp_opt_one(o, kind, size, p + i + 2);
		i += size;
	}
	return 0;
}

int tcp_hdr_parse(const uint8_t *p, size_t len, struct tcp_repr *r)
{
	unsigned doff, hlen;

	if (len < TCP_HLEN)
		return -EINVAL;
	doff = p[offsetof(struct tcp_hdr, doff_res)] >> 4;
	hlen = doff * 4;
	if (doff < 5 || hlen > len)
		return -EINVAL;
	r->sport = wire_raw16(p + offsetof(struct tcp_hdr, sport));
	r->dport = wire_raw16(p + offsetof(struct tcp_hdr, dport));
	r->seq = wire_be32(p + offsetof(struct tcp_hdr, seq));
	r->ack = wire_be32(p + offsetof(struct tcp_hdr, ack));
	r->doff = (uint8_t)doff;
	r->flags = (uint16_t)((p[offsetof(struct tcp_hdr, doff_res)] & 0x0f) << 8 |
			      p[offsetof(struct tcp_hdr, flags)]);
	r->window = wire_be16(p + offsetof(struct tcp_hdr, window));
	r->check = wire_raw16(p + offsetof(struct tcp_hdr, check));
	r->urg = wire_be16(p + offsetof(struct tcp_hdr, urg));
	if (tcp_hdr_parse_opts(p + TCP_HLEN, hlen - TCP_HLEN, &r->opt) < 0)
		r->opt.malformed = true;
	return (int)hlen;
}

int tcp_hdr_csum_check(uint32_t psum, uint32_t sum)
{
	return csum_fold(csum_add(psum, sum)) == 0 ? 0 : -EINVAL;
}

/* Bytes of the Fast Open option as tcp_options_write pads it, or -EINVAL. */
static int tcp_fastopen_size(const struct tcp_opts *o)
{
	int clen = o->fastopen_len;
	int base = o->fastopen_exp ? TCP_OLEN_EXP_FASTOPEN_BASE : TCP_OLEN_FASTOPEN_BASE;

	if (clen != 0 && (clen < TCP_FASTOPEN_COOKIE_MIN || clen > TCP_FASTOPEN_COOKIE_MAX ||
			  (clen & 1)))
		return -EINVAL;
	return (base + clen + 3) & ~3;
}

int tcp_hdr_opts_len(const struct tcp_opts *o)
{
	int n = 0, fo;

	if (o->num_sacks > TCP_MAX_SACKS)
		return -EINVAL;
	if (o->mss)
		n += 4;
	if (o->has_ts)
		n += 12;
	if (o->sack_perm && !o->has_ts)
		n += 4;
	if (o->has_wscale)
		n += 4;
	if (o->num_sacks)
		n += 4 + 8 * o->num_sacks;
	if (o->fastopen) {
		fo = tcp_fastopen_size(o);
		if (fo < 0)
			return fo;
		n += fo;
	}
	return n <= TCP_MAX_OPTLEN ? n : -EINVAL;
}

/* Write the options of o at q; the caller checked them with tcp_hdr_opts_len. Return: bytes written. */
static size_t tcp_opts_write(uint8_t *q, const struct tcp_opts *o)
{
	uint8_t *start = q;
	unsigned i;

	if (o->mss) {
		q[0] = TCP_OPT_MSS;
		q[1] = TCP_OLEN_MSS;
		wire_put_be16(q + 2, o->mss);
		q += 4;
	}
	if (o->has_ts) {
		/* SACK-permitted takes the two NOPs' place in front of the timestamps. */
		if (o->sack_perm) {
			q[0] = TCP_OPT_SACK_PERM;
			q[1] = TCP_OLEN_SACK_PERM;
		} else {
			q[0] = TCP_OPT_NOP;
			q[1] = TCP_OPT_NOP;
		}
		q[2] = TCP_OPT_TS;
		q[3] = TCP_OLEN_TS;
		wire_put_be32(q + 4, o->tsval);
		wire_put_be32(q + 8, o->tsecr);
		q += 12;
	} else if (o->sack_perm) {
		q[0] = TCP_OPT_NOP;
		q[1] = TCP_OPT_NOP;
		q[2] = TCP_OPT_SACK_PERM;
		q[3] = TCP_OLEN_SACK_PERM;
		q += 4;
	}
	if (o->has_wscale) {
		q[0] = TCP_OPT_NOP;
		q[1] = TCP_OPT_WS;
		q[2] = TCP_OLEN_WS;
		q[3] = o->wscale;
		q += 4;
	}
	if (o->num_sacks) {
		q[0] = TCP_OPT_NOP;
		q[1] = TCP_OPT_NOP;
		q[2] = TCP_OPT_SACK;
		q[3] = (uint8_t)(TCP_OLEN_SACK_BASE + TCP_OLEN_SACK_PERBLOCK * o->num_sacks);
		q += 4;
		for (i = 0; i < o->num_sacks; i++) {
			wire_put_be32(q, o->sacks[i].start);
			wire_put_be32(q + 4, o->sacks[i].end);
			q += 8;
		}
	}
	if (o->fastopen) {
		unsigned clen = (unsigned)o->fastopen_len, olen;

		if (o->fastopen_exp) {
			olen = TCP_OLEN_EXP_FASTOPEN_BASE + clen;
			q[0] = TCP_OPT_EXP;
			q[1] = (uint8_t)olen;
			wire_put_be16(q + 2, TCP_FASTOPEN_MAGIC);
		} else {
			olen = TCP_OLEN_FASTOPEN_BASE + clen;
			q[0] = TCP_OPT_FASTOPEN;
			q[1] = (uint8_t)olen;
		}
		memcpy(q + olen - clen, o->fastopen_cookie, clen);
		if ((olen & 3) == 2) {
			q[olen] = TCP_OPT_NOP;
			q[olen + 1] = TCP_OPT_NOP;
		}
		q += (olen + 3) & ~3u;
	}
	return (size_t)(q - start);
}

int tcp_hdr_build(uint8_t *p, const struct tcp_repr *r, uint32_t psum, uint32_t payload_sum)
{
	int olen = tcp_hdr_opts_len(&r->opt);
	unsigned hlen;

	if (olen < 0)
		return olen;
	hlen = TCP_HLEN + (unsigned)olen;
	wire_put_raw16(p + offsetof(struct tcp_hdr, sport), r->sport);
	wire_put_raw16(p + offsetof(struct tcp_hdr, dport), r->dport);
	wire_put_be32(p + offsetof(struct tcp_hdr, seq), r->seq);
	wire_put_be32(p + offsetof(struct tcp_hdr, ack), r->ack);
	p[offsetof(struct tcp_hdr, doff_res)] = (uint8_t)((hlen / 4) << 4 | ((r->flags >> 8) & 0x0f));
	p[offsetof(struct tcp_hdr, flags)] = (uint8_t)r->flags;
	wire_put_be16(p + offsetof(struct tcp_hdr, window), r->window);
	wire_put_raw16(p + offsetof(struct tcp_hdr, check), 0);
	wire_put_be16(p + offsetof(struct tcp_hdr, urg), r->urg);
	tcp_opts_write(p + TCP_HLEN, &r->opt);
	wire_put_raw16(p + offsetof(struct tcp_hdr, check),
		       csum_fold(csum_partial(p, hlen, csum_add(psum, payload_sum))));
	return (int)hlen;
}
