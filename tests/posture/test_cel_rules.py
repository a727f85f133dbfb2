"""User CEL rules: validation with file:line errors, evaluation over every format, budgets."""

from __future__ import annotations

from pathlib import Path

import pytest
from posture_helpers import FIXTURES, run_file

from shareguard.core.errors import ConfigError
from shareguard.core.options import OptionSet
from shareguard.posture.cel_rules import CelOptions, load_rule_dirs, to_cel
from shareguard.posture.plugin import posture_rules

RULES = """\
rules:
  - id: ACME-001
    title: Training images must come from the ACME registry
    severity: high
    control_ids: [KUBERNETES-C-02]
    remediation: Push the image to us-docker.pkg.dev/acme and use it from there.
    resource_types: [k8s.workload]
    field: spec
    condition: >-
      resource.attributes.containers.exists(c, !c.image.startsWith("us-docker.pkg.dev/acme"))
  - id: ACME-002
    title: Images must not build on CUDA devel images
    severity: medium
    control_ids: [DLC-C-02]
    remediation: Use the -runtime variant in the final stage.
    resource_types: [dockerfile]
    condition: resource.attributes.final_base_image.contains("-devel")
"""


def _load(tmp_path: Path, text: str, name: str = "rules.yaml"):  # type: ignore[no-untyped-def]
    d = tmp_path / "rules"
    d.mkdir(exist_ok=True)
    (d / name).write_text(text)
    return load_rule_dirs([d], known_ids=posture_rules())


def test_rules_evaluate_over_kubernetes_and_dockerfiles(tmp_path: Path) -> None:
    ruleset = _load(tmp_path, RULES)
    k8s, _ = run_file(
        "posture.kubernetes",
        FIXTURES / "kubernetes/real-world/kubeflow-training.yaml",
        options=CelOptions(rules=ruleset),
    )
    hits = [f for f in k8s if f.rule_id == "ACME-001"]
    assert len(hits) == 3 and all(f.control_ids == ("KUBERNETES-C-02",) for f in hits)
    assert hits[0].location.line is not None and "user-rule" not in hits[0].title
    df, _ = run_file(
        "posture.dockerfile",
        FIXTURES / "dockerfile/real-world/aws-dlc-pytorch-training/Dockerfile",
        options=CelOptions(rules=ruleset),
    )
    assert any(f.rule_id == "ACME-002" for f in df)
    ok, _ = run_file(
        "posture.dockerfile",
        FIXTURES / "dockerfile/real-world/hardened-vllm-serving/Dockerfile",
        options=CelOptions(rules=ruleset),
    )
    assert not any(f.rule_id.startswith("ACME") for f in ok)


def test_wildcard_types_and_missing_attributes_do_not_fire(tmp_path: Path) -> None:
    rules = RULES.replace("[dockerfile]", "['*']").replace(
        'resource.attributes.final_base_image.contains("-devel")', 'resource.attributes.final_base_image == "x"'
    )
    ruleset = _load(tmp_path, rules)
    findings, ctx = run_file(
        "posture.kubernetes", FIXTURES / "kubernetes/cases/K8S-016/fail.yaml", options=CelOptions(rules=ruleset)
    )
    assert not any(f.rule_id == "ACME-002" for f in findings)
    assert [i for i in ctx.issues if "ACME-002" in i.message]  # reported once, as a warning
    assert all(i.kind == "warning" for i in ctx.issues)


@pytest.mark.parametrize(
    ("mutate", "message", "line"),
    [
        (lambda t: t.replace("severity: high", "severity: urgent"), "unknown severity", 4),
        (lambda t: t.replace("[KUBERNETES-C-02]", "[KUBERNETES-C-99]"), "unknown control id", 5),
        (lambda t: t.replace("    field: spec\n", "    feild: spec\n"), "unknown key 'feild'", 8),
        (lambda t: t.replace("!c.image.startsWith", "!c.image.startsWith((("), "invalid CEL", 9),
        (lambda t: t.replace("ACME-002", "ACME-001"), "duplicate rule id", 11),
        (lambda t: t.replace("ACME-002", "DOCKERFILE-001"), "duplicate rule id DOCKERFILE-001", 11),
        (
            lambda t: t.replace("    remediation: Use the -runtime variant in the final stage.\n", ""),
            "needs `remediation`",
            11,
        ),
        (lambda t: t + "  - [not, a, mapping]\n", "must be a mapping", 18),
        (lambda t: t.replace("rules:\n", "rules:\n  oops: [\n"), "invalid YAML", None),
    ],
)
def test_validation_errors_are_one_line_with_file_and_line(
    tmp_path: Path, mutate, message: str, line: int | None
) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError) as exc:
        _load(tmp_path, mutate(RULES))
    assert message in exc.value.message
    assert exc.value.path is not None and exc.value.path.endswith("rules.yaml")
    if line is not None:
        assert exc.value.line == line
    assert "\n" not in exc.value.one_line()


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_rule_dirs([tmp_path / "nope"], controls=["X"])


def test_runaway_rule_is_disabled(tmp_path: Path) -> None:
    # Quadratic-times-quadratic macro nesting over a large list: interrupted by the time budget.
    rule = RULES.split("  - id: ACME-002")[0].replace(
        'resource.attributes.containers.exists(c, !c.image.startsWith("us-docker.pkg.dev/acme"))',
        "resource.attributes.big.all(a, resource.attributes.big.all(b, resource.attributes.big.all(c, a + b + c >= 0)))",
    )
    ruleset = _load(tmp_path, rule)
    from shareguard.core.context import ScanContext
    from shareguard.core.settings import Settings
    from shareguard.posture.cel_rules import CelCheck
    from shareguard.posture.model import PostureResource

    res = PostureResource(type="k8s.workload", name="x", file="x.yaml", line=1, attributes={"big": list(range(400))})
    ctx = ScanContext(settings=Settings(), options=OptionSet((CelOptions(rules=ruleset),)))
    assert list(CelCheck().check(res, ctx)) == []
    assert "ACME-001" in ruleset.disabled
    assert any("budget" in i.message for i in ctx.issues)


def test_to_cel_converts_non_json_values() -> None:
    value = to_cel({"t": (1, 2), "s": {"a"}, "n": None, "f": 1.5, "o": object})
    assert value is not None
