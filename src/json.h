/*
** json.h - JSON codec straight to and from Lua values (RFC 8259, exact
** integers). No intermediate tree: decode pushes onto the Lua stack, encode
** walks Lua tables into an sp_buf.
** SPDX-License-Identifier: MIT
*/
#ifndef SP_JSON_H
#define SP_JSON_H

#include <stddef.h>

#include "lua.h"
#include "buf.h"
#include "socialpush.h"

/* sp_json_err.code */
#define SP_JSON_EDECODE 1 /* malformed JSON text */
#define SP_JSON_EINVAL 2  /* value that JSON cannot represent */
#define SP_JSON_ENOMEM 3  /* the C buffer could not grow */

/* encode flags */
#define SP_JSON_SORT_KEYS 1

/* a failure, with a message ready for Lua ("json.decode: ... at byte N") */
typedef struct {
  int code;
  size_t offset; /* decode: 1-based byte offset of the fault; else 0 */
  char msg[160];
} sp_json_err;

/*
** Decode s[0..len) and push one value onto L. array_mt is the stack index
** (absolute or pseudo-index) of the metatable given to every decoded array.
** Returns 0, or -1 with e filled and the stack as it was. Holds no C heap
** memory, so a Lua memory error raised inside leaks nothing.
*/
int sp_json_decode(lua_State *L, const char *s, size_t len, int array_mt,
                   sp_json_err *e);

/*
** Append the JSON text of the value at idx to b. array_mt identifies marked
** arrays. Returns 0, or -1 with e filled (b then holds a partial text). Reads
** tables raw and runs no Lua code; b must be owned by something that frees
** it should a Lua memory error unwind through here.
*/
int sp_json_encode(lua_State *L, int idx, sp_buf *b, int flags, int array_mt,
                   sp_json_err *e);

/*
** Number of characters of the UTF-8 text s[0..len), with the encoder's and
** decoder's own strictness (no overlongs, no surrogates, nothing above
** U+10FFFF). Returns the count, or (size_t)-1 with *bad set to the 0-based
** byte offset of the first ill-formed sequence.
*/
size_t sp_utf8_count(const char *s, size_t len, size_t *bad);

#endif
