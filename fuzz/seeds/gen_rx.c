/* SPDX-License-Identifier: MIT */
/*
 * gen_rx.c - writes the seed corpus of fuzz_rx: valid frames for its namespace
 *
 * fuzz_rx's namespace is 198.18.0.1/24 on fz0 (MAC 02:00:00:00:00:01) with
 * UDP sockets on *:7, 198.18.0.1:9, *:53 (SO_BROADCAST, IP_PKTINFO), one
 * bound to 198.18.0.1:40000 connected to 198.18.0.2:7, and a SO_REUSEPORT
 * pair on *:5353.  Each seed is what
 * fuzz_rx reads: records [len:2, big endian][step:1][frame], step being the
 * virtual time (x 10 ms) that passes after the frame; with the top bit of
 * len set, a byte [cut] precedes the frame and fuzz_rx delivers it as a
 * chain (cut bytes, then views of the rest).  The peer is
 * 198.18.0.2 (MAC 02:00:00:00:00:02).  Output is deterministic, so the
 * committed fuzz/seeds/rx/ only changes when this file does.
 *
 * Build and run (from the top of the tree):
 *   cc -std=gnu11 -D_GNU_SOURCE -Isrc fuzz/seeds/gen_rx.c src/wire/[a-z]*.c -o /tmp/gen_rx
 *   /tmp/gen_rx fuzz/seeds/rx
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "wire/arp.h"
#include "wire/csum.h"
#include "wire/eth.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/udp.h"

#define GEN_MAX 65536

static const uint8_t mac_us[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t mac_peer[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t mac_bcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static const char *outdir;
static uint8_t seed[GEN_MAX * 4];
static size_t seedlen;

static uint32_t ip(const char *s)
{
	return inet_addr(s);
}

/* Start a new seed. */
static void seed_begin(void)
{
	seedlen = 0;
}

/* Append one frame record. */
static void seed_frame(const uint8_t *f, size_t len, uint8_t step)
{
	if (len > 0xffff || seedlen + 3 + len > sizeof(seed))
		abort();
	seed[seedlen++] = (uint8_t)(len >> 8);
	seed[seedlen++] = (uint8_t)len;
	seed[seedlen++] = step;
	memcpy(seed + seedlen, f, len);
	seedlen += len;
}

/* Append one frame record, delivered as a chain cut after cut bytes. */
static void seed_frame_chain(const uint8_t *f, size_t len, uint8_t step, uint8_t cut)
{
	if (len > 0x7fff || seedlen + 4 + len > sizeof(seed))
		abort();
	seed[seedlen++] = (uint8_t)(0x80 | len >> 8);
	seed[seedlen++] = (uint8_t)len;
	seed[seedlen++] = step;
	seed[seedlen++] = cut;
	memcpy(seed + seedlen, f, len);
	seedlen += len;
}

static void seed_end(const char *name)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", outdir, name);
	fp = fopen(path, "wb");
	if (!fp || fwrite(seed, 1, seedlen, fp) != seedlen || fclose(fp)) {
		perror(path);
		exit(1);
	}
}

/* Ethernet header at f; returns its length. */
static size_t eth(uint8_t *f, const uint8_t *dst, uint16_t proto)
{
	struct eth_repr e = { .proto = proto };

	memcpy(e.dst, dst, ETH_ALEN);
	memcpy(e.src, mac_peer, ETH_ALEN);
	return (size_t)eth_build(f, &e);
}

static size_t arp(uint8_t *f, const uint8_t *edst, uint16_t op, uint32_t spa, uint32_t tpa,
		  const uint8_t *tha)
{
	struct arp_repr a = { .op = op, .spa = spa, .tpa = tpa };
	size_t n = eth(f, edst, ETH_P_ARP);

	memcpy(a.sha, mac_peer, ETH_ALEN);
	memcpy(a.tha, tha, ETH_ALEN);
	return n + (size_t)arp_build(f + n, &a);
}

struct iph {
	uint32_t saddr, daddr;
	uint8_t proto, tos, ttl;
	uint16_t id, frag_off;
	const uint8_t *opt;
	uint8_t optlen;
};

/* IPv4 header for l4len bytes of payload at p. Return: header length. */
static size_t iphdr(uint8_t *p, const struct iph *h, size_t l4len)
{
	struct ipv4_repr r = {
		.tos = h->tos, .tot_len = (uint16_t)(IPV4_HLEN + h->optlen + l4len),
		.id = h->id, .frag_off = h->frag_off, .ttl = h->ttl ? h->ttl : 64,
		.proto = h->proto, .saddr = h->saddr, .daddr = h->daddr,
		.opt = h->opt, .optlen = h->optlen,
	};

	return (size_t)ipv4_build(p, &r);
}

/* A UDP datagram (header + payload) at p. Return: its length. */
static size_t udp(uint8_t *p, uint32_t saddr, uint32_t daddr, uint16_t sport, uint16_t dport,
		  const void *data, size_t dlen, int nocsum)
{
	struct udp_repr u = { .sport = htons(sport), .dport = htons(dport),
			      .len = (uint16_t)(UDP_HLEN + dlen) };

	memcpy(p + UDP_HLEN, data, dlen);
	udp_hdr_build(p, &u, csum_pseudo4(saddr, daddr, IPPROTO_UDP, u.len),
		      csum_partial(p + UDP_HLEN, dlen, 0));
	if (nocsum)
		memset(p + 6, 0, 2);
	return UDP_HLEN + dlen;
}

/* A whole Ethernet/IPv4/UDP frame. */
static size_t udp_frame(uint8_t *f, const uint8_t *edst, uint32_t saddr, uint32_t daddr,
			uint16_t sport, uint16_t dport, const void *data, size_t dlen, int nocsum)
{
	struct iph h = { .saddr = saddr, .daddr = daddr, .proto = IPPROTO_UDP, .id = 1 };
	uint8_t l4[GEN_MAX];
	size_t n = eth(f, edst, ETH_P_IP), l = udp(l4, saddr, daddr, sport, dport, data, dlen, nocsum);

	n += iphdr(f + n, &h, l);
	memcpy(f + n, l4, l);
	return n + l;
}

/* A whole Ethernet/IPv4/ICMP frame with body [data, dlen). */
static size_t icmp_frame(uint8_t *f, const uint8_t *edst, uint32_t saddr, uint32_t daddr,
			 const struct icmp4_repr *ir, const void *data, size_t dlen)
{
	struct iph h = { .saddr = saddr, .daddr = daddr, .proto = IPPROTO_ICMP, .id = 2 };
	struct icmp4_repr r = *ir;
	size_t n = eth(f, edst, ETH_P_IP);

	n += iphdr(f + n, &h, ICMP_HLEN + dlen);
	r.data = data;
	r.data_len = dlen;
	return n + (size_t)icmp4_hdr_build(f + n, &r);
}

/* The datagram fds[3] sent: 198.18.0.1:40000 -> 198.18.0.2:7, as quoted in an ICMP error. */
static size_t quoted_dgram(uint8_t *p)
{
	struct iph h = { .saddr = ip("198.18.0.1"), .daddr = ip("198.18.0.2"),
			 .proto = IPPROTO_UDP, .id = 77, .frag_off = IPV4_DF };
	uint8_t l4[64];
	size_t l = udp(l4, h.saddr, h.daddr, 40000, 7, "hello", 5, 0);
	size_t n = iphdr(p, &h, l);

	memcpy(p + n, l4, l);
	return n + l;
}

static void gen_arp(void)
{
	uint8_t f[128];
	static const uint8_t zero[ETH_ALEN];

	seed_begin();
	seed_frame(f, arp(f, mac_bcast, ARP_OP_REQUEST, ip("198.18.0.2"), ip("198.18.0.1"), zero), 0);
	seed_end("arp-request");

	seed_begin();
	seed_frame(f, arp(f, mac_us, ARP_OP_REPLY, ip("198.18.0.2"), ip("198.18.0.1"), mac_us), 0);
	seed_end("arp-reply");

	/* gratuitous ARP, then a request answered, then time for the entry to age */
	seed_begin();
	seed_frame(f, arp(f, mac_bcast, ARP_OP_REQUEST, ip("198.18.0.2"), ip("198.18.0.2"), zero), 10);
	seed_frame(f, arp(f, mac_bcast, ARP_OP_REQUEST, ip("198.18.0.2"), ip("198.18.0.1"), zero), 255);
	seed_frame(f, arp(f, mac_us, ARP_OP_REPLY, ip("198.18.0.2"), ip("198.18.0.1"), mac_us), 0);
	seed_end("arp-gratuitous-then-request");
}

static void gen_udp(void)
{
	static const uint16_t ports[] = { 7, 9, 53, 1234 };
	uint8_t f[GEN_MAX];
	char name[64];
	size_t n;

	for (unsigned i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		seed_begin();
		seed_frame(f, udp_frame(f, mac_us, ip("198.18.0.2"), ip("198.18.0.1"), 5555, ports[i],
					"payload", 7, 0), 0);
		snprintf(name, sizeof(name), "udp-port-%u", ports[i]);
		seed_end(name);
	}

	/* no checksum; then padded to the Ethernet minimum (trimmed by IP) */
	seed_begin();
	seed_frame(f, udp_frame(f, mac_us, ip("198.18.0.2"), ip("198.18.0.1"), 5555, 7, "x", 1, 1), 0);
	n = udp_frame(f, mac_us, ip("198.18.0.2"), ip("198.18.0.1"), 5555, 9, "", 0, 0);
	memset(f + n, 0, 60 - n);
	seed_frame(f, 60, 0);
	seed_end("udp-nocsum-and-padded");

	/* broadcasts: subnet and limited, to the SO_BROADCAST socket on *:53 */
	seed_begin();
	seed_frame(f, udp_frame(f, mac_bcast, ip("198.18.0.2"), ip("198.18.0.255"), 5555, 53,
				"bcast", 5, 0), 0);
	seed_frame(f, udp_frame(f, mac_bcast, ip("198.18.0.2"), ip("255.255.255.255"), 5555, 53,
				"bcast", 5, 0), 0);
	seed_end("udp-broadcast");

	/* the SO_REUSEPORT pair: flows from several ports, a broadcast, a burst */
	seed_begin();
	for (uint16_t sp = 1000; sp < 1016; sp++)
		seed_frame(f, udp_frame(f, mac_us, ip("198.18.0.2"), ip("198.18.0.1"), sp, 5353,
					"reuseport-flow", 14, 0), 0);
	seed_frame(f, udp_frame(f, mac_bcast, ip("198.18.0.2"), ip("198.18.0.255"), 5353, 5353,
				"mdns-ish", 8, 0), 0);
	seed_end("udp-reuseport");

	/* chained: cut inside Ethernet, inside the IP header, inside UDP, in the payload */
	seed_begin();
	n = udp_frame(f, mac_us, ip("198.18.0.2"), ip("198.18.0.1"), 5555, 7, "chained", 7, 0);
	seed_frame_chain(f, n, 0, 6);
	seed_frame_chain(f, n, 0, 20);
	seed_frame_chain(f, n, 0, 36);
	seed_frame_chain(f, n, 0, 44);
	seed_end("udp-chained");

	/* from the connected socket's peer to it */
	seed_begin();
	seed_frame(f, udp_frame(f, mac_us, ip("198.18.0.2"), ip("198.18.0.1"), 7, 40000, "echo", 4, 0), 0);
	seed_end("udp-to-connected");

	/* a large datagram (fits one 1500-byte frame) */
	{
		static uint8_t big[1472];

		for (unsigned i = 0; i < sizeof(big); i++)
			big[i] = (uint8_t)i;
		seed_begin();
		seed_frame(f, udp_frame(f, mac_us, ip("198.18.0.2"), ip("198.18.0.1"), 5555, 7, big,
					sizeof(big), 0), 0);
		seed_end("udp-1500");
	}
}

static void gen_icmp(void)
{
	uint8_t f[GEN_MAX], q[128];
	struct icmp4_repr ir = { .type = ICMP4_ECHO, .id = 0x1234, .seq = 1 };
	size_t ql;

	seed_begin();
	seed_frame(f, icmp_frame(f, mac_us, ip("198.18.0.2"), ip("198.18.0.1"), &ir, "ping data", 9), 0);
	seed_end("icmp-echo");

	/* the reply needs ARP: a request goes out, our answer comes in */
	seed_begin();
	seed_frame(f, icmp_frame(f, mac_us, ip("198.18.0.2"), ip("198.18.0.1"), &ir, "ping", 4), 1);
	seed_frame(f, arp(f, mac_us, ARP_OP_REPLY, ip("198.18.0.2"), ip("198.18.0.1"), mac_us), 0);
	seed_end("icmp-echo-then-arp-reply");

	seed_begin();
	seed_frame(f, icmp_frame(f, mac_bcast, ip("198.18.0.2"), ip("198.18.0.255"), &ir, "b", 1), 0);
	seed_end("icmp-echo-broadcast");

	ql = quoted_dgram(q);
	ir = (struct icmp4_repr){ .type = ICMP4_DEST_UNREACH, .code = ICMP4_PORT_UNREACH };
	seed_begin();
	seed_frame(f, icmp_frame(f, mac_us, ip("198.18.0.2"), ip("198.18.0.1"), &ir, q, ql), 0);
	seed_end("icmp-port-unreach");

	ir = (struct icmp4_repr){ .type = ICMP4_DEST_UNREACH, .code = ICMP4_FRAG_NEEDED, .mtu = 1280 };
	seed_begin();
	seed_frame(f, icmp_frame(f, mac_us, ip("198.18.0.2"), ip("198.18.0.1"), &ir, q, ql), 0);
	seed_end("icmp-frag-needed");

	ir = (struct icmp4_repr){ .type = ICMP4_TIME_EXCEEDED, .code = ICMP4_EXC_TTL };
	seed_begin();
	seed_frame(f, icmp_frame(f, mac_us, ip("198.18.0.2"), ip("198.18.0.1"), &ir, q, 28), 0);
	seed_end("icmp-time-exceeded");

	ir = (struct icmp4_repr){ .type = ICMP4_PARAMETERPROB, .pointer = 9 };
	seed_begin();
	seed_frame(f, icmp_frame(f, mac_us, ip("198.18.0.2"), ip("198.18.0.1"), &ir, q, ql), 0);
	seed_end("icmp-param-problem");

	/* an unknown protocol: protocol unreachable goes back */
	{
		struct iph h = { .saddr = ip("198.18.0.2"), .daddr = ip("198.18.0.1"), .proto = 6, .id = 3 };
		size_t n = eth(f, mac_us, ETH_P_IP);

		n += iphdr(f + n, &h, 20);
		memset(f + n, 0x50, 20);
		seed_begin();
		seed_frame(f, n + 20, 0);
		seed_end("ip-unknown-proto");
	}
}

/*
 * Fragments of one UDP datagram to port 7 (payload 3000 bytes): cut at 1480,
 * fed in the order given (indexes into the three pieces).
 */
static void gen_frag(const char *name, const unsigned *order, unsigned n, uint8_t step,
		     const uint8_t *opt, uint8_t optlen)
{
	static uint8_t dg[4000], f[GEN_MAX];
	static const unsigned cut[4] = { 0, 1480, 2960, 3008 };
	uint32_t s = ip("198.18.0.2"), d = ip("198.18.0.1");
	uint8_t data[3000];
	size_t dl;

	for (unsigned i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	dl = udp(dg, s, d, 5555, 7, data, sizeof(data), 0);
	if (dl != cut[3])
		abort();
	seed_begin();
	for (unsigned k = 0; k < n; k++) {
		unsigned i = order[k];
		struct iph h = { .saddr = s, .daddr = d, .proto = IPPROTO_UDP, .id = 0x4242,
				 .frag_off = (uint16_t)((cut[i] / 8) | (i < 2 ? IPV4_MF : 0)),
				 .opt = opt, .optlen = optlen };
		size_t len = cut[i + 1] - cut[i], m = eth(f, mac_us, ETH_P_IP);

		m += iphdr(f + m, &h, len);
		memcpy(f + m, dg + cut[i], len);
		seed_frame(f, m + len, step);
	}
	seed_end(name);
}

static void gen_frags(void)
{
	static const unsigned in_order[] = { 0, 1, 2 }, reversed[] = { 2, 1, 0 },
			      dup[] = { 0, 0, 2, 1 }, missing[] = { 0, 2 };
	/* record route (copied flag clear), then NOP padding */
	static const uint8_t rr[8] = { 7, 7, 4, 0, 0, 0, 0, 1 };

	gen_frag("frag-in-order", in_order, 3, 0, NULL, 0);
	gen_frag("frag-reversed", reversed, 3, 0, NULL, 0);
	gen_frag("frag-duplicate", dup, 4, 0, NULL, 0);
	/* the last piece never comes: the queue expires (ICMP time exceeded) */
	gen_frag("frag-missing", missing, 2, 100, NULL, 0);
	gen_frag("frag-options", in_order, 3, 0, rr, sizeof(rr));
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	if (mkdir(outdir, 0755) && errno != EEXIST) {
		perror(outdir);
		return 1;
	}
	gen_arp();
	gen_udp();
	gen_icmp();
	gen_frags();
	return 0;
}
