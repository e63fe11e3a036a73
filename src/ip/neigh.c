/* SPDX-License-Identifier: MIT */
/*
 * neigh.c - the IPv4 neighbour cache (ARP) with Linux's state machine
 *
 * Theory of operation.  A namespace's neigh_table owns every ARP entry of
 * that namespace, keyed by (device, IPv4 address), and the packets queued on
 * entries that are still being resolved.  Entries come from an arena cache
 * (carved on first use, reused after that), are found through a fixed hash
 * of 256 chains, and sit on one list in creation order that plays the part
 * of the kernel's gc_list (oldest first for forced GC, newest first for
 * `ip neigh show`).  Every caller holds the namespace lock; timers run under
 * it too, so nothing here locks.
 *
 * The state machine is the kernel's (net/core/neighbour.c, net/ipv4/arp.c),
 * function by function: neigh_output is neigh_output/neigh_resolve_output,
 * neigh_event_send and __neigh_event_send; neigh_timer_fn is
 * neigh_timer_handler; neigh_update is __neigh_update; arp_rcv is arp_rcv
 * plus arp_process; arp_solicit picks broadcast or unicast probes as the
 * kernel does.  Times are ns on the namespace clock and compared with
 * wrap-safe signed differences, as jiffies are, so "confirmed = now - 2 *
 * base_reachable_time" on a fresh virtual clock works as in the kernel.
 * Sysctl values are the per-device struct neigh_parms.
 *
 * Limits and why.  Thresholds are Linux's gc_thresh1/2/3 (128/512/1024
 * dynamic entries); PERMANENT entries are exempt from GC as in the kernel and
 * get 256 more slots, after which -ENOBUFS.  A full table evicts as
 * neigh_forced_gc does: unreferenced entries (no timer pending, not being
 * used by a caller up the stack) that are FAILED or not updated for 5 s,
 * oldest first.  Loopback/NOARP devices and broadcast/multicast next hops
 * need no resolution and get no entry (the kernel makes NOARP entries, which
 * `ip neigh show` hides).  Proxy ARP, arp_accept/arp_ignore/arp_announce
 * other than their defaults, and the arpd (app_probes) upcall are not
 * implemented.  The periodic work (reachable_time re-randomisation every
 * 300 s and the gc_stale_time sweep) runs on a table timer while the table
 * has entries, and catches up when the first entry arrives.
 *
 * Re-entrancy: sending a frame may run the receive path of a peer device in
 * the same namespace before returning (veth), which can come back here.  A
 * function therefore copies what it needs before it transmits, and code that
 * must touch an entry after a transmit holds it (n->hold); a held entry is
 * never freed, only marked dead and freed on its last release.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netpacket/packet.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "ip/ip4.h"
#include "ip/neigh.h"
#include "net/netns.h"
#include "wire/arp.h"
#include "wire/eth.h"
#include "wire/icmp.h"

#define NUD_IN_TIMER (NUD_INCOMPLETE | NUD_REACHABLE | NUD_DELAY | NUD_PROBE)
#define NUD_VALID (NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE | NUD_PROBE | NUD_STALE | NUD_DELAY)
#define NUD_CONNECTED (NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE)

/* __neigh_update flags (NEIGH_UPDATE_F_*) that ARP and `ip neigh` use. */
#define NEIGH_UPD_OVERRIDE 0x1
#define NEIGH_UPD_ADMIN 0x2

#define NEIGH_HASH_BITS 8
#define NEIGH_GC_THRESH1 128	/* arp_tbl.gc_thresh1..3 */
#define NEIGH_GC_THRESH2 512
#define NEIGH_GC_THRESH3 1024
#define NEIGH_MAX_ENTRIES (NEIGH_GC_THRESH3 + 256)
#define NEIGH_LOCKTIME_NS (1 * NSEC_PER_SEC)		/* arp_tbl LOCKTIME = HZ */
#define NEIGH_MIN_TIMER_NS (10 * NSEC_PER_MSEC)		/* HZ / 100 */
#define NEIGH_GC_INTERVAL_NS (15 * NSEC_PER_SEC)	/* BASE_REACHABLE_TIME / 2 */
#define NEIGH_RAND_INTERVAL_NS (300 * NSEC_PER_SEC)
#define NEIGH_FORCED_GC_AGE_NS (5 * NSEC_PER_SEC)
#define NEIGH_DEFAULT_BASE_MS 30000

struct neigh {
	struct neigh *hnext;		/* hash chain */
	struct neigh *prev, *next;	/* table list, creation (gc) order */
	struct netdev *dev;
	uint32_t key;			/* IPv4 address, network order */
	uint8_t state;			/* NUD_* */
	bool dead;			/* out of the table, freed on last release */
	bool exempt;			/* PERMANENT: not counted nor collected */
	bool hh;			/* header cached: CONNECTED output skips used */
	uint16_t hold;			/* callers up the stack still using it */
	uint8_t ha[ETH_ALEN];
	uint32_t probes;
	uint64_t confirmed, used, updated;
	struct timer timer;
	struct pkt *qhead, *qtail;	/* arp_queue, linked through pk->next */
	uint32_t qbytes;		/* arp_queue_len_bytes */
};

struct neigh_table {
	struct netns *ns;
	struct arena_cache cache;
	struct neigh *hash[1u << NEIGH_HASH_BITS];
	struct neigh *head, *tail;
	unsigned entries;		/* all entries */
	unsigned gc_entries;		/* entries not exempt from GC */
	uint32_t hash_rnd;
	uint64_t last_flush, last_rand;
	struct timer gc_timer;
};

static const uint8_t eth_bcast[ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t eth_zero[ETH_ALEN];

/* ---- time, as the kernel's time_before & co on jiffies ---- */

static inline bool t_before(uint64_t a, uint64_t b) { return (int64_t)(a - b) < 0; }
static inline bool t_before_eq(uint64_t a, uint64_t b) { return (int64_t)(a - b) <= 0; }
static inline bool t_after(uint64_t a, uint64_t b) { return (int64_t)(b - a) < 0; }
static inline uint64_t ms_ns(uint32_t ms) { return (uint64_t)ms * NSEC_PER_MSEC; }

static inline bool ip_multicast(uint32_t a) { return (ntohl(a) & 0xf0000000u) == 0xe0000000u; }
static inline bool ip_loopback(uint32_t a) { return (ntohl(a) >> 24) == 127; }
static inline bool ip_zeronet(uint32_t a) { return (ntohl(a) >> 24) == 0; }
static inline bool ip_lbcast(uint32_t a) { return a == INADDR_BROADCAST; }

/* neigh_rand_reach_time: uniform in [base/2, 3*base/2). */
static uint32_t neigh_rand_reach_ms(struct netns *ns, uint32_t base)
{
	return base ? (uint32_t)(netns_random(ns) % base) + (base >> 1) : 0;
}

static inline uint64_t neigh_reach_ns(const struct neigh *n)
{
	return ms_ns(n->dev->neigh.reachable_time_ms);
}

static inline uint64_t neigh_retrans_ns(const struct neigh *n)
{
	uint64_t r = ms_ns(n->dev->neigh.retrans_time_ms);

	return r > NEIGH_MIN_TIMER_NS ? r : NEIGH_MIN_TIMER_NS;
}

/* neigh_max_probes: unicast + app + (multicast reprobes in PROBE, else multicast probes). */
static uint32_t neigh_max_probes(const struct neigh *n)
{
	const struct neigh_parms *p = &n->dev->neigh;

	return p->ucast_probes + p->app_probes +
	       ((n->state & NUD_PROBE) ? p->mcast_resolicit : p->mcast_probes);
}

/* ---- table bookkeeping ---- */

static unsigned neigh_hash(const struct neigh_table *tbl, uint32_t key, const struct netdev *dev)
{
	uint32_t h = (key ^ ((uint32_t)dev->ifindex * 0x9e3779b1u)) * tbl->hash_rnd;

	return h >> (32 - NEIGH_HASH_BITS);
}

static struct neigh *neigh_find(struct neigh_table *tbl, struct netdev *dev, uint32_t key)
{
	struct neigh *n;

	for (n = tbl->hash[neigh_hash(tbl, key, dev)]; n; n = n->hnext)
		if (n->key == key && n->dev == dev)
			return n;
	return NULL;
}

static void neigh_list_add_tail(struct neigh_table *tbl, struct neigh *n)
{
	n->next = NULL;
	n->prev = tbl->tail;
	if (tbl->tail)
		tbl->tail->next = n;
	else
		tbl->head = n;
	tbl->tail = n;
}

static void neigh_list_del(struct neigh_table *tbl, struct neigh *n)
{
	if (n->prev)
		n->prev->next = n->next;
	else
		tbl->head = n->next;
	if (n->next)
		n->next->prev = n->prev;
	else
		tbl->tail = n->prev;
	n->prev = n->next = NULL;
}

/* ---- the unresolved queue ---- */

/*
 * What a queued packet weighs against unres_qlen_bytes: its socket charge,
 * as skb->truesize, or for packets no socket was charged for (ICMP, forwarded
 * fragments) the pool blocks it pins.
 */
static uint32_t neigh_truesize(const struct pkt *pk)
{
	uint32_t t = 0;

	if (pk->meta.truesize)
		return pk->meta.truesize;
	for (; pk; pk = pk->frag)
		t += (uint32_t)sizeof(*pk) + pk->cap;
	return t;
}

static void neigh_q_push(struct neigh *n, struct pkt *pk)
{
	pk->next = NULL;
	if (n->qtail)
		n->qtail->next = pk;
	else
		n->qhead = pk;
	n->qtail = pk;
	n->qbytes += neigh_truesize(pk);
}

static struct pkt *neigh_q_pop(struct neigh *n)
{
	struct pkt *pk = n->qhead;

	if (!pk)
		return NULL;
	n->qhead = pk->next;
	if (!n->qhead)
		n->qtail = NULL;
	pk->next = NULL;
	n->qbytes -= neigh_truesize(pk);
	return pk;
}

static void neigh_q_purge(struct neigh *n)
{
	struct pkt *pk;

	while ((pk = neigh_q_pop(n)) != NULL)
		pkt_free(pk);
	n->qbytes = 0;
}

/* ---- entry life ---- */

static void neigh_hold(struct neigh *n)
{
	n->hold++;
}

static void neigh_release(struct neigh_table *tbl, struct neigh *n)
{
	if (--n->hold == 0 && n->dead)
		arena_cache_free(&tbl->cache, n);
}

/*
 * neigh_destroy - unlink n and drop what it holds (neigh_flush_one +
 * neigh_destroy): the timer, and queued packets without any error report.  A
 * held entry is left inert (state NONE, empty queue) for its holder.
 */
static void neigh_destroy(struct neigh_table *tbl, struct neigh *n)
{
	struct neigh **pp = &tbl->hash[neigh_hash(tbl, n->key, n->dev)];

	while (*pp != n)
		pp = &(*pp)->hnext;
	*pp = n->hnext;
	neigh_list_del(tbl, n);
	tbl->entries--;
	if (!n->exempt)
		tbl->gc_entries--;
	netns_timer_cancel(tbl->ns, &n->timer);
	neigh_q_purge(n);
	n->dead = true;
	n->state = NUD_NONE;
	if (!n->hold)
		arena_cache_free(&tbl->cache, n);
}

/* neigh_update_gc_list: entering PERMANENT leaves GC, leaving it rejoins at the tail. */
static void neigh_set_exempt(struct neigh_table *tbl, struct neigh *n, bool exempt)
{
	if (n->dead || n->exempt == exempt)
		return;
	n->exempt = exempt;
	if (exempt) {
		tbl->gc_entries--;
	} else {
		tbl->gc_entries++;
		neigh_list_del(tbl, n);
		neigh_list_add_tail(tbl, n);
	}
}

/*
 * neigh_forced_gc - make room in a full table: walk the entries oldest
 * first and drop those nobody references (no timer pending, not held) that
 * are FAILED, NOARP, multicast or were not updated within the last 5 s, up
 * to max_clean of them.  As in the kernel, the count test sits inside the
 * "unreferenced" branch.
 *
 * Return: the number of entries dropped.
 */
static int neigh_forced_gc(struct neigh_table *tbl, int max_clean)
{
	uint64_t now = netns_now(tbl->ns);
	uint64_t tref = now - NEIGH_FORCED_GC_AGE_NS;
	struct neigh *n, *next;
	int shrunk = 0;

	for (n = tbl->head; n; n = next) {
		next = n->next;
		if (n->exempt || n->hold || timer_pending(&n->timer))
			continue;
		if (n->state == NUD_FAILED || n->state == NUD_NOARP || ip_multicast(n->key) ||
		    !(t_before_eq(tref, n->updated) && t_before_eq(n->updated, now))) {
			neigh_destroy(tbl, n);
			shrunk++;
		}
		if (shrunk >= max_clean)
			break;
	}
	tbl->last_flush = now;
	return shrunk;
}

/* Re-randomise every device's reachable_time every 300 s (neigh_periodic_work). */
static void neigh_rerandomise(struct neigh_table *tbl, uint64_t now)
{
	struct netns *ns = tbl->ns;
	int i;

	if (!t_after(now, tbl->last_rand + NEIGH_RAND_INTERVAL_NS))
		return;
	tbl->last_rand = now;
	for (i = 1; i < NETNS_MAX_DEV; i++) {
		struct netdev *d = ns->dev[i];

		if (d)
			d->neigh.reachable_time_ms =
				neigh_rand_reach_ms(ns, d->neigh.base_reachable_time_ms);
	}
}

/*
 * neigh_periodic_fn - neigh_periodic_work: re-randomise reachable_time, and
 * once the table holds gc_thresh1 entries drop unreferenced ones that are
 * FAILED or unused for gc_stale_time.  Runs while the table is not empty.
 */
static void neigh_periodic_fn(struct timer *t, void *arg)
{
	struct neigh_table *tbl = arg;
	uint64_t now = netns_now(tbl->ns);
	struct neigh *n, *next;

	neigh_rerandomise(tbl, now);
	if (tbl->entries >= NEIGH_GC_THRESH1) {
		for (n = tbl->head; n; n = next) {
			uint64_t stale = ms_ns(n->dev->neigh.gc_stale_time_ms);

			next = n->next;
			if (n->state & (NUD_PERMANENT | NUD_IN_TIMER))
				continue;
			if (t_before(n->used, n->confirmed) && t_before_eq(n->confirmed, now))
				n->used = n->confirmed;
			if (!n->hold && (n->state == NUD_FAILED ||
					 !(t_before_eq(n->used, now) && t_before(now, n->used + stale))))
				neigh_destroy(tbl, n);
		}
	}
	if (tbl->entries)
		netns_timer_arm(tbl->ns, t, now + NEIGH_GC_INTERVAL_NS);
}

static void neigh_timer_fn(struct timer *t, void *arg);

/*
 * neigh_create - a new entry in state NONE (neigh_alloc + ___neigh_create).
 * Before allocating a collectable entry, a table at gc_thresh3, or at
 * gc_thresh2 with no flush for 5 s, is shrunk by neigh_forced_gc; it fails
 * only when nothing could go and the table is at gc_thresh3.
 *
 * Return: the entry, or NULL with -ENOBUFS in *err.
 */
static struct neigh *neigh_create(struct neigh_table *tbl, struct netdev *dev, uint32_t key,
				  bool exempt, int *err)
{
	struct netns *ns = tbl->ns;
	uint64_t now = netns_now(ns);
	unsigned h, entries = tbl->gc_entries;
	struct neigh *n;

	if (!exempt && (entries >= NEIGH_GC_THRESH3 ||
			(entries >= NEIGH_GC_THRESH2 &&
			 t_after(now, tbl->last_flush + NEIGH_FORCED_GC_AGE_NS)))) {
		if (!neigh_forced_gc(tbl, (int)(entries + 1) - NEIGH_GC_THRESH2) &&
		    entries >= NEIGH_GC_THRESH3) {
			*err = -ENOBUFS;
			return NULL;
		}
	}
	n = arena_cache_alloc(&tbl->cache);
	if (!n) {
		*err = -ENOBUFS;
		return NULL;
	}
	memset(n, 0, sizeof(*n));
	n->dev = dev;
	n->key = key;
	n->state = NUD_NONE;
	n->exempt = exempt;
	n->updated = n->used = now;
	n->confirmed = now - 2 * ms_ns(dev->neigh.base_reachable_time_ms);
	timer_init(&n->timer, neigh_timer_fn, n);
	h = neigh_hash(tbl, key, dev);
	n->hnext = tbl->hash[h];
	tbl->hash[h] = n;
	neigh_list_add_tail(tbl, n);
	tbl->entries++;
	if (!exempt)
		tbl->gc_entries++;
	if (!timer_pending(&tbl->gc_timer)) {
		neigh_rerandomise(tbl, now);
		netns_timer_arm(ns, &tbl->gc_timer, now + NEIGH_GC_INTERVAL_NS);
	}
	*err = 0;
	return n;
}

/*
 * neigh_add_timer - arm the entry's timer, keeping used no older than
 * confirmed.  A full timer heap leaves the entry without its timer; the heap
 * is sized for every entry of a full table, so that is not expected.
 */
static void neigh_add_timer(struct netns *ns, struct neigh *n, uint64_t when)
{
	if (t_before(n->used, n->confirmed))
		n->used = n->confirmed;
	netns_timer_arm(ns, &n->timer, when);
}

/* ---- frames ---- */

/*
 * neigh_xmit_ip - put the Ethernet header for dst in front of the IPv4
 * packet pk and send it on dev; consumes pk.
 *
 * Return: netdev_xmit's result, or -ENOBUFS when pk has no headroom.
 */
static int neigh_xmit_ip(struct netdev *dev, const uint8_t dst[ETH_ALEN], struct pkt *pk)
{
	struct eth_repr e;
	uint8_t *h = pkt_push(pk, ETH_HLEN);

	if (!h) {
		pkt_free(pk);
		return -ENOBUFS;
	}
	memcpy(e.dst, dst, ETH_ALEN);
	memcpy(e.src, dev->hwaddr, ETH_ALEN);
	e.proto = ETH_P_IP;
	eth_build(h, &e);
	pk->meta.proto = ETH_P_IP;
	pk->meta.ifindex = dev->ifindex;
	return netdev_xmit(dev, pk);
}

/*
 * arp_send - arp_create + arp_xmit: a 42-byte ARP frame, unpadded as the
 * kernel hands it to a veth (NIC drivers pad to 60 on the wire).  dest_hw
 * NULL means broadcast, target_hw NULL means zeros.  Nothing is sent on a
 * NOARP device or when the pool is empty.
 */
static void arp_send(struct netns *ns, struct netdev *dev, uint16_t op, uint32_t dest_ip,
		     uint32_t src_ip, const uint8_t *dest_hw, const uint8_t *target_hw)
{
	struct arp_repr r = {.op = op, .spa = src_ip, .tpa = dest_ip};
	struct eth_repr e;
	struct pkt *pk;
	uint8_t *p;

	if (dev->flags & IFF_NOARP)
		return;
	pk = pkt_alloc(ns->pools, ETH_HLEN + ARP_HLEN);
	if (!pk)
		return;
	p = pkt_put(pk, ARP_HLEN);
	memcpy(r.sha, dev->hwaddr, ETH_ALEN);
	memcpy(r.tha, target_hw ? target_hw : eth_zero, ETH_ALEN);
	arp_build(p, &r);
	p = pkt_push(pk, ETH_HLEN);
	memcpy(e.dst, dest_hw ? dest_hw : eth_bcast, ETH_ALEN);
	memcpy(e.src, dev->hwaddr, ETH_ALEN);
	e.proto = ETH_P_ARP;
	eth_build(p, &e);
	pk->meta.proto = ETH_P_ARP;
	pk->meta.ifindex = dev->ifindex;
	netdev_xmit(dev, pk);
}

/* IFA_F_SECONDARY: an address inside the subnet of an earlier one of the device. */
static bool addr_is_secondary(const struct netdev *dev, unsigned i)
{
	const struct in_ifaddr4 *a = &dev->addr4[i];
	unsigned j;

	for (j = 0; j < i; j++) {
		const struct in_ifaddr4 *b = &dev->addr4[j];

		if (b->prefixlen == a->prefixlen && ((a->addr ^ b->addr) & b->mask) == 0)
			return true;
	}
	return false;
}

/*
 * neigh_select_addr - inet_select_addr(dev, dst, RT_SCOPE_LINK): the first
 * primary address of dev on dst's subnet, else its first primary address of
 * link scope or wider, else the first primary universe-scope address of any
 * device in ifindex order (lo first).  127/8 has host scope and never
 * qualifies.
 *
 * Return: the address (network order), or 0.
 */
static uint32_t neigh_select_addr(struct netns *ns, const struct netdev *dev, uint32_t dst)
{
	uint32_t addr = 0;
	unsigned i;
	int d;

	for (i = 0; i < dev->naddr4 && i < NETDEV_MAX_ADDR4; i++) {
		const struct in_ifaddr4 *a = &dev->addr4[i];

		if (addr_is_secondary(dev, i) || ip_loopback(a->addr))
			continue;
		if (!dst || ((dst ^ a->addr) & a->mask) == 0)
			return a->addr;
		if (!addr)
			addr = a->addr;
	}
	if (addr)
		return addr;
	for (d = 1; d < NETNS_MAX_DEV; d++) {
		const struct netdev *o = ns->dev[d];

		if (!o)
			continue;
		for (i = 0; i < o->naddr4 && i < NETDEV_MAX_ADDR4; i++)
			if (!addr_is_secondary(o, i) && !ip_loopback(o->addr4[i].addr))
				return o->addr4[i].addr;
	}
	return 0;
}

/*
 * arp_solicit - send probe number n->probes: unicast to the cached address
 * while fewer than ucast_probes were sent, then app_probes upcalls (no arpd
 * here: nothing is sent), then broadcasts.  The source is the source of the
 * newest queued packet when it is ours (arp_announce 0), else
 * inet_select_addr's choice.  Sending is the last thing done with n.
 */
static void arp_solicit(struct netns *ns, struct neigh *n, uint32_t probes)
{
	const struct neigh_parms *p = &n->dev->neigh;
	struct netdev *dev = n->dev;
	uint32_t target = n->key, saddr = 0, s;
	uint8_t ha[ETH_ALEN];
	const uint8_t *dst_hw = NULL;
	int64_t left = (int64_t)probes - p->ucast_probes;

	if (n->qtail && pkt_copy_out(n->qtail, 12, &s, 4) == 4 &&
	    ip4_addr_type(ns, s) == RT_LOCAL)
		saddr = s;
	if (!saddr)
		saddr = neigh_select_addr(ns, dev, target);
	if (left < 0) {
		memcpy(ha, n->ha, ETH_ALEN);
		dst_hw = ha;
	} else if (left - (int64_t)p->app_probes < 0) {
		return;
	}
	arp_send(ns, dev, ARP_OP_REQUEST, target, saddr, dst_hw, NULL);
}

/* neigh_probe: count the probe, then solicit (the count is what the kernel's solicit reads). */
static void neigh_probe(struct netns *ns, struct neigh *n)
{
	uint32_t probes = n->probes++;

	arp_solicit(ns, n, probes);
}

/*
 * neigh_invalidate - the entry just FAILED: each queued packet is reported
 * to its sender as arp_error_report does (dst_link_failure: ICMP host
 * unreachable), then freed.
 */
static void neigh_invalidate(struct netns *ns, struct neigh *n)
{
	struct pkt *pk;

	n->updated = netns_now(ns);
	neigh_hold(n);
	while (n->state == NUD_FAILED && (pk = neigh_q_pop(n)) != NULL) {
		icmp4_send(ns, pk, ICMP4_DEST_UNREACH, ICMP4_HOST_UNREACH, 0);
		pkt_free(pk);
	}
	neigh_q_purge(n);
	neigh_release(ns->arp, n);
}

/* ---- the state machine ---- */

/*
 * __neigh_event_send - output on an entry that is not CONNECTED, DELAY or
 * PROBE: NONE/FAILED start resolution (INCOMPLETE, first broadcast at once,
 * retrans_time timer; or FAILED at once without multicast/app probes), STALE
 * goes to DELAY for delay_first_probe_time, and INCOMPLETE queues pk,
 * dropping the oldest packets beyond unres_qlen_bytes.
 *
 * Return: 0 when the caller should send pk now; 1 when pk was queued or
 * dropped (consumed).
 */
static int __neigh_event_send(struct netns *ns, struct neigh *n, struct pkt *pk)
{
	const struct neigh_parms *p = &n->dev->neigh;
	uint64_t now = netns_now(ns);
	bool immediate = false;
	int rc = 0;

	if (!(n->state & (NUD_STALE | NUD_INCOMPLETE))) {
		if (p->mcast_probes + p->app_probes) {
			n->probes = p->ucast_probes;
			netns_timer_cancel(ns, &n->timer);
			n->state = NUD_INCOMPLETE;
			n->updated = now;
			immediate = true;
			neigh_add_timer(ns, n, now + neigh_retrans_ns(n));
		} else {
			n->state = NUD_FAILED;
			n->updated = now;
			pkt_free(pk);
			return 1;
		}
	} else if (n->state & NUD_STALE) {
		netns_timer_cancel(ns, &n->timer);
		n->state = NUD_DELAY;
		n->updated = now;
		neigh_add_timer(ns, n, now + ms_ns(p->delay_first_probe_time_ms));
	}
	if (n->state == NUD_INCOMPLETE) {
		if (pk) {
			uint32_t ts = neigh_truesize(pk);
			struct pkt *old;

			while (n->qbytes + ts > p->unres_qlen_bytes &&
			       (old = neigh_q_pop(n)) != NULL)
				pkt_free(old);
			/* the device it waits for, should it be reported unreachable */
			pk->meta.ifindex = n->dev->ifindex;
			neigh_q_push(n, pk);
		}
		rc = 1;
	}
	/* queued first, probed last: the answer may come back inside the probe */
	if (immediate)
		neigh_probe(ns, n);
	return rc;
}

/* neigh_event_send: every slow-path output marks the entry used. */
static int neigh_event_send(struct netns *ns, struct neigh *n, struct pkt *pk)
{
	n->used = netns_now(ns);
	if (n->state & (NUD_CONNECTED | NUD_DELAY | NUD_PROBE))
		return 0;
	return __neigh_event_send(ns, n, pk);
}

/*
 * neigh_resolve_output - the slow path: neigh_event_send, then send with the
 * cached address (and cache the header, after which CONNECTED output takes
 * the fast path that leaves used alone, as neigh_hh_output does).
 * Consumes pk.  Return: 0 queued/dropped, else netdev_xmit's result.
 */
static int neigh_resolve_output(struct netns *ns, struct neigh *n, struct pkt *pk)
{
	uint8_t ha[ETH_ALEN];

	if (neigh_event_send(ns, n, pk))
		return 0;
	n->hh = true;
	memcpy(ha, n->ha, ETH_ALEN);
	return neigh_xmit_ip(n->dev, ha, pk);
}

static int neigh_output_entry(struct netns *ns, struct neigh *n, struct pkt *pk)
{
	uint8_t ha[ETH_ALEN];

	if ((n->state & NUD_CONNECTED) && n->hh) {
		memcpy(ha, n->ha, ETH_ALEN);
		return neigh_xmit_ip(n->dev, ha, pk);
	}
	return neigh_resolve_output(ns, n, pk);
}

/*
 * neigh_flush_queue - neigh_update_process_arp_queue: the entry became
 * valid, send what waited, oldest first, through the entry's output (so a
 * STALE entry goes to DELAY on the first of them).
 */
static void neigh_flush_queue(struct netns *ns, struct neigh *n)
{
	struct pkt *pk;

	neigh_hold(n);
	while ((n->state & NUD_VALID) && (pk = neigh_q_pop(n)) != NULL)
		neigh_output_entry(ns, n, pk);
	neigh_q_purge(n);
	neigh_release(ns->arp, n);
}

/*
 * neigh_update - __neigh_update: move n to state new with link-layer address
 * lladdr (NULL: keep the cached one).  Without NEIGH_UPD_ADMIN, NOARP and
 * PERMANENT entries are left alone; without NEIGH_UPD_OVERRIDE a valid
 * entry keeps a different cached address; a STALE report of the address
 * already cached changes nothing.  A CONNECTED state confirms the entry even
 * when nothing else changes.  The queue is flushed when the entry becomes
 * valid, and reported unreachable when INCOMPLETE/PROBE becomes FAILED.
 *
 * Return: 0; -EPERM (NOARP/PERMANENT, not admin); -EINVAL (valid state,
 * no address known).
 */
static int neigh_update(struct netns *ns, struct neigh *n, const uint8_t *lladdr, uint8_t new,
			unsigned flags)
{
	struct neigh_table *tbl = ns->arp;
	uint8_t old = n->state;
	uint64_t now = netns_now(ns);
	bool same;

	if (n->dead)
		return -EPERM;
	if (!(flags & NEIGH_UPD_ADMIN) && (old & (NUD_NOARP | NUD_PERMANENT)))
		return -EPERM;
	if (!(new & NUD_VALID)) {
		netns_timer_cancel(ns, &n->timer);
		n->state = new;
		if ((new ^ old) & NUD_PERMANENT)
			neigh_set_exempt(tbl, n, false);
		if ((old & (NUD_INCOMPLETE | NUD_PROBE)) && (new & NUD_FAILED))
			neigh_invalidate(ns, n);
		return 0;
	}
	if (lladdr) {
		same = (old & NUD_VALID) && memcmp(lladdr, n->ha, ETH_ALEN) == 0;
	} else {
		if (!(old & NUD_VALID))
			return -EINVAL;
		same = true;
	}
	/* confirmed moves on every CONNECTED report, even one that changes nothing else */
	if (new & NUD_CONNECTED)
		n->confirmed = now;
	if (old & NUD_VALID) {
		if (!same && !(flags & NEIGH_UPD_OVERRIDE))
			return 0;
		if (same && new == NUD_STALE && !(flags & NEIGH_UPD_ADMIN))
			new = old;
	}
	if (new != old || !same)
		n->updated = now;
	if (new != old) {
		netns_timer_cancel(ns, &n->timer);
		if (new & NUD_PROBE)
			n->probes = 0;
		if (new & NUD_IN_TIMER)
			neigh_add_timer(ns, n, now + ((new & NUD_REACHABLE) ? neigh_reach_ns(n) : 0));
		n->state = new;
	}
	if (!same) {
		memcpy(n->ha, lladdr, ETH_ALEN);
		if (!(new & NUD_CONNECTED))
			n->confirmed = now - 2 * ms_ns(n->dev->neigh.base_reachable_time_ms);
	}
	if (new == old)
		return 0;
	if ((new ^ old) & NUD_PERMANENT)
		neigh_set_exempt(tbl, n, new & NUD_PERMANENT);
	if (!(old & NUD_VALID))
		neigh_flush_queue(ns, n);
	return 0;
}

/*
 * neigh_timer_fn - neigh_timer_handler: REACHABLE past confirmed +
 * reachable_time goes to DELAY if used within delay_first_probe_time, else
 * STALE; DELAY goes back to REACHABLE if confirmed within
 * delay_first_probe_time, else to PROBE (unicast probes every
 * retrans_time); INCOMPLETE and PROBE probe again until the probes run out,
 * then FAILED.
 */
static void neigh_timer_fn(struct timer *t, void *arg)
{
	struct neigh *n = arg;
	struct netns *ns = n->dev->ns;
	const struct neigh_parms *p = &n->dev->neigh;
	uint64_t now = netns_now(ns), next = now + NSEC_PER_SEC;
	uint64_t delay = ms_ns(p->delay_first_probe_time_ms);
	uint8_t state = n->state;

	if (!(state & NUD_IN_TIMER))
		return;
	if (state & NUD_REACHABLE) {
		if (t_before_eq(now, n->confirmed + neigh_reach_ns(n))) {
			next = n->confirmed + neigh_reach_ns(n);
		} else if (t_before_eq(now, n->used + delay)) {
			n->state = NUD_DELAY;
			n->updated = now;
			next = now + delay;
		} else {
			n->state = NUD_STALE;
			n->updated = now;
		}
	} else if (state & NUD_DELAY) {
		if (t_before_eq(now, n->confirmed + delay)) {
			n->state = NUD_REACHABLE;
			n->updated = now;
			next = n->confirmed + neigh_reach_ns(n);
		} else {
			n->state = NUD_PROBE;
			n->updated = now;
			n->probes = 0;
			next = now + neigh_retrans_ns(n);
		}
	} else {
		next = now + neigh_retrans_ns(n);
	}
	if ((n->state & (NUD_INCOMPLETE | NUD_PROBE)) && n->probes >= neigh_max_probes(n)) {
		n->state = NUD_FAILED;
		neigh_invalidate(ns, n);
		return;
	}
	if (n->state & NUD_IN_TIMER) {
		if (t_before(next, now + NEIGH_MIN_TIMER_NS))
			next = now + NEIGH_MIN_TIMER_NS;
		netns_timer_arm(ns, t, next);
	}
	if (n->state & (NUD_INCOMPLETE | NUD_PROBE))
		neigh_probe(ns, n);
}

/* ---- public interface ---- */

/**
 * neigh_init() - the ARP table of ns, from its arena
 * @ns:		namespace (ns->arp is set)
 *
 * Return: 0, or -ENOMEM when the arena is full.
 */
int neigh_init(struct netns *ns)
{
	struct neigh_table *tbl = arena_alloc(ns->arena, sizeof(*tbl));
	uint64_t now = netns_now(ns);

	if (!tbl)
		return -ENOMEM;
	tbl->ns = ns;
	arena_cache_init(&tbl->cache, ns->arena, sizeof(struct neigh), NEIGH_MAX_ENTRIES);
	tbl->hash_rnd = (uint32_t)netns_random(ns) | 1;
	tbl->last_flush = now;
	/* neigh_table_init: the first re-randomisation waits 20 reachable times */
	tbl->last_rand = now + ms_ns(neigh_rand_reach_ms(ns, NEIGH_DEFAULT_BASE_MS)) * 20;
	timer_init(&tbl->gc_timer, neigh_periodic_fn, tbl);
	ns->arp = tbl;
	return 0;
}

/* Devices that need no resolution: loopback and NOARP (arp_constructor). */
static bool neigh_dev_noarp(const struct netdev *dev)
{
	return (dev->flags & (IFF_NOARP | IFF_LOOPBACK)) || dev->type != ARPHRD_ETHER;
}

/**
 * neigh_output() - send an IPv4 packet to its next hop on dev
 * @ns:		namespace (locked)
 * @dev:	output device
 * @nexthop:	gateway or destination, network order
 * @pk:		the packet, data at the IPv4 header; consumed
 *
 * Loopback/NOARP devices take the device's own address, multicast next hops
 * the mapped 01:00:5e address and broadcast ones ff:ff:ff:ff:ff:ff, as the
 * NOARP entries arp_constructor makes for them.  Otherwise the entry for
 * nexthop (created on first use) sends, queues or starts resolution by its
 * state.
 *
 * Return: 0 (sent, queued, or dropped by the resolution rules as the kernel
 * does silently), -ENOBUFS (no entry could be made, or no headroom), or the
 * device's transmit error (-ENETDOWN).
 */
int neigh_output(struct netns *ns, struct netdev *dev, uint32_t nexthop, struct pkt *pk)
{
	struct neigh_table *tbl = ns->arp;
	uint8_t ha[ETH_ALEN];
	struct neigh *n;
	int err;

	if (neigh_dev_noarp(dev)) {
		memcpy(ha, dev->hwaddr, ETH_ALEN);
		return neigh_xmit_ip(dev, ha, pk);
	}
	if (ip_multicast(nexthop)) {
		uint32_t h = ntohl(nexthop);

		/* ip_eth_mc_map: 01:00:5e and the low 23 bits of the group */
		ha[0] = 0x01;
		ha[1] = 0x00;
		ha[2] = 0x5e;
		ha[3] = (uint8_t)((h >> 16) & 0x7f);
		ha[4] = (uint8_t)(h >> 8);
		ha[5] = (uint8_t)h;
		return neigh_xmit_ip(dev, ha, pk);
	}
	if (ip_lbcast(nexthop) || ip4_addr_type(ns, nexthop) == RT_BROADCAST)
		return neigh_xmit_ip(dev, eth_bcast, pk);
	n = neigh_find(tbl, dev, nexthop);
	if (!n) {
		n = neigh_create(tbl, dev, nexthop, false, &err);
		if (!n) {
			pkt_free(pk);
			return err;
		}
	}
	return neigh_output_entry(ns, n, pk);
}

/**
 * neigh_confirm() - an upper layer saw the neighbour answer (MSG_CONFIRM)
 * @ns:		namespace (locked)
 * @dev:	device of the route
 * @nexthop:	next hop, network order
 *
 * As neigh_confirm via dst_confirm_neigh: only an existing entry, and only
 * its confirmed time (written only when it changes).  The DELAY timer then
 * finds the confirmation recent and returns to REACHABLE without a probe.
 */
void neigh_confirm(struct netns *ns, struct netdev *dev, uint32_t nexthop)
{
	struct neigh *n = neigh_find(ns->arp, dev, nexthop);
	uint64_t now = netns_now(ns);

	if (n && n->confirmed != now)
		n->confirmed = now;
}

/* neigh_event_ns: find or create the sender's entry and make it STALE with its address. */
static struct neigh *neigh_event_ns(struct netns *ns, struct netdev *dev, uint32_t sip,
				    const uint8_t *sha)
{
	struct neigh *n = neigh_find(ns->arp, dev, sip);
	int err;

	if (!n)
		n = neigh_create(ns->arp, dev, sip, false, &err);
	if (n)
		neigh_update(ns, n, sha, NUD_STALE, NEIGH_UPD_OVERRIDE);
	return n;
}

/*
 * A request for tip from sip would pass ip_route_input with a local
 * destination: tip is ours, and sip is no martian source (multicast,
 * limited broadcast, 0/8, 127/8) nor one of our own addresses
 * (fib_validate_source with accept_local 0 and rp_filter 0).
 */
static bool arp_request_for_us(struct netns *ns, uint32_t sip, uint32_t tip)
{
	if (ip_multicast(sip) || ip_lbcast(sip) || ip_zeronet(sip) || ip_loopback(sip))
		return false;
	if (ip4_addr_type(ns, tip) != RT_LOCAL)
		return false;
	return !ip4_is_local(ns, sip);
}

/*
 * arp_process - with the kernel's defaults (arp_ignore 0: answer for any
 * local address whichever interface asked; arp_accept 0: no entry from
 * unsolicited ARP; no proxy ARP).  A request for us makes the sender STALE
 * and is answered by unicast; any other packet only updates an existing
 * entry of its sender: REACHABLE for a unicast reply, else STALE, replacing
 * a different address only after locktime or for gratuitous ARP.
 */
static void arp_process(struct netns *ns, struct netdev *dev, const struct arp_repr *r,
			uint8_t pkt_type)
{
	uint32_t sip = r->spa, tip = r->tpa;
	bool is_garp, override;
	struct neigh *n;
	uint8_t state;

	if (r->op != ARP_OP_REQUEST && r->op != ARP_OP_REPLY)
		return;
	if (ip_multicast(tip) || ip_loopback(tip))
		return;
	if (sip == 0) {
		/* RFC 2131 duplicate address detection probe */
		if (r->op == ARP_OP_REQUEST && ip4_addr_type(ns, tip) == RT_LOCAL)
			arp_send(ns, dev, ARP_OP_REPLY, sip, tip, r->sha, r->sha);
		return;
	}
	if (r->op == ARP_OP_REQUEST && arp_request_for_us(ns, sip, tip)) {
		if (neigh_event_ns(ns, dev, sip, r->sha))
			arp_send(ns, dev, ARP_OP_REPLY, sip, tip, r->sha, r->sha);
		return;
	}
	n = neigh_find(ns->arp, dev, sip);
	if (!n)
		return;
	is_garp = sip == tip && (r->op == ARP_OP_REQUEST || memcmp(r->tha, r->sha, ETH_ALEN) == 0) &&
		  ip4_addr_type(ns, sip) == RT_UNICAST;
	override = t_after(netns_now(ns), n->updated + NEIGH_LOCKTIME_NS) || is_garp;
	/* broadcast replies and requests do not assert reachability */
	state = (r->op == ARP_OP_REPLY && pkt_type == PACKET_HOST) ? NUD_REACHABLE : NUD_STALE;
	neigh_update(ns, n, r->sha, state, override ? NEIGH_UPD_OVERRIDE : 0);
}

/**
 * arp_rcv() - an ARP packet arrived on dev
 * @ns:		namespace (locked)
 * @dev:	receiving device
 * @pk:		data at the ARP header, meta.pkt_type set; consumed
 *
 * As arp_rcv: ignored on NOARP devices and for frames to other hosts or
 * looped back; dropped unless it is Ethernet/IPv4 ARP (28 bytes, hardware
 * type 1 or 6, lengths 6 and 4); then arp_process.
 */
void arp_rcv(struct netns *ns, struct netdev *dev, struct pkt *pk)
{
	uint8_t pkt_type = pk->meta.pkt_type;
	struct arp_repr r;
	const uint8_t *p;
	bool ok;

	if ((dev->flags & IFF_NOARP) || dev->type != ARPHRD_ETHER ||
	    pkt_type == PACKET_OTHERHOST || pkt_type == PACKET_LOOPBACK) {
		pkt_free(pk);
		return;
	}
	/* pskb_may_pull, as arp_rcv: the header may be split over pieces */
	p = pkt_may_pull(pk, ARP_HLEN) ? NULL : pkt_linear(pk, ARP_HLEN);
	ok = p && arp_parse(p, ARP_HLEN, &r) == ARP_HLEN;
	pkt_free(pk);
	if (ok)
		arp_process(ns, dev, &r, pkt_type);
}

/**
 * neigh_dev_down() - forget every entry of dev (neigh_ifdown)
 * @ns:		namespace (locked)
 * @dev:	device going down or away
 *
 * PERMANENT entries go too, as on `ip link set DEV down`; queued packets
 * are freed without an error report.
 */
void neigh_dev_down(struct netns *ns, struct netdev *dev)
{
	struct neigh_table *tbl = ns->arp;
	struct neigh *n, *next;

	for (n = tbl->head; n; n = next) {
		next = n->next;
		if (n->dev == dev)
			neigh_destroy(tbl, n);
	}
}

/**
 * neigh_add() - `ip neigh replace ADDR [lladdr MAC] dev DEV nud STATE`
 * @ns:		namespace (locked)
 * @dev:	device
 * @addr:	IPv4 address, network order
 * @mac:	link-layer address, or NULL
 * @nud:	NUD_* state
 *
 * As neigh_add with NLM_F_CREATE|NLM_F_REPLACE: the entry is made if
 * missing (exempt from GC when PERMANENT), then updated as an
 * administrative override.
 *
 * Return: 0; -EINVAL (no device, or a valid state without an address to
 * use); -ENOBUFS (table full).
 */
int neigh_add(struct netns *ns, struct netdev *dev, uint32_t addr, const uint8_t mac[6],
	      unsigned nud)
{
	struct neigh *n;
	int err;

	if (!dev)
		return -EINVAL;
	n = neigh_find(ns->arp, dev, addr);
	if (!n) {
		n = neigh_create(ns->arp, dev, addr, nud & NUD_PERMANENT, &err);
		if (!n)
			return err;
	}
	return neigh_update(ns, n, mac, (uint8_t)nud, NEIGH_UPD_OVERRIDE | NEIGH_UPD_ADMIN);
}

/**
 * neigh_del() - `ip neigh del ADDR dev DEV`
 * @ns:		namespace (locked)
 * @dev:	device
 * @addr:	IPv4 address, network order
 *
 * As neigh_delete: the entry first becomes FAILED (so packets waiting on an
 * INCOMPLETE entry are reported unreachable), then leaves the table.
 *
 * Return: 0, or -ENOENT when there is no such entry.
 */
int neigh_del(struct netns *ns, struct netdev *dev, uint32_t addr)
{
	struct neigh_table *tbl = ns->arp;
	struct neigh *n = dev ? neigh_find(tbl, dev, addr) : NULL;
	int err;

	if (!n)
		return -ENOENT;
	neigh_hold(n);
	err = neigh_update(ns, n, NULL, NUD_FAILED, NEIGH_UPD_OVERRIDE | NEIGH_UPD_ADMIN);
	if (!n->dead)
		neigh_destroy(tbl, n);
	neigh_release(tbl, n);
	return err;
}

/**
 * neigh_lookup_state() - the NUD state of addr on dev
 * @ns:		namespace (locked)
 * @dev:	device
 * @addr:	IPv4 address, network order
 * @mac_out:	filled with the cached address when the state is valid (may be NULL)
 *
 * Return: the NUD_* state, NUD_NONE when there is no entry.
 */
unsigned neigh_lookup_state(struct netns *ns, struct netdev *dev, uint32_t addr, uint8_t mac_out[6])
{
	struct neigh *n = neigh_find(ns->arp, dev, addr);

	if (!n)
		return NUD_NONE;
	if (mac_out && (n->state & NUD_VALID))
		memcpy(mac_out, n->ha, ETH_ALEN);
	return n->state;
}

static const char *const nud_names[8] = {
	"INCOMPLETE", "REACHABLE", "STALE", "DELAY", "PROBE", "FAILED", "NOARP", "PERMANENT",
};

/**
 * neigh_show() - `ip neigh show`
 * @ns:		namespace (locked)
 * @out:	buffer, NUL-terminated on return when outlen > 0
 * @outlen:	its size
 *
 * One line per entry, newest first, in iproute2's format including its
 * trailing space: "198.18.0.2 dev veth0 lladdr 02:00:00:00:00:02 REACHABLE ".
 * The address is shown for valid states only (as the kernel fills
 * NDA_LLADDR); NONE and NOARP entries are hidden by iproute2's default
 * filter.  Lines that do not fit whole are left out.
 *
 * Return: bytes written, without the NUL.
 */
int neigh_show(struct netns *ns, char *out, unsigned outlen)
{
	struct neigh_table *tbl = ns->arp;
	unsigned used = 0;
	struct neigh *n;

	if (outlen)
		out[0] = '\0';
	for (n = tbl->tail; n; n = n->prev) {
		char line[128], ip[INET_ADDRSTRLEN];
		unsigned nud = n->state;
		int len, b;

		if (!(nud & (0xffu & ~(unsigned)NUD_NOARP)))
			continue;
		inet_ntop(AF_INET, &n->key, ip, sizeof(ip));
		len = snprintf(line, sizeof(line), "%s dev %s ", ip, n->dev->name);
		if (nud & NUD_VALID)
			len += snprintf(line + len, sizeof(line) - (size_t)len,
					"lladdr %02x:%02x:%02x:%02x:%02x:%02x ", n->ha[0], n->ha[1],
					n->ha[2], n->ha[3], n->ha[4], n->ha[5]);
		for (b = 0; b < 8; b++) {
			if (!(nud & (1u << b)))
				continue;
			nud &= ~(1u << b);
			len += snprintf(line + len, sizeof(line) - (size_t)len, "%s%s", nud_names[b],
					nud ? "," : " ");
		}
		len += snprintf(line + len, sizeof(line) - (size_t)len, "\n");
		if (used + (unsigned)len + 1 > outlen)
			break;
		memcpy(out + used, line, (size_t)len + 1);
		used += (unsigned)len;
	}
	return (int)used;
}
