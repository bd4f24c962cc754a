// SPDX-License-Identifier: GPL-2.0
/* `slicevm host bootargs`: kernel parameters for boot-time isolation. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "host/apply.h"
#include "host/bootargs.h"
#include "lib/err.h"

static const char bootargs_usage[] =
	"usage: slicevm host bootargs [CONFIG] [--ledger PATH] [--topology SOURCE]\n"
	"                             [--grub-dropin PATH]\n"
	"\n"
	"Print the kernel parameters that complete the slices' isolation from boot\n"
	"(each explained in a comment): isolcpus=managed_irq,<slice CPUs>\n"
	"nohz_full=<slice CPUs> rcu_nocbs=<slice CPUs> irqaffinity=<housekeeping>,\n"
	"and for slice memory: memmap=SIZE$START (or SIZE!START with \"reserve_as\":\n"
	"\"pmem\") for each reserved slice, hugepagesz=1G|2M hugepages=NODE:COUNT,...\n"
	"for hugetlb slices. Reserved ranges are chosen on this host from its\n"
	"firmware memory map: run it here, not with --topology of another machine.\n"
	"The plan comes from CONFIG (resolved as 'slicevm host plan' does) or, without\n"
	"CONFIG, from the plan applied in the ledger.\n"
	"\n"
	"  --grub-dropin PATH  also write them as a GRUB drop-in, e.g.\n"
	"                      /etc/default/grub.d/slicevm.cfg, then run update-grub\n"
	"                      (nothing under /etc is written without this option)\n"
	"  --ledger PATH       the ledger (default $SLICEVM_LEDGER, else\n"
	"                      " LEDGER_DEFAULT_PATH ")\n"
	"  --topology SOURCE   with CONFIG: resolve against this topology\n"
	"  -h, --help          print this help\n";

static int plan_from_ledger(const char *ledger, struct plan *plan)
{
	int ret = ledger_read_plan(ledger, plan);

	if (ret == 1)
		return err_set("no plan is applied (no ledger at %s): give CONFIG",
			       ledger_resolve_path(ledger));
	if (ret > 0)
		return err_set("%s: give CONFIG", err_msg());
	if (ret < 0)
		return err_set("%s (or give CONFIG)", err_msg());
	return 0;
}

int cmd_host_bootargs(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ledger", required_argument, NULL, 'l' },
		{ "topology", required_argument, NULL, 't' },
		{ "grub-dropin", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *source = cli_topology_env(), *ledger = NULL;
	const char *config = NULL, *dropin = NULL;
	struct plan *plan;
	int c, ret = 0;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'l': ledger = optarg; break;
		case 't': source = optarg; break;
		case 'g': dropin = optarg; break;
		case 'h':
			fputs(bootargs_usage, stdout);
			return 0;
		default:
			return cli_opt_error(c, argv, opts, "host bootargs");
		}
	}
	if (optind < argc)
		config = argv[optind++];
	if (optind < argc)
		return cli_error("unexpected argument '%s': give at most one configuration file",
				 argv[optind]);
	plan = calloc(1, sizeof(*plan));
	if (!plan)
		return cli_error("out of memory");
	if (config ? host_resolve_plan(config, source, plan) : plan_from_ledger(ledger, plan)) {
		ret = cli_fail();
	} else if (bootargs_print(plan, stdout)) {
		ret = cli_fail();
	} else if (dropin) {
		if (bootargs_write_grub_dropin(plan, dropin))
			ret = cli_fail();
		else
			printf("wrote %s: now run 'update-grub' (or 'grub2-mkconfig -o /boot/grub2/grub.cfg') and reboot\n",
			       dropin);
	}
	free(plan);
	return ret;
}
