/* SPDX-License-Identifier: MIT */
/* Inside ept02: the page pool and the root cache that ept02.c installs into. */
#ifndef NESTVISOR_EPT_EPT02_POOL_H
#define NESTVISOR_EPT_EPT02_POOL_H

#include "ept/ept02.h"

uint64_t *ept02_table(struct ept02 *c, uint64_t phys);
uint32_t ept02_free_pages(const struct ept02 *c);
/* A zeroed pool page for r; the caller made room for it first. */
uint64_t ept02_page_alloc(struct ept02 *c, struct ept02_root *r);
/* The root of eptp12, created if absent, marked most recently used. */
struct ept02_root *ept02_root_get(struct ept02 *c, uint64_t eptp12);
/*
 * Make n pages free by dropping roots other than keep (NULL: any), least
 * recently used first; counts one reclaim if any was needed. False if even
 * dropping all of them was not enough.
 */
bool ept02_make_room(struct ept02 *c, const struct ept02_root *keep, uint32_t n);
/* Empty a root: its tables back to the pool, its PML4 kept and zeroed. */
void ept02_root_flush(struct ept02 *c, struct ept02_root *r);

#endif
