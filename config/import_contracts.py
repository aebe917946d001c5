"""An import-linter contract written as an allow-list: other packages may import only a package's entry points.

Import-linter's own `forbidden` contract lists what may not be imported, so a new submodule of the package is
importable until someone remembers to list it. `only_through` turns that around: every module of a target
package is off limits to other packages except the entry points named (`facade`, `contracts`…), so a module
added tomorrow is covered the day it appears.

Test code (any module under a `tests` or `testing` package) is exempt: tests set up rows with the other app's
factories and models. Specific imports can be let through with `ignore_imports`, each with its reason beside it
in pyproject.toml.
"""

from __future__ import annotations

from dataclasses import dataclass

import grimp
from importlinter import Contract, ContractCheck, fields, output
from importlinter.application import contract_utils

EXEMPT_SEGMENTS = frozenset({"tests", "testing"})


@dataclass(frozen=True)
class Violation:
    importer: str
    imported: str
    line_numbers: tuple[int, ...]


class OnlyThroughContract(Contract):
    """Options: `targets` (packages), `entry_points` (submodule names importable from outside, with their
    descendants), `importers` (the packages checked), `ignore_imports` (optional exceptions)."""

    type_name = "only_through"

    targets = fields.ListField(subfield=fields.StringField())
    entry_points = fields.ListField(subfield=fields.StringField())
    importers = fields.ListField(subfield=fields.StringField())
    ignore_imports = fields.SetField(subfield=fields.ImportExpressionField(), required=False)
    unmatched_ignore_imports_alerting = fields.EnumField(
        contract_utils.AlertLevel, default=contract_utils.AlertLevel.ERROR
    )

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        removal = contract_utils.remove_ignored_imports_and_report(
            graph=graph,
            ignore_imports=self.ignore_imports,  # type: ignore[arg-type]
            unmatched_alerting=self.unmatched_ignore_imports_alerting,  # type: ignore[arg-type]
        )
        violations = [
            violation
            for target in self.targets  # type: ignore[attr-defined]
            for violation in self._violations(graph, target)
        ]
        return ContractCheck(kept=not violations, warnings=removal.warnings, metadata={"violations": violations})

    def _violations(self, graph: grimp.ImportGraph, target: str) -> list[Violation]:
        allowed = tuple(f"{target}.{name}" for name in self.entry_points)  # type: ignore[attr-defined]
        found = []
        for importer in sorted(self._checked_modules(graph, target)):
            for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                if not _inside(imported, target) or any(_inside(imported, entry) for entry in allowed):
                    continue
                details = graph.get_import_details(importer=importer, imported=imported)
                lines = tuple(sorted({detail["line_number"] for detail in details}))
                found.append(Violation(importer, imported, lines))
        return found

    def _checked_modules(self, graph: grimp.ImportGraph, target: str) -> set[str]:
        modules = set()
        for package in self.importers:  # type: ignore[attr-defined]
            if package == target or package not in graph.modules:
                continue
            modules |= {package, *graph.find_descendants(package)}
        return {module for module in modules if not EXEMPT_SEGMENTS & set(module.split("."))}

    def render_broken_contract(self, check: ContractCheck) -> None:
        entry_points = ", ".join(self.entry_points)  # type: ignore[attr-defined]
        output.print_error(f"Only these submodules may be imported from outside: {entry_points}.", bold=False)
        output.new_line()
        for violation in check.metadata["violations"]:
            lines = ", ".join(map(str, violation.line_numbers))
            output.print_error(f"- {violation.importer} -> {violation.imported} (l.{lines})", bold=False)
        output.new_line()


def _inside(module: str, package: str) -> bool:
    return module == package or module.startswith(f"{package}.")
