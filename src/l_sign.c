/*
** l_sign.c - bindings for socialpush.core.sign: check arguments, call the
** pure C core (sign.c), push results. Byte strings in and out.
** Wrong argument types raise; malformed input data returns nil, msg, err.
** Messages never quote argument values (they may be secrets).
** SPDX-License-Identifier: MIT
*/
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "compat.h"
#include "l_err.h"
#include "lsp.h"
#include "sign.h"

#define RANDOM_MAX (1024 * 1024)  /* random(n): n <= 1 MiB */
#define LOCAL_KV 32               /* params held on the C stack */

/* a work area on the C stack, or a userdata when it is too small; the
** userdata (pushed) is collected by Lua, so raising never leaks it */
typedef union {
  max_align_t align;
  char c[16384];
} stackbuf;

static void *scratch(lua_State *L, stackbuf *sb, size_t need) {
  if (need <= sizeof sb->c) return sb->c;
  return lsp_newuserdata(L, need);
}

/* argument i must be a string (numbers are refused: bytes, not text) */
static const char *check_bytes(lua_State *L, int i, size_t *n) {
  if (lua_type(L, i) != LUA_TSTRING)
    luaL_argerror(L, i, lua_pushfstring(L, "string expected, got %s",
                                        luaL_typename(L, i)));
  return lua_tolstring(L, i, n);
}

static size_t times(lua_State *L, size_t n, size_t k) {
  if (n > ((size_t)-1 - 8) / k) luaL_error(L, "string too long");
  return n * k;
}

/* ---- encodings ---- */

static int l_percent_encode(lua_State *L) {
  stackbuf sb;
  size_t n;
  const char *s = check_bytes(L, 1, &n);
  char *out = (char *)scratch(L, &sb, times(L, n, 3));
  lua_pushlstring(L, out, sp_pct_encode(out, s, n));
  return 1;
}

static int decode(lua_State *L, int form, const char *op) {
  stackbuf sb;
  size_t n, bad = 0, len;
  const char *s = check_bytes(L, 1, &n);
  char *out = (char *)scratch(L, &sb, n + 1);
  len = sp_pct_decode(out, s, n, form, &bad);
  if (len == (size_t)-1)
    return lsp_fail(L, "invalid_argument",
                    "%s: malformed percent-encoding at byte %d", op,
                    (int)(bad + 1));
  lua_pushlstring(L, out, len);
  return 1;
}

static int l_percent_decode(lua_State *L) {
  return decode(L, 0, "percent_decode");
}

static int l_form_decode(lua_State *L) {
  return decode(L, 1, "form_decode");
}

static int b64(lua_State *L, int url) {
  stackbuf sb;
  size_t n;
  const char *s = check_bytes(L, 1, &n);
  char *out = (char *)scratch(L, &sb, times(L, n / 3 + 1, 4));
  lua_pushlstring(L, out,
                  sp_base64_encode(out, (const unsigned char *)s, n, url));
  return 1;
}

static int l_base64(lua_State *L) { return b64(L, 0); }
static int l_base64url(lua_State *L) { return b64(L, 1); }

static int l_base64_decode(lua_State *L) {
  stackbuf sb;
  size_t n, bad = 0, len;
  const char *s = check_bytes(L, 1, &n);
  unsigned char *out = (unsigned char *)scratch(L, &sb, n / 4 * 3 + 3);
  len = sp_base64_decode(out, s, n, &bad);
  if (len == (size_t)-1)
    return lsp_fail(L, "invalid_argument", "base64_decode: invalid %s at "
                    "byte %d", bad >= n ? "length or padding" : "character",
                    (int)(bad + 1));
  lua_pushlstring(L, (const char *)out, len);
  return 1;
}

static int l_hex(lua_State *L) {
  stackbuf sb;
  size_t n;
  const char *s = check_bytes(L, 1, &n);
  char *out = (char *)scratch(L, &sb, times(L, n, 2));
  sp_hex_encode(out, (const unsigned char *)s, n);
  lua_pushlstring(L, out, 2 * n);
  return 1;
}

/* ---- digests, HMAC, random ---- */

static int digest(lua_State *L, int md) {
  unsigned char out[SP_MD_MAX];
  size_t n;
  const char *s = check_bytes(L, 1, &n);
  int len = sp_digest(md, s, n, out);
  if (len < 0) return luaL_error(L, "digest: OpenSSL failure");
  lua_pushlstring(L, (const char *)out, (size_t)len);
  return 1;
}

static int l_sha1(lua_State *L) { return digest(L, SP_MD_SHA1); }
static int l_sha256(lua_State *L) { return digest(L, SP_MD_SHA256); }
static int l_md5(lua_State *L) { return digest(L, SP_MD_MD5); }

static int hmac(lua_State *L, int md) {
  unsigned char out[SP_MD_MAX];
  size_t kn, n;
  const char *k = check_bytes(L, 1, &kn);
  const char *s = check_bytes(L, 2, &n);
  int len = sp_hmac(md, k, kn, s, n, out);
  if (len < 0) return luaL_error(L, "hmac: OpenSSL failure");
  lua_pushlstring(L, (const char *)out, (size_t)len);
  return 1;
}

static int l_hmac_sha1(lua_State *L) { return hmac(L, SP_MD_SHA1); }
static int l_hmac_sha256(lua_State *L) { return hmac(L, SP_MD_SHA256); }

static int l_random(lua_State *L) {
  lua_Number n = lua_tonumber(L, 1);
  luaL_Buffer b;
  size_t left;
  luaL_argcheck(L, lua_type(L, 1) == LUA_TNUMBER && n >= 0 && n <= RANDOM_MAX
                   && n == (lua_Number)(size_t)n,
                1, "expected an integer from 0 to 1048576");
  left = (size_t)n;
  luaL_buffinit(L, &b);
  while (left > 0) {
    size_t chunk = left < LUAL_BUFFERSIZE ? left : LUAL_BUFFERSIZE;
    char *p = luaL_prepbuffer(&b);
    if (sp_random(p, chunk) != 0) return luaL_error(L, "random: OpenSSL failure");
    luaL_addsize(&b, chunk);
    left -= chunk;
  }
  luaL_pushresult(&b);
  return 1;
}

/* ---- parameter tables ---- */

static void field_error(lua_State *L, const char *name, const char *what) {
  const char *got = luaL_typename(L, -1);
  luaL_argerror(L, 1, lua_pushfstring(L, "field '%s' must be %s (got %s)",
                                      name, what, got));
}

/* the value on top (a param value) as bytes; raises unless string/number */
static sp_str param_value(lua_State *L, int arg, const char *key) {
  sp_str s;
  int t = lua_type(L, -1);
  if (t != LUA_TSTRING && t != LUA_TNUMBER)
    luaL_argerror(L, arg, lua_pushfstring(L, "params value for '%s' must be "
                  "a string or number (got %s)", key, luaL_typename(L, -1)));
  s.p = lua_tolstring(L, -1, &s.n);
  return s;
}

static sp_str param_key(lua_State *L, int arg, int i) {
  sp_str s;
  if (lua_type(L, i) != LUA_TSTRING)
    luaL_argerror(L, arg, lua_pushfstring(L, "params keys must be strings "
                  "(got %s)", luaL_typename(L, i)));
  s.p = lua_tolstring(L, i, &s.n);
  return s;
}

/* a numeric value converted to a string lives only in its stack slot: keep
** it there (below the lua_next key, if any) so its bytes stay valid */
static void keep_number(lua_State *L, int is_number, int below_key) {
  if (!is_number) {
    lua_pop(L, 1);
    return;
  }
  luaL_checkstack(L, 4, "too many numeric params");
  if (below_key) lua_insert(L, -2);
}

/*
** Reads the params table at index t: a map {k = v} or a list of {k, v}
** pairs. Keys must be strings, values strings or numbers. String bytes
** stay referenced by the tables; numbers are converted on the stack and
** left there, so every pointer in the result stays valid until the
** function returns. Returns the count; *out is local or a userdata (left
** on the stack). Errors blame argument arg.
*/
static size_t collect_params(lua_State *L, int arg, int t, sp_kv *local,
                             sp_kv **out) {
  size_t n = 0, len, i;
  sp_kv *kv;
  t = lsp_absindex(L, t);
  len = lsp_rawlen(L, t);
  for (lua_pushnil(L); lua_next(L, t); lua_pop(L, 1)) n++;
  if (len > 0 && len != n)
    luaL_argerror(L, arg, "params must be a map {k = v} or a list of "
                  "{k, v} pairs");
  kv = n <= LOCAL_KV ? local : (sp_kv *)lsp_newuserdata(L, n * sizeof *kv);
  *out = kv;
  if (len > 0) {
    for (i = 0; i < n; i++) {
      lua_rawgeti(L, t, (int)i + 1);                   /* pair */
      if (!lua_istable(L, -1))
        luaL_argerror(L, arg, lua_pushfstring(L, "params[%d] must be a "
                      "{key, value} pair", (int)i + 1));
      lua_rawgeti(L, -1, 1);                           /* pair, k */
      kv[i].k = param_key(L, arg, -1);
      lua_pop(L, 1);                                   /* pair */
      lua_rawgeti(L, -1, 2);                           /* pair, v */
      kv[i].v = param_value(L, arg, kv[i].k.p);
      lua_remove(L, -2);                               /* v */
      keep_number(L, lua_type(L, -1) == LUA_TNUMBER, 0);
    }
    return n;
  }
  i = 0;
  lua_pushnil(L);
  while (lua_next(L, t)) {                             /* k, v */
    int num = lua_type(L, -1) == LUA_TNUMBER;
    kv[i].k = param_key(L, arg, -2);
    kv[i].v = param_value(L, arg, kv[i].k.p);
    keep_number(L, num, 1);                            /* [v,] k */
    i++;
  }
  return n;
}

/* ---- OAuth 1.0a ---- */

/* the fields of oauth1{...}; the table is walked once with lua_next (no
** per-name lookups), so unknown names are caught as typos */
enum { F_METHOD, F_URL, F_PARAMS, F_CONSUMER_KEY, F_CONSUMER_SECRET, F_TOKEN,
       F_TOKEN_SECRET, F_NONCE, F_TIMESTAMP, F_REALM, F_VERSION, F_CALLBACK,
       F_VERIFIER, F_SIGNATURE_METHOD, F_N };

static const sp_str FIELDS[F_N] = {
  {"method", 6}, {"url", 3}, {"params", 6}, {"consumer_key", 12},
  {"consumer_secret", 15}, {"token", 5}, {"token_secret", 12}, {"nonce", 5},
  {"timestamp", 9}, {"realm", 5}, {"version", 7}, {"callback", 8},
  {"verifier", 8}, {"signature_method", 16}
};

static int field_of(lua_State *L, int i) {
  size_t n;
  const char *k;
  int f;
  if (lua_type(L, i) == LUA_TSTRING) {
    k = lua_tolstring(L, i, &n);
    for (f = 0; f < F_N; f++)
      if (FIELDS[f].n == n && memcmp(FIELDS[f].p, k, n) == 0) return f;
    luaL_argerror(L, 1, lua_pushfstring(L, "unknown field '%s'", k));
  }
  luaL_argerror(L, 1, "field names must be strings");
  return -1;
}

/* timestamp: a string or an integer number (formatted into buf) */
static sp_str timestamp_value(lua_State *L, char *buf, size_t bufn) {
  sp_str s = {NULL, 0};
  if (lua_type(L, -1) == LUA_TNUMBER) {
    lua_Number v = lua_tonumber(L, -1);
    if (v != v || v < -9e15 || v > 9e15 || v != (lua_Number)(long long)v)
      field_error(L, "timestamp", "an integer or a string");
    s.p = buf;
    s.n = (size_t)snprintf(buf, bufn, "%lld", (long long)v);
  } else if (lua_type(L, -1) == LUA_TSTRING) {
    s.p = lua_tolstring(L, -1, &s.n);
  } else if (lua_toboolean(L, -1)) {
    field_error(L, "timestamp", "an integer or a string");
  }
  return s;
}

static int sig_method(lua_State *L, sp_str s) {
  static const char *const names[] = {"HMAC-SHA1", "HMAC-SHA256", "PLAINTEXT",
                                      NULL};
  int i;
  if (s.p == NULL) return SP_OAUTH1_HMAC_SHA1;
  for (i = 0; names[i] != NULL; i++)
    if (s.n == strlen(names[i]) && memcmp(s.p, names[i], s.n) == 0) return i;
  field_error(L, "signature_method", "HMAC-SHA1, HMAC-SHA256 or PLAINTEXT");
  return 0;
}

/*
** Reads args table 1 into r. String values stay referenced by the table
** (nothing runs Lua code meanwhile), so their pointers stay valid; a
** numeric timestamp is formatted into tsbuf. The params table, if any, is
** put at stack index 2. nil and false mean absent.
*/
static void read_request(lua_State *L, sp_oauth1_req *r, char *tsbuf,
                         size_t tsbufn) {
  sp_str v[F_N];
  int f, no_version = 0;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lua_pushnil(L);                                  /* args, params */
  memset(v, 0, sizeof v);
  lua_pushnil(L);
  while (lua_next(L, 1)) {                         /* args, params, k, v */
    int t = lua_type(L, -1);
    f = field_of(L, -2);
    if (f == F_PARAMS) {
      if (t == LUA_TTABLE) lua_replace(L, 2);
      else if (lua_toboolean(L, -1)) field_error(L, "params", "a table");
      else lua_pop(L, 1);
      continue;
    }
    if (f == F_TIMESTAMP) {
      v[f] = timestamp_value(L, tsbuf, tsbufn);
    } else if (t == LUA_TSTRING) {
      v[f].p = lua_tolstring(L, -1, &v[f].n);
    } else if (lua_toboolean(L, -1)) {
      field_error(L, FIELDS[f].p, "a string");
    } else if (f == F_VERSION) {
      no_version = 1;                              /* version = false */
    }
    lua_pop(L, 1);
  }
  for (f = F_METHOD; f <= F_CONSUMER_SECRET; f++) {
    if (f != F_PARAMS && v[f].p == NULL)
      luaL_argerror(L, 1, lua_pushfstring(L, "field '%s' must be a string "
                                          "(got nil)", FIELDS[f].p));
  }
  r->method = v[F_METHOD];
  r->url = v[F_URL];
  r->consumer_key = v[F_CONSUMER_KEY];
  r->consumer_secret = v[F_CONSUMER_SECRET];
  r->token = v[F_TOKEN];
  r->token_secret = v[F_TOKEN_SECRET];
  r->nonce = v[F_NONCE];
  r->timestamp = v[F_TIMESTAMP];
  r->realm = v[F_REALM];
  r->callback = v[F_CALLBACK];
  r->verifier = v[F_VERIFIER];
  r->signature_method = sig_method(L, v[F_SIGNATURE_METHOD]);
  r->version = v[F_VERSION];
  if (r->version.p == NULL && !no_version) {       /* default: what X sends */
    r->version.p = "1.0";
    r->version.n = 3;
  }
}

static int oauth_fail(lua_State *L, int rc) {
  const char *kind = "invalid_argument", *field = NULL;
  switch (rc) {
  case SP_SIGN_EURL: case SP_SIGN_ECHAR: case SP_SIGN_EPORT:
  case SP_SIGN_EQUERY: field = "url"; break;
  case SP_SIGN_EMETHOD: field = "method"; break;
  case SP_SIGN_EREALM: field = "realm"; break;
  case SP_SIGN_ETOOBIG: kind = "too_large"; break;
  case SP_SIGN_EPROTO: field = "params"; break;
  default: return luaL_error(L, "oauth1: %s", sp_sign_strerror(rc));
  }
  lsp_fail(L, kind, "oauth1: %s", sp_sign_strerror(rc));
  if (field != NULL) {
    lua_pushstring(L, field);
    lua_setfield(L, -2, "field");
  }
  return 3;
}

/* result[name] = s, the name being upvalue i (interned once at load) */
static void set_result(lua_State *L, int i, sp_str s) {
  lua_pushvalue(L, lua_upvalueindex(i));
  lua_pushlstring(L, s.p, s.n);
  lua_rawset(L, -3);
}

static const char *const RESULT_NAMES[] = {"header", "signature",
  "base_string", "nonce", "timestamp", NULL};

/*
** oauth1{method=, url=, params=, consumer_key=, consumer_secret=, token=,
** token_secret=, nonce=, timestamp=, realm=, version=, callback=,
** verifier=, signature_method=} -> {header=, signature=, base_string=,
** nonce=, timestamp=} or nil, msg, err. Upvalues: RESULT_NAMES.
*/
static int oauth1(lua_State *L, int header_only) {
  sp_oauth1_req r;
  sp_oauth1_res res;
  sp_kv local[LOCAL_KV];
  char tsbuf[32];
  stackbuf sb;
  size_t need;
  void *work;
  int rc;
  memset(&r, 0, sizeof r);
  read_request(L, &r, tsbuf, sizeof tsbuf);       /* args, params */
  if (lua_istable(L, 2)) {
    sp_kv *kv;
    r.nparams = collect_params(L, 1, 2, local, &kv);
    rc = sp_oauth1_take_protocol(&r, kv, &r.nparams);   /* oauth_* in params: never twice */
    if (rc != SP_SIGN_OK) return oauth_fail(L, rc);
    r.params = kv;
  }
  need = sp_oauth1_worksize(&r);
  if (need == 0) return oauth_fail(L, SP_SIGN_ETOOBIG);
  work = scratch(L, &sb, need);
  rc = sp_oauth1_sign(&r, work, need, &res);
  if (rc != SP_SIGN_OK) return oauth_fail(L, rc);
  if (header_only) {
    lua_pushlstring(L, res.header.p, res.header.n);
    return 1;
  }
  lua_createtable(L, 0, 5);
  set_result(L, 1, res.header);
  set_result(L, 2, res.signature);
  set_result(L, 3, res.base_string);
  set_result(L, 4, res.nonce);
  set_result(L, 5, res.timestamp);
  return 1;
}

static int l_oauth1(lua_State *L) {
  return oauth1(L, 0);
}

/* oauth1_header{...}: the same arguments, only the Authorization header value */
static int l_oauth1_header(lua_State *L) {
  return oauth1(L, 1);
}

/* legacy_sig(params, secret): Facebook REST API md5 signature, hex */
static int l_legacy_sig(lua_State *L) {
  sp_kv local[LOCAL_KV], *kv;
  sp_str secret;
  char out[33];
  size_t n;
  luaL_checktype(L, 1, LUA_TTABLE);
  secret.p = check_bytes(L, 2, &secret.n);
  n = collect_params(L, 1, 1, local, &kv);
  if (sp_legacy_sig(kv, n, secret, out) != 0)
    return luaL_error(L, "legacy_sig: OpenSSL failure");
  lua_pushlstring(L, out, 32);
  return 1;
}

static const luaL_Reg funcs[] = {
  {"percent_encode", l_percent_encode},
  {"percent_decode", l_percent_decode},
  {"form_decode", l_form_decode},
  {"base64", l_base64},
  {"base64url", l_base64url},
  {"base64_decode", l_base64_decode},
  {"hex", l_hex},
  {"sha1", l_sha1},
  {"sha256", l_sha256},
  {"md5", l_md5},
  {"hmac_sha1", l_hmac_sha1},
  {"hmac_sha256", l_hmac_sha256},
  {"random", l_random},
  {"legacy_sig", l_legacy_sig},
  {"oauth1_header", l_oauth1_header},
  {NULL, NULL}
};

int lsp_open_sign(lua_State *L) {
  int n;
  lsp_newlib(L, funcs);
  for (n = 0; RESULT_NAMES[n] != NULL; n++) lua_pushstring(L, RESULT_NAMES[n]);
  lua_pushcclosure(L, l_oauth1, n);
  lua_setfield(L, -2, "oauth1");
  return 1;
}
