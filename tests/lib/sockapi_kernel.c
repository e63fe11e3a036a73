/* SPDX-License-Identifier: MIT */
/*
 * sockapi_kernel.c - the kernel's own socket calls behind struct sockapi
 *
 * Plain libc calls: this table is the oracle every conformance scenario is
 * measured against.  Only the host/topology entries (topo, enter, sleep_ms,
 * capture) are more than a forward; they live in topo.c.
 */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

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
};
