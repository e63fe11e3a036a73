/* SPDX-License-Identifier: MIT */
/*
 * errno_edge.h - the one place that turns -errno into errno
 *
 * Internals return -errno (musl's __syscall_ret idea); the public edge calls
 * usock_ret() on the way out.
 */
#ifndef USOCK_CORE_ERRNO_EDGE_H
#define USOCK_CORE_ERRNO_EDGE_H

#include <errno.h>

static inline long usock_ret(long r)
{
	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

#endif
