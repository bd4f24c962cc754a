// SPDX-License-Identifier: GPL-2.0
/* Placeholder: replaced by the VMM's command line in the next commits. */
#include "cli/cli.h"

int cmd_run(int argc, char **argv)
{
	return cli_error("run is not built yet");
}
