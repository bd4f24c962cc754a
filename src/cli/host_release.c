// SPDX-License-Identifier: GPL-2.0
/* `slicevm host release`: undo what apply did, as the ledger recorded it. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "cli/cli.h"
#include "host/apply.h"
#include "lib/err.h"

static const char release_usage[] =
	"usage: slicevm host release [--ledger PATH] [--force]\n"
	"\n"
	"Undo 'slicevm host apply': restore every host value it replaced (IRQ\n"
	"affinities, the workqueue cpumask, the cpuset controller), newest first,\n"
	"remove the slice cgroups, give each PCI device apply bound to vfio-pci back\n"
	"(unbind, driver_override as it was, reprobe; a line says whether its driver\n"
	"took it back), and forget the plan. Releasing when nothing is applied does\n"
	"nothing. A plan applied before the last reboot is only forgotten: the\n"
	"reboot already reset the host.\n"
	"\n"
	"Refused while a running VM holds a slice. With --force the release goes on:\n"
	"the VM keeps running, but its slice's cgroup cannot be removed while its\n"
	"vCPU threads are inside, nor its devices taken from it; these are kept in\n"
	"the ledger and the release reports itself incomplete: run it again once\n"
	"the VM is stopped.\n"
	"\n"
	"  --ledger PATH  the ledger (default $SLICEVM_LEDGER, else\n"
	"                 " LEDGER_DEFAULT_PATH ")\n"
	"  --force        release even under running VMs (see above)\n"
	"  -h, --help     print this help\n";

int cmd_host_release(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ledger", required_argument, NULL, 'l' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *ledger = NULL;
	struct host_paths hp;
	bool force = false;
	struct ledger *l;
	int c, ret = 0;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'l': ledger = optarg; break;
		case 'f': force = true; break;
		case 'h':
			fputs(release_usage, stdout);
			return 0;
		default:
			return cli_opt_error(c, argv, opts, "host release");
		}
	}
	if (optind < argc)
		return cli_error("unexpected argument '%s': release takes no arguments",
				 argv[optind]);
	/* No ledger, nothing applied: do not create one just to say so. */
	ret = ledger_open_existing(&l, ledger);
	if (ret < 0)
		return cli_fail();
	if (ret > 0) {
		printf("nothing is applied (no ledger at %s): nothing to release\n",
		       ledger_resolve_path(ledger));
		return 0;
	}
	host_paths_default(&hp);
	if (host_release(l, &hp, force, stdout))
		ret = cli_fail();
	ledger_close(l);
	return ret;
}
