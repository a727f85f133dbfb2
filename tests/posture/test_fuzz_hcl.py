"""Fuzz target (issue #14): Terraform HCL through the posture analyzer (parse, variables, dynamic blocks,
checks), mutated from the example platform's real `main.tf`.

Property: `posture.terraform` yields findings of the documented shape or raises a `ShareguardError` (a
per-file issue), never another exception, within the value-count and depth budgets."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from test_fuzz_dockerfile import check_outputs, mutated

FUZZ = settings(max_examples=60, deadline=10_000, suppress_health_check=[HealthCheck.too_slow])
MAIN_TF = Path(__file__).resolve().parents[2] / "examples" / "ml-platform" / "terraform" / "main.tf"
SEEDS = [
    MAIN_TF.read_text(encoding="utf-8"),
    'variable "ip" { default = "0.0.0.0/0" }\n'
    'resource "google_compute_firewall" "fw" {\n'
    "  count = 1\n"
    '  source_ranges = [var.ip, "${var.ip}"]\n'
    '  dynamic "allow" {\n    for_each = ["22", "80"]\n    content { ports = [allow.value] }\n  }\n'
    '  metadata = { enable-oslogin = "FALSE" }\n'
    '  policy = jsonencode({ Statement = [{ Effect = "Allow", Action = "*" }] })\n'
    "  heredoc = <<EOT\n  line ${var.ip}\n  EOT\n"
    "}\n",
]
TOKENS = [
    "[" * 3000,
    "{" * 3000,
    "(" * 3000,
    "a = " + "[" * 500 + "]" * 500,
    "x = " + "9" * 5000,
    "x = 1e99999",
    "x = -0x",
    '"${' * 200,
    "${var.ip}${var.ip}",
    "<<EOT",
    "<<-EOF",
    "EOT",
    "}",
    "]",
    '"',
    "#",
    "/*",
    "*/",
    'resource "google_storage_bucket" "b" {',
    'resource "aws_s3_bucket" {',
    'dynamic "d" { for_each = var.x content { a = d.value } }',
    "count = 0",
    "for_each = { for k, v in var.m : k => v }",
    'x = [for s in var.x : upper(s) if s != ""]',
    'name = "ev\x1b[2Jil\u202e"',
    "\x00",
    "\t",
    "= = =",
    "a = b ? c : d ? e : f",
]


@FUZZ
@given(mutated(SEEDS, TOKENS))
@example('resource "a" "b" {\n  x = [' + "1," * 20_000 + "]\n}\n")
@example('resource "a" "b" {\n  x = ' + "[" * 10_000 + "\n}\n")
def test_terraform_mutated(text: str) -> None:
    check_outputs("posture.terraform", "main.tf", text.encode())
