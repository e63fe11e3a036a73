/* SPDX-License-Identifier: MIT */
/*
 * link_veth.c - in-memory veth pairs between namespaces
 *
 * Theory of operation.  Each end's priv points at the other end.  A frame
 * sent on one end is received on the other: directly (netdev_rx) when both
 * ends are in one namespace, whose lock the sender holds; otherwise copied
 * into the peer's namespace with netdev_rx_frame, which never blocks on the
 * peer's lock, so two namespaces sending to each other cannot deadlock.
 * Like the kernel's veth, a frame to a peer that is down is dropped.
 * Removing one end removes both (as `ip link del` on a veth does); the
 * caller of link_veth_unpair holds both namespaces' locks or knows the peer
 * namespace is quiescent.
 */
#include <errno.h>
#include <net/if_arp.h>
#include <string.h>

#include "link/link.h"
#include "net/netns_internal.h"

struct veth_priv {
	struct netdev *peer;
};

static int veth_xmit(struct netdev *dev, struct pkt *pk)
{
	struct veth_priv *vp = dev->priv;
	struct netdev *peer = vp ? vp->peer : NULL;
	if (!peer || !(peer->flags & IFF_UP)) {
		dev->tx_dropped++;
		pkt_free(pk);
		return 0;
	}
	if (peer->ns == dev->ns) {
		netdev_rx(peer, pk);
		return 0;
	}
	netdev_rx_frame(peer, pk);
	pkt_free(pk);
	return 0;
}

static void veth_destroy(struct netdev *dev)
{
	struct veth_priv *vp = dev->priv;
	if (!vp)
		return;
	struct netdev *peer = vp->peer;
	dev->priv = NULL;
	if (peer && peer->priv) {
		struct veth_priv *pp = peer->priv;
		pp->peer = NULL;
	}
	ns_cache_free(dev->ns, NSC_DEV, vp);
}

const struct link_ops link_veth_ops = {
	.kind = "veth",
	.xmit = veth_xmit,
	.destroy = veth_destroy,
};

int link_veth_pair(struct netns *na, const char *a, struct netns *nb, const char *b)
{
	int err;
	if (na == nb && strcmp(a, b) == 0)
		return -EEXIST;
	if (netns_dev_by_name(nb, b))
		return -EEXIST;
	struct netdev *da = netns_dev_add(na, a, &link_veth_ops, ARPHRD_ETHER, &err);
	if (!da)
		return err;
	struct netdev *db = netns_dev_add(nb, b, &link_veth_ops, ARPHRD_ETHER, &err);
	if (!db) {
		netns_dev_remove(na, da);
		return err;
	}
	struct veth_priv *pa = ns_cache_alloc(na, NSC_DEV);
	struct veth_priv *pb = ns_cache_alloc(nb, NSC_DEV);
	if (!pa || !pb) {
		if (pa)
			ns_cache_free(na, NSC_DEV, pa);
		if (pb)
			ns_cache_free(nb, NSC_DEV, pb);
		netns_dev_remove(na, da);
		netns_dev_remove(nb, db);
		return -ENOMEM;
	}
	pa->peer = db;
	pb->peer = da;
	da->priv = pa;
	db->priv = pb;
	return 0;
}

struct netdev *link_veth_peer(struct netdev *dev)
{
	if (dev->ops != &link_veth_ops || !dev->priv)
		return NULL;
	return ((struct veth_priv *)dev->priv)->peer;
}
