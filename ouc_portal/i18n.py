"""Bilingual content: every public record carries English and Chinese text side by side."""

from __future__ import annotations

from django.utils.translation import get_language


def is_chinese() -> bool:
    return (get_language() or "").lower().startswith("zh")


def pick(en: str, zh: str) -> str:
    """The text for the active language, falling back to the other when one is missing."""
    if is_chinese():
        return zh or en
    return en or zh


class BilingualName:
    """Mixin for models with ``name_en`` and ``name_zh``: ``obj.name`` follows the language."""

    name_en: str
    name_zh: str

    @property
    def name(self) -> str:
        return pick(self.name_en, self.name_zh)

    @property
    def other_name(self) -> str:
        """The name in the other language, for showing both (empty when identical or missing)."""
        other = self.name_en if is_chinese() else self.name_zh
        return "" if other == self.name else other
