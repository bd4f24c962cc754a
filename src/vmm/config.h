/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_VMM_CONFIG_H
#define SLICEVM_VMM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
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
 * host bridge, which leaves 31. One is kept for virtio-rng; the other
 * VM_PCI_ROOM hold the disks (virtio-blk) and then the nets (virtio-net),
 * so disks and nets together must fit in them (config_check_pci_room).
 */
#define VM_PCI_SLOTS		31
#define VM_PCI_ROOM		(VM_PCI_SLOTS - 1)
#define VM_MAX_DISKS		VM_PCI_ROOM
/* The longest serial a virtio-blk device reports (VIRTIO_BLK_ID_BYTES). */
#define VM_DISK_SERIAL_MAX	20
/*
 * Nets, well below the PCI room: each one holds host resources of its own
 * for as long as the VM runs (a tap queue, a vhost-net worker or an I/O
 * thread), and 8 (eth0 to eth7) is more than a guest on a few bridges or
 * VLANs needs, while a generated config cannot make dozens of taps.
 */
#define VM_MAX_NETS		8
/* Passed-through PCI functions: as many as a slice holds (SLICE_DEV_MAX). */
#define VM_MAX_DEVICES		16
#define VM_PCI_ADDR_MAX		16	/* "0000:03:00.0" and its NUL */
/* A Linux interface name: IFNAMSIZ (16) with its NUL. */
#define VM_NET_TAP_MAX		15

/*
 * Direct features (--direct, "direct"): hardware of a vCPU's own CPU that
 * the guest uses without exits, through slicevm's kernel component
 * (kernel/README.md); only in a slice. Bit i is named config_direct_name(i).
 */
#define VM_DIRECT_TIMER		(1U << 0)	/* its LAPIC timer: KVM_CAP_SLICEVM_TIMER */
#define VM_DIRECT_PMU		(1U << 1)	/* its performance counters: KVM_CAP_SLICEVM_PMU */
#define VM_DIRECT_IRQ		(1U << 2)	/* its timer's interrupts: KVM_CAP_SLICEVM_IRQ */
#define VM_DIRECT_IPI		(1U << 3)	/* its vCPUs' IPIs: KVM_CAP_SLICEVM_IPI */
#define VM_DIRECT_ALL		(VM_DIRECT_TIMER | VM_DIRECT_PMU | VM_DIRECT_IRQ | VM_DIRECT_IPI)

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
	/*
	 * Nets in the order the guest sees them (eth0, eth1, ...), on the PCI
	 * slots after the disks: the file's, then --net's. Only the syntax is
	 * checked here; the device opens (or creates) the taps.
	 */
	struct net_config {
		char *tap;		/* the host's tap interface, a valid name */
		uint8_t mac[6];		/* the guest's MAC, when mac_set */
		bool mac_set;		/* false: derived from the VM's name and index */
		int vhost;		/* -1 auto (default), 0 off, 1 on */
	} nets[VM_MAX_NETS];
	int nnets;
	/*
	 * The slice's PCI functions to pass through (--device, "devices"),
	 * normalized ("0000:03:00.0"); none given: all the slice has.
	 */
	char devices[VM_MAX_DEVICES][VM_PCI_ADDR_MAX];
	int ndevices;
	/*
	 * Direct features (VM_DIRECT_*): the file's and --direct's together.
	 * Only the names are checked here; the VMM checks the slice, the host
	 * and its KVM (vmm/direct.h).
	 */
	unsigned int direct;
};

void config_init(struct vm_config *cfg);
void config_free(struct vm_config *cfg);

/*
 * Reads a JSON VM description into @cfg. Keys: name, kernel, initrd,
 * cmdline, cpus, memory ("512M", or a number of MiB), slice, pvh, disks (an
 * array of --disk strings or {"path", "readonly", "serial"} objects; it
 * replaces the disks @cfg had), nets (an array of --net strings or {"tap",
 * "mac", "vhost"} objects; it replaces the nets @cfg had), devices (an
 * array of PCI addresses), direct (an array of direct feature names; it
 * replaces the features @cfg had). Relative paths
 * are taken relative to the file's directory (a tap name is not a path).
 * Unknown keys, wrong types and malformed JSON (with line and column) are
 * errors.
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

/*
 * Appends the net of one --net option, "tap=NAME[,mac=MAC][,vhost=on|off]".
 * A bad option, a tap another net has, or a net more than VM_MAX_NETS, is
 * refused naming the option and the fix.
 */
int config_add_net_option(struct vm_config *cfg, const char *spec);

/* Appends copies of @more's nets after @cfg's (the command line's after the file's). */
int config_append_nets(struct vm_config *cfg, const struct vm_config *more);

/* Refuses a net count above VM_MAX_NETS, naming it. */
int config_check_nnets(long long nnets);

/*
 * Appends PCI function @addr ("0000:03:00.0" or "03:00.0") of one --device
 * option or "devices" element; a malformed or repeated address, or more
 * than VM_MAX_DEVICES, is refused naming the fix.
 */
int config_add_device(struct vm_config *cfg, const char *addr);

/* The name of direct feature bit @i ("timer" for VM_DIRECT_TIMER, "pmu"), NULL past the last. */
const char *config_direct_name(int i);

/*
 * The names of the features of @direct joined by @sep ("timer,pmu"), into @buf;
 * "" for none.
 */
const char *config_direct_list(unsigned int direct, const char *sep, char *buf, size_t len);

/*
 * Adds the features of one --direct option, a comma-separated list of names
 * ("timer,pmu"). An unknown, empty or repeated name is refused naming the
 * option and the names this slicevm knows; nothing is added then.
 */
int config_add_direct_option(struct vm_config *cfg, const char *list);

/*
 * Refuses more disks and nets than the PCI bus has room for (VM_PCI_ROOM),
 * naming how many to drop. config_finish() checks it.
 */
int config_check_pci_room(const struct vm_config *cfg);

/* Replaces a string field, freeing the old value. */
void config_set_str(char **field, const char *value);

#endif
