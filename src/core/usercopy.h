/* SPDX-License-Identifier: MIT */
/*
 * usercopy.h - guarded copies from and to the caller's memory
 *
 * As the kernel's copy_from_user with its exception tables: a copy runs in a
 * guarded section; a SIGSEGV or SIGBUS raised inside it is turned into
 * -EFAULT for the copy instead of a crash.  A fault outside any guarded
 * section goes to the program's own handler (or the default action), so usock
 * never hides a real bug of the program.  No system call per copy.
 */
#ifndef USOCK_CORE_USERCOPY_H
#define USOCK_CORE_USERCOPY_H

#include <stddef.h>

/* usercopy_init - install the fault handler once per process (idempotent, thread-safe). */
void usercopy_init(void);
/* copy_from_user - Return: 0, or -EFAULT if any byte of src could not be read. */
int copy_from_user(void *dst, const void *src, size_t n);
/* copy_to_user - Return: 0, or -EFAULT if any byte of dst could not be written. */
int copy_to_user(void *dst, const void *src, size_t n);

#endif
