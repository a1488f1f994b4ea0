/*
** lsp.h - per-area openers; each pushes its part of socialpush.core
** SPDX-License-Identifier: MIT
*/
#ifndef SP_LSP_H
#define SP_LSP_H

#include "lua.h"

int lsp_open_json(lua_State *L);
int lsp_open_sign(lua_State *L);
int lsp_open_http(lua_State *L);

#endif
