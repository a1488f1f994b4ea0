/*
** json.c - pure C core (placeholder)
** SPDX-License-Identifier: MIT
*/
#include "json.h"
