"""``AssetKey``: the key of an asset, shared by asset definitions (:mod:`weft.asset`) and
the context of the step that materializes one (:mod:`weft.context`)."""

from __future__ import annotations

from typing import Sequence, Union

from .errors import DefinitionError


class AssetKey:
    """An asset's key: a path such as ``AssetKey(["warehouse", "orders"])``, shown
    ``warehouse/orders``."""

    def __init__(self, path: Union[str, Sequence[str]]) -> None:
        self.path = [path] if isinstance(path, str) else [str(p) for p in path]
        if not self.path:
            raise DefinitionError("an asset key is never empty")

    @staticmethod
    def from_user_string(text: str) -> "AssetKey":
        return AssetKey(text.split("/"))

    def to_user_string(self) -> str:
        return "/".join(self.path)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AssetKey) and other.path == self.path

    def __hash__(self) -> int:
        return hash(tuple(self.path))

    def __repr__(self) -> str:
        return f"AssetKey({self.path!r})"
