/*
** l_err.c - the socialpush.error metatable and lsp_fail
** SPDX-License-Identifier: MIT
*/
#include <stdarg.h>

#include "compat.h"
#include "l_err.h"

int lsp_fail(lua_State *L, const char *kind, const char *fmt, ...) {
  va_list ap;
  lua_pushnil(L);
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  lua_createtable(L, 0, 4);               /* nil, msg, err */
  lua_pushstring(L, kind);
  lua_setfield(L, -2, "kind");
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, "message");
  luaL_getmetatable(L, SP_ERROR_MT);
  lua_setmetatable(L, -2);
  return 3;
}

static int l_err__tostring(lua_State *L) {
  lua_getfield(L, 1, "message");
  if (!lua_isstring(L, -1)) {
    lua_pop(L, 1);
    lua_pushliteral(L, "socialpush error");
  }
  return 1;
}

int lsp_open_err(lua_State *L) {
  luaL_newmetatable(L, SP_ERROR_MT);
  lua_pushcfunction(L, l_err__tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushliteral(L, SP_ERROR_MT);
  lua_setfield(L, -2, "__name");
  return 1;
}
