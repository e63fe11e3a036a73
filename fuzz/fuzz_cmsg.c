/* SPDX-License-Identifier: MIT */
/*
 * fuzz_cmsg.c - libFuzzer target: caller input on the send side of a UDP socket
 *
 * Control messages, flags, destination addresses and socket options are
 * what a program hands in: wrong ones must give an errno, never a crash, a
 * read past what the caller said it passed, or a leaked packet.  Every
 * buffer handed over is a heap block of exactly the length claimed, so
 * AddressSanitizer sees any read or write beyond it.
 *
 * The input is a script of operations on two UDP sockets made afresh for
 * each input (one sends, the other is bound to *:9999 with IP_PKTINFO, so
 * that sends to 127.0.0.1 or 198.18.0.1 run the receive path too):
 *
 *   sendmsg	flags (a table of MSG_* bits or raw), a destination (none,
 *		loopback, the peer 198.18.0.2 behind fz0, broadcasts, or raw
 *		sockaddr bytes of any length), 0..8 iovecs over a payload of
 *		up to 64 KiB, and a control buffer: cmsgs built from tables of
 *		levels and types with correct or fuzzed cmsg_len, or raw bytes
 *   sendmmsg	1..4 such messages in one call
 *   setsockopt	level (SOL_SOCKET, SOL_IP, SOL_UDP, SOL_IPV6 or raw), name,
 *		value bytes and a length (0..300, or raw)
 *   getsockopt	the same, with the length the caller says it has room for
 *   connect	to one of the destinations (AF_UNSPEC disconnects)
 *   recv	drain both sockets, error queues included
 *   time	advance the virtual clock (neighbour timers, queued packets)
 *
 * With valid pointers everywhere, EFAULT is a finding, as is a send that
 * reports more bytes than it was given or a getsockopt length that grows.
 * After each input 120 s pass, both sockets are closed (the sender first),
 * and every packet buffer must be back in its pool.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/udp.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "net/netns_internal.h"
#include "usock.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef MSG_PROBE
#define MSG_PROBE 0x10	/* the kernel's name for glibc's MSG_PROXY */
#endif
#ifndef SCM_TXTIME
#define SCM_TXTIME 61
#endif

#define FZ_MAX_PAYLOAD 65536
#define FZ_MAX_OPS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct netns *ns;
static uint8_t payload[FZ_MAX_PAYLOAD + 16];

struct reader {
	const uint8_t *p;
	size_t n;
};

/* n (1..4) little-endian bytes; missing ones read as zero. */
static uint32_t take(struct reader *r, unsigned n)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < n && r->n; i++) {
		v |= (uint32_t)r->p[0] << (8 * i);
		r->p++;
		r->n--;
	}
	return v;
}

/* A heap block of exactly len bytes, filled from the input (the rest zero). */
static void *take_block(struct reader *r, size_t len)
{
	uint8_t *b = malloc(len ? len : 1);

	if (!b)
		abort();
	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)take(r, 1);
	return b;
}

static int sink_xmit(struct netdev *d, struct pkt *pk)
{
	(void)d;
	pkt_free(pk);
	return 0;
}

static const struct link_ops sink_ops = { .kind = "fuzz", .xmit = sink_xmit };

static void fz_ip(const char *cmd)
{
	if (usock_ip((struct usock_netns *)ns, cmd, NULL, 0))
		abort();
}

static void setup(void)
{
	struct netdev *dev;
	int err;

	ns = netns_create("fuzzcmsg", USOCK_NETNS_VIRTUAL_TIME, &err);
	if (!ns)
		abort();
	netns_lock(ns);
	dev = netns_dev_add(ns, "fz0", &sink_ops, ARPHRD_ETHER, &err);
	if (!dev)
		abort();
	memcpy(dev->hwaddr, "\x02\0\0\0\0\x01", 6);
	netns_unlock(ns);
	fz_ip("link set fz0 up");
	fz_ip("addr add 198.18.0.1/24 dev fz0");
	/* one peer resolves at once, the rest of the subnet waits for ARP */
	fz_ip("neigh add 198.18.0.2 lladdr 02:00:00:00:00:02 dev fz0");
	usock_netns_set((struct usock_netns *)ns);
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 31 + 7);
}

/* A destination: *len 0 for none; sa may be a raw block (caller frees *raw). */
static const struct sockaddr *take_dest(struct reader *r, struct sockaddr_in *sin, socklen_t *len,
					void **raw)
{
	static const char *const addrs[] = { "127.0.0.1", "198.18.0.2", "198.18.0.255",
					     "255.255.255.255", "0.0.0.0", "198.18.0.7",
					     "224.0.0.1", "198.18.0.1" };
	uint8_t sel = (uint8_t)take(r, 1);

	*raw = NULL;
	memset(sin, 0, sizeof(*sin));
	switch (sel & 3) {
	case 0:
		*len = 0;
		return NULL;
	case 3: {
		/* raw bytes of any length, family mostly AF_INET */
		socklen_t l = (socklen_t)(take(r, 1) % 140);
		uint8_t *b = take_block(r, l);

		if (l >= 2 && !(sel & 4)) {
			sa_family_t f = AF_INET;

			memcpy(b, &f, sizeof(f));
		}
		*raw = b;
		*len = l;
		return (const struct sockaddr *)b;
	}
	default:
		sin->sin_family = (sel & 0x80) ? AF_UNSPEC : AF_INET;
		sin->sin_port = htons((sel & 0x40) ? (uint16_t)take(r, 2) : 9999);
		sin->sin_addr.s_addr = inet_addr(addrs[(sel >> 3) & 7]);
		*len = sizeof(*sin);
		return (const struct sockaddr *)sin;
	}
}

/* Flags: mostly a mix of the ones a UDP sender might pass, sometimes raw. */
static int take_flags(struct reader *r)
{
	static const int bits[] = { MSG_DONTWAIT, MSG_CONFIRM, MSG_DONTROUTE, MSG_MORE,
				    MSG_NOSIGNAL, MSG_OOB, MSG_EOR, MSG_PROBE,
				    MSG_FASTOPEN, MSG_ZEROCOPY, MSG_ERRQUEUE, MSG_TRUNC,
				    MSG_PEEK, MSG_WAITALL, MSG_CMSG_CLOEXEC, MSG_BATCH };
	uint16_t sel = (uint16_t)take(r, 2);
	int f = MSG_DONTWAIT;

	if (sel == 0xffff)
		return (int)take(r, 4) | MSG_DONTWAIT;
	for (unsigned i = 0; i < 16; i++)
		if (sel & (1u << i))
			f |= bits[i];
	return f;
}

/* A control buffer: structured cmsgs, or raw bytes. Return: the block (free it). */
static void *take_control(struct reader *r, size_t *len)
{
	static const int levels[] = { SOL_SOCKET, SOL_IP, SOL_UDP, SOL_IPV6 };
	static const int types[] = { IP_PKTINFO, IP_TTL, IP_TOS, IP_RETOPTS, IP_RECVERR,
				     UDP_SEGMENT, SO_MARK, SO_PRIORITY, SO_TIMESTAMPING_OLD,
				     SCM_TXTIME, SCM_RIGHTS, SCM_CREDENTIALS, IP_OPTIONS,
				     IP_TRANSPARENT, 0, 255 };
	uint8_t mode = (uint8_t)take(r, 1), n;
	uint8_t buf[1024];
	size_t used = 0;

	if (mode < 0x30) {
		/* raw: any length up to 1 KiB, or past optmem_max (ENOBUFS before any read) */
		*len = mode < 0x08 ? (size_t)ns->sys.optmem_max + take(r, 1) : take(r, 2) % 1025;
		return take_block(r, mode < 0x08 ? 0 : *len);
	}
	n = (uint8_t)(mode % 5);
	for (uint8_t i = 0; i < n; i++) {
		uint8_t sel = (uint8_t)take(r, 1), dlen = (uint8_t)(take(r, 1) % 48);
		struct cmsghdr c;

		if (used + CMSG_SPACE(dlen) > sizeof(buf))
			break;
		memset(&c, 0, sizeof(c));
		c.cmsg_level = (sel & 0x80) ? (int)take(r, 4) : levels[sel & 3];
		c.cmsg_type = (sel & 0x40) ? (int)take(r, 4) : types[(sel >> 2) & 15];
		/* right length, or off by a little, or anything */
		switch (take(r, 1) & 7) {
		case 0:
			c.cmsg_len = CMSG_LEN(dlen) + 1;
			break;
		case 1:
			c.cmsg_len = CMSG_LEN(dlen) - 1;
			break;
		case 2:
			c.cmsg_len = (size_t)take(r, 4) | ((size_t)take(r, 4) << 32);
			break;
		default:
			c.cmsg_len = CMSG_LEN(dlen);
			break;
		}
		memcpy(buf + used, &c, sizeof(c));
		for (unsigned k = 0; k < dlen; k++)
			buf[used + CMSG_LEN(0) + k] = (uint8_t)take(r, 1);
		used += CMSG_SPACE(dlen);
	}
	/* the caller's length may cut the last one short */
	if (mode & 1) {
		size_t cut = take(r, 1) % 16;

		used = cut < used ? used - cut : 0;
	}
	*len = used;
	{
		uint8_t *b = malloc(used ? used : 1);

		if (!b)
			abort();
		memcpy(b, buf, used);
		return b;
	}
}

struct fz_msg {
	struct msghdr h;
	struct sockaddr_in sin;
	struct iovec iov[8];
	void *raw_name, *control;
	size_t total;
};

static void take_msg(struct reader *r, struct fz_msg *m)
{
	socklen_t nl;
	const struct sockaddr *sa = take_dest(r, &m->sin, &nl, &m->raw_name);
	uint8_t niov = (uint8_t)(take(r, 1) % 9);
	size_t off = 0, cl;

	memset(&m->h, 0, sizeof(m->h));
	m->h.msg_name = (void *)sa;
	m->h.msg_namelen = nl;
	for (uint8_t i = 0; i < niov; i++) {
		uint32_t l = take(r, 2);

		/* mostly small pieces; a large one now and then */
		if (!(l & 0x8000))
			l &= 0x7ff;
		l %= FZ_MAX_PAYLOAD - off + 1;
		m->iov[i].iov_base = payload + off;
		m->iov[i].iov_len = l;
		off += l;
	}
	m->total = off;
	m->h.msg_iov = niov ? m->iov : NULL;
	m->h.msg_iovlen = niov;
	m->control = take_control(r, &cl);
	m->h.msg_control = cl ? m->control : NULL;
	m->h.msg_controllen = cl;
	/* flags in the msghdr are ignored on send */
	m->h.msg_flags = (int)take(r, 1);
}

static void msg_free(struct fz_msg *m)
{
	free(m->raw_name);
	free(m->control);
}

static void op_sendmsg(struct reader *r, int fd)
{
	struct fz_msg m;
	int flags = take_flags(r);
	ssize_t n;

	take_msg(r, &m);
	n = usock_sendmsg(fd, &m.h, flags);
	if ((n < 0 && errno == EFAULT) || (n > 0 && (size_t)n > m.total))
		abort();
	msg_free(&m);
}

static void op_sendmmsg(struct reader *r, int fd)
{
	struct mmsghdr v[4];
	struct fz_msg m[4];
	unsigned cnt = 1 + take(r, 1) % 4;
	int flags = take_flags(r), n;

	for (unsigned i = 0; i < cnt; i++) {
		take_msg(r, &m[i]);
		v[i].msg_hdr = m[i].h;
		v[i].msg_len = 0xdeadbeef;
	}
	n = usock_sendmmsg(fd, v, cnt, flags);
	if ((n < 0 && errno == EFAULT) || n > (int)cnt)
		abort();
	for (int i = 0; i < n; i++)
		if (v[i].msg_len > m[i].total)
			abort();
	for (unsigned i = 0; i < cnt; i++)
		msg_free(&m[i]);
}

static int take_level(struct reader *r)
{
	static const int levels[] = { SOL_SOCKET, SOL_IP, SOL_UDP, SOL_IPV6 };
	uint8_t sel = (uint8_t)take(r, 1);

	return (sel & 0xf0) == 0xf0 ? (int)take(r, 4) : levels[sel & 3];
}

static socklen_t take_optlen(struct reader *r)
{
	uint16_t l = (uint16_t)take(r, 2);

	/* mostly 0..8 and the sizes of real option values */
	if (l < 0xf000)
		return (socklen_t)(l % 40 == 39 ? l % 301 : l % 24);
	return (socklen_t)(l & 0x1ff);
}

static void op_setsockopt(struct reader *r, int fd)
{
	int level = take_level(r), name = (int)(take(r, 1) % 80);
	socklen_t len = take_optlen(r);
	void *val = take_block(r, len);

	if (usock_setsockopt(fd, level, name, val, len) < 0 && errno == EFAULT)
		abort();
	free(val);
}

static void op_getsockopt(struct reader *r, int fd)
{
	int level = take_level(r), name = (int)(take(r, 1) % 80);
	socklen_t len = take_optlen(r), got = len;
	void *val = malloc(len ? len : 1);

	if (!val)
		abort();
	if (usock_getsockopt(fd, level, name, val, &got) < 0) {
		if (errno == EFAULT)
			abort();
	} else if (got > len) {
		abort();
	}
	free(val);
}

static void op_connect(struct reader *r, int fd)
{
	struct sockaddr_in sin;
	socklen_t len;
	void *raw;
	const struct sockaddr *sa = take_dest(r, &sin, &len, &raw);

	if (sa && usock_connect(fd, sa, len) < 0 && errno == EFAULT)
		abort();
	free(raw);
}

static void drain(int fd)
{
	static char buf[FZ_MAX_PAYLOAD + 16];
	char ctl[256];

	for (int e = 0; e < 2; e++)
		for (int k = 0; k < 256; k++) {
			struct iovec iov = { buf, sizeof(buf) };
			struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
					    .msg_controllen = sizeof(ctl) };

			if (usock_recvmsg(fd, &m, MSG_DONTWAIT | (e ? MSG_ERRQUEUE : 0)) < 0 &&
			    errno == EAGAIN)
				break;
		}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader rd = { data, size };
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(9999) };
	int fd, rx, on = 1;

	if (!ns)
		setup();
	fd = usock_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	rx = usock_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (fd < 0 || rx < 0)
		abort();
	if (usock_bind(rx, (struct sockaddr *)&sin, sizeof(sin)))
		abort();
	usock_setsockopt(rx, SOL_IP, IP_PKTINFO, &on, sizeof(on));
	for (unsigned ops = 0; rd.n && ops < FZ_MAX_OPS; ops++) {
		switch (take(&rd, 1) % 10) {
		case 0:
		case 1:
		case 2:
			op_sendmsg(&rd, fd);
			break;
		case 3:
			op_sendmmsg(&rd, fd);
			break;
		case 4:
		case 5:
			op_setsockopt(&rd, fd);
			break;
		case 6:
			op_getsockopt(&rd, fd);
			break;
		case 7:
			op_connect(&rd, fd);
			break;
		case 8:
			drain(fd);
			drain(rx);
			break;
		default:
			usock_clock_advance((struct usock_netns *)ns, (uint64_t)take(&rd, 1) * 10000000ull);
			break;
		}
	}
	/*
	 * Close first, then let time pass: a datagram still in an ARP queue
	 * outlives its socket, whose object must stay until the charge drains
	 * (sk_wmem_release, as sk_wmem_alloc keeps a kernel socket).
	 */
	drain(fd);
	usock_close(fd);
	for (int i = 0; i < 12; i++)
		usock_clock_advance((struct usock_netns *)ns, 10ull * 1000000000ull);
	/* the receiver outlives the sender: what it still holds must not point back */
	drain(rx);
	usock_close(rx);
	if (!usock_netns_pools_full((struct usock_netns *)ns))
		abort();
	return 0;
}
