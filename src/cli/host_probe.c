// SPDX-License-Identifier: GPL-2.0
/* `slicevm host probe`: what the host is made of. Reads only; changes nothing. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "host/topology.h"
#include "lib/err.h"

static const char probe_usage[] =
	"usage: slicevm host probe [--json] [--topology SOURCE]\n"
	"\n"
	"Print the host's packages, NUMA nodes (with memory), cores (with their\n"
	"SMT sibling CPUs) and PCI devices (with NUMA node and IOMMU group).\n"
	"Nothing is changed.\n"
	"\n"
	"  --json             print JSON instead of tables\n"
	"  --topology SOURCE  describe another machine: an hwloc XML file\n"
	"                     (lstopo --of xml) or synthetic:<hwloc synthetic\n"
	"                     description>; default $SLICEVM_TOPOLOGY, else this host\n"
	"  -h, --help         print this help\n"
	"\n"
	"PCI devices are read from $SLICEVM_SYSFS_ROOT/bus/pci/devices (default\n"
	"/sys); a --topology source has PCI devices only when SLICEVM_SYSFS_ROOT\n"
	"is set.\n";

int cmd_host_probe(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "topology", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *source = cli_topology_env();
	struct topology *topo;
	int c, json = 0;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 't': source = optarg; break;
		case 'h':
			fputs(probe_usage, stdout);
			return 0;
		default:
			return cli_opt_error(c, argv, opts, "host probe");
		}
	}
	if (optind < argc)
		return cli_error("unexpected argument '%s': see 'slicevm host probe --help'",
				 argv[optind]);
	if (topology_load(&topo, source))
		return cli_fail();
	if (json) {
		json_object *o = topology_to_json(topo);

		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						    JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		topology_print_table(topo, stdout);
	}
	topology_free(topo);
	return 0;
}
