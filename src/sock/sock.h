/* SPDX-License-Identifier: MIT */
/*
 * sock.h - the generic socket layer's interface to the protocols
 *
 * A struct sock is one socket.  Its identity is a kernel eventfd (sk->fd)
 * whose number the program sees, so it never collides with the program's own
 * descriptors.  Every field is guarded by the namespace lock (sk->ns).
 * Protocols embed struct sock at the start of their own object (udp_sock,
 * later tcp_sock) and provide a struct proto_ops; the generic layer does the
 * copying from and to the caller (guarded: invalid pointers give EFAULT),
 * flag and length checks common to all protocols, the waiting, and the
 * SOL_SOCKET options.
 */
#ifndef USOCK_SOCK_SOCK_H
#define USOCK_SOCK_SOCK_H

#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "buf/pkt.h"
#include "net/netns.h"

struct sock;

/* Bytes of every socket object in the NSC_SOCK cache (protocol objects fit inside). */
#define SOCK_OBJ_SIZE 1024
/* ... and in the NSC_SOCK_TCP cache, for protocols whose object is larger. */
#define SOCK_OBJ_SIZE_LARGE 2048

/* the kernel-internal "no such ioctl here" (not in the UAPI headers) */
#define ENOIOCTLCMD 515

#define RCV_SHUTDOWN 1
#define SEND_SHUTDOWN 2

/* sk->flags: the SOL_SOCKET booleans (sock_flag in the kernel). */
enum {
	SKF_BROADCAST = 1u << 0,
	SKF_REUSEADDR = 1u << 1,
	SKF_REUSEPORT = 1u << 2,
	SKF_DONTROUTE = 1u << 3,
	SKF_KEEPALIVE = 1u << 4,
	SKF_TIMESTAMP = 1u << 5,	/* SO_TIMESTAMP (timeval) */
	SKF_TIMESTAMPNS = 1u << 6,	/* SO_TIMESTAMPNS */
	SKF_RXQ_OVFL = 1u << 7,
	SKF_OOBINLINE = 1u << 8,
	SKF_LINGER = 1u << 9,
	SKF_PASSCRED = 1u << 10,
	SKF_ZEROCOPY = 1u << 11,
	SKF_SNDBUF_LOCK = 1u << 12,
	SKF_RCVBUF_LOCK = 1u << 13,
	SKF_TIMESTAMP_NEW = 1u << 14,
	SKF_STAMP_IOCTL = 1u << 15,	/* SIOCGSTAMP asked once: stamp from now on */
};

/* inet flags (inet_sock bits). */
enum {
	INF_PKTINFO = 1u << 0,
	INF_RECVTOS = 1u << 1,
	INF_RECVTTL = 1u << 2,
	INF_RECVERR = 1u << 3,
	INF_FREEBIND = 1u << 4,
	INF_TRANSPARENT = 1u << 5,
	INF_RECVOPTS = 1u << 6,
	INF_RETOPTS = 1u << 7,
	INF_ORIGDSTADDR = 1u << 8,
	INF_BIND_NO_PORT = 1u << 9,
	INF_MC_NOLOOP = 1u << 10,	/* IP_MULTICAST_LOOP turned off (mc_loop is on by default) */
};

/* A waiter on a socket: one per blocked thread (the kernel's wait_queue_entry). */
struct wait_entry {
	struct wait_entry *next, **pprev;
	int efd;		/* the thread's eventfd */
	uint32_t events;	/* POLL* bits it waits for */
	bool woken;
};

/*
 * struct sk_msg - a send or receive request after the generic layer checked
 * and copied what it can: the address and control buffer are kernel copies,
 * the iovec array is a kernel copy of the caller's (its bases still point
 * into the caller's memory: protocols copy payload with sk_copy_from_iov /
 * sk_copy_to_iov, which are guarded).
 */
struct sk_msg {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	bool has_addr;		/* a destination was given (sendto's may have length 0) */
	const struct iovec *iov;
	size_t iovlen;
	size_t len;		/* sum of iov_len (checked against SSIZE_MAX) */
	uint8_t *control;	/* kernel copy (send) */
	size_t controllen;
	/* receive side: the source address goes in addr/addrlen */
	void *user_control;	/* caller's control buffer (recv) */
	size_t user_controllen;
	size_t control_used;	/* bytes of control written (recv) */
	int msg_flags;		/* MSG_TRUNC, MSG_CTRUNC ... (recv) */
	size_t iov_off;		/* progress through iov (stream protocols) */
};

struct proto_ops {
	int family, type, protocol;
	/* size of the protocol object (<= SOCK_OBJ_SIZE) */
	size_t obj_size;
	int (*init)(struct sock *sk);
	/* release - the last descriptor closed; free everything but the object. */
	void (*release)(struct sock *sk);
	int (*bind)(struct sock *sk, const struct sockaddr *a, socklen_t len);
	int (*connect)(struct sock *sk, const struct sockaddr *a, socklen_t len, int flags);
	int (*listen)(struct sock *sk, int backlog);
	int (*getname)(struct sock *sk, struct sockaddr_storage *a, socklen_t *len, bool peer);
	ssize_t (*sendmsg)(struct sock *sk, struct sk_msg *m, int flags);
	ssize_t (*recvmsg)(struct sock *sk, struct sk_msg *m, int flags);
	/* recvmsg_fast - without the namespace lock (sock_get_ref held); -SK_SLOWPATH to fall back. May be NULL. */
	ssize_t (*recvmsg_fast)(struct sock *sk, struct sk_msg *m, int flags);
	/* poll - the POLL* mask now (lock held). */
	uint32_t (*poll)(struct sock *sk);
	int (*shutdown)(struct sock *sk, int how);
	/* setsockopt/getsockopt for levels other than SOL_SOCKET; val is a kernel copy. */
	int (*setsockopt)(struct sock *sk, int level, int name, const void *val, socklen_t len);
	int (*getsockopt)(struct sock *sk, int level, int name, void *val, socklen_t *len);
	/* ioctl - protocol ioctls (arg is the caller's pointer). Return: -ENOIOCTLCMD if unknown. */
	int (*ioctl)(struct sock *sk, unsigned long req, void *arg);
	/* sock_opt_changed - a SOL_SOCKET option changed (e.g. buffers); may be NULL. */
	void (*sol_changed)(struct sock *sk, int name);
	/*
	 * accept - take a connection from a listener; flags is O_NONBLOCK
	 * when the listener's file is non-blocking (inet_accept's arg->flags).
	 * *child comes with one reference, which becomes its descriptor's
	 * (sock_attach_fd).  May be NULL (EOPNOTSUPP).
	 */
	int (*accept)(struct sock *sk, struct sock **child, int flags);
	/*
	 * close - the descriptor goes (before the generic layer drops its
	 * reference).  A protocol whose connection outlives the descriptor
	 * (TCP) takes a reference here and drops it with sock_put_locked when
	 * the connection ends.  May be NULL.
	 */
	void (*close)(struct sock *sk);
	/* backlog_rcv - a packet parked on sk->backlog while owned (sk_backlog_rcv); consumes it. May be NULL. */
	void (*backlog_rcv)(struct sock *sk, struct pkt *pk);
	/* wmem_queued - bytes on the protocol's send queues (sk_wmem_queued, SO_MEMINFO); may be NULL. */
	uint32_t (*wmem_queued)(const struct sock *sk);
	/* set_peek_off - SO_PEEK_OFF (proto_ops.set_peek_off); NULL: EOPNOTSUPP both ways. */
	int (*set_peek_off)(struct sock *sk, int val);
};

struct sock {
	/*
	 * Three cache lines that two threads do not share: what the demux
	 * and the sender read (set at bind/connect, rarely written), what the
	 * receiver writes, what the sender writes.  Mixing them made the
	 * sender's socket lookup miss the cache on every datagram.
	 */
	/* first: the object cache links free objects through their first word,
	 * and a lockless reader may still read a freed socket's ns */
	void *cache_link;
	struct netns *ns;
	const struct proto_ops *ops;
	struct sock *hnext;	/* port table chain */
	int fd;			/* the eventfd whose number is the socket's (-1: none yet, an unaccepted child) */
	uint8_t cache_idx;	/* NSC_SOCK or NSC_SOCK_TCP */
	int family, type, protocol;
	uint32_t flags;		/* SKF_* */
	uint32_t inet_flags;	/* INF_* */
	uint32_t rcv_saddr;	/* bound address (network order) */
	uint32_t saddr;		/* source used for sending */
	uint32_t daddr;		/* peer, when connected */
	uint16_t num;		/* local port, host order (0: unbound) */
	uint16_t sport, dport;	/* network order */
	int bound_dev_if;
	uint8_t tos, ttl;	/* ttl 0: namespace default */
	uint8_t pmtudisc;
	uint8_t mc_ttl;
	uint8_t shutdown;	/* RCV_SHUTDOWN | SEND_SHUTDOWN */
	uint8_t state;		/* protocol-defined; UDP: 0 or TCP_ESTABLISHED as Linux */
	bool closed;		/* the descriptor is gone */
	bool nonblock;		/* O_NONBLOCK on the open file */
	bool bind_addr_locked, bind_port_locked;	/* SOCK_BINDADDR_LOCK etc. */
	int sndbuf, rcvbuf;	/* as SO_SNDBUF/SO_RCVBUF report them (doubled) */
	int rcvlowat;
	int peek_off;		/* sk_peek_off: SO_PEEK_OFF, < 0 when off */
	int64_t rcvtimeo_ns, sndtimeo_ns;	/* -1: forever */
	int priority;
	uint32_t mark;
	int linger_secs;
	uint32_t busy_poll_us;	/* spin this long before sleeping (SO_BUSY_POLL, else the namespace's) */
	int busy_poll_set;	/* SO_BUSY_POLL as set, for getsockopt (Linux's default: 0) */
	unsigned refs;		/* the descriptor + each blocked caller */
	int err;		/* sk_err: reported once by the next call or SO_ERROR */
	/*
	 * owned_by_user: a call on this socket is running (lock_sock).  A
	 * protocol that checks it (TCP) parks segments arriving meanwhile -
	 * loopback answers generated inside the call itself - on backlog and
	 * ops->backlog_rcv takes them when the call ends or waits
	 * (release_sock), so a protocol never re-enters itself.
	 */
	bool owned_by_user;
	struct pkt_queue backlog;
	int err_soft;
	struct pkt_queue errq;	/* MSG_ERRQUEUE */

	/*
	 * The queue the stack fills, under rq_lock (the kernel's
	 * sk_receive_queue.lock), and the reader's own queue, under
	 * reader_lock (udp's reader_queue): a receiver splices the whole
	 * shared queue across in one step and then takes datagrams from its
	 * own, on a cache line the sender never touches, and never needs the
	 * namespace lock.  forward_deficit: udp_rmem_release's lazy release.
	 */
	_Alignas(64) atomic_flag rq_lock;
	struct pkt_queue rcvq;
	uint32_t rmem;		/* bytes charged (truesize), queue and reader */
	uint32_t drops;		/* receive-queue drops (SO_RXQ_OVFL) */

	_Alignas(64) atomic_flag reader_lock;
	struct pkt_queue reader;
	uint32_t forward_deficit;
	uint64_t stamp_ns;	/* realtime of the last packet read (SIOCGSTAMP); 0: not stamped */
	bool stamp_read;	/* a packet has been read (else SIOCGSTAMP is ENOENT) */

	/*
	 * The sender's and the waker's line.  arefs counts references taken
	 * without the namespace lock (sock_get_ref); it survives the object's
	 * reuse, so a racing reader's +1/-1 always balances.  free_pending:
	 * the last locked reference went while arefs was held; the last arefs
	 * holder frees.  ev_seq counts wake-ups, for callers that spin before
	 * they sleep.
	 */
	_Alignas(64) uint32_t wmem;	/* bytes charged (truesize) */
	bool wmem_orphaned;	/* closed; freed when wmem drains (sk_wmem_release) */
	_Atomic uint32_t ev_seq;
	atomic_flag wq_lock;	/* guards waiters: pollers register without the namespace lock */
	struct wait_entry *waiters;
	_Atomic unsigned arefs;
	_Atomic bool free_pending;
};

static inline void sk_rq_lock(struct sock *sk)
{
	while (atomic_flag_test_and_set_explicit(&sk->rq_lock, memory_order_acquire))
		__builtin_ia32_pause();
}

static inline void sk_rq_unlock(struct sock *sk)
{
	atomic_flag_clear_explicit(&sk->rq_lock, memory_order_release);
}

static inline void sk_reader_lock(struct sock *sk)
{
	while (atomic_flag_test_and_set_explicit(&sk->reader_lock, memory_order_acquire))
		__builtin_ia32_pause();
}

static inline void sk_reader_unlock(struct sock *sk)
{
	atomic_flag_clear_explicit(&sk->reader_lock, memory_order_release);
}

/* sk_rx_pending - datagrams waiting, in either queue (racy read: for poll). */
static inline unsigned sk_rx_pending(const struct sock *sk)
{
	return sk->rcvq.count + sk->reader.count;
}

/* A protocol's fast path cannot finish without the namespace lock. */
#define SK_SLOWPATH 4096

static inline struct sock *sk_from(void *obj) { return obj; }

/* ---- descriptors ---- */
/* sock_fd_lookup - the socket for fd, locked (its namespace lock taken) and referenced; NULL if fd is not ours. */
struct sock *sock_get_locked(int fd);
/* sock_put_unlock - drop the reference from sock_get_locked and unlock. */
void sock_put_unlock(struct sock *sk);
/* sock_get_ref - the socket for fd, referenced but NOT locked; NULL if not ours. */
struct sock *sock_get_ref(int fd);
/* sock_put_ref - drop a sock_get_ref reference (may free a socket closed meanwhile). */
void sock_put_ref(struct sock *sk);
/*
 * sk_free_pkt - free a packet from a thread that may not hold the namespace
 * lock: simple ones are gathered per thread and handed back to their pools
 * in one step by sk_free_flush(), which every public receive call runs on
 * its way out.
 */
void sk_free_pkt(struct sock *sk, struct pkt *pk, bool locked);
void sk_free_flush(void);
int sock_ns_init(struct netns *ns);

/* ---- buffers and waiting ---- */
/* sk_wake - wake waiters whose events intersect ev (lock held). */
void sk_wake(struct sock *sk, uint32_t ev);
/*
 * sk_wait - block until woken, the timeout passes or a signal comes
 * (lock held on entry and on return; dropped while asleep).  *timeo_ns is
 * the time left (-1: forever) and is updated.  Mirrors sk_wait_event: a
 * signal gives -ERESTARTSYS semantics for an infinite timeout (restarted if
 * the handler has SA_RESTART) and -EINTR for a finite one (sock_intr_errno).
 * Return: 0 when woken or spuriously, -EAGAIN when the time is up, -EINTR.
 */
int sk_wait(struct sock *sk, uint32_t events, int64_t *timeo_ns);
/* sk_queue_rcv - charge and queue a received packet, or drop (counts drops); consumes pk. Return: 0, -ENOBUFS/-ENOMEM. */
int sk_queue_rcv(struct sock *sk, struct pkt *pk);
/* sk_wmem_release - a sent packet's charge comes back (sock_wfree); frees a closed socket at 0. */
void sk_wmem_release(struct sock *sk, uint32_t bytes);
/* sk_report_error - set sk_err and wake everyone (sk_error_report). */
void sk_report_error(struct sock *sk, int err);
/* sk_sock_error - take and clear sk_err (sock_error). Return: -err or 0. */
static inline int sk_sock_error(struct sock *sk)
{
	int e = sk->err;
	sk->err = 0;
	return -e;
}

/* ---- SO_PEEK_OFF ---- */
/* sk_set_peek_off - the generic proto_ops.set_peek_off: any value is stored, < 0 means off. */
int sk_set_peek_off(struct sock *sk, int val);
/* sk_peek_offset - where a read with these flags starts: the offset for MSG_PEEK, else 0. */
static inline int sk_peek_offset(const struct sock *sk, int flags)
{
	return (flags & MSG_PEEK) ? __atomic_load_n(&sk->peek_off, __ATOMIC_RELAXED) : 0;
}
/* sk_peek_offset_bwd - val bytes were read: the offset moves back (not below 0), when it is on. */
static inline void sk_peek_offset_bwd(struct sock *sk, int val)
{
	int off = __atomic_load_n(&sk->peek_off, __ATOMIC_RELAXED);

	if (off >= 0) {
		off = off - val > 0 ? off - val : 0;
		__atomic_store_n(&sk->peek_off, off, __ATOMIC_RELAXED);
	}
}
/* sk_peek_offset_fwd - val bytes were peeked: the offset moves past them, when it is on. */
static inline void sk_peek_offset_fwd(struct sock *sk, int val)
{
	sk_peek_offset_bwd(sk, -val);
}

/* ---- copying payload ---- */
/* sk_copy_from_iov - copy len bytes from the message's iov starting at byte off. Return: 0, -EFAULT. */
int sk_copy_from_iov(const struct sk_msg *m, size_t off, void *dst, size_t len);
/* sk_copy_to_iov - copy a packet range into the message's iov. Return: 0, -EFAULT. */
int sk_copy_pkt_to_iov(const struct sk_msg *m, const struct pkt *pk, size_t off, size_t len);
/* sk_put_cmsg - append a control message to the caller's buffer (put_cmsg). Return: 0, -EFAULT. */
int sk_put_cmsg(struct sk_msg *m, int level, int type, const void *data, size_t len);
/* sk_recv_timestamps - SO_TIMESTAMP/SO_TIMESTAMPNS cmsgs for pk (sock_recv_timestamp). */
void sk_recv_timestamps(struct sock *sk, struct sk_msg *m, const struct pkt *pk);

/* ---- generic SOL_SOCKET options ---- */
int sock_setsockopt(struct sock *sk, int name, const void *val, socklen_t len);
int sock_getsockopt(struct sock *sk, int name, void *val, socklen_t *len);
/* sock_cmsg_send - SOL_SOCKET cmsgs on send (SO_MARK, SO_PRIORITY, SCM_*). Return: 0, -EINVAL. */
struct sockcm {
	uint32_t mark;
	int priority;
	uint64_t txtime;
};
int sock_cmsg_send(struct sock *sk, const struct cmsghdr *c, struct sockcm *cm);

/* Timeouts as the kernel stores them: a timeval rounded up to jiffies (HZ). */
#define USOCK_HZ 1000
int64_t sock_timeo_from_tv(long sec, long usec);

/*
 * sock_alloc_child - a socket without a descriptor (a connection waiting
 * in a listener's accept queue), one reference held by the caller; copies
 * the listener's SOL_SOCKET settings as sk_clone_lock.  Return: 0, -ENOMEM.
 */
int sock_alloc_child(struct sock *parent, struct sock **out);
/* sock_attach_fd - give an accepted child its descriptor (flags: SOCK_NONBLOCK|SOCK_CLOEXEC); the reference the caller holds becomes the descriptor's. Return: the fd, -errno. */
int sock_attach_fd(struct sock *sk, int flags);
/*
 * sock_own / sock_release - lock_sock / release_sock for calls that enter
 * a socket other than through the public API's lookup (which owns it for
 * the call): release runs the parked backlog.  Return (release): true if
 * it processed anything.
 */
static inline void sock_own(struct sock *sk) { sk->owned_by_user = true; }
bool sock_release(struct sock *sk);
/* sock_hold / sock_put_locked - a protocol's own reference (lock held); the last one frees. */
static inline void sock_hold(struct sock *sk) { sk->refs++; }
void sock_put_locked(struct sock *sk);
/* sock_sigpipe - the current call should end with SIGPIPE for the caller's thread (send_sig in sk_stream_error); raised at the public edge after the lock is gone. */
void sock_sigpipe(void);

/* the families' create functions */
int udp_create(struct netns *ns, struct sock **out, int type, int protocol);
int tcp_create(struct netns *ns, struct sock **out, int type, int protocol);

#endif
