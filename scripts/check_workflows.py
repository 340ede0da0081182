"""Check the GitHub workflows without GitHub: they parse, pin their actions, and run what they must.

Usage: scripts/check_workflows   (tests/project/test_workflows.py runs it in scripts/test)

No network: it reads .github/workflows/*.yml and README.md and checks that
- every file parses as YAML into a workflow (name, triggers, jobs with steps or a called workflow);
- every action is pinned: an exact version (vX.Y.Z or X.Y.Z) or a full commit SHA;
- hassfest (home-assistant/actions/hassfest) and HACS's validation (hacs/action, category
  integration) run on pull requests;
- a job runs the README's test command (the ```bash line starting with scripts/test), alone,
  on pull requests and for releases;
- a v* tag publishes the GitHub release (gh release create) from scripts/release_assets,
  after the tests;
- a v* tag publishes the provider package with pypa/gh-action-pypi-publish by trusted
  publishing (id-token: write, no password).
Prints each problem and exits 1 if there is any.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
import re
import sys
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = Path(".github", "workflows")
HASSFEST = "home-assistant/actions/hassfest"
HACS = "hacs/action"
PYPI_PUBLISH = "pypa/gh-action-pypi-publish"
RELEASE_ASSETS = "scripts/release_assets"
_PINNED = re.compile(r"v?\d+\.\d+\.\d+|[0-9a-f]{40}")
_BASH_BLOCK = re.compile(r"^```bash\n(.*?)^```", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True, slots=True)
class Workflow:
    """A parsed workflow file."""

    path: Path
    data: dict[Any, Any]

    @property
    def triggers(self) -> dict[str, Any]:
        """Return the events that run it (``on``, which YAML 1.1 reads as True)."""
        triggers = self.data.get("on", self.data.get(True))
        if isinstance(triggers, str):
            return {triggers: None}
        if isinstance(triggers, list):
            return dict.fromkeys(triggers)
        return triggers if isinstance(triggers, dict) else {}

    @property
    def jobs(self) -> dict[str, dict[str, Any]]:
        """Return the jobs by id."""
        jobs = self.data.get("jobs")
        return jobs if isinstance(jobs, dict) else {}

    def steps(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """Yield (job id, step) for every step."""
        for job_id, job in self.jobs.items():
            for step in job.get("steps") or []:
                yield job_id, step

    def runs_for_tags(self) -> bool:
        """Whether a pushed v* tag runs it."""
        push = self.triggers.get("push") or {}
        return "push" in self.triggers and any(
            str(tag).startswith("v") for tag in push.get("tags") or []
        )

    def runs_on_pull_requests(self) -> bool:
        """Whether pull requests run it."""
        return "pull_request" in self.triggers


def action_name(uses: str) -> str:
    """Return an action's name without its ref."""
    return uses.split("@", 1)[0]


def readme_test_command(root: Path) -> str | None:
    """Return the README's test command: the bash line that starts with scripts/test."""
    for block in _BASH_BLOCK.findall((root / "README.md").read_text()):
        for line in block.splitlines():
            if line.startswith("scripts/test"):
                command: str = line.split("#", 1)[0].strip()
                return command
    return None


def load(root: Path) -> tuple[list[Workflow], list[str]]:
    """Parse every workflow file; return the workflows and the problems found."""
    workflows, problems = [], []
    for path in sorted((root / WORKFLOWS).glob("*.y*ml")):
        name = path.relative_to(root)
        try:
            data = yaml.safe_load(path.read_text())
        except yaml.YAMLError as err:
            problems.append(f"{name}: not YAML: {err}")
            continue
        workflow = Workflow(name, data if isinstance(data, dict) else {})
        if not workflow.data.get("name"):
            problems.append(f"{name}: no name")
        if not workflow.triggers:
            problems.append(f"{name}: no triggers (on)")
        if not workflow.jobs:
            problems.append(f"{name}: no jobs")
        for job_id, job in workflow.jobs.items():
            if not job.get("steps") and not job.get("uses"):
                problems.append(f"{name}: job {job_id} has neither steps nor uses")
        workflows.append(workflow)
    if not workflows and not problems:
        problems.append(f"no workflow files in {WORKFLOWS}")
    return workflows, problems


def pinning_problems(workflows: list[Workflow]) -> list[str]:
    """Check that every remote action is pinned to an exact version or a commit."""
    problems = []
    for workflow in workflows:
        for job_id, step in workflow.steps():
            uses = step.get("uses")
            if not uses or uses.startswith(("./", "docker://")):
                continue
            ref = uses.partition("@")[2]
            if not _PINNED.fullmatch(ref):
                problems.append(
                    f"{workflow.path}: job {job_id}: {uses} is not pinned to a version"
                )
    return problems


def uses_of(
    workflows: list[Workflow], action: str
) -> list[tuple[Workflow, dict[str, Any]]]:
    """Return the steps that use ``action``, with their workflow."""
    return [
        (workflow, step)
        for workflow in workflows
        for _, step in workflow.steps()
        if action_name(step.get("uses", "")) == action
    ]


def validator_problems(workflows: list[Workflow]) -> list[str]:
    """Check that hassfest and HACS's validation run on pull requests."""
    problems = []
    if not any(w.runs_on_pull_requests() for w, _ in uses_of(workflows, HASSFEST)):
        problems.append(f"no workflow runs {HASSFEST} on pull requests")
    hacs = [
        (workflow, step)
        for workflow, step in uses_of(workflows, HACS)
        if (step.get("with") or {}).get("category") == "integration"
    ]
    if not any(workflow.runs_on_pull_requests() for workflow, _ in hacs):
        problems.append(
            f"no workflow runs {HACS} with category integration on pull requests"
        )
    return problems


def test_command_problems(workflows: list[Workflow], command: str | None) -> list[str]:
    """Check that the README's test command runs on pull requests and before a release."""
    if command is None:
        return ["README.md has no ```bash line starting with scripts/test"]
    testing = [
        workflow
        for workflow in workflows
        if any(
            str(step.get("run", "")).strip() == command for _, step in workflow.steps()
        )
    ]
    problems = []
    if not any(workflow.runs_on_pull_requests() for workflow in testing):
        problems.append(
            f"no workflow runs the README's test command ({command}) on pull requests"
        )
    called = {f"./{workflow.path.as_posix()}" for workflow in testing}
    releasing = [w for w in workflows if w.runs_for_tags() and release_jobs(w)]
    for workflow in releasing:
        gates = {
            job_id for job_id, job in workflow.jobs.items() if job.get("uses") in called
        }
        if not all(gates & needs(job) for job in release_jobs(workflow)):
            problems.append(
                f"{workflow.path}: the release is not published after the tests"
            )
        if not all(RELEASE_ASSETS in job_text(job) for job in release_jobs(workflow)):
            problems.append(
                f"{workflow.path}: the release is not built by {RELEASE_ASSETS}"
            )
    if not releasing:
        problems.append(
            "no workflow publishes a GitHub release (gh release create) for a v* tag"
        )
    return problems


def publish_problems(workflows: list[Workflow]) -> list[str]:
    """Check that the provider package goes to PyPI from a v* tag by trusted publishing only."""
    publishing = uses_of(workflows, PYPI_PUBLISH)
    if not publishing:
        return [f"no workflow uses {PYPI_PUBLISH}"]
    problems = []
    for workflow, step in publishing:
        if not workflow.runs_for_tags():
            problems.append(
                f"{workflow.path}: {PYPI_PUBLISH} does not run for a v* tag"
            )
        if {"password", "user"} & set(step.get("with") or {}):
            problems.append(
                f"{workflow.path}: {PYPI_PUBLISH} is given a token, not trusted publishing"
            )
        job = next(
            job for job in workflow.jobs.values() if step in (job.get("steps") or [])
        )
        if (job.get("permissions") or {}).get("id-token") != "write":
            problems.append(
                f"{workflow.path}: the publishing job lacks id-token: write"
            )
    return problems


def release_jobs(workflow: Workflow) -> list[dict[str, Any]]:
    """Return the jobs that publish a GitHub release."""
    return [
        job for job in workflow.jobs.values() if "gh release create" in job_text(job)
    ]


def job_text(job: dict[str, Any]) -> str:
    """Return what a job's steps run, as one text."""
    return "\n".join(str(step.get("run", "")) for step in job.get("steps") or [])


def needs(job: dict[str, Any]) -> set[str]:
    """Return the jobs a job waits for."""
    waits = job.get("needs") or []
    return {waits} if isinstance(waits, str) else set(waits)


def check(root: Path) -> list[str]:
    """Return every problem with the workflows under ``root``."""
    workflows, problems = load(root)
    return [
        *problems,
        *pinning_problems(workflows),
        *validator_problems(workflows),
        *test_command_problems(workflows, readme_test_command(root)),
        *publish_problems(workflows),
    ]


def main() -> int:
    """Check and report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help=argparse.SUPPRESS)
    root = parser.parse_args().root
    if problems := check(root):
        print("\n".join(problems))
        return 1
    print(f"{len(list((root / WORKFLOWS).glob('*.y*ml')))} workflows checked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
