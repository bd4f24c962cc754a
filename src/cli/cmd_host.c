// SPDX-License-Identifier: GPL-2.0
/* `slicevm host <subcommand>`: the host side of slices. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

struct host_command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct host_command host_commands[] = {
	{ "probe", cmd_host_probe, "print the host topology (--json for JSON)" },
	{ "plan", cmd_host_plan, "validate a configuration and print the plan" },
	{ "apply", cmd_host_apply, "make a plan real: cpusets, IRQ affinity, vfio-pci, ledger" },
	{ "release", cmd_host_release, "undo apply, restoring the recorded values and drivers" },
	{ "bootargs", cmd_host_bootargs, "print kernel parameters for boot-time isolation" },
	{ "status", cmd_host_status, "slices, their VMs, and interrupts on slice CPUs" },
	{ "check", cmd_host_check, "is this host ready for slices? PASS/WARN/FAIL with fixes" },
};

#define NR_HOST_COMMANDS (sizeof(host_commands) / sizeof(host_commands[0]))

static void host_usage(FILE *out)
{
	fprintf(out, "usage: slicevm host <command> [options]\n\ncommands:\n");
	for (size_t i = 0; i < NR_HOST_COMMANDS; i++)
		fprintf(out, "  %-9s %s\n", host_commands[i].name,
			host_commands[i].summary);
}

int cmd_host(int argc, char **argv)
{
	if (argc < 2) {
		host_usage(stderr);
		return 1;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		host_usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < NR_HOST_COMMANDS; i++)
		if (!strcmp(argv[1], host_commands[i].name))
			return host_commands[i].fn(argc - 1, argv + 1);
	return cli_error("unknown host command '%s': see 'slicevm host --help'",
			 argv[1]);
}
