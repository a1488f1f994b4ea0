/*
** l_http.c - bindings for socialpush.core.http: the engine and request userdata
**
**   engine = http.new{timeout=, connect_timeout=, ca_file=, proxy=, connect_to=,
**                     user_agent=, max_body=}
**   req, msg, err = engine:add{method=, url=, headers=, body=, timeout=, max_body=}
**   running, nfinished = engine:perform([wait_seconds])
**   list = engine:done()          finished requests, oldest first
**   res, msg, err = req:result()  {status, headers, header_list, body, ...}
**   sent, ul_total, received, dl_total = req:progress()
**   was_running = req:cancel()
**
** Ownership: an engine's user value maps each request it still links (running,
** or finished and not yet returned by done()) to its userdata, so those stay
** alive; a request's user value holds its engine (so the engine outlives it),
** its string body (sent without a copy) and its cached result.
** SPDX-License-Identifier: MIT
*/
#include <string.h>

#include "compat.h"
#include "l_err.h"
#include "lsp.h"
#include "http.h"
#include "socialpush.h"

#define SP_ENGINE "socialpush.engine"
#define SP_REQUEST "socialpush.request"

typedef struct {
  sp_engine e;                  /* e.multi == NULL once closed */
} l_engine;

typedef struct {
  sp_req r;                     /* r.state == SP_REQ_CLOSED once closed */
} l_req;

/* ------------------------------------------------------------ user values */

static void push_uv(lua_State *L, int idx) {
#if LUA_VERSION_NUM >= 504
  lua_getiuservalue(L, idx, 1);
#elif LUA_VERSION_NUM >= 502
  lua_getuservalue(L, idx);
#else
  lua_getfenv(L, idx);
#endif
}

static void set_uv(lua_State *L, int idx) {  /* pops a table */
#if LUA_VERSION_NUM >= 504
  lua_setiuservalue(L, idx, 1);
#elif LUA_VERSION_NUM >= 502
  lua_setuservalue(L, idx);
#else
  lua_setfenv(L, idx);
#endif
}

/* a zeroed userdata with its metatable and an empty user value table */
static void *new_object(lua_State *L, size_t size, const char *mt) {
  void *p = lsp_newuserdata(L, size);
  memset(p, 0, size);
  lsp_setmetatable(L, mt);
  lua_newtable(L);
  set_uv(L, -2);
  return p;
}

/* A request's user values, by slot: its engine, its string body (sent without a
** copy) and its cached result or error. Lua 5.4 keeps them in the userdata
** itself; older versions in a user value table. */
enum { SLOT_ENGINE = 1, SLOT_BODY, SLOT_RESULT, SLOT_RERR, NSLOTS = SLOT_RERR };

static void *new_request(lua_State *L, size_t size) {
  void *p;
#if LUA_VERSION_NUM >= 504
  p = lua_newuserdatauv(L, size, NSLOTS);
#else
  p = lua_newuserdata(L, size);
  lua_createtable(L, NSLOTS, 0);
  set_uv(L, -2);
#endif
  memset(p, 0, size);
  lsp_setmetatable(L, SP_REQUEST);
  return p;
}

static void get_slot(lua_State *L, int idx, int slot) {     /* pushes the value */
#if LUA_VERSION_NUM >= 504
  lua_getiuservalue(L, idx, slot);
#else
  push_uv(L, idx);
  lua_rawgeti(L, -1, slot);
  lua_remove(L, -2);
#endif
}

static void set_slot(lua_State *L, int idx, int slot) {     /* pops the value */
#if LUA_VERSION_NUM >= 504
  lua_setiuservalue(L, idx, slot);
#else
  idx = lsp_absindex(L, idx);
  push_uv(L, idx);
  lua_insert(L, -2);
  lua_rawseti(L, -2, slot);
  lua_pop(L, 1);
#endif
}

static int fail_err(lua_State *L, const sp_err *e) {
  lsp_fail(L, sp_kind_name(e->kind), "%s", e->msg);
  if (e->curl_code) {
    lua_pushinteger(L, e->curl_code);
    lua_setfield(L, -2, "curl_code");
  }
  lua_pushboolean(L, e->sent);
  lua_setfield(L, -2, "sent");
  lua_pushboolean(L, e->connected);
  lua_setfield(L, -2, "connected");
  return 3;
}

/* ------------------------------------------------------------- arguments */

static void check_keys(lua_State *L, int t, const char *what, const char *const *known) {
  lua_pushnil(L);
  while (lua_next(L, t)) {
    int i, ok = 0;
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TSTRING)
      for (i = 0; known[i] && !ok; i++) ok = strcmp(lua_tostring(L, -1), known[i]) == 0;
    if (!ok)
      luaL_error(L, "%s: unknown option '%s'", what,
                 lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : luaL_typename(L, -1));
  }
}

/* t[k] as a string without NUL (or NULL when absent) */
static const char *opt_string(lua_State *L, int t, const char *k, size_t *len) {
  const char *s;
  size_t n;
  lua_getfield(L, t, k);
  if (lua_isnil(L, -1)) { lua_pop(L, 1); return NULL; }
  if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "option '%s': string expected", k);
  s = lua_tolstring(L, -1, &n);
  if (len) *len = n;
  else if (strlen(s) != n) luaL_error(L, "option '%s': embedded NUL", k);
  lua_pop(L, 1);              /* still referenced by t */
  return s;
}

static double opt_number(lua_State *L, int t, const char *k, double def, int integer) {
  double v;
  lua_getfield(L, t, k);
  if (lua_isnil(L, -1)) { lua_pop(L, 1); return def; }
  if (lua_type(L, -1) != LUA_TNUMBER) luaL_error(L, "option '%s': number expected", k);
  v = lua_tonumber(L, -1);
  lua_pop(L, 1);
  if (!(v > 0) || v > 1e15 || (integer && v != (double)(long long)v))
    luaL_error(L, "option '%s': positive %s expected", k, integer ? "integer" : "number");
  return v;
}

static double opt_offset(lua_State *L, int t, const char *k, double def) {
  double v;
  lua_getfield(L, t, k);
  if (lua_isnil(L, -1)) { lua_pop(L, 1); return def; }
  v = lua_tonumber(L, -1);
  if (lua_type(L, -1) != LUA_TNUMBER || v < 0 || v > 9e15 || v != (double)(long long)v)
    luaL_error(L, "body.%s: non-negative integer expected", k);
  lua_pop(L, 1);
  return v;
}

/* ---------------------------------------------------------------- engine */

static l_engine *check_engine(lua_State *L, int idx) {
  l_engine *g = (l_engine *)luaL_checkudata(L, idx, SP_ENGINE);
  if (g->e.multi == NULL) luaL_error(L, "attempt to use a closed " SP_ENGINE);
  return g;
}

static const char *const engine_keys[] = {
  "timeout", "connect_timeout", "ca_file", "proxy", "connect_to", "user_agent", "max_body", NULL
};

static int l_new(lua_State *L) {
  sp_engine_opts o;
  sp_err err;
  l_engine *g;
  const char **ct = NULL;
  memset(&o, 0, sizeof o);
  if (lua_isnoneornil(L, 1)) { lua_settop(L, 0); lua_newtable(L); }
  luaL_checktype(L, 1, LUA_TTABLE);
  check_keys(L, 1, "http.new", engine_keys);
  o.timeout = opt_number(L, 1, "timeout", 60, 0);
  o.connect_timeout = opt_number(L, 1, "connect_timeout", 10, 0);
  o.max_body = (size_t)opt_number(L, 1, "max_body", SP_HTTP_MAX_BODY, 1);
  o.ca_file = opt_string(L, 1, "ca_file", NULL);
  o.proxy = opt_string(L, 1, "proxy", NULL);
  o.user_agent = opt_string(L, 1, "user_agent", NULL);
  lua_getfield(L, 1, "connect_to");          /* stays on the stack: keeps the strings */
  if (!lua_isnil(L, -1)) {
    int i, n, t = lua_gettop(L);
    luaL_argcheck(L, lua_istable(L, t), 1, "option 'connect_to': list of strings expected");
    n = (int)lsp_rawlen(L, t);
    ct = (const char **)lua_newuserdata(L, sizeof(char *) * ((size_t)n + 1)); /* GC owns it */
    for (i = 0; i < n; i++) {
      size_t len;
      lua_rawgeti(L, t, i + 1);
      if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "option 'connect_to': strings expected");
      ct[i] = lua_tolstring(L, -1, &len);
      if (strlen(ct[i]) != len || strpbrk(ct[i], "\r\n") != NULL)
        luaL_error(L, "option 'connect_to': invalid entry");
      lua_pop(L, 1);
    }
    ct[n] = NULL;
  }
  o.connect_to = ct;
  g = (l_engine *)new_object(L, sizeof *g, SP_ENGINE);
  if (sp_engine_init(&g->e, &o, &err) != 0) return fail_err(L, &err);
  return 1;
}

static int l_engine_close(lua_State *L) {        /* close, __gc, __close */
  l_engine *g = (l_engine *)luaL_checkudata(L, 1, SP_ENGINE);
  if (g->e.multi != NULL) {
    sp_engine_close(&g->e);
    lua_newtable(L);                             /* drop the links to requests */
    set_uv(L, 1);
  }
  return 0;
}

static int l_engine_tostring(lua_State *L) {
  l_engine *g = (l_engine *)luaL_checkudata(L, 1, SP_ENGINE);
  if (g->e.multi == NULL) lua_pushliteral(L, SP_ENGINE " (closed)");
  else lua_pushfstring(L, SP_ENGINE " (%p)", (void *)g);
  return 1;
}

/* sp_engine_perform on the engine g at 1 with the wait (seconds) at 2 */
static int run_engine(lua_State *L, l_engine *g, int *nfinished, sp_err *err) {
  double wait = luaL_optnumber(L, 2, 0);
  memset(err, 0, sizeof *err);
  *nfinished = 0;
  return sp_engine_perform(&g->e, wait, nfinished, err);
}

static int l_engine_perform(lua_State *L) {
  l_engine *g = check_engine(L, 1);
  int nfinished, running;
  sp_err err;
  running = run_engine(L, g, &nfinished, &err);
  if (running < 0) return fail_err(L, &err);
  lua_pushinteger(L, running);
  lua_pushinteger(L, nfinished);
  return 2;
}

/* pushes the list of finished requests (oldest first), taking them; engine at 1 */
static void push_done(lua_State *L, l_engine *g) {
  sp_req *r;
  int n = 0, links = lua_gettop(L) + 1, list = links + 1;
  push_uv(L, 1);
  lua_newtable(L);
  while ((r = sp_engine_take(&g->e)) != NULL) {
    lua_pushlightuserdata(L, r);
    lua_rawget(L, links);
    if (!lua_isnil(L, -1)) lua_rawseti(L, list, ++n);
    else lua_pop(L, 1);
    lua_pushlightuserdata(L, r);
    lua_pushnil(L);
    lua_rawset(L, links);
  }
  lua_remove(L, links);
}

static int l_engine_done(lua_State *L) {
  l_engine *g = check_engine(L, 1);
  lua_settop(L, 1);
  push_done(L, g);
  return 1;
}

#define SP_EMPTY_LIST "socialpush.engine.empty"

/* step(wait): the transport interface's step, in one call: perform, then the
** finished requests (oldest first; a shared read-only empty list when none, so an
** idle loop allocates nothing) and the number still running. Raises on a multi
** error (out of memory or a libcurl bug: nothing a retry would fix). */
static int l_engine_step(lua_State *L) {
  l_engine *g = check_engine(L, 1);
  int nfinished, running;
  sp_err err;
  running = run_engine(L, g, &nfinished, &err);
  if (running < 0) return luaL_error(L, "socialpush.transport.curl: %s", err.msg);
  lua_settop(L, 1);
  if (nfinished == 0) lua_getfield(L, LUA_REGISTRYINDEX, SP_EMPTY_LIST);
  else push_done(L, g);
  lua_pushinteger(L, running);
  return 2;
}

static int l_read_only(lua_State *L) {
  return luaL_error(L, "read-only list");
}

static int l_engine_running(lua_State *L) {
  lua_pushinteger(L, check_engine(L, 1)->e.nactive);
  return 1;
}

/* --------------------------------------------------------------- request */

static l_req *check_req(lua_State *L, int idx) {
  l_req *q = (l_req *)luaL_checkudata(L, idx, SP_REQUEST);
  if (q->r.state == SP_REQ_CLOSED) luaL_error(L, "attempt to use a closed " SP_REQUEST);
  return q;
}

/* forget the engine's link to request 1 (it is no longer linked in C) */
static void unlink_lua(lua_State *L) {
  get_slot(L, 1, SLOT_ENGINE);
  if (lua_isuserdata(L, -1)) {
    push_uv(L, -1);
    lua_pushlightuserdata(L, lua_touserdata(L, 1));
    lua_pushnil(L);
    lua_rawset(L, -3);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

/* Closed requests the client is done with (result(true)) go back to their engine
** for reuse: the array part of the engine's user value table (whose other keys are
** the links) is a stack of them. A stream of requests then allocates no userdata
** and leaves no finalizer work for the collector. */
#define SP_FREE_MAX 64

/* a request userdata for the engine at 1, pushed: a recycled one when there is one */
static l_req *take_request(lua_State *L) {
  l_req *q;
  int n;
  push_uv(L, 1);
  n = (int)lsp_rawlen(L, -1);
  if (n == 0) {
    lua_pop(L, 1);
    return (l_req *)new_request(L, sizeof *q);
  }
  lua_rawgeti(L, -1, n);
  lua_pushnil(L);
  lua_rawseti(L, -3, n);
  lua_remove(L, -2);
  q = (l_req *)lua_touserdata(L, -1);
  memset(q, 0, sizeof *q);
  lua_pushnil(L);
  set_slot(L, -2, SLOT_BODY);
  lua_pushnil(L);
  set_slot(L, -2, SLOT_RESULT);
  lua_pushnil(L);
  set_slot(L, -2, SLOT_RERR);
  return q;
}

/* the closed request at idx back to its engine (when that is open and not full) */
static void recycle(lua_State *L, int idx) {
  get_slot(L, idx, SLOT_ENGINE);
  if (lua_isuserdata(L, -1) && ((l_engine *)lua_touserdata(L, -1))->e.multi != NULL) {
    int n;
    push_uv(L, -1);
    n = (int)lsp_rawlen(L, -1);
    if (n < SP_FREE_MAX) {
      lua_pushvalue(L, idx);
      lua_rawseti(L, -2, n + 1);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

static int add_header(lua_State *L, sp_req *r, int k, int v) {
  size_t nl, vl = 0;
  const char *name, *value = NULL;
  if (lua_type(L, k) != LUA_TSTRING) luaL_error(L, "headers: names must be strings");
  name = lua_tolstring(L, k, &nl);
  if (lua_type(L, v) == LUA_TBOOLEAN && !lua_toboolean(L, v))
    return sp_req_header(r, name, nl, NULL, 0, 1);     /* false: suppress it */
  if (lua_type(L, v) != LUA_TSTRING && lua_type(L, v) != LUA_TNUMBER)
    luaL_error(L, "headers: value of '%s' must be a string", name);
  value = lua_tolstring(L, v, &vl);
  return sp_req_header(r, name, nl, value, vl, 0);
}

/* headers: {Name = value} and/or a list of {name, value} pairs */
static int add_headers(lua_State *L, sp_req *r, int t) {
  if (lua_isnil(L, t)) return 0;
  luaL_argcheck(L, lua_istable(L, t), 2, "headers: table expected");
  lua_pushnil(L);
  while (lua_next(L, t)) {
    int top = lua_gettop(L), rc;
    if (lua_type(L, top - 1) == LUA_TNUMBER) {
      if (!lua_istable(L, top)) luaL_error(L, "headers: list entries must be {name, value}");
      lua_rawgeti(L, top, 1);
      lua_rawgeti(L, top, 2);
      rc = add_header(L, r, top + 1, top + 2);
    } else {
      lua_pushvalue(L, top - 1);
      lua_pushvalue(L, top);
      rc = add_header(L, r, top + 1, top + 2);
    }
    lua_settop(L, top - 1);
    if (rc != 0) { lua_pop(L, 1); return -1; }
  }
  return 0;
}

static const char *const part_keys[] = { "name", "data", "file", "filename", "content_type", NULL };

static int add_parts(lua_State *L, sp_req *r, int t) {
  int i, n;
  luaL_argcheck(L, lua_istable(L, t), 2, "body.multipart: list of parts expected");
  n = (int)lsp_rawlen(L, t);
  if (n == 0) luaL_error(L, "body.multipart: at least one part expected");
  for (i = 1; i <= n; i++) {
    const char *name, *data, *file;
    size_t len = 0;
    int p, rc;
    lua_rawgeti(L, t, i);
    p = lua_gettop(L);
    if (!lua_istable(L, p)) luaL_error(L, "body.multipart[%d]: table expected", i);
    check_keys(L, p, "multipart part", part_keys);
    name = opt_string(L, p, "name", NULL);
    data = opt_string(L, p, "data", &len);
    file = opt_string(L, p, "file", NULL);
    if (name == NULL || (data == NULL) == (file == NULL))
      luaL_error(L, "body.multipart[%d]: name and one of data or file expected", i);
    rc = sp_req_part(r, name, data, len, file, opt_string(L, p, "filename", NULL),
                     opt_string(L, p, "content_type", NULL));
    lua_pop(L, 1);
    if (rc != 0) return -1;
  }
  return 0;
}

static const char *const body_keys[] = { "file", "offset", "length", "multipart", NULL };

/* body: a string, {file=, offset=, length=} or {multipart={...}}; q: the request */
static int set_body(lua_State *L, sp_req *r, int b, int q) {
  if (lua_isnil(L, b)) return 0;
  if (lua_type(L, b) == LUA_TSTRING) {
    size_t n;
    const char *s = lua_tolstring(L, b, &n);
    lua_pushvalue(L, b);
    set_slot(L, q, SLOT_BODY);                /* keeps s alive while it is sent */
    return sp_req_body_mem(r, s, n);
  }
  luaL_argcheck(L, lua_istable(L, b), 2, "body: string or table expected");
  check_keys(L, b, "body", body_keys);
  lua_getfield(L, b, "multipart");
  if (!lua_isnil(L, -1)) {
    int rc = add_parts(L, r, lua_gettop(L));
    lua_pop(L, 1);
    return rc;
  }
  lua_pop(L, 1);
  if (opt_string(L, b, "file", NULL) == NULL) luaL_error(L, "body: file or multipart expected");
  return sp_req_body_file(r, opt_string(L, b, "file", NULL),
                          (int64_t)opt_offset(L, b, "offset", 0),
                          (int64_t)opt_offset(L, b, "length", -1));
}

static const char *const req_keys[] = {
  "method", "url", "headers", "body", "timeout", "max_body", "sink", NULL
};
static const char *const sink_keys[] = { "file", NULL };

/* sink: {file = path}: the response body goes to that file */
static int set_sink(lua_State *L, sp_req *r, int t) {
  const char *path;
  if (lua_isnil(L, t)) return 0;
  luaL_argcheck(L, lua_istable(L, t), 2, "sink: {file = path} expected");
  check_keys(L, t, "sink", sink_keys);
  if ((path = opt_string(L, t, "file", NULL)) == NULL) luaL_error(L, "sink: file expected");
  return sp_req_sink_file(r, path);
}

static int l_engine_add(lua_State *L) {
  l_engine *g = check_engine(L, 1);
  const char *method, *url;
  size_t ulen;
  l_req *q;
  double timeout, max_body;
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  check_keys(L, 2, "engine:add", req_keys);
  method = opt_string(L, 2, "method", NULL);
  url = opt_string(L, 2, "url", &ulen);
  if (url == NULL) luaL_error(L, "engine:add: url expected");
  timeout = opt_number(L, 2, "timeout", 0, 0);
  max_body = opt_number(L, 2, "max_body", 0, 1);
  lua_getfield(L, 2, "headers");               /* 3 */
  lua_getfield(L, 2, "body");                  /* 4 */
  q = take_request(L);                         /* 5 */
  lua_getfield(L, 2, "sink");                  /* 6 */
  lua_pushvalue(L, 1);
  set_slot(L, 5, SLOT_ENGINE);
  if (sp_req_init_in(&q->r, &g->e, method ? method : "GET", url, ulen) != 0 ||
      add_headers(L, &q->r, 3) != 0 || set_body(L, &q->r, 4, 5) != 0 ||
      set_sink(L, &q->r, 6) != 0)
    goto fail;
  sp_req_options(&q->r, timeout, (size_t)max_body);
  if (sp_req_start(&q->r, &g->e) != 0) goto fail;
  push_uv(L, 1);                               /* link: engine keeps it alive */
  lua_pushlightuserdata(L, &q->r);
  lua_pushvalue(L, 5);
  lua_rawset(L, -3);
  lua_settop(L, 5);
  return 1;
fail:
  {
    sp_err err = q->r.err;
    sp_req_close(&q->r);                       /* nothing was sent */
    recycle(L, 5);
    return fail_err(L, &err);
  }
}

static int l_req_close(lua_State *L) {          /* close, __gc, __close */
  l_req *q = (l_req *)luaL_checkudata(L, 1, SP_REQUEST);
  if (q->r.state != SP_REQ_CLOSED) {
    if (q->r.eng != NULL) unlink_lua(L);
    sp_req_close(&q->r);
  }
  return 0;
}

static int l_req_tostring(lua_State *L) {
  l_req *q = (l_req *)luaL_checkudata(L, 1, SP_REQUEST);
  static const char *const st[] = { "new", "new", "running", "done", "closed" };
  if (q->r.state == SP_REQ_CLOSED) lua_pushliteral(L, SP_REQUEST " (closed)");
  else lua_pushfstring(L, SP_REQUEST " %s %s (%s)", q->r.method, q->r.host, st[q->r.state]);
  return 1;
}

static int l_req_cancel(lua_State *L) {
  l_req *q = check_req(L, 1);
  int was = q->r.state == SP_REQ_RUNNING;
  if (was) {
    unlink_lua(L);
    sp_req_cancel(&q->r);
  }
  lua_pushboolean(L, was);
  return 1;
}

static int l_req_done(lua_State *L) {
  lua_pushboolean(L, check_req(L, 1)->r.state == SP_REQ_DONE);
  return 1;
}

static int l_req_progress(lua_State *L) {
  l_req *q = check_req(L, 1);
  lua_pushnumber(L, (lua_Number)q->r.ul_now);
  lua_pushnumber(L, (lua_Number)q->r.ul_total);
  lua_pushnumber(L, (lua_Number)q->r.dl_now);
  lua_pushnumber(L, (lua_Number)q->r.dl_total);
  return 4;
}

#define SP_RESULT_INDEX "socialpush.response.__index"

/* res.headers: lower-case name -> value, repeats joined with ", " */
static void push_headers(lua_State *L, sp_req *r) {
  size_t off = 0, nl, vl;
  const char *name, *value;
  lua_createtable(L, 0, r->nhdrs);
  while ((off = sp_req_header_next(r, off, &name, &nl, &value, &vl)) != 0) {
    lua_pushlstring(L, name, nl);
    lua_pushvalue(L, -1);
    lua_rawget(L, -3);                            /* earlier value of a repeat */
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      lua_pushlstring(L, value, vl);
    } else {
      lua_pushliteral(L, ", ");
      lua_pushlstring(L, value, vl);
      lua_concat(L, 3);
    }
    lua_rawset(L, -3);
  }
  lua_setfield(L, -2, "headers");
}

/* res.header_list: every {name, value} in order, from the raw block
** (lower-case name NUL value NUL ...) */
static void push_header_list(lua_State *L, const char *p, size_t len) {
  const char *end = p + len;
  int i = 0;
  lua_newtable(L);
  while (p < end) {
    size_t nl = strlen(p), vl = strlen(p + nl + 1);
    lua_createtable(L, 2, 0);
    lua_pushlstring(L, p, nl);
    lua_rawseti(L, -2, 1);
    lua_pushlstring(L, p + nl + 1, vl);
    lua_rawseti(L, -2, 2);
    lua_rawseti(L, -2, ++i);
    p += nl + 1 + vl + 1;
  }
}

/* res.timings from the sp_timings kept as bytes in the response's metatable */
static void push_timings(lua_State *L, const char *p) {
  sp_timings t;
  memcpy(&t, p, sizeof t);
  lua_createtable(L, 0, 5);
  lua_pushnumber(L, t.namelookup);
  lua_setfield(L, -2, "namelookup");
  lua_pushnumber(L, t.connect);
  lua_setfield(L, -2, "connect");
  lua_pushnumber(L, t.tls);
  lua_setfield(L, -2, "tls");
  lua_pushnumber(L, t.start_transfer);
  lua_setfield(L, -2, "start_transfer");
  lua_pushnumber(L, t.total);
  lua_setfield(L, -2, "total");
}

/* __index of a response: header_list and timings are built on first use from
** what its own metatable keeps under "raw": the timings (five doubles), then the
** raw header block */
static int l_result_index(lua_State *L) {
  const char *k = lua_tostring(L, 2), *p;
  size_t len;
  int list;
  if (lua_type(L, 2) != LUA_TSTRING) return 0;
  if (strcmp(k, "header_list") == 0) list = 1;
  else if (strcmp(k, "timings") == 0) list = 0;
  else return 0;
  if (!lua_getmetatable(L, 1)) return 0;
  lua_getfield(L, -1, "raw");
  p = lua_tolstring(L, -1, &len);
  if (p == NULL || len < sizeof(sp_timings)) return 0;
  if (list) push_header_list(L, p + sizeof(sp_timings), len - sizeof(sp_timings));
  else push_timings(L, p);
  lua_pushvalue(L, 2);
  lua_pushvalue(L, -2);
  lua_rawset(L, 1);                               /* built once */
  return 1;
}

/* the metatable of the response at -1 keeps the lazy fields' data */
static void set_result_meta(lua_State *L, sp_req *r) {
  luaL_Buffer b;
  lua_createtable(L, 0, 2);
  lua_getfield(L, LUA_REGISTRYINDEX, SP_RESULT_INDEX);
  lua_setfield(L, -2, "__index");
  luaL_buffinit(L, &b);
  luaL_addlstring(&b, (const char *)&r->timings, sizeof r->timings);
  if (r->hdrs.data) luaL_addlstring(&b, r->hdrs.data, r->hdrs.len);
  luaL_pushresult(&b);
  lua_setfield(L, -2, "raw");
  lua_setmetatable(L, -2);
}

/* the result of the finished request q at 1, cached in its user values */
static int req_result(lua_State *L, l_req *q) {
  sp_req *r = &q->r;
  get_slot(L, 1, SLOT_RESULT);                   /* 2 */
  if (!lua_isnil(L, 2)) return 1;
  get_slot(L, 1, SLOT_RERR);                     /* 3 */
  if (!lua_isnil(L, 3)) {
    lua_pushnil(L);
    lua_getfield(L, 3, "message");
    lua_pushvalue(L, 3);
    return 3;
  }
  lua_settop(L, 1);
  if (r->err.kind != SP_OK) {
    fail_err(L, &r->err);
    lua_pushvalue(L, -1);
    set_slot(L, 1, SLOT_RERR);
  } else {
    lua_createtable(L, 0, 8);
    lua_pushinteger(L, (lua_Integer)r->status);
    lua_setfield(L, -2, "status");
    lua_pushlstring(L, r->body.data ? r->body.data : "", r->body.len);
    lua_setfield(L, -2, "body");
    lua_pushnumber(L, (lua_Number)r->received);
    lua_setfield(L, -2, "body_bytes");
    push_headers(L, r);
    lua_pushstring(L, r->http_version == 20 ? "2" : r->http_version == 30 ? "3"
                    : r->http_version == 10 ? "1.0" : "1.1");
    lua_setfield(L, -2, "http_version");
    lua_pushboolean(L, r->reused);
    lua_setfield(L, -2, "reused");
    set_result_meta(L, r);
    lua_pushvalue(L, -1);
    set_slot(L, 1, SLOT_RESULT);
  }
  lua_pushnil(L);                                /* the body is pushed once */
  set_slot(L, 1, SLOT_BODY);
  sp_buf_free(&r->body);
  sp_buf_free(&r->hdrs);
  return r->err.kind != SP_OK ? 3 : 1;
}

/* result([close]): with close true the request is closed and recycled: the
** handle must not be used again (the client never does) */
static int l_req_result(lua_State *L) {
  l_req *q = check_req(L, 1);
  int n, close = lua_toboolean(L, 2);
  if (q->r.state != SP_REQ_DONE) luaL_error(L, SP_REQUEST ": result() before it finished");
  lua_settop(L, 1);
  n = req_result(L, q);
  if (close) {                                   /* the caller is done with it */
    if (q->r.eng != NULL) unlink_lua(L);
    sp_req_close(&q->r);
    recycle(L, 1);
  }
  return n;
}

/* ---------------------------------------------------------------- module */

static int l_now(lua_State *L) {
  lua_pushnumber(L, sp_http_now());
  return 1;
}

static const luaL_Reg engine_meth[] = {
  {"add", l_engine_add}, {"perform", l_engine_perform}, {"done", l_engine_done},
  {"step", l_engine_step}, {"start", l_engine_add}, {"now", l_now},
  {"running", l_engine_running}, {"close", l_engine_close}, {NULL, NULL}
};
static const luaL_Reg engine_metameth[] = {
  {"__gc", l_engine_close}, {"__close", l_engine_close}, {"__tostring", l_engine_tostring},
  {NULL, NULL}
};
static const luaL_Reg req_meth[] = {
  {"result", l_req_result}, {"progress", l_req_progress}, {"cancel", l_req_cancel},
  {"done", l_req_done}, {"close", l_req_close}, {NULL, NULL}
};
static const luaL_Reg req_metameth[] = {
  {"__gc", l_req_close}, {"__close", l_req_close}, {"__tostring", l_req_tostring},
  {NULL, NULL}
};
static const luaL_Reg http_funcs[] = {
  {"new", l_new}, {"now", l_now}, {NULL, NULL}
};

static void create_meta(lua_State *L, const char *name, const luaL_Reg *meta,
                        const luaL_Reg *meth) {
  luaL_newmetatable(L, name);
  lsp_setfuncs(L, meta);
  lsp_newlib(L, meth);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}

int lsp_open_http(lua_State *L) {
  const curl_version_info_data *v;
  if (sp_http_global_init() != 0) return luaL_error(L, "socialpush.core: curl_global_init failed");
  create_meta(L, SP_ENGINE, engine_metameth, engine_meth);
  create_meta(L, SP_REQUEST, req_metameth, req_meth);
  lua_pushcfunction(L, l_result_index);
  lua_setfield(L, LUA_REGISTRYINDEX, SP_RESULT_INDEX);
  lua_newtable(L);                                /* the shared empty list of step */
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, l_read_only);
  lua_setfield(L, -2, "__newindex");
  lua_setmetatable(L, -2);
  lua_setfield(L, LUA_REGISTRYINDEX, SP_EMPTY_LIST);
  lsp_newlib(L, http_funcs);
  v = curl_version_info(CURLVERSION_NOW);
  lua_pushstring(L, v->version);
  lua_setfield(L, -2, "curl_version");
  lua_pushnumber(L, (lua_Number)SP_HTTP_MAX_BODY);
  lua_setfield(L, -2, "max_body");
  return 1;
}
