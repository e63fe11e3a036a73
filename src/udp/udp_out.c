/* SPDX-License-Identifier: MIT */
/*
 * udp_out.c - the UDP send path: udp_sendmsg, control messages, corking
 *
 * Theory of operation.  One datagram per call unless corked (UDP_CORK or
 * MSG_MORE), in which case the payload accumulates in up->cork until a call
 * without MSG_MORE (or UDP_CORK off) sends it as one datagram, whose
 * destination and options are those of the first call (the kernel's
 * inet->cork).  The steps and their order follow udp_sendmsg: autobind
 * (inet_send_prepare), length, MSG_OOB, address, control messages, route,
 * broadcast permission, MSG_CONFIRM, then memory.  Memory follows
 * sock_alloc_send_skb: a datagram's buffer is charged to the socket's write
 * memory until it leaves on a link (the packet's destructor), and a new one
 * may only start while that charge is below SO_SNDBUF, else the call waits
 * or fails with EAGAIN; corked data that needs a further buffer fails with
 * ENOBUFS beyond twice SO_SNDBUF, as __ip_append_data's alloc_skb path.
 * The payload is copied once, from the caller straight into the packet.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if_arp.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <string.h>

#include "ip/ip4.h"
#include "net/netns.h"
#include "sock/sock.h"
#include "udp/udp.h"
#include "wire/csum.h"
#include "wire/ipv4.h"
#include "wire/udp.h"

int udp_autobind(struct sock *sk);

#define SKB_MAX_ALLOC (16384u - 320u)

/*
 * udp_truesize - what the kernel charges for a datagram of 'payload' bytes
 * sent in one call over a path of 'mtu' (__ip_append_data): one linear skb
 * per fragment of at most the MTU, each of LL space + 15 + its IP length;
 * over lo (no fragments) a datagram too big for one linear skb is a small
 * head plus page fragments charged byte for byte.
 */
uint32_t udp_truesize(uint32_t payload, uint32_t mtu)
{
	uint32_t len = payload + 8u;	/* what follows the IP header */
	if (len + 20u <= mtu) {
		if (len + 20u + PKT_KERNEL_LL_EXTRA < SKB_MAX_ALLOC)
			return pkt_kernel_truesize(len + 20u + PKT_KERNEL_LL_EXTRA);
		return pkt_kernel_truesize(28u + PKT_KERNEL_LL_EXTRA) + payload;
	}
	uint32_t per = (mtu - 20u) & ~7u, sum = 0;
	while (len) {
		uint32_t d = len < per ? len : per;
		sum += pkt_kernel_truesize(d + 20u + PKT_KERNEL_LL_EXTRA);
		len -= d;
	}
	return sum;
}

static void udp_wfree(struct pkt *pk)
{
	sk_wmem_release(pk->meta.owner, pk->meta.truesize);
}

/*
 * wait_for_wmem - the loop of sock_alloc_send_pskb: a pending error, then
 * a shut-down sending side (EPIPE, and no SIGPIPE for datagrams), then room.
 * Return: 0 when the buffer may be taken, -errno otherwise.
 */
static int wait_for_wmem(struct sock *sk, int flags)
{
	int64_t timeo = (flags & MSG_DONTWAIT) ? 0 : sk->sndtimeo_ns;
	for (;;) {
		if (sk->err)
			return sk_sock_error(sk);
		if (sk->shutdown & SEND_SHUTDOWN)
			return -EPIPE;
		if ((int)sk->wmem < sk->sndbuf)
			return 0;
		if (!timeo)
			return -EAGAIN;
		int r = sk_wait(sk, POLLOUT, &timeo);
		if (r == -EINTR)
			return -EINTR;
		if (r == -EAGAIN && timeo == 0)
			return -EAGAIN;
	}
}

/* The options one datagram leaves with (the kernel's ipcm_cookie). */
struct udp_ipc {
	uint32_t addr;		/* source from IP_PKTINFO's ipi_spec_dst, else the socket's */
	int oif;
	int ttl;		/* 0: the socket's */
	int tos;		/* -1: the socket's */
	struct sockcm cm;
	uint16_t gso_size;
};

static inline struct cmsghdr *cmsg_first(const struct sk_msg *m)
{
	return m->controllen >= sizeof(struct cmsghdr) ? (struct cmsghdr *)m->control : NULL;
}

/* __cmsg_nxthdr */
static inline struct cmsghdr *cmsg_next(const struct sk_msg *m, struct cmsghdr *c)
{
	size_t off = (size_t)((uint8_t *)c - m->control) + CMSG_ALIGN(c->cmsg_len);
	if (off + sizeof(struct cmsghdr) > m->controllen)
		return NULL;
	return (struct cmsghdr *)(m->control + off);
}

/* CMSG_OK */
static inline bool cmsg_ok(const struct sk_msg *m, const struct cmsghdr *c)
{
	size_t off = (size_t)((const uint8_t *)c - m->control);
	return c->cmsg_len >= sizeof(struct cmsghdr) && c->cmsg_len <= m->controllen - off;
}

/* udp_cmsg_send then ip_cmsg_send. Return: 0, -EINVAL, -EPERM. */
static int udp_cmsgs(struct sock *sk, const struct sk_msg *m, struct udp_ipc *ipc)
{
	bool need_ip = false;
	for (struct cmsghdr *c = cmsg_first(m); c; c = cmsg_next(m, c)) {
		if (!cmsg_ok(m, c))
			return -EINVAL;
		if (c->cmsg_level != SOL_UDP) {
			need_ip = true;
			continue;
		}
		if (c->cmsg_type != UDP_SEGMENT || c->cmsg_len != CMSG_LEN(sizeof(uint16_t)))
			return -EINVAL;
		memcpy(&ipc->gso_size, CMSG_DATA(c), sizeof(uint16_t));
	}
	if (!need_ip)
		return 0;
	for (struct cmsghdr *c = cmsg_first(m); c; c = cmsg_next(m, c)) {
		if (!cmsg_ok(m, c))
			return -EINVAL;
		if (c->cmsg_level == SOL_SOCKET) {
			int r = sock_cmsg_send(sk, c, &ipc->cm);
			if (r)
				return r;
			continue;
		}
		if (c->cmsg_level != SOL_IP)
			continue; /* other levels are ignored, as the kernel does */
		int v;
		switch (c->cmsg_type) {
		case IP_PKTINFO: {
			struct in_pktinfo pi;
			if (c->cmsg_len != CMSG_LEN(sizeof(pi)))
				return -EINVAL;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			if (pi.ipi_ifindex)
				ipc->oif = pi.ipi_ifindex;
			ipc->addr = pi.ipi_spec_dst.s_addr;
			break;
		}
		case IP_TTL:
			if (c->cmsg_len != CMSG_LEN(sizeof(int)))
				return -EINVAL;
			memcpy(&v, CMSG_DATA(c), sizeof(v));
			if (v < 1 || v > 255)
				return -EINVAL;
			ipc->ttl = v;
			break;
		case IP_TOS:
			if (c->cmsg_len == CMSG_LEN(sizeof(int)))
				memcpy(&v, CMSG_DATA(c), sizeof(v));
			else if (c->cmsg_len == CMSG_LEN(sizeof(uint8_t)))
				v = *(const uint8_t *)CMSG_DATA(c);
			else
				return -EINVAL;
			if (v < 0 || v > 255)
				return -EINVAL;
			ipc->tos = v;
			break;
		case IP_RETOPTS:
			/* IP options on send are not supported yet: refuse loudly */
			return -EINVAL;
		default:
			return -EINVAL;
		}
	}
	return 0;
}

/* Write the UDP header in front of the payload and send (udp_send_skb). */
static int udp_send_skb(struct sock *sk, struct pkt *pk, uint32_t saddr, uint32_t daddr,
			uint16_t dport, const struct rt4_result *rt, const struct ip4_out_opts *o)
{
	uint32_t plen = pk->tot_len;
	uint8_t *h = pkt_push(pk, UDP_HLEN);
	if (!h) {
		pkt_free(pk);
		return -ENOBUFS;
	}
	struct udp_repr ur = {.sport = sk->sport, .dport = dport, .len = (uint16_t)(plen + UDP_HLEN)};
	uint32_t psum = csum_pseudo4(saddr, daddr, IPPROTO_UDP, plen + UDP_HLEN);
	if (rt->dev->flags & IFF_LOOPBACK) {
		/* CHECKSUM_PARTIAL, as the kernel leaves it for lo (udp4_hwcsum):
		 * the field holds the folded pseudo-header sum, and the receiver
		 * trusts the datagram */
		uint16_t hdr[4] = {ur.sport, ur.dport, htons(ur.len), (uint16_t)~csum_fold(psum)};
		memcpy(h, hdr, sizeof(hdr));
	} else {
		uint32_t sum = pkt_csum_partial(pk, UDP_HLEN, plen, 0);
		udp_hdr_build(h, &ur, psum, sum);
	}
	int r = ip4_output(sk->ns, pk, rt, saddr, daddr, IPPROTO_UDP, o);
	/* udp_send_skb: a full queue below is not reported unless IP_RECVERR
	 * asks; a datagram lost further on never is (R-SEND-9) */
	if (r == -ENOBUFS && !(sk->inet_flags & INF_RECVERR))
		r = 0;
	return r;
}

static void fill_opts(struct sock *sk, const struct udp_ipc *ipc, int flags,
		      struct ip4_out_opts *o)
{
	memset(o, 0, sizeof(*o));
	/* IP_TTL cmsg, else the socket's (0: ip4_output takes the namespace default) */
	o->ttl = (uint8_t)(ipc->ttl ? ipc->ttl : sk->ttl);
	o->tos = (uint8_t)(ipc->tos >= 0 ? ipc->tos : sk->tos);
	/* ip_dont_fragment: WANT sets DF on what fits; DO/PROBE never fragment */
	o->df = sk->pmtudisc == IP_PMTUDISC_WANT || sk->pmtudisc == IP_PMTUDISC_DO ||
		sk->pmtudisc == IP_PMTUDISC_PROBE;
	o->df_strict = sk->pmtudisc == IP_PMTUDISC_DO || sk->pmtudisc == IP_PMTUDISC_PROBE;
	o->confirm = flags & MSG_CONFIRM;
}

static uint16_t pick_id(struct sock *sk, const struct ip4_out_opts *o)
{
	/* ip_select_ident_segs: a connected socket numbers its DF packets */
	if (o->df && sk->daddr)
		return ++udp_sk(sk)->inet_id ? udp_sk(sk)->inet_id : ++udp_sk(sk)->inet_id;
	return 0;
}

void udp_flush_pending(struct sock *sk)
{
	struct udp_sock *up = udp_sk(sk);
	if (up->cork) {
		pkt_free(up->cork);
		up->cork = NULL;
	}
	up->pending = false;
	up->cork_len = 0;
}

/* udp_push_pending_frames: send what the cork holds as one datagram. */
int udp_push_pending(struct sock *sk)
{
	struct udp_sock *up = udp_sk(sk);
	if (!up->pending)
		return 0;
	struct pkt *pk = up->cork;
	up->cork = NULL;
	up->pending = false;
	up->cork_len = 0;
	if (!pk)
		return 0;
	struct ip4_out_opts o = up->cork_opts;
	uint32_t mtu = up->cork_rt.rt && up->cork_rt.rt->mtu ? up->cork_rt.rt->mtu
							       : up->cork_rt.dev->mtu;
	if (o.df && pk->tot_len + UDP_HLEN + 20 > mtu)
		o.df = false;
	o.id = pick_id(sk, &o);
	return udp_send_skb(sk, pk, up->cork_saddr, up->cork_daddr, up->cork_dport, &up->cork_rt,
			    &o);
}

/*
 * cork_charge - the write memory __ip_append_data charges for appending
 * 'length' bytes (the UDP header included on the first call) to the corked
 * datagram, skb by skb: the current skb grows up to the MTU (in page
 * fragments, charged byte for byte); past it a new skb of one fragment is
 * allocated, the first with sock_alloc_send_skb (waits, or EAGAIN), later
 * ones refused with ENOBUFS once the socket holds twice SO_SNDBUF.
 * Return: 0 with the charge added to sk->wmem and *added, or -errno with
 * what was allocated before the failure still charged (as the kernel does).
 */
static int cork_charge(struct sock *sk, uint32_t length, bool first, uint32_t mtu, int flags,
		       uint32_t *added)
{
	struct udp_sock *up = udp_sk(sk);
	const uint32_t fraghdr = 20;
	uint32_t maxfraglen = ((mtu - fraghdr) & ~7u) + fraghdr;
	uint32_t transhdr = first ? 8u : 0u;
	uint32_t delta = 0;
	int err = 0;
	*added = 0;
	if (first) {
		err = wait_for_wmem(sk, flags);
		if (err)
			return err;
		up->cork_skb_len = 0;
	}
	while (length) {
		int64_t copy = up->cork_skb_len ? (int64_t)mtu - up->cork_skb_len : 0;
		if (copy < length)
			copy = up->cork_skb_len ? (int64_t)maxfraglen - up->cork_skb_len : 0;
		if (copy <= 0) {
			uint32_t datalen = length;
			if (datalen > mtu - fraghdr)
				datalen = maxfraglen - fraghdr;
			uint32_t fraglen = datalen + fraghdr, ts;
			if (fraglen + PKT_KERNEL_LL_EXTRA < SKB_MAX_ALLOC)
				ts = pkt_kernel_truesize(fraglen + PKT_KERNEL_LL_EXTRA);
			else
				ts = pkt_kernel_truesize(fraghdr + transhdr + PKT_KERNEL_LL_EXTRA) +
				     (datalen - transhdr);
			if (!transhdr && sk->wmem + 1u + delta > 2u * (uint32_t)sk->sndbuf) {
				err = -ENOBUFS;
				break;
			}
			delta += ts;
			up->cork_skb_len = fraglen;
			length -= datalen;
			transhdr = 0;
			continue;
		}
		if (copy > length)
			copy = length;
		delta += (uint32_t)copy;
		up->cork_skb_len += (uint32_t)copy;
		length -= (uint32_t)copy;
	}
	sk->wmem += delta;
	*added = delta;
	return err;
}

/* Grow the cork by len payload bytes from m (ip_append_data). */
static int cork_append(struct sock *sk, struct sk_msg *m, size_t len, int flags, uint32_t mtu)
{
	struct udp_sock *up = udp_sk(sk);
	struct netns *ns = sk->ns;
	if (mtu > 0xffff)
		mtu = 0xffff;
	/* maxnonfragsize: 0xFFFF unless the socket forbids fragments */
	uint32_t maxnonfrag = up->cork_opts.df_strict ? mtu : 0xffff;
	if (up->cork_len + UDP_HLEN + len > maxnonfrag - 20)
		return -EMSGSIZE;
	bool first = !up->cork;
	if (first) {
		size_t room = len < PKT_CLASS_LARGE - PKT_HEADROOM ? len : PKT_CLASS_LARGE - PKT_HEADROOM;
		struct pkt *pk = pkt_alloc(ns->pools, room ? room : 1);
		if (!pk)
			return -ENOBUFS;
		pk->meta.owner = sk;
		pk->meta.destructor = udp_wfree;
		up->cork = pk;
	}
	uint32_t added;
	int r = cork_charge(sk, (uint32_t)len + (first ? UDP_HLEN : 0), first, mtu, flags, &added);
	up->cork->meta.truesize += added;
	if (r)
		return r;
	size_t done = 0;
	while (done < len) {
		struct pkt *last = up->cork;
		while (last->frag)
			last = last->frag;
		size_t room = pkt_tailroom(last);
		if (!room) {
			size_t want = len - done;
			struct pkt *np = pkt_alloc_class(ns->pools,
							 want > PKT_CLASS_MEDIUM ? 2 : 1, 0);
			if (!np)
				return -ENOBUFS;
			pkt_append(up->cork, np);
			continue;
		}
		size_t n = len - done < room ? len - done : room;
		uint8_t *d = pkt_put(up->cork, n);
		if (!d)
			return -ENOBUFS;
		if (sk_copy_from_iov(m, done, d, n))
			return -EFAULT;
		done += n;
	}
	up->cork_len += (uint32_t)len;
	return 0;
}

ssize_t udp_sendmsg(struct sock *sk, struct sk_msg *m, int flags)
{
	struct udp_sock *up = udp_sk(sk);
	struct netns *ns = sk->ns;
	size_t len = m->len;
	/* inet_send_prepare: bind first, whatever follows */
	if (!sk->num && udp_autobind(sk))
		return -EAGAIN;
	bool corkreq = up->corkflag || (flags & MSG_MORE);
	if (len > 0xffff)
		return -EMSGSIZE;
	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (up->pending) {
		/* appending: the first call's address and options rule */
		uint32_t mtu = up->cork_rt.rt && up->cork_rt.rt->mtu ? up->cork_rt.rt->mtu
								     : up->cork_rt.dev->mtu;
		int r = cork_append(sk, m, len, flags, mtu);
		if (r)
			udp_flush_pending(sk);
		else if (!corkreq)
			r = udp_push_pending(sk);
		return r ? r : (ssize_t)len;
	}

	uint32_t daddr;
	uint16_t dport;
	bool connected = false;
	if (m->has_addr) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)&m->addr;
		if (m->addrlen < sizeof(*sin))
			return -EINVAL;
		if (sin->sin_family != AF_INET && sin->sin_family != AF_UNSPEC)
			return -EAFNOSUPPORT;
		daddr = sin->sin_addr.s_addr;
		dport = sin->sin_port;
		if (dport == 0)
			return -EINVAL;
	} else {
		if (sk->state != 1)
			return -EDESTADDRREQ;
		daddr = sk->daddr;
		dport = sk->dport;
		connected = true;
	}
	struct udp_ipc ipc = {.addr = sk->saddr, .oif = sk->bound_dev_if, .tos = -1,
			      .gso_size = up->gso_size};
	if (m->controllen) {
		int r = udp_cmsgs(sk, m, &ipc);
		if (r)
			return r;
		connected = false;
	}
	uint32_t saddr = ipc.addr;
	unsigned rtflags = 0;
	/* ip_sendmsg_scope: SO_DONTROUTE or MSG_DONTROUTE ask for RT_SCOPE_LINK */
	if ((sk->flags & SKF_DONTROUTE) || (flags & MSG_DONTROUTE)) {
		rtflags |= IP4_RT_DONTROUTE;
		connected = false;
	}
	struct rt4_result rtbuf, *rt = NULL;
	if (connected && up->dst_genid == ns->ip4->rt_genid && up->dst.dev &&
	    (up->dst.dev->flags & IFF_UP))
		rt = &up->dst;
	if (!rt) {
		int r = ip4_route_output(ns, daddr, saddr, ipc.oif, rtflags, &rtbuf);
		if (r)
			return r;
		rt = &rtbuf;
		if (rt->type == RT_BROADCAST && !(sk->flags & SKF_BROADCAST))
			return -EACCES;
		if (connected) {
			up->dst = rtbuf;
			up->dst_genid = ns->ip4->rt_genid;
		}
	}
	saddr = rt->src;
	daddr = rt->daddr;

	struct ip4_out_opts o;
	fill_opts(sk, &ipc, flags, &o);
	uint32_t mtu = rt->rt && rt->rt->mtu ? rt->rt->mtu : rt->dev->mtu;
	if (!corkreq) {
		/* ip_make_skb: the whole datagram in one buffer, or EMSGSIZE */
		uint32_t maxnonfrag = o.df_strict ? mtu : 0xffff;
		if (len + UDP_HLEN > maxnonfrag - 20)
			return -EMSGSIZE;
		int r = wait_for_wmem(sk, flags);
		if (r)
			return r;
		struct pkt *pk = pkt_alloc(ns->pools, len);
		if (!pk)
			return -ENOBUFS;
		if (len && sk_copy_from_iov(m, 0, pkt_put(pk, len), len)) {
			pkt_free(pk);
			return -EFAULT;
		}
		pk->meta.truesize = udp_truesize((uint32_t)len, mtu < 0xffff ? mtu : 0xffff);
		pk->meta.owner = sk;
		pk->meta.destructor = udp_wfree;
		pk->meta.mark = ipc.cm.mark ? ipc.cm.mark : sk->mark;
		sk->wmem += pk->meta.truesize;
		if (len + UDP_HLEN + 20 > mtu)
			o.df = false;
		o.id = pick_id(sk, &o);
		r = udp_send_skb(sk, pk, saddr, daddr, dport, rt, &o);
		return r ? r : (ssize_t)len;
	}
	/* start a corked datagram */
	up->pending = true;
	up->cork_daddr = daddr;
	up->cork_saddr = saddr;
	up->cork_dport = dport;
	up->cork_rt = *rt;
	up->cork_opts = o;
	up->cork_len = 0;
	int r = cork_append(sk, m, len, flags, mtu);
	if (r)
		udp_flush_pending(sk);
	return r ? r : (ssize_t)len;
}
