/*
** unpreload.c - preloaded after libasan in the sanitizer job: removes LD_PRELOAD from the
** environment once the process has started, so that the tools the specs run (curl,
** nginx, pgrep, ...) are not started under an uninstrumented ASan preload, where some
** of them hang. The Lua process itself stays instrumented.
** SPDX-License-Identifier: MIT
*/
#include <stdlib.h>

__attribute__((constructor)) static void sp_unpreload(void) {
  unsetenv("LD_PRELOAD");
}
