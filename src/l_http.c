/*
** l_http.c - bindings for socialpush.core.http (placeholder until implemented)
** SPDX-License-Identifier: MIT
*/
#include "compat.h"
#include "lsp.h"

int lsp_open_http(lua_State *L) {
  lua_newtable(L);
  return 1;
}
