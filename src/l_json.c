/*
** l_json.c - bindings for socialpush.core.json (placeholder until implemented)
** SPDX-License-Identifier: MIT
*/
#include "compat.h"
#include "lsp.h"

int lsp_open_json(lua_State *L) {
  lua_newtable(L);
  return 1;
}
