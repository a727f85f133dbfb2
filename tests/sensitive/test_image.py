"""Secrets baked into an image: the sensitive-data analyzer runs on every file of every layer through the
one analyzer model, as Trivy's secret scanner does."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sources"))

from imagebuild import file, make_layer, write_docker_archive
from tests.sensitive.planted import planted

from shareguard.cli.main import build_app

P = planted()


def test_an_aws_key_pair_baked_into_a_layer_is_flagged(tmp_path: Path) -> None:
    creds = f"[default]\naws_access_key_id = {P.aws_key_id}\naws_secret_access_key = {P.aws_secret}\n"
    layers = [
        make_layer([file("etc/motd", "welcome\n")]),
        make_layer([file("root/.aws/credentials", creds), file("app/serve.py", f'TOKEN = "{P.hf}"\n')]),
    ]
    archive = write_docker_archive(tmp_path / "img.tar", layers)
    out = tmp_path / "r.json"
    env = {"SHAREGUARD_CACHE_DIR": str(tmp_path / "cache"), "SHAREGUARD_OFFLINE": "1"}
    res = CliRunner(env=env).invoke(
        build_app(), ["image", "--input", str(archive), "--format", "json", "-o", str(out), "--quiet"]
    )
    assert res.exit_code in (0, 3), res.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    found = {
        (f["resource"]["path"], f["properties"]["detector"], f["location"].get("layer_digest"))
        for f in doc["findings"]
        if f["rule_id"] == "DATA-003"
    }
    top = layers[1].diff_id
    assert ("root/.aws/credentials", "aws_access_key_id", top) in found
    assert ("root/.aws/credentials", "aws_secret_access_key", top) in found
    assert ("app/serve.py", "huggingface_token", top) in found
    text = out.read_text(encoding="utf-8")
    assert P.aws_key_id not in text and P.aws_secret not in text and P.hf not in text
    iam = next(c for c in doc["controls"] if c["id"] == "IAM-C-05")
    assert iam["status"] == "fail"


def test_a_root_filesystem_gets_the_same_secret_scan(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    (root / "root" / ".aws").mkdir(parents=True)
    (root / "root" / ".aws" / "credentials").write_text(
        f"[default]\naws_access_key_id = {P.aws_key_id}\naws_secret_access_key = {P.aws_secret}\n", encoding="utf-8"
    )
    (root / "usr" / "lib").mkdir(parents=True)
    (root / "usr" / "lib" / "vendor.py").write_text(f'KEY = "{P.github}"\n', encoding="utf-8")  # installed tree
    out = tmp_path / "r.json"
    env = {"SHAREGUARD_CACHE_DIR": str(tmp_path / "cache"), "SHAREGUARD_OFFLINE": "1"}
    res = CliRunner(env=env).invoke(build_app(), ["rootfs", str(root), "--format", "json", "-o", str(out), "--quiet"])
    assert res.exit_code in (0, 3), res.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    found = {
        (f["resource"]["path"], f["properties"]["detector"]) for f in doc["findings"] if f["rule_id"] == "DATA-003"
    }
    assert found == {
        ("root/.aws/credentials", "aws_access_key_id"),
        ("root/.aws/credentials", "aws_secret_access_key"),
    }  # software a package manager installed is inventoried, not secret-scanned
