/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_VMM_TRIM_H
#define SLICEVM_VMM_TRIM_H

/*
 * Once the VM runs, the VMM's start-up work (parsing, loading the kernel,
 * building tables) is done, but its code pages, and their fault-around
 * neighbours, stay resident, and so do the symbol tables the loader read.
 * This drops the VMM's read-only file pages from its page tables (they stay
 * in the page cache, and come back as the run loop touches them) and
 * returns free heap to the system, so the VMM's resident memory is close to
 * what it uses while the guest runs. This lowers the VMM's RSS; the host
 * keeps the pages cached, so it frees little memory by itself.
 */
void vmm_trim_resident(void);

#endif
