/*
** socialpush.h - version, export macro and shared limits of socialpush.core
** SPDX-License-Identifier: MIT
*/
#ifndef SOCIALPUSH_H
#define SOCIALPUSH_H

#define SP_VERSION "0.1.0"

#if defined(_WIN32)
#define SP_API __declspec(dllexport)
#else
#define SP_API __attribute__((visibility("default")))
#endif

struct lua_State;
SP_API int luaopen_socialpush_core(struct lua_State *L);

/* JSON nesting limit, both ways */
#define SP_JSON_MAX_DEPTH 1000

/* default cap on a response body */
#define SP_HTTP_MAX_BODY (8u * 1024u * 1024u)

#endif
