/* SPDX-License-Identifier: MIT */
/*
 * ip4_sockopt.h - the SOL_IP socket options of UDP and TCP sockets (ip_setsockopt/ip_getsockopt)
 */
#ifndef USOCK_IP_IP4_SOCKOPT_H
#define USOCK_IP_IP4_SOCKOPT_H

#include <sys/socket.h>

struct sock;

/* IP_MAX_MTU: the largest MTU a route reports (ipv4_mtu caps lo's 65536) */
#define IP4_MAX_MTU 0xffff

/*
 * ip4_mtu_fn - IP_MTU's path MTU as the protocol knows it (the kernel's
 * dst_mtu(sk_dst_get(sk))): TCP has the MTU it sized segments for, UDP
 * only the route of a connected socket.  Return: the MTU, or -ENOTCONN.
 */
typedef int (*ip4_mtu_fn)(struct sock *sk);

/*
 * ip4_setsockopt - setsockopt(SOL_IP, name) on an AF_INET socket
 * (do_ip_setsockopt); val is a kernel copy of len bytes.  What differs
 * between socket types is decided on sk->type, as the kernel does.
 * Return: 0, -EINVAL (short optlen, out of range, refused on this type),
 * -EPERM (IP_TRANSPARENT without root), -EPROTO (group options on a
 * stream socket), -EOPNOTSUPP (multicast routing), -ENOPROTOOPT (unknown,
 * or an option usock does not act on).
 */
int ip4_setsockopt(struct sock *sk, int name, const void *val, socklen_t len);

/*
 * ip4_getsockopt - getsockopt(SOL_IP, name) on an AF_INET socket
 * (do_ip_getsockopt).  *len is the room in val on entry, the bytes
 * written on return; mtu answers IP_MTU.
 * Return: 0, -EINVAL (negative length), -ENOTCONN (IP_MTU without a
 * path), -EOPNOTSUPP (multicast routing), -ENOPROTOOPT.
 */
int ip4_getsockopt(struct sock *sk, int name, void *val, socklen_t *len, ip4_mtu_fn mtu);

/*
 * ip4_route_mtu - the MTU of the route to the socket's peer (the route's
 * own, else its device's), capped at IP_MAX_MTU as ipv4_mtu caps it.
 * Return: the MTU, or -ENOTCONN when there is no route.
 */
int ip4_route_mtu(struct sock *sk);

#endif
