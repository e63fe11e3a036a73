/* SPDX-License-Identifier: MIT */
/*
 * conf_finish.c - the end-of-scenario leak check
 *
 * Runs inside the test body (Criterion 2.4 reports failures in .fini only as
 * warnings, so a check there could never fail a test).
 */
#include <criterion/criterion.h>

#include "sockapi.h"
#include "usock.h"

static void check_ns(struct usock_netns *ns, void *arg)
{
	(void)arg;
	cr_assert(usock_netns_pools_full(ns),
		  "usock namespace leaked packet buffers (a socket left open, or a leak)");
}

void conf_finish(const struct sockapi *api)
{
	if (api->is_kernel)
		return;
	usock_netns_foreach(check_ns, NULL);
}
