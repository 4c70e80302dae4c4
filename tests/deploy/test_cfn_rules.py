"""CloudFormation Rules accept only a few functions; cfn-lint does not check it (issue 14).

A Rule with any other function (``Fn::Join`` was one) makes CloudFormation refuse the stack at
create time. Walk every Rule, and evaluate ``AliasesNeedCertificate`` the way CloudFormation
would, with only the functions Rules allow.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

RULE_FUNCTIONS = frozenset(
    {
        "Fn::And",
        "Fn::Contains",
        "Fn::EachMemberEquals",
        "Fn::EachMemberIn",
        "Fn::Equals",
        "Fn::Not",
        "Fn::Or",
        "Fn::RefAll",
        "Fn::ValueOf",
        "Fn::ValueOfAll",
        "Ref",
    }
)


def functions_in(node: Any) -> Iterator[str]:
    """Every intrinsic function (``Fn::*``, ``Ref``, ``Condition``) used anywhere in node."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key.startswith("Fn::") or key in ("Ref", "Condition"):
                yield key
            yield from functions_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from functions_in(item)


def rule_expressions(rule: Mapping[str, Any]) -> list[Any]:
    return [rule.get("RuleCondition"), *(a["Assert"] for a in rule["Assertions"])]


def evaluate(node: Any, params: Mapping[str, Any]) -> Any:
    """A Rule expression's value for the given parameter values (the Rule functions used here)."""
    if not isinstance(node, Mapping):
        return node
    ((fn, args),) = node.items()
    if fn == "Ref":
        return params[args]
    values = [evaluate(a, params) for a in (args if isinstance(args, list) else [args])]
    if fn == "Fn::Not":
        return not values[0]
    if fn == "Fn::Equals":
        return values[0] == values[1]
    if fn == "Fn::EachMemberEquals":
        return all(member == values[1] for member in values[0])
    if fn == "Fn::And":
        return all(values)
    if fn == "Fn::Or":
        return any(values)
    raise AssertionError(f"evaluator does not know {fn}")


def test_every_rule_uses_only_rule_functions(cfn: dict[str, Any]) -> None:
    assert cfn["Rules"], "the template has Rules"
    for name, rule in cfn["Rules"].items():
        assert rule["Assertions"], f"rule {name} asserts nothing"
        used = {fn for expr in rule_expressions(rule) for fn in functions_in(expr)}
        assert used <= RULE_FUNCTIONS, f"rule {name} uses {sorted(used - RULE_FUNCTIONS)}"


def test_the_walker_finds_a_nested_join() -> None:
    """The shape the template had before the fix is reported."""
    old = {"Fn::Not": [{"Fn::Equals": [{"Fn::Join": ["", {"Ref": "Aliases"}]}, ""]}]}
    assert set(functions_in(old)) - RULE_FUNCTIONS == {"Fn::Join"}


@pytest.mark.parametrize(
    ("aliases", "certificate", "applies", "holds"),
    [
        ([""], "", False, False),  # the default: no aliases, rule does not apply
        (["images.lego-moc.com"], "", True, False),  # aliases without a certificate: refused
        (["images.lego-moc.com"], "arn:aws:acm:us-east-1:1:certificate/x", True, True),
    ],
)
def test_aliases_need_certificate(
    cfn: dict[str, Any], aliases: list[str], certificate: str, applies: bool, holds: bool
) -> None:
    rule = cfn["Rules"]["AliasesNeedCertificate"]
    params = {"Aliases": aliases, "AcmCertificateArn": certificate}
    assert evaluate(rule["RuleCondition"], params) is applies
    assert all(evaluate(a["Assert"], params) for a in rule["Assertions"]) is holds


def test_region_rule(cfn: dict[str, Any]) -> None:
    rule = cfn["Rules"]["CloudFrontResourcesLiveInUsEast1"]
    for region, holds in (("us-east-1", True), ("eu-west-1", False)):
        params = {"AWS::Region": region}
        assert all(evaluate(a["Assert"], params) for a in rule["Assertions"]) is holds
