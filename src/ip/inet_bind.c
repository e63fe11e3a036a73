/* SPDX-License-Identifier: MIT */
/*
 * inet_bind.c - the protocol-independent half of IPv4 bind and getname
 *
 * TCP and UDP both reach Linux's __inet_bind and inet_getname, so the
 * address checks, their errno order and the address bookkeeping live here
 * once; each protocol keeps only its port lookup and its own state.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>
#include "ip/inet_bind.h"
#include "ip/ip4.h"
#include "sock/sock.h"

/**
 * ip4_bind_check - __inet_bind's checks, in the kernel's order, then the address
 * @sk: the socket being bound
 * @a: the caller's address; @len: its length
 * @closed_state: the value of sk->state that means "not yet in use"
 * @snum: out, the requested port in host order (0 = any)
 *
 * On success sk->rcv_saddr and sk->saddr hold the bound address; a
 * multicast or broadcast bind keeps saddr 0 so that the route picks the
 * source, as __inet_bind does.  The caller then takes the port.
 *
 * Return: 0, -EINVAL (short address, already bound, not closed),
 * -EAFNOSUPPORT, -EADDRNOTAVAIL, -EACCES.
 */
int ip4_bind_check(struct sock *sk, const struct sockaddr *a, socklen_t len,
		   uint8_t closed_state, uint16_t *snum)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)a;
	uint32_t addr;
	bool mcast;
	int t;

	if (len < sizeof(struct sockaddr_in))
		return -EINVAL;
	if (sin->sin_family != AF_INET) {
		/* AF_UNSPEC passes only with INADDR_ANY, for old programs */
		if (sin->sin_family != AF_UNSPEC || sin->sin_addr.s_addr != htonl(INADDR_ANY))
			return -EAFNOSUPPORT;
	}
	addr = sin->sin_addr.s_addr;
	t = ip4_addr_type(sk->ns, addr);
	mcast = (ntohl(addr) >> 28) == 0xe;
	if (!(sk->inet_flags & (INF_FREEBIND | INF_TRANSPARENT)) && addr != htonl(INADDR_ANY) &&
	    t != RT_LOCAL && !mcast && t != RT_BROADCAST)
		return -EADDRNOTAVAIL;
	*snum = ntohs(sin->sin_port);
	/* below ip_unprivileged_port_start only with CAP_NET_BIND_SERVICE: we are the process */
	if (*snum && *snum < 1024 && geteuid() != 0)
		return -EACCES;
	if (sk->state != closed_state || sk->num)
		return -EINVAL;
	sk->rcv_saddr = sk->saddr = addr;
	if (mcast || t == RT_BROADCAST)
		sk->saddr = 0;
	return 0;
}

/*
 * ip4_bind_done - __inet_bind's tail once the port is taken: an explicit
 * address or port is locked against autobind and connect changing it, and
 * any old peer is forgotten.
 */
void ip4_bind_done(struct sock *sk, uint16_t snum)
{
	if (sk->rcv_saddr)
		sk->bind_addr_locked = true;
	if (snum)
		sk->bind_port_locked = true;
	sk->daddr = 0;
	sk->dport = 0;
}

/**
 * ip4_getname - inet_getname for IPv4
 * @sk: the socket; @a: out, the address; @len: out, its length
 * @peer: getpeername rather than getsockname
 * @connected: the protocol's own view of whether it has a peer
 *
 * The local address is the bound one, or the source chosen at connect.
 *
 * Return: 0, or -ENOTCONN for a peer the socket does not have.
 */
int ip4_getname(const struct sock *sk, struct sockaddr_storage *a, socklen_t *len,
		bool peer, bool connected)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)a;

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	if (peer) {
		if (!sk->dport || !connected)
			return -ENOTCONN;
		sin->sin_port = sk->dport;
		sin->sin_addr.s_addr = sk->daddr;
	} else {
		sin->sin_port = sk->sport;
		sin->sin_addr.s_addr = sk->rcv_saddr ? sk->rcv_saddr : sk->saddr;
	}
	*len = sizeof(*sin);
	return 0;
}
