/*
** fuzz_oauth.c - libFuzzer target for the pure C signing core (sign.c).
** Input: a flags byte, then '\n'-separated fields: method, url,
** consumer key, consumer secret, token, token secret, realm, then
** "key=value" form parameters (raw bytes). Every output buffer is
** allocated at exactly the documented size, so ASan sees any overrun.
** Also runs the decoders on the raw input and checks round trips.
** SPDX-License-Identifier: MIT
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PARAMS 64

#define ASSERT(c) do { if (!(c)) __builtin_trap(); } while (0)

typedef struct {
  const char *p;
  size_t left;
  int done;
} cursor;

/* the next '\n'-terminated field; p == NULL once the input is used up */
static sp_str next_field(cursor *c) {
  sp_str s = {NULL, 0};
  const char *nl;
  if (c->done) return s;
  nl = memchr(c->p, '\n', c->left);
  s.p = c->p;
  if (nl == NULL) {
    s.n = c->left;
    c->done = 1;
    return s;
  }
  s.n = (size_t)(nl - c->p);
  c->p = nl + 1;
  c->left -= s.n + 1;
  return s;
}

/* percent, form and base64 decoders, and encode -> decode round trips */
static void codecs(const char *in, size_t n) {
  char *enc = malloc(3 * n + 1), *dec = malloc(n + 1), *b64;
  unsigned char *raw = malloc(n / 4 * 3 + 3);
  size_t len, back, bad;
  int form;
  if (enc == NULL || dec == NULL || raw == NULL) goto done;
  for (form = 0; form < 2; form++) {
    len = sp_pct_decode(dec, in, n, form, &bad);
    ASSERT(len == (size_t)-1 ? bad < n : len <= n);
  }
  len = sp_pct_encode(enc, in, n);
  ASSERT(len <= 3 * n);
  back = sp_pct_decode(dec, enc, len, 0, &bad);
  ASSERT(back == n && memcmp(dec, in, n) == 0);
  back = sp_pct_decode(dec, enc, len, 1, &bad);      /* '+' was encoded */
  ASSERT(back == n && memcmp(dec, in, n) == 0);

  len = sp_base64_decode(raw, in, n, &bad);
  ASSERT(len == (size_t)-1 ? bad <= n : len <= n / 4 * 3 + 3);
  b64 = malloc(sp_base64_len(n) + 1);
  if (b64 != NULL) {
    int url;
    for (url = 0; url < 2; url++) {
      unsigned char *again;
      len = sp_base64_encode(b64, (const unsigned char *)in, n, url);
      ASSERT(len <= sp_base64_len(n));
      again = malloc(len / 4 * 3 + 3);
      if (again != NULL) {
        back = sp_base64_decode(again, b64, len, &bad);
        ASSERT(back == n && memcmp(again, in, n) == 0);
        free(again);
      }
    }
    free(b64);
  }
done:
  free(enc);
  free(dec);
  free(raw);
}

/* the base string is METHOD&URI&PARAMS with only unreserved bytes and %XX */
static void check_base_string(sp_str b) {
  size_t i, amps = 0;
  for (i = 0; i < b.n; i++) {
    unsigned char c = (unsigned char)b.p[i];
    if (c == '&') amps++;
    else if (c == '%') ASSERT(i + 2 < b.n);
    else ASSERT((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                c == '_' || c == '~');
  }
  ASSERT(amps == 2);
}

static void oauth(const char *in, size_t n) {
  cursor c;
  unsigned flags;
  sp_kv params[MAX_PARAMS];
  sp_oauth1_req r;
  sp_oauth1_res res, res2;
  size_t need, i;
  char *work, *copy;
  int rc;
  if (n == 0) return;
  flags = (unsigned char)in[0];
  c.p = in + 1;
  c.left = n - 1;
  c.done = 0;
  memset(&r, 0, sizeof r);
  r.method = next_field(&c);
  r.url = next_field(&c);
  r.consumer_key = next_field(&c);
  r.consumer_secret = next_field(&c);
  r.token = next_field(&c);
  r.token_secret = next_field(&c);
  r.realm = next_field(&c);
  if (!(flags & 1)) r.token.p = NULL;
  if (!(flags & 2)) r.realm.p = NULL;
  if (flags & 4) { r.version.p = "1.0"; r.version.n = 3; }
  if (flags & 8) { r.callback.p = "oob"; r.callback.n = 3; }
  r.signature_method = (int)((flags >> 4) % 3);
  if (!(flags & 64)) {
    r.nonce.p = "fixednonce";
    r.nonce.n = 10;
    r.timestamp.p = "1700000000";
    r.timestamp.n = 10;
  }
  while (r.nparams < MAX_PARAMS) {
    sp_str f = next_field(&c);
    const char *eq;
    if (f.p == NULL) break;
    eq = memchr(f.p, '=', f.n);
    params[r.nparams].k.p = f.p;
    params[r.nparams].k.n = eq ? (size_t)(eq - f.p) : f.n;
    params[r.nparams].v.p = eq ? eq + 1 : f.p + f.n;
    params[r.nparams].v.n = eq ? f.n - (size_t)(eq - f.p) - 1 : 0;
    r.nparams++;
  }
  r.params = params;
  if (r.method.p == NULL || r.url.p == NULL || r.consumer_key.p == NULL ||
      r.consumer_secret.p == NULL)
    return;
  need = sp_oauth1_worksize(&r);
  ASSERT(need > 0);                      /* inputs are far below the cap */
  work = malloc(need);
  if (work == NULL) return;
  rc = sp_oauth1_sign(&r, work, need, &res);
  ASSERT(rc <= 0 && rc >= SP_SIGN_EINPUT && rc != SP_SIGN_ESPACE);
  if (rc == SP_SIGN_OK) {
    check_base_string(res.base_string);
    ASSERT(res.header.n > 6 && memcmp(res.header.p, "OAuth ", 6) == 0);
    if (r.signature_method == SP_OAUTH1_HMAC_SHA1) ASSERT(res.signature.n == 28);
    if (r.signature_method == SP_OAUTH1_HMAC_SHA256) ASSERT(res.signature.n == 44);
    if (!(flags & 64)) {                 /* deterministic: sign again */
      copy = malloc(res.base_string.n + res.signature.n + 1);
      if (copy != NULL) {
        memcpy(copy, res.base_string.p, res.base_string.n);
        memcpy(copy + res.base_string.n, res.signature.p, res.signature.n);
        rc = sp_oauth1_sign(&r, work, need, &res2);
        ASSERT(rc == SP_SIGN_OK && res2.base_string.n == res.base_string.n &&
               res2.signature.n == res.signature.n &&
               memcmp(copy, res2.base_string.p, res2.base_string.n) == 0 &&
               memcmp(copy + res.base_string.n, res2.signature.p,
                      res2.signature.n) == 0);
        free(copy);
      }
    }
  }
  free(work);
  /* legacy sig over the same parameters */
  {
    char hex[33];
    ASSERT(sp_legacy_sig(params, r.nparams, r.consumer_secret, hex) == 0);
    for (i = 0; i < 32; i++)
      ASSERT((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f'));
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  codecs((const char *)data, size);
  oauth((const char *)data, size);
  return 0;
}
