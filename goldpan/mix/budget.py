"""Token budgets: choose eligible documents so each source (or domain) gets its share of the total.

Within a group documents are taken in a seeded pseudo-random order (md5(seed:doc_id), computed by
the caller's query), so a recipe and seed always pick the same documents. A group short of tokens
is upsampled by whole extra passes over its documents, up to its source's `max_epochs`. When a
target cannot be met (a group with no eligible tokens, or a fixed total beyond what a group can give
even at its epoch limit) planning raises `MixInfeasible` with the full table: it never silently
shrinks a share.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

ALL = "all"


@dataclass
class GroupPlan:
    group: str
    target_share: float | None
    budget_tokens: int | None
    available_tokens: int  # eligible tokens, one epoch
    capacity_tokens: int  # eligible tokens at each document's epoch limit
    eligible_docs: int
    selected_docs: int = 0
    achieved_tokens: int = 0
    achieved_share: float = 0.0
    max_repeat: int = 0


@dataclass
class MixPlan:
    budget_by: str
    seed: int
    total_target: int | None
    total_derived: bool
    groups: list[GroupPlan] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def feasible(self) -> bool:
        return not self.problems

    @property
    def achieved_total(self) -> int:
        return sum(g.achieved_tokens for g in self.groups)

    def as_json(self) -> dict:
        return {
            "budget_by": self.budget_by,
            "seed": self.seed,
            "total_target": self.total_target,
            "total_derived": self.total_derived,
            "achieved_total": self.achieved_total,
            "feasible": self.feasible,
            "problems": self.problems,
            "groups": [asdict(g) for g in self.groups],
        }

    def table(self) -> str:
        """Target vs achieved, as a markdown table (CLI and Dagster metadata)."""
        lines = [
            (f"| {self.budget_by} | target share | achieved share | budget tokens | achieved tokens | available | "
             "capacity | docs | max repeat |"),
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for g in self.groups:
            ts = "-" if g.target_share is None else f"{g.target_share:.3f}"
            bt = "-" if g.budget_tokens is None else str(g.budget_tokens)
            lines.append(
                f"| {g.group} | {ts} | {g.achieved_share:.3f} | {bt} | {g.achieved_tokens} | {g.available_tokens} | "
                f"{g.capacity_tokens} | {g.selected_docs}/{g.eligible_docs} | {g.max_repeat} |"
            )
        total = "derived" if self.total_derived else "fixed"
        lines.append(f"| **total** ({total}) | 1.000 | 1.000 | {self.total_target or '-'} | {self.achieved_total} | | | | |")
        return "\n".join(lines)


class MixInfeasible(ValueError):
    """The recipe's targets cannot be met with the eligible documents; carries the plan."""

    def __init__(self, plan: MixPlan):
        self.plan = plan
        super().__init__("mix targets cannot be met: " + "; ".join(plan.problems))


def allocate(
    groups: Mapping[str, Sequence[tuple[int, int]]],
    targets: Mapping[str, float],
    total_tokens: int | None,
    budget_by: str = "source",
    seed: int = 0,
) -> tuple[MixPlan, dict[str, list[int]]]:
    """Repeat count per document (0 = not selected) for every group, and the plan.

    `groups` maps a group to its eligible documents in seeded order, each `(n_tokens, max_epochs)`.
    With no targets every eligible document is taken once, unless `total_tokens` caps the whole mix
    (then all groups form one budget). Raises MixInfeasible when a target cannot be met.
    """
    shares: dict[str, float] = dict(targets)
    keyed = dict(groups)
    if not shares and total_tokens is not None:
        keyed = {ALL: [d for g in sorted(groups) for d in groups[g]]}
        shares = {ALL: 1.0}
    plan = MixPlan(budget_by=budget_by if shares != {ALL: 1.0} else ALL, seed=seed, total_target=total_tokens,
                   total_derived=False)
    repeats: dict[str, list[int]] = {g: [0] * len(docs) for g, docs in keyed.items()}
    for g in sorted(set(shares) | set(keyed)):
        docs = keyed.get(g, [])
        plan.groups.append(
            GroupPlan(
                group=g,
                target_share=shares.get(g) if shares else None,
                budget_tokens=None,
                available_tokens=sum(t for t, _ in docs),
                capacity_tokens=sum(t * e for t, e in docs),
                eligible_docs=len(docs),
            )
        )
    by_name = {p.group: p for p in plan.groups}
    if not shares:  # no budgets: everything eligible, once
        for g, docs in keyed.items():
            repeats[g] = [1] * len(docs)
        _finish(plan, keyed, repeats)
        return plan, repeats
    for g, s in shares.items():
        if by_name[g].capacity_tokens == 0:
            plan.problems.append(f"{budget_by} {g!r} has a target share of {s:.3f} but no eligible tokens")
    if plan.problems:
        raise MixInfeasible(plan)
    total = total_tokens
    if total is None:
        # The largest total at which every group can still deliver its share (upsampling included).
        total = min(int(by_name[g].capacity_tokens / s) for g, s in shares.items())
        plan.total_target, plan.total_derived = total, True
    for g, s in shares.items():
        p = by_name[g]
        p.budget_tokens = round(s * total)
        if p.capacity_tokens < p.budget_tokens:
            plan.problems.append(
                f"{budget_by} {g!r} needs {p.budget_tokens} tokens ({s:.3f} of {total}) but has {p.available_tokens} "
                f"eligible tokens, {p.capacity_tokens} at its max_epochs limit"
            )
    if plan.problems:
        raise MixInfeasible(plan)
    for g in shares:
        repeats[g] = _fill(keyed.get(g, []), by_name[g].budget_tokens or 0)
    _finish(plan, keyed, repeats)
    return plan, repeats


def _fill(docs: Sequence[tuple[int, int]], budget: int) -> list[int]:
    """Passes over the seeded order, taking a document when it brings the total closer to the
    budget (cum + t/2 <= budget), until the budget is reached or every document is at its limit."""
    rep = [0] * len(docs)
    cum = 0
    epoch = 0
    max_e = max((e for _, e in docs), default=0)
    while cum < budget and epoch < max_e:
        epoch += 1
        for i, (t, e) in enumerate(docs):
            if e >= epoch and rep[i] == epoch - 1 and cum + t / 2 <= budget:
                rep[i] += 1
                cum += t
            if cum >= budget:
                break
    return rep


def _finish(plan: MixPlan, keyed: Mapping[str, Sequence[tuple[int, int]]], repeats: Mapping[str, list[int]]) -> None:
    for p in plan.groups:
        docs = keyed.get(p.group, [])
        rep = repeats.get(p.group, [])
        p.achieved_tokens = sum(t * r for (t, _), r in zip(docs, rep))
        p.selected_docs = sum(1 for r in rep if r > 0)
        p.max_repeat = max(rep, default=0)
    total = plan.achieved_total
    for p in plan.groups:
        p.achieved_share = p.achieved_tokens / total if total else 0.0
