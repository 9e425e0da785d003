// Splitting a large folio into folios of one page (split.c).
#ifndef QUIRE_SPLIT_H
#define QUIRE_SPLIT_H

struct folio;

int split_folio(struct folio *folio);

#endif
