/*
** compat.c - bodies of the lsp_ shims that 5.1/LuaJIT lack
** SPDX-License-Identifier: MIT
*/
#include "compat.h"

#if LUA_VERSION_NUM < 502
void lsp_setfuncs(lua_State *L, const luaL_Reg *l) {
  for (; l->name != NULL; l++) {
    lua_pushcfunction(L, l->func);
    lua_setfield(L, -2, l->name);
  }
}

void *lsp_testudata(lua_State *L, int i, const char *tname) {
  void *p = lua_touserdata(L, i);
  if (p == NULL || !lua_getmetatable(L, i)) return NULL;
  luaL_getmetatable(L, tname);
  if (!lua_rawequal(L, -1, -2)) p = NULL;
  lua_pop(L, 2);
  return p;
}
#else
typedef int sp_compat_unused; /* ISO C forbids an empty translation unit */
#endif
