/* SPDX-License-Identifier: MIT */
/*
 * fuzz_frag.c - libFuzzer target: arbitrary fragment sequences into ip4_defrag
 *
 * The input is a script.  Its first byte picks ipfrag_high_thresh and
 * ipfrag_time; then each record is an opcode and its operands:
 *
 *   feed	one fragment made from the bytes: id (mostly 4 values, so
 *		queues collide; sometimes 128, to fill the table), offset,
 *		length, MF/DF/reserved bits, ECN, header options (raw
 *		bytes), and how the packet is built: one linear block,
 *		header block + views of another buffer (what ip4_fragment
 *		makes), or shared with a reference the target keeps (which
 *		must come back unchanged)
 *   time	advance the virtual clock and fire due timers (expiry, ICMP)
 *   split	run ip4_fragment on a datagram and feed the pieces in an
 *		order the bytes choose (in order, reversed, one dropped, the
 *		first fed twice, the first time still shared)
 *
 * Payload byte j of datagram id is always pattern(id, j), so whatever comes
 * out of ip4_defrag is checked byte for byte, as is its header (checksum,
 * MF and offset clear, length).  After each input every queue is expired
 * and the pools must be full and the table empty: a leak aborts.
 *
 * The namespace is a real one (virtual time) with the whole library linked
 * in, so an expired queue goes through the real icmp4_send: a sink device
 * with a permanent neighbour takes what leaves, and every frame must be an
 * ICMP time exceeded (reassembly) quoting an offset-0 fragment, as
 * ip_expire sends.  Its packet pools are swapped for small ones so that
 * exhaustion paths run too.
 */
#include <arpa/inet.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf/pkt.h"
#include "core/arena.h"
#include "core/clock.h"
#include "core/timer.h"
#include "ip/ip4.h"
#include "link/link.h"
#include "net/netns_internal.h"
#include "usock.h"
#include "wire/csum.h"
#include "wire/eth.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

#define FZ_MAX_SPLIT 1400	/* 65535 / 48 + 1: fragments of one split at mtu 68 */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct netns *ns;
static struct netdev *fdev;
static uint8_t dgbuf[65536];

/*
 * The sink: only ICMP time exceeded (fragment reassembly) may leave, and it
 * quotes the first fragment (offset 0, ours), as ip_expire does.
 */
static int fz_xmit(struct netdev *d, struct pkt *pk)
{
	uint8_t f[ETH_HLEN + IPV4_MAX_HLEN + ICMP_HLEN + IPV4_HLEN];
	size_t n = pkt_copy_out(pk, 0, f, sizeof(f));
	const uint8_t *ip = f + ETH_HLEN, *ic, *q;
	unsigned ihl;

	(void)d;
	pkt_free(pk);
	if (n < ETH_HLEN + IPV4_HLEN || f[12] != 0x08 || f[13] != 0x00 || ip[9] != IPPROTO_ICMP)
		abort();
	ihl = (ip[0] & 0x0fu) * 4;
	if (n < ETH_HLEN + ihl + ICMP_HLEN + IPV4_HLEN)
		abort();
	ic = ip + ihl;
	q = ic + ICMP_HLEN;
	if (ic[0] != ICMP4_TIME_EXCEEDED || ic[1] != ICMP4_EXC_FRAGTIME ||
	    ((q[6] << 8 | q[7]) & IPV4_OFFSET) || !((q[6] << 8 | q[7]) & IPV4_MF) ||
	    memcmp(q + 12, ip + 16, 4))
		abort();
	return 0;
}

static const struct link_ops fz_ops = { .kind = "fuzz", .xmit = fz_xmit };

static void fz_ip(const char *cmd)
{
	if (usock_ip((struct usock_netns *)ns, cmd, NULL, 0))
		abort();
}

static void fz_setup(void)
{
	int err;

	ns = netns_create("fuzzfrag", USOCK_NETNS_VIRTUAL_TIME, &err);
	if (!ns)
		abort();
	netns_lock(ns);
	fdev = netns_dev_add(ns, "fz0", &fz_ops, ARPHRD_ETHER, &err);
	if (!fdev || !pkt_pools_full(ns->pools))
		abort();
	/* small enough that exhaustion paths run too (the old pools stay in the arena) */
	ns->pools = pkt_pools_new(ns->arena, 4096, 512, 8);
	if (!ns->pools)
		abort();
	/* every expiry may answer: no token bucket in the way */
	ns->sys.icmp_ratelimit = 0;
	netns_unlock(ns);
	fz_ip("link set fz0 up");
	fz_ip("addr add 198.18.0.1/24 dev fz0");
	fz_ip("neigh add 198.18.0.2 lladdr 02:00:00:00:00:02 dev fz0");
}

struct reader {
	const uint8_t *p;
	size_t n;
};

/* n (1..4) little-endian bytes; missing ones read as zero. */
static uint32_t take(struct reader *r, unsigned n)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < n; i++) {
		if (!r->n)
			break;
		v |= (uint32_t)r->p[0] << (8 * i);
		r->p++;
		r->n--;
	}
	return v;
}

static uint8_t pattern(uint16_t id, unsigned i)
{
	return (uint8_t)(i * 131u + (i >> 8) * 7u + id);
}

static void advance(uint64_t d)
{
	usock_clock_advance((struct usock_netns *)ns, d);
}

/* A reassembled datagram: a sound header and exactly the pattern bytes. */
static void check_dgram(struct pkt *dg)
{
	struct ipv4_repr r;
	const uint8_t *h = pkt_linear(dg, IPV4_HLEN);
	int hlen;

	if (!h || dg->tot_len > 65535)
		abort();
	if (!pkt_linear(dg, (size_t)(h[0] & 0x0f) * 4))
		abort();
	hlen = ipv4_parse(h, dg->tot_len, &r);
	if (hlen < 0 || r.tot_len != dg->tot_len || (r.frag_off & (IPV4_MF | IPV4_OFFSET)))
		abort();
	if (pkt_copy_out(dg, 0, dgbuf, dg->tot_len) != dg->tot_len)
		abort();
	for (unsigned j = 0; j < dg->tot_len - (unsigned)hlen; j++)
		if (dgbuf[hlen + j] != pattern(r.id, j))
			abort();
	pkt_free(dg);
}

static void defrag(struct pkt *pk)
{
	struct pkt *dg = ip4_defrag(ns, fdev, pk);

	if (dg)
		check_dgram(dg);
}

/* The header of a fragment or datagram: options from the input. */
static unsigned build_hdr(uint8_t *h, struct reader *rd, uint16_t id, unsigned tot_len,
			  uint16_t frag_off, uint8_t tos, unsigned optlen)
{
	uint8_t opt[IPV4_MAX_OPTLEN];
	struct ipv4_repr r = {
		.tos = tos, .tot_len = (uint16_t)tot_len, .id = id, .frag_off = frag_off,
		.ttl = 64, .proto = 17, .saddr = htonl(0xc6120002u), .daddr = htonl(0xc6120001u),
		.opt = opt, .optlen = (uint8_t)optlen,
	};

	for (unsigned i = 0; i < optlen; i++)
		opt[i] = (uint8_t)take(rd, 1);
	return (unsigned)ipv4_build(h, &r);
}

/* Payload [off, off + len) of datagram id in a fresh linear block after room for hlen. */
static struct pkt *payload_block(uint16_t id, unsigned off, unsigned hlen, unsigned len)
{
	struct pkt *pk = pkt_alloc(ns->pools, hlen + len);
	uint8_t *p;

	if (!pk)
		return NULL;
	p = pkt_put(pk, hlen + len);
	for (unsigned i = 0; i < len; i++)
		p[hlen + i] = pattern(id, off + i);
	return pk;
}

static void op_feed(struct reader *rd)
{
	uint8_t idb = (uint8_t)take(rd, 1);
	/* mostly 4 ids so that queues collide; sometimes 128, to fill the table */
	uint16_t id = (uint16_t)(idb & 0x80 ? idb & 0x7f : idb & 3);
	uint16_t off8 = (uint16_t)(take(rd, 2) & IPV4_OFFSET);
	uint32_t lenv = take(rd, 2);
	uint8_t fl = (uint8_t)take(rd, 1);
	unsigned optlen = (take(rd, 1) % 11) * 4, hlen = IPV4_HLEN + optlen;
	unsigned len = (fl & 0x80) ? lenv % (65536 - hlen) : lenv % 1600;
	uint16_t frag_off = off8 | ((fl & 1) ? IPV4_MF : 0) | ((fl & 2) ? IPV4_DF : 0) |
			    ((fl & 4) ? IPV4_CE : 0);
	uint8_t tos = (uint8_t)((fl >> 3) & 3), keep[128];
	unsigned mode = (fl >> 5) & 3, keeplen;
	struct pkt *pk, *held = NULL;
	uint8_t h[IPV4_MAX_HLEN];

	build_hdr(h, rd, id, hlen + len, frag_off, tos, optlen);
	if (mode == 1) {
		/* header block + views of another buffer, as ip4_fragment makes */
		struct pkt *src = payload_block(id, off8 * 8u, 0, len);

		if (!src)
			return;
		pk = pkt_clone_range(ns->pools, src, 0, len, PKT_HEADROOM);
		pkt_free(src);
		if (!pk)
			return;
		memcpy(pkt_push(pk, hlen), h, hlen);
	} else {
		pk = payload_block(id, off8 * 8u, hlen, len);
		if (!pk)
			return;
		memcpy(pk->data, h, hlen);
	}
	if (mode == 2)
		held = pkt_get(pk);
	keeplen = pk->tot_len < sizeof(keep) ? pk->tot_len : sizeof(keep);
	pkt_copy_out(pk, 0, keep, keeplen);
	defrag(pk);
	if (held) {
		/* a shared packet is read-only: ours must be as it was */
		uint8_t now[128];

		if (held->tot_len != hlen + len ||
		    pkt_copy_out(held, 0, now, keeplen) != keeplen || memcmp(now, keep, keeplen))
			abort();
		pkt_free(held);
	}
}

struct split {
	unsigned n;
	struct pkt *f[FZ_MAX_SPLIT];
};

static struct split split;

static int collect(void *ctx, struct pkt *f)
{
	struct split *s = ctx;

	if (s->n == FZ_MAX_SPLIT) {
		pkt_free(f);
		return -1;
	}
	s->f[s->n++] = f;
	return 0;
}

static void op_split(struct reader *rd)
{
	uint16_t id = (uint16_t)(take(rd, 1) & 3);
	unsigned optlen = (take(rd, 1) % 11) * 4, hlen = IPV4_HLEN + optlen;
	unsigned plen = take(rd, 2) % (65536 - hlen);
	unsigned mtu = 68 + take(rd, 2) % 1500;
	unsigned how = take(rd, 1), pick;
	uint8_t h[IPV4_MAX_HLEN];
	struct pkt *pk = payload_block(id, 0, hlen, plen);

	if (!pk)
		return;
	build_hdr(h, rd, id, hlen + plen, 0, (uint8_t)(how >> 4 & 3), optlen);
	memcpy(pk->data, h, hlen);
	split.n = 0;
	ip4_fragment(ns, pk, mtu, collect, &split);
	if (!split.n)
		return;
	pick = (how >> 2) % split.n;
	for (unsigned i = 0; i < split.n; i++) {
		unsigned k = (how & 3) == 1 ? split.n - 1 - i : i;

		if ((how & 3) == 2 && k == pick) {
			pkt_free(split.f[k]);
			continue;
		}
		if ((how & 3) == 3 && k == 0)
			defrag(pkt_get(split.f[0]));	/* shared: ip4_defrag must copy the header */
		defrag(split.f[k]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int thresh[4] = { 4 * 1024 * 1024, 64 * 1024, 8 * 1024, 0 };
	struct reader rd = { data, size };
	uint32_t cfg;

	if (!ns)
		fz_setup();
	cfg = take(&rd, 1);
	ns->sys.ipfrag_high_thresh = thresh[cfg & 3];
	ns->sys.ipfrag_time = (int)((cfg >> 2) % 31);
	while (rd.n) {
		switch (take(&rd, 1) % 8) {
		case 5:
			advance((uint64_t)take(&rd, 2) * 10 * NSEC_PER_MSEC);
			break;
		case 6:
			netns_lock(ns);
			op_split(&rd);
			netns_unlock(ns);
			break;
		default:
			netns_lock(ns);
			op_feed(&rd);
			netns_unlock(ns);
			break;
		}
	}
	advance(3600 * NSEC_PER_SEC);
	if (ip4_frag_mem(ns) != 0 || !pkt_pools_full(ns->pools))
		abort();
	return 0;
}
