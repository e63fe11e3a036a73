/* SPDX-License-Identifier: MIT */
/*
 * sockapi_usock.c - usock's socket calls behind struct sockapi
 *
 * Every entry forwards to the usock_ function of the same name; the
 * host/topology entries (usock namespaces, virtual time, pcap capture) live
 * in topo.c.
 */
#include "usock.h"

#include "sockapi.h"

static int u_fcntl(int fd, int cmd, long arg)
{
	return usock_fcntl(fd, cmd, arg);
}

static int u_ioctl(int fd, unsigned long req, void *arg)
{
	return usock_ioctl(fd, req, arg);
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
};
