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

static void check_finished(const struct vm_config *cfg)
{
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
