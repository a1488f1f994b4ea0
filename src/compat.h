/*
** compat.h - Lua 5.1/LuaJIT ... 5.4 shims, every name prefixed with lsp_
** so nothing here ever redefines a luaL_* symbol LuaJIT already exports.
** SPDX-License-Identifier: MIT
*/
#ifndef SP_COMPAT_H
#define SP_COMPAT_H

#include "lua.h"
#include "lauxlib.h"

#if LUA_VERSION_NUM >= 502
#define lsp_setfuncs(L, l) luaL_setfuncs((L), (l), 0)
#define lsp_rawlen(L, i) lua_rawlen((L), (i))
#define lsp_absindex(L, i) lua_absindex((L), (i))
#define lsp_testudata(L, i, n) luaL_testudata((L), (i), (n))
#define lsp_setmetatable(L, n) luaL_setmetatable((L), (n))
#else
void lsp_setfuncs(lua_State *L, const luaL_Reg *l);
void *lsp_testudata(lua_State *L, int i, const char *tname);
#define lsp_rawlen(L, i) lua_objlen((L), (i))
#define lsp_absindex(L, i) \
  (((i) > 0 || (i) <= LUA_REGISTRYINDEX) ? (i) : lua_gettop(L) + (i) + 1)
#define lsp_setmetatable(L, n) \
  (luaL_getmetatable((L), (n)), lua_setmetatable((L), -2))
#endif

#if LUA_VERSION_NUM >= 504
#define lsp_newuserdata(L, sz) lua_newuserdatauv((L), (sz), 1)
#else
#define lsp_newuserdata(L, sz) lua_newuserdata((L), (sz))
#endif

#if LUA_VERSION_NUM >= 503
#define lsp_isinteger(L, i) lua_isinteger((L), (i))
#else
#define lsp_isinteger(L, i) 0
#endif

/* a new table with the functions of l */
#define lsp_newlib(L, l) (lua_newtable(L), lsp_setfuncs((L), (l)))

#endif
