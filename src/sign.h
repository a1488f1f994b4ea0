/*
** sign.h - pure C signing core (no lua.h): RFC 3986 percent-encoding,
** base64/base16, SHA-1/SHA-256/MD5, HMAC, CSPRNG bytes and OAuth 1.0a
** (RFC 5849) base string, signature and Authorization header.
** Every string is (pointer, length): embedded NUL bytes are data.
**
** Thread safety: every function may be called from any thread. Cached
** OpenSSL objects (fetched digests) are shared and immutable; HMAC
** contexts and the nonce byte pool are per thread. The pool is emptied in
** a fork child, so a forked process never repeats its parent's nonces.
** SPDX-License-Identifier: MIT
*/
#ifndef SP_SIGN_H
#define SP_SIGN_H

#include <stddef.h>

#include "buf.h"

/* a byte string; p == NULL means "absent" (an empty string is p != NULL) */
typedef struct {
  const char *p;
  size_t n;
} sp_str;

typedef struct {
  sp_str k, v;
} sp_kv;

/* result codes (0 = ok) */
enum {
  SP_SIGN_OK = 0,
  SP_SIGN_EURL = -1,      /* url is not absolute (scheme://host...) */
  SP_SIGN_ECHAR = -2,     /* url holds whitespace or control bytes */
  SP_SIGN_EPORT = -3,     /* url port is not a number 0-65535 */
  SP_SIGN_EQUERY = -4,    /* malformed %XX in the url query */
  SP_SIGN_EMETHOD = -5,   /* method is not an HTTP method name */
  SP_SIGN_EREALM = -6,    /* realm holds control bytes */
  SP_SIGN_ETOOBIG = -7,   /* inputs over SP_OAUTH1_MAX_INPUT */
  SP_SIGN_ESPACE = -8,    /* work area too small (caller bug) */
  SP_SIGN_ECRYPTO = -9,   /* OpenSSL failed */
  SP_SIGN_EINPUT = -10,   /* malformed input (decoders) */
  SP_SIGN_EPROTO = -11    /* params hold oauth_signature or a contradicting oauth_* */
};

/* a short static description of a result code; never holds input data */
const char *sp_sign_strerror(int code);

/* digests / HMAC algorithms */
enum { SP_MD_SHA1 = 0, SP_MD_SHA256 = 1, SP_MD_MD5 = 2 };
#define SP_MD_MAX 64 /* >= EVP_MAX_MD_SIZE for the algorithms above */

/* ---- encodings ---- */

/* RFC 3986 percent-encoding, unreserved bytes kept, uppercase hex.
** dst needs 3 * n bytes; returns the output length. */
size_t sp_pct_encode(char *dst, const char *src, size_t n);

/* Percent-decoding (hex digits of either case). form != 0 also turns '+'
** into a space (application/x-www-form-urlencoded). dst needs n bytes and
** may equal src. Returns the output length, or (size_t)-1 on a malformed
** '%' sequence with *bad set to its byte offset. */
size_t sp_pct_decode(char *dst, const char *src, size_t n, int form,
                     size_t *bad);

/* base64 (RFC 4648 §4, padded) or base64url (§5, no padding) when url != 0.
** dst needs sp_base64_len(n) bytes; returns the output length. */
#define sp_base64_len(n) (4 * (((n) + 2) / 3))
size_t sp_base64_encode(char *dst, const unsigned char *src, size_t n,
                        int url);

/* Decodes base64 in either alphabet ('+/' or '-_'), padding optional but
** checked when present, no whitespace. dst needs 3 * (n / 4) + 3 bytes.
** Returns the output length, or (size_t)-1 with *bad = byte offset. */
size_t sp_base64_decode(unsigned char *dst, const char *src, size_t n,
                        size_t *bad);

/* lowercase hex; dst needs 2 * n bytes */
void sp_hex_encode(char *dst, const unsigned char *src, size_t n);

/* ---- digests, HMAC, random ---- */

/* raw digest of data into out (SP_MD_MAX bytes); returns its length or -1 */
int sp_digest(int md, const void *data, size_t n, unsigned char *out);

/* raw HMAC into out (SP_MD_MAX bytes); returns its length or -1 */
int sp_hmac(int md, const void *key, size_t keylen, const void *data,
            size_t n, unsigned char *out);

/* n bytes from the OpenSSL CSPRNG; 0 or -1 */
int sp_random(void *dst, size_t n);

/* ---- OAuth 1.0a (RFC 5849) ---- */

enum { SP_OAUTH1_HMAC_SHA1 = 0, SP_OAUTH1_HMAC_SHA256 = 1,
       SP_OAUTH1_PLAINTEXT = 2 };

/* sum of all input lengths above which sp_oauth1_sign refuses */
#define SP_OAUTH1_MAX_INPUT ((size_t)16 * 1024 * 1024)

typedef struct {
  sp_str method;           /* e.g. "POST"; uppercased in the base string */
  sp_str url;              /* absolute; its query is signed too */
  const sp_kv *params;     /* form-body parameters, raw (not encoded) */
  size_t nparams;
  sp_str consumer_key, consumer_secret;
  sp_str token, token_secret;       /* optional */
  sp_str nonce, timestamp;          /* absent: generated */
  sp_str realm;                     /* optional, header only, not signed */
  sp_str version;                   /* absent: no oauth_version */
  sp_str callback, verifier;        /* optional oauth_callback/_verifier */
  int signature_method;             /* SP_OAUTH1_* */
} sp_oauth1_req;

/* every result points into the caller's work area */
typedef struct {
  sp_str header;       /* OAuth realm="...", oauth_consumer_key="...", ... */
  sp_str signature;    /* oauth_signature before header encoding */
  sp_str base_string;  /* the signature base string (RFC 5849 §3.4.1) */
  sp_str nonce, timestamp;
} sp_oauth1_res;

/*
** Protocol parameters given among params[0..*n) (oauth_nonce, oauth_timestamp,
** oauth_version, oauth_callback, oauth_verifier, oauth_signature_method,
** oauth_consumer_key, oauth_token) replace what r would compute: they are moved
** into r (values point into params) and removed from params, so that none is
** signed twice. An oauth_consumer_key or oauth_token other than r's, an unknown
** signature method, or an oauth_signature gives SP_SIGN_EPROTO (params then
** unchanged). Other names stay ordinary parameters.
*/
int sp_oauth1_take_protocol(sp_oauth1_req *r, sp_kv *params, size_t *n);

/* An upper bound of the work area sp_oauth1_sign needs for r, or 0 when the
** inputs exceed SP_OAUTH1_MAX_INPUT. Cheap: it scans only the url. */
size_t sp_oauth1_worksize(const sp_oauth1_req *r);

/* Signs r using work (worksize bytes, aligned like malloc's result, at
** least sp_oauth1_worksize(r)). No heap allocation except OpenSSL's
** first-use setup per thread. Returns SP_SIGN_OK or an SP_SIGN_E* code.
** Key material written into work is wiped before returning. */
int sp_oauth1_sign(const sp_oauth1_req *r, void *work, size_t worksize,
                   sp_oauth1_res *res);

/* Same with a heap work area held in b (for C callers and tests); the
** results point into b->data and stay valid until b changes. */
int sp_oauth1_sign_buf(const sp_oauth1_req *r, sp_buf *b, sp_oauth1_res *res);

/* Facebook legacy REST "sig": lowercase hex MD5 of k=v for every pair in
** byte order of k (kv is sorted in place), then the secret. out: 33 bytes,
** NUL-terminated. Returns 0 or -1. */
int sp_legacy_sig(sp_kv *kv, size_t n, sp_str secret, char out[33]);

#endif
