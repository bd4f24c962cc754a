// SPDX-License-Identifier: GPL-2.0
/* `slicevm host status`: slices, their VMs, interrupts on their CPUs. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "cli/cli.h"
#include "host/status.h"
#include "lib/err.h"

static const char status_usage[] =
	"usage: slicevm host status [--ledger PATH] [--json]\n"
	"\n"
	"Show the applied plan: for each slice its CPUs, its cpuset partition as the\n"
	"kernel reports it now, the VM holding it (running, or gone: stale), and the\n"
	"interrupts that landed on its CPUs since apply, by source (against the\n"
	"/proc/interrupts snapshot apply took). Changes nothing.\n"
	"\n"
	"  --ledger PATH  the ledger (default $SLICEVM_LEDGER, else\n"
	"                 " LEDGER_DEFAULT_PATH ")\n"
	"  --json         print JSON (every interrupt source, not only the top ones)\n"
	"  -h, --help     print this help\n";

int cmd_host_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ledger", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *ledger = NULL;
	struct host_paths hp;
	bool json = false;
	json_object *st;
	struct ledger *l;
	int c, r;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'l': ledger = optarg; break;
		case 'j': json = true; break;
		case 'h':
			fputs(status_usage, stdout);
			return 0;
		default:
			return cli_opt_error(c, argv, opts, "host status");
		}
	}
	if (optind < argc)
		return cli_error("unexpected argument '%s': status takes no arguments",
				 argv[optind]);
	r = ledger_open_readonly(&l, ledger);
	if (r < 0)
		return cli_fail();
	if (r > 0) {
		if (json)
			printf("{ \"ledger\": null, \"state\": \"none\" }\n");
		else
			printf("no plan is applied (no ledger at %s)\n",
			       ledger_resolve_path(ledger));
		return 0;
	}
	host_paths_default(&hp);
	st = host_status(l, &hp);
	ledger_close(l);
	if (!st)
		return cli_fail();
	if (json)
		puts(json_object_to_json_string_ext(st, JSON_C_TO_STRING_PRETTY |
						    JSON_C_TO_STRING_NOSLASHESCAPE));
	else
		host_status_print(st, stdout);
	json_object_put(st);
	return 0;
}
