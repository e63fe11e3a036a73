/* SPDX-License-Identifier: MIT */
/*
 * netns.h - a namespace: one whole stack
 *
 * Theory of operation.  A netns owns its interfaces, addresses, routes,
 * neighbour cache, port tables and sockets, and all their memory (one arena,
 * pools sized up front).  One mutex per namespace serialises everything in
 * it: a public call takes the lock, runs to completion down to the link and
 * releases it.  Frames that arrive from another thread (a veth peer in
 * another namespace, a TAP reader) are copied into a packet at once if the
 * lock is free, else into the receive ring, which netns_unlock() drains
 * before it lets go, so nothing waits for a lock holder and no frame is lost
 * (the kernel's release_sock() does the same with a socket's backlog).
 * Packets never cross namespaces: each namespace's pools are touched only
 * under its own lock.  Frames that arrive on the lock holder's
 * own thread while it is already inside the receive path (loopback, a reply
 * to a reply) go to the local backlog and are handled when the outermost
 * receive returns, bounding the stack as the kernel's softirq does.
 */
#ifndef USOCK_NET_NETNS_H
#define USOCK_NET_NETNS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf/pkt.h"
#include "core/arena.h"
#include "core/clock.h"
#include "core/timer.h"
#include "link/link.h"

#define NETNS_MAX_DEV 32
#define NETNS_NAME_MAX 32

/* Settings the kernel keeps in /proc/sys/net, read from the host at creation. */
struct netns_sysctl {
	int port_lo, port_hi;		/* ipv4.ip_local_port_range */
	int optmem_max;			/* core.optmem_max */
	int wmem_default, wmem_max;	/* core.wmem_* */
	int rmem_default, rmem_max;	/* core.rmem_* */
	int ip_default_ttl;		/* ipv4.ip_default_ttl */
	int ipfrag_high_thresh, ipfrag_low_thresh, ipfrag_time;	/* ipv4.ipfrag_* */
	int icmp_ratelimit, icmp_ratemask;
	int udp_rmem_min, udp_wmem_min;
	int somaxconn;
	int ip_no_pmtu_disc;
	int ping_group_lo, ping_group_hi;
	int icmp_echo_ignore_all, icmp_echo_ignore_broadcasts;
	int netdev_max_backlog;
	int busy_read_us;		/* usock.busy_poll: spin before sleeping, µs (default 50) */
};

struct netns_watch {
	int fd;
	void (*fn)(void *arg);
	void *arg;
};
#define NETNS_MAX_WATCH 8

/* Object caches of a namespace (arena_cache each). */
enum { NSC_DEV, NSC_SOCK, NSC_SOCK_TCP, NSC_COUNT };

struct ip4_state;	/* ip/ */
struct neigh_table;	/* ip/neigh */
struct udp_table;	/* udp/ */
struct tcp_table;	/* tcp/ */
struct sock_table;	/* sock/ */

struct netns {
	char name[NETNS_NAME_MAX];
	pthread_mutex_t lock;
	pthread_t owner;		/* thread holding lock (valid while locked) */
	int rx_depth;			/* >0 while inside netdev_rx on the owner */
	struct arena *arena;
	struct pkt_pools *pools;
	struct clock clock;
	struct timer_base timers;
	struct netns_sysctl sys;
	struct netdev *dev[NETNS_MAX_DEV];	/* by ifindex; [0] unused, [1] is lo */
	struct netdev *lo;
	struct ip4_state *ip4;
	struct neigh_table *arp;
	struct udp_table *udp;
	struct tcp_table *tcp;
	uint64_t rng[2];		/* xorshift128+ state */
	/* local backlog: frames for this namespace queued by its lock holder */
	struct pkt_queue local_backlog;
	/* receive ring: frames copied in by other threads, guarded by blk */
	pthread_spinlock_t blk;
	uint8_t *ring;
	uint32_t ring_size, ring_head, ring_tail;	/* byte offsets; head == tail: empty */
	atomic_uint remote_pending;
	/* worker thread: timers in real time, backend readers */
	pthread_t worker;
	bool worker_running, worker_stop;
	int worker_efd;			/* eventfd that kicks the worker */
	uint64_t worker_wake_ns;	/* the deadline the worker sleeps until (lock held to read/write) */
	uint64_t now_cache;		/* netns_now's reading for this lock hold */
	bool now_valid;
	struct netns_watch watch[NETNS_MAX_WATCH];
	unsigned nwatch;
	struct arena_cache cache[NSC_COUNT];
	struct sock_table *socks;	/* sock/ */
	struct netns *next;		/* global list */
};

void netns_lock(struct netns *ns);
/* netns_unlock - drain both backlogs, then release (loops until they are empty). */
void netns_unlock(struct netns *ns);
bool netns_locked_by_me(const struct netns *ns);

/* netns_dev_by_name / netns_dev_by_index - NULL if none. */
struct netdev *netns_dev_by_name(struct netns *ns, const char *name);
struct netdev *netns_dev_by_index(struct netns *ns, int ifindex);
/*
 * netns_dev_add - register a new interface with ops (down, no addresses).
 * Return: the device, or NULL (-EEXIST/-ENOMEM in *err).
 */
struct netdev *netns_dev_add(struct netns *ns, const char *name, const struct link_ops *ops,
			     unsigned type, int *err);

/* netdev_xmit - put a frame on dev (pcap, counters, then ops->xmit); consumes pk. Return: 0/-errno. */
int netdev_xmit(struct netdev *dev, struct pkt *pk);
/* netdev_rx_ip - an IPv4 packet looped back to this host on dev (dev_loopback_xmit); consumes pk. */
void netdev_rx_ip(struct netdev *dev, struct pkt *pk);
/* netdev_rx - a frame arrived on dev (lock held); consumes pk. */
void netdev_rx(struct netdev *dev, struct pkt *pk);
/*
 * netdev_rx_frame - a frame for dev arrives from outside its namespace (a
 * veth peer in another namespace, a TAP reader): any thread, any locks but
 * dev's namespace lock.  The bytes are copied (pools never cross
 * namespaces): straight into a packet when dev's lock is free, else into
 * the namespace's receive ring, drained by whoever holds the lock.  Does
 * not consume anything.  Drops (counted in rx_dropped) when the ring is full.
 */
void netdev_rx_frame(struct netdev *dev, const struct pkt *src);
void netdev_rx_buf(struct netdev *dev, const void *buf, size_t len);

/* netns_random - 64 random bits (xorshift128+, seeded per namespace; fixed seed in virtual time). */
uint64_t netns_random(struct netns *ns);
/* netns_now - the namespace clock in ns. */
/*
 * One reading of a real clock per lock hold: a call (or a timer run, or a
 * frame from another thread) sees one "now" from the moment it took the
 * namespace lock, as the kernel's TCP refreshes tcp_mstamp once per event;
 * netns_unlock forgets it.  Without the lock (racy readers) it still
 * returns a recent time.  Virtual clocks are read directly.
 */
static inline uint64_t netns_now(const struct netns *ns)
{
	struct netns *m = (struct netns *)ns;
	if (ns->clock.virt)
		return clock_now(&ns->clock);
	if (!m->now_valid) {
		m->now_cache = clock_now(&ns->clock);
		m->now_valid = true;
	}
	return m->now_cache;
}
/* netns_timer_arm - arm on this namespace's timer base and wake the worker if it sleeps longer. */
int netns_timer_arm(struct netns *ns, struct timer *t, uint64_t expires);
void netns_timer_cancel(struct netns *ns, struct timer *t);
/* netns_run_timers - fire the timers due at now (lock held), loopback deferred until they are done. */
void netns_run_timers(struct netns *ns, uint64_t now);
/* netns_worker_add_fd - have the worker thread call fn(arg) when fd is readable (TAP). Return: 0/-errno. */
int netns_worker_add_fd(struct netns *ns, int fd, void (*fn)(void *arg), void *arg);

/* netns_get_current - the calling thread's namespace (default created on first use); NULL with -ENOMEM. */
struct netns *netns_get_current(void);

#endif
