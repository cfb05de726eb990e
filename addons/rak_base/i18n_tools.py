"""Translation tooling (issue 12): which files speak to customers, the strings they leave unmarked,
the catalogue of their marked strings, and what the Arabic and English catalogues still lack.

French is the source language: the msgids are French; ``locale/ar`` and ``locale/en`` hold the
translations of every string a customer can meet (the portal, its forms and messages, the services'
errors, PDFs, SMS and e-mails). The back office stays French: its files (``BACKOFFICE_ONLY``) are
neither extracted for Arabic and English nor checked for unmarked strings here (their strings are
still marked, for ``locale/fr``'s few overrides of the admin theme).

Used by ``manage.py i18n`` (extract, fragment, check) and by the CI test
``tests/unit/test_i18n_catalogues.py``. Extraction runs GNU xgettext over the Python files and over
Django's ``templatize()`` rendering of the templates, with Django's keywords (as makemessages does,
but without writing temporary files beside the sources), and catalogues are read, merged and
compiled with polib.
"""

from __future__ import annotations

import ast
import fcntl
import fnmatch
import io
import re
import shutil
import subprocess
import tempfile
import tokenize
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import polib
from django.conf import settings
from django.template.base import Lexer, TokenType
from django.utils.translation.template import templatize

ROOT = Path(settings.BASE_DIR)
ADDONS = ROOT / "addons"
LOCALE = ROOT / "locale"
FRAGMENTS = LOCALE / "fragments"
TARGET_LANGUAGES = ("ar", "en")

PLURAL_FORMS = {
    "ar": "nplurals=6; plural=n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5;",
    "en": "nplurals=2; plural=(n != 1);",
}
LANGUAGE_NAMES = {"ar": "Arabic", "en": "English"}

# Files only staff, operators or developers read: French only, outside the customer catalogues.
BACKOFFICE_ONLY = (
    "*/migrations/*",
    "*/management/commands/*",
    "*/admin.py",
    "*/admin_*.py",
    "*/admin/*",
    "*/templates/admin/*",
    "*/demo.py",
    "*/demo_*.py",
    "*/apps.py",
    "*/groups.py",
    "rak_cmi_sandbox/*",  # the bank's payment page, simulated: not ours to translate
    "rak_base/i18n_tools.py",
    "rak_api/schema.py",  # the OpenAPI document's descriptions: the apps' developers read them
    "rak_base/scheduler.py",
    "rak_base/jobs.py",
    "rak_billing/jobs.py",  # scheduler job outcomes, read in « Tâches planifiées » by staff
    "rak_billing/partitions.py",
    "rak_base/templates/rak_base/history/*",
    "rak_base/static/rak_base/*",  # the back office's SMS counter
    "rak_billing/readings/imports.py",  # meter-reading files imported by staff
    "rak_billing/admin_*.py",
    "rak_payment_cmi/reconciliation.py",  # settlement files, staff only
    "rak_payment_cmi/network_imports.py",  # payment networks' files, staff only
    "rak_payment_cmi/csvfiles.py",
    "rak_requests/complaints/escalation.py",  # the escalation job's report to staff
    "rak_requests/complaints/seeding.py",
    # the collections desk's staff side (issue 14): its models' labels, the counters' cash closing, the
    # technical team's cut-off order sheet (the customer's letters, notices and plan agreement are
    # translated)
    "rak_collections/models/*",
    "rak_collections/cash.py",
    "rak_collections/templates/rak_collections/pdf/cash_closing.html",
    "rak_collections/templates/rak_collections/pdf/cutoff_order.html",
    "rak_reports/*",  # the managers' reports and their monthly e-mail (issue 14): staff only, French
    "*/timeline.py",  # the customer 360's timeline (issue 14): rak_customer, rak_billing, rak_requests, rak_collections
)


def _relative(path: Path) -> str:
    """A path as the reports and catalogue references name it: relative to addons/."""
    try:
        return path.resolve().relative_to(ADDONS.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def is_backoffice_only(path: Path) -> bool:
    """``path`` matches one of ``BACKOFFICE_ONLY`` (relative to addons/; « */x » also matches at the top)."""
    rel = _relative(path)
    return any(fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch("x/" + rel, pattern) for pattern in BACKOFFICE_ONLY)


def customer_facing_files() -> list[Path]:
    """Every Python file, template and script of the addons a customer's screen, SMS, e-mail or
    document can draw a string from."""
    files = []
    for suffix in ("*.py", "*.html", "*.txt", "*.js"):
        for path in sorted(ADDONS.rglob(suffix)):
            if "__pycache__" in path.parts or (suffix == "*.txt" and "templates" not in path.parts):
                continue
            if not is_backoffice_only(path):
                files.append(path)
    return files


# --- unmarked strings --------------------------------------------------------------------------

LETTERS = re.compile(r"[^\W\d_]{2,}")
# A word a customer reads that needs no translation: the brand and the units.
ALLOWED_WORDS = {"RAK", "CMI", "kWh", "m³", "Visa", "Mastercard"}
PLACEHOLDER = "\x00"
CHECKED_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label", "aria-description", "aria-roledescription"}


@dataclass(frozen=True)
class Unmarked:
    path: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text!r}"


def _is_prose(text: str) -> bool:
    text = text.replace(PLACEHOLDER, " ")
    words = [w for w in LETTERS.findall(text) if w not in ALLOWED_WORDS]
    return bool(words)


class _TemplateText(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        attributes = dict(attrs)
        for name, value in attrs:
            if value is None:
                continue
            checked = name in CHECKED_ATTRIBUTES
            checked |= name == "value" and tag == "input" and attributes.get("type") in ("submit", "button", "reset")
            checked |= name == "content" and tag == "meta" and attributes.get("name") == "description"
            checked |= name.startswith("data-") and name.endswith(("-label", "-message", "-text"))
            if checked and _is_prose(value):
                self.found.append((self.getpos()[0], value.strip()))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and _is_prose(data):
            self.found.append((self.getpos()[0], " ".join(data.replace(PLACEHOLDER, "…").split())))


def unmarked_in_template(path: Path) -> list[Unmarked]:
    """Text and attributes (title, alt, placeholder, aria-label, button values…) written in a
    template outside ``{% translate %}`` / ``{% blocktranslate %}``."""
    source = path.read_text(encoding="utf-8")
    pieces: list[str] = []
    skipping: str | None = None
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split(" ", 1)[0]
            if skipping:
                if name == skipping:
                    skipping = None
                pieces.append(PLACEHOLDER + "\n" * token.contents.count("\n"))
                continue
            if name in ("blocktranslate", "blocktrans"):
                skipping = "endblocktranslate" if name == "blocktranslate" else "endblocktrans"
            elif name in ("comment", "verbatim"):
                skipping = "end" + name
            elif name == "block" and token.contents.split()[1:2] and token.contents.split()[1].endswith("_class"):
                skipping = "endblock"  # {% block body_class %}home{% endblock %}: CSS class names
            pieces.append(PLACEHOLDER + "\n" * token.contents.count("\n"))
        elif token.token_type == TokenType.TEXT:
            if skipping:
                pieces.append(PLACEHOLDER + "\n" * token.contents.count("\n"))
            else:
                pieces.append(token.contents)
        else:
            pieces.append(PLACEHOLDER + "\n" * token.contents.count("\n"))
    parser = _TemplateText()
    parser.feed("".join(pieces))
    parser.close()
    return [Unmarked(_relative(path), line, text) for line, text in parser.found]


FRENCH_HINT = re.compile(
    r"[àâçéèêëîïôûùüÿœÀÂÇÉÈÊÎÔÛ«»]|\b(le|la|les|des|du|de|un|une|votre|vos|est|sont|pas|pour|au|aux|et|ou|sur|"
    r"par|dans|ce|cette|ces|il|elle|vous|nous|en|à|avec|sans|mon|ma|mes|son|sa|ses)\b",
    re.IGNORECASE,
)
GETTEXT_CALLS = {
    "_",
    "gettext",
    "gettext_lazy",
    "ngettext",
    "ngettext_lazy",
    "pgettext",
    "pgettext_lazy",
    "npgettext",
    "npgettext_lazy",
    "gettext_noop",
    "_lazy",
    "_noop",
    "N_",
}
# Exceptions and calls whose text developers or operators read, never a customer.
DEVELOPER_CALLS = {
    "RuntimeError",
    "ValueError",
    "TypeError",
    "AssertionError",
    "NotImplementedError",
    "KeyError",
    "ImproperlyConfigured",
    "CommandError",
    "AttributeError",
    "LookupError",
    "OSError",
    "SuspiciousOperation",
    "PermissionDenied",
    "Http404",
    "RawSQL",
    "execute",
}
# A log line (``logger.warning("…")``): only on a logger — ``messages.error(request, "…")`` speaks to
# the customer and is checked.
LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical"}
LOGGERS = {"logger", "log", "logging", "LOGGER"}
OPT_OUT = "i18n: not for customers"
# The mobile API's OpenAPI document is read by the apps' developers: its help texts and descriptions
# (``help_text=``, ``description=``, ``summary=`` in rak_api) are developer documentation.
API_DOC_KEYWORDS = {"help_text", "description", "summary"}
API_DIR = "rak_api/"


def _looks_french(text: str) -> bool:
    return bool(FRENCH_HINT.search(text)) and " " in text.strip() and bool(LETTERS.search(text))


def _opted_out_lines(source: str) -> set[int]:
    lines = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT and OPT_OUT in token.string:
            lines.add(token.start[0])
    return lines


def _call_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _is_log_call(call: ast.Call) -> bool:
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr in LOG_METHODS):
        return False
    receiver = func.value
    name = receiver.id if isinstance(receiver, ast.Name) else getattr(receiver, "attr", "")
    return name in LOGGERS or name.endswith(("logger", "_log"))


def unmarked_in_python(path: Path) -> list[Unmarked]:
    """French prose in string literals of a customer-facing module that no gettext call wraps —
    docstrings, log lines and developers' exceptions aside; a line (or the first line of its
    statement) ending with ``# i18n: not for customers`` is left alone."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    opted = _opted_out_lines(source)
    parents: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    found = []
    api_docs = _relative(path).startswith(API_DIR)
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str) and _looks_french(node.value)):
            continue
        parent = parents.get(node)
        if isinstance(parent, ast.Expr):  # a docstring or a bare string
            continue
        if isinstance(parent, ast.JoinedStr):
            parent = parents.get(parent)
        skip = node.lineno in opted
        ancestor: ast.AST | None = node
        while not skip and ancestor in parents:
            ancestor = parents[ancestor]
            if isinstance(ancestor, ast.Call) and (
                _call_name(ancestor) in GETTEXT_CALLS | DEVELOPER_CALLS or _is_log_call(ancestor)
            ):
                skip = True
            elif api_docs and isinstance(ancestor, ast.keyword) and ancestor.arg in API_DOC_KEYWORDS:
                skip = True
            elif isinstance(ancestor, ast.stmt):
                skip = ancestor.lineno in opted or getattr(ancestor, "end_lineno", 0) in opted
                break
        if not skip:
            found.append(Unmarked(_relative(path), node.lineno, node.value.strip()[:80]))
    return found


JS_STRING = re.compile(r"""(["'`])((?:\\.|(?!\1).)*)\1""")


def unmarked_in_script(path: Path) -> list[Unmarked]:
    """French prose in a script's string literals: a script takes its words from the page
    (``data-*`` attributes written with ``{% translate %}``), never from its own source."""
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith(("//", "*", "/*")) or OPT_OUT in line:
            continue
        for match in JS_STRING.finditer(line):
            if _looks_french(match.group(2)):
                found.append(Unmarked(_relative(path), number, match.group(2)[:80]))
    return found


def unmarked(paths: Iterable[Path] | None = None) -> list[Unmarked]:
    problems: list[Unmarked] = []
    for path in paths if paths is not None else customer_facing_files():
        if path.suffix in (".html", ".txt"):
            problems += unmarked_in_template(path)
        elif path.suffix == ".py":
            problems += unmarked_in_python(path)
        elif path.suffix == ".js":
            problems += unmarked_in_script(path)
    return problems


# --- extraction --------------------------------------------------------------------------------

XGETTEXT_KEYWORDS = [
    "--keyword=gettext_noop",
    "--keyword=gettext_lazy",
    "--keyword=ngettext_lazy:1,2",
    "--keyword=pgettext:1c,2",
    "--keyword=npgettext:1c,2,3",
    "--keyword=pgettext_lazy:1c,2",
    "--keyword=npgettext_lazy:1c,2,3",
    "--keyword=_lazy",
    "--keyword=_noop",
]


def xgettext_available() -> bool:
    return shutil.which("xgettext") is not None


def extract(paths: Iterable[Path] | None = None) -> polib.POFile:
    """The catalogue template (msgids, plurals, contexts, file references) of ``paths`` (default:
    every customer-facing file)."""
    paths = [
        p for p in (paths if paths is not None else customer_facing_files()) if p.suffix in (".py", ".html", ".txt")
    ]
    with tempfile.TemporaryDirectory(prefix="rak-i18n-") as tmp:
        work = Path(tmp)
        inputs = []
        for path in paths:
            rel = _relative(path)
            if path.suffix == ".py":
                inputs.append(str(path))
                continue
            target = work / (rel + ".py")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(templatize(path.read_text(encoding="utf-8"), origin=str(path)), encoding="utf-8")
            inputs.append(str(target))
        file_list = work / "files.txt"
        file_list.write_text("\n".join(inputs) + "\n", encoding="utf-8")
        output = work / "messages.pot"
        subprocess.run(  # noqa: S603 (fixed argv, no shell; the files are ours)
            [
                shutil.which("xgettext") or "xgettext",
                "--language=Python",
                "--from-code=UTF-8",
                "--add-comments=Translators",
                "--no-wrap",
                "--sort-by-file",
                f"--files-from={file_list}",
                f"--output={output}",
                *XGETTEXT_KEYWORDS,
            ],
            check=True,
            capture_output=True,
        )
        if not output.exists():
            return polib.POFile()
        pot = polib.pofile(str(output), wrapwidth=0)
    for entry in pot:
        entry.occurrences = sorted({(_clean_reference(path, work), "") for path, _line in entry.occurrences})
    return pot


def _clean_reference(path: str, work: Path) -> str:
    """A reference as a path under addons/ (the line numbers change on every edit: left out)."""
    if path.startswith(str(work)):
        return path[len(str(work)) + 1 : -3]
    try:
        return _relative(Path(path))
    except ValueError:
        return path


# --- catalogues --------------------------------------------------------------------------------


def catalogue_path(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / "django.po"


def _key(entry: polib.POEntry) -> tuple[str | None, str]:
    return (entry.msgctxt, entry.msgid)


def _new_catalogue(language: str) -> polib.POFile:
    po = polib.POFile(wrapwidth=0)
    po.metadata = {
        "Project-Id-Version": "RAK agence en ligne",
        "Language": language,
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
        "Plural-Forms": PLURAL_FORMS[language],
    }
    return po


def load_catalogue(path: Path, language: str) -> polib.POFile:
    if path.exists():
        po = polib.pofile(str(path), wrapwidth=0)
        po.metadata["Plural-Forms"] = PLURAL_FORMS[language]
        return po
    return _new_catalogue(language)


def _translated(entry: polib.POEntry) -> bool:
    if "fuzzy" in entry.flags or entry.obsolete:
        return False
    if entry.msgid_plural:
        return bool(entry.msgstr_plural) and all(value for value in entry.msgstr_plural.values())
    return bool(entry.msgstr)


def _copy_translation(source: polib.POEntry, target: polib.POEntry, language: str) -> None:
    if target.msgid_plural:
        forms = int(PLURAL_FORMS[language].split("nplurals=")[1].split(";")[0])
        values = dict(source.msgstr_plural) if source.msgid_plural else {0: source.msgstr}
        target.msgstr_plural = {i: values.get(i, values.get(max(values), "")) for i in range(forms)}
    else:
        target.msgstr = source.msgstr if not source.msgid_plural else source.msgstr_plural.get(0, "")


def merge(pot: polib.POFile, language: str, sources: Iterable[polib.POFile]) -> polib.POFile:
    """A catalogue holding exactly ``pot``'s msgids, each translated by the first of ``sources``
    that translates it (plural entries get every form of ``language``)."""
    known: dict[tuple[str | None, str], polib.POEntry] = {}
    for source in sources:
        for entry in source:
            if _translated(entry) and _key(entry) not in known:
                known[_key(entry)] = entry
    po = _new_catalogue(language)
    forms = int(PLURAL_FORMS[language].split("nplurals=")[1].split(";")[0])
    for template in pot:
        entry = polib.POEntry(
            msgid=template.msgid,
            msgctxt=template.msgctxt,
            msgid_plural=template.msgid_plural,
            occurrences=template.occurrences,
            comment=template.comment,
            flags=[flag for flag in template.flags if flag != "fuzzy"],
        )
        if template.msgid_plural:
            entry.msgstr_plural = {i: "" for i in range(forms)}
        if _key(template) in known:
            _copy_translation(known[_key(template)], entry, language)
        po.append(entry)
    return po


def fragments(language: str) -> list[polib.POFile]:
    return [polib.pofile(str(path), wrapwidth=0) for path in sorted(FRAGMENTS.glob(f"*.{language}.po"))]


def catalogue_update(*, compile_mo: bool = True) -> dict[str, int]:
    """Re-extract every customer-facing string into ``locale/{ar,en}/LC_MESSAGES/django.po``,
    keeping existing translations and taking new ones from ``locale/fragments/*.{lang}.po``;
    compile the ``.mo``. Returns the number of untranslated entries per language."""
    pot = extract()
    missing = {}
    LOCALE.mkdir(exist_ok=True)
    with open(LOCALE / ".update.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # several sessions of one tree may update at once
        for language in TARGET_LANGUAGES:
            missing[language] = _catalogue_write(pot, language, compile_mo=compile_mo)
    return missing


def _catalogue_write(pot: polib.POFile, language: str, *, compile_mo: bool) -> int:
    """One language's catalogue: a fragment's translation (fresh work) before the catalogue's."""
    path = catalogue_path(language)
    po = merge(pot, language, [*fragments(language), load_catalogue(path, language)])
    path.parent.mkdir(parents=True, exist_ok=True)
    po.save(str(path))
    if compile_mo:
        po.save_as_mofile(str(path.with_suffix(".mo")))
    return sum(1 for entry in po if not _translated(entry))


def fragment_update(name: str, paths: list[Path]) -> dict[str, int]:
    """A helper's own catalogues for ``paths`` (``locale/fragments/<name>.{ar,en}.po``): their
    msgids, translated where the fragment or the main catalogue already says; returns the number
    left to translate per language."""
    pot = extract(paths)
    FRAGMENTS.mkdir(parents=True, exist_ok=True)
    left = {}
    for language in TARGET_LANGUAGES:
        path = FRAGMENTS / f"{name}.{language}.po"
        sources = [load_catalogue(path, language), load_catalogue(catalogue_path(language), language)]
        sources += [f for f in fragments(language)]
        po = merge(pot, language, sources)
        po.save(str(path))
        left[language] = sum(1 for entry in po if not _translated(entry))
    return left


@dataclass(frozen=True)
class CatalogueProblem:
    language: str
    kind: str  # "missing", "untranslated", "fuzzy", "stale-mo", "placeholders"
    msgid: str

    def __str__(self) -> str:
        return f"[{self.language}] {self.kind}: {self.msgid[:90]!r}"


PLACEHOLDER_RE = re.compile(r"%\([^)]+\)[sdifr]|\{[a-z_]+\}")


def catalogue_problems(pot: polib.POFile | None = None) -> list[CatalogueProblem]:
    """Every customer-facing msgid must be in each target catalogue, translated, not fuzzy, with the
    same placeholders as the French, and the compiled ``.mo`` must say the same as the ``.po``."""
    pot = pot if pot is not None else extract()
    problems = []
    for language in TARGET_LANGUAGES:
        path = catalogue_path(language)
        po = load_catalogue(path, language)
        entries = {_key(entry): entry for entry in po if not entry.obsolete}
        for template in pot:
            entry = entries.get(_key(template))
            if entry is None:
                problems.append(CatalogueProblem(language, "missing", template.msgid))
            elif "fuzzy" in entry.flags:
                problems.append(CatalogueProblem(language, "fuzzy", template.msgid))
            elif not _translated(entry):
                problems.append(CatalogueProblem(language, "untranslated", template.msgid))
            else:
                problems += _placeholder_problems(language, entry)
        mo_path = path.with_suffix(".mo")
        if not mo_path.exists():
            problems.append(CatalogueProblem(language, "stale-mo", str(mo_path)))
            continue
        mo = {_key(entry): entry for entry in polib.mofile(str(mo_path))}
        for key, entry in entries.items():
            if not _translated(entry):
                continue
            compiled = mo.get(key)
            same = compiled is not None and (
                compiled.msgstr_plural == entry.msgstr_plural if entry.msgid_plural else compiled.msgstr == entry.msgstr
            )
            if not same:
                problems.append(CatalogueProblem(language, "stale-mo", entry.msgid))
    return problems


def _placeholder_problems(language: str, entry: polib.POEntry) -> Iterator[CatalogueProblem]:
    expected = sorted(PLACEHOLDER_RE.findall(entry.msgid))
    values = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
    for value in values:
        found = sorted(PLACEHOLDER_RE.findall(value))
        # a plural form may leave the count out (« ساعة واحدة »), never add or rename a placeholder
        if not set(found) <= set(expected + PLACEHOLDER_RE.findall(entry.msgid_plural or "")) or (
            not entry.msgid_plural and found != expected
        ):
            yield CatalogueProblem(language, "placeholders", entry.msgid)
            return
