/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_VMM_RUNLOOP_H
#define SLICEVM_VMM_RUNLOOP_H

#include <stddef.h>

struct vm;

/*
 * The main thread while the guest runs: one event loop for the signals,
 * the terminal (foreground) or the console hub (detached: output kept in a
 * ring, copied to --log and to attached `slicevm console` clients), the
 * serial port's input flow control, and the control socket. Returns when
 * the VM is stopping (vm->stopping), having asked every vCPU to stop.
 * Takes over @sig_fd (a signalfd of the ending signals).
 */
void vm_run_loop(struct vm *vm, int sig_fd);

/* For the control socket: console input from a client, and the recent output. */
size_t control_console_input(void *vm, const unsigned char *buf, size_t len);
size_t control_console_backlog(void *vm, unsigned char *buf, size_t len);

/* The control socket's request handler (info, stop, quit, stats). */
struct json_object;
struct json_object *vm_control_request(void *vm, const char *cmd, struct json_object *req);

#endif
