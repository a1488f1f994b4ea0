/*
** sign.c - pure C signing core: percent-encoding, base64, hex, digests,
** HMAC, CSPRNG and OAuth 1.0a (RFC 5849 §3.4-3.5). No lua.h.
**
** Speed notes (OAuth 1.0a is signed once per request): the caller hands in
** one work area sized by sp_oauth1_worksize(), so signing makes no heap
** allocation; HMAC contexts live per thread and are re-keyed only when the
** key changes (OpenSSL 3 copies the key with a malloc on every re-key);
** nonce bytes come from a per-thread pool refilled 4 KiB at a time.
** SPDX-License-Identifier: MIT
*/
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <openssl/rand.h>

#include "sign.h"

#if OPENSSL_VERSION_NUMBER >= 0x30000000L && !defined(SP_OPENSSL_LEGACY)
#define SP_EVP_MAC 1
#include <openssl/core_names.h>
#include <openssl/params.h>
typedef EVP_MAC_CTX sp_macctx;
#else
#define SP_EVP_MAC 0
#include <openssl/hmac.h>
typedef HMAC_CTX sp_macctx;
#endif

#define POOL_SIZE 4096     /* nonce bytes fetched per RAND_bytes call */
#define NONCE_BYTES 32     /* random bytes per generated nonce */
#define KEYCACHE 256       /* HMAC keys up to this size are cached */
#define NMD 3              /* SP_MD_SHA1, SP_MD_SHA256, SP_MD_MD5 */

static const char HEXU[] = "0123456789ABCDEF";
static const char HEXL[] = "0123456789abcdef";

/* RFC 3986 unreserved bytes: A-Z a-z 0-9 - . _ ~ */
#define Z16 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
static const unsigned char UNRES[256] = {
  Z16, Z16,                                          /* 0x00-0x1f */
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0,    /* 0x20-0x2f - . */
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0,    /* 0x30-0x3f 0-9 */
  0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,    /* 0x40-0x4f A-O */
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1,    /* 0x50-0x5f P-Z _ */
  0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,    /* 0x60-0x6f a-o */
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0,    /* 0x70-0x7f p-z ~ */
  Z16, Z16, Z16, Z16, Z16, Z16, Z16, Z16             /* 0x80-0xff */
};
#define unreserved(c) (UNRES[(unsigned char)(c)])

const char *sp_sign_strerror(int code) {
  switch (code) {
  case SP_SIGN_OK: return "ok";
  case SP_SIGN_EURL: return "url must be absolute (scheme://host/path)";
  case SP_SIGN_ECHAR: return "url contains whitespace or control characters";
  case SP_SIGN_EPORT: return "url has an invalid port";
  case SP_SIGN_EQUERY: return "url query has a malformed percent-encoding";
  case SP_SIGN_EMETHOD: return "method must be an HTTP method name";
  case SP_SIGN_EREALM: return "realm contains control characters";
  case SP_SIGN_ETOOBIG: return "request too large to sign";
  case SP_SIGN_ESPACE: return "internal error: work area too small";
  case SP_SIGN_ECRYPTO: return "OpenSSL failure";
  case SP_SIGN_EINPUT: return "malformed input";
  case SP_SIGN_EPROTO:
    return "params hold oauth_signature, or an oauth_consumer_key, oauth_token or "
           "oauth_signature_method that contradicts the request";
  default: return "unknown error";
  }
}

static int str_is(sp_str s, const char *lit) {
  size_t n = strlen(lit);
  return s.n == n && memcmp(s.p, lit, n) == 0;
}

static int str_eq(sp_str a, sp_str b) {
  return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

int sp_oauth1_take_protocol(sp_oauth1_req *r, sp_kv *params, size_t *n) {
  static const char *const methods[] = {"HMAC-SHA1", "HMAC-SHA256", "PLAINTEXT"};
  size_t i, kept = 0;
  /* check first, so that a refusal leaves r and params as they were */
  for (i = 0; i < *n; i++) {
    sp_str k = params[i].k, v = params[i].v;
    if (str_is(k, "oauth_signature")) return SP_SIGN_EPROTO;
    if (str_is(k, "oauth_consumer_key") && !str_eq(v, r->consumer_key)) return SP_SIGN_EPROTO;
    if (str_is(k, "oauth_token") && (r->token.p == NULL || !str_eq(v, r->token)))
      return SP_SIGN_EPROTO;
    if (str_is(k, "oauth_signature_method")) {
      int m, found = -1;
      for (m = 0; m < 3; m++)
        if (str_is(v, methods[m])) found = m;
      if (found < 0 || found != r->signature_method) return SP_SIGN_EPROTO;
    }
  }
  for (i = 0; i < *n; i++) {
    sp_str k = params[i].k, v = params[i].v;
    if (str_is(k, "oauth_nonce")) r->nonce = v;
    else if (str_is(k, "oauth_timestamp")) r->timestamp = v;
    else if (str_is(k, "oauth_version")) r->version = v;
    else if (str_is(k, "oauth_callback")) r->callback = v;
    else if (str_is(k, "oauth_verifier")) r->verifier = v;
    else if (!str_is(k, "oauth_consumer_key") && !str_is(k, "oauth_token")
             && !str_is(k, "oauth_signature_method"))
      params[kept++] = params[i];           /* an ordinary parameter */
  }
  *n = kept;
  return SP_SIGN_OK;
}

/* ---------------------------------------------------------------------- */
/* encodings                                                               */
/* ---------------------------------------------------------------------- */

/* (A branch-free variant measured slower: text is mostly unreserved and
** the branch predicts well.) */
size_t sp_pct_encode(char *dst, const char *src, size_t n) {
  char *o = dst;
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)src[i];
    if (unreserved(c)) {
      *o++ = (char)c;
    } else {
      o[0] = '%';
      o[1] = HEXU[c >> 4];
      o[2] = HEXU[c & 15];
      o += 3;
    }
  }
  return (size_t)(o - dst);
}
/* percent-encodes with ASCII letters lowercased (scheme and host) */
static size_t pct_encode_lower(char *dst, const char *src, size_t n) {
  char *o = dst;
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)src[i];
    if (c >= 'A' && c <= 'Z') c = (unsigned char)(c + 32);
    if (unreserved(c)) {
      *o++ = (char)c;
    } else {
      o[0] = '%';
      o[1] = HEXU[c >> 4];
      o[2] = HEXU[c & 15];
      o += 3;
    }
  }
  return (size_t)(o - dst);
}

/* encodes an already percent-encoded string: only '%' is not unreserved */
static size_t pct_encode_again(char *dst, const char *src, size_t n) {
  char *o = dst;
  size_t i;
  for (i = 0; i < n; i++) {
    if (src[i] == '%') {
      o[0] = '%';
      o[1] = '2';
      o[2] = '5';
      o += 3;
    } else {
      *o++ = src[i];
    }
  }
  return (size_t)(o - dst);
}
static int hexval(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

size_t sp_pct_decode(char *dst, const char *src, size_t n, int form,
                     size_t *bad) {
  size_t i = 0, o = 0;
  while (i < n) {
    unsigned char c = (unsigned char)src[i];
    if (c == '%') {
      int h, l;
      if (n - i < 3 || (h = hexval((unsigned char)src[i + 1])) < 0 ||
          (l = hexval((unsigned char)src[i + 2])) < 0) {
        if (bad) *bad = i;
        return (size_t)-1;
      }
      dst[o++] = (char)(h * 16 + l);
      i += 3;
    } else {
      dst[o++] = (form && c == '+') ? ' ' : (char)c;
      i++;
    }
  }
  return o;
}

static const char B64STD[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char B64URL[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t sp_base64_encode(char *dst, const unsigned char *src, size_t n,
                        int url) {
  const char *A = url ? B64URL : B64STD;
  char *o = dst;
  size_t i = 0;
  for (; n - i >= 3; i += 3) {
    unsigned long v = ((unsigned long)src[i] << 16) |
                      ((unsigned long)src[i + 1] << 8) | src[i + 2];
    o[0] = A[(v >> 18) & 63];
    o[1] = A[(v >> 12) & 63];
    o[2] = A[(v >> 6) & 63];
    o[3] = A[v & 63];
    o += 4;
  }
  if (n - i == 1) {
    unsigned long v = (unsigned long)src[i] << 16;
    *o++ = A[(v >> 18) & 63];
    *o++ = A[(v >> 12) & 63];
    if (!url) { *o++ = '='; *o++ = '='; }
  } else if (n - i == 2) {
    unsigned long v = ((unsigned long)src[i] << 16) |
                      ((unsigned long)src[i + 1] << 8);
    *o++ = A[(v >> 18) & 63];
    *o++ = A[(v >> 12) & 63];
    *o++ = A[(v >> 6) & 63];
    if (!url) *o++ = '=';
  }
  return (size_t)(o - dst);
}

static int b64val(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

size_t sp_base64_decode(unsigned char *dst, const char *src, size_t n,
                        size_t *bad) {
  size_t len = n, i, o = 0;
  unsigned long acc = 0;
  int bits = 0;
  if (len > 0 && src[len - 1] == '=') {
    len--;
    if (len > 0 && src[len - 1] == '=') len--;
    if (n % 4 != 0) {              /* padding present: whole quanta only */
      if (bad) *bad = n;
      return (size_t)-1;
    }
  }
  for (i = 0; i < len; i++) {
    int v = b64val((unsigned char)src[i]);
    if (v < 0) {
      if (bad) *bad = i;
      return (size_t)-1;
    }
    acc = ((acc << 6) | (unsigned long)v) & 0xFFFFFFu;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      dst[o++] = (unsigned char)((acc >> bits) & 0xFF);
    }
  }
  if (len % 4 == 1) {              /* 6 bits cannot make a byte */
    if (bad) *bad = n;
    return (size_t)-1;
  }
  return o;
}

void sp_hex_encode(char *dst, const unsigned char *src, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    dst[2 * i] = HEXL[src[i] >> 4];
    dst[2 * i + 1] = HEXL[src[i] & 15];
  }
}

/* ---------------------------------------------------------------------- */
/* per-thread OpenSSL state                                                */
/* ---------------------------------------------------------------------- */

typedef struct {
  size_t left;                      /* unused bytes at the end of pool */
  unsigned char pool[POOL_SIZE];
  EVP_MD_CTX *md[NMD];              /* initialised once, re-inited per use */
  sp_macctx *mac[NMD];
  size_t keylen[NMD];               /* key the mac context holds, if cached */
  int keyok[NMD];
  unsigned char key[NMD][KEYCACHE];
} tstate;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t tkey;
static int tkey_ok;
static _Thread_local tstate *ts;

static void tstate_free(void *p) {
  tstate *t = (tstate *)p;
  int i;
  if (t == NULL) return;
  for (i = 0; i < NMD; i++) {
    EVP_MD_CTX_free(t->md[i]);
#if SP_EVP_MAC
    EVP_MAC_CTX_free(t->mac[i]);
#else
    HMAC_CTX_free(t->mac[i]);
#endif
  }
  OPENSSL_cleanse(t, sizeof *t);
  free(t);
}

/* a fork child must not hand out the parent's pooled nonce bytes */
static void atfork_child(void) {
  if (ts != NULL) {
    OPENSSL_cleanse(ts->pool, sizeof ts->pool);
    ts->left = 0;
  }
}

static void init_once(void) {
  tkey_ok = pthread_key_create(&tkey, tstate_free) == 0;
  (void)pthread_atfork(NULL, NULL, atfork_child);
}

#if defined(__GNUC__)
/* On dlclose (a Lua state closing may unload the module) make sure no
** thread later runs tstate_free from unmapped code. Other threads' states
** stay allocated; OpenSSL objects are not touched here because at process
** exit OpenSSL may already be cleaned up. */
__attribute__((destructor)) static void sp_sign_unload(void) {
  if (tkey_ok) {
    pthread_key_delete(tkey);
    tkey_ok = 0;
  }
}
#endif

static tstate *get_ts(void) {
  if (ts != NULL) return ts;
  pthread_once(&once, init_once);
  ts = (tstate *)calloc(1, sizeof *ts);
  if (ts != NULL && tkey_ok) pthread_setspecific(tkey, ts);
  return ts;
}

static const EVP_MD *md_of(int md) {
  switch (md) {
  case SP_MD_SHA1: return EVP_sha1();
  case SP_MD_SHA256: return EVP_sha256();
  case SP_MD_MD5: return EVP_md5();
  default: return NULL;
  }
}

/* a digest context of this thread, initialised for md */
static EVP_MD_CTX *md_begin(int md) {
  tstate *t = get_ts();
  EVP_MD_CTX *c;
  if (t == NULL || md < 0 || md >= NMD) return NULL;
  c = t->md[md];
  if (c != NULL) return EVP_DigestInit_ex(c, NULL, NULL) ? c : NULL;
  c = EVP_MD_CTX_new();
  if (c == NULL) return NULL;
  if (!EVP_DigestInit_ex(c, md_of(md), NULL)) {
    EVP_MD_CTX_free(c);
    return NULL;
  }
  t->md[md] = c;
  return c;
}

int sp_digest(int md, const void *data, size_t n, unsigned char *out) {
  EVP_MD_CTX *c = md_begin(md);
  unsigned int len = 0;
  if (c == NULL || !EVP_DigestUpdate(c, data, n) ||
      !EVP_DigestFinal_ex(c, out, &len))
    return -1;
  return (int)len;
}

static sp_macctx *mac_new(int md) {
#if SP_EVP_MAC
  static const char *const names[NMD] = {"SHA1", "SHA256", "MD5"};
  OSSL_PARAM p[2];
  EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
  EVP_MAC_CTX *c;
  if (mac == NULL) return NULL;
  c = EVP_MAC_CTX_new(mac);
  EVP_MAC_free(mac);                 /* the context keeps its reference */
  if (c == NULL) return NULL;
  p[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                          (char *)names[md], 0);
  p[1] = OSSL_PARAM_construct_end();
  if (!EVP_MAC_CTX_set_params(c, p)) {
    EVP_MAC_CTX_free(c);
    return NULL;
  }
  return c;
#else
  (void)md;
  return HMAC_CTX_new();
#endif
}

/* (re)keys the context; key == NULL reuses the key it holds */
static int mac_init(sp_macctx *c, int md, const void *key, size_t keylen) {
#if SP_EVP_MAC
  (void)md;
  return EVP_MAC_init(c, (const unsigned char *)key, keylen, NULL);
#else
  if (keylen > INT32_MAX) return 0;
  return HMAC_Init_ex(c, key, (int)keylen, key ? md_of(md) : NULL, NULL);
#endif
}

int sp_hmac(int md, const void *key, size_t keylen, const void *data,
            size_t n, unsigned char *out) {
  tstate *t = get_ts();
  sp_macctx *c;
  int ok;
  if (t == NULL || md < 0 || md >= NMD) return -1;
  if (t->mac[md] == NULL && (t->mac[md] = mac_new(md)) == NULL) return -1;
  c = t->mac[md];
  if (t->keyok[md] && t->keylen[md] == keylen &&
      CRYPTO_memcmp(t->key[md], key, keylen) == 0) {
    ok = mac_init(c, md, NULL, 0);
  } else {
    static const unsigned char empty[1] = {0};
    t->keyok[md] = 0;
    ok = mac_init(c, md, keylen ? key : empty, keylen);
    if (ok && keylen <= KEYCACHE) {
      memcpy(t->key[md], key, keylen);
      t->keylen[md] = keylen;
      t->keyok[md] = 1;
    }
  }
  if (!ok) {
    t->keyok[md] = 0;
    return -1;
  }
#if SP_EVP_MAC
  {
    size_t len = 0;
    if (!EVP_MAC_update(c, (const unsigned char *)data, n) ||
        !EVP_MAC_final(c, out, &len, SP_MD_MAX)) {
      t->keyok[md] = 0;
      return -1;
    }
    return (int)len;
  }
#else
  {
    unsigned int len = 0;
    if (!HMAC_Update(c, (const unsigned char *)data, n) ||
        !HMAC_Final(c, out, &len)) {
      t->keyok[md] = 0;
      return -1;
    }
    return (int)len;
  }
#endif
}

int sp_random(void *dst, size_t n) {
  unsigned char *p = (unsigned char *)dst;
  while (n > 0) {
    int chunk = n > 65536 ? 65536 : (int)n;
    if (RAND_bytes(p, chunk) != 1) return -1;
    p += chunk;
    n -= (size_t)chunk;
  }
  return 0;
}

/* n (<= POOL_SIZE) bytes from this thread's pool */
static int pool_take(unsigned char *dst, size_t n) {
  tstate *t = get_ts();
  if (t == NULL) return -1;
  if (t->left < n) {
    if (RAND_bytes(t->pool, POOL_SIZE) != 1) return -1;
    t->left = POOL_SIZE;
  }
  memcpy(dst, t->pool + POOL_SIZE - t->left, n);
  t->left -= n;
  return 0;
}

/* ---------------------------------------------------------------------- */
/* OAuth 1.0a                                                              */
/* ---------------------------------------------------------------------- */

typedef struct {
  sp_str scheme, host, port, path, query;
} url_parts;

static int is_alpha(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}
static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* case-insensitive comparison of a scheme with a lowercase name */
static int scheme_is(sp_str s, const char *name) {
  size_t i;
  if (s.n != strlen(name)) return 0;
  for (i = 0; i < s.n; i++) {
    unsigned char c = (unsigned char)s.p[i];
    if (c >= 'A' && c <= 'Z') c = (unsigned char)(c + 32);
    if (c != (unsigned char)name[i]) return 0;
  }
  return 1;
}

/* Splits an absolute URL; port.p == NULL when it is absent, empty or the
** scheme's default (RFC 5849 §3.4.1.2); query.p == NULL when absent. */
static int parse_url(sp_str url, url_parts *u) {
  const char *s = url.p, *end = url.p + url.n, *p, *auth, *aend, *h;
  size_t i;
  memset(u, 0, sizeof *u);
  for (i = 0; i < url.n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c <= 0x20 || c == 0x7f) return SP_SIGN_ECHAR;
  }
  /* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) "://" */
  if (url.n == 0 || !is_alpha((unsigned char)s[0])) return SP_SIGN_EURL;
  for (p = s + 1; p < end && (is_alpha((unsigned char)*p) ||
       is_digit((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.');
       p++) {
  }
  if (end - p < 3 || memcmp(p, "://", 3) != 0) return SP_SIGN_EURL;
  u->scheme.p = s;
  u->scheme.n = (size_t)(p - s);
  auth = p + 3;
  for (aend = auth; aend < end && *aend != '/' && *aend != '?' &&
       *aend != '#'; aend++) {
  }
  /* drop userinfo: the Host header never carries it */
  for (h = aend; h > auth && h[-1] != '@'; h--) {
  }
  if (h < aend && *h == '[') {           /* IP literal */
    const char *rb = memchr(h, ']', (size_t)(aend - h));
    if (rb == NULL) return SP_SIGN_EURL;
    p = rb + 1;
    if (p < aend && *p != ':') return SP_SIGN_EURL;
  } else {
    p = memchr(h, ':', (size_t)(aend - h));
    if (p == NULL) p = aend;
  }
  u->host.p = h;
  u->host.n = (size_t)(p - h);
  if (u->host.n == 0) return SP_SIGN_EURL;
  if (p < aend) {                        /* ":" port */
    const char *d = p + 1;
    unsigned long v = 0;
    if (aend - d > 5) return SP_SIGN_EPORT;
    for (; d < aend; d++) {
      if (!is_digit((unsigned char)*d)) return SP_SIGN_EPORT;
      v = v * 10 + (unsigned long)(*d - '0');
    }
    if (v > 65535) return SP_SIGN_EPORT;
    /* an empty port means the default one too (RFC 3986 §6.2.3) */
    if (!(aend == p + 1 || (v == 80 && scheme_is(u->scheme, "http")) ||
          (v == 443 && scheme_is(u->scheme, "https")))) {
      u->port.p = p + 1;
      u->port.n = (size_t)(aend - p - 1);
    }
  }
  for (p = aend; p < end && *p != '?' && *p != '#'; p++) {
  }
  u->path.p = aend;
  u->path.n = (size_t)(p - aend);
  if (p < end && *p == '?') {
    const char *q = p + 1, *qe = memchr(q, '#', (size_t)(end - q));
    u->query.p = q;
    u->query.n = (size_t)((qe ? qe : end) - q);
  }
  return SP_SIGN_OK;
}

enum { OA_CALLBACK, OA_CONSUMER_KEY, OA_NONCE, OA_SIGNATURE, OA_SIGMETHOD,
       OA_TIMESTAMP, OA_TOKEN, OA_VERIFIER, OA_VERSION, OA_N };

/* sorted: the header lists them in this order */
static const sp_str OA_NAMES[OA_N] = {
  {"oauth_callback", 14}, {"oauth_consumer_key", 18}, {"oauth_nonce", 11},
  {"oauth_signature", 15}, {"oauth_signature_method", 22},
  {"oauth_timestamp", 15}, {"oauth_token", 11}, {"oauth_verifier", 14},
  {"oauth_version", 13}
};

static const sp_str SIG_NAMES[3] = {
  {"HMAC-SHA1", 9}, {"HMAC-SHA256", 11}, {"PLAINTEXT", 9}
};

/* overflow-checked size arithmetic for the work-area bound */
static int add_to(size_t *acc, size_t v) {
  if (v > SIZE_MAX - *acc) return 0;
  *acc += v;
  return 1;
}

/* 1 + the number of '&' in s: a bound on the query parameters */
static size_t count_amp(sp_str s) {
  const char *p = s.p, *end = s.p + s.n;
  size_t n = 1;
  while (p < end && (p = memchr(p, '&', (size_t)(end - p))) != NULL) {
    n++;
    p++;
  }
  return n;
}

size_t sp_oauth1_worksize(const sp_oauth1_req *r) {
  size_t in = 0, nq = 1, npairs, enc, sig, keyn, total = 64, i;
  const sp_str *f[] = {&r->method, &r->url, &r->consumer_key,
                       &r->consumer_secret, &r->token, &r->token_secret,
                       &r->nonce, &r->timestamp, &r->realm, &r->version,
                       &r->callback, &r->verifier};
  for (i = 0; i < sizeof f / sizeof f[0]; i++)
    if (f[i]->p != NULL && (!add_to(&in, f[i]->n) || in > SP_OAUTH1_MAX_INPUT))
      return 0;
  if (r->nparams > SP_OAUTH1_MAX_INPUT || (r->nparams && !r->params))
    return 0;
  for (i = 0; i < r->nparams; i++) {
    if (!add_to(&in, r->params[i].k.n) || !add_to(&in, r->params[i].v.n) ||
        in > SP_OAUTH1_MAX_INPUT)
      return 0;
  }
  nq = count_amp(r->url);
  npairs = r->nparams + nq + OA_N;
  /* in, npairs <= 2 * 16 MiB: nothing below can overflow a 64-bit size_t;
  ** on 32 bits the add_to checks catch it */
  enc = 3 * (in + 64 + 24 + 32);            /* every pair, singly encoded */
  keyn = 3 * r->consumer_secret.n + 1 + 3 * r->token_secret.n;
  sig = (keyn > 96 ? keyn : 96) + 1;
  if (!add_to(&total, npairs * sizeof(sp_kv)) ||
      !add_to(&total, 64 + 24) ||                    /* generated values */
      !add_to(&total, enc) ||
      !add_to(&total, r->url.n) ||                   /* decode scratch */
      !add_to(&total, r->method.n + 2 + 3 * r->url.n) ||
      !add_to(&total, 3 * (enc + 2 * npairs + 256)) ||  /* base string */
      !add_to(&total, keyn) || !add_to(&total, sig) ||
      !add_to(&total, 3 * sig) ||                    /* encoded signature */
      !add_to(&total, 64 + 2 * r->realm.n + OA_N * 32 + enc))  /* header */
    return 0;
  return total;
}

/* byte order; the strings are short, so a plain loop beats memcmp */
static int str_cmp(sp_str a, sp_str b) {
  size_t n = a.n < b.n ? a.n : b.n, i;
  for (i = 0; i < n; i++) {
    unsigned char x = (unsigned char)a.p[i], y = (unsigned char)b.p[i];
    if (x != y) return x < y ? -1 : 1;
  }
  return a.n < b.n ? -1 : a.n > b.n;
}

static int kv_cmp(const sp_kv *a, const sp_kv *b) {
  int c = str_cmp(a->k, b->k);
  return c != 0 ? c : str_cmp(a->v, b->v);
}

static int kv_qcmp(const void *a, const void *b) {
  return kv_cmp((const sp_kv *)a, (const sp_kv *)b);
}

/* byte order of key, then of value */
static void kv_sort(sp_kv *kv, size_t n) {
  size_t i, j;
  if (n > 24) {
    qsort(kv, n, sizeof *kv, kv_qcmp);
    return;
  }
  for (i = 1; i < n; i++) {
    sp_kv x = kv[i];
    for (j = i; j > 0 && kv_cmp(&kv[j - 1], &x) > 0; j--) kv[j] = kv[j - 1];
    kv[j] = x;
  }
}

/* a bump allocator over the caller's work area */
typedef struct {
  char *p, *end;
} arena;

#define ROOM(a, n) ((size_t)((a)->end - (a)->p) >= (n))

/* appends the percent-encoding of s; returns it, or p == NULL if full */
static sp_str put_enc(arena *a, const char *s, size_t n) {
  sp_str r = {NULL, 0};
  if (n > SIZE_MAX / 3 || !ROOM(a, 3 * n)) return r;
  r.p = a->p;
  r.n = sp_pct_encode(a->p, s, n);
  a->p += r.n;
  return r;
}

static int put(arena *a, const char *s, size_t n) {
  if (!ROOM(a, n)) return 0;
  memcpy(a->p, s, n);
  a->p += n;
  return 1;
}

/* Query parameters of the url (form-decoded, then encoded) into kv */
static int add_query(arena *a, sp_str q, sp_kv *kv, size_t *np) {
  const char *s, *end;
  char *scratch;
  if (q.p == NULL) return SP_SIGN_OK;
  s = q.p;
  end = q.p + q.n;
  if (!ROOM(a, q.n)) return SP_SIGN_ESPACE;
  scratch = a->end - q.n;              /* top of the arena, taken last */
  a->end = scratch;
  for (;;) {
    const char *amp = memchr(s, '&', (size_t)(end - s)), *eq;
    size_t seg, kn, vn, dn;
    if (amp == NULL) amp = end;
    seg = (size_t)(amp - s);
    if (seg > 0) {
      eq = memchr(s, '=', seg);
      kn = eq ? (size_t)(eq - s) : seg;
      vn = eq ? seg - kn - 1 : 0;
      dn = sp_pct_decode(scratch, s, kn, 1, NULL);
      if (dn == (size_t)-1) return SP_SIGN_EQUERY;
      /* RFC 5849 §3.4.1.3.1: oauth_signature is never signed */
      if (!(dn == 15 && memcmp(scratch, "oauth_signature", 15) == 0)) {
        kv[*np].k = put_enc(a, scratch, dn);
        dn = sp_pct_decode(scratch, eq ? eq + 1 : s, vn, 1, NULL);
        if (dn == (size_t)-1) return SP_SIGN_EQUERY;
        kv[*np].v = put_enc(a, scratch, dn);
        if (kv[*np].k.p == NULL || kv[*np].v.p == NULL) return SP_SIGN_ESPACE;
        (*np)++;
      } else if (eq && sp_pct_decode(scratch, eq + 1, vn, 1, NULL) ==
                 (size_t)-1) {
        return SP_SIGN_EQUERY;
      }
    }
    if (amp == end) break;
    s = amp + 1;
  }
  return SP_SIGN_OK;
}

static int check_method(sp_str m) {
  size_t i;
  if (m.p == NULL || m.n == 0 || m.n > 32) return 0;
  for (i = 0; i < m.n; i++) {
    unsigned char c = (unsigned char)m.p[i];
    if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '_' && c != '.')
      return 0;
  }
  return 1;
}

static int check_realm(sp_str r) {
  size_t i;
  for (i = 0; r.p != NULL && i < r.n; i++) {
    unsigned char c = (unsigned char)r.p[i];
    if (c < 0x20 || c == 0x7f) return 0;
  }
  return 1;
}

/* generated nonce: 32 CSPRNG bytes, base64, letters and digits only */
static int gen_nonce(arena *a, sp_str *out) {
  unsigned char rb[NONCE_BYTES];
  char b64[sp_base64_len(NONCE_BYTES)];
  size_t n, i;
  if (!ROOM(a, sizeof b64)) return SP_SIGN_ESPACE;
  if (pool_take(rb, sizeof rb) != 0) return SP_SIGN_ECRYPTO;
  n = sp_base64_encode(b64, rb, sizeof rb, 0);
  out->p = a->p;
  for (i = 0; i < n; i++) {
    char c = b64[i];
    if (c != '+' && c != '/' && c != '=') *a->p++ = c;
  }
  out->n = (size_t)(a->p - out->p);
  return SP_SIGN_OK;
}

/* generated timestamp: decimal seconds since the epoch */
static int gen_timestamp(arena *a, sp_str *out) {
  char tmp[24];
  long long t = (long long)time(NULL);
  size_t n = 0;
  if (t < 0 || !ROOM(a, sizeof tmp)) return SP_SIGN_ESPACE;
  do {
    tmp[sizeof tmp - ++n] = (char)('0' + t % 10);
    t /= 10;
  } while (t > 0);
  memcpy(a->p, tmp + sizeof tmp - n, n);
  out->p = a->p;
  out->n = n;
  a->p += n;
  return SP_SIGN_OK;
}

/* METHOD&enc(base uri)&enc(normalized parameters) */
static int put_base_string(arena *a, const sp_oauth1_req *r,
                           const url_parts *u, const sp_kv *kv, size_t np,
                           sp_str *out) {
  size_t i, need = r->method.n + 2 + 3 * r->url.n + 12;
  for (i = 0; i < np; i++) need += 3 * (kv[i].k.n + kv[i].v.n) + 6;
  if (!ROOM(a, need)) return SP_SIGN_ESPACE;
  out->p = a->p;
  for (i = 0; i < r->method.n; i++) {
    char c = r->method.p[i];
    *a->p++ = (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
  }
  *a->p++ = '&';
  a->p += pct_encode_lower(a->p, u->scheme.p, u->scheme.n);
  memcpy(a->p, "%3A%2F%2F", 9);
  a->p += 9;
  a->p += pct_encode_lower(a->p, u->host.p, u->host.n);
  if (u->port.p != NULL) {
    memcpy(a->p, "%3A", 3);
    a->p += 3;
    a->p += sp_pct_encode(a->p, u->port.p, u->port.n);
  }
  if (u->path.n == 0) {
    memcpy(a->p, "%2F", 3);
    a->p += 3;
  } else {
    a->p += sp_pct_encode(a->p, u->path.p, u->path.n);
  }
  *a->p++ = '&';
  for (i = 0; i < np; i++) {
    if (i > 0) {
      memcpy(a->p, "%26", 3);
      a->p += 3;
    }
    a->p += pct_encode_again(a->p, kv[i].k.p, kv[i].k.n);
    memcpy(a->p, "%3D", 3);
    a->p += 3;
    a->p += pct_encode_again(a->p, kv[i].v.p, kv[i].v.n);
  }
  out->n = (size_t)(a->p - out->p);
  return SP_SIGN_OK;
}

/* OAuth realm="...", oauth_x="...", ... (values already encoded) */
static int put_header(arena *a, sp_str realm, const sp_str *val,
                      sp_str *out) {
  size_t i, first = 1, need = 8 + 2 * realm.n + 16;
  for (i = 0; i < OA_N; i++)
    if (val[i].p != NULL) need += OA_NAMES[i].n + val[i].n + 6;
  if (!ROOM(a, need)) return SP_SIGN_ESPACE;
  out->p = a->p;
  memcpy(a->p, "OAuth ", 6);
  a->p += 6;
  if (realm.p != NULL) {
    memcpy(a->p, "realm=\"", 7);
    a->p += 7;
    for (i = 0; i < realm.n; i++) {  /* RFC 2617 quoted-string */
      if (realm.p[i] == '"' || realm.p[i] == '\\') *a->p++ = '\\';
      *a->p++ = realm.p[i];
    }
    *a->p++ = '"';
    first = 0;
  }
  for (i = 0; i < OA_N; i++) {
    if (val[i].p == NULL) continue;
    if (!first) {
      memcpy(a->p, ", ", 2);
      a->p += 2;
    }
    first = 0;
    memcpy(a->p, OA_NAMES[i].p, OA_NAMES[i].n);
    a->p += OA_NAMES[i].n;
    memcpy(a->p, "=\"", 2);
    a->p += 2;
    memcpy(a->p, val[i].p, val[i].n);
    a->p += val[i].n;
    *a->p++ = '"';
  }
  out->n = (size_t)(a->p - out->p);
  return SP_SIGN_OK;
}

/* enc(consumer_secret)&enc(token_secret) */
static sp_str put_key(arena *a, const sp_oauth1_req *r) {
  sp_str k = {NULL, 0};
  size_t need = 3 * r->consumer_secret.n + 1 + 3 * r->token_secret.n;
  if (!ROOM(a, need)) return k;
  k.p = a->p;
  a->p += sp_pct_encode(a->p, r->consumer_secret.p, r->consumer_secret.n);
  *a->p++ = '&';
  if (r->token_secret.p != NULL)
    a->p += sp_pct_encode(a->p, r->token_secret.p, r->token_secret.n);
  k.n = (size_t)(a->p - k.p);
  return k;
}

static int sign_base(arena *a, const sp_oauth1_req *r, sp_str base,
                     sp_str *sig) {
  unsigned char mac[SP_MD_MAX];
  sp_str key = put_key(a, r);
  int n, rc = SP_SIGN_OK;
  if (key.p == NULL) return SP_SIGN_ESPACE;
  if (r->signature_method == SP_OAUTH1_PLAINTEXT) {
    sig->p = a->p;
    sig->n = key.n;
    if (!put(a, key.p, key.n)) rc = SP_SIGN_ESPACE;
  } else {
    int md = r->signature_method == SP_OAUTH1_HMAC_SHA256 ? SP_MD_SHA256
                                                          : SP_MD_SHA1;
    n = sp_hmac(md, key.p, key.n, base.p, base.n, mac);
    if (n < 0) {
      rc = SP_SIGN_ECRYPTO;
    } else if (!ROOM(a, sp_base64_len((size_t)n))) {
      rc = SP_SIGN_ESPACE;
    } else {
      sig->p = a->p;
      sig->n = sp_base64_encode(a->p, mac, (size_t)n, 0);
      a->p += sig->n;
    }
  }
  OPENSSL_cleanse((void *)key.p, key.n);
  return rc;
}

/* the oauth_* values of r (before encoding), absent ones with p == NULL */
static void oauth_values(const sp_oauth1_req *r, sp_str *v) {
  memset(v, 0, OA_N * sizeof *v);
  v[OA_CALLBACK] = r->callback;
  v[OA_CONSUMER_KEY] = r->consumer_key;
  v[OA_SIGMETHOD] = SIG_NAMES[r->signature_method];
  v[OA_TOKEN] = r->token;
  v[OA_VERIFIER] = r->verifier;
  v[OA_VERSION] = r->version;
}

int sp_oauth1_sign(const sp_oauth1_req *r, void *work, size_t worksize,
                   sp_oauth1_res *res) {
  size_t need = sp_oauth1_worksize(r), np = 0, npairs, i;
  sp_str raw[OA_N], enc[OA_N];
  url_parts u;
  sp_kv *kv;
  arena a;
  int rc;
  memset(res, 0, sizeof *res);
  if (r->nparams > 0 && r->params == NULL) return SP_SIGN_EINPUT;
  if (need == 0) return SP_SIGN_ETOOBIG;
  if (work == NULL || worksize < need) return SP_SIGN_ESPACE;
  if (r->signature_method < 0 || r->signature_method > 2 ||
      r->consumer_key.p == NULL || r->consumer_secret.p == NULL ||
      r->url.p == NULL)
    return SP_SIGN_EINPUT;
  if (!check_method(r->method)) return SP_SIGN_EMETHOD;
  if (!check_realm(r->realm)) return SP_SIGN_EREALM;
  if ((rc = parse_url(r->url, &u)) != SP_SIGN_OK) return rc;
  npairs = r->nparams + count_amp(r->url) + OA_N;
  kv = (sp_kv *)work;
  a.p = (char *)work + npairs * sizeof(sp_kv);
  a.end = (char *)work + worksize;

  oauth_values(r, raw);
  raw[OA_NONCE] = r->nonce;
  raw[OA_TIMESTAMP] = r->timestamp;
  if (raw[OA_NONCE].p == NULL && (rc = gen_nonce(&a, &raw[OA_NONCE])) != 0)
    return rc;
  if (raw[OA_TIMESTAMP].p == NULL &&
      (rc = gen_timestamp(&a, &raw[OA_TIMESTAMP])) != 0)
    return rc;
  for (i = 0; i < OA_N; i++) {
    enc[i].p = NULL;
    enc[i].n = 0;
    if (i == OA_SIGNATURE || raw[i].p == NULL) continue;
    enc[i] = put_enc(&a, raw[i].p, raw[i].n);
    if (enc[i].p == NULL) return SP_SIGN_ESPACE;
    kv[np].k = OA_NAMES[i];
    kv[np++].v = enc[i];
  }
  for (i = 0; i < r->nparams; i++) {
    kv[np].k = put_enc(&a, r->params[i].k.p, r->params[i].k.n);
    kv[np].v = put_enc(&a, r->params[i].v.p, r->params[i].v.n);
    if (kv[np].k.p == NULL || kv[np].v.p == NULL) return SP_SIGN_ESPACE;
    np++;
  }
  if ((rc = add_query(&a, u.query, kv, &np)) != SP_SIGN_OK) return rc;
  kv_sort(kv, np);

  if ((rc = put_base_string(&a, r, &u, kv, np, &res->base_string)) != 0 ||
      (rc = sign_base(&a, r, res->base_string, &res->signature)) != 0)
    return rc;
  enc[OA_SIGNATURE] = put_enc(&a, res->signature.p, res->signature.n);
  if (enc[OA_SIGNATURE].p == NULL) return SP_SIGN_ESPACE;
  if ((rc = put_header(&a, r->realm, enc, &res->header)) != SP_SIGN_OK)
    return rc;
  res->nonce = raw[OA_NONCE];
  res->timestamp = raw[OA_TIMESTAMP];
  return SP_SIGN_OK;
}

int sp_oauth1_sign_buf(const sp_oauth1_req *r, sp_buf *b, sp_oauth1_res *res) {
  size_t need = sp_oauth1_worksize(r);
  memset(res, 0, sizeof *res);
  if (need == 0) return SP_SIGN_ETOOBIG;
  sp_buf_reset(b);
  if (sp_buf_reserve(b, need) != 0) return SP_SIGN_ESPACE;
  return sp_oauth1_sign(r, b->data, b->cap, res);
}

/* ---------------------------------------------------------------------- */
/* Facebook legacy REST signature                                          */
/* ---------------------------------------------------------------------- */

int sp_legacy_sig(sp_kv *kv, size_t n, sp_str secret, char out[33]) {
  unsigned char md[SP_MD_MAX];
  unsigned int len = 0;
  EVP_MD_CTX *c = md_begin(SP_MD_MD5);
  size_t i;
  if (c == NULL) return -1;
  kv_sort(kv, n);
  for (i = 0; i < n; i++) {
    if (!EVP_DigestUpdate(c, kv[i].k.p, kv[i].k.n) ||
        !EVP_DigestUpdate(c, "=", 1) ||
        !EVP_DigestUpdate(c, kv[i].v.p, kv[i].v.n))
      return -1;
  }
  if (!EVP_DigestUpdate(c, secret.p, secret.n) ||
      !EVP_DigestFinal_ex(c, md, &len) || len != 16)
    return -1;
  sp_hex_encode(out, md, 16);
  out[32] = '\0';
  return 0;
}
