import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.rpc import status_pb2 as _status_pb2
from wishlist.images.v1 import options_pb2 as _options_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Origin(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORIGIN_UNSPECIFIED: _ClassVar[Origin]
    ORIGIN_CDN: _ClassVar[Origin]
    ORIGIN_S3: _ClassVar[Origin]
ORIGIN_UNSPECIFIED: Origin
ORIGIN_CDN: Origin
ORIGIN_S3: Origin

class ImageRef(_message.Message):
    __slots__ = ("ref", "version")
    REF_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ref: str
    version: str
    def __init__(self, ref: _Optional[str] = ..., version: _Optional[str] = ...) -> None: ...

class ResolveImageUrlRequest(_message.Message):
    __slots__ = ("image", "user_id", "include_fallback")
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_FALLBACK_FIELD_NUMBER: _ClassVar[int]
    image: ImageRef
    user_id: str
    include_fallback: bool
    def __init__(self, image: _Optional[_Union[ImageRef, _Mapping]] = ..., user_id: _Optional[str] = ..., include_fallback: _Optional[bool] = ...) -> None: ...

class ResolvedImageUrl(_message.Message):
    __slots__ = ("url", "origin", "expires_at", "fallback_url", "fallback_expires_at")
    URL_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    FALLBACK_URL_FIELD_NUMBER: _ClassVar[int]
    FALLBACK_EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    url: str
    origin: Origin
    expires_at: _timestamp_pb2.Timestamp
    fallback_url: str
    fallback_expires_at: _timestamp_pb2.Timestamp
    def __init__(self, url: _Optional[str] = ..., origin: _Optional[_Union[Origin, str]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., fallback_url: _Optional[str] = ..., fallback_expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ResolveImageUrlResponse(_message.Message):
    __slots__ = ("image",)
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    image: ResolvedImageUrl
    def __init__(self, image: _Optional[_Union[ResolvedImageUrl, _Mapping]] = ...) -> None: ...

class BatchResolveImageUrlsRequest(_message.Message):
    __slots__ = ("images", "user_id", "include_fallback")
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_FALLBACK_FIELD_NUMBER: _ClassVar[int]
    images: _containers.RepeatedCompositeFieldContainer[ImageRef]
    user_id: str
    include_fallback: bool
    def __init__(self, images: _Optional[_Iterable[_Union[ImageRef, _Mapping]]] = ..., user_id: _Optional[str] = ..., include_fallback: _Optional[bool] = ...) -> None: ...

class BatchResolveResult(_message.Message):
    __slots__ = ("image", "error")
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    image: ResolvedImageUrl
    error: _status_pb2.Status
    def __init__(self, image: _Optional[_Union[ResolvedImageUrl, _Mapping]] = ..., error: _Optional[_Union[_status_pb2.Status, _Mapping]] = ...) -> None: ...

class BatchResolveImageUrlsResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[BatchResolveResult]
    def __init__(self, results: _Optional[_Iterable[_Union[BatchResolveResult, _Mapping]]] = ...) -> None: ...

class CreateUploadUrlRequest(_message.Message):
    __slots__ = ("user_id", "content_type", "content_length")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_LENGTH_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    content_type: str
    content_length: int
    def __init__(self, user_id: _Optional[str] = ..., content_type: _Optional[str] = ..., content_length: _Optional[int] = ...) -> None: ...

class CreateUploadUrlResponse(_message.Message):
    __slots__ = ("url", "fields", "key", "expires_at", "max_bytes")
    class FieldsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    URL_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    MAX_BYTES_FIELD_NUMBER: _ClassVar[int]
    url: str
    fields: _containers.ScalarMap[str, str]
    key: str
    expires_at: _timestamp_pb2.Timestamp
    max_bytes: int
    def __init__(self, url: _Optional[str] = ..., fields: _Optional[_Mapping[str, str]] = ..., key: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., max_bytes: _Optional[int] = ...) -> None: ...

class InvalidateImagesRequest(_message.Message):
    __slots__ = ("refs", "caller_reference")
    REFS_FIELD_NUMBER: _ClassVar[int]
    CALLER_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    refs: _containers.RepeatedScalarFieldContainer[str]
    caller_reference: str
    def __init__(self, refs: _Optional[_Iterable[str]] = ..., caller_reference: _Optional[str] = ...) -> None: ...

class Invalidation(_message.Message):
    __slots__ = ("id", "status", "paths")
    ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PATHS_FIELD_NUMBER: _ClassVar[int]
    id: str
    status: str
    paths: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., status: _Optional[str] = ..., paths: _Optional[_Iterable[str]] = ...) -> None: ...

class InvalidateImagesResponse(_message.Message):
    __slots__ = ("invalidations",)
    INVALIDATIONS_FIELD_NUMBER: _ClassVar[int]
    invalidations: _containers.RepeatedCompositeFieldContainer[Invalidation]
    def __init__(self, invalidations: _Optional[_Iterable[_Union[Invalidation, _Mapping]]] = ...) -> None: ...

class VerifyUploadRequest(_message.Message):
    __slots__ = ("user_id", "key")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    key: str
    def __init__(self, user_id: _Optional[str] = ..., key: _Optional[str] = ...) -> None: ...

class VerifyUploadResponse(_message.Message):
    __slots__ = ("key", "content_type", "size_bytes", "etag")
    KEY_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    key: str
    content_type: str
    size_bytes: int
    etag: str
    def __init__(self, key: _Optional[str] = ..., content_type: _Optional[str] = ..., size_bytes: _Optional[int] = ..., etag: _Optional[str] = ...) -> None: ...

class GetUploadPolicyRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetUploadPolicyResponse(_message.Message):
    __slots__ = ("content_types", "max_bytes", "key_prefix", "max_upload_user_id_chars", "max_user_id_chars", "max_batch")
    CONTENT_TYPES_FIELD_NUMBER: _ClassVar[int]
    MAX_BYTES_FIELD_NUMBER: _ClassVar[int]
    KEY_PREFIX_FIELD_NUMBER: _ClassVar[int]
    MAX_UPLOAD_USER_ID_CHARS_FIELD_NUMBER: _ClassVar[int]
    MAX_USER_ID_CHARS_FIELD_NUMBER: _ClassVar[int]
    MAX_BATCH_FIELD_NUMBER: _ClassVar[int]
    content_types: _containers.RepeatedScalarFieldContainer[str]
    max_bytes: int
    key_prefix: str
    max_upload_user_id_chars: int
    max_user_id_chars: int
    max_batch: int
    def __init__(self, content_types: _Optional[_Iterable[str]] = ..., max_bytes: _Optional[int] = ..., key_prefix: _Optional[str] = ..., max_upload_user_id_chars: _Optional[int] = ..., max_user_id_chars: _Optional[int] = ..., max_batch: _Optional[int] = ...) -> None: ...

class InvalidationsCreated(_message.Message):
    __slots__ = ("invalidations", "paths_created")
    INVALIDATIONS_FIELD_NUMBER: _ClassVar[int]
    PATHS_CREATED_FIELD_NUMBER: _ClassVar[int]
    invalidations: _containers.RepeatedCompositeFieldContainer[Invalidation]
    paths_created: int
    def __init__(self, invalidations: _Optional[_Iterable[_Union[Invalidation, _Mapping]]] = ..., paths_created: _Optional[int] = ...) -> None: ...
