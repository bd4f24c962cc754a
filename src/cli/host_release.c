// SPDX-License-Identifier: GPL-2.0
/* Placeholder until the host module lands; replaced by its real command. */
#include "cli/cli.h"

int cmd_host_release(int argc, char **argv)
{
	return cli_error("host release is not built yet");
}
