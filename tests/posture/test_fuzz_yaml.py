"""Fuzz target (issue #14): the budgeted YAML loader (`posture/parsers/yaml_safe.py`), mutated from valid
Kubernetes / CloudFormation documents.

Property: `load_documents` returns `Located` documents of plain, JSON-serialisable values or raises
`ParseError` / `BudgetExceeded` naming the file, never another exception; aliases never expand past the
budget."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from shareguard.core.errors import ParseError
from shareguard.core.settings import Budgets
from shareguard.posture.parsers.yaml_safe import Located, load_documents

FUZZ = settings(max_examples=120, deadline=5000, suppress_health_check=[HealthCheck.too_slow])

SEEDS = [
    """apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 3
  template:
    spec:
      containers:
        - name: app
          image: "nginx:1.25"
          securityContext: {privileged: true, runAsUser: 0}
          env: &env [{name: A, value: "x"}]
        - name: side
          env: *env
---
kind: Service
""",
    """AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub '${AWS::StackName}-data'
      Tags: !GetAtt [X, Arn]
      Date: 2024-01-01
      Bin: !!binary aGVsbG8=
      Set: !!set {a, b}
      Merge: {<<: {a: 1}, b: 2}
""",
]
TOKENS = [
    "[" * 3000,
    "- " * 2000,
    "&a [*a]",
    "*undefined",
    "!!python/object:os.system",
    "9" * 5000,
    "\x00",
    "\x1b[2J",
    "\u202e",
    "\ud800",
    "\t",
    "---\n",
    "...\n",
    "? ",
    "|-\n",
    "<<: *env\n",
]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 5))):
        op = draw(st.sampled_from(["char", "token", "delete", "truncate", "indent"]))
        pos = draw(st.integers(0, max(len(text) - 1, 0)))
        if op == "char":
            text = text[:pos] + draw(st.characters(codec=None)) + text[pos + 1 :]
        elif op == "token":
            text = text[:pos] + draw(st.sampled_from(TOKENS)) + text[pos:]
        elif op == "delete":
            text = text[:pos] + text[pos + draw(st.integers(1, 40)) :]
        elif op == "indent":
            text = text[:pos] + " " * draw(st.integers(1, 9)) + text[pos:]
        else:
            text = text[:pos]
    return text


BILLION_LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)


@FUZZ
@given(mutated())
@example(BILLION_LAUGHS)
@example("a: " + "[" * 100_000)
@example("\ud800apiVersion: v1\n")  # a lone surrogate: once a UnicodeEncodeError from libyaml
def test_load_documents_mutated(text: str) -> None:
    try:
        docs = load_documents(text, "fuzz.yaml", Budgets(), tag_handler=lambda tag, value: {tag: value})
    except ParseError as exc:
        assert exc.path == "fuzz.yaml"
        return
    for doc in docs:
        assert isinstance(doc, Located) and isinstance(doc.line, int)
        json.dumps(doc.value)  # plain values only
        assert all(isinstance(k, str) and isinstance(v, int) for k, v in doc.lines.items())
