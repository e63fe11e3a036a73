/* SPDX-License-Identifier: MIT */
/*
 * test_frag.c - unit tests for IPv4 fragmentation and reassembly (ip4_frag.c)
 *
 * Each test runs on a namespace built by hand around what ip4_frag.c uses
 * (arena, pools, virtual clock, timer base, sysctls, one fake device at
 * ifindex 2), so no other layer has to work for these to pass.  Expected
 * fragment geometry is computed here from Linux's rule (ip_frag_next: the
 * largest multiple of 8 that fits in mtu - hlen, the rest in the last one),
 * not taken from the code under test.  Every test ends (FRAG_TEST) by letting
 * ipfrag_time pass and asserting that the pools are full and the table holds
 * nothing: Criterion 2.4 only warns about assertions in .fini.
 *
 * ICMP: while the real icmp4_send (src/ip/icmp4.c) is not linked in, a weak
 * test double stands in for it and records each call; once the real one is
 * linked, the double steps aside and its assertions are skipped with a
 * warning (the rest of each test still runs), and the frag_stack suite
 * checks the same on a real namespace instead, counting what lo transmits.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf/pkt.h"
#include "core/arena.h"
#include "core/clock.h"
#include "core/timer.h"
#include "ip/ip4.h"
#include "link/link.h"
#include "net/netns.h"
#include "net/netns_internal.h"
#include "usock.h"
#include "wire/csum.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

/*
 * The whole stack, when it is linked in (netns.c pulls it): referenced
 * weakly so that these tests also build and run against ip4_frag.c alone.
 */
#pragma weak netns_create
#pragma weak netns_destroy
#pragma weak netns_lock
#pragma weak netns_unlock

#define FRAG_MAX 9000		/* more than 65535 / 8 */
#define NSMALL 16384
#define NMEDIUM 256
#define NLARGE 16
#define SADDR 0xc6120002u	/* 198.18.0.2 */
#define DADDR 0xc6120001u	/* 198.18.0.1 */
#define FDEV_IFINDEX 2

static struct netns *ns;
static struct netdev fdev;

/* ---- icmp4_send test double ---- */

static struct {
	int calls;
	uint8_t type, code;
	int ifindex;
	uint16_t id, frag_off;	/* from the quoted header */
	bool parses;		/* header valid against the packet's length */
} icmp_rec;

static void frag_test_icmp4_send_double(struct netns *n, const struct pkt *orig, uint8_t type,
					uint8_t code, uint32_t info)
{
	const uint8_t *h = pkt_linear(orig, IPV4_HLEN);

	(void)n;
	(void)info;
	icmp_rec.calls++;
	icmp_rec.type = type;
	icmp_rec.code = code;
	icmp_rec.ifindex = orig->meta.ifindex;
	if (h) {
		struct ipv4_repr r;

		icmp_rec.id = (uint16_t)(h[4] << 8 | h[5]);
		icmp_rec.frag_off = (uint16_t)(h[6] << 8 | h[7]);
		icmp_rec.parses = ipv4_parse_flags(h, orig->tot_len, &r, CSUM_SKIP) > 0;
	}
}

void icmp4_send(struct netns *n, const struct pkt *orig, uint8_t type, uint8_t code,
		uint32_t info) __attribute__((weak, alias("frag_test_icmp4_send_double")));

/* The double is in use unless the real icmp4_send was linked in. */
static bool icmp_double_active(void)
{
	return (void *)icmp4_send == (void *)frag_test_icmp4_send_double;
}

#define expect_icmp_calls(n)                                                            \
	do {                                                                            \
		if (icmp_double_active())                                               \
			cr_expect_eq(icmp_rec.calls, (n), "ICMP sends: %d, want %d",     \
				     icmp_rec.calls, (n));                              \
		else                                                                    \
			cr_log_info("real icmp4_send linked: ICMP count not checked");  \
	} while (0)

/* ---- namespace built by hand ---- */

static struct netns *mkns(unsigned nsmall, unsigned nmedium, unsigned nlarge)
{
	struct netns *n = calloc(1, sizeof(*n));

	cr_assert_not_null(n);
	n->arena = arena_new((size_t)1 << 30);
	cr_assert_not_null(n->arena);
	n->pools = pkt_pools_new(n->arena, nsmall, nmedium, nlarge);
	cr_assert_not_null(n->pools);
	clock_init(&n->clock, true);
	cr_assert_eq(timer_base_init(&n->timers, n->arena, 1024), 0);
	pthread_mutex_init(&n->lock, NULL);
	n->worker_efd = -1;
	n->sys.ipfrag_high_thresh = 4 * 1024 * 1024;	/* Linux defaults */
	n->sys.ipfrag_low_thresh = 3 * 1024 * 1024;
	n->sys.ipfrag_time = 30;
	n->ip4 = arena_alloc(n->arena, sizeof(*n->ip4));
	cr_assert_not_null(n->ip4);
	fdev.ns = n;
	fdev.ifindex = FDEV_IFINDEX;
	fdev.mtu = 1500;
	snprintf(fdev.name, sizeof(fdev.name), "veth0");
	n->dev[FDEV_IFINDEX] = &fdev;
	cr_assert_eq(ip4_frag_init(n), 0);
	return n;
}

static void frag_setup(void)
{
	memset(&icmp_rec, 0, sizeof(icmp_rec));
	ns = mkns(NSMALL, NMEDIUM, NLARGE);
}

static void frag_teardown(void)
{
	arena_destroy(ns->arena);
	free(ns);
}

TestSuite(frag, .init = frag_setup, .fini = frag_teardown);

static void advance(uint64_t d)
{
	clock_advance(&ns->clock, d);
	timer_run(&ns->timers, netns_now(ns));
}

/* Let every queue expire, then nothing may be left anywhere. */
static void frag_finish(void)
{
	advance(3600 * NSEC_PER_SEC);
	cr_assert_eq(ip4_frag_mem(ns), 0, "frag mem %u after expiry", ip4_frag_mem(ns));
	cr_assert(pkt_pools_full(ns->pools), "pools not full: %u/%u small, %u/%u medium, %u/%u large",
		  pkt_pools_free_count(ns->pools, 0), pkt_pools_total_count(ns->pools, 0),
		  pkt_pools_free_count(ns->pools, 1), pkt_pools_total_count(ns->pools, 1),
		  pkt_pools_free_count(ns->pools, 2), pkt_pools_total_count(ns->pools, 2));
}

#define FRAG_TEST(name)                         \
	static void name##_body(void);          \
	Test(frag, name)                        \
	{                                       \
		name##_body();                  \
		frag_finish();                  \
	}                                       \
	static void name##_body(void)

/* ---- datagrams and fragments ---- */

static uint64_t rng_state = 0x243f6a8885a308d3ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* The payload byte at offset i of datagram id: overlapping fragments agree. */
static uint8_t pattern(uint16_t id, unsigned i)
{
	return (uint8_t)(i * 131u + (i >> 8) * 7u + id);
}

struct dgram {
	struct pkt *pk;
	uint8_t *bytes;		/* the whole datagram, header included */
	unsigned len, hlen;
};

/* A datagram of plen payload bytes after a header with the given options. */
static struct dgram mkdgram(uint16_t id, unsigned plen, const uint8_t *opt, unsigned optlen,
			    uint8_t tos)
{
	struct ipv4_repr r = {
		.tos = tos, .id = id, .ttl = 64, .proto = IPPROTO_UDP,
		.saddr = htonl(SADDR), .daddr = htonl(DADDR), .opt = opt, .optlen = (uint8_t)optlen,
	};
	struct dgram d;
	uint8_t *p;

	d.hlen = IPV4_HLEN + optlen;
	d.len = d.hlen + plen;
	r.tot_len = (uint16_t)d.len;
	d.pk = pkt_alloc(ns->pools, d.len);
	cr_assert_not_null(d.pk);
	p = pkt_put(d.pk, d.len);
	cr_assert_not_null(p);
	cr_assert_eq(ipv4_build(p, &r), (int)d.hlen);
	for (unsigned i = 0; i < plen; i++)
		p[d.hlen + i] = pattern(id, i);
	d.bytes = malloc(d.len);
	cr_assert_not_null(d.bytes);
	memcpy(d.bytes, p, d.len);
	return d;
}

/* One fragment made by hand in namespace n: payload [off, off + len) of datagram id. */
static struct pkt *mkfrag_in(struct netns *n, uint32_t saddr, uint32_t daddr, uint16_t id,
			     unsigned off, unsigned len, bool mf, bool df, uint8_t tos)
{
	struct ipv4_repr r = {
		.tos = tos, .id = id, .ttl = 64, .proto = IPPROTO_UDP,
		.saddr = htonl(saddr), .daddr = htonl(daddr),
	};
	struct pkt *pk = pkt_alloc(n->pools, IPV4_HLEN + len);
	uint8_t *p;

	cr_assert_not_null(pk);
	r.tot_len = (uint16_t)(IPV4_HLEN + len);
	r.frag_off = (uint16_t)(off / 8) | (mf ? IPV4_MF : 0) | (df ? IPV4_DF : 0);
	p = pkt_put(pk, IPV4_HLEN + len);
	cr_assert_not_null(p);
	ipv4_build(p, &r);
	for (unsigned i = 0; i < len; i++)
		p[IPV4_HLEN + i] = pattern(id, off + i);
	return pk;
}

static struct pkt *mkfrag(uint16_t id, unsigned off, unsigned len, bool mf, bool df, uint8_t tos)
{
	return mkfrag_in(ns, SADDR, DADDR, id, off, len, mf, df, tos);
}

struct fragset {
	unsigned n;
	int fail_at;		/* collect() returns -EHOSTUNREACH for this index; -1 never */
	struct pkt *f[FRAG_MAX];
};

static int collect(void *ctx, struct pkt *f)
{
	struct fragset *s = ctx;

	if ((int)s->n == s->fail_at) {
		pkt_free(f);
		return -EHOSTUNREACH;
	}
	cr_assert_lt(s->n, FRAG_MAX);
	s->f[s->n++] = f;
	return 0;
}

static struct fragset *newset(void)
{
	struct fragset *s = calloc(1, sizeof(*s));

	cr_assert_not_null(s);
	s->fail_at = -1;
	return s;
}

static void freeset(struct fragset *s)
{
	for (unsigned i = 0; i < s->n; i++)
		pkt_free(s->f[i]);
	free(s);
}

/* Fragment a copy of d (d keeps its bytes; its pk is consumed). */
static struct fragset *fragment(struct dgram *d, unsigned mtu)
{
	struct fragset *s = newset();

	cr_assert_eq(ip4_fragment(ns, d->pk, mtu, collect, s), 0);
	d->pk = NULL;
	return s;
}

/* The reassembled datagram must be byte for byte the original. */
static void expect_datagram(struct pkt *pk, const struct dgram *d)
{
	uint8_t *buf = malloc(d->len);
	struct ipv4_repr r;

	cr_assert_not_null(pk, "no datagram");
	cr_assert_eq(pk->tot_len, d->len, "length %u, want %u", pk->tot_len, d->len);
	cr_assert_not_null(pkt_linear(pk, d->hlen), "header not in the head piece");
	cr_assert_eq(ipv4_parse(pk->data, pk->tot_len, &r), (int)d->hlen, "bad header/checksum");
	cr_assert_eq(r.frag_off, 0);
	cr_assert_eq(r.tot_len, d->len);
	cr_assert_eq(pkt_copy_out(pk, 0, buf, d->len), d->len);
	cr_assert(memcmp(buf, d->bytes, d->len) == 0, "datagram bytes differ");
	free(buf);
}

/* Feed s->f[order[i]] in turn; the last feed must complete, none before. */
static struct pkt *feed(struct fragset *s, const unsigned *order, unsigned n)
{
	struct pkt *dg = NULL;

	for (unsigned i = 0; i < n; i++) {
		struct pkt *f = s->f[order[i]];

		s->f[order[i]] = NULL;
		cr_assert_null(dg, "datagram complete before its last fragment");
		dg = ip4_defrag(ns, &fdev, f);
	}
	return dg;
}

static void shuffle(unsigned *a, unsigned n)
{
	for (unsigned i = n; i > 1; i--) {
		unsigned j = (unsigned)(rnd() % i), t = a[i - 1];

		a[i - 1] = a[j];
		a[j] = t;
	}
}

static unsigned *identity(unsigned n)
{
	unsigned *a = malloc(sizeof(*a) * (n ? n : 1));

	cr_assert_not_null(a);
	for (unsigned i = 0; i < n; i++)
		a[i] = i;
	return a;
}

/*
 * Check a fragment set against Linux's geometry for a datagram d at mtu:
 * per = (mtu - hlen) & ~7 bytes in each but the last, offsets in 8-byte
 * units, MF on all but the last, DF clear, header checksum valid, payload
 * equal to the original's and shared with it (a view, not a copy).
 */
static void expect_geometry(const struct fragset *s, const struct dgram *d, unsigned mtu)
{
	unsigned plen = d->len - d->hlen, per = (mtu - d->hlen) & ~7u;
	unsigned want = (plen + per - 1) / per;
	uint8_t *buf = malloc(65536);

	cr_assert_eq(s->n, want, "%u fragments, want %u", s->n, want);
	for (unsigned i = 0; i < s->n; i++) {
		struct pkt *f = s->f[i];
		unsigned sz = i + 1 < want ? per : plen - per * (want - 1);
		struct ipv4_repr r;

		cr_assert_leq(f->tot_len, mtu);
		cr_assert_eq(f->tot_len, d->hlen + sz, "fragment %u: %u bytes, want %u", i,
			     f->tot_len, d->hlen + sz);
		cr_assert_not_null(pkt_linear(f, d->hlen));
		cr_assert_eq(ipv4_parse(f->data, f->tot_len, &r), (int)d->hlen,
			     "fragment %u: bad header", i);
		cr_assert_eq(r.tot_len, d->hlen + sz);
		cr_assert_eq(r.frag_off & IPV4_OFFSET, i * per / 8, "fragment %u offset", i);
		cr_assert_eq(!!(r.frag_off & IPV4_MF), i + 1 < want, "fragment %u MF", i);
		cr_assert_eq(r.frag_off & (IPV4_DF | IPV4_CE), 0);
		cr_assert_eq(memcmp(f->data, d->bytes, 2), 0);	/* version, ihl, tos */
		cr_assert_eq(memcmp(f->data + 4, d->bytes + 4, 2), 0);	/* id */
		cr_assert_eq(memcmp(f->data + 8, d->bytes + 8, 2), 0);	/* ttl, proto */
		cr_assert_eq(memcmp(f->data + 12, d->bytes + 12, 8), 0);	/* addresses */
		cr_assert_eq(pkt_copy_out(f, d->hlen, buf, sz), sz);
		cr_assert(memcmp(buf, d->bytes + d->hlen + i * per, sz) == 0,
			  "fragment %u payload", i);
		/* the payload is a view of the original's buffer */
		cr_assert_not_null(f->frag);
		cr_assert_eq(f->frag->cap, 0);
		cr_assert_not_null(f->frag->shared);
	}
	free(buf);
}

/* ---- fragmentation ---- */

/* 65,507 bytes of UDP payload = 65,515 of IP payload: 44 x 1480 + 395. */
FRAG_TEST(udp_max_at_1500)
{
	struct dgram d = mkdgram(0x1234, 8 + 65507, NULL, 0, 0);
	struct fragset *s;

	cr_assert_eq(d.len, 65535);
	s = fragment(&d, 1500);
	expect_geometry(s, &d, 1500);
	cr_assert_eq(s->n, 45);
	cr_assert_eq(s->f[0]->tot_len, 1500);
	cr_assert_eq(s->f[44]->tot_len, 20 + 395);
	/* no payload was copied: only the original's large block is in use */
	cr_assert_eq(pkt_pools_free_count(ns->pools, 2), NLARGE - 1);
	cr_assert_eq(pkt_pools_free_count(ns->pools, 1), NMEDIUM);
	freeset(s);
	free(d.bytes);
}

FRAG_TEST(mtu_576)
{
	struct dgram d = mkdgram(7, 8 + 65507, NULL, 0, 0);
	struct fragset *s = fragment(&d, 576);

	expect_geometry(s, &d, 576);	/* 552 per fragment: 119 fragments */
	cr_assert_eq(s->n, 119);
	freeset(s);
	free(d.bytes);

	d = mkdgram(8, 1008, NULL, 0, 0);
	s = fragment(&d, 576);
	expect_geometry(s, &d, 576);
	cr_assert_eq(s->n, 2);
	cr_assert_eq(s->f[1]->tot_len, 20 + 456);
	freeset(s);
	free(d.bytes);
}

/* mtu 68 (RFC 791's minimum): 48 bytes per fragment after a bare header. */
FRAG_TEST(mtu_68)
{
	struct dgram d = mkdgram(9, 1000, NULL, 0, 0);
	struct fragset *s = fragment(&d, 68);

	expect_geometry(s, &d, 68);
	cr_assert_eq(s->n, 21);
	freeset(s);
	free(d.bytes);
}

/*
 * A 60-byte header at mtu 68 leaves 8 payload bytes per fragment.  After the
 * first fragment, options without the copied flag become NOOPs in place
 * (ip_options_fragment): the header length never changes.
 */
FRAG_TEST(mtu_68_max_options)
{
	static const uint8_t opt[40] = {
		0x94, 0x04, 0x00, 0x00,				/* router alert: copied */
		0x07, 0x0b, 0x04, 0, 0, 0, 0, 0, 0, 0, 0,	/* record route: not copied */
		0x44, 0x0c, 0x05, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,	/* timestamp: not copied */
		0x83, 0x07, 0x04, 198, 18, 0, 1,		/* loose source route: copied */
		0x01, 0x01,					/* NOOPs */
		0x00, 0x00, 0x00, 0x00,				/* END and padding */
	};
	uint8_t later[40];
	struct dgram d = mkdgram(10, 100, opt, sizeof(opt), 0);
	struct fragset *s = fragment(&d, 68);

	expect_geometry(s, &d, 68);
	cr_assert_eq(s->n, 13);	/* 12 x 8 + 4 */
	memcpy(later, opt, sizeof(later));
	memset(later + 4, 0x01, 11);
	memset(later + 15, 0x01, 12);
	cr_assert(memcmp(s->f[0]->data + 20, opt, 40) == 0, "first fragment keeps all options");
	for (unsigned i = 1; i < s->n; i++)
		cr_assert(memcmp(s->f[i]->data + 20, later, 40) == 0,
			  "fragment %u: only copied options", i);

	/* and they go back together into the original header */
	unsigned *order = identity(s->n);
	struct pkt *dg = feed(s, order, s->n);

	expect_datagram(dg, &d);
	pkt_free(dg);
	free(order);
	freeset(s);
	free(d.bytes);
}

/* A datagram that fits goes out as it is. */
FRAG_TEST(fits_unchanged)
{
	struct dgram d = mkdgram(11, 1480, NULL, 0, 0);
	struct fragset *s = newset();
	struct pkt *orig = d.pk;

	cr_assert_eq(ip4_fragment(ns, d.pk, 1500, collect, s), 0);
	cr_assert_eq(s->n, 1);
	cr_assert_eq(s->f[0], orig);
	freeset(s);
	free(d.bytes);
}

FRAG_TEST(mtu_too_small)
{
	struct dgram d = mkdgram(12, 100, NULL, 0, 0);
	struct fragset *s = newset();

	cr_assert_eq(ip4_fragment(ns, d.pk, 27, collect, s), -EINVAL);
	cr_assert_eq(s->n, 0);
	freeset(s);
	free(d.bytes);
}

/* The pools run dry part way: -ENOBUFS, what went out stays out, no leak. */
Test(frag, enobufs_part_way)
{
	struct netns *big = ns;
	struct fragset *s;
	struct dgram d;

	/*
	 * Each fragment takes two blocks (its header block and one view); a
	 * class that runs dry borrows from larger ones, so only the datagram's
	 * own large block exists above the 11 small ones.
	 */
	ns = mkns(11, 0, 1);
	d = mkdgram(13, 8 + 65507, NULL, 0, 0);
	s = newset();
	cr_assert_eq(ip4_fragment(ns, d.pk, 1500, collect, s), -ENOBUFS);
	cr_assert_eq(s->n, 5, "%u fragments went out", s->n);
	for (unsigned i = 0; i < s->n; i++) {
		struct ipv4_repr r;

		cr_assert_eq(ipv4_parse(s->f[i]->data, s->f[i]->tot_len, &r), 20);
		cr_assert_eq(ipv4_frag_offset(&r), i * 1480);
		cr_assert_eq(r.tot_len, 1500);
	}
	freeset(s);
	free(d.bytes);
	cr_assert(pkt_pools_full(ns->pools));
	arena_destroy(ns->arena);
	free(ns);
	ns = big;
}

FRAG_TEST(output_error_stops)
{
	struct dgram d = mkdgram(14, 8 + 65507, NULL, 0, 0);
	struct fragset *s = newset();

	s->fail_at = 3;
	cr_assert_eq(ip4_fragment(ns, d.pk, 1500, collect, s), -EHOSTUNREACH);
	cr_assert_eq(s->n, 3);
	freeset(s);
	free(d.bytes);
}

/* Refragmenting a middle fragment keeps its offset base and its MF. */
FRAG_TEST(refragment_fragment)
{
	struct pkt *f = mkfrag(15, 1480, 1480, true, false, 0);
	struct fragset *s = newset();
	struct ipv4_repr r;

	cr_assert_eq(ip4_fragment(ns, f, 576, collect, s), 0);
	cr_assert_eq(s->n, 3);
	for (unsigned i = 0; i < 3; i++) {
		cr_assert_eq(ipv4_parse(s->f[i]->data, s->f[i]->tot_len, &r), 20);
		cr_assert_eq(ipv4_frag_offset(&r), 1480 + i * 552);
		cr_assert(r.frag_off & IPV4_MF);
	}
	freeset(s);
}

/* ---- reassembly ---- */

static void roundtrip(uint16_t id, unsigned plen, unsigned mtu, int how)
{
	struct dgram d = mkdgram(id, plen, NULL, 0, 0);
	struct fragset *s = fragment(&d, mtu);
	unsigned *order = identity(s->n);
	struct pkt *dg;

	if (how == 1)
		for (unsigned i = 0; i < s->n; i++)
			order[i] = s->n - 1 - i;
	else if (how == 2)
		shuffle(order, s->n);
	dg = feed(s, order, s->n);
	expect_datagram(dg, &d);
	cr_assert_eq(ip4_frag_mem(ns), 0);
	/* the socket is charged for every fragment's blocks */
	cr_assert_gt(dg->meta.truesize, d.len);
	cr_assert_eq(dg->meta.ifindex, FDEV_IFINDEX);
	pkt_free(dg);
	free(order);
	freeset(s);
	free(d.bytes);
}

FRAG_TEST(reasm_in_order)
{
	roundtrip(100, 8 + 65507, 1500, 0);
}

FRAG_TEST(reasm_reverse)
{
	roundtrip(101, 8 + 65507, 1500, 1);
}

FRAG_TEST(reasm_random)
{
	roundtrip(102, 8 + 65507, 1500, 2);
	roundtrip(103, 5000, 68, 2);
}

/*
 * Exact duplicates are dropped alone: the queue goes on.  Every fragment
 * comes twice in random order, one piece (both copies) held back; then the
 * held piece completes the datagram and its twin starts a new queue.
 */
FRAG_TEST(reasm_duplicates)
{
	struct dgram a = mkdgram(104, 20000, NULL, 0, 0), b = mkdgram(104, 20000, NULL, 0, 0);
	struct fragset *sa = fragment(&a, 1500), *sb = fragment(&b, 1500);
	unsigned n = sa->n, held = (unsigned)(rnd() % n);
	unsigned *order = identity(2 * n);
	struct pkt *dg;

	shuffle(order, 2 * n);
	for (unsigned i = 0; i < 2 * n; i++) {
		unsigned k = order[i];
		struct pkt *f;

		if (k % n == held)
			continue;
		f = k < n ? sa->f[k] : sb->f[k - n];
		if (k < n)
			sa->f[k] = NULL;
		else
			sb->f[k - n] = NULL;
		cr_assert_null(ip4_defrag(ns, &fdev, f), "complete without fragment %u", held);
	}
	dg = ip4_defrag(ns, &fdev, sa->f[held]);
	sa->f[held] = NULL;
	expect_datagram(dg, &a);
	pkt_free(dg);
	cr_assert_eq(ip4_frag_mem(ns), 0);
	cr_assert_null(ip4_defrag(ns, &fdev, sb->f[held]));
	sb->f[held] = NULL;
	cr_assert_gt(ip4_frag_mem(ns), 0);
	free(order);
	freeset(sa);
	freeset(sb);
	free(a.bytes);
	free(b.bytes);
}

/* A fragment overlapping a different one kills the whole queue (RFC 5722). */
FRAG_TEST(reasm_overlap_drops_queue)
{
	unsigned before;

	cr_assert_null(ip4_defrag(ns, &fdev, mkfrag(200, 0, 16, true, false, 0)));
	cr_assert_null(ip4_defrag(ns, &fdev, mkfrag(200, 24, 16, false, false, 0)));
	before = ip4_frag_mem(ns);
	cr_assert_gt(before, 0);
	cr_assert_null(ip4_defrag(ns, &fdev, mkfrag(200, 8, 16, true, false, 0)));
	cr_assert_eq(ip4_frag_mem(ns), 0, "queue must be gone");
	/* the missing piece now starts a queue of its own, which never completes */
	cr_assert_null(ip4_defrag(ns, &fdev, mkfrag(200, 16, 8, true, false, 0)));
	cr_assert_gt(ip4_frag_mem(ns), 0);
}

/*
 * Linux decides duplicate against overlap by runs (inet_frag_queue_insert):
 * [0,8) then [8,16) form one run, so [0,16) inside it is a duplicate; in the
 * other order they are two runs and the same [0,16) is an overlap.
 */
FRAG_TEST(reasm_dup_or_overlap_by_runs)
{
	struct pkt *dg;
	struct dgram d = mkdgram(201, 24, NULL, 0, 0);

	pkt_free(d.pk);
	cr_assert_null(ip4_defrag(ns, &fdev, mkfrag(201, 0, 8, true, false, 0)));
	cr_assert_null(ip4_defrag(ns, &fdev, mkfrag(201, 8, 8, true, false, 0)));
	cr_assert_null(ip4_defrag(ns, &fdev, mkfrag(201, 0, 16, true, false, 0)));
	dg = ip4_defrag(ns, &fdev, mkfrag(201, 16, 8, false, false, 0));
	expect_datagram(dg, &d);
	pkt_free(dg);

	cr_assert_null(ip4_defrag(ns, &fdev, mkfrag(202, 8, 8, true, false, 0)));
	cr_assert_null(ip4_defrag(ns, &fdev, mkfrag(202, 0, 8, true, false, 0)));
	cr_assert_null(ip4_defrag(ns, &fdev, mkfrag(202, 0, 16, true, false, 0)));
	cr_assert_eq(ip4_frag_mem(ns), 0, "overlap must drop the queue");
	cr_assert_null(ip4_defrag(ns, &fdev, mkfrag(202, 16, 8, false, false, 0)));
	free(d.bytes);
}

/* ip_frag_queue's length rules: each violation drops the whole queue. */
FRAG_TEST(reasm_bad_lengths)
{
	/* a second last fragment with another end */
	cr_assert_null(ip4_defrag(ns, &fdev, mkfrag(300, 16, 8, false, false, 0)));
	cr_assert_null(ip4_defrag(ns, &fdev, mkfrag(300, 16, 16, false, false, 0)));
	cr_assert_eq(ip4_frag_mem(ns), 0);
	/* data beyond the end */
	cr_assert_null(ip4_defrag(ns, &fdev, mkfrag(301, 16, 8, false, false, 0)));
	cr_assert_null(ip4_defrag(ns, &fdev, mkfrag(301, 24, 8, true, false, 0)));
	cr_assert_eq(ip4_frag_mem(ns), 0);
	/* a last fragment that ends before data already queued */
	cr_assert_null(ip4_defrag(ns, &fdev, mkfrag(302, 32, 8, true, false, 0)));
	cr_assert_null(ip4_defrag(ns, &fdev, mkfrag(302, 8, 8, false, false, 0)));
	cr_assert_eq(ip4_frag_mem(ns), 0);
	/* MF with under 8 bytes: nothing left after rounding down */
	cr_assert_null(ip4_defrag(ns, &fdev, mkfrag(303, 0, 8, true, false, 0)));
	cr_assert_null(ip4_defrag(ns, &fdev, mkfrag(303, 8, 5, true, false, 0)));
	cr_assert_eq(ip4_frag_mem(ns), 0);
}

/* MF fragments are cut to a multiple of 8; the rest is ignored. */
FRAG_TEST(reasm_mf_rounds_down)
{
	struct dgram d = mkdgram(304, 24, NULL, 0, 0);
	struct pkt *dg;

	pkt_free(d.pk);
	cr_assert_null(ip4_defrag(ns, &fdev, mkfrag(304, 0, 13, true, false, 0)));
	dg = ip4_defrag(ns, &fdev, mkfrag(304, 8, 16, false, false, 0));
	expect_datagram(dg, &d);
	pkt_free(dg);
	free(d.bytes);
}

/* More than 65535 bytes in all: dropped, as ip_frag_reasm does. */
FRAG_TEST(reasm_oversize)
{
	cr_assert_null(ip4_defrag(ns, &fdev, mkfrag(305, 0, 1480, true, false, 0)));
	cr_assert_null(ip4_defrag(ns, &fdev, mkfrag(305, 65520, 16, false, false, 0)));
	for (unsigned off = 1480; off < 65520; off += 1480) {
		unsigned len = 65520 - off < 1480 ? 65520 - off : 1480;

		cr_assert_null(ip4_defrag(ns, &fdev, mkfrag(305, off, len, true, false, 0)));
	}
	cr_assert_eq(ip4_frag_mem(ns), 0, "oversize queue must be gone");
}

/* DF on the reassembled header only when the largest fragment had it. */
FRAG_TEST(reasm_df_and_ecn)
{
	struct pkt *dg;
	struct ipv4_repr r;

	cr_assert_null(ip4_defrag(ns, &fdev, mkfrag(400, 0, 16, true, true, 0x02)));
	dg = ip4_defrag(ns, &fdev, mkfrag(400, 16, 8, false, false, 0x03));
	cr_assert_not_null(dg);
	cr_assert_eq(ipv4_parse(dg->data, dg->tot_len, &r), 20);
	cr_assert_eq(r.frag_off, IPV4_DF);
	cr_assert_eq(r.tos & 3, 3, "ECT(0) + CE gives CE");
	pkt_free(dg);

	cr_assert_null(ip4_defrag(ns, &fdev, mkfrag(401, 0, 8, true, true, 0)));
	dg = ip4_defrag(ns, &fdev, mkfrag(401, 8, 16, false, false, 0));
	cr_assert_not_null(dg);
	cr_assert_eq(ipv4_parse(dg->data, dg->tot_len, &r), 20);
	cr_assert_eq(r.frag_off, 0);
	pkt_free(dg);

	/* Not-ECT mixed with ECT: invalid, dropped */
	cr_assert_null(ip4_defrag(ns, &fdev, mkfrag(402, 0, 8, true, false, 0)));
	cr_assert_null(ip4_defrag(ns, &fdev, mkfrag(402, 8, 8, false, false, 0x02)));
	cr_assert_eq(ip4_frag_mem(ns), 0);
}

/* Not a fragment: handed straight back. */
FRAG_TEST(not_a_fragment)
{
	struct dgram d = mkdgram(403, 100, NULL, 0, 0);

	cr_assert_eq(ip4_defrag(ns, &fdev, d.pk), d.pk);
	pkt_free(d.pk);
	free(d.bytes);
}

/* ---- expiry ---- */

static struct fragset *partial(uint16_t id, bool with_first)
{
	struct dgram d = mkdgram(id, 8000, NULL, 0, 0);
	struct fragset *s = fragment(&d, 1500);

	/* feed all but one: the first, or one in the middle */
	for (unsigned i = 0; i < s->n; i++) {
		if (with_first ? i == 2 : i == 0)
			continue;
		cr_assert_null(ip4_defrag(ns, &fdev, s->f[i]));
		s->f[i] = NULL;
	}
	free(d.bytes);
	return s;
}

FRAG_TEST(timeout_with_first_sends_icmp)
{
	struct fragset *s = partial(500, true);

	cr_assert_gt(ip4_frag_mem(ns), 0);
	advance(30 * NSEC_PER_SEC - 1);
	cr_assert_gt(ip4_frag_mem(ns), 0, "expired early");
	expect_icmp_calls(0);
	advance(1);
	cr_assert_eq(ip4_frag_mem(ns), 0, "not expired at ipfrag_time");
	expect_icmp_calls(1);
	if (icmp_double_active()) {
		cr_expect_eq(icmp_rec.type, ICMP4_TIME_EXCEEDED);
		cr_expect_eq(icmp_rec.code, ICMP4_EXC_FRAGTIME);
		cr_expect_eq(icmp_rec.ifindex, FDEV_IFINDEX);
		cr_expect_eq(icmp_rec.id, 500);
		cr_expect_eq(icmp_rec.frag_off, IPV4_MF, "quoted header is the first fragment's");
	}
	advance(3600 * NSEC_PER_SEC);
	expect_icmp_calls(1);
	freeset(s);
}

FRAG_TEST(timeout_without_first_is_silent)
{
	struct fragset *s = partial(501, false);

	advance(30 * NSEC_PER_SEC);
	cr_assert_eq(ip4_frag_mem(ns), 0);
	expect_icmp_calls(0);
	freeset(s);
}

/* The timer runs from the queue's creation; later fragments do not extend it. */
FRAG_TEST(timeout_not_extended)
{
	cr_assert_null(ip4_defrag(ns, &fdev, mkfrag(502, 8, 8, true, false, 0)));
	advance(20 * NSEC_PER_SEC);
	cr_assert_null(ip4_defrag(ns, &fdev, mkfrag(502, 24, 8, false, false, 0)));
	advance(10 * NSEC_PER_SEC);
	cr_assert_eq(ip4_frag_mem(ns), 0);
	expect_icmp_calls(0);
}

/* A first fragment with a tail beyond its multiple of 8 is quoted whole. */
FRAG_TEST(timeout_icmp_quotes_untrimmed_first)
{
	cr_assert_null(ip4_defrag(ns, &fdev, mkfrag(503, 0, 13, true, false, 0)));
	advance(30 * NSEC_PER_SEC);
	expect_icmp_calls(1);
	if (icmp_double_active())
		cr_expect(icmp_rec.parses, "quoted header does not match the quoted length");
}

/*
 * The same with the real stack, when it is linked in: a namespace made by
 * netns_create, fragments from 127.0.0.2 to 127.0.0.1 on lo, and the ICMP
 * error counted as the one frame lo transmits on expiry.
 */
static void real_icmp_case(bool with_first, uint64_t want)
{
	struct netns *n;
	struct netdev *lo;
	uint64_t tx;
	int err;

	n = netns_create("frag-icmp", USOCK_NETNS_VIRTUAL_TIME, &err);
	cr_assert_not_null(n, "netns_create: %d", err);
	netns_lock(n);
	lo = n->lo;
	n->sys.ipfrag_time = 30;
	tx = lo->tx_packets;
	for (unsigned i = 0; i < 3; i++) {
		struct pkt *pk;

		if (with_first ? i == 1 : i == 0)
			continue;
		pk = mkfrag_in(n, 0x7f000002u, 0x7f000001u, 42, i * 8, 8, i < 2, false, 0);
		pk->meta.ifindex = lo->ifindex;
		cr_assert_null(ip4_defrag(n, lo, pk));
	}
	clock_advance(&n->clock, 30 * NSEC_PER_SEC);
	timer_run(&n->timers, netns_now(n));
	cr_expect_eq(lo->tx_packets - tx, want, "lo sent %llu frames on expiry, want %llu",
		     (unsigned long long)(lo->tx_packets - tx), (unsigned long long)want);
	cr_expect_eq(ip4_frag_mem(n), 0);
	netns_unlock(n);
	cr_expect(pkt_pools_full(n->pools), "namespace pools not full");
	netns_destroy(n);
}

Test(frag_stack, timeout_icmp_real_stack)
{
	if (!netns_create || icmp_double_active())
		cr_skip_test("the real stack (netns.c, icmp4.c) is not linked in");
	real_icmp_case(true, 1);
	real_icmp_case(false, 0);
}

/* ---- bounds ---- */

/*
 * Above ipfrag_high_thresh nothing gets in, not even the missing piece of
 * an existing queue (inet_frag_find checks before looking up); the fragment
 * that crosses the line is still taken.  Expiry brings it back.
 */
FRAG_TEST(high_thresh)
{
	unsigned mem, id = 600;
	struct pkt *dg;

	ns->sys.ipfrag_high_thresh = 20000;
	while (ip4_frag_mem(ns) <= 20000) {
		cr_assert_null(ip4_defrag(ns, &fdev, mkfrag((uint16_t)id, 0, 1000, true, false, 0)));
		cr_assert_gt(ip4_frag_mem(ns), 0);
		id++;
	}
	mem = ip4_frag_mem(ns);
	cr_assert_null(ip4_defrag(ns, &fdev, mkfrag(600, 1000, 8, false, false, 0)));
	cr_assert_eq(ip4_frag_mem(ns), mem, "a fragment got in above high_thresh");
	cr_assert_null(ip4_defrag(ns, &fdev, mkfrag(9999, 0, 8, true, false, 0)));
	cr_assert_eq(ip4_frag_mem(ns), mem);
	advance(30 * NSEC_PER_SEC);
	cr_assert_eq(ip4_frag_mem(ns), 0);
	expect_icmp_calls((int)(id - 600));
	/* and fragments are welcome again */
	cr_assert_null(ip4_defrag(ns, &fdev, mkfrag(600, 0, 1000, true, false, 0)));
	dg = ip4_defrag(ns, &fdev, mkfrag(600, 1000, 8, false, false, 0));
	cr_assert_not_null(dg);
	pkt_free(dg);
}

FRAG_TEST(high_thresh_zero_drops_all)
{
	ns->sys.ipfrag_high_thresh = 0;
	cr_assert_null(ip4_defrag(ns, &fdev, mkfrag(700, 0, 8, true, false, 0)));
	cr_assert_eq(ip4_frag_mem(ns), 0);
}

/* A full table drops fragments of new datagrams, not of queued ones. */
FRAG_TEST(queue_slots_bounded)
{
	unsigned mem;
	struct pkt *dg;

	for (unsigned id = 0; id < 64; id++)
		cr_assert_null(ip4_defrag(ns, &fdev, mkfrag((uint16_t)(800 + id), 0, 8, true, false, 0)));
	mem = ip4_frag_mem(ns);
	cr_assert_null(ip4_defrag(ns, &fdev, mkfrag(900, 0, 8, true, false, 0)));
	cr_assert_eq(ip4_frag_mem(ns), mem);
	dg = ip4_defrag(ns, &fdev, mkfrag(800, 8, 8, false, false, 0));
	cr_assert_not_null(dg);
	pkt_free(dg);
	cr_assert_null(ip4_defrag(ns, &fdev, mkfrag(900, 0, 8, true, false, 0)));
}

/* ---- many random shuffles, with and without duplicates ---- */

FRAG_TEST(random_shuffles_byte_exact)
{
	for (unsigned iter = 0; iter < 100; iter++) {
		unsigned plen = 1 + (unsigned)(rnd() % 65515);
		unsigned mtu = 68 + (unsigned)(rnd() % (1500 - 68 + 1));
		uint16_t id = (uint16_t)(1000 + iter);
		bool dups = iter & 1;
		struct dgram a = mkdgram(id, plen, NULL, 0, (uint8_t)(iter & 0xfc));
		struct dgram b = dups ? mkdgram(id, plen, NULL, 0, (uint8_t)(iter & 0xfc)) : a;
		struct fragset *sa = fragment(&a, mtu), *sb = dups ? fragment(&b, mtu) : newset();
		unsigned n = sa->n, total = n + sb->n, got = 0;
		unsigned *order = identity(total);

		shuffle(order, total);
		for (unsigned i = 0; i < total; i++) {
			unsigned k = order[i];
			struct pkt *f = k < n ? sa->f[k] : sb->f[k - n], *dg;

			if (k < n)
				sa->f[k] = NULL;
			else
				sb->f[k - n] = NULL;
			dg = ip4_defrag(ns, &fdev, f);
			if (dg) {
				expect_datagram(dg, &a);
				pkt_free(dg);
				got++;
			}
		}
		/* twins that came after completion may complete a second copy */
		cr_assert(got == 1 || (dups && got == 2), "iteration %u: %u datagrams", iter, got);
		if (!dups)
			cr_assert_eq(ip4_frag_mem(ns), 0);
		advance(31 * NSEC_PER_SEC);
		cr_assert_eq(ip4_frag_mem(ns), 0);
		cr_assert(pkt_pools_full(ns->pools), "iteration %u leaked", iter);
		free(order);
		freeset(sa);
		freeset(sb);
		free(a.bytes);
		if (dups)
			free(b.bytes);
	}
}
