/*
** l_sign.c - bindings for socialpush.core.sign (placeholder until implemented)
** SPDX-License-Identifier: MIT
*/
#include "compat.h"
#include "lsp.h"

int lsp_open_sign(lua_State *L) {
  lua_newtable(L);
  return 1;
}
