/* SPDX-License-Identifier: MIT */
/*
 * fuzz_rx.c - arbitrary frames into a namespace's receive path
 *
 * The input is a sequence of records [len:2, big endian][step:1][frame];
 * when the top bit of len is set, a byte [cut] comes before the frame and
 * the packet is chained: cut bytes in a head block, the rest as views of
 * another (what a same-namespace veth peer passes on).  Each frame goes
 * up from a device as if it came off the wire, into a namespace
 * (198.18.0.1/24 on fz0, MAC 02:00:00:00:00:01) with UDP sockets bound: *:7, 198.18.0.1:9, *:53 (SO_BROADCAST, IP_PKTINFO) and
 * 198.18.0.1:40000 connected to 198.18.0.2:7 (IP_RECVERR), and a
 * SO_REUSEPORT pair on *:5353 (receive cmsgs; a tiny SO_RCVBUF).  step x 10 ms of
 * virtual time passes after each frame, so reassembly and neighbour timers
 * run too.  After each input the sockets are drained (error queues too) and
 * 120 s of virtual time pass; then every packet buffer must be back in its
 * pool: a leak aborts like a crash.  Every frame the stack sends in answer
 * must be well formed (Ethernet, then ARP or IPv4 with a valid header
 * checksum, and a valid ICMP checksum on an unfragmented ICMP message).
 * Packets from the wire are untrusted - nothing here may crash, hang, leak
 * or trip a sanitizer.  fuzz/seeds/gen_rx.c writes the seed corpus.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if_arp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ip/ip4.h"
#include "net/netns_internal.h"
#include "wire/arp.h"
#include "wire/csum.h"
#include "wire/eth.h"
#include "wire/ipv4.h"
#include "usock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct netns *ns;
static struct netdev *dev;
#define FZ_NFDS 6
static int fds[FZ_NFDS];

/* What we send must parse: an answer to garbage is still a valid frame. */
static int sink_xmit(struct netdev *d, struct pkt *pk)
{
	static uint8_t f[65536 + ETH_HLEN];
	size_t n = pkt_copy_out(pk, 0, f, sizeof(f));
	struct eth_repr e;
	struct arp_repr a;
	struct ipv4_repr r;
	int hl;

	(void)d;
	if (n != pk->tot_len || eth_parse(f, n, &e) < 0)
		abort();
	pkt_free(pk);
	if (e.proto == ETH_P_ARP) {
		if (arp_parse(f + ETH_HLEN, n - ETH_HLEN, &a) < 0)
			abort();
		return 0;
	}
	if (e.proto != ETH_P_IP)
		abort();
	hl = ipv4_parse(f + ETH_HLEN, n - ETH_HLEN, &r);
	if (hl < 0)
		abort();
	if (r.proto == IPPROTO_ICMP && !ipv4_is_fragment(&r) &&
	    csum_fold(csum_partial(f + ETH_HLEN + hl, r.tot_len - (size_t)hl, 0)) != 0)
		abort();
	return 0;
}

static const struct link_ops sink_ops = {.kind = "fuzz", .xmit = sink_xmit};

static void setup(void)
{
	int err;
	ns = netns_create("fuzz", USOCK_NETNS_VIRTUAL_TIME, &err);
	if (!ns)
		abort();
	netns_lock(ns);
	dev = netns_dev_add(ns, "fz0", &sink_ops, ARPHRD_ETHER, &err);
	if (!dev)
		abort();
	static const uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0x01};
	memcpy(dev->hwaddr, mac, 6);
	netns_dev_set_up(ns, dev, true);
	ip4_addr_add(ns, dev, inet_addr("198.18.0.1"), 24, 0);
	netns_unlock(ns);
	usock_netns_set((struct usock_netns *)ns);
	struct sockaddr_in a = {.sin_family = AF_INET};
	for (int i = 0; i < FZ_NFDS; i++)
		fds[i] = usock_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	a.sin_port = htons(7);
	usock_bind(fds[0], (struct sockaddr *)&a, sizeof(a));
	a.sin_port = htons(9);
	a.sin_addr.s_addr = inet_addr("198.18.0.1");
	usock_bind(fds[1], (struct sockaddr *)&a, sizeof(a));
	int on = 1;
	usock_setsockopt(fds[2], SOL_SOCKET, SO_BROADCAST, &on, sizeof(on));
	usock_setsockopt(fds[2], SOL_IP, IP_PKTINFO, &on, sizeof(on));
	a.sin_port = htons(53);
	a.sin_addr.s_addr = 0;
	usock_bind(fds[2], (struct sockaddr *)&a, sizeof(a));
	/* a known source port, so that seeds can quote what it sent */
	a.sin_port = htons(40000);
	a.sin_addr.s_addr = inet_addr("198.18.0.1");
	usock_bind(fds[3], (struct sockaddr *)&a, sizeof(a));
	usock_setsockopt(fds[3], SOL_IP, IP_RECVERR, &on, sizeof(on));
	a.sin_port = htons(7);
	a.sin_addr.s_addr = inet_addr("198.18.0.2");
	usock_connect(fds[3], (struct sockaddr *)&a, sizeof(a));
	/*
	 * A SO_REUSEPORT pair on *:5353: unicast picks one by flow hash, a
	 * broadcast goes to both; one asks for every receive-side cmsg and is
	 * tied to fz0, the other has the smallest receive buffer, so drops run.
	 */
	int small = 1;
	usock_setsockopt(fds[4], SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on));
	usock_setsockopt(fds[5], SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on));
	usock_setsockopt(fds[4], SOL_SOCKET, SO_BROADCAST, &on, sizeof(on));
	usock_setsockopt(fds[4], SOL_SOCKET, SO_BINDTODEVICE, "fz0", 4);
	usock_setsockopt(fds[4], SOL_SOCKET, SO_TIMESTAMP, &on, sizeof(on));
	usock_setsockopt(fds[4], SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof(on));
	usock_setsockopt(fds[4], SOL_IP, IP_PKTINFO, &on, sizeof(on));
	usock_setsockopt(fds[4], SOL_IP, IP_RECVTTL, &on, sizeof(on));
	usock_setsockopt(fds[4], SOL_IP, IP_RECVTOS, &on, sizeof(on));
	usock_setsockopt(fds[4], SOL_IP, IP_RECVORIGDSTADDR, &on, sizeof(on));
	usock_setsockopt(fds[5], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	a.sin_port = htons(5353);
	a.sin_addr.s_addr = 0;
	usock_bind(fds[4], (struct sockaddr *)&a, sizeof(a));
	usock_bind(fds[5], (struct sockaddr *)&a, sizeof(a));
}

/*
 * Read until EAGAIN (a pending socket error is reported once and cleared),
 * into room for whole datagrams or (short) 8 bytes, truncating.
 */
static void drain_one(int fd, int flags, bool short_read)
{
	static char buf[70000];
	char ctl[256];

	for (int k = 0; k < 256; k++) {
		struct iovec iov = {buf, short_read ? 8 : sizeof(buf)};
		struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
				   .msg_controllen = sizeof(ctl)};

		ssize_t r = usock_recvmsg(fd, &m, MSG_DONTWAIT | flags);

		/* a peek leaves the datagram where it was: once is enough */
		if ((r < 0 && errno == EAGAIN) || (r >= 0 && (flags & MSG_PEEK)))
			break;
	}
}

static void drain(void)
{
	for (int i = 0; i < FZ_NFDS; i++) {
		if (i == 4)
			drain_one(fds[i], MSG_PEEK | MSG_TRUNC, true);
		drain_one(fds[i], 0, i == 4);
		drain_one(fds[i], MSG_ERRQUEUE, false);
	}
}

/*
 * One frame as a packet: linear, as a backend delivers it, or (chained) a
 * head block of cut bytes followed by views of another block, as a veth
 * peer in the same namespace hands over what ip4_fragment made.
 */
static struct pkt *make_frame(const uint8_t *p, size_t len, bool chain, size_t cut)
{
	struct pkt *pk, *rest, *v;

	if (!chain || cut >= len) {
		pk = pkt_alloc(ns->pools, len);
		if (pk)
			memcpy(pkt_put(pk, len), p, len);
		return pk;
	}
	pk = pkt_alloc(ns->pools, cut);
	rest = pkt_alloc(ns->pools, len - cut);
	if (!pk || !rest) {
		pkt_free(pk);
		pkt_free(rest);
		return NULL;
	}
	memcpy(pkt_put(pk, cut), p, cut);
	memcpy(pkt_put(rest, len - cut), p + cut, len - cut);
	v = pkt_clone_range(ns->pools, rest, 0, len - cut, 0);
	pkt_free(rest);
	if (!v) {
		pkt_free(pk);
		return NULL;
	}
	pkt_append(pk, v);
	return pk;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ns)
		setup();
	size_t off = 0;
	int frames = 0;
	while (off + 3 <= size && frames < 64) {
		size_t len = (size_t)(data[off] & 0x7f) << 8 | data[off + 1], cut = 0;
		bool chain = data[off] & 0x80;
		uint8_t step = data[off + 2];
		off += 3;
		if (chain && off < size)
			cut = data[off++];
		if (len > size - off)
			len = size - off;
		netns_lock(ns);
		struct pkt *pk = make_frame(data + off, len, chain, cut);
		if (pk)
			netdev_rx(dev, pk);
		netns_unlock(ns);
		off += len;
		frames++;
		/* some time between frames: 0..2.5 s */
		usock_clock_advance((struct usock_netns *)ns, (uint64_t)step * 10000000ull);
	}
	drain();
	/* long enough for every reassembly and neighbour timer to run out */
	for (int i = 0; i < 12; i++)
		usock_clock_advance((struct usock_netns *)ns, 10ull * 1000000000ull);
	drain();
	if (!usock_netns_pools_full((struct usock_netns *)ns))
		abort();
	return 0;
}
