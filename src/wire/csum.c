/* SPDX-License-Identifier: MIT */
/*
 * csum.c - the Internet checksum: a fast partial sum and its helpers
 *
 * csum_partial() is on the send path of every datagram, so it reads 32-bit
 * words (memcpy: any alignment, one load on CPUs that allow it) into two
 * independent 64-bit accumulators, 32 bytes per iteration.  Adding 32-bit
 * words to 64-bit registers never loses a carry until 2^32 additions, so the
 * loop needs no add-with-carry chain, which lets the CPU run both
 * accumulators in parallel and lets compilers vectorise it; the carries are
 * folded once at the end (2^32 is 1 modulo 0xffff, so a 64-bit sum folds to
 * the same 16-bit value as the word-by-word RFC 1071 sum).
 */
#include "wire/csum.h"

#include <string.h>

/*
 * Bytes summed between folds: each accumulator then takes at most 2^30
 * 32-bit words, far from overflowing 64 bits.  (A 32-bit size_t never gets
 * there; the smaller shift keeps the constant valid on such targets.)
 */
#define CSUM_CHUNK ((size_t)1 << (sizeof(size_t) > 4 ? 33 : 31))

static inline uint32_t csum_ld32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint16_t csum_ld16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint32_t csum_fold64(uint64_t s)
{
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	return (uint32_t)s;
}

/* Sum of [p, p+len) for len a multiple of 4 below CSUM_CHUNK, as a 64-bit accumulator. */
static uint64_t csum_words(const uint8_t *p, size_t len)
{
	uint64_t a = 0, b = 0;

	while (len >= 32) {
		a += csum_ld32(p);
		b += csum_ld32(p + 4);
		a += csum_ld32(p + 8);
		b += csum_ld32(p + 12);
		a += csum_ld32(p + 16);
		b += csum_ld32(p + 20);
		a += csum_ld32(p + 24);
		b += csum_ld32(p + 28);
		p += 32;
		len -= 32;
	}
	while (len >= 4) {
		a += csum_ld32(p);
		p += 4;
		len -= 4;
	}
	return a + b;
}

uint32_t csum_partial(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *p = buf;
	uint64_t s = sum;

	if (!len)
		return sum;	/* p may be NULL then */
	while (len >= CSUM_CHUNK) {
		s = csum_fold64(s + csum_words(p, CSUM_CHUNK));
		p += CSUM_CHUNK;
		len -= CSUM_CHUNK;
	}
	s += csum_words(p, len & ~(size_t)3);
	p += len & ~(size_t)3;
	if (len & 2) {
		s += csum_ld16(p);
		p += 2;
	}
	if (len & 1) {
		/* The lone byte is the first (high-order on the wire) byte of a word. */
		uint8_t w[2] = { p[0], 0 };

		s += csum_ld16(w);
	}
	return csum_fold64(s);
}

uint32_t csum_pseudo4(uint32_t saddr, uint32_t daddr, uint8_t proto, uint32_t len)
{
	uint64_t s = (uint64_t)saddr + daddr;

	s += htons(proto);
	s += htons((uint16_t)len);
	return csum_fold64(s);
}

uint32_t csum_pseudo6(const struct in6_addr *saddr, const struct in6_addr *daddr,
		      uint8_t nexthdr, uint32_t len)
{
	uint64_t s = 0;
	int i;

	for (i = 0; i < 16; i += 4)
		s += csum_ld32(saddr->s6_addr + i) + (uint64_t)csum_ld32(daddr->s6_addr + i);
	s += htonl(len);
	s += htons(nexthdr);
	return csum_fold64(s);
}

void csum_replace2(void *check, uint16_t from, uint16_t to)
{
	uint16_t c;
	uint32_t s;

	memcpy(&c, check, sizeof(c));
	s = (uint32_t)(uint16_t)~c + (uint16_t)~from + to;
	c = csum_fold(s);
	memcpy(check, &c, sizeof(c));
}

void csum_replace4(void *check, uint32_t from, uint32_t to)
{
	uint16_t c;
	uint64_t s;

	memcpy(&c, check, sizeof(c));
	s = (uint64_t)(uint16_t)~c + (uint32_t)~from + to;
	c = csum_fold(csum_fold64(s));
	memcpy(check, &c, sizeof(c));
}
