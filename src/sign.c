/*
** sign.c - pure C core (placeholder)
** SPDX-License-Identifier: MIT
*/
#include "sign.h"
