/* SPDX-License-Identifier: MIT */
/*
 * udp.c - UDP sockets: creation, ports, bind, connect, options, poll, ioctl
 *
 * Theory of operation.  A namespace's UDP sockets sit in one hash table by
 * local port (chains; UDP_HTABLE_SIZE slots), the kernel's udptable.
 * Ephemeral ports follow udp_lib_get_port: a random start inside
 * ip_local_port_range and an odd-multiple stride that visits every port
 * once, so exhaustion is found after one sweep (EAGAIN on autobind,
 * EADDRINUSE on bind).  Sharing a port follows udp_lib_lport_inuse:
 * SO_REUSEADDR on both, or SO_REUSEPORT on both (same user), or different
 * devices, or addresses that differ and are not wildcards.  bind and
 * connect mirror __inet_bind, __ip4_datagram_connect and __udp_disconnect
 * step for step, because the order of their checks is what decides the
 * errno a program sees.  Send and receive paths live in udp_out.c and
 * udp_in.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <linux/sockios.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>

#include "core/usercopy.h"
#include "ip/inet_bind.h"
#include "ip/ip4_sockopt.h"
#include "net/netns_internal.h"
#include "sock/sock_internal.h"
#include "udp/udp.h"

_Static_assert(sizeof(struct udp_sock) <= SOCK_OBJ_SIZE, "udp_sock must fit a socket object");

int udp_init(struct netns *ns)
{
	ns->udp = arena_alloc(ns->arena, sizeof(*ns->udp));
	return ns->udp ? 0 : -ENOMEM;
}

static inline struct sock **slot_of(struct netns *ns, uint16_t port)
{
	return &ns->udp->slot[port & (UDP_HTABLE_SIZE - 1)];
}

/* inet_rcv_saddr_equal with wildcards matching */
static bool saddr_conflict(const struct sock *a, const struct sock *b)
{
	return !a->rcv_saddr || !b->rcv_saddr || a->rcv_saddr == b->rcv_saddr;
}

/* udp_lib_lport_inuse for one port. */
static bool port_inuse(struct sock *sk, uint16_t port)
{
	for (struct sock *s2 = *slot_of(sk->ns, port); s2; s2 = s2->hnext) {
		if (s2 == sk || s2->num != port)
			continue;
		if ((s2->flags & SKF_REUSEADDR) && (sk->flags & SKF_REUSEADDR))
			continue;
		if (s2->bound_dev_if && sk->bound_dev_if && s2->bound_dev_if != sk->bound_dev_if)
			continue;
		if (!saddr_conflict(sk, s2))
			continue;
		if ((s2->flags & SKF_REUSEPORT) && (sk->flags & SKF_REUSEPORT))
			continue; /* same user: one process */
		return true;
	}
	return false;
}

static void hash_insert(struct sock *sk)
{
	struct sock **slot = slot_of(sk->ns, sk->num);
	sk->hnext = *slot;
	*slot = sk;
	sk->ns->udp->count++;
}

void udp_unhash(struct sock *sk)
{
	if (!sk->num)
		return;
	for (struct sock **pp = slot_of(sk->ns, sk->num); *pp; pp = &(*pp)->hnext)
		if (*pp == sk) {
			*pp = sk->hnext;
			sk->ns->udp->count--;
			break;
		}
	sk->hnext = NULL;
	sk->num = 0;
}

/*
 * udp_get_port - claim snum, or an ephemeral port for 0 (udp_lib_get_port).
 * Return: 0, or -EADDRINUSE.
 */
int udp_get_port(struct sock *sk, uint16_t snum)
{
	struct netns *ns = sk->ns;
	if (snum) {
		if (port_inuse(sk, snum))
			return -EADDRINUSE;
	} else {
		int low = ns->sys.port_lo, high = ns->sys.port_hi;
		if (high < low)
			return -EADDRINUSE;
		unsigned remaining = (unsigned)(high - low + 1);
		uint32_t rnd = (uint32_t)netns_random(ns);
		unsigned first = (unsigned)(((uint64_t)rnd * remaining) >> 32) + (unsigned)low;
		/* an odd multiple of the table size: each slot's ports visited once */
		unsigned step = (rnd | 1) * UDP_HTABLE_SIZE;
		bool found = false;
		for (unsigned f = first; f != first + UDP_HTABLE_SIZE && !found; f++) {
			uint16_t p = (uint16_t)f;
			do {
				if (p >= low && p <= high && !port_inuse(sk, p)) {
					snum = p;
					found = true;
					break;
				}
				p = (uint16_t)(p + step);
			} while (p != (uint16_t)f);
		}
		if (!found)
			return -EADDRINUSE;
	}
	sk->num = snum;
	sk->sport = htons(snum);
	hash_insert(sk);
	return 0;
}

/* inet_autobind */
static int autobind(struct sock *sk)
{
	if (sk->num)
		return 0;
	return udp_get_port(sk, 0) ? -EAGAIN : 0;
}

int udp_autobind(struct sock *sk)
{
	return autobind(sk);
}

static int udp_init_sock(struct sock *sk)
{
	sk->pmtudisc = sk->ns->sys.ip_no_pmtu_disc ? IP_PMTUDISC_DONT : IP_PMTUDISC_WANT;
	sk->mc_ttl = 1;
	return 0;
}

static void udp_release(struct sock *sk)
{
	udp_flush_pending(sk);
	udp_unhash(sk);
}

/* __inet_bind */
static int udp_bind(struct sock *sk, const struct sockaddr *a, socklen_t len)
{
	uint16_t snum;
	int r = ip4_bind_check(sk, a, len, 0, &snum);
	if (r)
		return r;
	if (snum || !(sk->inet_flags & INF_BIND_NO_PORT)) {
		if (udp_get_port(sk, snum)) {
			sk->saddr = sk->rcv_saddr = 0;
			return -EADDRINUSE;
		}
	}
	ip4_bind_done(sk, snum);
	udp_sk(sk)->dst_genid = 0;
	return 0;
}

/* __udp_disconnect */
static int udp_disconnect(struct sock *sk)
{
	sk->state = 0;
	sk->daddr = 0;
	sk->dport = 0;
	sk->bound_dev_if = 0;
	if (!sk->bind_addr_locked)
		sk->saddr = sk->rcv_saddr = 0;
	if (!sk->bind_port_locked) {
		udp_unhash(sk);
		sk->sport = 0;
	}
	udp_sk(sk)->dst_genid = 0;
	return 0;
}

/* inet_dgram_connect + __ip4_datagram_connect */
static int udp_connect(struct sock *sk, const struct sockaddr *a, socklen_t len, int flags)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)a;
	if (len < sizeof(sa_family_t))
		return -EINVAL;
	if (sin->sin_family == AF_UNSPEC)
		return udp_disconnect(sk);
	/* the kernel autobinds before it looks at the rest of the address */
	if (!sk->num && autobind(sk))
		return -EAGAIN;
	if (len < sizeof(*sin))
		return -EINVAL;
	if (sin->sin_family != AF_INET)
		return -EAFNOSUPPORT;
	struct udp_sock *up = udp_sk(sk);
	up->dst_genid = 0;
	struct rt4_result rt;
	int r = ip4_route_output(sk->ns, sin->sin_addr.s_addr, sk->saddr, sk->bound_dev_if,
				 (sk->flags & SKF_DONTROUTE) ? IP4_RT_DONTROUTE : 0, &rt);
	if (r)
		return r;
	if (rt.type == RT_BROADCAST && !(sk->flags & SKF_BROADCAST))
		return -EACCES;
	if (!sk->saddr)
		sk->saddr = rt.src;
	if (!sk->rcv_saddr)
		sk->rcv_saddr = rt.src;
	sk->daddr = rt.daddr;
	sk->dport = sin->sin_port;
	sk->state = 1; /* TCP_ESTABLISHED, as Linux marks a connected UDP socket */
	up->inet_id = (uint16_t)netns_random(sk->ns);
	up->dst = rt;
	up->dst_genid = sk->ns->ip4->rt_genid;
	(void)flags;
	return 0;
}

static int udp_getname(struct sock *sk, struct sockaddr_storage *a, socklen_t *len, bool peer)
{
	/* inet_getname: a peer only when connected */
	return ip4_getname(sk, a, len, peer, sk->state == 1);
}

/* udp_poll = datagram_poll + the reader queue */
static uint32_t udp_poll(struct sock *sk)
{
	uint32_t mask = 0;
	if (sk->err || sk->errq.count)
		mask |= POLLERR;
	if (sk->shutdown & RCV_SHUTDOWN)
		mask |= POLLRDHUP | POLLIN | POLLRDNORM;
	if (sk->shutdown == (RCV_SHUTDOWN | SEND_SHUTDOWN))
		mask |= POLLHUP;
	if (sk_rx_pending(sk))
		mask |= POLLIN | POLLRDNORM;
	/* sock_writeable: the kernel's wmem counter starts at 1 */
	if ((int)sk->wmem + 1 < (sk->sndbuf >> 1))
		mask |= POLLOUT | POLLWRNORM | POLLWRBAND;
	return mask;
}

/* inet_shutdown for a datagram socket */
static int udp_shutdown(struct sock *sk, int how)
{
	how++;
	if ((how & ~(RCV_SHUTDOWN | SEND_SHUTDOWN)) || !how)
		return -EINVAL;
	int err = 0;
	/* an unconnected socket says ENOTCONN but is shut down anyway, so
	 * that pollers wake ("Hack to wake up other listeners" in inet_shutdown) */
	if (sk->state != 1)
		err = -ENOTCONN;
	sk->shutdown |= (uint8_t)how;
	sk_wake(sk, POLLIN | POLLOUT | POLLHUP | POLLRDHUP | POLLERR);
	return err;
}

/* IP_MTU: only a connected socket has a path (its cached route, sk_dst_get) */
static int udp_ip_mtu(struct sock *sk)
{
	if (sk->state != 1)
		return -ENOTCONN;
	return ip4_route_mtu(sk);
}

static int udp_setsockopt(struct sock *sk, int level, int name, const void *val, socklen_t len)
{
	struct udp_sock *up = udp_sk(sk);
	int v;
	if (level == SOL_UDP) {
		/* udp_lib_setsockopt: optlen < sizeof(int) is EINVAL */
		if (len < sizeof(int))
			return -EINVAL;
		memcpy(&v, val, sizeof(v));
		switch (name) {
		case UDP_CORK:
			if (v) {
				up->corkflag = true;
			} else {
				up->corkflag = false;
				return udp_push_pending(sk);
			}
			return 0;
		case UDP_SEGMENT:
			if (v < 0 || v > 0xffff)
				return -EINVAL;
			up->gso_size = (uint16_t)v;
			return 0;
		case UDP_NO_CHECK6_TX:
		case UDP_NO_CHECK6_RX:
			return 0;
		default:
			return -ENOPROTOOPT;
		}
	}
	if (level != SOL_IP)
		return -ENOPROTOOPT;
	return ip4_setsockopt(sk, name, val, len);
}

static int udp_getsockopt(struct sock *sk, int level, int name, void *val, socklen_t *len)
{
	struct udp_sock *up = udp_sk(sk);
	int v;
	if (level == SOL_UDP) {
		switch (name) {
		case UDP_CORK:
			v = up->corkflag;
			break;
		case UDP_SEGMENT:
			v = up->gso_size;
			break;
		default:
			return -ENOPROTOOPT;
		}
		if ((int)*len < 0)
			return -EINVAL;
		if (*len > sizeof(int))
			*len = sizeof(int);
		memcpy(val, &v, *len);
		return 0;
	}
	if (level != SOL_IP)
		return -EOPNOTSUPP;
	return ip4_getsockopt(sk, name, val, len, udp_ip_mtu);
}

/* udp_ioctl */
static int udp_ioctl(struct sock *sk, unsigned long req, void *arg)
{
	int v;
	switch (req) {
	case SIOCOUTQ:
		v = (int)sk->wmem;
		break;
	case SIOCINQ:
		v = (int)udp_first_packet_length(sk);
		break;
	default:
		return -ENOIOCTLCMD;
	}
	return copy_to_user(arg, &v, sizeof(v));
}

/* udp_set_peek_off: stored under the reader's lock, which peeks walk under */
static int udp_set_peek_off(struct sock *sk, int val)
{
	sk_reader_lock(sk);
	sk_set_peek_off(sk, val);
	sk_reader_unlock(sk);
	return 0;
}

const struct proto_ops udp_ops = {
	.family = AF_INET,
	.type = SOCK_DGRAM,
	.protocol = IPPROTO_UDP,
	.obj_size = sizeof(struct udp_sock),
	.init = udp_init_sock,
	.release = udp_release,
	.bind = udp_bind,
	.connect = udp_connect,
	.getname = udp_getname,
	.sendmsg = udp_sendmsg,
	.recvmsg = udp_recvmsg,
	.recvmsg_fast = udp_recvmsg_fast,
	.poll = udp_poll,
	.shutdown = udp_shutdown,
	.setsockopt = udp_setsockopt,
	.getsockopt = udp_getsockopt,
	.ioctl = udp_ioctl,
	.set_peek_off = udp_set_peek_off,
};

int udp_create(struct netns *ns, struct sock **out, int type, int protocol)
{
	/* inet_create: SOCK_DGRAM takes UDP (protocol 0 or IPPROTO_UDP); ping sockets are not here yet */
	if (protocol != 0 && protocol != IPPROTO_UDP)
		return -EPROTONOSUPPORT;
	return sock_alloc(ns, &udp_ops, type, out);
}
