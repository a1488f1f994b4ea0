/*
** test_http.c - pure C checks of the libcurl engine (no Lua, no network):
** header validation, URL and file checks, engine/request lifetimes.
** SPDX-License-Identifier: MIT
*/
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"

static int failures = 0, checks = 0;

#define CHECK(c) do { checks++; if (!(c)) { failures++; \
  fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); } } while (0)

static void test_headers(void) {
  CHECK(sp_http_header_name_ok("Content-Type", 12));
  CHECK(sp_http_header_name_ok("x-a_b.c~!#$%&'*+^`|", 19));
  CHECK(!sp_http_header_name_ok("", 0));
  CHECK(!sp_http_header_name_ok("A B", 3));
  CHECK(!sp_http_header_name_ok("A:B", 3));
  CHECK(!sp_http_header_name_ok("A\r\nB", 4));
  CHECK(!sp_http_header_name_ok("A\0B", 3));
  CHECK(sp_http_header_value_ok("Bearer abc, d=\"e f\"", 19));
  CHECK(sp_http_header_value_ok("", 0));
  CHECK(!sp_http_header_value_ok("a\rb", 3));
  CHECK(!sp_http_header_value_ok("a\nb", 3));
  CHECK(!sp_http_header_value_ok("a\0b", 3));
}

static void test_request_checks(void) {
  sp_req r;
  const char *u;
  memset(&r, 0, sizeof r);
  u = "https://api.x.com/2/tweets?x=1";
  CHECK(sp_req_init(&r, "POST", u, strlen(u)) == 0);
  CHECK(strcmp(r.host, "api.x.com") == 0);
  CHECK(sp_req_header(&r, "X-Ok", 4, "v", 1, 0) == 0);
  CHECK(sp_req_header(&r, "X-Bad", 5, "v\r\nY: z", 7, 0) == -1 && r.err.kind == SP_EINVAL);
  CHECK(strstr(r.err.msg, "v\r\n") == NULL);
  CHECK(sp_req_body_file(&r, "/nonexistent", 0, -1) == -1 && r.err.kind == SP_EINVAL);
  sp_req_close(&r);
  sp_req_close(&r);                         /* idempotent */
  CHECK(r.state == SP_REQ_CLOSED);

  memset(&r, 0, sizeof r);
  u = "gopher://example.com/";
  CHECK(sp_req_init(&r, "GET", u, strlen(u)) == -1 && r.err.kind == SP_EINVAL);
  sp_req_close(&r);
  memset(&r, 0, sizeof r);
  u = "https://example.com/a\nb";
  CHECK(sp_req_init(&r, "GET", u, strlen(u)) == -1 && r.err.kind == SP_EINVAL);
  sp_req_close(&r);
  memset(&r, 0, sizeof r);
  u = "https://example.com/";
  CHECK(sp_req_init(&r, "G T", u, strlen(u)) == -1 && r.err.kind == SP_EINVAL);
  sp_req_close(&r);
  memset(&r, 0, sizeof r);
  sp_req_close(&r);                         /* a zeroed request closes cleanly */
}

static void test_file_range(void) {
  char path[] = "/tmp/sp_test_http_XXXXXX";
  int fd = mkstemp(path);
  sp_req r;
  const char *u = "https://upload.example/";
  CHECK(fd >= 0);
  CHECK(write(fd, "0123456789", 10) == 10);
  close(fd);
  memset(&r, 0, sizeof r);
  CHECK(sp_req_init(&r, "PUT", u, strlen(u)) == 0);
  CHECK(sp_req_body_file(&r, path, 4, 7) == -1 && r.err.kind == SP_EINVAL);
  CHECK(sp_req_body_file(&r, path, 11, -1) == -1);
  CHECK(sp_req_body_file(&r, path, 4, -1) == 0);
  CHECK(r.file_end - r.file_pos == 6);
  sp_req_close(&r);
  unlink(path);
}

static void test_lifetimes(void) {
  sp_engine e;
  sp_engine_opts o;
  sp_err err;
  sp_req a, b;
  int nfin = -1;
  const char *u = "https://api.x.com/";
  memset(&o, 0, sizeof o);
  CHECK(sp_engine_init(&e, &o, &err) == 0);
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  CHECK(sp_req_init(&a, "GET", u, strlen(u)) == 0 && sp_req_start(&a, &e) == 0);
  CHECK(sp_req_init(&b, "GET", u, strlen(u)) == 0 && sp_req_start(&b, &e) == 0);
  CHECK(e.nactive == 2);
  CHECK(sp_req_cancel(&a) == 1 && a.err.kind == SP_ECANCELLED && !a.err.sent);
  CHECK(sp_req_cancel(&a) == 0);
  CHECK(e.nactive == 1);
  sp_engine_close(&e);                      /* b is in flight: ends cancelled */
  CHECK(b.state == SP_REQ_DONE && b.err.kind == SP_ECANCELLED && b.eng == NULL);
  sp_engine_close(&e);                      /* idempotent */
  sp_req_close(&a);
  sp_req_close(&b);
  /* a request closed while in flight unlinks itself */
  CHECK(sp_engine_init(&e, &o, &err) == 0);
  memset(&a, 0, sizeof a);
  CHECK(sp_req_init(&a, "GET", u, strlen(u)) == 0 && sp_req_start(&a, &e) == 0);
  sp_req_close(&a);
  CHECK(e.nactive == 0 && e.active == NULL);
  CHECK(sp_engine_perform(&e, 0, &nfin, &err) == 0 && nfin == 0);
  CHECK(sp_engine_take(&e) == NULL);
  sp_engine_close(&e);
}

int main(void) {
  if (sp_http_global_init() != 0) return 1;
  test_headers();
  test_request_checks();
  test_file_range();
  test_lifetimes();
  printf("test_http: %d checks, %d failed\n", checks, failures);
  return failures ? 1 : 0;
}
