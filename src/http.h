/*
** http.h - libcurl multi engine (pure C, no lua.h)
**
** One sp_engine per client: a CURLM with connection reuse (keep-alive,
** HTTP/2 multiplexing where offered) and a small pool of reusable easy
** handles. An sp_req is one HTTP exchange added to the engine. Both structs
** are plain memory the caller owns (the Lua binding embeds them in userdata,
** the C tests on the stack): zero them, call *_init, and *_close exactly the
** resources; closing twice is harmless.
**
** No callback here ever calls back into the caller: libcurl callbacks only
** store bytes and counters in the sp_req. Errors are reported in sp_err.
** SPDX-License-Identifier: MIT
*/
#ifndef SP_HTTP_H
#define SP_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <curl/curl.h>

#include "buf.h"

/* error kinds (the names are socialpush's error kinds, DESIGN section 2) */
typedef enum {
  SP_OK = 0,
  SP_EINVAL,      /* invalid_argument: bad header, URL, file range... */
  SP_ETIMEOUT,    /* timeout */
  SP_ETLS,        /* tls */
  SP_ETOOLARGE,   /* too_large: response over max_body */
  SP_ECANCELLED,  /* cancelled */
  SP_ETRANSPORT,  /* transport: everything else, incl. out of memory */
} sp_kind;

const char *sp_kind_name(sp_kind k);

typedef struct {
  sp_kind kind;
  int curl_code;          /* CURLcode, 0 when not from libcurl */
  int sent;               /* some request byte may have reached the server */
  int connected;          /* a connection (TCP) to the server was established */
  char msg[256];          /* never holds URL query, headers or body */
} sp_err;

/* engine options; strings are copied by sp_engine_init */
typedef struct {
  double timeout;         /* seconds, > 0 */
  double connect_timeout; /* seconds, > 0 */
  const char *ca_file;    /* NULL: libcurl's default trust store */
  const char *proxy;      /* NULL: libcurl default (environment); "": none */
  const char *const *connect_to; /* NULL-terminated, or NULL */
  const char *user_agent; /* NULL: "socialpush/<version> libcurl/<v>" */
  size_t max_body;        /* 0: SP_HTTP_MAX_BODY */
} sp_engine_opts;

typedef struct sp_req sp_req;
struct sp_part;
/* an idle easy handle: shape is what a same-shaped request need not set again
** (0: reset it before reuse) */
struct sp_pooled { CURL *h; unsigned shape; char *errbuf; };

typedef struct {
  CURLM *multi;           /* NULL once closed (or before init) */
  long timeout_ms, connect_timeout_ms;
  size_t max_body;
  char *ca_file, *proxy;
  char *ua_line;          /* "User-Agent: <user_agent>", sent unless a request has one */
  struct curl_slist *connect_to;
  struct sp_pooled *pool; /* idle easy handles (see sp_req_start) */
  int npool, cappool;
  char *url_cache;        /* the last URL sp_req_init_in accepted, and its host */
  size_t url_cache_len;
  char url_cache_host[128];
  sp_req *active;         /* in the multi (doubly linked) */
  sp_req *finished;       /* done, not yet taken by sp_engine_take (FIFO) */
  sp_req *finished_tail;
  int nactive;
  int fresh;              /* transfers added since the last perform */
} sp_engine;

typedef enum {
  SP_REQ_NEW = 0,         /* zeroed: nothing acquired */
  SP_REQ_READY,           /* prepared, not added */
  SP_REQ_RUNNING,         /* in the multi */
  SP_REQ_DONE,            /* finished (ok or error), result available */
  SP_REQ_CLOSED
} sp_req_state;

typedef enum { SP_BODY_NONE = 0, SP_BODY_MEM, SP_BODY_FILE, SP_BODY_MIME } sp_body_kind;

typedef struct {
  double namelookup, connect, tls, start_transfer, total;
} sp_timings;

struct sp_req {
  sp_req_state state;
  sp_engine *eng;         /* set while RUNNING (or finished, untaken) */
  sp_req *prev, *next;    /* links in eng->active or eng->finished */
  CURL *easy;             /* only while RUNNING */
  sp_buf hlines;          /* request header lines, each NUL-terminated */
  int nhlines;
  struct curl_slist *hnodes; /* the list handed to libcurl: nodes into hlines, then
                             ** the engine's User-Agent and static lines */
  curl_mime *mime;
  struct sp_part *parts;  /* multipart parts, built into mime at start */
  int has_expect, has_ctype, has_ua;
  unsigned shape;         /* set by sp_req_start: the easy handle's option shape */
  /* request body */
  sp_body_kind body_kind;
  const char *mem;        /* SP_BODY_MEM: caller keeps it alive until done */
  size_t mem_len;
  int fd;                 /* SP_BODY_FILE: owned, -1 when none */
  int64_t file_start, file_pos, file_end;
  int short_file;         /* the file shrank under us */
  int sink_fd;            /* response body to this file instead of memory; -1 none */
  int has_sink, sink_error;
  int64_t received;       /* response body bytes so far */
  /* options */
  char method[24];
  char host[128];         /* for messages only */
  char *url;
  long timeout_ms;
  size_t max_body;        /* cap on the response body (memory or sink) */
  /* response */
  sp_buf body;
  sp_buf hdrs;            /* lowercased name '\0' value '\0' ... (last response only) */
  int nhdrs;
  int too_large, oom, prereq;
  long status;
  int http_version;       /* 10, 11, 20, 30; 0 unknown */
  int reused;
  sp_timings timings;
  /* progress, written by the XFERINFO callback */
  int64_t ul_now, ul_total, dl_now, dl_total;
  sp_err err;             /* err.kind == SP_OK: a response */
  char *errbuf;           /* CURL_ERROR_SIZE bytes owned with the easy handle */
};

/* once per process; returns 0 or -1 (thread-unsafe the first time, like libcurl) */
int sp_http_global_init(void);

/* 0 or -1 with e filled (kind SP_EINVAL for bad options, SP_ETRANSPORT for OOM) */
int sp_engine_init(sp_engine *e, const sp_engine_opts *o, sp_err *err);
/* cancels in-flight requests, frees everything; idempotent */
void sp_engine_close(sp_engine *e);
/* starts new transfers; then (wait > 0, nothing finished yet) curl_multi_poll up to
** wait seconds and curl_multi_perform; finished requests move to the finished list.
** Returns the number of transfers still running; *nfinished gets the length of
** the finished list. -1 on a multi error (err filled). */
int sp_engine_perform(sp_engine *e, double wait, int *nfinished, sp_err *err);
/* pops the oldest finished request, or NULL */
sp_req *sp_engine_take(sp_engine *e);

/* a header name/value is acceptable: no CR, LF or NUL; the name a non-empty
** RFC 9110 token (so no ':' or whitespace) */
int sp_http_header_name_ok(const char *s, size_t n);
int sp_http_header_value_ok(const char *s, size_t n);

/* request set-up, on a zeroed sp_req; each returns 0 or -1 with req->err */
int sp_req_init(sp_req *r, const char *method, const char *url, size_t url_len);
/* the same, skipping the URL parse when url is the engine's previous one */
int sp_req_init_in(sp_req *r, sp_engine *e, const char *method, const char *url,
                   size_t url_len);
int sp_req_header(sp_req *r, const char *name, size_t nlen, const char *value, size_t vlen,
                  int remove);
int sp_req_body_mem(sp_req *r, const char *data, size_t len);
int sp_req_body_file(sp_req *r, const char *path, int64_t offset, int64_t length);
/* multipart parts: data (copied) or a file path (streamed) */
int sp_req_part(sp_req *r, const char *name, const char *data, size_t len, const char *file,
                const char *filename, const char *content_type);
/* write the response body to a file (created or truncated) instead of memory */
int sp_req_sink_file(sp_req *r, const char *path);
void sp_req_options(sp_req *r, double timeout, size_t max_body);
/* adds to the engine; the request becomes RUNNING */
int sp_req_start(sp_req *r, sp_engine *e);
/* in flight: removes it, result kind cancelled; returns 1 if it was running */
int sp_req_cancel(sp_req *r);
/* frees everything (cancels if running); idempotent; state becomes CLOSED */
void sp_req_close(sp_req *r);

/* monotonic clock, seconds */
double sp_http_now(void);

/* walk the stored response headers: returns the next offset, or 0 at the end */
size_t sp_req_header_next(const sp_req *r, size_t off, const char **name, size_t *nlen,
                          const char **value, size_t *vlen);

#endif
