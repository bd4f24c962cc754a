// SPDX-License-Identifier: GPL-2.0
/* The main thread's event loop while the guest runs (see runloop.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "lib/err.h"
#include "vmm/console.h"
#include "vmm/runloop.h"
#include "vmm/sandbox.h"
#include "vmm/vm.h"
#include "vmm/vm_devices.h"

struct input {
	uint8_t buf[257];	/* console_filter() may return one byte more than read */
	size_t len;		/* filtered bytes the UART has not taken yet */
};

struct run_state {
	struct vm *vm;
	struct console con;
	bool con_watched;	/* the terminal joined the loop (not /dev/null, a file) */
	struct input in;
};

/* Moves terminal input to the guest's serial port, as fast as the guest drains it. */
static void pump_input(struct run_state *st, bool readable)
{
	struct vm *vm = st->vm;
	struct input *in = &st->in;
	size_t space = vm_devices_console_space(vm);
	uint8_t raw[256];
	ssize_t n;

	if (!in->len && readable && space) {
		n = read(st->con.in_fd, raw, space < sizeof(raw) ? space : sizeof(raw));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return;
		if (n <= 0) {
			st->con.eof = true;
			return;
		}
		in->len = console_filter(&st->con, raw, (size_t)n, in->buf);
		if (st->con.quit) {
			vm_request_exit(vm, VM_EXIT_POWEROFF, NULL);
			return;
		}
	}
	if (in->len) {
		size_t taken = vm_devices_console_input(vm, in->buf, in->len);

		memmove(in->buf, in->buf + taken, in->len - taken);
		in->len -= taken;
	}
}

/* Read the terminal only when the guest can take what we read. */
static bool want_terminal(struct run_state *st)
{
	return !st->vm->detached && !st->con.eof && !st->in.len &&
	       vm_devices_console_space(st->vm);
}

static void on_terminal(struct evloop *loop, int fd, uint32_t events, void *arg)
{
	struct run_state *st = arg;

	pump_input(st, want_terminal(st));
	/* a closed input stays "ready" (EPOLLHUP) whatever it is watched for */
	if (st->con.eof && st->con_watched) {
		evloop_del(loop, fd);
		st->con_watched = false;
	}
}

static void on_signal(struct evloop *loop, int fd, uint32_t events, void *arg)
{
	struct run_state *st = arg;
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) == sizeof(si))
		vm_request_exit(st->vm, VM_EXIT_SIGNAL_BASE + (int)si.ssi_signo, NULL);
}

static void on_wake(struct evloop *loop, int fd, uint32_t events, void *arg)
{
	uint64_t count;

	/* Non-blocking and just signalled: a spurious wake-up at worst. */
	(void)!read(fd, &count, sizeof(count));
}

/* The guest drained the serial port's input: more may go in now. */
static void on_uart_space(struct evloop *loop, int fd, uint32_t events, void *arg)
{
	struct run_state *st = arg;

	on_wake(loop, fd, events, arg);
	pump_input(st, false);
	ctl_server_console_resume(st->vm->ctl);
}

/* Detached: the guest's console output, kept, logged and sent to clients. */
static void on_console_output(struct evloop *loop, int fd, uint32_t events, void *arg)
{
	struct run_state *st = arg;
	struct vm *vm = st->vm;
	unsigned char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n <= 0)
		return;
	console_ring_put(&vm->ring, buf, (size_t)n);
	if (vm->log_fd >= 0 && write(vm->log_fd, buf, (size_t)n) != n) {
		/* a full disk loses log lines, never the guest */
	}
	ctl_server_console_output(vm->ctl, buf, (size_t)n);
}

static int join_loop(struct run_state *st, struct evloop *loop, int sig_fd)
{
	struct vm *vm = st->vm;

	if (evloop_add(loop, vm->wake_fd, EPOLLIN, on_wake, st) ||
	    evloop_add(loop, sig_fd, EPOLLIN, on_signal, st) ||
	    evloop_add(loop, vm_devices_console_wait_fd(vm), EPOLLIN, on_uart_space, st))
		return -1;
	if (vm->detached)
		return evloop_add(loop, vm->console_read_fd, EPOLLIN, on_console_output, st);
	/* /dev/null and regular files cannot be watched: they never block either */
	st->con_watched = evloop_add(loop, st->con.in_fd, EPOLLIN, on_terminal, st) == 0;
	return 0;
}

/* A sandbox violation kills the VMM: give the user the terminal back first. */
static struct console *violation_console;
static void restore_terminal(void)
{
	if (violation_console)
		console_close(violation_console);
}

/*
 * From here on the main thread only runs the loop and the teardown: the
 * vCPU threads exist (so they never inherit this filter) and every file
 * and socket it serves is open.
 */
static int confine(struct run_state *st)
{
	if (!sandbox_enabled())
		return 0;
	violation_console = &st->con;
	sandbox_set_violation_hook(restore_terminal);
	return sandbox_enter(SANDBOX_MAIN);
}

void vm_run_loop(struct vm *vm, int sig_fd)
{
	struct run_state st = { .vm = vm };
	struct evloop *loop = &vm->loop;

	console_open(&st.con, vm->detached ? -1 : STDIN_FILENO);
	if (join_loop(&st, loop, sig_fd) || confine(&st))
		vm_request_exit(vm, VM_EXIT_ERROR, "%s", err_msg());
	while (!atomic_load(&vm->stopping)) {
		bool want = want_terminal(&st);
		int timeout = -1;

		if (st.con_watched)
			evloop_mod(loop, st.con.in_fd, want ? EPOLLIN : 0);
		else if (want)
			timeout = 0;	/* an unwatchable input: read it each round */
		if (evloop_run_once(loop, timeout) < 0) {
			vm_request_exit(vm, VM_EXIT_ERROR, "%s", err_msg());
			break;
		}
		if (!st.con_watched && !st.con.eof && want_terminal(&st))
			pump_input(&st, true);
	}
	if (st.con_watched)
		evloop_del(loop, st.con.in_fd);
	evloop_del(loop, sig_fd);
	evloop_del(loop, vm->wake_fd);
	evloop_del(loop, vm_devices_console_wait_fd(vm));
	if (vm->detached)
		evloop_del(loop, vm->console_read_fd);
	close(sig_fd);
	/* The user gets the terminal back first, whatever the stop takes. */
	console_close(&st.con);
	violation_console = NULL;
}

size_t control_console_input(void *arg, const unsigned char *buf, size_t len)
{
	return vm_devices_console_input(arg, buf, len);
}

size_t control_console_backlog(void *arg, unsigned char *buf, size_t len)
{
	struct vm *vm = arg;

	return console_ring_copy(&vm->ring, buf, len);
}
