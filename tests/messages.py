"""Keep the French catalogue whole: ``--update`` extracts and compiles, ``--check`` fails on any gap.

Source strings are English; French is the default language, so every string must have a French translation.
Compiled ``.mo`` files are committed so that a machine without gettext still shows French.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import polib  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "grenier"
PO = PACKAGE / "locale" / "fr" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def extract() -> None:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="grenier.settings", GRENIER_DEBUG="1")
    PO.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "django",
            "makemessages",
            "-l",
            "fr",
            "--no-obsolete",
            "--no-location",
            "-i",
            "tests/*",
        ],
        cwd=PACKAGE,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def compile_mo() -> None:
    polib.pofile(str(PO)).save_as_mofile(str(MO))


def problems() -> list[str]:
    catalogue = polib.pofile(str(PO))
    found = [f"untranslated: {entry.msgid!r}" for entry in catalogue.untranslated_entries()]
    found += [f"fuzzy (check and remove the flag): {entry.msgid!r}" for entry in catalogue.fuzzy_entries()]
    compiled = {
        (e.msgctxt, e.msgid): (e.msgstr, tuple(sorted(e.msgstr_plural.items())))
        for e in polib.mofile(str(MO))
    }
    for entry in catalogue.translated_entries():
        key = (entry.msgctxt, entry.msgid)
        if compiled.get(key) != (entry.msgstr, tuple(sorted(entry.msgstr_plural.items()))):
            found.append(f"not compiled (run make messages): {entry.msgid!r}")
    return found


def main(argv: list[str]) -> int:
    if "--update" in argv:
        extract()
        compile_mo()
        gaps = problems()
        print(f"{PO.relative_to(ROOT)}: {len(gaps)} to translate")
        for gap in gaps:
            print("  " + gap)
        return 0
    if shutil.which("xgettext") is None:
        print("check-messages needs GNU gettext (apt-get install gettext)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as keep:
        saved = Path(keep) / "django.po"
        shutil.copy(PO, saved)
        try:
            extract()
            current = {(e.msgctxt, e.msgid) for e in polib.pofile(str(PO))}
        finally:
            shutil.copy(saved, PO)
    committed = {(e.msgctxt, e.msgid) for e in polib.pofile(str(PO))}
    gaps = [
        f"missing from the catalogue (run make messages): {msgid!r}"
        for _ctx, msgid in sorted(current - committed, key=str)
    ]
    gaps += problems()
    for gap in gaps:
        print(gap)
    print(f"French catalogue: {len(committed)} strings, {len(gaps)} problems")
    return 1 if gaps else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
