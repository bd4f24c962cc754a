// SPDX-License-Identifier: GPL-2.0
/* `slicevm host check`: is this host ready for slices? */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "host/apply.h"
#include "host/check.h"
#include "lib/err.h"
#include "vmm/kvm.h"

static const char check_usage[] =
	"usage: slicevm host check [CONFIG] [--ledger PATH] [--topology SOURCE] [--json]\n"
	"\n"
	"Check that this host can run slices: one line per item, PASS, WARN or FAIL\n"
	"with the fix. Always: KVM (a kvm_pvm host fails), the CPU's virtualization\n"
	"features, TSC and clock source, cgroup v2 with cpuset and isolated\n"
	"partitions, the IOMMU. With a plan (CONFIG, else the plan applied in the\n"
	"ledger): the boot parameters 'slicevm host bootargs' prints for its CPUs,\n"
	"the kernel's nohz_full and isolated CPUs, hugepages per node for hugetlb\n"
	"slices, reserved ranges for reserved slices, the IOMMU for its devices.\n"
	"Changes nothing. Exit status 1 when an item fails, else 0.\n"
	"\n"
	"  --ledger PATH      the ledger (default $SLICEVM_LEDGER, else\n"
	"                     " LEDGER_DEFAULT_PATH ")\n"
	"  --topology SOURCE  with CONFIG: resolve against this topology\n"
	"  --json             print JSON\n"
	"  -h, --help         print this help\n";

/*
 * The plan to check: CONFIG, else the applied one, else none (NULL: no
 * ledger, or one a release left empty).
 */
static int find_plan(const char *config, const char *source, const char *ledger,
		     struct plan *plan, const struct plan **out, char *from, size_t len)
{
	int r;

	*out = NULL;
	if (config) {
		if (host_resolve_plan(config, source, plan))
			return -1;
		snprintf(from, len, "%s", config);
		*out = plan;
		return 0;
	}
	r = ledger_read_plan(ledger, plan);
	if (r < 0)
		return err_set("%s: give CONFIG to check against a plan", err_msg());
	if (r == 0) {
		snprintf(from, len, "the applied plan in %s", ledger_resolve_path(ledger));
		*out = plan;
	}
	return 0;
}

static int report(const struct check_report *r, bool json)
{
	if (json) {
		json_object *o = check_report_json(r);

		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						    JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		check_report_print(r, stdout);
	}
	return check_count(r, CHECK_FAIL) ? 1 : 0;
}

int cmd_host_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ledger", required_argument, NULL, 'l' },
		{ "topology", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *source = cli_topology_env(), *ledger = NULL, *config = NULL;
	struct host_check_opts o = { .kvm_dev = kvm_device_path() };
	struct check_report r;
	struct host_paths hp;
	struct plan *plan;
	char from[512];
	bool json = false;
	int c, ret;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'l': ledger = optarg; break;
		case 't': source = optarg; break;
		case 'j': json = true; break;
		case 'h':
			fputs(check_usage, stdout);
			return 0;
		default:
			return cli_opt_error(c, argv, opts, "host check");
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
	if (find_plan(config, source, ledger, plan, &o.plan, from, sizeof(from))) {
		free(plan);
		return cli_fail();
	}
	o.plan_source = from;
	host_paths_default(&hp);
	if (host_check(&hp, &o, &r)) {
		free(plan);
		return cli_fail();
	}
	ret = report(&r, json);
	check_report_free(&r);
	free(plan);
	return ret;
}
