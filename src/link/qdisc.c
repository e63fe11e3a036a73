/* SPDX-License-Identifier: MIT */
/*
 * qdisc.c - netem on a link's egress: loss, delay, jitter, reordering, duplication, rate
 *
 * Theory of operation.  A qdisc acts on the frames sent on one device, as
 * netem at the root of an egress device (`qdisc add dev D root netem ...`).
 * It lives inside its backend's private state (veth end, TAP device) and
 * hands frames to the wire through the backend's out function.  It owns:
 * - its settings and a splitmix64 PRNG seeded from them.  Every frame takes
 *   the same four draws in the same order (loss, duplicate, reorder,
 *   jitter; two more for a duplicate), whether or not the feature is on, so
 *   the decisions depend only on the seed and the sequence of frames sent on
 *   this device: other traffic in the namespace, or netns_random, never
 *   shifts them, and turning one knob does not reshuffle the others.
 * - a queue of held frames sorted by release time (ties: in the order they
 *   were queued), linked through pkt->next, at most `limit` long.  The
 *   frames are the sender's own packets, from its namespace's pools, so
 *   holding them allocates nothing; a duplicate is a copy from those pools.
 *   The release time rides in the frame's meta.tstamp_ns, a receive-time
 *   field that nothing reads on the way out (netem keeps it in skb->cb),
 *   and is cleared before the frame is handed over.
 * - one timer on the device's namespace timer base, armed at the head's
 *   release time; it hands every due frame to out under the namespace
 *   lock.  On virtual time the timer fires from usock_clock_advance[_all],
 *   so a whole in-memory run is determined by the seed and the steps; on
 *   real time (TAP) the namespace's worker thread fires it.
 * A frame due at once (no delay, nothing held before it) is handed over in
 * the sender's call, exactly as without netem.
 *
 * Capture: netdev_xmit writes the sender's pcap before the frame reaches
 * the backend, so a frame lost here still appears on the sender's capture
 * (at its send time).  Linux taps an egress device after its qdisc
 * (dev_queue_xmit_nit from dev_hard_start_xmit), so there a netem-dropped
 * frame is not captured on the sender's side: capture on the receiving
 * side to see exactly what crossed.
 *
 * Counters (qdisc_get, printed by `qdisc show`): a frame counts as sent
 * when out accepted it while settings are installed; a frame held when the
 * settings were removed drains on schedule without being counted.
 *
 * Taking the device down purges the held frames (qdisc_reset), as
 * dev_deactivate resets the device's qdisc, and forgets the schedule they
 * set (frames sent after it come back wait behind none of them); removing
 * the device frees them and cancels the timer (qdisc_destroy).
 *
 * Limits: at most `limit` frames held per device (each an ordinary pool
 * packet, so the pools bound them too); inserting behind a reordered frame
 * walks the queue.  If the namespace's timer heap were full, the head would
 * wait for the next frame sent on the device to re-arm it.
 */
#include <errno.h>
#include <string.h>

#include "link/qdisc.h"
#include "net/netns_internal.h"

#define QDISC_DEFAULT_LIMIT 1000u	/* netem's default limit */

/* splitmix64: tiny state, good enough statistics for loss draws, reproducible. */
static uint64_t qdisc_rand(struct qdisc *q)
{
	uint64_t z = (q->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* True with probability ppm / 1e6, from the top 32 bits of one draw. */
static bool qdisc_chance(uint64_t r, uint32_t ppm)
{
	return (((r >> 32) * 1000000ull) >> 32) < ppm;
}

/* Hand one frame to the backend now, counting it if it went; consumes pk. */
static void qdisc_release(struct qdisc *q, struct pkt *pk)
{
	uint32_t len = pk->tot_len;
	bool count = q->on;

	pk->next = NULL;
	pk->meta.tstamp_ns = 0;
	if (q->out(q->dev, pk) == 0 && count) {
		q->st.sent_packets++;
		q->st.sent_bytes += len;
	}
}

/* Unlink and return the head of the held queue, or NULL. */
static struct pkt *qdisc_pop(struct qdisc *q)
{
	struct pkt *pk = q->qhead;

	if (!pk)
		return NULL;
	q->qhead = pk->next;
	if (!q->qhead)
		q->qtail = NULL;
	pk->next = NULL;
	q->st.backlog_packets--;
	q->st.backlog_bytes -= pk->tot_len;
	return pk;
}

void qdisc_reset(struct qdisc *q)
{
	struct pkt *pk;

	netns_timer_cancel(q->dev->ns, &q->timer);
	while ((pk = qdisc_pop(q)) != NULL)
		pkt_free(pk);
	/* nothing is held now: a frame sent later waits behind no purged one
	 * (netem_reset empties the tfifo that netem_enqueue schedules after) */
	q->last_inorder = 0;
	q->busy_until = 0;
}

void qdisc_destroy(struct qdisc *q)
{
	qdisc_reset(q);
	q->on = false;
	if (q->dev->qdisc == q)
		q->dev->qdisc = NULL;
}

/* The timer: release every frame whose time has come, re-arm for the next. */
static void qdisc_timer_fn(struct timer *t, void *arg)
{
	struct qdisc *q = arg;
	uint64_t now = netns_now(q->dev->ns);

	(void)t;
	while (q->qhead && q->qhead->meta.tstamp_ns <= now)
		qdisc_release(q, qdisc_pop(q));	/* may re-enter qdisc_enqueue */
	if (q->qhead)
		netns_timer_arm(q->dev->ns, &q->timer, q->qhead->meta.tstamp_ns);
}

/*
 * Queue pk to leave at time 'when' (after any frame already due by then),
 * or hand it over now when it is due and nothing held goes first; consumes pk.
 */
static void qdisc_hold(struct qdisc *q, struct pkt *pk, uint64_t when, uint64_t now)
{
	uint32_t limit = q->imp.limit ? q->imp.limit : QDISC_DEFAULT_LIMIT;
	struct pkt **pp;

	if (when <= now && (!q->qhead || q->qhead->meta.tstamp_ns > when)) {
		qdisc_release(q, pk);
		return;
	}
	if (q->st.backlog_packets >= limit) {
		q->st.overlimit++;
		q->st.dropped++;
		pkt_free(pk);
		return;
	}
	pk->meta.tstamp_ns = when;
	pk->next = NULL;
	if (!q->qtail || q->qtail->meta.tstamp_ns <= when) {
		pp = q->qtail ? &q->qtail->next : &q->qhead;
		q->qtail = pk;
	} else {
		/* a reordered frame is in the way: walk to the first later one */
		for (pp = &q->qhead; (*pp)->meta.tstamp_ns <= when; pp = &(*pp)->next)
			;
		pk->next = *pp;
	}
	*pp = pk;
	q->st.backlog_packets++;
	q->st.backlog_bytes += pk->tot_len;
	if (q->qhead == pk)
		netns_timer_arm(q->dev->ns, &q->timer, when);
}

/* Release time of one copy of a frame of len bytes sent at now. */
static uint64_t qdisc_when(struct qdisc *q, uint32_t len, uint64_t now, uint64_t r_reorder,
			   uint64_t r_jitter)
{
	const struct link_impair *im = &q->imp;
	uint64_t t = now, d = im->delay_ns;

	if (im->rate_bps) {
		/* back to back on the wire: this frame starts when the last ends */
		uint64_t start = q->busy_until > now ? q->busy_until : now;

		q->busy_until = start + (uint64_t)len * 8u * NSEC_PER_SEC / im->rate_bps;
		t = q->busy_until;
	}
	if (im->jitter_ns) {
		/* uniform in [d - j, d + j), as netem's tabledist without a table */
		uint64_t j = im->jitter_ns;
		uint64_t u = r_jitter % (2 * j);

		d = d + u >= j ? d + u - j : 0;
	}
	t += d;
	if (im->delay_ns && qdisc_chance(r_reorder, im->reorder_ppm)) {
		q->st.reordered++;
		return t + im->delay_ns;
	}
	if (t < q->last_inorder)
		t = q->last_inorder;
	q->last_inorder = t;
	return t;
}

/* A copy of pk from the sender's pools, or NULL. */
static struct pkt *qdisc_copy(struct netdev *dev, const struct pkt *pk)
{
	struct pkt *c = pkt_alloc(dev->ns->pools, pk->tot_len);

	if (!c)
		return NULL;
	pkt_copy_out(pk, 0, pkt_put(c, pk->tot_len), pk->tot_len);
	c->meta.ifindex = pk->meta.ifindex;
	return c;
}

/**
 * qdisc_enqueue() - the netem path of one frame
 * @q:		the sending device's qdisc, active (namespace lock held)
 * @pk:		the frame (pk->data is the Ethernet header); consumed
 *
 * netem_enqueue's order: duplicate, then loss; then each copy's release
 * time.  Drops are counted in the qdisc's counters, not the device's.
 */
void qdisc_enqueue(struct qdisc *q, struct pkt *pk)
{
	const struct link_impair *im = &q->imp;
	uint64_t now = netns_now(q->dev->ns);
	uint64_t r_loss = qdisc_rand(q), r_dup = qdisc_rand(q);
	uint64_t r_reorder = qdisc_rand(q), r_jitter = qdisc_rand(q);
	int copies = 1;
	struct pkt *dup = NULL;
	uint32_t len;

	if (qdisc_chance(r_dup, im->dup_ppm)) {
		/* counted even when the loss draw then takes one copy away */
		copies++;
		q->st.duplicated++;
	}
	if (qdisc_chance(r_loss, im->loss_ppm)) {
		copies--;
		q->st.lost++;
	}
	if (copies == 0) {
		q->st.dropped++;
		pkt_free(pk);
		return;
	}
	if (copies == 2) {
		dup = qdisc_copy(q->dev, pk);
		if (!dup) {
			q->st.nomem++;
			q->st.dropped++;
		}
	}
	len = pk->tot_len;
	qdisc_hold(q, pk, qdisc_when(q, len, now, r_reorder, r_jitter), now);
	if (copies == 2) {
		/* the copy's draws are taken even without a buffer for it */
		r_reorder = qdisc_rand(q);
		r_jitter = qdisc_rand(q);
		if (dup)
			qdisc_hold(q, dup, qdisc_when(q, len, now, r_reorder, r_jitter), now);
	}
}

void qdisc_init(struct qdisc *q, struct netdev *dev, qdisc_out_fn out)
{
	memset(q, 0, sizeof(*q));
	q->dev = dev;
	q->out = out;
	timer_init(&q->timer, qdisc_timer_fn, q);
	dev->qdisc = q;
}

/**
 * qdisc_set() - install or remove netem on one device
 * @dev:	the sending device (namespace lock held)
 * @imp:	settings, or NULL to remove them
 *
 * Held frames keep their release times: removing the settings lets them
 * drain on schedule while new frames go straight through.
 *
 * Return: 0, -EOPNOTSUPP if dev has no qdisc, -EINVAL for a probability
 * over one million ppm.
 */
int qdisc_set(struct netdev *dev, const struct link_impair *imp)
{
	struct qdisc *q = dev->qdisc;
	uint32_t backlog_p, backlog_b;

	if (!q)
		return -EOPNOTSUPP;
	if (!imp) {
		q->on = false;
		return 0;
	}
	if (imp->loss_ppm > 1000000 || imp->dup_ppm > 1000000 || imp->reorder_ppm > 1000000)
		return -EINVAL;
	q->imp = *imp;
	q->rng = imp->seed;
	backlog_p = q->st.backlog_packets;
	backlog_b = q->st.backlog_bytes;
	memset(&q->st, 0, sizeof(q->st));
	q->st.backlog_packets = backlog_p;
	q->st.backlog_bytes = backlog_b;
	q->on = true;
	return 0;
}

/**
 * qdisc_get() - read back the settings and counters of one device
 * @dev:	the device (namespace lock held)
 * @imp:	filled with the settings (may be NULL)
 * @st:		filled with the counters (may be NULL)
 *
 * Return: 0, -EOPNOTSUPP if dev has no qdisc, -ENOENT if none installed.
 */
int qdisc_get(struct netdev *dev, struct link_impair *imp, struct link_impair_stats *st)
{
	struct qdisc *q = dev->qdisc;

	if (!q)
		return -EOPNOTSUPP;
	if (!q->on)
		return -ENOENT;
	if (imp)
		*imp = q->imp;
	if (st)
		*st = q->st;
	return 0;
}
