"""Reads CloudFront's cache rules out of deploy/'s CloudFormation template.

The local edge must apply the same rules as the real distribution, so it takes them from
the template itself (TTLs, cache key, behaviours, headers policy, error caching) instead of
a second copy that could drift. Intrinsics are resolved against parameter defaults (plus
overrides); anything the edge cannot model raises `TemplateError` naming the field.

Which template: an explicit path (`--template`, `LocalEdge(template=...)`), else the one in
the source checkout, `deploy/cloudformation/image-cdn.yaml`, found by walking up from this
package and then from the working directory (`find_template`). The rules are never copied
into the package: without a checkout, name the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from wishlist_dev.edge.model import (
    Behavior,
    CachePolicy,
    Cors,
    EdgeConfig,
    HeadersPolicy,
)

TEMPLATE_IN_CHECKOUT = Path("deploy/cloudformation/image-cdn.yaml")
PSEUDO = {"AWS::Region": "us-east-1", "AWS::StackName": "local-edge", "AWS::Partition": "aws"}


class TemplateError(ValueError):
    """The template has something the local edge cannot reproduce; the message names it."""


def find_template(start: Iterable[Path] | None = None) -> Path:
    """deploy/'s template in the source checkout: the first directory, from each start
    (default: this package, then the working directory) upwards, that holds it."""
    starts = [Path(__file__).resolve().parent, Path.cwd()] if start is None else list(start)
    for where in starts:
        for folder in (where, *where.parents):
            candidate = folder / TEMPLATE_IN_CHECKOUT
            if candidate.is_file():
                return candidate
    raise TemplateError(
        f"no {TEMPLATE_IN_CHECKOUT} above {' or '.join(str(p) for p in starts)} "
        "(not a source checkout): pass --template PATH"
    )


class _NoValue:
    """AWS::NoValue: the property is dropped."""


NO_VALUE = _NoValue()


class _Resolver:
    """Evaluates the intrinsics that matter for CloudFront config: Ref, If, conditions."""

    def __init__(self, template: Mapping[str, Any], parameters: Mapping[str, str]) -> None:
        self.template = template
        self.params: dict[str, Any] = {}
        for name, spec in template.get("Parameters", {}).items():
            value = parameters.get(name, spec.get("Default"))
            if spec.get("Type") == "CommaDelimitedList" and isinstance(value, str):
                value = [v for v in value.split(",") if v]
            self.params[name] = value
        unknown = set(parameters) - set(self.params)
        if unknown:
            raise TemplateError(f"unknown template parameters: {sorted(unknown)}")

    def resolve(self, node: Any) -> Any:
        if isinstance(node, Mapping):
            if len(node) == 1:
                ((fn, arg),) = node.items()
                if fn == "Ref":
                    return self._ref(arg)
                if fn == "Fn::If":
                    cond, yes, no = arg
                    return self.resolve(yes if self.condition(cond) else no)
            out = {k: self.resolve(v) for k, v in node.items()}
            return {k: v for k, v in out.items() if v is not NO_VALUE}
        if isinstance(node, list):
            return [v for v in (self.resolve(i) for i in node) if v is not NO_VALUE]
        return node

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.params:
            return self.params[name]
        if name in PSEUDO:
            return PSEUDO[name]
        return {"Ref": name}  # a resource: kept so policies can be looked up

    def condition(self, node: Any) -> bool:
        if isinstance(node, str):
            return self.condition(self.template["Conditions"][node])
        ((fn, arg),) = node.items()
        if fn == "Condition":
            return self.condition(arg)
        if fn == "Fn::Equals":
            return bool(self._value(arg[0]) == self._value(arg[1]))
        if fn == "Fn::Not":
            return not self.condition(arg[0])
        if fn == "Fn::And":
            return all(self.condition(c) for c in arg)
        if fn == "Fn::Or":
            return any(self.condition(c) for c in arg)
        raise TemplateError(f"unsupported condition function {fn}")

    def _value(self, node: Any) -> Any:
        if isinstance(node, Mapping) and "Fn::Join" in node:
            sep, items = node["Fn::Join"]
            return sep.join(str(i) for i in self.resolve(items))
        return self.resolve(node)


class _CfnLoader(yaml.SafeLoader):
    """PyYAML plus CloudFormation's short tags (cfn-lint's decoder takes ~10 s to import)."""


def _short_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        raise TemplateError(f"!{suffix}: unexpected YAML node")
    if suffix in {"Ref", "Condition"}:
        return {suffix: value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _short_tag)


def load_template(path: Path) -> dict[str, Any]:
    """YAML with CloudFormation short tags (!Ref, !If, ...) as their long forms."""
    if not path.is_file():
        raise TemplateError(f"template not found: {path}")
    with path.open() as fh:
        template = yaml.load(fh, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    if not isinstance(template, dict):
        raise TemplateError(f"{path} is not a CloudFormation template")
    return template


def edge_config_from_template(
    path: Path | None = None, parameters: Mapping[str, str] | None = None
) -> EdgeConfig:
    """The distribution's behaviours and error caching, as the edge will apply them.
    `path`: the template; None finds the checkout's (`find_template`)."""
    template = load_template(path or find_template())
    resolver = _Resolver(template, parameters or {})
    resources = template.get("Resources", {})
    dists = [r for r in resources.values() if r.get("Type") == "AWS::CloudFront::Distribution"]
    if len(dists) != 1:
        raise TemplateError(f"expected one AWS::CloudFront::Distribution, found {len(dists)}")
    config = resolver.resolve(dists[0]["Properties"]["DistributionConfig"])

    def policy(ref: Any, rtype: str, field: str) -> Mapping[str, Any] | None:
        if ref is None:
            return None
        if not (isinstance(ref, Mapping) and "Ref" in ref):
            raise TemplateError(f"{field}: only policies defined in the template are supported")
        res = resources[ref["Ref"]]
        if res["Type"] != rtype:
            raise TemplateError(f"{field}: {ref['Ref']} is not a {rtype}")
        props: Mapping[str, Any] = resolver.resolve(res["Properties"])
        return props

    behaviors = []
    for i, raw in enumerate([*config.get("CacheBehaviors", []), config["DefaultCacheBehavior"]]):
        field = f"CacheBehaviors[{i}]" if "PathPattern" in raw else "DefaultCacheBehavior"
        cache = policy(raw.get("CachePolicyId"), "AWS::CloudFront::CachePolicy", field)
        if cache is None:
            raise TemplateError(f"{field}: a CachePolicyId is required (legacy ForwardedValues)")
        headers = policy(
            raw.get("ResponseHeadersPolicyId"), "AWS::CloudFront::ResponseHeadersPolicy", field
        )
        behaviors.append(
            Behavior(
                path_pattern=raw.get("PathPattern"),
                viewer_protocol_policy=raw["ViewerProtocolPolicy"],
                allowed_methods=tuple(raw.get("AllowedMethods", ["GET", "HEAD"])),
                cached_methods=tuple(raw.get("CachedMethods", ["GET", "HEAD"])),
                compress=bool(raw.get("Compress", False)),
                cache=_cache_policy(cache["CachePolicyConfig"]),
                headers=_headers_policy(headers["ResponseHeadersPolicyConfig"])
                if headers
                else None,
                function_status=_function_status(raw.get("FunctionAssociations", []), resources),
            )
        )
    errors = {
        int(e["ErrorCode"]): int(e["ErrorCachingMinTTL"])
        for e in config.get("CustomErrorResponses", [])
        if "ErrorCachingMinTTL" in e
    }
    prefixes, lists = _origin_access(resolver, resources)
    return EdgeConfig(
        behaviors=tuple(behaviors),
        error_ttls=tuple(sorted(errors.items())),
        origin_read_prefixes=prefixes,
        origin_lists_bucket=lists,
    )


# The one function shape the edge emulates: a handler that returns a fixed response.
_CONSTANT_RESPONSE = re.compile(
    r"\s*function handler\(event\)\s*\{\s*return\s*\{\s*statusCode:\s*([1-5][0-9][0-9])\b"
)


def _function_status(associations: Any, resources: Mapping[str, Any]) -> int | None:
    """The status a viewer-request function answers with, when it always answers the same."""
    for assoc in associations:
        if assoc.get("EventType") != "viewer-request":
            raise TemplateError(f"{assoc.get('EventType')} functions are not emulated")
        ref = assoc.get("FunctionARN")
        if not (isinstance(ref, Mapping) and "Fn::GetAtt" in ref):
            raise TemplateError("FunctionARN: only functions defined in the template")
        res = resources[ref["Fn::GetAtt"][0]]
        if res.get("Type") != "AWS::CloudFront::Function":
            raise TemplateError(f"FunctionARN: {ref['Fn::GetAtt'][0]} is not a function")
        match = _CONSTANT_RESPONSE.match(str(res["Properties"]["FunctionCode"]))
        if not match:
            raise TemplateError("only functions that return a fixed response are emulated")
        return int(match[1])
    return None


def _origin_access(
    resolver: _Resolver, resources: Mapping[str, Any]
) -> tuple[tuple[str, ...], bool]:
    """What the bucket policies grant CloudFront (OAC service principal or OAI user)."""
    prefixes: list[str] = []
    lists = False
    for res in resources.values():
        if res.get("Type") != "AWS::S3::BucketPolicy":
            continue
        policy = resolver.resolve(res["Properties"]["PolicyDocument"])
        for st in policy.get("Statement", []):
            principal = st.get("Principal")
            if st.get("Effect") != "Allow" or not isinstance(principal, Mapping):
                continue
            if principal.get("Service") != "cloudfront.amazonaws.com" and (
                "CanonicalUser" not in principal
            ):
                continue
            actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            lists = lists or "s3:ListBucket" in actions
            if "s3:GetObject" in actions:
                resources_ = (
                    st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
                )
                prefixes.extend(_object_prefix(r) for r in resources_)
    if not prefixes:
        raise TemplateError("no bucket policy statement lets CloudFront s3:GetObject")
    return tuple(dict.fromkeys(prefixes)), lists


def _object_prefix(resource: Any) -> str:
    """`!Sub "${UploadsBucket.Arn}/uploads/wishlist/*"` -> `uploads/wishlist/`."""
    text = resource.get("Fn::Sub") if isinstance(resource, Mapping) else resource
    match = re.fullmatch(r"(?:\$\{[^}]+\}|arn:[^/]+)/(.*)\*", str(text))
    if not match:
        raise TemplateError(f"cannot read an object prefix from the bucket policy: {text!r}")
    return match.group(1)


def _cache_policy(raw: Mapping[str, Any]) -> CachePolicy:
    qs = raw["ParametersInCacheKeyAndForwardedToOrigin"]["QueryStringsConfig"]
    behavior = qs["QueryStringBehavior"]
    if behavior not in ("none", "whitelist", "allExcept", "all"):
        raise TemplateError(f"QueryStringBehavior {behavior!r} is not supported")
    return CachePolicy(
        min_ttl=int(raw["MinTTL"]),
        default_ttl=int(raw.get("DefaultTTL", 86400)),
        max_ttl=int(raw.get("MaxTTL", 31536000)),
        query_string_behavior=behavior,
        query_strings=tuple(qs.get("QueryStrings", [])),
    )


def _headers_policy(raw: Mapping[str, Any]) -> HeadersPolicy:
    sec = raw.get("SecurityHeadersConfig", {})
    hsts = sec.get("StrictTransportSecurity")
    hsts_value = None
    if hsts:
        hsts_value = f"max-age={int(hsts['AccessControlMaxAgeSec'])}"
        if hsts.get("IncludeSubdomains"):
            hsts_value += "; includeSubDomains"
        if hsts.get("Preload"):
            hsts_value += "; preload"
    frame = sec.get("FrameOptions")
    referrer = sec.get("ReferrerPolicy")
    cors_raw = raw.get("CorsConfig")
    cors = None
    if cors_raw:
        cors = Cors(
            allow_origins=tuple(cors_raw["AccessControlAllowOrigins"]["Items"]),
            allow_methods=tuple(cors_raw["AccessControlAllowMethods"]["Items"]),
            allow_headers=tuple(cors_raw["AccessControlAllowHeaders"]["Items"]),
            expose_headers=tuple(cors_raw.get("AccessControlExposeHeaders", {}).get("Items", [])),
            allow_credentials=bool(cors_raw["AccessControlAllowCredentials"]),
            max_age=cors_raw.get("AccessControlMaxAgeSec"),
            origin_override=bool(cors_raw["OriginOverride"]),
        )
    return HeadersPolicy(
        hsts=hsts_value,
        nosniff="ContentTypeOptions" in sec,
        frame_options=frame["FrameOption"] if frame else None,
        referrer_policy=referrer["ReferrerPolicy"] if referrer else None,
        cors=cors,
    )
