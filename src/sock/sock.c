/* SPDX-License-Identifier: MIT */
/*
 * sock.c - descriptors, waiting, copying and the SOL_SOCKET options
 *
 * Theory of operation.
 * Descriptors: a process-wide table maps a descriptor number to its socket.
 * The number is that of a kernel eventfd the socket holds, so it is unique
 * among all the program's descriptors.  The table is read without a lock:
 * socket objects come from their namespace's object cache and stay socket
 * objects until the namespace goes ("type-stable" memory, as the kernel's
 * SLAB_TYPESAFE_BY_RCU), so a reader takes the socket's namespace lock and
 * then checks the slot still names that socket.  close() clears the slot
 * under the same lock.
 * Waiting: each thread owns one eventfd; a blocked call links a wait_entry
 * holding it onto the socket, drops the namespace lock and blocks in read()
 * (infinite timeout: a signal with SA_RESTART restarts it inside the kernel,
 * without SA_RESTART it gives EINTR - exactly sock_intr_errno's choice) or
 * ppoll() (finite timeout: never restarted, so EINTR).  A waker unlinks the
 * entry and writes the eventfd: one system call per sleep, none when nobody
 * sleeps.  A blocked caller holds a reference, so close() from another
 * thread frees the descriptor number at once but the socket only when the
 * caller returns, as the kernel's file reference does.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/net_tstamp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "core/usercopy.h"
#include "net/netns_internal.h"
#include "sock/sock.h"
#include "sock/sock_internal.h"

/* ---- the descriptor table ---- */

#define FDTAB_MAX (1u << 20)
static _Atomic(struct sock *) *fdtab;
static pthread_once_t fdtab_once = PTHREAD_ONCE_INIT;

static void fdtab_init(void)
{
	void *p = mmap(NULL, FDTAB_MAX * sizeof(*fdtab), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	fdtab = p == MAP_FAILED ? NULL : p;
}

int sock_fd_install(int fd, struct sock *sk)
{
	pthread_once(&fdtab_once, fdtab_init);
	if (!fdtab)
		return -ENOMEM;
	if (fd < 0 || (unsigned)fd >= FDTAB_MAX)
		return -EMFILE;
	atomic_store_explicit(&fdtab[fd], sk, memory_order_release);
	return 0;
}

void sock_fd_clear(int fd)
{
	if (fdtab && fd >= 0 && (unsigned)fd < FDTAB_MAX)
		atomic_store_explicit(&fdtab[fd], NULL, memory_order_release);
}

static inline struct sock *fd_peek(int fd)
{
	if (!fdtab || fd < 0 || (unsigned)fd >= FDTAB_MAX)
		return NULL;
	return atomic_load_explicit(&fdtab[fd], memory_order_acquire);
}

bool sock_fd_is_ours(int fd)
{
	return fd_peek(fd) != NULL;
}

struct sock *sock_get_locked(int fd)
{
	for (;;) {
		struct sock *sk = fd_peek(fd);
		if (!sk)
			return NULL;
		struct netns *ns = sk->ns;
		netns_lock(ns);
		if (fd_peek(fd) == sk && sk->ns == ns && !sk->closed) {
			sk->refs++;
			sk->owned_by_user = true;
			return sk;
		}
		netns_unlock(ns);
	}
}

#define TL_FREE 64
static __thread struct pkt *tl_free[TL_FREE];
static __thread unsigned tl_nfree;

void sk_free_flush(void)
{
	if (tl_nfree) {
		pkt_free_remote_many(tl_free, tl_nfree);
		tl_nfree = 0;
	}
}

struct sock *sock_get_ref(int fd)
{
	for (;;) {
		struct sock *sk = fd_peek(fd);
		if (!sk)
			return NULL;
		atomic_fetch_add_explicit(&sk->arefs, 1, memory_order_acq_rel);
		if (fd_peek(fd) == sk && !__atomic_load_n(&sk->closed, __ATOMIC_ACQUIRE))
			return sk;
		sock_put_ref(sk);
	}
}

static void sock_free(struct sock *sk);

void sock_put_ref(struct sock *sk)
{
	/* the buffers this call's receives gathered go back now */
	sk_free_flush();
	if (atomic_fetch_sub_explicit(&sk->arefs, 1, memory_order_acq_rel) != 1 ||
	    !atomic_load_explicit(&sk->free_pending, memory_order_acquire))
		return;
	struct netns *ns = sk->ns;
	netns_lock(ns);
	if (atomic_load(&sk->free_pending) && atomic_load(&sk->arefs) == 0) {
		atomic_store(&sk->free_pending, false);
		sock_free(sk);
	}
	netns_unlock(ns);
}

void sk_free_pkt(struct sock *sk, struct pkt *pk, bool locked)
{
	if (locked) {
		pkt_free(pk);
	} else if (pkt_can_free_remote(pk)) {
		tl_free[tl_nfree++] = pk;
		if (tl_nfree == TL_FREE)
			sk_free_flush();
	} else {
		netns_lock(sk->ns);
		pkt_free(pk);
		netns_unlock(sk->ns);
	}
}

static void wait_unlink(struct wait_entry *w);

static inline void wq_lock(struct sock *sk)
{
	while (atomic_flag_test_and_set_explicit(&sk->wq_lock, memory_order_acquire))
		__builtin_ia32_pause();
}

static inline void wq_unlock(struct sock *sk)
{
	atomic_flag_clear_explicit(&sk->wq_lock, memory_order_release);
}

static void sock_free(struct sock *sk)
{
	/* waiters still linked (a poller whose socket was closed under it)
	 * are detached so that their later unlink touches nothing */
	wq_lock(sk);
	while (sk->waiters)
		wait_unlink(sk->waiters);
	wq_unlock(sk);
	if (sk->ops->release)
		sk->ops->release(sk);
	pkt_queue_purge(&sk->rcvq);
	pkt_queue_purge(&sk->reader);
	pkt_queue_purge(&sk->errq);
	pkt_queue_purge(&sk->backlog);
	sk->ops = NULL;
	/* packets still charged to it (waiting for ARP, say) keep the object
	 * until their destructor drains the charge, as sk_wmem_alloc keeps a
	 * kernel socket: sk_wmem_release frees it then */
	if (sk->wmem) {
		sk->wmem_orphaned = true;
		return;
	}
	ns_cache_free(sk->ns, sk->cache_idx, sk);
}

void sk_wmem_release(struct sock *sk, uint32_t bytes)
{
	sk->wmem = sk->wmem > bytes ? sk->wmem - bytes : 0;
	if (sk->wmem_orphaned) {
		if (!sk->wmem) {
			sk->wmem_orphaned = false;
			ns_cache_free(sk->ns, sk->cache_idx, sk);
		}
		return;
	}
	/* sock_def_write_space: wake writers once below half the buffer */
	if ((int)sk->wmem + 1 < (sk->sndbuf >> 1))
		sk_wake(sk, POLLOUT);
}

bool sock_release(struct sock *sk)
{
	/* __release_sock: still owned while the backlog runs, so what its
	 * processing provokes on loopback is parked behind it, not nested */
	bool any = false;
	if (sk->ops && sk->ops->backlog_rcv) {
		struct pkt *pk;
		while ((pk = pkt_queue_pop(&sk->backlog)) != NULL) {
			sk->ops->backlog_rcv(sk, pk);
			any = true;
		}
	}
	sk->owned_by_user = false;
	return any;
}

void sock_put_unlock(struct sock *sk)
{
	struct netns *ns = sk->ns;
	if (sk->owned_by_user)
		sock_release(sk);
	if (--sk->refs == 0) {
		/* a lockless reader still holds it: the last of them frees */
		if (atomic_load(&sk->arefs))
			atomic_store(&sk->free_pending, true);
		else
			sock_free(sk);
	}
	netns_unlock(ns);
}

int sock_ns_init(struct netns *ns)
{
	(void)ns;
	pthread_once(&fdtab_once, fdtab_init);
	return fdtab ? 0 : -ENOMEM;
}

/* ---- HZ: the kernel's timeouts are jiffies; learn its HZ once ---- */

static long kernel_hz = 0;
static pthread_once_t hz_once = PTHREAD_ONCE_INIT;

/*
 * SO_RCVTIMEO is stored in jiffies and read back rounded, so the values a
 * program reads depend on CONFIG_HZ.  Ask the kernel itself: set 1 us on a
 * throw-away kernel socket and read back how long one jiffy is.
 */
static void hz_probe(void)
{
	kernel_hz = 1000;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	struct timeval tv = {0, 1};
	socklen_t l = sizeof(tv);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &l) == 0 && tv.tv_sec == 0 &&
	    tv.tv_usec > 0)
		kernel_hz = 1000000 / tv.tv_usec;
	close(fd);
}

long sock_hz(void)
{
	pthread_once(&hz_once, hz_probe);
	return kernel_hz;
}

/* ---- creation and close ---- */

/* A zeroed socket object from the cache its protocol's size needs. */
static struct sock *sock_obj_alloc(struct netns *ns, const struct proto_ops *ops)
{
	int ci = ops->obj_size > SOCK_OBJ_SIZE ? NSC_SOCK_TCP : NSC_SOCK;
	struct sock *sk = ns_cache_alloc(ns, ci);
	if (!sk)
		return NULL;
	/* arefs keeps its value across reuse (see struct sock) */
	unsigned arefs = atomic_load(&sk->arefs);
	memset(sk, 0, ci == NSC_SOCK ? SOCK_OBJ_SIZE : SOCK_OBJ_SIZE_LARGE);
	atomic_store(&sk->arefs, arefs);
	sk->cache_idx = (uint8_t)ci;
	return sk;
}

int sock_alloc(struct netns *ns, const struct proto_ops *ops, int type_flags, struct sock **out)
{
	struct sock *sk = sock_obj_alloc(ns, ops);
	if (!sk)
		return -ENOMEM;
	atomic_flag_clear(&sk->rq_lock);
	atomic_flag_clear(&sk->reader_lock);
	atomic_flag_clear(&sk->wq_lock);
	pkt_queue_init(&sk->reader);
	int efd = eventfd(0, EFD_NONBLOCK | ((type_flags & SOCK_CLOEXEC) ? EFD_CLOEXEC : 0));
	if (efd < 0) {
		int e = errno;
		ns_cache_free(ns, sk->cache_idx, sk);
		return -e;
	}
	/* The eventfd is always non-blocking: nobody blocks on it; O_NONBLOCK
	 * as the program sees it lives in sk->nonblock (F_GETFL reports it). */
	sk->ns = ns;
	sk->ops = ops;
	sk->fd = efd;
	sk->busy_poll_us = (uint32_t)ns->sys.busy_read_us;
	sk->family = ops->family;
	sk->type = ops->type;
	sk->protocol = ops->protocol;
	sk->refs = 1;
	sk->nonblock = type_flags & SOCK_NONBLOCK;
	sk->sndbuf = ns->sys.wmem_default;
	sk->rcvbuf = ns->sys.rmem_default;
	sk->rcvlowat = 1;
	sk->peek_off = -1;
	sk->rcvtimeo_ns = sk->sndtimeo_ns = -1;
	pkt_queue_init(&sk->rcvq);
	pkt_queue_init(&sk->errq);
	if (ops->init) {
		int r = ops->init(sk);
		if (r) {
			close(efd);
			ns_cache_free(ns, sk->cache_idx, sk);
			return r;
		}
	}
	int r = sock_fd_install(efd, sk);
	if (r) {
		if (ops->release)
			ops->release(sk);
		close(efd);
		ns_cache_free(ns, sk->cache_idx, sk);
		return r;
	}
	*out = sk;
	return 0;
}

int sock_alloc_child(struct sock *parent, struct sock **out)
{
	struct netns *ns = parent->ns;
	struct sock *sk = sock_obj_alloc(ns, parent->ops);
	if (!sk)
		return -ENOMEM;
	atomic_flag_clear(&sk->rq_lock);
	atomic_flag_clear(&sk->reader_lock);
	atomic_flag_clear(&sk->wq_lock);
	pkt_queue_init(&sk->reader);
	pkt_queue_init(&sk->rcvq);
	pkt_queue_init(&sk->errq);
	sk->ns = ns;
	sk->ops = parent->ops;
	sk->fd = -1;
	sk->family = parent->family;
	sk->type = parent->type;
	sk->protocol = parent->protocol;
	sk->refs = 1;
	/* sk_clone_lock: the SOL_SOCKET settings come along, O_NONBLOCK does
	 * not (it belongs to the listener's open file) */
	sk->flags = parent->flags & ~(SKF_STAMP_IOCTL);
	sk->inet_flags = parent->inet_flags;
	sk->bound_dev_if = parent->bound_dev_if;
	sk->tos = parent->tos;
	sk->ttl = parent->ttl;
	sk->pmtudisc = parent->pmtudisc;
	sk->mc_ttl = parent->mc_ttl;
	sk->sndbuf = parent->sndbuf;
	sk->rcvbuf = parent->rcvbuf;
	sk->rcvlowat = parent->rcvlowat;
	/* sk_clone_lock copies sk_peek_off along with the rest */
	sk->peek_off = parent->peek_off;
	sk->rcvtimeo_ns = parent->rcvtimeo_ns;
	sk->sndtimeo_ns = parent->sndtimeo_ns;
	sk->priority = parent->priority;
	sk->mark = parent->mark;
	sk->linger_secs = parent->linger_secs;
	sk->busy_poll_us = parent->busy_poll_us;
	sk->busy_poll_set = parent->busy_poll_set;
	*out = sk;
	return 0;
}

int sk_set_peek_off(struct sock *sk, int val)
{
	__atomic_store_n(&sk->peek_off, val, __ATOMIC_RELAXED);
	return 0;
}

int sock_attach_fd(struct sock *sk, int flags)
{
	int efd = eventfd(0, EFD_NONBLOCK | ((flags & SOCK_CLOEXEC) ? EFD_CLOEXEC : 0));
	if (efd < 0)
		return -errno;
	sk->fd = efd;
	sk->nonblock = flags & SOCK_NONBLOCK;
	int r = sock_fd_install(efd, sk);
	if (r) {
		sk->fd = -1;
		close(efd);
		return r;
	}
	return efd;
}

void sock_put_locked(struct sock *sk)
{
	if (--sk->refs == 0) {
		if (atomic_load(&sk->arefs))
			atomic_store(&sk->free_pending, true);
		else
			sock_free(sk);
	}
}

static __thread bool tl_sigpipe;

void sock_sigpipe(void)
{
	tl_sigpipe = true;
}

/* sock_raise_sigpipe - at the public edge, after the lock is gone: send_sig(SIGPIPE, current). */
void sock_raise_sigpipe(void)
{
	if (tl_sigpipe) {
		tl_sigpipe = false;
		pthread_kill(pthread_self(), SIGPIPE);
	}
}

/* sock_close - close(2) on a socket descriptor (lock held via sock_get_locked; returns unlocked). */
int sock_close_locked(struct sock *sk)
{
	int fd = sk->fd;
	sock_fd_clear(fd);
	__atomic_store_n(&sk->closed, true, __ATOMIC_RELEASE);
	if (sk->ops->close)
		sk->ops->close(sk);
	/* the descriptor's reference, then ours from sock_get_locked */
	sk->refs--;
	sock_put_unlock(sk);
	/* Only now may the kernel hand the number out again. */
	return close(fd) < 0 ? -errno : 0;
}

/* ---- waiting ---- */

static inline int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}


static __thread int thread_efd = -1;

static int get_thread_efd(void)
{
	if (thread_efd < 0)
		thread_efd = eventfd(0, EFD_CLOEXEC);
	return thread_efd;
}

/* wait queue lock held */
static void wait_link(struct sock *sk, struct wait_entry *w)
{
	w->next = sk->waiters;
	if (w->next)
		w->next->pprev = &w->next;
	w->pprev = &sk->waiters;
	sk->waiters = w;
}

static void wait_unlink(struct wait_entry *w)
{
	if (!w->pprev)
		return;
	*w->pprev = w->next;
	if (w->next)
		w->next->pprev = w->pprev;
	w->next = NULL;
	w->pprev = NULL;
}

/*
 * sk_wake - the state changed before this call; a waiter that linked itself
 * after we released the wait-queue lock re-reads the state after linking,
 * so it sees the change (the lock orders the two).
 */
void sk_wake(struct sock *sk, uint32_t ev)
{
	/* A full barrier, then a look at the list without its lock: a waiter
	 * links itself, fences (sock_wait_entry_add) and only then re-reads
	 * the state, so either it sees what this wake-up announces or we see
	 * it linked (wq_has_sleeper's pairing).  Most wake-ups find nobody. */
	atomic_fetch_add_explicit(&sk->ev_seq, 1, memory_order_seq_cst);
	if (!__atomic_load_n(&sk->waiters, __ATOMIC_SEQ_CST))
		return;
	wq_lock(sk);
	struct wait_entry *w = sk->waiters, *next;
	for (; w; w = next) {
		next = w->next;
		if (!(w->events & ev))
			continue;
		wait_unlink(w);
		w->woken = true;
		uint64_t one = 1;
		ssize_t r = write(w->efd, &one, sizeof(one));
		(void)r;
	}
	wq_unlock(sk);
}

int sock_wait_entry_add(struct sock *sk, struct wait_entry *w, uint32_t events)
{
	int efd = get_thread_efd();
	if (efd < 0)
		return -ENOMEM;
	w->efd = efd;
	w->events = events | POLLERR | POLLHUP;
	w->woken = false;
	w->next = NULL;
	w->pprev = NULL;
	wq_lock(sk);
	wait_link(sk, w);
	wq_unlock(sk);
	/* pairs with sk_wake's barrier: our link is visible before we re-read state */
	atomic_thread_fence(memory_order_seq_cst);
	return 0;
}

void sock_wait_entry_del(struct sock *sk, struct wait_entry *w)
{
	wq_lock(sk);
	wait_unlink(w);
	wq_unlock(sk);
}

int sock_thread_efd(void)
{
	return get_thread_efd();
}


/*
 * spin_for_event - before sleeping, watch the socket's wake-up counter for
 * busy_poll_us (SO_BUSY_POLL, else the namespace's usock.busy_poll): an event that
 * comes within it costs no system call on either side, which is where a
 * user-space stack's latency comes from.  Lock dropped while spinning.
 * Return: true if something happened, up to the moment the lock is taken
 * back: an event between the end of the spin and the caller linking its
 * waiter would otherwise be missed (wake-ups happen under the lock).
 */
static bool spin_for_event(struct sock *sk)
{
	if (!sk->busy_poll_us)
		return false;
	uint32_t seq = atomic_load_explicit(&sk->ev_seq, memory_order_acquire);
	struct netns *ns = sk->ns;
	int64_t end = mono_ns() + (int64_t)sk->busy_poll_us * 1000;
	bool hit = false;
	netns_unlock(ns);
	for (unsigned i = 0;; i++) {
		if (atomic_load_explicit(&sk->ev_seq, memory_order_acquire) != seq) {
			hit = true;
			break;
		}
		__builtin_ia32_pause();
		if ((i & 63) == 63 && mono_ns() >= end)
			break;
	}
	netns_lock(ns);
	return hit || atomic_load_explicit(&sk->ev_seq, memory_order_acquire) != seq;
}

static int sk_wait_released(struct sock *sk, uint32_t events, int64_t *timeo_ns);

int sk_wait(struct sock *sk, uint32_t events, int64_t *timeo_ns)
{
	if (*timeo_ns == 0)
		return -EAGAIN;
	/* sk_wait_event: release_sock first; what the backlog held may be
	 * what the caller waits for, so that counts as a wake-up */
	bool owned = sk->owned_by_user;
	if (owned && sock_release(sk)) {
		sk->owned_by_user = true;
		return 0;
	}
	int r = sk_wait_released(sk, events, timeo_ns);
	sk->owned_by_user = owned;
	return r;
}

static int sk_wait_released(struct sock *sk, uint32_t events, int64_t *timeo_ns)
{
	sk->refs++;
	bool hit = spin_for_event(sk);
	sk->refs--;
	if (hit)
		return 0;
	struct wait_entry w;
	int r = sock_wait_entry_add(sk, &w, events);
	if (r)
		return r;
	struct netns *ns = sk->ns;
	sk->refs++;
	int64_t t0 = mono_ns();
	netns_unlock(ns);
	r = 0;
	uint64_t v;
	if (*timeo_ns < 0) {
		if (read(w.efd, &v, sizeof(v)) < 0 && errno == EINTR)
			r = -EINTR;
	} else {
		struct timespec ts = {*timeo_ns / 1000000000, *timeo_ns % 1000000000};
		struct pollfd p = {.fd = w.efd, .events = POLLIN};
		int n = ppoll(&p, 1, &ts, NULL);
		if (n < 0 && errno == EINTR)
			r = -EINTR;
		else if (n > 0 && read(w.efd, &v, sizeof(v)) < 0)
			r = 0;
	}
	netns_lock(ns);
	sock_wait_entry_del(sk, &w);
	sk->refs--;
	if (*timeo_ns > 0) {
		int64_t left = *timeo_ns - (mono_ns() - t0);
		*timeo_ns = left > 0 ? left : 0;
		if (left <= 0 && r == 0)
			r = -EAGAIN;
	}
	return r;
}

void sk_report_error(struct sock *sk, int err)
{
	sk->err = err;
	sk_wake(sk, POLLERR | POLLIN | POLLOUT);
}

/* ---- copying ---- */

int sk_copy_from_iov(const struct sk_msg *m, size_t off, void *dst, size_t len)
{
	uint8_t *d = dst;
	for (size_t i = 0; i < m->iovlen && len; i++) {
		size_t il = m->iov[i].iov_len;
		if (off >= il) {
			off -= il;
			continue;
		}
		size_t n = il - off < len ? il - off : len;
		if (copy_from_user(d, (const uint8_t *)m->iov[i].iov_base + off, n))
			return -EFAULT;
		d += n;
		len -= n;
		off = 0;
	}
	return 0;
}

int sk_copy_pkt_to_iov(const struct sk_msg *m, const struct pkt *pk, size_t off, size_t len)
{
	/* walk packet pieces and iov segments together: no bounce buffer */
	const struct pkt *p = pk;
	size_t poff = off;
	while (p && poff >= p->len) {
		poff -= p->len;
		p = p->frag;
	}
	size_t ioff = m->iov_off;
	size_t i = 0;
	while (i < m->iovlen && ioff >= m->iov[i].iov_len) {
		ioff -= m->iov[i].iov_len;
		i++;
	}
	while (len && p && i < m->iovlen) {
		size_t n = p->len - poff;
		size_t room = m->iov[i].iov_len - ioff;
		if (n > room)
			n = room;
		if (n > len)
			n = len;
		if (n && copy_to_user((uint8_t *)m->iov[i].iov_base + ioff, p->data + poff, n))
			return -EFAULT;
		len -= n;
		poff += n;
		ioff += n;
		if (poff == p->len) {
			p = p->frag;
			poff = 0;
		}
		if (ioff == m->iov[i].iov_len) {
			i++;
			ioff = 0;
		}
	}
	return 0;
}

int sk_put_cmsg(struct sk_msg *m, int level, int type, const void *data, size_t len)
{
	if (!m->user_control) {
		m->msg_flags |= MSG_CTRUNC;
		return 0;
	}
	size_t room = m->user_controllen > m->control_used ? m->user_controllen - m->control_used : 0;
	/* put_cmsg: no room even for the header -> MSG_CTRUNC; partial data truncated. */
	if (room < sizeof(struct cmsghdr)) {
		m->msg_flags |= MSG_CTRUNC;
		return 0;
	}
	size_t cmlen = CMSG_LEN(len);
	if (room < cmlen) {
		m->msg_flags |= MSG_CTRUNC;
		cmlen = room;
	}
	struct cmsghdr h = {.cmsg_len = cmlen, .cmsg_level = level, .cmsg_type = type};
	uint8_t *dst = (uint8_t *)m->user_control + m->control_used;
	if (copy_to_user(dst, &h, sizeof(h)) ||
	    copy_to_user(dst + CMSG_LEN(0), data, cmlen - CMSG_LEN(0)))
		return -EFAULT;
	size_t used = CMSG_SPACE(len);
	m->control_used += used < room ? used : room;
	return 0;
}

void sk_recv_timestamps(struct sock *sk, struct sk_msg *m, const struct pkt *pk)
{
	uint64_t t = pk->meta.tstamp_ns;
	sk->stamp_ns = t;
	sk->stamp_read = true;
	/* __sock_recv_timestamp, then sock_recv_drops */
	if (sk->flags & SKF_TIMESTAMP) {
		if (!(sk->flags & SKF_TIMESTAMPNS)) {
			struct timeval tv = {(time_t)(t / 1000000000ull),
					     (suseconds_t)((t % 1000000000ull) / 1000)};
			sk_put_cmsg(m, SOL_SOCKET, SO_TIMESTAMP_OLD, &tv, sizeof(tv));
		} else {
			struct timespec ts = {(time_t)(t / 1000000000ull),
					      (long)(t % 1000000000ull)};
			sk_put_cmsg(m, SOL_SOCKET, SO_TIMESTAMPNS_OLD, &ts, sizeof(ts));
		}
	}
	if ((sk->flags & SKF_RXQ_OVFL) && pk->meta.dropcount)
		sk_put_cmsg(m, SOL_SOCKET, SO_RXQ_OVFL, &pk->meta.dropcount, sizeof(uint32_t));
}


/* ---- SOL_SOCKET ---- */

/* sizeof(struct sk_buff) rounded to a cache line, as SKB_DATA_ALIGN does on x86_64 6.x. */
#define SKB_STRUCT_SIZE 256
#define SOCK_MIN_SNDBUF (2 * (2048 + SKB_STRUCT_SIZE))
#define SOCK_MIN_RCVBUF (2048 + SKB_STRUCT_SIZE)

int64_t sock_timeo_from_tv(long sec, long usec)
{
	long hz = sock_hz();
	if (sec == 0 && usec == 0)
		return -1;
	if (sec < 0)
		return 0;
	/* sock_set_timeout: a time too long for the jiffies is "forever" */
	if (sec >= INT64_MAX / 1000000000 - 1)
		return -1;
	int64_t jiffies = (int64_t)sec * hz + (usec + (1000000 / hz) - 1) / (1000000 / hz);
	return jiffies * (1000000000 / hz);
}

static int set_timeo(int64_t *timeo, const void *val, socklen_t len)
{
	/* sock_set_timeout, old timeval layout */
	struct timeval tv;
	if (len < sizeof(tv))
		return -EINVAL;
	memcpy(&tv, val, sizeof(tv));
	if (tv.tv_usec < 0 || tv.tv_usec >= 1000000)
		return -EDOM;
	*timeo = sock_timeo_from_tv(tv.tv_sec, tv.tv_usec);
	return 0;
}

static void get_timeo(int64_t timeo, struct timeval *tv)
{
	/* sock_get_timeout: report what the jiffies hold */
	long hz = sock_hz();
	if (timeo < 0) {
		tv->tv_sec = 0;
		tv->tv_usec = 0;
		return;
	}
	int64_t j = timeo / (1000000000 / hz);
	tv->tv_sec = j / hz;
	tv->tv_usec = (j % hz) * 1000000 / hz;
}

static void set_flag(struct sock *sk, uint32_t f, bool on)
{
	if (on)
		sk->flags |= f;
	else
		sk->flags &= ~f;
}

/*
 * sock_setsockopt - sk_setsockopt's behaviour for the options usock knows.
 * Return: 0, -EINVAL (short optlen), -EDOM (bad timeval), -EPERM,
 * -ENOPROTOOPT (unknown or not settable), -EOPNOTSUPP.
 */
int sock_setsockopt(struct sock *sk, int name, const void *val, socklen_t len)
{
	struct netns *ns = sk->ns;
	if (name == SO_BINDTODEVICE) {
		char ifn[IFNAMSIZ] = {0};
		size_t n = len < IFNAMSIZ - 1 ? len : IFNAMSIZ - 1;
		memcpy(ifn, val, n);
		if (!ifn[0]) {
			sk->bound_dev_if = 0;
			return 0;
		}
		struct netdev *d = netns_dev_by_name(ns, ifn);
		if (!d)
			return -ENODEV;
		sk->bound_dev_if = d->ifindex;
		return 0;
	}
	if (name == SO_RCVTIMEO_OLD)
		return set_timeo(&sk->rcvtimeo_ns, val, len);
	if (name == SO_SNDTIMEO_OLD)
		return set_timeo(&sk->sndtimeo_ns, val, len);
	if (name == SO_LINGER) {
		struct linger l;
		if (len < sizeof(l))
			return -EINVAL;
		memcpy(&l, val, sizeof(l));
		/* turning lingering off leaves the old time in place */
		set_flag(sk, SKF_LINGER, l.l_onoff);
		if (l.l_onoff)
			sk->linger_secs = l.l_linger;
		return 0;
	}
	if (len < sizeof(int))
		return -EINVAL;
	int v;
	memcpy(&v, val, sizeof(v));
	bool b = v != 0;
	switch (name) {
	case SO_DEBUG:
		return 0;
	case SO_REUSEADDR:
		set_flag(sk, SKF_REUSEADDR, b);
		return 0;
	case SO_REUSEPORT:
		set_flag(sk, SKF_REUSEPORT, b);
		return 0;
	case SO_TYPE:
	case SO_PROTOCOL:
	case SO_DOMAIN:
	case SO_ERROR:
	case SO_ACCEPTCONN:
	case SO_PEERCRED:
	case SO_SNDLOWAT:
		return -ENOPROTOOPT;
	case SO_DONTROUTE:
		set_flag(sk, SKF_DONTROUTE, b);
		return 0;
	case SO_BROADCAST:
		set_flag(sk, SKF_BROADCAST, b);
		return 0;
	case SO_SNDBUF:
	case SO_SNDBUFFORCE: {
		unsigned u = (unsigned)v;
		if (name == SO_SNDBUF) {
			if (u > (unsigned)ns->sys.wmem_max)
				u = (unsigned)ns->sys.wmem_max;
		} else if (v < 0) {
			u = 0;
		}
		if (u > INT_MAX / 2)
			u = INT_MAX / 2;
		sk->flags |= SKF_SNDBUF_LOCK;
		sk->sndbuf = (int)u * 2 > SOCK_MIN_SNDBUF ? (int)u * 2 : SOCK_MIN_SNDBUF;
		if (sk->ops->sol_changed)
			sk->ops->sol_changed(sk, SO_SNDBUF);
		sk_wake(sk, POLLOUT);
		return 0;
	}
	case SO_RCVBUF:
	case SO_RCVBUFFORCE: {
		unsigned u = (unsigned)v;
		if (name == SO_RCVBUF) {
			if (u > (unsigned)ns->sys.rmem_max)
				u = (unsigned)ns->sys.rmem_max;
		} else if (v < 0) {
			u = 0;
		}
		if (u > INT_MAX / 2)
			u = INT_MAX / 2;
		sk->flags |= SKF_RCVBUF_LOCK;
		sk->rcvbuf = (int)u * 2 > SOCK_MIN_RCVBUF ? (int)u * 2 : SOCK_MIN_RCVBUF;
		return 0;
	}
	case SO_KEEPALIVE:
		set_flag(sk, SKF_KEEPALIVE, b);
		/* sk->sk_prot->keepalive: TCP arms or stops its timer */
		if (sk->ops->sol_changed)
			sk->ops->sol_changed(sk, SO_KEEPALIVE);
		return 0;
	case SO_OOBINLINE:
		set_flag(sk, SKF_OOBINLINE, b);
		return 0;
	case SO_NO_CHECK:
		return 0;
	case SO_PRIORITY:
		/* values outside 0..6 need CAP_NET_ADMIN, which the caller of a
		 * user-space stack is taken to have only if it is root */
		if ((v < 0 || v > 6) && geteuid() != 0)
			return -EPERM;
		sk->priority = v;
		return 0;
	case SO_MARK:
		if (geteuid() != 0)
			return -EPERM;
		sk->mark = (uint32_t)v;
		return 0;
	case SO_RCVLOWAT:
		sk->rcvlowat = v < 0 ? INT_MAX : (v ? v : 1);
		/* sk->sk_prot->set_rcvlowat: TCP caps it and grows the buffer */
		if (sk->ops->sol_changed)
			sk->ops->sol_changed(sk, SO_RCVLOWAT);
		return 0;
	case SO_TIMESTAMP_OLD:
	case SO_TIMESTAMPNS_OLD:
		/* sock_set_timestamp: SKF_TIMESTAMP is SOCK_RCVTSTAMP, SKF_TIMESTAMPNS
		 * picks the format; turning either off turns both off */
		if (b) {
			sk->flags |= SKF_TIMESTAMP;
			set_flag(sk, SKF_TIMESTAMPNS, name == SO_TIMESTAMPNS_OLD);
		} else {
			sk->flags &= ~(uint32_t)(SKF_TIMESTAMP | SKF_TIMESTAMPNS);
		}
		return 0;
	case SO_RXQ_OVFL:
		set_flag(sk, SKF_RXQ_OVFL, b);
		return 0;
	case SO_PASSCRED:
		set_flag(sk, SKF_PASSCRED, b);
		return 0;
	case SO_PEEK_OFF:
		/* sk_setsockopt: only a protocol with set_peek_off has one */
		return sk->ops->set_peek_off ? sk->ops->set_peek_off(sk, v) : -EOPNOTSUPP;
	case SO_ZEROCOPY:
		return -EOPNOTSUPP;
	case SO_BUSY_POLL:
		/* sk_setsockopt: negative is EINVAL; raising it needs CAP_NET_ADMIN */
		if (v < 0)
			return -EINVAL;
		if (v > sk->busy_poll_set && geteuid() != 0)
			return -EPERM;
		sk->busy_poll_set = v;
		sk->busy_poll_us = (uint32_t)v;
		return 0;
	case SO_INCOMING_CPU:
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

/*
 * sock_getsockopt - sk_getsockopt: values are copied truncated to the
 * caller's length, and the length is set to what was copied.
 * Return: 0 (val/len filled), -ENOPROTOOPT.
 */
int sock_getsockopt(struct sock *sk, int name, void *val, socklen_t *len)
{
	union {
		int i;
		struct linger l;
		struct timeval tv;
	} v;
	socklen_t lv = sizeof(int);
	memset(&v, 0, sizeof(v));
	switch (name) {
	case SO_DEBUG:
		v.i = 0;
		break;
	case SO_DONTROUTE:
		v.i = !!(sk->flags & SKF_DONTROUTE);
		break;
	case SO_BROADCAST:
		v.i = !!(sk->flags & SKF_BROADCAST);
		break;
	case SO_SNDBUF:
		v.i = sk->sndbuf;
		break;
	case SO_RCVBUF:
		v.i = sk->rcvbuf;
		break;
	case SO_REUSEADDR:
		v.i = !!(sk->flags & SKF_REUSEADDR);
		break;
	case SO_REUSEPORT:
		v.i = !!(sk->flags & SKF_REUSEPORT);
		break;
	case SO_KEEPALIVE:
		v.i = !!(sk->flags & SKF_KEEPALIVE);
		break;
	case SO_TYPE:
		v.i = sk->type;
		break;
	case SO_PROTOCOL:
		v.i = sk->protocol;
		break;
	case SO_DOMAIN:
		v.i = sk->family;
		break;
	case SO_ERROR:
		v.i = -sk_sock_error(sk);
		if (!v.i) {
			v.i = sk->err_soft;
			sk->err_soft = 0;
		}
		break;
	case SO_OOBINLINE:
		v.i = !!(sk->flags & SKF_OOBINLINE);
		break;
	case SO_NO_CHECK:
		v.i = 0;
		break;
	case SO_PRIORITY:
		v.i = sk->priority;
		break;
	case SO_LINGER:
		lv = sizeof(v.l);
		v.l.l_onoff = !!(sk->flags & SKF_LINGER);
		v.l.l_linger = sk->linger_secs;
		break;
	case SO_TIMESTAMP_OLD:
		v.i = (sk->flags & SKF_TIMESTAMP) && !(sk->flags & SKF_TIMESTAMPNS);
		break;
	case SO_TIMESTAMPNS_OLD:
		v.i = !!(sk->flags & SKF_TIMESTAMPNS);
		break;
	case SO_RCVTIMEO_OLD:
		lv = sizeof(v.tv);
		get_timeo(sk->rcvtimeo_ns, &v.tv);
		break;
	case SO_SNDTIMEO_OLD:
		lv = sizeof(v.tv);
		get_timeo(sk->sndtimeo_ns, &v.tv);
		break;
	case SO_RCVLOWAT:
		v.i = sk->rcvlowat;
		break;
	case SO_SNDLOWAT:
		v.i = 1;
		break;
	case SO_PASSCRED:
		v.i = !!(sk->flags & SKF_PASSCRED);
		break;
	case SO_ACCEPTCONN:
		v.i = sk->type == SOCK_STREAM && sk->state == 10 /* TCP_LISTEN */;
		break;
	case SO_MEMINFO: {
		/* sk_get_meminfo: SK_MEMINFO_VARS u32s, as many as fit */
		uint32_t mi[9] = {0};
		mi[0] = sk->rmem;		/* RMEM_ALLOC */
		mi[1] = (uint32_t)sk->rcvbuf;
		mi[2] = sk->wmem;		/* WMEM_ALLOC */
		mi[3] = (uint32_t)sk->sndbuf;
		mi[4] = 0;			/* FWD_ALLOC */
		mi[5] = sk->ops->wmem_queued ? sk->ops->wmem_queued(sk) : 0;
		mi[6] = 0;			/* OPTMEM */
		mi[7] = 0;			/* BACKLOG */
		mi[8] = sk->drops;
		if ((int)*len < 0)
			return -EINVAL;
		if ((size_t)*len > sizeof(mi))
			*len = sizeof(mi);
		memcpy(val, mi, (size_t)*len);
		return 0;
	}
	case SO_MARK:
		v.i = (int)sk->mark;
		break;
	case SO_RXQ_OVFL:
		v.i = !!(sk->flags & SKF_RXQ_OVFL);
		break;
	case SO_BINDTODEVICE: {
		/* sock_getbindtodevice copies the name with its NUL */
		char ifn[IFNAMSIZ] = {0};
		struct netdev *d = netns_dev_by_index(sk->ns, sk->bound_dev_if);
		size_t n = d ? strlen(d->name) + 1 : 0;
		if (d)
			memcpy(ifn, d->name, n);
		if (*len < (socklen_t)n)
			return -EINVAL;
		memcpy(val, ifn, n);
		*len = (socklen_t)n;
		return 0;
	}
	case SO_PEEK_OFF:
		if (!sk->ops->set_peek_off)
			return -EOPNOTSUPP;
		v.i = __atomic_load_n(&sk->peek_off, __ATOMIC_RELAXED);
		break;
	case SO_BUSY_POLL:
		v.i = sk->busy_poll_set;
		break;
	case SO_INCOMING_CPU:
		v.i = 0;
		break;
	case SO_ZEROCOPY:
		v.i = 0;
		break;
	default:
		return -ENOPROTOOPT;
	}
	if (*len > lv)
		*len = lv;
	memcpy(val, &v, *len);
	return 0;
}

int sock_cmsg_send(struct sock *sk, const struct cmsghdr *c, struct sockcm *cm)
{
	/* __sock_cmsg_send */
	const void *d = CMSG_DATA(c);
	size_t dl = c->cmsg_len - CMSG_LEN(0);
	switch (c->cmsg_type) {
	case SO_MARK:
		if (geteuid() != 0)
			return -EPERM;
		if (dl != sizeof(uint32_t))
			return -EINVAL;
		memcpy(&cm->mark, d, sizeof(uint32_t));
		return 0;
	case SO_PRIORITY: {
		if (dl != sizeof(uint32_t))
			return -EINVAL;
		uint32_t p;
		memcpy(&p, d, sizeof(p));
		if (p > 6 && geteuid() != 0)
			return -EPERM;
		cm->priority = (int)p;
		return 0;
	}
	case SO_TIMESTAMPING_OLD:
		if (dl != sizeof(uint32_t))
			return -EINVAL;
		return 0;
	case SCM_TXTIME:
		if (dl != sizeof(uint64_t))
			return -EINVAL;
		memcpy(&cm->txtime, d, sizeof(uint64_t));
		return 0;
	/* SCM_RIGHTS and SCM_CREDENTIALS are AF_UNIX's; for others they are ignored. */
	case SCM_RIGHTS:
	case SCM_CREDENTIALS:
		return 0;
	default:
		return -EINVAL;
	}
}
