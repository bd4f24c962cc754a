// SPDX-License-Identifier: GPL-2.0
/* `slicevm run`: boot a Linux guest. The command line overrides a JSON file. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/err.h"
#include "lib/size.h"
#include "vmm/config.h"
#include "vmm/vm.h"

static const char run_usage[] =
"usage: slicevm run [VM.json] [options]\n"
"\n"
"Boots a Linux guest on KVM with its serial console on this terminal\n"
"(Ctrl-A x quits, Ctrl-A Ctrl-A sends Ctrl-A). Options override VM.json.\n"
"\n"
"  -k, --kernel FILE    bzImage or ELF vmlinux to boot (required)\n"
"  -i, --initrd FILE    initramfs to load\n"
"  -c, --cmdline STR    kernel command line (default \"" VM_DEFAULT_CMDLINE "\")\n"
"  -n, --cpus N         vCPUs (default 1)\n"
"  -m, --memory SIZE    guest RAM, with K/M/G suffixes (default 512M)\n"
"      --slice NAME     run inside slice NAME of the applied host plan\n"
"      --name NAME      the VM's name in the host ledger (default \"vm\")\n"
"      --pvh            boot an ELF vmlinux through its PVH entry point\n"
"  -h, --help           show this help\n"
"\n"
"Exit status: 0 guest powered off (or Ctrl-A x), 1 error, 2 guest rebooted,\n"
"3 guest crashed (triple fault), 128+N stopped by signal N.\n";

struct run_args {
	struct vm_config cli;		/* only what the command line gave */
	const char *config_path;
};

static int parse_cpus(const char *arg, int *out)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(arg, &end, 10);
	if (end == arg || *end)
		return err_set("cpus '%s' is not a whole number: give --cpus 1 or more", arg);
	if (errno == ERANGE)
		return err_set("cpus %s is more than slicevm supports (%d): give fewer --cpus",
			       arg, VM_MAX_CPUS);
	if (config_check_cpus(n))
		return -1;
	*out = (int)n;
	return 0;
}

/* Returns -1 to go on, or the exit status to end with (--help, a bad option). */
static int parse_args(int argc, char **argv, struct run_args *args)
{
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "cmdline", required_argument, NULL, 'c' },
		{ "cpus", required_argument, NULL, 'n' },
		{ "memory", required_argument, NULL, 'm' },
		{ "slice", required_argument, NULL, 'S' },
		{ "name", required_argument, NULL, 'N' },
		{ "pvh", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct vm_config *cli = &args->cli;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":k:i:c:n:m:h", opts, NULL)) != -1) {
		switch (c) {
		case 'k': config_set_str(&cli->kernel, optarg); break;
		case 'i': config_set_str(&cli->initrd, optarg); break;
		case 'c': config_set_str(&cli->cmdline, optarg); break;
		case 'S': config_set_str(&cli->slice, optarg); break;
		case 'N': config_set_str(&cli->name, optarg); break;
		case 'P': cli->pvh = true; break;
		case 'n':
			if (parse_cpus(optarg, &cli->cpus))
				return cli_fail();
			cli->cpus_set = true;
			break;
		case 'm':
			if (size_parse(optarg, &cli->memory))
				return cli_error("--memory: %s", err_msg());
			cli->memory_set = true;
			break;
		case 'h':
			fputs(run_usage, stdout);
			return 0;
		default:
			return cli_opt_error(c, argv, opts, "run");
		}
	}
	if (optind < argc)
		args->config_path = argv[optind++];
	if (optind < argc)
		return cli_error("unexpected argument '%s': give at most one VM config file",
				 argv[optind]);
	return -1;
}

/* Fields given on the command line win over the file's. */
static void apply_overrides(struct vm_config *cfg, const struct vm_config *cli)
{
	if (cli->kernel)
		config_set_str(&cfg->kernel, cli->kernel);
	if (cli->initrd)
		config_set_str(&cfg->initrd, cli->initrd);
	if (cli->cmdline)
		config_set_str(&cfg->cmdline, cli->cmdline);
	if (cli->slice)
		config_set_str(&cfg->slice, cli->slice);
	if (cli->name)
		config_set_str(&cfg->name, cli->name);
	if (cli->pvh)
		cfg->pvh = true;
	if (cli->cpus_set) {
		cfg->cpus = cli->cpus;
		cfg->cpus_set = true;
	}
	if (cli->memory_set) {
		cfg->memory = cli->memory;
		cfg->memory_set = true;
	}
}

int cmd_run(int argc, char **argv)
{
	struct run_args args = { .config_path = NULL };
	struct vm_config cfg;
	int ret;

	config_init(&args.cli);
	config_init(&cfg);
	ret = parse_args(argc, argv, &args);
	if (ret >= 0)
		goto out;
	if (args.config_path && config_load(&cfg, args.config_path)) {
		ret = cli_fail();
		goto out;
	}
	apply_overrides(&cfg, &args.cli);
	if (config_finish(&cfg)) {
		ret = cli_fail();
		goto out;
	}
	ret = vm_run(&cfg);
out:
	config_free(&args.cli);
	config_free(&cfg);
	return ret;
}
