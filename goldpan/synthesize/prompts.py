"""Prompt templates: `<prompts_dir>/<template>.<lang>.txt`, one file per language.

A template is plain text with `{passage}` and `{style}` fields. An optional first block ending in a
line `---` is the system message. Its id (`<template>.<lang>`) and the sha1 of its bytes are stored
on every output, so a changed template is a new cache key and `trace` shows the exact wording.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SEPARATOR = "\n---\n"


class TemplateError(ValueError):
    """A template that is missing or uses fields other than {passage} and {style}."""


@dataclass(frozen=True)
class Template:
    template_id: str
    sha1: str
    system: str | None
    user: str

    def render(self, passage: str, style: str) -> tuple[str | None, str]:
        return self.system, self.user.replace("{passage}", passage).replace("{style}", style)


@lru_cache(maxsize=256)
def _load(path: str, mtime_ns: int) -> Template:
    raw = Path(path).read_bytes()
    text = raw.decode("utf-8")
    system, user = (text.split(SEPARATOR, 1) if SEPARATOR in text else (None, text))
    if "{passage}" not in user:
        raise TemplateError(f"{path}: a template needs a {{passage}} field")
    name = Path(path).name.removesuffix(".txt")
    return Template(name, hashlib.sha1(raw).hexdigest(), system.strip() if system else None, user.rstrip("\n"))


def template_path(prompts_dir: str, template: str, lang: str) -> Path:
    """`<prompts_dir>/<template>.<lang>.txt`; a relative folder missing from the working directory is
    looked up in the checkout (so `recipes/prompts` works from any directory of a source install)."""
    base = Path(prompts_dir)
    if not base.is_absolute() and not base.is_dir():
        repo = Path(__file__).resolve().parents[2]
        if (repo / base).is_dir():
            base = repo / base
    return base / f"{template}.{lang}.txt"


def load_template(prompts_dir: str, template: str, lang: str) -> Template:
    p = template_path(prompts_dir, template, lang)
    if not p.is_file():
        raise TemplateError(f"no prompt template {p} (task template {template!r}, language {lang!r})")
    return _load(str(p.resolve()), p.stat().st_mtime_ns)
