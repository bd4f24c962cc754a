// SPDX-License-Identifier: GPL-2.0
/* `slicevm host plan CONFIG`: validate a configuration, print the plan. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "host/apply.h"
#include "host/physmem.h"
#include "host/planner.h"
#include "lib/err.h"

static const char plan_usage[] =
	"usage: slicevm host plan CONFIG [--json] [--topology SOURCE]\n"
	"\n"
	"Resolve the slice configuration CONFIG (JSON) against the host topology\n"
	"and print the plan: housekeeping CPUs and, for each slice, its CPUs\n"
	"(whole cores), NUMA node, memory and PCI devices. Nothing is changed;\n"
	"a configuration that breaks a rule is refused with the reason.\n"
	"\n"
	"  --json             print the plan as JSON (as the ledger stores it)\n"
	"  --topology SOURCE  plan for another machine: an hwloc XML file\n"
	"                     (lstopo --of xml) or synthetic:<hwloc synthetic\n"
	"                     description>; default $SLICEVM_TOPOLOGY, else this host\n"
	"  -h, --help         print this help\n"
	"\n"
	"CONFIG, for example:\n"
	"  {\"housekeeping\": {\"cores_per_node\": 1}, \"host_reserve\": \"1G\",\n"
	"   \"slices\": [{\"name\": \"db\", \"cpus\": 4, \"memory\": \"8G\", \"node\": 0,\n"
	"                \"devices\": [\"0000:03:00.0\"]},\n"
	"               {\"name\": \"web\"}]}\n"
	"or simply {\"slices\": 3}. Keys: housekeeping {cores_per_node | cpus},\n"
	"allow_spanning, host_reserve (\"1G\" or \"5%\" per node), slices (a count or\n"
	"a list of {name, cpus (count or list) | cores, memory, node, devices,\n"
	"backing (\"anon\" | \"hugetlb\" | \"reserved\"), and for reserved slices\n"
	"identity, phys_start, reserve_as (\"memmap\" | \"pmem\")}). On this host a\n"
	"reserved slice's physical range is chosen from the firmware memory map\n"
	"and shown; with --topology it is chosen later, on the host itself.\n";

/* Cores no slice got (a node without slices, say) stay with the host. */
static void print_unassigned(const struct topology *topo, const struct plan *plan)
{
	struct cpumask left = topo->cpus;
	char list[CPULIST_MAX];

	cpumask_andnot(&left, &left, &plan->housekeeping);
	for (int i = 0; i < plan->nslices; i++)
		cpumask_andnot(&left, &left, &plan->slices[i].cpus);
	if (!cpumask_empty(&left))
		printf("\nunassigned CPUs %s stay with the host\n",
		       cpumask_format_list(&left, list, sizeof(list)));
}

int cmd_host_plan(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "topology", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *source = cli_topology_env(), *config;
	struct topology *topo;
	struct plan *plan;
	int c, json = 0, ret = 0;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 't': source = optarg; break;
		case 'h':
			fputs(plan_usage, stdout);
			return 0;
		default:
			return cli_opt_error(c, argv, opts, "host plan");
		}
	}
	if (optind >= argc)
		return cli_error("no configuration given: use 'slicevm host plan CONFIG' "
				 "(see --help)");
	config = argv[optind++];
	if (optind < argc)
		return cli_error("unexpected argument '%s': give one configuration file",
				 argv[optind]);
	if (topology_load(&topo, source))
		return cli_fail();
	plan = calloc(1, sizeof(*plan));
	if (!plan) {
		topology_free(topo);
		return cli_error("out of memory");
	}
	if (plan_resolve_file(config, topo, plan) ||
	    (!source && plan_has_reserved(plan) && host_place_reserved(config, topo, plan))) {
		ret = cli_fail();
	} else if (json) {
		json_object *o = plan_to_json(plan);

		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						    JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		printf("plan for %s (%d NUMA node%s, %d cores, %d CPUs):\n", topo->source,
		       topo->nnodes, topo->nnodes == 1 ? "" : "s", topo->ncores,
		       cpumask_count(&topo->cpus));
		plan_print_table(plan, stdout);
		print_unassigned(topo, plan);
	}
	free(plan);
	topology_free(topo);
	return ret;
}
