/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLICEVM_CLI_CLI_H
#define SLICEVM_CLI_CLI_H

/*
 * Subcommands. Each takes argv with argv[0] naming the subcommand itself
 * ("run", "probe", ...), prints its own errors as one line on stderr
 * through cli_error(), and returns the process exit status.
 */
int cmd_run(int argc, char **argv);
int cmd_host(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_console(int argc, char **argv);
int cmd_stats(int argc, char **argv);

int cmd_host_probe(int argc, char **argv);
int cmd_host_plan(int argc, char **argv);
int cmd_host_apply(int argc, char **argv);
int cmd_host_release(int argc, char **argv);
int cmd_host_bootargs(int argc, char **argv);
int cmd_host_status(int argc, char **argv);
int cmd_host_check(int argc, char **argv);

/* "slicevm: <message>" on stderr; returns 1, the exit status for errors. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The same, with err_msg() as the message. */
int cli_fail(void);

struct option;

/*
 * For a getopt_long() loop using ":" at the start of its optstring: prints
 * "option X needs a value: see 'slicevm CMD --help'" when @c is ':', else
 * "unknown option 'X': see 'slicevm CMD --help'" (or "option --X takes no
 * value" for --X=VALUE on a flag), and returns the exit status (1). @cmd
 * names the command as the user types it: "run", "host apply". @opts is
 * the loop's long option table, to tell "--flag=VALUE" from an unknown
 * short option in a cluster after it.
 */
int cli_opt_error(int c, char **argv, const struct option *opts, const char *cmd);

/* $SLICEVM_TOPOLOGY, or NULL when unset or empty (this host). */
const char *cli_topology_env(void);

#endif
