/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_VMM_IRQ_H
#define SLICEVM_VMM_IRQ_H

#include "devices/iodev.h"

/*
 * The VM's interrupts and doorbells, on KVM: the one place that turns the
 * devices' interrupt lines (irq_line_fn), msi_ops and doorbell_ops into
 * KVM_IRQ_LINE, KVM_SET_GSI_ROUTING, KVM_IRQFD and KVM_IOEVENTFD. GSIs 0-23
 * keep KVM's default routes to the PIC and IOAPIC pins (the legacy
 * devices' lines); MSI routes take GSIs from 24 up.
 *
 * Thread-safe: routes change on vCPU threads (the guest programming its
 * MSI-X tables). A KVM failure then cannot be returned to the guest; it
 * goes to @on_error, which ends the VM.
 */

struct vm_irq;

struct vm_irq *vm_irq_create(int vm_fd, void (*on_error)(void *ctx, const char *msg),
			     void *ctx);
const struct msi_ops *vm_irq_msi(struct vm_irq *irq);

/* An irq_line_fn (devices/iodev.h) for @ctx, a struct vm_irq: drives ISA line @line. */
void vm_irq_line(void *ctx, int line, int level);
const struct doorbell_ops *vm_irq_doorbells(struct vm_irq *irq);
/* Resampling irqfds on IOAPIC pins, for passed-through INTx (the user deassigns them). */
const struct intx_ops *vm_irq_intx(struct vm_irq *irq);
/* Before the VM fd closes: takes the irqfds down and closes their eventfds. */
void vm_irq_destroy(struct vm_irq *irq);

#endif
