/* SPDX-License-Identifier: MIT */
/*
 * dev.c - the receive demux and a namespace's object caches
 */
#include <errno.h>
#include <linux/if_ether.h>
#include <net/if_arp.h>
#include <linux/if_packet.h>
#include <string.h>

#include "ip/ip4.h"
#include "ip/neigh.h"
#include "net/netns_internal.h"
#include "sock/sock.h"
#include "wire/eth.h"

static const size_t cache_objsize[NSC_COUNT] = {
	[NSC_DEV] = sizeof(struct netdev),
	[NSC_SOCK] = SOCK_OBJ_SIZE,
	[NSC_SOCK_TCP] = SOCK_OBJ_SIZE_LARGE,
};

int ns_caches_init(struct netns *ns)
{
	for (int i = 0; i < NSC_COUNT; i++)
		arena_cache_init(&ns->cache[i], ns->arena, cache_objsize[i], 0);
	return 0;
}

void *ns_cache_alloc(struct netns *ns, int which)
{
	return arena_cache_alloc(&ns->cache[which]);
}

void ns_cache_free(struct netns *ns, int which, void *obj)
{
	arena_cache_free(&ns->cache[which], obj);
}

/*
 * netdev_receive - classify by destination MAC as eth_type_trans does
 * (PACKET_HOST / BROADCAST / MULTICAST / OTHERHOST), drop frames for other
 * hosts (no promiscuous mode), then hand ARP and IPv4 up.
 */
void netdev_receive(struct netdev *dev, struct pkt *pk)
{
	struct eth_repr eh;
	const uint8_t *p = pkt_linear(pk, ETH_HLEN);
	if (!(dev->flags & IFF_UP) || !p || eth_parse(p, ETH_HLEN, &eh) < 0) {
		dev->rx_dropped++;
		pkt_free(pk);
		return;
	}
	bool looped = pk->meta.pkt_type == PACKET_LOOPBACK;
	dev->rx_packets++;
	dev->rx_bytes += pk->tot_len;
	if (dev->pcap && dev->type != ARPHRD_LOOPBACK && !looped)
		link_pcap_write(dev->pcap, pk, clock_realtime(&dev->ns->clock));
	if (looped) {
		pk->meta.pkt_type = PACKET_BROADCAST;
	} else if (eh.dst[0] & 1) {
		static const uint8_t bc[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
		pk->meta.pkt_type = memcmp(eh.dst, bc, 6) == 0 ? PACKET_BROADCAST : PACKET_MULTICAST;
	} else if (dev->type == ARPHRD_LOOPBACK || memcmp(eh.dst, dev->hwaddr, 6) == 0) {
		pk->meta.pkt_type = PACKET_HOST;
	} else {
		pkt_free(pk);
		return;
	}
	pkt_pull(pk, ETH_HLEN);
	switch (eh.proto) {
	case ETH_P_IP:
		ip4_rcv(dev->ns, dev, pk);
		return;
	case ETH_P_ARP:
		arp_rcv(dev->ns, dev, pk);
		return;
	default:
		pkt_free(pk);
	}
}
