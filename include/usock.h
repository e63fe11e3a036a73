/* SPDX-License-Identifier: MIT */
/*
 * usock.h - the public API of usock, a user-space Linux socket stack
 *
 * Every socket call is the POSIX name prefixed usock_, with the system's own
 * signature, types and errno: a program that works with send(2) works with
 * usock_send() the same way. Descriptors returned by usock_socket() are real
 * kernel descriptors (an eventfd), so they never collide with the program's
 * own files; calls on a descriptor usock does not own get the kernel's answer.
 *
 * Namespaces: every process has a default namespace with a loopback interface
 * (lo, 127.0.0.1/8), created on first use. More namespaces are made with
 * usock_netns_new() and configured in iproute2's words with usock_ip().
 * A thread's current namespace decides where usock_socket() creates.
 */
#ifndef USOCK_H
#define USOCK_H

#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the socket calls ---------------------------------------------------- */

/* struct mmsghdr is glibc's, declared with _GNU_SOURCE (as for sendmmsg(2)). */
struct mmsghdr;

int usock_socket(int domain, int type, int protocol);
int usock_bind(int fd, const struct sockaddr *addr, socklen_t len);
int usock_connect(int fd, const struct sockaddr *addr, socklen_t len);
int usock_listen(int fd, int backlog);
int usock_accept(int fd, struct sockaddr *addr, socklen_t *len);
int usock_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
int usock_getsockname(int fd, struct sockaddr *addr, socklen_t *len);
int usock_getpeername(int fd, struct sockaddr *addr, socklen_t *len);

ssize_t usock_send(int fd, const void *buf, size_t len, int flags);
ssize_t usock_sendto(int fd, const void *buf, size_t len, int flags,
		     const struct sockaddr *dst, socklen_t dstlen);
ssize_t usock_sendmsg(int fd, const struct msghdr *msg, int flags);
int usock_sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags);

ssize_t usock_recv(int fd, void *buf, size_t len, int flags);
ssize_t usock_recvfrom(int fd, void *buf, size_t len, int flags,
		       struct sockaddr *src, socklen_t *srclen);
ssize_t usock_recvmsg(int fd, struct msghdr *msg, int flags);
int usock_recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags,
		   struct timespec *timeout);

ssize_t usock_read(int fd, void *buf, size_t len);
ssize_t usock_write(int fd, const void *buf, size_t len);
ssize_t usock_readv(int fd, const struct iovec *iov, int iovcnt);
ssize_t usock_writev(int fd, const struct iovec *iov, int iovcnt);

int usock_setsockopt(int fd, int level, int name, const void *val, socklen_t len);
int usock_getsockopt(int fd, int level, int name, void *val, socklen_t *len);
int usock_fcntl(int fd, int cmd, ...);
int usock_ioctl(int fd, unsigned long req, ...);
int usock_poll(struct pollfd *fds, nfds_t nfds, int timeout);
int usock_shutdown(int fd, int how);
int usock_close(int fd);

/* usock_is_socket - 1 if fd is a usock socket, 0 otherwise (never sets errno). */
int usock_is_socket(int fd);

/* ---- namespaces ---------------------------------------------------------- */

struct usock_netns;

/*
 * usock_netns_new - a new, empty namespace with a loopback interface (down
 * state mirrors Linux: lo is brought up, 127.0.0.1/8 and ::1 assigned, as
 * in a fresh `ip netns add`, where lo is down; usock brings it up so that the
 * default namespace works at once; pass flags USOCK_NETNS_LO_DOWN to keep it
 * down).  name is used in usock_ip() "netns NAME" and pcap file names.
 * Return: the namespace, or NULL with errno ENOMEM/EEXIST.
 */
#define USOCK_NETNS_LO_DOWN 0x1
#define USOCK_NETNS_VIRTUAL_TIME 0x2
struct usock_netns *usock_netns_new(const char *name, unsigned flags);
/* usock_netns_free - destroy a namespace; its sockets must be closed first. */
void usock_netns_free(struct usock_netns *ns);
/* usock_netns_default - the process's default namespace, created on first use. */
struct usock_netns *usock_netns_default(void);
/* usock_netns_find - a namespace by name, or NULL. */
struct usock_netns *usock_netns_find(const char *name);
/* usock_netns_set - make ns the calling thread's current namespace (NULL: default). */
void usock_netns_set(struct usock_netns *ns);
struct usock_netns *usock_netns_current(void);

/*
 * usock_ip - configure a namespace in iproute2's words, one command per call
 * without the leading "ip", e.g. "link add veth0 type veth peer name veth1
 * netns B", "addr add 198.18.0.1/24 dev veth0", "link set veth0 up",
 * "route add default via 198.18.0.254", "link set veth0 mtu 1280",
 * "neigh show", and tc's netem on a veth end or TAP device: "qdisc add dev veth0 root
 * netem loss 5% delay 10ms 2ms duplicate 1% reorder 25% rate 10mbit
 * seed 42", "qdisc change|replace|del ...", "qdisc show [dev veth0]"
 * (with counters).  Output of "show" commands goes to out (may be NULL).
 * Return: 0, or -1 with errno (EINVAL for a command usock does not know).
 */
int usock_ip(struct usock_netns *ns, const char *cmd, char *out, size_t outlen);

/*
 * usock_sysctl - read or write a per-namespace setting by its /proc/sys/net
 * name, e.g. "ipv4.ip_local_port_range", "core.optmem_max",
 * "core.wmem_default", "ipv4.neigh.veth0.base_reachable_time_ms".  Values
 * are text as in /proc.  Defaults are read from the host at namespace
 * creation.  val NULL reads into out.
 * Return: 0, or -1 with errno ENOENT/EINVAL.
 */
int usock_sysctl(struct usock_netns *ns, const char *name, const char *val,
		 char *out, size_t outlen);

/* ---- time ---------------------------------------------------------------- */

/*
 * A namespace made with USOCK_NETNS_VIRTUAL_TIME reads a clock that moves only
 * when told: usock_clock_advance() steps it and runs the timers that fall due,
 * so a test of a 5-second neighbour timer takes microseconds and always gives
 * the same result.
 */
uint64_t usock_clock_now_ns(struct usock_netns *ns);
void usock_clock_advance(struct usock_netns *ns, uint64_t ns_delta);
/*
 * usock_clock_advance_all - advance every virtual-time namespace of the
 * process together by ns_delta, in lock-step: from the latest of their
 * clocks, each step moves all of them to the earliest timer due among them
 * and fires it, so frames crossing between namespaces (an impaired veth's
 * delayed frames) arrive at the same virtual instant on both sides and the
 * order of events is the same on every run.  Call it from one thread while
 * no other thread uses those namespaces.
 */
void usock_clock_advance_all(uint64_t ns_delta);

/* ---- capture ------------------------------------------------------------- */

/*
 * usock_pcap_open - write every frame that crosses ifname (both directions)
 * to a pcap file at path (LINKTYPE_ETHERNET; lo frames get a dummy Ethernet
 * header as Linux's lo does).  The environment variable USOCK_PCAP=path does
 * this for every link of every namespace (one file, all links).
 * Return: 0, or -1 with errno.
 */
int usock_pcap_open(struct usock_netns *ns, const char *ifname, const char *path);

/* ---- link backends ------------------------------------------------------- */

/*
 * usock_link_tap - attach a kernel TAP device (created if missing) as interface
 * ifname of ns.  Needs CAP_NET_ADMIN.  The TAP device's name in the kernel is
 * tapname.  Return: 0, or -1 with errno.
 */
int usock_link_tap(struct usock_netns *ns, const char *ifname, const char *tapname);

/* ---- diagnostics --------------------------------------------------------- */

/* usock_netns_memory - bytes of the namespace's arena in use (sockets, tables, carved buffers). */
size_t usock_netns_memory(struct usock_netns *ns);
/* usock_netns_pools_full - 1 when every packet buffer is back in its pool (tests: no leak). */
int usock_netns_pools_full(struct usock_netns *ns);
/* usock_netns_foreach - call fn for every namespace of the process. */
void usock_netns_foreach(void (*fn)(struct usock_netns *ns, void *arg), void *arg);

#ifdef __cplusplus
}
#endif
#endif /* USOCK_H */
