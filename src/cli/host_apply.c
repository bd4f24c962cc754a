// SPDX-License-Identifier: GPL-2.0
/* `slicevm host apply CONFIG`: make a plan real and record it in the ledger. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "host/apply.h"
#include "host/planner.h"
#include "lib/err.h"

static const char apply_usage[] =
	"usage: slicevm host apply CONFIG [--ledger PATH] [--topology SOURCE] [--force]\n"
	"\n"
	"Resolve CONFIG into a plan (as 'slicevm host plan' does) and make it real:\n"
	"  - each slice's PCI devices, with the rest of their IOMMU groups (bridges\n"
	"    aside), are bound to vfio-pci (driver_override, unbind, drivers_probe);\n"
	"    a device the host uses (a disk below it mounted, swapped on or held by\n"
	"    device mapper or md; its network interface carrying the default route)\n"
	"    is refused, naming the use, unless --force;\n"
	"  - unbound workqueues and device IRQs (/proc/irq/*/smp_affinity and the\n"
	"    default for new IRQs) are moved to the housekeeping CPUs; IRQs the\n"
	"    kernel will not move (per-CPU, managed) are listed;\n"
	"  - each slice gets a cgroup v2 cpuset partition /sys/fs/cgroup/slicevm-NAME\n"
	"    (threaded, cpuset.cpus = its CPUs, cpuset.mems = its node,\n"
	"    cpuset.cpus.partition = isolated, or root where the kernel has no\n"
	"    isolated partitions).\n"
	"Every value replaced is recorded in the ledger first (for a device: its\n"
	"driver and driver_override); 'slicevm host release' restores them and gives\n"
	"the devices back to their drivers. A failure half way undoes what was done.\n"
	"Applying the same plan again changes nothing; a different plan needs a\n"
	"release first. Needs root, cgroup v2 and, for devices, vfio-pci loaded.\n"
	"\n"
	"  --ledger PATH      the ledger (default $SLICEVM_LEDGER, else\n"
	"                     " LEDGER_DEFAULT_PATH ")\n"
	"  --topology SOURCE  resolve against this topology (see 'slicevm host plan\n"
	"                     --help'); default $SLICEVM_TOPOLOGY, else this host\n"
	"  --force            bind devices the host is using all the same (their\n"
	"                     disks and network go away from the host)\n"
	"  -h, --help         print this help\n";

int cmd_host_apply(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ledger", required_argument, NULL, 'l' },
		{ "topology", required_argument, NULL, 't' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *source = cli_topology_env(), *ledger = NULL, *config;
	struct host_paths hp;
	struct ledger *l;
	struct plan *plan;
	bool force = false;
	int c, ret = 0;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'l': ledger = optarg; break;
		case 't': source = optarg; break;
		case 'f': force = true; break;
		case 'h':
			fputs(apply_usage, stdout);
			return 0;
		default:
			return cli_opt_error(c, argv, opts, "host apply");
		}
	}
	if (optind >= argc)
		return cli_error("no configuration given: use 'slicevm host apply CONFIG' (see --help)");
	config = argv[optind++];
	if (optind < argc)
		return cli_error("unexpected argument '%s': give one configuration file",
				 argv[optind]);
	plan = calloc(1, sizeof(*plan));
	if (!plan)
		return cli_error("out of memory");
	/* A bad configuration is refused before anything, the ledger included, is touched. */
	if (host_resolve_plan(config, source, plan)) {
		free(plan);
		return cli_fail();
	}
	/* Nor is a host it does not fit: no ledger is left behind for it. */
	host_paths_default(&hp);
	if (host_apply_open(&l, ledger, &hp, plan, force)) {
		free(plan);
		return cli_fail();
	}
	plan_print_table(plan, stdout);
	if (host_apply(l, &hp, plan, force, stdout))
		ret = cli_fail();
	ledger_close(l);
	free(plan);
	return ret;
}
