/* SPDX-License-Identifier: MIT */
/*
 * tcp_hash_int.h - private to tcp_hash.c and tcp_minisocks.c: the table's private tail
 *
 * tcp_init carves struct tcp_hash_priv right behind struct tcp_table and
 * request socks as struct tcp_req_ext; both files reach them and the
 * chain helpers below.  Nothing else includes this header.
 */
#ifndef USOCK_TCP_HASH_INT_H
#define USOCK_TCP_HASH_INT_H

#include <stddef.h>
#include <stdint.h>

#include "net/netns.h"
#include "tcp/tcp.h"

#define NPORTS 65536

/* What tcp_init puts right behind struct tcp_table. */
struct tcp_hash_priv {
	uint64_t ehash_key[2];
	uint64_t cookie_key[2][2];	/* syncookie_secret[2] */
	/* the ISN a TIME_WAIT sock gave a new SYN (tcp_tw_isn), with its SYN */
	bool tw_isn_valid;
	uint32_t tw_isn, tw_isn_seq, tw_isn_saddr, tw_isn_daddr;
	uint16_t tw_isn_sport, tw_isn_dport;
	uint32_t port_owners[NPORTS];	/* nodes on the bind chain per port */
	uint8_t port_flags[NPORTS];	/* PORT_* */
};

/* A request sock as carved from req_cache. */
struct tcp_req_ext {
	struct tcp_request_sock req;	/* first */
	struct netns *ns;
	uint32_t last_oow_ack_ms;	/* tcp_rsk(req)->last_oow_ack_time, +1 (0: never) */
	bool counted;			/* counted in the listener's syn_qlen */
};

static inline struct tcp_hash_priv *priv_of(struct tcp_table *t)
{
	return (struct tcp_hash_priv *)(void *)(t + 1);
}

static inline struct tcp_req_ext *req_ext(struct tcp_request_sock *req)
{
	return (struct tcp_req_ext *)(void *)req;
}

static inline struct tcp_sock *hn_sock(struct tcp_hnode *h)
{
	return (struct tcp_sock *)(void *)((char *)h - offsetof(struct tcp_sock, hn));
}

static inline uint64_t now_s(const struct netns *ns)
{
	return netns_now(ns) / NSEC_PER_SEC;
}

/* How an owner joins a port: bind(), connect(), or inheriting (child, TIME_WAIT). */
enum { BIND_BY_BIND, BIND_BY_CONNECT, BIND_INHERIT };

/* tw_seconds_after - time_after32(now_s, stamp) */
static inline bool seconds_after(uint64_t now, uint64_t stamp)
{
	return (int32_t)((uint32_t)stamp - (uint32_t)now) < 0;
}

static inline bool in_window(uint32_t seq, uint32_t end_seq, uint32_t s_win, uint32_t e_win)
{
	if (seq == s_win)
		return true;
	if (tcp_after(end_seq, s_win) && tcp_before(seq, e_win))
		return true;
	return seq == e_win && seq == end_seq;
}

/* tcp_hash.c */
uint64_t tcp_siphash_u32(const uint64_t key[2], const uint32_t *w, unsigned n);
void tcp_ehash_insert(struct tcp_table *t, struct tcp_hnode *h);
void tcp_ehash_remove(struct tcp_table *t, struct tcp_hnode *h);
void tcp_ehash_replace(struct tcp_table *t, struct tcp_hnode *old, struct tcp_hnode *new);
void tcp_bind_add(struct tcp_table *t, struct tcp_hnode *h, int how);
void tcp_hn_from_sock(struct tcp_sock *tp);

/* tcp_minisocks.c */
bool tcp_mini_paws_reject(uint32_t ts_recent, uint64_t ts_recent_stamp, uint32_t tsval, bool rst,
			  uint64_t now);
bool tcp_mini_oow_rate_limited(struct netns *ns, const struct pkt *pk, const struct tcp_repr *th,
			       uint32_t *last);

#endif /* USOCK_TCP_HASH_INT_H */
