/* SPDX-License-Identifier: MIT */
/*
 * ip4_sockopt.c - the SOL_IP socket options of UDP and TCP sockets
 *
 * Theory of operation.  One implementation of the kernel's
 * do_ip_setsockopt/do_ip_getsockopt for every AF_INET protocol: it owns
 * no state, it writes the inet fields of struct sock (tos, ttl, mc_ttl,
 * pmtudisc, inet_flags) and SO_PRIORITY when the TOS changes.  Where the
 * kernel answers a stream socket differently (ECN bits of IP_TOS,
 * multicast options, IP_PKTOPTIONS, IP_RECVFRAGSIZE) the decision is
 * taken here on sk->type, as the kernel takes it; the only thing a
 * protocol brings is IP_MTU's path (ip4_mtu_fn), which TCP knows better
 * than the route.  The order of the checks is the kernel's, since it
 * decides the errno a program sees: the value is read first (an int, or
 * one byte when optlen is shorter, or 0 when optlen is 0), then each
 * option checks optlen and range.
 *
 * Limits: options usock stores but would not act on answer ENOPROTOOPT
 * on set (IP_OPTIONS with content, IP_MINTTL, IP_UNICAST_IF,
 * IP_LOCAL_PORT_RANGE, IP_MULTICAST_IF/ALL, group membership on UDP,
 * IP_RECVFRAGSIZE on UDP, IP_CHECKSUM, IP_PASSSEC, IP_RECVERR_RFC4884,
 * source filters); reading them gives the kernel's defaults.  There are
 * no raw sockets, so IP_HDRINCL, IP_NODEFRAG, IP_ROUTER_ALERT and
 * multicast routing answer as they do on UDP and TCP.  Root stands for
 * CAP_NET_RAW/CAP_NET_ADMIN.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <string.h>
#include <unistd.h>

#include "ip/ip4.h"
#include "ip/ip4_sockopt.h"
#include "link/link.h"
#include "net/netns.h"
#include "sock/sock.h"

/* option names newer than the C library's headers */
#ifndef IP_RECVERR_RFC4884
#define IP_RECVERR_RFC4884 26
#endif
#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51
#endif
#ifndef IP_PROTOCOL
#define IP_PROTOCOL 52
#endif
/* ip_mroute_opt(): MRT_BASE .. MRT_MAX, EOPNOTSUPP on anything but raw IGMP (measured 200..212) */
#define MRT_BASE 200
#define MRT_MAX 212
#define IP_OPTIONS_MAX 40

/*
 * rt_tos2priority: ip_tos2prio indexed by the TOS bits 0x1e.  Its odd
 * entries (ECN_OR_COST) repeat the class of the even ones, so the class
 * comes from the bits 0x18 alone: best effort, bulk (0x08), interactive
 * (0x10), interactive bulk (0x18); TC_PRIO_* values.
 */
static int tos_priority(int tos)
{
	static const uint8_t prio[4] = { 0, 2, 6, 4 };

	return prio[(tos >> 3) & 3];
}

/*
 * set_tos - IP_TOS (__ip_sock_set_tos): a stream socket keeps its own ECN
 * bits, which belong to TCP's ECN negotiation; a datagram socket takes
 * all eight.  Only a change sets SO_PRIORITY from the TOS class, so a
 * priority set after the TOS survives setting the same TOS again.
 */
static void set_tos(struct sock *sk, int val)
{
	if (sk->type == SOCK_STREAM) {
		val &= ~IPTOS_ECN_MASK;
		val |= sk->tos & IPTOS_ECN_MASK;
	}
	if ((int)sk->tos != val) {
		sk->tos = (uint8_t)val;
		sk->priority = tos_priority(val);
	}
}

/*
 * inet_flag - the INF_* bit behind a boolean option (inet_sock's bits,
 * any non-zero value sets it), or 0 for an option that is not one.
 */
static uint32_t inet_flag(int name)
{
	switch (name) {
	case IP_PKTINFO: return INF_PKTINFO;
	case IP_RECVTTL: return INF_RECVTTL;
	case IP_RECVTOS: return INF_RECVTOS;
	case IP_RECVOPTS: return INF_RECVOPTS;
	case IP_RETOPTS: return INF_RETOPTS;
	case IP_RECVORIGDSTADDR: return INF_ORIGDSTADDR;
	case IP_BIND_ADDRESS_NO_PORT: return INF_BIND_NO_PORT;
	case IP_RECVERR: return INF_RECVERR;
	case IP_FREEBIND: return INF_FREEBIND;
	case IP_TRANSPARENT: return INF_TRANSPARENT;
	default: return 0;
	}
}

int ip4_setsockopt(struct sock *sk, int name, const void *val, socklen_t len)
{
	bool stream = sk->type == SOCK_STREAM;
	uint32_t f;
	int v = 0;

	/* do_ip_setsockopt: an int, else its first byte, else 0 (optlen 0 means 0) */
	if (len >= sizeof(int))
		memcpy(&v, val, sizeof(v));
	else if (len >= 1)
		v = *(const uint8_t *)val;

	if (name >= MRT_BASE && name <= MRT_MAX)
		return -EOPNOTSUPP;	/* ip_mroute_setsockopt: raw IGMP only */
	switch (name) {
	case IP_RECVERR:
		if (!v)
			pkt_queue_purge(&sk->errq);
		break;
	case IP_FREEBIND:
		if (len < 1)
			return -EINVAL;
		break;
	case IP_TRANSPARENT:
		/* the capability check comes before the length check */
		if (v && geteuid() != 0)
			return -EPERM;
		if (len < 1)
			return -EINVAL;
		break;
	case IP_RECVFRAGSIZE:
		/* datagram and raw sockets only; usock's UDP does not report it */
		return stream ? -EINVAL : -ENOPROTOOPT;
	case IP_TTL:
		/* one byte is enough: optlen 2 or 3 reads the first byte only */
		if (len < 1)
			return -EINVAL;
		if (v != -1 && (v < 1 || v > 255))
			return -EINVAL;
		sk->ttl = v == -1 ? 0 : (uint8_t)v;
		return 0;
	case IP_MULTICAST_TTL:
		if (stream || len < 1)
			return -EINVAL;
		if (v == -1)
			v = 1;
		if (v < 0 || v > 255)
			return -EINVAL;
		sk->mc_ttl = (uint8_t)v;
		return 0;
	case IP_MULTICAST_LOOP:
		if (len < 1)
			return -EINVAL;
		if (v)
			sk->inet_flags &= ~INF_MC_NOLOOP;
		else
			sk->inet_flags |= INF_MC_NOLOOP;
		return 0;
	case IP_MULTICAST_IF:
		return stream ? -EINVAL : -ENOPROTOOPT;
	case IP_MTU_DISCOVER:
		if (v < IP_PMTUDISC_DONT || v > IP_PMTUDISC_OMIT)
			return -EINVAL;
		sk->pmtudisc = (uint8_t)v;
		return 0;
	case IP_TOS:
		set_tos(sk, v);
		return 0;
	case IP_ROUTER_ALERT:
		return -EINVAL;		/* ip_ra_control: raw sockets only */
	case IP_OPTIONS:
		if (len > IP_OPTIONS_MAX)
			return -EINVAL;
		/* clearing is all there is to do: usock never sends IP options */
		return len == 0 ? 0 : -ENOPROTOOPT;
	case IP_ADD_MEMBERSHIP:
	case IP_DROP_MEMBERSHIP:
		/* a connection socket has no groups; UDP's are not implemented */
		return stream ? -EPROTO : -ENOPROTOOPT;
	}
	/* the booleans, once their own checks above have passed */
	f = inet_flag(name);
	if (!f)
		return -ENOPROTOOPT;
	if (v)
		sk->inet_flags |= f;
	else
		sk->inet_flags &= ~f;
	return 0;
}

/* do_ip_getsockopt's copy: one byte when asked for less than an int and the value fits */
static int put_ip_int(void *val, socklen_t *len, int v)
{
	if (*len < sizeof(int) && *len > 0 && v >= 0 && v <= 255) {
		*(uint8_t *)val = (uint8_t)v;
		*len = 1;
		return 0;
	}
	if (*len > sizeof(int))
		*len = sizeof(int);
	memcpy(val, &v, *len);
	return 0;
}

/*
 * put_cmsg_buf - put_cmsg into a kernel buffer: a cmsg that does not fit
 * is cut to the room left (its cmsg_len says so, MSG_CTRUNC in the
 * kernel) as long as its header fits; the next one starts CMSG_SPACE on.
 * Padding is zeroed (the kernel leaves the caller's bytes there).
 * Return: bytes used so far.
 */
static size_t put_cmsg_buf(uint8_t *buf, size_t room, size_t used, int type, const void *data,
			   size_t n)
{
	size_t left = room - used, cmlen = CMSG_LEN(n), space = CMSG_SPACE(n);
	struct cmsghdr h = { .cmsg_level = SOL_IP, .cmsg_type = type };

	if (left < sizeof(h))
		return used;
	if (cmlen > left)
		cmlen = left;
	if (space > left)
		space = left;
	h.cmsg_len = cmlen;
	memset(buf + used, 0, space);
	memcpy(buf + used, &h, sizeof(h));
	memcpy(buf + used + sizeof(h), data, cmlen - sizeof(h));
	return used + space;
}

/*
 * pktoptions - IP_PKTOPTIONS, a stream socket's substitute for ancillary
 * data: PKTINFO, TTL and TOS as cmsgs, for the flags that are on.  The
 * kernel reports mc_index (0: a stream socket cannot set it), mc_ttl and
 * the TOS of the last SYN seen (0 here: not kept).
 * Return: 0, or -ENOPROTOOPT on a socket that is not a stream.
 */
static int pktoptions(struct sock *sk, void *val, socklen_t *len)
{
	size_t used = 0;

	if (sk->type != SOCK_STREAM)
		return -ENOPROTOOPT;
	if (sk->inet_flags & INF_PKTINFO) {
		struct in_pktinfo info = { .ipi_ifindex = 0 };

		info.ipi_addr.s_addr = sk->rcv_saddr;
		info.ipi_spec_dst.s_addr = sk->rcv_saddr;
		used = put_cmsg_buf(val, *len, used, IP_PKTINFO, &info, sizeof(info));
	}
	if (sk->inet_flags & INF_RECVTTL) {
		int hlim = sk->mc_ttl;

		used = put_cmsg_buf(val, *len, used, IP_TTL, &hlim, sizeof(hlim));
	}
	if (sk->inet_flags & INF_RECVTOS) {
		int tos = 0;

		used = put_cmsg_buf(val, *len, used, IP_TOS, &tos, sizeof(tos));
	}
	*len = (socklen_t)used;
	return 0;
}

int ip4_getsockopt(struct sock *sk, int name, void *val, socklen_t *len, ip4_mtu_fn mtu)
{
	uint32_t f;
	int v;

	if (name >= MRT_BASE && name <= MRT_MAX)
		return -EOPNOTSUPP;	/* ip_mroute_getsockopt, before the length check */
	if ((int)*len < 0)
		return -EINVAL;
	f = inet_flag(name);
	if (f)
		return put_ip_int(val, len, !!(sk->inet_flags & f));
	switch (name) {
	case IP_MULTICAST_LOOP: v = !(sk->inet_flags & INF_MC_NOLOOP); break;
	/* never set on a usock socket: their defaults */
	case IP_PASSSEC:
	case IP_CHECKSUM:
	case IP_RECVFRAGSIZE:
	case IP_RECVERR_RFC4884:
	case IP_HDRINCL:
	case IP_NODEFRAG:
	case IP_ROUTER_ALERT:
	case IP_MINTTL:
	case IP_UNICAST_IF:
	case IP_LOCAL_PORT_RANGE:
		v = 0;
		break;
	case IP_MULTICAST_ALL:
		v = 1;
		break;
	case IP_MULTICAST_TTL: v = sk->mc_ttl; break;
	case IP_TTL: v = sk->ttl ? sk->ttl : sk->ns->sys.ip_default_ttl; break;
	case IP_MTU_DISCOVER: v = sk->pmtudisc; break;
	case IP_TOS: v = sk->tos; break;
	case IP_PROTOCOL: v = sk->num; break;	/* inet_num: the local port, for UDP and TCP */
	case IP_OPTIONS:
		*len = 0;
		return 0;
	case IP_PKTOPTIONS:
		return pktoptions(sk, val, len);
	case IP_MULTICAST_IF: {
		struct in_addr any = { 0 };

		if (*len > sizeof(any))
			*len = sizeof(any);
		memcpy(val, &any, *len);
		return 0;
	}
	case IP_MTU:
		v = mtu(sk);
		if (v < 0)
			return v;
		break;
	default:
		return -ENOPROTOOPT;
	}
	return put_ip_int(val, len, v);
}

int ip4_route_mtu(struct sock *sk)
{
	struct rt4_result rt;
	uint32_t m;

	if (ip4_route_output(sk->ns, sk->daddr, sk->saddr, sk->bound_dev_if, 0, &rt))
		return -ENOTCONN;
	m = rt.rt && rt.rt->mtu ? rt.rt->mtu : rt.dev->mtu;
	return m > IP4_MAX_MTU ? IP4_MAX_MTU : (int)m;
}
