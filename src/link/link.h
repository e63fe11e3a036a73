/* SPDX-License-Identifier: MIT */
/*
 * link.h - the link layer's ops table and the device object
 *
 * A netdev is one interface of a namespace.  Every link carries Ethernet
 * frames, loopback included (as Linux's lo does, with zero MAC addresses),
 * so the receive path and pcap have one format.  A backend provides xmit();
 * frames it receives go up through netdev_rx() (caller holds the namespace
 * lock) or netdev_rx_frame()/netdev_rx_buf() (any thread, without that
 * lock: copied in; see netns.h).
 */
#ifndef USOCK_LINK_LINK_H
#define USOCK_LINK_LINK_H

#include <net/if.h>

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000
#endif
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct pkt;
struct netns;
struct netdev;
struct qdisc;

struct link_ops {
	const char *kind;	/* "loopback", "veth", "tap", "packet" */
	/* xmit - send one frame (pk->data is the Ethernet header); consumes pk.
	 * Return: 0, or -errno (the frame is dropped either way). */
	int (*xmit)(struct netdev *dev, struct pkt *pk);
	/* up - the interface was set up or down (may be NULL). */
	void (*set_up)(struct netdev *dev, bool up);
	/* destroy - free backend state (may be NULL). */
	void (*destroy)(struct netdev *dev);
};

/* Per-device neighbour parameters, as /proc/sys/net/ipv4/neigh/DEV/ (ms). */
struct neigh_parms {
	uint32_t base_reachable_time_ms;	/* 30000 */
	uint32_t delay_first_probe_time_ms;	/* 5000 */
	uint32_t retrans_time_ms;		/* 1000 */
	uint32_t gc_stale_time_ms;		/* 60000 */
	uint32_t ucast_probes;			/* 3 */
	uint32_t mcast_probes;			/* 3 */
	uint32_t app_probes;			/* 0 */
	uint32_t mcast_resolicit;		/* 0 */
	uint32_t unres_qlen_bytes;		/* 212992 */
	uint32_t reachable_time_ms;		/* randomised from base, 0.5..1.5 x */
};

#define NETDEV_MAX_ADDR4 8

struct in_ifaddr4 {
	uint32_t addr;		/* network order */
	uint32_t mask;		/* network order */
	uint32_t bcast;		/* network order */
	uint8_t prefixlen;
};

struct netdev {
	struct netns *ns;
	char name[IFNAMSIZ];
	int ifindex;
	unsigned flags;		/* IFF_UP | IFF_LOOPBACK | IFF_BROADCAST | IFF_RUNNING ... */
	unsigned type;		/* ARPHRD_ETHER or ARPHRD_LOOPBACK */
	uint32_t mtu;
	uint8_t hwaddr[6];
	const struct link_ops *ops;
	void *priv;		/* backend state */
	struct pcap_writer *pcap;	/* capture, or NULL */
	struct qdisc *qdisc;	/* egress netem (link/qdisc.h), or NULL: the backend has none */
	struct in_ifaddr4 addr4[NETDEV_MAX_ADDR4];
	unsigned naddr4;
	struct neigh_parms neigh;
	/* counters as `ip -s link` */
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes, rx_dropped, tx_dropped;
};

/* ---- backends ---- */
/* link_loop_ops - loopback: xmit hands the frame straight back to netdev_rx. */
extern const struct link_ops link_loop_ops;
/*
 * link_veth_pair - create an in-memory veth pair: dev a in namespace na,
 * dev b in nb (may be the same namespace).  A frame sent on one end is
 * received on the other (netdev_rx if same namespace, else netdev_rx_frame).
 * Each end has a qdisc (link/qdisc.h) for netem on the frames it sends.
 * Return: 0, or -errno (-EEXIST name taken, -ENOMEM).
 */
int link_veth_pair(struct netns *na, const char *a, struct netns *nb, const char *b);
extern const struct link_ops link_veth_ops;
/* link_veth_peer - the other end of a veth, or NULL. */
struct netdev *link_veth_peer(struct netdev *dev);

/*
 * struct link_impair - what a device's qdisc (veth end, TAP) does to the
 * frames sent on it, in netem's terms (`tc qdisc add dev D root netem ...`;
 * set with qdisc_set, link/qdisc.h).  Probabilities are in parts per
 * million (1% = 10000).  Every decision comes from a PRNG private to the
 * device, seeded with seed, so the same seed and the same frames give the
 * same decisions whatever else the namespaces do.
 *   loss_ppm	a frame is dropped
 *   dup_ppm	a frame is sent twice (the copy gets its own delay draw)
 *   delay_ns	every frame is held this long ...
 *   jitter_ns	... plus a uniform draw in [-jitter, +jitter) (total >= 0).
 *		Jitter alone never reorders: frames keep their order (netem's
 *		tfifo would let a big draw overtake; usock keeps reordering to
 *		the one knob below, so a test controls it)
 *   reorder_ppm a frame is held one more delay_ns, so the frames sent
 *		during that time overtake it (netem sends the chosen frame at
 *		once, ahead of the delayed ones: the same reordering seen from
 *		the other side).  As with netem it needs delay_ns > 0.
 *   rate_bps	bits per second on the wire, frame by frame back to back
 *		(0: unlimited); the serialisation time comes before the delay
 *   limit	most frames held at once (0: 1000, netem's default); a frame
 *		over it is dropped and counted
 */
struct link_impair {
	uint32_t loss_ppm, dup_ppm, reorder_ppm;
	uint64_t delay_ns, jitter_ns;
	uint64_t seed;
	uint32_t rate_bps;
	uint32_t limit;
};

/* Counters of an impaired device, as `tc -s qdisc show` (plus the reasons). */
struct link_impair_stats {
	uint64_t sent_packets, sent_bytes;	/* handed to the wire (veth peer, TAP fd) */
	uint64_t dropped;		/* frames not sent at all, as netem's drops */
	uint64_t lost;			/* copies taken by the loss draw */
	uint64_t overlimit, nomem;	/* over limit; no buffer for a duplicate */
	uint64_t duplicated;		/* duplicate draws (netem: dup, then loss) */
	uint64_t reordered;
	uint32_t backlog_packets, backlog_bytes;	/* held now */
};

/*
 * link_tap_open - attach kernel TAP device tapname as interface ifname; it
 * has a qdisc (netem on what usock writes to it).  Return: 0, -errno.
 */
int link_tap_open(struct netns *ns, const char *ifname, const char *tapname);

/* ---- pcap ---- */
struct pcap_writer;
/* link_pcap_open - start capturing dev to path (shared writers for the same path). Return: 0, -errno. */
int link_pcap_open(struct netdev *dev, const char *path);
/* link_pcap_write - record one frame (called by netdev_xmit/netdev_rx). */
void link_pcap_write(struct pcap_writer *w, const struct pkt *pk, uint64_t realtime_ns);
void link_pcap_close(struct netdev *dev);
/* link_pcap_env - capture dev to $USOCK_PCAP when it is set (called for every new device). */
void link_pcap_env(struct netdev *dev);

#endif
