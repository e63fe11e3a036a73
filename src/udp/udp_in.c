/* SPDX-License-Identifier: MIT */
/*
 * udp_in.c - the UDP receive path: demux, queueing, errors, udp_recvmsg
 *
 * Theory of operation.  A datagram for this host is checked (length,
 * checksum unless loopback vouched for it), matched to a socket the way
 * __udp4_lib_lookup does (a socket bound to the exact address beats a
 * wildcard one; among them the best compute_score; SO_REUSEPORT groups pick
 * one member by flow hash), and queued if the socket's receive memory
 * allows (__udp_enqueue_schedule_skb: a datagram is taken if it fits in
 * SO_RCVBUF with what is queued, or if nothing is queued).
 * Broadcasts go to every matching socket; a unicast datagram nobody wants
 * gets ICMP port unreachable.  Memory is released as udp_rmem_release does:
 * lazily, in steps of a quarter of the buffer while the reader still has
 * datagrams it took from the queue in one go - which decides exactly when
 * a busy socket starts dropping.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <time.h>
#include <linux/errqueue.h>
#include <linux/if_packet.h>
#include <netinet/ip.h>
#include <poll.h>
#include <string.h>

#include "ip/ip4.h"
#include "net/netns.h"
#include "ip/ip4_errq.h"
#include "sock/sock.h"
#include "udp/udp.h"
#include "wire/csum.h"
#include "wire/icmp.h"
#include "wire/udp.h"

/* compute_score (IPv4 sockets only, so the family bonus is constant) */
static int score(const struct sock *sk, uint32_t saddr, uint16_t sport, uint16_t hnum, int dif)
{
	if (sk->num != hnum)
		return -1;
	int sc = 2;
	if (sk->daddr) {
		if (sk->daddr != saddr)
			return -1;
		sc += 4;
	}
	if (sk->dport) {
		if (sk->dport != sport)
			return -1;
		sc += 4;
	}
	if (sk->bound_dev_if) {
		if (sk->bound_dev_if != dif)
			return -1;
		sc += 4;
	}
	return sc;
}

static uint32_t flow_hash(uint32_t saddr, uint16_t sport, uint32_t daddr, uint16_t dport)
{
	uint64_t h = ((uint64_t)saddr << 32 | daddr) ^ ((uint64_t)sport << 16 | dport);
	h *= 0x9e3779b97f4a7c15ull;
	return (uint32_t)(h >> 32);
}

static struct sock *lookup2(struct netns *ns, uint32_t saddr, uint16_t sport, uint32_t bound,
			    uint16_t hnum, int dif, uint32_t hash)
{
	struct sock *best = NULL;
	int best_sc = -1, nreuse = 0;
	struct sock *slot = ns->udp->slot[hnum & (UDP_HTABLE_SIZE - 1)];
	for (struct sock *sk = slot; sk; sk = sk->hnext) {
		if (sk->rcv_saddr != bound)
			continue;
		int sc = score(sk, saddr, sport, hnum, dif);
		if (sc > best_sc) {
			best = sk;
			best_sc = sc;
			nreuse = (sk->flags & SKF_REUSEPORT) ? 1 : 0;
		} else if (sc == best_sc && sc >= 0 && (sk->flags & SKF_REUSEPORT) &&
			   (best->flags & SKF_REUSEPORT)) {
			nreuse++;
		}
	}
	if (nreuse > 1) {
		/* reuseport_select_sock: one member of the group by flow hash */
		int pick = (int)(((uint64_t)hash * (uint64_t)nreuse) >> 32), i = 0;
		for (struct sock *sk = slot; sk; sk = sk->hnext)
			if (sk->rcv_saddr == bound && (sk->flags & SKF_REUSEPORT) &&
			    score(sk, saddr, sport, hnum, dif) == best_sc && i++ == pick)
				return sk;
	}
	return best;
}

struct sock *udp_lookup(struct netns *ns, uint32_t saddr, uint16_t sport, uint32_t daddr,
			uint16_t dport, int dif)
{
	uint16_t hnum = ntohs(dport);
	uint32_t h = flow_hash(saddr, sport, daddr, dport);
	struct sock *sk = lookup2(ns, saddr, sport, daddr, hnum, dif, h);
	if (!sk)
		sk = lookup2(ns, saddr, sport, 0, hnum, dif, h);
	return sk;
}

/* __udp_enqueue_schedule_skb (namespace lock held); consumes pk. */
static void udp_queue_rcv(struct sock *sk, struct pkt *pk)
{
	uint32_t size = pk->meta.truesize;
	unsigned rcvbuf = (unsigned)sk->rcvbuf;
	/* stamped only for a socket that asked (SO_TIMESTAMP*, or SIOCGSTAMP
	 * once): the kernel's netstamp_needed, and a clock read saved */
	pk->meta.tstamp_ns = (sk->flags & (SKF_TIMESTAMP | SKF_STAMP_IOCTL))
				     ? clock_realtime(&sk->ns->clock) : 0;
	sk_rq_lock(sk);
	uint32_t rmem = sk->rmem;
	/* over the buffer: dropped, unless nothing is queued (one always fits) */
	if (rmem + size > rcvbuf && (rcvbuf > (unsigned)(INT32_MAX >> 1) || rmem > 0)) {
		sk->drops++;
		sk_rq_unlock(sk);
		pkt_free(pk);
		return;
	}
	pk->meta.dropcount = (sk->flags & SKF_RXQ_OVFL) ? sk->drops : 0;
	sk->rmem += size;
	pkt_queue_push(&sk->rcvq, pk);
	sk_rq_unlock(sk);
	sk_wake(sk, POLLIN | POLLRDNORM);
}

/* __udp4_lib_mcast_deliver: every socket that would take it; consumes pk. */
static void udp_mcast_deliver(struct netns *ns, struct pkt *pk, uint16_t sport, uint16_t dport)
{
	uint16_t hnum = ntohs(dport);
	struct sock *first = NULL;
	for (struct sock *sk = ns->udp->slot[hnum & (UDP_HTABLE_SIZE - 1)]; sk; sk = sk->hnext) {
		if (sk->num != hnum || (sk->daddr && sk->daddr != pk->meta.saddr) ||
		    (sk->dport && sk->dport != sport) ||
		    (sk->rcv_saddr && sk->rcv_saddr != pk->meta.daddr) ||
		    (sk->bound_dev_if && sk->bound_dev_if != pk->meta.ifindex))
			continue;
		if (!first) {
			first = sk;
			continue;
		}
		struct pkt *c = pkt_clone_range(ns->pools, pk, 0, pk->tot_len, 0);
		if (c)
			udp_queue_rcv(sk, c);
		else
			sk->drops++;
	}
	if (first)
		udp_queue_rcv(first, pk);
	else
		pkt_free(pk);
}

void udp_rcv(struct netns *ns, struct netdev *dev, struct pkt *pk)
{
	struct udp_repr ur;
	const uint8_t *h = pkt_may_pull(pk, UDP_HLEN) ? NULL : pkt_linear(pk, UDP_HLEN);
	if (!h || udp_hdr_parse(h, pk->tot_len, &ur) < 0)
		goto drop;
	if (ur.len < pk->tot_len && pkt_trim(pk, ur.len))
		goto drop;
	if (!pk->meta.csum_ok && ur.check) {
		uint32_t psum = csum_pseudo4(pk->meta.saddr, pk->meta.daddr, IPPROTO_UDP, ur.len);
		uint32_t sum = pkt_csum_partial(pk, 0, ur.len, 0);
		if (udp_hdr_csum_check(&ur, psum, sum, AF_INET) < 0)
			goto drop;
	}
	/* a datagram copied in from another namespace carries no charge: the
	 * kernel would have charged the sender's skb, which is what lo gives */
	if (!pk->meta.truesize)
		pk->meta.truesize = udp_truesize(ur.len - UDP_HLEN, 0xffff);
	pk->meta.sport = ur.sport;
	pk->meta.dport = ur.dport;
	if (pk->meta.pkt_type == PACKET_BROADCAST || pk->meta.pkt_type == PACKET_MULTICAST) {
		udp_mcast_deliver(ns, pk, ur.sport, ur.dport);
		return;
	}
	struct sock *sk = udp_lookup(ns, pk->meta.saddr, ur.sport, pk->meta.daddr, ur.dport,
				     dev->ifindex);
	if (!sk) {
		/* nobody listens: ICMP port unreachable, quoting the datagram */
		if (pkt_push(pk, pk->meta.l3_off))
			icmp4_send(ns, pk, ICMP4_DEST_UNREACH, ICMP4_PORT_UNREACH, 0);
		goto drop;
	}
	udp_queue_rcv(sk, pk);
	return;
drop:
	pkt_free(pk);
}

/* icmp_err_convert: errno and whether it is "hard" (reported to a connected socket). */
static const struct {
	int err;
	bool fatal;
} unreach_err[] = {
	{ENETUNREACH, false}, {EHOSTUNREACH, false}, {ENOPROTOOPT, true}, {ECONNREFUSED, true},
	{EMSGSIZE, false},    {EOPNOTSUPP, false},   {ENETUNREACH, true}, {EHOSTDOWN, true},
	{ENONET, true},       {ENETUNREACH, true},   {EHOSTUNREACH, true}, {ENETUNREACH, false},
	{EHOSTUNREACH, false}, {EHOSTUNREACH, true}, {EHOSTUNREACH, true}, {EHOSTUNREACH, true},
};




void udp_err(struct netns *ns, uint32_t saddr, uint32_t daddr, uint16_t sport, uint16_t dport,
	     uint8_t type, uint8_t code, uint32_t info, const struct pkt *icmp)
{
	/* the socket that sent the quoted datagram: seen from the other end */
	struct sock *sk = udp_lookup(ns, daddr, dport, saddr, sport, 0);
	if (!sk)
		return;
	int err;
	bool harderr = false;
	switch (type) {
	case ICMP4_DEST_UNREACH:
		if (code == ICMP4_FRAG_NEEDED) {
			(void)info;
			if (sk->pmtudisc == IP_PMTUDISC_DONT)
				return;
			err = EMSGSIZE;
			harderr = true;
			break;
		}
		err = EHOSTUNREACH;
		if (code < sizeof(unreach_err) / sizeof(unreach_err[0])) {
			err = unreach_err[code].err;
			harderr = unreach_err[code].fatal;
		}
		break;
	case ICMP4_TIME_EXCEEDED:
		err = EHOSTUNREACH;
		break;
	case ICMP4_PARAMETERPROB:
		err = EPROTO;
		harderr = true;
		break;
	default:
		return;
	}
	/* __udp4_lib_err: without IP_RECVERR only a hard error on a connected
	 * socket is reported; with it, every error, and it is queued too */
	if (!(sk->inet_flags & INF_RECVERR)) {
		if (!harderr || sk->state != 1)
			return;
	} else {
		/* ip_icmp_error: the payload after the quoted UDP header */
		ip4_icmp_error(sk, icmp, err, type, code, info, daddr, dport, 8);
	}
	sk_report_error(sk, err);
}

/*
 * udp_rmem_release with partial = 1 (reader lock held): memory goes back to
 * the socket in steps of a quarter of the buffer while the reader still
 * holds datagrams, all at once when it has none.
 */
static void rmem_release(struct sock *sk, uint32_t size)
{
	sk->forward_deficit += size;
	size = sk->forward_deficit;
	if (size < (uint32_t)(sk->rcvbuf >> 2) && sk->reader.count > 0)
		return;
	sk->forward_deficit = 0;
	sk_rq_lock(sk);
	sk->rmem = sk->rmem > size ? sk->rmem - size : 0;
	sk_rq_unlock(sk);
}

/* The reader's queue, refilled with everything queued when it runs dry (reader lock held). */
static struct pkt *reader_head(struct sock *sk)
{
	if (!sk->reader.count && sk->rcvq.count) {
		sk_rq_lock(sk);
		pkt_queue_splice(&sk->reader, &sk->rcvq);
		sk_rq_unlock(sk);
	}
	return pkt_queue_peek(&sk->reader);
}

/* take - the next datagram, off the queues. */
static struct pkt *take(struct sock *sk)
{
	sk_reader_lock(sk);
	struct pkt *pk = reader_head(sk);
	if (pk) {
		pkt_queue_pop(&sk->reader);
		rmem_release(sk, pk->meta.truesize);
	}
	sk_reader_unlock(sk);
	return pk;
}

/*
 * peek_walk - the datagram a peek at payload offset *off finds in q, as
 * __skb_try_recv_from_queue walks with MSG_PEEK: whole datagrams before the
 * offset are stepped over and *off becomes the offset inside the one
 * found.  An empty datagram is found once where the offset points and
 * stepped over after that (skb->peeked).  off < 0: the head, at 0.
 */
static struct pkt *peek_walk(struct pkt_queue *q, int *off)
{
	bool at_off = *off >= 0;
	int o = at_off ? *off : 0;

	for (struct pkt *pk = q->head; pk; pk = pk->next) {
		int len = (int)(pk->tot_len - UDP_HLEN);

		if (at_off && o >= len && (o || pk->meta.peeked)) {
			o -= len;
			continue;
		}
		if (!len)
			pk->meta.peeked = 1;
		*off = o;
		return pk;
	}
	return NULL;
}

/*
 * peek_at - __skb_recv_udp for MSG_PEEK at an offset (>= 0): the reader's
 * queue first, then,
 * if the offset lies beyond it, with everything queued since appended to
 * it (skb_queue_splice_tail_init).  Reader lock held.
 */
static struct pkt *peek_at(struct sock *sk, int *off)
{
	struct pkt *pk = peek_walk(&sk->reader, off);

	if (!pk && sk->rcvq.count) {
		sk_rq_lock(sk);
		pkt_queue_splice(&sk->reader, &sk->rcvq);
		sk_rq_unlock(sk);
		pk = peek_walk(&sk->reader, off);
	}
	return pk;
}

uint32_t udp_first_packet_length(struct sock *sk)
{
	sk_reader_lock(sk);
	struct pkt *pk = reader_head(sk);
	uint32_t n = pk ? pk->tot_len - UDP_HLEN : 0;
	sk_reader_unlock(sk);
	return n;
}

static void ip_cmsgs(struct sock *sk, struct sk_msg *m, const struct pkt *pk)
{
	/* ip_cmsg_recv_offset, in its order */
	if (sk->inet_flags & INF_PKTINFO) {
		struct in_pktinfo pi = {.ipi_ifindex = pk->meta.ifindex};
		pi.ipi_spec_dst.s_addr = pk->meta.spec_dst;
		pi.ipi_addr.s_addr = pk->meta.daddr;
		sk_put_cmsg(m, SOL_IP, IP_PKTINFO, &pi, sizeof(pi));
	}
	if (sk->inet_flags & INF_RECVTTL) {
		int ttl = pk->meta.ttl;
		sk_put_cmsg(m, SOL_IP, IP_TTL, &ttl, sizeof(ttl));
	}
	if (sk->inet_flags & INF_RECVTOS) {
		uint8_t tos = pk->meta.tos;
		sk_put_cmsg(m, SOL_IP, IP_TOS, &tos, 1);
	}
	if (sk->inet_flags & INF_ORIGDSTADDR) {
		struct sockaddr_in o = {.sin_family = AF_INET, .sin_port = pk->meta.dport};
		o.sin_addr.s_addr = pk->meta.daddr;
		sk_put_cmsg(m, SOL_IP, IP_ORIGDSTADDR, &o, sizeof(o));
	}
}

/*
 * to_user - the second half of udp_recvmsg: the datagram pk, already taken
 * off the queue (or peeked), goes to the caller from payload offset off
 * (SO_PEEK_OFF) with its name and control messages.  Frees pk unless
 * peeking.
 */
static ssize_t to_user(struct sock *sk, struct sk_msg *m, int flags, struct pkt *pk, bool peek,
		       bool locked, size_t off)
{
	size_t ulen = pk->tot_len - UDP_HLEN;
	size_t copied = m->len;
	/* udp_recvmsg: a peek that reads a datagram's tail from an offset
	 * exactly to its end still says MSG_TRUNC (len < ulen) */
	if (copied > ulen - off)
		copied = ulen - off;
	else if (copied < ulen)
		m->msg_flags |= MSG_TRUNC;
	if (copied && sk_copy_pkt_to_iov(m, pk, UDP_HLEN + off, copied)) {
		if (!peek) {
			sk_rq_lock(sk);
			sk->drops++;
			sk_rq_unlock(sk);
			sk_free_pkt(sk, pk, locked && !peek);
		}
		return -EFAULT;
	}
	sk_recv_timestamps(sk, m, pk);
	struct sockaddr_in *sin = (struct sockaddr_in *)&m->addr;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = pk->meta.sport;
	sin->sin_addr.s_addr = pk->meta.saddr;
	m->addrlen = sizeof(*sin);
	if (sk->inet_flags & (INF_PKTINFO | INF_RECVTTL | INF_RECVTOS | INF_ORIGDSTADDR))
		ip_cmsgs(sk, m, pk);
	ssize_t ret = (flags & MSG_TRUNC) ? (ssize_t)ulen : (ssize_t)copied;
	/* skb_consume_udp: the offset moves by what the call returns, forward
	 * for a peek and back for a read (MSG_TRUNC's full length included) */
	if (__atomic_load_n(&sk->peek_off, __ATOMIC_RELAXED) >= 0)
		sk_peek_offset_bwd(sk, peek ? -(int)ret : (int)ret);
	if (!peek)
		sk_free_pkt(sk, pk, locked);
	return ret;
}

/*
 * udp_recvmsg_fast - without the namespace lock, as udp_recvmsg runs in the
 * kernel (only the receive queue's lock): a datagram that is there is taken
 * and copied out while a sender keeps the namespace busy.  Everything that
 * may wait, peek, report an error or read the error queue goes the slow way.
 */
ssize_t udp_recvmsg_fast(struct sock *sk, struct sk_msg *m, int flags)
{
	if (flags & ~(MSG_DONTWAIT | MSG_TRUNC | MSG_WAITALL | MSG_CMSG_CLOEXEC))
		return -SK_SLOWPATH;
	if (__atomic_load_n(&sk->err, __ATOMIC_ACQUIRE))
		return -SK_SLOWPATH;
	struct pkt *pk = take(sk);
	if (!pk)
		/* empty and not waiting: EAGAIN, exactly what the slow path says */
		return (flags & MSG_DONTWAIT) ? -EAGAIN : -SK_SLOWPATH;
	return to_user(sk, m, flags, pk, false, false, 0);
}

ssize_t udp_recvmsg(struct sock *sk, struct sk_msg *m, int flags)
{
	if (flags & MSG_ERRQUEUE)
		return ip4_recv_error(sk, m);
	bool peek = flags & MSG_PEEK;
	int64_t timeo = (flags & MSG_DONTWAIT) ? 0 : sk->rcvtimeo_ns;
	struct pkt *pk;
	for (;;) {
		if (sk->err)
			return sk_sock_error(sk);
		if (peek) {
			/* a peeked datagram stays queued: copy it out while the
			 * reader lock keeps other readers from taking it */
			int off = sk_peek_offset(sk, flags);

			sk_reader_lock(sk);
			if (off >= 0) {
				pk = peek_at(sk, &off);
			} else if ((pk = reader_head(sk)) != NULL) {
				pk = peek_walk(&sk->reader, &off);	/* the head, at 0 */
			}
			ssize_t r = pk ? to_user(sk, m, flags, pk, true, true, (size_t)off) : 0;
			sk_reader_unlock(sk);
			if (pk)
				return r;
		} else if ((pk = take(sk)) != NULL) {
			break;
		}
		if (!timeo)
			return -EAGAIN;
		/* __skb_wait_for_more_packets: a shut-down reader gets 0 */
		if (sk->shutdown & RCV_SHUTDOWN)
			return 0;
		int r = sk_wait(sk, POLLIN, &timeo);
		if (r == -EINTR)
			return -EINTR;
		if (r == -EAGAIN && !sk_rx_pending(sk) && !sk->err)
			return -EAGAIN;
	}
	return to_user(sk, m, flags, pk, false, true, 0);
}
