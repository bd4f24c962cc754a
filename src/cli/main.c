// SPDX-License-Identifier: GPL-2.0
/*
 * slicevm: carve a KVM host into slices and run one VM in each.
 * Subcommands are dispatched git-style: `slicevm run ...`, `slicevm host ...`.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/err.h"

#ifndef SLICEVM_VERSION
#define SLICEVM_VERSION "0.1.0"
#endif

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "run", cmd_run, "boot a Linux guest, optionally inside a slice" },
	{ "host", cmd_host, "discover, plan, apply and release slices" },
	{ "ls", cmd_ls, "list running VMs" },
	{ "stop", cmd_stop, "shut a VM down (power button), or kill it" },
	{ "console", cmd_console, "attach to a detached VM's console" },
	{ "stats", cmd_stats, "a VM's KVM statistics, once or live" },
	{ "version", cmd_version, "print the version" },
};

int cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("slicevm: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

int cli_fail(void)
{
	return cli_error("%s", err_msg());
}

/*
 * Whether @arg ("--NAME=VALUE") names, maybe abbreviated, a long option of
 * @opts that takes no value and stands for @val.
 */
static bool names_flag(const char *arg, const struct option *opts, int val)
{
	size_t len = strcspn(arg, "=");

	if (strncmp(arg, "--", 2) || arg[len] != '=' || len == 2)
		return false;
	for (; opts && opts->name; opts++)
		if (opts->has_arg == no_argument && !opts->flag && opts->val == val &&
		    !strncmp(opts->name, arg + 2, len - 2))
			return true;
	return false;
}

/*
 * getopt_long() always moves past a long option it stops at (so it is
 * argv[optind - 1], maybe with "=VALUE"), but not past a short one still
 * followed by others ("-xh"): the letter is optopt, and argv[optind - 1]
 * is whatever came before. optopt is also the option's val for a known
 * long option given a value it does not take (or missing its value), and
 * 0 for an unknown long option. A "--NAME=VALUE" before an unknown short
 * option cannot be such a flag: getopt_long() would have stopped at it.
 */
int cli_opt_error(int c, char **argv, const struct option *opts, const char *cmd)
{
	char letter[3] = { '-', (char)optopt, '\0' };
	const char *arg = argv[optind - 1];
	bool is_long = !strncmp(arg, "--", 2) && arg[2];
	int len = (int)strcspn(arg, "=");

	if (c == '?' && optopt)
		is_long = names_flag(arg, opts, optopt);
	if (!is_long) {
		arg = letter;
		len = 2;
	}
	if (c == ':')
		return cli_error("option %.*s needs a value: see 'slicevm %s --help'", len, arg,
				 cmd);
	if (is_long && optopt)
		return cli_error("option %.*s takes no value: see 'slicevm %s --help'", len, arg,
				 cmd);
	return cli_error("unknown option '%.*s': see 'slicevm %s --help'", len, arg, cmd);
}

const char *cli_topology_env(void)
{
	const char *source = getenv("SLICEVM_TOPOLOGY");

	return source && *source ? source : NULL;
}

int cmd_version(int argc, char **argv)
{
	printf("slicevm %s\n", SLICEVM_VERSION);
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: slicevm <command> [options]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'slicevm <command> --help' describes a command.\n");
}

/*
 * Started with stdin, stdout or stderr closed, the next file opened would
 * take that number, and guest output or error lines would land in it (a
 * ledger, a kernel). Park /dev/null there first.
 */
static void open_standard_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || open("/dev/null", O_RDWR) == fd)
			continue;
		if (fcntl(2, F_GETFD) >= 0)
			dprintf(2, "slicevm: cannot open /dev/null for a closed standard descriptor: mount /dev\n");
		exit(1);
	}
}

int main(int argc, char **argv)
{
	open_standard_fds();
	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version"))
		return cmd_version(argc - 1, argv + 1);

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);

	return cli_error("unknown command '%s': see 'slicevm --help'", argv[1]);
}
