/*
** test_sign.c - ctest for the pure C signing core (sign.c), no Lua.
** Published vectors from shared/VECTORS.md: RFC 5849 base strings, the X
** docs example, RFC 2202/4231 HMAC, RFC 4648 base64, percent-encoding.
** Plain checks with a count; exits non-zero on any failure.
** SPDX-License-Identifier: MIT
*/
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sign.h"

static int checks, failures;

#define CHECK(cond) check((cond), #cond, __LINE__)

static void check(int ok, const char *what, int line) {
  checks++;
  if (!ok) {
    failures++;
    fprintf(stderr, "test_sign.c:%d: check failed: %s\n", line, what);
  }
}

static sp_str S(const char *s) {
  sp_str r;
  r.p = s;
  r.n = strlen(s);
  return r;
}

static int eq(sp_str a, const char *b) {
  return a.p != NULL && a.n == strlen(b) && memcmp(a.p, b, a.n) == 0;
}

static void unhex(unsigned char *out, const char *hex) {
  size_t i;
  for (i = 0; hex[2 * i]; i++) {
    unsigned v;
    sscanf(hex + 2 * i, "%2x", &v);
    out[i] = (unsigned char)v;
  }
}

static void test_percent(void) {
  static const char *const rows[][2] = {
    {"abcABC123", "abcABC123"}, {"-._~", "-._~"}, {"%", "%25"}, {"+", "%2B"},
    {"&=*", "%26%3D%2A"}, {"\n", "%0A"}, {" ", "%20"}, {"\x7f", "%7F"},
    {"\xc2\x80", "%C2%80"}, {"\xe3\x80\x81", "%E3%80%81"},
    {"Ladies + Gentlemen", "Ladies%20%2B%20Gentlemen"},
    {"Dogs, Cats & Mice", "Dogs%2C%20Cats%20%26%20Mice"},
    {"\xe2\x98\x83", "%E2%98%83"}, {"!*'()", "%21%2A%27%28%29"}};
  char out[128], back[128];
  size_t i, n, bad;
  for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    n = sp_pct_encode(out, rows[i][0], strlen(rows[i][0]));
    CHECK(n == strlen(rows[i][1]) && memcmp(out, rows[i][1], n) == 0);
    n = sp_pct_decode(back, out, n, 0, &bad);
    CHECK(n == strlen(rows[i][0]) && memcmp(back, rows[i][0], n) == 0);
  }
  n = sp_pct_decode(back, "a+b%2c%2B", 9, 0, &bad);
  CHECK(n == 5 && memcmp(back, "a+b,+", 5) == 0);
  n = sp_pct_decode(back, "a+b%2c%2B", 9, 1, &bad);
  CHECK(n == 5 && memcmp(back, "a b,+", 5) == 0);
  CHECK(sp_pct_decode(back, "ab%4", 4, 0, &bad) == (size_t)-1 && bad == 2);
  CHECK(sp_pct_decode(back, "%zz", 3, 1, &bad) == (size_t)-1 && bad == 0);
}

static void test_base64(void) {
  static const char *const rows[][3] = {
    {"", "", ""}, {"f", "Zg==", "66"}, {"fo", "Zm8=", "666f"},
    {"foo", "Zm9v", "666f6f"}, {"foob", "Zm9vYg==", "666f6f62"},
    {"fooba", "Zm9vYmE=", "666f6f6261"}, {"foobar", "Zm9vYmFy", "666f6f626172"}};
  char out[64];
  unsigned char back[64];
  size_t i, n, bad;
  for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    size_t len = strlen(rows[i][0]);
    n = sp_base64_encode(out, (const unsigned char *)rows[i][0], len, 0);
    CHECK(n == strlen(rows[i][1]) && memcmp(out, rows[i][1], n) == 0);
    n = sp_base64_decode(back, rows[i][1], strlen(rows[i][1]), &bad);
    CHECK(n == len && memcmp(back, rows[i][0], n) == 0);
    sp_hex_encode(out, (const unsigned char *)rows[i][0], len);
    CHECK(memcmp(out, rows[i][2], 2 * len) == 0);
  }
  n = sp_base64_encode(out, (const unsigned char *)"\xfb\xff\xbf", 3, 1);
  CHECK(n == 4 && memcmp(out, "-_-_", 4) == 0);
  n = sp_base64_encode(out, (const unsigned char *)"f", 1, 1);
  CHECK(n == 2 && memcmp(out, "Zg", 2) == 0);
  CHECK(sp_base64_decode(back, "Zg=", 3, &bad) == (size_t)-1);
  CHECK(sp_base64_decode(back, "Zm9v!", 5, &bad) == (size_t)-1 && bad == 4);
  CHECK(sp_base64_decode(back, "Z", 1, &bad) == (size_t)-1);
}

static void test_hmac(void) {
  /* RFC 2202 cases 1, 2, 6; RFC 4231 cases 1, 2, 6 */
  unsigned char key[131], mac[SP_MD_MAX], want[32];
  int n;
  memset(key, 0x0b, 20);
  n = sp_hmac(SP_MD_SHA1, key, 20, "Hi There", 8, mac);
  unhex(want, "b617318655057264e28bc0b6fb378c8ef146be00");
  CHECK(n == 20 && memcmp(mac, want, 20) == 0);
  n = sp_hmac(SP_MD_SHA256, key, 20, "Hi There", 8, mac);
  unhex(want, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  CHECK(n == 32 && memcmp(mac, want, 32) == 0);
  n = sp_hmac(SP_MD_SHA1, "Jefe", 4, "what do ya want for nothing?", 28, mac);
  unhex(want, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
  CHECK(n == 20 && memcmp(mac, want, 20) == 0);
  n = sp_hmac(SP_MD_SHA256, "Jefe", 4, "what do ya want for nothing?", 28, mac);
  unhex(want, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK(n == 32 && memcmp(mac, want, 32) == 0);
  memset(key, 0xaa, sizeof key);
  n = sp_hmac(SP_MD_SHA1, key, 80,
              "Test Using Larger Than Block-Size Key - Hash Key First", 54, mac);
  unhex(want, "aa4ae5e15272d00e95705637ce8a3b55ed402112");
  CHECK(n == 20 && memcmp(mac, want, 20) == 0);
  n = sp_hmac(SP_MD_SHA256, key, 131,
              "Test Using Larger Than Block-Size Key - Hash Key First", 54, mac);
  unhex(want, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  CHECK(n == 32 && memcmp(mac, want, 32) == 0);
  /* same key twice (cached context), then SHA-256 of "abc" (FIPS 180-2) */
  n = sp_hmac(SP_MD_SHA256, key, 131,
              "Test Using Larger Than Block-Size Key - Hash Key First", 54, mac);
  CHECK(n == 32 && memcmp(mac, want, 32) == 0);
  n = sp_digest(SP_MD_SHA256, "abc", 3, mac);
  unhex(want, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(n == 32 && memcmp(mac, want, 32) == 0);
}

static sp_oauth1_req x_request(const char *url, sp_kv *status) {
  sp_oauth1_req r;
  memset(&r, 0, sizeof r);
  r.method = S("POST");
  r.url = S(url);
  status->k = S("status");
  status->v = S("Hello Ladies + Gentlemen, a signed OAuth request!");
  r.params = status;
  r.nparams = 1;
  r.consumer_key = S("xvz1evFS4wEEPTGEFPHBog");
  r.consumer_secret = S("kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw");
  r.token = S("370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb");
  r.token_secret = S("LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE");
  r.nonce = S("kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg");
  r.timestamp = S("1318622958");
  r.version = S("1.0");
  r.signature_method = SP_OAUTH1_HMAC_SHA1;
  return r;
}

static void test_x_example(void) {
  static const char *const hosts[][2] = {
    {"https://api.x.com/1.1/statuses/update.json?include_entities=true",
     "Ls93hJiZbQ3akF3HF3x1Bz8/zU4="},
    {"https://api.twitter.com/1.1/statuses/update.json?include_entities=true",
     "hCtSmYh+iHYCEqBWrE7C7hYmtUk="},
    {"https://api.twitter.com/1/statuses/update.json?include_entities=true",
     "tnnArxj06cWHq44gCs1OSKk/jLY="}};
  sp_buf b;
  sp_kv status;
  sp_oauth1_res res;
  size_t i;
  sp_buf_init(&b);
  for (i = 0; i < 3; i++) {
    sp_oauth1_req r = x_request(hosts[i][0], &status);
    CHECK(sp_oauth1_sign_buf(&r, &b, &res) == SP_SIGN_OK);
    CHECK(eq(res.signature, hosts[i][1]));
    if (i == 0)
      CHECK(eq(res.base_string,
        "POST&https%3A%2F%2Fapi.x.com%2F1.1%2Fstatuses%2Fupdate.json&"
        "include_entities%3Dtrue%26oauth_consumer_key%3Dxvz1evFS4wEEPTGEFPHBog"
        "%26oauth_nonce%3DkYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"
        "%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1318622958"
        "%26oauth_token%3D370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb"
        "%26oauth_version%3D1.0%26status%3DHello%2520Ladies%2520%252B%2520"
        "Gentlemen%252C%2520a%2520signed%2520OAuth%2520request%2521"));
    if (i == 2)
      CHECK(eq(res.header,
        "OAuth oauth_consumer_key=\"xvz1evFS4wEEPTGEFPHBog\", "
        "oauth_nonce=\"kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg\", "
        "oauth_signature=\"tnnArxj06cWHq44gCs1OSKk%2FjLY%3D\", "
        "oauth_signature_method=\"HMAC-SHA1\", oauth_timestamp=\"1318622958\", "
        "oauth_token=\"370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb\", "
        "oauth_version=\"1.0\""));
  }
  /* generated nonce and timestamp: present and different per call */
  {
    sp_oauth1_req r = x_request(hosts[0][0], &status);
    char first[64];
    size_t n1;
    r.nonce.p = NULL;
    r.timestamp.p = NULL;
    CHECK(sp_oauth1_sign_buf(&r, &b, &res) == SP_SIGN_OK);
    n1 = res.nonce.n;
    CHECK(n1 >= 32 && n1 < sizeof first);
    memcpy(first, res.nonce.p, n1 < sizeof first ? n1 : sizeof first);
    CHECK(res.timestamp.n >= 10);
    CHECK(sp_oauth1_sign_buf(&r, &b, &res) == SP_SIGN_OK);
    CHECK(!(res.nonce.n == n1 && memcmp(res.nonce.p, first, n1) == 0));
  }
  sp_buf_free(&b);
}

/* protocol parameters among params replace the computed ones, never signed twice */
static void test_take_protocol(void) {
  static const char *const url =
    "https://api.x.com/1.1/statuses/update.json?include_entities=true";
  sp_buf b;
  sp_kv status, kv[4];
  sp_oauth1_req r = x_request(url, &status);
  sp_oauth1_res res;
  size_t n = 4;
  sp_buf_init(&b);
  kv[0] = status;
  kv[1].k = S("oauth_version"); kv[1].v = S("1.0");
  kv[2].k = S("oauth_nonce"); kv[2].v = r.nonce;
  kv[3].k = S("oauth_consumer_key"); kv[3].v = r.consumer_key;
  r.nonce.p = NULL;
  r.nonce.n = 0;
  r.version.p = NULL;
  r.version.n = 0;
  CHECK(sp_oauth1_take_protocol(&r, kv, &n) == SP_SIGN_OK);
  CHECK(n == 1 && eq(kv[0].k, "status"));
  CHECK(eq(r.version, "1.0") && eq(r.nonce, "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"));
  r.params = kv;
  r.nparams = n;
  CHECK(sp_oauth1_sign_buf(&r, &b, &res) == SP_SIGN_OK);
  CHECK(eq(res.signature, "Ls93hJiZbQ3akF3HF3x1Bz8/zU4="));
  /* refusals leave params as they were */
  kv[1].k = S("oauth_signature"); kv[1].v = S("x");
  n = 2;
  CHECK(sp_oauth1_take_protocol(&r, kv, &n) == SP_SIGN_EPROTO && n == 2);
  kv[1].k = S("oauth_token"); kv[1].v = S("someone-else");
  CHECK(sp_oauth1_take_protocol(&r, kv, &n) == SP_SIGN_EPROTO && n == 2);
  kv[1].k = S("oauth_signature_method"); kv[1].v = S("PLAINTEXT");
  CHECK(sp_oauth1_take_protocol(&r, kv, &n) == SP_SIGN_EPROTO && n == 2);
  sp_buf_free(&b);
}

static void test_rfc5849(void) {
  sp_oauth1_req r;
  sp_oauth1_res res;
  sp_kv body[2];
  sp_buf b;
  sp_buf_init(&b);
  /* §1.2 resource request: with realm, without oauth_version */
  memset(&r, 0, sizeof r);
  r.method = S("GET");
  r.url = S("http://photos.example.net/photos?file=vacation.jpg&size=original");
  r.consumer_key = S("dpf43f3p2l4k3l03");
  r.consumer_secret = S("kd94hf93k423kf44");
  r.token = S("nnch734d00sl2jdk");
  r.token_secret = S("pfkkdhi9sl3r4s00");
  r.timestamp = S("137131202");
  r.nonce = S("chapoH");
  r.realm = S("Photos");
  CHECK(sp_oauth1_sign_buf(&r, &b, &res) == SP_SIGN_OK);
  CHECK(eq(res.signature, "MdpQcU8iPSUjWoN/UDMsK2sui9I="));
  CHECK(res.header.n > 22 && memcmp(res.header.p, "OAuth realm=\"Photos\", ", 22) == 0);
  r.version = S("1.0");
  CHECK(sp_oauth1_sign_buf(&r, &b, &res) == SP_SIGN_OK);
  CHECK(eq(res.signature, "1IAE9RzK+DqSqVTdQ/0zWANXVzs="));

  /* §3.4.1 base string: query and form body, duplicates, empty values */
  memset(&r, 0, sizeof r);
  r.method = S("POST");
  r.url = S("http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b");
  body[0].k = S("c2");
  body[0].v = S("");
  body[1].k = S("a3");
  body[1].v = S("2 q");
  r.params = body;
  r.nparams = 2;
  r.consumer_key = S("9djdj82h48djs9d2");
  r.consumer_secret = S("x");
  r.token = S("kkk9d7dh3k39sjv7");
  r.timestamp = S("137131201");
  r.nonce = S("7d8f3e4a");
  CHECK(sp_oauth1_sign_buf(&r, &b, &res) == SP_SIGN_OK);
  CHECK(eq(res.base_string,
    "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q"
    "%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key"
    "%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method"
    "%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token"
    "%3Dkkk9d7dh3k39sjv7"));

  /* §3.4.1.2 base string URIs */
  r.params = NULL;
  r.nparams = 0;
  r.url = S("http://EXAMPLE.COM:80/r%20v/X?id=123");
  CHECK(sp_oauth1_sign_buf(&r, &b, &res) == SP_SIGN_OK);
  CHECK(res.base_string.n > 40 && memcmp(res.base_string.p,
        "POST&http%3A%2F%2Fexample.com%2Fr%2520v%2FX&", 44) == 0);
  r.url = S("https://www.example.net:8080/?q=1");
  CHECK(sp_oauth1_sign_buf(&r, &b, &res) == SP_SIGN_OK);
  CHECK(res.base_string.n > 40 && memcmp(res.base_string.p,
        "POST&https%3A%2F%2Fwww.example.net%3A8080%2F&", 45) == 0);

  /* malformed input */
  r.url = S("example.com/x");
  CHECK(sp_oauth1_sign_buf(&r, &b, &res) == SP_SIGN_EURL);
  r.url = S("http://h:70000/");
  CHECK(sp_oauth1_sign_buf(&r, &b, &res) == SP_SIGN_EPORT);
  r.url = S("http://h/?a=%x");
  CHECK(sp_oauth1_sign_buf(&r, &b, &res) == SP_SIGN_EQUERY);
  r.url = S("http://h/ x");
  CHECK(sp_oauth1_sign_buf(&r, &b, &res) == SP_SIGN_ECHAR);
  r.url = S("http://h/");
  r.method = S("GE T");
  CHECK(sp_oauth1_sign_buf(&r, &b, &res) == SP_SIGN_EMETHOD);
  /* a too-small work area is refused, not overrun */
  {
    char small[64];
    r.method = S("GET");
    CHECK(sp_oauth1_sign(&r, small, sizeof small, &res) == SP_SIGN_ESPACE);
  }
  sp_buf_free(&b);
}

static void test_legacy(void) {
  sp_kv kv[2];
  char out[33];
  kv[0].k = S("b");
  kv[0].v = S("2");
  kv[1].k = S("a");
  kv[1].v = S("1");
  /* md5("a=1b=2s") */
  CHECK(sp_legacy_sig(kv, 2, S("s"), out) == 0);
  {
    unsigned char md[SP_MD_MAX];
    char hex[33];
    int n = sp_digest(SP_MD_MD5, "a=1b=2s", 7, md);
    CHECK(n == 16);
    sp_hex_encode(hex, md, 16);
    hex[32] = '\0';
    CHECK(strcmp(out, hex) == 0);
  }
}

/* per-thread HMAC contexts and nonce pools: sign from several threads at
** once (each thread's state is freed when it exits) */
static void *signer(void *arg) {
  sp_kv status;
  sp_oauth1_res res;
  sp_buf b;
  int i, *bad = (int *)arg;
  sp_buf_init(&b);
  for (i = 0; i < 2000; i++) {
    sp_oauth1_req r = x_request(
      "https://api.twitter.com/1.1/statuses/update.json?include_entities=true",
      &status);
    if (i % 2) {
      r.consumer_secret = S("another secret");   /* re-key every call */
      r.nonce.p = NULL;
      if (sp_oauth1_sign_buf(&r, &b, &res) != SP_SIGN_OK) (*bad)++;
      continue;
    }
    if (sp_oauth1_sign_buf(&r, &b, &res) != SP_SIGN_OK ||
        !eq(res.signature, "hCtSmYh+iHYCEqBWrE7C7hYmtUk="))
      (*bad)++;
  }
  sp_buf_free(&b);
  return NULL;
}

static void test_threads(void) {
  pthread_t t[4];
  int bad[4] = {0, 0, 0, 0}, i;
  for (i = 0; i < 4; i++) CHECK(pthread_create(&t[i], NULL, signer, &bad[i]) == 0);
  for (i = 0; i < 4; i++) {
    CHECK(pthread_join(t[i], NULL) == 0);
    CHECK(bad[i] == 0);
  }
}

int main(void) {
  test_percent();
  test_base64();
  test_hmac();
  test_x_example();
  test_take_protocol();
  test_rfc5849();
  test_legacy();
  test_threads();
  printf("test_sign: %d checks, %d failed\n", checks, failures);
  return failures == 0 ? 0 : 1;
}
