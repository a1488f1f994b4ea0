/*
** http.c - libcurl multi engine (pure C, no lua.h)
**
** Every libcurl callback here only copies bytes or counters into the sp_req
** it was given and returns; none calls the embedding program or can raise.
** Error text never includes the URL (only the host), headers or body.
** SPDX-License-Identifier: MIT
*/
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "socialpush.h"
#include "http.h"

/* below this request body size we never send "Expect: 100-continue" */
#define SP_EXPECT_MIN (1024 * 1024)
/* cap on the stored response headers */
#define SP_HDRS_MAX (1024 * 1024)
/* idle easy handles kept per engine */
#define SP_POOL_MAX 64

/* one multipart part, kept until the easy handle exists (curl_mime needs it) */
struct sp_part {
  struct sp_part *next;
  char *name, *data, *file, *filename, *ctype;
  size_t len;
};

static const char *const kind_names[] = {
  "ok", "invalid_argument", "timeout", "tls", "too_large", "cancelled", "transport"
};

const char *sp_kind_name(sp_kind k) {
  if ((int)k < 0 || (size_t)k >= sizeof kind_names / sizeof kind_names[0]) return "transport";
  return kind_names[k];
}

static void set_err(sp_err *e, sp_kind kind, int code, const char *fmt, ...) {
  va_list ap;
  e->kind = kind;
  e->curl_code = code;
  va_start(ap, fmt);
  vsnprintf(e->msg, sizeof e->msg, fmt, ap);
  va_end(ap);
}

static char *sp_strdup(const char *s) {
  size_t n;
  char *p;
  if (s == NULL) return NULL;
  n = strlen(s);
  p = (char *)malloc(n + 1);
  if (p != NULL) memcpy(p, s, n + 1);
  return p;
}

static char *sp_memdup(const char *s, size_t n) {
  char *p = (char *)malloc(n + 1);
  if (p == NULL) return NULL;
  if (n) memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

static long to_ms(double s) {
  double ms = s * 1000.0 + 0.5;
  if (ms < 1.0) return 1;
  if (ms > (double)LONG_MAX / 2) return LONG_MAX / 2;
  return (long)ms;
}

int sp_http_global_init(void) {
  static int done = 0;
  if (!done) {
    if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK) return -1;
    done = 1;
  }
  return 0;
}

/* ---------------------------------------------------------------- engine */

int sp_engine_init(sp_engine *e, const sp_engine_opts *o, sp_err *err) {
  size_t i;
  const char *ua;
  memset(e, 0, sizeof *e);
  e->timeout_ms = to_ms(o->timeout > 0 ? o->timeout : 60);
  e->connect_timeout_ms = to_ms(o->connect_timeout > 0 ? o->connect_timeout : 10);
  e->max_body = o->max_body ? o->max_body : SP_HTTP_MAX_BODY;
  ua = o->user_agent ? o->user_agent : "socialpush/" SP_VERSION;
  if ((o->ca_file && (e->ca_file = sp_strdup(o->ca_file)) == NULL) ||
      (o->proxy && (e->proxy = sp_strdup(o->proxy)) == NULL) ||
      (e->ua_line = (char *)malloc(strlen(ua) + 13)) == NULL)
    goto oom;
  memcpy(e->ua_line, "User-Agent: ", 12);
  memcpy(e->ua_line + 12, ua, strlen(ua) + 1);
  for (i = 0; o->connect_to && o->connect_to[i]; i++) {
    struct curl_slist *l = curl_slist_append(e->connect_to, o->connect_to[i]);
    if (l == NULL) goto oom;
    e->connect_to = l;
  }
  e->pool = (struct sp_pooled *)calloc(SP_POOL_MAX, sizeof *e->pool);
  if (e->pool == NULL) goto oom;
  e->cappool = SP_POOL_MAX;
  if ((e->multi = curl_multi_init()) == NULL) goto oom;
  curl_multi_setopt(e->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
  return 0;
oom:
  sp_engine_close(e);
  set_err(err, SP_ETRANSPORT, 0, "out of memory");
  return -1;
}

static void unlink_req(sp_req *r) {
  sp_engine *e = r->eng;
  if (e == NULL) return;
  if (r->prev) r->prev->next = r->next;
  else if (e->active == r) e->active = r->next;
  else if (e->finished == r) e->finished = r->next;
  if (r->next) r->next->prev = r->prev;
  else if (e->finished_tail == r) e->finished_tail = r->prev;
  if (r->state == SP_REQ_RUNNING) e->nactive--;
  r->prev = r->next = NULL;
  r->eng = NULL;
}

/* frees what a running transfer needed; the response stays */
static void release_transfer(sp_req *r) {
  free(r->hnodes);
  r->hnodes = NULL;
  sp_buf_free(&r->hlines);
  r->nhlines = 0;
  if (r->mime) { curl_mime_free(r->mime); r->mime = NULL; }
  if (r->body_kind == SP_BODY_FILE && r->fd >= 0) { close(r->fd); r->fd = -1; }
  if (r->has_sink && r->sink_fd >= 0) { close(r->sink_fd); r->sink_fd = -1; }
}

/* an easy handle and the error buffer it owns */
static void easy_free(CURL *h, char *errbuf) {
  curl_easy_cleanup(h);
  free(errbuf);
}

/* An idle handle keeps its options when shape != 0 (a request of the same shape
** only sets what differs, see set_request_options); otherwise it is reset.
** Pointers into the finished request are cleared either way. */
static void pool_put(sp_engine *e, CURL *h, char *errbuf, unsigned shape) {
  if (e->multi == NULL || e->npool >= e->cappool) {
    easy_free(h, errbuf);
    return;
  }
  if (shape == 0) {
    curl_easy_reset(h);
  } else {
    curl_easy_setopt(h, CURLOPT_PRIVATE, (void *)NULL);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
  }
  e->pool[e->npool].h = h;
  e->pool[e->npool].shape = shape;
  e->pool[e->npool].errbuf = errbuf;
  e->npool++;
}

void sp_engine_close(sp_engine *e) {
  int i;
  while (e->active) {        /* in-flight requests end as cancelled */
    sp_req *r = e->active;
    curl_multi_remove_handle(e->multi, r->easy);
    easy_free(r->easy, r->errbuf);
    r->easy = NULL;
    r->errbuf = NULL;
    unlink_req(r);
    release_transfer(r);
    r->state = SP_REQ_DONE;
    set_err(&r->err, SP_ECANCELLED, 0, "%s: cancelled (client closed)", r->host);
    r->err.sent = r->prereq;
  }
  while (e->finished) unlink_req(e->finished);
  for (i = 0; i < e->npool; i++) easy_free(e->pool[i].h, e->pool[i].errbuf);
  free(e->pool);
  free(e->url_cache);
  if (e->multi) curl_multi_cleanup(e->multi);
  curl_slist_free_all(e->connect_to);
  free(e->ca_file);
  free(e->proxy);
  free(e->ua_line);
  memset(e, 0, sizeof *e);
}

static int is_tls_error(CURLcode c) {
  switch (c) {
  case CURLE_SSL_CONNECT_ERROR: case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CERTPROBLEM: case CURLE_SSL_CIPHER: case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_ENGINE_NOTFOUND: case CURLE_SSL_ENGINE_SETFAILED:
  case CURLE_SSL_ENGINE_INITFAILED: case CURLE_SSL_SHUTDOWN_FAILED:
  case CURLE_SSL_CRL_BADFILE: case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH: case CURLE_SSL_INVALIDCERTSTATUS:
  case CURLE_SSL_CLIENTCERT: case CURLE_USE_SSL_FAILED:
    return 1;
  default:
    return 0;
  }
}

static double info_secs(CURL *h, CURLINFO what) {
  curl_off_t us = 0;
  if (curl_easy_getinfo(h, what, &us) != CURLE_OK) return 0;
  return (double)us / 1e6;
}

/* curl's detail for an error, unless it might echo URL parts or credentials */
static const char *curl_detail(sp_req *r, CURLcode rc) {
  if (r->errbuf && r->errbuf[0] && strpbrk(r->errbuf, "?@#") == NULL) {
    size_t n = strlen(r->errbuf);
    while (n && (r->errbuf[n - 1] == '\n' || r->errbuf[n - 1] == '\r')) r->errbuf[--n] = '\0';
    return r->errbuf;
  }
  return curl_easy_strerror(rc);
}

static void finish(sp_engine *e, sp_req *r, CURLcode rc) {
  CURL *h = r->easy;
  long v = 0, nconn = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
  if (curl_easy_getinfo(h, CURLINFO_HTTP_VERSION, &v) == CURLE_OK) {
    r->http_version = v == CURL_HTTP_VERSION_1_0 ? 10 : v == CURL_HTTP_VERSION_1_1 ? 11
                    : v == CURL_HTTP_VERSION_2_0 ? 20 : v == CURL_HTTP_VERSION_3 ? 30 : 0;
  }
  curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &nconn);
  r->reused = nconn == 0 && r->prereq;
  r->timings.namelookup = info_secs(h, CURLINFO_NAMELOOKUP_TIME_T);
  r->timings.connect = info_secs(h, CURLINFO_CONNECT_TIME_T);
  r->timings.tls = info_secs(h, CURLINFO_APPCONNECT_TIME_T);
  r->timings.start_transfer = info_secs(h, CURLINFO_STARTTRANSFER_TIME_T);
  r->timings.total = info_secs(h, CURLINFO_TOTAL_TIME_T);
  if (rc != CURLE_OK) {
    if (r->too_large == 2)
      set_err(&r->err, SP_ETOOLARGE, rc, "%s: response headers larger than %d bytes",
              r->host, SP_HDRS_MAX);
    else if (r->too_large || rc == CURLE_FILESIZE_EXCEEDED)
      set_err(&r->err, SP_ETOOLARGE, rc, "%s: response body larger than max_body (%lu bytes)",
              r->host, (unsigned long)r->max_body);
    else if (r->oom)
      set_err(&r->err, SP_ETRANSPORT, rc, "%s: out of memory", r->host);
    else if (r->sink_error)
      set_err(&r->err, SP_ETRANSPORT, rc, "%s: cannot write the sink file: %s", r->host,
              strerror(r->sink_error));
    else if (r->short_file)
      set_err(&r->err, SP_EINVAL, rc, "%s: upload file shrank while being sent", r->host);
    else if (rc == CURLE_OPERATION_TIMEDOUT)
      set_err(&r->err, SP_ETIMEOUT, rc, "%s: timed out: %s", r->host, curl_detail(r, rc));
    else if (is_tls_error(rc))
      set_err(&r->err, SP_ETLS, rc, "%s: TLS: %s", r->host, curl_detail(r, rc));
    else
      set_err(&r->err, SP_ETRANSPORT, rc, "%s: %s", r->host, curl_detail(r, rc));
    r->err.sent = r->prereq;
    r->err.connected = r->prereq || r->timings.connect > 0;
  }
  curl_multi_remove_handle(e->multi, h);
  r->easy = NULL;
  pool_put(e, h, r->errbuf, rc == CURLE_OK ? r->shape : 0);
  r->errbuf = NULL;
  release_transfer(r);
  /* active -> finished (FIFO) */
  unlink_req(r);
  r->eng = e;
  r->state = SP_REQ_DONE;
  r->prev = e->finished_tail;
  r->next = NULL;
  if (e->finished_tail) e->finished_tail->next = r;
  else e->finished = r;
  e->finished_tail = r;
}

static void drain(sp_engine *e) {
  CURLMsg *m;
  int left;
  while ((m = curl_multi_info_read(e->multi, &left)) != NULL) {
    sp_req *r = NULL;
    if (m->msg != CURLMSG_DONE) continue;
    curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
    if (r != NULL) finish(e, r, m->data.result);
  }
}

int sp_engine_perform(sp_engine *e, double wait, int *nfinished, sp_err *err) {
  int running = 0, n = 0;
  CURLMcode mc = CURLM_OK;
  sp_req *r;
  /* New transfers are started first; then, when waiting, one poll and one perform
  ** (like a plain curl_multi loop). The poll returns at once when libcurl has work
  ** due (its timers cover data already buffered inside libcurl). */
  if (e->fresh || wait <= 0) {
    e->fresh = 0;
    mc = curl_multi_perform(e->multi, &running);
    if (mc == CURLM_OK) drain(e);
  }
  if (mc == CURLM_OK && wait > 0 && e->finished == NULL) {
    double ms = wait * 1000.0 + 0.999;
    mc = curl_multi_poll(e->multi, NULL, 0, ms > INT_MAX ? INT_MAX : (int)ms, NULL);
    if (mc == CURLM_OK) mc = curl_multi_perform(e->multi, &running);
    if (mc == CURLM_OK) drain(e);
  }
  if (mc != CURLM_OK) {
    set_err(err, SP_ETRANSPORT, 0, "curl multi: %s", curl_multi_strerror(mc));
    return -1;
  }
  for (r = e->finished; r; r = r->next) n++;
  if (nfinished) *nfinished = n;
  return e->nactive;
}

sp_req *sp_engine_take(sp_engine *e) {
  sp_req *r = e->finished;
  if (r != NULL) unlink_req(r);
  return r;
}

/* --------------------------------------------------------------- request */

static int is_tchar(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

int sp_http_header_name_ok(const char *s, size_t n) {
  size_t i;
  if (n == 0) return 0;
  for (i = 0; i < n; i++)
    if (!is_tchar((unsigned char)s[i])) return 0;
  return 1;
}

int sp_http_header_value_ok(const char *s, size_t n) {
  if (n == 0 || s == NULL) return 1;           /* (memchr wants a valid pointer) */
  return memchr(s, '\r', n) == NULL && memchr(s, '\n', n) == NULL &&
         memchr(s, '\0', n) == NULL;
}

static int req_fail(sp_req *r, sp_kind kind, const char *fmt, ...) {
  va_list ap;
  r->err.kind = kind;
  r->err.curl_code = 0;
  va_start(ap, fmt);
  vsnprintf(r->err.msg, sizeof r->err.msg, fmt, ap);
  va_end(ap);
  return -1;
}

/* scheme and host of url (r->url), in r->host; 0 or -1 with r->err */
static int parse_url(sp_req *r) {
  CURLU *u;
  char *scheme = NULL, *host = NULL;
  int bad;
  if ((u = curl_url()) == NULL) return req_fail(r, SP_ETRANSPORT, "out of memory");
  bad = curl_url_set(u, CURLUPART_URL, r->url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK;
  if (!bad) {
    bad = strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0 ? 2 : 0;
    snprintf(r->host, sizeof r->host, "%s", host);
  }
  curl_free(scheme);
  curl_free(host);
  curl_url_cleanup(u);
  if (bad == 2) return req_fail(r, SP_EINVAL, "invalid URL: only https and http are supported");
  if (bad) return req_fail(r, SP_EINVAL, "invalid URL");
  return 0;
}

/* method and URL checks shared by both initialisers; the URL is copied */
static int init_common(sp_req *r, const char *method, const char *url, size_t url_len) {
  size_t i, mlen = strlen(method);
  r->fd = -1;
  r->sink_fd = -1;
  r->state = SP_REQ_READY;
  if (mlen == 0 || mlen >= sizeof r->method || !sp_http_header_name_ok(method, mlen))
    return req_fail(r, SP_EINVAL, "invalid HTTP method");
  memcpy(r->method, method, mlen + 1);
  for (i = 0; i < url_len; i++)
    if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] == 0x7f)
      return req_fail(r, SP_EINVAL, "invalid URL: control character or space");
  if ((r->url = sp_memdup(url, url_len)) == NULL)
    return req_fail(r, SP_ETRANSPORT, "out of memory");
  return 0;
}

int sp_req_init(sp_req *r, const char *method, const char *url, size_t url_len) {
  if (init_common(r, method, url, url_len) != 0) return -1;
  return parse_url(r);
}

int sp_req_init_in(sp_req *r, sp_engine *e, const char *method, const char *url,
                   size_t url_len) {
  if (init_common(r, method, url, url_len) != 0) return -1;
  if (e->url_cache != NULL && e->url_cache_len == url_len &&
      memcmp(e->url_cache, url, url_len) == 0) {
    memcpy(r->host, e->url_cache_host, sizeof r->host);
    return 0;
  }
  if (parse_url(r) != 0) return -1;
  free(e->url_cache);             /* remember it; a failed copy only loses the cache */
  e->url_cache = sp_memdup(url, url_len);
  e->url_cache_len = url_len;
  memcpy(e->url_cache_host, r->host, sizeof r->host);
  return 0;
}

static int ieq(const char *a, size_t n, const char *lower) {
  size_t i;
  if (strlen(lower) != n) return 0;
  for (i = 0; i < n; i++) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    if (c != lower[i]) return 0;
  }
  return 1;
}

int sp_req_header(sp_req *r, const char *name, size_t nlen, const char *value, size_t vlen,
                  int remove) {
  sp_buf *b = &r->hlines;
  if (!sp_http_header_name_ok(name, nlen))
    return req_fail(r, SP_EINVAL, "invalid header name (not an HTTP token, or CR/LF/NUL)");
  if (!remove && !sp_http_header_value_ok(value, vlen))
    return req_fail(r, SP_EINVAL, "invalid value for header %.*s: CR, LF or NUL",
                    (int)(nlen > 64 ? 64 : nlen), name);
  if (remove) vlen = 0;
  if (nlen > SIZE_MAX / 2 - vlen - 4 || sp_buf_reserve(b, nlen + vlen + 4) != 0)
    return req_fail(r, SP_ETRANSPORT, "out of memory");
  memcpy(b->data + b->len, name, nlen);
  b->len += nlen;
  if (remove) {                 /* "Name:" removes a header libcurl would add */
    sp_buf_putc_unsafe(b, ':');
  } else if (vlen == 0) {       /* "Name;" sends it empty */
    sp_buf_putc_unsafe(b, ';');
  } else {
    sp_buf_putc_unsafe(b, ':');
    sp_buf_putc_unsafe(b, ' ');
    memcpy(b->data + b->len, value, vlen);
    b->len += vlen;
  }
  sp_buf_putc_unsafe(b, '\0');
  r->nhlines++;
  if (ieq(name, nlen, "expect")) r->has_expect = 1;
  else if (ieq(name, nlen, "content-type")) r->has_ctype = 1;
  else if (ieq(name, nlen, "user-agent")) r->has_ua = 1;
  return 0;
}

/* the header list libcurl reads (r->hnodes, one allocation): the request's lines,
** the engine's User-Agent unless the request set one, the suppressions */
static int build_header_list(sp_req *r, sp_engine *e) {
  static char no_ctype[] = "Content-Type:", no_expect[] = "Expect:";
  char *extra[3];
  int n = 0, i, total;
  size_t off = 0;
  int64_t size = r->file_end - r->file_start;
  if (!r->has_ua) extra[n++] = e->ua_line;
  /* no default form Content-Type, and no 100-continue round trip for small file
  ** bodies (libcurl sends no Expect for in-memory bodies below 1 MiB anyway) */
  if (r->body_kind != SP_BODY_MIME && !r->has_ctype) extra[n++] = no_ctype;
  if (!r->has_expect && r->body_kind == SP_BODY_FILE && size > 0 && size < SP_EXPECT_MIN)
    extra[n++] = no_expect;
  total = r->nhlines + n;
  free(r->hnodes);
  r->hnodes = NULL;
  if (total == 0) return 0;
  r->hnodes = (struct curl_slist *)malloc(sizeof *r->hnodes * (size_t)total);
  if (r->hnodes == NULL) return -1;
  for (i = 0; i < r->nhlines; i++) {
    r->hnodes[i].data = r->hlines.data + off;
    off += strlen(r->hlines.data + off) + 1;
  }
  for (i = 0; i < n; i++) r->hnodes[r->nhlines + i].data = extra[i];
  for (i = 0; i < total; i++) r->hnodes[i].next = i + 1 < total ? &r->hnodes[i + 1] : NULL;
  return 0;
}

int sp_req_body_mem(sp_req *r, const char *data, size_t len) {
  r->body_kind = SP_BODY_MEM;
  r->mem = data;
  r->mem_len = len;
  return 0;
}

int sp_req_body_file(sp_req *r, const char *path, int64_t offset, int64_t length) {
  struct stat st;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return req_fail(r, SP_EINVAL, "cannot open upload file %s: %s", path, strerror(errno));
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return req_fail(r, SP_EINVAL, "upload file %s is not a regular file", path);
  }
  if (offset < 0 || offset > (int64_t)st.st_size) {
    close(fd);
    return req_fail(r, SP_EINVAL, "upload offset %lld is beyond the end of %s",
                    (long long)offset, path);
  }
  if (length < 0) length = (int64_t)st.st_size - offset;
  if (length > (int64_t)st.st_size - offset) {
    close(fd);
    return req_fail(r, SP_EINVAL, "upload file %s is shorter than offset + length", path);
  }
  r->body_kind = SP_BODY_FILE;
  r->fd = fd;
  r->file_pos = offset;
  r->file_start = offset;       /* a rewind (libcurl's seek) goes back here */
  r->file_end = offset + length;
  return 0;
}

static void free_parts(sp_req *r) {
  while (r->parts) {
    struct sp_part *p = r->parts;
    r->parts = p->next;
    free(p->name);
    free(p->data);
    free(p->file);
    free(p->filename);
    free(p->ctype);
    free(p);
  }
}

int sp_req_part(sp_req *r, const char *name, const char *data, size_t len, const char *file,
                const char *filename, const char *content_type) {
  struct sp_part *p, **tail;
  if (file != NULL) {
    struct stat st;
    if (stat(file, &st) != 0 || !S_ISREG(st.st_mode) || access(file, R_OK) != 0)
      return req_fail(r, SP_EINVAL, "cannot read multipart file %s", file);
  }
  if ((p = (struct sp_part *)calloc(1, sizeof *p)) == NULL)
    return req_fail(r, SP_ETRANSPORT, "out of memory");
  for (tail = &r->parts; *tail; tail = &(*tail)->next) {}
  *tail = p;                    /* owned by r from here: free_parts frees it */
  r->body_kind = SP_BODY_MIME;
  p->len = len;
  if ((p->name = sp_strdup(name)) == NULL ||
      (data && (p->data = sp_memdup(data, len)) == NULL) ||
      (file && (p->file = sp_strdup(file)) == NULL) ||
      (filename && (p->filename = sp_strdup(filename)) == NULL) ||
      (content_type && (p->ctype = sp_strdup(content_type)) == NULL))
    return req_fail(r, SP_ETRANSPORT, "out of memory");
  return 0;
}

int sp_req_sink_file(sp_req *r, const char *path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return req_fail(r, SP_EINVAL, "cannot open sink file %s: %s", path, strerror(errno));
  r->sink_fd = fd;
  r->has_sink = 1;
  return 0;
}

void sp_req_options(sp_req *r, double timeout, size_t max_body) {
  r->timeout_ms = timeout > 0 ? to_ms(timeout) : 0;
  r->max_body = max_body;
}

/* ------------------------------------------------------------- callbacks */

static size_t on_write(char *p, size_t size, size_t n, void *ud) {
  sp_req *r = (sp_req *)ud;
  size_t len = size * n, off = 0;
  if ((int64_t)len > (int64_t)r->max_body - r->received) {  /* received <= max_body */
    r->too_large = 1;
    return 0;                             /* aborts: CURLE_WRITE_ERROR */
  }
  if (!r->has_sink) {
    if (sp_buf_append(&r->body, p, len) != 0) {
      r->oom = 1;
      return 0;
    }
  } else {
    while (off < len) {
      ssize_t w = write(r->sink_fd, p + off, len - off);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        r->sink_error = w < 0 ? errno : EIO;
        return 0;
      }
      off += (size_t)w;
    }
  }
  r->received += (int64_t)len;
  return len;
}

static size_t trim(const char *s, size_t n, size_t *start) {
  size_t a = 0;
  while (a < n && (s[a] == ' ' || s[a] == '\t')) a++;
  while (n > a && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
    n--;
  *start = a;
  return n - a;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud) {
  sp_req *r = (sp_req *)ud;
  size_t len = size * n, a, vlen, i;
  const char *colon;
  if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {   /* a new response: keep the last */
    sp_buf_reset(&r->hdrs);
    r->nhdrs = 0;
    return len;
  }
  vlen = trim(p, len, &a);
  if (vlen == 0) return len;
  if (r->hdrs.len + len + 2 > SP_HDRS_MAX) {
    r->too_large = 2;
    return 0;
  }
  if ((p[0] == ' ' || p[0] == '\t') && r->nhdrs > 0) {  /* obsolete line folding */
    r->hdrs.len--;                                       /* drop the value's NUL */
    if (sp_buf_putc(&r->hdrs, ' ') || sp_buf_append(&r->hdrs, p + a, vlen) ||
        sp_buf_putc(&r->hdrs, '\0'))
      goto oom;
    return len;
  }
  colon = (const char *)memchr(p, ':', len);
  if (colon == NULL || colon == p) return len;          /* not a header: ignore */
  if (sp_buf_reserve(&r->hdrs, len + 2)) goto oom;
  for (i = 0; p + i < colon; i++) {
    char c = p[i];
    sp_buf_putc_unsafe(&r->hdrs, c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  while (r->hdrs.len && (r->hdrs.data[r->hdrs.len - 1] == ' ' ||
                         r->hdrs.data[r->hdrs.len - 1] == '\t'))
    r->hdrs.len--;
  sp_buf_putc_unsafe(&r->hdrs, '\0');
  vlen = trim(colon + 1, len - (size_t)(colon + 1 - p), &a);
  memcpy(r->hdrs.data + r->hdrs.len, colon + 1 + a, vlen);
  r->hdrs.len += vlen;
  sp_buf_putc_unsafe(&r->hdrs, '\0');
  r->nhdrs++;
  return len;
oom:
  r->oom = 1;
  return 0;
}

static size_t on_read(char *buf, size_t size, size_t n, void *ud) {
  sp_req *r = (sp_req *)ud;
  size_t want = size * n;
  ssize_t got;
  if ((int64_t)want > r->file_end - r->file_pos) want = (size_t)(r->file_end - r->file_pos);
  if (want == 0) return 0;
  do {
    got = pread(r->fd, buf, want, (off_t)r->file_pos);
  } while (got < 0 && errno == EINTR);
  if (got <= 0) {              /* read error, or the file got shorter */
    r->short_file = 1;
    return CURL_READFUNC_ABORT;
  }
  r->file_pos += got;
  return (size_t)got;
}

static int on_seek(void *ud, curl_off_t offset, int origin) {
  sp_req *r = (sp_req *)ud;
  if (origin != SEEK_SET || offset < 0 || offset > r->file_end - r->file_start)
    return CURL_SEEKFUNC_CANTSEEK;
  r->file_pos = r->file_start + offset;
  return CURL_SEEKFUNC_OK;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow) {
  sp_req *r = (sp_req *)ud;
  r->dl_total = dltotal;
  r->dl_now = dlnow;
  r->ul_total = ultotal;
  r->ul_now = ulnow;
  return 0;
}

/* called once a connection is ready, right before the request is sent */
static int on_prereq(void *ud, char *ip, char *local_ip, int port, int local_port) {
  (void)ip; (void)local_ip; (void)port; (void)local_port;
  ((sp_req *)ud)->prereq = 1;
  return CURL_PREREQFUNC_OK;
}

/* ----------------------------------------------------------------- start */

static int build_mime(sp_req *r, CURL *h) {
  struct sp_part *p;
  if ((r->mime = curl_mime_init(h)) == NULL) return -1;
  for (p = r->parts; p; p = p->next) {
    curl_mimepart *mp = curl_mime_addpart(r->mime);
    if (mp == NULL || curl_mime_name(mp, p->name) != CURLE_OK) return -1;
    if (p->file && curl_mime_filedata(mp, p->file) != CURLE_OK) return -1;
    if (p->data && curl_mime_data(mp, p->data, p->len) != CURLE_OK) return -1;
    if (p->filename && curl_mime_filename(mp, p->filename) != CURLE_OK) return -1;
    if (p->ctype && curl_mime_type(mp, p->ctype) != CURLE_OK) return -1;
  }
  free_parts(r);
  return 0;
}

#define SETOPT(h, o, v) do { if (rc == CURLE_OK) rc = curl_easy_setopt((h), (o), (v)); } while (0)

static CURLcode set_body(sp_req *r, CURL *h) {
  CURLcode rc = CURLE_OK;
  int post = strcmp(r->method, "POST") == 0;
  curl_off_t size = 0;
  switch (r->body_kind) {
  case SP_BODY_NONE:
    if (strcmp(r->method, "GET") == 0) { SETOPT(h, CURLOPT_HTTPGET, 1L); return rc; }
    if (strcmp(r->method, "HEAD") == 0) { SETOPT(h, CURLOPT_NOBODY, 1L); return rc; }
    if (!post && strcmp(r->method, "PUT") != 0 && strcmp(r->method, "PATCH") != 0) {
      SETOPT(h, CURLOPT_CUSTOMREQUEST, r->method);  /* DELETE etc.: no body at all */
      return rc;
    }
    /* POST/PUT/PATCH without a body: Content-Length: 0 */
    SETOPT(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
    SETOPT(h, CURLOPT_POSTFIELDS, "");
    break;
  case SP_BODY_MEM:
    size = (curl_off_t)r->mem_len;
    SETOPT(h, CURLOPT_POSTFIELDSIZE_LARGE, size);
    SETOPT(h, CURLOPT_POSTFIELDS, r->mem);   /* not copied: the caller keeps it */
    break;
  case SP_BODY_FILE:
    size = (curl_off_t)(r->file_end - r->file_start);
    SETOPT(h, CURLOPT_READFUNCTION, on_read);
    SETOPT(h, CURLOPT_READDATA, r);
    SETOPT(h, CURLOPT_SEEKFUNCTION, on_seek);
    SETOPT(h, CURLOPT_SEEKDATA, r);
    if (post) {
      SETOPT(h, CURLOPT_POST, 1L);
      SETOPT(h, CURLOPT_POSTFIELDSIZE_LARGE, size);
    } else {
      SETOPT(h, CURLOPT_UPLOAD, 1L);
      SETOPT(h, CURLOPT_INFILESIZE_LARGE, size);
    }
    break;
  case SP_BODY_MIME:
    if (build_mime(r, h) != 0) return CURLE_OUT_OF_MEMORY;
    SETOPT(h, CURLOPT_MIMEPOST, r->mime);
    break;
  }
  if (!post && !(r->body_kind == SP_BODY_FILE && strcmp(r->method, "PUT") == 0))
    SETOPT(h, CURLOPT_CUSTOMREQUEST, r->method);
  return rc;
}

/* options every request of an engine sets the same way */
static CURLcode set_engine_options(sp_engine *e, CURL *h, char *errbuf) {
  CURLcode rc = CURLE_OK;
  SETOPT(h, CURLOPT_NOSIGNAL, 1L);
  SETOPT(h, CURLOPT_ERRORBUFFER, errbuf);
  SETOPT(h, CURLOPT_PROTOCOLS_STR, "https,http");
  SETOPT(h, CURLOPT_FOLLOWLOCATION, 0L);
  SETOPT(h, CURLOPT_SSL_VERIFYPEER, 1L);
  SETOPT(h, CURLOPT_SSL_VERIFYHOST, 2L);
  SETOPT(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
  SETOPT(h, CURLOPT_PIPEWAIT, 1L);
  SETOPT(h, CURLOPT_TCP_KEEPALIVE, 1L);
  SETOPT(h, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
  SETOPT(h, CURLOPT_CONNECTTIMEOUT_MS, e->connect_timeout_ms);
  if (e->ca_file) {
    SETOPT(h, CURLOPT_CAINFO, e->ca_file);
    SETOPT(h, CURLOPT_CAPATH, (char *)NULL);
  }
  if (e->proxy) SETOPT(h, CURLOPT_PROXY, e->proxy);
  if (e->connect_to) SETOPT(h, CURLOPT_CONNECT_TO, e->connect_to);
  SETOPT(h, CURLOPT_WRITEFUNCTION, on_write);
  SETOPT(h, CURLOPT_HEADERFUNCTION, on_header);
  SETOPT(h, CURLOPT_XFERINFOFUNCTION, on_progress);
  SETOPT(h, CURLOPT_NOPROGRESS, 0L);
  SETOPT(h, CURLOPT_PREREQFUNCTION, on_prereq);
  return rc;
}

/* what the request itself sets; on a handle of the same shape (same method, a body
** that is none or in memory) it overrides everything the previous request set */
static CURLcode set_request_options(sp_req *r, sp_engine *e, CURL *h) {
  CURLcode rc = CURLE_OK;
  SETOPT(h, CURLOPT_URL, r->url);
  SETOPT(h, CURLOPT_PRIVATE, (void *)r);
  SETOPT(h, CURLOPT_TIMEOUT_MS, r->timeout_ms ? r->timeout_ms : e->timeout_ms);
  SETOPT(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)r->max_body);
  SETOPT(h, CURLOPT_WRITEDATA, r);
  SETOPT(h, CURLOPT_HEADERDATA, r);
  SETOPT(h, CURLOPT_XFERINFODATA, r);
  SETOPT(h, CURLOPT_PREREQDATA, r);
  if (rc == CURLE_OK) rc = set_body(r, h);
  if (rc == CURLE_OK && build_header_list(r, e) != 0) rc = CURLE_OUT_OF_MEMORY;
  SETOPT(h, CURLOPT_HTTPHEADER, r->hnodes);
  return rc;
}

/* the option shape of a request, 0 when its handle must be reset after use: a
** known method with no body or an in-memory one (no file, multipart or sink) */
static unsigned req_shape(const sp_req *r) {
  static const char *const methods[] = { "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", NULL };
  unsigned i;
  if ((r->body_kind != SP_BODY_NONE && r->body_kind != SP_BODY_MEM) || r->has_sink) return 0;
  for (i = 0; methods[i]; i++)
    if (strcmp(r->method, methods[i]) == 0) return (i + 1) << 4 | (unsigned)r->body_kind;
  return 0;
}

/* an idle handle with its error buffer, preferring one of the given shape (*reuse
** set when found); a new one when the pool is empty */
static CURL *pool_get(sp_engine *e, unsigned shape, int *reuse, char **errbuf) {
  int i;
  CURL *h;
  *reuse = 0;
  if (e->npool == 0) {
    if ((*errbuf = (char *)malloc(CURL_ERROR_SIZE)) == NULL) return NULL;
    if ((h = curl_easy_init()) == NULL) { free(*errbuf); *errbuf = NULL; }
    return h;
  }
  for (i = e->npool - 1; i >= 0 && shape != 0; i--) {
    if (e->pool[i].shape == shape) {
      h = e->pool[i].h;
      *errbuf = e->pool[i].errbuf;
      e->pool[i] = e->pool[--e->npool];
      *reuse = 1;
      return h;
    }
  }
  e->npool--;
  h = e->pool[e->npool].h;
  *errbuf = e->pool[e->npool].errbuf;
  if (e->pool[e->npool].shape != 0) curl_easy_reset(h);
  return h;
}

int sp_req_start(sp_req *r, sp_engine *e) {
  CURL *h;
  CURLcode rc;
  CURLMcode mc;
  int reuse;
  char *errbuf = NULL;
  if (r->state != SP_REQ_READY) return req_fail(r, SP_EINVAL, "request cannot be started");
  if (e->multi == NULL) return req_fail(r, SP_EINVAL, "engine is closed");
  if (r->max_body == 0) r->max_body = e->max_body;
  r->shape = req_shape(r);
  h = pool_get(e, r->shape, &reuse, &errbuf);
  if (h == NULL) return req_fail(r, SP_ETRANSPORT, "%s: out of memory", r->host);
  errbuf[0] = '\0';
  rc = reuse ? CURLE_OK : set_engine_options(e, h, errbuf);
  if (rc == CURLE_OK) rc = set_request_options(r, e, h);
  if (rc != CURLE_OK) {
    pool_put(e, h, errbuf, 0);
    release_transfer(r);
    return req_fail(r, rc == CURLE_OUT_OF_MEMORY ? SP_ETRANSPORT : SP_EINVAL,
                    "%s: cannot set up the request: %s", r->host, curl_easy_strerror(rc));
  }
  if ((mc = curl_multi_add_handle(e->multi, h)) != CURLM_OK) {
    pool_put(e, h, errbuf, 0);
    release_transfer(r);
    return req_fail(r, SP_ETRANSPORT, "%s: %s", r->host, curl_multi_strerror(mc));
  }
  r->easy = h;
  r->errbuf = errbuf;
  r->eng = e;
  r->state = SP_REQ_RUNNING;
  r->prev = NULL;
  r->next = e->active;
  if (e->active) e->active->prev = r;
  e->active = r;
  e->nactive++;
  e->fresh = 1;
  return 0;
}

int sp_req_cancel(sp_req *r) {
  sp_engine *e = r->eng;
  if (r->state != SP_REQ_RUNNING || e == NULL) return 0;
  curl_multi_remove_handle(e->multi, r->easy);
  pool_put(e, r->easy, r->errbuf, 0);
  r->easy = NULL;
  r->errbuf = NULL;
  unlink_req(r);
  release_transfer(r);
  r->state = SP_REQ_DONE;
  set_err(&r->err, SP_ECANCELLED, 0, "%s: request cancelled", r->host);
  r->err.sent = r->prereq;
  return 1;
}

void sp_req_close(sp_req *r) {
  if (r->state == SP_REQ_CLOSED) return;
  if (r->state == SP_REQ_RUNNING) sp_req_cancel(r);
  unlink_req(r);                /* finished, not yet taken */
  release_transfer(r);
  free_parts(r);
  free(r->url);
  r->url = NULL;
  sp_buf_free(&r->body);
  sp_buf_free(&r->hdrs);
  r->state = SP_REQ_CLOSED;
}

size_t sp_req_header_next(const sp_req *r, size_t off, const char **name, size_t *nlen,
                          const char **value, size_t *vlen) {
  const char *p;
  if (off >= r->hdrs.len) return 0;
  p = r->hdrs.data + off;
  *name = p;
  *nlen = strlen(p);
  *value = p + *nlen + 1;
  *vlen = strlen(*value);
  return off + *nlen + 1 + *vlen + 1;
}

double sp_http_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}
