"""Dockerfile hardening checks (DOCKERFILE-001…025); metadata in `posture/rules/dockerfile.yaml`.

Each rule is a function over the parsed `Dockerfile` (see `posture.parsers.dockerfile`). Rules
about what ships look at the final stage and the stages it is built FROM; rules about how the
build is done (TLS, signatures, `curl | sh`) look at every stage, since a compromised builder
stage poisons the artifacts copied out of it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from shareguard.core.context import ScanContext
from shareguard.core.masking import mask
from shareguard.core.memo import per_scan
from shareguard.posture.checks._common import (
    default_trusted_registries,
    is_floating_tag,
    is_placeholder,
    is_secret_name,
    is_trusted,
)
from shareguard.posture.model import PostureResource, Violation
from shareguard.posture.options import PostureOptions
from shareguard.posture.parsers.dockerfile import Dockerfile, Instruction, Stage, kv_pairs, parse_image_ref, stage_user
from shareguard.posture.parsers.shell import SimpleCommand
from shareguard.sensitive.text import secret_kind

Rule = Callable[[Dockerfile, ScanContext], Iterable[Violation]]

# Patterns of the hot paths, compiled once (`re.search(str, …)` pays a cache lookup per call).
_PYTHON = re.compile(r"python[0-9.]*")
_PIP = re.compile(r"pip[0-9.]*")
_REMOTE_SRC = re.compile(r"^(?:https?|git)://|^git@")
_REQ_SPLIT = re.compile(r"[\[<>=!~;@ ]")
_GIT_SSL_OFF = re.compile(r"http\.sslverify[\s=]+(?:false|0|no)\b", re.I)
_NPM_SSL_OFF = re.compile(r"strict-ssl[\s=]+false\b")
_PIP_TRUSTED_CONFIG = re.compile(r"config set \S*trusted-host")
_CONDA_SSL_OFF = re.compile(r"ssl_verify\s+(?:false|no|0)\b", re.I)
_APT_VERIFY_OFF = re.compile(r"Verify-(?:Peer|Host)[\s=\"']+false", re.I)
_INDEX_TOOLS = re.compile(r"pip[0-9.]*|npm|yarn|pnpm|conda|mamba")
_WORLD_WRITABLE_MODE = re.compile(r"0?[0-7]?7[0-7]7|(?:a|o|ugo)\+[rwx]*w[rwx]*")
_WORLD_WRITABLE_OCTAL = re.compile(r"0?[0-7]?7[0-7]7")
_WINDOWS_PATH = re.compile(r"^[A-Za-z]:[\\/]")
_EVIDENCE_MAX = 160


def _evidence(inst: Instruction) -> str:
    text = inst.raw if len(inst.raw) <= _EVIDENCE_MAX else inst.raw[: _EVIDENCE_MAX - 1] + "…"
    return text


def _v(
    rule: str, inst: Instruction, detail: str | None = None, *, needle: str = "", evidence: str | None = None
) -> Violation:
    line = inst.line_of(needle) if needle else inst.line
    ev = evidence if evidence is not None else _evidence(inst)
    return Violation(rule, evidence=ev, detail=detail, line=line, fingerprint_key=f"{ev}|{detail or ''}")


def _shipped(df: Dockerfile) -> list[Stage]:
    return df.lineage(df.final) if df.final else []


def _commands(df: Dockerfile, stages: list[Stage] | None = None) -> Iterator[tuple[Instruction, SimpleCommand]]:
    for st in stages if stages is not None else df.stages:
        for inst in st.of("RUN"):
            for cmd in inst.shell.commands:
                yield inst, cmd


@per_scan(maxsize=8192)  # the scan's: argv holds tokens
def _unwrap(argv: tuple[str, ...]) -> tuple[str, ...]:
    """Drop `sudo`, `env A=B`, `nohup`, `time`, `exec` and `python -m` wrappers (cached: every rule asks)."""
    args = list(argv)
    while args:
        head = args[0].rsplit("/", 1)[-1]
        if head in ("sudo", "env", "nohup", "time", "exec", "xargs", "command"):
            args = args[1:]
            while args and (args[0].startswith("-") or ("=" in args[0] and head == "env")):
                args = args[1:]
            continue
        if "=" in head and not head.startswith("-"):
            args = args[1:]
            continue
        if _PYTHON.fullmatch(head) and len(args) >= 3 and args[1] == "-m":
            args = args[2:]
            continue
        if head == "uv" and len(args) >= 2 and args[1] == "pip":
            args = args[1:]
            continue
        break
    if args:
        args[0] = args[0].rsplit("/", 1)[-1]
    return tuple(args)


# --- 001 root user ---------------------------------------------------------------------------------

_NONROOT_BASES = re.compile(r"(?:distroless/.*:(?:.*-)?nonroot|cgr\.dev/|chainguard/)")


def root_user(df: Dockerfile, ctx: ScanContext) -> Iterable[Violation]:
    final = df.final
    if final is None:
        return
    user, inst = stage_user(df, final)
    if user is None:
        if _NONROOT_BASES.search(df.root_base(final)):
            return  # the base image already runs as a non-root user
        from_inst = final.instructions[0]
        yield _v("DOCKERFILE-001", from_inst, "no USER instruction in the final stage, so it runs as root")
        return
    if inst is not None and user.split(":", 1)[0].strip() in ("root", "0"):
        yield _v("DOCKERFILE-001", inst, f"final stage runs as {user}")


# --- 002/003/004 base image ------------------------------------------------------------------------


def _external_froms(df: Dockerfile) -> Iterator[tuple[Stage, Instruction]]:
    for st in df.stages:
        if st.parent is not None or st.base.lower() == "scratch" or "$" in st.base or not st.base:
            continue
        yield st, st.instructions[0]


def latest_base(df: Dockerfile, ctx: ScanContext) -> Iterable[Violation]:
    for st, inst in _external_froms(df):
        ref = parse_image_ref(st.base)
        if ref.digest:
            continue
        if ref.tag is None:
            yield _v("DOCKERFILE-002", inst, f"{st.base} has no tag (means :latest)")
        elif is_floating_tag(ref.tag):
            yield _v("DOCKERFILE-002", inst, f"{st.base} uses the moving tag :{ref.tag}")


def digest_unpinned(df: Dockerfile, ctx: ScanContext) -> Iterable[Violation]:
    for st, inst in _external_froms(df):
        ref = parse_image_ref(st.base)
        if not ref.digest and ref.tag is not None and not is_floating_tag(ref.tag):
            yield _v("DOCKERFILE-003", inst, f"{st.base} is not pinned by digest")


def untrusted_registry(df: Dockerfile, ctx: ScanContext) -> Iterable[Violation]:
    patterns = ctx.options.get(PostureOptions).trusted_registries or default_trusted_registries()
    for st, inst in _external_froms(df):
        ref = parse_image_ref(st.base)
        if not is_trusted(ref.full, patterns):
            yield _v("DOCKERFILE-004", inst, f"{ref.full} is not in the trusted registry list")


# --- 005 ADD ---------------------------------------------------------------------------------------

_ARCHIVE = re.compile(r"\.(?:tar|tar\.gz|tgz|tar\.bz2|tbz2?|tar\.xz|txz|tar\.zst|tzst)$", re.I)


def add_instead_of_copy(df: Dockerfile, ctx: ScanContext) -> Iterable[Violation]:
    for st in df.stages:
        for inst in st.of("ADD"):
            if inst.heredocs:
                continue
            sources = _sources(inst)
            for src in sources:
                if _REMOTE_SRC.match(src):
                    if "checksum" not in inst.flags:
                        yield _v("DOCKERFILE-005", inst, f"ADD fetches {src} without --checksum", needle=src)
                elif not _ARCHIVE.search(src):
                    yield _v("DOCKERFILE-005", inst, f"ADD of local {src} (use COPY)", needle=src)


def _sources(inst: Instruction) -> list[str]:
    words = inst.exec_form if inst.exec_form is not None else inst.args.split()
    return list(words[:-1]) if len(words) >= 2 else []


# --- 006 sudo --------------------------------------------------------------------------------------


def sudo_used(df: Dockerfile, ctx: ScanContext) -> Iterable[Violation]:
    for inst, cmd in _commands(df):
        if cmd.name == "sudo":
            yield _v("DOCKERFILE-006", inst, needle="sudo")
            break


# --- 007/008/009 SSH -------------------------------------------------------------------------------


def ssh_port(df: Dockerfile, ctx: ScanContext) -> Iterable[Violation]:
    for st in _shipped(df):
        for inst in st.of("EXPOSE"):
            for port in inst.args.split():
                if port.split("/", 1)[0] == "22":
                    yield _v("DOCKERFILE-007", inst)


_SSHD = re.compile(r"(?:^|[\s/\"'])sshd(?:$|[\s\"'])")
# Also the sed form of AWS DLC-style images: s/…StrictHostKeyChecking \).*/ \1no/
_STRICT_OFF = re.compile(r"StrictHostKeyChecking(?:[\s=\"']+|[^\n;&|]{0,24}?\\1)no\b", re.I)


def ssh_server(df: Dockerfile, ctx: ScanContext) -> Iterable[Violation]:
    for inst, cmd in _commands(df, _shipped(df)):
        argv = _unwrap(cmd.argv)
        installer = len(argv) >= 2 and argv[0] in ("apt-get", "apt", "yum", "dnf", "apk", "microdnf", "zypper")
        if installer and "openssh-server" in argv:
            yield _v("DOCKERFILE-008", inst, "installs openssh-server", needle="openssh-server")
    for st in df.stages:
        for inst in st.instructions:
            text = inst.raw + "\n" + "\n".join(h.body for h in inst.heredocs)
            m = _STRICT_OFF.search(text)
            if m and inst.keyword in ("RUN", "ENV", "ARG"):
                yield _v("DOCKERFILE-008", inst, "disables SSH host key checking", needle="StrictHostKeyChecking")
    for st in _shipped(df):
        for inst in st.of("CMD", "ENTRYPOINT"):
            if _SSHD.search(inst.raw):
                yield _v("DOCKERFILE-008", inst, "runs sshd")


_SSH_KEY_FILES = re.compile(
    r"(?:^|/)(?:id_(?:rsa|dsa|ecdsa|ed25519)(?:_sk)?|authorized_keys2?|\.ssh(?:/.*)?|ssh_host_[a-z0-9]+_key|[^/]+\.ppk)$"
)
_KEY_FILES = re.compile(r"(?:^|/)(?!(?:[^/]*(?:cert|chain|ca|bundle|pub)[^/]*))[^/]+\.(?:pem|key)$", re.I)


def ssh_keys(df: Dockerfile, ctx: ScanContext) -> Iterable[Violation]:
    for st in _shipped(df):
        for inst in st.of("COPY", "ADD"):
            flagged = False
            for src in _sources(inst):
                s = src.rstrip("/")
                if _SSH_KEY_FILES.search(s) or _KEY_FILES.search(s):
                    flagged = True
                    yield _v("DOCKERFILE-009", inst, f"copies {src}", needle=src)
            dest = (inst.exec_form or inst.args.split() or [""])[-1]
            if not flagged and ("/.ssh/id_" in dest or dest.endswith("authorized_keys")):
                yield _v("DOCKERFILE-009", inst, f"writes {dest}", needle=dest)
        for inst in st.of("RUN"):
            if any(_unwrap(c.argv)[:1] == ("ssh-keygen",) for c in inst.shell.commands):
                yield _v("DOCKERFILE-009", inst, "generates an SSH key pair inside the image", needle="ssh-keygen")


# --- 010/011 pinning -------------------------------------------------------------------------------

_APT_VALUE_OPTS = frozenset({"-o", "-c", "-t", "--target-release", "--option", "--config-file"})
_APK_VALUE_OPTS = frozenset(
    {"--virtual", "-t", "--repository", "-X", "--root", "-p", "--arch", "--keys-dir", "--cache-dir"}
)


def _packages(args: tuple[str, ...], value_opts: frozenset[str]) -> list[str]:
    out: list[str] = []
    skip = False
    for a in args:
        if skip:
            skip = False
            continue
        if a.startswith("-"):
            skip = a in value_opts
            continue
        out.append(a)
    return out


def os_packages_unpinned(df: Dockerfile, ctx: ScanContext) -> Iterable[Violation]:
    for inst, cmd in _commands(df, _shipped(df)):
        argv = _unwrap(cmd.argv)
        if len(argv) < 2:
            continue
        tool, sub = argv[0], argv[1]
        pkgs: list[str] = []
        if tool in ("apt-get", "apt") and sub == "install":
            pkgs = [p for p in _packages(argv[2:], _APT_VALUE_OPTS) if "=" not in p and not p.endswith(".deb")]
        elif tool == "apk" and sub == "add":
            pkgs = [p for p in _packages(argv[2:], _APK_VALUE_OPTS) if "=" not in p and "~" not in p]
        if pkgs:
            shown = ", ".join(pkgs[:5]) + ("…" if len(pkgs) > 5 else "")
            yield _v("DOCKERFILE-010", inst, f"{tool} {sub} without versions: {shown}", needle=pkgs[0])


_PIP_VALUE_OPTS = frozenset(
    {"-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--trusted-host", "-t", "--target", "--prefix",
     "--root", "--platform", "--python-version", "--implementation", "--abi", "--only-binary", "--no-binary",
     "--progress-bar", "--cache-dir", "--src", "--upgrade-strategy", "--log", "--timeout", "--retries", "--proxy",
     "--cert", "--client-cert", "-C", "--config-settings", "--global-option", "--install-option", "--report",
     "--python", "--exists-action", "-e", "--editable"}
)  # fmt: skip
_PIP_FROM_FILE = frozenset({"-r", "--requirement", "-c", "--constraint"})
_PIP_TOOLING = frozenset({"pip", "setuptools", "wheel", "uv", "pip-tools"})
_PINNED = re.compile(r"(?:===?|~=)\s*[0-9A-Za-z]|\s@\s|@")


def _pip_install_args(argv: tuple[str, ...]) -> tuple[str, ...] | None:
    if len(argv) >= 2 and _PIP.fullmatch(argv[0]) and argv[1] == "install":
        return argv[2:]
    return None


def pip_unpinned(df: Dockerfile, ctx: ScanContext) -> Iterable[Violation]:
    for inst, cmd in _commands(df, _shipped(df)):
        args = _pip_install_args(_unwrap(cmd.argv))
        if args is None or any(a in _PIP_FROM_FILE or a.startswith(("--requirement=", "--constraint=")) for a in args):
            continue
        loose: list[str] = []
        skip = False
        for a in args:
            if skip:
                skip = False
                continue
            if a.startswith("-"):
                skip = a in _PIP_VALUE_OPTS
                continue
            name = _REQ_SPLIT.split(a, maxsplit=1)[0].lower()
            if a.startswith((".", "/", "$")) or "://" in a or a.endswith((".whl", ".tar.gz", ".zip")):
                continue
            if name in _PIP_TOOLING or _PINNED.search(a):
                continue
            loose.append(a)
        if loose:
            shown = ", ".join(loose[:5]) + ("…" if len(loose) > 5 else "")
            yield _v("DOCKERFILE-011", inst, f"pip install without exact versions: {shown}", needle=loose[0])


# --- 012/013 caches --------------------------------------------------------------------------------


def _cache_mount(inst: Instruction) -> bool:
    return "type=cache" in inst.flags.get("mount", "")


def pip_cache(df: Dockerfile, ctx: ScanContext) -> Iterable[Violation]:
    for st in _shipped(df):
        env = {k.upper(): v for s in df.lineage(st) for k, v in s.env.items()}
        if env.get("PIP_NO_CACHE_DIR", "").lower() in ("1", "true", "yes", "on", "off", "0", "false"):
            continue  # any value disables the cache (pip's historic quirk: even "false")
        for inst in st.of("RUN"):
            if _cache_mount(inst):
                continue
            for cmd in inst.shell.commands:
                args = _pip_install_args(_unwrap(cmd.argv))
                if args is not None and "--no-cache-dir" not in args and "--no-cache" not in args:
                    yield _v("DOCKERFILE-012", inst, needle="install")
                    break


def apt_lists(df: Dockerfile, ctx: ScanContext) -> Iterable[Violation]:
    for st in _shipped(df):
        for inst in st.of("RUN"):
            if _cache_mount(inst):
                continue
            cmds = [_unwrap(c.argv) for c in inst.shell.commands]
            installs = any(len(a) >= 2 and a[0] in ("apt-get", "apt") and a[1] == "install" for a in cmds)
            cleans = "/var/lib/apt/lists" in inst.raw or any(
                h.body.find("/var/lib/apt/lists") >= 0 for h in inst.heredocs
            )
            if installs and not cleans:
                yield _v("DOCKERFILE-013", inst, needle="install")


# --- 014/015 secrets -------------------------------------------------------------------------------


def secrets_in_build_vars(df: Dockerfile, ctx: ScanContext) -> Iterable[Violation]:
    for inst in df.instructions:
        if inst.keyword not in ("ENV", "ARG", "LABEL"):
            continue
        for key, value in kv_pairs(inst.args, arg=inst.keyword == "ARG"):
            kind = secret_kind(value or "")
            if kind:
                yield _v(
                    "DOCKERFILE-014",
                    inst,
                    f"{key} holds a secret ({kind})",
                    needle=key,
                    evidence=f"{key}={mask(value or '')}",
                )
            elif inst.keyword != "LABEL" and is_secret_name(key):
                if value is None:
                    yield _v(
                        "DOCKERFILE-014", inst, f"build argument {key} passes a secret into the image history",
                        needle=key, evidence=f"{inst.keyword} {key}",
                    )  # fmt: skip
                elif not is_placeholder(value):
                    yield _v(
                        "DOCKERFILE-014", inst, f"{key} set to a literal", needle=key, evidence=f"{key}={mask(value)}"
                    )
    for st in df.stages:
        for inst in st.of("RUN"):
            text = inst.raw + "\n" + "\n".join(h.body for h in inst.heredocs)
            kind = secret_kind(text)
            if kind:
                yield _v("DOCKERFILE-014", inst, f"RUN contains a secret ({kind})", evidence=f"RUN … ({kind}, masked)")


_SECRET_FILES = re.compile(
    r"(?:^|/)(?:\.env(?:\.(?!example|sample|template|dist|defaults?\b)[\w-]+)?|[\w-]+\.env|credentials(?:\.json)?|\.npmrc|\.pypirc|\.netrc|\.git-credentials|"
    r"\.dockercfg|\.docker/config\.json|\.aws(?:/.*)?|\.kube/config|kubeconfig|\.htpasswd|[^/]*\.p12|[^/]*\.pfx|"
    r"[^/]*service[-_]?account[^/]*\.json|[^/]*(?:sa|gcp)[-_]key[^/]*\.json|application_default_credentials\.json)$",
    re.I,
)


def secret_files(df: Dockerfile, ctx: ScanContext) -> Iterable[Violation]:
    for st in _shipped(df):
        for inst in st.of("COPY", "ADD"):
            for src in _sources(inst):
                if _SECRET_FILES.search(src.rstrip("/")):
                    yield _v("DOCKERFILE-015", inst, f"copies {src}", needle=src)


# --- 016/017/018 TLS and signatures ----------------------------------------------------------------

_CURL_VALUE_SHORT = set("oHXduAebcDEFKmrTwxyYzCPQUt")
_TLS_ENV: dict[str, Callable[[str], bool]] = {
    "PYTHONHTTPSVERIFY": lambda v: v.strip() == "0",
    "GIT_SSL_NO_VERIFY": lambda v: v.strip().lower() not in ("", "0", "false"),
    "NODE_TLS_REJECT_UNAUTHORIZED": lambda v: v.strip() == "0",
    "REQUESTS_CA_BUNDLE": lambda v: v.strip() == "",
    "CURL_CA_BUNDLE": lambda v: v.strip() == "",
    "PIP_TRUSTED_HOST": lambda v: v.strip() != "",
    "NPM_CONFIG_STRICT_SSL": lambda v: v.strip().lower() == "false",
    "CONDA_SSL_VERIFY": lambda v: v.strip().lower() in ("false", "0", "no"),
}


def _curl_insecure(args: tuple[str, ...]) -> bool:
    for a in args:
        if a == "--insecure":
            return True
        if a.startswith("-") and not a.startswith("--"):
            for ch in a[1:]:
                if ch == "k":
                    return True
                if ch in _CURL_VALUE_SHORT:
                    break
    return False


@per_scan(maxsize=8192)
def _tls_off(argv: tuple[str, ...]) -> str | None:
    if not argv:
        return None
    tool, args = argv[0], argv[1:]
    joined = " ".join(args)
    if tool == "curl" and _curl_insecure(args):
        return "curl -k/--insecure"
    if tool == "wget" and "--no-check-certificate" in args:
        return "wget --no-check-certificate"
    if tool == "git" and _GIT_SSL_OFF.search(joined):
        return "git http.sslVerify false"
    if tool in ("npm", "yarn", "pnpm") and _NPM_SSL_OFF.search(joined):
        return f"{tool} strict-ssl false"
    if _PIP.fullmatch(tool) and any(a == "--trusted-host" or a.startswith("--trusted-host=") for a in args):
        return "pip --trusted-host"
    if _PIP.fullmatch(tool) and _PIP_TRUSTED_CONFIG.search(joined):
        return "pip config trusted-host"
    if tool in ("conda", "mamba", "micromamba") and _CONDA_SSL_OFF.search(joined):
        return "conda ssl_verify false"
    if _APT_VERIFY_OFF.search(joined):
        return "apt Verify-Peer false"
    if tool == "export":
        for a in args:
            key, eq, value = a.partition("=")
            check = _TLS_ENV.get(key.upper())
            if eq and check is not None and check(value):
                return f"{key}={value}"
    return None


def tls_disabled(df: Dockerfile, ctx: ScanContext) -> Iterable[Violation]:
    for inst, cmd in _commands(df):
        what = _tls_off(_unwrap(cmd.argv))
        if what:
            needle = {"pip --trusted-host": "--trusted-host", "curl -k/--insecure": "curl"}.get(what, what.split()[0])
            yield _v("DOCKERFILE-016", inst, what, needle=needle)
    for st in df.stages:
        for inst in st.of("ENV", "ARG"):
            for key, value in kv_pairs(inst.args, arg=inst.keyword == "ARG"):
                check = _TLS_ENV.get(key.upper())
                if value is not None and check is not None and check(value):
                    yield _v("DOCKERFILE-016", inst, f"{key}={value}", needle=key)


_HTTP_INDEX_OPTS = frozenset({"-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--registry"})
_INDEX_ENV = frozenset(
    {"PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "NPM_CONFIG_REGISTRY", "UV_INDEX_URL"}
)
_LOCAL_HOST = re.compile(r"^http://(?:localhost|127\.|\[::1\])")


def plain_http_index(df: Dockerfile, ctx: ScanContext) -> Iterable[Violation]:
    for inst, cmd in _commands(df):
        argv = _unwrap(cmd.argv)
        if not argv or not _INDEX_TOOLS.fullmatch(argv[0]):
            continue
        for i, a in enumerate(argv):
            opt, eq, val = a.partition("=")
            url = (
                val
                if eq and opt in _HTTP_INDEX_OPTS
                else argv[i + 1]
                if a in _HTTP_INDEX_OPTS and i + 1 < len(argv)
                else ""
            )
            if url.startswith("http://") and not _LOCAL_HOST.match(url):
                yield _v("DOCKERFILE-017", inst, f"{argv[0]} index {url}", needle="http://")
    for st in df.stages:
        for inst in st.of("ENV", "ARG"):
            for key, value in kv_pairs(inst.args, arg=inst.keyword == "ARG"):
                url = value or ""
                if key.upper() in _INDEX_ENV and url.startswith("http://") and not _LOCAL_HOST.match(url):
                    yield _v("DOCKERFILE-017", inst, f"{key}={url}", needle=key)


_UNSIGNED = re.compile(
    r"--allow-unauthenticated|--force-yes|--allow-insecure-repositories|AllowUnauthenticated[\s=\"']+(?:true|1)|"
    r"\[\s*(?:[^\]]*\s)?trusted=yes[^\]]*\]|--nogpgcheck|gpgcheck\s*=\s*0|--allow-untrusted|--nosignature|"
    r"--no-gpg-checks|repo_gpgcheck\s*=\s*0",
    re.I,
)


def unsigned_packages(df: Dockerfile, ctx: ScanContext) -> Iterable[Violation]:
    for st in df.stages:
        for inst in st.of("RUN", "COPY", "ADD"):
            text = (inst.raw if inst.keyword == "RUN" else "") + "\n" + "\n".join(h.body for h in inst.heredocs)
            m = _UNSIGNED.search(text)
            if m:
                yield _v("DOCKERFILE-018", inst, m.group(0), needle=m.group(0).split()[0][:20])


# --- 019 curl | sh ---------------------------------------------------------------------------------

_FETCHERS = frozenset({"curl", "wget", "fetch"})
_INTERPRETERS = re.compile(r"^(?:sh|bash|dash|zsh|ksh|ash|python[0-9.]*|perl|ruby|node|php)$")
_SUBST = re.compile(
    r"(?:\b(?:sh|bash|zsh|dash|eval|source)\b|(?:^|\s)\.)\s+(?:-c\s+)?[\"']?(?:\$\(|<\(|`)\s*(?:curl|wget)\b"
)


def pipe_to_shell(df: Dockerfile, ctx: ScanContext) -> Iterable[Violation]:
    for st in df.stages:
        for inst in st.of("RUN"):
            script = inst.shell
            flagged = False
            pipes: dict[int, list[SimpleCommand]] = {}
            for cmd in script.commands:
                pipes.setdefault(cmd.pipeline, []).append(cmd)
            for cmds in pipes.values():
                names = [_unwrap(c.argv)[0] if _unwrap(c.argv) else "" for c in sorted(cmds, key=lambda c: c.position)]
                fetch = next((i for i, n in enumerate(names) if n in _FETCHERS), None)
                if fetch is not None and any(_INTERPRETERS.match(n) for n in names[fetch + 1 :]):
                    yield _v("DOCKERFILE-019", inst, f"{names[fetch]} … | {names[-1]}", needle=names[fetch])
                    flagged = True
                    break
            if not flagged and _SUBST.search(script.text):
                yield _v(
                    "DOCKERFILE-019",
                    inst,
                    "shell runs a downloaded script",
                    needle="curl" if "curl" in script.text else "wget",
                )


# --- 020/021 final image shape ---------------------------------------------------------------------

_MINIMAL = re.compile(
    r"(?:^|/)(?:scratch|distroless|static|busybox|wolfi-base)|cgr\.dev/|chainguard|alpine|[:-]slim|slim[:-]|ubi-?(?:minimal|micro)|"
    r"-minimal|:minimal|micro(?:[:-]|$)",
    re.I,
)


def non_minimal_final(df: Dockerfile, ctx: ScanContext) -> Iterable[Violation]:
    final = df.final
    if final is None:
        return
    base = df.root_base(final)
    if "$" in base or _MINIMAL.search(base.lower()):
        return
    yield _v("DOCKERFILE-020", df.lineage(final)[-1].instructions[0], f"final image builds on {base}")


_SERVERS = re.compile(
    r"\b(?:uvicorn|gunicorn|hypercorn|torchserve|tritonserver|tensorflow_model_server|mlserver|bentoml|"
    r"text-generation-launcher|vllm|ray\s+serve|serve\s+run|flask\s+run|streamlit|gradio|nginx|httpd|"
    r"http\.server|waitress-serve|kserve|seldon|triton|lmdeploy|sglang)\b",
    re.I,
)


def missing_healthcheck(df: Dockerfile, ctx: ScanContext) -> Iterable[Violation]:
    final = df.final
    if final is None:
        return
    lineage = df.lineage(final)
    checks = [i for st in lineage for i in st.of("HEALTHCHECK")]
    if checks and checks[0].args.strip().upper() != "NONE":
        return
    exposes = [i for st in lineage for i in st.of("EXPOSE")]
    runs = [i for st in lineage for i in st.of("CMD", "ENTRYPOINT")]
    server = next((i for i in runs if _SERVERS.search(i.raw)), None)
    if checks or exposes or server:
        anchor = checks[0] if checks else server or exposes[0]
        yield _v("DOCKERFILE-021", anchor, "serving image without a HEALTHCHECK")


# --- 022…025 hygiene -------------------------------------------------------------------------------


def world_writable(df: Dockerfile, ctx: ScanContext) -> Iterable[Violation]:
    for inst, cmd in _commands(df, _shipped(df)):
        argv = _unwrap(cmd.argv)
        if argv and argv[0] == "chmod" and any(_WORLD_WRITABLE_MODE.fullmatch(a) for a in argv[1:]):
            yield _v("DOCKERFILE-022", inst, needle="chmod")
    for st in _shipped(df):
        for inst in st.of("COPY", "ADD"):
            if _WORLD_WRITABLE_OCTAL.fullmatch(inst.flags.get("chmod", "")):
                yield _v("DOCKERFILE-022", inst)


def relative_workdir(df: Dockerfile, ctx: ScanContext) -> Iterable[Violation]:
    for st in df.stages:
        for inst in st.of("WORKDIR"):
            path = inst.args.strip().strip("\"'")
            if path and not path.startswith(("/", "$")) and not _WINDOWS_PATH.match(path):
                yield _v("DOCKERFILE-023", inst)


def maintainer(df: Dockerfile, ctx: ScanContext) -> Iterable[Violation]:
    for inst in df.instructions:
        if inst.keyword == "MAINTAINER":
            yield _v("DOCKERFILE-024", inst, evidence="MAINTAINER …")


def multiple_cmd(df: Dockerfile, ctx: ScanContext) -> Iterable[Violation]:
    for st in df.stages:
        for kw in ("CMD", "ENTRYPOINT"):
            found = st.of(kw)
            if len(found) > 1:
                yield _v("DOCKERFILE-025", found[0], f"{len(found)} {kw} instructions; only the last takes effect")


RULES: tuple[Rule, ...] = (
    root_user,
    latest_base,
    digest_unpinned,
    untrusted_registry,
    add_instead_of_copy,
    sudo_used,
    ssh_port,
    ssh_server,
    ssh_keys,
    os_packages_unpinned,
    pip_unpinned,
    pip_cache,
    apt_lists,
    secrets_in_build_vars,
    secret_files,
    tls_disabled,
    plain_http_index,
    unsigned_packages,
    pipe_to_shell,
    non_minimal_final,
    missing_healthcheck,
    world_writable,
    relative_workdir,
    maintainer,
    multiple_cmd,
)


@dataclass(frozen=True)
class DockerfileChecks:
    name: str = "dockerfile"
    types: frozenset[str] = frozenset({"dockerfile"})

    def check(self, resource: PostureResource, ctx: ScanContext) -> Iterable[Violation]:
        df = resource.raw
        if not isinstance(df, Dockerfile):
            return
        for rule in RULES:
            yield from rule(df, ctx)


CHECKS = (DockerfileChecks(),)
