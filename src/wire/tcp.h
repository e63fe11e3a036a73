/* SPDX-License-Identifier: MIT */
/*
 * tcp.h - TCP header with options (RFC 9293, 7323, 2018, 7413): parse and build
 *
 * Byte order in struct tcp_repr: ports stay in network order (the socket
 * tables compare them that way); seq, ack, window, urg, the timestamp
 * values and SACK edges are in host order; check is as on the wire.
 *
 * Options are read the way Linux's tcp_parse_options reads them: EOL ends
 * the list; NOP is skipped; an option whose kind is the last byte, whose
 * length is below 2, or whose length runs past the header stops the walk
 * ("silly options"), keeping what was read before it.  A known option with
 * the wrong length is skipped, not rejected.  tcp_hdr_parse_opts() reports
 * such a stop as -EINVAL; tcp_hdr_parse() keeps the segment (Linux does not
 * drop it) and sets opt.malformed.  What depends on connection state or
 * sysctls stays with the caller, as in tcp_parse_options: MSS, window scale
 * and SACK-permitted count only on a SYN outside ESTABLISHED, SACK blocks
 * only once SACK was agreed, a window scale above 14 is clamped to 14,
 * Fast Open only on a SYN.
 *
 * Building writes options in tcp_options_write's order and layout: MSS;
 * SACK-permitted folded into the timestamp word (or NOP NOP TS); NOP NOP
 * SACK-permitted when alone; NOP WS; NOP NOP SACK blocks; Fast Open with NOP
 * padding.  Every option starts 4-byte aligned, so no EOL is needed.
 */
#ifndef USOCK_WIRE_TCP_H
#define USOCK_WIRE_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TCP_HLEN 20
#define TCP_MAX_OPTLEN 40

/* tcp_repr.flags (host order): byte 13 of the header, then byte 12's low nibble << 8 */
#define TCP_HDR_FIN 0x001
#define TCP_HDR_SYN 0x002
#define TCP_HDR_RST 0x004
#define TCP_HDR_PSH 0x008
#define TCP_HDR_ACK 0x010
#define TCP_HDR_URG 0x020
#define TCP_HDR_ECE 0x040
#define TCP_HDR_CWR 0x080
#define TCP_HDR_AE 0x100	/* AccECN (was NS, RFC 3540) */

/* Option kinds */
#define TCP_OPT_EOL 0
#define TCP_OPT_NOP 1
#define TCP_OPT_MSS 2
#define TCP_OPT_WS 3
#define TCP_OPT_SACK_PERM 4
#define TCP_OPT_SACK 5
#define TCP_OPT_TS 8
#define TCP_OPT_MD5 19
#define TCP_OPT_FASTOPEN 34
#define TCP_OPT_EXP 254		/* RFC 6994 experimental */
#define TCP_FASTOPEN_MAGIC 0xF989	/* ExID of the experimental Fast Open option */

#define TCP_MAX_SACKS 4
#define TCP_FASTOPEN_COOKIE_MIN 4
#define TCP_FASTOPEN_COOKIE_MAX 16

/* The wire layout (network order), for sizeof/offsetof. */
struct tcp_hdr {
	uint16_t sport;
	uint16_t dport;
	uint32_t seq;
	uint32_t ack;
	uint8_t doff_res;	/* data offset << 4 | AE and reserved bits */
	uint8_t flags;
	uint16_t window;
	uint16_t check;
	uint16_t urg;
};

struct tcp_sack_block {
	uint32_t start, end;	/* host order */
};

struct tcp_opts {
	uint16_t mss;		/* 0: absent (Linux ignores a zero MSS too) */
	bool has_wscale;
	uint8_t wscale;		/* as sent, not clamped */
	bool sack_perm;
	bool has_ts;
	uint32_t tsval, tsecr;
	uint8_t num_sacks;	/* blocks of the last well-formed SACK option */
	struct tcp_sack_block sacks[TCP_MAX_SACKS];
	bool fastopen;		/* a Fast Open option with an even cookie length */
	bool fastopen_exp;	/* it was the experimental (254, 0xF989) form */
	int8_t fastopen_len;	/* 0: cookie request; 4..16: cookie; -1: bad length (as foc->len) */
	uint8_t fastopen_cookie[TCP_FASTOPEN_COOKIE_MAX];
	bool saw_unknown;	/* an option Linux does not know (opt_rx->saw_unknown) */
	bool malformed;		/* the walk stopped at a silly option (parse only) */
};

struct tcp_repr {
	uint16_t sport, dport;	/* network order */
	uint32_t seq, ack;	/* host order */
	uint8_t doff;		/* header length in 32-bit words (parse only; build derives it) */
	uint16_t flags;		/* TCP_HDR_* */
	uint16_t window;	/* host order, unscaled */
	uint16_t urg;		/* host order */
	uint16_t check;		/* as on the wire (parse only) */
	struct tcp_opts opt;
};

/*
 * tcp_hdr_parse_opts - read the option bytes [p, p+len) into o (zeroed
 * first; later options of a kind overwrite earlier ones, as in Linux).
 * Return: 0; -EINVAL where tcp_parse_options stops at a silly option (the
 * options before it are in o).
 */
int tcp_hdr_parse_opts(const uint8_t *p, size_t len, struct tcp_opts *o);

/*
 * tcp_hdr_parse - read the TCP header at p and its options (a silly option
 * only sets r->opt.malformed: see the top of this file).  len: bytes
 * available (the IP payload).  The checksum is checked apart
 * (tcp_hdr_csum_check).
 * Return: the header length (doff * 4); -EINVAL when len < 20, doff < 5 or
 * doff * 4 > len.
 */
int tcp_hdr_parse(const uint8_t *p, size_t len, struct tcp_repr *r);

/*
 * tcp_hdr_csum_check - @psum: csum_pseudo4/6(.., IPPROTO_TCP, segment
 * length); @sum: csum_partial over the whole segment, header included.
 * Return: 0, or -EINVAL if it does not verify.
 */
int tcp_hdr_csum_check(uint32_t psum, uint32_t sum);

/*
 * tcp_hdr_opts_len - bytes tcp_hdr_build will write for the options in o.
 * Return: 0..40, or -EINVAL when they do not fit in 40 bytes, num_sacks is
 * over 4 or the Fast Open cookie length is not 0 or an even 4..16.
 */
int tcp_hdr_opts_len(const struct tcp_opts *o);

/*
 * tcp_hdr_build - write the header and options of r at p (20 +
 * tcp_hdr_opts_len bytes) with the checksum.  @psum: the pseudo-header
 * sum for the whole segment's length; @payload_sum: csum_partial over the
 * payload (the header is a multiple of 4 bytes, so no rotation is needed).
 * Return: the header length, or -EINVAL as tcp_hdr_opts_len.
 */
int tcp_hdr_build(uint8_t *p, const struct tcp_repr *r, uint32_t psum, uint32_t payload_sum);

#endif
