/* SPDX-License-Identifier: MIT */
/*
 * qdisc.h - netem on a link's egress, shared by the backends that have one
 *
 * A backend that offers `qdisc ... root netem` (veth, TAP) embeds a struct
 * qdisc in its private state, attaches it with qdisc_init and, in its
 * xmit, hands frames to qdisc_enqueue while qdisc_active says so.  The
 * qdisc gives each frame back, now or when its time comes, through the
 * backend's out function, which puts it on the wire.  The configuration
 * side (ipcmd.c) speaks to any device through qdisc_set and qdisc_get.
 * Everything here runs under the device's namespace lock.
 */
#ifndef USOCK_LINK_QDISC_H
#define USOCK_LINK_QDISC_H

#include <stdbool.h>
#include <stdint.h>

#include "core/timer.h"
#include "link/link.h"

struct pkt;

/*
 * qdisc_out_fn - put one frame on the wire now; consumes pk.  Called from
 * qdisc_enqueue (a frame due at once) or from the qdisc's timer.
 * Return: 0 if the frame was handed over (counted as sent), -errno if the
 * backend dropped it (the backend counts that in tx_dropped).
 */
typedef int (*qdisc_out_fn)(struct netdev *dev, struct pkt *pk);

/* One device's egress netem; the fields are the qdisc module's own. */
struct qdisc {
	struct netdev *dev;
	qdisc_out_fn out;
	bool on;			/* settings installed (all below is used only then) */
	struct link_impair imp;
	uint64_t rng;			/* splitmix64 state */
	struct pkt *qhead, *qtail;	/* held frames, sorted by release time */
	uint64_t last_inorder;		/* latest release of a frame not reordered */
	uint64_t busy_until;		/* end of the last serialisation (rate) */
	struct timer timer;
	struct link_impair_stats st;
};

/*
 * qdisc_init - attach q to dev (dev->qdisc = q), off, with out as the way
 * to the wire.  q needs no other set-up (zeroed or not).
 */
void qdisc_init(struct qdisc *q, struct netdev *dev, qdisc_out_fn out);
/* qdisc_active - whether frames sent now must go through qdisc_enqueue. */
static inline bool qdisc_active(const struct qdisc *q)
{
	return q->on;
}
/* qdisc_enqueue - the netem path of one frame sent on q's device; consumes pk. */
void qdisc_enqueue(struct qdisc *q, struct pkt *pk);
/* qdisc_reset - drop every held frame (device down), as the kernel's qdisc_reset. */
void qdisc_reset(struct qdisc *q);
/* qdisc_destroy - qdisc_reset and detach from the device (device going away). */
void qdisc_destroy(struct qdisc *q);

/*
 * qdisc_set - install (imp) or remove (NULL) netem on frames sent on dev;
 * dev's namespace lock held.  Installing restarts the PRNG from imp->seed
 * and zeroes the counters; frames already held keep their release times
 * either way.
 * Return: 0, -EOPNOTSUPP (dev has no qdisc: loopback), -EINVAL (a ppm
 * over 1000000).
 */
int qdisc_set(struct netdev *dev, const struct link_impair *imp);
/*
 * qdisc_get - the installed settings and counters (either pointer may be
 * NULL); dev's namespace lock held.
 * Return: 0, -EOPNOTSUPP (dev has no qdisc), -ENOENT (none installed).
 */
int qdisc_get(struct netdev *dev, struct link_impair *imp, struct link_impair_stats *st);

#endif
