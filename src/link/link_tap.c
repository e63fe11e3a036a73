/* SPDX-License-Identifier: MIT */
/*
 * link_tap.c - a kernel TAP device as a usock link
 *
 * Theory of operation.  The TAP device (IFF_TAP | IFF_NO_PI) carries
 * Ethernet frames between usock and the kernel's own stack: what usock
 * transmits is written to the TAP fd and arrives in the kernel as if
 * received on the tapN interface; what the kernel sends out of tapN is read
 * by the namespace's worker thread and copied in with netdev_rx_buf, which
 * never waits for the namespace lock.  The device is created in the network
 * namespace of the thread that opens it and, not being persistent, goes
 * away when usock closes the fd.  The fd is non-blocking; a write that
 * fails drops the frame, as a NIC without carrier would.  Needs
 * CAP_NET_ADMIN.
 *
 * Lifetime.  The worker calls the reader without the namespace lock, from
 * a copy of its watch list, so the reader may run while the device is
 * being removed under the lock, or once more after.  The reader therefore
 * announces itself in `readers` and gives up when `dead` is set; destroy
 * sets `dead`, then waits for `readers` to drop to zero (the reader never
 * waits for the lock, so this cannot deadlock) before it closes the fd and
 * lets the device go.  The small tap_priv stays in the arena for a late
 * call to read `dead`: each open/remove cycle leaks its few bytes until
 * the namespace goes.
 *
 * A TAP device removed from the kernel side (`ip link del`, or its
 * namespace deleted) leaves an fd that polls as an error forever; the
 * reader then stops watching it instead of spinning, and transmits are
 * dropped.
 *
 * Egress netem (`qdisc add dev D root netem ...`, see qdisc.c) sits
 * between the stack and the fd, as a root qdisc sits before a NIC's
 * driver: each frame usock sends is drawn for (lost, duplicated, delayed,
 * reordered, paced) and, when its time comes, written to the fd.  A held
 * frame waits on the namespace timer base; here, in real time, the worker
 * thread fires that timer under the namespace lock and does the write.
 * The kernel's own frames towards usock are not touched: to impair those,
 * use netem in the kernel (on tapN's egress).  Taking the interface down
 * drops the held frames; removing it frees them before the fd closes.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if_arp.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "link/link.h"
#include "link/qdisc.h"
#include "net/netns_internal.h"

/* The largest frame read or written: a 64 KiB MTU plus the Ethernet header. */
#define TAP_FRAME_MAX (65536 + 64)
/* Frames read per wake-up before the worker looks at its timers again. */
#define TAP_RX_BUDGET 64
/* Pieces of a packet chain written with one writev. */
#define TAP_TX_IOV 32

struct tap_priv {
	int fd;
	struct netns *ns;
	struct netdev *dev;
	atomic_int readers;	/* reader calls in progress */
	atomic_bool dead;	/* destroy has begun: readers keep out */
	bool watched;		/* the worker polls fd (lock held to change) */
	struct qdisc qd;	/* netem on what usock writes (lock held) */
};

/* Rare: a chain of more pieces than TAP_TX_IOV, written from one flat copy. */
static __attribute__((noinline)) ssize_t tap_write_flat(int fd, const struct pkt *pk)
{
	uint8_t frame[TAP_FRAME_MAX];
	size_t n = pkt_copy_out(pk, 0, frame, pk->tot_len);

	return write(fd, frame, n);
}

/*
 * tap_out - hand one frame to the kernel now, each piece of the chain as
 * one iovec (no copy); the qdisc's way to the wire; consumes pk.  A frame
 * the kernel refuses (device down or gone, too large) is dropped and
 * counted in tx_dropped.
 * Return: 0, -EMSGSIZE (larger than a TAP frame), or the write's -errno
 * (-EIO for a short write).
 */
static int tap_out(struct netdev *dev, struct pkt *pk)
{
	struct tap_priv *tp = dev->priv;
	struct iovec iov[TAP_TX_IOV];
	size_t left = pk->tot_len;
	const struct pkt *p;
	ssize_t r = -1;
	int n = 0, err = 0;

	if (pk->tot_len > TAP_FRAME_MAX) {
		dev->tx_dropped++;
		pkt_free(pk);
		return -EMSGSIZE;
	}
	for (p = pk; p && left && n < TAP_TX_IOV; p = p->frag) {
		size_t len = p->len < left ? p->len : left;

		if (!len)
			continue;
		iov[n].iov_base = p->data;
		iov[n].iov_len = len;
		left -= len;
		n++;
	}
	if (left)
		r = tap_write_flat(tp->fd, pk);
	else if (n)
		r = writev(tp->fd, iov, n);
	if (r != (ssize_t)pk->tot_len) {
		err = r < 0 && (left || n) ? -errno : -EIO;
		dev->tx_dropped++;
	}
	pkt_free(pk);
	return err;
}

/* tap_xmit - through the qdisc when netem is installed, else straight out. Return: 0. */
static int tap_xmit(struct netdev *dev, struct pkt *pk)
{
	struct tap_priv *tp = dev->priv;

	if (qdisc_active(&tp->qd))
		qdisc_enqueue(&tp->qd, pk);
	else
		tap_out(dev, pk);
	return 0;
}

static void tap_set_up(struct netdev *dev, bool up)
{
	struct tap_priv *tp = dev->priv;

	if (tp && !up)
		qdisc_reset(&tp->qd);
}

/* The fd failed for good (the kernel removed the device): stop watching it. */
static void tap_unwatch(struct tap_priv *tp)
{
	netns_lock(tp->ns);
	if (!atomic_load(&tp->dead) && tp->watched) {
		netns_worker_del_fd(tp->ns, tp->fd);
		tp->watched = false;
	}
	netns_unlock(tp->ns);
}

/* tap_readable - worker thread, no namespace lock held: copy frames in. */
static void tap_readable(void *arg)
{
	uint8_t buf[TAP_FRAME_MAX];	/* the worker's own stack: only it reads */
	struct tap_priv *tp = arg;
	bool failed = false;

	atomic_fetch_add(&tp->readers, 1);
	for (int i = 0; i < TAP_RX_BUDGET && !atomic_load(&tp->dead); i++) {
		ssize_t n = read(tp->fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			/* EBADFD: the device is gone; nothing will ever come */
			failed = true;
			break;
		}
		netdev_rx_buf(tp->dev, buf, (size_t)n);
	}
	atomic_fetch_sub(&tp->readers, 1);
	/* outside the readers window: destroy may be waiting on it with the lock */
	if (failed)
		tap_unwatch(tp);
}

static void tap_destroy(struct netdev *dev)
{
	struct tap_priv *tp = dev->priv;

	if (!tp)
		return;
	qdisc_destroy(&tp->qd);	/* held frames go before the fd */
	atomic_store(&tp->dead, true);
	/* a reader in progress finishes within its budget without the lock */
	while (atomic_load(&tp->readers))
		sched_yield();
	if (tp->watched)
		netns_worker_del_fd(dev->ns, tp->fd);
	tp->watched = false;
	close(tp->fd);
	tp->fd = -1;
	tp->dev = NULL;
	dev->priv = NULL;
}

static const struct link_ops link_tap_ops = {
	.kind = "tap",
	.xmit = tap_xmit,
	.set_up = tap_set_up,
	.destroy = tap_destroy,
};

/*
 * link_tap_open - attach TAP device tapname (made if missing, in the
 * calling thread's network namespace) as interface ifname of ns, down and
 * without addresses, as a new interface is.
 * Return: 0, or -errno: -EINVAL (a name too long or empty), -EEXIST
 * (ifname taken), -EPERM (no CAP_NET_ADMIN), -EBUSY (tapname in use),
 * -ENOMEM, -ENOSPC, or what opening /dev/net/tun gives.
 */
int link_tap_open(struct netns *ns, const char *ifname, const char *tapname)
{
	struct tap_priv *tp = NULL;
	struct netdev *d;
	struct ifreq ifr;
	int fd, err;

	if (!*tapname || strlen(tapname) >= IFNAMSIZ || !*ifname || strlen(ifname) >= IFNAMSIZ)
		return -EINVAL;
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	memcpy(ifr.ifr_name, tapname, strlen(tapname));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	netns_lock(ns);
	d = netns_dev_add(ns, ifname, &link_tap_ops, ARPHRD_ETHER, &err);
	if (d)
		tp = arena_alloc(ns->arena, sizeof(*tp));
	if (!d || !tp) {
		if (d)
			netns_dev_remove(ns, d);
		netns_unlock(ns);
		close(fd);
		return d ? -ENOMEM : err;
	}
	tp->fd = fd;
	tp->ns = ns;
	tp->dev = d;
	atomic_init(&tp->readers, 0);
	atomic_init(&tp->dead, false);
	d->priv = tp;
	qdisc_init(&tp->qd, d, tap_out);
	err = netns_worker_add_fd(ns, fd, tap_readable, tp);
	if (err == 0 || err != -ENOSPC)
		tp->watched = true;	/* added (a worker that failed to start still lists it) */
	if (err)
		netns_dev_remove(ns, d);	/* closes fd */
	netns_unlock(ns);
	return err;
}
