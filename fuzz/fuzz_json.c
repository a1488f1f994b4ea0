/*
** fuzz_json.c - libFuzzer target for socialpush.core.json
** Decodes the input; when it decodes, encodes the value (sorted keys),
** decodes that text and encodes again: both texts must be identical, and
** our own output must always decode. One lua_State serves every input.
** Build: cmake -S . -B build/fuzz -DLUA=lua5.4 -DSP_FUZZ=ON \
**          -DCMAKE_C_COMPILER=clang && cmake --build build/fuzz --target fuzz_json
** SPDX-License-Identifier: MIT
*/
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"
#include "socialpush.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static lua_State *fuzz_L;
static unsigned long fuzz_runs;

/* json.<name>(value at absolute idx [, {sort_keys = true}]): pushes the
   first result and returns its index */
static int call_json(lua_State *L, const char *name, int idx, int sorted) {
  lua_getfield(L, lua_upvalueindex(1), name);
  lua_pushvalue(L, idx);
  if (sorted) {
    lua_createtable(L, 0, 1);
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "sort_keys");
  }
  lua_call(L, sorted ? 2 : 1, 1);
  return lua_gettop(L);
}

/*
** Runs protected: [input string]. Returns nothing; traps on a broken
** invariant.
*/
static int roundtrip(lua_State *L) {
  size_t n1, n2;
  const char *s1, *s2;
  int v, t1, v2, t2;
  v = call_json(L, "decode", 1, 0);
  if (lua_isnil(L, v)) return 0;               /* refused: fine */
  t1 = call_json(L, "encode", v, 1);
  if (lua_type(L, t1) != LUA_TSTRING) __builtin_trap(); /* a decoded value must encode */
  v2 = call_json(L, "decode", t1, 0);
  if (lua_isnil(L, v2)) __builtin_trap();     /* our own output must decode */
  t2 = call_json(L, "encode", v2, 1);
  if (lua_type(L, t2) != LUA_TSTRING) __builtin_trap();
  s1 = lua_tolstring(L, t1, &n1);
  s2 = lua_tolstring(L, t2, &n2);
  if (n1 != n2 || memcmp(s1, s2, n1) != 0) __builtin_trap();
  /* unsorted encoding decodes to the same thing as well */
  t1 = call_json(L, "encode", v, 0);
  if (lua_type(L, t1) != LUA_TSTRING) __builtin_trap();
  v2 = call_json(L, "decode", t1, 0);
  if (lua_isnil(L, v2)) __builtin_trap();
  t2 = call_json(L, "encode", v2, 1);
  s2 = lua_tolstring(L, t2, &n2);
  if (n1 != n2 || memcmp(s1, s2, n1) != 0) __builtin_trap();
  return 0;
}

static void fuzz_init(void) {
  lua_State *L = luaL_newstate();
  if (L == NULL) __builtin_trap();
  luaL_openlibs(L);
  lua_pushcfunction(L, luaopen_socialpush_core);
  lua_call(L, 0, 1);                          /* core */
  lua_getfield(L, -1, "json");                /* core, json */
  lua_pushcclosure(L, roundtrip, 1);          /* core, roundtrip */
  lua_setfield(L, LUA_REGISTRYINDEX, "fuzz_json.roundtrip");
  lua_settop(L, 0);
  fuzz_L = L;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lua_State *L;
  if (fuzz_L == NULL) fuzz_init();
  L = fuzz_L;
  lua_getfield(L, LUA_REGISTRYINDEX, "fuzz_json.roundtrip");
  lua_pushlstring(L, (const char *)data, size);
  if (lua_pcall(L, 1, 0, 0) != 0) __builtin_trap(); /* nothing may raise */
  lua_settop(L, 0);
  if (++fuzz_runs % 4096 == 0) lua_gc(L, LUA_GCCOLLECT, 0);
  return 0;
}
