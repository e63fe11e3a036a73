/* SPDX-License-Identifier: MIT */
/*
 * neigh.h - the IPv4 neighbour cache (ARP), with Linux's states
 *
 * States and timers follow the kernel's neighbour.c: INCOMPLETE, REACHABLE,
 * STALE, DELAY, PROBE, FAILED, NOARP, PERMANENT; reachable_time randomised
 * from base_reachable_time; DELAY -> PROBE after delay_first_probe_time
 * unless confirmed meanwhile (MSG_CONFIRM calls neigh_confirm, which is why
 * it removes the unicast probe from the wire).
 */
#ifndef USOCK_IP_NEIGH_H
#define USOCK_IP_NEIGH_H

#include <stdbool.h>
#include <stdint.h>

struct netns;
struct netdev;
struct pkt;

#define NUD_INCOMPLETE 0x01
#define NUD_REACHABLE 0x02
#define NUD_STALE 0x04
#define NUD_DELAY 0x08
#define NUD_PROBE 0x10
#define NUD_FAILED 0x20
#define NUD_NOARP 0x40
#define NUD_PERMANENT 0x80
#define NUD_NONE 0x00

/* neigh_init - the ARP table of ns from its arena. Return: 0, -ENOMEM. */
int neigh_init(struct netns *ns);
/*
 * neigh_output - send IPv4 packet pk (data at the IP header) to nexthop on
 * dev: prepend Ethernet with the resolved address, or queue it on the entry
 * (unres_qlen_bytes) and start resolution.  Loopback and broadcast need no
 * resolution.  Consumes pk.  Return: 0 (sent or queued), -ENOBUFS.
 */
int neigh_output(struct netns *ns, struct netdev *dev, uint32_t nexthop, struct pkt *pk);
/* neigh_confirm - MSG_CONFIRM / upper-layer confirmation for nexthop on dev (as neigh_confirm/dst_confirm_neigh). */
void neigh_confirm(struct netns *ns, struct netdev *dev, uint32_t nexthop);
/* arp_rcv - an ARP frame (data at the ARP header); consumes pk. */
void arp_rcv(struct netns *ns, struct netdev *dev, struct pkt *pk);
/* neigh_dev_down - flush entries of dev (link down / removed). */
void neigh_dev_down(struct netns *ns, struct netdev *dev);
/* neigh_add - `ip neigh add|replace ADDR lladdr MAC dev D nud STATE`. Return: 0, -errno. */
int neigh_add(struct netns *ns, struct netdev *dev, uint32_t addr, const uint8_t mac[6], unsigned nud);
int neigh_del(struct netns *ns, struct netdev *dev, uint32_t addr);
/* neigh_lookup_state - NUD state of addr on dev, NUD_NONE if absent (tests, `ip neigh show`). */
unsigned neigh_lookup_state(struct netns *ns, struct netdev *dev, uint32_t addr, uint8_t mac_out[6]);
/* neigh_show - `ip neigh show` lines into out. Return: bytes written. */
int neigh_show(struct netns *ns, char *out, unsigned outlen);

#endif
