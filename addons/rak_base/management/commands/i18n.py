"""Translations (issue 12), see rak_base.i18n_tools:

manage.py i18n unmarked [PATH ...]         strings customers read that gettext does not wrap
manage.py i18n fragment NAME PATH ...      your own ar/en catalogues for PATHs (locale/fragments/)
manage.py i18n update                      re-extract into locale/{ar,en} (+ fragments), compile
manage.py i18n check                       what CI checks: unmarked, untranslated, fuzzy, stale .mo
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from rak_base import i18n_tools


def _paths(names: list[str]) -> list[Path]:
    paths = []
    for name in names:
        path = Path(name).resolve()
        if path.is_dir():
            paths += [p for p in sorted(path.rglob("*")) if p.suffix in (".py", ".html", ".txt", ".js")]
        elif path.exists():
            paths.append(path)
        else:
            raise CommandError(f"no such file: {name}")
    return paths


class Command(BaseCommand):
    help = "Translation catalogues: unmarked strings, helpers' fragments, update, check."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        unmarked = sub.add_parser("unmarked")
        unmarked.add_argument("paths", nargs="*")
        fragment = sub.add_parser("fragment")
        fragment.add_argument("name")
        fragment.add_argument("paths", nargs="+")
        sub.add_parser("update")
        sub.add_parser("check")

    def handle(self, *args, action, **options):
        if action == "unmarked":
            paths = _paths(options["paths"]) if options["paths"] else None
            unmarked = i18n_tools.unmarked(paths)
            for item in unmarked:
                self.stdout.write(str(item))
            self.stdout.write(f"{len(unmarked)} unmarked string(s)")
        elif action == "fragment":
            left = i18n_tools.fragment_update(options["name"], _paths(options["paths"]))
            for language, count in left.items():
                self.stdout.write(f"locale/fragments/{options['name']}.{language}.po: {count} to translate")
        elif action == "update":
            missing = i18n_tools.catalogue_update()
            for language, count in missing.items():
                self.stdout.write(f"locale/{language}: {count} untranslated")
        elif action == "check":
            problems = [str(p) for p in i18n_tools.unmarked()]
            problems += [str(p) for p in i18n_tools.catalogue_problems()]
            for problem in problems:
                self.stdout.write(problem)
            if problems:
                raise CommandError(f"{len(problems)} translation problem(s)")
            self.stdout.write("translations complete")
