// SPDX-License-Identifier: GPL-2.0
/* `slicevm host apply CONFIG`: make a plan real and record it in the ledger. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "host/apply.h"
#include "host/planner.h"
#include "lib/err.h"

static const char apply_usage[] =
	"usage: slicevm host apply CONFIG [--ledger PATH] [--topology SOURCE]\n"
	"\n"
	"Resolve CONFIG into a plan (as 'slicevm host plan' does) and make it real:\n"
	"  - unbound workqueues and device IRQs (/proc/irq/*/smp_affinity and the\n"
	"    default for new IRQs) are moved to the housekeeping CPUs; IRQs the\n"
	"    kernel will not move (per-CPU, managed) are listed;\n"
	"  - each slice gets a cgroup v2 cpuset partition /sys/fs/cgroup/slicevm-NAME\n"
	"    (threaded, cpuset.cpus = its CPUs, cpuset.mems = its node,\n"
	"    cpuset.cpus.partition = isolated, or root where the kernel has no\n"
	"    isolated partitions).\n"
	"Every value replaced is recorded in the ledger first; 'slicevm host release'\n"
	"restores them. A failure half way undoes what was done. Applying the same\n"
	"plan again changes nothing; a different plan needs a release first.\n"
	"Needs root and cgroup v2.\n"
	"\n"
	"  --ledger PATH      the ledger (default $SLICEVM_LEDGER, else\n"
	"                     " LEDGER_DEFAULT_PATH ")\n"
	"  --topology SOURCE  resolve against this topology (see 'slicevm host plan\n"
	"                     --help'); default $SLICEVM_TOPOLOGY, else this host\n"
	"  -h, --help         print this help\n";

int cmd_host_apply(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ledger", required_argument, NULL, 'l' },
		{ "topology", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *source = cli_topology_env(), *ledger = NULL, *config;
	struct host_paths hp;
	struct ledger *l;
	struct plan *plan;
	int c, ret = 0;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'l': ledger = optarg; break;
		case 't': source = optarg; break;
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
	if (host_apply_open(&l, ledger, &hp, plan)) {
		free(plan);
		return cli_fail();
	}
	plan_print_table(plan, stdout);
	if (host_apply(l, &hp, plan, stdout))
		ret = cli_fail();
	ledger_close(l);
	free(plan);
	return ret;
}
