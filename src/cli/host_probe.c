// SPDX-License-Identifier: GPL-2.0
/* Placeholder until the host module lands; replaced by its real command. */
#include "cli/cli.h"

int cmd_host_probe(int argc, char **argv)
{
	return cli_error("host probe is not built yet");
}
