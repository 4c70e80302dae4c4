import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from wishlist.images.v1 import options_pb2 as _options_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Rollout(_message.Message):
    __slots__ = ("percent", "cdn_enabled", "revision", "updated_by", "updated_at")
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    CDN_ENABLED_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    UPDATED_BY_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    percent: int
    cdn_enabled: bool
    revision: int
    updated_by: str
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, percent: _Optional[int] = ..., cdn_enabled: _Optional[bool] = ..., revision: _Optional[int] = ..., updated_by: _Optional[str] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetRolloutRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetRolloutResponse(_message.Message):
    __slots__ = ("rollout", "store", "store_healthy", "store_error")
    ROLLOUT_FIELD_NUMBER: _ClassVar[int]
    STORE_FIELD_NUMBER: _ClassVar[int]
    STORE_HEALTHY_FIELD_NUMBER: _ClassVar[int]
    STORE_ERROR_FIELD_NUMBER: _ClassVar[int]
    rollout: Rollout
    store: str
    store_healthy: bool
    store_error: str
    def __init__(self, rollout: _Optional[_Union[Rollout, _Mapping]] = ..., store: _Optional[str] = ..., store_healthy: _Optional[bool] = ..., store_error: _Optional[str] = ...) -> None: ...

class SetRolloutRequest(_message.Message):
    __slots__ = ("percent", "cdn_enabled", "expected_revision", "updated_by")
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    CDN_ENABLED_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_REVISION_FIELD_NUMBER: _ClassVar[int]
    UPDATED_BY_FIELD_NUMBER: _ClassVar[int]
    percent: int
    cdn_enabled: bool
    expected_revision: int
    updated_by: str
    def __init__(self, percent: _Optional[int] = ..., cdn_enabled: _Optional[bool] = ..., expected_revision: _Optional[int] = ..., updated_by: _Optional[str] = ...) -> None: ...

class SetRolloutResponse(_message.Message):
    __slots__ = ("before", "after")
    BEFORE_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    before: Rollout
    after: Rollout
    def __init__(self, before: _Optional[_Union[Rollout, _Mapping]] = ..., after: _Optional[_Union[Rollout, _Mapping]] = ...) -> None: ...
