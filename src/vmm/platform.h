/* SPDX-License-Identifier: GPL-2.0 */
/* Moved to arch/x86/platform.h; this name goes once nothing includes it. */
#include "arch/x86/platform.h"
