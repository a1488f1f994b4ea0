/*
** buf.h - growable byte buffer on the C heap (no lua.h)
** Every function that can allocate returns 0 on success, -1 on out of
** memory; the buffer is left valid either way.
** SPDX-License-Identifier: MIT
*/
#ifndef SP_BUF_H
#define SP_BUF_H

#include <stddef.h>

typedef struct {
  char *data;
  size_t len;
  size_t cap;
} sp_buf;

void sp_buf_init(sp_buf *b);
void sp_buf_free(sp_buf *b);
void sp_buf_reset(sp_buf *b); /* len = 0, memory kept */
int sp_buf_reserve(sp_buf *b, size_t extra);
int sp_buf_append(sp_buf *b, const void *p, size_t n);
int sp_buf_putc(sp_buf *b, char c);
int sp_buf_puts(sp_buf *b, const char *s);

/* append without a capacity check: caller reserved room first */
#define sp_buf_putc_unsafe(b, c) ((b)->data[(b)->len++] = (char)(c))

#endif
