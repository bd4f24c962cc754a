// SPDX-License-Identifier: GPL-2.0
/* Placeholder until the host module lands; replaced by its real command. */
#include "cli/cli.h"

int cmd_host_apply(int argc, char **argv)
{
	return cli_error("host apply is not built yet");
}
