// Circular doubly linked lists threaded through the structures on them.
//
// A structure that can be on a list embeds a struct list_head; the list
// itself is a struct list_head that links to the first and last members.
// list_entry() gets from the embedded link back to the structure.
#ifndef QUIRE_LIST_H
#define QUIRE_LIST_H

#include "types.h"

struct list_head {
  struct list_head *next, *prev;
};

#define LIST_HEAD_INIT(name) { &(name), &(name) }
#define list_entry(link, type, member) container_of(link, type, member)
#define list_first_entry(head, type, member) list_entry((head)->next, type, member)
#define list_last_entry(head, type, member) list_entry((head)->prev, type, member)

static inline void
INIT_LIST_HEAD(struct list_head *l)
{
  l->next = l->prev = l;
}

static inline int
list_empty(const struct list_head *head)
{
  return head->next == head;
}

static inline void
list_insert_between(struct list_head *n, struct list_head *prev, struct list_head *next)
{
  next->prev = n;
  n->next = next;
  n->prev = prev;
  prev->next = n;
}

// Add n at the front of the list.
static inline void
list_add(struct list_head *n, struct list_head *head)
{
  list_insert_between(n, head, head->next);
}

// Add n at the back of the list.
static inline void
list_add_tail(struct list_head *n, struct list_head *head)
{
  list_insert_between(n, head->prev, head);
}

// Take entry off its list and leave it pointing at itself, so that
// list_empty(entry) tells whether it is on a list.
static inline void
list_del_init(struct list_head *entry)
{
  entry->next->prev = entry->prev;
  entry->prev->next = entry->next;
  INIT_LIST_HEAD(entry);
}

static inline void
list_move(struct list_head *entry, struct list_head *head)
{
  list_del_init(entry);
  list_add(entry, head);
}

static inline void
list_move_tail(struct list_head *entry, struct list_head *head)
{
  list_del_init(entry);
  list_add_tail(entry, head);
}

// Move every entry of list to the back of head; list becomes empty.
static inline void
list_splice_tail_init(struct list_head *list, struct list_head *head)
{
  if (list_empty(list))
    return;
  struct list_head *first = list->next, *last = list->prev;
  first->prev = head->prev;
  head->prev->next = first;
  last->next = head;
  head->prev = last;
  INIT_LIST_HEAD(list);
}

#define list_for_each_entry(pos, head, member) \
  for (pos = list_entry((head)->next, typeof(*pos), member); \
       &pos->member != (head); \
       pos = list_entry(pos->member.next, typeof(*pos), member))

#endif
