/* SPDX-License-Identifier: MIT */
/*
 * api.c - the public socket calls: the errno edge
 *
 * Each usock_ call finds its socket, copies and checks the caller's
 * arguments in the order the kernel's net/socket.c does (so that a call
 * with several things wrong fails with the same errno as Linux), hands a
 * struct sk_msg to the protocol and turns -errno into errno on the way out.
 * A descriptor usock does not own goes to the kernel, which answers EBADF,
 * ENOTSOCK or does the real thing for a kernel socket.
 */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sockios.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/errno_edge.h"
#include "core/usercopy.h"
#include "net/netns_internal.h"
#include "sock/sock_internal.h"
#include "usock.h"

/* MAX_RW_COUNT: what one read/write moves at most (INT_MAX & PAGE_MASK). */
#define MAX_RW_COUNT ((size_t)INT_MAX & ~(size_t)4095)
/* The end of user space on x86_64 (TASK_SIZE_MAX): access_ok's bound. */
#define USER_END 0x00007ffffffff000ull

static inline bool access_ok(const void *p, size_t n)
{
	uintptr_t a = (uintptr_t)p;
	return n <= USER_END && a <= USER_END - n;
}

/*
 * Addresses inside the caller's arrays, computed as integers: the caller's
 * pointer may be NULL or wild, and only the guarded copies touch it.
 */
#define UPTR(base, i, field)                                                                     \
	((__typeof__(&(base)[0].field))((uintptr_t)(base) + (size_t)(i) * sizeof((base)[0]) +      \
					 offsetof(__typeof__((base)[0]), field)))

/* move_addr_to_kernel */
static int addr_from_user(const void *uaddr, socklen_t len, struct sockaddr_storage *k)
{
	if ((int)len < 0 || len > sizeof(*k))
		return -EINVAL;
	if (len == 0)
		return 0;
	return copy_from_user(k, uaddr, len);
}

/* move_addr_to_user: copy what fits, report the full length. */
static int addr_to_user(const struct sockaddr_storage *k, socklen_t klen, void *uaddr,
			socklen_t *ulen)
{
	int len; /* signed, as the kernel reads it: (socklen_t)-1 is EINVAL */
	if (copy_from_user(&len, ulen, sizeof(len)))
		return -EFAULT;
	if (len > (int)klen)
		len = (int)klen;
	if (len < 0)
		return -EINVAL;
	if (len && copy_to_user(uaddr, k, (size_t)len))
		return -EFAULT;
	return copy_to_user(ulen, &klen, sizeof(klen));
}

/* ---- socket, bind, connect, names ---- */

int usock_socket(int domain, int type, int protocol)
{
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	/* __sys_socket_create / __sock_create */
	if (base & ~0xf)
		return (int)usock_ret(-EINVAL);
	if (domain < 0 || domain >= AF_MAX)
		return (int)usock_ret(-EAFNOSUPPORT);
	if (base < 0 || base >= 11 /* SOCK_MAX */)
		return (int)usock_ret(-EINVAL);
	struct netns *ns = netns_get_current();
	if (!ns)
		return (int)usock_ret(-ENOMEM);
	struct sock *sk = NULL;
	int r;
	netns_lock(ns);
	switch (domain) {
	case AF_INET:
		/* inet_create: outside 0..IPPROTO_MAX-1 is EINVAL */
		if (protocol < 0 || protocol >= 263) {
			r = -EINVAL;
			break;
		}
		if (base == SOCK_DGRAM) {
			r = udp_create(ns, &sk, type, protocol);
			break;
		}
		if (base == SOCK_STREAM) {
			r = tcp_create(ns, &sk, type, protocol);
			break;
		}
		/* inet_create: a type with no protocol switch entry */
		r = base == SOCK_RAW ? -EPROTONOSUPPORT : -ESOCKTNOSUPPORT;
		break;
	default:
		r = -EAFNOSUPPORT;
	}
	netns_unlock(ns);
	if (r)
		return (int)usock_ret(r);
	return sk->fd;
}

int usock_is_socket(int fd)
{
	return sock_fd_is_ours(fd);
}

int usock_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct sockaddr_storage k;
	struct sock *sk = sock_get_locked(fd);
	if (!sk)
		return bind(fd, addr, len);
	int r = addr_from_user(addr, len, &k);
	if (!r)
		r = sk->ops->bind ? sk->ops->bind(sk, (struct sockaddr *)&k, len) : -EOPNOTSUPP;
	sock_put_unlock(sk);
	return (int)usock_ret(r);
}

int usock_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct sockaddr_storage k;
	struct sock *sk = sock_get_locked(fd);
	if (!sk)
		return connect(fd, addr, len);
	int r = addr_from_user(addr, len, &k);
	if (!r)
		r = sk->ops->connect ? sk->ops->connect(sk, (struct sockaddr *)&k, len,
							sk->nonblock ? O_NONBLOCK : 0)
				     : -EOPNOTSUPP;
	sock_put_unlock(sk);
	return (int)usock_ret(r);
}

int usock_listen(int fd, int backlog)
{
	struct sock *sk = sock_get_locked(fd);
	if (!sk)
		return listen(fd, backlog);
	int r = sk->ops->listen ? sk->ops->listen(sk, backlog) : -EOPNOTSUPP;
	sock_put_unlock(sk);
	return (int)usock_ret(r);
}

int usock_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	struct sock *sk = sock_get_locked(fd);
	if (!sk)
		return accept4(fd, addr, len, flags);
	/* do_accept: unknown flags first, then the protocol; blocking follows
	 * the listener's file, the new descriptor's flags follow accept4's */
	int r;
	struct sock *child = NULL;
	if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK))
		r = -EINVAL;
	else if (!sk->ops->accept)
		r = -EOPNOTSUPP;
	else
		r = sk->ops->accept(sk, &child, sk->nonblock ? O_NONBLOCK : 0);
	struct sockaddr_in peer;
	if (!r) {
		/* getname with peer == 2: no ENOTCONN even if it closed already */
		memset(&peer, 0, sizeof(peer));
		peer.sin_family = AF_INET;
		peer.sin_addr.s_addr = child->daddr;
		peer.sin_port = child->dport;
		r = sock_attach_fd(child, flags);
		if (r < 0)
			sock_put_locked(child);
	}
	sock_put_unlock(sk);
	if (r < 0)
		return (int)usock_ret(r);
	int nfd = r;
	if (addr) {
		struct sockaddr_storage k;
		memset(&k, 0, sizeof(k));
		memcpy(&k, &peer, sizeof(peer));
		int e = addr_to_user(&k, sizeof(peer), addr, len);
		if (e) {
			/* the kernel drops the new file: the connection closes */
			usock_close(nfd);
			return (int)usock_ret(e);
		}
	}
	return nfd;
}

int usock_accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	return usock_accept4(fd, addr, len, 0);
}

static int getname(int fd, struct sockaddr *addr, socklen_t *len, bool peer)
{
	struct sock *sk = sock_get_locked(fd);
	if (!sk)
		return peer ? getpeername(fd, addr, len) : getsockname(fd, addr, len);
	struct sockaddr_storage k;
	socklen_t kl = 0;
	memset(&k, 0, sizeof(k));
	int r = sk->ops->getname(sk, &k, &kl, peer);
	sock_put_unlock(sk);
	if (r < 0)
		return (int)usock_ret(r);
	return (int)usock_ret(addr_to_user(&k, kl, addr, len));
}

int usock_getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	return getname(fd, addr, len, false);
}

int usock_getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	return getname(fd, addr, len, true);
}

/* ---- send ---- */

/*
 * import_iovec: copy the iovec array and total it; a negative length is
 * EINVAL, the total is cut to MAX_RW_COUNT (the kernel truncates, it does
 * not fail).
 */
static int import_iov(const struct iovec *uiov, size_t n, struct iovec *kiov, size_t *total)
{
	if (n > UIO_MAXIOV)
		return -EMSGSIZE;
	if (n && copy_from_user(kiov, uiov, n * sizeof(*kiov)))
		return -EFAULT;
	size_t t = 0;
	for (size_t i = 0; i < n; i++) {
		ssize_t l = (ssize_t)kiov[i].iov_len;
		if (l < 0)
			return -EINVAL;
		if (!access_ok(kiov[i].iov_base, (size_t)l))
			return -EFAULT;
		if ((size_t)l > MAX_RW_COUNT - t) {
			l = (ssize_t)(MAX_RW_COUNT - t);
			kiov[i].iov_len = (size_t)l;
		}
		t += (size_t)l;
	}
	*total = t;
	return 0;
}

static ssize_t do_sendmsg(struct sock *sk, struct sk_msg *m, int flags)
{
	if (sk->nonblock)
		flags |= MSG_DONTWAIT;
	return sk->ops->sendmsg(sk, m, flags);
}

/*
 * The control buffer: small ones live on the stack as the kernel's ctl[],
 * larger ones are charged to the socket's option memory (sock_kmalloc),
 * which is where optmem_max bites.
 */
#define CTL_STACK (sizeof(struct cmsghdr) + 20)

static int control_from_user(struct sock *sk, const struct msghdr *um, uint8_t *buf,
			     size_t bufsz, struct sk_msg *m)
{
	size_t cl = um->msg_controllen;
	if (cl > INT_MAX)
		return -ENOBUFS;
	if (!cl)
		return 0;
	if (cl > CTL_STACK) {
		/* sock_kmalloc: size <= optmem_max and omem + size < optmem_max */
		if (cl > (size_t)sk->ns->sys.optmem_max || cl >= (size_t)sk->ns->sys.optmem_max)
			return -ENOBUFS;
	}
	if (cl > bufsz)
		return -ENOBUFS;
	if (copy_from_user(buf, um->msg_control, cl))
		return -EFAULT;
	m->control = buf;
	m->controllen = cl;
	return 0;
}

/* ___sys_sendmsg on a user msghdr; kiov and ctl are the caller's scratch. */
static ssize_t sendmsg_user(struct sock *sk, const struct msghdr *umsg, int flags,
			    struct iovec *kiov, uint8_t *ctl, size_t ctlsz)
{
	struct msghdr um;
	struct sk_msg m;
	memset(&m, 0, offsetof(struct sk_msg, addr));
	m.addrlen = 0;
	m.control = NULL;
	m.controllen = 0;
	m.user_control = NULL;
	m.msg_flags = 0;
	m.iov_off = 0;
	if (copy_from_user(&um, umsg, sizeof(um)))
		return -EFAULT;
	/* __copy_msghdr */
	if ((int)um.msg_namelen < 0)
		return -EINVAL;
	if (um.msg_namelen > sizeof(struct sockaddr_storage))
		um.msg_namelen = sizeof(struct sockaddr_storage);
	m.has_addr = false;
	if (um.msg_name && um.msg_namelen) {
		int r = addr_from_user(um.msg_name, um.msg_namelen, &m.addr);
		if (r)
			return r;
		m.addrlen = um.msg_namelen;
		m.has_addr = true;
	}
	if (um.msg_iovlen > UIO_MAXIOV)
		return -EMSGSIZE;
	int r = import_iov(um.msg_iov, um.msg_iovlen, kiov, &m.len);
	if (r)
		return r;
	m.iov = kiov;
	m.iovlen = um.msg_iovlen;
	r = control_from_user(sk, &um, ctl, ctlsz, &m);
	if (r)
		return r;
	return do_sendmsg(sk, &m, flags);
}

/* Scratch for one sendmsg: the iovec array and the control buffer. */
struct send_scratch {
	struct iovec iov[UIO_MAXIOV];
	uint8_t ctl[];
};

static __thread struct send_scratch *scratch;
static __thread size_t scratch_ctl;

/*
 * A per-thread scratch area so that a 16 KiB iovec array and a control
 * buffer up to optmem_max never sit on the caller's stack; made once per
 * thread, grown only if optmem_max grows.
 */
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

/* at thread exit: the scratch goes with its thread */
static void scratch_free(void *p)
{
	free(p);
}

static void scratch_key_init(void)
{
	(void)pthread_key_create(&scratch_key, scratch_free);
}

static struct send_scratch *get_scratch(size_t ctl)
{
	if (scratch && scratch_ctl >= ctl)
		return scratch;
	pthread_once(&scratch_once, scratch_key_init);
	free(scratch);
	scratch = malloc(sizeof(*scratch) + ctl);
	scratch_ctl = scratch ? ctl : 0;
	(void)pthread_setspecific(scratch_key, scratch);
	return scratch;
}

ssize_t usock_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct sock *sk = sock_get_locked(fd);
	if (!sk)
		return sendmsg(fd, msg, flags);
	struct send_scratch *s = get_scratch((size_t)sk->ns->sys.optmem_max);
	ssize_t r = s ? sendmsg_user(sk, msg, flags, s->iov, s->ctl, scratch_ctl) : -ENOMEM;
	sock_put_unlock(sk);
	sock_raise_sigpipe();
	return usock_ret(r);
}

ssize_t usock_sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *dst,
		     socklen_t dstlen)
{
	/* __sys_sendto: import_ubuf first, then the descriptor, then the address */
	if (!access_ok(buf, len)) {
		if (!sock_fd_is_ours(fd))
			return sendto(fd, buf, len, flags, dst, dstlen);
		return usock_ret(-EFAULT);
	}
	struct sock *sk = sock_get_locked(fd);
	if (!sk)
		return sendto(fd, buf, len, flags, dst, dstlen);
	struct iovec iov = {(void *)buf, len > MAX_RW_COUNT ? MAX_RW_COUNT : len};
	struct sk_msg m;
	m.addrlen = 0;
	m.iov = &iov;
	m.iovlen = 1;
	m.len = iov.iov_len;
	m.control = NULL;
	m.controllen = 0;
	m.user_control = NULL;
	m.msg_flags = 0;
	m.iov_off = 0;
	ssize_t r = 0;
	m.has_addr = dst != NULL;
	if (dst) {
		r = addr_from_user(dst, dstlen, &m.addr);
		m.addrlen = dstlen;
	}
	if (!r)
		r = do_sendmsg(sk, &m, flags);
	sock_put_unlock(sk);
	sock_raise_sigpipe();
	return usock_ret(r);
}

ssize_t usock_send(int fd, const void *buf, size_t len, int flags)
{
	return usock_sendto(fd, buf, len, flags, NULL, 0);
}

int usock_sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags)
{
	struct sock *sk = sock_get_locked(fd);
	if (!sk)
		return sendmmsg(fd, vec, vlen, flags);
	struct send_scratch *s = get_scratch((size_t)sk->ns->sys.optmem_max);
	if (!s) {
		sock_put_unlock(sk);
		return (int)usock_ret(-ENOMEM);
	}
	/* __sys_sendmmsg: vlen clamped to UIO_MAXIOV; the error after the
	 * first sent message is lost (the manual page's BUGS). */
	if (vlen > UIO_MAXIOV)
		vlen = UIO_MAXIOV;
	unsigned n = 0;
	ssize_t err = 0;
	while (n < vlen) {
		int f = flags | (n < vlen - 1 ? MSG_BATCH : 0);
		err = sendmsg_user(sk, UPTR(vec, n, msg_hdr), f & ~MSG_BATCH, s->iov, s->ctl,
				   scratch_ctl);
		if (err < 0)
			break;
		unsigned int sent = (unsigned int)err;
		err = copy_to_user(UPTR(vec, n, msg_len), &sent, sizeof(sent));
		if (err)
			break;
		n++;
	}
	sock_put_unlock(sk);
	sock_raise_sigpipe();
	if (n)
		return (int)n;
	return (int)usock_ret(err);
}

ssize_t usock_write(int fd, const void *buf, size_t len)
{
	if (!sock_fd_is_ours(fd))
		return write(fd, buf, len);
	return usock_sendto(fd, buf, len, 0, NULL, 0);
}

ssize_t usock_writev(int fd, const struct iovec *iov, int iovcnt)
{
	struct sock *sk = sock_get_locked(fd);
	if (!sk)
		return writev(fd, iov, iovcnt);
	struct send_scratch *s = get_scratch((size_t)sk->ns->sys.optmem_max);
	ssize_t r;
	struct sk_msg m;
	memset(&m, 0, sizeof(m));
	if (!s)
		r = -ENOMEM;
	else if (iovcnt < 0)
		r = -EINVAL;
	else if ((r = import_iov(iov, (size_t)iovcnt, s->iov, &m.len)) == 0) {
		m.iov = s->iov;
		m.iovlen = (size_t)iovcnt;
		r = do_sendmsg(sk, &m, 0);
	}
	if (r == -EMSGSIZE)
		r = -EINVAL; /* readv/writev say EINVAL for iovcnt > IOV_MAX */
	sock_put_unlock(sk);
	sock_raise_sigpipe();
	return usock_ret(r);
}

/* ---- receive ---- */

/*
 * do_recvmsg - with a lockless reference (sock_get_ref) held: the
 * protocol's fast path first, which needs no namespace lock; the locked
 * path when it must wait, peek, or report.
 */
static ssize_t do_recvmsg(struct sock *sk, struct sk_msg *m, int flags)
{
	if (sk->nonblock)
		flags |= MSG_DONTWAIT;
	if (sk->ops->recvmsg_fast) {
		ssize_t r = sk->ops->recvmsg_fast(sk, m, flags);
		if (r != -SK_SLOWPATH)
			return r;
	}
	struct netns *ns = sk->ns;
	netns_lock(ns);
	ssize_t r;
	if (__atomic_load_n(&sk->closed, __ATOMIC_ACQUIRE)) {
		r = -EBADF;
	} else {
		sk->refs++;
		sk->owned_by_user = true;
		r = sk->ops->recvmsg(sk, m, flags);
		sock_release(sk);
		/* closed while we slept: the last locked reference was ours, and
		 * our lockless one frees it in sock_put_ref */
		if (--sk->refs == 0)
			atomic_store(&sk->free_pending, true);
	}
	netns_unlock(ns);
	return r;
}

static void msg_init(struct sk_msg *m)
{
	m->addrlen = 0;
	m->control = NULL;
	m->controllen = 0;
	m->user_control = NULL;
	m->user_controllen = 0;
	m->control_used = 0;
	m->msg_flags = 0;
	m->iov_off = 0;
}

/* ___sys_recvmsg on a user msghdr. */
static ssize_t recvmsg_user(struct sock *sk, struct msghdr *umsg, int flags, struct iovec *kiov)
{
	struct msghdr um;
	struct sk_msg m;
	msg_init(&m);
	if (copy_from_user(&um, umsg, sizeof(um)))
		return -EFAULT;
	if ((int)um.msg_namelen < 0)
		return -EINVAL;
	if (um.msg_iovlen > UIO_MAXIOV)
		return -EMSGSIZE;
	int r = import_iov(um.msg_iov, um.msg_iovlen, kiov, &m.len);
	if (r)
		return r;
	m.iov = kiov;
	m.iovlen = um.msg_iovlen;
	m.user_control = um.msg_control;
	m.user_controllen = um.msg_controllen;
	m.msg_flags = flags & MSG_CMSG_CLOEXEC;
	ssize_t len = do_recvmsg(sk, &m, flags);
	if (len < 0)
		return len;
	if (um.msg_name) {
		socklen_t room = um.msg_namelen;
		if (room > m.addrlen)
			room = m.addrlen;
		if (room && copy_to_user(um.msg_name, &m.addr, room))
			return -EFAULT;
	}
	int mf = m.msg_flags & ~MSG_CMSG_CLOEXEC;
	size_t cl = m.control_used;
	/* msg_namelen is written only with msg_name (move_addr_to_user) */
	if (um.msg_name && copy_to_user(UPTR(umsg, 0, msg_namelen), &m.addrlen, sizeof(m.addrlen)))
		return -EFAULT;
	if (copy_to_user(UPTR(umsg, 0, msg_flags), &mf, sizeof(mf)) ||
	    copy_to_user(UPTR(umsg, 0, msg_controllen), &cl, sizeof(cl)))
		return -EFAULT;
	return len;
}

ssize_t usock_recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct sock *sk = sock_get_ref(fd);
	if (!sk)
		return recvmsg(fd, msg, flags);
	struct send_scratch *s = get_scratch((size_t)sk->ns->sys.optmem_max);
	ssize_t r = s ? recvmsg_user(sk, msg, flags, s->iov) : -ENOMEM;
	sock_put_ref(sk);
	return usock_ret(r);
}

ssize_t usock_recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *src,
		       socklen_t *srclen)
{
	if (!access_ok(buf, len)) {
		if (!sock_fd_is_ours(fd))
			return recvfrom(fd, buf, len, flags, src, srclen);
		return usock_ret(-EFAULT);
	}
	struct sock *sk = sock_get_ref(fd);
	if (!sk)
		return recvfrom(fd, buf, len, flags, src, srclen);
	struct iovec iov = {buf, len > MAX_RW_COUNT ? MAX_RW_COUNT : len};
	struct sk_msg m;
	msg_init(&m);
	m.iov = &iov;
	m.iovlen = 1;
	m.len = iov.iov_len;
	ssize_t r = do_recvmsg(sk, &m, flags);
	sock_put_ref(sk);
	if (r >= 0 && src) {
		int e = addr_to_user(&m.addr, m.addrlen, src, srclen);
		if (e < 0)
			r = e;
	}
	return usock_ret(r);
}

ssize_t usock_recv(int fd, void *buf, size_t len, int flags)
{
	return usock_recvfrom(fd, buf, len, flags, NULL, NULL);
}

ssize_t usock_read(int fd, void *buf, size_t len)
{
	if (!sock_fd_is_ours(fd))
		return read(fd, buf, len);
	/* sock_read_iter: "Match SYS5 behaviour", nothing is consumed */
	if (len == 0)
		return 0;
	return usock_recvfrom(fd, buf, len, 0, NULL, NULL);
}

ssize_t usock_readv(int fd, const struct iovec *iov, int iovcnt)
{
	struct sock *sk = sock_get_ref(fd);
	if (!sk)
		return readv(fd, iov, iovcnt);
	struct send_scratch *s = get_scratch((size_t)sk->ns->sys.optmem_max);
	ssize_t r;
	struct sk_msg m;
	msg_init(&m);
	if (!s)
		r = -ENOMEM;
	else if (iovcnt < 0)
		r = -EINVAL;
	else if ((r = import_iov(iov, (size_t)iovcnt, s->iov, &m.len)) == 0) {
		m.iov = s->iov;
		m.iovlen = (size_t)iovcnt;
		/* sock_read_iter: an empty read consumes nothing */
		r = m.len ? do_recvmsg(sk, &m, 0) : 0;
	}
	if (r == -EMSGSIZE)
		r = -EINVAL;
	sock_put_ref(sk);
	return usock_ret(r);
}

static inline int64_t ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

int usock_recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags,
		   struct timespec *timeout)
{
	struct timespec tmo, now;
	int64_t end = 0;
	if (!sock_fd_is_ours(fd))
		return recvmmsg(fd, vec, vlen, flags, timeout);
	if (timeout) {
		if (copy_from_user(&tmo, timeout, sizeof(tmo)))
			return (int)usock_ret(-EFAULT);
		/* poll_select_set_timeout */
		if (tmo.tv_sec < 0 || tmo.tv_nsec < 0 || tmo.tv_nsec >= 1000000000)
			return (int)usock_ret(-EINVAL);
		clock_gettime(CLOCK_MONOTONIC, &now);
		end = ts_ns(&now) + ts_ns(&tmo);
	}
	struct sock *sk = sock_get_ref(fd);
	if (!sk)
		return recvmmsg(fd, vec, vlen, flags, timeout);
	struct send_scratch *s = get_scratch((size_t)sk->ns->sys.optmem_max);
	if (!s) {
		sock_put_ref(sk);
		return (int)usock_ret(-ENOMEM);
	}
	int datagrams = 0;
	ssize_t err = 0;
	/* do_recvmmsg: a pending socket error is reported first */
	if (!(flags & MSG_ERRQUEUE) && __atomic_load_n(&sk->err, __ATOMIC_ACQUIRE)) {
		netns_lock(sk->ns);
		err = sk_sock_error(sk);
		netns_unlock(sk->ns);
		if (err) {
			sock_put_ref(sk);
			return (int)usock_ret(err);
		}
	}
	while ((unsigned)datagrams < vlen) {
		err = recvmsg_user(sk, UPTR(vec, datagrams, msg_hdr), flags & ~MSG_WAITFORONE, s->iov);
		if (err < 0)
			break;
		unsigned int got = (unsigned int)err;
		err = copy_to_user(UPTR(vec, datagrams, msg_len), &got, sizeof(got));
		if (err)
			break;
		datagrams++;
		if (flags & MSG_WAITFORONE)
			flags |= MSG_DONTWAIT;
		if (timeout) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			int64_t left = end - ts_ns(&now);
			if (left <= 0) {
				tmo.tv_sec = tmo.tv_nsec = 0;
				break;
			}
			tmo.tv_sec = left / 1000000000;
			tmo.tv_nsec = left % 1000000000;
		}
	}
	if (err != 0 && datagrams > 0 && err != -EAGAIN) {
		netns_lock(sk->ns);
		sk->err = (int)-err; /* reported by the next call, as do_recvmmsg does */
		netns_unlock(sk->ns);
	}
	sock_put_ref(sk);
	if (datagrams == 0 && err < 0)
		return (int)usock_ret(err);
	if (timeout && datagrams > 0 && copy_to_user(timeout, &tmo, sizeof(tmo)))
		return (int)usock_ret(-EFAULT);
	return datagrams;
}

/* ---- options, fcntl, ioctl ---- */

int usock_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct sock *sk = sock_get_locked(fd);
	if (!sk)
		return setsockopt(fd, level, name, val, len);
	uint8_t kv[512];	/* the largest option value: TCP_INFO (280 B in 6.18) */
	int r = 0;
	if ((int)len < 0)
		r = -EINVAL;
	socklen_t cl = len > sizeof(kv) ? sizeof(kv) : len;
	if (!r && cl && copy_from_user(kv, val, cl))
		r = -EFAULT;
	if (!r) {
		if (level == SOL_SOCKET)
			r = sock_setsockopt(sk, name, kv, len);
		else if (sk->ops->setsockopt)
			r = sk->ops->setsockopt(sk, level, name, kv, len);
		else
			r = -ENOPROTOOPT;
	}
	sock_put_unlock(sk);
	return (int)usock_ret(r);
}

int usock_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	struct sock *sk = sock_get_locked(fd);
	if (!sk)
		return getsockopt(fd, level, name, val, len);
	uint8_t kv[512];	/* the largest option value: TCP_INFO (280 B in 6.18) */
	socklen_t kl;
	int r = copy_from_user(&kl, len, sizeof(kl));
	if (!r && (int)kl < 0)
		r = -EINVAL;
	if (!r) {
		socklen_t room = kl > sizeof(kv) ? sizeof(kv) : kl;
		if (level == SOL_SOCKET)
			r = sock_getsockopt(sk, name, kv, &room);
		else if (sk->ops->getsockopt)
			r = sk->ops->getsockopt(sk, level, name, kv, &room);
		else
			r = -EOPNOTSUPP;
		if (!r && room && copy_to_user(val, kv, room))
			r = -EFAULT;
		if (!r)
			r = copy_to_user(len, &room, sizeof(room));
	}
	sock_put_unlock(sk);
	return (int)usock_ret(r);
}

int usock_fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	long arg = va_arg(ap, long);
	va_end(ap);
	struct sock *sk = sock_get_locked(fd);
	if (!sk)
		return fcntl(fd, cmd, arg);
	int r;
	switch (cmd) {
	case F_GETFL:
		/* a socket is O_RDWR; O_NONBLOCK is the file's */
		r = O_RDWR | (sk->nonblock ? O_NONBLOCK : 0);
		break;
	case F_SETFL:
		sk->nonblock = arg & O_NONBLOCK;
		r = 0;
		break;
	case F_GETFD:
	case F_SETFD:
		r = fcntl(fd, cmd, arg);
		if (r < 0)
			r = -errno;
		break;
	default:
		/* dup is not yet supported for usock sockets: refuse rather than
		 * hand out a descriptor usock would not know */
		r = -EINVAL;
	}
	sock_put_unlock(sk);
	return (int)usock_ret(r);
}

/*
 * sock_get_timestamp: nothing read yet is ENOENT; a packet read before
 * stamping was on gets "now" and turns stamping on for what follows.
 */
static bool stamp_for_ioctl(struct sock *sk)
{
	sk->flags |= SKF_STAMP_IOCTL;
	if (!sk->stamp_read)
		return false;
	if (!sk->stamp_ns)
		sk->stamp_ns = clock_realtime(&sk->ns->clock);
	return true;
}

int usock_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	va_start(ap, req);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	struct sock *sk = sock_get_locked(fd);
	if (!sk)
		return ioctl(fd, req, arg);
	int r;
	switch (req) {
	case FIONBIO: {
		int on;
		r = copy_from_user(&on, arg, sizeof(on));
		if (!r)
			sk->nonblock = on != 0;
		break;
	}
	case FIOASYNC:
		r = 0;
		break;
	case SIOCGSTAMP_OLD: {
		if (!stamp_for_ioctl(sk)) {
			r = -ENOENT;
			break;
		}
		struct timeval tv = {(time_t)(sk->stamp_ns / 1000000000ull),
				     (suseconds_t)(sk->stamp_ns % 1000000000ull / 1000)};
		r = copy_to_user(arg, &tv, sizeof(tv));
		break;
	}
	case SIOCGSTAMPNS_OLD: {
		if (!stamp_for_ioctl(sk)) {
			r = -ENOENT;
			break;
		}
		struct timespec ts = {(time_t)(sk->stamp_ns / 1000000000ull),
				      (long)(sk->stamp_ns % 1000000000ull)};
		r = copy_to_user(arg, &ts, sizeof(ts));
		break;
	}
	default:
		r = sk->ops->ioctl ? sk->ops->ioctl(sk, req, arg) : -ENOIOCTLCMD;
		if (r == -ENOIOCTLCMD)
			r = -ENOTTY;
	}
	sock_put_unlock(sk);
	return (int)usock_ret(r);
}

int usock_shutdown(int fd, int how)
{
	struct sock *sk = sock_get_locked(fd);
	if (!sk)
		return shutdown(fd, how);
	int r = sk->ops->shutdown ? sk->ops->shutdown(sk, how) : -EOPNOTSUPP;
	sock_put_unlock(sk);
	return (int)usock_ret(r);
}

int usock_close(int fd)
{
	struct sock *sk = sock_get_locked(fd);
	if (!sk)
		return close(fd);
	return (int)usock_ret(sock_close_locked(sk));
}
