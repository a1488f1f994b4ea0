/*
** http.c - pure C core (placeholder)
** SPDX-License-Identifier: MIT
*/
#include "http.h"
