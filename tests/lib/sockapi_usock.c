/* SPDX-License-Identifier: MIT */
/*
 * sockapi_usock.c - usock's socket calls behind struct sockapi
 *
 * Every entry forwards to the usock_ function of the same name; the
 * host/topology entries (usock namespaces, virtual time, pcap capture) live
 * in topo.c.  inject has no public usock call to forward to (usock has no
 * packet sockets): it reaches into the namespace (net/netns.h), the one
 * entry that does, so that scenarios need only the public harness.
 */
#include <errno.h>
#include <string.h>
#include <linux/if_ether.h>

#include "usock.h"
#include "buf/pkt.h"
#include "net/netns.h"

#include "sockapi.h"

static int u_fcntl(int fd, int cmd, long arg)
{
	return usock_fcntl(fd, cmd, arg);
}

static int u_ioctl(int fd, unsigned long req, void *arg)
{
	return usock_ioctl(fd, req, arg);
}

/*
 * Put frame on dev of the calling thread's current namespace as the
 * kernel's packet_snd would: straight to the device (netdev_xmit: pcap,
 * counters, the link), past routing and the neighbour cache, under the
 * namespace lock as every transmit is.  Errors as packet_snd's.
 */
static int u_inject(const char *dev, const void *frame, size_t len)
{
	struct netns *ns = (struct netns *)usock_netns_current();
	const unsigned char *f = frame;
	struct netdev *d;
	struct pkt *pk;
	int err;

	netns_lock(ns);
	d = netns_dev_by_name(ns, dev);
	if (!d) {
		err = -ENODEV;
	} else if (!(d->flags & IFF_UP)) {
		err = -ENETDOWN;
	} else if (len < ETH_HLEN) {
		err = -EINVAL;
	} else if (len > ETH_HLEN + (size_t)d->mtu) {
		err = -EMSGSIZE;
	} else {
		pk = pkt_alloc(ns->pools, (uint32_t)len);
		if (!pk) {
			err = -ENOBUFS;
		} else {
			memcpy(pkt_put(pk, (uint32_t)len), frame, len);
			pk->meta.proto = (uint16_t)(f[12] << 8 | f[13]);
			pk->meta.ifindex = d->ifindex;
			err = netdev_xmit(d, pk);
		}
	}
	netns_unlock(ns);
	if (err < 0)
		return errno = -err, -1;
	return 0;
}

const struct sockapi sockapi_usock = {
	.name = "usock",
	.is_kernel = false,
	.socket = usock_socket,
	.bind = usock_bind,
	.connect = usock_connect,
	.listen = usock_listen,
	.accept4 = usock_accept4,
	.getsockname = usock_getsockname,
	.getpeername = usock_getpeername,
	.send = usock_send,
	.sendto = usock_sendto,
	.sendmsg = usock_sendmsg,
	.sendmmsg = usock_sendmmsg,
	.recv = usock_recv,
	.recvfrom = usock_recvfrom,
	.recvmsg = usock_recvmsg,
	.recvmmsg = usock_recvmmsg,
	.read = usock_read,
	.write = usock_write,
	.readv = usock_readv,
	.writev = usock_writev,
	.setsockopt = usock_setsockopt,
	.getsockopt = usock_getsockopt,
	.fcntl = u_fcntl,
	.ioctl = u_ioctl,
	.poll = usock_poll,
	.shutdown = usock_shutdown,
	.close = usock_close,
	.topo = topo_usock,
	.enter = topo_enter_usock,
	.sleep_ms = topo_sleep_usock,
	.capture_start = topo_capture_start_usock,
	.capture_take = topo_capture_take_usock,
	.inject = u_inject,
};
