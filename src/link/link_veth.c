/* SPDX-License-Identifier: MIT */
/*
 * link_veth.c - in-memory veth pairs between namespaces
 *
 * Theory of operation.  Each end's priv holds the other end and the end's
 * qdisc.  A frame sent on one end is received on the other: directly
 * (netdev_rx) when both ends are in one namespace, whose lock the sender
 * holds; otherwise copied into the peer's namespace with netdev_rx_frame,
 * which never blocks on the peer's lock, so two namespaces sending to each
 * other cannot deadlock.  Like the kernel's veth, a frame to a peer that is
 * down is dropped, before the qdisc sees it (no draw is taken for it) and
 * again when a held frame comes due.  Removing one end removes both (as
 * `ip link del` on a veth does); the caller of link_veth_unpair holds both
 * namespaces' locks or knows the peer namespace is quiescent.
 *
 * Impairments (`qdisc add dev D root netem ...`) act on the frames sent on
 * one end, as netem on an egress device: see qdisc.c.  A held frame waits
 * on the sender's namespace timer base and is handed to the peer (as
 * above) under the sender's lock when its time comes; on virtual time the
 * whole run is determined by the seeds and the steps.
 */
#include <errno.h>
#include <net/if_arp.h>
#include <string.h>

#include "link/link.h"
#include "link/qdisc.h"
#include "net/netns_internal.h"

struct veth_priv {
	struct netdev *peer;
	struct qdisc qd;	/* netem on the frames sent on this end */
};

/* The priv comes from the namespace's device cache. */
_Static_assert(sizeof(struct veth_priv) <= sizeof(struct netdev), "veth_priv too big");

/*
 * veth_out - hand one frame to the peer now (the qdisc's way to the wire);
 * consumes pk.  Return: 0, or -ENETDOWN (no peer, or it is down: dropped
 * and counted in tx_dropped).
 */
static int veth_out(struct netdev *dev, struct pkt *pk)
{
	struct veth_priv *vp = dev->priv;
	struct netdev *peer = vp ? vp->peer : NULL;

	if (!peer || !(peer->flags & IFF_UP)) {
		dev->tx_dropped++;
		pkt_free(pk);
		return -ENETDOWN;
	}
	if (peer->ns == dev->ns) {
		netdev_rx(peer, pk);
		return 0;
	}
	netdev_rx_frame(peer, pk);
	pkt_free(pk);
	return 0;
}

static int veth_xmit(struct netdev *dev, struct pkt *pk)
{
	struct veth_priv *vp = dev->priv;
	struct netdev *peer = vp ? vp->peer : NULL;

	if (!peer || !(peer->flags & IFF_UP)) {
		dev->tx_dropped++;
		pkt_free(pk);
		return 0;
	}
	if (qdisc_active(&vp->qd)) {
		qdisc_enqueue(&vp->qd, pk);
		return 0;
	}
	pk->next = NULL;
	pk->meta.tstamp_ns = 0;
	veth_out(dev, pk);
	return 0;
}

static void veth_set_up(struct netdev *dev, bool up)
{
	struct veth_priv *vp = dev->priv;

	if (vp && !up)
		qdisc_reset(&vp->qd);
}

static void veth_destroy(struct netdev *dev)
{
	struct veth_priv *vp = dev->priv;
	if (!vp)
		return;
	qdisc_destroy(&vp->qd);
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
	.set_up = veth_set_up,
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
	qdisc_init(&pa->qd, da, veth_out);
	qdisc_init(&pb->qd, db, veth_out);
	return 0;
}

struct netdev *link_veth_peer(struct netdev *dev)
{
	if (dev->ops != &link_veth_ops || !dev->priv)
		return NULL;
	return ((struct veth_priv *)dev->priv)->peer;
}
