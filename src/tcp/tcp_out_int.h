/* SPDX-License-Identifier: MIT */
/*
 * tcp_out_int.h - private to tcp_out.c and tcp_out_ctl.c: segment building and route helpers
 *
 * tcp_out.c builds and sends every segment; tcp_out_ctl.c's control
 * segments use the same builders and the option sizes below.  Nothing
 * else includes this header.
 */
#ifndef USOCK_TCP_OUT_INT_H
#define USOCK_TCP_OUT_INT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf/pkt.h"
#include "ip/ip4.h"
#include "sock/sock.h"
#include "tcp/tcp.h"
#include "wire/tcp.h"

#define TCP_OPT_SPACE 40u		/* MAX_TCP_OPTION_SPACE */
#define TCP_TS_ALIGNED 12u		/* TCPOLEN_TSTAMP_ALIGNED */
/* fastopen_req.cookie_len meaning the kernel's cookie.len -1: no Fast Open option */
#define TCP_FO_NO_OPTION 0xffu

static inline struct tcp_table *tcp_tab(const struct tcp_sock *tp) { return tp->sk.ns->tcp; }


/* tcp_mss_clamp: TCP_MAXSEG caps an MSS. */
static inline uint32_t tcp_mss_clamp(const struct tcp_sock *tp, uint32_t mss)
{
	return tp->user_mss && tp->user_mss < mss ? tp->user_mss : mss;
}

/* ip_dont_fragment: DF unless the socket asked otherwise (IP_MTU_DISCOVER). */
static inline bool tcp_dont_fragment(const struct sock *sk)
{
	return sk->pmtudisc == IP_PMTUDISC_DO || sk->pmtudisc == IP_PMTUDISC_WANT;
}

static inline bool tcp_fo_cookie_len_ok(uint8_t len)
{
	return len == 0 || (len >= TCP_FASTOPEN_COOKIE_MIN && len <= TCP_FASTOPEN_COOKIE_MAX && !(len & 1));
}

/* tcp_out.c */
uint32_t tcp_rt_mtu(const struct rt4_result *rt);
uint32_t tcp_rt_advmss(const struct rt4_result *rt);
int tcp_mtu_to_mss_base(const struct tcp_sock *tp, uint32_t pmtu);
unsigned tcp_sync_mss_hdr(struct tcp_sock *tp, uint32_t pmtu, unsigned hdrlen);
int tcp_push_header(struct pkt *pk, const struct tcp_repr *r, uint32_t saddr, uint32_t daddr,
		    bool loop);
struct pkt *tcp_build(struct tcp_sock *tp, struct pkt *pk, bool clone_it, int *errp);
int tcp_ip_send(struct tcp_sock *tp, struct pkt *out);

#endif /* USOCK_TCP_OUT_INT_H */
