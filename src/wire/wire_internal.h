/* SPDX-License-Identifier: MIT */
/*
 * wire_internal.h - byte-order loads and stores shared by the wire parsers
 *
 * Packet bytes have no alignment guarantee (an IPv4 header sits 14 bytes
 * into an Ethernet frame), so every multi-byte field goes through memcpy,
 * which compilers turn into one plain load or store where the CPU allows.
 * Private to src/wire/.
 */
#ifndef USOCK_WIRE_WIRE_INTERNAL_H
#define USOCK_WIRE_WIRE_INTERNAL_H

#include <stdint.h>
#include <string.h>

static inline uint16_t wire_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t wire_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void wire_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void wire_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Raw loads/stores: the value keeps the wire's byte order (addresses, ports, checksums). */
static inline uint16_t wire_raw16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint32_t wire_raw32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline void wire_put_raw16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

static inline void wire_put_raw32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

#endif
