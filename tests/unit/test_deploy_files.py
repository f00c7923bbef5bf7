"""The deployment files agree with the code and with each other (no docker or cluster here:
`make test-replicas` runs the HAProxy file for real; README "Production" says what else was
checked and how)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = (ROOT / "deploy" / "entrypoint.sh").read_text()
ROLES = set(re.findall(r"^  ([a-z]+)\)$", ENTRYPOINT, flags=re.MULTILINE))
DOCUMENTED = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
# set by the platform or by the entrypoint, not by an operator
NOT_SETTINGS = {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB", "ACTION_ENDPOINT_URL"}


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _k8s() -> list[dict]:
    docs: list[dict] = []
    for path in sorted((ROOT / "deploy" / "k8s").glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def test_the_entrypoint_knows_every_role_the_files_start() -> None:
    assert {"rasa", "actions", "worker", "migrate", "seed"} <= ROLES
    compose = _compose()["services"]
    for name, service in compose.items():
        if service.get("image", "").startswith("quickconnect"):
            role = service["command"][0].removeprefix("${QC_MIGRATE_ROLE:-").rstrip("}")
            assert role in ROLES, name
    for doc in _k8s():
        spec = doc.get("spec", {}).get("template", {}).get("spec", {})
        for container in spec.get("containers", []):
            assert container["args"][0] in ROLES, doc["metadata"]["name"]


def test_two_replicas_of_each_server_behind_the_balancer() -> None:
    compose = _compose()["services"]
    assert [compose[f"rasa-{n}"]["command"] for n in (1, 2)] == [["rasa"], ["rasa"]]
    assert [compose[f"actions-{n}"]["command"] for n in (1, 2)] == [["actions"], ["actions"]]
    haproxy_cfg = (ROOT / "deploy" / "haproxy" / "haproxy.cfg").read_text()
    wanted = set(re.findall(r'"\$\{(QC_[A-Z0-9_]+)\}"', haproxy_cfg))
    assert wanted == set(compose["haproxy"]["environment"])
    for n in (1, 2):
        assert compose["haproxy"]["environment"][f"QC_RASA_{n}"] == f"rasa-{n}:5005"
    assert compose["rasa-1"]["environment"]["ACTION_ENDPOINT_URL"] == "http://haproxy:5055/webhook"
    replicas = {
        d["metadata"]["name"]: d["spec"].get("replicas")
        for d in _k8s()
        if d["kind"] == "Deployment"
    }
    assert replicas["quickconnect-rasa"] == 2 and replicas["quickconnect-action-server"] == 2


def test_every_setting_the_files_give_is_documented_in_env_example() -> None:
    given = set(_compose()["services"]["rasa-1"]["environment"])
    for doc in _k8s():
        if doc["kind"] in ("ConfigMap", "Secret"):
            given |= set(doc.get("data") or doc.get("stringData") or {})
    assert given - NOT_SETTINGS - DOCUMENTED == set()


def test_probes_use_paths_the_servers_serve() -> None:
    channel = (ROOT / "rasa_extensions" / "webchat" / "channel.py").read_text()
    assert '@bp.route("/health"' in channel
    paths = set()
    for doc in _k8s():
        spec = doc.get("spec", {}).get("template", {}).get("spec", {})
        for container in spec.get("containers", []):
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                if probe in container:
                    paths.add((container["args"][0], container[probe]["httpGet"]["path"]))
    assert paths == {
        ("rasa", "/webhooks/webchat/health"),
        ("rasa", "/webhooks/rest/"),
        ("actions", "/health"),
    }
    haproxy_cfg = (ROOT / "deploy" / "haproxy" / "haproxy.cfg").read_text()
    assert "option httpchk GET /webhooks/webchat/health" in haproxy_cfg
