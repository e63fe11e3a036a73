/* SPDX-License-Identifier: MIT */
/*
 * link_tap.c - a kernel TAP device as a usock link
 *
 * Theory of operation.  The TAP device (IFF_TAP | IFF_NO_PI) carries
 * Ethernet frames between usock and the kernel's own stack: what usock
 * transmits is written to the TAP fd and arrives in the kernel as if
 * received on the tapN interface; what the kernel sends out of tapN is read
 * by the namespace's worker thread and copied in with netdev_rx_buf.  The
 * fd is non-blocking; a write that would block drops the frame, as a full
 * NIC queue would.  Needs CAP_NET_ADMIN.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if_arp.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "link/link.h"
#include "net/netns_internal.h"

struct tap_priv {
	int fd;
	struct netdev *dev;
	uint8_t buf[65536 + 64];
};

static int tap_xmit(struct netdev *dev, struct pkt *pk)
{
	struct tap_priv *tp = dev->priv;
	uint8_t frame[65536 + 64];
	size_t n = pk->tot_len < sizeof(frame) ? pk->tot_len : sizeof(frame);
	pkt_copy_out(pk, 0, frame, n);
	pkt_free(pk);
	if (write(tp->fd, frame, n) < 0) {
		dev->tx_dropped++;
		return 0;
	}
	return 0;
}

/* worker thread, no namespace lock held */
static void tap_readable(void *arg)
{
	struct tap_priv *tp = arg;
	for (int i = 0; i < 64; i++) {
		ssize_t n = read(tp->fd, tp->buf, sizeof(tp->buf));
		if (n <= 0)
			return;
		netdev_rx_buf(tp->dev, tp->buf, (size_t)n);
	}
}

static void tap_destroy(struct netdev *dev)
{
	struct tap_priv *tp = dev->priv;
	if (!tp)
		return;
	netns_worker_del_fd(dev->ns, tp->fd);
	close(tp->fd);
	dev->priv = NULL;
}

static const struct link_ops link_tap_ops = {
	.kind = "tap",
	.xmit = tap_xmit,
	.destroy = tap_destroy,
};

int link_tap_open(struct netns *ns, const char *ifname, const char *tapname)
{
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", tapname);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	netns_lock(ns);
	int err;
	struct netdev *d = netns_dev_add(ns, ifname, &link_tap_ops, ARPHRD_ETHER, &err);
	struct tap_priv *tp = d ? arena_alloc(ns->arena, sizeof(*tp)) : NULL;
	if (!d || !tp) {
		if (d)
			netns_dev_remove(ns, d);
		netns_unlock(ns);
		close(fd);
		return d ? -ENOMEM : err;
	}
	tp->fd = fd;
	tp->dev = d;
	d->priv = tp;
	err = netns_worker_add_fd(ns, fd, tap_readable, tp);
	netns_unlock(ns);
	return err;
}
