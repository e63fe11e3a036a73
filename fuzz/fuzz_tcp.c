/* SPDX-License-Identifier: MIT */
/*
 * fuzz_tcp.c - arbitrary TCP segments into connections in every state
 *
 * Theory of operation.  One namespace (198.18.0.1/24 on fz0, the peer
 * 198.18.0.2 a permanent neighbour) whose device hands every frame usock
 * sends to a sink that checks it (Ethernet, IPv4 header checksum, TCP
 * checksum, header length) and remembers the last TCP segment, so the
 * harness knows the sequence numbers in play.  Each input's first byte picks
 * a starting state, reached by real socket calls and by segments the harness
 * plays for the peer: LISTEN, SYN_RECV (a request sock), SYN_SENT,
 * ESTABLISHED (passive and active, with and without data in flight),
 * FIN_WAIT1, FIN_WAIT2, CLOSE_WAIT, LAST_ACK, CLOSING, TIME_WAIT.  The rest
 * of the input is a list of segments from the peer, each with its sequence
 * and acknowledgment numbers relative to what the connection expects (so
 * that most land in or near the window), arbitrary flags, window, option
 * bytes and payload, and some virtual time after it; between segments the
 * application reads, so windows move.  Afterwards every socket is closed and
 * two hours of virtual time pass: every retransmission, FIN_WAIT2 and
 * TIME_WAIT timer runs out, and then every packet buffer and every socket
 * object must be back (a leak aborts like a crash).  Packets from the wire
 * are untrusted: nothing may crash, hang, leak or trip a sanitizer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if_arp.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ip/ip4.h"
#include "net/netns_internal.h"
#include "wire/csum.h"
#include "wire/eth.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"
#include "usock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct netns *ns;
static struct netdev *dev;
static const uint8_t our_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 0x02};
static uint32_t our_ip, peer_ip;

/* The last segment usock sent, and the highest sequence it reached. */
static struct {
	bool seen;
	uint16_t sport, dport;
	uint32_t seq, ack, end;
	uint16_t flags;
	uint32_t high;		/* highest end_seq sent */
	bool high_set;
} last;

static int sink_xmit(struct netdev *d, struct pkt *pk)
{
	static uint8_t f[65536 + ETH_HLEN];
	size_t n = pkt_copy_out(pk, 0, f, sizeof(f));
	struct eth_repr e;
	struct ipv4_repr r;
	struct tcp_repr t;

	(void)d;
	if (n != pk->tot_len || eth_parse(f, n, &e) < 0)
		abort();
	pkt_free(pk);
	if (e.proto != ETH_P_IP)
		return 0;
	int hl = ipv4_parse(f + ETH_HLEN, n - ETH_HLEN, &r);
	if (hl < 0)
		abort();
	if (r.proto != IPPROTO_TCP || ipv4_is_fragment(&r))
		return 0;
	const uint8_t *th = f + ETH_HLEN + hl;
	size_t tl = r.tot_len - (size_t)hl;
	int thl = tcp_hdr_parse(th, tl, &t);
	if (thl < 0 || t.opt.malformed)
		abort();
	if (tcp_hdr_csum_check(csum_pseudo4(r.saddr, r.daddr, IPPROTO_TCP, (uint32_t)tl),
			       csum_partial(th, tl, 0)))
		abort();
	uint32_t len = (uint32_t)(tl - (size_t)thl);
	last.seen = true;
	last.sport = t.sport;
	last.dport = t.dport;
	last.seq = t.seq;
	last.ack = t.ack;
	last.flags = t.flags;
	last.end = t.seq + len + !!(t.flags & TCP_HDR_SYN) + !!(t.flags & TCP_HDR_FIN);
	if (!last.high_set || (int32_t)(last.end - last.high) > 0)
		last.high = last.end;
	last.high_set = true;
	return 0;
}

static const struct link_ops sink_ops = {.kind = "fuzz", .xmit = sink_xmit};

static void setup(void)
{
	int err;
	ns = netns_create("fuzztcp", USOCK_NETNS_VIRTUAL_TIME, &err);
	if (!ns)
		abort();
	our_ip = inet_addr("198.18.0.1");
	peer_ip = inet_addr("198.18.0.2");
	netns_lock(ns);
	dev = netns_dev_add(ns, "fz0", &sink_ops, ARPHRD_ETHER, &err);
	if (!dev)
		abort();
	memcpy(dev->hwaddr, our_mac, 6);
	netns_dev_set_up(ns, dev, true);
	ip4_addr_add(ns, dev, our_ip, 24, 0);
	netns_unlock(ns);
	if (usock_ip((struct usock_netns *)ns,
		     "neigh add 198.18.0.2 lladdr 02:00:00:00:00:02 dev fz0 nud permanent", NULL, 0))
		abort();
	/* cookies both ways, so Fast Open paths run too */
	usock_sysctl((struct usock_netns *)ns, "net.ipv4.tcp_fastopen", "3", NULL, 0);
	usock_netns_set((struct usock_netns *)ns);
}

/* A segment from the peer, checksummed, up through fz0. */
static void inject(uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint16_t flags,
		   uint16_t win, uint16_t urg, const uint8_t *opt, size_t optlen,
		   const uint8_t *pay, size_t paylen)
{
	uint8_t f[ETH_HLEN + 20 + 60 + 512];
	size_t ol = (optlen + 3) & ~(size_t)3;
	if (ol > 40)
		ol = 40, optlen = optlen > 40 ? 40 : optlen;
	if (paylen > 512)
		paylen = 512;
	size_t tl = 20 + ol + paylen, il = 20 + tl;
	uint8_t *ip = f + ETH_HLEN, *th = ip + 20;

	memcpy(f, our_mac, 6);
	memcpy(f + 6, peer_mac, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[2] = (uint8_t)(il >> 8);
	ip[3] = (uint8_t)il;
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	memcpy(ip + 12, &peer_ip, 4);
	memcpy(ip + 16, &our_ip, 4);
	uint16_t c = csum_fold(csum_partial(ip, 20, 0));
	memcpy(ip + 10, &c, 2);

	memset(th, 0, 20 + ol);
	memcpy(th, &sport, 2);
	memcpy(th + 2, &dport, 2);
	uint32_t s = htonl(seq), a = htonl(ack);
	memcpy(th + 4, &s, 4);
	memcpy(th + 8, &a, 4);
	th[12] = (uint8_t)(((20 + ol) / 4) << 4 | ((flags >> 8) & 1));
	th[13] = (uint8_t)flags;
	th[14] = (uint8_t)(win >> 8);
	th[15] = (uint8_t)win;
	th[18] = (uint8_t)(urg >> 8);
	th[19] = (uint8_t)urg;
	if (optlen)
		memcpy(th + 20, opt, optlen);
	if (paylen)
		memcpy(th + 20 + ol, pay, paylen);
	uint32_t sum = csum_partial(th, tl, csum_pseudo4(peer_ip, our_ip, IPPROTO_TCP, (uint32_t)tl));
	c = csum_fold(sum);
	memcpy(th + 16, &c, 2);

	netns_lock(ns);
	struct pkt *pk = pkt_alloc(ns->pools, ETH_HLEN + il);
	if (pk) {
		memcpy(pkt_put(pk, ETH_HLEN + il), f, ETH_HLEN + il);
		netdev_rx(dev, pk);
	}
	netns_unlock(ns);
}

#define MAX_FDS 4
static int fds[MAX_FDS];
static int nfds;
static uint16_t peer_port;	/* network order */
static uint32_t peer_isn, peer_nxt;	/* the peer's sequence space */

static void keep(int fd)
{
	if (fd >= 0 && nfds < MAX_FDS)
		fds[nfds++] = fd;
}

static int nb_socket(void)
{
	int fd = usock_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		abort();
	keep(fd);
	return fd;
}

static void advance_ms(uint64_t ms)
{
	usock_clock_advance((struct usock_netns *)ns, ms * 1000000ull);
}

static const uint8_t syn_opts[] = {
	2, 4, 0x05, 0xb4,		/* MSS 1460 */
	4, 2,				/* SACK permitted */
	8, 10, 0, 0, 0, 1, 0, 0, 0, 0,	/* TS 1, 0 */
	1, 3, 3, 7,			/* NOP, WS 7 */
};

/* A listener on :80 (fd kept). */
static int listener(int backlog)
{
	int fd = nb_socket(), on = 1;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(80)};
	usock_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	int q = 4;
	usock_setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN, &q, sizeof(q));
	if (usock_bind(fd, (struct sockaddr *)&a, sizeof(a)) || usock_listen(fd, backlog))
		abort();
	return fd;
}

/* Passive open: SYN, our SYN-ACK, the ACK; accept. */
static int passive_established(void)
{
	listener(8);
	last.seen = false;
	inject(peer_port, htons(80), peer_isn, 0, TCP_HDR_SYN, 65535, 0, syn_opts,
	       sizeof(syn_opts), NULL, 0);
	if (!last.seen || !(last.flags & TCP_HDR_SYN))
		return -1;
	peer_nxt = peer_isn + 1;
	inject(peer_port, htons(80), peer_nxt, last.seq + 1, TCP_HDR_ACK, 512, 0, NULL, 0,
	       NULL, 0);
	int c = usock_accept4(fds[0], NULL, NULL, SOCK_NONBLOCK);
	keep(c);
	return c;
}

/* Active open to the peer's :80 from :40000 + n; SYN_SENT, or on to ESTABLISHED. */
static int active(bool complete)
{
	int fd = nb_socket();
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = peer_ip,
				.sin_port = htons(80)};
	last.seen = false;
	usock_connect(fd, (struct sockaddr *)&a, sizeof(a));
	if (!last.seen)
		return fd;
	peer_port = htons(80);
	if (complete) {
		peer_nxt = peer_isn + 1;
		inject(htons(80), last.sport, peer_isn, last.seq + 1, TCP_HDR_SYN | TCP_HDR_ACK,
		       512, 0, syn_opts, sizeof(syn_opts), NULL, 0);
	}
	return fd;
}

static uint16_t local_port(void)
{
	return last.seen ? last.sport : htons(80);
}

/* Our side of the connection acknowledges everything it sent so far. */
static void peer_ack_all(uint16_t flags)
{
	if (!last.seen)
		return;
	inject(last.dport, last.sport, peer_nxt, last.high, TCP_HDR_ACK | flags, 512, 0, NULL, 0,
	       NULL, 0);
	if (flags & TCP_HDR_FIN)
		peer_nxt++;
}

enum { S_LISTEN, S_SYN_RECV, S_SYN_SENT, S_EST_PASSIVE, S_EST_ACTIVE, S_EST_DATA, S_FIN_WAIT1,
       S_FIN_WAIT2, S_CLOSE_WAIT, S_LAST_ACK, S_CLOSING, S_TIME_WAIT, S_NSTATES };

static void reach(int state)
{
	static const char blob[3000] = "fuzz";
	int fd;

	switch (state) {
	case S_LISTEN:
		listener(1);
		break;
	case S_SYN_RECV:
		listener(8);
		inject(peer_port, htons(80), peer_isn, 0, TCP_HDR_SYN, 65535, 0, syn_opts,
		       sizeof(syn_opts), NULL, 0);
		peer_nxt = peer_isn + 1;
		break;
	case S_SYN_SENT:
		active(false);
		break;
	case S_EST_PASSIVE:
		passive_established();
		break;
	case S_EST_ACTIVE:
		active(true);
		break;
	case S_EST_DATA:
		fd = active(true);
		usock_send(fd, blob, sizeof(blob), MSG_NOSIGNAL);
		break;
	case S_FIN_WAIT1:
	case S_FIN_WAIT2:
	case S_CLOSING:
	case S_TIME_WAIT:
		fd = active(true);
		usock_shutdown(fd, SHUT_WR);
		if (state == S_FIN_WAIT2)
			peer_ack_all(0);
		else if (state == S_CLOSING)
			inject(last.dport, last.sport, peer_nxt, last.high - 1,
			       TCP_HDR_ACK | TCP_HDR_FIN, 512, 0, NULL, 0, NULL, 0), peer_nxt++;
		else if (state == S_TIME_WAIT)
			peer_ack_all(TCP_HDR_FIN);
		break;
	case S_CLOSE_WAIT:
	case S_LAST_ACK:
		fd = active(true);
		peer_ack_all(TCP_HDR_FIN);
		if (state == S_LAST_ACK) {
			usock_shutdown(fd, SHUT_WR);
		}
		break;
	}
}

static void drain(void)
{
	static char buf[4096];
	for (int i = 0; i < nfds; i++) {
		for (int k = 0; k < 8; k++)
			if (usock_recv(fds[i], buf, sizeof(buf), MSG_DONTWAIT) <= 0)
				break;
		usock_recv(fds[i], buf, 1, MSG_DONTWAIT | MSG_OOB);
	}
	for (int k = 0; k < 2; k++) {
		int c = nfds ? usock_accept4(fds[0], NULL, NULL, SOCK_NONBLOCK) : -1;
		if (c < 0)
			break;
		keep(c);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ns)
		setup();
	if (size < 1)
		return 0;
	static uint16_t next_port = 20000;
	nfds = 0;
	memset(&last, 0, sizeof(last));
	peer_port = htons(next_port);
	next_port = next_port >= 60000 ? 20000 : next_port + 1;
	peer_isn = 0x10000000u + (uint32_t)data[0] * 7919u;
	peer_nxt = peer_isn;
	reach(data[0] % S_NSTATES);

	/* records: [mode][flags][seq:2][ack:2][win:2][urg:1][optlen:1][paylen:1][step:1][opts][payload] */
	size_t off = 1;
	int segs = 0;
	while (off + 12 <= size && segs < 48) {
		const uint8_t *h = data + off;
		uint8_t mode = h[0];
		uint16_t flags = (uint16_t)(h[1] | ((mode & 0x80) << 1));
		int16_t sd = (int16_t)(h[2] << 8 | h[3]), ad = (int16_t)(h[4] << 8 | h[5]);
		uint16_t win = (uint16_t)(h[6] << 8 | h[7]);
		uint16_t urg = h[8];
		size_t ol = h[9] % 41, pl = h[10];
		uint8_t step = h[11];
		off += 12;
		if (ol > size - off)
			ol = size - off;
		const uint8_t *opt = data + off;
		off += ol;
		if (pl > size - off)
			pl = size - off;
		const uint8_t *pay = data + off;
		off += pl;

		uint32_t seq = (mode & 1) ? peer_nxt + ((uint32_t)sd << 12) : peer_nxt + (uint32_t)sd;
		uint32_t base = last.seen ? last.high : 0;
		uint32_t ack = (mode & 2) ? (last.seen ? last.seq : 0) + (uint32_t)ad
					  : base + (uint32_t)ad;
		uint16_t sport = peer_port, dport = local_port();
		if (mode & 4)
			dport = htons(80);	/* the listener (if any) */
		if ((mode & 0x18) == 0x18)
			sport = htons((uint16_t)(next_port + 7));	/* a stranger */
		inject(sport, dport, seq, ack, flags, win, urg, opt, ol, pay, pl);
		/* an in-order segment moves the peer on, as a real peer's would */
		if (!(mode & 1) && sd == 0)
			peer_nxt += (uint32_t)pl + !!(flags & TCP_HDR_SYN) + !!(flags & TCP_HDR_FIN);
		if (mode & 0x20)
			drain();
		if (mode & 0x40)
			usock_send(fds[nfds ? nfds - 1 : 0], pay, pl, MSG_DONTWAIT | MSG_NOSIGNAL |
				   ((mode & 0x8) ? MSG_OOB : 0));
		advance_ms((uint64_t)step * 10u);
		segs++;
	}
	drain();
	for (int i = 0; i < nfds; i++)
		usock_close(fds[i]);
	nfds = 0;
	/* two hours: orphan retransmissions, FIN_WAIT2, TIME_WAIT all end */
	for (int i = 0; i < 720; i++)
		advance_ms(10000);
	if (!usock_netns_pools_full((struct usock_netns *)ns))
		abort();
	netns_lock(ns);
	bool leak = ns->cache[NSC_SOCK_TCP].live != 0;
	netns_unlock(ns);
	if (leak)
		abort();
	return 0;
}
