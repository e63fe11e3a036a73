/* SPDX-License-Identifier: MIT */
/*
 * udp.h - UDP over IPv4
 */
#ifndef USOCK_UDP_UDP_H
#define USOCK_UDP_UDP_H

#include <stdint.h>

#include "ip/ip4.h"
#include "sock/sock.h"

struct netns;
struct netdev;
struct pkt;

#define UDP_HTABLE_SIZE 4096

struct udp_table {
	struct sock *slot[UDP_HTABLE_SIZE];	/* chains by local port */
	unsigned count;
};

struct udp_sock {
	struct sock sk;
	/* corking: MSG_MORE / UDP_CORK (up->pending in the kernel) */
	bool corkflag;			/* UDP_CORK */
	bool pending;			/* a datagram is being built */
	struct pkt *cork;		/* its payload so far (UDP header room in front) */
	uint32_t cork_len;		/* payload bytes */
	uint32_t cork_skb_len;		/* the kernel's current skb of the cork, IP header included */
	uint32_t cork_daddr, cork_saddr;
	uint16_t cork_dport;
	struct rt4_result cork_rt;
	struct ip4_out_opts cork_opts;
	/* connected state */
	uint16_t inet_id;		/* IP id for DF packets of a connected socket */
	struct rt4_result dst;		/* cached route (sk_dst_cache) */
	uint32_t dst_genid;
	uint16_t gso_size;
};

static inline struct udp_sock *udp_sk(struct sock *sk) { return (struct udp_sock *)sk; }

int udp_init(struct netns *ns);
/* udp_rcv - a datagram for this host (data at the UDP header, meta filled); consumes pk. */
void udp_rcv(struct netns *ns, struct netdev *dev, struct pkt *pk);
/* udp_err - an ICMP error quoting a datagram we sent (__udp4_lib_err). */
void udp_err(struct netns *ns, uint32_t saddr, uint32_t daddr, uint16_t sport, uint16_t dport,
	     uint8_t type, uint8_t code, uint32_t info, const struct pkt *icmp);

/* internal to udp/ */
extern const struct proto_ops udp_ops;
int udp_get_port(struct sock *sk, uint16_t snum);
void udp_unhash(struct sock *sk);
struct sock *udp_lookup(struct netns *ns, uint32_t saddr, uint16_t sport, uint32_t daddr,
			uint16_t dport, int dif);
ssize_t udp_sendmsg(struct sock *sk, struct sk_msg *m, int flags);
ssize_t udp_recvmsg(struct sock *sk, struct sk_msg *m, int flags);
ssize_t udp_recvmsg_fast(struct sock *sk, struct sk_msg *m, int flags);
void udp_flush_pending(struct sock *sk);
int udp_push_pending(struct sock *sk);
uint32_t udp_truesize(uint32_t payload, uint32_t mtu);
uint32_t udp_first_packet_length(struct sock *sk);

#endif
