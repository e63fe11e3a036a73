/* SPDX-License-Identifier: MIT */
/*
 * csum.h - the Internet checksum (RFC 1071): partial sums, folding,
 * pseudo-headers and incremental update (RFC 1624)
 *
 * The accumulator.  A partial sum (uint32_t, "unfolded") is the one's
 * complement sum of the 16-bit words of the data *as the CPU loads them from
 * memory*, i.e. in memory order, not in host order: on a little-endian CPU
 * each word is byte-swapped relative to the wire.  One's complement addition
 * commutes with byte swapping, so the folded, complemented result is already
 * in network byte order when stored back as it comes: csum_fold()'s value
 * goes into the packet with memcpy or a plain uint16_t store, never htons().
 * The same rule applies to everything added to a sum: a field taken from a
 * packet (network order) is added as is; a host-order number must first be
 * converted (htons/htonl), which the pseudo-header helpers do for you.
 *
 * Chaining across buffers.  csum_partial() treats its buffer as starting at
 * an even byte offset of the message.  To continue a sum with a buffer that
 * starts at an odd offset (because an earlier piece had odd length), use
 * csum_partial_at(), which takes the piece's byte offset in the message and
 * byte-rotates the piece's sum when that offset is odd; or compute the
 * piece's own sum and join it with csum_block_add().  So any split works:
 *
 *	sum = 0; off = 0;
 *	for each piece (p, n): sum = csum_partial_at(p, n, sum, off); off += n;
 *
 * Verifying.  A received header or segment is valid when the sum over it,
 * checksum field included (plus the pseudo-header where the protocol has
 * one), folds to zero: csum_fold(sum) == 0.
 */
#ifndef USOCK_WIRE_CSUM_H
#define USOCK_WIRE_CSUM_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Parse flag (ipv4_parse_flags, icmp4_hdr_parse_flags): the checksum was already verified (loopback). */
#define CSUM_SKIP 0x1

/*
 * csum_partial - add the 16-bit words of [p, p+len) to sum.
 * @p may have any alignment and @len any value; an odd trailing byte counts
 * as the high-order byte of a word padded with zero, as RFC 1071 says.
 * Return: the new unfolded accumulator (never needs folding by the caller
 * before being passed back in).
 */
uint32_t csum_partial(const void *p, size_t len, uint32_t sum);

/* csum_add - one's complement addition of two accumulators (end-around carry). */
static inline uint32_t csum_add(uint32_t a, uint32_t b)
{
	uint32_t r = a + b;

	return r + (r < b);
}

/* csum_sub - remove b's contribution from a. */
static inline uint32_t csum_sub(uint32_t a, uint32_t b)
{
	return csum_add(a, ~b);
}

/*
 * csum_block_add - add part, the sum of a piece that starts at byte offset
 * @offset of the message, to sum.  A piece at an odd offset has its bytes in
 * the other half of every word; rotating a 32-bit accumulator by 8 bits swaps
 * the bytes of its folded value, which puts them back.
 * Return: the combined accumulator.
 */
static inline uint32_t csum_block_add(uint32_t sum, uint32_t part, size_t offset)
{
	if (offset & 1)
		part = part >> 8 | part << 24;
	return csum_add(sum, part);
}

/*
 * csum_partial_at - csum_partial() for a piece at byte offset @offset of the
 * message whose running sum is @sum (see "Chaining" above).
 * Return: the new accumulator.
 */
static inline uint32_t csum_partial_at(const void *p, size_t len, uint32_t sum, size_t offset)
{
	if (!(offset & 1))
		return csum_partial(p, len, sum);
	return csum_block_add(sum, csum_partial(p, len, 0), offset);
}

/*
 * csum_fold - fold an accumulator to 16 bits and complement it.
 * Return: the checksum, in network byte order as stored (see the top of this
 * file); 0 for a correct message when the sum covered its checksum field.
 */
/*
 * csum_hdr_sum - the unfolded sum of n (even, small) bytes, inline: for the
 * fixed headers of the fast path (an 8-byte UDP header, a 20-byte IPv4
 * header), where a call into csum_partial costs more than the sum itself.
 */
static inline uint32_t csum_hdr_sum(const void *p, size_t n, uint32_t sum)
{
	const uint8_t *b = (const uint8_t *)p;
	uint64_t s = sum;
	for (size_t i = 0; i + 4 <= n; i += 4) {
		uint32_t w;
		__builtin_memcpy(&w, b + i, 4);
		s += w;
	}
	if (n & 2) {
		uint16_t h;
		__builtin_memcpy(&h, b + (n & ~(size_t)3), 2);
		s += h;
	}
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	return (uint32_t)s;
}

static inline uint16_t csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * csum_fold_udp - csum_fold() for a UDP checksum being sent: a computed 0 is
 * sent as 0xFFFF (RFC 768; 0 on the wire means "no checksum" over IPv4).
 */
static inline uint16_t csum_fold_udp(uint32_t sum)
{
	uint16_t c = csum_fold(sum);

	return c ? c : 0xffff;
}

/*
 * csum_pseudo4 - sum of the IPv4 pseudo-header (RFC 768/793).
 * @saddr, @daddr: network order.  @proto: IPPROTO_*.  @len: upper-layer
 * length (header + payload), host order, at most 0xffff.
 * Return: an accumulator to pass as csum_partial()'s @sum.
 */
uint32_t csum_pseudo4(uint32_t saddr, uint32_t daddr, uint8_t proto, uint32_t len);

/*
 * csum_pseudo6 - sum of the IPv6 pseudo-header (RFC 8200 section 8.1).
 * @len: upper-layer packet length, host order.  @nexthdr: upper-layer protocol.
 * Return: an accumulator to pass as csum_partial()'s @sum.
 */
uint32_t csum_pseudo6(const struct in6_addr *saddr, const struct in6_addr *daddr,
		      uint8_t nexthdr, uint32_t len);

/*
 * csum_replace2 - update the checksum at @check (2 bytes, any alignment) for
 * a 16-bit field changing from @from to @to, both as stored in the packet
 * (network order), by RFC 1624 eqn. 3, which never produces -0 from a valid
 * checksum.  For UDP the caller keeps the special cases: leave a zero
 * (absent) IPv4 checksum alone, and store a resulting 0 as 0xFFFF.
 */
void csum_replace2(void *check, uint16_t from, uint16_t to);

/* csum_replace4 - csum_replace2() for a 32-bit field (an IPv4 address), network order. */
void csum_replace4(void *check, uint32_t from, uint32_t to);

#endif
