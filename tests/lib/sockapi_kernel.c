/* SPDX-License-Identifier: MIT */
/*
 * sockapi_kernel.c - the kernel's own socket calls behind struct sockapi
 *
 * Plain libc calls: this table is the oracle every conformance scenario is
 * measured against.  Only the host/topology entries (topo, enter, sleep_ms,
 * capture) are more than a forward; they live in topo.c, but for inject,
 * an AF_PACKET socket here.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "sockapi.h"

static int k_fcntl(int fd, int cmd, long arg)
{
	return fcntl(fd, cmd, arg);
}

static int k_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg);
}

/* sendmmsg/recvmmsg take unsigned int vlen; libc declares them so. */
static int k_sendmmsg(int fd, struct mmsghdr *v, unsigned n, int flags)
{
	return sendmmsg(fd, v, n, flags);
}

static int k_recvmmsg(int fd, struct mmsghdr *v, unsigned n, int flags, struct timespec *t)
{
	return recvmmsg(fd, v, n, flags, t);
}

/*
 * Send frame out of dev with a packet socket made in the calling thread's
 * network namespace (the host api->enter chose); protocol 0, so it never
 * receives anything.  The kernel checks the length itself (packet_snd:
 * EINVAL below the link header, EMSGSIZE above the MTU).
 */
static int k_inject(const char *dev, const void *frame, size_t len)
{
	const unsigned char *f = frame;
	struct sockaddr_ll sll;
	struct ifreq ifr;
	ssize_t n;
	int fd, err = 0;

	if (strlen(dev) >= sizeof(ifr.ifr_name))
		return errno = ENODEV, -1;
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, dev);
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	if (len >= ETH_HLEN)
		memcpy(&sll.sll_protocol, f + 12, 2);	/* network order, as in the frame */
	if (ioctl(fd, SIOCGIFINDEX, &ifr) != 0) {
		err = errno;
	} else {
		sll.sll_ifindex = ifr.ifr_ifindex;
		n = sendto(fd, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll));
		if (n < 0)
			err = errno;
		else if ((size_t)n != len)
			err = EMSGSIZE;
	}
	close(fd);
	if (err)
		return errno = err, -1;
	return 0;
}

const struct sockapi sockapi_kernel = {
	.name = "kernel",
	.is_kernel = true,
	.socket = socket,
	.bind = bind,
	.connect = connect,
	.listen = listen,
	.accept4 = accept4,
	.getsockname = getsockname,
	.getpeername = getpeername,
	.send = send,
	.sendto = sendto,
	.sendmsg = sendmsg,
	.sendmmsg = k_sendmmsg,
	.recv = recv,
	.recvfrom = recvfrom,
	.recvmsg = recvmsg,
	.recvmmsg = k_recvmmsg,
	.read = read,
	.write = write,
	.readv = readv,
	.writev = writev,
	.setsockopt = setsockopt,
	.getsockopt = getsockopt,
	.fcntl = k_fcntl,
	.ioctl = k_ioctl,
	.poll = poll,
	.shutdown = shutdown,
	.close = close,
	.topo = topo_kernel,
	.enter = topo_enter_kernel,
	.sleep_ms = topo_sleep_kernel,
	.capture_start = topo_capture_start_kernel,
	.capture_take = topo_capture_take_kernel,
	.inject = k_inject,
};
