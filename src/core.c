/*
** core.c - luaopen_socialpush_core, the only exported symbol
** Builds the private module table: _VERSION, error_mt, json, sign, http, and
** check_fields (the option-table check of the Lua layer).
** SPDX-License-Identifier: MIT
*/
#include "compat.h"
#include "socialpush.h"
#include "l_err.h"
#include "lsp.h"

#include <string.h>

/* check_fields(t, spec): every key of t is in spec with the type spec names
** (spec[k] a type name, or a set {name = true}). Returns nothing when so, else
** the key, the value's type and "unknown" or "type". One C call instead of a
** Lua loop of next/type calls on every request. */
static int l_check_fields(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  lua_pushnil(L);
  while (lua_next(L, 1)) {                       /* 3: key, 4: value */
    const char *got = luaL_typename(L, 4);
    int ok;
    lua_pushvalue(L, 3);
    lua_rawget(L, 2);                            /* 5: what spec wants */
    if (lua_type(L, 5) == LUA_TSTRING) {
      ok = strcmp(lua_tostring(L, 5), got) == 0;
    } else if (lua_istable(L, 5)) {
      lua_getfield(L, 5, got);
      ok = lua_toboolean(L, -1);
      lua_pop(L, 1);
    } else {
      lua_pushvalue(L, 3);
      lua_pushstring(L, got);
      lua_pushliteral(L, "unknown");
      return 3;
    }
    if (!ok) {
      lua_pushvalue(L, 3);
      lua_pushstring(L, got);
      lua_pushliteral(L, "type");
      return 3;
    }
    lua_settop(L, 3);
  }
  return 0;
}


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
  lua_pushcfunction(L, l_check_fields);
  lua_setfield(L, -2, "check_fields");
  for (i = 0; parts[i].name != NULL; i++) {
    parts[i].open(L);                     /* core, part */
    lua_setfield(L, -2, parts[i].name);
  }
  return 1;
}
