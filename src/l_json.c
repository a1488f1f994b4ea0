/*
** l_json.c - bindings for socialpush.core.json: encode, decode, null,
** array, array_mt, utf8_len. The codec itself is in json.c.
**
** encode writes into an sp_buf owned by a userdata (freed by __gc), so a Lua
** error unwinding through encode cannot leak it. One such buffer is cached
** per module and reused; a nested call (a __gc finalizer that encodes while
** the cached buffer is busy) gets a fresh one.
** SPDX-License-Identifier: MIT
*/
#include <stdio.h>
#include <string.h>

#include "compat.h"
#include "json.h"
#include "l_err.h"
#include "lsp.h"

#define SP_JSON_BUF "socialpush.json.buffer"
#define SP_JSON_ARRAY "socialpush.json.array" /* registry name of array_mt */
#define SP_JSON_KEEP (4u << 20)   /* a cached buffer above this is released */

typedef struct {
  sp_buf b;
  int busy;
} l_jbuf;

#define ARRAY_MT lua_upvalueindex(1)
#define CACHED_BUF lua_upvalueindex(2)

static int l_jbuf__gc(lua_State *L) {
  l_jbuf *j = (l_jbuf *)luaL_checkudata(L, 1, SP_JSON_BUF);
  sp_buf_free(&j->b);
  return 0;
}

/* a new empty buffer userdata on the stack, safe to collect at once */
static l_jbuf *jbuf_new(lua_State *L) {
  l_jbuf *j = (l_jbuf *)lsp_newuserdata(L, sizeof *j);
  memset(j, 0, sizeof *j);
  sp_buf_init(&j->b);
  lsp_setmetatable(L, SP_JSON_BUF);
  return j;
}

/* opts: nil or {sort_keys = boolean}; any other field is a misuse */
static int encode_flags(lua_State *L, int idx) {
  int flags = 0;
  if (lua_isnoneornil(L, idx)) return 0;
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (lua_type(L, -2) != LUA_TSTRING ||
        strcmp(lua_tostring(L, -2), "sort_keys") != 0) {
      lua_pop(L, 1);
      lua_pushfstring(L, "unknown option '%s'",
                      lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1)
                                                     : luaL_typename(L, -1));
      return luaL_argerror(L, idx, lua_tostring(L, -1));
    }
    if (lua_toboolean(L, -1)) flags |= SP_JSON_SORT_KEYS;
    lua_pop(L, 1);
  }
  return flags;
}

/*
** syntax: s, msg, err = json.encode(v [, {sort_keys = true}])
** Returns the JSON text, or nil, msg, err with err.kind "invalid_argument".
*/
static int l_encode(lua_State *L) {
  l_jbuf *j = (l_jbuf *)lua_touserdata(L, CACHED_BUF);
  sp_json_err e;
  int flags, rc;
  luaL_checkany(L, 1);
  flags = encode_flags(L, 2);
  lua_settop(L, 1);
  if (j->busy) j = jbuf_new(L); /* nested call: the stack keeps it alive */
  j->busy = 1;
  sp_buf_reset(&j->b);
  rc = sp_json_encode(L, 1, &j->b, flags, ARRAY_MT, &e);
  if (rc == 0) lua_pushlstring(L, j->b.data ? j->b.data : "", j->b.len);
  if (j->b.cap > SP_JSON_KEEP) sp_buf_free(&j->b);
  j->busy = 0;
  if (rc == 0) return 1;
  if (e.code == SP_JSON_ENOMEM) return luaL_error(L, "%s", e.msg);
  return lsp_fail(L, "invalid_argument", "%s", e.msg);
}

/*
** syntax: v, msg, err = json.decode(s)
** Returns the value, or nil, msg, err with err.kind "decode" and
** err.offset the 1-based byte where the text went wrong.
*/
static int l_decode(lua_State *L) {
  sp_json_err e;
  size_t len;
  const char *s;
  if (lua_type(L, 1) != LUA_TSTRING) {
    lua_pushfstring(L, "string expected, got %s", luaL_typename(L, 1));
    return luaL_argerror(L, 1, lua_tostring(L, -1));
  }
  s = lua_tolstring(L, 1, &len);
  lua_settop(L, 1);
  if (sp_json_decode(L, s, len, ARRAY_MT, &e) == 0) return 1;
  lsp_fail(L, "decode", "%s", e.msg);
  lua_pushinteger(L, (lua_Integer)e.offset);
  lua_setfield(L, -2, "offset");
  return 3;
}

/*
** syntax: t = json.array([t])
** Marks t (a new table when absent) as a JSON array and returns it.
*/
static int l_array(lua_State *L) {
  if (lua_isnoneornil(L, 1)) {
    lua_settop(L, 0);
    lua_newtable(L);
  } else {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    if (lua_getmetatable(L, 1)) {
      if (!lua_rawequal(L, -1, ARRAY_MT))
        return luaL_argerror(L, 1, "table already has another metatable");
      lua_pop(L, 1);
    }
  }
  lua_pushvalue(L, ARRAY_MT);
  lua_setmetatable(L, 1);
  return 1;
}

/*
** syntax: n = json.utf8_len(s)   -- or nil, msg, err (err.offset: 1-based byte)
** Characters of s under the codec's own UTF-8 rules: the one validator of
** every text check of the library.
*/
static int l_utf8_len(lua_State *L) {
  size_t len, bad = 0, n;
  const char *s = luaL_checklstring(L, 1, &len);
  n = sp_utf8_count(s, len, &bad);
  if (n != (size_t)-1) {
    lua_pushinteger(L, (lua_Integer)n);
    return 1;
  }
  {
    char at[32];
    snprintf(at, sizeof at, "%lu", (unsigned long)(bad + 1));
    lsp_fail(L, "invalid_argument", "invalid UTF-8 at byte %s", at);
  }
  lua_pushinteger(L, (lua_Integer)bad + 1);
  lua_setfield(L, -2, "offset");
  return 3;
}

static const luaL_Reg jbuf_meta[] = {
  {"__gc", l_jbuf__gc},
  {NULL, NULL}
};

static const luaL_Reg json_funcs[] = {
  {"encode", l_encode},
  {"decode", l_decode},
  {"array", l_array},
  {"utf8_len", l_utf8_len},
  {NULL, NULL}
};

int lsp_open_json(lua_State *L) {
  int i;
  luaL_newmetatable(L, SP_JSON_BUF);
  lsp_setfuncs(L, jbuf_meta);
  lua_pop(L, 1);
  lua_newtable(L);                        /* json */
  luaL_newmetatable(L, SP_JSON_ARRAY);    /* json, array_mt (one per state) */
  jbuf_new(L);                            /* json, array_mt, buf */
  for (i = 0; json_funcs[i].name != NULL; i++) {
    lua_pushvalue(L, -2);
    lua_pushvalue(L, -2);
    lua_pushcclosure(L, json_funcs[i].func, 2);
    lua_setfield(L, -4, json_funcs[i].name);
  }
  lua_pop(L, 1);                          /* json, array_mt */
  lua_setfield(L, -2, "array_mt");
  lua_pushlightuserdata(L, NULL);
  lua_setfield(L, -2, "null");
  return 1;
}
