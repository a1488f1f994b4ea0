/*
** json.c - JSON codec straight to and from Lua values
**
** Decode: one pass over the text with no recursion and no tree. Values are
** pushed onto the Lua stack; a container's elements wait on the stack above
** a placeholder slot until it closes (or a chunk fills), and only then is the
** table created, with the exact size, and filled. Strings without escapes are
** pushed straight from the input; escaped ones are unescaped into a buffer on
** the C stack, or into a GC-owned userdata when longer, so nothing here holds
** C heap memory while Lua may raise.
**
** Encode: a recursive walk (depth bounded by SP_JSON_MAX_DEPTH) with raw
** table access only, so no Lua code runs, into an sp_buf the caller owns.
**
** Strict RFC 8259. Integers exact: int64 on Lua 5.3+, |n| <= 2^53 on 5.1 and
** LuaJIT; an integer lexeme outside that range decodes as its decimal string.
** Floats print in the shortest form that reads back to the same double.
** SPDX-License-Identifier: MIT
*/
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "compat.h"
#include "json.h"

/* lua_Integer holds every int64 (Lua 5.3+ with 64-bit integers) */
#if LUA_VERSION_NUM >= 503 && defined(LUA_MAXINTEGER) && \
    LUA_MAXINTEGER == 9223372036854775807LL
#define SP_INT64 1
#else
#define SP_INT64 0
#endif

#define TWO53 9007199254740992.0 /* 2^53: doubles are exact integers below */

/* 1 for bytes a string scan stops at: controls, '"', '\\', non-ASCII */
static const unsigned char str_stop[256] = {
  1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
  0,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
  0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,0,0,0,
  0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
  1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
  1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
  1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
  1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
};

/* 1 for JSON whitespace: space, tab, LF, CR */
static const unsigned char ws_tab[256] = {
  0,0,0,0,0,0,0,0,0,1,1,0,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
  1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
  0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
  0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
  0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
  0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
  0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
  0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
};

static const char digits2[] =
  "00010203040506070809101112131415161718192021222324"
  "25262728293031323334353637383940414243444546474849"
  "50515253545556575859606162636465666768697071727374"
  "75767778798081828384858687888990919293949596979899";

/* exact powers of ten as doubles (10^22 is the last exact one) */
static const double p10[] = {
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
  1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

static uint64_t load64(const unsigned char *p) {
  uint64_t x;
  memcpy(&x, p, sizeof x);
  return x;
}

/* nonzero when any of the 8 bytes is a str_stop byte (SWAR) */
static int swar_stop(uint64_t x) {
  uint64_t q = x ^ (ONES * '"');
  uint64_t s = x ^ (ONES * '\\');
  uint64_t t = (x - ONES * 0x20) & ~x;  /* some byte < 0x20 */
  t |= (q - ONES) & ~q;                 /* some byte == '"' */
  t |= (s - ONES) & ~s;                 /* some byte == '\\' */
  return ((t | x) & HIGHS) != 0;        /* ... or >= 0x80 */
}

/* first str_stop byte at or after p, or end */
#if defined(__SSE2__) && (defined(__GNUC__) || defined(__clang__))
/* 16 bytes at a time; as signed bytes, "< 0x20" also catches >= 0x80 */
static const unsigned char *scan_plain(const unsigned char *p,
                                       const unsigned char *end) {
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i bslash = _mm_set1_epi8('\\');
  const __m128i space = _mm_set1_epi8(0x20);
  while (end - p >= 16) {
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote),
                                          _mm_cmpeq_epi8(x, bslash)),
                             _mm_cmplt_epi8(x, space));
    unsigned bits = (unsigned)_mm_movemask_epi8(m);
    if (bits != 0) return p + __builtin_ctz(bits);
    p += 16;
  }
  while (end - p >= 8 && !swar_stop(load64(p))) p += 8;
  while (p < end && !str_stop[*p]) p++;
  return p;
}
#else
static const unsigned char *scan_plain(const unsigned char *p,
                                       const unsigned char *end) {
  while (end - p >= 8 && !swar_stop(load64(p))) p += 8;
  while (p < end && !str_stop[*p]) p++;
  return p;
}
#endif

/*
** Length (2-4) of the well-formed UTF-8 sequence at p (p[0] >= 0x80), or 0:
** no overlongs, no surrogates (U+D800..DFFF), nothing above U+10FFFF.
*/
static int utf8_len(const unsigned char *p, const unsigned char *end) {
  unsigned c = p[0];
  ptrdiff_t room = end - p;
  if (c < 0xC2) return 0;
  if (c < 0xE0) return (room >= 2 && (p[1] & 0xC0) == 0x80) ? 2 : 0;
  if (c < 0xF0) {
    if (room < 3 || (p[2] & 0xC0) != 0x80) return 0;
    if (c == 0xE0) return (p[1] >= 0xA0 && p[1] <= 0xBF) ? 3 : 0;
    if (c == 0xED) return (p[1] >= 0x80 && p[1] <= 0x9F) ? 3 : 0;
    return ((p[1] & 0xC0) == 0x80) ? 3 : 0;
  }
  if (c < 0xF5) {
    if (room < 4 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) return 0;
    if (c == 0xF0) return (p[1] >= 0x90 && p[1] <= 0xBF) ? 4 : 0;
    if (c == 0xF4) return (p[1] >= 0x80 && p[1] <= 0x8F) ? 4 : 0;
    return ((p[1] & 0xC0) == 0x80) ? 4 : 0;
  }
  return 0;
}

size_t sp_utf8_count(const char *s, size_t len, size_t *bad) {
  const unsigned char *p = (const unsigned char *)s, *end = p + len;
  size_t n = 0;
  while (p < end) {
    if (*p < 0x80) {
      p++;
    } else {
      int k = utf8_len(p, end);
      if (k == 0) {
        *bad = (size_t)(p - (const unsigned char *)s);
        return (size_t)-1;
      }
      p += k;
    }
    n++;
  }
  return n;
}

/*
** The input ends inside what could still become a valid token: bytes
** [p, end) are a proper prefix of pat, where '#' in pat stands for a hex digit.
*/
static int cut_prefix(const unsigned char *p, const unsigned char *end,
                      const char *pat) {
  size_t i, n = strlen(pat);
  if ((size_t)(end - p) >= n) return 0;
  for (i = 0; p + i < end; i++) {
    unsigned c = p[i];
    if (pat[i] == '#') {
      if (!((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')))
        return 0;
    } else if (c != (unsigned char)pat[i]) {
      return 0;
    }
  }
  return 1;
}

/* the UTF-8 sequence at p was cut short by the end of the input */
static int utf8_cut(const unsigned char *p, const unsigned char *end) {
  unsigned c = p[0];
  int need = (c >= 0xC2 && c < 0xE0) ? 2 : (c >= 0xE0 && c < 0xF0) ? 3
           : (c >= 0xF0 && c < 0xF5) ? 4 : 0;
  const unsigned char *q;
  if (need == 0 || end - p >= need) return 0;
  for (q = p + 1; q < end; q++)
    if ((*q & 0xC0) != 0x80) return 0;
  return 1;
}

/* the locale's decimal point: strtod and printf follow LC_NUMERIC */
static char locale_point(void) {
  const char *dp = localeconv()->decimal_point;
  return (dp != NULL && dp[0] != '\0') ? dp[0] : '.';
}

/* ===================================================================== */
/* decoding                                                              */
/* ===================================================================== */

#define DEC_CHUNK 256    /* pending slots per container before a flush */
#define DEC_BUDGET 4000  /* stack slots in use above which containers flush
                            at once (5.1 and LuaJIT allow 8000 per C call) */
#define DEC_SBUF 4096    /* unescape buffer on the C stack */

typedef struct {
  int base; /* stack slot of the container (nil until the table exists) */
  int n;    /* pending slots above base: values, or key and value pairs */
  int set;  /* array elements already stored in the table */
  int made; /* the table exists */
  int obj;
} dec_frame;

typedef struct {
  lua_State *L;
  const unsigned char *s, *end;
  int top;          /* lua_gettop(L), tracked */
  int limit;        /* lua_checkstack guarantees slots up to here */
  int bottom;       /* top when decoding started */
  int array_mt;     /* absolute index or pseudo-index */
  int scratch_slot; /* stack slot anchoring the scratch userdata */
  unsigned char *scratch;
  size_t scratch_cap;
  sp_json_err *e;
} dec_state;

static int dec_error(dec_state *d, const unsigned char *p, const char *what) {
  size_t off = (size_t)(p - d->s) + 1;
  d->e->code = SP_JSON_EDECODE;
  d->e->offset = off;
  snprintf(d->e->msg, sizeof d->e->msg, "json.decode: %s at byte %lu", what,
           (unsigned long)off);
  return -1;
}

/* the byte at p does not belong there (or the input ended) */
static int dec_unexpected(dec_state *d, const unsigned char *p) {
  char what[40];
  if (p >= d->end) return dec_error(d, p, "unexpected end of input");
  if (*p > 0x20 && *p < 0x7F)
    snprintf(what, sizeof what, "unexpected character '%c'", *p);
  else
    snprintf(what, sizeof what, "unexpected byte 0x%02X", *p);
  return dec_error(d, p, what);
}

static int dec_bad_utf8(dec_state *d, const unsigned char *p) {
  if (utf8_cut(p, d->end)) return dec_unexpected(d, d->end);
  return dec_error(d, p, "invalid UTF-8");
}

/* make sure a push (plus 3 spare slots for a flush) fits */
static int dec_room(dec_state *d, const unsigned char *p) {
  if (d->top + 4 <= d->limit) return 0;
  if (!lua_checkstack(d->L, 64))
    return dec_error(d, p, "nesting too deep for the Lua stack");
  d->limit = d->top + 64;
  return 0;
}

/*
** Store the pending slots of f into its table, creating the table first if
** needed (sized exactly when closing). Leaves the table at f->base as top.
*/
static int dec_flush(dec_state *d, dec_frame *f, int closing,
                     const unsigned char *p) {
  lua_State *L = d->L;
  int i;
  if (!f->made) {
    int hint = closing ? f->n : 2 * f->n;
    if (f->obj) {
      lua_createtable(L, 0, hint / 2);
    } else {
      lua_createtable(L, hint, 0);
      lua_pushvalue(L, d->array_mt);
      lua_setmetatable(L, -2);
    }
    lua_replace(L, f->base);
    f->made = 1;
  }
  if (f->obj) {
    /* in document order, so the last of duplicate keys wins */
    for (i = 0; i < f->n; i += 2) {
      lua_pushvalue(L, f->base + 1 + i);
      lua_pushvalue(L, f->base + 2 + i);
      lua_rawset(L, f->base);
    }
    lua_settop(L, f->base);
  } else {
    if (f->set > 0x7FFFFFFF - f->n)
      return dec_error(d, p, "array too long");
    for (i = f->n; i > 0; i--) lua_rawseti(L, f->base, f->set + i);
    f->set += f->n;
  }
  f->n = 0;
  d->top = f->base;
  return 0;
}

/* at least need bytes of scratch, anchored in the reserved stack slot */
static unsigned char *dec_scratch(dec_state *d, size_t need) {
  if (d->scratch_cap < need) {
    size_t cap = (size_t)(d->end - d->s) + 16;
    if (cap < need) cap = need;
    d->scratch = (unsigned char *)lsp_newuserdata(d->L, cap);
    lua_replace(d->L, d->scratch_slot);
    d->scratch_cap = cap;
  }
  return d->scratch;
}

static int hex4(const unsigned char *p) {
  int i, v = 0;
  for (i = 0; i < 4; i++) {
    unsigned c = p[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (int)(c - '0');
    else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') v |= (int)((c | 0x20) - 'a' + 10);
    else return -1;
  }
  return v;
}

static size_t put_utf8(unsigned char *o, unsigned long cp) {
  if (cp < 0x80) { o[0] = (unsigned char)cp; return 1; }
  if (cp < 0x800) {
    o[0] = (unsigned char)(0xC0 | (cp >> 6));
    o[1] = (unsigned char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (unsigned char)(0xE0 | (cp >> 12));
    o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (unsigned char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (unsigned char)(0xF0 | (cp >> 18));
  o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
  o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
  o[3] = (unsigned char)(0x80 | (cp & 0x3F));
  return 4;
}

/*
** The rest of a string with escapes: start is the first content byte, p the
** first backslash. Output never outgrows the input consumed, so one scratch
** of the remaining input size always suffices once the C buffer is full.
** Pushes the string; returns the byte after the closing quote, or NULL.
*/
static const unsigned char *dec_string_esc(dec_state *d,
                                           const unsigned char *start,
                                           const unsigned char *p) {
  unsigned char sbuf[DEC_SBUF];
  unsigned char *o = sbuf;
  size_t len = 0, cap = sizeof sbuf;
  const unsigned char *end = d->end;
  /* grow the output to hold n more bytes */
#define OUT_NEED(n)                                          \
  do {                                                       \
    if (len + (n) > cap) {                                   \
      unsigned char *big_ = dec_scratch(d, (size_t)(end - start) + 8); \
      if (o == sbuf) memcpy(big_, sbuf, len);                \
      o = big_;                                              \
      cap = d->scratch_cap;                                  \
    }                                                        \
  } while (0)
  len = (size_t)(p - start); /* the plain part before the first escape */
  if (len > cap) {
    o = dec_scratch(d, (size_t)(end - start) + 8);
    cap = d->scratch_cap;
  }
  memcpy(o, start, len);
  for (;;) {
    const unsigned char *run;
    unsigned c = *p;
    if (c == '"') break;
    if (c == '\\') {
      if (end - p < 2) { dec_unexpected(d, end); return NULL; }
      OUT_NEED(4);
      switch (p[1]) {
        case '"': o[len++] = '"'; p += 2; break;
        case '\\': o[len++] = '\\'; p += 2; break;
        case '/': o[len++] = '/'; p += 2; break;
        case 'b': o[len++] = '\b'; p += 2; break;
        case 'f': o[len++] = '\f'; p += 2; break;
        case 'n': o[len++] = '\n'; p += 2; break;
        case 'r': o[len++] = '\r'; p += 2; break;
        case 't': o[len++] = '\t'; p += 2; break;
        case 'u': {
          long cp = (end - p >= 6) ? hex4(p + 2) : -1;
          if (cp < 0) {
            if (cut_prefix(p, end, "\\u####")) dec_unexpected(d, end);
            else dec_error(d, p, "invalid \\u escape");
            return NULL;
          }
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            long lo = (end - p >= 12 && p[6] == '\\' && p[7] == 'u')
                          ? hex4(p + 8) : -1;
            if (lo < 0xDC00 || lo > 0xDFFF) {
              if (cut_prefix(p + 6, end, "\\u####")) dec_unexpected(d, end);
              else dec_error(d, p, "lone surrogate in \\u escape");
              return NULL;
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            p += 12;
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            dec_error(d, p, "lone surrogate in \\u escape");
            return NULL;
          } else {
            p += 6;
          }
          len += put_utf8(o + len, (unsigned long)cp);
          break;
        }
        default:
          dec_error(d, p, "invalid escape");
          return NULL;
      }
    } else if (c < 0x20) {
      dec_error(d, p, "control character in string");
      return NULL;
    } else if (c >= 0x80) {
      int n = utf8_len(p, end);
      if (n == 0) { dec_bad_utf8(d, p); return NULL; }
      OUT_NEED((size_t)n);
      memcpy(o + len, p, (size_t)n);
      len += (size_t)n;
      p += n;
    }
    run = p;
    p = scan_plain(p, end);
    if (p > run) {
      OUT_NEED((size_t)(p - run));
      memcpy(o + len, run, (size_t)(p - run));
      len += (size_t)(p - run);
    }
    if (p >= end) { dec_unexpected(d, p); return NULL; }
  }
#undef OUT_NEED
  lua_pushlstring(d->L, (const char *)o, len);
  d->top++;
  return p + 1;
}

/* a string; p is after the opening quote. Pushes it, returns after it. */
static const unsigned char *dec_string(dec_state *d, const unsigned char *p) {
  const unsigned char *start = p, *end = d->end;
  for (;;) {
    p = scan_plain(p, end);
    if (p >= end) { dec_unexpected(d, p); return NULL; }
    if (*p == '"') break;
    if (*p == '\\') return dec_string_esc(d, start, p);
    if (*p < 0x20) { dec_error(d, p, "control character in string"); return NULL; }
    {
      int n = utf8_len(p, end);
      if (n == 0) { dec_bad_utf8(d, p); return NULL; }
      p += n;
    }
  }
  lua_pushlstring(d->L, (const char *)start, (size_t)(p - start));
  d->top++;
  return p + 1;
}

/* the double of a validated lexeme, by strtod in the current locale */
static double dec_strtod(dec_state *d, const unsigned char *s, size_t n) {
  char tmp[128];
  char *buf = tmp, point = locale_point();
  size_t i;
  if (n >= sizeof tmp) buf = (char *)dec_scratch(d, n + 1);
  for (i = 0; i < n; i++) buf[i] = (s[i] == '.') ? point : (char)s[i];
  buf[n] = '\0';
  return strtod(buf, NULL);
}

static int is_digit(unsigned c) {
  return c - '0' < 10u;
}

/*
** A number at p. Integers: exact as lua_Integer (5.3+) or double (|n| <=
** 2^53), else their decimal text. Others: the correctly rounded double,
** by exact arithmetic when the digits allow (Clinger's fast path), else
** strtod; overflow to +-inf is an error, underflow rounds to 0.
*/
static const unsigned char *dec_number(dec_state *d, const unsigned char *p) {
  lua_State *L = d->L;
  const unsigned char *start = p, *end = d->end;
  uint64_t m = 0;      /* significant digits, while they fit */
  int sig = 0;         /* significant digits seen */
  int nint = 0;        /* digits before the point */
  int frac = 0;        /* fraction digits folded into m */
  long ex = 0;
  int neg = 0, isfloat = 0;
  double v;
  if (*p == '-') { neg = 1; p++; }
  if (p >= end || !is_digit(*p)) {
    if (p >= end) dec_unexpected(d, p);
    else dec_error(d, p, "invalid number");
    return NULL;
  }
  if (*p == '0') {
    p++;
    nint = 1;
  } else {
    while (p < end && is_digit(*p)) {
      if (sig < 19) m = m * 10 + (unsigned)(*p - '0');
      sig++;
      nint++;
      p++;
    }
  }
  if (p < end && *p == '.') {
    isfloat = 1;
    p++;
    if (p >= end || !is_digit(*p)) {
      if (p >= end) dec_unexpected(d, p);
      else dec_error(d, p, "invalid number");
      return NULL;
    }
    while (p < end && is_digit(*p)) {
      unsigned dg = (unsigned)(*p - '0');
      if (m == 0 && dg == 0) {
        frac++;             /* leading zero: scale only */
      } else if (sig < 19) {
        m = m * 10 + dg;
        sig++;
        frac++;
      } else {
        sig++;              /* too many digits for the fast path */
      }
      p++;
    }
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    int eneg = 0;
    isfloat = 1;
    p++;
    if (p < end && (*p == '+' || *p == '-')) { eneg = (*p == '-'); p++; }
    if (p >= end || !is_digit(*p)) {
      if (p >= end) dec_unexpected(d, p);
      else dec_error(d, p, "invalid number");
      return NULL;
    }
    while (p < end && is_digit(*p)) {
      if (ex < 1000000) ex = ex * 10 + (*p - '0');
      p++;
    }
    if (eneg) ex = -ex;
  }
  if (!isfloat) {
#if SP_INT64
    if (nint < 19 || (nint == 19 && m <= (neg ? UINT64_C(9223372036854775808)
                                              : UINT64_C(9223372036854775807)))) {
      lua_Integer iv = (neg && m != 0) ? -(lua_Integer)(m - 1) - 1
                                       : (lua_Integer)m;
      lua_pushinteger(L, iv);
      d->top++;
      return p;
    }
#else
    if (nint < 16 || (nint == 16 && m <= UINT64_C(9007199254740992))) {
      v = (double)m;
      lua_pushnumber(L, (lua_Number)(neg ? -v : v));
      d->top++;
      return p;
    }
#endif
    /* out of the exact range: keep the digits */
    lua_pushlstring(L, (const char *)start, (size_t)(p - start));
    d->top++;
    return p;
  }
  {
    long scale = ex - frac;
    if (m == 0) {
      v = 0.0;
    } else if (sig <= 19 && m <= UINT64_C(9007199254740992) &&
               scale >= -22 && scale <= 22) {
      v = scale >= 0 ? (double)m * p10[scale] : (double)m / p10[-scale];
    } else {
      v = dec_strtod(d, start, (size_t)(p - start));
      if (v < 0) v = -v;
    }
    if (isinf(v)) {
      dec_error(d, start, "number out of range");
      return NULL;
    }
    lua_pushnumber(L, (lua_Number)(neg ? -v : v));
    d->top++;
  }
  return p;
}

static const unsigned char *skip_ws(const unsigned char *p,
                                    const unsigned char *end) {
  while (p < end && ws_tab[*p]) p++;
  return p;
}

/* true, false or null at p */
static const unsigned char *dec_literal(dec_state *d, const unsigned char *p) {
  const char *word = (*p == 't') ? "true" : (*p == 'f') ? "false" : "null";
  size_t i, n = strlen(word);
  for (i = 0; i < n; i++) {
    if (p + i >= d->end || p[i] != (unsigned char)word[i]) {
      dec_unexpected(d, p + i);
      return NULL;
    }
  }
  if (*p == 't') lua_pushboolean(d->L, 1);
  else if (*p == 'f') lua_pushboolean(d->L, 0);
  else lua_pushlightuserdata(d->L, NULL);
  d->top++;
  return p + n;
}

/* an object key and its colon; p at the key's quote (after whitespace) */
static const unsigned char *dec_key(dec_state *d, dec_frame *f,
                                    const unsigned char *p) {
  if (p >= d->end || *p != '"') { dec_unexpected(d, p); return NULL; }
  if (dec_room(d, p)) return NULL;
  if ((p = dec_string(d, p + 1)) == NULL) return NULL;
  f->n++;
  p = skip_ws(p, d->end);
  if (p >= d->end || *p != ':') { dec_unexpected(d, p); return NULL; }
  return p + 1;
}

static const unsigned char *dec_scalar(dec_state *d, const unsigned char *p) {
  switch (*p) {
    case '"': return dec_string(d, p + 1);
    case 't': case 'f': case 'n': return dec_literal(d, p);
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
      return dec_number(d, p);
    default:
      dec_unexpected(d, p);
      return NULL;
  }
}

/* the whole text; pushes one value or returns -1 */
static int dec_run(dec_state *d) {
  dec_frame fr[SP_JSON_MAX_DEPTH];
  int depth = 0;
  const unsigned char *p = d->s, *end = d->end;
  for (;;) {
    int have; /* a complete value is on top of the stack */
    p = skip_ws(p, end);
    if (p >= end) return dec_unexpected(d, p);
    if (dec_room(d, p)) return -1;
    if (*p == '[' || *p == '{') {
      dec_frame *f;
      if (depth >= SP_JSON_MAX_DEPTH)
        return dec_error(d, p, "nesting deeper than 1000");
      lua_pushnil(d->L); /* placeholder for the table */
      d->top++;
      f = &fr[depth++];
      f->base = d->top;
      f->n = f->set = f->made = 0;
      f->obj = (*p == '{');
      p = skip_ws(p + 1, end);
      if (p < end && *p == (f->obj ? '}' : ']')) {
        p++;
        if (dec_flush(d, f, 1, p)) return -1;
        depth--;
        have = 1;
      } else {
        if (f->obj && (p = dec_key(d, f, p)) == NULL) return -1;
        have = 0;
      }
    } else {
      if ((p = dec_scalar(d, p)) == NULL) return -1;
      have = 1;
    }
    while (have) {
      dec_frame *f;
      if (depth == 0) {
        p = skip_ws(p, end);
        return (p == end) ? 0 : dec_unexpected(d, p);
      }
      f = &fr[depth - 1];
      f->n++;
      if ((f->n >= DEC_CHUNK || d->top - d->bottom > DEC_BUDGET) &&
          dec_flush(d, f, 0, p))
        return -1;
      p = skip_ws(p, end);
      if (p >= end) return dec_unexpected(d, p);
      if (*p == ',') {
        p = skip_ws(p + 1, end);
        if (f->obj && (p = dec_key(d, f, p)) == NULL) return -1;
        have = 0;
      } else if (*p == (f->obj ? '}' : ']')) {
        p++;
        if (dec_flush(d, f, 1, p)) return -1;
        depth--;
      } else {
        return dec_unexpected(d, p);
      }
    }
  }
}

int sp_json_decode(lua_State *L, const char *s, size_t len, int array_mt,
                   sp_json_err *e) {
  dec_state d;
  int rc, top0 = lua_gettop(L);
  if (array_mt < 0 && array_mt > LUA_REGISTRYINDEX)
    array_mt = lsp_absindex(L, array_mt);
  if (!lua_checkstack(L, 64)) {
    e->code = SP_JSON_EDECODE;
    e->offset = 0;
    snprintf(e->msg, sizeof e->msg, "json.decode: no room on the Lua stack");
    return -1;
  }
  d.L = L;
  d.s = (const unsigned char *)s;
  d.end = d.s + len;
  d.array_mt = array_mt;
  d.scratch = NULL;
  d.scratch_cap = 0;
  d.e = e;
  lua_pushnil(L); /* slot for the scratch userdata */
  d.scratch_slot = d.bottom = d.top = top0 + 1;
  d.limit = top0 + 64;
  rc = dec_run(&d);
  if (rc != 0) {
    lua_settop(L, top0);
    return -1;
  }
  lua_replace(L, d.scratch_slot); /* the value takes the scratch's slot */
  return 0;
}

/* ===================================================================== */
/* encoding                                                              */
/* ===================================================================== */

typedef struct {
  lua_State *L;
  sp_buf *b;
  int flags;
  int depth;
  const void *array_mt;
  sp_json_err *e;
  char path[96];    /* where a failure happened, built while unwinding */
  size_t pathlen;
  int pathcut;      /* outer part of the path did not fit */
  const void *seen[SP_JSON_MAX_DEPTH];
} enc_state;

#if defined(__GNUC__) || defined(__clang__)
static int enc_fail(enc_state *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#endif

static int enc_fail(enc_state *e, int code, const char *fmt, ...) {
  va_list ap;
  int n;
  e->e->code = code;
  e->e->offset = 0;
  n = snprintf(e->e->msg, sizeof e->e->msg, "json.encode: ");
  va_start(ap, fmt);
  vsnprintf(e->e->msg + n, sizeof e->e->msg - (size_t)n, fmt, ap);
  va_end(ap);
  return -1;
}

/* prepend one path component (".key" or "[3]") while unwinding */
static void enc_path(enc_state *e, const char *comp, size_t n) {
  if (e->pathcut) return;
  if (n + e->pathlen >= sizeof e->path) { e->pathcut = 1; return; }
  memmove(e->path + n, e->path, e->pathlen);
  memcpy(e->path, comp, n);
  e->pathlen += n;
}

static void enc_path_index(enc_state *e, double i) {
  char comp[32];
  int n = snprintf(comp, sizeof comp, "[%.0f]", i);
  enc_path(e, comp, (size_t)n);
}

/* path component of the key at kidx */
static void enc_path_key(enc_state *e, int kidx) {
  lua_State *L = e->L;
  char comp[40];
  int n;
  if (lua_type(L, kidx) == LUA_TSTRING) {
    size_t len;
    const char *k = lua_tolstring(L, kidx, &len);
    n = snprintf(comp, sizeof comp, ".%.*s%s", len > 24 ? 24 : (int)len, k,
                 len > 24 ? "..." : "");
  } else if (lua_type(L, kidx) == LUA_TNUMBER) {
    n = snprintf(comp, sizeof comp, "[%.17g]", (double)lua_tonumber(L, kidx));
  } else {
    n = snprintf(comp, sizeof comp, "[%s]", luaL_typename(L, kidx));
  }
  if (n > 0) enc_path(e, comp, (size_t)n < sizeof comp ? (size_t)n : sizeof comp - 1);
}

static int enc_grow(enc_state *e, size_t n) {
  if (sp_buf_reserve(e->b, n) != 0)
    return enc_fail(e, SP_JSON_ENOMEM, "out of memory");
  return 0;
}

/* room for n more bytes (plus sp_buf's NUL), or fail */
#define ENC_ROOM(e, n) \
  ((e)->b->cap - (e)->b->len > (size_t)(n) || enc_grow((e), (n)) == 0)

static int enc_raw(enc_state *e, const char *s, size_t n) {
  if (!ENC_ROOM(e, n)) return -1;
  memcpy(e->b->data + e->b->len, s, n);
  e->b->len += n;
  return 0;
}

/* one byte; a macro so the common case is one compare and one store */
#define enc_char(e, c) \
  (ENC_ROOM((e), 1) ? ((e)->b->data[(e)->b->len++] = (char)(c), 0) : -1)

/* decimal digits of v into out; returns the length (at most 20) */
static size_t fmt_uint(char *out, uint64_t v) {
  char tmp[24];
  char *q = tmp + sizeof tmp;
  size_t n;
  while (v >= 100) {
    unsigned r = (unsigned)(v % 100);
    v /= 100;
    q -= 2;
    memcpy(q, digits2 + 2 * r, 2);
  }
  if (v >= 10) {
    q -= 2;
    memcpy(q, digits2 + 2 * v, 2);
  } else {
    *--q = (char)('0' + v);
  }
  n = (size_t)(tmp + sizeof tmp - q);
  memcpy(out, q, n);
  return n;
}

static size_t fmt_int(char *out, int64_t v) {
  if (v < 0) {
    out[0] = '-';
    return 1 + fmt_uint(out + 1, (uint64_t)0 - (uint64_t)v);
  }
  return fmt_uint(out, (uint64_t)v);
}

/*
** Shortest text of a finite double that reads back to it; at most 32 bytes.
** float_type: the value is a Lua 5.3+ float, so the text must not look like
** an integer ("1.0", not "1"). Integral values below 2^53 print as
** integers; "human" decimals by an exact scaled-integer test; the rest by
** %.15g, %.16g, %.17g, whichever first reads back exactly.
*/
static size_t fmt_double(char *out, double x, int float_type) {
  double ax = fabs(x);
  size_t n;
  int k;
  if (ax <= TWO53 && x == floor(x)) {
    if (x == 0 && signbit(x)) { out[0] = '-'; out[1] = '0'; n = 2; }
    else n = fmt_int(out, (int64_t)x);
    if (float_type) { out[n++] = '.'; out[n++] = '0'; }
    return n;
  }
  if (ax >= 1e-4 && ax < TWO53) {
    /* x == i / 10^k exactly as IEEE division, so "i e-k" reads back as x */
    for (k = 1; k <= 17; k++) {
      double s = x * p10[k];
      int64_t i;
      if (fabs(s) >= TWO53) break;
      i = (int64_t)(s < 0 ? s - 0.5 : s + 0.5);
      if ((double)i / p10[k] == x) {
        char dg[24];
        size_t nd = fmt_uint(dg, (uint64_t)(i < 0 ? -i : i)), pos = 0;
        while (k > 1 && dg[nd - 1] == '0') { nd--; k--; }
        if (i < 0) out[pos++] = '-';
        if (nd <= (size_t)k) {
          out[pos++] = '0';
          out[pos++] = '.';
          memset(out + pos, '0', (size_t)k - nd);
          pos += (size_t)k - nd;
          memcpy(out + pos, dg, nd);
          pos += nd;
        } else {
          memcpy(out + pos, dg, nd - (size_t)k);
          pos += nd - (size_t)k;
          out[pos++] = '.';
          memcpy(out + pos, dg + nd - (size_t)k, (size_t)k);
          pos += (size_t)k;
        }
        return pos;
      }
    }
  }
  {
    char point = locale_point();
    int prec, len = 0;
    size_t i;
    for (prec = 15; prec <= 17; prec++) {
      len = snprintf(out, 32, "%.*g", prec, x);
      if (prec == 17 || strtod(out, NULL) == x) break;
    }
    n = (len > 0 && len < 32) ? (size_t)len : 0;
    for (i = 0; i < n; i++)
      if (out[i] == point) out[i] = '.';
    if (n > 0 && memchr(out, '.', n) == NULL && memchr(out, 'e', n) == NULL) {
      out[n++] = '.'; /* an integral value >= 2^53 stays a float */
      out[n++] = '0';
    }
    return n;
  }
}

static int enc_double(enc_state *e, double x, int float_type) {
  if (x != x) return enc_fail(e, SP_JSON_EINVAL, "cannot encode NaN");
  if (isinf(x))
    return enc_fail(e, SP_JSON_EINVAL, "cannot encode %s", x > 0 ? "inf" : "-inf");
  if (!ENC_ROOM(e, 40)) return -1;
  e->b->len += fmt_double(e->b->data + e->b->len, x, float_type);
  return 0;
}

static int enc_number(enc_state *e, int idx) {
#if SP_INT64
  if (lua_isinteger(e->L, idx)) {
    if (!ENC_ROOM(e, 24)) return -1;
    e->b->len += fmt_int(e->b->data + e->b->len,
                         (int64_t)lua_tointeger(e->L, idx));
    return 0;
  }
  return enc_double(e, (double)lua_tonumber(e->L, idx), 1);
#else
  return enc_double(e, (double)lua_tonumber(e->L, idx), 0);
#endif
}

/* a JSON string: escapes '"', '\\' and controls; UTF-8 must be valid */
static int enc_string(enc_state *e, const char *str, size_t len) {
  static const char hexd[] = "0123456789abcdef";
  const unsigned char *s = (const unsigned char *)str, *end = s + len;
  const unsigned char *p = s;
  sp_buf *b = e->b;
  if (!ENC_ROOM(e, len + 2)) return -1;
  b->data[b->len++] = '"';
  if (len < 24) {
    /* short (most keys): copy and check in one byte loop */
    char *o = b->data + b->len;
    while (p < end && !str_stop[*p]) *o++ = (char)*p++;
    b->len = (size_t)(o - b->data);
    if (p == end) {
      b->data[b->len++] = '"';
      return 0;
    }
  }
  for (;;) {
    const unsigned char *run = p;
    for (;;) {
      p = scan_plain(p, end);
      if (p < end && *p >= 0x80) {
        int n = utf8_len(p, end);
        if (n == 0)
          return enc_fail(e, SP_JSON_EINVAL, "invalid UTF-8 in string (byte %lu)",
                          (unsigned long)(p - s) + 1);
        p += n;
        continue;
      }
      break;
    }
    memcpy(b->data + b->len, run, (size_t)(p - run));
    b->len += (size_t)(p - run);
    if (p >= end) break;
    /* one byte to escape; the rest of the string still needs its room */
    if (!ENC_ROOM(e, 6 + (size_t)(end - p) + 1)) return -1;
    {
      unsigned c = *p++;
      char *o = b->data + b->len;
      o[0] = '\\';
      switch (c) {
        case '"': o[1] = '"'; b->len += 2; break;
        case '\\': o[1] = '\\'; b->len += 2; break;
        case '\b': o[1] = 'b'; b->len += 2; break;
        case '\f': o[1] = 'f'; b->len += 2; break;
        case '\n': o[1] = 'n'; b->len += 2; break;
        case '\r': o[1] = 'r'; b->len += 2; break;
        case '\t': o[1] = 't'; b->len += 2; break;
        default:
          o[1] = 'u'; o[2] = '0'; o[3] = '0';
          o[4] = hexd[c >> 4];
          o[5] = hexd[c & 15];
          b->len += 6;
          break;
      }
    }
  }
  b->data[b->len++] = '"';
  return 0;
}

static int enc_value(enc_state *e, int idx);

/* the key at kidx as a JSON string; *pos set to it if a positive integer */
static int enc_key(enc_state *e, int kidx, double *pos) {
  lua_State *L = e->L;
  *pos = 0;
  switch (lua_type(L, kidx)) {
    case LUA_TSTRING: {
      size_t n;
      const char *k = lua_tolstring(L, kidx, &n);
      return enc_string(e, k, n);
    }
    case LUA_TNUMBER: {
      double x = (double)lua_tonumber(L, kidx);
      char *o;
      if (x != x || isinf(x))
        return enc_fail(e, SP_JSON_EINVAL, "cannot encode a table key %s",
                        x != x ? "NaN" : x > 0 ? "inf" : "-inf");
      if (!ENC_ROOM(e, 44)) return -1;
      o = e->b->data + e->b->len;
      o[0] = '"';
#if SP_INT64
      if (lua_isinteger(L, kidx)) {
        lua_Integer i = lua_tointeger(L, kidx);
        e->b->len += 1 + fmt_int(o + 1, (int64_t)i);
        if (i >= 1) *pos = x;
      } else {
        e->b->len += 1 + fmt_double(o + 1, x, 0);
      }
#else
      e->b->len += 1 + fmt_double(o + 1, x, 0);
      if (x >= 1 && x == floor(x) && x <= TWO53) *pos = x;
#endif
      e->b->data[e->b->len++] = '"';
      return 0;
    }
    default:
      return enc_fail(e, SP_JSON_EINVAL, "cannot encode a table key of type %s",
                      luaL_typename(L, kidx));
  }
}

/* the key at kidx is the number n */
static int key_is(lua_State *L, int kidx, double n) {
  return lua_type(L, kidx) == LUA_TNUMBER && (double)lua_tonumber(L, kidx) == n;
}

/* the key at kidx as a positive integer, or 0 */
static double key_pos(lua_State *L, int kidx) {
  double x;
  if (lua_type(L, kidx) != LUA_TNUMBER) return 0;
  x = (double)lua_tonumber(L, kidx);
  return (x >= 1 && x == floor(x) && x <= TWO53) ? x : 0;
}

/*
** Array by lua_next, hoping the keys come as 1, 2, 3... (the array part).
** On entry the first key and value are on the stack. Returns 0 when done,
** 1 when the keys broke the sequence (stack cleaned), -1 on failure.
*/
static int enc_seq_next(enc_state *e, int idx) {
  lua_State *L = e->L;
  double expect = 1;
  if (enc_char(e, '[')) return -1;
  for (;;) {
    if (!key_is(L, -2, expect)) {
      lua_pop(L, 2);
      return 1;
    }
    if (expect > 1 && enc_char(e, ',')) return -1;
    if (enc_value(e, lua_gettop(L))) {
      enc_path_index(e, expect);
      return -1;
    }
    lua_pop(L, 1);
    expect++;
    if (!lua_next(L, idx)) break;
  }
  return enc_char(e, ']');
}

/* array of t[1..n] by index; holes are null */
static int enc_seq_geti(enc_state *e, int idx, double n) {
  lua_State *L = e->L;
  double i;
  if (n > 0x7FFFFFFF)
    return enc_fail(e, SP_JSON_EINVAL, "array too long (%.0f)", n);
  if (enc_char(e, '[')) return -1;
  for (i = 1; i <= n; i++) {
    if (i > 1 && enc_char(e, ',')) return -1;
    lua_rawgeti(L, idx, (int)i);
    if (enc_value(e, lua_gettop(L))) {
      enc_path_index(e, i);
      return -1;
    }
    lua_pop(L, 1);
  }
  return enc_char(e, ']');
}

/* count the keys; *max the largest positive integer key; *allpos all were */
static void enc_scan(enc_state *e, int idx, double *count, double *max,
                     int *allpos) {
  lua_State *L = e->L;
  *count = *max = 0;
  *allpos = 1;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    double k = key_pos(L, -2);
    if (k == 0) *allpos = 0;
    else if (k > *max) *max = k;
    (*count)++;
    lua_pop(L, 1);
  }
}

/*
** Object by lua_next; first says the first key and value are already on
** the stack. Returns 0, -1, or 1 when every key was a positive integer and
** they are exactly 1..n (the caller then encodes an array of n instead).
*/
static int enc_obj_next(enc_state *e, int idx, int first, double *n) {
  lua_State *L = e->L;
  double count = 0, max = 0;
  int allpos = 1;
  if (enc_char(e, '{')) return -1;
  if (!first) {
    lua_pushnil(L);
    if (!lua_next(L, idx)) return enc_char(e, '}');
  }
  do {
    double pos;
    int k = lua_gettop(L) - 1; /* key; the value above it */
    if (count > 0 && enc_char(e, ',')) return -1;
    if (enc_key(e, k, &pos) || enc_char(e, ':')) return -1;
    if (pos == 0) allpos = 0;
    else if (pos > max) max = pos;
    if (enc_value(e, k + 1)) {
      enc_path_key(e, k);
      return -1;
    }
    lua_pop(L, 1);
    count++;
  } while (lua_next(L, idx));
  if (enc_char(e, '}')) return -1;
  *n = count;
  return (allpos && max == count) ? 1 : 0;
}

typedef struct {
  const char *s; /* a string key's bytes (kept alive by the keys table) */
  size_t len;
  int pos;       /* index in the keys table */
  char num[44];  /* a number key's text when s is NULL */
} sort_ent;

static int sort_cmp(const void *a, const void *b) {
  const sort_ent *x = (const sort_ent *)a, *y = (const sort_ent *)b;
  const char *xs = x->s ? x->s : x->num, *ys = y->s ? y->s : y->num;
  size_t n = x->len < y->len ? x->len : y->len;
  int c = memcmp(xs, ys, n);
  if (c != 0) return c;
  return (x->len > y->len) - (x->len < y->len);
}

/* object with keys in byte order; count is the number of keys (>= 1) */
static int enc_obj_sorted(enc_state *e, int idx, double count) {
  lua_State *L = e->L;
  sort_ent *ent;
  int n = 0, i, keys;
  if (count > 0x7FFFFFFF / (double)sizeof(sort_ent))
    return enc_fail(e, SP_JSON_ENOMEM, "object too large to sort");
  ent = (sort_ent *)lsp_newuserdata(L, (size_t)count * sizeof(sort_ent));
  lua_createtable(L, (int)count, 0);
  keys = lua_gettop(L);
  lua_pushnil(L);
  while (n < (int)count && lua_next(L, idx)) {
    sort_ent *t = &ent[n];
    lua_pop(L, 1);
    t->pos = n + 1;
    lua_pushvalue(L, -1);
    lua_rawseti(L, keys, n + 1);
    if (lua_type(L, -1) == LUA_TSTRING) {
      t->s = lua_tolstring(L, -1, &t->len);
    } else if (lua_type(L, -1) == LUA_TNUMBER) {
      double x = (double)lua_tonumber(L, -1);
      if (x != x || isinf(x))
        return enc_fail(e, SP_JSON_EINVAL, "cannot encode a table key %s",
                        x != x ? "NaN" : x > 0 ? "inf" : "-inf");
      t->s = NULL;
#if SP_INT64
      if (lua_isinteger(L, -1))
        t->len = fmt_int(t->num, (int64_t)lua_tointeger(L, -1));
      else
        t->len = fmt_double(t->num, x, 0);
#else
      t->len = fmt_double(t->num, x, 0);
#endif
    } else {
      return enc_fail(e, SP_JSON_EINVAL, "cannot encode a table key of type %s",
                      luaL_typename(L, -1));
    }
    n++;
  }
  lua_settop(L, keys);
  qsort(ent, (size_t)n, sizeof *ent, sort_cmp);
  if (enc_char(e, '{')) return -1;
  for (i = 0; i < n; i++) {
    if (i > 0 && enc_char(e, ',')) return -1;
    if (enc_string(e, ent[i].s ? ent[i].s : ent[i].num, ent[i].len) ||
        enc_char(e, ':'))
      return -1;
    lua_rawgeti(L, keys, ent[i].pos);
    lua_pushvalue(L, -1);
    lua_rawget(L, idx);                     /* ..., key, value */
    if (enc_value(e, keys + 2)) {
      enc_path_key(e, keys + 1);
      return -1;
    }
    lua_pop(L, 2);
  }
  lua_pop(L, 2);                            /* keys, entries */
  return enc_char(e, '}');
}

/* a table without the array mark: 1..n keys make an array, else object */
static int enc_plain(enc_state *e, int idx) {
  lua_State *L = e->L;
  size_t mark = e->b->len;
  double count, max;
  int rc, allpos;
  lua_pushnil(L);
  if (!lua_next(L, idx)) return enc_raw(e, "{}", 2);
  if (key_is(L, -2, 1)) {
    if ((rc = enc_seq_next(e, idx)) <= 0) return rc;
  } else if (!(e->flags & SP_JSON_SORT_KEYS)) {
    if ((rc = enc_obj_next(e, idx, 1, &count)) <= 0) return rc;
    e->b->len = mark; /* keys 1..n in hash order: an array after all */
    return enc_seq_geti(e, idx, count);
  } else {
    lua_pop(L, 2);
  }
  e->b->len = mark;
  enc_scan(e, idx, &count, &max, &allpos);
  if (allpos && max == count) return enc_seq_geti(e, idx, count);
  if (e->flags & SP_JSON_SORT_KEYS) return enc_obj_sorted(e, idx, count);
  return enc_obj_next(e, idx, 0, &count) < 0 ? -1 : 0;
}

/* a table marked with the array metatable: [t[1], ..., t[max]] */
static int enc_marked(enc_state *e, int idx) {
  lua_State *L = e->L;
  size_t mark = e->b->len;
  double count, max;
  int rc, allpos;
  lua_pushnil(L);
  if (!lua_next(L, idx)) return enc_raw(e, "[]", 2);
  if ((rc = enc_seq_next(e, idx)) <= 0) return rc;
  e->b->len = mark;
  enc_scan(e, idx, &count, &max, &allpos);
  if (!allpos)
    return enc_fail(e, SP_JSON_EINVAL,
                    "json.array table has a key that is not a positive integer");
  if (max > 1024 && max > 8 * count)
    return enc_fail(e, SP_JSON_EINVAL,
                    "json.array table too sparse (%.0f elements, largest index %.0f)",
                    count, max);
  return enc_seq_geti(e, idx, max);
}

static int enc_table(enc_state *e, int idx) {
  lua_State *L = e->L;
  const void *ptr = lua_topointer(L, idx);
  int i, rc, marked = 0;
  if (e->depth >= SP_JSON_MAX_DEPTH)
    return enc_fail(e, SP_JSON_EINVAL, "nesting deeper than %d",
                    SP_JSON_MAX_DEPTH);
  for (i = 0; i < e->depth; i++)
    if (e->seen[i] == ptr)
      return enc_fail(e, SP_JSON_EINVAL, "cycle: a table contains itself");
  if (!lua_checkstack(L, 8))
    return enc_fail(e, SP_JSON_EINVAL, "nesting too deep for the Lua stack");
  if (lua_getmetatable(L, idx)) {
    marked = (lua_topointer(L, -1) == e->array_mt);
    lua_pop(L, 1);
  }
  e->seen[e->depth++] = ptr;
  rc = marked ? enc_marked(e, idx) : enc_plain(e, idx);
  e->depth--;
  return rc;
}

static int enc_value(enc_state *e, int idx) {
  lua_State *L = e->L;
  switch (lua_type(L, idx)) {
    case LUA_TSTRING: {
      size_t n;
      const char *s = lua_tolstring(L, idx, &n);
      return enc_string(e, s, n);
    }
    case LUA_TNUMBER:
      return enc_number(e, idx);
    case LUA_TTABLE:
      return enc_table(e, idx);
    case LUA_TBOOLEAN:
      return lua_toboolean(L, idx) ? enc_raw(e, "true", 4)
                                   : enc_raw(e, "false", 5);
    case LUA_TNIL:
      return enc_raw(e, "null", 4);
    case LUA_TLIGHTUSERDATA:
      if (lua_touserdata(L, idx) == NULL) return enc_raw(e, "null", 4);
      return enc_fail(e, SP_JSON_EINVAL, "cannot encode a light userdata");
    default:
      return enc_fail(e, SP_JSON_EINVAL, "cannot encode a %s",
                      luaL_typename(L, idx));
  }
}

int sp_json_encode(lua_State *L, int idx, sp_buf *b, int flags, int array_mt,
                   sp_json_err *e) {
  enc_state *st, local;
  int rc, top0 = lua_gettop(L);
  st = &local;
  st->L = L;
  st->b = b;
  st->flags = flags;
  st->depth = 0;
  st->array_mt = lua_topointer(L, array_mt);
  st->e = e;
  st->pathlen = 0;
  st->pathcut = 0;
  e->code = 0;
  e->offset = 0;
  e->msg[0] = '\0';
  rc = enc_value(st, lsp_absindex(L, idx));
  lua_settop(L, top0);
  if (rc != 0 && st->pathlen > 0 && e->code == SP_JSON_EINVAL) {
    size_t n = strlen(e->msg);
    snprintf(e->msg + n, sizeof e->msg - n, " at %s%.*s",
             st->pathcut ? "..." : "$", (int)st->pathlen, st->path);
  }
  return rc;
}
