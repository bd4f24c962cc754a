/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_VMM_VM_DEVICES_H
#define SLICEVM_VMM_VM_DEVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

struct vm;

/*
 * The guest's devices, wired to the VM: the port I/O bus, KVM interrupt
 * lines, the terminal, and the VM's end (power-off, reset).
 */
int vm_devices_create(struct vm *vm);
void vm_devices_destroy(struct vm *vm);

/*
 * A guest MMIO access that KVM could not handle (no memory slot, no
 * ioeventfd): PCI BARs. False (reads all ones) when nothing is there.
 */
bool vm_devices_mmio(struct vm *vm, uint64_t gpa, void *data, int size, bool is_write);

/*
 * The PCI devices, for `slicevm ls --json` (the control socket's info):
 * [{"pci": "00:01.0", "type": "virtio-rng"}, {"type": "virtio-blk",
 * "path", "readonly", "serial"}, {"type": "virtio-net", "tap", "mac",
 * "vhost"}]. Main thread.
 */
json_object *vm_devices_json(struct vm *vm);

/* Presses the guest's ACPI power button (`slicevm stop`). */
void vm_devices_power_button(struct vm *vm);

/* The VM is stopping: devices must not block a vCPU any longer. */
void vm_devices_stop(struct vm *vm);

/* Offers terminal input to the serial port; returns how many bytes it took. */
size_t vm_devices_console_input(struct vm *vm, const uint8_t *buf, size_t len);

/* Room for input in the serial port now; 0 arms the wait fd. */
size_t vm_devices_console_space(struct vm *vm);

/* Readable once the guest has drained the serial port's input (see uart.h). */
int vm_devices_console_wait_fd(struct vm *vm);

#endif
