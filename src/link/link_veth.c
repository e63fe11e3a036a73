/* SPDX-License-Identifier: MIT */
/*
 * link_veth.c - in-memory veth pairs between namespaces, with impairments
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
 *
 * Impairments (link_veth_impair, `qdisc add dev D root netem ...`) act on
 * the frames sent on one end, as netem on an egress device.  Each end owns:
 * - its settings and a splitmix64 PRNG seeded from them.  Every frame takes
 *   the same four draws in the same order (loss, duplicate, reorder,
 *   jitter; two more for a duplicate), whether or not the feature is on, so
 *   the decisions depend only on the seed and the sequence of frames sent on
 *   this end: other traffic in the namespace, or netns_random, never shifts
 *   them, and turning one knob does not reshuffle the others.
 * - a queue of held frames sorted by release time (ties: in the order they
 *   were queued), linked through pkt->next, at most `limit` long.  The
 *   frames are the sender's own packets, from its namespace's pools, so
 *   holding them allocates nothing; a duplicate is a copy from those pools.
 *   The release time rides in the frame's meta.tstamp_ns, a receive-time
 *   field that nothing reads on the way out (netem keeps it in skb->cb),
 *   and is cleared before the frame is handed over.
 * - one timer on the sender's namespace timer base, armed at the head's
 *   release time; it hands every due frame to the peer (netdev_rx in the
 *   same namespace, else netdev_rx_frame) under the sender's lock.  On
 *   virtual time the timer fires from usock_clock_advance[_all], so the
 *   whole run is determined by the seed and the steps.
 * A frame due at once (no delay, nothing held before it) is handed over in
 * the sender's call, exactly as without impairments.
 *
 * Capture: netdev_xmit writes the sender's pcap before the frame reaches
 * the link, so a frame lost here still appears on the sender's capture (at
 * its send time) and the peer's capture shows what arrived, when it did.
 * Linux taps an egress device after its qdisc (dev_queue_xmit_nit from
 * dev_hard_start_xmit), so there a netem-dropped frame is not captured on
 * the sender's side: capture on the receiving end to see exactly what
 * crossed.  Counters: link_veth_impair_get, printed by `qdisc show`.
 *
 * Taking a device down purges the held frames, as dev_deactivate resets
 * the device's qdisc; removing the end frees them and cancels its timer.
 *
 * Limits: at most `limit` frames held per end (each an ordinary pool
 * packet, so the pools bound them too); inserting behind a reordered frame
 * walks the queue.  If the namespace's timer heap were full, the head would
 * wait for the next frame sent on the end to re-arm it.
 */
#include <errno.h>
#include <net/if_arp.h>
#include <string.h>

#include "link/link.h"
#include "net/netns_internal.h"

#define VETH_DEFAULT_LIMIT 1000u	/* netem's default limit */

struct veth_priv {
	struct netdev *peer;
	/* impairments; all below is used only when impaired is set */
	bool impaired;
	struct link_impair imp;
	uint64_t rng;			/* splitmix64 state */
	struct pkt *qhead, *qtail;	/* held frames, sorted by release time */
	uint64_t last_inorder;		/* latest release of a frame not reordered */
	uint64_t busy_until;		/* end of the last serialisation (rate) */
	struct timer timer;
	struct link_impair_stats st;
};

/* The priv comes from the namespace's device cache. */
_Static_assert(sizeof(struct veth_priv) <= sizeof(struct netdev), "veth_priv too big");

/* splitmix64: tiny state, good enough statistics for loss draws, reproducible. */
static uint64_t veth_rand(struct veth_priv *vp)
{
	uint64_t z = (vp->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* True with probability ppm / 1e6, from the top 32 bits of one draw. */
static bool veth_chance(uint64_t r, uint32_t ppm)
{
	return (((r >> 32) * 1000000ull) >> 32) < ppm;
}

/* Hand one frame to the peer now; consumes pk. */
static void veth_deliver(struct netdev *dev, struct veth_priv *vp, struct pkt *pk)
{
	struct netdev *peer = vp->peer;

	pk->next = NULL;
	pk->meta.tstamp_ns = 0;
	if (!peer || !(peer->flags & IFF_UP)) {
		dev->tx_dropped++;
		pkt_free(pk);
		return;
	}
	if (vp->impaired) {
		vp->st.sent_packets++;
		vp->st.sent_bytes += pk->tot_len;
	}
	if (peer->ns == dev->ns) {
		netdev_rx(peer, pk);
		return;
	}
	netdev_rx_frame(peer, pk);
	pkt_free(pk);
}

/* Unlink and return the head of the held queue, or NULL. */
static struct pkt *veth_q_pop(struct veth_priv *vp)
{
	struct pkt *pk = vp->qhead;

	if (!pk)
		return NULL;
	vp->qhead = pk->next;
	if (!vp->qhead)
		vp->qtail = NULL;
	pk->next = NULL;
	vp->st.backlog_packets--;
	vp->st.backlog_bytes -= pk->tot_len;
	return pk;
}

/* Drop every held frame (device down or gone). */
static void veth_q_purge(struct netdev *dev, struct veth_priv *vp)
{
	struct pkt *pk;

	netns_timer_cancel(dev->ns, &vp->timer);
	while ((pk = veth_q_pop(vp)) != NULL)
		pkt_free(pk);
}

/* The timer: release every frame whose time has come, re-arm for the next. */
static void veth_timer_fn(struct timer *t, void *arg)
{
	struct netdev *dev = arg;
	struct veth_priv *vp = dev->priv;
	uint64_t now = netns_now(dev->ns);

	(void)t;
	while (vp->qhead && vp->qhead->meta.tstamp_ns <= now)
		veth_deliver(dev, vp, veth_q_pop(vp));	/* may re-enter veth_xmit */
	if (vp->qhead)
		netns_timer_arm(dev->ns, &vp->timer, vp->qhead->meta.tstamp_ns);
}

/*
 * Queue pk to leave at time 'when' (after any frame already due by then),
 * or hand it over now when it is due and nothing held goes first; consumes pk.
 */
static void veth_hold(struct netdev *dev, struct veth_priv *vp, struct pkt *pk, uint64_t when,
		      uint64_t now)
{
	uint32_t limit = vp->imp.limit ? vp->imp.limit : VETH_DEFAULT_LIMIT;
	struct pkt **pp;

	if (when <= now && (!vp->qhead || vp->qhead->meta.tstamp_ns > when)) {
		veth_deliver(dev, vp, pk);
		return;
	}
	if (vp->st.backlog_packets >= limit) {
		vp->st.overlimit++;
		vp->st.dropped++;
		pkt_free(pk);
		return;
	}
	pk->meta.tstamp_ns = when;
	pk->next = NULL;
	if (!vp->qtail || vp->qtail->meta.tstamp_ns <= when) {
		pp = vp->qtail ? &vp->qtail->next : &vp->qhead;
		vp->qtail = pk;
	} else {
		/* a reordered frame is in the way: walk to the first later one */
		for (pp = &vp->qhead; (*pp)->meta.tstamp_ns <= when; pp = &(*pp)->next)
			;
		pk->next = *pp;
	}
	*pp = pk;
	vp->st.backlog_packets++;
	vp->st.backlog_bytes += pk->tot_len;
	if (vp->qhead == pk)
		netns_timer_arm(dev->ns, &vp->timer, when);
}

/* Release time of one copy of a frame of len bytes sent at now. */
static uint64_t veth_when(struct veth_priv *vp, uint32_t len, uint64_t now, uint64_t r_reorder,
			  uint64_t r_jitter)
{
	const struct link_impair *im = &vp->imp;
	uint64_t t = now, d = im->delay_ns;

	if (im->rate_bps) {
		/* back to back on the wire: this frame starts when the last ends */
		uint64_t start = vp->busy_until > now ? vp->busy_until : now;

		vp->busy_until = start + (uint64_t)len * 8u * NSEC_PER_SEC / im->rate_bps;
		t = vp->busy_until;
	}
	if (im->jitter_ns) {
		/* uniform in [d - j, d + j), as netem's tabledist without a table */
		uint64_t j = im->jitter_ns;
		uint64_t u = r_jitter % (2 * j);

		d = d + u >= j ? d + u - j : 0;
	}
	t += d;
	if (im->delay_ns && veth_chance(r_reorder, im->reorder_ppm)) {
		vp->st.reordered++;
		return t + im->delay_ns;
	}
	if (t < vp->last_inorder)
		t = vp->last_inorder;
	vp->last_inorder = t;
	return t;
}

/* A copy of pk from the sender's pools, or NULL. */
static struct pkt *veth_copy(struct netdev *dev, const struct pkt *pk)
{
	struct pkt *c = pkt_alloc(dev->ns->pools, pk->tot_len);

	if (!c)
		return NULL;
	pkt_copy_out(pk, 0, pkt_put(c, pk->tot_len), pk->tot_len);
	c->meta.ifindex = pk->meta.ifindex;
	return c;
}

/* The impaired send path (netem_enqueue's order: duplicate, then loss); consumes pk. */
static void veth_xmit_impaired(struct netdev *dev, struct veth_priv *vp, struct pkt *pk)
{
	const struct link_impair *im = &vp->imp;
	uint64_t now = netns_now(dev->ns);
	uint64_t r_loss = veth_rand(vp), r_dup = veth_rand(vp);
	uint64_t r_reorder = veth_rand(vp), r_jitter = veth_rand(vp);
	int copies = 1;
	struct pkt *dup = NULL;

	if (veth_chance(r_dup, im->dup_ppm)) {
		/* counted even when the loss draw then takes one copy away */
		copies++;
		vp->st.duplicated++;
	}
	if (veth_chance(r_loss, im->loss_ppm)) {
		copies--;
		vp->st.lost++;
	}
	if (copies == 0) {
		vp->st.dropped++;
		pkt_free(pk);
		return;
	}
	if (copies == 2) {
		dup = veth_copy(dev, pk);
		if (!dup) {
			vp->st.nomem++;
			vp->st.dropped++;
		}
	}
	uint32_t len = pk->tot_len;
	veth_hold(dev, vp, pk, veth_when(vp, len, now, r_reorder, r_jitter), now);
	if (copies == 2) {
		/* the copy's draws are taken even without a buffer for it */
		r_reorder = veth_rand(vp);
		r_jitter = veth_rand(vp);
		if (dup)
			veth_hold(dev, vp, dup, veth_when(vp, len, now, r_reorder, r_jitter), now);
	}
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
	if (vp->impaired) {
		veth_xmit_impaired(dev, vp, pk);
		return 0;
	}
	veth_deliver(dev, vp, pk);
	return 0;
}

static void veth_set_up(struct netdev *dev, bool up)
{
	struct veth_priv *vp = dev->priv;

	if (vp && !up)
		veth_q_purge(dev, vp);
}

static void veth_destroy(struct netdev *dev)
{
	struct veth_priv *vp = dev->priv;
	if (!vp)
		return;
	veth_q_purge(dev, vp);
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
	timer_init(&pa->timer, veth_timer_fn, da);
	timer_init(&pb->timer, veth_timer_fn, db);
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

/**
 * link_veth_impair() - install or remove impairments on one veth end
 * @dev:	the sending end (namespace lock held)
 * @imp:	settings, or NULL to remove them
 *
 * Held frames keep their release times: removing the impairments lets them
 * drain on schedule while new frames go straight through.
 *
 * Return: 0, -EOPNOTSUPP if dev is not a veth, -EINVAL for a probability
 * over one million ppm.
 */
int link_veth_impair(struct netdev *dev, const struct link_impair *imp)
{
	struct veth_priv *vp = dev->priv;
	uint32_t backlog_p, backlog_b;

	if (dev->ops != &link_veth_ops || !vp)
		return -EOPNOTSUPP;
	if (!imp) {
		vp->impaired = false;
		return 0;
	}
	if (imp->loss_ppm > 1000000 || imp->dup_ppm > 1000000 || imp->reorder_ppm > 1000000)
		return -EINVAL;
	vp->imp = *imp;
	vp->rng = imp->seed;
	backlog_p = vp->st.backlog_packets;
	backlog_b = vp->st.backlog_bytes;
	memset(&vp->st, 0, sizeof(vp->st));
	vp->st.backlog_packets = backlog_p;
	vp->st.backlog_bytes = backlog_b;
	vp->impaired = true;
	return 0;
}

/**
 * link_veth_impair_get() - read back the settings and counters of one end
 * @dev:	veth end (namespace lock held)
 * @imp:	filled with the settings (may be NULL)
 * @st:		filled with the counters (may be NULL)
 *
 * Return: 0, -EOPNOTSUPP if dev is not a veth, -ENOENT if not impaired.
 */
int link_veth_impair_get(struct netdev *dev, struct link_impair *imp,
			 struct link_impair_stats *st)
{
	struct veth_priv *vp = dev->priv;

	if (dev->ops != &link_veth_ops || !vp)
		return -EOPNOTSUPP;
	if (!vp->impaired)
		return -ENOENT;
	if (imp)
		*imp = vp->imp;
	if (st)
		*st = vp->st;
	return 0;
}
