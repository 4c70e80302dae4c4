"""Loaders for the deploy/ templates: CloudFormation (with intrinsic tags) and Terraform."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
CFN_TEMPLATE = DEPLOY / "cloudformation" / "image-cdn.yaml"
TF_DIR = DEPLOY / "terraform"
K8S_DIR = DEPLOY / "kubernetes"


def _unquote(node: Any) -> Any:
    """python-hcl2 keeps HCL quotes on keys and strings and adds markers; drop both."""
    if isinstance(node, dict):
        return {
            _unquote(k): _unquote(v)
            for k, v in node.items()
            if k not in ("__is_block__", "__comments__")
        }
    if isinstance(node, list):
        return [_unquote(i) for i in node]
    if isinstance(node, str) and len(node) >= 2 and node[0] == node[-1] == '"':
        return node[1:-1]
    return node


class Terraform:
    """All *.tf files of the module, merged: resources, data sources, variables, outputs."""

    def __init__(self, directory: Path) -> None:
        import hcl2

        self.blocks: dict[str, list[dict[str, Any]]] = {}
        for path in sorted(directory.glob("*.tf")):
            with path.open() as fh:
                parsed = _unquote(hcl2.load(fh))
            for kind, items in parsed.items():
                self.blocks.setdefault(kind, []).extend(items)

    def _typed(self, kind: str, rtype: str) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for item in self.blocks.get(kind, []):
            found.update(item.get(rtype, {}))
        return found

    def resources(self, rtype: str) -> dict[str, dict[str, Any]]:
        return self._typed("resource", rtype)

    def resource(self, rtype: str, name: str) -> dict[str, Any]:
        return self.resources(rtype)[name]

    def data(self, rtype: str, name: str) -> dict[str, Any]:
        return self._typed("data", rtype)[name]

    def statements(self, policy: str) -> dict[str, dict[str, Any]]:
        """An aws_iam_policy_document's statements by sid, dynamic blocks included."""
        doc = self.data("aws_iam_policy_document", policy)
        stmts: list[dict[str, Any]] = list(doc.get("statement", []))
        for dyn in doc.get("dynamic", []):
            if "statement" in dyn:
                stmts.extend(dyn["statement"]["content"])
        return {s["sid"]: s for s in stmts if "sid" in s}

    def resolve_locals(self, text: str) -> str:
        """Substitute ``${local.x}`` references (nested too) with the locals' literal values."""
        pattern = re.compile(r"\$\{local\.(\w+)\}")
        while pattern.search(text):
            text = pattern.sub(lambda m: str(self.locals[m.group(1)]), text)
        return text

    @property
    def variables(self) -> dict[str, dict[str, Any]]:
        merged: dict[str, dict[str, Any]] = {}
        for item in self.blocks.get("variable", []):
            merged.update(item)
        return merged

    @property
    def locals(self) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for item in self.blocks.get("locals", []):
            merged.update(item)
        return merged

    @property
    def outputs(self) -> dict[str, dict[str, Any]]:
        merged: dict[str, dict[str, Any]] = {}
        for item in self.blocks.get("output", []):
            merged.update(item)
        return merged

    def dump(self) -> str:
        return json.dumps(self.blocks, default=str)


def cfn_statements(template: dict[str, Any], policy_id: str) -> dict[str, dict[str, Any]]:
    """A policy resource's statements by Sid, with each Fn::If expanded to both branches."""
    props = template["Resources"][policy_id]["Properties"]
    out: list[dict[str, Any]] = []
    for stmt in props["PolicyDocument"]["Statement"]:
        if "Fn::If" in stmt:
            out.extend(b for b in stmt["Fn::If"][1:] if isinstance(b, dict) and "Sid" in b)
        else:
            out.append(stmt)
    return {s["Sid"]: s for s in out if "Sid" in s}


def cfn_resources(template: dict[str, Any], rtype: str) -> dict[str, dict[str, Any]]:
    """Every resource of one type, by logical id."""
    return {k: r for k, r in template["Resources"].items() if r["Type"] == rtype}


@pytest.fixture(scope="session")
def cfn() -> dict[str, Any]:
    from cfnlint.decode import cfn_yaml

    template: dict[str, Any] = cfn_yaml.load(str(CFN_TEMPLATE))
    return template


@pytest.fixture(scope="session")
def tf() -> Terraform:
    return Terraform(TF_DIR)


@pytest.fixture(scope="session")
def k8s() -> dict[str, dict[str, Any]]:
    """Every manifest keyed by 'Kind/name'."""
    docs: dict[str, dict[str, Any]] = {}
    for path in sorted(K8S_DIR.rglob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        with path.open() as fh:
            for doc in yaml.safe_load_all(fh):
                if doc:
                    docs[f"{doc['kind']}/{doc['metadata']['name']}"] = doc
    return docs
