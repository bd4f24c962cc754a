// SPDX-License-Identifier: GPL-2.0
/* `slicevm run`: boot a Linux guest. The command line overrides a JSON file. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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
"  -p, --cmdline STR    kernel command line (default \"" VM_DEFAULT_CMDLINE "\")\n"
"  -c, --cpus N         vCPUs (default 1; in a slice, one per slice CPU)\n"
"  -m, --memory SIZE    guest RAM: 512M, 4G, or a number of MiB (default 512M;\n"
"                       in a slice, all of the slice's memory)\n"
"      --slice NAME     run inside slice NAME of the applied host plan\n"
"      --name NAME      the VM's name: its control socket, 'slicevm ls', the\n"
"                       ledger (default: the slice's name, else vm-PID)\n"
"      --disk PATH[,readonly=on][,serial=S]\n"
"                       a virtio disk backed by the image PATH (repeatable:\n"
"                       /dev/vda, vdb, ... in order, after VM.json's disks)\n"
"      --net tap=NAME[,mac=MAC][,vhost=on|off]\n"
"                       a virtio network card on the host's tap NAME, made if\n"
"                       missing (repeatable: eth0, eth1, ... in order, after\n"
"                       VM.json's nets; MAC default: made from the VM's name)\n"
"      --device ADDR    pass through the slice's PCI function ADDR (with\n"
"                       --slice; repeatable; default: all the slice holds)\n"
"      --direct LIST    with --slice: hardware of each vCPU's own CPU that the\n"
"                       guest uses without exits, a comma-separated list of\n"
"                       timer (its LAPIC timer; slicevm's kernel component v2),\n"
"                       pmu (its performance counters; v3 AMD, v6 Intel),\n"
"                       irq (with timer: its timer's interrupts; v4) and ipi\n"
"                       (with irq: IPIs from its other vCPUs; v5); needs\n"
"                       nohz_full slice CPUs\n"
"  -d, --detach         run in the background; the console goes to a socket\n"
"                       ('slicevm console NAME' attaches) and to --log\n"
"      --log FILE       with --detach: append the console (and the VMM's\n"
"                       messages) to FILE\n"
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
		{ "cmdline", required_argument, NULL, 'p' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "memory", required_argument, NULL, 'm' },
		{ "slice", required_argument, NULL, 'S' },
		{ "name", required_argument, NULL, 'N' },
		{ "pvh", no_argument, NULL, 'P' },
		{ "detach", no_argument, NULL, 'd' },
		{ "log", required_argument, NULL, 'L' },
		{ "disk", required_argument, NULL, 'D' },
		{ "net", required_argument, NULL, 'T' },
		{ "device", required_argument, NULL, 'V' },
		{ "direct", required_argument, NULL, 'X' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct vm_config *cli = &args->cli;
	int c;

	opterr = 0;
	/* -c for vCPUs and -p for the command line, as lkvm has them */
	while ((c = getopt_long(argc, argv, ":k:i:p:c:m:dh", opts, NULL)) != -1) {
		switch (c) {
		case 'k': config_set_str(&cli->kernel, optarg); break;
		case 'i': config_set_str(&cli->initrd, optarg); break;
		case 'p': config_set_str(&cli->cmdline, optarg); break;
		case 'S': config_set_str(&cli->slice, optarg); break;
		case 'N': config_set_str(&cli->name, optarg); break;
		case 'P': cli->pvh = true; break;
		case 'd': cli->detach = true; break;
		case 'L': config_set_str(&cli->log, optarg); break;
		case 'D':
			if (config_add_disk_option(cli, optarg))
				return cli_fail();
			break;
		case 'T':
			if (config_add_net_option(cli, optarg))
				return cli_fail();
			break;
		case 'V':
			if (config_add_device(cli, optarg))
				return cli_fail();
			break;
		case 'X':
			if (config_add_direct_option(cli, optarg))
				return cli_fail();
			break;
		case 'c':
			if (parse_cpus(optarg, &cli->cpus))
				return cli_fail();
			cli->cpus_set = true;
			break;
		case 'm':
			if (size_parse_default(optarg, VM_MEMORY_BARE_SHIFT, &cli->memory))
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

/*
 * `slicevm run bzImage`: the one positional argument is a VM config, and a
 * kernel there would only get a JSON error about a NUL byte. Say what it is.
 */
static int not_a_kernel(const char *path)
{
	unsigned char head[0x210];
	ssize_t n = 0;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0) {
		n = read(fd, head, sizeof(head));
		close(fd);
	}
	if (n >= 4 && !memcmp(head, "\x7f" "ELF", 4))
		return err_set("%s looks like a kernel (ELF), not a VM config: give it with --kernel %s",
			       path, path);
	if (n == (ssize_t)sizeof(head) && !memcmp(head + 0x202, "HdrS", 4))
		return err_set("%s looks like a kernel (bzImage), not a VM config: give it with --kernel %s",
			       path, path);
	return 0;
}

/*
 * Fields given on the command line win over the file's; its disks and nets
 * come after the file's, its direct features join the file's.
 */
static int apply_overrides(struct vm_config *cfg, const struct vm_config *cli)
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
	cfg->detach = cli->detach;
	if (cli->log)
		config_set_str(&cfg->log, cli->log);
	if (cli->cpus_set) {
		cfg->cpus = cli->cpus;
		cfg->cpus_set = true;
		cfg->cpus_in_file = false;
	}
	if (cli->memory_set) {
		cfg->memory = cli->memory;
		cfg->memory_set = true;
		cfg->memory_in_file = false;
	}
	if (config_append_disks(cfg, cli))
		return -1;
	for (int i = 0; i < cli->ndevices; i++)
		if (config_add_device(cfg, cli->devices[i]))
			return -1;
	cfg->direct |= cli->direct;
	return config_append_nets(cfg, cli);
}

/*
 * --detach: the VMM runs on in a child of its own session, with no
 * terminal; this process waits until the VM runs (or could not start) and
 * says which, so the exit status tells the caller whether it worked.
 */
static int run_detached(struct vm_config *cfg)
{
	char line[600] = "";
	int p[2], devnull, out;
	ssize_t n = 0, r;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return cli_error("cannot make a pipe: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return cli_error("cannot fork the VMM: %s", strerror(errno));
	if (pid == 0) {
		close(p[0]);
		setsid();
		devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
		out = cfg->log ? open(cfg->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640) :
			devnull;
		if (devnull < 0 || out < 0) {
			n = snprintf(line, sizeof(line), "cannot open %s: %s\n",
				     cfg->log ? cfg->log : "/dev/null", strerror(errno));
			(void)!write(p[1], line, (size_t)n);
			_exit(1);
		}
		dup2(devnull, STDIN_FILENO);
		dup2(out, STDOUT_FILENO);
		dup2(out, STDERR_FILENO);
		cfg->ready_fd = p[1];
		_exit(vm_run(cfg));
	}
	close(p[1]);
	while ((size_t)n < sizeof(line) - 1 &&
	       (r = read(p[0], line + n, sizeof(line) - 1 - (size_t)n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		n += r;
	}
	close(p[0]);
	line[n] = '\0';
	line[strcspn(line, "\n")] = '\0';
	if (strncmp(line, "ok ", 3)) {
		waitpid(pid, NULL, 0);
		return cli_error("%s", *line ? line : "the VMM ended before the VM ran");
	}
	printf("VM %s runs (pid %d): 'slicevm console %s' attaches, 'slicevm stop %s' stops it\n",
	       line + 3, (int)pid, line + 3, line + 3);
	return 0;
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
	if (args.config_path && (not_a_kernel(args.config_path) ||
				 config_load(&cfg, args.config_path))) {
		ret = cli_fail();
		goto out;
	}
	if (apply_overrides(&cfg, &args.cli) || config_finish(&cfg)) {
		ret = cli_fail();
		goto out;
	}
	if (cfg.log && !cfg.detach) {
		ret = cli_error("--log needs --detach: a VM in the foreground prints its console here");
		goto out;
	}
	ret = cfg.detach ? run_detached(&cfg) : vm_run(&cfg);
out:
	config_free(&args.cli);
	config_free(&cfg);
	return ret;
}
