/* SPDX-License-Identifier: MIT */
/*
 * netns.c - namespaces: creation, the lock and its backlogs, devices, worker
 *
 * Theory of operation.  See netns.h for the locking model.  This file owns:
 * - the list of namespaces (process-wide, guarded by ns_list_lock) and the
 *   default one, made on first use;
 * - the namespace lock and the two backlogs drained on unlock;
 * - the device table (ifindex 1 is always lo, as in Linux);
 * - the worker thread, started only when something needs it (a timer armed
 *   on a real clock, a TAP reader): it sleeps until the next timer deadline
 *   or until a watched fd is readable, then takes the lock and does the work.
 *   Virtual-time namespaces never start it: usock_clock_advance() runs their
 *   timers in the caller's thread, which is what makes them deterministic.
 * Limits: NETNS_MAX_DEV interfaces, NETNS_MAX_WATCH watched fds.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if_arp.h>
#include <net/if.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

#include "core/usercopy.h"
#include "ip/ip4.h"
#include "ip/neigh.h"
#include "net/netns.h"
#include "net/netns_internal.h"
#include "sock/sock.h"
#include "tcp/tcp.h"
#include "udp/udp.h"
#include "usock.h"

static pthread_mutex_t ns_list_lock = PTHREAD_MUTEX_INITIALIZER;
static struct netns *ns_list;
static struct netns *ns_default;
static __thread struct netns *ns_current;

/* Arena reserve per namespace: address space only (MAP_NORESERVE). */
#define NETNS_ARENA_SIZE (1ull << 30)
#define NETNS_TIMERS 65536

/* ---- sysctl defaults from the host ---- */

static int read_proc_ints(const char *path, int *a, int *b)
{
	char buf[128];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	char *end;
	long v = strtol(buf, &end, 10);
	if (end == buf)
		return -1;
	*a = (int)v;
	if (b) {
		long w = strtol(end, &end, 10);
		*b = (int)w;
	}
	return 0;
}

static void host_int(const char *name, int *v)
{
	char path[256];
	snprintf(path, sizeof(path), "/proc/sys/net/%s", name);
	read_proc_ints(path, v, NULL);
}

/*
 * Defaults are the kernel's compiled-in values, overridden by what the host
 * says in /proc/sys/net: a program under usock then sees the same limits it
 * would see on this machine.
 */
static void sysctl_defaults(struct netns_sysctl *s)
{
	s->port_lo = 32768;
	s->port_hi = 60999;
	s->optmem_max = 131072;
	s->wmem_default = s->wmem_max = 212992;
	s->rmem_default = s->rmem_max = 212992;
	s->ip_default_ttl = 64;
	s->ipfrag_high_thresh = 4 * 1024 * 1024;
	s->ipfrag_low_thresh = 3 * 1024 * 1024;
	s->ipfrag_time = 30;
	s->icmp_ratelimit = 1000;
	s->icmp_ratemask = 6168;
	s->udp_rmem_min = s->udp_wmem_min = 4096;
	s->somaxconn = 4096;
	s->ip_no_pmtu_disc = 0;
	s->ping_group_lo = 1;
	s->ping_group_hi = 0;
	s->icmp_echo_ignore_all = 0;
	s->icmp_echo_ignore_broadcasts = 1;
	s->netdev_max_backlog = 1000;
	/* Linux leaves busy polling off (net.core.busy_read 0); a user-space
	 * stack spins a little by default, because that is what removes system
	 * calls from a request/response exchange.  usock's own setting,
	 * "usock.busy_poll" (µs, 0: off); SO_BUSY_POLL overrides per socket. */
	s->busy_read_us = 50;

	char path[] = "/proc/sys/net/ipv4/ip_local_port_range";
	read_proc_ints(path, &s->port_lo, &s->port_hi);
	host_int("core/optmem_max", &s->optmem_max);
	host_int("core/wmem_default", &s->wmem_default);
	host_int("core/wmem_max", &s->wmem_max);
	host_int("core/rmem_default", &s->rmem_default);
	host_int("core/rmem_max", &s->rmem_max);
	host_int("ipv4/ip_default_ttl", &s->ip_default_ttl);
	host_int("ipv4/ipfrag_high_thresh", &s->ipfrag_high_thresh);
	host_int("ipv4/ipfrag_low_thresh", &s->ipfrag_low_thresh);
	host_int("ipv4/ipfrag_time", &s->ipfrag_time);
	host_int("ipv4/icmp_ratelimit", &s->icmp_ratelimit);
	host_int("ipv4/icmp_ratemask", &s->icmp_ratemask);
	host_int("ipv4/udp_rmem_min", &s->udp_rmem_min);
	host_int("ipv4/udp_wmem_min", &s->udp_wmem_min);
	host_int("core/somaxconn", &s->somaxconn);
	host_int("ipv4/ip_no_pmtu_disc", &s->ip_no_pmtu_disc);
	host_int("ipv4/icmp_echo_ignore_all", &s->icmp_echo_ignore_all);
	host_int("ipv4/icmp_echo_ignore_broadcasts", &s->icmp_echo_ignore_broadcasts);
	host_int("core/netdev_max_backlog", &s->netdev_max_backlog);
	{
		char p2[] = "/proc/sys/net/ipv4/ping_group_range";
		read_proc_ints(p2, &s->ping_group_lo, &s->ping_group_hi);
	}
}

/* The kernel's neighbour defaults (net/ipv4/arp.c arp_tbl.parms). */
void netns_neigh_parms_default(struct neigh_parms *p)
{
	p->base_reachable_time_ms = 30000;
	p->delay_first_probe_time_ms = 5000;
	p->retrans_time_ms = 1000;
	p->gc_stale_time_ms = 60000;
	p->ucast_probes = 3;
	p->mcast_probes = 3;
	p->app_probes = 0;
	p->mcast_resolicit = 0;
	p->unres_qlen_bytes = 212992;
	p->reachable_time_ms = 30000;
}

/* ---- lock and backlogs ---- */

void netns_lock(struct netns *ns)
{
	pthread_mutex_lock(&ns->lock);
	ns->owner = pthread_self();
}

bool netns_locked_by_me(const struct netns *ns)
{
	/* owner is only meaningful while locked; a stale match is impossible
	 * because the owner clears it before unlocking. */
	return pthread_equal(ns->owner, pthread_self());
}

/*
 * The receive ring holds records [ifindex u32][len u32][bytes, padded to 8].
 * A record never wraps: a writer that would cross the end writes a len
 * UINT32_MAX marker and starts again at 0.
 */
#define RING_HDR 8u
static inline uint32_t ring_rec(uint32_t len) { return RING_HDR + ((len + 7u) & ~7u); }

static uint32_t ring_free_bytes(const struct netns *ns)
{
	if (ns->ring_head >= ns->ring_tail)
		return ns->ring_size - (ns->ring_head - ns->ring_tail) - 8;
	return ns->ring_tail - ns->ring_head - 8;
}

/* ring_push - copy one frame in (blk held). Return: false if it does not fit. */
static bool ring_push(struct netns *ns, int ifindex, const struct pkt *src, const void *buf,
		      uint32_t len)
{
	uint32_t need = ring_rec(len);
	if (need > ns->ring_size / 2)
		return false;
	if (ns->ring_head + need > ns->ring_size) {
		/* wrap: need room for the marker's remainder plus the record at 0 */
		if (ns->ring_tail > ns->ring_head || ns->ring_tail <= need)
			return false;
		uint32_t *m = (uint32_t *)(ns->ring + ns->ring_head);
		if (ns->ring_size - ns->ring_head >= RING_HDR) {
			m[0] = 0;
			m[1] = UINT32_MAX;
		}
		ns->ring_head = 0;
	} else if (ring_free_bytes(ns) < need) {
		return false;
	}
	uint8_t *r = ns->ring + ns->ring_head;
	((uint32_t *)r)[0] = (uint32_t)ifindex;
	((uint32_t *)r)[1] = len;
	if (src)
		pkt_copy_out(src, 0, r + RING_HDR, len);
	else
		memcpy(r + RING_HDR, buf, len);
	ns->ring_head += need;
	if (ns->ring_head == ns->ring_size)
		ns->ring_head = 0;
	return true;
}

/* Drain frames copied in by other threads; lock held. */
static void drain_remote(struct netns *ns)
{
	while (atomic_load_explicit(&ns->remote_pending, memory_order_acquire)) {
		struct pkt *pk = NULL;
		int ifindex = 0;
		pthread_spin_lock(&ns->blk);
		if (ns->ring_tail == ns->ring_head) {
			atomic_store_explicit(&ns->remote_pending, 0, memory_order_release);
			pthread_spin_unlock(&ns->blk);
			break;
		}
		uint32_t *h = (uint32_t *)(ns->ring + ns->ring_tail);
		if (ns->ring_size - ns->ring_tail < RING_HDR || h[1] == UINT32_MAX) {
			ns->ring_tail = 0;
			pthread_spin_unlock(&ns->blk);
			continue;
		}
		ifindex = (int)h[0];
		uint32_t len = h[1];
		pk = pkt_alloc(ns->pools, len);
		if (pk)
			memcpy(pkt_put(pk, len), ns->ring + ns->ring_tail + RING_HDR, len);
		ns->ring_tail += ring_rec(len);
		if (ns->ring_tail == ns->ring_size)
			ns->ring_tail = 0;
		pthread_spin_unlock(&ns->blk);
		struct netdev *dev = netns_dev_by_index(ns, ifindex);
		if (!pk || !dev) {
			if (dev)
				dev->rx_dropped++;
			pkt_free(pk);
			continue;
		}
		netdev_rx(dev, pk);
	}
}

void netns_unlock(struct netns *ns)
{
	for (;;) {
		drain_remote(ns);
		ns->owner = (pthread_t)0;
		ns->now_valid = false;
		pthread_mutex_unlock(&ns->lock);
		/*
		 * A frame pushed after our last check but before the unlock
		 * found the lock taken and left it to us: look once more, and
		 * take the lock back if we can (if we can't, whoever holds it
		 * will drain on their way out).
		 */
		if (!atomic_load_explicit(&ns->remote_pending, memory_order_acquire))
			return;
		if (pthread_mutex_trylock(&ns->lock) != 0)
			return;
		ns->owner = pthread_self();
	}
}

static void rx_foreign(struct netdev *dev, const struct pkt *src, const void *buf, size_t len)
{
	struct netns *ns = dev->ns;
	if (len > PKT_CLASS_LARGE - PKT_HEADROOM) {
		__atomic_add_fetch(&dev->rx_dropped, 1, __ATOMIC_RELAXED);
		return;
	}
	if (!netns_locked_by_me(ns) && pthread_mutex_trylock(&ns->lock) == 0) {
		ns->owner = pthread_self();
		/* frames parked in the ring came first: a link never reorders */
		drain_remote(ns);
		struct pkt *pk = pkt_alloc(ns->pools, len);
		if (pk) {
			uint8_t *d = pkt_put(pk, len);
			if (src)
				pkt_copy_out(src, 0, d, len);
			else
				memcpy(d, buf, len);
			netdev_rx(dev, pk);
		} else {
			dev->rx_dropped++;
		}
		netns_unlock(ns);
		return;
	}
	pthread_spin_lock(&ns->blk);
	bool ok = ring_push(ns, dev->ifindex, src, buf, (uint32_t)len);
	if (ok)
		atomic_store_explicit(&ns->remote_pending, 1, memory_order_release);
	pthread_spin_unlock(&ns->blk);
	if (!ok) {
		__atomic_add_fetch(&dev->rx_dropped, 1, __ATOMIC_RELAXED);
		return;
	}
	/* The holder may have checked the ring just before our push. */
	if (!netns_locked_by_me(ns) && pthread_mutex_trylock(&ns->lock) == 0) {
		ns->owner = pthread_self();
		netns_unlock(ns);
	}
}

void netdev_rx_frame(struct netdev *dev, const struct pkt *src)
{
	rx_foreign(dev, src, NULL, src->tot_len);
}

void netdev_rx_buf(struct netdev *dev, const void *buf, size_t len)
{
	rx_foreign(dev, NULL, buf, len);
}

/* ---- devices ---- */

struct netdev *netns_dev_by_index(struct netns *ns, int ifindex)
{
	if (ifindex <= 0 || ifindex >= NETNS_MAX_DEV)
		return NULL;
	return ns->dev[ifindex];
}

struct netdev *netns_dev_by_name(struct netns *ns, const char *name)
{
	for (int i = 1; i < NETNS_MAX_DEV; i++)
		if (ns->dev[i] && strcmp(ns->dev[i]->name, name) == 0)
			return ns->dev[i];
	return NULL;
}

struct netdev *netns_dev_add(struct netns *ns, const char *name, const struct link_ops *ops,
			     unsigned type, int *err)
{
	if (strlen(name) >= IFNAMSIZ || !*name) {
		*err = -EINVAL;
		return NULL;
	}
	if (netns_dev_by_name(ns, name)) {
		*err = -EEXIST;
		return NULL;
	}
	int idx = -1;
	for (int i = 1; i < NETNS_MAX_DEV; i++)
		if (!ns->dev[i]) {
			idx = i;
			break;
		}
	if (idx < 0) {
		*err = -ENOSPC;
		return NULL;
	}
	struct netdev *d = ns_cache_alloc(ns, NSC_DEV);
	if (!d) {
		*err = -ENOMEM;
		return NULL;
	}
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->ns = ns;
	d->ifindex = idx;
	d->ops = ops;
	d->type = type;
	d->mtu = type == ARPHRD_LOOPBACK ? 65536 : 1500;
	d->flags = type == ARPHRD_LOOPBACK ? (IFF_LOOPBACK) : (IFF_BROADCAST | IFF_MULTICAST);
	if (type == ARPHRD_ETHER) {
		/* A random locally administered unicast MAC, as eth_random_addr. */
		uint64_t r = netns_random(ns);
		memcpy(d->hwaddr, &r, 6);
		d->hwaddr[0] = (uint8_t)((d->hwaddr[0] & 0xfe) | 0x02);
	}
	netns_neigh_parms_default(&d->neigh);
	d->neigh.reachable_time_ms = d->neigh.base_reachable_time_ms / 2 +
				     (uint32_t)(netns_random(ns) % d->neigh.base_reachable_time_ms);
	ns->dev[idx] = d;
	link_pcap_env(d);
	*err = 0;
	return d;
}

int netns_dev_set_up(struct netns *ns, struct netdev *dev, bool up)
{
	bool was = dev->flags & IFF_UP;
	if (was == up)
		return 0;
	if (up)
		dev->flags |= IFF_UP | IFF_RUNNING | IFF_LOWER_UP;
	else
		dev->flags &= ~(unsigned)(IFF_UP | IFF_RUNNING | IFF_LOWER_UP);
	if (dev->ops->set_up)
		dev->ops->set_up(dev, up);
	ip4_dev_updown(ns, dev, up);
	if (!up)
		neigh_dev_down(ns, dev);
	return 0;
}

void netns_dev_remove(struct netns *ns, struct netdev *dev)
{
	netns_dev_set_up(ns, dev, false);
	while (dev->naddr4)
		ip4_addr_del(ns, dev, dev->addr4[0].addr, dev->addr4[0].prefixlen);
	if (dev->pcap)
		link_pcap_close(dev);
	if (dev->ops->destroy)
		dev->ops->destroy(dev);
	ns->dev[dev->ifindex] = NULL;
	ns_cache_free(ns, NSC_DEV, dev);
}

int netdev_xmit(struct netdev *dev, struct pkt *pk)
{
	if (!(dev->flags & IFF_UP)) {
		dev->tx_dropped++;
		pkt_free(pk);
		return -ENETDOWN;
	}
	/* the sender's charge ends when the frame leaves (skb_orphan in the drivers) */
	pkt_orphan(pk);
	dev->tx_packets++;
	dev->tx_bytes += pk->tot_len;
	if (dev->pcap)
		link_pcap_write(dev->pcap, pk, clock_realtime(&dev->ns->clock));
	return dev->ops->xmit(dev, pk);
}

void netdev_rx_ip(struct netdev *dev, struct pkt *pk)
{
	/* as a frame with the broadcast address, marked so that it is neither
	 * captured again nor classified by its (absent) Ethernet header */
	uint8_t *e = pkt_push(pk, 14);
	if (!e) {
		pkt_free(pk);
		return;
	}
	memset(e, 0xff, 12);
	e[12] = 0x08;
	e[13] = 0x00;
	pk->meta.pkt_type = PACKET_LOOPBACK;
	netdev_rx(dev, pk);
}

/* The frames queued by the lock holder while inside the receive path (rx_depth > 0). */
static void backlog_drain(struct netns *ns)
{
	struct pkt *q;
	while ((q = pkt_queue_pop(&ns->local_backlog)) != NULL) {
		struct netdev *d = netns_dev_by_index(ns, q->meta.ifindex);
		if (d)
			netdev_receive(d, q);
		else
			pkt_free(q);
	}
}

void netdev_rx(struct netdev *dev, struct pkt *pk)
{
	struct netns *ns = dev->ns;
	pk->meta.ifindex = dev->ifindex;
	if (ns->rx_depth > 0) {
		/* Already inside the receive path on this thread (loopback
		 * answering itself): queue, handled by the outermost call, as
		 * netif_rx defers to the softirq. */
		if (ns->local_backlog.count >= (unsigned)ns->sys.netdev_max_backlog) {
			dev->rx_dropped++;
			pkt_free(pk);
			return;
		}
		pkt_queue_push(&ns->local_backlog, pk);
		return;
	}
	ns->rx_depth++;
	netdev_receive(dev, pk);
	backlog_drain(ns);
	ns->rx_depth--;
}

void netns_run_timers(struct netns *ns, uint64_t now)
{
	/* timers run as the kernel's timer softirq does: what they send on
	 * loopback is received after them, never inside them */
	ns->rx_depth++;
	timer_run(&ns->timers, now);
	backlog_drain(ns);
	ns->rx_depth--;
}

/* ---- random ---- */

uint64_t netns_random(struct netns *ns)
{
	/* xorshift128+: fast and, seeded per namespace, reproducible in virtual time. */
	uint64_t s1 = ns->rng[0];
	const uint64_t s0 = ns->rng[1];
	ns->rng[0] = s0;
	s1 ^= s1 << 23;
	ns->rng[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
	return ns->rng[1] + s0;
}

/* ---- timers and the worker thread ---- */

static void worker_kick(struct netns *ns)
{
	if (ns->worker_efd >= 0) {
		uint64_t one = 1;
		ssize_t r = write(ns->worker_efd, &one, sizeof(one));
		(void)r;
	}
}

static void *worker_main(void *arg);

static int worker_start(struct netns *ns)
{
	if (ns->worker_running)
		return 0;
	if (ns->clock.virt && ns->nwatch == 0)
		return 0;
	if (ns->worker_efd < 0) {
		ns->worker_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (ns->worker_efd < 0)
			return -errno;
	}
	/* The worker must not inherit the application's blocked signals
	 * policy in a way that steals them: block all signals in it. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int r = pthread_create(&ns->worker, NULL, worker_main, ns);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r)
		return -r;
	ns->worker_running = true;
	return 0;
}

int netns_timer_arm(struct netns *ns, struct timer *t, uint64_t expires)
{
	int r = timer_arm(&ns->timers, t, expires);
	if (r)
		return r;
	if (!ns->clock.virt) {
		/*
		 * Kick the worker only if it would sleep past this deadline.
		 * A timer cancelled and re-armed later (TCP's retransmit and
		 * delayed-ACK timers, once per segment) leaves the worker's
		 * wake-up where it was: it wakes, finds nothing due and sleeps
		 * again - one wake-up per timeout, not a system call per arm.
		 */
		if (!ns->worker_running) {
			worker_start(ns);
		} else if (expires < ns->worker_wake_ns) {
			ns->worker_wake_ns = expires;
			worker_kick(ns);
		}
	}
	return 0;
}

void netns_timer_cancel(struct netns *ns, struct timer *t)
{
	timer_cancel(&ns->timers, t);
}

int netns_worker_add_fd(struct netns *ns, int fd, void (*fn)(void *arg), void *arg)
{
	if (ns->nwatch >= NETNS_MAX_WATCH)
		return -ENOSPC;
	ns->watch[ns->nwatch].fd = fd;
	ns->watch[ns->nwatch].fn = fn;
	ns->watch[ns->nwatch].arg = arg;
	ns->nwatch++;
	int r = worker_start(ns);
	if (r == 0)
		worker_kick(ns);
	return r;
}

void netns_worker_del_fd(struct netns *ns, int fd)
{
	for (unsigned i = 0; i < ns->nwatch; i++)
		if (ns->watch[i].fd == fd) {
			ns->watch[i] = ns->watch[--ns->nwatch];
			break;
		}
	worker_kick(ns);
}

static void *worker_main(void *arg)
{
	struct netns *ns = arg;
	struct pollfd pf[1 + NETNS_MAX_WATCH];
	struct netns_watch w[NETNS_MAX_WATCH];
	for (;;) {
		netns_lock(ns);
		if (ns->worker_stop) {
			netns_unlock(ns);
			return NULL;
		}
		uint64_t now = netns_now(ns);
		if (!ns->clock.virt)
			netns_run_timers(ns, now);
		uint64_t next = ns->clock.virt ? UINT64_MAX : timer_next(&ns->timers);
		ns->worker_wake_ns = next;
		unsigned nw = ns->nwatch;
		memcpy(w, ns->watch, nw * sizeof(w[0]));
		netns_unlock(ns);

		pf[0].fd = ns->worker_efd;
		pf[0].events = POLLIN;
		for (unsigned i = 0; i < nw; i++) {
			pf[1 + i].fd = w[i].fd;
			pf[1 + i].events = POLLIN;
		}
		int to = -1;
		if (next != UINT64_MAX) {
			now = clock_now(&ns->clock);
			uint64_t d = next > now ? next - now : 0;
			to = (int)((d + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC);
			if (to < 0 || d > (uint64_t)INT32_MAX * NSEC_PER_MSEC)
				to = INT32_MAX;
		}
		int n = poll(pf, 1 + nw, to);
		if (n <= 0)
			continue;
		if (pf[0].revents & POLLIN) {
			uint64_t v;
			ssize_t r = read(ns->worker_efd, &v, sizeof(v));
			(void)r;
		}
		for (unsigned i = 0; i < nw; i++)
			if (pf[1 + i].revents & (POLLIN | POLLERR | POLLHUP))
				w[i].fn(w[i].arg);
	}
}

/* ---- creation ---- */

struct netns *netns_create(const char *name, unsigned flags, int *err)
{
	usercopy_init();
	struct arena *a = arena_new(NETNS_ARENA_SIZE);
	if (!a) {
		*err = -ENOMEM;
		return NULL;
	}
	struct netns *ns = arena_alloc(a, sizeof(*ns));
	if (!ns)
		goto nomem;
	snprintf(ns->name, sizeof(ns->name), "%s", name ? name : "");
	ns->arena = a;
	pthread_mutexattr_t ma;
	pthread_mutexattr_init(&ma);
	pthread_mutex_init(&ns->lock, &ma);
	pthread_mutexattr_destroy(&ma);
	pthread_spin_init(&ns->blk, PTHREAD_PROCESS_PRIVATE);
	pkt_queue_init(&ns->local_backlog);
	ns->ring_size = NETNS_RING_SIZE;
	ns->ring = arena_alloc(a, NETNS_RING_SIZE);
	if (!ns->ring)
		goto nomem;
	ns->worker_efd = -1;
	clock_init(&ns->clock, flags & USOCK_NETNS_VIRTUAL_TIME);
	if (flags & USOCK_NETNS_VIRTUAL_TIME) {
		/* reproducible, yet different per namespace name (MAC addresses!) */
		uint64_t h = 0xcbf29ce484222325ull;
		for (const char *c = name ? name : ""; *c; c++)
			h = (h ^ (uint8_t)*c) * 0x100000001b3ull;
		ns->rng[0] = 0x9e3779b97f4a7c15ull ^ h;
		ns->rng[1] = 0xbf58476d1ce4e5b9ull + (h << 1);
	} else if (getrandom(ns->rng, sizeof(ns->rng), 0) != sizeof(ns->rng) ||
		   (ns->rng[0] | ns->rng[1]) == 0) {
		ns->rng[0] = (uint64_t)clock_now(&ns->clock) | 1;
		ns->rng[1] = (uint64_t)(uintptr_t)ns;
	}
	sysctl_defaults(&ns->sys);
	if (timer_base_init(&ns->timers, a, NETNS_TIMERS))
		goto nomem;
	ns->pools = pkt_pools_new(a, NETNS_POOL_SMALL, NETNS_POOL_MEDIUM, NETNS_POOL_LARGE);
	if (!ns->pools)
		goto nomem;
	if (ns_caches_init(ns) || ip4_init(ns) || ip4_frag_init(ns) || neigh_init(ns) ||
	    udp_init(ns) || tcp_init(ns) || sock_ns_init(ns))
		goto nomem;

	netns_lock(ns);
	int e;
	struct netdev *lo = netns_dev_add(ns, "lo", &link_loop_ops, ARPHRD_LOOPBACK, &e);
	if (!lo) {
		netns_unlock(ns);
		goto nomem;
	}
	ns->lo = lo;
	/* Linux gives lo 127.0.0.1/8 only when it comes up; usock's lo comes
	 * up with its address unless asked not to, so the default namespace
	 * works at once. */
	ip4_addr_add(ns, lo, htonl(0x7f000001), 8, 0);
	if (!(flags & USOCK_NETNS_LO_DOWN))
		netns_dev_set_up(ns, lo, true);
	netns_unlock(ns);

	pthread_mutex_lock(&ns_list_lock);
	for (struct netns *o = ns_list; o && *ns->name; o = o->next)
		if (strcmp(o->name, ns->name) == 0) {
			pthread_mutex_unlock(&ns_list_lock);
			*err = -EEXIST;
			arena_destroy(a);
			return NULL;
		}
	ns->next = ns_list;
	ns_list = ns;
	pthread_mutex_unlock(&ns_list_lock);
	*err = 0;
	return ns;
nomem:
	arena_destroy(a);
	*err = -ENOMEM;
	return NULL;
}

void netns_destroy(struct netns *ns)
{
	pthread_mutex_lock(&ns_list_lock);
	for (struct netns **pp = &ns_list; *pp; pp = &(*pp)->next)
		if (*pp == ns) {
			*pp = ns->next;
			break;
		}
	if (ns_default == ns)
		ns_default = NULL;
	pthread_mutex_unlock(&ns_list_lock);
	if (ns_current == ns)
		ns_current = NULL;

	if (ns->worker_running) {
		netns_lock(ns);
		ns->worker_stop = true;
		netns_unlock(ns);
		worker_kick(ns);
		pthread_join(ns->worker, NULL);
	}
	netns_lock(ns);
	/* Detach veth peers in other namespaces before our memory goes. */
	for (int i = NETNS_MAX_DEV - 1; i >= 1; i--)
		if (ns->dev[i])
			netns_dev_remove(ns, ns->dev[i]);
	netns_unlock(ns);
	if (ns->worker_efd >= 0)
		close(ns->worker_efd);
	pthread_spin_destroy(&ns->blk);
	pthread_mutex_destroy(&ns->lock);
	arena_destroy(ns->arena);
}

struct netns *netns_find(const char *name)
{
	pthread_mutex_lock(&ns_list_lock);
	struct netns *ns = ns_list;
	while (ns && strcmp(ns->name, name) != 0)
		ns = ns->next;
	pthread_mutex_unlock(&ns_list_lock);
	return ns;
}

struct netns *netns_get_default(void)
{
	struct netns *ns = __atomic_load_n(&ns_default, __ATOMIC_ACQUIRE);
	if (ns)
		return ns;
	static pthread_mutex_t once = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_lock(&once);
	if (!ns_default) {
		int e;
		struct netns *n = netns_create("", 0, &e);
		__atomic_store_n(&ns_default, n, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&once);
	return ns_default;
}

struct netns *netns_get_current(void)
{
	return ns_current ? ns_current : netns_get_default();
}

void netns_set_current(struct netns *ns)
{
	ns_current = ns;
}

void netns_foreach(void (*fn)(struct netns *ns, void *arg), void *arg)
{
	pthread_mutex_lock(&ns_list_lock);
	for (struct netns *ns = ns_list; ns; ns = ns->next)
		fn(ns, arg);
	pthread_mutex_unlock(&ns_list_lock);
}
