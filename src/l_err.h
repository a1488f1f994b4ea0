/*
** l_err.h - operational failures as nil, msg, err
** SPDX-License-Identifier: MIT
*/
#ifndef SP_L_ERR_H
#define SP_L_ERR_H

#include "lua.h"

#define SP_ERROR_MT "socialpush.error"

/*
** Push nil, msg, err where err = setmetatable({kind=, message=}, error_mt)
** and return 3. msg is formatted like lua_pushfstring. Never call this while
** holding malloc'ed memory: pushing may raise a Lua memory error.
*/
int lsp_fail(lua_State *L, const char *kind, const char *fmt, ...);

/* creates the socialpush.error metatable; pushes it */
int lsp_open_err(lua_State *L);

#endif
