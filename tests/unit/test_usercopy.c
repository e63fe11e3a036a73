/* SPDX-License-Identifier: MIT */
/*
 * test_usercopy.c - guarded copies: bad pointers give EFAULT, good ones copy
 * every byte, threads fault independently, and faults outside a copy reach
 * the program's handler or kill the process as if usock were not there
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "core/usercopy.h"

#if defined(__SANITIZE_ADDRESS__)
#define UC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UC_ASAN 1
#endif
#endif
#ifndef UC_ASAN
#define UC_ASAN 0
#endif

/* A broken fixup can turn a fault into an endless retry: fail, don't hang. */
TestSuite(usercopy, .timeout = 60);

static size_t uc_page(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

/*
 * Three pages: PROT_NONE, read-write, PROT_NONE.  Return: the start of the
 * read-write page.
 */
static unsigned char *uc_fenced_page(void)
{
	size_t pg = uc_page();
	unsigned char *p = mmap(NULL, 3 * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	cr_assert_neq(p, MAP_FAILED);
	cr_assert_eq(mprotect(p + pg, pg, PROT_READ | PROT_WRITE), 0);
	return p + pg;
}

static void uc_fill(unsigned char *p, size_t n, unsigned seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(seed + i * 131 + (i >> 8));
}

/* A fault on a PROT_NONE page, without a null check UBSan would catch first. */
static void uc_touch(const void *p)
{
	(void)*(const volatile unsigned char *)p;
}

static void *uc_prot_none(void)
{
	void *p = mmap(NULL, uc_page(), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	cr_assert_neq(p, MAP_FAILED);
	return p;
}

/* One length from each of the copy routine's size classes. */
static const size_t uc_sizes[] = { 1, 2, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64,
				   65, 200, 256, 257, 4096, 70000 };
#define UC_NSIZES (sizeof(uc_sizes) / sizeof(uc_sizes[0]))

static unsigned char uc_buf[80000];

static void uc_expect_fault(void *bad)
{
	unsigned i;

	for (i = 0; i < UC_NSIZES; i++) {
		cr_assert_eq(copy_from_user(uc_buf, bad, uc_sizes[i]), -EFAULT,
			     "from %p, %zu bytes", bad, uc_sizes[i]);
		cr_assert_eq(copy_to_user(bad, uc_buf, uc_sizes[i]), -EFAULT,
			     "to %p, %zu bytes", bad, uc_sizes[i]);
	}
}

Test(usercopy, null_and_wild_pointers)
{
	uc_expect_fault(NULL);
	uc_expect_fault((void *)1);
	uc_expect_fault((void *)0x800000000000ull);	/* non-canonical: #GP */
	uc_expect_fault((void *)0xffffffff81000000ull);	/* kernel half */
	/* Ranges that wrap around the address space never start copying. */
	cr_assert_eq(copy_from_user(uc_buf, (void *)(UINTPTR_MAX - 3), 8), -EFAULT);
	cr_assert_eq(copy_to_user((void *)(UINTPTR_MAX - 3), uc_buf, 8), -EFAULT);
	/* Zero bytes touch nothing, as in the kernel. */
	cr_assert_eq(copy_from_user(uc_buf, NULL, 0), 0);
	cr_assert_eq(copy_to_user(NULL, uc_buf, 0), 0);
}

Test(usercopy, unmapped_page)
{
	void *p = mmap(NULL, 2 * uc_page(), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	cr_assert_neq(p, MAP_FAILED);
	cr_assert_eq(munmap(p, 2 * uc_page()), 0);
	uc_expect_fault(p);
}

Test(usercopy, prot_none_page)
{
	uc_expect_fault(uc_prot_none());
}

Test(usercopy, read_only_destination)
{
	size_t pg = uc_page();
	unsigned char *p = mmap(NULL, pg, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned i;

	cr_assert_neq(p, MAP_FAILED);
	uc_fill(p, pg, 7);
	cr_assert_eq(mprotect(p, pg, PROT_READ), 0);
	uc_fill(uc_buf, sizeof(uc_buf), 99);
	for (i = 0; i < UC_NSIZES && uc_sizes[i] <= pg; i++)
		cr_assert_eq(copy_to_user(p, uc_buf, uc_sizes[i]), -EFAULT);
	/* Reading it is fine. */
	cr_assert_eq(copy_from_user(uc_buf, p, pg), 0);
	cr_assert_eq(memcmp(uc_buf, p, pg), 0);
}

/*
 * For every length, a range that ends on the last byte of the page copies,
 * and the same range one byte later (last byte on the PROT_NONE page) fails;
 * so does a range that starts one byte before the page.  This makes every
 * size class of the copy routine fault at its last and its first access.
 */
Test(usercopy, crossing_into_prot_none)
{
	size_t pg = uc_page();
	unsigned char *page = uc_fenced_page(), *end = page + pg;
	unsigned char src[600], dst[600];
	size_t n;

	uc_fill(page, pg, 3);
	for (n = 1; n <= 600 && n <= pg; n++) {
		cr_assert_eq(copy_from_user(dst, end - n, n), 0, "n %zu", n);
		cr_assert_eq(memcmp(dst, end - n, n), 0, "n %zu", n);
		cr_assert_eq(copy_from_user(dst, end - n + 1, n), -EFAULT, "n %zu", n);
		cr_assert_eq(copy_from_user(dst, page - 1, n), -EFAULT, "n %zu", n);

		uc_fill(src, n, (unsigned)n);
		cr_assert_eq(copy_to_user(end - n, src, n), 0, "n %zu", n);
		cr_assert_eq(memcmp(end - n, src, n), 0, "n %zu", n);
		cr_assert_eq(copy_to_user(end - n + 1, src, n), -EFAULT, "n %zu", n);
		cr_assert_eq(copy_to_user(page - 1, src, n), -EFAULT, "n %zu", n);
	}
	/* The large path too: a whole page, one byte short of fitting. */
	cr_assert_eq(copy_from_user(uc_buf, page, pg), 0);
	cr_assert_eq(copy_from_user(uc_buf, page + 1, pg), -EFAULT);
	cr_assert_eq(copy_to_user(page + 1, uc_buf, pg), -EFAULT);
}

/* Every length 0..300 at every alignment, with canaries on both sides. */
Test(usercopy, every_length_copies_exactly)
{
	static unsigned char src[400], dst[400], want[400];
	size_t n, so, dof;

	for (n = 0; n <= 300; n++) {
		for (so = 0; so < 8; so++) {
			for (dof = 0; dof < 8; dof++) {
				uc_fill(src, sizeof(src), (unsigned)(n + so));
				memset(dst, 0xa5, sizeof(dst));
				memcpy(want, dst, sizeof(want));
				memcpy(want + 16 + dof, src + so, n);
				cr_assert_eq(copy_from_user(dst + 16 + dof, src + so, n), 0);
				cr_assert_eq(memcmp(dst, want, sizeof(dst)), 0,
					     "from: n %zu so %zu do %zu", n, so, dof);
				memset(dst, 0x5a, sizeof(dst));
				memcpy(want, dst, sizeof(want));
				memcpy(want + 16 + dof, src + so, n);
				cr_assert_eq(copy_to_user(dst + 16 + dof, src + so, n), 0);
				cr_assert_eq(memcmp(dst, want, sizeof(dst)), 0,
					     "to: n %zu so %zu do %zu", n, so, dof);
			}
		}
	}
}

Test(usercopy, one_mebibyte)
{
	size_t n = 1 << 20;
	unsigned char *a = malloc(n + 64), *b = malloc(n + 64);

	cr_assert(a && b);
	uc_fill(a, n + 64, 11);
	memset(b, 0, n + 64);
	cr_assert_eq(copy_from_user(b + 3, a + 1, n), 0);
	cr_assert_eq(memcmp(b + 3, a + 1, n), 0);
	cr_assert_eq(b[n + 3], 0, "wrote past the end");
	cr_assert_eq(copy_to_user(b, a, n), 0);
	cr_assert_eq(memcmp(b, a, n), 0);
	free(a);
	free(b);
}

/* A file mapping past its end raises SIGBUS, which is a fault too. */
Test(usercopy, sigbus_past_end_of_file)
{
	size_t pg = uc_page();
	int fd = memfd_create("usock-uc", 0);
	unsigned char *p;

	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, (off_t)pg), 0);
	p = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	cr_assert_neq(p, MAP_FAILED);
	cr_assert_eq(copy_to_user(p, uc_buf, pg), 0);
	cr_assert_eq(copy_from_user(uc_buf, p + pg - 8, 16), -EFAULT);
	cr_assert_eq(copy_to_user(p + pg, uc_buf, 64), -EFAULT);
	close(fd);
}

/* Recovery must leave the signal mask as it was, fault after fault. */
Test(usercopy, mask_survives_many_faults)
{
	sigset_t before, after, extra;
	void *bad = uc_prot_none();
	int i;

	sigemptyset(&extra);
	sigaddset(&extra, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &extra, NULL);
	pthread_sigmask(SIG_SETMASK, NULL, &before);
	for (i = 0; i < 20000; i++)
		cr_assert_eq(copy_from_user(uc_buf, bad, 64), -EFAULT);
	pthread_sigmask(SIG_SETMASK, NULL, &after);
	cr_assert(sigismember(&after, SIGUSR1));
	cr_assert_not(sigismember(&after, SIGSEGV));
	cr_assert_not(sigismember(&after, SIGBUS));
	for (i = 1; i < NSIG; i++)
		cr_assert_eq(sigismember(&before, i), sigismember(&after, i), "signal %d", i);
}

/* Two threads: one copies good memory, the other mostly faults. */
#define UC_ROUNDS 100000

static pthread_barrier_t uc_barrier;

static void *uc_good_thread(void *arg)
{
	unsigned char src[256], dst[256];
	long bad = 0;
	int i;

	pthread_barrier_wait(&uc_barrier);
	for (i = 0; i < UC_ROUNDS; i++) {
		size_t n = 1 + (size_t)i % 256;

		uc_fill(src, n, (unsigned)i);
		if (copy_from_user(dst, src, n) || memcmp(dst, src, n))
			bad++;
	}
	return (void *)bad;
}

static void *uc_faulting_thread(void *arg)
{
	unsigned char *none = arg, src[64], dst[64];
	long bad = 0;
	int i;

	pthread_barrier_wait(&uc_barrier);
	for (i = 0; i < UC_ROUNDS; i++) {
		if (i % 4 == 3) {
			uc_fill(src, sizeof(src), (unsigned)i);
			if (copy_to_user(dst, src, sizeof(src)) || memcmp(dst, src, sizeof(src)))
				bad++;
		} else if (copy_from_user(dst, none + i % 64, 64) != -EFAULT) {
			bad++;
		}
	}
	return (void *)bad;
}

Test(usercopy, concurrent_threads)
{
	pthread_t a, b;
	void *ra, *rb;

	usercopy_init();
	pthread_barrier_init(&uc_barrier, NULL, 2);
	cr_assert_eq(pthread_create(&a, NULL, uc_good_thread, NULL), 0);
	cr_assert_eq(pthread_create(&b, NULL, uc_faulting_thread, uc_prot_none()), 0);
	pthread_join(a, &ra);
	pthread_join(b, &rb);
	cr_assert_eq((long)ra, 0, "good thread saw %ld bad copies", (long)ra);
	cr_assert_eq((long)rb, 0, "faulting thread saw %ld wrong results", (long)rb);
	pthread_barrier_destroy(&uc_barrier);
}

Test(usercopy, init_is_idempotent)
{
	void *bad = uc_prot_none();

	usercopy_init();
	usercopy_init();
	cr_assert_eq(copy_from_user(uc_buf, bad, 8), -EFAULT);
	usercopy_init();
	cr_assert_eq(copy_from_user(uc_buf, bad, 8), -EFAULT);
}

/*
 * Faults outside a guarded copy.  With the default action the process must
 * die of SIGSEGV.  Whatever was installed at start-up (nothing, or ASan's
 * handler, which reports and exits 1) must still get it.
 */
static void uc_fault_outside(void)
{
	void *bad = uc_prot_none();

	cr_assert_eq(copy_from_user(uc_buf, bad, 8), -EFAULT);
	uc_touch(bad);
}

Test(usercopy, outside_fault_default_dies, .signal = SIGSEGV)
{
	signal(SIGSEGV, SIG_DFL);
	usercopy_init();
	uc_fault_outside();
}

#if UC_ASAN
Test(usercopy, outside_fault_reaches_startup_handler, .exit_code = 1)
#else
Test(usercopy, outside_fault_reaches_startup_handler, .signal = SIGSEGV)
#endif
{
	usercopy_init();
	uc_fault_outside();
}

/* Ignoring SIGSEGV cannot survive a real fault (the kernel forces it). */
Test(usercopy, outside_fault_sig_ign_dies, .signal = SIGSEGV)
{
	signal(SIGSEGV, SIG_IGN);
	usercopy_init();
	uc_fault_outside();
}

/* ...but a SIGSEGV sent with kill() stays ignored. */
Test(usercopy, sent_sigsegv_sig_ign_ignored)
{
	signal(SIGSEGV, SIG_IGN);
	usercopy_init();
	cr_assert_eq(raise(SIGSEGV), 0);
	cr_assert_eq(copy_from_user(uc_buf, NULL, 8), -EFAULT);
}

Test(usercopy, sent_sigsegv_default_dies, .signal = SIGSEGV)
{
	signal(SIGSEGV, SIG_DFL);
	usercopy_init();
	raise(SIGSEGV);
}

Test(usercopy, outside_sigbus_default_dies, .signal = SIGBUS)
{
	size_t pg = uc_page();
	int fd = memfd_create("usock-uc", 0);
	unsigned char *p;

	signal(SIGBUS, SIG_DFL);
	usercopy_init();
	cr_assert_geq(fd, 0);
	p = mmap(NULL, 2 * pg, PROT_READ, MAP_SHARED, fd, 0);
	cr_assert_neq(p, MAP_FAILED);
	cr_assert_eq(copy_from_user(uc_buf, p, 8), -EFAULT);
	uc_touch(p);
}

static void *uc_bad_addr;

/* Delivered as the kernel would: its sa_mask blocked, and SIGSEGV unless SA_NODEFER. */
static int uc_mask_code(bool nodefer)
{
	sigset_t cur;

	pthread_sigmask(SIG_SETMASK, NULL, &cur);
	if (!sigismember(&cur, SIGUSR2))
		return 1;
	return sigismember(&cur, SIGSEGV) == !nodefer ? 0 : 1;
}

static void uc_siginfo_exit(int sig, siginfo_t *si, void *ctx)
{
	if (sig != SIGSEGV || si->si_addr != uc_bad_addr || si->si_code != SEGV_ACCERR)
		_exit(1);
	_exit(uc_mask_code(true) ? 1 : 42);
}

Test(usercopy, program_siginfo_handler_runs, .exit_code = 42)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = uc_siginfo_exit;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	sigaction(SIGSEGV, &sa, NULL);
	usercopy_init();
	uc_bad_addr = uc_prot_none();
	/* A guarded copy never reaches the program's handler. */
	cr_assert_eq(copy_from_user(uc_buf, uc_bad_addr, 8), -EFAULT);
	uc_touch(uc_bad_addr);
}

static void uc_plain_exit(int sig)
{
	_exit(sig == SIGSEGV && !uc_mask_code(false) ? 43 : 1);
}

Test(usercopy, program_plain_handler_runs, .exit_code = 43)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = uc_plain_exit;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	sigaction(SIGSEGV, &sa, NULL);
	usercopy_init();
	uc_fault_outside();
}

/* A handler that repairs the fault and returns: the access is retried. */
static void uc_repair(int sig, siginfo_t *si, void *ctx)
{
	size_t pg = uc_page();
	void *base = (void *)((uintptr_t)si->si_addr & ~(uintptr_t)(pg - 1));

	if (mprotect(base, pg, PROT_READ | PROT_WRITE))
		_exit(2);
}

Test(usercopy, program_handler_repairs_and_resumes)
{
	struct sigaction sa;
	volatile unsigned char *p;
	unsigned char *q;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = uc_repair;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSEGV, &sa, NULL);
	usercopy_init();
	p = uc_prot_none();
	q = uc_prot_none();
	p[10] = 77;		/* faults, handler opens the page, store retried */
	cr_assert_eq(p[10], 77);
	cr_assert_eq(copy_from_user(uc_buf, q, 8), -EFAULT, "copies still fail, unrepaired");
}

/* SA_RESETHAND: the first fault reaches the handler, the second kills. */
static sigjmp_buf uc_jb;
static int uc_hits;

static void uc_jump_back(int sig)
{
	uc_hits++;
	siglongjmp(uc_jb, 1);
}

Test(usercopy, program_handler_resethand, .signal = SIGSEGV)
{
	struct sigaction sa;
	void *bad = uc_prot_none();

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = uc_jump_back;
	sa.sa_flags = SA_RESETHAND;
	sigaction(SIGSEGV, &sa, NULL);
	usercopy_init();
	if (!sigsetjmp(uc_jb, 1))
		uc_touch(bad);
	cr_assert_eq(uc_hits, 1);
	cr_assert_eq(copy_from_user(uc_buf, bad, 8), -EFAULT);
	uc_touch(bad);
}

/* A handler that jumps out keeps working and so do the copies. */
Test(usercopy, program_handler_jumps_out_repeatedly)
{
	void *bad = uc_prot_none();
	int i;

	signal(SIGSEGV, uc_jump_back);
	usercopy_init();
	for (i = 0; i < 3; i++) {
		if (!sigsetjmp(uc_jb, 1))
			uc_touch(bad);
		cr_assert_eq(copy_from_user(uc_buf, bad, 8), -EFAULT);
	}
	cr_assert_eq(uc_hits, 3);
}

/* Cost of a guarded copy next to memcpy: no system call may hide in it. */
typedef int (*uc_copy_fn)(void *, const void *, size_t);
typedef void *(*uc_memcpy_fn)(void *, const void *, size_t);

static double uc_ns_per(uc_copy_fn fn, uc_memcpy_fn mc, void *dst, const void *src,
			size_t n, long iters)
{
	struct timespec a, b;
	double best = 1e30;
	int round;
	long i;

	for (round = 0; round < 5; round++) {
		clock_gettime(CLOCK_MONOTONIC, &a);
		for (i = 0; i < iters; i++) {
			if (fn)
				fn(dst, src, n);
			else
				mc(dst, src, n);
			__asm__ volatile("" ::: "memory");
		}
		clock_gettime(CLOCK_MONOTONIC, &b);
		double ns = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / (double)iters;

		if (ns < best)
			best = ns;
	}
	return best;
}

Test(usercopy, cost_next_to_memcpy)
{
	volatile uc_memcpy_fn mc = memcpy;
	static unsigned char src[65536], dst[65536];
	double g64, m64, g64k, m64k;

	usercopy_init();
	uc_fill(src, sizeof(src), 5);
	g64 = uc_ns_per(copy_from_user, NULL, dst, src, 64, 1000000);
	m64 = uc_ns_per(NULL, mc, dst, src, 64, 1000000);
	g64k = uc_ns_per(copy_to_user, NULL, dst, src, 65536, 2000);
	m64k = uc_ns_per(NULL, mc, dst, src, 65536, 2000);
	cr_log_info("64 B: guarded %.1f ns, memcpy %.1f ns; 64 KiB: guarded %.0f ns, memcpy %.0f ns",
		    g64, m64, g64k, m64k);
	/* A system call per copy would cost well over this, even under ASan. */
	cr_assert_lt(g64, 150.0, "64-byte guarded copy takes %.1f ns", g64);
}
