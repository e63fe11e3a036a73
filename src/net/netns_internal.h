/* SPDX-License-Identifier: MIT */
/*
 * netns_internal.h - what only the net/ module and the public edge use
 */
#ifndef USOCK_NET_NETNS_INTERNAL_H
#define USOCK_NET_NETNS_INTERNAL_H

#include "net/netns.h"

/*
 * Pool sizes per namespace, in blocks.  Address space is reserved for all
 * of them, pages are touched only when a block is first used.  Large blocks
 * carry 64 KiB datagrams over lo (mtu 65536) and reassembled fragments.
 */
#define NETNS_POOL_SMALL 65536	/* 512 B: 32 MiB of address space */
#define NETNS_POOL_MEDIUM 16384	/* 2 KiB: 32 MiB */
#define NETNS_POOL_LARGE 512	/* 64 KiB: 33 MiB */
#define NETNS_RING_SIZE (4u << 20)

struct netns *netns_create(const char *name, unsigned flags, int *err);
void netns_destroy(struct netns *ns);
struct netns *netns_find(const char *name);
struct netns *netns_get_default(void);
void netns_set_current(struct netns *ns);
void netns_foreach(void (*fn)(struct netns *ns, void *arg), void *arg);
void netns_worker_del_fd(struct netns *ns, int fd);
void netns_neigh_parms_default(struct neigh_parms *p);

/* netns_dev_set_up - `ip link set DEV up|down` (routes and neighbours follow). */
int netns_dev_set_up(struct netns *ns, struct netdev *dev, bool up);
/* netns_dev_remove - `ip link del DEV`. */
void netns_dev_remove(struct netns *ns, struct netdev *dev);

/* netdev_receive - Ethernet demux to ARP / IPv4 (rx path, lock held); consumes pk. */
void netdev_receive(struct netdev *dev, struct pkt *pk);

/* Object caches. */
int ns_caches_init(struct netns *ns);
void *ns_cache_alloc(struct netns *ns, int which);
void ns_cache_free(struct netns *ns, int which, void *obj);

#endif
