/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_VMM_CONFIG_H
#define SLICEVM_VMM_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

/*
 * What `slicevm run` is asked to boot. Filled from a JSON file (config_load)
 * and then from the command line, which overrides the file field by field.
 */

#define VM_DEFAULT_MEMORY	(512ULL << 20)
/* A memory size without a unit is in MiB, as QEMU's and lkvm's -m take it. */
#define VM_MEMORY_BARE_SHIFT	20
#define VM_MIN_MEMORY		(32ULL << 20)
#define VM_MAX_CPUS		254	/* xAPIC ids; the IOAPIC takes id ncpus */
#define VM_DEFAULT_CMDLINE	"console=ttyS0 reboot=k panic=-1"

/*
 * Devices on the guest's one PCI bus: bus 0 has 32 slots and slot 0 is the
 * host bridge, which leaves 31. One is kept for virtio-rng; every other
 * slot can hold a virtio-blk disk.
 */
#define VM_PCI_SLOTS		31
#define VM_MAX_DISKS		(VM_PCI_SLOTS - 1)
/* The longest serial a virtio-blk device reports (VIRTIO_BLK_ID_BYTES). */
#define VM_DISK_SERIAL_MAX	20

struct vm_config {
	char *name;		/* the VM's name; default the slice's, or vm-PID */
	char *kernel;
	char *initrd;
	char *cmdline;		/* NULL: VM_DEFAULT_CMDLINE */
	int cpus;		/* 0: not given */
	uint64_t memory;	/* 0: not given */
	bool memory_set;	/* given explicitly (so 0 is refused, not defaulted) */
	bool cpus_set;
	char *file;		/* the VM config the values came from, if any */
	bool memory_in_file;	/* memory came from that file, not --memory */
	bool cpus_in_file;
	char *slice;		/* run inside this slice (ledger claim) */
	bool pvh;		/* ELF vmlinux: enter through the PVH note */
	bool detach;		/* --detach: no terminal; the console is the socket's */
	char *log;		/* --log FILE: the console (detached) also goes here */
	int ready_fd;		/* detached: where to say "ok" or the error; -1 */
	/*
	 * Disks in the order the guest sees them (vda, vdb, ...): the file's,
	 * then --disk's. Only the syntax is checked here; the device opens
	 * and locks the images.
	 */
	struct disk_config {
		char *path;
		bool readonly;
		char *serial;	/* NULL: none */
	} disks[VM_MAX_DISKS];
	int ndisks;
};

void config_init(struct vm_config *cfg);
void config_free(struct vm_config *cfg);

/*
 * Reads a JSON VM description into @cfg. Keys: name, kernel, initrd,
 * cmdline, cpus, memory ("512M", or a number of MiB), slice, pvh, disks (an
 * array of --disk strings or {"path", "readonly", "serial"} objects; it
 * replaces the disks @cfg had). Relative paths are taken relative to the
 * file's directory. Unknown keys, wrong types and malformed JSON (with line
 * and column) are errors.
 */
int config_load(struct vm_config *cfg, const char *path);

/*
 * Fills defaults and checks what can be checked without KVM or files. With
 * a slice, the vCPU count and memory size not given are left for the slice
 * to fill (its CPUs and memory), then config_check_sizes() checks them.
 */
int config_finish(struct vm_config *cfg);
int config_check_sizes(const struct vm_config *cfg);

/* Refuses a vCPU count outside 1..VM_MAX_CPUS, naming it. */
int config_check_cpus(long long cpus);

/*
 * Appends the disk of one --disk option, "PATH[,readonly=on|off][,serial=S]"
 * (the path as given, relative to the working directory). A bad option, or
 * a disk more than VM_MAX_DISKS, is refused naming the option and the fix.
 */
int config_add_disk_option(struct vm_config *cfg, const char *spec);

/* Appends copies of @more's disks after @cfg's (the command line's after the file's). */
int config_append_disks(struct vm_config *cfg, const struct vm_config *more);

/* Refuses a disk count above VM_MAX_DISKS, naming it. */
int config_check_ndisks(long long ndisks);

/* Replaces a string field, freeing the old value. */
void config_set_str(char **field, const char *value);

#endif
