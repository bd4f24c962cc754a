// SPDX-License-Identifier: GPL-2.0
/*
 * The VM config file: the input is a VM.json, read by config_load() (from a
 * memfd, by its /proc/self/fd path) twice, as a file read over itself,
 * and then completed by config_finish(). Whatever is accepted must satisfy
 * what the rest of the VMM relies on.
 */
#include <string.h>

#include "fuzz.h"
#include "ctl/ctl.h"
#include "lib/err.h"
#include "vmm/config.h"

static struct fuzz_file file;

/* Disks and nets: within their limits and the PCI bus, each one usable. */
static void check_devices(const struct vm_config *cfg)
{
	if (cfg->ndisks < 0 || cfg->ndisks > VM_MAX_DISKS)
		fuzz_fail("config_finish accepted %d disks", cfg->ndisks);
	if (cfg->nnets < 0 || cfg->nnets > VM_MAX_NETS)
		fuzz_fail("config_finish accepted %d nets", cfg->nnets);
	if (cfg->ndisks + cfg->nnets > VM_PCI_ROOM)
		fuzz_fail("config_finish accepted %d disks and %d nets", cfg->ndisks,
			  cfg->nnets);
	for (int i = 0; i < cfg->ndisks; i++)
		if (!cfg->disks[i].path || !*cfg->disks[i].path)
			fuzz_fail("config_finish accepted disk %d without a path", i);
	for (int i = 0; i < cfg->nnets; i++) {
		const struct net_config *net = &cfg->nets[i];

		if (!net->tap || !*net->tap)
			fuzz_fail("config_finish accepted net %d without a tap", i);
		if (strlen(net->tap) > VM_NET_TAP_MAX || strpbrk(net->tap, "/: \t\n"))
			fuzz_fail("config_finish accepted tap '%s'", net->tap);
		if (net->mac_set && (net->mac[0] & 1))
			fuzz_fail("config_finish accepted multicast MAC for tap '%s'", net->tap);
		if (net->vhost < -1 || net->vhost > 1)
			fuzz_fail("config_finish accepted vhost %d", net->vhost);
		for (int j = 0; j < i; j++)
			if (!strcmp(cfg->nets[j].tap, net->tap))
				fuzz_fail("config_finish accepted tap '%s' twice", net->tap);
	}
}

static void check_finished(const struct vm_config *cfg)
{
	check_devices(cfg);
	/* direct features: known ones only, and only in a slice */
	if (cfg->direct & ~VM_DIRECT_TIMER)
		fuzz_fail("config_finish accepted direct features %#x", cfg->direct);
	if (cfg->direct && !cfg->slice)
		fuzz_fail("config_finish accepted direct features without a slice");
	if (!cfg->kernel || !*cfg->kernel)
		fuzz_fail("config_finish accepted a config without a kernel");
	if (!cfg->cmdline)
		fuzz_fail("config_finish left the cmdline unset");
	/* no name is the VMM's to choose (vm-PID); a given one must be valid */
	if (cfg->name && ctl_check_name(cfg->name))
		fuzz_fail("config_finish accepted VM name '%s'", cfg->name);
	if (cfg->cpus_set && (cfg->cpus < 1 || cfg->cpus > VM_MAX_CPUS))
		fuzz_fail("config_finish accepted %d cpus", cfg->cpus);
	/* In a slice, the sizes not given are left for the slice to fill. */
	if (cfg->slice && (!cfg->cpus_set || !cfg->memory_set))
		return;
	if (cfg->cpus < 1 || cfg->cpus > VM_MAX_CPUS)
		fuzz_fail("config_finish accepted %d cpus", cfg->cpus);
	if (cfg->memory < VM_MIN_MEMORY || (cfg->memory & 0xFFF))
		fuzz_fail("config_finish accepted memory %llu",
			  (unsigned long long)cfg->memory);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vm_config cfg;

	if (!file.path[0])
		fuzz_file_init(&file, "vm.json");
	fuzz_file_set(&file, data, size);

	config_init(&cfg);
	err_clear();
	if (config_load(&cfg, file.path) == 0) {
		/* A second file on top overrides field by field, as the CLI does. */
		if (config_load(&cfg, file.path))
			fuzz_fail("config accepted once, refused the second time: %s",
				  err_msg());
		if (config_finish(&cfg) == 0)
			check_finished(&cfg);
	} else if (!*err_msg()) {
		fuzz_fail("config_load failed without a message");
	}
	config_free(&cfg);
	return 0;
}
