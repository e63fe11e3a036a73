/* SPDX-License-Identifier: MIT */
/*
 * test_neigh.c - the ARP cache against Linux's neighbour state machine, in
 * virtual time: resolution, queueing, probes and their exact times,
 * REACHABLE/STALE/DELAY/PROBE/FAILED, MSG_CONFIRM, ARP input, a full table
 *
 * Each test builds a real virtual-time namespace with one Ethernet device
 * whose xmit records frames (time, bytes) instead of sending them, and ends
 * with every pool block back.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <string.h>

#include "core/timer.h"
#include "ip/ip4.h"
#include "ip/neigh.h"
#include "net/netns.h"
#include "net/netns_internal.h"
#include "usock.h"
#include "wire/arp.h"
#include "wire/eth.h"

#define TN_MAX_FRAMES 64
#define TN_SNAP 64
#define MS (1000ull * 1000ull)
#define SEC (1000ull * MS)

struct tn_frame {
	uint64_t t;
	int ifindex;
	uint32_t len;
	uint8_t b[TN_SNAP];
};

static struct netns *tn_ns;
static struct netdev *tn_dev;
static struct tn_frame tn_frames[TN_MAX_FRAMES];
static unsigned tn_nframes;	/* all frames seen; the first TN_MAX_FRAMES are kept */

static const uint8_t tn_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t zero6[6];

static uint32_t A(unsigned a, unsigned b, unsigned c, unsigned d)
{
	return htonl((a << 24) | (b << 16) | (c << 8) | d);
}

static int tn_xmit(struct netdev *dev, struct pkt *pk)
{
	if (tn_nframes < TN_MAX_FRAMES) {
		struct tn_frame *f = &tn_frames[tn_nframes];

		f->t = netns_now(tn_ns) - 1000000000ull;	/* since the start (1 s) */
		f->ifindex = dev->ifindex;
		f->len = pk->tot_len;
		pkt_copy_out(pk, 0, f->b, pk->tot_len < TN_SNAP ? pk->tot_len : TN_SNAP);
	}
	tn_nframes++;
	pkt_free(pk);
	return 0;
}

static const struct link_ops tn_ops = {.kind = "recorder", .xmit = tn_xmit};

static struct netdev *tn_add_dev(const char *name, const uint8_t mac[6], uint32_t addr)
{
	int err;
	struct netdev *d = netns_dev_add(tn_ns, name, &tn_ops, ARPHRD_ETHER, &err);

	cr_assert_not_null(d, "netns_dev_add: %d", err);
	memcpy(d->hwaddr, mac, 6);
	cr_assert_eq(netns_dev_set_up(tn_ns, d, true), 0);
	cr_assert_eq(ip4_addr_add(tn_ns, d, addr, 24, 0), 0);
	return d;
}

static void tn_setup(void)
{
	int err;

	tn_ns = netns_create("tneigh", USOCK_NETNS_VIRTUAL_TIME, &err);
	cr_assert_not_null(tn_ns, "netns_create: %d", err);
	netns_lock(tn_ns);
	tn_dev = tn_add_dev("veth0", tn_mac, A(198, 18, 0, 1));
	/* a fixed reachable_time, so times are exact whatever the draw */
	tn_dev->neigh.reachable_time_ms = 20000;
	tn_nframes = 0;
	cr_assert(pkt_pools_full(tn_ns->pools));
}

static void tn_teardown(void)
{
	for (int i = 1; i < NETNS_MAX_DEV; i++)
		if (tn_ns->dev[i])
			neigh_dev_down(tn_ns, tn_ns->dev[i]);
	cr_assert(pkt_pools_full(tn_ns->pools), "a packet was not freed");
	netns_unlock(tn_ns);
	netns_destroy(tn_ns);
}

TestSuite(neigh, .init = tn_setup, .fini = tn_teardown);

/* ---- virtual time: stop at every timer deadline so callbacks see their own time ---- */

/* target: ns since the namespace was made (virtual time starts at 1 s, not 0) */
static void tn_advance_to(uint64_t target)
{
	target += 1000000000ull;
	for (;;) {
		uint64_t next = timer_next(&tn_ns->timers);
		uint64_t now = netns_now(tn_ns);

		if (next > target)
			break;
		if (next > now)
			clock_advance(&tn_ns->clock, next - now);
		timer_run(&tn_ns->timers, netns_now(tn_ns));
	}
	if (target > netns_now(tn_ns))
		clock_advance(&tn_ns->clock, target - netns_now(tn_ns));
}

/* ---- packets in ---- */

/* A UDP datagram from 198.18.0.1 to dst whose first payload byte is tag. */
static struct pkt *tn_ip(uint32_t dst, uint8_t tag, uint32_t truesize)
{
	struct pkt *pk = pkt_alloc(tn_ns->pools, 64);
	uint32_t src = A(198, 18, 0, 1);
	uint8_t *p;

	cr_assert_not_null(pk);
	p = pkt_put(pk, 20 + 8 + 4);
	memset(p, 0, 32);
	p[0] = 0x45;
	p[3] = 32;
	p[8] = 64;
	p[9] = 17;
	memcpy(p + 12, &src, 4);
	memcpy(p + 16, &dst, 4);
	p[20] = 0x30;
	p[21] = 0x39;
	p[22] = 0x00;
	p[23] = 0x09;
	p[25] = 12;
	p[28] = tag;
	pk->meta.truesize = truesize;
	return pk;
}

static int tn_send(uint32_t dst, uint8_t tag)
{
	return neigh_output(tn_ns, tn_dev, dst, tn_ip(dst, tag, 768));
}

/* An ARP frame arriving on dev, through the real receive demux. */
static void tn_rx_arp(struct netdev *dev, const uint8_t eth_dst[6], uint16_t op,
		      const uint8_t sha[6], uint32_t spa, const uint8_t tha[6], uint32_t tpa)
{
	struct pkt *pk = pkt_alloc(tn_ns->pools, 64);
	struct arp_repr r = {.op = op, .spa = spa, .tpa = tpa};
	struct eth_repr e = {.proto = ETH_P_ARP};

	cr_assert_not_null(pk);
	memcpy(r.sha, sha, 6);
	memcpy(r.tha, tha, 6);
	memcpy(e.dst, eth_dst, 6);
	memcpy(e.src, sha, 6);
	arp_build(pkt_put(pk, ARP_HLEN), &r);
	eth_build(pkt_push(pk, ETH_HLEN), &e);
	netdev_rx(dev, pk);
}

/* The peer answers our request with a unicast reply. */
static void tn_reply(uint32_t from, const uint8_t mac[6])
{
	tn_rx_arp(tn_dev, tn_mac, ARP_OP_REPLY, mac, from, tn_mac, A(198, 18, 0, 1));
}

/* ---- frames out ---- */

static struct tn_frame *tn_frame(unsigned i)
{
	cr_assert_lt(i, tn_nframes, "frame %u of %u", i, tn_nframes);
	cr_assert_lt(i, TN_MAX_FRAMES);
	return &tn_frames[i];
}

static void tn_expect_arp(unsigned i, uint64_t t, uint16_t op, const uint8_t eth_dst[6],
			  uint32_t spa, const uint8_t tha[6], uint32_t tpa)
{
	struct tn_frame *f = tn_frame(i);
	struct eth_repr e;
	struct arp_repr r;

	cr_expect_eq(f->t, t, "frame %u at %llu ns, expected %llu", i, (unsigned long long)f->t,
		     (unsigned long long)t);
	cr_assert_eq(f->len, ETH_HLEN + ARP_HLEN, "ARP frames are 42 bytes, got %u", f->len);
	cr_assert_eq(eth_parse(f->b, f->len, &e), ETH_HLEN);
	cr_assert_eq(e.proto, ETH_P_ARP);
	cr_expect_arr_eq(e.dst, eth_dst, 6);
	cr_expect_arr_eq(e.src, tn_mac, 6);
	cr_assert_eq(arp_parse(f->b + ETH_HLEN, ARP_HLEN, &r), ARP_HLEN);
	cr_expect_eq(r.op, op);
	cr_expect_arr_eq(r.sha, tn_mac, 6);
	cr_expect_eq(r.spa, spa);
	cr_expect_arr_eq(r.tha, tha, 6);
	cr_expect_eq(r.tpa, tpa);
}

static void tn_expect_ip(unsigned i, const uint8_t eth_dst[6], uint8_t tag)
{
	struct tn_frame *f = tn_frame(i);
	struct eth_repr e;

	cr_assert_eq(eth_parse(f->b, f->len, &e), ETH_HLEN);
	cr_expect_eq(e.proto, ETH_P_IP, "frame %u: proto %#x", i, e.proto);
	cr_expect_arr_eq(e.dst, eth_dst, 6);
	cr_expect_arr_eq(e.src, tn_mac, 6);
	cr_expect_eq(f->b[ETH_HLEN + 28], tag, "frame %u: tag %u, expected %u", i,
		     f->b[ETH_HLEN + 28], tag);
}

static unsigned tn_state(uint32_t addr)
{
	return neigh_lookup_state(tn_ns, tn_dev, addr, NULL);
}

/* ---- resolution ---- */

Test(neigh, resolution_from_none_with_reply)
{
	uint32_t peer = A(198, 18, 0, 2);
	uint8_t mac[6];
	char buf[256];

	cr_assert_eq(tn_send(peer, 7), 0);
	cr_assert_eq(tn_state(peer), NUD_INCOMPLETE);
	cr_assert_eq(tn_nframes, 1);
	tn_expect_arp(0, 0, ARP_OP_REQUEST, bcast, A(198, 18, 0, 1), zero6, peer);

	tn_advance_to(300 * MS);
	tn_reply(peer, peer_mac);
	cr_assert_eq(neigh_lookup_state(tn_ns, tn_dev, peer, mac), NUD_REACHABLE);
	cr_assert_arr_eq(mac, peer_mac, 6);
	cr_assert_eq(tn_nframes, 2);
	tn_expect_ip(1, peer_mac, 7);

	/* resolved: later packets go straight out */
	cr_assert_eq(tn_send(peer, 8), 0);
	cr_assert_eq(tn_nframes, 3);
	tn_expect_ip(2, peer_mac, 8);

	neigh_show(tn_ns, buf, sizeof(buf));
	cr_assert_str_eq(buf, "198.18.0.2 dev veth0 lladdr 02:00:00:00:00:02 REACHABLE \n");
}

Test(neigh, queue_flushed_in_order)
{
	uint32_t peer = A(198, 18, 0, 2);

	for (uint8_t tag = 1; tag <= 4; tag++)
		cr_assert_eq(tn_send(peer, tag), 0);
	/* one request: queueing on INCOMPLETE does not probe again */
	cr_assert_eq(tn_nframes, 1);
	tn_reply(peer, peer_mac);
	cr_assert_eq(tn_nframes, 5);
	for (unsigned i = 0; i < 4; i++)
		tn_expect_ip(1 + i, peer_mac, (uint8_t)(1 + i));
}

Test(neigh, unres_qlen_bytes_drops_oldest)
{
	uint32_t peer = A(198, 18, 0, 2);

	tn_dev->neigh.unres_qlen_bytes = 3000;
	for (uint8_t tag = 1; tag <= 5; tag++)
		cr_assert_eq(neigh_output(tn_ns, tn_dev, peer, tn_ip(peer, tag, 1000)), 0);
	tn_reply(peer, peer_mac);
	/* 3 x 1000 bytes fit: 1 and 2 were dropped (and freed) to make room */
	cr_assert_eq(tn_nframes, 4);
	tn_expect_ip(1, peer_mac, 3);
	tn_expect_ip(2, peer_mac, 4);
	tn_expect_ip(3, peer_mac, 5);
}

Test(neigh, failed_after_three_broadcast_probes)
{
	uint32_t peer = A(198, 18, 0, 9);
	uint64_t lo_tx = tn_ns->lo->tx_packets;
	char buf[256];

	cr_assert_eq(tn_send(peer, 1), 0);
	tn_advance_to(500 * MS);
	cr_assert_eq(tn_send(peer, 2), 0);
	tn_advance_to(3 * SEC - 1);
	cr_assert_eq(tn_state(peer), NUD_INCOMPLETE);
	cr_assert_eq(tn_nframes, 3);
	tn_expect_arp(0, 0, ARP_OP_REQUEST, bcast, A(198, 18, 0, 1), zero6, peer);
	tn_expect_arp(1, 1 * SEC, ARP_OP_REQUEST, bcast, A(198, 18, 0, 1), zero6, peer);
	tn_expect_arp(2, 2 * SEC, ARP_OP_REQUEST, bcast, A(198, 18, 0, 1), zero6, peer);

	tn_advance_to(3 * SEC);
	cr_assert_eq(tn_state(peer), NUD_FAILED);
	cr_assert_eq(tn_nframes, 3, "no fourth probe");
	/* each queued packet is reported to its (local) sender: ICMP host unreachable over lo */
	cr_assert_eq(tn_ns->lo->tx_packets - lo_tx, 2);
	neigh_show(tn_ns, buf, sizeof(buf));
	cr_assert_str_eq(buf, "198.18.0.9 dev veth0 FAILED \n");

	/* the next packet starts over, as on Linux */
	tn_advance_to(3500 * MS);
	cr_assert_eq(tn_send(peer, 3), 0);
	cr_assert_eq(tn_state(peer), NUD_INCOMPLETE);
	cr_assert_eq(tn_nframes, 4);
	tn_expect_arp(3, 3500 * MS, ARP_OP_REQUEST, bcast, A(198, 18, 0, 1), zero6, peer);
}

Test(neigh, no_probes_means_failed_at_once)
{
	uint32_t peer = A(198, 18, 0, 9);

	tn_dev->neigh.mcast_probes = 0;
	cr_assert_eq(tn_send(peer, 1), 0);
	cr_assert_eq(tn_state(peer), NUD_FAILED);
	cr_assert_eq(tn_nframes, 0);
}

/* ---- aging and reconfirmation ---- */

static void tn_resolve(uint32_t peer)
{
	unsigned before = tn_nframes;

	cr_assert_eq(tn_send(peer, 1), 0);
	tn_reply(peer, peer_mac);
	cr_assert_eq(tn_state(peer), NUD_REACHABLE);
	cr_assert_eq(tn_nframes, before + 2);
}

Test(neigh, reachable_to_stale_after_reachable_time)
{
	uint32_t peer = A(198, 18, 0, 2);
	char buf[256];

	tn_resolve(peer);
	/* packets on a resolved entry do not count as use (the cached-header fast path) */
	tn_advance_to(19 * SEC);
	cr_assert_eq(tn_send(peer, 2), 0);
	/* the timer at confirmed + reachable_time finds it just alive, and looks again 10 ms later */
	tn_advance_to(20 * SEC + 10 * MS - 1);
	cr_assert_eq(tn_state(peer), NUD_REACHABLE);
	tn_advance_to(20 * SEC + 10 * MS);
	cr_assert_eq(tn_state(peer), NUD_STALE);
	cr_assert_eq(tn_nframes, 3, "no probe for an idle STALE entry");
	neigh_show(tn_ns, buf, sizeof(buf));
	cr_assert_str_eq(buf, "198.18.0.2 dev veth0 lladdr 02:00:00:00:00:02 STALE \n");
	/* STALE stays STALE until used */
	tn_advance_to(100 * SEC);
	cr_assert_eq(tn_state(peer), NUD_STALE);
}

Test(neigh, reachable_used_recently_goes_to_delay)
{
	uint32_t peer = A(198, 18, 0, 2);

	/* an admin REACHABLE entry has no cached header: its first packet marks it used */
	cr_assert_eq(neigh_add(tn_ns, tn_dev, peer, peer_mac, NUD_REACHABLE), 0);
	tn_advance_to(18 * SEC);
	cr_assert_eq(tn_send(peer, 1), 0);
	tn_advance_to(20 * SEC + 10 * MS);
	cr_assert_eq(tn_state(peer), NUD_DELAY);
	/* not confirmed within delay_first_probe_time: PROBE and a unicast request */
	tn_advance_to(25 * SEC + 10 * MS);
	cr_assert_eq(tn_state(peer), NUD_PROBE);
	cr_assert_eq(tn_nframes, 2);
	tn_expect_arp(1, 25 * SEC + 10 * MS, ARP_OP_REQUEST, peer_mac, A(198, 18, 0, 1), zero6,
		      peer);
}

Test(neigh, stale_delay_probe_unicast_then_failed)
{
	uint32_t peer = A(198, 18, 0, 2);

	cr_assert_eq(neigh_add(tn_ns, tn_dev, peer, peer_mac, NUD_STALE), 0);
	tn_advance_to(1 * SEC);
	cr_assert_eq(tn_send(peer, 1), 0);
	/* STALE sends at once and waits delay_first_probe_time in DELAY */
	cr_assert_eq(tn_state(peer), NUD_DELAY);
	cr_assert_eq(tn_nframes, 1);
	tn_expect_ip(0, peer_mac, 1);
	tn_advance_to(6 * SEC - 1);
	cr_assert_eq(tn_state(peer), NUD_DELAY);
	cr_assert_eq(tn_nframes, 1);
	tn_advance_to(6 * SEC);
	cr_assert_eq(tn_state(peer), NUD_PROBE);
	/* PROBE still sends */
	cr_assert_eq(tn_send(peer, 2), 0);
	tn_expect_ip(2, peer_mac, 2);
	/* ucast_probes (3) unicast requests to the cached address, retrans_time apart */
	tn_advance_to(9 * SEC);
	cr_assert_eq(tn_state(peer), NUD_FAILED);
	cr_assert_eq(tn_nframes, 5);
	tn_expect_arp(1, 6 * SEC, ARP_OP_REQUEST, peer_mac, A(198, 18, 0, 1), zero6, peer);
	tn_expect_arp(3, 7 * SEC, ARP_OP_REQUEST, peer_mac, A(198, 18, 0, 1), zero6, peer);
	tn_expect_arp(4, 8 * SEC, ARP_OP_REQUEST, peer_mac, A(198, 18, 0, 1), zero6, peer);
}

Test(neigh, probe_answered_goes_reachable)
{
	uint32_t peer = A(198, 18, 0, 2);

	cr_assert_eq(neigh_add(tn_ns, tn_dev, peer, peer_mac, NUD_STALE), 0);
	cr_assert_eq(tn_send(peer, 1), 0);
	tn_advance_to(5 * SEC);
	cr_assert_eq(tn_state(peer), NUD_PROBE);
	tn_advance_to(5 * SEC + 2 * MS);
	tn_reply(peer, peer_mac);
	cr_assert_eq(tn_state(peer), NUD_REACHABLE);
	tn_advance_to(10 * SEC);
	cr_assert_eq(tn_nframes, 2, "one probe only");
}

Test(neigh, msg_confirm_every_100ms_suppresses_the_probe)
{
	uint32_t peer = A(198, 18, 0, 2);

	cr_assert_eq(neigh_add(tn_ns, tn_dev, peer, peer_mac, NUD_STALE), 0);
	/* as ip4_output with MSG_CONFIRM: confirm, then output */
	for (unsigned i = 0; i < 60; i++) {
		tn_advance_to(i * 100 * MS);
		neigh_confirm(tn_ns, tn_dev, peer);
		cr_assert_eq(tn_send(peer, (uint8_t)i), 0);
		if (i == 0)
			cr_assert_eq(tn_state(peer), NUD_DELAY);
	}
	tn_advance_to(6 * SEC);
	/* DELAY found the confirmation recent at 5 s and went back to REACHABLE */
	cr_assert_eq(tn_state(peer), NUD_REACHABLE);
	cr_assert_eq(tn_nframes, 60);
	for (unsigned i = 0; i < 60; i++)
		tn_expect_ip(i, peer_mac, (uint8_t)i);
}

Test(neigh, without_confirm_the_same_traffic_probes)
{
	uint32_t peer = A(198, 18, 0, 2);
	unsigned arps = 0;

	cr_assert_eq(neigh_add(tn_ns, tn_dev, peer, peer_mac, NUD_STALE), 0);
	for (unsigned i = 0; i < 60; i++) {
		tn_advance_to(i * 100 * MS);
		cr_assert_eq(tn_send(peer, (uint8_t)i), 0);
	}
	cr_assert_eq(tn_state(peer), NUD_PROBE);
	for (unsigned i = 0; i < tn_nframes; i++)
		if (tn_frames[i].len == ETH_HLEN + ARP_HLEN) {
			arps++;
			tn_expect_arp(i, 5 * SEC, ARP_OP_REQUEST, peer_mac, A(198, 18, 0, 1),
				      zero6, peer);
		}
	cr_assert_eq(arps, 1);
}

Test(neigh, confirm_does_not_create)
{
	neigh_confirm(tn_ns, tn_dev, A(198, 18, 0, 2));
	cr_assert_eq(tn_state(A(198, 18, 0, 2)), NUD_NONE);
}

/* ---- ARP input ---- */

Test(neigh, request_for_us_is_answered_and_cached_stale)
{
	uint32_t asker = A(198, 18, 0, 7);
	const uint8_t asker_mac[6] = {0x02, 0, 0, 0, 0, 0x07};
	uint8_t mac[6];
	char buf[256];

	tn_rx_arp(tn_dev, bcast, ARP_OP_REQUEST, asker_mac, asker, zero6, A(198, 18, 0, 1));
	cr_assert_eq(tn_nframes, 1);
	tn_expect_arp(0, 0, ARP_OP_REPLY, asker_mac, A(198, 18, 0, 1), asker_mac, asker);
	cr_assert_eq(neigh_lookup_state(tn_ns, tn_dev, asker, mac), NUD_STALE);
	cr_assert_arr_eq(mac, asker_mac, 6);
	neigh_show(tn_ns, buf, sizeof(buf));
	cr_assert_str_eq(buf, "198.18.0.7 dev veth0 lladdr 02:00:00:00:00:07 STALE \n");

	/* a request for someone else: no reply, no entry */
	tn_rx_arp(tn_dev, bcast, ARP_OP_REQUEST, peer_mac, A(198, 18, 0, 2), zero6,
		  A(198, 18, 0, 50));
	cr_assert_eq(tn_nframes, 1);
	cr_assert_eq(tn_state(A(198, 18, 0, 2)), NUD_NONE);
}

Test(neigh, request_for_another_interfaces_address_is_answered)
{
	struct netdev *d1 = tn_add_dev("veth1", (const uint8_t[6]){0x02, 0, 0, 0, 1, 1},
				       A(198, 19, 0, 1));
	uint32_t asker = A(198, 18, 0, 7);

	(void)d1;
	/* arp_ignore 0: any local address, whichever interface asked */
	tn_rx_arp(tn_dev, bcast, ARP_OP_REQUEST, peer_mac, asker, zero6, A(198, 19, 0, 1));
	cr_assert_eq(tn_nframes, 1);
	tn_expect_arp(0, 0, ARP_OP_REPLY, peer_mac, A(198, 19, 0, 1), peer_mac, asker);
}

Test(neigh, request_resolves_an_incomplete_entry)
{
	uint32_t peer = A(198, 18, 0, 2);

	cr_assert_eq(tn_send(peer, 1), 0);
	cr_assert_eq(tn_send(peer, 2), 0);
	/* the peer asks for us before answering: its request resolves the entry (STALE) */
	tn_rx_arp(tn_dev, bcast, ARP_OP_REQUEST, peer_mac, peer, zero6, A(198, 18, 0, 1));
	/* queued packets first (the first moves STALE to DELAY), then our reply */
	cr_assert_eq(tn_nframes, 4);
	tn_expect_ip(1, peer_mac, 1);
	tn_expect_ip(2, peer_mac, 2);
	tn_expect_arp(3, 0, ARP_OP_REPLY, peer_mac, A(198, 18, 0, 1), peer_mac, peer);
	cr_assert_eq(tn_state(peer), NUD_DELAY);
}

Test(neigh, unsolicited_reply_and_gratuitous_arp_are_not_cached)
{
	uint32_t other = A(198, 18, 0, 8);
	const uint8_t other_mac[6] = {0x02, 0, 0, 0, 0, 0x08};

	tn_reply(other, other_mac);
	tn_rx_arp(tn_dev, bcast, ARP_OP_REPLY, other_mac, other, other_mac, other);
	tn_rx_arp(tn_dev, bcast, ARP_OP_REQUEST, other_mac, other, zero6, other);
	cr_assert_eq(tn_state(other), NUD_NONE);
	cr_assert_eq(tn_nframes, 0);
}

Test(neigh, gratuitous_arp_updates_an_existing_entry)
{
	uint32_t peer = A(198, 18, 0, 2);
	const uint8_t new_mac[6] = {0x02, 0, 0, 0, 0, 0x22};
	uint8_t mac[6];

	tn_resolve(peer);
	/* within locktime a different address is ignored... */
	tn_advance_to(500 * MS);
	tn_rx_arp(tn_dev, tn_mac, ARP_OP_REPLY, new_mac, peer, tn_mac, A(198, 18, 0, 1));
	neigh_lookup_state(tn_ns, tn_dev, peer, mac);
	cr_assert_arr_eq(mac, peer_mac, 6);
	/* ...unless it is gratuitous */
	tn_rx_arp(tn_dev, bcast, ARP_OP_REQUEST, new_mac, peer, zero6, peer);
	cr_assert_eq(neigh_lookup_state(tn_ns, tn_dev, peer, mac), NUD_STALE);
	cr_assert_arr_eq(mac, new_mac, 6);
}

Test(neigh, broadcast_reply_only_makes_stale)
{
	uint32_t peer = A(198, 18, 0, 2);

	cr_assert_eq(tn_send(peer, 1), 0);
	tn_rx_arp(tn_dev, bcast, ARP_OP_REPLY, peer_mac, peer, tn_mac, A(198, 18, 0, 1));
	/* STALE, and the queued packet sent on it moves it to DELAY at once */
	cr_assert_eq(tn_state(peer), NUD_DELAY);
	cr_assert_eq(tn_nframes, 2);
	tn_expect_ip(1, peer_mac, 1);
	/* no later confirmation: it will probe */
	tn_advance_to(5 * SEC);
	cr_assert_eq(tn_state(peer), NUD_PROBE);
}

Test(neigh, malformed_arp_is_dropped)
{
	struct pkt *pk = pkt_alloc(tn_ns->pools, 64);
	uint8_t *p = pkt_put(pk, 20);

	memset(p, 0, 20);
	arp_rcv(tn_ns, tn_dev, pk);
	cr_assert_eq(tn_nframes, 0);
}

/* ---- no resolution needed ---- */

Test(neigh, broadcast_multicast_and_noarp_need_no_resolution)
{
	struct netdev *na = tn_add_dev("veth1", (const uint8_t[6]){0x02, 0, 0, 0, 1, 1},
				       A(198, 19, 0, 1));
	const uint8_t mc[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb};
	struct eth_repr e;

	cr_assert_eq(tn_send(A(198, 18, 0, 255), 1), 0);
	cr_assert_eq(tn_send(A(255, 255, 255, 255), 2), 0);
	cr_assert_eq(tn_send(A(224, 0, 0, 251), 3), 0);
	cr_assert_eq(tn_nframes, 3);
	tn_expect_ip(0, bcast, 1);
	tn_expect_ip(1, bcast, 2);
	tn_expect_ip(2, mc, 3);
	cr_assert_eq(tn_state(A(198, 18, 0, 255)), NUD_NONE);

	na->flags |= IFF_NOARP;
	cr_assert_eq(neigh_output(tn_ns, na, A(198, 19, 0, 2), tn_ip(A(198, 19, 0, 2), 4, 768)), 0);
	cr_assert_eq(tn_nframes, 4);
	cr_assert_eq(eth_parse(tn_frames[3].b, tn_frames[3].len, &e), ETH_HLEN);
	cr_assert_arr_eq(e.dst, na->hwaddr, 6);
}

/* ---- administration ---- */

Test(neigh, add_del_show)
{
	uint32_t a = A(198, 18, 0, 3), b = A(198, 18, 0, 4);
	char buf[512];
	int n;

	cr_assert_eq(neigh_add(tn_ns, tn_dev, a, peer_mac, NUD_PERMANENT), 0);
	cr_assert_eq(neigh_add(tn_ns, tn_dev, b, NULL, NUD_REACHABLE), -EINVAL);
	cr_assert_eq(neigh_add(tn_ns, tn_dev, b, peer_mac, NUD_STALE), 0);
	n = neigh_show(tn_ns, buf, sizeof(buf));
	cr_assert_str_eq(buf, "198.18.0.4 dev veth0 lladdr 02:00:00:00:00:02 STALE \n"
			      "198.18.0.3 dev veth0 lladdr 02:00:00:00:00:02 PERMANENT \n");
	cr_assert_eq(n, (int)strlen(buf));
	/* a line that does not fit is left out whole */
	n = neigh_show(tn_ns, buf, 60);
	cr_assert_str_eq(buf, "198.18.0.4 dev veth0 lladdr 02:00:00:00:00:02 STALE \n");

	/* ARP cannot change a PERMANENT entry */
	tn_rx_arp(tn_dev, tn_mac, ARP_OP_REPLY, tn_mac, a, tn_mac, A(198, 18, 0, 1));
	cr_assert_eq(tn_state(a), NUD_PERMANENT);

	cr_assert_eq(neigh_del(tn_ns, tn_dev, a), 0);
	cr_assert_eq(neigh_del(tn_ns, tn_dev, a), -ENOENT);
	cr_assert_eq(tn_state(a), NUD_NONE);
	neigh_dev_down(tn_ns, tn_dev);
	cr_assert_eq(neigh_show(tn_ns, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "");
}

Test(neigh, del_incomplete_reports_queued_packets)
{
	uint32_t peer = A(198, 18, 0, 9);
	uint64_t lo_tx = tn_ns->lo->tx_packets;

	cr_assert_eq(tn_send(peer, 1), 0);
	cr_assert_eq(neigh_del(tn_ns, tn_dev, peer), 0);
	cr_assert_eq(tn_ns->lo->tx_packets - lo_tx, 1);
	tn_advance_to(10 * SEC);
	cr_assert_eq(tn_nframes, 1, "no probe after delete");
}

Test(neigh, dev_down_drops_queue_silently)
{
	uint32_t peer = A(198, 18, 0, 9);
	uint64_t lo_tx = tn_ns->lo->tx_packets;

	cr_assert_eq(tn_send(peer, 1), 0);
	cr_assert_eq(neigh_add(tn_ns, tn_dev, A(198, 18, 0, 3), peer_mac, NUD_PERMANENT), 0);
	cr_assert_eq(netns_dev_set_up(tn_ns, tn_dev, false), 0);
	cr_assert_eq(tn_state(peer), NUD_NONE);
	cr_assert_eq(tn_state(A(198, 18, 0, 3)), NUD_NONE);
	cr_assert_eq(tn_ns->lo->tx_packets, lo_tx);
	tn_advance_to(10 * SEC);
	cr_assert_eq(tn_nframes, 1);
}

/* ---- a full table ---- */

static uint32_t tn_nth(unsigned i)
{
	return A(10, 1, i >> 8, i & 0xff);
}

Test(neigh, full_table_of_resolving_entries_refuses_then_evicts_failed)
{
	uint32_t extra = A(10, 2, 0, 1);

	for (unsigned i = 0; i < 1024; i++)
		cr_assert_eq(tn_send(tn_nth(i), 1), 0, "entry %u", i);
	/* every entry waits on its timer: nothing can go */
	cr_assert_eq(tn_send(extra, 1), -ENOBUFS);
	cr_assert_eq(tn_state(extra), NUD_NONE);

	tn_advance_to(3 * SEC);
	cr_assert_eq(tn_state(tn_nth(0)), NUD_FAILED);
	cr_assert_eq(tn_state(tn_nth(1023)), NUD_FAILED);
	/* forced GC drops the oldest FAILED entries down to gc_thresh2 */
	cr_assert_eq(tn_send(extra, 1), 0);
	cr_assert_eq(tn_state(extra), NUD_INCOMPLETE);
	cr_assert_eq(tn_state(tn_nth(0)), NUD_NONE);
	cr_assert_eq(tn_state(tn_nth(512)), NUD_NONE);
	cr_assert_eq(tn_state(tn_nth(513)), NUD_FAILED);
	cr_assert_eq(tn_state(tn_nth(1023)), NUD_FAILED);
}

Test(neigh, full_table_keeps_recent_and_permanent_entries)
{
	uint32_t extra = A(10, 2, 0, 1);

	for (unsigned i = 0; i < 16; i++)
		cr_assert_eq(neigh_add(tn_ns, tn_dev, A(10, 3, 0, i), peer_mac, NUD_PERMANENT), 0);
	for (unsigned i = 0; i < 1024; i++)
		cr_assert_eq(neigh_add(tn_ns, tn_dev, tn_nth(i), peer_mac, NUD_STALE), 0);
	/* STALE entries updated within the last 5 s stay */
	cr_assert_eq(tn_send(extra, 1), -ENOBUFS);
	tn_advance_to(6 * SEC);
	cr_assert_eq(tn_send(extra, 1), 0);
	cr_assert_eq(tn_state(tn_nth(512)), NUD_NONE);
	cr_assert_eq(tn_state(tn_nth(513)), NUD_STALE);
	for (unsigned i = 0; i < 16; i++)
		cr_assert_eq(tn_state(A(10, 3, 0, i)), NUD_PERMANENT);
}

/* ---- periodic work ---- */

Test(neigh, periodic_gc_sweeps_unused_entries_only_past_gc_thresh1)
{
	for (unsigned i = 0; i < 127; i++)
		cr_assert_eq(neigh_add(tn_ns, tn_dev, tn_nth(i), peer_mac, NUD_STALE), 0);
	tn_advance_to(120 * SEC);
	/* below gc_thresh1 (128) nothing is collected */
	cr_assert_eq(tn_state(tn_nth(0)), NUD_STALE);

	for (unsigned i = 127; i < 130; i++)
		cr_assert_eq(neigh_add(tn_ns, tn_dev, tn_nth(i), peer_mac, NUD_STALE), 0);
	cr_assert_eq(neigh_add(tn_ns, tn_dev, A(10, 3, 0, 1), peer_mac, NUD_PERMANENT), 0);
	/* the sweep every 15 s drops what was not used for gc_stale_time (60 s) */
	tn_advance_to(150 * SEC);
	cr_assert_eq(tn_state(tn_nth(0)), NUD_NONE);
	cr_assert_eq(tn_state(tn_nth(126)), NUD_NONE);
	cr_assert_eq(tn_state(tn_nth(129)), NUD_STALE);
	cr_assert_eq(tn_state(A(10, 3, 0, 1)), NUD_PERMANENT);
}

Test(neigh, reachable_time_is_rerandomised_every_300s)
{
	uint32_t first = 0;
	unsigned changes = 0;

	/* the periodic work runs while the table has an entry */
	cr_assert_eq(neigh_add(tn_ns, tn_dev, A(198, 18, 0, 3), peer_mac, NUD_PERMANENT), 0);
	for (unsigned s = 15; s <= 2400; s += 15) {
		uint32_t before = tn_dev->neigh.reachable_time_ms;

		tn_advance_to(s * SEC);
		if (tn_dev->neigh.reachable_time_ms != before) {
			changes++;
			if (!first)
				first = s;
			/* neigh_rand_reach_time: base/2 .. 3*base/2 */
			cr_assert_geq(tn_dev->neigh.reachable_time_ms, 15000);
			cr_assert_lt(tn_dev->neigh.reachable_time_ms, 45000);
		}
	}
	/* first after 20 reachable times + 300 s (neigh_table_init), then every 300-315 s */
	cr_assert_geq(first, 600);
	cr_assert_leq(first, 1215);
	cr_assert_geq(changes, (2400 - first) / 315);
}
