/*
** core.c - luaopen_socialpush_core, the only exported symbol
** Builds the private module table: _VERSION, error_mt, json, sign, http.
** SPDX-License-Identifier: MIT
*/
#include "compat.h"
#include "socialpush.h"
#include "l_err.h"
#include "lsp.h"

static const struct {
  const char *name;
  int (*open)(lua_State *L);
} parts[] = {
  {"error_mt", lsp_open_err},
  {"json", lsp_open_json},
  {"sign", lsp_open_sign},
  {"http", lsp_open_http},
  {NULL, NULL}
};

SP_API int luaopen_socialpush_core(lua_State *L) {
  int i;
  lua_newtable(L);
  lua_pushliteral(L, SP_VERSION);
  lua_setfield(L, -2, "_VERSION");
  for (i = 0; parts[i].name != NULL; i++) {
    parts[i].open(L);                     /* core, part */
    lua_setfield(L, -2, parts[i].name);
  }
  return 1;
}
