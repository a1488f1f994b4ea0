/*
** buf.c - growable byte buffer
** SPDX-License-Identifier: MIT
*/
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

#include "buf.h"

void sp_buf_init(sp_buf *b) {
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
}

void sp_buf_free(sp_buf *b) {
  free(b->data);
  sp_buf_init(b);
}

void sp_buf_reset(sp_buf *b) {
  b->len = 0;
}

int sp_buf_reserve(sp_buf *b, size_t extra) {
  size_t need, cap;
  char *p;
  if (extra > SIZE_MAX - b->len - 1) return -1;
  need = b->len + extra + 1; /* room for a terminating NUL */
  if (need <= b->cap) return 0;
  cap = b->cap ? b->cap : 512;         /* one allocation for most headers and small bodies */
  while (cap < need) {
    if (cap > SIZE_MAX / 2) { cap = need; break; }
    cap *= 2;
  }
  p = (char *)realloc(b->data, cap);
  if (p == NULL) return -1;
  b->data = p;
  b->cap = cap;
  return 0;
}

int sp_buf_append(sp_buf *b, const void *p, size_t n) {
  if (n == 0) return 0;
  if (sp_buf_reserve(b, n) != 0) return -1;
  memcpy(b->data + b->len, p, n);
  b->len += n;
  return 0;
}

int sp_buf_putc(sp_buf *b, char c) {
  if (sp_buf_reserve(b, 1) != 0) return -1;
  b->data[b->len++] = c;
  return 0;
}

int sp_buf_puts(sp_buf *b, const char *s) {
  return sp_buf_append(b, s, strlen(s));
}
