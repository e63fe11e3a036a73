/* SPDX-License-Identifier: MIT */
/*
 * fuzz_rx.c - arbitrary frames into a namespace's receive path
 *
 * The input is a sequence of frames ([len:2][bytes]); each goes up from a
 * device as if it came off the wire, into a namespace with UDP sockets
 * bound (wildcard, specific, connected) and a neighbour or two.  A trailing
 * byte picks how much virtual time passes between frames, so reassembly
 * and neighbour timers run too.  After each input the sockets are drained
 * and 120 s of virtual time pass; then every packet buffer must be back in
 * its pool: a leak aborts like a crash.  Packets from the wire are
 * untrusted - nothing here may crash, hang, leak or trip a sanitizer.
 */
#include <arpa/inet.h>
#include <net/if_arp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/netns_internal.h"
#include "usock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct netns *ns;
static struct netdev *dev;
static int fds[4];

static int sink_xmit(struct netdev *d, struct pkt *pk)
{
	(void)d;
	pkt_free(pk);
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
	for (int i = 0; i < 4; i++)
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
	a.sin_port = htons(7);
	a.sin_addr.s_addr = inet_addr("198.18.0.2");
	usock_connect(fds[3], (struct sockaddr *)&a, sizeof(a));
}

static void drain(void)
{
	char buf[70000], ctl[256];
	for (int i = 0; i < 4; i++) {
		for (int k = 0; k < 64; k++) {
			struct iovec iov = {buf, sizeof(buf)};
			struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
					   .msg_controllen = sizeof(ctl)};
			if (usock_recvmsg(fds[i], &m, MSG_DONTWAIT) < 0 && errno != ECONNREFUSED &&
			    errno != EHOSTUNREACH)
				break;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ns)
		setup();
	size_t off = 0;
	int frames = 0;
	while (off + 3 <= size && frames < 64) {
		size_t len = (size_t)data[off] << 8 | data[off + 1];
		uint8_t step = data[off + 2];
		off += 3;
		if (len > size - off)
			len = size - off;
		netns_lock(ns);
		struct pkt *pk = pkt_alloc(ns->pools, len);
		if (pk) {
			memcpy(pkt_put(pk, len), data + off, len);
			netdev_rx(dev, pk);
		}
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
