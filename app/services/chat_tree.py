"""A conversation's messages as a tree: the branch shown, the versions of each message on it,
and the newest leaf under a version the user switches to.

A message's parent is the message before it on its branch (None for a first message); an
edit or a regeneration is a sibling of what it redoes. Works on light rows (anything with
``id``, ``parent_id``, ``seq``, ``role`` and ``status``), read once per page: no query per
message. Messages stored with no parent at all (written before the tree, or by bulk loads)
read as one branch in ``seq`` order: the tree's own writes always give a reply a parent.
"""

from __future__ import annotations

from collections.abc import Iterable


class Shown:
    """A message on the branch shown (the row's fields, copied: a template reads each of a
    thousand messages several times), with where it stands among its versions: ``version``
    (1-based), ``versions``, and the siblings before and after it to switch to
    (``previous_id``, ``next_id``)."""

    def __init__(self, row, **place):
        fields = row._asdict() if hasattr(row, "_asdict") else dict(vars(row))
        self.__dict__.update(fields, **place)


class Tree:
    """The messages of one conversation by id and by parent, each sibling list oldest first."""

    def __init__(self, rows: Iterable):
        self.rows = sorted(rows, key=lambda row: row.seq)
        self.by_id = {row.id: row for row in self.rows}
        self.parent_of: dict[str, str | None] = {
            row.id: row.parent_id if row.parent_id in self.by_id else None for row in self.rows}
        if len(self.rows) > 1 and not any(self.parent_of.values()):  # one linear branch
            self.parent_of = {row.id: previous.id if previous is not None else None
                              for previous, row in zip([None, *self.rows[:-1]], self.rows,
                                                       strict=True)}
        self.children: dict[str | None, list] = {}
        for row in self.rows:
            self.children.setdefault(self.parent_of[row.id], []).append(row)

    def siblings(self, row) -> list:
        """``row`` and its other versions (the children of its parent), oldest first."""
        return self.children.get(self.parent_of[row.id], [])

    def leaf(self, current_leaf_id: str | None):
        """The leaf of the branch shown: the remembered one, else the newest message."""
        if current_leaf_id in self.by_id:
            return self.by_id[current_leaf_id]
        return self.rows[-1] if self.rows else None

    def path(self, leaf_id: str | None) -> list:
        """The messages from the first one down to ``leaf_id`` (the whole branch shown)."""
        row, path = self.leaf(leaf_id), []
        while row is not None:
            path.append(row)
            row = self.by_id.get(self.parent_of[row.id])
        path.reverse()
        return path

    def newest_leaf(self, message_id: str) -> str:
        """The newest message under ``message_id`` (itself included): always a leaf, since
        anything written after it below it would be newer still."""
        newest, stack = self.by_id[message_id], [self.by_id[message_id]]
        while stack:
            row = stack.pop()
            if row.seq > newest.seq:
                newest = row
            stack.extend(self.children.get(row.id, ()))
        return newest.id

    def shown(self, leaf_id: str | None) -> list[Shown]:
        """The branch shown, each message with its version number and neighbours."""
        result = []
        for row in self.path(leaf_id):
            siblings = self.siblings(row)
            index = next(i for i, sibling in enumerate(siblings) if sibling.id == row.id)
            result.append(Shown(
                row, version=index + 1, versions=len(siblings),
                previous_id=siblings[index - 1].id if index > 0 else None,
                next_id=siblings[index + 1].id if index + 1 < len(siblings) else None))
        return result

    def choices(self, leaf_id: str | None) -> list:
        """The replies to pick from when the branch ends at a user message that has replies
        (a comparison of models): empty otherwise."""
        leaf = self.leaf(leaf_id)
        if leaf is None or leaf.role != "user":
            return []
        return [row for row in self.children.get(leaf.id, []) if row.role == "assistant"]
