/* SPDX-License-Identifier: MIT */
/*
 * sockapi.h - one scenario, two stacks
 *
 * Every conformance scenario is written once against struct sockapi and run
 * twice: with the kernel's own calls (sockapi_kernel) and with usock's
 * (sockapi_usock).  Both runs must pass: expected values are what the kernel
 * does.  Each Criterion test runs in its own process; the harness gives the
 * kernel run a private network namespace (unshare(CLONE_NEWNET), lo up) and
 * the usock run a fresh default namespace, so fixed ports and sysctl changes
 * never leak between tests.
 *
 * Hosts: a scenario that needs several hosts describes them in topology text
 * (see topo_setup) and switches the calling thread between them with
 * api->enter("A").  The kernel run makes real network namespaces joined by
 * veth; the usock run makes usock namespaces joined by in-memory veth, from
 * the same text.
 */
#ifndef USOCK_TESTS_SOCKAPI_H
#define USOCK_TESTS_SOCKAPI_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <netinet/in.h>

struct frame {
	uint8_t *data;
	size_t len;
};

struct sockapi {
	const char *name;	/* "kernel" or "usock" */
	bool is_kernel;
	int (*socket)(int domain, int type, int protocol);
	int (*bind)(int fd, const struct sockaddr *a, socklen_t l);
	int (*connect)(int fd, const struct sockaddr *a, socklen_t l);
	int (*listen)(int fd, int backlog);
	int (*accept4)(int fd, struct sockaddr *a, socklen_t *l, int flags);
	int (*getsockname)(int fd, struct sockaddr *a, socklen_t *l);
	int (*getpeername)(int fd, struct sockaddr *a, socklen_t *l);
	ssize_t (*send)(int fd, const void *b, size_t n, int flags);
	ssize_t (*sendto)(int fd, const void *b, size_t n, int flags, const struct sockaddr *a,
			  socklen_t l);
	ssize_t (*sendmsg)(int fd, const struct msghdr *m, int flags);
	int (*sendmmsg)(int fd, struct mmsghdr *v, unsigned n, int flags);
	ssize_t (*recv)(int fd, void *b, size_t n, int flags);
	ssize_t (*recvfrom)(int fd, void *b, size_t n, int flags, struct sockaddr *a,
			    socklen_t *l);
	ssize_t (*recvmsg)(int fd, struct msghdr *m, int flags);
	int (*recvmmsg)(int fd, struct mmsghdr *v, unsigned n, int flags, struct timespec *t);
	ssize_t (*read)(int fd, void *b, size_t n);
	ssize_t (*write)(int fd, const void *b, size_t n);
	ssize_t (*readv)(int fd, const struct iovec *v, int n);
	ssize_t (*writev)(int fd, const struct iovec *v, int n);
	int (*setsockopt)(int fd, int lvl, int name, const void *v, socklen_t l);
	int (*getsockopt)(int fd, int lvl, int name, void *v, socklen_t *l);
	int (*fcntl)(int fd, int cmd, long arg);
	int (*ioctl)(int fd, unsigned long req, void *arg);
	int (*poll)(struct pollfd *p, nfds_t n, int timeout);
	int (*shutdown)(int fd, int how);
	int (*close)(int fd);

	/*
	 * topo - build hosts from topology text, one command per line:
	 *   host A                      a new host (network namespace) named A
	 *   A: <ip command>             run `ip <command>` on host A, e.g.
	 *   A: link add veth0 type veth peer name veth1 netns B
	 *   A: addr add 198.18.0.1/24 dev veth0
	 *   A: link set veth0 up
	 *   A: route add default via 198.18.0.254
	 *   A: sysctl net.ipv4.neigh.veth0.base_reachable_time_ms=2000
	 * lo is up with 127.0.0.1/8 on every host.  Blank lines and # comments
	 * are ignored.  Return: 0, or -1 (the failing line is printed).
	 */
	int (*topo)(const char *text);
	/* enter - make host the calling thread's network namespace ("" = the test's default). */
	int (*enter)(const char *host);
	/*
	 * sleep_ms - let ms of the stack's time pass: real sleep for the kernel;
	 * for usock, the topology's namespaces run on virtual time and are
	 * advanced (timers fire), so a 5-second neighbour timer costs nothing.
	 */
	void (*sleep_ms)(unsigned ms);
	/*
	 * capture_start - record every frame that crosses dev of host (both
	 * directions).  Return: a handle >= 0, or -1.
	 * capture_take - the frames recorded so far (caller frees with
	 * capture_free). Return: count, or -1.
	 */
	int (*capture_start)(const char *host, const char *dev);
	int (*capture_take)(int handle, struct frame **frames);
	/*
	 * inject - send one raw Ethernet frame (len bytes from the destination
	 * MAC on, no FCS) out of dev of the calling thread's current host
	 * (api->enter), as an AF_PACKET socket does: it crosses the link, and
	 * any capture of it, as if that host had sent it, and nothing of the
	 * host's own stack sees it leave.  For hand-made segments a scenario
	 * cannot get a socket to send.  Return: 0, or -1 with errno (ENODEV
	 * no such device, ENETDOWN it is down, EINVAL shorter than an
	 * Ethernet header, EMSGSIZE longer than the device's MTU allows).
	 */
	int (*inject)(const char *dev, const void *frame, size_t len);
};

extern const struct sockapi sockapi_kernel;
extern const struct sockapi sockapi_usock;
void capture_free(struct frame *f, int n);

/*
 * CONFORMANCE(suite, name, ...) { body using `api` } - defines the scenario
 * and two Criterion tests, suite/name_kernel and suite/name_usock; extra
 * Criterion options (.signal = SIGPIPE, .timeout = 10) go in the dots.
 * The usock run is skipped (reported, never silently passed) while the
 * scenario is listed in tests/conformance/pending.txt with its reason.
 */
void conf_setup_kernel(void);
void conf_setup_usock(void);
void conf_teardown(void);
void conf_check_pending(const char *suite, const char *name);
/*
 * conf_finish - called at the end of every scenario body (inside the test,
 * because Criterion 2.4 ignores assertion failures in .fini): for usock,
 * every packet buffer of every namespace must be back in its pool.
 */
void conf_finish(const struct sockapi *api);

#define CONFORMANCE(suite, name, ...)                                               \
	static void suite##__##name(const struct sockapi *api);                     \
	Test(suite, name##_kernel, .init = conf_setup_kernel, .fini = conf_teardown, \
	     ##__VA_ARGS__)                                                         \
	{                                                                           \
		suite##__##name(&sockapi_kernel);                                   \
		conf_finish(&sockapi_kernel);                                       \
	}                                                                           \
	Test(suite, name##_usock, .init = conf_setup_usock, .fini = conf_teardown,  \
	     ##__VA_ARGS__)                                                         \
	{                                                                           \
		conf_check_pending(#suite, #name "_usock");                         \
		suite##__##name(&sockapi_usock);                                    \
		conf_finish(&sockapi_usock);                                        \
	}                                                                           \
	static void suite##__##name(const struct sockapi *api)

/* Handy constructors. */
struct sockaddr_in sin4(const char *ip, uint16_t port);
/* bound_udp - a UDP socket bound to ip:port (port 0: ephemeral); *out gets the bound address. */
int bound_udp(const struct sockapi *api, const char *ip, uint16_t port, struct sockaddr_in *out);

/*
 * ---- additions by the harness (tests/lib/conf.c, tests/lib/topo.c) ----
 */

/* conf_api - the stack of the running test (set by conf_setup_*), NULL before. */
const struct sockapi *conf_api(void);
/*
 * conf_sysctl - write a per-namespace setting by its full sysctl name, e.g.
 * "net.ipv4.ip_local_port_range" = "40000 40001", on host ("" or NULL = the
 * test's own namespace).  Kernel: /proc/sys/net/... inside that namespace;
 * usock: usock_sysctl() without the "net." prefix.  conf_sysctl_get reads.
 * Return: 0, or -1 with errno.
 */
int conf_sysctl(const struct sockapi *api, const char *host, const char *name, const char *val);
int conf_sysctl_get(const struct sockapi *api, const char *host, const char *name, char *out,
		    size_t outlen);
/* conf_bad_ptr - the start of a PROT_NONE page (one per process): an address that faults. */
void *conf_bad_ptr(void);
/* conf_fill - a reproducible byte pattern derived from seed (for byte-exact checks). */
void conf_fill(void *buf, size_t n, unsigned seed);
/*
 * conf_recv_wait - wait up to ms for fd to be readable (api->poll), then
 * receive one datagram with flags|MSG_DONTWAIT.  Return: as recvfrom(), -1
 * with EAGAIN on timeout.
 */
ssize_t conf_recv_wait(const struct sockapi *api, int fd, void *buf, size_t n, int flags, int ms,
		       struct sockaddr_in *from);
/* conf_drain - read and drop every queued datagram. Return: how many. */
int conf_drain(const struct sockapi *api, int fd);

/*
 * CONF_ERR(call, err) / CONF_RET(call, want) / CONF_OK(call) - assert that
 * call fails with -1 and errno err / returns want / does not fail; each
 * yields call's result as a long.  The message names the stack, the call and
 * what came back.  Need <criterion/criterion.h>, <errno.h>, <string.h> and
 * `api` in scope.
 *
 * CONF_CHECK_(call, ok, fmt...) is their common core: call with errno
 * cleared, then cr_assert(ok, fmt...), where ok and the message may read
 * conf_r_ (the result) and conf_e_ (errno right after the call).  The _
 * forms taking `what` let a shorthand (conf_util.h) name the call as its
 * own caller wrote it.
 */
#define CONF_CHECK_(call, ok, ...)                                                   \
	({                                                                           \
		long conf_r_;                                                        \
		int conf_e_;                                                         \
		errno = 0;                                                           \
		conf_r_ = (long)(call);                                              \
		conf_e_ = errno;                                                     \
		cr_assert(ok, __VA_ARGS__);                                          \
		conf_r_;                                                             \
	})
#define CONF_ERR_(call, what, err)                                                   \
	CONF_CHECK_(call, conf_r_ == -1 && conf_e_ == (err),                         \
		    "%s: %s: got %ld errno %d (%s), want -1 errno %d (%s)", api->name, \
		    what, conf_r_, conf_e_, strerror(conf_e_), (int)(err), strerror(err))
#define CONF_OK_(call, what)                                                         \
	CONF_CHECK_(call, conf_r_ >= 0, "%s: %s: -1 %s", api->name, what, strerror(conf_e_))
#define CONF_ERR(call, err) CONF_ERR_(call, #call, err)
#define CONF_OK(call) CONF_OK_(call, #call)
#define CONF_RET(call, want)                                                         \
	CONF_CHECK_(call, conf_r_ == (long)(want), "%s: %s: got %ld (errno %d %s), want %ld", \
		    api->name, #call, conf_r_, conf_e_,                              \
		    conf_r_ < 0 ? strerror(conf_e_) : "-", (long)(want))

/*
 * conf_topo_pair - two hosts joined by veth: A veth0 198.18.0.1/24, B veth1
 * 198.18.0.2/24, both up (topology text for api->topo).
 */
extern const char conf_topo_pair[];

/*
 * conf_expect_dgram - receive one datagram on fd within 1 s and assert it is
 * exactly want/n.  conf_expect_none - assert nothing is queued on fd.
 */
void conf_expect_dgram(const struct sockapi *api, int fd, const void *want, size_t n);
void conf_expect_none(const struct sockapi *api, int fd);
/*
 * conf_stalled_sender - builds conf_topo_pair with A's ARP retransmit time
 * at 300 ms, enters A and returns a UDP socket there with the smallest
 * SO_SNDBUF (4608).  Datagrams it sends to *dst (198.18.0.9:1234, on-link,
 * owned by nobody) wait in A's neighbour queue, still charged to the send
 * buffer, until ARP gives up (3 probes, ~0.9 s later): so the send buffer
 * fills, and empties when time passes (api->sleep_ms).
 */
int conf_stalled_sender(const struct sockapi *api, struct sockaddr_in *dst);

/*
 * topo.c: the host entries of sockapi_kernel and sockapi_usock.  Names of
 * kernel hosts are "uc<pid>_<host>" (ip netns), so parallel and crashed
 * tests never clash; topo_clean_stale() deletes those of dead pids.
 * capture_take returns the frames since the previous take (or the start).
 */
int topo_kernel(const char *text);
int topo_usock(const char *text);
int topo_enter_kernel(const char *host);
int topo_enter_usock(const char *host);
/* topo_current - the host the calling thread last entered ("" = the test's own, as at start). */
const char *topo_current(void);
void topo_sleep_kernel(unsigned ms);
void topo_sleep_usock(unsigned ms);
int topo_capture_start_kernel(const char *host, const char *dev);
int topo_capture_start_usock(const char *host, const char *dev);
int topo_capture_take_kernel(int handle, struct frame **frames);
int topo_capture_take_usock(int handle, struct frame **frames);
/* topo_netns_fd - an fd of kernel host's namespace ("" = the test's own), or -1. */
int topo_netns_fd(const char *host);
struct usock_netns;
/* topo_usock_ns - the usock namespace of host ("" = the default), or NULL. */
struct usock_netns *topo_usock_ns(const char *host);
void topo_set_own_netns(int fd);
void topo_clean_stale(void);
void topo_teardown_kernel(void);
/* topo_teardown_usock - forget the hosts, delete the pcap files (the leak check is conf_finish). */
void topo_teardown_usock(void);

#endif
